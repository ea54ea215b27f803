"""Recorded public tests: how a student kit runs ``osgrade check`` without the reference.

A kit ships neither the hidden properties nor the reference solution. For each public
test, ``record_public_tests`` draws inputs from the test's own Hypothesis strategies (with
a seed different from the grading seed, so hard-coding the kit's cases earns nothing at
grading time), runs the property on the *reference graded as a submission* through the
worker, and keeps every call the property made together with the reference's reply.

``replay`` then sends the same calls to the student's code and compares each reply
with the recorded one, smallest input first. The guarantee is one-way and is what the
handout says: if every reply equals the reference's, the real property passes on those
inputs too (it is deterministic given its inputs and the replies); a reply that differs
fails the kit's test even where the real property would accept it (a rule test that
allows several tie-breaks), so an assignment should keep its public tests differential.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hyp_seed
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError
from .props import (
    Context,
    Failure,
    PropertyOutcome,
    PropertySpec,
    StudentProblem,
    test_seed,
    with_examples,
)
from .results import Counterexample
from .worker import Worker

FORMAT = 1
KIT_SEED_SALT = 0x6B6974  # "kit": kit inputs never coincide with the grading run's inputs


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecordedCall(_Strict):
    entry: str
    args: dict[str, Any]
    reply: Any  # the reference's reply (plain JSON)


class RecordedCase(_Strict):
    inputs: dict[str, Any]
    snippet: str = ""
    calls: list[RecordedCall]


class RecordedTest(_Strict):
    __test__ = False

    id: str
    cases: list[RecordedCase] = Field(min_length=1)


class RecordedSuite(_Strict):
    """The file a kit carries (``public_cases.json``)."""

    format: int = FORMAT
    assignment: str
    version: str
    seed: int
    tests: list[RecordedTest]

    def by_id(self) -> dict[str, RecordedTest]:
        return {t.id: t for t in self.tests}


def kit_seed(seed: int) -> int:
    return (seed ^ KIT_SEED_SALT) % (2**32)


def canonical(value: Any) -> str:
    """One text per JSON value: key order ignored, ``True`` never equal to ``1``."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


class _RecordingContext(Context):
    """A Context that keeps every call and its reply (the reference answering)."""

    def __init__(self, worker: Worker, module: str, reference: Any, timeout: float) -> None:
        super().__init__(worker, module, reference, timeout)
        self.log: list[RecordedCall] = []

    def call(self, entry: str, args: dict[str, Any]) -> Any:
        value = super().call(entry, args)
        try:
            plain_args = json.loads(canonical(args))
        except (TypeError, ValueError) as exc:
            msg = f"a call to {entry} has arguments that are not plain JSON: {exc}"
            raise ConfigError(msg) from None
        self.log.append(RecordedCall(entry=entry, args=plain_args, reply=value))
        return value


def record_test(
    spec: PropertySpec,
    test_id: str,
    worker: Worker,
    module: str,
    reference: Any,
    *,
    cases: int,
    seed: int,
    call_timeout_s: float,
    params: Any = None,
) -> RecordedTest:
    """Draw ``cases`` inputs and record the reference's replies; ConfigError if it fails.

    ``params``: the test's validated params (``Assignment.params_for``), as in grading.
    """
    ctx = _RecordingContext(worker, module, reference, call_timeout_s)
    ctx.test_id, ctx.params = test_id, params
    found: dict[str, RecordedCase] = {}

    @settings(
        max_examples=cases,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
    @hyp_seed(test_seed(seed, test_id))
    @with_examples(spec.examples)
    @given(**spec.strategies)
    def draw(**kwargs: Any) -> None:
        ctx.log = []
        ctx.current_input = kwargs
        try:
            spec.fn(ctx, **kwargs)
        except (Failure, StudentProblem, AssertionError) as exc:
            raise ConfigError(
                f"the reference fails public test {test_id!r} on a kit input "
                f"({type(exc).__name__}: {exc}); fix the reference or the property first"
            ) from None
        try:
            inputs = json.loads(canonical(kwargs))
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"public test {test_id!r} draws inputs that are not plain JSON ({exc}); a kit "
                "can only record lists, dicts, strings, numbers, booleans and None"
            ) from None
        snippet = spec.describe(inputs).snippet if spec.describe else ""
        found.setdefault(
            canonical(inputs), RecordedCase(inputs=inputs, snippet=snippet, calls=ctx.log)
        )

    draw()
    ordered = sorted(found.values(), key=lambda c: (len(canonical(c.inputs)), canonical(c.inputs)))
    return RecordedTest(id=test_id, cases=ordered)


def load_suite(path: Path) -> RecordedSuite:
    """The recorded public tests of a kit; ConfigError naming the file when it is broken."""
    try:
        return RecordedSuite.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        raise ConfigError(f"{path} is not a recorded test file of this osgrade: {exc}") from None


def first_difference(expected: Any, actual: Any, path: str = "") -> str | None:
    """Where two JSON values first differ, as ``at segments[3]: expected ..., got ...``."""
    if canonical(expected) == canonical(actual):
        return None
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                return f"at {path or 'the top'}: {key!r} is missing from your answer"
            if key not in expected:
                return f"at {path or 'the top'}: your answer has an unexpected {key!r}"
            inner = first_difference(expected[key], actual[key], f"{path}.{key}".lstrip("."))
            if inner:
                return inner
    flat = isinstance(expected, list) and not any(isinstance(x, (list, dict)) for x in expected)
    if isinstance(expected, list) and isinstance(actual, list) and not flat:
        for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
            inner = first_difference(e, a, f"{path}[{i}]")
            if inner:
                return inner
        if len(expected) != len(actual):
            return (
                f"at {path or 'the top'}: {len(expected)} items expected, your answer has "
                f"{len(actual)}"
            )
    return f"at {path or 'the top'}: expected {_short(expected)}, got {_short(actual)}"


def _short(value: Any, limit: int = 160) -> str:
    text = canonical(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


Explainer = Callable[[str, dict[str, Any], Any, Any], Any]


def _explained(
    explain: Explainer | None, call: RecordedCall, got: Any, case: RecordedCase
) -> tuple[str, Counterexample] | None:
    """The assignment's own words and picture for a reply that differs, if it has them.

    The explainer is course code shipped in the kit (``[kit] explain``); one that fails or
    declines leaves the JSON difference, so a self-check never breaks on it.
    """
    if explain is None:
        return None
    try:
        failure = explain(call.entry, call.args, call.reply, got)
    except Exception:  # course code: any bug in it falls back to the JSON difference
        return None
    if not isinstance(failure, Failure):
        return None
    cx = Counterexample(
        inputs=case.inputs,
        snippet=failure.snippet or case.snippet,
        expected=failure.expected,
        actual=failure.actual,
        divergence=failure.divergence,
        picture=failure.picture,
    )
    return failure.message, cx


def replay(
    test: RecordedTest,
    worker: Worker,
    module: str,
    call_timeout_s: float,
    explain: Explainer | None = None,
) -> PropertyOutcome:
    """Send every recorded call to the student's code; the first case that differs fails.

    ``explain``: the assignment's ``explain_reply`` (see ``[kit] explain``), which turns a
    differing reply into the sentence and picture grading would show.
    """
    ctx = Context(worker, module, None, call_timeout_s)
    tried = 0
    for case in test.cases:
        tried += 1
        for call in case.calls:
            try:
                got = ctx.call(call.entry, call.args)
            except StudentProblem as p:
                cx = Counterexample(inputs=case.inputs, snippet=case.snippet)
                return PropertyOutcome(p.outcome, p.message, cx, tried, 0.0, p.detail or None)
            diff = first_difference(call.reply, got)
            if diff is not None:
                explained = _explained(explain, call, got, case)
                if explained is not None:
                    return PropertyOutcome("failed", explained[0], explained[1], tried, 0.0)
                cx = Counterexample(
                    inputs=case.inputs,
                    snippet=case.snippet,
                    expected=json.dumps(call.reply, indent=1)[:4000],
                    actual=json.dumps(got, indent=1)[:4000],
                    divergence=f"Your answer differs from the reference's {diff}.",
                )
                return PropertyOutcome(
                    "failed",
                    "Your answer differs from the reference's answer for this input "
                    "(the smallest recorded input that shows it).",
                    cx,
                    tried,
                    0.0,
                )
    return PropertyOutcome("passed", "", None, tried, 0.0)
