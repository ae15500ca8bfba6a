# ruff: noqa: F401, F841
"""Fully connected networks built from the modular layers (assignment 2; normalization in assignment 4).

    model = TwoLayerNet(input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10)
    scores = model.loss(X)              # (N, C) class scores
    loss, grads = model.loss(X, y)      # grads[name] has the shape of model.params[name]

Both models keep their parameters in ``self.params`` ('W1', 'b1', 'W2', ...) so the Solver can
update them, and both add the L2 penalty 0.5 * reg * sum(W**2) over the weights only (never the
biases, gammas or betas), whose gradient is reg * W (CS231n's convention: the 0.5 cancels the 2).
"""

import numpy as np

from cs_lib.layer_utils import (
    affine_norm_relu_backward,
    affine_norm_relu_forward,
    affine_relu_backward,
    affine_relu_forward,
)
from cs_lib.layers import affine_backward, affine_forward, dropout_backward, dropout_forward, softmax_loss

NORMALIZATIONS = (None, "batchnorm", "layernorm")


class TwoLayerNet:
    """The lecture's two-layer network f = W2 max(0, W1 x + b1) + b2 with a softmax loss.

    Architecture: affine - relu - affine - softmax, with D = input_dim inputs (the example flattened),
    H = hidden_dim hidden units and C = num_classes classes. Parameters:
        W1 (D, H), b1 (H,), W2 (H, C), b2 (C,)
    Weights start as normal(0, weight_scale) draws from np.random.default_rng(seed), biases as zeros.
    """

    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0, seed=None):
        self.params = {}
        self.reg = reg
        rng = np.random.default_rng(seed)
        # TODO: fill self.params: W1 (D, H), W2 (H, C) drawn from rng with std weight_scale; b1, b2 zeros
        raise NotImplementedError(
            "TwoLayerNet.__init__: fill self.params: W1 (D, H), W2 (H, C) drawn from rng with std weight_scale; b1, b2 zeros"
        )

    def loss(self, X, y=None):
        """Class scores, or the loss and its gradients.

        X: (N, d1, ..., dk) with d1 * ... * dk = D; y: (N,) labels in 0..C-1, or None.
        Returns scores (N, C) when y is None. Otherwise (loss, grads) with
            loss = softmax loss averaged over N + 0.5 * reg * (sum(W1**2) + sum(W2**2))
        and grads[name] the gradient of loss with respect to self.params[name].
        """
        W1, b1, W2, b2 = (self.params[name] for name in ("W1", "b1", "W2", "b2"))
        scores = None
        # TODO: the forward pass through your layers, keeping every cache; set scores (N, C)
        raise NotImplementedError(
            "TwoLayerNet.loss: the forward pass through your layers, keeping every cache; set scores (N, C)"
        )
        if y is None:
            return scores

        loss, grads = 0.0, {}
        # TODO: data loss plus L2 penalty, then the backward pass through the layers in reverse; set loss, grads
        raise NotImplementedError(
            "TwoLayerNet.loss: data loss plus L2 penalty, then the backward pass through the layers in reverse; set loss, grads"
        )
        return loss, grads


class FullyConnectedNet:
    """A fully connected network of any depth L = len(hidden_dims) + 1:

        {affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax

    Layer i (1..L) maps dims[i-1] to dims[i] numbers, with dims = [D, *hidden_dims, C]:
        W{i} (dims[i-1], dims[i]) drawn from a normal distribution with mean 0 and standard deviation
             weight_scale, with np.random.default_rng(seed); weight_scale="kaiming" gives each layer
             Kaiming He's standard deviation sqrt(2 / dims[i-1]) for its fan-in instead;
        b{i} (dims[i],) zeros;
    with normalization ('batchnorm' or 'layernorm', assignment 4) every hidden layer i also has
        gamma{i} (dims[i],) ones and beta{i} (dims[i],) zeros.
    dropout_keep_ratio is dropout's keep probability p (1 means no dropout). When seed is given, dropout
    uses it at every forward pass, so the mask is the same each time: gradient checks need that, while
    training wants a new mask at every step (remove dropout_param['seed'] to train with dropout).
    Every parameter is stored with the given dtype: float32 trains faster, float64 for gradient checks.
    """

    def __init__(
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
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be None, 'batchnorm' or 'layernorm', got {normalization!r}")
        if not 0 < dropout_keep_ratio <= 1:
            raise ValueError(f"dropout_keep_ratio must satisfy 0 < p <= 1, got p = {dropout_keep_ratio}")
        if isinstance(weight_scale, str) and weight_scale != "kaiming":
            raise ValueError(f'weight_scale must be a number or "kaiming", got {weight_scale!r}')
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}
        rng = np.random.default_rng(seed)
        dims = [input_dim, *hidden_dims, num_classes]
        # TODO: for i = 1..L: W{i} drawn from rng with the std of weight_scale (or Kaiming's), b{i} zeros
        raise NotImplementedError(
            "FullyConnectedNet.__init__: for i = 1..L: W{i} drawn from rng with the std of weight_scale (or Kaiming's), b{i} zeros"
        )
        if normalization is not None:
            # TODO: (a4) for hidden layers i = 1..L-1: gamma{i} ones, beta{i} zeros, (hidden_dims[i-1],)
            raise NotImplementedError(
                "FullyConnectedNet.__init__: (a4) for hidden layers i = 1..L-1: gamma{i} ones, beta{i} zeros, (hidden_dims[i-1],)"
            )

        # dropout and normalization layers get their settings (mode, running statistics) from these dicts
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

        for name, value in self.params.items():
            self.params[name] = value.astype(dtype)

    def loss(self, X, y=None):
        """Class scores, or the loss and its gradients.

        X: (N, d1, ..., dk) with d1 * ... * dk = D; y: (N,) labels in 0..C-1, or None.
        Forward pass, for each hidden layer i = 1..L-1:
            hidden = affine_relu_forward(hidden, W{i}, b{i}), or self._norm_relu_forward(hidden, i)
                     when self.normalization is set (assignment 4);
            hidden = dropout_forward(hidden, self.dropout_param) when self.use_dropout;
        then scores = affine_forward(hidden, W{L}, b{L}) (no ReLU on the scores).
        Returns scores (N, C) when y is None (dropout and batchnorm in test mode). Otherwise (loss, grads):
            loss = softmax loss averaged over N + 0.5 * reg * sum over i of sum(W{i}**2)
        with grads[name] the gradient of loss with respect to self.params[name], for every parameter;
        the backward pass visits the layers in reverse, through self._norm_relu_backward for normalized ones.
        """
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        for bn_param in self.bn_params:
            bn_param["mode"] = mode

        L = self.num_layers
        scores = None
        # TODO: forward pass as in the docstring, keeping every cache; set scores (N, C)
        raise NotImplementedError(
            "FullyConnectedNet.loss: forward pass as in the docstring, keeping every cache; set scores (N, C)"
        )
        if y is None:
            return scores

        loss, grads = 0.0, {}
        # TODO: data loss plus L2 penalty, then the backward pass through every layer in reverse; set loss, grads
        raise NotImplementedError(
            "FullyConnectedNet.loss: data loss plus L2 penalty, then the backward pass through every layer in reverse; set loss, grads"
        )
        return loss, grads

    def _norm_relu_forward(self, x, layer):
        """Hidden layer `layer` with normalization (assignment 4): affine - batchnorm/layernorm - relu.

        x: (N, dims[layer-1]); uses W{layer}, b{layer}, gamma{layer}, beta{layer} and
        self.bn_params[layer - 1]. Returns out (N, dims[layer]) and the cache for _norm_relu_backward.
        """
        out, cache = None, None
        # TODO: (a4) affine_norm_relu_forward with this layer's parameters; set out, cache
        raise NotImplementedError(
            "FullyConnectedNet._norm_relu_forward: (a4) affine_norm_relu_forward with this layer's parameters; set out, cache"
        )
        return out, cache

    def _norm_relu_backward(self, dout, cache, layer):
        """Backward pass of _norm_relu_forward (assignment 4).

        dout: (N, dims[layer]). Returns dx (N, dims[layer-1]) and a dict with this layer's gradients
        W{layer}, b{layer}, gamma{layer} and beta{layer} (without the regularisation term).
        """
        dx, layer_grads = None, {}
        # TODO: (a4) affine_norm_relu_backward; set dx and layer_grads (W, b, gamma, beta of this layer)
        raise NotImplementedError(
            "FullyConnectedNet._norm_relu_backward: (a4) affine_norm_relu_backward; set dx and layer_grads (W, b, gamma, beta of this layer)"
        )
        return dx, layer_grads
