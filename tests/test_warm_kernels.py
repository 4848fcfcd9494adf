"""Warm kernels (autograder.warm): one template per grading process imports the lesson's
modules once and forks every submission's kernel, each in namespaces of its own. Two
kernels forked from the same template must share nothing a student could reach."""

from __future__ import annotations

import os
import shutil

import psutil
import pytest

from autograder import notebooks, warm
from autograder.grading import grade
from autograder.release import new_course
from tests.conftest import FIXTURE_COURSE, GradedLesson

LESSON = "99_sample"
NB = f"{LESSON}.ipynb"
PORT = 47123

pytestmark = pytest.mark.skipif(bool(warm.available(weak=False)),
                                reason=f"no warm kernels here: {warm.available(weak=False)}")

# The first submission leaves every trace it can: files, module and environment state, a
# background process and thread, listening sockets, TensorFlow's runtime started.
LEAVE_TRACES = f"""
import json, os, socket, subprocess, threading, time
import numpy as np
import tensorflow as tf
# every folder it can write to, at the top of the file system and below the usual ones
folders = ['/', '/tmp', '/dev', '/dev/shm', '/dev/mqueue', '/stage', '/run', '/var/tmp', '.',
           '..', os.path.expanduser('~')]
folders += [os.path.join('/', d) for d in os.listdir('/')]
for folder in folders:
    try:
        open(os.path.join(folder, 'warm-mark'), 'w').write('A')
    except OSError:
        pass
np.warm_mark = json.warm_mark = 'A'
os.environ['WARM_MARK'] = 'A'
straggler = subprocess.Popen(['sleep', '601.25'])
server = socket.socket()
server.bind(('127.0.0.1', {PORT}))
server.listen()
abstract = socket.socket(socket.AF_UNIX)
abstract.bind('\\0warm-mark')
abstract.listen()
threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
assert float(tf.reduce_sum(tf.ones(3))) == 3.0
"""

# The second looks for each of them, and for anything of the template, the grader or the
# other submissions; square() is wrong if it finds anything.
PROBE = f"""
import ctypes, glob, json, os, socket, sys
import numpy as np
leaks = []
if 'tensorflow' not in sys.modules:
    leaks.append('TensorFlow was not preloaded by the template')
from tensorflow.python.eager import context
if context._context is not None:
    leaks.append("TensorFlow's runtime existed before the first cell")
folders = ['/', '/tmp', '/dev', '/dev/shm', '/dev/mqueue', '/stage', '/run', '/var/tmp', '.',
           '..', os.path.expanduser('~')]
folders += [os.path.join('/', d) for d in os.listdir('/')]
for folder in folders:
    if os.path.exists(os.path.join(folder, 'warm-mark')):
        leaks.append('file in ' + folder)
if hasattr(np, 'warm_mark') or hasattr(json, 'warm_mark'):
    leaks.append('module state')
if 'WARM_MARK' in os.environ:
    leaks.append('environment')
pids = [p for p in os.listdir('/proc') if p.isdigit()]
for pid in pids:
    try:
        command = open(f'/proc/{{pid}}/cmdline', 'rb').read()
    except OSError:
        continue
    if any(word in command for word in (b'sleep', b'control.sock', b'pytest', b'autograder')):
        leaks.append(f'process {{pid}}: {{command[:60]!r}}')
if len(pids) > 4:
    leaks.append(f'{{len(pids)}} processes visible')
for family, address in ((socket.AF_INET, ('127.0.0.1', {PORT})),
                        (socket.AF_UNIX, '\\0warm-mark')):
    try:
        socket.socket(family).connect(address)
        leaks.append(f'socket {{address!r}} reachable')
    except OSError:
        pass
scratch = glob.glob('/tmp/dlcourse-grading/*')
if len(scratch) != 1 or glob.glob('/tmp/dlcourse-grading/*/course/gradebook.db'):
    leaks.append(f'scratch area visible: {{scratch}}')
if 'b-probes' in os.getcwd():   # paths sent to the template name no student
    leaks.append('the student id in the kernel folder ' + os.getcwd())
status = open('/proc/self/status').read()
if 'CapEff:\\t0000000000000000' not in status or 'NoNewPrivs:\\t1' not in status:
    leaks.append('privileges kept')
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x00020000) == 0 or libc.mount(b'none', b'/tmp', b'tmpfs', 0, None) == 0:
    leaks.append('namespaces or mounts could be changed')
try:
    os.kill(1, 9)   # the kernel's keeper: ignored
except OSError:
    pass
if float(np.asarray(__import__('tensorflow').reduce_sum([1.0, 2.0]))) != 3.0:
    leaks.append('forked TensorFlow does not compute')
print('leaks:', leaks)
"""


def _tensorflow_course(tmp_path):
    """The fixture lesson whose source imports TensorFlow, so the template preloads it."""
    source = tmp_path / "source"
    shutil.copytree(FIXTURE_COURSE, source)
    path = source / "solutions" / LESSON / NB
    nb = notebooks.read(path)
    first = next(c for c in nb.cells if c.cell_type == "code")
    first.source += "\nimport tensorflow as tf"
    notebooks.write(nb, path)
    return new_course(tmp_path / "course", source, [LESSON])


def _submit(course, student: str, code: str, square: str = "def square(x):\n    return x * x"):
    released = notebooks.read(course.root / "lessons" / LESSON / NB)
    source = notebooks.read(course.source(LESSON) / NB)
    nb = notebooks.fill_in(released, source, replacements={"square": code + "\n" + square})
    notebooks.write(nb, course.submissions / student / LESSON / NB)


def _stragglers() -> list:
    found = []
    for process in psutil.process_iter():
        try:
            if process.cmdline()[:2] == ["sleep", "601.25"]:
                found.append(process.pid)
        except psutil.Error:
            pass
    return found


def test_two_kernels_of_one_template_share_nothing_a_student_can_reach(tmp_path):
    course = _tensorflow_course(tmp_path)
    _submit(course, "a-leaves-traces", LEAVE_TRACES)
    _submit(course, "b-probes", PROBE,
            "def square(x):\n    return x * x if not leaks else 0")
    graded = GradedLesson(course, LESSON, grade(course, LESSON, workers=1))
    from autograder import records

    status = records.load_status(course)[LESSON]
    for student in ("a-leaves-traces", "b-probes"):
        assert "warm-template" in status[student]["sandbox"], (status[student],
                                                                warm.available(False))
    assert graded.outcomes["a-leaves-traces"].score == 3
    probe = notebooks.read(course.root / "autograded" / "b-probes" / LESSON / NB)
    printed = "".join(o.get("text", "") for c in probe.cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    assert "leaks: []" in printed, printed
    # where the time went, as the benchmarks read it: the kernel's cells and the judge's tests
    seconds = notebooks.execution_seconds(probe)
    judged = [i for _, i, _ in seconds["cells"] if notebooks.is_graded_test(probe.cells[i])]
    assert seconds["kernel"] > 0 and seconds["judge"] > 0 and len(judged) == 3, seconds
    assert graded.outcomes["b-probes"].score == 3
    assert not _stragglers(), "a process the first kernel started outlived it"


def test_a_template_that_dies_is_replaced_and_cold_kernels_still_work(tmp_path, monkeypatch):
    course = new_course(tmp_path / "course", FIXTURE_COURSE, [LESSON])
    for student in ("s1", "s2"):
        _submit(course, student, "")

    def kill_template(outcome):
        if warm._current is not None:
            warm._current.process.kill()
            warm._current.process.wait(10)   # dead, not dying, when the next task looks

    outcomes = grade(course, LESSON, workers=1, progress=kill_template)
    assert [o.score for o in outcomes] == [3, 3], [o.reason for o in outcomes]
    from autograder import records

    layers = {s: e["sandbox"] for s, e in records.load_status(course)[LESSON].items()}
    assert all("warm-template" in v for v in layers.values()), (layers, warm.available(False))
    monkeypatch.setenv("DLCOURSE_COLD_KERNELS", "1")
    outcomes = grade(course, LESSON, workers=1, force=True)
    assert [o.score for o in outcomes] == [3, 3], [o.reason for o in outcomes]
    layers = {s: e["sandbox"] for s, e in records.load_status(course)[LESSON].items()}
    assert all("bubblewrap" in v and "warm-template" not in v for v in layers.values()), layers
    assert os.environ.get("DLCOURSE_COLD_KERNELS") == "1"


def test_a_warm_kernel_that_does_not_start_is_retried_cold(tmp_path, monkeypatch):
    """The template's socket is gone (a broken template): the kernel never starts, so the
    submission is retried, with a cold kernel, and graded."""
    import contextlib

    course = new_course(tmp_path / "course", FIXTURE_COURSE, [LESSON])
    _submit(course, "s1", "")

    @contextlib.contextmanager
    def broken(*args, **kwargs):
        yield str(tmp_path / "no-such.sock")

    monkeypatch.setattr(warm, "kernel_socket", broken)
    outcome, = grade(course, LESSON, workers=1)
    assert outcome.score == 3, outcome.reason
    from autograder import records

    entry = records.load_status(course)[LESSON]["s1"]
    assert "warm-template" not in entry["sandbox"] and "bubblewrap" in entry["sandbox"], entry
    log = records.log_path(course, LESSON, "s1").read_text()
    assert "(attempt 2)" in log, log[:300]
