"""A whole class graded with the sandboxed parallel grader: a corpus of broken and hostile
submissions, each graded with a reason while the batch goes on; parallel, sequential and
Dask grading agree; an interrupted batch resumes without lost or duplicated grades."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from autograder import notebooks, records
from autograder.feedback import write_feedback
from autograder.grading import grade
from autograder.parallel import Limits
from tests.conftest import GradedLesson, ROOT

LESSON = "99_sample"
NB = f"{LESSON}.ipynb"
# Small limits so the corpus runs in about a minute; the real defaults are larger.
TEST_LIMITS = Limits(cell_timeout=8, notebook_timeout=120, memory_bytes=768 * 2**20,
                     max_processes=128)
ESCAPE = Path("/tmp/dlcourse-escape-test.txt")
AT_MOST = {"judge-patched-builtins": 1}  # attacks whose exact score the kernel decides


def _released_source(course):
    return (notebooks.read(course.root / "lessons" / LESSON / NB),
            notebooks.read(course.root / "solutions" / LESSON / NB))


def _with_code_cell(nb, code, index=2):
    """The notebook with an extra plain code cell (student code) inserted."""
    nb = nbformat.from_dict(nb)
    nb.cells.insert(index, nbformat.v4.new_code_cell(code))
    return nb


def corpus(course, listener_port: int = 9) -> dict:
    """student -> (what to write as the notebook, expected (score or None), words that must
    appear in the reason or in the graded cells' feedback)."""
    released, source = _released_source(course)
    complete = notebooks.fill_in(released, source)
    as_text = lambda nb: nbformat.writes(nb)  # noqa: E731

    deleted = nbformat.from_dict(complete)
    deleted.cells = [c for c in deleted.cells if notebooks.grade_id(c) != "test_square"]
    duplicated = nbformat.from_dict(complete)
    twin = nbformat.from_dict(next(c for c in duplicated.cells
                                   if notebooks.grade_id(c) == "test_mean"))
    twin.id = "twin"
    duplicated.cells.append(twin)
    edited = notebooks.fill_in(released, source, replacements={
        "square": "def square(x):\n    return 0"})
    for cell in edited.cells:
        if notebooks.grade_id(cell) == "test_square":
            cell.source = "pass  # the student deleted the check"
    retyped = nbformat.from_dict(complete)
    for cell in retyped.cells:
        if notebooks.grade_id(cell) == "square":
            cell.cell_type = "markdown"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    old_format = json.loads(as_text(complete))
    old_format["nbformat"] = 3
    hostile_paths = [ROOT / "escape.txt", ESCAPE, ROOT / "solutions" / "escape.txt"]
    steal = ("import glob, json, os\n"
             "found = []\n"
             f"for pattern in ['{ROOT}/solutions/*/*.ipynb', '{course.root}/solutions/*/*.ipynb',"
             f" '{course.root}/gradebook.db', '/tmp/dlcourse-grading/*/course/gradebook.db',"
             f" '{course.submissions}/*/*/*.ipynb']:\n"
             "    found += glob.glob(pattern)\n"
             "found = [p for p in found if os.path.getsize(p) > 0]  # covered files read empty\n"
             "print('visible:', found)\n"
             "source = [c for p in found if p.endswith('.ipynb') "
             "for c in json.load(open(p))['cells'] if 'BEGIN SOLUTION' in ''.join(c['source'])]\n"
             "exec(''.join(source[0]['source']) if source else 'pass')\n")
    return {
        "ok-complete": (complete, 3, []),
        "malformed-json": ('{"cells": [', 0, ["not a valid notebook", "NotJSONError"]),
        "not-a-notebook": ('{"hello": 1}', 0, ["not a valid notebook"]),
        "wrong-nbformat": (json.dumps(old_format), 0, ["not a valid notebook"]),
        "non-utf8": (b"\xff\xfe\x00garbage", 0, ["not UTF-8"]),
        "empty-folder": (None, 0, ["empty submission folder"]),
        "deleted-graded-cell": (deleted, None, []),
        "duplicated-grade-id": (duplicated, None, []),
        "edited-test-cell": (edited, 2, ["square(3) should be 9"]),
        "changed-cell-type": (retyped, None, []),
        "infinite-loop": (_with_code_cell(complete, "while True:\n    pass"), 3,
                          ["longer than 8 s"]),
        "sys-exit": (_with_code_cell(complete, "import sys\nsys.exit(3)"), 3, ["sys.exit"]),
        "os-exit": (_with_code_cell(complete, "import os\nos._exit(1)"), 0, ["kernel died"]),
        "segfault": (_with_code_cell(complete, "import ctypes\nctypes.string_at(0)"), 0,
                     ["kernel died"]),
        "memory-blowup": (_with_code_cell(
            complete, "import numpy as np\nhog = np.ones(3 * 2**30, dtype=np.uint8)"), 3,
            ["MemoryError"]),
        "process-flood": (_with_code_cell(
            complete, "import subprocess\nkids = []\nfor _ in range(300):\n"
                      "    kids.append(subprocess.Popen(['sleep', '600']))"), 3,
            ["process cap"]),
        "huge-output": (_with_code_cell(
            complete, "import sys\nline = 'x' * 1023 + '\\n'\nfor _ in range(100 * 1024):\n"
                      "    sys.stdout.write(line)"), 3, []),
        "write-outside": (_with_code_cell(complete, "\n".join(
            f"try:\n    open({str(p)!r}, 'w').write('escaped')\nexcept OSError as e:\n"
            f"    print('refused', e)" for p in hostile_paths) + "\nopen('mine.txt', 'w')"
            ".write('fine')"), 3, []),
        "read-solutions": (notebooks.fill_in(released, source, replacements={
            "square": steal}), 2, ["square(3) should be 9"]),
        **judge_attacks(course, released, source, listener_port),
    }


def judge_attacks(course, released, source, listener_port: int) -> dict:
    """Student code that tries to decide its own verdict, or to reach the grader. The test
    cells run in the judge, so each scores what its honest content deserves; honest
    submissions queued after them get full marks in the same run."""
    complete = notebooks.fill_in(released, source)
    only_square = notebooks.fill_in(released, source, only={"square"})
    wrong_mean = notebooks.fill_in(released, source, replacements={
        "mean": "def mean(values):\n    return 0"})
    always_equal = ("class AlwaysEqual(float):\n"
                    "    def __eq__(self, other): return True\n"
                    "    __ne__ = lambda self, other: False\n"
                    "    def __bool__(self): return True\n"
                    "def square(x):\n    return AlwaysEqual(0)\n"
                    "def mean(values):\n    return AlwaysEqual(0)\n")
    walk = ("import os\nhits = []\nroots = [os.path.dirname(os.getcwd()), '/tmp']\n"
            # the fixture lesson's hidden assert (nbgrader's own docs, readable in the
            # venv, show the generic BEGIN HIDDEN marker)
            "needle = ('mean([0.5, 1.5]) should' + ' be 1.0').encode()\n"
            "for pid in os.listdir('/proc'):\n"
            "    if pid.isdigit():\n"
            "        roots += [f'/proc/{pid}/cwd', f'/proc/{pid}/root/tmp/dlcourse-grading',\n"
            f"                  f'/proc/{{pid}}/root{ROOT}/solutions', f'/proc/{{pid}}/root{ROOT}/.git']\n"
            "for root in roots:\n"
            "    for depth, (folder, dirs, files) in enumerate(os.walk(root)):\n"
            "        if depth > 400: break\n"
            "        for name in files:\n"
            "            path = os.path.join(folder, name)\n"
            "            try:\n"
            "                if os.path.getsize(path) < 2**22 and (needle in open(path, 'rb').read()\n"
            "                        or name == 'HEAD'):\n"
            "                    hits.append(path)\n"
            "            except OSError:\n"
            "                pass\n"
            "print('hidden-found:', sorted(set(hits))[:5])\n")
    return {
        "judge-input-transformer": (_with_code_cell(
            released, "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])"),
            0, []),
        "judge-always-equal": (notebooks.fill_in(released, source, only=set(), replacements={
            "square": always_equal, "mean": always_equal.split("def square")[0]
            + "def mean(values):\n    return AlwaysEqual(0)\n"}), 0, []),
        # Breaking the kernel's own builtins may break the kernel: at most its honest point.
        "judge-patched-builtins": (_with_code_cell(
            only_square, "import builtins\nbuiltins.len = lambda x: 1\n"
            "builtins.sum = lambda x: 2\nbuiltins.all = lambda x: True"), None, []),
        "judge-patched-numpy": (_with_code_cell(
            wrong_mean, "import numpy\nnumpy.isclose = lambda *a, **k: True"), 1, []),
        "judge-custom-exc": (_with_code_cell(
            released, "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)"),
            0, []),
        "judge-showtraceback": (_with_code_cell(
            released, "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\n"
            "ip._showtraceback = lambda *a, **k: None"), 0, []),
        "judge-patched-checks": (_with_code_cell(
            released, "from dlcourse import checks\n"
            "vars(checks)['check_close'] = lambda *a, **k: None\n"
            "checks.check_equal.__code__ = (lambda *a, **k: None).__code__"), 0, []),
        "judge-kill-parent": (_with_code_cell(
            complete, "import os, signal\nfor pid in {os.getppid(), 1}:\n    try:\n"
            "        os.kill(pid, signal.SIGKILL)\n    except OSError as error:\n"
            "        print('refused', error)"), 3, []),
        "judge-read-hidden": (_with_code_cell(complete, walk), 3, []),
        "judge-network": (_with_code_cell(
            complete, "import socket\nfor address in [('127.0.0.1', "
            f"{listener_port}), ('8.8.8.8', 53)]:\n"
            "    try:\n        socket.create_connection(address, timeout=3)\n"
            "        print('network-open', address)\n"
            "    except OSError as error:\n        print('network-refused', address)"), 3, []),
        "judge-kill-siblings": (_with_code_cell(
            complete, "import os, signal\nfor pid in os.listdir('/proc'):\n"
            "    if pid.isdigit() and int(pid) not in (os.getpid(), 1):\n"
            "        try:\n            os.kill(int(pid), signal.SIGKILL)\n"
            "        except OSError:\n            pass\nprint('killed what it could see')"),
            3, []),
        "zz-honest-1": (complete, 3, []),
        "zz-honest-2": (complete, 3, []),
        "zz-honest-3": (complete, 3, []),
    }


class ScratchWatcher:
    """Notes the scratch folders this process and its workers make while a batch runs
    (``task-<worker pid>-*``; other tests' batches may run beside it)."""

    def __init__(self):
        import threading

        import psutil

        from autograder.parallel import scratch_base

        self.seen, self._done = set(), threading.Event()
        family = {os.getpid()}

        def watch():
            while not self._done.wait(0.3):
                family.update(p.pid for p in psutil.Process().children(recursive=True))
                self.seen |= {p.name for p in scratch_base().glob("task-*")
                              if int(p.name.split("-")[1]) in family}

        self._thread = threading.Thread(target=watch, daemon=True)
        self._thread.start()

    def stop(self):
        self._done.set()
        self._thread.join()


def _submit_corpus(course, items):
    for student, (content, _, _) in items.items():
        folder = course.submissions / student / LESSON
        folder.mkdir(parents=True, exist_ok=True)
        if content is None:
            continue
        raw = (content if isinstance(content, bytes) else content.encode()
               if isinstance(content, str) else nbformat.writes(content).encode())
        (folder / NB).write_bytes(raw)


def test_hostile_corpus_is_graded_with_reasons_and_the_batch_goes_on(fixture_course):
    import socket

    import psutil

    from autograder.parallel import scratch_base

    ESCAPE.unlink(missing_ok=True)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    items = corpus(fixture_course, listener.getsockname()[1])
    assert len(items) - 1 >= 15  # kinds of bad submission, besides the good one
    _submit_corpus(fixture_course, items)
    watcher = ScratchWatcher()
    outcomes = {o.student: o for o in grade(fixture_course, LESSON, workers=2,
                                                            limits=TEST_LIMITS)}
    assert set(outcomes) == set(items)
    graded = GradedLesson(fixture_course, LESSON, outcomes.values())
    problems = []
    for student, (_, expected, words) in items.items():
        outcome = outcomes[student]
        if outcome.max_score != 3:
            problems.append(f"{student}: max score {outcome.max_score}")
        if expected is not None and outcome.score != expected:
            problems.append(f"{student}: score {outcome.score}, expected {expected} "
                            f"({outcome.reason})")
        feedback = outcome.reason
        if outcome.ok:
            feedback += " ".join(t for _, _, t in graded.cell_results(student).values())
        if outcome.score > AT_MOST.get(student, outcome.max_score):
            problems.append(f"{student}: score {outcome.score}, more than its honest content "
                            f"({AT_MOST[student]})")
        for word in words:
            if word.lower() not in feedback.lower():
                problems.append(f"{student}: feedback lacks {word!r}: {feedback[-300:]}")
    # nothing escaped the sandbox, nothing was read
    escaped = [str(p) for p in (ROOT / "escape.txt", ESCAPE, ROOT / "solutions" / "escape.txt")
               if p.exists()]
    if escaped:
        problems.append(f"files written outside the submission: {escaped}")
    mine = fixture_course.root / "autograded" / "write-outside" / LESSON / "mine.txt"
    if outcomes["write-outside"].flags or not outcomes["write-outside"].ok:
        problems.append(f"write-outside: {outcomes['write-outside']}")
    assert not mine.exists() or mine.read_text() == "fine"
    stolen = notebooks.read(fixture_course.root / "autograded" / "read-solutions" / LESSON / NB)
    printed = " ".join(o.get("text", "") for c in stolen.cells for o in c.get("outputs", []))
    if "visible: []" not in printed:
        problems.append(f"read-solutions saw files: {printed[:300]}")
    huge = fixture_course.root / "autograded" / "huge-output" / LESSON / NB
    if huge.exists() and huge.stat().st_size > 5 * 2**20:
        problems.append(f"huge-output stored {huge.stat().st_size} bytes")
    walked = notebooks.read(fixture_course.root / "autograded" / "judge-read-hidden" / LESSON
                            / NB)
    printed = " ".join(o.get("text", "") for c in walked.cells for o in c.get("outputs", []))
    if "hidden-found: []" not in printed:
        problems.append(f"judge-read-hidden reached hidden tests or .git: {printed[:400]}")
    networked = notebooks.read(fixture_course.root / "autograded" / "judge-network" / LESSON
                               / NB)
    printed = " ".join(o.get("text", "") for c in networked.cells for o in c.get("outputs", []))
    if "network-open" in printed or printed.count("network-refused") != 2:
        problems.append(f"judge-network reached the network: {printed[:300]}")
    listener.close()
    for student in ("infinite-loop",):
        if "timeout" not in outcomes[student].flags:
            problems.append(f"{student}: not flagged as timeout: {outcomes[student]}")
    for student in ("os-exit", "segfault"):
        if "crash" not in outcomes[student].flags:
            problems.append(f"{student}: not flagged as crash: {outcomes[student]}")
    # nothing outlives the batch: no kernel, no child of a kernel, no scratch folder
    watcher.stop()
    left = [p.pid for p in psutil.process_iter(["cmdline"])
            if any(name in part for part in (p.info["cmdline"] or [])
                   for name in watcher.seen)]
    if left:
        problems.append(f"processes outlived the batch: {left}")
    remaining = [name for name in watcher.seen if (scratch_base() / name).exists()]
    if remaining:
        problems.append(f"scratch folders outlived the batch: {remaining}")
    assert not problems, "\n".join(problems)
    # the gradebook is consistent: one submission per student, all in the export
    rows = records.grade_rows(fixture_course, [LESSON])
    assert sorted(r["student"] for r in rows) == sorted(items)
    status = records.load_status(fixture_course)[LESSON]
    assert set(status) == set(items)
    # feedback for every student, including the ones that could not be executed
    assert not write_feedback(fixture_course, LESSON)
    for student in items:
        page = fixture_course.root / "feedback" / student / LESSON / f"{LESSON}.html"
        assert page.exists(), student
    assert "not UTF-8" in (fixture_course.root / "feedback" / "non-utf8" / LESSON
                           / f"{LESSON}.html").read_text()
    # a hidden test shows its docstring and verdict, never its code
    import html as html_module

    page = html_module.unescape((fixture_course.root / "feedback" / "zz-honest-1" / LESSON
                                 / f"{LESSON}.html").read_text())
    assert "mean: other inputs." in page
    assert "mean([0.5, 1.5])" not in page and "np.isclose" not in page


def _class(course, count: int):
    released, source = _released_source(course)
    versions = [notebooks.fill_in(released, source),
                notebooks.fill_in(released, source, only={"square"}),
                released,
                notebooks.fill_in(released, source, replacements={
                    "mean": "def mean(values):\n    return 2"})]
    for i in range(count):
        notebooks.write(versions[i % len(versions)],
                        course.submissions / f"student-{i:02d}" / LESSON / NB)


def _cell_scores(course):
    graded = GradedLesson(course, LESSON, [])
    return {s: {g: r[0] for g, r in graded.cell_results(s).items()}
            for s in records.graded_students(course, LESSON)}


def test_parallel_sequential_and_dask_give_identical_grades(tmp_path):
    from distributed import LocalCluster

    from tests.conftest import FIXTURE_COURSE, make_course

    courses = {}
    for mode in ("sequential", "parallel", "dask"):
        course = make_course(tmp_path / mode, FIXTURE_COURSE, [LESSON])
        _class(course, 6)
        courses[mode] = course
    grade(courses["sequential"], LESSON, workers=1)
    grade(courses["parallel"], LESSON, workers=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        grade(courses["dask"], LESSON, scheduler=cluster.scheduler_address)
    scores = {mode: _cell_scores(course) for mode, course in courses.items()}
    assert len(scores["sequential"]) == 6
    assert scores["sequential"] == scores["parallel"] == scores["dask"]
    assert scores["sequential"]["student-00"] == {"test_square": 1, "test_mean": 1,
                                                  "test_mean_hidden": 1}
    assert scores["sequential"]["student-03"]["test_mean_hidden"] == 0


def test_killed_batch_resumes_without_lost_or_duplicated_grades(fixture_course):
    """SIGKILL of the coordinator alone (not its group): its pool workers and their
    sandboxed kernels die with it; the rerun loses nothing, duplicates nothing, stores no
    zero for the kill and leaves no scratch folder behind."""
    import psutil

    from autograder.parallel import scratch_base

    _class(fixture_course, 6)
    status = fixture_course.root / "grading_status.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "autograder", "grade", LESSON, "--workers", "2"]
    process = subprocess.Popen(command, cwd=fixture_course.root, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 300
    while time.time() < deadline:  # kill as soon as two results are stored
        if status.exists() and len(json.loads(status.read_text()).get(LESSON, {})) >= 2:
            break
        time.sleep(0.2)
    family = [process.pid] + [p.pid for p in psutil.Process(process.pid).children(recursive=True)]
    process.kill()
    process.wait()
    deadline = time.time() + 30
    while time.time() < deadline and any(psutil.pid_exists(pid) and psutil.Process(pid).status()
                                         != psutil.STATUS_ZOMBIE for pid in family):
        time.sleep(0.2)
    orphans = [pid for pid in family if psutil.pid_exists(pid)
               and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert not orphans, f"processes outlived the killed batch: {orphans}"
    done_before = json.loads(status.read_text())[LESSON]
    assert 2 <= len(done_before) < 6
    assert all(entry["ok"] or entry.get("not_graded") for entry in done_before.values())
    result = subprocess.run(command, cwd=fixture_course.root, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(done_before)} submission(s) already graded" in result.stdout
    with fixture_course.gradebook() as gb:
        submissions = gb.assignment_submissions(LESSON)
        students = [s.student.id for s in submissions]
    assert sorted(students) == [f"student-{i:02d}" for i in range(6)]  # none lost, no twins
    scores = _cell_scores(fixture_course)
    assert scores["student-00"]["test_mean_hidden"] == 1
    assert scores["student-02"] == {"test_square": 0, "test_mean": 0, "test_mean_hidden": 0}
    leftovers = [p.name for p in scratch_base().glob("task-*")
                 if int(p.name.split("-")[1]) in family]
    assert not leftovers, f"scratch folders of the killed batch remain: {leftovers}"


def test_infrastructure_failures_are_retried_then_not_graded(fixture_course, monkeypatch):
    """A worker that dies (not the submission's doing) is retried, then reported as not
    graded and kept out of the gradebook; the next run grades it."""
    from autograder import parallel

    _class(fixture_course, 2)
    calls = []

    def dying(task):
        calls.append(task.student)
        return parallel._lost(task, "the grading worker died: simulated")

    monkeypatch.setattr(parallel, "_safe_run", dying)
    outcomes = grade(fixture_course, LESSON, workers=1)
    assert [o.not_graded for o in outcomes] == [True, True]
    assert sorted(calls) == ["student-00"] * 3 + ["student-01"] * 3  # bounded retries
    assert "not graded after 3 attempt(s)" in outcomes[0].reason
    assert records.graded_students(fixture_course, LESSON) == []      # no zero stored
    monkeypatch.undo()
    outcomes = grade(fixture_course, LESSON, workers=1)       # the next run grades them
    assert [o.score for o in outcomes] == [3, 1]
    only = grade(fixture_course, LESSON, workers=1, students=["student-01"], force=True)
    assert [o.student for o in only] == ["student-01"]


def test_a_sandbox_that_does_not_start_is_not_a_grade(fixture_course, monkeypatch):
    """The kernel dies before its first answer (no student code ran): retried, then not
    graded; the earlier grade stays in the gradebook."""
    import json as json_module

    from autograder import sandbox

    _class(fixture_course, 1)
    assert [o.score for o in grade(fixture_course, LESSON, workers=1)] == [3]

    def broken(jupyter_path, config_path):
        folder = jupyter_path / "kernels" / sandbox.KERNEL_NAME
        folder.mkdir(parents=True)
        (folder / "kernel.json").write_text(json_module.dumps(
            {"argv": ["/bin/false", "{connection_file}"], "language": "python"}))

    monkeypatch.setattr(sandbox, "write_kernelspec", broken)
    outcomes = grade(fixture_course, LESSON, workers=1, force=True)
    assert outcomes[0].not_graded and "did not start" in outcomes[0].reason, outcomes[0]
    assert records.submission_score(fixture_course, LESSON, "student-00") == (3, 3)   # the old grade stays


def test_report_lists_pass_rates_histogram_and_problems(fixture_course, tmp_path):
    from autograder.report import pass_rates, write_report

    _class(fixture_course, 4)
    notebooks.write(_with_code_cell(_released_source(fixture_course)[0],
                                    "while True:\n    pass"),
                    fixture_course.submissions / "looper" / LESSON / NB)
    grade(fixture_course, LESSON, workers=2, limits=TEST_LIMITS)
    rates = {gid: (passed, total) for gid, passed, total in pass_rates(fixture_course, LESSON)}
    assert rates == {"test_square": (3, 5), "test_mean": (2, 5), "test_mean_hidden": (1, 5)}
    assert pass_rates(fixture_course, LESSON)[0][0] == "test_mean_hidden"  # most failed first
    text = write_report(fixture_course, LESSON, tmp_path / "report")
    assert "| test_mean_hidden | 1/5 | 20 % |" in text
    assert "| looper | timeout |" in text
    assert "Every submission ran in the bubblewrap sandbox." in text
    png = (tmp_path / "report" / "scores.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 1000
