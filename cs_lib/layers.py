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
    """Fully connected (affine) layer: out = x_flat w + b, with x_flat each example of x flattened to a row.

    x: (N, d1, ..., dk), each example flattened to a row of D = d1 * ... * dk numbers, in row-major order
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
    # TODO: flatten each example of x to a row of D numbers and apply the affine map; set out (N, M)
    raise NotImplementedError(
        "affine_forward: flatten each example of x to a row of D numbers and apply the affine map; set out (N, M)"
    )
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """Backward pass of affine_forward.

    dout: (N, M) upstream gradient dL/dout; cache = (x, w, b) from the forward pass.
    Returns (dx, dw, db), the gradients of the loss with respect to x (x's own shape (N, d1, ..., dk)),
    w (D, M) and b (M,).
    """
    x, w, b = cache
    dx, dw, db = None, None, None
    # TODO: the chain rule through out = x_flat w + b; set dx (shaped like x), dw (D, M) and db (M,)
    raise NotImplementedError(
        "affine_backward: the chain rule through out = x_flat w + b; set dx (shaped like x), dw (D, M) and db (M,)"
    )
    return dx, dw, db


def relu_forward(x):
    """Rectified linear unit, elementwise: out = max(0, x), any shape.

    Returns out (same shape as x) and cache = x.
    """
    out = None
    # TODO: apply the rectified linear unit to every entry of x; set out (same shape as x)
    raise NotImplementedError(
        "relu_forward: apply the rectified linear unit to every entry of x; set out (same shape as x)"
    )
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """Backward pass of relu_forward (take the ReLU's gradient at exactly x = 0 as 0).

    dout: upstream gradient, same shape as x; cache = x. Returns dx.
    """
    x = cache
    dx = None
    # TODO: the chain rule through the ReLU with its local gradient; set dx (same shape as x)
    raise NotImplementedError(
        "relu_backward: the chain rule through the ReLU with its local gradient; set dx (same shape as x)"
    )
    return dx


def softmax_loss(x, y):
    """Softmax (cross-entropy) loss averaged over the N examples, and its gradient.

    x: (N, C) class scores; y: (N,) labels with 0 <= y[i] < C.
        p[i, j] = exp(x[i, j]) / sum_k exp(x[i, k])
        loss    = -(1/N) sum_i log p[i, y[i]]
    Subtract each row's maximum before exponentiating: p is unchanged and exp cannot overflow.
    Returns (loss, dx) with dx the gradient of the loss with respect to the scores, (N, C).
    """
    _check_scores_and_labels(x, y, "softmax_loss")
    loss, dx = None, None
    # TODO: the mean cross-entropy of the softmax probabilities, computed stably, and its gradient; set loss, dx
    raise NotImplementedError(
        "softmax_loss: the mean cross-entropy of the softmax probabilities, computed stably, and its gradient; set loss, dx"
    )
    return loss, dx


def svm_loss(x, y):
    """Multiclass SVM (hinge) loss averaged over the N examples, and its gradient.

    x: (N, C) class scores; y: (N,) labels with 0 <= y[i] < C.
        margin[i, j] = max(0, x[i, j] - x[i, y[i]] + 1)   for j != y[i]
        loss         = (1/N) sum_i sum_{j != y[i]} margin[i, j]
    Returns (loss, dx) with dx the gradient of the loss with respect to the scores, (N, C).
    """
    _check_scores_and_labels(x, y, "svm_loss")
    loss, dx = None, None
    # TODO: the mean hinge loss over the wrong classes and its gradient with respect to the scores; set loss, dx
    raise NotImplementedError(
        "svm_loss: the mean hinge loss over the wrong classes and its gradient with respect to the scores; set loss, dx"
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
    Training: each entry of x is kept with probability p, decided by uniform random numbers drawn from
    rng, and the kept entries are divided by p, so that E[out] = x and nothing needs rescaling at test
    time. Keep the mask in x's dtype (float32 stays float32).
    Example: p = 0.5 keeps about half the units and doubles them: x = [1, 2, 3, 4] may give [2, 0, 0, 8].
    Returns out (same shape and dtype as x) and cache = (dropout_param, mask); mask is None in test mode.
    """
    p, mode = _dropout_settings(dropout_param)
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = None
    out = None
    if mode == "train":
        # TODO: draw the inverted-dropout mask with rng (keep with probability p, rescale); set mask and out
        raise NotImplementedError(
            "dropout_forward: draw the inverted-dropout mask with rng (keep with probability p, rescale); set mask and out"
        )
    else:
        # TODO: set out in test mode, where inverted dropout draws no mask
        raise NotImplementedError("dropout_forward: set out in test mode, where inverted dropout draws no mask")
    cache = (dict(dropout_param), mask)  # a copy: the caller may switch the mode before backward
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    """Backward pass of dropout_forward, in the mode the forward pass ran in, through the forward pass's own
    mask (never a new one). dout has x's shape. Returns dx.
    """
    dropout_param, mask = cache
    dx = None
    # TODO: the chain rule through the forward pass (its cached mask in training mode); set dx
    raise NotImplementedError(
        "dropout_backward: the chain rule through the forward pass (its cached mask in training mode); set dx"
    )
    return dx.astype(dout.dtype, copy=False)
