"""What hidden tests judge with that no sandbox has seen or opened: fresh images, and submitted files.

    from autograder.grading.trusted.judging import fresh_split, submitted_checkpoint

    X, y = fresh_split(1000, seed=52_117)        # new images of the embedded dataset's ten classes
    accuracy = np.mean(np.argmax(X.reshape(len(X), -1) @ W, axis=1) == y)

    checkpoint = submitted_checkpoint("a5_checkpoint.pt")   # opened in the sandbox, sizes checked first

Accuracy and trained-weight tests must judge on data the notebook's kernel and the call server never
had: the kernel has the embedded dataset's training, validation and test splits (with labels, which a
notebook needs to train and choose hyperparameters), so a test that judged on one of them could be
passed by returning its labels. `fresh_split` draws new images with the dataset's own generator from
a seed the test keeps in its hidden part, in the trusted process, scaled exactly as
`get_cifar10_data` scales the notebook's splits.

A submitted checkpoint is opened inside the sandbox (by the call server, with `weights_only=True`),
and its tensors come back as plain data once the numbers they hold, counted as the dense tensors they
become, fit the assignment's limit: no student bytes are unpickled here, and a 4 KB file whose tensors
expand to gigabytes (stride 0) is refused before anything is materialised.

Hidden tests run only in the trusted grader and in the course's own test suite (tests/cells.py), where
there is no sandbox: there the checkpoint is opened in this process, with the same limits.
"""

import os
from functools import cache

import numpy as np

from autograder.grading.trusted import remote

DEFAULT_MAX_BYTES = 8 * 2**20


@cache
def _training_mean(num_training, num_validation):
    from cs_lib.datasets import get_cifar10_data

    data = get_cifar10_data(
        num_training=num_training, num_validation=num_validation, num_test=1, subtract_mean=False, dataset="embedded"
    )
    return data["X_train"].mean(axis=0)  # channels first (3, 32, 32)


def fresh_images(count, seed):
    """(images (N, 32, 32, 3) uint8, labels (N,)): new images of the embedded dataset's classes, balanced."""
    from cs_lib.datasets.embedded import render

    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % 10)
    return render(labels, rng), labels


def fresh_split(count, seed, *, num_training=49000, num_validation=1000, subtract_mean=True, dtype=np.float64):
    """(X (N, 3, 32, 32), y (N,)): `count` new images scaled as get_cifar10_data(num_training,
    num_validation, subtract_mean, dtype) scales its splits (the same training mean subtracted)."""
    images, labels = fresh_images(count, seed)
    X = images.transpose(0, 3, 1, 2).astype(np.float64)
    if subtract_mean:
        X = X - _training_mean(num_training, num_validation)
    return np.ascontiguousarray(X, dtype=dtype), labels


def largest_output_bytes(model, input_shape):
    """Bytes of the largest output any module of model (a torch module on the meta device, so nothing is
    made) gives for one input of input_shape: what one image costs in memory when the trusted process runs
    a model built from a student's config. A few megabytes of weights can describe layers whose outputs
    take gigabytes (one conv layer of 110,000 channels), so tests size their batches by this, not by the
    checkpoint's bytes."""
    import torch

    sizes = [0]

    def record(module, inputs, output):
        if isinstance(output, torch.Tensor):
            sizes.append(output.numel() * output.element_size())

    hooks = [module.register_forward_hook(record) for module in model.modules()]
    try:
        with torch.no_grad():
            model(torch.zeros((1, *input_shape), device="meta"))
    finally:
        for hook in hooks:
            hook.remove()
    return max(sizes)


def max_extra_file_bytes():
    """The assignment's limit for an extra file (course.toml max_extra_file_mb), as grading passes it."""
    return int(os.environ.get("CS_MAX_EXTRA_FILE_BYTES") or DEFAULT_MAX_BYTES)


def submitted_checkpoint(path, max_bytes=None):
    """A checkpoint the student handed in, as plain data ({"format", "config", "state_dict": {name: tensor}}),
    opened with weights_only=True in the sandbox; ValueError naming the problem when it cannot be."""
    max_bytes = max_extra_file_bytes() if max_bytes is None else int(max_bytes)
    if remote.CURRENT:
        channel = remote.CURRENT[-1]
        old = channel.frame_limit
        channel.frame_limit = max_bytes + (2 << 20)  # a reply larger than the numbers allowed is refused unread
        try:
            # the call server's working folder holds the submission's extra files, as this process's does
            return channel.value_of(
                {"op": "load_checkpoint", "path": os.path.basename(path), "max_bytes": max_bytes},
                f"opening {os.path.basename(path)}",
            )
        finally:
            channel.frame_limit = old
    from autograder.grading.trusted.sandboxed.wire import open_checkpoint

    return open_checkpoint(path, max_bytes)  # no sandbox (the course's own tests): the same checks, here
