# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Assignment 1: linear classifiers (SVM and softmax)
#
# The simplest image classifier in the lecture is a linear score function
#
# $$f(x_i; W, b) = W x_i + b,$$
#
# where a 32×32×3 image is stretched into a column $x_i$ of 3072 numbers, $W$ is 10×3072 and
# $b$ holds 10 biases: one row of $W$ per class, so each class score is a weighted sum of all pixels.
# In code we keep one image per *row*, so with $N$ images in $X$ (N, D) the scores of all images
# at once are $S = XW$ (N, C) with $W$ of shape (D, C). The **bias trick** appends a constant 1 to
# every image, so $b$ becomes the last row of $W$ and $D = 3072 + 1 = 3073$.
#
# You will
# - preprocess the images (mean image, bias column, train/validation/dev/test splits);
# - implement the **multiclass SVM loss** and the **softmax loss** with their gradients, first with
#   loops, then vectorised, and check the gradients numerically;
# - train both classifiers with **minibatch SGD** and choose their hyperparameters on the validation set;
# - look at what the learned weights (one template per class) have become.
#
# The code you write lives in `cs_lib/classifiers/linear_svm.py`, `cs_lib/classifiers/softmax.py` and
# `cs_lib/classifiers/linear_classifier.py`; each function says what to implement and what to return.
# Cells marked as tests check your work as you go; `python -m autograder check` runs all of them.
#
# **Regularisation convention.** Both losses add $R(W) = \lambda \sum_{k,l} W_{k,l}^2$ (with $\lambda$ =
# `reg`), whose gradient is $2\lambda W$. Use exactly this: the tests check it.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from cs_lib import vis
from cs_lib.datasets import get_cifar10_data
from cs_lib.gradient_check import grad_check_sparse
from cs_lib.notebook import scaled, show_effect

plt.rcParams["figure.dpi"] = 80

# %% [markdown]
# ## Loading and preprocessing the data
#
# `get_cifar10_data` returns CIFAR-10 when you have downloaded it (`python -m cs_lib.datasets download
# cifar10`) and otherwise the **embedded dataset**: ten classes of procedurally drawn shapes and textures
# (disc, ring, square, triangle, cross, star, crescent, horizontal stripes, vertical stripes, checker) at a
# random size, rotation and position on a cluttered background. A shape's colour is its background's colour
# moved in a random direction (usually lighter) plus a weak **tint of its class**: discs lean red, rings green,
# squares blue, and so on. That tint is a class colour cue, like the blue sky behind CIFAR-10's aeroplanes; it
# is too weak to name the class alone, because every shape still comes in many colours. The data has the
# same format as CIFAR-10 (32×32 RGB, pixel values 0 to 255) and is small: 4,000 training, 1,000 validation
# and 1,000 test images. Everything below works with either.
#
# The splits have different jobs: **train** fits $W$, **validation** chooses hyperparameters (learning
# rate, regularisation strength), and **test** is used once, at the very end, to report how well the
# chosen model generalises. A small **dev** subset of the training set makes the checks below fast.

# %%
data = get_cifar10_data(subtract_mean=False)
class_names = data["class_names"]
print(f"dataset: {data['source']}" + (f" ({data['note']})" if data["note"] else ""))
for split in ("train", "val", "test"):
    print(f"  X_{split}: {data['X_' + split].shape}, y_{split}: {data['y_' + split].shape}")

# %% [markdown]
# A few training images of every class (one column per class):

# %%
vis.show_class_examples(data["X_train"], data["y_train"], class_names, per_class=scaled(6, 1))
plt.show()

# %% [markdown]
# Each image becomes a row of 3072 numbers, scaled from 0..255 to 0..1. We subtract the **mean
# training image** from every split (centring the data, so that the scores of a small random $W$ are
# near zero) and append the bias column of ones. The mean is computed on the training set only: the
# validation and test images must not influence anything we fit.
#
# Dividing by 255 changes no accuracy a linear classifier can reach (the learned $W$ simply comes out
# 255 times larger), but it puts the pixels on the scale of the bias column, makes the initial
# $W = 0.001 \cdot \mathcal{N}(0, 1)$ small compared with the weights SGD learns, and gives learning rates
# of a readable size. (CS231n trains on raw 0..255 pixels: to reuse its hyperparameters, multiply its
# learning rates by $255^2$ and divide its regularisation strengths by $255^2$.)

# %%
mean_image = data["X_train"].mean(axis=0)  # (3, 32, 32), pixel values 0..255
plt.figure(figsize=(2, 2))
plt.imshow(mean_image.transpose(1, 2, 0) / 255)
plt.title("mean image")
plt.axis("off")
plt.show()


def preprocess(images):
    """(N, 3, 32, 32) images in 0..255 -> (N, 3073) rows: centred, scaled to 0..1, with a bias column of ones."""
    rows = (images - mean_image).reshape(len(images), -1)
    rows /= 255
    return np.hstack([rows, np.ones((len(images), 1))])


X_train, X_val, X_test = preprocess(data["X_train"]), preprocess(data["X_val"]), preprocess(data["X_test"])
y_train, y_val, y_test = data["y_train"], data["y_val"], data["y_test"]

dev_rows = np.random.default_rng(0).choice(X_train.shape[0], size=scaled(500, 100), replace=False)
X_dev, y_dev = X_train[dev_rows], y_train[dev_rows]
num_classes = len(class_names)
print(f"X_train {X_train.shape}, X_val {X_val.shape}, X_test {X_test.shape}, X_dev {X_dev.shape}")

# %% [markdown]
# ## The multiclass SVM loss
#
# With the scores $s = f(x_i; W)$ of example $i$, the SVM wants the correct class $y_i$ to score
# higher than every other class by a margin of at least $\Delta = 1$:
#
# $$L_i = \sum_{j \ne y_i} \max(0,\ s_j - s_{y_i} + 1), \qquad
#   L = \frac{1}{N} \sum_i L_i + \lambda \sum_{k,l} W_{k,l}^2 .$$
#
# The lecture's example has three images (a cat, a car, a frog) and three classes:
#
# | scores | cat image | car image | frog image |
# |---|---|---|---|
# | cat | **3.2** | 1.3 | 2.2 |
# | car | 5.1 | **4.9** | 2.5 |
# | frog | -1.7 | 2.0 | **-3.1** |
# | $L_i$ | max(0, 5.1 − 3.2 + 1) + max(0, −1.7 − 3.2 + 1) = 2.9 | 0 | 12.9 |
#
# so $L = (2.9 + 0 + 12.9) / 3 = 5.27$ (without regularisation).
#
# **Gradient.** $s_j = x_i \cdot w_j$ with $w_j$ column $j$ of $W$. Every wrong class $j$ whose margin
# is positive adds $x_i$ to column $j$ of $dW$ and $-x_i$ to column $y_i$:
#
# $$\nabla_{w_j} L_i = \mathbb{1}(s_j - s_{y_i} + 1 > 0)\, x_i \quad (j \ne y_i), \qquad
#   \nabla_{w_{y_i}} L_i = -\Big(\sum_{j \ne y_i} \mathbb{1}(s_j - s_{y_i} + 1 > 0)\Big)\, x_i .$$
#
# Implement `svm_loss_naive` in `cs_lib/classifiers/linear_svm.py` with loops over examples and classes.
#
# **Sanity check at initialisation.** With a small random $W$ all scores are close to 0, so each of the
# $C - 1 = 9$ wrong classes contributes a margin of about 1: the loss should be close to **9**.

# %%
from cs_lib.classifiers.linear_svm import svm_loss_naive

W = 0.0001 * np.random.default_rng(1).standard_normal((X_dev.shape[1], num_classes))
loss, grad = svm_loss_naive(W, X_dev, y_dev, 0.0)
print(f"SVM loss at initialisation: {loss:.3f} (expect about {num_classes - 1})")

# %% test="svm_naive" points=3
import numpy as np

from cs_lib.checks import check_close, check_rel_error, check_scalar, check_shape, check_true
from cs_lib.classifiers.linear_svm import svm_loss_naive
from cs_lib.gradient_check import eval_numerical_gradient

# the lecture's example: with X the identity, the scores are the rows of W
lecture_scores = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
loss, dW = svm_loss_naive(lecture_scores.copy(), np.eye(3), np.array([0, 1, 2]), 0.0)
check_scalar(loss, (2.9 + 0.0 + 12.9) / 3, "svm_loss_naive on the lecture's example")
check_true(isinstance(dW, np.ndarray) and dW.dtype == np.float64, "svm_loss_naive: dW must be a float64 array")
check_shape(dW, (3, 3), "svm_loss_naive dW")
# W = 0: every wrong class has margin exactly 1, so L = C - 1 (the correct class never counts)
loss, _ = svm_loss_naive(np.zeros((8, 5)), np.ones((10, 8)), np.arange(10) % 5, 0.0)
check_scalar(loss, 4.0, "svm_loss_naive with W = 0 and C = 5 classes")

rng = np.random.default_rng(0)
W, X, y = rng.standard_normal((6, 4)), rng.standard_normal((5, 6)), rng.integers(4, size=5)
for reg in (0.0, 0.1):
    loss, dW = svm_loss_naive(W, X, y, reg)
    numerical = eval_numerical_gradient(lambda w, reg=reg: svm_loss_naive(w, X, y, reg)[0], W)
    error = check_rel_error(dW, numerical, f"svm_loss_naive dW with reg = {reg}", tol=1e-7)
    print(f"reg = {reg}: dW relative error {error:.1e} (expect 1e-8 or less)")


### BEGIN HIDDEN TESTS
def svm_reference(W, X, y, reg):
    scores = X @ W
    N, C = scores.shape
    margins = scores - scores[np.arange(N), y][:, None] + 1
    active = (margins > 0) & (np.arange(C)[None, :] != y[:, None])
    loss = np.where(active, margins, 0.0).sum() / N + reg * (W**2).sum()
    dscores = active - np.eye(C)[y] * active.sum(axis=1, keepdims=True)
    return loss, X.T @ dscores / N + 2 * reg * W


for N, D, C, reg, scale in [(20, 15, 7, 0.3, 1.0), (1, 8, 5, 0.2, 1.0), (6, 4, 3, 0.0, 1e8)]:
    W, X, y = rng.standard_normal((D, C)), scale * rng.standard_normal((N, D)), rng.integers(C, size=N)
    W_before, X_before = W.copy(), X.copy()
    loss, dW = svm_loss_naive(W, X, y, reg)
    expected_loss, expected_dW = svm_reference(W, X, y, reg)
    check_scalar(loss, expected_loss, f"svm_loss_naive loss (N={N}, D={D}, C={C}, scale {scale:g})", rtol=1e-9)
    check_close(dW, expected_dW, f"svm_loss_naive dW (N={N}, D={D}, C={C}, scale {scale:g})", rtol=1e-7, atol=1e-9)
    check_close(W, W_before, "W after svm_loss_naive (it must not change its inputs)", rtol=0, atol=0)
    check_close(X, X_before, "X after svm_loss_naive (it must not change its inputs)", rtol=0, atol=0)

# every correct class wins by more than the margin: the loss is 0
loss, dW = svm_loss_naive(5.0 * np.eye(4), np.eye(4), np.arange(4), 0.0)
check_scalar(loss, 0.0, "svm_loss_naive when every correct class wins by 5", atol=1e-12)
check_close(dW, np.zeros((4, 4)), "svm_loss_naive dW when every correct class wins by 5", atol=1e-12)

# the regularisation convention: reg * sum(W * W) in the loss, 2 * reg * W in the gradient
W, X, y = rng.standard_normal((7, 3)), rng.standard_normal((9, 7)), rng.integers(3, size=9)
loss_0, dW_0 = svm_loss_naive(W, X, y, 0.0)
loss_r, dW_r = svm_loss_naive(W, X, y, 0.7)
check_scalar(loss_r - loss_0, 0.7 * np.sum(W * W), "svm_loss_naive: the regularisation term (reg * sum(W * W))")
check_close(dW_r - dW_0, 1.4 * W, "svm_loss_naive: the regularisation gradient (2 * reg * W)", rtol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ### Checking the gradient numerically
#
# A numerical gradient $\frac{\partial L}{\partial W_{k,l}} \approx \frac{L(W + h e_{kl}) - L(W - h e_{kl})}{2h}$
# at a few random entries of $W$ should agree with your analytic gradient to a relative error of about
# $10^{-7}$ or better, with and without regularisation. (The regularisation strength here, 50, is large on purpose: with
# a $W$ this small, its gradient $2\lambda W$ would otherwise be too small to check.)

# %%
W = 0.0001 * np.random.default_rng(1).standard_normal((X_dev.shape[1], num_classes))
for reg in (0.0, 5e1):
    loss, grad = svm_loss_naive(W, X_dev, y_dev, reg)
    print(f"reg = {reg:g}:")
    grad_check_sparse(
        lambda w, reg=reg: svm_loss_naive(w, X_dev, y_dev, reg)[0], W, grad, num_checks=scaled(5, 1), seed=0
    )

# %% [markdown] answer="hinge_kink" points=2
# **Inline question 1.** Once in a while a dimension of the gradient check does not match exactly.
# What could cause such a discrepancy? Is it a reason for concern? Give a simple one-dimensional example
# where a gradient check could fail. How would changing the margin $\Delta$ change how often it happens?
#
# *Hint: the SVM loss function is not, strictly speaking, differentiable everywhere.*
#
# ### BEGIN SOLUTION
# The hinge $\max(0, m)$ has a kink at $m = 0$, where it is not differentiable. If a margin
# $s_j - s_{y_i} + \Delta$ lies within about $h \cdot |x|$ of zero, the centred difference straddles the kink:
# one side sees slope 0, the other slope 1, so the numerical estimate lands in between while the analytic
# (sub)gradient takes one side. This is not a reason for concern: the analytic gradient is right everywhere
# except exactly at the kink, and the mismatch only means the check itself is unreliable there.
# One-dimensional example: $f(x) = \max(0, x)$ at $x = 10^{-6}$ with $h = 10^{-5}$ gives
# $(f(x + h) - f(x - h)) / 2h = 0.55$, while the derivative at $x$ is 1.
# Changing $\Delta$ only moves where the kinks are, not how many margins happen to fall within $h$ of one,
# so for general weights it hardly changes how often this happens. It does matter at initialisation: with a
# tiny $W$ every margin is close to $\Delta$, so with $\Delta = 1$ no margin is near a kink, while $\Delta = 0$
# would put every margin on one. A smaller $h$ makes straddling a kink rarer.
# ### END SOLUTION

# %% [markdown]
# ## Vectorising the SVM loss
#
# Loops in Python are slow. Compute all the scores at once, $S = XW$ (N, C), the margins
# $M_{ij} = \max(0, S_{ij} - S_{iy_i} + 1)$ with $M_{iy_i} = 0$, and the loss as their mean over $N$ plus
# the regularisation. For the gradient, build $G$ (N, C) with $G_{ij} = \mathbb{1}(M_{ij} > 0)$ for
# $j \ne y_i$ and $G_{iy_i} = -\sum_j G_{ij}$; then $dW = \frac{1}{N} X^\top G + 2\lambda W$.
#
# Implement `svm_loss_vectorized` in `cs_lib/classifiers/linear_svm.py` without any Python loop.

# %% test="svm_vectorized" points=3
import numpy as np

from cs_lib.checks import check_close, check_rel_error, check_scalar, check_shape, check_true
from cs_lib.classifiers.linear_svm import svm_loss_vectorized
from cs_lib.gradient_check import eval_numerical_gradient

lecture_scores = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
loss, dW = svm_loss_vectorized(lecture_scores.copy(), np.eye(3), np.array([0, 1, 2]), 0.0)
check_scalar(loss, (2.9 + 0.0 + 12.9) / 3, "svm_loss_vectorized on the lecture's example")
check_true(isinstance(dW, np.ndarray) and dW.dtype == np.float64, "svm_loss_vectorized: dW must be a float64 array")
check_shape(dW, (3, 3), "svm_loss_vectorized dW")
# W = 0: every wrong class has margin exactly 1, so L = C - 1 (the correct class never counts)
loss, _ = svm_loss_vectorized(np.zeros((8, 5)), np.ones((10, 8)), np.arange(10) % 5, 0.0)
check_scalar(loss, 4.0, "svm_loss_vectorized with W = 0 and C = 5 classes")

rng = np.random.default_rng(0)
W, X, y = rng.standard_normal((6, 4)), rng.standard_normal((5, 6)), rng.integers(4, size=5)
for reg in (0.0, 0.1):
    loss, dW = svm_loss_vectorized(W, X, y, reg)
    numerical = eval_numerical_gradient(lambda w, reg=reg: svm_loss_vectorized(w, X, y, reg)[0], W)
    error = check_rel_error(dW, numerical, f"svm_loss_vectorized dW with reg = {reg}", tol=1e-7)
    print(f"reg = {reg}: dW relative error {error:.1e} (expect 1e-8 or less)")


### BEGIN HIDDEN TESTS
def svm_reference(W, X, y, reg):
    scores = X @ W
    N, C = scores.shape
    margins = scores - scores[np.arange(N), y][:, None] + 1
    active = (margins > 0) & (np.arange(C)[None, :] != y[:, None])
    loss = np.where(active, margins, 0.0).sum() / N + reg * (W**2).sum()
    dscores = active - np.eye(C)[y] * active.sum(axis=1, keepdims=True)
    return loss, X.T @ dscores / N + 2 * reg * W


for N, D, C, reg, scale in [(20, 15, 7, 0.3, 1.0), (1, 8, 5, 0.2, 1.0), (6, 4, 3, 0.0, 1e8), (40, 3, 10, 0.1, 1.0)]:
    W, X, y = rng.standard_normal((D, C)), scale * rng.standard_normal((N, D)), rng.integers(C, size=N)
    W_before, X_before = W.copy(), X.copy()
    loss, dW = svm_loss_vectorized(W, X, y, reg)
    expected_loss, expected_dW = svm_reference(W, X, y, reg)
    where = f"(N={N}, D={D}, C={C}, scale {scale:g})"
    check_scalar(loss, expected_loss, f"svm_loss_vectorized loss {where}", rtol=1e-9)
    check_close(dW, expected_dW, f"svm_loss_vectorized dW {where}", rtol=1e-7, atol=1e-9)
    check_close(W, W_before, "W after svm_loss_vectorized (it must not change its inputs)", rtol=0, atol=0)
    check_close(X, X_before, "X after svm_loss_vectorized (it must not change its inputs)", rtol=0, atol=0)

loss, dW = svm_loss_vectorized(5.0 * np.eye(4), np.eye(4), np.arange(4), 0.0)
check_scalar(loss, 0.0, "svm_loss_vectorized when every correct class wins by 5", atol=1e-12)
check_close(dW, np.zeros((4, 4)), "svm_loss_vectorized dW when every correct class wins by 5", atol=1e-12)

W, X, y = rng.standard_normal((7, 3)), rng.standard_normal((9, 7)), rng.integers(3, size=9)
loss_0, dW_0 = svm_loss_vectorized(W, X, y, 0.0)
loss_r, dW_r = svm_loss_vectorized(W, X, y, 0.7)
check_scalar(loss_r - loss_0, 0.7 * np.sum(W * W), "svm_loss_vectorized: the regularisation term (reg * sum(W * W))")
check_close(dW_r - dW_0, 1.4 * W, "svm_loss_vectorized: the regularisation gradient (2 * reg * W)", rtol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# The two versions must agree to rounding error; the vectorised one should be much faster.

# %%
from cs_lib.classifiers.linear_svm import svm_loss_vectorized


def timed(function, *args):
    """(result, best time in seconds over a few calls)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - start)
    return result, best


W = 0.0001 * np.random.default_rng(1).standard_normal((X_dev.shape[1], num_classes))
(loss_naive, grad_naive), naive_seconds = timed(svm_loss_naive, W, X_dev, y_dev, 5e1)
(loss_vectorized, grad_vectorized), vectorized_seconds = timed(svm_loss_vectorized, W, X_dev, y_dev, 5e1)
print(f"naive:      loss {loss_naive:.6f} in {naive_seconds * 1e3:.1f} ms")
print(f"vectorised: loss {loss_vectorized:.6f} in {vectorized_seconds * 1e3:.1f} ms")
show_effect(vectorized_seconds < naive_seconds / 2, "the vectorised loss is more than twice as fast as the loops")
print(
    f"speed-up {naive_seconds / vectorized_seconds:.0f}x; loss difference {abs(loss_naive - loss_vectorized):.1e}, "
    f"largest gradient difference {np.abs(grad_naive - grad_vectorized).max():.1e}"
)

# %% test="svm_naive_matches_vectorized" points=1
import numpy as np

from cs_lib.checks import check_close, check_scalar
from cs_lib.classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized

# both on the lecture's example (X the identity, so the scores are the rows of W): the loss is known by hand
lecture_scores = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
for name, function in (("svm_loss_naive", svm_loss_naive), ("svm_loss_vectorized", svm_loss_vectorized)):
    loss, _ = function(lecture_scores.copy(), np.eye(3), np.array([0, 1, 2]), 0.0)
    check_scalar(loss, (2.9 + 0.0 + 12.9) / 3, f"{name} on the lecture's example")

rng = np.random.default_rng(5)
W, X, y = 0.01 * rng.standard_normal((30, 10)), rng.standard_normal((50, 30)), rng.integers(10, size=50)
loss_naive, dW_naive = svm_loss_naive(W, X, y, 0.05)
loss_vectorized, dW_vectorized = svm_loss_vectorized(W, X, y, 0.05)
check_scalar(loss_vectorized, loss_naive, "svm_loss_vectorized loss against svm_loss_naive", rtol=1e-10)
check_close(dW_vectorized, dW_naive, "svm_loss_vectorized dW against svm_loss_naive", rtol=1e-8, atol=1e-12)


### BEGIN HIDDEN TESTS
def svm_reference(W, X, y, reg):
    scores = X @ W
    N, C = scores.shape
    margins = scores - scores[np.arange(N), y][:, None] + 1
    active = (margins > 0) & (np.arange(C)[None, :] != y[:, None])
    loss = np.where(active, margins, 0.0).sum() / N + reg * (W**2).sum()
    dscores = active - np.eye(C)[y] * active.sum(axis=1, keepdims=True)
    return loss, X.T @ dscores / N + 2 * reg * W


# both versions against a reference computed here, not only against each other
for N, D, C in [(50, 30, 10), (1, 7, 3), (12, 1, 2), (30, 50, 4)]:
    W, X, y = rng.standard_normal((D, C)), rng.standard_normal((N, D)), rng.integers(C, size=N)
    expected_loss, expected_dW = svm_reference(W, X, y, 0.2)
    where = f"(N={N}, D={D}, C={C})"
    for name, function in (("svm_loss_naive", svm_loss_naive), ("svm_loss_vectorized", svm_loss_vectorized)):
        loss, dW = function(W, X, y, 0.2)
        check_scalar(loss, expected_loss, f"{name} loss {where}", rtol=1e-9)
        check_close(dW, expected_dW, f"{name} dW {where}", rtol=1e-7, atol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ## The softmax loss
#
# The softmax classifier reads the scores as unnormalised log-probabilities and minimises the negative
# log-likelihood of the correct class (the cross-entropy loss):
#
# $$p_j = \frac{e^{s_j}}{\sum_k e^{s_k}}, \qquad L_i = -\log p_{y_i} = \log \sum_k e^{s_k} - s_{y_i}, \qquad
#   \nabla_{w_j} L_i = (p_j - \mathbb{1}(j = y_i))\, x_i .$$
#
# For the lecture's cat image, scores (3.2, 5.1, −1.7) give $e^{s}$ = (24.5, 164.0, 0.18), probabilities
# (0.13, 0.87, 0.00) and $L_i = -\log 0.13 = 2.04$.
#
# **Numerical stability.** $e^{s}$ overflows to infinity once $s > 709$ (in float64) and then the loss
# becomes NaN. Subtracting the largest score of each row first changes nothing mathematically,
# $\frac{e^{s_j - m}}{\sum_k e^{s_k - m}} = \frac{e^{s_j}}{\sum_k e^{s_k}}$, and keeps every exponent
# $\le 0$. Your functions must stay finite however large the scores are. (Writing the loss as
# $\log \sum_k e^{s_k - m} - (s_{y_i} - m)$ also avoids the log of a probability that rounds to 0.)
#
# **Sanity check at initialisation.** With a small $W$ every class gets probability about $1/10$, so the
# loss should be close to $-\log(0.1) = \log 10 \approx 2.303$.
#
# Implement `softmax_loss_naive` (with loops) in `cs_lib/classifiers/softmax.py`.

# %%
from cs_lib.classifiers.softmax import softmax_loss_naive

W = 0.0001 * np.random.default_rng(1).standard_normal((X_dev.shape[1], num_classes))
loss, grad = softmax_loss_naive(W, X_dev, y_dev, 0.0)
print(f"softmax loss at initialisation: {loss:.4f} (expect about log(10) = {np.log(num_classes):.4f})")
for reg in (0.0, 5e1):
    loss, grad = softmax_loss_naive(W, X_dev, y_dev, reg)
    print(f"gradient check with reg = {reg:g}:")
    grad_check_sparse(
        lambda w, reg=reg: softmax_loss_naive(w, X_dev, y_dev, reg)[0], W, grad, num_checks=scaled(5, 1), seed=0
    )

# %% test="softmax_naive" points=3
import math

import numpy as np

from cs_lib.checks import check_close, check_finite, check_rel_error, check_scalar, check_shape, check_true
from cs_lib.classifiers.softmax import softmax_loss_naive
from cs_lib.gradient_check import eval_numerical_gradient

lecture_scores = [[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]]
lecture_losses = [-math.log(math.exp(s[i]) / sum(math.exp(v) for v in s)) for i, s in enumerate(lecture_scores)]
loss, dW = softmax_loss_naive(np.array(lecture_scores), np.eye(3), np.array([0, 1, 2]), 0.0)
check_scalar(loss, sum(lecture_losses) / 3, "softmax_loss_naive on the lecture's example")
check_true(isinstance(dW, np.ndarray) and dW.dtype == np.float64, "softmax_loss_naive: dW must be a float64 array")
check_shape(dW, (3, 3), "softmax_loss_naive dW")
# W = 0: every class has probability 1/C, so L = log C
loss, _ = softmax_loss_naive(np.zeros((4, 10)), np.ones((3, 4)), np.array([1, 5, 9]), 0.0)
check_scalar(loss, math.log(10), "softmax_loss_naive with W = 0")

rng = np.random.default_rng(0)
W, X, y = rng.standard_normal((6, 4)), rng.standard_normal((5, 6)), rng.integers(4, size=5)
for reg in (0.0, 0.1):
    loss, dW = softmax_loss_naive(W, X, y, reg)
    numerical = eval_numerical_gradient(lambda w, reg=reg: softmax_loss_naive(w, X, y, reg)[0], W)
    error = check_rel_error(dW, numerical, f"softmax_loss_naive dW with reg = {reg}", tol=1e-7)
    print(f"reg = {reg}: dW relative error {error:.1e} (expect 1e-8 or less)")


### BEGIN HIDDEN TESTS
def softmax_reference(W, X, y, reg):
    scores = X @ W
    N, C = scores.shape
    log_norm = np.logaddexp.reduce(scores, axis=1)
    probabilities = np.exp(scores - log_norm[:, None])
    loss = np.mean(log_norm - scores[np.arange(N), y]) + reg * (W**2).sum()
    return loss, X.T @ (probabilities - np.eye(C)[y]) / N + 2 * reg * W


for N, D, C, reg, offset in [(20, 15, 7, 0.3, 0.0), (1, 8, 5, 0.2, 0.0), (6, 4, 3, 0.0, 1e4), (5, 3, 4, 0.0, -1e4)]:
    # offset: every score near 1e4 (exp overflows unless the scores are shifted) or near -1e4 (exp underflows)
    W, X, y = rng.standard_normal((D, C)), rng.standard_normal((N, D)), rng.integers(C, size=N)
    X[:, -1], W[-1] = 1.0, offset
    W_before, X_before = W.copy(), X.copy()
    loss, dW = softmax_loss_naive(W, X, y, reg)
    expected_loss, expected_dW = softmax_reference(W, X, y, reg)
    where = f"(N={N}, D={D}, C={C}, scores offset by {offset:g})"
    check_finite(loss, f"softmax_loss_naive loss {where}")
    check_finite(dW, f"softmax_loss_naive dW {where}")
    check_scalar(loss, expected_loss, f"softmax_loss_naive loss {where}", rtol=1e-9)
    check_close(dW, expected_dW, f"softmax_loss_naive dW {where}", rtol=1e-7, atol=1e-9)
    check_close(W, W_before, "W after softmax_loss_naive (it must not change its inputs)", rtol=0, atol=0)
    check_close(X, X_before, "X after softmax_loss_naive (it must not change its inputs)", rtol=0, atol=0)

W, X, y = rng.standard_normal((7, 3)), rng.standard_normal((9, 7)), rng.integers(3, size=9)
loss_0, dW_0 = softmax_loss_naive(W, X, y, 0.0)
loss_r, dW_r = softmax_loss_naive(W, X, y, 0.7)
check_scalar(loss_r - loss_0, 0.7 * np.sum(W * W), "softmax_loss_naive: the regularisation term (reg * sum(W * W))")
check_close(dW_r - dW_0, 1.4 * W, "softmax_loss_naive: the regularisation gradient (2 * reg * W)", rtol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ## Vectorising the softmax loss
#
# With $S = XW$ (N, C) shifted row by row by its maximum, $P$ the row-wise softmax of $S$ and $Y$ the
# one-hot labels (N, C):
#
# $$L = \frac{1}{N} \sum_i \Big(\log \sum_k e^{S_{ik}} - S_{iy_i}\Big) + \lambda \sum W^2, \qquad
#   dW = \frac{1}{N} X^\top (P - Y) + 2 \lambda W .$$
#
# Implement `softmax_loss_vectorized` in `cs_lib/classifiers/softmax.py` without any Python loop.

# %% test="softmax_vectorized" points=3
import math

import numpy as np

from cs_lib.checks import check_close, check_finite, check_rel_error, check_scalar, check_shape, check_true
from cs_lib.classifiers.softmax import softmax_loss_vectorized
from cs_lib.gradient_check import eval_numerical_gradient

lecture_scores = [[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]]
lecture_losses = [-math.log(math.exp(s[i]) / sum(math.exp(v) for v in s)) for i, s in enumerate(lecture_scores)]
loss, dW = softmax_loss_vectorized(np.array(lecture_scores), np.eye(3), np.array([0, 1, 2]), 0.0)
check_scalar(loss, sum(lecture_losses) / 3, "softmax_loss_vectorized on the lecture's example")
check_true(isinstance(dW, np.ndarray) and dW.dtype == np.float64, "softmax_loss_vectorized: dW must be a float64 array")
check_shape(dW, (3, 3), "softmax_loss_vectorized dW")
loss, _ = softmax_loss_vectorized(np.zeros((4, 10)), np.ones((3, 4)), np.array([1, 5, 9]), 0.0)
check_scalar(loss, math.log(10), "softmax_loss_vectorized with W = 0")

rng = np.random.default_rng(0)
W, X, y = rng.standard_normal((6, 4)), rng.standard_normal((5, 6)), rng.integers(4, size=5)
for reg in (0.0, 0.1):
    loss, dW = softmax_loss_vectorized(W, X, y, reg)
    numerical = eval_numerical_gradient(lambda w, reg=reg: softmax_loss_vectorized(w, X, y, reg)[0], W)
    error = check_rel_error(dW, numerical, f"softmax_loss_vectorized dW with reg = {reg}", tol=1e-7)
    print(f"reg = {reg}: dW relative error {error:.1e} (expect 1e-8 or less)")


### BEGIN HIDDEN TESTS
def softmax_reference(W, X, y, reg):
    scores = X @ W
    N, C = scores.shape
    log_norm = np.logaddexp.reduce(scores, axis=1)
    probabilities = np.exp(scores - log_norm[:, None])
    loss = np.mean(log_norm - scores[np.arange(N), y]) + reg * (W**2).sum()
    return loss, X.T @ (probabilities - np.eye(C)[y]) / N + 2 * reg * W


for N, D, C, reg, offset in [
    (20, 15, 7, 0.3, 0.0),
    (1, 8, 5, 0.2, 0.0),
    (6, 4, 3, 0.0, 1e4),
    (5, 3, 4, 0.0, -1e4),
    (40, 3, 10, 0.1, 0.0),
]:
    # offset: every score near 1e4 (exp overflows unless the scores are shifted) or near -1e4 (exp underflows)
    W, X, y = rng.standard_normal((D, C)), rng.standard_normal((N, D)), rng.integers(C, size=N)
    X[:, -1], W[-1] = 1.0, offset
    W_before, X_before = W.copy(), X.copy()
    loss, dW = softmax_loss_vectorized(W, X, y, reg)
    expected_loss, expected_dW = softmax_reference(W, X, y, reg)
    where = f"(N={N}, D={D}, C={C}, scores offset by {offset:g})"
    check_finite(loss, f"softmax_loss_vectorized loss {where}")
    check_finite(dW, f"softmax_loss_vectorized dW {where}")
    check_scalar(loss, expected_loss, f"softmax_loss_vectorized loss {where}", rtol=1e-9)
    check_close(dW, expected_dW, f"softmax_loss_vectorized dW {where}", rtol=1e-7, atol=1e-9)
    check_close(W, W_before, "W after softmax_loss_vectorized (it must not change its inputs)", rtol=0, atol=0)
    check_close(X, X_before, "X after softmax_loss_vectorized (it must not change its inputs)", rtol=0, atol=0)

W, X, y = rng.standard_normal((7, 3)), rng.standard_normal((9, 7)), rng.integers(3, size=9)
loss_0, dW_0 = softmax_loss_vectorized(W, X, y, 0.0)
loss_r, dW_r = softmax_loss_vectorized(W, X, y, 0.7)
check_scalar(
    loss_r - loss_0, 0.7 * np.sum(W * W), "softmax_loss_vectorized: the regularisation term (reg * sum(W * W))"
)
check_close(dW_r - dW_0, 1.4 * W, "softmax_loss_vectorized: the regularisation gradient (2 * reg * W)", rtol=1e-9)
### END HIDDEN TESTS

# %%
from cs_lib.classifiers.softmax import softmax_loss_vectorized

W = 0.0001 * np.random.default_rng(1).standard_normal((X_dev.shape[1], num_classes))
(loss_naive, grad_naive), naive_seconds = timed(softmax_loss_naive, W, X_dev, y_dev, 5e1)
(loss_vectorized, grad_vectorized), vectorized_seconds = timed(softmax_loss_vectorized, W, X_dev, y_dev, 5e1)
print(f"naive:      loss {loss_naive:.6f} in {naive_seconds * 1e3:.1f} ms")
print(f"vectorised: loss {loss_vectorized:.6f} in {vectorized_seconds * 1e3:.1f} ms")
show_effect(vectorized_seconds < naive_seconds / 2, "the vectorised loss is more than twice as fast as the loops")
print(
    f"speed-up {naive_seconds / vectorized_seconds:.0f}x; loss difference {abs(loss_naive - loss_vectorized):.1e}, "
    f"largest gradient difference {np.abs(grad_naive - grad_vectorized).max():.1e}"
)

# %% test="softmax_naive_matches_vectorized" points=1
import math

import numpy as np

from cs_lib.checks import check_close, check_scalar
from cs_lib.classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized

# both on the lecture's example (X the identity, so the scores are the rows of W): the loss is known by hand
lecture_scores = [[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]]
lecture_losses = [-math.log(math.exp(s[i]) / sum(math.exp(v) for v in s)) for i, s in enumerate(lecture_scores)]
for name, function in (
    ("softmax_loss_naive", softmax_loss_naive),
    ("softmax_loss_vectorized", softmax_loss_vectorized),
):
    loss, _ = function(np.array(lecture_scores), np.eye(3), np.array([0, 1, 2]), 0.0)
    check_scalar(loss, sum(lecture_losses) / 3, f"{name} on the lecture's example")

rng = np.random.default_rng(5)
W, X, y = 0.01 * rng.standard_normal((30, 10)), rng.standard_normal((50, 30)), rng.integers(10, size=50)
loss_naive, dW_naive = softmax_loss_naive(W, X, y, 0.05)
loss_vectorized, dW_vectorized = softmax_loss_vectorized(W, X, y, 0.05)
check_scalar(loss_vectorized, loss_naive, "softmax_loss_vectorized loss against softmax_loss_naive", rtol=1e-10)
check_close(dW_vectorized, dW_naive, "softmax_loss_vectorized dW against softmax_loss_naive", rtol=1e-8, atol=1e-12)


### BEGIN HIDDEN TESTS
def softmax_reference(W, X, y, reg):
    scores = X @ W
    N, C = scores.shape
    log_norm = np.logaddexp.reduce(scores, axis=1)
    probabilities = np.exp(scores - log_norm[:, None])
    loss = np.mean(log_norm - scores[np.arange(N), y]) + reg * (W**2).sum()
    return loss, X.T @ (probabilities - np.eye(C)[y]) / N + 2 * reg * W


# both versions against a reference computed here, not only against each other
for N, D, C in [(50, 30, 10), (1, 7, 3), (12, 1, 2), (30, 50, 4)]:
    W, X, y = rng.standard_normal((D, C)), rng.standard_normal((N, D)), rng.integers(C, size=N)
    expected_loss, expected_dW = softmax_reference(W, X, y, 0.2)
    where = f"(N={N}, D={D}, C={C})"
    for name, function in (
        ("softmax_loss_naive", softmax_loss_naive),
        ("softmax_loss_vectorized", softmax_loss_vectorized),
    ):
        loss, dW = function(W, X, y, 0.2)
        check_scalar(loss, expected_loss, f"{name} loss {where}", rtol=1e-9)
        check_close(dW, expected_dW, f"{name} dW {where}", rtol=1e-7, atol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ## Training with stochastic gradient descent
#
# Computing the loss over all $N$ training images for every step would be wasteful. **Minibatch SGD**
# estimates the gradient from a random batch of $B$ images and takes a step downhill:
#
# $$W \leftarrow W - \eta\, \nabla_W L(W; X_{\text{batch}}, y_{\text{batch}}) .$$
#
# Implement in `cs_lib/classifiers/linear_classifier.py`:
# - `LinearClassifier.train`: each step draws $B$ row indices with `self.rng` (with replacement is
#   fine), computes the loss and gradient on that minibatch with `self.loss`, updates `self.W` and records
#   the loss; it returns the list of losses. (`W` is created for you on the first call, as
#   $0.001 \cdot \mathcal{N}(0, 1)$ from `self.rng`, so a classifier made with `seed=0` always trains the same way.)
# - `LinearClassifier.predict`: the class with the highest score, $\hat y_i = \arg\max_c (XW)_{ic}$.
# - `LinearSVM.loss` and `Softmax.loss`: the vectorised loss of `self.W` on a minibatch.
#
# `train` uses $B = 200$ by default; this notebook passes $B = 100$, which makes each step twice as cheap
# and, for these short runs, learns about as much per step.

# %% test="linear_classifier_predict" points=1
import numpy as np

from cs_lib.checks import check_close, check_shape, check_true
from cs_lib.classifiers.linear_classifier import LinearClassifier

rng = np.random.default_rng(3)
classifier = LinearClassifier()
W = rng.standard_normal((6, 4))
classifier.W = W.copy()  # the expected labels come from this test's own W, not from what the object holds
X = rng.standard_normal((25, 6))
y_pred = classifier.predict(X)
check_shape(y_pred, (25,), "predict")
check_true(np.issubdtype(np.asarray(y_pred).dtype, np.integer), "predict must return integer class labels")
scores = [[sum(X[i, d] * W[d, c] for d in range(6)) for c in range(4)] for i in range(25)]
expected = [max(range(4), key=lambda c, row=row: row[c]) for row in scores]
check_close(y_pred, expected, "predicted labels", rtol=0, atol=0)

### BEGIN HIDDEN TESTS
# one image, and more classes than features
W = rng.standard_normal((3, 9))
classifier.W = W.copy()
X = rng.standard_normal((1, 3))
y_pred = classifier.predict(X)
check_shape(y_pred, (1,), "predict on a single image")
check_close(y_pred, [int(np.argmax(X[0] @ W))], "predict on a single image", rtol=0, atol=0)
X = rng.standard_normal((50, 3))
y_pred = classifier.predict(X)
check_close(y_pred, np.argmax(X @ W, axis=1), "predict on 50 images with 9 classes", rtol=0, atol=0)
check_close(classifier.W, W, "W after predict (predict must not change it)", rtol=0, atol=0)
### END HIDDEN TESTS

# %% test="classifier_losses" points=1
import math

import numpy as np

from cs_lib.checks import check_close, check_scalar, check_shape
from cs_lib.classifiers.linear_classifier import LinearSVM, Softmax

lecture_scores = [[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]]
softmax_losses = [-math.log(math.exp(s[i]) / sum(math.exp(v) for v in s)) for i, s in enumerate(lecture_scores)]
expected = {LinearSVM: (2.9 + 0.0 + 12.9) / 3, Softmax: sum(softmax_losses) / 3}
for classifier_class, expected_loss in expected.items():
    classifier = classifier_class()
    classifier.W = np.array(lecture_scores)
    loss, dW = classifier.loss(np.eye(3), np.array([0, 1, 2]), 0.0)
    check_scalar(loss, expected_loss, f"{classifier_class.__name__}.loss on the lecture's example")
    check_shape(dW, (3, 3), f"{classifier_class.__name__}.loss dW")

### BEGIN HIDDEN TESTS
from autograder.grading.trusted.reference import reference_module

# the classifier's W is this test's own; the expected values come from the reference loss of that W
references = {
    LinearSVM: reference_module("cs_lib.classifiers.linear_svm").svm_loss_vectorized,
    Softmax: reference_module("cs_lib.classifiers.softmax").softmax_loss_vectorized,
}
rng = np.random.default_rng(4)
X, y = rng.standard_normal((8, 5)), rng.integers(3, size=8)
for classifier_class, reference_loss in references.items():
    name = classifier_class.__name__
    W = rng.standard_normal((5, 3))
    classifier = classifier_class()
    classifier.W = W.copy()
    for reg in (0.0, 0.4):
        loss, dW = classifier.loss(X, y, reg)
        expected_loss, expected_dW = reference_loss(W.copy(), X, y, reg)
        check_scalar(loss, expected_loss, f"{name}.loss with reg = {reg} (reg passed on to the loss)", rtol=1e-9)
        check_close(dW, expected_dW, f"{name}.loss dW with reg = {reg}", rtol=1e-7, atol=1e-9)
### END HIDDEN TESTS

# %% test="linear_classifier_train" points=3
import numpy as np

from cs_lib.checks import check_close, check_finite, check_scalar, check_shape, check_true
from cs_lib.classifiers.linear_classifier import LinearSVM, Softmax

# three well-separated clusters in 4 dimensions plus a bias column
rng = np.random.default_rng(2)
centres = 3.0 * rng.standard_normal((3, 4))
y = rng.integers(3, size=300)
X = np.hstack([centres[y] + rng.standard_normal((300, 4)), np.ones((300, 1))])
for classifier_class in (LinearSVM, Softmax):
    name = classifier_class.__name__
    classifier = classifier_class(seed=0)
    history = classifier.train(X, y, learning_rate=0.05, reg=1e-3, num_iters=150, batch_size=30)
    check_true(isinstance(history, list), f"{name}.train must return the loss history as a list")
    check_scalar(len(history), 150, f"{name}.train: the number of losses in the history")
    check_finite(history, f"{name}.train loss history")
    check_shape(classifier.W, (5, 3), f"{name}.W after training")
    first, last = np.mean(history[:10]), np.mean(history[-10:])
    check_true(
        bool(last < 0.5 * first), f"{name}.train: the loss went from {first:.3f} to {last:.3f}, expected it to halve"
    )
    accuracy = np.mean(np.asarray(classifier.predict(X)) == y)
    check_true(bool(accuracy > 0.9), f"{name}: training accuracy {accuracy:.2f} on separable clusters, expected > 0.9")

### BEGIN HIDDEN TESTS
# the same seed gives the same minibatches, so the same training run
histories = []
for _ in range(2):
    classifier = Softmax(seed=7)
    histories.append(classifier.train(X, y, learning_rate=0.05, reg=1e-3, num_iters=20, batch_size=30))
check_close(
    histories[1], histories[0], "two runs of train with seed 7 (draw the minibatches with self.rng)", rtol=0, atol=0
)


# which rows each minibatch holds: with one feature, two classes and W = [[0, 1]], row k's hinge loss is
# 2 * 10**k, so with learning_rate 0 the batch's mean loss, times batch_size / 2, is a number whose digits count
# how often each row was drawn; a row paired with another row's label would lose 0 instead
losses = 2.0 * 10.0 ** np.arange(6)
labels = np.arange(6) % 2
features = np.where(labels == 0, losses - 1, 1 - losses)[:, None]
W_start = np.array([[0.0, 1.0]])
classifier = LinearSVM(seed=1)
classifier.W = W_start.copy()
check_scalar(len(classifier.train(features, labels, num_iters=0)), 0, "train with num_iters=0: the history length")
history = classifier.train(features, labels, learning_rate=0.0, reg=0.25, num_iters=8, batch_size=5)
check_close(classifier.W, W_start, "W after training with learning_rate 0", rtol=0, atol=0)
check_scalar(len(history), 8, "the history length after 8 steps")
for step, loss in enumerate(history):
    drawn = (float(loss) - 0.25 * np.sum(W_start**2)) * 5 / 2  # 0.25 * sum(W**2): the reg passed on to the loss
    check_true(
        bool(abs(drawn - round(drawn)) < 1e-6 * max(1.0, abs(drawn))),
        f"step {step}: a minibatch loss of {float(loss):.6g} is not the mean hinge loss of batch_size = 5 rows of X "
        "with their own labels, plus reg * sum(W * W)",
    )
    counts = [int(digit) for digit in str(round(drawn))]
    check_scalar(sum(counts), 5, f"step {step}: the number of rows in the minibatch (batch_size = 5)")

# each step moves W by -learning_rate * dW, with the loss and dW of the W before the step
x, label = np.array([1.0, -0.5, 2.0]), 2
W = np.random.default_rng(21).standard_normal((3, 4))
classifier = LinearSVM(seed=2)
classifier.W = W.copy()
history = classifier.train(
    np.tile(x, (12, 1)), np.full(12, label), learning_rate=0.1, reg=0.3, num_iters=6, batch_size=4
)
expected_history = []
for _ in range(6):
    scores = x @ W
    margins = scores - scores[label] + 1
    margins[label] = 0
    active = (margins > 0).astype(float)
    active[label] = -active.sum()
    expected_history.append(np.maximum(margins, 0).sum() + 0.3 * np.sum(W * W))
    W = W - 0.1 * (np.outer(x, active) + 2 * 0.3 * W)
check_close(history, expected_history, "the loss history of 6 steps on identical rows", rtol=1e-9, atol=1e-12)
check_close(classifier.W, W, "W after 6 steps of size 0.1 (W -= learning_rate * dW)", rtol=1e-9, atol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# Train an SVM on the training set and watch the loss fall. (The runs in this notebook are short, 100 to
# 150 steps, so that it runs in a minute; longer runs do better.)

# %%
from cs_lib.classifiers.linear_classifier import LinearSVM, Softmax

svm = LinearSVM(seed=0)
start = time.perf_counter()
loss_history = svm.train(X_train, y_train, learning_rate=1e-2, reg=1e-2, num_iters=150, batch_size=100, verbose=True)
print(f"trained in {time.perf_counter() - start:.1f} s")
svm_val_accuracy = np.mean(svm.predict(X_val) == y_val)
print(f"training accuracy {np.mean(svm.predict(X_train) == y_train):.3f}, validation accuracy {svm_val_accuracy:.3f}")
show_effect(np.mean(loss_history[-10:]) < 2 / 3 * loss_history[0], "the minibatch loss fell by more than a third")
show_effect(svm_val_accuracy > 0.2, "the validation accuracy is well above chance (0.10)")
vis.plot_curves({"LinearSVM": loss_history}, xlabel="iteration", ylabel="minibatch loss")
plt.show()

# %% [markdown]
# ## Choosing hyperparameters on the validation set
#
# The learning rate $\eta$ and the regularisation strength $\lambda$ are not learned by SGD: we try a
# few values, train one classifier for each pair on the training set and keep the pair with the best
# **validation** accuracy. (Choosing them on the test set would make the final test accuracy an
# optimistic, biased estimate.)
#
# Write `search`: for every pair in the grid, train a fresh classifier (made with `seed=0`) on
# `X_train`, record `(training accuracy, validation accuracy)` in `results[(learning_rate, reg)]`, and
# keep the classifier with the best validation accuracy.
#
# The grids below are small so that the notebook stays fast (grading runs only one pair of each); try more
# values (or more steps) if you have the time.


# %% solution="search"
def search(classifier_class, learning_rates, regs, num_iters, batch_size=100):
    """(results, best_classifier): results[(lr, reg)] = (train accuracy, val accuracy) for every pair."""
    results = {}
    best_classifier = None
    ### BEGIN SOLUTION
    best_val = -1.0
    for learning_rate in learning_rates:
        for reg in regs:
            classifier = classifier_class(seed=0)
            classifier.train(
                X_train, y_train, learning_rate=learning_rate, reg=reg, num_iters=num_iters, batch_size=batch_size
            )
            train_accuracy = np.mean(classifier.predict(X_train) == y_train)
            val_accuracy = np.mean(classifier.predict(X_val) == y_val)
            results[(learning_rate, reg)] = (train_accuracy, val_accuracy)
            if val_accuracy > best_val:
                best_val, best_classifier = val_accuracy, classifier
    ### END SOLUTION
    return results, best_classifier


# %%
def show_search(results, title):
    """Print the results table and plot both accuracies over the (learning rate, reg) grid."""
    for (learning_rate, reg), (train_accuracy, val_accuracy) in sorted(results.items()):
        print(
            f"lr {learning_rate:.0e} reg {reg:.0e}: train accuracy {train_accuracy:.3f}, val accuracy {val_accuracy:.3f}"
        )
    rates = np.log10([key[0] for key in results])
    regs = np.log10([key[1] for key in results])
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, column, name in zip(axes, (0, 1), ("training", "validation")):
        accuracies = [value[column] for value in results.values()]
        points = ax.scatter(rates, regs, c=accuracies, s=300, cmap="viridis")
        fig.colorbar(points, ax=ax)
        ax.set_xlabel("log10 learning rate")
        ax.set_ylabel("log10 regularisation strength")
        ax.set_title(f"{title}: {name} accuracy")
    fig.tight_layout()
    plt.show()


svm_results, best_svm_model = search(
    LinearSVM,
    learning_rates=scaled([1e-2, 1e-1], [1e-2]),
    regs=scaled([1e-2, 1e-1], [1e-2]),
    num_iters=100,
)
show_search(svm_results, "LinearSVM")

# %% [markdown]
# Record the hyperparameters that gave your best validation accuracy in the cell below, as
# `best_svm = {"learning_rate": ..., "reg": ...}`. The test after it trains a fresh
# `LinearSVM(seed=0)` with them for 100 steps of batch size 100 and expects a validation accuracy of at
# least **0.30** on the embedded dataset (chance is 0.10). On CIFAR-10 it trains 1,500 steps of batch
# size 200, as CS231n does, and the target is **0.38**. (CS231n searches raw 0..255 pixels; the conversion to
# our pixels in 0..1 is at the start of this notebook.)

# %% solution="best_svm"
### BEGIN SOLUTION
best_svm = {"learning_rate": 1e-2, "reg": 1e-2}
### END SOLUTION

# %% test="best_svm_accuracy" points=2 reads=["best_svm"]
import numpy as np

from cs_lib.checks import as_array, check_true
from cs_lib.classifiers.linear_classifier import LinearSVM
from cs_lib.datasets import get_cifar10_data

check_true(
    isinstance(best_svm, dict) and sorted(best_svm) == ["learning_rate", "reg"],
    "best_svm must be a dict with the keys 'learning_rate' and 'reg'",
)
# the notebook's splits and preprocessing, made here from the dataset itself (in float32: half the memory)
split = get_cifar10_data(subtract_mean=False, dtype=np.float32)
split_mean = split["X_train"].mean(axis=0)


def as_rows(images):
    rows = (images - split_mean).reshape(len(images), -1) / 255
    return np.hstack([rows, np.ones((len(images), 1), dtype=np.float32)])


on_cifar = split["source"] == "cifar10"
threshold, num_iters, batch_size = (0.38, 1500, 200) if on_cifar else (0.30, 100, 100)
checked = LinearSVM(seed=0)
checked.train(
    as_rows(split["X_train"]),
    split["y_train"],
    learning_rate=float(best_svm["learning_rate"]),
    reg=float(best_svm["reg"]),
    num_iters=num_iters,
    batch_size=batch_size,
)
predicted = as_array(checked.predict(as_rows(split["X_val"])), "predict(X_val)", split["y_val"].shape)
val_accuracy = float(np.mean(predicted == split["y_val"]))
print(f"LinearSVM with {best_svm}: validation accuracy {val_accuracy:.3f} after {num_iters} steps")
check_true(
    val_accuracy >= threshold,
    f"validation accuracy {val_accuracy:.3f} is below {threshold} with best_svm = {best_svm}",
)

### BEGIN HIDDEN TESTS
# the notebook's kernel can read the validation labels: the points are decided on 1,000 new images, scored
# here with the trained weights (the same scaling, the training mean and a bias column)
from autograder.grading.trusted.judging import fresh_split

if not on_cifar:
    X_fresh, y_fresh = fresh_split(1000, seed=61403, subtract_mean=False, dtype=np.float32)
    W_trained = as_array(checked.W, "the trained W", (3 * 32 * 32 + 1, 10))
    fresh_accuracy = float(np.mean(np.argmax(as_rows(X_fresh) @ W_trained, axis=1) == y_fresh))
    check_true(
        fresh_accuracy >= threshold,
        f"accuracy {fresh_accuracy:.3f} on 1,000 new images is below {threshold} with best_svm = {best_svm}",
    )
### END HIDDEN TESTS

# %% [markdown]
# The same search for the softmax classifier (its loss has different magnitudes, so its best learning
# rate differs).

# %%
softmax_results, best_softmax_model = search(
    Softmax,
    learning_rates=scaled([3e-2, 3e-1], [3e-1]),
    regs=scaled([1e-3, 1e-2], [1e-3]),
    num_iters=100,
)
show_search(softmax_results, "Softmax")

# %% [markdown]
# Record your best softmax hyperparameters, as `best_softmax = {"learning_rate": ..., "reg": ...}`. The
# test trains a fresh `Softmax(seed=0)` with them for 100 steps and expects a validation accuracy of at
# least **0.30** on the embedded dataset; on CIFAR-10 it trains 1,500 steps and the target is **0.35**.

# %% solution="best_softmax"
### BEGIN SOLUTION
best_softmax = {"learning_rate": 3e-1, "reg": 1e-3}
### END SOLUTION

# %% test="best_softmax_accuracy" points=2 reads=["best_softmax"]
import numpy as np

from cs_lib.checks import as_array, check_true
from cs_lib.classifiers.linear_classifier import Softmax
from cs_lib.datasets import get_cifar10_data

check_true(
    isinstance(best_softmax, dict) and sorted(best_softmax) == ["learning_rate", "reg"],
    "best_softmax must be a dict with the keys 'learning_rate' and 'reg'",
)
# the notebook's splits and preprocessing, made here from the dataset itself (in float32: half the memory)
split = get_cifar10_data(subtract_mean=False, dtype=np.float32)
split_mean = split["X_train"].mean(axis=0)


def as_rows(images):
    rows = (images - split_mean).reshape(len(images), -1) / 255
    return np.hstack([rows, np.ones((len(images), 1), dtype=np.float32)])


on_cifar = split["source"] == "cifar10"
threshold, num_iters, batch_size = (0.35, 1500, 200) if on_cifar else (0.30, 100, 100)
checked = Softmax(seed=0)
checked.train(
    as_rows(split["X_train"]),
    split["y_train"],
    learning_rate=float(best_softmax["learning_rate"]),
    reg=float(best_softmax["reg"]),
    num_iters=num_iters,
    batch_size=batch_size,
)
predicted = as_array(checked.predict(as_rows(split["X_val"])), "predict(X_val)", split["y_val"].shape)
val_accuracy = float(np.mean(predicted == split["y_val"]))
print(f"Softmax with {best_softmax}: validation accuracy {val_accuracy:.3f} after {num_iters} steps")
check_true(
    val_accuracy >= threshold,
    f"validation accuracy {val_accuracy:.3f} is below {threshold} with best_softmax = {best_softmax}",
)

### BEGIN HIDDEN TESTS
# the notebook's kernel can read the validation labels: the points are decided on 1,000 new images, scored
# here with the trained weights (the same scaling, the training mean and a bias column)
from autograder.grading.trusted.judging import fresh_split

if not on_cifar:
    X_fresh, y_fresh = fresh_split(1000, seed=61409, subtract_mean=False, dtype=np.float32)
    W_trained = as_array(checked.W, "the trained W", (3 * 32 * 32 + 1, 10))
    fresh_accuracy = float(np.mean(np.argmax(as_rows(X_fresh) @ W_trained, axis=1) == y_fresh))
    check_true(
        fresh_accuracy >= threshold,
        f"accuracy {fresh_accuracy:.3f} on 1,000 new images is below {threshold} with best_softmax = {best_softmax}",
    )
### END HIDDEN TESTS

# %% [markdown]
# ## The test set, once
#
# Only now do we look at the test set, with the best classifier of each search.

# %%
pixel_accuracies = {}
for name, model in (("LinearSVM", best_svm_model), ("Softmax", best_softmax_model)):
    pixel_accuracies[name] = (np.mean(model.predict(X_val) == y_val), np.mean(model.predict(X_test) == y_test))
    print(f"{name}: validation accuracy {pixel_accuracies[name][0]:.3f}, test accuracy {pixel_accuracies[name][1]:.3f}")

# %% [markdown]
# ## What the classifiers learned: one template per class
#
# Each column of $W$ (without the bias row) has one weight per pixel and colour channel, so it can be
# shown as a 32×32 colour image: the **template** the class's score is matched against, $s_c = w_c \cdot x$.

# %%
for name, model in (("LinearSVM", best_svm_model), ("Softmax", best_softmax_model)):
    templates = model.W[:-1].T.reshape(num_classes, 3, 32, 32).transpose(0, 2, 3, 1)
    fig, axes = plt.subplots(1, num_classes, figsize=(num_classes * 1.1, 1.6))
    for ax, template, class_name in zip(axes, templates, class_names):
        ax.imshow((template - template.min()) / (template.max() - template.min()))
        ax.set_title(class_name, fontsize=8)
        ax.axis("off")
    fig.suptitle(f"{name} templates")
    plt.show()

# %% [markdown] answer="templates" points=2
# **Inline question 2.** Describe what the templates look like and explain why they look that way. (On the
# embedded dataset every shape appears at a random size, rotation and position, in many colours with a weak
# tint of its class.)
#
# ### BEGIN SOLUTION
# Each template is a smooth, blurry picture of its class: a red disc for disc, a green ring for ring, a
# bluish blob for square, a yellow blob for triangle, a magenta blob for cross, a cyan star-ish blob for star,
# horizontal and vertical bands for the striped classes and a speckled patch for checker, all centred, on a
# background of the opposite colour. A linear classifier scores an image by its dot product with one template
# per class, and SGD on the loss moves each template towards the average (centred) image of its class and away
# from the images of the classes it is confused with. Averaging over many images blurs what varies (position,
# size, rotation, background) and keeps what is shared: the rough outline near the centre, where shapes tend
# to be; the lighter foreground (most shapes are lighter than their background); and the weak per-class
# colour tint of the embedded dataset, which is why each template has one dominant colour even though the
# shapes come in random colours. Stripes barely rotate, so their bands survive the averaging; the checker
# pattern does not. One template per class cannot represent "this shape anywhere, in any colour", which
# is why linear classifiers stay far below the convnets of later assignments on this data. (On CIFAR-10 the
# templates show e.g. a blue sky for planes, a green-brown ground for deer and a two-headed horse, the average
# of horses facing left and right.) Stronger regularisation makes the templates smoother: it shrinks the
# pixel-level noise that the minibatches add to W.
# ### END SOLUTION

# %% [markdown]
# ## Image features versus raw pixels
#
# The lecture contrasts two ways from pixels to class scores. Before convnets, a vision system computed
# **features designed by hand** (how much of each colour an image holds; how much edge it has in each
# direction, and where) and trained a linear classifier on them. A **convnet learns its features** from the
# pixels, end to end, together with the classifier (assignment 3). Here you compute two classic hand-designed
# features and see how far the linear classifier you wrote gets on them. Both live in `cs_lib/features.py`.
#
# ### A colour histogram
#
# Cut each channel's range 0..256 into `bins` intervals of width $256 / \text{bins}$. A pixel's red, green
# and blue intervals $(r, g, b)$ make its **colour box**, numbered $r \cdot \text{bins}^2 + g \cdot \text{bins}
# + b$, one of $\text{bins}^3$. An image's feature vector holds the fraction of its pixels in each box; where
# the pixels are plays no part. With 4 bins that is 64 numbers per image, and a pure red pixel (255, 0, 0)
# is in box (3, 0, 0), number 48.
#
# Implement `colour_histogram`.

# %% test="colour_histogram" points=2
import numpy as np

from cs_lib.checks import check_close, check_shape
from cs_lib.features import colour_histogram


def histogram_loops(images, bins):
    """The fraction of each image's pixels in each colour box, one pixel at a time."""
    N, _, H, W = images.shape
    expected = np.zeros((N, bins**3))
    for n in range(N):
        for row in range(H):
            for col in range(W):
                r, g, b = (int(images[n, channel, row, col] * bins // 256) for channel in range(3))
                expected[n, (r * bins + g) * bins + b] += 1 / (H * W)
    return expected


# one 1 x 2 image: a pure red pixel and a grey one
image = np.array([[[[255.0, 128.0]], [[0.0, 128.0]], [[0.0, 128.0]]]])  # (1, 3, 1, 2)
features = colour_histogram(image, bins=4)
check_shape(features, (1, 64), "colour_histogram of one image with 4 bins")
expected = np.zeros((1, 64))
expected[0, 48] = expected[0, (2 * 4 + 2) * 4 + 2] = 0.5  # red: box (3, 0, 0); grey 128: box (2, 2, 2)
check_close(features, expected, "colour_histogram of a red and a grey pixel", rtol=0, atol=1e-12)

rng = np.random.default_rng(30)
images = rng.integers(0, 256, size=(3, 3, 4, 6)).astype(np.float64)
check_close(colour_histogram(images, bins=3), histogram_loops(images, 3), "colour_histogram, 3 bins", atol=1e-12)
print("colour_histogram matches the loops")
### BEGIN HIDDEN TESTS
# 5 bins of width 51.2 (a width of 51 or 255 / bins moves values like 51 and 255 into other boxes), one bin,
# a single image, fractional pixel values and 8-bit images
for images, bins in (
    (rng.integers(0, 256, size=(2, 3, 5, 3)).astype(np.float64), 5),
    (np.array([51.0, 52.0, 255.0, 0.0, 102.0, 103.0]).reshape(1, 3, 1, 2), 5),
    (rng.uniform(0, 255, size=(1, 3, 3, 3)), 2),
    (rng.uniform(0, 255, size=(2, 3, 2, 2)), 1),
    (rng.integers(0, 256, size=(2, 3, 4, 4)).astype(np.uint8), 4),
):
    features = colour_histogram(images, bins=bins)
    expected = histogram_loops(images.astype(np.float64), bins)
    check_close(
        features, expected, f"colour_histogram of {images.dtype} images {images.shape}, {bins} bins", atol=1e-12
    )
### END HIDDEN TESTS

# %% [markdown]
# ### A histogram of oriented gradients (HOG)
#
# Shapes are made of edges. On the grey image $I$ (the mean of the three channels) the $[-1, 0, 1]$ filter
# gives each pixel an **image gradient** $g_x = I_{r, c+1} - I_{r, c-1}$, $g_y = I_{r+1, c} - I_{r-1, c}$
# (rows counted downwards; 0 on the outermost columns for $g_x$ and rows for $g_y$, where a neighbour is
# missing), with magnitude $\sqrt{g_x^2 + g_y^2}$ and an **unsigned orientation**: the angle of
# $(g_x, g_y)$ folded into $[0°, 180°)$, so that a dark-to-light and a light-to-dark edge along the same line
# count the same. The image is cut into cells of 8×8 pixels, and in each cell every pixel adds its magnitude
# to the bin of its orientation, 9 bins of 20°: a 32×32 image gives 4 × 4 cells × 9 = 144 numbers. A
# vertical edge (dark on the left, light on the right) has $g_y = 0$ and $g_x > 0$, orientation 0°, and
# lands in bin 0; a horizontal edge (orientation 90°) in bin 4, which covers 80° to 100°. (Dalal and Triggs'
# full HOG also splits each vote between neighbouring bins and normalises groups of cells; we leave that out.)
#
# Implement `gradient_histogram`.

# %% test="gradient_histogram" points=3
import math

import numpy as np

from cs_lib.checks import check_close, check_shape
from cs_lib.features import gradient_histogram


def gradient_histogram_loops(images, cell_size, num_orientations):
    """HOG-like features pixel by pixel: grey level, [-1, 0, 1] gradient, magnitude into its cell's orientation bin."""
    N, _, H, W = images.shape
    cells_across = W // cell_size
    expected = np.zeros((N, (H // cell_size) * cells_across * num_orientations))
    for n in range(N):
        grey = [[sum(images[n, channel, r, c] for channel in range(3)) / 3 for c in range(W)] for r in range(H)]
        for r in range(H):
            for c in range(W):
                gx = grey[r][c + 1] - grey[r][c - 1] if 0 < c < W - 1 else 0.0
                gy = grey[r + 1][c] - grey[r - 1][c] if 0 < r < H - 1 else 0.0
                angle = math.degrees(math.atan2(gy, gx)) % 180.0
                k = min(int(angle // (180.0 / num_orientations)), num_orientations - 1)
                cell = (r // cell_size) * cells_across + c // cell_size
                expected[n, cell * num_orientations + k] += math.hypot(gx, gy)
    return expected


# the lecture's edges: 8 x 8 images in 2 x 2 cells of 4, dark (0) on one side and light (255) on the other
vertical = np.zeros((1, 3, 8, 8))
vertical[..., 4:] = 255.0  # columns 3 and 4 get gx = 255, gy = 0: orientation 0, bin 0
features = gradient_histogram(vertical, cell_size=4, num_orientations=9)
check_shape(features, (1, 2 * 2 * 9), "gradient_histogram of one 8 x 8 image with cells of 4 and 9 orientations")
expected = np.zeros((2, 2, 9))
expected[:, :, 0] = 4 * 255.0  # in every cell, one column of 4 pixels with magnitude 255
check_close(features, expected.reshape(1, -1), "gradient_histogram of a vertical edge", atol=1e-9)
horizontal = vertical.transpose(0, 1, 3, 2)  # orientation 90 degrees: bin 4 (80 to 100 degrees)
expected = np.zeros((2, 2, 9))
expected[:, :, 4] = 4 * 255.0
check_close(gradient_histogram(horizontal, 4, 9), expected.reshape(1, -1), "gradient_histogram of a horizontal edge")

rng = np.random.default_rng(31)
images = rng.uniform(0, 255, size=(2, 3, 8, 12))
features = gradient_histogram(images, cell_size=4, num_orientations=9)
check_close(features, gradient_histogram_loops(images, 4, 9), "gradient_histogram of random images", rtol=1e-7)
print("gradient_histogram matches the loops")
### BEGIN HIDDEN TESTS
# other cell sizes and orientation counts, non-square images, one image, 8-bit images, and images whose colour
# channels differ (the grey level is their mean)
for images, cell_size, num_orientations in (
    (rng.uniform(0, 255, size=(1, 3, 6, 9)), 3, 5),
    (rng.uniform(0, 255, size=(3, 3, 4, 8)), 2, 7),
    (rng.integers(0, 256, size=(2, 3, 8, 8)).astype(np.uint8), 8, 9),
    (rng.uniform(0, 255, size=(2, 3, 10, 5)) * np.array([1.0, 0.0, 0.3])[:, None, None], 5, 3),
):
    where = f"{images.dtype} images {images.shape}, cells of {cell_size}, {num_orientations} orientations"
    features = gradient_histogram(images, cell_size=cell_size, num_orientations=num_orientations)
    expected = gradient_histogram_loops(images.astype(np.float64), cell_size, num_orientations)
    check_close(features, expected, f"gradient_histogram of {where}", rtol=1e-7, atol=1e-9)
# a 30 degree edge (light below the line y = x tan 30) feeds a different bin than its mirror image
ramp = np.fromfunction(lambda r, c: 255.0 * (r * 1.0 > c * math.tan(math.radians(30))), (12, 12))
images = np.broadcast_to(ramp, (1, 3, 12, 12)).copy()
features = gradient_histogram(images, cell_size=6, num_orientations=9)
check_close(features, gradient_histogram_loops(images, 6, 9), "gradient_histogram of a 30-degree edge", rtol=1e-7)
### END HIDDEN TESTS

# %% [markdown]
# Now the comparison. Each feature is computed for every image, **standardised** (each feature minus its
# training mean, divided by its training standard deviation, so that no feature dominates because of its
# units) and given a bias column; then a `LinearSVM` is trained on it with the same number of steps as the
# raw-pixel classifiers of the search above.

# %%
from cs_lib.features import colour_histogram, gradient_histogram


def standardised(train, *others):
    """Features minus the training mean, divided by the training standard deviation, with a bias column."""
    mean, std = train.mean(axis=0), train.std(axis=0) + 1e-8
    return [np.hstack([(f - mean) / std, np.ones((len(f), 1))]) for f in (train, *others)]


start = time.perf_counter()
splits = (data["X_train"], data["X_val"], data["X_test"])
colours = [colour_histogram(images, bins=4) for images in splits]
gradients = [gradient_histogram(images, cell_size=8, num_orientations=9) for images in splits]
print(f"features of {sum(len(images) for images in splits)} images in {time.perf_counter() - start:.1f} s")
feature_sets = {
    "colour histogram": standardised(*colours),
    "gradient histogram": standardised(*gradients),
    "both": standardised(*(np.hstack(pair) for pair in zip(colours, gradients))),
}
feature_accuracies = {}
for name, (F_train, F_val, F_test) in feature_sets.items():
    classifier = LinearSVM(seed=0)
    classifier.train(F_train, y_train, learning_rate=1e-1, reg=1e-3, num_iters=100, batch_size=100)
    feature_accuracies[name] = (
        np.mean(classifier.predict(F_val) == y_val),
        np.mean(classifier.predict(F_test) == y_test),
    )
pixel_val = pixel_accuracies["LinearSVM"][0]
print(f"{'LinearSVM on':>22} {'dimensions':>10} {'validation accuracy':>20}")
print(f"{'raw pixels':>22} {X_train.shape[1]:>10} {pixel_val:>20.3f}")
for name, (F_train, _, _) in feature_sets.items():
    print(f"{name:>22} {F_train.shape[1]:>10} {feature_accuracies[name][0]:>20.3f}")
show_effect(
    feature_accuracies["gradient histogram"][0] > pixel_val + 0.1,
    "the linear SVM on gradient histograms beats the one on raw pixels by more than 0.1",
)
if data["source"] == "embedded":
    show_effect(feature_accuracies["colour histogram"][0] < 0.2, "the colour histogram alone stays close to chance")

# %% [markdown] answer="features_versus_convnet" points=3
# **Inline question 3.** (a) Compare the three feature sets with the raw pixels: which one helps the linear
# classifier, and why does it suit this data? (b) Every class of the embedded dataset has a colour tint of its
# own, and the raw-pixel templates show it; why does the colour histogram alone see so little of it?
# (c) Assignment 3's three-layer convnet reaches about 0.73 validation accuracy on the embedded dataset after
# three epochs; on CIFAR-10, features like these take a linear classifier to under 0.5 while convnets pass
# 0.7. What does a convnet do that these features do by hand, and why does learning them go further on
# photographs?
#
# ### BEGIN SOLUTION
# (a) The gradient histogram takes the linear SVM from about 0.36 on raw pixels to about 0.7; the colour
# histogram is near chance and adding it to the gradients does not help. The classes are defined by their
# outlines and textures: stripes have edges in one direction, a checker in two, a disc in all directions
# around its rim, a ring on two rims, a square in two perpendicular directions, and so on. Gradient histograms
# describe exactly that, per cell, from the grey level: they do not change with the shape's colour or the
# background's, and a shift of a few pixels moves only some votes to a neighbouring cell. A raw-pixel
# template instead has to match colours at fixed positions, which random colours and positions defeat.
# (b) The tint is relative: a shape's colour is its background's colour moved partly in the class's
# direction, while the background colour itself is random. A histogram counts the absolute colours of all
# pixels, mostly background, without knowing which pixels belong to the shape, so the class's shift is
# buried under the random background colours. The centred raw-pixel templates compare the centre, where the
# shape tends to be, with the surround, which is how they pick the tint up.
# (c) A convnet's first layer learns filters that look like these gradient filters (edges in several
# directions, colour contrasts), pooling gives the same tolerance to small shifts that the cells give, and
# the deeper layers combine edges into parts and objects. Here a person designed the features knowing what
# matters in the data, and on these drawn shapes, which are made of edges, that is nearly as good as
# what a small convnet learns. On photographs what matters (fur, wheels, faces, context) is far richer than
# edge directions per cell; a convnet learns its features from the data for the task, many layers deep, so it
# keeps improving with data and depth, while fixed features cap what the linear classifier can see.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# The classifiers of this notebook, each with the hyperparameters you chose (chance is 0.10):

# %%
print(f"{'':>34} {'validation':>10} {'test':>6}")
for name, (val_accuracy, test_accuracy) in pixel_accuracies.items():
    print(f"{name + ' on raw pixels':>34} {val_accuracy:>10.3f} {test_accuracy:>6.3f}")
for name in ("gradient histogram", "both"):
    val_accuracy, test_accuracy = feature_accuracies[name]
    print(f"{'LinearSVM on ' + name:>34} {val_accuracy:>10.3f} {test_accuracy:>6.3f}")

# %% [markdown]
# On the embedded dataset the reference solution's raw-pixel classifiers reach about 0.36 (SVM) and 0.38
# (softmax) validation accuracy after 100 steps, and about 0.43 and 0.44 after 1,500 steps of batch 200; the
# accuracy tests ask for 0.30 after 100 steps (on CIFAR-10, for 0.38 and 0.35 after 1,500 steps). One linear
# template per class handles shapes that sit anywhere, in many colours, poorly; features designed for edges
# do much better, and the convolutional networks of the later assignments learn such features themselves.
