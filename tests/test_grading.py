"""End to end: real submissions graded through the real worker subprocess."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from grader.cli import main
from grader.engine.assignment import Assignment, Limits, find_assignment
from grader.engine.grade import grade
from grader.engine.results import GradeReport

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assignments" / "scheduling" / "samples"
FAST = 60  # examples per property for the samples (seeded, so deterministic)


@cache
def assignment(timeout: float | None = None) -> Assignment:
    a = find_assignment("scheduling", ROOT / "assignments")
    if timeout is None:
        return a
    spec = a.spec.model_copy(update={"limits": Limits(call_timeout_s=timeout)})
    return Assignment(spec=spec, directory=a.directory)


@cache
def graded(name: str, examples: int = FAST, timeout: float | None = None) -> GradeReport:
    path = SAMPLES / name if (SAMPLES / name).is_dir() else ROOT / name
    return grade(assignment(timeout), path, max_examples=examples)


def outcomes(report: GradeReport) -> dict[str, str]:
    return {t.id: t.outcome for t in report.tests}


def test_reference_full_marks_with_the_real_budget() -> None:
    report = grade(assignment(), ROOT / "reference" / "scheduling")
    assert report.score == report.max_score == 100, outcomes(report)
    assert all(t.examples >= 100 for t in report.tests if "differential" in t.tags)


def test_template_scores_zero() -> None:
    report = graded("student_template/scheduling", examples=5)
    assert report.score == 0
    assert {t.outcome for t in report.tests} == {"error"}
    assert any("NotImplementedError" in t.message for t in report.tests)


def test_correct_alternative_full_marks() -> None:
    report = graded("correct_alt")
    assert report.score == report.max_score, outcomes(report)


# sample -> (tests that must fail, the tag whose tests alone may fail)
BUGGY = {
    "rr_new_before_expired": ({"rr-reference", "rr-rule"}, "rr"),
    "sjf_total_cpu": ({"sjf-reference"}, "sjf"),
    "stcf_never_preempts": ({"stcf-reference", "stcf-rule", "stcf-optimal"}, "stcf"),
    "stcf_preempts_on_tie": ({"stcf-reference"}, "stcf"),
    "priority_inverted": (
        {"priority-reference", "priority-preemptive-reference", "priority-rule"},
        "priority",
    ),
    "priority_aging_ignored": ({"priority-aging-reference"}, "priority"),
    "mlfq_resets_on_io": ({"mlfq-reference"}, "mlfq"),
    "mlfq_no_boost": ({"mlfq-reference", "mlfq-boost"}, "mlfq"),
    "mlfq_preempted_to_tail": ({"mlfq-reference"}, "mlfq"),
    "fcfs_by_arrival": ({"fcfs-reference", "fcfs-rule"}, "fcfs"),
}


@pytest.mark.parametrize("sample", sorted(BUGGY))
def test_buggy_sample_loses_points_in_the_right_tests(sample: str) -> None:
    must_fail, tag = BUGGY[sample]
    report = graded(sample)
    failed = {t.id for t in report.tests if t.outcome != "passed"}
    assert must_fail <= failed, outcomes(report)
    others = {t.id for t in report.tests if tag not in t.tags}
    assert not (failed & others), f"unrelated tests failed: {failed & others}"
    assert 0 < report.score < report.max_score
    for t in report.tests:
        if t.id in must_fail:
            assert t.outcome == "failed"
            cx = t.counterexample
            assert cx is not None and cx.snippet.startswith("from grader.simos.scheduling")
            assert "from policies import" in cx.snippet
            if t.id.endswith("reference"):
                assert cx.divergence and cx.divergence.startswith("At t=")
                assert cx.picture is not None and cx.picture.actual is not None


def test_counterexample_is_shrunk_and_replays() -> None:
    """The reported input is small and really reproduces the difference."""
    from grader.simos.scheduling import Job, simulate

    report = graded("rr_new_before_expired")
    t = next(t for t in report.tests if t.id == "rr-reference")
    assert t.counterexample is not None
    inputs = t.counterexample.inputs
    assert len(inputs["jobs"]) <= 3
    namespace: dict[str, object] = {}
    exec(  # the snippet a student pastes, with the buggy module bound as `policies`
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('policies', {str(SAMPLES / 'rr_new_before_expired' / 'policies.py')!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); sys.modules['policies'] = m\n"
        + t.counterexample.snippet.replace("print(", "(lambda *a: None)("),
        namespace,
    )
    jobs = [Job(j["id"], j["arrival"], tuple(j["bursts"]), j["priority"]) for j in inputs["jobs"]]
    ref = assignment().reference_dir / "policies.py"
    import importlib.util

    spec = importlib.util.spec_from_file_location("ref_for_test", ref)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    expected = simulate(jobs, mod.RoundRobin(**inputs["params"]), inputs["switch_cost"])
    assert namespace["trace"] != expected


@pytest.mark.parametrize(
    ("sample", "tag", "outcome", "words"),
    [
        ("raises", "rr", "error", "IndexError"),
        ("eq_always_true", "fcfs", "error", "dispatch()"),
        ("os_exit", "mlfq", "crashed", "died"),
        ("missing_class", "mlfq", "error", "has no class MLFQ"),
        ("wrong_signature", "rr", "error", "RoundRobin(quantum="),
    ],
)
def test_broken_sample_is_graded_not_crashed(
    sample: str, tag: str, outcome: str, words: str
) -> None:
    report = graded(sample)
    by_id = {t.id: t for t in report.tests}
    assert by_id[f"{tag}-reference"].outcome == outcome, by_id[f"{tag}-reference"]
    for t in report.tests:
        if tag in t.tags:
            # A test whose inputs never reach the broken code keeps its honest points.
            assert t.outcome in (outcome, "passed"), (t.id, t.outcome, t.message)
            if t.outcome != "passed":
                assert t.score == 0 and words in t.message, (t.id, t.message)
        else:
            assert t.outcome == "passed", (t.id, t.outcome, t.message)


def test_infinite_loop_times_out_and_the_rest_is_graded() -> None:
    report = graded("infinite_loop", timeout=1.0)
    stcf = [t for t in report.tests if "stcf" in t.tags]
    assert any(t.outcome == "timeout" for t in stcf)
    assert all(t.score == 0 for t in stcf if t.outcome == "timeout")
    assert all(t.outcome == "passed" for t in report.tests if "stcf" not in t.tags)
    timed = next(t for t in stcf if t.outcome == "timeout")
    assert "stopped after 1 s" in timed.message
    assert timed.counterexample is not None  # the input that hung, not a shrunk stand-in


def test_syntax_error_names_file_and_line() -> None:
    report = graded("syntax_error", examples=5)
    assert report.score == 0
    assert report.submission.problems
    problem = report.submission.problems[0]
    assert "Syntax error" in problem and "policies.py:" in problem
    assert all(t.message == problem for t in report.tests)


def test_missing_file(tmp_path: Path) -> None:
    report = grade(assignment(), tmp_path, max_examples=5)
    assert report.score == 0
    assert "policies.py is missing" in report.submission.problems[0]


def test_regrade_is_identical() -> None:
    a = graded("mlfq_preempted_to_tail", examples=40)
    b = grade(assignment(), SAMPLES / "mlfq_preempted_to_tail", max_examples=40)
    # run metadata: the times, and the uid the worker ran as (taken from a pool, so a
    # regrade beside other gradings may get another one)
    strip: dict[str, Any] = {"duration_s": True, "started_at": True, "tests": True}
    strip["isolation"] = {"uid"}
    assert a.model_dump(exclude=strip) == b.model_dump(exclude=strip)
    for x, y in zip(a.tests, b.tests, strict=True):
        dx, dy = x.model_dump(exclude={"duration_s"}), y.model_dump(exclude={"duration_s"})
        differ = {k: (dx[k], dy[k]) for k in dx if dx[k] != dy[k]}
        assert not differ, f"test {x.id} differs on regrade: {differ}"


def test_cli_grade_writes_outputs_and_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "grade",
            "scheduling",
            str(SAMPLES / "fcfs_by_arrival"),
            "--out",
            str(out),
            "--max-examples",
            "30",
            "--assignments",
            str(ROOT / "assignments"),
        ]
    )
    assert code == 0
    for name in ("results.json", "report.html", "report.md", "report.json"):
        assert (out / name).is_file(), name
    results = json.loads((out / "results.json").read_text())
    assert 0 < results["score"] < 100
    assert len(results["tests"]) == 18
    assert "fcfs-reference" not in capsys.readouterr().err

    assert main(["grade", "nope", str(tmp_path)]) == 2
    assert main(["grade", "scheduling", str(tmp_path / "missing")]) == 2
    bad = tmp_path / "bad.zip"
    bad.write_text("not a zip")
    assert main(["grade", "scheduling", str(bad)]) == 2
    assert "neither a directory nor a zip" in capsys.readouterr().err


def test_cli_check_runs_public_tests_only(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["check", "scheduling", str(ROOT / "reference" / "scheduling"), "--max-examples", "20"]
    )
    assert code == 0
    text = capsys.readouterr().out
    public = [t for t in assignment().spec.tests if t.public]
    for t in public:
        assert t.name in text
    assert "MLFQ: same schedule" not in text


def test_zip_submission(tmp_path: Path) -> None:
    import zipfile

    z = tmp_path / "sub.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(ROOT / "reference" / "scheduling" / "policies.py", "mine/policies.py")
    report = grade(assignment(), z, max_examples=10, only=["fcfs-reference"])
    assert report.score == report.max_score == 8


def test_cli_validate_reference_full_template_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "scheduling", "--max-examples", "15", "--no-mutation"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok   reference" in out and "ok   template" in out


def test_cli_validate_fails_when_the_reference_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(ROOT / "assignments" / "scheduling", root / "assignments" / "scheduling")
    shutil.copytree(
        ROOT / "student_template" / "scheduling", root / "student_template" / "scheduling"
    )
    ref = root / "reference" / "scheduling"
    ref.mkdir(parents=True)
    shutil.copy(SAMPLES / "fcfs_by_arrival" / "policies.py", ref / "policies.py")
    shutil.copy(ROOT / "reference" / "scheduling" / "README.md", ref / "README.md")
    code = main(
        [
            "validate",
            "scheduling",
            "--assignments",
            str(root / "assignments"),
            "--max-examples",
            "15",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL reference" in out


@pytest.mark.parametrize(
    ("top_level", "words"),
    [
        ("import os\nos._exit(0)\n", "died (exit code 0)"),
        ("while True:\n    pass\n", "did not finish within"),
        ("raise RuntimeError('boom')\n", "RuntimeError: boom"),
    ],
)
def test_module_that_fails_at_import_is_graded_zero(
    tmp_path: Path, top_level: str, words: str
) -> None:
    (tmp_path / "policies.py").write_text(top_level)
    report = grade(assignment(timeout=1.0), tmp_path, max_examples=5)
    assert report.score == 0
    assert words in report.submission.problems[0], report.submission.problems
    assert all(
        t.outcome == "error" and t.message == report.submission.problems[0] for t in report.tests
    )
