"""The instructor's report on a graded lesson: which checks the class fails most, the
score distribution, and the submissions that needed a timeout, crashed or came late.

Per lesson ``report.md``, ``scores.png`` and ``index.html`` (the dashboard, rendered by
:mod:`autograder.dashboard`: self-contained, linking to the students' feedback pages), and
an ``index.html`` of all lessons above them (:func:`write_reports`)."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from urllib.parse import quote

from autograder import dashboard, notebooks, records

PAGE = "index.html"   # a lesson's dashboard in its folder, and the index above them


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


def first_docstring_line(source: str) -> str:
    """The first line of the docstring a test cell starts with ("" when it has none)."""
    try:
        doc = ast.get_docstring(ast.parse(source)) or ""
    except SyntaxError:  # IPython syntax further down the cell
        match = re.match(r'\s*[rRuU]?("""|\'\'\')(.*?)\1', source, re.DOTALL)
        doc = match.group(2) if match else ""
    return next((line.strip() for line in doc.splitlines() if line.strip()), "")


def check_docstrings(course, lesson: str) -> dict[str, str]:
    """``grade_id -> first docstring line`` of every graded test cell of the lesson's
    source notebooks."""
    docs = {}
    for path in sorted(course.source(lesson).glob("*.ipynb")):
        for cell in notebooks.read(path).cells:
            if notebooks.is_graded_test(cell):
                docs[notebooks.grade_id(cell)] = first_docstring_line(cell.source)
    return docs


def late_submissions(course, lesson: str) -> list[dict]:
    """Submissions past their due date (extensions included) or carrying a late penalty,
    as nbgrader's gradebook records them (``timestamp``, ``duedate``,
    ``late_submission_penalty``), latest first."""
    from nbgrader.api import MissingEntry

    late = []
    with course.gradebook() as gb:
        try:
            submissions = gb.assignment_submissions(lesson)
        except MissingEntry:
            return []
        for sub in submissions:
            seconds = float(sub.total_seconds_late or 0)
            penalty = float(sub.late_submission_penalty or 0)
            if seconds > 0 or penalty > 0:
                late.append({"student": sub.student.id, "seconds_late": seconds,
                             "penalty": penalty,
                             "timestamp": sub.timestamp and sub.timestamp.isoformat(" "),
                             "duedate": sub.duedate and sub.duedate.isoformat(" ")})
    return sorted(late, key=lambda row: (-row["seconds_late"], row["student"]))


def feedback_links(course, lesson: str, student: str, folder: Path) -> list[tuple[str, str]]:
    """``(notebook, href relative to folder)`` of the student's feedback pages that exist
    (``feedback/<student>/<lesson>/<notebook>.html``)."""
    links = []
    for page in sorted((course.root / "feedback" / student / lesson).glob("*.html")):
        links.append((page.stem, _relative_href(page, folder)))
    return links


def lesson_data(course, lesson: str, folder: Path) -> dashboard.LessonData:
    """What the lesson's dashboard in ``folder`` shows, read from the gradebook, the status
    file, the source notebooks and the feedback folder."""
    rows = records.grade_rows(course, [lesson])
    status = records.load_status(course).get(lesson, {})
    docs = check_docstrings(course, lesson)
    data = dashboard.LessonData(
        lesson,
        scores=[(r["student"], r["score"], r["max_score"]) for r in rows],
        checks=[dashboard.Check(gid, passed, total, docs.get(gid, ""))
                for gid, passed, total in pass_rates(course, lesson)],
        flagged=[(student, entry) for student, entry in sorted(status.items())
                 if entry.get("flags") or not entry.get("ok", True)],
        late=late_submissions(course, lesson),
        timings=sorted(((student, float(entry["seconds"])) for student, entry in status.items()
                        if entry.get("seconds") is not None),
                       key=lambda item: (-item[1], item[0])),
        weak=sorted(student for student, entry in status.items()
                    if entry.get("sandbox") and "bubblewrap" not in entry["sandbox"]))
    students = ({r["student"] for r in rows} | set(status))
    data.feedback = {s: feedback_links(course, lesson, s, folder) for s in sorted(students)}
    data.logs = {s: _relative_href(records.log_path(course, lesson, s), folder)
                 for s in sorted(students) if records.log_path(course, lesson, s).exists()}
    return data


def _relative_href(path: Path, folder: Path) -> str:
    relative = os.path.relpath(path, folder.resolve())
    return "/".join(quote(part) for part in relative.split(os.sep))


def write_reports(course, lessons, output: Path) -> list[str]:
    """Each lesson's report into ``output/<lesson>/`` and the index of all the course's
    lessons into ``output/index.html``; return the lessons' report texts."""
    texts = [write_report(course, lesson, output / lesson, index_href=f"../{PAGE}")
             for lesson in lessons]
    rows = []
    for lesson in course.lessons():
        page = output / lesson / PAGE
        scores = records.grade_rows(course, [lesson])
        percents = [100 * r["score"] / r["max_score"] if r["max_score"] else 0 for r in scores]
        status = records.load_status(course).get(lesson, {})
        rows.append({"lesson": lesson, "href": f"{quote(lesson)}/{PAGE}" if page.exists() else None,
                     "submissions": len(scores),
                     "mean": sum(percents) / len(percents) if percents else 0.0,
                     "full": sum(p == 100 for p in percents),
                     "flagged": sum(bool(e.get("flags") or not e.get("ok", True))
                                    for e in status.values()),
                     "late": len(late_submissions(course, lesson))})
    (output / PAGE).write_text(dashboard.index_page(rows), encoding="utf-8")
    return texts


def write_report(course, lesson: str, folder: Path, index_href: str | None = None) -> str:
    """Write ``report.md``, ``scores.png`` and the dashboard ``index.html`` (linking up to
    ``index_href`` when given) for ``lesson`` into ``folder``; return the report's text."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    (folder / PAGE).write_text(dashboard.lesson_page(lesson_data(course, lesson, folder),
                                                     index_href), encoding="utf-8")
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
        lines += ["| student | what happened | reason | log |", "|---|---|---|---|"]
        for student, entry in problems:
            flags = ", ".join(entry.get("flags", [])) or "not graded"
            reason = entry.get("reason", "").replace("|", "/")
            lines.append(f"| {student} | {flags} | {reason} | {entry.get('log', '')} |")
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
