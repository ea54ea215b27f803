"""JUnit XML, the CSV gradebook and the published JSON Schema of report.json."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_report import sample_report

from grader.cli import main
from grader.engine.results import GradeReport
from grader.engine.schema import SCHEMA_FILE, report_schema, report_schema_text
from grader.report.gradebook import GradebookRow, to_csv
from grader.report.junit import to_junit

ROOT = Path(__file__).resolve().parents[1]


def test_published_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text() == report_schema_text(), (
        "grader/engine/report.schema.json is stale: run "
        "`osgrade schema > grader/engine/report.schema.json` and commit it"
    )
    schema = report_schema()
    assert schema["title"] == "GradeReport"
    assert set(schema["required"]) >= {"assignment", "submission", "score", "tests"}
    assert schema["additionalProperties"] is False


def test_a_report_matches_the_schema_field_for_field() -> None:
    data = json.loads(sample_report().model_dump_json())
    schema = report_schema()
    assert set(data) <= set(schema["properties"])
    test_schema = schema["$defs"]["TestResult"]
    for t in data["tests"]:
        assert set(t) <= set(test_schema["properties"])
        assert set(test_schema["required"]) <= set(t)
    GradeReport.model_validate(data)


def test_junit_xml_lists_every_test_with_failures_and_errors() -> None:
    report = sample_report()
    root = ET.fromstring(to_junit(report))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(report.tests) == int(suite.get("tests", "0"))
    outcomes = {t.id: t.outcome for t in report.tests}
    for case, t in zip(cases, report.tests, strict=True):
        assert case.get("name", "").startswith(f"{t.id}: ")
        kind = [c.tag for c in case]
        expected = (
            []
            if outcomes[t.id] == "passed"
            else (["failure"] if outcomes[t.id] == "failed" else ["error"])
        )
        assert kind == expected
    assert int(suite.get("failures", "0")) == sum(o == "failed" for o in outcomes.values())
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["score"] == f"{report.score:g}" and props["seed"] == str(report.seed)


def test_junit_hides_what_students_may_not_see() -> None:
    report = sample_report()
    xml = to_junit(report)
    hidden = [t for t in report.tests if t.visibility != "visible" and t.counterexample]
    assert hidden
    for t in hidden:
        assert t.counterexample is not None and t.counterexample.snippet not in xml
    notes = [t.staff_note for t in report.tests if t.staff_note]
    assert notes and not any(n in xml for n in notes), "staff notes never reach students"


def test_junit_survives_control_characters() -> None:
    report = sample_report()
    t = report.tests[1].model_copy(update={"message": "bad \x00\x07 bytes ]]> <tag>"})
    xml = to_junit(report.model_copy(update={"tests": [report.tests[0], t]}))
    ET.fromstring(xml)  # parses: no raw control character, markup escaped


def test_cli_writes_junit_for_ci(tmp_path: Path) -> None:
    target = tmp_path / "junit.xml"
    code = main([
        "check", "scheduling", str(ROOT / "student_template" / "scheduling"),
        "--test", "fcfs-reference", "--max-examples", "2", "--junit", str(target),
    ])  # fmt: skip
    assert code == 0
    suite = ET.parse(target).getroot().find("testsuite")
    assert suite is not None and suite.get("errors") == "1"


def test_gradebook_has_one_row_per_student_and_one_column_per_test() -> None:
    report = sample_report()
    tests = [(t.id, t.max_score) for t in report.tests]
    rows = [
        GradebookRow("Ada Lovelace", "101", "s101", "ada@example.edu", report),
        GradebookRow("=cmd|' /C calc'!A0", "102", "", "", None),  # not graded, hostile name
    ]
    text = to_csv(rows, tests)
    parsed = list(csv.reader(io.StringIO(text)))
    header, ada, other = parsed
    assert header[:4] == ["Student", "ID", "SIS User ID", "Email"]
    assert header[4:-1] == [f"{tid} ({p:g})" for tid, p in tests]
    assert header[-1] == f"Total ({sum(p for _, p in tests):g})"
    assert [float(x) for x in ada[4:-1]] == [t.score for t in report.tests]
    assert float(ada[-1]) == report.score
    assert other[0].startswith("'") and other[4:-1] == [""] * len(tests) and other[-1] == "0"
    assert text.endswith("\r\n")


@pytest.mark.parametrize("command", [["schema"]])
def test_cli_prints_the_schema(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(command) == 0
    assert json.loads(capsys.readouterr().out) == report_schema()
