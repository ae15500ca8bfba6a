# ruff: noqa: F401, F841
"""A linear classifier f(x) = xW trained by minibatch stochastic gradient descent.

    classifier = LinearSVM(seed=0)
    loss_history = classifier.train(X_train, y_train, learning_rate=1e-7, reg=2.5e4, num_iters=1500)
    y_pred = classifier.predict(X_val)

Shapes use the lecture's letters: X (N, D) with the bias column of ones already appended,
y (N,) integer labels in 0..C-1, W (D, C). The loss (and its regularisation convention,
reg * sum(W * W) with gradient 2 * reg * W) comes from the subclass: LinearSVM uses the
multiclass hinge loss, Softmax the cross-entropy loss.
"""

import numpy as np

from cs_lib.classifiers.linear_svm import svm_loss_vectorized
from cs_lib.classifiers.softmax import softmax_loss_vectorized

INIT_SCALE = 0.001


class LinearClassifier:
    """Scores S = X W; subclasses define loss(X_batch, y_batch, reg) -> (loss, dW).

    W is created on the first call to train, as INIT_SCALE * standard normal (D, C) drawn from
    self.rng, the generator made from seed; the same generator draws the minibatches, so two
    classifiers made with the same seed and trained on the same data end with the same W.
    """

    def __init__(self, seed=None):
        self.W = None
        self.rng = np.random.default_rng(seed)

    def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, verbose=False):
        """Minimise the loss by minibatch stochastic gradient descent.

        Inputs:
        - X: training data, shape (N, D)
        - y: training labels, shape (N,); y[i] = c means X[i] has label c, 0 <= c < C
        - learning_rate: the step size of each update
        - reg: regularisation strength, passed on to the loss
        - num_iters: the number of steps to take
        - batch_size: B, the number of training examples in each step's minibatch
        - verbose: if true, print the loss every 100 steps

        Each step draws B row indices with self.rng (with replacement, as
        self.rng.integers(N, size=B) does), takes X_batch (B, D) and the matching y_batch (B,),
        computes (loss, dW) = self.loss(X_batch, y_batch, reg) and updates W -= learning_rate * dW.

        Returns loss_history, a list of num_iters floats: the minibatch loss of each step.
        """
        X, y = np.asarray(X), np.asarray(y)
        if X.ndim != 2 or y.shape != (X.shape[0],):
            raise ValueError(f"train needs X (N, D) and y (N,), got shapes {X.shape} and {y.shape}")
        if batch_size < 1 or num_iters < 0:
            raise ValueError(f"batch_size must be >= 1 and num_iters >= 0, got {batch_size} and {num_iters}")
        num_train, dim = X.shape
        num_classes = int(np.max(y)) + 1  # assume y takes values 0..C-1
        if self.W is None:
            self.W = INIT_SCALE * self.rng.standard_normal((dim, num_classes))
        elif self.W.shape[0] != dim or self.W.shape[1] < num_classes:
            raise ValueError(
                f"W has shape {self.W.shape} from earlier training, which does not fit D = {dim} "
                f"and labels up to {num_classes - 1}"
            )

        loss_history = []
        for it in range(num_iters):
            # TODO: SGD step on a minibatch drawn with self.rng
            raise NotImplementedError("LinearClassifier.train: SGD step on a minibatch drawn with self.rng")
            if verbose and it % 100 == 0:
                print(f"iteration {it} / {num_iters}: loss {loss_history[-1]:f}")
        return loss_history

    def predict(self, X):
        """Predicted labels for the rows of X (N, D): y_pred[i] = argmax_c (X W)[i, c], shape (N,) ints."""
        if self.W is None:
            raise RuntimeError("predict needs weights: call train first")
        if np.ndim(X) != 2 or np.shape(X)[1] != self.W.shape[0]:
            raise ValueError(f"predict needs X of shape (N, {self.W.shape[0]}), got {np.shape(X)}")
        y_pred = np.zeros(np.shape(X)[0], dtype=np.int64)
        # TODO: the best-scoring class of each row of X
        raise NotImplementedError("LinearClassifier.predict: the best-scoring class of each row of X")
        return y_pred

    def loss(self, X_batch, y_batch, reg):
        """(loss, dW) of the current W on a minibatch X_batch (B, D), y_batch (B,); dW is (D, C) like W."""
        raise NotImplementedError("LinearClassifier is abstract: use LinearSVM or Softmax, which define loss")


class LinearSVM(LinearClassifier):
    """A linear classifier trained with the multiclass SVM (hinge) loss."""

    def loss(self, X_batch, y_batch, reg):
        # TODO: return the vectorised SVM loss and gradient at self.W
        raise NotImplementedError("LinearSVM.loss: return the vectorised SVM loss and gradient at self.W")


class Softmax(LinearClassifier):
    """A linear classifier trained with the softmax (cross-entropy) loss."""

    def loss(self, X_batch, y_batch, reg):
        # TODO: return the vectorised softmax loss and gradient at self.W
        raise NotImplementedError("Softmax.loss: return the vectorised softmax loss and gradient at self.W")
