"""The Solver trains any model with the params/loss API, keeps histories and restores the best parameters."""

import pickle

import numpy as np
import pytest

from cs_lib.solver import Solver


class SoftmaxRegression:
    """A tiny reference model: scores = X W + b, softmax loss."""

    def __init__(self, dim, classes, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W": 1e-3 * rng.standard_normal((dim, classes)), "b": np.zeros(classes)}

    def loss(self, X, y=None):
        scores = X @ self.params["W"] + self.params["b"]
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        n = X.shape[0]
        loss = -np.log(probs[np.arange(n), y]).mean()
        dscores = probs.copy()
        dscores[np.arange(n), y] -= 1
        dscores /= n
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


def reference_sgd(w, dw, config=None):
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config


def blobs(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    centres = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])
    return centres[y] + rng.standard_normal((n, 2)), y


@pytest.fixture
def data():
    X_train, y_train = blobs(300, 1)
    X_val, y_val = blobs(100, 2)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


def test_solver_learns_separable_blobs_with_a_callable_rule(data):
    model = SoftmaxRegression(2, 3)
    solver = Solver(
        model,
        data,
        update_rule=reference_sgd,
        optim_config={"learning_rate": 0.5},
        num_epochs=5,
        batch_size=30,
        verbose=False,
        seed=0,
    )
    solver.train()
    assert solver.loss_history[-1] < solver.loss_history[0] / 3
    assert solver.best_val_acc > 0.9
    assert len(solver.loss_history) == 5 * (300 // 30)
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 6  # before training + every epoch


def test_solver_restores_the_parameters_with_the_best_validation_accuracy(data):
    model = SoftmaxRegression(2, 3)
    solver = Solver(
        model,
        data,
        update_rule=reference_sgd,
        optim_config={"learning_rate": 0.5},
        num_epochs=3,
        batch_size=30,
        verbose=False,
        seed=0,
    )
    solver.train()
    assert solver.check_accuracy(data["X_val"], data["y_val"]) == pytest.approx(solver.best_val_acc)


def test_solver_resolves_rule_names_in_cs_lib_optim(data, monkeypatch):
    import types

    fake_optim = types.ModuleType("cs_lib.optim")
    fake_optim.sgd = reference_sgd
    monkeypatch.setitem(__import__("sys").modules, "cs_lib.optim", fake_optim)
    import cs_lib

    monkeypatch.setattr(cs_lib, "optim", fake_optim, raising=False)
    solver = Solver(SoftmaxRegression(2, 3), data, update_rule="sgd", num_epochs=1, verbose=False)
    assert solver.update_rule is reference_sgd
    with pytest.raises(ValueError, match='unknown update_rule "nesterov"'):
        Solver(SoftmaxRegression(2, 3), data, update_rule="nesterov", verbose=False)


def test_learning_rate_decays_once_per_epoch_per_parameter(data):
    solver = Solver(
        SoftmaxRegression(2, 3),
        data,
        update_rule=reference_sgd,
        optim_config={"learning_rate": 1.0},
        lr_decay=0.5,
        num_epochs=3,
        batch_size=100,
        verbose=False,
    )
    solver.train()
    assert all(config["learning_rate"] == pytest.approx(0.125) for config in solver.optim_configs.values())


def test_checkpoints_are_written_each_epoch(data, tmp_path):
    name = str(tmp_path / "ckpt")
    solver = Solver(
        SoftmaxRegression(2, 3),
        data,
        update_rule=reference_sgd,
        num_epochs=2,
        batch_size=100,
        checkpoint_name=name,
        verbose=False,
    )
    solver.train()
    with open(f"{name}_epoch_2.pkl", "rb") as f:
        checkpoint = pickle.load(f)
    assert checkpoint["epoch"] == 2 and len(checkpoint["val_acc_history"]) == 3


def test_verbose_training_prints_iterations_and_epochs(data, capsys):
    Solver(
        SoftmaxRegression(2, 3),
        data,
        update_rule=reference_sgd,
        num_epochs=1,
        batch_size=100,
        print_every=1,
        verbose=True,
        progress=False,
    ).train()
    out = capsys.readouterr().out
    assert "(Iteration 1 / 3) loss:" in out and "(Epoch 1 / 1) train acc:" in out


def test_bad_inputs_get_clear_errors(data):
    with pytest.raises(ValueError, match="X_val"):
        Solver(
            SoftmaxRegression(2, 3), {"X_train": data["X_train"], "y_train": data["y_train"]}, update_rule=reference_sgd
        )
    with pytest.raises(TypeError, match="params dict"):
        Solver(object(), data, update_rule=reference_sgd)


def test_training_stops_when_the_loss_diverges(data, capsys):
    solver = Solver(
        SoftmaxRegression(2, 3),
        data,
        update_rule=reference_sgd,
        optim_config={"learning_rate": 1e300},
        num_epochs=5,
        batch_size=30,
        verbose=False,
    )
    with np.errstate(all="ignore"):
        solver.train()
    assert not np.isfinite(solver.loss_history[-1])
    assert len(solver.loss_history) < 50
