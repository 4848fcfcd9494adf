#!/usr/bin/env python3
"""Per lesson: wall time to execute the solution notebook in the fast profile, the peak
memory of its kernel, and the wall time to grade one complete submission through the real
grader (nbgrader autograde: kernel start, execution, gradebook write).

    .venv/bin/python benchmarks/lesson_times.py [LESSON ...]

Prints a table; targets: execution <= 60 s (lessons 00-02) / 90 s (03+) on 2 cores.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DLCOURSE_PROFILE"] = "fast"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from nbclient import NotebookClient  # noqa: E402

from autograder import notebooks, settings  # noqa: E402
from autograder.course import Course  # noqa: E402
from autograder.grading import grade  # noqa: E402
from autograder.release import new_course  # noqa: E402
from benchmarks.memory import PeakChildMemory  # noqa: E402


def execute_solution(lesson: str) -> tuple[float, float]:
    path = next((ROOT / settings.SOURCE_DIRECTORY / lesson).glob("*.ipynb"))
    nb = notebooks.read(path)
    with tempfile.TemporaryDirectory() as workdir, PeakChildMemory() as memory:
        started = time.perf_counter()
        NotebookClient(nb, timeout=settings.CELL_TIMEOUT_SECONDS, kernel_name="python3",
                       resources={"metadata": {"path": workdir}}).execute()
        elapsed = time.perf_counter() - started
    return elapsed, memory.peak / 2**20


def grade_complete(lesson: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        course = new_course(Path(tmp), ROOT, [lesson])
        for released_path in (course.root / settings.RELEASE_DIRECTORY / lesson).glob("*.ipynb"):
            source = notebooks.read(course.root / settings.SOURCE_DIRECTORY / lesson
                                    / released_path.name)
            submission = notebooks.fill_in(notebooks.read(released_path), source)
            notebooks.write(submission, course.submissions / "bench" / lesson
                            / released_path.name)
        started = time.perf_counter()
        outcome, = grade(course, lesson, workers=1)
        elapsed = time.perf_counter() - started
    if not outcome.ok or outcome.score != outcome.max_score:
        print(f"  warning: {lesson} complete submission got {outcome.score}/"
              f"{outcome.max_score} {outcome.reason}")
    return elapsed


def main(argv):
    lessons = Course(ROOT).resolve_lessons(argv)
    print(f"{'lesson':<26} {'execute (s)':>11} {'kernel peak (MiB)':>18} "
          f"{'grade one (s)':>14}", flush=True)
    for lesson in lessons:
        seconds, peak = execute_solution(lesson)
        grading = grade_complete(lesson)
        print(f"{lesson:<26} {seconds:>11.1f} {peak:>18.0f} {grading:>14.1f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
