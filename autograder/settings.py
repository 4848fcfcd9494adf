"""The course's nbgrader configuration, in one place.

Used by ``nbgrader_config.py`` (so plain ``nbgrader`` commands see the same layout) and by
the ``autograder`` commands (which build their configuration in code, from any directory).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

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


def repository(root: Path | str) -> tuple[str, str]:
    """``(repository_url, branch)`` from ``[tool.dlcourse]`` in ``pyproject.toml``."""
    path = Path(root) / "pyproject.toml"
    if not path.exists():
        return "", "main"
    with open(path, "rb") as handle:
        table = tomllib.load(handle).get("tool", {}).get("dlcourse", {})
    return str(table.get("repository_url", "")).strip(), str(table.get("branch", "main"))


def lessons(root: Path | str) -> list[str]:
    """Lesson names (folders of ``solutions/`` holding a notebook), in course order."""
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
