"""Cost of the deadlock reference at scale, and of grading it.

* detection on 2,000 processes x 20 resource types: the reference's worklist against the
  textbook loop (rescan every process after each finish), on a state where the processes
  finish in reverse index order (the textbook loop's worst case) and on a random one;
* cycle finding on 100,000-node wait-for graphs (a long chain closing into a cycle at its
  far end, and a DAG with no cycle, so the whole graph is searched);
* the lock-order checker on a 1,000,000-event trace (64 threads, 200 locks taken mostly
  in a global order, a few inversions planted);
* grading the reference with every hidden test (the assignment's own budget), with the
  time of each part 5 test (the dining philosophers under the sync explorer: per scenario,
  the bounded search, then the random and PCT schedules).

Targets: detection < 1 s, cycle finding < 1 s, lock order < 5 s.
Run: python benchmarks/deadlock_algorithms.py
"""

from __future__ import annotations

import importlib.util
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.simos.deadlock import LockEvent, LockTrace, SystemState, WaitForGraph  # noqa: E402


def load_reference() -> Any:
    path = ROOT / "reference" / "deadlock" / "deadlock.py"
    spec = importlib.util.spec_from_file_location("reference_deadlock", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def textbook_detect(state: SystemState) -> list[int]:
    """The loop of the textbooks: after each finish, scan every process again from P0."""
    request = state.request
    assert request is not None
    work = list(state.available)
    done = [False] * state.processes
    order = []
    progress = True
    while progress:
        progress = False
        for i in range(state.processes):
            if not done[i] and all(r <= w for r, w in zip(request[i], work, strict=True)):
                work = [w + a for w, a in zip(work, state.allocation[i], strict=True)]
                done[i] = True
                order.append(i)
                progress = True
                break  # lowest index first: start the scan again
    return order


def reverse_chain(n: int, m: int, seed: int = 1) -> SystemState:
    """Each process needs exactly what the one above it releases: they finish n-1, ..., 0."""
    rng = random.Random(seed)
    available = [rng.randint(0, 3) for _ in range(m)]
    work = list(available)
    allocation = [[0] * m for _ in range(n)]
    request = [[0] * m for _ in range(n)]
    tight = 0
    for i in reversed(range(n)):
        request[i] = [rng.randint(0, w) for w in work]
        request[i][tight] = work[tight]
        allocation[i] = [rng.randint(0, 2) for _ in range(m)]
        tight = rng.randrange(m)
        allocation[i][tight] = max(1, allocation[i][tight])
        work = [w + a for w, a in zip(work, allocation[i], strict=True)]
    return SystemState(tuple(available), tuple(map(tuple, allocation)), tuple(map(tuple, request)))


def random_state(n: int, m: int, seed: int = 2) -> SystemState:
    rng = random.Random(seed)
    allocation = [[rng.randint(0, 3) for _ in range(m)] for _ in range(n)]
    available = [rng.randint(0, 6) for _ in range(m)]
    total = [available[j] + sum(r[j] for r in allocation) for j in range(m)]
    request = [
        [
            min(rng.randint(0, 4) if rng.random() < 0.05 else 0, total[j] - allocation[i][j])
            for j in range(m)
        ]
        for i in range(n)
    ]
    return SystemState(tuple(available), tuple(map(tuple, allocation)), tuple(map(tuple, request)))


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def bench_detection(ref: Any) -> None:
    for label, state in (
        ("reverse-order chain", reverse_chain(2000, 20)),
        ("random state", random_state(2000, 20)),
    ):
        t_ref, det = timed(ref.detect, state)
        t_book, order = timed(textbook_detect, state)
        assert list(det.order) == order, "the two loops disagree"
        print(
            f"detect 2,000 x 20, {label:<20} worklist {t_ref:6.3f} s   textbook loop {t_book:7.3f} s"
            f"   ({len(det.deadlocked)} deadlocked; target < 1 s)"
        )
    chain = reverse_chain(2000, 20)
    assert chain.request is not None
    claims = SystemState(
        chain.available,
        chain.allocation,
        maximum=tuple(
            tuple(a + r for a, r in zip(ar, rr, strict=True))
            for ar, rr in zip(chain.allocation, chain.request, strict=True)
        ),
    )
    t_safe, seq = timed(ref.safe_sequence, claims)
    print(
        f"safe_sequence 2,000 x 20, the chain as claims    {t_safe:6.3f} s   (safe: {seq is not None})"
    )


def bench_cycles(ref: Any) -> None:
    n = 100_000
    rng = random.Random(3)
    chain = [(i, i + 1) for i in range(n - 1)] + [(n - 1, n // 2)]
    # forward shortcuts: more edges, still the one cycle, and a search 100,000 deep
    chain += [(a, rng.randrange(a + 1, n)) for a in (rng.randrange(n - 1) for _ in range(n))]
    perm = list(range(n))
    rng.shuffle(perm)
    pos = {p: k for k, p in enumerate(perm)}
    dag = [
        (a, b)
        for a, b in ((rng.randrange(n), rng.randrange(n)) for _ in range(2 * n))
        if pos[a] < pos[b]
    ]
    for label, edges in (("long chain into a cycle", chain), ("DAG, no cycle", dag)):
        graph = WaitForGraph.from_edges(n, edges)
        t, cycle = timed(ref.find_cycle, graph)
        found = f"cycle of {len(cycle)}" if cycle else "no cycle"
        print(
            f"find_cycle 100,000 nodes, {len(edges):,} edges, {label:<24} {t:6.3f} s   ({found}; target < 1 s)"
        )


def lock_trace(events: int, threads: int = 64, locks: int = 200, seed: int = 4) -> LockTrace:
    """A kernel-like run: 40 subsystems of 5 locks each. A critical section takes 1-4 locks
    of one subsystem in increasing order (its lock hierarchy), sometimes after one lock of
    the subsystem above it, and releases them in any order; threads interleave under
    mutual exclusion. One section in 20,000 takes its first two locks the wrong way round.
    """
    rng = random.Random(seed)
    names = [f"L{k:03d}" for k in range(locks)]
    groups = locks // 5

    def section(t: int) -> list[tuple[str, str, str]]:
        g = rng.randrange(groups)
        chosen = sorted(rng.sample(range(5 * g, 5 * g + 5), rng.randint(1, 4)))
        if g > 0 and rng.random() < 0.2:
            chosen.insert(0, 5 * (g - 1) + rng.randrange(5))
        if len(chosen) >= 2 and rng.random() < 1 / 20_000:
            chosen[0], chosen[1] = chosen[1], chosen[0]  # an inversion
        ops = [("acquire", names[c], f"t{t}.c:{c}") for c in chosen]
        rel = list(chosen)
        rng.shuffle(rel)
        return ops + [("release", names[c], f"t{t}.c:{c + 1000}") for c in rel]

    queues: list[list[tuple[str, str, str]]] = [section(t) for t in range(threads)]
    holder: dict[str, int] = {}
    held: list[list[str]] = [[] for _ in range(threads)]
    out: list[LockEvent] = []
    t = 0
    stalled = 0
    while len(out) < events:
        t = (t + rng.randint(0, 3)) % threads  # mostly the same thread goes on
        q = queues[t]
        op, lock, site = q[0]
        if op == "acquire" and lock in holder:
            stalled += 1
            if stalled > 4 * threads and held[t]:
                # Everyone is stuck (an inversion deadlocked the run): this thread backs
                # off, releasing what it holds, and starts a new section.
                for x in reversed(held[t]):
                    del holder[x]
                    out.append(LockEvent(f"T{t}", "release", x, f"t{t}.c:backoff"))
                held[t] = []
                queues[t] = section(t)
                stalled = 0
            continue
        stalled = 0
        if op == "acquire":
            holder[lock] = t
            held[t].append(lock)
        else:
            del holder[lock]
            held[t].remove(lock)
        out.append(LockEvent(f"T{t}", op, lock, site))
        q.pop(0)
        if not q:
            queues[t] = section(t)
    return LockTrace(tuple(out))


def bench_lock_order(ref: Any) -> None:
    t_build, trace = timed(lock_trace, 1_000_000)
    t_check, _ = timed(LockTrace, trace.events)
    t_deps, deps = timed(ref.lock_dependencies, trace)
    t_cycles, cycles = timed(ref.potential_deadlocks, trace)
    print(
        f"lock order 1,000,000 events: lock_dependencies {t_deps:6.3f} s ({len(deps):,} dependencies), "
        f"potential_deadlocks {t_cycles:6.3f} s ({len(cycles)} cycles; target < 5 s)"
    )
    print(f"  (generating the trace {t_build:.1f} s, validating it as a LockTrace {t_check:.2f} s)")


def bench_grading() -> None:
    from grader.engine.assignment import find_assignment
    from grader.engine.grade import grade

    a = find_assignment("deadlock", ROOT / "assignments")
    t, report = timed(grade, a, ROOT / "reference" / "deadlock")
    calls = sum(t.examples for t in report.tests)
    print(
        f"grade reference (every hidden test, {a.spec.hypothesis.max_examples} examples each; "
        f"part 5 at its own) {t:6.2f} s   score {report.score:g}/{report.max_score:g}, {calls} calls"
    )
    for r in report.tests:
        if r.id.startswith("philosophers-"):  # part 5: the explorer's searches, in the worker
            print(f"  {r.id:28s} {r.duration_s:6.2f} s  ({r.examples} calls)")


def main() -> None:
    ref = load_reference()
    bench_detection(ref)
    bench_cycles(ref)
    bench_lock_order(ref)
    bench_grading()


if __name__ == "__main__":
    main()
