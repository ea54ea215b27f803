"""Reading a trace back: is it physically possible, what was ready when, where two traces differ.

Used by the trusted grader on traces that came from an untrusted worker, so every
function here treats the trace as data to be checked, never as truth.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from .model import Job, JobId, Segment, SegmentKind, Ticks, Trace


@dataclass(frozen=True, slots=True)
class Candidate:
    """A job as it stood at one instant of a replayed trace."""

    id: JobId
    arrival: Ticks
    priority: int
    burst: Ticks  # length of its current CPU burst
    remaining: Ticks  # ticks left in that burst
    ready_since: Ticks  # when it last became ready (arrival, I/O done, expiry, preemption)
    cpu_used: Ticks  # CPU ticks received so far, all bursts
    rank: tuple[Ticks, int, int]  # FIFO position: (ready_since, event class, tie key)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The system just after instant ``time``: who holds the CPU and who waits."""

    time: Ticks
    running: Candidate | None  # computing or being switched in during [time, time + 1)
    waiting: tuple[Candidate, ...]  # ready but not on the CPU, oldest ready first
    dispatched: bool  # ``running`` was chosen at this instant
    in_switch: bool = False  # ``running`` is still being switched in (not computing yet)


def validate_trace(jobs: tuple[Job, ...] | list[Job], trace: Trace) -> list[str]:
    """Every way ``trace`` is impossible for ``jobs``; empty when it is a real schedule."""
    problems: list[str] = []
    by_id = {j.id: j for j in jobs}
    ready_at = {j.id: j.arrival for j in jobs}
    burst = {j.id: 0 for j in jobs}
    remaining = {j.id: j.bursts[0] for j in jobs}
    done: set[JobId] = set()
    pool = [(j.arrival, j.id) for j in jobs]  # lazy heap of waiting jobs
    heapq.heapify(pool)
    waiting = set(by_id)
    last: JobId | None = None
    prev_end = 0
    prev: Segment | None = None
    cost = trace.switch_cost

    def earliest_waiting() -> tuple[Ticks, JobId] | None:
        while pool and (pool[0][1] not in waiting or pool[0][0] != ready_at[pool[0][1]]):
            heapq.heappop(pool)
        return pool[0] if pool else None

    for seg in trace.normalized().segments:
        if len(problems) > 20:
            problems.append("... (more problems not listed)")
            break
        j = seg.job
        if j not in by_id:
            problems.append(f"[{seg.start}, {seg.end}) names job {j}, which is not in the workload")
            continue
        if seg.start < prev_end or seg.end <= seg.start:
            problems.append(f"[{seg.start}, {seg.end}) overlaps the previous segment or is empty")
            continue
        head = earliest_waiting()
        if seg.start > prev_end and head is not None and head[0] < seg.start:
            problems.append(
                f"the CPU idles from t={max(prev_end, head[0])} to t={seg.start} "
                f"while job {head[1]} is ready"
            )
        if j in done:
            problems.append(f"job {j} uses the CPU at t={seg.start} after it finished")
            continue
        if ready_at[j] > seg.start:
            problems.append(
                f"job {j} uses the CPU at t={seg.start} but is not ready before t={ready_at[j]}"
            )
        if seg.kind is SegmentKind.SWITCH:
            if seg.length != cost:
                problems.append(f"switch at t={seg.start} lasts {seg.length}, expected {cost}")
            if last is None or last == j:
                problems.append(f"switch at t={seg.start} to job {j} is not a change of job")
            last = j
        else:
            if cost and last is not None and last != j:
                switched = (
                    prev is not None
                    and prev.kind is SegmentKind.SWITCH
                    and prev.job == j
                    and prev.end == seg.start
                )
                if not switched:
                    problems.append(
                        f"job {j} starts at t={seg.start} after job {last} without a context switch"
                    )
            last = j
            waiting.discard(j)
            if seg.length > remaining[j]:
                problems.append(
                    f"job {j} runs {seg.length} ticks from t={seg.start} but its CPU burst has "
                    f"only {remaining[j]} left (an I/O or its end comes first)"
                )
            remaining[j] = max(0, remaining[j] - seg.length)
            bursts = by_id[j].bursts
            if remaining[j] == 0:
                burst[j] += 2
                if burst[j] >= len(bursts):
                    done.add(j)
                else:
                    ready_at[j] = seg.end + bursts[burst[j] - 1]
                    remaining[j] = bursts[burst[j]]
                    waiting.add(j)
                    heapq.heappush(pool, (ready_at[j], j))
            else:
                ready_at[j] = seg.end
                waiting.add(j)
                heapq.heappush(pool, (ready_at[j], j))
        prev_end = seg.end
        prev = seg
    for j in sorted(set(by_id) - done):
        problems.append(f"job {j} never finishes: {remaining[j]} ticks of CPU burst left")
    return problems


def replay(jobs: tuple[Job, ...] | list[Job], trace: Trace) -> list[Snapshot]:
    """Snapshots at every instant where something happens. The trace must be valid."""
    by_id = {j.id: j for j in jobs}
    burst = {j.id: 0 for j in jobs}
    remaining = {j.id: j.bursts[0] for j in jobs}
    used = {j.id: 0 for j in jobs}
    rank: dict[JobId, tuple[Ticks, int, int]] = {}
    segs = list(trace.normalized().segments)
    # (time, event class, tie key, job): arrivals by id, I/O completions by I/O start.
    ready_events: list[tuple[Ticks, int, int, JobId]] = [(j.arrival, 2, j.id, j.id) for j in jobs]
    heapq.heapify(ready_events)
    instants = {t for s in segs for t in (s.start, s.end)} | {j.arrival for j in jobs}
    waiting: set[JobId] = set()
    on_cpu: JobId | None = None
    cpu_from = 0  # when the current RUN segment started
    idx = 0
    out: list[Snapshot] = []

    def cand(j: JobId, now: Ticks) -> Candidate:
        job = by_id[j]
        extra = now - cpu_from if (j == on_cpu and cpu_from <= now) else 0
        r = rank.get(j, (job.arrival, 2, j))
        return Candidate(
            j,
            job.arrival,
            job.priority,
            job.bursts[burst[j]],
            remaining[j] - extra,
            r[0],
            used[j] + extra,
            r,
        )

    todo = sorted(instants)  # a sorted list is a valid heap
    while todo:
        now = heapq.heappop(todo)
        if todo and todo[0] == now:
            continue  # duplicates: handle the instant once, at its last copy
        # 1. a segment that ends now releases the CPU
        if idx and segs[idx - 1].end == now and on_cpu is not None:
            seg = segs[idx - 1]
            if seg.kind is SegmentKind.RUN:
                j = seg.job
                remaining[j] -= seg.length
                used[j] += seg.length
                if remaining[j] == 0:
                    burst[j] += 2
                    if burst[j] < len(by_id[j].bursts):
                        back = now + by_id[j].bursts[burst[j] - 1]
                        remaining[j] = by_id[j].bursts[burst[j]]
                        heapq.heappush(ready_events, (back, 3, now, j))
                        heapq.heappush(todo, back)
                else:
                    waiting.add(j)
                    rank[j] = (now, 0, 0)
            if not (idx < len(segs) and segs[idx].start == now and segs[idx].job == seg.job):
                if seg.kind is SegmentKind.SWITCH:
                    waiting.add(seg.job)  # preempted right as its switch ended
                    rank[seg.job] = (now, 0, 0)
                on_cpu = None
        # 2. arrivals and I/O completions
        while ready_events and ready_events[0][0] <= now:
            _, cls, key, j = heapq.heappop(ready_events)
            waiting.add(j)
            rank[j] = (now, cls, key)
        # 3. a segment that starts now
        dispatched = False
        if idx < len(segs) and segs[idx].start == now:
            seg = segs[idx]
            idx += 1
            dispatched = on_cpu != seg.job
            on_cpu = seg.job
            cpu_from = now if seg.kind is SegmentKind.RUN else seg.end
            waiting.discard(seg.job)
        running = cand(on_cpu, now) if on_cpu is not None else None
        queue = sorted((cand(j, now) for j in waiting), key=lambda c: c.rank)
        switching = on_cpu is not None and cpu_from > now
        out.append(Snapshot(now, running, tuple(queue), dispatched, switching))
    return out


@dataclass(frozen=True, slots=True)
class Divergence:
    """The first instant where two traces disagree, and what each did from then on."""

    time: Ticks
    expected: Segment | None
    actual: Segment | None

    def describe(self) -> str:
        def what(s: Segment | None) -> str:
            if s is None:
                return "has nothing left to run"
            if s.kind is SegmentKind.SWITCH:
                return f"switches to job {s.job} (until t={s.end})"
            if s.start > self.time:
                return f"leaves the CPU idle until t={s.start}, then runs job {s.job}"
            return f"runs job {s.job} (until t={s.end})"

        return f"At t={self.time} the reference {what(self.expected)}; yours {what(self.actual)}."


def _activity(segs: tuple[Segment, ...], t: Ticks) -> Segment | None:
    """The segment covering ``t``, else the next one (the CPU idles until it), else None."""
    for seg in segs:
        if seg.end > t:
            return seg
    return None


def first_divergence(expected: Trace, actual: Trace) -> Divergence | None:
    """Where ``actual`` first departs from ``expected``; None when they are the same schedule.

    ``time`` is the first tick at which the CPU does different things in the two traces;
    the segments are what each trace does at that tick.
    """
    e = expected.normalized().segments
    a = actual.normalized().segments
    for x, y in zip(e, a, strict=False):
        if x == y:
            continue
        if x.start == y.start and x.job == y.job and x.kind is y.kind:
            t = min(x.end, y.end)  # same work, one stops earlier
        else:
            t = min(x.start, y.start)
        return Divergence(t, _activity(e, t), _activity(a, t))
    if len(e) == len(a):
        return None
    if len(e) > len(a):
        return Divergence(e[len(a)].start, e[len(a)], None)
    return Divergence(a[len(e)].start, None, a[len(e)])
