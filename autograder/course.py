"""A course workspace: its folders, lessons and students, and nbgrader's handles on it.

A *course* is a directory with ``solutions/`` (nbgrader sources), ``lessons/`` (released),
``gradebook.db`` and nbgrader's ``submitted/``, ``autograded/`` and ``feedback/``
folders. The repository itself is a course; ``demo`` builds a temporary one. What is done
with a course lives in its own module: :mod:`autograder.release`,
:mod:`autograder.grading` (planning, running, storing), :mod:`autograder.feedback`,
:mod:`autograder.export`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from autograder import settings
from autograder.settings import ensure_tools_on_path


class CourseError(Exception):
    """Something the instructor must fix before anything can be done (clear message)."""


class Course:
    """One course directory and the nbgrader API bound to it, configured in code."""

    def __init__(self, root: Path | str, submissions: Path | str | None = None):
        self.root = Path(root).resolve()
        if not (self.root / settings.SOURCE_DIRECTORY).is_dir():
            raise CourseError(f"{self.root} is not a course: it has no "
                              f"{settings.SOURCE_DIRECTORY}/ folder")
        self.submissions = (Path(submissions).resolve() if submissions
                            else self.root / "submitted")
        ensure_tools_on_path()

    def source(self, lesson: str) -> Path:
        """The folder of the lesson's nbgrader source notebooks."""
        return self.root / settings.SOURCE_DIRECTORY / lesson

    def api(self):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config

        config = Config()
        settings.configure(config, self.root)
        config.CourseDirectory.submitted_directory = str(self.submissions)
        config.Application.log_level = logging.WARNING
        coursedir = CourseDirectory(config=config)
        return NbGraderAPI(coursedir=coursedir, config=config)

    def gradebook(self):
        from nbgrader.api import Gradebook

        return Gradebook(f"sqlite:///{self.root / settings.GRADEBOOK}")

    def lessons(self) -> list[str]:
        return settings.lessons(self.root)

    def resolve_lessons(self, names) -> list[str]:
        """Expand ``all``/empty and accept a bare number (``01``) for ``01_edge_detection``."""
        available = self.lessons()
        if not available:
            raise CourseError(f"no lessons in {self.root / settings.SOURCE_DIRECTORY}")
        if not names or list(names) == ["all"]:
            return available
        chosen = []
        for name in names:
            matches = [l for l in available if l == name or l.split("_", 1)[0] == name]
            if len(matches) != 1:
                raise CourseError(f"no lesson {name!r}; available: {', '.join(available)}")
            chosen.append(matches[0])
        return chosen

    def students(self, lesson: str) -> list[str]:
        """Everyone with a submission folder for ``lesson``."""
        if not self.submissions.is_dir():
            raise CourseError(f"submissions folder {self.submissions} does not exist; it "
                              "should hold <student>/<lesson>/<notebook>.ipynb")
        return sorted(p.name for p in self.submissions.iterdir()
                      if (p / lesson).is_dir() and not p.name.startswith("."))


def nbgrader_failure(result: dict) -> str:
    """The line of an nbgrader API result that says why it failed."""
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    meaningful = [line for line in lines if "Error" in line or "error" in line]
    return (meaningful or lines or ["unknown error"])[-1][:500]
