"""The report layer: Gradescope results.json, HTML/Markdown reports, Gantt geometry, files.

Reports are built by hand: a passing test, a failing visible one with a Gantt picture, a
failing hidden one whose inputs carry HIDDEN_MARKER, an after_due_date one and a timeout.
Regenerate the Markdown snapshot with ``UPDATE_SNAPSHOTS=1 python -m pytest tests/test_report.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from grader.engine.results import (
    SCHEMA_VERSION,
    AssignmentInfo,
    Counterexample,
    GanttPicture,
    GradeReport,
    Segment,
    SubmissionInfo,
    TestResult,
)
from grader.report import (
    GradescopeResults,
    GradescopeTest,
    build_view,
    layout_gantt,
    render_html,
    render_markdown,
    summary,
    text_gantt,
    to_gradescope,
    write_failure_results,
    write_outputs,
)
from grader.report.gantt import MAX_WINDOW, PALETTE, nice_step
from grader.report.text import code_block, md_escape

SNAPSHOTS = Path(__file__).parent / "snapshots"

HIDDEN_MARKER = "ZQX-HIDDEN-7731"
STAFF_MARKER = "STAFF-ONLY-4410"

SNIPPET = """\
from grader.simos.scheduling import Job, simulate
from policies import RoundRobin

jobs = [
    Job(id=0, arrival=0, bursts=(5,), priority=0),
    Job(id=1, arrival=1, bursts=(3,), priority=0),
    Job(id=2, arrival=2, bursts=(4, 2, 1), priority=1),
]
trace = simulate(jobs, RoundRobin(quantum=2), switch_cost=1)
for seg in trace.normalized().segments:
    print(seg.start, seg.end, 'job', seg.job, seg.kind.value)"""


def _segs(*spec: tuple[int, int, int, str]) -> list[Segment]:
    return [Segment(start=a, end=b, job=j, kind=k) for a, b, j, k in spec]  # type: ignore[arg-type]


EXPECTED = _segs(
    (0, 2, 0, "run"),
    (2, 3, 1, "switch"),
    (3, 5, 1, "run"),
    (5, 6, 2, "switch"),
    (6, 8, 2, "run"),
    (8, 9, 0, "switch"),
    (9, 11, 0, "run"),
    (11, 12, 1, "switch"),
    (12, 13, 1, "run"),
    (13, 14, 2, "switch"),
    (14, 16, 2, "run"),
    (16, 17, 0, "switch"),
    (17, 18, 0, "run"),
    (20, 21, 2, "switch"),
    (21, 22, 2, "run"),
)
ACTUAL = _segs(
    (0, 2, 0, "run"),
    (2, 3, 1, "switch"),
    (3, 5, 1, "run"),
    (5, 6, 0, "switch"),
    (6, 8, 0, "run"),
    (8, 9, 2, "switch"),
    (9, 11, 2, "run"),
    (11, 12, 1, "switch"),
    (12, 13, 1, "run"),
    (13, 14, 0, "switch"),
    (14, 15, 0, "run"),
    (15, 16, 2, "switch"),
    (16, 18, 2, "run"),
    (20, 21, 2, "switch"),
    (21, 22, 2, "run"),
)
PICTURE = GanttPicture(jobs=[0, 1, 2], expected=EXPECTED, actual=ACTUAL, mark=5)


def _test(number: int, **kw: object) -> TestResult:
    base: dict[str, object] = {
        "id": f"t{number}",
        "number": str(number),
        "max_score": 8.0,
        "score": 0.0,
        "visibility": "visible",
        "examples": 200,
        "duration_s": 0.8,
    }
    base.update(kw)
    return TestResult.model_validate(base)


def sample_tests() -> list[TestResult]:
    """A passing test, a failing visible one with a Gantt chart, a hidden one, ..."""
    return [
        _test(
            1,
            name="FCFS: same schedule as the reference",
            score=8.0,
            outcome="passed",
            public=True,
            tags=["fcfs", "differential"],
        ),
        _test(
            2,
            name="Round Robin: same schedule as the reference",
            outcome="failed",
            tags=["rr", "differential"],
            message="Your schedule differs from the reference schedule.",
            examples=37,
            counterexample=Counterexample(
                inputs={"policy": "RoundRobin", "params": {"quantum": 2}, "jobs": [1, 2, 3]},
                snippet=SNIPPET,
                expected="0-2 J0, 2-3 switch→J1, 3-5 J1, 5-6 switch→J2, 6-8 J2",
                actual="0-2 J0, 2-3 switch→J1, 3-5 J1, 5-6 switch→J0, 6-8 J0",
                divergence=(
                    "At t=5 the reference switches to job 2 but yours switches to job 0: "
                    "job 2 has waited longer in the ready queue."
                ),
                picture=PICTURE,
            ),
            staff_note=f"shrunk in 14 steps {STAFF_MARKER}",
        ),
        _test(
            3,
            name="STCF: same schedule as the reference",
            outcome="failed",
            visibility="hidden",
            tags=["stcf"],
            message="Your schedule differs from the reference schedule.",
            counterexample=Counterexample(
                inputs={"policy": "STCF", "jobs": [{"id": 0, "note": HIDDEN_MARKER}]},
                snippet=f"jobs = [Job(id=0, arrival=0, bursts=(3,))]  # {HIDDEN_MARKER}",
                expected=f"0-3 J0 {HIDDEN_MARKER}",
                actual=f"0-2 J0 {HIDDEN_MARKER}",
                divergence=f"At t=2 {HIDDEN_MARKER}",
                picture=GanttPicture(
                    jobs=[0], expected=_segs((0, 3, 0, "run")), actual=_segs((0, 2, 0, "run"))
                ),
            ),
        ),
        _test(
            4,
            name="SJF: minimal average turnaround when all jobs arrive together",
            outcome="failed",
            max_score=3.0,
            visibility="after_due_date",
            tags=["sjf", "theory"],
            message="SJF should minimise the average turnaround time here.",
            counterexample=Counterexample(
                inputs={"policy": "SJF", "jobs": []},
                snippet="jobs = []  # after the due date",
                expected="0-1 J0",
                actual="0-1 J1",
            ),
        ),
        _test(
            5,
            name="MLFQ: same schedule as the reference",
            outcome="timeout",
            tags=["mlfq"],
            message=(
                "Your code was stopped after 5 s without finishing "
                "(an infinite loop, or far too slow)."
            ),
            counterexample=Counterexample(
                inputs={"policy": "MLFQ", "jobs": [{"id": 0}]},
                snippet="jobs = [Job(id=0, arrival=0, bursts=(1,))]",
            ),
        ),
    ]


def sample_report(**kw: object) -> GradeReport:
    tests = sample_tests()
    base: dict[str, object] = {
        "osgrade_version": "0.1.0",
        "assignment": AssignmentInfo(
            name="scheduling", title="CPU scheduling: FCFS, SJF, STCF, RR, MLFQ", version="2026.1"
        ),
        "submission": SubmissionInfo(path="/submissions/alice", files={"policies.py": "ab12" * 16}),
        "started_at": "2026-11-28T14:03:09+00:00",
        "duration_s": 12.34,
        "seed": 20261128,
        "score": sum(t.score for t in tests),
        "max_score": sum(t.max_score for t in tests),
        "tests": tests,
        "isolation": {"uid_drop": True, "bubblewrap": False, "rlimits": ["as", "cpu", "fsize"]},
        "environment": {"python": "3.11.7", "hypothesis": "6.112.0"},
    }
    base.update(kw)
    return GradeReport.model_validate(base)


# ----------------------------------------------------------------------------- Gradescope

TOP_KEYS = {
    "score",
    "execution_time",
    "output",
    "output_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
}
TEST_KEYS = {
    "name",
    "number",
    "score",
    "max_score",
    "status",
    "output",
    "output_format",
    "tags",
    "visibility",
}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def test_results_json_validates_with_exactly_gradescopes_keys() -> None:
    data = to_gradescope(sample_report())
    GradescopeResults.model_validate(data)
    json.dumps(data)  # plain JSON types only
    assert set(data) == TOP_KEYS
    assert data["visibility"] == "visible" and data["stdout_visibility"] == "hidden"
    assert data["output_format"] in FORMATS
    assert isinstance(data["execution_time"], int) and data["execution_time"] == 13
    for t in data["tests"]:
        assert set(t) == TEST_KEYS
        assert t["status"] in ("passed", "failed")
        assert t["output_format"] in FORMATS
        assert isinstance(t["number"], str)
    assert [t["status"] for t in data["tests"]] == ["passed"] + ["failed"] * 4
    assert [t["visibility"] for t in data["tests"]] == [
        "visible",
        "visible",
        "hidden",
        "after_due_date",
        "visible",
    ]


def test_results_json_scores_add_up() -> None:
    data = to_gradescope(sample_report())
    assert data["score"] == sum(t["score"] for t in data["tests"]) == 8.0
    assert sum(t["max_score"] for t in data["tests"]) == 35.0


def test_results_json_records_the_run_for_staff() -> None:
    extra = to_gradescope(sample_report())["extra_data"]
    run = extra["osgrade"]
    assert run["schema_version"] == SCHEMA_VERSION == 2
    assert run["seed"] == 20261128
    assert run["assignment_version"] == "2026.1"
    assert run["isolation"]["uid_drop"] is True
    assert STAFF_MARKER in extra["staff_notes"]["t2"]


def test_gradescope_model_rejects_a_misspelt_field() -> None:
    with pytest.raises(ValidationError):
        GradescopeTest.model_validate(
            {
                "name": "a",
                "number": "1",
                "score": 1,
                "max_score": 1,
                "status": "passed",
                "output": "",
                "tags": [],
                "visibility": "visible",
                "max_scroe": 1,
            }
        )


def test_failing_visible_test_output_has_the_counterexample() -> None:
    out = to_gradescope(sample_report())["tests"][1]["output"]
    assert "Your schedule differs" in out
    assert "```python\nfrom grader.simos.scheduling import Job, simulate" in out
    assert "switch→J0" in out  # yours
    assert "First difference:** At t=5" in out
    assert "^ first difference (t=5)" in out  # the text Gantt chart
    assert STAFF_MARKER not in out


def test_hidden_test_output_is_the_message_only() -> None:
    out = to_gradescope(sample_report())["tests"][2]["output"]
    assert out.strip() == "Your schedule differs from the reference schedule."


def test_after_due_date_test_output_has_the_counterexample() -> None:
    # Gradescope itself holds it back until the due date.
    out = to_gradescope(sample_report())["tests"][3]["output"]
    assert "jobs = []  # after the due date" in out


def test_grader_error_scores_zero_and_stays_in_extra_data() -> None:
    secret = "Traceback: KeyError in props.py GRADER-SECRET-99"
    report = sample_report(grader_error=secret)
    data = to_gradescope(report)
    GradescopeResults.model_validate(data)
    assert data["score"] == 0 and data["tests"] == []
    assert "Grading failed" in data["output"] and "staff" in data["output"]
    assert secret not in data["output"]
    assert data["extra_data"]["grader_error"] == secret


def test_write_failure_results_without_a_report(tmp_path: Path) -> None:
    path = write_failure_results(
        tmp_path / "out", "boom SECRET-TB", assignment="scheduling", seed=7, duration_s=2.2
    )
    data = json.loads(path.read_text())
    GradescopeResults.model_validate(data)
    assert set(data) == TOP_KEYS
    assert data["score"] == 0 and data["tests"] == [] and data["execution_time"] == 3
    assert "SECRET-TB" not in data["output"]
    assert data["extra_data"]["grader_error"] == "boom SECRET-TB"
    assert data["extra_data"]["osgrade"]["seed"] == 7


# ----------------------------------------------------------------------------- who sees what


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("report")
    written = write_outputs(sample_report(), out)
    return {name: path.read_text(encoding="utf-8") for name, path in written.items()}


def test_write_outputs_writes_the_five_files(tmp_path: Path) -> None:
    written = write_outputs(sample_report(), tmp_path / "a" / "b")
    assert set(written) == {"results.json", "report.json", "report.html", "report.md", "staff.html"}
    assert all(p.parent == tmp_path / "a" / "b" and p.stat().st_size > 0 for p in written.values())
    write_outputs(sample_report(), tmp_path / "a" / "b")  # overwriting is fine
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == sorted(
        written
    )  # no temp files


def test_report_json_is_the_canonical_model(outputs: dict[str, str]) -> None:
    assert GradeReport.model_validate_json(outputs["report.json"]) == sample_report()


def _student_fields(results: dict[str, Any]) -> str:
    parts = [results["output"]]
    for t in results["tests"]:
        parts += [t["name"], t["output"], *t["tags"]]
    return "\n".join(parts)


@pytest.mark.parametrize("marker", [HIDDEN_MARKER, STAFF_MARKER])
def test_hidden_inputs_and_staff_notes_never_reach_students(
    outputs: dict[str, str], marker: str
) -> None:
    assert marker not in _student_fields(json.loads(outputs["results.json"]))
    assert marker not in outputs["report.html"]
    assert marker not in outputs["report.md"]
    assert marker in outputs["staff.html"]
    assert marker in outputs["report.json"]


def test_hidden_inputs_are_nowhere_in_results_json(outputs: dict[str, str]) -> None:
    assert HIDDEN_MARKER not in outputs["results.json"]


def test_student_report_holds_back_details_of_tests_that_are_not_visible(
    outputs: dict[str, str],
) -> None:
    html, md = outputs["report.html"], outputs["report.md"]
    for text in (html, md):
        assert text.count("Details are hidden for this test.") == 2  # hidden + after_due_date
        assert "# after the due date" not in text
        assert "SJF should minimise" not in text
        assert "from policies import RoundRobin" in text  # the visible failure's snippet
        assert "Your code was stopped after 5 s" in text  # the visible timeout's message
    assert "SJF should minimise" in outputs["staff.html"]


def test_staff_report_has_the_run_details(outputs: dict[str, str]) -> None:
    staff = outputs["staff.html"]
    assert "For staff" in staff and "For staff" not in outputs["report.html"]
    for fact in ("uid_drop", "rlimits", "as, cpu, fsize", "20261128", "3.11.7", "ab12ab12"):
        assert fact in staff


def test_grader_error_shown_to_staff_only(tmp_path: Path) -> None:
    secret = "Traceback: ZeroDivisionError GRADER-SECRET-42"
    written = write_outputs(sample_report(grader_error=secret), tmp_path)
    for name in ("report.html", "report.md", "results.json"):
        text = written[name].read_text()
        assert "GRADER-SECRET-42" not in _visible(name, text)
    assert "Grading failed" in written["report.html"].read_text()
    assert "Grading failed" in written["report.md"].read_text()
    assert "GRADER-SECRET-42" in written["staff.html"].read_text()


def _visible(name: str, text: str) -> str:
    return _student_fields(json.loads(text)) if name == "results.json" else text


def test_build_view_rejects_an_unknown_audience() -> None:
    with pytest.raises(ValueError, match="audience"):
        build_view(sample_report(), "teacher")  # type: ignore[arg-type]


def test_view_precomputes_labels() -> None:
    view = build_view(sample_report(), "student")
    assert (view.score, view.percent, view.percent_label) == ("8 / 35", 23, "23%")
    assert view.score_css == "score-low"
    assert view.summary == "1 of 5 tests passed"
    assert view.started == "2026-11-28 14:03 UTC" and view.duration == "12.3 s"
    assert [c.number for c in view.cards] == ["2", "3", "4", "5"]
    assert view.tests[4].outcome_word == "Timed out" and view.tests[4].css == "outcome-timeout"
    assert view.staff is None and build_view(sample_report(), "staff").staff is not None


# ----------------------------------------------------------------------------- HTML


class _Checker(HTMLParser):
    VOID = frozenset({"meta", "br", "img", "input", "link", "hr", "col", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.starts: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def _parse(html: str) -> _Checker:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.errors == [] and checker.stack == []
    return checker


@pytest.mark.parametrize("name", ["report.html", "staff.html"])
def test_html_tags_balance(outputs: dict[str, str], name: str) -> None:
    _parse(outputs[name])


def _classes(attrs: dict[str, str | None]) -> set[str]:
    return set((attrs.get("class") or "").split())


def test_html_has_an_svg_gantt_with_a_bar_per_run_segment(outputs: dict[str, str]) -> None:
    starts = _parse(outputs["report.html"]).starts
    assert sum(tag == "svg" for tag, _ in starts) == 1  # only the visible failure has a chart
    runs = [a for tag, a in starts if tag == "rect" and "bar-run" in _classes(a)]
    switches = [a for tag, a in starts if tag == "rect" and "bar-switch" in _classes(a)]
    segments = [*PICTURE.expected, *(PICTURE.actual or [])]
    assert len(runs) == sum(s.kind == "run" for s in segments)
    assert len(switches) == sum(s.kind == "switch" for s in segments)
    fills = {a["fill"] for a in runs}
    assert fills == {PALETTE[0][0], PALETTE[1][0], PALETTE[2][0]}
    assert all(a["fill"] == "url(#gantt-2-hatch)" for a in switches)
    assert 'id="gantt-2-hatch"' in outputs["report.html"]


def test_html_marks_the_first_difference(outputs: dict[str, str]) -> None:
    html = outputs["report.html"]
    chart = layout_gantt(PICTURE, "gantt-2")
    assert chart.marker is not None
    x = chart.marker.x
    assert (
        f'<line x1="{x}" y1="{chart.marker.y1}" x2="{x}" y2="{chart.marker.y2}" stroke="#D00000"'
        in html
    )
    assert "first difference (t=5)" in html


def test_html_is_self_contained(outputs: dict[str, str]) -> None:
    for name in ("report.html", "staff.html"):
        html = outputs[name]
        assert "<script" not in html.lower() and "<link" not in html.lower()
        assert "@import" not in html and "url(http" not in html
        for _tag, attrs in _parse(html).starts:
            for key in ("src", "href"):
                value = attrs.get(key) or ""
                assert not value.startswith(("http://", "https://", "//")), (key, value)
        links = re.findall(r"https?://[^\s\"'<>]+", html)
        assert set(links) <= {"http://www.w3.org/2000/svg"}


def test_autoescape_in_html_and_markdown() -> None:
    report = sample_report()
    evil = "<script>alert(1)</script>"
    tests = [
        t.model_copy(update={"name": f"{evil} {t.name}", "message": f"{t.message} <b>x</b>"})
        for t in report.tests
    ]
    report = report.model_copy(update={"tests": tests})
    html = render_html(build_view(report, "staff"))
    assert evil not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    md = render_markdown(build_view(report, "student"))
    assert evil not in md and "&lt;script&gt;" in md
    out = to_gradescope(report)["tests"][1]["output"]
    assert "<b>" not in out and "&lt;b&gt;" in out


# ----------------------------------------------------------------------------- Markdown


def test_markdown_snapshot() -> None:
    md = render_markdown(build_view(sample_report(), "student"))
    path = SNAPSHOTS / "report.md"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(md, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with UPDATE_SNAPSHOTS=1 to create it"
    assert md == path.read_text(encoding="utf-8"), "rerun with UPDATE_SNAPSHOTS=1 if intended"


def test_code_fences_outlast_backticks_inside() -> None:
    block = code_block("print('```')\n``````")
    assert block.fence == "```````"
    assert code_block("x = 1").fence == "```"
    cut = code_block("a" * 50, limit=10)
    assert cut.truncated and cut.text.startswith("a" * 10) and "40 more characters" in cut.text


def test_md_escape_neutralises_markup() -> None:
    assert md_escape("<img src=x> & [a](b) | `c`") == (
        "&lt;img src=x&gt; &amp; \\[a\\](b) \\| \\`c\\`"
    )
    assert md_escape("# not a heading\nline") == "\\# not a heading line"


# ----------------------------------------------------------------------------- Gantt geometry


def test_gantt_bars_stay_inside_the_plot() -> None:
    chart = layout_gantt(PICTURE)
    assert chart.window == (0, 22) and not chart.clipped
    assert [lane.title for lane in chart.lanes] == ["Reference (expected)", "Yours (actual)"]
    top, bottom = chart.lanes
    assert top.bottom < bottom.top  # reference above, yours below
    for lane in chart.lanes:
        assert [r.label for r in lane.rows] == ["J0", "J1", "J2"]
        for bar in lane.bars:
            assert chart.plot_left <= bar.x and bar.x + bar.width <= chart.plot_right + 0.01
            assert lane.top <= bar.y and bar.y + bar.height <= lane.bottom
    assert chart.width == 900
    assert [t.label for t in chart.ticks] == [str(t) for t in range(0, 23, 2)]
    kinds = [item.kind for item in chart.legend]
    assert kinds == ["job", "job", "job", "switch", "mark"]


def test_long_schedules_are_clipped_around_the_first_difference() -> None:
    segs = [Segment(start=t, end=t + 5, job=t // 5 % 3) for t in range(0, 1000, 5)]
    later = [s if s.start < 600 else s.model_copy(update={"job": (s.job + 1) % 3}) for s in segs]
    pic = GanttPicture(jobs=[0, 1, 2], expected=segs, actual=later, mark=600)
    chart = layout_gantt(pic)
    w0, w1 = chart.window
    assert chart.clipped and w1 - w0 == MAX_WINDOW and w0 < 600 < w1
    assert "t=1000" in chart.caption and f"t={w0}–{w1}" in chart.caption
    assert chart.marker is not None and chart.plot_left < chart.marker.x < chart.plot_right
    assert len(chart.ticks) <= 13
    assert all(
        chart.plot_left <= b.x <= chart.plot_right for lane in chart.lanes for b in lane.bars
    )
    lines = text_gantt(pic)
    assert any("only t=" in line for line in lines)
    assert max(len(line) for line in lines) < 100


def test_text_gantt_rows() -> None:
    pic = GanttPicture(
        jobs=[1, 2],
        expected=[
            Segment(start=0, end=3, job=1),
            Segment(start=3, end=4, job=2, kind="switch"),
            Segment(start=4, end=6, job=2),
            Segment(start=6, end=8, job=1),
        ],
        actual=None,
        mark=3,
    )
    lines = text_gantt(pic)
    assert "  J1 |###...##|" in lines
    assert "  J2 |   ~##  |" in lines
    assert "  (your code produced no schedule)" in lines
    caret = next(line for line in lines if "^ first difference" in line)
    row = next(line for line in lines if line.startswith("  J1 |"))
    assert caret.index("^") == row.index("|") + 1 + 3
    chart = layout_gantt(pic)
    assert chart.lanes[1].note is not None and chart.lanes[1].bars == ()


def test_nice_step() -> None:
    assert [nice_step(span, 12) for span in (5, 22, 60, 120, 1000)] == [1, 2, 5, 10, 100]


# ----------------------------------------------------------------------------- terminal


def test_terminal_summary() -> None:
    text = summary(sample_report())
    lines = text.splitlines()
    assert "Score: 8 / 35  (1 of 5 tests passed)" in lines
    assert len([line for line in lines if re.match(r"  \d  ", line)]) == 5  # one per test
    assert any("Timed out" in line and "0/8" in line for line in lines)
    assert "At t=5 the reference switches to job 2" in text
    assert HIDDEN_MARKER not in text and STAFF_MARKER not in text
    assert "\033[" not in text
    assert "\033[31m" in summary(sample_report(), color=True)


def test_terminal_summary_of_a_failed_run() -> None:
    text = summary(sample_report(grader_error="SECRET-TB"))
    assert "Grading failed" in text and "SECRET-TB" not in text


# ----------------------------------------------------------------------------- by eye


def test_html_renders_in_headless_chromium(outputs: dict[str, str], tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed")
    page = tmp_path / "report.html"
    page.write_text(outputs["report.html"], encoding="utf-8")
    shot = tmp_path / "report.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                f"--screenshot={shot}",
                "--window-size=1000,1400",
                page.as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
