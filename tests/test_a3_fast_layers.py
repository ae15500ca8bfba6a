"""The provided fast layers (cs_lib.fast_layers, cs_lib.fast_im2col) with both kernel backends, against torch.

Every test runs with the compiled kernels (cs_lib._im2col_cython) and with the pure-numpy fallback
(cs_lib._im2col_numpy), which must agree with each other and with torch.nn.functional: every stride,
pad, non-square kernel and input, overlapping pools, ties, float32 and float64.
"""

import contextlib
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_lib import _im2col_numpy, fast_im2col, fast_layers, layer_utils
from cs_lib.conv_layers import conv_backward_naive, conv_forward_naive, max_pool_backward_naive, max_pool_forward_naive
from cs_lib.fast_layers import conv_backward_fast, conv_forward_fast, max_pool_backward_fast, max_pool_forward_fast
from cs_lib.gradient_check import rel_error

try:
    from cs_lib import _im2col_cython
except ImportError:  # tests of the compiled backend are skipped, the numpy one still runs
    _im2col_cython = None

from geometries import conv_geometries, pool_geometries

pytestmark = pytest.mark.a3

BACKENDS = ["cython", "numpy"]
DTYPES = [np.float32, np.float64]


@contextlib.contextmanager
def kernels(backend):
    """Run the fast layers with the named kernel module."""
    module = {"cython": _im2col_cython, "numpy": _im2col_numpy}[backend]
    if module is None:
        pytest.skip("the compiled extension is not built")
    saved = fast_im2col._kernels
    fast_im2col._kernels = module
    try:
        yield
    finally:
        fast_im2col._kernels = saved


def close_to(actual, expected, dtype, name):
    """float64 results agree to round-off; float32 ones to float32 precision of the largest entries."""
    assert actual.dtype == dtype, f"{name} has dtype {actual.dtype}, expected {np.dtype(dtype)}"
    scale = max(1.0, float(np.abs(expected).max())) if expected.size else 1.0
    tolerance = 1e-10 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(actual, expected, rtol=tolerance, atol=tolerance * scale, err_msg=name)


def torch_conv(x, w, b, stride, pad, dout):
    tensors = [torch.tensor(np.asarray(array, dtype=np.float64), requires_grad=True) for array in (x, w, b)]
    out = F.conv2d(*tensors, stride=stride, padding=pad)
    out.backward(torch.tensor(np.asarray(dout, dtype=np.float64)))
    return out.detach().numpy(), [tensor.grad.numpy() for tensor in tensors]


def torch_pool(x, pool_param, dout):
    x_t = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    out = F.max_pool2d(x_t, (pool_param["pool_height"], pool_param["pool_width"]), stride=pool_param["stride"])
    out.backward(torch.tensor(np.asarray(dout, dtype=np.float64)))
    return out.detach().numpy(), x_t.grad.numpy()


@settings(max_examples=25, deadline=None)
@given(
    geometry=conv_geometries(max_filters=4, max_kernel=5, max_pad=3, max_out=5),
    backend=st.sampled_from(BACKENDS),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**16),
)
def test_fast_conv_forward_and_backward_match_torch_for_every_backend_and_dtype(geometry, backend, dtype, seed):
    x_shape, w_shape, stride, pad = geometry
    rng = np.random.default_rng(seed)
    x, w, b = (rng.normal(size=shape).astype(dtype) for shape in (x_shape, w_shape, (w_shape[0],)))
    with kernels(backend):
        out, cache = conv_forward_fast(x, w, b, {"stride": stride, "pad": pad})
        dout = rng.normal(size=out.shape).astype(dtype)
        dx, dw, db = conv_backward_fast(dout, cache)
    expected_out, (expected_dx, expected_dw, expected_db) = torch_conv(x, w, b, stride, pad, dout)
    close_to(out, expected_out, dtype, "out")
    close_to(dx, expected_dx, dtype, "dx")
    close_to(dw, expected_dw, dtype, "dw")
    close_to(db, expected_db, dtype, "db")


@settings(max_examples=25, deadline=None)
@given(
    geometry=pool_geometries(max_stride=4),
    backend=st.sampled_from(BACKENDS),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**16),
)
def test_fast_max_pool_matches_torch_on_tiling_and_overlapping_windows(geometry, backend, dtype, seed):
    x_shape, pool_param = geometry
    rng = np.random.default_rng(seed)
    x = rng.normal(size=x_shape).astype(dtype)
    with kernels(backend):
        out, cache = max_pool_forward_fast(x, pool_param)
        dout = rng.normal(size=out.shape).astype(dtype)
        dx = max_pool_backward_fast(dout, cache)
    expected_out, expected_dx = torch_pool(x, pool_param, dout)
    close_to(out, expected_out, dtype, "out")
    close_to(dx, expected_dx, dtype, "dx")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "x_shape, pool_param, path",
    [
        ((2, 3, 8, 6), {"pool_height": 2, "pool_width": 2, "stride": 2}, "reshape"),
        ((2, 3, 7, 9), {"pool_height": 3, "pool_width": 3, "stride": 2}, "general"),  # AlexNet's overlapping pool
        ((1, 2, 6, 7), {"pool_height": 2, "pool_width": 3, "stride": 1}, "general"),
    ],
)
def test_fast_max_pool_sends_tied_gradients_to_the_first_maximum_like_torch(backend, x_shape, pool_param, path):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, size=x_shape).astype(np.float64)  # many ties
    with kernels(backend):
        out, cache = max_pool_forward_fast(x, pool_param)
        dout = rng.uniform(1.0, 2.0, size=out.shape)
        dx = max_pool_backward_fast(dout, cache)
    # tiling pools take the reshape path only without the compiled kernels (which are faster)
    assert cache[0] == (path if backend == "numpy" else "general")
    expected_out, expected_dx = torch_pool(x, pool_param, dout)
    np.testing.assert_array_equal(out, expected_out)
    np.testing.assert_allclose(dx, expected_dx, rtol=1e-14)


@pytest.mark.parametrize("backend", BACKENDS)
def test_fast_max_pool_propagates_nan_like_torch(backend):
    x = np.arange(2 * 7 * 7, dtype=np.float64).reshape(1, 2, 7, 7)
    x[0, 0, 1, 1] = np.nan
    pool_param = {"pool_height": 3, "pool_width": 3, "stride": 2}
    with kernels(backend):
        out, _ = max_pool_forward_fast(x, pool_param)
    expected = F.max_pool2d(torch.tensor(x), 3, stride=2).numpy()
    np.testing.assert_array_equal(np.isnan(out), np.isnan(expected))
    np.testing.assert_array_equal(out[~np.isnan(out)], expected[~np.isnan(expected)])


@settings(max_examples=20, deadline=None)
@given(
    geometry=conv_geometries(max_filters=4, max_kernel=5, max_pad=3, max_out=5),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**16),
)
def test_both_backends_build_identical_columns_and_adjoint_col2im(geometry, dtype, seed):
    if _im2col_cython is None:
        pytest.skip("the compiled extension is not built")
    x_shape, (_, _, HH, WW), stride, pad = geometry
    rng = np.random.default_rng(seed)
    x = rng.normal(size=x_shape).astype(dtype)
    H_out, W_out = fast_im2col.conv_output_shape(x_shape, HH, WW, stride, pad)
    upstream = rng.normal(size=(x_shape[1] * HH * WW, x_shape[0] * H_out * W_out)).astype(dtype)
    results = {}
    for backend in BACKENDS:
        with kernels(backend):
            results[backend] = (
                fast_im2col.im2col(x, HH, WW, stride, pad),
                fast_im2col.col2im(upstream, x_shape, HH, WW, stride, pad),
            )
    np.testing.assert_array_equal(results["cython"][0], results["numpy"][0])
    close_to(results["numpy"][1], results["cython"][1].astype(np.float64), dtype, "col2im")
    # col2im is im2col's adjoint: <im2col(x), c> = <x, col2im(c)>
    cols, back = results["cython"]
    left = float(np.sum(cols.astype(np.float64) * upstream))
    right = float(np.sum(x.astype(np.float64) * back))
    assert left == pytest.approx(right, rel=1e-4 if dtype == np.float32 else 1e-10, abs=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_fast_conv_is_correct_when_the_batch_spans_several_workspace_chunks(backend, monkeypatch):
    # three images' columns (C*HH*WW x H'*W' float64 each) per chunk: chunks of 3, 3 and 1 images
    monkeypatch.setattr(fast_layers, "WORKSPACE_BYTES", 3 * (4 * 3 * 3) * (5 * 5) * 8)
    rng = np.random.default_rng(11)
    x, w, b = rng.normal(size=(7, 4, 9, 9)), rng.normal(size=(5, 4, 3, 3)), rng.normal(size=5)
    with kernels(backend):
        out, cache = conv_forward_fast(x, w, b, {"stride": 2, "pad": 1})
        dout = rng.normal(size=out.shape)
        gradients = conv_backward_fast(dout, cache)
    expected_out, expected = torch_conv(x, w, b, 2, 1, dout)
    close_to(out, expected_out, np.float64, "out")
    for name, got, want in zip(("dx", "dw", "db"), gradients, expected):
        close_to(got, want, np.float64, name)


@pytest.mark.parametrize("backend", BACKENDS)
def test_fast_layers_accept_non_contiguous_inputs(backend):
    rng = np.random.default_rng(12)
    x = rng.normal(size=(2, 6, 7, 3)).transpose(0, 3, 1, 2)  # (2, 3, 6, 7), not C-contiguous
    w = rng.normal(size=(3, 3, 2, 4)).transpose(0, 1, 3, 2)
    b = rng.normal(size=3)
    with kernels(backend):
        out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
        dout = rng.normal(size=out.shape)
        gradients = conv_backward_fast(dout, cache)
        pooled, pool_cache = max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 3, "stride": 1})
        dx_pool = max_pool_backward_fast(np.ones_like(pooled), pool_cache)
    expected_out, expected = torch_conv(x, w, b, 1, 1, dout)
    close_to(out, expected_out, np.float64, "out")
    for name, got, want in zip(("dx", "dw", "db"), gradients, expected):
        close_to(got, want, np.float64, name)
    expected_pooled, expected_dx = torch_pool(x, {"pool_height": 2, "pool_width": 3, "stride": 1}, np.ones_like(pooled))
    close_to(pooled, expected_pooled, np.float64, "pooled")
    close_to(dx_pool, expected_dx, np.float64, "pool dx")


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_relu_pool_sandwich_matches_torch(dtype):
    rng = np.random.default_rng(13)
    x, w, b = (rng.normal(size=shape).astype(dtype) for shape in ((2, 3, 8, 6), (4, 3, 3, 3), (4,)))
    conv_param, pool_param = {"stride": 1, "pad": 1}, {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, cache = layer_utils.conv_relu_pool_forward(x, w, b, conv_param, pool_param)
    dout = rng.normal(size=out.shape).astype(dtype)
    gradients = layer_utils.conv_relu_pool_backward(dout, cache)
    relu_out, relu_cache = layer_utils.conv_relu_forward(x, w, b, conv_param)
    relu_gradients = layer_utils.conv_relu_backward(np.ones_like(relu_out), relu_cache)

    tensors = [torch.tensor(array.astype(np.float64), requires_grad=True) for array in (x, w, b)]
    relu_t = F.relu(F.conv2d(*tensors, padding=1))
    out_t = F.max_pool2d(relu_t, 2, stride=2)
    expected = torch.autograd.grad(out_t, tensors, torch.tensor(dout.astype(np.float64)), retain_graph=True)
    expected_relu = torch.autograd.grad(relu_t, tensors, torch.ones_like(relu_t))
    close_to(out, out_t.detach().numpy(), dtype, "conv_relu_pool out")
    close_to(relu_out, relu_t.detach().numpy(), dtype, "conv_relu out")
    for name, got, want in zip(("dx", "dw", "db"), gradients, expected):
        close_to(got, want.numpy(), dtype, f"conv_relu_pool {name}")
    for name, got, want in zip(("dx", "dw", "db"), relu_gradients, expected_relu):
        close_to(got, want.numpy(), dtype, f"conv_relu {name}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_fast_layers_agree_with_the_naive_layers_students_write(backend):
    rng = np.random.default_rng(14)
    x, w, b = rng.normal(size=(2, 3, 9, 7)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    conv_param, pool_param = {"stride": 2, "pad": 1}, {"pool_height": 3, "pool_width": 3, "stride": 2}
    with kernels(backend):
        out_fast, cache_fast = conv_forward_fast(x, w, b, conv_param)
        pooled_fast, pool_cache_fast = max_pool_forward_fast(x, pool_param)
        dout = rng.normal(size=out_fast.shape)
        fast_gradients = conv_backward_fast(dout, cache_fast)
        dpool = rng.normal(size=pooled_fast.shape)
        dx_pool_fast = max_pool_backward_fast(dpool, pool_cache_fast)
    out_naive, cache_naive = conv_forward_naive(x, w, b, conv_param)
    pooled_naive, pool_cache_naive = max_pool_forward_naive(x, pool_param)
    assert rel_error(out_fast, out_naive) < 1e-10
    for got, want in zip(fast_gradients, conv_backward_naive(dout, cache_naive)):
        assert rel_error(got, want) < 1e-10
    np.testing.assert_array_equal(pooled_fast, pooled_naive)
    np.testing.assert_array_equal(dx_pool_fast, max_pool_backward_naive(dpool, pool_cache_naive))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: conv_forward_fast(
                np.zeros((1, 1, 7, 7)), np.zeros((1, 1, 3, 3)), np.zeros(1), {"stride": 3, "pad": 0}
            ),
            ValueError,
            "2.33 is not an integer",
        ),
        (
            lambda: conv_forward_fast(
                np.zeros((1, 1, 7, 7)), np.zeros((1, 1, 3, 3)), np.zeros(2), {"stride": 1, "pad": 0}
            ),
            ValueError,
            "b must have shape (1,)",
        ),
        (
            lambda: max_pool_forward_fast(np.zeros((1, 1, 7, 7)), {"pool_height": 2, "pool_width": 2, "stride": 2}),
            ValueError,
            "3.50 is not an integer",
        ),
        (
            lambda: max_pool_forward_fast(np.zeros((1, 1, 7, 7)), {"pool_height": 2, "stride": 2}),
            ValueError,
            "missing ['pool_width']",
        ),
        (
            lambda: max_pool_forward_fast(
                np.zeros((1, 1, 4, 4), dtype=np.int32), {"pool_height": 2, "pool_width": 2, "stride": 2}
            ),
            TypeError,
            "float32 or float64",
        ),
    ],
)
def test_fast_layers_reject_invalid_parameters_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


@pytest.mark.parametrize("backend", BACKENDS)
def test_fast_pool_backward_rejects_an_upstream_gradient_of_the_wrong_shape(backend):
    with kernels(backend):
        _, cache = max_pool_forward_fast(np.zeros((1, 1, 7, 7)), {"pool_height": 3, "pool_width": 3, "stride": 2})
        with pytest.raises(ValueError, match="dout has shape"):
            max_pool_backward_fast(np.zeros((1, 1, 2, 2)), cache)
