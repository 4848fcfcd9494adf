"""The main job on an embedded default: a temporary course graded end to end.

The sample submissions are made from the lessons themselves (a complete one with every
answer from the solution, a partial one with the first half of the answers, the blank
released lesson), so they can never drift out of sync with the lessons they belong to.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from autograder import notebooks, settings
from autograder.course import Course
from autograder.feedback import write_feedback
from autograder.release import new_course

SAMPLE_STUDENTS = ("sample-complete", "sample-partial", "sample-blank")


def make_samples(course: Course, lessons, destination: Path) -> None:
    """Write the three sample submissions of each lesson in nbgrader's
    ``<student>/<lesson>/<notebook>.ipynb`` layout under ``destination``."""
    for lesson in lessons:
        for released_path in sorted((course.root / settings.RELEASE_DIRECTORY / lesson)
                                    .glob("*.ipynb")):
            released = notebooks.read(released_path)
            source = notebooks.read(course.root / settings.SOURCE_DIRECTORY / lesson
                                    / released_path.name)
            answers = [notebooks.grade_id(c) for c in source.cells if notebooks.is_solution(c)]
            versions = dict(zip(SAMPLE_STUDENTS, (
                notebooks.fill_in(released, source),
                notebooks.fill_in(released, source, only=set(answers[: len(answers) // 2])),
                released,
            )))
            for student, nb in versions.items():
                notebooks.write(nb, destination / student / lesson / released_path.name)


def run_demo(repository: Path, workspace: Path | None = None, lessons=None,
             workers: int | None = None) -> int:
    """Release every lesson into a fresh course, grade the samples, print the table."""
    from autograder.console import grade_lessons, print_table

    started = time.perf_counter()
    repository = Course(repository)  # validates that it is a course
    chosen = repository.resolve_lessons(lessons or [])
    if workspace is None:
        workspace = Path(tempfile.mkdtemp(prefix="dlcourse-demo-"))
    elif workspace.exists() and any(workspace.iterdir()):
        raise SystemExit(f"error: workspace {workspace} is not empty")
    workspace.mkdir(parents=True, exist_ok=True)
    course = new_course(workspace, repository.root, chosen)
    print(f"demo course in {workspace}")
    print(f"released {len(chosen)} lesson(s): {', '.join(chosen)}")
    make_samples(course, chosen, course.submissions)
    outcomes = grade_lessons(course, chosen, workers=workers)
    for lesson in chosen:
        write_feedback(course, lesson)
    print()
    print_table(course, chosen)
    print(f"\nfeedback (HTML): {workspace / 'feedback'}/<student>/<lesson>/")
    print(f"gradebook: {workspace / settings.GRADEBOOK}")
    print(f"total time: {time.perf_counter() - started:.0f} s")
    return 0 if outcomes and all(o.ok for o in outcomes) else 1
