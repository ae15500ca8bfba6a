# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled kernels behind cs_lib.fast_layers: im2col/col2im and max pooling.

Layouts (the lecture's letters): x is (N, C, H, W); a filter is (C, HH, WW);
the output has H' = 1 + (H + 2*pad_h - HH) // stride_h rows and W' columns.

``cols`` is (C*HH*WW, N*H'*W'), column n*H'*W' + h'*W' + w' for image n and
output position (h', w'), so that a convolution is one large matrix product
``w.reshape(F, -1) @ cols``: large products keep BLAS near its peak, which a
batch of small per-image products does not.

Padding is never materialised: for every kernel offset the range of output
columns that reads inside the image is computed with integer arithmetic and
the rest is zero-filled. All callers validate shapes first (cs_lib.fast_im2col).
"""

from cython cimport floating
from libc.stdint cimport int32_t


cdef inline Py_ssize_t _first_valid(Py_ssize_t offset, Py_ssize_t stride) noexcept nogil:
    # smallest o >= 0 with o*stride + offset >= 0
    if offset >= 0:
        return 0
    return (-offset + stride - 1) // stride


cdef inline Py_ssize_t _end_valid(Py_ssize_t offset, Py_ssize_t stride, Py_ssize_t size,
                                  Py_ssize_t out_size) noexcept nogil:
    # one past the largest o < out_size with o*stride + offset <= size - 1
    cdef Py_ssize_t top = size - 1 - offset
    cdef Py_ssize_t end
    if top < 0:
        return 0
    end = top // stride + 1
    return end if end < out_size else out_size


def im2col(floating[:, :, :, ::1] x, floating[:, ::1] cols,
           Py_ssize_t HH, Py_ssize_t WW, Py_ssize_t stride_h, Py_ssize_t stride_w,
           Py_ssize_t pad_h, Py_ssize_t pad_w):
    """Fill cols (C*HH*WW, N*H'*W') from x (N, C, H, W)."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t Ho = (H + 2 * pad_h - HH) // stride_h + 1
    cdef Py_ssize_t Wo = (W + 2 * pad_w - WW) // stride_w + 1
    cdef Py_ssize_t n, c, kh, kw, oh, ow, row, h, w0, lo, hi
    cdef floating *dst
    cdef floating *src
    with nogil:
        for c in range(C):
            for kh in range(HH):
                for kw in range(WW):
                    row = (c * HH + kh) * WW + kw
                    w0 = kw - pad_w
                    lo = _first_valid(w0, stride_w)
                    hi = _end_valid(w0, stride_w, W, Wo)
                    for n in range(N):
                        dst = &cols[row, n * Ho * Wo]
                        for oh in range(Ho):
                            h = oh * stride_h + kh - pad_h
                            if h < 0 or h >= H or lo >= hi:
                                for ow in range(Wo):
                                    dst[ow] = 0
                            else:
                                src = &x[n, c, h, 0]
                                for ow in range(lo):
                                    dst[ow] = 0
                                if stride_w == 1:
                                    for ow in range(lo, hi):
                                        dst[ow] = src[ow + w0]
                                else:
                                    for ow in range(lo, hi):
                                        dst[ow] = src[ow * stride_w + w0]
                                for ow in range(hi, Wo):
                                    dst[ow] = 0
                            dst += Wo


def col2im(floating[:, ::1] cols, floating[:, :, :, ::1] dx,
           Py_ssize_t HH, Py_ssize_t WW, Py_ssize_t stride_h, Py_ssize_t stride_w,
           Py_ssize_t pad_h, Py_ssize_t pad_w):
    """Accumulate cols (C*HH*WW, N*H'*W') into dx (N, C, H, W), which must start at zero."""
    cdef Py_ssize_t N = dx.shape[0], C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef Py_ssize_t Ho = (H + 2 * pad_h - HH) // stride_h + 1
    cdef Py_ssize_t Wo = (W + 2 * pad_w - WW) // stride_w + 1
    cdef Py_ssize_t n, c, kh, kw, oh, ow, row, h, w0, lo, hi
    cdef floating *src
    cdef floating *dst
    with nogil:
        for n in range(N):
            for c in range(C):
                for kh in range(HH):
                    for kw in range(WW):
                        row = (c * HH + kh) * WW + kw
                        w0 = kw - pad_w
                        lo = _first_valid(w0, stride_w)
                        hi = _end_valid(w0, stride_w, W, Wo)
                        src = &cols[row, n * Ho * Wo]
                        for oh in range(Ho):
                            h = oh * stride_h + kh - pad_h
                            if h >= 0 and h < H:
                                dst = &dx[n, c, h, 0]
                                if stride_w == 1:
                                    for ow in range(lo, hi):
                                        dst[ow + w0] += src[ow]
                                else:
                                    for ow in range(lo, hi):
                                        dst[ow * stride_w + w0] += src[ow]
                            src += Wo


def max_pool_forward(floating[:, :, :, ::1] x, floating[:, :, :, ::1] out, int32_t[:, :, :, ::1] argmax,
                     Py_ssize_t pool_h, Py_ssize_t pool_w, Py_ssize_t stride_h, Py_ssize_t stride_w):
    """Max over every window; argmax holds the flat index h*W + w of the winner.

    The winner is the first maximum in scan order, and a NaN always takes over (torch's rule).
    Loops run over window offsets outside and output columns inside, so the inner loop walks
    memory in order and has no data-dependent branches.
    """
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], W = x.shape[3]
    cdef Py_ssize_t Ho = out.shape[2], Wo = out.shape[3]
    cdef Py_ssize_t n, c, oh, ow, i, j, offset
    cdef bint better
    cdef floating value
    cdef floating *plane
    cdef floating *row
    cdef floating *out_row
    cdef int32_t *arg_row
    with nogil:
        for n in range(N):
            for c in range(C):
                plane = &x[n, c, 0, 0]
                for oh in range(Ho):
                    out_row = &out[n, c, oh, 0]
                    arg_row = &argmax[n, c, oh, 0]
                    row = plane + oh * stride_h * W
                    for ow in range(Wo):
                        out_row[ow] = row[ow * stride_w]
                        arg_row[ow] = <int32_t>(oh * stride_h * W + ow * stride_w)
                    for i in range(pool_h):
                        for j in range(pool_w):
                            if i == 0 and j == 0:
                                continue
                            offset = (oh * stride_h + i) * W + j
                            row = plane + offset
                            for ow in range(Wo):
                                value = row[ow * stride_w]
                                better = (value > out_row[ow]) | (value != value)
                                out_row[ow] = value if better else out_row[ow]
                                arg_row[ow] = <int32_t>(offset + ow * stride_w) if better else arg_row[ow]


def max_pool_backward(floating[:, :, :, ::1] dout, int32_t[:, :, :, ::1] argmax, floating[:, :, :, ::1] dx):
    """Route each upstream gradient to the input element that won its window; dx starts at zero."""
    cdef Py_ssize_t N = dout.shape[0], C = dout.shape[1], Ho = dout.shape[2], Wo = dout.shape[3]
    cdef Py_ssize_t n, c, k, positions = Ho * Wo
    cdef floating *plane
    cdef floating *grad
    cdef int32_t *winners
    with nogil:
        for n in range(N):
            for c in range(C):
                plane = &dx[n, c, 0, 0]
                grad = &dout[n, c, 0, 0]
                winners = &argmax[n, c, 0, 0]
                for k in range(positions):
                    plane[winners[k]] += grad[k]
