"""The a1 notebook's test cells accept the reference and valid alternatives, and catch classic wrong code.

Each wrong implementation is a bug students write: the correct class counted in the hinge sum, a loss
that is not averaged, the regularisation gradient reg * W instead of 2 * reg * W (or the 0.5 * reg
convention), a softmax without the max shift, a vectorised loss that breaks on one example, SGD that
climbs the gradient or pairs images with the wrong labels... It is patched into cs_lib and the notebook's
test cells for that function must fail; WRONG also records whether the visible part of the cell already
catches it or only the hidden tests do. The valid alternatives (other loop orders, np.logaddexp, the
other subgradient at the hinge's kink, sampling without replacement, the last of tied scores) must
pass every cell of their function.
"""

import ast
import contextlib
import io

import numpy as np
import pytest

import cells
from autograder.common import paths
from autograder.common.course import load_course
from autograder.common.sources import BEGIN_HIDDEN, END_HIDDEN, source_notebook
from autograder.instructor.authoring import make_stub
from cs_lib.classifiers import linear_classifier
from cs_lib.classifiers.linear_classifier import INIT_SCALE, LinearClassifier, LinearSVM, Softmax
from cs_lib.classifiers.linear_svm import svm_loss_vectorized
from cs_lib.classifiers.softmax import softmax_loss_vectorized

pytestmark = pytest.mark.a1

A1 = "a1"
SVM = "cs_lib.classifiers.linear_svm."
SOFTMAX = "cs_lib.classifiers.softmax."
FEATURES = "cs_lib.features."
CELLS = {
    "svm_loss_naive": ["svm_naive", "svm_naive_matches_vectorized"],
    "svm_loss_vectorized": ["svm_vectorized", "svm_naive_matches_vectorized"],
    "softmax_loss_naive": ["softmax_naive", "softmax_naive_matches_vectorized"],
    "softmax_loss_vectorized": ["softmax_vectorized", "softmax_naive_matches_vectorized"],
    "LinearClassifier.predict": ["linear_classifier_predict"],
    "LinearClassifier.train": ["linear_classifier_train"],
    "LinearSVM.loss": ["classifier_losses"],
    "Softmax.loss": ["classifier_losses"],
    "colour_histogram": ["colour_histogram"],
    "gradient_histogram": ["gradient_histogram"],
}
STATEFUL = {"best_svm_accuracy", "best_softmax_accuracy"}


def run(grade_id, overrides=None, visible_only=False, namespace=None):
    """(passed, message) of one test cell (or of its visible part) with overrides in place."""
    if not visible_only:
        with cells.patched(overrides or {}):
            return cells.run_cell(A1, grade_id, namespace=namespace)
    source = cells.cell_source(A1, grade_id).split(BEGIN_HIDDEN)[0]
    scope = {"__name__": "__notebook_cell__"}
    with cells.patched(overrides or {}), contextlib.redirect_stdout(io.StringIO()):
        try:
            exec(compile(source, f"<{A1}:{grade_id} visible>", "exec"), scope)
        except Exception as error:  # a failing test cell raises anything at all
            return False, f"{type(error).__name__}: {error}"
    return True, ""


# ---- SVM losses ----------------------------------------------------------------------------------


def svm_loops(W, X, y, reg, skip_correct=True, average=True, reg_factor=2.0, correct_column=True, count_kink=False):
    """The naive hinge loss, one example's gradient at a time, with switches for classic mistakes (and
    count_kink, the other valid subgradient at the hinge's kink)."""
    N, C = X.shape[0], W.shape[1]
    loss, dW = 0.0, np.zeros_like(W)
    for i in range(N):
        scores = X[i].dot(W)
        example_grad = np.zeros_like(W)
        for j in range(C):
            if skip_correct and j == y[i]:
                continue
            margin = scores[j] - scores[y[i]] + 1
            if margin > 0 or (count_kink and margin == 0):
                loss += max(margin, 0.0)
                example_grad[:, j] += X[i]
                if correct_column:
                    example_grad[:, y[i]] -= X[i]
        dW += example_grad
    if average:
        loss, dW = loss / N, dW / N
    return loss + reg * np.sum(W**2), dW + reg_factor * reg * W


def svm_matrix(
    W,
    X,
    y,
    reg,
    zero_correct=True,
    squeeze=False,
    divide_by_D=False,
    reg_loss_factor=1.0,
    reg_grad_factor=2.0,
    one_hot=False,
):
    """The vectorised hinge loss with switches for classic mistakes (one_hot: a valid variant)."""
    N, C = X.shape[0], W.shape[1]
    scores = X @ W
    if squeeze:
        scores = np.squeeze(scores)
    rows = np.arange(N)
    correct = scores[rows, y][:, None]
    margins = np.maximum(0, scores - correct + 1)
    if one_hot:
        margins = np.where(np.eye(C, dtype=bool)[y], 0.0, margins)
    elif zero_correct:
        margins[rows, y] = 0
    positive = (margins > 0).astype(float)
    positive[rows, y] -= positive.sum(axis=1)
    count = X.shape[1] if divide_by_D else N
    loss = margins.sum() / count + reg_loss_factor * reg * np.sum(W * W)
    return loss, X.T.dot(positive) / count + reg_grad_factor * reg * W


def svm_naive_counting_the_correct_class(W, X, y, reg):
    return svm_loops(W, X, y, reg, skip_correct=False)


def svm_naive_not_averaged(W, X, y, reg):
    return svm_loops(W, X, y, reg, average=False)


def svm_naive_regularisation_gradient_reg_w(W, X, y, reg):
    return svm_loops(W, X, y, reg, reg_factor=1.0)


def svm_naive_without_the_correct_class_column(W, X, y, reg):
    return svm_loops(W, X, y, reg, correct_column=False)


def svm_naive_counting_the_kink(W, X, y, reg):
    return svm_loops(W, X, y, reg, count_kink=True)


def svm_vectorized_counting_the_correct_class(W, X, y, reg):
    return svm_matrix(W, X, y, reg, zero_correct=False)


def svm_vectorized_squeezing_the_scores(W, X, y, reg):
    return svm_matrix(W, X, y, reg, squeeze=True)


def svm_vectorized_dividing_by_d(W, X, y, reg):
    return svm_matrix(W, X, y, reg, divide_by_D=True)


def svm_vectorized_with_half_reg(W, X, y, reg):
    return svm_matrix(W, X, y, reg, reg_loss_factor=0.5, reg_grad_factor=1.0)


def svm_vectorized_with_a_one_hot_mask(W, X, y, reg):
    return svm_matrix(W, X, y, reg, one_hot=True)


# ---- softmax losses ------------------------------------------------------------------------------


def softmax_loops(W, X, y, reg, shift=True, minus_one=True, average=True, reg_factor=2.0):
    N, C = X.shape[0], W.shape[1]
    loss, dW = 0.0, np.zeros_like(W)
    for i in range(N):
        scores = X[i] @ W
        if shift:
            scores = scores - np.max(scores)
        probabilities = np.exp(scores) / np.sum(np.exp(scores))
        loss -= np.log(probabilities[y[i]])
        for j in range(C):
            dW[:, j] += (probabilities[j] - (minus_one and j == y[i])) * X[i]
    if average:
        loss, dW = loss / N, dW / N
    return loss + reg * np.sum(W * W), dW + reg_factor * reg * W


def softmax_matrix(W, X, y, reg, shift=True, axis=1, reg_grad_factor=2.0, log_add_exp=False):
    N, C = X.shape[0], W.shape[1]
    scores = X @ W
    if log_add_exp:
        log_probabilities = scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)
    else:
        if shift:
            scores = scores - scores.max(axis=axis, keepdims=True)
        log_probabilities = scores - np.log(np.exp(scores).sum(axis=axis, keepdims=True))
    one_hot = np.eye(C)[y]
    loss = -np.sum(log_probabilities * one_hot) / N + reg * np.sum(W * W)
    return loss, (X.T @ np.exp(log_probabilities) - X.T @ one_hot) / N + reg_grad_factor * reg * W


def softmax_naive_without_the_max_shift(W, X, y, reg):
    return softmax_loops(W, X, y, reg, shift=False)


def softmax_naive_without_the_one_hot(W, X, y, reg):
    return softmax_loops(W, X, y, reg, minus_one=False)


def softmax_naive_not_averaged(W, X, y, reg):
    return softmax_loops(W, X, y, reg, average=False)


def softmax_naive_with_log_add_exp(W, X, y, reg):
    N = X.shape[0]
    loss, dW = 0.0, np.zeros_like(W)
    for i in range(N):
        scores = X[i] @ W
        log_norm = np.logaddexp.reduce(scores)
        loss += log_norm - scores[y[i]]
        dW += np.outer(X[i], np.exp(scores - log_norm) - np.eye(W.shape[1])[y[i]])
    return loss / N + reg * np.sum(W * W), dW / N + 2 * reg * W


def softmax_vectorized_without_the_max_shift(W, X, y, reg):
    return softmax_matrix(W, X, y, reg, shift=False)


def softmax_vectorized_normalising_over_examples(W, X, y, reg):
    return softmax_matrix(W, X, y, reg, axis=0)


def softmax_vectorized_regularisation_gradient_reg_w(W, X, y, reg):
    return softmax_matrix(W, X, y, reg, reg_grad_factor=1.0)


def softmax_vectorized_with_log_add_exp(W, X, y, reg):
    return softmax_matrix(W, X, y, reg, log_add_exp=True)


# ---- LinearClassifier ------------------------------------------------------------------------------


def make_train(step):
    """A train method whose minibatch step is step(self, X, y, learning_rate, reg, batch_size) -> loss."""

    def train(self, X, y, learning_rate=1e-3, reg=1e-5, num_iters=100, batch_size=200, verbose=False):
        if self.W is None:
            self.W = INIT_SCALE * self.rng.standard_normal((X.shape[1], int(np.max(y)) + 1))
        return [step(self, X, y, learning_rate, reg, batch_size) for _ in range(num_iters)]

    return train


def _sgd_step(self, X_batch, y_batch, learning_rate, reg, sign=-1.0):
    loss, grad = self.loss(X_batch, y_batch, reg)
    self.W += sign * learning_rate * grad
    return loss


def step_ascending(self, X, y, learning_rate, reg, batch_size):
    rows = self.rng.integers(len(X), size=batch_size)
    return _sgd_step(self, X[rows], y[rows], learning_rate, reg, sign=1.0)


def step_pairing_images_with_other_labels(self, X, y, learning_rate, reg, batch_size):
    return _sgd_step(
        self,
        X[self.rng.integers(len(X), size=batch_size)],
        y[self.rng.integers(len(X), size=batch_size)],
        learning_rate,
        reg,
    )


def step_without_reg(self, X, y, learning_rate, reg, batch_size):
    rows = self.rng.integers(len(X), size=batch_size)
    return _sgd_step(self, X[rows], y[rows], learning_rate, 0.0)


def step_with_the_global_random_state(self, X, y, learning_rate, reg, batch_size):
    rows = np.random.choice(len(X), batch_size)  # noqa: NPY002  (the bug: not self.rng)
    return _sgd_step(self, X[rows], y[rows], learning_rate, reg)


def step_on_the_whole_training_set(self, X, y, learning_rate, reg, batch_size):
    return _sgd_step(self, X, y, learning_rate, reg)


def step_without_replacement(self, X, y, learning_rate, reg, batch_size):
    rows = self.rng.choice(len(X), size=batch_size, replace=False)
    loss, grad = self.loss(X[rows], y[rows], reg)
    self.W = self.W - learning_rate * grad
    return loss


def predict_over_the_wrong_axis(self, X):
    return np.argmax(X @ self.W, axis=0)


def predict_the_lowest_score(self, X):
    return np.argmin(X @ self.W, axis=1)


def predict_the_last_of_tied_scores(self, X):
    scores = X.dot(self.W)
    return scores.shape[1] - 1 - np.argmax(scores[:, ::-1], axis=1)


def svm_loss_with_the_softmax(self, X_batch, y_batch, reg):
    return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)


def softmax_loss_with_the_svm(self, X_batch, y_batch, reg):
    return svm_loss_vectorized(self.W, X_batch, y_batch, reg)


def svm_loss_without_reg(self, X_batch, y_batch, reg):
    return svm_loss_vectorized(self.W, X_batch, y_batch, 0.0)


def svm_loss_with_the_naive_loops(self, X_batch, y_batch, reg):
    return svm_loops(self.W, X_batch, y_batch, reg)


def softmax_loss_with_the_naive_loops(self, X_batch, y_batch, reg):
    return softmax_loops(self.W, X_batch, y_batch, reg)


# ---- hand-designed features ----------------------------------------------------------------------------


def colour_boxes(images, bins, top=256, order=(0, 1, 2)):
    """Each pixel's colour box number (N, H * W), with switches for classic mistakes."""
    images = np.asarray(images, dtype=np.float64)
    intervals = np.minimum(np.floor(images * bins / top).astype(int), bins - 1)
    first, second, third = (intervals[:, channel] for channel in order)
    return ((first * bins + second) * bins + third).reshape(len(images), -1)


def colour_histogram_with(bins_of=colour_boxes, normalise=True, **switches):
    def colour_histogram(images, bins=4):
        boxes = bins_of(images, bins, **switches)
        counts = np.stack([np.bincount(row, minlength=bins**3) for row in boxes]).astype(float)
        return counts / boxes.shape[1] if normalise else counts

    return colour_histogram


def colour_histogram_per_channel(images, bins=4):
    images = np.asarray(images, dtype=np.float64)
    intervals = np.minimum(np.floor(images * bins / 256).astype(int), bins - 1)
    N, C = images.shape[:2]
    counts = [np.bincount(intervals[n, c].ravel(), minlength=bins) for n in range(N) for c in range(C)]
    return np.array(counts, dtype=float).reshape(N, C * bins) / intervals[0, 0].size


def colour_histogram_with_histogramdd(images, bins=4):
    images = np.asarray(images, dtype=np.float64)
    pixels = images.transpose(0, 2, 3, 1).reshape(len(images), -1, 3)
    histograms = [np.histogramdd(p, bins=bins, range=[(0, 256)] * 3)[0].ravel() for p in pixels]
    return np.array(histograms) / pixels.shape[1]


def oriented_gradients(
    images,
    cell_size=8,
    num_orientations=9,
    grey=lambda images: images.mean(axis=1),
    gradient="filter",
    swap=False,
    flip_y=False,
    signed=False,
    votes="magnitude",
    cell_order="rows",
    bin_major=False,
    fixed_orientations=None,
    radians=False,
):
    """HOG-like features with switches for classic mistakes (radians: a valid variant)."""
    images = np.asarray(images, dtype=np.float64)
    N, _, H, W = images.shape
    num_orientations = fixed_orientations or num_orientations
    intensity = grey(images)
    if gradient == "np.gradient":
        gy, gx = np.gradient(intensity, axis=(1, 2))
    elif gradient == "wrap":
        gx = np.roll(intensity, -1, axis=2) - np.roll(intensity, 1, axis=2)
        gy = np.roll(intensity, -1, axis=1) - np.roll(intensity, 1, axis=1)
    else:
        gx, gy = np.zeros_like(intensity), np.zeros_like(intensity)
        gx[:, :, 1:-1] = intensity[:, :, 2:] - intensity[:, :, :-2]
        gy[:, 1:-1] = intensity[:, 2:] - intensity[:, :-2]
    if swap:
        gx, gy = gy, gx
    if flip_y:
        gy = -gy
    magnitude = np.hypot(gx, gy) if votes == "magnitude" else np.ones_like(gx)
    if radians:
        angle = np.mod(np.arctan2(gy, gx), np.pi)
        k = np.floor(angle / (np.pi / num_orientations)).astype(int)
    else:
        full = 360.0 if signed else 180.0
        angle = np.mod(np.degrees(np.arctan2(gy, gx)), full)
        k = np.floor(angle / (full / num_orientations)).astype(int)
    k = np.minimum(k, num_orientations - 1)
    down, across = H // cell_size, W // cell_size
    if cell_order == "rows":
        cell = (np.arange(H)[:, None] // cell_size) * across + np.arange(W)[None, :] // cell_size
    else:
        cell = (np.arange(W)[None, :] // cell_size) * down + np.arange(H)[:, None] // cell_size
    features = np.zeros((N, down * across, num_orientations))
    for n in range(N):
        np.add.at(features[n], (cell.ravel(), k[n].ravel()), magnitude[n].ravel())
    if bin_major:
        features = features.transpose(0, 2, 1)
    return features.reshape(N, -1)


def gradient_histogram_with(**switches):
    def gradient_histogram(images, cell_size=8, num_orientations=9):
        return oriented_gradients(images, cell_size, num_orientations, **switches)

    return gradient_histogram


def gradient_histogram_pixel_by_pixel(images, cell_size=8, num_orientations=9):
    import math

    images = np.asarray(images, dtype=np.float64)
    N, _, H, W = images.shape
    features = np.zeros((N, H // cell_size, W // cell_size, num_orientations))
    grey = images.mean(axis=1)
    for n in range(N):
        for r in range(H):
            for c in range(W):
                gx = grey[n, r, c + 1] - grey[n, r, c - 1] if 0 < c < W - 1 else 0.0
                gy = grey[n, r + 1, c] - grey[n, r - 1, c] if 0 < r < H - 1 else 0.0
                angle = math.atan2(gy, gx) % math.pi
                k = min(int(angle * num_orientations / math.pi), num_orientations - 1)
                features[n, r // cell_size, c // cell_size, k] += math.sqrt(gx * gx + gy * gy)
    return features.reshape(N, -1)


# ---- the cases ------------------------------------------------------------------------------------

# bug: (overrides, the function whose cells must fail, "visible" if the visible part alone catches it,
# "hidden" if only the hidden tests do)
WRONG = {
    "svm_loss_naive counts the correct class in the hinge sum": (
        {SVM + "svm_loss_naive": svm_naive_counting_the_correct_class},
        "svm_loss_naive",
        "visible",
    ),
    "svm_loss_naive does not average over the examples": (
        {SVM + "svm_loss_naive": svm_naive_not_averaged},
        "svm_loss_naive",
        "visible",
    ),
    "svm_loss_naive uses reg * W as the regularisation gradient": (
        {SVM + "svm_loss_naive": svm_naive_regularisation_gradient_reg_w},
        "svm_loss_naive",
        "visible",
    ),
    "svm_loss_naive forgets the correct class's column of dW": (
        {SVM + "svm_loss_naive": svm_naive_without_the_correct_class_column},
        "svm_loss_naive",
        "visible",
    ),
    "svm_loss_vectorized counts the correct class": (
        {SVM + "svm_loss_vectorized": svm_vectorized_counting_the_correct_class},
        "svm_loss_vectorized",
        "visible",
    ),
    "svm_loss_vectorized squeezes the scores, which breaks for one example": (
        {SVM + "svm_loss_vectorized": svm_vectorized_squeezing_the_scores},
        "svm_loss_vectorized",
        "hidden",
    ),
    "svm_loss_vectorized divides by D instead of N": (
        {SVM + "svm_loss_vectorized": svm_vectorized_dividing_by_d},
        "svm_loss_vectorized",
        "visible",
    ),
    "svm_loss_vectorized uses the 0.5 * reg * sum(W**2) convention": (
        {SVM + "svm_loss_vectorized": svm_vectorized_with_half_reg},
        "svm_loss_vectorized",
        "hidden",
    ),
    "softmax_loss_naive does not shift the scores (overflows on huge scores)": (
        {SOFTMAX + "softmax_loss_naive": softmax_naive_without_the_max_shift},
        "softmax_loss_naive",
        "hidden",
    ),
    "softmax_loss_naive forgets the -1 of the correct class in dW": (
        {SOFTMAX + "softmax_loss_naive": softmax_naive_without_the_one_hot},
        "softmax_loss_naive",
        "visible",
    ),
    "softmax_loss_naive does not average over the examples": (
        {SOFTMAX + "softmax_loss_naive": softmax_naive_not_averaged},
        "softmax_loss_naive",
        "visible",
    ),
    "softmax_loss_vectorized does not shift the scores (overflows on huge scores)": (
        {SOFTMAX + "softmax_loss_vectorized": softmax_vectorized_without_the_max_shift},
        "softmax_loss_vectorized",
        "hidden",
    ),
    "softmax_loss_vectorized normalises over the examples instead of the classes": (
        {SOFTMAX + "softmax_loss_vectorized": softmax_vectorized_normalising_over_examples},
        "softmax_loss_vectorized",
        "visible",
    ),
    "softmax_loss_vectorized uses reg * W as the regularisation gradient": (
        {SOFTMAX + "softmax_loss_vectorized": softmax_vectorized_regularisation_gradient_reg_w},
        "softmax_loss_vectorized",
        "visible",
    ),
    "train climbs the gradient": (
        {(LinearClassifier, "train"): make_train(step_ascending)},
        "LinearClassifier.train",
        "visible",
    ),
    "train pairs the minibatch images with the labels of other rows": (
        {(LinearClassifier, "train"): make_train(step_pairing_images_with_other_labels)},
        "LinearClassifier.train",
        "visible",
    ),
    "train drops reg": (
        {(LinearClassifier, "train"): make_train(step_without_reg)},
        "LinearClassifier.train",
        "hidden",
    ),
    "train draws minibatches from numpy's global random state": (
        {(LinearClassifier, "train"): make_train(step_with_the_global_random_state)},
        "LinearClassifier.train",
        "hidden",
    ),
    "train ignores batch_size and steps on the whole training set": (
        {(LinearClassifier, "train"): make_train(step_on_the_whole_training_set)},
        "LinearClassifier.train",
        "hidden",
    ),
    "predict takes the argmax over the examples": (
        {(LinearClassifier, "predict"): predict_over_the_wrong_axis},
        "LinearClassifier.predict",
        "visible",
    ),
    "predict takes the lowest score": (
        {(LinearClassifier, "predict"): predict_the_lowest_score},
        "LinearClassifier.predict",
        "visible",
    ),
    "LinearSVM.loss uses the softmax loss": (
        {(LinearSVM, "loss"): svm_loss_with_the_softmax},
        "LinearSVM.loss",
        "visible",
    ),
    "Softmax.loss uses the SVM loss": ({(Softmax, "loss"): softmax_loss_with_the_svm}, "Softmax.loss", "visible"),
    "LinearSVM.loss drops reg": ({(LinearSVM, "loss"): svm_loss_without_reg}, "LinearSVM.loss", "hidden"),
    "colour_histogram counts pixels instead of fractions": (
        {FEATURES + "colour_histogram": colour_histogram_with(normalise=False)},
        "colour_histogram",
        "visible",
    ),
    "colour_histogram numbers the boxes b, g, r": (
        {FEATURES + "colour_histogram": colour_histogram_with(order=(2, 1, 0))},
        "colour_histogram",
        "visible",
    ),
    "colour_histogram cuts 0..255 into intervals of width 255 / bins": (
        {FEATURES + "colour_histogram": colour_histogram_with(top=255)},
        "colour_histogram",
        "visible",
    ),
    "colour_histogram histograms each channel separately": (
        {FEATURES + "colour_histogram": colour_histogram_per_channel},
        "colour_histogram",
        "visible",
    ),
    "gradient_histogram counts pixels instead of adding magnitudes": (
        {FEATURES + "gradient_histogram": gradient_histogram_with(votes="count")},
        "gradient_histogram",
        "visible",
    ),
    "gradient_histogram uses signed orientations (0 to 360 degrees)": (
        {FEATURES + "gradient_histogram": gradient_histogram_with(signed=True)},
        "gradient_histogram",
        "visible",
    ),
    "gradient_histogram uses np.gradient (halved, one-sided at the border)": (
        {FEATURES + "gradient_histogram": gradient_histogram_with(gradient="np.gradient")},
        "gradient_histogram",
        "visible",
    ),
    "gradient_histogram wraps around the image's border": (
        {FEATURES + "gradient_histogram": gradient_histogram_with(gradient="wrap")},
        "gradient_histogram",
        "visible",
    ),
    "gradient_histogram swaps gx and gy": (
        {FEATURES + "gradient_histogram": gradient_histogram_with(swap=True)},
        "gradient_histogram",
        "visible",
    ),
    "gradient_histogram counts rows upwards (gy negated)": (
        {FEATURES + "gradient_histogram": gradient_histogram_with(flip_y=True)},
        "gradient_histogram",
        "visible",
    ),
    "gradient_histogram sums the colour channels instead of averaging them": (
        {FEATURES + "gradient_histogram": gradient_histogram_with(grey=lambda images: images.sum(axis=1))},
        "gradient_histogram",
        "visible",
    ),
    "gradient_histogram uses the red channel only": (
        {FEATURES + "gradient_histogram": gradient_histogram_with(grey=lambda images: images[:, 0])},
        "gradient_histogram",
        "visible",
    ),
    "gradient_histogram orders the cells column by column": (
        {FEATURES + "gradient_histogram": gradient_histogram_with(cell_order="columns")},
        "gradient_histogram",
        "visible",
    ),
    "gradient_histogram puts the orientations outermost": (
        {FEATURES + "gradient_histogram": gradient_histogram_with(bin_major=True)},
        "gradient_histogram",
        "visible",
    ),
    "gradient_histogram always uses 9 orientations": (
        {FEATURES + "gradient_histogram": gradient_histogram_with(fixed_orientations=9)},
        "gradient_histogram",
        "hidden",
    ),
}

VALID = {
    "svm_loss_naive with the other subgradient at the kink": (
        {SVM + "svm_loss_naive": svm_naive_counting_the_kink},
        ["svm_loss_naive"],
    ),
    "svm_loss_vectorized with a one-hot mask": (
        {SVM + "svm_loss_vectorized": svm_vectorized_with_a_one_hot_mask},
        ["svm_loss_vectorized"],
    ),
    "the SVM losses as loops and matrices written here": (
        {SVM + "svm_loss_naive": svm_loops, SVM + "svm_loss_vectorized": svm_matrix},
        ["svm_loss_naive", "svm_loss_vectorized"],
    ),
    "softmax_loss_naive with np.logaddexp and outer products": (
        {SOFTMAX + "softmax_loss_naive": softmax_naive_with_log_add_exp},
        ["softmax_loss_naive"],
    ),
    "softmax_loss_vectorized with np.logaddexp": (
        {SOFTMAX + "softmax_loss_vectorized": softmax_vectorized_with_log_add_exp},
        ["softmax_loss_vectorized"],
    ),
    "the softmax losses as loops and matrices written here": (
        {SOFTMAX + "softmax_loss_naive": softmax_loops, SOFTMAX + "softmax_loss_vectorized": softmax_matrix},
        ["softmax_loss_naive", "softmax_loss_vectorized"],
    ),
    "train sampling without replacement and rebinding W": (
        {(LinearClassifier, "train"): make_train(step_without_replacement)},
        ["LinearClassifier.train"],
    ),
    "predict with the last of tied scores": (
        {(LinearClassifier, "predict"): predict_the_last_of_tied_scores},
        ["LinearClassifier.predict"],
    ),
    "LinearSVM.loss and Softmax.loss with the naive losses": (
        {(LinearSVM, "loss"): svm_loss_with_the_naive_loops, (Softmax, "loss"): softmax_loss_with_the_naive_loops},
        ["LinearSVM.loss", "Softmax.loss"],
    ),
    "colour_histogram with np.histogramdd": (
        {FEATURES + "colour_histogram": colour_histogram_with_histogramdd},
        ["colour_histogram"],
    ),
    "colour_histogram with np.bincount on box numbers written here": (
        {FEATURES + "colour_histogram": colour_histogram_with()},
        ["colour_histogram"],
    ),
    "gradient_histogram in radians with np.add.at": (
        {FEATURES + "gradient_histogram": gradient_histogram_with(radians=True)},
        ["gradient_histogram"],
    ),
    "gradient_histogram pixel by pixel": (
        {FEATURES + "gradient_histogram": gradient_histogram_pixel_by_pixel},
        ["gradient_histogram"],
    ),
}


# ---- the reference and the cells themselves ---------------------------------------------------------


@pytest.mark.parametrize("grade_id", cells.test_cell_ids(A1))
def test_reference_passes_every_self_contained_test_cell(grade_id):
    passed, message = run(grade_id)
    assert passed, message


def test_every_graded_function_has_cells_and_only_the_accuracy_checks_read_notebook_state():
    assert set(cells.test_cell_ids(A1)) == {grade_id for grade_ids in CELLS.values() for grade_id in grade_ids}
    assert set(cells.test_cell_ids(A1, include_stateful=True)) - set(cells.test_cell_ids(A1)) == STATEFUL
    assert {function for _, function, _ in WRONG.values()} == set(CELLS)
    assert {function for _, functions in VALID.values() for function in functions} == set(CELLS)


@pytest.mark.parametrize("grade_id", cells.test_cell_ids(A1, include_stateful=True))
def test_test_cells_have_visible_checks_hidden_tests_no_torch_and_no_bare_final_value(grade_id):
    """A cell whose last line is a bare number shows it, and the scorer reads that as partial credit."""
    source = cells.cell_source(A1, grade_id)
    visible = source.split(BEGIN_HIDDEN)[0]
    assert "check_" in visible and "torch" not in source
    if grade_id not in STATEFUL:
        assert source.count(BEGIN_HIDDEN) == source.count(END_HIDDEN) == 1
    for part in (visible, source):
        last = ast.parse(part).body[-1]
        if isinstance(last, ast.Expr):
            name = getattr(last.value, "func", None)
            assert isinstance(last.value, ast.Call) and (name.id == "print" or name.id.startswith("check_"))


# ---- wrong and valid implementations -------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the unshifted softmax overflows, as it should
@pytest.mark.parametrize("bug", list(WRONG))
def test_the_notebook_catches_a_classic_wrong_implementation(bug):
    overrides, function, where = WRONG[bug]
    own_cell = CELLS[function][0]
    passed, _ = run(own_cell, overrides)
    assert not passed, f"{own_cell} does not catch: {bug}"
    visible_passed, message = run(own_cell, overrides, visible_only=True)
    if where == "visible":
        assert not visible_passed, f"the visible part of {own_cell} should already catch: {bug}"
    else:
        assert visible_passed, f"only the hidden tests were meant to catch {bug}, but the visible part fails: {message}"


@pytest.mark.parametrize("alternative", list(VALID))
def test_the_notebook_accepts_a_valid_alternative_implementation(alternative):
    overrides, functions = VALID[alternative]
    grade_ids = sorted({grade_id for function in functions for grade_id in CELLS[function]})
    failures = {}
    for grade_id in grade_ids:
        passed, message = run(grade_id, overrides)
        if not passed:
            failures[grade_id] = message
    assert not failures, f"{alternative} is valid but fails: {failures}"


def test_the_reference_class_methods_are_restored_after_patching():
    original = LinearClassifier.train
    with cells.patched({(LinearClassifier, "train"): make_train(step_ascending)}):
        assert LinearClassifier.train is not original
    assert LinearClassifier.train is original and linear_classifier.LinearClassifier is LinearClassifier


def stub_overrides():
    """Every graded function and method of a1 replaced by its starter stub (made from the reference)."""
    stubs = {}
    for name in ("classifiers/linear_svm", "classifiers/softmax", "classifiers/linear_classifier", "features"):
        source = make_stub((paths.SOLUTIONS_CS_LIB / f"{name}.py").read_text())
        name = name.split("/")[-1]
        exec(compile(source, f"<stub {name}>", "exec"), stubs.setdefault(name, {"__name__": f"stub_{name}"}))
    classes = stubs["linear_classifier"]
    return {
        SVM + "svm_loss_naive": stubs["linear_svm"]["svm_loss_naive"],
        SVM + "svm_loss_vectorized": stubs["linear_svm"]["svm_loss_vectorized"],
        SOFTMAX + "softmax_loss_naive": stubs["softmax"]["softmax_loss_naive"],
        SOFTMAX + "softmax_loss_vectorized": stubs["softmax"]["softmax_loss_vectorized"],
        (LinearClassifier, "train"): classes["LinearClassifier"].train,
        (LinearClassifier, "predict"): classes["LinearClassifier"].predict,
        (LinearSVM, "loss"): classes["LinearSVM"].loss,
        (Softmax, "loss"): classes["Softmax"].loss,
        FEATURES + "colour_histogram": stubs["features"]["colour_histogram"],
        FEATURES + "gradient_histogram": stubs["features"]["gradient_histogram"],
    }


# ---- the accuracy checks, which judge the recorded hyperparameters with data they load themselves ------

BEST = {
    "best_svm_accuracy": ("best_svm", {"learning_rate": 1e-2, "reg": 1e-2}),
    "best_softmax_accuracy": ("best_softmax", {"learning_rate": 3e-1, "reg": 1e-3}),
}


def test_the_accuracy_checks_read_only_the_hyperparameters_they_declare():
    """Trusted grading hands a stateful test only the variables its reads= names, as plain data."""
    course = load_course()
    assignment = course.assignment(A1)
    notebook = source_notebook(assignment.source_notebook(assignment.notebooks[0]), course, A1)
    reads = {
        cell.metadata["nbgrader"]["grade_id"]: cell.metadata.get("reads")
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade")
    }
    assert {grade_id for grade_id, names in reads.items() if names} == STATEFUL
    for grade_id, (name, _) in BEST.items():
        assert reads[grade_id] == [name]


@pytest.mark.slow
@pytest.mark.parametrize("grade_id", sorted(STATEFUL))
@pytest.mark.parametrize("train", ["reference", "sampling without replacement"])
def test_accuracy_checks_pass_the_notebooks_hyperparameters_with_any_valid_sgd(grade_id, train):
    # the threshold must leave room for other minibatches than the reference's; the namespace holds nothing but
    # the recorded hyperparameters, so the check loads and preprocesses the data itself
    name, hyperparameters = BEST[grade_id]
    overrides = {} if train == "reference" else {(LinearClassifier, "train"): make_train(step_without_replacement)}
    passed, message = run(grade_id, overrides, namespace={name: hyperparameters})
    assert passed, message


@pytest.mark.slow
def test_accuracy_check_fails_a_learning_rate_too_small_to_learn_in_100_steps():
    passed, message = run("best_svm_accuracy", namespace={"best_svm": {"learning_rate": 1e-5, "reg": 1e-2}})
    assert not passed and "below 0.3" in message


@pytest.mark.parametrize("grade_id", sorted(STATEFUL))
def test_accuracy_checks_want_a_dict_with_learning_rate_and_reg(grade_id):
    name, _ = BEST[grade_id]
    for recorded in ({"lr": 0.1, "reg": 0.01}, [0.1, 0.01], {"learning_rate": 0.1}):
        passed, message = run(grade_id, namespace={name: recorded})
        assert not passed and "keys 'learning_rate' and 'reg'" in message


@pytest.mark.parametrize("grade_id", cells.test_cell_ids(A1, include_stateful=True))
def test_the_starter_stubs_earn_no_points(grade_id):
    namespace = {name: hyperparameters for name, hyperparameters in BEST.values()}
    passed, message = run(grade_id, stub_overrides(), namespace=namespace)
    assert not passed and "NotImplementedError" in message
