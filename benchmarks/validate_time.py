"""Time of `osgrade validate` with mutation analysis: the reference and the template
graded with every test, then every mutant of the reference graded with the assignment's
[mutation] settings, in parallel over the cores. Prints the kill rate too.

Run: python benchmarks/validate_time.py [ASSIGNMENT] [--jobs N] [--mutants N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.course.mutation import analyse  # noqa: E402
from grader.engine.assignment import find_assignment  # noqa: E402
from grader.engine.grade import grade  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("assignment", nargs="?", default="scheduling")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--mutants", type=int, default=None)
    args = p.parse_args()
    a = find_assignment(args.assignment)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    ref = grade(a, a.reference_dir)
    tpl = grade(a, a.template_dir)
    checked = time.perf_counter()
    result = analyse(a, limit=args.mutants, jobs=args.jobs)
    done = time.perf_counter()
    counted = result.counted
    print(
        f"{a.name}: reference {ref.score:g}/{ref.max_score:g}, template {tpl.score:g}, "
        f"in {checked - started:.1f} s"
    )
    print(
        f"mutation: {len(result.verdicts)} of {result.total} mutants in {done - checked:.1f} s "
        f"with {args.jobs} jobs; kill rate {100 * result.kill_rate:.1f}% "
        f"({sum(v.killed for v in counted)} of {len(counted)} non-equivalent; "
        f"{len(result.verdicts) - len(counted)} marked equivalent)"
    )
    print(f"validate total: {done - started:.1f} s (load average before: {load:.2f})")


if __name__ == "__main__":
    main()
