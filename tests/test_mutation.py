"""The mutator on small code, and mutation analysis end to end (a tiny assignment, and a
capped sample of scheduling's mutants through `osgrade validate`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from platform_helpers import assignment_names, make_tiny

from grader.cli import main
from grader.course.mutation import analyse, mutants, spread
from grader.engine.assignment import find_assignment

CODE = '''
"""Module docstring: not mutated."""
from collections import deque


def pick(xs: list[int], limit: int = 3) -> int:
    """Docstring."""
    q = deque()
    best = None
    for x in xs:
        if x < limit and not x == 0:
            q.append((x, -x))
        else:
            best = min(x, best or x)
    if q:
        raise ValueError(f"bad {limit + 1}")
    return best + 1 if best is not None else -1
'''


def _by(op: str, ms: list) -> list[str]:
    return [m.description.split(": ", 1)[1] for m in ms if m.operator == op]


def test_every_operator_makes_compilable_single_changes() -> None:
    ms = mutants(CODE, "m.py")
    ops = {m.operator for m in ms}
    assert ops >= {
        "compare", "arithmetic", "off-by-one", "boolean", "unary", "negate",
        "swap-branches", "remove", "tie-break",
    }  # fmt: skip
    for m in ms:
        ast.parse(m.source)
        changed = [
            line
            for line in m.diff.splitlines()
            if line.startswith("+") and not line.startswith("+++")
        ]
        assert changed, m.id
    compare = _by("compare", ms)
    assert "`x < limit` -> `x <= limit`" in compare and "`x < limit` -> `x > limit`" in compare
    assert "`x == 0` -> `x != 0`" in compare
    assert "`x < limit and not x == 0` -> `x < limit or not x == 0`" in _by("boolean", ms)
    ties = _by("tie-break", ms)
    assert "`min` -> `max`" in ties and "`q.append` -> `q.appendleft`" in ties
    assert "`(x, -x)` -> `(-x, x)`" in ties
    assert "`3` -> `4`" in _by("off-by-one", ms)  # the default argument
    assert any(d.startswith("`q = deque()` -> `pass`") for d in _by("remove", ms))


def test_docstrings_annotations_imports_and_messages_are_left_alone() -> None:
    ms = mutants(CODE, "m.py")
    for m in ms:
        assert '"""Module docstring: not mutated."""' in m.source
        assert "from collections import deque" in m.source
        assert "def pick(xs: list[int], limit: int = " in m.source
        assert "bad {limit + 1}" in m.source  # the f-string message: untouched
    guard = [m for m in ms if m.line in (15, 16)]  # `if q: raise ValueError(...)`
    assert [(m.operator, m.description.split(": ", 1)[1]) for m in guard] == [
        ("negate", "`q` -> `not q`")
    ]


def test_argument_checks_only_get_negated_unless_asked() -> None:
    code = "def f(n):\n    if n <= 0 or n > 9:\n        raise ValueError(n)\n    return n * 2\n"
    default = {m.operator for m in mutants(code, "f.py")}
    assert "negate" in default and "compare" not in default and "boolean" not in default
    every = {m.operator for m in mutants(code, "f.py", guards=True)}
    assert {"compare", "boolean"} <= every


def test_ids_are_stable_when_other_code_changes() -> None:
    before = {m.id: m.description for m in mutants(CODE, "m.py")}
    edited = CODE.replace('"""Docstring."""', '"""Docstring."""\n    unused = 12345')
    after = {m.id for m in mutants(edited, "m.py")}
    assert set(before) <= after
    assert len(before) == len(set(before)), "ids are unique"


def test_skip_leaves_a_function_unmutated() -> None:
    code = "def a(x):\n    return x + 1\n\n\nclass B:\n    def c(self, y):\n        return y - 1\n"
    assert {m.scope for m in mutants(code, "s.py")} == {"a", "B.c"}
    assert {m.scope for m in mutants(code, "s.py", skip=["B.c"])} == {"a"}
    assert {m.scope for m in mutants(code, "s.py", skip=["B"])} == {"a"}


def test_spread_is_an_even_deterministic_sample() -> None:
    ms = mutants(CODE, "m.py")
    assert spread(ms, None) == ms and spread(ms, 0) == []
    sample = spread(ms, 5)
    assert len(sample) == 5 and sample == spread(ms, 5) and sample[0] is ms[0]


def test_analysis_of_a_tiny_assignment_end_to_end(tmp_path: Path) -> None:
    folder = make_tiny(tmp_path / "first")
    result = analyse(find_assignment(str(folder)), jobs=2)
    assert result.total == len(result.verdicts) > 5
    killed = [v for v in result.verdicts if v.killed]
    assert killed and all(v.by in ("clamp-reference", "clamp-idempotent") for v in killed)
    survivors = result.survivors
    # `x > hi` -> `x >= hi` returns hi for x == hi: the same answer, an equivalent mutant.
    same = [v for v in survivors if "`x > hi` -> `x >= hi`" in v.mutant.description]
    assert same, [v.mutant.description for v in survivors]

    marked = make_tiny(tmp_path / "second", equivalent=[same[0].mutant.id])
    again = analyse(find_assignment(str(marked)), jobs=1)
    assert same[0].mutant.id not in {v.mutant.id for v in again.survivors}
    assert len(again.counted) == len(result.counted) - 1
    assert again.kill_rate >= result.kill_rate


@pytest.mark.parametrize("name", assignment_names())
def test_validate_runs_a_capped_mutation_sample(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validate", name, "--max-examples", "3", "--mutants", "4", "--jobs", "2"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "mutation: 4 of " in out and "kill rate" in out


def test_grade_can_stop_at_the_first_failure_in_a_chosen_order(tmp_path: Path) -> None:
    from grader.engine.grade import grade

    a = find_assignment(str(make_tiny(tmp_path)))
    everything = grade(a, a.template_dir, max_examples=2)
    assert [t.id for t in everything.tests] == ["clamp-reference", "clamp-idempotent"]
    first = grade(a, a.template_dir, max_examples=2, fail_fast=True, order=["clamp-idempotent"])
    assert [t.id for t in first.tests] == ["clamp-idempotent"]
    assert first.tests[0].outcome == "error"
