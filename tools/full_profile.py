#!/usr/bin/env python3
"""Run lessons' solution notebooks in the ``full`` profile and say how each went.

    .venv/bin/python tools/full_profile.py [LESSON ...] [--real-data] [--precision P]
                                           [--xla on|off]

By default a smoke run on mock data (``DLCOURSE_SMOKE=1``, see ``dlcourse.runtime``):
tensorflow-datasets sets mocked with their real feature specs, no pretrained weights,
epochs and sizes at their ``smoke`` values, accuracy floors reported as skipped; the
precision policy is forced (``mixed_float16`` unless told otherwise, so the full profile's
numerics run on a CPU too). ``--real-data`` runs the real thing (network, pretrained
weights, full epochs, floors enforced). Every cell runs, visible and hidden checks
included, in a kernel of this interpreter. ``tests/test_lessons.py`` runs every lesson
this way, ``benchmarks/gpu_full_profile.py`` times it on a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellExecutionError  # noqa: E402

from autograder import notebooks, settings  # noqa: E402
from autograder.course import Course  # noqa: E402

REPORT_MARK = "DLCOURSE-FULL-RUN "
# Last cell: what the run measured, read back from its output (runs after a failure too).
REPORT_CELL = f"""\
import json as _json
import keras as _keras
import tensorflow as _tf
from dlcourse import checks as _checks

def _low_precision_outputs():
    # The notebook's compiled models (trained, or to be) whose output reaching the loss is
    # not float32: mixed precision keeps that layer in float32.
    names = []
    for name, value in list(globals().items()):
        if (isinstance(value, _keras.Model) and not name.startswith("_")
                and getattr(value, "compiled", False)):
            try:
                dtypes = [_keras.backend.standardize_dtype(o.dtype) for o in value.outputs]
            except Exception:  # a model never called has no outputs yet
                continue
            if any(dtype != "float32" for dtype in dtypes):
                names.append(name)
    return names

_gpus = _tf.config.list_physical_devices("GPU")
print({REPORT_MARK!r} + _json.dumps({{
    "floors": [vars(f) for f in _checks.floors_checked()],
    "gpu_peak_bytes": _tf.config.experimental.get_memory_info("GPU:0")["peak"] if _gpus else None,
    "policy": _keras.mixed_precision.global_policy().name,
    "low_precision_outputs": _low_precision_outputs(),
}}))"""
# First cell with --xla: Keras' default jit_compile="auto" is XLA on a GPU and none on a
# CPU; forcing it one way in every compile() measures what XLA is worth.
XLA_CELL = """\
import keras as _keras
_compile = _keras.Model.compile
def _compile_forcing_xla(self, *args, **kwargs):
    kwargs["jit_compile"] = {xla}
    return _compile(self, *args, **kwargs)
_keras.Model.compile = _compile_forcing_xla"""


@dataclass
class LessonRun:
    """One solution notebook run in ``full``: time, the first error, the floors checked."""

    lesson: str
    seconds: float = 0.0
    error: str | None = None
    floors: list = field(default_factory=list)
    gpu_peak_bytes: int | None = None
    policy: str = ""
    low_precision_outputs: list = field(default_factory=list)
    slowest_cells: list = field(default_factory=list)

    @property
    def skipped_floors(self) -> list:
        return [f for f in self.floors if f["skipped"]]


def environment(smoke: bool, precision: str) -> dict:
    """The kernel's environment: the full profile, the forced policy, smoke or not."""
    return dict(os.environ, DLCOURSE_PROFILE="full", DLCOURSE_PRECISION=precision,
                DLCOURSE_SMOKE="1" if smoke else "0", TF_CPP_MIN_LOG_LEVEL="2",
                TF_FORCE_GPU_ALLOW_GROWTH="true",   # several runs may share one GPU
                PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                         os.environ.get("PYTHONPATH")])))


def _error_text(error: CellExecutionError, index: int, cell) -> str:
    grade_id = notebooks.grade_id(cell) or f"cell {index}"
    return f"{grade_id}: {error.ename}: {error.evalue}"[:2000]


def run_solution(lesson: str, smoke: bool = True, precision: str = "mixed_float16",
                 xla: bool | None = None, cell_timeout: int = 1800,
                 course: Path = ROOT) -> LessonRun:
    """Execute every solution notebook of ``lesson`` in the ``full`` profile.

    Args:
        lesson: the lesson's folder name, e.g. ``"09_practical_advice"``.
        smoke: a smoke run on mock data (``DLCOURSE_SMOKE=1``), else real data.
        precision: the Keras policy forced through ``DLCOURSE_PRECISION``.
        xla: force ``jit_compile`` in every ``compile()`` (None: Keras' default).
        cell_timeout: seconds one cell may take.
        course: the course folder holding ``solutions/``.

    Returns:
        A :class:`LessonRun`; ``error`` names the first cell that raised (the run stops
        there, as in a notebook; the report cell still runs).
    """
    run = LessonRun(lesson)
    source_dir = Path(course) / settings.SOURCE_DIRECTORY / lesson
    for path in sorted(source_dir.glob("*.ipynb")):
        nb = notebooks.read(path)
        if xla is not None:
            nb.cells.insert(0, nbformat.v4.new_code_cell(XLA_CELL.format(xla=xla)))
        nb.cells.append(nbformat.v4.new_code_cell(REPORT_CELL))
        with tempfile.TemporaryDirectory(prefix="full-profile-") as workdir:
            shutil.copytree(source_dir, workdir, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
            client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3",
                                    resources={"metadata": {"path": workdir}})
            # The kernel's temporary files (tfds' mock data folders among them) go with
            # the work folder.
            kernel_tmp = Path(workdir) / ".tmp"
            kernel_tmp.mkdir()
            started = time.perf_counter()
            with client.setup_kernel(env=dict(environment(smoke, precision),
                                              TMPDIR=str(kernel_tmp))):
                for index, cell in enumerate(nb.cells[:-1]):
                    try:
                        client.execute_cell(cell, index)
                    except CellExecutionError as error:
                        run.error = run.error or f"{path.name}: {_error_text(error, index, cell)}"
                        break
                run.seconds += time.perf_counter() - started
                client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
        report = _report(nb.cells[-1])
        run.floors += report.get("floors", [])
        run.policy = report.get("policy", run.policy)
        run.low_precision_outputs += report.get("low_precision_outputs", [])
        if report.get("gpu_peak_bytes") is not None:
            run.gpu_peak_bytes = max(run.gpu_peak_bytes or 0, report["gpu_peak_bytes"])
        run.slowest_cells += notebooks.execution_seconds(nb)["cells"][:3]
    run.slowest_cells = sorted(run.slowest_cells, reverse=True)[:3]
    return run


def _report(cell) -> dict:
    for output in cell.get("outputs", []):
        for line in output.get("text", "").splitlines():
            if line.startswith(REPORT_MARK):
                return json.loads(line[len(REPORT_MARK):])
    return {}


def describe_floors(run: LessonRun) -> str:
    """One line per floor: measured value against the floor, checked or skipped."""
    return "; ".join(f"{f['what']} {f['value']:.3f} vs {f['floor']:.3f}"
                     + (" (skipped)" if f["skipped"] else "") for f in run.floors) or "no floor"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lessons (default: all)")
    parser.add_argument("--real-data", action="store_true",
                        help="real tensorflow-datasets sets and weights (network), full epochs")
    parser.add_argument("--precision", default="mixed_float16",
                        choices=("float32", "mixed_float16", "mixed_bfloat16"))
    parser.add_argument("--xla", choices=("on", "off"), default=None)
    args = parser.parse_args(argv)
    lessons = Course(ROOT).resolve_lessons(args.lessons)
    failed = 0
    for lesson in lessons:
        run = run_solution(lesson, smoke=not args.real_data, precision=args.precision,
                           xla=None if args.xla is None else args.xla == "on")
        failed += run.error is not None
        print(f"{lesson}: {run.seconds:.1f} s, {run.policy}, "
              f"{'FAILED ' + run.error if run.error else 'every cell passed'} | "
              f"outputs not in float32: {run.low_precision_outputs or 'none'} | "
              f"{describe_floors(run)} | slowest cells: "
              + ", ".join(f"{sec:.1f} s #{i} {first!r}" for sec, i, first in run.slowest_cells),
              flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
