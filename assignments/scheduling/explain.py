"""Words and pictures of the scheduling properties: schedules as text, the Gantt chart.

Shared by the hidden properties (properties.py) and the student kit: ``osgrade kit``
copies this file (``[kit] explain``), so a recorded public test that fails in a kit shows
the same sentence and the same expected-against-yours Gantt chart as grading does. It
holds no test, no input and no reference code: only how to read a schedule.
"""

from __future__ import annotations

from typing import Any

from grader.engine.props import Failure
from grader.engine.results import GanttPicture
from grader.engine.results import Segment as SegmentData
from grader.simos.scheduling import Job, Trace, first_divergence, validate_trace
from grader.simos.scheduling.model import Segment, SegmentKind

RUN = "grader.simos.scheduling.harness:run"
JobsData = list[dict[str, Any]]


def to_jobs(data: JobsData) -> list[Job]:
    return [Job(j["id"], j["arrival"], tuple(j["bursts"]), j["priority"]) for j in data]


def schedule_text(trace: Trace) -> str:
    parts = []
    for s in trace.normalized().segments:
        tag = f"switch→J{s.job}" if s.kind is SegmentKind.SWITCH else f"J{s.job}"
        parts.append(f"{s.start}-{s.end} {tag}")
    return ", ".join(parts) or "(nothing ran)"


def picture(
    jobs: JobsData, expected: Trace, actual: Trace | None, mark: int | None
) -> GanttPicture:
    def segs(t: Trace) -> list[SegmentData]:
        return [
            SegmentData(start=s.start, end=s.end, job=s.job, kind=s.kind.value)
            for s in t.normalized().segments
        ]

    return GanttPicture(
        jobs=sorted(j["id"] for j in jobs),
        expected=segs(expected),
        actual=segs(actual) if actual is not None else None,
        mark=mark,
    )


def trace_from_reply(data: Any, cost: int) -> Trace:
    """A schedule from the worker's plain reply; ValueError (or KeyError, TypeError) if malformed."""
    if type(data) is not dict or set(data) != {"segments", "switch_cost"}:
        raise ValueError("expected {'segments': [...], 'switch_cost': n}")
    if data["switch_cost"] != cost or type(data["switch_cost"]) is not int:
        raise ValueError("switch cost changed")
    raw = data["segments"]
    if type(raw) is not list or len(raw) > 200_000:
        raise ValueError("segments must be a list")
    segs = []
    for item in raw:
        if type(item) is not list or len(item) != 4:
            raise ValueError(f"bad segment {item!r}")
        a, b, j, k = item
        if not all(type(x) is int for x in (a, b, j)) or k not in ("run", "switch"):
            raise ValueError(f"bad segment {item!r}")
        segs.append(Segment(a, b, j, SegmentKind(k)))
    return Trace(tuple(segs), cost)


def checked_trace(jobs: JobsData, data: Any, cost: int) -> Trace:
    """The student's schedule from its reply, checked for possibility (Failure otherwise)."""
    try:
        trace = trace_from_reply(data, cost)
    except (TypeError, ValueError, KeyError) as exc:
        raise Failure(f"The worker returned a malformed schedule: {exc}") from None
    problems = validate_trace(to_jobs(jobs), trace)
    if problems:
        raise Failure(
            "Your scheduler produced a schedule that cannot happen: " + "; ".join(problems[:3])
        )
    return trace


def compare(jobs: JobsData, expected: Trace, actual: Trace) -> None:
    """Failure at the first tick where the two schedules differ; nothing if they agree."""
    div = first_divergence(expected, actual)
    if div is None:
        return
    raise Failure(
        "Your schedule differs from the reference schedule.",
        expected=schedule_text(expected),
        actual=schedule_text(actual),
        divergence=div.describe(),
        picture=picture(jobs, expected, actual, div.time),
    )


def explain_reply(entry: str, args: dict[str, Any], expected: Any, actual: Any) -> Failure | None:
    """A kit's recorded call whose reply differs: the Failure grading would report.

    ``expected`` is the reference's recorded reply, ``actual`` the student's; None when
    this call is not a schedule (the kit then shows where the two JSON values differ).
    """
    if entry != RUN:
        return None
    jobs, cost = args["jobs"], args["switch_cost"]
    want = trace_from_reply(expected, cost)
    try:
        compare(jobs, want, checked_trace(jobs, actual, cost))
    except Failure as failure:
        return failure
    return None
