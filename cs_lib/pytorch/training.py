# ruff: noqa: F401, F841
"""Training and evaluation in PyTorch, and freezing layers for transfer learning.

    set_trainable(model, "linear_probe")                 # only the last linear layer learns
    images = random_crop_flip(images, pad=4)             # data augmentation: the labels stay the same
    loss = train_step(model, images, labels, optimizer)  # one SGD step; loss is a 0-d tensor
    accuracy = evaluate(model, X_val, y_val)             # fraction of correct predictions
    matrix = confusion_matrix(predicted, y_val, 10)      # [true class, predicted class] counts
    history = fit(model, train_loader, optimizer, epochs=5, val_data=(X_val, y_val), recipe=recipe)

Models follow torchvision's layout: ``model.features`` (an nn.Sequential of convs, BN, ReLU and
pooling) and ``model.classifier`` (one nn.Linear, or an nn.Sequential whose last linear layer makes
the class scores). The lecture's transfer-learning table:

|                  | similar dataset                      | very different dataset                 |
|------------------|--------------------------------------|----------------------------------------|
| very little data | linear classifier on the top layer   | linear classifier from earlier layers  |
| quite a lot      | fine-tune a few layers               | fine-tune a larger number of layers    |
"""

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

STRATEGIES = ("linear_probe", "fine_tune_top", "fine_tune_all")


def last_linear(model):
    """The linear layer that makes the class scores: model.classifier or its last nn.Linear."""
    head = getattr(model, "classifier", None)
    if isinstance(head, nn.Linear):
        return head
    linears = [module for module in head.modules() if isinstance(module, nn.Linear)] if head is not None else []
    if not linears:
        raise ValueError(f"{type(model).__name__} has no classifier with a linear layer")
    return linears[-1]


def replace_head(model, num_classes):
    """Swap the last linear layer for a new, randomly initialised Linear(D, num_classes); return the model."""
    old = last_linear(model)
    new = nn.Linear(old.in_features, num_classes).to(old.weight.device)
    if model.classifier is old:
        model.classifier = new
    else:
        parent = model.classifier
        name = next(name for name, module in parent.named_children() if module is old)
        setattr(parent, name, new)
    return model


def conv_blocks(model):
    """The conv blocks of model.features, first to last: [[conv], [conv, bn], ...] (a conv and its BN)."""
    blocks = []
    for module in model.features:
        if isinstance(module, nn.Conv2d):
            blocks.append([module])
        elif isinstance(module, nn.BatchNorm2d) and blocks:
            blocks[-1].append(module)
    return blocks


def set_trainable(model, strategy, num_top_blocks=1):
    """Choose which parameters learn (requires_grad) for a transfer-learning strategy; return their names.

    strategy:
      "linear_probe":  only the last linear layer (weight and bias) learns: a linear classifier on the
                       frozen features (very little data, similar dataset);
      "fine_tune_top": the last num_top_blocks conv blocks of conv_blocks(model) (each conv with its BN)
                       and the whole classifier learn; everything below stays frozen (more data);
      "fine_tune_all": every parameter learns.
    Returns the sorted names (as in model.named_parameters()) of the parameters that require grad.
    BatchNorm layers whose parameters are frozen should also keep their running statistics: see
    train_mode(), which fit() uses instead of model.train().
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {STRATEGIES}")
    blocks = conv_blocks(model)
    if strategy == "fine_tune_top" and not 1 <= num_top_blocks <= len(blocks):
        raise ValueError(f"num_top_blocks must be between 1 and {len(blocks)} (the conv blocks), got {num_top_blocks}")
    # TODO: set requires_grad on every parameter as the strategy says; return the sorted names of the trainable ones
    raise NotImplementedError(
        "set_trainable: set requires_grad on every parameter as the strategy says; return the sorted names of the trainable ones"
    )


def train_mode(model):
    """model.train(), except that BatchNorm layers with frozen parameters stay in eval mode.

    A frozen BN layer should normalise with the statistics it was trained with: in train mode it
    would normalise with each batch's statistics and overwrite its running averages.
    """
    model.train()
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            parameters = list(module.parameters())
            if parameters and not any(parameter.requires_grad for parameter in parameters):
                module.eval()
    return model


def random_crop_flip(images, pad=4, generator=None):
    """Data augmentation for a batch: a random horizontal flip and a random crop of every image.

    images (N, C, H, W) -> a new (N, C, H, W) tensor; the input is left unchanged. Every image gets
    its own random choices: it is mirrored left-right with probability 1/2, and it is shifted by up
    to pad pixels in each direction, as if it were padded with pad zeros on every side and an H x W
    window were cut out of the padded image at a uniformly random position (all (2 pad + 1)^2
    positions equally likely). Pixels shifted in from outside the image are 0.
    Draw every random number from generator (a torch.Generator on the CPU; None uses torch's global
    one), so that a loader seeded the same way gives the same batches again.
    """
    if images.dim() != 4:
        raise ValueError(f"random_crop_flip expects a batch (N, C, H, W), got shape {tuple(images.shape)}")
    if pad < 0:
        raise ValueError(f"pad must be at least 0, got {pad}")
    # TODO: give every image its own random left-right mirror (probability 1/2) and random shift of up to pad pixels, zeros filling in; return the new batch
    raise NotImplementedError(
        "random_crop_flip: give every image its own random left-right mirror (probability 1/2) and random shift of up to pad pixels, zeros filling in; return the new batch"
    )


def train_step(model, images, labels, optimizer, amp_dtype=None, scaler=None):
    """One step of mini-batch gradient descent on the softmax (cross-entropy) loss.

    images (N, C, H, W) and labels (N,) are on the model's device; the model is in training mode.
    The forward pass and the loss run under torch.autocast(device type, dtype=amp_dtype) when amp_dtype
    is given (bfloat16 or float16). Clear the old gradients first (optimizer.zero_grad()), then
    backward and optimizer.step(). With a GradScaler (float16), scale the loss before backward and let
    the scaler step the optimizer and update its scale.
    Returns the mean loss over the batch as a 0-d tensor detached from the graph: no .item() here,
    which would make the GPU wait for every step to finish.
    """
    # TODO: take one step of the lecture's training loop on the softmax loss (autocast and scaler when given); return the batch's mean loss, detached
    raise NotImplementedError(
        "train_step: take one step of the lecture's training loop on the softmax loss (autocast and scaler when given); return the batch's mean loss, detached"
    )


@torch.no_grad()
def evaluate(model, X, y, batch_size=500, recipe=None):
    """Classification accuracy of model on X (N, C, H, W) with labels y (N,): a float in [0, 1].

    Run the model in eval mode (dropout off, BatchNorm with its running statistics) without
    building a graph, batch_size images at a time (the last batch may be smaller); with a recipe,
    move each batch to its device and run under its autocast. The model is left in eval mode.
    """
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} images but y has {len(y)} labels")
    # TODO: predict the class of every image in eval mode, batch by batch; return the fraction predicted correctly
    raise NotImplementedError(
        "evaluate: predict the class of every image in eval mode, batch by batch; return the fraction predicted correctly"
    )


def confusion_matrix(predicted, labels, num_classes):
    """How often each class is predicted as each class: an int64 (num_classes, num_classes) tensor on the CPU.

    predicted, labels: (N,) integer tensors of class indices (on any device). Entry [i, j] counts the
    examples of true class i that were predicted as class j, so the diagonal holds the correct
    predictions, row i sums to the number of examples of class i, and trace / N is the accuracy.
    """
    predicted, labels = torch.as_tensor(predicted).cpu(), torch.as_tensor(labels).cpu()
    if predicted.shape != labels.shape or predicted.dim() != 1:
        raise ValueError(
            f"predicted and labels must be (N,) tensors of the same length, got {tuple(predicted.shape)} "
            f"and {tuple(labels.shape)}"
        )
    for name, values in (("predicted", predicted), ("labels", labels)):
        if len(values) and not (0 <= int(values.min()) and int(values.max()) < num_classes):
            raise ValueError(f"{name} holds classes outside 0..{num_classes - 1}: {sorted(set(values.tolist()))}")
    # TODO: count every (true class, predicted class) pair into a (num_classes, num_classes) int64 tensor; return it
    raise NotImplementedError(
        "confusion_matrix: count every (true class, predicted class) pair into a (num_classes, num_classes) int64 tensor; return it"
    )


def fit(model, loader, optimizer, epochs, recipe=None, scheduler=None, val_data=None, checkpoint=None, progress=True):
    """Train for epochs passes over loader; return the history of the run, a dict of lists:

    "loss" and "lr": the training loss of every step and the learning rate it used; "epoch_loss": the
    mean training loss of each epoch; "val_acc": the validation accuracy after each epoch (with
    val_data); "epochs": the number of epochs run.
    recipe: a cs_lib.pytorch.device.Recipe (device, autocast, channels_last); None trains on the CPU in
    float32. scheduler steps once per batch. val_data (X_val, y_val) is evaluated after every epoch.
    checkpoint: a function called as checkpoint(model, optimizer, epoch, history) after every epoch
    (e.g. to save one). A tqdm bar shows the running loss; losses are read back from the device only
    every few steps, so the GPU is not made to wait.
    """
    scaler = recipe.grad_scaler() if recipe is not None else None
    amp_dtype = recipe.amp_dtype if recipe is not None else None
    history = {"loss": [], "lr": [], "epoch_loss": [], "val_acc": [], "epochs": 0}
    for epoch in range(epochs):
        train_mode(model)
        pending = []
        first_step = len(history["loss"])
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{epochs}", leave=False, disable=not progress)
        for step, (images, labels) in enumerate(bar):
            if recipe is not None:
                images, labels = recipe.batch(images, labels)
            history["lr"].append(optimizer.param_groups[0]["lr"])
            pending.append(train_step(model, images, labels, optimizer, amp_dtype=amp_dtype, scaler=scaler))
            if scheduler is not None:
                scheduler.step()
            if len(pending) == 20 or step == len(loader) - 1:
                losses = torch.stack(pending).float().tolist()
                history["loss"] += losses
                pending = []
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
        epoch_losses = history["loss"][first_step:]
        history["epoch_loss"].append(sum(epoch_losses) / max(1, len(epoch_losses)))
        if val_data is not None:
            history["val_acc"].append(evaluate(model, *val_data, recipe=recipe))
        history["epochs"] += 1
        if checkpoint is not None:
            checkpoint(model, optimizer, epoch, history)
    return history
