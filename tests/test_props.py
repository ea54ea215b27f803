"""The property runner: shrinking to the minimal input, outcomes, the time budget."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from grader.engine.props import Context, Failure, StudentProblem, prop, property_spec, run_property
from grader.engine.results import Counterexample
from grader.engine.worker import Worker


def describe(inputs: dict[str, Any]) -> Counterexample:
    return Counterexample(inputs=inputs, snippet=f"f({inputs['x']})")


def ctx(tmp_path: Path) -> Context:
    return Context(Worker(tmp_path), "policies", None, 1.0)


def run(fn: Any, tmp_path: Path, **kw: Any):  # type: ignore[no-untyped-def]
    spec = property_spec(fn)
    assert spec is not None
    return run_property(
        spec, ctx(tmp_path), test_id="t", max_examples=kw.pop("n", 100), seed=1, **kw
    )


def test_minimal_counterexample_is_reported(tmp_path: Path) -> None:
    @prop(describe=describe, x=st.integers(0, 10_000))
    def p(ctx: Context, x: int) -> None:
        if x >= 37:
            raise Failure("too big", expected="< 37", actual=str(x))

    out = run(p, tmp_path)
    assert out.outcome == "failed"
    assert out.counterexample is not None
    assert out.counterexample.inputs == {"x": 37}
    assert out.counterexample.actual == "37"


def test_passing_property(tmp_path: Path) -> None:
    @prop(describe=describe, x=st.integers())
    def p(ctx: Context, x: int) -> None:
        assert x == x

    out = run(p, tmp_path, n=50)
    assert out.outcome == "passed" and out.counterexample is None


def test_student_problem_outcomes(tmp_path: Path) -> None:
    @prop(describe=describe, x=st.integers(0, 100))
    def p(ctx: Context, x: int) -> None:
        raise StudentProblem("crashed", "it died")

    out = run(p, tmp_path)
    assert out.outcome == "crashed" and out.message == "it died"
    assert out.counterexample is not None and out.counterexample.inputs == {"x": 0}


def test_grader_bug_is_an_error_with_a_staff_note(tmp_path: Path) -> None:
    @prop(describe=describe, x=st.integers())
    def p(ctx: Context, x: int) -> None:
        raise KeyError("oops")

    out = run(p, tmp_path)
    assert out.outcome == "error"
    assert "course staff" in out.message
    assert out.staff_note and "KeyError" in out.staff_note


def test_time_budget_stops_a_slow_passing_property(tmp_path: Path) -> None:
    @prop(describe=describe, x=st.integers())
    def p(ctx: Context, x: int) -> None:
        time.sleep(0.05)

    t = time.perf_counter()
    out = run(p, tmp_path, n=10_000, budget_s=0.5)
    assert time.perf_counter() - t < 5
    assert out.outcome == "passed"
    assert out.staff_note and "time budget" in out.staff_note


def test_time_budget_keeps_the_smallest_failure_seen(tmp_path: Path) -> None:
    @prop(describe=describe, x=st.integers(0, 10**9))
    def p(ctx: Context, x: int) -> None:
        time.sleep(0.02)
        if x > 1000:
            raise Failure("big")

    out = run(p, tmp_path, n=10_000, budget_s=0.6)
    assert out.outcome == "failed"
    assert out.counterexample is not None and out.counterexample.inputs["x"] > 1000


def test_a_timeout_does_not_leak_into_the_next_property(tmp_path: Path) -> None:
    @prop(describe=describe, x=st.integers(0, 5))
    def hangs(ctx: Context, x: int) -> None:
        ctx.call("grader.sandbox.entries:call", {"function": "spin"})

    @prop(describe=describe, x=st.integers(0, 5))
    def fine(ctx: Context, x: int) -> None:
        assert ctx.call("grader.sandbox.entries:call", {"function": "ok"}) == 1

    (tmp_path / "policies.py").write_text(
        "def spin():\n    while True: pass\n\ndef ok():\n    return 1\n"
    )
    c = Context(Worker(tmp_path), "policies", None, 0.5)
    first = run_property(property_spec(hangs), c, test_id="a", max_examples=5, seed=1)  # type: ignore[arg-type]
    second = run_property(property_spec(fine), c, test_id="b", max_examples=5, seed=1)  # type: ignore[arg-type]
    c.worker.close()
    assert first.outcome == "timeout"
    assert second.outcome == "passed", second.message


def test_a_group_of_budget_exhaustions_is_the_time_budget_not_a_grader_error(
    tmp_path: Path,
) -> None:
    """When the budget runs out while Hypothesis replays a case, it raises a FlakyFailure
    group holding only the runner's own budget exception: the smallest real failure seen
    is reported, not "the grader could not run this test"."""
    import builtins

    from grader.engine.props import _BudgetSpent

    group_type: Any = getattr(builtins, "BaseExceptionGroup", None)
    if group_type is None:  # pragma: no cover - Python 3.10: the backport Hypothesis uses
        from exceptiongroup import BaseExceptionGroup as group_type

    @prop(describe=describe, x=st.integers(0, 10_000))
    def p(ctx: Context, x: int) -> None:
        if x >= 100:
            raise Failure("too big")
        if x > 0:  # what Hypothesis raises on replay once the budget is spent
            raise group_type("Inconsistent results from replaying", [_BudgetSpent()])

    out = run(p, tmp_path, n=200)
    assert out.outcome == "failed" and out.message == "too big"
    assert out.counterexample is not None and out.counterexample.inputs["x"] >= 100


def test_explicit_examples_run_first_whatever_the_strategy_draws(tmp_path: Path) -> None:
    seen: list[int] = []

    @prop(describe=describe, examples=[{"x": 1000}, {"x": 2000}], x=st.integers(0, 5))
    def p(ctx: Context, x: int) -> None:
        seen.append(x)

    out = run(p, tmp_path, n=5)
    assert out.outcome == "passed"
    assert seen[:2] == [1000, 2000] and all(0 <= x <= 5 for x in seen[2:])

    @prop(describe=describe, examples=[{"x": 1000}], x=st.integers(0, 5))
    def q(ctx: Context, x: int) -> None:
        if x == 1000:  # a case the strategy itself can never draw
            raise Failure("only the explicit case fails")

    out = run(q, tmp_path, n=5)
    assert out.outcome == "failed"
    assert out.counterexample is not None and out.counterexample.inputs == {"x": 1000}
