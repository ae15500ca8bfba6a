"""ThreeLayerConvNet (assignment 3): shapes, initialisation, loss and gradients against torch, training."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cs_lib.classifiers.cnn import ThreeLayerConvNet
from cs_lib.gradient_check import eval_numerical_gradient, rel_error
from cs_lib.solver import Solver

pytestmark = pytest.mark.a3


def torch_loss(params, X, y, reg, pad):
    """The same network in torch: scores, loss and gradients of every parameter."""
    tensors = {
        name: torch.tensor(np.asarray(value, dtype=np.float64), requires_grad=True) for name, value in params.items()
    }
    hidden = F.max_pool2d(F.relu(F.conv2d(torch.tensor(X), tensors["W1"], tensors["b1"], padding=pad)), 2, 2)
    hidden = F.relu(hidden.flatten(1) @ tensors["W2"] + tensors["b2"])
    scores = hidden @ tensors["W3"] + tensors["b3"]
    loss = F.cross_entropy(scores, torch.tensor(y)) + 0.5 * reg * sum(
        (tensors[name] ** 2).sum() for name in ("W1", "W2", "W3")
    )
    loss.backward()
    return scores.detach().numpy(), loss.item(), {name: tensor.grad.numpy() for name, tensor in tensors.items()}


def test_parameters_have_the_documented_shapes_dtype_and_initial_statistics():
    model = ThreeLayerConvNet(
        input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100, num_classes=10, weight_scale=1e-2, seed=0
    )
    shapes = {"W1": (32, 3, 7, 7), "b1": (32,), "W2": (32 * 16 * 16, 100), "b2": (100,), "W3": (100, 10), "b3": (10,)}
    assert {name: value.shape for name, value in model.params.items()} == shapes
    assert all(value.dtype == np.float32 for value in model.params.values())
    for name in ("b1", "b2", "b3"):
        assert not model.params[name].any()
    for name in ("W1", "W2", "W3"):
        assert model.params[name].std() == pytest.approx(1e-2, rel=0.1)
        assert abs(model.params[name].mean()) < 3e-3


def test_the_seed_makes_initialisation_reproducible_and_different_seeds_differ():
    first, second, other = (ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, seed=seed) for seed in (1, 1, 2))
    for name in first.params:
        np.testing.assert_array_equal(first.params[name], second.params[name])
    assert not np.array_equal(first.params["W1"], other.params["W1"])


@pytest.mark.parametrize(
    "input_dim, filter_size, reg",
    [((3, 8, 8), 3, 0.0), ((2, 6, 10), 5, 0.3), ((1, 4, 4), 1, 1.0), ((3, 10, 6), 7, 0.05)],
)
def test_scores_loss_and_gradients_match_torch(input_dim, filter_size, reg):
    rng = np.random.default_rng(sum(input_dim) + filter_size)
    model = ThreeLayerConvNet(
        input_dim=input_dim,
        num_filters=3,
        filter_size=filter_size,
        hidden_dim=6,
        num_classes=4,
        weight_scale=0.3,
        reg=reg,
        dtype=np.float64,
        seed=0,
    )
    X = rng.normal(size=(5,) + input_dim)
    y = rng.integers(4, size=5)
    scores, loss, grads = torch_loss(model.params, X, y, reg, (filter_size - 1) // 2)
    assert rel_error(model.loss(X), scores) < 1e-10
    got_loss, got_grads = model.loss(X, y)
    assert got_loss == pytest.approx(loss, rel=1e-10)
    assert set(got_grads) == set(model.params)
    for name in model.params:
        assert got_grads[name].shape == model.params[name].shape
        assert rel_error(got_grads[name], grads[name]) < 1e-8, name


def test_gradients_agree_with_numerical_gradients_for_a_single_image():
    rng = np.random.default_rng(5)
    model = ThreeLayerConvNet(
        input_dim=(2, 6, 6),
        num_filters=2,
        filter_size=3,
        hidden_dim=5,
        num_classes=3,
        weight_scale=0.2,
        reg=0.4,
        dtype=np.float64,
        seed=3,
    )
    X, y = rng.normal(size=(1, 2, 6, 6)), np.array([2])
    _, grads = model.loss(X, y)
    for name, value in model.params.items():
        numerical = eval_numerical_gradient(lambda _: model.loss(X, y)[0], value, h=1e-6)
        assert rel_error(grads[name], numerical) < 1e-6, name


def test_float32_model_keeps_float32_scores_and_gradients():
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, filter_size=3, seed=0)
    X = np.random.default_rng(0).normal(size=(3, 3, 8, 8))  # float64 input is converted
    assert model.loss(X).dtype == np.float32
    _, grads = model.loss(X, np.array([0, 1, 2]))
    assert all(grad.dtype == np.float32 for grad in grads.values())


@pytest.mark.parametrize("kwargs, message", [({"filter_size": 4}, "odd"), ({"input_dim": (3, 7, 8)}, "even")])
def test_invalid_architectures_are_rejected_clearly(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ThreeLayerConvNet(**kwargs)


def test_solver_fits_a_tiny_training_set():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(20, 3, 8, 8)).astype(np.float32)
    y = rng.integers(10, size=20)
    model = ThreeLayerConvNet(
        input_dim=(3, 8, 8), num_filters=8, filter_size=3, hidden_dim=30, weight_scale=5e-2, seed=0
    )
    solver = Solver(
        model,
        {"X_train": X, "y_train": y, "X_val": X, "y_val": y},
        update_rule="adam",
        optim_config={"learning_rate": 1e-2},
        num_epochs=30,
        batch_size=10,
        verbose=False,
        seed=0,
    )
    solver.train()
    assert solver.check_accuracy(X, y) == 1.0
    assert solver.loss_history[-1] < 0.1 * solver.loss_history[0]


@pytest.mark.parametrize("input_dim, filter_size", [((3, 8, 8), 3), ((2, 6, 10), 5), ((1, 4, 4), 1)])
def test_activation_maps_are_the_first_convolution_and_relu_before_the_pool(input_dim, filter_size):
    rng = np.random.default_rng(filter_size)
    model = ThreeLayerConvNet(
        input_dim=input_dim, num_filters=4, filter_size=filter_size, hidden_dim=5, dtype=np.float64, seed=0
    )
    model.params["W1"] = rng.normal(size=model.params["W1"].shape)
    model.params["b1"] = rng.normal(size=4)
    X = rng.normal(size=(3,) + input_dim)
    expected = F.relu(
        F.conv2d(
            torch.tensor(X),
            torch.tensor(model.params["W1"]),
            torch.tensor(model.params["b1"]),
            padding=(filter_size - 1) // 2,
        )
    ).numpy()
    maps = model.activation_maps(X)
    assert maps.shape == (3, 4) + input_dim[1:]
    assert rel_error(maps, expected) < 1e-10
    assert (maps == 0).any() and (maps > 0).any()


def test_activation_maps_keep_the_models_dtype():
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, filter_size=3, seed=0)
    assert model.activation_maps(np.ones((1, 3, 8, 8))).dtype == np.float32
