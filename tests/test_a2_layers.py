"""Assignment 2 layers (cs_lib/layers.py) against torch.nn.functional, loops and numerical gradients."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_lib.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
from cs_lib.layers import (
    affine_backward,
    affine_forward,
    dropout_backward,
    dropout_forward,
    relu_backward,
    relu_forward,
    softmax_loss,
    svm_loss,
)

pytestmark = pytest.mark.a2

PROPERTY = settings(max_examples=15, deadline=None)


def rel_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))) if a.size else 0.0


@st.composite
def affine_inputs(draw):
    """x (N, d1..dk), possibly a non-contiguous view, with w (D, M), b (M,) and dout (N, M)."""
    N = draw(st.integers(1, 4))
    trailing = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    M = draw(st.integers(1, 5))
    transposed = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = (
        rng.standard_normal((N, *trailing[::-1])).transpose(0, *range(len(trailing), 0, -1))
        if transposed
        else (rng.standard_normal((N, *trailing)))
    )
    D = math.prod(trailing)
    return x, rng.standard_normal((D, M)), rng.standard_normal(M), rng.standard_normal((N, M))


@PROPERTY
@given(affine_inputs())
def test_affine_forward_matches_torch_linear_for_any_trailing_shape_and_layout(inputs):
    x, w, b, _ = inputs
    before = x.copy()
    out, _ = affine_forward(x, w, b)
    N = x.shape[0]
    expected = F.linear(
        torch.from_numpy(np.ascontiguousarray(x).reshape(N, -1)), torch.from_numpy(w.T), torch.from_numpy(b)
    )
    assert out.shape == (N, w.shape[1])
    assert rel_error(out, expected.numpy()) < 1e-10
    np.testing.assert_array_equal(x, before)


@PROPERTY
@given(affine_inputs())
def test_affine_backward_matches_autograd_and_returns_dx_in_x_shape(inputs):
    x, w, b, dout = inputs
    _, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)
    xt, wt, bt = (torch.tensor(np.ascontiguousarray(a), requires_grad=True) for a in (x, w, b))
    (xt.reshape(x.shape[0], -1) @ wt + bt).backward(torch.from_numpy(dout))
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    for analytic, expected in ((dx, xt.grad), (dw, wt.grad), (db, bt.grad)):
        assert rel_error(analytic, expected.numpy()) < 1e-10


def test_affine_backward_agrees_with_numerical_gradients_on_the_lecture_shape(rng):
    x = rng.standard_normal((2, 4, 5, 6))
    w = rng.standard_normal((120, 3))
    b = rng.standard_normal(3)
    dout = rng.standard_normal((2, 3))
    _, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)
    assert rel_error(dx, eval_numerical_gradient_array(lambda v: affine_forward(v, w, b)[0], x, dout)) < 1e-7
    assert rel_error(dw, eval_numerical_gradient_array(lambda v: affine_forward(x, v, b)[0], w, dout)) < 1e-7
    assert rel_error(db, eval_numerical_gradient_array(lambda v: affine_forward(x, w, v)[0], b, dout)) < 1e-7


def test_affine_forward_rejects_weights_that_do_not_fit_naming_the_numbers(rng):
    x = rng.standard_normal((2, 4, 5, 6))
    with pytest.raises(ValueError, match=r"D = 120.*\(119, 3\)"):
        affine_forward(x, rng.standard_normal((119, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        affine_forward(x, rng.standard_normal((120, 3)), np.zeros(4))


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 5), min_size=1, max_size=4))
def test_relu_forward_and_backward_match_torch(seed, shape):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    dout = rng.standard_normal(shape)
    out, cache = relu_forward(x)
    dx = relu_backward(dout, cache)
    xt = torch.tensor(x, requires_grad=True)
    torch.relu(xt).backward(torch.from_numpy(dout))
    np.testing.assert_array_equal(out, torch.relu(torch.from_numpy(x)).numpy())
    np.testing.assert_array_equal(dx, xt.grad.numpy())


def test_relu_backward_blocks_the_gradient_at_exactly_zero():
    x = np.array([[-1.0, 0.0, 2.0]])
    _, cache = relu_forward(x)
    np.testing.assert_array_equal(relu_backward(np.ones_like(x), cache), [[0.0, 0.0, 1.0]])


@st.composite
def scores_and_labels(draw):
    N = draw(st.integers(1, 6))
    C = draw(st.integers(2, 6))
    scale = draw(st.sampled_from([1e-3, 1.0, 30.0, 1e3]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = scale * rng.standard_normal((N, C))
    if draw(st.booleans()):
        x = np.ascontiguousarray(x.T).T  # a Fortran-ordered (non-C-contiguous) score matrix
    return x, rng.integers(C, size=N)


@PROPERTY
@given(scores_and_labels())
def test_softmax_loss_matches_torch_cross_entropy_and_its_gradient(inputs):
    x, y = inputs
    loss, dx = softmax_loss(x, y)
    xt = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    expected = F.cross_entropy(xt, torch.from_numpy(y))
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-13)


def test_softmax_loss_stays_finite_for_huge_scores():
    x = np.array([[1e4, -1e4, 0.0], [5e3, 5e3 + 1, 0.0]])
    loss, dx = softmax_loss(x, np.array([1, 0]))
    assert np.isfinite(loss) and np.all(np.isfinite(dx))
    # row 1: log-sum-exp 1e4 minus the label's -1e4; row 2: 5e3 + 1 + log(1 + e^-1) minus 5e3
    assert loss == pytest.approx((2e4 + 1 + math.log1p(math.exp(-1))) / 2, rel=1e-12)


def test_softmax_and_svm_losses_on_the_lecture_cat_example():
    scores, label = np.array([[3.2, 5.1, -1.7]]), np.array([0])
    assert svm_loss(scores, label)[0] == pytest.approx(2.9)
    assert softmax_loss(scores, label)[0] == pytest.approx(math.log(1 + math.exp(1.9) + math.exp(-4.9)), rel=1e-12)


@PROPERTY
@given(scores_and_labels())
def test_svm_loss_matches_torch_multi_margin_loss_summed_over_classes(inputs):
    x, y = inputs
    loss, dx = svm_loss(x, y)
    xt = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    expected = x.shape[1] * F.multi_margin_loss(xt, torch.from_numpy(y))  # torch averages over classes too
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-13)


def test_loss_gradients_agree_with_numerical_gradients(rng):
    x = rng.standard_normal((7, 5))
    y = rng.integers(5, size=7)
    for loss_layer in (softmax_loss, svm_loss):
        _, dx = loss_layer(x, y)
        assert rel_error(dx, eval_numerical_gradient(lambda v, f=loss_layer: f(v, y)[0], x)) < 1e-7


@pytest.mark.parametrize("loss_layer", [softmax_loss, svm_loss])
def test_loss_layers_reject_labels_that_do_not_fit_naming_the_numbers(loss_layer):
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"0\.\.3 for 4 classes, got 0\.\.4"):
        loss_layer(x, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"\(3,\)"):
        loss_layer(x, np.array([0, 1]))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_train_mode_keeps_the_expectation_and_a_fraction_p_of_units(p):
    x = np.full((400, 500), 3.0)
    out, _ = dropout_forward(x, {"mode": "train", "p": p, "seed": 0})
    kept = out != 0
    n = x.size
    # fraction kept within 5 binomial standard deviations; kept units are x / p exactly
    assert abs(kept.mean() - p) < 5 * math.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(out[kept], 3.0 / p, rtol=1e-15)
    assert abs(out.mean() - 3.0) < 5 * 3.0 * math.sqrt((1 - p) / (p * n))


def test_dropout_test_mode_is_the_identity_for_any_shape_and_p(rng):
    for shape in ((1, 3), (2, 3, 4), (7,)):
        x = rng.standard_normal(shape)
        out, cache = dropout_forward(x, {"mode": "test", "p": 0.3, "seed": 1})
        np.testing.assert_array_equal(out, x)
        dout = rng.standard_normal(shape)
        np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


def test_dropout_with_p_one_keeps_everything_in_train_mode(rng):
    x = rng.standard_normal((5, 6))
    np.testing.assert_array_equal(dropout_forward(x, {"mode": "train", "p": 1.0})[0], x)


def test_dropout_seed_gives_the_same_mask_and_no_seed_gives_fresh_ones(rng):
    x = rng.standard_normal((40, 50)) + 5
    first = dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 3})[0]
    np.testing.assert_array_equal(first, dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 3})[0])
    assert np.any(first != dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 4})[0])
    unseeded = [dropout_forward(x, {"mode": "train", "p": 0.5})[0] != 0 for _ in range(2)]
    assert np.any(unseeded[0] != unseeded[1])


def test_dropout_backward_reuses_the_forward_mask_even_without_a_seed(rng):
    x = rng.standard_normal((30, 20)) + 5
    dout = rng.standard_normal(x.shape)
    param = {"mode": "train", "p": 0.4}
    out, cache = dropout_forward(x, param)
    param["mode"] = "test"  # a net switching modes after the forward pass must not change the backward pass
    dx = dropout_backward(dout, cache)
    np.testing.assert_allclose(dx, dout * out / x, rtol=1e-12)
    np.testing.assert_array_equal(dropout_backward(dout, cache), dx)


def test_dropout_backward_agrees_with_the_numerical_gradient_for_a_seeded_mask(rng):
    x = rng.standard_normal((6, 7)) + 5
    dout = rng.standard_normal(x.shape)
    param = {"mode": "train", "p": 0.3, "seed": 11}
    _, cache = dropout_forward(x, param)
    numerical = eval_numerical_gradient_array(lambda v: dropout_forward(v, param)[0], x, dout)
    assert rel_error(dropout_backward(dout, cache), numerical) < 1e-9


def test_dropout_keeps_float32_float32(rng):
    x = rng.standard_normal((8, 9)).astype(np.float32)
    out, cache = dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 0})
    assert out.dtype == np.float32
    assert dropout_backward(np.ones_like(x), cache).dtype == np.float32


@pytest.mark.parametrize(
    ("param", "match"),
    [
        ({"mode": "train", "p": 0.0}, "p = 0.0"),
        ({"mode": "train", "p": 1.5}, "p = 1.5"),
        ({"mode": "eval", "p": 0.5}, "'eval'"),
        ({"p": 0.5}, "'mode' and 'p'"),
    ],
)
def test_dropout_rejects_bad_parameters_with_a_clear_message(param, match):
    with pytest.raises(ValueError, match=match):
        dropout_forward(np.ones((2, 2)), param)
