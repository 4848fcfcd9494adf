"""A Colab-like Python environment: a clean virtual environment holding only what a Colab
runtime already has for this course (TensorFlow, Keras, NumPy, Matplotlib, scikit-learn,
scikit-image, tensorflow-datasets, and ipykernel to run notebooks) and *no* ``dlcourse``.

The versions are exactly those of the environment running this script (the repository's
``.venv``, i.e. the versions the test suite runs), so the Colab-path test
(``tests/test_colab_path.py``) proves the stamp's setup cell against the same stack. The
environment is built once with ``python -m venv`` + ``pip install`` and cached under
``~/.cache/dlcourse-colab-env/<key>`` (``DLCOURSE_COLAB_ENV_CACHE`` overrides the folder),
keyed by the Python and package versions, so later runs reuse it::

    .venv/bin/python tools/colab_env.py          # build (or find) it, print its python
    .venv/bin/python tools/colab_env.py --rebuild

``--pin NAME==VERSION`` (repeatable) and ``--python`` build another stack, and
``--lessons [LESSON...]`` executes the lessons' solution notebooks (answers, visible and
hidden checks) in it, e.g. the lowest versions requirements.txt admits (README, "Colab
and versions")::

    .venv/bin/python tools/colab_env.py --python /root/.pyenv/versions/3.12.1/bin/python \
        --pin tensorflow==2.19.0 --pin keras==3.10.0 --pin numpy==2.0.2 ... --lessons
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path

# What a Colab runtime ships (of what the lessons use). ipykernel is there too: Colab
# runs notebooks on it, and the test needs it to execute one.
COLAB_PACKAGES = ("tensorflow", "keras", "numpy", "matplotlib", "scikit-learn",
                  "scikit-image", "tensorflow-datasets", "ipykernel")
ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("DLCOURSE_COLAB_ENV_CACHE",
                            Path.home() / ".cache" / "dlcourse-colab-env"))
COMPLETE = ".dlcourse-colab-env-complete"


class Unavailable(RuntimeError):
    """The environment cannot be built here (no package index reachable, a version not on
    the index); the test skips with this message."""


def pinned_versions() -> dict[str, str]:
    """``{package: version}`` of the Colab packages installed in this interpreter."""
    versions = {}
    for name in COLAB_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            raise Unavailable(f"{name} is not installed in {sys.prefix}; run this with the "
                              "repository's .venv/bin/python") from None
    return versions


def python_version(base_python: str | None) -> str:
    """The version of ``base_python`` (None: this interpreter), e.g. ``3.11.7``."""
    if base_python is None:
        return ".".join(map(str, sys.version_info[:3]))
    return subprocess.run([base_python, "-c", "import sys; print(*sys.version_info[:3], sep='.')"],
                          capture_output=True, text=True, check=True).stdout.strip()


def key(versions: dict[str, str], base_python: str | None = None) -> str:
    text = f"py{python_version(base_python)}\n" + \
        "".join(f"{n}=={v}\n" for n, v in sorted(versions.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def python_of(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def index_reachable(host: str = "pypi.org", port: int = 443, timeout: float = 5.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def freeze(python: Path) -> dict[str, str]:
    """``{normalised name: version or direct reference}`` of an environment (pip freeze)."""
    out = subprocess.run([str(python), "-m", "pip", "freeze", "--all",
                          "--disable-pip-version-check"], capture_output=True, text=True,
                         check=True).stdout
    packages = {}
    for line in out.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if " @ " in line:
            name, ref = line.split(" @ ", 1)
        elif "==" in line:
            name, ref = line.split("==", 1)
        else:
            name, ref = line, ""
        packages[name.strip().lower().replace("_", "-").replace(".", "-")] = ref.strip()
    return packages


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # one build at a time (xdist workers, two runs)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(env: Path, versions: dict[str, str], base_python: str | None, log) -> None:
    if not index_reachable():
        raise Unavailable("PyPI (pypi.org:443) is unreachable: cannot build the Colab-like "
                          f"environment {env}")
    shutil.rmtree(env, ignore_errors=True)
    log(f"building the Colab-like environment {env} (first run: a few minutes)")
    if base_python is None:
        venv.EnvBuilder(with_pip=True, clear=True).create(env)
    else:
        subprocess.run([base_python, "-m", "venv", "--clear", str(env)], check=True)
    requirements = [f"{n}=={v}" for n, v in versions.items()]
    result = subprocess.run(
        [str(python_of(env)), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", *requirements],
        capture_output=True, text=True)
    if result.returncode:
        shutil.rmtree(env, ignore_errors=True)
        tail = (result.stdout + result.stderr)[-2000:]
        if "No matching distribution" in tail or "Could not find a version" in tail \
                or "connection" in tail.lower():
            raise Unavailable(f"pip could not install {requirements}: {tail}")
        raise RuntimeError(f"building {env} failed:\n{tail}")
    installed = freeze(python_of(env))
    if "dlcourse" in installed:  # pragma: no cover - would mean a broken index
        raise RuntimeError(f"{env} holds dlcourse: not a clean Colab-like environment")
    (env / COMPLETE).write_text(json.dumps(installed, indent=1, sort_keys=True))


def _recorded(env: Path) -> dict[str, str] | None:
    """The environment's ``pip freeze`` when it was built (None: missing or incomplete)."""
    try:
        return json.loads((env / COMPLETE).read_text()) if python_of(env).exists() else None
    except (OSError, ValueError):
        return None


def _uninstall_helpers(python: Path) -> None:
    subprocess.run([str(python), "-m", "pip", "uninstall", "--yes", "--quiet",
                    "--disable-pip-version-check", "dlcourse"], capture_output=True)


@contextlib.contextmanager
def using(versions: dict[str, str] | None = None, base_python: str | None = None,
          rebuild: bool = False, log=print):
    """Hold the environment (locked against other runs) in its recorded clean state: built
    when missing, rebuilt when it differs from what was recorded at build time. On exit
    ``dlcourse`` is uninstalled again; an environment that then still differs from the
    record is marked for a rebuild.

    ``versions`` overrides some of this interpreter's versions (another stack to test),
    ``base_python`` the interpreter the environment is made from (default: this one's)."""
    versions = {**pinned_versions(), **(versions or {})}
    env = CACHE / key(versions, base_python)
    with _locked(CACHE / f"{env.name}.lock"):
        recorded = None if rebuild else _recorded(env)
        if recorded is not None:
            _uninstall_helpers(python_of(env))  # left by an interrupted run
            if freeze(python_of(env)) != recorded:
                log(f"{env} differs from its recorded state: rebuilding it")
                recorded = None
        if recorded is None:
            _build(env, versions, base_python, log)
            recorded = _recorded(env)
        try:
            yield env
        finally:
            _uninstall_helpers(python_of(env))
            if freeze(python_of(env)) != recorded:
                log(f"{env} did not return to its recorded state: it is rebuilt next time")
                (env / COMPLETE).unlink(missing_ok=True)


def ensure(versions=None, base_python=None, rebuild: bool = False, log=print) -> Path:
    """The cached environment's directory, built first when missing or not clean."""
    with using(versions, base_python, rebuild=rebuild, log=log) as env:
        return env


def kernel_manager(env: Path, kernels: Path, extra_env: dict[str, str] | None = None):
    """A Jupyter kernel manager for a kernel of ``env``'s Python (its spec written under
    ``kernels``), which sees that environment only: nothing of the calling one's PATH or
    PYTHONPATH."""
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    python = python_of(env)
    spec = kernels / "colab-like"
    spec.mkdir(parents=True, exist_ok=True)
    caller = Path(sys.prefix)
    path = os.pathsep.join([str(python.parent)] + [
        p for p in os.environ.get("PATH", "").split(os.pathsep)
        if p and not Path(p).is_relative_to(caller) and not Path(p).is_relative_to(ROOT)])
    variables = {"PATH": path, "PYTHONPATH": "", "VIRTUAL_ENV": str(env),
                 "DLCOURSE_PROFILE": "fast", "TF_CPP_MIN_LOG_LEVEL": "2",
                 "MPLBACKEND": "agg", "PYTHONNOUSERSITE": "1", **(extra_env or {})}
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab-like", "language": "python", "env": variables}))
    return KernelManager(kernel_name="colab-like",
                         kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))


def run_lessons(env: Path, lessons: list[str], log=print) -> dict[str, str]:
    """Execute each lesson's *solution* notebook (answers, visible and hidden checks) in a
    kernel of ``env``, with this working tree's ``dlcourse`` on its path (a copy; the
    environment is not changed). Returns ``{lesson: "ok (N s)" or the error}``."""
    import tempfile
    import time

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    results = {}
    with tempfile.TemporaryDirectory(prefix="dlcourse-lessons-") as tmp:
        helpers = Path(tmp) / "helpers"
        shutil.copytree(ROOT / "dlcourse", helpers / "dlcourse",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for lesson in lessons:
            work = Path(tmp) / "work" / lesson
            work.mkdir(parents=True)
            for path in sorted((ROOT / "solutions" / lesson).glob("*.ipynb")):
                nb = nbformat.read(path, as_version=4)
                client = NotebookClient(
                    nb, timeout=600, resources={"metadata": {"path": str(work)}},
                    km=kernel_manager(env, Path(tmp) / "kernels",
                                      {"PYTHONPATH": str(helpers)}))
                started = time.monotonic()
                try:
                    client.execute()
                    results[path.stem] = f"ok ({time.monotonic() - started:.0f} s)"
                except CellExecutionError as error:
                    results[path.stem] = "FAILED: " + str(error)[-1500:]
                except Exception as error:  # a kernel that died, a timeout
                    results[path.stem] = f"FAILED: {type(error).__name__}: {error}"[-1500:]
                log(f"{path.stem}: {results[path.stem]}")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rebuild", action="store_true", help="build it again")
    parser.add_argument("--pin", action="append", default=[], metavar="NAME==VERSION",
                        help="another version of a Colab package (repeatable)")
    parser.add_argument("--python", help="base interpreter (default: this one)")
    parser.add_argument("--lessons", nargs="*", metavar="LESSON",
                        help="run these lessons' solution notebooks there (none named: all)")
    args = parser.parse_args(argv)
    versions = {}
    for pin in args.pin:
        name, _, version = pin.partition("==")
        if name.lower() not in COLAB_PACKAGES or not version:
            parser.error(f"--pin {pin!r}: expected NAME==VERSION of one of {COLAB_PACKAGES}")
        versions[name.lower()] = version
    say = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    try:
        if args.lessons is None:
            print(python_of(ensure(versions, args.python, args.rebuild, log=say)))
            return 0
        with using(versions, args.python, rebuild=args.rebuild, log=say) as env:
            python = python_of(env)
            stack = subprocess.run([str(python), "-c", "import sys, tensorflow, keras, numpy; "
                                    "print(sys.version.split()[0], tensorflow.__version__, "
                                    "keras.__version__, numpy.__version__)"],
                                   capture_output=True, text=True).stdout.split()
            say("python {} tensorflow {} keras {} numpy {}".format(*stack))
            lessons = args.lessons or sorted(
                p.name for p in (ROOT / "solutions").iterdir() if p.is_dir() and
                p.name[:2].isdigit() and any(p.glob("*.ipynb")))
            results = run_lessons(env, lessons, log=say)
    except Unavailable as error:
        print(f"unavailable: {error}", file=sys.stderr)
        return 2
    failed = [name for name, verdict in results.items() if not verdict.startswith("ok")]
    print(f"{len(results) - len(failed)}/{len(results)} lesson notebooks ran clean"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
