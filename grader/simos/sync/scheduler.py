"""One controlled execution of a multi-threaded program. STANDARD LIBRARY ONLY.

Real threads, only one of which runs at a time: each holds a private lock (its baton) and
waits on it until the scheduler hands the CPU over. A thread reaches the scheduler at
every *step*: a traced line or instruction of student code (see tracing.py), an atomic
instruction on a Cell, a kernel call (sleep, wake, spawn, join, yield) or an explicit
point of the test program. At each step with more than one ready thread the strategy
picks who runs next, as an offset into the ready threads listed in turn from the
*default* choice (keep running the current thread until its time slice of
``time_slice`` steps ends or it blocks, then the next ready thread by id). Offset 0 is
the default; any other is a *preemption* and is recorded, so ``deviations`` replays the
run exactly.

The run ends when every thread has finished, when none can run (stuck: deadlock or lost
wake-up, told apart by analysis.py), on an exception, on a violation reported by the
test program, after ``max_steps`` steps (spinning), or when the running thread makes no
progress for ``stall_s`` seconds (blocked on something the explorer does not control).
"""

from __future__ import annotations

import _thread
import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from .errors import Abort
from .pool import start as start_thread
from .runtime import bind
from .services import Services
from .threads import (
    BLOCKED,
    DONE,
    READY,
    ManagedThread,
    RunConfig,
    Stop,
    Strategy,
    TraceFunc,
)

__all__ = [
    "BLOCKED",
    "DONE",
    "READY",
    "ManagedThread",
    "Run",
    "RunConfig",
    "Stop",
    "Strategy",
    "TraceFunc",
]

_LAZY: list[Any] = []  # Replay never looks at the order


def _kernel_state(native: int | None) -> tuple[bool, int, float] | None:
    """(asleep in the kernel, voluntary context switches, CPU seconds) of a thread (Linux /proc).

    A thread waiting for the GIL is asleep too, but wakes every few milliseconds to ask
    for it, so its count of voluntary switches keeps growing; a thread blocked in a lock
    or in time.sleep does not wake at all. A thread that waits for a CPU (a loaded
    machine) is neither asleep nor using CPU time. None where /proc is not available.
    """
    if native is None:
        return None
    try:
        with open(f"/proc/self/task/{native}/status", "rb") as f:
            status = f.read()
        with open(f"/proc/self/task/{native}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    asleep, switches = False, -1
    for line in status.splitlines():
        if line.startswith(b"State:"):
            asleep = line.split()[1:2] in ([b"S"], [b"D"])
        elif line.startswith(b"voluntary_ctxt_switches:"):
            switches = int(line.split()[1])
    fields = stat[stat.rfind(b")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime
    return asleep, switches, cpu


try:
    _TICKS = float(os.sysconf("SC_CLK_TCK"))
except (AttributeError, ValueError, OSError):  # pragma: no cover - not Linux
    _TICKS = 100.0


class Run(Services):
    """One execution of ``bodies`` under ``strategy``; ``execute()`` runs it to its end."""

    def __init__(
        self,
        bodies: list[tuple[str, Callable[..., Any], tuple[Any, ...]]],
        strategy: Strategy,
        config: RunConfig | None = None,
        hooks: Callable[[Run, ManagedThread], TraceFunc | None] | None = None,
        on_event: Callable[[int, tuple[Any, ...]], str | None] | None = None,
        watch_ops: frozenset[str] = frozenset(),
    ) -> None:
        self.bodies = bodies
        self.strategy = strategy
        self.config = config or RunConfig()
        self.hooks = hooks
        self.on_event = on_event
        self.watch_ops = watch_ops
        self._replay = bool(getattr(strategy, "lazy", False))  # choose() ignores the order
        self.threads: list[ManagedThread] = []
        self.log: list[tuple[Any, ...]] = []  # every step, in the order they ran
        self.events: list[tuple[Any, ...]] = []  # what the test program reported
        self.deviations: list[tuple[int, int]] = []
        self.arity = bytearray()  # number of choices at each decision
        self.decisions = 0
        self.total = 0
        self.aborted = False
        self.stop: Stop | None = None
        self.holders: dict[int, tuple[Any, int]] = {}  # id(lock) -> (lock, holder tid)
        self.escaped: list[int] = []
        self.duration_s = 0.0
        self._main = _thread.allocate_lock()
        self._stop_lock = threading.Lock()
        self.current: ManagedThread | None = None
        self.ready = 0  # how many threads are READY
        self.waiting: list[ManagedThread] = []  # blocked in wait_until
        self.final: list[tuple[str, tuple[Any, ...] | None, list[list[Any]], Any]] = []
        self.final_holders: dict[int, tuple[Any, int]] = {}
        self.context: Any = None  # whatever the caller attaches (the test program)

    # ------------------------------------------------------------------ the main thread

    def execute(self) -> Run:
        """Run to the end; returns self with ``stop`` set. Never raises for the program's faults."""
        started = time.perf_counter()
        self._main.acquire()
        for name, fn, args in self.bodies:
            self._add(name, fn, args)
        self.current = self.threads[0]
        self.threads[0].baton.release()
        self._watch()
        # Before unwinding, which pops the threads' call records and frees their locks.
        self.final = [(t.state, t.blocked_on, [e[:3] for e in t.api], t.loc) for t in self.threads]
        self.final_holders = dict(self.holders)
        self._abort_all()
        self.duration_s = time.perf_counter() - started
        return self

    def _add(self, name: str, fn: Callable[..., Any], args: tuple[Any, ...]) -> ManagedThread:
        t = ManagedThread(len(self.threads), name, fn, args)
        self.threads.append(t)
        self.ready += 1
        t.os = start_thread(lambda: self._thread_main(t))
        return t

    def _set(self, t: ManagedThread, state: str, on: tuple[Any, ...] | None = None) -> None:
        """Change ``t``'s state, keeping the count of ready threads."""
        if t.state is READY:
            self.ready -= 1
        if state is READY:
            self.ready += 1
        t.state, t.blocked_on = state, on

    def _watch(self) -> None:
        """Wait for the end of the run; end it if the running thread stops making progress.

        A thread asleep in the kernel, without waking once, while it should be running
        (a threading lock, time.sleep) is caught after about 0.3 s; one that computes
        without reaching a step (a long call into C) once it has used ``stall_s`` seconds
        of CPU. Waiting for a CPU on a loaded machine counts as neither. Without /proc,
        ``stall_s`` seconds of wall-clock time without a step end the run.
        """
        last, since, blocked = -1, time.monotonic(), 0
        seen: tuple[bool, int, float] | None = None
        cpu_at: float | None = None  # the running thread's CPU time when progress stopped
        while not self._main.acquire(timeout=0.05):
            progress, now = len(self.log) + self.total, time.monotonic()
            if progress != last:
                last, since, blocked, seen, cpu_at = progress, now, 0, None, None
                continue
            t = self.current
            if now - since < 0.1 or t is None or t.os is None:
                continue
            state = _kernel_state(t.os.native)
            if state is None:
                busy = now - since >= self.config.stall_s
            else:
                asleep, switches, cpu = state
                still = asleep and seen is not None and switches == seen[1]
                blocked = blocked + 1 if still else 0
                seen = state
                cpu_at = cpu if cpu_at is None else cpu_at
                busy = cpu - cpu_at >= self.config.stall_s
            if blocked >= 4 or busy:
                ident = t.os.ident
                frame = sys._current_frames().get(ident) if ident is not None else None
                how = "asleep" if blocked >= 4 else "busy"
                self._end(Stop("stalled", how, t.tid, (frame, now - since)))

    def _abort_all(self) -> None:
        self.aborted = True
        for t in self.threads:
            if t.state is not DONE:
                with contextlib.suppress(RuntimeError):  # running or unwinding, not waiting
                    t.baton.release()
        deadline = time.monotonic() + self.config.join_grace_s
        for t in self.threads:
            if not t.finished.acquire(timeout=max(0.0, deadline - time.monotonic())):
                self.escaped.append(t.tid)

    def _end(self, stop: Stop) -> None:
        """Record why the run ended (the first reason wins) and wake the main thread."""
        with self._stop_lock:
            if self.stop is not None:
                return
            self.stop = stop
            self.aborted = True
            self._main.release()

    # ------------------------------------------------------------------ managed threads

    def _thread_main(self, t: ManagedThread) -> None:
        """The job of a pool thread: wait for the first turn, run the body, hand the CPU on."""
        try:
            bind(self, t.tid)
            t.baton.acquire()
            if self.aborted:
                self._set(t, DONE)
                return
            self._body(t)
        finally:
            t.finished.release()

    def _body(self, t: ManagedThread) -> None:
        hook = self.hooks(self, t) if self.hooks else None
        try:
            if hook is not None:
                sys.settrace(hook)
            try:
                t.fn(*t.args)
            finally:
                sys.settrace(None)
        except Abort:
            self._set(t, DONE)
            return
        except BaseException as exc:
            self._set(t, DONE)
            self.log.append(("raise", t.tid, exc))
            self._end(Stop("exception", tid=t.tid, detail=exc))
            return
        self._set(t, DONE)
        self.log.append(("done", t.tid))
        for other in self.threads:
            if other.blocked_on is not None and other.blocked_on[:2] == ("join", t.tid):
                self._set(other, READY)
        self._decide(t, False)

    # ------------------------------------------------------------------ scheduling

    def _step(self, t: ManagedThread) -> None:
        """One step of ``t`` (the running thread): count it, then let the strategy decide."""
        if self.aborted:
            raise Abort
        self.total += 1
        if self.total > self.config.max_steps:
            self._end(Stop("spinning", tid=t.tid))
            raise Abort
        t.slice += 1
        t.steps += 1
        if not self.waiting and not t.yielded and t.slice < self.config.time_slice:
            # Fast path: t may go on; only ask the strategy when someone else could run.
            if self.ready == 1:
                return
            k = self.strategy.choose(self.decisions, _LAZY, t) if self._replay else -1
            if k == 0:
                self.arity.append(min(self.ready, 255))
                self.decisions += 1
                return
        self._decide(t, True)

    def _decide(self, t: ManagedThread, can_continue: bool) -> None:
        threads = self.threads
        n = len(threads)
        if self.waiting:  # waits of the test program end when their condition holds
            for w in list(self.waiting):
                if w.blocked_on is not None and w.blocked_on[2]():
                    self.waiting.remove(w)
                    self._set(w, READY)
        yielded = t.yielded
        t.yielded = False
        stay = can_continue and t.slice < self.config.time_slice and not yielded
        start = t.tid if stay else t.tid + 1
        order = [o for o in (threads[(start + j) % n] for j in range(n)) if o.state is READY]
        if not order:
            kind = "complete" if all(o.state is DONE for o in threads) else "stuck"
            self._end(Stop(kind, tid=t.tid))
            if t.state is not DONE:
                t.baton.acquire()
                raise Abort
            return
        k = 0
        if len(order) > 1:
            k = self.strategy.choose(self.decisions, order, t) % len(order)
            self.arity.append(min(len(order), 255))
            if k:
                self.deviations.append((self.decisions, k))
            self.decisions += 1
        chosen = order[k]
        if chosen is t:
            if not stay:
                t.slice = 0  # a new time slice
            return
        if t.state is READY:
            reason = "preempted" if k else ("yield" if yielded else "slice")
        else:
            reason = "blocked" if t.state is BLOCKED else "done"
        self.log.append(("switch", t.tid, chosen.tid, reason, k))
        chosen.slice = 0
        self.current = chosen
        chosen.baton.release()
        if t.state is not DONE:
            t.baton.acquire()
            if self.aborted:
                raise Abort
