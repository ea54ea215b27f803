"""The simulator's side of the Scheduler contract (grader/simos/scheduling/policy.py).

A spy scheduler records every call, so these tests pin down what students rely on:
the order of calls at one instant, the context-switch rules, the errors a broken
policy gets, and that time costs nothing when nothing happens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from grader.simos.scheduling import (
    Job,
    JobInfo,
    Reason,
    Scheduler,
    SchedulingError,
    Segment,
    SegmentKind,
    StopReason,
    Trace,
    WorkloadError,
    simulate,
    validate_trace,
)

RUN, SWITCH = SegmentKind.RUN, SegmentKind.SWITCH
Call = tuple[Any, ...]


class Spy(Scheduler):
    """FIFO by default; records every call. Hooks change single answers."""

    def __init__(
        self,
        slices: dict[int, int] | None = None,
        preempt_when: Callable[[JobInfo, int], bool] | None = None,
        timers: list[int] | None = None,
    ) -> None:
        self.queue: list[int] = []
        self.calls: list[Call] = []
        self.slices = slices or {}
        self.preempt_when = preempt_when
        self.timers = sorted(timers or [])

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        self.calls.append(("ready", now, job.id, reason.name))
        self.queue.append(job.id)

    def dispatch(self, now: int) -> Any:
        self.calls.append(("dispatch", now))
        if not self.queue:
            return None
        jid = self.queue.pop(0)
        return (jid, self.slices[jid]) if jid in self.slices else jid

    def stopped(self, job: JobInfo, now: int, ran: int, reason: StopReason) -> None:
        self.calls.append(("stopped", now, job.id, ran, reason.name, job.remaining))

    def preempt(self, running: JobInfo, now: int) -> bool:
        self.calls.append(("preempt", now, running.id, running.remaining))
        return self.preempt_when(running, now) if self.preempt_when else False

    def next_timer(self, now: int) -> int | None:
        self.calls.append(("next_timer", now))
        return next((t for t in self.timers if t > now), None)

    def timer(self, now: int) -> None:
        self.calls.append(("timer", now))

    def at(self, t: int) -> list[Call]:
        return [c for c in self.calls if c[1] == t]


def segs(trace: Trace) -> list[tuple[int, int, int, str]]:
    return [(s.start, s.end, s.job, s.kind.value) for s in trace.segments]


# ----------------------------------------------------------------------------- call order


def test_order_at_one_instant_with_a_free_cpu() -> None:
    # J0 computes 0-1 then does I/O until 3; J1 runs 1-3 and its slice of 2 expires at 3;
    # J3 and J2 arrive at 3; the spy asked for a timer at 3.
    jobs = [Job(0, 0, (1, 2, 1)), Job(1, 0, (4,)), Job(3, 3, (1,)), Job(2, 3, (1,))]
    spy = Spy(slices={1: 2}, timers=[3])
    simulate(jobs, spy)
    assert spy.at(3) == [
        ("stopped", 3, 1, 2, "EXPIRED", 2),
        ("ready", 3, 1, "EXPIRED"),
        ("timer", 3),
        ("ready", 3, 2, "ARRIVED"),  # arrivals: smallest id first
        ("ready", 3, 3, "ARRIVED"),
        ("ready", 3, 0, "IO_DONE"),  # then I/O completions
        ("dispatch", 3),
        ("next_timer", 3),
    ]


def test_order_at_one_instant_with_a_running_job() -> None:
    # J0 computes 0-1, I/O until 4; J1 runs from 1; at 4 a timer, J2's arrival and J0's
    # I/O completion happen, then preempt(J1) is asked (True: it is stopped and requeued).
    jobs = [Job(0, 0, (1, 3, 1)), Job(1, 0, (10,)), Job(2, 4, (1,))]
    spy = Spy(timers=[4], preempt_when=lambda r, t: t == 4)
    trace = simulate(jobs, spy)
    assert spy.at(4) == [
        ("timer", 4),
        ("ready", 4, 2, "ARRIVED"),
        ("ready", 4, 0, "IO_DONE"),
        ("preempt", 4, 1, 7),  # remaining counts the 3 ticks J1 ran in this slice
        ("stopped", 4, 1, 3, "PREEMPTED", 7),
        ("ready", 4, 1, "PREEMPTED"),
        ("dispatch", 4),
        ("next_timer", 4),
    ]
    assert segs(trace) == [
        (0, 1, 0, "run"),
        (1, 4, 1, "run"),
        (4, 5, 2, "run"),
        (5, 6, 0, "run"),
        (6, 13, 1, "run"),
    ]
    # Nothing is asked at instants where nothing happened (J1's old slice would have ended
    # at 11; that stale event must not show up as a call).
    assert {c[1] for c in spy.calls} == {0, 1, 4, 5, 6, 13}


def test_io_completions_in_the_order_the_io_started() -> None:
    # J1 starts its I/O at 1, J0 at 3; both end at 6: J1's completion comes first.
    jobs = [Job(1, 0, (1, 5, 1)), Job(0, 1, (2, 3, 1))]
    spy = Spy()
    simulate(jobs, spy)
    assert [c for c in spy.at(6) if c[0] == "ready"] == [
        ("ready", 6, 1, "IO_DONE"),
        ("ready", 6, 0, "IO_DONE"),
    ]


def test_burst_ending_with_the_slice_is_finished_or_blocked_not_expired() -> None:
    jobs = [Job(0, 0, (2, 1, 3))]
    spy = Spy(slices={0: 2})
    simulate(jobs, spy)
    stops = [c for c in spy.calls if c[0] == "stopped"]
    assert stops == [
        ("stopped", 2, 0, 2, "BLOCKED", 0),
        ("stopped", 5, 0, 2, "EXPIRED", 1),
        ("stopped", 6, 0, 1, "FINISHED", 0),
    ]
    assert ("ready", 3, 0, "IO_DONE") in spy.calls


def test_preempt_is_not_asked_when_nothing_became_ready() -> None:
    spy = Spy(slices={0: 3})
    simulate([Job(0, 0, (7,)), Job(1, 20, (1,))], spy)
    assert not [c for c in spy.calls if c[0] == "preempt"]


# ----------------------------------------------------------------------------- context switches


def test_first_dispatch_is_free_even_late() -> None:
    trace = simulate([Job(0, 7, (2,)), Job(1, 7, (1,))], Spy(), switch_cost=3)
    assert segs(trace) == [(7, 9, 0, "run"), (9, 12, 1, "switch"), (12, 13, 1, "run")]


def test_same_job_redispatched_costs_nothing() -> None:
    # Slices of 1, an idle I/O gap: always the same job, so never a switch.
    trace = simulate([Job(0, 0, (3, 4, 2))], Spy(slices={0: 1}), switch_cost=5)
    assert all(s.kind is RUN for s in trace.segments)
    assert [(s.start, s.end) for s in trace.normalized().segments] == [(0, 3), (7, 9)]


def test_switch_is_not_interrupted_and_preempt_is_asked_at_its_end() -> None:
    # J0 runs; J1 arrives at 2 and preempts it; the switch to J1 lasts 2-5; J2 arrives at 3
    # (during the switch): preempt(J1) is asked at 5, not at 3.
    jobs = [Job(0, 0, (10,)), Job(1, 2, (4,)), Job(2, 3, (1,))]
    spy = Spy(preempt_when=lambda r, t: r.id == 0)
    trace = simulate(jobs, spy, switch_cost=3)
    asked = [c for c in spy.calls if c[0] == "preempt"]
    assert asked == [("preempt", 2, 0, 8), ("preempt", 5, 1, 4)]
    assert segs(trace)[:3] == [(0, 2, 0, "run"), (2, 5, 1, "switch"), (5, 9, 1, "run")]
    assert validate_trace(jobs, trace) == []


def test_preempted_right_at_the_end_of_its_switch() -> None:
    jobs = [Job(0, 0, (10,)), Job(1, 2, (4,)), Job(2, 3, (1,))]
    spy = Spy(preempt_when=lambda r, t: True)
    trace = simulate(jobs, spy, switch_cost=3)
    # J1 is switched in during 2-5 and preempted as soon as it ends (ran 0); the FIFO
    # queue is then [J0, J2, J1], so J0 is switched back in.
    assert ("stopped", 5, 1, 0, "PREEMPTED", 4) in spy.calls
    assert segs(trace)[:4] == [
        (0, 2, 0, "run"),
        (2, 5, 1, "switch"),
        (5, 8, 0, "switch"),
        (8, 16, 0, "run"),
    ]
    assert validate_trace(jobs, trace) == []


def test_switch_end_without_news_asks_nothing() -> None:
    spy = Spy(preempt_when=lambda r, t: True)
    simulate([Job(0, 0, (2,)), Job(1, 0, (2,))], spy, switch_cost=4)
    assert not [c for c in spy.calls if c[0] == "preempt"]


# ----------------------------------------------------------------------------- time is free


def test_huge_idle_gaps_cost_nothing() -> None:
    far = 10**12
    jobs = [Job(0, 0, (1, far, 1)), Job(1, far, (2,)), Job(2, 3 * far, (1,))]
    started = time.perf_counter()
    trace = simulate(jobs, Spy(), switch_cost=1)
    assert time.perf_counter() - started < 1.0
    assert segs(trace) == [
        (0, 1, 0, "run"),
        (far, far + 1, 1, "switch"),
        (far + 1, far + 3, 1, "run"),
        (far + 3, far + 4, 0, "switch"),
        (far + 4, far + 5, 0, "run"),
        (3 * far, 3 * far + 1, 2, "switch"),
        (3 * far + 1, 3 * far + 2, 2, "run"),
    ]


def test_a_timer_every_tick_hits_the_step_limit() -> None:
    class Ticker(Spy):
        def next_timer(self, now: int) -> int | None:
            return now + 1

    with pytest.raises(SchedulingError, match="more than 1000 scheduling steps"):
        simulate([Job(0, 0, (10**6,))], Ticker(), max_steps=1000)


# ----------------------------------------------------------------------------- contract errors


class Fixed(Scheduler):
    """Returns ``answer`` from the first dispatch, then behaves (FIFO)."""

    def __init__(self, answer: object) -> None:
        self.answer: object = answer
        self.queue: list[int] = []
        self.first = True

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        self.queue.append(job.id)

    def dispatch(self, now: int) -> Any:
        if self.first:
            self.first = False
            return self.answer
        return self.queue.pop(0) if self.queue else None


JOBS = [Job(0, 0, (3,)), Job(1, 5, (2,))]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (1, r"returned job 1, which is not ready; ready jobs are \[0\]"),
        (9, r"returned job 9, which is unknown"),
        (True, r"returned True of type bool"),
        ((0, True), r"returned \(0, True\) of type tuple"),
        ((0, 0), r"slice 0 for job 0; a slice must be at least 1 tick"),
        ((0, -2), r"slice -2"),
        ((0, 1.5), r"returned \(0, 1.5\)"),
        ((0, 2, 3), r"return a job id \(int\), a tuple \(job_id, slice\) of ints, or None"),
        ([0, 2], r"of type list"),
        ("0", r"of type str"),
        (None, r"returned None at t=0 but jobs \[0\] are ready"),
    ],
)
def test_bad_dispatch_answers(answer: object, message: str) -> None:
    with pytest.raises(SchedulingError, match=message):
        simulate(JOBS, Fixed(answer))


def test_int_subclass_is_rejected() -> None:
    class Sneaky(int):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = int.__hash__

    with pytest.raises(SchedulingError, match="of type Sneaky"):
        simulate(JOBS, Fixed(Sneaky(0)))


def test_finished_job_cannot_be_dispatched_again() -> None:
    class Twice(Fixed):
        def preempt(self, running: JobInfo, now: int) -> bool:
            return False

        def dispatch(self, now: int) -> Any:
            return 0

    # J0 finishes at 3; dispatch names it again although no job is ready.
    with pytest.raises(
        SchedulingError, match=r"t=3 returned job 0, which is not ready; ready jobs are \[\]"
    ):
        simulate(JOBS, Twice(None))


@pytest.mark.parametrize(("answer", "shown"), [(0, "0"), (-1, "-1"), (2.5, "2.5"), (True, "True")])
def test_bad_next_timer(answer: object, shown: str) -> None:
    class Timer(Spy):
        def next_timer(self, now: int) -> Any:
            return answer

    with pytest.raises(SchedulingError, match=rf"next_timer\(\) at t=0 returned {shown}"):
        simulate(JOBS, Timer())


def test_next_timer_equal_to_now_after_a_timer() -> None:
    class Again(Spy):
        def next_timer(self, now: int) -> int | None:
            return 2 if now < 2 else now

    with pytest.raises(SchedulingError, match=r"at t=2 returned 2; return an int > 2 or None"):
        simulate(JOBS, Again())


def test_policy_exceptions_propagate() -> None:
    class Broken(Spy):
        def dispatch(self, now: int) -> Any:
            raise IndexError("pop from an empty deque")

    with pytest.raises(IndexError, match="empty deque"):
        simulate(JOBS, Broken())


def test_switch_cost_must_be_a_non_negative_int() -> None:
    for bad in (-1, 1.0, True):
        with pytest.raises(SchedulingError, match="switch_cost must be an int >= 0"):
            simulate(JOBS, Spy(), switch_cost=bad)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- workloads


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (Job(-1, 0, (1,)), r"job -1: id must be a non-negative int"),
        (Job(True, 0, (1,)), r"job True: id must be a non-negative int"),
        (Job(3, -2, (1,)), r"job 3: arrival must be an int >= 0, got -2"),
        (Job(3, 1.5, (1,)), r"job 3: arrival must be an int >= 0, got 1.5"),  # type: ignore[arg-type]
        (
            Job(3, 0, ()),
            r"job 3: bursts must alternate CPU, I/O, ..., CPU \(odd length\), got \(\)",
        ),
        (Job(3, 0, (1, 2)), r"job 3: bursts must alternate .* got \(1, 2\)"),
        (Job(3, 0, (1, 0, 1)), r"job 3: every burst must be an int > 0, got \(1, 0, 1\)"),
        (Job(3, 0, (2.0,)), r"job 3: every burst must be an int > 0"),  # type: ignore[arg-type]
        (Job(3, 0, (1,), priority=None), r"job 3: priority must be an int, got None"),  # type: ignore[arg-type]
    ],
)
def test_workload_errors_name_the_job_and_field(job: Job, message: str) -> None:
    with pytest.raises(WorkloadError, match=message):
        simulate([Job(0, 0, (1,)), job] if job.id != 0 else [job], Spy())


def test_duplicate_ids() -> None:
    with pytest.raises(WorkloadError, match="job 0: duplicate id"):
        simulate([Job(0, 0, (1,)), Job(0, 3, (2,))], Spy())


def test_workload_error_is_a_value_error() -> None:
    assert issubclass(WorkloadError, ValueError)


def test_empty_workload_is_an_empty_trace() -> None:
    assert simulate([], Spy()) == Trace((), 0)


def test_trace_segments_are_plain_data() -> None:
    trace = simulate([Job(0, 0, (2,)), Job(1, 0, (1,))], Spy(), switch_cost=1)
    assert trace.segments[1] == Segment(2, 3, 1, SWITCH)
    assert Trace.from_data(trace.to_data()) == trace


def test_first_divergence_names_what_each_schedule_does_at_the_split() -> None:
    from grader.simos.scheduling import Trace, first_divergence

    ref = Trace((Segment(0, 2, 0), Segment(2, 3, 1)))
    yours = Trace((Segment(0, 1, 0), Segment(1, 2, 1), Segment(2, 3, 0)))
    div = first_divergence(ref, yours)
    assert div is not None and div.time == 1
    assert div.describe() == (
        "At t=1 the reference runs job 0 (until t=2); yours runs job 1 (until t=2)."
    )
    idle = Trace((Segment(0, 2, 0), Segment(4, 5, 1)))
    div = first_divergence(ref, idle)
    assert div is not None and div.time == 2
    assert "idle until t=4" in div.describe()
    assert first_divergence(ref, ref) is None
    short = first_divergence(ref, Trace((Segment(0, 2, 0),)))
    assert short is not None and "nothing left to run" in short.describe()
