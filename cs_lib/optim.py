# ruff: noqa: F401, F841
"""First-order update rules (assignment 2), as the Solver calls them:

    next_w, config = update(w, dw, config)

w: the current weights (any shape); dw: the gradient of the loss with respect to w (same shape);
config: a dict of hyperparameters (learning rate, decay rates...) and of the rule's state
(velocity, moment estimates), kept across calls: the Solver passes each parameter's config back
in at the next step. Every rule fills in missing hyperparameters with config.setdefault, so
``update(w, dw, None)`` uses the defaults. The rules return new arrays and leave w unchanged.
"""

import numpy as np


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: one step of size learning_rate against the gradient.

    config: learning_rate (default 1e-2).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    next_w = None
    # TODO: take one step of size learning_rate against the gradient; set next_w
    raise NotImplementedError("sgd: take one step of size learning_rate against the gradient; set next_w")
    return next_w, config


def sgd_momentum(w, dw, config=None):
    """SGD with momentum: a velocity v accumulates a decaying sum of past steps, and w moves by v.

    In the lecture's notation, with mu = momentum and eta = learning_rate:  v <- mu v - eta dw,  w <- w + v.

    config: learning_rate (default 1e-2), momentum (default 0.9), velocity v (state, zeros at the
    first call, same shape as w; store the new v in config["velocity"]).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    next_w = None
    # TODO: update the velocity with this gradient and step along it; set next_w and config["velocity"]
    raise NotImplementedError(
        'sgd_momentum: update the velocity with this gradient and step along it; set next_w and config["velocity"]'
    )
    return next_w, config


def rmsprop(w, dw, config=None):
    """RMSProp: divide each weight's step by a running root-mean-square of its recent gradients.

    In the lecture's notation, with rho = decay_rate and eta = learning_rate (elementwise):
    c <- rho c + (1 - rho) dw^2,  w <- w - eta dw / (sqrt(c) + epsilon), epsilon added outside the root.

    config: learning_rate (default 1e-2), decay_rate (default 0.99), epsilon (default 1e-8),
    cache (state, zeros at the first call, same shape as w; store the new cache in config["cache"]).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))
    next_w = None
    # TODO: update the running mean of squared gradients, then step with it; set next_w and config["cache"]
    raise NotImplementedError(
        'rmsprop: update the running mean of squared gradients, then step with it; set next_w and config["cache"]'
    )
    return next_w, config


def adam(w, dw, config=None):
    """Adam: momentum (first moment m) and RMSProp (second moment v), both corrected for their zero start.

    The step counter t is incremented BEFORE the bias correction (CS231n's and PyTorch's convention),
    so the first call uses t = 1. In the lecture's notation (elementwise, eta = learning_rate):
    m <- beta1 m + (1 - beta1) dw,  v <- beta2 v + (1 - beta2) dw^2,  m_hat = m / (1 - beta1^t),
    v_hat = v / (1 - beta2^t),  w <- w - eta m_hat / (sqrt(v_hat) + epsilon).

    config: learning_rate (default 1e-3), beta1 (0.9), beta2 (0.999), epsilon (1e-8), and the state
    m, v (zeros of w's shape at the first call) and t (0 at the first call); store the new m, v and t
    in config.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    next_w = None
    # TODO: increment t first, update m and v, bias-correct them with t; set next_w; store t, m, v
    raise NotImplementedError(
        "adam: increment t first, update m and v, bias-correct them with t; set next_w; store t, m, v"
    )
    return next_w, config
