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




def print_summary(course: Course, outcomes: list[Outcome]) -> None:
    """One screen at the end of ``grade``: per lesson, what happened to its submissions,
    which need a person, how long it took, where the logs are."""
    from collections import Counter
    from statistics import mean, median

    status = records.load_status(course)
    print("\n== summary ==")
    for lesson in dict.fromkeys(o.lesson for o in outcomes):
        mine = [o for o in outcomes if o.lesson == lesson]
        graded = [o for o in mine if o.ok and not o.not_graded]
        percents = [100 * o.score / o.max_score for o in graded if o.max_score]
        line = f"{lesson}: {len(mine)} submission(s), {len(graded)} graded"
        if percents:
            line += (f" (mean {mean(percents):.0f} %, {sum(p == 100 for p in percents)} full "
                     f"marks, {sum(p == 0 for p in percents)} zero)")
        failed = sum(not o.ok and not o.not_graded for o in mine)
        not_graded = sum(o.not_graded for o in mine)
        line += (f", {failed} could not be executed" if failed else "") + (
            f", {not_graded} NOT graded (grader failure: rerun)" if not_graded else "")
        print(line)
        flags = Counter(f for o in mine for f in o.flags if f != "not-graded")
        if flags:
            print("  flags: " + ", ".join(f"{flag} {count}" for flag, count
                                          in flags.most_common()))
        review = [s for s, e in status.get(lesson, {}).items() if e.get("review")
                  and any(o.student == s for o in mine)]
        if review:
            print(f"  for review in formgrader ({len(review)}): {', '.join(review[:8])}"
                  + (" ..." if len(review) > 8 else ""))
        timed = [o for o in mine if not o.resumed and o.seconds]
        if timed:
            slowest = max(timed, key=lambda o: o.seconds)
            print(f"  time per submission: median {median(o.seconds for o in timed):.1f} s, "
                  f"slowest {slowest.seconds:.1f} s ({slowest.student})")
        if mine:
            example = records.log_path(course, lesson, mine[0].student)
            print(f"  logs: {example.parent.parent}/<student>/{example.name}; "
                  f"report: python -m autograder report {lesson}")
