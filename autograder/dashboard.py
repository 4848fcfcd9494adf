"""The report's HTML: one self-contained page per lesson and an index (inline CSS, the
histogram drawn here as inline SVG, no script, no external address). Rendering only: what
the pages show is gathered by :mod:`autograder.report`, the owner of reporting. Every text
that comes from a student or a submission (ids, reasons, flags) goes through ``_e``."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

BINS = 10  # histogram bins of 10 percentage points; 100 % falls in the last


@dataclass
class Check:
    grade_id: str
    passed: int
    total: int
    doc: str = ""   # first line of the graded test cell's docstring

    @property
    def rate(self) -> float:
        return 100 * self.passed / self.total if self.total else 0.0


@dataclass
class LessonData:
    """Everything a lesson page shows; feedback values are relative links (maybe none)."""

    lesson: str
    scores: list = field(default_factory=list)      # (student, score, max_score)
    checks: list = field(default_factory=list)      # Check, most failed first
    flagged: list = field(default_factory=list)     # (student, status entry)
    late: list = field(default_factory=list)        # dicts: student, timestamp, duedate, seconds_late, penalty
    timings: list = field(default_factory=list)     # (student, seconds), slowest first
    weak: list = field(default_factory=list)        # students graded without bubblewrap
    feedback: dict = field(default_factory=dict)    # student -> [(label, href)]
    logs: dict = field(default_factory=dict)        # student -> href of the grading log

    @property
    def percents(self) -> list[float]:
        return [100 * s / m if m else 0.0 for _, s, m in self.scores]


def _e(text) -> str:
    return html.escape(str(text), quote=True)


STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
nav a{margin-right:1em}table{border-collapse:collapse;width:100%}
td,th{padding:.25em .5em;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;white-space:nowrap}code{font-size:.95em}
.track{background:#e57373;height:1em;width:14em;border-radius:2px;overflow:hidden}
.fill{background:#4caf50;height:100%}.none{color:#666;font-style:italic}
.reason{font-family:monospace;font-size:.9em;white-space:pre-wrap}
svg text{font-size:11px;fill:#222}svg rect.bin{fill:#5c8dd6}
"""


def _page(title: str, nav: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<title>{_e(title)}</title><style>{STYLE}</style></head>\n'
            f'<body><nav>{nav}</nav>\n<h1>{_e(title)}</h1>\n{body}\n</body></html>\n')


def histogram_svg(percents: list[float], width: int = 520, height: int = 220) -> str:
    """Submissions per 10 % bin as an inline SVG bar chart (each bar a ``rect.bin`` with
    ``data-low``/``data-count``)."""
    counts = [0] * BINS
    for p in percents:
        counts[min(max(int(p // (100 / BINS)), 0), BINS - 1)] += 1
    left, bottom, top = 40, 30, 15
    plot_w, plot_h = width - left - 10, height - bottom - top
    tallest = max(counts) or 1
    parts = [f'<svg class="histogram" width="{width}" '
             f'height="{height}" role="img" aria-label="score histogram">',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
             'stroke="#222"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#222"/>']
    bar_w = plot_w / BINS
    for i, count in enumerate(counts):
        h = plot_h * count / tallest
        x, y = left + i * bar_w, top + plot_h - h
        low = i * 100 // BINS
        high = low + 100 // BINS
        label = f"{low}-{high} %: {count} submission(s)"
        parts.append(f'<rect class="bin" data-low="{low}" data-count="{count}" x="{x + 1:.1f}" '
                     f'y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}"><title>{label}'
                     '</title></rect>')
        if count:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" '
                         f'text-anchor="middle">{count}</text>')
    for i in range(0, BINS + 1, 2):
        x = left + i * bar_w
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle">'
                     f'{i * 100 // BINS}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 3}" text-anchor="middle">'
                 'score (%)</text>')
    parts.append(f'<text x="4" y="{top + 4}">{tallest}</text><text x="4" '
                 f'y="{top + plot_h}">0</text>')
    parts.append("</svg>")
    return "".join(parts)


def _feedback_cell(data: LessonData, student: str) -> str:
    links = data.feedback.get(student) or []
    if not links:
        return '<span class="none">no feedback page yet</span>'
    return " ".join(f'<a class="feedback" href="{_e(href)}">{_e(label)}</a>'
                    for label, href in links)


def _log_cell(data: LessonData, student: str) -> str:
    href = data.logs.get(student)
    return f'<a class="log" href="{_e(href)}">log</a>' if href else '<span class="none">-</span>'


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = " ".join(f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min"))
                    if n)
    return text or f"{secs} s"


def lesson_page(data: LessonData, index_href: str | None = None) -> str:
    """The dashboard of one lesson."""
    nav = "".join(f'<a href="#{anchor}">{name}</a>' for anchor, name in (
        ("scores", "Scores"), ("checks", "Checks"), ("flagged", "Flagged"),
        ("late", "Late"), ("timings", "Timings"), ("isolation", "Isolation")))
    nav += '<a href="report.md">report.md</a>'
    if index_href:
        nav = f'<a href="{_e(index_href)}">All lessons</a>' + nav
    percents = data.percents
    body = []

    body.append('<section id="scores"><h2>Scores</h2>')
    if percents:
        body.append(f'<p class="summary">{len(percents)} submissions; mean score '
                    f'{sum(percents) / len(percents):.1f} %, '
                    f'{sum(p == 100 for p in percents)} with full marks, '
                    f'{sum(p == 0 for p in percents)} with zero.</p>')
        body.append(histogram_svg(percents))
        body.append('<p><a href="scores.png">the same histogram as a PNG</a></p>')
    else:
        body.append('<p class="none">No graded submissions yet.</p>')
    body.append("</section>")

    body.append('<section id="checks"><h2>Checks by pass rate (most failed first)</h2>')
    if data.checks:
        body.append('<table><tr><th>check</th><th>what it checks</th><th>pass rate</th>'
                    '<th class="num">passed</th></tr>')
        for check in data.checks:
            body.append(
                f'<tr class="check" data-grade-id="{_e(check.grade_id)}" '
                f'data-rate="{check.rate:.1f}"><td><code>{_e(check.grade_id)}</code></td>'
                f'<td class="doc">{_e(check.doc)}</td><td><div class="track" title="'
                f'{check.rate:.0f} % passed"><div class="fill" style="width:{check.rate:.1f}%">'
                f'</div></div></td><td class="num">{check.passed}/{check.total} '
                f'({check.rate:.0f} %)</td></tr>')
        body.append("</table>")
    else:
        body.append('<p class="none">No graded checks yet.</p>')
    body.append("</section>")

    body.append('<section id="flagged"><h2>Flagged submissions: needed a limit, crashed or '
                'could not be read</h2>')
    if data.flagged:
        body.append('<table><tr><th>student</th><th>what happened</th><th>reason</th>'
                    '<th class="num">seconds</th><th>feedback</th><th>log</th></tr>')
        for student, entry in data.flagged:
            flags = ", ".join(entry.get("flags", [])) or "not graded"
            seconds = entry.get("seconds")
            body.append(
                f'<tr class="flagged-row"><td class="student">{_e(student)}</td>'
                f'<td class="flags">{_e(flags)}</td><td class="reason">'
                f'{_e(entry.get("reason", ""))}</td><td class="num">'
                f'{"" if seconds is None else f"{seconds:.1f}"}</td>'
                f'<td>{_feedback_cell(data, student)}</td><td>{_log_cell(data, student)}'
                '</td></tr>')
        body.append("</table>")
    else:
        body.append('<p class="none">None.</p>')
    body.append("</section>")

    body.append('<section id="late"><h2>Late submissions</h2>')
    if data.late:
        body.append('<table><tr><th>student</th><th>submitted (UTC)</th><th>due (UTC)</th>'
                    '<th class="num">late by</th><th class="num">penalty</th>'
                    '<th>feedback</th></tr>')
        for row in data.late:
            body.append(
                f'<tr class="late-row"><td class="student">{_e(row["student"])}</td>'
                f'<td>{_e(row["timestamp"] or "unknown")}</td>'
                f'<td>{_e(row["duedate"] or "none")}</td>'
                f'<td class="num">{_duration(row["seconds_late"])}</td>'
                f'<td class="num">{row["penalty"]:g}</td>'
                f'<td>{_feedback_cell(data, row["student"])}</td></tr>')
        body.append("</table>")
    else:
        body.append('<p class="none">None: no submission is past its due date or carries '
                    'a late penalty.</p>')
    body.append("</section>")

    body.append('<section id="timings"><h2>Grading time per submission</h2>')
    if data.timings:
        seconds = sorted(s for _, s in data.timings)
        n = len(seconds)
        median = (seconds[n // 2] if n % 2 else (seconds[n // 2 - 1] + seconds[n // 2]) / 2)
        body.append(f'<p class="summary">{n} submissions: mean {sum(seconds) / n:.1f} s, '
                    f'median {median:.1f} s, max {seconds[-1]:.1f} s.</p>')
        body.append('<table><tr><th>slowest</th><th class="num">seconds</th>'
                    '<th>feedback</th></tr>')
        for student, value in data.timings[:5]:
            body.append(f'<tr class="slow-row"><td class="student">{_e(student)}</td>'
                        f'<td class="num">{value:.1f}</td>'
                        f'<td>{_feedback_cell(data, student)}</td></tr>')
        body.append("</table>")
    else:
        body.append('<p class="none">No timings yet.</p>')
    body.append("</section>")

    body.append('<section id="isolation"><h2>Isolation</h2><p>')
    body.append("Graded WITHOUT bubblewrap (weaker isolation accepted): "
                + ", ".join(f'<span class="student">{_e(s)}</span>' for s in data.weak) + "."
                if data.weak else "Every submission ran in the bubblewrap sandbox.")
    body.append("</p></section>")
    return _page(f"{data.lesson}: {len(percents)} submissions", nav, "\n".join(body))


def index_page(rows: list[dict]) -> str:
    """The list of lessons: ``rows`` of ``lesson``, ``href`` (or None), ``submissions``,
    ``mean``, ``full``, ``flagged``, ``late``."""
    body = ['<table class="lessons"><tr><th>lesson</th><th class="num">submissions</th>'
            '<th class="num">mean score</th><th class="num">full marks</th>'
            '<th class="num">flagged</th><th class="num">late</th></tr>']
    for row in rows:
        name = (f'<a class="lesson" href="{_e(row["href"])}">{_e(row["lesson"])}</a>'
                if row["href"] else f'{_e(row["lesson"])} <span class="none">(no report)</span>')
        mean = f'{row["mean"]:.1f} %' if row["submissions"] else "-"
        body.append(f'<tr class="lesson-row"><td>{name}</td><td class="num">'
                    f'{row["submissions"]}</td><td class="num">{mean}</td><td class="num">'
                    f'{row["full"]}</td><td class="num">{row["flagged"]}</td>'
                    f'<td class="num">{row["late"]}</td></tr>')
    body.append("</table>")
    return _page("Grading report", "", "\n".join(body))
