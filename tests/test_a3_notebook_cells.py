"""The a3 notebook's test cells accept the reference and valid alternatives, and catch classic wrong code.

Each wrong implementation below is a bug students actually write (a stride that is floored instead of
refused, dw summed over one image only, padding ignored in the backward pass, a max-pool backward pass
that only works when windows do not overlap or that splits ties, an im2col with the wrong layout...).
It is patched into cs_lib with tests/cells.py, and at least one of the notebook's test cells for that
function must fail. The valid alternatives (vectorised loops, as_strided im2col, the last of tied maxima,
per-image products...) must pass every cell of their function.
"""

import numpy as np
import pytest
from numpy.lib.stride_tricks import as_strided

import cells
from cs_lib.fast_layers import conv_backward_fast, conv_forward_fast, max_pool_backward_fast, max_pool_forward_fast

pytestmark = pytest.mark.a3

A3 = "a3"


def _pad(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def _output_shape(x_shape, HH, WW, stride, pad):
    H, W = x_shape[2:]
    return 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride


# ---- conv arithmetic ----------------------------------------------------------------------------


def output_size_divmod(N, F, stride=1, pad=0):
    steps, remainder = divmod(N + 2 * pad - F, stride)
    if remainder or steps < 0:
        raise ValueError(
            f"stride {stride} does not fit: ({N} - {F} + 2*{pad}) / {stride} + 1 = "
            f"{(N + 2 * pad - F) / stride + 1:.2f} is not an integer"
        )
    return steps + 1


def output_size_floors(N, F, stride=1, pad=0):
    return (N - F + 2 * pad) // stride + 1


def output_size_float(N, F, stride=1, pad=0):
    return (N - F + 2 * pad) / stride + 1


def output_size_ignores_padding(N, F, stride=1, pad=0):
    return output_size_divmod(N, F, stride, 0)


def param_count_without_biases(F, C, K):
    return F * F * C * K


def param_count_ignores_depth(F, C, K):
    return F * F * K + K


def receptive_field_times_k(L, K):
    return L * K


def receptive_field_without_the_centre(L, K):
    return L * (K - 1)


def same_padding_floors(F):
    return F // 2


def same_padding_checked_division(F):
    if (F - 1) % 2:
        raise ValueError(f"({F} - 1) / 2 is not an integer")
    return int((F - 1) / 2)


# ---- naive convolution ------------------------------------------------------------------------------


def conv_forward_tensordot(x, w, b, conv_param, flip=False, bias=True):
    """Vectorised over images and filters: one tensordot per output position."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    F, _, HH, WW = w.shape
    H_out, W_out = _output_shape(x.shape, HH, WW, stride, pad)
    x_pad = _pad(x, pad)
    filters = w[:, :, ::-1, ::-1] if flip else w
    out = np.empty((x.shape[0], F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
            out[:, :, i, j] = np.tensordot(window, filters, axes=([1, 2, 3], [1, 2, 3])) + (b if bias else 0)
    return out, (x, w, b, conv_param)


def conv_forward_flipped(x, w, b, conv_param):
    return conv_forward_tensordot(x, w, b, conv_param, flip=True)


def conv_forward_without_bias(x, w, b, conv_param):
    return conv_forward_tensordot(x, w, b, conv_param, bias=False)


def conv_backward_einsum(dout, cache, only_last_image=False, crop_start=None):
    """Vectorised over images and filters; the keyword arguments inject classic bugs."""
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    _, _, HH, WW = w.shape
    x_pad = _pad(x, pad)
    dx_pad = np.zeros_like(x_pad)
    dw_per_image = np.zeros((N,) + w.shape)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, columns = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
            upstream = dout[:, :, i, j]
            dw_per_image += np.einsum("nf,nchw->nfchw", upstream, x_pad[:, :, rows, columns])
            dx_pad[:, :, rows, columns] += np.einsum("nf,fchw->nchw", upstream, w)
    db_per_image = dout.sum(axis=(2, 3))
    if only_last_image:  # dw = ... and db = ... inside the loop over images instead of +=
        dw, db = dw_per_image[-1], db_per_image[-1]
    else:
        dw, db = dw_per_image.sum(axis=0), db_per_image.sum(axis=0)
    start = pad if crop_start is None else crop_start
    return dx_pad[:, :, start : start + H, start : start + W], dw, db


def conv_backward_sums_one_image(dout, cache):
    return conv_backward_einsum(dout, cache, only_last_image=True)


def conv_backward_ignores_padding(dout, cache):
    # keeps the top-left H x W of the padded gradient, as if the forward pass had not padded x
    return conv_backward_einsum(dout, cache, crop_start=0)


# ---- naive max pooling ------------------------------------------------------------------------------


def pool_forward_loops(x, pool_param, square=False):
    height, stride = pool_param["pool_height"], pool_param["stride"]
    width = height if square else pool_param["pool_width"]
    H_out, W_out = _output_shape(x.shape, height, width, stride, 0)
    out = np.empty(x.shape[:2] + (H_out, W_out))
    for n, c, i, j in np.ndindex(out.shape):
        out[n, c, i, j] = x[n, c, i * stride : i * stride + height, j * stride : j * stride + width].max()
    return out, (x, pool_param)


def pool_forward_ignores_width(x, pool_param):
    return pool_forward_loops(x, pool_param, square=True)


def pool_backward_loops(dout, cache, rule="first"):
    x, pool_param = cache
    height, width, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(dout.shape):
        rows, columns = slice(i * stride, i * stride + height), slice(j * stride, j * stride + width)
        window, region, upstream = x[n, c, rows, columns], dx[n, c, rows, columns], dout[n, c, i, j]
        ties = window == window.max()
        if rule == "all ties":
            region += ties * upstream
        elif rule == "unique only":
            region += ties * upstream if ties.sum() == 1 else 0.0
        else:
            flat = window.reshape(-1)
            index = flat.size - 1 - int(np.argmax(flat[::-1])) if rule == "last" else int(np.argmax(flat))
            k, l = divmod(index, width)
            if rule == "assign":  # correct only when no element belongs to two windows
                region[k, l] = upstream
            else:
                region[k, l] += upstream
    return dx


def pool_backward_last_maximum(dout, cache):
    return pool_backward_loops(dout, cache, rule="last")


def pool_backward_assigns(dout, cache):
    return pool_backward_loops(dout, cache, rule="assign")


def pool_backward_all_ties(dout, cache):
    return pool_backward_loops(dout, cache, rule="all ties")


def pool_backward_unique_only(dout, cache):
    return pool_backward_loops(dout, cache, rule="unique only")


def pool_backward_reshape(dout, cache):
    """The tiling trick (upsample dout, mask the maxima), which assumes stride == pool size."""
    x, pool_param = cache
    height, width = pool_param["pool_height"], pool_param["pool_width"]
    out, _ = pool_forward_loops(x, pool_param)
    big_out = out.repeat(height, axis=2).repeat(width, axis=3)
    big_dout = dout.repeat(height, axis=2).repeat(width, axis=3)
    rows, columns = min(x.shape[2], big_out.shape[2]), min(x.shape[3], big_out.shape[3])
    dx = np.zeros_like(x)
    mask = x[:, :, :rows, :columns] == big_out[:, :, :rows, :columns]
    dx[:, :, :rows, :columns] = mask * big_dout[:, :, :rows, :columns]
    return dx


# ---- im2col -----------------------------------------------------------------------------------------


def im2col_as_strided(x, HH, WW, stride=1, pad=0, order=(1, 4, 5, 0, 2, 3)):
    """A (N, C, H', W', HH, WW) strided view of the padded input, transposed into columns."""
    x_pad = _pad(x, pad)
    N, C = x.shape[:2]
    H_out, W_out = _output_shape(x.shape, HH, WW, stride, pad)
    sN, sC, sH, sW = x_pad.strides
    view = as_strided(x_pad, (N, C, H_out, W_out, HH, WW), (sN, sC, sH * stride, sW * stride, sH, sW))
    return np.ascontiguousarray(view.transpose(order)).reshape(C * HH * WW, N * H_out * W_out)


def im2col_channels_last(x, HH, WW, stride=1, pad=0):
    return im2col_as_strided(x, HH, WW, stride, pad, order=(4, 5, 1, 0, 2, 3))  # rows (k, l, c)


def im2col_images_last(x, HH, WW, stride=1, pad=0):
    return im2col_as_strided(x, HH, WW, stride, pad, order=(1, 4, 5, 2, 3, 0))  # columns (i, j, n)


def im2col_ignores_padding(x, HH, WW, stride=1, pad=0):
    return im2col_as_strided(x, HH, WW, stride, 0)


def conv_forward_im2col_per_image(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    F, _, HH, WW = w.shape
    H_out, W_out = _output_shape(x.shape, HH, WW, stride, pad)
    out = np.empty((x.shape[0], F, H_out, W_out))
    for n in range(x.shape[0]):
        cols = im2col_as_strided(x[n : n + 1], HH, WW, stride, pad)
        out[n] = (w.reshape(F, -1) @ cols + b[:, None]).reshape(F, H_out, W_out)
    return out, (x, w, b, conv_param)


def conv_forward_im2col_reshape_without_transpose(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    F, _, HH, WW = w.shape
    H_out, W_out = _output_shape(x.shape, HH, WW, stride, pad)
    scores = w.reshape(F, -1) @ im2col_as_strided(x, HH, WW, stride, pad) + b[:, None]
    return scores.reshape(x.shape[0], F, H_out, W_out), (x, w, b, conv_param)


# ---- ThreeLayerConvNet ------------------------------------------------------------------------------


class InlineThreeLayerConvNet:
    """The network written out with the provided fast layers and numpy; class attributes inject bugs."""

    reg_factor = 0.5
    reg_in_gradients = True
    hidden_relu = True

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
        rng = np.random.default_rng(seed)
        shapes = {
            "W1": (num_filters, C, filter_size, filter_size),
            "W2": (num_filters * H * W // 4, hidden_dim),
            "W3": (hidden_dim, num_classes),
        }
        self.params = {}
        for index, (name, shape) in enumerate(shapes.items(), start=1):
            self.params[name] = (weight_scale * rng.standard_normal(shape)).astype(dtype)
            self.params[f"b{index}"] = np.zeros(shape[0] if index == 1 else shape[1], dtype=dtype)
        self.reg, self.dtype, self.filter_size = reg, dtype, filter_size

    def loss(self, X, y=None):
        p = self.params
        X = np.asarray(X, dtype=self.dtype)
        conv, conv_cache = conv_forward_fast(X, p["W1"], p["b1"], {"stride": 1, "pad": (self.filter_size - 1) // 2})
        relu = np.maximum(conv, 0)
        pooled, pool_cache = max_pool_forward_fast(relu, {"pool_height": 2, "pool_width": 2, "stride": 2})
        flat = pooled.reshape(len(X), -1)
        pre_hidden = flat @ p["W2"] + p["b2"]
        hidden = np.maximum(pre_hidden, 0) if self.hidden_relu else pre_hidden
        scores = hidden @ p["W3"] + p["b3"]
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probabilities = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        N = len(X)
        loss = -np.log(probabilities[np.arange(N), y]).mean()
        loss += self.reg_factor * self.reg * sum(np.sum(p[name] ** 2) for name in ("W1", "W2", "W3"))
        dscores = probabilities.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads = {"W3": hidden.T @ dscores, "b3": dscores.sum(axis=0)}
        dhidden = dscores @ p["W3"].T
        dpre = dhidden * (pre_hidden > 0) if self.hidden_relu else dhidden
        grads["W2"], grads["b2"] = flat.T @ dpre, dpre.sum(axis=0)
        dpooled = (dpre @ p["W2"].T).reshape(pooled.shape)
        drelu = max_pool_backward_fast(dpooled, pool_cache) * (conv > 0)
        _, grads["W1"], grads["b1"] = conv_backward_fast(drelu, conv_cache)
        if self.reg_in_gradients:
            for name in ("W1", "W2", "W3"):
                grads[name] = grads[name] + 2 * self.reg_factor * self.reg * p[name]
        return loss, grads

    maps_relu = True  # class attributes inject the classic bugs of activation_maps
    maps_pooled = False
    maps_bias = True
    maps_pad = None  # None: same padding

    def activation_maps(self, X):
        """The first layer's maps, the convolution written with tensordot and the ReLU with np.maximum."""
        p = self.params
        pad = (self.filter_size - 1) // 2 if self.maps_pad is None else self.maps_pad
        b1 = p["b1"] if self.maps_bias else np.zeros_like(p["b1"])
        maps, _ = conv_forward_tensordot(np.asarray(X, dtype=self.dtype), p["W1"], b1, {"stride": 1, "pad": pad})
        if self.maps_relu:
            maps = np.maximum(maps, 0)
        if self.maps_pooled:
            maps, _ = max_pool_forward_fast(maps, {"pool_height": 2, "pool_width": 2, "stride": 2})
        return maps


class RegularisationMissingFromGradients(InlineThreeLayerConvNet):
    reg_in_gradients = False


class RegularisationWithoutTheHalf(InlineThreeLayerConvNet):
    reg_factor = 1.0


class HiddenLayerWithoutRelu(InlineThreeLayerConvNet):
    hidden_relu = False


class ActivationMapsWithoutRelu(InlineThreeLayerConvNet):
    maps_relu = False


class ActivationMapsAfterThePool(InlineThreeLayerConvNet):
    maps_pooled = True


class ActivationMapsWithoutTheBias(InlineThreeLayerConvNet):
    maps_bias = False


class ActivationMapsWithoutPadding(InlineThreeLayerConvNet):
    maps_pad = 0


# ---- the cases ------------------------------------------------------------------------------------

ARITHMETIC = "cs_lib.conv_arithmetic."
LAYERS = "cs_lib.conv_layers."
IM2COL = "cs_lib.im2col."
CNN = "cs_lib.classifiers.cnn.ThreeLayerConvNet"

WRONG = {
    "conv_output_size floors a stride that does not fit": (
        {ARITHMETIC + "conv_output_size": output_size_floors},
        ["conv_output_size"],
    ),
    "conv_output_size returns a fraction": ({ARITHMETIC + "conv_output_size": output_size_float}, ["conv_output_size"]),
    "conv_output_size ignores padding": (
        {ARITHMETIC + "conv_output_size": output_size_ignores_padding},
        ["conv_output_size"],
    ),
    "conv_param_count forgets the biases": (
        {ARITHMETIC + "conv_param_count": param_count_without_biases},
        ["conv_param_count"],
    ),
    "conv_param_count forgets the input depth": (
        {ARITHMETIC + "conv_param_count": param_count_ignores_depth},
        ["conv_param_count"],
    ),
    "receptive_field is L*K": ({ARITHMETIC + "receptive_field": receptive_field_times_k}, ["receptive_field"]),
    "receptive_field forgets the centre pixel": (
        {ARITHMETIC + "receptive_field": receptive_field_without_the_centre},
        ["receptive_field"],
    ),
    "same_padding floors even filters": ({ARITHMETIC + "same_padding": same_padding_floors}, ["same_padding"]),
    "conv_forward_naive flips the filters": (
        {LAYERS + "conv_forward_naive": conv_forward_flipped},
        ["conv_forward_naive"],
    ),
    "conv_forward_naive forgets the bias": (
        {LAYERS + "conv_forward_naive": conv_forward_without_bias},
        ["conv_forward_naive"],
    ),
    "conv_backward_naive forgets to sum dw and db over the images": (
        {LAYERS + "conv_backward_naive": conv_backward_sums_one_image},
        ["conv_backward_naive"],
    ),
    "conv_backward_naive ignores the padding": (
        {LAYERS + "conv_backward_naive": conv_backward_ignores_padding},
        ["conv_backward_naive"],
    ),
    "max_pool_forward_naive uses pool_height for both sides": (
        {LAYERS + "max_pool_forward_naive": pool_forward_ignores_width},
        ["max_pool_forward_naive"],
    ),
    "max_pool_backward_naive assigns instead of adding (assumes stride == pool size)": (
        {LAYERS + "max_pool_backward_naive": pool_backward_assigns},
        ["max_pool_backward_naive"],
    ),
    "max_pool_backward_naive tiles the input (assumes stride == pool size)": (
        {LAYERS + "max_pool_backward_naive": pool_backward_reshape},
        ["max_pool_backward_naive"],
    ),
    "max_pool_backward_naive gives the gradient to every tied maximum": (
        {LAYERS + "max_pool_backward_naive": pool_backward_all_ties},
        ["max_pool_backward_naive"],
    ),
    "max_pool_backward_naive gives tied maxima nothing": (
        {LAYERS + "max_pool_backward_naive": pool_backward_unique_only},
        ["max_pool_backward_naive"],
    ),
    "im2col orders the rows (k, l, c)": ({IM2COL + "im2col": im2col_channels_last}, ["im2col"]),
    "im2col orders the columns (i, j, n)": ({IM2COL + "im2col": im2col_images_last}, ["im2col"]),
    "im2col ignores the padding": ({IM2COL + "im2col": im2col_ignores_padding}, ["im2col"]),
    "conv_forward_im2col reshapes to (N, F, H', W') without a transpose": (
        {IM2COL + "conv_forward_im2col": conv_forward_im2col_reshape_without_transpose},
        ["conv_forward_im2col"],
    ),
    "ThreeLayerConvNet leaves the regularisation out of the gradients": (
        {CNN: RegularisationMissingFromGradients},
        ["cnn_gradients"],
    ),
    "ThreeLayerConvNet regularises with reg * sum(W**2)": ({CNN: RegularisationWithoutTheHalf}, ["cnn_initial_loss"]),
    "ThreeLayerConvNet forgets the hidden ReLU": ({CNN: HiddenLayerWithoutRelu}, ["cnn_initial_loss"]),
    "activation_maps without the ReLU": ({CNN: ActivationMapsWithoutRelu}, ["activation_maps"]),
    "activation_maps after the max pool": ({CNN: ActivationMapsAfterThePool}, ["activation_maps"]),
    "activation_maps without the bias": ({CNN: ActivationMapsWithoutTheBias}, ["activation_maps"]),
    "activation_maps without padding": ({CNN: ActivationMapsWithoutPadding}, ["activation_maps"]),
}

VALID = {
    "conv_output_size with divmod": ({ARITHMETIC + "conv_output_size": output_size_divmod}, ["conv_output_size"]),
    "same_padding checking the division": (
        {ARITHMETIC + "same_padding": same_padding_checked_division},
        ["same_padding"],
    ),
    "conv_forward_naive vectorised with tensordot": (
        {LAYERS + "conv_forward_naive": conv_forward_tensordot},
        ["conv_forward_naive", "conv_backward_naive"],
    ),
    "conv_backward_naive vectorised with einsum": (
        {LAYERS + "conv_backward_naive": conv_backward_einsum},
        ["conv_backward_naive"],
    ),
    "max pooling with the last of tied maxima": (
        {
            LAYERS + "max_pool_forward_naive": pool_forward_loops,
            LAYERS + "max_pool_backward_naive": pool_backward_last_maximum,
        },
        ["max_pool_forward_naive", "max_pool_backward_naive"],
    ),
    "im2col with as_strided": ({IM2COL + "im2col": im2col_as_strided}, ["im2col", "conv_forward_im2col"]),
    "conv_forward_im2col one image at a time": (
        {IM2COL + "conv_forward_im2col": conv_forward_im2col_per_image},
        ["conv_forward_im2col"],
    ),
    "ThreeLayerConvNet written out with the fast layers and numpy": (
        {CNN: InlineThreeLayerConvNet},
        ["cnn_initial_loss", "cnn_gradients", "activation_maps"],
    ),
}


@pytest.mark.parametrize("grade_id", cells.test_cell_ids(A3))
def test_the_reference_passes_every_self_contained_test_cell(grade_id):
    passed, message = cells.run_cell(A3, grade_id)
    assert passed, message


def test_every_graded_function_has_a_test_cell_covered_here():
    covered = {gid for _, grade_ids in list(WRONG.values()) + list(VALID.values()) for gid in grade_ids}
    assert covered == set(cells.test_cell_ids(A3))


@pytest.mark.parametrize("bug", list(WRONG))
def test_the_notebook_catches_a_classic_wrong_implementation(bug):
    overrides, grade_ids = WRONG[bug]
    assert cells.failing_cells(A3, grade_ids, overrides), f"no test cell catches: {bug}"


@pytest.mark.parametrize("alternative", list(VALID))
def test_the_notebook_accepts_a_valid_alternative_implementation(alternative):
    overrides, grade_ids = VALID[alternative]
    results = {gid: cells.run_cell(A3, gid, overrides) for gid in grade_ids}
    failures = {gid: message for gid, (passed, message) in results.items() if not passed}
    assert not failures, f"{alternative} is valid but fails: {failures}"


# ---- the tests that judge what the notebook trained (reads=[...]) ----------------------------------


@pytest.fixture(scope="module")
def trained_weights():
    """Weights trained as the notebook's grading run trains them: the small set and the whole set."""
    from cs_lib.classifiers.cnn import ThreeLayerConvNet
    from cs_lib.datasets import get_cifar10_data
    from cs_lib.solver import Solver

    data = get_cifar10_data(dtype=np.float32)
    small = {"X_train": data["X_train"][:50], "y_train": data["y_train"][:50], "X_val": data["X_val"][:50]}
    small["y_val"] = data["y_val"][:50]
    weights = {}
    for name, (subset, model, rate, epochs, batch) in {
        "small": (small, ThreeLayerConvNet(num_filters=8, weight_scale=1e-2, seed=0), 1e-3, 12, 25),
        "full": (data, ThreeLayerConvNet(num_filters=8, weight_scale=5e-3, reg=1e-2, seed=0), 5e-4, 2, 50),
    }.items():
        weights[f"{name} untrained"] = {key: np.array(value) for key, value in model.params.items()}
        solver = Solver(
            model,
            subset,
            update_rule="adam",
            optim_config={"learning_rate": rate},
            num_epochs=epochs,
            batch_size=batch,
            num_train_samples=100,
            num_val_samples=100,
            verbose=False,
            seed=0,
        )
        solver.train()
        weights[name] = {key: np.array(value) for key, value in model.params.items()}
    return weights


@pytest.mark.parametrize(
    ("cell", "variable", "weights"),
    [("overfit_small_data", "small_weights", "small"), ("cnn_trained_accuracy", "cnn_weights", "full")],
)
def test_the_tests_of_trained_weights_accept_the_reference_and_reject_untrained_or_broken_weights(
    cell, variable, weights, trained_weights
):
    passed, message = cells.run_cell(A3, cell, namespace={variable: trained_weights[weights]})
    assert passed, message
    passed, message = cells.run_cell(A3, cell, namespace={variable: trained_weights[f"{weights} untrained"]})
    assert not passed and message.startswith("cs_lib.checks.CheckError") and "expected" in message, message
    incomplete = {key: value for key, value in trained_weights[weights].items() if key != "W3"}
    passed, message = cells.run_cell(A3, cell, namespace={variable: incomplete})
    assert not passed and "run the training cell above again" in message, message


def free_names(source):
    """Names a cell reads without defining them itself (imports, assignments, functions and their arguments)."""
    import ast
    import builtins

    tree = ast.parse(source)
    defined = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            defined |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.Lambda)):
            defined |= {arg.arg for arg in node.args.args + node.args.kwonlyargs}
            if isinstance(node, ast.FunctionDef):
                defined.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
    loaded = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return loaded - defined


def test_every_stateful_test_declares_exactly_the_notebook_variables_it_reads():
    from autograder.common.course import load_course
    from autograder.common.sources import source_notebook

    course = load_course()
    assignment = course.assignment(A3)
    notebook = source_notebook(assignment.source_notebook(assignment.notebooks[0]), course, A3)
    stateful = [cell for cell in notebook.cells if "stateful" in cell.metadata.get("tags", [])]
    assert {cell.metadata["nbgrader"]["grade_id"] for cell in stateful} == {
        "overfit_small_data",
        "cnn_trained_accuracy",
    }
    for cell in stateful:
        assert free_names(cell.source) == set(cell.metadata.get("reads", [])), cell.metadata["nbgrader"]["grade_id"]


def test_the_starter_conv_arithmetic_asks_for_the_formulas_instead_of_giving_them():
    from autograder.common import paths

    stub = (paths.REPO_ROOT / "cs_lib" / "conv_arithmetic.py").read_text()
    given_away = ["// stride + 1", "F * F * C * K", "F*F*C*K", "1 + L*(K - 1)", "1 + L * (K - 1)", "(F - 1) // 2"]
    given_away += ["(F - 1) / 2", "F^2"]
    assert not [formula for formula in given_away if formula in stub]
    assert stub.count("raise NotImplementedError") == 4
