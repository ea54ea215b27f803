"""Sample: the reference, except a dependency is recorded only from the most recent held lock."""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from grader.simos.deadlock import (
    ACQUIRE,
    Decision,
    Dependency,
    Detection,
    LockTrace,
    SystemState,
    WaitForGraph,
)
from grader.simos.deadlock.dining import Table
from grader.simos.sync import yield_cpu

# ----------------------------------------------------------------------------- reduction


def _reduce(
    available: Sequence[int],
    allocation: Sequence[Sequence[int]],
    demand: Sequence[Sequence[int]],
) -> tuple[list[int], list[int]]:
    """(finish order, processes that never finish): repeatedly run the lowest-numbered
    process whose demand fits in the free units, and take back what it holds."""
    n, m = len(allocation), len(available)
    work = list(available)
    by_type = [sorted(range(n), key=lambda i, j=j: demand[i][j]) for j in range(m)]
    pos = [0] * m
    blocking = [m] * n  # resource types whose demand does not fit yet
    ready: list[int] = []

    def advance(j: int) -> None:
        order, w, k = by_type[j], work[j], pos[j]
        while k < n and demand[order[k]][j] <= w:
            i = order[k]
            blocking[i] -= 1
            if blocking[i] == 0:
                heapq.heappush(ready, i)
            k += 1
        pos[j] = k

    for j in range(m):
        advance(j)
    finished: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        finished.append(i)
        row = allocation[i]
        for j in range(m):
            if row[j]:
                work[j] += row[j]
                advance(j)
    done = set(finished)
    return finished, [i for i in range(n) if i not in done]


def detect(state: SystemState) -> Detection:
    """The deadlocked processes and a witness order for the others (lowest index first)."""
    request = state.request
    if request is None:
        raise ValueError("detect needs a state with a request matrix")
    order, stuck = _reduce(state.available, state.allocation, request)
    return Detection(deadlocked=stuck, order=order)


# ----------------------------------------------------------------------------- wait-for graph


def find_cycle(graph: WaitForGraph) -> list[int] | None:
    """A cycle of the wait-for graph, or None: the first back edge of a depth-first search
    from P0, P1, ... in turn, successors in increasing order."""
    n = graph.n
    succ = graph.successors
    state = [0] * n  # 0 unvisited, 1 on the current path, 2 finished
    where = [0] * n  # position on the current path
    for root in range(n):
        if state[root]:
            continue
        path = [root]
        nexts = [0]
        state[root] = 1
        while path:
            u = path[-1]
            k = nexts[-1]
            row = succ[u]
            if k == len(row):
                state[u] = 2
                path.pop()
                nexts.pop()
                continue
            nexts[-1] = k + 1
            v = row[k]
            if state[v] == 1:
                return path[where[v] :]
            if state[v] == 0:
                state[v] = 1
                where[v] = len(path)
                path.append(v)
                nexts.append(0)
    return None


# ----------------------------------------------------------------------------- Banker's


def safe_sequence(state: SystemState) -> list[int] | None:
    """A safe sequence (lowest index first among those whose need fits), or None if unsafe."""
    order, stuck = _reduce(state.available, state.allocation, state.need)
    return None if stuck else order


def request_decision(state: SystemState, process: int, request: Sequence[int]) -> Decision:
    """Grant, wait, unsafe or exceeds-claim, checked in that order of the handout."""
    need = state.need[process]
    m = state.resources
    if any(request[j] > need[j] for j in range(m)):
        return Decision.EXCEEDS_CLAIM
    if any(request[j] > state.available[j] for j in range(m)):
        return Decision.WAIT
    available = tuple(state.available[j] - request[j] for j in range(m))
    allocation = list(state.allocation)
    allocation[process] = tuple(allocation[process][j] + request[j] for j in range(m))
    after = SystemState(available, tuple(allocation), maximum=state.maximum)
    return Decision.GRANT if safe_sequence(after) is not None else Decision.UNSAFE


# ----------------------------------------------------------------------------- lock order


def lock_dependencies(trace: LockTrace) -> list[Dependency]:
    """Every "held A while acquiring B" edge once, with the first event that created it."""
    held: dict[str, list[tuple[str, str]]] = {}  # thread -> [(lock, site it was taken at)]
    seen: dict[tuple[str, str], Dependency] = {}
    for e in trace.events:
        mine = held.get(e.thread)
        if mine is None:
            mine = held[e.thread] = []
        if e.op == ACQUIRE:
            for lock, site in mine[-1:]:
                key = (lock, e.lock)
                if key not in seen:
                    seen[key] = Dependency(lock, e.lock, e.thread, site, e.site)
            mine.append((e.lock, e.site))
        else:
            for k in range(len(mine) - 1, -1, -1):
                if mine[k][0] == e.lock:
                    del mine[k]
                    break
    return list(seen.values())


def _components(nodes: list[str], succ: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, k = work.pop()
            if k == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            row = succ.get(v, [])
            if k < len(row):
                work.append((v, k + 1))
                w = row[k]
                if w not in index:
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


def _simple_cycles(nodes: list[str], succ: dict[str, list[str]]) -> list[list[str]]:
    """Every elementary cycle (Johnson's algorithm), each starting at its smallest node."""
    cycles: list[list[str]] = []
    for v in nodes:
        if v in succ.get(v, ()):
            cycles.append([v])
    graph = {v: [w for w in succ.get(v, ()) if w != v] for v in nodes}
    pending = [sorted(c) for c in _components(nodes, graph) if len(c) > 1]
    while pending:
        comp = pending.pop()
        start = comp[0]  # the smallest node: every cycle through it starts here
        members = set(comp)
        sub = {v: [w for w in graph[v] if w in members] for v in comp}
        blocked = {start}
        closed: set[str] = set()
        b: dict[str, set[str]] = {v: set() for v in comp}
        path = [start]
        stack = [(start, iter(sub[start]))]
        while stack:
            v, it = stack[-1]
            w = next(it, None)
            if w is not None:
                if w == start:
                    cycles.append(list(path))
                    closed.update(path)
                elif w not in blocked:
                    path.append(w)
                    stack.append((w, iter(sub[w])))
                    closed.discard(w)
                    blocked.add(w)
                continue
            if v in closed:
                todo = [v]
                while todo:
                    x = todo.pop()
                    if x in blocked:
                        blocked.discard(x)
                        todo.extend(b[x])
                        b[x].clear()
            else:
                for w2 in sub[v]:
                    b[w2].add(v)
            stack.pop()
            path.pop()
        rest = [v for v in comp if v != start]
        sub_rest = {v: [w for w in sub[v] if w != start] for v in rest}
        pending.extend(sorted(c) for c in _components(rest, sub_rest) if len(c) > 1)
    return cycles


def potential_deadlocks(trace: LockTrace) -> list[list[Dependency]]:
    """Every cycle of the lock-order graph, as its dependencies in order, each once."""
    deps = lock_dependencies(trace)
    edge = {(d.held, d.acquired): d for d in deps}
    succ: dict[str, list[str]] = {}
    for d in deps:
        succ.setdefault(d.held, []).append(d.acquired)
    nodes = sorted({x for d in deps for x in (d.held, d.acquired)})
    found = []
    for cycle in _simple_cycles(nodes, succ):
        found.append([edge[(a, cycle[(k + 1) % len(cycle)])] for k, a in enumerate(cycle)])
    found.sort(key=lambda c: [d.held for d in c])
    return found


# ----------------------------------------------------------------------------- dining


def philosopher_naive(table: Table, i: int) -> None:
    """One meal: the left fork, then the right one. Can deadlock (all hold their left fork)."""
    left, right = table.left(i), table.right(i)
    left.acquire()
    right.acquire()
    table.eat(i)
    right.release()
    left.release()


def philosopher_all_at_once(table: Table, i: int) -> None:
    """One meal: both forks in one step when both are free (the table's monitor), else wait
    holding none, so nobody ever holds a fork while waiting (no hold and wait)."""
    left, right = table.left(i), table.right(i)
    table.lock.acquire()
    while left.in_use() or right.in_use():
        table.changed.wait()
    left.acquire()
    right.acquire()
    table.lock.release()
    table.eat(i)
    table.lock.acquire()
    right.release()
    left.release()
    table.changed.broadcast()
    table.lock.release()


def philosopher_release_retry(table: Table, i: int) -> None:
    """One meal: the left fork, then *try* the right one; if it is in use, put the left one
    down, let the others run, and start again (a philosopher gives up what it holds)."""
    left, right = table.left(i), table.right(i)
    while True:
        left.acquire()
        if right.try_acquire():
            break
        left.release()
        yield_cpu()
    table.eat(i)
    right.release()
    left.release()


def philosopher_ordered(table: Table, i: int) -> None:
    """One meal: the lower-numbered fork first (a global order, so no circular wait)."""
    left, right = table.left(i), table.right(i)
    first, second = (left, right) if left.number < right.number else (right, left)
    first.acquire()
    second.acquire()
    table.eat(i)
    second.release()
    first.release()
