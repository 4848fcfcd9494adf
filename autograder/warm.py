"""Warm kernels: TensorFlow's start-up paid once per grading process, not per submission.

Each grading process (a pool worker, a Dask worker, or the coordinator grading one at a
time) keeps one *template*: a process in a bubblewrap sandbox of its own that has imported
NumPy, TensorFlow, Keras, Matplotlib and ipykernel and forks a fresh kernel per submission
(:mod:`autograder.kernel_template`). The kernelspec's launcher asks it for a kernel
(:func:`autograder.sandbox.launch`); every kernel gets new mount, PID, network, IPC and UTS
namespaces, only its own submission's files, no capabilities, the submission's cgroup and
resource limits. Where the template cannot be used (no bubblewrap, weaker
isolation accepted, or it failed to start) kernels start cold, as before; a submission
whose forked kernel did not start is retried with a cold one (:func:`autograder.parallel.
execute`), so the retry does not depend on the template.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from autograder import sandbox

START_TIMEOUT = 180    # seconds: importing TensorFlow on a loaded machine
# What every kernel imports before it runs a cell (ipykernel, and the judge's agent).
KERNEL_MODULES = ("IPython", "ipykernel.kernelapp", "ipykernel.ipkernel", "numpy",
                  "dlcourse.remote")


class TemplateError(Exception):
    """The template could not be started (the reason says why)."""


class KernelTemplate:
    """One template process and the folder of its control socket."""

    def __init__(self, scratch: Path, environment: dict, modules):
        self.users = 0   # submissions whose kernel it serves now
        self.modules = sorted(set(KERNEL_MODULES) | set(modules))
        self.folder = Path(tempfile.mkdtemp(prefix=f"warm-{os.getpid()}-", dir=scratch))
        self.socket = str(self.folder / "control.sock")
        self.log = self.folder / "template.log"
        # Matplotlib reads its backend when imported; ipykernel sets this one in every kernel.
        environment = dict(environment, MPLBACKEND="module://matplotlib_inline.backend_inline")
        argv = template_argv(scratch, environment)
        source = (Path(__file__).parent / "kernel_template.py").read_text() + (
            f"\nserve({self.socket!r}, {self.modules!r})\n")
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=log, preexec_fn=sandbox.die_with_parent)
        self.process.stdin.write(source.encode())
        self.process.stdin.close()
        self.preloaded = self._wait_ready()

    def _wait_ready(self) -> list:
        deadline = time.monotonic() + START_TIMEOUT
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self.process.stdout], [], [], max(remaining, 0))
            chunk = os.read(self.process.stdout.fileno(), 4096) if ready else b""
            if not chunk:
                self.stop()
                tail = self.log.read_text(errors="replace")[-400:] if self.log.exists() else ""
                raise TemplateError("the kernel template did not start"
                                    + (f": {tail.strip()}" if tail.strip() else ""))
            line += chunk
        self.process.stdout.close()
        message = json.loads(line)
        if type(message) is not dict or message.get("ready") is not True:
            self.stop()
            raise TemplateError(f"the kernel template said {line[:200]!r}, not that it is ready")
        return message.get("preloaded", [])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


def template_argv(scratch: Path, environment: dict) -> list[str]:
    """bubblewrap for the template: the kernels' sandbox minus what is per submission, plus
    the capabilities (inside its user namespace only) that building each kernel's
    namespaces needs; every kernel drops them before any student code runs."""
    argv = [sandbox.bwrap_path() or "bwrap", "--die-with-parent", "--new-session",
            "--unshare-all", "--unshare-user", "--uid", str(sandbox.SANDBOX_UID),
            "--gid", str(sandbox.SANDBOX_UID), "--disable-userns", "--cap-add", "ALL",
            "--hostname", "sandbox", "--clearenv",
            # the host's /proc, read-only: a kernel may mount a fresh /proc of its own PID
            # namespace only where a fully visible one exists (no kernel ever sees this one)
            "--ro-bind", "/proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
            "--dir", "/stage"]
    argv += sandbox.system_bind_args()
    argv += ["--bind", str(scratch), str(scratch)]
    for key, value in sorted(environment.items()):
        argv += ["--setenv", key, value]
    return argv + ["--chdir", "/tmp", "--", sys.executable, "-"]


# This process's current template, and those replaced while a kernel of theirs still ran
# (Dask runs several tasks of a worker in threads): each stops when its last kernel ends.
_lock = threading.Lock()
_current: KernelTemplate | None = None
_retired: list = []
_failure = ("", 0.0)   # why the last template did not start, and when
RETRY_AFTER = 300      # seconds before a template is tried again


def available(weak: bool) -> str:
    """Why warm kernels cannot be used here ('' if they can)."""
    if weak:
        return "weaker isolation accepted"
    if sandbox.bwrap_path() is None:
        return "no bubblewrap"
    if os.environ.get("DLCOURSE_COLD_KERNELS"):
        return "cold kernels asked for (DLCOURSE_COLD_KERNELS)"
    reason, when = _failure
    return reason if reason and time.monotonic() - when < RETRY_AFTER else ""


def describe(weak: bool = False) -> str:
    """How kernels start here (for the instructor)."""
    why = available(weak)
    return ("warm: forked per submission from one template per worker (TensorFlow imported "
            "once per worker)" if not why else f"cold: a fresh Python per submission ({why})")


@contextlib.contextmanager
def kernel_socket(scratch: Path, environment: dict, modules=()):
    """The socket of a template of this process that has imported ``modules`` (the
    lesson's imports), for the duration of one submission; started on first use or when a
    lesson needs more. Yields '' when none can start (:func:`available` then says why)."""
    template = _acquire(scratch, environment, set(modules))
    try:
        yield template.socket if template else ""
    finally:
        if template is not None:
            with _lock:
                template.users -= 1
                if template in _retired and not template.users:
                    _retired.remove(template)
                    template.stop()


def _acquire(scratch: Path, environment: dict, wanted: set) -> KernelTemplate | None:
    global _current, _failure
    with _lock:
        if _current is not None and not (_current.alive() and wanted <= set(_current.modules)):
            wanted |= set(_current.modules)
            _retire()
        if _current is None:
            try:
                _current = KernelTemplate(scratch, environment, wanted)
            except (TemplateError, OSError, ValueError) as error:
                _failure = (f"the kernel template failed to start: {error}"[:300],
                            time.monotonic())
                return None
            if not _atexit_registered:
                _register_atexit()
        _current.users += 1
        return _current


def _retire() -> None:
    """Replace the current template: stopped now if unused, else by its last user."""
    global _current
    if _current is not None:
        if _current.users:
            _retired.append(_current)
        else:
            _current.stop()
        _current = None


_atexit_registered = False


def _register_atexit() -> None:
    global _atexit_registered
    import atexit

    atexit.register(discard)
    _atexit_registered = True


def discard() -> None:
    """Stop every template of this process (at exit)."""
    global _current
    with _lock:
        for template in [_current, *_retired]:
            if template is not None:
                template.stop()
        _current = None
        _retired.clear()
