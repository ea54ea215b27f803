"""Writing the report files: results.json, report.json, report.html, report.md, staff.html."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..engine.results import GradeReport
from .gradescope import failure_results, to_gradescope
from .render import render_html, render_markdown
from .view import build_view


def write_atomic(path: Path, content: str) -> Path:
    """Write ``content`` to ``path`` through a temporary file and os.replace (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_outputs(report: GradeReport, out_dir: Path) -> dict[str, Path]:
    """Write every output of ``report`` into ``out_dir``; returns file name -> path.

    results.json is written first, so Gradescope gets a score even if rendering a
    later file fails. report.html and report.md are for the student; staff.html and
    report.json (the canonical model) hold everything, hidden inputs included.
    """
    out_dir = Path(out_dir)
    outputs: list[tuple[str, Callable[[], str]]] = [
        ("results.json", lambda: _json(to_gradescope(report))),
        ("report.json", lambda: report.model_dump_json(indent=2) + "\n"),
        ("report.html", lambda: render_html(build_view(report, "student"))),
        ("report.md", lambda: render_markdown(build_view(report, "student"))),
        ("staff.html", lambda: render_html(build_view(report, "staff"))),
    ]
    return {name: write_atomic(out_dir / name, make()) for name, make in outputs}


def write_failure_results(
    out_dir: Path,
    error_text: str,
    *,
    assignment: str | None = None,
    assignment_version: str | None = None,
    seed: int | None = None,
    duration_s: float = 0.0,
) -> Path:
    """results.json for a grader that crashed: score 0, the error only in extra_data."""
    data = failure_results(
        error_text,
        assignment=assignment,
        assignment_version=assignment_version,
        seed=seed,
        duration_s=duration_s,
    )
    return write_atomic(Path(out_dir) / "results.json", _json(data))
