"""Loading CIFAR-10-format data, the embedded offline dataset, and the clear errors around them."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

from cs_lib import datasets
from cs_lib.datasets import DatasetError, embedded, get_cifar10_data, load_cifar10
from cs_lib.datasets.cifar10 import REQUIRED_FILES, load_cifar_batch


@pytest.fixture(scope="module")
def small_embedded(tmp_path_factory):
    root = tmp_path_factory.mktemp("embedded")
    return embedded.generate(root, seed=3, num_train=500, num_test=100)


def test_embedded_dataset_is_written_in_the_cifar10_python_format(small_embedded):
    for name in REQUIRED_FILES:
        assert (small_embedded / name).is_file()
    with open(small_embedded / "data_batch_1", "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    assert set(batch) >= {b"data", b"labels", b"batch_label", b"filenames"}
    assert batch[b"data"].dtype == np.uint8 and batch[b"data"].shape == (100, 3072)
    with open(small_embedded / "batches.meta", "rb") as f:
        meta = pickle.load(f, encoding="bytes")
    assert [name.decode() for name in meta[b"label_names"]] == embedded.CLASS_NAMES


def test_loader_reads_channel_planes_in_cifar_order(tmp_path):
    # one image whose red plane is 10, green 20 and blue 30 everywhere
    data = np.concatenate([np.full(1024, 10), np.full(1024, 20), np.full(1024, 30)]).astype(np.uint8)[None]
    with open(tmp_path / "batch", "wb") as f:
        pickle.dump({b"data": data, b"labels": [7]}, f)
    images, labels = load_cifar_batch(tmp_path / "batch")
    assert images.shape == (1, 32, 32, 3)
    assert images[0, 5, 9].tolist() == [10, 20, 30]
    assert labels.tolist() == [7]


def test_embedded_generation_is_deterministic_and_seed_dependent(tmp_path):
    first = embedded.fingerprint(embedded.generate(tmp_path / "a", seed=1, num_train=100, num_test=20))
    again = embedded.fingerprint(embedded.generate(tmp_path / "b", seed=1, num_train=100, num_test=20))
    other = embedded.fingerprint(embedded.generate(tmp_path / "c", seed=2, num_train=100, num_test=20))
    assert first == again != other


def test_embedded_classes_are_balanced_and_images_vary(small_embedded):
    X_train, y_train, X_test, y_test = load_cifar10(small_embedded)
    assert X_train.shape == (500, 32, 32, 3) and X_test.shape == (100, 32, 32, 3)
    assert np.bincount(y_train, minlength=10).tolist() == [50] * 10
    assert X_train.std(axis=0).mean() > 20  # positions, colours and noise vary from image to image


def test_full_embedded_dataset_generates_quickly(tmp_path):
    import time

    started = time.perf_counter()
    embedded.generate(tmp_path)
    assert time.perf_counter() - started < 5.0


def test_get_cifar10_data_splits_subtracts_mean_and_goes_channels_first(small_embedded, monkeypatch):
    monkeypatch.setattr(datasets, "dataset_folder", lambda prefer="auto": (small_embedded, "embedded"))
    data = get_cifar10_data(num_training=300, num_validation=100, num_test=50)
    assert data["X_train"].shape == (300, 3, 32, 32)
    assert data["X_val"].shape == (100, 3, 32, 32)
    assert data["X_test"].shape == (50, 3, 32, 32)
    assert abs(data["X_train"].mean()) < 1e-9
    raw_train, raw_labels, _, _ = load_cifar10(small_embedded)
    np.testing.assert_array_equal(data["y_val"], raw_labels[300:400])
    expected_first = raw_train[300].transpose(2, 0, 1) - raw_train[:300].mean(axis=0).transpose(2, 0, 1)
    np.testing.assert_allclose(data["X_val"][0], expected_first)
    assert data["class_names"] == embedded.CLASS_NAMES and data["note"] is None


def test_requests_beyond_the_embedded_size_are_reduced_with_a_note(small_embedded, monkeypatch):
    monkeypatch.setattr(datasets, "dataset_folder", lambda prefer="auto": (small_embedded, "embedded"))
    data = get_cifar10_data(num_validation=100)  # the CS231n default asks for 49,000 training images
    assert data["X_train"].shape[0] == 400 and data["X_val"].shape[0] == 100
    assert "500 training images" in data["note"]


def test_missing_folder_and_missing_files_are_named(tmp_path):
    with pytest.raises(DatasetError, match="download cifar10"):
        load_cifar10(tmp_path / "nowhere")
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / "batches.meta").write_bytes(b"")
    with pytest.raises(DatasetError, match="missing data_batch_1, data_batch_2"):
        load_cifar10(tmp_path / "partial")


def test_corrupt_batch_file_gets_a_clear_error(small_embedded, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(small_embedded, broken)
    (broken / "data_batch_3").write_bytes(b"\x80\x02not a pickle at all")
    with pytest.raises(DatasetError, match="data_batch_3 is not a readable CIFAR-10 batch"):
        load_cifar10(broken)


def test_data_dir_follows_cs_data_dir_and_regenerates_a_stale_embedded_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("CS_DATA_DIR", str(tmp_path))
    folder, source = datasets.dataset_folder()
    assert source == "embedded" and folder == tmp_path / "embedded"
    (folder / "EMBEDDED").write_text("version=0\n")
    assert datasets.embedded_folder() == folder
    assert (folder / "EMBEDDED").read_text() == embedded.marker()
    (tmp_path / "cifar-10-batches-py").mkdir()
    with pytest.raises(DatasetError, match="incomplete"):
        datasets.dataset_folder()


def test_cli_info_and_embedded_commands(tmp_path):
    env = {"CS_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    made = subprocess.run(
        [sys.executable, "-m", "cs_lib.datasets", "embedded"], env=env, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    assert "fingerprint" in made.stdout
    info = subprocess.run([sys.executable, "-m", "cs_lib.datasets", "info"], env=env, capture_output=True, text=True)
    assert "notebooks use: embedded" in info.stdout
