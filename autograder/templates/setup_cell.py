# Setup: run this cell first. On Colab it fetches the course (about a minute, once per runtime) and keeps
# your work on Google Drive if you allow it; on your own machine it only checks the environment.
import os
import sys

REPOSITORY = "{repository}"
BRANCH = "{branch}"
ASSIGNMENT = "{assignment}"

if "google.colab" in sys.modules and not os.environ.get("NBGRADER_EXECUTION"):
    import subprocess

    workdir = (
        "/content/drive/MyDrive/{course_id}" if os.path.isdir("/content/drive/MyDrive") else "/content/{course_id}"
    )
    if not os.path.isdir(os.path.join(workdir, "cs_lib")):
        subprocess.run(["git", "clone", "-q", "--depth", "1", "-b", BRANCH, REPOSITORY, workdir], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", workdir + "[torch]"], check=True)
    sys.path.insert(0, workdir)
    os.chdir(os.path.join(workdir, "assignments", ASSIGNMENT))

from cs_lib.notebook import setup

ENV = setup(ASSIGNMENT)
