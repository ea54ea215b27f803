"""Grades that never lie, whatever breaks: regrades, grader crashes, bad input, stopped code.

- Regrading the same submission gives the same results (timings and timestamps aside).
- When the grader itself fails, a valid results.json is still written with score 0; the
  traceback goes only to staff (extra_data, staff.html, report.json), students get a short,
  safe sentence, and the exit code is 1.
- Bad command-line input (a broken assignment.toml, an unknown assignment, a missing
  submission, a file that is not a zip, a zip with unsafe paths) gives one error line that
  names the thing, and exit code 2. (tests/test_cli.py and tests/test_grading.py check the
  exit codes of some of these; here the shape of the message is checked for all of them.)
- When student code is stopped (timeout, memory limit, crash) the student is told what
  happened in the test where it happened.
"""

from __future__ import annotations

import html
import json
import re
import zipfile
from functools import cache
from pathlib import Path

import pytest

from grader.cli import main
from grader.engine.assignment import Assignment, Limits, find_assignment
from grader.engine.grade import grade
from grader.engine.results import GradeReport
from grader.report import write_outputs
from grader.report.gradescope import GradescopeResults
from grader.report.view import GRADER_FAILED

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ROOT / "assignments"
SAMPLES = ASSIGNMENTS / "scheduling" / "samples"
REFERENCE = ROOT / "reference" / "scheduling" / "policies.py"


# Touching memory is slow on some VMs (about 0.5 GB/s here): a small address-space cap makes
# the memory hog hit MemoryError well before the call timeout, as it would on a fast machine.
MEMORY_MB = 384


@cache
def assignment(timeout: float) -> Assignment:
    a = find_assignment("scheduling", ASSIGNMENTS)
    spec = a.spec.model_copy(update={"limits": Limits(call_timeout_s=timeout, memory_mb=MEMORY_MB)})
    return Assignment(spec=spec, directory=a.directory)


# ----------------------------------------------------------------------------- regrades


def _comparable(report: GradeReport, out: Path) -> dict[str, object]:
    """Everything a regrade must reproduce: the model, results.json and report.md, minus
    timings, timestamps and the worker's uid slot (which the machine assigns)."""
    model = report.model_dump(exclude={"started_at", "duration_s"})
    for t in model["tests"]:
        del t["duration_s"]
    model["isolation"].pop("uid", None)
    results = json.loads((out / "results.json").read_text())
    del results["execution_time"]
    results["extra_data"]["osgrade"]["isolation"].pop("uid", None)
    md = (out / "report.md").read_text().splitlines()
    md = [line for line in md if " · took " not in line]  # the header: when, and how long
    return {"model": model, "results.json": results, "report.md": md}


def test_regrading_five_times_gives_identical_results(tmp_path: Path) -> None:
    seen = []
    for run in range(5):
        report = grade(
            assignment(5.0),
            SAMPLES / "rr_new_before_expired",
            max_examples=15,
            only=["fcfs-reference", "rr-reference"],
        )
        out = tmp_path / f"run{run}"
        write_outputs(report, out)
        seen.append(_comparable(report, out))
    first = seen[0]
    failed = [t for t in first["model"]["tests"] if t["outcome"] != "passed"]  # type: ignore[index]
    assert failed and all(t["counterexample"] for t in failed)  # shrunk inputs are compared too
    for other in seen[1:]:
        assert other == first


# ----------------------------------------------------------------------------- grader failure

BUG = "osgrade-internal-bug-5d1c: the property runner fell over"


def test_grader_failure_still_writes_valid_results_for_staff_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import grader.engine.grade as grade_module

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError(BUG)

    monkeypatch.setattr(grade_module, "run_property", broken)
    out = tmp_path / "out"
    code = main(
        [
            "grade",
            "scheduling",
            str(ROOT / "reference" / "scheduling"),
            "--out",
            str(out),
            "--test",
            "fcfs-reference",
            "--max-examples",
            "3",
            "--assignments",
            str(ASSIGNMENTS),
        ]
    )
    assert code == 1
    assert BUG in capsys.readouterr().err  # the operator's console

    results = json.loads((out / "results.json").read_text())
    GradescopeResults.model_validate(results)
    assert results["score"] == 0
    assert BUG in results["extra_data"]["grader_error"]
    assert "Traceback (most recent call last)" in results["extra_data"]["grader_error"]
    assert BUG in html.unescape((out / "staff.html").read_text())
    assert BUG in (out / "report.json").read_text()

    student = dict(results)
    del student["extra_data"]
    shown = {
        "results.json": json.dumps(student),
        "report.html": html.unescape((out / "report.html").read_text()),
        "report.md": (out / "report.md").read_text(),
    }
    for name, text in shown.items():
        assert BUG not in text, name
        assert "Traceback" not in text, name
        assert "grade.py" not in text, name
    assert GRADER_FAILED in shown["report.html"]
    assert "Grading failed" in results["output"]


# ----------------------------------------------------------------------------- usage errors


def _zip(path: Path, entries: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in entries.items():
            zf.writestr(zipfile.ZipInfo(name), text)
    return path


def _bad_toml(tmp: Path) -> list[str]:
    d = tmp / "broken"
    d.mkdir()
    (d / "assignment.toml").write_text('name = "broken"\ntitle = \n')
    return [str(d), str(ROOT / "reference" / "scheduling")]


# case -> (arguments, words that must be in the message: the thing named, and the fix)
USAGE = {
    "malformed assignment.toml": (
        _bad_toml,
        ["assignment.toml", "is not valid TOML", "line 2"],
    ),
    "unknown assignment": (
        lambda tmp: ["no-such-assignment", str(tmp)],
        [
            "'no-such-assignment'",
            "known: deadlock, iomux, memory, scheduling, sync",
            "osgrade list",
        ],
    ),
    "missing submission folder": (
        lambda tmp: ["scheduling", str(tmp / "nowhere")],
        ["nowhere does not exist", "check the path"],
    ),
    "file that is not a zip": (
        lambda tmp: ["scheduling", str(_text_file(tmp / "sub.zip"))],
        ["sub.zip is neither a directory nor a zip", "give the folder"],
    ),
    "zip with a .. path": (
        lambda tmp: ["scheduling", str(_zip(tmp / "up.zip", {"../evil.py": "x = 1\n"}))],
        ["up.zip", "unsafe path '../evil.py'"],
    ),
    "zip with an absolute path": (
        lambda tmp: ["scheduling", str(_zip(tmp / "abs.zip", {"/tmp/evil.py": "x = 1\n"}))],
        ["abs.zip", "unsafe path '/tmp/evil.py'"],
    ),
}


def _text_file(path: Path) -> Path:
    path.write_text("not a zip\n")
    return path


@pytest.mark.parametrize("case", sorted(USAGE))
def test_usage_error_is_one_line_naming_the_thing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_args, words = USAGE[case]
    out = tmp_path / "out"
    code = main(
        ["grade", *make_args(tmp_path), "--out", str(out), "--assignments", str(ASSIGNMENTS)]
    )
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("osgrade: error: ")
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "Traceback" not in captured.err + captured.out
    assert not out.exists()  # nothing was graded, so nothing is written


@pytest.mark.parametrize(
    ("case", "fix"),
    [
        ("malformed assignment.toml", "fix"),
        ("zip with a .. path", "zip"),
    ],
)
@pytest.mark.xfail(
    strict=False,
    reason="the message names the problem but not the fix (assignment.py / submission.py)",
)
def test_usage_error_says_how_to_fix_it(
    case: str, fix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_args, _ = USAGE[case]
    assert main(["grade", *make_args(tmp_path), "--assignments", str(ASSIGNMENTS)]) == 2
    line = capsys.readouterr().err.strip()
    # After naming the thing, a clause that tells the user what to do.
    assert re.search(r"; (use|give|fix|check|zip|remove|make)\b", line), line
    assert fix in line.split(";", 1)[-1]


# ----------------------------------------------------------------------------- stopped code

SJF_DISPATCH = "        return heapq.heappop(self.heap)[2] if self.heap else None\n"
RR_DISPATCH = "        return (self.queue.popleft(), self.quantum) if self.queue else None\n"
STOPPED = {
    # SJF hangs (bounded), STCF crashes the interpreter, RoundRobin exhausts memory.
    "class SJF(Scheduler)": (
        SJF_DISPATCH,
        "        import time\n\n"
        "        end = time.monotonic() + 30\n"
        "        while time.monotonic() < end:\n"
        "            pass\n" + SJF_DISPATCH,
    ),
    "class STCF(Scheduler)": (
        SJF_DISPATCH,
        "        import os\n        import signal\n\n"
        "        os.kill(os.getpid(), signal.SIGSEGV)\n" + SJF_DISPATCH,
    ),
    "class RoundRobin(Scheduler)": (
        RR_DISPATCH,
        "        hoard = [bytearray(64 << 20) for _ in range(128)]  # 8 GiB\n"
        "        del hoard\n" + RR_DISPATCH,
    ),
}


def _stopping_submission(folder: Path) -> Path:
    text = REFERENCE.read_text()
    for cls, (old, new) in STOPPED.items():
        start = text.index(cls)
        at = text.index(old, start)
        text = text[:at] + new + text[at + len(old) :]
    folder.mkdir()
    (folder / "policies.py").write_text(text)
    return folder


def test_students_are_told_where_and_why_their_code_was_stopped(tmp_path: Path) -> None:
    sub = _stopping_submission(tmp_path / "sub")
    report = grade(
        assignment(1.0),
        sub,
        max_examples=10,
        only=["fcfs-reference", "sjf-reference", "stcf-rule", "rr-reference"],
    )
    by_id = {t.id: t for t in report.tests}
    assert by_id["fcfs-reference"].outcome == "passed"  # the untouched class keeps its points

    hung = by_id["sjf-reference"]
    assert hung.outcome == "timeout" and hung.score == 0
    assert "stopped after 1 s" in hung.message and "infinite loop" in hung.message

    died = by_id["stcf-rule"]
    assert died.outcome == "crashed" and died.score == 0
    assert "died (signal SIGSEGV)" in died.message

    hog = by_id["rr-reference"]
    assert hog.score == 0
    assert hog.outcome in ("error", "crashed"), hog
    assert "MemoryError" in hog.message or "exhaust memory" in hog.message, hog.message
    for t in (hung, died, hog):
        assert t.counterexample is not None, t.id  # the input that stopped it

    # The student's report puts each explanation under the test where it happened.
    out = tmp_path / "out"
    write_outputs(report, out)
    md = (out / "report.md").read_text()
    cards = {c.split("\n", 1)[0]: c for c in md.split("\n## ")[1:]}
    for t in (hung, died, hog):
        heading = next(h for h in cards if t.name in h)
        first = t.message.split(":")[0]
        assert first in re.sub(r"\\(.)", r"\1", cards[heading]), (t.id, heading)
    results = json.loads((out / "results.json").read_text())
    for t in results["tests"]:
        if t["name"] == hung.name:
            assert "stopped after 1 s" in t["output"]
