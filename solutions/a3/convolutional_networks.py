# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Assignment 3: convolution and pooling
#
# A fully connected layer stretches a $32 \times 32 \times 3$ image into 3072 numbers and connects every
# output to all of them. A **convolutional layer** keeps the image's spatial structure: each of its
# filters is small in width and height but spans the full depth of the input, slides over the image, and
# computes a dot product (plus a bias) at every position, giving one **activation map** per filter.
# A **pooling layer** then makes the maps smaller by keeping the maximum of each small window.
#
# In this assignment you
#
# 1. work out the arithmetic of convolutions (`cs_lib/conv_arithmetic.py`);
# 2. write convolution and max pooling with explicit loops, forward and backward (`cs_lib/conv_layers.py`),
#    and use your convolution as an image filter on a photo;
# 3. make convolution fast with **im2col** in numpy (`cs_lib/im2col.py`), and compare it with the
#    provided compiled (Cython) layers and with PyTorch;
# 4. build and train a three-layer convolutional network (`cs_lib/classifiers/cnn.py`).
#
# Shapes use the lecture's letters: a minibatch `x` of shape `(N, C, H, W)` (N images, C channels, height H,
# width W), filters `w` of shape `(F, C, HH, WW)` and an output of shape `(N, F, H', W')`.
# Relative errors of about `1e-8` or smaller mean a function is right; `1e-2` or worse almost always
# means a bug.

# %% locked="imports"
import time

import matplotlib.pyplot as plt
import numpy as np

from cs_lib.gradient_check import rel_error
from cs_lib.notebook import scaled

plt.rcParams["figure.figsize"] = (10.0, 4.0)
plt.rcParams["image.interpolation"] = "nearest"

# %% [markdown]
# ## Part 1: convolution arithmetic
#
# A filter of width $F$ slides over an input of width $N$ in steps of $S$ (the **stride**), after $P$ zeros
# have been added on each side (the **zero padding**). The output has width
#
# $$\text{output size} = \frac{N - F + 2P}{S} + 1 .$$
#
# The lecture's examples, for a $7 \times 7$ input and a $3 \times 3$ filter:
#
# | stride | pad | output | |
# |---|---|---|---|
# | 1 | 0 | $(7 - 3)/1 + 1 = 5$ | $5 \times 5$ |
# | 2 | 0 | $(7 - 3)/2 + 1 = 3$ | $3 \times 3$ |
# | 3 | 0 | $(7 - 3)/3 + 1 = 2.33$ | **does not fit**: windows start at 0 and 3, and one starting at 6 would hang over the edge |
# | 1 | 1 | $(7 - 3 + 2)/1 + 1 = 7$ | $7 \times 7$: the padding keeps the size ("same" padding) |
#
# A $32 \times 32 \times 3$ input with ten $5 \times 5$ filters, stride 1 and pad 2 gives a
# $32 \times 32 \times 10$ output. Each filter has $5 \cdot 5 \cdot 3 = 75$ weights and one bias, so the
# layer has $76 \cdot 10 = 760$ parameters, whatever the input's width and height.
#
# Stacking layers grows the **receptive field**, the input region one output depends on: three
# $3 \times 3$ layers (stride 1) see as far as one $7 \times 7$ layer. Draw a row of pixels and work out how
# much each layer adds.
#
# **Implement** `conv_output_size`, `conv_param_count`, `receptive_field` and `same_padding` in
# `cs_lib/conv_arithmetic.py`, from the lecture's examples above (the functions take any sizes).
# `conv_output_size` must refuse a stride that does not fit with a `ValueError` that names the numbers,
# e.g. `stride 3 does not fit: (7 - 3 + 2*0) / 3 + 1 = 2.33 is not an integer`, and `same_padding` must
# refuse an even filter width.

# %% test="conv_output_size" points=2
from cs_lib.checks import check_raises, check_scalar, check_true
from cs_lib.conv_arithmetic import conv_output_size

check_scalar(conv_output_size(7, 3, stride=1, pad=0), 5, "conv_output_size(7, 3, stride=1, pad=0)")
check_scalar(conv_output_size(7, 3, stride=2, pad=0), 3, "conv_output_size(7, 3, stride=2, pad=0)")
check_scalar(conv_output_size(7, 3, stride=1, pad=1), 7, "conv_output_size(7, 3, stride=1, pad=1)")
check_scalar(conv_output_size(32, 5, stride=1, pad=2), 32, "conv_output_size(32, 5, stride=1, pad=2)")
error = check_raises(ValueError, conv_output_size, 7, 3, stride=3, pad=0, name="conv_output_size(7, 3, stride=3)")
check_true("2.33" in str(error), f"the message should show (7 - 3 + 2*0) / 3 + 1 = 2.33, got: {error}")
print("conv_output_size: the lecture's examples are right, and stride 3 is refused:", error)
### BEGIN HIDDEN TESTS
# AlexNet's first layer: 227x227 input, 11x11 filters, stride 4 -> 55; its 3x3 pools with stride 2: 55 -> 27
check_scalar(conv_output_size(227, 11, stride=4, pad=0), 55, "conv_output_size(227, 11, stride=4, pad=0)")
check_scalar(conv_output_size(55, 3, stride=2, pad=0), 27, "conv_output_size(55, 3, stride=2, pad=0)")
check_scalar(conv_output_size(5, 5, stride=1, pad=0), 1, "conv_output_size(5, 5, stride=1, pad=0)")
check_scalar(conv_output_size(5, 7, stride=1, pad=1), 1, "conv_output_size(5, 7, stride=1, pad=1)")
check_scalar(conv_output_size(6, 2, stride=2, pad=2), 5, "conv_output_size(6, 2, stride=2, pad=2)")
check_true(isinstance(conv_output_size(9, 3, stride=3, pad=0), int), "conv_output_size must return an int")
for size, field, stride, pad in ((8, 3, 2, 0), (10, 4, 4, 0), (32, 5, 2, 0), (224, 7, 2, 2)):
    check_raises(
        ValueError,
        conv_output_size,
        size,
        field,
        stride=stride,
        pad=pad,
        name=f"conv_output_size({size}, {field}, stride={stride}, pad={pad})",
    )
# a filter larger than the padded input does not fit at all
check_raises(ValueError, conv_output_size, 3, 5, stride=1, pad=0, name="conv_output_size(3, 5, stride=1, pad=0)")
check_raises(ValueError, conv_output_size, 4, 8, stride=2, pad=1, name="conv_output_size(4, 8, stride=2, pad=1)")
### END HIDDEN TESTS

# %% test="conv_param_count" points=1
from cs_lib.checks import check_scalar
from cs_lib.conv_arithmetic import conv_param_count

check_scalar(conv_param_count(F=5, C=3, K=10), 760, "conv_param_count(F=5, C=3, K=10)")
print("ten 5x5x3 filters:", conv_param_count(F=5, C=3, K=10), "parameters")
### BEGIN HIDDEN TESTS
check_scalar(conv_param_count(F=1, C=64, K=32), 64 * 32 + 32, "conv_param_count(F=1, C=64, K=32)")
check_scalar(conv_param_count(F=11, C=3, K=96), 11 * 11 * 3 * 96 + 96, "conv_param_count(F=11, C=3, K=96)")
check_scalar(conv_param_count(F=3, C=256, K=384), 3 * 3 * 256 * 384 + 384, "conv_param_count(F=3, C=256, K=384)")
check_scalar(conv_param_count(F=2, C=5, K=1), 21, "conv_param_count(F=2, C=5, K=1)")
### END HIDDEN TESTS

# %% test="receptive_field" points=1
from cs_lib.checks import check_scalar
from cs_lib.conv_arithmetic import receptive_field

check_scalar(receptive_field(L=3, K=3), 7, "receptive_field(L=3, K=3)")
check_scalar(receptive_field(L=1, K=5), 5, "receptive_field(L=1, K=5)")
print("three 3x3 layers see", receptive_field(L=3, K=3), "pixels, like one 7x7 layer")
### BEGIN HIDDEN TESTS
check_scalar(receptive_field(L=0, K=3), 1, "receptive_field(L=0, K=3)")
check_scalar(receptive_field(L=2, K=3), 5, "receptive_field(L=2, K=3)")
check_scalar(receptive_field(L=4, K=5), 17, "receptive_field(L=4, K=5)")
check_scalar(receptive_field(L=10, K=1), 1, "receptive_field(L=10, K=1)")
### END HIDDEN TESTS

# %% test="same_padding" points=1
from cs_lib.checks import check_raises, check_scalar
from cs_lib.conv_arithmetic import same_padding

for field, pad in ((3, 1), (5, 2), (7, 3)):
    check_scalar(same_padding(field), pad, f"same_padding({field})")
check_raises(ValueError, same_padding, 4, name="same_padding(4)")
print("same padding: F = 3 -> 1, 5 -> 2, 7 -> 3; an even F is refused")
### BEGIN HIDDEN TESTS
check_scalar(same_padding(1), 0, "same_padding(1)")
check_scalar(same_padding(11), 5, "same_padding(11)")
for field in (2, 6, 10):
    check_raises(ValueError, same_padding, field, name=f"same_padding({field})")
### END HIDDEN TESTS

# %% [markdown]
# **Question 1.** (a) A conv layer has 64 filters of size $5 \times 5$ with stride 1 and pad 2 on a
# $32 \times 32 \times 3$ input, followed by a conv layer with 16 filters of size $2 \times 2$, stride 2,
# pad 0. What is the output volume of each layer, and how many parameters does each have?
# (b) Compare three stacked $3 \times 3$ conv layers with a single $7 \times 7$ conv layer, each layer with
# $C$ input and $C$ output channels: receptive field, parameter count (ignore biases), and one more
# reason to prefer the stack.

# %% [markdown] answer="conv_arithmetic" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# (a) First layer: $(32 - 5 + 2 \cdot 2)/1 + 1 = 32$, so $32 \times 32 \times 64$, with
# $5 \cdot 5 \cdot 3 \cdot 64 + 64 = 4864$ parameters. Second layer: $(32 - 2 + 0)/2 + 1 = 16$, so
# $16 \times 16 \times 16$, with $2 \cdot 2 \cdot 64 \cdot 16 + 16 = 4112$ parameters: its filters span
# the full depth 64 of their input, not the 3 channels of the image.
#
# (b) Both see a $7 \times 7$ region ($1 + 3 \cdot 2 = 7$). The stack has $3 \cdot 9 C^2 = 27 C^2$
# weights against $49 C^2$ for the single layer, and it puts three nonlinearities in place of one, so it
# can compute more complex functions of the same region with fewer parameters (VGG's argument).
# ### END SOLUTION

# %% [markdown]
# **Question 2.** A $1 \times 1$ convolution layer with 32 filters is applied to a $56 \times 56 \times 64$
# input. What is the output volume, how many parameters does the layer have, and what does each output
# number compute? Why would anyone use such a layer?

# %% [markdown] answer="one_by_one" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# The output is $56 \times 56 \times 32$ and the layer has $1 \cdot 1 \cdot 64 \cdot 32 + 32 = 2080$
# parameters. Each output number is a 64-dimensional dot product between one filter and the 64 channel
# values at one pixel, plus a bias: the layer applies the same fully connected layer (64 -> 32) to every
# pixel independently, mixing channels without looking at neighbours. It changes the depth cheaply
# (e.g. reduces 64 channels to 32 before an expensive $3 \times 3$ layer, as in GoogLeNet/ResNet
# bottlenecks) and, followed by a ReLU, adds a nonlinearity per pixel.
# ### END SOLUTION

# %% [markdown]
# ## Part 2: convolution with loops, the forward pass
#
# With `conv_param = {"stride": S, "pad": P}`, zero-pad every image by $P$ on all four sides (`np.pad`),
# then for every image $n$, filter $f$ and output position $(i, j)$:
#
# $$\text{out}[n, f, i, j] = b[f] + \sum_{c, k, l} w[f, c, k, l]\; x_{\text{pad}}[n, c, iS + k, jS + l],$$
#
# with $H' = 1 + (H + 2P - HH)/S$ and $W' = 1 + (W + 2P - WW)/S$. The function starts with provided input
# checks (a stride that does not fit raises `ValueError`, like your `conv_output_size`).
#
# **Implement** `conv_forward_naive` in `cs_lib/conv_layers.py`. Four nested loops (or three, with the
# sum over $c, k, l$ done by numpy) are fine: this version is for understanding, not speed. The check
# below compares it with a small example worked out by hand and with the provided fast layer.

# %% test="conv_forward_naive" points=3
import numpy as np

from cs_lib.checks import check_close, check_rel_error, check_shape
from cs_lib.conv_layers import conv_forward_naive
from cs_lib.fast_layers import conv_forward_fast

# by hand: a 2x2 filter of ones with stride 2 sums the four 2x2 blocks of a 4x4 image
x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
out, _ = conv_forward_naive(x, np.ones((1, 1, 2, 2)), np.array([0.5]), {"stride": 2, "pad": 0})
check_close(out, [[[[10.5, 18.5], [42.5, 50.5]]]], "conv_forward_naive, 2x2 ones filter, stride 2")
# by hand: pad 1 adds a ring of zeros, so a 3x3 ones filter sums each pixel's neighbourhood inside the image
x = np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)
out, _ = conv_forward_naive(x, np.ones((1, 1, 3, 3)), np.zeros(1), {"stride": 1, "pad": 1})
check_close(out, [[[[8, 15, 12], [21, 36, 27], [20, 33, 24]]]], "conv_forward_naive, 3x3 ones filter, pad 1")

rng = np.random.default_rng(0)
x = rng.normal(size=(2, 3, 7, 7))
w = rng.normal(size=(4, 3, 3, 3))
b = rng.normal(size=4)
conv_param = {"stride": 2, "pad": 1}
out, _ = conv_forward_naive(x, w, b, conv_param)
check_shape(out, (2, 4, 4, 4), "conv_forward_naive out")
expected, _ = conv_forward_fast(x, w, b, conv_param)
print("difference from the fast layer:", check_rel_error(out, expected, "conv_forward_naive out", tol=1e-8))
### BEGIN HIDDEN TESTS
# the provided fast layer is checked against torch.nn.functional.conv2d in the course's test suite
cases = [
    ((3, 2, 5, 5), (3, 2, 3, 3), 1, 0),
    ((1, 3, 6, 9), (2, 3, 2, 3), 2, 1),  # N = 1, non-square input and filter
    ((2, 1, 10, 9), (3, 1, 5, 4), 3, 2),  # stride 3, pad 2
    ((2, 4, 5, 3), (5, 4, 1, 1), 1, 0),  # a 1x1 convolution
    ((2, 2, 4, 4), (1, 2, 4, 4), 1, 0),  # the filter covers the whole image
]
for x_shape, w_shape, stride, pad in cases:
    x = rng.normal(size=x_shape)
    w = rng.normal(size=w_shape)
    b = rng.normal(size=w_shape[0])
    x_before = x.copy()
    out, _ = conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
    expected, _ = conv_forward_fast(x, w, b, {"stride": stride, "pad": pad})
    check_rel_error(
        out, expected, f"conv_forward_naive out, x {x_shape}, w {w_shape}, stride {stride}, pad {pad}", tol=1e-8
    )
    check_close(x, x_before, "x after conv_forward_naive (it must not change its input)", rtol=0, atol=0)
### END HIDDEN TESTS

# %% [markdown]
# ### Image processing with your convolution
#
# A convolution with hand-made filters is a classic image filter. Below, three $3 \times 3 \times 3$
# filters are applied to a photo of Grace Hopper (bundled with matplotlib) with your
# `conv_forward_naive`:
#
# - **grayscale**: the centre pixel's channels weighted $0.299\,R + 0.587\,G + 0.114\,B$;
# - **Sobel** $G_x$ and $G_y$: the luminance weights times the Sobel kernels
#   $\begin{bmatrix} -1 & 0 & 1 \\ -2 & 0 & 2 \\ -1 & 0 & 1 \end{bmatrix}$ and its transpose, which respond to
#   changes of brightness from left to right (vertical edges) and from top to bottom (horizontal edges).
#
# The edge magnitude $\sqrt{G_x^2 + G_y^2}$ outlines the photo. The first layer of a trained convnet
# learns filters much like these (see Part 6).

# %% locked="image_demo"
from matplotlib import cbook

from cs_lib.conv_layers import conv_forward_naive

photo = plt.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
step = scaled(3, 12)  # the naive convolution is slow: shrink the 600x512 photo by keeping every step-th pixel
image = photo[::step, ::step].astype(np.float64) / 255.0
x_photo = image.transpose(2, 0, 1)[None]  # (1, 3, H, W)

luminance = np.array([0.299, 0.587, 0.114])
sobel_x = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
centre = np.zeros((3, 3))
centre[1, 1] = 1.0
filters = np.stack([luminance[:, None, None] * kernel for kernel in (centre, sobel_x, sobel_x.T)])  # (3, 3, 3, 3)

started = time.perf_counter()
filtered, _ = conv_forward_naive(x_photo, filters, np.zeros(3), {"stride": 1, "pad": 1})
print(
    f"conv_forward_naive on a {x_photo.shape[2]}x{x_photo.shape[3]} photo with 3 filters: "
    f"{time.perf_counter() - started:.2f} s"
)
gray, gradient_x, gradient_y = filtered[0]
magnitude = np.hypot(gradient_x, gradient_y)

fig, axes = plt.subplots(1, 5, figsize=(16, 4))
panels = [
    (image, "original", None),
    (gray, "grayscale", "gray"),
    (np.abs(gradient_x), "|Gx|: vertical edges", "gray"),
    (np.abs(gradient_y), "|Gy|: horizontal edges", "gray"),
    (magnitude, "edge magnitude", "gray"),
]
for ax, (picture, title, cmap) in zip(axes, panels):
    ax.imshow(picture, cmap=cmap)
    ax.set_title(title)
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# ## Part 3: convolution with loops, the backward pass
#
# Every output $\text{out}[n, f, i, j]$ was computed from one window of $x_{\text{pad}}$, the filter
# $w[f]$ and the bias $b[f]$: a sum of products plus a bias. Work out from the forward formula what its
# upstream gradient $d\text{out}[n, f, i, j]$ sends back to each of the three (the local gradient of a
# product and of a sum, as in the lecture's computational graphs). The contributions **add up** over all
# images and positions (windows overlap whenever the stride is smaller than the filter). Finally $dx$ is
# the centre $H \times W$ of $dx_{\text{pad}}$: gradients that reach the padding are dropped.
#
# **Implement** `conv_backward_naive`. It is checked against numerical gradients
# (`eval_numerical_gradient_array`, centred differences).

# %% test="conv_backward_naive" points=3
import numpy as np

from cs_lib.checks import check_rel_error
from cs_lib.conv_layers import conv_backward_naive, conv_forward_naive
from cs_lib.gradient_check import eval_numerical_gradient_array

rng = np.random.default_rng(1)
x = rng.normal(size=(2, 3, 4, 4))
w = rng.normal(size=(2, 3, 3, 3))
b = rng.normal(size=2)
conv_param = {"stride": 1, "pad": 1}
dout = rng.normal(size=(2, 2, 4, 4))
out, cache = conv_forward_naive(x, w, b, conv_param)
dx, dw, db = conv_backward_naive(dout, cache)
dx_num = eval_numerical_gradient_array(lambda x: conv_forward_naive(x, w, b, conv_param)[0], x, dout)
dw_num = eval_numerical_gradient_array(lambda w: conv_forward_naive(x, w, b, conv_param)[0], w, dout)
db_num = eval_numerical_gradient_array(lambda b: conv_forward_naive(x, w, b, conv_param)[0], b, dout)
print("dx relative error:", check_rel_error(dx, dx_num, "conv_backward_naive dx", tol=1e-7))
print("dw relative error:", check_rel_error(dw, dw_num, "conv_backward_naive dw", tol=1e-7))
print("db relative error:", check_rel_error(db, db_num, "conv_backward_naive db", tol=1e-7))
### BEGIN HIDDEN TESTS
from cs_lib.fast_layers import conv_backward_fast, conv_forward_fast

cases = [
    ((3, 2, 7, 5), (3, 2, 3, 3), 2, 1),  # stride 2 with padding: overlapping and skipped rows
    ((1, 3, 6, 9), (2, 3, 2, 3), 2, 1),  # N = 1, non-square input and filter
    ((2, 1, 10, 9), (3, 1, 5, 4), 3, 2),  # stride 3, pad 2
    ((4, 2, 4, 4), (2, 2, 3, 3), 1, 0),  # several images, no padding
]
for x_shape, w_shape, stride, pad in cases:
    x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    conv_param = {"stride": stride, "pad": pad}
    out, fast_cache = conv_forward_fast(x, w, b, conv_param)
    dout = rng.normal(size=out.shape)
    expected = conv_backward_fast(dout, fast_cache)
    _, cache = conv_forward_naive(x, w, b, conv_param)
    where = f"x {x_shape}, w {w_shape}, stride {stride}, pad {pad}"
    for name, got, want in zip(("dx", "dw", "db"), conv_backward_naive(dout, cache), expected):
        check_rel_error(got, want, f"conv_backward_naive {name}, {where}", tol=1e-8)
### END HIDDEN TESTS

# %% [markdown]
# ## Part 4: max pooling with loops
#
# Max pooling shrinks every activation map on its own: with `pool_param = {"pool_height": PH,
# "pool_width": PW, "stride": S}`,
#
# $$\text{out}[n, c, i, j] = \max_{0 \le k < PH,\ 0 \le l < PW} x[n, c, iS + k, jS + l], \qquad
# H' = 1 + (H - PH)/S, \quad W' = 1 + (W - PW)/S .$$
#
# The lecture's example, a $4 \times 4$ map with $2 \times 2$ windows and stride 2:
#
# $$\begin{bmatrix} 1 & 1 & 2 & 4 \\ 5 & 6 & 7 & 8 \\ 3 & 2 & 1 & 0 \\ 1 & 2 & 3 & 4 \end{bmatrix}
# \;\longrightarrow\; \begin{bmatrix} 6 & 8 \\ 3 & 4 \end{bmatrix}$$
#
# Windows may **overlap**: AlexNet pools $3 \times 3$ windows with stride 2 ($55 \to 27$).
#
# **Backward:** the max passes on the value of one element, so $d\text{out}[n, c, i, j]$ goes to that one
# element of its window (when several elements tie for the maximum, pick exactly one of them, e.g. the
# first as `np.argmax` does) and the others get nothing. With overlapping windows one element can be the
# maximum of several windows: then its gradients **add up**.
#
# **Implement** `max_pool_forward_naive` and `max_pool_backward_naive` in `cs_lib/conv_layers.py`.

# %% test="max_pool_forward_naive" points=2
import numpy as np

from cs_lib.checks import check_close, check_rel_error
from cs_lib.conv_layers import max_pool_forward_naive
from cs_lib.fast_layers import max_pool_forward_fast

lecture = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=np.float64)
out, _ = max_pool_forward_naive(lecture[None, None], {"pool_height": 2, "pool_width": 2, "stride": 2})
check_close(out, [[[[6, 8], [3, 4]]]], "max_pool_forward_naive on the lecture's example")

rng = np.random.default_rng(2)
x = rng.normal(size=(2, 3, 7, 7))
for pool_param in ({"pool_height": 2, "pool_width": 2, "stride": 1}, {"pool_height": 3, "pool_width": 3, "stride": 2}):
    out, _ = max_pool_forward_naive(x, pool_param)
    expected, _ = max_pool_forward_fast(x, pool_param)
    error = check_rel_error(out, expected, f"max_pool_forward_naive out with {pool_param}", tol=1e-12)
    print(f"{pool_param}: difference from the fast layer {error:.1e}")
### BEGIN HIDDEN TESTS
cases = [
    ((1, 2, 6, 6), (2, 2), 2),  # N = 1, windows that tile the input
    ((2, 3, 5, 7), (2, 3), 1),  # non-square window, stride 1
    ((3, 1, 9, 7), (3, 3), 2),  # overlapping 3x3 windows, stride 2, non-square input
    ((2, 2, 8, 6), (4, 2), 2),  # a tall window
]
for x_shape, (height, width), stride in cases:
    x = rng.normal(size=x_shape)
    pool_param = {"pool_height": height, "pool_width": width, "stride": stride}
    out, _ = max_pool_forward_naive(x, pool_param)
    expected, _ = max_pool_forward_fast(x, pool_param)
    check_rel_error(
        out, expected, f"max_pool_forward_naive, x {x_shape}, pool {height}x{width}, stride {stride}", tol=1e-12
    )
### END HIDDEN TESTS

# %% test="max_pool_backward_naive" points=3
import numpy as np

from cs_lib.checks import check_rel_error
from cs_lib.conv_layers import max_pool_backward_naive, max_pool_forward_naive
from cs_lib.gradient_check import eval_numerical_gradient_array

rng = np.random.default_rng(3)
x = rng.normal(size=(2, 2, 5, 5))
for pool_param in ({"pool_height": 2, "pool_width": 2, "stride": 1}, {"pool_height": 3, "pool_width": 3, "stride": 2}):
    out, cache = max_pool_forward_naive(x, pool_param)
    dout = rng.normal(size=out.shape)
    dx = max_pool_backward_naive(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda x, p=pool_param: max_pool_forward_naive(x, p)[0], x, dout)
    error = check_rel_error(dx, dx_num, f"max_pool_backward_naive dx with {pool_param}", tol=1e-8)
    print(f"{pool_param}: dx relative error {error:.1e}")
### BEGIN HIDDEN TESTS
from cs_lib.checks import check_close, check_true
from cs_lib.fast_layers import max_pool_backward_fast, max_pool_forward_fast

cases = [
    ((1, 2, 6, 6), (2, 2), 2),
    ((2, 3, 5, 7), (2, 3), 1),
    ((3, 1, 9, 7), (3, 3), 2),  # AlexNet's overlapping pool
    ((2, 2, 8, 6), (4, 2), 2),
]
for x_shape, (height, width), stride in cases:
    x = rng.normal(size=x_shape)  # continuous values: no ties
    pool_param = {"pool_height": height, "pool_width": width, "stride": stride}
    out, fast_cache = max_pool_forward_fast(x, pool_param)
    dout = rng.normal(size=out.shape)
    _, cache = max_pool_forward_naive(x, pool_param)
    check_rel_error(
        max_pool_backward_naive(dout, cache),
        max_pool_backward_fast(dout, fast_cache),
        f"max_pool_backward_naive dx, x {x_shape}, pool {height}x{width}, stride {stride}",
        tol=1e-12,
    )

# ties: every window of x is constant, so all its elements are maxima; exactly one of them gets dout
x = np.repeat(np.repeat(rng.integers(0, 3, size=(2, 2, 3, 3)).astype(np.float64), 2, axis=2), 2, axis=3)
out, cache = max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
dout = rng.uniform(1.0, 2.0, size=out.shape)
dx = np.asarray(max_pool_backward_naive(dout, cache), dtype=np.float64)
windows = dx.reshape(2, 2, 3, 2, 3, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 2, 3, 3, 4)
check_close(windows.sum(axis=-1), dout, "the gradient reaching each window of tied maxima (expected dout)")
check_true(
    bool(((windows != 0).sum(axis=-1) == 1).all()),
    "with tied maxima, exactly one element of each window must get the gradient",
)

# ties across overlapping windows: every window holds a 1 (its top-left corner) and maybe more 1s;
# the gradients still add up to dout's total and land only on maxima, one per window
x = rng.integers(0, 2, size=(2, 2, 7, 7)).astype(np.float64)
x[:, :, ::2, ::2] = 1.0
pool_param = {"pool_height": 3, "pool_width": 3, "stride": 2}
out, cache = max_pool_forward_naive(x, pool_param)
dout = rng.uniform(1.0, 2.0, size=out.shape)
dx = np.asarray(max_pool_backward_naive(dout, cache), dtype=np.float64)
check_close(dx.sum(), dout.sum(), "total gradient of a max pool with ties")
check_true(bool((x[dx != 0] == 1).all()), "with ties, the gradient must go to maximal elements only")
check_true(bool((dx != 0).sum() <= out.size), "with ties, each window must give its gradient to one element")
### END HIDDEN TESTS

# %% [markdown]
# ## Part 5: making convolution fast
#
# ### im2col
#
# The naive convolution spends its time in Python loops. **im2col** ("image to columns") rearranges the
# input so that the whole layer is one matrix product, which BLAS computes at close to the machine's peak
# speed: copy every receptive field (a $C \times HH \times WW$ window of the padded input) into a column,
#
# $$\text{cols}[(c \cdot HH + k) \cdot WW + l,\ (n \cdot H' + i) \cdot W' + j] = x_{\text{pad}}[n, c, iS + k, jS + l],$$
#
# a matrix of shape $(C \cdot HH \cdot WW) \times (N \cdot H' \cdot W')$. Its rows follow the order of
# `w[f].reshape(-1)` and its columns the order of the output positions, so
#
# $$\text{out} = w_{\text{rows}} \cdot \text{cols} + b, \qquad w_{\text{rows}} = \texttt{w.reshape(F, -1)} \text{ of shape } F \times (C \cdot HH \cdot WW),$$
#
# gives an $F \times (N H' W')$ matrix that reshapes and transposes into $(N, F, H', W')$.
# For example, a $3 \times 3$ image $\begin{bmatrix} 0 & 1 & 2 \\ 3 & 4 & 5 \\ 6 & 7 & 8 \end{bmatrix}$ with a
# $2 \times 2$ field and stride 1 has four windows, so
# $\text{cols} = \begin{bmatrix} 0 & 1 & 3 & 4 \\ 1 & 2 & 4 & 5 \\ 3 & 4 & 6 & 7 \\ 4 & 5 & 7 & 8 \end{bmatrix}$
# (one column per window). In AlexNet's first layer ($227 \times 227 \times 3$ input, 96 filters of
# $11 \times 11 \times 3$, stride 4), cols is $363 \times 3025$ per image and the layer is a
# $(96 \times 363) \cdot (363 \times 3025)$ product.
#
# **Implement** `im2col` and `conv_forward_im2col` in `cs_lib/im2col.py` with numpy only: no Python loop
# over output positions. Either build integer index arrays for the rows and columns every entry reads and
# index the padded input with them, or take a strided view with `np.lib.stride_tricks.as_strided`. The
# compiled `cs_lib.fast_im2col.im2col` uses the same layout, so the check compares with it.

# %% test="im2col" points=3
import numpy as np

from cs_lib.checks import check_close, check_rel_error
from cs_lib.fast_im2col import im2col as im2col_fast
from cs_lib.im2col import im2col

x = np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)
check_close(
    im2col(x, 2, 2, stride=1, pad=0),
    [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]],
    "im2col of the 3x3 example with a 2x2 field",
)

rng = np.random.default_rng(4)
x = rng.normal(size=(2, 3, 5, 5))
cols = im2col(x, 3, 3, stride=2, pad=1)
expected = im2col_fast(x, 3, 3, stride=2, pad=1)
print(
    "difference from the compiled im2col:",
    check_rel_error(cols, expected, "im2col(x, 3, 3, stride=2, pad=1)", tol=1e-12),
)
### BEGIN HIDDEN TESTS
from cs_lib.checks import check_true


def im2col_loops(x, HH, WW, stride, pad):
    N, C, H, W = x.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    H_out = (H + 2 * pad - HH) // stride + 1
    W_out = (W + 2 * pad - WW) // stride + 1
    cols = np.zeros((C * HH * WW, N * H_out * W_out))
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                window = x_pad[n, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
                cols[:, (n * H_out + i) * W_out + j] = window.reshape(-1)
    return cols


cases = [
    ((1, 2, 6, 9), 2, 3, 2, 1),  # N = 1, non-square input and field
    ((3, 1, 10, 9), 5, 4, 3, 2),  # stride 3, pad 2
    ((2, 4, 4, 4), 1, 1, 1, 0),  # a 1x1 field: cols is x with the channels as rows
    ((2, 3, 5, 5), 5, 5, 1, 0),  # one window per image
]
for x_shape, HH, WW, stride, pad in cases:
    x = rng.normal(size=x_shape)
    x_before = x.copy()
    cols = im2col(x, HH, WW, stride=stride, pad=pad)
    check_rel_error(
        cols,
        im2col_loops(x, HH, WW, stride, pad),
        f"im2col, x {x_shape}, field {HH}x{WW}, stride {stride}, pad {pad}",
        tol=1e-12,
    )
    check_close(x, x_before, "x after im2col (it must not change its input)", rtol=0, atol=0)
cols = im2col(rng.normal(size=(2, 2, 5, 5)).astype(np.float32), 3, 3, stride=1, pad=1)
check_true(cols.dtype == np.float32, f"im2col of a float32 x must be float32, got {cols.dtype}")
### END HIDDEN TESTS

# %% test="conv_forward_im2col" points=2
import numpy as np

from cs_lib.checks import check_rel_error
from cs_lib.fast_layers import conv_forward_fast
from cs_lib.im2col import conv_forward_im2col

rng = np.random.default_rng(5)
x = rng.normal(size=(2, 3, 7, 7))
w = rng.normal(size=(4, 3, 3, 3))
b = rng.normal(size=4)
conv_param = {"stride": 2, "pad": 1}
out, _ = conv_forward_im2col(x, w, b, conv_param)
expected, _ = conv_forward_fast(x, w, b, conv_param)
print("difference from the fast layer:", check_rel_error(out, expected, "conv_forward_im2col out", tol=1e-8))
### BEGIN HIDDEN TESTS
cases = [
    ((1, 3, 6, 9), (2, 3, 2, 3), 2, 1),
    ((3, 1, 10, 9), (3, 1, 5, 4), 3, 2),
    ((2, 4, 5, 3), (5, 4, 1, 1), 1, 0),
    ((4, 2, 6, 6), (3, 2, 3, 3), 1, 1),
]
for x_shape, w_shape, stride, pad in cases:
    x = rng.normal(size=x_shape)
    w = rng.normal(size=w_shape)
    b = rng.normal(size=w_shape[0])
    out, _ = conv_forward_im2col(x, w, b, {"stride": stride, "pad": pad})
    expected, _ = conv_forward_fast(x, w, b, {"stride": stride, "pad": pad})
    check_rel_error(
        out, expected, f"conv_forward_im2col, x {x_shape}, w {w_shape}, stride {stride}, pad {pad}", tol=1e-8
    )
### END HIDDEN TESTS

# %% [markdown]
# ### The provided fast layers
#
# `cs_lib/fast_layers.py` (provided, complete) has the same API as your naive layers:
# `conv_forward_fast` / `conv_backward_fast` do im2col and its adjoint col2im in compiled Cython
# (`cs_lib/_im2col_cython.pyx`, built when the course is installed) followed by BLAS matrix products, and
# `max_pool_forward_fast` / `max_pool_backward_fast` take a reshape path when the windows tile the input
# and a compiled general path for overlapping windows. Without a C compiler a pure-numpy fallback is used
# (`ENV.im2col_backend` says which). The backward pass of the convolution is im2col's adjoint:
# $dw = d\text{out}_{\text{rows}} \cdot \text{cols}^T$ and $dx = \text{col2im}(w_{\text{rows}}^T \cdot d\text{out}_{\text{rows}})$,
# where col2im adds every column entry back to the input position it was copied from.
#
# Below: the fast layers agree with yours, and a timing table on the shapes of the lecture's
# comparison (a minibatch of $31 \times 31 \times 3$ images, 25 filters of $3 \times 3$, stride 2, pad 1).

# %% locked="fast_vs_naive"
from cs_lib.conv_layers import conv_backward_naive, conv_forward_naive
from cs_lib.fast_layers import conv_backward_fast, conv_forward_fast
from cs_lib.im2col import conv_forward_im2col

print("im2col backend of the fast layers:", ENV.im2col_backend)
rng = np.random.default_rng(6)
x = rng.normal(size=(scaled(25, 2), 3, 31, 31))
w = rng.normal(size=(25, 3, 3, 3))
b = rng.normal(size=25)
conv_param = {"stride": 2, "pad": 1}
dout = rng.normal(size=(x.shape[0], 25, 16, 16))

started = time.perf_counter()
out_naive, cache_naive = conv_forward_naive(x, w, b, conv_param)
naive_forward = 1e3 * (time.perf_counter() - started)
started = time.perf_counter()
naive_gradients = conv_backward_naive(dout, cache_naive)
naive_backward = 1e3 * (time.perf_counter() - started)
out_fast, cache_fast = conv_forward_fast(x, w, b, conv_param)
out_im2col, _ = conv_forward_im2col(x, w, b, conv_param)
print(f"out: naive vs fast {rel_error(out_naive, out_fast):.1e}, im2col vs fast {rel_error(out_im2col, out_fast):.1e}")
for name, naive, fast in zip(("dx", "dw", "db"), naive_gradients, conv_backward_fast(dout, cache_fast)):
    print(f"{name}: naive vs fast {rel_error(naive, fast):.1e}")


# %% locked="timing_table"
import importlib.util

from cs_lib.notebook import show_effect


def best_time(function, repeats):
    """The fastest of several runs, in milliseconds (the least disturbed by other programs)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return 1e3 * min(times)


timings = {
    "naive loops": (naive_forward, naive_backward),  # timed once, above: they are slow
    "numpy im2col": (best_time(lambda: conv_forward_im2col(x, w, b, conv_param), scaled(5, 2)), None),
    f"fast layers ({ENV.im2col_backend})": (
        best_time(lambda: conv_forward_fast(x, w, b, conv_param), scaled(5, 2)),
        best_time(lambda: conv_backward_fast(dout, cache_fast), scaled(5, 2)),
    ),
}
if importlib.util.find_spec("torch") is not None and not ENV.grading:  # importing torch takes seconds
    import torch
    import torch.nn.functional as F

    x_t, w_t, b_t = (torch.tensor(array, requires_grad=True) for array in (x, w, b))
    out_t = F.conv2d(x_t, w_t, b_t, stride=2, padding=1)
    dout_t = torch.tensor(dout)
    timings["torch.nn.functional.conv2d"] = (
        best_time(lambda: F.conv2d(x_t.detach(), w_t.detach(), b_t.detach(), stride=2, padding=1), scaled(5, 2)),
        best_time(lambda: torch.autograd.grad(out_t, (x_t, w_t, b_t), dout_t, retain_graph=True), scaled(5, 2)),
    )

print(f"convolution of x {x.shape} with w {w.shape}, stride 2, pad 1 (float64; best of a few runs)\n")
print(f"{'method':<30}{'forward ms':>12}{'speed-up':>10}{'backward ms':>13}{'speed-up':>10}")
for method, (forward, backward) in timings.items():
    backward_text = f"{backward:13.2f}{naive_backward / backward:9.0f}x" if backward else f"{'-':>13}{'':>10}"
    print(f"{method:<30}{forward:12.2f}{naive_forward / forward:9.0f}x{backward_text}")
fast_forward, fast_backward = timings[f"fast layers ({ENV.im2col_backend})"]
_ = show_effect(
    naive_forward / fast_forward > 100 and naive_backward / fast_backward > 100,
    "the fast layers run forward and backward more than 100 times faster than the loops",
)

# %% [markdown]
# **Question 3.** (a) By how much is the im2col matrix larger than the input for the layer timed above
# (3x3 filters, stride 2), and for a 3x3 convolution with stride 1 and pad 1? (b) im2col copies every
# input value several times, and copying is not free. Why is it still far faster than the naive loops,
# and what does this cost in memory for a large minibatch?

# %% [markdown] answer="im2col_cost" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# (a) cols has $C \cdot HH \cdot WW$ rows and $N H' W'$ columns against $N C H W$ input numbers, so it is
# $HH \cdot WW \cdot H'W' / (HW)$ times larger: $9 \cdot 256 / 961 \approx 2.4$ times for the $31 \times 31$
# input with stride 2 ($H' = W' = 16$), and about $9$ times for a $3 \times 3$ convolution with stride 1
# and same padding ($H'W' = HW$): every pixel is copied once per filter position that reads it.
#
# (b) The naive version runs the Python interpreter (and a small numpy call) for every output number;
# im2col does the copying once in compiled code and then hands all the arithmetic to one large matrix
# product, which BLAS runs with cache blocking and SIMD instructions (and several cores). The price is
# memory: the columns of a whole minibatch can be many times the size of the input (e.g. 9x for 3x3 same
# convolutions), so real implementations process the batch in chunks (as `conv_forward_fast` does) or use
# implicit-GEMM/FFT/Winograd methods that never materialise the full matrix.
# ### END SOLUTION

# %% [markdown]
# ## Part 6: a three-layer convolutional network
#
# **Implement** `ThreeLayerConvNet` in `cs_lib/classifiers/cnn.py`:
#
# $$\text{conv} \to \text{ReLU} \to 2 \times 2 \text{ max pool} \to \text{affine} \to \text{ReLU} \to \text{affine} \to \text{softmax}$$
#
# | parameter | shape | |
# |---|---|---|
# | `W1`, `b1` | $(F, C, HH, WW)$, $(F,)$ | `num_filters` filters of `filter_size`; stride 1, pad $(HH - 1)/2$ keeps $H \times W$ |
# | `W2`, `b2` | $(F \cdot \tfrac{H}{2} \cdot \tfrac{W}{2}, M)$, $(M,)$ | after the pool, `hidden_dim` = $M$ |
# | `W3`, `b3` | $(M, K)$, $(K,)$ | `num_classes` = $K$ scores |
#
# Use the provided sandwich layers from `cs_lib/layer_utils.py` (`conv_relu_pool_forward/backward`, which
# run the fast layers, and `affine_relu_forward/backward`) and your `affine_forward/backward` and
# `softmax_loss` from assignment 2. The loss adds $\tfrac{1}{2}\,\text{reg} \sum W^2$ over `W1`, `W2`, `W3`.
#
# ### Sanity checks
#
# With small random weights every class gets about the same score, so the initial loss should be close
# to $\log 10 \approx 2.3$, and it should go up when regularisation is added. Then a gradient check on a
# tiny network (in float64; float32 is too coarse for centred differences).

# %% test="cnn_initial_loss" points=2
import numpy as np

from cs_lib.checks import check_close, check_scalar, check_shape, check_true
from cs_lib.classifiers.cnn import ThreeLayerConvNet

model = ThreeLayerConvNet(
    input_dim=(3, 16, 16), num_filters=4, filter_size=5, hidden_dim=20, num_classes=10, weight_scale=1e-3, seed=0
)
expected_shapes = {"W1": (4, 3, 5, 5), "b1": (4,), "W2": (4 * 8 * 8, 20), "b2": (20,), "W3": (20, 10), "b3": (10,)}
check_true(sorted(model.params) == sorted(expected_shapes), f"params keys are {sorted(model.params)}")
for name, shape in expected_shapes.items():
    check_shape(model.params[name], shape, f"params[{name!r}]")
    check_true(model.params[name].dtype == np.float32, f"params[{name!r}] must be float32 (the dtype argument)")
for name in ("b1", "b2", "b3"):
    check_close(model.params[name], np.zeros(expected_shapes[name]), f"params[{name!r}] (biases start at zero)")
check_scalar(model.params["W2"].std(), 1e-3, "the standard deviation of W2 (weight_scale)", rtol=0.1)

rng = np.random.default_rng(7)
X = rng.normal(size=(10, 3, 16, 16))
y = rng.integers(10, size=10)
check_shape(model.loss(X), (10, 10), "model.loss(X) (the scores)")
loss, _ = model.loss(X, y)
check_scalar(loss, np.log(10), "the initial loss with small weights (about log 10)", rtol=0.01)
model.reg = 0.5
model.params["W3"] = rng.normal(size=(20, 10)).astype(np.float32)
loss_reg, _ = model.loss(X, y)
check_true(bool(loss_reg > loss + 1.0), f"regularisation must raise the loss: {loss_reg} vs {loss}")
print(f"initial loss {loss:.4f} (log 10 = {np.log(10):.4f}); with reg = 0.5 and large W3: {loss_reg:.4f}")
### BEGIN HIDDEN TESTS
from cs_lib.checks import check_rel_error
from cs_lib.fast_layers import conv_forward_fast

# scores and loss against a forward pass written out here (non-square input, 3x3 filters, 3 classes)
model = ThreeLayerConvNet(
    input_dim=(2, 6, 8),
    num_filters=3,
    filter_size=3,
    hidden_dim=5,
    num_classes=3,
    weight_scale=0.3,
    reg=0.2,
    dtype=np.float64,
    seed=1,
)
check_shape(model.params["W2"], (3 * 3 * 4, 5), "params['W2'] for input_dim (2, 6, 8)")
# the test's own copy of the parameters it sets: the expected values never come from model.params
shapes = {"W1": (3, 2, 3, 3), "b1": (3,), "W2": (3 * 3 * 4, 5), "b2": (5,), "W3": (5, 3), "b3": (3,)}
p = {name: rng.normal(size=shape) for name, shape in shapes.items()}
for name, value in p.items():
    model.params[name] = value.copy()
X = rng.normal(size=(4, 2, 6, 8))
y = np.array([0, 2, 1, 2])
conv, _ = conv_forward_fast(X, p["W1"], p["b1"], {"stride": 1, "pad": 1})
relu = np.maximum(conv, 0)
pooled = relu.reshape(4, 3, 3, 2, 4, 2).max(axis=(3, 5))
hidden = np.maximum(pooled.reshape(4, -1) @ p["W2"] + p["b2"], 0)
scores = hidden @ p["W3"] + p["b3"]
shifted = scores - scores.max(axis=1, keepdims=True)
data_loss = np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(4), y])
expected_loss = data_loss + 0.5 * 0.2 * sum(np.sum(p[name] ** 2) for name in ("W1", "W2", "W3"))
check_rel_error(model.loss(X), scores, "ThreeLayerConvNet scores", tol=1e-8)
check_rel_error(model.loss(X, y)[0], expected_loss, "ThreeLayerConvNet loss with reg = 0.2", tol=1e-8)
# the seed makes the initialisation reproducible
first = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, filter_size=3, hidden_dim=4, seed=5)
second = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, filter_size=3, hidden_dim=4, seed=5)
for name in first.params:
    check_close(first.params[name], second.params[name], f"params[{name!r}] for two models with seed 5")
### END HIDDEN TESTS

# %% test="cnn_gradients" points=3
import numpy as np

from cs_lib.checks import check_rel_error
from cs_lib.classifiers.cnn import ThreeLayerConvNet
from cs_lib.gradient_check import eval_numerical_gradient_params

rng = np.random.default_rng(8)
X = rng.normal(size=(2, 3, 6, 6))
y = np.array([1, 3])
model = ThreeLayerConvNet(
    input_dim=(3, 6, 6),
    num_filters=3,
    filter_size=3,
    hidden_dim=5,
    num_classes=4,
    weight_scale=1e-1,
    reg=0.3,
    dtype=np.float64,
    seed=0,
)
loss, grads = model.loss(X, y)
for name in sorted(model.params):
    numerical = eval_numerical_gradient_params(model, X, y, [name], h=1e-6)[name]
    error = check_rel_error(grads[name], numerical, f"ThreeLayerConvNet d{name}", tol=1e-5)
    print(f"{name} relative error: {error:.2e}")
### BEGIN HIDDEN TESTS
# a non-square input, 5x5 filters and three images
X = rng.normal(size=(3, 2, 6, 4))
y = np.array([0, 2, 1])
model = ThreeLayerConvNet(
    input_dim=(2, 6, 4),
    num_filters=2,
    filter_size=5,
    hidden_dim=4,
    num_classes=3,
    weight_scale=2e-1,
    reg=0.7,
    dtype=np.float64,
    seed=3,
)
loss, grads = model.loss(X, y)
for name in sorted(model.params):
    numerical = eval_numerical_gradient_params(model, X, y, [name], h=1e-6)[name]
    check_rel_error(grads[name], numerical, f"ThreeLayerConvNet d{name} (input 2x6x4, 5x5 filters)", tol=1e-5)

# anchored to this test: parameters it chooses, its own loss written out, numerical gradients of that
from cs_lib.fast_layers import conv_forward_fast
from cs_lib.gradient_check import eval_numerical_gradient

shapes = {"W1": (2, 2, 5, 5), "b1": (2,), "W2": (2 * 3 * 2, 4), "b2": (4,), "W3": (4, 3), "b3": (3,)}
own = {name: rng.normal(scale=0.5, size=shape) for name, shape in shapes.items()}
for name, value in own.items():
    model.params[name] = value.copy()


def written_out_loss(p):
    conv, _ = conv_forward_fast(X, p["W1"], p["b1"], {"stride": 1, "pad": 2})
    pooled = np.maximum(conv, 0).reshape(3, 2, 3, 2, 2, 2).max(axis=(3, 5))
    hidden = np.maximum(pooled.reshape(3, -1) @ p["W2"] + p["b2"], 0)
    scores = hidden @ p["W3"] + p["b3"]
    shifted = scores - scores.max(axis=1, keepdims=True)
    data_loss = np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(3), y])
    return data_loss + 0.5 * 0.7 * sum(np.sum(p[name] ** 2) for name in ("W1", "W2", "W3"))


loss, grads = model.loss(X, y)
check_rel_error(loss, written_out_loss(own), "ThreeLayerConvNet loss for parameters the test set", tol=1e-8)
for name in sorted(own):
    numerical = eval_numerical_gradient(lambda _: written_out_loss(own), own[name], h=1e-6)
    check_rel_error(grads[name], numerical, f"ThreeLayerConvNet d{name} for parameters the test set", tol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ### The data
#
# The CIFAR-10-shaped splits of the earlier assignments: `(N, 3, 32, 32)` images with the mean training
# image subtracted. Without the CIFAR-10 files this is the course's embedded dataset: ten classes of
# procedurally drawn shapes and textures at random positions, sizes and rotations, in many colours, but
# each class with a weak colour tint of its own (a colour cue, like the sky behind CIFAR-10's aeroplanes).
# It trains in seconds.

# %% locked="load_data"
from cs_lib.datasets import get_cifar10_data

data = get_cifar10_data(dtype=np.float32)
for name in ("X_train", "y_train", "X_val", "y_val"):
    print(f"{name}: {data[name].shape}")
print("dataset:", data["source"])

# %% [markdown]
# ### Overfit a small set
#
# A good sanity check before a long training run: with only 50 examples the network should reach
# (almost) 100% training accuracy within a few epochs, while its accuracy on images it has not seen stays
# low. (The Solver keeps the parameters that score best on its `X_val`; here that is the 50 training
# images themselves, so it keeps the best fit.) The fitted weights are kept in `small_weights` (a dict of
# arrays), which the test below evaluates on the same 50 images with a forward pass of its own.

# %% locked="overfit_small"
from cs_lib.classifiers.cnn import ThreeLayerConvNet
from cs_lib.notebook import show_effect
from cs_lib.solver import Solver

num_small = 50
small_data = {
    "X_train": data["X_train"][:num_small],
    "y_train": data["y_train"][:num_small],
    "X_val": data["X_train"][:num_small],  # keep the parameters that fit the training images best
    "y_val": data["y_train"][:num_small],
}
small_model = ThreeLayerConvNet(num_filters=scaled(16, 8), weight_scale=1e-2, seed=0)
small_solver = Solver(
    small_model,
    small_data,
    update_rule="adam",
    optim_config={"learning_rate": 1e-3},
    num_epochs=scaled(15, 12),
    batch_size=25,
    print_every=10,
    verbose=not ENV.grading,
    progress=False,
    seed=0,
)
small_solver.train()
small_weights = {name: np.array(value) for name, value in small_model.params.items()}
small_train_acc = small_solver.check_accuracy(small_data["X_train"], small_data["y_train"])
small_val_acc = small_solver.check_accuracy(data["X_val"][:200], data["y_val"][:200])
print(f"training accuracy {small_train_acc:.2f}, validation accuracy {small_val_acc:.2f} (200 unseen images)")
_ = show_effect(
    small_train_acc >= 0.85 and small_val_acc < small_train_acc - 0.4,
    "the net fits its 50 training images (training accuracy at least 0.85) but not the unseen ones",
)

fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 4))
loss_ax.plot(small_solver.loss_history, ".", alpha=0.5)
loss_ax.set_xlabel("iteration")
loss_ax.set_ylabel("training loss")
acc_ax.plot(small_solver.train_acc_history, "-o", label="training images")
acc_ax.axhline(small_val_acc, color="C1", linestyle="--", label="unseen images (the fitted weights)")
acc_ax.set_xlabel("epoch")
acc_ax.set_ylabel("accuracy")
acc_ax.legend()
fig.suptitle("overfitting a small set")
fig.tight_layout()

# %% test="overfit_small_data" points=1 reads=["small_weights"]
import numpy as np

from cs_lib.checks import check_true
from cs_lib.datasets import get_cifar10_data
from cs_lib.fast_layers import conv_forward_fast


def convnet_scores(weights, X):
    """conv (stride 1, same padding) - relu - 2x2 max pool - affine - relu - affine, written out."""
    names = ("W1", "b1", "W2", "b2", "W3", "b3")
    check_true(
        isinstance(weights, dict) and all(name in weights for name in names),
        f"expected a dict of the trained parameters {names}; run the training cell above again",
    )
    W1, b1, W2, b2, W3, b3 = (np.asarray(weights[name], dtype=np.float32) for name in names)
    conv, _ = conv_forward_fast(np.asarray(X, dtype=np.float32), W1, b1, {"stride": 1, "pad": (W1.shape[2] - 1) // 2})
    N, F, H, W = conv.shape
    pooled = np.maximum(conv, 0).reshape(N, F, H // 2, 2, W // 2, 2).max(axis=(3, 5))
    hidden = np.maximum(pooled.reshape(N, -1) @ W2 + b2, 0)
    return hidden @ W3 + b3


data = get_cifar10_data(dtype=np.float32)
X_small, y_small = data["X_train"][:50], data["y_train"][:50]
accuracy = float(np.mean(np.argmax(convnet_scores(small_weights, X_small), axis=1) == y_small))
check_true(
    accuracy >= 0.85,
    f"the weights trained on 50 images classify only {accuracy:.2f} of them correctly (expected at least 0.85): "
    "a net that cannot overfit 50 images has a bug in its loss or gradients (see cnn_gradients)",
)
print(f"the trained net classifies {accuracy:.2f} of its 50 training images correctly")

# %% [markdown]
# ### Train the net
#
# Now on the whole training set. On the embedded dataset, three epochs of Adam (240 iterations of 50
# images, about ten seconds on a laptop CPU) reach about 75% validation accuracy; chance is 10%, and the
# linear classifiers of assignment 1 reach about 40%. The initial weights are larger than the class's
# default (`weight_scale=5e-3`): with `1e-3` the signal through three layers of tiny weights needs many of
# the 80 iterations per epoch to get going. The regularisation (`reg=1e-2`) pulls weights that no image
# pattern supports back towards zero, which cleans up the filters shown below. A grading run trains a
# smaller net (8 filters) for two epochs; it ends above 50%.
#
# *Online, with CIFAR-10* (the setup cell downloads it on Colab), the cell uses the CS231n settings
# (`weight_scale=0.001`, `hidden_dim=500`, `reg=0.001`, Adam with learning rate `1e-3`, batch size 50), which
# reach **more than 40% validation accuracy after one epoch** (980 iterations, a few minutes with the fast
# layers).
#
# The trained weights are kept in `cnn_weights`, which the test below evaluates on the validation set
# with a forward pass of its own.

# %% locked="train_cnn"
from cs_lib.vis import plot_training

# CIFAR-10: CS231n's settings, one epoch of 980 iterations; the embedded dataset: 80 iterations per epoch
on_cifar10 = data["source"] == "cifar10"
convnet = ThreeLayerConvNet(
    num_filters=scaled(32, 8),
    filter_size=7,
    hidden_dim=500 if on_cifar10 else 100,
    weight_scale=1e-3 if on_cifar10 else 5e-3,
    reg=1e-3 if on_cifar10 else 1e-2,
    seed=0,
)
initial_filters = np.array(convnet.params["W1"])
solver = Solver(
    convnet,
    data,
    update_rule="adam",
    optim_config={"learning_rate": 1e-3 if on_cifar10 else 5e-4},
    num_epochs=1 if on_cifar10 else scaled(3, 2),
    batch_size=50,
    print_every=20,
    num_train_samples=500,
    num_val_samples=500,  # accuracy estimates per epoch
    verbose=not ENV.grading,
    progress=not ENV.grading,
    seed=0,
)
started = time.perf_counter()
solver.train()
cnn_weights = {name: np.array(value) for name, value in convnet.params.items()}
print(f"trained in {time.perf_counter() - started:.0f} s: best validation accuracy {solver.best_val_acc:.3f}")
_ = plot_training(solver, title="ThreeLayerConvNet")

# %% locked="evaluate_cnn"
val_accuracy = solver.check_accuracy(data["X_val"], data["y_val"])
test_accuracy = solver.check_accuracy(data["X_test"], data["y_test"])
print(f"val accuracy: {val_accuracy:.3f}\ntest accuracy: {test_accuracy:.3f}")
# the targets the text states: the full run's, and a grading run's shorter training on the embedded data
floor = 0.4 if on_cifar10 else scaled(0.6, 0.5)
_ = show_effect(val_accuracy > floor, f"the validation accuracy is above {floor:.2f}, far above chance (0.10)")

# %% test="cnn_trained_accuracy" points=2 reads=["cnn_weights"]
import numpy as np

from cs_lib.checks import check_true
from cs_lib.datasets import get_cifar10_data
from cs_lib.fast_layers import conv_forward_fast


def convnet_scores(weights, X):
    """conv (stride 1, same padding) - relu - 2x2 max pool - affine - relu - affine, written out."""
    names = ("W1", "b1", "W2", "b2", "W3", "b3")
    check_true(
        isinstance(weights, dict) and all(name in weights for name in names),
        f"expected a dict of the trained parameters {names}; run the training cell above again",
    )
    W1, b1, W2, b2, W3, b3 = (np.asarray(weights[name], dtype=np.float32) for name in names)
    conv, _ = conv_forward_fast(np.asarray(X, dtype=np.float32), W1, b1, {"stride": 1, "pad": (W1.shape[2] - 1) // 2})
    N, F, H, W = conv.shape
    pooled = np.maximum(conv, 0).reshape(N, F, H // 2, 2, W // 2, 2).max(axis=(3, 5))
    hidden = np.maximum(pooled.reshape(N, -1) @ W2 + b2, 0)
    return hidden @ W3 + b3


data = get_cifar10_data(dtype=np.float32)
accuracy = float(np.mean(np.argmax(convnet_scores(cnn_weights, data["X_val"]), axis=1) == data["y_val"]))
check_true(
    accuracy > 0.4,
    f"the trained convnet's validation accuracy is {accuracy:.3f} (expected more than 0.40; chance is 0.10): "
    "check the loss and gradients of ThreeLayerConvNet (cnn_initial_loss, cnn_gradients) and train again",
)
print(f"validation accuracy of the trained weights: {accuracy:.3f}")
### BEGIN HIDDEN TESTS
from autograder.grading.trusted.judging import fresh_split

# judged on 1,000 new images of the embedded dataset, scaled as the notebook's splits: no kernel saw them
X_new, y_new = fresh_split(1000, seed=31_337, dtype=np.float32)
new_accuracy = float(np.mean(np.argmax(convnet_scores(cnn_weights, X_new), axis=1) == y_new))
check_true(
    new_accuracy > 0.4,
    f"the trained convnet classifies only {new_accuracy:.3f} of 1,000 new images correctly (expected more than "
    "0.40; chance is 0.10): weights fitted to the notebook's validation images do not generalise",
)
### END HIDDEN TESTS

# %% [markdown]
# ### What did the first layer learn?
#
# Each first-layer filter is a $7 \times 7 \times 3$ block of weights, which can be shown as a small colour
# image. Left: the filters the net started from (random numbers); right: after training. Compare them
# with the hand-made Sobel filters of Part 2.
#
# A number to go with the picture: in a random filter neighbouring weights are unrelated, while an edge
# (light next to dark) or a blob of colour changes smoothly from one weight to the next. The cell
# measures this as the correlation between horizontally and vertically neighbouring weights of each
# filter (0 for noise, 1 for a perfectly smooth pattern). Training makes the filters much smoother: after
# the full run most of them are oriented edges, stripes and colour blobs; the shorter grading run's eight
# filters are mostly smooth light-to-dark bands already.

# %% locked="show_filters"
from cs_lib.vis import show_filters


def neighbour_correlation(filters):
    """Per filter (F, C, HH, WW): correlation of horizontally and vertically neighbouring weights."""
    centred = filters - filters.mean(axis=(1, 2, 3), keepdims=True)
    pairs = [
        (centred[:, :, :, :-1], centred[:, :, :, 1:]),  # left and right neighbours
        (centred[:, :, :-1, :], centred[:, :, 1:, :]),  # upper and lower neighbours
    ]
    products = sum((a * b).sum(axis=(1, 2, 3)) for a, b in pairs)
    norms = sum(np.sqrt((a * a).sum(axis=(1, 2, 3)) * (b * b).sum(axis=(1, 2, 3))) for a, b in pairs)
    return products / norms


trained_filters = np.array(convnet.params["W1"])
smooth_before = neighbour_correlation(initial_filters).mean()
smooth_after = neighbour_correlation(trained_filters).mean()
fig, (before_ax, after_ax) = plt.subplots(1, 2, figsize=(10, 5))
show_filters(initial_filters, title=f"before training (neighbour correlation {smooth_before:.2f})", ax=before_ax)
show_filters(trained_filters, title=f"after training (neighbour correlation {smooth_after:.2f})", ax=after_ax)
fig.tight_layout()
print(f"mean correlation of neighbouring weights: {smooth_before:.2f} before training, {smooth_after:.2f} after")
_ = show_effect(
    smooth_after > 0.3 and smooth_before < 0.1,
    "the trained filters are smooth patterns, unlike the random filters they started from",
)

# %% [markdown]
# **Question 4.** Describe the first-layer filters you see after the full training run. Which of them
# look like the edge filters of Part 2, which respond to a colour, and why does a network trained to
# classify images end up with such filters in its first layer?

# %% [markdown] answer="first_layer_filters" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# Most filters are smooth oriented edge detectors: a light band next to a dark one, vertical,
# horizontal or diagonal, i.e. the Sobel $G_x$/$G_y$ filters of Part 2 at other orientations and widths;
# others are blobs or bands of one colour against another (e.g. green against magenta), and a few still
# look like the noise they started from. The first layer sees a $7 \times 7$ patch, and the most useful
# local evidence for any class is where brightness or colour changes: edges and their orientation, which
# later layers combine into corners, outlines and shapes, plus colour, which on the embedded dataset
# carries a weak class cue (a tint per class). Gradient descent therefore turns the first-layer filters
# into edge and colour detectors, as in AlexNet's first layer on ImageNet.
# ### END SOLUTION

# %% [markdown]
# ### Activation maps
#
# A filter's **activation map** is the image convolved with that filter, after the ReLU: large where the
# image looks like the filter, zero where it does not. The maps of the first layer are what the rest of
# the network sees instead of pixels.
#
# **Implement** `ThreeLayerConvNet.activation_maps(X)` in `cs_lib/classifiers/cnn.py`: the first layer's
# maps of shape $(N, F, H, W)$, before the max pool (`conv_relu_forward` in `cs_lib/layer_utils.py` runs
# the fast convolution and the ReLU).

# %% test="activation_maps" points=2
import numpy as np

from cs_lib.checks import check_rel_error, check_shape
from cs_lib.classifiers.cnn import ThreeLayerConvNet

rng = np.random.default_rng(9)
model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=4, filter_size=3, hidden_dim=6, dtype=np.float64, seed=0)
W1, b1 = rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)  # the test's own copies of the parameters it sets
model.params["W1"] = W1.copy()
model.params["b1"] = b1.copy()
X = rng.normal(size=(2, 3, 8, 8))
maps = model.activation_maps(X)
check_shape(maps, (2, 4, 8, 8), "activation_maps(X) for 2 images and 4 filters (before the pool)")

# the convolution written out: zero padding 1 keeps 8 x 8, then the ReLU
padded = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)))
expected = np.zeros((2, 4, 8, 8))
for i in range(8):
    for j in range(8):
        window = padded[:, :, i : i + 3, j : j + 3]
        expected[:, :, i, j] = np.tensordot(window, W1, axes=([1, 2, 3], [1, 2, 3])) + b1
expected = np.maximum(expected, 0)
print("difference from the maps written out:", check_rel_error(maps, expected, "activation_maps", tol=1e-8))
### BEGIN HIDDEN TESTS
from cs_lib.checks import check_close
from cs_lib.fast_layers import conv_forward_fast

# a non-square input, 5x5 filters, one image
model = ThreeLayerConvNet(input_dim=(2, 6, 10), num_filters=3, filter_size=5, hidden_dim=4, dtype=np.float64, seed=1)
W1, b1 = rng.normal(size=(3, 2, 5, 5)), rng.normal(size=3)
model.params["W1"] = W1.copy()
model.params["b1"] = b1.copy()
X = rng.normal(size=(1, 2, 6, 10))
X_before = X.copy()
conv, _ = conv_forward_fast(X, W1, b1, {"stride": 1, "pad": 2})
check_rel_error(model.activation_maps(X), np.maximum(conv, 0), "activation_maps, 5x5 filters, input 2x6x10", tol=1e-8)
check_close(X, X_before, "X after activation_maps (it must not change its input)", rtol=0, atol=0)
# positive biases: the maps are the convolution itself wherever it is positive, never pooled or shifted
b1 = np.array([5.0, 0.0, -5.0])
model.params["b1"] = b1.copy()
conv, _ = conv_forward_fast(X, W1, b1, {"stride": 1, "pad": 2})
check_rel_error(model.activation_maps(X), np.maximum(conv, 0), "activation_maps with biases 5, 0, -5", tol=1e-8)
### END HIDDEN TESTS

# %% [markdown]
# Below: four validation images and the activation maps of the eight smoothest trained filters (shown
# above their maps). Every map of one filter uses the same grey scale, from black (0) to that filter's
# strongest response.

# %% locked="show_activation_maps"
from cs_lib.vis import show_activation_maps

smoothest = np.argsort(neighbour_correlation(trained_filters))[::-1][:8]
picks = [int(np.flatnonzero(data["y_val"] == label)[0]) for label in (0, 2, 4, 8)]
maps = convnet.activation_maps(data["X_val"][picks])[:, smoothest]
images = data["X_val"][picks] + data["mean_image"].reshape(1, 3, 32, 32)
names = [data["class_names"][data["y_val"][index]] for index in picks]
_ = show_activation_maps(images, maps, filters=trained_filters[smoothest], title="activation maps: " + ", ".join(names))
print(f"fraction of zero activations (the ReLU's work): {np.mean(maps == 0):.2f}")

# %% [markdown]
# **Question 5.** Pick two filters in the figure above. What does each respond to in the images (an edge
# of one orientation, a colour, a texture, ...), and how can you tell from its filter? Why are parts of
# many maps exactly zero, and what does a map that is zero everywhere for every image say about that
# filter?

# %% [markdown] answer="reading_activation_maps" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# A filter that is light on one side and dark on the other gives a map that lights up along the edges of
# the shapes with that orientation (e.g. only the left and right sides of a square for a vertical edge
# filter) and stays dark on flat regions; a filter that is one colour throughout lights up the whole
# area of a shape or background of that colour. One can tell from the filter because each map value is
# the dot product of the filter with the image patch there: it is large where the patch looks like the
# filter. Parts of the maps are exactly zero because of the ReLU: wherever the patch is unlike the
# filter (negative dot product plus bias) the output is clipped to 0, so each map marks only where its
# pattern is present. A map that is zero for every image belongs to a "dead" filter: its pre-activation
# is negative everywhere, so it passes no signal and, since the ReLU's gradient is zero there, it gets
# no gradient either and never recovers; it is wasted capacity (often from a too large learning rate or
# an unlucky initialisation).
# ### END SOLUTION

# %% [markdown]
# **Question 6.** Max pooling has no parameters. What does its backward pass do, and why must a correct
# implementation add gradients (rather than assign them) when windows overlap, as in AlexNet's $3 \times 3$
# pools with stride 2?

# %% [markdown] answer="pool_backward" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# The forward pass copies one element of each window (the maximum) to the output, so locally the output
# is that element: its derivative is 1 for the winning element and 0 for the others. The backward pass
# therefore routes each upstream gradient to the winner of its window and gives zero to the rest (with
# ties, one winner is chosen). With overlapping windows one element can win several windows (a large
# value at the border between two windows is the maximum of both); it influenced both outputs, so by the
# multivariate chain rule its gradient is the **sum** of their upstream gradients. Assigning instead of
# adding keeps only the last window's gradient, a bug that tests with stride = pool size never catch.
# ### END SOLUTION
