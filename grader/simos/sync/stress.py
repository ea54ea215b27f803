"""The same test programs on real threads, without the explorer: a stress test. STANDARD LIBRARY ONLY.

For contrast only (benchmarks/sync_explorer.py): this is how most graders test
concurrent code, and under the GIL it almost never sees a race. ``stress(module,
scenario, seconds)`` runs the scenario's program again and again on real threads, with
the same monitor, until a run breaks a rule, raises, or does not finish within
``hang_s`` (a deadlock or a lost wake-up), or the time is up.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from . import program as test_program
from . import scenarios
from .kernel import current_thread_id


@dataclass
class StressResult:
    runs: int
    problem: str | None  # what was seen, or None


class RealHarness:
    """What the test programs call on real threads (see scenarios.point/emit/until)."""

    def __init__(self, monitor: Any, names: dict[int, int]) -> None:
        self.monitor = monitor
        self.names = names  # real thread id -> index of the body
        self.lock = threading.Lock()
        self.problem: str | None = None
        self.started = time.monotonic()

    def tid(self) -> int:
        return self.names.get(current_thread_id(), -1)

    def point(self, label: str) -> None:
        time.sleep(0)

    def emit(self, event: tuple[Any, ...]) -> None:
        with self.lock:
            found = self.monitor.feed(self.tid(), event)
            if found and self.problem is None:
                self.problem = found

    def until(self, predicate: Any, label: str) -> None:
        deadline = time.monotonic() + 2.0
        while not predicate() and time.monotonic() < deadline:
            time.sleep(0.0005)

    def steps(self, tid: int) -> int:
        return int((time.monotonic() - self.started) * 1000)  # milliseconds stand in for steps


def stress_once(module: ModuleType, scenario: dict[str, Any], hang_s: float = 1.0) -> str | None:
    program = scenarios.build(module, scenario)
    names: dict[int, int] = {}
    harness = RealHarness(program.monitor, names)
    errors: list[BaseException] = []
    ready = threading.Barrier(len(program.bodies) + 1)

    def wrap(index: int, fn: Any, args: tuple[Any, ...]) -> None:
        names[current_thread_id()] = index
        ready.wait()
        try:
            fn(*args)
        except BaseException as exc:  # a bug in the submission: report it
            errors.append(exc)

    threads = [
        threading.Thread(target=wrap, args=(i, fn, args), daemon=True)
        for i, (_name, fn, args) in enumerate(program.bodies)
    ]
    test_program.REAL = harness
    try:
        for t in threads:
            t.start()
        ready.wait()
        deadline = time.monotonic() + hang_s
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
    finally:
        test_program.REAL = None
    if harness.problem:
        return harness.problem
    if errors:
        return f"{type(errors[0]).__name__}: {errors[0]}"
    if any(t.is_alive() for t in threads):
        return "the threads did not finish (deadlock or lost wake-up)"
    return program.monitor.finish()


def stress(module: ModuleType, scenario: dict[str, Any], seconds: float) -> StressResult:
    """Run ``scenario`` on real threads for about ``seconds``; stop at the first problem."""
    end = time.monotonic() + seconds
    runs = 0
    while time.monotonic() < end:
        runs += 1
        problem = stress_once(module, scenario)
        if problem:
            return StressResult(runs, problem)
    return StressResult(runs, None)
