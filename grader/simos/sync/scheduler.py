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
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any, Protocol

from .errors import Abort, SyncUsageError
from .pool import PoolThread
from .pool import start as start_thread
from .runtime import bind

READY, BLOCKED, DONE = "ready", "blocked", "done"
_LAZY: list[Any] = []  # Replay never looks at the order
TraceFunc = Callable[[FrameType, str, Any], Any]


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Limits of one run."""

    time_slice: int = 32  # steps a thread runs before the default scheduler moves on
    max_steps: int = 20_000  # more than this: a thread is spinning (or far too slow)
    stall_s: float = 2.0  # no step for this long: blocked outside the explorer's control
    join_grace_s: float = 0.5  # how long aborted threads get to unwind


@dataclass(frozen=True, slots=True)
class Stop:
    """Why a run ended. ``kind``: complete, stuck, violation, exception, spinning, stalled."""

    kind: str
    message: str = ""
    tid: int | None = None
    detail: Any = None


def _kernel_state(native: int | None) -> tuple[bool, int] | None:
    """(asleep in the kernel, voluntary context switches) of a thread, from Linux's /proc.

    A thread waiting for the GIL is asleep too, but wakes every few milliseconds to ask
    for it, so its count of voluntary switches keeps growing; a thread blocked in a lock
    or in time.sleep does not wake at all. None where /proc is not available.
    """
    if native is None:
        return None
    try:
        with open(f"/proc/self/task/{native}/status", "rb") as f:
            text = f.read()
    except OSError:
        return None
    asleep, switches = False, -1
    for line in text.splitlines():
        if line.startswith(b"State:"):
            asleep = line.split()[1:2] in ([b"S"], [b"D"])
        elif line.startswith(b"voluntary_ctxt_switches:"):
            switches = int(line.split()[1])
    return asleep, switches


class Strategy(Protocol):
    def choose(self, index: int, order: list[ManagedThread], current: ManagedThread) -> int:
        """The offset (0 = default) into ``order`` of the thread to run at decision ``index``."""
        ...


class ManagedThread:
    """The scheduler's record of one thread."""

    __slots__ = (
        "api",
        "args",
        "baton",
        "blocked_on",
        "finished",
        "fn",
        "loc",
        "name",
        "ops",
        "os",
        "quiet",
        "slice",
        "state",
        "steps",
        "tid",
        "yielded",
    )

    def __init__(self, tid: int, name: str, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.tid = tid
        self.name = name
        self.fn = fn
        self.args = args
        self.state = READY
        self.blocked_on: tuple[Any, ...] | None = (
            None  # ("queue", q) ("join", t) ("until", label, pred)
        )
        self.baton = _thread.allocate_lock()
        self.baton.acquire()
        self.slice = 0
        self.steps = 0
        self.ops = 0  # atomic operations since the last traced step
        self.yielded = False
        self.loc: tuple[Any, int] | None = None  # (code, line) of the last traced step
        self.api: list[list[Any]] = []  # calls into the submission's API (tracing.py)
        self.quiet = 0  # depth of opaque calls it is inside (tracing.py)
        self.os: PoolThread | None = None
        self.finished = _thread.allocate_lock()  # released when the thread's body is over
        self.finished.acquire()


class Run:
    """One execution of ``bodies`` under ``strategy``; ``execute()`` runs it to its end."""

    def __init__(
        self,
        bodies: list[tuple[str, Callable[..., Any], tuple[Any, ...]]],
        strategy: Strategy,
        config: RunConfig = RunConfig(),
        hooks: Callable[[Run, ManagedThread], TraceFunc | None] | None = None,
        on_event: Callable[[int, tuple[Any, ...]], str | None] | None = None,
        watch_ops: frozenset[str] = frozenset(),
    ) -> None:
        self.bodies = bodies
        self.strategy = strategy
        self.config = config
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
        without reaching a step (a long call into C) after ``stall_s``.
        """
        last, since, blocked = -1, time.monotonic(), 0
        seen: tuple[bool, int] | None = None
        while not self._main.acquire(timeout=0.05):
            progress, now = len(self.log) + self.total, time.monotonic()
            if progress != last:
                last, since, blocked, seen = progress, now, 0, None
                continue
            t = self.current
            if now - since >= 0.1 and t is not None and t.os is not None:
                state = _kernel_state(t.os.native)
                still = state is not None and state[0] and seen is not None and state == seen
                blocked = blocked + 1 if still else 0
                seen = state
            if blocked >= 4 or now - since >= self.config.stall_s:
                t = self.current
                ident = t.os.ident if t and t.os else None
                frame = sys._current_frames().get(ident) if ident is not None else None
                how = "asleep" if blocked >= 4 else "busy"
                self._end(Stop("stalled", how, t.tid if t else None, (frame, now - since)))

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

    # ------------------------------------------------------------------ called by tracing.py

    def trace_step(self, t: ManagedThread, frame: FrameType, kind: str = "line") -> None:
        """A traced line (or instruction) of student code is about to run."""
        t.loc = (frame.f_code, frame.f_lineno)
        t.ops = 0
        self._step(t)
        if kind == "line":
            self.log.append(("line", t.tid, frame.f_code, frame.f_lineno))
        else:
            self.log.append(("opcode", t.tid, frame.f_code, frame.f_lineno, frame.f_lasti))

    # ------------------------------------------------------------------ called by the primitives

    def _me(self) -> ManagedThread:
        if self.aborted:
            raise Abort
        t = self.current
        assert t is not None
        return t

    def before_op(self) -> None:
        """An atomic instruction is about to run: a step unless it is the first since a traced one."""
        t = self._me()
        if t.ops:
            self._step(t)
        t.ops += 1

    def after_op(self, obj: Any, op: str, args: tuple[Any, ...], result: Any) -> None:
        self.total += 1
        t = self.current
        assert t is not None
        self.log.append(("op", t.tid, obj, op, args, result, t.quiet))
        if op in self.watch_ops:
            self._event(t, ("atomic", op, result))

    def sleep(self, queue: Any, guard: Any) -> None:
        self.before_op()
        t = self._me()
        if guard is not None:
            if guard.peek() == 0:
                raise SyncUsageError(
                    "sleep(guard): the guard is not held (its value is 0); take it with "
                    "test_and_set() before calling sleep, or call sleep() without a guard"
                )
            guard._value = 0
        queue._sleepers.append(t)
        self._set(t, BLOCKED, ("queue", queue))
        self.log.append(("sleep", t.tid, queue, guard))
        self._decide(t, False)
        t.ops = 0

    def wake(self, queue: Any, limit: int | None) -> list[int]:
        self.before_op()
        t = self._me()
        woken: list[int] = []
        while queue._sleepers and (limit is None or len(woken) < limit):
            w = queue._sleepers.popleft()
            self._set(w, READY)
            woken.append(w.tid)
        self.log.append(("wake", t.tid, queue, tuple(woken), limit, t.quiet))
        self.total += 1
        return woken

    def count_sleepers(self, queue: Any) -> int:
        self.before_op()
        n = len(queue._sleepers)
        self.after_op(queue, "sleeping", (), n)
        return n

    def yield_cpu(self) -> None:
        t = self._me()
        t.yielded = True
        self.log.append(("yield", t.tid))
        t.ops = 0
        self._step(t)

    def spawn(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> int:
        self.before_op()
        t = self._me()
        new = self._add(f"T{len(self.threads)}", fn, args)
        self.log.append(("spawn", t.tid, new.tid))
        return new.tid

    def join(self, tid: int) -> None:
        self.before_op()
        t = self._me()
        if tid == t.tid:
            raise SyncUsageError("a thread cannot join itself")
        if not 0 <= tid < len(self.threads):
            raise SyncUsageError(f"there is no thread T{tid} to join")
        if self.threads[tid].state is not DONE:
            self._set(t, BLOCKED, ("join", tid))
            self.log.append(("join", t.tid, tid))
            self._decide(t, False)
            t.ops = 0

    def current_id(self) -> int:
        return self._me().tid

    # ------------------------------------------------------------------ called by the test program

    def point(self, label: str = "") -> None:
        """A step of the test program itself (untraced code), e.g. inside a critical section."""
        t = self._me()
        t.loc = None
        t.ops = 0
        self._step(t)
        self.log.append(("point", t.tid, label))

    def emit(self, event: tuple[Any, ...]) -> None:
        """The test program reports an event; a violation it reveals ends the run at once."""
        self._event(self._me(), event)

    def _event(self, t: ManagedThread, event: tuple[Any, ...]) -> None:
        self.events.append((t.tid, *event))
        self.log.append(("event", t.tid, event))
        if self.on_event is not None:
            problem = self.on_event(t.tid, event)
            if problem:
                self._end(Stop("violation", problem, t.tid))
                raise Abort

    def wait_until(self, predicate: Callable[[], bool], label: str) -> None:
        """Block the test program's thread until ``predicate()`` holds (checked at every step)."""
        t = self._me()
        if predicate():
            return
        self._set(t, BLOCKED, ("until", label, predicate))
        self.waiting.append(t)
        self.log.append(("until", t.tid, label))
        self._decide(t, False)
        t.ops = 0
