#!/usr/bin/env python3
"""Plain ``nbgrader autograde`` against ``autograder grade`` on one synthetic class, in one run.

    .venv/bin/python benchmarks/grading_speed.py [LESSON] [--students N] [--cold]

On fresh copies of the same class (complete, partial and blank submissions in turn):

1. plain ``nbgrader autograde`` (one after another, no sandbox, tests in the kernel);
2. ``autograder grade --workers 1`` and 3. ``--workers 2`` (a local process pool);
4. ``autograder grade --scheduler`` on a ``distributed.LocalCluster`` of 2 one-thread
   workers (what a SLURM cluster runs with ``dask-jobqueue``: see the README).

Prints each wall time and its speed-up against plain nbgrader, where the 1-worker run's
time per submission went (the notebook's own execution in the kernel, the judge, and the
rest: kernel start, sandbox, nbgrader, gradebook), the blank submissions' time, the peak
memory of one grading worker (proportional set size of its process tree: worker, kernel
template, kernel), and whether all runs gave identical grades. ``--cold`` also grades the
class with cold kernels (``DLCOURSE_COLD_KERNELS``: TensorFlow imported per submission) to
show what the warm template saves.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DLCOURSE_PROFILE"] = "fast"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import psutil  # noqa: E402

from autograder import notebooks, records  # noqa: E402
from autograder.course import Course  # noqa: E402
from autograder.demo import SAMPLE_STUDENTS, make_samples  # noqa: E402
from autograder.release import new_course  # noqa: E402
from autograder.settings import ensure_tools_on_path  # noqa: E402


def build_class(tmp: Path, source: Path, lesson: str, students: int) -> Course:
    course = new_course(tmp, source, [lesson])
    samples = tmp / "samples"
    make_samples(course, [lesson], samples)
    for i in range(students):
        kind = SAMPLE_STUDENTS[i % len(SAMPLE_STUDENTS)]
        shutil.copytree(samples / kind / lesson,
                        course.submissions / f"student-{i:03d}-{kind.split('-')[1]}" / lesson)
    shutil.copy(ROOT / "nbgrader_config.py", tmp / "nbgrader_config.py")
    return course


class WorkerMemory:
    """Peak proportional set size of one grading worker's process tree (the coordinator's
    pool workers, or the coordinator itself when it grades alone)."""

    def __init__(self, coordinator: psutil.Process):
        self.coordinator, self.peak = coordinator, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _size(process: psutil.Process) -> int:
        try:
            return process.memory_full_info().pss
        except (psutil.Error, AttributeError):
            try:
                return process.memory_info().rss
            except psutil.Error:
                return 0

    def _run(self):
        while not self._stop.wait(0.25):
            try:
                workers = [c for c in self.coordinator.children()
                           if "multiprocessing.spawn" in " ".join(c.cmdline())]
                roots = workers or [self.coordinator]
                for root in roots:
                    tree = [root] + [c for c in root.children(recursive=True)
                                     if not (workers and root is self.coordinator)]
                    self.peak = max(self.peak, sum(self._size(p) for p in tree))
            except psutil.Error:
                pass

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def run(command, cwd, env=None) -> tuple[float, int]:
    """Wall seconds of ``command`` and the peak memory of one of its grading workers."""
    started = time.perf_counter()
    log = open(Path(cwd) / "benchmark.log", "w")
    process = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                               env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})))
    memory = WorkerMemory(psutil.Process(process.pid))
    if process.wait():
        tail = (Path(cwd) / "benchmark.log").read_text(errors="replace")[-1500:]
        raise SystemExit(f"{' '.join(command)} failed with status {process.returncode}:\n"
                         f"{tail}")
    return time.perf_counter() - started, memory.stop()


def breakdown(course: Course, lesson: str) -> dict:
    """Per submission: total grading seconds (status file), the kernel's execution of the
    notebook and the judge's time (cell timing metadata of the autograded notebooks)."""
    status = records.load_status(course).get(lesson, {})
    rows = {}
    for folder in sorted((course.root / "autograded").glob(f"*/{lesson}")):
        kernel = judge = 0.0
        for path in folder.glob("*.ipynb"):
            seconds = notebooks.execution_seconds(notebooks.read(path))
            kernel, judge = kernel + seconds["kernel"], judge + seconds["judge"]
        total = status.get(folder.parent.name, {}).get("seconds", 0.0)
        rows[folder.parent.name] = {"total": total, "kernel": kernel, "judge": judge}
    return rows


def grades(course: Course, lesson: str) -> list:
    return records.grade_rows(course, [lesson])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("lesson", nargs="?", default="02_padding_stride")
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--cold", action="store_true",
                        help="also grade with cold kernels (TensorFlow imported each time)")
    parser.add_argument("--course", type=Path, default=ROOT,
                        help="course holding the lesson (default: this repository)")
    args = parser.parse_args()
    ensure_tools_on_path()
    python, lesson, n = sys.executable, args.lesson, args.students
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        runs = ["plain", "one", "two", "dask"] + (["cold"] if args.cold else [])
        classes = {name: build_class(base / name, args.course, lesson, n) for name in runs}
        print(f"{n} submissions of {lesson} (complete/partial/blank in turn), "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start",
              flush=True)
        walls, peaks = {}, {}
        walls["plain"], _ = run([python, "-m", "nbgrader", "autograde", lesson],
                                classes["plain"].root)
        print(f"plain nbgrader autograde (sequential):   {walls['plain']:7.1f} s", flush=True)
        for name, workers in (("one", 1), ("two", 2)):
            walls[name], peaks[name] = run([python, "-m", "autograder", "grade", lesson,
                                            "--workers", str(workers)], classes[name].root)
            print(f"autograder grade, {workers} worker(s):           {walls[name]:7.1f} s  "
                  f"{walls['plain'] / walls[name]:5.2f}x plain", flush=True)
        from distributed import LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            walls["dask"], _ = run([python, "-m", "autograder", "grade", lesson,
                                    "--scheduler", cluster.scheduler_address],
                                   classes["dask"].root)
        print(f"autograder grade, Dask LocalCluster (2): {walls['dask']:7.1f} s  "
              f"{walls['plain'] / walls['dask']:5.2f}x plain", flush=True)
        if args.cold:
            walls["cold"], _ = run([python, "-m", "autograder", "grade", lesson,
                                    "--workers", "1"], classes["cold"].root,
                                   env={"DLCOURSE_COLD_KERNELS": "1"})
            print(f"autograder grade, 1 worker, cold kernels: {walls['cold']:6.1f} s", flush=True)

        print("\nper submission, 1 worker (mean s)   total  notebook  judge  overhead")
        for name in ("one",) + (("cold",) if args.cold else ()):
            rows = breakdown(classes[name], lesson)
            for kind in ("complete", "partial", "blank", "all"):
                chosen = [r for s, r in rows.items() if kind == "all" or s.endswith(kind)]
                if not chosen:
                    continue
                mean = {k: statistics.mean(r[k] for r in chosen) for k in chosen[0]}
                label = f"{'warm' if name == 'one' else 'cold'} {kind} ({len(chosen)})"
                print(f"  {label:<32} {mean['total']:6.2f}  {mean['kernel']:8.2f}  "
                      f"{mean['judge']:5.2f}  {mean['total'] - mean['kernel'] - mean['judge']:8.2f}")
            total = sum(r["total"] for r in rows.values())
            print(f"  judge's share of grading time: "
                  f"{100 * sum(r['judge'] for r in rows.values()) / total:.1f} %")
        plain_rows = breakdown(classes["plain"], lesson)
        kernel_plain = statistics.mean(r["kernel"] for r in plain_rows.values()) if plain_rows else 0
        print(f"  plain nbgrader: {walls['plain'] / n:.2f} s per submission, of which "
              f"{kernel_plain:.2f} s in its kernel's cells")
        print(f"\npeak memory of one grading worker: 1 worker {peaks['one'] / 2**20:.0f} MiB, "
              f"2 workers {peaks['two'] / 2**20:.0f} MiB each")
        reference = grades(classes["plain"], lesson)
        same = {name: grades(classes[name], lesson) == reference for name in runs[1:]}
        print(f"identical grades to plain nbgrader: {json.dumps(same)}")


if __name__ == "__main__":
    main()
