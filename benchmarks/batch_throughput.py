"""Batch throughput: 50 submissions generated from the scheduling samples (correct,
buggy and hostile ones), graded with --jobs 1 and with --jobs 2; prints submissions per
minute and the speed-up (target: --jobs 2 at least 1.7x --jobs 1 on a 2-core machine).

Run: python benchmarks/batch_throughput.py [--max-examples N] [--count 50]
The default grades every test with the assignment's own max_examples. Figures are noisy
on a shared machine: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.course.batch import BatchOptions, run_batch  # noqa: E402
from grader.engine.assignment import find_assignment  # noqa: E402

SAMPLES = ROOT / "assignments" / "scheduling" / "samples"
HOSTILE = ROOT / "tests" / "hostile"
KINDS = (
    [ROOT / "reference" / "scheduling"]
    + sorted(p for p in SAMPLES.iterdir() if (p / "policies.py").is_file())
    + [HOSTILE / n for n in ("os_exit_0", "hostile_eq", "markup_injection", "exit_at_import")]
)


def make_class(folder: Path, count: int) -> None:
    for i in range(count):
        src = KINDS[i % len(KINDS)]
        (folder / f"student{i:03d}").mkdir(parents=True)
        shutil.copy(src / "policies.py", folder / f"student{i:03d}" / "policies.py")


def _children_cpu() -> float:
    """CPU seconds of finished child processes (the pool and the sandboxed workers)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--max-examples", type=int, default=None)
    p.add_argument("--count", type=int, default=50)
    args = p.parse_args()
    assignment = find_assignment("scheduling")
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "class"
        make_class(subs, args.count)
        times = {}
        for jobs in (1, 2):
            out = Path(tmp) / f"out{jobs}"
            load = os.getloadavg()[0]
            cpu_before = _children_cpu()
            started = time.perf_counter()
            record = run_batch(
                assignment,
                subs,
                out,
                BatchOptions(jobs=jobs, max_examples=args.max_examples, progress=False),
            )
            times[jobs] = time.perf_counter() - started
            cpu = _children_cpu() - cpu_before
            statuses = {e.status for e in record.entries}
            print(
                f"--jobs {jobs}: {args.count} submissions in {times[jobs]:.1f} s "
                f"({60 * args.count / times[jobs]:.0f}/min), statuses {sorted(statuses)}, "
                f"CPU {cpu:.0f} s = {cpu / times[jobs]:.2f} cores busy on average, "
                f"load average before {load:.2f}"
            )
        print(f"speed-up --jobs 2 / --jobs 1: {times[1] / times[2]:.2f}x (target >= 1.7x)")
        print(f"cores: {os.cpu_count()}; max_examples: {args.max_examples or 'the assignment'}s")


if __name__ == "__main__":
    main()
