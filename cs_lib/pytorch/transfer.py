"""A pretrained feature extractor for transfer learning (provided): torchvision's when it can be had.

    backbone, reason = imagenet_backbone("alexnet")   # (model, "") or (None, why not)

torchvision is optional for the course. When it is installed and its ImageNet weights can be
downloaded (or are cached), imagenet_backbone returns that model with an input stage prepended to
its features, which turns the course's 32 x 32 images into what ImageNet models expect (224 x 224,
ImageNet's per-channel mean and standard deviation). Otherwise it says why not, and the notebook
falls back to pretraining a small VGG on part of the embedded dataset.
"""

import importlib.util

import torch
import torch.nn.functional as F
from torch import nn

from cs_lib.pytorch.data import PIXEL_MEAN, PIXEL_STD

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
WEIGHTS = {"alexnet": "AlexNet_Weights", "vgg11_bn": "VGG11_BN_Weights", "vgg16": "VGG16_Weights"}


class ImageNetInput(nn.Module):
    """Course-scaled images (N, 3, H, W) -> (N, 3, size, size), bilinearly resized and ImageNet-normalised."""

    def __init__(self, size=224):
        super().__init__()
        self.size = size
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x):
        pixels = x * PIXEL_STD + PIXEL_MEAN  # back to 0..1
        pixels = F.interpolate(pixels, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return (pixels - self.mean) / self.std


def imagenet_backbone(name="alexnet"):
    """(model, "") with torchvision's ImageNet weights and an ImageNetInput stage first in model.features,
    or (None, reason) when torchvision is missing or the weights cannot be downloaded."""
    if name not in WEIGHTS:
        raise ValueError(f"unknown backbone {name!r}; choose one of {sorted(WEIGHTS)}")
    if importlib.util.find_spec("torchvision") is None:
        return None, "torchvision is not installed (it is optional for this course)"
    import torchvision

    try:
        weights = getattr(torchvision.models, WEIGHTS[name]).DEFAULT
        model = getattr(torchvision.models, name)(weights=weights)
    except Exception as error:  # no network, a proxy, a full disk: any of these means "use the fallback"
        return None, f"torchvision's {name} weights could not be loaded ({type(error).__name__}: {error})"
    model.features = nn.Sequential(ImageNetInput(), *model.features)
    return model, ""
