"""Assignment 5 notebook: the reference passes every test cell, the cells catch the classic wrong versions
of each graded function (mutations), accept valid alternatives, and the checkpoint grader works."""

import ast
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import cells
from autograder.common.sources import BEGIN_HIDDEN
from cells import cell_source, run_cell
from cs_lib.pytorch import counting, models, training
from cs_lib.pytorch.checkpoint import save_checkpoint

pytestmark = pytest.mark.a5

A5 = "a5"
CELLS = {  # graded name: the test cells that check it
    "models.AlexNet": ["alexnet"],
    "models.make_vgg_layers": ["vgg", "cifar_vgg"],
    "models.VGG": ["vgg"],
    "models.CifarVGG": ["cifar_vgg"],
    "counting.conv_counts": ["conv_counts"],
    "counting.count_layers": ["count_layers"],
    "counting.layer_macs": ["count_layers"],
    "counting.count_parameters": ["count_layers"],
    "training.train_step": ["train_step"],
    "training.evaluate": ["evaluate"],
    "training.random_crop_flip": ["random_crop_flip"],
    "training.confusion_matrix": ["confusion_matrix"],
    "training.set_trainable": ["set_trainable"],
}
REPO = Path(__file__).resolve().parents[1]


def first_failure(graded, replacement):
    """(grade id, message) of the first of graded's cells that fails with replacement patched in, or None."""
    return cells.first_failure(A5, CELLS[graded], {f"cs_lib.pytorch.{graded}": replacement})


# ---------------------------------------------------------------- the reference and the cells themselves


@pytest.mark.parametrize("grade_id", cells.test_cell_ids(A5))
def test_reference_passes_every_self_contained_test_cell(grade_id):
    passed, message = run_cell(A5, grade_id)
    assert passed, message


def test_only_the_hand_table_and_the_checkpoint_read_notebook_state():
    assert set(cells.test_cell_ids(A5, include_stateful=True)) - set(cells.test_cell_ids(A5)) == {
        "alexnet_table",
        "checkpoint",
    }
    assert set(cells.test_cell_ids(A5)) == {grade_id for grade_ids in CELLS.values() for grade_id in grade_ids}


@pytest.mark.parametrize("grade_id", cells.test_cell_ids(A5, include_stateful=True))
def test_test_cells_have_a_visible_check_and_do_not_end_in_a_bare_value(grade_id):
    """A bare number as a cell's last value would be read by the scorer as partial credit."""
    source = cell_source(A5, grade_id)
    assert "check_" in source.split(BEGIN_HIDDEN)[0]
    last = ast.parse(source).body[-1]
    if isinstance(last, ast.Expr):
        name = getattr(last.value, "func", None)
        assert isinstance(last.value, ast.Call) and (name.id == "print" or name.id.startswith("check_")), grade_id


# ---------------------------------------------------------------- models: wrong and valid versions


class AlexNetWithThePapersChannels(models.AlexNet):
    """The 2012 paper's 96, 256, 384, 384, 256 filters instead of the lecture's PyTorch code."""

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__(num_classes, dropout)
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, 11, 4, 2), nn.ReLU(True), nn.MaxPool2d(3, 2),
            nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(True), nn.MaxPool2d(3, 2),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(True), nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(True), nn.MaxPool2d(3, 2),
        )  # fmt: skip


class AlexNetWithoutAdaptivePool(models.AlexNet):
    """Flattens the features directly: right for 224 x 224 only."""

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class AlexNetWithDropoutAfterTheLinearLayers(models.AlexNet):
    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__(num_classes, dropout)
        self.classifier = nn.Sequential(
            nn.Linear(9216, 4096), nn.ReLU(True), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(dropout), nn.Linear(4096, num_classes),
        )  # fmt: skip


class AlexNetWrittenDifferently(nn.Module):
    """A valid alternative: layers from a table in a loop, x.view for flattening, a functional pool."""

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        layers, channels = [], 3
        for out, size, stride, pad, pool in (
            (64, 11, 4, 2, True),
            (192, 5, 1, 2, True),
            (384, 3, 1, 1, False),
            (256, 3, 1, 1, False),
            (256, 3, 1, 1, True),
        ):
            layers += [nn.Conv2d(channels, out, size, stride, pad), nn.ReLU(inplace=True)]
            layers += [nn.MaxPool2d(3, 2)] if pool else []
            channels = out
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(6)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(9216, 4096),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), (6, 6))
        return self.classifier(x.view(x.size(0), -1))


@pytest.mark.parametrize(
    "wrong", [AlexNetWithThePapersChannels, AlexNetWithoutAdaptivePool, AlexNetWithDropoutAfterTheLinearLayers]
)
def test_the_alexnet_cell_catches(wrong):
    assert first_failure("models.AlexNet", wrong), f"{wrong.__name__} passed the AlexNet cell"


def test_the_alexnet_cell_accepts_an_alternative_implementation():
    assert first_failure("models.AlexNet", AlexNetWrittenDifferently) is None


def vgg_layers(config, batch_norm=False, in_channels=3, padding=1, pool=(2, 2), bn_after_relu=False):
    modules, channels = [], in_channels
    for item in models.vgg_layer_list(config):
        if item == "M":
            modules.append(nn.MaxPool2d(*pool))
            continue
        block = [nn.Conv2d(channels, item, 3, padding=padding), nn.ReLU(inplace=True)]
        if batch_norm:
            block.insert(2 if bn_after_relu else 1, nn.BatchNorm2d(item))
        modules += block
        channels = item
    return nn.Sequential(*modules)


def vgg_layers_with_bn_after_relu(config, batch_norm=False, in_channels=3):
    return vgg_layers(config, batch_norm, in_channels, bn_after_relu=True)


def vgg_layers_without_padding(config, batch_norm=False, in_channels=3):
    return vgg_layers(config, batch_norm, in_channels, padding=0)


def vgg_layers_with_overlapping_pools(config, batch_norm=False, in_channels=3):
    return vgg_layers(config, batch_norm, in_channels, pool=(3, 2))


def vgg_layers_as_a_comprehension(config, batch_norm=False, in_channels=3):
    """A valid alternative: the same modules, built from (in, out) pairs."""
    layers = models.vgg_layer_list(config)
    widths = [in_channels] + [item for item in layers if item != "M"]
    pairs = iter(zip(widths, widths[1:]))
    modules = []
    for item in layers:
        if item == "M":
            modules.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            c_in, c_out = next(pairs)
            modules += [nn.Conv2d(c_in, c_out, kernel_size=3, stride=1, padding=1)]
            modules += [nn.BatchNorm2d(c_out)] * batch_norm + [nn.ReLU(inplace=True)]
    return nn.Sequential(*modules)


@pytest.mark.parametrize(
    "wrong", [vgg_layers_with_bn_after_relu, vgg_layers_without_padding, vgg_layers_with_overlapping_pools]
)
def test_the_vgg_cells_catch(wrong):
    assert first_failure("models.make_vgg_layers", wrong), f"{wrong.__name__} passed the VGG cells"


def test_the_vgg_cells_accept_an_alternative_make_vgg_layers():
    assert first_failure("models.make_vgg_layers", vgg_layers_as_a_comprehension) is None


class VGGWithoutDropout(models.VGG):
    def __init__(self, config="D", batch_norm=False, num_classes=1000, dropout=0.5):
        super().__init__(config, batch_norm, num_classes, dropout)
        self.classifier = nn.Sequential(
            nn.Linear(25088, 4096), nn.ReLU(True), nn.Linear(4096, 4096), nn.ReLU(True), nn.Linear(4096, num_classes)
        )


class VGGWithoutAdaptivePool(models.VGG):
    """Right for 224 x 224 only: a 32 x 32 image leaves 512 numbers for a layer that wants 25088."""

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


class CifarVGGWithoutGlobalPool(models.CifarVGG):
    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class CifarVGGWithTwoLinearLayers(models.CifarVGG):
    def __init__(self, config="D", batch_norm=True, num_classes=10):
        super().__init__(config, batch_norm, num_classes)
        width = self.classifier.in_features
        self.classifier = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, num_classes))


@pytest.mark.parametrize("graded, wrong", [
    ("models.VGG", VGGWithoutDropout),
    ("models.VGG", VGGWithoutAdaptivePool),
    ("models.CifarVGG", CifarVGGWithoutGlobalPool),
    ("models.CifarVGG", CifarVGGWithTwoLinearLayers),
])  # fmt: skip
def test_the_vgg_model_cells_catch(graded, wrong):
    assert first_failure(graded, wrong), f"{wrong.__name__} passed the {graded} cells"


# ---------------------------------------------------------------- counting


def conv_counts_without_biases(C, H, W, K, F, stride=1, pad=0):
    H_out, W_out = (H + 2 * pad - F) // stride + 1, (W + 2 * pad - F) // stride + 1
    return (K, H_out, W_out), F * F * C * K, F * F * C * K * H_out * W_out


def conv_counts_with_bias_multiply_adds(C, H, W, K, F, stride=1, pad=0):
    H_out, W_out = (H + 2 * pad - F) // stride + 1, (W + 2 * pad - F) // stride + 1
    return (K, H_out, W_out), F * F * C * K + K, (F * F * C * K + K) * H_out * W_out


def conv_counts_without_rounding_down(C, H, W, K, F, stride=1, pad=0):
    H_out, W_out = (H + 2 * pad - F) / stride + 1, (W + 2 * pad - F) / stride + 1
    return (K, H_out, W_out), F * F * C * K + K, F * F * C * K * H_out * W_out


@pytest.mark.parametrize(
    "wrong", [conv_counts_without_biases, conv_counts_with_bias_multiply_adds, conv_counts_without_rounding_down]
)
def test_the_conv_counts_cell_catches(wrong):
    assert first_failure("counting.conv_counts", wrong), f"{wrong.__name__} passed the conv_counts cell"


REFERENCE_COUNT_LAYERS = counting.count_layers  # kept before any cell patches the module


def count_layers_with_the_batch_dimension(model, input_shape=(3, 224, 224)):
    return [row._replace(output_shape=(1, *row.output_shape)) for row in REFERENCE_COUNT_LAYERS(model, input_shape)]


def count_layers_keeping_its_hooks(model, input_shape=(3, 224, 224)):
    rows = []
    for name, module in model.named_modules():
        if not list(module.children()):
            module.register_forward_hook(
                lambda m, i, out, name=name: rows.append(
                    counting.LayerCount(
                        name,
                        type(m).__name__,
                        tuple(out.shape[1:]),
                        sum(p.numel() for p in m.parameters(recurse=False)),
                        counting.layer_macs(m, out),
                    )
                )
            )
    mode = model.training
    with torch.no_grad():
        model.eval()(torch.zeros((1, *input_shape), device=next(model.parameters()).device))
    model.train(mode)
    return rows


def count_layers_hooking_every_module(model, input_shape=(3, 224, 224)):
    """Containers too: Sequential rows repeat their children's parameters."""
    rows, handles = [], []
    for name, module in model.named_modules():
        handles.append(
            module.register_forward_hook(
                lambda m, i, out, name=name: rows.append(
                    counting.LayerCount(
                        name,
                        type(m).__name__,
                        tuple(out.shape[1:]),
                        sum(p.numel() for p in m.parameters()),
                        counting.layer_macs(m, out),
                    )
                )
            )
        )
    try:
        with torch.no_grad():
            model(torch.zeros((1, *input_shape), device=next(model.parameters()).device))
    finally:
        for handle in handles:
            handle.remove()
    return rows


def count_layers_with_a_global_hook(model, input_shape=(3, 224, 224)):
    """A valid alternative: one global forward hook, filtered to the model's leaf modules."""
    leaves = {module: name for name, module in model.named_modules() if not list(module.children())}
    rows = []

    def hook(module, inputs, output):
        if module in leaves:
            own = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append(
                counting.LayerCount(
                    leaves[module],
                    type(module).__name__,
                    tuple(output.shape)[1:],
                    own,
                    counting.layer_macs(module, output),
                )
            )

    handle = nn.modules.module.register_module_forward_hook(hook)
    mode = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=next(iter(model.parameters())).device))
    finally:
        handle.remove()
        model.train(mode)
    return rows


def layer_macs_ignoring_groups(module, output):
    if isinstance(module, nn.Conv2d):
        return module.in_channels * module.kernel_size[0] * module.kernel_size[1] * output.numel()
    return module.in_features * output.numel() if isinstance(module, nn.Linear) else 0


def layer_macs_from_weight_sizes(module, output):
    """A valid alternative: a conv's weight holds K * C/groups * F * F numbers, each used at every position."""
    if isinstance(module, nn.Conv2d):
        return module.weight.numel() * output.shape[-2] * output.shape[-1]
    if isinstance(module, nn.Linear):
        return module.weight.numel() * output.numel() // module.out_features
    return 0


def count_parameters_from_the_state_dict(model, trainable_only=False):
    """Wrong: the state dict also holds buffers (BN's running statistics and its step counter)."""
    if trainable_only:
        return sum(p.numel() for p in model.parameters() if p.requires_grad)
    return sum(value.numel() for value in model.state_dict().values())


def count_parameters_of_weights_only(model, trainable_only=False):
    """Wrong: biases and BN shifts are parameters too."""
    return sum(p.numel() for name, p in model.named_parameters() if name.endswith("weight"))


def count_parameters_module_by_module(model, trainable_only=False):
    """A valid alternative: each module's own parameters, summed over the modules."""
    return sum(
        p.numel()
        for module in model.modules()
        for p in module.parameters(recurse=False)
        if p.requires_grad or not trainable_only
    )


@pytest.mark.parametrize("graded, wrong", [
    ("counting.count_parameters", count_parameters_from_the_state_dict),
    ("counting.count_parameters", count_parameters_of_weights_only),
    ("counting.count_layers", count_layers_with_the_batch_dimension),
    ("counting.count_layers", count_layers_keeping_its_hooks),
    ("counting.count_layers", count_layers_hooking_every_module),
    ("counting.layer_macs", layer_macs_ignoring_groups),
])  # fmt: skip
def test_the_count_layers_cell_catches(graded, wrong):
    assert first_failure(graded, wrong), f"{wrong.__name__} passed the count_layers cell"


@pytest.mark.parametrize("graded, valid", [
    ("counting.count_parameters", count_parameters_module_by_module),
    ("counting.count_layers", count_layers_with_a_global_hook),
    ("counting.layer_macs", layer_macs_from_weight_sizes),
])  # fmt: skip
def test_the_count_layers_cell_accepts(graded, valid):
    assert first_failure(graded, valid) is None


REFERENCE_TABLE = {
    "conv1": ((64, 55, 55), 23_296, 70_276_800), "conv2": ((192, 27, 27), 307_392, 223_948_800),
    "conv3": ((384, 13, 13), 663_936, 112_140_288), "conv4": ((256, 13, 13), 884_992, 149_520_384),
    "conv5": ((256, 13, 13), 590_080, 99_680_256), "fc6": ((4096,), 37_752_832, 37_748_736),
    "fc7": ((4096,), 16_781_312, 16_777_216), "fc8": ((1000,), 4_097_000, 4_096_000),
}  # fmt: skip


HAND_TABLE_SLIPS = {
    "conv2 without its biases": {"conv2": ((192, 27, 27), 307_200, 223_948_800)},
    "conv4 with channels last": {"conv4": ((13, 13, 256), 884_992, 149_520_384)},
    "fc6 multiply-adds counting the bias": {"fc6": ((4096,), 37_752_832, 37_752_832)},
    "conv3 multiply-adds for the input positions": {"conv3": ((384, 13, 13), 663_936, 663_552 * 27 * 27)},
    "fc6 from conv5's channels only": {"fc6": ((4096,), 256 * 4096 + 4096, 256 * 4096)},
    "fc8's shape as an int, not a tuple": {"fc8": (1000, 4_097_000, 4_096_000)},
}


def run_visible_part(grade_id, namespace):
    """(passed, message) of a test cell's visible part alone, as a student runs it."""
    source = cell_source(A5, grade_id).split(BEGIN_HIDDEN)[0]
    try:
        exec(compile(source, f"<{A5}:{grade_id} visible>", "exec"), {"__name__": "__cell__"} | namespace)
    except Exception as error:
        return False, f"{type(error).__name__}: {error}"
    return True, ""


def test_the_hand_table_cell_accepts_the_right_table_and_catches_slips():
    assert run_cell(A5, "alexnet_table", namespace={"alexnet_table": dict(REFERENCE_TABLE)}) == (True, "")
    for slip, change in HAND_TABLE_SLIPS.items():
        passed, _ = run_cell(A5, "alexnet_table", namespace={"alexnet_table": REFERENCE_TABLE | change})
        assert not passed, slip
    partial = {layer: row for layer, row in REFERENCE_TABLE.items() if layer.startswith("conv")}
    passed, message = run_cell(A5, "alexnet_table", namespace={"alexnet_table": partial})
    assert not passed and "fc6" in message
    # rows read back as lists (plain data handed over from the notebook) are the same table
    as_lists = {layer: [list(shape), params, macs] for layer, (shape, params, macs) in REFERENCE_TABLE.items()}
    assert run_cell(A5, "alexnet_table", namespace={"alexnet_table": as_lists}) == (True, "")


@pytest.mark.parametrize("slip", HAND_TABLE_SLIPS)
def test_the_hand_tables_visible_part_checks_the_students_rows(slip):
    """Not only the pre-filled conv1 row: a slip in any row the student wrote fails the visible test."""
    assert run_visible_part("alexnet_table", {"alexnet_table": dict(REFERENCE_TABLE)}) == (True, "")
    passed, message = run_visible_part("alexnet_table", {"alexnet_table": REFERENCE_TABLE | HAND_TABLE_SLIPS[slip]})
    assert not passed, slip
    assert "CheckError" in message


def test_the_hand_tables_visible_part_gives_no_answer_away():
    """The visible checks use the structure, not the sizes: no number of the answer rows appears in them."""
    visible = cell_source(A5, "alexnet_table").split(BEGIN_HIDDEN)[0]
    numbers = {int(token.replace("_", "")) for token in re.findall(r"\b\d[\d_]*\b", visible)}
    answers = {n for layer, (shape, params, macs) in REFERENCE_TABLE.items() if layer != "conv1"
               for n in (*shape, params, macs)} - {1000}  # fmt: skip
    assert not numbers & answers, sorted(numbers & answers)


# ---------------------------------------------------------------- training


def train_step_without_zero_grad(model, images, labels, optimizer, amp_dtype=None, scaler=None):
    with torch.autocast(images.device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
        loss = F.cross_entropy(model(images), labels)
    if scaler is None:
        loss.backward()
        optimizer.step()
    else:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    return loss.detach()


def train_step_stepping_before_backward(model, images, labels, optimizer, amp_dtype=None, scaler=None):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images), labels)
    optimizer.step()
    loss.backward()
    return loss.detach()


def train_step_returning_a_float(model, images, labels, optimizer, amp_dtype=None, scaler=None):
    return REFERENCE_TRAIN_STEP(model, images, labels, optimizer, amp_dtype, scaler).item()


def train_step_ignoring_autocast(model, images, labels, optimizer, amp_dtype=None, scaler=None):
    return REFERENCE_TRAIN_STEP(model, images, labels, optimizer, None, scaler)


def train_step_ignoring_the_scaler(model, images, labels, optimizer, amp_dtype=None, scaler=None):
    return REFERENCE_TRAIN_STEP(model, images, labels, optimizer, amp_dtype, None)


def train_step_written_differently(model, images, labels, optimizer, amp_dtype=None, scaler=None):
    """A valid alternative: gradients set to None by hand, nn.CrossEntropyLoss, autocast only when asked."""
    for parameter in model.parameters():
        parameter.grad = None
    if amp_dtype is None:
        loss = nn.CrossEntropyLoss()(model(images), labels)
    else:
        with torch.autocast(device_type=images.device.type, dtype=amp_dtype):
            loss = nn.CrossEntropyLoss()(model(images), labels)
    (loss if scaler is None else scaler.scale(loss)).backward()
    if scaler is None:
        optimizer.step()
    else:
        scaler.step(optimizer)
        scaler.update()
    return loss.detach()


def train_step_without_updating_the_scaler(model, images, labels, optimizer, amp_dtype=None, scaler=None):
    if scaler is None:
        return REFERENCE_TRAIN_STEP(model, images, labels, optimizer, amp_dtype)
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images), labels)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    return loss.detach()


def train_step_stepping_the_optimizer_past_the_scaler(model, images, labels, optimizer, amp_dtype=None, scaler=None):
    """Scales the loss but steps the optimizer itself: the gradients are never unscaled."""
    if scaler is None:
        return REFERENCE_TRAIN_STEP(model, images, labels, optimizer, amp_dtype)
    optimizer.zero_grad()
    loss = F.cross_entropy(model(images), labels)
    scaler.scale(loss).backward()
    optimizer.step()
    scaler.update()
    return loss.detach()


REFERENCE_TRAIN_STEP = training.train_step
REFERENCE_EVALUATE = training.evaluate
REFERENCE_CONFUSION_MATRIX = training.confusion_matrix


@torch.no_grad()
def evaluate_in_training_mode(model, X, y, batch_size=500, recipe=None):
    return sum(
        int((model(X[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum())
        for i in range(0, len(X), batch_size)
    ) / len(X)


@torch.no_grad()
def evaluate_dropping_the_last_batch(model, X, y, batch_size=500, recipe=None):
    model.eval()
    starts = range(0, len(X) - batch_size + 1, batch_size) if len(X) >= batch_size else [0]
    correct = sum(int((model(X[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum()) for i in starts)
    return correct / len(X)


def evaluate_counting_correct_predictions(model, X, y, batch_size=500, recipe=None):
    return REFERENCE_EVALUATE(model, X, y, batch_size, recipe) * len(X)


@torch.no_grad()
def evaluate_by_concatenating_predictions(model, X, y, batch_size=500, recipe=None):
    """A valid alternative: all predictions first, then the mean."""
    model.eval()
    predictions = []
    for images in torch.split(X, batch_size):
        if recipe is not None:
            images = images.to(recipe.device, memory_format=recipe.memory_format)
        predictions.append(model(images).argmax(dim=1).cpu())
    return (torch.cat(predictions) == y).float().mean().item()


def random_crop_flip_with_one_draw_per_batch(images, pad=4, generator=None):
    """The same mirror and shift for every image of the batch."""
    mirror = bool(torch.rand(1, generator=generator) < 0.5)
    top, left = torch.randint(0, 2 * pad + 1, (2,), generator=generator).tolist()
    padded = F.pad(images.flip(-1) if mirror else images, (pad, pad, pad, pad))
    return padded[:, :, top : top + images.shape[2], left : left + images.shape[3]].clone()


def random_crop_flip_built(images, pad=4, generator=None, flip_dim=-1, high=None, mode="constant", mirror_p=0.5):
    N, _, H, W = images.shape
    mirror = torch.rand(N, generator=generator) < mirror_p
    offsets = torch.randint(0, (2 * pad + 1) if high is None else high, (N, 2), generator=generator)
    padded = F.pad(images, (pad, pad, pad, pad), mode=mode) if pad else images
    out = torch.empty_like(images)
    for i in range(N):
        image = padded[i].flip(flip_dim) if mirror[i] else padded[i]
        top, left = offsets[i].tolist()
        out[i] = image[:, top : top + H, left : left + W]
    return out


def random_crop_flip_upside_down(images, pad=4, generator=None):
    return random_crop_flip_built(images, pad, generator, flip_dim=-2)


def random_crop_flip_shifting_one_way_only(images, pad=4, generator=None):
    """Offsets 0..pad: the image only ever moves down and right."""
    return random_crop_flip_built(images, pad, generator, high=pad + 1)


def random_crop_flip_one_offset_short(images, pad=4, generator=None):
    """torch.randint's upper bound is exclusive: 0..2 pad - 1 never shifts by the full pad one way."""
    return random_crop_flip_built(images, pad, generator, high=2 * pad)


def random_crop_flip_replicating_the_border(images, pad=4, generator=None):
    return random_crop_flip_built(images, pad, generator, mode="replicate")


def random_crop_flip_mirroring_every_image(images, pad=4, generator=None):
    return random_crop_flip_built(images, pad, generator, mirror_p=1.1)


def random_crop_flip_in_place(images, pad=4, generator=None):
    """Mirrors the chosen images in the caller's tensor before cropping."""
    mirror = torch.rand(len(images), generator=generator) < 0.5
    images[mirror] = images[mirror].flip(-1)
    return random_crop_flip_built(images, pad, generator, mirror_p=0.0)


def random_crop_flip_vectorised(images, pad=4, generator=None):
    """A valid alternative: crop first, mirror afterwards, with gathered indices instead of a loop."""
    N, C, H, W = images.shape
    padded = F.pad(images, (pad, pad, pad, pad))
    top = torch.randint(0, 2 * pad + 1, (N,), generator=generator)
    left = torch.randint(0, 2 * pad + 1, (N,), generator=generator)
    rows = (top[:, None] + torch.arange(H))[:, None, :, None]
    cols = (left[:, None] + torch.arange(W))[:, None, None, :]
    crops = padded[torch.arange(N)[:, None, None, None], torch.arange(C)[None, :, None, None], rows, cols]
    mirror = torch.rand(N, generator=generator) < 0.5
    return torch.where(mirror[:, None, None, None], crops.flip(3), crops)


def confusion_matrix_transposed(predicted, labels, num_classes):
    return REFERENCE_CONFUSION_MATRIX(labels, predicted, num_classes)


def confusion_matrix_with_fancy_index_add(predicted, labels, num_classes):
    """matrix[labels, predicted] += 1 counts a repeated (true, predicted) pair only once."""
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    matrix[torch.as_tensor(labels), torch.as_tensor(predicted)] += 1
    return matrix


def confusion_matrix_sized_by_the_classes_seen(predicted, labels, num_classes):
    size = int(max(predicted.max(), labels.max())) + 1 if len(labels) else 0
    return torch.bincount(labels * size + predicted, minlength=size * size).reshape(size, size)


def confusion_matrix_as_row_fractions(predicted, labels, num_classes):
    matrix = REFERENCE_CONFUSION_MATRIX(predicted, labels, num_classes).double()
    return matrix / matrix.sum(dim=1, keepdim=True).clamp(min=1)


def confusion_matrix_by_bincount(predicted, labels, num_classes):
    """A valid alternative: one bincount over true * K + predicted."""
    flat = torch.as_tensor(labels) * num_classes + torch.as_tensor(predicted)
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def set_trainable_without_freezing_first(model, strategy, num_top_blocks=1):
    """Only ever switches requires_grad on: whatever was trainable before stays trainable."""
    if strategy == "linear_probe":
        training.last_linear(model).requires_grad_(True)
    elif strategy == "fine_tune_top":
        for block in training.conv_blocks(model)[-num_top_blocks:]:
            for module in block:
                module.requires_grad_(True)
        model.classifier.requires_grad_(True)
    else:
        model.requires_grad_(True)
    return sorted(name for name, p in model.named_parameters() if p.requires_grad)


def set_trainable_forgetting_batch_norm(model, strategy, num_top_blocks=1):
    model.requires_grad_(strategy == "fine_tune_all")
    if strategy == "linear_probe":
        training.last_linear(model).requires_grad_(True)
    elif strategy == "fine_tune_top":
        for block in training.conv_blocks(model)[-num_top_blocks:]:
            block[0].requires_grad_(True)
        model.classifier.requires_grad_(True)
    return sorted(name for name, p in model.named_parameters() if p.requires_grad)


def set_trainable_counting_modules_not_blocks(model, strategy, num_top_blocks=1):
    """The last num_top_blocks modules of features with parameters, instead of conv blocks."""
    model.requires_grad_(strategy == "fine_tune_all")
    if strategy == "linear_probe":
        training.last_linear(model).requires_grad_(True)
    elif strategy == "fine_tune_top":
        with_parameters = [m for m in model.features if list(m.parameters())]
        for module in with_parameters[-num_top_blocks:]:
            module.requires_grad_(True)
        model.classifier.requires_grad_(True)
    return sorted(name for name, p in model.named_parameters() if p.requires_grad)


def set_trainable_by_parameter_names(model, strategy, num_top_blocks=1):
    """A valid alternative: decide from each parameter's name which block it belongs to."""
    owners = {}
    for index, block in enumerate(training.conv_blocks(model)):
        for module in block:
            owners[module] = index
    blocks = len(training.conv_blocks(model))
    head = training.last_linear(model)
    modules = dict(model.named_modules())
    for name, parameter in model.named_parameters():
        owner = modules[name.rsplit(".", 1)[0]]
        if strategy == "fine_tune_all":
            parameter.requires_grad = True
        elif strategy == "linear_probe":
            parameter.requires_grad = owner is head
        else:
            in_classifier = name.startswith("classifier.")
            parameter.requires_grad = in_classifier or owners.get(owner, -1) >= blocks - num_top_blocks
    return sorted(name for name, p in model.named_parameters() if p.requires_grad)


@pytest.mark.parametrize("graded, wrong", [
    ("training.train_step", train_step_without_zero_grad),
    ("training.train_step", train_step_stepping_before_backward),
    ("training.train_step", train_step_returning_a_float),
    ("training.train_step", train_step_ignoring_autocast),
    ("training.train_step", train_step_ignoring_the_scaler),
    ("training.train_step", train_step_without_updating_the_scaler),
    ("training.train_step", train_step_stepping_the_optimizer_past_the_scaler),
    ("training.evaluate", evaluate_in_training_mode),
    ("training.evaluate", evaluate_dropping_the_last_batch),
    ("training.evaluate", evaluate_counting_correct_predictions),
    ("training.random_crop_flip", random_crop_flip_with_one_draw_per_batch),
    ("training.random_crop_flip", random_crop_flip_upside_down),
    ("training.random_crop_flip", random_crop_flip_shifting_one_way_only),
    ("training.random_crop_flip", random_crop_flip_one_offset_short),
    ("training.random_crop_flip", random_crop_flip_replicating_the_border),
    ("training.random_crop_flip", random_crop_flip_mirroring_every_image),
    ("training.random_crop_flip", random_crop_flip_in_place),
    ("training.confusion_matrix", confusion_matrix_transposed),
    ("training.confusion_matrix", confusion_matrix_with_fancy_index_add),
    ("training.confusion_matrix", confusion_matrix_sized_by_the_classes_seen),
    ("training.confusion_matrix", confusion_matrix_as_row_fractions),
    ("training.set_trainable", set_trainable_without_freezing_first),
    ("training.set_trainable", set_trainable_forgetting_batch_norm),
    ("training.set_trainable", set_trainable_counting_modules_not_blocks),
])  # fmt: skip
def test_the_training_cells_catch(graded, wrong):
    assert first_failure(graded, wrong), f"{wrong.__name__} passed the {graded} cells"


@pytest.mark.parametrize("graded, valid", [
    ("training.train_step", train_step_written_differently),
    ("training.evaluate", evaluate_by_concatenating_predictions),
    ("training.random_crop_flip", random_crop_flip_vectorised),
    ("training.confusion_matrix", confusion_matrix_by_bincount),
    ("training.set_trainable", set_trainable_by_parameter_names),
])  # fmt: skip
def test_the_training_cells_accept(graded, valid):
    assert first_failure(graded, valid) is None


# ---------------------------------------------------------------- the checkpoint grader


def test_the_checkpoint_grader_says_clearly_when_the_file_is_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    passed, message = run_cell(A5, "checkpoint")
    assert not passed and "no a5_checkpoint.pt" in message


def test_the_checkpoint_grader_fails_an_untrained_model(tmp_path, monkeypatch):
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "a5_checkpoint.pt", models.CifarVGG([4, "M", 8, "M"], num_classes=10))
    monkeypatch.chdir(tmp_path)
    passed, message = run_cell(A5, "checkpoint")
    assert not passed and "below 0.8" in message


def test_the_checkpoint_grader_refuses_architectures_outside_the_course(tmp_path, monkeypatch):
    save_checkpoint(tmp_path / "a5_checkpoint.pt", nn.Linear(3072, 10), config={"architecture": "linear"})
    monkeypatch.chdir(tmp_path)
    passed, message = run_cell(A5, "checkpoint")
    assert not passed and "'linear' is not one of" in message


def test_the_checkpoint_grader_refuses_an_architecture_whose_layers_would_take_gigabytes(tmp_path, monkeypatch):
    """Under a megabyte of weights (float16) describes one conv layer of 12,000 channels: 47 MB of output per
    image, 12 GB for a batch of 250 in the trusted process (the red team's 110,000 channels killed it at its
    memory limit). The cost is measured on the meta device first and the checkpoint refused with a reason."""
    model = models.CifarVGG([12_000], batch_norm=False, num_classes=10).half()
    save_checkpoint(tmp_path / "a5_checkpoint.pt", model)
    monkeypatch.chdir(tmp_path)
    passed, message = run_cell(A5, "checkpoint")
    assert not passed and "MB in one layer for one 32 x 32 image" in message, message


class Payload:
    """An object whose unpickling would run code."""

    def __reduce__(self):
        return (print, ("this ran while grading a checkpoint",))


def test_the_checkpoint_grader_refuses_a_file_that_is_more_than_tensors(tmp_path, monkeypatch, capsys):
    torch.save({"format": "cs_lib-checkpoint-1", "payload": Payload()}, tmp_path / "a5_checkpoint.pt")
    monkeypatch.chdir(tmp_path)
    passed, message = run_cell(A5, "checkpoint")
    assert not passed and "cannot be read as tensors and plain values" in message and "save_checkpoint" in message
    assert "this ran" not in capsys.readouterr().out


@pytest.fixture(scope="module")
def reference_checkpoint(tmp_path_factory):
    """The reference submission's a5_checkpoint.pt and the seconds it took to make."""
    import runpy
    import time

    folder = tmp_path_factory.mktemp("reference_checkpoint")
    threads = torch.get_num_threads()
    started = time.perf_counter()
    try:
        path = runpy.run_path(str(REPO / "solutions" / "a5" / "make_reference_files.py"))["main"](folder)
    finally:
        torch.set_num_threads(threads)
    return path, time.perf_counter() - started


@pytest.mark.slow
def test_the_reference_checkpoint_is_quick_and_clears_the_threshold_with_margin(reference_checkpoint, monkeypatch):
    from cs_lib.pytorch.checkpoint import load_checkpoint, rebuild_model
    from cs_lib.pytorch.data import load_tensors
    from cs_lib.pytorch.training import evaluate

    path, seconds = reference_checkpoint
    assert path.name == "a5_checkpoint.pt" and seconds < 30
    data = load_tensors(num_training=4000, num_validation=1000, num_test=1000)
    accuracy = evaluate(rebuild_model(load_checkpoint(path), models.ARCHITECTURES), data["X_test"], data["y_test"])
    assert accuracy >= 0.88, (
        f"the reference checkpoint's test accuracy {accuracy:.3f} leaves too little margin over 0.80"
    )
    monkeypatch.chdir(path.parent)
    assert run_cell(A5, "checkpoint") == (True, "")


def _forward_ignoring_the_weights(self, x):
    return torch.zeros(len(x), self.classifier.out_features)


def _load_state_dict_ignoring_its_input(self, state_dict, strict=True, assign=False):
    return nn.modules.module._IncompatibleKeys([], [])


@pytest.mark.slow
@pytest.mark.parametrize(
    "method, lie",
    [("forward", _forward_ignoring_the_weights), ("load_state_dict", _load_state_dict_ignoring_its_input)],
    ids=["forward ignoring its weights", "load_state_dict ignoring its input"],
)
def test_good_weights_earn_nothing_unless_the_students_own_model_rebuilds_the_reference(
    reference_checkpoint, monkeypatch, method, lie
):
    """The weights are scored with the course's CifarVGG on images drawn by the test (never a split the
    sandbox has), and the points are for the student's trained model: the reference's own good checkpoint,
    handed in with a model that does not compute the reference architecture's function with weights the
    test draws, earns nothing (the red team's S1: a lying build_model got 4 of 4)."""
    path, _ = reference_checkpoint
    monkeypatch.chdir(path.parent)
    passed, message = run_cell(A5, "checkpoint", {(models.CifarVGG, method): lie})
    assert not passed and "your build_model(" in message and "weights drawn by the test" in message, message
    hidden = cell_source(A5, "checkpoint").split(BEGIN_HIDDEN)[1]
    assert 'reference_module("cs_lib.pytorch.models")' in hidden and "render(" in hidden
    assert "submitted_checkpoint(path)" in hidden  # the hidden part opens the file in the sandbox
    assert "load_tensors" not in hidden and "get_cifar10_data" not in hidden


@pytest.mark.slow
def test_the_gpu_benchmark_runs_a_smoke_test_on_the_cpu(capsys):
    import runpy

    threads = torch.get_num_threads()
    try:
        status = runpy.run_path(str(REPO / "benchmarks" / "bench_gpu.py"))["main"](["--smoke", "--student"])
    finally:
        torch.set_num_threads(threads)
    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert sum(line.startswith(("VGG-16-CIFAR", "AlexNet")) for line in lines) == 4
