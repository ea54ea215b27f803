"""The sync assignment end to end: real submissions graded through the real (sandboxed) worker."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from grader.cli import main
from grader.engine.assignment import Assignment, find_assignment
from grader.engine.grade import grade
from grader.engine.isolation import probe
from grader.engine.results import GradeReport, LanesPicture
from grader.simos.sync.schedule import decode

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assignments" / "sync" / "samples"
# Smaller budgets for the reference's pass over every test (the catalogue uses the real ones).
LIGHT = {"max_schedules": 60, "random_schedules": 5, "pct_schedules": 5}
# The tests a sample is graded on here: the first ones its NOTES.md names (the whole list,
# and that every other test passes, is checked by `benchmarks/sync_explorer.py --matrix`).
FIRST = 3


@cache
def assignment(light: bool = False) -> Assignment:
    a = find_assignment("sync", ROOT / "assignments")
    if not light:
        return a
    spec = a.spec.model_copy(update={"params": {**a.spec.params, **LIGHT}})
    return Assignment(spec=spec, directory=a.directory)


def must_lose(sample: str) -> list[str]:
    found = re.search(r"\[(.*?)\]", (SAMPLES / sample / "NOTES.md").read_text())
    assert found, f"{sample}/NOTES.md names no tests"
    return [t.strip() for t in found.group(1).split(",")]


@cache
def graded(sample: str, only: tuple[str, ...] | None = None, examples: int = 3) -> GradeReport:
    path = SAMPLES / sample if (SAMPLES / sample).is_dir() else ROOT / sample
    return grade(assignment(), path, only=list(only) if only else None, max_examples=examples)


def by_id(report: GradeReport) -> dict[str, str]:
    return {t.id: t.outcome for t in report.tests}


def test_reference_full_marks_and_template_zero() -> None:
    ref = grade(assignment(light=True), ROOT / "reference" / "sync", max_examples=3)
    assert ref.score == ref.max_score == 100, by_id(ref)
    tpl = grade(assignment(light=True), ROOT / "student_template" / "sync", max_examples=2)
    assert tpl.score == 0 and {t.outcome for t in tpl.tests} == {"error"}
    assert all("NotImplementedError" in t.message for t in tpl.tests)


def test_a_correct_alternative_design_gets_full_marks() -> None:
    """No hand-off mutex, semaphore on a wait queue, condition-variable buffer, turnstiles."""
    report = grade(assignment(light=True), SAMPLES / "correct_alt", max_examples=2)
    assert report.score == report.max_score, by_id(report)


def test_threads_run_under_the_sandbox_layers() -> None:
    report = graded("spin_check_then_act", ("spin-mutex",))
    plan = probe()
    if plan.seccomp is not None:
        assert report.isolation.get("seccomp") is True
    if plan.bwrap is not None:
        assert report.isolation.get("bubblewrap") is True
    assert report.tests[0].outcome == "failed"  # the explorer's threads ran in there


REALISTIC = [
    "spin_check_then_act",
    "ticket_nonatomic",
    "mutex_no_owner_check",
    "mutex_sleep_race",
    "mutex_spins",
    "cv_wait_not_atomic",
    "sem_if_not_while",
    "sem_nonatomic_count",
    "bb_mutex_before_slot",
    "rw_readers_first",
    "barrier_signal_not_broadcast",
    "mutex_one_line_check",
    "rw_release_unlocked",
]


@pytest.mark.parametrize("sample", REALISTIC)
def test_each_catalogued_bug_loses_its_tests_with_a_readable_interleaving(sample: str) -> None:
    tests = must_lose(sample)[:FIRST]
    report = graded(sample, tuple(tests))
    for t in report.tests:
        assert t.outcome == "failed", (t.id, t.outcome, t.message)
        assert t.score == 0
        cx = t.counterexample
        assert cx is not None and isinstance(cx.picture, LanesPicture), t.id
        pic = cx.picture
        assert pic.steps and pic.outcome and len(pic.threads) >= 2
        assert pic.command == f"osgrade check sync . --replay {t.id}={pic.replay}"
        decode(pic.replay)  # a well-formed replay string
        assert pic.replay in cx.snippet and 'replay("primitives"' in cx.snippet
        assert len(decode(pic.replay).deviations) <= 6, "the counterexample is small"


def test_a_bug_costs_only_the_tests_that_depend_on_it() -> None:
    report = graded("mutex_no_owner_check", ("mutex-owner", "mutex-mutex", "cv-signal"))
    assert by_id(report) == {
        "mutex-owner": "failed",
        "mutex-mutex": "passed",
        "cv-signal": "passed",
    }


def test_regrading_gives_identical_results() -> None:
    def essence(r: GradeReport) -> list[dict[str, object]]:
        return [t.model_dump(mode="json", exclude={"duration_s"}) for t in r.tests]

    first = grade(assignment(), SAMPLES / "sem_if_not_while", only=["sem-count"], max_examples=3)
    again = grade(assignment(), SAMPLES / "sem_if_not_while", only=["sem-count"], max_examples=3)
    assert first.tests[0].outcome == "failed"
    assert json.dumps(essence(first)) == json.dumps(essence(again))


def test_the_replay_command_reproduces_the_interleaving(capsys: pytest.CaptureFixture[str]) -> None:
    t = graded("spin_check_then_act", ("spin-mutex",)).tests[0]
    assert t.counterexample is not None and isinstance(t.counterexample.picture, LanesPicture)
    case = t.counterexample.picture.replay
    code = main(
        ["check", "sync", str(SAMPLES / "spin_check_then_act"), "--replay", f"spin-mutex={case}"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Failed" in out and "0 of 1 tests passed" in out
    assert "T0" in out and "T1" in out and "preempted by the explorer" in out
    assert "entered the critical section while" in out and f"--replay spin-mutex={case}" in out
    # the reference passes the same interleaving
    assert (
        main(["check", "sync", str(ROOT / "reference" / "sync"), "--replay", f"spin-mutex={case}"])
        == 0
    )
    assert "1 of 1 tests passed" in capsys.readouterr().out


def test_a_replay_string_of_another_test_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["check", "sync", str(ROOT / "reference" / "sync"), "--replay", "spin-mutex=owner::L32:-"]
    )
    out = capsys.readouterr().out
    assert code == 0 and "for another test" in out
    main(["check", "sync", str(ROOT / "reference" / "sync"), "--replay", "spin-mutex=lock:oops"])
    assert (
        "This replay string cannot be read: a replay string has four parts"
        in capsys.readouterr().out
    )


def test_python_replay_prints_the_steps(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from grader.simos.sync import replay

    t = graded("bb_mutex_before_slot", ("bb-delivery",)).tests[0]
    assert t.counterexample is not None and isinstance(t.counterexample.picture, LanesPicture)
    monkeypatch.chdir(SAMPLES / "bb_mutex_before_slot")
    monkeypatch.syspath_prepend(str(SAMPLES / "bb_mutex_before_slot"))
    import importlib

    module = importlib.import_module("primitives")
    try:
        report = replay(module, t.counterexample.picture.replay)
    finally:
        import sys

        sys.modules.pop("primitives", None)
    out = capsys.readouterr().out
    assert report["status"] == "deadlock" and "which T0 holds" in report["message"]
    assert "calls put(100)" in out and "deadlock:" in out


# ------------------------------------------------------------------------ hostile and broken


@pytest.mark.parametrize(
    ("sample", "test", "words"),
    [
        ("bare_except_spin", "spin-mutex", "bare `except:`"),
        ("real_threading_lock", "mutex-mutex", "self.real.acquire()"),
        ("time_sleep", "spin-mutex", "time.sleep"),
        ("infinite_loop", "ticket-mutex", "without finishing"),
        ("raises", "bb-delivery", "IndexError"),
    ],
)
def test_hostile_samples_are_reported_with_the_line(sample: str, test: str, words: str) -> None:
    report = graded(
        sample, (test, "ticket-fifo" if test != "ticket-mutex" else "rw-share"), examples=2
    )
    t = next(t for t in report.tests if t.id == test)
    assert t.outcome == "failed" and words in t.message, t.message
    other = next(t for t in report.tests if t.id != test)
    # the worker is still usable after (a restarted one if a thread escaped)
    assert other.outcome in ("passed", "failed") and other.outcome != "error", other.message
    if sample == "real_threading_lock":
        assert "something the explorer does not control" in t.message


def test_a_syntax_error_scores_zero_with_the_line() -> None:
    report = graded("syntax_error", ("spin-mutex", "mutex-mutex"), examples=1)
    assert report.score == 0 and all(t.outcome == "error" for t in report.tests)
    assert "Syntax error (primitives.py:25)" in report.tests[0].message
