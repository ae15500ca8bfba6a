"""Hand-designed image features (assignment 1): a colour histogram and a histogram of oriented gradients.

Before convnets learned their features from the pixels, image classifiers computed fixed features
designed by hand and trained a linear classifier on them. Shapes use the lecture's letters: N images,
channels first, (N, 3, H, W), with pixel values in 0..255 (get_cifar10_data(subtract_mean=False)).

    colours = colour_histogram(images, bins=4)           # (N, 4**3): the fraction of pixels in each colour box
    gradients = gradient_histogram(images, cell_size=8)  # (N, (H/8) * (W/8) * 9): edge strength per cell and direction
"""

import numpy as np


def _check_images(images, name):
    """images as a float64 array (N, 3, H, W), or a ValueError naming the shape."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"{name}: images must be (N, 3, H, W) RGB, channels first, got shape {images.shape}")
    return images


def colour_histogram(images, bins=4):
    """A joint colour histogram per image: the fraction of its pixels that fall in each colour box.

    images: (N, 3, H, W), pixel values in 0..255. Each channel's range 0..256 is cut into `bins`
    intervals of equal width 256 / bins, so a value v lies in interval floor(v * bins / 256); a
    pixel's colour box combines its red, green and blue intervals (r, g, b) and is numbered
    r * bins**2 + g * bins + b. The position of a pixel plays no part.
    Example: bins = 2 gives 8 boxes; a pure red pixel (255, 0, 0) is in box (1, 0, 0), number 4.
    Returns (N, bins**3) float64, each row summing to 1.
    """
    images = _check_images(images, "colour_histogram")
    if int(bins) != bins or bins < 1:
        raise ValueError(f"colour_histogram: bins must be a whole number >= 1, got {bins}")
    N = images.shape[0]
    histograms = np.zeros((N, bins**3))
    ### BEGIN SOLUTION
    # Stub: for each image, the fraction of its pixels in each colour box, numbered as in the docstring
    intervals = np.minimum((images * bins / 256).astype(np.int64), bins - 1)  # (N, 3, H, W); values >= 0 round down
    boxes = (intervals[:, 0] * bins + intervals[:, 1]) * bins + intervals[:, 2]  # (N, H, W)
    for n in range(N):
        counts = np.bincount(boxes[n].ravel(), minlength=bins**3)
        histograms[n] = counts / boxes[n].size
    ### END SOLUTION
    return histograms


def gradient_histogram(images, cell_size=8, num_orientations=9):
    """A histogram of oriented gradients (HOG-like): how much edge there is in each direction, cell by cell.

    images: (N, 3, H, W), pixel values in 0..255; H and W must be multiples of cell_size.
    1. Grey level: I = the mean of the three colour channels, (N, H, W).
    2. Image gradient with the [-1, 0, 1] filter: gx[r, c] = I[r, c + 1] - I[r, c - 1] and
       gy[r, c] = I[r + 1, c] - I[r - 1, c] (rows counted downwards), taken as 0 on the image's
       outermost columns (gx) and rows (gy), where a neighbour is missing.
    3. Each pixel's gradient has a magnitude sqrt(gx**2 + gy**2) and an unsigned orientation, the
       angle of (gx, gy) folded into [0, 180) degrees (an edge and its opposite count the same);
       orientation bin k covers [k, k + 1) * 180 / num_orientations degrees.
    4. The image is cut into (H / cell_size) x (W / cell_size) square cells; every pixel adds its
       magnitude to its orientation bin in its cell.
    Example: 32 x 32 images, cells of 8 and 9 orientations of 20 degrees give 4 * 4 * 9 = 144 numbers; a
    vertical edge (dark left, light right) has gy = 0 and gx > 0, orientation 0, and feeds bin 0.
    Returns (N, (H / cell_size) * (W / cell_size) * num_orientations) float64: the cells row by row,
    left to right, each with its num_orientations sums.
    """
    images = _check_images(images, "gradient_histogram")
    N, _, H, W = images.shape
    if H % cell_size or W % cell_size:
        raise ValueError(
            f"gradient_histogram: {H} x {W} images do not split into cells of {cell_size} x {cell_size} "
            f"({H} / {cell_size} = {H / cell_size:g}, {W} / {cell_size} = {W / cell_size:g})"
        )
    cells_down, cells_across = H // cell_size, W // cell_size
    features = np.zeros((N, cells_down, cells_across, num_orientations))
    ### BEGIN SOLUTION
    # Stub: grey level, gradient, magnitude and unsigned orientation bin of each pixel; sum per cell and bin
    grey = images.mean(axis=1)
    gx = np.zeros_like(grey)
    gy = np.zeros_like(grey)
    gx[:, :, 1:-1] = grey[:, :, 2:] - grey[:, :, :-2]
    gy[:, 1:-1, :] = grey[:, 2:, :] - grey[:, :-2, :]
    magnitude = np.sqrt(gx**2 + gy**2)
    orientation = np.mod(np.degrees(np.arctan2(gy, gx)), 180.0)
    orientation_bin = np.minimum((orientation // (180.0 / num_orientations)).astype(np.int64), num_orientations - 1)
    for row in range(cells_down):
        for col in range(cells_across):
            rows = slice(row * cell_size, (row + 1) * cell_size)
            cols = slice(col * cell_size, (col + 1) * cell_size)
            for k in range(num_orientations):
                in_bin = orientation_bin[:, rows, cols] == k
                features[:, row, col, k] = np.sum(magnitude[:, rows, cols] * in_bin, axis=(1, 2))
    ### END SOLUTION
    return features.reshape(N, -1)
