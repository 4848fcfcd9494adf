"""Planning a grading run: a task for every submission that needs grading, the earlier
grade kept for every other one (an interrupted batch resumes where it stopped)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from autograder import notebooks, records, sandbox, settings
from autograder.course import Course, CourseError
from autograder.parallel import GradeTask, Limits
from autograder.release import template_gradebook

FAILURE_FLAGS = {"timeout", "crash", "memory", "processes"}


@dataclass
class GradingPlan:
    lesson: str
    students: list                              # everyone this run is about, in order
    tasks: list = field(default_factory=list)   # GradeTask per submission to grade
    kept: dict = field(default_factory=dict)    # student -> Outcome of an earlier run
    # student -> when submitted (timestamp.txt, UTC datetime) or None: the late penalty
    # is applied by the coordinator when it stores the grade (records.store)
    timestamps: dict = field(default_factory=dict)


MAX_SUBMISSION_BYTES = 64 * 2**20   # a submission's files beyond this are left out
MAX_SOURCE_BYTES = 256 * 2**20      # an assignment's own files travel with every task


def folder_files(folder: Path, ignore, limit: int, skip=()) -> dict:
    """``relative path -> bytes`` of the regular files below ``folder``, as nbgrader copies
    them: without its ``CourseDirectory.ignore`` patterns, nor symbolic links (a link in a
    submission must not make the grader read the instructor's files). Notebooks first;
    files past ``limit`` bytes in all are left out."""
    from fnmatch import fnmatch

    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if (any(path.is_symlink() for path in [path, *path.parents][:len(relative.parts)])
                or not path.is_file() or str(relative) in skip
                or any(fnmatch(part, pattern) for part in relative.parts for pattern in ignore)):
            continue
        found.append((path.suffix != ".ipynb", str(relative.as_posix()), path))
    files, total = {}, 0
    for _, name, path in sorted(found):
        size = path.stat().st_size
        if total + size <= limit:
            files[name] = path.read_bytes()
            total += size
    return files


def lesson_digest(course: Course, lesson: str) -> str:
    """Of the lesson's source files: changing a test (or a data file) changes every
    submission's grading digest, so the next run regrades everyone."""
    digest = hashlib.sha256()
    for name, raw in sorted(folder_files(course.source(lesson), course.coursedir.ignore,
                                         MAX_SOURCE_BYTES).items()):
        digest.update(name.encode() + b"\0" + raw)
    return digest.hexdigest()


def judge_plans(course: Course, lesson: str) -> dict:
    """What the judge runs for each notebook of ``lesson``, from the source notebooks.

    A test that rebinds or deletes a name the student's code defines (nbgrader's user
    guide checks ``sum_of_squares`` uses ``squares`` by deleting ``squares``) tests the
    kernel's namespace itself, which the judge only reads: such a test is left out of the
    plan, so it runs in the kernel as under plain nbgrader."""
    from autograder.judge_plan import plan

    plans = {}
    for path in sorted(course.source(lesson).glob("*.ipynb")):
        nb = notebooks.read(path)
        judged = plan(nb).to_json()
        for grade_id in kernel_tests(nb):
            judged["steps"].pop(grade_id, None)
        plans[path.stem] = judged
    return plans


def _student_names(nb) -> set:
    """Top-level names the solution cells bind (functions, classes, imports, variables)."""
    import ast

    names = set()
    for cell in nb.cells:
        if notebooks.cell_kind(cell) != "solution":
            continue
        try:
            tree = ast.parse(notebooks.executable_source(cell.source))
        except SyntaxError:
            continue
        for statement in tree.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(statement.name)
            elif isinstance(statement, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in statement.names)
            else:
                targets = {ast.Assign: lambda s: s.targets, ast.AugAssign: lambda s: [s.target],
                           ast.AnnAssign: lambda s: [s.target], ast.For: lambda s: [s.target],
                           }.get(type(statement), lambda s: [])(statement)
                names.update(n.id for t in targets for n in ast.walk(t)
                             if isinstance(n, ast.Name))
    return names


def kernel_tests(nb) -> set:
    """Grade ids of test cells that rebind or delete a name of the student's code."""
    import ast

    student = _student_names(nb)
    found = set()
    for cell in nb.cells:
        if notebooks.cell_kind(cell) != "test":
            continue
        try:
            tree = ast.parse(notebooks.executable_source(cell.source))
        except SyntaxError:
            continue
        bound = {n.id for n in ast.walk(tree)
                 if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))}
        if bound & student:
            found.add(notebooks.grade_id(cell))
    return found


def plan_grading(course: Course, lesson: str, students=None, limits: Limits | None = None,
                 force: bool = False, retry_failed: bool = False) -> GradingPlan:
    """Which submissions of ``lesson`` to grade.

    Args:
        students: only these students (default: everyone who submitted).
        force: regrade submissions already graded in their current version.
        retry_failed: also regrade unchanged submissions whose last grading failed (a
            crash, a timeout, a submission that could not be executed).
    """
    submitted = course.students(lesson)
    unknown = sorted(set(students or []) - set(submitted))
    if unknown:
        raise CourseError(f"no submission of {lesson} from {', '.join(unknown)} in "
                          f"{course.submissions}")
    chosen = [s for s in submitted if not students or s in students]
    result = GradingPlan(lesson, chosen)
    status = records.load_status(course).get(lesson, {})
    template, names = template_gradebook(course, lesson)
    plans, digest = judge_plans(course, lesson), lesson_digest(course, lesson)
    preload = sorted({m for path in sorted(course.source(lesson).glob("*.ipynb"))
                      for m in notebooks.imported_modules(notebooks.read(path))})
    # the assignment's other files (data, images), as nbgrader autograde copies them
    source_files = {name: raw for name, raw in folder_files(
        course.source(lesson), course.coursedir.ignore, MAX_SOURCE_BYTES).items()
        if not name.endswith(".ipynb")}
    course_settings = settings.autograde_settings(course.config)
    graded = set(records.graded_students(course, lesson))
    weak = sandbox.bwrap_path() is None   # accepted by the caller (grading.grade)
    limits = limits or course.limits()      # the course's nbgrader_config.py, else defaults
    for student in chosen:
        folder = course.submitted(student, lesson)
        result.timestamps[student] = course.timestamp(student, lesson)
        files = folder_files(folder, course.coursedir.ignore, MAX_SUBMISSION_BYTES,
                             skip=("timestamp.txt",))
        task = GradeTask(lesson, student, files, template, names, limits,
                         weak, plans, digest, preload, source_files, course_settings)
        previous = status.get(student, {})
        failed_before = (not previous.get("ok", True)
                         or bool(set(previous.get("flags", [])) & FAILURE_FLAGS))
        if (not force and student in graded and previous.get("digest") == task.digest
                and not (retry_failed and failed_before)):
            score, max_score = records.submission_score(course, lesson, student)
            previous = records.refresh_late_penalty(
                course, lesson, student, result.timestamps[student]) or previous
            result.kept[student] = records.Outcome(
                student, lesson, previous.get("ok", True), score, max_score,
                previous.get("reason", ""), previous.get("flags", []), resumed=True)
        else:
            result.tasks.append(task)
    return result
