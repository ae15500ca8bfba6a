"""Where and in which precision to train (provided): device, autocast dtype, memory format.

    recipe = training_recipe()             # cuda: bf16 (or fp16 + GradScaler), channels_last; cpu: fp32, channels_last
    model = recipe.prepare(model)          # moved to the device, channels_last when the recipe says so
    images, labels = recipe.batch(images, labels)
    with recipe.autocast():
        scores = model(images)

The course's GPU recipe: bfloat16 autocast where the GPU supports it (Ampere and newer: the same
exponent range as float32, so no loss scaling), float16 autocast with a GradScaler on older GPUs,
and channels_last memory layout, which lets cuDNN use tensor-core convolution kernels without
transposes. On the CPU the recipe stays float32 (CPU bfloat16 is only fast on processors with AMX
units, which most laptops and grading machines lack) but uses channels_last too: oneDNN's CPU
convolutions are faster in that layout.
"""

import contextlib
from dataclasses import dataclass

import torch

DEVICES = ("cuda", "mps", "cpu")


def select_device(prefer="auto"):
    """torch.device: the first of cuda, mps, cpu that is available (or the one named by prefer)."""
    if prefer not in ("auto", *DEVICES):
        raise ValueError(f"prefer must be 'auto' or one of {DEVICES}, got {prefer!r}")
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if prefer != "auto":
        if not available[prefer]:
            raise ValueError(
                f"device {prefer!r} is not available here; available: {[d for d in DEVICES if available[d]]}"
            )
        return torch.device(prefer)
    return torch.device(next(name for name in DEVICES if available[name]))


def autocast_dtype(device):
    """The autocast dtype for training on device: bfloat16 or float16 on a GPU, None (float32) on the CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return None


@dataclass
class Recipe:
    """How to run a model: device, autocast dtype (None for float32), channels_last and torch.compile."""

    device: torch.device
    amp_dtype: torch.dtype = None
    channels_last: bool = False
    compile: bool = False

    @property
    def memory_format(self):
        return torch.channels_last if self.channels_last else torch.contiguous_format

    def autocast(self):
        """Context manager: autocast to amp_dtype on the recipe's device, or nothing for float32."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def grad_scaler(self):
        """A GradScaler for float16 training (its gradients underflow without one), else None."""
        if self.amp_dtype == torch.float16:
            return torch.amp.GradScaler(self.device.type)
        return None

    def prepare(self, model):
        """The model on the device in the recipe's memory format (compiled when compile is set)."""
        model = model.to(self.device, memory_format=self.memory_format)
        return torch.compile(model) if self.compile else model

    def batch(self, images, labels):
        """A batch moved to the device (asynchronously from pinned memory) in the recipe's memory format."""
        images = images.to(self.device, memory_format=self.memory_format, non_blocking=True)
        return images, labels.to(self.device, non_blocking=True)

    def __str__(self):
        precision = "float32" if self.amp_dtype is None else f"{str(self.amp_dtype).removeprefix('torch.')} autocast"
        layout = "channels_last" if self.channels_last else "contiguous (NCHW)"
        return f"{self.device.type}, {precision}, {layout}{', torch.compile' if self.compile else ''}"


def training_recipe(device="auto", amp=True, channels_last=None, compile=False):
    """The course's recipe for device ("auto", a name or a torch.device): autocast when amp (GPUs only)
    and channels_last (CUDA and CPU; Apple's mps supports it poorly), optionally torch.compile."""
    device = select_device(device) if device == "auto" else torch.device(device)
    return Recipe(
        device=device,
        amp_dtype=autocast_dtype(device) if amp else None,
        channels_last=device.type != "mps" if channels_last is None else channels_last,
        compile=compile,
    )
