"""`osgrade batch`: a class of 50 generated submissions in the layouts platforms export,
graded by a real process pool (two tests, few examples, to stay quick), resumed, and a
grader that crashes or hangs on one submission without stopping the others."""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from platform_helpers import ROOT, SAMPLES, make_tiny

from grader.cli import main
from grader.course.batch import discover

HOSTILE = ROOT / "tests" / "hostile"
FAST_HOSTILE = [
    "os_exit_0",
    "raise_system_exit",
    "hostile_eq",
    "markup_injection",
    "exit_at_import",
]
BUGGY = [
    "correct_alt", "fcfs_by_arrival", "rr_new_before_expired", "sjf_total_cpu",
    "priority_inverted", "raises", "syntax_error", "missing_class", "wrong_signature",
]  # fmt: skip


def _policies(name: str) -> bytes:
    if name == "reference":
        return (ROOT / "reference" / "scheduling" / "policies.py").read_bytes()
    folder = HOSTILE / name if name in FAST_HOSTILE else SAMPLES / name
    return (folder / "policies.py").read_bytes()


def make_class(root: Path) -> dict[str, str]:
    """50 submissions: folders, zips, a Canvas download, Moodle folders and a Gradescope
    export; returns label -> the sample it was made from."""
    root.mkdir()
    made: dict[str, str] = {}
    kinds = ["reference", *BUGGY]
    for i in range(15):  # plain folders
        kind = kinds[i % len(kinds)]
        (root / f"student{i:02d}").mkdir()
        (root / f"student{i:02d}" / "policies.py").write_bytes(_policies(kind))
        made[f"student{i:02d}"] = kind
    for i in range(10):  # one zip each, some with a top folder
        kind = kinds[(i + 3) % len(kinds)]
        with zipfile.ZipFile(root / f"zipped{i:02d}.zip", "w") as zf:
            zf.writestr("mine/policies.py" if i % 2 else "policies.py", _policies(kind))
        made[f"zipped{i:02d}"] = kind
    for i in range(10):  # Canvas: login[_late]_userid_submissionid_file, -1 on resubmission
        kind = kinds[(i + 5) % len(kinds)]
        late = "_late" if i % 3 == 0 else ""
        name = "policies-1.py" if i % 4 == 0 else "policies.py"
        (root / f"canvas{i:02d}{late}_{9000 + i}_{500 + i}_{name}").write_bytes(_policies(kind))
        made[f"canvas{i:02d}"] = kind
    for i in range(5):  # Moodle: "Full Name_id_assignsubmission_file_"
        kind = kinds[(i + 1) % len(kinds)]
        folder = root / f"Moodle Student {i}_{7000 + i}_assignsubmission_file_"
        folder.mkdir()
        (folder / "policies.py").write_bytes(_policies(kind))
        made[f"Moodle Student {i}"] = kind
    lines = []
    for i, kind in enumerate(FAST_HOSTILE + ["reference"] * 5):  # a Gradescope export
        folder = root / f"submission_{100 + i}"
        folder.mkdir()
        (folder / "policies.py").write_bytes(_policies(kind))
        lines += [
            f"submission_{100 + i}:",
            "  :submitters:",
            f"  - :name: GS Student {i}",
            f"    :sid: '{300 + i}'",
            f"    :email: gs{i}@example.edu",
            "  :created_at: 2026-11-30 12:00:00.000000000 -08:00",
        ]
        made[f"GS Student {i}"] = kind
    (root / "submission_metadata.yml").write_text("\n".join(lines) + "\n")
    (root / ".DS_Store").write_bytes(b"junk")
    return made


def test_discovery_understands_the_export_layouts(tmp_path: Path) -> None:
    made = make_class(tmp_path / "class")
    found = discover(tmp_path / "class", tmp_path / "scratch")
    assert sorted(s.label for s in found) == sorted(made)
    by = {s.label: s for s in found}
    assert by["GS Student 2"].email == "gs2@example.edu" and by["GS Student 2"].sis_id == "302"
    assert by["canvas04"].student_id == "9004"
    assert (by["canvas04"].path / "policies.py").is_file()  # policies-1.py renamed back
    assert by["Moodle Student 3"].student_id == "7003"
    assert len({s.folder for s in found}) == len(found)


def test_batch_of_fifty_with_summary_gradebook_and_resume(tmp_path: Path) -> None:
    made = make_class(tmp_path / "class")
    out = tmp_path / "out"
    args = ["batch", "scheduling", str(tmp_path / "class"), "--out", str(out), "--jobs", "2"]
    args += ["--max-examples", "3", "--test", "fcfs-reference", "--test", "rr-reference"]
    assert main([*args, "--no-progress"]) == 0
    record = json.loads((out / "batch.json").read_text())
    entries = {e["label"]: e for e in record["entries"]}
    assert set(entries) == set(made) and len(entries) == 50
    assert all(e["status"] == "graded" for e in entries.values()), [
        (e["label"], e["status"], e["note"]) for e in entries.values() if e["status"] != "graded"
    ]
    for label, kind in made.items():
        score = entries[label]["score"]
        if kind == "reference":
            assert score == 16, (label, score)
        elif kind in ("syntax_error", "exit_at_import"):
            assert score == 0, (label, kind, score)
        elif kind in ("fcfs_by_arrival", "rr_new_before_expired"):  # wrong in a graded test
            assert score == 8, (label, kind, score)
        assert (out / "students" / entries[label]["folder"] / "report.html").is_file()

    rows = list(csv.DictReader((out / "gradebook.csv").open(encoding="utf-8")))
    assert len(rows) == 50
    gs = next(r for r in rows if r["Student"] == "GS Student 7")
    assert gs["Email"] == "gs7@example.edu" and float(gs["Total (100)"]) == 16.0
    assert gs["fcfs-reference (8)"] == "8" and gs["mlfq-reference (12)"] == ""

    page = (out / "summary.html").read_text()
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="histogram"' in page
    assert "rr-reference" in page and "Most common first divergence" in page
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")

    again = main([*args, "--no-progress"])  # resumed: nothing changed, nothing regraded
    assert again == 0
    second = json.loads((out / "batch.json").read_text())
    assert {e["status"] for e in second["entries"]} == {"skipped"}
    assert second["duration_s"] < record["duration_s"] / 3

    changed = tmp_path / "class" / "student00" / "policies.py"
    changed.write_bytes(_policies("fcfs_by_arrival"))
    main([*args, "--no-progress"])
    third = {e["label"]: e for e in json.loads((out / "batch.json").read_text())["entries"]}
    assert third["student00"]["status"] == "graded" and third["student00"]["score"] < 16
    assert sum(e["status"] == "graded" for e in third.values()) == 1


def test_a_crashing_or_hanging_grader_stops_only_its_submission(tmp_path: Path) -> None:
    tiny = make_tiny(tmp_path / "repo")
    subs = tmp_path / "subs"
    bodies = {
        "good": "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n",
        "bad": "def clamp(x, lo, hi):\n    return x\n",
        "crash": "CRASH_THE_GRADER = 1\ndef clamp(x, lo, hi):\n    return x\n",
        "hang": "HANG_THE_GRADER = 1\ndef clamp(x, lo, hi):\n    return x\n",
    }
    for name, body in bodies.items():
        (subs / name).mkdir(parents=True)
        (subs / name / "clamp.py").write_text(body)
    (subs / "notazip.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    out = tmp_path / "out"
    args = ["batch", str(tiny), str(subs), "--out", str(out), "--jobs", "2", "--timeout", "6"]
    assert main([*args, "--no-progress"]) == 0
    entries = {e["label"]: e for e in json.loads((out / "batch.json").read_text())["entries"]}
    assert entries["good"]["status"] == "graded" and entries["good"]["score"] == 4
    assert entries["bad"]["status"] == "graded" and entries["bad"]["score"] < 4
    assert entries["crash"]["status"] == "crashed" and "exited with 7" in entries["crash"]["note"]
    assert entries["hang"]["status"] == "timeout" and "6 s" in entries["hang"]["note"]
    for label in ("crash", "hang"):
        results = json.loads((out / "students" / label / "results.json").read_text())
        assert results["score"] == 0 and "grader_error" in results["extra_data"]
    page = (out / "summary.html").read_text()
    assert "timeout" in page and "crashed" in page
    rows = {r["Student"]: r for r in csv.DictReader((out / "gradebook.csv").open())}
    assert rows["hang"]["Total (4)"] == "0" and rows["good"]["Total (4)"] == "4"

    shutil.rmtree(subs / "hang")
    shutil.rmtree(subs / "crash")
    assert main([*args, "--no-progress", "--force"]) == 0
    forced = json.loads((out / "batch.json").read_text())["entries"]
    assert {e["label"]: e["status"] for e in forced} == {"good": "graded", "bad": "graded"}


def test_progress_bar_estimates_the_time_left() -> None:
    import io

    from grader.course.progress import Progress

    stream = io.StringIO()
    bar = Progress(20, stream=stream, label="grading ")
    bar.advance("a (already graded)", worked=False)  # skipped items do not count in the ETA
    assert bar.eta(19) is None and "ETA --" in stream.getvalue()
    bar.started -= 10.0  # as if the first real item took 10 s
    bar.advance("b: graded 8/16")
    assert bar.eta(18) == pytest.approx(180.0, rel=0.05)
    assert any(f"ETA {t}" in bar.line() for t in ("3m00s", "2m59s", "3m01s"))
    for _ in range(18):
        bar.advance("c")
    lines = stream.getvalue().splitlines()
    assert lines[-1].startswith("grading [########################] 20/20 100% took ")
    assert len(lines) <= 12  # not a tty: about one line per tenth of the way
