"""A1's mutants (plausible wrong versions the tests must catch) and alternatives (valid other solutions)."""

import numpy as np

from autograder.instructor.mutants import alternative, mutant


@mutant("cs_lib.classifiers.linear_svm.svm_loss_naive", fails=["svm_naive", "svm_naive_matches_vectorized"])
def svm_naive_forgets_the_reg_gradient(W, X, y, reg):
    """leaves 2 * reg * W out of the gradient"""
    loss, dW = svm_loss_vectorized(W, X, y, reg)
    return loss, dW - 2 * reg * W


@mutant("cs_lib.classifiers.linear_svm.svm_loss_vectorized", fails=["svm_vectorized", "svm_naive_matches_vectorized"])
def svm_vectorized_counts_the_correct_class(W, X, y, reg):
    """counts the correct class's own margin (always 1) in the loss"""
    loss, dW = svm_loss_naive(W, X, y, reg)
    return loss + 1.0, dW


@mutant("cs_lib.classifiers.softmax.softmax_loss_naive", fails=["softmax_naive", "softmax_naive_matches_vectorized"])
def softmax_naive_forgets_to_average_the_gradient(W, X, y, reg):
    """sums the data gradient over the N examples instead of averaging it"""
    loss, dW = softmax_loss_vectorized(W, X, y, reg)
    return loss, (dW - 2 * reg * W) * X.shape[0] + 2 * reg * W


@mutant("cs_lib.classifiers.softmax.softmax_loss_vectorized", fails=["softmax_vectorized"], hidden_only=True)
def softmax_vectorized_without_the_shift(W, X, y, reg):
    """exponentiates the scores without subtracting each row's maximum: NaN once the scores are large"""
    scores = X @ W
    N = X.shape[0]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        exponentials = np.exp(scores)
        probabilities = exponentials / exponentials.sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(probabilities[np.arange(N), y])) + reg * np.sum(W * W)
    probabilities[np.arange(N), y] -= 1
    return loss, X.T @ probabilities / N + 2 * reg * W


@mutant("cs_lib.classifiers.linear_classifier.LinearClassifier.predict", fails=["linear_classifier_predict"])
def predicts_the_lowest_score(self, X):
    """takes the lowest-scoring class (argmin)"""
    return np.argmin(X @ self.W, axis=1)


@mutant("cs_lib.classifiers.linear_classifier.LinearSVM.loss", fails=["classifier_losses"])
def svm_classifier_drops_reg(self, X_batch, y_batch, reg):
    """does not pass reg on to the loss"""
    return svm_loss_vectorized(self.W, X_batch, y_batch, 0.0)


@mutant("cs_lib.classifiers.linear_classifier.Softmax.loss", fails=["classifier_losses"])
def softmax_classifier_uses_the_hinge_loss(self, X_batch, y_batch, reg):
    """computes the SVM loss (a copy-paste of LinearSVM.loss)"""
    return svm_loss_vectorized(self.W, X_batch, y_batch, reg)


@mutant("cs_lib.classifiers.linear_classifier.LinearClassifier.train", fails=["linear_classifier_train"])
def trains_uphill(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, verbose=False):
    """adds the gradient to W instead of subtracting it"""
    X, y = np.asarray(X), np.asarray(y)
    if self.W is None:
        self.W = INIT_SCALE * self.rng.standard_normal((X.shape[1], int(np.max(y)) + 1))
    loss_history = []
    for _ in range(num_iters):
        indices = self.rng.integers(X.shape[0], size=batch_size)
        loss, grad = self.loss(X[indices], y[indices], reg)
        loss_history.append(loss)
        self.W += learning_rate * grad
    return loss_history


@mutant("notebook:best_svm", fails=["best_svm_accuracy"])
def svm_with_the_raw_pixel_learning_rate(best_svm):
    """a learning rate of 1e-7 (right for raw 0..255 pixels, far too small for these scaled rows)"""
    return dict(best_svm, learning_rate=1e-7)


@mutant("notebook:best_softmax", fails=["best_softmax_accuracy"])
def softmax_with_the_raw_pixel_learning_rate(best_softmax):
    """a learning rate of 1e-7 (right for raw 0..255 pixels, far too small for these scaled rows)"""
    return dict(best_softmax, learning_rate=1e-7)


@mutant("cs_lib.features.colour_histogram", fails=["colour_histogram"])
def colour_histogram_counts_pixels(images, bins=4):
    """counts the pixels in each box instead of their fraction"""
    images = _check_images(images, "colour_histogram")
    N = images.shape[0]
    intervals = np.minimum((images * bins / 256).astype(np.int64), bins - 1)
    boxes = (intervals[:, 0] * bins + intervals[:, 1]) * bins + intervals[:, 2]
    return np.stack([np.bincount(boxes[n].ravel(), minlength=bins**3) for n in range(N)]).astype(np.float64)


@mutant("cs_lib.features.gradient_histogram", fails=["gradient_histogram"])
def gradient_histogram_counts_pixels(images, cell_size=8, num_orientations=9):
    """counts the pixels of each orientation instead of summing their magnitudes"""
    images = _check_images(images, "gradient_histogram")
    N, _, H, W = images.shape
    cells_down, cells_across = H // cell_size, W // cell_size
    features = np.zeros((N, cells_down, cells_across, num_orientations))
    grey = images.mean(axis=1)
    gx = np.zeros_like(grey)
    gy = np.zeros_like(grey)
    gx[:, :, 1:-1] = grey[:, :, 2:] - grey[:, :, :-2]
    gy[:, 1:-1, :] = grey[:, 2:, :] - grey[:, :-2, :]
    orientation = np.mod(np.degrees(np.arctan2(gy, gx)), 180.0)
    orientation_bin = np.minimum((orientation // (180.0 / num_orientations)).astype(np.int64), num_orientations - 1)
    for row in range(cells_down):
        for col in range(cells_across):
            rows = slice(row * cell_size, (row + 1) * cell_size)
            cols = slice(col * cell_size, (col + 1) * cell_size)
            for k in range(num_orientations):
                features[:, row, col, k] = np.sum(orientation_bin[:, rows, cols] == k, axis=(1, 2))
    return features.reshape(N, -1)


@alternative("cs_lib.classifiers.linear_svm.svm_loss_naive")
def svm_naive_without_loops(W, X, y, reg):
    """the 'naive' loss written with whole-array operations"""
    scores = X @ W
    N, C = scores.shape
    margins = scores - scores[np.arange(N), y][:, None] + 1
    active = (margins > 0) & (np.arange(C)[None, :] != y[:, None])
    loss = np.sum(margins * active) / N + reg * np.sum(W * W)
    dscores = active.astype(np.float64)
    dscores[np.arange(N), y] = -active.sum(axis=1)
    return loss, X.T @ dscores / N + 2 * reg * W


@alternative("cs_lib.classifiers.softmax.softmax_loss_vectorized")
def softmax_vectorized_with_einsum(W, X, y, reg):
    """scores and gradient with np.einsum and a log-sum-exp"""
    scores = np.einsum("nd,dc->nc", X, W)
    N, C = scores.shape
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    loss = np.mean(log_norm - shifted[np.arange(N), y]) + reg * np.einsum("dc,dc->", W, W)
    dscores = np.exp(shifted - log_norm[:, None]) - np.eye(C)[y]
    return loss, np.einsum("nd,nc->dc", X, dscores) / N + 2 * reg * W
