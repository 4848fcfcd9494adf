"""Every lesson through the real grader: the solution gets full marks, the released lesson
gets zero with every graded cell failing, and each typical mistake of the catalogue loses
exactly its exercise's points with a feedback message that points at it. And every
solution in the ``full`` profile, on a CPU: a smoke run on mock data under a forced
``mixed_float16`` (``tools/full_profile.py``), where every cell must pass."""

from __future__ import annotations

import importlib
import warnings

import pytest

from autograder import notebooks, settings
from tests.conftest import ROOT, grade_submissions
from tests.mistakes import rounds
from tools import full_profile

LESSONS = settings.lessons(ROOT)
pytestmark = pytest.mark.notebooks


def _mistakes(lesson: str):
    try:
        module = importlib.import_module(f"tests.mistakes.lesson_{lesson[:2]}")
    except ModuleNotFoundError:
        return []
    assert module.LESSON == lesson, f"{module.__name__} is for {module.LESSON}, not {lesson}"
    return module.MISTAKES


_cache = {}

def graded(lesson: str, tmp_path_factory):
    """Grade the complete, the blank and the mistaken submissions of a lesson once."""
    if lesson not in _cache:
        submissions = {}
        for path in sorted((ROOT / settings.SOURCE_DIRECTORY / lesson).glob("*.ipynb")):
            source = notebooks.read(path)
            released = notebooks.read(ROOT / settings.RELEASE_DIRECTORY / lesson / path.name)
            submissions.setdefault("complete", {})[path.name] = notebooks.fill_in(released,
                                                                                  source)
            submissions.setdefault("blank", {})[path.name] = released
            for i, group in enumerate(rounds(_mistakes(lesson))):
                wrong = {m.solution_cell: m.code for m in group}
                submissions.setdefault(f"mistakes-{i}", {})[path.name] = notebooks.fill_in(
                    released, source, replacements=wrong)
        _cache[lesson] = grade_submissions(tmp_path_factory.mktemp(lesson), ROOT, lesson,
                                           submissions)
    return _cache[lesson]


class LessonChecks:
    """The four checks of one lesson. One test class per lesson (below), so that
    ``--dist loadscope`` keeps a lesson's tests on one worker and grades it once."""

    lesson = ""

    def test_solution_gets_full_marks(self, tmp_path_factory):
        lesson = self.lesson
        result = graded(lesson, tmp_path_factory)
        outcome = result.outcomes["complete"]
        assert outcome.ok, outcome.reason
        cells = result.cell_results("complete")
        failing = {gid: text[-600:] for gid, (score, top, text) in cells.items() if score < top}
        assert not failing, f"solution loses points in {failing}"
        assert outcome.max_score > 0 and outcome.score == outcome.max_score

    def test_released_lesson_gets_zero_with_every_check_failing(self, tmp_path_factory):
        lesson = self.lesson
        result = graded(lesson, tmp_path_factory)
        outcome = result.outcomes["blank"]
        assert outcome.ok, outcome.reason
        cells = result.cell_results("blank")
        assert cells, "the lesson has no graded cells"
        passing = [gid for gid, (score, _, text) in cells.items() if score > 0 or not text]
        assert not passing, f"these checks pass on the blank lesson (vacuous?): {passing}"
        assert outcome.score == 0

    def test_each_graded_exercise_has_a_typical_mistake(self):
        lesson = self.lesson
        source = [notebooks.read(p) for p in
                  sorted((ROOT / settings.SOURCE_DIRECTORY / lesson).glob("*.ipynb"))]
        solution_cells = {notebooks.grade_id(c) for nb in source for c in nb.cells
                          if notebooks.is_solution(c)}
        covered = {m.solution_cell for m in _mistakes(lesson)}
        assert solution_cells <= covered, (f"exercises without a typical mistake in "
                                           f"tests/mistakes/lesson_{lesson[:2]}.py: "
                                           f"{sorted(solution_cells - covered)}")

    def test_typical_mistakes_lose_points_with_helpful_feedback(self, tmp_path_factory):
        lesson = self.lesson
        mistakes = _mistakes(lesson)
        if not mistakes:
            pytest.skip("no mistake catalogue")  # the coverage test above fails instead
        result = graded(lesson, tmp_path_factory)
        complete = result.cell_results("complete")
        problems = []
        for i, group in enumerate(rounds(mistakes)):
            student = f"mistakes-{i}"
            if not result.outcomes[student].ok:
                problems.append(f"{student} could not be graded: {result.outcomes[student].reason}")
                continue
            cells = result.cell_results(student)
            expected_failures = {t for m in group for t in m.failing_tests}
            unknown = expected_failures - set(cells)
            if unknown:
                problems.append(f"{[m.name for m in group]}: no graded cells {sorted(unknown)}")
            for gid, (score, top, text) in cells.items():
                if gid in expected_failures and score > 0:
                    problems.append(f"{gid} still scores {score}/{top} despite the mistake")
                if gid not in expected_failures and score < complete[gid][0]:
                    problems.append(f"{gid} loses points but no mistake of round {i} "
                                    f"({[m.name for m in group]}) lists it: {text[-300:]}")
            for m in group:
                outputs = " ".join(cells.get(t, (0, 0, ""))[2] for t in m.failing_tests).lower()
                if m.message.lower() not in outputs:
                    problems.append(f"mistake {m.name!r}: feedback lacks {m.message!r}; it says: "
                                    f"{outputs[-400:]}")
        assert not problems, "\n".join(problems)

    def test_full_profile_smoke_run_passes_every_cell(self):
        """The full profile's code paths, shapes and dtypes (mixed_float16, the tfds sets the
        lesson names mocked with their real feature specs, no pretrained weights, epochs
        capped by DLCOURSE_SMOKE): every cell, visible and hidden checks included, passes;
        accuracy floors, out of reach of random data, are reported as skipped."""
        run = full_profile.run_solution(self.lesson, smoke=True, precision="mixed_float16",
                                        cell_timeout=600)
        assert run.error is None, f"fails in the full profile: {run.error}"
        assert run.policy == "mixed_float16", f"the run's policy was {run.policy!r}"
        assert not run.low_precision_outputs, (
            f"compiled models whose output is not float32 under mixed precision: "
            f"{run.low_precision_outputs} (give the output layer dtype=\"float32\")")
        unskipped = [f for f in run.floors if not f["skipped"]]
        assert not unskipped, f"floors checked, not skipped, in a smoke run: {unskipped}"
        if run.skipped_floors:
            warnings.warn(f"{self.lesson}, full profile smoke run ({run.seconds:.0f} s): "
                          f"{len(run.skipped_floors)} accuracy floor(s) skipped under "
                          f"DLCOURSE_SMOKE=1: {full_profile.describe_floors(run)}")


for _lesson in LESSONS:
    _name = "TestLesson" + _lesson.title().replace("_", "")
    globals()[_name] = type(_name, (LessonChecks,), {"lesson": _lesson})
