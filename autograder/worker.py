"""nbgrader autograde of one submission inside its scratch course, and what the grader
learns from it: per-cell scores, crashes, timeouts, errors in the student's own cells,
attempts to switch checks off. Student code runs in the sandboxed kernel, never here."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

CRASH_WORDS = ("DeadKernelError", "Kernel died", "kernel died", "UnresponsiveKernelError")
# jupyter_client's words for a kernel that never answered its first message (so no
# student code ran): the sandbox or the grader failed, not the submission.
KERNEL_START_FAILURES = ("Kernel died before replying to kernel_info",
                         "Kernel didn't respond in")


def _error_outputs(nb) -> list[str]:
    return [o.get("ename", "") for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


def _ungraded_errors(nb) -> list[str]:
    """Errors raised by the student's own cells: they explain lost points elsewhere."""
    from autograder.notebooks import is_graded_test

    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or is_graded_test(cell):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") not in (
                    "NotImplementedError", "CellTimeoutError"):
                found.append(f"cell {index} raised {output.get('ename')}: "
                             f"{str(output.get('evalue', ''))[:120]}")
    return found


def _is_nbgrader_execute(preprocessor) -> bool:
    name = preprocessor if isinstance(preprocessor, str) else (
        f"{preprocessor.__module__}.{preprocessor.__qualname__}")
    return name.startswith("nbgrader.preprocessors") and name.endswith(".Execute")


def autograde_scratch(scratch: Path, lesson: str, student: str, cell_timeout: int,
                      plan_directory: Path | None = None, course_settings=None) -> dict:
    """Autograde ``scratch/course/submitted/<student>/<lesson>`` with the sandbox kernel,
    under the course's own autograding settings (``course_settings``, see
    :func:`autograder.settings.autograde_settings`) and the grader's: its folders, the
    sandbox kernel, the timeout, the judge.

    Returns:
        ``{"success", "cells": {"notebook/grade_id": [score, max]}, "flags", "notes",
        "error"}``.
    """
    warnings.filterwarnings("ignore")
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from autograder import notebooks
    from autograder.sandbox import KERNEL_NAME
    from autograder.settings import ensure_tools_on_path

    ensure_tools_on_path()
    course = Path(scratch) / "course"
    config = Config(course_settings or {})
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    config.Execute.timeout = cell_timeout
    config.Execute.kernel_name = KERNEL_NAME
    if plan_directory is not None:
        # Graded test cells are judged in this process, not in the student's kernel.
        from nbgrader.converters import Autograde

        from autograder.judge import JudgedExecute

        chosen = config.Autograde.get("autograde_preprocessors") or (
            Autograde.class_traits()["autograde_preprocessors"].default())
        config.Autograde.autograde_preprocessors = [
            JudgedExecute if _is_nbgrader_execute(p) else p for p in chosen]
        config.JudgedExecute.plan_directory = str(plan_directory)
    config.Application.log_level = logging.ERROR
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    with contextlib.redirect_stdout(io.StringIO()):
        outcome = api.autograde(lesson, student, force=True, create=True)
    log = (outcome.get("error") or "") + "\n" + (outcome.get("log") or "")
    result = {"success": bool(outcome["success"]), "cells": {}, "flags": [], "notes": [],
              "kernel_never_started": any(m in log for m in KERNEL_START_FAILURES),
              "log": log}
    if any(word in log for word in CRASH_WORDS):
        result["flags"].append("crash")
        result["notes"].append("the kernel died while running the notebook (a crash, "
                               "os._exit, or the memory cap); later cells were not run")
    if not outcome["success"]:
        lines = [l.strip() for l in log.splitlines() if l.strip()]
        errors = [l for l in lines if "rror" in l]
        result["error"] = (errors or lines or ["unknown error"])[-1][:400]
    from autograder.tamper import scan_notebook

    submitted = course / "submitted" / student / lesson
    for path in sorted(submitted.glob("*.ipynb")):
        hits = scan_notebook(notebooks.read(path))
        if hits:
            result["flags"].append("tamper")
            result["notes"].append("code that may switch checks off, for review: "
                                   + "; ".join(hits[:3]))
    folder = course / "autograded" / student / lesson
    for path in sorted(folder.glob("*.ipynb")):
        names = _error_outputs(notebooks.read(path))
        if "CellTimeoutError" in names or "TimeoutError" in names:
            result["flags"].append("timeout")
            result["notes"].append(f"a cell ran longer than {cell_timeout} s and was stopped")
        if "SystemExit" in names:
            result["notes"].append("the notebook called sys.exit()")
        errors = _ungraded_errors(notebooks.read(path))
        if errors:
            result["notes"].append("; ".join(errors[:3]))
    if outcome["success"]:
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            submission = gb.find_submission(lesson, student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.cell.max_score:
                        key = f"{notebook.name}/{grade.name}"
                        result["cells"][key] = [float(grade.score), float(grade.max_score)]
    return result
