"""The Colab path, proven: a released lesson's setup cell installs the helpers, pinned to the
release, into an environment holding only what Colab has, replaces nothing there, and the
lesson then runs with every visible check passing.

How it is built:

- The environment (``tools/colab_env.py``): a clean virtual environment with exactly the
  TensorFlow, Keras, NumPy, Matplotlib, scikit-learn, scikit-image, tensorflow-datasets
  (and ipykernel, to run a notebook, as Colab does) versions of this ``.venv``, and no
  ``dlcourse``; built once, cached under ``~/.cache/dlcourse-colab-env/<versions>``.
- The repository: a snapshot of this working tree's package (``dlcourse/``,
  ``autograder/``, ``pyproject.toml``) and one lesson, committed to a temporary Git
  repository and served by ``git daemon`` on 127.0.0.1 only (killed at the end). pip
  refuses ``dlcourse @ git+file:///...`` ("Invalid requirement": a direct reference needs
  a host), so the stamp's exact form, ``dlcourse @ git+<url>@<ref>``, is exercised with
  ``git://127.0.0.1:PORT/...``, a real fetch over a network protocol as from GitHub.
- The release: ``autograder.release.release`` in that repository, which stamps the lesson
  with the served URL, pinned to the repository's HEAD commit (no ``ref`` configured).
- The run: the *released* (stamped) notebook with every exercise filled in with the
  solution's answer (``notebooks.fill_in``, what a student who got everything right
  submits), executed in a kernel of the Colab-like environment, in an empty folder (so
  nothing of this repository is importable). Every cell must pass, so every visible check
  runs and passes; the released blank lesson would fail them by design, and the solution
  notebook itself holds hidden tests a student never sees. The stamp is the one released.
- The proof: ``pip freeze`` of the environment before and after is identical except for
  the added ``dlcourse``, which is the pinned commit.

The environment is shared between runs, so it is locked while used and ``dlcourse`` is
uninstalled afterwards (an environment that does not return to its recorded state is
rebuilt next time). Skipped, with the reason, when PyPI is unreachable.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from autograder import notebooks, settings
from autograder.release import release
from autograder.stamp import (PINNED, configured_ref, head_commit, release_ref,
                              stamp_cells)
from tests.conftest import ROOT
from tools import colab_env

LESSON = "01_edge_detection"  # cheap: NumPy convolution, one tiny Keras layer trained
pytestmark = pytest.mark.notebooks

GIT_IDENTITY = ["-c", "user.name=dlcourse test", "-c", "user.email=test@localhost",
                "-c", "commit.gpgsign=false"]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *GIT_IDENTITY, *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


# -- the pinning itself (fast) -----------------------------------------------------------
def test_setup_cell_pins_a_tag_or_commit_and_the_badge_keeps_the_branch(tmp_path):
    url = "https://github.com/acme/dl-course"
    cells = stamp_cells(url, "main", LESSON, LESSON, ref="v2025.1")
    assert "/blob/main/lessons/" in cells[0].source  # the badge opens the branch's tip
    match = PINNED.search(cells[1].source)
    assert match and match["url"] == url and match["ref"] == "v2025.1"
    assert "@main" not in cells[1].source
    compile(cells[1].source, "setup", "exec")

    # a configured ref wins; otherwise HEAD's commit; outside Git, the branch (warned)
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.dlcourse]\nrepository_url = "{url}"\nref = "v2025.1"\n')
    assert configured_ref(tmp_path) == "v2025.1"
    assert release_ref(tmp_path, configured_ref(tmp_path), "main") == "v2025.1"
    assert head_commit(tmp_path) is None
    assert release_ref(tmp_path, "", "main") == "main"
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "pyproject.toml")
    git(tmp_path, "commit", "-q", "-m", "x")
    commit = git(tmp_path, "rev-parse", "HEAD")
    assert len(commit) == 40 and release_ref(tmp_path, "", "main") == commit


# -- the Colab path, end to end ----------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(base: Path, port: int) -> subprocess.Popen:
    daemon = subprocess.Popen(
        ["git", "daemon", "--export-all", f"--base-path={base}", "--listen=127.0.0.1",
         f"--port={port}", "--reuseaddr", "--informative-errors", str(base)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise RuntimeError(f"git daemon exited: {daemon.stderr.read().decode()[-500:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return daemon
        except OSError:
            time.sleep(0.1)
    daemon.kill()
    raise RuntimeError("git daemon did not start listening")


def _stop(daemon: subprocess.Popen) -> None:
    if daemon.poll() is None:
        daemon.terminate()
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def _course_repository(repo: Path, url: str) -> str:
    """A Git repository holding this working tree's package and ``LESSON``, configured to
    be released for ``url``; returns its HEAD commit."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("dlcourse", "autograder"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=skip)
    shutil.copytree(ROOT / settings.SOURCE_DIRECTORY / LESSON,
                    repo / settings.SOURCE_DIRECTORY / LESSON, ignore=skip)
    shutil.copy(ROOT / "README.md", repo / "README.md")
    text = (ROOT / "pyproject.toml").read_text()
    text, found = re.subn(r"(?m)^repository_url\s*=.*$", f'repository_url = "{url}"', text)
    assert found == 1, "no repository_url under [tool.dlcourse] in pyproject.toml"
    text = re.sub(r"(?m)^ref\s*=.*$", "", text)  # pinned to HEAD, the default
    (repo / "pyproject.toml").write_text(text)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "course snapshot")
    return git(repo, "rev-parse", "HEAD")


def test_stamped_lesson_installs_only_the_helpers_and_passes_in_a_colab_like_env():
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    from nbclient import NotebookClient

    from autograder.course import Course

    with contextlib.ExitStack() as cleanup:
        try:
            env = cleanup.enter_context(colab_env.using(log=print))
        except colab_env.Unavailable as reason:
            pytest.skip(f"no Colab-like environment: {reason}")
        # undone in reverse: daemon killed, scratch removed, dlcourse uninstalled
        scratch = Path(tempfile.mkdtemp(prefix="dlcourse-colab-"))
        cleanup.callback(shutil.rmtree, scratch, ignore_errors=True)
        python = colab_env.python_of(env)
        before = colab_env.freeze(python)
        assert "dlcourse" not in before

        port = _free_port()
        url = f"git://127.0.0.1:{port}/dl-course"
        repo = scratch / "serve" / "dl-course"
        commit = _course_repository(repo, url)
        cleanup.callback(_stop, _serve(scratch / "serve", port))

        # release, as the instructor does: stamped, pinned to the commit released from
        release(Course(repo), [LESSON])
        name = f"{LESSON}.ipynb"
        released = notebooks.read(repo / settings.RELEASE_DIRECTORY / LESSON / name)
        setup = [c for c in released.cells if str(c.get("id", "")).startswith("stamp-")]
        assert len(setup) == 1 and setup[0].cell_type == "code", "no setup cell stamped"
        assert released.cells[0].id == setup[0].id, "the setup cell is not the first cell"
        pinned = PINNED.search(setup[0].source)
        assert pinned and pinned["url"] == url and pinned["ref"] == commit, setup[0].source

        # a student who got every exercise right, in Colab, in an empty folder
        solution = notebooks.read(repo / settings.SOURCE_DIRECTORY / LESSON / name)
        submission = notebooks.fill_in(released, solution)
        work = scratch / "work"
        work.mkdir()
        client = NotebookClient(submission, timeout=settings.CELL_TIMEOUT_SECONDS,
                                km=colab_env.kernel_manager(env, scratch / "kernels"),
                                resources={"metadata": {"path": str(work)}})
        client.execute()  # raises CellExecutionError (the cell, its traceback) on a failure

        checks = [c for c in submission.cells if notebooks.is_graded_test(c)]
        assert checks, "the lesson has no visible checks"
        unrun = [notebooks.grade_id(c) for c in checks if c.get("execution_count") is None]
        assert not unrun, f"visible checks that did not run: {unrun}"
        errors = [o for c in submission.cells for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        assert not errors, errors

        # the helpers came from the served repository at the pinned commit; nothing else
        # was installed, upgraded or replaced
        after = colab_env.freeze(python)
        assert after.get("dlcourse", "").startswith(f"git+{url}@{commit}"), after.get("dlcourse")
        changed = {package: (before.get(package), after.get(package))
                   for package in set(before) | set(after)
                   if package != "dlcourse" and before.get(package) != after.get(package)}
        assert not changed, f"the setup cell replaced or added packages: {changed}"
        where = subprocess.run([str(python), "-c", "import dlcourse; print(dlcourse.__file__)"],
                               cwd=work, capture_output=True, text=True, check=True).stdout
        assert str(env) in where and str(ROOT) not in where, where
