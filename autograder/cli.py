"""``python -m autograder``: release lessons, grade a class, feedback, export, demo."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from autograder import notebooks, sandbox, settings, warm
from autograder.console import grade_lessons, print_summary
from autograder.course import Course, CourseError
from autograder.parallel import Limits
from autograder.release import release


def _course(args) -> Course:
    return Course(args.course, getattr(args, "submissions", None))


def cmd_tidy(args) -> int:
    course = _course(args)
    for lesson in course.resolve_lessons(args.lessons):
        for path in sorted(course.source(lesson).glob("*.ipynb")):
            nb = notebooks.read(path)
            notebooks.write(notebooks.tidy(nb), path)
            print(f"tidied {path.relative_to(course.root)}")
    return 0


def cmd_release(args) -> int:
    course = _course(args)
    lessons = course.resolve_lessons(args.lessons)
    release(course, lessons)
    url, _ = settings.repository(course.root)
    stamp = "stamped for " + url if url else "no Colab stamp (repository_url unset)"
    for lesson in lessons:
        print(f"released {course.released(lesson).relative_to(course.root)} ({stamp})")
    return 0


def cmd_grade(args) -> int:
    course = _course(args)
    lessons = course.resolve_lessons([args.lesson])
    # the command line, else c.Autograder.* in the course's nbgrader_config.py, else defaults
    limits = course.limits(args.cell_timeout, args.notebook_timeout, args.memory_gib,
                           args.max_processes)
    mine = course.settings
    workers = args.workers if args.workers is not None else mine.workers
    scheduler = args.scheduler or mine.scheduler or None
    print(f"sandbox: {sandbox.describe()}")
    print(f"kernels: {warm.describe(args.weak_sandbox or mine.weak_sandbox)}")
    outcomes = grade_lessons(course, lessons, workers, scheduler, args.force, limits,
                             args.weak_sandbox or mine.weak_sandbox, args.student,
                             args.retry_failed)
    if not outcomes:
        raise CourseError(f"nothing to grade: no submissions for {', '.join(lessons)} in "
                          f"{course.submissions}")
    print_summary(course, outcomes)
    not_graded = [o for o in outcomes if o.not_graded]
    failed = [o for o in outcomes if not o.ok and not o.not_graded]
    print(f"graded {len(outcomes) - len(failed) - len(not_graded)} submission(s); "
          f"{len(failed)} could not be executed and got zero (reasons above)"
          + (f"; {len(not_graded)} NOT graded because the grader failed (kept for the next "
             "run: rerun the same command)" if not_graded else ""))
    return 0 if len(failed) + len(not_graded) < len(outcomes) else 1


def cmd_report(args) -> int:
    from autograder.report import PAGE, write_reports

    course = _course(args)
    for text in write_reports(course, course.resolve_lessons([args.lesson]), Path(args.output)):
        print(text)
    print(f"dashboard: {Path(args.output).resolve() / PAGE}")
    return 0


def cmd_feedback(args) -> int:
    from autograder.feedback import write_feedback

    course = _course(args)
    for lesson in course.resolve_lessons([args.lesson]):
        for student, problem in write_feedback(course, lesson):
            print(f"{lesson}/{student}: no feedback ({problem})")
    folder = course.root / course.coursedir.feedback_directory
    print(f"feedback in {folder}/<student>/<lesson>/")
    return 0


def cmd_export(args) -> int:
    from autograder.export import export_csv

    course = _course(args)
    output = args.output or ("moodle_grades.csv" if args.format == "moodle" else "grades.csv")
    count = export_csv(course, course.resolve_lessons([args.lesson]), Path(output),
                       args.format)
    print(f"wrote {count} row(s) to {output}")
    return 0


def cmd_demo(args) -> int:
    from autograder.demo import run_demo

    return run_demo(Path(args.course), Path(args.workspace) if args.workspace else None,
                    args.lessons)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    parser.add_argument("--course", default=".", help="course root (default: current dir)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("tidy", help="clear outputs and metadata of solution notebooks")
    p.add_argument("lessons", nargs="*", help="lesson names or numbers (default: all)")
    p.set_defaults(func=cmd_tidy)

    p = sub.add_parser("release", help="regenerate lessons/ from solutions/")
    p.add_argument("lessons", nargs="*", help="lesson names or numbers (default: all)")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("grade", help="autograde every submission of a lesson (fast profile)")
    p.add_argument("lesson", help="lesson name or number, or 'all'")
    p.add_argument("--submissions", help="folder of <student>/<lesson>/ (default: submitted/)")
    configured = " (default: c.Autograder.%s in nbgrader_config.py, else %s)"
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes; 1: sequential"
                   + configured % ("workers", "the number of cores"))
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786"
                   + configured % ("scheduler", "none: local workers"))
    p.add_argument("--force", action="store_true",
                   help="regrade submissions already graded in their current version")
    defaults = Limits()
    p.add_argument("--cell-timeout", type=int, default=None,
                   help="seconds per cell" + configured % (
                       "cell_timeout", "nbgrader's Execute.timeout"))
    p.add_argument("--notebook-timeout", type=int, default=None,
                   help="seconds per notebook" + configured % (
                       "notebook_timeout", defaults.notebook_timeout))
    p.add_argument("--memory-gib", type=float, default=None,
                   help="memory cap per submission in GiB" + configured % (
                       "memory_gib", f"{defaults.memory_bytes / 2**30:g}"))
    p.add_argument("--max-processes", type=int, default=None,
                   help="processes+threads cap per submission" + configured % (
                       "max_processes", defaults.max_processes))
    p.add_argument("--student", action="append", metavar="ID",
                   help="grade only this student (repeatable)")
    p.add_argument("--retry-failed", action="store_true",
                   help="also regrade unchanged submissions whose last grading crashed, "
                   "timed out or could not be executed")
    p.add_argument("--weak-sandbox", action="store_true",
                   help="grade even without bubblewrap (student code then runs with the "
                   "grader's rights; the status of every submission says so)")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("report", help="per-exercise pass rates, score histogram, problems, "
                       "as report.md and an HTML dashboard")
    p.add_argument("lesson", nargs="?", default="all")
    p.add_argument("--output", default="reports", help="folder (default: reports/)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("feedback", help="write HTML feedback for graded submissions")
    p.add_argument("lesson", help="lesson name or number, or 'all'")
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("export", help="write grades as CSV: every student of the roster, "
                       "missing submissions included")
    p.add_argument("lesson", nargs="?", default="all")
    p.add_argument("--format", choices=["csv", "moodle"], default="csv",
                   help="csv: scores, late penalty, flags and per-exercise scores; moodle: "
                   "the file Moodle's gradebook imports (Grades > Import > CSV file)")
    p.add_argument("--output", help="file (default: grades.csv, moodle_grades.csv)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("demo", help="release and grade the bundled sample submissions in a "
                       "temporary course, print the grade table")
    p.add_argument("lessons", nargs="*", help="lessons to include (default: all)")
    p.add_argument("--workspace", help="keep the course here instead of a temporary folder")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv=None) -> None:
    # nbgrader's gradebook triggers SQLAlchemy autoflush warnings that mean nothing to an
    # instructor; real problems are reported per submission.
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except CourseError as error:
        print(f"error: {error}", file=sys.stderr)
        code = 2
    sys.exit(code)
