"""What the judge runs for a lesson, worked out once from the instructor's source notebook.

The judge (``autograder.judge``) executes a lesson's graded test cells outside the
student's kernel. A test cell reads three kinds of names:

- names it binds itself, or that an earlier test cell bound (judge-only);
- names the instructor's own cells compute without any student code: imports, helper
  functions, constants, data sets, reference models. The judge computes these itself, by
  running exactly those top-level statements of the *source* notebook that the test needs
  (a slice), so inputs, references and thresholds never come from the kernel;
- names the student's code defines (solution cells) or that instructor statements derive
  from them (e.g. ``history = train(model)``): the judge fetches these from the kernel as
  data, or as a handle on which it can only call and read, see ``dlcourse.remote``.

The plan is plain JSON, so it travels inside a grading task to any worker.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import asdict, dataclass, field

from autograder.notebooks import cell_kind, executable_source

BUILTIN_NAMES = frozenset(dir(builtins)) | {"__name__", "__file__", "get_ipython", "display"}
JUDGE, KERNEL, TEST = "judge", "kernel", "test"


@dataclass
class Statement:
    """One top-level statement of an instructor cell."""

    position: int          # index of the cell in the source notebook
    source: str
    stores: set
    loads: set
    deferred: bool         # a def/class: its body runs only when called


@dataclass
class JudgeStep:
    """Before test cell ``grade_id``: run ``prelude`` (trusted statements, once each, in
    notebook order), bind ``kernel_names`` from the kernel, then run ``source``."""

    grade_id: str
    source: str
    hidden: bool
    prelude: list = field(default_factory=list)       # indices into JudgePlan.statements
    kernel_names: list = field(default_factory=list)


@dataclass
class JudgePlan:
    statements: list                                   # source strings, notebook order
    steps: dict                                        # grade_id -> JudgeStep
    problems: list = field(default_factory=list)       # authoring errors (tested)

    def to_json(self) -> dict:
        return {"statements": self.statements, "problems": self.problems,
                "steps": {k: asdict(v) for k, v in self.steps.items()}}

    @classmethod
    def from_json(cls, value: dict) -> "JudgePlan":
        return cls(value["statements"], {k: JudgeStep(**v) for k, v in value["steps"].items()},
                   value.get("problems", []))


class _Names(ast.NodeVisitor):
    """Free (loaded but not bound) and bound names of a piece of code, scopes included."""

    def __init__(self):
        self.loads, self.stores = set(), set()

    def visit_Name(self, node):
        (self.loads if isinstance(node.ctx, ast.Load) else self.stores).add(node.id)

    def visit_Compare(self, node):
        # `"history" in globals()` reads the name too
        if (isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)
                and any(isinstance(c, ast.Call) and isinstance(c.func, ast.Name)
                        and c.func.id in ("globals", "locals", "dir")
                        for c in node.comparators)):
            self.loads.add(node.left.value)
        self.generic_visit(node)

    def visit_arg(self, node):
        self.stores.add(node.arg)
        self.generic_visit(node)

    def visit_ExceptHandler(self, node):
        if node.name:
            self.stores.add(node.name)
        self.generic_visit(node)

    def _define(self, node):
        self.stores.add(node.name)
        self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _define

    def visit_Import(self, node):
        for alias in node.names:
            self.stores.add((alias.asname or alias.name).split(".")[0])

    visit_ImportFrom = visit_Import

    def visit_Global(self, node):
        self.stores.update(node.names)


def free_names(tree: ast.AST) -> set:
    """Names a piece of code reads that neither it nor Python's builtins define."""
    names = _Names()
    names.visit(tree)
    return names.loads - names.stores - BUILTIN_NAMES


def _top_level_stores(node: ast.stmt, modules: set = frozenset()) -> set:
    """Names a top-level statement (re)binds or visibly mutates (``x.fit()``, ``x[i] = v``;
    a method call on an imported module, ``keras.utils.set_random_seed(0)``, binds nothing)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    stores, mutated = set(), set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            stores.add(sub.id)
        elif isinstance(sub, (ast.Attribute, ast.Subscript)) and isinstance(
                sub.ctx, (ast.Store, ast.Del)):
            root = sub.value
            while isinstance(root, (ast.Attribute, ast.Subscript)):
                root = root.value
            if isinstance(root, ast.Name):
                mutated.add(root.id)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        target = node.value.func          # x.fit(...), x.append(...): a method may mutate x
        if isinstance(target, ast.Attribute):
            root = target.value
            while isinstance(root, (ast.Attribute, ast.Subscript)):
                root = root.value
            if isinstance(root, ast.Name):
                mutated.add(root.id)
    return stores | (mutated - modules)


def _answer_lines(source: str) -> set:
    """Line numbers (1-based) between ``### BEGIN SOLUTION`` and ``### END SOLUTION``."""
    lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), 1):
        marker = line.strip()
        if marker.startswith("### BEGIN SOLUTION"):
            inside = True
        if inside:
            lines.add(number)
        if marker.startswith("### END SOLUTION"):
            inside = False
    return lines


def _direct_binds(node: ast.stmt) -> set:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _loads(node: ast.stmt) -> set:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return free_names(node)
    names = _Names()
    names.visit(node)
    return names.loads - BUILTIN_NAMES


def plan(nb) -> JudgePlan:
    """The judge's plan for a source notebook (the instructor's version, from solutions/)."""
    statements: list[Statement] = []
    status: dict[str, str] = {}       # name -> JUDGE | KERNEL | TEST, as the notebook runs
    steps: dict[str, JudgeStep] = {}
    problems: list[str] = []
    # Instructor functions whose body calls the student's code: a statement calling one
    # at top level runs student code, so what it binds comes from the kernel.
    uses_kernel: set[str] = set()
    modules: set[str] = set()         # names bound by import statements
    for position, cell in enumerate(nb.cells):
        kind = cell_kind(cell)
        if kind == "markdown":
            continue
        source = executable_source(cell.source)
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", f"cell {position}")
        try:
            tree = ast.parse(source)
        except SyntaxError as error:
            problems.append(f"{grade_id}: not valid Python ({error.msg}, line {error.lineno})")
            continue
        if kind == "test":
            needed = free_names(tree)
            steps[grade_id] = _step(grade_id, source, needed, statements, status, problems)
            names = _Names()
            names.visit(tree)
            for name in names.stores:
                status[name] = TEST
            continue
        # A cell that runs in the student's kernel must not rely on a test cell's names:
        # test cells no longer run there.
        for name in sorted(free_names(tree)):
            if status.get(name) == TEST:
                problems.append(f"{grade_id}: reads {name!r}, which only a test cell defines "
                                "(test cells run in the judge, not in the kernel)")
        answer_lines = _answer_lines(source) if kind == "solution" else set()
        for node in tree.body:
            # In a solution cell, statements outside the answer markers are the
            # instructor's (the judge computes them itself unless they use student code).
            statement_kind = kind
            if kind == "solution" and not answer_lines & set(
                    range(node.lineno, (node.end_lineno or node.lineno) + 1)):
                statement_kind = "instructor"
            stores, loads = _top_level_stores(node, modules), _loads(node)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules.update(stores)
            else:
                modules.difference_update(n for n in stores if n in _direct_binds(node))
            deferred = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            if statement_kind == "solution" and isinstance(node, (ast.Import, ast.ImportFrom)):
                pass  # a module is the same module in the judge: import it there too
            elif statement_kind == "solution" or (not deferred and any(
                    status.get(n) == KERNEL or n in uses_kernel for n in loads)):
                for name in stores:
                    status[name] = KERNEL
                continue
            if deferred and any(status.get(n) == KERNEL or n in uses_kernel for n in loads):
                uses_kernel.update(stores)
            else:
                uses_kernel.difference_update(stores)
            statements.append(Statement(position, ast.get_source_segment(source, node) or
                                        ast.unparse(node), stores, loads, deferred))
            for name in stores:
                status[name] = JUDGE
    return JudgePlan([s.source for s in statements], steps, problems)


def _step(grade_id, source, needed, statements, status, problems) -> JudgeStep:
    """Slice the trusted statements a test needs; the rest of its names come from the kernel."""
    chosen: set[int] = set()
    kernel: set[str] = set()
    work, seen = list(needed), set()
    while work:
        name = work.pop()
        if name in seen:
            continue
        seen.add(name)
        state = status.get(name)
        if state == TEST:
            continue
        if state != JUDGE:
            kernel.add(name)       # the student's, or derived from it, or unknown
            continue
        for index, statement in enumerate(statements):
            if name in statement.stores and index not in chosen:
                chosen.add(index)
                work.extend(statement.loads)
    return JudgeStep(grade_id, source, "BEGIN HIDDEN TESTS" in source, sorted(chosen),
                     sorted(kernel))
