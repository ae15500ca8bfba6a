# Setup: run this cell first. On Colab it fetches the course and builds it (about a minute, once per
# runtime); on your own machine it only checks the environment and says what is missing.
import os
import sys

REPOSITORY = "{repository}"
BRANCH = "{branch}"
ASSIGNMENT = "{assignment}"
# Colab only: keep your copy of the course (your cs_lib code and notebooks) on Google Drive, so it
# survives runtime resets. Set to False to work in the runtime's temporary disk instead.
KEEP_ON_DRIVE = True

if "google.colab" in sys.modules and not os.environ.get("NBGRADER_EXECUTION"):
    import subprocess

    content = os.environ.get("CS_COLAB_ROOT", "/content")
    if KEEP_ON_DRIVE:
        from google.colab import drive

        drive.mount(os.path.join(content, "drive"))
        workdir = os.path.join(content, "drive", "MyDrive", "{course_id}")
    else:
        workdir = os.path.join(content, "{course_id}")
    if not os.path.isdir(os.path.join(workdir, "cs_lib")):
        subprocess.run(["git", "clone", "-q", "--depth", "1", "-b", BRANCH, REPOSITORY, workdir], check=True)
    install = [sys.executable, "-m", "pip", "install", "-q", "-e", workdir]
    subprocess.run(install + ["--config-settings", "editable_mode=compat"], check=True)
    sys.path.insert(0, workdir)  # importable now, without restarting the runtime
    os.chdir(os.path.join(workdir, "assignments", ASSIGNMENT))

from cs_lib.notebook import setup

ENV = setup(ASSIGNMENT)
