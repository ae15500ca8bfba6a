"""Where things live in the repository checkout."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CS_LIB = REPO_ROOT / "cs_lib"
SOLUTIONS = REPO_ROOT / "solutions"
SOLUTIONS_CS_LIB = SOLUTIONS / "cs_lib"
ASSIGNMENTS = REPO_ROOT / "assignments"
COURSE_FILE = SOLUTIONS / "course.toml"
MANIFEST = ASSIGNMENTS / "manifest.json"
README = REPO_ROOT / "README.md"
DATASETS = REPO_ROOT / "datasets"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
