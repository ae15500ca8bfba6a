"""Assignment 5 counting: conv arithmetic by formula, and per-layer tables from forward hooks.

The references are independent: torch's own conv output shapes and parameter tensors, the formulas
worked by hand for AlexNet, and torchvision's published multiply-add counts ("GFLOPS" in its model
table: 0.71 for AlexNet, 7.61/11.31/15.47/19.63 for VGG-11/13/16/19).
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cs_lib.pytorch.counting import (
    LayerCount,
    conv_counts,
    conv_output_size,
    count_layers,
    count_parameters,
    format_table,
    layer_macs,
)
from cs_lib.pytorch.models import VGG, AlexNet, CifarVGG

pytestmark = pytest.mark.a5

ALEXNET_ROWS = {  # layer: ((C, K, F, H') of a conv) or ((D, M) of a linear layer), from the lecture's code
    "features.0": (3, 64, 11, 55),
    "features.3": (64, 192, 5, 27),
    "features.6": (192, 384, 3, 13),
    "features.8": (384, 256, 3, 13),
    "features.10": (256, 256, 3, 13),
    "classifier.1": (9216, 4096),
    "classifier.4": (4096, 4096),
    "classifier.6": (4096, 1000),
}
TORCHVISION_GMACS = {"A": 7.61, "B": 11.31, "D": 15.47, "E": 19.63}


def on_meta(factory, *args, **kwargs):
    with torch.device("meta"):
        return factory(*args, **kwargs)


def test_the_lectures_example_has_760_parameters_and_768000_multiply_adds():
    assert conv_counts(C=3, H=32, W=32, K=10, F=5, stride=1, pad=2) == ((10, 32, 32), 760, 768_000)


def test_alexnet_conv1_rounds_the_output_size_down_like_pytorch():
    assert conv_counts(C=3, H=224, W=224, K=64, F=11, stride=4, pad=2) == ((64, 55, 55), 23_296, 70_276_800)


def test_a_filter_larger_than_the_padded_input_is_refused_with_the_numbers():
    with pytest.raises(ValueError, match=r"5x5 filter does not fit in 3 \+ 2\*0 = 3"):
        conv_output_size(3, 5, stride=1, pad=0)


@settings(max_examples=25, deadline=None)
@given(
    C=st.integers(1, 4), H=st.integers(1, 12), W=st.integers(1, 12), K=st.integers(1, 5),
    F_size=st.integers(1, 5), stride=st.integers(1, 3), pad=st.integers(0, 2),
)  # fmt: skip
def test_conv_counts_agree_with_a_pytorch_conv_layer(C, H, W, K, F_size, stride, pad):
    if H + 2 * pad < F_size or W + 2 * pad < F_size:
        with pytest.raises(ValueError):
            conv_counts(C, H, W, K, F_size, stride, pad)
        return
    layer = nn.Conv2d(C, K, F_size, stride=stride, padding=pad)
    out = layer(torch.zeros(1, C, H, W))
    shape, params, macs = conv_counts(C, H, W, K, F_size, stride, pad)
    assert shape == tuple(out.shape[1:])
    assert params == sum(p.numel() for p in layer.parameters())
    assert macs == layer.weight.numel() * out.shape[2] * out.shape[3]  # one weight, one multiply-add per position


def test_alexnet_table_matches_the_hand_computed_rows():
    rows = {row.name: row for row in count_layers(on_meta(AlexNet), (3, 224, 224))}
    for name, sizes in ALEXNET_ROWS.items():
        if len(sizes) == 4:
            C, K, F_size, H = sizes
            expected = ((K, H, H), F_size * F_size * C * K + K, F_size * F_size * C * K * H * H)
        else:
            D, M = sizes
            expected = ((M,), D * M + M, D * M)
        assert (rows[name].output_shape, rows[name].params, rows[name].macs) == expected, name
    assert sum(row.params for row in rows.values()) == 61_100_840
    assert sum(row.macs for row in rows.values()) == 714_188_480  # the sum of the rows above; torchvision: 0.71 G


@pytest.mark.parametrize("config", sorted(TORCHVISION_GMACS))
def test_vgg_multiply_adds_match_torchvisions_published_gflops(config):
    rows = count_layers(on_meta(VGG, config), (3, 224, 224))
    assert sum(row.macs for row in rows) / 1e9 == pytest.approx(TORCHVISION_GMACS[config], abs=0.005)
    assert sum(row.params for row in rows) == count_parameters(on_meta(VGG, config))


def test_cifar_vgg16_does_one_49th_of_the_conv_work_of_vgg16():
    cifar = sum(r.macs for r in count_layers(on_meta(CifarVGG, "D"), (3, 32, 32)) if r.kind == "Conv2d")
    imagenet = sum(r.macs for r in count_layers(on_meta(VGG, "D"), (3, 224, 224)) if r.kind == "Conv2d")
    assert cifar * 49 == imagenet


def test_rows_follow_the_order_the_layers_run_in_and_drop_the_batch_dimension():
    class Branches(nn.Module):
        def __init__(self):
            super().__init__()
            self.late = nn.Linear(6, 2)
            self.early = nn.Conv2d(1, 6, 2)

        def forward(self, x):
            return self.late(F.relu(self.early(x)).mean(dim=(2, 3)))

    rows = count_layers(Branches(), (1, 3, 3))
    assert [(r.name, r.kind, r.output_shape) for r in rows] == [
        ("early", "Conv2d", (6, 2, 2)),
        ("late", "Linear", (2,)),
    ]
    assert rows[0].macs == 2 * 2 * 1 * 6 * 2 * 2 and rows[1].macs == 12
    assert all(isinstance(r, LayerCount) for r in rows)


def test_layer_macs_count_grouped_and_depthwise_convolutions_and_nothing_for_other_layers():
    depthwise = nn.Conv2d(8, 8, 3, groups=8, bias=False)
    out = depthwise(torch.zeros(1, 8, 5, 5))
    assert layer_macs(depthwise, out) == 3 * 3 * 8 * 3 * 3
    for module in (nn.ReLU(), nn.BatchNorm2d(8), nn.MaxPool2d(2), nn.Dropout()):
        assert layer_macs(module, out) == 0


def test_count_layers_restores_the_mode_and_removes_its_hooks_even_after_an_error():
    model = nn.Sequential(nn.Conv2d(3, 2, 3), nn.Dropout(), nn.Flatten(), nn.Linear(2, 1))
    model.train()
    with pytest.raises(RuntimeError):
        count_layers(model, (3, 5, 5))  # 2 x 3 x 3 = 18 features reach Linear(2, 1)
    assert model.training and all(not m._forward_hooks for m in model.modules())
    model.eval()
    assert count_layers(model, (3, 3, 3))[-1].output_shape == (1,)
    assert not model.training


def test_count_layers_refuses_an_input_shape_with_a_batch_dimension():
    with pytest.raises(ValueError, match="one image"):
        count_layers(nn.Conv2d(3, 2, 3), (1, 3, 8, 8))


def test_count_parameters_can_skip_frozen_parameters():
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    model[0].requires_grad_(False)
    assert count_parameters(model) == 15 + 8
    assert count_parameters(model, trainable_only=True) == 8


def test_format_table_prints_every_row_and_the_totals():
    rows = [
        LayerCount("features.0", "Conv2d", (64, 55, 55), 23_296, 70_276_800),
        LayerCount("fc", "Linear", (10,), 5, 4),
    ]
    lines = format_table(rows).splitlines()
    assert len(lines) == 4
    assert "64 x 55 x 55" in lines[1] and "70,276,800" in lines[1]
    assert lines[-1].split()[-2:] == ["23,301", "70,276,804"]
