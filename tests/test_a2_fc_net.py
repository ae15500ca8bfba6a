"""Assignment 2 networks (cs_lib/classifiers/fc_net.py) against torch autograd and numerical gradients."""

import importlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cs_lib.classifiers.fc_net import FullyConnectedNet, TwoLayerNet
from cs_lib.gradient_check import eval_numerical_gradient
from cs_lib.layers import dropout_forward

pytestmark = pytest.mark.a2


def rel_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))) if a.size else 0.0


def randomise_biases(model, rng):
    """Non-zero biases, so that no ReLU input sits exactly at the kink and every bias is exercised."""
    for name, value in model.params.items():
        if name.startswith("b"):
            model.params[name] = 0.1 * rng.standard_normal(value.shape)


def autograd_loss_and_grads(params, X, y, num_layers, reg, masks=None):
    """The plain net {affine - relu - [mask]} x (L-1) - affine - softmax + 0.5 reg sum W^2, in torch."""
    t = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True) for name, value in params.items()}
    hidden = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64).reshape(len(X), -1))
    for i in range(1, num_layers):
        hidden = torch.relu(hidden @ t[f"W{i}"] + t[f"b{i}"])
        if masks is not None:
            hidden = hidden * torch.from_numpy(masks[i - 1])
    scores = hidden @ t[f"W{num_layers}"] + t[f"b{num_layers}"]
    loss = F.cross_entropy(scores, torch.from_numpy(y)) + 0.5 * reg * sum(
        t[f"W{i}"].pow(2).sum() for i in range(1, num_layers + 1)
    )
    loss.backward()
    return loss.item(), scores.detach().numpy(), {name: value.grad.numpy() for name, value in t.items()}


def test_two_layer_net_has_the_lecture_shapes_and_initial_scales():
    model = TwoLayerNet(input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, seed=0)
    shapes = {name: value.shape for name, value in model.params.items()}
    assert shapes == {"W1": (3072, 100), "b1": (100,), "W2": (100, 10), "b2": (10,)}
    assert np.std(model.params["W1"]) == pytest.approx(1e-3, rel=0.02)
    assert not model.params["b1"].any() and not model.params["b2"].any()
    again = TwoLayerNet(seed=0)
    np.testing.assert_array_equal(again.params["W2"], model.params["W2"])


@pytest.mark.parametrize(("N", "reg"), [(1, 0.0), (1, 0.4), (5, 0.0), (5, 1.3)])
def test_two_layer_net_loss_and_gradients_match_autograd_with_weights_only_regularised(N, reg, rng):
    model = TwoLayerNet(input_dim=12, hidden_dim=7, num_classes=4, weight_scale=0.4, reg=reg, seed=1)
    randomise_biases(model, rng)
    X = rng.standard_normal((N, 3, 2, 2))
    y = rng.integers(4, size=N)
    loss, grads = model.loss(X, y)
    expected_loss, expected_scores, expected_grads = autograd_loss_and_grads(model.params, X, y, 2, reg)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert rel_error(model.loss(X), expected_scores) < 1e-12
    for name in model.params:
        assert rel_error(grads[name], expected_grads[name]) < 1e-10, name


def test_two_layer_net_gradients_agree_with_numerical_gradients(rng):
    model = TwoLayerNet(input_dim=5, hidden_dim=6, num_classes=3, weight_scale=0.5, reg=0.7, seed=2)
    randomise_biases(model, rng)
    X, y = rng.standard_normal((4, 5)), rng.integers(3, size=4)
    _, grads = model.loss(X, y)
    for name, value in model.params.items():
        numerical = eval_numerical_gradient(lambda _: model.loss(X, y)[0], value)
        assert rel_error(grads[name], numerical) < 1e-6, name


@pytest.mark.parametrize("hidden_dims", [[], [6], [5, 7], [4, 5, 6, 5, 4], [3, 4, 5, 4, 3, 4, 5]])
@pytest.mark.parametrize("N", [1, 4])
def test_fully_connected_net_of_any_depth_matches_autograd(hidden_dims, N, rng):
    model = FullyConnectedNet(
        hidden_dims, input_dim=12, num_classes=5, reg=0.3, weight_scale=0.6, dtype=np.float64, seed=3
    )
    assert model.num_layers == len(hidden_dims) + 1
    assert sorted(model.params) == sorted(f"{kind}{i}" for kind in "Wb" for i in range(1, model.num_layers + 1))
    randomise_biases(model, rng)
    X = rng.standard_normal((N, 2, 3, 2)).transpose(0, 2, 1, 3)  # non-contiguous images
    y = rng.integers(5, size=N)
    loss, grads = model.loss(X, y)
    expected_loss, expected_scores, expected_grads = autograd_loss_and_grads(model.params, X, y, model.num_layers, 0.3)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert rel_error(model.loss(X), expected_scores) < 1e-12
    assert set(grads) == set(model.params)
    for name in model.params:
        assert grads[name].shape == model.params[name].shape
        assert rel_error(grads[name], expected_grads[name]) < 1e-10, name


def test_six_layer_net_with_regularisation_passes_a_numerical_gradient_check(rng):
    model = FullyConnectedNet(
        [6, 5, 6, 5, 4], input_dim=7, num_classes=3, reg=0.5, weight_scale=0.7, dtype=np.float64, seed=4
    )
    randomise_biases(model, rng)
    X, y = rng.standard_normal((3, 7)), rng.integers(3, size=3)
    _, grads = model.loss(X, y)
    for name, value in model.params.items():
        numerical = eval_numerical_gradient(lambda _: model.loss(X, y)[0], value)
        assert rel_error(grads[name], numerical) < 1e-6, name


def test_fully_connected_net_initialisation_follows_weight_scale_and_seed():
    model = FullyConnectedNet([200, 100], input_dim=300, num_classes=10, weight_scale=2e-2, seed=5)
    shapes = [model.params[f"W{i}"].shape for i in (1, 2, 3)]
    assert shapes == [(300, 200), (200, 100), (100, 10)]
    assert np.std(model.params["W1"]) == pytest.approx(2e-2, rel=0.02)
    assert all(not model.params[f"b{i}"].any() for i in (1, 2, 3))
    same = FullyConnectedNet([200, 100], input_dim=300, num_classes=10, weight_scale=2e-2, seed=5)
    np.testing.assert_array_equal(same.params["W3"], model.params["W3"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kaiming_initialisation_gives_each_layer_the_std_sqrt_2_over_its_fan_in(dtype):
    model = FullyConnectedNet([800, 40], input_dim=100, num_classes=10, weight_scale="kaiming", dtype=dtype, seed=3)
    for i, fan_in in enumerate((100, 800, 40), start=1):
        assert model.params[f"W{i}"].dtype == dtype
        assert np.std(model.params[f"W{i}"]) == pytest.approx(np.sqrt(2 / fan_in), rel=0.05), f"W{i}"
        assert not model.params[f"b{i}"].any()


def test_kaiming_keeps_a_deep_relu_nets_activations_at_one_scale(rng):
    """What the notebook shows: through nine ReLU layers the spread of the activations stays put."""
    model = FullyConnectedNet(
        [200] * 9, input_dim=300, num_classes=10, weight_scale="kaiming", dtype=np.float64, seed=0
    )
    hidden = rng.standard_normal((500, 300))
    spreads = []
    for i in range(1, 10):
        hidden = np.maximum(0, hidden @ model.params[f"W{i}"])
        spreads.append(np.sqrt(np.mean(hidden**2)))
    assert 0.6 < spreads[-1] / spreads[0] < 1.6


def test_fully_connected_net_keeps_its_dtype_through_loss_and_gradients(rng):
    model = FullyConnectedNet([8, 8], input_dim=6, num_classes=3, dropout_keep_ratio=0.5, seed=0)
    assert all(value.dtype == np.float32 for value in model.params.values())
    X = rng.standard_normal((4, 6))
    assert model.loss(X).dtype == np.float32
    _, grads = model.loss(X, rng.integers(3, size=4))
    assert all(value.dtype == np.float32 for value in grads.values())


def test_dropout_net_uses_the_seeded_masks_in_training_and_none_in_test_mode(rng):
    model = FullyConnectedNet(
        [8, 8], input_dim=6, num_classes=4, dropout_keep_ratio=0.5, reg=0.2, weight_scale=0.5, dtype=np.float64, seed=9
    )
    randomise_biases(model, rng)
    X, y = rng.standard_normal((5, 6)), rng.integers(4, size=5)
    loss, grads = model.loss(X, y)
    assert model.dropout_param["mode"] == "train"
    mask = dropout_forward(np.ones((5, 8)), {"mode": "train", "p": 0.5, "seed": 9})[0]
    expected_loss, _, expected_grads = autograd_loss_and_grads(model.params, X, y, 3, 0.2, masks=[mask, mask])
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    for name in model.params:
        assert rel_error(grads[name], expected_grads[name]) < 1e-10, name
    _, plain_scores, _ = autograd_loss_and_grads(model.params, X, y, 3, 0.2)
    assert rel_error(model.loss(X), plain_scores) < 1e-12
    assert model.dropout_param["mode"] == "test"


def test_dropout_net_gradients_agree_with_numerical_gradients_for_a_fixed_seed(rng):
    model = FullyConnectedNet(
        [7, 6], input_dim=5, num_classes=3, dropout_keep_ratio=0.6, reg=0.1, weight_scale=0.6, dtype=np.float64, seed=21
    )
    randomise_biases(model, rng)
    X, y = rng.standard_normal((4, 5)), rng.integers(3, size=4)
    _, grads = model.loss(X, y)
    for name, value in model.params.items():
        numerical = eval_numerical_gradient(lambda _: model.loss(X, y)[0], value)
        assert rel_error(grads[name], numerical) < 1e-6, name


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"normalization": "groupnorm"}, "'groupnorm'"),
        ({"dropout_keep_ratio": 0}, "p = 0"),
        ({"dropout_keep_ratio": 1.5}, "p = 1.5"),
        ({"weight_scale": "he"}, "weight_scale must be a number or \"kaiming\", got 'he'"),
    ],
)
def test_fully_connected_net_rejects_bad_options_naming_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FullyConnectedNet([4], input_dim=3, num_classes=2, **kwargs)


def normalization_available(kind):
    """True when cs_lib.normalization implements the kind (assignment 4); skipped otherwise."""
    try:
        norms = importlib.import_module("cs_lib.normalization")
        x, gamma, beta = np.ones((2, 3)), np.ones(3), np.zeros(3)
        if kind == "batchnorm":
            _, cache = norms.batchnorm_forward(x, gamma, beta, {"mode": "train"})
            norms.batchnorm_backward_alt(x, cache)
        else:
            _, cache = norms.layernorm_forward(x, gamma, beta, {})
            norms.layernorm_backward(x, cache)
    except (ImportError, AttributeError, NotImplementedError):
        return False
    return True


@pytest.mark.parametrize("kind", ["batchnorm", "layernorm"])
def test_normalized_net_has_gamma_beta_and_passes_a_gradient_check(kind, rng):
    if not normalization_available(kind):
        pytest.skip(f"cs_lib.normalization does not implement {kind} yet (assignment 4)")
    model = FullyConnectedNet(
        [6, 5], input_dim=4, num_classes=3, normalization=kind, reg=0.1, weight_scale=0.5, dtype=np.float64, seed=7
    )
    for i, width in ((1, 6), (2, 5)):
        np.testing.assert_array_equal(model.params[f"gamma{i}"], np.ones(width))
        np.testing.assert_array_equal(model.params[f"beta{i}"], np.zeros(width))
        model.params[f"gamma{i}"] = rng.uniform(0.5, 1.5, width)
        model.params[f"beta{i}"] = rng.standard_normal(width)
    assert "gamma3" not in model.params
    assert len(model.bn_params) == 2
    X, y = rng.standard_normal((5, 4)), rng.integers(3, size=5)
    _, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    for name, value in model.params.items():
        numerical = eval_numerical_gradient(lambda _: model.loss(X, y)[0], value)
        assert rel_error(grads[name], numerical) < 1e-5, name
    if kind == "batchnorm":
        assert all(param["mode"] == "train" for param in model.bn_params)
        model.loss(X)
        assert all(param["mode"] == "test" for param in model.bn_params)


def test_plain_net_never_touches_the_normalization_methods(rng, monkeypatch):
    def unavailable(*args, **kwargs):
        raise NotImplementedError("assignment 4")

    monkeypatch.setattr(FullyConnectedNet, "_norm_relu_forward", unavailable)
    monkeypatch.setattr(FullyConnectedNet, "_norm_relu_backward", unavailable)
    model = FullyConnectedNet([5, 5], input_dim=4, num_classes=3, dropout_keep_ratio=0.7, dtype=np.float64, seed=0)
    model.loss(rng.standard_normal((2, 4)), np.array([0, 2]))
    model.loss(rng.standard_normal((2, 4)))
