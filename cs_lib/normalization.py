# ruff: noqa: F401, F841
"""Normalization layers (assignment 4): batch, layer, instance and group norm, and folding BN into a conv.

Every layer here normalises, then scales and shifts with learned gamma and beta:

    x_hat = (x - mean) / sqrt(var + eps)        out = gamma * x_hat + beta

They differ only in which entries one mean and one (biased) variance are taken over:

    batch norm     x (N, D):        over the N examples, for each feature       gamma, beta (D,)
    spatial BN     x (N, C, H, W):  over N, H and W, for each channel           gamma, beta (C,)
    layer norm     x (N, D):        over the D features, for each example       gamma, beta (D,)
    instance norm  x (N, C, H, W):  over H and W, for each example and channel  gamma, beta (C,)
    group norm     x (N, C, H, W):  over the C/G channels of a group and H, W,  gamma, beta (1, C, 1, 1)
                                    for each example and group

Only batch norm looks across examples, so only batch norm behaves differently at test time: it then
uses the running averages it kept during training. The backward functions differentiate train mode.
"""

import numpy as np


def _check_rank(x, letters, layer):
    if np.ndim(x) != len(letters):
        raise ValueError(f"{layer} expects x of shape ({', '.join(letters)}), got shape {np.shape(x)}")


def _check_scale_shift(gamma, beta, shape, layer, why):
    for name, value in (("gamma", gamma), ("beta", beta)):
        if np.shape(value) != shape:
            raise ValueError(f"{layer}: {name} must have shape {shape} ({why}), got shape {np.shape(value)}")


def _check_mode(bn_param):
    mode = bn_param.get("mode")
    if mode not in ("train", "test"):
        raise ValueError(f"bn_param['mode'] must be 'train' or 'test', got {mode!r}")
    return mode


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization of x (N, D), each of the D features over the N examples.

    gamma, beta: (D,) scale and shift. bn_param: dict with
      - 'mode': 'train' or 'test' (required);
      - 'eps' (default 1e-5), 'momentum' (default 0.9);
      - 'running_mean', 'running_var': (D,), zeros when absent; updated in train mode.

    train:  mean = (1/N) sum_i x_i,  var = (1/N) sum_i (x_i - mean)^2   (biased: divide by N)
            out = gamma * (x - mean) / sqrt(var + eps) + beta
            running_mean = momentum * running_mean + (1 - momentum) * mean
            running_var  = momentum * running_var  + (1 - momentum) * var
    test:   out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta  (no batch statistics)

    (torch.nn.functional.batch_norm weights the new value by its momentum, 0.1 by default, and feeds
    the unbiased variance, divided by N - 1, into its running_var.)
    Returns out (N, D) and a cache for batchnorm_backward / batchnorm_backward_alt (train mode).
    """
    _check_rank(x, "ND", "batchnorm_forward")
    mode = _check_mode(bn_param)
    N, D = x.shape
    _check_scale_shift(gamma, beta, (D,), "batchnorm_forward", f"one per feature, D = {D}")
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    out, cache = None, None
    if mode == "train":
        # TODO: normalise with batch statistics, scale, shift, update the running stats; set out, cache
        raise NotImplementedError(
            "batchnorm_forward: normalise with batch statistics, scale, shift, update the running stats; set out, cache"
        )
    else:
        # TODO: normalise with running_mean and running_var (never the batch's), scale, shift; set out
        raise NotImplementedError(
            "batchnorm_forward: normalise with running_mean and running_var (never the batch's), scale, shift; set out"
        )
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    """Gradients of train-mode batchnorm_forward, one node of the computational graph at a time.

    dout (N, D) upstream gradient. Walk the graph of the forward pass backwards:
    mean -> x_centered = x - mean -> var = mean(x_centered^2) -> inv_std = 1/sqrt(var + eps)
    -> x_hat = x_centered * inv_std -> out = gamma * x_hat + beta; x reaches the output through
    x_centered directly and through mean (and var), and every path contributes to dx.
    Returns dx (N, D), dgamma (D,), dbeta (D,).
    """
    dx, dgamma, dbeta = None, None, None
    # TODO: backpropagate node by node through the forward graph; set dx, dgamma, dbeta
    raise NotImplementedError(
        "batchnorm_backward: backpropagate node by node through the forward graph; set dx, dgamma, dbeta"
    )
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """The same gradients as batchnorm_backward, from the closed form you derive in the notebook.

    No walk through the graph: dx in one vectorised expression of x_hat, dout * gamma, the batch's
    standard deviation sqrt(var + eps) and means over the N examples of each feature.
    dout (N, D); returns dx (N, D), dgamma (D,), dbeta (D,).
    """
    dx, dgamma, dbeta = None, None, None
    # TODO: compute dx with the closed form you derived, and dgamma, dbeta; set dx, dgamma, dbeta
    raise NotImplementedError(
        "batchnorm_backward_alt: compute dx with the closed form you derived, and dgamma, dbeta; set dx, dgamma, dbeta"
    )
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization of x (N, C, H, W): each channel over all N*H*W of its positions.

    gamma, beta: (C,). bn_param as for batchnorm_forward (running statistics of shape (C,)).
    Every position of a channel is one more example of that channel's feature, so this is
    batchnorm_forward on x with channels last, reshaped to (N*H*W, C).
    Returns out (N, C, H, W) and a cache for spatial_batchnorm_backward.
    """
    _check_rank(x, "NCHW", "spatial_batchnorm_forward")
    N, C, H, W = x.shape
    _check_scale_shift(gamma, beta, (C,), "spatial_batchnorm_forward", f"one per channel, C = {C}")
    out, cache = None, None
    # TODO: reshape x to (N*H*W, C) with channels last, call batchnorm_forward; set out, cache
    raise NotImplementedError(
        "spatial_batchnorm_forward: reshape x to (N*H*W, C) with channels last, call batchnorm_forward; set out, cache"
    )
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    """Gradients of spatial_batchnorm_forward: dout (N, C, H, W) -> dx (N, C, H, W), dgamma, dbeta (C,)."""
    dx, dgamma, dbeta = None, None, None
    # TODO: reshape like the forward pass, call batchnorm_backward_alt; set dx, dgamma, dbeta
    raise NotImplementedError(
        "spatial_batchnorm_backward: reshape like the forward pass, call batchnorm_backward_alt; set dx, dgamma, dbeta"
    )
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    """Layer normalization of x (N, D): each example over its own D features.

    gamma, beta: (D,). ln_param: dict with 'eps' (default 1e-5); no running statistics, since
    nothing depends on the other examples, and train and test mode are the same.
        mean_i = (1/D) sum_d x_id,   var_i = (1/D) sum_d (x_id - mean_i)^2
        out_id = gamma_d * (x_id - mean_i) / sqrt(var_i + eps) + beta_d
    Returns out (N, D) and a cache for layernorm_backward.
    """
    _check_rank(x, "ND", "layernorm_forward")
    D = x.shape[1]
    _check_scale_shift(gamma, beta, (D,), "layernorm_forward", f"one per feature, D = {D}")
    out, cache = None, None
    # TODO: normalise each row with its own mean and variance, scale, shift; set out, cache
    raise NotImplementedError(
        "layernorm_forward: normalise each row with its own mean and variance, scale, shift; set out, cache"
    )
    return out, cache


def layernorm_backward(dout, cache):
    """Gradients of layernorm_forward: dout (N, D) -> dx (N, D), dgamma (D,), dbeta (D,).

    Your closed form of batch norm's backward pass, with the means taken over each row's D features
    instead of over the batch (dgamma and dbeta still sum over the examples).
    """
    dx, dgamma, dbeta = None, None, None
    # TODO: closed form over each row's features; set dx, dgamma, dbeta
    raise NotImplementedError("layernorm_backward: closed form over each row's features; set dx, dgamma, dbeta")
    return dx, dgamma, dbeta


def spatial_instancenorm_forward(x, gamma, beta, in_param):
    """Instance normalization of x (N, C, H, W): each channel of each example over its H*W positions.

    gamma, beta: (C,). in_param: dict with 'eps' (default 1e-5); train and test mode are the same.
        mean_nc = (1/(H*W)) sum_hw x_nchw,   var_nc likewise (biased)
        out_nchw = gamma_c * (x_nchw - mean_nc) / sqrt(var_nc + eps) + beta_c
    Returns out (N, C, H, W) and a cache for spatial_instancenorm_backward.
    """
    _check_rank(x, "NCHW", "spatial_instancenorm_forward")
    C = x.shape[1]
    _check_scale_shift(gamma, beta, (C,), "spatial_instancenorm_forward", f"one per channel, C = {C}")
    out, cache = None, None
    # TODO: normalise each (n, c) plane over axes (2, 3), scale, shift; set out, cache
    raise NotImplementedError(
        "spatial_instancenorm_forward: normalise each (n, c) plane over axes (2, 3), scale, shift; set out, cache"
    )
    return out, cache


def spatial_instancenorm_backward(dout, cache):
    """Gradients of spatial_instancenorm_forward: dout (N, C, H, W) -> dx (N, C, H, W), dgamma, dbeta (C,).

    The closed form with means over the H*W positions of each (n, c) plane.
    """
    dx, dgamma, dbeta = None, None, None
    # TODO: closed form over axes (2, 3) of each plane; set dx, dgamma, dbeta
    raise NotImplementedError(
        "spatial_instancenorm_backward: closed form over axes (2, 3) of each plane; set dx, dgamma, dbeta"
    )
    return dx, dgamma, dbeta


def _check_groups(C, G):
    if isinstance(G, bool) or not isinstance(G, (int, np.integer)) or G < 1:
        raise ValueError(f"the number of groups G must be a positive integer, got {G!r}")
    if C % G:
        raise ValueError(f"G = {G} groups do not divide C = {C} channels: {C} / {G} = {C / G:.2f} is not an integer")


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Group normalization of x (N, C, H, W): channels c = g*C/G ... (g+1)*C/G - 1 form group g, and each
    group of each example is normalised over its C/G * H * W entries.

    gamma, beta: (1, C, 1, 1) (one per channel, shaped to broadcast against x). G divides C.
    gn_param: dict with 'eps' (default 1e-5). G = 1 is layer norm over (C, H, W); G = C is instance norm.
        x reshaped to (N, G, C/G * H * W); mean_ng, var_ng over the last axis (biased)
        out = gamma * x_hat + beta, with x_hat reshaped back to (N, C, H, W)
    Returns out (N, C, H, W) and a cache for spatial_groupnorm_backward.
    """
    _check_rank(x, "NCHW", "spatial_groupnorm_forward")
    N, C, H, W = x.shape
    _check_groups(C, G)
    _check_scale_shift(gamma, beta, (1, C, 1, 1), "spatial_groupnorm_forward", f"one per channel, C = {C}")
    out, cache = None, None
    # TODO: normalise x viewed as (N, G, C//G*H*W) over its last axis, scale, shift; set out, cache
    raise NotImplementedError(
        "spatial_groupnorm_forward: normalise x viewed as (N, G, C//G*H*W) over its last axis, scale, shift; set out, cache"
    )
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    """Gradients of spatial_groupnorm_forward: dout (N, C, H, W) -> dx (N, C, H, W), dgamma, dbeta.

    dgamma and dbeta have gamma's shape (1, C, 1, 1). dx is the closed form with means over the
    C/G * H * W entries of each group, in the (N, G, C/G*H*W) view.
    """
    dx, dgamma, dbeta = None, None, None
    # TODO: closed form in the (N, G, C//G*H*W) view; set dx, dgamma, dbeta of (1, C, 1, 1)
    raise NotImplementedError(
        "spatial_groupnorm_backward: closed form in the (N, G, C//G*H*W) view; set dx, dgamma, dbeta of (1, C, 1, 1)"
    )
    return dx, dgamma, dbeta


def fold_batchnorm(w, b, gamma, beta, running_mean, running_var, eps=1e-5):
    """Weights and bias of one layer equal to that layer followed by test-mode batch norm.

    conv:   w (F, C, HH, WW), b (F,), BN over the F output channels: gamma, beta, running_* (F,)
    affine: w (D, M), b (M,) (out = x @ w + b), BN over the M outputs: gamma, beta, running_* (M,)

    The folded layer must give, for every input x, what the layer followed by test-mode batch norm
    (with eps) gives; the notebook asks you to derive w_folded and b_folded first.
    Returns w_folded (the shape of w) and b_folded (F,) or (M,).
    """
    if np.ndim(w) == 4:
        outputs, layer = np.shape(w)[0], "conv weights (F, C, HH, WW)"
    elif np.ndim(w) == 2:
        outputs, layer = np.shape(w)[1], "affine weights (D, M)"
    else:
        raise ValueError(
            f"fold_batchnorm expects conv weights (F, C, HH, WW) or affine weights (D, M), got shape {np.shape(w)}"
        )
    vectors = {"b": b, "gamma": gamma, "beta": beta, "running_mean": running_mean, "running_var": running_var}
    for name, value in vectors.items():
        if np.shape(value) != (outputs,):
            raise ValueError(
                f"fold_batchnorm: {name} must have shape ({outputs},) for {layer} of shape {np.shape(w)}, "
                f"got {np.shape(value)}"
            )
    w_folded, b_folded = None, None
    # TODO: compute the weights and bias you derived for the layer followed by test-mode batch norm; set w_folded, b_folded
    raise NotImplementedError(
        "fold_batchnorm: compute the weights and bias you derived for the layer followed by test-mode batch norm; set w_folded, b_folded"
    )
    return w_folded, b_folded
