"""Stamp released lessons with an "Open in Colab" badge and a setup cell.

Both come from the repository URL set once in ``pyproject.toml`` (``[tool.dlcourse]``);
while it is unset nothing is stamped.

The setup cell installs the helpers pinned to one Git ref, never to a branch, so the
checks a student runs cannot change mid-term:

- ``ref = "<tag or commit>"`` under ``[tool.dlcourse]``: that ref (reproducible: the
  release is the same whenever it is run; the recommended setting for a term);
- ``ref`` empty or absent: the commit of ``HEAD`` of the course's Git repository at
  release time (the helpers the instructor released with; that commit must be pushed);
- neither (the course folder is not a Git repository, e.g. a throwaway course the tests
  build): the branch, with a warning.

The badge keeps pointing at the branch: it opens the newest released notebook, whose
setup cell carries that release's pinned ref.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"

SETUP_TEMPLATE = '''\
# Setup: install the course helpers when they are missing (Colab, a fresh Jupyter).
# Only the helper package is installed, pinned to this release's tag or commit;
# the TensorFlow, Keras and NumPy you already have are kept.
import importlib
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("dlcourse") is None:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet",
                           "dlcourse @ git+{url}@{ref}"])
    importlib.invalidate_caches()
'''

# The pinned requirement inside a setup cell: "dlcourse @ git+<url>@<ref>".
PINNED = re.compile(r'"dlcourse @ git\+(?P<url>\S+)@(?P<ref>[^"@\s]+)"')


def colab_url(repository_url: str, branch: str, path: str) -> str | None:
    """Colab's address for a notebook in a GitHub repository (None for other hosts)."""
    prefix = "https://github.com/"
    if not repository_url.startswith(prefix):
        return None
    slug = repository_url[len(prefix):].rstrip("/").removesuffix(".git")
    return f"https://colab.research.google.com/github/{slug}/blob/{branch}/{path}"


def stamp_cells(repository_url: str, branch: str, lesson: str, notebook: str,
                ref: str | None = None) -> list:
    """The cells to put in front of a released lesson (empty when no URL is configured).

    ``branch`` is what the badge opens; ``ref`` (a tag or commit; default: ``branch``) is
    what the setup cell installs the helpers from."""
    if not repository_url:
        return []
    url = repository_url.rstrip("/")
    cells = []
    colab = colab_url(url, branch, f"lessons/{lesson}/{notebook}.ipynb")
    if colab:
        cells.append(nbformat.v4.new_markdown_cell(f"[![Open In Colab]({BADGE_IMAGE})]({colab})"))
    cells.append(nbformat.v4.new_code_cell(SETUP_TEMPLATE.format(url=url, ref=ref or branch)))
    for index, cell in enumerate(cells):
        cell.id = f"stamp-{index}"
    return cells


def configured_ref(root: Path | str) -> str:
    """``ref`` under ``[tool.dlcourse]`` in ``root/pyproject.toml`` ("" when unset)."""
    path = Path(root) / "pyproject.toml"
    if not path.exists():
        return ""
    with open(path, "rb") as handle:
        table = tomllib.load(handle).get("tool", {}).get("dlcourse", {})
    return str(table.get("ref", "")).strip()


def head_commit(root: Path | str) -> str | None:
    """The full commit hash of ``HEAD`` of the Git repository holding ``root`` (None when
    there is none, or git is missing)."""
    try:
        result = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
                                cwd=root, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


def uncommitted_helpers(root: Path | str) -> bool:
    """Whether the helper package's files differ from ``HEAD`` (pinning ``HEAD`` would then
    install helpers other than the working tree's)."""
    try:
        result = subprocess.run(["git", "status", "--porcelain", "--", "dlcourse",
                                 "pyproject.toml"], cwd=root, capture_output=True, text=True,
                                timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


def release_ref(root: Path | str, ref: str, branch: str, log=None) -> str:
    """The ref a release pins the helpers to (see the module docstring)."""
    if ref:
        return ref
    commit = head_commit(root)
    if commit:
        if log and uncommitted_helpers(root):
            log.warning("dlcourse/ or pyproject.toml has uncommitted changes: the setup cell "
                        "installs the helpers of commit %s, without them", commit)
        return commit
    if log:
        log.warning("%s is not a Git repository and [tool.dlcourse] sets no ref: the setup "
                    "cell follows the branch %r, whose helpers can change mid-term", root,
                    branch)
    return branch


class ColabStamp(NbGraderPreprocessor):
    """nbgrader preprocessor (last step of generate_assignment) that adds the stamp cells."""

    repository_url = Unicode("", help="Public Git URL of the course repository").tag(config=True)
    branch = Unicode("main", help="Branch the badge points at").tag(config=True)
    ref = Unicode("",
                  help="Tag or commit the setup cell installs the helpers from; empty: "
                       "[tool.dlcourse] ref, else the commit of HEAD at release time"
                  ).tag(config=True)

    def _course_root(self) -> Path:
        root = self.config.get("CourseDirectory", {}).get("root")
        return Path(root) if isinstance(root, str) and root else Path.cwd()

    def _pinned_ref(self) -> str:
        root = self._course_root()
        resolved = getattr(self, "_resolved", None)  # once per release, not per notebook
        if resolved is None or resolved[0] != root:
            ref = release_ref(root, self.ref or configured_ref(root), self.branch, self.log)
            self.log.info("Colab stamp: helpers pinned to %s", ref)
            self._resolved = resolved = (root, ref)
        return resolved[1]

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        ref = self._pinned_ref() if self.repository_url else None
        cells = stamp_cells(self.repository_url, self.branch, info.get("assignment", ""),
                            info.get("notebook", ""), ref)
        nb.cells = cells + [c for c in nb.cells if not str(c.get("id", "")).startswith("stamp-")]
        return nb, resources
