"""Warm kernels: TensorFlow's start-up paid once per grading process, not per submission.

Each grading process (a pool worker, a Dask worker, or the coordinator grading one at a
time) keeps one *template*: a process in a bubblewrap sandbox of its own that has imported
NumPy, TensorFlow, Keras, Matplotlib and ipykernel and forks a fresh kernel per submission
(:mod:`autograder.kernel_template`). The kernelspec's launcher asks it for a kernel
(:func:`autograder.sandbox.launch`); every kernel gets new mount, PID, network, IPC and UTS
namespaces, only its own submission's files, no capabilities, the submission's cgroup and
resource limits. Where the template cannot be used (no bubblewrap, not root, weaker
isolation accepted, or it failed to start) kernels start cold, as before.
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
        return json.loads(line).get("preloaded", [])

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


_template: KernelTemplate | None = None
_failure = ""


def available(weak: bool) -> str:
    """Why warm kernels cannot be used here ('' if they can)."""
    if weak:
        return "weaker isolation accepted"
    if sandbox.bwrap_path() is None:
        return "no bubblewrap"
    if os.geteuid() != 0:
        return "not root (a template needs capabilities inside its user namespace)"
    if os.environ.get("DLCOURSE_COLD_KERNELS"):
        return "cold kernels asked for (DLCOURSE_COLD_KERNELS)"
    return _failure


def control_socket(scratch: Path, environment: dict, modules=()) -> str:
    """The socket of this process's template that has imported ``modules`` (the lesson's
    imports), started on first use or when the lesson needs more; '' when it cannot start
    (the reason is then :func:`available`'s)."""
    global _template, _failure
    wanted = set(modules)
    if _template is not None and not (_template.alive() and wanted <= set(_template.modules)):
        wanted |= set(_template.modules)
        discard()
    if _template is None:
        try:
            _template = KernelTemplate(scratch, environment, wanted)
        except (TemplateError, OSError, ValueError) as error:
            _failure = f"the kernel template failed to start: {error}"[:300]
            return ""
        import atexit

        atexit.register(discard)
    return _template.socket


def discard() -> None:
    """Stop this process's template (the next task starts a fresh one)."""
    global _template
    if _template is not None:
        _template.stop()
        _template = None
