"""Hidden properties of the synchronization assignment (instructors only).

Each test names one or more scenarios (test programs, grader/simos/sync/scenarios.py)
run on the student's primitives under the interleaving explorer, in the worker. The
first example of a test (case ``(0, [])``) runs the explorer's full search on every
scenario: every schedule with up to ``preemption_bound`` preemptions, fewest first,
then random and PCT sampling, all within the count budgets of assignment.toml
(``[params]``). Later examples are Hypothesis-drawn preemptions ``[(decision, offset),
...]`` replayed on one scenario, which Hypothesis shrinks.

The verdict comes from plain data: the worker returns the failing run (events, steps,
thread ends); a reported violation is re-checked here by feeding the run's events
through the same monitor (grader/simos/sync/monitor.py) before it costs points.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.engine.props import Context, Failure, prop
from grader.engine.results import Counterexample, LanesPicture, LaneStep, LaneThread
from grader.simos.sync.errors import ExplorerError
from grader.simos.sync.monitor import first_violation
from grader.simos.sync.rules import monitor_for
from grader.simos.sync.schedule import Schedule, check_scenario, decode, encode

EXPLORE = "grader.simos.sync.harness:explore"
REPLAY = "grader.simos.sync.harness:replay"
ASSIGNMENT = "sync"
Scenario = tuple[dict[str, Any], str]  # (scenario, granularity)


class SyncParams(BaseModel):
    """The explorer's budget for one test (assignment.toml ``[params]``, per test too)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    preemption_bound: int = Field(2, ge=0, le=4, description="bounded search: up to this many")
    max_schedules: int = Field(1000, ge=1, le=1_000_000, description="cap of the bounded search")
    random_schedules: int = Field(50, ge=0, le=1_000_000)
    pct_schedules: int = Field(50, ge=0, le=1_000_000)
    pct_depth: int = Field(3, ge=1, le=10)
    time_slice: int = Field(32, ge=1, le=10_000, description="steps before the default switches")
    max_steps: int = Field(20_000, ge=100, le=10_000_000, description="more: spinning")
    stall_s: float = Field(2.0, gt=0, le=60, description="no progress this long: blocked")
    time_budget_s: float = Field(20.0, gt=0, le=3600, description="safety cap per scenario")
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


# ----------------------------------------------------------------------------- cases


# The whole bounded + sampled search of every scenario: the first input of every test,
# given explicitly so it never depends on what Hypothesis happens to try first.
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


def snippet(test_id: str, schedule: str) -> str:
    return "\n".join(
        [
            "# Replay the interleaving that fails on your primitives.py, step by step.",
            "# From a shell, in the folder of your code:",
            f"#   osgrade check {ASSIGNMENT} . --replay {test_id}={schedule}",
            "from grader.simos.sync import replay",
            "",
            f'replay("primitives", "{schedule}")',
        ]
    )


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


def picture(run: RunData, test_id: str, title: str) -> LanesPicture:
    last: dict[int, StepData] = {}
    for s in run.steps:
        last[s.t] = s
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
        command=f"osgrade check {ASSIGNMENT} . --replay {test_id}={run.schedule}",
        omitted=run.omitted,
    )


# ----------------------------------------------------------------------------- judging


HEADLINES = {  # deadlock and lost wake-up messages name themselves
    "violation": "A rule was broken: ",
    "exception": "A thread raised an exception: ",
    "spinning": "",
    "deadlock": "",
    "lost_wakeup": "",
    "uncontrolled": "A thread escaped the explorer's control: ",
}


def _confirm(run: RunData, scenario: dict[str, Any]) -> None:
    """A violation costs points only if the run's own events show it (checked here)."""
    if run.status != "violation":
        return
    events = [list(e) for e in run.events]
    monitor = monitor_for(scenario)
    if first_violation(monitor, events) is None and monitor.finish() is None:
        raise Failure(
            "The worker reported a broken rule that its own events do not show; the report "
            "cannot be trusted (did the code change the grader's objects?)."
        )


def judge(ctx: Context, run: RunData, scenario: dict[str, Any], title: str, searched: str) -> None:
    _confirm(run, scenario)
    if run.escaped:
        ctx.worker.kill()  # a thread of the submission still runs there: start afresh
    if run.preemptions == 0:
        how = "No preemption is needed: the default schedule fails"
    else:
        how = f"It takes {run.preemptions} preemption{'s' if run.preemptions != 1 else ''}"
    how += f" (it was {searched})" if searched else ""
    shown = picture(run, ctx.test_id, title).model_copy(update={"caption": f"{how}."})
    raise Failure(
        f"{HEADLINES[run.status]}{run.message}",
        picture=shown,
        snippet=snippet(ctx.test_id, run.schedule),
    )


def _explore_args(p: SyncParams, scenario: dict[str, Any], granularity: str) -> dict[str, Any]:
    return {
        "scenario": scenario,
        "granularity": granularity,
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


def _call(ctx: Context, entry: str, args: dict[str, Any], model: type[_Reply]) -> Any:
    data = ctx.call(entry, args)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Failure(f"The worker returned a malformed report: {exc.errors()[0]['msg']}") from None


def _replay(
    ctx: Context, p: SyncParams, schedule: str, title: str, scenario: dict[str, Any]
) -> None:
    reply: ReplayReply = _call(
        ctx,
        REPLAY,
        {"schedule": schedule, "config": {"max_steps": p.max_steps, "stall_s": p.stall_s}},
        ReplayReply,
    )
    if reply.failure is not None:
        judge(ctx, reply.failure, scenario, title, "")


def search_snippet(scenarios: list[Scenario]) -> str:
    """Code that runs a test's search on the student's primitives.py, where they are."""
    lines = [
        "# Run this test's search on your primitives.py (in the folder of your code);",
        "# it prints the first interleaving that fails, and its replay string.",
        "from grader.simos.sync import explore",
        "",
    ]
    lines += [f'explore("primitives", {s!r}, "{g}")' for s, g in scenarios]
    return "\n".join(lines)


def explored(title: str, scenarios: list[Scenario]) -> Callable[..., None]:
    """A property: every scenario passes under the explorer (see the module docstring)."""
    checked = [(check_scenario(s), g) for s, g in scenarios]

    def describe(inputs: dict[str, Any]) -> Counterexample:
        return Counterexample(inputs=inputs, snippet=search_snippet(checked))

    @prop(
        describe,
        params_model=SyncParams,
        replayable=True,
        examples=[{"case": FULL_SEARCH}],
        case=cases(len(checked)),
    )
    def check(ctx: Context, case: tuple[int, list[tuple[int, int]]]) -> None:
        p: SyncParams = ctx.params
        index, preemptions = case
        if ctx.replay is not None:
            try:
                wanted = decode(ctx.replay)
            except ExplorerError as exc:
                raise Failure(f"This replay string cannot be read: {exc}") from None
            if not any(wanted.scenario == s for s, _ in checked):
                raise Failure(
                    f"This replay string is for another test (scenario {wanted.scenario['kind']!r}); "
                    "copy it from the report of this test."
                )
            _replay(ctx, p, ctx.replay, title, wanted.scenario)
            return
        if (index, preemptions) == FULL_SEARCH:
            for scenario, granularity in checked:
                reply: ExploreReply = _call(
                    ctx, EXPLORE, _explore_args(p, scenario, granularity), ExploreReply
                )
                if reply.failure is not None:
                    s = reply.search
                    found = (
                        f"found by the {s.phase} search after {s.schedules} schedule(s)"
                        if s is not None and s.phase
                        else ""
                    )
                    judge(ctx, reply.failure, scenario, title, found)
            return
        scenario, granularity = checked[index]
        plan = Schedule(scenario, granularity, p.time_slice, tuple(sorted(preemptions)))
        _replay(ctx, p, encode(plan), title, scenario)

    check.scenarios = checked  # type: ignore[attr-defined]  # for benchmarks/sync_explorer.py
    return check


def _lock(cls: str, *shapes: tuple[int, int]) -> list[Scenario]:
    """Line-level scenarios of each shape, then two threads at bytecode level: a check and
    a set written on one line (``if not self.held: self.held = True``) are two steps on a
    CPU, and only bytecode steps can put another thread between them."""
    line = [
        ({"kind": "lock", "cls": cls, "threads": n, "iterations": m}, "line") for n, m in shapes
    ]
    return [*line, ({"kind": "lock", "cls": cls, "threads": 2, "iterations": 1}, "opcode")]


spin_mutex = explored("SpinLock", _lock("SpinLock", (2, 2), (3, 1)))
ticket_mutex = explored("TicketLock", _lock("TicketLock", (2, 2), (3, 1)))
ticket_fifo = explored(
    "TicketLock: first come, first served",
    [({"kind": "ticket", "cls": "TicketLock", "threads": 3, "iterations": 1}, "line")],
)
mutex_mutex = explored("Mutex", _lock("Mutex", (2, 2), (3, 1)))
mutex_owner = explored(
    "Mutex: release by a thread that does not hold it", [({"kind": "owner"}, "line")]
)
mutex_sleeps = explored(
    "Mutex: a waiter sleeps", [({"kind": "nobusy", "hold": 400, "limit": 40}, "line")]
)
cv_signal = explored(
    "Condition: signal",
    [
        ({"kind": "condition", "waiters": 1, "mode": "signal"}, "line"),
        ({"kind": "condition", "waiters": 2, "mode": "signal"}, "line"),
    ],
)
cv_broadcast = explored(
    "Condition: broadcast", [({"kind": "condition", "waiters": 2, "mode": "broadcast"}, "line")]
)
sem_count = explored(
    "Semaphore: counting",
    [
        ({"kind": "semaphore", "initial": 0, "threads": ["P", "V", "P", "V"]}, "opcode"),
        ({"kind": "semaphore", "initial": 0, "threads": ["V", "V", "PP"]}, "opcode"),
        ({"kind": "semaphore", "initial": 2, "threads": ["PCV", "PCV", "PCV"]}, "opcode"),
    ],
)
sem_signal = explored(
    "Semaphore: signalling",
    [
        ({"kind": "semaphore", "initial": 0, "threads": ["P", "V"]}, "opcode"),
        ({"kind": "semaphore", "initial": 0, "threads": ["PP", "V", "V"]}, "opcode"),
    ],
)
bb_delivery = explored(
    "BoundedBuffer",
    [
        ({"kind": "buffer", "capacity": 1, "producers": [2], "consumers": [2]}, "line"),
        ({"kind": "buffer", "capacity": 1, "producers": [1, 1], "consumers": [1, 1]}, "line"),
        ({"kind": "buffer", "capacity": 2, "producers": [3], "consumers": [2, 1]}, "line"),
        ({"kind": "buffer", "capacity": 1, "producers": [1], "consumers": [1]}, "opcode"),
    ],
)
rw_exclusion = explored(
    "ReadWriteLock",
    [
        # first: a lost decrement in release_read shows here after one preemption
        ({"kind": "rw_leave", "readers": 2}, "opcode"),
        ({"kind": "rw", "readers": 2, "writers": 1, "iterations": 1}, "line"),
        ({"kind": "rw", "readers": 1, "writers": 2, "iterations": 1}, "line"),
        ({"kind": "rw", "readers": 2, "writers": 1, "iterations": 1}, "opcode"),
    ],
)
readers_share = explored("ReadWriteLock: readers share", [({"kind": "rw_share"}, "line")])
rw_writers_first = explored(
    "ReadWriteLock: a waiting writer goes first", [({"kind": "rw_fair"}, "line")]
)
barrier_rounds = explored(
    "Barrier",
    [
        ({"kind": "barrier", "threads": 3, "rounds": 2}, "line"),
        ({"kind": "barrier", "threads": 2, "rounds": 3}, "line"),
        ({"kind": "barrier", "threads": 2, "rounds": 2}, "opcode"),
    ],
)
