"""Assignment 4's part of FullyConnectedNet: normalization='batchnorm' | 'layernorm', against torch autograd."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cs_lib.classifiers.fc_net import FullyConnectedNet
from cs_lib.gradient_check import eval_numerical_gradient

pytestmark = pytest.mark.a4


def rel_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))) if a.size else 0.0


def make_model(normalization, rng, hidden_dims=(6, 5), input_dim=4, num_classes=3, reg=0.1):
    model = FullyConnectedNet(
        list(hidden_dims),
        input_dim=input_dim,
        num_classes=num_classes,
        normalization=normalization,
        reg=reg,
        weight_scale=0.5,
        dtype=np.float64,
        seed=7,
    )
    for name, value in model.params.items():  # move gamma, beta and the biases off their initial values
        if name.startswith("gamma"):
            model.params[name] = rng.uniform(0.5, 1.5, value.shape)
        elif name.startswith(("beta", "b")):
            model.params[name] = rng.normal(0.0, 0.5, value.shape)
    return model


def torch_forward(params, X, num_layers, normalization, running=None, eps=1e-5):
    """{affine - norm - relu} x (L-1) - affine, in torch; running = [(mean, var)] uses test-mode BN."""
    t = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True) for name, value in params.items()}
    hidden = torch.tensor(X.reshape(len(X), -1), dtype=torch.float64)
    for i in range(1, num_layers):
        a = hidden @ t[f"W{i}"] + t[f"b{i}"]
        gamma, beta = t[f"gamma{i}"], t[f"beta{i}"]
        if normalization == "layernorm":
            a = F.layer_norm(a, (a.shape[1],), gamma, beta, eps=eps)
        elif running is None:
            a = F.batch_norm(a, None, None, gamma, beta, training=True, eps=eps)
        else:
            mean, var = running[i - 1]
            a = F.batch_norm(a, torch.tensor(mean), torch.tensor(var), gamma, beta, training=False, eps=eps)
        hidden = torch.relu(a)
    return t, hidden @ t[f"W{num_layers}"] + t[f"b{num_layers}"]


@pytest.mark.parametrize("normalization", ["batchnorm", "layernorm"])
def test_normalized_net_loss_and_gradients_match_torch_autograd(normalization, rng):
    model = make_model(normalization, rng, hidden_dims=(7, 6, 5), input_dim=8, num_classes=4, reg=0.3)
    X, y = rng.normal(size=(6, 2, 2, 2)), rng.integers(4, size=6)
    loss, grads = model.loss(X, y)
    t, scores = torch_forward(model.params, X, model.num_layers, normalization)
    expected = F.cross_entropy(scores, torch.tensor(y)) + 0.5 * 0.3 * sum(
        t[f"W{i}"].pow(2).sum() for i in range(1, model.num_layers + 1)
    )
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-10)
    assert set(grads) == set(model.params)
    for name in model.params:
        assert grads[name].shape == model.params[name].shape, name
        np.testing.assert_allclose(grads[name], t[name].grad.numpy(), rtol=1e-7, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("normalization", ["batchnorm", "layernorm"])
def test_normalized_net_passes_a_numerical_gradient_check(normalization, rng):
    model = make_model(normalization, rng)
    X, y = rng.normal(size=(5, 4)), rng.integers(3, size=5)
    _, grads = model.loss(X, y)
    for name, value in model.params.items():
        numerical = eval_numerical_gradient(lambda _: model.loss(X, y)[0], value)
        np.testing.assert_allclose(grads[name], numerical, rtol=1e-5, atol=1e-8, err_msg=name)


def test_normalized_nets_have_gamma_ones_and_beta_zeros_for_every_hidden_layer_only():
    for normalization in ("batchnorm", "layernorm"):
        model = FullyConnectedNet([6, 5], input_dim=4, num_classes=3, normalization=normalization, seed=0)
        assert {name for name in model.params if name.startswith(("gamma", "beta"))} == {
            "gamma1",
            "beta1",
            "gamma2",
            "beta2",
        }
        np.testing.assert_array_equal(model.params["gamma2"], np.ones(5))
        np.testing.assert_array_equal(model.params["beta1"], np.zeros(6))
        assert model.params["gamma1"].dtype == np.float32
    plain = FullyConnectedNet([6, 5], input_dim=4, num_classes=3, seed=0)
    assert not any(name.startswith(("gamma", "beta")) for name in plain.params)


def test_batchnorm_net_keeps_running_averages_by_the_rule_and_uses_them_in_test_mode(rng):
    model = make_model("batchnorm", rng, hidden_dims=(5,), input_dim=4, num_classes=3)
    expected_mean, expected_var = np.zeros(5), np.zeros(5)
    for _ in range(3):
        X = rng.normal(2.0, 3.0, size=(8, 4))
        model.loss(X, rng.integers(3, size=8))
        assert model.bn_params[0]["mode"] == "train"
        a = X @ model.params["W1"] + model.params["b1"]
        expected_mean = 0.9 * expected_mean + 0.1 * a.mean(axis=0)
        expected_var = 0.9 * expected_var + 0.1 * a.var(axis=0)
    np.testing.assert_allclose(model.bn_params[0]["running_mean"], expected_mean, rtol=1e-10)
    np.testing.assert_allclose(model.bn_params[0]["running_var"], expected_var, rtol=1e-10)

    X_test = rng.normal(-5.0, 1.0, size=(6, 4))  # a test batch far from the training statistics
    scores = model.loss(X_test)
    assert model.bn_params[0]["mode"] == "test"
    _, expected = torch_forward(model.params, X_test, 2, "batchnorm", running=[(expected_mean, expected_var)])
    assert rel_error(scores, expected.detach().numpy()) < 1e-10
    for row in range(6):
        assert rel_error(model.loss(X_test[row : row + 1]), scores[row : row + 1]) < 1e-12
    np.testing.assert_allclose(model.bn_params[0]["running_mean"], expected_mean, rtol=1e-10)


def test_layernorm_net_scores_do_not_depend_on_the_batch(rng):
    model = make_model("layernorm", rng)
    X = rng.normal(size=(5, 4))
    scores = model.loss(X)
    for row in range(5):
        assert rel_error(model.loss(X[row : row + 1]), scores[row : row + 1]) < 1e-12
    _, expected = torch_forward(model.params, X, model.num_layers, "layernorm")
    assert rel_error(scores, expected.detach().numpy()) < 1e-10
