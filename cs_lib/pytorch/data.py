"""From the course's numpy datasets to PyTorch tensors and mini-batches (provided).

    data = load_tensors(num_training=4000)                  # float32 (N, 3, 32, 32) tensors, int64 labels
    loader = make_loader(data["X_train"], data["y_train"], batch_size=128, augment=random_crop_flip, seed=0)
    for images, labels in loader: ...

Pixels are scaled with fixed constants, x = (pixel / 255 - 0.5) / 0.25, the same for every split
and dataset, so a saved model needs no dataset statistics to be evaluated later. The loader is a
torch DataLoader that draws whole batches at once by index (fast for data held in memory), and
can augment each batch with a function such as the random flips and crops of
cs_lib.pytorch.training.random_crop_flip (which you write in assignment 5).
"""

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from cs_lib.datasets import get_cifar10_data

PIXEL_MEAN = 0.5
PIXEL_STD = 0.25


def normalize_pixels(X):
    """Pixels 0..255 (any array or tensor) -> the network's input scale (X / 255 - 0.5) / 0.25, float32 tensor."""
    X = torch.as_tensor(np.asarray(X, dtype=np.float32))
    return (X / 255.0 - PIXEL_MEAN) / PIXEL_STD


def load_tensors(num_training=4000, num_validation=1000, num_test=1000, classes=None, dataset="auto"):
    """The train/val/test splits of get_cifar10_data as tensors: X_* float32 (N, 3, 32, 32), y_* int64 (N,).

    classes: keep only these labels and renumber them 0..len(classes)-1 (for transfer learning,
    e.g. classes=(5, 6, 7, 8, 9) makes label 5 label 0). The dict also holds class_names and source.
    """
    raw = get_cifar10_data(
        num_training, num_validation, num_test, subtract_mean=False, dataset=dataset, dtype=np.float32
    )
    names = list(raw["class_names"])
    if classes is not None:
        classes = [int(label) for label in classes]
        unknown = [label for label in classes if not 0 <= label < len(names)]
        if unknown or len(set(classes)) != len(classes):
            raise ValueError(f"classes must be distinct labels in 0..{len(names) - 1}, got {classes}")
        new_label = np.full(len(names), -1, dtype=np.int64)
        new_label[classes] = np.arange(len(classes))
    data = {"class_names": names if classes is None else [names[label] for label in classes], "source": raw["source"]}
    for split in ("train", "val", "test"):
        X, y = raw[f"X_{split}"], np.asarray(raw[f"y_{split}"], dtype=np.int64)
        if classes is not None:
            keep = np.isin(y, classes)
            X, y = X[keep], new_label[y[keep]]
        data[f"X_{split}"] = normalize_pixels(X)
        data[f"y_{split}"] = torch.as_tensor(y, dtype=torch.int64)
    return data


def take_per_class(X, y, per_class, seed=0):
    """The first per_class examples of every label after a seeded shuffle: (X_small, y_small)."""
    y_array = np.asarray(y)
    order = np.random.default_rng(seed).permutation(len(y_array))
    chosen = np.concatenate([order[y_array[order] == label][:per_class] for label in np.unique(y_array)])
    short = [int(label) for label in np.unique(y_array) if (y_array == label).sum() < per_class]
    if short:
        raise ValueError(f"labels {short} have fewer than {per_class} examples")
    chosen = np.sort(chosen)
    return X[chosen], y[chosen]


class BatchDataset(Dataset):
    """Tensors held in memory, indexed a whole batch at a time (a list of indices -> (images, labels)).

    augment: None, or a function called as augment(images, generator=g) on every batch of images,
    with the dataset's own seeded torch.Generator, returning the augmented batch.
    """

    def __init__(self, X, y, augment=None, seed=0):
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} examples but y has {len(y)}")
        if augment is not None and not callable(augment):
            raise ValueError(
                f"augment must be a function such as random_crop_flip (or None), got {type(augment).__name__}"
            )
        self.X, self.y, self.augment = X, y, augment
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, indices):
        images = self.X[indices]
        if self.augment is not None:
            images = self.augment(images, generator=self.generator)
        return images, self.y[indices]


def make_loader(X, y, batch_size=128, shuffle=True, augment=None, seed=0, drop_last=False):
    """A DataLoader of (images (B, C, H, W), labels (B,)) batches, reshuffled each epoch from a seeded generator.

    augment: None, or a function applied to every batch of images as augment(images, generator=g)
    (e.g. random_crop_flip), drawing its random numbers from a generator seeded with seed.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    dataset = BatchDataset(torch.as_tensor(X), torch.as_tensor(y), augment=augment, seed=seed)
    order = (
        RandomSampler(dataset, generator=torch.Generator().manual_seed(seed)) if shuffle else SequentialSampler(dataset)
    )
    return DataLoader(dataset, sampler=BatchSampler(order, batch_size, drop_last), batch_size=None)
