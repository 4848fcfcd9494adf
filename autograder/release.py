"""Releasing lessons: ``lessons/`` generated from ``solutions/`` by nbgrader, and the
lesson definition a grading worker needs."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from autograder import settings
from autograder.course import Course, CourseError, nbgrader_failure


def release(course: Course, lessons) -> None:
    """Regenerate ``lessons/<lesson>/`` from ``solutions/<lesson>/`` (outputs cleared,
    stamped) and register the lesson in the gradebook."""
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
    names of the lesson's notebooks. Made by releasing the source in a throwaway course,
    so no student's data ever leaves the coordinator."""
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(course.source(lesson), Path(tmp) / settings.SOURCE_DIRECTORY / lesson)
        release(Course(tmp), [lesson])
        names = sorted(p.name for p in (Path(tmp) / settings.RELEASE_DIRECTORY / lesson)
                       .glob("*.ipynb"))
        return (Path(tmp) / settings.GRADEBOOK).read_bytes(), names


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
