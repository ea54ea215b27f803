"""The published JSON Schema of report.json (the canonical GradeReport), generated from the
pydantic model. The committed copy is ``grader/engine/report.schema.json``; a test checks it
is current, and ``osgrade schema`` prints it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .results import SCHEMA_VERSION, GradeReport

SCHEMA_FILE = Path(__file__).with_name("report.schema.json")


def report_schema() -> dict[str, Any]:
    schema = GradeReport.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://osgrade.invalid/schema/report-v{SCHEMA_VERSION}.json",
        **schema,
        "description": (
            f"osgrade's record of one grading run (report.json), format {SCHEMA_VERSION}. "
            "Every other output (Gradescope, PrairieLearn, JUnit, the reports) is derived from it."
        ),
    }


def report_schema_text() -> str:
    return json.dumps(report_schema(), indent=2, ensure_ascii=False) + "\n"
