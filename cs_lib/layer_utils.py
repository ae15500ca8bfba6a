"""Sandwich layers (provided): common layer sequences as one forward/backward pair.

This is the one provided module that wires student layers together: it imports the student's
``cs_lib.layers`` (assignment 2) and ``cs_lib.normalization`` (assignment 4) when called, and the
provided fast convolution and pooling layers.

    out, cache = affine_relu_forward(x, w, b);              dx, dw, db = affine_relu_backward(dout, cache)
    out, cache = conv_relu_forward(x, w, b, conv_param);    dx, dw, db = conv_relu_backward(dout, cache)
    out, cache = conv_relu_pool_forward(x, w, b, conv_param, pool_param)
    out, cache = affine_norm_relu_forward(x, w, b, gamma, beta, norm_param, normalization)
"""

from cs_lib.fast_layers import conv_backward_fast, conv_forward_fast, max_pool_backward_fast, max_pool_forward_fast


def _layers():
    from cs_lib import layers

    return layers


def affine_relu_forward(x, w, b):
    """affine then ReLU: out = max(0, x.reshape(N, D) @ w + b)."""
    layers = _layers()
    a, fc_cache = layers.affine_forward(x, w, b)
    out, relu_cache = layers.relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout, cache):
    layers = _layers()
    fc_cache, relu_cache = cache
    da = layers.relu_backward(dout, relu_cache)
    return layers.affine_backward(da, fc_cache)


def conv_relu_forward(x, w, b, conv_param):
    """fast convolution then ReLU."""
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = _layers().relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout, cache):
    conv_cache, relu_cache = cache
    da = _layers().relu_backward(dout, relu_cache)
    return conv_backward_fast(da, conv_cache)


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """fast convolution, ReLU, then fast max pooling."""
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    s, relu_cache = _layers().relu_forward(a)
    out, pool_cache = max_pool_forward_fast(s, pool_param)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout, cache):
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward_fast(dout, pool_cache)
    da = _layers().relu_backward(ds, relu_cache)
    return conv_backward_fast(da, conv_cache)


def affine_norm_relu_forward(x, w, b, gamma, beta, norm_param, normalization):
    """affine, then batchnorm or layernorm (normalization = "batchnorm" | "layernorm"), then ReLU."""
    from cs_lib import normalization as norms

    layers = _layers()
    a, fc_cache = layers.affine_forward(x, w, b)
    if normalization == "batchnorm":
        an, norm_cache = norms.batchnorm_forward(a, gamma, beta, norm_param)
    elif normalization == "layernorm":
        an, norm_cache = norms.layernorm_forward(a, gamma, beta, norm_param)
    else:
        raise ValueError(f"normalization must be 'batchnorm' or 'layernorm', got {normalization!r}")
    out, relu_cache = layers.relu_forward(an)
    return out, (fc_cache, norm_cache, relu_cache, normalization)


def affine_norm_relu_backward(dout, cache):
    """Returns dx, dw, db, dgamma, dbeta."""
    from cs_lib import normalization as norms

    layers = _layers()
    fc_cache, norm_cache, relu_cache, normalization = cache
    dan = layers.relu_backward(dout, relu_cache)
    if normalization == "batchnorm":
        da, dgamma, dbeta = norms.batchnorm_backward_alt(dan, norm_cache)
    else:
        da, dgamma, dbeta = norms.layernorm_backward(dan, norm_cache)
    dx, dw, db = layers.affine_backward(da, fc_cache)
    return dx, dw, db, dgamma, dbeta
