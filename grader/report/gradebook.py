"""A CSV gradebook of a batch: one row per student, one column per test, and a total.

Made for the gradebook imports of Canvas and Moodle: UTF-8, a header row, identity columns
first (``Student``, ``ID``, ``SIS User ID``, ``Email``: Canvas matches ``ID`` or ``SIS User
ID``, Moodle an email or an ID number), then one numeric column per test named
``<test id> (<points>)`` and ``Total (<max>)``. A submission that could not be graded has
empty test cells and a total of 0, so an import never skips a student silently.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from ..engine.results import GradeReport


@dataclass(frozen=True, slots=True)
class GradebookRow:
    student: str
    student_id: str = ""
    sis_id: str = ""
    email: str = ""
    report: GradeReport | None = None  # None: not graded (timed out, crashed, unreadable)


IDENTITY = ("Student", "ID", "SIS User ID", "Email")


def _points(x: float) -> str:
    return f"{x:g}"


def to_csv(rows: Sequence[GradebookRow], tests: Sequence[tuple[str, float]]) -> str:
    """The CSV text; ``tests`` are (test id, points) in column order."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    total = sum(p for _, p in tests)
    w.writerow(
        [*IDENTITY, *(f"{tid} ({_points(p)})" for tid, p in tests), f"Total ({_points(total)})"]
    )
    for row in rows:
        scores: dict[str, float] = {}
        if row.report is not None and row.report.grader_error is None:
            scores = {t.id: t.score for t in row.report.tests}
        cells = [_points(scores[tid]) if tid in scores else "" for tid, _ in tests]
        grand = sum(scores.values()) if scores else 0.0
        w.writerow(
            [_cell(row.student), row.student_id, row.sis_id, row.email, *cells, _points(grand)]
        )
    return out.getvalue()


def _cell(s: str) -> str:
    """Keep a spreadsheet from running a name as a formula (CSV injection)."""
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s
