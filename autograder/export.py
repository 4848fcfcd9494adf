"""Grades out of the gradebook, as CSV."""

from __future__ import annotations

import csv
from pathlib import Path

from autograder import records
from autograder.course import Course


def export_csv(course: Course, lessons, path: Path) -> int:
    """One row per graded submission: lesson, student, score, max_score, percent."""
    rows = records.grade_rows(course, lessons)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["lesson", "student", "score",
                                                    "max_score", "percent"])
        writer.writeheader()
        for row in rows:
            percent = 100 * row["score"] / row["max_score"] if row["max_score"] else 0
            writer.writerow({**row, "percent": f"{percent:.1f}"})
    return len(rows)
