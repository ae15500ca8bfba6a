"""Counting parameters and multiply-adds, by hand and for any nn.Module.

    conv_counts(C=3, H=32, W=32, K=10, F=5, stride=1, pad=2)   # ((10, 32, 32), 760, 768000)
    rows = count_layers(AlexNet(), (3, 224, 224))             # one LayerCount per layer
    print(format_table(rows))

A conv layer with K filters of size F x F over C input channels, stride S and padding P maps
C x H x W to K x H' x W' with H' = (H + 2P - F) // S + 1 (likewise W'; rounded down as in PyTorch, so
AlexNet's 224 x 224 input gives 55 x 55 after its 11 x 11 stride-4 conv). It has F*F*C*K weights and
K biases, and computes F*F*C multiply-adds for each of its K*H'*W' outputs: F*F*C*K*H'*W' in all.
A linear layer D -> M has D*M + M parameters and D*M multiply-adds. Counts are per image.
"""

from collections import namedtuple

import torch
from torch import nn

LayerCount = namedtuple("LayerCount", ["name", "kind", "output_shape", "params", "macs"])
LayerCount.__doc__ = """One row of the table: module name, its class name, output shape (C, H, W) or (D,)
of one image, its own parameters and the multiply-adds it computes for one image."""


def conv_output_size(size, F, stride, pad):
    """H' = (H + 2P - F) // S + 1, rounded down as PyTorch does (the last pixels are dropped when S does not fit)."""
    if size + 2 * pad < F:
        raise ValueError(f"a {F}x{F} filter does not fit in {size} + 2*{pad} = {size + 2 * pad} pixels")
    return (size + 2 * pad - F) // stride + 1


def conv_counts(C, H, W, K, F, stride=1, pad=0):
    """Output shape, parameters and multiply-adds of a conv layer, for one C x H x W image.

    K filters of F x F x C, stride S, padding P: output (K, H', W') with H' = (H + 2P - F) // S + 1
    (conv_output_size), parameters F*F*C*K + K, multiply-adds F*F*C*K*H'*W'.
    Returns ((K, H', W'), params, macs) as plain ints.
    """
    H_out = conv_output_size(H, F, stride, pad)
    W_out = conv_output_size(W, F, stride, pad)
    params = macs = None
    ### BEGIN SOLUTION
    # Stub: compute params (weights and biases) and macs (multiply-adds of all K * H_out * W_out outputs)
    params = F * F * C * K + K
    macs = F * F * C * K * H_out * W_out
    ### END SOLUTION
    return (K, H_out, W_out), params, macs


def count_parameters(model, trainable_only=False):
    """The number of numbers in model's parameters (only those with requires_grad when trainable_only)."""
    ### BEGIN SOLUTION
    # Stub: count the numbers held by the model's parameters (only those that learn, when trainable_only); return an int
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
    ### END SOLUTION


def layer_macs(module, output):
    """Multiply-adds of one module for one image, given its output for one image (batch of 1).

    Conv2d: (C / groups) * F_h * F_w for each output number; Linear: in_features for each output
    number; every other module (ReLU, pooling, BN, dropout) counts 0, as the lecture does.
    """
    ### BEGIN SOLUTION
    # Stub: return the multiply-adds this module computes to produce output (conv and linear layers; 0 for the others)
    if isinstance(module, nn.Conv2d):
        per_output = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        return per_output * output.numel()
    if isinstance(module, nn.Linear):
        return module.in_features * output.numel()
    return 0
    ### END SOLUTION


def count_layers(model, input_shape=(3, 224, 224)):
    """One LayerCount per layer of model for a single input image of input_shape (C, H, W).

    The layers are the modules without children (conv, BN, ReLU, pool, linear, ...), in the order
    they run. A forward hook on each records its output shape; params counts the module's own
    parameters; macs comes from layer_macs. The image is made on the model's device (a model built
    on the "meta" device is counted without computing anything). The model runs in eval mode with
    no gradients, and is left in the mode it had; every hook is removed afterwards, even after an error.
    """
    if len(input_shape) != 3:
        raise ValueError(f"input_shape is one image's (C, H, W), got {tuple(input_shape)}")
    ### BEGIN SOLUTION
    # Stub: hook every module without children to append a LayerCount (shape without the batch dimension), run one image; return rows
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    rows = []
    handles = []
    was_training = model.training

    def record(name):
        def hook(module, inputs, output):
            params = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append(
                LayerCount(name, type(module).__name__, tuple(output.shape[1:]), params, layer_macs(module, output))
            )

        return hook

    try:
        for name, module in model.named_modules():
            if not list(module.children()):
                handles.append(module.register_forward_hook(record(name)))
        model.eval()
        with torch.no_grad():
            model(torch.zeros((1, *input_shape), device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return rows
    ### END SOLUTION


def format_table(rows):
    """The rows as a text table with totals, for printing."""
    lines = [f"{'layer':<16}{'kind':<18}{'output shape':<18}{'params':>14}{'multiply-adds':>18}"]
    for row in rows:
        shape = " x ".join(str(size) for size in row.output_shape)
        lines.append(f"{row.name:<16}{row.kind:<18}{shape:<18}{row.params:>14,}{row.macs:>18,}")
    lines.append(f"{'total':<52}{sum(r.params for r in rows):>14,}{sum(r.macs for r in rows):>18,}")
    return "\n".join(lines)
