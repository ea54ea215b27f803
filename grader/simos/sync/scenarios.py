"""Test programs for the locks and the condition variable, built from plain data. STANDARD LIBRARY ONLY.

A scenario is a dict such as ``{"kind": "lock", "cls": "SpinLock", "threads": 2,
"iterations": 2}`` (checked by schedule.check_scenario). ``build(module, scenario)``
creates the objects from the submission and returns a ``Program`` (program.py): the
thread bodies, the monitor that checks their events (monitor.py, problems.py), and the
roots used to name objects in reports ("bb.mutex"). ``monitor_for(scenario)`` builds the
same monitor alone, which is what the trusted parent uses to re-check the events a
worker returns. The classic problems' programs are in classic.py.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from . import classic
from .errors import OwnershipError
from .program import Body, Program, emit, make, point, until, work
from .registry import KINDS
from .rules import monitor_for

__all__ = ["BUILDERS", "Program", "build", "monitor_for"]


def _lock(module: ModuleType, s: dict[str, Any]) -> Program:
    lock = make(module, s["cls"])

    def body() -> None:
        for _ in range(s["iterations"]):
            emit("request")
            lock.acquire()
            emit("enter")
            point("in the critical section")
            emit("exit")
            lock.release()

    bodies: list[Body] = [(f"T{i}", body, ()) for i in range(s["threads"])]
    watch = frozenset({"fetch_and_add"}) if s["kind"] == "ticket" else frozenset()
    return Program(bodies, monitor_for(s), {"lock": lock}, watch)


def _owner(module: ModuleType, s: dict[str, Any]) -> Program:
    m, spare = make(module, "Mutex"), make(module, "Mutex")
    state = {"inside": False, "tried": False}

    def bad_release(mutex: Any, holder: int | None) -> None:
        try:
            mutex.release()
        except OwnershipError:
            emit("bad_release", holder, "OwnershipError")
        except Exception as exc:
            emit("bad_release", holder, type(exc).__name__)
        else:
            emit("bad_release", holder, "returned")

    def owner() -> None:
        m.acquire()
        emit("enter")
        state["inside"] = True
        until(lambda: state["tried"], "T1 has tried to release the mutex")
        point("in the critical section")
        emit("exit")
        m.release()

    def intruder() -> None:
        bad_release(spare, None)
        until(lambda: state["inside"], "T0 holds the mutex")
        bad_release(m, 0)
        state["tried"] = True
        m.acquire()
        emit("enter")
        point("in the critical section")
        emit("exit")
        m.release()

    return Program([("T0", owner, ()), ("T1", intruder, ())], monitor_for(s), {"m": m}, state=state)


def _nobusy(module: ModuleType, s: dict[str, Any]) -> Program:
    m = make(module, "Mutex")
    state = {"held": False}

    def holder() -> None:
        m.acquire()
        emit("enter")
        state["held"] = True
        emit("hold", work(1))
        for _ in range(s["hold"]):
            point("in a long critical section")
        emit("unhold", work(1))
        emit("exit")
        m.release()

    def waiter() -> None:
        until(lambda: state["held"], "T0 holds the mutex")
        m.acquire()
        emit("enter")
        emit("exit")
        m.release()

    return Program([("T0", holder, ()), ("T1", waiter, ())], monitor_for(s), {"m": m})


def _condition(module: ModuleType, s: dict[str, Any]) -> Program:
    m = make(module, "Mutex")
    cv = make(module, "Condition", m)
    state = {"flag": False}
    waiters = s["waiters"]

    def waiter() -> None:
        m.acquire()
        emit("enter")
        while not state["flag"]:
            emit("exit")
            emit("wait")
            cv.wait()
            emit("woke")
            emit("enter")
        emit("exit")
        m.release()

    def signaller() -> None:
        m.acquire()
        emit("enter")
        state["flag"] = True
        emit("set")
        point("after setting the flag")
        if s["mode"] == "broadcast":
            cv.broadcast()
            emit("broadcast")
        else:
            for _ in range(waiters):
                cv.signal()
                emit("signal")
        emit("exit")
        m.release()

    bodies: list[Body] = [(f"T{i}", waiter, ()) for i in range(waiters)]
    bodies.append((f"T{waiters}", signaller, ()))
    return Program(bodies, monitor_for(s), {"m": m, "cv": cv})


BUILDERS: dict[str, Callable[[ModuleType, dict[str, Any]], Program]] = {
    "lock": _lock,
    "ticket": _lock,
    "owner": _owner,
    "nobusy": _nobusy,
    "condition": _condition,
    "semaphore": classic.semaphore,
    "buffer": classic.buffer,
    "rw": classic.rw,
    "rw_fair": classic.rw_fair,
    "rw_leave": classic.rw_leave,
    "rw_share": classic.rw_share,
    "barrier": classic.barrier,
}


def build(module: ModuleType, s: dict[str, Any]) -> Program:
    """The program of scenario ``s`` on the submission ``module`` (raises SubmissionShapeError)."""
    builder = BUILDERS.get(s["kind"])
    if builder is None:
        builder = KINDS[s["kind"]].build  # a kind added with registry.register
    return builder(module, s)
