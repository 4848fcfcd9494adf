"""A course workspace and the nbgrader operations on it: release, grade, feedback, export.

A *course* is a directory with ``solutions/`` (nbgrader sources), ``lessons/`` (released),
``gradebook.db`` and nbgrader's ``submitted/``, ``autograded/`` and ``feedback/``
folders. The repository itself is a course; ``demo`` builds a temporary one.
"""

from __future__ import annotations

import contextlib
import csv
import html
import json
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder import notebooks, settings
from autograder.settings import ensure_tools_on_path
from autograder.parallel import GradeResult, GradeTask, Limits, execute

STATUS_FILE = "grading_status.json"


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
    flags: list = field(default_factory=list)
    seconds: float = 0.0
    resumed: bool = False   # graded by an earlier run, same submission: not regraded
    not_graded: bool = False  # the grader failed (retried): left for the next run


class Course:
    """The nbgrader API bound to one course directory, configured in code."""

    def __init__(self, root: Path | str, submissions: Path | str | None = None):
        self.root = Path(root).resolve()
        if not (self.root / settings.SOURCE_DIRECTORY).is_dir():
            raise CourseError(f"{self.root} is not a course: it has no "
                              f"{settings.SOURCE_DIRECTORY}/ folder")
        self.submissions = (Path(submissions).resolve() if submissions
                            else self.root / "submitted")
        ensure_tools_on_path()

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

    def template_gradebook(self, lesson: str) -> tuple[bytes, list[str]]:
        """A gradebook holding only ``lesson``'s definition (what a worker needs), and the
        names of the lesson's notebooks. Made by releasing the source in a throwaway
        course, so no student's data ever leaves the coordinator."""
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(self.root / settings.SOURCE_DIRECTORY / lesson,
                            Path(tmp) / settings.SOURCE_DIRECTORY / lesson)
            Course(tmp).release([lesson])
            names = sorted(p.name for p in (Path(tmp) / settings.RELEASE_DIRECTORY / lesson)
                           .glob("*.ipynb"))
            return (Path(tmp) / settings.GRADEBOOK).read_bytes(), names

    def lesson_digest(self, lesson: str) -> str:
        """Of the lesson's source notebooks: changing a test changes every submission's
        grading digest, so the next run regrades everyone."""
        import hashlib

        digest = hashlib.sha256()
        for path in sorted((self.root / settings.SOURCE_DIRECTORY / lesson).glob("*.ipynb")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    def judge_plans(self, lesson: str) -> dict:
        """What the judge runs for each notebook of ``lesson``, from the source notebooks."""
        from autograder.judge_plan import plan

        folder = self.root / settings.SOURCE_DIRECTORY / lesson
        return {path.stem: plan(notebooks.read(path)).to_json()
                for path in sorted(folder.glob("*.ipynb"))}

    def grade(self, lesson: str, workers: int | None = None, scheduler: str | None = None,
              force: bool = False, limits: Limits | None = None, progress=None,
              weak_sandbox: bool = False, students=None,
              retry_failed: bool = False) -> list[Outcome]:
        """Grade every student who submitted ``lesson``, side by side.

        Args:
            workers: local processes (default: the number of cores; 1 = one at a time).
            scheduler: a Dask scheduler address; the submissions run on that cluster.
            force: regrade submissions already graded in their current version (by
                default a rerun only grades what is new or changed, so an interrupted
                batch resumes where it stopped).
            limits: per-submission time, memory and process limits.
            progress: called with each :class:`Outcome` as it completes.
            weak_sandbox: grade even without bubblewrap (student code then runs with the
                grader's rights; every submission's status says so).
            students: grade only these students (default: everyone who submitted).
            retry_failed: also regrade unchanged submissions whose last grading failed
                (a crash, a timeout, a submission that could not be executed).

        Returns:
            One outcome per student, in student order.
        """
        self._check_released(lesson)
        from autograder import sandbox

        if sandbox.bwrap_path() is None and not weak_sandbox:
            raise CourseError("bubblewrap (bwrap) is not installed, so student code cannot be "
                              "sandboxed: install it (apt-get install bubblewrap) or accept "
                              "weaker isolation explicitly with --weak-sandbox")
        submitted = self.students(lesson)
        unknown = sorted(set(students or []) - set(submitted))
        if unknown:
            raise CourseError(f"no submission of {lesson} from {', '.join(unknown)} in "
                              f"{self.submissions}")
        students = [s for s in submitted if not students or s in students]
        status = self.load_status().get(lesson, {})
        template, names = self.template_gradebook(lesson)
        plans = self.judge_plans(lesson)
        lesson_digest = self.lesson_digest(lesson)
        tasks, outcomes = [], {}
        graded = set(self.graded_students(lesson))
        for student in students:
            folder = self.submissions / student / lesson
            files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())
                     if p.is_file() and p.suffix == ".ipynb"}
            task = GradeTask(lesson, student, files, template, names, limits or Limits(),
                             sandbox.bwrap_path() is None, plans, lesson_digest)
            previous = status.get(student, {})
            failed_before = not previous.get("ok", True) or bool(
                set(previous.get("flags", [])) & {"timeout", "crash", "memory", "processes"})
            if (not force and student in graded and previous.get("digest") == task.digest
                    and not (retry_failed and failed_before)):
                score, max_score = self.score(lesson, student)
                outcomes[student] = Outcome(student, lesson, previous.get("ok", True), score,
                                            max_score, previous.get("reason", ""),
                                            previous.get("flags", []), resumed=True)
                continue
            tasks.append(task)
        for result in execute(tasks, workers=workers, scheduler=scheduler):
            if result.infrastructure:  # not the student's doing: no grade, retried next run
                self.save_status(lesson, result.student, {
                    "digest": "", "ok": False, "not_graded": True,
                    "reason": f"not graded after {result.attempts} attempt(s): "
                              f"{result.reason}", "flags": ["not-graded"]})
                outcome = Outcome(result.student, lesson, False, 0.0, 0.0,
                                  f"not graded after {result.attempts} attempt(s), left for "
                                  f"the next run: {result.reason}", ["not-graded"],
                                  result.seconds, not_graded=True)
                outcomes[result.student] = outcome
                if progress:
                    progress(outcome)
                continue
            self.store(result)
            score, max_score = self.score(lesson, result.student)
            outcome = Outcome(result.student, lesson, result.ok, score, max_score,
                              result.reason, result.flags, result.seconds)
            outcomes[result.student] = outcome
            if progress:
                progress(outcome)
        return [outcomes[s] for s in students]

    def store(self, result: GradeResult) -> None:
        """Write one result: gradebook entry (replacing any earlier one), autograded
        notebooks, status. Safe to repeat; an interrupted store is redone on resume."""
        lesson, student = result.lesson, result.student
        with self.gradebook() as gb:
            gb.update_or_create_student(student)
            with contextlib.suppress(Exception):
                gb.remove_submission(lesson, student)
            gb.add_submission(lesson, student)
            for key, (score, _) in result.cells.items():
                notebook, grade_id = key.split("/", 1)
                grade = gb.find_grade(grade_id, notebook, lesson, student)
                grade.auto_score = score
                grade.needs_manual_grade = False
            gb.db.commit()
        folder = self.root / "autograded" / student / lesson
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name, raw in result.autograded.items():
            (folder / name).write_bytes(raw)
        self.save_status(lesson, student, {
            "digest": result.digest, "ok": result.ok, "reason": result.reason,
            "flags": result.flags, "seconds": round(result.seconds, 1),
            "sandbox": result.sandbox})

    def load_status(self) -> dict:
        path = self.root / STATUS_FILE
        return json.loads(path.read_text()) if path.exists() else {}

    def save_status(self, lesson: str, student: str, entry: dict) -> None:
        status = self.load_status()
        status.setdefault(lesson, {})[student] = entry
        temporary = self.root / (STATUS_FILE + ".tmp")
        temporary.write_text(json.dumps(status, indent=1, sort_keys=True))
        os.replace(temporary, self.root / STATUS_FILE)  # atomic: a kill leaves old or new

    def score(self, lesson: str, student: str) -> tuple[float, float]:
        with self.gradebook() as gb:
            submission = gb.find_submission(lesson, student)
            return float(submission.score), float(submission.max_score)

    # -- after grading -----------------------------------------------------------------
    def feedback(self, lesson: str) -> list[tuple[str, str]]:
        """HTML feedback for every graded student; returns ``(student, problem)`` pairs."""
        api = self._api()
        problems = []
        status = self.load_status().get(lesson, {})
        for student in self.graded_students(lesson):
            if any((self.root / "autograded" / student / lesson).glob("*.ipynb")):
                result = api.generate_feedback(lesson, student, force=True)
                if not result["success"]:
                    problems.append((student, self._failure(result)))
            else:  # nothing could be executed: the feedback is the reason
                reason = status.get(student, {}).get("reason", "it could not be graded")
                folder = self.root / "feedback" / student / lesson
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{lesson}.html").write_text(
                    f"<html><body><h1>{html.escape(lesson)}: 0 points</h1><p>Your submission "
                    f"could not be graded: {html.escape(reason)}</p></body></html>")
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


def new_course(tmp: Path, source_root: Path, lessons) -> "Course":
    """A fresh course under ``tmp`` holding copies of ``lessons`` from ``source_root``,
    released."""
    for lesson in lessons:
        shutil.copytree(source_root / settings.SOURCE_DIRECTORY / lesson,
                        tmp / settings.SOURCE_DIRECTORY / lesson)
    if (source_root / "pyproject.toml").exists():  # the Colab stamp settings
        shutil.copy(source_root / "pyproject.toml", tmp / "pyproject.toml")
    course = Course(tmp)
    course.release(lessons)
    return course
