"""GPU training throughput: the course's recipe (bf16 autocast + channels_last) against plain float32.

    python benchmarks/bench_gpu.py              # VGG-16-CIFAR (batch 512, 32 x 32) and AlexNet (batch 256, 224 x 224)
    python benchmarks/bench_gpu.py --compile    # also the recipe with torch.compile (a minute of compiling per model)
    python benchmarks/bench_gpu.py --smoke      # one tiny step of each model on the CPU: checks that the script runs

Each figure is images per second of whole training steps (cs_lib.pytorch.training.train_step: forward,
cross-entropy, backward, SGD with momentum) on random images already on the GPU, timed between
torch.cuda.synchronize() calls after warm-up steps (cuDNN picks its kernels in the first ones).
"plain float32" is PyTorch's default (NCHW; cuDNN may use TF32 for convolutions, as it does by default);
"course recipe" is cs_lib.pytorch.device.training_recipe: bf16 autocast (fp16 + GradScaler on GPUs
without bf16) and channels_last.
The models are the course's reference implementations (the checkout's cs_lib holds student stubs);
--student measures the cs_lib on the path instead.

On an H200 the lecture quotes plain float32 at about 40.6k images/s for VGG-16-CIFAR and 19.4k for
AlexNet, and bf16 + channels_last at about 77.5k and 37.1k; the recipe should reach at least 95% of
the better figure on the same GPU. Without a CUDA device the script says so and exits with status 0.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
H200_REFERENCE = {
    "VGG-16-CIFAR": {"float32": 40_600, "recipe": 77_500},
    "AlexNet": {"float32": 19_400, "recipe": 37_100},
}
REQUIRED_FRACTION = 0.95


def use_reference_implementation():
    """Put a copy of cs_lib with the reference solutions first on sys.path (before cs_lib is imported)."""
    sys.path.insert(0, str(REPO))
    from autograder.common.course import load_course
    from autograder.grading.run.overlay import reference_overlay

    folder = tempfile.mkdtemp(prefix="bench_gpu_cs_lib_")
    reference_overlay(folder, load_course())
    sys.path.insert(0, folder)


def workloads(smoke):
    """[(name, model factory, batch size, image size)]: the benchmark's two models, or tiny CPU versions."""
    from cs_lib.pytorch.models import AlexNet, CifarVGG

    if smoke:
        return [
            ("VGG-16-CIFAR", lambda: CifarVGG([8, "M", 16, "M"], batch_norm=True, num_classes=10), 4, 32),
            ("AlexNet", lambda: AlexNet(num_classes=10), 1, 63),
        ]
    return [
        ("VGG-16-CIFAR", lambda: CifarVGG("D", batch_norm=True, num_classes=10), 512, 32),
        ("AlexNet", lambda: AlexNet(num_classes=1000), 256, 224),
    ]


def images_per_second(make_model, recipe, batch_size, image_size, steps, warmup):
    """Training throughput of one model under one recipe."""
    import torch

    from cs_lib.pytorch.training import train_step

    torch.manual_seed(0)
    model = recipe.prepare(make_model())
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    scaler = recipe.grad_scaler()
    images = torch.randn(batch_size, 3, image_size, image_size)
    labels = torch.randint(0, 10, (batch_size,))
    images, labels = recipe.batch(images, labels)

    def synchronize():
        if recipe.device.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(warmup):
        train_step(model, images, labels, optimizer, amp_dtype=recipe.amp_dtype, scaler=scaler)
    synchronize()
    started = time.perf_counter()
    for _ in range(steps):
        loss = train_step(model, images, labels, optimizer, amp_dtype=recipe.amp_dtype, scaler=scaler)
    synchronize()
    seconds = time.perf_counter() - started
    if not torch.isfinite(loss):
        raise RuntimeError(f"the loss became {loss.item()} under {recipe}")
    return steps * batch_size / seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compile", action="store_true", help="also measure the recipe with torch.compile")
    parser.add_argument("--smoke", action="store_true", help="one tiny timed step of each model on the CPU")
    parser.add_argument("--steps", type=int, default=50, help="timed steps per measurement (default 50)")
    parser.add_argument("--student", action="store_true", help="use the cs_lib on the path, not the reference")
    args = parser.parse_args(argv)
    if not args.student:
        use_reference_implementation()
    import torch

    from cs_lib.pytorch.device import Recipe, training_recipe

    if args.smoke:
        device, steps, warmup = torch.device("cpu"), 1, 1
    elif torch.cuda.is_available():
        device, steps, warmup = torch.device("cuda"), args.steps, 10
    else:
        print("no CUDA device here: nothing to measure (use --smoke to check that the script runs on the CPU)")
        return 0

    variants = [("plain float32", Recipe(device)), ("course recipe", training_recipe(device))]
    if args.compile:
        variants.append(("recipe + torch.compile", training_recipe(device, compile=True)))
    gpu = torch.cuda.get_device_name() if device.type == "cuda" else "CPU (smoke test)"
    print(f"{gpu}, PyTorch {torch.__version__}")
    print(f"{'model':<14}{'batch':>6}{'size':>6}  {'variant':<24}{'images/s':>12}{'vs float32':>12}  recipe")
    ok = True
    for name, make_model, batch_size, image_size in workloads(args.smoke):
        results = {}
        for label, recipe in variants:
            results[label] = images_per_second(make_model, recipe, batch_size, image_size, steps, warmup)
            ratio = results[label] / results["plain float32"]
            print(
                f"{name:<14}{batch_size:>6}{image_size:>6}  {label:<24}{results[label]:>12,.0f}{ratio:>11.2f}x  {recipe}"
            )
        recipe_best = max(value for label, value in results.items() if label != "plain float32")
        if "H200" in gpu:
            target = REQUIRED_FRACTION * max(H200_REFERENCE[name].values())
            passed = recipe_best >= target
            ok &= passed
            print(
                f"{'':<14}H200 reference {H200_REFERENCE[name]}: the recipe needs {target:,.0f} images/s: "
                f"{'ok' if passed else 'TOO SLOW'}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
