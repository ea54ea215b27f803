"""Kernel services for sleeping and for threads. STANDARD LIBRARY ONLY.

``WaitQueue`` lets a thread sleep until another wakes it (no busy waiting); ``spawn`` and
``Thread.join`` create and wait for threads; ``yield_cpu`` gives the CPU away;
``current_thread_id`` names the caller. Under the explorer these are scheduling steps it
controls; on plain threads they use ``threading``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, SupportsIndex

from ..sealed import Sealed
from .errors import SyncUsageError
from .hardware import Cell
from .runtime import controller, real_thread_id

_real_sleep = time.sleep


class _Sleeper:
    __slots__ = ("event", "tid")

    def __init__(self, tid: int) -> None:
        self.tid = tid
        self.event = threading.Event()


class WaitQueue(metaclass=Sealed):
    """A queue of sleeping threads. Wake-ups are FIFO: ``wake_one`` wakes the longest sleeper.

    A woken thread does not run at once: it becomes ready and runs when scheduled.
    There are no spurious wake-ups: ``sleep`` returns only after a ``wake_one`` or
    ``wake_all`` picked this thread.

    Example (the heart of a sleeping mutex; ``guard`` is a spin lock you hold)::

        if self.locked:
            self.waiters.sleep(self.guard)   # releases guard and sleeps, in one step
    """

    __sealed__ = True  # the course's class: students subclass it, never change it

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._sleepers: deque[Any] = deque()  # explorer: thread records; plain: _Sleeper
        self._lock = threading.Lock()

    def sleep(self, guard: Cell | None = None) -> None:
        """Sleep until woken. With ``guard`` (a held spin lock, value 1), release it too.

        Releasing the guard and going to sleep are one atomic step, so a thread that takes
        the guard next and calls ``wake_one`` is sure to find you asleep. You do not hold
        the guard when ``sleep`` returns. Raises SyncUsageError if ``guard`` is not held.
        """
        if guard is not None and not isinstance(guard, Cell):
            raise SyncUsageError(f"sleep(guard): guard must be a Cell, got {type(guard).__name__}")
        run = controller()
        if run is not None:
            run.sleep(self, guard)
            return
        with self._lock:
            if guard is not None:
                _check_held(guard)
                guard.store(0)
            me = _Sleeper(real_thread_id())
            self._sleepers.append(me)
        me.event.wait()

    def wake_one(self) -> int | None:
        """Wake the thread that has slept longest; returns its id, or None if none sleeps."""
        run = controller()
        if run is not None:
            woken = run.wake(self, 1)
            return woken[0] if woken else None
        with self._lock:
            if not self._sleepers:
                return None
            s = self._sleepers.popleft()
        s.event.set()
        return int(s.tid)

    def wake_all(self) -> int:
        """Wake every sleeping thread; returns how many were woken."""
        run = controller()
        if run is not None:
            return len(run.wake(self, None))
        with self._lock:
            sleepers = list(self._sleepers)
            self._sleepers.clear()
        for s in sleepers:
            s.event.set()
        return len(sleepers)

    def sleeping(self) -> int:
        """How many threads sleep here now (one atomic read)."""
        run = controller()
        if run is not None:
            return run.count_sleepers(self)
        with self._lock:
            return len(self._sleepers)

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"WaitQueue{label}({len(self._sleepers)} asleep)"


def _check_held(guard: Cell) -> None:
    if guard.peek() == 0:
        raise SyncUsageError(
            "sleep(guard): the guard is not held (its value is 0); take it with "
            "test_and_set() before calling sleep, or call sleep() without a guard"
        )


class Thread(metaclass=Sealed):
    """A thread made by ``spawn``. ``join()`` waits until it has finished."""

    __sealed__ = True  # the course's class: students subclass it, never change it

    def __init__(self, tid: int, real: threading.Thread | None = None) -> None:
        self.id = tid
        self._real = real

    def join(self) -> None:
        """Wait until this thread has finished. Joining yourself raises SyncUsageError."""
        run = controller()
        if run is not None:
            run.join(self.id)
            return
        if self._real is None:
            raise SyncUsageError("this thread was made by the explorer; join it there")
        if self._real is threading.current_thread():
            raise SyncUsageError("a thread cannot join itself")
        self._real.join()

    def __repr__(self) -> str:
        return f"Thread(T{self.id})"


def spawn(fn: Callable[..., Any], *args: Any) -> Thread:
    """Start a thread running ``fn(*args)``; returns its Thread (call ``join()`` on it)."""
    run = controller()
    if run is not None:
        return Thread(run.spawn(fn, args))
    box: list[int] = []
    ready = threading.Event()

    def body() -> None:
        box.append(real_thread_id())
        ready.set()
        fn(*args)

    t = threading.Thread(target=body, daemon=True)
    t.start()
    ready.wait()
    return Thread(box[0], t)


def yield_cpu() -> None:
    """Give the CPU to another ready thread (if there is one); you run again later."""
    run = controller()
    if run is not None:
        run.yield_cpu()
    else:
        _real_sleep(0)


def current_thread_id() -> int:
    """The calling thread's id: 0, 1, 2, ... (the explorer's T0, T1, ...)."""
    run = controller()
    if run is not None:
        return run.current_id()
    return real_thread_id()


def _guarded_sleep(seconds: float | SupportsIndex) -> None:
    if controller() is not None:
        raise SyncUsageError(
            "time.sleep() does not work under the explorer: it blocks the thread where the "
            "explorer cannot see it. To wait for something, sleep on a WaitQueue; to let "
            "other threads run, call yield_cpu()."
        )
    _real_sleep(seconds)


def guard_time_sleep() -> None:
    """Make ``time.sleep`` raise SyncUsageError in threads the explorer controls."""
    if time.sleep is not _guarded_sleep:
        time.sleep = _guarded_sleep
