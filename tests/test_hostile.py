"""The hostile-submission suite: every folder in tests/hostile graded through the real worker.

Each folder holds a policies.py (the reference, or the empty template, plus ONE hostile
twist; see tests/hostile/make_hostile.py) and a one-line NOTES.md. For each submission:

1. no point the code did not earn: every test scores exactly what the plain reference
   (or template) scores with the same settings, except the tests the twist breaks, which
   score 0 (with the outcome and words the case names);
2. nothing hidden in any student-facing output (report.html, report.md, results.json
   outside extra_data): no line of the reference or of the hidden properties longer than
   30 characters (unless it is also in the submission or the public template), no input
   of a hidden test, none of the grader's environment, none of the submission's fake output;
3. the tests the twist does not reach are still graded normally;
4. results.json is valid Gradescope JSON;
5. grading takes less than ``BOUND_S`` seconds (a safety bound, not a benchmark);
6. no process is left behind: after each case, /proc is scanned for processes whose
   command line holds the case's private temporary folder (every worker, its children and
   any escaped daemon run from a copy of worker_main.py there); survivors are killed, then
   reported.

Some twists are contained only by an optional isolation layer (bubblewrap, the uid drop,
seccomp; see grader/engine/isolation.py). When none of a case's layers is on, the case is
marked xfail (not strict) with the reason, so the suite states the gap instead of hiding it.
A few representative cases also run with the layers forced off (``minimal``), so the
fallback paths are exercised on every machine.
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from grader.engine.assignment import Assignment, Limits, find_assignment
from grader.engine.grade import grade
from grader.engine.results import GradeReport
from grader.engine.worker import Worker
from grader.report import write_outputs
from grader.report.gradescope import GradescopeResults

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"
REFERENCE = ROOT / "reference" / "scheduling" / "policies.py"
TEMPLATE = ROOT / "student_template" / "scheduling" / "policies.py"
PROPERTIES = ROOT / "assignments" / "scheduling" / "properties.py"

TIMEOUT_S = 2.0  # per call (the assignment says 5 s; shorter keeps the hanging cases quick)
EXAMPLES = 10
# Touching memory runs at about 0.5 GB/s on some VMs: a small cap lets the memory bombs hit
# MemoryError well within TIMEOUT_S, as they would on a fast machine.
MEMORY_MB = 384
BOUND_S = 30.0  # wall time of one case, outputs included
TESTS = ("fcfs-reference", "fcfs-rule", "stcf-reference", "rr-reference")
HANG = ("fcfs-reference", "rr-reference")  # cases that hang or thrash: one victim test
FCFS = frozenset({"fcfs-reference", "fcfs-rule"})
ALL = frozenset({"*"})  # every test of the case
HIDDEN_INPUT = "from policies import STCF"  # only stcf-reference (visibility hidden) uses STCF
MARKER = "HOSTILE-MARKER"
LAYERS = ("uid_drop", "bubblewrap", "seccomp")
GRADER_FILES = {"results.json", "report.json", "report.html", "report.md", "staff.html"}


@dataclass(frozen=True)
class Case:
    """What must happen to one hostile submission (beyond the checks every case gets)."""

    lost: frozenset[str] = frozenset()  # tests that must score 0 (not pass)
    outcomes: tuple[str, ...] = ("failed", "error", "timeout", "crashed")  # of the lost tests
    words: tuple[str, ...] = ()  # one of them in each lost test's message
    may_lose: frozenset[str] = frozenset()  # tests that may pass or lose (layer-dependent)
    needs: tuple[str, ...] = ()  # contained only when one of these layers is on
    tests: tuple[str, ...] = TESTS
    quiet: bool = False  # its fake output (MARKER) must reach no student-facing file
    cli: bool = False  # graded by a separate `osgrade grade` process (it attacks its parent)
    html_free: tuple[str, ...] = ()  # never raw in report.html (markup the student injected)
    md_free: tuple[str, ...] = ()  # regexes never matching report.md or a results.json output


def _lost(outcomes: tuple[str, ...], words: tuple[str, ...]) -> Case:
    """The twist breaks both FCFS tests (it is in FCFS.dispatch); the rest keep their points."""
    return Case(lost=FCFS, outcomes=outcomes, words=words)


RULES = "broke the simulator's rules"
TIMED_OUT = "stopped after 2 s"
SANDBOX = ("bubblewrap",)  # the hidden files are world-readable here: only bwrap hides them
OTHER_UID = ("uid_drop", "bubblewrap")  # /proc of the grader out of reach
NO_ESCAPE = ("uid_drop", "bubblewrap", "seccomp")

CASES: dict[str, Case] = {
    # reading what is hidden
    "read_hidden_by_path": Case(needs=SANDBOX),
    "leak_via_return_value": Case(needs=SANDBOX),
    "encode_in_schedule": Case(needs=SANDBOX),  # readable: the FCFS answers change
    "walk_and_leak": Case(needs=SANDBOX),
    "walk_and_delegate": Case(lost=ALL, needs=SANDBOX),
    "import_reference_by_path": Case(lost=ALL, needs=SANDBOX),
    "import_grader_engine": Case(lost=ALL, quiet=True),
    "proc_parent_mem": Case(needs=OTHER_UID),
    # in bwrap its "parent" is the sandbox's init, whose (scrubbed) environment it may show
    "proc_parent_environ": Case(may_lose=FCFS, needs=OTHER_UID),
    # faking results
    "write_results_files": Case(lost=ALL, quiet=True),
    "squat_output_dir": Case(lost=ALL, quiet=True, needs=OTHER_UID),
    "fake_output": Case(lost=ALL, quiet=True),
    "patch_harness": Case(lost=ALL),
    "patch_worker_main": Case(lost=ALL),
    "patch_test_frameworks": Case(lost=ALL, quiet=True),
    # exits
    "markup_injection": Case(
        lost=FCFS,
        outcomes=("error",),
        words=("ValueError",),
        html_free=("<script>alert", "<img src=x", "</pre></code></div>"),
        md_free=(  # patterns: a script tag, a heading, a table row, a link, a fence
            r"<script",
            r"(?m)^#+ Score",
            r"(?m)^\| 1 \| FCFS \| passed",
            r"(?<!\\)\]\(javascript:",
            r"(?<!\\)```\s+# Score",
        ),
    ),
    "sys_exit_0": _lost(outcomes=("error",), words=("SystemExit",)),
    "os_exit_0": _lost(outcomes=("crashed",), words=("died (exit code 0)",)),
    "raise_system_exit": _lost(outcomes=("error",), words=("SystemExit",)),
    "raise_keyboard_interrupt": _lost(outcomes=("error",), words=("KeyboardInterrupt",)),
    "raise_generator_exit": _lost(outcomes=("error",), words=("GeneratorExit",)),
    "exit_at_import": Case(lost=ALL, outcomes=("error",), words=("SystemExit",)),
    # hanging
    **{
        name: Case(
            lost=frozenset({"fcfs-reference"}),
            outcomes=("timeout",),
            words=(TIMED_OUT,),
            tests=HANG,
        )
        for name in ("infinite_loop", "c_level_loop", "sleep_forever", "ignore_signals")
    },
    # exhausting resources
    "fork_bomb": Case(may_lose=FCFS),
    "memory_bomb_bytearray": _lost(outcomes=("error", "crashed"), words=("MemoryError", "died")),
    "memory_bomb_list": Case(
        lost=frozenset({"fcfs-reference"}),
        outcomes=("error", "crashed"),
        words=("MemoryError", "died"),
        tests=HANG,
    ),
    "recursion_bomb": _lost(
        outcomes=("crashed", "error"), words=("SIGSEGV", "RecursionError", "MemoryError")
    ),
    "output_flood": Case(quiet=True),
    "disk_fill": Case(),
    "fd_exhaustion": Case(),
    "thread_left_running": Case(),
    # escaping
    "setsid_daemon": Case(may_lose=FCFS, needs=NO_ESCAPE),
    "kill_parent_sigkill": Case(may_lose=FCFS, needs=NO_ESCAPE, cli=True),
    "kill_parent_sigterm": Case(may_lose=FCFS, needs=NO_ESCAPE, cli=True),
    "connect_localhost": Case(may_lose=FCFS, needs=("bubblewrap", "seccomp")),
    # hostile objects
    "hostile_eq": _lost(outcomes=("error",), words=(RULES,)),
    "hostile_hash": _lost(outcomes=("error",), words=(RULES,)),
    "hostile_repr": _lost(outcomes=("error",), words=(RULES,)),
    "hostile_del": Case(quiet=True),
    "int_subclass": _lost(outcomes=("error",), words=(RULES,)),
    "str_subclass": _lost(outcomes=("error",), words=(RULES,)),
    "tuple_subclass": Case(lost=frozenset({"rr-reference"}), outcomes=("error",), words=(RULES,)),
    "list_subclass": Case(lost=frozenset({"rr-reference"}), outcomes=("error",), words=(RULES,)),
    "answers_change": Case(
        lost=frozenset({"fcfs-reference"}), outcomes=("failed", "error"), may_lose=FCFS
    ),
}

# Run again with every optional layer forced off: the always-on layers alone.
MINIMAL = (
    "infinite_loop",
    "os_exit_0",
    "fork_bomb",
    "memory_bomb_bytearray",
    "output_flood",
    "write_results_files",
    "setsid_daemon",
    "read_hidden_by_path",
)


# ----------------------------------------------------------------------------- helpers


@cache
def assignment() -> Assignment:
    a = find_assignment("scheduling", ROOT / "assignments")
    spec = a.spec.model_copy(
        update={"limits": Limits(call_timeout_s=TIMEOUT_S, memory_mb=MEMORY_MB)}
    )
    return Assignment(spec=spec, directory=a.directory)


@cache
def honest(base: str, tests: tuple[str, ...]) -> dict[str, float]:
    """Per-test scores of the plain reference or template with the same settings."""
    path = REFERENCE.parent if base == "reference" else TEMPLATE.parent
    report = grade(assignment(), path, max_examples=EXAMPLES, only=list(tests))
    scores = {t.id: t.score for t in report.tests}
    assert set(scores) == set(tests)
    if base == "reference":
        assert all(t.outcome == "passed" for t in report.tests), report.tests
    else:
        assert report.score == 0
    return scores


@cache
def active_layers(mode: str) -> frozenset[str]:
    """The optional isolation layers a Worker uses on this machine in ``mode``."""
    if importlib.util.find_spec("grader.engine.isolation") is not None:
        isolation = importlib.import_module("grader.engine.isolation")
        plan = isolation.probe(mode)
        return frozenset(name for name, on in plan.layers.items() if on)
    with tempfile.TemporaryDirectory() as d, Worker(Path(d)) as w:  # pragma: no cover
        return frozenset(name for name in LAYERS if w.isolation.get(name) is True)


def _norm(text: str) -> str:
    """Undo Markdown escapes and HTML entities, collapse whitespace: leaks survive rendering."""
    text = re.sub(r"\\(.)", r"\1", text)
    return " ".join(html.unescape(text).split())


def _strings(data: object) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for v in data.values():
            yield from _strings(v)
    elif isinstance(data, list):
        for v in data:
            yield from _strings(v)


def _lines(text: str) -> set[str]:
    """Each line without its indentation and docstring quotes or comment mark."""
    return {" ".join(line.strip().strip("\"'#").split()) for line in text.splitlines()}


@cache
def _secret_lines() -> frozenset[str]:
    public = _lines(TEMPLATE.read_text())
    secret = (_lines(REFERENCE.read_text()) | _lines(PROPERTIES.read_text())) - public
    return frozenset(s for s in secret if len(s) > 30)


def _forbidden(submission_text: str) -> list[str]:
    """Text that must not reach a student: hidden lines the submission does not itself hold."""
    own = _lines(submission_text)
    found = [s for s in _secret_lines() if s not in own]
    path = os.environ.get("PATH", "")
    if len(path) > 30 and path not in submission_text:
        found.append(path)  # the grader's environment (the worker's is only /usr/bin:/bin)
    return found


def student_texts(out: Path) -> dict[str, str]:
    """What a student sees: the two reports, and results.json without the staff-only extra_data."""
    results = json.loads((out / "results.json").read_text())
    results.pop("extra_data", None)
    return {
        "report.html": _norm((out / "report.html").read_text()),
        "report.md": _norm((out / "report.md").read_text()),
        "results.json": _norm("\n".join(_strings(results))),
    }


def check_results_json(out: Path, report: GradeReport) -> None:
    data = json.loads((out / "results.json").read_text())
    GradescopeResults.model_validate(data)  # strict: no unknown or missing fields
    for key in ("score", "execution_time", "output", "visibility", "stdout_visibility", "tests"):
        assert key in data, key
    assert data["score"] == report.score
    assert len(data["tests"]) == len(report.tests)
    for t in data["tests"]:
        assert {"name", "number", "score", "max_score", "status", "output", "visibility"} <= set(t)
        assert t["status"] in ("passed", "failed")


def _cmdline(pid: str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _processes_holding(tag: str) -> list[int]:
    me = str(os.getpid())
    return [
        int(p)
        for p in os.listdir("/proc")
        if p.isdigit() and p != me and tag.encode() in _cmdline(p)
    ]


def reap(tag: str, grace_s: float = 1.0) -> list[str]:
    """Kill every process whose command line holds ``tag``; describe those found.

    Waits ``grace_s`` first: a killed worker may still be on its way out.
    """
    end = time.monotonic() + grace_s
    pids = _processes_holding(tag)
    while pids and time.monotonic() < end:
        time.sleep(0.05)
        pids = _processes_holding(tag)
    found = []
    for pid in pids:
        shown = _cmdline(str(pid)).replace(b"\0", b" ")[:200]
        found.append(f"{pid}: {shown!r}")
        try:
            fd = os.pidfd_open(pid)
        except OSError:
            continue
        try:
            if tag.encode() in _cmdline(str(pid)):  # the pidfd pins it: still the same process
                signal.pidfd_send_signal(fd, signal.SIGKILL)
        except OSError:
            pass
        finally:
            os.close(fd)
    return found


@dataclass
class Sandbox:
    """The private folders of one case; its workers' temp dirs live under ``tmp``."""

    base: Path
    sub: Path
    out: Path
    tmp: Path
    sentinel: Path
    port: int = 0


@pytest.fixture(scope="module")
def hostile_root() -> Iterator[Path]:
    # Not pytest's tmp_path: a dropped uid must be able to traverse the workers' temp dirs.
    root = Path(tempfile.mkdtemp(prefix="osgrade-hostile-")).resolve()
    os.chmod(root, 0o711)
    yield root
    reap(str(root), grace_s=0)
    shutil.rmtree(root, ignore_errors=True)


def prepare(name: str, mode: str, root: Path, port: int = 0) -> tuple[Sandbox, str]:
    base = Path(tempfile.mkdtemp(prefix=f"{mode}-{name}-", dir=root))  # unique per run
    box = Sandbox(base, base / "sub", base / "out", base / "tmp", base / "sentinel", port)
    for d in (box.sub, box.tmp, box.sentinel):
        d.mkdir(parents=True)
    os.chmod(base, 0o711)
    os.chmod(box.tmp, 0o711)
    text = (HOSTILE / name / "policies.py").read_text()
    for key, value in {
        "@@ROOT@@": str(ROOT),
        "@@OUT@@": str(box.out),
        "@@BASE@@": str(base),
        "@@SENTINEL@@": str(box.sentinel),
        "@@PORT@@": str(port),
    }.items():
        text = text.replace(key, value)
    (box.sub / "policies.py").write_text(text)
    return box, text


def grade_in_process(
    box: Sandbox, tests: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> GradeReport:
    monkeypatch.setattr(tempfile, "tempdir", str(box.tmp))  # the Worker's temp dir, tagged
    report = grade(assignment(), box.sub, max_examples=EXAMPLES, only=list(tests))
    write_outputs(report, box.out)
    return report


def grade_by_cli(box: Sandbox, tests: tuple[str, ...]) -> GradeReport:
    """`osgrade grade` in its own process, so a twist that kills its parent kills only that."""
    cmd = [sys.executable, "-m", "grader", "grade", "scheduling", str(box.sub)]
    cmd += ["--out", str(box.out), "--max-examples", str(EXAMPLES)]
    cmd += ["--assignments", str(ROOT / "assignments")]
    for t in tests:
        cmd += ["--test", t]
    env = {**os.environ, "TMPDIR": str(box.tmp)}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"the grader died ({done.returncode}): {done.stderr[-2000:]}"
    return GradeReport.model_validate_json((box.out / "report.json").read_text())


def base_of(text: str) -> str:
    first = text.splitlines()[0]
    assert first.startswith('"""Hostile submission ('), first
    return "template" if "(template + one twist)" in first else "reference"


def run_case(
    name: str, mode: str, root: Path, request: pytest.FixtureRequest, mp: pytest.MonkeyPatch
) -> None:
    case = CASES[name]
    mp.setenv("OSGRADE_ISOLATION", mode)
    layers = active_layers(mode)
    if case.needs and not layers & set(case.needs):
        request.applymarker(
            pytest.mark.xfail(
                strict=False,
                reason=f"needs {' or '.join(case.needs)} (on here: {sorted(layers) or 'none'})",
            )
        )
    listener = None
    port = 0
    if name == "connect_localhost":
        listener = socket.create_server(("127.0.0.1", 0))
        listener.setblocking(False)
        port = listener.getsockname()[1]
    box, text = prepare(name, mode, root, port)
    connected = False
    try:
        started = time.monotonic()
        if case.cli:
            report = grade_by_cli(box, case.tests)
        else:
            report = grade_in_process(box, case.tests, mp)
        elapsed = time.monotonic() - started
        if listener is not None:
            ready, _, _ = select.select([listener], [], [], 0.2)
            connected = bool(ready)
    finally:
        survivors = reap(str(box.base))
        if listener is not None:
            listener.close()
        fills = list(Path(tempfile.gettempdir()).glob("hostile-fill-*"))
        for f in fills:  # the disk-fill twist escaped into the shared /tmp: clean up after it
            f.unlink(missing_ok=True)

    # 6. nothing left running, nothing written outside
    assert not survivors, f"processes left behind (killed now): {survivors}"
    assert not fills, f"files written to the shared temp dir: {fills}"
    assert not list(box.sentinel.iterdir()), "a daemon wrote outside its sandbox"
    assert not connected, "the submission reached a listener on 127.0.0.1"
    # 5. time
    assert elapsed < BOUND_S, f"grading took {elapsed:.1f} s"
    # 4. valid results.json, and only the grader's files in the output folder
    check_results_json(box.out, report)
    assert {p.name for p in box.out.iterdir()} == GRADER_FILES
    assert report.grader_error is None
    # 2. nothing hidden in what a student sees
    texts = student_texts(box.out)
    forbidden = _forbidden(text)
    for file, content in texts.items():
        leaked = [s for s in forbidden if s in content]
        assert not leaked, f"{file} shows hidden text: {leaked[:3]}"
        assert HIDDEN_INPUT not in content, f"{file} shows the input of a hidden test"
        if case.quiet:
            assert MARKER not in content, f"{file} shows the submission's fake output"
        assert len(content) < 2_000_000, f"{file} is {len(content)} characters"
    raw_html = (box.out / "report.html").read_text()
    raw_md = [(box.out / "report.md").read_text()]
    raw_md += [t["output"] for t in json.loads((box.out / "results.json").read_text())["tests"]]
    for bad in case.html_free:
        assert bad.lower() not in raw_html.lower(), f"report.html carries raw {bad!r}"
    for bad in case.md_free:
        assert not any(re.search(bad, md) for md in raw_md), f"Markdown output matches {bad!r}"
    # 1 and 3. points: exactly the honest score, except where the twist strikes
    fair = honest(base_of(text), case.tests)
    lost = set(case.tests) if case.lost == ALL else set(case.lost)
    by_id = {t.id: t for t in report.tests}
    assert set(by_id) == set(case.tests)
    assert report.score <= sum(fair.values())
    for tid, t in by_id.items():
        assert t.score <= fair[tid], (tid, t.score, fair[tid])
        if tid in lost:
            assert t.score == 0 and t.outcome in case.outcomes, (tid, t.outcome, t.message)
            if case.words:
                assert any(w in t.message for w in case.words), (tid, t.message)
        elif tid not in case.may_lose:
            assert t.score == fair[tid], (tid, t.outcome, t.message)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_submission(
    name: str,
    hostile_root: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_case(
        name, os.environ.get("OSGRADE_ISOLATION", "") or "auto", hostile_root, request, monkeypatch
    )


@pytest.mark.parametrize("name", MINIMAL)
def test_hostile_submission_without_optional_layers(
    name: str,
    hostile_root: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_case(name, "minimal", hostile_root, request, monkeypatch)


def test_every_folder_is_a_case_with_notes() -> None:
    folders = {
        p.name for p in HOSTILE.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
    }
    assert folders == set(CASES)
    assert len(CASES) >= 30
    for name in folders:
        notes = (HOSTILE / name / "NOTES.md").read_text().strip()
        assert notes and "\n" not in notes, name
        assert "@@" not in notes
        base_of((HOSTILE / name / "policies.py").read_text())
