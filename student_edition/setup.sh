#!/usr/bin/env bash
# One-command setup: a virtual environment in .venv holding cs_lib (with its compiled Cython
# extension), PyTorch, JupyterLab, the check and submit commands, and the embedded offline dataset.
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
# compat mode puts the checkout on sys.path with a .pth file, so the notebooks' kernels import the
# cs_lib you are editing
.venv/bin/python -m pip install --quiet -e ".[dev,torch]" --config-settings editable_mode=compat
.venv/bin/python -m cs_lib.datasets embedded
.venv/bin/python -m cs_lib.datasets info
echo "setup complete: activate with 'source .venv/bin/activate' or call .venv/bin/python directly"
