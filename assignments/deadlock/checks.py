"""Oracles and pictures of the deadlock properties, independent of the reference.

The validity properties decide with these only: the textbook fixpoint loop (who can
finish), a replay of a given order, Kahn's algorithm (is there a cycle), a brute-force
scan of each thread's held locks at every acquire, and every permutation of the locks
(every lock-order cycle). The pictures turn a counterexample into a table (a finishing
order step by step; the Banker's checks) or a graph (wait-for or lock order, reference
beside the student's answer).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any, Literal

from grader.engine.props import Failure
from grader.engine.results import (
    GraphEdge,
    GraphNode,
    GraphPanel,
    GraphPicture,
    TableCell,
    TablePicture,
)
from grader.simos.deadlock import SystemState

Data = dict[str, Any]
Mat = list[list[int]]

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
CodePath = tuple[str, str, str]  # thread, held_at, acquired_at


def lock_edges(
    events: Sequence[Event],
) -> tuple[dict[tuple[str, str], set[CodePath]], dict[tuple[str, str], CodePath]]:
    """Every dependency with every code path that creates it, and the first such path.

    Brute force: at each acquire, the thread holds every lock whose last event of that
    thread so far is an acquire.
    """
    paths: dict[tuple[str, str], set[CodePath]] = {}
    first: dict[tuple[str, str], CodePath] = {}
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


def _need(s: SystemState) -> Mat:
    return [list(r) for r in s.need]


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
