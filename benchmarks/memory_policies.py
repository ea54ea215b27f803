"""Cost of the reference replacement policies (simulator included) and of grading them.

1. 1,000,000 accesses over 20,000 pages with 1,000 frames: LRU, FIFO, Clock (target
   < 3 s each) and OPT (target < 6 s), plus the other reference policies for comparison.
2. The same trace with 100 and with 10,000 frames: the cost per access must not grow with
   the number of frames (target: 10,000 frames within 1.5x of 100 frames).
3. Grading the reference with every hidden test (the assignment's own budget).
4. With ``--ostep PATH/paging-policy.py``: OSTEP's simulator on the same kind of trace
   (1,000,000 accesses; OPT on 20,000: it scans the future on every fault), for contrast,
   with its page-fault counts (LRU, FIFO and OPT's are unique, so they must equal ours);
   its times are wall seconds. Its code is not part of osgrade.

Run: python benchmarks/memory_policies.py [--ostep PATH] [--skip-grading]
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.simos.memory import Access, MemoryConfig, Process, Workload, simulate  # noqa: E402

PAGE = 4096
PAGES = 20_000


def load_reference():  # type: ignore[no-untyped-def]
    path = ROOT / "reference" / "memory" / "paging.py"
    spec = importlib.util.spec_from_file_location("reference_paging", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def page_trace(n: int, seed: int = 1) -> list[int]:
    """Pages with locality: working sets that drift, loops, scans and 10% uniform noise."""
    rng = random.Random(seed)
    out: list[int] = []
    while len(out) < n:
        kind = rng.random()
        base = rng.randrange(PAGES)
        if kind < 0.5:  # a working set of 50-3,000 pages for 5,000 accesses
            size = rng.randint(50, 3000)
            out += [(base + int(rng.random() ** 2 * size)) % PAGES for _ in range(5000)]
        elif kind < 0.7:  # a loop over 200-2,000 pages, 3 times
            size = rng.randint(200, 2000)
            out += [(base + j) % PAGES for j in range(size)] * 3
        elif kind < 0.9:  # a sequential scan of 1,000-5,000 pages
            out += [(base + j) % PAGES for j in range(rng.randint(1000, 5000))]
        else:
            out += [rng.randrange(PAGES) for _ in range(2000)]
    return out[:n]


def workload(pages: list[int], frames: int, seed: int = 2) -> Workload:
    rng = random.Random(seed)
    accesses = tuple(Access(0, p * PAGE + rng.randrange(PAGE), rng.random() < 0.3) for p in pages)
    return Workload(
        MemoryConfig(page_size=PAGE, address_bits=32, frames=frames),
        (Process(0, ((0, PAGES),)),),
        accesses,
    )


def make(ref: Any, name: str, w: Workload) -> Any:
    if name == "OPT":
        return ref.OPT(future=w.pages())
    if name == "RandomPolicy":
        return ref.RandomPolicy(seed=1)
    return getattr(ref, name)()


def timed(ref: Any, name: str, w: Workload) -> tuple[float, int]:
    """CPU seconds (this process; robust to a loaded machine) and page faults of one run."""
    t0 = time.process_time()
    policy = make(ref, name, w)  # OPT's future and next-use table are part of its cost
    run = simulate(w, policy)
    return time.process_time() - t0, run.faults


OSTEP_LIMIT_S = 600

TARGETS = {"LRU": 3.0, "FIFO": 3.0, "Clock": 3.0, "OPT": 6.0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ostep", type=Path, help="path to OSTEP's paging-policy.py")
    parser.add_argument("--skip-grading", action="store_true")
    args = parser.parse_args()
    ref = load_reference()
    pages = page_trace(1_000_000)
    print(f"trace: {len(pages):,} accesses over {len(set(pages)):,} distinct pages (of {PAGES:,})")
    print("times are CPU seconds of the simulation with the reference policy (time.process_time)")

    w = workload(pages, 1000)
    print("\n1,000 frames:")
    for name in ("LRU", "FIFO", "Clock", "OPT", "EnhancedClock", "LFU", "RandomPolicy"):
        took, faults = timed(ref, name, w)
        target = f"(target < {TARGETS[name]:g} s)" if name in TARGETS else ""
        print(f"  {name:<14} {took:6.2f} s  {faults:>8,} page faults  {target}")

    print("\nscaling with the number of frames (same trace):")
    small, big = workload(pages, 100), workload(pages, 10_000)
    for name in ("LRU", "FIFO", "Clock", "OPT", "LFU"):
        t_small, f_small = timed(ref, name, small)
        t_big, f_big = timed(ref, name, big)
        print(
            f"  {name:<6} 100 frames {t_small:5.2f} s ({f_small:>7,} faults), 10,000 frames "
            f"{t_big:5.2f} s ({f_big:>7,} faults): {t_big / t_small:.2f}x (target <= 1.5x)"
        )

    if not args.skip_grading:
        from grader.engine.assignment import find_assignment
        from grader.engine.grade import grade

        a = find_assignment("memory", ROOT / "assignments")
        t0, c0 = time.perf_counter(), time.process_time()
        report = grade(a, ROOT / "reference" / "memory")
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
        calls = sum(t.examples for t in report.tests)
        print(
            f"\ngrading the reference: {took:.1f} s wall ({cpu:.1f} s CPU in the grader, the worker "
            f"apart), score {report.score:g}/{report.max_score:g}, "
            f"{len(report.tests)} tests, {calls} calls into the worker"
        )

    if args.ostep:
        ostep(args.ostep, pages)


def ostep(script: Path, pages: list[int]) -> None:
    """OSTEP's paging-policy.py (lists, O(frames) per access; OPT scans the future)."""
    print(f"\nOSTEP {script.name} (not part of osgrade):")
    with tempfile.TemporaryDirectory() as tmp:
        for policy, n in (("LRU", 1_000_000), ("FIFO", 1_000_000), ("OPT", 20_000)):
            trace = Path(tmp) / f"trace-{n}.txt"
            trace.write_text("\n".join(map(str, pages[:n])) + "\n")
            cmd = [
                sys.executable,
                str(script),
                "-f",
                str(trace),
                "-p",
                policy,
                "-C",
                "1000",
                "-c",
                "-N",
            ]
            t0 = time.perf_counter()
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=OSTEP_LIMIT_S)
                stats = next((ln for ln in done.stdout.splitlines() if "FINALSTATS" in ln), "")
            except subprocess.TimeoutExpired:
                stats = f"did not finish within {OSTEP_LIMIT_S} s (stopped)"
            took = time.perf_counter() - t0  # wall: a child process
            ours_w = workload(pages[:n], 1000)
            ours, faults = timed(load_reference(), policy, ours_w)
            theirs = stats.split("misses")[1].split()[0] if "misses" in stats else None
            same = "the same" if theirs == str(faults) else "DIFFERENT" if theirs else stats
            print(
                f"  {policy:<5} {n:>9,} accesses, 1,000 frames: {took:7.1f} s wall "
                f"(osgrade's reference: {ours:.2f} s CPU); page faults: OSTEP {theirs or '-'}, "
                f"osgrade {faults} ({same})"
            )


if __name__ == "__main__":
    main()
