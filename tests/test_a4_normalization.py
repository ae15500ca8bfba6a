"""Assignment 4 normalization layers (cs_lib/normalization.py) against torch.nn.functional and numerical gradients.

Conventions that differ from torch and are accounted for explicitly here:
- our momentum m keeps the old value (running = m * running + (1 - m) * new); torch's momentum weights the new
  value, so torch gets 1 - m;
- our running variance is fed the biased batch variance (divide by N); torch feeds the unbiased one (N - 1);
- group norm's gamma and beta have shape (1, C, 1, 1); torch's have shape (C,).
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cs_lib.gradient_check import eval_numerical_gradient_array
from cs_lib.normalization import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    fold_batchnorm,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
    spatial_instancenorm_backward,
    spatial_instancenorm_forward,
)

pytestmark = pytest.mark.a4

PROPERTY = settings(max_examples=20, deadline=None)
seeds = st.integers(0, 2**32 - 1)


def rel_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))) if a.size else 0.0


def assert_matches_numerical_gradients(forward, inputs, analytic, dout, tol=1e-6):
    """analytic[i] must be the numerical gradient of sum(forward(*inputs) * dout) with respect to inputs[i]."""
    for position, (value, gradient) in enumerate(zip(inputs, analytic)):

        def f(perturbed, position=position):
            return forward(*inputs[:position], perturbed, *inputs[position + 1 :])

        numerical = eval_numerical_gradient_array(f, value, dout)
        assert rel_error(gradient, numerical) < tol, f"input {position}"


def tensors(*arrays):
    return [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]


def torch_batchnorm_train(x, gamma, beta, running_mean, running_var, momentum, eps, dout):
    """torch's train-mode batch norm over axis 1 of x, with our running-average convention translated.

    Returns out, dx, dgamma, dbeta, and the running mean and variance our rule must produce:
    torch's own update with momentum 1 - m, minus the part that comes from its unbiased variance.
    """
    x_t, gamma_t, beta_t = tensors(x, gamma, beta)
    mean_t, var_t = torch.tensor(running_mean), torch.tensor(running_var)
    out = F.batch_norm(x_t, mean_t, var_t, gamma_t, beta_t, training=True, momentum=1 - momentum, eps=eps)
    out.backward(torch.tensor(dout))
    axes = (0, *range(2, x.ndim))
    count = x.size // x.shape[1]
    biased = x.var(axis=axes)
    unbiased = biased * count / (count - 1)
    expected_var = var_t.numpy() - (1 - momentum) * (unbiased - biased)
    grads = (x_t.grad.numpy(), gamma_t.grad.numpy(), beta_t.grad.numpy())
    return out.detach().numpy(), *grads, mean_t.numpy(), expected_var


# ---------------------------------------------------------------- batch norm (N, D)


@PROPERTY
@given(
    seed=seeds,
    N=st.integers(2, 12),
    D=st.integers(1, 7),
    momentum=st.sampled_from([0.0, 0.5, 0.9, 0.99]),
    eps=st.sampled_from([1e-5, 1e-3, 0.5]),
)
def test_batchnorm_train_mode_matches_torch_values_gradients_and_running_averages(seed, N, D, momentum, eps):
    rng = np.random.default_rng(seed)
    x = rng.normal(rng.normal(0, 5), rng.uniform(0.1, 5), size=(N, D))
    gamma, beta, dout = rng.normal(size=D), rng.normal(size=D), rng.normal(size=(N, D))
    running_mean, running_var = rng.normal(size=D), rng.uniform(0.1, 3, size=D)
    bn_param = {
        "mode": "train",
        "momentum": momentum,
        "eps": eps,
        "running_mean": running_mean.copy(),
        "running_var": running_var.copy(),
    }
    out, cache = batchnorm_forward(x, gamma, beta, bn_param)
    expected = torch_batchnorm_train(x, gamma, beta, running_mean, running_var, momentum, eps, dout)
    assert rel_error(out, expected[0]) < 1e-9
    assert rel_error(bn_param["running_mean"], expected[4]) < 1e-9
    assert rel_error(bn_param["running_var"], expected[5]) < 1e-9
    for backward in (batchnorm_backward, batchnorm_backward_alt):
        dx, dgamma, dbeta = backward(dout, cache)
        assert rel_error(dx, expected[1]) < 1e-7, backward.__name__
        assert rel_error(dgamma, expected[2]) < 1e-9, backward.__name__
        assert rel_error(dbeta, expected[3]) < 1e-9, backward.__name__


def test_running_averages_start_at_zero_and_follow_the_notebooks_rule_step_by_step(rng):
    D, momentum = 4, 0.8
    bn_param = {"mode": "train", "momentum": momentum}
    expected_mean, expected_var = np.zeros(D), np.zeros(D)
    for step in range(4):
        x = rng.normal(step, 1 + step, size=(6, D))
        batchnorm_forward(x, np.ones(D), np.zeros(D), bn_param)
        batch_mean = x.sum(axis=0) / 6
        batch_var = ((x - batch_mean) ** 2).sum(axis=0) / 6  # biased: divide by N
        expected_mean = momentum * expected_mean + (1 - momentum) * batch_mean
        expected_var = momentum * expected_var + (1 - momentum) * batch_var
        np.testing.assert_allclose(bn_param["running_mean"], expected_mean, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(bn_param["running_var"], expected_var, rtol=1e-12, atol=1e-14)


def test_default_momentum_is_0_9_and_default_eps_is_1e_5(rng):
    x = rng.normal(3, 2, size=(5, 3))
    bn_param = {"mode": "train"}
    out, _ = batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], 0.1 * x.var(axis=0), rtol=1e-12)
    np.testing.assert_allclose(out, (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5), rtol=1e-12)


@PROPERTY
@given(seed=seeds, N=st.integers(1, 9), D=st.integers(1, 6), shift=st.floats(-50, 50))
def test_batchnorm_test_mode_never_uses_batch_statistics(seed, N, D, shift):
    rng = np.random.default_rng(seed)
    gamma, beta = rng.normal(size=D), rng.normal(size=D)
    running_mean, running_var = rng.normal(size=D), rng.uniform(0.1, 3, size=D)
    bn_param = {"mode": "test", "eps": 1e-4, "running_mean": running_mean.copy(), "running_var": running_var.copy()}
    x = rng.normal(shift, 3, size=(N, D))
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    expected = F.batch_norm(
        torch.tensor(x),
        torch.tensor(running_mean),
        torch.tensor(running_var),
        torch.tensor(gamma),
        torch.tensor(beta),
        training=False,
        eps=1e-4,
    )
    assert rel_error(out, expected.numpy()) < 1e-9
    for row in range(N):  # each example alone gets the same output as in the batch
        alone, _ = batchnorm_forward(x[row : row + 1], gamma, beta, bn_param)
        assert rel_error(alone, out[row : row + 1]) < 1e-12
    np.testing.assert_array_equal(bn_param["running_mean"], running_mean)
    np.testing.assert_array_equal(bn_param["running_var"], running_var)


def test_batchnorm_of_a_single_example_in_train_mode_outputs_beta(rng):
    beta = rng.normal(size=5)
    out, _ = batchnorm_forward(rng.normal(size=(1, 5)), rng.normal(size=5), beta, {"mode": "train"})
    np.testing.assert_allclose(out, beta[None, :], atol=1e-12)


@pytest.mark.parametrize("backward", [batchnorm_backward, batchnorm_backward_alt])
def test_batchnorm_gradients_agree_with_numerical_gradients(backward, rng):
    x = rng.normal(1, 3, size=(6, 4))
    gamma, beta, dout = rng.normal(size=4), rng.normal(size=4), rng.normal(size=(6, 4))
    bn_param = {"mode": "train", "eps": 1e-3}
    _, cache = batchnorm_forward(x, gamma, beta, bn_param)
    dx, dgamma, dbeta = backward(dout, cache)
    forward = lambda x, gamma, beta: batchnorm_forward(x, gamma, beta, bn_param)[0]  # noqa: E731
    assert_matches_numerical_gradients(forward, (x, gamma, beta), (dx, dgamma, dbeta), dout)
    np.testing.assert_allclose(dx.sum(axis=0), 0, atol=1e-10)  # the output ignores a shift of every example


# ---------------------------------------------------------------- spatial batch norm (N, C, H, W)


@PROPERTY
@given(
    seed=seeds,
    N=st.integers(1, 4),
    C=st.integers(1, 4),
    H=st.integers(1, 4),
    W=st.integers(1, 5),
    momentum=st.sampled_from([0.3, 0.9]),
)
def test_spatial_batchnorm_matches_torch_in_train_and_test_mode(seed, N, C, H, W, momentum):
    assume(N * H * W >= 2)  # one number per channel has no variance to estimate (torch refuses it)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, C, H, W)) * rng.uniform(0.5, 4, size=(1, C, 1, 1)) + rng.normal(0, 3, size=(1, C, 1, 1))
    gamma, beta, dout = rng.normal(size=C), rng.normal(size=C), rng.normal(size=x.shape)
    running_mean, running_var = rng.normal(size=C), rng.uniform(0.1, 2, size=C)
    bn_param = {
        "mode": "train",
        "momentum": momentum,
        "running_mean": running_mean.copy(),
        "running_var": running_var.copy(),
    }
    out, cache = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)
    expected = torch_batchnorm_train(x, gamma, beta, running_mean, running_var, momentum, 1e-5, dout)
    assert rel_error(out, expected[0]) < 1e-9
    assert rel_error(dx, expected[1]) < 1e-7
    assert rel_error(dgamma, expected[2]) < 1e-9
    assert rel_error(dbeta, expected[3]) < 1e-9
    assert rel_error(bn_param["running_mean"], expected[4]) < 1e-9
    assert rel_error(bn_param["running_var"], expected[5]) < 1e-9

    bn_param["mode"] = "test"
    x_test = rng.normal(10, 1, size=(2, C, H, W))
    out, _ = spatial_batchnorm_forward(x_test, gamma, beta, bn_param)
    expected = F.batch_norm(
        torch.tensor(x_test),
        torch.tensor(bn_param["running_mean"]),
        torch.tensor(bn_param["running_var"]),
        torch.tensor(gamma),
        torch.tensor(beta),
        training=False,
    )
    assert rel_error(out, expected.numpy()) < 1e-9


def test_spatial_batchnorm_gradients_agree_with_numerical_gradients(rng):
    x = rng.normal(2, 3, size=(2, 3, 3, 2))
    gamma, beta, dout = rng.normal(size=3), rng.normal(size=3), rng.normal(size=x.shape)
    bn_param = {"mode": "train"}
    _, cache = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)
    forward = lambda x, gamma, beta: spatial_batchnorm_forward(x, gamma, beta, bn_param)[0]  # noqa: E731
    assert_matches_numerical_gradients(forward, (x, gamma, beta), (dx, dgamma, dbeta), dout)


# ---------------------------------------------------------------- layer norm (N, D)


@PROPERTY
@given(seed=seeds, N=st.integers(1, 8), D=st.integers(2, 9), eps=st.sampled_from([1e-5, 1e-2]))
def test_layernorm_matches_torch_values_and_gradients(seed, N, D, eps):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, D)) * rng.uniform(0.1, 5, size=(N, 1)) + rng.normal(0, 5, size=(N, 1))
    gamma, beta, dout = rng.normal(size=D), rng.normal(size=D), rng.normal(size=(N, D))
    out, cache = layernorm_forward(x, gamma, beta, {"eps": eps})
    dx, dgamma, dbeta = layernorm_backward(dout, cache)
    x_t, gamma_t, beta_t = tensors(x, gamma, beta)
    expected = F.layer_norm(x_t, (D,), gamma_t, beta_t, eps=eps)
    expected.backward(torch.tensor(dout))
    assert rel_error(out, expected.detach().numpy()) < 1e-9
    assert rel_error(dx, x_t.grad.numpy()) < 1e-7
    assert rel_error(dgamma, gamma_t.grad.numpy()) < 1e-9
    assert rel_error(dbeta, beta_t.grad.numpy()) < 1e-9


def test_layernorm_output_of_an_example_does_not_depend_on_the_batch(rng):
    x = rng.normal(size=(5, 6))
    gamma, beta = rng.normal(size=6), rng.normal(size=6)
    out, _ = layernorm_forward(x, gamma, beta, {})
    for row in range(5):
        np.testing.assert_allclose(layernorm_forward(x[row : row + 1], gamma, beta, {})[0], out[row : row + 1])


def test_layernorm_gradients_agree_with_numerical_gradients(rng):
    x = rng.normal(1, 2, size=(3, 5))
    gamma, beta, dout = rng.normal(size=5), rng.normal(size=5), rng.normal(size=(3, 5))
    _, cache = layernorm_forward(x, gamma, beta, {})
    dx, dgamma, dbeta = layernorm_backward(dout, cache)
    forward = lambda x, gamma, beta: layernorm_forward(x, gamma, beta, {})[0]  # noqa: E731
    assert_matches_numerical_gradients(forward, (x, gamma, beta), (dx, dgamma, dbeta), dout)


# ---------------------------------------------------------------- instance norm and group norm (N, C, H, W)


@PROPERTY
@given(seed=seeds, N=st.integers(1, 3), C=st.integers(1, 4), H=st.integers(1, 4), W=st.integers(2, 4))
def test_instancenorm_matches_torch_values_and_gradients(seed, N, C, H, W):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, C, H, W)) * rng.uniform(0.5, 3, size=(N, C, 1, 1)) + rng.normal(0, 3, size=(N, C, 1, 1))
    gamma, beta, dout = rng.normal(size=C), rng.normal(size=C), rng.normal(size=x.shape)
    out, cache = spatial_instancenorm_forward(x, gamma, beta, {"eps": 1e-4})
    dx, dgamma, dbeta = spatial_instancenorm_backward(dout, cache)
    x_t, gamma_t, beta_t = tensors(x, gamma, beta)
    expected = F.instance_norm(x_t, weight=gamma_t, bias=beta_t, eps=1e-4)
    expected.backward(torch.tensor(dout))
    assert rel_error(out, expected.detach().numpy()) < 1e-9
    assert rel_error(dx, x_t.grad.numpy()) < 1e-7
    assert rel_error(dgamma, gamma_t.grad.numpy()) < 1e-9
    assert rel_error(dbeta, beta_t.grad.numpy()) < 1e-9


@PROPERTY
@given(
    seed=seeds,
    N=st.integers(1, 3),
    C=st.sampled_from([1, 2, 4, 6, 8]),
    H=st.integers(1, 4),
    W=st.integers(1, 4),
    data=st.data(),
)
def test_groupnorm_matches_torch_for_every_divisor_of_C(seed, N, C, H, W, data):
    G = data.draw(st.sampled_from([g for g in range(1, C + 1) if C % g == 0]), label="G")
    assume(C // G * H * W >= 2)  # a group of one number has no variance
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, C, H, W)) * rng.uniform(0.5, 3, size=(1, C, 1, 1)) + rng.normal(0, 3, size=(N, C, 1, 1))
    gamma, beta, dout = rng.normal(size=(1, C, 1, 1)), rng.normal(size=(1, C, 1, 1)), rng.normal(size=x.shape)
    out, cache = spatial_groupnorm_forward(x, gamma, beta, G, {"eps": 1e-4})
    dx, dgamma, dbeta = spatial_groupnorm_backward(dout, cache)
    x_t, gamma_t, beta_t = tensors(x, gamma.ravel(), beta.ravel())
    expected = F.group_norm(x_t, G, gamma_t, beta_t, eps=1e-4)
    expected.backward(torch.tensor(dout))
    assert rel_error(out, expected.detach().numpy()) < 1e-9
    assert rel_error(dx, x_t.grad.numpy()) < 1e-7
    assert dgamma.shape == dbeta.shape == (1, C, 1, 1)
    assert rel_error(dgamma.ravel(), gamma_t.grad.numpy()) < 1e-9
    assert rel_error(dbeta.ravel(), beta_t.grad.numpy()) < 1e-9


def test_groupnorm_with_one_group_is_layer_norm_over_channels_and_positions(rng):
    x = rng.normal(size=(3, 4, 5, 2)) * rng.uniform(0.5, 3, size=(3, 1, 1, 1))
    ones, zeros = np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1))
    out, _ = spatial_groupnorm_forward(x, ones, zeros, 1, {})
    expected = F.layer_norm(torch.tensor(x), (4, 5, 2))
    assert rel_error(out, expected.numpy()) < 1e-9


def test_groupnorm_with_one_channel_per_group_is_instance_norm(rng):
    x = rng.normal(size=(2, 6, 3, 4)) * rng.uniform(0.5, 3, size=(2, 6, 1, 1))
    gamma, beta = rng.normal(size=6), rng.normal(size=6)
    out, cache = spatial_groupnorm_forward(x, gamma.reshape(1, 6, 1, 1), beta.reshape(1, 6, 1, 1), 6, {})
    expected, _ = spatial_instancenorm_forward(x, gamma, beta, {})
    assert rel_error(out, expected) < 1e-12
    dout = rng.normal(size=x.shape)
    _, instance_cache = spatial_instancenorm_forward(x, gamma, beta, {})
    dx_group = spatial_groupnorm_backward(dout, cache)[0]
    dx_instance = spatial_instancenorm_backward(dout, instance_cache)[0]
    assert rel_error(dx_group, dx_instance) < 1e-10


def test_groupnorm_gradients_agree_with_numerical_gradients(rng):
    x = rng.normal(1, 2, size=(2, 4, 2, 3))
    gamma, beta, dout = rng.normal(size=(1, 4, 1, 1)), rng.normal(size=(1, 4, 1, 1)), rng.normal(size=x.shape)
    _, cache = spatial_groupnorm_forward(x, gamma, beta, 2, {})
    dx, dgamma, dbeta = spatial_groupnorm_backward(dout, cache)
    forward = lambda x, gamma, beta: spatial_groupnorm_forward(x, gamma, beta, 2, {})[0]  # noqa: E731
    assert_matches_numerical_gradients(forward, (x, gamma, beta), (dx, dgamma, dbeta), dout)


@pytest.mark.parametrize(("C", "G"), [(6, 4), (8, 3), (5, 2), (3, 6)])
def test_a_G_that_does_not_divide_C_is_a_clear_error_naming_both(C, G):
    x = np.zeros((2, C, 2, 2))
    with pytest.raises(ValueError, match=rf"G = {G}\b.*C = {C}\b"):
        spatial_groupnorm_forward(x, np.ones((1, C, 1, 1)), np.zeros((1, C, 1, 1)), G, {})


@pytest.mark.parametrize("G", [0, -2, 1.5, True])
def test_a_G_that_is_not_a_positive_integer_is_refused(G):
    with pytest.raises(ValueError, match="positive integer"):
        spatial_groupnorm_forward(np.zeros((1, 4, 2, 2)), np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1)), G, {})


# ---------------------------------------------------------------- shapes and settings are enforced


def _layer_calls():
    """(name, call(gamma, beta), the shape gamma and beta must have) for every layer."""
    x2, x4 = np.zeros((3, 5)), np.zeros((2, 6, 3, 3))
    return [
        ("batchnorm_forward", lambda g, b: batchnorm_forward(x2, g, b, {"mode": "train"}), (5,)),
        ("spatial_batchnorm_forward", lambda g, b: spatial_batchnorm_forward(x4, g, b, {"mode": "train"}), (6,)),
        ("layernorm_forward", lambda g, b: layernorm_forward(x2, g, b, {}), (5,)),
        ("spatial_instancenorm_forward", lambda g, b: spatial_instancenorm_forward(x4, g, b, {}), (6,)),
        ("spatial_groupnorm_forward", lambda g, b: spatial_groupnorm_forward(x4, g, b, 3, {}), (1, 6, 1, 1)),
    ]


@pytest.mark.parametrize(("name", "call", "shape"), _layer_calls(), ids=[c[0] for c in _layer_calls()])
def test_gamma_and_beta_shapes_are_stated_and_enforced(name, call, shape):
    right = np.ones(shape)
    call(right, np.zeros(shape))  # the documented shape is accepted
    size = int(np.prod(shape))
    wrong_shapes = [(size + 1,), (1, size), (size,) if len(shape) > 1 else (1, size, 1, 1)]
    for wrong in wrong_shapes:
        with pytest.raises(ValueError, match=rf"gamma must have shape \({', '.join(map(str, shape))},?\)"):
            call(np.ones(wrong), np.zeros(shape))
        with pytest.raises(ValueError, match=r"beta must have shape"):
            call(right, np.zeros(wrong))


@pytest.mark.parametrize(
    "call",
    [
        lambda: batchnorm_forward(np.zeros((2, 3, 4)), np.ones(3), np.zeros(3), {"mode": "train"}),
        lambda: layernorm_forward(np.zeros(4), np.ones(4), np.zeros(4), {}),
        lambda: spatial_batchnorm_forward(np.zeros((2, 3)), np.ones(3), np.zeros(3), {"mode": "train"}),
        lambda: spatial_instancenorm_forward(np.zeros((2, 3, 4)), np.ones(3), np.zeros(3), {}),
        lambda: spatial_groupnorm_forward(np.zeros((2, 4)), np.ones((1, 4, 1, 1)), np.zeros((1, 4, 1, 1)), 2, {}),
    ],
    ids=["batchnorm", "layernorm", "spatial_batchnorm", "instancenorm", "groupnorm"],
)
def test_an_input_of_the_wrong_rank_is_refused_with_the_expected_letters(call):
    with pytest.raises(ValueError, match=r"expects x of shape \((N, D|N, C, H, W)\)"):
        call()


@pytest.mark.parametrize("bn_param", [{}, {"mode": "eval"}, {"mode": "Train"}])
def test_batchnorm_needs_mode_train_or_test(bn_param):
    with pytest.raises(ValueError, match="'train' or 'test'"):
        batchnorm_forward(np.zeros((2, 3)), np.ones(3), np.zeros(3), bn_param)


# ---------------------------------------------------------------- folding batch norm into the layer before it


@PROPERTY
@given(
    seed=seeds,
    N=st.integers(1, 3),
    C=st.integers(1, 3),
    filters=st.integers(1, 5),
    HH=st.integers(1, 3),
    stride=st.integers(1, 2),
    pad=st.integers(0, 2),
    eps=st.sampled_from([1e-5, 1e-3]),
)
def test_folded_conv_equals_conv_then_test_mode_batchnorm_to_1e6(seed, N, C, filters, HH, stride, pad, eps):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, C, 5, 6))
    w, b = rng.normal(size=(filters, C, HH, HH)), rng.normal(size=filters)
    gamma, beta = rng.normal(size=filters), rng.normal(size=filters)
    running_mean, running_var = rng.normal(0, 3, size=filters), rng.uniform(0.01, 5, size=filters)
    a = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=stride, padding=pad)
    expected = F.batch_norm(
        a,
        torch.tensor(running_mean),
        torch.tensor(running_var),
        torch.tensor(gamma),
        torch.tensor(beta),
        training=False,
        eps=eps,
    ).numpy()
    w_folded, b_folded = fold_batchnorm(w, b, gamma, beta, running_mean, running_var, eps=eps)
    assert w_folded.shape == w.shape and b_folded.shape == b.shape
    out = F.conv2d(torch.tensor(x), torch.tensor(w_folded), torch.tensor(b_folded), stride=stride, padding=pad).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-10)


def test_folded_affine_layer_equals_affine_then_test_mode_batchnorm(rng):
    x = rng.normal(size=(7, 5))
    w, b = rng.normal(size=(5, 4)), rng.normal(size=4)
    gamma, beta = rng.normal(size=4), rng.normal(size=4)
    running_mean, running_var = rng.normal(0, 3, size=4), rng.uniform(0.01, 5, size=4)
    expected = F.batch_norm(
        torch.tensor(x @ w + b),
        torch.tensor(running_mean),
        torch.tensor(running_var),
        torch.tensor(gamma),
        torch.tensor(beta),
        training=False,
    ).numpy()
    w_folded, b_folded = fold_batchnorm(w, b, gamma, beta, running_mean, running_var)
    np.testing.assert_allclose(x @ w_folded + b_folded, expected, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize(
    ("w_shape", "vector_shapes", "match"),
    [
        ((4, 3, 2, 2), {"gamma": (3,)}, r"gamma must have shape \(4,\)"),
        ((4, 3, 2, 2), {"b": (3,)}, r"b must have shape \(4,\)"),
        ((5, 4), {"running_mean": (5,)}, r"running_mean must have shape \(4,\)"),
        ((5, 4), {"running_var": (4, 1)}, r"running_var must have shape \(4,\)"),
        ((4, 3, 2), {}, r"conv weights \(F, C, HH, WW\) or affine weights \(D, M\)"),
    ],
)
def test_folding_refuses_mismatched_shapes(w_shape, vector_shapes, match):
    outputs = w_shape[0] if len(w_shape) == 4 else w_shape[-1]
    vectors = {
        name: np.ones(vector_shapes.get(name, (outputs,)))
        for name in ("b", "gamma", "beta", "running_mean", "running_var")
    }
    with pytest.raises(ValueError, match=match):
        fold_batchnorm(
            np.ones(w_shape),
            vectors["b"],
            vectors["gamma"],
            vectors["beta"],
            vectors["running_mean"],
            vectors["running_var"],
        )
