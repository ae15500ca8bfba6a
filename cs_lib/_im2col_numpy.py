"""Pure-numpy stand-ins for the compiled kernels in ``_im2col_cython.pyx``.

Same signatures and layouts, used only when the extension could not be built
(no C compiler at install time). Correct but several times slower: each loop
runs over the HH*WW kernel offsets and copies a strided slice of the padded
input at a time.
"""

import numpy as np


def _padded(x, pad_h, pad_w):
    return np.pad(x, ((0, 0), (0, 0), (pad_h, pad_h), (pad_w, pad_w)))


def im2col(x, cols, HH, WW, stride_h, stride_w, pad_h, pad_w):
    N, C, H, W = x.shape
    Ho = (H + 2 * pad_h - HH) // stride_h + 1
    Wo = (W + 2 * pad_w - WW) // stride_w + 1
    xp = _padded(x, pad_h, pad_w)
    view = cols.reshape(C, HH, WW, N, Ho, Wo)
    for kh in range(HH):
        for kw in range(WW):
            window = xp[:, :, kh : kh + stride_h * Ho : stride_h, kw : kw + stride_w * Wo : stride_w]
            view[:, kh, kw] = window.transpose(1, 0, 2, 3)


def col2im(cols, dx, HH, WW, stride_h, stride_w, pad_h, pad_w):
    N, C, H, W = dx.shape
    Ho = (H + 2 * pad_h - HH) // stride_h + 1
    Wo = (W + 2 * pad_w - WW) // stride_w + 1
    dxp = np.zeros((N, C, H + 2 * pad_h, W + 2 * pad_w), dtype=dx.dtype)
    view = cols.reshape(C, HH, WW, N, Ho, Wo)
    for kh in range(HH):
        for kw in range(WW):
            window = view[:, kh, kw].transpose(1, 0, 2, 3)
            dxp[:, :, kh : kh + stride_h * Ho : stride_h, kw : kw + stride_w * Wo : stride_w] += window
    dx += dxp[:, :, pad_h : pad_h + H, pad_w : pad_w + W]


def max_pool_forward(x, out, argmax, pool_h, pool_w, stride_h, stride_w):
    N, C, H, W = x.shape
    Ho, Wo = out.shape[2:]
    rows = np.arange(Ho)[:, None] * stride_h
    columns = np.arange(Wo)[None, :] * stride_w
    best = x[:, :, : stride_h * Ho : stride_h, : stride_w * Wo : stride_w].copy()
    best_index = np.broadcast_to(rows * W + columns, out.shape).astype(np.int32)
    for i in range(pool_h):
        for j in range(pool_w):
            if i == j == 0:
                continue
            window = x[:, :, i : i + stride_h * Ho : stride_h, j : j + stride_w * Wo : stride_w]
            # strict ">" keeps the first maximum in scan order, as the compiled kernel and torch do
            better = (window > best) | np.isnan(window)
            best = np.where(better, window, best)
            best_index = np.where(better, (rows + i) * W + columns + j, best_index)
    out[...] = best
    argmax[...] = best_index


def max_pool_backward(dout, argmax, dx):
    N, C, H, W = dx.shape
    flat = dx.reshape(N * C, H * W)
    plane = np.repeat(np.arange(N * C), dout.shape[2] * dout.shape[3])
    np.add.at(flat, (plane, argmax.reshape(-1)), dout.reshape(-1))
