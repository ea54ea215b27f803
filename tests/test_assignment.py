"""assignment.toml loading: good files load, bad ones name the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.engine.assignment import find_assignment, load_assignment_file
from grader.engine.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

GOOD = """
name = "demo"
title = "Demo"
version = "1"
[submission]
files = ["policies.py"]
module = "policies"
[[tests]]
id = "a"
name = "A"
property = "p"
points = 1
"""


def write(tmp_path: Path, text: str, props: bool = True) -> Path:
    d = tmp_path / "demo"
    d.mkdir()
    (d / "assignment.toml").write_text(text)
    if props:
        (d / "properties.py").write_text("")
    return d / "assignment.toml"


def test_bundled_scheduling_assignment_loads() -> None:
    a = find_assignment("scheduling", ROOT / "assignments")
    assert a.name == "scheduling"
    assert a.max_score == 100
    assert a.reference_dir == (ROOT / "reference" / "scheduling").resolve()
    assert a.template_dir == (ROOT / "student_template" / "scheduling").resolve()
    assert len({t.id for t in a.spec.tests}) == len(a.spec.tests)


def test_good_file_loads(tmp_path: Path) -> None:
    a = load_assignment_file(write(tmp_path, GOOD))
    assert a.spec.tests[0].visibility == "visible"
    assert a.spec.hypothesis.max_examples == 200


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda s: s.replace("points = 1", "points = -1"), "tests.0.points"),
        (lambda s: s.replace('id = "a"', 'id = "A B"'), "tests.0.id"),
        (lambda s: s + 'visibility = "secret"\n', "tests.0.visibility"),
        (lambda s: s.replace('title = "Demo"\n', ""), "title"),
        (lambda s: s + 'colour = "red"\n', "tests.0.colour"),
        (
            lambda s: s.replace('files = ["policies.py"]', 'files = ["../etc/passwd"]'),
            "submission.files",
        ),
    ],
)
def test_bad_field_is_named(tmp_path: Path, edit, field: str) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, edit(GOOD))
    with pytest.raises(ConfigError) as err:
        load_assignment_file(path)
    text = str(err.value)
    assert str(path) in text
    assert f"field {field}" in text


def test_invalid_toml_names_file(tmp_path: Path) -> None:
    path = write(tmp_path, "name = ")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_assignment_file(path)


def test_duplicate_test_ids(tmp_path: Path) -> None:
    text = GOOD + '[[tests]]\nid = "a"\nname = "again"\nproperty = "p"\npoints = 1\n'
    with pytest.raises(ConfigError, match="used twice"):
        load_assignment_file(write(tmp_path, text))


def test_missing_properties_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="field properties"):
        load_assignment_file(write(tmp_path, GOOD, props=False))


def test_unknown_assignment_lists_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"known: .*scheduling"):
        find_assignment("nope", ROOT / "assignments")
