#!/usr/bin/env bash
# One-command setup: a virtual environment in .venv holding cs_lib (with its compiled Cython
# extension), PyTorch, the course's tools (the dev extra of pyproject.toml), and the embedded offline
# dataset. The student edition publishes this same script beside its own pyproject.toml.
#   TORCH_SPEC   which torch to install first (default torch==2.13.0, a CPU build)
#   PYTHON       the Python to create the environment with (default python3)
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
# torch first and pinned: a bare "torch" requirement would pull a multi-GB CUDA build
.venv/bin/python -m pip install --quiet "$TORCH_SPEC"
# compat mode puts the checkout on sys.path with a .pth file: the notebooks' kernels import the cs_lib
# being edited, and a private cs_lib copy on PYTHONPATH (grading, reference runs) takes precedence
.venv/bin/python -m pip install --quiet -e ".[dev,torch]" --config-settings editable_mode=compat
.venv/bin/python -m cs_lib.datasets embedded
.venv/bin/python -m cs_lib.datasets info
echo "setup complete: activate with 'source .venv/bin/activate' or call .venv/bin/python directly"
