"""The repository's notebooks are stored tidily and lessons/ is what nbgrader generates."""

from __future__ import annotations

import ast
import json

import pytest

from autograder import notebooks, settings
from autograder.stamp import PINNED
from tests.conftest import ROOT, make_course

LESSONS = settings.lessons(ROOT)
ALL_NOTEBOOKS = sorted(
    p for folder in (settings.SOURCE_DIRECTORY, settings.RELEASE_DIRECTORY)
    for p in (ROOT / folder).glob("*/*.ipynb"))


def test_there_are_lessons():
    assert LESSONS, "no lessons in solutions/"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_stored_without_outputs_or_extra_metadata(path):
    problems = notebooks.is_tidy(notebooks.read(path))
    assert not problems, (f"{path.relative_to(ROOT)}: {problems}; run "
                          "`python -m autograder tidy` and `release`")


def test_every_solution_has_a_released_lesson_and_back():
    released = {p.name for p in (ROOT / settings.RELEASE_DIRECTORY).iterdir() if p.is_dir()}
    assert released == set(LESSONS)


def _unpinned(path):
    """A released notebook with the setup cell's pinned ref masked: it is the commit of
    HEAD when released (unless [tool.dlcourse] sets a ref), the branch in a throwaway copy."""
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if str(cell.get("id", "")).startswith("stamp-"):
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = PINNED.sub(r'"dlcourse @ git+\g<url>@REF"', source)
    return nb


def test_lessons_equal_what_nbgrader_generates(tmp_path):
    course = make_course(tmp_path, ROOT, LESSONS)
    stale = []
    for lesson in LESSONS:
        for path in sorted((ROOT / settings.RELEASE_DIRECTORY / lesson).glob("*.ipynb")):
            fresh = tmp_path / settings.RELEASE_DIRECTORY / lesson / path.name
            if _unpinned(fresh) != _unpinned(path):
                stale.append(str(path.relative_to(ROOT)))
    assert course.lessons() == LESSONS
    assert not stale, f"out of date (run `python -m autograder release`): {stale}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_test_cell_can_be_judged(lesson):
    """Each test's trusted inputs are computable in the judge, and no cell of the kernel
    relies on a name only a test cell defines (test cells run in the judge)."""
    from autograder.judge_plan import plan

    for path in sorted((ROOT / settings.SOURCE_DIRECTORY / lesson).glob("*.ipynb")):
        judged = plan(notebooks.read(path))
        assert not judged.problems, judged.problems
        graded = [notebooks.grade_id(c) for c in notebooks.read(path).cells
                  if notebooks.is_graded_test(c)]
        assert sorted(judged.steps) == sorted(graded)


def _imports(path) -> set[str]:
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_autograder_modules_import_one_way():
    """The grading path reads top-down: no module of autograder/ imports one that imports
    it back (directly or through others), and benchmarks do not import tests/."""
    modules = {p.stem: p for p in (ROOT / "autograder").glob("*.py")}
    graph = {name: {m.split(".")[1] for m in _imports(path)
                    if m.startswith("autograder.") and m.split(".")[1] in modules}
             for name, path in modules.items()}

    def reaches(start, goal, seen=()):
        return any(n == goal or (n not in seen and reaches(n, goal, seen + (n,)))
                   for n in graph[start])

    cycles = sorted(name for name in graph if reaches(name, name))
    assert not cycles, f"import cycles through {cycles}: {graph}"
    for path in (ROOT / "benchmarks").glob("*.py"):
        assert not any(m == "tests" or m.startswith("tests.") for m in _imports(path)), path
    # what the instructor reads is printed in one place; grading logic returns values (the
    # sandbox's own processes write their logs with print(..., file=...))
    printing = sorted(name for name, path in modules.items()
                      if any(isinstance(node, ast.Call) and getattr(node.func, "id", "") == "print"
                             and not any(k.arg == "file" for k in node.keywords)
                             for node in ast.walk(ast.parse(path.read_text()))))
    assert printing == ["cli", "console", "demo"], printing
