"""What the instructor sees while grading: a progress bar, a line per submission, the
grade table. Grading itself (``autograder.course``) prints nothing."""

from __future__ import annotations

import os
import sys

from autograder import records
from autograder.course import Course
from autograder.grading import grade
from autograder.parallel import Limits
from autograder.records import Outcome


def print_table(course: Course, lessons) -> None:
    """The gradebook's scores, with the reason of every submission that could not be
    graded."""
    rows = records.grade_rows(course, lessons)
    reasons = records.failure_reasons(course)
    if not rows:
        print("(no grades in the gradebook)")
        return
    print(f"{'lesson':<26} {'student':<22} {'score':>12}  note")
    for row in rows:
        note = reasons.get((row["lesson"], row["student"]), "")
        print(f"{row['lesson']:<26} {row['student']:<22} "
              f"{row['score']:>5g} / {row['max_score']:<5g}  {note}")


def grade_lessons(course: Course, lessons, workers=None, scheduler=None, force=False,
                  limits: Limits | None = None, weak_sandbox: bool = False, students=None,
                  retry_failed: bool = False) -> list[Outcome]:
    """Grade every lesson's submissions with a progress bar and one line per submission."""
    from tqdm import tqdm

    outcomes = []
    for lesson in lessons:
        selected = [s for s in course.students(lesson) if not students or s in students]
        if not selected:
            print(f"{lesson}: no submissions in {course.submissions}")
            continue
        where = f"Dask cluster {scheduler}" if scheduler else (
            f"{workers or os.cpu_count()} local worker(s)")
        print(f"{lesson}: {len(selected)} submission(s) on {where}", flush=True)
        with tqdm(total=len(selected), unit="submission", leave=False,
                  disable=not sys.stderr.isatty()) as bar:
            def progress(outcome: Outcome):
                detail = f"{outcome.score:g}/{outcome.max_score:g}"
                if outcome.not_graded:
                    detail = f"NOT GRADED ({outcome.reason})"
                elif not outcome.ok:
                    detail = f"0 (could not be executed: {outcome.reason})"
                elif outcome.reason:
                    detail += f" ({outcome.reason})"
                bar.write(f"  {outcome.student}: {detail} [{outcome.seconds:.0f} s]")
                bar.update()

            graded = grade(course, lesson, workers=workers, scheduler=scheduler, force=force,
                                  limits=limits, progress=progress,
                                  weak_sandbox=weak_sandbox, students=students,
                                  retry_failed=retry_failed)
        resumed = [o for o in graded if o.resumed]
        if resumed:
            print(f"  {len(resumed)} submission(s) already graded in this version, kept "
                  "(use --force to regrade)")
        outcomes += graded
    return outcomes


