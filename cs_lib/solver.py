"""Solver: trains a model by minibatch gradient descent (provided, CS231n-compatible API).

A model exposes
  - ``model.params``: dict name -> numpy array of parameters,
  - ``model.loss(X, y)``: (loss, grads) with grads shaped like params,
  - ``model.loss(X)``: class scores (N, num_classes), used for accuracy.

    solver = Solver(model, data, update_rule="adam", optim_config={"learning_rate": 1e-3},
                    num_epochs=5, batch_size=100)
    solver.train()       # best parameters (by validation accuracy) are restored at the end

``update_rule`` is either a function ``(w, dw, config) -> (next_w, config)`` or
the name of one in ``cs_lib.optim`` (where students write them in assignment 2).
"""

import os
import pickle

import numpy as np
from tqdm.auto import tqdm


def _resolve_update_rule(update_rule):
    if callable(update_rule):
        return update_rule
    from cs_lib import optim  # the student's module: looked up only when a rule is named

    rule = getattr(optim, str(update_rule), None)
    if rule is None or not callable(rule):
        raise ValueError(f'unknown update_rule "{update_rule}": cs_lib.optim has no function of that name')
    return rule


class Solver:
    def __init__(
        self,
        model,
        data,
        update_rule="sgd",
        optim_config=None,
        lr_decay=1.0,
        batch_size=100,
        num_epochs=10,
        num_train_samples=1000,
        num_val_samples=None,
        checkpoint_name=None,
        print_every=10,
        verbose=True,
        seed=None,
        progress=None,
    ):
        """See the module docstring. progress shows a tqdm bar (default: when verbose)."""
        missing = {"X_train", "y_train", "X_val", "y_val"} - set(data)
        if missing:
            raise ValueError(f"data is missing {sorted(missing)}; it needs X_train, y_train, X_val and y_val")
        if not hasattr(model, "params") or not hasattr(model, "loss"):
            raise TypeError("model must have a params dict and a loss(X, y=None) method")
        if batch_size <= 0 or num_epochs < 0:
            raise ValueError(f"batch_size must be positive and num_epochs non-negative, got {batch_size}, {num_epochs}")
        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]
        self.update_rule = _resolve_update_rule(update_rule)
        self.optim_config = dict(optim_config or {})
        self.lr_decay = lr_decay
        self.batch_size = batch_size
        self.num_epochs = num_epochs
        self.num_train_samples = num_train_samples
        self.num_val_samples = num_val_samples
        self.checkpoint_name = checkpoint_name
        self.print_every = print_every
        self.verbose = verbose
        self.progress = verbose if progress is None else progress
        self.rng = np.random.default_rng(seed)
        self._reset()

    def _reset(self):
        self.epoch = 0
        self.best_val_acc = 0.0
        self.best_params = {}
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        # every parameter keeps its own optimizer state (e.g. Adam's moments)
        self.optim_configs = {name: dict(self.optim_config) for name in self.model.params}

    def _step(self):
        num_train = self.X_train.shape[0]
        batch = self.rng.choice(num_train, self.batch_size, replace=num_train < self.batch_size)
        loss, grads = self.model.loss(self.X_train[batch], self.y_train[batch])
        self.loss_history.append(float(loss))
        for name, value in self.model.params.items():
            if name not in grads:
                raise KeyError(f"model.loss returned no gradient for parameter {name!r}")
            next_value, next_config = self.update_rule(value, grads[name], self.optim_configs[name])
            self.model.params[name] = next_value
            self.optim_configs[name] = next_config

    def _save_checkpoint(self):
        if self.checkpoint_name is None:
            return
        checkpoint = {
            "model": self.model,
            "update_rule": getattr(self.update_rule, "__name__", str(self.update_rule)),
            "lr_decay": self.lr_decay,
            "optim_config": self.optim_config,
            "batch_size": self.batch_size,
            "num_train_samples": self.num_train_samples,
            "num_val_samples": self.num_val_samples,
            "epoch": self.epoch,
            "loss_history": self.loss_history,
            "train_acc_history": self.train_acc_history,
            "val_acc_history": self.val_acc_history,
        }
        filename = f"{self.checkpoint_name}_epoch_{self.epoch}.pkl"
        if self.verbose:
            tqdm.write(f'Saving checkpoint to "{filename}"')
        temporary = filename + ".partial"
        with open(temporary, "wb") as f:
            pickle.dump(checkpoint, f)
        os.replace(temporary, filename)

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Fraction of X classified as y (on a random subsample of num_samples when given)."""
        N = X.shape[0]
        if num_samples is not None and N > num_samples:
            subset = self.rng.choice(N, num_samples, replace=False)
            X, y = X[subset], y[subset]
            N = num_samples
        predictions = [np.argmax(self.model.loss(X[i : i + batch_size]), axis=1) for i in range(0, N, batch_size)]
        return float(np.mean(np.concatenate(predictions) == y)) if N else 0.0

    def _record_accuracy(self, iteration, num_iterations):
        train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        self._save_checkpoint()
        if self.verbose:
            tqdm.write(f"(Epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:f}; val_acc: {val_acc:f}")
        if val_acc > self.best_val_acc or not self.best_params:
            self.best_val_acc = val_acc
            self.best_params = {name: value.copy() for name, value in self.model.params.items()}

    def train(self):
        """Run num_epochs of updates, then restore the parameters with the best validation accuracy."""
        num_train = self.X_train.shape[0]
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch
        bar = tqdm(total=num_iterations, disable=not self.progress, desc="training", leave=False)
        self._record_accuracy(0, num_iterations)
        try:
            for t in range(num_iterations):
                self._step()
                bar.update(1)
                bar.set_postfix(loss=f"{self.loss_history[-1]:.3f}", refresh=False)
                if self.verbose and t % self.print_every == 0:
                    tqdm.write(f"(Iteration {t + 1} / {num_iterations}) loss: {self.loss_history[-1]:f}")
                if not np.isfinite(self.loss_history[-1]):
                    tqdm.write(f"stopping: the loss became {self.loss_history[-1]} at iteration {t + 1}")
                    break
                if (t + 1) % iterations_per_epoch == 0:
                    self.epoch += 1
                    for config in self.optim_configs.values():
                        if "learning_rate" in config:
                            config["learning_rate"] *= self.lr_decay
                    self._record_accuracy(t + 1, num_iterations)
        finally:
            bar.close()
        self.model.params = self.best_params
        return self
