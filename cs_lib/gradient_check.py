"""Numerical gradients by centred differences, for checking analytic ones.

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)

The error of the centred difference is O(h^2), so with h = 1e-5 in float64 a
correct analytic gradient agrees to a relative error of about 1e-7 or better;
1e-2 or worse almost always means a bug. Every function perturbs x in place
and restores it, so f must read x when called (as a closure over x does).
"""

import numpy as np


def rel_error(x, y):
    """Largest elementwise relative error max |x - y| / max(1e-8, |x| + |y|)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error needs arrays of one shape, got {x.shape} and {y.shape}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def _check_perturbable(x):
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            "gradient checks perturb x in place, so x must be a float numpy array "
            f"(float64 for accurate checks), got {type(x).__name__} {getattr(x, 'dtype', '')}"
        )


def eval_numerical_gradient(f, x, verbose=False, h=1e-5):
    """Gradient of a scalar function f at x, one coordinate at a time.

    f takes x and returns a number; x (any shape) is perturbed in place and restored.
    """
    _check_perturbable(x)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        index = it.multi_index
        original = x[index]
        x[index] = original + h
        f_plus = float(f(x))
        x[index] = original - h
        f_minus = float(f(x))
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * h)
        if verbose:
            print(index, grad[index])
        it.iternext()
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Gradient of sum(f(x) * df) at x, for an array-valued f and an upstream gradient df."""
    _check_perturbable(x)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        index = it.multi_index
        original = x[index]
        x[index] = original + h
        positive = np.array(f(x), dtype=np.float64, copy=True)
        x[index] = original - h
        negative = np.array(f(x), dtype=np.float64, copy=True)
        x[index] = original
        if positive.shape != np.shape(df):
            raise ValueError(f"f(x) has shape {positive.shape} but the upstream gradient df has {np.shape(df)}")
        grad[index] = np.sum((positive - negative) * df) / (2 * h)
        it.iternext()
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, seed=None, verbose=True):
    """Compare analytic_grad with centred differences at num_checks random coordinates of x.

    Returns the list of relative errors (one per coordinate checked) and prints them when verbose.
    """
    _check_perturbable(x)
    analytic_grad = np.asarray(analytic_grad)
    if analytic_grad.shape != x.shape:
        raise ValueError(f"analytic_grad has shape {analytic_grad.shape}, x has {x.shape}")
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(num_checks):
        index = tuple(int(rng.integers(size)) for size in x.shape)
        original = x[index]
        x[index] = original + h
        f_plus = float(f(x))
        x[index] = original - h
        f_minus = float(f(x))
        x[index] = original
        numerical = (f_plus - f_minus) / (2 * h)
        analytic = float(analytic_grad[index])
        error = abs(numerical - analytic) / max(1e-12, abs(numerical) + abs(analytic))
        errors.append(error)
        if verbose:
            print(f"numerical: {numerical:f} analytic: {analytic:f}, relative error: {error:e}")
    return errors


def eval_numerical_gradient_params(model, X, y, names=None, h=1e-5):
    """{name: numerical gradient of model.loss(X, y)[0]} for each of model.params (all, or names).

    Each parameter is perturbed in a copy that is assigned back to model.params[name] before every
    loss evaluation, and restored afterwards -- so it works for any model with a params dict, also
    one whose params hand out copies of their arrays.
    """
    gradients = {}
    for name in sorted(model.params) if names is None else names:
        original = np.array(model.params[name], dtype=np.float64, copy=True)
        value = original.copy()

        def loss_at(w, name=name):
            model.params[name] = w.copy()
            return model.loss(X, y)[0]

        try:
            gradients[name] = eval_numerical_gradient(loss_at, value, h=h)
        finally:
            model.params[name] = original
    return gradients
