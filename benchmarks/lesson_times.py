#!/usr/bin/env python3
"""Every lesson inside its budget: per lesson, the solution notebook executed in the fast
profile (wall time, the kernel's CPU time and peak memory, its slowest cells), and one
complete submission graded through the real grader with a warm kernel (its time and the
grader's overhead: total minus the kernel's execution and the judge).

    .venv/bin/python benchmarks/lesson_times.py [LESSON ...]

Budget: at most 60 s of execution per lesson on this 2-core machine. The solution runs in
a plain ``python3`` kernel started for it (TensorFlow imported inside, as a student's
kernel does), so its time includes that import.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DLCOURSE_PROFILE"] = "fast"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

from autograder import notebooks, records  # noqa: E402
from autograder.course import Course  # noqa: E402
from autograder.grading import grade  # noqa: E402
from autograder.release import new_course  # noqa: E402

BUDGET_SECONDS = 60
# The kernel's CPU time (its own and its children's) and its peak resident memory: VmHWM,
# not ru_maxrss, which Linux keeps across execve (the kernel would inherit the peak of the
# process that started it).
USAGE = ("import json as _j, resource as _r\n"
         "_s, _c = _r.getrusage(_r.RUSAGE_SELF), _r.getrusage(_r.RUSAGE_CHILDREN)\n"
         "_hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
         "print(_j.dumps({'cpu': _s.ru_utime + _s.ru_stime + _c.ru_utime + _c.ru_stime,"
         " 'peak_kib': int(_hwm.split()[1])}))")


def execute_solution(course: Course, lesson: str) -> dict:
    """Run the solution notebooks; wall, kernel CPU, kernel peak memory, slowest cells."""
    result = {"wall": 0.0, "cpu": 0.0, "peak": 0.0, "cells": []}
    for path in sorted(course.source(lesson).glob("*.ipynb")):
        nb = notebooks.read(path)
        nb.cells.append(nbformat.v4.new_code_cell(USAGE))
        with tempfile.TemporaryDirectory() as workdir:
            started = time.perf_counter()
            NotebookClient(nb, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": workdir}}).execute()
            result["wall"] += time.perf_counter() - started
        usage = json.loads(nb.cells[-1].outputs[0]["text"])
        result["cpu"] += usage["cpu"]
        result["peak"] = max(result["peak"], usage["peak_kib"] / 1024)
        result["cells"] += notebooks.execution_seconds(nb)["cells"][:3]
    result["cells"] = sorted(result["cells"], reverse=True)[:3]
    return result


def grade_complete(course: Course, lesson: str) -> dict:
    """Grade two identical complete submissions (the first starts this process's kernel
    template for the lesson); the second's time, its parts, and its score."""
    for student in ("first", "second"):
        for released in sorted((course.root / "lessons" / lesson).glob("*.ipynb")):
            source = notebooks.read(course.source(lesson) / released.name)
            submission = notebooks.fill_in(notebooks.read(released), source)
            notebooks.write(submission, course.submissions / student / lesson / released.name)
    outcomes = {o.student: o for o in grade(course, lesson, workers=1)}
    second = outcomes["second"]
    kernel = judge = 0.0
    for path in (course.root / "autograded" / "second" / lesson).glob("*.ipynb"):
        seconds = notebooks.execution_seconds(notebooks.read(path))
        kernel, judge = kernel + seconds["kernel"], judge + seconds["judge"]
    sandbox = records.load_status(course)[lesson]["second"].get("sandbox", "")
    return {"total": second.seconds, "kernel": kernel, "judge": judge,
            "full": second.score == second.max_score, "warm": "warm-template" in sandbox}


def main(argv):
    lessons = Course(ROOT).resolve_lessons(argv)
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
    print(f"{'lesson':<24} {'run (s)':>7} {'CPU (s)':>7} {'peak MiB':>8} {'grade (s)':>9} "
          f"{'judge':>6} {'overhead':>8}  slowest cells (s)", flush=True)
    total = 0.0
    over = []
    for lesson in lessons:
        with tempfile.TemporaryDirectory() as tmp:
            course = new_course(Path(tmp), ROOT, [lesson])
            run = execute_solution(course, lesson)
            graded = grade_complete(course, lesson)
        total += run["wall"]
        if run["wall"] > BUDGET_SECONDS:
            over.append(lesson)
        slowest = "; ".join(f"{s:.1f} cell {i} {text[:28]}" for s, i, text in run["cells"])
        flag = "" if graded["full"] and graded["warm"] else (
            "  [NOT FULL MARKS]" if not graded["full"] else "  [cold kernel]")
        overhead = graded["total"] - graded["kernel"] - graded["judge"]
        print(f"{lesson:<24} {run['wall']:>7.1f} {run['cpu']:>7.1f} {run['peak']:>8.0f} "
              f"{graded['total']:>9.1f} {graded['judge']:>6.1f} {overhead:>8.2f}  "
              f"{slowest}{flag}", flush=True)
    print(f"all lessons: {total:.0f} s of execution; over the {BUDGET_SECONDS} s budget: "
          f"{', '.join(over) or 'none'}")


if __name__ == "__main__":
    main(sys.argv[1:])
