"""Reading CIFAR-10 (and the embedded dataset, which has the same on-disk format).

The official python version is a folder ``cifar-10-batches-py`` holding the
pickled batches ``data_batch_1`` ... ``data_batch_5``, ``test_batch`` and
``batches.meta``. Each batch is a dict with ``b"data"``, a uint8 array
(N, 3072) holding the red, green and blue 32x32 planes of each image in turn,
and ``b"labels"``, a list of N class indices.
"""

import pickle
from pathlib import Path

import numpy as np

BATCH_FOLDER = "cifar-10-batches-py"
TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
REQUIRED_FILES = [*TRAIN_FILES, "test_batch", "batches.meta"]


class DatasetError(RuntimeError):
    """A dataset folder is missing, incomplete or corrupt; the message says what to do."""


def _unpickle(path):
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="bytes")
    except FileNotFoundError:
        raise
    except Exception as error:  # truncated or foreign files raise many different exceptions
        raise DatasetError(
            f"{path} is not a readable CIFAR-10 batch ({type(error).__name__}: {error}). "
            "Delete the folder and download it again: python -m cs_lib.datasets download cifar10"
        ) from error


def resolve_batch_folder(root):
    """The folder that holds the batch files: root itself or root/cifar-10-batches-py."""
    root = Path(root)
    if (root / "batches.meta").exists() or not (root / BATCH_FOLDER).is_dir():
        return root
    return root / BATCH_FOLDER


def check_folder(root):
    """Raise DatasetError naming every missing file, or return the batch folder."""
    folder = resolve_batch_folder(root)
    if not folder.is_dir():
        raise DatasetError(
            f"no CIFAR-10 folder at {folder}. Download it with `python -m cs_lib.datasets download cifar10`, "
            "or use the embedded offline dataset: `python -m cs_lib.datasets embedded`."
        )
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise DatasetError(
            f"the CIFAR-10 folder {folder} is incomplete: missing {', '.join(missing)}. "
            "Delete it and download again: python -m cs_lib.datasets download cifar10"
        )
    return folder


def load_cifar_batch(path):
    """One batch file: X uint8 (N, 32, 32, 3), y int64 (N,)."""
    batch = _unpickle(path)
    try:
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (KeyError, TypeError, ValueError) as error:
        raise DatasetError(f"{path} lacks the CIFAR-10 keys b'data' and b'labels' ({error})") from error
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise DatasetError(
            f"{path} holds data of shape {data.shape} with {len(labels)} labels; "
            "CIFAR-10 batches hold (N, 3072) uint8 images and N labels"
        )
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def load_class_names(root):
    meta = _unpickle(check_folder(root) / "batches.meta")
    return [name.decode() if isinstance(name, bytes) else str(name) for name in meta[b"label_names"]]


def load_cifar10(root):
    """All of CIFAR-10 under root: X_train (N, 32, 32, 3) float64, y_train, X_test, y_test.

    The images keep their 0..255 range and are channels-last here, as in the original
    CS231n loader; ``get_cifar10_data`` turns them into the assignments' channels-first arrays.
    """
    folder = check_folder(root)
    parts = [load_cifar_batch(folder / name) for name in TRAIN_FILES]
    X_train = np.concatenate([images for images, _ in parts]).astype(np.float64)
    y_train = np.concatenate([labels for _, labels in parts])
    X_test, y_test = load_cifar_batch(folder / "test_batch")
    return X_train, y_train, X_test.astype(np.float64), y_test
