"""Fast convolution and max-pooling layers (provided, complete).

Same API as the naive layers students write in assignment 3::

    out, cache = conv_forward_fast(x, w, b, conv_param)     # x (N, C, H, W), w (F, C, HH, WW), b (F,)
    dx, dw, db = conv_backward_fast(dout, cache)
    out, cache = max_pool_forward_fast(x, pool_param)       # pool_height, pool_width, stride
    dx = max_pool_backward_fast(dout, cache)

Convolution is im2col (compiled) followed by a matrix product, so the heavy
lifting happens in BLAS; it runs over cache-sized chunks of images. Max pooling
runs a compiled kernel that handles any window, overlapping ones such as
AlexNet's 3x3 stride 2 included; without the compiled extension, windows that
tile the input exactly (pool == stride and the input divides) take a numpy
reshape path, which is then the fastest way. Gradients of tied maxima go to the first maximum in scan
order, exactly like torch.nn.functional.max_pool2d.
"""

import numpy as np

from cs_lib import fast_im2col
from cs_lib.fast_im2col import check_float_array, conv_output_shape

# Convolutions run over chunks of images whose im2col columns fit this budget, so the columns stay in
# cache between im2col and the matrix product instead of round-tripping through main memory.
WORKSPACE_BYTES = 2 * 2**20


def _conv_hyperparameters(conv_param):
    if not isinstance(conv_param, dict) or "stride" not in conv_param or "pad" not in conv_param:
        raise ValueError(f"conv_param must be a dict with 'stride' and 'pad', got {conv_param!r}")
    return conv_param["stride"], conv_param["pad"]


def _images_per_chunk(C, HH, WW, output_positions, itemsize):
    """How many images' columns fit the workspace budget (at least one)."""
    per_image = C * HH * WW * output_positions * itemsize
    return max(1, WORKSPACE_BYTES // per_image)


def conv_forward_fast(x, w, b, conv_param):
    """out (N, F, H', W') = w * x + b with H' = 1 + (H + 2*pad - HH) // stride."""
    check_float_array(x, "x", 4)
    check_float_array(w, "w", 4)
    b = np.asarray(b)
    F, C, HH, WW = w.shape
    if x.shape[1] != C:
        raise ValueError(f"x has {x.shape[1]} channels but the filters w {w.shape} expect C = {C}")
    if b.shape != (F,):
        raise ValueError(f"b must have shape ({F},) for {F} filters, got {b.shape}")
    stride, pad = _conv_hyperparameters(conv_param)
    N = x.shape[0]
    Ho, Wo = conv_output_shape(x.shape, HH, WW, stride, pad)
    dtype = np.result_type(x, w)
    x_dtype = x.dtype
    x = x.astype(dtype, copy=False)
    w_rows = w.reshape(F, -1).astype(dtype, copy=False)
    bias = b.astype(dtype, copy=False)[:, None]
    out = np.empty((N, F, Ho, Wo), dtype=dtype)
    out_rows = out.reshape(N, F, Ho * Wo)
    chunk = _images_per_chunk(C, HH, WW, Ho * Wo, x.itemsize)
    workspace = np.empty(C * HH * WW * min(chunk, N) * Ho * Wo, dtype=dtype)
    for start in range(0, N, chunk):
        cols = fast_im2col.im2col(x[start : start + chunk], HH, WW, stride, pad, out=workspace)
        count = cols.shape[1] // (Ho * Wo)
        # one product per image, written straight into its (F, H'*W') block of out: no transpose
        per_image = cols.reshape(-1, count, Ho * Wo).transpose(1, 0, 2)
        np.matmul(w_rows, per_image, out=out_rows[start : start + count])
    out_rows += bias
    return out, (x, w, conv_param, x_dtype)


def conv_backward_fast(dout, cache):
    """Gradients (dx, dw, db) of conv_forward_fast, in the order of its inputs."""
    x, w, conv_param, x_dtype = cache
    stride, pad = _conv_hyperparameters(conv_param)
    F, C, HH, WW = w.shape
    N = x.shape[0]
    Ho, Wo = conv_output_shape(x.shape, HH, WW, stride, pad)
    dout = np.asarray(dout, dtype=x.dtype)
    if dout.shape != (N, F, Ho, Wo):
        raise ValueError(f"dout has shape {dout.shape}, expected the forward output's {(N, F, Ho, Wo)}")
    w_columns = np.ascontiguousarray(w.reshape(F, -1).T, dtype=x.dtype)
    dx = np.empty_like(x)
    dw = np.zeros((F, C * HH * WW), dtype=x.dtype)
    chunk = _images_per_chunk(C, HH, WW, Ho * Wo, x.itemsize)
    workspace = np.empty(C * HH * WW * min(chunk, N) * Ho * Wo, dtype=x.dtype)
    for start in range(0, N, chunk):
        x_chunk = x[start : start + chunk]
        # recomputing the columns costs less than keeping them: they are H'*W'*HH*WW/(H*W) times
        # the size of x, and a cache-sized chunk is rebuilt faster than a large one is read back
        cols = fast_im2col.im2col(x_chunk, HH, WW, stride, pad, out=workspace)
        dout_rows = np.ascontiguousarray(dout[start : start + chunk].transpose(1, 0, 2, 3)).reshape(F, -1)
        dw += dout_rows @ cols.T
        dx[start : start + chunk] = fast_im2col.col2im(w_columns @ dout_rows, x_chunk.shape, HH, WW, stride, pad)
    db = dout.sum(axis=(0, 2, 3))
    return dx.astype(x_dtype, copy=False), dw.reshape(w.shape).astype(w.dtype, copy=False), db


def _pool_hyperparameters(pool_param):
    missing = {"pool_height", "pool_width", "stride"} - set(pool_param or {})
    if missing:
        raise ValueError(f"pool_param is missing {sorted(missing)}; it needs pool_height, pool_width and stride")
    return pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]


def max_pool_forward_fast(x, pool_param):
    """out (N, C, H', W') = max over each pool_height x pool_width window, H' = 1 + (H - pool_height) // stride."""
    check_float_array(x, "x", 4)
    pool_height, pool_width, stride = _pool_hyperparameters(pool_param)
    N, C, H, W = x.shape
    Ho, Wo = conv_output_shape(x.shape, pool_height, pool_width, stride, 0)
    tiles = pool_height == pool_width == stride and H == Ho * stride and W == Wo * stride
    # the compiled kernel beats the reshape trick even on tiling pools; numpy alone does not
    if tiles and not fast_im2col.using_compiled_kernels():
        windows = x.reshape(N, C, Ho, stride, Wo, stride).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, Ho, Wo, -1)
        first_max = windows.argmax(axis=-1)
        out = np.take_along_axis(windows, first_max[..., None], axis=-1)[..., 0]
        return out, ("reshape", x.shape, first_max, pool_param)
    out, argmax = fast_im2col.max_pool(x, pool_height, pool_width, stride)
    return out, ("general", x.shape, argmax, pool_param)


def max_pool_backward_fast(dout, cache):
    """Gradient of max_pool_forward_fast with respect to x."""
    path, x_shape, winners, pool_param = cache
    dout = np.asarray(dout)
    if dout.shape != winners.shape:
        raise ValueError(f"dout has shape {dout.shape}, expected {winners.shape} (the forward output)")
    if path == "general":
        return fast_im2col.max_pool_scatter(dout, winners, x_shape)
    N, C, H, W = x_shape
    stride = pool_param["stride"]
    Ho, Wo = winners.shape[2:]
    dwindows = np.zeros((N, C, Ho, Wo, stride * stride), dtype=dout.dtype)
    np.put_along_axis(dwindows, winners[..., None], dout[..., None], axis=-1)
    return dwindows.reshape(N, C, Ho, Wo, stride, stride).transpose(0, 1, 2, 4, 3, 5).reshape(x_shape)
