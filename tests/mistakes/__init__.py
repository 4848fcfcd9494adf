"""The catalogue of typical wrong answers, one module per lesson (``lesson_NN.py``).

Each module defines ``LESSON`` (the lesson folder name) and ``MISTAKES``, a list of
:class:`Mistake`. The tests build a submission from the solution with the mistaken code in
place of one answer, grade it with the real grader and require that exactly the listed test
cells lose their points and that the feedback contains ``message``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer kept as test data.

    Attributes:
        name: short description, e.g. "valid instead of same padding".
        solution_cell: grade_id of the solution cell whose answer is replaced.
        code: the wrong answer (the whole cell).
        failing_tests: grade_ids of the graded test cells that must lose their points.
        message: text that must appear in the error output of those cells (the hint the
            student reads), compared case-insensitively.
    """

    name: str
    solution_cell: str
    code: str
    failing_tests: tuple[str, ...]
    message: str


def rounds(mistakes: list[Mistake]) -> list[list[Mistake]]:
    """Group mistakes so that one submission can carry several of them: within a round no
    two mistakes touch the same solution cell or expect the same test cell to fail."""
    groups: list[list[Mistake]] = []
    for mistake in mistakes:
        for group in groups:
            cells = {m.solution_cell for m in group}
            tests = {t for m in group for t in m.failing_tests}
            if mistake.solution_cell not in cells and not tests & set(mistake.failing_tests):
                group.append(mistake)
                break
        else:
            groups.append([mistake])
    return groups
