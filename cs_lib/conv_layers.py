# ruff: noqa: F401, F841
"""Convolution and max pooling with explicit loops: the definitions, written to be read.

    out, cache = conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})   # x (N, C, H, W), w (F, C, HH, WW)
    dx, dw, db = conv_backward_naive(dout, cache)
    out, cache = max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    dx = max_pool_backward_naive(dout, cache)

They are slow (Python loops over every output position); cs_lib.fast_layers has the same API
and computes the same numbers quickly. The input checks at the top of each function are provided:
hyperparameters that do not fit raise ValueError with the numbers, like the fast layers.
"""

import numpy as np

from cs_lib.fast_im2col import check_float_array, output_size


def _integer(params, key, what):
    value = params[key]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what}[{key!r}] must be an integer, got {value!r} of type {type(value).__name__}")
    return int(value)


def field_output_shape(x, HH, WW, stride, pad):
    """(H', W') for an HH x WW field over x (N, C, H, W); ValueError when it does not fit exactly.

    H' = 1 + (H + 2*pad - HH) / stride and W' = 1 + (W + 2*pad - WW) / stride must be integers.
    """
    check_float_array(x, "x", 4)
    H, W = x.shape[2:]
    return output_size(H, HH, stride, pad, "height"), output_size(W, WW, stride, pad, "width")


def check_conv_inputs(x, w, b, conv_param):
    """Validate a convolution's inputs; return (stride, pad, H', W')."""
    check_float_array(w, "w", 4)
    if not isinstance(conv_param, dict) or not {"stride", "pad"} <= set(conv_param):
        raise ValueError(f"conv_param must be a dict with 'stride' and 'pad', got {conv_param!r}")
    stride = _integer(conv_param, "stride", "conv_param")
    pad = _integer(conv_param, "pad", "conv_param")
    F, C, HH, WW = w.shape
    H_out, W_out = field_output_shape(x, HH, WW, stride, pad)
    if x.shape[1] != C:
        raise ValueError(f"x has {x.shape[1]} channels but the filters w {w.shape} expect C = {C}")
    if np.shape(b) != (F,):
        raise ValueError(f"b must have shape ({F},) for {F} filters, got {np.shape(b)}")
    return stride, pad, H_out, W_out


def check_pool_inputs(x, pool_param):
    """Validate a max pool's inputs; return (pool_height, pool_width, stride, H', W')."""
    if not isinstance(pool_param, dict) or not {"pool_height", "pool_width", "stride"} <= set(pool_param):
        raise ValueError(f"pool_param must be a dict with 'pool_height', 'pool_width' and 'stride', got {pool_param!r}")
    pool_height = _integer(pool_param, "pool_height", "pool_param")
    pool_width = _integer(pool_param, "pool_width", "pool_param")
    stride = _integer(pool_param, "stride", "pool_param")
    H_out, W_out = field_output_shape(x, pool_height, pool_width, stride, 0)
    return pool_height, pool_width, stride, H_out, W_out


def conv_forward_naive(x, w, b, conv_param):
    """Forward pass of a convolutional layer, with loops.

    Inputs:
    - x: input data (N, C, H, W): N images, C channels, height H, width W
    - w: filters (F, C, HH, WW): F filters, each spanning all C channels, HH high and WW wide
    - b: biases (F,)
    - conv_param: {"stride": s, "pad": p}; pad zeros on all four sides of each image

    Output out (N, F, H', W') with H' = 1 + (H + 2*pad - HH) / stride, W' = 1 + (W + 2*pad - WW) / stride:

        out[n, f, i, j] = b[f] + sum_{c, k, l} w[f, c, k, l] * x_pad[n, c, i*stride + k, j*stride + l]

    where x_pad is x with pad zeros around each image (np.pad). Do not modify x.
    Returns (out, cache) with cache = (x, w, b, conv_param).
    """
    stride, pad, H_out, W_out = check_conv_inputs(x, w, b, conv_param)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    out = None
    # TODO: pad x, then loop over images n, filters f and output positions (i, j) to fill out (N, F, H', W')
    raise NotImplementedError(
        "conv_forward_naive: pad x, then loop over images n, filters f and output positions (i, j) to fill out (N, F, H', W')"
    )
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    """Backward pass of a convolutional layer, with loops.

    Inputs:
    - dout: upstream gradient dL/dout (N, F, H', W')
    - cache: (x, w, b, conv_param) as returned by conv_forward_naive

    Returns (dx, dw, db), shaped like (x, w, b): dx (N, C, H, W), dw (F, C, HH, WW), db (F,).
    Every output out[n, f, i, j] used one window of x_pad, the filter w[f] and the bias b[f]: it sends a
    share of dout[n, f, i, j] back to each of them, and the shares add up over n, i and j (windows
    overlap). Gradients that reach the padding are dropped: dx is the centre H x W of the padded gradient.
    """
    x, w, b, conv_param = cache
    stride, pad, H_out, W_out = check_conv_inputs(x, w, b, conv_param)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    if np.shape(dout) != (N, F, H_out, W_out):
        raise ValueError(f"dout has shape {np.shape(dout)}, expected the forward output's {(N, F, H_out, W_out)}")
    dx, dw, db = None, None, None
    # TODO: loop like the forward pass, adding each dout[n, f, i, j]'s share to dx (via a padded copy), dw and db
    raise NotImplementedError(
        "conv_backward_naive: loop like the forward pass, adding each dout[n, f, i, j]'s share to dx (via a padded copy), dw and db"
    )
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    """Forward pass of a max-pooling layer, with loops.

    Inputs:
    - x: input data (N, C, H, W)
    - pool_param: {"pool_height": PH, "pool_width": PW, "stride": s}. Windows may overlap (s < PW),
      like AlexNet's 3x3 pools with stride 2. No padding.

    Output out (N, C, H', W') with H' = 1 + (H - PH) / stride, W' = 1 + (W - PW) / stride:

        out[n, c, i, j] = max of x[n, c, i*stride : i*stride + PH, j*stride : j*stride + PW]

    Returns (out, cache) with cache = (x, pool_param).
    """
    pool_height, pool_width, stride, H_out, W_out = check_pool_inputs(x, pool_param)
    N, C, H, W = x.shape
    out = None
    # TODO: loop over n, c and output positions (i, j); out[n, c, i, j] is the max of that window
    raise NotImplementedError(
        "max_pool_forward_naive: loop over n, c and output positions (i, j); out[n, c, i, j] is the max of that window"
    )
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
    """Backward pass of a max-pooling layer, with loops.

    Inputs:
    - dout: upstream gradient (N, C, H', W')
    - cache: (x, pool_param) as returned by max_pool_forward_naive

    Returns dx (N, C, H, W). Each dout[n, c, i, j] goes to the ONE element of x that was the maximum of
    its window (when several tie, pick one of them, e.g. the first, as np.argmax does); every other
    element of the window gets nothing from it. When windows overlap an element can win several of
    them, and then its gradients add up.
    """
    x, pool_param = cache
    pool_height, pool_width, stride, H_out, W_out = check_pool_inputs(x, pool_param)
    N, C, H, W = x.shape
    if np.shape(dout) != (N, C, H_out, W_out):
        raise ValueError(f"dout has shape {np.shape(dout)}, expected the forward output's {(N, C, H_out, W_out)}")
    dx = None
    # TODO: for every window, add dout[n, c, i, j] to dx at the position of one maximum of that window
    raise NotImplementedError(
        "max_pool_backward_naive: for every window, add dout[n, c, i, j] to dx at the position of one maximum of that window"
    )
    return dx
