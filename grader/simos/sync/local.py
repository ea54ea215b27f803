"""Replay a reported interleaving on your own code, in your own Python. STANDARD LIBRARY ONLY.

The report of a failing test gives a replay string. In the folder of your code::

    from grader.simos.sync import replay
    replay("primitives", "lock:cls=SpinLock,iterations=2,threads=2:L32:3.1,17.1")

runs exactly that interleaving under the explorer and prints it step by step (a thread per
indent level); set breakpoints or add prints to your code and run it again: the schedule
is the same every time.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType
from typing import Any

from .explorer import Explorer
from .schedule import decode
from .scheduler import RunConfig
from .search import SearchBudget

_WHY = {
    "preempted": "is preempted",
    "slice": "used up its time slice",
    "yield": "yields",
    "blocked": "is blocked",
    "done": "has finished",
}


def _load(module: str | ModuleType) -> ModuleType:
    if isinstance(module, ModuleType):
        return module
    name = module[:-3] if module.endswith(".py") else module
    here = os.getcwd()
    if here not in sys.path:
        sys.path.insert(0, here)
    return importlib.import_module(name)


def format_steps(report: dict[str, Any]) -> str:
    """The run report (Explorer.report) as text: one line per step, indented by thread."""
    lines = []
    for row in report["steps"]:
        if row["switch"]:
            who = "the explorer's choice" if row["preempted"] else "the default schedule"
            lines.append(f"---- {_WHY.get(row['switch'], row['switch'])}: T{row['t']} runs ({who})")
        pad = "    " * row["t"]
        place = f"{row['where']}  {row['code']}" if row["where"] else ""
        note = f"   [{row['note']}]" if row["note"] and place else row["note"]
        lines.append(f"{pad}T{row['t']}  {place}{note}")
    status = report["status"]
    lines.append("")
    lines.append(
        "Passed: nothing went wrong." if status == "passed" else f"{status}: {report['message']}"
    )
    lines.append(f"Schedule: {report['schedule']}")
    return "\n".join(lines)


def explore(
    module: str | ModuleType,
    scenario: dict[str, Any],
    granularity: str = "line",
    *,
    show: bool = True,
    **budget: Any,
) -> dict[str, Any] | None:
    """Search the interleavings of ``scenario`` on ``module`` as a test does; print the result.

    ``budget``: the fields of SearchBudget (preemption_bound=2, ...). Returns the report of
    the first failing run (see ``replay``), or None when every schedule tried passed.
    """
    explorer = Explorer(_load(module), scenario, granularity)
    outcome = explorer.search(SearchBudget(**budget))
    if outcome.failure is None:
        if show:
            print(f"Passed: {outcome.schedules} schedules, none fails.")
        return None
    report = explorer.report(outcome.failure)
    if show:
        print(format_steps(report))
    return report


def replay(module: str | ModuleType, schedule: str, *, show: bool = True) -> dict[str, Any]:
    """Run the interleaving ``schedule`` (a replay string) on ``module``; print it if ``show``.

    Returns the run report (status, message, steps, threads). Raises ExplorerError for a
    malformed replay string.
    """
    plan = decode(schedule)
    explorer = Explorer(
        _load(module), plan.scenario, plan.granularity, RunConfig(time_slice=plan.time_slice)
    )
    run = explorer.replay(dict(plan.deviations))
    report = explorer.report(run)
    if show:
        print(format_steps(report))
    return report
