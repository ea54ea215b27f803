"""Sample: the reference, except Mutex tests and takes a plain flag on one line."""

from __future__ import annotations

from collections import deque
from typing import Any

from grader.simos.sync import (
    Cell,
    OwnershipError,
    WaitQueue,
    current_thread_id,
    yield_cpu,
)


class SpinLock:
    """A test-and-set spin lock."""

    def __init__(self) -> None:
        self.flag = Cell(0)

    def acquire(self) -> None:
        while self.flag.test_and_set() == 1:
            pass

    def release(self) -> None:
        self.flag.store(0)


class TicketLock:
    """A ticket lock: FIFO, one fetch-and-add per acquire."""

    def __init__(self) -> None:
        self.next_ticket = Cell(0)
        self.now_serving = Cell(0)

    def acquire(self) -> None:
        my = self.next_ticket.fetch_and_add(1)
        while self.now_serving.load() != my:
            pass

    def release(self) -> None:
        self.now_serving.fetch_and_add(1)


class Mutex:
    """A sleeping mutex with an owner; the lock is handed directly to the next waiter."""

    def __init__(self) -> None:
        self.guard = Cell(0)
        self.locked = False
        self.owner: int | None = None
        self.waiters = WaitQueue()

    def acquire(self) -> None:
        me = current_thread_id()
        while True:
            # The check and the set share one line on purpose (the bug a line-level search hides).
            # fmt: off
            if not self.locked: self.locked = True; self.owner = me; return  # noqa
            # fmt: on
            yield_cpu()

    def release(self) -> None:
        me = current_thread_id()
        while self.guard.test_and_set() == 1:
            pass
        if not self.locked or self.owner != me:
            self.guard.store(0)
            raise OwnershipError(f"T{me} releases a mutex it does not hold (owner: {self.owner})")
        woken = self.waiters.wake_one()
        if woken is None:
            self.locked = False
            self.owner = None
        else:
            self.owner = woken
        self.guard.store(0)


class Condition:
    """A Mesa condition variable on a Mutex."""

    def __init__(self, mutex: Mutex) -> None:
        self.mutex = mutex
        self.guard = Cell(0)
        self.waiters = WaitQueue()

    def wait(self) -> None:
        while self.guard.test_and_set() == 1:
            pass
        self.mutex.release()
        self.waiters.sleep(self.guard)
        self.mutex.acquire()

    def signal(self) -> None:
        while self.guard.test_and_set() == 1:
            pass
        self.waiters.wake_one()
        self.guard.store(0)

    def broadcast(self) -> None:
        while self.guard.test_and_set() == 1:
            pass
        self.waiters.wake_all()
        self.guard.store(0)


class Semaphore:
    """A counting semaphore on a Mutex and a Condition."""

    def __init__(self, value: int) -> None:
        self.value = value
        self.mutex = Mutex()
        self.positive = Condition(self.mutex)

    def acquire(self) -> None:
        self.mutex.acquire()
        while self.value == 0:
            self.positive.wait()
        self.value -= 1
        self.mutex.release()

    def release(self) -> None:
        self.mutex.acquire()
        self.value += 1
        self.positive.signal()
        self.mutex.release()


class BoundedBuffer:
    """Producer/consumer with two counting semaphores and a mutex (Dijkstra)."""

    def __init__(self, capacity: int) -> None:
        self.items: deque[Any] = deque()
        self.mutex = Mutex()
        self.slots = Semaphore(capacity)
        self.filled = Semaphore(0)

    def put(self, item: Any) -> None:
        self.slots.acquire()
        self.mutex.acquire()
        self.items.append(item)
        self.mutex.release()
        self.filled.release()

    def get(self) -> Any:
        self.filled.acquire()
        self.mutex.acquire()
        item = self.items.popleft()
        self.mutex.release()
        self.slots.release()
        return item


class ReadWriteLock:
    """Readers share, writers are alone; a waiting writer goes before readers that come later."""

    def __init__(self) -> None:
        self.mutex = Mutex()
        self.readers_ok = Condition(self.mutex)
        self.writers_ok = Condition(self.mutex)
        self.readers = 0
        self.writing = False
        self.waiting_writers = 0

    def acquire_read(self) -> None:
        self.mutex.acquire()
        while self.writing or self.waiting_writers > 0:
            self.readers_ok.wait()
        self.readers += 1
        self.mutex.release()

    def release_read(self) -> None:
        self.mutex.acquire()
        self.readers -= 1
        if self.readers == 0:
            self.writers_ok.signal()
        self.mutex.release()

    def acquire_write(self) -> None:
        self.mutex.acquire()
        self.waiting_writers += 1
        while self.writing or self.readers > 0:
            self.writers_ok.wait()
        self.waiting_writers -= 1
        self.writing = True
        self.mutex.release()

    def release_write(self) -> None:
        self.mutex.acquire()
        self.writing = False
        if self.waiting_writers > 0:
            self.writers_ok.signal()
        else:
            self.readers_ok.broadcast()
        self.mutex.release()


class Barrier:
    """A reusable barrier for n threads (a generation count tells rounds apart)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.arrived = 0
        self.generation = 0
        self.mutex = Mutex()
        self.all_here = Condition(self.mutex)

    def wait(self) -> None:
        self.mutex.acquire()
        mine = self.generation
        self.arrived += 1
        if self.arrived == self.n:
            self.arrived = 0
            self.generation += 1
            self.all_here.broadcast()
        else:
            while self.generation == mine:
                self.all_here.wait()
        self.mutex.release()
