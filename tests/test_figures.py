"""The picture registry: every kind lays out, renders in HTML and Markdown, and escapes text."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from grader.engine.results import (
    AssignmentInfo,
    Counterexample,
    GanttPicture,
    GradeReport,
    Picture,
    Segment,
    SubmissionInfo,
    TableCell,
    TablePicture,
    TestResult,
)
from grader.report.figures import STYLES, layout_figure
from grader.report.render import environment, render_html, render_test_markdown
from grader.report.table import MAX_ROWS, layout_table
from grader.report.view import build_view, prepare_test


def table(rows: int = 3, mark: int | None = 1) -> TablePicture:
    return TablePicture(
        title="Operations",
        columns=["#", "operation", "expected", "yours"],
        rows=[
            [
                TableCell(text=str(i + 1)),
                TableCell(text=f"read(fd={i})"),
                TableCell(text="5", tone="good"),
                TableCell(
                    text="EAGAIN" if i == mark else "5", tone="bad" if i == mark else "plain"
                ),
            ]
            for i in range(rows)
        ],
        mark_row=mark,
        caption="One row per operation.",
    )


def failing(picture: Picture) -> TestResult:
    return TestResult(
        id="t",
        name="a test",
        number="3",
        max_score=5,
        score=0,
        outcome="failed",
        visibility="visible",
        message="wrong",
        counterexample=Counterexample(inputs={}, snippet="print(1)", picture=picture),
    )


def test_pictures_round_trip_through_json_by_kind() -> None:
    adapter = TypeAdapter(Picture)
    gantt = GanttPicture(jobs=[1], expected=[Segment(start=0, end=2, job=1)], mark=1)
    for picture in (gantt, table()):
        again = adapter.validate_json(adapter.dump_json(picture))
        assert again == picture and type(again) is type(picture)
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "pie", "slices": []})


def test_every_kind_has_a_layout_and_its_styles_exist() -> None:
    env = environment()
    for style in STYLES:
        env.get_template(style)  # raises if a registered stylesheet is missing
    gantt = GanttPicture(jobs=[1], expected=[Segment(start=0, end=2, job=1)])
    for picture, template in ((gantt, "gantt.svg.j2"), (table(), "table.html.j2")):
        fig = layout_figure(picture, "f-1")
        assert fig.kind == picture.kind and fig.template == template
        assert fig.text, "every figure has a text form for Markdown"
        env.get_template(fig.template)


def test_table_text_marks_the_departing_row_and_aligns_columns() -> None:
    chart = layout_table(table(rows=3, mark=1))
    header, rule, *body = chart.text
    assert header.startswith("  #") and set(rule.strip()) <= {"-", "+"}
    assert [line[:2] for line in body] == ["  ", "> ", "  "]
    assert "EAGAIN" in body[1]
    assert len({line.index("|") for line in [header, *body]}) == 1  # aligned
    assert chart.rows[1].marked and chart.rows[1].cells[3].css == "tone-bad"
    assert "marked >" in chart.text_intro


def test_a_long_table_is_cut_around_the_mark_and_says_so() -> None:
    chart = layout_table(table(rows=1000, mark=700))
    assert len(chart.rows) == MAX_ROWS
    assert any(r.marked for r in chart.rows)
    assert chart.cut_note and "of 1000" in chart.cut_note and chart.cut_note in chart.caption
    assert len(chart.text) == MAX_ROWS + 2


def test_table_renders_escaped_in_html_and_markdown() -> None:
    evil = table()
    evil = evil.model_copy(
        update={"rows": [[TableCell(text="<script>alert(1)</script>", tone="bad")]], "mark_row": 0}
    )
    view = prepare_test(failing(evil), "student")
    assert view.details is not None and view.details.figure is not None
    report = GradeReport(
        osgrade_version="0",
        assignment=AssignmentInfo(name="x", title="X", version="1"),
        submission=SubmissionInfo(path="s", files={}),
        started_at="2026-12-01T00:00:00+00:00",
        duration_s=0,
        seed=1,
        score=0,
        max_score=5,
        tests=[failing(evil)],
    )
    html = render_html(build_view(report, "student"))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<tr class="marked">' in html and "tone-bad" in html
    assert "table.picture td.tone-bad" in html  # the kind's CSS is in the page
    md = render_test_markdown(view)
    assert "```text" in md and "<script>alert(1)</script>" in md.split("```text", 1)[1]


def test_an_unknown_kind_is_a_clear_error() -> None:
    class Odd:
        kind = "pie"

    with pytest.raises(ValueError, match="no layout for picture kind 'pie'"):
        layout_figure(Odd(), "x")  # type: ignore[arg-type]
