#!/usr/bin/env python3
"""Every lesson's solution in the ``full`` profile on a GPU, with XLA on and off.

    .venv/bin/python benchmarks/gpu_full_profile.py [LESSON ...] [--mock-data]
                    [--xla both|on|off|default] [--precision mixed_float16] [--parallel N]

Per lesson and XLA setting it prints the wall time of the notebook (kernel start
excluded), whether every cell (visible and hidden checks) passed, each accuracy against
its floor, and the GPU's peak memory (TensorFlow's allocator, ``get_memory_info``).
``--mock-data`` is the smoke run of ``tools/full_profile.py`` (offline: mocked
tensorflow-datasets, no pretrained weights, capped epochs, floors reported as skipped);
without it the real sets and ImageNet weights are downloaded and floors enforced. XLA
"on"/"off" forces ``jit_compile`` in every ``compile()``; Keras' own default ("auto") is
XLA on a GPU. The time for all lessons is printed at the end (target with
``--mock-data``: under 10 minutes on one modern GPU). Without a GPU it still runs, on the
CPU, and says so. ``--parallel N`` runs N notebooks at once (TensorFlow's GPU memory
then grows on demand, ``TF_FORCE_GPU_ALLOW_GROWTH``): shorter in all, but each time is then
measured beside other runs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.course import Course  # noqa: E402
from tools.full_profile import describe_floors, run_solution  # noqa: E402

XLA_CHOICES = {"both": (True, False), "on": (True,), "off": (False,), "default": (None,)}


def _gpu_count() -> int:
    import tensorflow as tf

    return len(tf.config.list_physical_devices("GPU"))


def _mib(value) -> str:
    return "-" if value is None else f"{value / 2**20:,.0f} MiB"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lessons (default: all)")
    parser.add_argument("--mock-data", action="store_true",
                        help="offline smoke run (DLCOURSE_SMOKE=1) instead of the real sets")
    parser.add_argument("--xla", choices=sorted(XLA_CHOICES), default="both")
    parser.add_argument("--precision", default="mixed_float16",
                        choices=("float32", "mixed_float16", "mixed_bfloat16"))
    parser.add_argument("--parallel", type=int, default=1, help="notebooks run at once")
    args = parser.parse_args(argv)
    if args.parallel < 1:
        parser.error("--parallel must be at least 1")
    lessons = Course(ROOT).resolve_lessons(args.lessons)
    gpus = _gpu_count()
    print(f"{gpus} GPU(s) visible" if gpus else
          "no GPU visible: running on the CPU (times and memory are not a GPU's)")
    print(f"{'mock data (smoke run)' if args.mock_data else 'real data'}, {args.precision}\n")
    print(f"{'lesson':<26} {'XLA':<8} {'time':>8} {'GPU peak':>11}  result | floors")
    started, failures = time.perf_counter(), 0
    runs = [(lesson, xla) for lesson in lessons for xla in XLA_CHOICES[args.xla]]
    # spawn, not fork: this process has imported TensorFlow (to count the GPUs)
    with ProcessPoolExecutor(args.parallel, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_solution, lesson, smoke=args.mock_data,
                               precision=args.precision, xla=xla) for lesson, xla in runs]
        for (lesson, xla), future in zip(runs, futures):
            run = future.result()
            failures += run.error is not None
            label = {True: "on", False: "off", None: "default"}[xla]
            result = f"FAILED {run.error}" if run.error else "passed"
            print(f"{lesson:<26} {label:<8} {run.seconds:>7.1f}s {_mib(run.gpu_peak_bytes):>11}"
                  f"  {result} | {describe_floors(run)}", flush=True)
    total = time.perf_counter() - started
    print(f"\nall lessons: {total / 60:.1f} min including kernel starts; {failures} failed run(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
