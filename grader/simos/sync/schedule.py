"""Scenarios as checked data, and schedules as short replay strings. STANDARD LIBRARY ONLY.

A replay string names the test program, the granularity and time slice, and the
preemptions of one run, e.g.::

    lock:cls=SpinLock,iterations=2,threads=2:L32:3.1,17.1

= the "lock" scenario with those parameters, line granularity ("L"; "O" for bytecode),
a time slice of 32 steps, and two preemptions: at decision 3 run the next ready thread
in turn (offset 1), at decision 17 likewise. "-" means no preemption (the default
schedule). ``decode`` checks every part and raises ExplorerError naming what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import ExplorerError
from .registry import KINDS

# kind -> {parameter: (type, low, high)}; type: int, str (one of the given words), ints, strs
SCHEMA: dict[str, dict[str, tuple[str, Any, Any]]] = {
    "lock": {
        "cls": ("str", ("SpinLock", "TicketLock", "Mutex"), None),
        "threads": ("int", 2, 4),
        "iterations": ("int", 1, 4),
    },
    "ticket": {
        "cls": ("str", ("TicketLock",), None),
        "threads": ("int", 2, 4),
        "iterations": ("int", 1, 4),
    },
    "owner": {},
    "nobusy": {"hold": ("int", 8, 400), "limit": ("int", 4, 400)},
    "condition": {"waiters": ("int", 1, 3), "mode": ("str", ("signal", "broadcast"), None)},
    "semaphore": {"initial": ("int", 0, 3), "threads": ("strs", r"[PVC]{1,8}", 4)},
    "buffer": {
        "capacity": ("int", 1, 4),
        "producers": ("ints", (1, 6), 3),
        "consumers": ("ints", (1, 6), 3),
    },
    "rw": {"readers": ("int", 0, 3), "writers": ("int", 0, 3), "iterations": ("int", 1, 3)},
    "rw_fair": {},
    "rw_leave": {"readers": ("int", 2, 3)},
    "rw_share": {},
    "barrier": {"threads": ("int", 2, 4), "rounds": ("int", 1, 3)},
}
GRANULARITY = {"L": "line", "O": "opcode"}


def schema_of(kind: str) -> dict[str, tuple[str, Any, Any]] | None:
    """The parameters of scenario ``kind`` (built in, or added with registry.register)."""
    schema = SCHEMA.get(kind)
    if schema is None and kind in KINDS:
        schema = dict(KINDS[kind].schema)
    return schema


_WORD = re.compile(r"[A-Za-z0-9_]+\Z")


def check_scenario(data: Any) -> dict[str, Any]:
    """A copy of ``data`` if it is a valid scenario; ExplorerError naming the problem otherwise."""
    if type(data) is not dict or type(data.get("kind")) is not str:
        raise ExplorerError(f"a scenario is a dict with a 'kind', got {data!r}")
    kind = data["kind"]
    schema = schema_of(kind)
    if schema is None:
        known = ", ".join(sorted({*SCHEMA, *KINDS}))
        raise ExplorerError(f"unknown scenario kind {kind!r} (known: {known})")
    extra = set(data) - set(schema) - {"kind"}
    missing = set(schema) - set(data)
    if extra or missing:
        raise ExplorerError(
            f"scenario {kind!r} takes exactly {sorted(schema)}; "
            f"unknown {sorted(extra)}, missing {sorted(missing)}"
        )
    out: dict[str, Any] = {"kind": kind}
    for key, (typ, a, b) in schema.items():
        out[key] = _check(kind, key, data[key], typ, a, b)
    if kind == "buffer" and sum(out["producers"]) != sum(out["consumers"]):
        raise ExplorerError("scenario 'buffer': producers and consumers must move as many items")
    if kind == "rw" and out["readers"] + out["writers"] < 2:
        raise ExplorerError("scenario 'rw' needs at least two threads")
    return out


def _check(kind: str, key: str, v: Any, typ: str, a: Any, b: Any) -> Any:
    where = f"scenario {kind!r}, parameter {key!r}"
    if typ == "int":
        if type(v) is not int or not a <= v <= b:
            raise ExplorerError(f"{where} must be an integer from {a} to {b}, got {v!r}")
        return v
    if typ == "str":
        if v not in a:
            raise ExplorerError(f"{where} must be one of {', '.join(a)}, got {v!r}")
        return v
    if type(v) is not list or not 1 <= len(v) <= b:
        raise ExplorerError(f"{where} must be a list of 1 to {b} items, got {v!r}")
    if typ == "ints":
        lo, hi = a
        if not all(type(x) is int and lo <= x <= hi for x in v):
            raise ExplorerError(f"{where}: every item must be an integer from {lo} to {hi}")
        return list(v)
    if not all(type(x) is str and re.fullmatch(a, x) for x in v):
        raise ExplorerError(f"{where}: every item must match {a}, got {v!r}")
    return list(v)


@dataclass(frozen=True, slots=True)
class Schedule:
    scenario: dict[str, Any]
    granularity: str  # "line" | "opcode"
    time_slice: int
    deviations: tuple[tuple[int, int], ...]


def encode(s: Schedule) -> str:
    params = ",".join(
        f"{k}={'+'.join(str(x) for x in v) if isinstance(v, list) else v}"
        for k, v in sorted(s.scenario.items())
        if k != "kind"
    )
    g = "O" if s.granularity == "opcode" else "L"
    devs = ",".join(f"{i}.{k}" for i, k in s.deviations) or "-"
    return f"{s.scenario['kind']}:{params}:{g}{s.time_slice}:{devs}"


def decode(text: str) -> Schedule:
    """The Schedule a replay string describes; ExplorerError if it is malformed."""
    if type(text) is not str or len(text) > 4000:
        raise ExplorerError("a replay string is a short piece of text")
    parts = text.strip().split(":")
    if len(parts) != 4:
        raise ExplorerError(
            f"a replay string has four parts separated by ':' "
            f"(scenario:parameters:granularity:preemptions), got {text!r}"
        )
    kind, params, gran, devs = parts
    schema = schema_of(kind)
    if schema is None:
        raise ExplorerError(f"unknown scenario {kind!r} in the replay string")
    data: dict[str, Any] = {"kind": kind}
    for item in filter(None, params.split(",")):
        key, eq, value = item.partition("=")
        if not eq or key not in schema:
            raise ExplorerError(f"unknown parameter {item!r} in the replay string")
        typ = schema[key][0]
        if typ in ("int", "ints"):
            try:
                numbers = [int(x) for x in value.split("+")]
            except ValueError:
                raise ExplorerError(f"parameter {key!r} must be a number, got {value!r}") from None
            data[key] = numbers if typ == "ints" else numbers[0]
        else:
            data[key] = value.split("+") if typ == "strs" else value
    scenario = check_scenario(data)
    if not gran or gran[0] not in GRANULARITY or not gran[1:].isdigit():
        raise ExplorerError(f"the granularity part must look like L32 or O32, got {gran!r}")
    time_slice = int(gran[1:])
    if not 1 <= time_slice <= 10_000:
        raise ExplorerError(f"the time slice must be from 1 to 10000, got {time_slice}")
    deviations: list[tuple[int, int]] = []
    if devs != "-":
        for item in devs.split(","):
            i, dot, k = item.partition(".")
            if not (dot and i.isdigit() and k.isdigit() and int(k) >= 1):
                raise ExplorerError(f"a preemption looks like 17.1 (decision.offset), got {item!r}")
            deviations.append((int(i), int(k)))
    if len({i for i, _ in deviations}) != len(deviations):
        raise ExplorerError("a decision appears twice in the preemptions")
    return Schedule(scenario, GRANULARITY[gran[0]], time_slice, tuple(sorted(deviations)))
