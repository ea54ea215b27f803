"""End to end: the deadlock reference, template and every sample graded through the real worker.

Each sample's NOTES.md ends in "Must lose: <test ids>." and the sample must lose points in
exactly those tests (seeded, so deterministic), with a readable counterexample.
"""

from __future__ import annotations

import importlib.util
import io
import re
import sys
from contextlib import redirect_stdout
from functools import cache
from pathlib import Path

import pytest

from grader.cli import main
from grader.engine.assignment import Assignment, Limits, find_assignment
from grader.engine.grade import grade
from grader.engine.results import GradeReport, GraphPicture, TablePicture
from grader.report.render import render_html, render_markdown
from grader.report.view import build_view

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assignments" / "deadlock" / "samples"
FAST = 20  # examples per property for the samples (seeded, so deterministic)
MORE: dict[str, int] = {}  # samples whose bug needs a larger budget (none at present)


@cache
def assignment(timeout: float | None = None) -> Assignment:
    a = find_assignment("deadlock", ROOT / "assignments")
    if timeout is None:
        return a
    spec = a.spec.model_copy(update={"limits": Limits(call_timeout_s=timeout)})
    return Assignment(spec=spec, directory=a.directory)


def graded(name: str, examples: int | None = None) -> GradeReport:
    """``name`` graded once per session (a 1 s call timeout, for the infinite loop)."""
    return _graded(name, examples or MORE.get(name, FAST))


@cache
def _graded(name: str, examples: int) -> GradeReport:
    path = SAMPLES / name if (SAMPLES / name).is_dir() else ROOT / name
    return grade(assignment(1.0), path, max_examples=examples)


def must_lose(name: str) -> set[str]:
    text = (SAMPLES / name / "NOTES.md").read_text().strip()
    assert "\n" not in text, f"{name}/NOTES.md must be one line"
    m = re.search(r"Must lose: (.+)\.$", text)
    assert m, f"{name}/NOTES.md must end with 'Must lose: <test ids>.'"
    if m.group(1) == "all tests":
        return {t.id for t in assignment().spec.tests}
    ids = {x.strip() for x in m.group(1).split(",")}
    assert ids <= {t.id for t in assignment().spec.tests}, ids
    return ids


def outcomes(report: GradeReport) -> dict[str, str]:
    return {t.id: t.outcome for t in report.tests}


SAMPLE_NAMES = sorted(p.name for p in SAMPLES.iterdir() if (p / "NOTES.md").is_file())


def test_every_sample_has_notes_and_one_module() -> None:
    dirs = sorted(p.name for p in SAMPLES.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert [d for d in dirs if d != "correct_alt"] == SAMPLE_NAMES
    for d in dirs:
        assert (SAMPLES / d / "deadlock.py").is_file(), d


def test_points_add_up_and_tests_are_a_mix() -> None:
    tests = assignment().spec.tests
    assert sum(t.points for t in tests) == 100
    assert {t.visibility for t in tests} >= {"visible", "hidden", "after_due_date"}
    assert 0 < sum(t.public for t in tests) < len(tests)


def test_reference_full_marks() -> None:
    report = grade(assignment(), ROOT / "reference" / "deadlock", max_examples=60)
    assert report.score == report.max_score == 100, outcomes(report)
    assert all(t.examples >= 60 for t in report.tests)


def test_template_scores_zero() -> None:
    report = graded("student_template/deadlock", examples=5)
    assert report.score == 0
    assert {t.outcome for t in report.tests} == {"error"}
    assert all("NotImplementedError" in t.message for t in report.tests)


def test_correct_alternative_full_marks() -> None:
    report = graded("correct_alt")
    assert report.score == report.max_score, outcomes(report)


@pytest.mark.parametrize("sample", SAMPLE_NAMES)
def test_sample_loses_points_in_exactly_its_notes_tests(sample: str) -> None:
    report = graded(sample)
    failed = {t.id for t in report.tests if t.outcome != "passed"}
    assert failed == must_lose(sample), outcomes(report)
    lost = sum(t.max_score for t in report.tests if t.id in failed)
    assert report.score == report.max_score - lost
    for t in report.tests:
        assert (t.score == 0) == (t.id in failed)


BUGGY = [
    n
    for n in SAMPLE_NAMES
    if (SAMPLES / n / "NOTES.md").read_text().startswith(("Buggy", "Realistic"))
]


@pytest.mark.parametrize("sample", BUGGY)
def test_buggy_sample_counterexample_is_readable(sample: str) -> None:
    report = graded(sample)
    for t in report.tests:
        if t.outcome == "passed":
            continue
        assert t.outcome == "failed", (t.id, t.outcome, t.message)
        cx = t.counterexample
        assert cx is not None and cx.snippet.startswith("from grader.simos.deadlock import")
        assert "from deadlock import" in cx.snippet
        assert cx.expected and cx.actual and t.message
        kind = t.id.split("-")[0]
        if kind in ("cycle", "lockdep"):
            assert isinstance(cx.picture, GraphPicture), t.id
            assert len(cx.picture.panels) == 2
        else:
            assert isinstance(cx.picture, TablePicture), t.id
            assert cx.picture.mark_row is not None


def test_counterexample_is_shrunk_and_replays() -> None:
    """The reported input is small, and the snippet a student pastes shows the bug."""
    report = graded("detect_stops_early")
    t = next(t for t in report.tests if t.id == "detect-deadlocked")
    assert t.counterexample is not None
    state = t.counterexample.inputs["state"]
    assert len(state["allocation"]) <= 3
    spec = importlib.util.spec_from_file_location(
        "deadlock", SAMPLES / "detect_stops_early" / "deadlock.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    saved = sys.modules.get("deadlock")
    sys.modules["deadlock"] = mod
    try:
        out = io.StringIO()
        with redirect_stdout(out):
            exec(t.counterexample.snippet, {})
    finally:
        if saved is None:
            del sys.modules["deadlock"]
        else:
            sys.modules["deadlock"] = saved
    from grader.simos.deadlock import SystemState

    ref = assignment().reference_dir / "deadlock.py"
    spec = importlib.util.spec_from_file_location("deadlock_ref_for_test", ref)
    assert spec and spec.loader
    rmod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rmod)
    assert out.getvalue().strip() == repr(mod.detect(SystemState.from_data(state)))
    assert out.getvalue().strip() != repr(rmod.detect(SystemState.from_data(state)))


def test_the_report_draws_the_graph_and_the_table() -> None:
    report = graded("cycle_not_a_cycle")
    html = render_html(build_view(report, "staff"))
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="graph"' in html
    assert "svg.graph .node.on-cycle" in html
    md = render_markdown(build_view(report, "staff"))
    assert "one edge per line" in md and "* on the cycle" in md
    report = graded("banker_uses_maximum")
    html = render_html(build_view(report, "staff"))
    assert '<tr class="marked">' in html and "need fits?" in html


@pytest.mark.parametrize(
    ("sample", "outcome", "words"),
    [
        ("raises", "error", "KeyError"),
        ("eq_always_true", "error", "request_decision must return one of Decision.GRANT"),
        ("os_exit", "crashed", "died"),
        ("missing_function", "error", "has no function potential_deadlocks"),
        ("infinite_loop", "timeout", "stopped after 1 s"),
    ],
)
def test_broken_sample_is_graded_not_crashed(sample: str, outcome: str, words: str) -> None:
    report = graded(sample)
    broken = [t for t in report.tests if t.outcome != "passed"]
    assert broken
    for t in broken:
        assert t.outcome == outcome and t.score == 0, (t.id, t.outcome, t.message)
        assert words in t.message, (t.id, t.message)
        assert t.counterexample is not None  # the input that broke it


def test_syntax_error_names_file_and_line() -> None:
    report = graded("syntax_error", examples=5)
    assert report.score == 0
    problem = report.submission.problems[0]
    assert "Syntax error" in problem and "deadlock.py:" in problem
    assert all(t.message == problem for t in report.tests)


def test_cli_validate_reference_full_template_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "deadlock", "--max-examples", "10", "--no-mutation"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok   reference" in out and "ok   template" in out


def test_validate_fails_with_a_wrong_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The validity tests do not trust the reference: a buggy one fails validation."""
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(
        ROOT / "assignments" / "deadlock",
        root / "assignments" / "deadlock",
        ignore=shutil.ignore_patterns("samples"),
    )
    shutil.copytree(ROOT / "student_template" / "deadlock", root / "student_template" / "deadlock")
    ref = root / "reference" / "deadlock"
    ref.mkdir(parents=True)
    shutil.copy(SAMPLES / "cycle_misses_self_loops" / "deadlock.py", ref / "deadlock.py")
    shutil.copy(ROOT / "reference" / "deadlock" / "README.md", ref / "README.md")
    code = main(
        ["validate", "deadlock", "--assignments", str(root / "assignments"), "--max-examples", "15"]
    )
    out = capsys.readouterr().out
    assert code == 1 and "FAIL reference" in out
    assert "cycle-exists: failed" in out
