# ruff: noqa: F401, F841
"""Convolution arithmetic: output sizes, parameter counts, receptive fields and 'same' padding.

The lecture's letters: an input of width N (or height), a filter of width F, K filters,
C input channels, L stacked layers.

    conv_output_size(7, 3, stride=2, pad=0)   # (7 - 3 + 2*0) / 2 + 1 = 3
    conv_param_count(F=5, C=3, K=10)          # 5*5*3*10 + 10 = 760
    receptive_field(L=3, K=3)                 # 1 + 3*(3 - 1) = 7
    same_padding(5)                           # (5 - 1) / 2 = 2
"""

import operator


def _check_integer(value, name, minimum):
    """value as an int (numpy integers too), or a clear TypeError/ValueError."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an integer, got {value!r} of type {type(value).__name__}")
    value = operator.index(value)
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def conv_output_size(N, F, stride=1, pad=0):
    """Width of a convolution's output: (N - F + 2*pad) / stride + 1.

    N: input width (or height); F: filter width; stride >= 1; pad >= 0 zeros on each side.
    The lecture's examples: a 7x7 input with a 3x3 filter gives 5 with stride 1 and 3 with stride 2;
    32x32 with 5x5 filters, stride 1, pad 2 stays 32.

    The filter must fit exactly. Raise ValueError, naming the numbers, when
      - it is wider than the padded input (N + 2*pad < F), or
      - the stride does not divide N - F + 2*pad, e.g. for N = 7, F = 3, stride 3:
        "stride 3 does not fit: (7 - 3 + 2*0) / 3 + 1 = 2.33 is not an integer".
    Returns the output width as an int.
    """
    N = _check_integer(N, "N", 1)
    F = _check_integer(F, "F", 1)
    stride = _check_integer(stride, "stride", 1)
    pad = _check_integer(pad, "pad", 0)
    # TODO: raise ValueError (with the numbers, as above) when the filter does not fit; else return (N - F + 2*pad) // stride + 1
    raise NotImplementedError(
        "conv_output_size: raise ValueError (with the numbers, as above) when the filter does not fit; else return (N - F + 2*pad) // stride + 1"
    )


def conv_param_count(F, C, K):
    """Learnable parameters of a conv layer with K filters of size F x F x C: F*F*C*K weights + K biases.

    The lecture's example: ten 5x5 filters on a 32x32x3 input have 5*5*3*10 + 10 = 760 parameters
    (the input's width and height do not matter). Returns an int.
    """
    F = _check_integer(F, "F", 1)
    C = _check_integer(C, "C", 1)
    K = _check_integer(K, "K", 1)
    # TODO: return the number of weights F*F*C*K plus one bias per filter
    raise NotImplementedError("conv_param_count: return the number of weights F*F*C*K plus one bias per filter")


def receptive_field(L, K):
    """Width of the input region one output of L stacked K x K convolutions (stride 1) sees: 1 + L*(K - 1).

    Each layer widens the field by K - 1: three 3x3 layers see 1 + 3*2 = 7 pixels, like one 7x7 layer.
    L >= 0 (zero layers see one pixel). Returns an int.
    """
    L = _check_integer(L, "L", 0)
    K = _check_integer(K, "K", 1)
    # TODO: return the receptive field 1 + L*(K - 1)
    raise NotImplementedError("receptive_field: return the receptive field 1 + L*(K - 1)")


def same_padding(F):
    """Zero padding that keeps the width with stride 1: pad = (F - 1) / 2 (F = 3 -> 1, 5 -> 2, 7 -> 3).

    Only odd F can pad both sides equally: raise ValueError for an even F, e.g.
    "a 4-wide filter has no symmetric 'same' padding: (4 - 1) / 2 = 1.5 is not an integer".
    Returns an int.
    """
    F = _check_integer(F, "F", 1)
    # TODO: raise ValueError for even F; otherwise return (F - 1) // 2
    raise NotImplementedError("same_padding: raise ValueError for even F; otherwise return (F - 1) // 2")
