"""The repository's notebooks are stored tidily and lessons/ is what nbgrader generates."""

from __future__ import annotations

import json

import pytest

from autograder import notebooks, settings
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


def test_lessons_equal_what_nbgrader_generates(tmp_path):
    course = make_course(tmp_path, ROOT, LESSONS)
    stale = []
    for lesson in LESSONS:
        for path in sorted((ROOT / settings.RELEASE_DIRECTORY / lesson).glob("*.ipynb")):
            fresh = tmp_path / settings.RELEASE_DIRECTORY / lesson / path.name
            if json.loads(fresh.read_text()) != json.loads(path.read_text()):
                stale.append(str(path.relative_to(ROOT)))
    assert course.lessons() == LESSONS
    assert not stale, f"out of date (run `python -m autograder release`): {stale}"
