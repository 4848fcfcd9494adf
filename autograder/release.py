"""Releasing lessons: the release folder (``lessons/`` here) generated from the source
folder (``solutions/``) by nbgrader, and the lesson definition a grading worker needs."""

from __future__ import annotations

import copy
import logging
import shutil
import tempfile
from pathlib import Path

from autograder import settings
from autograder.course import Course, CourseError, nbgrader_failure


def release(course: Course, lessons) -> None:
    """Regenerate the released ``<lesson>/`` from its source (outputs cleared, stamped
    where the course stamps) and register the lesson in the gradebook."""
    api = course.api()
    for lesson in lessons:
        result = api.generate_assignment(lesson, force=True, create=True)
        if not result["success"]:
            raise CourseError(f"could not release {lesson}: {nbgrader_failure(result)}")


def check_released(course: Course, lesson: str) -> None:
    with course.gradebook() as gb:
        try:
            gb.find_assignment(lesson)
        except Exception:
            raise CourseError(f"{lesson} is not in the gradebook yet: run "
                              f"`python -m autograder release {lesson}` first") from None


def template_gradebook(course: Course, lesson: str) -> tuple[bytes, list[str]]:
    """A gradebook holding only ``lesson``'s definition (what a worker needs), and the
    names of the lesson's notebooks. Made by releasing the source in a throwaway course
    with the course's own configuration (its preprocessors and options), so no student's
    data ever leaves the coordinator."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(course.source(lesson), Path(tmp) / "source" / lesson)
        config = copy.deepcopy(course.config)
        config.Application.log_level = logging.WARNING
        for name in ("submitted_directory", "autograded_directory", "feedback_directory",
                     "directory_structure", "course_id"):
            config.CourseDirectory.pop(name, None)
        config.CourseDirectory.update(
            root=tmp, source_directory="source", release_directory="release",
            db_url=f"sqlite:///{Path(tmp) / 'gradebook.db'}")
        config.ColabStamp.repository_url = ""  # no grade cells; no Git lookup in tmp
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        result = api.generate_assignment(lesson, force=True, create=True)
        if not result["success"]:
            raise CourseError(f"could not release {lesson}: {nbgrader_failure(result)}")
        names = sorted(p.name for p in (Path(tmp) / "release" / lesson).glob("*.ipynb"))
        return (Path(tmp) / "gradebook.db").read_bytes(), names


def new_course(tmp: Path, source_root: Path, lessons) -> Course:
    """A fresh course under ``tmp`` holding copies of ``lessons`` from ``source_root``,
    released."""
    for lesson in lessons:
        shutil.copytree(source_root / settings.SOURCE_DIRECTORY / lesson,
                        tmp / settings.SOURCE_DIRECTORY / lesson)
    if (source_root / "pyproject.toml").exists():  # the Colab stamp settings
        shutil.copy(source_root / "pyproject.toml", tmp / "pyproject.toml")
    course = Course(tmp)
    release(course, lessons)
    return course
