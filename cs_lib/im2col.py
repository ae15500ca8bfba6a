# ruff: noqa: F401, F841
"""im2col in numpy: a convolution becomes one matrix product.

Every output position of a convolution reads one HH x WW window of every channel. im2col copies
each window into a column, so the whole convolution is a single product with the filters as rows:

    cols = im2col(x, HH, WW, stride, pad)           # (C*HH*WW, N*H'*W')
    out = w.reshape(F, -1) @ cols + b[:, None]      # (F, N*H'*W'), then reshaped to (N, F, H', W')

The column layout (the same as the compiled cs_lib.fast_im2col.im2col, so the two can be compared):

    cols[(c*HH + k)*WW + l, (n*H' + i)*W' + j] = x_pad[n, c, i*stride + k, j*stride + l]

Rows run over (c, k, l) in the order of w[f].reshape(-1); columns over (n, i, j) in the order of
out[n, f].reshape(-1) for consecutive n. x_pad is x with pad zeros on every side.
"""

import numpy as np

from cs_lib.conv_layers import check_conv_inputs, field_output_shape


def im2col(x, HH, WW, stride=1, pad=0):
    """Columns of x (N, C, H, W) for an HH x WW field: an array (C*HH*WW, N*H'*W'), laid out as above.

    H' = 1 + (H + 2*pad - HH) / stride and W' = 1 + (W + 2*pad - WW) / stride. Use numpy only, no
    Python loop over output positions: either index arithmetic (build integer arrays of the rows and
    columns each entry reads and index x_pad with them) or np.lib.stride_tricks.as_strided (a
    (N, C, H', W', HH, WW) view of x_pad, then a transpose and a reshape). Return a new array with
    the dtype of x.
    """
    H_out, W_out = field_output_shape(x, HH, WW, stride, pad)
    N, C, H, W = x.shape
    cols = None
    # TODO: pad x, gather every window's entries with index arrays (or as_strided); return cols (C*HH*WW, N*H'*W')
    raise NotImplementedError(
        "im2col: pad x, gather every window's entries with index arrays (or as_strided); return cols (C*HH*WW, N*H'*W')"
    )
    return cols


def conv_forward_im2col(x, w, b, conv_param):
    """The convolution of conv_forward_naive computed as im2col followed by one matrix product.

    Inputs x (N, C, H, W), w (F, C, HH, WW), b (F,), conv_param {"stride", "pad"}; output
    out (N, F, H', W') with

        out[n, f] = (w.reshape(F, -1) @ cols + b[:, None]) for the columns of image n, reshaped (H', W')

    Returns (out, cache) with cache = (x, w, b, conv_param), the same cache as conv_forward_naive,
    so any of the convolution backward passes can use it.
    """
    stride, pad, H_out, W_out = check_conv_inputs(x, w, b, conv_param)
    b = np.asarray(b)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    out = None
    # TODO: build the columns with your im2col, compute the layer as one matrix product with the filters as rows plus the biases, and arrange it as out (N, F, H', W')
    raise NotImplementedError(
        "conv_forward_im2col: build the columns with your im2col, compute the layer as one matrix product with the filters as rows plus the biases, and arrange it as out (N, F, H', W')"
    )
    return out, (x, w, b, conv_param)
