# ruff: noqa: F401, F841
"""Convolution arithmetic: output sizes, parameter counts, receptive fields and 'same' padding.

The lecture's letters: an input of width N (or height), a filter of width F, K filters,
C input channels, L stacked layers.

    conv_output_size(7, 3, stride=2, pad=0)   # 3: a 7x7 input, 3x3 filter, stride 2 gives a 3x3 output
    conv_param_count(F=5, C=3, K=10)          # 760: ten 5x5x3 filters
    receptive_field(L=3, K=3)                 # 7: three 3x3 layers see as far as one 7x7 layer
    same_padding(5)                           # 2: a 5x5 filter with stride 1 and pad 2 keeps the size
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
    """Width (or height) of a convolution's output, the lecture's "output size".

    N: input width (or height); F: filter width; stride >= 1; pad >= 0 zeros on each side.
    The lecture's examples: a 7x7 input with a 3x3 filter gives 5 with stride 1 and 3 with stride 2;
    32x32 with 5x5 filters, stride 1, pad 2 stays 32.

    The filter must fit exactly. Raise ValueError, naming the numbers, when
      - it is wider than the padded input, or
      - its last window would hang over the edge (the output size is not an integer), e.g. for
        N = 7, F = 3, stride 3:
        "stride 3 does not fit: (7 - 3 + 2*0) / 3 + 1 = 2.33 is not an integer".
    Returns the output width as an int.
    """
    N = _check_integer(N, "N", 1)
    F = _check_integer(F, "F", 1)
    stride = _check_integer(stride, "stride", 1)
    pad = _check_integer(pad, "pad", 0)
    # TODO: return the lecture's output size as an int; raise ValueError naming the numbers (as above) when the filter does not fit
    raise NotImplementedError(
        "conv_output_size: return the lecture's output size as an int; raise ValueError naming the numbers (as above) when the filter does not fit"
    )


def conv_param_count(F, C, K):
    """Learnable parameters (weights and biases) of a conv layer with K filters of size F x F x C.

    The lecture's example: ten 5x5 filters on a 32x32x3 input have 760 parameters (each filter
    has 5*5*3 = 75 weights and one bias); the input's width and height do not matter. Returns an int.
    """
    F = _check_integer(F, "F", 1)
    C = _check_integer(C, "C", 1)
    K = _check_integer(K, "K", 1)
    # TODO: count every filter's weights and its bias; return the total as an int
    raise NotImplementedError("conv_param_count: count every filter's weights and its bias; return the total as an int")


def receptive_field(L, K):
    """Width of the input region that one output of L stacked K x K convolutions (stride 1) depends on.

    Three 3x3 layers see 7 pixels, like one 7x7 layer; one 5x5 layer sees 5.
    L >= 0 (zero layers see one pixel). Returns an int.
    """
    L = _check_integer(L, "L", 0)
    K = _check_integer(K, "K", 1)
    # TODO: work out how much each layer widens the field; return the receptive field as an int
    raise NotImplementedError(
        "receptive_field: work out how much each layer widens the field; return the receptive field as an int"
    )


def same_padding(F):
    """Zero padding on each side that keeps the width with stride 1 ("same" padding), as an int.

    The lecture's table: a 3x3 filter needs pad 1 to keep a 7x7 input 7x7. Only an odd F can be
    padded equally on both sides: raise ValueError for an even F, naming it, e.g.
    "a 4-wide filter has no symmetric 'same' padding: only an odd width can be padded equally on both sides".
    """
    F = _check_integer(F, "F", 1)
    # TODO: return the padding that makes the output as wide as the input; raise ValueError (as above) for an even F
    raise NotImplementedError(
        "same_padding: return the padding that makes the output as wide as the input; raise ValueError (as above) for an even F"
    )
