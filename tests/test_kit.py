"""The student kit: built, installed into a fresh virtual environment from its own wheel
(offline), self-checked there on the template and on the reference's code, and every
file of it (the wheel's files included) scanned for hidden material."""

from __future__ import annotations

import ast
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from platform_helpers import ROOT, assignment_names, fresh_venv, grader_location

from grader.cli import main
from grader.engine.assignment import Assignment, find_assignment


def kit_texts(kit: Path) -> dict[str, str]:
    """Every file of the kit as text, the files inside its wheel included."""
    out: dict[str, str] = {}
    with zipfile.ZipFile(kit) as zf:
        for name in zf.namelist():
            data = zf.read(name)
            if name.endswith(".whl"):
                with zipfile.ZipFile(io.BytesIO(data)) as wheel:
                    for inner in wheel.namelist():
                        out[f"{name}!{inner}"] = wheel.read(inner).decode("utf-8", "replace")
            else:
                out[name] = data.decode("utf-8", "replace")
    return out


def _lines(paths: list[Path], minimum: int) -> set[str]:
    return {
        line.strip()
        for p in paths
        for line in p.read_text(encoding="utf-8").splitlines()
        if len(line.strip()) >= minimum
    }


def hidden_material(name: str) -> dict[str, set[str]]:
    """What must never be in a kit: hidden test names, hidden property source, reference code."""
    a = find_assignment(name)
    public_props = {t.property for t in a.spec.tests if t.public}
    names = set()
    for t in a.spec.tests:
        if not t.public:
            names |= {t.id, t.name, t.property}
    source = a.properties_path.read_text(encoding="utf-8")
    defined = {
        n.name
        for n in ast.walk(ast.parse(source))
        if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name not in public_props
    }
    public_code = list((ROOT / "grader").rglob("*.py")) + list(a.template_dir.rglob("*"))
    shared = _lines([p for p in public_code if p.is_file()], 1)
    # [kit] explain is public on purpose (how to read an answer); lines the properties share
    # with it are not hidden, but reference code in it still is.
    explain = _lines([a.explain_path], 1) if a.explain_path else set()
    props_lines = _lines([a.properties_path], 25) - shared - explain
    ref_lines = _lines(list(a.reference_dir.rglob("*.py")), 20) - shared
    defs = {f"def {d}(" for d in defined} | {f"class {d}(" for d in defined}
    public_defs = {
        line.split("(")[0] + "(" for line in shared if line.startswith(("def ", "class "))
    }
    return {
        "hidden test": names - public_props,  # searched as substrings
        "hidden property source": props_lines,  # searched as whole lines
        "hidden property definition": defs - public_defs,  # searched at the start of lines
        "reference code": ref_lines,  # searched as whole lines
    }


def find_leaks(name: str, texts: dict[str, str]) -> list[tuple[str, str, str]]:
    """(kind, what, file) for every piece of hidden material found in ``texts``."""
    lines = {f: {line.strip() for line in t.splitlines()} for f, t in texts.items()}
    leaks = []
    for kind, needles in hidden_material(name).items():
        for needle in needles:
            for file, text in texts.items():
                if kind == "hidden test":
                    found = needle in text
                elif kind == "hidden property definition":
                    found = any(line.startswith(needle) for line in lines[file])
                else:
                    found = needle in lines[file]
                if found:
                    leaks.append((kind, needle, file))
    return leaks


@pytest.mark.parametrize("name", assignment_names())
def test_the_scan_finds_planted_material(name: str) -> None:
    a = find_assignment(name)
    hidden = next(t for t in a.spec.tests if not t.public)
    planted = {
        "kit/notes.md": f"Hint: the test {hidden.id} checks a lot.",
        "kit/x.py": a.properties_path.read_text(),
        "kit/y.py": next(a.reference_dir.glob("*.py")).read_text(),
    }
    kinds = {kind for kind, _, _ in find_leaks(name, planted)}
    assert kinds == {
        "hidden test",
        "hidden property source",
        "hidden property definition",
        "reference code",
    }


@pytest.mark.parametrize("name", assignment_names())
def test_kit_installs_self_checks_and_hides_everything(tmp_path: Path, name: str) -> None:
    a = find_assignment(name)
    kit = tmp_path / f"{name}-kit.zip"
    assert main(["kit", name, "-o", str(kit)]) == 0

    texts = kit_texts(kit)
    leaks = find_leaks(name, texts)
    assert not leaks, leaks[:10]
    top = f"{name}-kit"
    assert f"{top}/solution/README.md" in texts  # the handout
    assert any(f.startswith(f"{top}/wheels/osgrade-") for f in texts)
    toml = texts[f"{top}/assignments/{name}/assignment.toml"]
    assert all(f'id = "{t.id}"' in toml for t in a.spec.tests if t.public)

    with zipfile.ZipFile(kit) as zf:
        zf.extractall(tmp_path)
    root = tmp_path / top
    python = fresh_venv(tmp_path / "venv")
    assert grader_location(python) == "", "osgrade must come from the kit, not from this checkout"
    wheel = next((root / "wheels").glob("*.whl"))
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-index", "--no-deps", str(wheel)],
        check=True,
        timeout=300,
    )
    assert grader_location(python).startswith(str(tmp_path / "venv"))
    osgrade = tmp_path / "venv" / "bin" / "osgrade"

    def check(folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(osgrade), "check", name, str(folder), *extra],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=300,
        )

    template = check(root / "solution", "--out", str(tmp_path / "report"))
    assert template.returncode == 0, template.stderr
    public = [t for t in a.spec.tests if t.public]
    assert f"Score: 0 / {sum(t.points for t in public):g}" in template.stdout
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert [t["id"] for t in report["tests"]] == [t.id for t in public]

    mine = tmp_path / "mine"
    shutil.copytree(a.reference_dir, mine)  # a student whose code is right
    good = check(mine)
    assert good.returncode == 0, good.stderr
    assert f"Score: {sum(t.points for t in public):g} / " in good.stdout


def built_kit(tmp_path: Path, name: str) -> Assignment:
    """Build the kit of ``name`` with the CLI, unzip it into ``tmp_path``, load its assignment."""
    from grader.engine.assignment import load_assignment_file

    kit = tmp_path / "kit.zip"
    assert main(["kit", name, "-o", str(kit)]) == 0
    with zipfile.ZipFile(kit) as zf:
        zf.extractall(tmp_path)
    return load_assignment_file(tmp_path / f"{name}-kit" / "assignments" / name / "assignment.toml")


def test_kit_check_reports_where_a_wrong_answer_differs(tmp_path: Path) -> None:
    from grader.engine.grade import grade

    kit_assignment = built_kit(tmp_path, "scheduling")
    buggy = ROOT / "assignments" / "scheduling" / "samples" / "rr_new_before_expired"
    report = grade(kit_assignment, buggy, mode="check")
    by = {t.id: t for t in report.tests}
    assert by["fcfs-reference"].outcome == "passed"
    rr = by["rr-reference"]
    assert rr.outcome == "failed" and rr.counterexample is not None
    cx = rr.counterexample
    assert "RoundRobin" in cx.snippet  # a snippet the student can run
    # [kit] explain: the kit shows grading's own sentence and Gantt chart, not a JSON path
    assert (tmp_path / "scheduling-kit" / "assignments" / "scheduling" / "explain.py").is_file()
    assert rr.message == "Your schedule differs from the reference schedule."
    assert cx.divergence and cx.divergence.startswith("At t=") and "yours runs" in cx.divergence
    assert cx.picture is not None and cx.picture.kind == "gantt"
    assert cx.picture.actual and cx.picture.expected != cx.picture.actual
    assert cx.expected and cx.actual and "J0" in cx.expected
    from grader.report.write import write_outputs

    page = write_outputs(report, tmp_path / "out")["report.html"].read_text(encoding="utf-8")
    assert "<svg" in page and "yours runs" in page


def test_memory_kit_shows_the_frames_picture_for_a_policy_and_for_the_mmu(tmp_path: Path) -> None:
    from grader.engine.grade import grade

    kit_assignment = built_kit(tmp_path, "memory")
    samples = ROOT / "assignments" / "memory" / "samples"
    lru = {t.id: t for t in grade(kit_assignment, samples / "lru_no_refresh", mode="check").tests}
    t = lru["lru-reference"]
    assert t.outcome == "failed" and t.counterexample is not None
    assert t.message == "Your LRU does not evict the same pages as the reference."
    assert t.counterexample.picture is not None and t.counterexample.picture.kind == "frames"
    assert t.counterexample.divergence and "least recently used" in t.counterexample.divergence
    assert lru["fifo-reference"].outcome == "passed"
    mmu = grade(kit_assignment, samples / "offset_bits_off_by_one", mode="check").tests
    t = {x.id: x for x in mmu}["translate-reference"]
    assert t.outcome == "failed" and t.counterexample is not None
    assert t.message == "Your MMU does not translate like the reference (no TLB here)."
    assert t.counterexample.picture is not None and t.counterexample.picture.kind == "frames"


def test_iomux_kit_shows_the_table_of_both_runs(tmp_path: Path) -> None:
    from grader.engine.grade import grade

    kit_assignment = built_kit(tmp_path, "iomux")
    sample = ROOT / "assignments" / "iomux" / "samples" / "lt_drops_undrained"
    by = {t.id: t for t in grade(kit_assignment, sample, mode="check").tests}
    t = by["epoll-lt"]
    assert t.outcome == "failed" and t.counterexample is not None
    assert t.message.startswith("epoll_wait: operation ") and "but yours gives" in t.message
    pic = t.counterexample.picture
    assert pic is not None and pic.kind == "table" and pic.mark_row is not None
    assert pic.columns == ["#", "operation", "expected (Linux)", "yours"]
    assert by["select-reference"].outcome == "passed"


def test_a_kit_explainer_that_fails_or_declines_leaves_the_json_difference() -> None:
    from grader.engine.props import Failure
    from grader.engine.recorded import RecordedCall, RecordedCase, _explained

    call = RecordedCall(entry="e", args={"x": 1}, reply={"a": 1})
    case = RecordedCase(inputs={"x": 1}, snippet="run()", calls=[call])

    def broken(*_: object) -> None:
        raise KeyError("jobs")

    assert _explained(broken, call, {"a": 2}, case) is None
    assert _explained(lambda *_: None, call, {"a": 2}, case) is None
    assert _explained(None, call, {"a": 2}, case) is None
    said = _explained(lambda *_: Failure("Wrong.", divergence="at 3"), call, {"a": 2}, case)
    assert said is not None and said[0] == "Wrong." and said[1].divergence == "at 3"
    assert said[1].snippet == "run()" and said[1].inputs == {"x": 1}


def test_a_kit_explain_field_names_a_file_that_exists(tmp_path: Path) -> None:
    from grader.engine.assignment import load_assignment_file
    from grader.engine.errors import ConfigError

    src = (ROOT / "assignments" / "scheduling" / "assignment.toml").read_text(encoding="utf-8")
    (tmp_path / "assignment.toml").write_text(
        src.replace('explain = "explain.py"', 'explain = "nope.py"'), encoding="utf-8"
    )
    (tmp_path / "properties.py").write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"field kit.explain: .*nope.py does not exist"):
        load_assignment_file(tmp_path / "assignment.toml")


def test_first_difference_names_the_path_and_both_values() -> None:
    from grader.engine.recorded import first_difference

    want = {"segments": [[0, 2, 1, "run"], [2, 5, 0, "run"]], "switch_cost": 0}
    assert first_difference(want, json.loads(json.dumps(want))) is None
    got = {"segments": [[0, 2, 1, "run"], [2, 4, 0, "run"]], "switch_cost": 0}
    assert first_difference(want, got) == (
        'at segments[1]: expected [2,5,0,"run"], got [2,4,0,"run"]'
    )
    assert "2 items expected" in (first_difference({"a": [[1], [2]]}, {"a": [[1]]}) or "")
    assert first_difference([1], [True]) is not None  # True is not 1 in an answer
    assert "missing" in (first_difference({"a": 1}, {}) or "")
