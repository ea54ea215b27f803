"""Monitors for semaphores and the classic problems (see monitor.py). STANDARD LIBRARY ONLY."""

from __future__ import annotations

from collections import Counter

from .monitor import Event, Monitor


class SemaphoreCount(Monitor):
    """P/V semantics of a semaphore created with ``initial`` permits.

    Events: ("p",) before acquire(), ("p_done",) after it returns, ("v",) before release(),
    ("v_done",) after. At every moment, completed P <= initial + started V (a P cannot get
    a permit nobody gave back); at the end, nobody sleeps in P while a permit is free.
    """

    def __init__(self, initial: int) -> None:
        self.initial = initial
        self.p_done = 0
        self.v_started = 0
        self.v_done = 0

    def feed(self, tid: int, event: Event) -> str | None:
        name = event[0]
        if name == "p_done":
            self.p_done += 1
            if self.p_done > self.initial + self.v_started:
                return (
                    f"T{tid} got past acquire() although no permit was free: the semaphore "
                    f"started with {self.initial}, release() had been called "
                    f"{self.v_started} time(s), and this is acquire() number {self.p_done} "
                    "to return."
                )
        elif name == "v":
            self.v_started += 1
        elif name == "v_done":
            self.v_done += 1
        return None

    def free(self) -> int:
        return self.initial + self.v_done - self.p_done

    def could_proceed(self, tid: int, call: str) -> str | None:
        if call == "Semaphore.acquire" and self.free() > 0:
            return (
                f"T{tid} sleeps in Semaphore.acquire() forever although {self.free()} "
                f"permit(s) are free ({self.initial} at the start, {self.v_done} release(s), "
                f"{self.p_done} acquire(s))"
            )
        return None

    def describe(self, event: Event) -> str:
        return {
            "p": "calls acquire()",
            "p_done": "gets a permit",
            "v": "calls release()",
            "v_done": "release() returns",
        }.get(event[0], super().describe(event))


class BufferDelivery(Monitor):
    """A bounded buffer of ``capacity``: never more than that inside, every item once, FIFO.

    Events: ("put", item), ("put_done", item), ("get",), ("got", item). FIFO as one thread
    can see it: a consumer never gets an item before an earlier item of the same producer
    (items are numbered in the order each producer puts them; the hundreds are the
    producer).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.started: Counter[object] = Counter()
        self.delivered: Counter[object] = Counter()
        self.put_done = 0
        self.get_started = 0
        self.get_done = 0
        self.seen: dict[tuple[int, int], int] = {}  # (consumer, producer) -> last item got

    def feed(self, tid: int, event: Event) -> str | None:
        name = event[0]
        if name == "put":
            self.started[event[1]] += 1
        elif name == "put_done":
            self.put_done += 1
            inside = self.put_done - self.get_started
            if inside > self.capacity:
                return (
                    f"The buffer held {inside} items but its capacity is {self.capacity}: "
                    f"T{tid}'s put({event[1]!r}) returned while the buffer was full."
                )
        elif name == "get":
            self.get_started += 1
        elif name == "got":
            item = event[1]
            self.get_done += 1
            if self.delivered[item] >= self.started[item]:
                if self.started[item]:
                    return f"Item {item!r} was delivered twice (the second time to T{tid})."
                return f"T{tid}'s get() returned {item!r}, which nobody put into the buffer."
            self.delivered[item] += 1
            if type(item) is int:
                key = (tid, item // 100)
                before = self.seen.get(key)
                self.seen[key] = item
                if before is not None and item < before:
                    return (
                        f"T{tid} got {item} after {before}, although {item} was put first "
                        "by the same producer: the buffer must hand items out first in, "
                        "first out."
                    )
        return None

    def finish(self) -> str | None:
        missing = self.started - self.delivered
        if missing:
            item = sorted(missing, key=repr)[0]
            return f"Item {item!r} was put into the buffer but never delivered."
        return None

    def could_proceed(self, tid: int, call: str) -> str | None:
        items = self.put_done - self.get_done
        if call == "BoundedBuffer.get" and items > 0:
            return f"T{tid} sleeps in get() forever although the buffer holds {items} item(s)"
        if call == "BoundedBuffer.put" and items < self.capacity:
            return (
                f"T{tid} sleeps in put() forever although the buffer has "
                f"{self.capacity - items} free slot(s)"
            )
        return None

    def describe(self, event: Event) -> str:
        name = event[0]
        if name == "put":
            return f"calls put({event[1]!r})"
        if name == "put_done":
            return f"put({event[1]!r}) returns"
        if name == "got":
            return f"get() returns {event[1]!r}"
        return "calls get()" if name == "get" else super().describe(event)


class ReadersWriters(Monitor):
    """A writer is never inside with anybody; readers may share.

    With ``writers_first`` (the handout's fairness rule): a reader that asks after a writer
    started waiting does not get in before that writer. Events: ("request", role),
    ("enter", role), ("exit", role) with role "r" or "w".
    """

    def __init__(self, writers_first: bool = False) -> None:
        self.writers_first = writers_first
        self.readers: list[int] = []
        self.writers: list[int] = []
        self.waiting_writers: list[int] = []
        self.overtaking: dict[int, int] = {}  # reader -> the waiting writer it must not pass

    def feed(self, tid: int, event: Event) -> str | None:
        name, role = event[0], event[1] if len(event) > 1 else ""
        if name == "request":
            if role == "w":
                self.waiting_writers.append(tid)
            elif self.waiting_writers:
                self.overtaking[tid] = self.waiting_writers[0]
        elif name == "enter":
            return self._enter(tid, role)
        elif name == "shared" and not event[2]:
            return (
                f"T{event[1]} could not start reading while reader T{tid} was inside and "
                "nobody was writing: readers must be able to read at the same time."
            )
        elif name == "exit":
            crowd = self.readers if role == "r" else self.writers
            if tid in crowd:
                crowd.remove(tid)
        return None

    def _enter(self, tid: int, role: str) -> str | None:
        if role == "w":
            if tid in self.waiting_writers:
                self.waiting_writers.remove(tid)
            others = [f"reader T{t}" for t in self.readers] + [f"writer T{t}" for t in self.writers]
            self.writers.append(tid)
            if others:
                return f"Writer T{tid} got in while {' and '.join(others)} was inside."
            return None
        self.readers.append(tid)
        if self.writers:
            return f"Reader T{tid} got in while writer T{self.writers[0]} was inside."
        writer = self.overtaking.pop(tid, None)
        if self.writers_first and writer is not None and writer in self.waiting_writers:
            return (
                f"Reader T{tid} got in before writer T{writer}, which was already waiting when "
                f"T{tid} asked: the handout's rule is that a waiting writer goes before "
                "readers that arrive after it (otherwise writers can starve)."
            )
        return None

    def could_proceed(self, tid: int, call: str) -> str | None:
        if not self.readers and not self.writers and "ReadWriteLock.acquire" in call:
            return f"nobody is inside the lock, yet T{tid} sleeps in {call}() forever"
        return None

    def describe(self, event: Event) -> str:
        who = {"r": "reader", "w": "writer"}.get(event[1] if len(event) > 1 else "", "")
        return {
            "request": f"asks to get in ({who})",
            "enter": f"gets in ({who})",
            "exit": f"leaves ({who})",
            "shared": "checks that readers share",
        }.get(event[0], super().describe(event))


class BarrierRounds(Monitor):
    """Nobody leaves round k of a barrier of ``n`` threads before all n have arrived.

    Events: ("arrive", k), ("leave", k).
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.arrived: Counter[int] = Counter()
        self.round: dict[int, int] = {}  # thread -> the round it last arrived in

    def feed(self, tid: int, event: Event) -> str | None:
        name, k = event[0], event[1]
        if name == "arrive":
            self.arrived[k] += 1
            self.round[tid] = k
        elif name == "leave" and self.arrived[k] < self.n:
            return (
                f"T{tid} left round {k} of the barrier when only {self.arrived[k]} of "
                f"{self.n} threads had arrived."
            )
        return None

    def could_proceed(self, tid: int, call: str) -> str | None:
        k = self.round.get(tid)
        if call == "Barrier.wait" and k is not None and self.arrived[k] >= self.n:
            return (
                f"T{tid} sleeps in Barrier.wait() forever although all {self.n} threads "
                f"arrived in round {k}"
            )
        return None

    def describe(self, event: Event) -> str:
        return (
            f"{'arrives at' if event[0] == 'arrive' else 'leaves'} the barrier (round {event[1]})"
        )


class NoBusyWaiting(Monitor):
    """While T0 holds the mutex for a long time, the waiter must sleep, not spin.

    Events: ("hold", steps of the waiter), ("unhold", steps of the waiter).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.at_hold: int | None = None

    def feed(self, tid: int, event: Event) -> str | None:
        if event[0] == "hold":
            self.at_hold = int(event[1])
        elif event[0] == "unhold" and self.at_hold is not None:
            spent = int(event[1]) - self.at_hold
            if spent > self.limit:
                return (
                    f"While T{tid} held the mutex, the thread waiting for it ran {spent} steps "
                    f"(more than {self.limit}): it busy-waits. A waiter must sleep on a "
                    "WaitQueue until the holder releases the mutex."
                )
        return None

    def describe(self, event: Event) -> str:
        return "holds the mutex for a long time" if event[0] == "hold" else "lets go of it"
