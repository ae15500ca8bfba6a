"""Assignment 5 provided code: data loading, device recipes, checkpoints, the optional torchvision backbone,
and the pictures Part 5 draws (training history, confusion matrix, image grids)."""

import pickle
import subprocess
import sys
import types

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from torch import nn

from cs_lib import vis
from cs_lib.datasets import get_cifar10_data
from cs_lib.pytorch import checkpoint as ckpt
from cs_lib.pytorch.data import load_tensors, make_loader, normalize_pixels, take_per_class
from cs_lib.pytorch.device import Recipe, autocast_dtype, select_device, training_recipe
from cs_lib.pytorch.models import ARCHITECTURES, AlexNet, CifarVGG
from cs_lib.pytorch.transfer import IMAGENET_MEAN, IMAGENET_STD, ImageNetInput, imagenet_backbone

pytestmark = pytest.mark.a5


@pytest.fixture(scope="module")
def data():
    return load_tensors(num_training=400, num_validation=100, num_test=100)


def test_importing_cs_lib_pytorch_does_not_import_torch():
    code = "import cs_lib, cs_lib.pytorch, sys; print('torch' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )


def test_load_tensors_scales_the_same_pixels_get_cifar10_data_returns(data):
    raw = get_cifar10_data(400, 100, 100, subtract_mean=False)
    assert data["X_train"].dtype == torch.float32 and data["X_train"].shape == (400, 3, 32, 32)
    assert data["y_train"].dtype == torch.int64
    np.testing.assert_allclose(data["X_test"].numpy(), (raw["X_test"] / 255 - 0.5) / 0.25, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(data["y_val"].numpy(), raw["y_val"])


def test_load_tensors_keeps_chosen_classes_and_numbers_them_from_zero():
    full = load_tensors(num_training=400, num_validation=100, num_test=100)
    part = load_tensors(num_training=400, num_validation=100, num_test=100, classes=(7, 2))
    keep = (full["y_test"] == 7) | (full["y_test"] == 2)
    assert torch.equal(part["X_test"], full["X_test"][keep])
    assert torch.equal(part["y_test"], (full["y_test"][keep] == 2).long())  # 7 -> 0, 2 -> 1
    assert part["class_names"] == [full["class_names"][7], full["class_names"][2]]
    with pytest.raises(ValueError, match="distinct labels"):
        load_tensors(classes=(1, 1))


def test_take_per_class_takes_exactly_that_many_of_each_label(data):
    X, y = take_per_class(data["X_train"], data["y_train"], 7, seed=3)
    assert torch.bincount(y).tolist() == [7] * 10
    X_again, _ = take_per_class(data["X_train"], data["y_train"], 7, seed=3)
    assert torch.equal(X, X_again)
    with pytest.raises(ValueError, match="fewer than 1000"):
        take_per_class(data["X_train"], data["y_train"], 1000)


def test_make_loader_augments_every_batch_with_its_own_seeded_generator():
    X, y = torch.arange(40.0).reshape(10, 1, 2, 2), torch.arange(10)
    seen = []

    def augment(images, generator):
        seen.append(generator)
        return images + torch.rand(len(images), 1, 1, 1, generator=generator)

    def epoch(seed):
        return [(images, labels) for images, labels in make_loader(X, y, batch_size=4, augment=augment, seed=seed)]

    first, again, other = epoch(3), epoch(3), epoch(4)
    assert len(seen) == 9 and all(isinstance(generator, torch.Generator) for generator in seen)
    for (images, labels), (images_again, labels_again) in zip(first, again):
        assert torch.equal(images, images_again) and torch.equal(labels, labels_again)
        shift = images - X[labels]
        assert ((shift > 0) & (shift < 1)).all()  # every batch went through augment
    assert not all(torch.equal(a[0], b[0]) for a, b in zip(first, other))
    plain = next(iter(make_loader(X, y, batch_size=10, shuffle=False)))[0]
    assert torch.equal(plain, X)  # no augmentation unless asked
    with pytest.raises(ValueError, match="augment must be a function"):
        make_loader(X, y, augment=True)


def test_make_loader_visits_every_example_once_per_epoch_in_a_new_order():
    X, y = torch.arange(10.0).reshape(10, 1), torch.arange(10)
    loader = make_loader(X, y, batch_size=4, seed=1)
    epochs = [torch.cat([labels for _, labels in loader]) for _ in range(2)]
    assert [len(labels) for _, labels in loader] == [4, 4, 2]
    assert all(sorted(epoch.tolist()) == list(range(10)) for epoch in epochs)
    assert not torch.equal(epochs[0], epochs[1])
    assert torch.equal(torch.cat([labels for _, labels in make_loader(X, y, batch_size=4, seed=1)]), epochs[0])
    assert torch.equal(torch.cat([labels for _, labels in make_loader(X, y, shuffle=False)]), y)


def test_normalize_pixels_maps_0_and_255_to_minus_2_and_2():
    assert normalize_pixels(np.array([0.0, 127.5, 255.0])).tolist() == [-2.0, 0.0, 2.0]


def test_the_cpu_recipe_is_float32_in_channels_last():
    recipe = training_recipe("cpu")
    assert recipe.amp_dtype is None and recipe.channels_last and recipe.grad_scaler() is None
    assert autocast_dtype("cpu") is None and select_device("cpu").type == "cpu"
    model = recipe.prepare(nn.Conv2d(3, 4, 3))
    images, labels = recipe.batch(torch.zeros(2, 3, 5, 5), torch.zeros(2))
    assert model.weight.is_contiguous(memory_format=torch.channels_last)
    assert images.is_contiguous(memory_format=torch.channels_last)
    assert str(recipe) == "cpu, float32, channels_last"


def test_a_float16_recipe_comes_with_a_grad_scaler_and_bfloat16_without():
    assert isinstance(Recipe(torch.device("cpu"), amp_dtype=torch.float16).grad_scaler(), torch.amp.GradScaler)
    assert Recipe(torch.device("cpu"), amp_dtype=torch.bfloat16).grad_scaler() is None
    with Recipe(torch.device("cpu"), amp_dtype=torch.bfloat16).autocast():
        assert torch.get_autocast_dtype("cpu") == torch.bfloat16 and torch.is_autocast_enabled("cpu")


def test_select_device_refuses_unknown_or_missing_devices():
    with pytest.raises(ValueError, match="'tpu'"):
        select_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="not available"):
            select_device("cuda")


def test_a_checkpoint_rebuilds_the_same_model_on_the_cpu(tmp_path):
    torch.manual_seed(0)
    model = CifarVGG([4, "M", 6], batch_norm=True, num_classes=3).to(memory_format=torch.channels_last)
    model.train()(torch.randn(8, 3, 8, 8))  # move the BN running statistics away from their defaults
    path = ckpt.save_checkpoint(tmp_path / "model.pt", model, val_acc=0.5)
    loaded = ckpt.load_checkpoint(path)
    rebuilt = ckpt.rebuild_model(loaded, ARCHITECTURES)
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():  # the original runs channels_last kernels, so equal up to rounding
        assert torch.allclose(rebuilt(x), model.eval()(x), rtol=1e-5, atol=1e-6) and not rebuilt.training
    assert loaded["metadata"] == {"val_acc": 0.5} and loaded["config"] == model.config


@pytest.mark.slow
def test_a_compiled_model_is_saved_under_its_own_parameter_names(tmp_path):
    model = CifarVGG([4], num_classes=2)
    path = ckpt.save_checkpoint(tmp_path / "compiled.pt", torch.compile(model))
    assert set(ckpt.load_checkpoint(path)["state_dict"]) == set(model.state_dict())


def test_restore_training_brings_back_the_weights_and_the_momentum(tmp_path):
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    ckpt.save_checkpoint(tmp_path / "run.pt", model, config={"architecture": "linear"}, optimizer=optimizer, epoch=4)
    twin = nn.Linear(3, 2)
    twin_optimizer = torch.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    assert ckpt.restore_training(tmp_path / "run.pt", twin, twin_optimizer) == 4
    assert torch.equal(twin.weight, model.weight)
    assert torch.equal(
        twin_optimizer.state[twin.weight]["momentum_buffer"], optimizer.state[model.weight]["momentum_buffer"]
    )


def test_checkpoints_hold_plain_values_only(tmp_path):
    model = CifarVGG([4], num_classes=2)
    with pytest.raises(ValueError, match="config kwargs|plain values"):
        ckpt.save_checkpoint(
            tmp_path / "bad.pt", model, config={"architecture": "cifar_vgg", "kwargs": {"layer": nn.ReLU()}}
        )
    with pytest.raises(ValueError, match="no .config"):
        ckpt.save_checkpoint(tmp_path / "bad.pt", nn.Linear(2, 2))
    assert not (tmp_path / "bad.pt").exists()


class Payload:
    """An object whose unpickling would run code: a checkpoint must never be able to carry one."""

    def __reduce__(self):
        return (print, ("this ran while loading a checkpoint",))


def test_loading_refuses_pickled_objects_and_unknown_architectures(tmp_path, capsys):
    evil = tmp_path / "evil.pt"
    torch.save({"format": ckpt.FORMAT, "config": {"architecture": "cifar_vgg"}, "payload": Payload()}, evil)
    with pytest.raises(pickle.UnpicklingError):
        ckpt.load_checkpoint(evil)
    assert "this ran" not in capsys.readouterr().out
    foreign = ckpt.save_checkpoint(tmp_path / "linear.pt", nn.Linear(2, 2), config={"architecture": "linear"})
    with pytest.raises(ValueError, match="'linear' is not one of"):
        ckpt.rebuild_model(ckpt.load_checkpoint(foreign), ARCHITECTURES)
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a checkpoint written by"):
        ckpt.load_checkpoint(tmp_path / "other.pt")


def test_a_missing_checkpoint_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at .*missing.pt"):
        ckpt.load_checkpoint(tmp_path / "missing.pt")


def test_without_torchvision_the_backbone_says_why(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # as if it were not installed
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None if name == "torchvision" else object())
    backbone, reason = imagenet_backbone("alexnet")
    assert backbone is None and "torchvision is not installed" in reason


def fake_torchvision(fail=False):
    """A stand-in for torchvision.models: alexnet(weights=...) builds the course's AlexNet."""

    def alexnet(weights):
        if fail:
            raise OSError("no network")
        assert weights == "IMAGENET1K_V1"
        return AlexNet()

    models = types.SimpleNamespace(alexnet=alexnet, AlexNet_Weights=types.SimpleNamespace(DEFAULT="IMAGENET1K_V1"))
    return types.SimpleNamespace(models=models)


def test_a_torchvision_backbone_takes_course_images_and_a_failed_download_falls_back(monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: object())
    monkeypatch.setitem(sys.modules, "torchvision", fake_torchvision())
    backbone, reason = imagenet_backbone("alexnet")
    assert reason == "" and isinstance(backbone.features[0], ImageNetInput)
    with torch.no_grad():
        assert backbone.eval()(torch.zeros(1, 3, 32, 32)).shape == (1, 1000)
    monkeypatch.setitem(sys.modules, "torchvision", fake_torchvision(fail=True))
    backbone, reason = imagenet_backbone("alexnet")
    assert backbone is None and "OSError: no network" in reason


def test_imagenet_input_resizes_and_renormalises():
    pixels = torch.rand(2, 3, 4, 4)
    out = ImageNetInput(size=8)((pixels - 0.5) / 0.25)
    assert out.shape == (2, 3, 8, 8)
    mean, std = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    resized = nn.functional.interpolate(pixels, size=(8, 8), mode="bilinear", align_corners=False)
    assert torch.allclose(out, (resized - mean) / std, atol=1e-5)


# ---------------------------------------------------------------- the pictures of Part 5 (cs_lib.vis)


def test_plot_history_shows_loss_accuracy_and_learning_rate_against_epochs(tmp_path):
    history = {
        "loss": [2.0, 1.8, 1.2, 1.0, 0.6, 0.5],
        "lr": [0.1, 0.2, 0.2, 0.15, 0.05, 0.0],
        "epoch_loss": [1.9, 1.1, 0.55],
        "val_acc": [0.4, 0.7, 0.9],
        "epochs": 3,
    }
    figure = vis.plot_history(history, title="run")
    loss_ax, acc_ax, lr_ax = figure.axes
    steps, means = loss_ax.lines
    assert steps.get_xdata().tolist() == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]  # two steps per epoch
    assert means.get_xdata().tolist() == [1, 2, 3] and means.get_ydata().tolist() == [1.9, 1.1, 0.55]
    assert acc_ax.lines[0].get_ydata().tolist() == [0.4, 0.7, 0.9] and acc_ax.get_ylabel() == "validation accuracy"
    assert lr_ax.lines[0].get_ydata().tolist() == history["lr"] and lr_ax.get_ylabel() == "learning rate"
    figure.savefig(tmp_path / "history.png")
    without_lr = {key: value for key, value in history.items() if key != "lr"}
    assert len(vis.plot_history(without_lr).axes) == 2


def test_plot_confusion_matrix_labels_true_rows_and_predicted_columns_with_counts():
    matrix = torch.tensor([[5, 1, 0], [0, 3, 2], [1, 0, 4]])
    figure = vis.plot_confusion_matrix(matrix, ["a", "b", "c"])
    ax = figure.axes[0]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert [label.get_text() for label in ax.get_yticklabels()] == ["a", "b", "c"]
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert texts == {(0, 0): "5", (0, 1): "1", (1, 1): "3", (1, 2): "2", (2, 0): "1", (2, 2): "4"}
    with pytest.raises(ValueError, match="3 classes is 3 x 3"):
        vis.plot_confusion_matrix(matrix[:2], ["a", "b", "c"])


def test_show_images_draws_each_image_with_its_title():
    images = torch.rand(5, 3, 6, 6)
    figure = vis.show_images(images, titles=list("abcde"), columns=3)
    drawn = [ax for ax in figure.axes if ax.images]
    assert len(figure.axes) == 6 and len(drawn) == 5
    assert [ax.get_title() for ax in drawn] == list("abcde")
    assert drawn[0].images[0].get_array().shape == (6, 6, 3)
    with pytest.raises(ValueError, match="5 images but 2 titles"):
        vis.show_images(images, titles=["a", "b"])
