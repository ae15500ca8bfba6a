"""LinearClassifier, LinearSVM and Softmax of assignment 1: SGD, prediction and accuracy on the embedded data."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_lib.classifiers.linear_classifier import INIT_SCALE, LinearClassifier, LinearSVM, Softmax
from cs_lib.classifiers.linear_svm import svm_loss_naive
from cs_lib.classifiers.softmax import softmax_loss_naive

pytestmark = pytest.mark.a1

CLASSIFIERS = [LinearSVM, Softmax]


def clusters(seed=2, N=300, D=4, C=3, spread=3.0):
    """N points around C random centres in D dimensions, plus a bias column of ones."""
    rng = np.random.default_rng(seed)
    centres = spread * rng.standard_normal((C, D))
    y = rng.integers(C, size=N)
    return np.hstack([centres[y] + rng.standard_normal((N, D)), np.ones((N, 1))]), y


class Recorder(LinearClassifier):
    """Loss 1, 2, 3, ... with a constant gradient, recording every minibatch it is given."""

    def __init__(self, gradient=0.25, seed=1):
        super().__init__(seed=seed)
        self.gradient = gradient
        self.calls = []

    def loss(self, X_batch, y_batch, reg):
        self.calls.append((np.array(X_batch, copy=True), np.array(y_batch, copy=True), reg))
        return float(len(self.calls)), np.full(self.W.shape, self.gradient)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), N=st.integers(1, 30), D=st.integers(1, 6), C=st.integers(2, 7))
def test_predict_returns_the_highest_scoring_class_of_each_row(seed, N, D, C):
    rng = np.random.default_rng(seed)
    classifier = LinearClassifier()
    classifier.W = rng.standard_normal((D, C))
    X = rng.standard_normal((N, D))
    y_pred = classifier.predict(X)
    assert y_pred.shape == (N,) and np.issubdtype(y_pred.dtype, np.integer)
    for i in range(N):
        scores = [float(X[i] @ classifier.W[:, c]) for c in range(C)]
        assert y_pred[i] == scores.index(max(scores))


@pytest.mark.parametrize("classifier_class", CLASSIFIERS)
def test_training_on_separable_clusters_lowers_the_loss_and_classifies_them(classifier_class):
    X, y = clusters()
    classifier = classifier_class(seed=0)
    history = classifier.train(X, y, learning_rate=0.05, reg=1e-3, num_iters=150, batch_size=30)
    assert isinstance(history, list) and len(history) == 150 and np.all(np.isfinite(history))
    assert np.mean(history[-10:]) < 0.5 * np.mean(history[:10])
    assert np.mean(classifier.predict(X) == y) > 0.9


def test_weights_are_created_on_the_first_train_call_as_0_001_standard_normal():
    X, y = clusters(N=50, D=40, C=25)
    classifier = Softmax(seed=3)
    assert classifier.W is None
    assert classifier.train(X, y, num_iters=0) == []
    assert classifier.W.shape == (41, int(y.max()) + 1)
    assert classifier.W.std() == pytest.approx(INIT_SCALE, rel=0.1)
    assert INIT_SCALE == 0.001


def test_a_second_train_call_continues_from_the_current_weights():
    X, y = clusters(N=40, D=3, C=3)
    recorder = Recorder()
    recorder.train(X, y, num_iters=0)
    start = recorder.W.copy()
    recorder.train(X, y, learning_rate=0.1, num_iters=3)
    recorder.train(X, y, learning_rate=0.1, num_iters=2)
    np.testing.assert_allclose(recorder.W, start - 5 * 0.1 * 0.25, rtol=1e-12)


def test_each_step_feeds_loss_a_matching_minibatch_and_follows_the_negative_gradient():
    labels = np.arange(40) % 3
    features = np.hstack([np.arange(40.0)[:, None], np.random.default_rng(0).standard_normal((40, 2))])
    recorder = Recorder(gradient=-0.5)
    recorder.train(features, labels, num_iters=0)
    start = recorder.W.copy()
    history = recorder.train(features, labels, learning_rate=0.2, reg=0.3, num_iters=7, batch_size=16)
    assert history == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    np.testing.assert_allclose(recorder.W, start + 7 * 0.2 * 0.5, rtol=1e-12)
    for X_batch, y_batch, reg in recorder.calls:
        rows = X_batch[:, 0].astype(int)
        assert X_batch.shape == (16, 3) and y_batch.shape == (16,) and reg == 0.3
        np.testing.assert_array_equal(X_batch, features[rows])
        np.testing.assert_array_equal(y_batch, labels[rows])
    drawn = np.concatenate([X_batch[:, 0] for X_batch, _, _ in recorder.calls])
    assert len(np.unique(drawn)) > 30, "minibatches should be drawn at random from all the rows"


def test_the_same_seed_trains_the_same_way_and_another_seed_differently():
    X, y = clusters()
    runs = {}
    for seed in (7, 7, 8):
        classifier = Softmax(seed=seed)
        runs.setdefault(seed, []).append((classifier.train(X, y, 0.05, 1e-3, 20, 30), classifier.W))
    (history_a, W_a), (history_b, W_b) = runs[7]
    assert history_a == history_b
    np.testing.assert_array_equal(W_a, W_b)
    assert runs[8][0][0] != history_a


@pytest.mark.parametrize(
    ("classifier_class", "loss_function"), [(LinearSVM, svm_loss_naive), (Softmax, softmax_loss_naive)]
)
def test_linear_svm_and_softmax_use_their_own_loss_with_the_given_reg(classifier_class, loss_function):
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((8, 5)), rng.integers(3, size=8)
    classifier = classifier_class()
    classifier.W = rng.standard_normal((5, 3))
    loss, dW = classifier.loss(X, y, 0.4)
    expected_loss, expected_dW = loss_function(classifier.W, X, y, 0.4)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    np.testing.assert_allclose(dW, expected_dW, rtol=1e-10, atol=1e-14)


def test_the_base_class_has_no_loss():
    with pytest.raises(NotImplementedError, match="LinearSVM or Softmax"):
        LinearClassifier().loss(np.zeros((2, 3)), np.zeros(2, dtype=int), 0.0)


def test_train_and_predict_refuse_inputs_that_do_not_fit():
    X, y = clusters(N=20, D=3, C=3)
    classifier = LinearSVM(seed=0)
    with pytest.raises(RuntimeError, match="call train first"):
        classifier.predict(X)
    with pytest.raises(ValueError, match=r"X \(N, D\) and y \(N,\), got shapes \(20, 4\) and \(19,\)"):
        classifier.train(X, y[:-1])
    with pytest.raises(ValueError, match="batch_size must be >= 1 and num_iters >= 0, got 0 and 10"):
        classifier.train(X, y, batch_size=0, num_iters=10)
    classifier.train(X, y, num_iters=1, batch_size=5)
    with pytest.raises(ValueError, match=r"predict needs X of shape \(N, 4\), got \(20, 3\)"):
        classifier.predict(X[:, :3])
    with pytest.raises(ValueError, match=r"W has shape \(4, 3\) from earlier training, which does not fit D = 3"):
        classifier.train(X[:, :3], y)
