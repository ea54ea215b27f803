"""Sample: the reference without the MLFQ class."""

from __future__ import annotations

import heapq
import itertools
from collections import deque

from grader.simos.scheduling import JobInfo, Reason, Scheduler


def _positive_int(value: object) -> bool:
    return type(value) is int and value > 0


class FCFS(Scheduler):
    """First come, first served: a FIFO queue, each job runs until its CPU burst ends."""

    def __init__(self) -> None:
        self.queue: deque[int] = deque()

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        self.queue.append(job.id)

    def dispatch(self, now: int) -> int | None:
        return self.queue.popleft() if self.queue else None


class SJF(Scheduler):
    """Shortest next CPU burst first, non-preemptive: a heap keyed by (burst, ready order)."""

    def __init__(self) -> None:
        self.heap: list[tuple[int, int, int]] = []
        self.seq = itertools.count()

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        heapq.heappush(self.heap, (job.burst, next(self.seq), job.id))

    def dispatch(self, now: int) -> int | None:
        return heapq.heappop(self.heap)[2] if self.heap else None


class STCF(Scheduler):
    """Shortest time-to-completion first: a heap keyed by (remaining, ready order).

    A waiting job's ``remaining`` does not change while it waits, so the key stays valid.
    """

    def __init__(self) -> None:
        self.heap: list[tuple[int, int, int]] = []
        self.seq = itertools.count()

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        heapq.heappush(self.heap, (job.remaining, next(self.seq), job.id))

    def dispatch(self, now: int) -> int | None:
        return heapq.heappop(self.heap)[2] if self.heap else None

    def preempt(self, running: JobInfo, now: int) -> bool:
        return bool(self.heap) and self.heap[0][0] < running.remaining


class RoundRobin(Scheduler):
    """A FIFO queue; each dispatch gives the head one quantum. O(1) per event."""

    def __init__(self, quantum: int) -> None:
        if not _positive_int(quantum):
            raise ValueError(
                f"RoundRobin: quantum must be a positive int (ticks per turn), got {quantum!r}; "
                "e.g. RoundRobin(quantum=4)"
            )
        self.quantum = quantum
        self.queue: deque[int] = deque()

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        self.queue.append(job.id)

    def dispatch(self, now: int) -> tuple[int, int] | None:
        return (self.queue.popleft(), self.quantum) if self.queue else None


class PriorityScheduler(Scheduler):
    """Smallest effective priority first; ties by ready order.

    Preemptive: the running job competes with the effective priority it was dispatched
    with (``self.running_priority``; its aging stops while it runs). Comparing with its
    base priority instead livelocks with a switch cost: a job dispatched thanks to
    aging is preempted at the end of its own switch, having run 0 ticks, forever.

    Without aging: one heap keyed by (priority, ready order).

    With aging ``a``, the effective priority of a job that became ready at ``r`` is
    ``p - (t - r) // a``. Writing ``r = q*a + m`` and ``t = Q*a + M`` (0 <= m, M < a) gives
    ``p - (t - r) // a = (p + q) - Q + (1 if m > M else 0)``: within one residue class ``m``
    the order by ``(p + q, ready order)`` never changes, so each class keeps its own heap
    and a decision compares the heads of the non-empty classes (at most ``a`` of them).
    """

    def __init__(self, preemptive: bool = False, aging: int | None = None) -> None:
        if type(preemptive) is not bool:
            raise ValueError(
                f"PriorityScheduler: preemptive must be True or False, got {preemptive!r}"
            )
        if aging is not None and not _positive_int(aging):
            raise ValueError(
                f"PriorityScheduler: aging must be None or a positive int (ticks of waiting per "
                f"priority step), got {aging!r}; e.g. aging=5, or aging=None for no aging"
            )
        self.preemptive = preemptive
        self.aging = aging
        self.seq = itertools.count()
        # residue class (ready_since % aging, or 0 without aging) -> heap of (key, seq, id)
        self.classes: dict[int, list[tuple[int, int, int]]] = {}
        self.running_priority = 0  # effective priority of the running job at its dispatch

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        if self.aging is None:
            m, key = 0, job.priority
        else:
            m, key = now % self.aging, job.priority + now // self.aging
        heapq.heappush(self.classes.setdefault(m, []), (key, next(self.seq), job.id))

    def _best(self, now: int) -> tuple[int, int, int] | None:
        """(effective priority, seq, residue class) of the job to run at ``now``, or None."""
        if self.aging is None:
            heap = self.classes.get(0)
            return (heap[0][0], heap[0][1], 0) if heap else None
        big, small = divmod(now, self.aging)
        best: tuple[int, int, int] | None = None
        for m, heap in self.classes.items():
            key, seq, _ = heap[0]
            cand = (key - big + (1 if m > small else 0), seq, m)
            if best is None or cand < best:
                best = cand
        return best

    def dispatch(self, now: int) -> int | None:
        best = self._best(now)
        if best is None:
            return None
        heap = self.classes[best[2]]
        jid = heapq.heappop(heap)[2]
        if not heap:
            del self.classes[best[2]]
        self.running_priority = best[0]
        return jid

    def preempt(self, running: JobInfo, now: int) -> bool:
        if not self.preemptive:
            return False
        best = self._best(now)
        return best is not None and best[0] < self.running_priority

    def next_timer(self, now: int) -> int | None:
        """The first instant where a waiting job's effective priority falls below the
        running job's, or None.

        The handout asks for the next instant where *any* waiting job's effective
        priority drops; ``preempt`` says False at all the earlier ones, so this gives
        the same schedule with one timer per run instead of one per tick. In class
        ``m`` the effective priority at ``t`` is ``key - (t - m) // a``, which is below
        ``held`` from ``t = m + a * (key - held + 1)`` on; the head has the least key.
        """
        if not self.preemptive or self.aging is None or not self.classes:
            return None
        a, held = self.aging, self.running_priority
        first = min(m + a * (heap[0][0] - held + 1) for m, heap in self.classes.items())
        return max(first, now + 1)
