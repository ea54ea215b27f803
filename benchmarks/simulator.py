"""Simulator cost for 10k and 100k jobs under Round Robin and MLFQ (reference policies).

Prints seconds per run and the 100k/10k ratio (linear-ish growth expected: < 15).
Run: python benchmarks/simulator.py
"""

from __future__ import annotations

import importlib.util
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.simos.scheduling import Job, simulate  # noqa: E402


def load_reference():  # type: ignore[no-untyped-def]
    path = ROOT / "reference" / "scheduling" / "policies.py"
    spec = importlib.util.spec_from_file_location("reference_policies", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def workload(n: int, seed: int = 1) -> list[Job]:
    rng = random.Random(seed)
    jobs, t = [], 0
    for i in range(n):
        t += rng.randint(0, 6)
        k = rng.randint(1, 3)
        bursts = tuple(rng.randint(1, 20) for _ in range(2 * k - 1))
        jobs.append(Job(i, t, bursts, rng.randint(0, 9)))
    return jobs


def main() -> None:
    ref = load_reference()
    policies = {
        "RoundRobin(q=4)": lambda: ref.RoundRobin(quantum=4),
        "MLFQ(3 levels, boost 500)": lambda: ref.MLFQ(
            quanta=[2, 4, 8], allotments=[1, 2, 4], boost=500
        ),
    }
    for name, make in policies.items():
        times = {}
        for n in (10_000, 100_000):
            jobs = workload(n)
            t0 = time.perf_counter()
            trace = simulate(jobs, make(), switch_cost=1)
            times[n] = time.perf_counter() - t0
            print(f"{name:<28} {n:>7} jobs: {times[n]:7.3f} s  ({len(trace.segments)} segments)")
        print(f"{name:<28} ratio 100k/10k: {times[100_000] / times[10_000]:.1f} (target < 15)")


if __name__ == "__main__":
    main()
