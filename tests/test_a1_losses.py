"""The SVM and softmax losses of assignment 1 against independent references.

References: torch.nn.functional (multi_margin_loss, cross_entropy) with autograd for the gradient,
centred-difference numerical gradients, and the lecture's worked examples computed by hand.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_lib.classifiers.linear_svm import check_loss_inputs, svm_loss_naive, svm_loss_vectorized
from cs_lib.classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized
from cs_lib.gradient_check import eval_numerical_gradient, rel_error

pytestmark = pytest.mark.a1

SVM_LOSSES = [svm_loss_naive, svm_loss_vectorized]
SOFTMAX_LOSSES = [softmax_loss_naive, softmax_loss_vectorized]
ALL_LOSSES = SVM_LOSSES + SOFTMAX_LOSSES
# the lecture's scores for a cat, a car and a frog image (rows) over the classes cat, car, frog
LECTURE_SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])


def torch_reference(kind, W, X, y, reg):
    """(loss, dW) from torch: the mean multiclass hinge (or cross-entropy) plus reg * sum(W**2), by autograd."""
    weights = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    scores = torch.tensor(X, dtype=torch.float64) @ weights
    labels = torch.tensor(y, dtype=torch.int64)
    if kind == "svm":
        # multi_margin_loss divides each example's sum over j != y_i by C
        data_loss = F.multi_margin_loss(scores, labels, margin=1.0, reduction="mean") * W.shape[1]
    else:
        data_loss = F.cross_entropy(scores, labels)
    loss = data_loss + reg * (weights**2).sum()
    loss.backward()
    return loss.item(), weights.grad.numpy()


def random_problem(seed, N, D, C, scale=1.0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((D, C)), scale * rng.standard_normal((N, D)), rng.integers(C, size=N)


problems = st.builds(
    lambda seed, N, D, C, scale: random_problem(seed, N, D, C, scale),
    seed=st.integers(0, 2**32 - 1),
    N=st.integers(1, 12),
    D=st.integers(1, 9),
    C=st.integers(2, 8),
    scale=st.sampled_from([1e-3, 1.0, 30.0]),
)
regs = st.sampled_from([0.0, 1e-3, 0.25, 2.0])


@pytest.mark.parametrize("loss_function", SVM_LOSSES)
@settings(max_examples=25, deadline=None)
@given(problem=problems, reg=regs)
def test_svm_loss_and_gradient_match_torch_multi_margin_loss(loss_function, problem, reg):
    W, X, y = problem
    loss, dW = loss_function(W, X, y, reg)
    expected_loss, expected_dW = torch_reference("svm", W, X, y, reg)
    assert loss == pytest.approx(expected_loss, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(dW, expected_dW, rtol=1e-8, atol=1e-11)


@pytest.mark.parametrize("loss_function", SOFTMAX_LOSSES)
@settings(max_examples=25, deadline=None)
@given(problem=problems, reg=regs)
def test_softmax_loss_and_gradient_match_torch_cross_entropy(loss_function, problem, reg):
    W, X, y = problem
    loss, dW = loss_function(W, X, y, reg)
    expected_loss, expected_dW = torch_reference("softmax", W, X, y, reg)
    assert loss == pytest.approx(expected_loss, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(dW, expected_dW, rtol=1e-8, atol=1e-11)


@pytest.mark.parametrize(
    ("naive", "vectorized"), [(svm_loss_naive, svm_loss_vectorized), (softmax_loss_naive, softmax_loss_vectorized)]
)
@settings(max_examples=25, deadline=None)
@given(problem=problems, reg=regs)
def test_naive_and_vectorized_losses_agree(naive, vectorized, problem, reg):
    W, X, y = problem
    loss_naive, dW_naive = naive(W, X, y, reg)
    loss_vectorized, dW_vectorized = vectorized(W, X, y, reg)
    assert loss_vectorized == pytest.approx(loss_naive, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(dW_vectorized, dW_naive, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss_function", ALL_LOSSES)
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_analytic_gradient_matches_the_numerical_gradient_to_1e_7(loss_function, seed, reg):
    W, X, y = random_problem(seed, N=7, D=5, C=4)
    _, dW = loss_function(W, X, y, reg)
    numerical = eval_numerical_gradient(lambda w: loss_function(w, X, y, reg)[0], W)
    assert rel_error(dW, numerical) < 1e-7


@pytest.mark.parametrize("loss_function", SVM_LOSSES)
def test_svm_loss_on_the_lecture_example_is_5_27(loss_function):
    # with X the identity the scores are the rows of W; per image 2.9, 0 and 12.9
    loss, _ = loss_function(LECTURE_SCORES.copy(), np.eye(3), np.array([0, 1, 2]), 0.0)
    assert loss == pytest.approx((2.9 + 0.0 + 12.9) / 3, rel=1e-12)
    assert round(loss, 2) == 5.27


@pytest.mark.parametrize("loss_function", SOFTMAX_LOSSES)
def test_softmax_loss_of_the_lecture_cat_image_is_2_04(loss_function):
    loss, _ = loss_function(LECTURE_SCORES[:1].copy(), np.eye(1), np.array([0]), 0.0)
    # probabilities 0.13, 0.87, 0.00 for cat, car, frog
    assert loss == pytest.approx(-math.log(math.exp(3.2) / (math.exp(3.2) + math.exp(5.1) + math.exp(-1.7))))
    assert round(loss, 2) == 2.04


@pytest.mark.parametrize("C", [2, 3, 10])
def test_zero_weights_give_svm_loss_c_minus_1_and_softmax_loss_log_c(C):
    rng = np.random.default_rng(C)
    X, y = rng.standard_normal((6, 5)), rng.integers(C, size=6)
    for loss_function in SVM_LOSSES:
        assert loss_function(np.zeros((5, C)), X, y, 0.0)[0] == pytest.approx(C - 1, rel=1e-12)
    for loss_function in SOFTMAX_LOSSES:
        assert loss_function(np.zeros((5, C)), X, y, 0.0)[0] == pytest.approx(math.log(C), rel=1e-12)


@pytest.mark.parametrize("loss_function", SVM_LOSSES)
def test_svm_ignores_correct_classes_that_win_by_more_than_the_margin(loss_function):
    loss, dW = loss_function(5.0 * np.eye(4), np.eye(4), np.arange(4), 0.0)
    assert loss == 0.0
    assert not dW.any()


@pytest.mark.parametrize("loss_function", ALL_LOSSES)
def test_regularisation_adds_reg_times_sum_of_squares_and_its_gradient_is_2_reg_w(loss_function):
    W, X, y = random_problem(11, N=9, D=6, C=3)
    loss_0, dW_0 = loss_function(W, X, y, 0.0)
    loss_r, dW_r = loss_function(W, X, y, 0.7)
    assert loss_r - loss_0 == pytest.approx(0.7 * np.sum(W * W), rel=1e-12)
    np.testing.assert_allclose(dW_r - dW_0, 1.4 * W, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss_function", SOFTMAX_LOSSES)
@pytest.mark.parametrize("offset", [1e3, -1e3, 1e6, -1e12])
def test_softmax_stays_finite_when_every_score_is_huge(loss_function, offset):
    # without the max shift exp(s) overflows (or every exp(s) underflows to 0) and the loss is NaN
    W, X, y = random_problem(3, N=8, D=5, C=6)
    X[:, -1], W[-1] = 1.0, offset
    loss, dW = loss_function(W, X, y, 0.0)
    assert np.isfinite(loss) and np.all(np.isfinite(dW))
    expected_loss, expected_dW = torch_reference("softmax", W, X, y, 0.0)
    assert loss == pytest.approx(expected_loss, rel=1e-6)
    np.testing.assert_allclose(dW, expected_dW, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("loss_function", SVM_LOSSES)
@pytest.mark.parametrize("scale", [1e3, 1e6, 1e12])
def test_svm_stays_finite_with_huge_scores(loss_function, scale):
    W, X, y = random_problem(3, N=8, D=5, C=6, scale=scale)
    loss, dW = loss_function(W, X, y, 0.0)
    assert np.isfinite(loss) and np.all(np.isfinite(dW))
    scores = X @ W
    margins = np.maximum(0, scores - scores[np.arange(8), y][:, None] + 1)
    assert loss == pytest.approx((margins.sum() - 8) / 8, rel=1e-9)  # minus the correct classes' margins of 1


@pytest.mark.parametrize("loss_function", ALL_LOSSES)
def test_a_single_example_gives_that_examples_loss(loss_function):
    W, X, y = random_problem(5, N=4, D=3, C=5)
    losses = [loss_function(W, X[i : i + 1], y[i : i + 1], 0.0) for i in range(4)]
    loss, dW = loss_function(W, X, y, 0.0)
    assert loss == pytest.approx(np.mean([value for value, _ in losses]), rel=1e-12)
    np.testing.assert_allclose(dW, np.mean([grad for _, grad in losses], axis=0), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss_function", ALL_LOSSES)
def test_losses_return_a_scalar_and_a_float64_gradient_shaped_like_w_and_leave_inputs_alone(loss_function):
    W, X, y = random_problem(8, N=6, D=4, C=3)
    copies = W.copy(), X.copy(), y.copy()
    loss, dW = loss_function(W, X, y, 0.1)
    assert np.ndim(loss) == 0 and isinstance(float(loss), float)
    assert isinstance(dW, np.ndarray) and dW.shape == (4, 3) and dW.dtype == np.float64
    for original, after in zip(copies, (W, X, y)):
        np.testing.assert_array_equal(after, original)


@pytest.mark.parametrize(
    ("W_shape", "X_shape", "y", "reg", "message"),
    [
        ((5, 3), (4, 6), [0, 1, 2, 0], 0.0, "X has D = 6 columns but W has D = 5 rows"),
        ((5, 3), (4, 5), [0, 1, 2], 0.0, "shape (4,), got shape (3,)"),
        ((5, 3), (4, 5), [0, 1, 3, 0], 0.0, "labels must lie in 0..2 for C = 3 classes, got labels 0 to 3"),
        ((5, 3), (4, 5), [0.0, 1.0, 2.0, 0.0], 0.0, "integer class labels"),
        ((5, 3), (4, 5), [0, 1, 2, 0], -1.0, "reg must be a number >= 0, got -1.0"),
        ((5, 3), (0, 5), [], 0.0, "N >= 1"),
        ((5,), (4, 5), [0, 1, 2, 0], 0.0, "W must be a (D, C) matrix"),
    ],
)
def test_inputs_that_do_not_fit_raise_value_errors_naming_the_numbers(W_shape, X_shape, y, reg, message):
    W, X, y = np.zeros(W_shape), np.zeros(X_shape), np.array(y)
    for loss_function in [check_loss_inputs, *ALL_LOSSES]:
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
            loss_function(W, X, y, reg)
