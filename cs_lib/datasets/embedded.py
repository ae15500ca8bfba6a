"""The embedded offline dataset: procedurally drawn 32x32 RGB shapes in the CIFAR-10 format.

Ten classes of shapes and textures on a random background (a colour, a gradient
and blotches), at a random position, scale and rotation, with pixel noise. A
shape's colour is its background's colour moved in a random direction, usually
lighter, plus a weak tint of its class (disc red, ring green, square blue, ...):
a class colour cue of the kind CIFAR-10 has in the sky behind its aeroplanes,
too weak to name the class alone because every shape still comes in many colours.
A shape appears anywhere, so a linear template per class does poorly while a
small convnet, which detects local edges anywhere, does much better (see
``datasets/README.md`` for the accuracy each model family reaches).

The generator is deterministic for a given seed, takes about a second, and
writes exactly the files of the official ``cifar-10-batches-py`` folder, so
the same loader reads both.
"""

import hashlib
import pickle
from pathlib import Path

import numpy as np

CLASS_NAMES = [
    "disc", "ring", "square", "triangle", "cross",
    "star", "crescent", "h_stripes", "v_stripes", "checker",
]  # fmt: skip
SIZE = 32
# bump when the drawing changes, so cached copies are regenerated
GENERATOR_VERSION = 1
JITTER = 0.35
LIGHTER_FRACTION = 0.8
TINT_STRENGTH = 0.6
CLASS_TINT = (
    np.array(
        [
            [1, 0, 0],
            [0, 1, 0],
            [0, 0, 1],
            [1, 1, 0],
            [1, 0, 1],
            [0, 1, 1],
            [1, 0.5, 0],
            [0.5, 0, 1],
            [0, 1, 0.5],
            [1, 1, 1],
        ],
        dtype=np.float32,
    )
    - 0.5
)
TRAIN_BATCHES = 5


def _signed_distance(label, u, v):
    """Approximate signed distance to the class's shape in shape coordinates (unit size, negative inside)."""
    r = np.hypot(u, v)
    box = np.maximum(np.abs(u), np.abs(v)) - 1.0
    if label == 0:  # disc
        return r - 1.0
    if label == 1:  # ring
        return np.abs(r - 0.75) - 0.27
    if label == 2:  # square
        return np.maximum(np.abs(u), np.abs(v)) - 0.85
    if label == 3:  # triangle, pointing up
        return np.maximum(-v - 0.55, (np.abs(u) * np.sqrt(3.0) + v) / 2.0 - 0.55)
    if label == 4:  # cross
        return np.minimum(np.maximum(np.abs(u) - 0.3, np.abs(v) - 1.0), np.maximum(np.abs(u) - 1.0, np.abs(v) - 0.3))
    if label == 5:  # five-pointed star
        theta = np.arctan2(v, u)
        return r - (0.62 + 0.38 * np.cos(5.0 * theta))
    if label == 6:  # crescent: a disc minus a shifted disc
        return np.maximum(r - 1.0, 0.8 - np.hypot(u - 0.55, v))
    if label == 7:  # horizontal stripes in a square patch
        return np.maximum(box, 0.35 * np.sin(v * np.pi * 2.0))
    if label == 8:  # vertical stripes
        return np.maximum(box, 0.35 * np.sin(u * np.pi * 2.0))
    # checkerboard
    return np.maximum(box, 0.35 * np.sin(u * np.pi * 1.6) * np.sin(v * np.pi * 1.6))


def render(labels, rng):
    """Draw one image per label: uint8 array (N, 32, 32, 3)."""
    labels = np.asarray(labels)
    n = labels.shape[0]
    coords = (np.arange(SIZE, dtype=np.float32) + 0.5) / SIZE * 2.0 - 1.0  # pixel centres in [-1, 1]
    gy, gx = np.meshgrid(coords, coords, indexing="ij")

    # background: a colour, a linear gradient and a few soft blotches
    base = rng.uniform(0.15, 0.85, size=(n, 1, 1, 3)).astype(np.float32)
    slope = rng.normal(0.0, 0.15, size=(n, 2, 1, 1, 3)).astype(np.float32)
    image = base + slope[:, 0] * gx[None, :, :, None] + slope[:, 1] * gy[None, :, :, None]
    for _ in range(3):
        cx, cy = rng.uniform(-1, 1, size=(2, n, 1, 1)).astype(np.float32)
        width = rng.uniform(0.2, 0.5, size=(n, 1, 1)).astype(np.float32)
        tint = rng.normal(0.0, 0.12, size=(n, 1, 1, 3)).astype(np.float32)
        blob = np.exp(-((gx - cx) ** 2 + (gy - cy) ** 2) / (2 * width**2))
        image += blob[..., None] * tint

    # the shape: random scale, rotation (small for oriented stripes) and position
    scale = rng.uniform(0.45, 0.75, size=n).astype(np.float32)
    full_turn = rng.uniform(-np.pi, np.pi, size=n)
    small_turn = rng.uniform(-0.25, 0.25, size=n)
    angle = np.where(np.isin(labels, (7, 8)), small_turn, full_turn).astype(np.float32)
    centre = rng.uniform(-JITTER, JITTER, size=(n, 2)).astype(np.float32) * (1.0 - scale)[:, None]
    dx = (gx[None] - centre[:, 0, None, None]) / scale[:, None, None]
    dy = (gy[None] - centre[:, 1, None, None]) / scale[:, None, None]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    u, v = cos * dx + sin * dy, -sin * dx + cos * dy

    mask = np.zeros((n, SIZE, SIZE), dtype=np.float32)
    for label in range(len(CLASS_NAMES)):
        chosen = labels == label
        if chosen.any():
            distance = _signed_distance(label, u[chosen], v[chosen])
            pixel = 2.0 / SIZE / scale[chosen, None, None]  # one pixel in shape units
            mask[chosen] = np.clip(0.5 - distance / pixel, 0.0, 1.0)

    # the foreground differs from the background by a random colour direction of random contrast; it is
    # lighter in most images (a linear template can use that) and a class-specific tint adds a weak
    # colour cue, as sky does for CIFAR-10's aeroplanes
    direction = rng.normal(size=(n, 3)).astype(np.float32)
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    lighter = np.where(rng.random(n) < LIGHTER_FRACTION, 1.0, -1.0).astype(np.float32)
    direction = direction + lighter[:, None] * 0.8 + CLASS_TINT[labels] * TINT_STRENGTH
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    contrast = rng.uniform(0.3, 0.55, size=(n, 1)).astype(np.float32)
    colour = np.clip(base[:, 0, 0] + direction * contrast, 0.0, 1.0)
    image = image * (1 - mask[..., None]) + colour[:, None, None, :] * mask[..., None]
    image += rng.normal(0.0, 0.05, size=image.shape).astype(np.float32)
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _write_batch(path, images, labels, batch_label, first_index):
    data = images.transpose(0, 3, 1, 2).reshape(len(images), -1)  # R plane, G plane, B plane, as CIFAR-10
    batch = {
        b"batch_label": batch_label.encode(),
        b"labels": [int(label) for label in labels],
        b"data": np.ascontiguousarray(data, dtype=np.uint8),
        b"filenames": [f"{CLASS_NAMES[label]}_{first_index + i:05d}.png".encode() for i, label in enumerate(labels)],
    }
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=2)


def marker(seed=0, num_train=5000, num_test=1000):
    """The text of the EMBEDDED file that identifies a generated copy."""
    return f"version={GENERATOR_VERSION} seed={seed} num_train={num_train} num_test={num_test}\n"


def generate(root, seed=0, num_train=5000, num_test=1000):
    """Write the embedded dataset under root in the CIFAR-10 python layout; return the folder."""
    if num_train % TRAIN_BATCHES:
        raise ValueError(f"num_train must divide into {TRAIN_BATCHES} batches, got {num_train}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    per_batch = num_train // TRAIN_BATCHES
    for batch in range(TRAIN_BATCHES):
        labels = rng.permutation(np.arange(per_batch) % len(CLASS_NAMES))
        images = render(labels, rng)
        label = f"training batch {batch + 1} of {TRAIN_BATCHES}"
        _write_batch(root / f"data_batch_{batch + 1}", images, labels, label, batch * per_batch)
    labels = rng.permutation(np.arange(num_test) % len(CLASS_NAMES))
    _write_batch(root / "test_batch", render(labels, rng), labels, "testing batch 1 of 1", num_train)
    meta = {
        b"num_cases_per_batch": per_batch,
        b"label_names": [name.encode() for name in CLASS_NAMES],
        b"num_vis": 3072,
    }
    with open(root / "batches.meta", "wb") as f:
        pickle.dump(meta, f, protocol=2)
    (root / "EMBEDDED").write_text(marker(seed, num_train, num_test))
    return root


def fingerprint(root):
    """md5 over the data files, to check that two generations are identical."""
    digest = hashlib.md5()
    for name in [f"data_batch_{i}" for i in range(1, TRAIN_BATCHES + 1)] + ["test_batch", "batches.meta"]:
        digest.update((Path(root) / name).read_bytes())
    return digest.hexdigest()
