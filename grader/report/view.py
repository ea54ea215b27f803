"""View models: a GradeReport prepared for one audience. Pure data; templates only loop and branch.

Who sees what:

- ``staff`` sees everything, including inputs of hidden tests, staff notes and the grader error.
- ``student`` sees, for a test whose visibility is not "visible", only its name, outcome and
  points: no message, no counterexample, no input.
- Gradescope (``prepare_test(..., reveal="gradescope")``) gets the message of every test and the
  counterexample of every test that is not "hidden"; Gradescope itself holds back the
  after_due_date / after_published ones until then.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from ..engine.results import GradeReport, Outcome, TestResult, Visibility
from . import text
from .figures import STYLES, Figure, layout_figure
from .text import CodeBlock, code_block

Audience = Literal["student", "staff"]
Reveal = Literal["student", "staff", "gradescope"]

HIDDEN_NOTE = "Details are hidden for this test."
GRADER_FAILED = (
    "The autograder itself ran into a problem, so this is not a verdict on your code. "
    "The course staff have been notified; your score will be updated once it is fixed."
)
VISIBILITY_LABELS: dict[Reveal, dict[Visibility, str]] = {
    "student": {
        "visible": "visible",
        "hidden": "details hidden",
        "after_due_date": "details after the due date",
        "after_published": "details once grades are published",
    },
    "staff": {
        "visible": "visible",
        "hidden": "hidden from students",
        "after_due_date": "shown after the due date",
        "after_published": "shown once grades are published",
    },
}
VISIBILITY_LABELS["gradescope"] = VISIBILITY_LABELS["staff"]


@dataclass(frozen=True, slots=True)
class Details:
    """What a failing test shows when its details may be seen."""

    snippet: CodeBlock | None
    expected: CodeBlock | None
    actual: CodeBlock | None
    divergence: str | None
    figure: Figure | None  # the counterexample's picture (a Gantt chart, a table, ...)
    inputs: CodeBlock | None  # the raw inputs as JSON: staff only


@dataclass(frozen=True, slots=True)
class TestView:
    __test__ = False  # not a pytest class

    anchor: str  # html id of the test's card
    number: str
    name: str
    outcome: Outcome
    outcome_word: str
    icon: str
    css: str  # "outcome-failed"
    passed: bool
    points: str  # "0 / 8"
    score: float
    max_score: float
    visibility: Visibility
    visibility_label: str
    tags: tuple[str, ...]
    message: str  # "" when hidden from this audience
    hidden_note: str | None  # HIDDEN_NOTE when the details are held back
    details: Details | None
    staff_note: CodeBlock | None
    examples: str  # "200 inputs tried"
    duration: str


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class StaffView:
    seed: int
    mode: str
    osgrade_version: str
    schema_version: int
    submission_path: str
    files: tuple[KeyValue, ...]
    isolation: tuple[KeyValue, ...]
    environment: tuple[KeyValue, ...]
    grader_error: CodeBlock | None


@dataclass(frozen=True, slots=True)
class ReportView:
    audience: Audience
    title: str
    assignment: str  # "scheduling 2026.1"
    mode_label: str
    started: str
    duration: str
    score: str  # "42 / 100"
    percent: int  # 0..100, the width of the score bar
    percent_label: str  # "42%"
    score_css: str  # "score-high" | "score-mid" | "score-low"
    summary: str  # "5 of 8 tests passed"
    problems: tuple[str, ...]  # about the submission: missing files, syntax errors
    grader_failed: bool
    grader_failed_message: str
    tests: tuple[TestView, ...]
    cards: tuple[TestView, ...]  # the tests that did not pass, in order
    staff: StaffView | None
    footer: str
    styles: tuple[str, ...] = STYLES  # CSS templates of the picture kinds


def _shows_message(t: TestResult, reveal: Reveal) -> bool:
    return reveal != "student" or t.visibility == "visible"


def _shows_details(t: TestResult, reveal: Reveal) -> bool:
    if reveal == "staff":
        return True
    if reveal == "gradescope":
        return t.visibility != "hidden"
    return t.visibility == "visible"


def _details(t: TestResult, reveal: Reveal) -> Details | None:
    cx = t.counterexample
    if cx is None or t.outcome == "passed":
        return None
    figure = layout_figure(cx.picture, f"{cx.picture.kind}-{t.number}") if cx.picture else None
    return Details(
        snippet=code_block(cx.snippet, "python") if cx.snippet else None,
        expected=code_block(cx.expected, limit=4000) if cx.expected else None,
        actual=code_block(cx.actual, limit=4000) if cx.actual else None,
        divergence=cx.divergence,
        figure=figure,
        inputs=(
            code_block(json.dumps(cx.inputs, indent=1, default=repr), "json", limit=20000)
            if reveal == "staff"
            else None
        ),
    )


def prepare_test(t: TestResult, reveal: Reveal) -> TestView:
    """One test prepared for ``reveal``'s eyes (see the module docstring)."""
    shows_details = _shows_details(t, reveal)
    details = _details(t, reveal) if shows_details else None
    held_back = reveal == "student" and t.outcome != "passed" and not shows_details
    return TestView(
        anchor=f"test-{t.number}".replace(" ", "-"),
        number=t.number,
        name=t.name,
        outcome=t.outcome,
        outcome_word=text.OUTCOME_WORDS[t.outcome],
        icon=text.OUTCOME_ICONS[t.outcome],
        css=f"outcome-{t.outcome}",
        passed=t.outcome == "passed",
        points=f"{text.points(t.score)} / {text.points(t.max_score)}",
        score=t.score,
        max_score=t.max_score,
        visibility=t.visibility,
        visibility_label=VISIBILITY_LABELS[reveal][t.visibility],
        tags=tuple(t.tags),
        message=t.message if _shows_message(t, reveal) else "",
        hidden_note=HIDDEN_NOTE if held_back else None,
        details=details,
        staff_note=code_block(t.staff_note, limit=20000)
        if reveal == "staff" and t.staff_note
        else None,
        examples=f"{t.examples} input{'s' if t.examples != 1 else ''} tried",
        duration=text.duration(t.duration_s),
    )


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(x) for x in v) or "none"
    return json.dumps(v, default=repr, sort_keys=True)


def _pairs(d: dict[str, Any]) -> tuple[KeyValue, ...]:
    return tuple(KeyValue(str(k), _value(v)) for k, v in d.items())


def _staff(report: GradeReport) -> StaffView:
    return StaffView(
        seed=report.seed,
        mode=report.mode,
        osgrade_version=report.osgrade_version,
        schema_version=report.schema_version,
        submission_path=report.submission.path,
        files=_pairs(report.submission.files),
        isolation=_pairs(report.isolation),
        environment=_pairs(report.environment),
        grader_error=code_block(report.grader_error, limit=50000) if report.grader_error else None,
    )


def _score_css(percent: float) -> str:
    if percent >= 90:
        return "score-high"
    return "score-mid" if percent >= 50 else "score-low"


def build_view(report: GradeReport, audience: Audience) -> ReportView:
    """The report prepared for ``audience``; raises ValueError for an unknown audience."""
    if audience not in ("student", "staff"):
        raise ValueError(f"audience must be 'student' or 'staff', got {audience!r}")
    tests = tuple(prepare_test(t, audience) for t in report.tests)
    failed = report.grader_error is not None
    score = 0.0 if failed else report.score
    exact = 100 * score / report.max_score if report.max_score > 0 else 0.0
    passed = sum(t.passed for t in tests)
    a = report.assignment
    return ReportView(
        audience=audience,
        title=a.title,
        assignment=f"{a.name} {a.version}".strip(),
        mode_label="Self-check (public tests only)" if report.mode == "check" else "Graded",
        started=text.when(report.started_at),
        duration=text.duration(report.duration_s),
        score=f"{text.points(score)} / {text.points(report.max_score)}",
        percent=max(0, min(100, round(exact))),
        percent_label=f"{exact:.0f}%" if report.max_score > 0 else "–",
        score_css=_score_css(exact),
        summary=(
            f"{passed} of {len(tests)} test{'s' if len(tests) != 1 else ''} passed"
            if tests
            else "no tests were run"
        ),
        problems=tuple(report.submission.problems),
        grader_failed=failed,
        grader_failed_message=GRADER_FAILED,
        tests=tests,
        cards=tuple(t for t in tests if not t.passed),
        staff=_staff(report) if audience == "staff" else None,
        footer=(
            f"osgrade {report.osgrade_version} · seed {report.seed} · "
            f"report format {report.schema_version}"
        ),
    )
