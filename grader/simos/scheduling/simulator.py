"""Event-driven single-CPU simulator: a heap of events, no per-tick loop.

Cost grows with the number of jobs, bursts, dispatches and timers, never with idle
ticks. Ties at one instant follow the order documented in ``policy.py``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

from .model import (
    Job,
    JobId,
    JobInfo,
    Reason,
    SchedulingError,
    Segment,
    SegmentKind,
    StopReason,
    Ticks,
    Trace,
    validate_workload,
)
from .policy import Scheduler

# Event classes, in the order they are handled within one instant.
_SLICE_END, _TIMER, _ARRIVAL, _IO_DONE, _SWITCH_END = range(5)

DEFAULT_MAX_STEPS = 20_000_000


class _JobState:
    __slots__ = ("burst_index", "job", "remaining")

    def __init__(self, job: Job) -> None:
        self.job = job
        self.burst_index = 0  # index into job.bursts (always even: a CPU burst)
        self.remaining = job.bursts[0]

    def info(self, ran: Ticks = 0) -> JobInfo:
        """The scheduler's view; ``ran`` = ticks run in the current slice, not yet deducted."""
        j = self.job
        return JobInfo(
            j.id, j.arrival, j.priority, j.bursts[self.burst_index], self.remaining - ran
        )


def _check_decision(decision: object, now: Ticks) -> tuple[JobId, Ticks | None] | None:
    if decision is None:
        return None
    if type(decision) is int:
        return decision, None
    if (
        type(decision) is tuple
        and len(decision) == 2
        and type(decision[0]) is int
        and type(decision[1]) is int
    ):
        if decision[1] < 1:
            raise SchedulingError(
                f"dispatch() at t={now} returned slice {decision[1]} for job {decision[0]}; "
                "a slice must be at least 1 tick"
            )
        return decision[0], decision[1]
    raise SchedulingError(
        f"dispatch() at t={now} returned {decision!r} of type {type(decision).__name__}; "
        "return a job id (int), a tuple (job_id, slice) of ints, or None"
    )


def simulate(
    jobs: Iterable[Job],
    scheduler: Scheduler,
    switch_cost: Ticks = 0,
    max_steps: int = DEFAULT_MAX_STEPS,
) -> Trace:
    """Run ``jobs`` under ``scheduler`` and return what the CPU did.

    Raises WorkloadError for a bad workload, SchedulingError when the scheduler
    breaks the contract, and whatever the scheduler's own methods raise.
    """
    workload = validate_workload(list(jobs))
    if type(switch_cost) is not int or switch_cost < 0:
        raise SchedulingError(f"switch_cost must be an int >= 0, got {switch_cost!r}")
    states = {j.id: _JobState(j) for j in workload}
    heap: list[tuple[Ticks, int, int, int]] = []
    for j in workload:
        heapq.heappush(heap, (j.arrival, _ARRIVAL, j.id, 0))

    segments: list[Segment] = []
    ready: set[JobId] = set()
    unfinished = len(workload)
    io_seq = 0
    steps = 0

    running: _JobState | None = None
    run_start = 0
    switch_until = 0
    slice_version = 0
    pending_change = False  # something became ready during a context switch
    last_ran: JobId | None = None
    timer_at: Ticks | None = None
    timer_version = 0

    def make_ready(st: _JobState, now: Ticks, reason: Reason) -> None:
        ready.add(st.job.id)
        scheduler.ready(st.info(), now, reason)

    while unfinished:
        if not heap:
            raise SchedulingError(
                f"the simulation stalled with jobs {sorted(ready)} ready and nothing running"
            )
        now = heap[0][0]
        changed = False
        happened = False  # False when every event at ``now`` was stale: not an instant at all
        while heap and heap[0][0] == now:
            _, kind, key, version = heapq.heappop(heap)
            steps += 1
            if steps > max_steps:
                raise SchedulingError(
                    f"more than {max_steps} scheduling steps by t={now}: "
                    "does the scheduler ask for a timer every tick or re-dispatch forever?"
                )
            if kind == _SLICE_END:
                if running is None or version != slice_version:
                    continue
                happened = True
                st, running = running, None
                ran = now - run_start
                segments.append(Segment(run_start, now, st.job.id))
                st.remaining -= ran
                if st.remaining == 0:
                    finished = st.info()
                    st.burst_index += 1
                    if st.burst_index >= len(st.job.bursts):
                        unfinished -= 1
                        scheduler.stopped(finished, now, ran, StopReason.FINISHED)
                    else:
                        io = st.job.bursts[st.burst_index]
                        st.burst_index += 1
                        st.remaining = st.job.bursts[st.burst_index]
                        io_seq += 1
                        heapq.heappush(heap, (now + io, _IO_DONE, io_seq, st.job.id))
                        scheduler.stopped(finished, now, ran, StopReason.BLOCKED)
                else:
                    scheduler.stopped(st.info(), now, ran, StopReason.EXPIRED)
                    make_ready(st, now, Reason.EXPIRED)
            elif kind == _TIMER:
                if version != timer_version:
                    continue
                happened = True
                timer_at = None
                scheduler.timer(now)
                changed = True
            elif kind == _ARRIVAL:
                make_ready(states[key], now, Reason.ARRIVED)
                changed = happened = True
            elif kind == _IO_DONE:
                make_ready(states[version], now, Reason.IO_DONE)
                changed = happened = True
            else:  # _SWITCH_END only wakes the loop up; handled below.
                happened = True
        if not happened:
            # Only stale events (the old slice end of a preempted job, a timer the
            # scheduler no longer wants): do not call dispatch/next_timer at this instant.
            continue

        if running is not None:
            if now < switch_until:
                pending_change = pending_change or changed
            elif changed or (now == switch_until and pending_change):
                pending_change = False
                steps += 1
                # ``remaining`` must count the ticks run so far in this slice (STCF compares it).
                if scheduler.preempt(running.info(now - run_start), now):
                    st, running = running, None
                    slice_version += 1
                    ran = now - run_start
                    if ran:
                        segments.append(Segment(run_start, now, st.job.id))
                    st.remaining -= ran
                    scheduler.stopped(st.info(), now, ran, StopReason.PREEMPTED)
                    make_ready(st, now, Reason.PREEMPTED)

        if running is None and unfinished:
            decision = _check_decision(scheduler.dispatch(now), now)
            steps += 1
            if decision is None:
                if ready:
                    raise SchedulingError(
                        f"dispatch() returned None at t={now} but jobs {sorted(ready)} are ready; "
                        "the CPU must not idle while a job is ready"
                    )
            else:
                jid, slice_ = decision
                if jid not in ready:
                    state = "unknown" if jid not in states else "not ready"
                    raise SchedulingError(
                        f"dispatch() at t={now} returned job {jid}, which is {state}; "
                        f"ready jobs are {sorted(ready)}"
                    )
                ready.discard(jid)
                running = states[jid]
                cost = switch_cost if last_ran is not None and last_ran != jid else 0
                last_ran = jid
                if cost:
                    segments.append(Segment(now, now + cost, jid, SegmentKind.SWITCH))
                    heapq.heappush(heap, (now + cost, _SWITCH_END, 0, 0))
                switch_until = now + cost
                run_start = now + cost
                pending_change = False
                length = running.remaining if slice_ is None else min(slice_, running.remaining)
                slice_version += 1
                heapq.heappush(heap, (run_start + length, _SLICE_END, 0, slice_version))

        if unfinished:
            want = scheduler.next_timer(now)
            if want is not None and (type(want) is not int or want <= now):
                raise SchedulingError(
                    f"next_timer() at t={now} returned {want!r}; return an int > {now} or None"
                )
            if want != timer_at:
                timer_version += 1
                timer_at = want
                if want is not None:
                    heapq.heappush(heap, (want, _TIMER, 0, timer_version))

    return Trace(tuple(segments), switch_cost)
