"""Downloading the official CIFAR-10 python archive, verified by its md5."""

import shutil
import tarfile
from pathlib import Path

from cs_lib.datasets.cifar10 import BATCH_FOLDER, DatasetError, check_folder

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"


def _safe_extract(archive, destination):
    destination = destination.resolve()
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            target = (destination / member.name).resolve()
            if not target.is_relative_to(destination) or member.issym() or member.islnk():
                raise DatasetError(
                    f"refusing to extract {member.name!r} from {archive}: it points outside {destination}"
                )
        if hasattr(tarfile, "data_filter"):
            tar.extractall(destination, filter="data")
        else:  # Python without extraction filters: the members were checked above
            tar.extractall(destination)


def download_cifar10(root, url=CIFAR10_URL, md5=CIFAR10_MD5, progressbar=True):
    """Fetch, verify and extract CIFAR-10 under root; return the batch folder.

    Idempotent: a complete folder is left alone and a verified archive is not fetched again.
    """
    import pooch  # imported here: only downloading needs it

    root = Path(root)
    existing = root / BATCH_FOLDER
    if existing.is_dir():
        try:
            return check_folder(existing)
        except DatasetError:
            shutil.rmtree(existing)
    root.mkdir(parents=True, exist_ok=True)
    try:
        archive = pooch.retrieve(url, known_hash=f"md5:{md5}", fname=ARCHIVE_NAME, path=root, progressbar=progressbar)
    except ValueError as error:  # pooch's hash mismatch
        raise DatasetError(
            f"the file downloaded from {url} does not have the expected md5 {md5}, so it was deleted. "
            "The download was probably cut off or altered by a proxy: run the command again, and if it keeps "
            "failing download the archive by hand, check `md5sum cifar-10-python.tar.gz`, and put it in "
            f"{root}. ({error})"
        ) from error
    except Exception as error:  # requests' connection errors, DNS failures, HTTP errors
        raise DatasetError(
            f"could not download CIFAR-10 from {url}: {type(error).__name__}: {error}. Check your internet "
            "connection (or proxy settings) and run the command again. Everything in the course also runs "
            "offline on the embedded dataset: python -m cs_lib.datasets embedded"
        ) from error
    _safe_extract(Path(archive), root)
    return check_folder(existing)
