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


def key(versions: dict[str, str]) -> str:
    text = f"py{sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}\n" + \
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


def _build(env: Path, versions: dict[str, str], log) -> None:
    if not index_reachable():
        raise Unavailable("PyPI (pypi.org:443) is unreachable: cannot build the Colab-like "
                          f"environment {env}")
    shutil.rmtree(env, ignore_errors=True)
    log(f"building the Colab-like environment {env} (first run: a few minutes)")
    venv.EnvBuilder(with_pip=True, clear=True).create(env)
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
def using(rebuild: bool = False, log=print):
    """Hold the environment (locked against other runs) in its recorded clean state: built
    when missing, rebuilt when it differs from what was recorded at build time. On exit
    ``dlcourse`` is uninstalled again; an environment that then still differs from the
    record is marked for a rebuild."""
    versions = pinned_versions()
    env = CACHE / key(versions)
    with _locked(CACHE / f"{env.name}.lock"):
        recorded = None if rebuild else _recorded(env)
        if recorded is not None:
            _uninstall_helpers(python_of(env))  # left by an interrupted run
            if freeze(python_of(env)) != recorded:
                log(f"{env} differs from its recorded state: rebuilding it")
                recorded = None
        if recorded is None:
            _build(env, versions, log)
            recorded = _recorded(env)
        try:
            yield env
        finally:
            _uninstall_helpers(python_of(env))
            if freeze(python_of(env)) != recorded:
                log(f"{env} did not return to its recorded state: it is rebuilt next time")
                (env / COMPLETE).unlink(missing_ok=True)


def ensure(rebuild: bool = False, log=print) -> Path:
    """The cached environment's directory, built first when missing or not clean."""
    with using(rebuild=rebuild, log=log) as env:
        return env


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rebuild", action="store_true", help="build it again")
    args = parser.parse_args(argv)
    try:
        env = ensure(rebuild=args.rebuild, log=lambda m: print(m, file=sys.stderr))
    except Unavailable as error:
        print(f"unavailable: {error}", file=sys.stderr)
        return 2
    print(python_of(env))
    return 0


if __name__ == "__main__":
    sys.exit(main())
