# nbgrader reads this file when run from the repository root, so plain `nbgrader`
# commands (and the formgrader) use the course layout: solutions/ is the source directory,
# lessons/ the release directory. The settings live in one place: autograder/settings.py.
import os

from autograder.settings import configure

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
configure(c, os.path.dirname(os.path.abspath(__file__)))
# `python -m autograder` reads this file too; its own settings can go here, e.g.
# c.Autograder.workers = 8 or c.Autograder.notebook_timeout = 1200 (see README).
