"""The report's HTML dashboard on the tiny TensorFlow-free fixture lesson, graded through
the real grader: its content (one bar per graded cell with its docstring, the histogram,
flagged, late and slow submissions, escaped student ids) read from the HTML, then the
pages opened in a real headless Chromium (Debian's chromium + chromium-driver, driven by
Selenium): they load with no request, show every section, and every link resolves."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from autograder import notebooks, records
from autograder.feedback import write_feedback
from autograder.grading import grade
from autograder.parallel import Limits
from autograder.report import pass_rates, write_report
from tests.conftest import FIXTURE_COURSE, ROOT, make_course

LESSON = "99_sample"
NB = f"{LESSON}.ipynb"
LIMITS = Limits(cell_timeout=8, notebook_timeout=120, memory_bytes=768 * 2**20,
                max_processes=128)
SCRIPT_ID = "<script>eve"                       # blank notebook, late penalty
IMG_ID = "<img src=x onerror=alert(1)>"         # unreadable file: flagged
SECTIONS = ("scores", "checks", "flagged", "late", "timings", "isolation")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A class of five graded through the real grader (full marks, the first exercise
    only, blank, an endless loop, a broken file), with feedback for all but bob, bob 2 h
    30 min late, SCRIPT_ID with a late penalty, and the report written by the CLI."""
    course = make_course(tmp_path_factory.mktemp("dashboard"), FIXTURE_COURSE, [LESSON])
    released = notebooks.read(course.root / "lessons" / LESSON / NB)
    source = notebooks.read(course.root / "solutions" / LESSON / NB)
    looper = nbformat.from_dict(released)
    looper.cells.insert(2, nbformat.v4.new_code_cell("while True:\n    pass"))
    for student, nb in {"alice": notebooks.fill_in(released, source),
                        "bob": notebooks.fill_in(released, source, only={"square"}),
                        SCRIPT_ID: released, "looper": looper}.items():
        notebooks.write(nb, course.submissions / student / LESSON / NB)
    broken = course.submissions / IMG_ID / LESSON / NB
    broken.parent.mkdir(parents=True)
    broken.write_text('{"cells": [ not json')
    outcomes = {o.student: o for o in grade(course, LESSON, workers=2, limits=LIMITS)}
    assert [outcomes[s].score for s in ("alice", "bob", SCRIPT_ID)] == [3, 1, 0], outcomes
    assert "timeout" in outcomes["looper"].flags and not outcomes[IMG_ID].ok, outcomes
    assert write_feedback(course, LESSON) == []
    shutil.rmtree(course.root / "feedback" / "bob")
    with course.gradebook() as gb:
        gb.update_or_create_assignment(LESSON, duedate="2026-01-10 12:00:00")
        gb.update_or_create_submission(LESSON, "alice", timestamp="2026-01-10 11:00:00")
        gb.update_or_create_submission(LESSON, "bob", timestamp="2026-01-10 14:30:00")
        gb.update_or_create_submission(LESSON, SCRIPT_ID, timestamp="2026-01-10 11:59:00")
        gb.find_submission_notebook(NB[:-6], LESSON, SCRIPT_ID).late_submission_penalty = 0.5
        gb.db.commit()
    output = course.root / "reports"
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-m", "autograder", "--course", str(course.root),
                          "report", LESSON, "--output", str(output)], env=environment,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert f"dashboard: {output / 'index.html'}" in run.stdout
    return course, output


class Page(HTMLParser):
    """The parts of a page the tests read: elements by class, text per section, links."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.links, self.stack, self.sections = [], [], [], {}
        self.rows = []   # (class, [cell texts], attributes of the row)
        self.in_row = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "a":
            self.links.append(attrs.get("href"))
        if tag == "section":
            self.stack = [attrs["id"]]
            self.sections[attrs["id"]] = ""
        if tag == "tr" and attrs.get("class"):
            self.rows.append((attrs["class"], [], attrs))
            self.in_row = True
        if tag == "td" and self.in_row:
            self.rows[-1][1].append("")

    def handle_endtag(self, tag):
        if tag == "section":
            self.stack = []
        if tag == "tr":
            self.in_row = False

    def handle_data(self, data):
        if self.stack:
            self.sections[self.stack[0]] += data
        if self.in_row and self.rows[-1][1]:
            self.rows[-1][1][-1] += data

    def rows_of(self, kind):
        return [(cells, attrs) for cls, cells, attrs in self.rows if cls == kind]


def lesson_html(graded) -> str:
    return (graded[1] / LESSON / "index.html").read_text()


def test_one_bar_per_graded_cell_most_failed_first_with_its_docstring(graded):
    course, _ = graded
    source = notebooks.read(course.source(LESSON) / NB)
    graded_cells = [notebooks.grade_id(c) for c in source.cells if notebooks.is_graded_test(c)]
    rows = Page(lesson_html(graded)).rows_of("check")
    assert sorted(a["data-grade-id"] for _, a in rows) == sorted(graded_cells)
    assert len(rows) == len(graded_cells) == 3
    got = [(a["data-grade-id"], cells[1], cells[3].strip()) for cells, a in rows]
    assert got == [("test_mean", "mean: visible example.", "1/5 (20 %)"),
                   ("test_mean_hidden", "mean: other inputs.", "1/5 (20 %)"),
                   ("test_square", "square: 3 squared is 9.", "2/5 (40 %)")]
    assert [g for g, _, _ in got] == [gid for gid, _, _ in pass_rates(course, LESSON)]
    widths = [t for t in Page(lesson_html(graded)).tags if t[1].get("class") == "fill"]
    assert [w[1]["style"] for w in widths] == ["width:20.0%", "width:20.0%", "width:40.0%"]


def test_histogram_is_an_inline_svg_of_the_scores(graded):
    page = Page(lesson_html(graded))
    bins = [a for tag, a in page.tags if tag == "rect" and a.get("class") == "bin"]
    # alice 100 %, bob 33 %, blank, endless loop and broken file 0 %
    assert [int(a["data-count"]) for a in bins] == [3, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    assert "5 submissions; mean score 26.7 %, 1 with full marks, 3 with zero." in \
        page.sections["scores"]


def test_flagged_late_and_timing_sections(graded):
    course, _ = graded
    page = Page(lesson_html(graded))
    flagged = {cells[0]: cells for cells, _ in page.rows_of("flagged-row")}
    assert set(flagged) == {"looper", IMG_ID}
    assert "timeout" in flagged["looper"][1]
    assert "is not a valid notebook" in flagged[IMG_ID][2]
    # each flagged submission names its grading log, kept beside its autograded folder
    assert flagged["looper"][5] == "log" and flagged[IMG_ID][5] == "log"
    log = records.log_path(course, LESSON, "looper").read_text()
    assert "flags: timeout" in log and "== nbgrader autograde ==" in log, log[:600]
    assert "== kernel" in log and "sandbox: " in log
    late = [cells for cells, _ in page.rows_of("late-row")]
    assert [(c[0], c[1], c[2], c[3], c[4]) for c in late] == [
        ("bob", "2026-01-10 14:30:00", "2026-01-10 12:00:00", "2 h 30 min", "0"),
        (SCRIPT_ID, "2026-01-10 11:59:00", "2026-01-10 12:00:00", "0 s", "0.5")]
    assert late[0][5] == "no feedback page yet"   # bob's feedback was removed
    assert late[1][5] == LESSON                     # a link named after the notebook
    seconds = {s: e["seconds"] for s, e in records.load_status(course)[LESSON].items()
               if "seconds" in e}
    assert len(seconds) == 5
    values = list(seconds.values())
    assert (f"5 submissions: mean {statistics.mean(values):.1f} s, median "
            f"{statistics.median(values):.1f} s, max {max(values):.1f} s.") in \
        page.sections["timings"]
    slowest = [cells for cells, _ in page.rows_of("slow-row")]
    assert [(c[0], float(c[1])) for c in slowest] == sorted(   # slowest first
        seconds.items(), key=lambda item: (-item[1], item[0]))
    assert float(slowest[0][1]) >= 8    # the endless loop's 8 s cell timeout at least
    assert "Every submission ran in the bubblewrap sandbox." in page.sections["isolation"]


def test_student_ids_and_reasons_cannot_inject_markup(graded):
    text = lesson_html(graded)
    page = Page(text)
    assert not [tag for tag, _ in page.tags if tag in ("script", "img", "iframe", "object")]
    assert "&lt;script&gt;eve" in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert SCRIPT_ID in page.sections["late"] and IMG_ID in page.sections["flagged"]


def test_pages_are_self_contained(graded):
    for path in (graded[1] / "index.html", graded[1] / LESSON / "index.html"):
        text = path.read_text()
        page = Page(text)
        assert "<style>" in text and "http:" not in text and "https:" not in text
        assert not [tag for tag, a in page.tags if tag in ("link", "script", "img")
                    or "src" in a], path
        for href in page.links:
            assert href and not urlsplit(href).scheme and not href.startswith("//"), href


def test_index_lists_every_lesson_with_its_figures(graded):
    page = Page((graded[1] / "index.html").read_text())
    rows = page.rows_of("lesson-row")
    assert [cells for cells, _ in rows] == [[LESSON, "5", "26.7 %", "1", "2", "2"]]
    assert page.links == [f"{LESSON}/index.html"]


def test_a_lesson_without_submissions_says_so(fixture_course, tmp_path):
    text = write_report(fixture_course, LESSON, tmp_path / LESSON)
    assert "No graded submissions yet." in text
    page = Page((tmp_path / LESSON / "index.html").read_text())
    assert set(page.sections) == set(SECTIONS)
    assert "No graded submissions yet." in page.sections["scores"]
    assert "None" in page.sections["flagged"] and "None" in page.sections["late"]


# --- in a real browser -------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM or not DRIVER:
        pytest.skip("no headless browser: install the Debian packages chromium and "
                    "chromium-driver (python3 run.py does, as root)")
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium is not installed (requirements-dev.txt)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1200,2000"):
        options.add_argument(argument)
    # a path to the driver: Selenium Manager (which downloads drivers) is never used
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(30)
    # no network at all: a page that needed anything online would show it
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    yield driver
    driver.quit()


def open_page(browser, path: Path):
    browser.get(path.resolve().as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    assert browser.execute_script("return document.scripts.length") == 0
    # nothing fetched: no style sheet, image, font or frame beyond the page itself
    assert browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)") == []


def broken_links(browser, path: Path) -> list[str]:
    """Every link of the page at ``path``, resolved by the browser, that does not lead to
    an existing file (or, for a fragment, to an element of that id) or that the browser
    cannot open."""
    open_page(browser, path)
    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('a[href]'), a => a.href)")
    assert links, f"{path} has no links"
    broken, files = [], set()
    for link in links:
        url = urlsplit(link)
        if url.scheme != "file":
            broken.append(link)
            continue
        target = Path(unquote(url.path))
        if url.fragment and target == path.resolve():
            if not browser.execute_script("return document.getElementById(arguments[0])",
                                          url.fragment):
                broken.append(link)
        elif not target.is_file():
            broken.append(link)
        else:
            files.add(link.split("#")[0])
    for link in sorted(files):
        if link.endswith((".html", ".png")):   # what the browser shows rather than saves
            browser.get(link)
            text = browser.execute_script("return document.documentElement.innerText")
            if "ERR_FILE_NOT_FOUND" in text or "ERR_" in browser.title:
                broken.append(link)
    return broken


def test_browser_shows_every_section(graded, browser):
    from selenium.webdriver.common.by import By

    open_page(browser, graded[1] / LESSON / "index.html")
    assert browser.title == f"{LESSON}: 5 submissions"
    for section in SECTIONS:
        element = browser.find_element(By.ID, section)
        assert element.is_displayed() and element.size["height"] > 30, section
    checks = browser.find_elements(By.CSS_SELECTOR, "tr.check")
    assert len(checks) == 3
    for row in checks:   # the bars are drawn: the green part is the pass rate
        track = row.find_element(By.CLASS_NAME, "track").size["width"]
        fill = row.find_element(By.CLASS_NAME, "fill").size["width"]
        assert track > 100 and abs(fill / track - float(row.get_attribute("data-rate")) / 100) \
            < 0.02
        assert row.find_element(By.CLASS_NAME, "doc").text.startswith(("mean:", "square:"))
    bins = browser.find_elements(By.CSS_SELECTOR, "svg.histogram rect.bin")
    heights = [b.size["height"] for b in bins]
    assert len(bins) == 10 and heights[0] > heights[3] == heights[9] > 0 == heights[1]
    flagged = browser.find_element(By.ID, "flagged").text
    assert IMG_ID in flagged and "looper" in flagged and "timeout" in flagged
    late = browser.find_element(By.ID, "late").text
    assert "bob" in late and "2 h 30 min" in late and "no feedback page yet" in late
    assert SCRIPT_ID in late    # shown as text, not run
    assert "median" in browser.find_element(By.ID, "timings").text


def test_browser_every_link_resolves(graded, browser):
    course, output = graded
    assert broken_links(browser, output / LESSON / "index.html") == []
    assert broken_links(browser, output / "index.html") == []
    open_page(browser, output / LESSON / "index.html")
    feedback = browser.execute_script(
        "return Array.from(document.querySelectorAll('a.feedback'), a => a.href)")
    pages = {Path(unquote(urlsplit(link).path)) for link in feedback}
    assert pages == {course.root / "feedback" / s / LESSON / f"{LESSON}.html"
                     for s in ("alice", "looper", IMG_ID, SCRIPT_ID)}
    browser.get(sorted(feedback)[0])   # a feedback page opens, with its lesson's name
    assert LESSON in browser.execute_script("return document.body.innerText")


def test_browser_link_check_finds_a_missing_page(tmp_path, browser):
    (tmp_path / "there.html").write_text("<title>there</title>here")
    page = tmp_path / "page.html"
    page.write_text('<a href="there.html">ok</a> <a href="missing.html">gone</a> '
                    '<a href="#nowhere">no anchor</a>')
    assert broken_links(browser, page) == [(tmp_path / "missing.html").as_uri(),
                                           page.as_uri() + "#nowhere"]
