# ruff: noqa: F401, F841
"""The multiclass SVM (hinge) loss of a linear classifier f(x) = xW, with its gradient.

Shapes use the lecture's letters: N examples, D input dimensions (3072 pixels plus the bias
column of ones, so D = 3073 for CIFAR-10), C classes.

    W (D, C)   X (N, D)   y (N,) integer labels in 0..C-1   scores S = X W (N, C)

The loss is the mean hinge loss with margin 1 plus L2 regularisation, using the course's convention

    L = (1/N) sum_i sum_{j != y_i} max(0, s_ij - s_iy_i + 1)  +  reg * sum_kl W_kl^2
    dL/dW = (data term) + 2 * reg * W
"""

import numpy as np


def check_loss_inputs(W, X, y, reg):
    """Raise ValueError, naming the numbers, unless W (D, C), X (N, D), y (N,) and reg fit together.

    y must hold integer labels in 0..C-1, N must be at least 1 and reg must be >= 0.
    Shared by the SVM and softmax losses.
    """
    if np.ndim(W) != 2:
        raise ValueError(f"W must be a (D, C) matrix, got shape {np.shape(W)}")
    if np.ndim(X) != 2:
        raise ValueError(f"X must be an (N, D) matrix with one image per row, got shape {np.shape(X)}")
    D, C = np.shape(W)
    N, X_columns = np.shape(X)
    if X_columns != D:
        raise ValueError(
            f"X has D = {X_columns} columns but W has D = {D} rows (is the bias column missing on one side?)"
        )
    if N == 0:
        raise ValueError("X has no rows: the loss averages over N >= 1 examples")
    labels = np.asarray(y)
    if labels.shape != (N,):
        raise ValueError(f"y must hold one label per row of X, shape ({N},), got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"y must hold integer class labels, got dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() >= C:
        low, high = labels.min(), labels.max()
        raise ValueError(f"labels must lie in 0..{C - 1} for C = {C} classes, got labels {low} to {high}")
    if not reg >= 0:
        raise ValueError(f"reg must be a number >= 0, got {reg}")


def svm_loss_naive(W, X, y, reg):
    """Multiclass SVM loss and gradient, with explicit loops over examples and classes.

    Inputs:
    - W: weights, shape (D, C)
    - X: a minibatch of data, shape (N, D), one example x_i per row
    - y: labels, shape (N,); y[i] = c means that X[i] has label c, 0 <= c < C
    - reg: regularisation strength (float, >= 0)

    For each example, s = x_i W (C,), and every wrong class j != y_i with a positive margin
    m_j = s_j - s_y_i + 1 adds m_j to the loss, x_i to column j of dW and -x_i to column y_i.
    The kink at m_j = 0 contributes nothing (the subgradient we pick there).

        L = (1/N) sum_i sum_{j != y_i} max(0, s_j - s_y_i + 1) + reg * sum(W * W)

    Returns a tuple (loss, dW): loss a float, dW the gradient of L with respect to W, shape (D, C).
    """
    check_loss_inputs(W, X, y, reg)
    loss = 0.0
    dW = np.zeros_like(W)
    # TODO: loop over examples and classes for the loss and dW
    raise NotImplementedError("svm_loss_naive: loop over examples and classes for the loss and dW")
    return loss, dW


def svm_loss_vectorized(W, X, y, reg):
    """Multiclass SVM loss and gradient without Python loops; same inputs and outputs as svm_loss_naive.

    With S = X W (N, C) and the margins M_ij = max(0, S_ij - S_iy_i + 1) for j != y_i (M_iy_i = 0):

        L = (1/N) sum_ij M_ij + reg * sum(W * W)

    and with the indicator G_ij = 1[M_ij > 0] for j != y_i and G_iy_i = -sum_j G_ij (N, C):

        dW = (1/N) X^T G + 2 * reg * W    (D, C)

    Returns a tuple (loss, dW) with dW of shape (D, C).
    """
    check_loss_inputs(W, X, y, reg)
    loss = 0.0
    dW = np.zeros_like(W)
    # TODO: compute the loss and dW without Python loops
    raise NotImplementedError("svm_loss_vectorized: compute the loss and dW without Python loops")
    return loss, dW
