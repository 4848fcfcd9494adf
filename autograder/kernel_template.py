"""The warm kernel template: runs inside a bubblewrap sandbox of its own, imports what every
kernel needs (NumPy, TensorFlow, Keras, Matplotlib, IPython, ipykernel) once, then forks a
fresh kernel for each submission, in namespaces of its own.

The grader starts it with ``python -`` and this file's text on stdin (the ``autograder``
package is not visible in the sandbox), so it imports nothing of this repository. It is
asked for kernels over a Unix socket by the kernelspec's launcher
(:func:`autograder.sandbox.launch`); student code never reaches that socket.

Per request, three processes:

- the template forks a child, which unshares mount, PID, network, IPC and UTS namespaces
  and forks the *keeper*, PID 1 of the new PID namespace, then exits;
- the keeper builds the kernel's file system (a fresh read-only ``/proc`` showing only its
  own processes, a fresh ``/tmp``, the submission's files read-only in a size-capped tmpfs,
  the socket folder, the whole scratch area and this socket covered), sends its PID to the
  launcher (as Unix-socket credentials, which the kernel translates into the launcher's PID
  namespace, so the launcher can move it into the submission's cgroup), waits for "go", and
  forks the kernel; it then waits for the kernel or for the launcher's connection to close,
  and ends, which kills everything left in its namespace (it is PID 1);
- the kernel drops every capability, sets no-new-privileges and the resource limits,
  scrubs its environment, reseeds the random generators it inherited, and starts ipykernel.

TensorFlow's runtime is never started here (no eager context, no thread pools): forking
after import only shares read-only code and module state, copied on write.
"""

import ctypes
import json
import os
import resource
import select
import signal
import socket
import struct
import sys
import time

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 36, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SYS_CAPSET = 126          # x86_64
MAX_REQUEST_BYTES = 1 << 20
STAGE = "/stage"      # an empty folder the template's sandbox provides

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                       ctypes.c_char_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                       ctypes.c_ulong]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags, data=None) -> None:
    enc = (lambda s: s.encode() if isinstance(s, str) else s)
    _check(libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)),
           f"mount {target}")


def _remount_readonly(path: str) -> None:
    """Make one mount read-only, keeping the flags it has (a user namespace may not clear
    the flags of a mount it inherited: nosuid, nodev, noexec, atime)."""
    flags = os.statvfs(path).f_flag
    keep = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID
    for st, ms in ((os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
                   (os.ST_NOATIME, 1024), (os.ST_NODIRATIME, 2048), (os.ST_RELATIME, 1 << 21)):
        if flags & st:
            keep |= ms
    _mount(None, path, None, keep)


def _prctl(option: int, value: int = 0) -> int:
    return libc.prctl(option, value, 0, 0, 0)


# -- start-up --------------------------------------------------------------------------
def preload(modules: list) -> list:
    """Import what the kernels will import. Nothing here may start TensorFlow's runtime:
    importing TensorFlow creates no eager context and no thread pool."""
    import importlib

    loaded = []
    for name in modules:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except BaseException as error:  # not installed, or fails: the kernel says so itself
            print(f"template: not preloaded {name}: {error!r}"[:300], file=sys.stderr)
    return loaded


def serve(control_path: str, modules: list) -> None:
    # stdout is the grader's: only the ready message goes there; whatever the preloaded
    # modules (or, later, anything else) print goes to the log with stderr
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    loaded = preload(modules)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)   # orphaned keepers are reaped here
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(control_path)
    listener.listen(16)
    protocol.write(json.dumps({"ready": True, "pid": os.getpid(), "preloaded": loaded}) + "\n")
    protocol.close()
    while True:
        _reap()
        ready, _, _ = select.select([listener], [], [], 1.0)
        if not ready:
            continue
        connection, _ = listener.accept()
        try:
            request = _read_request(connection)
        except (OSError, ValueError) as error:
            _send(connection, f"error bad request: {error}")
            connection.close()
            continue
        def start(connection, request):
            listener.close()
            return _unshare_and_keep(connection, request)

        _fork_running(start, connection, request)
        connection.close()


def _fork_running(step, connection, request: dict) -> int:
    """Fork; the child runs ``step(connection, request)`` and exits with the status it
    returns (an error is sent to the launcher first). Returns the child's PID."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = step(connection, request)
        except BaseException as error:
            _send(connection, f"error {type(error).__name__}: {error}")
        finally:
            os._exit(code)
    return pid


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _read_request(connection) -> dict:
    data = b""
    connection.settimeout(10)
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk:
            raise ValueError("connection closed")
        data += chunk
        if len(data) > MAX_REQUEST_BYTES:
            raise ValueError("request too large")
    connection.settimeout(None)
    return json.loads(data)


def _send(connection, line: str, ancillary=()) -> None:
    try:
        connection.sendmsg([line.encode() + b"\n"], list(ancillary))
    except OSError:
        pass


# -- per kernel --------------------------------------------------------------------------
def _unshare_and_keep(connection, request: dict) -> int:
    _check(libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC
                        | CLONE_NEWUTS), "unshare")
    _fork_running(_keep, connection, request)   # the keeper: PID 1 of the new namespace
    return 0


def _keep(connection, request: dict) -> int:
    _prctl(PR_SET_DUMPABLE, 0)   # the kernel cannot ptrace or read the keeper
    log = _build_filesystem(request)
    socket.sethostname("sandbox")
    _loopback_up()
    # Our PID as credentials: the launcher receives it in its own PID namespace.
    _send(connection, "pid", [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS,
                               struct.pack("3i", os.getpid(), os.getuid(), os.getgid()))])
    connection.settimeout(30)
    if connection.recv(16).strip() != b"go":
        return 1
    connection.settimeout(None)
    kernel = os.fork()
    if kernel == 0:
        connection.close()
        try:
            _run_kernel(request, log)
        finally:
            os._exit(1)
    os.close(log)
    status = _watch(connection, kernel)
    _send(connection, f"exit {status}")
    return 0


def _build_filesystem(request: dict) -> int:
    """The kernel's view: only its submission, its sockets, the OS and Python. Returns the
    kernel log's descriptor (opened before the scratch area is covered)."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    # A fresh /proc shows only this PID namespace; read-only, as a new proc mount in a
    # user namespace must not be more permissive than the one it shadows.
    _mount("proc", "/proc", "proc", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    # Stage what must stay visible (in a tmpfs of this namespace only), cover the scratch
    # area that holds every submission, then put the staged mounts back in place.
    _mount("tmpfs", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")
    staged = []
    for index, (source, target) in enumerate(request["binds"]):
        point = f"{STAGE}/{index}"
        os.mkdir(point) if os.path.isdir(source) else open(point, "w").close()
        _mount(source, point, None, MS_BIND | MS_REC)
        staged.append((point, target))
    sockets = f"{STAGE}/sockets"
    os.mkdir(sockets)
    _mount(request["socket_dir"], sockets, None, MS_BIND)
    log = os.open(request["log_file"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={int(request['tmp_bytes'])},mode=1777")
    # Everything writable that the template's sandbox shares: a private /dev/shm, and the
    # sandbox's root and /dev (tmpfs of bubblewrap's) read-only for this kernel.
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    for shared in ("/", "/dev"):
        _remount_readonly(shared)
    cover = request["cover"]
    covered = os.path.exists(cover)   # a scratch area outside /tmp is still visible
    if covered:
        _mount("tmpfs", cover, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    os.makedirs(request["socket_dir"])
    _mount(sockets, request["socket_dir"], None, MS_MOVE)
    workdir = request["cwd"]
    os.makedirs(workdir)
    _mount("tmpfs", workdir, "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={int(request['workdir_bytes'])},mode=0777")
    for point, target in staged:
        os.mkdir(target) if os.path.isdir(point) else open(target, "w").close()
        _mount(point, target, None, MS_BIND | MS_REC)
        _remount_readonly(target)
    _check(libc.umount2(STAGE.encode(), MNT_DETACH), "umount the stage")
    if covered:
        _remount_readonly(cover)
    return log


def _loopback_up() -> None:
    """A new network namespace has only ``lo``, down; bubblewrap brings it up too."""
    import fcntl

    SIOCSIFFLAGS, IFF_UP = 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            fcntl.ioctl(probe, SIOCSIFFLAGS, struct.pack("16sh14x", b"lo", IFF_UP))
        except OSError:
            pass


def _watch(connection, kernel: int) -> int:
    """Reap until the kernel ends (its exit status) or the launcher hangs up (-9)."""
    status = None
    while status is None:
        readable, _, _ = select.select([connection], [], [], 0.2)
        if readable:
            try:
                data = connection.recv(64)
            except OSError:
                data = b""
            if not data:     # the launcher is gone: so is the kernel
                os.kill(-1, signal.SIGKILL)
                status = -9
        while True:
            try:
                pid, code = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid == kernel:
                status = os.waitstatus_to_exitcode(code)
    return status


def _drop_privileges(limits: list) -> None:
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    for capability in range(64):
        if _prctl(PR_CAPBSET_DROP, capability) != 0 and ctypes.get_errno() == 22:
            break   # EINVAL: past the last capability this kernel knows
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header = struct.pack("Ii", 0x20080522, 0)    # _LINUX_CAPABILITY_VERSION_3, this thread
    data = bytes(24)                             # effective, permitted, inheritable: none
    _check(libc.syscall(SYS_CAPSET, ctypes.c_char_p(header), ctypes.c_char_p(data)),
           "capset")
    for name, value in limits:
        limit = getattr(resource, name)
        _, hard = resource.getrlimit(limit)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (value, value))


def _run_kernel(request: dict, log: int) -> None:
    os.setsid()
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    most = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    os.closerange(3, most if 0 < most < 2**31 else 2**20)
    _drop_privileges(request["limits"])
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    import random

    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    # As ``python -m ipykernel_launcher -f FILE`` started in the working folder would be.
    argv = list(request["argv"])
    sys.argv = [argv[argv.index("-m") + 1]] + argv[argv.index("-m") + 2:]
    sys.path[0] = request["cwd"]
    from ipykernel import kernelapp

    import types

    sys.modules["__main__"] = types.ModuleType("__main__")   # not the template's
    started = time.perf_counter()
    try:
        kernelapp.launch_new_instance()
    except SystemExit as end:
        os._exit(end.code if isinstance(end.code, int) else 0)
    print(f"kernel ran {time.perf_counter() - started:.1f} s", file=sys.stderr)
    os._exit(0)


# The grader appends the call ``serve(CONTROL_SOCKET, MODULES)`` to this text, so that the
# command line every kernel inherits is a bare ``python -``.
