"""Mutation testing of the lessons' checks: mutants of every solution cell, graded by the
real grader.

A *mutant* is a solution cell of a source notebook (``solutions/NN_slug/NN_slug.ipynb``)
with exactly one small change inside its solution region (the code between
``### BEGIN SOLUTION`` and ``### END SOLUTION``), made on the cell's ``ast`` and written
back with ``ast.unparse``. Code outside the region (signatures, docstrings, validation
the student is given) is never mutated, and neither are message texts (f-strings).

Operators (``OPERATORS``):

``number``      int constants +1 / -1; floats: integral ones +1 / -1, others x2 / /2
``arith``       ``+`` <-> ``-``, ``*`` <-> ``//`` (also ``/`` -> ``*``; ``+=`` etc.)
``compare``     boundaries ``<`` <-> ``<=``, ``>`` <-> ``>=``
``padding``     the strings "same" <-> "valid" (any case)
``strides``     ``strides=k`` -> k+1, k-1 (ints and tuples of ints)
``activation``  "relu" / "tanh" / "linear" / "sigmoid" / "softmax": each other one
``pooling``     MaxPooling* <-> AveragePooling* (also Global*, MaxPool*/AvgPool*,
                ``max_pool*`` / ``avg_pool*``) in the name called
``axis``        ``axis=k`` -> k+1, k-1
``use_bias``    ``use_bias=True`` <-> ``False``; ``use_bias=False`` added to a Dense/Conv
                call that has none
``epsilon``     ``epsilon=`` / ``eps=`` keywords and names assigned ``eps*``: x100, /100
``skip``        residual additions dropped: ``layers.Add()([a, b])`` -> ``a`` (and ``b``),
                ``add([a, b])``, ``x + shortcut`` -> ``x`` where an operand is named like
                a skip connection (shortcut, skip, residual, identity, inputs, ...)
``swap``        two consecutive statements of one block swapped, when they depend on each
                other (one reads or updates a name the other writes, or both update it;
                a method call ``m.f(...)`` counts as updating ``m``): swapping independent
                statements changes nothing and is not generated
``norm``        a BatchNormalization / LayerNormalization / GroupNormalization layer
                replaced by the identity (``Norm(...)(x)`` -> ``x``, else ``Identity()``)

Each mutant has a stable id ``LESSON:GRADE_ID:OPERATOR:LINE.COL:VARIANT`` (LESSON is the
lesson's number, LINE counted from the cell's ``### BEGIN SOLUTION`` line, COL the
column of the mutated node in the cell) and a one-line description.

Grading (:func:`grade_mutants`): one submission per mutant, built with
``notebooks.fill_in(released, source, replacements={grade_id: mutated_code})``, all
mutants of a lesson graded in one run of :func:`autograder.grading.grade` on a course made
by :func:`autograder.release.new_course`, each mutant a student named after its id. A
mutant is *killed* when its gradebook score is below the full solution's (a control
submission of the unmutated solution, graded in the same run, or the maximum score).

Equivalent mutants are declared by id, each with a reason, in
``tests/mutants_equivalent.toml``::

    [[equivalent]]
    id = "02:same_padding:compare:1.7:lte"
    reason = "..."

A declared mutant is still generated and graded; it counts as *equivalent* when it
survives (a declared mutant that is killed is reported as a wrong declaration).

    .venv/bin/python tools/mutate.py list 02 [--operator compare]
    .venv/bin/python tools/mutate.py show 02:same_padding:compare:1.7:lte
"""

from __future__ import annotations

import argparse
import ast
import copy
import random
import re
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from autograder import notebooks, settings  # noqa: E402

EQUIVALENT_FILE = ROOT / "tests" / "mutants_equivalent.toml"
ACTIVATIONS = ("relu", "tanh", "linear", "sigmoid", "softmax")
PADDINGS = {"same": "valid", "valid": "same"}
SKIP_NAME = re.compile(r"(short|skip|resid|ident|^inputs?$|^x_?in|^prev)", re.IGNORECASE)
NORM_LAYERS = ("BatchNormalization", "LayerNormalization", "GroupNormalization",
               "UnitNormalization", "SyncBatchNormalization")
BIAS_LAYERS = re.compile(r"^(Dense|Conv[123]D|Conv[123]DTranspose|DepthwiseConv[12]D|"
                         r"SeparableConv[12]D|EinsumDense)$")
POOL_SWAPS = (("MaxPooling", "AveragePooling"), ("MaxPool", "AvgPool"),
              ("max_pool", "avg_pool"))
ARITH_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv,
               ast.FloorDiv: ast.Mult, ast.Div: ast.Mult}
COMPARE_SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
OP_TEXT = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.Div: "/",
           ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
# names of modules (a call of their functions updates no object of the cell)
MODULES = {"np", "numpy", "tf", "keras", "layers", "ops", "math", "checks", "data", "plots",
           "runtime", "remote", "random", "itertools", "functools", "collections", "os",
           "sys", "json", "time", "re", "sklearn", "skimage", "scipy", "plt", "dlcourse",
           "models", "optimizers", "losses", "metrics", "applications", "initializers",
           "regularizers", "activations", "callbacks", "backend"}
OP_NAME = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.FloorDiv: "floordiv",
           ast.Div: "div", ast.Lt: "lt", ast.LtE: "lte", ast.Gt: "gt", ast.GtE: "gte"}
OPERATORS = ("number", "arith", "compare", "padding", "strides", "activation", "pooling",
             "axis", "use_bias", "epsilon", "skip", "swap", "norm")


@dataclass(frozen=True)
class Mutant:
    """One mutated solution cell."""

    id: str            # LESSON:GRADE_ID:OPERATOR:LINE.COL:VARIANT
    lesson: str        # lesson folder, e.g. "02_padding_stride"
    notebook: str      # notebook file name in the lesson folder
    grade_id: str      # the solution cell mutated
    operator: str
    description: str   # one line
    code: str          # the whole mutated cell, to put in the submission

    @property
    def student(self) -> str:
        """The student name the mutant is graded under (the id, file-system safe)."""
        return "m-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.id)


# --------------------------------------------------------------------------- regions

def solution_regions(source: str) -> list[tuple[int, int]]:
    """(first, last) 1-based line numbers of the code between each BEGIN/END SOLUTION pair
    of a cell's source (the marker lines excluded)."""
    regions, begin = [], None
    for number, line in enumerate(source.splitlines(), start=1):
        if line.strip() == notebooks.SOLUTION_BEGIN:
            begin = number
        elif line.strip() == notebooks.SOLUTION_END and begin is not None:
            regions.append((begin + 1, number - 1))
            begin = None
    return regions


def _inside(node, regions) -> bool:
    start, end = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
    return start is not None and any(a <= start and end <= b for a, b in regions)


# --------------------------------------------------------------------------- candidates

@dataclass
class _Candidate:
    operator: str
    node: ast.AST            # the node whose position names the mutant
    variant: str
    description: str
    apply: object            # function(tree_copy, node_copy_lookup) -> None (mutates)


def _name_of(func) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _src(node) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _const(value):
    return ast.Constant(value=value)


def _number_variants(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return []
    if isinstance(value, int):
        return [("plus1", value + 1), ("minus1", value - 1)]
    if value == int(value) and abs(value) < 1e6:
        return [("plus1", value + 1.0), ("minus1", value - 1.0)]
    return [("times2", value * 2), ("half", value / 2)]


def _int_or_tuple(node):
    """The int or tuple of ints a constant node holds, else None."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Tuple) and node.elts and all(
            isinstance(e, ast.Constant) and type(e.value) is int for e in node.elts):
        return tuple(e.value for e in node.elts)
    return None


def _shifted(value, delta):
    if isinstance(value, tuple):
        return ast.Tuple(elts=[_const(v + delta) for v in value], ctx=ast.Load())
    return _const(value + delta)


class _Collector:
    """Walks a cell's tree and lists every mutation of a node inside the regions."""

    def __init__(self, tree, regions):
        self.tree, self.regions = tree, regions
        self.parents = {}
        for parent in ast.walk(tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent
        self.in_fstring = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                self.in_fstring.update(ast.walk(node))
        self.docstrings = set()
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                self.docstrings.add(body[0].value)
        self.candidates: list[_Candidate] = []
        self.keyword_values = {}   # value node -> keyword name
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg:
                self.keyword_values[node.value] = node.arg

    def eligible(self, node) -> bool:
        return (_inside(node, self.regions) and node not in self.in_fstring
                and node not in self.docstrings)

    def add(self, operator, node, variant, description, apply):
        self.candidates.append(_Candidate(operator, node, variant, description, apply))

    def collect(self):
        for node in ast.walk(self.tree):
            if not self.eligible(node):
                continue
            if isinstance(node, ast.Constant):
                self._constant(node)
            elif isinstance(node, ast.BinOp):
                self._binop(node)
            elif isinstance(node, ast.AugAssign):
                self._augassign(node)
            elif isinstance(node, ast.Compare):
                self._compare(node)
            elif isinstance(node, ast.keyword):
                self._keyword(node)
            elif isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, (ast.Name, ast.Attribute)):
                self._pool_name(node)
            elif isinstance(node, ast.Assign):
                self._eps_assign(node)
        for node in ast.walk(self.tree):  # blocks of any statement, the module's too
            for attr in ("body", "orelse", "finalbody"):
                block = getattr(node, attr, None)
                if isinstance(block, list):
                    self._swaps(node, attr, block)
        return self.candidates

    # -- operators on single nodes
    def _constant(self, node):
        parent = self.parents.get(node)
        keyword = self.keyword_values.get(node) or (
            self.keyword_values.get(parent) if isinstance(parent, (ast.UnaryOp, ast.Tuple))
            else None)
        if keyword in ("strides", "axis", "use_bias", "epsilon", "eps"):
            return  # their own operators
        value = node.value
        if isinstance(value, str):
            if value.lower() in PADDINGS:
                new = PADDINGS[value.lower()]
                new = new.upper() if value.isupper() else new
                self.add("padding", node, new, f'padding "{value}" -> "{new}"',
                         _replace_with(_const(new)))
            if value in ACTIVATIONS:
                for other in ACTIVATIONS:
                    if other != value:
                        self.add("activation", node, other,
                                 f'activation "{value}" -> "{other}"',
                                 _replace_with(_const(other)))
            return
        for variant, new in _number_variants(value):
            self.add("number", node, variant, f"constant {value!r} -> {new!r}",
                     _replace_with(_const(new)))

    def _binop(self, node):
        swap = ARITH_SWAPS.get(type(node.op))
        if swap:
            self.add("arith", node, OP_NAME[swap],
                     f"'{OP_TEXT[type(node.op)]}' -> '{OP_TEXT[swap]}' in {_src(node)}",
                     _set_attr("op", swap))
        if isinstance(node.op, ast.Add):
            for keep, drop in ((node.left, node.right), (node.right, node.left)):
                if isinstance(drop, ast.Name) and SKIP_NAME.search(drop.id) or (
                        isinstance(keep, ast.Name) and SKIP_NAME.search(keep.id)
                        and not isinstance(drop, ast.Constant)):
                    side = "left" if keep is node.left else "right"
                    self.add("skip", node, f"keep_{side}",
                             f"skip addition {_src(node)} -> {_src(keep)}",
                             _replace_with(copy.deepcopy(keep)))

    def _augassign(self, node):
        swap = ARITH_SWAPS.get(type(node.op))
        if swap:
            self.add("arith", node, OP_NAME[swap],
                     f"'{OP_TEXT[type(node.op)]}=' -> '{OP_TEXT[swap]}=' in {_src(node)}",
                     _set_attr("op", swap))

    def _compare(self, node):
        for index, op in enumerate(node.ops):
            swap = COMPARE_SWAPS.get(type(op))
            if swap:
                def apply(target, index=index, swap=swap):
                    target.ops[index] = swap()
                self.add("compare", node, f"{OP_NAME[swap]}{index or ''}",
                         f"'{OP_TEXT[type(op)]}' -> '{OP_TEXT[swap]}' in {_src(node)}",
                         _mutate(apply))

    def _keyword(self, node):
        name, value = node.arg, node.value
        if name == "strides":
            current = _int_or_tuple(value)
            if current is not None:
                for delta, variant in ((1, "plus1"), (-1, "minus1")):
                    low = min(current) if isinstance(current, tuple) else current
                    if low + delta >= 1:
                        new = _shifted(current, delta)
                        self.add("strides", value, variant,
                                 f"strides={current} -> {ast.unparse(new)}",
                                 _replace_with(new))
        elif name == "axis":
            if isinstance(value, ast.Constant) and type(value.value) is int:
                self._axis(value, value.value)
            elif (isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub)
                  and isinstance(value.operand, ast.Constant)
                  and type(value.operand.value) is int):
                self._axis(value, -value.operand.value)
        elif name == "use_bias" and isinstance(value, ast.Constant) and isinstance(
                value.value, bool):
            self.add("use_bias", value, str(not value.value).lower(),
                     f"use_bias={value.value} -> {not value.value}",
                     _replace_with(_const(not value.value)))
        elif name in ("epsilon", "eps"):
            number = _float_of(value)
            if number:
                self._epsilon(value, number, f"{name}=")

    def _axis(self, node, axis):
        for delta, variant in ((1, "plus1"), (-1, "minus1")):
            new = axis + delta
            self.add("axis", node, variant, f"axis={axis} -> {new}", _replace_with(
                _const(new) if new >= 0 else ast.UnaryOp(ast.USub(), _const(-new))))

    def _epsilon(self, node, number, where):
        for new, variant in ((number * 100, "times100"), (number / 100, "div100")):
            self.add("epsilon", node, variant, f"{where}{number!r} -> {new!r}",
                     _replace_with(_const(new)))

    def _eps_assign(self, node):
        if (len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id.lower().startswith("eps")):
            number = _float_of(node.value)
            if number:
                self._epsilon(node.value, number, f"{node.targets[0].id} = ")

    def _call(self, node):
        name = _name_of(node.func)
        # layers.Add()([a, b]) -> a ; add([a, b]) -> a
        inner = node.func if isinstance(node.func, ast.Call) else None
        listed = (node.args[0].elts if node.args and isinstance(node.args[0], ast.List)
                  else None)
        if listed and len(listed) >= 2 and (
                (inner is not None and _name_of(inner.func) == "Add")
                or name == "add"):
            for index, kept in enumerate(listed):
                self.add("skip", node, f"keep{index}",
                         f"residual sum {_src(node)} -> {_src(kept)}",
                         _replace_with(copy.deepcopy(kept)))
        # Norm(...)(x) -> x ; Norm(...) -> Identity()
        if inner is not None and _name_of(inner.func) in NORM_LAYERS and len(node.args) == 1:
            self.add("norm", node, "identity",
                     f"{_name_of(inner.func)} dropped: {_src(node)} -> {_src(node.args[0])}",
                     _replace_with(copy.deepcopy(node.args[0])))
        elif name in NORM_LAYERS and not (
                isinstance(self.parents.get(node), ast.Call)
                and self.parents[node].func is node):
            func = (ast.Attribute(value=copy.deepcopy(node.func.value), attr="Identity",
                                  ctx=ast.Load())
                    if isinstance(node.func, ast.Attribute)
                    else ast.Attribute(value=ast.Attribute(
                        value=ast.Name("keras", ast.Load()), attr="layers", ctx=ast.Load()),
                        attr="Identity", ctx=ast.Load()))
            self.add("norm", node, "identity", f"{name} replaced by Identity()",
                     _replace_with(ast.Call(func=func, args=[], keywords=[])))
        if name and BIAS_LAYERS.match(name) and not any(
                k.arg == "use_bias" for k in node.keywords) and not any(
                k.arg is None for k in node.keywords):
            def apply(target):
                target.keywords.append(ast.keyword(arg="use_bias", value=_const(False)))
            self.add("use_bias", node, "false", f"{name}(...) given use_bias=False",
                     _mutate(apply))

    def _pool_name(self, node):
        name = node.id if isinstance(node, ast.Name) else node.attr
        parent = self.parents.get(node)
        if not (isinstance(parent, ast.Call) and parent.func is node):
            return
        for a, b in POOL_SWAPS:
            for old, new in ((a, b), (b, a)):
                if old in name:
                    renamed = name.replace(old, new)
                    field_ = "id" if isinstance(node, ast.Name) else "attr"
                    self.add("pooling", node, renamed, f"{name} -> {renamed}",
                             _set_value(field_, renamed))
                    return

    # -- statement swaps
    def _swaps(self, owner, attr, block):
        for index in range(len(block) - 1):
            first, second = block[index], block[index + 1]
            if not (_inside(first, self.regions) and _inside(second, self.regions)):
                continue
            if first in self.docstrings or (
                    isinstance(first, ast.Expr) and first.value in self.docstrings):
                continue
            if not _dependent(first, second):
                continue

            def apply(target, attr=attr, index=index):
                body = getattr(target, attr)
                body[index], body[index + 1] = body[index + 1], body[index]
            self.add("swap", first, f"{attr}{index}",
                     f"statements swapped: `{_src(first)}` <-> `{_src(second)}`",
                     _mutate(apply, node=owner))


def _float_of(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not \
            isinstance(node.value, bool):
        return float(node.value)
    return None


def _reads_writes(statement) -> tuple[set, set]:
    reads, writes = set(), set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name):
            (writes if isinstance(node.ctx, (ast.Store, ast.Del)) else reads).add(node.id)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(
                node.ctx, (ast.Store, ast.Del)):
            base = node
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                writes.add(base.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            base = node.func.value
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name) and base.id not in MODULES:
                writes.add(base.id)   # a method call may update its object
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            writes.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            writes.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Return, ast.Break, ast.Continue, ast.Yield)):
            writes.add("<leaves>")
    if isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
        reads.add(statement.target.id)
    return reads, writes


def _dependent(first, second) -> bool:
    r1, w1 = _reads_writes(first)
    r2, w2 = _reads_writes(second)
    # a statement that returns makes the other one dead code (or live); two validation
    # branches that only raise are not dependent (the same error either way)
    return bool(w1 & r2 or r1 & w2 or w1 & w2 or "<leaves>" in w1 | w2)


# Mutations are recorded against the original tree and replayed on a deep copy: the copy's
# nodes are found by their position in ast.walk order (identical for a deep copy).
def _replace_with(new):
    return ("replace", new)


def _set_attr(attr, op_type):
    return ("call", lambda target: setattr(target, attr, op_type()))


def _set_value(attr, value):
    return ("call", lambda target: setattr(target, attr, value))


def _mutate(function, node=None):
    return ("call", function, node)


def _apply(tree, candidate) -> ast.AST:
    order = {node: index for index, node in enumerate(ast.walk(tree))}
    mutated = copy.deepcopy(tree)
    nodes = list(ast.walk(mutated))
    kind, payload, *rest = candidate.apply
    target_original = rest[0] if rest and rest[0] is not None else candidate.node
    target = nodes[order[target_original]]
    if kind == "call":
        payload(target)
    else:
        new = copy.deepcopy(payload)
        for parent in ast.walk(mutated):
            for name, value in ast.iter_fields(parent):
                if value is target:
                    setattr(parent, name, new)
                    break
                if isinstance(value, list) and any(v is target for v in value):
                    value[[i for i, v in enumerate(value) if v is target][0]] = new
                    break
            else:
                continue
            break
    return ast.fix_missing_locations(mutated)


# --------------------------------------------------------------------------- mutants

def mutate_source(source: str, lesson: str = "XX", notebook: str = "", grade_id: str = "cell",
                  operators=None) -> list[Mutant]:
    """Every mutant of one solution cell's source (markers included), in a fixed order;
    mutants whose code is the same as an earlier one's, or as the unmutated cell's, are
    dropped."""
    regions = solution_regions(source)
    if not regions:
        return []
    tree = ast.parse(source)
    begin = regions[0][0] - 1
    original = ast.unparse(tree)
    number = lesson.split("_")[0]
    seen, mutants, taken = {original}, [], set()
    for candidate in _Collector(tree, regions).collect():
        if operators and candidate.operator not in operators:
            continue
        code = ast.unparse(_apply(tree, candidate))
        ast.parse(code)  # a mutant is valid Python
        if code in seen:
            continue
        seen.add(code)
        node = candidate.node
        position = f"{node.lineno - begin}.{node.col_offset}"
        mutant_id = f"{number}:{grade_id}:{candidate.operator}:{position}:{candidate.variant}"
        if mutant_id in taken:  # nested nodes starting at the same column: a, b in a*b-c
            mutant_id += f"~{sum(i.startswith(mutant_id) for i in taken) + 1}"
        taken.add(mutant_id)
        line = f"{grade_id} line {node.lineno - begin}: {candidate.description}"
        mutants.append(Mutant(mutant_id, lesson, notebook, grade_id, candidate.operator,
                              line, code))
    ids = [m.id for m in mutants]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise RuntimeError(f"mutant ids not unique: {sorted(duplicates)}")
    return mutants


def lesson_folder(name: str, root: Path = ROOT) -> str:
    """'02' or '02_padding_stride' -> '02_padding_stride'."""
    folders = sorted(p.name for p in (root / settings.SOURCE_DIRECTORY).iterdir()
                     if p.is_dir())
    matches = [f for f in folders if f == name or f.split("_")[0] == name]
    if len(matches) != 1:
        raise ValueError(f"no lesson {name!r} (lessons: {', '.join(folders)})")
    return matches[0]


def lessons(root: Path = ROOT) -> list[str]:
    return sorted(p.name for p in (root / settings.SOURCE_DIRECTORY).iterdir()
                  if p.is_dir() and p.name[:2].isdigit())


def lesson_mutants(lesson: str, root: Path = ROOT, operators=None) -> list[Mutant]:
    """Every mutant of every solution cell of a lesson, in notebook order."""
    lesson = lesson_folder(lesson, root)
    mutants = []
    for path in sorted((root / settings.SOURCE_DIRECTORY / lesson).glob("*.ipynb")):
        for cell in notebooks.read(path).cells:
            if cell.cell_type == "code" and notebooks.is_solution(cell):
                mutants += mutate_source(cell.source, lesson, path.name,
                                         notebooks.grade_id(cell), operators)
    return mutants


def sample(mutants: list[Mutant], limit: int | None, seed: int = 0) -> list[Mutant]:
    """A deterministic sample of at most ``limit`` mutants (in their original order)."""
    if limit is None or limit >= len(mutants):
        return list(mutants)
    chosen = set(random.Random(seed).sample(range(len(mutants)), limit))
    return [m for i, m in enumerate(mutants) if i in chosen]


def load_equivalent(path: Path = EQUIVALENT_FILE) -> dict[str, str]:
    """Declared equivalent mutants: id -> reason (every entry must give one)."""
    if not path.exists():
        return {}
    entries = tomllib.loads(path.read_text()).get("equivalent", [])
    declared = {}
    for entry in entries:
        if not entry.get("id") or not str(entry.get("reason", "")).strip():
            raise ValueError(f"{path}: every equivalent mutant needs an id and a reason: "
                             f"{entry}")
        if entry["id"] in declared:
            raise ValueError(f"{path}: {entry['id']} declared twice")
        declared[entry["id"]] = entry["reason"]
    return declared


# --------------------------------------------------------------------------- grading

CONTROL = "control-solution"


@dataclass
class MutantResult:
    mutant: Mutant
    score: float | None           # points of the tests it is judged by (None: not graded)
    full: float                   # the full solution's points on those tests
    status: str                   # killed | survived | equivalent | error
    note: str = ""
    student: str = ""             # the submission that carried it


@dataclass
class LessonReport:
    lesson: str
    results: list = field(default_factory=list)
    seconds: float = 0.0
    submissions: int = 0

    def count(self, status) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def killed_percent(self) -> float | None:
        relevant = self.count("killed") + self.count("survived")
        return 100.0 * self.count("killed") / relevant if relevant else None


def _stores(tree) -> set:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        else:
            names.update(n.id for n in ast.walk(node)
                         if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
            names.update(_reads_writes(node)[1] - {"<leaves>"})
    return names


def test_dependencies(nb) -> dict[str, set[str]]:
    """Solution grade_id -> the graded test cells whose result can depend on it: those
    reading a name the cell defines, or a name derived from one by any other cell (to a
    fixed point, whatever the order, so late-bound calls count too)."""
    from autograder.judge_plan import free_names
    from autograder.notebooks import executable_source

    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(executable_source(cell.source))
        reads = free_names(tree)
        cells.append((notebooks.cell_kind(cell), notebooks.grade_id(cell), reads,
                      _stores(tree)))
    dependencies = {}
    for index, (kind, gid, _, stores) in enumerate(cells):
        if kind != "solution":
            continue
        tainted, tests, changed = set(stores), set(), True
        while changed:
            changed = False
            for other, (kind2, gid2, reads2, stores2) in enumerate(cells):
                if other != index and reads2 & tainted and not stores2 <= tainted | {""}:
                    tainted |= stores2
                    changed = True
                if other != index and kind2 == "test" and reads2 & tainted and gid2 not in tests:
                    tests.add(gid2)
        dependencies[gid] = tests
    return dependencies


def plan_submissions(mutants: list[Mutant], dependencies: dict, group: int = 1
                     ) -> list[list[Mutant]]:
    """Mutants of one lesson in submissions of at most ``group`` mutants each, such that
    no two mutants of a submission touch the same notebook cell or tests that can depend
    on the same cell's answer (so each lost point is attributed to exactly one mutant).
    ``dependencies``: (notebook, solution grade_id) -> set of (notebook, test grade_id)."""
    submissions: list[list[Mutant]] = []
    for mutant in mutants:
        key = (mutant.notebook, mutant.grade_id)
        for members in submissions:
            if len(members) >= group:
                continue
            used = {(m.notebook, m.grade_id) for m in members}
            tests = set().union(*(dependencies[(m.notebook, m.grade_id)] for m in members))
            if key not in used and not tests & dependencies[key]:
                members.append(mutant)
                break
        else:
            submissions.append([mutant])
    return submissions


def _cell_scores(course, lesson: str, student: str, names) -> dict:
    """(notebook, test grade_id) -> (score, max) from the gradebook."""
    scores = {}
    with course.gradebook() as gb:
        for name in names:
            nb = notebooks.read(course.root / settings.SOURCE_DIRECTORY / lesson / name)
            for cell in nb.cells:
                if notebooks.is_graded_test(cell):
                    gid = notebooks.grade_id(cell)
                    grade = gb.find_grade(gid, Path(name).stem, lesson, student)
                    scores[(name, gid)] = (float(grade.score), float(grade.max_score))
    return scores


def grade_mutants(mutants: list[Mutant], workers: int = 1, tmp: Path | None = None,
                  control: bool = True, equivalent: dict | None = None, group: int = 1,
                  root: Path = ROOT, limits=None, progress=None) -> dict[str, LessonReport]:
    """Grade the mutants through the real grader, one grading run per lesson.

    Args:
        control: also grade the unmutated solution in each run; its scores are the full
            solution's (without it: the maximum scores, which the solution gets, tested).
        equivalent: declared equivalent mutants (default: ``tests/mutants_equivalent.toml``).
        group: at most this many mutants per submission (1: one mutant per submission,
            judged by the submission's total score). With more, mutants of cells whose
            tests cannot interact share a submission and each is judged by the points of
            the tests that can depend on its cell; a submission losing points anywhere
            else, or not graded cleanly, is regraded one mutant per submission.
        limits: per-submission limits (:class:`autograder.parallel.Limits`).
        progress: called with each :class:`MutantResult`.
    """
    from autograder import records
    from autograder.grading import grade
    from autograder.release import new_course

    equivalent = load_equivalent() if equivalent is None else equivalent
    by_lesson: dict[str, list[Mutant]] = {}
    for mutant in mutants:
        by_lesson.setdefault(mutant.lesson, []).append(mutant)
    reports = {}
    for lesson, members in by_lesson.items():
        started = time.perf_counter()
        report = LessonReport(lesson)
        with tempfile.TemporaryDirectory(dir=tmp) as folder:
            course = new_course(Path(folder), root, [lesson])
            names = sorted(p.name for p in
                           (course.root / settings.RELEASE_DIRECTORY / lesson).glob("*.ipynb"))
            released = {n: notebooks.read(course.root / settings.RELEASE_DIRECTORY / lesson / n)
                        for n in names}
            sources = {n: notebooks.read(course.root / settings.SOURCE_DIRECTORY / lesson / n)
                       for n in names}
            dependencies = {(n, gid): {(n, t) for t in tests} for n in names
                            for gid, tests in test_dependencies(sources[n]).items()}

            def submit(student, carried):
                for name in names:
                    replacements = {m.grade_id: m.code for m in carried if m.notebook == name}
                    nb = notebooks.fill_in(released[name], sources[name],
                                           replacements=replacements)
                    notebooks.write(nb, course.submissions / student / lesson / name)

            def run(students):
                kwargs = {"limits": limits} if limits is not None else {}
                report.submissions += len(students)
                return {o.student: o for o in grade(course, lesson, workers=workers,
                                                    students=sorted(students), **kwargs)}

            plan = plan_submissions(members, dependencies, group)
            carriers = {}
            for index, carried in enumerate(plan):
                student = carried[0].student if len(carried) == 1 else f"group-{index:03d}"
                if student in carriers:
                    raise RuntimeError(f"two submissions named {student}")
                carriers[student] = carried
                submit(student, carried)
            if control:
                submit(CONTROL, [])
            outcomes = run(list(carriers) + ([CONTROL] if control else []))
            full_cells = None
            if control:
                total = records.submission_score(course, lesson, CONTROL)
                if outcomes[CONTROL].not_graded or total[0] != total[1]:
                    raise RuntimeError(f"{lesson}: the unmutated solution scored {total} "
                                       f"({outcomes[CONTROL].reason}), not full marks")
                full_cells = _cell_scores(course, lesson, CONTROL, names)

            def judge(mutant, student, tests=None):
                outcome = outcomes[student]
                if outcome.not_graded:
                    return MutantResult(mutant, None, 0.0, "error", outcome.reason, student)
                cells = _cell_scores(course, lesson, student, names)
                full = full_cells or {k: (v[1], v[1]) for k, v in cells.items()}
                keys = cells if tests is None else tests
                score = sum(cells[k][0] for k in keys)
                expected = sum(full[k][0] for k in keys)
                if score < expected:
                    result = MutantResult(mutant, score, expected, "killed", "", student)
                    if mutant.id in equivalent:
                        result.note = "declared equivalent but killed: remove the declaration"
                elif mutant.id in equivalent:
                    result = MutantResult(mutant, score, expected, "equivalent",
                                          equivalent[mutant.id], student)
                else:
                    result = MutantResult(mutant, score, expected, "survived", "", student)
                return result

            results, solo = {}, []
            for student, carried in carriers.items():
                if len(carried) == 1:
                    results[carried[0].id] = judge(carried[0], student)
                    continue
                cells = (_cell_scores(course, lesson, student, names)
                         if not outcomes[student].not_graded else {})
                full = full_cells or {k: (v[1], v[1]) for k, v in cells.items()}
                covered = set().union(*(dependencies[(m.notebook, m.grade_id)]
                                        for m in carried))
                stray = [k for k in cells if k not in covered and cells[k][0] < full[k][0]]
                troubled = set(outcomes[student].flags) & {"timeout", "crash", "memory",
                                                          "processes"}
                if outcomes[student].not_graded or not outcomes[student].ok or troubled \
                        or stray:
                    solo += carried   # cannot attribute: one mutant per submission
                    continue
                for m in carried:
                    results[m.id] = judge(m, student, dependencies[(m.notebook, m.grade_id)])
            if solo:
                for m in solo:
                    submit(m.student, [m])
                outcomes.update(run([m.student for m in solo]))
                for m in solo:
                    results[m.id] = judge(m, m.student)
        for mutant in members:
            report.results.append(results[mutant.id])
            if progress:
                progress(results[mutant.id])
        report.seconds = time.perf_counter() - started
        reports[lesson] = report
    return reports


def table(reports: dict[str, LessonReport], generated: dict[str, int] | None = None) -> str:
    """The mutation table: per lesson generated / graded / killed / equivalent / survived,
    % killed of the non-equivalent ones; then the survivors with their descriptions."""
    generated = generated or {}
    head = (f"{'lesson':<24}{'generated':>10}{'graded':>8}{'killed':>8}{'equiv':>7}"
            f"{'survived':>10}{'error':>7}{'% killed':>10}{'time':>8}")
    lines = [head, "-" * len(head)]
    totals = [0] * 6
    for lesson, report in sorted(reports.items()):
        row = [generated.get(lesson, len(report.results)), len(report.results),
               report.count("killed"), report.count("equivalent"), report.count("survived"),
               report.count("error")]
        totals = [a + b for a, b in zip(totals, row)]
        percent = report.killed_percent
        lines.append(f"{lesson:<24}{row[0]:>10}{row[1]:>8}{row[2]:>8}{row[3]:>7}{row[4]:>10}"
                     f"{row[5]:>7}{'-' if percent is None else f'{percent:.1f}':>10}"
                     f"{report.seconds:>7.0f}s")
    relevant = totals[2] + totals[4]
    percent = f"{100 * totals[2] / relevant:.1f}" if relevant else "-"
    lines.append("-" * len(head))
    lines.append(f"{'total':<24}{totals[0]:>10}{totals[1]:>8}{totals[2]:>8}{totals[3]:>7}"
                 f"{totals[4]:>10}{totals[5]:>7}{percent:>10}")
    survivors = [r for rep in reports.values() for r in rep.results
                 if r.status in ("survived", "error") or r.note]
    if survivors:
        lines.append("")
        lines.append("survivors (not declared equivalent), errors and wrong declarations:")
        for r in survivors:
            lines.append(f"  {r.status:<9}{r.mutant.id}  {r.mutant.description}"
                         f"{'  [' + r.note + ']' if r.note else ''}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- CLI

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="list the mutants of lessons (no grading)")
    listing.add_argument("lessons", nargs="*")
    listing.add_argument("--operator", action="append")
    show = sub.add_parser("show", help="print a mutant's code")
    show.add_argument("id")
    args = parser.parse_args(argv)
    if args.command == "list":
        for lesson in args.lessons or lessons():
            for mutant in lesson_mutants(lesson, operators=args.operator):
                print(f"{mutant.id}\t{mutant.description}")
    else:
        lesson = lesson_folder(args.id.split(":")[0])
        found = [m for m in lesson_mutants(lesson) if m.id == args.id]
        if not found:
            print(f"no mutant {args.id}", file=sys.stderr)
            return 1
        print(found[0].code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
