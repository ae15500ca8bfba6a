"""Datasets for the course: CIFAR-10 when it is there, the embedded offline dataset otherwise.

    data = get_cifar10_data()          # X_train, y_train, X_val, y_val, X_test, y_test, class_names

Where the files live, first match wins:
1. ``$CS_DATA_DIR`` when set;
2. ``datasets/`` in the repository checkout that cs_lib was installed from;
3. ``~/.cache/cs_lib`` (a non-editable install, e.g. on Colab).

CIFAR-10 is used when ``<data dir>/cifar-10-batches-py`` exists (download it
with ``python -m cs_lib.datasets download cifar10``); otherwise the embedded
dataset is generated once under ``<data dir>/embedded`` and used instead.
"""

import os
import tempfile
from pathlib import Path

import numpy as np

from cs_lib.datasets import embedded
from cs_lib.datasets.cifar10 import (
    BATCH_FOLDER,
    DatasetError,
    check_folder,
    load_cifar10,
    load_class_names,
)
from cs_lib.datasets.download import download_cifar10

__all__ = [
    "DatasetError",
    "data_dir",
    "dataset_folder",
    "download_cifar10",
    "embedded_folder",
    "get_cifar10_data",
    "load_cifar10",
    "load_class_names",
]

EMBEDDED_FOLDER = "embedded"


def data_dir():
    """The folder that holds (or will hold) the datasets."""
    if os.environ.get("CS_DATA_DIR"):
        return Path(os.environ["CS_DATA_DIR"]).expanduser()
    checkout = Path(__file__).resolve().parents[2] / "datasets"
    if checkout.is_dir():
        return checkout
    return Path.home() / ".cache" / "cs_lib"


def embedded_folder(root=None):
    """The embedded dataset's folder, generated on first use.

    When the data folder is read-only (a grading sandbox), the dataset is generated in a
    temporary folder instead: it is deterministic, so every copy holds the same images.
    """
    folder = Path(root or data_dir()) / EMBEDDED_FOLDER
    stamp = folder / "EMBEDDED"
    if stamp.is_file() and stamp.read_text() == embedded.marker():
        return folder
    try:
        return embedded.generate(folder)
    except OSError:
        return embedded.generate(Path(tempfile.mkdtemp(prefix="cs_lib_embedded_")))


def dataset_folder(prefer="auto"):
    """(folder, source) with source "cifar10" or "embedded"; prefer may force "cifar10" or "embedded"."""
    if prefer not in ("auto", "cifar10", "embedded"):
        raise ValueError(f"prefer must be 'auto', 'cifar10' or 'embedded', got {prefer!r}")
    cifar = data_dir() / BATCH_FOLDER
    if prefer == "cifar10" or (prefer == "auto" and cifar.is_dir()):
        return check_folder(cifar), "cifar10"
    return embedded_folder(), "embedded"


def get_cifar10_data(
    num_training=49000,
    num_validation=1000,
    num_test=1000,
    subtract_mean=True,
    dataset="auto",
    dtype=np.float64,
):
    """Train/validation/test splits, channels-first (N, 3, 32, 32), as the CS231n assignments use them.

    The validation images are the num_validation training images after the first num_training.
    With subtract_mean the mean training image is subtracted from every split. On the embedded
    dataset (5,000 training images) a request for more training images than there are is
    reduced to what is left after the validation split, and the dict says so under "note".
    Returns a dict with X_train, y_train, X_val, y_val, X_test, y_test, class_names, source, mean_image.
    """
    folder, source = dataset_folder(dataset)
    X_train_all, y_train_all, X_test_all, y_test_all = load_cifar10(folder)
    note = None
    available = len(X_train_all)
    if num_validation >= available:
        raise ValueError(f"num_validation={num_validation} leaves no training images out of {available}")
    if num_training + num_validation > available:
        note = (
            f"the {source} dataset has {available} training images: using {available - num_validation} "
            f"for training and {num_validation} for validation instead of {num_training} + {num_validation}"
        )
        num_training = available - num_validation
    num_test = min(num_test, len(X_test_all))

    X_train = X_train_all[:num_training]
    y_train = y_train_all[:num_training]
    X_val = X_train_all[num_training : num_training + num_validation]
    y_val = y_train_all[num_training : num_training + num_validation]
    X_test, y_test = X_test_all[:num_test], y_test_all[:num_test]

    mean_image = X_train.mean(axis=0)
    if subtract_mean:
        X_train, X_val, X_test = X_train - mean_image, X_val - mean_image, X_test - mean_image

    def channels_first(X):
        return np.ascontiguousarray(X.transpose(0, 3, 1, 2), dtype=dtype)

    return {
        "X_train": channels_first(X_train),
        "y_train": y_train,
        "X_val": channels_first(X_val),
        "y_val": y_val,
        "X_test": channels_first(X_test),
        "y_test": y_test,
        "class_names": load_class_names(folder),
        "source": source,
        "mean_image": mean_image.transpose(2, 0, 1),
        "note": note,
    }
