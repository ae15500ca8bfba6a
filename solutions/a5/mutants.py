"""A5's mutants and alternatives: the bugs a student writes in AlexNet, VGG, the counting and the training code."""

from autograder.instructor.mutants import alternative, mutant


@mutant("cs_lib.pytorch.models.AlexNet.__init__", fails=["alexnet"], hidden_only=True)
def alexnet_conv2_pads_by_one(self, num_classes=1000, dropout=0.5):
    """pads conv2 by 1 instead of 2: the same parameters, the adaptive pool hides the smaller maps"""
    nn.Module.__init__(self)
    self.config = _config("alexnet", num_classes=num_classes, dropout=dropout)
    self.features = nn.Sequential(
        nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(64, 192, kernel_size=5, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(192, 384, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
    )
    self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
    self.classifier = nn.Sequential(
        nn.Dropout(p=dropout),
        nn.Linear(256 * 6 * 6, 4096),
        nn.ReLU(inplace=True),
        nn.Dropout(p=dropout),
        nn.Linear(4096, 4096),
        nn.ReLU(inplace=True),
        nn.Linear(4096, num_classes),
    )


@mutant("cs_lib.pytorch.models.AlexNet.forward", fails=["alexnet"], hidden_only=True)
def alexnet_skips_the_average_pool(self, x):
    """skips the adaptive average pool: right only for 224 x 224 images, where pool3 already gives 6 x 6"""
    return self.classifier(self.features(x).flatten(1))


@mutant("cs_lib.pytorch.models.make_vgg_layers", fails=["vgg"], hidden_only=True)
def batch_norm_after_relu(config, batch_norm=False, in_channels=3):
    """puts BatchNorm after the ReLU: the same parameters, not torchvision's layer order"""
    modules, channels = [], in_channels
    for item in vgg_layer_list(config):
        if item == "M":
            modules.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        modules += [nn.Conv2d(channels, item, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
        if batch_norm:
            modules.append(nn.BatchNorm2d(item))
        channels = item
    return nn.Sequential(*modules)


@mutant("cs_lib.pytorch.models.VGG.__init__", fails=["vgg"], hidden_only=True)
def vgg_classifier_without_relu(self, config="D", batch_norm=False, num_classes=1000, dropout=0.5):
    """forgets the ReLUs between the classifier's linear layers"""
    nn.Module.__init__(self)
    self.config = _config("vgg", config=config, batch_norm=batch_norm, num_classes=num_classes, dropout=dropout)
    self.features = make_vgg_layers(config, batch_norm)
    self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
    self.classifier = nn.Sequential(
        nn.Linear(512 * 7 * 7, 4096),
        nn.Dropout(p=dropout),
        nn.Linear(4096, 4096),
        nn.Dropout(p=dropout),
        nn.Linear(4096, num_classes),
    )
    init_vgg_weights(self)


@mutant("cs_lib.pytorch.models.VGG.forward", fails=["vgg"], hidden_only=True)
def vgg_skips_the_average_pool(self, x):
    """skips the adaptive average pool: right only for 224 x 224 images"""
    return self.classifier(self.features(x).flatten(1))


@mutant("cs_lib.pytorch.models.CifarVGG.__init__", fails=["cifar_vgg"])
def cifar_head_from_512(self, config="D", batch_norm=True, num_classes=10):
    """gives the head 512 inputs whatever the last conv layer has"""
    nn.Module.__init__(self)
    self.config = _config("cifar_vgg", config=config, batch_norm=batch_norm, num_classes=num_classes)
    self.features = make_vgg_layers(config, batch_norm)
    self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
    self.classifier = nn.Linear(512, num_classes)


@mutant("cs_lib.pytorch.models.CifarVGG.forward", fails=["cifar_vgg"], hidden_only=True)
def cifar_max_instead_of_average(self, x):
    """takes each channel's maximum instead of its average"""
    return self.classifier(self.features(x).amax(dim=(2, 3)))


@mutant("cs_lib.pytorch.counting.conv_counts", fails=["conv_counts"])
def conv_counts_without_biases(C, H, W, K, F, stride=1, pad=0):
    """counts the weights but not the K biases"""
    H_out, W_out = conv_output_size(H, F, stride, pad), conv_output_size(W, F, stride, pad)
    return (K, H_out, W_out), F * F * C * K, F * F * C * K * H_out * W_out


@mutant("cs_lib.pytorch.counting.count_parameters", fails=["count_layers"], hidden_only=True)
def counts_the_state_dict(model, trainable_only=False):
    """counts the state_dict (BN's running statistics too) and ignores trainable_only"""
    return sum(value.numel() for value in model.state_dict().values())


@mutant("cs_lib.pytorch.counting.layer_macs", fails=["count_layers"], hidden_only=True)
def macs_ignore_groups(module, output):
    """counts all C input channels for each output of a grouped convolution"""
    if isinstance(module, nn.Conv2d):
        return module.in_channels * module.kernel_size[0] * module.kernel_size[1] * output.numel()
    if isinstance(module, nn.Linear):
        return module.in_features * output.numel()
    return 0


@mutant("cs_lib.pytorch.counting.count_layers", fails=["count_layers"], hidden_only=True)
def hooks_stay_after_an_error(model, input_shape=(3, 224, 224)):
    """removes its hooks only when the forward pass succeeds (no finally)"""
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    rows, handles, was_training = [], [], model.training

    def record(name):
        def hook(module, inputs, output):
            params = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append(
                LayerCount(name, type(module).__name__, tuple(output.shape[1:]), params, layer_macs(module, output))
            )

        return hook

    for name, module in model.named_modules():
        if not list(module.children()):
            handles.append(module.register_forward_hook(record(name)))
    model.eval()
    with torch.no_grad():
        model(torch.zeros((1, *input_shape), device=device))
    for handle in handles:
        handle.remove()
    model.train(was_training)
    return rows


@mutant("notebook:alexnet_table", fails=["alexnet_table"], hidden_only=True)
def conv2_after_the_second_pool(alexnet_table):
    """works conv2 out on pool2's 13 x 13 maps instead of pool1's 27 x 27 (consistent with itself)"""
    table = dict(alexnet_table)
    weights = 5 * 5 * 64 * 192
    table["conv2"] = ((192, 13, 13), weights + 192, weights * 13 * 13)
    return table


@mutant("cs_lib.pytorch.training.train_step", fails=["train_step"])
def zero_grad_after_backward(model, images, labels, optimizer, amp_dtype=None, scaler=None):
    """clears the gradients after backward instead of before: the step has nothing to follow"""
    with torch.autocast(images.device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
        loss = F.cross_entropy(model(images), labels)
    if scaler is None:
        loss.backward()
        optimizer.zero_grad(set_to_none=True)
        optimizer.step()
    else:
        scaler.scale(loss).backward()
        optimizer.zero_grad(set_to_none=True)
        scaler.step(optimizer)
        scaler.update()
    return loss.detach()


@mutant("cs_lib.pytorch.training.evaluate", fails=["evaluate"])
def evaluates_in_training_mode(model, X, y, batch_size=500, recipe=None):
    """forgets model.eval(): dropout stays on and BN uses each batch's statistics"""
    correct = 0
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            images, labels = X[start : start + batch_size], y[start : start + batch_size]
            if recipe is not None:
                images, labels = recipe.batch(images, labels)
                with recipe.autocast():
                    scores = model(images)
            else:
                scores = model(images)
            correct += (scores.argmax(dim=1) == labels).sum().item()
    return correct / len(X)


@mutant("cs_lib.pytorch.training.random_crop_flip", fails=["random_crop_flip"])
def flips_upside_down(images, pad=4, generator=None):
    """mirrors along the height instead of the width"""
    N, _, H, W = images.shape
    mirror = torch.rand(N, generator=generator) < 0.5
    offsets = torch.randint(0, 2 * pad + 1, (N, 2), generator=generator)
    padded = F.pad(images, (pad, pad, pad, pad))
    out = torch.empty_like(images)
    for i in range(N):
        image = padded[i].flip(-2) if mirror[i] else padded[i]
        top, left = offsets[i].tolist()
        out[i] = image[:, top : top + H, left : left + W]
    return out


@mutant("cs_lib.pytorch.training.confusion_matrix", fails=["confusion_matrix"])
def confusion_transposed(predicted, labels, num_classes):
    """counts [predicted, true] instead of [true, predicted]"""
    predicted, labels = torch.as_tensor(predicted).cpu(), torch.as_tensor(labels).cpu()
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    for true_class, predicted_class in zip(labels.tolist(), predicted.tolist()):
        matrix[predicted_class, true_class] += 1
    return matrix


@mutant("cs_lib.pytorch.training.set_trainable", fails=["set_trainable"])
def fine_tune_top_freezes_the_classifier(model, strategy, num_top_blocks=1):
    """fine_tune_top unfreezes the top conv blocks but leaves the classifier frozen"""
    blocks = conv_blocks(model)
    model.requires_grad_(strategy == "fine_tune_all")
    if strategy == "linear_probe":
        last_linear(model).requires_grad_(True)
    elif strategy == "fine_tune_top":
        for block in blocks[-num_top_blocks:]:
            for module in block:
                module.requires_grad_(True)
    return sorted(name for name, parameter in model.named_parameters() if parameter.requires_grad)


@mutant("file:a5_checkpoint.pt", fails=["checkpoint"])
def truncated_checkpoint(data):
    """a checkpoint cut off half way (the notebook stopped while saving)"""
    return data[: len(data) // 2]


@alternative("cs_lib.pytorch.models.make_vgg_layers")
def vgg_layers_by_blocks(config, batch_norm=False, in_channels=3):
    """builds each conv block as a list, then chains them"""
    layers = vgg_layer_list(config)
    channels = [in_channels] + [item for item in layers if item != "M"]
    blocks, index = [], 0
    for item in layers:
        if item == "M":
            blocks.append([nn.MaxPool2d(2, 2)])
        else:
            norm = [nn.BatchNorm2d(item)] if batch_norm else []
            blocks.append([nn.Conv2d(channels[index], item, 3, 1, 1), *norm, nn.ReLU(inplace=True)])
            index += 1
    return nn.Sequential(*(module for block in blocks for module in block))


@alternative("cs_lib.pytorch.training.confusion_matrix")
def confusion_by_bincount(predicted, labels, num_classes):
    """one bincount over true * num_classes + predicted"""
    predicted, labels = torch.as_tensor(predicted).cpu().long(), torch.as_tensor(labels).cpu().long()
    if predicted.shape != labels.shape or predicted.dim() != 1:
        raise ValueError(f"predicted and labels must be (N,) tensors of the same length, got {tuple(predicted.shape)}")
    for name, values in (("predicted", predicted), ("labels", labels)):
        if len(values) and not (0 <= int(values.min()) and int(values.max()) < num_classes):
            raise ValueError(f"{name} holds classes outside 0..{num_classes - 1}")
    counts = torch.bincount(labels * num_classes + predicted, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).to(torch.int64)
