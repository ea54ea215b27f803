"""PrairieLearn's external-grader results.json, built from the canonical GradeReport.

Fields follow PrairieLearn's external grading documentation: ``gradable`` (false: the
submission could not be graded at all, no attempt is used up) with ``format_errors``;
``score`` in [0, 1]; ``message``, ``output``; ``tests[]`` with ``name``, ``description``,
``points``, ``max_points``, ``message``, ``output`` and ``images`` (``{label, url}``, here
data URLs of the report's SVG pictures). Students see this file, so every test is
prepared for the student audience: a hidden test shows its name and points only.

The file must stay under 1 MB: pictures are dropped first, then the outputs are cut,
and the top-level message says what was left out.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..engine.results import GradeReport
from . import text
from .images import figure_svg, svg_data_url
from .render import render_test_markdown
from .view import GRADER_FAILED, prepare_test

SIZE_LIMIT = 1_000_000  # bytes of results.json (PrairieLearn: "limited to 1 MB")
IMAGES_DROPPED = (
    "The pictures were left out to keep these results under PrairieLearn's 1 MB limit; "
    "each test's output still shows them as text."
)
OUTPUT_CUT = "Some outputs were shortened to keep these results under PrairieLearn's 1 MB limit."
_CUT_MARK = "\n… (shortened to fit PrairieLearn's 1 MB limit)"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PLImage(_Strict):
    label: str = "Figure"
    url: str


class PLTest(_Strict):
    __test__ = False

    name: str
    description: str = ""
    points: float
    max_points: float
    message: str = ""
    output: str = ""
    images: list[PLImage] = Field(default_factory=list)


class PLResults(_Strict):
    gradable: bool = True
    score: float = Field(0.0, ge=0.0, le=1.0)
    message: str = ""
    output: str = ""
    format_errors: list[str] = Field(default_factory=list)
    tests: list[PLTest] = Field(default_factory=list)
    images: list[PLImage] = Field(default_factory=list)
    osgrade: dict[str, Any] = Field(default_factory=dict)  # staff data: seed, version, layers


def _images(report: GradeReport, index: int) -> list[PLImage]:
    view = prepare_test(report.tests[index], "student")
    if view.details is None or view.details.figure is None:
        return []
    svg = figure_svg(view.details.figure)
    if svg is None:
        return []
    label = view.details.figure.caption or f"{view.name}: expected and yours"
    return [PLImage(label=label, url=svg_data_url(svg))]


def _record(report: GradeReport) -> dict[str, Any]:
    return {
        "schema_version": report.schema_version,
        "osgrade_version": report.osgrade_version,
        "assignment": report.assignment.name,
        "assignment_version": report.assignment.version,
        "seed": report.seed,
        "isolation": report.isolation,
    }


def not_gradable(problems: list[str]) -> dict[str, Any]:
    """The results of a submission that cannot be graded at all (no attempt is used up)."""
    return PLResults(
        gradable=False,
        format_errors=problems,
        message="Your submission could not be graded: " + " ".join(problems),
    ).model_dump(mode="json")


def to_prairielearn(report: GradeReport, *, limit: int = SIZE_LIMIT) -> dict[str, Any]:
    """results.json for ``report``, under ``limit`` bytes (see the module docstring)."""
    if report.grader_error is not None:
        return PLResults(
            score=0.0, message=f"Grading failed. {GRADER_FAILED}", osgrade=_record(report)
        ).model_dump(mode="json")
    tests = []
    for i, t in enumerate(report.tests):
        view = prepare_test(t, "student")
        output = "" if view.passed else render_test_markdown(view)
        tests.append(
            PLTest(
                name=t.name,
                description=f"{t.id} · {view.visibility_label}",
                points=t.score,
                max_points=t.max_score,
                message=view.message or view.hidden_note or ("Passed." if view.passed else ""),
                output=output,
                images=_images(report, i),
            )
        )
    score = report.score / report.max_score if report.max_score > 0 else 0.0
    passed = sum(t.outcome == "passed" for t in report.tests)
    message = (
        f"Score: {text.points(report.score)} / {text.points(report.max_score)} "
        f"({passed} of {len(report.tests)} tests passed)."
    )
    if report.submission.problems:
        message += " There is a problem with your submission: " + report.submission.problems[0]
    results = PLResults(
        score=max(0.0, min(1.0, score)), message=message, tests=tests, osgrade=_record(report)
    )
    return fit(results, limit).model_dump(mode="json")


def size(results: PLResults) -> int:
    return len(json.dumps(results.model_dump(mode="json"), ensure_ascii=False).encode("utf-8"))


def fit(results: PLResults, limit: int = SIZE_LIMIT) -> PLResults:
    """Drop pictures, then cut outputs, until the JSON is under ``limit`` bytes."""
    if size(results) <= limit:
        return results
    tests = [t.model_copy(update={"images": []}) for t in results.tests]
    results = results.model_copy(
        update={"tests": tests, "images": [], "message": f"{results.message} {IMAGES_DROPPED}"}
    )
    cap = max((len(t.output) for t in tests), default=0)
    while size(results) > limit and cap > 0:
        cap //= 2
        tests = [
            t.model_copy(update={"output": t.output[:cap] + _CUT_MARK})
            if len(t.output) > cap
            else t
            for t in tests
        ]
        results = results.model_copy(update={"tests": tests})
    if OUTPUT_CUT not in results.message and any(_CUT_MARK in t.output for t in tests):
        results = results.model_copy(update={"message": f"{results.message} {OUTPUT_CUT}"})
    return results
