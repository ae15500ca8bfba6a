"""Downloading CIFAR-10 with pooch, tested offline against a local HTTP server."""

import hashlib
import http.server
import subprocess
import sys
import tarfile
import threading

import pytest

from cs_lib.datasets import DatasetError, download_cifar10, embedded, load_cifar10


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """A small archive in the official layout, and a corrupted copy of it."""
    root = tmp_path_factory.mktemp("archive")
    embedded.generate(root / "cifar-10-batches-py", num_train=100, num_test=20)
    good = root / "good.tar.gz"
    with tarfile.open(good, "w:gz") as tar:
        tar.add(root / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    corrupt = root / "corrupt.tar.gz"
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    return {path.name: path for path in (good, corrupt)}


@pytest.fixture(scope="module")
def server(archives):
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            name = self.path.lstrip("/")
            if name not in archives:
                self.send_error(404)
                return
            body = archives[name].read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", requests
    httpd.shutdown()


def md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_download_verifies_extracts_and_loads(tmp_path, archives, server):
    url, _ = server
    folder = download_cifar10(tmp_path, url=f"{url}/good.tar.gz", md5=md5(archives["good.tar.gz"]), progressbar=False)
    assert folder == tmp_path / "cifar-10-batches-py"
    X_train, y_train, X_test, y_test = load_cifar10(tmp_path)
    assert X_train.shape == (100, 32, 32, 3) and X_test.shape == (20, 32, 32, 3)


def test_download_is_idempotent(tmp_path, archives, server):
    url, requests = server
    kwargs = {"url": f"{url}/good.tar.gz", "md5": md5(archives["good.tar.gz"]), "progressbar": False}
    download_cifar10(tmp_path, **kwargs)
    count = len(requests)
    download_cifar10(tmp_path, **kwargs)
    assert len(requests) == count  # a complete folder is not fetched again


def test_checksum_mismatch_deletes_the_file_and_says_what_to_do(tmp_path, archives, server):
    url, _ = server
    with pytest.raises(DatasetError, match="does not have the expected md5") as error:
        download_cifar10(tmp_path, url=f"{url}/corrupt.tar.gz", md5=md5(archives["good.tar.gz"]), progressbar=False)
    assert "md5sum" in str(error.value)
    assert not (tmp_path / "cifar-10-python.tar.gz").exists()
    assert not (tmp_path / "cifar-10-batches-py").exists()


def test_no_network_gives_an_offline_hint(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DatasetError, match="embedded"):
        download_cifar10(tmp_path, url=f"http://127.0.0.1:{port}/cifar.tar.gz", progressbar=False)


def test_cli_reports_a_checksum_mismatch_against_the_official_md5(tmp_path, server):
    url, _ = server
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cs_lib.datasets",
            "--root",
            str(tmp_path),
            "download",
            "cifar10",
            "--url",
            f"{url}/good.tar.gz",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "c58f30108f718f92721af3b95e74349a" in result.stderr
