"""What went wrong at the end of a run, in words. STANDARD LIBRARY ONLY.

``judge(run, monitor, namer, places)`` turns the scheduler's ``Stop`` into a ``Verdict``:
its status (violation, exception, spinning, deadlock, lost_wakeup, uncontrolled, or
passed), a message for a student, and how each thread ended. A run where nobody can go
on is a *lost wake-up* when some sleeping thread could go on (the lock it waits for is
free, the monitor says its condition holds), and a *deadlock* otherwise; the wait-for
edges between threads (T1 waits for the lock T0 holds) give the cycle.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from .monitor import Monitor
from .names import Namer, Places
from .scheduler import BLOCKED, DONE, Run


@dataclass(frozen=True, slots=True)
class ThreadEnd:
    tid: int
    state: str  # done, blocked, ready, running, escaped
    where: str  # "primitives.py:12" or "" (in the test program)
    code: str
    waiting: str  # "sleeps on bb.not_full", "waits for bb.mutex, held by T0", ""
    calls: tuple[str, ...]  # the submission's methods it is inside, outermost first
    holds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str
    message: str
    threads: tuple[ThreadEnd, ...]
    cycle: tuple[int, ...] = ()
    culprit: int | None = None


def _threads(run: Run, namer: Namer, places: Places) -> tuple[list[ThreadEnd], dict[int, int]]:
    """Each thread's end, and the lock wait-for edges (waiter -> holder)."""
    holders = run.final_holders
    ends: list[ThreadEnd] = []
    edges: dict[int, int] = {}
    running = run.current.tid if run.current is not None else None
    for t, (state, blocked_on, calls, loc) in zip(run.threads, run.final, strict=False):
        where, code = (places.where(*loc), places.source(*loc)) if loc else ("", "")
        holds = tuple(namer(obj) for obj, h in holders.values() if h == t.tid)
        waiting = ""
        if state is BLOCKED and blocked_on is not None:
            waiting = _waiting(blocked_on, namer)
            if len(calls) >= 2 and blocked_on[0] == "queue":
                obj, label = calls[1][0], calls[1][1]  # the primitive the tested class called
                waiting = f"sleeps in {label}({namer(obj)})" if obj is not None else waiting
            inner = calls[-1] if calls else None
            if inner is not None and inner[2] == "acquire" and inner[0] is not None:
                held = holders.get(id(inner[0]))
                if held is not None and held[1] != t.tid:
                    edges[t.tid] = held[1]
                    waiting = f"waits for {namer(inner[0])}, which T{held[1]} holds"
        shown = "escaped" if t.tid in run.escaped else state
        if state not in (BLOCKED, DONE) and t.tid == running:
            shown = "running"
        labels = tuple(
            f"{label}({namer(obj)})" if obj is not None else label for obj, label, _ in calls
        )
        ends.append(ThreadEnd(t.tid, shown, where, code, waiting, labels, holds))
    return ends, edges


def _waiting(blocked_on: tuple[Any, ...], namer: Namer) -> str:
    kind = blocked_on[0]
    if kind == "queue":
        return f"sleeps on {namer(blocked_on[1])}"
    if kind == "join":
        return f"waits for T{blocked_on[1]} to finish"
    return f"(test program) waits until {blocked_on[1]}"


def functional_cycle(edges: dict[int, int]) -> tuple[int, ...]:
    """The first cycle (from the smallest node that reaches one) of a graph with one edge per node."""
    for start in sorted(edges):
        path, node = [start], edges[start]
        while node in edges and node not in path:
            path.append(node)
            node = edges[node]
        if node in path:
            return tuple(path[path.index(node) :])
    return ()


def _stuck(
    run: Run, monitor: Monitor, namer: Namer, ends: list[ThreadEnd], edges: dict[int, int]
) -> Verdict:
    for end, (state, _blocked, calls, _loc) in zip(ends, run.final, strict=False):
        if state is not BLOCKED or end.tid in edges:
            continue  # a thread waiting for a lock somebody holds has not lost a wake-up
        inner = calls[-1] if calls else None
        lock = inner[0] if inner is not None and inner[2] == "acquire" else None
        if lock is not None and id(lock) not in run.final_holders:
            return Verdict(
                "lost_wakeup",
                f"Lost wake-up: T{end.tid} sleeps forever in {calls[-1][1]}() although the "
                f"lock it waits for ({namer(lock)}) is free: it went to sleep after "
                "the lock was released, or the release did not wake it.",
                tuple(ends),
                culprit=end.tid,
            )
        for _obj, label, _ in reversed(calls):
            reason = monitor.could_proceed(end.tid, label)
            if reason:
                return Verdict(
                    "lost_wakeup", f"Lost wake-up: {reason}.", tuple(ends), culprit=end.tid
                )
        if not calls:
            reason = monitor.could_proceed(end.tid, "")
            if reason:
                return Verdict(
                    "lost_wakeup", f"Lost wake-up: {reason}.", tuple(ends), culprit=end.tid
                )
    blocked = [e for e in ends if e.state == "blocked"]
    parts = []
    for e in blocked:
        inside = f" (in {e.calls[0]})" if e.calls else ""
        holding = f" holding {', '.join(e.holds)}," if e.holds else ""
        at = f" at {e.where}" if e.where else ""
        parts.append(f"T{e.tid}{at}{inside}{holding} {e.waiting or 'is blocked'}")
    cycle = functional_cycle(edges)
    text = "Deadlock: every thread is blocked. " + "; ".join(parts) + "."
    if cycle:
        text += " Cycle: " + " → ".join(f"T{t}" for t in (*cycle, cycle[0])) + "."
    else:
        quiet = [e.tid for e in blocked if e.tid not in edges]
        if quiet:
            who = " and ".join(f"T{t}" for t in quiet)
            text += f" {who} can only be woken by a thread that is itself blocked."
    return Verdict("deadlock", text, tuple(ends), cycle, blocked[0].tid if blocked else None)


def _exception(run: Run, places: Places, ends: list[ThreadEnd]) -> Verdict:
    assert run.stop is not None
    exc = run.stop.detail
    tid = run.stop.tid
    where, code = places.traceback_place(exc.__traceback__)
    name = type(exc).__name__
    calls = ends[tid].calls if tid is not None and tid < len(ends) else ()
    inside = f" in {calls[-1].split('(')[0]}()" if calls else ""
    at = f" at {where} (`{code}`)" if where else ""
    if isinstance(exc, NotImplementedError):
        what = calls[-1].split("(")[0] if calls else "a method"
        msg = f"T{tid} called {what}, which is not implemented yet (NotImplementedError{at})."
    else:
        text = str(exc)[:300]
        msg = f"T{tid} raised {name}{': ' + text if text else ''}{inside}{at}."
    return Verdict("exception", msg, tuple(ends), culprit=tid)


def _spinning(run: Run, places: Places, ends: list[ThreadEnd]) -> Verdict:
    recent = [e for e in run.log[-400:] if e[0] in ("line", "opcode")]
    busiest = Counter(e[1] for e in recent).most_common(1)
    tid = busiest[0][0] if busiest else run.stop.tid if run.stop else None
    lines = sorted({e[3] for e in recent if e[1] == tid})
    code = next((e[2] for e in reversed(recent) if e[1] == tid), None)
    if code is not None and lines:
        span = f"{lines[0]}" if len(lines) == 1 else f"{lines[0]}-{lines[-1]}"
        place = f" at {places.short(code.co_filename)}:{span} (`{places.source(code, lines[0])}`)"
    else:
        place = ""
    msg = (
        f"The threads ran {run.config.max_steps} steps without finishing: T{tid} keeps "
        f"looping{place}. It waits for something that never happens (a lock nobody "
        "releases, a condition that never becomes true), or spins where it should sleep."
    )
    return Verdict("spinning", msg, tuple(ends), culprit=tid)


def _stalled(run: Run, places: Places, ends: list[ThreadEnd]) -> Verdict:
    assert run.stop is not None
    frame, seconds = run.stop.detail
    where, code = places.frame_place(frame)
    at = f" at {where} (`{code}`)" if where else ""
    if run.stop.message == "asleep":
        msg = (
            f"T{run.stop.tid} went to sleep{at} in something the explorer does not control (a "
            "threading lock, time.sleep, input or output), so no other thread could run. "
            "Build on the course's Cell and WaitQueue only."
        )
    else:
        msg = (
            f"T{run.stop.tid} made no progress for {seconds:.1f} s{at}: it is stuck in "
            "something the explorer does not control (a threading lock, time.sleep, a long "
            "computation). Build on the course's Cell and WaitQueue only."
        )
    return Verdict("uncontrolled", msg, tuple(ends), culprit=run.stop.tid)


def judge(run: Run, monitor: Monitor, namer: Namer, places: Places) -> Verdict:
    """The verdict on a finished run (``run.stop`` set by the scheduler)."""
    ends, edges = _threads(run, namer, places)
    stop = run.stop
    assert stop is not None
    if stop.kind == "complete":
        verdict = Verdict("passed", "", tuple(ends))
    elif stop.kind == "violation":
        verdict = Verdict("violation", stop.message, tuple(ends), culprit=stop.tid)
    elif stop.kind == "exception":
        verdict = _exception(run, places, ends)
    elif stop.kind == "spinning":
        verdict = _spinning(run, places, ends)
    elif stop.kind == "stalled":
        verdict = _stalled(run, places, ends)
    else:
        verdict = _stuck(run, monitor, namer, ends, edges)
    stubborn = [t for t in run.escaped if not (stop.kind == "stalled" and t == stop.tid)]
    if stubborn:
        who = ", ".join(f"T{t}" for t in stubborn)
        verdict = Verdict(
            verdict.status if verdict.status != "passed" else "uncontrolled",
            verdict.message
            + f" {who} kept running after the explorer stopped the run: it caught the "
            "explorer's stop signal (a bare `except:` or `except BaseException`), so it "
            "cannot be controlled; catch only the exceptions you expect.",
            verdict.threads,
            verdict.cycle,
            verdict.culprit,
        )
    return verdict
