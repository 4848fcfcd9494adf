"""Grading a lesson, top-down: plan (:mod:`autograder.planning`) → run every task in a
sandboxed kernel with its test cells judged (:mod:`autograder.parallel`, ``worker``,
``judge``) → store each result as it arrives (:mod:`autograder.records`). Prints nothing:
:mod:`autograder.console` shows the progress."""

from __future__ import annotations

from autograder import records, sandbox
from autograder.course import Course, CourseError
from autograder.parallel import Limits, execute
from autograder.planning import plan_grading
from autograder.release import check_released


def grade(course: Course, lesson: str, workers: int | None = None,
          scheduler: str | None = None, force: bool = False, limits: Limits | None = None,
          progress=None, weak_sandbox: bool = False, students=None,
          retry_failed: bool = False) -> list[records.Outcome]:
    """Grade every student who submitted ``lesson``, side by side.

    Args:
        workers: local processes (default: the number of cores; 1 = one at a time).
        scheduler: a Dask scheduler address; the submissions run on that cluster.
        force: regrade submissions already graded in their current version (by default a
            rerun only grades what is new or changed, so an interrupted batch resumes
            where it stopped).
        limits: per-submission time, memory and process limits.
        progress: called with each :class:`records.Outcome` as it completes.
        weak_sandbox: grade even without bubblewrap (student code then runs with the
            grader's rights; every submission's status says so).
        students: grade only these students (default: everyone who submitted).
        retry_failed: also regrade unchanged submissions whose last grading failed.

    Returns:
        One outcome per student, in student order.
    """
    check_released(course, lesson)
    if sandbox.bwrap_path() is None and not weak_sandbox:
        raise CourseError("bubblewrap (bwrap) is not installed, so student code cannot be "
                          "sandboxed: install it (apt-get install bubblewrap) or accept "
                          "weaker isolation explicitly with --weak-sandbox")
    plan = plan_grading(course, lesson, students, limits, force, retry_failed)
    outcomes = dict(plan.kept)
    files = {task.student: task.files for task in plan.tasks}
    for result in execute(plan.tasks, workers=workers, scheduler=scheduler):
        # an infrastructure failure is not the student's doing: no grade, next run retries
        outcome = (records.store_not_graded(course, result) if result.infrastructure
                   else records.store(course, result, plan.timestamps.get(result.student),
                                      files.get(result.student)))
        outcomes[result.student] = outcome
        if progress:
            progress(outcome)
    return [outcomes[s] for s in plan.students]
