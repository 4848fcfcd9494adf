#!/usr/bin/env python3
"""Plain ``nbgrader autograde`` against ``autograder grade`` on the same synthetic class.

    .venv/bin/python benchmarks/grading_speed.py [LESSON] [--students N] [--workers W]

In one run, on fresh copies of one course: (1) nbgrader's own autograde of every student,
one after another; (2) ``autograder grade`` with W workers (default 2: the cores here);
(3) ``autograder grade --workers 1`` on the first 10 students, to show the per-submission
overhead of the sandbox and scratch copies against (1). Prints wall times, the speed-up,
the isolation overhead, and the peak memory of one grading worker (its process tree:
worker, nbgrader, kernel). The class mixes complete, partial and blank submissions.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DLCOURSE_PROFILE"] = "fast"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


from autograder import records  # noqa: E402
from autograder.course import Course  # noqa: E402
from autograder.release import new_course  # noqa: E402
from autograder.settings import ensure_tools_on_path  # noqa: E402
from autograder.demo import make_samples  # noqa: E402
from benchmarks.memory import PeakChildMemory  # noqa: E402


def build_class(tmp: Path, source: Path, lesson: str, students: int) -> Course:
    course = new_course(tmp, source, [lesson])
    samples = tmp / "samples"
    make_samples(course, [lesson], samples)
    kinds = sorted(p.name for p in samples.iterdir())
    for i in range(students):
        shutil.copytree(samples / kinds[i % len(kinds)] / lesson,
                        course.submissions / f"student-{i:03d}" / lesson)
    shutil.copy(ROOT / "nbgrader_config.py", tmp / "nbgrader_config.py")
    return course


def timed(command, cwd) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("lesson", nargs="?", default="02_padding_stride")
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--course", type=Path, default=ROOT,
                        help="course holding the lesson (default: this repository)")
    args = parser.parse_args()
    ensure_tools_on_path()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        plain = build_class(base / "plain", args.course, args.lesson, args.students)
        ours = build_class(base / "ours", args.course, args.lesson, args.students)
        overhead = build_class(base / "overhead", args.course, args.lesson, min(10, args.students))
        print(f"{args.students} submissions of {args.lesson} (complete/partial/blank), "
              f"{os.cpu_count()} cores", flush=True)
        t_plain = timed([sys.executable, "-m", "nbgrader", "autograde", args.lesson],
                        plain.root)
        print(f"plain nbgrader autograde (sequential): {t_plain:8.1f} s", flush=True)
        with PeakChildMemory(per_child=True) as memory:
            t_ours = timed([sys.executable, "-m", "autograder", "grade", args.lesson,
                            "--workers", str(args.workers)], ours.root)
        print(f"autograder grade, {args.workers} workers:        {t_ours:8.1f} s", flush=True)
        print(f"speed-up:                              {t_plain / t_ours:8.2f} x")
        print(f"peak memory of one grading worker:     {memory.peak / 2**20:8.0f} MiB")
        n = min(10, args.students)
        t_seq = timed([sys.executable, "-m", "autograder", "grade", args.lesson,
                       "--workers", "1"], overhead.root)
        per_plain = t_plain / args.students
        print(f"autograder grade, 1 worker, {n} subs:   {t_seq:8.1f} s "
              f"({t_seq / n:.1f} s each vs {per_plain:.1f} s plain: isolation overhead "
              f"{t_seq / n - per_plain:+.1f} s per submission)")
        same = (records.grade_rows(Course(plain.root), [args.lesson])
                == records.grade_rows(Course(ours.root), [args.lesson]))
        print(f"identical grades (plain vs parallel):  {same}")


if __name__ == "__main__":
    main()
