"""Run one student kernel in a sandbox: the kernelspec's ``argv`` starts this module, which
joins the submission's cgroup, sets resource limits and ``exec``s bubblewrap, which starts
ipykernel inside.

Layers, each used where the machine has it (``describe()`` says which are active):

1. **bubblewrap** (``bwrap``, Debian package ``bubblewrap``; the sandbox Flatpak uses): new
   user, PID, network, IPC, UTS and cgroup namespaces, a fresh ``/proc`` and ``/dev``, uid
   and gid 65534 inside, every capability dropped, ``--die-with-parent``, and a file system
   made only of read-only binds of the operating system and the Python environment, the
   kernel's socket folder, and a size-capped tmpfs as its working folder holding read-only
   copies of the submission's files. The
   repository, its ``.git``, ``solutions/``, gradebooks, other submissions and the
   grader's home are simply not there. The kernel has no network; it talks to the grader
   over Unix sockets (ZMQ ``ipc``) in the socket folder.
2. **cgroups** (v1 or v2, root): a memory cap and a process-count cap that bind root too;
   the grader kills everything left in the group when the notebook ends.
3. **Resource limits** (everywhere): CPU time, data-segment size, file size, no core
   dumps, and a process cap (binds non-root users only).
4. **A scrubbed environment** (everywhere): only a short list of variables passes.

Without bubblewrap, grading refuses to start unless weaker isolation is accepted
explicitly (``--weak-sandbox``); the report then names it for every submission.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import sys
import sysconfig
from dataclasses import asdict, dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
ENV_KEEP = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "DLCOURSE_PROFILE",
            "TF_CPP_MIN_LOG_LEVEL", "OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
            "TF_NUM_INTEROP_THREADS")
SANDBOX_UID = 65534
KERNEL_NAME = "dlcourse-sandbox"
SYSTEM_BINDS = ("/usr", "/etc", "/opt")
SYSTEM_LINKS = {"/bin": "usr/bin", "/sbin": "usr/sbin", "/lib": "usr/lib",
                "/lib64": "usr/lib64"}


@dataclass
class SandboxConfig:
    """What the launcher does; written by the grader next to the kernelspec."""

    memory_bytes: int = 4 * 2**30
    max_processes: int = 512          # threads count too: TensorFlow starts dozens
    max_file_bytes: int = 256 * 2**20
    private_tmp_bytes: int = 256 * 2**20
    workdir_bytes: int = 512 * 2**20  # what student code may write in its folder
    cpu_seconds: int = 3600
    socket_dir: str = ""              # the kernel's connection file and ipc sockets
    readable: list = field(default_factory=list)   # extra read-only binds (the helpers)
    # [source, target] files bound read-only over files of the working folder: the
    # notebook nbgrader executes there holds the restored hidden tests, so the kernel sees
    # the notebook as the student submitted it instead.
    masks: list = field(default_factory=list)
    cgroup_name: str = ""             # e.g. "dlcourse/<task id>"; empty: no cgroups
    state_file: str = ""              # where the launcher records what it set up
    log_file: str = ""                # the kernel's own stdout/stderr (not the notebook's)
    weak: bool = False                # accepted: run without bubblewrap
    grader_pid: int = 0               # the process that starts the kernel (it must live)
    warm_socket: str = ""             # a kernel template's socket (autograder.warm), or cold
    scratch_area: str = ""            # every submission's scratch folder: hidden from kernels

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> "SandboxConfig":
        return cls(**json.loads(Path(path).read_text()))


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def python_binds() -> list[str]:
    """Folders the kernel's Python needs: the environment, the base installation, and the
    folders of editable installs (this repository's ``dlcourse`` package only)."""
    paths = {sys.prefix, sys.base_prefix, sysconfig.get_paths()["purelib"]}
    import dlcourse

    paths.add(str(Path(dlcourse.__file__).resolve().parent))
    return sorted(p for p in paths if p and Path(p).exists())


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


def _join_cgroups(config: SandboxConfig, pid: int) -> list[str]:
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
        (path / "cgroup.procs").write_text(str(pid))
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


def resource_limits(config: SandboxConfig) -> list[tuple[str, int]]:
    return [("RLIMIT_DATA", config.memory_bytes), ("RLIMIT_CPU", config.cpu_seconds),
            ("RLIMIT_FSIZE", config.max_file_bytes), ("RLIMIT_CORE", 0),
            ("RLIMIT_NPROC", config.max_processes)]


def _set_limits(config: SandboxConfig) -> None:
    for name, value in resource_limits(config):
        limit = getattr(resource, name)
        soft, hard = resource.getrlimit(limit)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (value, value))


def write_kernelspec(jupyter_path: Path, config_path: Path) -> None:
    """The kernelspec whose kernel starts through this module's launcher."""
    folder = jupyter_path / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True)
    argv = [sys.executable, "-m", "autograder.sandbox", str(config_path), "--",
            sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (folder / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "dlcourse sandbox", "language": "python",
         # bubblewrap does not pass signals on: interrupt over the control channel
         "interrupt_mode": "message"}))


def bwrap_argv(config: SandboxConfig, workdir: Path, kernel_argv: list[str]) -> list[str]:
    """The bubblewrap command that starts ``kernel_argv`` in the submission's sandbox."""
    argv = [bwrap_path() or "bwrap", "--die-with-parent", "--new-session", "--unshare-all",
            "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--disable-userns", "--cap-drop", "ALL", "--hostname", "sandbox",
            "--clearenv", "--proc", "/proc", "--dev", "/dev",
            "--size", str(config.private_tmp_bytes), "--tmpfs", "/tmp"]
    argv += system_bind_args()
    for path in config.readable:
        argv += ["--ro-bind", path, path]
    # The working folder is a size-capped tmpfs (what the student's code writes there is
    # discarded with the sandbox) holding read-only copies of the submission's files.
    argv += ["--size", str(config.workdir_bytes), "--tmpfs", str(workdir)]
    for entry in sorted(workdir.iterdir()):
        argv += ["--ro-bind", str(entry), str(entry)]
    if config.socket_dir:
        argv += ["--bind", config.socket_dir, config.socket_dir]
    for source, target in config.masks:
        argv += ["--ro-bind", source if Path(source).exists() else "/dev/null", target]
    for key, value in sorted(kernel_environment().items()):
        argv += ["--setenv", key, value]
    return argv + ["--chdir", str(workdir), "--"] + list(kernel_argv)


def system_bind_args() -> list[str]:
    """bubblewrap arguments binding the operating system and the Python environment."""
    argv = []
    for path in SYSTEM_BINDS:
        argv += ["--ro-bind-try", path, path]
    for link, target in SYSTEM_LINKS.items():
        if Path(link).is_symlink():
            argv += ["--symlink", target, link]
        else:
            argv += ["--ro-bind-try", link, link]
    for path in python_binds():
        argv += ["--ro-bind", path, path]
    return argv


def kernel_environment() -> dict:
    """The whole environment of a sandboxed kernel."""
    env = {k: os.environ[k] for k in ENV_KEEP if k in os.environ}
    env.update(HOME="/tmp", TMPDIR="/tmp", IPYTHONDIR="/tmp/ipython",
               MPLCONFIGDIR="/tmp/matplotlib", KERAS_HOME="/tmp/keras",
               PYTHONDONTWRITEBYTECODE="1", DLCOURSE_SANDBOX="bubblewrap")
    return env


def die_with_parent() -> None:
    """This process gets SIGKILL when its parent ends, even by SIGKILL (Linux; kept
    across exec)."""
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def launch(config_path: str, kernel_argv: list[str]) -> None:
    """Join the cgroup, set limits, then exec bubblewrap (or, if accepted, the kernel)."""
    config = SandboxConfig.load(Path(config_path))
    # A grader killed while this launcher started must not leave the kernel behind:
    # die with the parent from now on, and stop if it is already gone (bubblewrap's own
    # --die-with-parent only covers the time after its exec).
    die_with_parent()
    if config.grader_pid and os.getppid() != config.grader_pid:
        sys.exit("the grader that started this kernel is gone")
    workdir = Path.cwd()
    state = {"layers": []}
    state_handle = open(config.state_file, "w") if config.state_file else None
    if config.warm_socket:
        sys.exit(_launch_warm(config, kernel_argv, workdir, state, state_handle))
    if os.geteuid() == 0 and config.cgroup_name:
        try:
            if _join_cgroups(config, os.getpid()):
                state["layers"].append("cgroups")
        except OSError as error:
            state["cgroup_error"] = str(error)
    use_bwrap = bwrap_path() is not None and not config.weak
    if use_bwrap:
        # The sandbox user must be able to use its socket folder (and nothing else).
        if config.socket_dir and os.geteuid() == 0:
            os.chmod(config.socket_dir, 0o777)
        argv = bwrap_argv(config, workdir, kernel_argv)
        state["layers"] += ["bubblewrap", "no-capabilities", "no-network", "pid-namespace"]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    else:
        argv = list(kernel_argv)
        env = {k: os.environ[k] for k in ENV_KEEP if k in os.environ}
        env.update(DLCOURSE_SANDBOX="weak", PYTHONDONTWRITEBYTECODE="1")
    state["layers"] += ["resource-limits", "scrubbed-environment"]
    if state_handle:
        with state_handle:
            state_handle.write(json.dumps(state))
    _set_limits(config)
    # The kernel's own messages (its banner, crashes, TensorFlow's logging) go to the log
    # file; what student code prints is captured by ipykernel into the notebook.
    log = os.open(config.log_file or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.execve(argv[0], argv, env)


def _launch_warm(config: SandboxConfig, kernel_argv: list[str], workdir: Path, state: dict,
                 state_handle) -> int:
    """Ask the worker's kernel template (autograder.warm) for a kernel in this submission's
    own namespaces, move it into the submission's cgroup before it runs anything, and stay
    until it ends: the kernel manager watches and kills this process, and the kernel dies
    with it. Returns the kernel's exit status."""
    import socket
    import struct

    log = os.open(config.log_file or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    masks = {target: source if Path(source).exists() else "/dev/null"
             for source, target in config.masks}
    binds = [[masks.pop(str(entry), str(entry)), str(entry)] for entry in sorted(workdir.iterdir())]
    binds += [[source, target] for target, source in masks.items()
              if Path(target).parent == workdir]
    request = {"argv": list(kernel_argv), "cwd": str(workdir), "binds": binds,
               "socket_dir": config.socket_dir, "cover": config.scratch_area,
               "env": kernel_environment(), "limits": resource_limits(config),
               "tmp_bytes": config.private_tmp_bytes, "workdir_bytes": config.workdir_bytes,
               "log_file": config.log_file or os.devnull}
    if config.socket_dir and os.geteuid() == 0:
        os.chmod(config.socket_dir, 0o777)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    connection.connect(config.warm_socket)
    connection.sendall(json.dumps(request).encode() + b"\n")
    connection.settimeout(60)
    credentials = struct.calcsize("3i")
    message, ancillary, _, _ = connection.recvmsg(4096, socket.CMSG_SPACE(credentials))
    keeper = next((struct.unpack("3i", data[:credentials])[0]
                   for level, kind, data in ancillary
                   if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS), 0)
    if not message.startswith(b"pid") or keeper <= 0:
        print(f"the kernel template refused: {message.decode(errors='replace')[:300]}",
              file=sys.stderr)
        return 1
    if os.geteuid() == 0 and config.cgroup_name:
        try:
            if _join_cgroups(config, keeper):
                state["layers"].append("cgroups")
        except OSError as error:
            state["cgroup_error"] = str(error)
    state["layers"] += ["warm-template", "bubblewrap", "no-capabilities", "no-network",
                        "pid-namespace", "resource-limits", "scrubbed-environment"]
    if state_handle:
        with state_handle:
            state_handle.write(json.dumps(state))
    connection.sendall(b"go\n")
    connection.settimeout(None)
    reply = b""
    while True:
        chunk = connection.recv(4096)
        if not chunk:
            return 1
        reply += chunk
        if reply.startswith(b"exit ") and reply.endswith(b"\n"):
            code = int(reply.split()[1])
            return code if code >= 0 else 1
        if reply.startswith(b"error") and reply.endswith(b"\n"):
            print(reply.decode(errors="replace")[:300], file=sys.stderr)
            return 1


def describe() -> str:
    """Which protections this machine gives student code (for the instructor)."""
    layers = ["bubblewrap: no network, own PID/IPC/user namespaces, uid 65534, no "
              "capabilities, only the Python environment and the submission visible"
              if bwrap_path() else "NO bubblewrap (apt-get install bubblewrap): student code "
              "would run with the grader's rights"]
    layers.append("cgroup memory/process caps" if cgroups_available()
                  else "no cgroups (memory capped by RLIMIT_DATA, process cap does not bind root)")
    layers += ["CPU-time, file-size and memory limits", "scrubbed environment"]
    return ", ".join(layers)


if __name__ == "__main__":
    if "--" not in sys.argv or len(sys.argv) < 4:
        sys.exit("usage: python -m autograder.sandbox CONFIG -- KERNEL_ARGV...")
    split = sys.argv.index("--")
    launch(sys.argv[1], sys.argv[split + 1:])
