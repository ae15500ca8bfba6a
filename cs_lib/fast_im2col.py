"""Validated entry points to the im2col/col2im and max-pool kernels.

The compiled Cython kernels (``cs_lib._im2col_cython``) are built by
``pip install -e .``. When they are missing (no C compiler at install time)
the pure-numpy kernels take over and one warning says so; nothing else changes.

Shapes use the lecture's letters: x (N, C, H, W), a field of HH x WW, and an
output of H' x W' with ``H' = 1 + (H + 2*pad - HH) / stride``.
"""

import warnings

import numpy as np

from cs_lib import _im2col_numpy as _numpy_kernels

try:
    from cs_lib import _im2col_cython as _kernels

    BACKEND = "cython"
except ImportError:  # the extension was not compiled
    _kernels = _numpy_kernels
    BACKEND = "numpy"
    warnings.warn(
        "cs_lib's compiled im2col extension is not built, so the fast layers use a slower pure-numpy "
        "fallback. Install a C compiler and rerun `pip install -e .` in the repository to build it.",
        RuntimeWarning,
        stacklevel=2,
    )

FLOAT_DTYPES = (np.float32, np.float64)


def using_compiled_kernels():
    """Whether the compiled kernels are in use (they can be swapped for the numpy ones, e.g. in tests)."""
    return _kernels is not _numpy_kernels


def _pair(value, name):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (height, width), got {value!r}")
        pair = tuple(value)
    else:
        pair = (value, value)
    for item in pair:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, got {item!r} of type {type(item).__name__}")
    return int(pair[0]), int(pair[1])


def output_size(size, field, stride, pad, axis="width"):
    """Return ``1 + (size + 2*pad - field) // stride`` after checking that the field fits exactly."""
    if stride <= 0:
        raise ValueError(f"stride must be positive, got {stride}")
    if pad < 0:
        raise ValueError(f"pad must be zero or positive, got {pad}")
    if field <= 0:
        raise ValueError(f"the field {axis} must be positive, got {field}")
    span = size + 2 * pad - field
    if span < 0:
        raise ValueError(
            f"a field of {axis} {field} does not fit an input of {axis} {size} with pad {pad}: "
            f"{size} + 2*{pad} = {size + 2 * pad} < {field}"
        )
    if span % stride:
        raise ValueError(
            f"stride {stride} does not fit along the {axis}: ({size} - {field} + 2*{pad}) / {stride} + 1 "
            f"= {span / stride + 1:.2f} is not an integer; change the stride or the pad"
        )
    return span // stride + 1


def check_float_array(x, name, ndim):
    """Clear errors for what the kernels cannot take, instead of a Cython buffer error."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(x).__name__}")
    if x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {x.shape}")
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{name} has dtype {x.dtype}; the fast layers take float32 or float64 "
            f"(convert with {name}.astype(np.float64))"
        )


def conv_output_shape(x_shape, HH, WW, stride=1, pad=0):
    """(H', W') for a field HH x WW over an input of shape (N, C, H, W)."""
    stride_h, stride_w = _pair(stride, "stride")
    pad_h, pad_w = _pair(pad, "pad")
    H, W = x_shape[2], x_shape[3]
    return output_size(H, HH, stride_h, pad_h, "height"), output_size(W, WW, stride_w, pad_w, "width")


def im2col(x, HH, WW, stride=1, pad=0, out=None):
    """Columns of x for an HH x WW field: shape (C*HH*WW, N*H'*W').

    Entry [(c*HH + kh)*WW + kw, (n*H' + h')*W' + w'] holds x[n, c, h'*stride + kh - pad, w'*stride + kw - pad],
    zero where that position reads the padding, so a convolution is ``w.reshape(F, -1) @ cols``.
    ``out`` may be a buffer to fill (its first C*HH*WW*N*H'*W' entries are used), to save allocations.
    """
    check_float_array(x, "x", 4)
    Ho, Wo = conv_output_shape(x.shape, HH, WW, stride, pad)
    stride_h, stride_w = _pair(stride, "stride")
    pad_h, pad_w = _pair(pad, "pad")
    N, C = x.shape[:2]
    x = np.ascontiguousarray(x)
    size = C * HH * WW * N * Ho * Wo
    if out is None or out.dtype != x.dtype or out.size < size:
        out = np.empty(size, dtype=x.dtype)
    cols = out.reshape(-1)[:size].reshape(C * HH * WW, N * Ho * Wo)
    _kernels.im2col(x, cols, HH, WW, stride_h, stride_w, pad_h, pad_w)
    return cols


def col2im(cols, x_shape, HH, WW, stride=1, pad=0):
    """The adjoint of im2col: sum every column entry back into the input position it was read from."""
    check_float_array(cols, "cols", 2)
    N, C, H, W = x_shape
    Ho, Wo = conv_output_shape(x_shape, HH, WW, stride, pad)
    if cols.shape != (C * HH * WW, N * Ho * Wo):
        raise ValueError(f"cols has shape {cols.shape}, expected {(C * HH * WW, N * Ho * Wo)} for x {x_shape}")
    stride_h, stride_w = _pair(stride, "stride")
    pad_h, pad_w = _pair(pad, "pad")
    dx = np.zeros(x_shape, dtype=cols.dtype)
    _kernels.col2im(np.ascontiguousarray(cols), dx, HH, WW, stride_h, stride_w, pad_h, pad_w)
    return dx


def max_pool(x, pool_height, pool_width, stride):
    """General max pooling (windows may overlap): returns (out, argmax) with argmax = h*W + w."""
    check_float_array(x, "x", 4)
    Ho, Wo = conv_output_shape(x.shape, pool_height, pool_width, stride, 0)
    stride_h, stride_w = _pair(stride, "stride")
    N, C = x.shape[:2]
    out = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    argmax = np.empty((N, C, Ho, Wo), dtype=np.int32)
    _kernels.max_pool_forward(np.ascontiguousarray(x), out, argmax, pool_height, pool_width, stride_h, stride_w)
    return out, argmax


def max_pool_scatter(dout, argmax, x_shape):
    """Gradient of max_pool: each dout entry goes to the input element that won its window."""
    dx = np.zeros(x_shape, dtype=dout.dtype)
    _kernels.max_pool_backward(np.ascontiguousarray(dout), argmax, dx)
    return dx
