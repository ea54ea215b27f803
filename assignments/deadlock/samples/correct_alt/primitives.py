"""A correct alternative solution, designed differently from the reference (written by hand).

Test-and-test-and-set spin lock; a mutex without hand-off (a woken thread competes
again); a semaphore straight on a guard and a wait queue; a bounded buffer on one mutex
and two condition variables; a readers-writers lock on one condition and broadcasts; a
barrier from two semaphore turnstiles (The Little Book of Semaphores).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from grader.simos.sync import Cell, OwnershipError, WaitQueue, current_thread_id, yield_cpu


def _lock(guard: Cell) -> None:
    while guard.test_and_set() == 1:
        pass


class SpinLock:
    def __init__(self) -> None:
        self.flag = Cell(0)

    def acquire(self) -> None:
        while True:
            while self.flag.load() == 1:
                yield_cpu()
            if self.flag.test_and_set() == 0:
                return

    def release(self) -> None:
        self.flag.store(0)


class TicketLock:
    def __init__(self) -> None:
        self.ticket = Cell(0)
        self.turn = Cell(0)

    def acquire(self) -> None:
        mine = self.ticket.fetch_and_add(1)
        while self.turn.load() != mine:
            yield_cpu()

    def release(self) -> None:
        self.turn.store(self.turn.load() + 1)  # only the holder writes turn


class Mutex:
    def __init__(self) -> None:
        self.guard = Cell(0)
        self.owner: int | None = None
        self.sleepers = WaitQueue()

    def acquire(self) -> None:
        me = current_thread_id()
        while True:
            _lock(self.guard)
            if self.owner is None:
                self.owner = me
                self.guard.store(0)
                return
            self.sleepers.sleep(self.guard)

    def release(self) -> None:
        me = current_thread_id()
        _lock(self.guard)
        if self.owner != me:
            self.guard.store(0)
            raise OwnershipError(f"T{me} does not hold this mutex")
        self.owner = None
        self.sleepers.wake_one()
        self.guard.store(0)


class Condition:
    def __init__(self, mutex: Mutex) -> None:
        self.mutex = mutex
        self.guard = Cell(0)
        self.queue = WaitQueue()

    def wait(self) -> None:
        _lock(self.guard)
        self.mutex.release()
        self.queue.sleep(self.guard)
        self.mutex.acquire()

    def signal(self) -> None:
        _lock(self.guard)
        self.queue.wake_one()
        self.guard.store(0)

    def broadcast(self) -> None:
        _lock(self.guard)
        self.queue.wake_all()
        self.guard.store(0)


class Semaphore:
    def __init__(self, value: int) -> None:
        self.guard = Cell(0)
        self.value = value
        self.queue = WaitQueue()

    def acquire(self) -> None:
        while True:
            _lock(self.guard)
            if self.value > 0:
                self.value -= 1
                self.guard.store(0)
                return
            self.queue.sleep(self.guard)

    def release(self) -> None:
        _lock(self.guard)
        self.value += 1
        self.queue.wake_one()
        self.guard.store(0)


class BoundedBuffer:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.items: deque[Any] = deque()
        self.mutex = Mutex()
        self.not_full = Condition(self.mutex)
        self.not_empty = Condition(self.mutex)

    def put(self, item: Any) -> None:
        self.mutex.acquire()
        while len(self.items) == self.capacity:
            self.not_full.wait()
        self.items.append(item)
        self.not_empty.signal()
        self.mutex.release()

    def get(self) -> Any:
        self.mutex.acquire()
        while not self.items:
            self.not_empty.wait()
        item = self.items.popleft()
        self.not_full.signal()
        self.mutex.release()
        return item


class ReadWriteLock:
    def __init__(self) -> None:
        self.mutex = Mutex()
        self.changed = Condition(self.mutex)
        self.reading = 0
        self.writing = False
        self.writers_waiting = 0

    def acquire_read(self) -> None:
        self.mutex.acquire()
        while self.writing or self.writers_waiting:
            self.changed.wait()
        self.reading += 1
        self.mutex.release()

    def release_read(self) -> None:
        self.mutex.acquire()
        self.reading -= 1
        self.changed.broadcast()
        self.mutex.release()

    def acquire_write(self) -> None:
        self.mutex.acquire()
        self.writers_waiting += 1
        while self.writing or self.reading:
            self.changed.wait()
        self.writers_waiting -= 1
        self.writing = True
        self.mutex.release()

    def release_write(self) -> None:
        self.mutex.acquire()
        self.writing = False
        self.changed.broadcast()
        self.mutex.release()


class Barrier:
    def __init__(self, n: int) -> None:
        self.n = n
        self.count = 0
        self.mutex = Semaphore(1)
        self.turnstile = Semaphore(0)
        self.turnstile2 = Semaphore(1)

    def wait(self) -> None:
        self.mutex.acquire()
        self.count += 1
        if self.count == self.n:
            self.turnstile2.acquire()
            self.turnstile.release()
        self.mutex.release()
        self.turnstile.acquire()
        self.turnstile.release()
        self.mutex.acquire()
        self.count -= 1
        if self.count == 0:
            self.turnstile.acquire()
            self.turnstile2.release()
        self.mutex.release()
        self.turnstile2.acquire()
        self.turnstile2.release()
