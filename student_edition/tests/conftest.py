"""The student edition's tests import the cs_lib of this checkout (setup.sh installs it in editable mode)."""

from pathlib import Path

import pytest


def pytest_report_header(config):
    import cs_lib
    from cs_lib import fast_im2col

    return [f"cs_lib: {Path(cs_lib.__file__).parent}; im2col backend: {fast_im2col.BACKEND}"]


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(231)
