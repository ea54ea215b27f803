"""The batch summary page: where a class struggles. Pure data preparation; the template
``summary.html.j2`` (with ``histogram.svg.j2``) only loops over it.

Per test it shows the share of the class that did not pass and the most common *first
divergence*: the divergence sentence of each failing student's counterexample with every
number replaced by ``#``, so that "At t=3: job 1 ..." and "At t=7: job 2 ..." count as the
same mistake; one real sentence is kept as an example.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ..engine.results import GradeReport
from . import text
from .render import environment

BINS = 10
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class StudentRow:
    """One submission of the batch, as the summary shows it."""

    label: str
    status: str  # graded | skipped | timeout | crashed | unreadable | grader-error
    score: float | None
    max_score: float
    link: str  # relative path of the staff report
    note: str = ""


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str  # "40–50%"
    count_y: float


@dataclass(frozen=True, slots=True)
class Histogram:
    width: int
    height: int
    plot_left: int
    plot_bottom: int
    plot_width: int
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, str], ...]  # (x, label) under the axis
    description: str


@dataclass(frozen=True, slots=True)
class TestRow:
    __test__ = False

    id: str
    name: str
    points: str
    failed: int
    graded: int
    share: int  # percent of graded submissions that did not pass
    share_label: str
    divergence: str  # the most common pattern, "" when nobody failed
    divergence_count: int
    example: str


@dataclass(frozen=True, slots=True)
class SummaryView:
    title: str
    assignment: str
    counts: tuple[tuple[str, int], ...]  # ("graded", 48), ("timeout", 1) ...
    mean: str
    median: str
    histogram: Histogram
    tests: tuple[TestRow, ...]
    students: tuple[StudentRow, ...]
    footer: str


def pattern(sentence: str) -> str:
    return _NUMBER.sub("#", sentence).strip()


def histogram(percents: Sequence[float]) -> Histogram:
    """Ten bins of 10 percentage points (100% falls in the last one)."""
    counts = [0] * BINS
    for p in percents:
        counts[min(BINS - 1, max(0, int(p // (100 / BINS))))] += 1
    width, height, left, top, bottom = 640, 240, 44, 16, 200
    plot_w, plot_h = width - left - 16, bottom - top
    tallest = max(counts, default=0) or 1
    step = plot_w / BINS
    bars = []
    for i, c in enumerate(counts):
        h = plot_h * c / tallest
        lo, hi = i * 10, (i + 1) * 10
        bars.append(
            Bar(
                x=round(left + i * step + 3, 1),
                y=round(bottom - h, 1),
                width=round(step - 6, 1),
                height=round(h, 1),
                count=c,
                label=f"{lo}–{hi}%",
                count_y=round(bottom - h - 4, 1),
            )
        )
    ticks = tuple((round(left + i * step, 1), f"{i * 10}%") for i in range(BINS + 1))
    desc = "Score histogram: " + ", ".join(f"{b.label}: {b.count}" for b in bars)
    return Histogram(width, height, left, bottom, plot_w, tuple(bars), ticks, desc)


def _test_rows(reports: Sequence[GradeReport]) -> tuple[TestRow, ...]:
    order: dict[str, tuple[str, float]] = {}
    for r in reports:
        for t in r.tests:
            order.setdefault(t.id, (t.name, t.max_score))
    rows = []
    for test_id, (name, points) in order.items():
        results = [t for r in reports for t in r.tests if t.id == test_id]
        failing = [t for t in results if t.outcome != "passed"]
        sentences = [
            (
                t.counterexample.divergence
                if t.counterexample and t.counterexample.divergence
                else ""
            )
            or t.message
            or t.outcome
            for t in failing
        ]
        counter = Counter(pattern(s) for s in sentences)
        top, n = counter.most_common(1)[0] if counter else ("", 0)
        example = next((s for s in sentences if pattern(s) == top), "")
        share = round(100 * len(failing) / len(results)) if results else 0
        rows.append(
            TestRow(
                id=test_id,
                name=name,
                points=text.points(points),
                failed=len(failing),
                graded=len(results),
                share=share,
                share_label=f"{share}% ({len(failing)} of {len(results)})",
                divergence=top,
                divergence_count=n,
                example=example if example != top else "",
            )
        )
    return tuple(rows)


def build_summary(
    title: str,
    assignment: str,
    reports: Sequence[GradeReport],
    students: Sequence[StudentRow],
    footer: str = "",
) -> SummaryView:
    """The summary of a batch: ``reports`` are the graded ones, ``students`` every row."""
    percents = [
        100 * s.score / s.max_score for s in students if s.score is not None and s.max_score > 0
    ]
    counts = Counter(s.status for s in students)
    return SummaryView(
        title=title,
        assignment=assignment,
        counts=tuple(sorted(counts.items())),
        mean=f"{statistics.fmean(percents):.1f}%" if percents else "–",
        median=f"{statistics.median(percents):.1f}%" if percents else "–",
        histogram=histogram(percents),
        tests=_test_rows(reports),
        students=tuple(students),
        footer=footer,
    )


def render_summary(view: SummaryView) -> str:
    """A self-contained HTML page: inline CSS and SVG, no scripts, nothing fetched."""
    return environment().get_template("summary.html.j2").render(view=view)
