#!/usr/bin/env python3
"""What judging test cells outside the kernel costs, on the same class, in one run.

    .venv/bin/python benchmarks/judge_cost.py [LESSON] [--students N]

Grades the same synthetic class (complete, partial and blank submissions) twice, one
worker, in the same bubblewrap sandbox: (1) test cells judged by the grader (what
``autograder grade`` does), (2) test cells executed in the student's kernel as plain
nbgrader does (switched here by giving the tasks no judge plan; the grader has no such
option). Prints the time per submission of each, the judge's cost and whether the grades
agree.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DLCOURSE_PROFILE"] = "fast"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.grading_speed import build_class  # noqa: E402

GRADE = """
import json, sys
from autograder import planning
from autograder.course import Course
from autograder.grading import grade
if sys.argv[2] == "in-kernel":
    planning.judge_plans = lambda course, lesson: {}
outcomes = grade(Course(sys.argv[1]), sys.argv[3], workers=1)
print(json.dumps({o.student: o.score for o in outcomes}))
"""


def grade(root: Path, lesson: str, mode: str) -> tuple[float, dict]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", GRADE, str(root), mode, lesson],
                            capture_output=True, text=True, check=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return time.perf_counter() - started, json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("lesson", nargs="?", default="02_padding_stride")
    parser.add_argument("--students", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        judged = build_class(Path(tmp) / "judged", ROOT, args.lesson, args.students)
        in_kernel = build_class(Path(tmp) / "kernel", ROOT, args.lesson, args.students)
        print(f"{args.students} submissions of {args.lesson}, 1 worker, {os.cpu_count()} cores",
              flush=True)
        t_kernel, kernel_scores = grade(in_kernel.root, args.lesson, "in-kernel")
        print(f"tests in the kernel (plain nbgrader way): {t_kernel:7.1f} s "
              f"({t_kernel / args.students:.2f} s per submission)", flush=True)
        t_judge, judge_scores = grade(judged.root, args.lesson, "judge")
        print(f"tests in the judge (autograder):          {t_judge:7.1f} s "
              f"({t_judge / args.students:.2f} s per submission)")
        print(f"judge's cost: {100 * (t_judge / t_kernel - 1):+.1f} % "
              f"({(t_judge - t_kernel) / args.students:+.2f} s per submission)")
        print(f"identical grades: {judge_scores == kernel_scores}")


if __name__ == "__main__":
    main()
