"""The autograder CLI on the tiny TensorFlow-free fixture lesson: release, grade,
feedback, export, demo, stamping, and clear errors for bad input."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import notebooks, records, settings
from autograder.grading import grade
from autograder.release import release
from autograder.stamp import colab_url, stamp_cells
from tests.conftest import FIXTURE_COURSE, GradedLesson, ROOT

LESSON = "99_sample"
NB = f"{LESSON}.ipynb"


def run_cli(*args, cwd: Path, env=None, interpreter=sys.executable):
    """Run ``python -m autograder`` as an instructor would, in a subprocess."""
    environment = dict(os.environ if env is None else env)
    environment["PYTHONPATH"] = str(ROOT)
    return subprocess.run([interpreter, "-m", "autograder", *args], cwd=cwd,
                          env=environment, capture_output=True, text=True, timeout=600)


def submit(course, student, nb, name=NB):
    path = course.submissions / student / LESSON / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, (bytes, str)):
        path.write_bytes(nb if isinstance(nb, bytes) else nb.encode())
    else:
        notebooks.write(nb, path)


def released_and_source(course):
    released = notebooks.read(course.root / "lessons" / LESSON / NB)
    source = notebooks.read(course.root / "solutions" / LESSON / NB)
    return released, source


def test_release_generates_student_version(fixture_course):
    released, source = released_and_source(fixture_course)
    text = "\n".join(c.source for c in released.cells)
    assert "### BEGIN SOLUTION" not in text and "return x * x" not in text
    assert "raise NotImplementedError()" in text
    assert "BEGIN HIDDEN TESTS" not in text and "mean([0.5, 1.5])" not in text
    assert not notebooks.is_tidy(released)
    assert not [c for c in released.cells if c.id.startswith("stamp-")]  # no URL: no stamp


def test_grade_scores_complete_partial_blank_and_survives_a_broken_one(fixture_course):
    released, source = released_and_source(fixture_course)
    submit(fixture_course, "alice", notebooks.fill_in(released, source))
    submit(fixture_course, "bob", notebooks.fill_in(released, source, only={"square"}))
    submit(fixture_course, "carol", released)
    submit(fixture_course, "dave", '{"cells": [ this is not json')
    (fixture_course.submissions / "erin" / LESSON).mkdir(parents=True)  # empty folder
    outcomes = {o.student: o for o in grade(fixture_course, LESSON)}
    assert [(outcomes[s].score, outcomes[s].max_score) for s in ("alice", "bob", "carol")] == [
        (3, 3), (1, 3), (0, 3)]
    assert not outcomes["dave"].ok and "is not a valid notebook (NotJSONError" in outcomes["dave"].reason
    assert not outcomes["erin"].ok and "empty submission folder" in outcomes["erin"].reason
    # the broken ones are in the gradebook with zero, so exports stay consistent
    rows = {r["student"]: r for r in records.grade_rows(fixture_course, [LESSON])}
    assert set(rows) == {"alice", "bob", "carol", "dave", "erin"}
    assert rows["dave"]["score"] == 0 and rows["dave"]["max_score"] == 3
    cells = GradedLesson(fixture_course, LESSON, []).cell_results("bob")
    assert cells["test_square"][0] == 1 and cells["test_mean"][0] == 0
    assert "NotImplementedError" in cells["test_mean"][2]


def test_regrading_a_fixed_submission_replaces_the_zero(fixture_course):
    released, source = released_and_source(fixture_course)
    submit(fixture_course, "dave", "not json at all")
    assert grade(fixture_course, LESSON)[0].score == 0
    submit(fixture_course, "dave", notebooks.fill_in(released, source))
    assert grade(fixture_course, LESSON)[0].score == 3


def test_hidden_tests_are_restored_when_grading(fixture_course):
    released, source = released_and_source(fixture_course)
    wrong = 'def mean(values):\n    return 2'  # passes the visible check only
    submit(fixture_course, "mallory", notebooks.fill_in(released, source,
                                                        replacements={"mean": wrong}))
    grade(fixture_course, LESSON)
    cells = GradedLesson(fixture_course, LESSON, []).cell_results("mallory")
    assert cells["test_mean"][0] == 1 and cells["test_mean_hidden"][0] == 0
    assert "mean([0.5, 1.5]) should be 1.0" in cells["test_mean_hidden"][2]


def test_cli_end_to_end_through_an_unactivated_venv_interpreter(fixture_course):
    released, source = released_and_source(fixture_course)
    submit(fixture_course, "alice", notebooks.fill_in(released, source))
    submit(fixture_course, "zed", b"\xff\xfe not utf-8")
    (fixture_course.root / settings.GRADEBOOK).unlink()  # fresh gradebook: nbgrader needs alembic
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV",)}
    env["PATH"] = "/usr/bin:/bin"  # the venv's bin/ is not on PATH
    root = fixture_course.root
    assert run_cli("release", LESSON, cwd=root, env=env).returncode == 0
    result = run_cli("grade", "99", cwd=root, env=env)
    assert result.returncode == 0, result.stderr
    assert "alice: 3/3" in result.stdout and "zed: 0 (could not be executed" in result.stdout
    assert run_cli("feedback", LESSON, cwd=root, env=env).returncode == 0
    assert (root / "feedback" / "alice" / LESSON / f"{LESSON}.html").exists()
    assert run_cli("export", "--output", "grades.csv", cwd=root, env=env).returncode == 0
    with open(root / "grades.csv") as handle:
        rows = {r["student"]: r for r in csv.DictReader(handle)}
    assert rows["alice"]["percent"] == "100.0" and rows["zed"]["score"] == "0.0"
    status = json.loads((root / "grading_status.json").read_text())
    assert status[LESSON]["zed"]["ok"] is False


@pytest.mark.parametrize("args, message", [
    (["grade", "nope"], "no lesson 'nope'; available: 99_sample"),
    (["grade", LESSON, "--submissions", "missing_dir"], "does not exist"),
    (["release", "42"], "no lesson '42'"),
])
def test_bad_input_gives_clear_error_and_nonzero_exit(fixture_course, args, message):
    result = run_cli(*args, cwd=fixture_course.root)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_grade_with_nothing_gradable_exits_nonzero(fixture_course):
    submit(fixture_course, "dave", "{}")
    result = run_cli("grade", LESSON, cwd=fixture_course.root)
    assert result.returncode == 1 and "dave: 0 (could not be executed" in result.stdout


def test_not_a_course_is_reported(tmp_path):
    result = run_cli("release", cwd=tmp_path)
    assert result.returncode == 2 and "is not a course" in result.stderr


def test_demo_runs_end_to_end(tmp_path):
    result = run_cli("--course", str(FIXTURE_COURSE), "demo", "--workspace",
                     str(tmp_path / "ws"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [l.split() for l in result.stdout.splitlines() if l.startswith(LESSON) and " / " in l]
    scores = {l[1]: (l[2], l[4]) for l in lines}
    assert scores == {"sample-complete": ("3", "3"), "sample-partial": ("1", "3"),
                      "sample-blank": ("0", "3")}
    assert (tmp_path / "ws" / "feedback" / "sample-partial" / LESSON / f"{LESSON}.html").exists()


def test_stamp_builds_badge_and_setup_cell_from_repository_url(tmp_path):
    cells = stamp_cells("https://github.com/acme/dl-course.git", "main", LESSON, LESSON)
    assert "colab.research.google.com/github/acme/dl-course/blob/main/lessons/99_sample/" \
           "99_sample.ipynb" in cells[0].source
    assert "dlcourse @ git+https://github.com/acme/dl-course.git@main" in cells[1].source
    assert "tensorflow" not in cells[1].source.split("pip")[1].lower()
    assert stamp_cells("", "main", LESSON, LESSON) == []
    assert colab_url("https://gitlab.com/a/b", "main", "x.ipynb") is None
    compile(cells[1].source, "setup", "exec")


def test_release_stamps_when_url_is_set(tmp_path):

    (tmp_path / "pyproject.toml").write_text(
        '[tool.dlcourse]\nrepository_url = "https://github.com/acme/dl-course"\n')
    import shutil
    shutil.copytree(FIXTURE_COURSE / "solutions", tmp_path / "solutions")
    from autograder.course import Course
    release(Course(tmp_path), [LESSON])
    released = notebooks.read(tmp_path / "lessons" / LESSON / NB)
    assert released.cells[0].source.startswith("[![Open In Colab]")
    assert "pip" in released.cells[1].source
    # the stamped lesson still grades: the setup cell is a no-op where dlcourse exists
    course = Course(tmp_path)
    submit(course, "alice", released)
    assert grade(course, LESSON)[0].ok
