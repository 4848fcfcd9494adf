"""A course workspace and the nbgrader operations on it: release, grade, feedback, export.

A *course* is a directory with ``solutions/`` (nbgrader sources), ``lessons/`` (released),
``gradebook.db`` and nbgrader's ``submitted/``, ``autograded/`` and ``feedback/``
folders. The repository itself is a course; ``demo`` builds a temporary one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from autograder import notebooks, settings


class CourseError(Exception):
    """Something the instructor must fix before anything can be done (clear message)."""


@dataclass
class Outcome:
    """What happened to one submission."""

    student: str
    lesson: str
    ok: bool
    score: float = 0.0
    max_score: float = 0.0
    reason: str = ""


def _ensure_tools_on_path() -> None:
    # nbgrader runs `alembic` from PATH when it creates a gradebook; called through a
    # virtual environment's interpreter without activation, PATH lacks the venv's bin/.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


class Course:
    """The nbgrader API bound to one course directory, configured in code."""

    def __init__(self, root: Path | str, submissions: Path | str | None = None):
        self.root = Path(root).resolve()
        if not (self.root / settings.SOURCE_DIRECTORY).is_dir():
            raise CourseError(f"{self.root} is not a course: it has no "
                              f"{settings.SOURCE_DIRECTORY}/ folder")
        self.submissions = (Path(submissions).resolve() if submissions
                            else self.root / "submitted")
        _ensure_tools_on_path()

    # -- nbgrader plumbing -------------------------------------------------------------
    def _api(self):
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

    @staticmethod
    def _failure(result: dict) -> str:
        text = (result.get("error") or "") + "\n" + (result.get("log") or "")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        meaningful = [line for line in lines if "Error" in line or "error" in line]
        return (meaningful or lines or ["unknown error"])[-1][:500]

    # -- lessons -----------------------------------------------------------------------
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

    def release(self, lessons) -> None:
        """Regenerate ``lessons/<lesson>/`` from ``solutions/<lesson>/`` (outputs cleared,
        stamped) and register the lesson in the gradebook."""
        api = self._api()
        for lesson in lessons:
            result = api.generate_assignment(lesson, force=True, create=True)
            if not result["success"]:
                raise CourseError(f"could not release {lesson}: {self._failure(result)}")

    # -- grading -----------------------------------------------------------------------
    def students(self, lesson: str) -> list[str]:
        if not self.submissions.is_dir():
            raise CourseError(f"submissions folder {self.submissions} does not exist; it "
                              "should hold <student>/<lesson>/<notebook>.ipynb")
        return sorted(p.name for p in self.submissions.iterdir()
                      if (p / lesson).is_dir() and not p.name.startswith("."))

    def _check_released(self, lesson: str) -> None:
        with self.gradebook() as gb:
            try:
                gb.find_assignment(lesson)
            except Exception:
                raise CourseError(f"{lesson} is not in the gradebook yet: run "
                                  f"`python -m autograder release {lesson}` first") from None

    def _precheck(self, lesson: str, student: str) -> str:
        """A reason the submission cannot be graded, or '' if it looks gradable."""
        folder = self.submissions / student / lesson
        expected = sorted(p.name for p in (self.root / settings.RELEASE_DIRECTORY
                                            / lesson).glob("*.ipynb"))
        found = sorted(p.name for p in folder.glob("*.ipynb"))
        missing = sorted(set(expected) - set(found))
        if missing:
            return (f"missing notebook {', '.join(missing)} (found: "
                    f"{', '.join(found) or 'nothing'})")
        for name in found:
            try:
                notebooks.read(folder / name)
            except Exception as error:  # nbformat raises several kinds for bad files
                return f"{name} is not a readable notebook ({type(error).__name__}: {error})"
        return ""

    def grade_one(self, lesson: str, student: str) -> Outcome:
        """Autograde one submission into the gradebook, never raising for its content."""
        reason = self._precheck(lesson, student)
        if not reason:
            os.environ[settings.PROFILE_ENV] = "fast"  # inherited by the kernels
            with contextlib.redirect_stdout(io.StringIO()):
                result = self._api().autograde(lesson, student, force=True, create=True)
            if not result["success"]:
                reason = self._failure(result)
        if reason:
            self._record_zero(lesson, student)
            score, max_score = self.score(lesson, student)
            return Outcome(student, lesson, ok=False, score=score, max_score=max_score,
                           reason=reason)
        score, max_score = self.score(lesson, student)
        return Outcome(student, lesson, ok=True, score=score, max_score=max_score)

    def grade(self, lesson: str, progress=None) -> list[Outcome]:
        """Grade every student who submitted ``lesson``; one bad submission never stops
        the others."""
        self._check_released(lesson)
        outcomes = []
        for student in self.students(lesson):
            outcome = self.grade_one(lesson, student)
            outcomes.append(outcome)
            if progress:
                progress(outcome)
        return outcomes

    def _record_zero(self, lesson: str, student: str) -> None:
        """An ungradable submission still gets a gradebook entry: every cell at zero,
        replacing any earlier grade, so the gradebook matches what was submitted."""
        with self.gradebook() as gb:
            gb.update_or_create_student(student)
            with contextlib.suppress(Exception):
                gb.remove_submission(lesson, student)
            gb.add_submission(lesson, student)

    def score(self, lesson: str, student: str) -> tuple[float, float]:
        with self.gradebook() as gb:
            submission = gb.find_submission(lesson, student)
            return float(submission.score), float(submission.max_score)

    # -- after grading -----------------------------------------------------------------
    def feedback(self, lesson: str) -> list[tuple[str, str]]:
        """HTML feedback for every graded student; returns ``(student, problem)`` pairs."""
        api = self._api()
        problems = []
        for student in self.graded_students(lesson):
            result = api.generate_feedback(lesson, student, force=True)
            if not result["success"]:
                problems.append((student, self._failure(result)))
        return problems

    def graded_students(self, lesson: str) -> list[str]:
        with self.gradebook() as gb:
            try:
                return sorted(s.student.id for s in gb.assignment_submissions(lesson))
            except Exception:
                return []

    def grade_rows(self, lessons) -> list[dict]:
        """One row per (lesson, student) in the gradebook, with per-cell scores."""
        rows = []
        with self.gradebook() as gb:
            for lesson in lessons:
                try:
                    submissions = gb.assignment_submissions(lesson)
                except Exception:
                    continue
                for sub in sorted(submissions, key=lambda s: s.student.id):
                    rows.append({"lesson": lesson, "student": sub.student.id,
                                 "score": float(sub.score), "max_score": float(sub.max_score)})
        return rows

    def export(self, lessons, path: Path) -> int:
        rows = self.grade_rows(lessons)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["lesson", "student", "score",
                                                        "max_score", "percent"])
            writer.writeheader()
            for row in rows:
                percent = 100 * row["score"] / row["max_score"] if row["max_score"] else 0
                writer.writerow({**row, "percent": f"{percent:.1f}"})
        return len(rows)
