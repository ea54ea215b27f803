"""Worker-side entry points: run scenarios and the echo world with the submission's code.

Runs inside the untrusted worker and returns plain data only; the trusted parent compares
scenario results with the reference and replays the echo record on its own kernel.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from . import scenario
from .echo import ClientSpec, run_world


def run(module: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """One scenario: ``{"ops": [...], "costs": bool}`` -> results (and costs)."""
    return scenario.run(module, args["ops"], costs=bool(args.get("costs"))).to_data()


def run_many(module: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """Several scenarios in one call: ``{"scenarios": [[...], ...], "costs": bool}``."""
    costs = bool(args.get("costs"))
    return {"runs": [scenario.run(module, ops, costs=costs).to_data() for ops in args["scenarios"]]}


def echo(module: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """The echo world: ``{"clients": [...], "schedule": [...]}`` -> the server's record."""
    clients = [ClientSpec.from_data(c) for c in args["clients"]]
    schedule = [int(x) for x in args.get("schedule", [])]
    return {"trace": run_world(module, clients, schedule)}
