"""Run one student kernel in a sandbox: the kernelspec's ``argv`` starts this module,
which confines itself and then ``exec``s ipykernel.

Layers, each used where the machine has it (``describe()`` says which are active):

1. **cgroups** (v1 or v2, root): a memory cap and a process-count cap that bind root too;
   the grader kills everything left in the group when the notebook ends.
2. **A private mount namespace** (root, ``unshare``): the scratch base directory, the
   course's ``solutions/``, gradebook, ``submitted/``, ``autograded/`` and ``feedback/``
   are covered by empty file systems, so student code cannot read the answers, the hidden
   tests or other students' work; every other mount is made read-only, so it can only
   write to its own folder and a small private temporary file system.
3. **No capabilities** (root): the capability bounding set is emptied and
   ``no_new_privs`` set before ``exec``, so the kernel cannot undo the mounts or the limits.
4. **Resource limits** (everywhere): data-segment size (the memory cap when there are no
   cgroups), file size, no core dumps, and a process cap (binds non-root users only).
5. **A scrubbed environment** (everywhere): only a short list of variables passes.

Without root (or where ``unshare`` is refused) only layers 4 and 5 remain: student code
then runs with the grader's user rights and could read files that user can read.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
CGROUP_ROOT = Path("/sys/fs/cgroup")
ENV_KEEP = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "DLCOURSE_PROFILE",
            "TF_CPP_MIN_LOG_LEVEL", "OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
            "TF_NUM_INTEROP_THREADS")


@dataclass
class SandboxConfig:
    """What the launcher does; written by the grader next to the kernelspec."""

    memory_bytes: int = 4 * 2**30
    max_processes: int = 512          # threads count too: TensorFlow starts dozens
    max_file_bytes: int = 256 * 2**20
    private_tmp_bytes: int = 256 * 2**20
    scratch_base: str = ""            # hidden entirely, but for the notebook's own folder
    hide: list = field(default_factory=list)   # more paths to cover (dirs or files)
    cgroup_name: str = ""             # e.g. "dlcourse/<task id>"; empty: no cgroups
    state_file: str = ""              # where the launcher records what it set up
    use_namespace: bool = True

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> "SandboxConfig":
        return cls(**json.loads(Path(path).read_text()))


_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source, target, fstype, flags, data=None) -> None:
    enc = lambda s: None if s is None else str(s).encode()  # noqa: E731
    if _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags),
                   enc(data)) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {source} -> {target}: {os.strerror(errno)}")


# -- cgroups -----------------------------------------------------------------------------
def cgroup_dirs(name: str) -> dict[str, Path]:
    """The cgroup directories for ``name``: v2 unified, else v1 memory and pids."""
    if not name:
        return {}
    if (CGROUP_ROOT / "cgroup.controllers").exists():
        return {"unified": CGROUP_ROOT / name}
    return {c: CGROUP_ROOT / c / name for c in ("memory", "pids")
            if (CGROUP_ROOT / c).is_dir()}


def cgroups_available() -> bool:
    if os.geteuid() != 0:
        return False
    dirs = cgroup_dirs("dlcourse-probe")
    try:
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
            path.rmdir()
        return bool(dirs)
    except OSError:
        return False


def _join_cgroups(config: SandboxConfig) -> list[str]:
    joined = []
    for kind, path in cgroup_dirs(config.cgroup_name).items():
        path.mkdir(parents=True, exist_ok=True)
        if kind == "unified":
            (path / "memory.max").write_text(str(config.memory_bytes))
            (path / "memory.swap.max").write_text("0") if (path / "memory.swap.max").exists() else None
            (path / "pids.max").write_text(str(config.max_processes))
        elif kind == "memory":
            (path / "memory.limit_in_bytes").write_text(str(config.memory_bytes))
        else:
            (path / "pids.max").write_text(str(config.max_processes))
        (path / "cgroup.procs").write_text(str(os.getpid()))
        joined.append(str(path))
    return joined


def cgroup_report(name: str) -> dict:
    """After the kernel: did it hit the memory or process cap? (read before cleanup)."""
    report = {}
    for kind, path in cgroup_dirs(name).items():
        try:
            if kind == "memory":
                report["memory_limit_hit"] = int((path / "memory.failcnt").read_text()) > 0
                report["peak_memory_bytes"] = int(
                    (path / "memory.max_usage_in_bytes").read_text())
            elif kind == "pids":
                report["process_limit_hit"] = _pids_events(path) > 0
            else:
                events = (path / "memory.events").read_text().split()
                pairs = dict(zip(events[::2], map(int, events[1::2])))
                report["memory_limit_hit"] = pairs.get("oom_kill", 0) + pairs.get("max", 0) > 0
                report["process_limit_hit"] = _pids_events(path) > 0
                if (path / "memory.peak").exists():
                    report["peak_memory_bytes"] = int((path / "memory.peak").read_text())
        except (OSError, ValueError):
            pass
    return report


def _pids_events(path: Path) -> int:
    try:
        return int((path / "pids.events").read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return 0


def cgroup_cleanup(name: str) -> None:
    """Kill every process left in the group (a process flood, a stray child) and remove it."""
    import signal
    import time

    for path in cgroup_dirs(name).values():
        if not path.exists():
            continue
        for _ in range(50):
            try:
                pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
            except OSError:
                break
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        try:
            path.rmdir()
        except OSError:
            pass


# -- mount namespace ---------------------------------------------------------------------
def _mount_points() -> list[str]:
    points = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            point = line.split()[4].encode().decode("unicode_escape")
            points.append(point)
    return points


def _confine_filesystem(config: SandboxConfig, workdir: Path, private: Path) -> None:
    """Hide what student code must not see; make everything else read-only."""
    if _libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS) refused")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    keep_fd = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY)
    base = Path(config.scratch_base)
    for path in sorted({Path(p) for p in config.hide}, key=lambda p: len(p.parts)):
        if path.is_dir():
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k,mode=755")
        elif path.exists():
            _mount("/dev/null", path, None, MS_BIND)
    # The scratch base: a private, writable, size-limited tmpfs holding only this
    # notebook's folder (bound back from the descriptor opened above) and a temp dir.
    _mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={config.private_tmp_bytes},mode=755")
    workdir.mkdir(parents=True, exist_ok=True)
    _mount(f"/proc/self/fd/{keep_fd}", workdir, None, MS_BIND)
    os.close(keep_fd)
    private.mkdir(parents=True, exist_ok=True)
    writable = {str(workdir), str(base)}
    for point in _mount_points():
        if point in writable or point.startswith(("/proc", "/dev", "/sys")):
            continue
        try:
            _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        except OSError:
            _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    if Path("/proc/sys").exists():
        _mount("/proc/sys", "/proc/sys", None, MS_BIND)
        _mount(None, "/proc/sys", None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    if CGROUP_ROOT.exists():
        _mount("tmpfs", CGROUP_ROOT, "tmpfs", MS_RDONLY, "size=4k")


def _drop_capabilities() -> None:
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text()) if Path(
        "/proc/sys/kernel/cap_last_cap").exists() else 40
    for cap in range(last + 1):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def _set_limits(config: SandboxConfig) -> None:
    for limit, value in ((resource.RLIMIT_DATA, config.memory_bytes),
                         (resource.RLIMIT_FSIZE, config.max_file_bytes),
                         (resource.RLIMIT_CORE, 0),
                         (resource.RLIMIT_NPROC, config.max_processes)):
        soft, hard = resource.getrlimit(limit)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (value, value))


def launch(config_path: str, kernel_argv: list[str]) -> None:
    """Confine this process, then exec the kernel. Runs inside the kernel's process."""
    config = SandboxConfig.load(Path(config_path))
    workdir = Path.cwd()
    base = Path(config.scratch_base)
    # Named after the task (the config's folder), so the grader can find this kernel by
    # its command line after exec.
    private = base / f".private-{Path(config_path).resolve().parent.name}"
    state = {"layers": []}
    # The connection file is read now: its folder is hidden below.
    argv = list(kernel_argv)
    connection = argv[argv.index("-f") + 1] if "-f" in argv else None
    connection_text = Path(connection).read_text() if connection else None
    # Opened now, written at the end: the path may be hidden by then.
    state_handle = open(config.state_file, "w") if config.state_file else None
    if os.geteuid() == 0 and config.cgroup_name:
        try:
            if _join_cgroups(config):
                state["layers"].append("cgroups")
        except OSError as error:
            state["cgroup_error"] = str(error)
    if os.geteuid() == 0 and config.use_namespace and base.is_dir():
        try:
            _confine_filesystem(config, workdir, private)
            state["layers"].append("mount-namespace")
        except OSError as error:
            state["namespace_error"] = str(error)
    if "mount-namespace" not in state["layers"]:
        private = workdir / ".private"
        private.mkdir(exist_ok=True)
    if connection_text is not None:
        new_connection = private / "kernel.json"
        new_connection.write_text(connection_text)
        argv[argv.index("-f") + 1] = str(new_connection)
    env = {k: os.environ[k] for k in ENV_KEEP if k in os.environ}
    env.update(HOME=str(private), TMPDIR=str(private), IPYTHONDIR=str(private / "ipython"),
               MPLCONFIGDIR=str(private / "matplotlib"), KERAS_HOME=str(private / "keras"),
               PYTHONDONTWRITEBYTECODE="1", DLCOURSE_SANDBOX=",".join(state["layers"]))
    if os.geteuid() == 0:
        _drop_capabilities()
        state["layers"].append("no-capabilities")
    if state_handle:
        with state_handle:
            state_handle.write(json.dumps(state))
    _set_limits(config)
    # The kernel's own banner would land in the grader's log; what student code prints is
    # captured by ipykernel into the notebook, not written to these descriptors.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.execve(argv[0], argv, env)


def namespace_available() -> bool:
    """Can this process make a private mount namespace? (tried in a throwaway child)"""
    if os.geteuid() != 0 or not hasattr(os, "fork"):
        return False
    pid = os.fork()
    if pid == 0:
        os._exit(0 if _libc.unshare(CLONE_NEWNS) == 0 else 1)
    return os.waitpid(pid, 0)[1] == 0


def describe() -> str:
    """Which protections this machine gives student code (for the instructor)."""
    if os.geteuid() != 0:
        return ("resource limits and a scrubbed environment only (not root: no cgroups, no "
                "private mounts); student code can read what the grader's user can read")
    layers = ["cgroup memory/process caps" if cgroups_available()
              else "no cgroups (memory capped by RLIMIT_DATA, process cap does not bind root)"]
    layers.append("private read-only mounts hiding solutions, gradebook and other work"
                  if namespace_available() else "no private mounts (unshare refused): "
                  "student code can read what the grader can read")
    layers += ["no capabilities", "resource limits", "scrubbed environment"]
    return ", ".join(layers)


if __name__ == "__main__":
    if "--" not in sys.argv or len(sys.argv) < 4:
        sys.exit("usage: python -m autograder.sandbox CONFIG -- KERNEL_ARGV...")
    split = sys.argv.index("--")
    launch(sys.argv[1], sys.argv[split + 1:])
