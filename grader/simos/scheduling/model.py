"""Data of the scheduling simulator: workloads, what a scheduler sees, and traces."""

from __future__ import annotations

import enum
from dataclasses import dataclass

Ticks = int
JobId = int


class SchedulingError(Exception):
    """A scheduler broke the simulator's contract (for example, picked a job that is not ready)."""


class WorkloadError(ValueError):
    """A workload is malformed (negative arrival, empty bursts, duplicate ids, ...)."""


class Reason(enum.Enum):
    """Why a job is handed to ``Scheduler.ready``."""

    ARRIVED = "arrived"  # first time in the system
    IO_DONE = "io_done"  # came back from an I/O burst
    EXPIRED = "expired"  # its slice ran out while it still had CPU work in this burst
    PREEMPTED = "preempted"  # ``Scheduler.preempt`` returned True while it ran


class StopReason(enum.Enum):
    """Why a running job left the CPU (argument of ``Scheduler.stopped``)."""

    FINISHED = "finished"  # its last CPU burst ended; it leaves the system
    BLOCKED = "blocked"  # its CPU burst ended and an I/O burst starts
    EXPIRED = "expired"
    PREEMPTED = "preempted"


@dataclass(frozen=True, slots=True)
class Job:
    """One job of a workload.

    ``bursts`` alternates CPU and I/O lengths and starts and ends with CPU:
    ``(3, 5, 2)`` computes 3 ticks, waits 5 ticks for I/O, computes 2 more.
    A lower ``priority`` number means more important (as in Unix ``nice``).
    """

    id: JobId
    arrival: Ticks
    bursts: tuple[Ticks, ...]
    priority: int = 0

    @property
    def cpu_bursts(self) -> tuple[Ticks, ...]:
        return self.bursts[0::2]

    @property
    def io_bursts(self) -> tuple[Ticks, ...]:
        return self.bursts[1::2]

    @property
    def cpu_total(self) -> Ticks:
        return sum(self.bursts[0::2])


def validate_workload(jobs: tuple[Job, ...] | list[Job]) -> tuple[Job, ...]:
    """Check a workload and return it as a tuple; raises WorkloadError naming the job and field."""
    seen: set[int] = set()
    for job in jobs:
        where = f"job {job.id!r}"
        if type(job.id) is not int or job.id < 0:
            raise WorkloadError(f"{where}: id must be a non-negative int, got {job.id!r}")
        if job.id in seen:
            raise WorkloadError(f"{where}: duplicate id; every job needs its own id")
        seen.add(job.id)
        if type(job.arrival) is not int or job.arrival < 0:
            raise WorkloadError(f"{where}: arrival must be an int >= 0, got {job.arrival!r}")
        if type(job.priority) is not int:
            raise WorkloadError(f"{where}: priority must be an int, got {job.priority!r}")
        if not job.bursts or len(job.bursts) % 2 == 0:
            raise WorkloadError(
                f"{where}: bursts must alternate CPU, I/O, ..., CPU (odd length), got {job.bursts!r}"
            )
        for b in job.bursts:
            if type(b) is not int or b <= 0:
                raise WorkloadError(f"{where}: every burst must be an int > 0, got {job.bursts!r}")
    return tuple(jobs)


@dataclass(frozen=True, slots=True)
class JobInfo:
    """What a scheduler is told about a job: a read-only snapshot.

    ``burst`` is the length of the job's current CPU burst and ``remaining`` the
    ticks of it still to run (``remaining == burst`` until it first runs in that burst).
    """

    id: JobId
    arrival: Ticks
    priority: int
    burst: Ticks
    remaining: Ticks


class SegmentKind(enum.Enum):
    RUN = "run"  # the job computes
    SWITCH = "switch"  # the CPU switches to the job (context-switch cost)


@dataclass(frozen=True, slots=True)
class Segment:
    """The CPU did ``kind`` for ``job`` during the half-open interval [start, end)."""

    start: Ticks
    end: Ticks
    job: JobId
    kind: SegmentKind = SegmentKind.RUN

    @property
    def length(self) -> Ticks:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Trace:
    """What the CPU did, in time order. Gaps between segments are idle time."""

    segments: tuple[Segment, ...]
    switch_cost: Ticks = 0

    def runs(self) -> tuple[Segment, ...]:
        return tuple(s for s in self.segments if s.kind is SegmentKind.RUN)

    def normalized(self) -> Trace:
        """Merge back-to-back runs of the same job (a slice renewed without a switch)."""
        out: list[Segment] = []
        for seg in self.segments:
            if seg.length == 0:
                continue
            last = out[-1] if out else None
            if (
                last is not None
                and seg.kind is SegmentKind.RUN
                and last.kind is SegmentKind.RUN
                and last.job == seg.job
                and last.end == seg.start
            ):
                out[-1] = Segment(last.start, seg.end, seg.job)
            else:
                out.append(seg)
        return Trace(tuple(out), self.switch_cost)

    def to_data(self) -> dict[str, object]:
        return {
            "switch_cost": self.switch_cost,
            "segments": [[s.start, s.end, s.job, s.kind.value] for s in self.segments],
        }

    @staticmethod
    def from_data(data: dict[str, object]) -> Trace:
        raw = data["segments"]
        assert isinstance(raw, list)
        cost = data.get("switch_cost", 0)
        assert isinstance(cost, int)
        return Trace(
            tuple(Segment(int(a), int(b), int(j), SegmentKind(k)) for a, b, j, k in raw),
            cost,
        )


def job_to_data(job: Job) -> dict[str, object]:
    return {
        "id": job.id,
        "arrival": job.arrival,
        "bursts": list(job.bursts),
        "priority": job.priority,
    }


def job_from_data(data: dict[str, object]) -> Job:
    bursts = data["bursts"]
    assert isinstance(bursts, list)
    return Job(
        id=data["id"],  # type: ignore[arg-type]
        arrival=data["arrival"],  # type: ignore[arg-type]
        bursts=tuple(bursts),
        priority=data.get("priority", 0),  # type: ignore[arg-type]
    )
