"""The numerical gradient helpers agree with known analytic gradients (they check everything else)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_lib.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, grad_check_sparse, rel_error

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


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
    assert rel_error(numeric, analytic) < 1e-7


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 4), d=st.integers(1, 5), m=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_array_gradient_of_matrix_product_matches_upstream_times_transpose(n, d, m, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    w = rng.standard_normal((d, m))
    dout = rng.standard_normal((n, m))
    numeric_x = eval_numerical_gradient_array(lambda x: x @ w, x, dout)
    numeric_w = eval_numerical_gradient_array(lambda w: x @ w, w, dout)
    assert rel_error(numeric_x, dout @ w.T) < 1e-7
    assert rel_error(numeric_w, x.T @ dout) < 1e-7


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
