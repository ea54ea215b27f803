"""What a test program is made of, and what it may call while it runs. STANDARD LIBRARY ONLY.

A ``Program`` is the thread bodies of one scenario, the monitor that checks their events
and the named roots used to name objects in reports. While it runs under the explorer,
its threads talk to the run through ``point`` (a step of the test program itself),
``emit`` (an event for the monitor) and ``until`` (wait until a condition holds); on
real threads (stress.py) the same calls go to ``REAL``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from .errors import SubmissionShapeError
from .monitor import Monitor
from .runtime import controller
from .scheduler import BLOCKED, Run

Body = tuple[str, Callable[..., Any], tuple[Any, ...]]
LOCKS = ("SpinLock", "TicketLock", "Mutex")
PATIENCE = 64  # steps after which a thread that asked and did not get in counts as waiting


@dataclass
class Program:
    bodies: list[Body]
    monitor: Monitor
    roots: dict[str, Any]
    watch_ops: frozenset[str] = frozenset()
    state: dict[str, Any] = field(default_factory=dict)


REAL: Any = None  # stress.RealHarness while a program runs on real threads (benchmarks)


def _run() -> Run:
    run = controller()
    assert run is not None, "test programs run under the explorer"
    return run


def point(label: str) -> None:
    if REAL is not None and controller() is None:
        REAL.point(label)
        return
    _run().point(label)


def emit(*event: Any) -> None:
    if REAL is not None and controller() is None:
        REAL.emit(event)
        return
    _run().emit(event)


def until(predicate: Callable[[], bool], label: str) -> None:
    if REAL is not None and controller() is None:
        REAL.until(predicate, label)
        return
    _run().wait_until(predicate, label)


def asleep(tid: int) -> bool:
    if REAL is not None and controller() is None:
        return False
    t = _run().threads[tid]
    return t.state is BLOCKED and t.blocked_on is not None and t.blocked_on[0] == "queue"


def work(tid: int) -> int:
    """Steps thread ``tid`` has run so far (0 on real threads, which cannot count them)."""
    if REAL is not None and controller() is None:
        return 0
    return _run().threads[tid].steps


def steps(tid: int) -> int:
    """Steps of thread ``tid`` so far; on real threads, milliseconds (to wait a while)."""
    if REAL is not None and controller() is None:
        return int(REAL.steps(tid))
    return _run().threads[tid].steps


def submission_class(module: ModuleType, name: str) -> Any:
    cls = getattr(module, name, None)
    if not isinstance(cls, type):
        raise SubmissionShapeError(
            f"primitives.py has no class {name}; keep the class names of the template"
        )
    return cls


def make(module: ModuleType, name: str, *args: Any) -> Any:
    cls = submission_class(module, name)
    try:
        return cls(*args)
    except TypeError as exc:
        shown = ", ".join(repr(a) for a in args)
        raise SubmissionShapeError(
            f"could not create {name}({shown}): {exc}. Keep the constructor signature of the template."
        ) from exc
