"""Part 5 of the deadlock assignment, piece by piece: the explorer's registration point, the
Dining monitor's rules, the scenario on the reference (in this process), what the parent
reads from a run's events, and the per-test call timeout of the engine."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from grader.course.kit import kit_toml
from grader.engine.assignment import load_assignment_file
from grader.engine.errors import ConfigError
from grader.engine.grade import grade
from grader.simos.deadlock import dining
from grader.simos.deadlock.dining import Dining, lock_trace, scenario, wait_for_cycle
from grader.simos.sync import registry
from grader.simos.sync.errors import ExplorerError, SubmissionShapeError
from grader.simos.sync.explorer import Explorer
from grader.simos.sync.monitor import Monitor, first_violation
from grader.simos.sync.program import Program, emit, point
from grader.simos.sync.rules import monitor_for
from grader.simos.sync.scenarios import build
from grader.simos.sync.schedule import Schedule, check_scenario, decode, encode
from grader.simos.sync.search import SearchBudget
from grader.simos.sync.strategies import Replay

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "deadlock"
LIGHT = SearchBudget(preemption_bound=2, max_schedules=80, random_schedules=5, pct_schedules=5)


# ----------------------------------------------------------------------------- the registry


class Count(Monitor):
    def __init__(self, limit: int) -> None:
        self.limit, self.seen = limit, 0

    def feed(self, tid: int, event: tuple[Any, ...]) -> str | None:
        self.seen += 1
        return f"more than {self.limit} events" if self.seen > self.limit else None


def _toy_build(module: ModuleType, s: dict[str, Any]) -> Program:
    def body() -> None:
        for _ in range(s["rounds"]):
            emit("tick")
            point("ticking")

    return Program([("T0", body, ()), ("T1", body, ())], Count(s["limit"]), {})


TOY = registry.ScenarioKind(
    {"rounds": ("int", 1, 3), "limit": ("int", 1, 10), "mode": ("str", ("a", "b"), None)},
    _toy_build,
    lambda s: Count(s["limit"]),
)


@pytest.fixture
def toy() -> Iterator[str]:
    registry.register("toy_ticks", TOY)
    yield "toy_ticks"
    registry.KINDS.pop("toy_ticks", None)


def test_a_registered_kind_is_checked_built_monitored_and_replayable(toy: str) -> None:
    s = check_scenario({"kind": toy, "rounds": 2, "limit": 3, "mode": "a"})
    with pytest.raises(ExplorerError, match="'rounds' must be an integer from 1 to 3"):
        check_scenario({**s, "rounds": 9})
    with pytest.raises(ExplorerError, match="unknown"):
        check_scenario({**s, "colour": 1})
    assert isinstance(monitor_for(s), Count)
    assert build(sys.modules[__name__], s).bodies[0][0] == "T0"
    text = encode(Schedule(s, "line", 32, ((1, 1),)))
    assert text == "toy_ticks:limit=3,mode=a,rounds=2:L32:1.1"
    assert decode(text).scenario == s
    explorer = Explorer(sys.modules[__name__], s)
    outcome = explorer.search(SearchBudget(max_schedules=20, random_schedules=2, pct_schedules=2))
    assert outcome.failure is not None  # 4 ticks > limit 3: the monitor's verdict
    assert explorer.report(outcome.failure)["message"] == "more than 3 events"
    assert explorer.search(SearchBudget(max_schedules=5)).failure is not None
    assert Explorer(sys.modules[__name__], {**s, "limit": 4}).replay({}).stop.kind == "complete"  # type: ignore[union-attr]


def test_registering_again_the_same_is_harmless_anything_else_is_refused(toy: str) -> None:
    registry.register(toy, TOY)  # a second import of the registering module
    other = registry.ScenarioKind({}, _toy_build, lambda s: Count(1))
    with pytest.raises(ValueError, match="already registered differently"):
        registry.register(toy, other)
    with pytest.raises(ValueError, match="built-in scenario kind"):
        registry.register("lock", other)
    with pytest.raises(ValueError, match="lower-case identifier"):
        registry.register("Bad-Name", other)
    bad_schemas: list[dict[str, Any]] = [
        {"kind": ("int", 1, 2)},
        {"n": ("float", 1, 2)},
        {"n": ("int", 3, 1)},
        {"mode": ("str", ("has space",), None)},
    ]
    for schema in bad_schemas:
        with pytest.raises(ValueError, match="scenario kind 'fresh'"):
            registry.register("fresh", registry.ScenarioKind(schema, _toy_build, Count))
    assert "fresh" not in registry.KINDS


def test_unknown_kinds_list_the_registered_ones_too() -> None:
    with pytest.raises(ExplorerError, match="philosophers") as err:
        check_scenario({"kind": "nope"})
    assert "lock" in str(err.value)


# ----------------------------------------------------------------------------- the monitor


def feed(m: Dining, events: list[tuple[Any, ...]]) -> str | None:
    return first_violation(m, [list(e) for e in events])


def meal(t: int, a: int, b: int) -> list[tuple[Any, ...]]:
    """Thread t takes forks a then b (free), eats, puts them down."""
    return [
        (t, "hungry", 0),
        (t, "want", a, False, "d.py:1"),
        (t, "take", a, "d.py:1"),
        (t, "want", b, False, "d.py:2"),
        (t, "take", b, "d.py:2"),
        (t, "eat", t),
        (t, "ate", t),
        (t, "put", b, "d.py:3"),
        (t, "put", a, "d.py:4"),
        (t, "full", 0),
    ]


def test_a_right_meal_passes_every_version() -> None:
    for variant in dining.VARIANTS:
        m = Dining(3, variant, 1)
        events = meal(0, 0, 1) + meal(1, 1, 2) + meal(2, 0, 2)
        assert feed(m, events) is None, variant
        assert m.finish() is None


@pytest.mark.parametrize(
    ("events", "words"),
    [
        (
            [(1, "want", 0, False, "x")],
            "T1 reached for fork 0, which is not one of its forks (1 and 2)",
        ),
        ([*meal(0, 0, 1)[:3], (1, "take", 0, "x")], "T1 got fork 0 while T0 still held it"),
        ([(0, "hungry", 0), (0, "eat", 0)], "T0 started eating without fork 0 and fork 1"),
        ([(0, "eat", 1)], "Philosopher 0 called table.eat(1)"),
        ([(0, "hungry", 0), (0, "full", 0)], "returned without eating"),
        ([*meal(0, 0, 1)[:7], (0, "full", 0)], "returned still holding fork 0 and fork 1"),
        ([(0, "put", 1, "x")], "T0 put down fork 1, which it does not hold"),
        (
            [
                *meal(0, 0, 1)[:6],
                (0, "put", 1, "x"),
                (1, "take", 1, "x"),
                (1, "take", 2, "x"),
                (1, "eat", 1),
            ],
            "T1 started eating while its neighbour T0 was eating",
        ),
    ],
)
def test_rules_of_every_version(events: list[tuple[Any, ...]], words: str) -> None:
    problem = feed(Dining(3, "naive", 1), events)
    assert problem is not None and words in problem


HOLD_1 = [(1, "want", 1, False, "x"), (1, "take", 1, "x")]


@pytest.mark.parametrize(
    ("variant", "events", "words"),
    [
        (
            "ordered",
            [(2, "want", 2, False, "x"), (2, "take", 2, "x"), (2, "want", 0, True, "x")],
            "asked for fork 0 while holding fork 2",
        ),
        (
            "all_at_once",
            [*HOLD_1, (1, "want", 2, True, "x")],
            "asked for fork 2, which was in use, while holding fork 1",
        ),
        (
            "all_at_once",
            [*HOLD_1, (1, "try", 2, False, "x")],
            "tried fork 2, which was in use, while holding fork 1",
        ),
        (
            "release_retry",
            [*HOLD_1, (1, "want", 2, True, "x")],
            "asked for fork 2, which was in use",
        ),
        (
            "release_retry",
            [*HOLD_1, (1, "try", 2, False, "x"), (1, "try", 2, False, "x")],
            "could not get fork 2 and, still holding fork 1, tried to take fork 2",
        ),
    ],
)
def test_each_version_has_the_rule_of_its_coffman_condition(
    variant: str, events: list[tuple[Any, ...]], words: str
) -> None:
    problem = feed(Dining(3, variant, 1), events)
    assert problem is not None and words in problem
    assert "breaks the rule of this version" in problem
    assert feed(Dining(3, "naive", 1), events) is None  # the naive version has no such rule
    assert feed(Dining(3, variant, 1, rules=False), events) is None  # nor a serial run


def test_release_and_retry_may_try_again_once_it_put_its_fork_down() -> None:
    events = [
        *HOLD_1,
        (1, "try", 2, False, "x"),
        (1, "put", 1, "x"),
        *HOLD_1,
        (1, "try", 2, True, "x"),
    ]
    assert feed(Dining(3, "release_retry", 1), events) is None


def test_a_sleeper_with_both_forks_free_has_lost_a_wake_up() -> None:
    m = Dining(3, "all_at_once", 1)
    assert feed(m, meal(0, 0, 1)[:5]) is None
    assert m.could_proceed(1, "Condition.wait") is None  # fork 1 is held by T0
    assert m.could_proceed(2, "Condition.wait") is None  # fork 0 too
    assert feed(m, meal(0, 0, 1)[5:]) is None
    assert "both its forks (1 and 2) are free" in str(m.could_proceed(1, "Condition.wait"))
    assert m.could_proceed(1, "Mutex.acquire") is None
    assert m.finish() == "T1 had 0 of its 1 meals."


def test_events_read_as_words_in_the_lanes() -> None:
    m = Dining(2, "naive", 1)
    assert m.describe(("want", 1, True, "x")) == "asks for fork 1 (in use)"
    assert m.describe(("try", 0, False, "x")) == "tries fork 0: in use"
    assert m.describe(("put", 0, "x")) == "puts fork 0 down"
    assert m.describe(("hungry", 1)) == "is hungry (meal 2)"


def test_the_parent_rebuilds_the_wait_for_cycle_and_the_lock_trace() -> None:
    hold = [[t, "take", t, f"d.py:{t}"] for t in range(3)]
    wait = [[t, "want", (t + 1) % 3, True, "d.py:9"] for t in range(3)]
    assert sorted(wait_for_cycle(hold + wait)) == [0, 1, 2]
    assert wait_for_cycle(hold + wait[:2]) == []  # T2 waits for nobody: no cycle
    events = [*meal(0, 0, 1), *meal(1, 1, 2)]
    trace = lock_trace([list(e) for e in events] + [[2, "try", 2, True, "d.py:7"]])
    assert [(e.thread, e.op, e.lock) for e in trace.events][:2] == [
        ("T0", "acquire", "fork0"),
        ("T0", "acquire", "fork1"),
    ]
    assert trace.events[-1].site == "d.py:7"


# ----------------------------------------------------------------------------- the scenario


def _load(folder: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("deadlock_under_test", folder / "deadlock.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def student() -> Iterator[Any]:
    """``student(folder)``: that folder's deadlock.py, with its primitives.py importable."""
    saved_path, saved = list(sys.path), sys.modules.pop("primitives", None)

    def load(folder: Path) -> ModuleType:
        sys.modules.pop("primitives", None)
        sys.path.insert(0, str(folder))
        return _load(folder)

    yield load
    sys.path[:] = saved_path
    sys.modules.pop("primitives", None)
    if saved is not None:
        sys.modules["primitives"] = saved


def test_the_naive_reference_deadlocks_around_the_table(student: Any) -> None:
    explorer = Explorer(student(REFERENCE), scenario("naive", 3, 1))
    outcome = explorer.search(SearchBudget(max_schedules=400))  # the tests' bounded search
    assert outcome.failure is not None
    report = explorer.report(outcome.failure)
    assert report["status"] == "deadlock" and sorted(report["cycle"]) == [0, 1, 2]
    assert "Cycle: T0 → T1 → T2 → T0." in report["message"]
    assert "holding fork0, waits for fork1, which T1 holds" in report["message"]
    assert sorted(wait_for_cycle(report["events"])) == [0, 1, 2]
    assert any(r["note"] == "asks for fork 1 (in use)" for r in report["steps"])


@pytest.mark.parametrize("variant", ["all_at_once", "release_retry", "ordered"])
def test_the_prevented_references_pass_a_light_search(student: Any, variant: str) -> None:
    module = student(REFERENCE)
    for n, meals in ((2, 2), (3, 1)):
        assert Explorer(module, scenario(variant, n, meals)).search(LIGHT).failure is None


def test_a_serial_run_gives_the_lock_trace_lockdep_reads(student: Any) -> None:
    module = student(REFERENCE)
    report = dining.run_default(module, {"scenario": scenario("naive", serial=True)})
    assert report["status"] == "passed"
    trace = lock_trace(report["events"])
    assert len(module.potential_deadlocks(trace)) == 1  # the reference's own checker
    ordered = dining.run_default(module, {"scenario": scenario("ordered", serial=True)})
    assert module.potential_deadlocks(lock_trace(ordered["events"])) == []
    with pytest.raises(ExplorerError, match="philosophers"):
        dining.run_default(module, {"scenario": {"kind": "owner"}})
    with pytest.raises(ExplorerError, match="config"):
        dining.run_default(module, {"scenario": scenario("naive"), "config": {"seed": 1}})


def test_a_livelock_is_reported_as_a_loop(student: Any, tmp_path: Path) -> None:
    (tmp_path / "primitives.py").write_text((REFERENCE / "primitives.py").read_text())
    (tmp_path / "deadlock.py").write_text(
        textwrap.dedent(
            """
            def philosopher_release_retry(table, i):
                left = table.left(i)
                while True:  # takes and puts down its left fork forever
                    left.acquire()
                    left.release()
            """
        )
    )
    explorer = Explorer(student(tmp_path), scenario("release_retry", 2, 1))
    run = explorer.execute(Replay())
    assert run.stop is not None and run.stop.kind == "spinning"
    assert "keeps looping at deadlock.py:" in explorer.report(run)["message"]


def test_what_the_student_forgot_is_named(student: Any, tmp_path: Path) -> None:
    (tmp_path / "deadlock.py").write_text("def philosopher_naive(table, i):\n    pass\n")
    module = student(tmp_path)
    with pytest.raises(SubmissionShapeError, match=r"primitives\.py is missing"):
        Explorer(module, scenario("naive"))
    (tmp_path / "primitives.py").write_text((REFERENCE / "primitives.py").read_text())
    with pytest.raises(SubmissionShapeError, match="no function philosopher_ordered"):
        Explorer(module, scenario("ordered")).replay({})
    template = ROOT / "student_template" / "deadlock"
    with pytest.raises(SubmissionShapeError, match="NotImplementedError"):
        Explorer(student(template), scenario("naive")).replay({})


def test_a_primitives_module_from_elsewhere_is_refused(student: Any, tmp_path: Path) -> None:
    module = student(REFERENCE)
    fake = ModuleType("primitives")
    fake.__file__ = str(tmp_path / "primitives.py")
    sys.modules["primitives"] = fake
    with pytest.raises(SubmissionShapeError, match=r"was not loaded from primitives\.py"):
        dining.primitives_of(module)


# ----------------------------------------------------------------------------- per-test timeout

TOML = """
name = "naps"
title = "Naps"
version = "1"
[submission]
files = ["nap.py"]
module = "nap"
[limits]
call_timeout_s = 0.2
[hypothesis]
max_examples = 1
[[tests]]
id = "patient"
name = "A test whose one call takes long"
property = "naps"
points = 1
public = true
call_timeout_s = 10.0
[[tests]]
id = "hasty"
name = "The same with the assignment's limit"
property = "naps"
points = 1
"""
PROPS = """
from hypothesis import strategies as st
from grader.engine.props import prop


@prop(x=st.just(0))
def naps(ctx, x):
    ctx.call("grader.sandbox.entries:call", {"function": "nap", "args": [0.4]})
"""
NAP = "import time\n\n\ndef nap(s):\n    time.sleep(s)\n"


def _naps(tmp_path: Path, toml: str = TOML) -> Path:
    a = tmp_path / "assignments" / "naps"
    a.mkdir(parents=True)
    (a / "assignment.toml").write_text(toml)
    (a / "properties.py").write_text(PROPS)
    for folder in ("reference", "student_template"):
        (tmp_path / folder / "naps").mkdir(parents=True)
        (tmp_path / folder / "naps" / "nap.py").write_text(NAP)
    return a / "assignment.toml"


def test_a_tests_own_call_timeout_wins_over_the_limit_and_the_override(tmp_path: Path) -> None:
    a = load_assignment_file(_naps(tmp_path))
    sub = tmp_path / "reference" / "naps"
    for override in (None, 0.1):
        report = grade(a, sub, call_timeout_s=override)
        outcomes = {t.id: (t.outcome, t.message) for t in report.tests}
        assert outcomes["patient"][0] == "passed", outcomes
        assert outcomes["hasty"][0] == "timeout", outcomes
        assert f"stopped after {override or 0.2:g} s" in outcomes["hasty"][1]
    assert "call_timeout_s = 10.0" in kit_toml(a)  # a kit keeps it for its public test


def test_a_bad_call_timeout_names_the_file_and_field(tmp_path: Path) -> None:
    path = _naps(tmp_path, TOML.replace("call_timeout_s = 10.0", "call_timeout_s = -1"))
    with pytest.raises(ConfigError) as err:
        load_assignment_file(path)
    assert str(path) in str(err.value) and "field tests.0.call_timeout_s" in str(err.value)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("from grader.simos.deadlock.dining import emit", "`emit` is not part of"),
        ("from grader.simos.sync import harness", "`harness` is not part of"),
        ("import grader.simos.sync.harness", "is not allowed"),
        ("from grader.simos.sync.program import emit", "is not allowed in this assignment"),
    ],
)
def test_the_gate_keeps_part_5_away_from_the_explorer(
    tmp_path: Path, line: str, words: str
) -> None:
    """What a forged pass would need (the explorer's entry, the events) is refused statically."""
    from grader.engine.assignment import find_assignment
    from grader.engine.restrict import check_submission

    spec = find_assignment("deadlock", ROOT / "assignments").spec.submission.restrict
    assert spec is not None
    for folder in (REFERENCE, ROOT / "student_template" / "deadlock"):
        assert check_submission(folder, spec) == [], folder
    (tmp_path / "deadlock.py").write_text(f"{line}\n")
    found = check_submission(tmp_path, spec)
    assert found and words in found[0].message, found
