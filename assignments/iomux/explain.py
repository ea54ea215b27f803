"""Words and pictures of the iomux properties: a scenario's results, the table of both runs.

Shared by the hidden properties and the student kit: ``osgrade kit`` copies this file
(``[kit] explain``), so a recorded public test that fails in a kit shows grading's sentence
and its table of the operations, Linux's results against yours. It holds no test, no input
and no reference code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grader.engine.props import Failure
from grader.engine.results import TableCell, TablePicture
from grader.simos.iomux import checks
from grader.simos.iomux.scenario import Op, Result, op_text, result_text

RUN = "grader.simos.iomux.harness:run"
COST_FIELDS = ("bytes_in", "bytes_out", "scanned", "polls", "waitq")


def _result_ok(op: Op, r: Any) -> bool:
    """Plain JSON of the shape scenario results have (the worker's reply is not trusted)."""
    if type(r) is dict:
        return set(r) == {"error"} and type(r["error"]) is str
    name = op["op"]

    def pairs(x: Any) -> bool:
        return type(x) is list and all(
            type(p) is list and len(p) == 2 and all(type(v) is int for v in p) for p in x
        )

    if name in ("epoll_wait", "poll"):
        return pairs(r)
    if name == "select":
        return (
            type(r) is list
            and len(r) == 3
            and all(type(s) is list and all(type(v) is int for v in s) for s in r)
        )
    if name == "read":
        return type(r) is str
    if name in ("pipe", "socketpair"):
        return type(r) is list and len(r) == 2 and all(type(v) is int for v in r)
    return type(r) is int


@dataclass(frozen=True)
class Outcome:
    """A scenario's results, and the cost record of each multiplexing call (plain dicts)."""

    results: list[Result]
    costs: list[dict[str, Any] | None]


def parse_reply(ops: list[Op], data: Any) -> Outcome:
    """The results of a RUN reply, checked for shape (Failure if the worker's reply is malformed)."""
    if type(data) is not dict or set(data) != {"results", "costs"}:
        raise Failure("The worker returned a malformed answer (expected results and costs).")
    results, cost_list = data["results"], data["costs"]
    if type(results) is not list or len(results) != len(ops) or type(cost_list) is not list:
        raise Failure("The worker returned the wrong number of results.")
    for i, (op, r) in enumerate(zip(ops, results, strict=False)):
        if not _result_ok(op, r):
            raise Failure(f"The result of operation {i + 1} ({op_text(op)}) is malformed: {r!r}.")
    parsed: list[Any] = []
    for c in cost_list:
        if c is None:
            parsed.append(None)
        elif type(c) is dict and all(type(c.get(f)) is int for f in COST_FIELDS):
            parsed.append(c)
        else:
            raise Failure("The worker returned a malformed cost record.")
    return Outcome(results, parsed)


def table(
    ops: list[Op], expected: list[Result], actual: list[Result], mark: int | None, title: str
) -> TablePicture:
    rows = []
    for i, op in enumerate(ops):
        e = result_text(op, expected[i]) if i < len(expected) else ""
        a = result_text(op, actual[i]) if i < len(actual) else ""
        differs = i < len(expected) and i < len(actual) and expected[i] != actual[i]
        rows.append(
            [
                TableCell(text=str(i + 1), tone="muted"),
                TableCell(text=op_text(op)),
                TableCell(text=e, tone="good" if differs else "plain"),
                TableCell(text=a, tone="bad" if differs else "plain"),
            ]
        )
    return TablePicture(
        title=title,
        columns=["#", "operation", "expected (Linux)", "yours"],
        rows=rows,
        mark_row=mark,
        caption="The operations run in order on a fresh kernel; descriptors 0-2 are open. "
        "Write number i sends the letter 'abc…z'[i % 26].",
    )


def compare(ops: list[Op], expected: list[Result], actual: list[Result], what: str) -> None:
    i = checks.first_difference(expected, actual)
    if i is None:
        return
    op = ops[i]
    e, a = result_text(op, expected[i]), result_text(op, actual[i])
    raise Failure(
        f"{what}: operation {i + 1}, {op_text(op)}, should give {e} but yours gives {a}.",
        expected=e,
        actual=a,
        divergence=f"Operation {i + 1}: {op_text(op)}",
        picture=table(ops, expected, actual, i, "The smallest failing scenario"),
    )


def explain_reply(entry: str, args: dict[str, Any], expected: Any, actual: Any) -> Failure | None:
    """A kit's recorded call whose reply differs: the Failure grading would report.

    ``expected`` is the reference's recorded reply, ``actual`` the student's; None for a
    call that is not a scenario run (the kit then shows where the two JSON values differ).
    """
    if entry != RUN:
        return None
    ops = args["ops"]
    want = parse_reply(ops, expected).results
    try:
        got = parse_reply(ops, actual).results
        i = checks.first_difference(want, got)
        if i is None:
            return None
        compare(ops, want, got, op_text(ops[i]).split("(")[0])
    except Failure as failure:
        return failure
    return None
