"""Notebook-level helpers shared by the CLI and the tests: tidy, inspect, fill in answers."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
KEPT_NOTEBOOK_METADATA = ("kernelspec",)
# nbgrader metadata, and the lock flags Jupyter honours (nbgrader sets them on locked cells).
KEPT_CELL_METADATA = ("nbgrader", "deletable", "editable")
_ID_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")


def read(path: Path) -> nbformat.NotebookNode:
    """Read a notebook as nbformat v4 (raises nbformat's errors for malformed files)."""
    return nbformat.read(str(path), as_version=4)


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


def is_graded_test(cell) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_solution(cell) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def cell_kind(cell) -> str:
    """"markdown", "test" (graded test cell), "solution" (the student's) or "instructor"."""
    if cell.cell_type != "code":
        return "markdown"
    if is_graded_test(cell):
        return "test"
    return "solution" if is_solution(cell) else "instructor"


def tidy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Clear outputs and execution counts, keep only the kernelspec and nbgrader metadata,
    and give cells stable ids (the grade_id where there is one) so diffs stay small."""
    nb.metadata = {k: nb.metadata[k] for k in KEPT_NOTEBOOK_METADATA if k in nb.metadata}
    nb.nbformat, nb.nbformat_minor = 4, 5
    used = set()
    for index, cell in enumerate(nb.cells):
        cell.metadata = {k: cell.metadata[k] for k in KEPT_CELL_METADATA if k in cell.metadata}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.pop("attachments", None) if not cell.get("attachments") else None
        wanted = _ID_UNSAFE.sub("-", grade_id(cell) or f"cell-{index}")[:64]
        cell_id = wanted
        while cell_id in used:
            cell_id = f"{wanted[:58]}-{index}"
        used.add(cell_id)
        cell.id = cell_id
    return nb


def is_tidy(nb: nbformat.NotebookNode) -> list[str]:
    """Reasons the notebook is not stored tidily (empty list: it is)."""
    problems = []
    extra = set(nb.metadata) - set(KEPT_NOTEBOOK_METADATA)
    if extra:
        problems.append(f"notebook metadata {sorted(extra)}")
    for index, cell in enumerate(nb.cells):
        extra = set(cell.metadata) - set(KEPT_CELL_METADATA)
        if extra:
            problems.append(f"cell {index} metadata {sorted(extra)}")
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            problems.append(f"cell {index} has outputs or an execution count")
    return problems


def solution_code(source: str) -> str:
    """The source cell's text with the BEGIN/END SOLUTION marker lines removed."""
    return "\n".join(line for line in source.splitlines()
                     if line.strip() not in (SOLUTION_BEGIN, SOLUTION_END))


def fill_in(released: nbformat.NotebookNode, source: nbformat.NotebookNode,
            only: set[str] | None = None,
            replacements: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """A student submission made from a released notebook: answers taken from the source.

    Args:
        released: the student version (its solution cells hold the stub).
        source: the instructor version (solution cells hold the answer between markers).
        only: fill only the solution cells whose grade_id is in this set (None: all).
        replacements: grade_id -> code to put there instead of the answer (a mistake).

    Returns:
        A new notebook; ``released`` is not modified.
    """
    answers = {grade_id(c): solution_code(c.source) for c in source.cells if is_solution(c)}
    replacements = replacements or {}
    unknown = set(replacements) - set(answers)
    if unknown:
        raise ValueError(f"no solution cell with grade_id {sorted(unknown)}")
    submission = nbformat.from_dict(released)
    for cell in submission.cells:
        gid = grade_id(cell)
        if not is_solution(cell) or gid not in answers:
            continue
        if gid in replacements:
            cell.source = replacements[gid]
        elif only is None or gid in only:
            cell.source = answers[gid]
    return submission


def executable_source(source: str) -> str:
    """Cell source without IPython magics and shell escapes (plain Python, for ``ast`` and
    for the judge)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def imported_modules(nb: nbformat.NotebookNode) -> list[str]:
    """Absolute modules the notebook's code cells import (``import a.b``, ``from a.b import
    c``): what a warm kernel template loads ahead of the kernels that run it."""
    import ast

    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(executable_source(cell.source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append(node.module)
    return sorted(set(found))


JUDGE_SECONDS = "dlcourse.judge_seconds"   # cell metadata: the judge's time on a test


def execution_seconds(nb: nbformat.NotebookNode) -> dict:
    """Where an executed notebook's time went, from its cells' timing metadata:
    ``{"kernel": s, "judge": s, "cells": [(seconds, index, first line), ...]}`` (nbclient
    records when each cell ran in the kernel; the judge records its own time per test)."""
    from datetime import datetime

    kernel = judge = 0.0
    cells = []
    for index, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        if JUDGE_SECONDS in timing:
            seconds = float(timing[JUDGE_SECONDS])
            judge += seconds
        elif "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
            seconds = (parse(timing["shell.execute_reply"])
                       - parse(timing["iopub.execute_input"])).total_seconds()
            kernel += seconds
        else:
            continue
        first = next((line for line in cell.source.splitlines() if line.strip()), "")
        cells.append((seconds, index, first[:60]))
    return {"kernel": kernel, "judge": judge, "cells": sorted(cells, reverse=True)}
