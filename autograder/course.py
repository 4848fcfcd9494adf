"""A course workspace: its folders, lessons and students, and nbgrader's handles on it.

A *course* is a folder nbgrader can grade: its ``nbgrader_config.py`` (if any) says where
the source, release, submitted, autograded and feedback folders and the gradebook are,
with nbgrader's defaults otherwise (see :func:`autograder.settings.load_config`). This
repository is a course with ``solutions/`` as the source and ``lessons/`` as the release
folder; nbgrader's user-guide course, with ``source/`` and ``release/``, is another. What
is done with a course lives in its own module: :mod:`autograder.release`,
:mod:`autograder.grading` (planning, running, storing), :mod:`autograder.feedback`,
:mod:`autograder.export`.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

from autograder import settings
from autograder.parallel import Limits
from autograder.settings import ensure_tools_on_path


class CourseError(Exception):
    """Something the instructor must fix before anything can be done (clear message)."""


class Course:
    """One course directory and the nbgrader API bound to it, configured as nbgrader
    configures it (the course's ``nbgrader_config.py``)."""

    def __init__(self, root: Path | str, submissions: Path | str | None = None):
        from nbgrader.coursedir import CourseDirectory

        try:
            self.config = settings.load_config(root)
        except Exception as error:  # the instructor's file: say which and why
            raise CourseError(f"could not read {Path(root).resolve() / settings.CONFIG_FILE}: "
                              f"{type(error).__name__}: {error}") from None
        if submissions:
            self.config.CourseDirectory.submitted_directory = str(Path(submissions).resolve())
        self.coursedir = CourseDirectory(config=self.config)
        self.root = Path(self.coursedir.root).resolve()
        self.source_root = self.root / self.coursedir.source_directory
        if not self.source_root.is_dir():
            raise CourseError(
                f"{self.root} is not a course: it has no {self.coursedir.source_directory}/ "
                f"folder (the source directory; set c.CourseDirectory.source_directory in "
                f"{settings.CONFIG_FILE} if it has another name)")
        self.submissions = self.root / self.coursedir.submitted_directory
        self.settings = settings.Autograder(config=self.config)
        ensure_tools_on_path()

    def _path(self, step: str, student: str, lesson: str) -> Path:
        return Path(self.coursedir.format_path(step, student, lesson)).resolve()

    def source(self, lesson: str) -> Path:
        """The folder of the lesson's nbgrader source notebooks."""
        return self._path(self.coursedir.source_directory, ".", lesson)

    def released(self, lesson: str) -> Path:
        return self._path(self.coursedir.release_directory, ".", lesson)

    def submitted(self, student: str, lesson: str) -> Path:
        return self._path(self.coursedir.submitted_directory, student, lesson)

    def autograded(self, student: str, lesson: str) -> Path:
        return self._path(self.coursedir.autograded_directory, student, lesson)

    def feedback(self, student: str, lesson: str) -> Path:
        return self._path(self.coursedir.feedback_directory, student, lesson)

    @property
    def db_url(self) -> str:
        return self.coursedir.db_url

    def api(self):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        config = copy.deepcopy(self.config)
        config.Application.log_level = logging.WARNING
        return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)

    def gradebook(self):
        from nbgrader.api import Gradebook

        return Gradebook(self.db_url, self.coursedir.course_id)

    def limits(self, cell_timeout=None, notebook_timeout=None, memory_gib=None,
               max_processes=None) -> Limits:
        """Per-submission limits: the arguments given, else ``c.Autograder.*`` of the
        course's configuration, else the defaults; the cell timeout falls back to
        nbgrader's ``Execute.timeout`` as the course configures it."""
        from nbgrader.preprocessors import Execute

        defaults, mine = Limits(), self.settings

        def pick(given, configured, default):
            return next(v for v in (given, configured, default) if v is not None)

        execute_timeout = Execute(config=self.config).timeout
        if execute_timeout is None or execute_timeout <= 0:   # nbclient: no limit
            execute_timeout = pick(notebook_timeout, mine.notebook_timeout,
                                   defaults.notebook_timeout)
        memory = pick(memory_gib, mine.memory_gib, defaults.memory_bytes / 2**30)
        return Limits(
            cell_timeout=int(pick(cell_timeout, mine.cell_timeout, execute_timeout)),
            notebook_timeout=int(pick(notebook_timeout, mine.notebook_timeout,
                                      defaults.notebook_timeout)),
            memory_bytes=int(memory * 2**30),
            max_processes=int(pick(max_processes, mine.max_processes,
                                   defaults.max_processes)))

    def lessons(self) -> list[str]:
        """The course's assignments (folders of the source directory holding a notebook),
        in name order; names of any form."""
        return sorted(p.name for p in self.source_root.iterdir()
                      if p.is_dir() and not p.name.startswith(".")
                      and any(self.source(p.name).glob("*.ipynb")))

    def resolve_lessons(self, names) -> list[str]:
        """Expand ``all``/empty and accept a bare number (``01``) for ``01_edge_detection``."""
        available = self.lessons()
        if not available:
            raise CourseError(f"no lessons in {self.source_root}")
        if not names or list(names) == ["all"]:
            return available
        chosen = []
        for name in names:
            matches = ([name] if name in available else
                       [l for l in available if l.split("_", 1)[0] == name])
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
                      if not p.name.startswith(".") and self.submitted(p.name, lesson).is_dir())

    def timestamp(self, student: str, lesson: str):
        """When the submission was made, from the ``timestamp.txt`` that ``nbgrader
        collect``/``submit`` write (a UTC ``datetime``), or None; an unreadable one is
        None, as nbgrader cannot read it either."""
        try:
            return self.coursedir.get_existing_timestamp(str(self.submitted(student, lesson)))
        except Exception:
            return None


def nbgrader_failure(result: dict) -> str:
    """The line of an nbgrader API result that says why it failed."""
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    meaningful = [line for line in lines if "Error" in line or "error" in line]
    return (meaningful or lines or ["unknown error"])[-1][:500]
