"""A2's mutants (plausible wrong versions the tests must catch) and alternatives (valid other solutions).

cs_lib/classifiers/fc_net.py is shared with A4; these mutants run A2's tests only.
"""

import numpy as np

from autograder.instructor.mutants import alternative, mutant


@mutant("cs_lib.layers.affine_forward", fails=["affine_forward"])
def affine_forgets_the_bias(x, w, b):
    """adds no bias"""
    return x.reshape(x.shape[0], -1) @ w, (x, w, b)


@mutant("cs_lib.layers.affine_backward", fails=["affine_backward"])
def affine_backward_averages_db(dout, cache):
    """averages db over the N examples instead of summing it"""
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.mean(axis=0)


@mutant("cs_lib.layers.relu_forward", fails=["relu_forward"])
def relu_is_leaky(x):
    """keeps 0.01 x for negative inputs (a leaky ReLU)"""
    return np.where(x > 0, x, 0.01 * x), x


@mutant("cs_lib.layers.relu_backward", fails=["relu_backward"])
def relu_backward_masks_by_dout(dout, cache):
    """passes the gradient where dout > 0 instead of where x > 0"""
    return dout * (dout > 0)


@mutant("cs_lib.layers.softmax_loss", fails=["softmax_loss"], hidden_only=True)
def softmax_loss_without_the_shift(x, y):
    """exponentiates the scores without subtracting each row's maximum: NaN once the scores are large"""
    N = x.shape[0]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        exponentials = np.exp(x)
        probabilities = exponentials / exponentials.sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(probabilities[np.arange(N), y]))
    dx = probabilities.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N


@mutant("cs_lib.layers.svm_loss", fails=["svm_loss"])
def svm_loss_counts_the_correct_class(x, y):
    """counts the correct class's own margin (always 1) in the loss"""
    N = x.shape[0]
    margins = np.maximum(0, x - x[np.arange(N), y][:, None] + 1)
    loss = margins.sum() / N
    margins[np.arange(N), y] = 0
    dx = (margins > 0).astype(x.dtype)
    dx[np.arange(N), y] -= dx.sum(axis=1)
    return loss, dx / N


@mutant("cs_lib.layers.dropout_forward", fails=["dropout_forward", "dropout_backward"])
def dropout_keeps_with_one_minus_p(x, dropout_param):
    """keeps each unit with probability 1 - p (p read as the drop probability)"""
    p, mode = _dropout_settings(dropout_param)
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = None
    out = x
    if mode == "train":
        mask = (rng.random(x.shape) < 1 - p).astype(x.dtype) / p
        out = x * mask
    return out.astype(x.dtype, copy=False), (dict(dropout_param), mask)


@mutant("cs_lib.layers.dropout_backward", fails=["dropout_backward"])
def dropout_backward_forgets_the_scale(dout, cache):
    """passes dout through the kept units without the 1 / p scale"""
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return (dout * (mask != 0)).astype(dout.dtype, copy=False)
    return dout


@mutant("cs_lib.optim.sgd", fails=["sgd"])
def sgd_goes_uphill(w, dw, config=None):
    """steps along the gradient instead of against it"""
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    return w + config["learning_rate"] * dw, config


@mutant("cs_lib.optim.sgd_momentum", fails=["sgd_momentum"])
def momentum_forgets_the_velocity(w, dw, config=None):
    """never stores the new velocity, so every call starts from the old one"""
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    return w + v, config


@mutant("cs_lib.optim.rmsprop", fails=["rmsprop"])
def rmsprop_epsilon_inside_the_root(w, dw, config=None):
    """adds epsilon inside the square root: only small gradients show it"""
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))
    cache = config["decay_rate"] * config["cache"] + (1 - config["decay_rate"]) * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"]), config


@mutant("cs_lib.optim.adam", fails=["adam"])
def adam_without_bias_correction(w, dw, config=None):
    """steps with m and v as they are, without dividing by 1 - beta ** t"""
    config = {} if config is None else config
    for name, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8), ("t", 0)):
        config.setdefault(name, value)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config["t"] += 1
    config["m"] = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
    config["v"] = config["beta2"] * config["v"] + (1 - config["beta2"]) * dw**2
    return w - config["learning_rate"] * config["m"] / (np.sqrt(config["v"]) + config["epsilon"]), config


@mutant("cs_lib.classifiers.fc_net.TwoLayerNet.__init__", fails=["two_layer_net"])
def two_layer_biases_drawn_like_weights(
    self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0, seed=None
):
    """draws the biases with the weights' standard deviation instead of starting them at zero"""
    self.params = {}
    self.reg = reg
    rng = np.random.default_rng(seed)
    self.params["W1"] = rng.normal(0.0, weight_scale, (input_dim, hidden_dim))
    self.params["b1"] = rng.normal(0.0, weight_scale, hidden_dim)
    self.params["W2"] = rng.normal(0.0, weight_scale, (hidden_dim, num_classes))
    self.params["b2"] = rng.normal(0.0, weight_scale, num_classes)


@mutant("cs_lib.classifiers.fc_net.TwoLayerNet.loss", fails=["two_layer_net"])
def two_layer_regularises_with_reg(self, X, y=None):
    """adds reg * sum(W ** 2) instead of 0.5 * reg * sum(W ** 2) (and 2 * reg * W to the gradient)"""
    W1, b1, W2, b2 = (self.params[name] for name in ("W1", "b1", "W2", "b2"))
    hidden, hidden_cache = affine_relu_forward(X, W1, b1)
    scores, scores_cache = affine_forward(hidden, W2, b2)
    if y is None:
        return scores
    grads = {}
    data_loss, dscores = softmax_loss(scores, y)
    loss = data_loss + self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, scores_cache)
    _, grads["W1"], grads["b1"] = affine_relu_backward(dhidden, hidden_cache)
    grads["W1"] += 2 * self.reg * W1
    grads["W2"] += 2 * self.reg * W2
    return loss, grads


@mutant("cs_lib.classifiers.fc_net.FullyConnectedNet.__init__", fails=["fc_net_kaiming"])
def kaiming_with_xavier_scale(
    self,
    hidden_dims,
    input_dim=3 * 32 * 32,
    num_classes=10,
    dropout_keep_ratio=1,
    normalization=None,
    reg=0.0,
    weight_scale=1e-2,
    dtype=np.float32,
    seed=None,
):
    """Kaiming's weights with the standard deviation sqrt(1 / fan_in) instead of sqrt(2 / fan_in)"""
    self.normalization = normalization
    self.use_dropout = dropout_keep_ratio != 1
    self.reg = reg
    self.num_layers = 1 + len(hidden_dims)
    self.dtype = dtype
    self.params = {}
    rng = np.random.default_rng(seed)
    dims = [input_dim, *hidden_dims, num_classes]
    for layer in range(1, self.num_layers + 1):
        fan_in = dims[layer - 1]
        std = np.sqrt(1.0 / fan_in) if weight_scale == "kaiming" else weight_scale
        self.params[f"W{layer}"] = rng.normal(0.0, std, (fan_in, dims[layer])).astype(dtype)
        self.params[f"b{layer}"] = np.zeros(dims[layer], dtype=dtype)
    self.dropout_param = {}
    if self.use_dropout:
        self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
        if seed is not None:
            self.dropout_param["seed"] = seed
    self.bn_params = []


@mutant("cs_lib.classifiers.fc_net.FullyConnectedNet.__init__", fails=["fc_net_init"])
def fc_net_forgets_the_last_layer(
    self,
    hidden_dims,
    input_dim=3 * 32 * 32,
    num_classes=10,
    dropout_keep_ratio=1,
    normalization=None,
    reg=0.0,
    weight_scale=1e-2,
    dtype=np.float32,
    seed=None,
):
    """makes one weight matrix per hidden layer only, forgetting the one that gives the scores"""
    self.normalization = normalization
    self.use_dropout = dropout_keep_ratio != 1
    self.reg = reg
    self.num_layers = len(hidden_dims)
    self.dtype = dtype
    self.params = {}
    rng = np.random.default_rng(seed)
    dims = [input_dim, *hidden_dims]
    for layer in range(1, self.num_layers + 1):
        fan_in = dims[layer - 1]
        std = np.sqrt(2.0 / fan_in) if weight_scale == "kaiming" else weight_scale
        self.params[f"W{layer}"] = rng.normal(0.0, std, (fan_in, dims[layer])).astype(dtype)
        self.params[f"b{layer}"] = np.zeros(dims[layer], dtype=dtype)
    self.dropout_param = {}
    if self.use_dropout:
        self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
        if seed is not None:
            self.dropout_param["seed"] = seed
    self.bn_params = []


@mutant("cs_lib.classifiers.fc_net.FullyConnectedNet.loss", fails=["fc_net_gradients", "fc_net_deep"])
def fc_net_regularises_the_biases(self, X, y=None):
    """adds 0.5 * reg * sum(b ** 2) for the biases too (and reg * b to their gradients)"""
    L = self.num_layers
    hidden, caches = X, []
    for layer in range(1, L):
        hidden, cache = affine_relu_forward(hidden, self.params[f"W{layer}"], self.params[f"b{layer}"])
        caches.append(cache)
    scores, scores_cache = affine_forward(hidden, self.params[f"W{L}"], self.params[f"b{L}"])
    if y is None:
        return scores
    grads = {}
    loss, dscores = softmax_loss(scores, y)
    dhidden, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, scores_cache)
    for layer in range(L - 1, 0, -1):
        dhidden, grads[f"W{layer}"], grads[f"b{layer}"] = affine_relu_backward(dhidden, caches[layer - 1])
    for name, value in self.params.items():
        loss += 0.5 * self.reg * np.sum(value * value)
        grads[name] = grads[name] + self.reg * value
    return loss, grads


@mutant("cs_lib.classifiers.fc_net.FullyConnectedNet.loss", fails=["fc_net_dropout"])
def fc_net_drops_units_at_test_time(self, X, y=None):
    """applies dropout in test mode too (never switches dropout_param's mode)"""
    L = self.num_layers
    hidden, caches, dropout_caches = X, [], []
    for layer in range(1, L):
        hidden, cache = affine_relu_forward(hidden, self.params[f"W{layer}"], self.params[f"b{layer}"])
        caches.append(cache)
        if self.use_dropout:
            hidden, cache = dropout_forward(hidden, dict(self.dropout_param, mode="train"))
            dropout_caches.append(cache)
    scores, scores_cache = affine_forward(hidden, self.params[f"W{L}"], self.params[f"b{L}"])
    if y is None:
        return scores
    grads = {}
    loss, dscores = softmax_loss(scores, y)
    dhidden, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, scores_cache)
    for layer in range(L - 1, 0, -1):
        if self.use_dropout:
            dhidden = dropout_backward(dhidden, dropout_caches[layer - 1])
        dhidden, grads[f"W{layer}"], grads[f"b{layer}"] = affine_relu_backward(dhidden, caches[layer - 1])
    for layer in range(1, L + 1):
        W = self.params[f"W{layer}"]
        loss += 0.5 * self.reg * np.sum(W * W)
        grads[f"W{layer}"] += self.reg * W
    return loss, grads


@mutant("notebook:two_layer_weights", fails=["two_layer_accuracy"])
def hands_in_the_initial_weights(two_layer_weights):
    """hands in weights as they were before training (small random weights, zero biases)"""
    rng = np.random.default_rng(0)
    return {
        name: (1e-3 * rng.standard_normal(np.shape(value)) if name.startswith("W") else np.zeros(np.shape(value)))
        for name, value in two_layer_weights.items()
    }


@mutant("notebook:three_layer_settings", fails=["overfit_three_layer_accuracy"])
def three_layer_learning_rate_too_small(three_layer_settings):
    """a learning rate of 1e-7: the net barely moves in 20 epochs"""
    return dict(three_layer_settings, learning_rate=1e-7)


@mutant("notebook:five_layer_settings", fails=["overfit_five_layer_accuracy"])
def five_layer_learning_rate_too_small(five_layer_settings):
    """a learning rate of 1e-7: the net barely moves in 20 epochs"""
    return dict(five_layer_settings, learning_rate=1e-7)


@alternative("cs_lib.layers.relu_forward")
def relu_with_where(x):
    """np.where instead of np.maximum"""
    return np.where(x > 0, x, 0.0), x


@alternative("cs_lib.layers.affine_backward")
def affine_backward_with_einsum(dout, cache):
    """the three gradients with np.einsum"""
    x, w, b = cache
    rows = x.reshape(x.shape[0], -1)
    return np.einsum("nm,dm->nd", dout, w).reshape(x.shape), np.einsum("nd,nm->dm", rows, dout), dout.sum(axis=0)
