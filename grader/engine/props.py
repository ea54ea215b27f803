"""Hidden properties and the small runner that checks them with Hypothesis, in the parent.

A property module (``assignments/<name>/properties.py``) defines functions decorated
with ``@prop(name=strategy, ...)``. Each takes a ``Context`` and the drawn values, calls
the student's code only through ``ctx.call`` (the sandboxed worker), and signals a
wrong answer by raising ``Failure``. Hypothesis replays the minimal failing example
last, so the arguments of the last call are the shrunk counterexample.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import traceback
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import example as hyp_example
from hypothesis import seed as hyp_seed
from hypothesis.strategies import SearchStrategy
from pydantic import BaseModel

from .results import Counterexample, Outcome, Picture
from .worker import CallCrashed, CallError, CallOk, CallTimeout, Worker


def sibling(here: str, name: str) -> ModuleType:
    """``name``.py beside the file ``here`` (pass ``__file__``), imported once.

    The engine loads an assignment's properties.py by path, not as a package, so its helper
    files (inputs.py, checks.py, explain.py) are loaded this way, under one module name per
    folder and file, whichever of them asks first.
    """
    path = Path(here).resolve().with_name(f"{name}.py")
    where = zlib.crc32(str(path.parent).encode())  # two copies of a folder stay apart
    full = f"osgrade_{path.parent.name}_{name}_{where:08x}"
    if full not in sys.modules:
        spec = importlib.util.spec_from_file_location(full, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[full]
            raise
    return sys.modules[full]


if sys.version_info < (3, 11):  # pragma: no cover - Hypothesis depends on the backport there
    from exceptiongroup import BaseExceptionGroup  # type: ignore[import-not-found]

PropertyFn = Callable[..., None]


@dataclass(frozen=True)
class PropertySpec:
    fn: PropertyFn
    strategies: dict[str, SearchStrategy[Any]]
    describe: Callable[[dict[str, Any]], Counterexample] | None = None
    params_model: type[BaseModel] | None = None
    replayable: bool = False
    examples: tuple[dict[str, Any], ...] = ()  # explicit inputs, always tried first


def prop(
    describe: Callable[[dict[str, Any]], Counterexample] | None = None,
    *,
    params_model: type[BaseModel] | None = None,
    replayable: bool = False,
    examples: Sequence[dict[str, Any]] = (),
    **strategies: SearchStrategy[Any],
) -> Callable[[PropertyFn], PropertyFn]:
    """Mark a function as a property over values drawn from ``strategies``.

    ``describe(inputs)`` turns a failing input into a Counterexample (a runnable snippet).
    ``params_model`` validates the test's ``params`` from assignment.toml (the property
    reads the result as ``ctx.params``). ``replayable``: the property can reproduce one
    reported case from a string (``osgrade check --replay TEST=STRING``, ``ctx.replay``).
    ``examples``: inputs (one dict of argument values each) tried before anything is
    generated, whatever the Hypothesis version, e.g. a case that runs an exhaustive search.
    """

    def mark(fn: PropertyFn) -> PropertyFn:
        spec = PropertySpec(
            fn, dict(strategies), describe, params_model, replayable, tuple(examples)
        )
        fn.__osgrade_property__ = spec  # type: ignore[attr-defined]
        return fn

    return mark


def with_examples(examples: Sequence[dict[str, Any]]) -> Callable[[Any], Any]:
    """Hypothesis's ``@example`` for each of ``examples`` (explicit inputs run first)."""

    def apply(test: Any) -> Any:
        for ex in reversed(examples):  # decorators apply bottom-up; keep the listed order
            test = hyp_example(**ex)(test)
        return test

    return apply


def property_spec(obj: object) -> PropertySpec | None:
    spec = getattr(obj, "__osgrade_property__", None)
    return spec if isinstance(spec, PropertySpec) else None


class Failure(Exception):
    """The submission's answer is wrong for this input (raised by properties)."""

    def __init__(
        self,
        message: str,
        *,
        expected: str | None = None,
        actual: str | None = None,
        divergence: str | None = None,
        picture: Picture | None = None,
        snippet: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.actual = actual
        self.divergence = divergence
        self.picture = picture
        self.snippet = snippet  # replaces describe()'s snippet (e.g. one the worker's reply names)


class _BudgetSpent(Exception):
    """Raised inside the property once its time budget is used up (stops the search)."""


class StudentProblem(Exception):
    """The student's code could not produce an answer: it raised, hung or died."""

    def __init__(self, outcome: Outcome, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.detail = detail


@dataclass
class Context:
    """What a property may use: the worker (student code), the reference, the module name."""

    worker: Worker
    module: str
    reference: Any
    call_timeout_s: float
    calls: int = 0
    _stuck: StudentProblem | None = None
    stuck_input: dict[str, Any] | None = None
    current_input: dict[str, Any] = field(default_factory=dict)
    test_id: str = ""  # the running test
    params: Any = None  # the running test's params (validated by its params_model)
    replay: str | None = None  # a case to reproduce instead of searching (--replay)

    def call(self, entry: str, args: dict[str, Any]) -> Any:
        """Run ``entry`` on the submission in the worker; returns plain JSON data.

        Raises StudentProblem when the student's code raised, timed out or crashed.
        After one timeout every later call fails at once, so that Hypothesis does not
        shrink through a series of timeouts.
        """
        if self._stuck is not None:
            raise self._stuck
        self.calls += 1
        result = self.worker.call(entry, self.module, args, timeout=self.call_timeout_s)
        if isinstance(result, CallOk):
            return result.value
        if isinstance(result, CallError):
            where = f" at {result.where}" if result.where else ""
            outcome: Outcome = "error"
            msg = f"{result.type}{where}: {result.message}"
            if result.kind == "contract":
                msg = f"Your code broke the simulator's rules{where}: {result.message}"
            raise StudentProblem(outcome, msg, result.traceback or "")
        if isinstance(result, CallTimeout):
            self._stuck = StudentProblem(
                "timeout",
                f"Your code was stopped after {result.seconds:g} s without finishing "
                "(an infinite loop, or far too slow).",
            )
            self.stuck_input = dict(self.current_input)
            raise self._stuck
        if isinstance(result, CallCrashed):
            how = f"signal {result.signal}" if result.signal else f"exit code {result.returncode}"
            raise StudentProblem(
                "crashed",
                f"The process running your code died ({how}): did it call os._exit, "
                "exhaust memory or recurse too deeply?",
                result.output_tail,
            )
        raise TypeError(f"unexpected worker result {result!r}")  # pragma: no cover


@dataclass(frozen=True)
class PropertyOutcome:
    outcome: Outcome
    message: str
    counterexample: Counterexample | None
    examples: int
    duration_s: float
    staff_note: str | None = None


def test_seed(base: int, test_id: str) -> int:
    """A stable per-test seed, so two tests do not see the same inputs."""
    return (base * 1_000_003 + zlib.crc32(test_id.encode())) % (2**32)


def run_property(
    spec: PropertySpec,
    ctx: Context,
    *,
    test_id: str,
    max_examples: int,
    seed: int,
    budget_s: float = 60.0,
) -> PropertyOutcome:
    """Check one property; never raises for anything the student's code does.

    After ``budget_s`` seconds every further example fails at once, so Hypothesis stops
    quickly; the smallest real failure seen until then is reported.
    """
    last: dict[str, Any] = {}
    ctx._stuck = None  # a timeout in an earlier test must not fail this one
    ctx.stuck_input = None
    started = time.perf_counter()
    calls_before = ctx.calls

    deadline = started + budget_s
    best: list[tuple[BaseException, dict[str, Any]]] = []  # smallest failure seen so far

    @settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        derandomize=False,
        report_multiple_bugs=False,
        print_blob=False,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )
    @hyp_seed(test_seed(seed, test_id))
    @with_examples(spec.examples)
    @given(**spec.strategies)
    def check(**kwargs: Any) -> None:
        if time.perf_counter() > deadline:
            raise _BudgetSpent
        last.clear()
        last.update(kwargs)
        ctx.current_input = kwargs
        try:
            spec.fn(ctx, **kwargs)
        except (Failure, StudentProblem, AssertionError) as exc:
            best[:] = [(exc, dict(kwargs))]  # shrinking only ever finds smaller failures
            raise

    def finish(
        outcome: Outcome, message: str, cx: Counterexample | None, note: str | None = None
    ) -> PropertyOutcome:
        return PropertyOutcome(
            outcome, message, cx, ctx.calls - calls_before, time.perf_counter() - started, note
        )

    def example(inputs: dict[str, Any], **extra: Any) -> Counterexample | None:
        if spec.describe is None:
            if extra.get("snippet") is None:
                return None
            base = Counterexample(inputs=inputs, snippet=extra["snippet"])
        else:
            base = spec.describe(inputs)
        return base.model_copy(update={k: v for k, v in extra.items() if v is not None})

    try:
        try:
            try:
                check()
            except BaseExceptionGroup as group:  # Hypothesis's FlakyFailure wraps what it saw
                spent = group.subgroup(_BudgetSpent) is not None
                inner = _first_meaningful(group)
                if inner is group and spent:
                    # The budget ran out while Hypothesis replayed a case (during shrinking):
                    # the same as running out of time, not a grader error.
                    raise _BudgetSpent from None
                raise inner from group
        except _BudgetSpent:
            if not best:  # no failure found within the time budget
                return finish("passed", "", None, f"stopped after {budget_s:g} s (time budget)")
            exc, found = best[0]
            last.clear()
            last.update(found)
            raise exc from None
    except Failure as f:
        cx = example(
            last,
            expected=f.expected,
            actual=f.actual,
            divergence=f.divergence,
            picture=f.picture,
            snippet=f.snippet,
        )
        return finish("failed", f.message, cx)
    except StudentProblem as p:
        inputs = ctx.stuck_input if p.outcome == "timeout" and ctx.stuck_input else last
        return finish(p.outcome, p.message, example(inputs), p.detail or None)
    except AssertionError as a:
        return finish("failed", str(a) or "an assertion of the property failed", example(last))
    except Exception as exc:  # a bug in the grader or the property
        return finish(
            "error",
            "The grader could not run this test; the course staff have been told.",
            None,
            "".join(traceback.format_exception(exc)),
        )
    return finish("passed", "", None)


def _first_meaningful(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first Failure or StudentProblem inside a (possibly nested) exception group."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            inner = _first_meaningful(exc)
            if isinstance(inner, (Failure, StudentProblem)):
                return inner
        elif isinstance(exc, (Failure, StudentProblem, AssertionError)):
            return exc
    return cast(BaseException, group)
