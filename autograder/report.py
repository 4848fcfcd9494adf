"""The instructor's report on a graded lesson: which checks the class fails most, the
score distribution, and the submissions that needed a timeout or crashed."""

from __future__ import annotations

from pathlib import Path

from autograder import records


def pass_rates(course, lesson: str) -> list[tuple[str, int, int]]:
    """``(grade_id, passed, submissions)`` per graded cell, most failed first."""
    counts: dict[str, list[int]] = {}
    with course.gradebook() as gb:
        for submission in gb.assignment_submissions(lesson):
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if not grade.max_score:
                        continue
                    passed, total = counts.setdefault(grade.name, [0, 0])
                    counts[grade.name] = [passed + (grade.score >= grade.max_score), total + 1]
    return sorted(((gid, p, n) for gid, (p, n) in counts.items()),
                  key=lambda row: (row[1] / row[2], row[0]))


def write_report(course, lesson: str, folder: Path) -> str:
    """Write ``report.md`` and ``scores.png`` for ``lesson`` into ``folder``; return the
    report's text."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    rows = records.grade_rows(course, [lesson])
    if not rows:
        text = f"# {lesson}\n\nNo graded submissions yet.\n"
        (folder / "report.md").write_text(text)
        return text
    percents = [100 * r["score"] / r["max_score"] if r["max_score"] else 0 for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(percents, bins=[i * 10 for i in range(11)], edgecolor="black")
    ax.set_xlabel("score (%)")
    ax.set_ylabel("submissions")
    ax.set_title(f"{lesson}: {len(rows)} submissions")
    fig.tight_layout()
    fig.savefig(folder / "scores.png", dpi=100)
    plt.close(fig)

    lines = [f"# {lesson}: {len(rows)} submissions", "",
             f"Mean score {sum(percents) / len(percents):.1f} %, "
             f"{sum(p == 100 for p in percents)} with full marks, "
             f"{sum(p == 0 for p in percents)} with zero. Histogram: scores.png", "",
             "## Checks by pass rate (most failed first)", "",
             "| check | passed | rate |", "|---|---:|---:|"]
    for grade_id, passed, total in pass_rates(course, lesson):
        lines.append(f"| {grade_id} | {passed}/{total} | {100 * passed / total:.0f} % |")
    status = records.load_status(course).get(lesson, {})
    problems = [(student, entry) for student, entry in sorted(status.items())
                if entry.get("flags") or not entry.get("ok", True)]
    lines += ["", "## Submissions that needed a limit, crashed or could not be read", ""]
    if problems:
        lines += ["| student | what happened | reason |", "|---|---|---|"]
        for student, entry in problems:
            flags = ", ".join(entry.get("flags", [])) or "not graded"
            reason = entry.get("reason", "").replace("|", "/")
            lines.append(f"| {student} | {flags} | {reason} |")
    else:
        lines.append("None.")
    weak = sorted(student for student, entry in status.items()
                  if entry.get("sandbox") and "bubblewrap" not in entry["sandbox"])
    lines += ["", "## Isolation", ""]
    lines.append(f"Graded WITHOUT bubblewrap (weaker isolation accepted): {', '.join(weak)}."
                 if weak else "Every submission ran in the bubblewrap sandbox.")
    text = "\n".join(lines) + "\n"
    (folder / "report.md").write_text(text)
    return text
