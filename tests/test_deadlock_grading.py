"""End to end: the deadlock reference, template and every sample graded through the real worker.

Each sample's NOTES.md ends in "Must lose: <test ids>." and the sample must lose points in
exactly those tests (seeded, so deterministic), with a readable counterexample. The samples
of parts 1 to 4 carry no primitives.py and are graded on parts 1 to 4; the part 5 samples
(``dining_*``) are graded on part 5: the tests they must lose at the real budget, the
others at a light one (the reference passes them at the real budget).
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
from grader.engine.results import GradeReport, GraphPicture, LanesPicture, TablePicture
from grader.report.render import render_html, render_markdown
from grader.report.view import build_view
from grader.simos.sync.schedule import decode

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assignments" / "deadlock" / "samples"
FAST = 20  # examples per property for the samples (seeded, so deterministic)
MORE: dict[str, int] = {}  # samples whose bug needs a larger budget (none at present)
# The explorer's budget for part 5 tests a sample must pass (the reference passes the real one).
LIGHT = {"max_schedules": 40, "random_schedules": 3, "pct_schedules": 3}


@cache
def assignment(timeout: float | None = None, light: tuple[str, ...] = ()) -> Assignment:
    """The deadlock assignment; ``light``: tests whose explorer budget is LIGHT."""
    a = find_assignment("deadlock", ROOT / "assignments")
    update: dict[str, object] = {}
    if timeout is not None:
        update["limits"] = Limits(call_timeout_s=timeout)
    if light:
        tests = [
            t.model_copy(update={"params": {**t.params, **LIGHT}}) if t.id in light else t
            for t in a.spec.tests
        ]
        update["tests"] = tests
    return Assignment(spec=a.spec.model_copy(update=update), directory=a.directory)


ALL = [t.id for t in assignment().spec.tests]
PART5 = [i for i in ALL if i.startswith("philosophers-")]
PARTS_1_TO_4 = [i for i in ALL if i not in PART5]


def graded(name: str, examples: int | None = None) -> GradeReport:
    """``name`` graded once per session (a 1 s call timeout, for the infinite loop)."""
    return _graded(name, examples or MORE.get(name, FAST))


def _path(name: str) -> Path:
    return SAMPLES / name if (SAMPLES / name).is_dir() else ROOT / name


@cache
def _graded(name: str, examples: int) -> GradeReport:
    path = _path(name)
    if name.startswith("dining_"):
        return _graded_part5(name, path, examples)
    if (path / "primitives.py").is_file():  # the template, correct_alt: every test
        return grade(assignment(1.0), path, max_examples=examples)
    return grade(assignment(1.0), path, max_examples=examples, only=PARTS_1_TO_4)


def _graded_part5(name: str, path: Path, examples: int) -> GradeReport:
    """Part 5 only: the tests ``name`` must lose at the real budget, the others light (but
    the naive version's, whose search stops at the deadlock it must find)."""
    real = [i for i in PART5 if i in must_lose(name) or i == "philosophers-naive"]
    light = tuple(i for i in PART5 if i not in real)
    return grade(assignment(1.0, light), path, max_examples=examples, only=PART5)


def must_lose(name: str) -> set[str]:
    text = (SAMPLES / name / "NOTES.md").read_text().strip()
    assert "\n" not in text, f"{name}/NOTES.md must be one line"
    m = re.search(r"Must lose: (.+)\.$", text)
    assert m, f"{name}/NOTES.md must end with 'Must lose: <test ids>.'"
    if m.group(1) == "all tests":
        return set(PARTS_1_TO_4)  # a part 1 to 4 sample: graded without part 5
    ids = {x.strip() for x in m.group(1).split(",")}
    assert ids <= set(ALL), ids
    if name.startswith("dining_"):
        assert ids <= set(PART5), ids
    else:
        assert not ids & set(PART5), f"{name} has no primitives.py: it cannot run part 5"
    return ids


def outcomes(report: GradeReport) -> dict[str, str]:
    return {t.id: t.outcome for t in report.tests}


SAMPLE_NAMES = sorted(p.name for p in SAMPLES.iterdir() if (p / "NOTES.md").is_file())


def test_every_sample_has_notes_and_its_modules() -> None:
    dirs = sorted(p.name for p in SAMPLES.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert [d for d in dirs if d != "correct_alt"] == SAMPLE_NAMES
    for d in dirs:
        assert (SAMPLES / d / "deadlock.py").is_file(), d
        has = (SAMPLES / d / "primitives.py").is_file()
        assert has == (
            d == "correct_alt" or (d.startswith("dining_") and d != "dining_no_primitives")
        ), d


def test_points_add_up_and_tests_are_a_mix() -> None:
    tests = assignment().spec.tests
    assert sum(t.points for t in tests) == 100
    assert {t.visibility for t in tests} >= {"visible", "hidden", "after_due_date"}
    assert 0 < sum(t.public for t in tests) < len(tests)


def test_reference_full_marks() -> None:
    """Parts 1 to 4 at 60 examples; part 5 at its real budget is in the `validate` test."""
    report = grade(
        assignment(), ROOT / "reference" / "deadlock", max_examples=60, only=PARTS_1_TO_4
    )
    assert report.score == report.max_score == 84, outcomes(report)
    assert all(t.examples >= 60 for t in report.tests)


def test_the_template_and_reference_carry_the_sync_assignments_primitives() -> None:
    for folder in ("reference", "student_template"):
        mine = ROOT / folder / "deadlock" / "primitives.py"
        assert mine.read_text() == (ROOT / folder / "sync" / "primitives.py").read_text()
    files = {p.name for p in (ROOT / "reference" / "deadlock").iterdir() if p.is_file()}
    assert files == {
        p.name for p in (ROOT / "student_template" / "deadlock").iterdir() if p.is_file()
    }


def test_template_scores_zero() -> None:
    report = graded("student_template/deadlock", examples=5)
    assert report.score == 0
    assert {t.outcome for t in report.tests} == {"error"}
    assert all("NotImplementedError" in t.message for t in report.tests)


def test_correct_alternative_full_marks() -> None:
    """Its philosophers on another correct Mutex, at a light explorer budget (the reference
    passes the real one)."""
    path = SAMPLES / "correct_alt"
    report = grade(assignment(1.0, tuple(PART5)), path, max_examples=FAST)
    assert report.score == report.max_score == 100, outcomes(report)


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
    and not n.startswith("dining_")
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


def test_the_gate_refuses_what_could_reach_the_explorer() -> None:
    """Part 5 runs next to the student's code: the gate reads the source before anything runs."""
    report = graded("os_exit", examples=5)
    assert report.score == 0
    problem = report.submission.problems[0]
    assert "deadlock.py:" in problem and "`import os` is not allowed" in problem
    assert "`._exit` is private to another object" in problem
    assert all(t.message == problem and t.outcome == "error" for t in report.tests)


def test_syntax_error_names_file_and_line() -> None:
    report = graded("syntax_error", examples=5)
    assert report.score == 0
    problem = report.submission.problems[0]
    assert "Syntax error" in problem and "deadlock.py:" in problem
    assert all(t.message == problem for t in report.tests)


def test_cli_validate_reference_full_template_zero(capsys: pytest.CaptureFixture[str]) -> None:
    """The reference at the real budget of every test, part 5's explorer searches included."""
    code = main(["validate", "deadlock", "--max-examples", "10", "--no-mutation"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok   reference" in out and "100/100" in out and "ok   template" in out


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


DINING_BUGGY = [n for n in SAMPLE_NAMES if n.startswith("dining_") and n != "dining_no_primitives"]


@pytest.mark.parametrize("sample", DINING_BUGGY)
def test_dining_failure_shows_the_interleaving_and_replays(sample: str) -> None:
    report = graded(sample)
    for t in report.tests:
        if t.outcome == "passed":
            continue
        assert t.outcome == "failed", (t.id, t.outcome, t.message)
        cx = t.counterexample
        assert cx is not None and t.message
        if t.id == "philosophers-naive":  # no deadlock: nothing to draw, the search to run
            assert "No deadlock" in t.message and "explore_here(" in cx.snippet
            continue
        assert isinstance(cx.picture, LanesPicture), t.id
        assert cx.picture.steps and cx.picture.replay
        plan = decode(cx.picture.replay)
        assert plan.scenario["kind"] == "philosophers"
        assert f'replay_here("{cx.picture.replay}")' in cx.snippet


def test_dining_without_primitives_says_what_to_copy() -> None:
    report = graded("dining_no_primitives")
    for t in report.tests:
        assert t.outcome == "error" and "primitives.py is missing" in t.message, t.message


def test_dining_lost_wakeup_names_the_sleeper_and_replays_on_the_cli(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = graded("dining_all_at_once_lost_wakeup")
    t = next(t for t in report.tests if t.id == "philosophers-all-at-once")
    assert t.message.startswith("Lost wake-up: T")
    assert "table.changed.wait() forever although both its forks" in t.message
    assert t.counterexample is not None and isinstance(t.counterexample.picture, LanesPicture)
    schedule = t.counterexample.picture.replay
    path = SAMPLES / "dining_all_at_once_lost_wakeup"
    code = main(["check", "deadlock", str(path), "--replay", f"{t.id}={schedule}"])
    out = capsys.readouterr().out
    assert code == 0 and "Lost wake-up" in out, out


def test_dining_livelock_is_named_with_its_fix() -> None:
    report = graded("dining_release_no_backoff")
    t = next(t for t in report.tests if t.id == "philosophers-release-retry")
    assert t.message.startswith("Livelock (or a loop that never ends): ")
    assert "call yield_cpu() after putting a fork down" in t.message
    assert t.counterexample is not None and isinstance(t.counterexample.picture, LanesPicture)
    assert any(s.kind == "repeat" for s in t.counterexample.picture.steps)


def test_dining_deadlock_draws_the_wait_for_cycle() -> None:
    report = graded("dining_all_at_once_no_wait")
    t = next(t for t in report.tests if t.id == "philosophers-all-at-once")
    assert t.message.startswith("Deadlock: every thread is blocked.")
    assert (
        "waits for table.lock, which T1 holds" in t.message and "Cycle: T0 → T1 → T0." in t.message
    )
    assert t.counterexample is not None and isinstance(t.counterexample.picture, LanesPicture)
    assert t.counterexample.picture.cycle == [0, 1]
    md = render_markdown(build_view(report, "student"))
    assert "Cycle: T0 → T1 → T0." in md
