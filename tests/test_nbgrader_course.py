"""Any nbgrader course, graded by ``autograder`` as plain nbgrader grades it.

nbgrader's own user-guide course (``source/ps1``, students bitdiddle and hacker, as shipped
inside the installed nbgrader) is graded twice from the same ``nbgrader_config.py``, which
moves every folder and the gradebook away from the defaults and asks for nbgrader's
``zero`` late penalty: once with plain ``nbgrader generate_assignment`` + ``autograde``,
once with ``autograder release`` + ``grade``. Both gradebooks must agree on every grade,
comment, timestamp and late penalty. The same courses then give the roster export (a
student who did not submit is a row) and the Moodle file; the tiny fixture lesson gives a
flagged submission in formgrader's manual-grading queue.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbgrader
import pytest

from autograder import notebooks
from autograder.course import Course, CourseError
from autograder.grading import grade
from tests.conftest import ROOT

USER_GUIDE = Path(nbgrader.__file__).parent / "docs" / "source" / "user_guide"
# bitdiddle submitted 2015-02-02 14:58:23 America/Los_Angeles (22:58:23 UTC): 21503.9 s
# after this due date (the number nbgrader's user guide prints); hacker a day early.
DUE = "2015-02-02 17:00:00 UTC"
CONFIG = """\
import os
c = get_config()
here = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.submitted_directory = "inbox"
c.CourseDirectory.autograded_directory = "graded"
c.CourseDirectory.feedback_directory = "returned"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(here, "book.sqlite")
c.Execute.timeout = 45
c.LateSubmissionPlugin.penalty_method = "zero"
c.Autograder.workers = 1
c.Autograder.notebook_timeout = 600
"""
ROSTER = [("alyssa", "Alyssa", "Hacker", "alyssa@example.edu"),   # never submits
          ("bitdiddle", "Ben", "Bitdiddle", "ben@example.edu"),
          ("hacker", "Alyssa P.", "Hacker", "aph@example.edu")]


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def _run(*args, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, *args], cwd=cwd, env=_env(), text=True,
                            capture_output=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def autograder(*args, cwd: Path) -> subprocess.CompletedProcess:
    return _run("-m", "autograder", *args, cwd=cwd)


def plain_nbgrader(*args, cwd: Path) -> subprocess.CompletedProcess:
    return _run("-m", "nbgrader", *args, cwd=cwd)


def user_guide_course(folder: Path) -> Path:
    """nbgrader's user-guide course (ps1, two submissions with their timestamp.txt) in
    the layout ``CONFIG`` describes, with the roster in the gradebook."""
    assert (USER_GUIDE / "source" / "ps1").is_dir(), f"nbgrader's user guide not at {USER_GUIDE}"
    shutil.copytree(USER_GUIDE / "source" / "ps1", folder / "source" / "ps1")
    for student in ("bitdiddle", "hacker"):
        shutil.copytree(USER_GUIDE / "submitted" / student, folder / "inbox" / student)
    (folder / "nbgrader_config.py").write_text(CONFIG)
    return folder


def set_roster_and_due_date(course: Path, due: str = DUE) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'book.sqlite'}") as gb:
        gb.update_or_create_assignment("ps1", duedate=due)
        for student, first, last, email in ROSTER:
            gb.update_or_create_student(student, first_name=first, last_name=last,
                                        email=email)


def gradebook_state(course: Path) -> dict:
    """Everything nbgrader stored about each ps1 submission."""
    from nbgrader.api import Gradebook

    state = {}
    with Gradebook(f"sqlite:///{course / 'book.sqlite'}") as gb:
        for sub in gb.assignment_submissions("ps1"):
            state[sub.student.id] = {
                "timestamp": sub.timestamp, "score": sub.score,
                "seconds_late": sub.total_seconds_late,
                "penalty": sub.late_submission_penalty,
                "notebooks": {nb.name: {
                    "penalty": nb.late_submission_penalty,
                    "grades": {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade)
                               for g in nb.grades},
                    "comments": {c.name: c.auto_comment for c in nb.comments}}
                    for nb in sub.notebooks}}
    return state


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """``(plain, ours)``: the user-guide course graded by plain nbgrader and by autograder."""
    plain = user_guide_course(tmp_path_factory.mktemp("plain"))
    plain_nbgrader("generate_assignment", "ps1", "--force", cwd=plain)
    set_roster_and_due_date(plain)
    plain_nbgrader("autograde", "ps1", cwd=plain)
    ours = user_guide_course(tmp_path_factory.mktemp("ours"))
    autograder("release", "ps1", cwd=ours)
    set_roster_and_due_date(ours)
    result = autograder("grade", "ps1", cwd=ours)
    assert "1 local worker" in result.stdout  # c.Autograder.workers from the config file
    return plain, ours


def test_user_guide_course_graded_identically_by_plain_nbgrader_and_autograder(graded):
    plain, ours = graded
    expected, got = gradebook_state(plain), gradebook_state(ours)
    assert set(got) == {"bitdiddle", "hacker"}
    assert {s: e["score"] for s, e in expected.items()} == {"bitdiddle": 1.5, "hacker": 3.0}
    assert got == expected
    # written where nbgrader_config.py says, so formgrader and feedback find them
    for student in ("bitdiddle", "hacker"):
        assert sorted(p.name for p in (ours / "graded" / student / "ps1").glob("*.ipynb")) \
            == ["problem1.ipynb", "problem2.ipynb"]
    assert not (ours / "gradebook.db").exists() and not (ours / "autograded").exists()
    # the one test that deletes the student's `squares` runs in the kernel, as nbgrader's
    bitdiddle = expected["bitdiddle"]["notebooks"]["problem1"]["grades"]
    assert bitdiddle["sum_of_squares_uses_squares"][0] == 0.5


def test_late_submission_penalised_as_plain_nbgrader_penalises_it(graded, tmp_path):
    from autograder.report import write_report

    plain, ours = graded
    expected, got = gradebook_state(plain), gradebook_state(ours)
    assert round(expected["bitdiddle"]["seconds_late"], 1) == 21503.9
    assert expected["bitdiddle"]["penalty"] == 1.5 and expected["hacker"]["penalty"] == 0
    assert [(got[s]["seconds_late"], got[s]["penalty"]) for s in ("bitdiddle", "hacker")] == [
        (expected[s]["seconds_late"], expected[s]["penalty"]) for s in ("bitdiddle", "hacker")]
    status = json.loads((ours / "grading_status.json").read_text())["ps1"]
    assert "late" in status["bitdiddle"]["flags"] and "late" not in status["hacker"]["flags"]
    assert "late penalty 1.5" in status["bitdiddle"]["reason"]
    report = write_report(Course(ours), "ps1", tmp_path / "report")
    late_lines = [line for line in report.splitlines() if "late" in line]
    assert any("bitdiddle" in line for line in late_lines), report
    assert not any("hacker" in line for line in late_lines), report

    # An extension in the gradebook: the next run keeps the grades (nothing regraded) and
    # recomputes the penalty, as a fresh `nbgrader autograde` would.
    extended = tmp_path / "extended"
    shutil.copytree(ours, extended)
    set_roster_and_due_date(extended, "2015-02-03 17:00:00 UTC")
    result = autograder("grade", "ps1", cwd=extended)
    assert "2 submission(s) already graded" in result.stdout, result.stdout
    after = gradebook_state(extended)["bitdiddle"]
    assert after["seconds_late"] == 0 and not after["penalty"]
    assert after["notebooks"] == {
        name: {**nb, "penalty": None}
        for name, nb in gradebook_state(ours)["bitdiddle"]["notebooks"].items()}
    status = json.loads((extended / "grading_status.json").read_text())["ps1"]
    assert "late" not in status["bitdiddle"]["flags"]


def test_feedback_is_written_where_the_config_says(graded):
    _, ours = graded
    result = autograder("feedback", "ps1", cwd=ours)
    assert str(ours / "returned") in result.stdout
    for student in ("bitdiddle", "hacker"):
        assert sorted(p.name for p in (ours / "returned" / student / "ps1").glob("*.html")) \
            == ["problem1.html", "problem2.html"]
    assert not (ours / "feedback").exists()


def _csv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_student_who_did_not_submit_is_in_the_export(graded):
    plain, ours = graded
    autograder("export", "--output", "grades.csv", cwd=ours)
    rows = {r["student"]: r for r in _csv(ours / "grades.csv")}
    assert set(rows) == {"alyssa", "bitdiddle", "hacker"}
    alyssa, bitdiddle, hacker = rows["alyssa"], rows["bitdiddle"], rows["hacker"]
    assert (alyssa["status"], alyssa["score"], alyssa["max_score"]) == ("missing", "0.0", "13.0")
    assert alyssa["email"] == "alyssa@example.edu"
    assert (bitdiddle["raw_score"], bitdiddle["late_submission_penalty"],
            bitdiddle["score"]) == ("1.5", "1.5", "0.0")
    assert bitdiddle["flags"] == "late" and hacker["flags"] == ""
    assert hacker["status"] == "graded" and hacker["score"] == "3.0"
    # per-exercise scores
    assert hacker["ps1/problem1/correct_squares"] == "1.0"
    assert bitdiddle["ps1/problem1/correct_squares"] == "0.0"
    assert bitdiddle["ps1/problem1/sum_of_squares_uses_squares"] == "0.5"
    assert alyssa["ps1/problem1/correct_squares"] == ""
    # nbgrader's own export of the same gradebook agrees on every column it has
    plain_nbgrader("export", "--to", "plain.csv", cwd=ours)
    theirs = _csv(ours / "plain.csv")
    assert sorted(r["student_id"] for r in theirs) == sorted(rows)
    for row in theirs:
        mine = rows[row["student_id"]]
        for column in ("raw_score", "late_submission_penalty", "score", "max_score"):
            assert float(mine[column]) == float(row[column]), (column, mine, row)
        for column in ("timestamp", "last_name", "first_name", "email"):
            assert mine[column] == row[column], (column, mine, row)
    # and the same plugin runs under plain `nbgrader export`
    plain_nbgrader("export", "--exporter", "autograder.export.GradesExport",
                   "--to", "through_nbgrader.csv", cwd=ours)
    assert _csv(ours / "through_nbgrader.csv") == _csv(ours / "grades.csv")


def test_the_moodle_file_holds_every_student_with_the_final_score(graded):
    _, ours = graded
    autograder("export", "--format", "moodle", cwd=ours)
    with open(ours / "moodle_grades.csv", newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["Username", "Email address", "First name", "Last name", "ps1"]
    assert table[1:] == [["alyssa", "alyssa@example.edu", "Alyssa", "Hacker", "0.0"],
                         ["bitdiddle", "ben@example.edu", "Ben", "Bitdiddle", "0.0"],
                         ["hacker", "aph@example.edu", "Alyssa P.", "Hacker", "3.0"]]


LESSON = "99_sample"
NB = f"{LESSON}.ipynb"


def test_a_flagged_submission_is_in_formgraders_manual_grading_queue(fixture_course):
    released = notebooks.read(fixture_course.root / "lessons" / LESSON / NB)
    source = notebooks.read(fixture_course.root / "solutions" / LESSON / NB)
    complete = notebooks.fill_in(released, source)

    def with_cell(code):
        nb = notebooks.fill_in(released, source)
        import nbformat

        nb.cells.insert(2, nbformat.v4.new_code_cell(code))
        return nb

    submissions = {
        "honest": complete,
        "tamper": with_cell("import numpy as np\nnp.testing.assert_allclose = lambda *a, **k: None"),
        "crash": with_cell("import os\nos._exit(1)"),
    }
    for student, nb in submissions.items():
        notebooks.write(nb, fixture_course.submissions / student / LESSON / NB)
    outcomes = {o.student: o for o in grade(fixture_course, LESSON)}
    assert "tamper" in outcomes["tamper"].flags and "crash" in outcomes["crash"].flags
    assert outcomes["tamper"].score == 3 and outcomes["honest"].score == 3

    api = fixture_course.api()   # what formgrader's handlers call
    queue = {s["student"]: s["needs_manual_grade"] for s in api.get_submissions(LESSON)}
    assert queue == {"honest": False, "tamper": True, "crash": True}
    per_notebook = {s["student"]: s["needs_manual_grade"]
                    for s in api.get_notebook_submissions(LESSON, LESSON)}
    assert per_notebook == queue
    # the grader's reasons are in the comments formgrader shows; its scores stay
    with fixture_course.gradebook() as gb:
        comments = [c.auto_comment or "" for c in
                    gb.find_submission_notebook(LESSON, LESSON, "tamper").comments]
        assert comments and all("autograder: review (tamper)" in c and
                                "np.testing.assert_allclose" in c for c in comments)
        grades = gb.find_submission_notebook(LESSON, LESSON, "tamper").grades
        assert all(g.needs_manual_grade for g in grades) and sum(g.score for g in grades) == 3
    export = {r["student"]: r for r in _export_rows(fixture_course)}
    assert export["tamper"]["needs_manual_grade"] == "True"
    assert "tamper" in export["tamper"]["flags"] and "crash" in export["crash"]["flags"]


def _export_rows(course) -> list[dict]:
    from autograder.export import export_csv

    export_csv(course, [LESSON], course.root / "grades.csv")
    return _csv(course.root / "grades.csv")


def test_nbgrader_config_sets_folders_names_and_grader_settings(tmp_path):
    (tmp_path / "masters" / "hw-1 (intro)").mkdir(parents=True)
    notebooks.write(notebooks.read(ROOT / "tests" / "fixtures" / "course" / "solutions"
                                   / LESSON / NB), tmp_path / "masters" / "hw-1 (intro)" / "a.ipynb")
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.source_directory = 'masters'\n"
        "c.CourseDirectory.release_directory = 'out'\n"
        "c.Execute.timeout = 17\n"
        "c.Autograder.memory_gib = 1.5\n"
        "c.Autograder.max_processes = 64\n"
        "c.Autograder.review_flags = ['tamper']\n")
    course = Course(tmp_path)
    assert course.lessons() == ["hw-1 (intro)"]
    assert course.resolve_lessons(["hw-1 (intro)"]) == ["hw-1 (intro)"]
    assert course.db_url == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}"
    limits = course.limits()
    assert (limits.cell_timeout, limits.memory_bytes, limits.max_processes) == (
        17, int(1.5 * 2**30), 64)
    assert course.limits(cell_timeout=5).cell_timeout == 5   # the command line wins
    assert course.settings.review_flags == ["tamper"]
    assert course.released("hw-1 (intro)") == tmp_path.resolve() / "out" / "hw-1 (intro)"
    # this repository: its nbgrader_config.py keeps solutions/ and lessons/
    repository = Course(ROOT)
    assert repository.source_root == ROOT / "solutions"
    assert repository.released("01") == ROOT / "lessons" / "01"
    assert repository.limits().cell_timeout == 300
    # a folder without a configuration file: nbgrader's defaults where it has source/
    plain = tmp_path / "plain"
    (plain / "source" / "ps1").mkdir(parents=True)
    assert Course(plain).source_root == plain.resolve() / "source"
    with pytest.raises(CourseError, match="no solutions/ folder"):
        Course(tmp_path / "nothing")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "nbgrader_config.py").write_text("c = get_config(\n")
    with pytest.raises(CourseError, match="could not read .*nbgrader_config.py: SyntaxError"):
        Course(broken)


def test_assignment_and_submission_files_reach_the_kernel_but_links_do_not(tmp_path):
    """As nbgrader autograde copies them: the assignment's data files (from the source
    folder) and the student's own files are beside the notebook in the kernel's folder; a
    symbolic link in the submission is not followed (it would make the grader read the
    instructor's files)."""
    from autograder.planning import plan_grading
    from autograder.release import new_course
    from tests.conftest import FIXTURE_COURSE

    lesson, name = "99_sample", "99_sample.ipynb"
    source = tmp_path / "source"
    shutil.copytree(FIXTURE_COURSE, source)
    (source / "solutions" / lesson / "data").mkdir()
    (source / "solutions" / lesson / "data" / "numbers.txt").write_text("3")
    course = new_course(tmp_path / "course", source, [lesson])
    released = notebooks.read(course.root / "lessons" / lesson / name)
    solution = notebooks.read(course.source(lesson) / name)
    folder = course.submissions / "ada" / lesson
    notebooks.write(notebooks.fill_in(released, solution, replacements={"square": (
        "FACTOR = int(open('data/numbers.txt').read()) * int(open('mine.txt').read())\n"
        "def square(x):\n    return x * x * FACTOR // 3")}), folder / name)
    (folder / "mine.txt").write_text("1")
    (folder / "stolen.ipynb").symlink_to(course.source(lesson) / name)
    task, = plan_grading(course, lesson).tasks
    assert sorted(task.files) == ["99_sample.ipynb", "mine.txt"], sorted(task.files)
    assert task.source_files == {"data/numbers.txt": b"3"}
    outcome, = grade(course, lesson, workers=1)
    assert outcome.score == 3, outcome.reason


def test_the_courses_autograding_settings_reach_the_grading_worker(fixture_course):
    """A setting of nbgrader's autograde pipeline in the course's nbgrader_config.py (here
    LimitOutput: at most 3 lines of output per cell) is applied by the grading worker as
    `nbgrader autograde` applies it."""
    lesson, name = "99_sample", "99_sample.ipynb"
    (fixture_course.root / "nbgrader_config.py").write_text(
        "import os\nfrom autograder.settings import configure\nc = get_config()\n"
        "configure(c, os.path.dirname(os.path.abspath(__file__)))\n"
        "c.LimitOutput.max_lines = 3\n")
    course = Course(fixture_course.root)
    released = notebooks.read(course.root / "lessons" / lesson / name)
    solution = notebooks.read(course.source(lesson) / name)
    notebooks.write(notebooks.fill_in(released, solution, replacements={"square": (
        "for line in range(100):\n    print('line', line)\n"
        "def square(x):\n    return x * x")}), course.submissions / "ada" / lesson / name)
    outcome, = grade(course, lesson, workers=1)
    assert outcome.score == 3, outcome.reason
    graded = notebooks.read(course.root / "autograded" / "ada" / lesson / name)
    printed = next("".join(o.get("text", "")) for c in graded.cells if "print('line'" in c.source
                   for o in c.outputs if o.get("output_type") == "stream")
    assert printed.count("line ") == 2 and "Output truncated" in printed, repr(printed)
