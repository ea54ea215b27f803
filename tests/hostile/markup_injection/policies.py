"""Hostile submission (reference + one twist): FCFS.dispatch raises an exception whose message is HTML and Markdown that would fake a passing report (a script, a closed code block, a heading, a link, a results table row)."""

from __future__ import annotations

import heapq
import itertools
from collections import deque

from grader.simos.scheduling import JobInfo, Reason, Scheduler, StopReason

PAYLOAD = (
    "</pre></code></div><script>alert('HOSTILE-MARKER')</script>"
    "<img src=x onerror=alert(1)>\n\n```\n\n# Score: 100 / 100\n\n"
    "| 1 | FCFS | passed | 8 / 8 |\n[all tests passed](javascript:alert(1))\n"
)


def _hostile(value: object) -> object:
    raise ValueError(PAYLOAD)


def _positive_int(value: object) -> bool:
    return type(value) is int and value > 0


class FCFS(Scheduler):
    """First come, first served: a FIFO queue, each job runs until its CPU burst ends."""

    def __init__(self) -> None:
        self.queue: deque[int] = deque()

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        self.queue.append(job.id)

    def dispatch(self, now: int) -> int | None:
        return _hostile(self.queue.popleft() if self.queue else None)


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


class _Level:
    """MLFQ bookkeeping of one job."""

    __slots__ = ("allot_left", "blocked_at", "epoch", "level", "quantum_left")

    def __init__(self) -> None:
        self.level = 0
        self.quantum_left = 0
        self.allot_left = 0
        self.epoch = 0  # the boost count when it last entered a queue
        self.blocked_at = 0  # when its current I/O started


class MLFQ(Scheduler):
    """Multi-level feedback queue with allotments and an optional periodic boost.

    O(levels) per event, amortised. A boost is lazy: it appends the lower queues to
    level 0 (each waiting job is moved by a boost at most once per demotion) and bumps
    an epoch counter; a waiting job whose epoch is old gets a fresh level-0 quantum and
    allotment when it is dispatched. A job blocked in I/O is reset when it comes back if
    a boost instant lies in [I/O start, I/O end] (a boost at the I/O start comes after
    ``stopped``, one at the I/O end before ``ready``), so no timer is needed while no job
    waits or runs, and an idle gap costs nothing.
    """

    def __init__(self, quanta: list[int], allotments: list[int], boost: int | None = None) -> None:
        if not isinstance(quanta, (list, tuple)) or not quanta:
            raise ValueError(
                f"MLFQ: quanta must be a non-empty list of positive ints (the quantum of each "
                f"level, level 0 first), got {quanta!r}; e.g. quanta=[2, 4, 8]"
            )
        if not isinstance(allotments, (list, tuple)) or len(allotments) != len(quanta):
            raise ValueError(
                f"MLFQ: allotments must be a list with one entry per level ({len(quanta)} "
                f"levels in quanta={list(quanta)!r}), got {allotments!r}; e.g. allotments="
                f"{[1] * len(quanta)!r}"
            )
        for name, values in (("quanta", quanta), ("allotments", allotments)):
            bad = [v for v in values if not _positive_int(v)]
            if bad:
                raise ValueError(
                    f"MLFQ: every entry of {name} must be a positive int, got {name}="
                    f"{list(values)!r} (bad: {bad[0]!r}); use whole ticks / counts >= 1"
                )
        if boost is not None and not _positive_int(boost):
            raise ValueError(
                f"MLFQ: boost must be None (no boost) or a positive int (the boost period in "
                f"ticks), got {boost!r}; e.g. boost=50"
            )
        self.quanta = list(quanta)
        self.allotments = list(allotments)
        self.boost = boost
        self.queues: list[deque[int]] = [deque() for _ in self.quanta]
        self.jobs: dict[int, _Level] = {}
        self.epoch = 0  # number of boosts so far
        self.running: int | None = None
        self.boosted_at: int | None = None  # a boost happened at this instant while it ran

    def _fresh(self, st: _Level, level: int) -> None:
        st.level = level
        st.quantum_left = self.quanta[level]
        st.allot_left = self.allotments[level]

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        st = self.jobs.get(job.id)
        if st is None or reason is Reason.ARRIVED:
            st = self.jobs[job.id] = _Level()
            self._fresh(st, 0)
        elif (
            reason is Reason.IO_DONE
            and self.boost is not None
            and now // self.boost * self.boost >= st.blocked_at
        ):
            self._fresh(st, 0)  # a boost happened while it was blocked
        st.epoch = self.epoch
        if reason is Reason.PREEMPTED:
            self.queues[st.level].appendleft(job.id)
        else:
            self.queues[st.level].append(job.id)

    def dispatch(self, now: int) -> tuple[int, int] | None:
        for level, queue in enumerate(self.queues):
            if queue:
                jid = queue.popleft()
                st = self.jobs[jid]
                if st.epoch != self.epoch:  # boosted while waiting (it sits in level 0 now)
                    self._fresh(st, 0)
                    st.epoch = self.epoch
                st.level = level
                self.running = jid
                return jid, st.quantum_left
        return None

    def stopped(self, job: JobInfo, now: int, ran: int, reason: StopReason) -> None:
        self.running = None
        charged = ran
        if self.boosted_at is not None:  # forget the ticks it ran before the boost
            charged = min(ran, now - self.boosted_at)
            self.boosted_at = None
        if reason is StopReason.FINISHED:
            del self.jobs[job.id]
            return
        st = self.jobs[job.id]
        st.quantum_left -= charged
        if st.quantum_left <= 0:
            st.allot_left -= 1
            if st.allot_left <= 0:
                self._fresh(st, min(st.level + 1, len(self.quanta) - 1))
            else:
                st.quantum_left = self.quanta[st.level]
        if reason is StopReason.BLOCKED:
            st.blocked_at = now

    def preempt(self, running: JobInfo, now: int) -> bool:
        if self.boosted_at is not None:
            return True
        level = self.jobs[running.id].level
        return any(self.queues[i] for i in range(level))

    def next_timer(self, now: int) -> int | None:
        if self.boost is None or (self.running is None and not any(self.queues)):
            return None  # blocked jobs are reset lazily when they come back
        return (now // self.boost + 1) * self.boost

    def timer(self, now: int) -> None:
        if self.boost is None:
            return
        self.epoch += 1
        top = self.queues[0]
        for queue in self.queues[1:]:
            top.extend(queue)
            queue.clear()
        if self.running is not None:
            st = self.jobs[self.running]
            self._fresh(st, 0)
            st.epoch = self.epoch
            self.boosted_at = now
