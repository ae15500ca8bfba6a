"""Saving and restoring models (provided): a checkpoint holds a plain config that rebuilds its model.

    save_checkpoint("a5_checkpoint.pt", model, val_acc=0.91)          # model.config says how to rebuild it
    model = rebuild_model(load_checkpoint("a5_checkpoint.pt"), ARCHITECTURES)   # on the CPU, eval mode
    epoch = restore_training("run.pt", model, optimizer)             # resume where a run stopped

A checkpoint is a dict of tensors and plain Python values only (no pickled classes or functions),
written by torch.save and read with torch.load(weights_only=True), which refuses anything else: a
checkpoint from someone else cannot run code on the machine that loads it. The model is rebuilt from
{"architecture": name, "kwargs": {...}} by one of the constructors the caller allows.
"""

from pathlib import Path

import torch

FORMAT = "cs_lib-checkpoint-1"
PLAIN_TYPES = (bool, int, float, str, type(None))


def _check_plain(value, where):
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where}: keys must be strings, got {key!r}")
            _check_plain(item, f"{where}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_plain(item, f"{where}[{index}]")
    elif not isinstance(value, PLAIN_TYPES):
        raise ValueError(f"{where} is a {type(value).__name__}; a checkpoint stores only plain values")


def _unwrapped(model):
    """The module itself for a torch.compile'd model (whose state_dict keys carry an _orig_mod. prefix)."""
    return getattr(model, "_orig_mod", model)


def save_checkpoint(path, model, config=None, optimizer=None, epoch=None, **metadata):
    """Write model's weights (moved to the CPU), its config and plain metadata to path; return the path.

    config defaults to model.config ({"architecture": ..., "kwargs": {...}}, set by the course's models).
    With an optimizer its state is saved too, so that restore_training() can resume.
    """
    model = _unwrapped(model)
    config = getattr(model, "config", None) if config is None else config
    if config is None:
        raise ValueError(f"{type(model).__name__} has no .config; pass config={{'architecture': ..., 'kwargs': ...}}")
    _check_plain(config, "config")
    _check_plain(metadata, "metadata")
    checkpoint = {
        "format": FORMAT,
        "config": config,
        "state_dict": {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()},
        "epoch": epoch,
        "metadata": metadata,
    }
    if optimizer is not None:
        checkpoint["optimizer"] = optimizer.state_dict()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    torch.save(checkpoint, temporary)
    temporary.replace(path)  # a run stopped halfway never leaves a truncated checkpoint behind
    return path


def load_checkpoint(path, map_location="cpu"):
    """The checkpoint dict saved by save_checkpoint, its tensors on map_location (the CPU by default)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path.resolve()}: train a model and save it with save_checkpoint()")
    checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise ValueError(f"{path} is not a checkpoint written by cs_lib.pytorch.checkpoint.save_checkpoint")
    return checkpoint


def rebuild_model(checkpoint, architectures):
    """The checkpoint's model, rebuilt by architectures[name](**kwargs), with its weights, in eval mode.

    architectures maps the allowed names to constructors (e.g. cs_lib.pytorch.models.ARCHITECTURES);
    any other name is refused.
    """
    config = checkpoint["config"]
    name = config.get("architecture") if isinstance(config, dict) else None
    if name not in architectures:
        raise ValueError(f"checkpoint architecture {name!r} is not one of {sorted(architectures)}")
    kwargs = config.get("kwargs", {})
    _check_plain(kwargs, "config kwargs")
    model = architectures[name](**kwargs)
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()


def restore_training(path, model, optimizer=None, map_location="cpu"):
    """Load a checkpoint's weights (and optimizer state) into an existing model; return the saved epoch."""
    checkpoint = load_checkpoint(path, map_location=map_location)
    _unwrapped(model).load_state_dict(checkpoint["state_dict"])
    if optimizer is not None:
        if "optimizer" not in checkpoint:
            raise ValueError(f"{path} holds no optimizer state (it was saved without optimizer=)")
        optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["epoch"]
