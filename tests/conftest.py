"""Shared fixtures: the repository root, a grading harness that grades many submissions
of a lesson in one course (one kernel per submission, in one nbgrader batch)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from autograder import notebooks, settings
from autograder.course import Course
from autograder.grading import grade
from autograder.release import new_course

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_COURSE = ROOT / "tests" / "fixtures" / "course"

os.environ.setdefault(settings.PROFILE_ENV, "fast")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


make_course = new_course  # a fresh released course (autograder.course.new_course)


class GradedLesson:
    """Submissions of one lesson graded through the real grader, with per-cell results."""

    def __init__(self, course: Course, lesson: str, outcomes):
        self.course, self.lesson = course, lesson
        self.outcomes = {o.student: o for o in outcomes}

    def cell_results(self, student: str) -> dict[str, tuple[float, float, str]]:
        """grade_id -> (score, max, text of the cell's error output) for graded cells."""
        folder = self.course.root / "autograded" / student / self.lesson
        results = {}
        with self.course.gradebook() as gb:
            for path in sorted(folder.glob("*.ipynb")):
                nb = notebooks.read(path)
                for cell in nb.cells:
                    if not notebooks.is_graded_test(cell):
                        continue
                    gid = notebooks.grade_id(cell)
                    grade = gb.find_grade(gid, path.stem, self.lesson, student)
                    text = "\n".join(
                        "\n".join([o.get("ename", ""), o.get("evalue", "")]
                                  + list(o.get("traceback", [])))
                        for o in cell.get("outputs", []) if o.get("output_type") == "error")
                    results[gid] = (float(grade.score), float(grade.max_score), text)
        return results


def grade_submissions(tmp: Path, source_root: Path, lesson: str, submissions: dict):
    """Grade ``{student: {notebook_name: nb}}`` for ``lesson`` in a fresh course."""
    course = make_course(tmp, source_root, [lesson])
    for student, nbs in submissions.items():
        for name, nb in nbs.items():
            notebooks.write(nb, course.submissions / student / lesson / name)
    return GradedLesson(course, lesson, grade(course, lesson))


@pytest.fixture
def fixture_course(tmp_path) -> Course:
    """The tiny TensorFlow-free lesson used to test the grader itself, released."""
    return make_course(tmp_path, FIXTURE_COURSE, ["99_sample"])


@pytest.fixture
def tfds_scratch(tmp_path, monkeypatch):
    """tensorflow-datasets leaves a ``/tmp/tmp*tfds`` folder each time it looks for a set's
    metadata in its bucket (``DatasetInfo.initialize_from_bucket``, offline here): keep them in
    this test's folder. Only for tests that load tfds in this process; a global redirect would
    move the grading tests' temporary files too."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
