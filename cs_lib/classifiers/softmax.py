# ruff: noqa: F401, F841
"""The softmax (cross-entropy) loss of a linear classifier f(x) = xW, with its gradient.

Shapes use the lecture's letters: W (D, C), X (N, D), y (N,) integer labels in 0..C-1, scores
S = X W (N, C). The scores are unnormalised log-probabilities:

    p_ij = exp(s_ij) / sum_k exp(s_ik)
    L = (1/N) sum_i -log p_iy_i  +  reg * sum_kl W_kl^2
    dL/dW = (1/N) X^T (P - Y) + 2 * reg * W      (Y the one-hot labels, (N, C))

exp overflows for scores above ~709, so the implementation shifts each row of scores by its
maximum first: p is unchanged because exp(s - m) / sum exp(s - m) = exp(s) / sum exp(s).
"""

import numpy as np

from cs_lib.classifiers.linear_svm import check_loss_inputs


def softmax_loss_naive(W, X, y, reg):
    """Softmax loss and gradient, with explicit loops over examples (and classes).

    Inputs:
    - W: weights, shape (D, C)
    - X: a minibatch of data, shape (N, D), one example x_i per row
    - y: labels, shape (N,); y[i] = c means that X[i] has label c, 0 <= c < C
    - reg: regularisation strength (float, >= 0)

    For each example, s = x_i W (C,) shifted by max(s), p = exp(s) / sum(exp(s)), the loss adds
    -log p_y_i = log(sum_k exp(s_k)) - s_y_i and column j of dW adds (p_j - 1[j = y_i]) x_i.

        L = (1/N) sum_i -log p_iy_i + reg * sum(W * W),   dW = (data term) + 2 * reg * W

    Stay finite for any finite scores (no NaN or inf), however large.
    Returns a tuple (loss, dW): loss a float, dW the gradient of L with respect to W, shape (D, C).
    """
    check_loss_inputs(W, X, y, reg)
    loss = 0.0
    dW = np.zeros_like(W)
    # TODO: loop over examples for the stable softmax loss and dW
    raise NotImplementedError("softmax_loss_naive: loop over examples for the stable softmax loss and dW")
    return loss, dW


def softmax_loss_vectorized(W, X, y, reg):
    """Softmax loss and gradient without Python loops; same inputs and outputs as softmax_loss_naive.

    With S = X W (N, C), each row shifted by its maximum, P = softmax(S) row by row and Y the
    one-hot labels (N, C):

        L = (1/N) sum_i (log sum_k exp(s_ik) - s_iy_i) + reg * sum(W * W)
        dW = (1/N) X^T (P - Y) + 2 * reg * W    (D, C)

    Returns a tuple (loss, dW) with dW of shape (D, C).
    """
    check_loss_inputs(W, X, y, reg)
    loss = 0.0
    dW = np.zeros_like(W)
    # TODO: compute the stable loss and dW without Python loops
    raise NotImplementedError("softmax_loss_vectorized: compute the stable loss and dW without Python loops")
    return loss, dW
