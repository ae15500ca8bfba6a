"""A4's mutants (the bugs its tests must catch) and alternatives (other valid solutions they must accept)."""

import numpy as np

from autograder.instructor.mutants import alternative, mutant


@mutant("cs_lib.normalization.batchnorm_forward", fails=["batchnorm_forward_train"])
def uses_the_unbiased_variance(x, gamma, beta, bn_param):
    """divides the batch variance by N - 1 (torch's running_var) instead of N"""
    _check_rank(x, "ND", "batchnorm_forward")
    mode = _check_mode(bn_param)
    N, D = x.shape
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    cache = None
    if mode == "train":
        mean = x.mean(axis=0)
        x_centered = x - mean
        var = x.var(axis=0, ddof=1)
        inv_std = 1.0 / np.sqrt(var + eps)
        x_hat = x_centered * inv_std
        out = gamma * x_hat + beta
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (x_hat, x_centered, inv_std, gamma)
    else:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


@mutant("cs_lib.normalization.batchnorm_forward", fails=["batchnorm_forward_test", "fc_net_batchnorm_test_mode"])
def normalises_test_batches_with_their_own_statistics(x, gamma, beta, bn_param):
    """test mode uses the test batch's mean and variance instead of the running averages"""
    _check_rank(x, "ND", "batchnorm_forward")
    mode = _check_mode(bn_param)
    D = x.shape[1]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    mean = x.mean(axis=0)
    x_centered = x - mean
    var = (x_centered**2).mean(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = x_centered * inv_std
    out = gamma * x_hat + beta
    cache = (x_hat, x_centered, inv_std, gamma)
    if mode == "train":
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


@mutant("cs_lib.normalization.batchnorm_backward", fails=["batchnorm_backward"])
def forgets_the_path_through_the_mean(dout, cache):
    """dx: follows x through x_centered and the variance, but not through the mean"""
    x_hat, x_centered, inv_std, gamma = cache
    N = dout.shape[0]
    dx_hat = dout * gamma
    dinv_std = (dx_hat * x_centered).sum(axis=0)
    dvar = dinv_std * -0.5 * inv_std**3
    dx = dx_hat * inv_std + dvar * 2.0 * x_centered / N
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


@mutant("cs_lib.normalization.batchnorm_backward_alt", fails=["batchnorm_backward_alt"])
def drops_the_variance_term(dout, cache):
    """the closed form without the x_hat * mean(dx_hat * x_hat) term (the variance's share)"""
    x_hat, _, inv_std, gamma = cache
    dx_hat = dout * gamma
    dx = inv_std * (dx_hat - dx_hat.mean(axis=0))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


@alternative("cs_lib.normalization.batchnorm_backward_alt")
def walks_the_graph(dout, cache):
    """the graph's node-by-node backward pass instead of the closed form"""
    x_hat, x_centered, inv_std, gamma = cache
    N = dout.shape[0]
    dx_hat = dout * gamma
    dinv_std = (dx_hat * x_centered).sum(axis=0)
    dvar = dinv_std * -0.5 * inv_std**3
    dx_centered = dx_hat * inv_std + dvar * 2.0 * x_centered / N
    dx = dx_centered - dx_centered.sum(axis=0) / N
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


@mutant("cs_lib.normalization.spatial_batchnorm_forward", fails=["spatial_batchnorm_forward"])
def reshapes_without_moving_the_channels(x, gamma, beta, bn_param):
    """x.reshape(N*H*W, C) without putting the channels last first: rows mix channels and positions"""
    N, C, H, W = x.shape
    out_rows, cache = batchnorm_forward(x.reshape(N * H * W, C), gamma, beta, bn_param)
    return out_rows.reshape(N, C, H, W), cache


@mutant("cs_lib.normalization.spatial_batchnorm_backward", fails=["spatial_batchnorm_backward"])
def reshapes_the_gradient_without_moving_the_channels(dout, cache):
    """dout.reshape(N*H*W, C) without putting the channels last first"""
    N, C, H, W = dout.shape
    dx_rows, dgamma, dbeta = batchnorm_backward_alt(dout.reshape(N * H * W, C), cache)
    return dx_rows.reshape(N, C, H, W), dgamma, dbeta


@mutant("cs_lib.normalization.layernorm_forward", fails=["layernorm_forward"])
def normalises_over_the_batch(x, gamma, beta, ln_param):
    """means and variances over the examples (axis 0), as batch norm, instead of each example's features"""
    eps = ln_param.get("eps", 1e-5)
    mean = x.mean(axis=0, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=0, keepdims=True) + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, inv_std, gamma)


@mutant("cs_lib.normalization.layernorm_backward", fails=["layernorm_backward"])
def takes_the_means_over_the_batch(dout, cache):
    """batch norm's closed form unchanged: the means over the examples (axis 0), not each row's features"""
    x_hat, inv_std, gamma = cache
    dx_hat = dout * gamma
    dx = inv_std * (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


@mutant("cs_lib.normalization.spatial_instancenorm_forward", fails=["instancenorm_forward"])
def normalises_over_all_channels(x, gamma, beta, in_param):
    """statistics over (C, H, W) of each example (layer norm) instead of each channel's H x W plane"""
    eps = in_param.get("eps", 1e-5)
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=(1, 2, 3), keepdims=True) + eps)
    x_hat = (x - mean) * inv_std
    return gamma[None, :, None, None] * x_hat + beta[None, :, None, None], (x_hat, inv_std, gamma)


@mutant("cs_lib.normalization.spatial_instancenorm_backward", fails=["instancenorm_backward"])
def forgets_the_mean_of_the_plane(dout, cache):
    """dx without the - mean(dx_hat) term over each plane"""
    x_hat, inv_std, gamma = cache
    dx_hat = dout * gamma[None, :, None, None]
    dx = inv_std * (dx_hat - x_hat * (dx_hat * x_hat).mean(axis=(2, 3), keepdims=True))
    return dx, (dout * x_hat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))


@mutant("cs_lib.normalization.spatial_groupnorm_forward", fails=["groupnorm_forward"])
def normalises_each_channel(x, gamma, beta, G, gn_param):
    """statistics over each channel's H x W plane (instance norm) whatever G"""
    N, C, H, W = x.shape
    eps = gn_param.get("eps", 1e-5)
    mean = x.mean(axis=(2, 3), keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=(2, 3), keepdims=True) + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, inv_std.reshape(N, C, 1), gamma, C)


@mutant("cs_lib.normalization.spatial_groupnorm_backward", fails=["groupnorm_backward"])
def returns_flat_gamma_gradients(dout, cache):
    """dgamma and dbeta of shape (C,) instead of gamma's (1, C, 1, 1)"""
    x_hat, inv_std, gamma, G = cache
    N = dout.shape[0]
    dx_hat = (dout * gamma).reshape(N, G, -1)
    x_hat_groups = x_hat.reshape(N, G, -1)
    mean_dx_hat = dx_hat.mean(axis=2, keepdims=True)
    mean_dx_hat_x_hat = (dx_hat * x_hat_groups).mean(axis=2, keepdims=True)
    dx = (inv_std * (dx_hat - mean_dx_hat - x_hat_groups * mean_dx_hat_x_hat)).reshape(dout.shape)
    return dx, (dout * x_hat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))


@mutant("cs_lib.normalization.fold_batchnorm", fails=["fold_batchnorm"])
def forgets_the_running_mean(w, b, gamma, beta, running_mean, running_var, eps=1e-5):
    """b_folded = b * scale + beta: the running mean is never subtracted"""
    scale = gamma / np.sqrt(running_var + eps)
    w_folded = w * scale[:, None, None, None] if np.ndim(w) == 4 else w * scale[None, :]
    return w_folded, b * scale + beta


@mutant("cs_lib.classifiers.fc_net.FullyConnectedNet._norm_relu_forward", fails=["fc_net_layernorm_gradients"])
def always_uses_batchnorm(self, x, layer):
    """affine - batchnorm - relu whatever self.normalization says"""
    p = self.params
    return affine_norm_relu_forward(
        x, p[f"W{layer}"], p[f"b{layer}"], p[f"gamma{layer}"], p[f"beta{layer}"], {"mode": "train"}, "batchnorm"
    )


@mutant("cs_lib.classifiers.fc_net.FullyConnectedNet._norm_relu_backward", fails=["fc_net_batchnorm_gradients"])
def swaps_gamma_and_beta(self, dout, cache, layer):
    """stores dbeta under gamma{layer} and dgamma under beta{layer}"""
    dx, dW, db, dgamma, dbeta = affine_norm_relu_backward(dout, cache)
    return dx, {f"W{layer}": dW, f"b{layer}": db, f"gamma{layer}": dbeta, f"beta{layer}": dgamma}


@mutant(
    "cs_lib.classifiers.fc_net.FullyConnectedNet.loss",
    fails=["fc_net_batchnorm_gradients", "fc_net_layernorm_gradients"],
    hidden_only=True,
)
def leaves_the_scores_layer_unregularised(self, X, y=None):
    """the L2 penalty (and its gradient) over the hidden layers' weights only, not the scores layer's"""
    X = X.astype(self.dtype)
    mode = "test" if y is None else "train"
    if self.use_dropout:
        self.dropout_param["mode"] = mode
    for bn_param in self.bn_params:
        bn_param["mode"] = mode
    L = self.num_layers
    hidden_caches, dropout_caches = [], []
    hidden = X
    for layer in range(1, L):
        if self.normalization is None:
            hidden, cache = affine_relu_forward(hidden, self.params[f"W{layer}"], self.params[f"b{layer}"])
        else:
            hidden, cache = self._norm_relu_forward(hidden, layer)
        hidden_caches.append(cache)
        if self.use_dropout:
            hidden, cache = dropout_forward(hidden, self.dropout_param)
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
        if self.normalization is None:
            dhidden, grads[f"W{layer}"], grads[f"b{layer}"] = affine_relu_backward(dhidden, hidden_caches[layer - 1])
        else:
            dhidden, layer_grads = self._norm_relu_backward(dhidden, hidden_caches[layer - 1], layer)
            grads.update(layer_grads)
    for layer in range(1, L):
        W = self.params[f"W{layer}"]
        loss += 0.5 * self.reg * np.sum(W * W)
        grads[f"W{layer}"] += self.reg * W
    return loss, grads


@mutant("cs_lib.classifiers.fc_net.FullyConnectedNet.__init__", fails=["kaiming_scales"], hidden_only=True)
def draws_kaiming_without_the_factor_two(
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
    """weight_scale="kaiming" draws with sqrt(1 / fan_in) (Xavier's), not sqrt(2 / fan_in)"""
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
    if normalization is not None:
        for layer in range(1, self.num_layers):
            self.params[f"gamma{layer}"] = np.ones(hidden_dims[layer - 1], dtype=dtype)
            self.params[f"beta{layer}"] = np.zeros(hidden_dims[layer - 1], dtype=dtype)
    self.dropout_param = {}
    if self.use_dropout:
        self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
        if seed is not None:
            self.dropout_param["seed"] = seed
    self.bn_params = []
    if normalization == "batchnorm":
        self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]
    elif normalization == "layernorm":
        self.bn_params = [{} for _ in range(self.num_layers - 1)]


@mutant("notebook:kaiming_scales", fails=["kaiming_scales"])
def uses_the_xavier_scale(kaiming_scales):
    """sqrt(1 / fan_in): forgets the factor 2 for the ReLU"""
    return [scale / np.sqrt(2) for scale in kaiming_scales]
