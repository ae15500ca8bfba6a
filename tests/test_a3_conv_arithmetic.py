"""Conv arithmetic (assignment 3): output sizes, parameter counts, receptive fields, 'same' padding."""

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_lib.conv_arithmetic import conv_output_size, conv_param_count, receptive_field, same_padding
from cs_lib.fast_im2col import output_size

pytestmark = pytest.mark.a3


def window_starts(N, F, stride, pad):
    """Left edges of every window that lies inside the padded input, found by walking along it."""
    return list(range(0, N + 2 * pad - F + 1, stride))


@pytest.mark.parametrize(
    "N, F, stride, pad, expected",
    [(7, 3, 1, 0, 5), (7, 3, 2, 0, 3), (7, 3, 1, 1, 7), (32, 5, 1, 2, 32), (227, 11, 4, 0, 55), (55, 3, 2, 0, 27)],
)
def test_conv_output_size_gives_the_lectures_examples(N, F, stride, pad, expected):
    assert conv_output_size(N, F, stride, pad) == expected
    assert isinstance(conv_output_size(N, F, stride, pad), int)


def test_conv_output_size_refuses_stride_3_on_7x7_with_the_lecture_message():
    message = "(7 - 3 + 2*0) / 3 + 1 = 2.33 is not an integer"
    with pytest.raises(ValueError, match=re.escape(message)):
        conv_output_size(7, 3, stride=3, pad=0)


def test_conv_output_size_refuses_a_filter_wider_than_the_padded_input():
    with pytest.raises(ValueError, match="does not fit"):
        conv_output_size(3, 6, stride=1, pad=1)


@settings(max_examples=25, deadline=None)
@given(N=st.integers(1, 40), F=st.integers(1, 12), stride=st.integers(1, 5), pad=st.integers(0, 4))
def test_conv_output_size_counts_the_windows_that_fit_exactly(N, F, stride, pad):
    starts = window_starts(N, F, stride, pad)
    fits = bool(starts) and starts[-1] + F == N + 2 * pad
    if fits:
        assert conv_output_size(N, F, stride, pad) == len(starts)
        assert output_size(N, F, stride, pad) == len(starts)  # the same rule as the fast layers
    else:
        with pytest.raises(ValueError):
            conv_output_size(N, F, stride, pad)


@pytest.mark.parametrize(
    "args, error",
    [
        ((7.0, 3), TypeError),
        ((7, 3, 1.5), TypeError),
        ((7, 3, True), TypeError),
        ((7, 3, 0), ValueError),
        ((7, 3, 1, -1), ValueError),
        ((0, 3), ValueError),
    ],
)
def test_conv_output_size_rejects_invalid_hyperparameters_clearly(args, error):
    with pytest.raises(error):
        conv_output_size(*args)


def test_conv_output_size_accepts_numpy_integers():
    assert conv_output_size(np.int64(7), np.int32(3), np.int64(2), np.int64(0)) == 3


def test_conv_param_count_gives_the_lectures_760():
    assert conv_param_count(F=5, C=3, K=10) == 760


@settings(max_examples=25, deadline=None)
@given(F=st.integers(1, 7), C=st.integers(1, 16), K=st.integers(1, 16))
def test_conv_param_count_matches_torch_conv2d(F, C, K):
    layer = torch.nn.Conv2d(C, K, F)
    assert conv_param_count(F, C, K) == sum(p.numel() for p in layer.parameters())


@settings(max_examples=25, deadline=None)
@given(L=st.integers(0, 8), K=st.integers(1, 7))
def test_receptive_field_is_the_support_of_stacked_box_filters(L, K):
    # one output of L stacked KxK stride-1 layers depends on the support of L box filters convolved together
    support = np.ones(1)
    for _ in range(L):
        support = np.convolve(support, np.ones(K))
    assert receptive_field(L, K) == len(support)


def test_receptive_field_of_three_3x3_layers_is_that_of_one_7x7():
    assert receptive_field(3, 3) == 7 == receptive_field(1, 7)


@pytest.mark.parametrize("F", [1, 3, 5, 7, 11])
@pytest.mark.parametrize("N", [7, 8, 32])
def test_same_padding_keeps_the_size_with_stride_1(F, N):
    assert conv_output_size(N, F, 1, same_padding(F)) == N


@pytest.mark.parametrize("F", [2, 4, 6])
def test_same_padding_refuses_even_filters(F):
    with pytest.raises(ValueError, match=f"a {F}-wide filter has no symmetric 'same' padding"):
        same_padding(F)
