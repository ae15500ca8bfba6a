"""A3's mutants (the bugs its tests must catch) and alternatives (other valid solutions they must accept)."""

import numpy as np

from autograder.instructor.mutants import alternative, mutant


@mutant("cs_lib.conv_arithmetic.conv_output_size", fails=["conv_output_size"])
def pads_one_side_only(N, F, stride=1, pad=0):
    """counts the padding once: (N - F + pad) / stride + 1"""
    return (N - F + pad) // stride + 1


@mutant("cs_lib.conv_arithmetic.conv_param_count", fails=["conv_param_count"])
def forgets_the_biases(F, C, K):
    """counts the weights only, not the K biases"""
    return F * F * C * K


@mutant("cs_lib.conv_arithmetic.receptive_field", fails=["receptive_field"])
def forgets_the_centre_pixel(L, K):
    """L * (K - 1): one short"""
    return L * (K - 1)


@mutant("cs_lib.conv_arithmetic.same_padding", fails=["same_padding"])
def pads_the_total_on_each_side(F):
    """F - 1 zeros on each side: the total padding, not half of it"""
    return F - 1


@mutant("cs_lib.conv_layers.conv_forward_naive", fails=["conv_forward_naive"])
def forgets_the_bias(x, w, b, conv_param):
    """adds no bias to the windows' sums"""
    stride, pad, H_out, W_out = check_conv_inputs(x, w, b, conv_param)
    N = x.shape[0]
    F, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w))
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    return out, (x, w, b, conv_param)


@alternative("cs_lib.conv_layers.conv_forward_naive")
def convolves_with_einsum(x, w, b, conv_param):
    """one einsum per output position"""
    stride, pad, H_out, W_out = check_conv_inputs(x, w, b, conv_param)
    N = x.shape[0]
    F, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w))
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
            out[:, :, i, j] = np.einsum("nckl,fckl->nf", window, w) + b
    return out, (x, w, b, conv_param)


@mutant("cs_lib.conv_layers.conv_backward_naive", fails=["conv_backward_naive"])
def assigns_overlapping_input_gradients(dout, cache):
    """dx: assigns each window's share instead of adding the shares of overlapping windows"""
    x, w, b, conv_param = cache
    stride, pad, H_out, W_out = check_conv_inputs(x, w, b, conv_param)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = np.asarray(dout).sum(axis=(0, 2, 3)).astype(np.result_type(b))
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + HH)
            columns = slice(j * stride, j * stride + WW)
            dw += np.tensordot(dout[:, :, i, j], x_pad[:, :, rows, columns], axes=([0], [0]))
            dx_pad[:, :, rows, columns] = np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    return dx_pad[:, :, pad : pad + H, pad : pad + W], dw, db


@mutant("cs_lib.conv_layers.max_pool_forward_naive", fails=["max_pool_forward_naive"])
def averages_the_window(x, pool_param):
    """average pooling: the mean of each window instead of its maximum"""
    pool_height, pool_width, stride, H_out, W_out = check_pool_inputs(x, pool_param)
    N, C = x.shape[:2]
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride : i * stride + pool_height, j * stride : j * stride + pool_width]
            out[:, :, i, j] = window.mean(axis=(2, 3))
    return out, (x, pool_param)


@mutant("cs_lib.conv_layers.max_pool_backward_naive", fails=["max_pool_backward_naive"])
def spreads_the_gradient_over_the_window(dout, cache):
    """gives every element of a window an equal share of its gradient (the average pool's backward)"""
    x, pool_param = cache
    pool_height, pool_width, stride, H_out, W_out = check_pool_inputs(x, pool_param)
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            share = dout[:, :, i, j][:, :, None, None] / (pool_height * pool_width)
            dx[:, :, i * stride : i * stride + pool_height, j * stride : j * stride + pool_width] += share
    return dx


@mutant("cs_lib.im2col.im2col", fails=["im2col"])
def orders_columns_position_first(x, HH, WW, stride=1, pad=0):
    """columns ordered (position, image) instead of (image, position)"""
    H_out, W_out = field_output_shape(x, HH, WW, stride, pad)
    N, C, H, W = x.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    channel = np.repeat(np.arange(C), HH * WW)[:, None]
    k = np.tile(np.repeat(np.arange(HH), WW), C)[:, None]
    l = np.tile(np.arange(WW), C * HH)[:, None]
    i = np.repeat(np.arange(H_out), W_out)[None, :]
    j = np.tile(np.arange(W_out), H_out)[None, :]
    windows = x_pad[:, channel, i * stride + k, j * stride + l]  # (N, C*HH*WW, H'*W')
    return np.ascontiguousarray(windows.transpose(1, 2, 0).reshape(C * HH * WW, N * H_out * W_out))


@mutant("cs_lib.im2col.conv_forward_im2col", fails=["conv_forward_im2col"])
def reshapes_without_the_transpose(x, w, b, conv_param):
    """reshapes the (F, N*H'*W') product straight to (N, F, H', W'), mixing images and filters"""
    stride, pad, H_out, W_out = check_conv_inputs(x, w, b, conv_param)
    N = x.shape[0]
    F, _, HH, WW = w.shape
    cols = im2col(x, HH, WW, stride, pad)
    return (w.reshape(F, -1) @ cols + np.asarray(b)[:, None]).reshape(N, F, H_out, W_out), (x, w, b, conv_param)


@mutant("cs_lib.classifiers.cnn.ThreeLayerConvNet.__init__", fails=["cnn_initial_loss"])
def draws_the_biases_like_the_weights(
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
    """biases drawn with weight_scale like the weights, instead of zeros"""
    C, H, W = input_dim
    self.reg = reg
    self.dtype = dtype
    self.conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
    self.pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    self.rng = np.random.default_rng(seed)
    shapes = {
        "W1": (num_filters, C, filter_size, filter_size),
        "b1": (num_filters,),
        "W2": (num_filters * (H // 2) * (W // 2), hidden_dim),
        "b2": (hidden_dim,),
        "W3": (hidden_dim, num_classes),
        "b3": (num_classes,),
    }
    self.params = {name: self.rng.normal(0.0, weight_scale, shape).astype(dtype) for name, shape in shapes.items()}


@mutant("cs_lib.classifiers.cnn.ThreeLayerConvNet.loss", fails=["cnn_initial_loss", "cnn_gradients"], hidden_only=True)
def leaves_the_filters_unregularised(self, X, y=None):
    """the L2 penalty (and its gradient) over W2 and W3 only, not the first layer's filters"""
    X = np.asarray(X, dtype=self.dtype)
    W1, b1 = self.params["W1"], self.params["b1"]
    W2, b2 = self.params["W2"], self.params["b2"]
    W3, b3 = self.params["W3"], self.params["b3"]
    pooled, conv_cache = conv_relu_pool_forward(X, W1, b1, self.conv_param, self.pool_param)
    hidden, hidden_cache = affine_relu_forward(pooled, W2, b2)
    scores, scores_cache = affine_forward(hidden, W3, b3)
    if y is None:
        return scores
    grads = {}
    loss, dscores = softmax_loss(scores, y)
    loss += 0.5 * self.reg * (np.sum(W2**2) + np.sum(W3**2))
    dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, scores_cache)
    dpooled, grads["W2"], grads["b2"] = affine_relu_backward(dhidden, hidden_cache)
    _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, conv_cache)
    grads["W2"] = grads["W2"] + self.reg * W2
    grads["W3"] = grads["W3"] + self.reg * W3
    return loss, grads


@mutant("cs_lib.classifiers.cnn.ThreeLayerConvNet.activation_maps", fails=["activation_maps"])
def maps_after_the_pool(self, X):
    """returns the pooled maps (N, F, H/2, W/2): the maps the next layer sees, not the activation maps"""
    X = np.asarray(X, dtype=self.dtype)
    pooled, _ = conv_relu_pool_forward(X, self.params["W1"], self.params["b1"], self.conv_param, self.pool_param)
    return pooled


@mutant("notebook:small_weights", fails=["overfit_small_data"])
def keeps_the_scores_layer_at_zero(small_weights):
    """W3 and b3 left at zero (the scores layer never updated): every image gets the same scores"""
    return {name: np.zeros_like(value) if name in ("W3", "b3") else value for name, value in small_weights.items()}


@mutant("notebook:cnn_weights", fails=["cnn_trained_accuracy"])
def labels_off_by_one(cnn_weights):
    """class k's scores land in column k + 1 (an off-by-one in the labels used for training)"""
    return {name: np.roll(value, 1, axis=-1) if name in ("W3", "b3") else value for name, value in cnn_weights.items()}
