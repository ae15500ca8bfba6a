"""AlexNet and VGG in PyTorch, as in the lecture and in torchvision (same module names and state_dict keys).

    model = AlexNet(num_classes=1000)              # 61,100,840 parameters
    model = VGG("D", batch_norm=False)             # VGG-16: 138,357,544 parameters
    model = CifarVGG("D", num_classes=10)          # VGG-16 for 32x32 inputs, with BN: 14,728,266 parameters
    model = build_model({"architecture": "cifar_vgg", "kwargs": {"config": [16, "M"], "num_classes": 10}})

Shapes use the lecture's letters: a batch of N images with C channels of H x W pixels is (N, C, H, W);
a conv layer with K filters of size F x F, stride S and padding P gives
H' = (H + 2P - F) // S + 1 and has F*F*C*K + K parameters.
Every model records the arguments it was built with in ``model.config``, a plain dict that a
checkpoint stores so that the model can be rebuilt (see cs_lib.pytorch.checkpoint).
"""

from torch import nn

# The paper's Table 1 (Simonyan & Zisserman, 2015): output channels of each 3x3 conv (stride 1, pad 1),
# "M" for a 2x2 max pool with stride 2. Configuration C (with 1x1 convs) is not used here.
VGG_CONFIGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}
VGG_NAMES = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}


def _config(architecture, **kwargs):
    return {"architecture": architecture, "kwargs": kwargs}


def vgg_layer_list(config):
    """The configuration as a list of ints and "M": a letter of VGG_CONFIGS or a list of one's own."""
    if isinstance(config, str):
        if config not in VGG_CONFIGS:
            raise ValueError(f"unknown VGG configuration {config!r}; the paper's are {sorted(VGG_CONFIGS)}")
        return list(VGG_CONFIGS[config])
    layers = list(config)
    for item in layers:
        if item != "M" and not (isinstance(item, int) and item > 0):
            raise ValueError(f"a VGG configuration holds positive channel counts and 'M', got {item!r}")
    return layers


def init_vgg_weights(model):
    """torchvision's initialisation: He (fan_out) for convs, N(0, 0.01) for linear layers, BN at identity."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0, 0.01)
            nn.init.zeros_(module.bias)


class AlexNet(nn.Module):
    """AlexNet as in the lecture's PyTorch code (torchvision's single-GPU variant).

    features: conv 64 11x11 stride 4 pad 2, ReLU, maxpool 3x3 stride 2,
              conv 192 5x5 pad 2, ReLU, maxpool 3x3 stride 2,
              conv 384 3x3 pad 1, ReLU, conv 256 3x3 pad 1, ReLU, conv 256 3x3 pad 1, ReLU, maxpool 3x3 stride 2
    avgpool:  AdaptiveAvgPool2d((6, 6)), so the classifier always sees 256 x 6 x 6 = 9216 numbers
    classifier: Dropout, Linear(9216, 4096), ReLU, Dropout, Linear(4096, 4096), ReLU, Linear(4096, num_classes)

    Input (N, 3, H, W), output (N, num_classes) scores. The image must be large enough for the last
    max pool to find a 3 x 3 window (the notebook asks how large). For 224 x 224 the feature maps
    are 55, 27, 27, 13, 13, 13, 13, 6 pixels wide. 61,100,840 parameters for 1000 classes.
    Use nn.ReLU(inplace=True) and the module names features / avgpool / classifier, so that
    torchvision's pretrained state_dict loads into this model.
    """

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.config = _config("alexnet", num_classes=num_classes, dropout=dropout)
        ### BEGIN SOLUTION
        # Stub: build self.features (nn.Sequential of the 13 modules above), self.avgpool and self.classifier (7 modules)
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
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
        ### END SOLUTION

    def forward(self, x):
        """x (N, 3, H, W) -> scores (N, num_classes): features, avgpool, flatten to (N, 9216), classifier."""
        ### BEGIN SOLUTION
        # Stub: run features, avgpool, flatten all but the batch dimension and the classifier; return the scores
        x = self.features(x)
        x = self.avgpool(x)
        x = x.flatten(1)
        return self.classifier(x)
        ### END SOLUTION


def make_vgg_layers(config, batch_norm=False, in_channels=3):
    """The conv part of a VGG net as one nn.Sequential.

    config: a letter of VGG_CONFIGS or a list like [64, "M", 128, "M"]. Each number K adds
    Conv2d(C, K, kernel_size=3, padding=1) (+ BatchNorm2d(K) when batch_norm) + ReLU(inplace=True),
    which keeps H x W and has 3*3*C*K + K parameters (+ 2K for BN); each "M" adds
    MaxPool2d(kernel_size=2, stride=2), which halves H and W. C starts at in_channels.
    """
    layers = vgg_layer_list(config)
    modules = []
    ### BEGIN SOLUTION
    # Stub: append the modules of each entry of layers to modules (conv [+ BN] + ReLU, or max pool)
    channels = in_channels
    for item in layers:
        if item == "M":
            modules.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        modules.append(nn.Conv2d(channels, item, kernel_size=3, padding=1))
        if batch_norm:
            modules.append(nn.BatchNorm2d(item))
        modules.append(nn.ReLU(inplace=True))
        channels = item
    ### END SOLUTION
    return nn.Sequential(*modules)


class VGG(nn.Module):
    """VGG-11/13/16/19 (configurations A, B, D, E) for 224 x 224 ImageNet images, as in torchvision.

    features:   make_vgg_layers(config, batch_norm): (N, 3, 224, 224) -> (N, 512, 7, 7)
    avgpool:    AdaptiveAvgPool2d((7, 7)), so any input of at least 32 x 32 gives (N, 512, 7, 7)
    classifier: Linear(25088, 4096), ReLU, Dropout, Linear(4096, 4096), ReLU, Dropout, Linear(4096, num_classes)

    Parameters for 1000 classes: A 132,863,336, B 133,047,848, D 138,357,544, E 143,667,240
    (with BN: 132,868,840, 133,053,736, 138,365,992, 143,678,248).
    """

    def __init__(self, config="D", batch_norm=False, num_classes=1000, dropout=0.5):
        super().__init__()
        self.config = _config("vgg", config=config, batch_norm=batch_norm, num_classes=num_classes, dropout=dropout)
        ### BEGIN SOLUTION
        # Stub: build self.features (make_vgg_layers), self.avgpool ((7, 7)) and self.classifier (7 modules)
        self.features = make_vgg_layers(config, batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        ### END SOLUTION
        init_vgg_weights(self)

    def forward(self, x):
        """x (N, 3, H, W) -> scores (N, num_classes): features, avgpool, flatten to (N, 25088), classifier."""
        ### BEGIN SOLUTION
        # Stub: run features, avgpool, flatten all but the batch dimension and the classifier; return the scores
        x = self.features(x)
        x = self.avgpool(x)
        x = x.flatten(1)
        return self.classifier(x)
        ### END SOLUTION


class CifarVGG(nn.Module):
    """VGG for 32 x 32 images: the conv layers of a VGG configuration and a single linear head.

    features:   make_vgg_layers(config, batch_norm): (N, 3, 32, 32) -> (N, K_last, 32 / 2^m, 32 / 2^m)
                for m max pools (m = 5 in the paper's configurations: 1 x 1)
    avgpool:    AdaptiveAvgPool2d((1, 1)), the global average of each channel -> (N, K_last, 1, 1)
    classifier: Linear(K_last, num_classes), one linear layer instead of VGG's three

    config may be a paper's letter or a narrower list such as [32, "M", 64, "M", 128, "M"].
    CifarVGG("D", batch_norm=True, num_classes=10) has 14,728,266 parameters.
    """

    def __init__(self, config="D", batch_norm=True, num_classes=10):
        super().__init__()
        self.config = _config("cifar_vgg", config=config, batch_norm=batch_norm, num_classes=num_classes)
        ### BEGIN SOLUTION
        # Stub: build self.features (make_vgg_layers), self.avgpool ((1, 1)) and self.classifier (one nn.Linear from K_last, the last number in vgg_layer_list(config))
        last_channels = [item for item in vgg_layer_list(config) if item != "M"][-1]
        self.features = make_vgg_layers(config, batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Linear(last_channels, num_classes)
        ### END SOLUTION

    def forward(self, x):
        """x (N, 3, H, W) -> scores (N, num_classes): features, avgpool, flatten to (N, K_last), classifier."""
        ### BEGIN SOLUTION
        # Stub: run features, avgpool, flatten all but the batch dimension and the classifier; return the scores
        x = self.features(x)
        x = self.avgpool(x)
        x = x.flatten(1)
        return self.classifier(x)
        ### END SOLUTION


ARCHITECTURES = {"alexnet": AlexNet, "vgg": VGG, "cifar_vgg": CifarVGG}


def build_model(config):
    """A model from its config {"architecture": name, "kwargs": {...}}, as ``model.config`` and checkpoints hold it.

    Only the architectures of this module can be built (names in ARCHITECTURES).
    """
    if not isinstance(config, dict) or not isinstance(config.get("architecture"), str):
        raise ValueError(f"a model config is a dict {{'architecture': name, 'kwargs': {{...}}}}, got {config!r}")
    name = config["architecture"]
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; this module builds {sorted(ARCHITECTURES)}")
    kwargs = config.get("kwargs", {})
    if not isinstance(kwargs, dict):
        raise ValueError(f"the config's kwargs must be a dict, got {type(kwargs).__name__}")
    return ARCHITECTURES[name](**kwargs)
