"""iomux end to end: the reference, the template and every sample graded through the real worker.

Each sample's NOTES.md says "Must lose: <tests>." (and maybe "May lose: <tests>."): the
sample must fail every test it must lose and pass every test it is not allowed to lose.
Grading here uses few examples and a short time budget per test (shrinking stops there),
so the whole file stays fast; the real budget is checked by `osgrade validate`.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from grader.cli import main
from grader.engine.assignment import Assignment, HypothesisSpec, Limits, find_assignment
from grader.engine.grade import grade
from grader.engine.results import GradeReport, PlotPicture, TablePicture
from grader.report.render import render_html
from grader.report.view import build_view

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assignments" / "iomux" / "samples"
BASE = find_assignment("iomux", ROOT / "assignments")
ALL = [t.id for t in BASE.spec.tests]


@cache
def assignment(timeout: float = 10.0, budget: float = 1.0) -> Assignment:
    spec = BASE.spec.model_copy(
        update={
            "limits": Limits(call_timeout_s=timeout),
            "hypothesis": HypothesisSpec(
                max_examples=BASE.spec.hypothesis.max_examples,
                seed=BASE.spec.hypothesis.seed,
                test_budget_s=budget,
            ),
        }
    )
    return Assignment(spec=spec, directory=BASE.directory)


def graded(path: Path, examples: int, only: list[str], **kw: float) -> GradeReport:
    return grade(assignment(**kw), path, max_examples=examples, only=only)


def notes(name: str) -> tuple[set[str], set[str]]:
    """(must lose, may lose) from a sample's one-line NOTES.md."""
    text = (SAMPLES / name / "NOTES.md").read_text()

    def ids(label: str) -> set[str]:
        m = re.search(label + r": ([^.(]*)", text)
        return {t.strip() for t in m.group(1).split(",")} if m else set()

    must, may = ids("Must lose"), ids("May lose")
    if "everything" in must:
        return set(ALL), set()
    if "nothing" in must:
        return set(), set()
    unknown = (must | may) - set(ALL)
    assert not unknown, f"{name}/NOTES.md names unknown tests {unknown}"
    return must, may


def outcomes(report: GradeReport) -> dict[str, str]:
    return {t.id: t.outcome for t in report.tests}


def test_every_sample_has_notes_naming_real_tests() -> None:
    names = sorted(p.name for p in SAMPLES.iterdir() if p.is_dir())
    assert len(names) == 12
    for name in names:
        assert (SAMPLES / name / "mux.py").is_file()
        assert len((SAMPLES / name / "NOTES.md").read_text().strip().splitlines()) == 1
        notes(name)


def test_reference_full_marks() -> None:
    ref = graded(ROOT / "reference" / "iomux", 25, ALL, budget=30.0)
    assert ref.score == ref.max_score == 100, outcomes(ref)
    assert all(t.examples >= 25 for t in ref.tests)


def test_correct_alternative_full_marks() -> None:
    report = graded(SAMPLES / "correct_alt", 25, ALL, budget=30.0)
    assert report.score == 100, outcomes(report)


BUGGY = [
    "et_reports_every_wait",
    "lt_drops_undrained",
    "hup_not_reported",
    "keyed_by_fd",
    "select_watched_count",
    "echo_one_read",
]


@pytest.mark.parametrize("sample", BUGGY)
def test_buggy_sample_loses_exactly_the_tests_its_notes_name(sample: str) -> None:
    must, may = notes(sample)
    lost = graded(SAMPLES / sample, 60, sorted(must))
    assert {t.id for t in lost.tests if t.outcome != "failed"} == set(), outcomes(lost)
    kept = graded(SAMPLES / sample, 15, sorted(set(ALL) - must - may), budget=30.0)
    assert {t.id for t in kept.tests if t.outcome != "passed"} == set(), outcomes(kept)
    for t in lost.tests:  # a readable counterexample: the scenario or the clients, pictured
        cx = t.counterexample
        assert t.score == 0 and cx is not None and cx.snippet and t.message, t.id
        assert "import mux" in cx.snippet
        if t.id.startswith("cost-") and "should give" not in t.message:
            assert isinstance(cx.picture, PlotPicture), t.id  # a wrong cost: the cost plot
        elif t.id.startswith("echo-"):
            assert isinstance(cx.picture, TablePicture)
        else:
            assert isinstance(cx.picture, TablePicture) and cx.picture.mark_row is not None
            assert cx.picture.columns[-1] == "yours"


def test_differential_counterexample_is_small_and_marks_the_first_difference() -> None:
    report = graded(SAMPLES / "et_reports_every_wait", 60, ["epoll-et"], budget=20.0)
    t = report.tests[0]
    assert t.outcome == "failed" and t.counterexample is not None
    pic = t.counterexample.picture
    assert isinstance(pic, TablePicture) and pic.mark_row is not None
    assert len(pic.rows) <= 8, [r[1].text for r in pic.rows]
    marked = pic.rows[pic.mark_row]
    assert marked[1].text.startswith("epoll_wait") and marked[3].tone == "bad"
    assert "should give nothing but yours gives" in t.message


def test_cost_failure_plots_select_poll_and_epoll() -> None:
    report = graded(SAMPLES / "select_watched_count", 30, ["cost-select"])
    t = report.tests[0]
    assert t.outcome == "failed" and "examines every descriptor 0 .. nfds-1" in t.message
    plot = t.counterexample.picture if t.counterexample else None
    assert isinstance(plot, PlotPicture)
    labels = [s.label for s in plot.series]
    assert labels == [
        "select (Linux)",
        "select (yours)",
        "poll (Linux)",
        "poll (yours)",
        "epoll_wait (Linux)",
        "epoll_wait (yours)",
    ]
    linux, yours = plot.series[0].points, plot.series[1].points
    assert linux[-1][1] > 2 * yours[-1][1]  # Linux's select examines nfds, the sample n
    assert max(y for _, y in plot.series[4].points) <= 1  # epoll stays flat
    html = render_html(build_view(report, "student"))
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="plot"' in html


@pytest.mark.parametrize(
    ("sample", "outcome", "words"),
    [
        ("raises", "error", "AttributeError"),
        ("eq_always_true", "error", "list of EpollEvent"),
        ("os_exit", "crashed", "died"),
        ("infinite_loop", "timeout", "stopped after 1 s"),
    ],
)
def test_broken_sample_is_graded_not_crashed(sample: str, outcome: str, words: str) -> None:
    """Every test runs: the broken ones fail as NOTES.md says, the others keep their points."""
    must, may = notes(sample)
    report = graded(SAMPLES / sample, 12, ALL, timeout=1.0)
    for t in report.tests:
        if t.id in must:
            assert t.outcome == outcome and words in t.message, (t.id, t.outcome, t.message)
            assert t.score == 0
        elif t.id not in may:
            assert t.outcome == "passed", (t.id, t.outcome, t.message)


def test_syntax_error_scores_zero_naming_file_and_line() -> None:
    report = graded(SAMPLES / "syntax_error", 2, ALL)
    assert report.score == 0
    problem = report.submission.problems[0]
    assert "Syntax error" in problem and "mux.py:" in problem
    assert all(t.message == problem for t in report.tests)


def test_cli_validate_iomux_reference_full_template_zero(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["validate", "iomux", "--max-examples", "3", "--no-mutation"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok   reference" in out and "100/100" in out
    assert "ok   template" in out and "0/100" in out
