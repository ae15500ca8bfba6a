"""The students' numpy im2col and conv_forward_im2col (assignment 3) against loops, the compiled kernels and torch."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cs_lib import fast_im2col
from cs_lib.conv_layers import conv_backward_naive
from cs_lib.gradient_check import rel_error
from cs_lib.im2col import conv_forward_im2col, im2col

pytestmark = pytest.mark.a3


@st.composite
def field_geometries(draw):
    """(x shape, HH, WW, stride, pad) of a field that fits exactly."""
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    HH, WW = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    H_out, W_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    H = (H_out - 1) * stride + HH - 2 * pad
    W = (W_out - 1) * stride + WW - 2 * pad
    assume(H >= 1 and W >= 1)
    return (N, C, H, W), HH, WW, stride, pad


def im2col_loops(x, HH, WW, stride, pad):
    """The documented layout, entry by entry: cols[(c*HH + k)*WW + l, (n*H' + i)*W' + j] = x_pad[n, c, i*S + k, j*S + l]."""
    N, C, H, W = x.shape
    H_out = (H + 2 * pad - HH) // stride + 1
    W_out = (W + 2 * pad - WW) // stride + 1
    cols = np.zeros((C * HH * WW, N * H_out * W_out), dtype=x.dtype)
    for n, c, k, l, i, j in np.ndindex(N, C, HH, WW, H_out, W_out):
        row, column = i * stride + k - pad, j * stride + l - pad
        if 0 <= row < H and 0 <= column < W:
            cols[(c * HH + k) * WW + l, (n * H_out + i) * W_out + j] = x[n, c, row, column]
    return cols


@settings(max_examples=25, deadline=None)
@given(geometry=field_geometries(), seed=st.integers(0, 2**16))
def test_im2col_matches_the_documented_layout_and_the_compiled_kernel(geometry, seed):
    x_shape, HH, WW, stride, pad = geometry
    x = np.random.default_rng(seed).normal(size=x_shape)
    cols = im2col(x, HH, WW, stride, pad)
    np.testing.assert_array_equal(cols, im2col_loops(x, HH, WW, stride, pad))
    np.testing.assert_array_equal(cols, fast_im2col.im2col(x, HH, WW, stride, pad))


def test_im2col_of_the_3x3_example_lists_one_window_per_column():
    x = np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(im2col(x, 2, 2, 1, 0), [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_keeps_the_dtype_and_leaves_x_unchanged(dtype, rng):
    x = rng.normal(size=(2, 3, 5, 5)).astype(dtype)
    before = x.copy()
    cols = im2col(x, 3, 3, 2, 1)
    assert cols.dtype == dtype
    np.testing.assert_array_equal(x, before)


def test_im2col_rejects_a_stride_that_does_not_fit():
    with pytest.raises(ValueError, match=re.escape("(7 - 3 + 2*0) / 3 + 1 = 2.33 is not an integer")):
        im2col(np.zeros((1, 1, 7, 7)), 3, 3, 3, 0)


@settings(max_examples=25, deadline=None)
@given(geometry=field_geometries(), filters=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_conv_forward_im2col_matches_torch_for_any_geometry_that_fits(geometry, filters, seed):
    x_shape, HH, WW, stride, pad = geometry
    rng = np.random.default_rng(seed)
    x, w, b = rng.normal(size=x_shape), rng.normal(size=(filters, x_shape[1], HH, WW)), rng.normal(size=filters)
    out, _ = conv_forward_im2col(x, w, b, {"stride": stride, "pad": pad})
    expected = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=stride, padding=pad).numpy()
    assert out.shape == expected.shape
    assert rel_error(out, expected) < 1e-10


def test_conv_forward_im2col_cache_feeds_the_naive_backward_pass(rng):
    x, w, b = rng.normal(size=(3, 2, 6, 5)), rng.normal(size=(4, 2, 3, 2)), rng.normal(size=4)
    out, cache = conv_forward_im2col(x, w, b, {"stride": 1, "pad": 1})
    dout = rng.normal(size=out.shape)
    tensors = [torch.tensor(array, requires_grad=True) for array in (x, w, b)]
    F.conv2d(*tensors, stride=1, padding=1).backward(torch.tensor(dout))
    for got, tensor in zip(conv_backward_naive(dout, cache), tensors):
        assert rel_error(got, tensor.grad.numpy()) < 1e-10


def test_conv_forward_im2col_rejects_mismatched_channels():
    with pytest.raises(ValueError, match="channels"):
        conv_forward_im2col(np.zeros((1, 3, 5, 5)), np.zeros((2, 2, 3, 3)), np.zeros(2), {"stride": 1, "pad": 0})
