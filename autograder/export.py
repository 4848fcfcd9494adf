"""Grades out of the gradebook, as nbgrader ``ExportPlugin`` s.

- :class:`GradesExport`: one row per (lesson, student) of the roster, i.e. every student
  in the gradebook and everyone the grader saw, so a student who did not submit is a row
  with status ``missing`` (never an absent row): nbgrader's columns (due date, timestamp,
  raw score, late penalty, score) plus the grader's status, flags (timeout, crash,
  not-graded, tamper, late), whether formgrader's queue holds it, the reason, and one
  column per exercise (``lesson/notebook/grade_id``).
- :class:`MoodleExport`: the file Moodle's gradebook imports (*Grades > Import > CSV
  file*): one row per student, identified by ``Username`` (the nbgrader student id) and
  ``Email address``, one column per lesson with the final score (late penalty
  deducted). Moodle rather than Canvas because Moodle matches students by username or
  e-mail, which the gradebook holds, while Canvas' import matches only its own user id
  or SIS ids, which an nbgrader course does not know.

Both run from ``python -m autograder export`` and from plain nbgrader:
``nbgrader export --exporter autograder.export.GradesExport --to grades.csv``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from nbgrader.plugins import ExportPlugin
from traitlets import Unicode

from autograder.course import Course
from autograder.records import STATUS_FILE
COLUMNS = ["lesson", "student", "status", "score", "max_score", "percent", "raw_score",
           "late_submission_penalty", "timestamp", "duedate", "seconds_late",
           "needs_manual_grade", "flags", "reason", "last_name", "first_name", "email"]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}" if value != int(value) else f"{value:.1f}"
    return str(value)


def roster_rows(gradebook, status: dict, lessons=None, students=None) -> list[dict]:
    """One row per (lesson, student): every student of the gradebook and of the status
    file, for every chosen lesson of the gradebook, in lesson then student order."""
    from nbgrader.api import MissingEntry

    wanted = list(lessons or [])
    assignments = {a.name: a for a in gradebook.assignments}
    names = [n for n in wanted if n in assignments] if wanted else sorted(assignments)
    people = {s.id: s for s in gradebook.students}
    rows = []
    for lesson in names:
        assignment = assignments[lesson]
        seen = status.get(lesson, {})
        for student in sorted(set(people) | set(seen)):
            if students and student not in students:
                continue
            entry, person = seen.get(student, {}), people.get(student)
            row = {"lesson": lesson, "student": student,
                   "duedate": assignment.duedate, "max_score": float(assignment.max_score),
                   "last_name": getattr(person, "last_name", None),
                   "first_name": getattr(person, "first_name", None),
                   "email": getattr(person, "email", None),
                   "flags": ";".join(entry.get("flags", [])),
                   "reason": entry.get("reason", "")}
            try:
                submission = gradebook.find_submission(lesson, student)
            except MissingEntry:
                # missing: zero, as nbgrader's export scores it; not graded: unknown
                zero = None if entry.get("not_graded") else 0.0
                row.update(status="not graded" if entry.get("not_graded") else "missing",
                           raw_score=zero, late_submission_penalty=zero, score=zero,
                           seconds_late=zero, needs_manual_grade=False)
            else:
                penalty = float(submission.late_submission_penalty or 0)
                raw = float(submission.score)
                row.update(
                    status=("not graded" if entry.get("not_graded") else
                            "could not be executed" if not entry.get("ok", True)
                            else "graded"),
                    raw_score=raw, late_submission_penalty=penalty,
                    score=max(0.0, raw - penalty), timestamp=submission.timestamp,
                    seconds_late=float(submission.total_seconds_late),
                    needs_manual_grade=bool(submission.needs_manual_grade))
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        if grade.max_score:
                            row[f"{lesson}/{notebook.name}/{grade.name}"] = float(grade.score)
            row["percent"] = ("" if row["score"] is None else
                              f"{100 * row['score'] / row['max_score']:.1f}"
                              if row["max_score"] else "0.0")
            rows.append(row)
    return rows


class _CourseExport(ExportPlugin):
    """An export that also reads the grader's status file beside the gradebook."""

    status_file = Unicode("", help="the grader's grading_status.json (default: in the "
                          "course root)").tag(config=True)

    def _status(self) -> dict:
        path = Path(self.status_file) if self.status_file else self._root() / STATUS_FILE
        return json.loads(path.read_text()) if path.exists() else {}

    def _root(self) -> Path:
        coursedir = getattr(self.parent, "coursedir", None)
        if coursedir is None:
            from nbgrader.coursedir import CourseDirectory

            coursedir = CourseDirectory(config=self.config)
        return Path(coursedir.root)

    def _rows(self, gradebook) -> list[dict]:
        return roster_rows(gradebook, self._status(), [str(a) for a in self.assignment],
                           [str(s) for s in self.student])

    def _write(self, default: str, fields: list, rows: list) -> None:
        path = Path(self.to or default)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields, restval="")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _text(row.get(k)) for k in fields})
        self.log.info("Exported %d row(s) to %s", len(rows), path)


class GradesExport(_CourseExport):
    """Every (lesson, student) of the roster with scores, late penalty, flags and
    per-exercise scores."""

    def export(self, gradebook) -> None:
        rows = self._rows(gradebook)
        exercises = list(dict.fromkeys(k for row in rows for k in row if k not in COLUMNS))
        self._write("grades.csv", COLUMNS + exercises, rows)
        self.count = len(rows)


class MoodleExport(_CourseExport):
    """Moodle's CSV grade import: a row per student, a column per lesson (final score).
    A student who did not submit gets 0 (as nbgrader's own export scores them); one the
    grader has not graded yet gets an empty cell."""

    def export(self, gradebook) -> None:
        table: dict = {}
        lessons: list = []
        for row in self._rows(gradebook):
            if row["lesson"] not in lessons:
                lessons.append(row["lesson"])
            person = table.setdefault(row["student"], {
                "Username": row["student"], "Email address": row["email"],
                "First name": row["first_name"], "Last name": row["last_name"]})
            person[row["lesson"]] = None if row["score"] is None else round(row["score"], 2)
        rows = [table[s] for s in sorted(table)]
        self._write("moodle_grades.csv",
                    ["Username", "Email address", "First name", "Last name"] + lessons, rows)
        self.count = len(rows)


FORMATS = {"csv": GradesExport, "moodle": MoodleExport}


def export_csv(course: Course, lessons, path: Path, format: str = "csv") -> int:
    """Write ``lessons``' grades in ``format`` (``csv``: :class:`GradesExport`;
    ``moodle``: :class:`MoodleExport`) to ``path``; returns the number of rows."""
    plugin = FORMATS[format](config=course.config, to=str(path), assignment=list(lessons),
                             status_file=str(course.root / STATUS_FILE))
    with course.gradebook() as gb:
        plugin.export(gb)
    return plugin.count
