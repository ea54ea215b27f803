"""Deadlock detection, avoidance, lock-order checking and prevention: fill in the functions below.

Read README.md first: it states every rule, including how ties are broken. The data
types come from ``grader.simos.deadlock``; you may import ``heapq``, ``collections``,
``itertools`` and the few other modules the README lists (the grader refuses the others).

Names used in every docstring: processes are numbered 0 .. n-1 (P0, P1, ...), resource
types 0 .. m-1 (R0, R1, ...). "A fits in B" means ``A[j] <= B[j]`` for every resource
type j. "Free" (or "work") is the vector of units nobody holds.
"""

from __future__ import annotations

from collections.abc import Sequence

from grader.simos.deadlock import (
    Decision,
    Dependency,
    Detection,
    LockTrace,
    SystemState,
    WaitForGraph,
)
from grader.simos.deadlock.dining import Table
from grader.simos.sync import yield_cpu  # noqa: F401  (for philosopher_release_retry)


def detect(state: SystemState) -> Detection:
    """Part 1. The deadlocked processes, and a witness order in which all others finish.

    Rule: start with work = ``state.available``. Repeatedly take the lowest-numbered
    unfinished process whose ``state.request[i]`` fits in work; it finishes and releases
    ``state.allocation[i]`` (work grows by it). When no unfinished process fits, the
    unfinished ones are deadlocked.

    Example: available (0, 0); P0 holds (1, 0) and requests (0, 1); P1 holds (0, 1) and
    requests (1, 0); P2 holds nothing and requests nothing. P2 finishes, then nobody fits::

        detect(state) == Detection(deadlocked=[0, 1], order=[2])
    """
    raise NotImplementedError("detect")


def find_cycle(graph: WaitForGraph) -> list[int] | None:
    """Part 2. One cycle of the wait-for graph (a deadlock), or None if there is none.

    Return the processes of the cycle in order: ``[1, 3, 2]`` means P1 waits for P3, P3
    for P2 and P2 for P1. A self-loop (P4 waits for itself) is the cycle ``[4]``.
    ``graph.waits_for(p)`` lists the processes p waits for, in increasing order.

    Rule (for the reference test; any real cycle earns the other tests): depth-first
    search from P0, then from each process not yet visited in increasing order, visiting
    successors in increasing order; the first edge that leads back to a process on the
    current path closes the cycle. Write it without recursion: graphs can be large.
    """
    raise NotImplementedError("find_cycle")


def safe_sequence(state: SystemState) -> list[int] | None:
    """Part 3a. The Banker's safety check: a safe sequence of all processes, or None.

    Rule: like ``detect``, but with ``state.need`` (maximum claim minus allocation) in
    place of the request: repeatedly take the lowest-numbered unfinished process whose
    need fits in work. If every process finishes, return that order; otherwise None.
    """
    raise NotImplementedError("safe_sequence")


def request_decision(state: SystemState, process: int, request: Sequence[int]) -> Decision:
    """Part 3b. The Banker's decision on ``process`` asking for ``request`` more units.

    Checks, in this order (the first that fails decides):

    1. ``request`` fits in the process's need, else ``Decision.EXCEEDS_CLAIM``;
    2. ``request`` fits in the free units, else ``Decision.WAIT``;
    3. pretend to grant it (free -= request, the process's allocation += request): if
       the new state is safe, ``Decision.GRANT``, else ``Decision.UNSAFE``.
    """
    raise NotImplementedError("request_decision")


def lock_dependencies(trace: LockTrace) -> list[Dependency]:
    """Part 4a. The lock-order graph: every "held A while acquiring B", each once.

    For each ``acquire`` of B by thread T, for every lock A that T holds at that moment
    (not only the most recent one), there is a dependency A -> B. Report each pair
    (A, B) once, with the code path of the first event in the trace that created it:
    ``Dependency(A, B, T, site where T took A, site of this acquire of B)``.
    The order of the list does not matter.
    """
    raise NotImplementedError("lock_dependencies")


def potential_deadlocks(trace: LockTrace) -> list[list[Dependency]]:
    """Part 4b. Every cycle of the lock-order graph, each once, as its dependencies.

    A cycle A -> B -> C -> A is reported as ``[dep(A, B), dep(B, C), dep(C, A)]``, each
    dependency exactly as ``lock_dependencies`` reports it. List every elementary cycle
    (no lock twice), each once: a rotation is the same cycle. The order of the cycles,
    and where each one starts, do not matter.
    """
    raise NotImplementedError("potential_deadlocks")


# Part 5. The dining philosophers: one meal of philosopher i, four ways. Each runs on
# thread Ti; ``table.left(i)`` is fork i, ``table.right(i)`` is fork (i + 1) % n, and
# ``table.eat(i)`` eats (holding both). The tests call each function once per meal.


def philosopher_naive(table: Table, i: int) -> None:
    """Part 5a. Take the left fork, then the right one, eat, put both down.

    Nothing else: no other lock, no retry. This version CAN deadlock (every philosopher
    holding its left fork and waiting for its right one), and the test checks that the
    explorer finds that deadlock.
    """
    raise NotImplementedError("philosopher_naive")


def philosopher_all_at_once(table: Table, i: int) -> None:
    """Part 5b. Take both forks in one step, when both are free; until then wait holding
    no fork (use ``table.lock`` and ``table.changed``; ``fork.in_use()``).

    Breaks "hold and wait": nobody ever holds a fork while waiting for another.
    """
    raise NotImplementedError("philosopher_all_at_once")


def philosopher_release_retry(table: Table, i: int) -> None:
    """Part 5c. Take the left fork, then only *try* the right one
    (``fork.try_acquire()``); if it is in use, put the left fork down, call
    ``yield_cpu()`` and start again.

    Breaks "no preemption": a philosopher that cannot get everything gives back what it holds.
    """
    raise NotImplementedError("philosopher_release_retry")


def philosopher_ordered(table: Table, i: int) -> None:
    """Part 5d. Take the lower-numbered of your two forks first (``fork.number``), then
    the other one.

    Breaks "circular wait": with one global order, the waits cannot go round the table.
    """
    raise NotImplementedError("philosopher_ordered")
