# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Assignment 4: normalization layers
#
# Deep networks train badly when the numbers flowing through them drift to very different scales from
# layer to layer. The lecture's fix: **normalize** a layer's activations, then let the network pick the
# scale and shift it wants with two learned vectors $\gamma$ and $\beta$:
#
# $$\hat{x} = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad y = \gamma\,\hat{x} + \beta .$$
#
# The four normalizations of this assignment compute the same thing and differ only in **which entries
# one mean $\mu$ and one variance $\sigma^2$ are taken over**:
#
# | layer | input | statistics over | $\gamma, \beta$ | test time |
# |---|---|---|---|---|
# | batch norm | $N \times D$ | the $N$ examples, per feature | $(D,)$ | running averages |
# | spatial batch norm | $N \times C \times H \times W$ | $N, H, W$, per channel | $(C,)$ | running averages |
# | layer norm | $N \times D$ | the $D$ features, per example | $(D,)$ | same as training |
# | instance norm | $N \times C \times H \times W$ | $H, W$, per example and channel | $(C,)$ | same as training |
# | group norm | $N \times C \times H \times W$ | $C/G$ channels and $H, W$, per example and group | $(1, C, 1, 1)$ | same as training |
#
# You implement every layer in `cs_lib/normalization.py`, and the `normalization='batchnorm' | 'layernorm'`
# branches of `FullyConnectedNet` in `cs_lib/classifiers/fc_net.py` (the methods marked *assignment 4*).
# Each section below says which function to write and then checks it. You also derive two results on
# paper (batch norm's closed-form backward pass and the folding of batch norm into a conv), and see in
# numbers what the weights' initial scale and batch norm do to a deep network. Relative errors of about
# `1e-8` or smaller mean a function is right; `1e-2` or worse almost always means a bug.

# %% locked="imports"
import time

import matplotlib.pyplot as plt
import numpy as np

from cs_lib.datasets import get_cifar10_data
from cs_lib.gradient_check import eval_numerical_gradient_array, rel_error
from cs_lib.notebook import scaled

plt.rcParams["figure.figsize"] = (10.0, 4.0)

# %% [markdown]
# ## Which entries does each normalization average over?
#
# Draw an activation tensor of a conv layer as a grid: one row per example ($N$), one column per channel
# ($C$), and in every cell the $H \times W$ map of that channel. In each panel below, the shaded entries
# share **one** mean and **one** variance. The fully connected layers' $N \times D$ activations are the same
# picture with $H = W = 1$: batch norm shades a column, layer norm a row.


# %% locked="axes_picture"
def draw_normalization_axes(N=4, C=6, G=3, map_size=3):
    """Four panels of the N x C grid of H x W maps, shading the entries of one mean and variance."""
    block = map_size + 1
    group_size = C // G
    chosen = {
        "batch norm": lambda n, c: c == 0,
        "layer norm": lambda n, c: n == 0,
        "instance norm": lambda n, c: n == 0 and c == 0,
        f"group norm, G = {G}": lambda n, c: n == 0 and c // group_size == 0,
    }
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.4))
    for ax, (title, is_chosen) in zip(axes, chosen.items()):
        picture = np.full((N * block - 1, C * block - 1), np.nan)
        for n in range(N):
            for c in range(C):
                shade = 0.85 if is_chosen(n, c) else 0.15
                picture[n * block : n * block + map_size, c * block : c * block + map_size] = shade
        cmap = plt.get_cmap("Blues").copy()
        cmap.set_bad("white")
        ax.imshow(np.ma.masked_invalid(picture), cmap=cmap, vmin=0, vmax=1)
        ax.set_xticks([c * block + map_size / 2 - 0.5 for c in range(C)], [str(c) for c in range(C)])
        ax.set_yticks([n * block + map_size / 2 - 0.5 for n in range(N)], [str(n) for n in range(N)])
        ax.set_xlabel("channel c (each cell: its H x W map)")
        ax.set_ylabel("example n")
        ax.set_title(title)
    fig.tight_layout()
    return fig


_ = draw_normalization_axes()

# %% [markdown]
# ## The data
#
# The same CIFAR-10-shaped splits as before: `(N, 3, 32, 32)` images with the mean training image
# subtracted. Without the real CIFAR-10 files this is the course's embedded dataset: ten classes of
# procedurally drawn shapes and textures at random positions, sizes and rotations, in many colours, but
# each class with a weak colour tint of its own (a colour cue, like the sky behind CIFAR-10's
# aeroplanes). It trains in seconds.

# %% locked="load_data"
# this notebook trains on at most 1000 images, so it loads only the first 4000 (CIFAR-10 has 49,000)
data = get_cifar10_data(num_training=4000, num_validation=1000, num_test=scaled(1000, 10))
for name in ("X_train", "y_train", "X_val", "y_val"):
    print(f"{name}: {data[name].shape}")
print("dataset:", data["source"])

# %% [markdown]
# ## Batch normalization: the forward pass
#
# From the lecture: take a minibatch of activations $x$ of shape $N \times D$. For every feature $j$,
#
# $$\mu_j = \frac{1}{N}\sum_{i=1}^{N} x_{i,j}, \qquad \sigma_j^2 = \frac{1}{N}\sum_{i=1}^{N} (x_{i,j} - \mu_j)^2, \qquad
# \hat{x}_{i,j} = \frac{x_{i,j} - \mu_j}{\sqrt{\sigma_j^2 + \epsilon}}, \qquad y_{i,j} = \gamma_j \hat{x}_{i,j} + \beta_j .$$
#
# The variance divides by $N$ (the *biased* estimate): it is the variance of exactly the numbers being
# normalized. $\gamma, \beta$ have shape $(D,)$; with $\gamma = \sqrt{\sigma^2 + \epsilon}$ and $\beta = \mu$ the
# layer could even learn to undo itself.
#
# **Test time.** "Estimates depend on the minibatch; can't do this at test time!" So during training the
# layer also keeps per-feature running averages, updated once per forward pass in train mode with
# `momentum` ($m$, default `0.9`), starting from zeros:
#
# $$\text{running\_mean} \leftarrow m \cdot \text{running\_mean} + (1 - m)\,\mu, \qquad
# \text{running\_var} \leftarrow m \cdot \text{running\_var} + (1 - m)\,\sigma^2 \quad\text{(biased } \sigma^2\text{)},$$
#
# and in test mode normalizes with `running_mean` and `running_var` instead of the batch's statistics.
# Everything lives in the `bn_param` dict: `mode` (`'train'` or `'test'`), `eps` (default `1e-5`),
# `momentum`, `running_mean`, `running_var`.
#
# *PyTorch writes the same rule the other way round:* `torch.nn.functional.batch_norm`'s `momentum=0.1`
# weights the **new** value ($\text{running} \leftarrow 0.9\,\text{running} + 0.1\,\text{new}$), its running
# variance starts at ones, and it feeds the *unbiased* variance (divided by $N - 1$) into `running_var`.
#
# **Implement `batchnorm_forward` in `cs_lib/normalization.py`**, both modes. Below, a random ReLU layer
# applied to real images gives features with wildly different means and spreads; after batch norm every
# feature has mean $\beta_j$ and standard deviation $\gamma_j$.

# %% locked="bn_before_after"
from cs_lib.normalization import batchnorm_forward

rng = np.random.default_rng(231)
X_flat = data["X_train"][:200].reshape(200, -1)
W_random = rng.normal(0.0, 1e-3, (X_flat.shape[1], 50))
activations = np.maximum(0, X_flat @ W_random + rng.normal(0.0, 1.0, 50))

normalized, _ = batchnorm_forward(activations, np.ones(50), np.zeros(50), {"mode": "train"})
gamma_demo, beta_demo = np.linspace(1.0, 3.0, 50), np.linspace(-2.0, 2.0, 50)
shifted, _ = batchnorm_forward(activations, gamma_demo, beta_demo, {"mode": "train"})
print("before BN:          means", activations.mean(axis=0)[:4].round(3), "stds", activations.std(axis=0)[:4].round(3))
print("after BN (1, 0):    means", normalized.mean(axis=0)[:4].round(3), "stds", normalized.std(axis=0)[:4].round(3))
print("after BN (gamma, beta): means", shifted.mean(axis=0)[:4].round(3), "stds", shifted.std(axis=0)[:4].round(3))

fig, (mean_ax, std_ax) = plt.subplots(1, 2, figsize=(11, 3.5))
features = np.arange(50)
for values, label in ((activations, "before"), (normalized, "after, gamma = 1, beta = 0")):
    mean_ax.plot(features, values.mean(axis=0), "o", label=label, markersize=4)
    std_ax.plot(features, values.std(axis=0), "o", label=label, markersize=4)
mean_ax.set_title("per-feature mean")
std_ax.set_title("per-feature standard deviation")
for ax in (mean_ax, std_ax):
    ax.set_xlabel("feature j")
    ax.legend()
fig.tight_layout()

# %% test="batchnorm_forward_train" points=3
import numpy as np

from cs_lib.checks import check_close, check_rel_error
from cs_lib.normalization import batchnorm_forward

rng = np.random.default_rng(40)
N, D = 8, 5
x = rng.normal(5.0, 3.0, size=(N, D))
gamma = rng.uniform(0.5, 2.0, size=D)
beta = rng.normal(size=D)
bn_param = {"mode": "train"}
out, _ = batchnorm_forward(x, gamma, beta, bn_param)

expected = np.empty((N, D))
for j in range(D):
    column = x[:, j]
    mean = sum(column) / N
    var = sum((value - mean) ** 2 for value in column) / N
    expected[:, j] = gamma[j] * (column - mean) / np.sqrt(var + 1e-5) + beta[j]
error = check_rel_error(out, expected, "batchnorm_forward out", tol=1e-8)
print(f"out relative error: {error:.2e}")
# one train step from zeros: running = 0.9 * 0 + 0.1 * batch statistic (the variance divides by N)
check_rel_error(bn_param["running_mean"], 0.1 * x.mean(axis=0), "running_mean after one step", tol=1e-8)
check_rel_error(bn_param["running_var"], 0.1 * x.var(axis=0), "running_var after one step", tol=1e-8)
check_close(np.mean(out, axis=0), beta, "per-feature means of out (expected beta)", atol=1e-8)
print("running_mean and running_var follow the rule")
### BEGIN HIDDEN TESTS
# several steps with custom momentum and eps, starting from given running statistics
momentum, eps = 0.7, 1e-3
expected_mean = rng.normal(size=D)
expected_var = rng.uniform(0.5, 2.0, size=D)
bn_param = {
    "mode": "train",
    "momentum": momentum,
    "eps": eps,
    "running_mean": expected_mean.copy(),
    "running_var": expected_var.copy(),
}
for step in range(3):
    x = rng.normal(-2.0 + step, 1.0 + step, size=(6, D))
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    expected = gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta
    check_rel_error(out, expected, f"batchnorm_forward out, step {step}", tol=1e-8)
    # momentum keeps the old value; the variance fed in is the biased one (np.var divides by N)
    expected_mean = momentum * expected_mean + (1 - momentum) * x.mean(axis=0)
    expected_var = momentum * expected_var + (1 - momentum) * x.var(axis=0)
    check_rel_error(bn_param["running_mean"], expected_mean, f"running_mean, step {step}", tol=1e-8)
    check_rel_error(bn_param["running_var"], expected_var, f"running_var, step {step}", tol=1e-8)

# a batch of one example normalizes to zero: out = beta
out, _ = batchnorm_forward(rng.normal(size=(1, D)), gamma, beta, {"mode": "train"})
check_close(out, beta[None, :], "batchnorm_forward on a batch of one example", atol=1e-8)
print("several train steps with custom momentum and eps agree")
### END HIDDEN TESTS

# %% [markdown]
# ## Train mode and test mode: "a very common source of bugs"
#
# At test time the network must give each image the same answer whatever else is in its batch, and it
# must work on a batch of one. Batch statistics break both: a single image normalizes to $\hat{x} = 0$, so
# its output is just $\beta$ whatever the image. Below, the running averages are warmed up with 50
# training batches; then test mode normalizes new images with them. The last lines show the bug of
# forgetting to switch modes.

# %% locked="train_vs_test"
gamma_ones, beta_zeros = np.ones(50), np.zeros(50)
bn_param = {"mode": "train"}
rng = np.random.default_rng(0)
for _ in range(50):
    batch = data["X_train"][rng.choice(len(data["X_train"]), 100, replace=False)].reshape(100, -1)
    batchnorm_forward(np.maximum(0, batch @ W_random), gamma_ones, beta_zeros, bn_param)

bn_param["mode"] = "test"
val_activations = np.maximum(0, data["X_val"][:200].reshape(200, -1) @ W_random)
test_out, _ = batchnorm_forward(val_activations, gamma_ones, beta_zeros, bn_param)
feature_means, feature_stds = test_out.mean(axis=0), test_out.std(axis=0)
print(
    f"test mode, 200 validation images: feature means {feature_means.mean():.3f} on average, "
    f"feature stds {feature_stds.mean():.3f}"
)
alone, _ = batchnorm_forward(val_activations[:1], gamma_ones, beta_zeros, bn_param)
print("test mode, image 0 alone vs in the batch: max difference", np.abs(alone - test_out[:1]).max())

bn_param["mode"] = "train"
wrong, _ = batchnorm_forward(val_activations[:1], gamma_ones, beta_zeros, bn_param)
print("train mode (the bug), image 0 alone: output", wrong[0, :5], "... = beta whatever the image")

# %% test="batchnorm_forward_test" points=2
import numpy as np

from cs_lib.checks import check_close, check_rel_error
from cs_lib.normalization import batchnorm_forward

rng = np.random.default_rng(41)
N, D = 10, 6
gamma = rng.uniform(0.5, 2.0, size=D)
beta = rng.normal(size=D)
running_mean = rng.normal(size=D)
running_var = rng.uniform(0.5, 2.0, size=D)
bn_param = {"mode": "test", "running_mean": running_mean.copy(), "running_var": running_var.copy()}
x = rng.normal(20.0, 4.0, size=(N, D))  # a test batch far from the running mean
out, _ = batchnorm_forward(x, gamma, beta, bn_param)

expected = gamma * (x - running_mean) / np.sqrt(running_var + 1e-5) + beta
error = check_rel_error(out, expected, "batchnorm_forward (test mode)", tol=1e-8)
print(f"test-mode relative error: {error:.2e}")
check_close(bn_param["running_mean"], running_mean, "running_mean after a test-mode pass", atol=0, rtol=0)
check_close(bn_param["running_var"], running_var, "running_var after a test-mode pass", atol=0, rtol=0)
single, _ = batchnorm_forward(x[3:4], gamma, beta, bn_param)
check_rel_error(single, expected[3:4], "batchnorm_forward (test mode) on one example", tol=1e-8)
print("test mode uses the running averages, and one example alone gets the same output")
### BEGIN HIDDEN TESTS
eps = 1e-2
bn_param = {
    "mode": "test",
    "eps": eps,
    "momentum": 0.5,
    "running_mean": running_mean.copy(),
    "running_var": running_var.copy(),
}
x = rng.normal(-7.0, 0.1, size=(3, D))
out, _ = batchnorm_forward(x, gamma, beta, bn_param)
expected = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
check_rel_error(out, expected, "batchnorm_forward (test mode, eps 1e-2)", tol=1e-8)
check_close(bn_param["running_mean"], running_mean, "running_mean after test mode", atol=0, rtol=0)
check_close(bn_param["running_var"], running_var, "running_var after test mode", atol=0, rtol=0)
print("test mode with eps 1e-2 agrees")
### END HIDDEN TESTS

# %% [markdown]
# ## Batch normalization: the backward pass through the computational graph
#
# Write the train-mode forward pass as a chain of small steps (the cache keeps what the way back needs):
#
# 1. `mean = (1/N) sum_i x_i`
# 2. `x_centered = x - mean`
# 3. `var = (1/N) sum_i x_centered_i ** 2`
# 4. `inv_std = 1 / sqrt(var + eps)`
# 5. `x_hat = x_centered * inv_std`
# 6. `out = gamma * x_hat + beta`
#
# and walk it backwards from step 6 to step 1, one local gradient at a time, adding up the gradient of
# every node that is used twice: `x_centered` feeds both step 3 and step 5, and `x` feeds both step 1
# and step 2.
#
# $x$ reaches the output three ways: directly through `x_centered`, through the mean, and through the
# variance. Every path contributes to `dx`; the classic bug drops the one through the mean. (A check
# that needs no numbers: shifting every example by the same vector does not change the output, so each
# column of `dx` must sum to zero.)
#
# **Implement `batchnorm_backward`** (train mode) and check it against numerical gradients.

# %% test="batchnorm_backward" points=3
import numpy as np

from cs_lib.checks import check_rel_error
from cs_lib.gradient_check import eval_numerical_gradient_array
from cs_lib.normalization import batchnorm_backward, batchnorm_forward

rng = np.random.default_rng(42)
N, D = 4, 5
x = rng.normal(2.0, 3.0, size=(N, D))
gamma = rng.normal(1.0, 0.5, size=D)
beta = rng.normal(size=D)
dout = rng.normal(size=(N, D))
bn_param = {"mode": "train"}

_, cache = batchnorm_forward(x, gamma, beta, bn_param)
dx, dgamma, dbeta = batchnorm_backward(dout, cache)
dx_num = eval_numerical_gradient_array(lambda v: batchnorm_forward(v, gamma, beta, bn_param)[0], x, dout)
dgamma_num = eval_numerical_gradient_array(lambda v: batchnorm_forward(x, v, beta, bn_param)[0], gamma, dout)
dbeta_num = eval_numerical_gradient_array(lambda v: batchnorm_forward(x, gamma, v, bn_param)[0], beta, dout)
error = check_rel_error(dx, dx_num, "batchnorm_backward dx", tol=1e-6)
print(f"dx error: {error:.2e}")
error = check_rel_error(dgamma, dgamma_num, "batchnorm_backward dgamma", tol=1e-6)
print(f"dgamma error: {error:.2e}")
error = check_rel_error(dbeta, dbeta_num, "batchnorm_backward dbeta", tol=1e-6)
print(f"dbeta error: {error:.2e}")
### BEGIN HIDDEN TESTS
from cs_lib.checks import check_close

N, D = 16, 7
x = rng.normal(-3.0, 0.2, size=(N, D))
gamma = rng.normal(size=D)
beta = rng.normal(size=D)
dout = rng.normal(3.0, 1.0, size=(N, D))
bn_param = {"mode": "train", "eps": 1e-3}
_, cache = batchnorm_forward(x, gamma, beta, bn_param)
dx, dgamma, dbeta = batchnorm_backward(dout, cache)


# numerical gradients of the normalization written out here, not of the forward pass being judged
def written_out(v):
    return gamma * (v - v.mean(axis=0, keepdims=True)) / np.sqrt(v.var(axis=0, keepdims=True) + 1e-3) + beta


dx_num = eval_numerical_gradient_array(written_out, x, dout)
check_rel_error(dx, dx_num, "batchnorm_backward dx (N = 16, eps 1e-3)", tol=1e-6)
check_rel_error(dgamma, np.sum(dout * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-3), axis=0), "dgamma", tol=1e-8)
check_rel_error(dbeta, dout.sum(axis=0), "dbeta", tol=1e-8)
check_close(np.sum(dx, axis=0), np.zeros(D), "column sums of dx (the output ignores shifts of x)", atol=1e-8)
print("gradients of a larger batch agree")
### END HIDDEN TESTS

# %% [markdown]
# ## The simplified backward pass
#
# Work the graph out on paper and most of it cancels: $\mathrm{d}x$ fits on one line, written with
# $\mathrm{d}\hat{x} = \mathrm{d}out \cdot \gamma$, $\hat{x}$, $\sqrt{\sigma^2 + \epsilon}$ and means over the $N$
# examples of each feature, with one term for each of the three paths from $x$ to the output (directly,
# through the mean, through the variance). CS231n asks you to derive it yourself, and so do we.
#
# **Question 1 (derivation).** For one feature, with $\hat{x}_i = (x_i - \mu)/\sqrt{\sigma^2 + \epsilon}$,
# derive $\partial L / \partial x_i$ from $\mathrm{d}\hat{x}_j = \partial L / \partial \hat{x}_j$ for all $j$:
# write down $\partial \mu / \partial x_i$ and $\partial \sigma^2 / \partial x_i$, collect the three paths,
# and simplify until only $\mathrm{d}\hat{x}$, $\hat{x}$, $\sqrt{\sigma^2 + \epsilon}$ and means over the batch
# remain. Give $\mathrm{d}\gamma$ and $\mathrm{d}\beta$ too.

# %% [markdown] answer="bn_backward_derivation" points=3
# **Your answer:**
#
# ### BEGIN SOLUTION
# Write $s = \sqrt{\sigma^2 + \epsilon}$, so $\hat{x}_j = (x_j - \mu)/s$, with $\partial \mu/\partial x_i = 1/N$
# and $\partial \sigma^2/\partial x_i = \frac{2}{N}\sum_j (x_j - \mu)(\delta_{ij} - \tfrac{1}{N}) = \frac{2}{N}(x_i - \mu)$
# (the deviations sum to zero). The gradients of the two statistics are
#
# $$\frac{\partial L}{\partial \sigma^2} = \sum_j \mathrm{d}\hat{x}_j (x_j - \mu) \left(-\tfrac{1}{2}\right) s^{-3}
# = -\frac{1}{2 s^2} \sum_j \mathrm{d}\hat{x}_j \hat{x}_j, \qquad
# \frac{\partial L}{\partial \mu} = -\frac{1}{s} \sum_j \mathrm{d}\hat{x}_j + \frac{\partial L}{\partial \sigma^2}
# \cdot \left(-\frac{2}{N}\sum_j (x_j - \mu)\right) = -\frac{1}{s} \sum_j \mathrm{d}\hat{x}_j .$$
#
# The three paths (direct, through $\mu$, through $\sigma^2$) add up:
#
# $$\frac{\partial L}{\partial x_i} = \frac{\mathrm{d}\hat{x}_i}{s} + \frac{1}{N}\frac{\partial L}{\partial \mu}
# + \frac{2 (x_i - \mu)}{N} \frac{\partial L}{\partial \sigma^2}
# = \frac{1}{s}\left(\mathrm{d}\hat{x}_i - \frac{1}{N}\sum_j \mathrm{d}\hat{x}_j
# - \hat{x}_i \, \frac{1}{N}\sum_j \mathrm{d}\hat{x}_j \hat{x}_j\right).$$
#
# So $\mathrm{d}x = \frac{1}{s}\big(\mathrm{d}\hat{x} - \operatorname{mean}(\mathrm{d}\hat{x})
# - \hat{x}\operatorname{mean}(\mathrm{d}\hat{x}\,\hat{x})\big)$ with means over the batch, per feature, and
# since $y_i = \gamma \hat{x}_i + \beta$: $\mathrm{d}\hat{x} = \gamma \, \mathrm{d}out$,
# $\mathrm{d}\gamma = \sum_i \mathrm{d}out_i \hat{x}_i$, $\mathrm{d}\beta = \sum_i \mathrm{d}out_i$.
# ### END SOLUTION

# %% [markdown]
# **Implement `batchnorm_backward_alt`** with your result (a few vectorized lines); the networks of this
# assignment use it. The timing below compares the two versions.

# %% test="batchnorm_backward_alt" points=2
import numpy as np

from cs_lib.checks import check_rel_error
from cs_lib.gradient_check import eval_numerical_gradient_array
from cs_lib.normalization import batchnorm_backward_alt, batchnorm_forward

rng = np.random.default_rng(43)
N, D = 5, 4
x = rng.normal(-1.0, 2.0, size=(N, D))
gamma = rng.normal(1.0, 0.5, size=D)
beta = rng.normal(size=D)
dout = rng.normal(size=(N, D))
bn_param = {"mode": "train"}

_, cache = batchnorm_forward(x, gamma, beta, bn_param)
dx, dgamma, dbeta = batchnorm_backward_alt(dout, cache)
dx_num = eval_numerical_gradient_array(lambda v: batchnorm_forward(v, gamma, beta, bn_param)[0], x, dout)
dgamma_num = eval_numerical_gradient_array(lambda v: batchnorm_forward(x, v, beta, bn_param)[0], gamma, dout)
dbeta_num = eval_numerical_gradient_array(lambda v: batchnorm_forward(x, gamma, v, bn_param)[0], beta, dout)
error = check_rel_error(dx, dx_num, "batchnorm_backward_alt dx", tol=1e-6)
print(f"dx error: {error:.2e}")
error = check_rel_error(dgamma, dgamma_num, "batchnorm_backward_alt dgamma", tol=1e-6)
print(f"dgamma error: {error:.2e}")
error = check_rel_error(dbeta, dbeta_num, "batchnorm_backward_alt dbeta", tol=1e-6)
print(f"dbeta error: {error:.2e}")
### BEGIN HIDDEN TESTS
N, D = 32, 9
x = rng.normal(4.0, 0.5, size=(N, D))
gamma = rng.normal(size=D)
beta = rng.normal(size=D)
dout = rng.normal(-2.0, 1.0, size=(N, D))
bn_param = {"mode": "train", "eps": 1e-4}
_, cache = batchnorm_forward(x, gamma, beta, bn_param)
dx, dgamma, dbeta = batchnorm_backward_alt(dout, cache)


# numerical gradients of the normalization written out here, not of the forward pass being judged
def written_out(v):
    return gamma * (v - v.mean(axis=0, keepdims=True)) / np.sqrt(v.var(axis=0, keepdims=True) + 1e-4) + beta


dx_num = eval_numerical_gradient_array(written_out, x, dout)
check_rel_error(dx, dx_num, "batchnorm_backward_alt dx (N = 32, eps 1e-4)", tol=1e-6)
check_rel_error(dgamma, np.sum(dout * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-4), axis=0), "dgamma", tol=1e-8)
check_rel_error(dbeta, dout.sum(axis=0), "dbeta", tol=1e-8)
print("the simplified gradients of a larger batch agree")
### END HIDDEN TESTS

# %% locked="backward_timing"
from cs_lib.normalization import batchnorm_backward, batchnorm_backward_alt

rng = np.random.default_rng(1)
N, D = 500, 500
x = rng.normal(size=(N, D))
dout = rng.normal(size=(N, D))
_, cache = batchnorm_forward(x, np.ones(D), np.zeros(D), {"mode": "train"})


def best_time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


repeats = scaled(20, 3)
graph_time = best_time(lambda: batchnorm_backward(dout, cache), repeats)
alt_time = best_time(lambda: batchnorm_backward_alt(dout, cache), repeats)
dx_graph = batchnorm_backward(dout, cache)[0]
dx_alt = batchnorm_backward_alt(dout, cache)[0]
print(f"dx difference between the two: {rel_error(dx_graph, dx_alt):.2e}")
print(
    f"computational graph: {1e3 * graph_time:.2f} ms, simplified: {1e3 * alt_time:.2f} ms "
    f"({graph_time / alt_time:.1f}x) for N = D = {N}"
)

# %% [markdown]
# ## FullyConnectedNet gains normalization
#
# In `cs_lib/classifiers/fc_net.py`, give `FullyConnectedNet` its `normalization` option: every hidden
# layer becomes affine - batch/layer norm - ReLU, with parameters `gamma{i}` (ones) and `beta{i}` (zeros)
# of shape `(hidden_dims[i-1],)`. Fill in the methods marked *assignment 4* (`__init__`'s gamma/beta,
# `_norm_relu_forward`, `_norm_relu_backward`) with the sandwich layers `affine_norm_relu_forward` and
# `affine_norm_relu_backward` from `cs_lib/layer_utils.py`; `loss` already switches every `bn_params`
# dict to `'test'` when it is called without labels.

# %% test="fc_net_batchnorm_gradients" points=2
import numpy as np

from cs_lib.checks import check_close, check_rel_error, check_shape
from cs_lib.classifiers.fc_net import FullyConnectedNet
from cs_lib.gradient_check import eval_numerical_gradient_params

rng = np.random.default_rng(44)
N, D, H1, H2, C = 6, 8, 7, 5, 4
X = rng.normal(size=(N, D))
y = rng.integers(C, size=N)
model = FullyConnectedNet(
    [H1, H2],
    input_dim=D,
    num_classes=C,
    normalization="batchnorm",
    reg=0.1,
    weight_scale=5e-1,
    dtype=np.float64,
    seed=0,
)
for i, width in ((1, H1), (2, H2)):
    check_shape(model.params[f"gamma{i}"], (width,), f"gamma{i}")
    check_shape(model.params[f"beta{i}"], (width,), f"beta{i}")
model.params["gamma1"] = rng.uniform(0.5, 1.5, size=H1)
model.params["beta2"] = rng.normal(size=H2)

loss, grads = model.loss(X, y)
for name in sorted(model.params):
    numerical = eval_numerical_gradient_params(model, X, y, [name])[name]
    if name in ("b1", "b2"):
        # batch norm subtracts the batch mean, which cancels these biases: their gradient is zero
        check_close(grads[name], numerical, f"FullyConnectedNet (batchnorm) d{name}", rtol=0, atol=1e-7)
        print(f"{name} gradient: max |d{name}| = {np.abs(grads[name]).max():.1e} (zero up to round-off)")
        continue
    error = check_rel_error(grads[name], numerical, f"FullyConnectedNet (batchnorm) d{name}", tol=1e-5)
    print(f"{name} relative error: {error:.2e}")
### BEGIN HIDDEN TESTS
from cs_lib.gradient_check import eval_numerical_gradient

# anchored to this test: parameters it chooses, its own loss written out, numerical gradients of that
own = {f"W{i}": rng.normal(scale=0.5, size=shape) for i, shape in ((1, (D, H1)), (2, (H1, H2)), (3, (H2, C)))}
own.update({f"b{i}": rng.normal(size=width) for i, width in ((1, H1), (2, H2), (3, C))})
own.update({f"gamma{i}": rng.uniform(0.5, 1.5, size=width) for i, width in ((1, H1), (2, H2))})
own.update({f"beta{i}": rng.normal(size=width) for i, width in ((1, H1), (2, H2))})
for name, value in own.items():
    model.params[name] = value.copy()


def written_out_loss(p):
    hidden = X
    for i in (1, 2):  # affine - batchnorm (statistics over axis 0) - relu
        a = hidden @ p[f"W{i}"] + p[f"b{i}"]
        normalized = (a - a.mean(axis=0, keepdims=True)) / np.sqrt(a.var(axis=0, keepdims=True) + 1e-5)
        hidden = np.maximum(0, p[f"gamma{i}"] * normalized + p[f"beta{i}"])
    scores = hidden @ p["W3"] + p["b3"]
    shifted = scores - scores.max(axis=1, keepdims=True)
    data_loss = np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(N), y])
    return data_loss + 0.5 * 0.1 * sum(np.sum(p[f"W{i}"] ** 2) for i in (1, 2, 3))


loss, grads = model.loss(X, y)
check_rel_error(loss, written_out_loss(own), "FullyConnectedNet (batchnorm) loss for parameters the test set", tol=1e-8)
for name in sorted(own):
    numerical = eval_numerical_gradient(lambda _: written_out_loss(own), own[name], h=1e-6)
    check_close(grads[name], numerical, f"FullyConnectedNet (batchnorm) d{name} for parameters the test set", atol=1e-7)
### END HIDDEN TESTS

# %% test="fc_net_layernorm_gradients" points=2
import numpy as np

from cs_lib.checks import check_rel_error, check_shape
from cs_lib.classifiers.fc_net import FullyConnectedNet
from cs_lib.gradient_check import eval_numerical_gradient_params

rng = np.random.default_rng(45)
N, D, H1, H2, C = 5, 6, 7, 8, 3
X = rng.normal(size=(N, D))
y = rng.integers(C, size=N)
model = FullyConnectedNet(
    [H1, H2],
    input_dim=D,
    num_classes=C,
    normalization="layernorm",
    reg=0.2,
    weight_scale=5e-1,
    dtype=np.float64,
    seed=1,
)
for i, width in ((1, H1), (2, H2)):
    check_shape(model.params[f"gamma{i}"], (width,), f"gamma{i}")
    check_shape(model.params[f"beta{i}"], (width,), f"beta{i}")
model.params["gamma2"] = rng.uniform(0.5, 1.5, size=H2)
model.params["beta1"] = rng.normal(size=H1)

loss, grads = model.loss(X, y)
for name in sorted(model.params):
    numerical = eval_numerical_gradient_params(model, X, y, [name])[name]
    error = check_rel_error(grads[name], numerical, f"FullyConnectedNet (layernorm) d{name}", tol=1e-5)
    print(f"{name} relative error: {error:.2e}")
### BEGIN HIDDEN TESTS
from cs_lib.checks import check_close
from cs_lib.gradient_check import eval_numerical_gradient

# anchored to this test: parameters it chooses, its own loss written out, numerical gradients of that
own = {f"W{i}": rng.normal(scale=0.5, size=shape) for i, shape in ((1, (D, H1)), (2, (H1, H2)), (3, (H2, C)))}
own.update({f"b{i}": rng.normal(size=width) for i, width in ((1, H1), (2, H2), (3, C))})
own.update({f"gamma{i}": rng.uniform(0.5, 1.5, size=width) for i, width in ((1, H1), (2, H2))})
own.update({f"beta{i}": rng.normal(size=width) for i, width in ((1, H1), (2, H2))})
for name, value in own.items():
    model.params[name] = value.copy()


def written_out_loss(p):
    hidden = X
    for i in (1, 2):  # affine - layernorm (statistics over axis 1) - relu
        a = hidden @ p[f"W{i}"] + p[f"b{i}"]
        normalized = (a - a.mean(axis=1, keepdims=True)) / np.sqrt(a.var(axis=1, keepdims=True) + 1e-5)
        hidden = np.maximum(0, p[f"gamma{i}"] * normalized + p[f"beta{i}"])
    scores = hidden @ p["W3"] + p["b3"]
    shifted = scores - scores.max(axis=1, keepdims=True)
    data_loss = np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(N), y])
    return data_loss + 0.5 * 0.2 * sum(np.sum(p[f"W{i}"] ** 2) for i in (1, 2, 3))


loss, grads = model.loss(X, y)
check_rel_error(loss, written_out_loss(own), "FullyConnectedNet (layernorm) loss for parameters the test set", tol=1e-8)
for name in sorted(own):
    numerical = eval_numerical_gradient(lambda _: written_out_loss(own), own[name], h=1e-6)
    check_close(grads[name], numerical, f"FullyConnectedNet (layernorm) d{name} for parameters the test set", atol=1e-7)
### END HIDDEN TESTS

# %% test="fc_net_batchnorm_test_mode" points=2
import numpy as np

from cs_lib.checks import check_rel_error, check_true
from cs_lib.classifiers.fc_net import FullyConnectedNet

rng = np.random.default_rng(46)
N, D, H1, H2, C = 12, 10, 9, 8, 5
model = FullyConnectedNet(
    [H1, H2], input_dim=D, num_classes=C, normalization="batchnorm", weight_scale=3e-1, dtype=np.float64, seed=2
)
for i, width in ((1, H1), (2, H2)):
    model.params[f"gamma{i}"] = rng.uniform(0.5, 1.5, size=width)
    model.params[f"beta{i}"] = rng.normal(size=width)
for _ in range(3):  # train-mode passes fill the running averages
    model.loss(rng.normal(1.0, 2.0, size=(N, D)), rng.integers(C, size=N))

for i in (1, 2):
    stats = model.bn_params[i - 1]
    check_true(
        "running_mean" in stats and "running_var" in stats,
        f"bn_params[{i - 1}] holds no running averages after training: does layer {i} use self.bn_params[{i - 1}]?",
    )
X = rng.normal(-4.0, 1.0, size=(N, D))  # a test batch with a very different mean
scores = model.loss(X)

hidden = X
for i in (1, 2):  # affine - batchnorm with the running averages - relu, written out
    p, stats = model.params, model.bn_params[i - 1]
    a = hidden @ p[f"W{i}"] + p[f"b{i}"]
    normalized = (a - stats["running_mean"]) / np.sqrt(stats["running_var"] + 1e-5)
    hidden = np.maximum(0, p[f"gamma{i}"] * normalized + p[f"beta{i}"])
expected = hidden @ model.params["W3"] + model.params["b3"]
error = check_rel_error(scores, expected, "FullyConnectedNet test-mode scores", tol=1e-8)
print(f"test-mode scores error: {error:.2e}")
check_rel_error(model.loss(X[:1]), expected[:1], "FullyConnectedNet test-mode scores of one example", tol=1e-8)
print("test-mode scores use the running averages")
### BEGIN HIDDEN TESTS
# three hidden layers and a single test example, every number from the test's own copies: the parameters it
# sets and the running averages of its own train-mode passes (momentum 0.9 from zeros), never read back
model = FullyConnectedNet(
    [6, 5, 4], input_dim=D, num_classes=C, normalization="batchnorm", weight_scale=3e-1, dtype=np.float64, seed=3
)
dims = [D, 6, 5, 4, C]
own = {}
for i in range(1, 5):
    own[f"W{i}"] = rng.normal(scale=0.5, size=(dims[i - 1], dims[i]))
    own[f"b{i}"] = rng.normal(size=dims[i])
for i in range(1, 4):
    own[f"gamma{i}"] = rng.uniform(0.5, 1.5, size=dims[i])
    own[f"beta{i}"] = rng.normal(size=dims[i])
for name, value in own.items():
    model.params[name] = value.copy()
running = {i: (np.zeros(dims[i]), np.zeros(dims[i])) for i in range(1, 4)}
for _ in range(2):
    X_train = rng.normal(size=(N, D))
    model.loss(X_train, rng.integers(C, size=N))
    hidden = X_train
    for i in (1, 2, 3):
        a = hidden @ own[f"W{i}"] + own[f"b{i}"]
        mean, var = a.mean(axis=0), a.var(axis=0)
        running[i] = (0.9 * running[i][0] + 0.1 * mean, 0.9 * running[i][1] + 0.1 * var)
        normalized = (a - mean) / np.sqrt(var + 1e-5)
        hidden = np.maximum(0, own[f"gamma{i}"] * normalized + own[f"beta{i}"])
x_one = rng.normal(3.0, 1.0, size=(1, D))
hidden = x_one
for i in (1, 2, 3):
    a = hidden @ own[f"W{i}"] + own[f"b{i}"]
    normalized = (a - running[i][0]) / np.sqrt(running[i][1] + 1e-5)
    hidden = np.maximum(0, own[f"gamma{i}"] * normalized + own[f"beta{i}"])
expected = hidden @ own["W4"] + own["b4"]
check_rel_error(model.loss(x_one), expected, "FullyConnectedNet (3 hidden layers) test-mode scores", tol=1e-8)
print("a deeper net uses its running averages too")
### END HIDDEN TESTS

# %% [markdown]
# ## Weight initialisation and batch norm, seen in numbers
#
# The lecture's activation statistics: push one batch of real images through a deep net of
# affine - ReLU layers and look at the numbers in every layer. Here the net has eight hidden layers of
# 256 units and a scores layer ($D = 3072 \to 256 \to \dots \to 256 \to 10$), with weights drawn from a normal
# distribution with mean 0 and a chosen standard deviation:
#
# - **too small**, 0.01 for every layer ("`W = 0.01 * np.random.randn(Din, Dout)`" in the lecture);
# - **too large**, 0.2 for every layer;
# - **Kaiming / MSRA** for ReLU layers, standard deviation $\sqrt{2 / D_{\text{in}}}$ where $D_{\text{in}}$ is
#   the layer's number of inputs (its fan-in).
#
# Each runs without and with batch norm (affine - batch norm - ReLU, $\gamma = 1$, $\beta = 0$, train mode,
# with your `batchnorm_forward` and `batchnorm_backward_alt`). The cell records the activations after
# each ReLU and the gradient of the softmax loss that reaches them on the way back.
#
# **Your turn.** Compute `kaiming_scales`: the Kaiming standard deviation of each of the nine weight
# matrices of `depth_dims` below, as a list of floats (one per matrix, first layer first).

# %% solution="compute_kaiming_scales"
depth_dims = [3 * 32 * 32] + [256] * 8 + [10]  # the net's widths: 9 weight matrices, depth_dims[i] -> depth_dims[i + 1]
### BEGIN SOLUTION
kaiming_scales = [float(np.sqrt(2.0 / fan_in)) for fan_in in depth_dims[:-1]]
### END SOLUTION
print("Kaiming standard deviations:", [round(scale, 4) for scale in kaiming_scales])

# %% test="kaiming_scales" points=1 reads=["kaiming_scales"]
import numpy as np

from cs_lib.checks import check_close, check_true

fan_ins = [3 * 32 * 32] + [256] * 8  # the net's layers: 3072 -> 256 (x 8) -> 10
check_true(
    np.ndim(kaiming_scales) == 1 and len(kaiming_scales) == len(fan_ins),
    f"kaiming_scales must be a list of {len(fan_ins)} numbers, one per weight matrix, first layer first",
)
expected = np.sqrt(2.0 / np.array(fan_ins))
check_close(np.asarray(kaiming_scales, dtype=np.float64), expected, "kaiming_scales", rtol=1e-6, atol=0)
print("one standard deviation per weight matrix, from its fan-in")
### BEGIN HIDDEN TESTS
from cs_lib.checks import check_scalar
from cs_lib.classifiers.fc_net import FullyConnectedNet

# the same scales drawn by the code: FullyConnectedNet(weight_scale="kaiming") for the net of depth_dims
model = FullyConnectedNet([256] * 8, input_dim=3 * 32 * 32, num_classes=10, weight_scale="kaiming", seed=0)
for i, scale in enumerate(expected, start=1):
    drawn = np.asarray(model.params[f"W{i}"], dtype=np.float64)
    check_scalar(drawn.std(), scale, f'the standard deviation of W{i} with weight_scale="kaiming"', rtol=0.05)
### END HIDDEN TESTS

# %% locked="init_statistics"
from cs_lib.layers import affine_backward, affine_forward, relu_backward, relu_forward, softmax_loss
from cs_lib.normalization import batchnorm_backward_alt, batchnorm_forward
from cs_lib.notebook import show_effect
from cs_lib.vis import plot_layer_histograms

X_probe, y_probe = data["X_train"][:200].reshape(200, -1), data["y_train"][:200]
scales = {"too small (0.01)": [0.01] * 9, "too large (0.2)": [0.2] * 9, "Kaiming": list(kaiming_scales)}


def layer_statistics(weight_scales, batchnorm):
    """Activations after every hidden ReLU and the gradients reaching them, for one batch of X_probe."""
    rng = np.random.default_rng(0)  # the same random draws at every scale
    hidden, caches, activations = X_probe, [], []
    for fan_in, fan_out, scale in zip(depth_dims[:-2], depth_dims[1:-1], weight_scales):
        a, affine_cache = affine_forward(hidden, rng.normal(0.0, scale, (fan_in, fan_out)), np.zeros(fan_out))
        bn_cache = None
        if batchnorm:
            a, bn_cache = batchnorm_forward(a, np.ones(fan_out), np.zeros(fan_out), {"mode": "train"})
        hidden, relu_cache = relu_forward(a)
        caches.append((affine_cache, bn_cache, relu_cache))
        activations.append(hidden)
    W_scores = rng.normal(0.0, weight_scales[-1], (depth_dims[-2], depth_dims[-1]))
    scores, scores_cache = affine_forward(hidden, W_scores, np.zeros(depth_dims[-1]))
    _, dscores = softmax_loss(scores, y_probe)
    dhidden, _, _ = affine_backward(dscores, scores_cache)
    gradients = []
    for affine_cache, bn_cache, relu_cache in reversed(caches):
        gradients.insert(0, dhidden)
        da = relu_backward(dhidden, relu_cache)
        if bn_cache is not None:
            da, _, _ = batchnorm_backward_alt(da, bn_cache)
        dhidden, _, _ = affine_backward(da, affine_cache)
    return activations, gradients


statistics = {
    (name, batchnorm): layer_statistics(weight_scales, batchnorm)
    for batchnorm in (False, True)
    for name, weight_scales in scales.items()
}
act_std = {key: np.array([a.std() for a in activations]) for key, (activations, _) in statistics.items()}
grad_std = {key: np.array([g.std() for g in gradients]) for key, (_, gradients) in statistics.items()}
print("standard deviation per hidden layer (1 ... 8)")
for what, table in (("activations", act_std), ("gradients", grad_std)):
    for (name, batchnorm), row in table.items():
        label = f"{what}, {name}{', batch norm' if batchnorm else ''}"
        print(f"{label:<48}" + " ".join(f"{value:8.1e}" for value in row))

small, large, kaiming = ((name, False) for name in scales)
_ = show_effect(
    act_std[small][-1] < 1e-3 * act_std[small][0] and grad_std[small][0] < 1e-3 * grad_std[small][-1],
    "without batch norm, weights that are too small shrink the activations layer by layer (the last hidden "
    "layer's are over 1000 times smaller than the first's), and the gradient shrinks the same way on its way back",
)
_ = show_effect(
    act_std[large][-1] > 100 * act_std[large][0] and grad_std[large][0] > 100 * grad_std[large][-1],
    "without batch norm, weights that are too large make activations and gradients explode (over 100 times)",
)
_ = show_effect(
    max(act_std[kaiming]) < 2 * min(act_std[kaiming]) and max(grad_std[kaiming]) < 2 * min(grad_std[kaiming]),
    "with Kaiming's scales every layer's activations and gradients stay within a factor of 2 of each other",
)
with_bn = [act_std[name, True] for name in scales]
_ = show_effect(
    all(np.allclose(row, with_bn[0], rtol=0.01) for row in with_bn) and np.all(np.abs(with_bn[0] - 0.58) < 0.05),
    "with batch norm the activations look the same at all three scales: a standard deviation of about 0.58 "
    "in every layer (a ReLU of unit Gaussians)",
)
_ = show_effect(
    all(grad_std[name, True][0] < 10 * grad_std[name, True][-1] for name in scales),
    "with batch norm the gradient reaching the first hidden layer is within a factor of 10 of the last "
    "layer's at all three scales",
)

# %% [markdown]
# The histograms of every layer: one row per scale without batch norm, and one with batch norm and
# Kaiming's scales (its activations are the same at every scale; its gradients differ between scales
# only by an overall factor, set by the scores layer, which is not normalised). The panels of a row share
# their horizontal axis, and each title gives the layer's standard deviation.

# %% locked="init_histograms" tags=["shortened"]
rows = {name: statistics[name, False] for name in scales}
rows["batch norm, Kaiming"] = statistics["Kaiming", True]
shown_layers = scaled(range(1, 9), [1, 8])  # drawing 64 histograms takes a few seconds: grading draws two layers
for what, index in (("activations", 0), ("gradients", 1)):
    _ = plot_layer_histograms(
        {name: pair[index] for name, pair in rows.items()}, f"{what} per layer", layers=shown_layers
    )

# %% [markdown]
# **Question 2.** (a) Derive the Kaiming scale: for a layer $y = Wx$ with $D_{\text{in}}$ inputs, weights
# drawn independently with mean 0 and variance $\sigma_W^2$, and $x = \max(0, z)$ for a pre-activation $z$ of
# the previous layer that is symmetric around 0 with variance $\operatorname{Var}(z)$, show that
# $\operatorname{Var}(y_j) = D_{\text{in}}\, \sigma_W^2\, \operatorname{Var}(z) / 2$, and conclude which
# $\sigma_W$ keeps the variance the same from layer to layer. (b) Explain the tables above: what happens to
# the activations and the gradients of the plain net with too small and too large weights, what does
# that mean for training the early layers? Why do the activations with batch norm look the same at
# every scale, and what happens to its gradients?

# %% [markdown] answer="reading_init_statistics" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# (a) $y_j = \sum_{i=1}^{D_{\text{in}}} W_{ji} x_i$ with independent zero-mean weights, so
# $\operatorname{Var}(y_j) = \sum_i \operatorname{Var}(W_{ji} x_i) = D_{\text{in}} \sigma_W^2 \, \mathbb{E}[x_i^2]$
# (the mean of $W$ is 0, so $\operatorname{Var}(Wx) = \sigma_W^2 \mathbb{E}[x^2]$). For $x = \max(0, z)$ with $z$
# symmetric around 0, $\mathbb{E}[x^2] = \tfrac{1}{2}\mathbb{E}[z^2] = \tfrac{1}{2}\operatorname{Var}(z)$: the ReLU
# keeps half of the second moment. Hence $\operatorname{Var}(y_j) = D_{\text{in}}\sigma_W^2 \operatorname{Var}(z)/2$,
# which equals $\operatorname{Var}(z)$ when $\sigma_W^2 = 2/D_{\text{in}}$, i.e. $\sigma_W = \sqrt{2/D_{\text{in}}}$.
#
# (b) With 0.01 each layer multiplies the spread by about $0.01\sqrt{256/2} \approx 0.11$, so after eight
# layers the activations are about $10^{-7}$ of the input's and the scores are almost 0; on the way back
# the gradient is multiplied by the same small factors, so the first layers get gradients thousands of
# times smaller than the last: they hardly learn (and the tiny activations make every weight gradient
# tiny too). With 0.2 each layer multiplies by about $0.2\sqrt{128} \approx 2.3$: activations explode, the
# softmax saturates, and the gradients grow towards the first layers, so updates are huge and unstable
# (the loss explodes). Kaiming's scale keeps the product of factors at 1, so every layer sees numbers of
# the same size. Batch norm divides every pre-activation by its batch standard deviation, which cancels
# any scaling of $W$ (normalising $cWx$ gives the same result as normalising $Wx$), so the activations are
# zero-mean, unit-variance Gaussians before every ReLU whatever the scale; its backward pass divides by
# the same standard deviation, so the gradient keeps its size from layer to layer (within a small factor)
# at every scale, and only its overall size depends on the scores layer, which is not normalised.
# ### END SOLUTION

# %% [markdown]
# ## A deep network with and without batch normalization
#
# Two six-layer networks (five hidden layers of 100) are trained with Adam on the same 1000 images, one
# plain and one with batch norm, from the same small initial weights (`weight_scale = 5e-3`). Without
# normalization every layer shrinks the signal (each hidden layer multiplies its scale by about
# $\sqrt{100/2} \cdot 0.005 \approx 0.035$), so the scores and the gradients of the early layers are tiny and
# the plain network hardly moves for the first epochs. Batch norm rescales every layer's activations to
# unit variance whatever the weights' scale: "more robust to initialization", as the lecture says. After
# eight epochs the network with batch norm has a lower training loss and a higher validation accuracy.

# %% locked="train_deep_nets"
from cs_lib.classifiers.fc_net import FullyConnectedNet
from cs_lib.solver import Solver

small_data = {
    "X_train": data["X_train"][:1000],
    "y_train": data["y_train"][:1000],
    "X_val": data["X_val"][:1000],
    "y_val": data["y_val"][:1000],
}


def train(normalization, hidden_dims, weight_scale, batch_size, num_epochs, training_data=small_data):
    model = FullyConnectedNet(hidden_dims, normalization=normalization, weight_scale=weight_scale, seed=0)
    solver = Solver(
        model,
        training_data,
        update_rule="adam",
        optim_config={"learning_rate": 1e-3},
        num_epochs=num_epochs,
        batch_size=batch_size,
        num_train_samples=500,
        verbose=False,
        seed=0,
    )
    started = time.perf_counter()
    solver.train()
    solver.final_loss = float(np.mean(solver.loss_history[-20:]))
    print(
        f"{normalization or 'no normalization'}, weight scale {weight_scale:g}, batch size {batch_size}: "
        f"best validation accuracy {solver.best_val_acc:.3f}, final training loss {solver.final_loss:.3f} "
        f"({time.perf_counter() - started:.1f} s)"
    )
    return solver


solvers = {}
for normalization in ("batchnorm", None):
    label = normalization or "no normalization"
    solvers[label] = train(normalization, [100] * 5, weight_scale=5e-3, batch_size=50, num_epochs=8)
_ = show_effect(
    solvers["batchnorm"].best_val_acc > solvers["no normalization"].best_val_acc
    and solvers["batchnorm"].final_loss < solvers["no normalization"].final_loss,
    "the network with batch norm ends with a lower training loss and a higher validation accuracy than the plain one",
)

# %% locked="plot_deep_nets"
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for label, solver in solvers.items():
    axes[0].plot(solver.loss_history, ".", alpha=0.4, label=label)
    axes[1].plot(solver.train_acc_history, "-o", label=label)
    axes[2].plot(solver.val_acc_history, "-o", label=label)
for ax, title, xlabel in zip(
    axes, ("training loss", "training accuracy", "validation accuracy"), ("iteration", "epoch", "epoch")
):
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Batch norm and the weight scale: a sweep
#
# CS231n's experiment: train an eight-layer network (seven hidden layers of 50) with and without batch
# norm for a range of weight scales from $10^{-4}$ to $1$ (one scale for all layers, `weight_scale`), and
# plot the best validation accuracy, the best training accuracy and the final training loss against the
# scale. The full run trains nine scales for eight epochs on 1000 images; a grading run trains the two
# extreme scales for ten epochs on 300, which is enough for the two effects the cell checks: with the
# smallest weights the plain network does not learn at all (its loss stays at $\log 10 \approx 2.30$)
# while the one with batch norm does, and with the largest weights the plain network's loss explodes
# while batch norm's stays moderate. The dotted lines mark the Kaiming scale of the first layer ($\sqrt{2/3072}$) and
# of the hidden layers ($\sqrt{2/50}$).

# %% locked="weight_scale_sweep"
weight_scales = scaled(np.logspace(-4, 0, 9), np.array([1e-4, 1.0]))
sweep_size = scaled(1000, 300)
sweep_data = {key: data[key][:sweep_size] for key in ("X_train", "y_train")}
sweep_data |= {key: data[key][: scaled(1000, 200)] for key in ("X_val", "y_val")}
scale_sweep = {}
for normalization in ("batchnorm", None):
    for weight_scale in weight_scales:
        scale_sweep[normalization, weight_scale] = train(
            normalization, [50] * 7, float(weight_scale), 50, scaled(8, 10), training_data=sweep_data
        )

fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for normalization, label in (("batchnorm", "batch norm"), (None, "no normalization")):
    runs = [scale_sweep[normalization, weight_scale] for weight_scale in weight_scales]
    axes[0].semilogx(weight_scales, [run.best_val_acc for run in runs], "-o", label=label)
    axes[1].semilogx(weight_scales, [max(run.train_acc_history) for run in runs], "-o", label=label)
    axes[2].loglog(weight_scales, [run.final_loss for run in runs], "-o", label=label)
for ax, title in zip(axes, ("best validation accuracy", "best training accuracy", "final training loss")):
    for kaiming_scale in (np.sqrt(2 / 3072), np.sqrt(2 / 50)):
        ax.axvline(kaiming_scale, color="gray", linestyle=":")
    ax.set_title(title)
    ax.set_xlabel("weight scale")
    ax.legend()
fig.tight_layout()

smallest, largest = weight_scales[0], weight_scales[-1]
_ = show_effect(
    scale_sweep[None, smallest].final_loss > 2.29 and scale_sweep["batchnorm", smallest].final_loss < 2.25,
    f"with the smallest weights ({smallest:g}) the plain network's loss stays at log 10 while batch norm's falls "
    "below 2.25",
)
_ = show_effect(
    scale_sweep[None, largest].final_loss > 100 and scale_sweep["batchnorm", largest].final_loss < 10,
    f"with the largest weights ({largest:g}) the plain network's loss explodes while batch norm's stays below 10",
)

# %% [markdown]
# **Question 3.** Describe the sweep (after the full run): how does the weight scale affect the networks
# with and without batch norm differently, and why? Use what the activation statistics above showed.

# %% [markdown] answer="reading_weight_scale_sweep" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# Without batch norm only a narrow band of scales near the Kaiming values (about $10^{-2}$ to $10^{-1}$)
# trains. Below it the activations and gradients vanish through the seven layers (as in the statistics
# above): the scores are almost zero, the loss stays at $\log 10$ and the accuracy at chance. Above it
# they explode: the softmax saturates, the loss becomes enormous ($10^3$ to $10^7$) and the accuracy falls
# back to chance. With batch norm the network trains at every scale from $10^{-4}$ to $10^{-1}$ with similar
# accuracy, because every hidden layer's pre-activations are renormalised to zero mean and unit variance
# whatever the scale of $W$, and the backward pass rescales the gradients by the same factor. It is not
# immune at the largest scales: the scores layer is not normalised, so weights of size 1 give huge,
# saturated scores, and since a normalised layer's output does not depend on the length of its weights,
# Adam's fixed-size steps (learning rate $10^{-3}$) barely change the direction of weights that large, so
# the network learns very slowly. Batch norm makes training far less sensitive to the initial scale, as
# the lecture says, without making a sensible scale unnecessary.
# ### END SOLUTION

# %% [markdown]
# ## How much does batch norm depend on the batch size?
#
# Batch norm's statistics come from the batch, so small batches give noisy means and variances, and the
# test-time running averages match training less well. Layer norm never looks across examples. A
# network with three hidden layers is trained with batch norm and with layer norm for batch sizes 5, 10
# and 50 (the same four epochs each, so small batches take more steps). In the full run, batch norm with
# batches of 5 ends with a clearly lower validation accuracy than with batches of 50, and below layer
# norm with batches of 5. (A grading run trains too briefly to show this; its output is replaced by a
# note in your feedback.)

# %% locked="batch_size_sweep" tags=["shortened"]
batch_sizes = scaled([5, 10, 50], [5, 50])
batch_data = {key: value[: scaled(1000, 300)] for key, value in small_data.items()}
sweep = {}
for normalization in ("batchnorm", "layernorm"):
    for batch_size in batch_sizes:
        sweep[normalization, batch_size] = train(
            normalization, [100] * 3, 2e-2, batch_size, scaled(4, 1), training_data=batch_data
        )

fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for ax, normalization in zip(axes, ("batchnorm", "layernorm")):
    for batch_size in batch_sizes:
        ax.plot(sweep[normalization, batch_size].val_acc_history, "-o", label=f"batch size {batch_size}")
    ax.set_title(f"{normalization}: validation accuracy")
    ax.set_xlabel("epoch")
    ax.legend()
fig.tight_layout()
if not ENV.grading:  # one epoch is too short to show it: a grading run claims nothing here
    _ = show_effect(
        sweep["batchnorm", 5].best_val_acc < sweep["batchnorm", 50].best_val_acc - 0.05
        and sweep["batchnorm", 5].best_val_acc < sweep["layernorm", 5].best_val_acc,
        "batch norm with batches of 5 ends below batch norm with batches of 50, and below layer norm with batches of 5",
    )

# %% [markdown]
# ## Spatial batch normalization
#
# For a conv layer's activations $x$ of shape $N \times C \times H \times W$ we want each channel to stay one
# feature: every position of a filter's output map is one more example of the same feature. So spatial
# batch norm takes one mean and one variance **per channel, over $N$, $H$ and $W$**, with $\gamma, \beta$
# of shape $(C,)$ and running statistics of shape $(C,)$.
#
# **Implement `spatial_batchnorm_forward` and `spatial_batchnorm_backward`** by reshaping to an
# $(N \cdot H \cdot W) \times C$ matrix and calling your `batchnorm_forward` and `batchnorm_backward_alt`. Careful:
# `x.reshape(-1, C)` alone mixes channels; move the channel axis last first.

# %% test="spatial_batchnorm_forward" points=2
import numpy as np

from cs_lib.checks import check_rel_error
from cs_lib.normalization import spatial_batchnorm_forward

rng = np.random.default_rng(47)
N, C, H, W = 3, 4, 5, 6
x = rng.normal(size=(N, C, H, W)) * rng.uniform(1.0, 5.0, size=(1, C, 1, 1)) + rng.normal(0, 3, (1, C, 1, 1))
gamma = rng.uniform(0.5, 2.0, size=C)
beta = rng.normal(size=C)
bn_param = {"mode": "train"}
out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)

expected = np.empty_like(x)
for c in range(C):
    values = x[:, c, :, :]
    mean = values.sum() / values.size
    var = ((values - mean) ** 2).sum() / values.size
    expected[:, c] = gamma[c] * (values - mean) / np.sqrt(var + 1e-5) + beta[c]
error = check_rel_error(out, expected, "spatial_batchnorm_forward", tol=1e-8)
print(f"train-mode error: {error:.2e}")
check_rel_error(bn_param["running_mean"], 0.1 * x.mean(axis=(0, 2, 3)), "running_mean after one step", tol=1e-8)
check_rel_error(bn_param["running_var"], 0.1 * x.var(axis=(0, 2, 3)), "running_var after one step", tol=1e-8)

bn_param["mode"] = "test"
x_test = rng.normal(2.0, 1.0, size=(2, C, H, W))
out, _ = spatial_batchnorm_forward(x_test, gamma, beta, bn_param)
scale = (gamma / np.sqrt(bn_param["running_var"] + 1e-5))[None, :, None, None]
expected = (x_test - bn_param["running_mean"][None, :, None, None]) * scale + beta[None, :, None, None]
error = check_rel_error(out, expected, "spatial_batchnorm_forward (test mode)", tol=1e-8)
print(f"test-mode error: {error:.2e}")
### BEGIN HIDDEN TESTS
N, C, H, W = 2, 3, 4, 7
running_mean, running_var = rng.normal(size=C), rng.uniform(0.5, 2.0, size=C)
gamma, beta = rng.normal(size=C), rng.normal(size=C)
bn_param = {"mode": "train", "momentum": 0.8, "running_mean": running_mean.copy(), "running_var": running_var.copy()}
x = rng.normal(1.0, 3.0, size=(N, C, H, W))
out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
expected = gamma[:, None, None] * (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5) + beta[:, None, None]
check_rel_error(out, expected, "spatial_batchnorm_forward (H != W, momentum 0.8)", tol=1e-8)
expected_mean = 0.8 * running_mean + 0.2 * mean
expected_var = 0.8 * running_var + 0.2 * var  # biased: divided by N*H*W
check_rel_error(bn_param["running_mean"], expected_mean, "spatial running_mean", tol=1e-8)
check_rel_error(bn_param["running_var"], expected_var, "spatial running_var", tol=1e-8)
bn_param["mode"] = "test"
x = rng.normal(-5.0, 1.0, size=(1, C, H, W))
out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
scale = gamma / np.sqrt(expected_var + 1e-5)
expected = scale[:, None, None] * (x - expected_mean[:, None, None]) + beta[:, None, None]
check_rel_error(out, expected, "spatial_batchnorm_forward (test mode, one image)", tol=1e-8)
print("spatial batch norm with H != W and custom momentum agrees")
### END HIDDEN TESTS

# %% test="spatial_batchnorm_backward" points=2
import numpy as np

from cs_lib.checks import check_rel_error
from cs_lib.gradient_check import eval_numerical_gradient_array
from cs_lib.normalization import spatial_batchnorm_backward, spatial_batchnorm_forward

rng = np.random.default_rng(48)
N, C, H, W = 2, 3, 4, 5
x = rng.normal(3.0, 2.0, size=(N, C, H, W))
gamma = rng.normal(1.0, 0.5, size=C)
beta = rng.normal(size=C)
dout = rng.normal(size=(N, C, H, W))
bn_param = {"mode": "train"}

_, cache = spatial_batchnorm_forward(x, gamma, beta, bn_param)
dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)
forward = spatial_batchnorm_forward
dx_num = eval_numerical_gradient_array(lambda v: forward(v, gamma, beta, bn_param)[0], x, dout)
dgamma_num = eval_numerical_gradient_array(lambda v: forward(x, v, beta, bn_param)[0], gamma, dout)
dbeta_num = eval_numerical_gradient_array(lambda v: forward(x, gamma, v, bn_param)[0], beta, dout)
error = check_rel_error(dx, dx_num, "spatial_batchnorm_backward dx", tol=1e-6)
print(f"dx error: {error:.2e}")
error = check_rel_error(dgamma, dgamma_num, "spatial_batchnorm_backward dgamma", tol=1e-6)
print(f"dgamma error: {error:.2e}")
error = check_rel_error(dbeta, dbeta_num, "spatial_batchnorm_backward dbeta", tol=1e-6)
print(f"dbeta error: {error:.2e}")
### BEGIN HIDDEN TESTS
N, C, H, W = 4, 2, 3, 6
x = rng.normal(-1.0, 4.0, size=(N, C, H, W))
gamma, beta = rng.normal(size=C), rng.normal(size=C)
dout = rng.normal(size=(N, C, H, W))
bn_param = {"mode": "train"}
_, cache = spatial_batchnorm_forward(x, gamma, beta, bn_param)
dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)


# numerical gradients of the normalization written out here, not of the forward pass being judged
def written_out(v):
    return (
        gamma[None, :, None, None]
        * (v - v.mean(axis=(0, 2, 3), keepdims=True))
        / np.sqrt(v.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
        + beta[None, :, None, None]
    )


dx_num = eval_numerical_gradient_array(written_out, x, dout)
check_rel_error(dx, dx_num, "spatial_batchnorm_backward dx (H != W)", tol=1e-6)
x_hat = (x - x.mean(axis=(0, 2, 3), keepdims=True)) / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
check_rel_error(dgamma, np.sum(dout * x_hat, axis=(0, 2, 3)), "spatial_batchnorm_backward dgamma", tol=1e-8)
check_rel_error(dbeta, dout.sum(axis=(0, 2, 3)), "spatial_batchnorm_backward dbeta", tol=1e-8)
print("spatial batch norm gradients with H != W agree")
### END HIDDEN TESTS

# %% [markdown]
# ## Layer normalization
#
# Layer norm turns batch norm sideways: each example is normalized over its own $D$ features,
#
# $$\mu_i = \frac{1}{D}\sum_{j=1}^{D} x_{i,j}, \qquad \sigma_i^2 = \frac{1}{D}\sum_{j=1}^{D}(x_{i,j} - \mu_i)^2, \qquad
# y_{i,j} = \gamma_j\,\frac{x_{i,j} - \mu_i}{\sqrt{\sigma_i^2 + \epsilon}} + \beta_j ,$$
#
# with $\gamma, \beta$ still of shape $(D,)$, one per feature. Nothing depends on the other examples, so
# there are no running averages and train and test mode are the same. `ln_param` holds only `eps`.
#
# **Implement `layernorm_forward` and `layernorm_backward`**; the backward pass is the closed form above
# with the means taken over each row.

# %% test="layernorm_forward" points=2
import numpy as np

from cs_lib.checks import check_close, check_rel_error
from cs_lib.normalization import layernorm_forward

rng = np.random.default_rng(49)
N, D = 4, 7
x = rng.normal(size=(N, D)) * rng.uniform(0.5, 5.0, size=(N, 1)) + rng.normal(0.0, 4.0, size=(N, 1))
gamma = rng.uniform(0.5, 2.0, size=D)
beta = rng.normal(size=D)
out, _ = layernorm_forward(x, gamma, beta, {})

expected = np.empty((N, D))
for i in range(N):
    row = x[i]
    mean = sum(row) / D
    var = sum((value - mean) ** 2 for value in row) / D
    expected[i] = gamma * (row - mean) / np.sqrt(var + 1e-5) + beta
error = check_rel_error(out, expected, "layernorm_forward", tol=1e-8)
print(f"layer norm error: {error:.2e}")
plain, _ = layernorm_forward(x, np.ones(D), np.zeros(D), {})
check_close(plain.mean(axis=1), np.zeros(N), "per-example means (gamma 1, beta 0)", atol=1e-8)
check_close(plain.std(axis=1), np.ones(N), "per-example stds (gamma 1, beta 0)", rtol=1e-4)
### BEGIN HIDDEN TESTS
N, D = 1, 9  # one example: layer norm does not need a batch
x = rng.normal(3.0, 2.0, size=(N, D))
gamma, beta = rng.normal(size=D), rng.normal(size=D)
out, _ = layernorm_forward(x, gamma, beta, {"eps": 1e-3})
expected = gamma * (x - x.mean()) / np.sqrt(x.var() + 1e-3) + beta
check_rel_error(out, expected, "layernorm_forward (N = 1, eps 1e-3)", tol=1e-8)
N, D = 6, 5  # rows of very different scales: each row gets its own statistics
x = rng.normal(size=(N, D)) * rng.uniform(0.1, 10.0, size=(N, 1))
gamma, beta = rng.normal(size=D), rng.normal(size=D)
out, _ = layernorm_forward(x, gamma, beta, {})
expected = gamma * (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + 1e-5) + beta
check_rel_error(out, expected, "layernorm_forward (rows of different scales)", tol=1e-8)
check_rel_error(layernorm_forward(x[2:3], gamma, beta, {})[0], out[2:3], "layernorm_forward of one row alone", tol=1e-8)
print("layer norm of one example and of rows of different scales agrees")
### END HIDDEN TESTS

# %% test="layernorm_backward" points=2
import numpy as np

from cs_lib.checks import check_rel_error
from cs_lib.gradient_check import eval_numerical_gradient_array
from cs_lib.normalization import layernorm_backward, layernorm_forward

rng = np.random.default_rng(50)
N, D = 4, 6
x = rng.normal(1.0, 2.0, size=(N, D))
gamma = rng.normal(1.0, 0.5, size=D)
beta = rng.normal(size=D)
dout = rng.normal(size=(N, D))

_, cache = layernorm_forward(x, gamma, beta, {})
dx, dgamma, dbeta = layernorm_backward(dout, cache)
dx_num = eval_numerical_gradient_array(lambda v: layernorm_forward(v, gamma, beta, {})[0], x, dout)
dgamma_num = eval_numerical_gradient_array(lambda v: layernorm_forward(x, v, beta, {})[0], gamma, dout)
dbeta_num = eval_numerical_gradient_array(lambda v: layernorm_forward(x, gamma, v, {})[0], beta, dout)
error = check_rel_error(dx, dx_num, "layernorm_backward dx", tol=1e-6)
print(f"dx error: {error:.2e}")
error = check_rel_error(dgamma, dgamma_num, "layernorm_backward dgamma", tol=1e-6)
print(f"dgamma error: {error:.2e}")
error = check_rel_error(dbeta, dbeta_num, "layernorm_backward dbeta", tol=1e-6)
print(f"dbeta error: {error:.2e}")
### BEGIN HIDDEN TESTS
N, D = 7, 11
x = rng.normal(-2.0, 0.3, size=(N, D))
gamma, beta = rng.normal(size=D), rng.normal(size=D)
dout = rng.normal(1.0, 1.0, size=(N, D))
ln_param = {"eps": 1e-4}
_, cache = layernorm_forward(x, gamma, beta, ln_param)
dx, dgamma, dbeta = layernorm_backward(dout, cache)


# numerical gradients of the normalization written out here, not of the forward pass being judged
def written_out(v):
    return gamma * (v - v.mean(axis=1, keepdims=True)) / np.sqrt(v.var(axis=1, keepdims=True) + 1e-4) + beta


dx_num = eval_numerical_gradient_array(written_out, x, dout)
check_rel_error(dx, dx_num, "layernorm_backward dx (N = 7, D = 11, eps 1e-4)", tol=1e-6)
x_hat = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + 1e-4)
check_rel_error(dgamma, np.sum(dout * x_hat, axis=0), "layernorm_backward dgamma", tol=1e-8)
check_rel_error(dbeta, dout.sum(axis=0), "layernorm_backward dbeta", tol=1e-8)
print("layer norm gradients with N != D agree")
### END HIDDEN TESTS

# %% [markdown]
# ## Instance normalization
#
# Instance norm takes one mean and variance per example **and** channel, over the $H \times W$ positions of
# that channel's map (`in_param` holds `eps`; $\gamma, \beta$ have shape $(C,)$):
#
# $$\mu_{n,c} = \frac{1}{HW}\sum_{h,w} x_{n,c,h,w}, \qquad
# y_{n,c,h,w} = \gamma_c\,\frac{x_{n,c,h,w} - \mu_{n,c}}{\sqrt{\sigma_{n,c}^2 + \epsilon}} + \beta_c .$$
#
# It removes each image's own contrast per channel, which style-transfer networks want.
# **Implement `spatial_instancenorm_forward` and `spatial_instancenorm_backward`.**

# %% test="instancenorm_forward" points=2
import numpy as np

from cs_lib.checks import check_rel_error
from cs_lib.normalization import spatial_instancenorm_forward

rng = np.random.default_rng(51)
N, C, H, W = 2, 3, 4, 5
x = rng.normal(size=(N, C, H, W)) * rng.uniform(0.5, 4.0, size=(N, C, 1, 1)) + rng.normal(0, 3, (N, C, 1, 1))
gamma = rng.uniform(0.5, 2.0, size=C)
beta = rng.normal(size=C)
out, _ = spatial_instancenorm_forward(x, gamma, beta, {})

expected = np.empty_like(x)
for n in range(N):
    for c in range(C):
        plane = x[n, c]
        mean = plane.sum() / plane.size
        var = ((plane - mean) ** 2).sum() / plane.size
        expected[n, c] = gamma[c] * (plane - mean) / np.sqrt(var + 1e-5) + beta[c]
error = check_rel_error(out, expected, "spatial_instancenorm_forward", tol=1e-8)
print(f"instance norm error: {error:.2e}")
### BEGIN HIDDEN TESTS
N, C, H, W = 1, 4, 3, 7
x = rng.normal(2.0, 3.0, size=(N, C, H, W))
gamma, beta = rng.normal(size=C), rng.normal(size=C)
out, _ = spatial_instancenorm_forward(x, gamma, beta, {"eps": 1e-3})
x_hat = (x - x.mean(axis=(2, 3), keepdims=True)) / np.sqrt(x.var(axis=(2, 3), keepdims=True) + 1e-3)
expected = gamma[:, None, None] * x_hat + beta[:, None, None]
check_rel_error(out, expected, "spatial_instancenorm_forward (N = 1, H != W, eps 1e-3)", tol=1e-8)
print("instance norm of one image with H != W agrees")
### END HIDDEN TESTS

# %% test="instancenorm_backward" points=2
import numpy as np

from cs_lib.checks import check_rel_error
from cs_lib.gradient_check import eval_numerical_gradient_array
from cs_lib.normalization import spatial_instancenorm_backward, spatial_instancenorm_forward

rng = np.random.default_rng(52)
N, C, H, W = 2, 3, 3, 4
x = rng.normal(-1.0, 2.0, size=(N, C, H, W))
gamma = rng.normal(1.0, 0.5, size=C)
beta = rng.normal(size=C)
dout = rng.normal(size=(N, C, H, W))

_, cache = spatial_instancenorm_forward(x, gamma, beta, {})
dx, dgamma, dbeta = spatial_instancenorm_backward(dout, cache)
forward = spatial_instancenorm_forward
dx_num = eval_numerical_gradient_array(lambda v: forward(v, gamma, beta, {})[0], x, dout)
dgamma_num = eval_numerical_gradient_array(lambda v: forward(x, v, beta, {})[0], gamma, dout)
dbeta_num = eval_numerical_gradient_array(lambda v: forward(x, gamma, v, {})[0], beta, dout)
error = check_rel_error(dx, dx_num, "spatial_instancenorm_backward dx", tol=1e-6)
print(f"dx error: {error:.2e}")
error = check_rel_error(dgamma, dgamma_num, "spatial_instancenorm_backward dgamma", tol=1e-6)
print(f"dgamma error: {error:.2e}")
error = check_rel_error(dbeta, dbeta_num, "spatial_instancenorm_backward dbeta", tol=1e-6)
print(f"dbeta error: {error:.2e}")
### BEGIN HIDDEN TESTS
N, C, H, W = 3, 2, 5, 4
x = rng.normal(4.0, 0.5, size=(N, C, H, W))
gamma, beta = rng.normal(size=C), rng.normal(size=C)
dout = rng.normal(-1.0, 1.0, size=(N, C, H, W))
_, cache = spatial_instancenorm_forward(x, gamma, beta, {})
dx, dgamma, dbeta = spatial_instancenorm_backward(dout, cache)


# numerical gradients of the normalization written out here, not of the forward pass being judged
def written_out(v):
    return (
        gamma[None, :, None, None]
        * (v - v.mean(axis=(2, 3), keepdims=True))
        / np.sqrt(v.var(axis=(2, 3), keepdims=True) + 1e-5)
        + beta[None, :, None, None]
    )


dx_num = eval_numerical_gradient_array(written_out, x, dout)
check_rel_error(dx, dx_num, "spatial_instancenorm_backward dx (H != W)", tol=1e-6)
x_hat = (x - x.mean(axis=(2, 3), keepdims=True)) / np.sqrt(x.var(axis=(2, 3), keepdims=True) + 1e-5)
check_rel_error(dgamma, np.sum(dout * x_hat, axis=(0, 2, 3)), "spatial_instancenorm_backward dgamma", tol=1e-8)
check_rel_error(dbeta, dout.sum(axis=(0, 2, 3)), "spatial_instancenorm_backward dbeta", tol=1e-8)
print("instance norm gradients with H != W agree")
### END HIDDEN TESTS

# %% [markdown]
# ## Group normalization
#
# Group norm sits between layer and instance norm: the $C$ channels are split into $G$ groups of $C/G$
# consecutive channels (channels $g \cdot C/G, \dots, (g+1) \cdot C/G - 1$ form group $g$), and each example's
# group is normalized over its $C/G \cdot H \cdot W$ entries. With $G = 1$ it is layer norm over $(C, H, W)$;
# with $G = C$ it is instance norm. The scale and shift stay per channel, with CS231n's shape
# $\gamma, \beta$: $(1, C, 1, 1)$, ready to broadcast against $x$. `G` must divide `C`; the function says so
# clearly when it does not (try `G = 4` with `C = 6`).
#
# Example: $N = 2$ images with $C = 32$ channels of $8 \times 8$ and $G = 8$ give $2 \cdot 8 = 16$ means, each over
# $4 \cdot 8 \cdot 8 = 256$ numbers. Viewing $x$ as an $N \times G \times (C/G \cdot H \cdot W)$ array makes this one
# mean over the last axis. **Implement `spatial_groupnorm_forward` and `spatial_groupnorm_backward`.**

# %% test="groupnorm_forward" points=3
import numpy as np

from cs_lib.checks import check_raises, check_rel_error, check_true
from cs_lib.normalization import spatial_groupnorm_forward

rng = np.random.default_rng(53)
N, C, H, W, G = 2, 6, 3, 4, 3
x = rng.normal(size=(N, C, H, W)) * rng.uniform(0.5, 4.0, size=(N, C, 1, 1)) + rng.normal(0, 3, (N, C, 1, 1))
gamma = rng.uniform(0.5, 2.0, size=(1, C, 1, 1))
beta = rng.normal(size=(1, C, 1, 1))
out, _ = spatial_groupnorm_forward(x, gamma, beta, G, {})

expected = np.empty_like(x)
size = C // G
for n in range(N):
    for g in range(G):
        block = x[n, g * size : (g + 1) * size]
        mean = block.sum() / block.size
        var = ((block - mean) ** 2).sum() / block.size
        expected[n, g * size : (g + 1) * size] = (block - mean) / np.sqrt(var + 1e-5)
expected = gamma * expected + beta
error = check_rel_error(out, expected, "spatial_groupnorm_forward", tol=1e-8)
print(f"group norm error: {error:.2e}")

# G = 1: layer norm over (C, H, W); G = C: instance norm over (H, W)
ones, zeros = np.ones((1, C, 1, 1)), np.zeros((1, C, 1, 1))
flat = x.reshape(N, -1)
layer_normed = (flat - flat.mean(axis=1, keepdims=True)) / np.sqrt(flat.var(axis=1, keepdims=True) + 1e-5)
check_rel_error(
    spatial_groupnorm_forward(x, ones, zeros, 1, {})[0],
    layer_normed.reshape(x.shape),
    "spatial_groupnorm_forward with G = 1 (layer norm over C, H, W)",
    tol=1e-8,
)
instance_normed = (x - x.mean(axis=(2, 3), keepdims=True)) / np.sqrt(x.var(axis=(2, 3), keepdims=True) + 1e-5)
check_rel_error(
    spatial_groupnorm_forward(x, ones, zeros, C, {})[0],
    instance_normed,
    "spatial_groupnorm_forward with G = C (instance norm)",
    tol=1e-8,
)

error = check_raises(ValueError, spatial_groupnorm_forward, x, ones, zeros, 4, {}, name="G = 4 with C = 6")
check_true("4" in str(error) and "6" in str(error), f"the error should name G = 4 and C = 6, got: {error}")
check_raises(
    ValueError,
    spatial_groupnorm_forward,
    x,
    np.ones(C),
    np.zeros(C),
    G,
    {},
    name="gamma of shape (C,) instead of (1, C, 1, 1)",
)
print("G = 1, G = C and the errors behave")
### BEGIN HIDDEN TESTS
N, C, H, W = 3, 8, 2, 5
x = rng.normal(1.0, 2.0, size=(N, C, H, W)) * rng.uniform(0.5, 3.0, size=(1, C, 1, 1))
gamma, beta = rng.normal(size=(1, C, 1, 1)), rng.normal(size=(1, C, 1, 1))
for G in (1, 2, 4, 8):
    out, _ = spatial_groupnorm_forward(x, gamma, beta, G, {"eps": 1e-3})
    groups = x.reshape(N, G, C // G, H, W)  # consecutive channels form a group
    mean = groups.mean(axis=(2, 3, 4), keepdims=True)
    var = groups.var(axis=(2, 3, 4), keepdims=True)
    expected = gamma * ((groups - mean) / np.sqrt(var + 1e-3)).reshape(x.shape) + beta
    check_rel_error(out, expected, f"spatial_groupnorm_forward, G = {G}, eps 1e-3", tol=1e-8)
error = check_raises(ValueError, spatial_groupnorm_forward, x, gamma, beta, 3, {}, name="G = 3 with C = 8")
check_true("3" in str(error) and "8" in str(error), f"the error should name G = 3 and C = 8, got: {error}")
check_raises(ValueError, spatial_groupnorm_forward, x, gamma, beta[:, :4], 4, {}, name="beta with 4 channels")
print("group norm agrees for G = 1, 2, 4, 8")
### END HIDDEN TESTS

# %% test="groupnorm_backward" points=2
import numpy as np

from cs_lib.checks import check_rel_error, check_shape
from cs_lib.gradient_check import eval_numerical_gradient_array
from cs_lib.normalization import spatial_groupnorm_backward, spatial_groupnorm_forward

rng = np.random.default_rng(54)
N, C, H, W, G = 2, 6, 3, 3, 2
x = rng.normal(2.0, 3.0, size=(N, C, H, W))
gamma = rng.normal(1.0, 0.5, size=(1, C, 1, 1))
beta = rng.normal(size=(1, C, 1, 1))
dout = rng.normal(size=(N, C, H, W))

_, cache = spatial_groupnorm_forward(x, gamma, beta, G, {})
dx, dgamma, dbeta = spatial_groupnorm_backward(dout, cache)
check_shape(dgamma, (1, C, 1, 1), "dgamma")
check_shape(dbeta, (1, C, 1, 1), "dbeta")
forward = spatial_groupnorm_forward
dx_num = eval_numerical_gradient_array(lambda v: forward(v, gamma, beta, G, {})[0], x, dout)
dgamma_num = eval_numerical_gradient_array(lambda v: forward(x, v, beta, G, {})[0], gamma, dout)
dbeta_num = eval_numerical_gradient_array(lambda v: forward(x, gamma, v, G, {})[0], beta, dout)
error = check_rel_error(dx, dx_num, "spatial_groupnorm_backward dx", tol=1e-6)
print(f"dx error: {error:.2e}")
error = check_rel_error(dgamma, dgamma_num, "spatial_groupnorm_backward dgamma", tol=1e-6)
print(f"dgamma error: {error:.2e}")
error = check_rel_error(dbeta, dbeta_num, "spatial_groupnorm_backward dbeta", tol=1e-6)
print(f"dbeta error: {error:.2e}")
### BEGIN HIDDEN TESTS
N, C, H, W = 3, 8, 4, 2
x = rng.normal(-2.0, 0.5, size=(N, C, H, W))
gamma, beta = rng.normal(size=(1, C, 1, 1)), rng.normal(size=(1, C, 1, 1))
dout = rng.normal(1.0, 1.0, size=(N, C, H, W))


# numerical gradients of the normalization written out here, not of the forward pass being judged
def written_out(v, G):
    groups = v.reshape(N, G, -1)
    normalized = (groups - groups.mean(axis=2, keepdims=True)) / np.sqrt(groups.var(axis=2, keepdims=True) + 1e-5)
    return gamma * normalized.reshape(v.shape) + beta


for G in (1, 4, 8):
    _, cache = spatial_groupnorm_forward(x, gamma, beta, G, {})
    dx, dgamma, dbeta = spatial_groupnorm_backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v, G=G: written_out(v, G), x, dout)
    check_rel_error(dx, dx_num, f"spatial_groupnorm_backward dx, G = {G}", tol=1e-6)
    groups = x.reshape(N, G, -1)
    x_hat = (groups - groups.mean(axis=2, keepdims=True)) / np.sqrt(groups.var(axis=2, keepdims=True) + 1e-5)
    dgamma_expected = np.sum(dout * x_hat.reshape(x.shape), axis=(0, 2, 3), keepdims=True)
    check_rel_error(dgamma, dgamma_expected, f"spatial_groupnorm_backward dgamma, G = {G}", tol=1e-8)
    check_rel_error(dbeta, dout.sum(axis=(0, 2, 3), keepdims=True), f"dbeta, G = {G}", tol=1e-8)
print("group norm gradients agree for G = 1, 4, 8")
### END HIDDEN TESTS

# %% [markdown]
# ## One image, different companions
#
# How much does an image's normalized feature map depend on the *other* images in its batch? Below, a
# fixed random conv layer (8 filters of 3x3) turns images into feature maps; image 0 is put into 12
# batches of random companions, for several batch sizes, and we measure how much its output moves
# (the standard deviation over the 12 batches, averaged over its entries). Batch norm's output depends
# on the companions, less so as batches grow; layer, instance and group norm give image 0 exactly the
# same output every time.

# %% locked="batch_dependence"
from cs_lib.fast_layers import conv_forward_fast
from cs_lib.normalization import (
    spatial_batchnorm_forward,
    spatial_groupnorm_forward,
    spatial_instancenorm_forward,
)

rng = np.random.default_rng(2)
pool = data["X_train"][: scaled(300, 40)]
conv_w = rng.normal(0.0, 1e-2, (8, 3, 3, 3))
features, _ = conv_forward_fast(pool, conv_w, np.zeros(8), {"stride": 1, "pad": 1})
C = features.shape[1]
gamma, beta = np.ones(C), np.zeros(C)  # gamma = 1 and beta = 0: the normalized values themselves
gamma_group, beta_group = gamma.reshape(1, C, 1, 1), beta.reshape(1, C, 1, 1)
layers = {
    "batch norm": lambda f: spatial_batchnorm_forward(f, gamma, beta, {"mode": "train"})[0],
    "layer norm (G = 1)": lambda f: spatial_groupnorm_forward(f, gamma_group, beta_group, 1, {})[0],
    "group norm (G = 4)": lambda f: spatial_groupnorm_forward(f, gamma_group, beta_group, 4, {})[0],
    "instance norm": lambda f: spatial_instancenorm_forward(f, gamma, beta, {})[0],
}
batch_sizes_demo = [2, 4, 8, 16, 32]
num_batches = scaled(12, 3)
spread = {name: [] for name in layers}
for batch_size in batch_sizes_demo:
    companions = [rng.choice(np.arange(1, len(pool)), batch_size - 1, replace=False) for _ in range(num_batches)]
    for name, layer in layers.items():
        outputs = np.stack([layer(features[np.concatenate([[0], others])])[0] for others in companions])
        spread[name].append(outputs.std(axis=0).mean())

fig, ax = plt.subplots(figsize=(7, 4))
for name, values in spread.items():
    ax.plot(batch_sizes_demo, values, "-o", label=name)
ax.set_xscale("log", base=2)
ax.set_xticks(batch_sizes_demo, [str(size) for size in batch_sizes_demo])
ax.set_xlabel("batch size")
ax.set_ylabel("spread of image 0's output")
ax.set_title("how much the rest of the batch moves one image's output")
ax.legend()
fig.tight_layout()
print({name: round(float(values[0]), 4) for name, values in spread.items()}, "at batch size 2")

# %% [markdown]
# ## Folding batch norm into the conv before it
#
# In test mode batch norm is a fixed affine map per channel, so the lecture's "zero overhead at test
# time: can be fused with conv". Take a conv (or affine) layer $a = w * x + b$ followed by test-mode
# batch norm over its output channels, $y = \gamma\,(a - \text{running\_mean}) / \sqrt{\text{running\_var} + \epsilon} + \beta$
# (every operation per output channel). The pair is one layer $y = w_{\text{folded}} * x + b_{\text{folded}}$.
#
# **Question 4 (derivation).** Derive $w_{\text{folded}}$ and $b_{\text{folded}}$ from $w, b, \gamma, \beta$,
# the running statistics and $\epsilon$. Which axis of a conv's `w` of shape $(F, C, HH, WW)$, and which
# of an affine layer's `w` of shape $(D, M)$ (with $a = x w + b$), belongs to the output channels?

# %% [markdown] answer="fold_derivation" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# Per output channel $f$ write $s_f = \gamma_f / \sqrt{\text{running\_var}_f + \epsilon}$. Then
#
# $$y_f = s_f\,(w_f * x + b_f - \text{running\_mean}_f) + \beta_f = (s_f w_f) * x + \big(s_f (b_f - \text{running\_mean}_f) + \beta_f\big),$$
#
# because convolution (and the matrix product) is linear in the weights. So every output channel's
# weights are multiplied by its $s_f$, $w_{\text{folded}, f} = s_f w_f$, and
# $b_{\text{folded}, f} = s_f (b_f - \text{running\_mean}_f) + \beta_f$. The output channels are axis 0 of a
# conv's $(F, C, HH, WW)$ filters (filter $f$ makes channel $f$) and axis 1 of an affine $(D, M)$ weight
# matrix (column $m$ makes output $m$), so $s$ broadcasts as $(F, 1, 1, 1)$ and $(1, M)$ respectively.
# ### END SOLUTION

# %% [markdown]
# **Implement `fold_batchnorm(w, b, gamma, beta, running_mean, running_var, eps)`** in
# `cs_lib/normalization.py` with your result, returning `(w_folded, b_folded)` for conv and affine weights.
# The folded layer must equal the layer followed by test-mode BN to about `1e-6` relative.

# %% test="fold_batchnorm" points=3
import numpy as np

from cs_lib.checks import check_close, check_shape
from cs_lib.fast_layers import conv_forward_fast
from cs_lib.normalization import fold_batchnorm

rng = np.random.default_rng(55)
N, C, H, W, F, HH = 2, 3, 6, 6, 4, 3
x = rng.normal(size=(N, C, H, W))
w = rng.normal(size=(F, C, HH, HH))
b = rng.normal(size=F)
gamma, beta = rng.uniform(0.5, 2.0, size=F), rng.normal(size=F)
running_mean, running_var = rng.normal(size=F), rng.uniform(0.5, 2.0, size=F)
conv_param = {"stride": 1, "pad": 1}

a, _ = conv_forward_fast(x, w, b, conv_param)
channel = (1, F, 1, 1)  # broadcast per-channel numbers against (N, F, H', W')
expected = gamma.reshape(channel) * (a - running_mean.reshape(channel)) / np.sqrt(running_var.reshape(channel) + 1e-5)
expected += beta.reshape(channel)
w_folded, b_folded = fold_batchnorm(w, b, gamma, beta, running_mean, running_var)
check_shape(w_folded, w.shape, "w_folded")
check_shape(b_folded, b.shape, "b_folded")
out, _ = conv_forward_fast(
    x, np.asarray(w_folded, dtype=np.float64), np.asarray(b_folded, dtype=np.float64), conv_param
)
check_close(out, expected, "folded conv vs conv + test-mode batch norm", rtol=1e-6, atol=1e-10)

D, M = 7, 5  # an affine layer x @ w + b, BN over its M outputs
x = rng.normal(size=(N, D))
w, b = rng.normal(size=(D, M)), rng.normal(size=M)
gamma, beta = rng.uniform(0.5, 2.0, size=M), rng.normal(size=M)
running_mean, running_var = rng.normal(size=M), rng.uniform(0.5, 2.0, size=M)
expected = gamma * (x @ w + b - running_mean) / np.sqrt(running_var + 1e-5) + beta
w_folded, b_folded = fold_batchnorm(w, b, gamma, beta, running_mean, running_var)
check_shape(w_folded, (D, M), "w_folded (affine)")
check_close(
    x @ np.asarray(w_folded) + np.asarray(b_folded), expected, "folded affine vs affine + BN", rtol=1e-6, atol=1e-10
)
print("folded layers equal layer + batch norm")
### BEGIN HIDDEN TESTS
from cs_lib.checks import check_raises

N, C, H, W, F, HH = 2, 4, 9, 7, 6, 3
x = rng.normal(size=(N, C, H, W))
w, b = rng.normal(size=(F, C, HH, HH)), rng.normal(size=F)
gamma, beta = rng.normal(size=F), rng.normal(size=F)
running_mean, running_var = rng.normal(3.0, 1.0, size=F), rng.uniform(0.1, 3.0, size=F)
conv_param, eps = {"stride": 2, "pad": 1}, 1e-3
a, _ = conv_forward_fast(x, w, b, conv_param)
channel = (1, F, 1, 1)
expected = gamma.reshape(channel) * (a - running_mean.reshape(channel)) / np.sqrt(running_var.reshape(channel) + eps)
expected += beta.reshape(channel)
w_folded, b_folded = fold_batchnorm(w, b, gamma, beta, running_mean, running_var, eps=eps)
w_folded, b_folded = np.asarray(w_folded, dtype=np.float64), np.asarray(b_folded, dtype=np.float64)
out, _ = conv_forward_fast(x, w_folded, b_folded, conv_param)
check_close(out, expected, "folded conv vs conv + BN (stride 2, pad 1, eps 1e-3)", rtol=1e-6, atol=1e-10)
check_raises(
    ValueError,
    fold_batchnorm,
    w,
    b,
    gamma[:3],
    beta,
    running_mean,
    running_var,
    name="fold_batchnorm with gamma of 3 entries for 6 filters",
)
print("folding with stride 2, pad 1 and eps 1e-3 agrees")
### END HIDDEN TESTS

# %% [markdown]
# The timing: conv followed by test-mode spatial batch norm against the one folded conv, on a batch of
# images from the dataset.

# %% locked="folding_timing"
from cs_lib.normalization import fold_batchnorm, spatial_batchnorm_forward

rng = np.random.default_rng(3)
images = data["X_val"][: scaled(32, 8)]
F_filters = 32
w = rng.normal(0.0, 1e-2, (F_filters, 3, 3, 3))
b = rng.normal(size=F_filters)
bn_param = {
    "mode": "test",
    "running_mean": rng.normal(size=F_filters),
    "running_var": rng.uniform(0.5, 2.0, size=F_filters),
}
gamma, beta = rng.uniform(0.5, 2.0, size=F_filters), rng.normal(size=F_filters)
conv_param = {"stride": 1, "pad": 1}


def conv_then_bn():
    a, _ = conv_forward_fast(images, w, b, conv_param)
    return spatial_batchnorm_forward(a, gamma, beta, bn_param)[0]


w_folded, b_folded = fold_batchnorm(w, b, gamma, beta, bn_param["running_mean"], bn_param["running_var"])


def folded_conv():
    return conv_forward_fast(images, w_folded, b_folded, conv_param)[0]


repeats = scaled(5, 2)
unfolded_time, folded_time = best_time(conv_then_bn, repeats), best_time(folded_conv, repeats)
print(f"largest relative difference: {rel_error(folded_conv(), conv_then_bn()):.2e}")
print(
    f"conv + BN: {1e3 * unfolded_time:.1f} ms, folded conv: {1e3 * folded_time:.1f} ms "
    f"({unfolded_time / folded_time:.2f}x) on {len(images)} images"
)

# %% [markdown]
# ## Inline questions
#
# **Question 5.** A classmate's network scores 95% on the validation set when it is evaluated in batches
# of 100, but a demo that classifies one uploaded image at a time always predicts the same class. What is
# the bug, and why does it give exactly this symptom? Name one more way the same bug shows up when batches
# are large.

# %% [markdown] answer="test_mode_bug" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# The batch-norm layers are left in train mode at test time, so they normalize with the statistics of
# the test batch instead of the running averages. A batch of one image has mean equal to the image
# and variance 0, so every $\hat{x}$ is 0 and every BN layer outputs $\beta$ whatever the image: the
# scores are the same for every image, hence the same class. With large batches the predictions still
# depend on what else is in the batch (e.g. a batch that holds only one class, or differently lit
# images, shifts the statistics), so one image can get different answers in different batches and
# evaluation is not reproducible. The fix is to switch every BN layer to test mode (running averages).
# ### END SOLUTION

# %% [markdown]
# **Question 6.** In the batch-size experiments, how does batch norm behave with batches of 5 compared
# with 50, and why? Why does layer norm (or group norm) not have this problem, and what does layer norm
# give up in exchange?

# %% [markdown] answer="batch_size" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# With small batches the mean and variance of 5 examples are noisy estimates of the feature's true
# statistics, so each example's normalized value depends strongly on its few companions (the spread plot
# shows this noise shrinking as the batch grows); training sees a noisy layer, and the running averages
# used at test time match the training-time normalization less well, so accuracy suffers. Layer and
# group norm compute their statistics from one example, so they do not depend on the batch at all and
# behave the same in train and test mode, for any batch size including 1. In exchange they normalize
# across different features (or channels) of one example, which assumes those features are comparable:
# with few features per example (small D or small groups) the statistics are themselves noisy, and the
# per-feature scale differences that batch norm equalizes are not removed, so layer norm often trains a
# little worse than batch norm on convnets when large batches are available.
# ### END SOLUTION

# %% [markdown]
# **Question 7.** Why can batch norm be folded into the conv layer before it at test time but not
# during training? Could a layer norm (or group norm) that follows a conv be folded the same way?

# %% [markdown] answer="folding" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# In test mode batch norm uses fixed numbers (running mean and variance, gamma, beta), so it is one
# fixed affine map per channel; composing two affine maps gives an affine map, so the conv's weights and
# bias can absorb it. During training the mean and variance come from the current batch, so the map
# changes with every batch (and gradients flow through the statistics); there is nothing fixed to fold.
# Layer, instance and group norm compute their statistics from each input example even at test time,
# so their scale and shift depend on the input: they are not a fixed affine map and cannot be folded
# into the conv weights.
# ### END SOLUTION

# %% [markdown]
# **Question 8.** Batch norm normalizes each feature to mean 0 and variance 1, and then immediately
# multiplies by $\gamma$ and adds $\beta$. Why keep $\gamma$ and $\beta$? And why is the conv (or affine)
# layer's own bias $b$ useless right before a batch-norm layer?

# %% [markdown] answer="gamma_beta" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# Forcing zero mean and unit variance limits what the layer can represent (e.g. a ReLU after it would
# always cut about half the values); with learned $\gamma$ and $\beta$ the network chooses the scale and
# shift it wants, and with $\gamma = \sqrt{\sigma^2 + \epsilon}$, $\beta = \mu$ it can even undo the
# normalization, so adding BN never removes capacity. The bias $b$ is added to every example's value of
# a feature, so the batch mean subtraction removes it exactly: it has no effect on the output and gets
# zero gradient, and $\beta$ does its job. (Folding puts an effective bias back for test time.)
# ### END SOLUTION
