"""The explorer: one scenario on one submission, run under chosen schedules. STANDARD LIBRARY ONLY.

``Explorer(module, scenario, granularity, config)`` knows which files are the student's
(every ``.py`` file in the folder of ``module``), which of their methods to track, and
how to build the scenario's test program afresh for each run. ``execute(strategy)``
runs it once; ``search(budget)`` explores (search.py); ``report(run)`` gives the failing
run as plain data for the trusted parent (schedule string, verdict, threads, steps,
events).
"""

from __future__ import annotations

import os
import types
from dataclasses import replace
from types import CodeType, ModuleType
from typing import Any

from . import record
from .analysis import judge
from .kernel import guard_time_sleep
from .names import Namer, Places
from .program import Program
from .registry import KINDS
from .scenarios import build
from .schedule import Schedule, check_scenario, encode
from .scheduler import Run, RunConfig, Stop, Strategy
from .search import SearchBudget, SearchOutcome, search
from .strategies import Replay
from .tracing import ApiMethod, Tracer

API: dict[str, dict[str, str]] = {
    "SpinLock": {"acquire": "acquire", "release": "release"},
    "TicketLock": {"acquire": "acquire", "release": "release"},
    "Mutex": {"acquire": "acquire", "release": "release"},
    "Semaphore": {"acquire": "", "release": ""},
    "Condition": {"wait": "", "signal": "", "broadcast": ""},
    "BoundedBuffer": {"put": "", "get": ""},
    "ReadWriteLock": {
        "acquire_read": "",
        "release_read": "",
        "acquire_write": "",
        "release_write": "",
    },
    "Barrier": {"wait": ""},
}
FOCUS: dict[str, tuple[str, ...]] = {
    "owner": ("Mutex",),
    "nobusy": ("Mutex",),
    "condition": ("Condition",),
    "semaphore": ("Semaphore",),
    "buffer": ("BoundedBuffer",),
    "rw": ("ReadWriteLock",),
    "rw_fair": ("ReadWriteLock",),
    "rw_leave": ("ReadWriteLock",),
    "rw_share": ("ReadWriteLock",),
    "barrier": ("Barrier",),
}
_OWN_DIR = os.path.dirname(os.path.abspath(__file__))
_GRADER_DIR = os.path.dirname(os.path.dirname(_OWN_DIR))
MAX_EVENTS = 4000


def api_methods(module: ModuleType) -> dict[CodeType, ApiMethod]:
    """The code objects of the submission's primitive methods (see API)."""
    found: dict[CodeType, ApiMethod] = {}
    for cls_name, methods in API.items():
        cls = vars(module).get(cls_name)
        if not isinstance(cls, type):
            continue
        for name, role in methods.items():
            fn = getattr(cls, name, None)
            if isinstance(fn, types.FunctionType):
                found.setdefault(fn.__code__, ApiMethod(f"{cls_name}.{name}", role))
    return found


def student_files(module: ModuleType) -> tuple[str, Any]:
    """The submission's folder, and a test for "is this file the student's?"."""
    file = getattr(module, "__file__", None)
    base = os.path.dirname(os.path.abspath(file)) if isinstance(file, str) else os.getcwd()
    prefix = base + os.sep
    grader_prefix = _GRADER_DIR + os.sep

    def is_student(filename: str) -> bool:
        if not filename.startswith(prefix) or not filename.endswith(".py"):
            return False
        return not filename.startswith(grader_prefix) and "-packages" not in filename

    return base, is_student


class Explorer:
    def __init__(
        self,
        module: ModuleType,
        scenario: dict[str, Any],
        granularity: str = "line",
        config: RunConfig | None = None,
        focus: bool = True,
    ) -> None:
        guard_time_sleep()
        self.module = module
        self.scenario = check_scenario(scenario)
        self.granularity = granularity
        self.config = config or RunConfig()
        base, is_student = student_files(module)
        self.places = Places(is_student, base)
        kind = self.scenario["kind"]
        classes = FOCUS.get(kind) or (self.scenario.get("cls", ""),)
        added = KINDS.get(kind)  # a kind from registry.register: its own primitives module
        primitives = added.primitives(module) if added and added.primitives else module
        self.tracer = Tracer(
            is_student, granularity, api_methods(primitives), frozenset(classes) if focus else None
        )

    def execute(self, strategy: Strategy) -> Run:
        """One run of a fresh copy of the test program."""
        program = build(self.module, self.scenario)
        run = Run(
            program.bodies,
            strategy,
            self.config,
            self.tracer,
            program.monitor.feed,
            program.watch_ops,
        )
        run.context = program
        run.execute()
        if run.stop is not None and run.stop.kind == "complete":
            problem = program.monitor.finish()
            if problem:
                run.stop = Stop("violation", problem)
        return run

    def search(self, budget: SearchBudget) -> SearchOutcome:
        return search(self.execute, replace(budget, time_slice=self.config.time_slice))

    def replay(self, deviations: dict[int, int]) -> Run:
        return self.execute(Replay(deviations))

    def schedule_string(self, run: Run) -> str:
        return encode(
            Schedule(self.scenario, self.granularity, self.config.time_slice, tuple(run.deviations))
        )

    def report(self, run: Run) -> dict[str, Any]:
        """The run as plain data (see the module docstring)."""
        program: Program = run.context
        namer = Namer(program.roots)
        verdict = judge(run, program.monitor, namer, self.places)
        rows, omitted = record.steps(run, namer, self.places, program.monitor)
        for row in rows:
            for key, limit in (("where", 200), ("code", 200), ("note", 500)):
                row[key] = _cap(row[key], limit)
        return {
            "status": verdict.status,
            "message": _cap(verdict.message, 3000),
            "culprit": verdict.culprit,
            "cycle": list(verdict.cycle),
            "schedule": self.schedule_string(run),
            "preemptions": len(run.deviations),
            "threads": [
                {
                    "id": e.tid,
                    "state": e.state,
                    "where": _cap(e.where, 200),
                    "code": _cap(e.code, 200),
                    "waiting": _cap(e.waiting, 500),
                    "calls": [_cap(c, 200) for c in e.calls[:40]],
                    "holds": [_cap(h, 200) for h in e.holds[:40]],
                }
                for e in verdict.threads
            ],
            "steps": rows,
            "omitted": omitted,
            "total_steps": run.total,
            "events": [[_plain(x) for x in ev] for ev in run.events[:MAX_EVENTS]],
            "escaped": list(run.escaped),
        }


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(x: Any) -> Any:
    return x if type(x) in (int, str, bool, type(None)) else repr(x)[:100]
