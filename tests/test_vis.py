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


def test_activation_maps_show_each_image_with_one_map_per_filter_and_its_filter_on_top(tmp_path):
    rng = np.random.default_rng(1)
    images, maps, filters = (
        rng.uniform(size=(2, 3, 8, 8)),
        rng.uniform(size=(2, 4, 8, 8)),
        rng.normal(size=(4, 3, 3, 3)),
    )
    figure = vis.show_activation_maps(images, maps, filters=filters, title="maps")
    assert len(figure.axes) == (2 + 1) * (4 + 1)  # a row of filters above one row per image; images first
    assert [ax.get_title() for ax in figure.axes[1:5]] == [f"filter {f}" for f in range(4)]
    shown = figure.axes[5 + 2].images[0]  # image 0, filter 1: one grey scale per filter, from 0 to its maximum
    assert shown.get_clim() == (0.0, maps[:, 1].max())
    figure.savefig(tmp_path / "maps.png")
    assert len(vis.show_activation_maps(images, maps).axes) == 2 * 5
    with pytest.raises(ValueError, match="maps must be"):
        vis.show_activation_maps(images, maps[:1])


def test_layer_histograms_label_every_layer_with_its_standard_deviation(tmp_path):
    values = {"small": [np.full(10, 1e-3) * np.arange(10), np.zeros(10)], "large": [np.arange(10.0)] * 3}
    figure = vis.plot_layer_histograms(values, title="activations")
    assert len(figure.axes) == 2 * 3
    titles = [ax.get_title() for ax in figure.axes]
    assert (
        titles[0] == f"layer 1: std {np.arange(10).std() * 1e-3:.1e}"
        and titles[3] == f"layer 1: std {np.arange(10).std():.1e}"
    )
    assert not figure.axes[2].axison  # the small setting has only two layers
    figure.savefig(tmp_path / "histograms.png")
    with pytest.raises(ValueError, match="at least one setting"):
        vis.plot_layer_histograms({})
    chosen = vis.plot_layer_histograms(values, layers=[1, 3])
    assert [ax.get_title() for ax in chosen.axes][1::2] == ["", f"layer 3: std {np.arange(10).std():.1e}"]
    with pytest.raises(ValueError, match="layers must be numbers from 1 to 3"):
        vis.plot_layer_histograms(values, layers=[4])
