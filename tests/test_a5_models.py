"""Assignment 5 models: AlexNet, VGG A/B/D/E (with and without BN) and the CIFAR VGG.

Parameter counts are the papers'/torchvision's published numbers; counting needs no forward pass,
so the big models are built on the meta device (no memory, no initialisation). When torchvision is
importable its models cross-check the counts and state_dict keys (it is optional for the course).
"""

import importlib.util

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cs_lib.pytorch.models import (
    ARCHITECTURES,
    VGG,
    VGG_CONFIGS,
    AlexNet,
    CifarVGG,
    build_model,
    make_vgg_layers,
)

pytestmark = pytest.mark.a5

VGG_PARAMETERS = {  # configuration: (plain, with BN), 1000 classes
    "A": (132_863_336, 132_868_840),
    "B": (133_047_848, 133_053_736),
    "D": (138_357_544, 138_365_992),
    "E": (143_667_240, 143_678_248),
}
HAS_TORCHVISION = importlib.util.find_spec("torchvision") is not None


def parameters(model):
    return sum(p.numel() for p in model.parameters())


def on_meta(factory, *args, **kwargs):
    with torch.device("meta"):
        return factory(*args, **kwargs)


def test_alexnet_has_the_lectures_61_100_840_parameters():
    assert parameters(on_meta(AlexNet)) == 61_100_840


def test_alexnet_with_ten_classes_only_shrinks_the_last_layer():
    assert parameters(on_meta(AlexNet, num_classes=10)) == 61_100_840 - 990 * (4096 + 1)


@pytest.mark.parametrize("config", sorted(VGG_PARAMETERS))
@pytest.mark.parametrize("batch_norm", [False, True])
def test_vgg_parameter_counts_match_the_paper_and_torchvision(config, batch_norm):
    assert parameters(on_meta(VGG, config, batch_norm=batch_norm)) == VGG_PARAMETERS[config][batch_norm]


def test_cifar_vgg16_with_bn_has_14_728_266_parameters():
    assert parameters(on_meta(CifarVGG, "D", batch_norm=True, num_classes=10)) == 14_728_266


def test_alexnet_maps_a_224_image_to_class_scores():
    torch.manual_seed(0)
    model = AlexNet(num_classes=1000).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 224, 224)).shape == (1, 1000)


@pytest.mark.parametrize("size, fits", [(32, False), (62, False), (63, True)])
def test_alexnet_needs_at_least_63_pixels(size, fits):
    """Question 1's answer: 63 -> conv1 15 -> pool 7 -> pool 3 -> pool 1; 62 leaves pool3 a 1 x 1 map."""
    model = on_meta(AlexNet)
    if fits:
        assert model(torch.zeros(1, 3, size, size, device="meta")).shape == (1, 1000)
    else:
        with pytest.raises(RuntimeError):
            model(torch.zeros(1, 3, size, size, device="meta"))


@pytest.mark.parametrize("config", sorted(VGG_PARAMETERS))
@pytest.mark.parametrize("size", [224, 32])
def test_vgg_gives_class_scores_for_224_and_32_pixel_images(config, size):
    model = on_meta(VGG, config, batch_norm=True, num_classes=1000)
    features = model.features(torch.zeros(2, 3, size, size, device="meta"))
    assert features.shape == (2, 512, size // 32, size // 32)
    assert model(torch.zeros(2, 3, size, size, device="meta")).shape == (2, 1000)


def test_cifar_vgg16_maps_32_pixel_images_to_ten_scores():
    torch.manual_seed(0)
    model = CifarVGG("D", batch_norm=True, num_classes=10).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_vgg_configurations_are_the_papers_table():
    convs = {letter: [item for item in layers if item != "M"] for letter, layers in VGG_CONFIGS.items()}
    assert {letter: len(c) for letter, c in convs.items()} == {"A": 8, "B": 10, "D": 13, "E": 16}
    assert all(layers.count("M") == 5 and layers[-1] == "M" for layers in VGG_CONFIGS.values())
    assert convs["D"] == [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]


@settings(max_examples=20, deadline=None)
@given(
    layers=st.lists(st.one_of(st.integers(1, 6), st.just("M")), min_size=1, max_size=6).filter(
        lambda items: items.count("M") <= 3 and any(item != "M" for item in items)
    ),
    batch_norm=st.booleans(),
    in_channels=st.integers(1, 4),
)
def test_make_vgg_layers_keeps_size_through_convs_and_halves_it_at_each_pool(layers, batch_norm, in_channels):
    features = make_vgg_layers(layers, batch_norm=batch_norm, in_channels=in_channels)
    channels, expected_params = in_channels, 0
    for item in layers:
        if item != "M":
            expected_params += 9 * channels * item + item + (2 * item if batch_norm else 0)
            channels = item
    assert parameters(features) == expected_params
    pools = layers.count("M")
    with torch.no_grad():
        out = features.eval()(torch.randn(2, in_channels, 16, 16))
    assert out.shape == (2, channels, 16 // 2**pools, 16 // 2**pools)
    assert all(module.inplace for module in features if isinstance(module, nn.ReLU))


def test_every_model_records_a_config_that_rebuilds_it():
    for model in (
        on_meta(AlexNet, num_classes=7),
        on_meta(VGG, "B", batch_norm=True),
        CifarVGG([4, "M"], num_classes=3),
    ):
        with torch.device("meta"):
            twin = build_model(model.config)
        assert type(twin) is type(model)
        assert [(n, p.shape) for n, p in twin.named_parameters()] == [(n, p.shape) for n, p in model.named_parameters()]


def test_build_model_refuses_unknown_architectures_and_malformed_configs():
    with pytest.raises(ValueError, match="resnet"):
        build_model({"architecture": "resnet", "kwargs": {}})
    with pytest.raises(ValueError, match="dict"):
        build_model("cifar_vgg")
    with pytest.raises(ValueError, match="kwargs"):
        build_model({"architecture": "cifar_vgg", "kwargs": [1]})
    assert set(ARCHITECTURES) == {"alexnet", "vgg", "cifar_vgg"}


def test_vgg_configuration_errors_name_the_problem():
    with pytest.raises(ValueError, match="'F'"):
        VGG("F")
    with pytest.raises(ValueError, match="-3"):
        make_vgg_layers([8, -3])


@pytest.mark.skipif(not HAS_TORCHVISION, reason="torchvision is optional (not installed)")
@pytest.mark.parametrize(
    "name", ["alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"]
)
def test_torchvision_models_have_the_same_parameters_and_state_dict_keys(name):
    import torchvision

    with torch.device("meta"):
        theirs = getattr(torchvision.models, name)(weights=None)
        if name == "alexnet":
            ours = AlexNet()
        else:
            letter = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}[name.removesuffix("_bn")]
            ours = VGG(letter, batch_norm=name.endswith("_bn"))
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
