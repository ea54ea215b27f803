"""Test programs for the semaphore and the classic problems (see scenarios.py). STANDARD LIBRARY ONLY."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .program import PATIENCE, Body, Program, asleep, emit, make, point, steps, until
from .rules import monitor_for


def semaphore(module: ModuleType, s: dict[str, Any]) -> Program:
    """Each thread runs its program (P: acquire, V: release, C: a step holding a permit).
    A last thread then takes every permit that should be left: a lost release shows."""
    sem = make(module, "Semaphore", s["initial"])
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


def buffer(module: ModuleType, s: dict[str, Any]) -> Program:
    bb = make(module, "BoundedBuffer", s["capacity"])

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


def rw(module: ModuleType, s: dict[str, Any]) -> Program:
    rw = make(module, "ReadWriteLock")

    def body(role: str) -> None:
        for _ in range(s["iterations"]):
            _rw_enter(rw, role)
            point("reading" if role == "r" else "writing")
            _rw_leave(rw, role)

    roles = "r" * s["readers"] + "w" * s["writers"]
    return Program([(f"T{i}", body, (r,)) for i, r in enumerate(roles)], monitor_for(s), {"rw": rw})


def rw_leave(module: ModuleType, s: dict[str, Any]) -> Program:
    """Every reader gets in, waits until all are in, and leaves; a writer then asks to write.

    The readers leave together, so a ``release_read`` whose count update is not atomic
    loses a decrement after a single preemption (the writer then waits for ever), where the
    general ``rw`` scenario needs two and a search a hundred times longer to show it.
    """
    rw = make(module, "ReadWriteLock")
    n = s["readers"]
    st = {"inside": 0, "left": 0}

    def reader() -> None:
        _rw_enter(rw, "r")
        st["inside"] += 1
        until(lambda: st["inside"] == n, "every reader is inside")
        point("reading")
        _rw_leave(rw, "r")
        st["left"] += 1

    def writer() -> None:
        until(lambda: st["left"] == n, "every reader has left")
        _rw_enter(rw, "w")
        point("writing")
        _rw_leave(rw, "w")

    bodies: list[Body] = [(f"T{i}", reader, ()) for i in range(n)]
    bodies.append((f"T{n}", writer, ()))
    return Program(bodies, monitor_for(s), {"rw": rw})


def rw_fair(module: ModuleType, s: dict[str, Any]) -> Program:
    """T0 reads; writer T1 asks and waits; only then reader T2 asks: T1 must go before T2."""
    rw = make(module, "ReadWriteLock")
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


def rw_share(module: ModuleType, s: dict[str, Any]) -> Program:
    rw = make(module, "ReadWriteLock")
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


def barrier(module: ModuleType, s: dict[str, Any]) -> Program:
    b = make(module, "Barrier", s["threads"])

    def body() -> None:
        for k in range(s["rounds"]):
            emit("arrive", k)
            point("before the barrier")
            b.wait()
            emit("leave", k)

    return Program([(f"T{i}", body, ()) for i in range(s["threads"])], monitor_for(s), {"b": b})
