"""Feedback pages for graded submissions (nbgrader's ``generate_feedback``; hidden tests
show their docstring and verdict only, see ``settings.configure``)."""

from __future__ import annotations

import html

from autograder import records
from autograder.course import Course, nbgrader_failure


def write_feedback(course: Course, lesson: str) -> list[tuple[str, str]]:
    """HTML feedback for every graded student; returns ``(student, problem)`` pairs."""
    api = course.api()
    problems = []
    status = records.load_status(course).get(lesson, {})
    for student in records.graded_students(course, lesson):
        # a review copy (a flagged notebook nbgrader could not finish) is for formgrader,
        # not feedback: the student gets the reason
        if (any(course.autograded(student, lesson).glob("*.ipynb"))
                and not status.get(student, {}).get("review_copy")):
            result = api.generate_feedback(lesson, student, force=True)
            if not result["success"]:
                problems.append((student, nbgrader_failure(result)))
        else:  # nothing could be executed: the feedback is the reason
            reason = status.get(student, {}).get("reason", "it could not be graded")
            folder = course.feedback(student, lesson)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{lesson}.html").write_text(
                f"<html><body><h1>{html.escape(lesson)}: 0 points</h1><p>Your submission "
                f"could not be graded: {html.escape(reason)}</p></body></html>")
    return problems
