#!/usr/bin/env python3
"""One entry point for a fresh machine (only Python 3.10+ needed):

    python3 run.py demo   set up .venv, then release the lessons and grade the bundled
                          sample submissions in a temporary course (the main job)
    python3 run.py test   set up .venv, then run the whole test suite

Setting up installs requirements-dev.txt and this repository (editable) into ``.venv``;
it is skipped when nothing it depends on has changed since the last run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
INPUTS = ("requirements.txt", "requirements-dev.txt", "pyproject.toml")
STAMP = VENV / ".dlcourse-installed"


def setup() -> None:
    digest = hashlib.sha256(b"".join((ROOT / name).read_bytes() for name in INPUTS)).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text() == digest:
        return
    if sys.version_info < (3, 10):
        sys.exit(f"Python 3.10 or newer is needed, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing requirements (TensorFlow, Keras, nbgrader: a few minutes)", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run(pip + ["-r", str(ROOT / "requirements-dev.txt")], check=True)
    subprocess.run(pip + ["--no-deps", "-e", str(ROOT)], check=True)
    STAMP.write_text(digest)


def system_packages() -> None:
    """bubblewrap sandboxes the student kernels while grading (Debian package bubblewrap);
    chromium and chromium-driver let the tests open the report dashboard in a real browser.
    Installed here when missing and possible (root and apt-get), one package at a time (one
    unavailable package does not keep the others out); otherwise says what is missing."""
    browser = ("tests/test_dashboard.py skips its browser tests (e.g. `sudo apt-get install "
               "chromium chromium-driver`)")
    packages = (  # Debian package, a command it installs, what it is for, what lacks without
        ("bubblewrap", "bwrap", "the grading sandbox",
         "grading will refuse to run student code until it is (e.g. `sudo apt-get install "
         "bubblewrap`), or with --weak-sandbox"),
        ("chromium", "chromium", "a headless browser for the dashboard test", browser),
        ("chromium-driver", "chromedriver", "Selenium's driver for chromium", browser))
    missing = [p for p in packages if not shutil.which(p[1])]
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        quiet = {"stdout": subprocess.DEVNULL}
        updated = False
        for package, _, purpose, _ in missing:
            print(f"installing {package} ({purpose}) with apt-get", flush=True)
            install = ["apt-get", "install", "-y", "-q", package]
            if subprocess.run(install, **quiet).returncode and not updated:
                subprocess.run(["apt-get", "update", "-q"], **quiet)
                updated = True
                subprocess.run(install, **quiet)
    else:
        print("not root or no apt-get: not installing "
              + ", ".join(p[0] for p in missing), flush=True)
    for package, command, _, consequence in missing:
        if not shutil.which(command):
            print(f"{package} ({command}) is not installed: {consequence}", flush=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "setup"):
        print(__doc__)
        return 2
    setup()
    if os.name == "posix":
        system_packages()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if argv[0] == "demo":
        command = [str(PYTHON), "-m", "autograder", "--course", str(ROOT), "demo", *argv[1:]]
    elif argv[0] == "test":
        # Two workers (the machine's cores); a lesson's tests (one class) stay on one worker.
        # The slowest tests are listed: CI's time limit is the budget they share.
        command = [str(PYTHON), "-m", "pytest", "-n", "2", "--dist", "loadscope",
                   "--durations=25", *argv[1:]]
    else:
        return 0
    return subprocess.run(command, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
