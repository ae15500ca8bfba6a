"""Plots render headless and grids tile and rescale images as documented."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from cs_lib import vis


def test_visualize_grid_tiles_and_rescales_each_image():
    images = np.stack([np.full((2, 2, 3), value) for value in (1.0, 5.0, 9.0)])
    images[:, 0, 0, :] = 0.0
    grid = vis.visualize_grid(images, ubound=255.0, padding=1)
    assert grid.shape == (2 * 3 - 1, 2 * 3 - 1, 3)  # 3 images -> a 2x2 grid of 2x2 tiles
    assert grid[0, 0, 0] == 0 and grid[1, 1, 0] == 255
    assert np.all(grid[:, 2] == 0)  # padding column stays empty


def test_visualize_grid_rejects_wrong_rank():
    with pytest.raises(ValueError, match="N, H, W, C"):
        vis.visualize_grid(np.zeros((3, 3)))


def test_figures_render_without_a_display(tmp_path):
    rng = np.random.default_rng(0)
    figures = [
        vis.show_filters(rng.standard_normal((10, 3, 5, 5)), title="filters"),
        vis.show_class_examples(
            rng.uniform(0, 255, (40, 3, 8, 8)), np.repeat(np.arange(4), 10), list("abcd"), per_class=3
        ),
        vis.plot_training({"loss_history": [3, 2, 1], "train_acc_history": [0.1, 0.5], "val_acc_history": [0.1, 0.4]}),
        vis.plot_curves({"sgd": [3, 2, 1], "adam": [3, 1, 0.5]}, title="rules"),
    ]
    for index, figure in enumerate(figures):
        path = tmp_path / f"{index}.png"
        figure.savefig(path)
        assert path.stat().st_size > 1000
