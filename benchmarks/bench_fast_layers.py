"""Speed of the provided fast layers against the naive reference and PyTorch on this machine's CPU.

    .venv/bin/python benchmarks/bench_fast_layers.py [--repeat 7] [--json out.json]

Prints the ratios the assignment 3 issue sets targets for (no assertions: timings depend on the
machine). Each pair is timed interleaved, several times, and the medians are compared, so a noisy
neighbour slows both sides alike. torch runs with as many threads as numpy's BLAS may use.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def use_reference_cs_lib():
    """Import cs_lib with the reference student files (the naive layers and the net are student code)."""
    from autograder.common.course import load_course
    from autograder.grading.run.overlay import reference_overlay

    overlay = reference_overlay(Path(tempfile.mkdtemp(prefix="bench-cs_lib-")), load_course())
    sys.path.insert(0, str(overlay))


def timed(function, repeat):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def compare(ours, theirs, repeat):
    """Median seconds of each, timed alternately after one warm-up call each."""
    ours()
    theirs()
    a, b = [], []
    for _ in range(repeat):
        a += timed(ours, 1)
        b += timed(theirs, 1)
    return statistics.median(a), statistics.median(b)


def conv_vs_naive(repeat):
    from cs_lib.conv_layers import conv_forward_naive
    from cs_lib.fast_layers import conv_forward_fast

    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 3, 31, 31))
    w = rng.standard_normal((25, 3, 3, 3))
    b = rng.standard_normal(25)
    param = {"stride": 2, "pad": 1}
    naive = statistics.median(timed(lambda: conv_forward_naive(x, w, b, param), max(1, repeat // 4)))
    fast = statistics.median(timed(lambda: conv_forward_fast(x, w, b, param), repeat * 3))
    return {"naive_s": naive, "fast_s": fast, "speedup": naive / fast, "target": ">= 500"}


def conv_vs_torch(repeat):
    import torch
    import torch.nn.functional as F

    from cs_lib.fast_layers import conv_backward_fast, conv_forward_fast

    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 64, 32, 32)).astype(np.float32)
    w = (0.05 * rng.standard_normal((64, 64, 3, 3))).astype(np.float32)
    b = np.zeros(64, np.float32)
    dout = rng.standard_normal((64, 64, 32, 32)).astype(np.float32)
    param = {"stride": 1, "pad": 1}

    def ours():
        _, cache = conv_forward_fast(x, w, b, param)
        conv_backward_fast(dout, cache)

    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    doutt = torch.tensor(dout)

    def theirs():
        out = F.conv2d(xt, wt, bt, padding=1)
        out.backward(doutt)

    mine, torch_s = compare(ours, theirs, repeat)
    return {"fast_s": mine, "torch_s": torch_s, "ratio": mine / torch_s, "target": "<= 1.5"}


def pool_vs_torch(repeat, size, stride):
    import torch
    import torch.nn.functional as F

    from cs_lib.fast_layers import max_pool_backward_fast, max_pool_forward_fast

    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 64, 33 if size == 3 else 32, 33 if size == 3 else 32)).astype(np.float32)
    param = {"pool_height": size, "pool_width": size, "stride": stride}
    out, _ = max_pool_forward_fast(x, param)
    dout = rng.standard_normal(out.shape).astype(np.float32)

    def ours():
        _, cache = max_pool_forward_fast(x, param)
        max_pool_backward_fast(dout, cache)

    xt = torch.tensor(x, requires_grad=True)
    doutt = torch.tensor(dout)

    def theirs():
        F.max_pool2d(xt, size, stride).backward(doutt)

    mine, torch_s = compare(ours, theirs, repeat)
    return {"fast_s": mine, "torch_s": torch_s, "ratio": mine / torch_s, "target": "<= 2"}


def three_layer_step(repeat):
    import torch
    import torch.nn.functional as F

    from cs_lib.classifiers.cnn import ThreeLayerConvNet

    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, size=50)
    model = ThreeLayerConvNet(weight_scale=1e-2, dtype=np.float32, seed=0)

    def ours():
        _, grads = model.loss(X, y)
        for name in model.params:
            model.params[name] -= 1e-3 * grads[name]

    params = {name: torch.tensor(value, requires_grad=True) for name, value in model.params.items()}
    Xt, yt = torch.tensor(X), torch.tensor(y)
    optimizer = torch.optim.SGD(params.values(), lr=1e-3)

    def theirs():
        h = F.max_pool2d(F.relu(F.conv2d(Xt, params["W1"], params["b1"], padding=3)), 2, 2)
        h = F.relu(h.flatten(1) @ params["W2"] + params["b2"])
        loss = F.cross_entropy(h @ params["W3"] + params["b3"], yt)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    mine, torch_s = compare(ours, theirs, repeat)
    return {"numpy_s": mine, "torch_s": torch_s, "ratio": mine / torch_s, "target": "<= 3"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    use_reference_cs_lib()
    import torch

    from cs_lib import fast_im2col

    torch.set_num_threads(os.cpu_count() or 1)
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "im2col_backend": fast_im2col.BACKEND,
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
        "conv forward, fast vs naive (x 100x3x31x31, w 25x3x3x3, stride 2, pad 1)": conv_vs_naive(args.repeat),
        "conv forward+backward, fast vs torch (N 64, 64->64, 3x3, pad 1, 32x32, float32)": conv_vs_torch(args.repeat),
        "max pool 2x2/2 forward+backward vs torch (64x64x32x32)": pool_vs_torch(args.repeat, 2, 2),
        "max pool 3x3/2 forward+backward vs torch (64x64x33x33)": pool_vs_torch(args.repeat, 3, 2),
        "ThreeLayerConvNet training step, batch 50, vs torch (float32)": three_layer_step(args.repeat),
    }
    for name, values in results.items():
        shown = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items())
        print(f"{name}: {shown}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
