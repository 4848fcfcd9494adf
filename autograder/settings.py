"""The course's nbgrader configuration, in one place.

A course is configured as nbgrader configures it: by the ``nbgrader_config.py`` in its
folder (loaded with traitlets, as nbgrader loads it), on top of nbgrader's own defaults.
This repository's ``nbgrader_config.py`` calls :func:`configure`, the layout of this
course (``solutions/``, ``lessons/``, the Colab stamp), which is also what a folder without
a configuration file gets unless it already has nbgrader's ``source/`` folder. The
grader's own settings (:class:`Autograder`) are set there too, as
``c.Autograder.workers = 8``.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from traitlets import Bool, Float, Integer, List, Unicode
from traitlets.config import Configurable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SOURCE_DIRECTORY = "solutions"
RELEASE_DIRECTORY = "lessons"
GRADEBOOK = "gradebook.db"
PROFILE_ENV = "DLCOURSE_PROFILE"
# Per-cell timeout: lessons train small Keras models in the fast profile (seconds each);
# generous so a slow machine is not failed, bounded so an infinite loop ends.
CELL_TIMEOUT_SECONDS = 300
LESSON_NAME = re.compile(r"^\d\d_[a-z0-9_]+$")
CONFIG_FILE = "nbgrader_config.py"
# What needs a person: code that may switch checks off, and notebooks that did not run to
# the end (a crash, a time limit, the memory or process cap): their zeros may not be the
# student's.
REVIEW_FLAGS = ("tamper", "crash", "timeout", "memory", "processes")


def configure(c, root: Path | str) -> None:
    """Apply the course settings to a traitlets ``Config`` for the course at ``root``."""
    root = Path(root).resolve()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.source_directory = SOURCE_DIRECTORY
    c.CourseDirectory.release_directory = RELEASE_DIRECTORY
    c.CourseDirectory.db_url = f"sqlite:///{root / GRADEBOOK}"
    c.Execute.timeout = CELL_TIMEOUT_SECONDS
    from nbgrader.converters import GenerateAssignment

    from autograder.stamp import ColabStamp

    # Stamping runs inside nbgrader's own pipeline, so `nbgrader generate_assignment` and
    # `autograder release` produce the same lessons.
    preprocessors = list(GenerateAssignment.class_traits()["preprocessors"].default())
    c.GenerateAssignment.preprocessors = preprocessors + [ColabStamp]
    c.ColabStamp.repository_url, c.ColabStamp.branch = repository(root)
    # Feedback shows a hidden test's docstring and verdict, never its source (the judge's
    # error output for a hidden test carries the message only, no code lines).
    from nbgrader.converters import GenerateFeedback
    from nbgrader.preprocessors import ClearHiddenTests

    c.GenerateFeedback.preprocessors = [ClearHiddenTests] + list(
        GenerateFeedback.class_traits()["preprocessors"].default())


def load_config(root: Path | str):
    """The traitlets ``Config`` of the course at ``root``.

    With an ``nbgrader_config.py``: that file, loaded by traitlets' own loader (so it may
    import modules, call ``get_config()`` and set any nbgrader or :class:`Autograder`
    option), over nbgrader's defaults. Without one: this repository's layout
    (:func:`configure`), or nbgrader's plain defaults (``source/``, ``release/``,
    ``gradebook.db``) where the folder has nbgrader's ``source/`` and no ``solutions/``.
    ``CourseDirectory.root`` is the course folder unless the file sets it.
    """
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root).resolve()
    if (root / CONFIG_FILE).is_file():
        config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    else:
        config = Config()
        if (root / SOURCE_DIRECTORY).is_dir() or not (root / "source").is_dir():
            configure(config, root)
    if "root" not in config.CourseDirectory:
        config.CourseDirectory.root = str(root)
    return config


class Autograder(Configurable):
    """The grader's settings, set in ``nbgrader_config.py`` as ``c.Autograder.X`` like
    nbgrader's own options (a command-line option wins over the file). Unset (None) is
    the built-in default: one worker per core, ``parallel.Limits``' limits, and for the
    cell timeout nbgrader's ``Execute.timeout``."""

    workers = Integer(None, allow_none=True,
                      help="local worker processes (1: one at a time)").tag(config=True)
    scheduler = Unicode("", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786"
                        ).tag(config=True)
    cell_timeout = Integer(None, allow_none=True,
                           help="seconds per cell (default: Execute.timeout)").tag(config=True)
    notebook_timeout = Integer(None, allow_none=True,
                               help="seconds per notebook").tag(config=True)
    memory_gib = Float(None, allow_none=True,
                       help="memory cap per submission, GiB").tag(config=True)
    max_processes = Integer(None, allow_none=True,
                            help="processes+threads cap per submission").tag(config=True)
    weak_sandbox = Bool(False, help="grade even without bubblewrap").tag(config=True)
    review_flags = List(Unicode(), default_value=list(REVIEW_FLAGS),
                        help="grading flags that put a submission in formgrader's "
                        "manual-grading queue").tag(config=True)


# Sections of a course's configuration that change how nbgrader autogrades a notebook:
# the grading worker applies them in its scratch course, as `nbgrader autograde` would.
AUTOGRADE_SECTIONS = ("Autograde", "Execute", "LimitOutput", "IgnorePattern",
                      "OverwriteCells", "CheckCellMetadata", "DeduplicateIds")


def autograde_settings(config) -> dict:
    """The course's :data:`AUTOGRADE_SECTIONS` as plain data for a grading task (classes as
    their import names, which traitlets accepts), so Dask workers can receive them."""

    def plain(value):
        if isinstance(value, type):
            return f"{value.__module__}.{value.__qualname__}"
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        return value

    return {section: {key: plain(value) for key, value in config[section].items()}
            for section in AUTOGRADE_SECTIONS if section in config}


def repository(root: Path | str) -> tuple[str, str]:
    """``(repository_url, branch)`` from ``[tool.dlcourse]`` in ``pyproject.toml``."""
    path = Path(root) / "pyproject.toml"
    if not path.exists():
        return "", "main"
    with open(path, "rb") as handle:
        table = tomllib.load(handle).get("tool", {}).get("dlcourse", {})
    return str(table.get("repository_url", "")).strip(), str(table.get("branch", "main"))


def lessons(root: Path | str) -> list[str]:
    """This repository's lessons (``NN_slug`` folders of ``solutions/`` holding a
    notebook), in course order. A course's assignments, of any name, are
    ``Course.lessons()``."""
    source = Path(root) / SOURCE_DIRECTORY
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir()
                  if p.is_dir() and LESSON_NAME.match(p.name) and any(p.glob("*.ipynb")))


def ensure_tools_on_path() -> None:
    # nbgrader runs `alembic` from PATH when it creates a gradebook; called through a
    # virtual environment's interpreter without activation, PATH lacks the venv's bin/.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
