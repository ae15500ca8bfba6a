# ruff: noqa: F401, F841
"""Modular layers for fully connected networks (assignment 2).

Every layer is a pair of pure functions, as in the lecture's computational graphs:

    out, cache = affine_forward(x, w, b)       # the forward pass keeps what the backward pass needs
    dx, dw, db = affine_backward(dout, cache)  # gradients in the order of the forward inputs

The loss layers end a network: ``loss, dx = softmax_loss(scores, y)``. Shapes use the lecture's
letters: N examples, D input dimensions (d1 * ... * dk), M outputs, C classes.
"""

import math

import numpy as np

DROPOUT_MODES = ("train", "test")


def _check_scores_and_labels(x, y, name):
    """Scores x (N, C) and integer labels y (N,) with 0 <= y[i] < C, or a ValueError naming the numbers."""
    if np.ndim(x) != 2:
        raise ValueError(f"{name}: scores x must be (N, C), got shape {np.shape(x)}")
    N, C = x.shape
    if np.shape(y) != (N,):
        raise ValueError(f"{name}: labels y must have shape ({N},) to match x {x.shape}, got {np.shape(y)}")
    if N and (np.min(y) < 0 or np.max(y) >= C):
        low, high = np.min(y), np.max(y)
        raise ValueError(f"{name}: labels must lie in 0..{C - 1} for {C} classes, got {low}..{high}")


def affine_forward(x, w, b):
    """Fully connected (affine) layer: out = x.reshape(N, D) @ w + b.

    x: (N, d1, ..., dk), each example flattened to a row of D = d1 * ... * dk numbers
       (CIFAR-10 images (N, 3, 32, 32) give D = 3072).
    w: (D, M) weights, b: (M,) biases.
    Returns out (N, M) and cache = (x, w, b).
    Example: x (2, 4, 5, 6) gives D = 120; with w (120, 3) and b (3,) out is (2, 3).
    """
    N = x.shape[0]
    D = math.prod(x.shape[1:])
    if w.ndim != 2 or w.shape[0] != D:
        raise ValueError(f"affine_forward: x {x.shape} flattens to D = {D} columns but w has shape {w.shape}")
    if b.shape != (w.shape[1],):
        M = w.shape[1]
        raise ValueError(f"affine_forward: b must have shape ({M},) to match w {w.shape}, got {b.shape}")
    out = None
    # TODO: flatten each example to a row (x.reshape(N, D)); set out = x_flat @ w + b, (N, M)
    raise NotImplementedError(
        "affine_forward: flatten each example to a row (x.reshape(N, D)); set out = x_flat @ w + b, (N, M)"
    )
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """Backward pass of affine_forward.

    dout: (N, M) upstream gradient dL/dout; cache = (x, w, b) from the forward pass.
    With x_flat = x.reshape(N, D):
        dx = (dout @ w.T) reshaped to x's shape (N, d1, ..., dk)
        dw = x_flat.T @ dout  (D, M)
        db = sum of dout over the N examples  (M,)
    Returns (dx, dw, db).
    """
    x, w, b = cache
    dx, dw, db = None, None, None
    # TODO: set dx (x's shape), dw = x_flat.T @ dout (D, M) and db = dout summed over N (M,)
    raise NotImplementedError(
        "affine_backward: set dx (x's shape), dw = x_flat.T @ dout (D, M) and db = dout summed over N (M,)"
    )
    return dx, dw, db


def relu_forward(x):
    """Rectified linear unit, elementwise: out = max(0, x), any shape.

    Returns out (same shape as x) and cache = x.
    """
    out = None
    # TODO: compute out = max(0, x) elementwise (same shape as x)
    raise NotImplementedError("relu_forward: compute out = max(0, x) elementwise (same shape as x)")
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """Backward pass of relu_forward: dx = dout where x > 0, else 0 (the gradient at x = 0 is taken as 0).

    dout: upstream gradient, same shape as x; cache = x. Returns dx.
    """
    x = cache
    dx = None
    # TODO: pass dout through where the forward input x was positive, zero elsewhere; set dx
    raise NotImplementedError(
        "relu_backward: pass dout through where the forward input x was positive, zero elsewhere; set dx"
    )
    return dx


def softmax_loss(x, y):
    """Softmax (cross-entropy) loss averaged over the N examples, and its gradient.

    x: (N, C) class scores; y: (N,) labels with 0 <= y[i] < C.
        p[i, j] = exp(x[i, j]) / sum_k exp(x[i, k])
        loss    = -(1/N) sum_i log p[i, y[i]]
        dx      = (p - onehot(y)) / N        (N, C)
    Subtract each row's maximum before exponentiating: p is unchanged and exp cannot overflow.
    Returns (loss, dx).
    """
    _check_scores_and_labels(x, y, "softmax_loss")
    loss, dx = None, None
    # TODO: shift rows by their maximum; set the mean loss and dx = (p - onehot(y)) / N
    raise NotImplementedError(
        "softmax_loss: shift rows by their maximum; set the mean loss and dx = (p - onehot(y)) / N"
    )
    return loss, dx


def svm_loss(x, y):
    """Multiclass SVM (hinge) loss averaged over the N examples, and its gradient.

    x: (N, C) class scores; y: (N,) labels with 0 <= y[i] < C.
        margin[i, j] = max(0, x[i, j] - x[i, y[i]] + 1)   for j != y[i]
        loss         = (1/N) sum_i sum_{j != y[i]} margin[i, j]
    Each positive margin adds 1/N to dx[i, j] and subtracts 1/N from dx[i, y[i]].
    Returns (loss, dx) with dx (N, C).
    """
    _check_scores_and_labels(x, y, "svm_loss")
    loss, dx = None, None
    # TODO: hinge margins (the correct class adds nothing); set the mean loss and dx (N, C)
    raise NotImplementedError(
        "svm_loss: hinge margins (the correct class adds nothing); set the mean loss and dx (N, C)"
    )
    return loss, dx


def _dropout_settings(dropout_param):
    if not isinstance(dropout_param, dict) or "p" not in dropout_param or "mode" not in dropout_param:
        raise ValueError(f"dropout_param must be a dict with 'mode' and 'p', got {dropout_param!r}")
    p, mode = dropout_param["p"], dropout_param["mode"]
    if not 0 < p <= 1:
        raise ValueError(f"dropout keep probability p must satisfy 0 < p <= 1, got p = {p}")
    if mode not in DROPOUT_MODES:
        raise ValueError(f"dropout mode must be 'train' or 'test', got {mode!r}")
    return p, mode


def dropout_forward(x, dropout_param):
    """Inverted dropout: keep each unit with probability p and scale the kept ones by 1/p.

    x: input of any shape. dropout_param:
      - 'mode': 'train' applies dropout; 'test' returns x unchanged (the identity);
      - 'p': the probability of KEEPING a unit, 0 < p <= 1;
      - 'seed' (optional): draw the mask from np.random.default_rng(seed), so that one seed always
        gives the same mask (gradient checks need that).
    Training: mask = (uniform random numbers of x's shape < p) / p and out = x * mask, so that
    E[out] = x and nothing needs rescaling at test time. Make the mask x's dtype (float32 stays float32).
    Example: p = 0.5 keeps about half the units and doubles them: x = [1, 2, 3, 4] may give [2, 0, 0, 8].
    Returns out (same shape and dtype as x) and cache = (dropout_param, mask); mask is None in test mode.
    """
    p, mode = _dropout_settings(dropout_param)
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = None
    out = None
    if mode == "train":
        # TODO: draw mask = (rng.random(x.shape) < p) / p in x's dtype and set out = x * mask
        raise NotImplementedError(
            "dropout_forward: draw mask = (rng.random(x.shape) < p) / p in x's dtype and set out = x * mask"
        )
    else:
        # TODO: test mode: out = x (inverted dropout needs no rescaling at test time)
        raise NotImplementedError(
            "dropout_forward: test mode: out = x (inverted dropout needs no rescaling at test time)"
        )
    cache = (dict(dropout_param), mask)  # a copy: the caller may switch the mode before backward
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    """Backward pass of dropout_forward: dx = dout * mask in training mode (the forward pass's own mask),
    dx = dout in test mode. dout has x's shape. Returns dx.
    """
    dropout_param, mask = cache
    dx = None
    # TODO: reuse the cached mask (never draw a new one): dx = dout * mask (train), dout (test)
    raise NotImplementedError(
        "dropout_backward: reuse the cached mask (never draw a new one): dx = dout * mask (train), dout (test)"
    )
    return dx.astype(dout.dtype, copy=False)
