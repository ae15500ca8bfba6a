"""Assignment 5 training: the SGD step, evaluation, augmentation, the confusion matrix, freezing for
transfer learning, and fit.

The training step is compared with an update written out by hand from autograd's gradients;
augmentation with every crop of the zero-padded image and its mirror image; the confusion matrix with
numpy's unbuffered add; freezing with the exact parameter names each strategy should leave trainable.
"""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cs_lib.pytorch.device import Recipe
from cs_lib.pytorch.models import AlexNet, CifarVGG
from cs_lib.pytorch.training import (
    confusion_matrix,
    conv_blocks,
    evaluate,
    fit,
    last_linear,
    random_crop_flip,
    replace_head,
    set_trainable,
    train_mode,
    train_step,
)

pytestmark = pytest.mark.a5


def trainable(model):
    return sorted(name for name, p in model.named_parameters() if p.requires_grad)


def small_vgg(num_classes=3):
    torch.manual_seed(0)
    return CifarVGG([4, "M", 6, "M", 8], batch_norm=True, num_classes=num_classes)


@settings(max_examples=10, deadline=None)
@given(batch=st.integers(1, 9), lr=st.floats(1e-3, 1.0), seed=st.integers(0, 1000))
def test_train_step_moves_every_parameter_against_its_gradient(batch, lr, seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 7), nn.ReLU(), nn.Linear(7, 4)).double()
    images, labels = torch.randn(batch, 3, 2, 2, dtype=torch.float64), torch.randint(0, 4, (batch,))
    before = [p.detach().clone() for p in model.parameters()]
    expected_loss = F.nll_loss(F.log_softmax(model(images), dim=1), labels)
    grads = torch.autograd.grad(expected_loss, list(model.parameters()))
    for p in model.parameters():
        p.grad = torch.full_like(p, 5.0)  # stale gradients must be cleared first
    loss = train_step(model, images, labels, torch.optim.SGD(model.parameters(), lr=lr))
    assert loss.dim() == 0 and not loss.requires_grad
    assert torch.allclose(loss, expected_loss.detach(), rtol=1e-12)
    for p, p0, g in zip(model.parameters(), before, grads):
        assert torch.allclose(p, p0 - lr * g, rtol=1e-10, atol=1e-12)


def test_train_step_runs_the_forward_pass_under_bf16_autocast_when_asked():
    torch.manual_seed(0)
    model = nn.Linear(16, 4)
    images, labels = torch.randn(8, 16), torch.randint(0, 4, (8,))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        expected = F.cross_entropy(copy.deepcopy(model)(images), labels)
    loss = train_step(model, images, labels, torch.optim.SGD(model.parameters(), lr=0.1), amp_dtype=torch.bfloat16)
    assert loss.item() == expected.item()


def test_evaluate_counts_the_last_partial_batch_and_uses_eval_mode():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.9), nn.Linear(12, 3))
    X = torch.randn(11, 3, 2, 2)
    with torch.no_grad():
        y = model.eval()(X).argmax(dim=1)
    y[:4] = (y[:4] + 1) % 3
    model.train()
    assert evaluate(model, X, y, batch_size=5) == 7 / 11
    assert not model.training
    assert evaluate(model, X, y, batch_size=3, recipe=Recipe(torch.device("cpu"), channels_last=True)) == 7 / 11


def test_evaluate_refuses_images_and_labels_of_different_lengths():
    with pytest.raises(ValueError, match="5 images but y has 4"):
        evaluate(nn.Flatten(), torch.zeros(5, 1), torch.zeros(4, dtype=torch.int64))


def test_linear_probe_trains_only_the_last_linear_layer():
    model = small_vgg()
    assert set_trainable(model, "linear_probe") == ["classifier.bias", "classifier.weight"]
    with torch.device("meta"):
        alexnet = AlexNet(num_classes=10)
    set_trainable(alexnet, "linear_probe")
    assert trainable(alexnet) == ["classifier.6.bias", "classifier.6.weight"]
    assert sum(p.numel() for p in alexnet.parameters() if p.requires_grad) == 4096 * 10 + 10


@pytest.mark.parametrize("blocks, prefixes", [
    (1, ["features.8", "features.9"]),
    (2, ["features.4", "features.5", "features.8", "features.9"]),
    (3, ["features.0", "features.1", "features.4", "features.5", "features.8", "features.9"]),
])  # fmt: skip
def test_fine_tune_top_trains_the_last_conv_blocks_with_their_bn_and_the_classifier(blocks, prefixes):
    model = small_vgg()
    set_trainable(model, "fine_tune_all")
    names = set_trainable(model, "fine_tune_top", num_top_blocks=blocks)
    expected = sorted(
        [f"{p}.{k}" for p in prefixes for k in ("weight", "bias")] + ["classifier.bias", "classifier.weight"]
    )
    assert names == trainable(model) == expected


def test_fine_tune_top_on_alexnet_trains_conv5_and_the_three_linear_layers():
    with torch.device("meta"):
        model = AlexNet()
    set_trainable(model, "fine_tune_top", num_top_blocks=1)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 590_080 + 58_631_144


def test_set_trainable_refuses_unknown_strategies_and_block_counts():
    with pytest.raises(ValueError, match="fine_tune"):
        set_trainable(small_vgg(), "fine_tune")
    with pytest.raises(ValueError, match="between 1 and 3"):
        set_trainable(small_vgg(), "fine_tune_top", num_top_blocks=4)


def test_conv_blocks_pair_each_conv_with_its_batch_norm():
    blocks = conv_blocks(small_vgg())
    assert [[type(m).__name__ for m in block] for block in blocks] == [["Conv2d", "BatchNorm2d"]] * 3


def test_train_mode_keeps_frozen_batch_norm_in_eval_mode():
    model = small_vgg()
    set_trainable(model, "fine_tune_top", num_top_blocks=1)
    train_mode(model)
    bn = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert [m.training for m in bn] == [False, False, True]
    assert model.training and model.classifier.training


def test_replace_head_swaps_the_last_linear_layer_for_a_fresh_one():
    model = replace_head(small_vgg(num_classes=3), 5)
    assert model(torch.zeros(2, 3, 8, 8)).shape == (2, 5)
    with torch.device("meta"):
        alexnet = replace_head(AlexNet(), 7)
    assert last_linear(alexnet) is alexnet.classifier[6] and alexnet.classifier[6].out_features == 7


def test_a_linear_probe_leaves_the_frozen_features_exactly_as_they_were():
    model = small_vgg()
    set_trainable(model, "linear_probe")
    features = copy.deepcopy(model.features.state_dict())
    torch.manual_seed(1)
    X, y = torch.randn(32, 3, 8, 8), torch.randint(0, 3, (32,))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=8)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1, momentum=0.9)
    fit(model, loader, optimizer, epochs=2, progress=False)
    for key, value in model.features.state_dict().items():
        assert torch.equal(value, features[key]), key  # weights and BN running statistics


def test_fit_lowers_the_loss_and_calls_the_checkpoint_hook_every_epoch():
    torch.manual_seed(0)
    X = torch.randn(64, 3, 4, 4)
    y = (X[:, 0].mean(dim=(1, 2)) > 0).long()
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 2))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=16, shuffle=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    calls = []
    history = fit(
        model,
        loader,
        optimizer,
        epochs=3,
        val_data=(X, y),
        progress=False,
        checkpoint=lambda m, o, epoch, h: calls.append(epoch),
        recipe=Recipe(torch.device("cpu")),
    )
    assert calls == [0, 1, 2] and history["epochs"] == 3
    assert len(history["loss"]) == 3 * 4 and len(history["val_acc"]) == 3
    assert sum(history["loss"][-4:]) < sum(history["loss"][:4])
    assert history["val_acc"][-1] > 0.8


def candidate_crops(image, pad):
    """{(mirrored, top, left): crop} for one (C, H, W) image: every window of its zero-padded copies."""
    _, H, W = image.shape
    crops = {}
    for mirrored in (False, True):
        padded = F.pad(image.flip(-1) if mirrored else image, (pad, pad, pad, pad))
        for top in range(2 * pad + 1):
            for left in range(2 * pad + 1):
                crops[mirrored, top, left] = padded[:, top : top + H, left : left + W]
    return crops


@settings(max_examples=15, deadline=None)
@given(
    N=st.integers(1, 6),
    C=st.integers(1, 3),
    H=st.integers(1, 7),
    W=st.integers(1, 7),
    pad=st.integers(0, 4),
    seed=st.integers(0, 1000),
)
def test_random_crop_flip_gives_each_image_one_crop_of_its_padded_self_or_mirror(N, C, H, W, pad, seed):
    images = torch.rand(N, C, H, W, generator=torch.Generator().manual_seed(seed)) + 0.5  # never 0
    original = images.clone()
    out = random_crop_flip(images, pad=pad, generator=torch.Generator().manual_seed(seed))
    assert out.shape == images.shape and out.dtype == images.dtype and torch.equal(images, original)
    for image, result in zip(images, out):
        assert any(torch.equal(result, crop) for crop in candidate_crops(image, pad).values())


def test_random_crop_flip_draws_every_placement_uniformly_and_independently_per_image():
    N, pad = 4000, 2
    images = torch.arange(1.0, N * 2 * 5 * 5 + 1).reshape(N, 2, 5, 5)
    out = random_crop_flip(images, pad=pad, generator=torch.Generator().manual_seed(0))
    counts = {}
    for image, result in zip(images, out):
        (placement,) = [key for key, crop in candidate_crops(image, pad).items() if torch.equal(result, crop)]
        counts[placement] = counts.get(placement, 0) + 1
    assert len(counts) == 2 * 5 * 5  # all 50 placements (mirrored or not, 25 windows) occur
    expected = N / 50
    assert all(abs(count - expected) < 5 * expected**0.5 for count in counts.values()), counts


def test_random_crop_flip_repeats_itself_with_the_same_generator_seed():
    images = torch.randn(16, 3, 8, 8)
    first, again, other = (
        random_crop_flip(images, generator=torch.Generator().manual_seed(seed)) for seed in (5, 5, 6)
    )
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_random_crop_flip_refuses_what_is_not_a_batch_of_images():
    with pytest.raises(ValueError, match="expects a batch"):
        random_crop_flip(torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match="pad must be at least 0"):
        random_crop_flip(torch.zeros(1, 3, 8, 8), pad=-1)


@settings(max_examples=20, deadline=None)
@given(num_classes=st.integers(1, 12), N=st.integers(0, 300), seed=st.integers(0, 1000))
def test_confusion_matrix_counts_every_true_predicted_pair(num_classes, N, seed):
    rng = np.random.default_rng(seed)
    labels, predicted = rng.integers(0, num_classes, N), rng.integers(0, num_classes, N)
    expected = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(expected, (labels, predicted), 1)
    matrix = confusion_matrix(torch.from_numpy(predicted), torch.from_numpy(labels), num_classes)
    assert matrix.dtype == torch.int64 and matrix.device.type == "cpu"
    np.testing.assert_array_equal(matrix.numpy(), expected)


def test_confusion_matrix_refuses_mismatched_lengths_and_unknown_classes():
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix(torch.zeros(3, dtype=torch.int64), torch.zeros(4, dtype=torch.int64), 2)
    with pytest.raises(ValueError, match=r"labels holds classes outside 0\.\.2: \[0, 3\]"):
        confusion_matrix(torch.tensor([0, 1]), torch.tensor([0, 3]), 3)


def test_fit_records_the_learning_rate_of_every_step_and_the_mean_loss_of_every_epoch():
    torch.manual_seed(0)
    X, y = torch.randn(40, 3, 4, 4), torch.randint(0, 2, (40,))
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 2))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=16)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.3, total_steps=2 * len(loader))
    twin = torch.optim.lr_scheduler.OneCycleLR(
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3), 0.3, total_steps=2 * len(loader)
    )
    expected_lr = []
    for _ in range(2 * len(loader)):
        expected_lr.append(twin.get_last_lr()[0])
        twin.optimizer.step()
        twin.step()
    history = fit(model, loader, optimizer, epochs=2, scheduler=scheduler, progress=False)
    assert history["lr"] == pytest.approx(expected_lr) and len(history["loss"]) == 6
    assert history["epoch_loss"] == pytest.approx([np.mean(history["loss"][:3]), np.mean(history["loss"][3:])])
