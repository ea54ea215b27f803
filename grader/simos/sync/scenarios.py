"""Test programs that exercise the submission's primitives, built from plain data. STANDARD LIBRARY ONLY.

A scenario is a dict such as ``{"kind": "lock", "cls": "SpinLock", "threads": 2,
"iterations": 2}``. ``build(module, scenario)`` creates the objects from the submission
and returns a ``Program``: the thread bodies, the monitor that checks their events
(monitor.py, problems.py), and the named roots used to name objects in reports
("bb.mutex"). ``monitor_for(scenario)`` builds the same monitor alone, which is what the
trusted parent uses to re-check the events a worker returns.

Thread bodies run under the explorer and talk to it through the calling thread's run:
``point`` (a step of the test program, e.g. inside the critical section), ``emit`` (an
event) and ``until`` (wait, as the test program, until a condition holds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from .errors import OwnershipError, SubmissionShapeError
from .monitor import Both, ConditionFlag, Monitor, MutualExclusion, Ownership, TicketOrder
from .problems import (
    BarrierRounds,
    BufferDelivery,
    NoBusyWaiting,
    ReadersWriters,
    SemaphoreCount,
)
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


def steps(tid: int) -> int:
    if REAL is not None and controller() is None:
        return int(REAL.steps(tid))
    return _run().threads[tid].steps


def _cls(module: ModuleType, name: str) -> Any:
    cls = getattr(module, name, None)
    if not isinstance(cls, type):
        raise SubmissionShapeError(
            f"primitives.py has no class {name}; keep the class names of the template"
        )
    return cls


def _make(module: ModuleType, name: str, *args: Any) -> Any:
    cls = _cls(module, name)
    try:
        return cls(*args)
    except TypeError as exc:
        shown = ", ".join(repr(a) for a in args)
        raise SubmissionShapeError(
            f"could not create {name}({shown}): {exc}. Keep the constructor signature of the template."
        ) from exc


# ---------------------------------------------------------------------------- locks


def _lock(module: ModuleType, s: dict[str, Any]) -> Program:
    lock = _make(module, s["cls"])

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
    m, spare = _make(module, "Mutex"), _make(module, "Mutex")
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
    m = _make(module, "Mutex")
    state = {"held": False}

    def holder() -> None:
        m.acquire()
        emit("enter")
        state["held"] = True
        emit("hold", steps(1))
        for _ in range(s["hold"]):
            point("in a long critical section")
        emit("unhold", steps(1))
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
    m = _make(module, "Mutex")
    cv = _make(module, "Condition", m)
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


# ---------------------------------------------------------------------------- problems


def _semaphore(module: ModuleType, s: dict[str, Any]) -> Program:
    """Each thread runs its program (P: acquire, V: release, C: a step holding a permit).
    A last thread then takes every permit that should be left: a lost release shows."""
    sem = _make(module, "Semaphore", s["initial"])
    count = {"free": s["initial"], "finished": 0}
    workers = len(s["threads"])

    def body(program: str) -> None:
        for op in program:
            if op == "P":
                emit("p")
                sem.acquire()
                emit("p_done")
            elif op == "V":
                emit("v")
                sem.release()
                emit("v_done")
            else:
                point("holding a permit")
            count["free"] += {"P": -1, "V": 1}.get(op, 0)
        count["finished"] += 1

    def drain() -> None:
        until(lambda: count["finished"] == workers, "the other threads have finished")
        for _ in range(count["free"]):
            emit("p")
            sem.acquire()
            emit("p_done")

    bodies: list[Body] = [(f"T{i}", body, (p,)) for i, p in enumerate(s["threads"])]
    bodies.append((f"T{workers}", drain, ()))
    return Program(bodies, monitor_for(s), {"sem": sem})


def _plain_item(x: Any) -> Any:
    return x if type(x) is int else f"<{type(x).__name__}>"


def _buffer(module: ModuleType, s: dict[str, Any]) -> Program:
    bb = _make(module, "BoundedBuffer", s["capacity"])

    def producer(base: int, count: int) -> None:
        for i in range(count):
            emit("put", base + i)
            bb.put(base + i)
            emit("put_done", base + i)

    def consumer(count: int) -> None:
        for _ in range(count):
            emit("get")
            emit("got", _plain_item(bb.get()))

    bodies: list[Body] = [
        (f"T{i}", producer, (100 * (i + 1), n)) for i, n in enumerate(s["producers"])
    ]
    first = len(bodies)
    bodies += [(f"T{first + i}", consumer, (n,)) for i, n in enumerate(s["consumers"])]
    return Program(bodies, monitor_for(s), {"bb": bb})


def _rw_enter(rw: Any, role: str) -> None:
    emit("request", role)
    (rw.acquire_read if role == "r" else rw.acquire_write)()
    emit("enter", role)


def _rw_leave(rw: Any, role: str) -> None:
    emit("exit", role)
    (rw.release_read if role == "r" else rw.release_write)()


def _rw(module: ModuleType, s: dict[str, Any]) -> Program:
    rw = _make(module, "ReadWriteLock")

    def body(role: str) -> None:
        for _ in range(s["iterations"]):
            _rw_enter(rw, role)
            point("reading" if role == "r" else "writing")
            _rw_leave(rw, role)

    roles = "r" * s["readers"] + "w" * s["writers"]
    return Program([(f"T{i}", body, (r,)) for i, r in enumerate(roles)], monitor_for(s), {"rw": rw})


def _rw_fair(module: ModuleType, s: dict[str, Any]) -> Program:
    """T0 reads; writer T1 asks and waits; only then reader T2 asks: T1 must go before T2."""
    rw = _make(module, "ReadWriteLock")
    st: dict[str, Any] = {"r1": False, "w": None, "r2": None, "r2_in": False}

    def waiting(tid: int, key: str) -> bool:
        asked = st[key]
        return asked is not None and (asleep(tid) or steps(tid) - asked >= PATIENCE)

    def first_reader() -> None:
        _rw_enter(rw, "r")
        st["r1"] = True
        until(lambda: st["r2_in"] or waiting(2, "r2"), "T2 has asked to read")
        point("reading")
        _rw_leave(rw, "r")

    def writer() -> None:
        until(lambda: st["r1"], "T0 is reading")
        st["w"] = steps(1)
        _rw_enter(rw, "w")
        point("writing")
        _rw_leave(rw, "w")

    def late_reader() -> None:
        until(lambda: waiting(1, "w"), "writer T1 is waiting")
        st["r2"] = steps(2)
        _rw_enter(rw, "r")
        st["r2_in"] = True
        point("reading")
        _rw_leave(rw, "r")

    bodies: list[Body] = [("T0", first_reader, ()), ("T1", writer, ()), ("T2", late_reader, ())]
    return Program(bodies, monitor_for(s), {"rw": rw})


def _rw_share(module: ModuleType, s: dict[str, Any]) -> Program:
    rw = _make(module, "ReadWriteLock")
    st: dict[str, Any] = {"r1": False, "r2": None, "r2_in": False}

    def first_reader() -> None:
        _rw_enter(rw, "r")
        st["r1"] = True
        until(
            lambda: (
                st["r2_in"]
                or (st["r2"] is not None and (asleep(1) or steps(1) - st["r2"] >= PATIENCE))
            ),
            "T1 has asked to read",
        )
        emit("shared", 1, st["r2_in"])
        point("reading")
        _rw_leave(rw, "r")

    def second_reader() -> None:
        until(lambda: st["r1"], "T0 is reading")
        st["r2"] = steps(1)
        _rw_enter(rw, "r")
        st["r2_in"] = True
        point("reading")
        _rw_leave(rw, "r")

    bodies: list[Body] = [("T0", first_reader, ()), ("T1", second_reader, ())]
    return Program(bodies, monitor_for(s), {"rw": rw})


def _barrier(module: ModuleType, s: dict[str, Any]) -> Program:
    b = _make(module, "Barrier", s["threads"])

    def body() -> None:
        for k in range(s["rounds"]):
            emit("arrive", k)
            point("before the barrier")
            b.wait()
            emit("leave", k)

    return Program([(f"T{i}", body, ()) for i in range(s["threads"])], monitor_for(s), {"b": b})


BUILDERS: dict[str, Callable[[ModuleType, dict[str, Any]], Program]] = {
    "lock": _lock,
    "ticket": _lock,
    "owner": _owner,
    "nobusy": _nobusy,
    "condition": _condition,
    "semaphore": _semaphore,
    "buffer": _buffer,
    "rw": _rw,
    "rw_fair": _rw_fair,
    "rw_share": _rw_share,
    "barrier": _barrier,
}


def monitor_for(s: dict[str, Any]) -> Monitor:
    """The monitor of scenario ``s`` (the same in the worker and in the parent)."""
    kind = s["kind"]
    if kind == "lock":
        return MutualExclusion()
    if kind == "ticket":
        return TicketOrder()
    if kind == "owner":
        return Ownership("the mutex")
    if kind == "nobusy":
        return Both(MutualExclusion("the mutex"), NoBusyWaiting(s["limit"]))
    if kind == "condition":
        return ConditionFlag()
    if kind == "semaphore":
        return SemaphoreCount(s["initial"])
    if kind == "buffer":
        return BufferDelivery(s["capacity"])
    if kind in ("rw", "rw_share"):
        return ReadersWriters(writers_first=False)
    if kind == "rw_fair":
        return ReadersWriters(writers_first=True)
    if kind == "barrier":
        return BarrierRounds(s["threads"])
    raise ValueError(f"unknown scenario kind {kind!r}")


def build(module: ModuleType, s: dict[str, Any]) -> Program:
    """The program of scenario ``s`` on the submission ``module`` (raises SubmissionShapeError)."""
    return BUILDERS[s["kind"]](module, s)
