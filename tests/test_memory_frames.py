"""The frames picture: layout, the text form, the registry, escaping."""

from __future__ import annotations

from pydantic import TypeAdapter

from grader.engine.results import (
    AssignmentInfo,
    Counterexample,
    FrameColumn,
    FramesPicture,
    GradeReport,
    Picture,
    SubmissionInfo,
    TestResult,
)
from grader.report.figures import STYLES, layout_figure
from grader.report.frames import MAX_COLUMNS, layout_frames, text_frames
from grader.report.render import environment, render_html, render_test_markdown
from grader.report.view import build_view, prepare_test


def column(cells: list[str | None], outcome: str, frame: int | None, **kw: object) -> FrameColumn:
    return FrameColumn(cells=cells, outcome=outcome, frame=frame, **kw)  # type: ignore[arg-type]


def picture(n: int = 4, mark: int | None = 3) -> FramesPicture:
    """Pages 1 2 1 3 ... with 2 frames: the reference evicts 2 at access 3, yours evicts 1."""
    expected = [
        column(["1", None], "fault", 0),
        column(["1", "2"], "fault", 1),
        column(["1", "2"], "hit", 0, dirty=True),
        column(["1", "3"], "fault", 1, evicted="2"),
    ]
    actual = [*expected[:3], column(["3", "2"], "fault", 0, evicted="1", write_back=True)]
    while len(expected) < n:
        expected.append(column(["1", "3"], "hit", 0))
        actual.append(column(["3", "2"], "hit", 1))
    return FramesPicture(
        accesses=(["1", "2", "1w", "3"] + ["1"] * n)[:n],
        expected=expected,
        actual=actual,
        mark=mark,
    )


def test_frames_pictures_round_trip_and_are_registered() -> None:
    adapter = TypeAdapter(Picture)
    p = picture()
    again = adapter.validate_json(adapter.dump_json(p))
    assert again == p and type(again) is FramesPicture
    assert "frames.css.j2" in STYLES
    fig = layout_figure(p, "frames-1")
    assert fig.kind == "frames" and fig.template == "frames.svg.j2" and fig.text
    environment().get_template(fig.template)


def test_layout_marks_the_first_difference_and_colours_the_used_cell() -> None:
    chart = layout_frames(picture(), "f")
    assert chart.marker is not None and "access 3" in chart.marker.label
    reference, yours = chart.lanes
    used = [c for c in reference.cells if c.css == "used"]
    assert [c.text for c in used] == ["1", "2", "1d", "3"]  # d: dirty after the access
    assert {c.fill for c in used} == {"#E69F00", "#009E73"}  # fault orange, hit green
    badges = [c.text for c in yours.cells if c.css == "badge"]
    assert badges == ["F", "F", "H", "F"]
    assert [lbl.text for lbl in yours.labels] == ["1*"]  # evicted, written back
    kinds = {item.label for item in chart.legend}
    assert "page fault (page loaded)" in kinds and "first difference" in kinds
    assert chart.width >= 520  # room for the titles and legend even with 4 columns


def test_a_long_trace_is_clipped_around_the_mark() -> None:
    chart = layout_frames(picture(n=200, mark=150))
    w0, w1 = chart.window
    assert w1 - w0 == MAX_COLUMNS and w0 <= 150 < w1
    assert "only accesses" in chart.caption
    assert chart.marker is not None


def test_text_form_lines_up_and_points_at_the_mark() -> None:
    lines = text_frames(picture())
    assert lines[0].startswith("access") and lines[1].startswith("page")
    assert "Reference (expected)" in lines and "Yours" in lines
    ref_row = next(ln for ln in lines if ln.startswith("  frame 1"))
    assert "[2]" in ref_row and "[3]" in ref_row
    assert any("[1d]" in ln for ln in lines)
    caret = next(ln for ln in lines if "^ first difference (access 3)" in ln)
    header = lines[0]
    assert (
        caret.index("^") == header.index("3") + 0 or abs(caret.index("^") - header.index("3")) <= 2
    )
    assert any("1*" in ln for ln in lines if ln.startswith("  evicted"))
    assert lines[-1].startswith("[x]: the frame the access used")


def test_no_run_from_the_student_is_said_in_both_forms() -> None:
    p = picture().model_copy(update={"actual": None})
    chart = layout_frames(p)
    assert chart.lanes[1].note and "no run" in chart.lanes[1].note
    assert "  (your code produced no run)" in text_frames(p)


def test_frames_render_escaped_in_html_and_markdown() -> None:
    evil = picture().model_copy(
        update={"note": "<script>alert(1)</script>", "accesses": ["<b>"] * 4}
    )
    t = TestResult(
        id="t",
        name="a test",
        number="1",
        max_score=5,
        score=0,
        outcome="failed",
        visibility="visible",
        message="wrong",
        counterexample=Counterexample(inputs={}, snippet="print(1)", picture=evil),
    )
    report = GradeReport(
        osgrade_version="0",
        assignment=AssignmentInfo(name="memory", title="M", version="1"),
        submission=SubmissionInfo(path="s", files={}),
        started_at="2026-12-01T00:00:00+00:00",
        duration_s=0,
        seed=1,
        score=0,
        max_score=5,
        tests=[t],
    )
    html = render_html(build_view(report, "student"))
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;" in html
    assert 'class="frames"' in html and "svg.frames" in html
    md = render_test_markdown(prepare_test(t, "student"))
    assert "```text" in md and "first difference (access 3)" in md
