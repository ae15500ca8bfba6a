"""Checks used by the notebooks' test cells (provided): each failure names the function and the numbers.

    check_rel_error(dW, dW_expected, "svm_loss_naive dW", tol=1e-7)

Results are converted to plain float64 numpy arrays before any comparison, so an object that
claims to equal everything, or an array subclass with its own ``__eq__``, cannot pass a check.
The numpy functions used here are bound when this module is imported (by the setup cell, before
any student code runs), so replacing them in numpy afterwards does not change what a check does.
"""

import math

import numpy as np

_asarray = np.asarray
_isfinite = np.isfinite
_abs = np.abs
_maximum = np.maximum
_max = np.max
_ndarray = np.ndarray
_float64 = np.float64
_isclose = math.isclose


class CheckError(AssertionError):
    """A test cell's check failed; the message says what was expected."""


class Measured(float):
    """The number a passing check measured (a float), displayed as "passed: ...".

    A test cell's last expression is read by nbgrader as partial credit when it is a number, so a
    cell ending in ``check_rel_error(...)`` must not display a bare float.
    """

    def __new__(cls, value, label):
        measured = super().__new__(cls, value)
        measured.label = label
        return measured

    def __repr__(self):
        return f"passed: {self.label} ({float.__repr__(self)})"

    def __str__(self):
        return float.__repr__(self)


def as_array(value, name, shape=None):
    """value as a float64 ndarray (never a subclass), failing clearly if it is not numeric."""
    if value is None:
        raise CheckError(f"{name} is None: the function returned nothing (is a `return` missing?)")
    if isinstance(value, tuple) and len(value) and not isinstance(value[0], (int, float, np.number)):
        raise CheckError(f"{name} is a tuple; expected one array (did the function return extra values?)")
    given = getattr(value, "shape", None)
    if shape is not None and isinstance(given, tuple) and tuple(given) != tuple(shape):
        # before converting: a wrong-shaped answer can be far larger than the expected one
        raise CheckError(f"{name} has shape {tuple(given)}, expected {tuple(shape)}")
    try:
        array = _asarray(value, dtype=_float64)
    except (TypeError, ValueError) as error:
        raise CheckError(f"{name} must be numeric, got {type(value).__name__} ({error})") from None
    if type(array) is not _ndarray:
        array = array.view(_ndarray)
    if shape is not None and tuple(array.shape) != tuple(shape):
        raise CheckError(f"{name} has shape {tuple(array.shape)}, expected {tuple(shape)}")
    return array


def as_scalar(value, name):
    """value as a Python float (a 0-d or size-1 array is accepted)."""
    array = as_array(value, name)
    if array.size != 1:
        raise CheckError(f"{name} must be a single number, got an array of shape {array.shape}")
    return float(array.reshape(-1)[0])


def check_finite(value, name):
    array = as_array(value, name)
    bad = int(array.size - _isfinite(array).sum())
    if bad:
        raise CheckError(f"{name} has {bad} NaN or infinite entries out of {array.size}")
    return array


def rel_error(actual, expected):
    actual = as_array(actual, "actual")
    expected = as_array(expected, "expected")
    if actual.size == 0:
        return 0.0
    return float(_max(_abs(actual - expected) / _maximum(1e-8, _abs(actual) + _abs(expected))))


def check_shape(value, shape, name):
    as_array(value, name, shape=shape)


def check_rel_error(actual, expected, name, tol=1e-7):
    """The lecture's relative error max |a - e| / max(1e-8, |a| + |e|) must be below tol."""
    expected = as_array(expected, f"expected {name}")
    actual = as_array(actual, name, shape=expected.shape)
    check_finite(actual, name)
    error = rel_error(actual, expected)
    if not error < tol:
        raise CheckError(f"{name}: relative error {error:.2e} exceeds {tol:.0e}")
    return Measured(error, f"{name} relative error")


def check_close(actual, expected, name, rtol=1e-6, atol=1e-8):
    """Every entry within atol + rtol*|expected| of the expected value."""
    expected = as_array(expected, f"expected {name}")
    actual = as_array(actual, name, shape=expected.shape)
    check_finite(actual, name)
    gap = _abs(actual - expected) - (atol + rtol * _abs(expected))
    worst = int(gap.argmax()) if gap.size else 0
    if gap.size and gap.reshape(-1)[worst] > 0:
        index = tuple(int(i) for i in np.unravel_index(worst, expected.shape)) if expected.ndim else ()
        raise CheckError(
            f"{name}: entry {index} is {float(actual[index])!r}, expected {float(expected[index])!r} "
            f"(tolerance {atol:g} + {rtol:g}*|expected|)"
        )


def check_scalar(value, expected, name, rtol=1e-6, atol=1e-8):
    got = as_scalar(value, name)
    if not math.isfinite(got) or not _isclose(got, float(expected), rel_tol=rtol, abs_tol=atol):
        raise CheckError(f"{name} is {got!r}, expected {float(expected)!r} (rtol {rtol:g}, atol {atol:g})")
    return Measured(got, name)


def check_true(condition, message):
    if condition is not True and condition is not np.True_:
        raise CheckError(message)


def check_raises(error_type, function, *args, name=None, match=None, **kwargs):
    """function(*args, **kwargs) must raise error_type (whose message contains match, when given)."""
    label = name or getattr(function, "__name__", "the function")
    try:
        function(*args, **kwargs)
    except error_type as error:
        if match is not None and match not in str(error):
            raise CheckError(
                f"{label} raised {type(error).__name__}({error!s}), whose message should mention {match!r}"
            ) from None
        return error
    except Exception as error:
        raise CheckError(f"{label} raised {type(error).__name__}: {error}; expected {error_type.__name__}") from None
    raise CheckError(f"{label} did not raise {error_type.__name__}")
