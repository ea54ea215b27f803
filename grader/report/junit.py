"""JUnit XML of a grading run, for a course that runs osgrade in CI (GitHub Classroom, GitLab).

One ``<testsuite>`` per run, one ``<testcase>`` per test. A failed test is a ``<failure>``;
an error, a timeout or a crash is an ``<error>``; the body is the test's student-facing
Markdown (a hidden test's body says only that its details are hidden). A grader failure is
one ``<error>`` test case. The XML is built with ElementTree, so every text is escaped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..engine.results import GradeReport
from .render import render_test_markdown
from .view import GRADER_FAILED, Audience, prepare_test

# Characters XML 1.0 cannot carry at all (ElementTree would write them and break the file).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _safe(s: str) -> str:
    return _NOT_XML.sub("\ufffd", s)


def to_junit(report: GradeReport, audience: Audience = "student") -> str:
    """The JUnit XML document for ``report`` (tests prepared for ``audience``)."""
    suite_name = f"osgrade.{report.assignment.name}"
    suites = ET.Element("testsuites", name=f"osgrade {report.assignment.name}")
    failures = sum(t.outcome == "failed" for t in report.tests)
    errors = sum(t.outcome in ("error", "timeout", "crashed") for t in report.tests)
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=suite_name,
        tests=str(len(report.tests) or 1),
        failures=str(failures),
        errors=str(errors if report.grader_error is None else 1),
        skipped="0",
        time=f"{report.duration_s:.3f}",
        timestamp=report.started_at,
    )
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("score", f"{report.score:g}"),
        ("max_score", f"{report.max_score:g}"),
        ("seed", str(report.seed)),
        ("assignment_version", report.assignment.version),
        ("osgrade_version", report.osgrade_version),
    ):
        ET.SubElement(props, "property", name=key, value=value)
    if report.grader_error is not None:
        case = ET.SubElement(suite, "testcase", classname=suite_name, name="grading", time="0")
        err = ET.SubElement(case, "error", message="grading failed", type="GraderError")
        err.text = GRADER_FAILED
    for t in report.tests:
        view = prepare_test(t, "staff" if audience == "staff" else "student")
        case = ET.SubElement(
            suite,
            "testcase",
            classname=suite_name,
            name=_safe(f"{t.id}: {t.name} ({t.score:g}/{t.max_score:g} points)"),
            time=f"{t.duration_s:.3f}",
        )
        if t.outcome == "passed":
            continue
        tag = "failure" if t.outcome == "failed" else "error"
        node = ET.SubElement(
            case,
            tag,
            message=_safe(view.message or view.hidden_note or view.outcome_word),
            type=t.outcome,
        )
        node.text = _safe(render_test_markdown(view))
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
