"""A pool of reusable OS threads for the explorer's runs. STANDARD LIBRARY ONLY.

Starting an OS thread costs about as much as a whole short run, so a run borrows
threads from this pool and gives them back when their job ends. A thread whose job never
ends (it blocked on a real lock, or escaped the explorer) is simply never given back;
every job gets fresh locks of its own, so a late thread cannot disturb a later run.
"""

from __future__ import annotations

import _thread
import contextlib
import threading
from collections.abc import Callable

from .runtime import bind

MAX_IDLE = 32
_idle: list[PoolThread] = []


class PoolThread:
    """One OS thread that runs jobs, one after the other."""

    def __init__(self) -> None:
        self._start = _thread.allocate_lock()
        self._start.acquire()
        self._job: Callable[[], None] | None = None
        self.native: int | None = None  # the kernel's id of the thread (for /proc)
        self.os = threading.Thread(target=self._loop, daemon=True, name="osgrade-explorer")
        self.os.start()

    @property
    def ident(self) -> int | None:
        return self.os.ident

    def _loop(self) -> None:
        self.native = threading.get_native_id()
        while True:
            self._start.acquire()
            job, self._job = self._job, None
            if job is None:
                continue
            with contextlib.suppress(BaseException):  # a job reports its own outcome
                job()
            bind(None, None)
            if len(_idle) >= MAX_IDLE:
                return
            _idle.append(self)


def start(job: Callable[[], None]) -> PoolThread:
    """Run ``job()`` on an idle pool thread (a new one if none is idle)."""
    try:
        worker = _idle.pop()
    except IndexError:
        worker = PoolThread()
    worker._job = job
    worker._start.release()
    return worker


def idle_count() -> int:
    return len(_idle)
