"""Inputs of the deadlock properties: Hypothesis strategies that sit near the boundary.

States are built along a finishing order with one resource type exactly tight at each
step (what a process waits for is exactly what is free), then often made one unit short;
wait-for graphs are DAGs with at most one closing edge, lone self-loops, "lassos" whose
search root is off the cycle, random graphs and graphs from single-instance
resource-allocation graphs; lock traces are nested critical sections interleaved under
mutual exclusion, with the classic shapes (ABBA, nested holds, out-of-order release, a
near miss, a three-lock ring, a gate lock) mixed in. Every input is plain data (the
``to_data`` form of the model), so it can be shown and replayed.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from grader.simos.deadlock import AllocationGraph, SystemState, WaitForGraph

Data = dict[str, Any]

# ============================================================================= inputs: states

units = st.integers(0, 3)


@st.composite
def resource_states(
    draw: st.DrawFn, *, claims: bool = False, max_n: int = 6, max_m: int = 3
) -> Data:
    """(available, allocation, demand) as a state: demand is the request matrix, or with
    ``claims`` the need (maximum = allocation + need).

    Shapes: random; a chain (processes finish along a drawn order, one resource type
    exactly tight at each step); a chain followed by a knot of processes that each want
    what the next holds. Then often one unit short: one free unit fewer, or one unit
    more demanded, so that the state sits right on the boundary.
    """
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(1, max_m))
    shape = draw(st.sampled_from(["chain", "chain", "random", "knot"]))
    available = [draw(units) for _ in range(m)]
    allocation = [[0] * m for _ in range(n)]
    demand = [[0] * m for _ in range(n)]
    if shape == "random":
        allocation = [[draw(units) for _ in range(m)] for _ in range(n)]
        total = [available[j] + sum(r[j] for r in allocation) for j in range(m)]
        demand = [
            [min(draw(units), total[j] - allocation[i][j]) for j in range(m)] for i in range(n)
        ]
    else:
        order = list(draw(st.permutations(range(n))))
        knot = draw(st.integers(2, n)) if shape == "knot" and n >= 2 else 0
        chain, stuck = order[: n - knot], order[n - knot :]
        work = list(available)
        tight = draw(st.integers(0, m - 1))
        for i in chain:
            demand[i] = [draw(st.integers(0, w)) for w in work]
            demand[i][tight] = work[tight]  # exactly what is free: the boundary
            allocation[i] = [draw(units) for _ in range(m)]
            # What it releases is what the next one waits for, so the order is forced.
            tight = draw(st.integers(0, m - 1))
            allocation[i][tight] = max(1, allocation[i][tight])
            work = [w + a for w, a in zip(work, allocation[i], strict=True)]
        if stuck:
            kinds = [draw(st.integers(0, m - 1)) for _ in stuck]
            for k, i in enumerate(stuck):
                allocation[i] = [draw(units) for _ in range(m)]
                allocation[i][kinds[k]] = max(1, allocation[i][kinds[k]])
            total = [work[j] + sum(allocation[i][j] for i in stuck) for j in range(m)]
            for k, i in enumerate(stuck):
                prev = stuck[k - 1]  # i wants part of what the one before it in the knot holds
                j = kinds[k - 1]
                demand[i] = [min(draw(units), total[x] - allocation[i][x]) for x in range(m)]
                demand[i][j] = work[j] + draw(st.integers(1, allocation[prev][j]))
    total = [available[j] + sum(r[j] for r in allocation) for j in range(m)]
    tweak = draw(st.sampled_from(["none", "none", "short", "more"]))
    if tweak == "short" and any(available):
        j = draw(st.sampled_from([j for j in range(m) if available[j]]))
        available[j] -= 1
        total[j] -= 1
    elif tweak == "more":
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, m - 1))
        demand[i][j] += 1
    demand = [[min(demand[i][j], total[j] - allocation[i][j]) for j in range(m)] for i in range(n)]
    state: Data = {
        "available": available,
        "allocation": allocation,
        "request": None,
        "maximum": None,
    }
    if claims:
        state["maximum"] = [
            [a + d for a, d in zip(ar, dr, strict=True)]
            for ar, dr in zip(allocation, demand, strict=True)
        ]
    else:
        state["request"] = demand
    return state


# Textbook states (Silberschatz et al., Operating System Concepts, ch. 8).
BANKER_BOOK: Data = {
    "available": [3, 3, 2],
    "allocation": [[0, 1, 0], [2, 0, 0], [3, 0, 2], [2, 1, 1], [0, 0, 2]],
    "request": None,
    "maximum": [[7, 5, 3], [3, 2, 2], [9, 0, 2], [2, 2, 2], [4, 3, 3]],
}
DETECTION_BOOK: Data = {
    "available": [0, 0, 0],
    "allocation": [[0, 1, 0], [2, 0, 0], [3, 0, 3], [2, 1, 1], [0, 0, 2]],
    "request": [[0, 0, 0], [2, 0, 2], [0, 0, 1], [1, 0, 0], [0, 0, 2]],
    "maximum": None,
}

detection_states = st.one_of(st.just(DETECTION_BOOK), resource_states())
banker_states = st.one_of(st.just(BANKER_BOOK), resource_states(claims=True))


@st.composite
def banker_requests(draw: st.DrawFn) -> Data:
    """A state with claims, a process and a request: within limits, the whole need, one
    unit over the need, one unit over what is free, or nothing."""
    state = draw(banker_states)
    s = SystemState.from_data(state)
    n, m = s.processes, s.resources
    p = draw(st.integers(0, n - 1))
    need, free = s.need[p], s.available
    kind = draw(
        st.sampled_from(["within", "within", "full", "over-need", "over-free", "over-free", "zero"])
    )
    if kind == "zero":
        request = [0] * m
    elif kind == "full":
        request = [min(a, b) for a, b in zip(need, free, strict=True)]
    else:
        request = [draw(st.integers(0, min(a, b))) for a, b in zip(need, free, strict=True)]
        j = draw(st.integers(0, m - 1))
        if kind == "over-need":
            request[j] = need[j] + draw(st.integers(1, 2))
        elif kind == "over-free":
            request[j] = free[j] + 1
    return {"state": state, "process": p, "request": request}


# ============================================================================= inputs: graphs


@st.composite
def wait_for_graphs(draw: st.DrawFn, max_n: int = 8) -> Data:
    """A wait-for graph: random; from a single-instance resource-allocation graph; or a DAG
    with at most one edge that closes a cycle, or with a self-loop."""
    shape = draw(st.sampled_from(["dag+1", "random", "lasso", "rag", "self-loop", "two-cycles"]))
    n = draw(st.integers(1, max_n))
    node = st.integers(0, n - 1)
    if shape == "two-cycles":
        # Two cycles (one may be a self-loop): which one the search meets first is the rule.
        edges = []
        for _ in range(2):
            ring = draw(st.lists(node, unique=True, min_size=1, max_size=3))
            edges += [(ring[k], ring[(k + 1) % len(ring)]) for k in range(len(ring))]
        edges += draw(st.lists(st.tuples(node, node), max_size=n // 2))
        return WaitForGraph.from_edges(n, edges).to_data()
    if shape == "lasso" and n >= 2:
        # P0 leads through a stem into a cycle it is not on: the search starts off the cycle.
        rest = list(draw(st.permutations(range(1, n))))
        stem = draw(st.integers(0, len(rest) - 1))
        walk = [0, *rest]
        loop = walk[stem + 1 :]
        edges = [*itertools.pairwise(walk), (loop[-1], loop[0])]
        edges += draw(st.lists(st.tuples(node, node), max_size=n // 2))
        return WaitForGraph.from_edges(n, edges).to_data()
    if shape == "random":
        edges = draw(st.lists(st.tuples(node, node), max_size=2 * n))
        if draw(st.booleans()):
            edges = [(a, b) for a, b in edges if a != b]
    elif shape == "rag":
        resources = draw(st.integers(1, max_n))
        holder = [draw(st.one_of(st.none(), node)) for _ in range(resources)]
        held = [r for r, h in enumerate(holder) if h is not None]
        waiting = [
            tuple(draw(st.lists(st.sampled_from(held), unique=True, max_size=2))) if held else ()
            for _ in range(n)
        ]
        rag = AllocationGraph(tuple(holder), tuple(waiting))
        return rag.wait_for().to_data()
    else:
        order = list(draw(st.permutations(range(n))))
        pos = {p: k for k, p in enumerate(order)}
        edges = [
            (a, b)
            for a, b in draw(st.lists(st.tuples(node, node), max_size=2 * n))
            if pos[a] < pos[b]
        ]
        if shape == "self-loop":
            p = draw(node)
            edges.append((p, p))
        elif n >= 2 and draw(st.booleans()):
            # A path forward through the DAG, then one edge back: exactly one more cycle.
            on = sorted(draw(st.sets(node, min_size=2, max_size=n)), key=pos.__getitem__)
            edges += list(itertools.pairwise(on))
            edges.append((on[-1], on[0]))
    return WaitForGraph.from_edges(n, edges).to_data()


# ============================================================================= inputs: lock traces

LOCKS = ("A", "B", "C", "D", "E")


@st.composite
def _section(draw: st.DrawFn, pool: Sequence[str]) -> list[tuple[str, str]]:
    """One critical section: nested acquisitions of distinct locks, released in any order
    (sometimes one before the next is taken, hand over hand)."""
    locks = draw(st.lists(st.sampled_from(pool), unique=True, min_size=1, max_size=4))
    ops: list[tuple[str, str]] = []
    held: list[str] = []
    for lock in locks:
        while held and draw(st.integers(0, 3)) == 0:
            ops.append(("release", held.pop(draw(st.integers(0, len(held) - 1)))))
        ops.append(("acquire", lock))
        held.append(lock)
    while held:
        ops.append(("release", held.pop(draw(st.integers(0, len(held) - 1)))))
    return ops


def interleave(draw: st.DrawFn, programs: list[list[tuple[str, str]]]) -> list[list[str]]:
    """A run of the threads' programs: at each step a thread that can move does; an acquire
    waits while another thread holds the lock. Stops when nobody can move (done, or a
    real deadlock). Sites are ``t<thread>.c:<line of the program>``."""
    pc = [0] * len(programs)
    holder: dict[str, int] = {}
    events: list[list[str]] = []
    last = -1
    while True:
        movable = []
        for t, prog in enumerate(programs):
            if pc[t] < len(prog):
                op, lock = prog[pc[t]]
                if op == "release" or holder.get(lock) is None:
                    movable.append(t)
        if not movable:
            return events
        # Usually the same thread goes on (a switch every few steps, as a scheduler
        # would); shrinking towards 0 means "no switch".
        if last in movable and draw(st.integers(0, 5)) != 5:
            t = last
        else:
            t = movable[draw(st.integers(0, len(movable) - 1))]
        last = t
        op, lock = programs[t][pc[t]]
        if op == "acquire":
            holder[lock] = t
        else:
            del holder[lock]
        events.append([f"T{t}", op, lock, f"t{t}.c:{pc[t] + 1}"])
        pc[t] += 1


def _acq_rel(*locks: str) -> list[tuple[str, str]]:
    """Acquire ``locks`` in order, release them in reverse."""
    return [("acquire", x) for x in locks] + [("release", x) for x in reversed(locks)]


@st.composite
def scenario_programs(draw: st.DrawFn) -> list[list[tuple[str, str]]]:
    """The classic shapes, on drawn lock names."""
    a, b, c, d = draw(st.permutations(LOCKS))[:4]
    shape = draw(
        st.sampled_from(
            [
                "abba",
                "nested",
                "out-of-order",
                "near-miss",
                "ring",
                "gate",
                "out-of-order",
                "tangle",
                "any-graph",
                "any-graph",
            ]
        )
    )
    if shape == "abba":
        return [_acq_rel(a, b), _acq_rel(b, a)]
    if shape == "nested":  # the inversion exists only through the outer lock a
        return [_acq_rel(a, b, c), _acq_rel(c, a)]
    if shape == "out-of-order":  # a released before c is taken: b -> c, but no a -> c
        return [
            [
                ("acquire", a),
                ("acquire", b),
                ("release", a),
                ("acquire", c),
                ("release", c),
                ("release", b),
            ],
            _acq_rel(c, a),
        ]
    if shape == "near-miss":  # the same two locks in both orders, never nested the second time
        return [_acq_rel(a, b), [("acquire", b), ("release", b), ("acquire", a), ("release", a)]]
    if shape == "ring":
        return [_acq_rel(a, b), _acq_rel(b, c), _acq_rel(c, a)]
    if shape == "any-graph":
        # Any lock-order graph at all: one two-lock section per wanted edge, dealt out to
        # 1-3 threads. Cycle searches (Johnson's blocking, components) meet dense graphs.
        pairs = draw(
            st.lists(
                st.tuples(st.sampled_from(LOCKS), st.sampled_from(LOCKS)).filter(
                    lambda e: e[0] != e[1]
                ),
                unique=True,
                min_size=2,
                max_size=12,
            )
        )
        threads = draw(st.integers(1, 3))
        return [
            [op for k, (x, y) in enumerate(pairs) if k % threads == t for op in _acq_rel(x, y)]
            for t in range(threads)
        ]
    if shape == "tangle":  # threads nesting 3-4 locks in their own orders: a dense graph
        return [
            _acq_rel(*draw(st.permutations([a, b, c, d]))[: draw(st.integers(3, 4))])
            for _ in range(draw(st.integers(2, 3)))
        ]
    return [_acq_rel(d, a, b), _acq_rel(d, b, a)]  # gate: d serialises them, still reported


@st.composite
def lock_traces(draw: st.DrawFn) -> Data:
    """A recorded run: the classic shapes (sometimes with an extra random thread) or random
    nested critical sections of 1-3 threads over 2-5 locks."""
    if draw(st.integers(0, 2)) != 0:
        programs = draw(scenario_programs())
        if draw(st.booleans()):
            programs.append(
                [op for _ in range(draw(st.integers(1, 2))) for op in draw(_section(LOCKS[:4]))]
            )
    else:
        pool = LOCKS[: draw(st.integers(2, 5))]
        threads = draw(st.integers(1, 3))
        programs = [
            [op for _ in range(draw(st.integers(1, 3))) for op in draw(_section(pool))]
            for _ in range(threads)
        ]
    events = interleave(draw, programs)
    return {"events": events}
