"""The optional system tools some tests need, found as a laptop would have them (or not).

PostgreSQL's server binaries and Chromium are optional: without them a test that needs them is skipped with
the command that installs them, except under CI, whose machine must have them (.ci/run installs them), where
it fails. CS_HIDE_TOOLS (a comma-separated list: postgresql, chromium) makes them count as absent, so CI can
prove the suite also holds on a laptop that lacks them (.ci/run's second run); a hidden tool is skipped even
under CI.
"""

import os
import shutil
from pathlib import Path

import pytest

INSTALL = {"postgresql": "apt-get install postgresql", "chromium": "apt-get install chromium"}


def hidden(tool):
    return tool in {name.strip() for name in os.environ.get("CS_HIDE_TOOLS", "").split(",")}


def absent(tool, needed_for):
    """Skip (fail under CI unless the tool was hidden on purpose): the tool is not on this machine."""
    if hidden(tool):
        pytest.skip(f"{tool} hidden (CS_HIDE_TOOLS), as on a machine without it; not tested: {needed_for}")
    if os.environ.get("CI"):
        pytest.fail(f"{tool} is not installed, but CI must test {needed_for} (.ci/run installs it)")
    pytest.skip(f"{tool} is not installed here ({INSTALL[tool]}); not tested: {needed_for}")


def postgres_bindir(needed_for="the PostgreSQL gradebook"):
    binaries = [] if hidden("postgresql") else sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not binaries:
        absent("postgresql", needed_for)
    return binaries[-1].parent


def chromium_path(needed_for="the browser tests"):
    path = None
    if not hidden("chromium"):
        path = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
        path = path or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        absent("chromium", needed_for)
    return path


def bwrap_absent(needed_for):
    """Skip: bubblewrap is not usable here. Under CI it must be (fail), unless the run made it unusable on
    purpose (CS_EXPECT_NO_BWRAP=1, .ci/run's second run)."""
    if os.environ.get("CS_EXPECT_NO_BWRAP") == "1":
        pytest.skip(
            f"bubblewrap made unusable (CS_EXPECT_NO_BWRAP), as on a machine without it; not tested: {needed_for}"
        )
    if os.environ.get("CI"):
        pytest.fail("bubblewrap must be usable in CI (.ci/run installs it)")
    pytest.skip(f"bubblewrap is not usable here (apt-get install bubblewrap); not tested: {needed_for}")
