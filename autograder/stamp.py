"""Stamp released lessons with an "Open in Colab" badge and a setup cell.

Both come from the repository URL set once in ``pyproject.toml`` (``[tool.dlcourse]``);
while it is unset nothing is stamped.
"""

from __future__ import annotations

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"

SETUP_TEMPLATE = '''\
# Setup: install the course helpers when they are missing (Colab, a fresh Jupyter).
# Only the helper package is installed; the TensorFlow you already have is kept.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("dlcourse") is None:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet",
                           "dlcourse @ git+{url}@{branch}"])
'''


def colab_url(repository_url: str, branch: str, path: str) -> str | None:
    """Colab's address for a notebook in a GitHub repository (None for other hosts)."""
    prefix = "https://github.com/"
    if not repository_url.startswith(prefix):
        return None
    slug = repository_url[len(prefix):].rstrip("/").removesuffix(".git")
    return f"https://colab.research.google.com/github/{slug}/blob/{branch}/{path}"


def stamp_cells(repository_url: str, branch: str, lesson: str, notebook: str) -> list:
    """The cells to put in front of a released lesson (empty when no URL is configured)."""
    if not repository_url:
        return []
    url = repository_url.rstrip("/")
    cells = []
    colab = colab_url(url, branch, f"lessons/{lesson}/{notebook}.ipynb")
    if colab:
        cells.append(nbformat.v4.new_markdown_cell(f"[![Open In Colab]({BADGE_IMAGE})]({colab})"))
    cells.append(nbformat.v4.new_code_cell(SETUP_TEMPLATE.format(url=url, branch=branch)))
    for index, cell in enumerate(cells):
        cell.id = f"stamp-{index}"
    return cells


class ColabStamp(NbGraderPreprocessor):
    """nbgrader preprocessor (last step of generate_assignment) that adds the stamp cells."""

    repository_url = Unicode("", help="Public Git URL of the course repository").tag(config=True)
    branch = Unicode("main", help="Branch the badge and the setup cell point at").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        cells = stamp_cells(self.repository_url, self.branch, info.get("assignment", ""),
                            info.get("notebook", ""))
        nb.cells = cells + [c for c in nb.cells if not str(c.get("id", "")).startswith("stamp-")]
        return nb, resources
