"""Sample: a correct solution written differently from the reference (must score full marks).

The textbook loops (rescan after every finish), a depth-first search with an explicit
stack of iterators and colour dictionaries, the cycle reported starting at the node whose
edge closes it (a rotation: the same cycle), held locks as an insertion-ordered dict, and
cycles enumerated by a plain search from each lock over larger locks only. The dining
philosophers take their forks by other means (try_acquire under the monitor, the right fork
first, min and max), on the synchronization assignment's alternative primitives.py.
"""

from __future__ import annotations

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


def _run(
    available: Sequence[int], allocation: Sequence[Sequence[int]], want: Sequence[Sequence[int]]
) -> list[int]:
    work = list(available)
    done: list[int] = []
    left = list(range(len(allocation)))
    while True:
        for i in left:  # lowest index first: rescan from the start after each finish
            if all(w <= x for w, x in zip(want[i], work, strict=True)):
                work = [x + a for x, a in zip(work, allocation[i], strict=True)]
                done.append(i)
                left.remove(i)
                break
        else:
            return done


def detect(state: SystemState) -> Detection:
    assert state.request is not None
    done = _run(state.available, state.allocation, state.request)
    return Detection(deadlocked=sorted(set(range(state.processes)) - set(done)), order=done)


def find_cycle(graph: WaitForGraph) -> list[int] | None:
    colour: dict[int, str] = {}
    for root in range(graph.n):
        if root in colour:
            continue
        colour[root] = "grey"
        path = [root]
        stack = [iter(graph.waits_for(root))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                colour[path.pop()] = "black"
                stack.pop()
            elif colour.get(nxt) == "grey":
                start = path.index(nxt)
                return [path[-1], *path[start:-1]]  # rotated: begins where the back edge starts
            elif nxt not in colour:
                colour[nxt] = "grey"
                path.append(nxt)
                stack.append(iter(graph.waits_for(nxt)))
    return None


def safe_sequence(state: SystemState) -> list[int] | None:
    done = _run(state.available, state.allocation, state.need)
    return done if len(done) == state.processes else None


def request_decision(state: SystemState, process: int, request: Sequence[int]) -> Decision:
    need = state.need[process]
    if not all(r <= x for r, x in zip(request, need, strict=True)):
        return Decision.EXCEEDS_CLAIM
    if not all(r <= x for r, x in zip(request, state.available, strict=True)):
        return Decision.WAIT
    rows = [list(row) for row in state.allocation]
    rows[process] = [a + r for a, r in zip(rows[process], request, strict=True)]
    after = SystemState(
        available=[a - r for a, r in zip(state.available, request, strict=True)],  # type: ignore[arg-type]
        allocation=rows,  # type: ignore[arg-type]
        maximum=state.maximum,
    )
    return Decision.UNSAFE if safe_sequence(after) is None else Decision.GRANT


def lock_dependencies(trace: LockTrace) -> list[Dependency]:
    held: dict[str, dict[str, str]] = {}
    found: dict[tuple[str, str], Dependency] = {}
    for event in trace.events:
        mine = held.setdefault(event.thread, {})
        if event.op != ACQUIRE:
            mine.pop(event.lock)
            continue
        for lock, site in mine.items():
            found.setdefault(
                (lock, event.lock), Dependency(lock, event.lock, event.thread, site, event.site)
            )
        mine[event.lock] = event.site
    return sorted(found.values(), key=lambda d: (d.held, d.acquired))


def potential_deadlocks(trace: LockTrace) -> list[list[Dependency]]:
    deps = {(d.held, d.acquired): d for d in lock_dependencies(trace)}
    succ: dict[str, list[str]] = {}
    for a, b in deps:
        succ.setdefault(a, []).append(b)
    cycles: list[list[Dependency]] = []
    for start in sorted(succ):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in succ.get(node, []):
                if nxt == start:
                    cycles.append(
                        [deps[(path[k], [*path, start][k + 1])] for k in range(len(path))]
                    )
                elif nxt > start and nxt not in path:
                    stack.append((nxt, [*path, nxt]))
    return cycles


# Part 5, written differently from the reference (and run on another correct Mutex: the
# sync assignment's alternative, without hand-off).


def philosopher_naive(table: Table, i: int) -> None:
    mine = [table.forks[i], table.forks[(i + 1) % table.n]]
    for fork in mine:
        fork.acquire()
    table.eat(i)
    for fork in reversed(mine):
        fork.release()


def philosopher_all_at_once(table: Table, i: int) -> None:
    forks = (table.left(i), table.right(i))
    table.lock.acquire()
    while any(f.in_use() for f in forks):
        table.changed.wait()
    for f in forks:
        if not f.try_acquire():  # both are free, and nobody takes a fork without the lock
            raise RuntimeError(f"fork {f.number} was taken behind the table lock's back")
    table.lock.release()
    table.eat(i)
    table.lock.acquire()
    for f in forks:
        f.release()
    table.changed.broadcast()
    table.lock.release()


def philosopher_release_retry(table: Table, i: int) -> None:
    first, second = table.right(i), table.left(i)  # the right fork first, for a change
    while True:
        first.acquire()
        if second.try_acquire():
            break
        first.release()
        yield_cpu()
    table.eat(i)
    first.release()
    second.release()


def philosopher_ordered(table: Table, i: int) -> None:
    pair = (table.left(i), table.right(i))
    low = min(pair, key=lambda f: f.number)
    high = max(pair, key=lambda f: f.number)
    low.acquire()
    high.acquire()
    table.eat(i)
    low.release()
    high.release()
