"""Gradescope's results.json, built from the canonical GradeReport through a strict model.

Fields follow Gradescope's autograder specification (top level: score, execution_time,
output, output_format, visibility, stdout_visibility, extra_data, tests; each test: name,
number, score, max_score, status, output, output_format, tags, visibility).
Student-visible text never contains a grader error, a staff note, or the input of a
"hidden" test; those go to ``extra_data``, which Gradescope shows to staff only.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .. import __version__
from ..engine.results import SCHEMA_VERSION, GradeReport, TestResult, Visibility
from . import text
from .render import render_test_markdown
from .view import GRADER_FAILED, prepare_test

OutputFormat = Literal["text", "html", "simple_format", "md", "ansi"]
OUTPUT_FORMAT: OutputFormat = "md"  # renders code blocks, which carry the counterexamples
STAFF_TEXT_LIMIT = 20_000  # characters of one staff note or error kept in extra_data


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GradescopeTest(_Strict):
    """One entry of results.json's ``tests``."""

    __test__ = False  # not a pytest class

    name: str
    number: str
    score: float
    max_score: float
    status: Literal["passed", "failed"]
    output: str
    output_format: OutputFormat = OUTPUT_FORMAT
    tags: list[str] = Field(default_factory=list)
    visibility: Visibility


class GradescopeResults(_Strict):
    """The whole results.json."""

    score: float
    execution_time: int = Field(ge=0)  # seconds
    output: str
    output_format: OutputFormat = OUTPUT_FORMAT
    visibility: Visibility = "visible"
    stdout_visibility: Visibility = "hidden"
    extra_data: dict[str, Any] = Field(default_factory=dict)
    tests: list[GradescopeTest] = Field(default_factory=list)


def _seconds(duration_s: float) -> int:
    return max(0, math.ceil(duration_s)) if math.isfinite(duration_s) else 0


def _clip(s: str) -> str:
    return s if len(s) <= STAFF_TEXT_LIMIT else s[:STAFF_TEXT_LIMIT] + "\n… (cut)"


def _test(t: TestResult) -> GradescopeTest:
    if t.outcome == "passed":
        output = f"Passed ({t.examples} inputs tried)." if t.examples else "Passed."
    else:
        output = render_test_markdown(prepare_test(t, "gradescope"))
    return GradescopeTest(
        name=t.name,
        number=t.number,
        score=t.score,
        max_score=t.max_score,
        status="passed" if t.outcome == "passed" else "failed",
        output=output,
        tags=list(t.tags),
        visibility=t.visibility,
    )


def _summary(report: GradeReport) -> str:
    lines = [f"**Score: {text.points(report.score)} / {text.points(report.max_score)}**"]
    if report.submission.problems:
        lines += ["", "There is a problem with your submission:", ""]
        lines += [f"- {text.md_escape(p)}" for p in report.submission.problems]
    if any(t.outcome != "passed" for t in report.tests):
        lines += [
            "",
            "A failed test shows the smallest input we found that breaks your code, "
            "and a snippet to run it yourself.",
        ]
    return "\n".join(lines)


def _extra(report: GradeReport) -> dict[str, Any]:
    notes = {t.id: _clip(t.staff_note) for t in report.tests if t.staff_note}
    extra: dict[str, Any] = {
        "osgrade": {
            "schema_version": report.schema_version,
            "osgrade_version": report.osgrade_version,
            "mode": report.mode,
            "seed": report.seed,
            "assignment": report.assignment.name,
            "assignment_version": report.assignment.version,
            "isolation": report.isolation,
            "environment": report.environment,
        }
    }
    if notes:
        extra["staff_notes"] = notes
    if report.grader_error:
        extra["grader_error"] = _clip(report.grader_error)
    return extra


def to_gradescope(report: GradeReport) -> dict[str, Any]:
    """results.json for ``report`` as a plain dict (validated by GradescopeResults).

    When ``report.grader_error`` is set the score is 0 and no tests are listed (partial
    results under a zero score would only confuse); the error goes to ``extra_data``.
    """
    if report.grader_error is not None:
        results = GradescopeResults(
            score=0.0,
            execution_time=_seconds(report.duration_s),
            output=f"**Grading failed.** {GRADER_FAILED}",
            extra_data=_extra(report),
        )
    else:
        results = GradescopeResults(
            score=report.score,
            execution_time=_seconds(report.duration_s),
            output=_summary(report),
            extra_data=_extra(report),
            tests=[_test(t) for t in report.tests],
        )
    return results.model_dump(mode="json")


def failure_results(
    error_text: str,
    *,
    assignment: str | None = None,
    assignment_version: str | None = None,
    seed: int | None = None,
    duration_s: float = 0.0,
) -> dict[str, Any]:
    """results.json for a run that crashed before it had a GradeReport: score 0, error for staff."""
    osgrade: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "osgrade_version": __version__}
    for key, value in (
        ("assignment", assignment),
        ("assignment_version", assignment_version),
        ("seed", seed),
    ):
        if value is not None:
            osgrade[key] = value
    return GradescopeResults(
        score=0.0,
        execution_time=_seconds(duration_s),
        output=f"**Grading failed.** {GRADER_FAILED}",
        extra_data={"osgrade": osgrade, "grader_error": _clip(error_text)},
    ).model_dump(mode="json")
