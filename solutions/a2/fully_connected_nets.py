# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Assignment 2: fully connected networks, backpropagation and optimizers
#
# In assignment 1 the score function was linear, $f = Wx$. The lecture's **two-layer network** puts a
# nonlinearity between two linear maps:
#
# $$f = W_2 \max(0, W_1 x).$$
#
# For a CIFAR-10 image $x$ has $3 \cdot 32 \cdot 32 = 3072$ numbers; with 100 hidden units, $W_1$ maps
# 3072 numbers to 100 and $W_2$ maps 100 to 10 class scores. Computing the gradient of a loss through
# such a function by hand gets painful fast, so we build networks from **modular layers**, each a pair
# of functions, exactly like the nodes of the lecture's computational graphs:
#
# ```python
# out, cache = layer_forward(x, w, b)       # remember what the backward pass needs
# dx, dw, db = layer_backward(dout, cache)  # upstream gradient in, local gradients (chain rule) out
# ```
#
# The code uses **rows** for examples: a minibatch `X` is $N \times D$ and a layer computes
# `X @ W + b` with `W` of shape $(D, M)$, which is the lecture's $Wx$ written for many $x$ at once.
#
# You write three files:
#
# | file | what |
# |---|---|
# | `cs_lib/layers.py` | affine, ReLU, softmax and SVM losses, dropout (forward and backward) |
# | `cs_lib/classifiers/fc_net.py` | `TwoLayerNet` and `FullyConnectedNet` of any depth |
# | `cs_lib/optim.py` | the update rules SGD, SGD with momentum, RMSProp and Adam |
#
# Each section says which function to write, then checks it. Gradients are checked against
# **numerical gradients** (centred differences, `cs_lib.gradient_check`): a relative error of `1e-6` or
# smaller means the gradient is right (each check prints what to expect); `1e-2` or worse almost always
# means a bug. You edit the files in `cs_lib`; this notebook picks up your changes automatically
# (autoreload is on).

# %% locked="imports"
import matplotlib.pyplot as plt
import numpy as np

from cs_lib.datasets import get_cifar10_data
from cs_lib.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from cs_lib.notebook import grading, scaled, show_effect
from cs_lib.solver import Solver
from cs_lib.vis import plot_curves, plot_training

plt.rcParams["figure.figsize"] = (10.0, 4.0)

# %% [markdown]
# ## The data
#
# CIFAR-10 when it is downloaded, the embedded offline dataset of ten drawn shapes otherwise; both are
# $32 \times 32$ RGB images stored channels first, $(N, 3, 32, 32)$, with the mean training image
# subtracted. We keep them in float32: the networks below train in float32 and are gradient-checked in
# float64.

# %% locked="load_data"
data = get_cifar10_data(dtype=np.float32)
if data["note"]:
    print(data["note"])
print(f"dataset: {data['source']}; classes: {', '.join(data['class_names'])}")
for name in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
    print(f"{name}: {data[name].shape}")

# %% [markdown]
# ## Affine layer
#
# A fully connected (affine) layer flattens each example to a row of $D$ numbers and maps it to $M$:
#
# $$\text{out} = x_{\text{flat}} W + b, \qquad x_{\text{flat}} \in \mathbb{R}^{N \times D},\;
#   W \in \mathbb{R}^{D \times M},\; b \in \mathbb{R}^{M}.$$
#
# Example: $x$ of shape $(2, 4, 5, 6)$ holds $N = 2$ examples of $D = 4 \cdot 5 \cdot 6 = 120$ numbers;
# with $W$ of shape $(120, 3)$ the output is $(2, 3)$.
#
# Backward, with the upstream gradient $\partial L / \partial \text{out}$ of shape $(N, M)$:
#
# $$\frac{\partial L}{\partial x_{\text{flat}}} = \frac{\partial L}{\partial \text{out}} W^\top,\qquad
#   \frac{\partial L}{\partial W} = x_{\text{flat}}^\top \frac{\partial L}{\partial \text{out}},\qquad
#   \frac{\partial L}{\partial b} = \sum_{n} \frac{\partial L}{\partial \text{out}_n}.$$
#
# Check the shapes: each gradient has the shape of what it is the gradient of, and $dx$ goes back to
# $x$'s original shape. Implement `affine_forward` and `affine_backward` in `cs_lib/layers.py`.

# %% test="affine_forward" points=2
import numpy as np

from cs_lib.checks import check_rel_error
from cs_lib.layers import affine_forward

rng = np.random.default_rng(0)
x = rng.standard_normal((2, 4, 5, 6))  # N = 2 examples, D = 4 * 5 * 6 = 120
w = rng.standard_normal((120, 3))
b = rng.standard_normal(3)
out, _ = affine_forward(x, w, b)

expected = np.zeros((2, 3))  # one dot product per example and output unit
for n in range(2):
    row = x[n].reshape(-1)
    for m in range(3):
        expected[n, m] = sum(row[d] * w[d, m] for d in range(120)) + b[m]
error = check_rel_error(out, expected, "affine_forward out", tol=1e-9)
print(f"affine_forward: relative error {error:.1e} (expect about 1e-12 or less)")
### BEGIN HIDDEN TESTS
# a single example, and a non-contiguous input (a strided, transposed view of a bigger array)
for x in (rng.standard_normal((1, 7)), rng.standard_normal((3, 6, 4, 2)).transpose(0, 2, 1, 3)[:, ::2]):
    N, D = x.shape[0], x[0].size
    w = rng.standard_normal((D, 5))
    b = rng.standard_normal(5)
    before = x.copy()
    out, _ = affine_forward(x, w, b)
    rows = [list(example.flat) for example in x]  # each example's numbers in row-major order
    expected = np.array([[sum(r * w[d, m] for d, r in enumerate(row)) + b[m] for m in range(5)] for row in rows])
    check_rel_error(out, expected, f"affine_forward out for x of shape {x.shape}", tol=1e-9)
    check_rel_error(x, before, "affine_forward must not change its input x", tol=1e-15)
### END HIDDEN TESTS

# %% test="affine_backward" points=2
import numpy as np

from cs_lib.checks import check_rel_error
from cs_lib.gradient_check import eval_numerical_gradient_array
from cs_lib.layers import affine_backward, affine_forward


def affine(x, w, b):
    """The affine map the layer computes, written here: the gradients are judged against this, not against
    your affine_forward."""
    return x.reshape(len(x), -1) @ w + b


def numerical_affine_gradients(x, w, b, dout):
    """Centred-difference gradients of sum(affine(x, w, b) * dout) for x, w and b."""
    return {
        "dx": eval_numerical_gradient_array(lambda x: affine(x, w, b), x.copy(), dout),
        "dw": eval_numerical_gradient_array(lambda w: affine(x, w, b), w.copy(), dout),
        "db": eval_numerical_gradient_array(lambda b: affine(x, w, b), b.copy(), dout),
    }


rng = np.random.default_rng(1)
x = rng.standard_normal((10, 2, 3))  # N = 10, D = 6
w = rng.standard_normal((6, 5))
b = rng.standard_normal(5)
dout = rng.standard_normal((10, 5))
_, cache = affine_forward(x, w, b)
analytic = dict(zip(("dx", "dw", "db"), affine_backward(dout, cache)))
numerical = numerical_affine_gradients(x, w, b, dout)
for name in ("dx", "dw", "db"):
    error = check_rel_error(analytic[name], numerical[name], f"affine_backward {name}", tol=1e-7)
    print(f"{name} relative error: {error:.1e} (expect about 1e-9 or less)")
### BEGIN HIDDEN TESTS
# a single example, and a non-contiguous input (a transposed, sliced view)
for x in (rng.standard_normal((1, 3, 2)), rng.standard_normal((4, 5, 3)).transpose(0, 2, 1)[:, :, 1:]):
    N, D = x.shape[0], x[0].size
    w = rng.standard_normal((D, 3))
    b = rng.standard_normal(3)
    dout = rng.standard_normal((N, 3))
    _, cache = affine_forward(x, w, b)
    analytic = dict(zip(("dx", "dw", "db"), affine_backward(dout, cache)))
    rows = np.ascontiguousarray(x).reshape(N, D)
    expected = {"dx": (dout @ w.T).reshape(x.shape), "dw": rows.T @ dout, "db": dout.sum(axis=0)}
    for name in ("dx", "dw", "db"):
        check_rel_error(analytic[name], expected[name], f"affine_backward {name} for x of shape {x.shape}", tol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ## ReLU layer
#
# The rectified linear unit is applied elementwise, $\text{out} = \max(0, x)$, so its local gradient
# is 1 where $x > 0$ and 0 elsewhere (at exactly $x = 0$ we take 0): the backward pass lets the upstream
# gradient through where the input was positive and blocks it elsewhere. Implement `relu_forward` and
# `relu_backward`.

# %% test="relu_forward" points=1
import numpy as np

from cs_lib.checks import check_rel_error
from cs_lib.layers import relu_forward

x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
out, _ = relu_forward(x)
expected = np.array([[value if value > 0 else 0.0 for value in row] for row in x])
error = check_rel_error(out, expected, "relu_forward out", tol=1e-12)
print(f"relu_forward: relative error {error:.1e} (expect 0)")
### BEGIN HIDDEN TESTS
rng = np.random.default_rng(2)
for x in (rng.standard_normal((1, 5)), rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((6, 4)).T):
    out, _ = relu_forward(x)
    expected = np.array([value if value > 0 else 0.0 for value in x.flat]).reshape(x.shape)
    check_rel_error(out, expected, f"relu_forward on {x.shape}", tol=1e-15)
### END HIDDEN TESTS

# %% test="relu_backward" points=1
import numpy as np

from cs_lib.checks import check_rel_error
from cs_lib.gradient_check import eval_numerical_gradient_array
from cs_lib.layers import relu_backward, relu_forward

rng = np.random.default_rng(3)
x = rng.standard_normal((10, 10))
dout = rng.standard_normal(x.shape)
dx_num = eval_numerical_gradient_array(lambda x: np.maximum(x, 0), x.copy(), dout)  # ReLU written here
_, cache = relu_forward(x)
dx = relu_backward(dout, cache)
error = check_rel_error(dx, dx_num, "relu_backward dx", tol=1e-8)
print(f"dx relative error: {error:.1e} (expect about 1e-11 or less)")
### BEGIN HIDDEN TESTS
for x in (rng.standard_normal((1, 4)), rng.standard_normal((3, 2, 5)).transpose(2, 0, 1)):
    dout = rng.standard_normal(x.shape)
    _, cache = relu_forward(x)
    dx = relu_backward(dout, cache)
    expected = np.array([g if v > 0 else 0.0 for v, g in zip(x.flat, dout.flat)]).reshape(x.shape)
    check_rel_error(dx, expected, f"relu_backward dx on {x.shape}", tol=1e-15)
### END HIDDEN TESTS

# %% [markdown]
# ## Sandwich layers
#
# Some layer sequences come up again and again. `cs_lib/layer_utils.py` (provided) chains your layers
# into `affine_relu_forward` / `affine_relu_backward`: the backward pass is just the chain rule, the
# layers' backward functions called in reverse order. If your affine and ReLU layers are right, this
# check passes without any new code.

# %%
from cs_lib.layer_utils import affine_relu_backward, affine_relu_forward

rng = np.random.default_rng(4)
x = rng.standard_normal((2, 3, 4))
w = rng.standard_normal((12, 10))
b = rng.standard_normal(10)
dout = rng.standard_normal((2, 10))

out, cache = affine_relu_forward(x, w, b)
dx, dw, db = affine_relu_backward(dout, cache)
dx_num = eval_numerical_gradient_array(lambda x: affine_relu_forward(x, w, b)[0], x, dout)
dw_num = eval_numerical_gradient_array(lambda w: affine_relu_forward(x, w, b)[0], w, dout)
db_num = eval_numerical_gradient_array(lambda b: affine_relu_forward(x, w, b)[0], b, dout)
print("affine_relu dx error:", rel_error(dx, dx_num))
print("affine_relu dw error:", rel_error(dw, dw_num))
print("affine_relu db error:", rel_error(db, db_num))

# %% [markdown]
# ## Loss layers: softmax and SVM
#
# Both losses from assignment 1 become layers that take the scores $x$ of shape $(N, C)$ and the labels
# $y$ and return the loss **averaged over the $N$ examples** and its gradient with respect to the scores:
#
# $$L_{\text{softmax}} = -\frac{1}{N}\sum_i \log \frac{e^{x_{i, y_i}}}{\sum_j e^{x_{i,j}}}, \qquad
#   \frac{\partial L}{\partial x_{i,j}} = \frac{p_{i,j} - [j = y_i]}{N};$$
#
# $$L_{\text{SVM}} = \frac{1}{N}\sum_i \sum_{j \ne y_i} \max(0,\; x_{i,j} - x_{i,y_i} + 1).$$
#
# Lecture example (one image, scores cat 3.2, car 5.1, frog -1.7, label cat): the SVM loss is
# $\max(0, 5.1 - 3.2 + 1) + \max(0, -1.7 - 3.2 + 1) = 2.9$ and the softmax loss is
# $-\log(e^{3.2} / (e^{3.2} + e^{5.1} + e^{-1.7})) \approx 2.04$.
# Subtract each row's maximum before exponentiating: the probabilities do not change and `exp` cannot
# overflow. With tiny scores the softmax loss should be close to $\log C$ and the SVM loss close to
# $C - 1$. Implement `softmax_loss` and `svm_loss`.

# %% test="softmax_loss" points=2
import math

import numpy as np

from cs_lib.checks import check_close, check_rel_error, check_scalar
from cs_lib.gradient_check import eval_numerical_gradient
from cs_lib.layers import softmax_loss


def softmax_loss_loops(x, y):
    total = 0.0
    for scores, label in zip(x, y):
        top = max(scores)  # log sum exp(s) = top + log sum exp(s - top), which cannot overflow
        total += top + math.log(sum(math.exp(s - top) for s in scores)) - scores[label]
    return total / len(y)


lecture_loss, _ = softmax_loss(np.array([[3.2, 5.1, -1.7]]), np.array([0]))
check_scalar(
    lecture_loss,
    -math.log(math.exp(3.2) / (math.exp(3.2) + math.exp(5.1) + math.exp(-1.7))),
    "softmax_loss on the lecture's cat example",
    rtol=1e-9,
)

rng = np.random.default_rng(5)
N, C = 50, 10
x_small = 0.001 * rng.standard_normal((N, C))
y = rng.integers(C, size=N)
loss, _ = softmax_loss(x_small, y)
check_scalar(loss, math.log(C), "softmax_loss with tiny scores (about log C)", rtol=1e-2)
print(f"loss with tiny scores: {loss:.4f} (expect about log(10) = {math.log(10):.4f})")

x = rng.standard_normal((N, C))
loss, dx = softmax_loss(x, y)
check_scalar(loss, softmax_loss_loops(x, y), "softmax_loss loss", rtol=1e-10)
x, y = x[:10], y[:10]
_, dx = softmax_loss(x, y)
dx_num = eval_numerical_gradient(lambda x: softmax_loss_loops(x, y), x.copy())  # of the loops above
error = check_rel_error(dx, dx_num, "softmax_loss dx", tol=1e-6)
print(f"dx relative error: {error:.1e} (expect about 1e-8 or less)")


### BEGIN HIDDEN TESTS
def softmax_gradient_loops(x, y):
    N, C = x.shape
    grad = np.zeros((N, C))
    for i in range(N):
        top = max(x[i])
        exps = [math.exp(s - top) for s in x[i]]
        for j in range(C):
            grad[i, j] = (exps[j] / sum(exps) - (j == y[i])) / N
    return grad


# huge scores (a naive exp overflows), a single example, and a non-contiguous score matrix
for x, y in (
    (1000.0 * rng.standard_normal((8, 5)), rng.integers(5, size=8)),
    (rng.standard_normal((1, 4)), np.array([2])),
    (rng.standard_normal((7, 6)).T, rng.integers(7, size=6)),
):
    loss, dx = softmax_loss(x, y)
    check_scalar(loss, softmax_loss_loops(x, y), f"softmax_loss loss for scores {x.shape}", rtol=1e-10)
    check_close(dx, softmax_gradient_loops(x, y), f"softmax_loss dx for scores {x.shape}", rtol=1e-9, atol=1e-12)
### END HIDDEN TESTS

# %% test="svm_loss" points=2
import numpy as np

from cs_lib.checks import check_close, check_rel_error, check_scalar
from cs_lib.gradient_check import eval_numerical_gradient
from cs_lib.layers import svm_loss


def svm_loss_loops(x, y):
    total = 0.0
    for scores, label in zip(x, y):
        total += sum(max(0.0, s - scores[label] + 1) for j, s in enumerate(scores) if j != label)
    return total / len(y)


lecture_loss, _ = svm_loss(np.array([[3.2, 5.1, -1.7]]), np.array([0]))
check_scalar(lecture_loss, 2.9, "svm_loss on the lecture's cat example", rtol=1e-9)

rng = np.random.default_rng(6)
N, C = 50, 10
x_small = 0.001 * rng.standard_normal((N, C))
y = rng.integers(C, size=N)
loss, _ = svm_loss(x_small, y)
check_scalar(loss, C - 1, "svm_loss with tiny scores (about C - 1)", rtol=1e-2)
print(f"loss with tiny scores: {loss:.4f} (expect about C - 1 = 9)")

x = rng.standard_normal((N, C))
loss, dx = svm_loss(x, y)
check_scalar(loss, svm_loss_loops(x, y), "svm_loss loss", rtol=1e-10)
dx_num = eval_numerical_gradient(lambda x: svm_loss_loops(x, y), x.copy())  # of the loops above
error = check_rel_error(dx, dx_num, "svm_loss dx", tol=1e-7)
print(f"dx relative error: {error:.1e} (expect about 1e-8 or less)")


### BEGIN HIDDEN TESTS
def svm_gradient_loops(x, y):
    N, C = x.shape
    grad = np.zeros((N, C))
    for i in range(N):
        for j in range(C):
            if j != y[i] and x[i, j] - x[i, y[i]] + 1 > 0:
                grad[i, j] += 1 / N
                grad[i, y[i]] -= 1 / N
    return grad


# a single example, a non-contiguous score matrix, and scores where many margins are zero
for x, y in (
    (rng.standard_normal((1, 4)), np.array([3])),
    (rng.standard_normal((9, 5)).T, rng.integers(9, size=5)),
    (10.0 * rng.standard_normal((20, 3)), rng.integers(3, size=20)),
):
    loss, dx = svm_loss(x, y)
    check_scalar(loss, svm_loss_loops(x, y), f"svm_loss loss for scores {x.shape}", rtol=1e-10)
    check_close(dx, svm_gradient_loops(x, y), f"svm_loss dx for scores {x.shape}", rtol=1e-9, atol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ## A two-layer network
#
# `TwoLayerNet` in `cs_lib/classifiers/fc_net.py` is the lecture's network written with your layers:
#
# $$\text{affine} \rightarrow \text{ReLU} \rightarrow \text{affine} \rightarrow \text{softmax},\qquad
#   \text{scores} = \max(0, X W_1 + b_1) W_2 + b_2,$$
#
# with $W_1$ of shape $(D, H)$, $b_1$ $(H,)$, $W_2$ $(H, C)$ and $b_2$ $(C,)$ in the dict `model.params`
# (the Solver updates them there). Weights start as normal draws with standard deviation `weight_scale`,
# biases as zeros. The loss adds **L2 regularisation of the weights only** (never the biases), with the
# convention
#
# $$L = L_{\text{data}} + \tfrac{1}{2}\,\text{reg}\,\big(\textstyle\sum W_1^2 + \sum W_2^2\big),
#   \qquad \frac{\partial L}{\partial W} = \frac{\partial L_{\text{data}}}{\partial W} + \text{reg}\cdot W.$$
#
# `model.loss(X)` returns the scores; `model.loss(X, y)` returns `(loss, grads)` with one gradient per
# parameter. Implement `TwoLayerNet.__init__` and `TwoLayerNet.loss`.

# %% test="two_layer_net" points=3
import numpy as np

from cs_lib.checks import check_rel_error, check_scalar, check_shape
from cs_lib.classifiers.fc_net import TwoLayerNet
from cs_lib.gradient_check import eval_numerical_gradient


def set_random_params(model, dims, rng):
    """This test's own parameters (weights that keep activations near unit scale, non-zero biases so no ReLU
    input sits at its kink), given to the model as copies: every expected value is computed from these,
    never from what the model reports back."""
    params = {}
    for i in range(1, len(dims)):
        params[f"W{i}"] = rng.standard_normal((dims[i - 1], dims[i])) * np.sqrt(2 / dims[i - 1])
        params[f"b{i}"] = 0.1 * rng.standard_normal(dims[i])
    for name, value in params.items():
        model.params[name] = value.copy()
    return params


def reference_loss(params, X, y, reg, masks=()):
    """(scores, loss) of affine - ReLU - ... - affine - softmax with params, written here (masks: the dropout
    layers' scaled masks after each hidden ReLU); the loss adds 0.5 * reg * sum(W ** 2), biases unregularised."""
    layers = len(params) // 2
    hidden = X.reshape(len(X), -1)
    for i in range(1, layers):
        hidden = np.maximum(0, hidden @ params[f"W{i}"] + params[f"b{i}"])
        if masks:
            hidden = hidden * masks[i - 1]
    scores = hidden @ params[f"W{layers}"] + params[f"b{layers}"]
    shifted = scores - scores.max(axis=1, keepdims=True)
    data_loss = -np.mean(shifted[np.arange(len(X)), y] - np.log(np.exp(shifted).sum(axis=1)))
    return scores, data_loss + 0.5 * reg * sum(np.sum(params[f"W{i}"] ** 2) for i in range(1, layers + 1))


def numerical_gradients(params, X, y, reg, masks=()):
    """Centred-difference gradients of reference_loss for every parameter."""
    return {
        name: eval_numerical_gradient(
            lambda value, name=name: reference_loss({**params, name: value}, X, y, reg, masks)[1], params[name].copy()
        )
        for name in params
    }


N, D, H, C = 3, 5, 10, 7
model = TwoLayerNet(input_dim=300, hidden_dim=200, num_classes=C, weight_scale=1e-2, seed=0)
for name, shape in (("W1", (300, 200)), ("b1", (200,)), ("W2", (200, C)), ("b2", (C,))):
    check_shape(model.params[name], shape, f"TwoLayerNet params[{name!r}]")
check_scalar(np.std(model.params["W1"]), 1e-2, "the standard deviation of W1 (weight_scale)", rtol=0.05)
check_scalar(np.abs(model.params["b1"]).max(), 0.0, "the initial biases b1")

rng = np.random.default_rng(7)
model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, seed=1)
params = {
    "W1": rng.standard_normal((D, H)),
    "b1": rng.standard_normal(H),
    "W2": 0.1 * rng.standard_normal((H, C)),
    "b2": rng.standard_normal(C),
}
model.params = {name: value.copy() for name, value in params.items()}
X = rng.standard_normal((N, D))
y = rng.integers(C, size=N)
expected_scores, _ = reference_loss(params, X, y, 0.0)
error = check_rel_error(model.loss(X), expected_scores, "TwoLayerNet scores", tol=1e-9)
print(f"scores relative error: {error:.1e}")

for reg in (0.0, 0.7):
    model.reg = reg
    _, expected_loss = reference_loss(params, X, y, reg)
    loss, grads = model.loss(X, y)
    check_scalar(loss, expected_loss, f"TwoLayerNet loss with reg = {reg}", rtol=1e-9)
    numerical = numerical_gradients(params, X, y, reg)
    for name in ("W1", "b1", "W2", "b2"):
        error = check_rel_error(grads[name], numerical[name], f"TwoLayerNet d{name} with reg = {reg}", tol=1e-5)
        print(f"reg = {reg}: d{name} relative error {error:.1e} (expect about 1e-6 or less)")
### BEGIN HIDDEN TESTS
# a single example given as an image (N = 1, X of shape (1, 3, 2, 2)) with biases that matter
model = TwoLayerNet(input_dim=12, hidden_dim=6, num_classes=4, reg=0.3, seed=2)
params = set_random_params(model, [12, 6, 4], rng)
X = rng.standard_normal((1, 3, 2, 2))
y = np.array([2])
scores, expected = reference_loss(params, X, y, 0.3)
check_rel_error(model.loss(X), scores, "TwoLayerNet scores for N = 1", tol=1e-9)
loss, grads = model.loss(X, y)
check_scalar(loss, expected, "TwoLayerNet loss for N = 1 (biases are not regularised)", rtol=1e-9)
numerical = numerical_gradients(params, X, y, 0.3)
for name in ("W1", "b1", "W2", "b2"):
    check_rel_error(grads[name], numerical[name], f"TwoLayerNet d{name} for N = 1", tol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ## Training the two-layer network
#
# The provided `Solver` (`cs_lib/solver.py`) runs minibatch gradient descent on any model with
# `params` and `loss`; the update rule is named by a string and looked up in `cs_lib/optim.py`
# (`"sgd"` is the plain rule of assignment 1, $w \leftarrow w - \eta\, dw$; you write it there too).
#
# ```python
# solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 1e-3},
#                 lr_decay=0.95, num_epochs=5, batch_size=100, print_every=100, seed=0)
# solver.train()    # restores the parameters with the best validation accuracy at the end
# ```
#
# Implement `sgd` in `cs_lib/optim.py`, then train a `TwoLayerNet` to **at least 40% validation
# accuracy** (chance is 10%) and keep the Solver in `solver`. Size the number of epochs with
# `scaled(full, quick)` so that grading runs stay short: the grader only asks for 25% after a quick run.

# %% test="sgd" points=1
import numpy as np

from cs_lib.checks import check_rel_error, check_scalar
from cs_lib.optim import sgd

rng = np.random.default_rng(8)
w = rng.standard_normal((4, 5))
dw = rng.standard_normal((4, 5))
next_w, config = sgd(w.copy(), dw, {"learning_rate": 0.3})
error = check_rel_error(next_w, w - 0.3 * dw, "sgd next_w", tol=1e-12)
next_w, config = sgd(w.copy(), dw)
check_scalar(config["learning_rate"], 1e-2, "sgd's default learning_rate")
check_rel_error(next_w, w - 1e-2 * dw, "sgd next_w with the default learning rate", tol=1e-12)
print(f"sgd next_w relative error: {error:.1e}")
### BEGIN HIDDEN TESTS
current, expected, config = w.copy(), w.copy(), {"learning_rate": 0.05}
for step in range(3):
    grad = rng.standard_normal(w.shape)
    current, config = sgd(current, grad, config)
    expected = expected - 0.05 * grad
    check_rel_error(current, expected, f"sgd after call {step + 1}", tol=1e-12)
check_rel_error(sgd(np.ones(1), np.ones(1), {"learning_rate": 0.5})[0], np.array([0.5]), "sgd on one weight", tol=1e-12)
### END HIDDEN TESTS

# %% solution="train_two_layer"
from cs_lib.classifiers.fc_net import TwoLayerNet

model = TwoLayerNet(hidden_dim=100, weight_scale=1e-3, seed=0)
solver = None
### BEGIN SOLUTION
solver = Solver(
    model,
    data,
    update_rule="sgd",
    optim_config={"learning_rate": 3e-3},
    lr_decay=0.95,
    num_epochs=scaled(5, 1),
    batch_size=100,
    print_every=100,
    seed=0,
)
solver.train()
### END SOLUTION

# %% [markdown]
# The test below judges the weights you trained, which this cell hands to it as plain arrays: it computes the
# network's scores on the validation images itself.

# %%
two_layer_weights = {name: np.array(value) for name, value in solver.model.params.items()}

# %% test="two_layer_accuracy" points=1 reads=["two_layer_weights"]
import numpy as np

from cs_lib.checks import as_array, check_shape, check_true
from cs_lib.datasets import get_cifar10_data
from cs_lib.notebook import scaled

check_true(
    isinstance(two_layer_weights, dict) and sorted(two_layer_weights) == ["W1", "W2", "b1", "b2"],
    "two_layer_weights must be a dict holding the trained TwoLayerNet's W1, b1, W2 and b2",
)
W1, b1, W2, b2 = (
    as_array(two_layer_weights[name], f"two_layer_weights[{name!r}]") for name in ("W1", "b1", "W2", "b2")
)
H = W1.shape[1] if W1.ndim == 2 else -1
for name, value, shape in (("W1", W1, (3 * 32 * 32, H)), ("b1", b1, (H,)), ("W2", W2, (H, 10)), ("b2", b2, (10,))):
    check_shape(value, shape, f"two_layer_weights[{name!r}]")
# the notebook's validation images (mean image subtracted), through affine - ReLU - affine
validation = get_cifar10_data(dtype=np.float32)
X_val = validation["X_val"].reshape(len(validation["X_val"]), -1)
scores = np.maximum(0, X_val @ W1 + b1) @ W2 + b2
accuracy = float(np.mean(np.argmax(scores, axis=1) == validation["y_val"]))
target = scaled(0.40, 0.25)
check_true(
    accuracy >= target, f"the trained TwoLayerNet reaches {accuracy:.1%} validation accuracy; aim for {target:.0%}"
)
print(f"validation accuracy {accuracy:.1%} (target {target:.0%})")
### BEGIN HIDDEN TESTS
# the notebook's kernel can read the validation labels: the points are decided on 1,000 new images,
# scaled as the validation images are (the same training mean subtracted)
from autograder.grading.trusted.judging import fresh_split

if validation["source"] != "cifar10":
    X_fresh, y_fresh = fresh_split(1000, seed=82_331, dtype=np.float32)
    fresh_scores = np.maximum(0, X_fresh.reshape(len(X_fresh), -1) @ W1 + b1) @ W2 + b2
    fresh_accuracy = float(np.mean(np.argmax(fresh_scores, axis=1) == y_fresh))
    check_true(
        fresh_accuracy >= target,
        f"the trained TwoLayerNet reaches {fresh_accuracy:.1%} accuracy on 1,000 new images; aim for {target:.0%}",
    )
### END HIDDEN TESTS

# %% [markdown]
# The loss should fall quickly at first and then more slowly; the training and validation accuracies
# should rise together. A training accuracy far above the validation accuracy means overfitting.

# %%
plot_training(solver, title="TwoLayerNet with SGD")
plt.show()
two_layer_test_acc = solver.check_accuracy(data["X_test"], data["y_test"])
print(f"TwoLayerNet test accuracy: {two_layer_test_acc:.1%}")

# %% [markdown]
# ## A fully connected network of any depth
#
# `FullyConnectedNet(hidden_dims, ...)` stacks $L - 1$ hidden layers and a last affine layer,
# $L$ = `len(hidden_dims) + 1`:
#
# $$\{\text{affine} \rightarrow \text{ReLU} \rightarrow [\text{dropout}]\} \times (L - 1)
#   \rightarrow \text{affine} \rightarrow \text{softmax}.$$
#
# Layer $i$ maps `dims[i-1]` numbers to `dims[i]` with `dims = [D, *hidden_dims, C]`, with parameters
# `W{i}` and `b{i}` in `model.params`, initialised like the two-layer net. The loss adds
# $\tfrac12\,\text{reg}\sum_i \sum W_i^2$. Ignore `normalization` for now: its branches (the methods
# marked *assignment 4*) come in assignment 4, and `dropout_keep_ratio` comes at the end of this
# notebook. Implement `FullyConnectedNet.__init__` and `FullyConnectedNet.loss` (the plain parts).
#
# A first check: with small weights all scores are about zero, so the initial loss is about $\log C$.

# %% test="fc_net_init" points=1
import numpy as np

from cs_lib.checks import check_scalar, check_shape, check_true
from cs_lib.classifiers.fc_net import FullyConnectedNet

model = FullyConnectedNet([40, 30, 20], input_dim=500, num_classes=10, weight_scale=3e-2, seed=0)
dims = [500, 40, 30, 20, 10]
check_true(
    sorted(model.params) == sorted([f"W{i}" for i in range(1, 5)] + [f"b{i}" for i in range(1, 5)]),
    f"FullyConnectedNet([40, 30, 20]) should have params W1..W4 and b1..b4, got {sorted(model.params)}",
)
for i in range(1, 5):
    check_shape(model.params[f"W{i}"], (dims[i - 1], dims[i]), f"params['W{i}']")
    check_shape(model.params[f"b{i}"], (dims[i],), f"params['b{i}']")
    check_scalar(np.abs(model.params[f"b{i}"]).max(), 0.0, f"the initial b{i}")
check_scalar(np.std(model.params["W1"]), 3e-2, "the standard deviation of W1 (weight_scale)", rtol=0.05)
check_scalar(np.std(model.params["W2"]), 3e-2, "the standard deviation of W2 (weight_scale)", rtol=0.1)

rng = np.random.default_rng(9)
X = rng.standard_normal((20, 500))
y = rng.integers(10, size=20)
model = FullyConnectedNet([40, 30], input_dim=500, num_classes=10, weight_scale=1e-3, seed=0)
loss, grads = model.loss(X, y)
check_scalar(loss, np.log(10), "the initial loss with tiny weights (about log C)", rtol=1e-3)
print(f"initial loss {loss:.4f} (expect about log(10) = {np.log(10):.4f})")
### BEGIN HIDDEN TESTS
model = FullyConnectedNet([7], input_dim=6, num_classes=3, dtype=np.float64, seed=1)
check_true(
    sorted(model.params) == ["W1", "W2", "b1", "b2"], f"FullyConnectedNet([7]) has params {sorted(model.params)}"
)
check_shape(model.loss(rng.standard_normal((1, 2, 3))), (1, 3), "FullyConnectedNet scores for one example")
### END HIDDEN TESTS

# %% test="fc_net_gradients" points=3
import numpy as np

from cs_lib.checks import check_rel_error, check_scalar
from cs_lib.classifiers.fc_net import FullyConnectedNet
from cs_lib.gradient_check import eval_numerical_gradient


def set_random_params(model, dims, rng):
    """This test's own parameters (weights that keep activations near unit scale, non-zero biases so no ReLU
    input sits at its kink), given to the model as copies: every expected value is computed from these,
    never from what the model reports back."""
    params = {}
    for i in range(1, len(dims)):
        params[f"W{i}"] = rng.standard_normal((dims[i - 1], dims[i])) * np.sqrt(2 / dims[i - 1])
        params[f"b{i}"] = 0.1 * rng.standard_normal(dims[i])
    for name, value in params.items():
        model.params[name] = value.copy()
    return params


def reference_loss(params, X, y, reg, masks=()):
    """(scores, loss) of affine - ReLU - ... - affine - softmax with params, written here (masks: the dropout
    layers' scaled masks after each hidden ReLU); the loss adds 0.5 * reg * sum(W ** 2), biases unregularised."""
    layers = len(params) // 2
    hidden = X.reshape(len(X), -1)
    for i in range(1, layers):
        hidden = np.maximum(0, hidden @ params[f"W{i}"] + params[f"b{i}"])
        if masks:
            hidden = hidden * masks[i - 1]
    scores = hidden @ params[f"W{layers}"] + params[f"b{layers}"]
    shifted = scores - scores.max(axis=1, keepdims=True)
    data_loss = -np.mean(shifted[np.arange(len(X)), y] - np.log(np.exp(shifted).sum(axis=1)))
    return scores, data_loss + 0.5 * reg * sum(np.sum(params[f"W{i}"] ** 2) for i in range(1, layers + 1))


def numerical_gradients(params, X, y, reg, masks=()):
    """Centred-difference gradients of reference_loss for every parameter."""
    return {
        name: eval_numerical_gradient(
            lambda value, name=name: reference_loss({**params, name: value}, X, y, reg, masks)[1], params[name].copy()
        )
        for name in params
    }


rng = np.random.default_rng(10)
N, D, H1, H2, C = 4, 10, 12, 9, 6
X = rng.standard_normal((N, D))
y = rng.integers(C, size=N)
for reg in (0.0, 3.14):
    model = FullyConnectedNet([H1, H2], input_dim=D, num_classes=C, reg=reg, dtype=np.float64, seed=0)
    params = set_random_params(model, [D, H1, H2, C], rng)
    scores, expected = reference_loss(params, X, y, reg)
    check_rel_error(model.loss(X), scores, "FullyConnectedNet scores", tol=1e-9)
    loss, grads = model.loss(X, y)
    check_scalar(loss, expected, f"FullyConnectedNet loss with reg = {reg}", rtol=1e-9)
    numerical = numerical_gradients(params, X, y, reg)
    for name in sorted(params):
        error = check_rel_error(grads[name], numerical[name], f"FullyConnectedNet d{name} with reg = {reg}", tol=1e-5)
        print(f"reg = {reg}: d{name} relative error {error:.1e} (expect about 1e-6 or less)")
### BEGIN HIDDEN TESTS
# a single image-shaped example with biases that matter
model = FullyConnectedNet([6, 5], input_dim=12, num_classes=4, reg=0.5, dtype=np.float64, seed=3)
params = set_random_params(model, [12, 6, 5, 4], rng)
X = rng.standard_normal((1, 3, 2, 2))
y = np.array([1])
scores, expected = reference_loss(params, X, y, 0.5)
check_rel_error(model.loss(X), scores, "FullyConnectedNet scores for N = 1", tol=1e-9)
loss, grads = model.loss(X, y)
check_scalar(loss, expected, "FullyConnectedNet loss for N = 1 (biases are not regularised)", rtol=1e-9)
numerical = numerical_gradients(params, X, y, 0.5)
for name in sorted(params):
    check_rel_error(grads[name], numerical[name], f"FullyConnectedNet d{name} for N = 1", tol=1e-5)
### END HIDDEN TESTS

# %% test="fc_net_deep" points=2
import numpy as np

from cs_lib.checks import check_rel_error, check_scalar
from cs_lib.classifiers.fc_net import FullyConnectedNet
from cs_lib.gradient_check import eval_numerical_gradient


def set_random_params(model, dims, rng):
    """This test's own parameters (weights that keep activations near unit scale, non-zero biases so no ReLU
    input sits at its kink), given to the model as copies: every expected value is computed from these,
    never from what the model reports back."""
    params = {}
    for i in range(1, len(dims)):
        params[f"W{i}"] = rng.standard_normal((dims[i - 1], dims[i])) * np.sqrt(2 / dims[i - 1])
        params[f"b{i}"] = 0.1 * rng.standard_normal(dims[i])
    for name, value in params.items():
        model.params[name] = value.copy()
    return params


def reference_loss(params, X, y, reg, masks=()):
    """(scores, loss) of affine - ReLU - ... - affine - softmax with params, written here (masks: the dropout
    layers' scaled masks after each hidden ReLU); the loss adds 0.5 * reg * sum(W ** 2), biases unregularised."""
    layers = len(params) // 2
    hidden = X.reshape(len(X), -1)
    for i in range(1, layers):
        hidden = np.maximum(0, hidden @ params[f"W{i}"] + params[f"b{i}"])
        if masks:
            hidden = hidden * masks[i - 1]
    scores = hidden @ params[f"W{layers}"] + params[f"b{layers}"]
    shifted = scores - scores.max(axis=1, keepdims=True)
    data_loss = -np.mean(shifted[np.arange(len(X)), y] - np.log(np.exp(shifted).sum(axis=1)))
    return scores, data_loss + 0.5 * reg * sum(np.sum(params[f"W{i}"] ** 2) for i in range(1, layers + 1))


def numerical_gradients(params, X, y, reg, masks=()):
    """Centred-difference gradients of reference_loss for every parameter."""
    return {
        name: eval_numerical_gradient(
            lambda value, name=name: reference_loss({**params, name: value}, X, y, reg, masks)[1], params[name].copy()
        )
        for name in params
    }


# a six-layer net (five hidden layers) with regularisation
rng = np.random.default_rng(11)
N, D, C = 3, 8, 4
X = rng.standard_normal((N, D))
y = rng.integers(C, size=N)
model = FullyConnectedNet([9, 8, 7, 6, 5], input_dim=D, num_classes=C, reg=0.2, dtype=np.float64, seed=4)
params = set_random_params(model, [D, 9, 8, 7, 6, 5, C], rng)
loss, grads = model.loss(X, y)
check_scalar(loss, reference_loss(params, X, y, 0.2)[1], "six-layer FullyConnectedNet loss", rtol=1e-9)
numerical = numerical_gradients(params, X, y, 0.2)
for name in sorted(params):
    error = check_rel_error(grads[name], numerical[name], f"six-layer FullyConnectedNet d{name}", tol=1e-5)
    print(f"d{name} relative error {error:.1e} (expect about 1e-6 or less)")
### BEGIN HIDDEN TESTS
# seven layers and a single example
model = FullyConnectedNet([5, 6, 5, 6, 5, 4], input_dim=D, num_classes=C, reg=0.1, dtype=np.float64, seed=5)
params = set_random_params(model, [D, 5, 6, 5, 6, 5, 4, C], rng)
X = rng.standard_normal((1, D))
y = rng.integers(C, size=1)
scores, expected = reference_loss(params, X, y, 0.1)
check_rel_error(model.loss(X), scores, "seven-layer FullyConnectedNet scores, N = 1", tol=1e-9)
loss, grads = model.loss(X, y)
check_scalar(loss, expected, "seven-layer FullyConnectedNet loss, N = 1", rtol=1e-9)
numerical = numerical_gradients(params, X, y, 0.1)
for name in sorted(params):
    check_rel_error(grads[name], numerical[name], f"seven-layer FullyConnectedNet d{name}, N = 1", tol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ## Overfitting a small dataset
#
# A network that can learn anything should fit 50 training images perfectly. This sanity check catches
# most remaining bugs before any long training run. Find a `weight_scale` and `learning_rate` with
# which a three-layer net (two hidden layers of 100) reaches **100% training accuracy** within 20
# epochs of plain SGD, and record them in `three_layer_settings`: the test after the cell trains the same
# net on the same 50 images with them.

# %% solution="overfit_three_layer"
from cs_lib.classifiers.fc_net import FullyConnectedNet

small_data = {
    "X_train": data["X_train"][:50],
    "y_train": data["y_train"][:50],
    "X_val": data["X_val"][:100],
    "y_val": data["y_val"][:100],
}
### BEGIN SOLUTION
three_layer_settings = {"weight_scale": 1e-2, "learning_rate": 1e-2}
### END SOLUTION
model = FullyConnectedNet([100, 100], weight_scale=three_layer_settings["weight_scale"], seed=0)
three_layer_solver = Solver(
    model,
    small_data,
    update_rule="sgd",
    optim_config={"learning_rate": three_layer_settings["learning_rate"]},
    num_epochs=20,
    batch_size=25,
    print_every=10,
    verbose=False,
    seed=0,
)
three_layer_solver.train()
print(f"training accuracy per epoch: {np.round(three_layer_solver.train_acc_history, 2)}")
plot_curves({"training loss": three_layer_solver.loss_history}, title="three-layer net on 50 images")
plt.show()

# %% test="overfit_three_layer_accuracy" points=1 reads=["three_layer_settings"]
import numpy as np

from cs_lib.checks import check_scalar, check_true
from cs_lib.classifiers.fc_net import FullyConnectedNet
from cs_lib.datasets import get_cifar10_data
from cs_lib.solver import Solver

check_true(
    isinstance(three_layer_settings, dict) and sorted(three_layer_settings) == ["learning_rate", "weight_scale"],
    "three_layer_settings must be a dict with the keys 'weight_scale' and 'learning_rate'",
)
weight_scale = three_layer_settings["weight_scale"]
weight_scale = weight_scale if weight_scale == "kaiming" else float(weight_scale)
# the same 50 images and training run as the notebook's, made here from the dataset and the recorded settings
dataset = get_cifar10_data(dtype=np.float32)
fifty = {
    "X_train": dataset["X_train"][:50],
    "y_train": dataset["y_train"][:50],
    "X_val": dataset["X_val"][:100],
    "y_val": dataset["y_val"][:100],
}
retrained = Solver(
    FullyConnectedNet([100, 100], weight_scale=weight_scale, seed=0),
    fifty,
    update_rule="sgd",
    optim_config={"learning_rate": float(three_layer_settings["learning_rate"])},
    num_epochs=20,
    batch_size=25,
    verbose=False,
    seed=0,
)
retrained.train()
check_scalar(
    max(retrained.train_acc_history),
    1.0,
    f"the three-layer net's best training accuracy on 50 images with three_layer_settings = {three_layer_settings}",
)
### BEGIN HIDDEN TESTS
# the settings are the answer: they must overfit the reference net too (a student net that memorises its
# training images reaches 1.0 with any settings, so the check above alone would pay for none)
from autograder.grading.trusted.reference import isolated_reference_module, reference_module

reference_retrained = Solver(
    isolated_reference_module("cs_lib.classifiers.fc_net").FullyConnectedNet(
        [100, 100], weight_scale=weight_scale, seed=0
    ),
    fifty,
    update_rule=reference_module("cs_lib.optim").sgd,
    optim_config={"learning_rate": float(three_layer_settings["learning_rate"])},
    num_epochs=20,
    batch_size=25,
    verbose=False,
    seed=0,
)
reference_retrained.train()
check_scalar(
    max(reference_retrained.train_acc_history),
    1.0,
    f"the reference three-layer net's best training accuracy on 50 images with three_layer_settings = {three_layer_settings}",
)
### END HIDDEN TESTS

# %% [markdown]
# Now a five-layer net (four hidden layers of 100) on the same 50 images, with its settings in
# `five_layer_settings`. Try a few weight scales: with the small ones the loss barely moves at first.

# %% solution="overfit_five_layer"
### BEGIN SOLUTION
five_layer_settings = {"weight_scale": 5e-2, "learning_rate": 1e-2}
### END SOLUTION
model = FullyConnectedNet([100, 100, 100, 100], weight_scale=five_layer_settings["weight_scale"], seed=0)
five_layer_solver = Solver(
    model,
    small_data,
    update_rule="sgd",
    optim_config={"learning_rate": five_layer_settings["learning_rate"]},
    num_epochs=20,
    batch_size=25,
    print_every=10,
    verbose=False,
    seed=0,
)
five_layer_solver.train()
print(f"training accuracy per epoch: {np.round(five_layer_solver.train_acc_history, 2)}")
plot_curves({"training loss": five_layer_solver.loss_history}, title="five-layer net on 50 images")
plt.show()

# %% test="overfit_five_layer_accuracy" points=1 reads=["five_layer_settings"]
import numpy as np

from cs_lib.checks import check_scalar, check_true
from cs_lib.classifiers.fc_net import FullyConnectedNet
from cs_lib.datasets import get_cifar10_data
from cs_lib.solver import Solver

check_true(
    isinstance(five_layer_settings, dict) and sorted(five_layer_settings) == ["learning_rate", "weight_scale"],
    "five_layer_settings must be a dict with the keys 'weight_scale' and 'learning_rate'",
)
weight_scale = five_layer_settings["weight_scale"]
weight_scale = weight_scale if weight_scale == "kaiming" else float(weight_scale)
# the same 50 images and training run as the notebook's, made here from the dataset and the recorded settings
dataset = get_cifar10_data(dtype=np.float32)
fifty = {
    "X_train": dataset["X_train"][:50],
    "y_train": dataset["y_train"][:50],
    "X_val": dataset["X_val"][:100],
    "y_val": dataset["y_val"][:100],
}
retrained = Solver(
    FullyConnectedNet([100, 100, 100, 100], weight_scale=weight_scale, seed=0),
    fifty,
    update_rule="sgd",
    optim_config={"learning_rate": float(five_layer_settings["learning_rate"])},
    num_epochs=20,
    batch_size=25,
    verbose=False,
    seed=0,
)
retrained.train()
check_scalar(
    max(retrained.train_acc_history),
    1.0,
    f"the five-layer net's best training accuracy on 50 images with five_layer_settings = {five_layer_settings}",
)
### BEGIN HIDDEN TESTS
# the settings are the answer: they must overfit the reference net too (a student net that memorises its
# training images reaches 1.0 with any settings, so the check above alone would pay for none)
from autograder.grading.trusted.reference import isolated_reference_module, reference_module

reference_retrained = Solver(
    isolated_reference_module("cs_lib.classifiers.fc_net").FullyConnectedNet(
        [100, 100, 100, 100], weight_scale=weight_scale, seed=0
    ),
    fifty,
    update_rule=reference_module("cs_lib.optim").sgd,
    optim_config={"learning_rate": float(five_layer_settings["learning_rate"])},
    num_epochs=20,
    batch_size=25,
    verbose=False,
    seed=0,
)
reference_retrained.train()
check_scalar(
    max(reference_retrained.train_acc_history),
    1.0,
    f"the reference five-layer net's best training accuracy on 50 images with five_layer_settings = {five_layer_settings}",
)
### END HIDDEN TESTS

# %% [markdown]
# ## Weight initialisation, layer by layer
#
# Why is the five-layer net so particular about `weight_scale`? Follow one batch through a deep net. A
# hidden layer computes $h = \max(0, a)$ with $a = x W + b$: each pre-activation $a_j$ adds up fan\_in
# products of a weight and an input, so its spread is about $\sqrt{\text{fan\_in}} \cdot$ `weight_scale`
# times the spread of the inputs, and the ReLU then zeroes about half of the units. From layer to layer these
# factors multiply: below 1 the activations shrink towards 0, above 1 they grow without bound, and the
# backward pass multiplies the gradients by the same kind of factors on its way back to the first layer.
#
# **Kaiming initialisation** (He et al., 2015) gives every layer its own scale: weights drawn with the
# standard deviation $\sqrt{2 / \text{fan\_in}}$, where fan\_in is the number of inputs of the layer (for a
# 3072 → 100 layer that is 0.0255, for a 100 → 100 layer 0.141). Give `FullyConnectedNet` the option
# `weight_scale="kaiming"`, which draws every $W_i$ that way; a number still means one standard deviation
# for all layers.

# %% test="fc_net_kaiming" points=2
import numpy as np

from cs_lib.checks import check_scalar, check_true
from cs_lib.classifiers.fc_net import FullyConnectedNet

model = FullyConnectedNet([400, 300], input_dim=500, num_classes=10, weight_scale="kaiming", seed=0)
for i, fan_in in enumerate((500, 400, 300), start=1):
    W = model.params[f"W{i}"]
    check_scalar(np.std(W), np.sqrt(2 / fan_in), f"the standard deviation of W{i} (fan-in {fan_in})", rtol=0.05)
    check_scalar(np.mean(W), 0.0, f"the mean of W{i}", atol=0.05 * np.sqrt(2 / fan_in))
    check_scalar(np.abs(model.params[f"b{i}"]).max(), 0.0, f"the initial b{i} with Kaiming's weights")
check_true(model.params["W1"].dtype == np.float32, "Kaiming's weights keep the net's dtype (float32 by default)")
print("every layer's weights have the standard deviation sqrt(2 / fan_in)")
### BEGIN HIDDEN TESTS
# fan-ins far apart (a fan-out rule or 1 / fan_in would miss by far more than the tolerance), float64, a seed
model = FullyConnectedNet([60, 2000], input_dim=30, num_classes=4, weight_scale="kaiming", dtype=np.float64, seed=5)
for i, fan_in in enumerate((30, 60, 2000), start=1):
    std = float(np.std(model.params[f"W{i}"]))
    check_true(
        bool(abs(std / np.sqrt(2 / fan_in) - 1) < 0.15),
        f"W{i} (fan-in {fan_in}) has standard deviation {std:.4g}, expected sqrt(2 / {fan_in}) = {np.sqrt(2 / fan_in):.4g}",
    )
check_true(model.params["W2"].dtype == np.float64, "Kaiming's weights in float64 when dtype=np.float64")
again = FullyConnectedNet([60, 2000], input_dim=30, num_classes=4, weight_scale="kaiming", dtype=np.float64, seed=5)
check_scalar(
    np.abs(again.params["W3"] - model.params["W3"]).max(), 0.0, "two Kaiming nets made with seed 5 (draw with the rng)"
)
# a number still means one standard deviation for every layer
model = FullyConnectedNet([50, 2000], input_dim=30, num_classes=4, weight_scale=0.2, seed=6)
for i in (1, 2, 3):
    check_scalar(np.std(model.params[f"W{i}"]), 0.2, f"the standard deviation of W{i} with weight_scale 0.2", rtol=0.15)
### END HIDDEN TESTS

# %% [markdown]
# Now three initialisations side by side on a ten-layer net (nine hidden layers of 100): `weight_scale`
# 0.01 (too small for layers of 100 inputs), 0.3 (too large) and `"kaiming"`. One batch of training images,
# scaled to a standard deviation of 1, goes forward through your layers and the gradient of the loss comes
# back. For every hidden layer we keep its activations (the ReLU outputs) and the gradient of the loss with
# respect to them, and compare their spreads (standard deviations) from the first hidden layer to the last.

# %%
from cs_lib.layer_utils import affine_relu_backward, affine_relu_forward
from cs_lib.layers import affine_backward, affine_forward, softmax_loss


def layer_statistics(model, X, y):
    """(loss, activations, gradients): each hidden layer's ReLU outputs and the loss's gradient with respect to
    them, from one forward and one backward pass through the layers."""
    L = model.num_layers
    activations, caches, hidden = [], [], X
    for i in range(1, L):
        hidden, cache = affine_relu_forward(hidden, model.params[f"W{i}"], model.params[f"b{i}"])
        activations.append(hidden)
        caches.append(cache)
    scores, scores_cache = affine_forward(hidden, model.params[f"W{L}"], model.params[f"b{L}"])
    loss, dscores = softmax_loss(scores, y)
    upstream, _, _ = affine_backward(dscores, scores_cache)
    gradients = [None] * (L - 1)
    for i in range(L - 1, 0, -1):
        gradients[i - 1] = upstream
        upstream, _, _ = affine_relu_backward(upstream, caches[i - 1])
    return loss, activations, gradients


X_probe = data["X_train"][:200].astype(np.float64)
X_probe /= X_probe.std()
y_probe = data["y_train"][:200]
init_statistics = {}
for weight_scale in (1e-2, 3e-1, "kaiming"):
    model = FullyConnectedNet([100] * 9, weight_scale=weight_scale, dtype=np.float64, seed=0)
    init_statistics[str(weight_scale)] = layer_statistics(model, X_probe, y_probe)

print(f"{'weight_scale':>12} {'loss':>10}   std of the activations, layer 1 / 9   std of the gradients, layer 1 / 9")
spreads = {}
for name, (loss, activations, gradients) in init_statistics.items():
    spreads[name] = ([a.std() for a in activations], [g.std() for g in gradients])
    (a_first, *_, a_last), (g_first, *_, g_last) = spreads[name]
    print(f"{name:>12} {loss:>10.4g}   {a_first:>12.2e} / {a_last:<12.2e}          {g_first:>12.2e} / {g_last:<12.2e}")

growth = {name: (a[-1] / a[0], g[0] / g[-1]) for name, (a, g) in spreads.items()}
show_effect(
    growth["0.01"][0] < 1e-3 and growth["0.01"][1] < 1e-3,
    "with weights too small, the activations shrink more than a thousandfold from the first hidden layer to the "
    "last, and the gradients more than a thousandfold on their way back to the first",
)
show_effect(
    growth["0.3"][0] > 1e2 and growth["0.3"][1] > 1e2,
    "with weights too large, the activations grow more than a hundredfold from the first hidden layer to the last, "
    "and the gradients more than a hundredfold on their way back to the first",
)
show_effect(
    all(0.5 < ratio < 2 for ratio in growth["kaiming"]),
    "with Kaiming's scale, both keep their spread within a factor of 2 across the nine layers",
)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for name, (activation_stds, gradient_stds) in spreads.items():
    layers = np.arange(1, len(activation_stds) + 1)
    axes[0].semilogy(layers, activation_stds, "o-", label=f"weight_scale {name}")
    axes[1].semilogy(layers, gradient_stds, "o-", label=f"weight_scale {name}")
for ax, what in zip(axes, ("activations", "gradients of the loss with respect to them")):
    ax.set_xlabel("hidden layer")
    ax.set_ylabel("standard deviation")
    ax.set_title(what, fontsize=10)
axes[0].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The activations themselves, layer by layer. Every histogram has a tall bar at 0, the units the ReLU switched
# off; what differs is the spread of the others. Each row shares its x axis, so a layer whose histogram is
# nothing but that bar has outputs that are all nearly 0 on the row's scale:

# %% tags=["shortened"]
if not grading():  # drawing 27 histograms takes a few seconds: the grading run leaves them out
    fig, axes = plt.subplots(3, 9, figsize=(12, 4.6), sharex="row")
    for row, (name, (_, activations, _)) in zip(axes, init_statistics.items()):
        edges = np.linspace(min(a.min() for a in activations), max(a.max() for a in activations), 31)
        for layer, (ax, values) in enumerate(zip(row, activations), start=1):
            ax.hist(values.ravel(), bins=edges)  # one set of bins for the row: a shrinking spread is a spike
            ax.set_title(f"layer {layer}\nstd {values.std():.1e}", fontsize=7)
            ax.set_yticks([])
            ax.tick_params(labelsize=6)
            ax.locator_params(axis="x", nbins=3)
        row[0].set_ylabel(f"weight_scale\n{name}", fontsize=8)
    fig.suptitle("activations of the nine hidden layers", fontsize=10)
    fig.tight_layout()
    plt.show()

# %% [markdown] answer="weight_scale_question" points=2
# **Inline question 1.** Using the statistics above and your two overfitting runs: what does `weight_scale`
# do to the activations and the gradients of a deep network, what does that mean for learning with each of the
# three initialisations, and why was the five-layer net more sensitive to it than the three-layer net?
#
# **Your answer:**
#
# ### BEGIN SOLUTION
# Each layer multiplies the spread of its activations by roughly `weight_scale * sqrt(fan_in / 2)`, and
# backpropagation multiplies the gradients by the same kind of factor on the way back. With 0.01 the factor is
# about 0.07: the activations shrink geometrically with depth (the last hidden layer's are all about 0, a
# spike in the histogram), the scores are all about 0 and the loss sits at $\log C$; the gradients reaching
# the first layers are many orders of magnitude smaller than those of the last, so the early layers barely
# learn and training stalls. With 0.3 the factor is about 2: activations, scores and gradients explode, the
# loss is huge and SGD diverges (NaN) unless the learning rate is tiny. With Kaiming's scale the factor is
# about 1 in every layer, so activations and gradients keep their spread through all nine layers and every
# layer learns at a similar pace. Because the factor compounds over the layers, the range of scales that
# trains narrows as the net gets deeper, which is why the five-layer net needed a carefully chosen scale while
# the three-layer net trained over a wider range.
# ### END SOLUTION

# %% [markdown] answer="kaiming_derivation" points=2
# **Inline question 2.** Derive Kaiming's scale. Take a hidden layer's pre-activation $a_j = \sum_k h_k W_{kj}$
# (no bias) over its fan\_in inputs $h_k = \max(0, a'_k)$, the ReLU outputs of the layer before. Assume the
# weights are independent of each other and of the inputs, with mean 0 and variance $\sigma^2$, and that each
# $a'_k$ has a distribution symmetric around 0.
# (a) Show that $\operatorname{Var}(a_j) = \text{fan\_in} \cdot \sigma^2 \cdot \mathbb{E}[h_k^2]$ (why is it
# $\mathbb{E}[h_k^2]$ and not $\operatorname{Var}(h_k)$?).
# (b) Show that $\mathbb{E}[h_k^2] = \tfrac{1}{2} \operatorname{Var}(a'_k)$.
# (c) Conclude that $\sigma = \sqrt{2 / \text{fan\_in}}$ keeps $\operatorname{Var}(a)$ the same from layer to
# layer. Which $\sigma$ would do that for a layer without the ReLU, and why does the ReLU need the factor 2?
#
# **Your answer:**
#
# ### BEGIN SOLUTION
# (a) The terms $h_k W_{kj}$ are independent with mean $\mathbb{E}[h_k]\,\mathbb{E}[W_{kj}] = 0$, so the
# variance of their sum is the sum of their variances, $\operatorname{Var}(h_k W_{kj}) =
# \mathbb{E}[h_k^2 W_{kj}^2] - 0 = \mathbb{E}[h_k^2]\,\mathbb{E}[W_{kj}^2] = \sigma^2\,\mathbb{E}[h_k^2]$,
# which gives fan\_in $\sigma^2\,\mathbb{E}[h_k^2]$. It is the second moment, not the variance, because a
# ReLU output is never negative: $h_k$ has a positive mean, and only the weights' zero mean removes the cross
# term.
# (b) $h_k^2 = a'^2_k$ where $a'_k > 0$ and 0 elsewhere. Since $a'_k$ is symmetric around 0, half of
# $\mathbb{E}[a'^2_k]$ comes from $a'_k > 0$: $\mathbb{E}[h_k^2] = \tfrac12 \mathbb{E}[a'^2_k] = \tfrac12
# \operatorname{Var}(a'_k)$ (its mean is 0 by symmetry).
# (c) $\operatorname{Var}(a_j) = \tfrac12\,\text{fan\_in}\,\sigma^2 \operatorname{Var}(a'_k)$ stays the same
# when $\tfrac12\,\text{fan\_in}\,\sigma^2 = 1$, i.e. $\sigma = \sqrt{2 / \text{fan\_in}}$. Without the ReLU
# (a linear layer, or tanh near 0) the input's second moment is its whole variance, so
# $\sigma = \sqrt{1 / \text{fan\_in}}$ (LeCun's, or Xavier's when fan-in and fan-out are averaged); the
# factor 2 makes up for the half of the signal the ReLU discards.
# ### END SOLUTION

# %% [markdown]
# ## Update rules
#
# Plain SGD takes a step against the gradient. The update rules of the lecture change the step, each
# in `cs_lib/optim.py` with the signature `next_w, config = rule(w, dw, config)`; `config` holds the
# hyperparameters and the rule's **state**, which the Solver hands back at the next call:
#
# | rule | update | state |
# |---|---|---|
# | SGD + momentum | $v \leftarrow \mu v - \eta\, dw,\quad w \leftarrow w + v$ | `velocity` |
# | RMSProp | $c \leftarrow \rho c + (1 - \rho)\, dw^2,\quad w \leftarrow w - \eta\, dw / (\sqrt{c} + \epsilon)$ | `cache` |
# | Adam | $m \leftarrow \beta_1 m + (1-\beta_1) dw,\; v \leftarrow \beta_2 v + (1-\beta_2) dw^2,\; w \leftarrow w - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)$ | `m`, `v`, `t` |
#
# Defaults: momentum $\mu = 0.9$ and $\eta = 10^{-2}$; RMSProp $\rho = 0.99$, $\epsilon = 10^{-8}$,
# $\eta = 10^{-2}$; Adam $\beta_1 = 0.9$, $\beta_2 = 0.999$, $\epsilon = 10^{-8}$, $\eta = 10^{-3}$.
# Adam's **bias correction** $\hat m = m / (1 - \beta_1^t)$, $\hat v = v / (1 - \beta_2^t)$ uses the step
# count $t$, which is **incremented before the correction** (CS231n's and PyTorch's convention): the
# first call uses $t = 1$. Implement `sgd_momentum`, `rmsprop` and `adam`.

# %% test="sgd_momentum" points=2
import numpy as np

from cs_lib.checks import check_rel_error, check_scalar
from cs_lib.optim import sgd_momentum

N, D = 4, 5
w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
velocity = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
config = {"learning_rate": 1e-3, "velocity": velocity.copy()}
current, v_ref, w_ref = w.copy(), velocity.copy(), w.copy()
for step in range(3):  # the velocity must carry over from call to call
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D) * (1 + step) ** 2
    current, config = sgd_momentum(current, dw, config)
    v_ref = 0.9 * v_ref - 1e-3 * dw
    w_ref = w_ref + v_ref
    error = check_rel_error(current, w_ref, f"sgd_momentum next_w after call {step + 1}", tol=1e-8)
    check_rel_error(config["velocity"], v_ref, f"sgd_momentum config['velocity'] after call {step + 1}", tol=1e-8)
    print(f"call {step + 1}: next_w relative error {error:.1e}")

next_w, config = sgd_momentum(w.copy(), dw, None)  # a first call: zero velocity, default hyperparameters
check_scalar(config["learning_rate"], 1e-2, "sgd_momentum's default learning_rate")
check_scalar(config["momentum"], 0.9, "sgd_momentum's default momentum")
check_rel_error(next_w, w - 1e-2 * dw, "sgd_momentum's first step from zero velocity", tol=1e-10)
### BEGIN HIDDEN TESTS
# momentum 0.8 from a fresh config: the velocity is a decaying sum of the past steps
rng = np.random.default_rng(12)
w = rng.standard_normal((3, 4))
current, config = w.copy(), {"learning_rate": 0.02, "momentum": 0.8}
past = []
for step in range(5):
    past.append(rng.standard_normal(w.shape))
    current, config = sgd_momentum(current, past[-1], config)
    velocity = -0.02 * sum(0.8 ** (step - k) * grad for k, grad in enumerate(past))
    check_rel_error(config["velocity"], velocity, f"sgd_momentum velocity after call {step + 1}", tol=1e-10)
    check_rel_error(
        current - w,
        sum(-0.02 * sum(0.8 ** (j - k) * past[k] for k in range(j + 1)) for j in range(step + 1)),
        f"sgd_momentum total displacement after call {step + 1}",
        tol=1e-9,
    )
### END HIDDEN TESTS

# %% test="rmsprop" points=2
import numpy as np

from cs_lib.checks import check_rel_error, check_scalar
from cs_lib.optim import rmsprop

N, D = 4, 5
w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
cache = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
config = {"learning_rate": 1e-2, "cache": cache.copy()}
current, c_ref, w_ref = w.copy(), cache.copy(), w.copy()
for step in range(3):
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D) * (1 + step)
    current, config = rmsprop(current, dw, config)
    c_ref = 0.99 * c_ref + 0.01 * dw**2
    w_ref = w_ref - 1e-2 * dw / (np.sqrt(c_ref) + 1e-8)
    error = check_rel_error(current, w_ref, f"rmsprop next_w after call {step + 1}", tol=1e-8)
    check_rel_error(config["cache"], c_ref, f"rmsprop config['cache'] after call {step + 1}", tol=1e-8)
    print(f"call {step + 1}: next_w relative error {error:.1e}")

# from an empty cache, cache = 0.01 dw^2 and the first step is learning_rate * dw / (0.1 |dw| + epsilon):
# about ten times the learning rate for every weight
next_w, config = rmsprop(w.copy(), dw, None)
check_scalar(config["learning_rate"], 1e-2, "rmsprop's default learning_rate")
check_scalar(config["decay_rate"], 0.99, "rmsprop's default decay_rate")
check_rel_error(w - next_w, 1e-2 * dw / (0.1 * np.abs(dw) + 1e-8), "rmsprop's first step from an empty cache", tol=1e-9)
### BEGIN HIDDEN TESTS
# other hyperparameters, and small gradients where the epsilon (added outside the square root) matters
rng = np.random.default_rng(13)
w = rng.standard_normal((3, 4))
current, config = w.copy(), {"learning_rate": 1e-3, "decay_rate": 0.9, "epsilon": 1e-6}
squares = []
for step in range(5):
    grad = rng.standard_normal(w.shape) * 1e-6
    squares.append(grad**2)
    previous = current
    current, config = rmsprop(current, grad, config)
    cache = sum(0.1 * 0.9 ** (step - k) * square for k, square in enumerate(squares))
    check_rel_error(config["cache"], cache, f"rmsprop cache after call {step + 1}", tol=1e-10)
    check_rel_error(previous - current, 1e-3 * grad / (np.sqrt(cache) + 1e-6), f"rmsprop step {step + 1}", tol=1e-9)
### END HIDDEN TESTS

# %% test="adam" points=2
import numpy as np

from cs_lib.checks import check_rel_error, check_scalar
from cs_lib.optim import adam

N, D = 4, 5
w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
m = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
v = np.linspace(0.7, 0.5, num=N * D).reshape(N, D)
config = {"learning_rate": 1e-2, "m": m.copy(), "v": v.copy(), "t": 5}
current, w_ref, t = w.copy(), w.copy(), 5
for step in range(3):  # m, v and t must carry over from call to call
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D) * (1 + step)
    current, config = adam(current, dw, config)
    t += 1  # incremented before the bias correction
    m = 0.9 * m + 0.1 * dw
    v = 0.999 * v + 0.001 * dw**2
    w_ref = w_ref - 1e-2 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    error = check_rel_error(current, w_ref, f"adam next_w after call {step + 1}", tol=1e-8)
    check_rel_error(config["m"], m, f"adam config['m'] after call {step + 1}", tol=1e-8)
    check_rel_error(config["v"], v, f"adam config['v'] after call {step + 1}", tol=1e-8)
    check_scalar(config["t"], t, f"adam config['t'] after call {step + 1}")
    print(f"call {step + 1}: next_w relative error {error:.1e}")

# thanks to the bias correction, m_hat = dw and v_hat = dw^2 at the first call, so the very first step is
# learning_rate * dw / (|dw| + epsilon): about the learning rate for every weight
next_w, config = adam(w.copy(), dw, None)
check_scalar(config["t"], 1, "adam's t after the first call")
check_scalar(config["learning_rate"], 1e-3, "adam's default learning_rate")
check_rel_error(w - next_w, 1e-3 * dw / (np.abs(dw) + 1e-8), "adam's first step (bias-corrected)", tol=1e-9)
### BEGIN HIDDEN TESTS
# other hyperparameters from a fresh config; moments written as bias-corrected weighted averages
rng = np.random.default_rng(14)
w = rng.standard_normal((3, 4))
current, config = w.copy(), {"learning_rate": 2e-3, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6}
past = []
for step in range(6):
    past.append(rng.standard_normal(w.shape) * 10.0 ** -(step % 3 + 2))
    previous = current
    current, config = adam(current, past[-1], config)
    t = step + 1
    m_hat = sum(0.2 * 0.8 ** (t - 1 - k) * g for k, g in enumerate(past)) / (1 - 0.8**t)
    v_hat = sum(0.01 * 0.99 ** (t - 1 - k) * g**2 for k, g in enumerate(past)) / (1 - 0.99**t)
    check_rel_error(previous - current, 2e-3 * m_hat / (np.sqrt(v_hat) + 1e-6), f"adam step {t}", tol=1e-9)
    check_scalar(config["t"], t, f"adam config['t'] after call {t}")
### END HIDDEN TESTS

# %% [markdown]
# ### The four rules on one problem
#
# The same six-layer net (five hidden layers of 100), from the same small initial weights
# (`weight_scale` 0.05), trained on 4,000 images with each rule at a learning rate that suits it, for four
# epochs (two in a grading run). Plain SGD creeps along: with small weights its steps are small too. Momentum
# and Adam pull ahead, to a clearly lower training loss and a higher validation accuracy.

# %%
learning_rates = {"sgd": 1e-2, "sgd_momentum": 1e-2, "rmsprop": 1e-4, "adam": 1e-3}
num_train, num_val = 4000, scaled(500, 250)
rule_data = dict(
    data,
    X_train=data["X_train"][:num_train],
    y_train=data["y_train"][:num_train],
    X_val=data["X_val"][:num_val],
    y_val=data["y_val"][:num_val],
)
rule_solvers = {}
for rule, learning_rate in learning_rates.items():
    model = FullyConnectedNet([100] * 5, weight_scale=5e-2, seed=0)
    rule_solvers[rule] = Solver(
        model,
        rule_data,
        update_rule=rule,
        optim_config={"learning_rate": learning_rate},
        num_epochs=scaled(4, 2),
        batch_size=100,
        verbose=False,
        seed=0,
    )
    rule_solvers[rule].train()
    print(
        f"{rule:>12}: final training loss {np.mean(rule_solvers[rule].loss_history[-10:]):.3f}, "
        f"best validation accuracy {rule_solvers[rule].best_val_acc:.1%}"
    )

final_loss = {rule: np.mean(s.loss_history[-10:]) for rule, s in rule_solvers.items()}
best_val = {rule: s.best_val_acc for rule, s in rule_solvers.items()}
show_effect(
    max(final_loss["sgd_momentum"], final_loss["adam"]) < final_loss["sgd"] - 0.1,
    "momentum and Adam end with a training loss more than 0.1 below plain SGD's",
)
show_effect(
    min(best_val["sgd_momentum"], best_val["adam"]) > best_val["sgd"] + 0.05,
    "momentum and Adam reach a validation accuracy more than 5 points above plain SGD's",
)
plot_curves(
    {rule: s.loss_history for rule, s in rule_solvers.items()},
    ylabel="training loss",
    title="update rules: training loss per iteration",
    marker="-",
)
plot_curves(
    {rule: s.val_acc_history for rule, s in rule_solvers.items()},
    xlabel="epoch",
    ylabel="validation accuracy",
    title="update rules: validation accuracy",
    marker="-o",
)
plt.show()

# %% [markdown] answer="adam_bias_question" points=2
# **Inline question 3.** Adam divides its moment estimates by $1 - \beta_1^t$ and $1 - \beta_2^t$. Why
# is this correction needed early in training, and why does it stop mattering later? What would the
# very first step be without it, with the default $\beta_1 = 0.9$ and $\beta_2 = 0.999$?
#
# **Your answer:**
#
# ### BEGIN SOLUTION
# $m$ and $v$ start at zero, so for the first steps they are averages over only a few gradients that
# still carry a large weight on the zero start: for constant gradients $g$, $m_t = (1 - \beta_1^t)\,g$
# and $v_t = (1 - \beta_2^t)\,g^2$, i.e. both are biased towards zero, $v$ much more strongly because
# $\beta_2$ is close to 1. Dividing by $1 - \beta^t$ removes exactly this bias, so $\hat m \approx g$ and
# $\hat v \approx g^2$ from the first step on. Without it the first step would be
# $\eta \cdot 0.1 g / \sqrt{0.001 g^2} \approx 3.2\,\eta$ per weight, about three times too large (and
# the ratio drifts for hundreds of steps while $\beta_2^t$ decays); with it the first step is about
# $\eta \cdot \text{sign}(g)$. As $t$ grows, $\beta^t \to 0$ (after a few thousand steps for
# $\beta_2 = 0.999$), the correction factors go to 1 and the correction stops mattering.
# ### END SOLUTION

# %% [markdown]
# ## Dropout
#
# Dropout regularises a network by zeroing each hidden unit at random during training. With **inverted
# dropout**, a unit is kept with probability $p$ and the kept units are divided by $p$:
#
# $$\text{mask} = \frac{[u < p]}{p},\; u \sim \text{Uniform}(0, 1), \qquad \text{out} = x \odot \text{mask},
#   \qquad \mathbb{E}[\text{out}] = x,$$
#
# so at test time dropout is simply the identity. Here `dropout_param = {'mode': 'train' | 'test',
# 'p': keep probability, 'seed': optional}`; with a seed the mask is drawn from
# `np.random.default_rng(seed)`, so one seed always gives the same mask. The backward pass must reuse
# the forward pass's mask (it is in the cache): $dx = dout \odot \text{mask}$. Example with $p = 0.5$:
# $x = [1, 2, 3, 4]$ may give $[2, 0, 0, 8]$. Implement `dropout_forward` and `dropout_backward`,
# then the dropout part of `FullyConnectedNet` (a dropout layer after every hidden ReLU when
# `dropout_keep_ratio < 1`).

# %% test="dropout_forward" points=2
import numpy as np

from cs_lib.checks import as_array, check_close, check_scalar, check_true
from cs_lib.layers import dropout_forward

rng = np.random.default_rng(15)
x = rng.standard_normal((500, 500)) + 10
for p in (0.25, 0.4, 0.7):
    out = as_array(dropout_forward(x, {"mode": "train", "p": p, "seed": 123})[0], "dropout_forward out", x.shape)
    kept = out != 0
    check_scalar(kept.mean(), p, f"the fraction of units kept with p = {p}", atol=0.01)
    check_close(out[kept], x[kept] / p, f"the kept units with p = {p} (divided by p)", rtol=1e-12)
    check_scalar(out.mean(), x.mean(), f"the mean of the output with p = {p} (inverted dropout keeps it)", rtol=0.01)
    out_test = dropout_forward(x, {"mode": "test", "p": p, "seed": 123})[0]
    check_close(out_test, x, f"dropout_forward in test mode (the identity) with p = {p}", rtol=0)
    print(f"p = {p}: kept {kept.mean():.3f}, mean input {x.mean():.3f}, mean train output {out.mean():.3f}")

first = as_array(dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 7})[0], "dropout_forward out")
again = dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 7})[0]
other = as_array(dropout_forward(x, {"mode": "train", "p": 0.5, "seed": 8})[0], "dropout_forward out")
check_close(again, first, "dropout_forward with the same seed twice (the same mask)", rtol=0)
check_true(bool(np.any((first == 0) != (other == 0))), "dropout_forward gave the same mask for seeds 7 and 8")
### BEGIN HIDDEN TESTS
for shape in ((1, 6), (3, 4, 5), (2000,)):
    x = rng.standard_normal(shape) + 5
    check_close(dropout_forward(x, {"mode": "test", "p": 0.3})[0], x, f"dropout_forward test mode on {shape}", rtol=0)
    check_close(dropout_forward(x, {"mode": "train", "p": 1.0})[0], x, f"dropout_forward with p = 1 on {shape}", rtol=0)
    out = as_array(dropout_forward(x, {"mode": "train", "p": 0.6, "seed": 1})[0], "dropout_forward out", shape)
    kept = out != 0
    check_close(out[kept], x[kept] / 0.6, f"dropout_forward kept units on {shape}", rtol=1e-12)
# without a seed every call draws a new mask
x = rng.standard_normal((50, 50)) + 5
masks = [as_array(dropout_forward(x, {"mode": "train", "p": 0.5})[0], "dropout_forward out") != 0 for _ in range(2)]
check_true(bool(np.any(masks[0] != masks[1])), "dropout_forward without a seed drew the same mask twice")
### END HIDDEN TESTS

# %% test="dropout_backward" points=2
import numpy as np

from cs_lib.checks import as_array, check_close, check_rel_error, check_scalar
from cs_lib.gradient_check import eval_numerical_gradient_array
from cs_lib.layers import dropout_backward, dropout_forward


def checked_mask(out, x, p):
    """The scaled mask (0 or 1 / p per unit) that dropout_forward's out shows it applied to x, checked to be one."""
    out = as_array(out, "dropout_forward out", x.shape)
    kept = out != 0
    check_close(out[kept], x[kept] / p, f"dropout_forward's kept units with p = {p} (x / p)", rtol=1e-12)
    spread = max(0.05, 5 * np.sqrt(p * (1 - p) / x.size))  # five standard deviations of the kept fraction
    check_scalar(kept.mean(), p, f"the fraction of units dropout_forward kept with p = {p}", atol=spread)
    return kept / p


rng = np.random.default_rng(16)
x = rng.standard_normal((20, 20)) + 10
dout = rng.standard_normal(x.shape)
dropout_param = {"mode": "train", "p": 0.2, "seed": 123}
out, cache = dropout_forward(x, dropout_param)
mask = checked_mask(out, x, 0.2)
dx = dropout_backward(dout, cache)
dx_num = eval_numerical_gradient_array(lambda x: x * mask, x.copy(), dout)  # of the mask the forward pass applied
error = check_rel_error(dx, dx_num, "dropout_backward dx", tol=1e-8)
print(f"dx relative error: {error:.1e} (expect about 1e-10 or less)")

# without a seed the backward pass must reuse the forward pass's own mask: dx = dout * out / x
out, cache = dropout_forward(x, {"mode": "train", "p": 0.5})
mask = checked_mask(out, x, 0.5)
check_close(dropout_backward(dout, cache), dout * mask, "dropout_backward dx (the forward pass's mask)", rtol=1e-10)
### BEGIN HIDDEN TESTS
out, cache = dropout_forward(x, {"mode": "test", "p": 0.3})
check_close(dropout_backward(dout, cache), dout, "dropout_backward in test mode (the identity)", rtol=0)
x = rng.standard_normal((3, 4, 5)) + 10
dout = rng.standard_normal(x.shape)
out, cache = dropout_forward(x, {"mode": "train", "p": 0.7})
mask = checked_mask(out, x, 0.7)
first = dropout_backward(dout, cache)
check_close(first, dout * mask, "dropout_backward dx on (3, 4, 5)", rtol=1e-10)
check_close(dropout_backward(dout, cache), first, "dropout_backward called twice on one cache", rtol=0)
### END HIDDEN TESTS

# %% test="fc_net_dropout" points=2
import numpy as np

from cs_lib.checks import check_rel_error, check_scalar, check_true
from cs_lib.classifiers.fc_net import FullyConnectedNet
from cs_lib.gradient_check import eval_numerical_gradient
from cs_lib.layers import dropout_forward


def set_random_params(model, dims, rng):
    """This test's own parameters (weights that keep activations near unit scale, non-zero biases so no ReLU
    input sits at its kink), given to the model as copies: every expected value is computed from these,
    never from what the model reports back."""
    params = {}
    for i in range(1, len(dims)):
        params[f"W{i}"] = rng.standard_normal((dims[i - 1], dims[i])) * np.sqrt(2 / dims[i - 1])
        params[f"b{i}"] = 0.1 * rng.standard_normal(dims[i])
    for name, value in params.items():
        model.params[name] = value.copy()
    return params


def reference_loss(params, X, y, reg, masks=()):
    """(scores, loss) of affine - ReLU - ... - affine - softmax with params, written here (masks: the dropout
    layers' scaled masks after each hidden ReLU); the loss adds 0.5 * reg * sum(W ** 2), biases unregularised."""
    layers = len(params) // 2
    hidden = X.reshape(len(X), -1)
    for i in range(1, layers):
        hidden = np.maximum(0, hidden @ params[f"W{i}"] + params[f"b{i}"])
        if masks:
            hidden = hidden * masks[i - 1]
    scores = hidden @ params[f"W{layers}"] + params[f"b{layers}"]
    shifted = scores - scores.max(axis=1, keepdims=True)
    data_loss = -np.mean(shifted[np.arange(len(X)), y] - np.log(np.exp(shifted).sum(axis=1)))
    return scores, data_loss + 0.5 * reg * sum(np.sum(params[f"W{i}"] ** 2) for i in range(1, layers + 1))


def numerical_gradients(params, X, y, reg, masks=()):
    """Centred-difference gradients of reference_loss for every parameter."""
    return {
        name: eval_numerical_gradient(
            lambda value, name=name: reference_loss({**params, name: value}, X, y, reg, masks)[1], params[name].copy()
        )
        for name in params
    }


def seeded_masks(N, widths, keep, seed):
    """The scaled masks dropout_forward draws with this seed for each hidden layer (one call per layer, as
    the net makes), each checked to be a dropout mask: every entry 0 or 1 / keep."""
    masks = []
    for width in widths:
        mask = np.asarray(dropout_forward(np.ones((N, width)), {"mode": "train", "p": keep, "seed": seed})[0])
        check_true(
            bool(np.all((mask == 0) | np.isclose(mask, 1 / keep))) and bool(np.any(mask != 0)),
            f"dropout_forward of ones with keep ratio {keep} must give a mask of 0s and 1 / {keep}s",
        )
        masks.append(mask.astype(np.float64))
    return masks


rng = np.random.default_rng(17)
N, D, H1, H2, C = 3, 8, 10, 9, 5
X = rng.standard_normal((N, D))
y = rng.integers(C, size=N)
for keep in (0.75, 0.5):
    model = FullyConnectedNet(
        [H1, H2], input_dim=D, num_classes=C, dropout_keep_ratio=keep, reg=0.1, dtype=np.float64, seed=123
    )
    params = set_random_params(model, [D, H1, H2, C], rng)
    masks = seeded_masks(N, [H1, H2], keep, seed=123)  # with a seed, every training pass uses these masks
    loss, grads = model.loss(X, y)
    _, expected = reference_loss(params, X, y, 0.1, masks)
    check_scalar(loss, expected, f"FullyConnectedNet training loss, keep ratio {keep} (the seeded masks)", rtol=1e-9)
    numerical = numerical_gradients(params, X, y, 0.1, masks)
    for name in sorted(params):
        error = check_rel_error(grads[name], numerical[name], f"FullyConnectedNet d{name}, keep ratio {keep}", tol=1e-5)
        print(f"keep {keep}: d{name} relative error {error:.1e}")

    # test mode: no dropout at all, so the scores are the plain forward pass's
    plain_scores, plain_loss = reference_loss(params, X, y, 0.1)
    check_rel_error(model.loss(X), plain_scores, f"FullyConnectedNet test-mode scores, keep ratio {keep}", tol=1e-9)
    # training mode drops units, so its loss differs from the plain forward pass's
    check_true(
        bool(abs(float(loss) - plain_loss) > 1e-6),
        f"FullyConnectedNet with keep ratio {keep}: the training loss equals the loss without dropout",
    )
### BEGIN HIDDEN TESTS
# with a seed, the training pass is the plain forward pass times the masks dropout_forward draws for it,
# a dropout layer after each hidden ReLU (and none after the scores)
model = FullyConnectedNet([8, 8], input_dim=D, num_classes=C, dropout_keep_ratio=0.5, dtype=np.float64, seed=99)
params = set_random_params(model, [D, 8, 8, C], rng)
X = rng.standard_normal((5, D))
y = rng.integers(C, size=5)
loss, grads = model.loss(X, y)
masks = seeded_masks(5, [8, 8], 0.5, seed=99)
_, expected = reference_loss(params, X, y, 0.0, masks)
check_scalar(loss, expected, "FullyConnectedNet training loss with dropout (seeded masks)", rtol=1e-9)
numerical = numerical_gradients(params, X, y, 0.0, masks)
for name in sorted(params):
    check_rel_error(grads[name], numerical[name], f"FullyConnectedNet d{name} with dropout, seed 99", tol=1e-5)
check_true(model.dropout_param.get("mode") == "train", "after a training pass dropout_param['mode'] should be 'train'")
model.loss(X)
check_true(model.dropout_param.get("mode") == "test", "after model.loss(X) dropout_param['mode'] should be 'test'")
### END HIDDEN TESTS

# %% [markdown]
# ### Dropout on a small training set
#
# Two nets with one hidden layer of 128 units, one without dropout and one keeping each hidden unit
# with probability 0.5, trained with Adam on 500 images for 15 epochs. Without dropout the training accuracy
# races past 90% while the validation accuracy stalls far below; with dropout the gap between the two is
# smaller.

# %%
dropout_data = dict(
    data,
    X_train=data["X_train"][:500],
    y_train=data["y_train"][:500],
    X_val=data["X_val"][:500],
    y_val=data["y_val"][:500],
)
dropout_solvers = {}
for keep in (1, 0.5):
    model = FullyConnectedNet([128], dropout_keep_ratio=keep, seed=0)
    # the seed fixes the initial weights; dropped from dropout_param, so that every step draws a new mask
    # (a fixed mask, which gradient checks need, would just train one smaller network)
    model.dropout_param.pop("seed", None)
    dropout_solvers[keep] = Solver(
        model,
        dropout_data,
        update_rule="adam",
        optim_config={"learning_rate": 5e-4},
        num_epochs=15,
        batch_size=100,
        verbose=False,
        seed=0,
    )
    dropout_solvers[keep].train()
    s = dropout_solvers[keep]
    print(
        f"keep {keep}: final training accuracy {s.train_acc_history[-1]:.1%}, "
        f"final validation accuracy {s.val_acc_history[-1]:.1%}, best validation accuracy {s.best_val_acc:.1%}"
    )

gap = {keep: s.train_acc_history[-1] - s.val_acc_history[-1] for keep, s in dropout_solvers.items()}
show_effect(dropout_solvers[1].train_acc_history[-1] > 0.9, "without dropout the training accuracy passes 90%")
show_effect(
    gap[0.5] < gap[1] - 0.1,
    "with dropout the gap between training and validation accuracy is more than 10 points smaller",
)
curves = {}
for keep, s in dropout_solvers.items():
    label = "no dropout" if keep == 1 else f"keep {keep}"
    curves[f"{label}, train"] = s.train_acc_history
    curves[f"{label}, val"] = s.val_acc_history
plot_curves(curves, xlabel="epoch", ylabel="accuracy", title="dropout on 500 training images", marker="-o")
plt.show()

# %% [markdown]
# ## Summary
#
# The test accuracy of the best networks of this notebook (each restored to its best validation epoch):

# %%
best_rule = max(rule_solvers, key=lambda rule: rule_solvers[rule].best_val_acc)
print(f"two-layer net (SGD): test accuracy {two_layer_test_acc:.1%}")
print(
    f"six-layer net ({best_rule}): test accuracy "
    f"{rule_solvers[best_rule].check_accuracy(data['X_test'], data['y_test']):.1%}"
)
