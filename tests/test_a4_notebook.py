"""Assignment 4's notebook test cells: the reference passes them, classic wrong code fails them, and valid
alternative implementations (other caches, other formulas) pass every cell that uses them."""

import ast
import builtins
import types

import numpy as np
import pytest

import cs_lib.normalization as reference
from autograder.common.sources import BEGIN_HIDDEN
from autograder.instructor.authoring import make_stub
from cs_lib.classifiers.fc_net import FullyConnectedNet
from tests import cells

pytestmark = pytest.mark.a4

MODULE = "cs_lib.normalization."
# the reference functions as imported, before any cell patches the module's attributes
ORIGINAL = {
    name: getattr(reference, name) for name in dir(reference) if name.endswith(("_forward", "_backward", "_alt"))
}
BATCHNORM_CELLS = ["batchnorm_forward_train", "batchnorm_forward_test", "batchnorm_backward", "batchnorm_backward_alt"]
SPATIAL_CELLS = ["spatial_batchnorm_forward", "spatial_batchnorm_backward"]
FC_NET_CELLS = ["fc_net_batchnorm_gradients", "fc_net_layernorm_gradients", "fc_net_batchnorm_test_mode"]
LAYERNORM_CELLS = ["layernorm_forward", "layernorm_backward"]
INSTANCENORM_CELLS = ["instancenorm_forward", "instancenorm_backward"]
GROUPNORM_CELLS = ["groupnorm_forward", "groupnorm_backward"]


def patch(**functions):
    return {MODULE + name: function for name, function in functions.items()}


# ---------------------------------------------------------------- wrong implementations (classic student bugs)


def batchnorm_forward_variant(
    test_uses_batch_statistics=False, unbiased_running_var=False, momentum_weights_new=False, forgets_eps_at_test=False
):
    """batchnorm_forward with one classic bug switched on; the cache is the reference's."""

    def forward(x, gamma, beta, bn_param):
        mode, eps, momentum = bn_param["mode"], bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
        running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
        running_var = bn_param.get("running_var", np.zeros(x.shape[1]))
        cache = None
        if mode == "train" or test_uses_batch_statistics:
            mean, var = x.mean(axis=0), x.var(axis=0)
            inv_std = 1.0 / np.sqrt(var + eps)
            x_hat = (x - mean) * inv_std
            out = gamma * x_hat + beta
            cache = (x_hat, x - mean, inv_std, gamma)
            if mode == "train":
                fed_var = x.var(axis=0, ddof=1) if unbiased_running_var else var
                keep = 1 - momentum if momentum_weights_new else momentum
                running_mean = keep * running_mean + (1 - keep) * mean
                running_var = keep * running_var + (1 - keep) * fed_var
        else:
            out = gamma * (x - running_mean) / np.sqrt(running_var + (0 if forgets_eps_at_test else eps)) + beta
        bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
        return out, cache

    return forward


def batchnorm_backward_without_the_mean_path(dout, cache):
    x_hat, x_centered, inv_std, gamma = cache
    N = dout.shape[0]
    dx_hat = dout * gamma
    dvar = (dx_hat * x_centered).sum(axis=0) * -0.5 * inv_std**3
    dx = dx_hat * inv_std + dvar * 2.0 * x_centered / N
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def batchnorm_backward_treating_statistics_as_constants(dout, cache):
    x_hat, _, inv_std, gamma = cache
    return dout * gamma * inv_std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def batchnorm_backward_alt_without(term):
    def backward(dout, cache):
        x_hat, _, inv_std, gamma = cache
        dx_hat = dout * gamma
        mean_path = dx_hat.mean(axis=0) if term != "mean" else 0
        variance_path = x_hat * (dx_hat * x_hat).mean(axis=0) if term != "variance" else 0
        return inv_std * (dx_hat - mean_path - variance_path), (dout * x_hat).sum(axis=0), dout.sum(axis=0)

    return backward


def batchnorm_backward_with_gamma_and_beta_gradients_swapped(dout, cache):
    dx, dgamma, dbeta = ORIGINAL["batchnorm_backward"](dout, cache)
    return dx, dbeta, dgamma


def spatial_batchnorm_forward_without_moving_channels_last(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    out, cache = ORIGINAL["batchnorm_forward"](x.reshape(-1, C), gamma, beta, bn_param)
    return out.reshape(N, C, H, W), cache


def spatial_batchnorm_backward_without_moving_channels_last(dout, cache):
    N, C, H, W = dout.shape
    dx, dgamma, dbeta = ORIGINAL["batchnorm_backward_alt"](dout.reshape(-1, C), cache)
    return dx.reshape(N, C, H, W), dgamma, dbeta


def layernorm_forward_over_the_batch_axis(x, gamma, beta, ln_param):
    mean, var = x.mean(axis=0, keepdims=True), x.var(axis=0, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + ln_param.get("eps", 1e-5))
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, inv_std, gamma)


def layernorm_backward_over_the_batch_axis(dout, cache):
    x_hat, inv_std, gamma = cache
    dx_hat = dout * gamma
    dx = inv_std * (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def layernorm_backward_without_the_variance_path(dout, cache):
    x_hat, inv_std, gamma = cache
    dx_hat = dout * gamma
    return inv_std * (dx_hat - dx_hat.mean(axis=1, keepdims=True)), (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def instancenorm_forward_over_all_channels(x, gamma, beta, in_param):
    mean, var = x.mean(axis=(1, 2, 3), keepdims=True), x.var(axis=(1, 2, 3), keepdims=True)
    inv_std = 1.0 / np.sqrt(var + in_param.get("eps", 1e-5))
    x_hat = (x - mean) * inv_std
    return gamma[None, :, None, None] * x_hat + beta[None, :, None, None], (x_hat, inv_std, gamma)


def instancenorm_backward_summing_dgamma_per_example(dout, cache):
    dx, _, _ = ORIGINAL["spatial_instancenorm_backward"](dout, cache)
    x_hat = cache[0]
    return dx, (dout * x_hat)[0].sum(axis=(1, 2)), dout[0].sum(axis=(1, 2))


def groupnorm_forward_with_interleaved_groups(x, gamma, beta, G, gn_param):
    """Channel c in group c % G instead of c // (C/G): the statistics run over the wrong axis of the reshape."""
    N, C, H, W = x.shape
    ORIGINAL["spatial_groupnorm_forward"](x, gamma, beta, G, gn_param)  # keeps the provided checks
    groups = x.reshape(N, C // G, G, H, W)
    mean, var = groups.mean(axis=(1, 3, 4), keepdims=True), groups.var(axis=(1, 3, 4), keepdims=True)
    x_hat = ((groups - mean) / np.sqrt(var + gn_param.get("eps", 1e-5))).reshape(N, C, H, W)
    return gamma * x_hat + beta, None


def groupnorm_forward_across_the_batch(x, gamma, beta, G, gn_param):
    N, C, H, W = x.shape
    ORIGINAL["spatial_groupnorm_forward"](x, gamma, beta, G, gn_param)
    groups = x.reshape(N, G, -1)
    mean, var = groups.mean(axis=(0, 2), keepdims=True), groups.var(axis=(0, 2), keepdims=True)
    x_hat = ((groups - mean) / np.sqrt(var + gn_param.get("eps", 1e-5))).reshape(N, C, H, W)
    return gamma * x_hat + beta, None


def groupnorm_backward_without_the_mean_path(dout, cache):
    x_hat, inv_std, gamma, G = cache
    N = dout.shape[0]
    dx_hat = (dout * gamma).reshape(N, G, -1)
    x_hat_groups = x_hat.reshape(N, G, -1)
    dx = inv_std * (dx_hat - x_hat_groups * (dx_hat * x_hat_groups).mean(axis=2, keepdims=True))
    return (
        dx.reshape(dout.shape),
        (dout * x_hat).sum(axis=(0, 2, 3), keepdims=True),
        dout.sum(axis=(0, 2, 3), keepdims=True),
    )


def _channel_scale(w, scale):
    return w * (scale[:, None, None, None] if w.ndim == 4 else scale[None, :])


def fold_batchnorm_forgetting_the_running_mean(w, b, gamma, beta, running_mean, running_var, eps=1e-5):
    scale = gamma / np.sqrt(running_var + eps)
    return _channel_scale(w, scale), b * scale + beta


def fold_batchnorm_without_scaling_the_bias(w, b, gamma, beta, running_mean, running_var, eps=1e-5):
    scale = gamma / np.sqrt(running_var + eps)
    return _channel_scale(w, scale), b - running_mean * scale + beta


def fold_batchnorm_without_eps(w, b, gamma, beta, running_mean, running_var, eps=1e-5):
    scale = gamma / np.sqrt(running_var)
    return _channel_scale(w, scale), (b - running_mean) * scale + beta


MUTATIONS = {
    "BN test mode uses the batch statistics": (
        patch(batchnorm_forward=batchnorm_forward_variant(test_uses_batch_statistics=True)),
        ["batchnorm_forward_test", "fc_net_batchnorm_test_mode"],
    ),
    "running variance fed the unbiased estimate": (
        patch(batchnorm_forward=batchnorm_forward_variant(unbiased_running_var=True)),
        ["batchnorm_forward_train", "spatial_batchnorm_forward"],
    ),
    "momentum on the wrong side of the running average": (
        patch(batchnorm_forward=batchnorm_forward_variant(momentum_weights_new=True)),
        ["batchnorm_forward_train", "spatial_batchnorm_forward"],
    ),
    "test mode forgets eps": (
        patch(batchnorm_forward=batchnorm_forward_variant(forgets_eps_at_test=True)),
        ["batchnorm_forward_test"],
    ),
    "BN backward missing the gradient through the mean": (
        patch(batchnorm_backward=batchnorm_backward_without_the_mean_path),
        ["batchnorm_backward"],
    ),
    "BN backward treating mean and variance as constants": (
        patch(batchnorm_backward=batchnorm_backward_treating_statistics_as_constants),
        ["batchnorm_backward"],
    ),
    "BN backward with dgamma and dbeta swapped": (
        patch(batchnorm_backward=batchnorm_backward_with_gamma_and_beta_gradients_swapped),
        ["batchnorm_backward"],
    ),
    "simplified BN backward missing the mean term": (
        patch(batchnorm_backward_alt=batchnorm_backward_alt_without("mean")),
        ["batchnorm_backward_alt", "spatial_batchnorm_backward", "fc_net_batchnorm_gradients"],
    ),
    "simplified BN backward missing the variance term": (
        patch(batchnorm_backward_alt=batchnorm_backward_alt_without("variance")),
        ["batchnorm_backward_alt", "spatial_batchnorm_backward", "fc_net_batchnorm_gradients"],
    ),
    "spatial BN reshaping to (N*H*W, C) without moving channels last": (
        patch(
            spatial_batchnorm_forward=spatial_batchnorm_forward_without_moving_channels_last,
            spatial_batchnorm_backward=spatial_batchnorm_backward_without_moving_channels_last,
        ),
        SPATIAL_CELLS,
    ),
    "layer norm normalising over the batch axis": (
        patch(
            layernorm_forward=layernorm_forward_over_the_batch_axis,
            layernorm_backward=layernorm_backward_over_the_batch_axis,
        ),
        [*LAYERNORM_CELLS, "fc_net_layernorm_gradients"],
    ),
    "layer norm backward missing the variance path": (
        patch(layernorm_backward=layernorm_backward_without_the_variance_path),
        ["layernorm_backward", "fc_net_layernorm_gradients"],
    ),
    "instance norm over all channels (layer norm)": (
        patch(spatial_instancenorm_forward=instancenorm_forward_over_all_channels),
        ["instancenorm_forward"],
    ),
    "instance norm dgamma and dbeta from the first example only": (
        patch(spatial_instancenorm_backward=instancenorm_backward_summing_dgamma_per_example),
        ["instancenorm_backward"],
    ),
    "group norm with interleaved groups (the wrong axis of the reshape)": (
        patch(spatial_groupnorm_forward=groupnorm_forward_with_interleaved_groups),
        ["groupnorm_forward"],
    ),
    "group norm statistics taken across the batch": (
        patch(spatial_groupnorm_forward=groupnorm_forward_across_the_batch),
        ["groupnorm_forward"],
    ),
    "group norm backward missing the mean path": (
        patch(spatial_groupnorm_backward=groupnorm_backward_without_the_mean_path),
        ["groupnorm_backward"],
    ),
    "folding that forgets the running mean": (
        patch(fold_batchnorm=fold_batchnorm_forgetting_the_running_mean),
        ["fold_batchnorm"],
    ),
    "folding that does not scale the bias": (
        patch(fold_batchnorm=fold_batchnorm_without_scaling_the_bias),
        ["fold_batchnorm"],
    ),
    "folding without eps": (patch(fold_batchnorm=fold_batchnorm_without_eps), ["fold_batchnorm"]),
}


@pytest.mark.parametrize("bug", list(MUTATIONS))
def test_classic_mistakes_fail_the_notebook_cells_that_target_them(bug):
    overrides, ids = MUTATIONS[bug]
    results = {cell: cells.run_cell("a4", cell, overrides) for cell in ids}
    passing = [cell for cell, (passed, _) in results.items() if passed]
    assert not passing, f"{bug}: these cells still pass: {passing}"
    crashes = {
        cell: message for cell, (_, message) in results.items() if not message.split(":", 1)[0].endswith("CheckError")
    }
    assert not crashes, f"{bug}: the cells should fail a check, not crash: {crashes}"


def fresh_statistics_every_call(self, x, layer):
    """FullyConnectedNet._norm_relu_forward that hands batch norm a new dict each time: no running averages
    survive, and test mode (set by loss on self.bn_params) never reaches the layer."""
    from cs_lib.layer_utils import affine_norm_relu_forward

    p = self.params
    return affine_norm_relu_forward(
        x, p[f"W{layer}"], p[f"b{layer}"], p[f"gamma{layer}"], p[f"beta{layer}"], {"mode": "train"}, self.normalization
    )


def swapped_gamma_beta_gradients(self, dout, cache, layer):
    from cs_lib.layer_utils import affine_norm_relu_backward

    dx, dW, db, dgamma, dbeta = affine_norm_relu_backward(dout, cache)
    return dx, {f"W{layer}": dW, f"b{layer}": db, f"gamma{layer}": dbeta, f"beta{layer}": dgamma}


@pytest.mark.parametrize(
    ("method", "wrong", "ids"),
    [
        ("_norm_relu_forward", fresh_statistics_every_call, ["fc_net_batchnorm_test_mode"]),
        ("_norm_relu_backward", swapped_gamma_beta_gradients, FC_NET_CELLS[:2]),
    ],
    ids=["batch norm statistics never kept", "dgamma and dbeta swapped"],
)
def test_classic_fully_connected_net_mistakes_fail_the_notebook(method, wrong, ids, monkeypatch):
    monkeypatch.setattr(FullyConnectedNet, method, wrong)
    results = {cell: cells.run_cell("a4", cell) for cell in ids}
    assert not any(passed for passed, _ in results.values()), f"FullyConnectedNet.{method} bug passes: {results}"
    assert all(message.split(":", 1)[0].endswith("CheckError") for _, message in results.values()), results


def test_the_starter_stubs_fail_every_cell_that_tests_normalization():
    stub = types.ModuleType("normalization_stub")
    exec(compile(make_stub(open(reference.__file__).read()), "normalization_stub", "exec"), stub.__dict__)
    names = [
        name
        for name in dir(reference)
        if not name.startswith("_")
        and callable(getattr(reference, name))
        and getattr(reference, name).__module__ == reference.__name__
    ]
    overrides = patch(**{name: getattr(stub, name) for name in names})
    ids = cells.test_cell_ids("a4")
    passing = sorted(set(ids) - set(cells.failing_cells("a4", ids, overrides)))
    assert not passing, f"these cells pass with the starter stubs: {passing}"


# ---------------------------------------------------------------- valid alternatives must pass


def batchnorm_recomputing_in_backward():
    """Caches only the inputs, computes var as E[x^2] - E[x]^2 and updates the running averages in place."""

    def forward(x, gamma, beta, bn_param):
        mode, eps, momentum = bn_param["mode"], bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
        D = x.shape[1]
        running_mean = bn_param.setdefault("running_mean", np.zeros(D))
        running_var = bn_param.setdefault("running_var", np.zeros(D))
        if mode == "test":
            return (x - running_mean) * (gamma / np.sqrt(running_var + eps)) + beta, None
        mean = np.mean(x, axis=0)
        var = np.maximum(np.mean(x * x, axis=0) - mean * mean, 0.0)
        running_mean *= momentum
        running_mean += (1 - momentum) * mean
        running_var *= momentum
        running_var += (1 - momentum) * var
        return gamma * (x - mean) / np.sqrt(var + eps) + beta, (x, gamma, eps)

    def backward(dout, cache):
        x, gamma, eps = cache
        N = x.shape[0]
        mean = x.mean(axis=0)
        std = np.sqrt(x.var(axis=0) + eps)
        x_hat = (x - mean) / std
        dx_hat = dout * gamma
        dx = (N * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)) / (N * std)
        return dx, np.einsum("nd,nd->d", dout, x_hat), dout.sum(axis=0)

    return patch(batchnorm_forward=forward, batchnorm_backward=backward, batchnorm_backward_alt=backward)


def layernorm_through_transposed_batchnorm():
    """CS231n's trick: layer norm of x is train-mode batch norm of x.T, scaled and shifted afterwards."""
    batchnorm_forward, batchnorm_backward_alt = ORIGINAL["batchnorm_forward"], ORIGINAL["batchnorm_backward_alt"]

    def forward(x, gamma, beta, ln_param):
        N = x.shape[0]
        x_hat_t, cache = batchnorm_forward(
            x.T, np.ones(N), np.zeros(N), {"mode": "train", "eps": ln_param.get("eps", 1e-5)}
        )
        return gamma * x_hat_t.T + beta, (cache, x_hat_t.T, gamma)

    def backward(dout, cache):
        bn_cache, x_hat, gamma = cache
        dx_t, _, _ = batchnorm_backward_alt((dout * gamma).T, bn_cache)
        return dx_t.T, (dout * x_hat).sum(axis=0), dout.sum(axis=0)

    return patch(layernorm_forward=forward, layernorm_backward=backward)


def groupnorm_with_loops_over_groups():
    def forward(x, gamma, beta, G, gn_param):
        ORIGINAL["spatial_groupnorm_forward"](x, gamma, beta, G, gn_param)  # the provided checks
        N, C = x.shape[:2]
        size, eps = C // G, gn_param.get("eps", 1e-5)
        x_hat, stds = np.empty_like(x), np.empty((N, G))
        for n in range(N):
            for g in range(G):
                block = x[n, g * size : (g + 1) * size]
                stds[n, g] = np.sqrt(block.var() + eps)
                x_hat[n, g * size : (g + 1) * size] = (block - block.mean()) / stds[n, g]
        return gamma * x_hat + beta, (x_hat, stds, gamma, G)

    def backward(dout, cache):
        x_hat, stds, gamma, G = cache
        N, C = dout.shape[:2]
        size = C // G
        dx_hat = dout * gamma
        dx = np.empty_like(dout)
        for n in range(N):
            for g in range(G):
                part = slice(g * size, (g + 1) * size)
                d, h = dx_hat[n, part], x_hat[n, part]
                dx[n, part] = (d - d.mean() - h * (d * h).mean()) / stds[n, g]
        return dx, (dout * x_hat).sum(axis=(0, 2, 3)).reshape(1, C, 1, 1), dout.sum(axis=(0, 2, 3)).reshape(1, C, 1, 1)

    return patch(spatial_groupnorm_forward=forward, spatial_groupnorm_backward=backward)


def instancenorm_as_groupnorm_with_one_channel_per_group():
    groupnorm_forward, groupnorm_backward = (
        ORIGINAL["spatial_groupnorm_forward"],
        ORIGINAL["spatial_groupnorm_backward"],
    )

    def forward(x, gamma, beta, in_param):
        C = x.shape[1]
        return groupnorm_forward(x, gamma.reshape(1, C, 1, 1), beta.reshape(1, C, 1, 1), C, in_param)

    def backward(dout, cache):
        dx, dgamma, dbeta = groupnorm_backward(dout, cache)
        return dx, dgamma.ravel(), dbeta.ravel()

    return patch(spatial_instancenorm_forward=forward, spatial_instancenorm_backward=backward)


def spatial_batchnorm_over_axes():
    """Statistics over axes (0, 2, 3) directly, without reshaping to rows."""

    def forward(x, gamma, beta, bn_param):
        eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
        C = x.shape[1]
        channel = (1, C, 1, 1)
        running_mean = bn_param.get("running_mean", np.zeros(C))
        running_var = bn_param.get("running_var", np.zeros(C))
        if bn_param["mode"] == "test":
            x_hat = (x - running_mean.reshape(channel)) / np.sqrt(running_var.reshape(channel) + eps)
            return gamma.reshape(channel) * x_hat + beta.reshape(channel), None
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
        std = np.sqrt(var + eps).reshape(channel)
        x_hat = (x - mean.reshape(channel)) / std
        return gamma.reshape(channel) * x_hat + beta.reshape(channel), (x_hat, std, gamma)

    def backward(dout, cache):
        x_hat, std, gamma = cache
        dx_hat = dout * gamma.reshape(1, -1, 1, 1)
        mean_dx_hat = dx_hat.mean(axis=(0, 2, 3), keepdims=True)
        mean_product = (dx_hat * x_hat).mean(axis=(0, 2, 3), keepdims=True)
        return (
            (dx_hat - mean_dx_hat - x_hat * mean_product) / std,
            (dout * x_hat).sum(axis=(0, 2, 3)),
            dout.sum(axis=(0, 2, 3)),
        )

    return patch(spatial_batchnorm_forward=forward, spatial_batchnorm_backward=backward)


def folding_with_einsum():
    def fold(w, b, gamma, beta, running_mean, running_var, eps=1e-5):
        scale = gamma / np.sqrt(running_var + eps)
        folded = np.einsum("f...,f->f...", w, scale) if w.ndim == 4 else np.einsum("dm,m->dm", w, scale)
        return folded, beta + scale * b - scale * running_mean

    return patch(fold_batchnorm=fold)


ALTERNATIVES = {
    "batch norm caching only its inputs, in-place running averages": (
        batchnorm_recomputing_in_backward,
        [*BATCHNORM_CELLS, *SPATIAL_CELLS, *FC_NET_CELLS],
    ),
    "layer norm through transposed batch norm": (
        layernorm_through_transposed_batchnorm,
        [*LAYERNORM_CELLS, "fc_net_layernorm_gradients"],
    ),
    "group norm with loops over the groups": (groupnorm_with_loops_over_groups, GROUPNORM_CELLS),
    "instance norm as group norm with G = C": (
        instancenorm_as_groupnorm_with_one_channel_per_group,
        INSTANCENORM_CELLS,
    ),
    "spatial batch norm over axes (0, 2, 3)": (spatial_batchnorm_over_axes, SPATIAL_CELLS),
    "folding with einsum": (folding_with_einsum, ["fold_batchnorm"]),
}


@pytest.mark.parametrize("alternative", list(ALTERNATIVES))
def test_valid_alternative_implementations_pass_every_cell_that_uses_them(alternative):
    make_overrides, ids = ALTERNATIVES[alternative]
    failures = {cell: cells.run_cell("a4", cell, make_overrides())[1] for cell in ids}
    failures = {cell: message for cell, message in failures.items() if message}
    assert not failures, f"{alternative} fails: {failures}"


def test_the_alternatives_cover_every_self_contained_cell():
    covered = {cell for _, ids in ALTERNATIVES.values() for cell in ids}
    assert covered == set(cells.test_cell_ids("a4"))


# ---------------------------------------------------------------- the reference and the cells themselves


def test_the_reference_passes_every_self_contained_test_cell():
    failures = {cell: cells.run_cell("a4", cell)[1] for cell in cells.test_cell_ids("a4")}
    failures = {cell: message for cell, message in failures.items() if message}
    assert not failures, failures


def test_every_graded_function_has_a_mutation_that_its_cells_catch():
    graded = {name for name in dir(reference) if not name.startswith("_") and name != "np"}
    mutated = {key.rsplit(".", 1)[1] for overrides, _ in MUTATIONS.values() for key in overrides}
    assert graded <= mutated, f"no mutation exercises {sorted(graded - mutated)}"


@pytest.mark.parametrize("cell", cells.test_cell_ids("a4", include_stateful=True))
def test_cells_end_without_a_bare_value_that_nbgrader_would_take_as_the_score(cell):
    """nbgrader scores a test cell by its displayed result when it is a number: a trailing
    check_rel_error(...) would turn a pass into a score of 1e-16 points."""
    source = cells.cell_source("a4", cell)
    for part in (source, source.split(BEGIN_HIDDEN)[0]):
        last = ast.parse(part).body[-1]
        if isinstance(last, ast.Expr):
            assert isinstance(last.value, ast.Call) and ast.unparse(last.value.func) in (
                "print",
                "check_close",
                "check_true",
                "check_shape",
            ), f"{cell} ends with {ast.unparse(last)}"


@pytest.mark.parametrize("cell", cells.test_cell_ids("a4", include_stateful=True))
def test_visible_tests_run_without_torch(cell):
    visible = ast.parse(cells.cell_source("a4", cell).split(BEGIN_HIDDEN)[0])
    imported = {alias.name for node in ast.walk(visible) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(visible) if isinstance(node, ast.ImportFrom)}
    assert not any(name.split(".")[0] == "torch" for name in imported), f"{cell} imports torch before the hidden tests"


# ---------------------------------------------------------------- what the notebook trains and asks


@pytest.mark.parametrize(
    ("scales", "passes"),
    [
        ([float(np.sqrt(2 / fan_in)) for fan_in in [3072] + [256] * 8], True),
        (tuple(np.sqrt(2 / np.array([3072] + [256] * 8))), True),  # an array or tuple is fine
        ([float(np.sqrt(1 / fan_in)) for fan_in in [3072] + [256] * 8], False),  # Xavier's, not Kaiming's
        ([float(np.sqrt(2 / fan_out)) for fan_out in [256] * 8 + [10]], False),  # from the fan-out
        ([float(np.sqrt(2 / fan_in)) for fan_in in [3072] + [256] * 7], False),  # the scores layer forgotten
        ([0.01] * 9, False),
    ],
    ids=["kaiming", "array", "xavier", "fan-out", "eight matrices", "constant"],
)
def test_the_kaiming_scales_test_accepts_the_lectures_rule_and_rejects_near_misses(scales, passes):
    passed, message = cells.run_cell("a4", "kaiming_scales", namespace={"kaiming_scales": scales})
    assert passed == passes, message
    if not passes:
        assert message.startswith("cs_lib.checks.CheckError"), message


def test_the_stateful_test_reads_only_what_it_declares():
    from autograder.common.course import load_course
    from autograder.common.sources import source_notebook

    course = load_course()
    assignment = course.assignment("a4")
    notebook = source_notebook(assignment.source_notebook(assignment.notebooks[0]), course, "a4")
    stateful = [cell for cell in notebook.cells if "stateful" in cell.metadata.get("tags", [])]
    assert [cell.metadata["reads"] for cell in stateful] == [["kaiming_scales"]]
    tree = ast.parse(stateful[0].source)
    loaded = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    stored = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert loaded - stored - imported - set(dir(builtins)) - {"np"} == {"kaiming_scales"}


def test_the_student_release_asks_for_the_derivations_instead_of_giving_them():
    """CS231n asks students to derive batch norm's closed-form backward pass and the folding of BN into a
    conv: neither the starter code nor the released notebook may state the results."""
    import nbformat

    from autograder.common import paths

    release = nbformat.read(paths.REPO_ROOT / "assignments" / "a4" / "normalization.ipynb", as_version=4)
    cells_text = "\n".join(cell.source for cell in release.cells)
    stub = (paths.REPO_ROOT / "cs_lib" / "normalization.py").read_text()
    given_away = [
        "mean(dx_hat * x_hat)",  # the closed form, as code
        r"\operatorname{mean}(\mathrm{d}\hat{x}\,\hat{x})",  # ... and as a formula
        "gamma / sqrt(running_var + eps)",  # the folding scale
        r"(b - \text{running\_mean})\,s",
        "(b - running_mean) * scale",
    ]
    for text, where in ((cells_text, "the released notebook"), (stub, "the starter cs_lib/normalization.py")):
        leaks = [formula for formula in given_away if formula in text]
        assert not leaks, f"{where} gives away {leaks}"
    graded_answers = {
        cell.metadata["nbgrader"]["grade_id"]
        for cell in release.cells
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "markdown"
    }
    assert {"bn_backward_derivation", "fold_derivation", "reading_init_statistics"} <= graded_answers
