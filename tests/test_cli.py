"""The command line as a user runs it: a real subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_list_shows_the_scheduling_assignment() -> None:
    done = run("list")
    assert done.returncode == 0
    # One line per assignment, sorted by name: other assignments may come first.
    line = next(x for x in done.stdout.splitlines() if x.startswith("scheduling "))
    assert "18 tests, 100 points" in line


def test_version_and_usage_errors() -> None:
    assert run("--version").stdout.startswith("osgrade ")
    bad = run("grade")
    assert bad.returncode == 2 and "usage:" in bad.stderr
    missing = run("grade", "scheduling", "no/such/dir")
    assert missing.returncode == 2
    assert "does not exist" in missing.stderr


def test_broken_assignment_file_is_named(tmp_path: Path) -> None:
    d = tmp_path / "broken"
    d.mkdir()
    (d / "assignment.toml").write_text('name = "broken"\ntitle = 3\n')
    done = run("grade", str(d), str(ROOT / "reference" / "scheduling"))
    assert done.returncode == 2
    assert str(d / "assignment.toml") in done.stderr
    assert "field title" in done.stderr


def test_check_one_public_test_on_the_template() -> None:
    done = run(
        "check",
        "scheduling",
        "student_template/scheduling",
        "--test",
        "fcfs-reference",
        "--max-examples",
        "3",
    )
    assert done.returncode == 0, done.stderr
    assert "Score: 0 / 8" in done.stdout
    assert "NotImplementedError" in done.stdout


def test_reduced_isolation_is_announced_never_silent(tmp_path: Path) -> None:
    import os

    done = subprocess.run(
        [
            *(sys.executable, "-m", "grader", "grade", "scheduling", "reference/scheduling"),
            *("--test", "fcfs-reference", "--max-examples", "3", "--out", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "OSGRADE_ISOLATION": "minimal"},
    )
    assert done.returncode == 0, done.stderr
    assert "warning: reduced isolation" in done.stderr
    assert (tmp_path / "results.json").is_file()
