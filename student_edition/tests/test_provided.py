"""The provided code students build on: gradient checks, the datasets, the fast layers, the solver,
plotting and the check helpers, each against an independent reference."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from cs_lib import fast_im2col
from cs_lib.checks import CheckError, check_close, check_rel_error, check_scalar
from cs_lib.datasets import get_cifar10_data
from cs_lib.fast_layers import conv_backward_fast, conv_forward_fast, max_pool_backward_fast, max_pool_forward_fast
from cs_lib.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from cs_lib.solver import Solver
from cs_lib.vis import visualize_grid


def test_numerical_gradients_match_the_analytic_gradients_of_known_functions(rng):
    weights = rng.normal(size=(4, 5))
    x = rng.normal(size=(4, 5))
    numeric = eval_numerical_gradient(lambda v: np.sum(weights * v**2), x.copy(), verbose=False)
    assert rel_error(numeric, 2 * weights * x) < 1e-7
    upstream = rng.normal(size=(4, 5))
    numeric = eval_numerical_gradient_array(lambda v: np.sin(v), x.copy(), upstream)
    assert rel_error(numeric, upstream * np.cos(x)) < 1e-7


def test_the_embedded_dataset_has_cifar10_shapes_ten_classes_and_mean_subtracted_splits():
    data = get_cifar10_data(num_training=500, num_validation=100, num_test=100, dataset="embedded")
    assert data["X_train"].shape == (500, 3, 32, 32)
    assert data["X_val"].shape == (100, 3, 32, 32) and data["X_test"].shape == (100, 3, 32, 32)
    assert len(data["class_names"]) == 10
    assert set(np.unique(data["y_train"])) <= set(range(10)) and len(np.unique(data["y_train"])) == 10
    assert abs(float(data["X_train"].mean())) < 1e-6


def test_the_compiled_im2col_extension_was_built():
    assert fast_im2col.BACKEND == "cython", (
        "cs_lib's compiled extension is missing: install a C compiler and run `bash setup.sh` again"
    )


def test_im2col_and_col2im_are_adjoint(rng):
    x = rng.normal(size=(2, 3, 7, 6))
    cols = fast_im2col.im2col(x, 3, 2, stride=2, pad=1)
    other = rng.normal(size=cols.shape)
    back = fast_im2col.col2im(other, x.shape, 3, 2, stride=2, pad=1)
    assert np.isclose(np.sum(cols * other), np.sum(x * back))


def test_fast_convolution_and_max_pooling_match_torch(rng):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    x = rng.normal(size=(2, 3, 9, 7))
    w = rng.normal(size=(4, 3, 3, 3))
    b = rng.normal(size=4)
    out, cache = conv_forward_fast(x, w, b, {"stride": 2, "pad": 1})
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    expected = functional.conv2d(tx, tw, tb, stride=2, padding=1)
    assert rel_error(out, expected.detach().numpy()) < 1e-9
    dout = rng.normal(size=out.shape)
    expected.backward(torch.tensor(dout))
    dx, dw, db = conv_backward_fast(dout, cache)
    for mine, theirs in ((dx, tx), (dw, tw), (db, tb)):
        assert rel_error(mine, theirs.grad.numpy()) < 1e-9

    pooled, cache = max_pool_forward_fast(x, {"pool_height": 3, "pool_width": 3, "stride": 2})
    tx = torch.tensor(x, requires_grad=True)
    expected = functional.max_pool2d(tx, 3, stride=2)
    assert rel_error(pooled, expected.detach().numpy()) < 1e-12
    dout = rng.normal(size=pooled.shape)
    expected.backward(torch.tensor(dout))
    assert rel_error(max_pool_backward_fast(dout, cache), tx.grad.numpy()) < 1e-12


class Quadratic:
    """A model whose loss 0.5 * |W - target|^2 ignores the data: training must reach target."""

    def __init__(self, target):
        self.target = target
        self.params = {"W": np.zeros_like(target)}

    def loss(self, X, y=None):
        scores = np.tile(self.params["W"][:1], (len(X), 1))
        if y is None:
            return scores
        gap = self.params["W"] - self.target
        return 0.5 * float(np.sum(gap**2)), {"W": gap}


def halfway(w, dw, config=None):
    return w - 0.5 * dw, config


def test_the_solver_trains_a_model_with_a_given_update_rule(rng):
    target = rng.normal(size=(1, 10))
    data = {
        "X_train": rng.normal(size=(40, 3)),
        "y_train": rng.integers(0, 10, 40),
        "X_val": rng.normal(size=(10, 3)),
        "y_val": rng.integers(0, 10, 10),
    }
    model = Quadratic(target)
    solver = Solver(model, data, update_rule=halfway, batch_size=10, num_epochs=5, verbose=False, seed=0)
    solver.train()
    # each step halves the gap to target: 20 steps (5 epochs of 4 batches) shrink the loss by 4^20
    assert len(solver.loss_history) == 20
    assert solver.loss_history[-1] < 1e-9 * solver.loss_history[0]


def test_visualize_grid_tiles_images_into_one_rescaled_image(rng):
    images = rng.uniform(size=(5, 4, 4, 3))
    grid = visualize_grid(images, ubound=255.0, padding=1)
    assert grid.shape == (3 * 5 - 1, 3 * 5 - 1, 3)
    assert grid.min() >= 0 and grid.max() <= 255.0


class AlwaysEqual(float):
    def __eq__(self, other):
        return True


def test_the_check_helpers_name_the_mismatch_and_cannot_be_rigged():
    check_rel_error(np.ones(3), np.ones(3), "ones")
    with pytest.raises(CheckError, match="relative error"):
        check_rel_error(np.ones(3), np.zeros(3) + 2, "twos")
    with pytest.raises(CheckError, match=r"entry \(1,\)"):
        check_close(np.array([1.0, 5.0]), np.array([1.0, 2.0]), "values")
    with pytest.raises(CheckError):
        check_scalar(AlwaysEqual(3.0), 4.0, "rigged")
