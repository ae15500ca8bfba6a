# ruff: noqa: F401, F841
"""A three-layer convolutional network built from the fast layers.

    conv - relu - 2x2 max pool - affine - relu - affine - softmax

    model = ThreeLayerConvNet(input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100)
    scores = model.loss(X)              # (N, num_classes)
    loss, grads = model.loss(X, y)      # grads has the keys and shapes of model.params
    maps = model.activation_maps(X)     # (N, num_filters, H, W): what the first layer's filters see

It uses the provided sandwich layers (cs_lib.layer_utils: conv_relu_pool_*, affine_relu_*) and
assignment 2's cs_lib.layers (affine_*, softmax_loss). The model exposes ``params`` and ``loss`` as
cs_lib.solver.Solver expects.
"""

import numpy as np

# the layers you build the network from (noqa: the starter code does not use them yet)
from cs_lib.layer_utils import (
    affine_relu_backward,  # noqa: F401
    affine_relu_forward,  # noqa: F401
    conv_relu_forward,  # noqa: F401
    conv_relu_pool_backward,  # noqa: F401
    conv_relu_pool_forward,  # noqa: F401
)
from cs_lib.layers import affine_backward, affine_forward, softmax_loss  # noqa: F401


class ThreeLayerConvNet:
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax, on minibatches (N, C, H, W).

    Shapes (lecture letters; F = num_filters, HH = WW = filter_size, M = hidden_dim, K = num_classes):
      W1 (F, C, HH, WW), b1 (F,)          convolution, stride 1, 'same' padding (HH - 1) / 2: keeps H x W
      max pool 2x2 stride 2               (N, F, H, W) -> (N, F, H/2, W/2)
      W2 (F*(H/2)*(W/2), M), b2 (M,)      affine + relu
      W3 (M, K), b3 (K,)                  affine to class scores (N, K)

    Weights start as samples of N(0, weight_scale^2) drawn from np.random.default_rng(seed), biases as 0.
    The loss is the softmax loss plus L2 regularisation of the weights (not the biases):

        loss = softmax_loss(scores, y) + 0.5 * reg * (sum(W1**2) + sum(W2**2) + sum(W3**2))
    """

    def __init__(
        self,
        input_dim=(3, 32, 32),
        num_filters=32,
        filter_size=7,
        hidden_dim=100,
        num_classes=10,
        weight_scale=1e-3,
        reg=0.0,
        dtype=np.float32,
        seed=None,
    ):
        C, H, W = input_dim
        if filter_size % 2 == 0:
            raise ValueError(f"filter_size must be odd for 'same' padding (filter_size - 1) / 2, got {filter_size}")
        if H % 2 or W % 2:
            raise ValueError(f"the 2x2 max pool needs an even height and width, got input_dim {input_dim}")
        self.params = {}
        self.reg = reg
        self.dtype = dtype
        # stride 1 and 'same' padding keep H x W; the 2x2 pool halves them
        self.conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        self.pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        self.rng = np.random.default_rng(seed)
        # TODO: store W1, b1, W2, b2, W3, b3 in self.params with the shapes above (weights drawn with self.rng, standard deviation weight_scale; biases zero)
        raise NotImplementedError(
            "ThreeLayerConvNet.__init__: store W1, b1, W2, b2, W3, b3 in self.params with the shapes above (weights drawn with self.rng, standard deviation weight_scale; biases zero)"
        )
        for name, value in self.params.items():
            self.params[name] = value.astype(dtype)

    def loss(self, X, y=None):
        """Scores (N, K) when y is None; otherwise (loss, grads) with grads[name] shaped like params[name]."""
        X = np.asarray(X, dtype=self.dtype)
        scores = None
        # TODO: forward pass with conv_relu_pool_forward, affine_relu_forward and affine_forward; keep the caches; set scores (N, K)
        raise NotImplementedError(
            "ThreeLayerConvNet.loss: forward pass with conv_relu_pool_forward, affine_relu_forward and affine_forward; keep the caches; set scores (N, K)"
        )
        if y is None:
            return scores

        loss, grads = 0.0, {}
        # TODO: the loss as in the docstring; backpropagate through the three layers (and the regularisation) into grads
        raise NotImplementedError(
            "ThreeLayerConvNet.loss: the loss as in the docstring; backpropagate through the three layers (and the regularisation) into grads"
        )
        return loss, grads

    def activation_maps(self, X):
        """The first layer's activation maps: the convolution with W1, b1 (stride 1, same padding) and its ReLU.

        X (N, C, H, W). Returns maps (N, F, H, W), before the max pool: maps[n, f] is the lecture's
        activation map of filter f on image n, large where the image looks like the filter.
        """
        X = np.asarray(X, dtype=self.dtype)
        maps = None
        # TODO: run the first conv layer and its ReLU on X (no pooling); set maps (N, F, H, W)
        raise NotImplementedError(
            "ThreeLayerConvNet.activation_maps: run the first conv layer and its ReLU on X (no pooling); set maps (N, F, H, W)"
        )
        return maps
