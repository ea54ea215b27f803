"""The Gradescope autograder zip, run for real in a temporary root laid out like /autograder.

setup.sh runs for real (without apt, and with pip offline: osgrade comes from the wheel in
the zip, its dependencies from this test run through a .pth file); run_autograder then
grades a correct and a broken submission, and every results.json is checked against
Gradescope's autograder specification (checker below, written from its specs page).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from platform_helpers import SAMPLES, add_test_deps, assignment_names, grader_location

from grader.cli import main
from grader.course.gradescope import install_into
from grader.engine.assignment import find_assignment

VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
TOP = {
    "score", "execution_time", "output", "output_format", "test_output_format",
    "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard",
}  # fmt: skip
TEST = {
    "score", "max_score", "status", "name", "name_format", "number", "output",
    "output_format", "tags", "visibility", "extra_data",
}  # fmt: skip


def check_gradescope(data: Any) -> None:
    """results.json as Gradescope's autograder specification describes it."""
    assert isinstance(data, dict) and set(data) <= TOP, set(data) - TOP
    tests = data.get("tests", [])
    assert "score" in data or all("score" in t for t in tests), "a score is required"
    if "score" in data:
        assert isinstance(data["score"], (int, float)) and not isinstance(data["score"], bool)
    if "execution_time" in data:
        assert isinstance(data["execution_time"], int) and data["execution_time"] >= 0
    for key in ("output",):
        assert isinstance(data.get(key, ""), str)
    for key in ("visibility", "stdout_visibility"):
        assert data.get(key, "visible") in VISIBILITY
    assert data.get("output_format", "text") in FORMATS
    assert isinstance(data.get("extra_data", {}), dict)
    assert isinstance(tests, list)
    for t in tests:
        assert isinstance(t, dict) and set(t) <= TEST, set(t) - TEST
        for key in ("score", "max_score"):
            if key in t:
                assert isinstance(t[key], (int, float)) and not isinstance(t[key], bool)
        assert t.get("status", "passed") in ("passed", "failed")
        assert isinstance(t.get("name", ""), str) and isinstance(t.get("number", ""), str)
        assert isinstance(t.get("output", ""), str)
        assert t.get("visibility", "visible") in VISIBILITY
        assert t.get("output_format", "text") in FORMATS
        assert all(isinstance(x, str) for x in t.get("tags", []))
    json.dumps(data, allow_nan=False)


METADATA = {
    "id": 123456,
    "created_at": "2026-12-02T14:22:32.365935-07:00",
    "assignment": {
        "due_date": "2026-12-01T23:00:00.000000-07:00",
        "group_size": None,
        "group_submission": False,
        "id": 25828,
        "course_id": 1234,
        "late_due_date": None,
        "release_date": "2026-11-02T00:00:00.000000-07:00",
        "title": "Scheduling",
        "total_points": "100.0",
    },
    "submission_method": "upload",
    "users": [{"email": "student@example.com", "id": 1234, "name": "Student User"}],
    "previous_submissions": [],
}


def export(name: str, out: Path) -> Path:
    target = out / "autograder.zip"
    assert main(["export", "gradescope", name, "-o", str(target), "--max-examples", "4"]) == 0
    return target


def test_zip_has_the_two_scripts_at_its_root(tmp_path: Path) -> None:
    with zipfile.ZipFile(export("scheduling", tmp_path)) as zf:
        names = zf.namelist()
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
    assert "setup.sh" in names and "run_autograder" in names
    assert modes["setup.sh"] & 0o100 and modes["run_autograder"] & 0o100
    assert any(n.startswith("osgrade/wheels/osgrade-") and n.endswith(".whl") for n in names)
    assert "osgrade/assignments/scheduling/properties.py" in names
    assert "osgrade/reference/scheduling/policies.py" in names
    assert not any("/samples/" in n for n in names), "samples stay out of the autograder"


def _run(script: Path, root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(script)],
        cwd=root,
        env={**os.environ, "OSGRADE_AUTOGRADER_ROOT": str(root), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _submit(root: Path, files: Path | None) -> None:
    sub = root / "submission"
    shutil.rmtree(sub, ignore_errors=True)
    sub.mkdir()
    if files is not None:
        for f in files.iterdir():
            shutil.copy(f, sub / f.name)
    shutil.rmtree(root / "results", ignore_errors=True)


def _results(root: Path) -> dict[str, Any]:
    data = json.loads((root / "results" / "results.json").read_text())
    check_gradescope(data)
    return data


@pytest.mark.parametrize("name", assignment_names())
def test_autograder_runs_for_real(tmp_path: Path, name: str) -> None:
    assignment = find_assignment(name)
    root = tmp_path / "autograder"
    source = install_into(export(name, tmp_path), root)

    setup = _run(
        source / "setup.sh",
        root,
        OSGRADE_SKIP_APT="1",
        OSGRADE_PIP_OPTS="--no-index --no-deps",
        # the interpreter this run's dependencies were installed for (they are shared below)
        OSGRADE_PYTHON=getattr(sys, "_base_executable", sys.executable),
    )
    assert setup.returncode == 0, setup.stderr
    python = root / "osgrade-venv" / "bin" / "python"
    installed = grader_location(python)
    assert installed.startswith(str(root / "osgrade-venv")), installed  # from the bundled wheel
    add_test_deps(python)

    _submit(root, assignment.reference_dir)
    (root / "submission_metadata.json").write_text(json.dumps(METADATA))
    done = _run(root / "run_autograder", root)
    assert done.returncode == 0, done.stderr
    good = _results(root)
    assert good["score"] == assignment.max_score
    assert all(t["status"] == "passed" for t in good["tests"])
    seen = good["extra_data"]["gradescope"]
    assert seen["submission_id"] == 123456 and seen["late"] is True
    assert seen["users"] == [{"id": 1234, "name": "Student User", "email": "student@example.com"}]
    (root / "submission_metadata.json").unlink()

    _submit(root, assignment.template_dir)
    assert _run(root / "run_autograder", root).returncode == 0
    broken = _results(root)
    assert broken["score"] == 0 and broken["tests"]
    assert any(t["status"] == "failed" for t in broken["tests"])
    assert "gradescope" not in broken["extra_data"]

    _submit(root, None)  # nothing submitted
    assert _run(root / "run_autograder", root).returncode == 0
    empty = _results(root)
    assert empty["score"] == 0
    assert "is missing" in empty["output"]


def test_a_broken_autograder_still_writes_valid_results(tmp_path: Path) -> None:
    root = tmp_path / "autograder"
    source = install_into(export("scheduling", tmp_path), root)
    _submit(root, SAMPLES / "rr_new_before_expired")
    # osgrade never installed (setup.sh did not run): the script's own fallback answers.
    done = _run(root / "run_autograder", root)
    assert done.returncode == 0
    data = _results(root)
    assert data["score"] == 0 and "Grading failed" in data["output"]
    assert "exited with status" in data["extra_data"]["grader_error"]

    # osgrade runs but the assignment is broken: a zero with the traceback for staff only.
    (source / "osgrade" / "assignments" / "scheduling" / "properties.py").unlink()
    venv = root / "osgrade-venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (venv / "python").chmod(0o755)
    done = _run(root / "run_autograder", root)
    assert done.returncode == 0
    data = _results(root)
    assert data["score"] == 0 and data["tests"] == []
    assert "properties" in data["extra_data"]["grader_error"]
    assert "Traceback" not in data["output"]
