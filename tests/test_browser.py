"""The student report and the batch summary page in a real headless browser (Debian's
chromium, installed by .ci/run): no console error, no network request besides the page
itself, pictures with a size, and a screenshot kept in test-artifacts/ (gitignored)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cdp import chromium_path, inspect_page
from platform_helpers import ROOT, SAMPLES, make_tiny

from grader.cli import main

CHROMIUM = chromium_path()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's chromium)"
)
ARTIFACTS = Path(os.environ.get("OSGRADE_TEST_ARTIFACTS", ROOT / "test-artifacts"))


def _check(page: Path, shot: str) -> list[tuple[str, float, float]]:
    assert CHROMIUM is not None
    seen = inspect_page(CHROMIUM, page, ARTIFACTS / shot)
    assert seen["console_errors"] == [] and seen["exceptions"] == []
    assert seen["requests"] == [page.resolve().as_uri()], "the page fetches nothing"
    png = (ARTIFACTS / shot).read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    return seen["pictures"]


def test_student_report_renders_with_its_pictures(tmp_path: Path) -> None:
    out = tmp_path / "report"
    args = ["grade", "scheduling", str(SAMPLES / "rr_new_before_expired"), "--out", str(out)]
    assert (
        main([*args, "--max-examples", "10", "--test", "rr-reference", "--test", "fcfs-reference"])
        == 0
    )
    pictures = _check(out / "report.html", "student-report.png")
    svgs = [(w, h) for tag, w, h in pictures if tag == "svg"]
    assert svgs and all(w > 100 and h > 50 for w, h in svgs), pictures


def test_batch_summary_renders_with_its_histogram(tmp_path: Path) -> None:
    tiny = make_tiny(tmp_path / "repo")
    subs = tmp_path / "subs"
    for name, body in {
        "ada": "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n",
        "bob": "def clamp(x, lo, hi):\n    return x\n",
        "cy": "def clamp(x, lo, hi):\n    return min(x, hi)\n",
    }.items():
        (subs / name).mkdir(parents=True)
        (subs / name / "clamp.py").write_text(body)
    out = tmp_path / "out"
    assert (
        main(["batch", str(tiny), str(subs), "--out", str(out), "--jobs", "2", "--no-progress"])
        == 0
    )
    pictures = _check(out / "summary.html", "batch-summary.png")
    histogram = [(w, h) for tag, w, h in pictures if tag == "svg"]
    assert histogram and histogram[0][0] > 300 and histogram[0][1] > 100, pictures


def test_prairielearn_picture_is_a_standalone_image(tmp_path: Path) -> None:
    import base64

    from grader.engine.assignment import find_assignment
    from grader.engine.grade import grade
    from grader.report.prairielearn import to_prairielearn

    buggy = SAMPLES / "rr_new_before_expired"
    report = grade(find_assignment("scheduling"), buggy, max_examples=10, only=["rr-reference"])
    url = to_prairielearn(report)["tests"][0]["images"][0]["url"]
    image = tmp_path / "picture.svg"
    image.write_bytes(base64.b64decode(url.split(",", 1)[1]))
    pictures = _check(image, "prairielearn-picture.png")
    assert pictures and all(w > 300 and h > 100 for _, w, h in pictures), pictures
