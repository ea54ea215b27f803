"""Grading a whole class: ``osgrade batch ASSIGNMENT SUBMISSIONS --out DIR --jobs N``.

SUBMISSIONS is a folder (or a zip of one) holding one submission per student, in any of
the layouts that platforms export:

- a folder or a ``.zip`` per student (the folder or zip name is the student);
- a Gradescope "Export Submissions" folder: ``submission_<id>/`` folders and a
  ``submission_metadata.yml`` naming the submitters (name, SID, email);
- a Canvas "Download Submissions" folder: flat files named
  ``<login>[_late]_<user id>_<submission id>_<file name>``, grouped per user id and renamed
  back to the file name (Canvas's ``-1`` suffix for resubmissions is removed);
- a Moodle "Download all submissions" folder: ``<Full Name>_<id>_assignsubmission_file_/``.

Submissions are graded N at a time by a pool of processes, each running ``osgrade grade``
for one submission at a time under a wall-clock cap: a process that dies (the grader
crashed) or overruns the cap (it is killed) is replaced, and the others go on. A
submission is keyed by a hash of its content and of the assignment (its files, the
reference, the options, osgrade's version): one already graded with the same key is
skipped unless ``force``. Outputs: ``DIR/students/<student>/`` (the usual report files),
``DIR/batch.json``, ``DIR/gradebook.csv`` and ``DIR/summary.html``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import multiprocessing.connection as mp_connection
import os
import re
import shutil
import signal
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from .. import __version__
from ..engine.assignment import Assignment
from ..engine.errors import ConfigError
from ..engine.grade import failed_report
from ..engine.results import GradeReport
from ..report.class_summary import StudentRow, build_summary, render_summary
from ..report.gradebook import GradebookRow, to_csv
from ..report.write import write_atomic, write_failure_results
from .progress import Progress

Status = Literal["graded", "skipped", "timeout", "crashed", "unreadable", "grader-error"]
STATE_FILE = "osgrade-batch.json"
_CANVAS = re.compile(r"^(?P<login>[A-Za-z0-9]+?)(?:_late)?_(?P<uid>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_[a-z]+_?$")
_DUPLICATE = re.compile(r"^(?P<stem>.+?)-\d+(?P<ext>\.[^.]+)$")


@dataclass(frozen=True)
class Source:
    """One student's submission, found in SUBMISSIONS."""

    label: str  # what the summary and the gradebook call the student
    path: Path  # a folder or a zip
    folder: str  # the output folder name (safe, unique)
    student_id: str = ""
    sis_id: str = ""
    email: str = ""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BatchEntry(_Strict):
    """One line of batch.json (and each student's osgrade-batch.json)."""

    label: str
    folder: str
    source: str
    key: str
    status: Status
    score: float | None = None
    max_score: float
    duration_s: float = 0.0
    note: str = ""
    student_id: str = ""
    sis_id: str = ""
    email: str = ""


class BatchRecord(_Strict):
    osgrade_version: str
    assignment: str
    assignment_version: str
    jobs: int
    timeout_s: float
    duration_s: float
    entries: list[BatchEntry]


@dataclass
class BatchOptions:
    jobs: int = 1
    timeout_s: float = 900.0
    force: bool = False
    seed: int | None = None
    max_examples: int | None = None
    only: list[str] | None = None
    progress: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)


# ----------------------------------------------------------------------------- discovery


def _safe(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "submission"
    return cleaned[:80]


def _visible(p: Path) -> bool:
    return not p.name.startswith((".", "__MACOSX")) and p.name != "__pycache__"


def _gradescope_metadata(path: Path) -> dict[str, dict[str, str]]:
    """submission folder -> name/sid/email of its submitters, from submission_metadata.yml.

    The file is YAML written by Ruby (``:name:`` keys); only the few fields needed here are
    read, line by line, so that no YAML library is required. Group members are joined.
    """
    out: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        top = re.match(r"^(submission_[A-Za-z0-9_]+):\s*$", raw)
        if top:
            current = out.setdefault(top.group(1), {"name": [], "sid": [], "email": []})
            continue
        field_ = re.match(r"^\s+-?\s*:(name|sid|email):\s*(.*?)\s*$", raw)
        if field_ and current is not None:
            current[field_.group(1)].append(field_.group(2).strip("'\""))
    return {
        k: {f: " & ".join(v for v in vals if v) for f, vals in d.items()} for k, d in out.items()
    }


def discover(root: Path, scratch: Path) -> list[Source]:
    """The submissions in ``root`` (see the module docstring); ``scratch`` holds unpacked or
    regrouped copies. Raises ConfigError when there is nothing to grade."""
    if root.is_file() and zipfile.is_zipfile(root):
        unpacked = scratch / "export"
        with zipfile.ZipFile(root) as zf:
            for info in zf.infolist():
                name = Path(info.filename)
                if name.is_absolute() or ".." in name.parts:
                    raise ConfigError(f"{root} contains an unsafe path {info.filename!r}")
            zf.extractall(unpacked)
        entries = [p for p in unpacked.iterdir() if _visible(p)]
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else unpacked
    if not root.is_dir():
        raise ConfigError(f"{root} is not a folder of submissions (nor a zip of one)")
    found: list[Source] = []
    meta_file = root / "submission_metadata.yml"
    metadata = _gradescope_metadata(meta_file) if meta_file.is_file() else {}
    canvas: dict[str, list[tuple[Path, str, str]]] = {}
    for p in sorted(root.iterdir()):
        if not _visible(p) or p == meta_file:
            continue
        if p.is_dir():
            who = metadata.get(p.name, {})
            m = _MOODLE.match(p.name)
            label = who.get("name") or (m.group("name") if m else p.name)
            found.append(
                Source(
                    label=label,
                    path=p,
                    folder=_safe(p.name),
                    student_id=(m.group("id") if m else "") or p.name.removeprefix("submission_"),
                    sis_id=who.get("sid", ""),
                    email=who.get("email", ""),
                )
            )
        elif (c := _CANVAS.match(p.name)) is not None:
            canvas.setdefault(c.group("uid"), []).append((p, c.group("login"), c.group("file")))
        elif p.is_file() and zipfile.is_zipfile(p):
            found.append(Source(label=p.stem, path=p, folder=_safe(p.stem)))
    for uid, files in sorted(canvas.items()):
        login = files[0][1]
        if len(files) == 1 and zipfile.is_zipfile(files[0][0]):
            found.append(Source(login, files[0][0], _safe(f"{login}_{uid}"), student_id=uid))
            continue
        folder = scratch / "canvas" / _safe(f"{login}_{uid}")
        folder.mkdir(parents=True, exist_ok=True)
        for file_path, _, original in files:
            d = _DUPLICATE.match(original)
            fname = d.group("stem") + d.group("ext") if d else original
            shutil.copyfile(file_path, folder / fname)
        found.append(Source(login, folder, _safe(f"{login}_{uid}"), student_id=uid))
    if not found:
        raise ConfigError(
            f"{root} holds no submission: expected a folder or a .zip per student, a "
            "Gradescope export (submission_metadata.yml) or a Canvas or Moodle download"
        )
    seen: dict[str, int] = {}
    unique = []
    for s in found:
        n = seen.get(s.folder, 0)
        seen[s.folder] = n + 1
        unique.append(s if n == 0 else Source(**{**s.__dict__, "folder": f"{s.folder}-{n + 1}"}))
    return unique


# ----------------------------------------------------------------------------- keys


def _hash_tree(h: Any, path: Path) -> None:
    if path.is_file():
        h.update(b"file\0" + path.read_bytes())
        return
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path)
        if p.is_file() and "__pycache__" not in rel.parts and p.suffix != ".pyc":
            h.update(rel.as_posix().encode() + b"\0" + p.read_bytes() + b"\0")


def assignment_fingerprint(assignment: Assignment, options: BatchOptions) -> str:
    """What the grade of a submission depends on, besides the submission itself."""
    h = hashlib.sha256(f"osgrade {__version__}\0".encode())
    h.update(json.dumps([options.seed, options.max_examples, options.only]).encode())
    for part in (assignment.directory, assignment.reference_dir):
        if part.exists():
            _hash_tree(h, part)
    return h.hexdigest()


def submission_key(fingerprint: str, path: Path) -> str:
    h = hashlib.sha256(fingerprint.encode())
    _hash_tree(h, path)
    return h.hexdigest()[:32]


# ----------------------------------------------------------------------------- running


def _read_state(folder: Path) -> BatchEntry | None:
    try:
        return BatchEntry.model_validate_json((folder / STATE_FILE).read_bytes())
    except (OSError, ValidationError):
        return None


def _read_report(folder: Path) -> GradeReport | None:
    try:
        return GradeReport.model_validate_json((folder / "report.json").read_bytes())
    except (OSError, ValidationError):
        return None


def _cli_args(
    assignment: Assignment, source: Source, out: Path, options: BatchOptions
) -> list[str]:
    args = ["grade", str(assignment.directory), str(source.path), "--out", str(out)]
    if options.seed is not None:
        args += ["--seed", str(options.seed)]
    if options.max_examples is not None:
        args += ["--max-examples", str(options.max_examples)]
    for test in options.only or []:
        args += ["--test", test]
    return args


def _serve(conn: Connection) -> None:
    """A pool process: run `osgrade grade` for each task received, reply with its exit code."""
    from ..cli import main  # imported here: the CLI imports this module

    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        args, log_path = task
        with (
            open(log_path, "w", encoding="utf-8") as log,
            contextlib.redirect_stdout(log),
            contextlib.redirect_stderr(log),
        ):
            try:
                code = main(args)
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code if isinstance(exc.code, int) else 2
            except Exception as exc:  # reported; the loop goes on
                print(f"osgrade batch: grading raised {type(exc).__name__}: {exc}")
                code = 1
        conn.send(code)


class _Slot:
    """One process of the pool; replaced when it dies or overruns its cap."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child,), daemon=True)
        self.proc.start()
        child.close()
        self.task: tuple[Source, str, float] | None = None  # source, key, deadline

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid or 0, signal.SIGKILL)
        self.proc.join()
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.proc.join(5)
        if self.proc.is_alive():
            self.kill()


def _entry(
    assignment: Assignment,
    source: Source,
    out: Path,
    key: str,
    code: int | None,
    duration: float,
    options: BatchOptions,
) -> BatchEntry:
    """The batch entry of one finished (or stopped) grading; writes the failure files."""
    base = {
        "label": source.label,
        "folder": out.name,
        "source": str(source.path),
        "key": key,
        "max_score": assignment.max_score,
        "duration_s": round(duration, 3),
        "student_id": source.student_id,
        "sis_id": source.sis_id,
        "email": source.email,
    }
    report = _read_report(out) if code is not None else None
    if code is None:
        note = f"stopped after {options.timeout_s:g} s (the per-submission cap)"
        entry = BatchEntry(**base, status="timeout", note=note)
    elif code == 0 and report is not None:
        entry = BatchEntry(**base, status="graded", score=report.score)
    elif code == 2:
        tail = (out / "grade.log").read_text(errors="replace").strip().splitlines()[-1:]
        entry = BatchEntry(**base, status="unreadable", score=0.0, note=" ".join(tail)[:300])
    elif code == 1 and report is not None:
        entry = BatchEntry(**base, status="grader-error", score=0.0, note="see staff.html")
    else:
        entry = BatchEntry(**base, status="crashed", note=f"the grading process exited with {code}")
    if entry.status in ("timeout", "crashed", "unreadable"):
        err = RuntimeError(f"batch: {entry.status}: {entry.note}")
        failed = failed_report(assignment, source.path, err, "grade")
        write_atomic(out / "report.json", failed.model_dump_json(indent=2) + "\n")
        write_failure_results(out, f"{entry.status}: {entry.note}", assignment=assignment.name)
    write_atomic(out / STATE_FILE, entry.model_dump_json(indent=2) + "\n")
    return entry


def grade_all(
    assignment: Assignment,
    todo: list[tuple[Source, str]],
    students_dir: Path,
    options: BatchOptions,
    on_done: Callable[[BatchEntry], None],
) -> None:
    """Grade ``todo`` on a pool of ``options.jobs`` processes, each task under the cap.

    A task whose process dies (a grader crash) or overruns the cap (the process is killed)
    gets its entry, and the slot gets a fresh process: the other tasks go on.
    """
    queue = list(reversed(todo))
    slots = [_Slot() for _ in range(min(max(1, options.jobs), len(todo)))]
    started: dict[int, float] = {}
    try:
        while queue or any(s.task for s in slots):
            for i, slot in enumerate(slots):
                if slot.task is None and queue:
                    source, key = queue.pop()
                    out = students_dir / source.folder
                    if out.exists():
                        shutil.rmtree(out)
                    out.mkdir(parents=True)
                    slot.conn.send(
                        (_cli_args(assignment, source, out, options), str(out / "grade.log"))
                    )
                    started[i] = time.monotonic()
                    slot.task = (source, key, started[i] + options.timeout_s)
            busy = [s for s in slots if s.task]
            nearest = min(s.task[2] for s in busy if s.task)
            ready = mp_connection.wait(
                [s.conn for s in busy], timeout=max(0.0, nearest - time.monotonic())
            )
            for i, slot in enumerate(slots):
                if slot.task is None:
                    continue
                source, key, deadline = slot.task
                code: int | None
                if slot.conn in ready:
                    try:
                        code = slot.conn.recv()
                    except (EOFError, OSError):
                        slot.proc.join()
                        code = slot.proc.exitcode if slot.proc.exitcode is not None else -1
                        code = code if code >= 0 else 128 - code
                        slot.kill()
                        slots[i] = _Slot()
                elif time.monotonic() >= deadline:
                    slot.kill()
                    slots[i] = _Slot()
                    code = None
                else:
                    continue
                duration = time.monotonic() - started[i]
                slot.task = None
                on_done(
                    _entry(
                        assignment,
                        source,
                        students_dir / source.folder,
                        key,
                        code,
                        duration,
                        options,
                    )
                )
    finally:
        for slot in slots:
            slot.stop()


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="osgrade-batch-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run_batch(
    assignment: Assignment, submissions: Path, out: Path, options: BatchOptions
) -> BatchRecord:
    """Grade every submission in ``submissions``; writes the outputs listed above."""
    started = time.monotonic()
    students_dir = out / "students"
    students_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = assignment_fingerprint(assignment, options)
    with _scratch() as scratch:
        sources = discover(submissions, scratch)
        progress = Progress(len(sources), label="grading ") if options.progress else None
        entries: dict[str, BatchEntry] = {}
        todo: list[tuple[Source, str]] = []
        for s in sources:
            key = submission_key(fingerprint, s.path)
            old = _read_state(students_dir / s.folder)
            if not options.force and old is not None and old.key == key and old.status == "graded":
                entries[s.folder] = old.model_copy(update={"status": "skipped", "label": s.label})
                if progress:
                    progress.advance(f"{s.label} (already graded)", worked=False)
            else:
                todo.append((s, key))

        def done(entry: BatchEntry) -> None:
            entries[entry.folder] = entry
            if progress:
                score = "" if entry.score is None else f" {entry.score:g}/{entry.max_score:g}"
                progress.advance(f"{entry.label}: {entry.status}{score}")

        if todo:
            grade_all(assignment, todo, students_dir, options, done)
    ordered = [entries[s.folder] for s in sources]
    record = BatchRecord(
        osgrade_version=__version__,
        assignment=assignment.name,
        assignment_version=assignment.spec.version,
        jobs=options.jobs,
        timeout_s=options.timeout_s,
        duration_s=round(time.monotonic() - started, 3),
        entries=ordered,
    )
    write_atomic(out / "batch.json", record.model_dump_json(indent=2) + "\n")
    write_class_outputs(assignment, out, ordered)
    return record


def write_class_outputs(assignment: Assignment, out: Path, entries: list[BatchEntry]) -> None:
    """gradebook.csv and summary.html from the per-student reports."""
    reports: dict[str, GradeReport] = {}
    for e in entries:
        r = _read_report(out / "students" / e.folder)
        if r is not None and r.grader_error is None and e.status in ("graded", "skipped"):
            reports[e.folder] = r
    tests = [(t.id, t.points) for t in assignment.spec.tests]
    rows = [
        GradebookRow(e.label, e.student_id, e.sis_id, e.email, reports.get(e.folder))
        for e in entries
    ]
    write_atomic(out / "gradebook.csv", to_csv(rows, tests))
    students = [
        StudentRow(
            label=e.label,
            status=e.status,
            score=e.score,
            max_score=e.max_score,
            link=f"students/{e.folder}/staff.html",
            note=e.note,
        )
        for e in entries
    ]
    view = build_summary(
        assignment.spec.title,
        f"{assignment.name} {assignment.spec.version}",
        list(reports.values()),
        students,
        footer=f"osgrade {__version__} · {len(entries)} submissions",
    )
    write_atomic(out / "summary.html", render_summary(view))
