"""The plot picture kind (used by iomux's cost model): layout, SVG, text form, escaping."""

from __future__ import annotations

from pydantic import TypeAdapter

from grader.engine.results import (
    AssignmentInfo,
    Counterexample,
    GradeReport,
    Picture,
    PlotPicture,
    PlotSeries,
    SubmissionInfo,
    TestResult,
)
from grader.report.figures import STYLES, layout_figure
from grader.report.plot import nice_step, text_plot
from grader.report.render import environment, render_html, render_test_markdown
from grader.report.view import build_view, prepare_test


def plot(label: str = "select (yours)") -> PlotPicture:
    return PlotPicture(
        title="Descriptors examined per call",
        x_label="watched descriptors n",
        y_label="descriptors examined",
        series=[
            PlotSeries(label="select (Linux)", points=[(1, 5), (64, 131), (128, 259)], dashed=True),
            PlotSeries(label=label, points=[(1, 1), (64, 64), (128, 128)]),
            PlotSeries(label="epoll_wait", points=[(1, 1), (64, 1), (128, 1)], colour=2),
        ],
        caption="Dashed: Linux.",
    )


def failing(picture: PlotPicture) -> TestResult:
    return TestResult(
        id="cost-select",
        name="cost",
        number="13",
        max_score=4,
        score=0,
        outcome="failed",
        visibility="visible",
        message="too cheap",
        counterexample=Counterexample(inputs={}, snippet="print(1)", picture=picture),
    )


def test_plot_round_trips_and_is_registered_with_its_styles() -> None:
    adapter = TypeAdapter(Picture)
    again = adapter.validate_json(adapter.dump_json(plot()))
    assert again == plot() and type(again) is PlotPicture
    fig = layout_figure(plot(), "plot-1")
    assert fig.kind == "plot" and fig.template == "plot.svg.j2"
    assert "plot.css.j2" in STYLES
    environment().get_template("plot.css.j2")


def test_plot_layout_puts_points_inside_the_frame_with_nice_ticks() -> None:
    chart = layout_figure(plot(), "plot-1").chart
    for line in chart.lines:
        for m in line.markers:
            assert chart.left <= m.x <= chart.right and chart.top <= m.y <= chart.bottom
    assert [t.label for t in chart.y_ticks][:3] == ["0", "50", "100"]
    first, second, third = reversed(chart.lines)  # drawn last to first: the first on top
    assert first.css == "line dashed" and second.css == "line"
    assert first.colour == second.colour != third.colour
    assert chart.legend[0].label == "select (Linux)"
    assert nice_step(259, 6) == 50 and nice_step(0.3, 6) == 0.05


def test_plot_text_form_is_an_aligned_table_of_every_point() -> None:
    lines = text_plot(plot())
    header, rule, *rows, unit = lines
    assert header.split("|")[0].strip() == "watched descriptors n"
    assert set(rule.strip()) <= {"-", "+"}
    assert [r.split("|")[0].strip() for r in rows] == ["1", "64", "128"]
    assert rows[1].split("|")[1].strip() == "131" and unit == "  (descriptors examined)"
    assert len({line.index("|") for line in [header, *rows]}) == 1


def test_plot_renders_escaped_in_html_and_markdown() -> None:
    evil = plot(label="<script>alert(1)</script>")
    report = GradeReport(
        osgrade_version="0",
        assignment=AssignmentInfo(name="iomux", title="I/O", version="1"),
        submission=SubmissionInfo(path="s", files={}),
        started_at="2026-12-01T00:00:00+00:00",
        duration_s=0,
        seed=1,
        score=0,
        max_score=4,
        tests=[failing(evil)],
    )
    html = render_html(build_view(report, "student"))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'class="plot"' in html and "<polyline" in html and "stroke-dasharray" in html
    md = render_test_markdown(prepare_test(failing(evil), "student"))
    assert "```text" in md and "watched descriptors n" in md


def test_an_empty_plot_says_so() -> None:
    empty = PlotPicture(x_label="x", y_label="y", series=[])
    chart = layout_figure(empty, "p").chart
    assert chart.empty and chart.lines == ()
    html = environment().get_template("plot.svg.j2").render(chart=chart)
    assert "No data to draw." in html
