"""What grading leaves behind, and reading it back: nbgrader's gradebook (scores) and the
autograded notebooks, plus the grader's status file (digest, flags, reasons per
submission). Only the coordinator writes here, one submission at a time."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass, field

from autograder.course import Course
from autograder.parallel import GradeResult

STATUS_FILE = "grading_status.json"


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


def store(course: Course, result: GradeResult) -> Outcome:
    """Write one result: gradebook entry (replacing any earlier one), autograded notebooks,
    status. Safe to repeat; an interrupted store is redone on resume."""
    lesson, student = result.lesson, result.student
    with course.gradebook() as gb:
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
    folder = course.root / "autograded" / student / lesson
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, raw in result.autograded.items():
        (folder / name).write_bytes(raw)
    save_status(course, lesson, student, {
        "digest": result.digest, "ok": result.ok, "reason": result.reason,
        "flags": result.flags, "seconds": round(result.seconds, 1),
        "sandbox": result.sandbox})
    score, max_score = submission_score(course, lesson, student)
    return Outcome(student, lesson, result.ok, score, max_score, result.reason,
                   result.flags, result.seconds)


def store_not_graded(course: Course, result: GradeResult) -> Outcome:
    """The grader failed on this submission (retried): no grade is written, and the empty
    digest makes the next run grade it."""
    save_status(course, result.lesson, result.student, {
        "digest": "", "ok": False, "not_graded": True,
        "reason": f"not graded after {result.attempts} attempt(s): {result.reason}",
        "flags": ["not-graded"]})
    return Outcome(result.student, result.lesson, False, 0.0, 0.0,
                   f"not graded after {result.attempts} attempt(s), left for the next run: "
                   f"{result.reason}", ["not-graded"], result.seconds, not_graded=True)


def load_status(course: Course) -> dict:
    """``{lesson: {student: entry}}`` of every grading so far."""
    path = course.root / STATUS_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def save_status(course: Course, lesson: str, student: str, entry: dict) -> None:
    status = load_status(course)
    status.setdefault(lesson, {})[student] = entry
    temporary = course.root / (STATUS_FILE + ".tmp")
    temporary.write_text(json.dumps(status, indent=1, sort_keys=True))
    os.replace(temporary, course.root / STATUS_FILE)  # atomic: a kill leaves old or new


def failure_reasons(course: Course) -> dict:
    """``(lesson, student) -> reason`` of every submission that could not be graded."""
    return {(lesson, student): entry.get("reason", "")
            for lesson, students in load_status(course).items()
            for student, entry in students.items() if not entry.get("ok", True)}


def submission_score(course: Course, lesson: str, student: str) -> tuple[float, float]:
    with course.gradebook() as gb:
        submission = gb.find_submission(lesson, student)
        return float(submission.score), float(submission.max_score)


def graded_students(course: Course, lesson: str) -> list[str]:
    with course.gradebook() as gb:
        try:
            return sorted(s.student.id for s in gb.assignment_submissions(lesson))
        except Exception:
            return []


def grade_rows(course: Course, lessons) -> list[dict]:
    """One row per (lesson, student) in the gradebook."""
    rows = []
    with course.gradebook() as gb:
        for lesson in lessons:
            try:
                submissions = gb.assignment_submissions(lesson)
            except Exception:
                continue
            for sub in sorted(submissions, key=lambda s: s.student.id):
                rows.append({"lesson": lesson, "student": sub.student.id,
                             "score": float(sub.score), "max_score": float(sub.max_score)})
    return rows
