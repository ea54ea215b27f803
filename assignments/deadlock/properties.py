"""Hidden properties of the deadlock assignment (instructors only).

Two kinds, as in the scheduling assignment:

* differential (``*_matches_reference``): the student's answer equals the reference's,
  tie-breaking rules of the handout included;
* validity: the answer is *a* right answer, checked by oracles written here and
  independent of the reference (a witness order that really runs, a cycle that really is
  one, every lock-order cycle and nothing else), so a student who breaks a tie another
  valid way keeps those points, and ``osgrade validate`` catches a wrong reference.

Inputs are small and drawn near the boundary: states built along a finishing order with
one resource tight at every step, then often made one unit short; graphs that are a DAG
plus at most one closing edge or a lone self-loop; traces from nested critical sections
interleaved under mutual exclusion, with the classic shapes (ABBA, nested holds, releases
out of order, a near miss) mixed in.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.engine.props import Context, Failure, prop
from grader.engine.results import (
    Counterexample,
    GraphEdge,
    GraphNode,
    GraphPanel,
    GraphPicture,
    TableCell,
    TablePicture,
)
from grader.simos.deadlock import AllocationGraph, LockTrace, SystemState, WaitForGraph

HARNESS = "grader.simos.deadlock.harness:run"
Data = dict[str, Any]
Vec = list[int]
Mat = list[list[int]]

# ============================================================================= replies


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


Ids = Annotated[list[int], Field(max_length=100_000)]
Dep = Annotated[list[str], Field(min_length=5, max_length=5)]


class DetectReply(_Reply):
    deadlocked: Ids
    order: Ids


class CycleReply(_Reply):
    cycle: Ids | None


class SequenceReply(_Reply):
    sequence: Ids | None


class DecisionReply(_Reply):
    decision: Literal["grant", "wait", "unsafe", "exceeds_claim"]


class DependenciesReply(_Reply):
    dependencies: Annotated[list[Dep], Field(max_length=100_000)]


class CyclesReply(_Reply):
    cycles: Annotated[list[Annotated[list[Dep], Field(max_length=1_000)]], Field(max_length=20_000)]


def ask(ctx: Context, function: str, inp: Data, model: type[_Reply]) -> Any:
    """Call the student's ``function`` in the worker; the reply, validated."""
    data = ctx.call(HARNESS, {"function": function, "input": inp})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Failure(
            f"The worker returned a malformed answer from {function}: {where}: {first['msg']}"
        ) from None


# ============================================================================= text helpers


def vec(v: Sequence[int]) -> str:
    return " ".join(str(x) for x in v)


def procs(ps: Sequence[int]) -> str:
    return ", ".join(f"P{p}" for p in ps) or "none"


def arrow(cycle: Sequence[Any], name: Callable[[Any], str] = lambda p: f"P{p}") -> str:
    return " → ".join(name(x) for x in [*cycle, cycle[0]]) if cycle else "(none)"


def fits(need: Sequence[int], work: Sequence[int]) -> bool:
    return all(a <= b for a, b in zip(need, work, strict=True))


def in_range(ps: Sequence[int], n: int, what: str) -> None:
    for p in ps:
        if not 0 <= p < n:
            raise Failure(f"{what} names process {p}, but the processes are P0..P{n - 1}.")


# ============================================================================= snippets


def _rows(m: Sequence[Sequence[int]]) -> str:
    return (
        "("
        + ", ".join("(" + ", ".join(map(str, r)) + ("," if len(r) == 1 else "") + ")" for r in m)
        + ("," if len(m) == 1 else "")
        + ")"
    )


def _tuple(v: Sequence[int]) -> str:
    return "(" + ", ".join(map(str, v)) + ("," if len(v) == 1 else "") + ")"


def state_code(state: Data) -> list[str]:
    lines = ["state = SystemState(", f"    available={_tuple(state['available'])},"]
    lines.append(f"    allocation={_rows(state['allocation'])},")
    for key in ("request", "maximum"):
        if state.get(key) is not None:
            lines.append(f"    {key}={_rows(state[key])},")
    return [*lines, ")"]


def snippet(function: str, inputs: Data) -> str:
    inputs = inputs.get("inp", inputs)  # request_decision draws one dict
    if function in ("detect", "safe_sequence", "request_decision"):
        lines = [
            "from grader.simos.deadlock import SystemState",
            f"from deadlock import {function}",
            "",
        ]
        lines += state_code(inputs["state"])
        if function == "request_decision":
            lines.append(
                f"print(request_decision(state, {inputs['process']}, {_tuple(inputs['request'])}))"
            )
        else:
            lines.append(f"print({function}(state))")
    elif function == "find_cycle":
        g = inputs["graph"]
        edges = ", ".join(f"({p}, {q})" for p, q in g["edges"])
        lines = [
            "from grader.simos.deadlock import WaitForGraph",
            "from deadlock import find_cycle",
            "",
            f"graph = WaitForGraph.from_edges({g['n']}, [{edges}])",
            "print(find_cycle(graph))",
        ]
    else:
        lines = [
            "from grader.simos.deadlock import LockTrace",
            f"from deadlock import {function}",
            "",
            "trace = LockTrace.from_tuples([",
        ]
        lines += [
            f"    ({t!r}, {op!r}, {lock!r}, {site!r}),"
            for t, op, lock, site in inputs["trace"]["events"]
        ]
        lines += ["])", f"for item in {function}(trace):", "    print(item)"]
    return "\n".join(lines)


def describer(function: str) -> Callable[[Data], Counterexample]:
    return lambda inputs: Counterexample(inputs=inputs, snippet=snippet(function, inputs))


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
    shape = draw(st.sampled_from(["dag+1", "random", "lasso", "rag", "self-loop"]))
    n = draw(st.integers(1, max_n))
    node = st.integers(0, n - 1)
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
            ["abba", "nested", "out-of-order", "near-miss", "ring", "gate", "out-of-order"]
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


# ============================================================================= oracles
# Written here, independent of the reference: the validity properties use only these.


def finishing(available: Sequence[int], allocation: Mat, demand: Mat) -> list[int]:
    """An order in which every process that can finish does (the textbook fixpoint)."""
    work = list(available)
    done: list[int] = []
    progress = True
    while progress:
        progress = False
        for i in range(len(allocation)):
            if i not in done and fits(demand[i], work):
                work = [w + a for w, a in zip(work, allocation[i], strict=True)]
                done.append(i)
                progress = True
    return done


def replay(
    available: Sequence[int], allocation: Mat, demand: Mat, order: Sequence[int]
) -> tuple[list[list[int]], int | None]:
    """Free units before each step of ``order``, and the first step whose demand does not
    fit (None if all fit). Later steps are replayed as if it had run."""
    work = list(available)
    before: list[list[int]] = []
    bad = None
    for k, i in enumerate(order):
        before.append(list(work))
        if bad is None and not fits(demand[i], work):
            bad = k
        work = [w + a for w, a in zip(work, allocation[i], strict=True)]
    return before, bad


def has_cycle(n: int, edges: Sequence[Sequence[int]]) -> list[int] | None:
    """One cycle, found by Kahn's algorithm then walking back through what is left."""
    indeg = [0] * n
    succ: list[list[int]] = [[] for _ in range(n)]
    pred: list[list[int]] = [[] for _ in range(n)]
    for p, q in edges:
        succ[p].append(q)
        pred[q].append(p)
        indeg[q] += 1
    todo = [p for p in range(n) if indeg[p] == 0]
    gone = set()
    while todo:
        p = todo.pop()
        gone.add(p)
        for q in succ[p]:
            indeg[q] -= 1
            if indeg[q] == 0:
                todo.append(q)
    left = [p for p in range(n) if p not in gone]
    if not left:
        return None
    seen: dict[int, int] = {}
    walk = [left[0]]
    while walk[-1] not in seen:
        seen[walk[-1]] = len(walk) - 1
        walk.append(next(p for p in pred[walk[-1]] if p not in gone))
    loop = walk[seen[walk[-1]] : -1]
    return loop[::-1]


Event = Sequence[str]
Path = tuple[str, str, str]  # thread, held_at, acquired_at


def lock_edges(
    events: Sequence[Event],
) -> tuple[dict[tuple[str, str], set[Path]], dict[tuple[str, str], Path]]:
    """Every dependency with every code path that creates it, and the first such path.

    Brute force: at each acquire, the thread holds every lock whose last event of that
    thread so far is an acquire.
    """
    paths: dict[tuple[str, str], set[Path]] = {}
    first: dict[tuple[str, str], Path] = {}
    for k, (thread, op, lock, site) in enumerate(events):
        if op != "acquire":
            continue
        last: dict[str, tuple[str, str]] = {}
        for t2, op2, lock2, site2 in events[:k]:
            if t2 == thread:
                last[lock2] = (op2, site2)
        for held, (op2, site2) in last.items():
            if op2 == "acquire":
                path = (thread, site2, site)
                paths.setdefault((held, lock), set()).add(path)
                first.setdefault((held, lock), path)
    return paths, first


def lock_cycles(edges: set[tuple[str, str]]) -> set[tuple[str, ...]]:
    """Every elementary cycle, as its locks starting from the smallest (brute force)."""
    locks = sorted({x for e in edges for x in e})
    out = set()
    for size in range(1, len(locks) + 1):
        for perm in itertools.permutations(locks, size):
            if perm[0] == min(perm) and all(
                (perm[k], perm[(k + 1) % size]) in edges for k in range(size)
            ):
                out.add(perm)
    return out


def rotate(cycle: Sequence[Any], key: Callable[[Any], Any] = lambda x: x) -> tuple[Any, ...]:
    """``cycle`` rotated to start at its smallest element (by ``key``)."""
    if not cycle:
        return ()
    k = min(range(len(cycle)), key=lambda i: key(cycle[i]))
    return tuple(cycle[k:]) + tuple(cycle[:k])


# ============================================================================= pictures


def reduction_table(
    state: SystemState,
    demand: Mat,
    word: str,
    expected: Sequence[int] | None,
    yours: Sequence[int] | None,
    your_stuck: Sequence[int] | None = None,
) -> TablePicture:
    """The reference's finishing order beside yours, step by step, with the free units, and
    a last row with the verdicts (safe or not; who is deadlocked)."""
    alloc = [list(r) for r in state.allocation]
    exp = list(expected or [])
    got = list(yours or [])
    n = state.processes
    got_ok = [p for p in got if 0 <= p < n]
    ew, _ = replay(state.available, alloc, demand, exp)
    yw, bad = replay(state.available, alloc, demand, got_ok)
    rows: list[list[TableCell]] = []
    mark = None
    for k in range(max(len(exp), len(got_ok))):
        e = exp[k] if k < len(exp) else None
        g = got_ok[k] if k < len(got_ok) else None
        ok = g is not None and fits(demand[g], yw[k])
        if mark is None and (e != g or (g is not None and not ok)):
            mark = k
        rows.append(
            [
                TableCell(text=str(k + 1)),
                TableCell(
                    text="" if e is None else f"P{e} ({word} {vec(demand[e])})", tone="accent"
                ),
                TableCell(text="" if e is None else vec(ew[k]), tone="muted"),
                TableCell(
                    text="—" if g is None else f"P{g} ({word} {vec(demand[g])})",
                    tone="bad" if mark == k else "plain",
                ),
                TableCell(text="" if g is None else vec(yw[k]), tone="muted"),
                TableCell(
                    text="" if g is None else ("yes" if ok else "NO"),
                    tone="plain" if g is None else ("good" if ok else "bad"),
                ),
            ]
        )
    if bad is not None and mark is None:
        mark = bad
    if word == "need":
        end_ref = "safe" if expected is not None else "unsafe (None)"
        end_yours = "safe" if yours is not None else "unsafe (None)"
    else:
        stuck = [p for p in range(n) if p not in exp]
        end_ref = f"deadlocked: {procs(stuck)}"
        end_yours = f"deadlocked: {procs(sorted(your_stuck or []))}"
    if mark is None and end_ref != end_yours:
        mark = len(rows)
    rows.append(
        [
            TableCell(text="end"),
            TableCell(text=end_ref, tone="accent"),
            TableCell(text=""),
            TableCell(text=end_yours, tone="bad" if end_ref != end_yours else "plain"),
            TableCell(text=""),
            TableCell(text=""),
        ]
    )
    return TablePicture(
        title="The finishing order, step by step",
        columns=[
            "step",
            "reference runs",
            "free before",
            "yours runs",
            "free before (yours)",
            f"{word} fits?",
        ],
        rows=rows,
        mark_row=mark,
        caption=(
            f"Start: free units {vec(state.available)}. A process may run when its {word} fits in "
            "the free units; when it finishes, everything it holds becomes free."
        ),
    )


def decision_table(
    state: SystemState, p: int, request: Sequence[int], expected: str, yours: str
) -> TablePicture:
    need = state.need[p]
    over_need = [j for j, (r, x) in enumerate(zip(request, need, strict=True)) if r > x]
    over_free = [j for j, (r, x) in enumerate(zip(request, state.available, strict=True)) if r > x]
    rows = [
        [
            TableCell(text="1"),
            TableCell(text=f"request {vec(request)} <= need {vec(need)}?"),
            TableCell(text="no" if over_need else "yes", tone="bad" if over_need else "good"),
            TableCell(text="no → EXCEEDS_CLAIM"),
        ],
        [
            TableCell(text="2"),
            TableCell(text=f"request {vec(request)} <= free {vec(state.available)}?"),
            TableCell(text="no" if over_free else "yes", tone="bad" if over_free else "good"),
            TableCell(text="no → WAIT"),
        ],
    ]
    safe_after = None
    if not over_need and not over_free:
        alloc = [list(r) for r in state.allocation]
        alloc[p] = [a + r for a, r in zip(alloc[p], request, strict=True)]
        free = [a - r for a, r in zip(state.available, request, strict=True)]
        needs = [list(r) for r in state.need]
        needs[p] = [x - r for x, r in zip(needs[p], request, strict=True)]
        safe_after = len(finishing(free, alloc, needs)) == state.processes
        rows.append(
            [
                TableCell(text="3"),
                TableCell(text=f"after the grant (free {vec(free)}), is the state safe?"),
                TableCell(text="yes" if safe_after else "no", tone="good" if safe_after else "bad"),
                TableCell(text="yes → GRANT, no → UNSAFE"),
            ]
        )
    rows.append(
        [
            TableCell(text=""),
            TableCell(text="decision"),
            TableCell(text=f"reference: {expected.upper()}", tone="accent"),
            TableCell(text=f"yours: {yours.upper()}", tone="bad"),
        ]
    )
    return TablePicture(
        title=f"The Banker's checks for P{p} requesting {vec(request)}",
        columns=["check", "question", "answer", "leads to"],
        rows=rows,
        # The check that decides, where the reference's answer comes from.
        mark_row=0 if over_need else (1 if over_free else 2),
        caption=(
            "The checks are made in this order; the first that fails decides (the marked row). "
            "The last row compares the decisions."
        ),
    )


def wait_for_picture(
    graph: Data, expected: Sequence[int] | None, yours: Sequence[int] | None, yours_note: str = ""
) -> GraphPicture:
    n = graph["n"]
    edges = [GraphEdge(source=str(p), target=str(q)) for p, q in graph["edges"]]
    yours_ok = [p for p in (yours or []) if 0 <= p < n] or None
    return GraphPicture(
        title="The wait-for graph",
        nodes=[GraphNode(id=str(p), label=f"P{p}") for p in range(n)],
        panels=[
            GraphPanel(
                title="Reference (expected)",
                edges=edges,
                cycle=[str(p) for p in expected] if expected else None,
                note="" if expected else "There is no cycle: no deadlock.",
            ),
            GraphPanel(
                title="Yours",
                edges=edges,
                cycle=[str(p) for p in yours_ok] if yours_ok else None,
                note=yours_note or ("" if yours_ok else "Your find_cycle returned None."),
            ),
        ],
        caption="An edge P → Q: P waits for a resource that Q holds. The highlighted cycle is the deadlock.",
    )


def lock_picture(
    real: set[tuple[str, str]],
    yours: set[tuple[str, str]] | None,
    expected_cycle: Sequence[str] | None,
    your_cycle: Sequence[str] | None,
    labels: dict[tuple[str, str], str],
    your_note: str = "",
) -> GraphPicture:
    """The real lock-order graph beside yours. ``yours`` None: you were asked for cycles
    only, so your panel shows the real graph with your cycle on it."""
    mine_set = real if yours is None else yours
    locks = sorted(
        {x for e in real | mine_set for x in e} | set(expected_cycle or []) | set(your_cycle or [])
    )

    def edge(e: tuple[str, str], tone: Literal["plain", "missing", "extra"]) -> GraphEdge:
        return GraphEdge(source=e[0], target=e[1], tone=tone, label=labels.get(e, ""))

    mine = [edge(e, "plain") for e in sorted(mine_set & real)]
    mine += [edge(e, "missing") for e in sorted(real - mine_set)]
    mine += [edge(e, "extra") for e in sorted(mine_set - real)]
    return GraphPicture(
        title="The lock-order graph",
        nodes=[GraphNode(id=x, label=x, shape="lock") for x in locks],
        panels=[
            GraphPanel(
                title="From the trace (reference)",
                edges=[edge(e, "plain") for e in sorted(real)],
                cycle=list(expected_cycle) if expected_cycle else None,
            ),
            GraphPanel(
                title="Yours",
                edges=mine,
                cycle=list(your_cycle) if your_cycle else None,
                note=your_note,
            ),
        ],
        caption="An edge A → B: a thread held A while it acquired B. A cycle is a potential deadlock.",
    )


# ============================================================================= detection


def student_detect(ctx: Context, state: Data) -> DetectReply:
    reply: DetectReply = ask(ctx, "detect", {"state": state}, DetectReply)
    n = len(state["allocation"])
    in_range(reply.deadlocked, n, "Your Detection.deadlocked")
    in_range(reply.order, n, "Your Detection.order")
    return reply


def _detect_failure(
    message: str, s: SystemState, exp: Any, got: DetectReply, divergence: str
) -> Failure:
    return Failure(
        message,
        expected=f"deadlocked: {procs(sorted(exp.deadlocked))}; witness order: {procs(exp.order)}",
        actual=f"deadlocked: {procs(got.deadlocked)}; witness order: {procs(got.order)}",
        divergence=divergence,
        picture=reduction_table(
            s,
            [list(r) for r in s.request or ()],
            "request",
            list(exp.order),
            got.order,
            got.deadlocked,
        ),
    )


@prop(describe=describer("detect"), state=detection_states)
def detect_matches_reference(ctx: Context, state: Data) -> None:
    s = SystemState.from_data(state)
    exp = ctx.reference.detect(s)
    got = student_detect(ctx, state)
    if sorted(got.deadlocked) != sorted(exp.deadlocked):
        raise _detect_failure(
            "Your set of deadlocked processes differs from the reference's.",
            s,
            exp,
            got,
            f"The reference finds {procs(sorted(exp.deadlocked))} deadlocked; yours: {procs(sorted(got.deadlocked))}.",
        )
    if list(got.order) != list(exp.order):
        k = next(
            (i for i, (a, b) in enumerate(zip(exp.order, got.order, strict=False)) if a != b),
            min(len(exp.order), len(got.order)),
        )
        e = f"P{exp.order[k]}" if k < len(exp.order) else "nothing more"
        g = f"P{got.order[k]}" if k < len(got.order) else "nothing more"
        raise _detect_failure(
            "Your witness order differs from the reference's (the handout's rule: lowest-numbered "
            "process whose request fits first).",
            s,
            exp,
            got,
            f"Step {k + 1}: the reference runs {e}; yours runs {g}.",
        )


@prop(describe=describer("detect"), state=detection_states)
def detect_witness_runs(ctx: Context, state: Data) -> None:
    s = SystemState.from_data(state)
    got = student_detect(ctx, state)
    request = [list(r) for r in s.request or ()]
    alloc = [list(r) for r in s.allocation]

    def fail(message: str, divergence: str) -> Failure:
        exp = ctx.reference.detect(s)
        return _detect_failure(message, s, exp, got, divergence)

    dup = [p for p in set(got.order) if got.order.count(p) > 1]
    if dup:
        raise fail(
            "Your witness order lists a process twice.",
            f"P{dup[0]} appears {got.order.count(dup[0])} times.",
        )
    both = sorted(set(got.order) & set(got.deadlocked))
    if both:
        raise fail(
            "A process is both deadlocked and in your witness order.",
            f"P{both[0]} is in both lists.",
        )
    before, bad = replay(s.available, alloc, request, got.order)
    if bad is not None:
        p = got.order[bad]
        raise fail(
            "Your witness order does not run: a process cannot finish when its turn comes.",
            f"Step {bad + 1}: P{p} requests {vec(request[p])} but only {vec(before[bad])} is free.",
        )
    missing = [p for p in range(s.processes) if p not in got.order and p not in got.deadlocked]
    if missing:
        raise fail(
            "Every process not reported deadlocked must appear in the witness order.",
            f"P{missing[0]} is neither deadlocked nor in your order.",
        )


@prop(describe=describer("detect"), state=detection_states)
def detect_deadlocked_are_stuck(ctx: Context, state: Data) -> None:
    s = SystemState.from_data(state)
    got = student_detect(ctx, state)
    request = [list(r) for r in s.request or ()]
    can = finishing(s.available, [list(r) for r in s.allocation], request)
    wrong = [p for p in sorted(set(got.deadlocked)) if p in can]
    if wrong:
        exp = ctx.reference.detect(s)
        upto = can[: can.index(wrong[0]) + 1]
        raise _detect_failure(
            "You report a process as deadlocked that can finish.",
            s,
            exp,
            got,
            f"P{wrong[0]} is not deadlocked: in the order {procs(upto)} each request fits when its turn comes.",
        )


# ============================================================================= wait-for graphs


def student_cycle(ctx: Context, graph: Data) -> list[int] | None:
    reply: CycleReply = ask(ctx, "find_cycle", {"graph": graph}, CycleReply)
    if reply.cycle is not None:
        in_range(reply.cycle, graph["n"], "Your cycle")
    return reply.cycle


def not_a_cycle(graph: Data, cycle: Sequence[int]) -> str | None:
    """Why ``cycle`` is not a cycle of ``graph``, or None if it is one."""
    if not cycle:
        return "it is empty; return None when there is no cycle"
    if len(set(cycle)) != len(cycle):
        again = next(p for p in cycle if cycle.count(p) > 1)
        return f"P{again} appears twice; list each process of the cycle once"
    edges = {(p, q) for p, q in graph["edges"]}
    for k, p in enumerate(cycle):
        q = cycle[(k + 1) % len(cycle)]
        if (p, q) not in edges:
            closing = " (the step back to the start)" if k == len(cycle) - 1 else ""
            return f"there is no edge P{p} → P{q}{closing}"
    return None


@prop(describe=describer("find_cycle"), graph=wait_for_graphs())
def cycle_matches_reference(ctx: Context, graph: Data) -> None:
    exp = ctx.reference.find_cycle(WaitForGraph.from_data(graph))
    got = student_cycle(ctx, graph)
    if (exp is None) != (got is None) or (
        exp is not None and got is not None and rotate(exp) != rotate(got)
    ):
        raise Failure(
            "Your find_cycle answer differs from the reference's.",
            expected=arrow(exp) if exp else "None (no deadlock)",
            actual=arrow(got) if got else "None (no deadlock)",
            divergence=(
                "The reference reports the cycle closed by the first back edge of a depth-first "
                "search from P0, P1, ... (successors in increasing order)."
                if exp
                else "The graph has no cycle."
            ),
            picture=wait_for_picture(graph, exp, got),
        )


@prop(describe=describer("find_cycle"), graph=wait_for_graphs())
def cycle_is_real(ctx: Context, graph: Data) -> None:
    got = student_cycle(ctx, graph)
    if got is None:
        return
    why = not_a_cycle(graph, got)
    if why:
        raise Failure(
            f"Your find_cycle returned {arrow(got)}, which is not a cycle of the graph: {why}.",
            expected="a cycle: each process waits for the next, and the last for the first",
            actual=arrow(got),
            divergence=why[0].upper() + why[1:] + ".",
            picture=wait_for_picture(
                graph, has_cycle(graph["n"], graph["edges"]), got, f"Not a cycle: {why}."
            ),
        )


@prop(describe=describer("find_cycle"), graph=wait_for_graphs())
def cycle_found_iff_deadlock(ctx: Context, graph: Data) -> None:
    got = student_cycle(ctx, graph)
    real = has_cycle(graph["n"], graph["edges"])
    if real is not None and got is None:
        self_loop = " (a self-loop: a process waiting for itself counts)" if len(real) == 1 else ""
        raise Failure(
            "The graph has a cycle, so the processes on it are deadlocked, but your find_cycle returned None.",
            expected=f"a cycle, for example {arrow(real)}{self_loop}",
            actual="None",
            picture=wait_for_picture(graph, real, None),
        )
    if real is None and got is not None:
        raise Failure(
            "The graph has no cycle (no deadlock), but your find_cycle returned one.",
            expected="None",
            actual=arrow(got),
            picture=wait_for_picture(graph, None, got),
        )


# ============================================================================= Banker's


def student_sequence(ctx: Context, state: Data) -> list[int] | None:
    reply: SequenceReply = ask(ctx, "safe_sequence", {"state": state}, SequenceReply)
    if reply.sequence is not None:
        in_range(reply.sequence, len(state["allocation"]), "Your safe sequence")
    return reply.sequence


def _need(s: SystemState) -> Mat:
    return [list(r) for r in s.need]


@prop(describe=describer("safe_sequence"), state=banker_states)
def banker_safety_matches_reference(ctx: Context, state: Data) -> None:
    s = SystemState.from_data(state)
    exp = ctx.reference.safe_sequence(s)
    got = student_sequence(ctx, state)
    if exp == got:
        return
    if (exp is None) != (got is None):
        msg = (
            "Your safe_sequence says the state is "
            + ("unsafe" if got is None else "safe")
            + ", the reference the opposite."
        )
        div = None
    else:
        assert exp is not None and got is not None
        k = next(
            (i for i, (a, b) in enumerate(zip(exp, got, strict=False)) if a != b),
            min(len(exp), len(got)),
        )
        msg = "Your safe sequence differs from the reference's (the handout's rule: lowest-numbered process whose need fits first)."
        e = f"P{exp[k]}" if k < len(exp) else "nothing more"
        g = f"P{got[k]}" if k < len(got) else "nothing more"
        div = f"Step {k + 1}: the reference runs {e}; yours runs {g}."
    raise Failure(
        msg,
        expected=procs(exp) if exp is not None else "None (unsafe)",
        actual=procs(got) if got is not None else "None (unsafe)",
        divergence=div,
        picture=reduction_table(s, _need(s), "need", exp, got),
    )


@prop(describe=describer("safe_sequence"), state=banker_states)
def banker_sequence_runs(ctx: Context, state: Data) -> None:
    s = SystemState.from_data(state)
    need = _need(s)
    alloc = [list(r) for r in s.allocation]
    got = student_sequence(ctx, state)
    can = finishing(s.available, alloc, need)
    if got is None:
        if len(can) == s.processes:
            raise Failure(
                "Your safe_sequence says the state is unsafe, but it is safe.",
                expected=f"a safe sequence, for example {procs(can)}",
                actual="None (unsafe)",
                picture=reduction_table(s, need, "need", can, None),
            )
        return
    if sorted(got) != list(range(s.processes)):
        missing = sorted(set(range(s.processes)) - set(got))
        why = f"P{missing[0]} is missing" if missing else "a process appears twice"
        raise Failure(
            f"A safe sequence lists every process exactly once: {why}.",
            expected=f"a safe sequence, for example {procs(can)}"
            if len(can) == s.processes
            else "None (unsafe)",
            actual=procs(got),
            picture=reduction_table(s, need, "need", can if len(can) == s.processes else None, got),
        )
    before, bad = replay(s.available, alloc, need, got)
    if bad is not None:
        p = got[bad]
        raise Failure(
            "Your safe sequence does not run to completion.",
            expected=f"a safe sequence, for example {procs(can)}"
            if len(can) == s.processes
            else "None (unsafe)",
            actual=procs(got),
            divergence=f"Step {bad + 1}: P{p} may still need {vec(need[p])} but only {vec(before[bad])} is free.",
            picture=reduction_table(s, need, "need", can if len(can) == s.processes else None, got),
        )


def student_decision(ctx: Context, inp: Data) -> str:
    reply: DecisionReply = ask(ctx, "request_decision", inp, DecisionReply)
    return reply.decision


def justified(s: SystemState, p: int, request: Sequence[int]) -> set[str]:
    """Every decision the rules allow, whatever the order of the checks."""
    need = s.need[p]
    out = set()
    if any(r > x for r, x in zip(request, need, strict=True)):
        out.add("exceeds_claim")
    if any(r > x for r, x in zip(request, s.available, strict=True)):
        out.add("wait")
    if out:
        return out
    alloc = [list(r) for r in s.allocation]
    alloc[p] = [a + r for a, r in zip(alloc[p], request, strict=True)]
    needs = _need(s)
    needs[p] = [x - r for x, r in zip(needs[p], request, strict=True)]
    free = [a - r for a, r in zip(s.available, request, strict=True)]
    safe = len(finishing(free, alloc, needs)) == s.processes
    return {"grant"} if safe else {"unsafe"}


def reason(s: SystemState, p: int, request: Sequence[int]) -> str:
    """Which of the three checks decides, and why, in one sentence."""
    need = s.need[p]
    over = [j for j in range(s.resources) if request[j] > need[j]]
    if over:
        j = over[0]
        return (
            f"Check 1 decides: P{p} asks for {request[j]} of R{j} but may still need only "
            f"{need[j]} (its claim minus what it holds): EXCEEDS_CLAIM."
        )
    short = [j for j in range(s.resources) if request[j] > s.available[j]]
    if short:
        j = short[0]
        return f"Check 2 decides: P{p} asks for {request[j]} of R{j} but only {s.available[j]} is free: WAIT."
    alloc = [list(r) for r in s.allocation]
    alloc[p] = [a + r for a, r in zip(alloc[p], request, strict=True)]
    needs = _need(s)
    needs[p] = [x - r for x, r in zip(needs[p], request, strict=True)]
    free = [a - r for a, r in zip(s.available, request, strict=True)]
    order = finishing(free, alloc, needs)
    if len(order) == s.processes:
        return f"Check 3 decides: after the grant (free {vec(free)}) the order {procs(order)} finishes everyone: GRANT."
    stuck = [i for i in range(s.processes) if i not in order]
    return (
        f"Check 3 decides: after the grant (free {vec(free)}) {procs(stuck)} can never "
        "finish, whatever the order: UNSAFE."
    )


@prop(describe=describer("request_decision"), inp=banker_requests())
def banker_request_matches_reference(ctx: Context, inp: Data) -> None:
    s = SystemState.from_data(inp["state"])
    exp = ctx.reference.request_decision(s, inp["process"], tuple(inp["request"])).value
    got = student_decision(ctx, inp)
    if got != exp:
        raise Failure(
            f"Your decision on P{inp['process']}'s request {vec(inp['request'])} differs from the reference's.",
            expected=exp.upper(),
            actual=got.upper(),
            divergence=reason(s, inp["process"], inp["request"]),
            picture=decision_table(s, inp["process"], inp["request"], exp, got),
        )


@prop(describe=describer("request_decision"), inp=banker_requests())
def banker_grant_leaves_safe(ctx: Context, inp: Data) -> None:
    got = student_decision(ctx, inp)
    if got != "grant":
        return
    s = SystemState.from_data(inp["state"])
    ok = justified(s, inp["process"], inp["request"])
    if "grant" not in ok:
        why = {
            "exceeds_claim": "the request is more than the process's remaining need (its claim)",
            "wait": "the request is more than the free units",
            "unsafe": "the state after the grant is unsafe: no order lets every process finish",
        }[sorted(ok)[0]]
        raise Failure(
            f"You granted P{inp['process']}'s request {vec(inp['request'])}, but {why}.",
            expected=" or ".join(sorted(x.upper() for x in ok)),
            actual="GRANT",
            divergence=reason(s, inp["process"], inp["request"]),
            picture=decision_table(s, inp["process"], inp["request"], sorted(ok)[0], got),
        )


@prop(describe=describer("request_decision"), inp=banker_requests())
def banker_decision_justified(ctx: Context, inp: Data) -> None:
    got = student_decision(ctx, inp)
    s = SystemState.from_data(inp["state"])
    ok = justified(s, inp["process"], inp["request"])
    if got not in ok:
        raise Failure(
            f"Your decision {got.upper()} on P{inp['process']}'s request {vec(inp['request'])} is not justified by the rules.",
            expected=" or ".join(sorted(x.upper() for x in ok)),
            actual=got.upper(),
            divergence=reason(s, inp["process"], inp["request"]),
            picture=decision_table(s, inp["process"], inp["request"], sorted(ok)[0], got),
        )


# ============================================================================= lock order

DepTuple = tuple[str, str, str, str, str]


def student_dependencies(ctx: Context, trace: Data) -> list[DepTuple]:
    reply: DependenciesReply = ask(ctx, "lock_dependencies", {"trace": trace}, DependenciesReply)
    return [tuple(d) for d in reply.dependencies]  # type: ignore[misc]


def _labels(first: dict[tuple[str, str], Path]) -> dict[tuple[str, str], str]:
    return {e: f"{t}: took {e[0]} at {a}, then {e[1]} at {b}" for e, (t, a, b) in first.items()}


def _dep_text(d: Sequence[str]) -> str:
    return f"{d[0]} → {d[1]} ({d[2]}: {d[3]}, then {d[4]})"


def _deps_text(deps: Sequence[Sequence[str]]) -> str:
    return "\n".join(_dep_text(d) for d in sorted(deps)) or "(none)"


def _ref_deps(ctx: Context, trace: Data) -> list[DepTuple]:
    deps = ctx.reference.lock_dependencies(LockTrace.from_data(trace))
    return [(d.held, d.acquired, d.thread, d.held_at, d.acquired_at) for d in deps]


@prop(describe=describer("lock_dependencies"), trace=lock_traces())
def lockdep_graph_matches_reference(ctx: Context, trace: Data) -> None:
    exp = _ref_deps(ctx, trace)
    got = student_dependencies(ctx, trace)
    if sorted(exp) != sorted(got):
        missing = sorted(set(exp) - set(got))
        extra = sorted(set(got) - set(exp))
        if missing:
            div = f"The reference has {_dep_text(missing[0])}, which yours does not."
        elif extra:
            div = f"Yours has {_dep_text(extra[0])}, which the reference does not."
        else:
            div = "Yours lists a dependency more than once."
        _, first = lock_edges(trace["events"])
        raise Failure(
            "Your lock-order dependencies differ from the reference's (each edge once, with the first event that created it).",
            expected=_deps_text(exp),
            actual=_deps_text(got),
            divergence=div,
            picture=lock_picture(
                {(d[0], d[1]) for d in exp}, {(d[0], d[1]) for d in got}, None, None, _labels(first)
            ),
        )


@prop(describe=describer("lock_dependencies"), trace=lock_traces())
def lockdep_graph_complete(ctx: Context, trace: Data) -> None:
    got = student_dependencies(ctx, trace)
    paths, first = lock_edges(trace["events"])
    real = set(paths)
    yours = [(d[0], d[1]) for d in got]

    def fail(message: str, div: str) -> Failure:
        expected = [(a, b, *first[(a, b)]) for a, b in sorted(real)]
        return Failure(
            message,
            expected=_deps_text(expected),
            actual=_deps_text(got),
            divergence=div,
            picture=lock_picture(real, set(yours), None, None, _labels(first)),
        )

    extra = [d for d in got if (d[0], d[1]) not in real]
    if extra:
        raise fail(
            "You report a dependency that the trace does not contain.",
            f"No thread ever held {extra[0][0]} while acquiring {extra[0][1]}.",
        )
    missing = sorted(real - set(yours))
    if missing:
        a, b = missing[0]
        t, x, y = first[(a, b)]
        raise fail(
            "You miss a dependency of the trace.",
            f"{t} held {a} (taken at {x}) while acquiring {b} at {y}: the edge {a} → {b} is missing.",
        )
    dup = next((e for e in yours if yours.count(e) > 1), None)
    if dup:
        raise fail(
            "Report each dependency once.",
            f"{dup[0]} → {dup[1]} appears {yours.count(dup)} times.",
        )
    for d in got:
        if (d[2], d[3], d[4]) not in paths[(d[0], d[1])]:
            raise fail(
                "A dependency's code path does not create it.",
                f"{d[2]} never held {d[0]} (taken at {d[3]}) while acquiring {d[1]} at {d[4]}.",
            )


def student_cycles(ctx: Context, trace: Data) -> list[list[DepTuple]]:
    reply: CyclesReply = ask(ctx, "potential_deadlocks", {"trace": trace}, CyclesReply)
    return [[tuple(d) for d in c] for c in reply.cycles]  # type: ignore[misc]


def _cycle_locks(cycle: Sequence[Sequence[str]]) -> tuple[str, ...]:
    return rotate([d[0] for d in cycle])


def _cycle_text(cycle: Sequence[Sequence[str]]) -> str:
    if not cycle:
        return "(empty)"
    return " → ".join([d[0] for d in cycle] + [cycle[-1][1]])


def _cycles_text(cycles: Sequence[Sequence[Sequence[str]]], paths: bool = False) -> str:
    lines = []
    for c in sorted(cycles, key=_cycle_locks):
        lines.append(_cycle_text(c))
        if paths:
            lines += [f"    {_dep_text(d)}" for d in c]
    return "\n".join(lines) or "(none)"


def _normal(cycle: Sequence[DepTuple]) -> tuple[DepTuple, ...]:
    return rotate(cycle, key=lambda d: d[0])


@prop(describe=describer("potential_deadlocks"), trace=lock_traces())
def lockdep_cycles_match_reference(ctx: Context, trace: Data) -> None:
    ref = ctx.reference.potential_deadlocks(LockTrace.from_data(trace))
    exp = [[(d.held, d.acquired, d.thread, d.held_at, d.acquired_at) for d in c] for c in ref]
    got = student_cycles(ctx, trace)
    if sorted(_normal(c) for c in exp) == sorted(_normal(c) for c in got):
        return
    e_set = {_normal(c) for c in exp}
    g_set = {_normal(c) for c in got}
    missing = sorted(e_set - g_set)
    extra = sorted(g_set - e_set)
    paths, first = lock_edges(trace["events"])
    if missing:
        div = (
            f"The reference reports {_cycle_text(missing[0])} with these code paths, which yours "
            "does not: " + "; ".join(_dep_text(d) for d in missing[0]) + "."
        )
    elif extra:
        div = (
            f"Yours reports {_cycle_text(extra[0])} with code paths the reference does not: "
            + "; ".join(_dep_text(d) for d in extra[0])
            + "."
        )
    else:
        div = "Yours reports a cycle more than once."
    raise Failure(
        "Your potential deadlocks differ from the reference's (every cycle once, each link with the first event that created it).",
        expected=_cycles_text(exp, paths=True),
        actual=_cycles_text(got, paths=True),
        divergence=div,
        picture=lock_picture(
            set(paths),
            None,
            _cycle_locks(missing[0]) if missing else None,
            _cycle_locks(extra[0]) if extra and not missing else None,
            _labels(first),
            "Your answer does not report the highlighted cycle." if missing else "",
        ),
    )


@prop(describe=describer("potential_deadlocks"), trace=lock_traces())
def lockdep_every_cycle(ctx: Context, trace: Data) -> None:
    got = student_cycles(ctx, trace)
    paths, first = lock_edges(trace["events"])
    real = lock_cycles(set(paths))

    def fail(
        message: str, div: str, exp_cycle: Sequence[str] | None, your_cycle: Sequence[str] | None
    ) -> Failure:
        expected = [
            [
                (c[k], c[(k + 1) % len(c)], *first[(c[k], c[(k + 1) % len(c)])])
                for k in range(len(c))
            ]
            for c in sorted(real)
        ]
        return Failure(
            message,
            expected=_cycles_text(expected),
            actual=_cycles_text(got),
            divergence=div,
            picture=lock_picture(
                set(paths),
                None,
                exp_cycle,
                your_cycle,
                _labels(first),
                "Your answer does not report the highlighted cycle." if exp_cycle else "",
            ),
        )

    for c in got:
        if not c:
            raise fail(
                "A reported cycle is empty.",
                "Each potential deadlock lists at least one dependency.",
                None,
                None,
            )
        for k, d in enumerate(c):
            nxt = c[(k + 1) % len(c)]
            if d[1] != nxt[0]:
                raise fail(
                    f"Your cycle {_cycle_text(c)} does not close up.",
                    f"Link {k + 1} ends at {d[1]} but the next link starts at {nxt[0]}.",
                    None,
                    _cycle_locks(c),
                )
            if (d[0], d[1]) not in paths:
                raise fail(
                    f"Your cycle {_cycle_text(c)} uses a dependency the trace does not contain.",
                    f"No thread ever held {d[0]} while acquiring {d[1]}.",
                    None,
                    _cycle_locks(c),
                )
            if (d[2], d[3], d[4]) not in paths[(d[0], d[1])]:
                raise fail(
                    f"In your cycle {_cycle_text(c)}, a code path does not create its dependency.",
                    f"{d[2]} never held {d[0]} (taken at {d[3]}) while acquiring {d[1]} at {d[4]}.",
                    None,
                    _cycle_locks(c),
                )
        locks = [d[0] for d in c]
        if len(set(locks)) != len(locks):
            raise fail(
                f"Your cycle {_cycle_text(c)} visits a lock twice.",
                "Report elementary cycles: each lock at most once per cycle (a longer loop is several cycles).",
                None,
                _cycle_locks(c),
            )
    mine = [_cycle_locks(c) for c in got]
    missing = sorted(real - set(mine))
    if missing:
        c = missing[0]
        steps = [(c[k], c[(k + 1) % len(c)]) for k in range(len(c))]
        links = "; ".join(f"{a} → {b} ({first[(a, b)][0]} at {first[(a, b)][2]})" for a, b in steps)
        raise fail(
            f"You miss the potential deadlock {arrow(c, str)}.",
            f"The trace creates every link of it: {links}.",
            c,
            None,
        )
    dup = next((c for c in mine if mine.count(c) > 1), None)
    if dup:
        raise fail(
            "Report each cycle once (rotations are the same cycle).",
            f"{arrow(dup, str)} appears {mine.count(dup)} times.",
            None,
            dup,
        )
