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


def store(course: Course, result: GradeResult, timestamp=None,
          submitted: dict | None = None) -> Outcome:
    """Write one result: gradebook entry (replacing any earlier one), autograded notebooks,
    status. Safe to repeat; an interrupted store is redone on resume.

    The scores are nbgrader's: its ``SaveAutoGrades`` runs on the autograded notebooks
    against the course gradebook (so manually graded answer cells await a person, as
    after ``nbgrader autograde``), then ``AssignLatePenalties`` with the course's
    ``LateSubmissionPlugin`` from ``timestamp`` (``timestamp.txt``) and the assignment's
    due date. A submission with a review flag (``c.Autograder.review_flags``) has every
    grade marked ``needs_manual_grade`` and the grader's reasons as the comment of each
    answer cell, so formgrader's manual-grading queue shows it and why; a flagged notebook
    nbgrader could not finish (a crash) is put in the autograded folder as submitted
    (outputs cleared, nbgrader's cells restored), so formgrader can open it.
    ``submitted`` is ``{notebook name: bytes}`` as graded."""
    lesson, student = result.lesson, result.student
    with course.gradebook() as gb:
        gb.update_or_create_student(student)
        with contextlib.suppress(Exception):
            # without a timestamp.txt nbgrader keeps the timestamp it had
            timestamp = timestamp or gb.find_submission(lesson, student).timestamp
        with contextlib.suppress(Exception):
            gb.remove_submission(lesson, student)
        gb.add_submission(lesson, student, **({"timestamp": timestamp} if timestamp else {}))
        if not result.cells:  # nothing could be executed: zero, as nbgrader gives a
            for notebook in gb.find_submission(lesson, student).notebooks:  # missing file
                for grade in notebook.grades:
                    grade.auto_score, grade.needs_manual_grade = 0, False
        for key, (score, _) in result.cells.items():
            notebook, grade_id = key.split("/", 1)
            if f"{notebook}.ipynb" in result.autograded:
                continue  # nbgrader's SaveAutoGrades scores it below, from the notebook
            grade = gb.find_grade(grade_id, notebook, lesson, student)
            grade.auto_score = score
            grade.needs_manual_grade = False
        gb.db.commit()
    folder = course.autograded(student, lesson)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, raw in result.autograded.items():
        (folder / name).write_bytes(raw)
    import nbformat

    from nbgrader.preprocessors import SaveAutoGrades

    for name, raw in sorted(result.autograded.items()):
        if not name.endswith(".ipynb"):
            continue
        try:
            _nbgrader_step(course, SaveAutoGrades, lesson, student, name[:-len(".ipynb")],
                           nbformat.reads(raw.decode("utf-8"), as_version=4))
        except Exception:  # a gradebook out of step with the source: the worker's scores
            _worker_scores(course, result, name[:-len(".ipynb")])
    review = sorted(set(result.flags) & set(course.settings.review_flags))
    copies = []
    if review:
        hand_to_reviewer(course, lesson, student, review, result.reason)
        copies = _review_copies(course, lesson, student, submitted or {},
                                set(result.autograded))
    late = apply_late_penalty(course, lesson, student)
    flags = list(result.flags) + (["late"] if late else [])
    reason = "; ".join(filter(None, [result.reason, late_note(late)]))
    save_status(course, lesson, student, {
        "digest": result.digest, "ok": result.ok, "reason": reason,
        "grader_reason": result.reason, "flags": flags, "seconds": round(result.seconds, 1),
        "sandbox": result.sandbox, "review": review, **late,
        "log": write_log(course, result), **({"review_copy": copies} if copies else {})})
    score, max_score = submission_score(course, lesson, student)
    return Outcome(student, lesson, result.ok, score, max_score, reason, flags,
                   result.seconds)


def _worker_scores(course: Course, result: GradeResult, notebook: str) -> None:
    with course.gradebook() as gb:
        for key, (score, _) in result.cells.items():
            if key.split("/", 1)[0] == notebook:
                with contextlib.suppress(Exception):
                    grade = gb.find_grade(key.split("/", 1)[1], notebook, result.lesson,
                                          result.student)
                    grade.auto_score, grade.needs_manual_grade = score, False
        gb.db.commit()


def _nbgrader_step(course: Course, step, lesson: str, student: str, notebook: str,
                   nb=None) -> None:
    """Run one of nbgrader's gradebook preprocessors (``SaveAutoGrades``,
    ``AssignLatePenalties``) on a notebook of a submission, configured as the course
    configures nbgrader."""
    import nbformat

    resources = {"nbgrader": {"notebook": notebook, "assignment": lesson,
                              "student": student, "db_url": course.db_url}}
    step(config=course.config).preprocess(nb or nbformat.v4.new_notebook(), resources)


def _review_copies(course: Course, lesson: str, student: str, submitted: dict,
                   autograded: set) -> list[str]:
    """Notebooks of a flagged submission that nbgrader did not write (it stopped), copied
    as submitted into the autograded folder, sanitized as nbgrader sanitizes before
    executing (outputs cleared, locked and test cells restored from the gradebook)."""
    import nbformat

    from nbgrader.preprocessors import ClearOutput, OverwriteCells

    with course.gradebook() as gb:
        expected = {f"{nb.name}.ipynb" for nb in gb.find_assignment(lesson).notebooks}
    copies = []
    for name in sorted(expected & set(submitted) - autograded):
        try:
            nb = nbformat.reads(submitted[name].decode("utf-8"), as_version=4)
        except Exception:   # unreadable: nothing formgrader could show
            continue
        resources = {"nbgrader": {"notebook": name[:-len(".ipynb")], "assignment": lesson,
                                  "student": student, "db_url": course.db_url}}
        for step in (ClearOutput, OverwriteCells):
            nb, resources = step(config=course.config).preprocess(nb, resources)
        nbformat.write(nb, str(course.autograded(student, lesson) / name))
        copies.append(name)
    return copies


def hand_to_reviewer(course: Course, lesson: str, student: str, flags, reason: str) -> None:
    """Put the submission in formgrader's manual-grading queue: every grade needs a
    manual grade (the autograder's score stays as its suggestion), and each answer cell's
    comment says what the grader found."""
    note = f"autograder: review ({', '.join(flags)}): {reason or 'no details'}"
    with course.gradebook() as gb:
        submission = gb.find_submission(lesson, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.needs_manual_grade = True
            for comment in notebook.comments:
                comment.auto_comment = "\n\n".join(filter(None, [note, comment.auto_comment]))
        gb.db.commit()


def apply_late_penalty(course: Course, lesson: str, student: str, timestamp=None,
                       set_timestamp: bool = False) -> dict:
    """nbgrader's late penalty for the stored submission (its ``AssignLatePenalties``
    step with the course's ``LateSubmissionPlugin``), after setting the submission's
    timestamp when ``set_timestamp``. Returns ``{"late_seconds", "late_penalty",
    "timestamp"}`` for a late submission, ``{}`` otherwise."""
    from nbgrader.preprocessors import AssignLatePenalties

    with course.gradebook() as gb:
        submission = gb.find_submission(lesson, student)
        if set_timestamp and timestamp is not None and submission.timestamp != timestamp:
            submission.timestamp = timestamp
            gb.db.commit()
        seconds = float(submission.total_seconds_late)
        stale = any(nb.late_submission_penalty for nb in submission.notebooks)
        notebooks = [nb.name for nb in submission.notebooks]
    if not seconds and not stale:
        return {}   # on time, nothing to reset: what the plugin would conclude
    for notebook in notebooks:
        _nbgrader_step(course, AssignLatePenalties, lesson, student, notebook)
    if not seconds:
        return {}
    with course.gradebook() as gb:
        submission = gb.find_submission(lesson, student)
        return {"late_seconds": round(seconds, 1),
                "late_penalty": float(submission.late_submission_penalty or 0),
                "timestamp": submission.timestamp.isoformat()}


def late_note(late: dict) -> str:
    if not late:
        return ""
    hours = late["late_seconds"] / 3600
    return (f"submitted {hours:.1f} h after the due date (late penalty "
            f"{late['late_penalty']:g} point(s))")


def refresh_late_penalty(course: Course, lesson: str, student: str, timestamp) -> dict:
    """For a submission kept from an earlier run: its timestamp and late penalty as the
    gradebook's due date and ``timestamp.txt`` say now (an extension, a new due date, a
    resubmission of the same files); the status file follows. Returns the submission's
    status entry."""
    late = apply_late_penalty(course, lesson, student, timestamp, set_timestamp=True)
    status = load_status(course).get(lesson, {}).get(student)
    if status is not None:
        entry = {k: v for k, v in status.items()
                 if k not in ("late_seconds", "late_penalty", "timestamp")}
        entry["flags"] = [f for f in entry.get("flags", []) if f != "late"] + (
            ["late"] if late else [])
        if "grader_reason" in entry:
            entry["reason"] = "; ".join(filter(None, [entry["grader_reason"],
                                                      late_note(late)]))
        status, previous = {**entry, **late}, status
        if status != previous:
            save_status(course, lesson, student, status)
    return status or {}


def log_path(course: Course, lesson: str, student: str):
    """A submission's grading log: ``<autograded>/<student>/<lesson>.log``, beside its
    autograded folder (not in it: nbgrader would copy it into the student's feedback)."""
    folder = course.autograded(student, lesson)
    return folder.parent / f"{folder.name}.log"


def write_log(course: Course, result: GradeResult) -> str:
    """Write the submission's log (what happened, then nbgrader's and the kernel's own
    output); returns its path relative to the course."""
    import datetime

    path = log_path(course, result.lesson, result.student)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = [f"{result.lesson} / {result.student}, graded "
              f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M:%S} UTC "
              f"in {result.seconds:.1f} s (attempt {result.attempts})",
              f"score: {result.score:g}" + ("" if result.ok else " (not executed)")
              + (" - NOT GRADED, the grader failed" if result.infrastructure else ""),
              f"flags: {', '.join(result.flags) or 'none'}",
              f"reason: {result.reason or 'none'}",
              f"sandbox: {result.sandbox or 'not started'}", ""]
    path.write_text("\n".join(header) + "\n" + (result.log or "(no log: nothing ran)\n"))
    try:
        return str(path.relative_to(course.root))
    except ValueError:
        return str(path)


def store_not_graded(course: Course, result: GradeResult) -> Outcome:
    """The grader failed on this submission (retried): no grade is written, and the empty
    digest makes the next run grade it."""
    save_status(course, result.lesson, result.student, {
        "digest": "", "ok": False, "not_graded": True,
        "reason": f"not graded after {result.attempts} attempt(s): {result.reason}",
        "flags": ["not-graded"], "log": write_log(course, result)})
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
