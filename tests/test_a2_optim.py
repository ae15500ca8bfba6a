"""Assignment 2 update rules (cs_lib/optim.py) against torch.optim over several calls, and their conventions."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_lib import optim
from cs_lib.classifiers.fc_net import FullyConnectedNet
from cs_lib.solver import Solver

pytestmark = pytest.mark.a2

PROPERTY = settings(max_examples=12, deadline=None)

# (our rule, our config, the torch optimizer with the same hyperparameters)
EQUIVALENT_RULES = {
    "sgd": (optim.sgd, {"learning_rate": 0.05}, lambda p: torch.optim.SGD(p, lr=0.05)),
    "sgd_momentum": (
        optim.sgd_momentum,
        {"learning_rate": 0.02, "momentum": 0.8},
        lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.8),
    ),
    "rmsprop": (
        optim.rmsprop,
        {"learning_rate": 1e-3, "decay_rate": 0.9, "epsilon": 1e-6},
        lambda p: torch.optim.RMSprop(p, lr=1e-3, alpha=0.9, eps=1e-6),
    ),
    "adam": (
        optim.adam,
        {"learning_rate": 2e-3, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6},
        lambda p: torch.optim.Adam(p, lr=2e-3, betas=(0.8, 0.99), eps=1e-6),
    ),
}


@pytest.mark.parametrize("name", sorted(EQUIVALENT_RULES))
@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), gradient_scale=st.sampled_from([1e-7, 1e-3, 1.0, 1e3]))
def test_rule_matches_torch_optim_over_several_calls_with_state_in_config(name, seed, gradient_scale):
    rule, hyperparameters, make_optimizer = EQUIVALENT_RULES[name]
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((3, 4))
    weight = torch.tensor(w.copy(), requires_grad=True)
    optimizer = make_optimizer([weight])
    config = dict(hyperparameters)
    current = w.copy()
    for _ in range(6):
        dw = gradient_scale * rng.standard_normal(w.shape)
        current, config = rule(current, dw, config)
        weight.grad = torch.from_numpy(dw)
        optimizer.step()
        np.testing.assert_allclose(current, weight.detach().numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    ("rule", "defaults"),
    [
        (optim.sgd, {"learning_rate": 1e-2}),
        (optim.sgd_momentum, {"learning_rate": 1e-2, "momentum": 0.9}),
        (optim.rmsprop, {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8}),
        (optim.adam, {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}),
    ],
)
def test_rules_fill_in_the_cs231n_defaults_without_overriding_given_values(rule, defaults):
    w, dw = np.ones((2, 3)), np.full((2, 3), 0.5)
    _, config = rule(w, dw, None)
    assert {key: config[key] for key in defaults} == defaults
    _, config = rule(w, dw, {"learning_rate": 0.123})
    assert config["learning_rate"] == 0.123


def test_momentum_velocity_is_the_decaying_sum_of_scaled_gradients(rng):
    w = rng.standard_normal(5)
    gradients = [rng.standard_normal(5) for _ in range(4)]
    current, config = w, None
    for g in gradients:
        current, config = optim.sgd_momentum(current, g, config)
    expected_velocity = -1e-2 * sum(0.9 ** (3 - k) * g for k, g in enumerate(gradients))
    np.testing.assert_allclose(config["velocity"], expected_velocity, rtol=1e-12)


def away_from_zero(rng, size):
    """Gradients with |dw| in [0.1, 2], where epsilon = 1e-8 changes a step by less than 1e-6 of itself."""
    return rng.choice([-1.0, 1.0], size) * rng.uniform(0.1, 2.0, size)


def test_rmsprop_first_step_is_ten_learning_rates_from_an_empty_cache(rng):
    w, dw = rng.standard_normal(6), away_from_zero(rng, 6)
    next_w, config = optim.rmsprop(w, dw, None)
    # cache = 0.01 dw^2, so the step is lr * dw / (0.1 |dw|) = 10 lr sign(dw)
    np.testing.assert_allclose(w - next_w, 10 * 1e-2 * np.sign(dw), rtol=1e-6)
    np.testing.assert_allclose(config["cache"], 0.01 * dw**2, rtol=1e-12)


def test_adam_counts_steps_before_correcting_so_the_first_step_is_the_learning_rate(rng):
    w, dw = rng.standard_normal(6), away_from_zero(rng, 6)
    next_w, config = optim.adam(w, dw, None)
    assert config["t"] == 1
    np.testing.assert_allclose(w - next_w, 1e-3 * np.sign(dw), rtol=1e-6)
    np.testing.assert_allclose(config["m"], 0.1 * dw, rtol=1e-12)
    np.testing.assert_allclose(config["v"], 0.001 * dw**2, rtol=1e-12)


def test_adam_continues_from_a_given_step_count(rng):
    w, dw = rng.standard_normal(4), rng.standard_normal(4)
    m, v = rng.standard_normal(4), rng.uniform(0.5, 1.0, 4)
    next_w, config = optim.adam(w, dw, {"m": m.copy(), "v": v.copy(), "t": 5})
    assert config["t"] == 6
    m6, v6 = 0.9 * m + 0.1 * dw, 0.999 * v + 0.001 * dw**2
    expected = w - 1e-3 * (m6 / (1 - 0.9**6)) / (np.sqrt(v6 / (1 - 0.999**6)) + 1e-8)
    np.testing.assert_allclose(next_w, expected, rtol=1e-12)


@pytest.mark.parametrize("name", ["sgd", "sgd_momentum", "rmsprop", "adam"])
def test_rules_leave_the_given_weights_unchanged(name, rng):
    w = rng.standard_normal((3, 3))
    before = w.copy()
    getattr(optim, name)(w, rng.standard_normal((3, 3)), None)
    np.testing.assert_array_equal(w, before)


@pytest.mark.parametrize(
    ("name", "learning_rate"), [("sgd", 0.1), ("sgd_momentum", 0.05), ("rmsprop", 0.05), ("adam", 0.1)]
)
def test_each_rule_minimises_a_badly_scaled_quadratic(name, learning_rate):
    scales = np.array([1.0, 10.0])  # f(w) = sum(scales * w^2) / 2
    w, config = np.array([1.0, 1.0]), {"learning_rate": learning_rate}
    for _ in range(300):
        w, config = getattr(optim, name)(w, scales * w, config)
    assert np.all(np.abs(w) < 0.05)


@pytest.mark.parametrize("name", ["sgd", "sgd_momentum", "rmsprop", "adam"])
def test_solver_finds_each_rule_by_name_and_trains_a_net(name, rng):
    X = rng.standard_normal((60, 6))
    y = (X[:, 0] > 0).astype(int) + 2 * (X[:, 1] > 0)
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    model = FullyConnectedNet([20], input_dim=6, num_classes=4, weight_scale=0.3, dtype=np.float64, seed=0)
    learning_rate = {"sgd": 0.3, "sgd_momentum": 0.1, "rmsprop": 1e-2, "adam": 1e-2}[name]
    solver = Solver(
        model,
        data,
        update_rule=name,
        optim_config={"learning_rate": learning_rate},
        num_epochs=30,
        batch_size=20,
        verbose=False,
        seed=0,
    )
    solver.train()
    assert solver.loss_history[-1] < 0.5 * solver.loss_history[0]
    assert solver.best_val_acc > 0.8
