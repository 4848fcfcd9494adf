#!/usr/bin/env python3
"""Mutation testing of the lessons' checks: generate the mutants of every solution cell
(``tools/mutate.py``), grade them through the real grader and print, per lesson, how many
were generated, graded, killed, declared equivalent (``tests/mutants_equivalent.toml``)
and survived, with the % killed of the non-equivalent ones, then every survivor.

    .venv/bin/python benchmarks/mutation_table.py [LESSON ...] [--limit N] [--seed S]
        [--group G] [--operator OP ...] [--workers W] [--no-control]

Grading every mutant of every lesson takes hours on 2 cores: name lessons (``01 02``) and
sample ``--limit N`` mutants per lesson (deterministic for a given ``--seed``).
``--group G`` lets up to G mutants of independent solution cells share one submission
(each judged by the tests that can depend on its cell; see ``tools.mutate``), ``--group 1``
grades one mutant per submission.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DLCOURSE_PROFILE"] = "fast"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from autograder.parallel import Limits  # noqa: E402
from tools import mutate  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lessons", nargs="*", help="lesson numbers or names (default: all)")
    parser.add_argument("--limit", type=int, help="grade at most N mutants per lesson")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample")
    parser.add_argument("--group", type=int, default=6,
                        help="at most G mutants (of independent cells) per submission")
    parser.add_argument("--operator", action="append", choices=mutate.OPERATORS)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-control", action="store_true",
                        help="do not grade the unmutated solution alongside")
    parser.add_argument("--cell-timeout", type=int, default=120)
    parser.add_argument("--notebook-timeout", type=int, default=900)
    args = parser.parse_args(argv)

    lessons = [mutate.lesson_folder(name) for name in args.lessons] or mutate.lessons()
    equivalent = mutate.load_equivalent()
    limits = Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout)
    generated, reports = {}, {}
    started = time.perf_counter()
    for lesson in lessons:
        mutants = mutate.lesson_mutants(lesson, operators=args.operator)
        generated[lesson] = len(mutants)
        chosen = mutate.sample(mutants, args.limit, args.seed)
        print(f"{lesson}: {len(mutants)} mutants, grading {len(chosen)}", flush=True)
        reports.update(mutate.grade_mutants(
            chosen, workers=args.workers, control=not args.no_control,
            equivalent=equivalent, group=args.group, limits=limits,
            progress=lambda r: print(f"  {r.status:<10} {r.mutant.id}", flush=True)))
        print(f"  {reports[lesson].submissions} submissions in "
              f"{reports[lesson].seconds:.0f} s", flush=True)
    print()
    print(mutate.table(reports, generated))
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
