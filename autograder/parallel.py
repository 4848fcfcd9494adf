"""Grading many submissions side by side, each in its own sandboxed scratch course.

A :class:`GradeTask` carries everything a worker needs as bytes (the submission, a
gradebook holding only the lesson's definition), so it runs the same on a local process
pool and on a Dask cluster. The worker grades with nbgrader in a scratch directory and
returns a :class:`GradeResult`; only the coordinator writes the real gradebook. Sequential
grading runs the very same task function, so both give identical grades.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from autograder import sandbox, warm
from autograder.worker import autograde_scratch

@dataclass(frozen=True)
class Limits:
    """Per-submission limits. Defaults suit Keras training in the fast profile."""

    cell_timeout: int = 300          # seconds per cell (an infinite loop ends here)
    notebook_timeout: int = 1200     # seconds for the whole notebook
    memory_bytes: int = 4 * 2**30    # the kernel and its children
    max_processes: int = 512         # processes and threads (TensorFlow starts dozens)


@dataclass
class GradeTask:
    lesson: str
    student: str
    files: dict                      # notebook name -> bytes as submitted
    template_gradebook: bytes        # sqlite file holding only the lesson's definition
    notebooks: list                  # notebook names the lesson expects
    limits: Limits = field(default_factory=Limits)
    weak_sandbox: bool = False       # accepted explicitly: no bubblewrap
    judge_plans: dict = field(default_factory=dict)  # notebook stem -> JudgePlan JSON
    lesson_digest: str = ""          # of the lesson's source: a fixed test regrades all
    preload: list = field(default_factory=list)  # modules the lesson imports (autograder.warm)
    source_files: dict = field(default_factory=dict)  # the assignment's other files
    course_settings: dict = field(default_factory=dict)  # settings.autograde_settings
    cold_kernel: bool = False        # retried after a warm kernel did not start

    @property
    def digest(self) -> str:
        return submission_digest(self.files, self.lesson_digest)


@dataclass
class GradeResult:
    lesson: str
    student: str
    digest: str
    ok: bool
    reason: str = ""
    cells: dict = field(default_factory=dict)      # "notebook/grade_id" -> [score, max]
    autograded: dict = field(default_factory=dict)  # notebook name -> bytes
    seconds: float = 0.0
    flags: list = field(default_factory=list)       # "timeout", "crash", "memory", ...
    sandbox: str = ""
    # The grader failed, not the submission (a dead worker, a lost cluster task, a kernel
    # that never started): retried, then reported as not graded, never stored as zero.
    infrastructure: bool = False
    attempts: int = 1
    log: str = ""    # what nbgrader and the kernel said (bounded): kept beside the grade
    warm_failed: bool = False   # a kernel forked by the template did not start: retry cold

    @property
    def score(self) -> float:
        return sum(s for s, _ in self.cells.values())


# The student's id inside a scratch course: no path a kernel (or the kernel template that
# forks it, which keeps earlier requests in its memory) sees names a student.
SCRATCH_STUDENT = "student"


def submission_digest(files: dict, lesson_digest: str = "") -> str:
    """Identifies one grading: the submission's files and the lesson's tests."""
    digest = hashlib.sha256(lesson_digest.encode() + b"\0")
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    return digest.hexdigest()


def scratch_base() -> Path:
    base = Path(tempfile.gettempdir()) / "dlcourse-grading"
    base.mkdir(mode=0o711, exist_ok=True)
    return base


def remove_stale_scratch() -> list[str]:
    """Scratch folders (and cgroups) of workers that no longer run, e.g. after a batch was
    killed: ``task-<worker pid>-*``. Returns what was removed."""
    import psutil

    removed = []
    for folder in [*scratch_base().glob("task-*"), *scratch_base().glob("warm-*")]:
        parts = folder.name.split("-")
        if len(parts) < 3 or not parts[1].isdigit() or psutil.pid_exists(int(parts[1])):
            continue
        if sandbox.cgroups_available():
            sandbox.cgroup_cleanup(f"dlcourse/{folder.name}")
        _kill_kernels(folder, "")
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    return removed


def precheck(task: GradeTask) -> str:
    """A reason the submission cannot be executed at all, or '' if it looks gradable."""
    import nbformat

    if not task.files:
        return "empty submission folder: no notebook found"
    missing = sorted(set(task.notebooks) - set(task.files))
    if missing:
        return (f"missing notebook {', '.join(missing)} (found: "
                f"{', '.join(sorted(task.files)) or 'nothing'})")
    for name in task.notebooks:
        raw = task.files[name]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            return f"{name} is not UTF-8 text ({error.reason} at byte {error.start})"
        try:
            nb = nbformat.reads(text, as_version=4)
            nbformat.validate(nb)
        except Exception as error:  # nbformat raises several kinds for bad files
            first = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
            return f"{name} is not a valid notebook ({type(error).__name__}: {first})"
    return ""


def run_task(task: GradeTask) -> GradeResult:
    """Grade one submission in a fresh scratch course. Never raises for its content."""
    started = time.perf_counter()
    result = GradeResult(task.lesson, task.student, task.digest, ok=False)
    reason = precheck(task)
    if reason:
        result.reason, result.flags = reason, ["invalid"]
        return result
    remove_stale_scratch()
    scratch = Path(tempfile.mkdtemp(prefix=f"task-{os.getpid()}-", dir=scratch_base()))
    cgroup = f"dlcourse/{scratch.name}"
    cleanup = contextlib.ExitStack()
    try:
        course = scratch / "course"
        folder = course / "submitted" / SCRATCH_STUDENT / task.lesson
        folder.mkdir(parents=True)
        (course / "gradebook.db").write_bytes(task.template_gradebook)
        for base, files in ((folder, task.files),
                            (course / "source" / task.lesson, task.source_files)):
            for name, raw in files.items():
                path = base / name
                if base.resolve() not in path.resolve().parents:
                    continue   # only ever below its folder
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(raw)
        (scratch / "runtime").mkdir()
        config = sandbox.SandboxConfig(
            memory_bytes=task.limits.memory_bytes, max_processes=task.limits.max_processes,
            socket_dir=str(scratch / "runtime"), weak=task.weak_sandbox,
            masks=[[str(folder / name),
                    str(course / "autograded" / SCRATCH_STUDENT / task.lesson / name)]
                   for name in task.notebooks],
            cgroup_name=cgroup if sandbox.cgroups_available() else "",
            state_file=str(scratch / "sandbox-state.json"), log_file=str(scratch / "kernel.log"),
            grader_pid=os.getpid())
        if not task.cold_kernel and not warm.available(task.weak_sandbox):
            with _environment(DLCOURSE_PROFILE="fast", TF_CPP_MIN_LOG_LEVEL="2"):
                config.warm_socket = cleanup.enter_context(warm.kernel_socket(
                    scratch_base(), sandbox.kernel_environment(), task.preload))
            config.scratch_area = str(scratch_base())
        config.save(scratch / "sandbox.json")
        sandbox.write_kernelspec(scratch / "jupyter", scratch / "sandbox.json")
        plans = scratch / "judge"
        plans.mkdir()
        for stem, plan in task.judge_plans.items():
            (plans / f"{stem}.json").write_text(json.dumps(plan))
        # The watchdog ends the whole notebook at its time limit by killing the kernel;
        # nbgrader then sees a dead kernel and finishes with what ran.
        timed_out = threading.Event()

        def stop_kernel():
            timed_out.set()
            _kill_kernels(scratch, cgroup if config.cgroup_name else "")

        watchdog = threading.Timer(task.limits.notebook_timeout, stop_kernel)
        watchdog.start()
        try:
            with _environment(JUPYTER_PATH=str(scratch / "jupyter"),
                              JUPYTER_RUNTIME_DIR=str(scratch / "runtime"),
                              DLCOURSE_PROFILE="fast", TF_CPP_MIN_LOG_LEVEL="2"):
                outcome = autograde_scratch(scratch, task.lesson, SCRATCH_STUDENT,
                                            task.limits.cell_timeout, plans,
                                            task.course_settings)
        finally:
            watchdog.cancel()
            usage = sandbox.cgroup_report(cgroup) if config.cgroup_name else {}
            _kill_kernels(scratch, cgroup if config.cgroup_name else "")
        result.log = grading_log(outcome.get("log", ""), scratch / "kernel.log")
        state_file = scratch / "sandbox-state.json"
        if state_file.exists() and state_file.read_text():
            result.sandbox = ",".join(json.loads(state_file.read_text()).get("layers", []))
        if timed_out.is_set():
            outcome["flags"] = ["timeout"] + [f for f in outcome["flags"] if f != "crash"]
            outcome["notes"] = [f"stopped after {task.limits.notebook_timeout} s (the notebook "
                                "time limit): look for an endless loop or a very long "
                                "training"] + [n for n in outcome["notes"]
                                               if "kernel died" not in n]
        result.cells = outcome["cells"]
        for name in task.notebooks:
            path = course / "autograded" / SCRATCH_STUDENT / task.lesson / name
            if path.exists():
                result.autograded[name] = path.read_bytes()
        result.ok = outcome["success"] and bool(result.cells)
        notes = outcome.get("notes", [])
        if usage.get("memory_limit_hit"):
            notes.append(f"the kernel reached the memory cap "
                         f"({task.limits.memory_bytes / 2**30:g} GiB)")
            result.flags.append("memory")
        if usage.get("process_limit_hit"):
            notes.append(f"the kernel reached the process cap ({task.limits.max_processes})")
            result.flags.append("processes")
        result.flags += outcome.get("flags", [])
        if not result.ok:
            notes.insert(0, outcome.get("error") or "nbgrader could not grade it")
        result.reason = "; ".join(dict.fromkeys(notes))
        if not result.ok and outcome.get("kernel_never_started"):
            # No student code ran, so this is the grader's (or the sandbox's) failure,
            # not the submission's.
            result.infrastructure, result.flags = True, ["not-graded"]
            result.reason = ("the sandboxed kernel did not start: it ended before answering "
                             "its first message")
            result.warm_failed = bool(config.warm_socket)
        return result
    finally:
        cleanup.close()
        result.seconds = time.perf_counter() - started
        shutil.rmtree(scratch, ignore_errors=True)


MAX_LOG_CHARS = 64 * 1024   # of each part of a submission's log (its tail is kept)


def grading_log(nbgrader_log: str, kernel_log: Path) -> str:
    """nbgrader's log of the autograde and the kernel's own output (its stderr: crashes,
    TensorFlow's messages, the sandbox launcher), each bounded to its last part."""
    def tail(text: str) -> str:
        text = text.strip()
        return text if len(text) <= MAX_LOG_CHARS else (
            f"[... {len(text) - MAX_LOG_CHARS} characters left out ...]\n"
            + text[-MAX_LOG_CHARS:])

    kernel = ""
    with contextlib.suppress(OSError):
        with open(kernel_log, "rb") as handle:   # a flood of output may have made it huge
            handle.seek(max(0, os.path.getsize(kernel_log) - 4 * MAX_LOG_CHARS))
            kernel = handle.read().decode("utf-8", errors="replace")
    return (f"== nbgrader autograde ==\n{tail(nbgrader_log) or '(nothing)'}\n\n"
            f"== kernel (its own stderr and stdout, not the notebook's) ==\n"
            f"{tail(kernel) or '(nothing)'}\n")


@contextlib.contextmanager
def _environment(**values):
    """Set environment variables for the duration of one task (kernelspec lookup and the
    kernel's environment read them)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _kill_kernels(scratch: Path, cgroup: str) -> None:
    """Kill the task's kernel and everything it started (a process flood, stray children)."""
    import psutil

    if cgroup:
        sandbox.cgroup_cleanup(cgroup)
    marker = scratch.name  # in the kernel's connection-file path (see sandbox.launch)
    for process in psutil.process_iter():  # not only our children: a dead worker's too
        try:
            if any(marker in part for part in process.cmdline()):
                for child in process.children(recursive=True) + [process]:
                    child.kill()
        except psutil.Error:
            pass


def _safe_run(task: GradeTask) -> GradeResult:
    try:
        return run_task(task)
    except Exception as error:  # a grader bug must not stop the batch either
        return GradeResult(task.lesson, task.student, task.digest, ok=False,
                           reason=f"internal grader error: {type(error).__name__}: {error}",
                           flags=["not-graded"], infrastructure=True)


def _lost(task: GradeTask, reason: str) -> GradeResult:
    return GradeResult(task.lesson, task.student, task.digest, ok=False, reason=reason,
                       flags=["not-graded"], infrastructure=True)


def execute(tasks: list[GradeTask], workers: int | None = None, scheduler: str | None = None,
            attempts: int = 3):
    """Run tasks and yield results as they complete; infrastructure failures are retried
    (up to ``attempts`` times in all) and then yielded with ``infrastructure=True``.

    Args:
        workers: local worker processes (default: the number of cores); 1 runs the tasks
            one after another in this process.
        scheduler: address of a Dask scheduler (``tcp://host:8786``); the tasks then run on
            that cluster's workers, which need this package installed.
    """
    pending = list(tasks)
    for attempt in range(1, attempts + 1):
        failed = []
        for task, result in _execute_once(pending, workers, scheduler):
            result.attempts = attempt
            if result.infrastructure and attempt < attempts:
                # the retry of a warm kernel that did not start does not depend on the template
                failed.append(replace(task, cold_kernel=True) if result.warm_failed else task)
            else:
                yield result
        if not failed:
            return
        pending = failed


def _execute_once(tasks, workers, scheduler):
    """One round: ``(task, result)`` pairs; a lost worker fails only as infrastructure."""
    if not tasks:
        return
    if scheduler:
        from distributed import Client, as_completed

        with Client(scheduler) as client:
            futures = client.map(_safe_run, tasks, pure=False, key=[
                f"grade-{t.lesson}-{t.student}-{t.digest[:8]}" for t in tasks])
            for future in as_completed(futures):
                task = tasks[futures.index(future)]
                try:
                    yield task, future.result()
                except Exception as error:  # a lost worker, a killed task
                    yield task, _lost(task, f"the cluster lost this task: {error}")
        return
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(tasks) == 1:
        for task in tasks:
            yield task, _safe_run(task)
        return
    from concurrent.futures import as_completed

    pool = _pool(workers)
    futures = {pool.submit(_safe_run, task): task for task in tasks}
    for future in as_completed(futures):
        task = futures[future]
        try:
            yield task, future.result()
        except Exception as error:  # the worker process itself died
            _discard_pool()
            yield task, _lost(task, f"the grading worker died: {error}")


_pools: dict = {}


def _pool(workers: int):
    """A process pool kept for the coordinator's lifetime: each worker imports nbgrader
    and TensorFlow (for the judge) once, not once per lesson graded."""
    from concurrent.futures import ProcessPoolExecutor
    import atexit
    import multiprocessing

    if workers not in _pools:
        # "spawn": workers start clean, without the coordinator's open gradebook connection.
        context = multiprocessing.get_context("spawn")
        _pools[workers] = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                              initializer=sandbox.die_with_parent)
        if len(_pools) == 1:
            atexit.register(_discard_pool)
    return _pools[workers]


def _discard_pool() -> None:
    """Shut the pools down (a broken pool cannot take new work; the next round makes a
    fresh one)."""
    while _pools:
        _, pool = _pools.popitem()
        pool.shutdown(wait=False, cancel_futures=True)
