"""A finished run as plain data: the steps, one row each, for the lanes picture. STANDARD LIBRARY ONLY.

``steps(run, ...)`` turns the scheduler's log into rows ``{"t": thread, "where":
"primitives.py:12", "code": source line, "note": what happened, "kind": ..., "switch":
why the CPU changed hands just before this row ("" if it did not), "preempted": whether
that switch was a preemption chosen by the explorer}``. An atomic instruction is folded
into the row of the line that ran it; a loop that repeats identically is folded into one
copy and a "repeat" row; a very long run keeps its start and its end ("omitted" row).
"""

from __future__ import annotations

from typing import Any

from .monitor import Monitor
from .names import Namer, Places
from .scheduler import Run
from .tracing import opname_at

MAX_ROWS = 320
HEAD_ROWS = 60
MAX_CYCLE = 12
Row = dict[str, Any]


def _value(x: Any) -> str:
    text = repr(x) if type(x) in (int, float, str, bool, type(None)) else f"<{type(x).__name__}>"
    return text if len(text) <= 40 else text[:39] + "…"


def _row(t: int, kind: str, where: str = "", code: str = "", note: str = "") -> Row:
    return {
        "t": t,
        "kind": kind,
        "where": where,
        "code": code,
        "note": note,
        "switch": "",
        "preempted": False,
    }


def _note_op(entry: tuple[Any, ...], namer: Namer) -> str:
    _, _, obj, op, args, result, _quiet = entry
    call = f"{namer(obj)}.{op}({', '.join(_value(a) for a in args)})"
    return call if op == "store" else f"{call} → {_value(result)}"


def raw_rows(run: Run, namer: Namer, places: Places, monitor: Monitor) -> list[Row]:
    rows: list[Row] = []
    last: dict[int, Row] = {}  # each thread's latest row, to fold its instructions into
    pending: tuple[str, bool] | None = None
    for entry in run.log:
        kind, tid = entry[0], entry[1]
        row: Row | None = None
        if kind == "switch":
            pending = (entry[3], bool(entry[4]))
            continue
        if kind in ("line", "opcode"):
            code, line = entry[2], entry[3]
            note = opname_at(code, entry[4]) if kind == "opcode" else ""
            row = _row(tid, kind, places.where(code, line), places.source(code, line), note)
        elif kind == "op":
            if entry[6]:
                continue  # inside a primitive the test does not focus on: not worth a note
            prev = last.get(tid)
            text = _note_op(entry, namer)
            if prev is not None and pending is None and prev["kind"] in ("line", "opcode", "op"):
                prev["note"] = f"{prev['note']}; {text}" if prev["note"] else text
                continue
            row = _row(tid, "op", prev["where"] if prev else "", prev["code"] if prev else "", text)
        elif kind == "sleep":
            if entry[4] is not None:  # inside a primitive the test does not focus on
                obj, label = entry[4]
                row = _row(tid, "sleep", note=f"goes to sleep in {label}({namer(obj)})")
            else:
                guard = f" (and lets go of {namer(entry[3])})" if entry[3] is not None else ""
                row = _row(tid, "sleep", note=f"sleeps on {namer(entry[2])}{guard}")
        elif kind == "wake":
            woken, limit = entry[3], entry[4]
            if entry[5] and not woken:
                continue
            call = "wake_one()" if limit == 1 else "wake_all()"
            who = ", ".join(f"T{w}" for w in woken) or "nobody (no thread was asleep)"
            row = _row(tid, "wake", note=f"{namer(entry[2])}.{call} wakes {who}")
        elif kind == "event":
            row = _row(tid, "event", note=monitor.describe(entry[2]))
        elif kind == "point":
            row = _row(tid, "point", note=f"({entry[2]})")
        elif kind == "until":
            row = _row(tid, "until", note=f"(test program waits until {entry[2]})")
        elif kind == "raise":
            where, code = places.traceback_place(entry[2].__traceback__)
            row = _row(
                tid,
                "raise",
                where,
                code,
                f"raises {type(entry[2]).__name__}: {str(entry[2])[:200]}",
            )
        elif kind == "done":
            row = _row(tid, "done", note="finishes")
        elif kind == "yield":
            row = _row(tid, "yield", note="yields the CPU")
        elif kind == "spawn":
            row = _row(tid, "spawn", note=f"starts T{entry[2]}")
        elif kind == "join":
            row = _row(tid, "join", note=f"waits for T{entry[2]} to finish")
        if row is None:
            continue
        if kind in ("sleep", "wake", "raise") and tid in last and not row["where"]:
            row["where"], row["code"] = last[tid]["where"], last[tid]["code"]
        if pending is not None:
            row["switch"], row["preempted"] = pending
            pending = None
        rows.append(row)
        last[tid] = row
    return rows


def _key(r: Row) -> tuple[Any, ...]:
    return (r["t"], r["kind"], r["where"], r["note"], r["switch"])


def fold_loops(rows: list[Row]) -> list[Row]:
    """Replace a block of rows repeated 3 or more times in a row by one copy and a note."""
    out: list[Row] = []
    keys = [_key(r) for r in rows]
    i, n = 0, len(rows)
    while i < n:
        best = None
        for size in range(1, MAX_CYCLE + 1):
            if i + 3 * size > n:
                break
            block = keys[i : i + size]
            if any(k[4] for k in block[1:]):  # a switch inside: not one thread's loop
                continue
            times = 1
            while keys[i + times * size : i + (times + 1) * size] == block:
                times += 1
            if times >= 3 and (best is None or times * size > best[0] * best[1]):
                best = (times, size)
        if best is None:
            out.append(rows[i])
            i += 1
            continue
        times, size = best
        out.extend(rows[i : i + size])
        note = (
            f"… the {'step' if size == 1 else f'{size} steps'} above repeat {times - 1} more times"
        )
        rep = _row(rows[i]["t"], "repeat", note=note)
        rep["count"] = (times - 1) * size
        out.append(rep)
        i += times * size
    return out


def cap(rows: list[Row]) -> tuple[list[Row], int]:
    """At most MAX_ROWS rows: the start and the end of the run, and how many were left out."""
    if len(rows) <= MAX_ROWS:
        return rows, 0
    cut = len(rows) - MAX_ROWS
    gap = _row(rows[HEAD_ROWS]["t"], "omitted", note=f"… {cut} steps left out …")
    return [*rows[:HEAD_ROWS], gap, *rows[HEAD_ROWS + cut :]], cut


def steps(run: Run, namer: Namer, places: Places, monitor: Monitor) -> tuple[list[Row], int]:
    return cap(fold_loops(raw_rows(run, namer, places, monitor)))
