"""The deadlock reference against brute-force oracles, the handout's worked examples, and
the hidden properties' own oracles (which the validity tests rely on) against brute force.

The oracles here search exhaustively (every subset of finished processes, every
permutation of nodes, the held set recomputed from scratch at every event), so they share
no code and no idea with the reference's worklist, depth-first search or Johnson's
algorithm.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, given, settings

from grader.simos.deadlock import Decision, LockTrace, SystemState, WaitForGraph

ROOT = Path(__file__).resolve().parents[1]


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


REF = load(ROOT / "reference" / "deadlock" / "deadlock.py", "deadlock_test_reference")
PROPS = load(ROOT / "assignments" / "deadlock" / "properties.py", "deadlock_test_props")

SMALL = settings(
    max_examples=150,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

# ----------------------------------------------------------------------------- brute force


def can_finish(available: tuple[int, ...], allocation: Any, demand: Any) -> frozenset[int]:
    """The largest set of processes that can all finish: search over every reachable set."""

    @cache
    def grow(done: frozenset[int]) -> frozenset[int]:
        work = [a + sum(allocation[i][j] for i in done) for j, a in enumerate(available)]
        best = done
        for i in range(len(allocation)):
            if i not in done and all(d <= w for d, w in zip(demand[i], work, strict=True)):
                got = grow(done | {i})
                best = got if len(got) > len(best) else best
        return best

    return grow(frozenset())


def follows_lowest_first(state: SystemState, demand: Any, order: list[int]) -> bool:
    """Each step runs the lowest-numbered unfinished process whose demand fits."""
    work = list(state.available)
    done: set[int] = set()
    for p in order:
        fitting = [
            i
            for i in range(state.processes)
            if i not in done and all(d <= w for d, w in zip(demand[i], work, strict=True))
        ]
        if not fitting or fitting[0] != p:
            return False
        done.add(p)
        work = [w + a for w, a in zip(work, state.allocation[p], strict=True)]
    return not any(
        i not in done and all(d <= w for d, w in zip(demand[i], work, strict=True))
        for i in range(state.processes)
    )


def all_cycles(n: int, edges: set[tuple[int, int]]) -> set[tuple[int, ...]]:
    """Every elementary cycle: every simple path from each node s over nodes > s, back to s."""
    succ: dict[int, list[int]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    out = set()
    for s in range(n):
        todo = [(s,)]
        while todo:
            path = todo.pop()
            for nxt in succ.get(path[-1], []):
                if nxt == s:
                    out.add(path)
                elif nxt > s and nxt not in path:
                    todo.append((*path, nxt))
    return out


def first_back_edge_cycle(graph: WaitForGraph) -> list[int] | None:
    """The handout's rule, written as the obvious recursive search (small graphs only)."""
    colour = [0] * graph.n
    path: list[int] = []

    def visit(u: int) -> list[int] | None:
        colour[u] = 1
        path.append(u)
        for v in graph.waits_for(u):
            if colour[v] == 1:
                return path[path.index(v) :]
            if colour[v] == 0 and (found := visit(v)) is not None:
                return found
        colour[u] = 2
        path.pop()
        return None

    for root in range(graph.n):
        if colour[root] == 0 and (found := visit(root)) is not None:
            return found
    return None


def held_dependencies(trace: LockTrace) -> dict[tuple[str, str], tuple[str, str, str]]:
    """Each dependency and its first code path: the held set recomputed at every event."""
    out: dict[tuple[str, str], tuple[str, str, str]] = {}
    events = trace.events
    for k, e in enumerate(events):
        if e.op != "acquire":
            continue
        for a in {x.lock for x in events[:k] if x.thread == e.thread}:
            mine = [x for x in events[:k] if x.thread == e.thread and x.lock == a]
            if mine[-1].op == "acquire":
                out.setdefault((a, e.lock), (e.thread, mine[-1].site, e.site))
    return out


def rotate(c: list[Any]) -> tuple[Any, ...]:
    k = c.index(min(c))
    return tuple(c[k:] + c[:k])


# ----------------------------------------------------------------------------- properties


@SMALL
@given(PROPS.detection_states)
def test_detect_matches_brute_force_and_the_tie_break(data: dict[str, Any]) -> None:
    s = SystemState.from_data(data)
    got = REF.detect(s)
    finishers = can_finish(s.available, s.allocation, s.request)
    assert set(got.order) == finishers
    assert sorted(got.deadlocked) == sorted(set(range(s.processes)) - finishers)
    assert follows_lowest_first(s, s.request, list(got.order))


@SMALL
@given(PROPS.banker_states)
def test_safe_sequence_matches_brute_force(data: dict[str, Any]) -> None:
    s = SystemState.from_data(data)
    got = REF.safe_sequence(s)
    safe = len(can_finish(s.available, s.allocation, s.need)) == s.processes
    assert (got is not None) == safe
    if got is not None:
        assert sorted(got) == list(range(s.processes))
        assert follows_lowest_first(s, s.need, got)


@SMALL
@given(PROPS.banker_requests())
def test_request_decision_follows_the_three_checks(data: dict[str, Any]) -> None:
    s = SystemState.from_data(data["state"])
    p, r = data["process"], data["request"]
    got = REF.request_decision(s, p, tuple(r))
    need = s.need[p]
    if any(x > y for x, y in zip(r, need, strict=True)):
        assert got is Decision.EXCEEDS_CLAIM
    elif any(x > y for x, y in zip(r, s.available, strict=True)):
        assert got is Decision.WAIT
    else:
        alloc = [list(row) for row in s.allocation]
        alloc[p] = [a + x for a, x in zip(alloc[p], r, strict=True)]
        after = SystemState.from_total(s.total, alloc, maximum=s.maximum)
        safe = len(can_finish(after.available, after.allocation, after.need)) == s.processes
        assert got is (Decision.GRANT if safe else Decision.UNSAFE)
    assert got.value in PROPS.justified(s, p, r)  # the validity tests' oracle agrees


@SMALL
@given(PROPS.wait_for_graphs())
def test_find_cycle_matches_brute_force_and_the_tie_break(data: dict[str, Any]) -> None:
    g = WaitForGraph.from_data(data)
    got = REF.find_cycle(g)
    cycles = all_cycles(g.n, set(g.edges()))
    assert (got is not None) == bool(cycles)
    if got is not None:
        assert rotate(got) in cycles
        assert got == first_back_edge_cycle(g)
    oracle = PROPS.has_cycle(g.n, data["edges"])  # the validity tests' oracle agrees too
    assert (oracle is not None) == bool(cycles)
    if oracle is not None:
        assert rotate(oracle) in cycles


@SMALL
@given(PROPS.lock_traces())
def test_lock_order_matches_brute_force(data: dict[str, Any]) -> None:
    trace = LockTrace.from_data(data)
    expected = held_dependencies(trace)
    got = REF.lock_dependencies(trace)
    assert {(d.held, d.acquired): (d.thread, d.held_at, d.acquired_at) for d in got} == expected
    assert len(got) == len(expected)
    locks = sorted({x for e in expected for x in e})
    index = {x: k for k, x in enumerate(locks)}
    cycles = all_cycles(len(locks), {(index[a], index[b]) for a, b in expected})
    reported = [rotate([index[d.held] for d in c]) for c in REF.potential_deadlocks(trace)]
    assert sorted(reported) == sorted(cycles)
    for c in REF.potential_deadlocks(trace):
        for k, d in enumerate(c):
            assert d.acquired == c[(k + 1) % len(c)].held
            assert expected[(d.held, d.acquired)] == (d.thread, d.held_at, d.acquired_at)
    # the validity tests' oracles agree with these
    paths, first = PROPS.lock_edges(data["events"])
    assert first == expected
    assert PROPS.lock_cycles(set(paths)) == {tuple(locks[i] for i in c) for c in cycles}


def test_generated_inputs_reach_the_interesting_cases() -> None:
    """The strategies do produce what the samples' bugs need (checked on 200 draws)."""
    seen: dict[str, int] = dict.fromkeys(
        [
            "deadlock",
            "order-not-by-index",
            "unsafe",
            "self-loop-only",
            "root-off-cycle",
            "nested",
            "cycle-of-3",
        ],
        0,
    )

    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        PROPS.detection_states, PROPS.banker_states, PROPS.wait_for_graphs(), PROPS.lock_traces()
    )
    def draw(d: dict[str, Any], b: dict[str, Any], g: dict[str, Any], t: dict[str, Any]) -> None:
        det = REF.detect(SystemState.from_data(d))
        seen["deadlock"] += bool(det.deadlocked)
        seen["order-not-by-index"] += list(det.order) != sorted(det.order)
        seen["unsafe"] += REF.safe_sequence(SystemState.from_data(b)) is None
        graph = WaitForGraph.from_data(g)
        cycles = all_cycles(graph.n, set(graph.edges()))
        seen["self-loop-only"] += bool(cycles) and all(len(c) == 1 for c in cycles)
        found = REF.find_cycle(graph)
        seen["root-off-cycle"] += found is not None and 0 not in found and any(graph.waits_for(0))
        trace = LockTrace.from_data(t)
        deps = held_dependencies(trace)
        seen["nested"] += any((a, c) in deps for a, b in deps for b2, c in deps if b2 == b)
        seen["cycle-of-3"] += any(len(c) >= 3 for c in REF.potential_deadlocks(trace))

    draw()
    assert all(v >= 10 for v in seen.values()), seen


# ----------------------------------------------------------------------------- the handout's examples


def test_handout_examples() -> None:
    s = SystemState(
        available=(0, 0), allocation=((1, 0), (0, 1), (1, 1)), request=((0, 1), (1, 0), (0, 0))
    )
    assert REF.detect(s) == REF.Detection(deadlocked=[], order=[2, 0, 1])
    s = SystemState(
        available=(0, 0), allocation=((1, 0), (0, 1), (0, 0)), request=((0, 1), (1, 0), (0, 0))
    )
    assert REF.detect(s) == REF.Detection(deadlocked=[0, 1], order=[2])
    book = SystemState.from_data(PROPS.BANKER_BOOK)
    assert REF.safe_sequence(book) == [1, 3, 0, 2, 4]
    assert REF.request_decision(book, 1, (1, 0, 2)) is Decision.GRANT
    assert REF.request_decision(book, 0, (8, 0, 0)) is Decision.EXCEEDS_CLAIM
    assert REF.request_decision(book, 0, (4, 0, 0)) is Decision.WAIT
    assert REF.request_decision(book, 4, (3, 3, 0)) is Decision.UNSAFE
    assert REF.find_cycle(WaitForGraph.from_edges(4, [(0, 1), (1, 2), (2, 1), (3, 3)])) == [1, 2]
    assert REF.find_cycle(WaitForGraph.from_edges(3, [(0, 1), (1, 2)])) is None
    assert REF.find_cycle(WaitForGraph.from_edges(3, [(2, 2)])) == [2]
    t = LockTrace.from_tuples(
        [
            ("T1", "acquire", "A", "a.c:1"),
            ("T1", "acquire", "B", "a.c:2"),
            ("T1", "acquire", "C", "a.c:3"),
            ("T1", "release", "A", "a.c:4"),
            ("T1", "acquire", "D", "a.c:5"),
        ]
    )
    assert sorted((d.held, d.acquired) for d in REF.lock_dependencies(t)) == [
        ("A", "B"),
        ("A", "C"),
        ("B", "C"),
        ("B", "D"),
        ("C", "D"),
    ]
    t = LockTrace.from_tuples(
        [("T1", "acquire", x, f"t1:{k}") for k, x in enumerate("ABC")]
        + [("T1", "release", x, "t1:r") for x in "CBA"]
        + [("T2", "acquire", "C", "t2:1"), ("T2", "acquire", "A", "t2:2")]
    )
    cycles = sorted([d.held + d.acquired for d in c] for c in REF.potential_deadlocks(t))
    assert cycles == [["AB", "BC", "CA"], ["AC", "CA"]]


def test_detection_textbook_example() -> None:
    s = SystemState.from_data(PROPS.DETECTION_BOOK)
    got = REF.detect(s)
    assert list(got.deadlocked) == [1, 2, 3, 4] and list(got.order) == [0]


def test_long_chains_need_no_recursion() -> None:
    n = 50_000
    path = WaitForGraph.from_edges(n, [(i, i + 1) for i in range(n - 1)] + [(n - 1, n // 2)])
    assert REF.find_cycle(path) == list(range(n // 2, n))
    deep = LockTrace.from_tuples(
        [("T", "acquire", f"L{k}", "s") for k in range(300)] + [("T", "release", "L0", "s")]
    )
    assert len(REF.lock_dependencies(deep)) == 300 * 299 // 2
