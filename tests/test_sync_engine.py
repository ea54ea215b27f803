"""Engine pieces the sync assignment added: [params] tables, --replay, Failure(snippet=), lanes."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from grader.cli import _replays
from grader.engine.assignment import load_assignment_file
from grader.engine.errors import ConfigError
from grader.engine.grade import grade, load_properties
from grader.engine.results import (
    AssignmentInfo,
    Counterexample,
    GradeReport,
    LanesPicture,
    LaneStep,
    LaneThread,
    Picture,
    SubmissionInfo,
    TestResult,
)
from grader.report.figures import STYLES, layout_figure
from grader.report.render import environment, render_html, render_test_markdown
from grader.report.view import build_view, prepare_test
from grader.simos.sync.errors import ExplorerError
from grader.simos.sync.schedule import SCHEMA, Schedule, check_scenario, decode, encode

PROPS = """
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field
from grader.engine.props import Failure, prop


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rounds: int = Field(3, ge=1, le=10)
    label: str = "x"


CALLS = []


@prop(params_model=Budget, replayable=True, x=st.integers(0, 3))
def uses_params(ctx, x):
    CALLS.append(ctx.replay)
    if ctx.replay is not None:
        raise Failure(f"replayed {ctx.replay} with {ctx.params.rounds}", snippet="print('again')")
    assert ctx.params.rounds >= 1


@prop(x=st.integers(0, 3))
def plain(ctx, x):
    assert ctx.params == {"shared": 1} or "rounds" in ctx.params
"""


def make_assignment(tmp_path: Path, top: str = "", test_params: str = "") -> Path:
    (tmp_path / "properties.py").write_text(PROPS)
    ref = tmp_path / "ref"
    ref.mkdir(exist_ok=True)
    (ref / "m.py").write_text("X = 1\n")
    (tmp_path / "assignment.toml").write_text(
        textwrap.dedent(
            f"""
            name = "toy"
            title = "Toy"
            version = "1"
            reference = "ref"
            template = "ref"
            {top}
            [submission]
            files = ["m.py"]
            module = "m"

            [[tests]]
            id = "a"
            name = "uses params"
            property = "uses_params"
            points = 1
            {test_params}

            [[tests]]
            id = "b"
            name = "plain"
            property = "plain"
            points = 1
            """
        )
    )
    return tmp_path / "assignment.toml"


def test_params_merge_and_reach_the_property(tmp_path: Path) -> None:
    a = load_assignment_file(
        make_assignment(tmp_path, "params = { rounds = 5 }", "params = { label = 'y' }")
    )
    props = load_properties(a)
    got = a.params_for(a.spec.tests[0], props["uses_params"].params_model)
    assert got.rounds == 5 and got.label == "y"
    assert a.params_for(a.spec.tests[1], None) == {"rounds": 5}
    report = grade(a, tmp_path / "ref", max_examples=3)
    assert report.score == 2, [(t.id, t.message) for t in report.tests]


@pytest.mark.parametrize(
    ("top", "test", "field"),
    [
        ("params = { rounds = 0 }", "", "field params.rounds"),
        ("", "params = { rounds = 'many' }", "field tests.a.params.rounds"),
        ("", "params = { colour = 'red' }", "field tests.a.params.colour"),
    ],
)
def test_bad_params_name_the_file_and_the_field(
    tmp_path: Path, top: str, test: str, field: str
) -> None:
    a = load_assignment_file(make_assignment(tmp_path, top, test))
    with pytest.raises(ConfigError) as info:
        load_properties(a)
    text = str(info.value)
    assert str(tmp_path / "assignment.toml") in text and field in text and "'a'" in text


def test_replay_runs_one_example_of_that_test_only(tmp_path: Path) -> None:
    a = load_assignment_file(make_assignment(tmp_path))
    report = grade(a, tmp_path / "ref", replays={"a": "case-7"})
    assert [t.id for t in report.tests] == ["a"]
    t = report.tests[0]
    assert t.outcome == "failed" and "replayed case-7 with 3" in t.message
    calls = sys.modules["osgrade_props_toy"].CALLS
    assert set(calls) == {"case-7"} and len(calls) <= 3  # one example (and its re-runs)
    assert t.counterexample is not None and t.counterexample.snippet == "print('again')"


def test_replay_errors_are_usage_errors(tmp_path: Path) -> None:
    a = load_assignment_file(make_assignment(tmp_path))
    with pytest.raises(ConfigError, match="no test 'zzz'"):
        grade(a, tmp_path / "ref", replays={"zzz": "1"})
    with pytest.raises(ConfigError, match="cannot replay"):
        grade(a, tmp_path / "ref", replays={"b": "1"})
    with pytest.raises(ConfigError, match="TEST=CASE"):
        _replays(["no-equals-sign"])
    assert _replays(["a=x=y"]) == {"a": "x=y"}


# ------------------------------------------------------------------------ replay strings


def test_replay_strings_round_trip() -> None:
    s = Schedule(
        check_scenario({"kind": "semaphore", "initial": 2, "threads": ["PCV", "P", "V"]}),
        "opcode",
        16,
        ((3, 1), (40, 2)),
    )
    text = encode(s)
    assert text == "semaphore:initial=2,threads=PCV+P+V:O16:3.1,40.2"
    assert decode(text) == s
    plain = Schedule(check_scenario({"kind": "owner"}), "line", 32, ())
    assert encode(plain) == "owner::L32:-" and decode("owner::L32:-") == plain
    for kind in SCHEMA:
        assert kind in {
            "lock",
            "ticket",
            "owner",
            "nobusy",
            "condition",
            "semaphore",
            "buffer",
            "rw",
            "rw_fair",
            "rw_leave",
            "rw_share",
            "barrier",
        }
    leave = Schedule(check_scenario({"kind": "rw_leave", "readers": 2}), "opcode", 32, ((25, 1),))
    assert encode(leave) == "rw_leave:readers=2:O32:25.1" and decode(encode(leave)) == leave


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("lock:cls=SpinLock:L32", "four parts"),
        ("pie::L32:-", "unknown scenario"),
        ("lock:cls=Nope,iterations=2,threads=2:L32:-", "must be one of"),
        ("lock:cls=SpinLock,iterations=2,threads=9:L32:-", "from 2 to 4"),
        ("lock:cls=SpinLock,iterations=2:L32:-", "missing ['threads']"),
        ("lock:cls=SpinLock,iterations=2,threads=2:X32:-", "granularity"),
        ("lock:cls=SpinLock,iterations=2,threads=2:L32:3", "decision.offset"),
        ("lock:cls=SpinLock,iterations=2,threads=2:L32:3.1,3.2", "twice"),
        ("buffer:capacity=1,consumers=1,producers=2:L32:-", "as many items"),
    ],
)
def test_bad_replay_strings_say_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(ExplorerError, match=words.replace("[", r"\[").replace("]", r"\]")):
        decode(text)


# ------------------------------------------------------------------------ the lanes picture


def lanes(
    outcome: str = "T1 entered the critical section while T0 was still inside.",
) -> LanesPicture:
    return LanesPicture(
        title="SpinLock",
        threads=[
            LaneThread(id=0, label="T0", end="stopped here: (in the critical section)"),
            LaneThread(id=1, label="T1", end="stopped here: enters", tone="bad"),
        ],
        steps=[
            LaneStep(
                thread=0,
                where="primitives.py:18",
                code="while self.flag.load() == 1:",
                note="lock.flag.load() → 0",
            ),
            LaneStep(
                thread=1,
                where="primitives.py:18",
                code="while self.flag.load() == 1:",
                note="lock.flag.load() → 0",
                switch="preempted",
                preempted=True,
            ),
            LaneStep(thread=1, kind="event", note="enters the critical section"),
            LaneStep(thread=0, where="primitives.py:20", code="self.flag.store(1)", switch="slice"),
        ],
        outcome=outcome,
        culprit=1,
        replay="lock:cls=SpinLock,iterations=2,threads=2:L32:1.1",
        command="osgrade check sync . --replay spin-mutex=lock:cls=SpinLock,iterations=2,threads=2:L32:1.1",
    )


def test_lanes_round_trip_and_are_registered() -> None:
    adapter: TypeAdapter[Picture] = TypeAdapter(Picture)
    again = adapter.validate_json(adapter.dump_json(lanes()))
    assert again == lanes() and type(again) is LanesPicture
    assert "lanes.css.j2" in STYLES
    fig = layout_figure(lanes(), "lanes-1")
    assert fig.kind == "lanes" and fig.template == "lanes.html.j2"
    environment().get_template(fig.template)


def test_lanes_text_puts_each_step_in_its_threads_column() -> None:
    fig = layout_figure(lanes(), "lanes-1")
    header, rule, *body = fig.text
    col = header.index("T1")
    assert header.strip().startswith("T0") and set(rule.strip()) <= {"-", "+"}
    t1_rows = [r for r in body if r[:6].strip().isdigit() and len(r) > col and r[col:].strip()]
    assert t1_rows and all("|" in r for r in t1_rows)
    assert any("!!" in r and "preempted by the explorer" in r for r in body)
    assert any("time slice over" in r for r in body)
    assert body[-2].strip().startswith("✗  T1 entered")
    assert body[-1].strip() == "replay: " + lanes().command
    assert "Line numbers are in primitives.py" in fig.caption


def test_lanes_are_escaped_in_html_and_markdown() -> None:
    evil = lanes("<script>alert(1)</script> **bold**")
    result = TestResult(
        id="t",
        name="t",
        number="1",
        max_score=1,
        score=0,
        outcome="failed",
        visibility="visible",
        message="m",
        counterexample=Counterexample(inputs={}, snippet="x", picture=evil),
    )
    report = GradeReport(
        osgrade_version="0",
        assignment=AssignmentInfo(name="sync", title="S", version="1"),
        submission=SubmissionInfo(path="s", files={}),
        started_at="2026-12-01T00:00:00+00:00",
        duration_s=0,
        seed=1,
        score=0,
        max_score=1,
        tests=[result],
    )
    html = render_html(build_view(report, "student"))
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert 'class="row-switch row-preempted"' in html and "table.lanes" in html
    md = render_test_markdown(prepare_test(result, "student"))
    assert "```text" in md and "<script>alert(1)</script>" in md.split("```text", 1)[1]


# ------------------------------------------------------------------------ the parent's re-check


def test_a_violation_the_events_do_not_show_is_refused() -> None:
    from grader.engine.assignment import find_assignment
    from grader.engine.props import Failure

    root = Path(__file__).resolve().parents[1]
    load_properties(find_assignment("sync", root / "assignments"))
    props = sys.modules["osgrade_props_sync"]
    scenario = {"kind": "lock", "cls": "SpinLock", "threads": 2, "iterations": 1}
    thread = props.ThreadData(
        id=0, state="ready", where="", code="", waiting="", calls=[], holds=[]
    )
    forged = props.RunData(
        status="violation",
        message="T1 entered the critical section while T0 was still inside.",
        culprit=1,
        cycle=[],
        schedule="lock:cls=SpinLock,iterations=1,threads=2:L32:-",
        preemptions=0,
        threads=[thread, thread.model_copy(update={"id": 1})],
        steps=[],
        omitted=0,
        total_steps=9,
        events=[[0, "enter"], [0, "exit"], [1, "enter"]],
        escaped=[],
    )
    with pytest.raises(Failure, match="cannot be trusted"):
        props._confirm(forged, scenario)
    real = forged.model_copy(update={"events": [[0, "enter"], [1, "enter"]]})
    props._confirm(real, scenario)  # the monitor sees it too: no complaint


def test_a_bytecode_step_says_what_it_does_first() -> None:
    pic = lanes().model_copy(
        update={
            "steps": [
                LaneStep(
                    thread=0,
                    kind="opcode",
                    where="primitives.py:117",
                    code="self.value -= 1",
                    note="reads .value",
                ),
                LaneStep(
                    thread=1,
                    kind="opcode",
                    where="primitives.py:121",
                    code="self.value += 1",
                    note="writes .value",
                    switch="preempted",
                    preempted=True,
                ),
            ]
        }
    )
    text = "\n".join(layout_figure(pic, "x").text)
    assert "117 reads .value: self.value -= 1" in text and "121 writes .value" in text
