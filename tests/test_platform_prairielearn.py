"""PrairieLearn's external-grader layout, run for real: the course files' run.sh in a
temporary root laid out like /grade, on correct, buggy, incomplete and non-Python
submissions; the 1 MB limit checked on a report made to be too large."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from platform_helpers import SAMPLES, assignment_names

from grader.cli import main
from grader.engine.assignment import find_assignment
from grader.engine.results import Counterexample, TestResult
from grader.report.prairielearn import (
    IMAGES_DROPPED,
    OUTPUT_CUT,
    PLImage,
    PLResults,
    PLTest,
    fit,
    size,
)

TEST_KEYS = {"name", "description", "points", "max_points", "message", "output", "images"}


def check_pl(data: Any) -> None:
    """results.json as PrairieLearn's external grading documentation describes it."""
    assert isinstance(data, dict)
    assert len(json.dumps(data).encode()) <= 1_000_000
    if data.get("gradable", True) is False:
        errors = data["format_errors"]
        assert isinstance(errors, (str, list)) and errors
        return
    assert 0.0 <= data["score"] <= 1.0
    for t in data.get("tests", []):
        assert set(t) <= TEST_KEYS, set(t) - TEST_KEYS
        assert 0 <= t["points"] <= t["max_points"]
        for img in t.get("images", []):
            assert img["url"].startswith("data:image/")


def course_files(name: str, tmp: Path) -> Path:
    target = tmp / "pl.zip"
    assert main(["export", "prairielearn", name, "-o", str(target), "--max-examples", "4"]) == 0
    course = tmp / "course"
    with zipfile.ZipFile(target) as zf:
        zf.extractall(course)
    run_sh = course / "serverFilesCourse" / "osgrade" / "run.sh"
    assert (course / "Dockerfile").is_file()
    info = json.loads((course / "questions" / name / "info.json.example").read_text())
    assert info["externalGradingOptions"]["entrypoint"].endswith("/osgrade/run.sh")
    return run_sh


def grade_job(run_sh: Path, root: Path, files: dict[str, bytes]) -> dict[str, Any]:
    shutil.rmtree(root, ignore_errors=True)
    (root / "student").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "data" / "data.json").write_text(json.dumps({"params": {}, "submitted_answers": {}}))
    for name, content in files.items():
        (root / "student" / name).write_bytes(content)
    done = subprocess.run(
        ["bash", str(run_sh)],
        env={**os.environ, "OSGRADE_PL_ROOT": str(root), "OSGRADE_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    check_pl(data)
    return data


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.parametrize("name", assignment_names())
def test_reference_template_and_unreadable_submissions(tmp_path: Path, name: str) -> None:
    assignment = find_assignment(name)
    run_sh = course_files(name, tmp_path)
    root = tmp_path / "grade"
    good = grade_job(run_sh, root, _files(assignment.reference_dir))
    assert good["gradable"] is True and good["score"] == 1.0
    assert all(t["points"] == t["max_points"] for t in good["tests"])

    zero = grade_job(run_sh, root, _files(assignment.template_dir))
    assert zero["gradable"] is True and zero["score"] == 0.0

    missing = grade_job(run_sh, root, {})
    assert missing["gradable"] is False
    assert all("is missing" in e for e in missing["format_errors"])

    first = assignment.spec.submission.files[0]
    not_python = grade_job(run_sh, root, {first: b"\x89PNG\r\n\x1a\n\x00\x00binary"})
    assert not_python["gradable"] is False
    assert "not a text file" in not_python["format_errors"][0]
    syntax = grade_job(run_sh, root, {first: b"def broken(:\n"})
    assert syntax["gradable"] is False and "not valid Python" in syntax["format_errors"][0]


def test_buggy_submission_gets_partial_credit_and_pictures(tmp_path: Path) -> None:
    run_sh = course_files("scheduling", tmp_path)
    data = grade_job(run_sh, tmp_path / "grade", _files(SAMPLES / "rr_new_before_expired"))
    assert 0.0 < data["score"] < 1.0
    failed = [t for t in data["tests"] if t["points"] < t["max_points"]]
    assert failed and all(t["message"] for t in failed)
    visible = [t for t in failed if t["images"]]
    assert visible, "a visible failing test carries its Gantt chart"
    url = visible[0]["images"][0]["url"]
    assert url.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(url.split(",", 1)[1]).decode()
    assert svg.startswith("<svg") and "<script" not in svg and "href" not in svg
    hidden = [
        t
        for t in data["tests"]
        if "details hidden" in t["description"] and t["points"] < t["max_points"]
    ]
    assert all(not t["images"] and "hidden" in t["message"] for t in hidden)


def test_the_one_megabyte_limit_drops_pictures_then_cuts_outputs() -> None:
    picture = PLImage(url="data:image/svg+xml;base64," + "A" * 200_000)
    tests = [
        PLTest(name=f"t{i}", points=0, max_points=1, output="x" * 150_000, images=[picture])
        for i in range(8)
    ]
    big = PLResults(score=0.0, message="Score: 0 / 8.", tests=tests)
    assert size(big) > 2_000_000
    small = fit(big)
    assert size(small) <= 1_000_000
    assert all(not t.images for t in small.tests)
    assert IMAGES_DROPPED in small.message and OUTPUT_CUT in small.message
    assert all("shortened to fit" in t.output for t in small.tests)

    only_pictures = fit(
        big.model_copy(update={"tests": [t.model_copy(update={"output": "short"}) for t in tests]})
    )
    assert IMAGES_DROPPED in only_pictures.message and OUTPUT_CUT not in only_pictures.message
    assert [t.output for t in only_pictures.tests] == ["short"] * 8


def test_report_fields_map_onto_prairielearn() -> None:
    from grader.engine.results import AssignmentInfo, GradeReport, SubmissionInfo
    from grader.report.prairielearn import to_prairielearn

    t = TestResult(
        id="a", name="A", number="1", max_score=4, score=0, outcome="failed",
        visibility="visible", message="wrong", counterexample=Counterexample(inputs={}, snippet="x()"),
    )  # fmt: skip
    report = GradeReport(
        osgrade_version="0",
        assignment=AssignmentInfo(name="n", title="N", version="1"),
        submission=SubmissionInfo(path="p", files={}),
        started_at="2026-01-01T00:00:00+00:00",
        duration_s=1.0,
        seed=1,
        score=0,
        max_score=4,
        tests=[t],
    )
    data = to_prairielearn(report)
    assert data["score"] == 0.0 and data["tests"][0]["max_points"] == 4
    assert data["tests"][0]["message"] == "wrong" and "x()" in data["tests"][0]["output"]
