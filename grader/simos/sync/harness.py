"""Worker-side entry points of the synchronization assignment. STANDARD LIBRARY ONLY.

Runs inside the untrusted worker, because exploring means running the student's code.
It returns plain data only; the trusted parent re-checks the events of a failing run
with the same monitor before giving a verdict.

``explore(module, {"scenario": {...}, "granularity": "line", "config": {...},
"budget": {...}})`` searches (bounded, then sampled) and returns::

    {"verdict": "passed", "search": None, "failure": None}
    {"verdict": "failed",
     "search": {"schedules": n, "complete_bound": k, "phase": ..., "timed_out": bool,
                "per_phase": {...}},
     "failure": <run report>}

``replay(module, {"schedule": "<replay string>", "config": {...}})`` runs one schedule
and returns ``{"verdict": "passed", "failure": None}`` or ``{"verdict": "failed",
"failure": <run report>}``. A run report is ``Explorer.report`` (explorer.py). A pass
says nothing about the submission's code, so that every correct submission answers
alike (a student kit compares answers with the reference's).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .errors import ExplorerError
from .explorer import Explorer
from .schedule import decode
from .scheduler import RunConfig
from .search import SearchBudget, failed

_CONFIG_KEYS = {"max_steps", "stall_s"}
_BUDGET_KEYS = {
    "preemption_bound",
    "max_schedules",
    "random_schedules",
    "pct_schedules",
    "pct_depth",
    "random_switch",
    "seed",
    "time_budget_s",
    "shrink_runs",
    "shrink_s",
}


def _fields(data: Any, allowed: set[str], what: str) -> dict[str, Any]:
    if data is None:
        return {}
    if type(data) is not dict or set(data) - allowed:
        raise ExplorerError(f"{what} takes only {sorted(allowed)}, got {data!r}")
    for key, value in data.items():
        if type(value) not in (int, float) or value < 0:
            raise ExplorerError(f"{what}: {key} must be a number >= 0, got {value!r}")
    return dict(data)


def _config(args: dict[str, Any], time_slice: int) -> RunConfig:
    return RunConfig(time_slice=time_slice, **_fields(args.get("config"), _CONFIG_KEYS, "config"))


def explore(module: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """Search the schedules of one scenario (see the module docstring)."""
    granularity = args.get("granularity", "line")
    if granularity not in ("line", "opcode"):
        raise ExplorerError(f"granularity must be 'line' or 'opcode', got {granularity!r}")
    time_slice = args.get("time_slice", 32)
    if type(time_slice) is not int or not 1 <= time_slice <= 10_000:
        raise ExplorerError(f"time_slice must be an integer from 1 to 10000, got {time_slice!r}")
    budget = SearchBudget(**_fields(args.get("budget"), _BUDGET_KEYS, "budget"))
    explorer = Explorer(module, args.get("scenario", {}), granularity, _config(args, time_slice))
    outcome = explorer.search(budget)
    if outcome.failure is None:
        # The same answer for every correct submission (a student kit compares answers).
        return {"verdict": "passed", "search": None, "failure": None}
    return {
        "verdict": "failed",
        "search": {
            "schedules": outcome.schedules,
            "complete_bound": outcome.complete_bound,
            "phase": outcome.phase,
            "timed_out": outcome.timed_out,
            "per_phase": dict(outcome.per_phase),
        },
        "failure": explorer.report(outcome.failure),
    }


def replay(module: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """Run exactly the schedule of a replay string."""
    schedule = decode(args.get("schedule", ""))
    explorer = Explorer(
        module, schedule.scenario, schedule.granularity, _config(args, schedule.time_slice)
    )
    run = explorer.replay(dict(schedule.deviations))
    if not failed(run):
        return {"verdict": "passed", "failure": None}
    return {"verdict": "failed", "failure": explorer.report(run)}
