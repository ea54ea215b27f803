"""PrairieLearn's external grader: what runs in the grading container, and the course files.

PrairieLearn mounts the job under ``/grade``: the student's files in ``/grade/student``,
the question's data in ``/grade/data/data.json``; the entrypoint must leave
``/grade/results/results.json`` (the folder is not created for it). ``run`` does that for
one assignment. A submission that cannot be graded at all (a required file missing, a
file that is not Python text) gets ``gradable: false`` with ``format_errors``, so the
student loses no attempt; anything else is graded, and a grader failure still writes a
valid file with score 0. The root can be moved with ``OSGRADE_PL_ROOT`` (tests).

``osgrade export prairielearn ASSIGNMENT -o pl.zip`` writes what a course needs:
``serverFilesCourse/osgrade/`` (the wheel, the assignment, the reference and ``run.sh``),
a ``Dockerfile`` for the grading image (the container has no network while grading, so
osgrade is installed when the image is built) and an ``info.json`` example.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import traceback
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..engine.assignment import Assignment, load_assignment_file
from ..engine.grade import failed_report, grade
from ..report.prairielearn import not_gradable, to_prairielearn
from ..report.write import write_atomic
from .gradescope import _add_tree, _script, bundle_config, bundle_layout, configured_max_examples
from .wheel import build_wheel

ROOT_ENV = "OSGRADE_PL_ROOT"
MAX_SOURCE_BYTES = 1_000_000

RUN_SH = r"""#!/usr/bin/env bash
# PrairieLearn entrypoint: grade /grade/student with osgrade (installed in the image).
ROOT="${OSGRADE_PL_ROOT:-/grade}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$ROOT/results"
"${OSGRADE_PYTHON:-python3}" -m grader.course.prairielearn --root "$ROOT" \
    --assignment "$HERE/@ASSIGNMENT@" || true
if [ ! -s "$ROOT/results/results.json" ]; then
    echo '{"gradable": true, "score": 0.0, "message": "Grading failed: the grader could not run. This is not a verdict on your code; the course staff have been notified.", "tests": []}' > "$ROOT/results/results.json"
fi
"""

DOCKERFILE = """# The grading image for PrairieLearn's external grader (build it, push it, name it in info.json).
FROM ubuntu:22.04
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \\
        python3 python3-pip bubblewrap python3-seccomp && rm -rf /var/lib/apt/lists/*
COPY serverFilesCourse/osgrade/wheels/ /tmp/osgrade-wheels/
RUN python3 -m pip install --no-cache-dir /tmp/osgrade-wheels/*.whl && rm -rf /tmp/osgrade-wheels
"""


def format_errors(student: Path, files: list[str]) -> list[str]:
    """Why the submission cannot be graded at all: missing files, files that are not Python.

    The files are only decoded and parsed (``compile`` to an AST), never run.
    """
    problems = []
    for name in files:
        path = student / name
        if not path.is_file() or path.is_symlink():
            problems.append(f"{name} is missing: submit {', '.join(files)}.")
            continue
        data = path.read_bytes()
        if len(data) > MAX_SOURCE_BYTES:
            problems.append(
                f"{name} is {len(data)} bytes; a source file of at most 1 MB is expected."
            )
            continue
        try:
            source = data.decode("utf-8")
            if name.endswith(".py"):
                compile(source, name, "exec", flags=0x400, dont_inherit=True)  # PyCF_ONLY_AST
        except UnicodeDecodeError:
            problems.append(
                f"{name} is not a text file (not UTF-8): submit the Python source file."
            )
        except SyntaxError as exc:
            problems.append(f"{name} is not valid Python: line {exc.lineno}: {exc.msg}.")
        except (ValueError, RecursionError, MemoryError) as exc:
            problems.append(f"{name} cannot be read as Python: {type(exc).__name__}.")
    return problems


def run(root: Path, assignment_dir: Path) -> int:
    """Grade ``root/student`` into ``root/results/results.json``; 0 if graded, 1 otherwise."""
    out = root / "results" / "results.json"
    assignment: Assignment | None = None
    status = 0
    try:
        assignment = load_assignment_file(assignment_dir / "assignment.toml")
        problems = format_errors(root / "student", assignment.spec.submission.files)
        if problems:
            data: dict[str, Any] = not_gradable(problems)
        else:
            report = grade(
                assignment, root / "student", max_examples=configured_max_examples(assignment_dir)
            )
            data = to_prairielearn(report)
    except Exception as exc:
        report = failed_report(assignment, root / "student", exc, "grade")
        data = to_prairielearn(report)
        data["osgrade"]["grader_error"] = report.grader_error
        status = 1
    info = root / "data" / "data.json"
    if info.is_file():
        data.setdefault("osgrade", {})["data_json"] = True
    write_atomic(out, json.dumps(data, ensure_ascii=False) + "\n")
    return status


def build_course_files(
    assignment: Assignment, target: Path, *, max_examples: int | None = None
) -> Path:
    """The zip of course files described in the module docstring."""
    assignment_arc, ref_arc = bundle_layout(assignment)
    base = "serverFilesCourse/osgrade"
    info = {
        "externalGradingOptions": {
            "enabled": True,
            "image": f"YOUR-REGISTRY/osgrade-{assignment.name}",
            "serverFilesCourse": ["osgrade/"],
            "entrypoint": f"/grade/{base}/run.sh",
            "timeout": 600,
        }
    }
    with tempfile.TemporaryDirectory(prefix="osgrade-pl-") as tmp:
        wheel = build_wheel(Path(tmp))
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            _script(zf, f"{base}/run.sh", RUN_SH.replace("@ASSIGNMENT@", assignment_arc))
            zf.write(wheel, f"{base}/wheels/{wheel.name}")
            _add_tree(zf, assignment.directory, f"{base}/{assignment_arc}")
            _add_tree(zf, assignment.reference_dir, f"{base}/{ref_arc}")
            zf.writestr(
                f"{base}/config.json", bundle_config(assignment, assignment_arc, max_examples)
            )
            zf.writestr("Dockerfile", DOCKERFILE)
            zf.writestr(
                f"questions/{assignment.name}/info.json.example",
                json.dumps(info, indent=2) + "\n",
            )
            zf.writestr("osgrade-version.txt", f"osgrade {__version__}\n")
    return target


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m grader.course.prairielearn")
    p.add_argument("--root", type=Path, default=Path(os.environ.get(ROOT_ENV, "/grade")))
    p.add_argument("--assignment", type=Path, required=True)
    args = p.parse_args(argv)
    try:
        return run(args.root, args.assignment)
    except Exception:  # pragma: no cover - run.sh writes a fallback file
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(main())
