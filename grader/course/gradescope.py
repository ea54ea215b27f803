"""Gradescope: the autograder zip (``osgrade export gradescope``) and what runs inside it.

The zip follows Gradescope's autograder specification: ``setup.sh`` and ``run_autograder``
at its root; ``setup.sh`` runs once as root when the image is built (Ubuntu: it installs
Python, bubblewrap and python3-seccomp, makes a virtual environment and installs osgrade
from the wheel bundled in the zip, so no private index is needed); ``run_autograder`` runs
for every submission with ``/autograder/submission`` filled in and must leave
``/autograder/results/results.json``. Everything else sits under ``osgrade/`` in the zip
(``/autograder/source/osgrade``): the wheel, the assignment (hidden properties included,
samples left out) and the reference, at the same relative places as in the repository.

``python -m grader.course.gradescope`` is the program ``run_autograder`` starts. It
grades the submission, adds what ``/autograder/submission_metadata.json`` says (submission
id, submitters, submission time, whether it came after the due date) to ``extra_data``,
and always writes a valid results.json, even when grading itself fails. The root
``/autograder`` can be moved with ``OSGRADE_AUTOGRADER_ROOT`` (tests use a temporary one).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..engine.assignment import Assignment, load_assignment_file
from ..engine.errors import ConfigError, SubmissionError
from ..engine.grade import grade
from ..report.gradescope import failure_results, to_gradescope
from ..report.write import write_atomic
from .wheel import build_wheel

ROOT_ENV = "OSGRADE_AUTOGRADER_ROOT"
DEFAULT_ROOT = "/autograder"
_SKIP = ("samples", "__pycache__")

SETUP_SH = r"""#!/usr/bin/env bash
# osgrade autograder for Gradescope: runs once, as root, when Gradescope builds the image.
# It installs what the grader needs, then osgrade itself from the wheel in this zip.
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${OSGRADE_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${OSGRADE_PYTHON:-python3}"
if [ "${OSGRADE_SKIP_APT:-0}" != 1 ]; then
    # bubblewrap and python3-seccomp are the worker's strong isolation layers; grading
    # works without them (with a recorded warning), so a failed install is not fatal.
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q || true
    apt-get install -y -q python3 python3-venv python3-pip
    apt-get install -y -q bubblewrap python3-seccomp \
        || echo "osgrade: warning: bubblewrap/python3-seccomp not installed: reduced isolation" >&2
fi
"$PYTHON" -m venv "$ROOT/osgrade-venv"
# OSGRADE_PIP_OPTS lets an offline test install from the bundled wheel alone.
"$ROOT/osgrade-venv/bin/python" -m pip install -q ${OSGRADE_PIP_OPTS:-} "$SOURCE"/osgrade/wheels/*.whl
"$ROOT/osgrade-venv/bin/python" -c "import grader; print('osgrade', grader.__version__, 'installed')"
# The hidden tests and the reference are read by the grader (root) only: a worker that runs
# as another uid without bubblewrap cannot read them either.
chmod -R go-rwx "$SOURCE/osgrade"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# osgrade autograder for Gradescope: runs for every submission.
# Always leaves a valid results.json, even if osgrade cannot start.
ROOT="${OSGRADE_AUTOGRADER_ROOT:-/autograder}"
mkdir -p "$ROOT/results"
status=0
"$ROOT/osgrade-venv/bin/python" -m grader.course.gradescope --root "$ROOT" \
    --assignment "$ROOT/source/osgrade/@ASSIGNMENT@" || status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    cat > "$ROOT/results/results.json" <<EOF
{"score": 0.0, "output": "**Grading failed.** The autograder itself could not run; this is not a verdict on your code. The course staff have been notified.", "stdout_visibility": "hidden", "extra_data": {"grader_error": "run_autograder: osgrade exited with status $status before writing results"}, "tests": []}
EOF
fi
exit 0
"""


def _add_tree(zf: zipfile.ZipFile, src: Path, arc: str) -> None:
    for p in sorted(src.rglob("*")):
        rel = p.relative_to(src)
        if any(part in _SKIP or part.startswith(".") for part in rel.parts) or p.suffix == ".pyc":
            continue
        if p.is_file():
            zf.write(p, f"{arc}/{rel.as_posix()}")


def _script(zf: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, text)


def bundle_layout(assignment: Assignment) -> tuple[str, str]:
    """(assignment folder, reference folder) inside ``osgrade/``, keeping their relative place.

    Raises ConfigError when the reference lies outside what can be rebuilt that way.
    """
    assignment_arc = f"assignments/{assignment.directory.name}"
    rel = os.path.relpath(assignment.reference_dir, assignment.directory)
    ref_arc = os.path.normpath(os.path.join(assignment_arc, rel))
    if ref_arc.startswith("..") or os.path.isabs(ref_arc):
        raise ConfigError(
            f"{assignment.directory / 'assignment.toml'}: field reference: "
            f"{assignment.reference_dir} is too far from the assignment to bundle; keep it "
            "within two folders up (the repository layout: ../../reference/NAME)"
        )
    return assignment_arc, ref_arc.replace(os.sep, "/")


def bundle_config(assignment: Assignment, assignment_arc: str, max_examples: int | None) -> str:
    """osgrade/config.json: what was bundled, and the grading options the runner applies."""
    return (
        json.dumps(
            {
                "osgrade_version": __version__,
                "assignment": assignment.name,
                "assignment_version": assignment.spec.version,
                "assignment_dir": assignment_arc,
                "max_examples": max_examples,
            },
            indent=2,
        )
        + "\n"
    )


def read_config(assignment_dir: Path) -> dict[str, Any]:
    """The bundle's config.json (two folders above the assignment), or {}."""
    try:
        data = json.loads((assignment_dir.parent.parent / "config.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def configured_max_examples(assignment_dir: Path) -> int | None:
    value = read_config(assignment_dir).get("max_examples")
    return value if type(value) is int and value > 0 else None


def build_autograder(
    assignment: Assignment, target: Path, *, max_examples: int | None = None
) -> Path:
    """Write Gradescope's autograder zip for ``assignment`` to ``target``.

    ``max_examples`` (per property) is baked into the bundle's config.json: fewer examples
    keep grading inside the platform's time limit, at the cost of weaker tests.
    """
    assignment_arc, ref_arc = bundle_layout(assignment)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="osgrade-gs-") as tmp:
        wheel = build_wheel(Path(tmp))
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            _script(zf, "setup.sh", SETUP_SH)
            _script(zf, "run_autograder", RUN_AUTOGRADER.replace("@ASSIGNMENT@", assignment_arc))
            zf.write(wheel, f"osgrade/wheels/{wheel.name}")
            _add_tree(zf, assignment.directory, f"osgrade/{assignment_arc}")
            _add_tree(zf, assignment.reference_dir, f"osgrade/{ref_arc}")
            zf.writestr(
                "osgrade/config.json", bundle_config(assignment, assignment_arc, max_examples)
            )
    return target


def _when(text: object) -> dt.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def read_metadata(path: Path) -> dict[str, Any]:
    """The parts of submission_metadata.json worth keeping (staff only); {} if absent."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    raw_assignment = data.get("assignment")
    assignment: dict[str, Any] = raw_assignment if isinstance(raw_assignment, dict) else {}
    raw_users = data.get("users")
    users: list[Any] = raw_users if isinstance(raw_users, list) else []
    out: dict[str, Any] = {
        "submission_id": data.get("id"),
        "created_at": data.get("created_at"),
        "assignment_id": assignment.get("id"),
        "assignment_title": assignment.get("title"),
        "due_date": assignment.get("due_date"),
        "late_due_date": assignment.get("late_due_date"),
        "users": [
            {k: u.get(k) for k in ("id", "name", "email")} for u in users if isinstance(u, dict)
        ],
        "previous_submissions": len(data.get("previous_submissions") or []),
    }
    created, due = _when(out["created_at"]), _when(out["due_date"])
    if created is not None and due is not None:
        out["late"] = created > due
    return out


def run(root: Path, assignment_dir: Path) -> int:
    """Grade ``root/submission`` and write ``root/results/results.json``. Returns 0 when a
    grade was written, 1 when only a failure result could be written."""
    results = root / "results" / "results.json"
    started = time.monotonic()
    metadata = read_metadata(root / "submission_metadata.json")
    assignment: Assignment | None = None
    try:
        assignment = load_assignment_file(assignment_dir / "assignment.toml")
        report = grade(
            assignment, root / "submission", max_examples=configured_max_examples(assignment_dir)
        )
        data = to_gradescope(report)
        status = 0 if report.grader_error is None else 1
    except SubmissionError as exc:  # unreadable submission: say so to the student
        data = failure_results(str(exc), duration_s=time.monotonic() - started)
        data["output"] = f"**Your submission could not be read.** {exc}"
        status = 0
    except Exception as exc:
        data = failure_results(
            "".join(traceback.format_exception(exc)),
            assignment=assignment.name if assignment else None,
            duration_s=time.monotonic() - started,
        )
        status = 1
    if metadata:
        data.setdefault("extra_data", {})["gradescope"] = metadata
    write_atomic(results, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m grader.course.gradescope")
    p.add_argument("--root", type=Path, default=Path(os.environ.get(ROOT_ENV, DEFAULT_ROOT)))
    p.add_argument("--assignment", type=Path, required=True)
    args = p.parse_args(argv)
    try:
        return run(args.root, args.assignment)
    except Exception:  # pragma: no cover - last resort: run_autograder writes a fallback
        traceback.print_exc()
        return 1


def install_into(zip_path: Path, root: Path) -> Path:
    """Unpack an autograder zip the way Gradescope does (for tests): ``root/source`` and
    ``root/run_autograder``; returns the source folder."""
    source = root / "source"
    source.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(source)
        for info in zf.infolist():
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(source / info.filename, mode)
    shutil.copy2(source / "run_autograder", root / "run_autograder")
    return source


if __name__ == "__main__":
    sys.exit(main())
