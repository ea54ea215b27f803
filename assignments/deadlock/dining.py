"""Part 5, in the trusted parent: the dining philosophers under the interleaving explorer.

Each test names scenarios of the kind ``"philosophers"`` (grader/simos/deadlock/dining.py):
the student's ``philosopher_<variant>(table, i)`` from deadlock.py, on forks that are
their own Mutex (primitives.py), run by the synchronization assignment's explorer in the
worker. The first example of a test (``FULL_SEARCH``, given explicitly) runs the
explorer's whole search on every scenario; later examples replay Hypothesis-drawn
preemptions on one scenario.

* The three prevented versions pass when no schedule tried fails: no deadlock, no broken
  rule (the Dining monitor), no exception, no livelock within the step budget.
* The naive version passes when the search *does* find a deadlock, and the run's own
  events show the wait-for cycle around the table (checked here, from plain data).
* The lock-order test runs the naive and the ordered versions one philosopher after
  another (nothing can deadlock), turns the forks they took into lock traces, and asks
  the student's own ``potential_deadlocks`` about them: part 4's rules decide.

Verdicts use plain data only: a reported broken rule costs points only if feeding the
run's events through the same monitor shows it here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NoReturn

from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.engine.props import Context, Failure, prop
from grader.engine.results import Counterexample, LanesPicture, LaneStep, LaneThread
from grader.simos.deadlock.dining import KIND, lock_trace, scenario, wait_for_cycle
from grader.simos.deadlock.locks import TraceError
from grader.simos.sync.errors import ExplorerError
from grader.simos.sync.monitor import first_violation
from grader.simos.sync.rules import monitor_for
from grader.simos.sync.schedule import Schedule, check_scenario, decode, encode

EXPLORE = "grader.simos.deadlock.dining:explore"
REPLAY = "grader.simos.deadlock.dining:replay"
RUN_DEFAULT = "grader.simos.deadlock.dining:run_default"
Scenario = dict[str, Any]


class DiningParams(BaseModel):
    """The explorer's budget for one test (assignment.toml ``[params]``, per test too)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    preemption_bound: int = Field(2, ge=0, le=4, description="bounded search: up to this many")
    max_schedules: int = Field(300, ge=1, le=1_000_000, description="cap of the bounded search")
    random_schedules: int = Field(25, ge=0, le=1_000_000)
    pct_schedules: int = Field(25, ge=0, le=1_000_000)
    pct_depth: int = Field(3, ge=1, le=10)
    time_slice: int = Field(32, ge=1, le=10_000, description="steps before the default switches")
    max_steps: int = Field(20_000, ge=100, le=10_000_000, description="more: a livelock")
    stall_s: float = Field(2.0, gt=0, le=60, description="no progress this long: blocked")
    time_budget_s: float = Field(10.0, gt=0, le=3600, description="safety cap per scenario")
    seed: int = 0


# ----------------------------------------------------------------------------- replies


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class StepData(_Reply):
    t: int = Field(ge=0, le=64)
    kind: str = Field(max_length=20)
    where: str = Field(max_length=300)
    code: str = Field(max_length=300)
    note: str = Field(max_length=600)
    switch: str = Field(max_length=20)
    preempted: bool
    count: int = 0


class ThreadData(_Reply):
    id: int = Field(ge=0, le=64)
    state: Literal["done", "blocked", "ready", "running", "escaped"]
    where: str = Field(max_length=300)
    code: str = Field(max_length=300)
    waiting: str = Field(max_length=600)
    calls: list[str] = Field(max_length=50)
    holds: list[str] = Field(max_length=50)


class RunData(_Reply):
    status: Literal[
        "passed", "violation", "exception", "spinning", "deadlock", "lost_wakeup", "uncontrolled"
    ]
    message: str = Field(max_length=4000)
    culprit: int | None
    cycle: list[int] = Field(max_length=64)
    schedule: str = Field(max_length=4000)
    preemptions: int = Field(ge=0)
    threads: list[ThreadData] = Field(min_length=1, max_length=64)
    steps: list[StepData] = Field(max_length=2000)
    omitted: int = Field(ge=0)
    total_steps: int = Field(ge=0)
    events: list[list[int | str | bool | None]] = Field(max_length=4000)
    escaped: list[int] = Field(max_length=64)


class SearchData(_Reply):
    schedules: int
    complete_bound: int
    phase: str
    timed_out: bool
    per_phase: dict[str, int]


class ExploreReply(_Reply):
    verdict: Literal["passed", "failed"]
    search: SearchData | None
    failure: RunData | None


class ReplayReply(_Reply):
    verdict: Literal["passed", "failed"]
    failure: RunData | None


def _call(ctx: Context, entry: str, args: dict[str, Any], model: type[_Reply]) -> Any:
    data = ctx.call(entry, args)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Failure(f"The worker returned a malformed report: {exc.errors()[0]['msg']}") from None


# ----------------------------------------------------------------------------- feedback


def snippet(test_id: str, schedule: str) -> str:
    return "\n".join(
        [
            "# Replay the interleaving that fails on your deadlock.py and primitives.py.",
            "# From a shell, in the folder of your code:",
            f"#   osgrade check deadlock . --replay {test_id}={schedule}",
            "from grader.simos.deadlock.dining import replay_here",
            "",
            f'replay_here("{schedule}")',
        ]
    )


def search_snippet(scenarios: list[Scenario]) -> str:
    lines = [
        "# Run this test's search on your code (in the folder of deadlock.py and primitives.py);",
        "# it prints the first interleaving that fails, and its replay string.",
        "from grader.simos.deadlock.dining import explore_here",
        "",
    ]
    lines += [
        f'explore_here("{s["variant"]}", philosophers={s["philosophers"]}, meals={s["meals"]})'
        for s in scenarios
    ]
    return "\n".join(lines)


def _end_text(t: ThreadData, last: StepData | None) -> tuple[str, str]:
    at = f" at {t.where}" if t.where else ""
    if t.state == "done":
        return "finished", "good"
    if t.state == "blocked":
        inside = f" in {t.calls[0]}" if len(t.calls) > 1 else ""
        return f"{t.waiting or 'blocked'}{inside}{at}", "warn"
    if t.state == "escaped":
        return f"escaped the explorer{at}", "bad"
    doing = last.note or last.code if last is not None else ""
    return (f"stopped here: {doing}" if doing else f"stopped{at}"), "plain"


def picture(run: RunData, test_id: str, title: str, caption: str) -> LanesPicture:
    last: dict[int, StepData] = {s.t: s for s in run.steps}
    threads = []
    for t in run.threads:
        end, tone = _end_text(t, last.get(t.id))
        if t.id == run.culprit and tone != "good":
            tone = "bad"
        threads.append(LaneThread(id=t.id, label=f"T{t.id}", end=end, tone=tone))  # type: ignore[arg-type]
    steps = [
        LaneStep(
            thread=s.t,
            where=s.where,
            code=s.code,
            note=s.note,
            kind=s.kind,
            switch=s.switch,
            preempted=s.preempted,
        )
        for s in run.steps
    ]
    return LanesPicture(
        title=title,
        threads=threads,
        steps=steps,
        outcome=run.message,
        culprit=run.culprit,
        cycle=run.cycle,
        replay=run.schedule,
        command=f"osgrade check deadlock . --replay {test_id}={run.schedule}",
        omitted=run.omitted,
        caption=caption,
    )


HEADLINES = {
    "violation": "A rule was broken: ",
    "exception": "A thread raised an exception: ",
    "spinning": "Livelock (or a loop that never ends): ",
    "deadlock": "",
    "lost_wakeup": "",
    "uncontrolled": "A thread escaped the explorer's control: ",
}
HINTS = {
    "spinning": " If the philosophers keep putting a fork down and taking it again, that is a "
    "livelock: call yield_cpu() after putting a fork down, so that a neighbour can eat. If a "
    "fork stays in use forever, look at the thread that holds it or sleeps waiting for it.",
}


def _confirm(run: RunData, s: Scenario) -> None:
    """A broken rule costs points only if the run's own events show it (checked here)."""
    if run.status != "violation":
        return
    monitor = monitor_for(s)
    if first_violation(monitor, [list(e) for e in run.events]) is None and monitor.finish() is None:
        raise Failure(
            "The worker reported a broken rule that its own events do not show; the report "
            "cannot be trusted (did the code change the grader's objects?)."
        )


def judge(ctx: Context, run: RunData, s: Scenario, title: str, searched: str) -> NoReturn:
    """Raise the Failure that shows ``run`` (a failing run of scenario ``s``)."""
    _confirm(run, s)
    if run.escaped:
        ctx.worker.kill()  # a thread of the submission still runs there: start afresh
    if run.preemptions == 0:
        how = "No preemption is needed: the default schedule fails"
    else:
        how = f"It takes {run.preemptions} preemption{'s' if run.preemptions != 1 else ''}"
    how += f" (it was {searched})" if searched else ""
    raise Failure(
        f"{HEADLINES[run.status]}{run.message}{HINTS.get(run.status, '')}",
        picture=picture(run, ctx.test_id, title, f"{how}."),
        snippet=snippet(ctx.test_id, run.schedule),
    )


def _explore_args(p: DiningParams, s: Scenario) -> dict[str, Any]:
    return {
        "scenario": s,
        "granularity": "line",
        "time_slice": p.time_slice,
        "config": {"max_steps": p.max_steps, "stall_s": p.stall_s},
        "budget": {
            "preemption_bound": p.preemption_bound,
            "max_schedules": p.max_schedules,
            "random_schedules": p.random_schedules,
            "pct_schedules": p.pct_schedules,
            "pct_depth": p.pct_depth,
            "seed": p.seed,
            "time_budget_s": p.time_budget_s,
        },
    }


def _config(p: DiningParams) -> dict[str, Any]:
    return {"max_steps": p.max_steps, "stall_s": p.stall_s}


def _found(reply: ExploreReply) -> str:
    s = reply.search
    if s is None or not s.phase:
        return ""
    return f"found by the {s.phase} search after {s.schedules} schedule(s)"


def budget_text(p: DiningParams) -> str:
    return (
        f"every schedule with up to {p.preemption_bound} preemptions (at most "
        f"{p.max_schedules}), then {p.random_schedules} random and {p.pct_schedules} PCT schedules"
    )


# ----------------------------------------------------------------------------- properties


# The whole search of every scenario: the first input of every test, given explicitly so
# that it never depends on what Hypothesis happens to try first.
FULL_SEARCH = (0, [])


def cases(n: int) -> st.SearchStrategy[tuple[int, list[tuple[int, int]]]]:
    """(scenario index, preemptions) to replay; ``FULL_SEARCH`` is the explicit first example."""
    preemptions = st.lists(
        st.tuples(st.integers(0, 300), st.integers(1, 3)),
        min_size=1,
        max_size=5,
        unique_by=lambda d: d[0],
    )
    return st.tuples(st.integers(0, n - 1), preemptions)


def _replay_case(
    ctx: Context, p: DiningParams, text: str, title: str, scenarios: list[Scenario]
) -> None:
    try:
        wanted = decode(text)
    except ExplorerError as exc:
        raise Failure(f"This replay string cannot be read: {exc}") from None
    if wanted.scenario not in scenarios:
        raise Failure(
            f"This replay string is for another test (scenario {wanted.scenario}); copy it "
            "from the report of this test."
        )
    _replay(ctx, p, text, title, wanted.scenario)


def _replay(ctx: Context, p: DiningParams, schedule: str, title: str, s: Scenario) -> None:
    reply: ReplayReply = _call(
        ctx, REPLAY, {"schedule": schedule, "config": _config(p)}, ReplayReply
    )
    if reply.failure is not None:
        judge(ctx, reply.failure, s, title, "")


def prevented(title: str, scenarios: list[Scenario]) -> Callable[..., None]:
    """A property: no schedule of any scenario fails (see the module docstring)."""
    checked = [check_scenario(s) for s in scenarios]

    def describe(inputs: dict[str, Any]) -> Counterexample:
        return Counterexample(inputs=inputs, snippet=search_snippet(checked))

    @prop(
        describe,
        params_model=DiningParams,
        replayable=True,
        examples=[{"case": FULL_SEARCH}],
        case=cases(len(checked)),
    )
    def check(ctx: Context, case: tuple[int, list[tuple[int, int]]]) -> None:
        p: DiningParams = ctx.params
        if ctx.replay is not None:
            _replay_case(ctx, p, ctx.replay, title, checked)
            return
        index, preemptions = case
        if (index, preemptions) == FULL_SEARCH:
            for s in checked:
                reply: ExploreReply = _call(ctx, EXPLORE, _explore_args(p, s), ExploreReply)
                if reply.failure is not None:
                    judge(ctx, reply.failure, s, title, _found(reply))
            return
        s = checked[index]
        plan = Schedule(s, "line", p.time_slice, tuple(sorted(preemptions)))
        _replay(ctx, p, encode(plan), title, s)

    return check


def deadlocks(title: str, s: Scenario) -> Callable[..., None]:
    """A property: the search finds a deadlock of ``s``, a cycle around the whole table."""
    s = check_scenario(s)
    n = s["philosophers"]

    def describe(inputs: dict[str, Any]) -> Counterexample:
        return Counterexample(inputs=inputs, snippet=search_snippet([s]))

    @prop(
        describe,
        params_model=DiningParams,
        replayable=True,
        examples=[{"case": 0}],
        case=st.just(0),
    )
    def check(ctx: Context, case: int) -> None:
        p: DiningParams = ctx.params
        if ctx.replay is not None:
            _replay_case(ctx, p, ctx.replay, title, [s])
            return
        reply: ExploreReply = _call(ctx, EXPLORE, _explore_args(p, s), ExploreReply)
        run = reply.failure
        if run is None:
            raise Failure(
                f"No deadlock: the explorer tried {budget_text(p)} of philosopher_naive with "
                f"{n} philosophers and every one finished. The naive version takes the left "
                "fork, then the right one, with nothing else around them, so that some "
                "schedule leaves every philosopher holding one fork and waiting for the next."
            )
        if run.status != "deadlock":
            judge(ctx, run, s, title, _found(reply))
        shown = wait_for_cycle([list(e) for e in run.events])
        if sorted(shown) != list(range(n)) or sorted(run.cycle) != list(range(n)):
            raise Failure(
                f"The explorer stopped the naive version in a deadlock, but not with every "
                f"philosopher holding one fork and waiting for its neighbour's (the run's "
                f"events show the cycle {shown or 'none'}; its report {run.cycle or 'none'}): "
                f"{run.message}"
            )

    return check


def _trace_of(ctx: Context, p: DiningParams, variant: str, title: str) -> dict[str, Any]:
    """The lock trace of ``variant`` run one philosopher after another (default schedule)."""
    s = check_scenario(scenario(variant, philosophers=3, meals=1, serial=True))
    data = ctx.call(RUN_DEFAULT, {"scenario": s, "config": _config(p)})
    try:
        run = RunData.model_validate(data)
    except ValidationError as exc:
        raise Failure(f"The worker returned a malformed report: {exc.errors()[0]['msg']}") from None
    if run.status != "passed":
        judge(ctx, run, s, title, "")
    try:
        trace = lock_trace([list(e) for e in run.events])
    except TraceError as exc:
        raise Failure(f"The forks taken in this run are not a possible lock trace: {exc}") from None
    return trace.to_data()


def own_lock_order(
    title: str, check_cycles: Callable[[Context, dict[str, Any]], None]
) -> Callable[..., None]:
    """A property: ``potential_deadlocks`` is right on the forks the naive and the ordered
    versions take (``check_cycles(ctx, trace)`` is part 4's every-cycle property): the
    fork cycle of a right naive version is flagged, a right ordered version has none."""

    def describe(inputs: dict[str, Any]) -> Counterexample:
        return Counterexample(
            inputs=inputs,
            snippet="\n".join(
                [
                    "# Your lock-order checker on the forks your philosophers took, run one",
                    "# philosopher after another (nothing deadlocks, but lockdep still sees it):",
                    "from grader.simos.deadlock.dining import lock_trace_here",
                    "from deadlock import potential_deadlocks",
                    "",
                    'for variant in ("naive", "ordered"):',
                    "    print(variant, potential_deadlocks(lock_trace_here(variant)))",
                ]
            ),
        )

    @prop(describe, params_model=DiningParams, examples=[{"case": 0}], case=st.just(0))
    def check(ctx: Context, case: int) -> None:
        p: DiningParams = ctx.params
        # Part 4's rules decide on whatever the versions did: a wrong ordered version has a
        # cycle to report, and loses its points in its own test, not here.
        for variant in ("naive", "ordered"):
            check_cycles(ctx, _trace_of(ctx, p, variant, title))

    return check


def naive_scenario() -> Scenario:
    return scenario("naive", philosophers=3, meals=1)


__all__ = ["KIND", "DiningParams", "deadlocks", "naive_scenario", "own_lock_order", "prevented"]
