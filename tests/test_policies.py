"""The reference scheduling policies and the sample submissions.

* hand-computed schedules for every policy (I/O, same-instant events, switch costs);
* Hypothesis properties of the reference: every trace is possible, metrics are sane,
  each policy's selection rule holds at every replayed instant, STCF is optimal, the
  Round Robin response bound;
* samples: ``correct_alt`` matches the reference everywhere, each buggy sample differs
  on a known workload, the broken ones break the way their NOTES.md says.
"""

from __future__ import annotations

import functools
import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.simos.scheduling import (
    Candidate,
    Job,
    JobInfo,
    Reason,
    Scheduler,
    SchedulingError,
    Snapshot,
    Trace,
    compute_metrics,
    replay,
    simulate,
    validate_trace,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assignments" / "scheduling" / "samples"


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REF = load(ROOT / "reference" / "scheduling" / "policies.py", "osgrade_test_reference")


@functools.cache
def sample(name: str) -> ModuleType:
    return load(SAMPLES / name / "policies.py", f"osgrade_test_sample_{name}")


FAST = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ----------------------------------------------------------------------------- helpers

Row = tuple[int, int, int] | tuple[int, int, int, str]


def J(jid: int, arrival: int, *bursts: int, prio: int = 0) -> Job:
    return Job(jid, arrival, tuple(bursts), prio)


def schedule(jobs: list[Job], policy: Scheduler, cost: int = 0) -> list[Row]:
    """(start, end, job) per run, (start, end, job, "switch") per switch; merged runs."""
    trace = simulate(jobs, policy, switch_cost=cost)
    assert validate_trace(jobs, trace) == []
    return [
        (s.start, s.end, s.job) if s.kind.value == "run" else (s.start, s.end, s.job, "switch")
        for s in trace.normalized().segments
    ]


def make(module: ModuleType, policy: str, params: dict[str, Any]) -> Scheduler:
    cls = getattr(module, policy)
    instance: Scheduler = cls(**params)
    return instance


# ----------------------------------------------------------------------------- FCFS


def test_fcfs_io_requeues_at_the_tail() -> None:
    jobs = [J(0, 0, 2, 3, 2), J(1, 1, 4), J(2, 1, 1)]
    # A computes 0-2 and is back at 5, behind C (ready since 1).
    assert schedule(jobs, REF.FCFS()) == [(0, 2, 0), (2, 6, 1), (6, 7, 2), (7, 9, 0)]


def test_fcfs_arrival_before_io_completion_at_one_instant_with_switch_cost() -> None:
    jobs = [J(0, 0, 2, 2, 1), J(1, 0, 3), J(2, 4, 1)]
    # At 4 job 2 arrives and job 0's I/O ends: the arrival is queued first.
    assert schedule(jobs, REF.FCFS(), cost=1) == [
        (0, 2, 0),
        (2, 3, 1, "switch"),
        (3, 6, 1),
        (6, 7, 2, "switch"),
        (7, 8, 2),
        (8, 9, 0, "switch"),
        (9, 10, 0),
    ]


# ----------------------------------------------------------------------------- SJF


def test_sjf_shortest_then_ready_order_not_id() -> None:
    jobs = [J(0, 0, 6), J(3, 1, 3), J(1, 2, 3), J(2, 2, 2)]
    # At 6: job 2 (2 ticks) first; jobs 3 and 1 tie at 3 ticks: job 3 was ready first.
    assert schedule(jobs, REF.SJF()) == [(0, 6, 0), (6, 8, 2), (8, 11, 3), (11, 14, 1)]


def test_sjf_uses_the_next_cpu_burst_with_io_and_switch_cost() -> None:
    jobs = [J(0, 0, 1, 2, 5), J(1, 0, 4), J(2, 0, 2, 1, 1)]
    assert schedule(jobs, REF.SJF(), cost=2) == [
        (0, 1, 0),
        (1, 3, 2, "switch"),
        (3, 5, 2),
        (5, 7, 1, "switch"),  # job 0 is back with a 5-tick burst: job 1 (4) is shorter
        (7, 11, 1),
        (11, 13, 2, "switch"),  # job 2's next burst is 1 tick
        (13, 14, 2),
        (14, 16, 0, "switch"),
        (16, 21, 0),
    ]


# ----------------------------------------------------------------------------- STCF


def test_stcf_preempts_for_strictly_shorter() -> None:
    jobs = [J(0, 0, 8), J(1, 1, 4), J(2, 2, 9)]
    assert schedule(jobs, REF.STCF()) == [(0, 1, 0), (1, 5, 1), (5, 12, 0), (12, 21, 2)]


def test_stcf_does_not_preempt_on_a_tie() -> None:
    # At 2 the running job has 2 ticks left, the newcomer needs 2: no preemption.
    assert schedule([J(0, 0, 4), J(1, 2, 2)], REF.STCF()) == [(0, 4, 0), (4, 6, 1)]
    # Job 0 comes back from I/O at 3 with 2 ticks; job 1 has 2 left: no preemption either.
    assert schedule([J(0, 0, 2, 1, 2), J(1, 0, 3)], REF.STCF()) == [
        (0, 2, 0),
        (2, 5, 1),
        (5, 7, 0),
    ]


def test_stcf_preempted_job_queues_behind_same_instant_arrivals() -> None:
    # At 1: job 2 (5 ticks) arrives, then job 1 (3) preempts job 0 (5 left). Jobs 0 and 2
    # tie at 5; job 2 became ready first (arrivals come before the preemption).
    jobs = [J(0, 0, 6), J(2, 1, 5), J(1, 1, 3)]
    assert schedule(jobs, REF.STCF(), cost=1) == [
        (0, 1, 0),
        (1, 2, 1, "switch"),
        (2, 5, 1),
        (5, 6, 2, "switch"),
        (6, 11, 2),
        (11, 12, 0, "switch"),
        (12, 17, 0),
    ]


# ----------------------------------------------------------------------------- Round Robin


def test_rr_expired_job_goes_before_same_instant_arrival() -> None:
    jobs = [J(0, 0, 5), J(1, 0, 3), J(2, 2, 1)]
    assert schedule(jobs, REF.RoundRobin(2)) == [
        (0, 2, 0),
        (2, 4, 1),
        (4, 6, 0),
        (6, 7, 2),
        (7, 8, 1),
        (8, 9, 0),
    ]


def test_rr_expiry_arrival_and_io_at_one_instant() -> None:
    # At 3: job 1's quantum ends, job 2 arrives, job 0's I/O ends: queue [1, 2, 0].
    jobs = [J(0, 0, 1, 2, 2), J(1, 0, 4), J(2, 3, 1)]
    assert schedule(jobs, REF.RoundRobin(2)) == [(0, 1, 0), (1, 5, 1), (5, 6, 2), (6, 8, 0)]


def test_rr_switch_costs_only_between_different_jobs() -> None:
    jobs = [J(0, 0, 4, 2, 1), J(1, 0, 2)]
    assert schedule(jobs, REF.RoundRobin(3), cost=1) == [
        (0, 3, 0),
        (3, 4, 1, "switch"),
        (4, 6, 1),
        (6, 7, 0, "switch"),
        (7, 8, 0),
        (10, 11, 0),  # back from I/O on an idle CPU: same job, no switch
    ]
    assert schedule([J(0, 0, 5)], REF.RoundRobin(2), cost=3) == [(0, 5, 0)]


# ----------------------------------------------------------------------------- Priority


PRIO_JOBS = [J(0, 0, 5, prio=2), J(1, 0, 3, prio=1), J(2, 2, 1, prio=0)]


def test_priority_non_preemptive_and_preemptive() -> None:
    assert schedule(PRIO_JOBS, REF.PriorityScheduler()) == [(0, 3, 1), (3, 4, 2), (4, 9, 0)]
    assert schedule(PRIO_JOBS, REF.PriorityScheduler(preemptive=True)) == [
        (0, 2, 1),
        (2, 3, 2),
        (3, 4, 1),
        (4, 9, 0),
    ]


def test_priority_ties_by_ready_order_with_io() -> None:
    # Job 0 computes 0-1 and is back from I/O at 3 with priority 1; job 2 (priority 1)
    # has been ready since 2, so it goes first at 4 although its id is larger.
    jobs = [J(0, 0, 1, 2, 2, prio=1), J(1, 1, 3, prio=0), J(2, 2, 1, prio=1)]
    assert schedule(jobs, REF.PriorityScheduler()) == [(0, 1, 0), (1, 4, 1), (4, 5, 2), (5, 7, 0)]


def test_priority_aging_non_preemptive() -> None:
    jobs = [J(0, 0, 6, prio=0), J(1, 0, 1, prio=3), J(2, 5, 1, prio=1)]
    # At 6: job 1 has aged to 3 - 6 // 2 = 0, job 2 is at 1 - 1 // 2 = 1.
    assert schedule(jobs, REF.PriorityScheduler(aging=2)) == [(0, 6, 0), (6, 7, 1), (7, 8, 2)]
    assert schedule(jobs, REF.PriorityScheduler()) == [(0, 6, 0), (6, 7, 2), (7, 8, 1)]


def test_priority_aging_preempts_at_the_exact_tick_with_switch_cost() -> None:
    # Job 1 (priority 4, ready at 1) ages 1 step per 2 ticks: 4 - (t - 1) // 2 < 1 first at
    # t = 9, so it preempts job 0 (dispatched with priority 1) at 9. Job 1 then runs with
    # the priority it was dispatched with (0); job 0, ready again from 9, would need to
    # age below 0, at 13, but job 1 finishes at 13 (its end comes before the timer).
    jobs = [J(0, 0, 10, prio=1), J(1, 1, 3, prio=4)]
    assert schedule(jobs, REF.PriorityScheduler(preemptive=True, aging=2), cost=1) == [
        (0, 9, 0),
        (9, 10, 1, "switch"),
        (10, 13, 1),
        (13, 14, 0, "switch"),
        (14, 15, 0),
    ]


def test_priority_aging_with_switch_cost_cannot_livelock() -> None:
    # With "a running job counts with its base priority" this workload livelocks: every
    # job dispatched thanks to aging is preempted at the end of its switch, 0 ticks run.
    jobs = [J(0, 0, 7, 3, 3, prio=2), J(1, 2, 7, prio=0), J(2, 1, 5, prio=0)]
    trace = simulate(jobs, REF.PriorityScheduler(preemptive=True, aging=1), switch_cost=1)
    assert validate_trace(jobs, trace) == []
    assert len(trace.segments) < 40


def test_priority_next_timer_is_when_a_waiting_job_overtakes_the_running_one() -> None:
    p = REF.PriorityScheduler(preemptive=True, aging=3)
    assert p.next_timer(0) is None
    p.ready(JobInfo(0, 0, 1, 1, 1), 0, Reason.ARRIVED)
    assert p.dispatch(0) == 0  # runs holding priority 1
    p.ready(JobInfo(1, 0, 2, 1, 1), 1, Reason.ARRIVED)  # 2 - (t - 1) // 3 < 1 from t = 7
    p.ready(JobInfo(2, 0, 4, 1, 1), 2, Reason.ARRIVED)  # 4 - (t - 2) // 3 < 1 from t = 14
    assert p.next_timer(2) == 7
    assert p.next_timer(6) == 7
    assert REF.PriorityScheduler(aging=3).next_timer(5) is None  # not preemptive


# ----------------------------------------------------------------------------- MLFQ


def test_mlfq_boost_io_and_preemption_by_a_higher_level() -> None:
    jobs = [J(0, 0, 8), J(1, 0, 8), J(2, 2, 1, 2, 1)]
    assert schedule(jobs, REF.MLFQ([2, 4], [1, 1], boost=10)) == [
        (0, 2, 0),
        (2, 4, 1),
        (4, 5, 2),
        (5, 7, 0),  # job 2 back at 7 (level 0) preempts job 0 (level 1)
        (7, 8, 2),
        (8, 10, 0),  # job 0 resumes first in level 1 with its 2 ticks of quantum left
        (10, 12, 1),  # boost at 10: job 1 then job 0 in level 0
        (12, 14, 0),
        (14, 18, 1),
    ]


def test_mlfq_quantum_counts_across_io_with_switch_cost() -> None:
    jobs = [J(0, 0, 2, 1, 2, 1, 5), J(1, 0, 6)]
    assert schedule(jobs, REF.MLFQ([3, 3], [1, 1]), cost=1) == [
        (0, 2, 0),  # job 0 blocks with 1 tick of its level-0 quantum left
        (2, 3, 1, "switch"),
        (3, 6, 1),  # job 1 uses its quantum: level 1
        (6, 7, 0, "switch"),
        (7, 8, 0),  # the 1 tick left: job 0 moves to level 1 too
        (8, 9, 1, "switch"),
        (9, 12, 1),
        (12, 13, 0, "switch"),
        (13, 14, 0),
        (15, 20, 0),  # back from I/O on an idle CPU: same job, no switch
    ]


def test_mlfq_preempted_job_resumes_at_the_front_of_its_level() -> None:
    jobs = [J(0, 0, 10), J(1, 0, 5), J(2, 5, 1)]
    assert schedule(jobs, REF.MLFQ([2, 4], [1, 1])) == [
        (0, 2, 0),
        (2, 4, 1),
        (4, 5, 0),
        (5, 6, 2),
        (6, 9, 0),  # the 3 ticks left of job 0's level-1 quantum, ahead of job 1
        (9, 12, 1),
        (12, 16, 0),
    ]


def test_mlfq_forgets_cpu_used_before_a_boost() -> None:
    # Job 1 runs 3-4, the boost at 4 resets it: it then gets a full fresh quantum of 3.
    jobs = [J(0, 0, 6), J(1, 0, 6)]
    assert schedule(jobs, REF.MLFQ([3, 10], [1, 1], boost=4)) == [
        (0, 3, 0),
        (3, 7, 1),
        (7, 10, 0),
        (10, 12, 1),
    ]


def test_mlfq_boost_during_a_switch_and_allotments() -> None:
    # quanta [1, 5], allotments [2, 1], boost 6, switch cost 1. Level 0 gives each job two
    # 1-tick quanta; the boost at 6 lands at the end of job 1's switch: it is preempted with
    # 0 ticks run, re-queued at the front of level 0 and dispatched again without a switch.
    jobs = [J(0, 0, 9), J(1, 0, 9)]
    got = schedule(jobs, REF.MLFQ([1, 5], [2, 1], boost=6), cost=1)
    assert got[:8] == [
        (0, 1, 0),
        (1, 2, 1, "switch"),
        (2, 3, 1),
        (3, 4, 0, "switch"),
        (4, 5, 0),  # job 0 used both level-0 quanta: level 1
        (5, 6, 1, "switch"),
        (6, 7, 1),  # boost at 6: job 1 gets a fresh allotment of 2 at level 0
        (7, 8, 0, "switch"),
    ]
    assert got[8] == (8, 9, 0)  # job 0 was boosted to level 0 too


def test_mlfq_boost_reaches_jobs_blocked_in_io() -> None:
    # Job 0 uses its level-0 quantum 0-2 (level 1) and is in I/O during the boost at 4.
    # Job 1's quantum ends at 4 and again at 6 (level 1). Job 0 comes back at 6 to level 0
    # and runs first; without the boost it would queue behind job 1 in level 1.
    jobs = [J(0, 0, 2, 4, 3), J(1, 0, 20)]
    got = schedule(jobs, REF.MLFQ([2, 8], [1, 1], boost=4))
    assert got[:4] == [(0, 2, 0), (2, 6, 1), (6, 8, 0), (8, 10, 1)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([], []), r"quanta must be a non-empty list .* got \[\]"),
        (([2, 0], [1, 1]), r"every entry of quanta must be a positive int, got quanta=\[2, 0\]"),
        (([2, 4], [1]), r"allotments must be a list with one entry per level \(2 levels"),
        (([2], [True]), r"every entry of allotments must be a positive int"),
        (([2.5], [1]), r"quanta=\[2.5\]"),
        (([2], [1], 0), r"boost must be None \(no boost\) or a positive int .* got 0"),
        (([2], [1], "10"), r"boost .* got '10'"),
        ((5, [1]), r"quanta must be a non-empty list of positive ints .* got 5"),
    ],
)
def test_mlfq_rejects_bad_arguments(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        REF.MLFQ(*args)


def test_other_constructors_reject_bad_arguments() -> None:
    with pytest.raises(ValueError, match="quantum must be a positive int"):
        REF.RoundRobin(0)
    with pytest.raises(ValueError, match="aging must be None or a positive int"):
        REF.PriorityScheduler(aging=0)


# ----------------------------------------------------------------------------- properties

POLICIES = ["FCFS", "SJF", "STCF", "RoundRobin", "PriorityScheduler", "MLFQ"]


@st.composite
def workloads(
    draw: st.DrawFn,
    max_jobs: int = 6,
    max_cpu_bursts: int = 3,
    max_arrival: int = 12,
    max_burst: int = 8,
    at_zero: bool = False,
) -> list[Job]:
    n = draw(st.integers(1, max_jobs))
    jobs = []
    for i in range(n):
        k = draw(st.integers(1, max_cpu_bursts))
        bursts = tuple(draw(st.integers(1, max_burst)) for _ in range(2 * k - 1))
        arrival = 0 if at_zero else draw(st.integers(0, max_arrival))
        jobs.append(Job(i, arrival, bursts, draw(st.integers(0, 3))))
    return jobs


@st.composite
def params_for(draw: st.DrawFn, policy: str) -> dict[str, Any]:
    if policy == "RoundRobin":
        return {"quantum": draw(st.integers(1, 5))}
    if policy == "PriorityScheduler":
        return {
            "preemptive": draw(st.booleans()),
            "aging": draw(st.one_of(st.none(), st.integers(1, 6))),
        }
    if policy == "MLFQ":
        levels = draw(st.integers(1, 3))
        return {
            "quanta": [draw(st.integers(1, 5)) for _ in range(levels)],
            "allotments": [draw(st.integers(1, 3)) for _ in range(levels)],
            "boost": draw(st.one_of(st.none(), st.integers(3, 30))),
        }
    return {}


@st.composite
def cases(draw: st.DrawFn, policy: str | None = None) -> tuple[str, dict[str, Any], list[Job], int]:
    name = policy or draw(st.sampled_from(POLICIES))
    return name, draw(params_for(name)), draw(workloads()), draw(st.sampled_from([0, 0, 1, 2]))


@FAST
@given(cases())
def test_reference_traces_are_possible_and_metrics_sane(
    case: tuple[str, dict[str, Any], list[Job], int],
) -> None:
    policy, params, jobs, cost = case
    trace = simulate(jobs, make(REF, policy, params), switch_cost=cost)
    assert validate_trace(jobs, trace) == []
    m = compute_metrics(jobs, trace)
    cpu = sum(j.cpu_total for j in jobs)
    assert m.busy == cpu
    assert m.switch_ticks == cost * m.context_switches
    assert m.busy + m.switch_ticks <= m.makespan
    assert 0 < m.cpu_utilisation <= 1
    for j, jm in zip(sorted(jobs, key=lambda j: j.id), m.jobs, strict=True):
        assert jm.first_run >= j.arrival and jm.response >= 0
        assert jm.turnaround >= sum(j.bursts) and jm.waiting >= 0
        assert jm.weighted_turnaround >= 1


def true_rank(c: Candidate, preempting: bool) -> tuple[int, int, int]:
    """The order of the ready() calls. replay() ranks a job that left the CPU with work
    left as if its slice EXPIRED (before same-instant arrivals); for a policy without
    slices it was PREEMPTED, which the simulator delivers after arrivals and I/O."""
    if preempting and c.rank[1] == 0:
        return (c.rank[0], 5, 0)
    return c.rank


def first_in_ready_order(cands: list[Candidate], preempting: bool) -> Candidate:
    return min(cands, key=lambda c: true_rank(c, preempting))


def run_replay(
    policy: str, params: dict[str, Any], jobs: list[Job], cost: int
) -> tuple[Trace, list[Snapshot]]:
    trace = simulate(jobs, make(REF, policy, params), switch_cost=cost)
    return trace, replay(jobs, trace)


@FAST
@given(cases("FCFS"))
def test_fcfs_rule(case: tuple[str, dict[str, Any], list[Job], int]) -> None:
    _, snaps = run_replay(*case)
    for s in snaps:
        r = s.running
        if s.dispatched and r is not None:
            assert r.remaining == r.burst  # never resumes a burst
            assert first_in_ready_order([r, *s.waiting], False) is r


@FAST
@given(cases("SJF"))
def test_sjf_rule(case: tuple[str, dict[str, Any], list[Job], int]) -> None:
    _, snaps = run_replay(*case)
    for s in snaps:
        r = s.running
        if s.dispatched and r is not None:
            assert r.remaining == r.burst
            shortest = min(c.burst for c in [r, *s.waiting])
            tied = [c for c in [r, *s.waiting] if c.burst == shortest]
            assert first_in_ready_order(tied, False) is r


@FAST
@given(cases("STCF"))
def test_stcf_rule(case: tuple[str, dict[str, Any], list[Job], int]) -> None:
    _, snaps = run_replay(*case)
    for s in snaps:
        r = s.running
        if r is None or (s.in_switch and not s.dispatched):
            continue
        assert all(w.remaining >= r.remaining for w in s.waiting)
        if s.dispatched:
            tied = [c for c in [r, *s.waiting] if c.remaining == r.remaining]
            assert first_in_ready_order(tied, True) is r


@FAST
@given(cases("RoundRobin"))
def test_rr_rule(case: tuple[str, dict[str, Any], list[Job], int]) -> None:
    trace, snaps = run_replay(*case)
    q = case[1]["quantum"]
    assert all(s.length <= q for s in trace.runs())  # un-merged: one slice per segment
    for s in snaps:
        r = s.running
        if s.dispatched and r is not None:
            assert first_in_ready_order([r, *s.waiting], False) is r


def effective(c: Candidate, t: int, aging: int | None) -> int:
    return c.priority - (t - c.ready_since) // aging if aging else c.priority


@FAST
@given(cases("PriorityScheduler"))
def test_priority_rule(case: tuple[str, dict[str, Any], list[Job], int]) -> None:
    _, params, _, _ = case
    preemptive, aging = params["preemptive"], params["aging"]
    _, snaps = run_replay(*case)
    held = 0  # the effective priority the running job was dispatched with
    for i, s in enumerate(snaps):
        r = s.running
        if r is None:
            continue
        if s.dispatched:
            if not preemptive:
                assert r.remaining == r.burst
            best = min(effective(c, s.time, aging) for c in [r, *s.waiting])
            tied = [c for c in [r, *s.waiting] if effective(c, s.time, aging) == best]
            assert first_in_ready_order(tied, preemptive) is r
            held = best
        if not preemptive or s.in_switch or not s.waiting:
            continue
        # preempt() is asked at every event and, with aging, at every instant where a
        # waiting job's effective priority drops; it must have said no at each of them.
        until = snaps[i + 1].time if i + 1 < len(snaps) else s.time + 1
        asked = [s.time] if not s.dispatched else []
        if aging:
            asked += [
                t
                for t in range(s.time + 1, until)
                if any((t - w.ready_since) % aging == 0 for w in s.waiting)
            ]
        for t in asked:
            assert all(effective(w, t, aging) >= held for w in s.waiting), (t, s)


def best_total_turnaround(jobs: list[Job]) -> int:
    """Brute force over every preemptive schedule, tick by tick (single-burst jobs)."""
    arrival = [j.arrival for j in jobs]

    @functools.cache
    def best(t: int, left: tuple[int, ...]) -> int:
        if not any(left):
            return 0
        avail = [i for i, r in enumerate(left) if r and arrival[i] <= t]
        if not avail:
            return best(min(arrival[i] for i, r in enumerate(left) if r), left)
        out = None
        for i in avail:
            nxt = list(left)
            nxt[i] -= 1
            done = t + 1 - arrival[i] if nxt[i] == 0 else 0
            cand = done + best(t + 1, tuple(nxt))
            out = cand if out is None else min(out, cand)
        assert out is not None
        return out

    return best(0, tuple(j.bursts[0] for j in jobs))


def total_turnaround(jobs: list[Job], trace: Trace) -> int:
    return sum(m.turnaround for m in compute_metrics(jobs, trace).jobs)


@settings(FAST, max_examples=60)
@given(workloads(max_jobs=4, max_cpu_bursts=1, max_arrival=5, max_burst=4))
def test_stcf_total_turnaround_is_optimal(jobs: list[Job]) -> None:
    got = total_turnaround(jobs, simulate(jobs, REF.STCF()))
    assert got == best_total_turnaround(jobs)


@FAST
@given(workloads(max_cpu_bursts=1), st.integers(1, 5))
def test_stcf_beats_the_others_on_single_bursts(jobs: list[Job], q: int) -> None:
    stcf = total_turnaround(jobs, simulate(jobs, REF.STCF()))
    for other in (REF.SJF(), REF.FCFS(), REF.RoundRobin(q)):
        assert stcf <= total_turnaround(jobs, simulate(jobs, other))


@FAST
@given(workloads(max_cpu_bursts=1, at_zero=True), st.integers(1, 5))
def test_rr_response_bound(jobs: list[Job], q: int) -> None:
    m = compute_metrics(jobs, simulate(jobs, REF.RoundRobin(q)))
    assert all(j.response <= (len(jobs) - 1) * q for j in m.jobs)


@settings(FAST, max_examples=40)
@given(workloads(max_cpu_bursts=1, at_zero=True))
def test_sjf_is_optimal_when_all_arrive_together(jobs: list[Job]) -> None:
    bursts = sorted(j.bursts[0] for j in jobs)
    best = sum(sum(bursts[: i + 1]) for i in range(len(bursts)))
    assert total_turnaround(jobs, simulate(jobs, REF.SJF())) == best


def test_big_workloads_run_fast() -> None:
    """20k jobs (60k CPU bursts): cheap per event. With O(n) work per event (scanning a
    list, touching every job at a boost) this takes minutes, not seconds."""
    import random
    import time

    rng = random.Random(7)
    n = 20_000
    jobs = [
        Job(i, rng.randrange(0, 2 * n), tuple(rng.randint(1, 20) for _ in range(3)), i % 5)
        for i in range(n)
    ]
    for policy in (
        REF.RoundRobin(4),
        REF.MLFQ([2, 4, 8], [2, 2, 2], boost=50),
        REF.STCF(),
        REF.PriorityScheduler(preemptive=True, aging=8),
    ):
        started = time.perf_counter()
        simulate(jobs, policy)
        assert time.perf_counter() - started < 15, type(policy).__name__


# ----------------------------------------------------------------------------- template

TEMPLATE = load(ROOT / "student_template" / "scheduling" / "policies.py", "osgrade_test_template")


@pytest.mark.parametrize("policy", POLICIES)
def test_template_has_the_reference_signatures_and_scores_nothing(policy: str) -> None:
    import inspect

    ref, tpl = getattr(REF, policy), getattr(TEMPLATE, policy)
    assert inspect.signature(tpl.__init__) == inspect.signature(ref.__init__)
    assert issubclass(tpl, Scheduler)
    params: dict[str, Any] = {
        "RoundRobin": {"quantum": 2},
        "MLFQ": {"quanta": [2], "allotments": [1], "boost": 5},
    }
    with pytest.raises(NotImplementedError):
        simulate([J(0, 0, 2), J(1, 1, 1)], tpl(**params.get(policy, {})))


# ----------------------------------------------------------------------------- samples


@settings(FAST, max_examples=1500)
@given(cases())
def test_correct_alt_matches_the_reference(
    case: tuple[str, dict[str, Any], list[Job], int],
) -> None:
    policy, params, jobs, cost = case
    expected = simulate(jobs, make(REF, policy, params), switch_cost=cost)
    actual = simulate(jobs, make(sample("correct_alt"), policy, params), switch_cost=cost)
    assert actual.normalized() == expected.normalized()


# sample -> (policy, params, jobs, switch cost): a workload where its schedule differs.
DISTINGUISHING: dict[str, tuple[str, dict[str, Any], list[Job], int]] = {
    # At 2 job 0's quantum ends and job 1 arrives: job 0 must go first.
    "rr_new_before_expired": ("RoundRobin", {"quantum": 2}, [J(0, 0, 5), J(1, 2, 2)], 0),
    # Jobs 2 and 1 tie at 3 ticks; job 2 became ready first.
    "sjf_total_cpu": ("SJF", {}, [J(0, 0, 4), J(2, 1, 3), J(1, 2, 3)], 0),
    "stcf_never_preempts": ("STCF", {}, [J(0, 0, 8), J(1, 1, 2)], 0),
    "stcf_preempts_on_tie": ("STCF", {}, [J(0, 0, 4), J(1, 2, 2)], 0),
    "priority_inverted": ("PriorityScheduler", {}, PRIO_JOBS, 0),
    "priority_aging_ignored": (
        "PriorityScheduler",
        {"aging": 2},
        [J(0, 0, 6, prio=0), J(1, 0, 1, prio=3), J(2, 5, 1, prio=1)],
        0,
    ),
    # Job 0 blocks after 1 tick twice: the second time its level-0 quantum (2) is used up.
    "mlfq_resets_on_io": (
        "MLFQ",
        {"quanta": [2, 2], "allotments": [1, 1], "boost": None},
        [J(0, 0, 1, 1, 1, 1, 1), J(1, 0, 4)],
        0,
    ),
    "mlfq_no_boost": (
        "MLFQ",
        {"quanta": [2, 4], "allotments": [1, 1], "boost": 10},
        [J(0, 0, 8), J(1, 0, 8), J(2, 2, 1, 2, 1)],
        0,
    ),
    "mlfq_preempted_to_tail": (
        "MLFQ",
        {"quanta": [2, 4], "allotments": [1, 1], "boost": None},
        [J(0, 0, 10), J(1, 0, 5), J(2, 5, 1)],
        0,
    ),
    # Job 0 is back from I/O at 4, job 2 has been ready since 2: job 2 first.
    "fcfs_by_arrival": ("FCFS", {}, [J(0, 0, 1, 3, 1), J(1, 1, 5), J(2, 2, 1)], 0),
}


@pytest.mark.parametrize("name", sorted(DISTINGUISHING))
def test_buggy_sample_differs_from_the_reference(name: str) -> None:
    policy, params, jobs, cost = DISTINGUISHING[name]
    expected = schedule(jobs, make(REF, policy, params), cost)
    actual = schedule(jobs, make(sample(name), policy, params), cost)
    assert actual != expected
    notes = (SAMPLES / name / "NOTES.md").read_text()
    assert len(notes.strip().splitlines()) == 2
    assert policy in notes


OTHER_PARAMS: list[tuple[str, dict[str, Any]]] = [
    ("FCFS", {}),
    ("SJF", {}),
    ("STCF", {}),
    ("RoundRobin", {"quantum": 2}),
    ("PriorityScheduler", {}),
    ("PriorityScheduler", {"preemptive": True, "aging": 2}),
    ("MLFQ", {"quanta": [1, 2], "allotments": [1, 2], "boost": 7}),
]


@pytest.mark.parametrize("name", sorted(DISTINGUISHING))
def test_buggy_sample_keeps_the_other_classes_correct(name: str) -> None:
    buggy = DISTINGUISHING[name][0]
    jobs = [J(0, 0, 3, 2, 2, prio=2), J(1, 1, 4, prio=1), J(2, 1, 2, 1, 1, prio=0), J(3, 5, 1)]
    for policy, params in OTHER_PARAMS:
        if policy != buggy:
            got = schedule(jobs, make(sample(name), policy, params), 1)
            assert got == schedule(jobs, make(REF, policy, params), 1), policy


def test_syntax_error_sample() -> None:
    path = SAMPLES / "syntax_error" / "policies.py"
    with pytest.raises(SyntaxError) as info:
        compile(path.read_text(), str(path), "exec")
    assert f"line {info.value.lineno}" in (SAMPLES / "syntax_error" / "NOTES.md").read_text()


def test_raises_sample() -> None:
    mod = sample("raises")
    with pytest.raises(IndexError):
        simulate([J(0, 0, 1), J(1, 5, 1)], mod.RoundRobin(2))  # the CPU idles at 1
    assert schedule([J(0, 0, 3), J(1, 0, 2)], mod.RoundRobin(2)) == [
        (0, 2, 0),
        (2, 4, 1),
        (4, 5, 0),
    ]


def test_eq_always_true_sample() -> None:
    with pytest.raises(SchedulingError, match="of type _Id"):
        simulate([J(0, 0, 1)], sample("eq_always_true").FCFS())


def test_missing_class_and_wrong_signature_samples() -> None:
    assert not hasattr(sample("missing_class"), "MLFQ")
    assert hasattr(sample("missing_class"), "RoundRobin")
    with pytest.raises(TypeError):
        sample("wrong_signature").RoundRobin(quantum=3)


def _run_isolated(name: str, body: str, timeout: float) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(
        f"""
        import importlib.util, sys
        sys.path.insert(0, {str(ROOT)!r})
        from grader.simos.scheduling import Job, simulate
        spec = importlib.util.spec_from_file_location("p", {str(SAMPLES / name / "policies.py")!r})
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code + textwrap.dedent(body)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_os_exit_sample_kills_the_process_silently() -> None:
    done = _run_isolated(
        "os_exit",
        """
        simulate([Job(0, 0, (2,))], mod.STCF())
        print("stcf ok")
        mod.MLFQ([2], [1])
        print("unreachable")
        """,
        timeout=30,
    )
    assert done.returncode == 0
    assert done.stdout == "stcf ok\n"


def test_infinite_loop_sample_spins_on_a_tie_only() -> None:
    fine = _run_isolated(
        "infinite_loop",
        """
        simulate([Job(0, 0, (2,)), Job(1, 0, (3,))], mod.STCF())
        print("no tie ok")
        """,
        timeout=30,
    )
    assert fine.stdout == "no tie ok\n"
    with pytest.raises(subprocess.TimeoutExpired):
        _run_isolated(
            "infinite_loop",
            "simulate([Job(0, 0, (1,)), Job(1, 0, (3,)), Job(2, 0, (3,))], mod.STCF())",
            timeout=3,
        )
