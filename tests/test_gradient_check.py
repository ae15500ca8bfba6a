"""The numerical gradient helpers agree with known analytic gradients (they check everything else)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_lib.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, grad_check_sparse, rel_error

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)
H = 1e-5  # the step the helpers take by default
EPS = np.finfo(np.float64).eps


def centred_difference_error(third_derivative, rounding, gradient, x):
    """A bound, coordinate by coordinate, on |(f(x + h) - f(x - h)) / 2h - f'(x)|: the truncation error
    third_derivative * h**2 / 6 (third_derivative: a bound on |f'''| near x); f's rounding (each evaluation off
    by at most `rounding`, the difference by twice that, over 2h); and the step's own rounding (x + h and
    x - h are rounded, so the step taken is 2h off by up to eps * (|x| + h), an error the quotient multiplies
    by f'). The rounding terms do not shrink with f': near a small gradient no relative error is bounded."""
    return third_derivative * H**2 / 6 + rounding / H + np.abs(gradient) * EPS * (np.abs(x) + H) / H


@settings(max_examples=25, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_numerical_gradient_of_quadratic_and_sine_matches_analytic(shape, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal(shape)
    x = rng.standard_normal(shape)

    def f(x):
        return np.sum(A * x**2) + np.sum(np.sin(x))

    analytic = 2 * A * x + np.cos(x)
    numeric = eval_numerical_gradient(f, x)
    # a coordinate's third derivative is -cos, at most 1 in size; f sums 2 * x.size terms, each rounded a few
    # times (x**2, the product with A, sin), and the sums are off by at most eps per term times the magnitudes
    magnitude = np.sum(np.abs(A) * (np.abs(x) + H) ** 2) + x.size
    bound = centred_difference_error(1.0, (2 * x.size + 3) * EPS * magnitude, analytic, x)
    np.testing.assert_array_less(np.abs(numeric - analytic), bound)
    assert bound.max() < 1e-6, "a bound this loose would miss a forward difference (its error is about h = 1e-5)"


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 4), d=st.integers(1, 5), m=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_array_gradient_of_matrix_product_matches_upstream_times_transpose(n, d, m, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    w = rng.standard_normal((d, m))
    dout = rng.standard_normal((n, m))
    numeric_x = eval_numerical_gradient_array(lambda x: x @ w, x, dout)
    numeric_w = eval_numerical_gradient_array(lambda w: x @ w, w, dout)
    # linear, so no truncation error. An entry of x @ w sums d products, off by at most (d + 1) eps times
    # (|x| @ |w|); the helper weights the n * m entries' differences by dout and sums them, rounding again in
    # proportion to the derivatives (|w| or |x|): the + 1 below covers those
    magnitude = np.sum(((np.abs(x) + 1) @ (np.abs(w) + 1)) * np.abs(dout))
    rounding = (d + n * m + 2) * EPS * magnitude
    for numeric, analytic, at in ((numeric_x, dout @ w.T, x), (numeric_w, x.T @ dout, w)):
        np.testing.assert_array_less(np.abs(numeric - analytic), centred_difference_error(0.0, rounding, analytic, at))


def test_numerical_gradient_restores_the_input():
    x = np.arange(6, dtype=np.float64).reshape(2, 3)
    before = x.copy()
    eval_numerical_gradient(lambda v: np.sum(v**3), x)
    eval_numerical_gradient_array(lambda v: v * 2, x, np.ones_like(x))
    np.testing.assert_array_equal(x, before)


def test_sparse_check_reports_small_errors_for_correct_and_large_for_wrong_gradient():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4))
    good = grad_check_sparse(lambda v: np.sum(v**2), x, 2 * x, num_checks=8, seed=1, verbose=False)
    bad = grad_check_sparse(lambda v: np.sum(v**2), x, 3 * x, num_checks=8, seed=1, verbose=False)
    assert len(good) == 8 and max(good) < 1e-7
    assert min(bad) > 0.1


def test_verbose_numerical_gradient_prints_each_coordinate(capsys):
    eval_numerical_gradient(lambda v: float(np.sum(v)), np.zeros(2), verbose=True)
    assert capsys.readouterr().out.count("\n") == 2


def test_rel_error_is_zero_for_equal_arrays_and_symmetric():
    a = np.array([1.0, -2.0, 3.0])
    b = np.array([1.1, -2.0, 2.9])
    assert rel_error(a, a) == 0.0
    assert rel_error(a, b) == rel_error(b, a) > 0


def test_gradient_helpers_reject_integer_arrays_with_a_clear_message():
    with pytest.raises(TypeError, match="float numpy array"):
        eval_numerical_gradient(lambda v: 0.0, np.arange(3))
    with pytest.raises(ValueError, match="one shape"):
        rel_error(np.zeros(2), np.zeros(3))


class _CopyingParams(dict):
    """A params dict that hands out copies, as a model living in another process does."""

    def __getitem__(self, name):
        return super().__getitem__(name).copy()


class _QuadraticModel:
    def __init__(self, rng):
        self.params = _CopyingParams(W=rng.standard_normal((3, 2)), b=rng.standard_normal(2))

    def loss(self, X, y=None):
        W, b = dict.__getitem__(self.params, "W"), dict.__getitem__(self.params, "b")
        scores = X @ W + b
        grads = {"W": X.T @ (2 * scores), "b": (2 * scores).sum(axis=0)}
        return float((scores**2).sum()), grads


def test_numerical_gradient_of_params_works_when_params_hand_out_copies(rng):
    from cs_lib.gradient_check import eval_numerical_gradient_params, rel_error

    model = _QuadraticModel(rng)
    X = rng.standard_normal((4, 3))
    before = {name: dict.__getitem__(model.params, name).copy() for name in model.params}
    numerical = eval_numerical_gradient_params(model, X, None)
    _, analytic = model.loss(X)
    assert sorted(numerical) == ["W", "b"]
    for name in numerical:
        assert rel_error(numerical[name], analytic[name]) < 1e-7
        np.testing.assert_array_equal(dict.__getitem__(model.params, name), before[name])
