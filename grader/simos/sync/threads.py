"""The scheduler's data: thread states, run limits, why a run stopped. STANDARD LIBRARY ONLY."""

from __future__ import annotations

import _thread
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .pool import PoolThread

READY, BLOCKED, DONE = "ready", "blocked", "done"
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
