"""Assignment 2 notebook: the reference passes every test cell, the cells catch classic wrong
implementations of each graded function, and they accept valid alternative implementations."""

import ast

import numpy as np
import pytest

import cells
from autograder.common.sources import BEGIN_HIDDEN
from cells import cell_source, patched, run_cell
from cs_lib import layers
from cs_lib.classifiers import fc_net

pytestmark = pytest.mark.a2

A2 = "a2"
CELLS = {
    "affine_forward": ["affine_forward"],
    "affine_backward": ["affine_backward"],
    "relu_forward": ["relu_forward"],
    "relu_backward": ["relu_backward"],
    "softmax_loss": ["softmax_loss"],
    "svm_loss": ["svm_loss"],
    "dropout_forward": ["dropout_forward"],
    "dropout_backward": ["dropout_backward"],
    "TwoLayerNet": ["two_layer_net"],
    "FullyConnectedNet": ["fc_net_init", "fc_net_gradients", "fc_net_deep", "fc_net_kaiming", "fc_net_dropout"],
    "sgd": ["sgd"],
    "sgd_momentum": ["sgd_momentum"],
    "rmsprop": ["rmsprop"],
    "adam": ["adam"],
}
MODULE = {name: "cs_lib.layers" for name in CELLS} | {
    "TwoLayerNet": "cs_lib.classifiers.fc_net",
    "FullyConnectedNet": "cs_lib.classifiers.fc_net",
    "sgd": "cs_lib.optim",
    "sgd_momentum": "cs_lib.optim",
    "rmsprop": "cs_lib.optim",
    "adam": "cs_lib.optim",
}


def first_failure(function, replacement):
    """(grade id, message) of the first of the function's cells that fails with replacement patched in."""
    return cells.first_failure(A2, CELLS[function], {f"{MODULE[function]}.{function}": replacement})


# ---------------------------------------------------------------- the reference and the cells themselves


@pytest.mark.parametrize("grade_id", cells.test_cell_ids(A2))
def test_reference_passes_every_self_contained_test_cell(grade_id):
    passed, message = run_cell(A2, grade_id)
    assert passed, message


def test_only_the_training_checks_read_notebook_state():
    stateful = set(cells.test_cell_ids(A2, include_stateful=True)) - set(cells.test_cell_ids(A2))
    assert stateful == {"two_layer_accuracy", "overfit_three_layer_accuracy", "overfit_five_layer_accuracy"}
    assert set(cells.test_cell_ids(A2)) == {grade_id for grade_ids in CELLS.values() for grade_id in grade_ids}


def test_test_cells_use_no_torch_so_grading_stays_fast():
    for grade_id in cells.test_cell_ids(A2, include_stateful=True):
        assert "torch" not in cell_source(A2, grade_id), grade_id


@pytest.mark.parametrize("grade_id", cells.test_cell_ids(A2, include_stateful=True))
def test_test_cells_have_a_visible_part_and_do_not_end_in_a_bare_value(grade_id):
    """A cell whose last line is a bare number shows it, and the scorer reads that as partial credit."""
    source = cell_source(A2, grade_id)
    visible = source.split(BEGIN_HIDDEN)[0]
    assert "check_" in visible
    last = ast.parse(source).body[-1]
    if isinstance(last, ast.Expr):  # only a call to print or a check (whose result shows as "passed: ...")
        name = getattr(last.value, "func", None)
        assert isinstance(last.value, ast.Call) and (name.id == "print" or name.id.startswith("check_")), grade_id


# ---------------------------------------------------------------- wrong layers


def affine_forward_without_bias(x, w, b):
    return x.reshape(x.shape[0], -1) @ w, (x, w, b)


def affine_forward_flattening_column_major(x, w, b):
    return x.reshape(x.shape[0], -1, order="F") @ w + b, (x, w, b)


def affine_backward_flat_dx(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.reshape(x.shape[0], -1).T @ dout, dout.sum(axis=0)


def affine_backward_averaging_db(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T @ dout, dout.mean(axis=0)


def affine_backward_averaging_dw(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T @ dout / x.shape[0], dout.sum(axis=0)


def relu_forward_leaky(x):
    return np.where(x > 0, x, 0.01 * x), x


def relu_backward_masking_by_dout(dout, cache):
    return dout * (dout > 0)


def relu_backward_ignoring_dout(dout, cache):
    return (cache > 0).astype(float)


def _softmax_parts(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    return probs, np.arange(len(y))


def softmax_loss_without_max_shift(x, y):
    probs = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    dx = probs.copy()
    dx[rows, y] -= 1
    return -np.log(probs[rows, y]).mean(), dx / len(y)


def softmax_loss_summed_over_examples(x, y):
    probs, rows = _softmax_parts(x, y)
    dx = probs.copy()
    dx[rows, y] -= 1
    return -np.log(probs[rows, y]).sum(), dx


def softmax_loss_dx_without_one_hot(x, y):
    probs, rows = _softmax_parts(x, y)
    return -np.log(probs[rows, y]).mean(), probs / len(y)


def _svm(x, y, zero_correct=True, correct_column=True, average=True):
    rows = np.arange(len(y))
    margins = np.maximum(0, x - x[rows, y][:, None] + 1)
    if zero_correct:
        margins[rows, y] = 0
    positive = (margins > 0).astype(float)
    if correct_column:
        positive[rows, y] = -positive.sum(axis=1) + (0 if zero_correct else 1)
    N = len(y) if average else 1
    return margins.sum() / N, positive / N


def svm_loss_counting_the_correct_class(x, y):
    return _svm(x, y, zero_correct=False)


def svm_loss_dx_without_the_correct_column(x, y):
    return _svm(x, y, correct_column=False)


def svm_loss_not_averaged(x, y):
    return _svm(x, y, average=False)


REFERENCE_DROPOUT_FORWARD = layers.dropout_forward  # kept before any cell patches the module


def _uniform(param, shape):
    return np.random.default_rng(param.get("seed")).random(shape)


def dropout_forward_not_inverted(x, param):
    mask = (_uniform(param, x.shape) < param["p"]) if param["mode"] == "train" else None
    return (x * mask if mask is not None else x), (dict(param), mask)


def dropout_forward_with_p_as_drop_probability(x, param):
    keep = 1 - param["p"]
    mask = (_uniform(param, x.shape) < keep) / keep if param["mode"] == "train" else None
    return (x * mask if mask is not None else x), (dict(param), mask)


def dropout_forward_scaling_at_test_time(x, param):
    if param["mode"] == "test":
        return x * param["p"], (dict(param), None)
    return REFERENCE_DROPOUT_FORWARD(x, param)


def dropout_forward_ignoring_the_seed(x, param):
    mask = (np.random.default_rng().random(x.shape) < param["p"]) / param["p"] if param["mode"] == "train" else None
    return (x * mask if mask is not None else x), (dict(param), mask)


def dropout_backward_drawing_a_new_mask(dout, cache):
    param, _ = cache
    if param["mode"] == "test":
        return dout
    return dout * (_uniform(param, dout.shape) < param["p"]) / param["p"]


def dropout_backward_without_rescaling(dout, cache):
    param, mask = cache
    return dout if mask is None else dout * (mask != 0)


def dropout_backward_scaling_in_test_mode(dout, cache):
    param, mask = cache
    return dout * param["p"] if mask is None else dout * mask


# ---------------------------------------------------------------- wrong update rules


def sgd_ascending(w, dw, config=None):
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2)
    return w + config["learning_rate"] * dw, config


def sgd_with_a_small_default(w, dw, config=None):
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-3)
    return w - config["learning_rate"] * dw, config


def _momentum(w, dw, config, store=True, old_velocity=False, dampening=False):
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    scale = (1 - config["momentum"]) if dampening else 1.0
    new_v = config["momentum"] * v - scale * config["learning_rate"] * dw
    next_w = w + (v if old_velocity else new_v)
    if store:
        config["velocity"] = new_v
    return next_w, config


def sgd_momentum_forgetting_the_velocity(w, dw, config=None):
    return _momentum(w, dw, config, store=False)


def sgd_momentum_stepping_with_the_old_velocity(w, dw, config=None):
    return _momentum(w, dw, config, old_velocity=True)


def sgd_momentum_with_dampening(w, dw, config=None):
    return _momentum(w, dw, config, dampening=True)


def _rmsprop(w, dw, config, eps_inside=False, square=True, store=True):
    config = config if config is not None else {}
    for key, value in (("learning_rate", 1e-2), ("decay_rate", 0.99), ("epsilon", 1e-8)):
        config.setdefault(key, value)
    config.setdefault("cache", np.zeros_like(w))
    rho, eps = config["decay_rate"], config["epsilon"]
    cache = rho * config["cache"] + (1 - rho) * (dw**2 if square else np.abs(dw))
    denominator = np.sqrt(cache + eps) if eps_inside else np.sqrt(cache) + eps
    if store:
        config["cache"] = cache
    return w - config["learning_rate"] * dw / denominator, config


def rmsprop_with_epsilon_inside_the_root(w, dw, config=None):
    return _rmsprop(w, dw, config, eps_inside=True)


def rmsprop_averaging_absolute_gradients(w, dw, config=None):
    return _rmsprop(w, dw, config, square=False)


def rmsprop_forgetting_the_cache(w, dw, config=None):
    return _rmsprop(w, dw, config, store=False)


def _adam(w, dw, config, correct_m=True, correct_v=True, count_first=True, store_t=True):
    config = config if config is not None else {}
    for key, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
        config.setdefault(key, value)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    b1, b2 = config["beta1"], config["beta2"]
    t = config["t"] + 1 if count_first else config["t"]
    m = b1 * config["m"] + (1 - b1) * dw
    v = b2 * config["v"] + (1 - b2) * dw**2
    m_hat = m / (1 - b1**t) if correct_m else m
    with np.errstate(divide="ignore", invalid="ignore"):
        v_hat = v / (1 - b2**t) if correct_v else v
        next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    config["m"], config["v"] = m, v
    if store_t:
        config["t"] = config["t"] + 1
    return next_w, config


def adam_without_bias_correction(w, dw, config=None):
    return _adam(w, dw, config, correct_m=False, correct_v=False)


def adam_counting_the_step_after_the_correction(w, dw, config=None):
    return _adam(w, dw, config, count_first=False)


def adam_correcting_only_the_first_moment(w, dw, config=None):
    return _adam(w, dw, config, correct_v=False)


def adam_forgetting_the_step_count(w, dw, config=None):
    return _adam(w, dw, config, store_t=False)


# ---------------------------------------------------------------- networks written out in numpy, with optional bugs


def _softmax_loss_and_dscores(scores, y):
    N = len(y)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dscores = np.exp(log_probs)
    dscores[np.arange(N), y] -= 1
    return -log_probs[np.arange(N), y].mean(), dscores / N


def explicit_two_layer_net(*bugs):
    """TwoLayerNet without the layer API (a valid alternative when bugs is empty)."""

    class ExplicitTwoLayerNet(fc_net.TwoLayerNet):
        def __init__(
            self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0, seed=None
        ):
            rng = np.random.default_rng(seed)
            scale = 1.0 if "ignores weight_scale" in bugs else weight_scale
            self.reg = reg
            self.params = {
                "W2": scale * rng.standard_normal((hidden_dim, num_classes)),
                "W1": scale * rng.standard_normal((input_dim, hidden_dim)),
                "b1": np.zeros(hidden_dim),
                "b2": np.zeros(num_classes),
            }

        def loss(self, X, y=None):
            p = self.params
            x = X.reshape(X.shape[0], -1)
            a = x @ p["W1"] + p["b1"]
            h = np.maximum(a, 0)
            scores = h @ p["W2"] + p["b2"]
            raw_scores = scores
            if "relu on the scores" in bugs:
                scores = np.maximum(scores, 0)
            if y is None:
                return scores
            loss, dscores = _softmax_loss_and_dscores(scores, y)
            if "relu on the scores" in bugs:
                dscores = dscores * (raw_scores > 0)
            grads = {"W2": h.T @ dscores, "b2": dscores.sum(axis=0)}
            da = (dscores @ p["W2"].T) * (a > 0)
            grads["W1"], grads["b1"] = x.T @ da, da.sum(axis=0)
            penalised = ["W1", "W2"] + (["b1", "b2"] if "regularises biases" in bugs else [])
            factor = 1.0 if "no half in the penalty" in bugs else 0.5
            for name in penalised:
                loss += factor * self.reg * np.sum(p[name] ** 2)
                if "no penalty gradient" not in bugs:
                    grads[name] = grads[name] + 2 * factor * self.reg * p[name]
            return loss, grads

    return ExplicitTwoLayerNet


def explicit_fully_connected_net(*bugs):
    """FullyConnectedNet without the layer API (a valid alternative when bugs is empty)."""

    class ExplicitFullyConnectedNet(fc_net.FullyConnectedNet):
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
            super().__init__(
                hidden_dims, input_dim, num_classes, dropout_keep_ratio, normalization, reg, weight_scale, dtype, seed
            )
            rng = np.random.default_rng(None if seed is None else seed + 1)
            dims = [input_dim, *hidden_dims, num_classes]
            for i in range(1, self.num_layers + 1):
                scale = np.sqrt(1 / dims[i - 1]) if "ignores weight_scale" in bugs else weight_scale
                if weight_scale == "kaiming":
                    fan = dims[i] if "kaiming with the fan-out" in bugs else dims[i - 1]
                    scale = np.sqrt((1 if "kaiming as 1 / fan_in" in bugs else 2) / fan)
                    scale = 1e-2 if "kaiming ignored" in bugs else scale
                self.params[f"W{i}"] = (scale * rng.standard_normal((dims[i - 1], dims[i]))).astype(dtype)
                self.params[f"b{i}"] = (np.ones if "biases start at one" in bugs else np.zeros)(dims[i], dtype=dtype)

        def _mask(self, h):
            return layers.dropout_forward(np.ones_like(h), dict(self.dropout_param, mode="train"))[0]

        def loss(self, X, y=None):
            mode = "test" if y is None else "train"
            if self.use_dropout:
                self.dropout_param["mode"] = mode
            dropping = (
                self.use_dropout and "no dropout" not in bugs and (mode == "train" or "dropout at test time" in bugs)
            )
            p, L = self.params, self.num_layers
            h = X.reshape(X.shape[0], -1).astype(self.dtype)
            inputs, pre_activations, masks = [], [], []
            for i in range(1, L):
                inputs.append(h)
                a = h @ p[f"W{i}"] + p[f"b{i}"]
                pre_activations.append(a)
                h = np.maximum(a, 0)
                masks.append(self._mask(h) if dropping else None)
                h = h if masks[-1] is None else h * masks[-1]
            scores = h @ p[f"W{L}"] + p[f"b{L}"]
            raw_scores = scores
            if "relu after the last layer" in bugs:
                scores = np.maximum(scores, 0)
            score_mask = self._mask(scores) if dropping and "dropout on the scores" in bugs else None
            if score_mask is not None:
                scores = scores * score_mask
            if y is None:
                return scores
            loss, dscores = _softmax_loss_and_dscores(scores, y)
            if score_mask is not None:
                dscores = dscores * score_mask
            if "relu after the last layer" in bugs:
                dscores = dscores * (raw_scores > 0)
            grads = {f"W{L}": h.T @ dscores, f"b{L}": dscores.sum(axis=0)}
            dh = dscores @ p[f"W{L}"].T
            for i in range(L - 1, 0, -1):
                if masks[i - 1] is not None:
                    dh = dh * masks[i - 1]
                da = dh * (pre_activations[i - 1] > 0)
                grads[f"W{i}"], grads[f"b{i}"] = inputs[i - 1].T @ da, da.sum(axis=0)
                dh = da @ p[f"W{i}"].T
            for i in [L] if "only the last layer penalised" in bugs else range(1, L + 1):
                loss += 0.5 * self.reg * np.sum(p[f"W{i}"] ** 2)
                if "no penalty gradient" not in bugs:
                    grads[f"W{i}"] = grads[f"W{i}"] + self.reg * p[f"W{i}"]
            return loss, grads

    return ExplicitFullyConnectedNet


WRONG = [
    ("affine_forward", affine_forward_without_bias),
    ("affine_forward", affine_forward_flattening_column_major),
    ("affine_backward", affine_backward_flat_dx),
    ("affine_backward", affine_backward_averaging_db),
    ("affine_backward", affine_backward_averaging_dw),
    ("relu_forward", relu_forward_leaky),
    ("relu_backward", relu_backward_masking_by_dout),
    ("relu_backward", relu_backward_ignoring_dout),
    ("softmax_loss", softmax_loss_without_max_shift),
    ("softmax_loss", softmax_loss_summed_over_examples),
    ("softmax_loss", softmax_loss_dx_without_one_hot),
    ("svm_loss", svm_loss_counting_the_correct_class),
    ("svm_loss", svm_loss_dx_without_the_correct_column),
    ("svm_loss", svm_loss_not_averaged),
    ("dropout_forward", dropout_forward_not_inverted),
    ("dropout_forward", dropout_forward_with_p_as_drop_probability),
    ("dropout_forward", dropout_forward_scaling_at_test_time),
    ("dropout_forward", dropout_forward_ignoring_the_seed),
    ("dropout_backward", dropout_backward_drawing_a_new_mask),
    ("dropout_backward", dropout_backward_without_rescaling),
    ("dropout_backward", dropout_backward_scaling_in_test_mode),
    ("sgd", sgd_ascending),
    ("sgd", sgd_with_a_small_default),
    ("sgd_momentum", sgd_momentum_forgetting_the_velocity),
    ("sgd_momentum", sgd_momentum_stepping_with_the_old_velocity),
    ("sgd_momentum", sgd_momentum_with_dampening),
    ("rmsprop", rmsprop_with_epsilon_inside_the_root),
    ("rmsprop", rmsprop_averaging_absolute_gradients),
    ("rmsprop", rmsprop_forgetting_the_cache),
    ("adam", adam_without_bias_correction),
    ("adam", adam_counting_the_step_after_the_correction),
    ("adam", adam_correcting_only_the_first_moment),
    ("adam", adam_forgetting_the_step_count),
]
# (class, how to build the buggy version, the bug, the cell that must catch it)
WRONG_NETS = [
    ("TwoLayerNet", explicit_two_layer_net, "ignores weight_scale", "two_layer_net"),
    ("TwoLayerNet", explicit_two_layer_net, "relu on the scores", "two_layer_net"),
    ("TwoLayerNet", explicit_two_layer_net, "regularises biases", "two_layer_net"),
    ("TwoLayerNet", explicit_two_layer_net, "no half in the penalty", "two_layer_net"),
    ("TwoLayerNet", explicit_two_layer_net, "no penalty gradient", "two_layer_net"),
    ("FullyConnectedNet", explicit_fully_connected_net, "ignores weight_scale", "fc_net_init"),
    ("FullyConnectedNet", explicit_fully_connected_net, "biases start at one", "fc_net_init"),
    ("FullyConnectedNet", explicit_fully_connected_net, "relu after the last layer", "fc_net_gradients"),
    ("FullyConnectedNet", explicit_fully_connected_net, "no penalty gradient", "fc_net_gradients"),
    ("FullyConnectedNet", explicit_fully_connected_net, "only the last layer penalised", "fc_net_gradients"),
    ("FullyConnectedNet", explicit_fully_connected_net, "relu after the last layer", "fc_net_deep"),
    ("FullyConnectedNet", explicit_fully_connected_net, "no penalty gradient", "fc_net_deep"),
    ("FullyConnectedNet", explicit_fully_connected_net, "no dropout", "fc_net_dropout"),
    ("FullyConnectedNet", explicit_fully_connected_net, "dropout at test time", "fc_net_dropout"),
    ("FullyConnectedNet", explicit_fully_connected_net, "dropout on the scores", "fc_net_dropout"),
    ("FullyConnectedNet", explicit_fully_connected_net, "kaiming with the fan-out", "fc_net_kaiming"),
    ("FullyConnectedNet", explicit_fully_connected_net, "kaiming as 1 / fan_in", "fc_net_kaiming"),
    ("FullyConnectedNet", explicit_fully_connected_net, "kaiming ignored", "fc_net_kaiming"),
]


@pytest.mark.parametrize(("function", "wrong"), WRONG, ids=[wrong.__name__ for _, wrong in WRONG])
def test_notebook_cells_catch_a_classic_bug(function, wrong):
    with np.errstate(all="ignore"):
        assert first_failure(function, wrong), f"no {function} cell fails for {wrong.__name__}"


@pytest.mark.parametrize(
    ("function", "make", "bug", "grade_id"), WRONG_NETS, ids=[f"{cell}: {bug}" for _, _, bug, cell in WRONG_NETS]
)
def test_notebook_cell_catches_a_classic_network_bug(function, make, bug, grade_id):
    passed, _ = run_cell(A2, grade_id, {f"{MODULE[function]}.{function}": make(bug)})
    assert not passed, f"{grade_id} passes a {function} with the bug: {bug}"


def test_softmax_overflow_is_caught_by_the_hidden_tests_only():
    source = cell_source(A2, "softmax_loss")
    visible_only = {"cs_lib.layers.softmax_loss": softmax_loss_without_max_shift}
    scope_passed, _ = _run_source(source.split(BEGIN_HIDDEN)[0], visible_only)
    assert scope_passed, "the visible softmax check should not depend on huge scores"
    with np.errstate(all="ignore"):
        assert first_failure("softmax_loss", softmax_loss_without_max_shift)[0] == "softmax_loss"


def _run_source(source, overrides):
    try:
        with patched(overrides), np.errstate(all="ignore"):
            exec(compile(source, "<visible>", "exec"), {"__name__": "__visible__"})
    except Exception as error:  # a failing check raises anything at all
        return False, str(error)
    return True, ""


# ---------------------------------------------------------------- valid alternatives pass every cell


def affine_forward_with_einsum(x, w, b):
    return np.einsum("nd,dm->nm", np.reshape(x, (len(x), -1)), w) + b, (x, w, b)


def affine_backward_with_einsum(dout, cache):
    x, w, b = cache
    flat = np.reshape(x, (len(x), -1))
    return (
        np.einsum("nm,dm->nd", dout, w).reshape(x.shape),
        np.einsum("nd,nm->dm", flat, dout),
        np.einsum("nm->m", dout),
    )


def relu_forward_by_masking(x):
    return x * (x > 0), x


def relu_backward_with_where(dout, cache):
    return np.where(cache > 0, dout, 0.0)


def softmax_loss_with_logsumexp(x, y):
    top = x.max(axis=1, keepdims=True)
    log_normaliser = top + np.log(np.exp(x - top).sum(axis=1, keepdims=True))
    one_hot = np.eye(x.shape[1])[y]
    loss = np.mean(log_normaliser[:, 0] - np.sum(x * one_hot, axis=1))
    return loss, (np.exp(x - log_normaliser) - one_hot) / len(y)


def svm_loss_with_loops(x, y):
    N, C = x.shape
    loss, dx = 0.0, np.zeros_like(x, dtype=float)
    for i in range(N):
        for j in range(C):
            margin = x[i, j] - x[i, y[i]] + 1
            if j != y[i] and margin > 0:
                loss += margin
                dx[i, j] += 1
                dx[i, y[i]] -= 1
    return loss / N, dx / N


def dropout_forward_with_the_global_generator(x, param):
    """Seeds numpy's global generator and keeps a boolean mask (rescaling in backward)."""
    if param["mode"] == "test":
        return x, (dict(param), None)
    if "seed" in param:
        np.random.seed(param["seed"])  # noqa: NPY002  the legacy global generator, as many students use it
    keep = np.random.rand(*x.shape) < param["p"]  # noqa: NPY002
    return np.where(keep, x / param["p"], 0).astype(x.dtype), (dict(param), keep)


def dropout_backward_for_boolean_masks(dout, cache):
    param, keep = cache
    return dout if keep is None else np.where(keep, dout / param["p"], 0).astype(dout.dtype)


def sgd_in_place(w, dw, config=None):
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config


def sgd_momentum_in_place(w, dw, config=None):
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    velocity = config.setdefault("velocity", np.zeros_like(w))
    velocity *= config["momentum"]
    velocity -= config["learning_rate"] * dw
    return w + velocity, config


def rmsprop_in_place(w, dw, config=None):
    config = config if config is not None else {}
    for key, value in (("learning_rate", 1e-2), ("decay_rate", 0.99), ("epsilon", 1e-8)):
        config.setdefault(key, value)
    cache = config.setdefault("cache", np.zeros_like(w))
    cache *= config["decay_rate"]
    cache += (1 - config["decay_rate"]) * dw * dw
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config


def adam_with_a_folded_step_size(w, dw, config=None):
    """The Adam paper's reordering: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t) and epsilon scaled to match."""
    config = config if config is not None else {}
    for key, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
        config.setdefault(key, value)
    b1, b2 = config["beta1"], config["beta2"]
    config["t"] = config.get("t", 0) + 1
    config["m"] = b1 * config.get("m", 0) + (1 - b1) * dw
    config["v"] = b2 * config.get("v", 0) + (1 - b2) * dw * dw
    correction = np.sqrt(1 - b2 ** config["t"])
    step_size = config["learning_rate"] * correction / (1 - b1 ** config["t"])
    return w - step_size * config["m"] / (np.sqrt(config["v"]) + config["epsilon"] * correction), config


ALTERNATIVES = [
    {"cs_lib.layers.affine_forward": affine_forward_with_einsum},
    {"cs_lib.layers.affine_backward": affine_backward_with_einsum},
    {"cs_lib.layers.relu_forward": relu_forward_by_masking},
    {"cs_lib.layers.relu_backward": relu_backward_with_where},
    {"cs_lib.layers.softmax_loss": softmax_loss_with_logsumexp},
    {"cs_lib.layers.svm_loss": svm_loss_with_loops},
    {
        "cs_lib.layers.dropout_forward": dropout_forward_with_the_global_generator,
        "cs_lib.layers.dropout_backward": dropout_backward_for_boolean_masks,
        "cs_lib.classifiers.fc_net.dropout_forward": dropout_forward_with_the_global_generator,
        "cs_lib.classifiers.fc_net.dropout_backward": dropout_backward_for_boolean_masks,
    },
    {"cs_lib.classifiers.fc_net.TwoLayerNet": explicit_two_layer_net()},
    {"cs_lib.classifiers.fc_net.FullyConnectedNet": explicit_fully_connected_net()},
    {"cs_lib.optim.sgd": sgd_in_place},
    {"cs_lib.optim.sgd_momentum": sgd_momentum_in_place},
    {"cs_lib.optim.rmsprop": rmsprop_in_place},
    {"cs_lib.optim.adam": adam_with_a_folded_step_size},
]


def _cells_using(overrides):
    names = {dotted.rsplit(".", 1)[1] for dotted in overrides}
    return [gid for gid in cells.test_cell_ids(A2) if any(name in cell_source(A2, gid) for name in names)]


@pytest.mark.parametrize("overrides", ALTERNATIVES, ids=[next(iter(o.values())).__name__ for o in ALTERNATIVES])
def test_valid_alternative_passes_every_cell_that_uses_it(overrides):
    used = _cells_using(overrides)
    assert used, "the alternative is not used by any cell"
    for grade_id in used:
        passed, message = run_cell(A2, grade_id, overrides)
        assert passed, f"{grade_id}: {message}"


def _fc_net_with_only_assignment_4_stubbed():
    """fc_net as a student who finished assignment 2 but not 4 has it: only the (a4) regions are stubs."""
    import types
    from pathlib import Path

    from autograder.common.sources import BEGIN, END
    from autograder.instructor.authoring import make_stub

    source = (Path(__file__).resolve().parents[1] / "solutions" / "cs_lib" / "classifiers" / "fc_net.py").read_text()
    lines, kept, index = source.splitlines(), [], 0
    while index < len(lines):
        line = lines[index]
        if line.strip() == BEGIN and not lines[index + 1].strip().startswith("# Stub: (a4)"):
            end = next(i for i in range(index, len(lines)) if lines[i].strip() == END)
            kept += lines[index + 2 : end]  # the solution without its markers
            index = end + 1
            continue
        kept.append(line)
        index += 1
    module = types.ModuleType("fc_net_without_a4")
    exec(compile(make_stub("\n".join(kept) + "\n"), "fc_net_without_a4", "exec"), module.__dict__)
    return module


def test_a2_cells_pass_while_the_assignment_4_regions_are_still_stubs():
    partial = _fc_net_with_only_assignment_4_stubbed()
    with pytest.raises(NotImplementedError):
        partial.FullyConnectedNet([3], input_dim=2, num_classes=2, normalization="batchnorm")
    overrides = {
        "cs_lib.classifiers.fc_net.FullyConnectedNet": partial.FullyConnectedNet,
        "cs_lib.classifiers.fc_net.TwoLayerNet": partial.TwoLayerNet,
    }
    for grade_id in CELLS["FullyConnectedNet"] + CELLS["TwoLayerNet"]:
        passed, message = run_cell(A2, grade_id, overrides)
        assert passed, f"{grade_id}: {message}"


# ---------------------------------------------------------------- the checks that judge what the notebook trained


def _reads(grade_id):
    """The notebook variables a stateful cell declares with reads=[...]."""
    from autograder.common.course import load_course
    from autograder.common.sources import source_notebook

    course = load_course()
    assignment = course.assignment(A2)
    notebook = source_notebook(assignment.source_notebook(assignment.notebooks[0]), course, A2)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell.metadata.get("reads")
    raise KeyError(grade_id)


SETTINGS = {
    "overfit_three_layer_accuracy": ("three_layer_settings", {"weight_scale": 1e-2, "learning_rate": 1e-2}),
    "overfit_five_layer_accuracy": ("five_layer_settings", {"weight_scale": 5e-2, "learning_rate": 1e-2}),
}


def test_stateful_checks_declare_plain_data_they_read():
    assert _reads("two_layer_accuracy") == ["two_layer_weights"]
    for grade_id, (name, _) in SETTINGS.items():
        assert _reads(grade_id) == [name]


@pytest.mark.parametrize("grade_id", sorted(SETTINGS))
def test_overfitting_checks_retrain_with_the_recorded_settings_alone(grade_id):
    name, settings = SETTINGS[grade_id]
    passed, message = run_cell(A2, grade_id, namespace={name: settings})
    assert passed, message
    passed, message = run_cell(A2, grade_id, namespace={name: dict(settings, weight_scale=1e-4)})
    assert not passed and "best training accuracy on 50 images" in message, message
    passed, message = run_cell(A2, grade_id, namespace={name: {"scale": 1e-2, "lr": 1e-2}})
    assert not passed and "keys 'weight_scale' and 'learning_rate'" in message, message


class MemorisingNet:
    """A stand-in for FullyConnectedNet that learns nothing: it remembers each training image's label (a red
    team's hand-in) and so reaches a training accuracy of 1.0 whatever the settings."""

    def __init__(self, *args, **kwargs):
        self.params, self.memory = {"W1": np.zeros((1, 1))}, {}

    def loss(self, X, y=None):
        keys = [row.tobytes() for row in np.asarray(X)]
        if y is not None:
            self.memory.update(zip(keys, (int(label) for label in y)))
            return 0.0, {"W1": np.zeros((1, 1))}
        scores = np.zeros((len(keys), 10))
        for row, key in enumerate(keys):
            scores[row, self.memory.get(key, 0)] = 1.0
        return scores


@pytest.mark.parametrize("grade_id", sorted(SETTINGS))
def test_a_net_that_memorises_its_training_images_earns_nothing_with_settings_that_do_not_work(grade_id):
    """The settings are the answer: the hidden part retrains the reference net with them, so a memorising net
    (1.0 on its own images with any settings) pays only for settings that really overfit the net."""
    name, settings = SETTINGS[grade_id]
    memorising = {"cs_lib.classifiers.fc_net.FullyConnectedNet": MemorisingNet}
    useless = dict(settings, weight_scale=1e-6, learning_rate=1e-9)
    passed, message = run_cell(A2, grade_id, overrides=memorising, namespace={name: useless})
    assert not passed and "the reference" in message and "best training accuracy" in message, message
    passed, message = run_cell(A2, grade_id, overrides=memorising, namespace={name: settings})
    assert passed, message  # the settings that work are what the test pays for


def _trained_two_layer_weights(epochs):
    from cs_lib.classifiers.fc_net import TwoLayerNet
    from cs_lib.datasets import get_cifar10_data
    from cs_lib.solver import Solver

    model = TwoLayerNet(hidden_dim=50, weight_scale=1e-3, seed=0)
    data = get_cifar10_data(dtype=np.float32, dataset="embedded")
    solver = Solver(model, data, optim_config={"learning_rate": 3e-3}, num_epochs=epochs, verbose=False, seed=0)
    solver.train()
    return {name: np.array(value) for name, value in model.params.items()}


@pytest.mark.slow
def test_two_layer_check_evaluates_the_handed_over_weights_on_validation_data_it_loads(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # the grading target, 25% after a quick run
    weights = _trained_two_layer_weights(epochs=1)
    passed, message = run_cell(A2, "two_layer_accuracy", namespace={"two_layer_weights": weights})
    assert passed, message
    untrained = {name: np.zeros_like(value) for name, value in weights.items()}
    passed, message = run_cell(A2, "two_layer_accuracy", namespace={"two_layer_weights": untrained})
    assert not passed and "validation accuracy" in message, message
    passed, message = run_cell(
        A2, "two_layer_accuracy", namespace={"two_layer_weights": dict(weights, W2=weights["W1"])}
    )
    assert not passed and "two_layer_weights['W2']" in message, message
    passed, message = run_cell(A2, "two_layer_accuracy", namespace={"two_layer_weights": {"W1": weights["W1"]}})
    assert not passed and "W1, b1, W2 and b2" in message, message
