"""Naive convolution and max pooling (assignment 3) against torch.nn.functional and numerical gradients."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_lib.conv_layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)
from cs_lib.gradient_check import eval_numerical_gradient_array, rel_error
from geometries import conv_geometries, pool_geometries

pytestmark = pytest.mark.a3


def torch_conv(x, w, b, stride, pad, dout=None):
    """out, and (dx, dw, db) for an upstream gradient dout, computed by torch."""
    tensors = [torch.tensor(array, requires_grad=True) for array in (x, w, b)]
    out = F.conv2d(*tensors, stride=stride, padding=pad)
    if dout is None:
        return out.detach().numpy()
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), [tensor.grad.numpy() for tensor in tensors]


def torch_pool(x, pool_param, dout=None):
    x_t = torch.tensor(x, requires_grad=True)
    out = F.max_pool2d(x_t, (pool_param["pool_height"], pool_param["pool_width"]), stride=pool_param["stride"])
    if dout is None:
        return out.detach().numpy()
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), x_t.grad.numpy()


@settings(max_examples=25, deadline=None)
@given(geometry=conv_geometries(), seed=st.integers(0, 2**16))
def test_conv_forward_naive_matches_torch_for_any_geometry_that_fits(geometry, seed):
    x_shape, w_shape, stride, pad = geometry
    rng = np.random.default_rng(seed)
    x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    out, cache = conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
    assert rel_error(out, torch_conv(x, w, b, stride, pad)) < 1e-10
    assert cache[0] is x and cache[1] is w


@settings(max_examples=25, deadline=None)
@given(geometry=conv_geometries(), seed=st.integers(0, 2**16))
def test_conv_backward_naive_matches_torch_autograd_for_any_geometry_that_fits(geometry, seed):
    x_shape, w_shape, stride, pad = geometry
    rng = np.random.default_rng(seed)
    x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    out, cache = conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
    dout = rng.normal(size=out.shape)
    _, expected = torch_conv(x, w, b, stride, pad, dout)
    for name, got, want in zip(("dx", "dw", "db"), conv_backward_naive(dout, cache), expected):
        assert got.shape == want.shape, name
        assert rel_error(got, want) < 1e-9, name


def test_conv_backward_naive_agrees_with_numerical_gradients_on_a_non_square_strided_padded_case(rng):
    x = rng.normal(size=(2, 2, 5, 8))
    w = rng.normal(size=(3, 2, 3, 2))
    b = rng.normal(size=3)
    conv_param = {"stride": 2, "pad": 1}
    out, cache = conv_forward_naive(x, w, b, conv_param)
    assert out.shape == (2, 3, 3, 5)
    dout = rng.normal(size=out.shape)
    dx, dw, db = conv_backward_naive(dout, cache)
    for analytic, array in ((dx, x), (dw, w), (db, b)):
        numerical = eval_numerical_gradient_array(lambda _: conv_forward_naive(x, w, b, conv_param)[0], array, dout)
        assert rel_error(analytic, numerical) < 1e-8


def test_conv_forward_naive_leaves_its_inputs_unchanged(rng):
    x, w, b = rng.normal(size=(2, 3, 5, 5)), rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2)
    copies = [array.copy() for array in (x, w, b)]
    out, cache = conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
    conv_backward_naive(np.ones_like(out), cache)
    for array, copy in zip((x, w, b), copies):
        np.testing.assert_array_equal(array, copy)


def test_conv_forward_naive_computes_cross_correlation_not_flipped_convolution():
    # deep-learning "convolution" does not flip the filter: a filter [[1, 0], [0, 0]] picks the top-left pixel
    x = np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 0.0], [0.0, 0.0]]]])
    out, _ = conv_forward_naive(x, w, np.zeros(1), {"stride": 1, "pad": 0})
    np.testing.assert_array_equal(out[0, 0], [[0, 1], [3, 4]])


@settings(max_examples=25, deadline=None)
@given(geometry=pool_geometries(), seed=st.integers(0, 2**16))
def test_max_pool_naive_forward_and_backward_match_torch_including_overlapping_windows(geometry, seed):
    x_shape, pool_param = geometry
    rng = np.random.default_rng(seed)
    x = rng.normal(size=x_shape)  # continuous values: no ties
    out, cache = max_pool_forward_naive(x, pool_param)
    dout = rng.normal(size=out.shape)
    expected_out, expected_dx = torch_pool(x, pool_param, dout)
    np.testing.assert_array_equal(out, expected_out)
    assert rel_error(max_pool_backward_naive(dout, cache), expected_dx) < 1e-12


def test_max_pool_backward_naive_adds_the_gradients_of_every_window_an_element_wins():
    # AlexNet's 3x3 pool with stride 2: the centre element of a 5x5 map lies in all four windows
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 10.0
    pool_param = {"pool_height": 3, "pool_width": 3, "stride": 2}
    out, cache = max_pool_forward_naive(x, pool_param)
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), 10.0))
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dx = max_pool_backward_naive(dout, cache)
    assert dx[0, 0, 2, 2] == 10.0
    assert np.count_nonzero(dx) == 1


def test_max_pool_backward_naive_matches_numerical_gradients_for_alexnets_overlapping_pool(rng):
    x = rng.normal(size=(2, 2, 7, 9))
    pool_param = {"pool_height": 3, "pool_width": 3, "stride": 2}
    out, cache = max_pool_forward_naive(x, pool_param)
    dout = rng.normal(size=out.shape)
    numerical = eval_numerical_gradient_array(lambda x: max_pool_forward_naive(x, pool_param)[0], x, dout)
    assert rel_error(max_pool_backward_naive(dout, cache), numerical) < 1e-9


@pytest.mark.parametrize(
    "pool_param",
    [
        {"pool_height": 2, "pool_width": 2, "stride": 2},
        {"pool_height": 3, "pool_width": 3, "stride": 2},
        {"pool_height": 2, "pool_width": 3, "stride": 1},
    ],
)
def test_max_pool_backward_naive_gives_each_windows_gradient_to_exactly_one_tied_maximum(pool_param):
    height, width, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    x = np.ones((2, 2, 2 * stride + height, 2 * stride + width))  # every element ties with every other one
    out, cache = max_pool_forward_naive(x, pool_param)
    dout = np.random.default_rng(0).uniform(1.0, 2.0, size=out.shape)
    dx = max_pool_backward_naive(dout, cache)
    assert dx.sum() == pytest.approx(dout.sum())
    for n, c, i, j in np.ndindex(out.shape):
        # replay each window alone: the element that gets its gradient must be unique and a maximum
        single = np.zeros_like(dout)
        single[n, c, i, j] = 1.0
        window = max_pool_backward_naive(single, cache)[
            n, c, i * stride : i * stride + height, j * stride : j * stride + width
        ]
        assert np.count_nonzero(window) == 1 and window.sum() == 1.0


def test_max_pool_naive_handles_a_single_image_and_non_square_windows(rng):
    x = rng.normal(size=(1, 3, 6, 8))
    pool_param = {"pool_height": 2, "pool_width": 4, "stride": 2}
    out, cache = max_pool_forward_naive(x, pool_param)
    dout = rng.normal(size=out.shape)
    expected_out, expected_dx = torch_pool(x, pool_param, dout)
    assert out.shape == (1, 3, 3, 3)
    np.testing.assert_array_equal(out, expected_out)
    np.testing.assert_allclose(max_pool_backward_naive(dout, cache), expected_dx, rtol=0, atol=0)


GOOD_X, GOOD_W, GOOD_B = np.zeros((2, 3, 7, 7)), np.zeros((4, 3, 3, 3)), np.zeros(4)


@pytest.mark.parametrize(
    "x, w, b, conv_param, error, message",
    [
        (GOOD_X, GOOD_W, GOOD_B, {"stride": 3, "pad": 0}, ValueError, "(7 - 3 + 2*0) / 3 + 1 = 2.33 is not an integer"),
        (GOOD_X, np.zeros((4, 2, 3, 3)), GOOD_B, {"stride": 1, "pad": 0}, ValueError, "x has 3 channels"),
        (GOOD_X, GOOD_W, np.zeros(3), {"stride": 1, "pad": 0}, ValueError, "b must have shape (4,)"),
        (GOOD_X, GOOD_W, GOOD_B, {"stride": 1}, ValueError, "'stride' and 'pad'"),
        (GOOD_X, GOOD_W, GOOD_B, {"stride": 1.0, "pad": 0}, TypeError, "must be an integer"),
        (GOOD_X, GOOD_W, GOOD_B, {"stride": 0, "pad": 0}, ValueError, "stride must be positive"),
        (GOOD_X, GOOD_W, GOOD_B, {"stride": 1, "pad": -1}, ValueError, "pad must be zero or positive"),
        (GOOD_X, np.zeros((4, 3, 9, 3)), GOOD_B, {"stride": 1, "pad": 0}, ValueError, "does not fit"),
        (np.zeros((3, 7, 7)), GOOD_W, GOOD_B, {"stride": 1, "pad": 0}, ValueError, "4 dimensions"),
        (GOOD_X.astype(np.int64), GOOD_W, GOOD_B, {"stride": 1, "pad": 0}, TypeError, "dtype int64"),
    ],
)
def test_conv_forward_naive_rejects_invalid_input_with_a_clear_message(x, w, b, conv_param, error, message):
    with pytest.raises(error, match=re.escape(message)):
        conv_forward_naive(x, w, b, conv_param)


def test_conv_backward_naive_rejects_an_upstream_gradient_of_the_wrong_shape():
    out, cache = conv_forward_naive(GOOD_X, GOOD_W, GOOD_B, {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match="dout has shape"):
        conv_backward_naive(np.zeros((2, 4, 5, 5)), cache)


@pytest.mark.parametrize(
    "pool_param, error, message",
    [
        (
            {"pool_height": 2, "pool_width": 2, "stride": 2},
            ValueError,
            "(7 - 2 + 2*0) / 2 + 1 = 3.50 is not an integer",
        ),
        ({"pool_height": 8, "pool_width": 2, "stride": 1}, ValueError, "does not fit"),
        ({"pool_height": 2, "stride": 1}, ValueError, "'pool_height', 'pool_width' and 'stride'"),
        ({"pool_height": 2, "pool_width": 2, "stride": 0}, ValueError, "stride must be positive"),
        ({"pool_height": 2.5, "pool_width": 2, "stride": 1}, TypeError, "must be an integer"),
    ],
)
def test_max_pool_naive_rejects_invalid_pool_params_with_a_clear_message(pool_param, error, message):
    with pytest.raises(error, match=re.escape(message)):
        max_pool_forward_naive(GOOD_X, pool_param)


def test_max_pool_backward_naive_rejects_an_upstream_gradient_of_the_wrong_shape():
    _, cache = max_pool_forward_naive(GOOD_X, {"pool_height": 3, "pool_width": 3, "stride": 2})
    with pytest.raises(ValueError, match="dout has shape"):
        max_pool_backward_naive(np.zeros((2, 3, 2, 2)), cache)
