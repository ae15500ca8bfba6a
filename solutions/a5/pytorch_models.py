# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Assignment 5: PyTorch, AlexNet and VGG on a GPU, and transfer learning
#
# The numpy layers of the earlier assignments showed what every layer computes. Here the same networks
# are written in **PyTorch**, which computes gradients for you (autograd), runs on a GPU, and ships the
# layers as `nn.Module`s. The lecture ends with two networks written in PyTorch, AlexNet (2012) and VGG
# (2014), and with **transfer learning**: reusing a network trained on one dataset for another.
#
# In this assignment you
#
# 1. meet tensors, autograd and `nn.Module`, and check one of your numpy layers against autograd;
# 2. write **AlexNet** exactly as in the lecture's PyTorch code (`cs_lib/pytorch/models.py`);
# 3. build **VGG** from the paper's configurations A, B, D and E (VGG-11/13/16/19), with and without
#    batch normalisation, and the 32 x 32 variant used on CIFAR-10;
# 4. count parameters and multiply-adds per layer, by hand and with forward hooks (`cs_lib/pytorch/counting.py`);
# 5. write the training step, the evaluation, data augmentation (random crops and flips) and the
#    confusion matrix (`cs_lib/pytorch/training.py`), learn the GPU recipe (device, bf16 autocast,
#    channels_last), train a small VGG, read its training curves and its mistakes, and save it as
#    **`a5_checkpoint.pt`**;
# 6. freeze layers for **transfer learning**: a linear classifier on frozen features against fine-tuning.
#
# **Submit** this notebook together with `a5_checkpoint.pt` (written in this notebook's folder by Part 5).
# The grader loads the checkpoint on the CPU and requires **at least 80% accuracy on 1,000 new images of
# the embedded dataset**, drawn by its generator at grading time: images that neither you nor this
# notebook has seen.
#
# Shapes use the lecture's letters: a batch of N images with C channels of H x W pixels is
# `(N, C, H, W)`; a conv layer has K filters of size F x F, stride S and padding P, and its output is
# K x H' x W'. Everything runs on a laptop CPU in a few minutes; with a GPU (e.g. on Colab) Part 5 is
# where it pays.

# %% locked="imports"
import copy
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cs_lib.gradient_check import rel_error
from cs_lib.notebook import grading, scaled, show_effect

# The small networks of this notebook gain little from more CPU threads, and on a shared machine (a grader
# runs several notebooks at once) extra threads wait for each other: one thread is fastest and deterministic.
torch.set_num_threads(1)
print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} CPU threads")

# %% [markdown]
# ## Part 1: tensors, autograd and `nn.Module`
#
# A `torch.Tensor` is a numpy array that also knows its **device** (CPU or GPU) and can record the
# operations applied to it. Create a tensor with `requires_grad=True`, compute a scalar from it, and
# `loss.backward()` fills `.grad` with $\partial\,\text{loss} / \partial\,\text{tensor}$: the
# backpropagation you wrote by hand in assignments 2 and 3, done by walking the recorded graph backwards.

# %%
x = torch.arange(6.0).reshape(2, 3)
w = torch.ones(3, 2, requires_grad=True)
loss = (x @ w).relu().sum()
loss.backward()
print("loss", loss.item())
print("dloss/dw =\n", w.grad)  # every column is x.sum(axis=0): each w[i, j] multiplies x[:, i]

# %% [markdown]
# ### Checking your numpy layers against autograd
#
# Autograd gives an independent check of the backward passes you derived. Below, your `affine_forward`,
# `relu_forward` and their backward passes from assignment 2 (`cs_lib/layers.py`) run on random inputs,
# and the same computation runs in PyTorch in float64; `backward(dout)` there computes the same
# vector-Jacobian product as your `*_backward(dout, cache)`. Relative errors around `1e-15` mean the
# two agree to the last bits.

# %%
from cs_lib.layers import affine_backward, affine_forward, relu_backward, relu_forward

rng = np.random.default_rng(0)
x_np, w_np, b_np = rng.normal(size=(4, 3, 2, 2)), rng.normal(size=(12, 5)), rng.normal(size=5)
dout_np = rng.normal(size=(4, 5))
try:
    hidden, affine_cache = affine_forward(x_np, w_np, b_np)
    out_np, relu_cache = relu_forward(hidden)
    dx_np, dw_np, db_np = affine_backward(relu_backward(dout_np, relu_cache), affine_cache)
except NotImplementedError as error:
    print(f"cs_lib/layers.py is not finished ({error}); come back when assignment 2 is done")
else:
    x_t, w_t, b_t = (torch.tensor(array, requires_grad=True) for array in (x_np, w_np, b_np))
    out_t = torch.relu(x_t.reshape(4, -1) @ w_t + b_t)
    out_t.backward(torch.tensor(dout_np))
    for name, mine, autograd in (
        ("out", out_np, out_t),
        ("dx", dx_np, x_t.grad),
        ("dw", dw_np, w_t.grad),
        ("db", db_np, b_t.grad),
    ):
        print(f"{name}: relative error {rel_error(mine, autograd.detach().numpy()):.1e}")

# %% [markdown]
# An `nn.Module` holds parameters and sub-modules and says in `forward` how they combine. Assigning a
# module as an attribute registers it, so `model.parameters()` finds every weight and `model.to("cuda")`
# moves them all. `nn.Sequential` chains modules. The two-layer net of assignment 2 in PyTorch:


# %%
class TwoLayerNet(nn.Module):
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10):
        super().__init__()
        self.fc1 = nn.Linear(input_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, num_classes)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


net = TwoLayerNet()
for name, parameter in net.named_parameters():
    print(f"{name:<12}{tuple(parameter.shape)}")
print("scores", tuple(net(torch.zeros(2, 3, 32, 32)).shape), "parameters", sum(p.numel() for p in net.parameters()))

# %% [markdown]
# ## Part 2: AlexNet
#
# AlexNet won ImageNet 2012 with five conv layers and three fully connected layers. The lecture's
# PyTorch code is torchvision's single-GPU version (64, 192, 384, 256, 256 filters; the paper's split
# over two GPUs had 96, 256, 384, 384, 256):
#
# ```python
# self.features = nn.Sequential(
#     nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
#     nn.MaxPool2d(kernel_size=3, stride=2),
#     nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
#     nn.MaxPool2d(kernel_size=3, stride=2),
#     nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
#     nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
#     nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
#     nn.MaxPool2d(kernel_size=3, stride=2),
# )
# self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
# self.classifier = nn.Sequential(
#     nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
#     nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
#     nn.Linear(4096, num_classes),
# )
# ```
#
# For a 224 x 224 image: conv1 gives $(224 + 2 \cdot 2 - 11)/4 + 1 = 55$ (rounded down), pool1 27,
# conv2 27, pool2 13, conv3-5 13, pool3 6. `AdaptiveAvgPool2d((6, 6))` averages whatever size arrives
# into 6 x 6, so the first linear layer always sees $256 \cdot 6 \cdot 6 = 9216$ numbers. With 1000
# classes the network has **61,100,840** parameters.
#
# **Implement** `AlexNet.__init__` and `AlexNet.forward` in `cs_lib/pytorch/models.py`. Keep the module
# names `features`, `avgpool`, `classifier` and the order above: then `model.state_dict()` has the same
# keys as torchvision's, and its ImageNet weights load into your model.

# %% test="alexnet" points=3
import torch
from torch import nn

from cs_lib.checks import check_scalar, check_shape, check_true
from cs_lib.pytorch.models import AlexNet

with torch.device("meta"):  # parameters without memory or initialisation: counting is instant
    meta_model = AlexNet()
check_scalar(sum(p.numel() for p in meta_model.parameters()), 61_100_840, "AlexNet() parameter count")
torch.manual_seed(0)
model = AlexNet(num_classes=10).eval()
with torch.no_grad():
    scores = model(torch.randn(2, 3, 224, 224))
check_shape(scores, (2, 10), "AlexNet(num_classes=10) scores for a (2, 3, 224, 224) batch")
print("AlexNet: 61,100,840 parameters; (2, 3, 224, 224) -> (2, 10)")
### BEGIN HIDDEN TESTS
import torch.nn.functional as F

from cs_lib.checks import check_rel_error

# 10 classes instead of 1000: only the last layer shrinks, by 990 * (4096 + 1)
with torch.device("meta"):
    meta_ten = AlexNet(num_classes=10)
check_scalar(
    sum(p.numel() for p in meta_ten.parameters()), 61_100_840 - 990 * 4097, "AlexNet(num_classes=10) parameters"
)
# torchvision's state_dict keys, so that pretrained weights load
keys = [f"features.{i}.{kind}" for i in (0, 3, 6, 8, 10) for kind in ("weight", "bias")]
keys += [f"classifier.{i}.{kind}" for i in (1, 4, 6) for kind in ("weight", "bias")]
found = sorted(str(key) for key in meta_ten.state_dict())  # names only: the meta model has no numbers
check_true(found == sorted(keys), f"AlexNet state_dict keys should be torchvision's {sorted(keys)}, got {found}")
with torch.device("meta"):
    rates = [float(m.p) for m in AlexNet(num_classes=3, dropout=0.3).modules() if isinstance(m, nn.Dropout)]
check_true(rates == [0.3, 0.3], f"AlexNet(dropout=0.3) should have two Dropout(0.3) layers, found rates {rates}")
# the forward pass with weights the test chose and keeps (never read back from the model), written out
# with torch.nn.functional: AlexNet with its 9216 -> 4096 -> 4096 classifier replaced by a narrow one of the
# same layout (torchvision's indices), so the test's weights stay small
with torch.device("meta"):
    model = AlexNet(num_classes=10)
model.classifier = nn.Sequential(
    nn.Dropout(0.5), nn.Linear(9216, 6), nn.ReLU(), nn.Dropout(0.5), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 10)
)
model.to_empty(device="cpu")
model.eval()
torch.manual_seed(3)
state = {}
for index, (out_channels, in_channels, size) in zip(
    (0, 3, 6, 8, 10), [(64, 3, 11), (192, 64, 5), (384, 192, 3), (256, 384, 3), (256, 256, 3)]
):
    state[f"features.{index}.weight"] = (
        torch.randn(out_channels, in_channels, size, size) * (2 / (in_channels * size * size)) ** 0.5
    )
    state[f"features.{index}.bias"] = 0.1 * torch.randn(out_channels)
for index, (fan_in, fan_out) in zip((1, 4, 6), ((9216, 6), (6, 5), (5, 10))):
    state[f"classifier.{index}.weight"] = torch.randn(fan_out, fan_in) / fan_in**0.5
    state[f"classifier.{index}.bias"] = 0.1 * torch.randn(fan_out)
model.load_state_dict(state)
x = torch.randn(1, 3, 127, 127)


def conv(h, index, stride=1, padding=0):
    return F.relu(F.conv2d(h, state[f"features.{index}.weight"], state[f"features.{index}.bias"], stride, padding))


with torch.no_grad():
    h = F.max_pool2d(conv(x, 0, stride=4, padding=2), 3, 2)
    h = F.max_pool2d(conv(h, 3, padding=2), 3, 2)
    h = F.max_pool2d(conv(conv(conv(h, 6, padding=1), 8, padding=1), 10, padding=1), 3, 2)
    h = F.adaptive_avg_pool2d(h, (6, 6)).reshape(1, -1)
    h = F.relu(F.linear(h, state["classifier.1.weight"], state["classifier.1.bias"]))
    h = F.relu(F.linear(h, state["classifier.4.weight"], state["classifier.4.bias"]))
    expected = F.linear(h, state["classifier.6.weight"], state["classifier.6.bias"])
    check_rel_error(
        model(x), expected, "AlexNet forward (eval mode) on a 127 x 127 image, the test's weights", tol=1e-4
    )
### END HIDDEN TESTS

# %% [markdown]
# **Question 1.** Run `AlexNet()` on a batch of 32 x 32 images (try it in a new cell). Which layer fails,
# and why? What is the smallest square input size $H$ that AlexNet accepts? Show the arithmetic.

# %% [markdown] answer="alexnet_min_size" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# For $H = 32$: conv1 gives $\lfloor(32 + 4 - 11)/4\rfloor + 1 = 7$, pool1 $\lfloor(7 - 3)/2\rfloor + 1 = 3$,
# conv2 keeps 3, pool2 gives $\lfloor(3 - 3)/2\rfloor + 1 = 1$, conv3-5 keep 1, and the last max pool
# cannot place a 3 x 3 window on a 1 x 1 map: PyTorch raises "Output size is too small".
# Working backwards, pool3 needs at least 3 pixels, so pool2 needs $2 \cdot 2 + 3 = 7$, pool1 needs
# $2 \cdot 6 + 3 = 15$ from conv1, and conv1 gives 15 when $\lfloor(H - 7)/4\rfloor + 1 \ge 15$, i.e.
# $H \ge 63$. (The adaptive average pool would accept any size after that.)
# ### END SOLUTION

# %% [markdown]
# ## Part 3: VGG
#
# VGG uses only 3 x 3 convolutions (stride 1, pad 1, which keep H x W) and 2 x 2 max pools (stride 2,
# which halve H and W). Three stacked 3 x 3 layers see a 7 x 7 region with $27C^2$ weights instead of
# $49C^2$, and with three ReLUs instead of one. The paper's Table 1 lists the configurations by the
# output channels of each conv layer, with `M` for a max pool:
#
# | | A (VGG-11) | B (VGG-13) | D (VGG-16) | E (VGG-19) |
# |---|---|---|---|---|
# | block 1 | 64 | 64, 64 | 64, 64 | 64, 64 |
# | block 2 | 128 | 128, 128 | 128, 128 | 128, 128 |
# | block 3 | 256, 256 | 256, 256 | 256, 256, 256 | 256, 256, 256, 256 |
# | block 4 | 512, 512 | 512, 512 | 512, 512, 512 | 512, 512, 512, 512 |
# | block 5 | 512, 512 | 512, 512 | 512, 512, 512 | 512, 512, 512, 512 |
#
# each block ending in `M`: `VGG_CONFIGS` in `models.py` holds them as lists such as
# `[64, "M", 128, "M", 256, 256, "M", ...]`. After five pools a 224 x 224 image is 7 x 7 x 512 = 25088
# numbers, and the classifier is Linear(25088, 4096), ReLU, Dropout, Linear(4096, 4096), ReLU, Dropout,
# Linear(4096, 1000). The parameter counts for 1000 classes:
#
# | | VGG-11 | VGG-13 | VGG-16 | VGG-19 |
# |---|---|---|---|---|
# | plain | 132,863,336 | 133,047,848 | 138,357,544 | 143,667,240 |
# | with BN | 132,868,840 | 133,053,736 | 138,365,992 | 143,678,248 |
#
# (BN adds $2K$ learned numbers per conv layer, its scale $\gamma$ and shift $\beta$; its running means
# and variances are buffers, not parameters.)
#
# On 32 x 32 CIFAR-10 images the five pools leave 1 x 1 x 512, and the usual **CIFAR VGG** replaces the
# three big linear layers by a single `Linear(512, 10)` after a global average pool: with BN, VGG-16 then
# has **14,728,266** parameters, ten times fewer.
#
# **Implement** `make_vgg_layers`, `VGG.__init__`, `VGG.forward`, `CifarVGG.__init__` and
# `CifarVGG.forward` in `cs_lib/pytorch/models.py`. `make_vgg_layers` adds, for each number K,
# `Conv2d(C, K, 3, padding=1)`, then `BatchNorm2d(K)` when `batch_norm`, then `ReLU(inplace=True)`;
# and `MaxPool2d(2, 2)` for each `M` (torchvision's order, so its state_dict keys match).

# %% test="vgg" points=4
import torch

from cs_lib.checks import check_scalar, check_true
from cs_lib.pytorch.models import VGG

expected = {("D", False): 138_357_544, ("D", True): 138_365_992}
with torch.device("meta"):  # counting parameters needs no memory and no forward pass
    for (config, batch_norm), count in expected.items():
        model = VGG(config, batch_norm=batch_norm)
        check_scalar(
            sum(p.numel() for p in model.parameters()), count, f"VGG({config!r}, batch_norm={batch_norm}) parameters"
        )
    shape = tuple(model(torch.zeros(2, 3, 224, 224)).shape)  # a meta tensor has a shape but no numbers
check_true(shape == (2, 1000), f"VGG-16-BN scores for (2, 3, 224, 224) have shape {shape}, expected (2, 1000)")
print("VGG-16: 138,357,544 parameters, with BN 138,365,992; (2, 3, 224, 224) -> (2, 1000)")
### BEGIN HIDDEN TESTS
from torch import nn

paper = {
    "A": (132_863_336, 132_868_840), "B": (133_047_848, 133_053_736),
    "D": (138_357_544, 138_365_992), "E": (143_667_240, 143_678_248),
}  # fmt: skip
convs = {"A": 8, "B": 10, "D": 13, "E": 16}
with torch.device("meta"):
    for config, (plain, with_bn) in paper.items():
        for batch_norm, count in ((False, plain), (True, with_bn)):
            model = VGG(config, batch_norm=batch_norm)
            check_scalar(
                sum(p.numel() for p in model.parameters()),
                count,
                f"VGG({config!r}, batch_norm={batch_norm}) parameters",
            )
            found = sum(isinstance(m, nn.Conv2d) for m in model.features)
            check_true(
                found == convs[config], f"VGG({config!r}) should have {convs[config]} conv layers, found {found}"
            )
        # 32 x 32 works too: the adaptive pool turns the 1 x 1 map into 7 x 7
        shape = tuple(model(torch.zeros(1, 3, 32, 32)).shape)
        check_true(
            shape == (1, 1000), f"VGG({config!r}) scores for a 32 x 32 image have shape {shape}, expected (1, 1000)"
        )
    shape = tuple(VGG("A", num_classes=7)(torch.zeros(3, 3, 224, 224)).shape)
    check_true(
        shape == (3, 7), f"VGG('A', num_classes=7) scores for (3, 3, 224, 224) have shape {shape}, expected (3, 7)"
    )
    check_scalar(
        sum(p.numel() for p in VGG("A", num_classes=7).parameters()),
        132_863_336 - 993 * 4097,
        "VGG('A', num_classes=7) parameters",
    )


def torchvision_keys(config, batch_norm):
    """The state_dict keys of torchvision's vgg11/vgg11_bn ... derived from the layer list."""
    keys, index = [], 0
    for item in config:
        if item == "M":
            index += 1
            continue
        keys += [f"features.{index}.weight", f"features.{index}.bias"]
        if batch_norm:
            keys += [
                f"features.{index + 1}.{n}"
                for n in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
            ]
        index += 3 if batch_norm else 2
    return sorted(keys + [f"classifier.{i}.{n}" for i in (0, 3, 6) for n in ("weight", "bias")])


layers_a = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
with torch.device("meta"):
    for batch_norm in (False, True):
        found = sorted(str(key) for key in VGG("A", batch_norm=batch_norm).state_dict())
        check_true(
            found == torchvision_keys(layers_a, batch_norm),
            f"VGG('A', batch_norm={batch_norm}) state_dict keys differ from torchvision's",
        )
    rates = [float(m.p) for m in VGG("B", dropout=0.2).modules() if isinstance(m, nn.Dropout)]
check_true(rates == [0.2, 0.2], f"VGG(dropout=0.2) should have two Dropout(0.2) layers, found {rates}")

# the forward pass (features, avgpool, flatten, classifier) with weights the test chose and keeps: VGG-A with
# BN, its 25088 -> 4096 classifier replaced by a narrow one of the same layout so the weights stay small
import torch.nn.functional as F

from cs_lib.checks import check_rel_error

torch.manual_seed(4)
with torch.device("meta"):
    model = VGG("A", batch_norm=True, num_classes=3)
narrow = nn.Sequential(
    nn.Linear(512 * 7 * 7, 6), nn.ReLU(), nn.Dropout(0.5), nn.Linear(6, 5), nn.ReLU(), nn.Dropout(0.5), nn.Linear(5, 3)
)
model.classifier = narrow
model.to_empty(device="cpu")
state, index, channels = {}, 0, 3
for item in layers_a:
    if item == "M":
        index += 1
        continue
    state[f"features.{index}.weight"] = torch.randn(item, channels, 3, 3) * (2 / (9 * channels)) ** 0.5
    state[f"features.{index}.bias"] = 0.1 * torch.randn(item)
    state[f"features.{index + 1}.weight"] = torch.empty(item).uniform_(0.5, 1.5)
    state[f"features.{index + 1}.bias"] = 0.2 * torch.randn(item)
    state[f"features.{index + 1}.running_mean"] = 0.1 * torch.randn(item)
    state[f"features.{index + 1}.running_var"] = torch.empty(item).uniform_(0.5, 2.0)
    state[f"features.{index + 1}.num_batches_tracked"] = torch.tensor(0)
    index, channels = index + 3, item
for i, (fan_in, fan_out) in zip((0, 3, 6), ((25088, 6), (6, 5), (5, 3))):
    state[f"classifier.{i}.weight"] = torch.randn(fan_out, fan_in) / fan_in**0.5
    state[f"classifier.{i}.bias"] = 0.1 * torch.randn(fan_out)
model.load_state_dict(state)
model.eval()
x = torch.randn(1, 3, 32, 32)
with torch.no_grad():
    h, index = x, 0
    for item in layers_a:
        if item == "M":
            h, index = F.max_pool2d(h, 2, 2), index + 1
            continue
        w, b = state[f"features.{index}.weight"], state[f"features.{index}.bias"]
        bn = f"features.{index + 1}."
        h = F.batch_norm(
            F.conv2d(h, w, b, padding=1), state[bn + "running_mean"], state[bn + "running_var"],
            state[bn + "weight"], state[bn + "bias"],
        )  # fmt: skip
        h, index = F.relu(h), index + 3
    h = F.adaptive_avg_pool2d(h, (7, 7)).flatten(1)
    h = F.relu(F.linear(h, state["classifier.0.weight"], state["classifier.0.bias"]))
    h = F.relu(F.linear(h, state["classifier.3.weight"], state["classifier.3.bias"]))
    expected = F.linear(h, state["classifier.6.weight"], state["classifier.6.bias"])
    check_rel_error(model(x), expected, "VGG('A', batch_norm=True) forward (eval mode), the test's weights", tol=1e-4)
### END HIDDEN TESTS

# %% test="cifar_vgg" points=2
import torch

from cs_lib.checks import check_scalar, check_shape
from cs_lib.pytorch.models import CifarVGG

with torch.device("meta"):
    check_scalar(
        sum(p.numel() for p in CifarVGG("D", batch_norm=True, num_classes=10).parameters()),
        14_728_266,
        "CifarVGG('D', batch_norm=True, num_classes=10) parameters",
    )
torch.manual_seed(0)
model = CifarVGG([8, "M", 16, "M"], num_classes=10).eval()
with torch.no_grad():
    check_shape(model(torch.randn(2, 3, 32, 32)), (2, 10), "CifarVGG([8, 'M', 16, 'M']) scores for (2, 3, 32, 32)")
print("VGG-16 for CIFAR with BN: 14,728,266 parameters")
### BEGIN HIDDEN TESTS
import torch.nn.functional as F

from cs_lib.checks import check_rel_error, check_true

with torch.device("meta"):
    # without BN: 2 * (64*2 + 128*2 + 256*3 + 512*6) = 8448 fewer parameters
    check_scalar(
        sum(p.numel() for p in CifarVGG("D", batch_norm=False).parameters()),
        14_728_266 - 8448,
        "CifarVGG('D', batch_norm=False) parameters",
    )
    shape = tuple(CifarVGG("E", num_classes=100)(torch.zeros(2, 3, 32, 32)).shape)
check_true(shape == (2, 100), f"CifarVGG('E', num_classes=100) scores have shape {shape}, expected (2, 100)")
# the forward pass with weights the test chose and keeps (never read back from the model), written out with
# torch.nn.functional (eval mode: BN uses its running statistics, which are not at their initial identity)
model = CifarVGG([4, "M", 6, 5, "M"], batch_norm=True, num_classes=3).double()
expected_keys = [
    f"{n}.{k}" for n in ("features.0", "features.4", "features.7", "classifier") for k in ("weight", "bias")
]
expected_keys += [
    f"features.{i}.{k}"
    for i in (1, 5, 8)
    for k in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
]
found = sorted(str(key) for key in model.state_dict())  # names only
check_true(
    found == sorted(expected_keys),
    "CifarVGG([4, 'M', 6, 5, 'M'], batch_norm=True) should hold conv, BN, ReLU, pool, ... and one linear "
    f"classifier with state_dict keys {sorted(expected_keys)}; got {found}",
)
torch.manual_seed(1)
state = {}
for conv, (out_channels, in_channels) in zip((0, 4, 7), ((4, 3), (6, 4), (5, 6))):
    state[f"features.{conv}.weight"] = torch.randn(out_channels, in_channels, 3, 3, dtype=torch.float64) / 3
    state[f"features.{conv}.bias"] = 0.1 * torch.randn(out_channels, dtype=torch.float64)
    bn = f"features.{conv + 1}."
    state[bn + "weight"] = torch.empty(out_channels, dtype=torch.float64).uniform_(0.5, 2.0)
    state[bn + "bias"] = torch.empty(out_channels, dtype=torch.float64).uniform_(-0.5, 0.5)
    state[bn + "running_mean"] = torch.empty(out_channels, dtype=torch.float64).uniform_(-0.5, 0.5)
    state[bn + "running_var"] = torch.empty(out_channels, dtype=torch.float64).uniform_(0.5, 2.0)
    state[bn + "num_batches_tracked"] = torch.tensor(0)
state["classifier.weight"] = torch.randn(3, 5, dtype=torch.float64) / 5**0.5
state["classifier.bias"] = 0.1 * torch.randn(3, dtype=torch.float64)
model.load_state_dict(state)
model.eval()


def block(h, conv):
    h = F.conv2d(h, state[f"features.{conv}.weight"], state[f"features.{conv}.bias"], padding=1)
    bn = f"features.{conv + 1}."
    h = F.batch_norm(h, state[bn + "running_mean"], state[bn + "running_var"], state[bn + "weight"], state[bn + "bias"])
    return F.relu(h)


x = torch.randn(2, 3, 12, 12, dtype=torch.float64)
with torch.no_grad():
    h = F.max_pool2d(block(x, 0), 2)
    h = F.max_pool2d(block(block(h, 4), 7), 2)
    expected = F.linear(h.mean(dim=(2, 3)), state["classifier.weight"], state["classifier.bias"])
    check_rel_error(model(x), expected, "CifarVGG forward (eval mode), the test's weights", tol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ## Part 4: counting parameters and multiply-adds
#
# A conv layer with K filters of size F x F x C on a C x H x W input, stride S and pad P:
#
# - output K x H' x W' with $H' = \lfloor (H + 2P - F)/S \rfloor + 1$ (and the same for W'); PyTorch
#   rounds down, dropping the last pixels when the stride does not fit, as in AlexNet's first layer;
# - parameters $F^2 C K + K$ (each filter has $F^2 C$ weights and one bias);
# - multiply-adds $F^2 C K \cdot H' W'$: every one of the $K H' W'$ outputs is a dot product of length $F^2 C$.
#
# A linear layer from D to M numbers has $DM + M$ parameters and $DM$ multiply-adds. ReLU, pooling,
# dropout and BN are counted as 0 multiply-adds (they are cheap next to these); BN has $2K$ parameters.
#
# The lecture's example: a 32 x 32 x 3 image, ten 5 x 5 filters, stride 1, pad 2 gives 32 x 32 x 10, with
# $5^2 \cdot 3 \cdot 10 + 10 = 760$ parameters and $750 \cdot 1024 = 768{,}000$ multiply-adds.
# AlexNet's conv1 on 224 x 224 x 3, 64 filters 11 x 11, stride 4, pad 2: 55 x 55 x 64, 23,296 parameters
# and 70,276,800 multiply-adds.
#
# **Implement** `conv_counts`, `count_parameters`, `layer_macs` and `count_layers` in
# `cs_lib/pytorch/counting.py`. `count_layers` registers a **forward hook** on every module without
# children (`module.register_forward_hook(hook)`; PyTorch calls `hook(module, inputs, output)` after the
# module's forward), runs one image through the model, and returns one `LayerCount(name, kind,
# output_shape, params, macs)` per layer, in the order the layers ran. Remove the hooks when done
# (`handle.remove()`), even when the forward pass raises.

# %% test="conv_counts" points=2
from cs_lib.checks import check_scalar, check_shape
from cs_lib.pytorch.counting import conv_counts

shape, params, macs = conv_counts(C=3, H=32, W=32, K=10, F=5, stride=1, pad=2)
check_shape(shape, (3,), "conv_counts(...) output shape (K, H', W')")
for got, want, what in zip(shape, (10, 32, 32), ("K", "H'", "W'")):
    check_scalar(got, want, f"lecture example: {what}")
check_scalar(params, 760, "lecture example: parameters (ten 5x5x3 filters and biases)")
check_scalar(macs, 768_000, "lecture example: multiply-adds")
print("32x32x3, ten 5x5 filters, stride 1, pad 2 -> (10, 32, 32), 760 parameters, 768,000 multiply-adds")
### BEGIN HIDDEN TESTS
from cs_lib.checks import check_true

cases = [  # (C, H, W, K, F, stride, pad) and the expected (K, H', W'), computed by the formula
    (3, 224, 224, 64, 11, 4, 2),  # AlexNet conv1: 55 x 55
    (64, 27, 27, 192, 5, 1, 2),  # AlexNet conv2
    (5, 9, 7, 2, 3, 2, 0),  # H != W and stride 2: 4 x 3
    (16, 8, 8, 4, 1, 1, 0),  # 1 x 1 filters
    (2, 5, 5, 3, 5, 1, 0),  # the filter covers the image: 1 x 1
]
for C, H, W, K, Fsize, stride, pad in cases:
    H_out, W_out = (H + 2 * pad - Fsize) // stride + 1, (W + 2 * pad - Fsize) // stride + 1
    shape, params, macs = conv_counts(C=C, H=H, W=W, K=K, F=Fsize, stride=stride, pad=pad)
    label = f"conv_counts(C={C}, H={H}, W={W}, K={K}, F={Fsize}, stride={stride}, pad={pad})"
    for got, want in zip(
        list(shape) + [params, macs],
        (K, H_out, W_out, Fsize * Fsize * C * K + K, Fsize * Fsize * C * K * H_out * W_out),
    ):
        check_scalar(got, want, label)
    check_true(all(type(v) is int for v in (*shape, params, macs)), f"{label} should return plain ints")
check_scalar(conv_counts(3, 224, 224, 64, 11, 4, 2)[2], 70_276_800, "AlexNet conv1 multiply-adds")
### END HIDDEN TESTS

# %% test="count_layers" points=3
import torch
from torch import nn

from cs_lib.checks import check_scalar, check_true
from cs_lib.pytorch.counting import count_layers, count_parameters

torch.manual_seed(0)
model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 5))
rows = count_layers(model, (3, 8, 8))
expected = [  # name, output shape, params, multiply-adds for one 3 x 8 x 8 image
    ("0", (4, 8, 8), 3 * 3 * 3 * 4 + 4, 3 * 3 * 3 * 4 * 8 * 8),
    ("1", (4, 8, 8), 0, 0),
    ("2", (4, 4, 4), 0, 0),
    ("3", (64,), 0, 0),
    ("4", (5,), 64 * 5 + 5, 64 * 5),
]
check_scalar(len(rows), len(expected), "count_layers: number of rows (one per layer)")
for row, (name, shape, params, macs) in zip(rows, expected):
    check_true(str(row.name) == name, f"count_layers: row name {row.name!r}, expected {name!r}")
    check_true(
        tuple(int(s) for s in row.output_shape) == shape,
        f"layer {name}: output shape {row.output_shape}, expected {shape}",
    )
    check_scalar(row.params, params, f"layer {name} parameters")
    check_scalar(row.macs, macs, f"layer {name} multiply-adds")
check_scalar(count_parameters(model), 3 * 3 * 3 * 4 + 4 + 64 * 5 + 5, "count_parameters(model)")
print("count_layers: shapes, parameters and multiply-adds of a conv-ReLU-pool-linear net are right")
### BEGIN HIDDEN TESTS
from cs_lib.pytorch.models import AlexNet

# AlexNet at 224 x 224, on the meta device: conv layers (C, K, F, H') and linear layers (D, M) by hand
with torch.device("meta"):
    alexnet = AlexNet()
alexnet.train()
rows = count_layers(alexnet, (3, 224, 224))
convs = [(3, 64, 11, 55), (64, 192, 5, 27), (192, 384, 3, 13), (384, 256, 3, 13), (256, 256, 3, 13)]
linears = [(9216, 4096), (4096, 4096), (4096, 1000)]
total_macs = sum(Fs * Fs * C * K * H * H for C, K, Fs, H in convs) + sum(D * M for D, M in linears)
check_scalar(sum(r.params for r in rows), 61_100_840, "AlexNet: sum of the rows' parameters")
check_scalar(sum(r.macs for r in rows), total_macs, "AlexNet: total multiply-adds at 224 x 224")
check_scalar(len(rows), 13 + 1 + 7, "AlexNet: rows (13 feature layers, avgpool, 7 classifier layers)")
check_true(tuple(int(s) for s in rows[0].output_shape) == (64, 55, 55), f"AlexNet conv1 output {rows[0].output_shape}")
check_true(alexnet.training, "count_layers must leave a model in training mode if it was in training mode")
hooks = sum(len(m._forward_hooks) for m in alexnet.modules())
check_true(hooks == 0, f"count_layers left {hooks} forward hooks registered: remove them with handle.remove()")
# grouped convolutions without bias, and BN (2K parameters, no multiply-adds)
net = nn.Sequential(nn.Conv2d(4, 6, 3, stride=2, groups=2, bias=False), nn.BatchNorm2d(6))
rows = count_layers(net, (4, 9, 9))
check_scalar(rows[0].params, 6 * 2 * 3 * 3, "grouped conv without bias: parameters")
check_scalar(rows[0].macs, 2 * 3 * 3 * 6 * 4 * 4, "grouped conv: multiply-adds (C / groups per output)")
check_scalar(rows[1].params, 12, "BatchNorm2d(6) parameters")
check_scalar(rows[1].macs, 0, "BatchNorm2d multiply-adds")
check_true(net.training and sum(len(m._forward_hooks) for m in net.modules()) == 0, "model mode or hooks not restored")
# hooks are removed even when the forward pass fails (a 3-channel conv on a 5-channel image)
try:
    count_layers(model, (5, 8, 8))
except RuntimeError:
    pass
hooks = sum(len(m._forward_hooks) for m in model.modules())
check_true(hooks == 0, f"count_layers left {hooks} hooks after a failed forward pass (remove them in a finally block)")
model[0].requires_grad_(False)
check_scalar(
    count_parameters(model, trainable_only=True), 64 * 5 + 5, "count_parameters(trainable_only=True) with a frozen conv"
)
check_scalar(count_parameters(model), 3 * 3 * 3 * 4 + 4 + 64 * 5 + 5, "count_parameters counts frozen parameters too")
# state that is not all parameters: BN's running statistics are buffers (not counted), a bias-free
# grouped conv has (C / groups) * F * F * K weights, and a frozen BN still has its 2K parameters
state_heavy = nn.Sequential(nn.Conv2d(6, 4, 3, groups=2, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.BatchNorm2d(4))
state_heavy[3].requires_grad_(False)
check_scalar(
    count_parameters(state_heavy), 3 * 3 * 3 * 4 + 8 + 8, "count_parameters with BN buffers and a grouped conv"
)
check_scalar(
    count_parameters(state_heavy, trainable_only=True),
    3 * 3 * 3 * 4 + 8,
    "count_parameters(trainable_only=True) with a frozen BN",
)
### END HIDDEN TESTS

# %% [markdown]
# ### AlexNet by hand
#
# Fill in the table for AlexNet on one 224 x 224 x 3 image: add the rows `"conv2"` ... `"conv5"` and
# `"fc6"`, `"fc7"`, `"fc8"` to `alexnet_table`, in the form of `"conv1"`: the output shape (`(K, H', W')` or
# `(M,)`), the parameters and the multiply-adds. Work them out with the formulas above (the sizes after
# each pool are in Part 2), not with `count_layers`; then compare with its table below.

# %% solution="fill_alexnet_table"
alexnet_table = {  # layer: (output shape, parameters, multiply-adds) for one 3 x 224 x 224 image
    "conv1": ((64, 55, 55), 23_296, 70_276_800),  # the example above
}
### BEGIN SOLUTION
alexnet_table.update(
    {
        "conv2": ((192, 27, 27), 5 * 5 * 64 * 192 + 192, 5 * 5 * 64 * 192 * 27 * 27),
        "conv3": ((384, 13, 13), 3 * 3 * 192 * 384 + 384, 3 * 3 * 192 * 384 * 13 * 13),
        "conv4": ((256, 13, 13), 3 * 3 * 384 * 256 + 256, 3 * 3 * 384 * 256 * 13 * 13),
        "conv5": ((256, 13, 13), 3 * 3 * 256 * 256 + 256, 3 * 3 * 256 * 256 * 13 * 13),
        "fc6": ((4096,), 9216 * 4096 + 4096, 9216 * 4096),
        "fc7": ((4096,), 4096 * 4096 + 4096, 4096 * 4096),
        "fc8": ((1000,), 4096 * 1000 + 1000, 4096 * 1000),
    }
)
### END SOLUTION

# %% test="alexnet_table" points=3 reads=["alexnet_table"]
from numbers import Integral

from cs_lib.checks import check_true

LAYERS = ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"]
check_true(isinstance(alexnet_table, dict), "alexnet_table must be a dict {layer: (shape, params, macs)}")
missing = [layer for layer in LAYERS if layer not in alexnet_table]
check_true(not missing, f"alexnet_table lacks rows for {missing}")
rows = {}
for layer in LAYERS:
    row = alexnet_table[layer]
    check_true(
        isinstance(row, (tuple, list)) and len(row) == 3 and isinstance(row[0], (tuple, list)),
        f"{layer}: a row is (output shape, parameters, multiply-adds), the shape a tuple such as "
        f"(K, H', W') or (M,) (mind the comma), got {row!r}",
    )
    shape, params, macs = row
    check_true(
        all(isinstance(n, Integral) and n > 0 for n in (*shape, params, macs)),
        f"{layer}: every entry is a positive whole number, got {row!r}",
    )
    rows[layer] = tuple(int(n) for n in shape), int(params), int(macs)

# The visible checks use the architecture's structure, never its numbers: each row must agree with
# itself (weights = parameters - biases, multiply-adds = weights x output positions) and with the
# layer before it (its input channels or numbers are that layer's outputs).
inputs = 3
for layer in LAYERS:
    shape, params, macs = rows[layer]
    if layer.startswith("conv"):
        check_true(len(shape) == 3, f"{layer}: a conv layer's output shape is (K, H', W'), got {shape}")
        K, H_out, W_out = shape
        weights = params - K  # one bias per filter
        check_true(
            weights > 0 and weights % (K * inputs) == 0,
            f"{layer}: {params:,} parameters are not {K} filters of F x F x C weights plus {K} biases, "
            f"with C = {inputs} channels coming in",
        )
        F_size = round((weights // (K * inputs)) ** 0.5)
        check_true(
            F_size * F_size * K * inputs == weights,
            f"{layer}: {weights:,} weights are not {K} filters of F x F x {inputs} for a whole number F",
        )
        check_true(
            macs == weights * H_out * W_out,
            f"{layer}: {macs:,} multiply-adds, but {weights:,} weights used at each of {H_out} x {W_out} "
            f"output positions make {weights * H_out * W_out:,}",
        )
        inputs = K
    else:
        if layer == "fc6":
            inputs *= 6 * 6  # the adaptive average pool hands on K x 6 x 6 numbers
        check_true(len(shape) == 1, f"{layer}: a linear layer's output shape is (M,), got {shape}")
        (M,) = shape
        check_true(
            params == inputs * M + M,
            f"{layer}: {params:,} parameters, but a linear layer from the {inputs:,} numbers the layer "
            f"before hands on to {M:,} outputs has {inputs * M + M:,}",
        )
        check_true(macs == inputs * M, f"{layer}: {macs:,} multiply-adds; each of its {M:,} outputs is one dot product")
        inputs = M
check_true(inputs == 1000, f"fc8 makes the scores of AlexNet's 1000 classes, got {inputs}")
print("every row agrees with itself and with the layer before it; the hidden test checks the sizes")
### BEGIN HIDDEN TESTS
from cs_lib.checks import check_scalar

architecture = {  # conv: (C, K, F, H') and linear: (D, M), from the architecture in Part 2
    "conv1": (3, 64, 11, 55), "conv2": (64, 192, 5, 27), "conv3": (192, 384, 3, 13),
    "conv4": (384, 256, 3, 13), "conv5": (256, 256, 3, 13),
    "fc6": (9216, 4096), "fc7": (4096, 4096), "fc8": (4096, 1000),
}  # fmt: skip
for layer, sizes in architecture.items():
    if layer.startswith("conv"):
        C, K, Fs, H = sizes
        expected = (K, H, H), Fs * Fs * C * K + K, Fs * Fs * C * K * H * H
    else:
        D, M = sizes
        expected = (M,), D * M + M, D * M
    shape, params, macs = rows[layer]
    check_true(shape == expected[0], f"{layer}: output shape {shape}, expected {expected[0]}")
    check_scalar(params, expected[1], f"{layer} parameters")
    check_scalar(macs, expected[2], f"{layer} multiply-adds")
### END HIDDEN TESTS

# %% [markdown]
# `count_layers` computes the whole table for any model. AlexNet's, and VGG-16's (built on the `meta`
# device, which records shapes without allocating or computing anything):

# %%
from cs_lib.pytorch.counting import count_layers, count_parameters, format_table
from cs_lib.pytorch.models import VGG, AlexNet, CifarVGG

with torch.device("meta"):
    alexnet, vgg16 = AlexNet(), VGG("D")
alexnet_rows = count_layers(alexnet, (3, 224, 224))
print(format_table([row for row in alexnet_rows if row.params]))
vgg16_rows = count_layers(vgg16, (3, 224, 224))
conv_rows = [row for row in vgg16_rows if row.kind == "Conv2d"]
linear_rows = [row for row in vgg16_rows if row.kind == "Linear"]
for what, rows in (("conv layers", conv_rows), ("linear layers", linear_rows)):
    params, macs = sum(r.params for r in rows), sum(r.macs for r in rows)
    print(
        f"VGG-16 {what:<14}{params:>13,} parameters ({params / count_parameters(vgg16):5.1%}), "
        f"{macs:>15,} multiply-adds ({macs / sum(r.macs for r in vgg16_rows):5.1%})"
    )
with torch.device("meta"):
    cifar_vgg16 = CifarVGG("D", batch_norm=True, num_classes=10)
cifar_rows = count_layers(cifar_vgg16, (3, 32, 32))
print(
    f"\nCIFAR VGG-16 with BN: {count_parameters(cifar_vgg16):,} parameters, "
    f"{sum(r.macs for r in cifar_rows):,} multiply-adds per 32 x 32 image"
)

# %% [markdown]
# **Question 2.** Where are VGG-16's parameters, and where is its computation? Give the numbers from the
# table above. Why does the CIFAR variant have about ten times fewer parameters, and why does its
# computation per image shrink by far more than its parameter count?

# %% [markdown] answer="vgg_budget" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# The three linear layers hold about 123.6 M of the 138.4 M parameters (89%; the first one, 25088 -> 4096,
# alone has 102.8 M), but compute only 123.6 M of the 15.5 G multiply-adds (under 1%): each weight is
# used once per image. The 13 conv layers have only 14.7 M parameters but do 99% of the work, because each
# filter weight is reused at every output position (224 x 224 in the first block).
# The CIFAR variant drops the 123.6 M parameters of the classifier and keeps the 14.7 M conv
# parameters, plus 5,130 for Linear(512, 10) and 8,448 for BN: about ten times fewer. Its conv layers
# run on 32 x 32 instead of 224 x 224 images, 49 times fewer positions, so it needs about
# 15.4 G / 49 = 0.31 G multiply-adds per image.
# ### END SOLUTION

# %% [markdown]
# ## Part 5: training on a GPU
#
# PyTorch runs a model wherever its parameters and inputs are: `model.to(device)` and
# `images.to(device)`. `cs_lib.pytorch.device` picks the device (CUDA, then Apple's `mps`, then the CPU)
# and the course's **recipe** for it:
#
# - **bf16 autocast**: inside `torch.autocast("cuda", dtype=torch.bfloat16)` convolutions and matrix
#   products run in bfloat16 on the tensor cores (several times the float32 throughput and half the memory
#   traffic) while reductions such as the loss stay in float32. bfloat16 has float32's exponent range, so
#   gradients do not underflow. Older GPUs without bf16 use **float16**, whose small range needs a
#   `GradScaler`: it multiplies the loss by a large factor before backward and divides the gradients by it
#   before the step, skipping steps whose gradients overflowed.
# - **channels_last**: storing images as N x H x W x C lets cuDNN run its tensor-core convolution
#   kernels without transposing every activation.
# - **keep the GPU busy**: move batches with `non_blocking=True`, and do not call `loss.item()` every
#   step: reading a number back makes the CPU wait until the GPU has finished. `train_step` returns the
#   loss as a tensor on the device, and `fit` reads the losses back every 20 steps.
# - optionally **`torch.compile(model)`**, which fuses BN, ReLU and friends into fewer kernels (it takes
#   a minute to compile, so it pays for long runs only).
#
# `benchmarks/bench_gpu.py` measures the recipe. On an H200, plain float32 trains VGG-16-CIFAR (batch 512)
# at about 40,600 images/s and AlexNet (224 x 224, batch 256) at 19,400; bf16 + channels_last reaches
# about 77,500 and 37,100. On a CPU the recipe is float32 (CPU bfloat16 is only fast on processors with
# AMX units) in channels_last, which oneDNN's CPU convolutions also prefer.

# %%
from cs_lib.pytorch.device import Recipe, select_device, training_recipe

device = select_device()
recipe = training_recipe(device)
print("device:", device, "| recipe:", recipe)
if device.type == "cuda":
    print(torch.cuda.get_device_name(), "| bf16 supported:", torch.cuda.is_bf16_supported())

# %% [markdown]
# ### The training step and evaluation
#
# One step of mini-batch SGD in PyTorch:
#
# ```python
# optimizer.zero_grad()                   # .backward() adds to .grad: clear last step's gradients
# with torch.autocast(device_type, dtype=amp_dtype, enabled=amp_dtype is not None):
#     loss = F.cross_entropy(model(images), labels)    # softmax loss, averaged over the batch
# loss.backward()                         # gradients of every parameter
# optimizer.step()                        # the update, e.g. w -= learning_rate * dw (+ momentum)
# ```
#
# Evaluation runs the model in **eval mode** (`model.eval()`: dropout off, BN normalises with its running
# averages) under `torch.no_grad()` (no graph is recorded), in batches.
#
# **Implement** `train_step` and `evaluate` in `cs_lib/pytorch/training.py`. `fit`, which loops over
# epochs with a tqdm progress bar, evaluation after each epoch and optional checkpoints, is provided.

# %% test="train_step" points=3
import torch
import torch.nn.functional as F
from torch import nn

from cs_lib.checks import check_rel_error, check_true
from cs_lib.pytorch.training import train_step

torch.manual_seed(0)
model = nn.Sequential(nn.Flatten(), nn.Linear(12, 6), nn.ReLU(), nn.Linear(6, 4)).double()
images, labels = torch.randn(8, 3, 2, 2, dtype=torch.float64), torch.randint(0, 4, (8,))
reference = [p.detach().clone() for p in model.parameters()]
loss_expected = F.cross_entropy(model(images), labels)
gradients = torch.autograd.grad(loss_expected, list(model.parameters()))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
loss = train_step(model, images, labels, optimizer)
check_true(isinstance(loss, torch.Tensor), f"train_step should return the loss as a tensor, got {type(loss).__name__}")
check_rel_error(loss.detach(), loss_expected.detach(), "train_step loss", tol=1e-12)
for (name, p), p0, g in zip(model.named_parameters(), reference, gradients):
    check_rel_error(p.detach(), p0 - 0.1 * g, f"parameter {name} after one SGD step", tol=1e-10)
print(f"loss {loss.item():.4f}; every parameter moved by -0.1 * its gradient")
### BEGIN HIDDEN TESTS
import copy

check_true(
    loss.dim() == 0 and not loss.requires_grad, "train_step should return loss.detach(), a 0-d tensor without a graph"
)


def manual_sgd(params, grads, buffers, lr, momentum):
    """PyTorch's SGD with momentum: buf = momentum * buf + g (buf = g on the first step); p -= lr * buf."""
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        buffers[i] = g.clone() if buffers[i] is None else momentum * buffers[i] + g
        out.append(p - lr * buffers[i])
    return out


# stale gradients from an earlier backward pass must not leak into the step; two steps with momentum
torch.manual_seed(1)
model = nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.Tanh(), nn.Linear(5, 3)).double()
shadow = [p.detach().clone() for p in model.parameters()]
buffers = [None] * len(shadow)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
for p in model.parameters():
    p.grad = torch.ones_like(p)
for step in range(2):
    images, labels = torch.randn(6, 3, 2, 2, dtype=torch.float64), torch.randint(0, 3, (6,))
    copies = [p.clone().requires_grad_(True) for p in shadow]
    h = torch.tanh(images.flatten(1) @ copies[0].T + copies[1])
    loss_ref = F.cross_entropy(h @ copies[2].T + copies[3], labels)
    shadow = manual_sgd(shadow, torch.autograd.grad(loss_ref, copies), buffers, 0.05, 0.9)
    loss = train_step(model, images, labels, optimizer)
    check_rel_error(loss, loss_ref.detach(), f"loss at step {step + 1}", tol=1e-12)
    for (name, p), expected in zip(model.named_parameters(), shadow):
        check_rel_error(
            p.detach(), expected, f"{name} after step {step + 1} (are old gradients zeroed first?)", tol=1e-10
        )

# autocast: the forward pass and the loss run in bfloat16 when amp_dtype is given
torch.manual_seed(2)
model = nn.Sequential(nn.Flatten(), nn.Linear(48, 10))
images, labels = torch.randn(16, 3, 4, 4), torch.randint(0, 10, (16,))
with torch.autocast("cpu", dtype=torch.bfloat16):
    loss_bf16 = F.cross_entropy(copy.deepcopy(model)(images), labels)
loss_fp32 = F.cross_entropy(model(images), labels)
check_true(abs(loss_bf16.item() - loss_fp32.item()) > 1e-4, "test setup: bf16 and fp32 losses should differ")
loss = train_step(model, images, labels, torch.optim.SGD(model.parameters(), lr=0.1), amp_dtype=torch.bfloat16)
check_rel_error(
    loss.float(),
    loss_bf16.detach().float(),
    "train_step loss with amp_dtype=torch.bfloat16 (is autocast on?)",
    tol=1e-6,
)


# a GradScaler scales the loss, steps the optimizer through the scaler (which unscales the gradients
# first) and updates its scale: with growth_interval=1 one successful step doubles the scale
torch.manual_seed(3)
model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3)).double()
images, labels = torch.randn(5, 3, 2, 2, dtype=torch.float64), torch.randint(0, 3, (5,))
before = [p.detach().clone() for p in model.parameters()]
grads = torch.autograd.grad(F.cross_entropy(model(images), labels), list(model.parameters()))
scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=1)
train_step(model, images, labels, torch.optim.SGD(model.parameters(), lr=0.1), scaler=scaler)
check_true(
    scaler.get_scale() == 2.0**11,
    f"with a scaler: scale the loss before backward, step the optimizer through the scaler, then update the "
    f"scaler; its scale should have grown from 1024 to 2048 after one good step, it is {scaler.get_scale():g}",
)
for (name, p), p0, g in zip(model.named_parameters(), before, grads):
    check_rel_error(
        p.detach(),
        p0 - 0.1 * g,
        f"{name} after a scaled step: scaler.scale(loss).backward(), then scaler.step(optimizer), which unscales",
        tol=1e-10,
    )
### END HIDDEN TESTS

# %% test="evaluate" points=2
import torch
from torch import nn

from cs_lib.checks import check_scalar, check_true
from cs_lib.pytorch.training import evaluate

torch.manual_seed(0)
model = nn.Sequential(nn.Flatten(), nn.Linear(12, 4))
X, y = torch.randn(10, 3, 2, 2), torch.randint(0, 4, (10,))
with torch.no_grad():
    predicted = model(X).argmax(dim=1)
expected = float((predicted == y).sum()) / 10
accuracy = evaluate(model, X, y, batch_size=4)
check_true(isinstance(accuracy, float), f"evaluate should return a Python float, got {type(accuracy).__name__}")
check_scalar(accuracy, expected, "evaluate accuracy (10 images, batches of 4)")
print(f"accuracy {accuracy:.2f}, as expected")
### BEGIN HIDDEN TESTS
from cs_lib.pytorch.device import Recipe

# eval mode: dropout off and BN with running statistics, so predictions are deterministic
torch.manual_seed(1)
model = nn.Sequential(
    nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Dropout(0.9), nn.Linear(64, 5)
)
model[1].running_mean.uniform_(-1, 1)
model[1].running_var.uniform_(0.5, 2)
model.train()
X, y = torch.randn(7, 3, 4, 4), torch.randint(0, 5, (7,))
model.eval()
with torch.no_grad():
    predicted = model(X).argmax(dim=1)
labels = predicted.clone()
labels[:3] = (labels[:3] + 1) % 5  # exactly 4 of 7 right in eval mode
model.train()
for batch_size in (3, 7, 100):
    check_scalar(
        evaluate(model, X, labels, batch_size=batch_size),
        4 / 7,
        f"evaluate with a dropout+BN model in train mode, batch_size={batch_size} (eval mode? the last, smaller batch?)",
    )
check_scalar(
    evaluate(model, X, labels, batch_size=2, recipe=Recipe(torch.device("cpu"), channels_last=True)),
    4 / 7,
    "evaluate with a recipe (batches moved to its device and memory format)",
)
before = [p.detach().clone() for p in model.parameters()]
evaluate(model, X, labels)
check_true(
    all(bool((p == b).all()) for p, b in zip(model.parameters(), before)), "evaluate must not change the parameters"
)
single = nn.Sequential(nn.Flatten(), nn.Linear(3, 2))
with torch.no_grad():
    label = single(torch.ones(1, 3, 1, 1)).argmax(dim=1)
check_scalar(evaluate(single, torch.ones(1, 3, 1, 1), label), 1.0, "evaluate on a single, correctly classified image")
check_scalar(evaluate(single, torch.ones(1, 3, 1, 1), 1 - label), 0.0, "evaluate on a single, misclassified image")
### END HIDDEN TESTS

# %% [markdown]
# ### Data augmentation
#
# A network with enough parameters can memorise its training images pixel by pixel and then does worse
# on new ones. The lecture's remedy that needs no new labels is **data augmentation**: every time a
# training image is used, transform it in a way that keeps its label, so that the network never sees
# exactly the same image twice. The usual CIFAR recipe:
#
# - a **horizontal flip**: mirror the image left-right with probability 1/2 (a mirrored cat is still a cat);
# - a **random crop**: pad the 32 x 32 image with 4 pixels of zeros on every side and cut a 32 x 32
#   window out of the 40 x 40 result at a random position, which shifts the image by up to 4 pixels.
#
# Only training images are augmented; validation and test images are used as they are. (ImageNet
# recipes also crop at random scales and jitter colours.)
#
# **Implement** `random_crop_flip` in `cs_lib/pytorch/training.py`. `make_loader(..., augment=random_crop_flip)`
# applies it to every training batch, drawing the random numbers from a generator seeded by the loader.

# %% test="random_crop_flip" points=3
import torch

from cs_lib.checks import check_shape, check_true
from cs_lib.pytorch.training import random_crop_flip


def placements(images, out, pad):
    """(mirrored, shift down, shift right) of every output image, checked pixel by pixel.

    Every input pixel holds its own number 1, 2, 3, ..., so an output pixel tells which image, channel,
    row and column it came from (0: filled in from outside the image)."""
    N, C, H, W = images.shape
    rows, columns = torch.arange(H)[:, None], torch.arange(W)[None, :]
    found = []
    for i in range(N):
        source = out[i].round().long() - 1  # -1 where nothing was copied
        copied = source >= 0
        picked = source.clamp(min=0)
        check_true(
            bool((picked[copied] // (C * H * W) == i).all()),
            f"image {i}: the output holds pixels of other images (each image keeps its own pixels)",
        )
        channel = picked // (H * W) % C
        check_true(
            bool((channel == torch.arange(C)[:, None, None])[copied].all()),
            f"image {i}: pixels changed channels (flip and crop only move pixels within each channel)",
        )
        down = (rows - picked // W % H)[copied]
        right = (columns - picked % W)[copied]
        mirrored_right = (columns + picked % W - (W - 1))[copied]
        check_true(
            bool(copied.any()) and bool((down == down[0]).all()),
            f"image {i}: its rows are not all shifted by the same amount (a vertical flip? another padding than zeros?)",
        )
        mirrored = not bool((right == right[0]).all())
        shift = mirrored_right if mirrored else right
        check_true(
            bool((shift == shift[0]).all()),
            f"image {i}: its columns are neither shifted nor mirrored and shifted as a whole (another padding than zeros?)",
        )
        dy, dx = int(down[0]), int(shift[0])
        check_true(
            abs(dy) <= pad and abs(dx) <= pad,
            f"image {i} moved by ({dy}, {dx}) pixels; a crop of the image padded by {pad} moves it by at most {pad}",
        )
        check_true(
            int(copied.sum()) == C * (H - abs(dy)) * (W - abs(dx)),
            f"image {i}: pixels are missing or zeros appear inside the image; only the {abs(dy)} rows and "
            f"{abs(dx)} columns shifted in from outside should be 0",
        )
        found.append((mirrored, dy, dx))
    return found


N, C, H, W = 200, 3, 8, 8
images = torch.arange(1.0, N * C * H * W + 1, dtype=torch.float64).reshape(N, C, H, W)
out = random_crop_flip(images.clone(), pad=4)
check_shape(out, (N, C, H, W), "random_crop_flip(images (200, 3, 8, 8), pad=4)")
unchanged = images.clone()
random_crop_flip(images, pad=4)
check_true(torch.equal(images, unchanged), "random_crop_flip changed its input: make a new tensor")
found = placements(images, out, pad=4)
mirrored = sum(m for m, _, _ in found) / N
check_true(0.3 < mirrored < 0.7, f"{mirrored:.0%} of the images were mirrored; each should be with probability 1/2")
shifts = {(dy, dx) for _, dy, dx in found}
check_true(
    len(shifts) > 20, f"only {len(shifts)} different shifts among {N} images: every image needs its own random shift"
)
check_true(
    min(dy for _, dy, _ in found) < 0 < max(dy for _, dy, _ in found),
    "the images should move both up and down (and left and right): the window's position is random in both directions",
)
print(f"200 images: {mirrored:.0%} mirrored, {len(shifts)} different shifts, every pixel where it belongs")
### BEGIN HIDDEN TESTS
# a smaller pad on images that are not square, with 2 channels: every shift from -2 to 2 in both
# directions occurs, mirroring is independent of the shift, and the dtype is kept
N, C, H, W = 400, 2, 5, 7
images = torch.arange(1.0, N * C * H * W + 1, dtype=torch.float64).reshape(N, C, H, W)
out = random_crop_flip(images, pad=2)
check_true(out.dtype == torch.float64, f"random_crop_flip should keep the dtype float64, got {out.dtype}")
found = placements(images, out, pad=2)
for axis, name in ((1, "down"), (2, "right")):
    seen = sorted({placement[axis] for placement in found})
    check_true(seen == [-2, -1, 0, 1, 2], f"pad=2: shifts {name} of {seen} among 400 images; all of -2..2 should occur")
check_true(len({(dy, dx) for _, dy, dx in found}) == 25, "pad=2: every one of the 25 (down, right) shifts should occur")
mirrored = sum(m for m, _, _ in found) / N
check_true(0.4 < mirrored < 0.6, f"{mirrored:.0%} of 400 images mirrored, expected about half")
check_true(
    sum(m for m, dy, dx in found if dx > 0) > 0 and sum(not m for m, dy, dx in found if dx > 0) > 0,
    "mirroring and shifting should be drawn independently",
)
# pad=0: no shift, only mirroring; and float32 images as the loader hands them over
images = torch.arange(1.0, 64 * 3 * 4 * 4 + 1).reshape(64, 3, 4, 4)
out = random_crop_flip(images, pad=0)
check_true(out.dtype == torch.float32, f"random_crop_flip should keep the dtype float32, got {out.dtype}")
found = placements(images, out, pad=0)
check_true(all(dy == dx == 0 for _, dy, dx in found), "pad=0 leaves no room to shift")
check_true(0 < sum(m for m, _, _ in found) < 64, "pad=0: some images mirrored and some not")
### END HIDDEN TESTS

# %% [markdown]
# ### The data, and what augmentation does to it
#
# This part trains on the **embedded dataset** even where CIFAR-10 is available, because the grader
# checks your checkpoint on new images of the embedded dataset. Below are the first training images
# (top row) and two random augmentations of each. The zeros shifted in from outside are the middle of the
# network's input scale: they appear as a grey border.

# %%
from cs_lib.pytorch.checkpoint import load_checkpoint, rebuild_model, restore_training, save_checkpoint
from cs_lib.pytorch.data import load_tensors, make_loader, take_per_class
from cs_lib.pytorch.models import ARCHITECTURES
from cs_lib.pytorch.training import confusion_matrix, evaluate, fit, random_crop_flip
from cs_lib.vis import plot_confusion_matrix, plot_history, show_images

data = load_tensors(num_training=4000, num_validation=1000, dataset="embedded")
class_names = data["class_names"]
print(
    f"{data['source']} data: {len(data['y_train'])} training, {len(data['y_val'])} validation, "
    f"{len(data['y_test'])} test images; classes {class_names}"
)
shown = scaled(8, 4)  # pictures cost time: the grading run draws fewer
examples, example_labels = data["X_train"][:shown], data["y_train"][:shown]
torch.manual_seed(0)
try:
    augmented = [random_crop_flip(examples, pad=4) for _ in range(2)]
except NotImplementedError as error:
    print(f"random_crop_flip is not written yet ({error})")
else:
    titles = [class_names[int(label)] for label in example_labels] + ["augmented"] * (2 * shown)
    show_images(torch.cat([examples, *augmented]), titles=titles, columns=shown)
    plt.show()

# %% [markdown]
# ### What augmentation buys
#
# Augmentation pays where a network could otherwise memorise its training set: few images and many
# epochs. The cell below trains the same small VGG twice on only 250 training images (25 per class) for
# 60 epochs, without and with `random_crop_flip`, and measures its accuracy on those 250 training images
# (as they are, not augmented) and on the 1,000 validation images.

# %% tags=["shortened"]
small_config = [8, "M", 16, "M", 32, "M", 64, "M"]


def train_small_vgg(augment, per_class=25, epochs=60, learning_rate=0.2):
    """(training accuracy, validation accuracy) of a small VGG trained on per_class images of each class."""
    torch.manual_seed(0)
    net = recipe.prepare(CifarVGG(small_config, batch_norm=True, num_classes=10))
    X, y = take_per_class(data["X_train"], data["y_train"], per_class, seed=0)
    loader = make_loader(X, y, batch_size=64, augment=augment, seed=0)
    sgd = torch.optim.SGD(net.parameters(), lr=learning_rate, momentum=0.9, weight_decay=5e-4, nesterov=True)
    schedule = torch.optim.lr_scheduler.OneCycleLR(sgd, learning_rate, total_steps=epochs * len(loader))
    fit(net, loader, sgd, epochs, recipe=recipe, scheduler=schedule, progress=False)
    return evaluate(net, X, y, recipe=recipe), evaluate(net, data["X_val"], data["y_val"], recipe=recipe)


if grading():  # two runs of 60 epochs: the grading run leaves them out
    print("left out while grading: run the notebook to see what augmentation buys")
else:
    try:
        augmentation_results = {
            name: train_small_vgg(augment) for name, augment in (("none", None), ("random_crop_flip", random_crop_flip))
        }
    except NotImplementedError as error:
        print(f"random_crop_flip is not written yet ({error})")
    else:
        print(f"{'augmentation':<18}{'training accuracy':>20}{'validation accuracy':>22}")
        for name, (train_acc, val_acc) in augmentation_results.items():
            print(f"{name:<18}{train_acc:>20.3f}{val_acc:>22.3f}")
        (plain_train, plain_val), (augmented_train, augmented_val) = augmentation_results.values()
        show_effect(
            plain_train - plain_val > 0.2,
            "without augmentation the network memorises its 250 images: training accuracy is more than 20 points above validation accuracy",
        )
        show_effect(
            augmented_val > plain_val + 0.05, "augmentation raises the validation accuracy by more than 5 points"
        )

# %% [markdown]
# **Question 3.** Why does augmentation raise the validation accuracy here, and what does it do to the
# accuracy on the training images? A horizontal flip keeps the label of every class of the embedded
# dataset. Would random rotations by 90 degrees be a safe augmentation for it? Would vertical flips be a
# good idea for CIFAR-10?

# %% [markdown] answer="augmentation" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# Without augmentation 250 images seen 60 times each can be memorised: training accuracy reaches 1.0 while
# validation accuracy stays far lower (about 0.68). With flips and crops the network never sees the same
# pixels twice, so memorising the pixels does not work; it has to learn what stays the same under shifts
# and mirroring, which is what defines the classes (a shape's position and handedness do not change its
# label). That generalises: validation accuracy rises (to about 0.8). The accuracy on the (unaugmented)
# training images stays where it was, at or just below 1.0: augmentation does not make the training set
# easier to fit, it makes fitting it carry over to new images, so the gap between training and validation
# accuracy shrinks. It is a regulariser, like weight decay and dropout.
# Rotations by 90 degrees are not safe here: they turn horizontal stripes into vertical stripes, a
# different class (the generator turns those two classes by at most 0.25 radians; the other shapes
# appear at every angle, so for them rotations would be harmless). Vertical flips keep CIFAR-10's
# labels but show the network upside-down cars, ships and animals that never occur in test images,
# which spends capacity on an invariance the task does not need; horizontal flips are the standard choice.
# ### END SOLUTION

# %% [markdown]
# ### Training a small VGG and saving the checkpoint
#
# A narrow VGG (`CifarVGG` with 16, 32, 64 and 128 channels, BN, four pools, a global average pool and a
# linear head) trains on all 4,000 training images in a few epochs on a laptop CPU. The recipe: SGD with
# Nesterov momentum, a **one-cycle** learning-rate schedule, weight decay, batch size 64. With this many
# images and only three epochs the network has no time to memorise, so this short run trains without
# augmentation; for longer runs (and on CIFAR-10) add `augment=random_crop_flip` to the loader.
#
# `fit` calls `checkpoint(model, optimizer, epoch, history)` after each epoch: below it saves a
# checkpoint every epoch, from which training could resume after a crash (or a Colab disconnect).
# The final model is saved as `a5_checkpoint.pt` with `save_checkpoint`, which stores the weights and
# the model's config (`model.config`, a plain dict), so that the grader can rebuild it. The grader
# loads it on the CPU and needs **at least 80%** on new images of the embedded dataset. While the
# notebook is being graded this section trains a narrower model (8 to 64 channels) for two epochs into a
# temporary folder and leaves your `a5_checkpoint.pt` alone.
#
# The plots show the run's history: the training loss of every step with each epoch's mean, the
# validation accuracy after each epoch, and the learning rate. The one-cycle schedule warms up from
# 1/25 of the peak rate over the first 30% of the steps (large steps too early can derail a freshly
# initialised network) and then anneals towards zero, so that the last steps settle into a minimum.

# %%
torch.manual_seed(0)
config = scaled([16, "M", 32, "M", 64, "M", 128, "M"], small_config)
epochs, learning_rate, batch_size = scaled(3, 2), 0.2, 64
model = recipe.prepare(CifarVGG(config, batch_norm=True, num_classes=10))
loader = make_loader(data["X_train"], data["y_train"], batch_size=batch_size, shuffle=True, seed=0)
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=0.9, weight_decay=5e-4, nesterov=True)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, learning_rate, total_steps=epochs * len(loader))
run_folder = Path(tempfile.mkdtemp(prefix="a5_run_"))


def save_every_epoch(model, optimizer, epoch, history):
    save_checkpoint(run_folder / "last.pt", model, optimizer=optimizer, epoch=epoch, val_acc=history["val_acc"][-1])


started = time.perf_counter()
history = fit(
    model,
    loader,
    optimizer,
    epochs,
    recipe=recipe,
    scheduler=scheduler,
    val_data=(data["X_val"], data["y_val"]),
    checkpoint=save_every_epoch,
)
print(
    f"{count_parameters(model):,} parameters, {epochs} epochs in {time.perf_counter() - started:.0f} s; "
    f"validation accuracy per epoch: {[round(a, 3) for a in history['val_acc']]}; accuracy on the first "
    f"1,000 training images: {evaluate(model, data['X_train'][:1000], data['y_train'][:1000], recipe=recipe):.3f}"
)
show_effect(history["val_acc"][-1] > 0.9, "the validation accuracy is above 90%")
show_effect(
    history["epoch_loss"][-1] < history["epoch_loss"][0] / 2,
    "the last epoch's mean training loss is less than half the first's",
)
plot_history(history, title=f"CifarVGG({config}), {len(data['y_train'])} images")
plt.show()

# %% [markdown]
# ### Looking at the mistakes
#
# One accuracy hides which classes are confused with which. The **confusion matrix** counts, for every
# pair (true class $i$, predicted class $j$), the validation images of class $i$ that the network
# predicted as $j$: the diagonal holds the correct predictions, everything off it is a mistake.
#
# **Implement** `confusion_matrix` in `cs_lib/pytorch/training.py`.

# %% test="confusion_matrix" points=2
import torch

from cs_lib.checks import check_true
from cs_lib.pytorch.training import confusion_matrix

predicted = torch.tensor([0, 2, 2, 1, 0, 2, 2])
labels = torch.tensor([0, 2, 1, 1, 0, 0, 2])
matrix = confusion_matrix(predicted, labels, num_classes=4)
check_true(isinstance(matrix, torch.Tensor), f"confusion_matrix should return a tensor, got {type(matrix).__name__}")
check_true(tuple(matrix.shape) == (4, 4), f"num_classes=4: the matrix is 4 x 4, got shape {tuple(matrix.shape)}")
check_true(
    not matrix.dtype.is_floating_point and not matrix.dtype.is_complex,
    f"the counts should be integers, got {matrix.dtype}",
)
expected = [[2, 0, 1, 0], [0, 1, 1, 0], [0, 0, 2, 0], [0, 0, 0, 0]]  # rows: true class, columns: predicted
check_true(
    matrix.tolist() == expected, f"confusion_matrix of the 7 examples: expected {expected}, got {matrix.tolist()}"
)
print("7 examples, 4 classes: rows count the true classes, columns the predicted ones")
### BEGIN HIDDEN TESTS
import numpy as np

rng = np.random.default_rng(11)
for num_classes, N in ((10, 1000), (3, 1), (6, 50)):
    true_np = rng.integers(0, num_classes, N)
    guess_np = np.where(rng.random(N) < 0.6, true_np, rng.integers(0, num_classes, N))
    expected = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(expected, (true_np, guess_np), 1)
    matrix = confusion_matrix(torch.from_numpy(guess_np), torch.from_numpy(true_np), num_classes)
    check_true(
        tuple(matrix.shape) == (num_classes, num_classes) and matrix.tolist() == expected.tolist(),
        f"confusion_matrix of {N} random predictions for {num_classes} classes differs from the counts "
        f"(every repeated pair counts; rows are true classes)",
    )
    check_true(int(matrix.sum()) == N, f"the counts should add up to the {N} examples, got {int(matrix.sum())}")
# the last class never appears among labels or predictions: its row and column stay 0
matrix = confusion_matrix(torch.tensor([0, 1, 1]), torch.tensor([1, 1, 0]), num_classes=5)
check_true(
    matrix.tolist() == [[0, 1, 0, 0, 0], [1, 1, 0, 0, 0]] + [[0] * 5] * 3,
    f"num_classes=5 with classes 0 and 1 only: got {matrix.tolist()}",
)
matrix = confusion_matrix(torch.tensor([], dtype=torch.int64), torch.tensor([], dtype=torch.int64), num_classes=2)
check_true(matrix.tolist() == [[0, 0], [0, 0]], f"no examples: all counts 0, got {matrix.tolist()}")
### END HIDDEN TESTS

# %% [markdown]
# The confusion matrix of the model trained above on the 1,000 validation images, and the first
# misclassified validation images with their true and predicted classes:


# %%
def predict(net, X, batch_size=500):
    """The class the network predicts for every image of X, on the CPU."""
    net.eval()
    predictions = []
    with torch.no_grad(), recipe.autocast():
        for images in X.split(batch_size):
            images = images.to(recipe.device, memory_format=recipe.memory_format)
            predictions.append(net(images).argmax(dim=1).cpu())
    return torch.cat(predictions)


val_predicted = predict(model, data["X_val"])
try:
    matrix = confusion_matrix(val_predicted, data["y_val"], num_classes=len(class_names))
except NotImplementedError as error:
    print(f"confusion_matrix is not written yet ({error})")
else:
    plot_confusion_matrix(matrix, class_names, title="validation images")
    plt.show()
    mistakes = matrix.clone().fill_diagonal_(0)
    true_class, predicted_class = divmod(int(mistakes.argmax()), len(class_names))
    print(
        f"{int(mistakes.sum())} of {len(val_predicted)} validation images misclassified; the most frequent mistake: "
        f"{class_names[true_class]} predicted as {class_names[predicted_class]} ({int(mistakes.max())} times)"
    )
    show_effect(
        abs(int(matrix.trace()) / len(val_predicted) - history["val_acc"][-1]) < 1e-9,
        "the diagonal's sum divided by the number of images is the validation accuracy that evaluate measured",
    )
wrong = torch.nonzero(val_predicted != data["y_val"]).flatten()[: scaled(24, 8)]
if len(wrong):
    titles = [f"{class_names[int(data['y_val'][k])]} -> {class_names[int(val_predicted[k])]}" for k in wrong]
    show_images(data["X_val"][wrong], titles=titles, columns=8, title="misclassified: true class -> predicted class")
    plt.show()
else:
    print("no validation image is misclassified")

# %% [markdown]
# **Question 4.** Which classes does your network confuse most often? What do the misclassified images
# have in common (size, contrast, position, colour)? Which would help most against these mistakes: more
# epochs, augmentation, a wider network or more training images? Say why.

# %% [markdown] answer="mistakes" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# In the reference run (36 mistakes in 1,000) the most frequent confusions are ring taken for crescent
# (6), star for cross (5) and triangle for square (4): shapes whose outlines differ in a few pixels once
# they are small or blurred. The misclassified images are mostly low-contrast (the shape's colour is
# close to the background's), small, or partly blended into a background blotch, so that part of the
# outline is missing: a ring whose one side fades looks like a crescent, a star with short points like
# a cross. A few have an unusual colour for their class, where the weak class tint points the wrong way.
# The training loss and the validation accuracy were still improving in the last epoch, and the network
# was not memorising (training and validation accuracy are close), so more epochs (or a wider network)
# would help most; augmentation fights overfitting, which this run does not suffer from; more training
# images would help too, at the cost of labels.
# ### END SOLUTION

# %% [markdown]
# Restoring the run's last checkpoint into a fresh model (and optimizer, to continue training) gives
# back the same network: the same validation accuracy.

# %%
restored = recipe.prepare(CifarVGG(config, batch_norm=True, num_classes=10))
restored_optimizer = torch.optim.SGD(restored.parameters(), lr=learning_rate, momentum=0.9, nesterov=True)
epoch = restore_training(run_folder / "last.pt", restored, restored_optimizer)
val_acc = evaluate(restored, data["X_val"], data["y_val"], recipe=recipe)
print(
    f"restored the checkpoint of epoch {epoch + 1}: validation accuracy {val_acc:.3f} (trained model: {history['val_acc'][-1]:.3f})"
)
show_effect(val_acc == history["val_acc"][-1], "the restored model has the trained model's validation accuracy")

checkpoint_path = run_folder / "a5_quick_checkpoint.pt" if grading() else Path("a5_checkpoint.pt")
save_checkpoint(checkpoint_path, model, val_acc=val_acc, epochs=epochs)
on_cpu = rebuild_model(load_checkpoint(checkpoint_path), ARCHITECTURES)
print(
    f"saved {checkpoint_path}; rebuilt on the CPU from {on_cpu.config}: "
    f"validation accuracy {evaluate(on_cpu, data['X_val'], data['y_val']):.3f}"
)

# %% test="checkpoint" points=4 tags=["stateful"]
from pathlib import Path

import torch

from cs_lib.checks import check_shape, check_true
from cs_lib.pytorch.checkpoint import FORMAT
from cs_lib.pytorch.models import build_model

path = Path("a5_checkpoint.pt")
check_true(
    path.is_file(),
    f"no a5_checkpoint.pt in {Path.cwd()}: run Part 5 (it saves one) and submit the file with this notebook",
)
try:  # weights_only: tensors and plain values only, so loading the file cannot run any code
    submitted = torch.load(path, map_location="cpu", weights_only=True)
except Exception as error:
    submitted = f"{type(error).__name__}: {str(error).splitlines()[0]}"
check_true(
    isinstance(submitted, dict),
    f"a5_checkpoint.pt cannot be read as tensors and plain values ({submitted}); save it with save_checkpoint",
)
check_true(
    submitted.get("format") == FORMAT,
    "a5_checkpoint.pt was not written by cs_lib.pytorch.checkpoint.save_checkpoint: save it with that function",
)
config = submitted.get("config")
architecture = config.get("architecture") if isinstance(config, dict) else None
COURSE_ARCHITECTURES = ("alexnet", "cifar_vgg", "vgg")
check_true(
    architecture in COURSE_ARCHITECTURES,
    f"the checkpoint's architecture {architecture!r} is not one of the course's {list(COURSE_ARCHITECTURES)}",
)
graded_model = build_model(config)
graded_model.load_state_dict(submitted["state_dict"])
graded_model.eval()
with torch.no_grad():
    check_shape(
        graded_model(torch.zeros(2, 3, 32, 32)), (2, 10), "the checkpoint's model: scores for two 32 x 32 images"
    )
print(
    f"a5_checkpoint.pt: {architecture} with {sum(t.numel() for t in submitted['state_dict'].values()):,} numbers; "
    "the grader measures its accuracy on new images"
)
### BEGIN HIDDEN TESTS
import numpy as np

from autograder.grading.trusted.judging import largest_output_bytes, submitted_checkpoint
from autograder.grading.trusted.reference import reference_module
from cs_lib.checks import check_rel_error
from cs_lib.datasets.embedded import render

THRESHOLD = 0.80
checkpoint = submitted_checkpoint(path)  # opened in the sandbox, the numbers it holds bounded before they are made
config = checkpoint["config"]
reference = reference_module("cs_lib.pytorch.models")
with torch.device("meta"):  # the reference architecture, without memory until the submitted weights arrive
    judged = reference.build_model(config)
# what one image costs the trusted process in this architecture's largest layer output, measured on the
# meta device before anything runs: a few MB of weights can describe layers whose outputs take gigabytes
per_image = largest_output_bytes(judged, (3, 32, 32))
check_true(
    per_image <= 8 * 2**20,
    f"the checkpoint's {architecture} makes {per_image / 2**20:,.0f} MB in one layer for one 32 x 32 image "
    "(the course's models make at most a few MB): train a model of the course's sizes",
)
batch = min(250, (128 * 2**20) // max(per_image, 1))  # images per forward pass: at most 128 MB in one layer
judged.load_state_dict(checkpoint["state_dict"], assign=True)  # strict: the reference's keys and shapes
judged = judged.float().eval()
# 1,000 images no one has seen: the embedded dataset's generator with a seed of this test's own
rng = np.random.default_rng(73_919)
new_labels = rng.permutation(np.arange(1000) % 10)
pixels = torch.from_numpy(render(new_labels, rng)).permute(0, 3, 1, 2).float()
new_images = (pixels / 255.0 - 0.5) / 0.25  # the course's fixed input scaling
# the points are for the student's own model trained: build_model(config) must rebuild the reference's
# function. Weights the test draws (from a generator of its own) and keeps, loaded into the student's
# model, must give the scores the reference architecture gives with them
generator = torch.Generator().manual_seed(52_301)
drawn = {}
for name, tensor in judged.state_dict().items():
    if not tensor.is_floating_point():
        drawn[name] = torch.zeros_like(tensor)
    elif name.endswith("running_var"):
        drawn[name] = 0.5 + 1.5 * torch.rand(tensor.shape, generator=generator)
    elif tensor.dim() > 1:  # He initialisation, so that scores keep their scale through the layers
        drawn[name] = torch.randn(tensor.shape, generator=generator) * (2.0 / tensor[0].numel()) ** 0.5
    elif name.endswith("bias") or name.endswith("running_mean"):
        drawn[name] = 0.2 * torch.randn(tensor.shape, generator=generator)
    else:  # a normalisation layer's scale
        drawn[name] = 0.5 + torch.rand(tensor.shape, generator=generator)
with torch.device("meta"):
    expected_model = reference.build_model(config)
expected_model.load_state_dict(drawn, assign=True)
expected_model = expected_model.float().eval()
rebuilt = build_model(config)
rebuilt.load_state_dict(drawn)  # sent as a copy: the test's weights stay as drawn
rebuilt.eval()
with torch.no_grad():
    check_rel_error(
        rebuilt(new_images[: min(16, batch)]),
        expected_model(new_images[: min(16, batch)]),
        f"your build_model(config) of the checkpoint's {architecture} with weights drawn by the test: "
        "scores for 16 new images",
        tol=1e-4,
    )
correct = 0
with torch.no_grad():
    for start in range(0, len(new_labels), batch):
        scores = judged(new_images[start : start + batch])
        check_shape(scores, (min(batch, len(new_labels) - start), 10), "the checkpoint's scores")
        correct += int((scores.argmax(dim=1).numpy() == new_labels[start : start + batch]).sum())
accuracy = correct / len(new_labels)
print(f"accuracy on 1,000 new images: {accuracy:.3f} (needs {THRESHOLD})")
check_true(
    accuracy >= THRESHOLD,
    f"the checkpoint's accuracy on 1,000 new images of the embedded dataset is {accuracy:.3f}, below {THRESHOLD}",
)
### END HIDDEN TESTS

# %% [markdown]
# ### On a GPU
#
# With a CUDA GPU (Colab: Runtime > Change runtime type), the cell below compares plain float32 with the
# recipe on a few steps of VGG-16 for CIFAR. Without one it prints the reference numbers; the full
# benchmark is `python benchmarks/bench_gpu.py`.

# %%
from cs_lib.pytorch.training import train_step


def images_per_second(model_recipe, batch_size=256, steps=20):
    net = model_recipe.prepare(CifarVGG("D", batch_norm=True, num_classes=10))
    sgd = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    images = torch.randn(batch_size, 3, 32, 32)
    labels = torch.randint(0, 10, (batch_size,))
    images, labels = model_recipe.batch(images, labels)
    for step in range(steps + 5):
        if step == 5:  # the first steps pick cuDNN kernels
            torch.cuda.synchronize()
            started = time.perf_counter()
        train_step(net, images, labels, sgd, amp_dtype=model_recipe.amp_dtype, scaler=None)
    torch.cuda.synchronize()
    return steps * batch_size / (time.perf_counter() - started)


if device.type == "cuda" and not grading():
    plain = Recipe(device)
    for name, candidate in (("float32, NCHW", plain), ("course recipe", recipe)):
        print(f"{name:<16}{images_per_second(candidate):>10,.0f} images/s ({candidate})")
else:
    print("no CUDA GPU here. On an H200: VGG-16-CIFAR 40,600 images/s in float32, 77,500 with bf16 + channels_last;")
    print("AlexNet at 224 x 224: 19,400 and 37,100.")

# %% [markdown]
# ## Part 6: transfer learning
#
# A network trained on a large dataset has learned features (edges, textures, parts) that help on other
# images too. The lecture's table says what to do with a new dataset:
#
# | | very similar dataset | very different dataset |
# |---|---|---|
# | **very little data** | a linear classifier on the top layer's features | you're in trouble: try a linear classifier from earlier layers |
# | **quite a lot of data** | fine-tune a few layers | fine-tune a larger number of layers |
#
# Both start from the pretrained network with a new last layer for the new classes (`replace_head`):
#
# - **linear probe**: freeze everything (`requires_grad = False`) except the new linear layer, so the
#   features stay as they were and only a linear classifier on them is learned;
# - **fine-tune the top**: also train the last conv blocks (each conv with its BN) and the classifier,
#   with a small learning rate; the lower layers, whose edge and blob detectors are the most general,
#   stay frozen.
#
# A frozen BN layer should also keep its running averages: `train_mode(model)` (used by `fit`) puts BN
# layers whose parameters are all frozen in eval mode.
#
# **Implement** `set_trainable` in `cs_lib/pytorch/training.py`.

# %% test="set_trainable" points=3
import torch
from torch import nn

from cs_lib.checks import check_true
from cs_lib.pytorch.training import set_trainable


def make_net(classifier):
    """A model in torchvision's layout: conv blocks in model.features, the head in model.classifier."""
    model = nn.Module()
    features = nn.Sequential(
        nn.Conv2d(3, 4, 3),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 5, 3),
        nn.BatchNorm2d(5),
        nn.ReLU(),
        nn.Conv2d(5, 6, 1),
        nn.ReLU(),
    )
    model.add_module("features", features)
    model.add_module("classifier", classifier)
    return model


def trainable(model):
    return sorted(name for name, p in model.named_parameters() if p.requires_grad)


model = make_net(nn.Linear(6, 3))
names = set_trainable(model, "linear_probe")
check_true(
    trainable(model) == ["classifier.bias", "classifier.weight"],
    f"linear_probe: only the classifier should require grad, found {trainable(model)}",
)
check_true(
    [str(n) for n in names] == trainable(model), f"set_trainable should return the sorted trainable names, got {names}"
)
print("linear probe: only classifier.weight and classifier.bias learn")


### BEGIN HIDDEN TESTS
def names_of(prefixes):
    return sorted(f"{prefix}.{kind}" for prefix in prefixes for kind in ("weight", "bias"))


everything = trainable(make_net(nn.Linear(6, 3)))
cases = [
    ("fine_tune_top", 1, ["features.7", "classifier"]),
    ("fine_tune_top", 2, ["features.4", "features.5", "features.7", "classifier"]),
    ("fine_tune_top", 3, ["features.0", "features.1", "features.4", "features.5", "features.7", "classifier"]),
    ("linear_probe", 1, ["classifier"]),
]
for strategy, blocks, prefixes in cases:
    for start in ("fine_tune_all", "linear_probe"):  # whatever was trainable before must not matter
        model = make_net(nn.Linear(6, 3))
        set_trainable(model, start)
        names = set_trainable(model, strategy, num_top_blocks=blocks)
        check_true(
            trainable(model) == names_of(prefixes),
            f"{strategy} with num_top_blocks={blocks} (after {start}): expected {names_of(prefixes)} trainable, found {trainable(model)}",
        )
        check_true(
            [str(n) for n in names] == trainable(model),
            f"{strategy}: return the sorted names that require grad, got {names}",
        )
model = make_net(nn.Linear(6, 3))
set_trainable(model, "linear_probe")
check_true(
    set_trainable(model, "fine_tune_all") == everything and trainable(model) == everything,
    "fine_tune_all: every parameter learns",
)
# a classifier with several linear layers (AlexNet, VGG): the probe trains the last one, fine-tuning all of them
model = make_net(nn.Sequential(nn.Dropout(0.5), nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)))
set_trainable(model, "linear_probe")
check_true(
    trainable(model) == names_of(["classifier.3"]),
    f"linear_probe with a Sequential classifier: found {trainable(model)}",
)
set_trainable(model, "fine_tune_top", num_top_blocks=1)
check_true(
    trainable(model) == names_of(["features.7", "classifier.1", "classifier.3"]),
    f"fine_tune_top with a Sequential classifier: found {trainable(model)}",
)
### END HIDDEN TESTS

# %% [markdown]
# ### A pretrained network
#
# With torchvision installed, online, and a GPU, the cell below uses torchvision's AlexNet trained on
# ImageNet: a very similar situation to the lecture's. Offline (or on a CPU, where a 224 x 224 AlexNet is
# too slow for this notebook), it **pretrains** a small VGG on the first five classes of the dataset
# (disc, ring, square, triangle, cross on the embedded data) and transfers it to the other five
# (star, crescent, horizontal and vertical stripes, checkerboard): related shapes and textures, never seen
# in pretraining.

# %% tags=["shortened"]
from cs_lib.pytorch.data import take_per_class
from cs_lib.pytorch.training import replace_head, set_trainable
from cs_lib.pytorch.transfer import imagenet_backbone

transfer_config = [8, "M", 16, "M", 32, "M", 64, "M"]  # the small VGG: pretrained offline, and trained from scratch
transfer_learning_rate = 0.05
if grading():  # pretraining and the eight transfer runs below: the grading run leaves them out
    print("left out while grading: run the notebook to see the transfer experiment")
else:
    source = load_tensors(num_training=4000, num_validation=1000, classes=range(5))
    target = load_tensors(num_training=4000, num_validation=1000, classes=range(5, 10))
    pretrained, reason = (None, "no CUDA GPU") if device.type != "cuda" else imagenet_backbone("alexnet")
    if pretrained is not None:
        pretrained = recipe.prepare(pretrained)
        transfer_learning_rate = 0.005  # ImageNet features are larger and finer: smaller steps
        print("pretrained: torchvision's AlexNet (ImageNet), on images resized to 224 x 224")
    else:
        print(
            f"torchvision's ImageNet weights are not used ({reason}); pretraining a small VGG on {source['class_names']}"
        )
        torch.manual_seed(0)
        pretrained = recipe.prepare(CifarVGG(transfer_config, batch_norm=True, num_classes=5))
        pretrain_X, pretrain_y = source["X_train"][:1500], source["y_train"][:1500]
        loader = make_loader(pretrain_X, pretrain_y, batch_size=64, seed=0)
        pretrain_epochs = 6
        optimizer = torch.optim.SGD(pretrained.parameters(), lr=0.2, momentum=0.9, weight_decay=5e-4, nesterov=True)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.2, total_steps=pretrain_epochs * len(loader))
        fit(pretrained, loader, optimizer, pretrain_epochs, recipe=recipe, scheduler=scheduler, progress=False)
        pretrained_acc = evaluate(pretrained, source["X_val"], source["y_val"], recipe=recipe)
        print(
            f"pretrained on {len(pretrain_y)} images: accuracy {pretrained_acc:.3f} "
            "on the validation images of its own five classes"
        )
        show_effect(pretrained_acc > 0.8, "the pretrained network tells its own five classes apart (above 80%)")

# %% [markdown]
# Now the new task: five new classes with only a few labelled images each. Each strategy starts from a
# copy of the pretrained network with a new 5-way head (or, for comparison, from random weights) and
# trains for the same number of steps; the accuracy is measured on the target classes' validation
# images. "Very little data" is 10 images per class, "more data" 50.


# %% tags=["shortened"]
def transfer(strategy, X, y, steps, num_top_blocks=2, learning_rate=transfer_learning_rate):
    """Validation accuracy on the target classes after training with one strategy."""
    torch.manual_seed(1)
    if strategy == "from scratch":
        model = recipe.prepare(CifarVGG(transfer_config, batch_norm=True, num_classes=5))
    else:
        model = replace_head(copy.deepcopy(pretrained), num_classes=5)
        set_trainable(model, strategy, num_top_blocks=num_top_blocks)
    parameters = [p for p in model.parameters() if p.requires_grad]
    loader = make_loader(X, y, batch_size=min(50, len(y)), seed=0)
    epochs = max(1, steps // len(loader))
    optimizer = torch.optim.SGD(parameters, lr=learning_rate, momentum=0.9, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, learning_rate, total_steps=epochs * len(loader))
    fit(model, loader, optimizer, epochs, recipe=recipe, scheduler=scheduler, progress=False)
    return evaluate(model, target["X_val"], target["y_val"], recipe=recipe), count_parameters(
        model, trainable_only=True
    )


strategies = ["linear_probe", "fine_tune_top", "fine_tune_all", "from scratch"]
if grading():
    print("left out while grading: run the notebook to see the transfer experiment")
else:
    results = {}
    for per_class in (10, 50):
        X_small, y_small = take_per_class(target["X_train"], target["y_train"], per_class, seed=0)
        for strategy in strategies:
            results[per_class, strategy] = transfer(strategy, X_small, y_small, steps=100)
    print(f"{'labelled images':<18}" + "".join(f"{s:>16}" for s in strategies))
    for per_class in (10, 50):
        print(f"{f'{per_class} per class':<18}" + "".join(f"{results[per_class, s][0]:>16.3f}" for s in strategies))
    print(f"{'trainable params':<18}" + "".join(f"{results[10, s][1]:>16,}" for s in strategies))
    accuracy = {key: value[0] for key, value in results.items()}
    for holds, statement in (
        (
            min(accuracy[10, s] for s in strategies[:3]) > accuracy[10, "from scratch"] + 0.2,
            "with 10 images per class, every strategy that starts from the pretrained network beats training "
            "from scratch by more than 20 points",
        ),
        (
            accuracy[50, "fine_tune_top"] > accuracy[50, "linear_probe"],
            "with 50 images per class, fine-tuning the top blocks beats the linear probe",
        ),
        (
            accuracy[50, "from scratch"] - accuracy[10, "from scratch"]
            > accuracy[50, "linear_probe"] - accuracy[10, "linear_probe"],
            "training from scratch gains more from the extra images than the linear probe",
        ),
    ):
        show_effect(holds, statement)

# %% [markdown]
# **Question 5.** Compare the strategies in your table with the lecture's advice. Which wins with 10
# images per class, and which with 50? Why does a linear probe do well with very little data, and why
# does it fall behind fine-tuning when there is more? When would training from scratch be the best choice?

# %% [markdown] answer="transfer" points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# On the embedded data (offline fallback) with 10 images per class, the three strategies that start from
# the pretrained network reach about 0.9, far above training from scratch (about 0.5): 50 images
# cannot train a network's features, but they can fit a 5-way linear classifier on good features, and
# with few trainable parameters (325 for the probe) there is little to overfit. With 50 per class,
# fine-tuning pulls ahead of the probe (about 0.97 against 0.92): there is now enough data to adapt the
# top blocks to the new classes (stripes and checkerboards need features that disc/square/cross did not
# train), which a linear probe cannot do; training from scratch catches up (about 0.90). This is the lecture's
# table: very little data and a similar dataset, a linear classifier on top; more data, fine-tune a few
# (or more) layers. Training from scratch is the choice when there is a lot of data and it is very
# different from what the network was pretrained on (or no pretrained network of the right kind).
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# You wrote AlexNet and VGG as `nn.Module`s whose parameter counts match the papers and torchvision,
# counted their parameters and multiply-adds, measured what random crops and flips buy against
# overfitting, trained a small VGG with the GPU recipe, read its training curves, confusion matrix and
# mistakes, saved it, and compared a linear probe with fine-tuning. Remember to submit `a5_checkpoint.pt`
# with this notebook.
