"""What primitives and test programs call on the run that controls their thread. STANDARD LIBRARY ONLY.

A mixin of ``Run`` (scheduler.py): atomic instructions (``before_op`` / ``after_op``),
the kernel's sleep, wake, yield, spawn and join, the steps of traced student code, and
the test program's points, events and waits. Each call is made by the running thread.
"""

from __future__ import annotations

from collections.abc import Callable
from types import FrameType
from typing import Any

from .errors import Abort, SyncUsageError
from .threads import BLOCKED, DONE, READY, ManagedThread, RunConfig, Stop


class Services:
    """The calls a managed thread makes into its run (see the module docstring)."""

    # provided by Run
    current: ManagedThread | None
    aborted: bool
    threads: list[ManagedThread]
    log: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]
    total: int
    config: RunConfig
    watch_ops: frozenset[str]
    on_event: Callable[[int, tuple[Any, ...]], str | None] | None
    waiting: list[ManagedThread]

    def _step(self, t: ManagedThread) -> None:
        raise NotImplementedError

    def _decide(self, t: ManagedThread, can_continue: bool) -> None:
        raise NotImplementedError

    def _set(self, t: ManagedThread, state: str, on: tuple[Any, ...] | None = None) -> None:
        raise NotImplementedError

    def _end(self, stop: Stop) -> None:
        raise NotImplementedError

    def _add(self, name: str, fn: Callable[..., Any], args: tuple[Any, ...]) -> ManagedThread:
        raise NotImplementedError

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
        inside = t.api[len(t.api) - t.quiet][:2] if 0 < t.quiet <= len(t.api) else None
        self.log.append(("sleep", t.tid, queue, guard, inside))
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
