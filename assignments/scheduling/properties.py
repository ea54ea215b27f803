"""Hidden properties of the CPU-scheduling assignment (instructors only).

Two kinds: differential (the student's schedule equals the reference's, tick for
tick) and rule invariants (the policy's rule holds at every decision, whatever the
tie-breaks), so a student with the right idea but a wrong tie-break keeps credit.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from grader.engine.props import Context, Failure, prop, sibling
from grader.engine.results import Counterexample
from grader.simos.scheduling import Job, Snapshot, Trace, compute_metrics, replay, simulate
from grader.simos.scheduling.model import Segment, SegmentKind

# The words and pictures, shared with the student kit ([kit] explain in assignment.toml).
explain = sibling(__file__, "explain")
RUN, JobsData, to_jobs = explain.RUN, explain.JobsData, explain.to_jobs
schedule_text, picture, compare = explain.schedule_text, explain.picture, explain.compare
trace_from_reply, checked_trace = explain.trace_from_reply, explain.checked_trace

# ----------------------------------------------------------------------------- inputs


def workloads(
    max_jobs: int = 7,
    max_cpu_bursts: int = 3,
    max_arrival: int = 16,
    max_burst: int = 9,
    all_at_zero: bool = False,
) -> st.SearchStrategy[JobsData]:
    """Small workloads with many ties: arrivals from a narrow range, short bursts.

    A list (not a drawn count) so that shrinking can delete any job, not only the last;
    ids are the positions, so they stay 0..n-1 after a deletion.
    """
    burst = st.integers(1, max_burst)
    job = st.fixed_dictionaries(
        {
            "arrival": st.just(0) if all_at_zero else st.integers(0, max_arrival),
            "bursts": st.integers(1, max_cpu_bursts).flatmap(
                lambda k: st.lists(burst, min_size=2 * k - 1, max_size=2 * k - 1)
            ),
            "priority": st.integers(0, 4),
        }
    )
    return st.lists(job, min_size=1, max_size=max_jobs).map(
        lambda js: [{"id": i, **j} for i, j in enumerate(js)]
    )


@st.composite
def mlfq_params(draw: st.DrawFn, boost: bool | None = None, min_boost: int = 5) -> dict[str, Any]:
    levels = draw(st.integers(1, 3))
    quanta = [draw(st.integers(1, 6)) for _ in range(levels)]
    allotments = [draw(st.integers(1, 3)) for _ in range(levels)]
    use_boost = draw(st.booleans()) if boost is None else boost
    period = draw(st.integers(min_boost, max(40, min_boost + 20))) if use_boost else None
    return {"quanta": quanta, "allotments": allotments, "boost": period}


switch_costs = st.sampled_from([0, 0, 1, 2])

# ----------------------------------------------------------------------------- helpers


def _args(policy: str, params: dict[str, Any], jobs: JobsData, cost: int) -> dict[str, Any]:
    return {"policy": policy, "params": params, "jobs": jobs, "switch_cost": cost}


def snippet(inputs: dict[str, Any]) -> str:
    policy, params = inputs["policy"], inputs.get("params", {})
    call = ", ".join(f"{k}={v!r}" for k, v in params.items())
    lines = [
        "from grader.simos.scheduling import Job, simulate",
        f"from policies import {policy}",
        "",
        "jobs = [",
    ]
    for j in inputs["jobs"]:
        lines.append(
            f"    Job(id={j['id']}, arrival={j['arrival']}, bursts={tuple(j['bursts'])!r}, "
            f"priority={j['priority']}),"
        )
    lines += [
        "]",
        f"trace = simulate(jobs, {policy}({call}), switch_cost={inputs.get('switch_cost', 0)})",
        "for seg in trace.normalized().segments:",
        "    print(seg.start, seg.end, 'job', seg.job, seg.kind.value)",
    ]
    return "\n".join(lines)


def describe(inputs: dict[str, Any]) -> Counterexample:
    return Counterexample(inputs=inputs, snippet=snippet(inputs))


def reference_trace(
    ctx: Context, policy: str, params: dict[str, Any], jobs: JobsData, cost: int
) -> Trace:
    cls = getattr(ctx.reference, policy)
    return simulate(to_jobs(jobs), cls(**params), switch_cost=cost)


def student_trace(
    ctx: Context, policy: str, params: dict[str, Any], jobs: JobsData, cost: int
) -> Trace:
    """The student's schedule, rebuilt from validated plain data and checked for possibility."""
    return checked_trace(jobs, ctx.call(RUN, _args(policy, params, jobs, cost)), cost)


def differential(
    policy: str, params: st.SearchStrategy[dict[str, Any]], **kw: Any
) -> Callable[..., None]:
    @prop(describe=describer(policy), params=params, jobs=workloads(**kw), switch_cost=switch_costs)
    def check(ctx: Context, params: dict[str, Any], jobs: JobsData, switch_cost: int) -> None:
        ctx.current_input = {
            "policy": policy,
            "params": params,
            "jobs": jobs,
            "switch_cost": switch_cost,
        }
        expected = reference_trace(ctx, policy, params, jobs, switch_cost)
        actual = student_trace(ctx, policy, params, jobs, switch_cost)
        compare(jobs, expected, actual)

    return check


def describer(policy: str) -> Callable[[dict[str, Any]], Counterexample]:
    """The Counterexample maker for one policy (the drawn inputs do not name it)."""
    return lambda inputs: describe({"policy": policy, "params": {}, **inputs})


none: st.SearchStrategy[dict[str, Any]] = st.just({})

fcfs_matches_reference = differential("FCFS", none)
sjf_matches_reference = differential("SJF", none)
stcf_matches_reference = differential("STCF", none)
rr_matches_reference = differential(
    "RoundRobin", st.fixed_dictionaries({"quantum": st.integers(1, 6)})
)
priority_matches_reference = differential(
    "PriorityScheduler", st.just({"preemptive": False, "aging": None})
)
priority_preemptive_matches_reference = differential(
    "PriorityScheduler", st.just({"preemptive": True, "aging": None})
)
priority_aging_matches_reference = differential(
    "PriorityScheduler",
    st.fixed_dictionaries({"preemptive": st.booleans(), "aging": st.integers(1, 8)}),
)
mlfq_matches_reference = differential("MLFQ", mlfq_params())

# ----------------------------------------------------------------------------- rule invariants

Violation = tuple[int, str]
RuleCheck = Callable[[list[Job], Trace, list[Snapshot], dict[str, Any]], "Violation | None"]


def rule_property(
    policy: str,
    params: st.SearchStrategy[dict[str, Any]],
    rule: RuleCheck,
    headline: str,
    jobs: st.SearchStrategy[JobsData] | None = None,
    costs: st.SearchStrategy[int] = switch_costs,
) -> Callable[..., None]:
    @prop(
        describe=describer(policy),
        params=params,
        jobs=workloads() if jobs is None else jobs,
        switch_cost=costs,
    )
    def check(ctx: Context, params: dict[str, Any], jobs: JobsData, switch_cost: int) -> None:
        ctx.current_input = {
            "policy": policy,
            "params": params,
            "jobs": jobs,
            "switch_cost": switch_cost,
        }
        expected = reference_trace(ctx, policy, params, jobs, switch_cost)
        actual = student_trace(ctx, policy, params, jobs, switch_cost)
        # Checked even when the schedules agree: the rule is an oracle independent of the
        # reference, which is what lets `osgrade validate` catch a wrong reference.
        js = to_jobs(jobs)
        found = rule(js, actual, replay(js, actual), params)
        if found is not None:
            t, why = found
            raise Failure(
                headline,
                expected=schedule_text(expected),
                actual=schedule_text(actual),
                divergence=f"At t={t}: {why}",
                picture=picture(jobs, expected, actual, t),
            )

    return check


def _nonpreemptive(s: Snapshot) -> Violation | None:
    r = s.running
    if s.dispatched and r is not None and r.remaining != r.burst:
        return s.time, (
            f"job {r.id} resumes a CPU burst it had started earlier; this policy never "
            "interrupts a running job"
        )
    return None


def fcfs_rule(
    jobs: list[Job], trace: Trace, snaps: list[Snapshot], p: dict[str, Any]
) -> Violation | None:
    for s in snaps:
        if (v := _nonpreemptive(s)) is not None:
            return v
        r = s.running
        if s.dispatched and r is not None and s.waiting and s.waiting[0].rank < r.rank:
            w = s.waiting[0]
            return s.time, (
                f"job {r.id} was chosen, but job {w.id} has been ready since t={w.ready_since} "
                f"(job {r.id} only since t={r.ready_since}); FCFS takes the job ready first"
            )
    return None


def sjf_rule(
    jobs: list[Job], trace: Trace, snaps: list[Snapshot], p: dict[str, Any]
) -> Violation | None:
    for s in snaps:
        if (v := _nonpreemptive(s)) is not None:
            return v
        r = s.running
        if s.dispatched and r is not None and s.waiting:
            w = min(s.waiting, key=lambda c: c.burst)
            if w.burst < r.burst:
                return s.time, (
                    f"job {r.id} (next CPU burst {r.burst}) was chosen while job {w.id} "
                    f"(next CPU burst {w.burst}) was ready; SJF takes the shortest"
                )
    return None


def stcf_rule(
    jobs: list[Job], trace: Trace, snaps: list[Snapshot], p: dict[str, Any]
) -> Violation | None:
    for s in snaps:
        r = s.running
        if r is None or not s.waiting or (s.in_switch and not s.dispatched):
            continue
        w = min(s.waiting, key=lambda c: c.remaining)
        if w.remaining < r.remaining:
            verb = "was chosen" if s.dispatched else "keeps running"
            return s.time, (
                f"job {r.id} ({r.remaining} ticks left) {verb} while job {w.id} with only "
                f"{w.remaining} ticks left was ready; STCF always runs the least remaining time"
            )
    return None


def _segment_at(trace: Trace, t: int) -> Segment | None:
    runs = trace.normalized().segments
    i = bisect.bisect_right([s.start for s in runs], t) - 1
    return runs[i] if i >= 0 and runs[i].start <= t < runs[i].end else None


def rr_rule(
    jobs: list[Job], trace: Trace, snaps: list[Snapshot], p: dict[str, Any]
) -> Violation | None:
    q = p["quantum"]
    for s in snaps:
        r = s.running
        if r is None or not s.waiting:
            continue
        if s.dispatched and s.waiting[0].rank < r.rank:
            w = s.waiting[0]
            return s.time, (
                f"job {r.id} was chosen, but job {w.id} was ahead of it in the ready queue "
                f"(ready since t={w.ready_since}); Round Robin serves the queue in order"
            )
        seg = _segment_at(trace, s.time)
        if s.in_switch or seg is None or seg.kind is not SegmentKind.RUN:
            continue
        limit = seg.start + q * ((s.time - seg.start) // q + 1)
        if seg.end > limit:
            return limit, (
                f"job {r.id} ran from t={seg.start} past t={limit} while job "
                f"{s.waiting[0].id} was waiting; a quantum is {q} ticks"
            )
    return None


def _effective(c: Any, t: int, aging: int | None) -> int:
    return int(c.priority - (t - c.ready_since) // aging) if aging else int(c.priority)


def priority_rule(
    jobs: list[Job], trace: Trace, snaps: list[Snapshot], p: dict[str, Any]
) -> Violation | None:
    aging, preemptive = p.get("aging"), p.get("preemptive", False)
    held = 0  # the running job keeps the effective priority it was dispatched with
    for i, s in enumerate(snaps):
        r = s.running
        if r is None:
            continue
        if s.dispatched:
            held = _effective(r, s.time, aging)
        if not preemptive and (v := _nonpreemptive(s)) is not None:
            return v
        if s.dispatched and s.waiting:
            w = min(s.waiting, key=lambda c: _effective(c, s.time, aging))
            if _effective(w, s.time, aging) < _effective(r, s.time, aging):
                return s.time, (
                    f"job {r.id} (effective priority {_effective(r, s.time, aging)}) was chosen "
                    f"while job {w.id} (effective priority {_effective(w, s.time, aging)}) was "
                    "ready; a smaller number is more important"
                )
        if preemptive and not s.in_switch and s.waiting:
            until = snaps[i + 1].time if i + 1 < len(snaps) else s.time + 1
            for w in s.waiting:
                if aging:
                    when = w.ready_since + aging * (w.priority - held + 1)
                else:
                    when = s.time if w.priority < held else until
                when = max(when, s.time)
                if when < until:
                    return when, (
                        f"job {w.id} became more important (effective priority "
                        f"{_effective(w, when, aging)}) than running job {r.id} (priority "
                        f"{held} when it was dispatched) but did not preempt it"
                    )
    return None


def _mlfq_levels(jobs: list[Job], trace: Trace, p: dict[str, Any]) -> Callable[[int, int], int]:
    """level(job, t) from the CPU a job used since the last boost (OSTEP's accounting)."""
    quanta, allot, boost = p["quanta"], p["allotments"], p.get("boost")
    cum = [0]
    for q, a in zip(quanta, allot, strict=True):
        cum.append(cum[-1] + q * a)
    starts: dict[int, list[int]] = {j.id: [] for j in jobs}
    ends: dict[int, list[int]] = {j.id: [] for j in jobs}
    for s in trace.runs():
        starts[s.job].append(s.start)
        ends[s.job].append(s.end)

    def used(j: int, t: int) -> int:
        total = 0
        for a, b in zip(starts[j], ends[j], strict=True):
            if a >= t:
                break
            total += min(b, t) - a
        return total

    def level(j: int, t: int) -> int:
        since = (t // boost) * boost if boost else 0
        u = used(j, t) - used(j, since)
        lvl = bisect.bisect_right(cum, u) - 1
        return min(lvl, len(quanta) - 1)

    return level


def mlfq_level_rule(
    jobs: list[Job], trace: Trace, snaps: list[Snapshot], p: dict[str, Any]
) -> Violation | None:
    level = _mlfq_levels(jobs, trace, p)
    for i, s in enumerate(snaps):
        r = s.running
        if r is None or not s.waiting or (s.in_switch and not s.dispatched):
            continue
        until = snaps[i + 1].time if i + 1 < len(snaps) else s.time + 1
        # Levels only change at quantum boundaries and boosts; check every instant cheaply
        # by testing the interval's start and each tick (intervals are short in tests).
        for t in range(s.time, min(until, s.time + 200)):
            if t > s.time and s.in_switch:
                break
            lr = level(r.id, t)
            w = min(s.waiting, key=lambda c: level(c.id, t))
            if level(w.id, t) < lr:
                return t, (
                    f"job {r.id} at level {lr} holds the CPU while job {w.id} at level "
                    f"{level(w.id, t)} is ready (level 0 is the highest); after using its "
                    "allotment at a level a job must move down"
                )
    return None


def mlfq_boost_rule(
    jobs: list[Job], trace: Trace, snaps: list[Snapshot], p: dict[str, Any]
) -> Violation | None:
    boost = p["boost"]
    q0 = p["quanta"][0]
    cost = trace.switch_cost
    runs = trace.runs()
    end = max((s.end for s in runs), default=0)
    times = [s.time for s in snaps]
    for b in range(boost, end, boost):
        k = bisect.bisect_left(times, b) - 1  # last snapshot strictly before the boost
        if k < 0:
            continue
        s = snaps[k]
        in_system = len(s.waiting) + (1 if s.running else 0)
        bound = b + in_system * (q0 + cost)
        if b + boost <= bound:
            continue  # a later boost gives the running job a fresh quantum: no tight bound
        for w in s.waiting:
            nxt = next((r.start for r in runs if r.job == w.id and r.end > b), None)
            if nxt is not None and nxt > bound and end > bound:
                return bound, (
                    f"job {w.id} was waiting when the boost at t={b} moved every job to the top "
                    f"level, but it did not run until t={nxt}; after a boost each of the "
                    f"{in_system} jobs gets the CPU within one top-level quantum ({q0} ticks) each"
                )
    return None


fcfs_rule_holds = rule_property(
    "FCFS", none, fcfs_rule, "FCFS must run jobs in the order they became ready."
)
sjf_rule_holds = rule_property("SJF", none, sjf_rule, "SJF must pick the shortest next CPU burst.")
stcf_rule_holds = rule_property(
    "STCF", none, stcf_rule, "STCF must always run the job with the least remaining time."
)
rr_rule_holds = rule_property(
    "RoundRobin",
    st.fixed_dictionaries({"quantum": st.integers(1, 6)}),
    rr_rule,
    "Round Robin must rotate through the ready queue, one quantum each.",
)
priority_rule_holds = rule_property(
    "PriorityScheduler",
    st.fixed_dictionaries(
        {"preemptive": st.booleans(), "aging": st.one_of(st.none(), st.integers(1, 8))}
    ),
    priority_rule,
    "The priority scheduler must always run the most important ready job.",
)
mlfq_levels_hold = rule_property(
    "MLFQ",
    mlfq_params(),
    mlfq_level_rule,
    "MLFQ must run higher levels first and demote by allotment.",
)
mlfq_boost_holds = rule_property(
    "MLFQ",
    mlfq_params(boost=True, min_boost=20),
    mlfq_boost_rule,
    "After a priority boost every waiting job must soon get the CPU.",
    jobs=workloads(max_jobs=6, max_burst=14),
)

# ----------------------------------------------------------------------------- textbook facts


def total_turnaround(jobs: JobsData, trace: Trace) -> int:
    return sum(m.turnaround for m in compute_metrics(to_jobs(jobs), trace).jobs)


def optimality(policy: str, at_zero: bool) -> Callable[..., None]:
    @prop(describe=describer(policy), jobs=workloads(max_cpu_bursts=1, all_at_zero=at_zero))
    def check(ctx: Context, jobs: JobsData) -> None:
        ctx.current_input = {"policy": policy, "params": {}, "jobs": jobs, "switch_cost": 0}
        expected = reference_trace(ctx, policy, {}, jobs, 0)
        actual = student_trace(ctx, policy, {}, jobs, 0)
        best, got = total_turnaround(jobs, expected), total_turnaround(jobs, actual)
        if got != best:
            raise Failure(
                f"{policy} should minimise the average turnaround time here, but yours is "
                f"{got / len(jobs):.2f} against the optimum {best / len(jobs):.2f}.",
                expected=schedule_text(expected),
                actual=schedule_text(actual),
                picture=picture(jobs, expected, actual, None),
            )

    return check


sjf_is_optimal = optimality("SJF", at_zero=True)
stcf_is_optimal = optimality("STCF", at_zero=False)


@prop(
    describe=describer("RoundRobin"),
    params=st.fixed_dictionaries({"quantum": st.integers(1, 6)}),
    jobs=workloads(max_cpu_bursts=1, all_at_zero=True),
    switch_cost=switch_costs,
)
def rr_response_bound(
    ctx: Context, params: dict[str, Any], jobs: JobsData, switch_cost: int
) -> None:
    ctx.current_input = {
        "policy": "RoundRobin",
        "params": params,
        "jobs": jobs,
        "switch_cost": switch_cost,
    }
    actual = student_trace(ctx, "RoundRobin", params, jobs, switch_cost)
    bound = (len(jobs) - 1) * (params["quantum"] + switch_cost)
    for m in compute_metrics(to_jobs(jobs), actual).jobs:
        if m.response > bound:
            expected = reference_trace(ctx, "RoundRobin", params, jobs, switch_cost)
            raise Failure(
                f"With {len(jobs)} jobs arriving together and quantum {params['quantum']}, every "
                f"job must start within {bound} ticks, but job {m.id} first runs at t={m.first_run}.",
                expected=schedule_text(expected),
                actual=schedule_text(actual),
                picture=picture(jobs, expected, actual, bound),
            )
