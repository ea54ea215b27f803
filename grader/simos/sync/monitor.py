"""Checks over the events a test program reports. STANDARD LIBRARY ONLY, pure.

A test program (scenarios.py) reports what its threads do: ``("enter", "w")`` when a
writer gets in, ``("got", 7)`` when a consumer receives item 7. A ``Monitor`` reads these
events in order, one thread id each, and says at once when one breaks a rule. The worker
uses it to stop a run at the first violation; the trusted parent feeds the returned
events through the same monitor to confirm the verdict from plain data.

Every monitor also answers ``could_proceed(tid, call)``: for a thread asleep forever at
the end of a run, inside the submission's ``call`` (e.g. "BoundedBuffer.get"), why it
should have been able to go on (a lost wake-up), or None.
"""

from __future__ import annotations

from typing import Any

Event = tuple[Any, ...]


class Monitor:
    """Base: no rule. Subclasses override ``feed`` (and ``finish``, ``could_proceed``)."""

    def feed(self, tid: int, event: Event) -> str | None:
        return None

    def finish(self) -> str | None:
        """At the end of a complete run: a rule about the whole run, or None."""
        return None

    def could_proceed(self, tid: int, call: str) -> str | None:
        return None

    def describe(self, event: Event) -> str:
        return " ".join(str(x) for x in event)


class Both(Monitor):
    """Every rule of several monitors (the first violation wins)."""

    def __init__(self, *parts: Monitor) -> None:
        self.parts = parts

    def feed(self, tid: int, event: Event) -> str | None:
        for part in self.parts:
            problem = part.feed(tid, event)
            if problem:
                return problem
        return None

    def finish(self) -> str | None:
        return next((p for p in (m.finish() for m in self.parts) if p), None)

    def could_proceed(self, tid: int, call: str) -> str | None:
        return next((p for p in (m.could_proceed(tid, call) for m in self.parts) if p), None)

    def describe(self, event: Event) -> str:
        return self.parts[0].describe(event)


def first_violation(monitor: Monitor, events: list[list[Any]]) -> str | None:
    """Feed ``[[tid, name, ...], ...]`` to ``monitor``; the first violation, or None."""
    for item in events:
        problem = monitor.feed(int(item[0]), tuple(item[1:]))
        if problem:
            return problem
    return None


class MutualExclusion(Monitor):
    """At most one thread between its ("enter",) and ("exit",) events."""

    def __init__(self, what: str = "the critical section") -> None:
        self.what = what
        self.inside: list[int] = []

    def feed(self, tid: int, event: Event) -> str | None:
        if event[0] == "enter":
            if self.inside:
                others = " and ".join(f"T{t}" for t in self.inside)
                self.inside.append(tid)
                return f"T{tid} entered {self.what} while {others} was still inside."
            self.inside.append(tid)
        elif event[0] == "exit" and tid in self.inside:
            self.inside.remove(tid)
        return None

    def could_proceed(self, tid: int, call: str) -> str | None:
        if not self.inside and call.endswith(".acquire"):
            return f"nobody is inside {self.what}, yet T{tid} sleeps in {call}()"
        return None

    def describe(self, event: Event) -> str:
        return {
            "enter": f"enters {self.what}",
            "exit": f"leaves {self.what}",
            "request": "calls acquire()",
        }.get(event[0], super().describe(event))


class TicketOrder(MutualExclusion):
    """Mutual exclusion, and threads get in in the order they took their tickets.

    A thread's ticket is its first ``fetch_and_add`` between its ("request",) and its
    ("enter",) events (the explorer reports those as ("atomic", "fetch_and_add", old)).
    """

    def __init__(self) -> None:
        super().__init__()
        self.asking: set[int] = set()
        self.queue: list[tuple[int, Any]] = []  # (tid, ticket) in the order taken

    def feed(self, tid: int, event: Event) -> str | None:
        name = event[0]
        if name == "request":
            self.asking.add(tid)
        elif name == "atomic" and event[1] == "fetch_and_add" and tid in self.asking:
            self.asking.discard(tid)
            self.queue.append((tid, event[2]))
        elif name == "enter":
            if tid in self.asking:
                return (
                    f"T{tid} got the ticket lock without taking a ticket: acquire() must take "
                    "one with fetch_and_add on the next-ticket cell."
                )
            first, ticket = self.queue[0] if self.queue else (tid, None)
            if first != tid:
                mine = next((k for t, k in self.queue if t == tid), None)
                return (
                    f"T{tid} (ticket {mine}) got the lock before T{first} (ticket {ticket}), "
                    "which took its ticket first: a ticket lock serves tickets in order."
                )
            self.queue.pop(0)
        return super().feed(tid, event)

    def describe(self, event: Event) -> str:
        if event[0] == "atomic":
            return f"takes ticket {event[2]}"
        return super().describe(event)


class Ownership(MutualExclusion):
    """Mutual exclusion, and a release by a thread that does not hold the mutex must raise."""

    def feed(self, tid: int, event: Event) -> str | None:
        if event[0] == "bad_release":
            holder, outcome = event[1], event[2]
            whose = f"held by T{holder}" if holder is not None else "that nobody held"
            if outcome == "returned":
                return (
                    f"T{tid} released a mutex {whose} and no error was raised: release() "
                    "must raise OwnershipError when the caller is not the owner."
                )
            if outcome != "OwnershipError":
                return (
                    f"T{tid} released a mutex {whose} and release() raised {outcome}; "
                    "raise OwnershipError instead."
                )
        return super().feed(tid, event)

    def describe(self, event: Event) -> str:
        if event[0] == "bad_release":
            return f"calls release() without holding the mutex: {event[2]}"
        return super().describe(event)


class ConditionFlag(MutualExclusion):
    """A monitor (mutex + condition): mutual exclusion on the mutex, and a waiter whose
    flag is set must not sleep forever."""

    def __init__(self) -> None:
        super().__init__("the mutex")
        self.flag = False
        self.signals: list[int] = []

    def feed(self, tid: int, event: Event) -> str | None:
        if event[0] == "set":
            self.flag = True
        elif event[0] in ("signal", "broadcast"):
            self.signals.append(tid)
        return super().feed(tid, event)

    def could_proceed(self, tid: int, call: str) -> str | None:
        if call == "Condition.wait" and self.flag and self.signals:
            by = ", ".join(f"T{t}" for t in self.signals)
            return (
                f"T{tid} sleeps in Condition.wait() forever although the flag it waits for is "
                f"set and {by} signalled after setting it"
            )
        return super().could_proceed(tid, call)

    def describe(self, event: Event) -> str:
        return {
            "set": "sets the flag",
            "signal": "calls signal()",
            "broadcast": "calls broadcast()",
            "wait": "calls wait()",
            "woke": "returns from wait()",
            "enter": "holds the mutex",
            "exit": "lets go of the mutex",
        }.get(event[0], super().describe(event))
