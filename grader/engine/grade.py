"""Grading one submission: load, pre-flight, run every property, score. No presentation here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import platform
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, cast

import hypothesis

from .. import __version__
from .assignment import Assignment
from .errors import ConfigError
from .props import Context, PropertyOutcome, PropertySpec, property_spec, run_property
from .recorded import Explainer, load_suite, replay
from .restrict import check_submission
from .restrict import describe as describe_violations
from .results import AssignmentInfo, GradeReport, SubmissionInfo, TestResult
from .submission import PreparedSubmission, hash_files, missing_files
from .worker import CallCrashed, CallError, CallOk, CallTimeout, Worker, WorkerLimits

Mode = Literal["grade", "check"]


def _load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise ConfigError(f"{path} failed to import: {type(exc).__name__}: {exc}") from exc
    return module


def load_properties(assignment: Assignment) -> dict[str, PropertySpec]:
    """The assignment's properties by function name; ConfigError if a test names a missing one."""
    module = _load_module(assignment.properties_path, f"osgrade_props_{assignment.name}")
    found = {n: s for n, obj in vars(module).items() if (s := property_spec(obj)) is not None}
    for t in assignment.spec.tests:
        if t.property not in found:
            raise ConfigError(
                f"{assignment.directory / 'assignment.toml'}: field tests.{t.id}.property: "
                f"{t.property!r} is not a property in {assignment.properties_path.name} "
                f"(known: {', '.join(sorted(found)) or 'none'})"
            )
        assignment.params_for(t, found[t.property].params_model)  # ConfigError if wrong
    return found


def load_reference(assignment: Assignment) -> ModuleType:
    """The instructor's solution, imported in the trusted parent."""
    path = assignment.reference_dir / f"{assignment.spec.submission.module}.py"
    if not path.is_file():
        raise ConfigError(
            f"{assignment.directory / 'assignment.toml'}: field reference: {path} does not exist"
        )
    return _load_module(path, f"osgrade_reference_{assignment.name}")


def load_explainer(assignment: Assignment) -> Explainer | None:
    """``explain_reply`` of the file ``[kit] explain`` names (course code), or None."""
    path = assignment.explain_path
    if path is None:
        return None
    fn = getattr(_load_module(path, f"osgrade_explain_{assignment.name}"), "explain_reply", None)
    if not callable(fn):
        raise ConfigError(
            f"{assignment.toml_path}: field kit.explain: {path.name} defines no function "
            "explain_reply(entry, args, expected, actual)"
        )
    return cast(Explainer, fn)


def _preflight(worker: Worker, module: str, timeout: float) -> str | None:
    """Import the submission once; a problem that stops every test, or None."""
    result = worker.call("grader.sandbox.entries:probe", module, {}, timeout=max(timeout, 10.0))
    if isinstance(result, CallOk):
        return None
    if isinstance(result, CallError):
        where = f" ({result.where})" if result.where else ""
        if result.kind == "syntax":
            return f"Syntax error{where}: {result.message}"
        return f"Your module could not be imported{where}: {result.type}: {result.message}"
    if isinstance(result, CallTimeout):
        return (
            f"Importing {module}.py did not finish within {result.seconds:g} s: is there an "
            "infinite loop or a long computation at the top level of the file?"
        )
    if isinstance(result, CallCrashed):
        how = f"signal {result.signal}" if result.signal else f"exit code {result.returncode}"
        return (
            f"The process importing {module}.py died ({how}): does the file call os._exit or "
            "exhaust memory at the top level?"
        )
    return f"Importing {module}.py failed: {result!r}"


def grade(
    assignment: Assignment,
    submission_path: Path,
    *,
    mode: Mode = "grade",
    seed: int | None = None,
    max_examples: int | None = None,
    only: list[str] | None = None,
    fail_fast: bool = False,
    call_timeout_s: float | None = None,
    order: list[str] | None = None,
    replays: dict[str, str] | None = None,
) -> GradeReport:
    """Grade one submission. Raises SubmissionError only when it cannot be read at all.

    ``fail_fast`` stops at the first test that does not pass (the rest are not run and
    not listed; mutation analysis uses it). ``call_timeout_s`` overrides the assignment's
    per-call limit (a test's own ``call_timeout_s`` still wins for that test); ``order``
    names tests to run first. A kit's assignment (``recorded``
    set) replays its recorded public tests. ``replays`` maps test ids to a case each
    test's property reproduces instead of searching (one example; only those tests run);
    ConfigError for an unknown test, a property that cannot replay, or a kit.
    """
    started = time.perf_counter()
    when = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    spec = assignment.spec
    run_seed = spec.hypothesis.seed if seed is None else seed
    replays = replays or {}
    if replays and assignment.recorded_path is not None:
        raise ConfigError(
            "--replay needs the assignment's properties, which a student kit does not have; "
            "use the Python snippet the report gives instead"
        )
    if replays:
        _check_replay(assignment, load_properties(assignment), replays, mode)
        only = list(replays)
    tests = [
        t
        for t in spec.tests
        if (mode == "grade" or t.public or t.id in replays) and (not only or t.id in only)
    ]
    if order:
        tests.sort(key=lambda t: order.index(t.id) if t.id in order else len(order))
    recorded = assignment.recorded_path
    suite = load_suite(recorded).by_id() if recorded is not None else None
    explain = load_explainer(assignment) if suite is not None else None
    if suite is not None:
        tests = [t for t in tests if t.id in suite]
        properties: dict[str, PropertySpec] = {}
        reference: ModuleType | None = None
    else:
        properties = load_properties(assignment)
        reference = load_reference(assignment)
    timeout = call_timeout_s or spec.limits.call_timeout_s
    limits = WorkerLimits(
        call_timeout_s=timeout,
        memory_mb=spec.limits.memory_mb,
        cpu_s=spec.limits.cpu_s,
    )
    results: list[TestResult] = []
    isolation: dict[str, Any] = {}
    with PreparedSubmission(submission_path) as sub:
        files = spec.submission.files
        problems = [
            f"{name} is missing: the submission must contain {', '.join(files)}"
            for name in missing_files(sub.directory, files)
        ]
        with Worker(sub.directory, limits) as worker:
            restrict = spec.submission.restrict
            if not problems and restrict is not None:
                violations = check_submission(sub.directory, restrict)
                if violations:
                    problems.append(describe_violations(violations, restrict))
            if not problems:
                blocker = _preflight(worker, spec.submission.module, spec.limits.call_timeout_s)
                if blocker:
                    problems.append(blocker)
            ctx = Context(worker, spec.submission.module, reference, timeout)
            for number, t in enumerate(tests, start=1):
                base: dict[str, Any] = {
                    "id": t.id,
                    "name": t.name,
                    "number": str(number),
                    "max_score": t.points,
                    "visibility": t.visibility,
                    "public": t.public,
                    "tags": t.tags,
                }
                if problems:
                    results.append(
                        TestResult(**base, score=0.0, outcome="error", message=problems[0])
                    )
                    if fail_fast:
                        break
                    continue
                out: PropertyOutcome
                ctx.call_timeout_s = t.call_timeout_s or timeout
                if suite is not None:
                    began = time.perf_counter()
                    out = replay(
                        suite[t.id], worker, spec.submission.module, ctx.call_timeout_s, explain
                    )
                    out = dataclasses.replace(out, duration_s=time.perf_counter() - began)
                else:
                    prop_spec = properties[t.property]
                    ctx.test_id = t.id
                    ctx.params = assignment.params_for(t, prop_spec.params_model)
                    ctx.replay = replays.get(t.id)
                    examples = max_examples or t.max_examples or spec.hypothesis.max_examples
                    out = run_property(
                        prop_spec,
                        ctx,
                        test_id=t.id,
                        max_examples=1 if ctx.replay is not None else examples,
                        seed=run_seed,
                        budget_s=spec.hypothesis.test_budget_s,
                    )
                results.append(
                    TestResult(
                        **base,
                        score=t.points if out.outcome == "passed" else 0.0,
                        outcome=out.outcome,
                        message=out.message,
                        counterexample=out.counterexample,
                        examples=out.examples,
                        duration_s=round(out.duration_s, 3),
                        staff_note=out.staff_note,
                    )
                )
                if fail_fast and out.outcome != "passed":
                    break
            isolation = worker.isolation
        info = SubmissionInfo(
            path=str(submission_path),
            files=hash_files(sub.directory, files),
            problems=problems,
        )
    return GradeReport(
        osgrade_version=__version__,
        mode=mode,
        assignment=AssignmentInfo(name=spec.name, title=spec.title, version=spec.version),
        submission=info,
        started_at=when,
        duration_s=round(time.perf_counter() - started, 3),
        seed=run_seed,
        score=sum(r.score for r in results),
        max_score=sum(r.max_score for r in results),
        tests=results,
        isolation=isolation,
        environment=_environment(),
    )


def _check_replay(
    assignment: Assignment, properties: dict[str, PropertySpec], replay: dict[str, str], mode: Mode
) -> None:
    tests = {t.id: t for t in assignment.spec.tests}
    for test_id in replay:
        t = tests.get(test_id)
        if t is None:
            raise ConfigError(
                f"--replay: {assignment.name} has no test {test_id!r} (tests: {', '.join(tests)})"
            )
        if mode == "check" and t.visibility != "visible":
            raise ConfigError(
                f"--replay: the details of test {test_id!r} are not shown to students, "
                "so it cannot be replayed with `osgrade check`"
            )
        if not properties[t.property].replayable:
            raise ConfigError(f"--replay: test {test_id!r} cannot replay a case")


def failed_report(
    assignment: Assignment | None, submission_path: Path, error: BaseException, mode: Mode
) -> GradeReport:
    """The report written when the grader itself failed: score 0, the error for staff only."""
    name = assignment.spec.name if assignment else "unknown"
    return GradeReport(
        osgrade_version=__version__,
        mode=mode,
        assignment=AssignmentInfo(
            name=name,
            title=assignment.spec.title if assignment else name,
            version=assignment.spec.version if assignment else "",
        ),
        submission=SubmissionInfo(path=str(submission_path), files={}),
        started_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        duration_s=0.0,
        seed=assignment.spec.hypothesis.seed if assignment else 0,
        score=0.0,
        max_score=assignment.max_score if assignment else 0.0,
        tests=[],
        environment=_environment(),
        grader_error="".join(traceback.format_exception(error)),
    )


def _environment() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "hypothesis": hypothesis.__version__,
        "platform": platform.platform(terse=True),
    }
