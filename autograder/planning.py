"""Planning a grading run: a task for every submission that needs grading, the earlier
grade kept for every other one (an interrupted batch resumes where it stopped)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from autograder import notebooks, records, sandbox
from autograder.course import Course, CourseError
from autograder.parallel import GradeTask, Limits
from autograder.release import template_gradebook

FAILURE_FLAGS = {"timeout", "crash", "memory", "processes"}


@dataclass
class GradingPlan:
    lesson: str
    students: list                              # everyone this run is about, in order
    tasks: list = field(default_factory=list)   # GradeTask per submission to grade
    kept: dict = field(default_factory=dict)    # student -> Outcome of an earlier run


def lesson_digest(course: Course, lesson: str) -> str:
    """Of the lesson's source notebooks: changing a test changes every submission's
    grading digest, so the next run regrades everyone."""
    digest = hashlib.sha256()
    for path in sorted(course.source(lesson).glob("*.ipynb")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def judge_plans(course: Course, lesson: str) -> dict:
    """What the judge runs for each notebook of ``lesson``, from the source notebooks."""
    from autograder.judge_plan import plan

    return {path.stem: plan(notebooks.read(path)).to_json()
            for path in sorted(course.source(lesson).glob("*.ipynb"))}


def plan_grading(course: Course, lesson: str, students=None, limits: Limits | None = None,
                 force: bool = False, retry_failed: bool = False) -> GradingPlan:
    """Which submissions of ``lesson`` to grade.

    Args:
        students: only these students (default: everyone who submitted).
        force: regrade submissions already graded in their current version.
        retry_failed: also regrade unchanged submissions whose last grading failed (a
            crash, a timeout, a submission that could not be executed).
    """
    submitted = course.students(lesson)
    unknown = sorted(set(students or []) - set(submitted))
    if unknown:
        raise CourseError(f"no submission of {lesson} from {', '.join(unknown)} in "
                          f"{course.submissions}")
    chosen = [s for s in submitted if not students or s in students]
    result = GradingPlan(lesson, chosen)
    status = records.load_status(course).get(lesson, {})
    template, names = template_gradebook(course, lesson)
    plans, digest = judge_plans(course, lesson), lesson_digest(course, lesson)
    graded = set(records.graded_students(course, lesson))
    weak = sandbox.bwrap_path() is None   # accepted by the caller (grading.grade)
    for student in chosen:
        folder = course.submissions / student / lesson
        files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())
                 if p.is_file() and p.suffix == ".ipynb"}
        task = GradeTask(lesson, student, files, template, names, limits or Limits(),
                         weak, plans, digest)
        previous = status.get(student, {})
        failed_before = (not previous.get("ok", True)
                         or bool(set(previous.get("flags", [])) & FAILURE_FLAGS))
        if (not force and student in graded and previous.get("digest") == task.digest
                and not (retry_failed and failed_before)):
            score, max_score = records.submission_score(course, lesson, student)
            result.kept[student] = records.Outcome(
                student, lesson, previous.get("ok", True), score, max_score,
                previous.get("reason", ""), previous.get("flags", []), resumed=True)
        else:
            result.tasks.append(task)
    return result
