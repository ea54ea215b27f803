"""Metrics of a schedule, computed from the workload and the trace alone.

turnaround = completion - arrival; response = first run - arrival;
waiting = turnaround - CPU time - I/O time; weighted turnaround = turnaround / CPU time.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from .model import Job, JobId, SegmentKind, Ticks, Trace


@dataclass(frozen=True, slots=True)
class JobMetrics:
    id: JobId
    arrival: Ticks
    first_run: Ticks
    completion: Ticks
    turnaround: Ticks
    response: Ticks
    waiting: Ticks
    weighted_turnaround: float


@dataclass(frozen=True, slots=True)
class Metrics:
    jobs: tuple[JobMetrics, ...]
    makespan: Ticks  # from the first arrival to the last completion
    busy: Ticks  # ticks spent running jobs (not switching)
    switch_ticks: Ticks
    context_switches: int
    avg_turnaround: float
    avg_response: float
    avg_waiting: float
    avg_weighted_turnaround: float
    throughput: float  # jobs per 100 ticks of makespan
    cpu_utilisation: float  # busy / makespan


def count_switches(trace: Trace) -> int:
    """Dispatches of a job other than the one that ran last (the first dispatch is free)."""
    if trace.switch_cost:
        return sum(1 for s in trace.segments if s.kind is SegmentKind.SWITCH)
    runs = trace.normalized().runs()
    return sum(1 for a, b in itertools.pairwise(runs) if a.job != b.job)


def compute_metrics(jobs: tuple[Job, ...] | list[Job], trace: Trace) -> Metrics:
    """Per-job and overall metrics; raises KeyError if a job never ran."""
    first: dict[JobId, Ticks] = {}
    last: dict[JobId, Ticks] = {}
    busy = switch = 0
    for seg in trace.segments:
        if seg.kind is SegmentKind.SWITCH:
            switch += seg.length
            continue
        busy += seg.length
        first.setdefault(seg.job, seg.start)
        last[seg.job] = seg.end
    per_job = []
    for job in sorted(jobs, key=lambda j: j.id):
        done = last[job.id]
        turnaround = done - job.arrival
        per_job.append(
            JobMetrics(
                id=job.id,
                arrival=job.arrival,
                first_run=first[job.id],
                completion=done,
                turnaround=turnaround,
                response=first[job.id] - job.arrival,
                waiting=turnaround - sum(job.bursts),
                weighted_turnaround=turnaround / job.cpu_total,
            )
        )
    n = len(per_job) or 1
    start = min((j.arrival for j in jobs), default=0)
    end = max((m.completion for m in per_job), default=start)
    span = end - start
    return Metrics(
        jobs=tuple(per_job),
        makespan=span,
        busy=busy,
        switch_ticks=switch,
        context_switches=count_switches(trace),
        avg_turnaround=sum(m.turnaround for m in per_job) / n,
        avg_response=sum(m.response for m in per_job) / n,
        avg_waiting=sum(m.waiting for m in per_job) / n,
        avg_weighted_turnaround=sum(m.weighted_turnaround for m in per_job) / n,
        throughput=100 * len(per_job) / span if span else 0.0,
        cpu_utilisation=busy / span if span else 0.0,
    )
