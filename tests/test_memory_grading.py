"""The memory assignment end to end: real submissions graded through the real worker.

Every sample's NOTES.md says which tests it must lose ("Must lose: a, b (tag x only)");
these tests hold the samples to exactly that. To stay fast, the tests of the sample's
tags run with 30 examples and a short shrinking budget, the others with 3 examples (they
are the reference's code), and one test checks a fully shrunk counterexample.
"""

from __future__ import annotations

import re
import shutil
from functools import cache
from pathlib import Path

import pytest

from grader.cli import main
from grader.engine.assignment import Assignment, HypothesisSpec, Limits, find_assignment
from grader.engine.grade import grade
from grader.engine.results import FramesPicture, GradeReport, TablePicture, TestResult
from grader.report.render import render_html, render_test_markdown
from grader.report.view import build_view, prepare_test

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assignments" / "memory" / "samples"
EXAMPLES = 30
BUDGET_S = 1.0  # per test (wall): generation needs ~0.2 s, the rest of the budget shrinks


@cache
def assignment(budget: float | None = BUDGET_S, timeout: float | None = None) -> Assignment:
    a = find_assignment("memory", ROOT / "assignments")
    spec = a.spec
    if budget is not None:
        hyp = HypothesisSpec(
            max_examples=spec.hypothesis.max_examples,
            seed=spec.hypothesis.seed,
            test_budget_s=budget,
        )
        spec = spec.model_copy(update={"hypothesis": hyp})
    if timeout is not None:
        spec = spec.model_copy(update={"limits": Limits(call_timeout_s=timeout)})
    return Assignment(spec=spec, directory=a.directory)


def notes(name: str) -> tuple[set[str], set[str]]:
    """(the tests NOTES.md says the sample must lose, the tags those tests may come from)."""
    text = (SAMPLES / name / "NOTES.md").read_text()
    must = text.split("Must lose:", 1)[1]
    ids = set(re.findall(r"\b[a-z]+(?:-[a-z]+)+\b", must.split("(", 1)[0]))
    tags = set(re.findall(r"tags? ([a-z]+)(?: and ([a-z]+))? only", must)[0]) - {""}
    return ids, tags


def ids_with(tags: set[str]) -> list[str]:
    return [t.id for t in assignment().spec.tests if set(t.tags) & tags]


def split_grade(
    name: str, tags: set[str], timeout: float | None = None
) -> tuple[GradeReport, GradeReport]:
    """The sample graded on its tags' tests (properly) and on all the others (briefly)."""
    return _split_grade(name, frozenset(tags), timeout)


@cache
def _split_grade(
    name: str, tags: frozenset[str], timeout: float | None
) -> tuple[GradeReport, GradeReport]:
    a = assignment(timeout=timeout)
    mine = ids_with(tags)
    others = [t.id for t in a.spec.tests if t.id not in mine]
    path = SAMPLES / name
    return grade(a, path, max_examples=EXAMPLES, only=mine), grade(
        a, path, max_examples=3, only=others
    )


def outcomes(report: GradeReport) -> dict[str, str]:
    return {t.id: t.outcome for t in report.tests}


def test_reference_full_marks() -> None:
    report = grade(assignment(budget=None), ROOT / "reference" / "memory", max_examples=20)
    assert report.score == report.max_score == 100, outcomes(report)
    assert len(report.tests) == 25


def test_template_scores_zero() -> None:
    some = [
        "fifo-reference",
        "opt-rule",
        "tlb-reference",
        "translate-reference",
        "asid-beats-flush",
    ]
    report = grade(assignment(), ROOT / "student_template" / "memory", max_examples=3, only=some)
    assert report.score == 0 and len(report.tests) == len(some)
    assert {t.outcome for t in report.tests} == {"error"}
    assert all("NotImplementedError" in t.message for t in report.tests), [
        t.message for t in report.tests
    ]


def test_correct_alternative_full_marks() -> None:
    report = grade(assignment(), SAMPLES / "correct_alt", max_examples=20)
    assert report.score == report.max_score, outcomes(report)


BUGGY = sorted(
    p.name
    for p in SAMPLES.iterdir()
    if (p / "NOTES.md").is_file() and (p / "NOTES.md").read_text().startswith("Buggy sample:")
)


def test_the_issue_bugs_are_all_samples() -> None:
    for name in (
        "lru_no_refresh",
        "clock_hand_stuck",
        "opt_nearest",
        "tlb_no_flush",
        "offset_bits_off_by_one",
        "dirty_lost_on_tlb_hit",
    ):
        assert name in BUGGY


@pytest.mark.parametrize("name", BUGGY)
def test_buggy_sample_loses_exactly_the_tests_its_notes_name(name: str) -> None:
    must_fail, tags = notes(name)
    assert must_fail and tags, name
    mine, others = split_grade(name, tags)
    failed = {t.id for t in mine.tests if t.outcome != "passed"}
    assert must_fail <= failed, outcomes(mine)
    assert all(t.outcome == "passed" for t in others.tests), outcomes(others)
    for t in mine.tests:
        if t.id in must_fail:
            assert t.outcome == "failed" and t.score == 0, (t.id, t.outcome, t.message)
            readable_counterexample(t)


def readable_counterexample(t: TestResult) -> None:
    cx = t.counterexample
    assert cx is not None, t.id
    assert "from paging import" in cx.snippet
    assert cx.divergence and len(cx.divergence) > 40, (t.id, cx.divergence)
    assert cx.picture is not None
    if t.id == "tlb-reference":
        assert isinstance(cx.picture, TablePicture)
        return
    assert isinstance(cx.picture, FramesPicture)
    assert cx.expected and cx.actual
    if not t.id.endswith(("-reference", "-rule")):
        return  # a textbook fact: the two runs side by side, nothing to mark
    assert cx.divergence.startswith("At access ")
    if t.id.endswith("-reference"):  # differential: the first difference is marked
        assert cx.picture.actual is not None and cx.picture.mark is not None
        assert cx.divergence.startswith(f"At access {cx.picture.mark} ")


def test_divergence_sentences_explain_the_victims() -> None:
    mine, _ = split_grade("lru_no_refresh", {"lru"})
    lru = next(t for t in mine.tests if t.id == "lru-reference")
    assert lru.counterexample is not None and lru.counterexample.divergence is not None
    text = lru.counterexample.divergence
    assert re.search(
        r"the reference evicts .* \(least recently used, last used at access \d+\); yours evicts",
        text,
    ), text
    mine, _ = split_grade("tlb_no_flush", {"mmu"})
    flush = next(t for t in mine.tests if t.id == "mmu-flush-reference")
    assert flush.counterexample is not None
    assert "flushed at every context switch" in (flush.counterexample.divergence or "")


def test_counterexample_is_shrunk_and_replays() -> None:
    """With full shrinking the reported trace is tiny and really reproduces the difference."""
    from grader.simos.memory import Workload, simulate

    report = grade(
        assignment(budget=None), SAMPLES / "lru_no_refresh", max_examples=30, only=["lru-reference"]
    )
    t = report.tests[0]
    assert t.outcome == "failed" and t.counterexample is not None
    inputs = t.counterexample.inputs
    assert len(inputs["workload"]["accesses"]) <= 6
    namespace: dict[str, object] = {}
    exec(  # the snippet a student pastes, with the buggy module bound as `paging`
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('paging', {str(SAMPLES / 'lru_no_refresh' / 'paging.py')!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); sys.modules['paging'] = m\n"
        + t.counterexample.snippet.replace("print(", "(lambda *a: None)("),
        namespace,
    )
    sys_modules = __import__("sys").modules
    sys_modules.pop("paging", None)
    ref = assignment().reference_dir / "paging.py"
    import importlib.util

    spec = importlib.util.spec_from_file_location("memory_ref_for_test", ref)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    w = Workload.from_data(inputs["workload"])
    expected = simulate(w, mod.LRU())
    got = namespace["run"]
    assert [r.victim for r in got.records()] != [r.victim for r in expected.records()]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "tag", "outcome", "words"),
    [
        ("raises", "clock", "error", "AttributeError"),
        ("eq_always_true", "lru", "error", "Sneaky"),
        ("os_exit", "opt", "crashed", "died"),
        ("missing_class", "eclock", "error", "has no class EnhancedClock"),
        ("wrong_signature", "random", "error", "RandomPolicy(seed="),
    ],
)
def test_broken_sample_is_graded_not_crashed(name: str, tag: str, outcome: str, words: str) -> None:
    mine, others = split_grade(name, {tag})
    assert mine.tests[0].outcome == outcome, mine.tests[0]
    for t in mine.tests:
        # A test whose inputs never reach the broken code keeps its honest points.
        assert t.outcome in (outcome, "passed"), (t.id, t.outcome, t.message)
        if t.outcome != "passed":
            assert t.score == 0 and words in t.message, (t.id, t.message)
            assert t.counterexample is not None and "from paging import" in t.counterexample.snippet
    assert all(t.outcome == "passed" for t in others.tests), outcomes(others)


def test_infinite_loop_times_out_and_the_rest_is_graded() -> None:
    mine, others = split_grade("infinite_loop", {"clock"}, timeout=1.0)
    assert [t.outcome for t in mine.tests] == ["timeout", "timeout"]
    assert all(t.score == 0 and "stopped after 1 s" in t.message for t in mine.tests)
    assert all(t.counterexample is not None for t in mine.tests)  # the input that hung
    assert all(t.outcome == "passed" for t in others.tests), outcomes(others)


def test_syntax_error_names_file_and_line() -> None:
    report = grade(assignment(), SAMPLES / "syntax_error", max_examples=3)
    assert report.score == 0
    problem = report.submission.problems[0]
    assert "Syntax error" in problem and "paging.py:" in problem
    assert all(t.message == problem for t in report.tests)


def test_report_draws_the_frames_picture_in_html_and_markdown() -> None:
    mine, _ = split_grade("clock_hand_stuck", {"clock"})
    t = next(t for t in mine.tests if t.id == "clock-reference")
    html = render_html(build_view(mine, "student"))
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="frames"' in html
    assert "first difference (access" in html and "svg.frames" in html
    assert "<script" not in html
    md = render_test_markdown(prepare_test(t, "student"))
    assert "```text" in md and "Reference (expected)" in md and "^ first difference" in md


def test_cli_validate_reference_full_template_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "memory", "--max-examples", "3", "--no-mutation"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok   reference" in out and "ok   template" in out


def test_cli_validate_fails_when_the_reference_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reference whose FIFO refreshes on a hit fails the Belady test: the rules do not trust it."""
    root = tmp_path / "repo"
    shutil.copytree(
        ROOT / "assignments" / "memory",
        root / "assignments" / "memory",
        ignore=shutil.ignore_patterns("samples"),
    )
    shutil.copytree(ROOT / "student_template" / "memory", root / "student_template" / "memory")
    ref = root / "reference" / "memory"
    ref.mkdir(parents=True)
    shutil.copy(SAMPLES / "fifo_refresh_on_hit" / "paging.py", ref / "paging.py")
    shutil.copy(ROOT / "reference" / "memory" / "README.md", ref / "README.md")
    # Only the FIFO tests and one other (fast), and a short shrinking budget.
    toml = root / "assignments" / "memory" / "assignment.toml"
    head, *tests = toml.read_text().split("\n[[tests]]\n")
    keep = [t for t in tests if 'id = "fifo-' in t or 'id = "lru-reference"' in t]
    head = head.replace("[hypothesis]\n", "[hypothesis]\ntest_budget_s = 0.5\n")
    toml.write_text("\n[[tests]]\n".join([head, *keep]))
    code = main(
        ["validate", "memory", "--assignments", str(root / "assignments"), "--max-examples", "3"]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL reference" in out and "fifo-belady" in out and "lru-reference" not in out
    assert "ok   template" in out
