"""Lock traces: what a lock-order checker (in the spirit of Linux's lockdep) reads.

A trace is the record of one real run: the lock acquisitions and releases of several
threads, in the order they happened, each with the code path (a call site such as
``"fs/inode.c:120"``) that made it. Because it is a record of a run, every acquisition
in it succeeded: a lock has at most one holder, and a thread never takes a lock it
already holds (that run would have hung right there).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

ACQUIRE = "acquire"
RELEASE = "release"
MAX_NAME = 200  # characters of a thread, lock or site name


class TraceError(ValueError):
    """A lock trace is malformed or impossible (a release of a lock not held, two holders)."""


def _name(value: object, what: str, where: str) -> str:
    if type(value) is not str or not value:
        raise TraceError(f"{where}: {what} must be a non-empty string, got {value!r}")
    if len(value) > MAX_NAME:
        raise TraceError(f"{where}: {what} is longer than {MAX_NAME} characters")
    return value


@dataclass(frozen=True, slots=True)
class LockEvent:
    """Thread ``thread`` did ``op`` (``"acquire"`` or ``"release"``) on ``lock`` at ``site``.

    Example: ``LockEvent("T1", "acquire", "inode", "fs/inode.c:120")``.
    """

    thread: str
    op: str
    lock: str
    site: str


@dataclass(frozen=True, slots=True)
class LockTrace:
    """The events of one run, in the order they happened (``events[0]`` first).

    Raises TraceError, naming the event, the thread and the lock, when the trace is not
    a possible run: a release of a lock the thread does not hold, an acquisition of a lock
    another thread holds, or of a lock the thread already holds.
    """

    events: tuple[LockEvent, ...]

    def __post_init__(self) -> None:
        events = tuple(self.events)
        holder: dict[str, tuple[str, int]] = {}  # lock -> (thread, index of its acquire)
        for k, e in enumerate(events):
            where = f"event {k}"
            if type(e) is not LockEvent:
                raise TraceError(f"{where} must be a LockEvent, got {type(e).__name__}")
            thread = _name(e.thread, "the thread", where)
            lock = _name(e.lock, "the lock", where)
            site = _name(e.site, "the site", where)
            where = f"event {k} ({thread} {e.op} {lock!r} at {site})"
            held = holder.get(lock)
            if e.op == ACQUIRE:
                if held is not None and held[0] == thread:
                    raise TraceError(
                        f"{where}: {thread} already holds {lock!r} (since event {held[1]}); "
                        "taking a lock twice would hang, so a recorded run cannot contain it"
                    )
                if held is not None:
                    raise TraceError(
                        f"{where}: {held[0]} holds {lock!r} since event {held[1]}; a lock has "
                        "one holder at a time"
                    )
                holder[lock] = (thread, k)
            elif e.op == RELEASE:
                if held is None or held[0] != thread:
                    owner = f"{held[0]} holds it" if held else "nobody holds it"
                    raise TraceError(f"{where}: {thread} does not hold {lock!r} ({owner})")
                del holder[lock]
            else:
                raise TraceError(f"{where}: op must be 'acquire' or 'release', got {e.op!r}")
        object.__setattr__(self, "events", events)

    @staticmethod
    def from_tuples(rows: Iterable[Sequence[str]]) -> LockTrace:
        """A trace from ``(thread, op, lock, site)`` rows."""
        events = []
        for k, row in enumerate(rows):
            if len(row) != 4:
                raise TraceError(f"event {k} is {row!r}; give (thread, op, lock, site)")
            events.append(LockEvent(*row))
        return LockTrace(tuple(events))

    def threads(self) -> tuple[str, ...]:
        """The threads, in order of their first event."""
        return tuple(dict.fromkeys(e.thread for e in self.events))

    def locks(self) -> tuple[str, ...]:
        """The locks, in order of their first event."""
        return tuple(dict.fromkeys(e.lock for e in self.events))

    def to_data(self) -> dict[str, Any]:
        return {"events": [[e.thread, e.op, e.lock, e.site] for e in self.events]}

    @staticmethod
    def from_data(data: dict[str, Any]) -> LockTrace:
        return LockTrace.from_tuples(data["events"])


@dataclass(frozen=True, slots=True)
class Dependency:
    """One edge of the lock-order graph: some thread held ``held`` while acquiring ``acquired``.

    The code path that created it: ``thread`` took ``held`` at ``held_at`` and then, still
    holding it, took ``acquired`` at ``acquired_at``.

    Example: ``Dependency("A", "B", "T1", "a.c:10", "a.c:12")``.
    """

    held: str
    acquired: str
    thread: str
    held_at: str
    acquired_at: str
