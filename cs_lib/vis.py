"""Pictures for the notebooks: image grids, filter/template grids and training curves.

Everything draws with matplotlib and returns the Figure; nothing here needs a
display, so the same calls work in JupyterLab, on Colab and in headless grading.
"""

import math

import numpy as np


def _pyplot():
    import matplotlib.pyplot as plt  # deferred: importing pyplot picks a backend

    return plt


def visualize_grid(Xs, ubound=255.0, padding=1):
    """Tile images Xs (N, H, W, C) into one (G*(H+p), G*(W+p), C) image scaled to [0, ubound].

    Each image is rescaled to its own min..max, which is what filters and learned templates need.
    """
    Xs = np.asarray(Xs, dtype=np.float64)
    if Xs.ndim != 4:
        raise ValueError(f"visualize_grid expects (N, H, W, C), got shape {Xs.shape}")
    N, H, W, C = Xs.shape
    grid_size = int(math.ceil(math.sqrt(N)))
    grid = np.zeros((grid_size * (H + padding) - padding, grid_size * (W + padding) - padding, C))
    for index in range(N):
        row, col = divmod(index, grid_size)
        image = Xs[index]
        low, high = image.min(), image.max()
        scaled = ubound * (image - low) / (high - low) if high > low else np.zeros_like(image)
        top, left = row * (H + padding), col * (W + padding)
        grid[top : top + H, left : left + W] = scaled
    return grid


def show_filters(weights, title=None, ax=None):
    """Show conv filters (F, C, HH, WW) or linear templates (F, C, H, W) as a grid of RGB tiles."""
    plt = _pyplot()
    weights = np.asarray(weights)
    if weights.ndim != 4:
        raise ValueError(f"show_filters expects (F, C, HH, WW), got shape {weights.shape}")
    images = weights.transpose(0, 2, 3, 1)
    grid = visualize_grid(images, ubound=1.0)
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(grid.squeeze(), cmap="gray" if grid.shape[-1] == 1 else None)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax.figure


def show_class_examples(X, y, class_names, per_class=7, seed=0):
    """A grid with one column per class and per_class random examples of it (X is (N, 32, 32, 3) 0..255)."""
    plt = _pyplot()
    X = np.asarray(X)
    if X.ndim == 4 and X.shape[1] == 3 and X.shape[-1] != 3:
        X = X.transpose(0, 2, 3, 1)
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(per_class, len(class_names), figsize=(len(class_names), per_class))
    axes = np.asarray(axes).reshape(per_class, len(class_names))
    for label, name in enumerate(class_names):
        members = np.flatnonzero(np.asarray(y) == label)
        picks = rng.choice(members, size=min(per_class, len(members)), replace=False)
        for row in range(per_class):
            ax = axes[row, label]
            ax.axis("off")
            if row < len(picks):
                image = X[picks[row]]
                low, high = image.min(), image.max()
                ax.imshow((image - low) / max(high - low, 1e-12))
        axes[0, label].set_title(name, fontsize=8)
    fig.tight_layout()
    return fig


def plot_training(history, title=None):
    """Loss per iteration and train/val accuracy per epoch from a Solver (or a dict with its histories)."""
    plt = _pyplot()
    if not isinstance(history, dict):
        history = {
            "loss_history": history.loss_history,
            "train_acc_history": history.train_acc_history,
            "val_acc_history": history.val_acc_history,
        }
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 4))
    loss_ax.plot(history["loss_history"], ".", alpha=0.5)
    loss_ax.set_xlabel("iteration")
    loss_ax.set_ylabel("training loss")
    acc_ax.plot(history.get("train_acc_history", []), "-o", label="train")
    acc_ax.plot(history.get("val_acc_history", []), "-o", label="val")
    acc_ax.set_xlabel("epoch")
    acc_ax.set_ylabel("accuracy")
    acc_ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_curves(curves, xlabel="iteration", ylabel="loss", title=None, marker="-"):
    """Several named curves on one axes: curves is {label: sequence of values}."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, values in curves.items():
        ax.plot(values, marker, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def _as_hwc(images):
    """Images as (N, H, W, C) numpy arrays from (N, C, H, W) or (N, H, W, C) arrays or tensors."""
    images = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images, dtype=np.float64)
    if images.ndim != 4:
        raise ValueError(f"expected a batch of images (N, C, H, W) or (N, H, W, C), got shape {images.shape}")
    if images.shape[1] in (1, 3) and images.shape[-1] not in (1, 3):
        images = images.transpose(0, 2, 3, 1)
    return images


def show_images(images, titles=None, columns=8, size=1.3, title=None):
    """A grid of images (N, C, H, W) or (N, H, W, C), each rescaled to its own min..max, with optional titles."""
    plt = _pyplot()
    images = _as_hwc(images)
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"{len(images)} images but {len(titles)} titles")
    columns = max(1, min(columns, len(images)))
    rows = max(1, math.ceil(len(images) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * (size + 0.3)), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= len(images):
            continue
        image = images[index]
        low, high = image.min(), image.max()
        ax.imshow(((image - low) / max(high - low, 1e-12)).squeeze(), cmap="gray" if image.shape[-1] == 1 else None)
        if titles is not None:
            ax.set_title(titles[index], fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_history(history, title=None):
    """A PyTorch training run's history (cs_lib.pytorch.training.fit): training loss per step with each
    epoch's mean, validation accuracy per epoch and the learning rate of every step, side by side."""
    plt = _pyplot()
    losses, epochs = list(history["loss"]), max(1, int(history.get("epochs", 0)) or 1)
    steps_per_epoch = len(losses) / epochs
    panels = 2 + bool(history.get("lr"))
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.4))
    loss_ax, acc_ax = axes[0], axes[1]
    loss_ax.plot(np.arange(1, len(losses) + 1) / steps_per_epoch, losses, alpha=0.4, label="each step")
    epoch_loss = history.get("epoch_loss") or []
    if epoch_loss:
        loss_ax.plot(np.arange(1, len(epoch_loss) + 1), epoch_loss, "o-", label="epoch mean")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("training loss")
    loss_ax.legend()
    val_acc = history.get("val_acc") or []
    acc_ax.plot(np.arange(1, len(val_acc) + 1), val_acc, "o-", color="C2")
    acc_ax.set_xlabel("epoch")
    acc_ax.set_ylabel("validation accuracy")
    acc_ax.set_ylim(0, 1)
    if panels == 3:
        lr = history["lr"]
        axes[2].plot(np.arange(1, len(lr) + 1) / steps_per_epoch, lr, color="C3")
        axes[2].set_xlabel("epoch")
        axes[2].set_ylabel("learning rate")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(matrix, class_names, title=None):
    """A confusion matrix (rows: true class, columns: predicted class) as a heat map with its counts."""
    plt = _pyplot()
    matrix = np.asarray(matrix.cpu() if hasattr(matrix, "cpu") else matrix)
    K = len(class_names)
    if matrix.shape != (K, K):
        raise ValueError(f"a confusion matrix for {K} classes is {K} x {K}, got shape {matrix.shape}")
    fig, ax = plt.subplots(figsize=(0.55 * K + 2.5, 0.55 * K + 2))
    shown = ax.imshow(matrix, cmap="Blues")
    for i in range(K):
        for j in range(K):
            if matrix[i, j]:
                dark = matrix[i, j] > matrix.max() / 2
                ax.text(j, i, f"{matrix[i, j]:g}", ha="center", va="center", fontsize=7, color="w" if dark else "k")
    ax.set_xticks(range(K), class_names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(K), class_names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fig.colorbar(shown, ax=ax, fraction=0.046)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def show_activation_maps(images, maps, filters=None, title=None, size=1.2):
    """Activation maps of a conv layer: one row per image (the image, then one map per filter).

    images (N, C, H, W) or (N, H, W, C), each shown rescaled to its own min..max; maps (N, F, H', W');
    filters (F, C, HH, WW), when given, are drawn in a top row above their maps. All maps of one filter
    share a grey scale from 0 to that filter's largest activation, so rows can be compared.
    """
    plt = _pyplot()
    images = _as_hwc(images)
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim != 4 or len(maps) != len(images):
        raise ValueError(f"maps must be (N, F, H', W') for the {len(images)} images, got shape {maps.shape}")
    N, F = maps.shape[:2]
    top = 0 if filters is None else 1
    fig, axes = plt.subplots(N + top, F + 1, figsize=((F + 1) * size, (N + top) * size), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    if filters is not None:
        tiles = np.asarray(filters, dtype=np.float64).transpose(0, 2, 3, 1)
        for f in range(F):
            low, high = tiles[f].min(), tiles[f].max()
            axes[0, f + 1].imshow(((tiles[f] - low) / max(high - low, 1e-12)).squeeze())
            axes[0, f + 1].set_title(f"filter {f}", fontsize=7)
    brightest = np.maximum(maps.max(axis=(0, 2, 3)), 1e-12)
    for n in range(N):
        image = images[n]
        low, high = image.min(), image.max()
        axes[n + top, 0].imshow(((image - low) / max(high - low, 1e-12)).squeeze())
        for f in range(F):
            axes[n + top, f + 1].imshow(maps[n, f], cmap="gray", vmin=0.0, vmax=brightest[f])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_layer_histograms(values, title=None, layers=None, bins=40, size=1.6):
    """Per-layer histograms, one row per setting: values is {setting: [array of layer 1, layer 2, ...]}.

    layers chooses which layers to draw (numbered from 1; all by default). The panels of a row share one
    horizontal axis, and each is labelled with its layer and the standard deviation of its values, so
    vanishing (a spike at zero) and exploding (ever wider) layers show both in the shapes and in the numbers.
    """
    plt = _pyplot()
    if not values:
        raise ValueError("plot_layer_histograms needs at least one setting")
    depth = max(len(arrays) for arrays in values.values())
    layers = list(range(1, depth + 1)) if layers is None else list(layers)
    if not layers or min(layers) < 1 or max(layers) > depth:
        raise ValueError(f"layers must be numbers from 1 to {depth}, got {layers}")
    fig, axes = plt.subplots(
        len(values), len(layers), figsize=(len(layers) * size, len(values) * size), squeeze=False, sharex="row"
    )
    for row, (label, arrays) in enumerate(values.items()):
        for column, layer in enumerate(layers):
            ax = axes[row, column]
            ax.set_yticks([])
            ax.tick_params(axis="x", labelsize=6)
            if layer > len(arrays):
                ax.axis("off")
                continue
            flat = np.asarray(arrays[layer - 1], dtype=np.float64).ravel()
            counts, edges = np.histogram(flat, bins=bins)
            ax.stairs(counts, edges, fill=True, color=f"C{row}")
            ax.set_title(f"layer {layer}: std {flat.std():.1e}", fontsize=7)
        axes[row, 0].set_ylabel(label, fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
