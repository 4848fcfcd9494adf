"""Spot student code that tries to switch checks off (monkeypatching the check functions,
NumPy, Keras, builtins, or IPython's error reporting).

The checks already resist the plain forms (``dlcourse.checks`` is read-only, it binds the
NumPy functions and builtins it uses when imported, and counts parameters from the
variables), and nbgrader restores every graded cell; this scan makes the remaining
attempts visible to the instructor instead of silently trusted.
"""

from __future__ import annotations

import ast

GUARDED_ROOTS = {"checks", "dlcourse", "np", "numpy", "keras", "tf", "tensorflow",
                 "builtins", "__builtins__", "sys", "IPython", "get_ipython", "layers",
                 "AssertionError"}
GUARDED_NAMES = {"set_custom_exc", "showtraceback", "excepthook", "__builtins__",
                 "count_params", "AssertionError"}


def _root(node) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _describe(node) -> str:
    try:
        return ast.unparse(node)[:80]
    except Exception:  # pragma: no cover - unparse handles every parsed node
        return type(node).__name__


def scan_source(source: str) -> list[str]:
    """Suspicious statements in one cell's code, as short descriptions."""
    lines = [line for line in source.splitlines()
             if not line.lstrip().startswith(("%", "!"))]  # IPython magics are not Python
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            if isinstance(target, (ast.Attribute, ast.Subscript)) and (
                    _root(target) in GUARDED_ROOTS):
                found.append(f"line {node.lineno}: assigns to {_describe(target)}")
            elif isinstance(target, ast.Name) and target.id in GUARDED_NAMES:
                found.append(f"line {node.lineno}: rebinds {target.id}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                node.func.id in ("setattr", "delattr")) and node.args and (
                _root(node.args[0]) in GUARDED_ROOTS):
            found.append(f"line {node.lineno}: {_describe(node)}")
        if isinstance(node, ast.Attribute) and node.attr in GUARDED_NAMES - {
                "count_params", "AssertionError"}:
            found.append(f"line {node.lineno}: uses {_describe(node)}")
    return list(dict.fromkeys(found))


def scan_notebook(nb) -> list[str]:
    """Suspicious statements in the student's own cells (graded cells are restored by
    nbgrader, so only the others are scanned)."""
    from autograder.notebooks import is_graded_test

    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and not is_graded_test(cell):
            found += [f"cell {index}, {hit}" for hit in scan_source(cell.source)]
    return found
