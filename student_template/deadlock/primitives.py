"""Synchronization primitives and classic problems: your solution goes here.

Build everything on the course's hardware and kernel (read README.md first):

- ``Cell``: one word of shared memory; ``load``, ``store``, ``test_and_set``,
  ``compare_and_swap`` and ``fetch_and_add`` are atomic instructions.
- ``WaitQueue``: ``sleep(guard)`` (release the spin lock ``guard`` and sleep, in one
  step), ``wake_one()`` (FIFO; returns the woken thread's id or None), ``wake_all()``.
- ``current_thread_id()``, ``yield_cpu()``.

Do not use ``threading``, ``time.sleep`` or any other library: the explorer that grades
your code controls only these primitives, and reports a thread blocked elsewhere.
Plain attributes (``self.count``) are shared memory too: reading and writing them are
separate steps, so protect them with a lock.
"""

from __future__ import annotations

from typing import Any

from grader.simos.sync import (  # noqa: F401 - yours to use
    Cell,
    OwnershipError,
    WaitQueue,
    current_thread_id,
    yield_cpu,
)


class SpinLock:
    """A spin lock on test-and-set: ``acquire`` loops until ``test_and_set()`` returns 0."""

    def __init__(self) -> None:
        raise NotImplementedError("SpinLock.__init__")

    def acquire(self) -> None:
        """Wait (spinning) until the lock is free, then take it."""
        raise NotImplementedError("SpinLock.acquire")

    def release(self) -> None:
        """Free the lock (the caller holds it)."""
        raise NotImplementedError("SpinLock.release")


class TicketLock:
    """A FIFO spin lock: take a ticket with one ``fetch_and_add``, wait until it is served."""

    def __init__(self) -> None:
        raise NotImplementedError("TicketLock.__init__")

    def acquire(self) -> None:
        """Take the next ticket (one fetch_and_add), then spin until that ticket is served."""
        raise NotImplementedError("TicketLock.acquire")

    def release(self) -> None:
        """Serve the next ticket."""
        raise NotImplementedError("TicketLock.release")


class Mutex:
    """A sleeping lock with an owner: a thread that finds it held sleeps on a WaitQueue.

    Keep its state (held? by whom?) in plain attributes protected by a small spin lock
    (a ``Cell`` used with ``test_and_set``), and go to sleep with ``sleep(guard)``.
    """

    def __init__(self) -> None:
        raise NotImplementedError("Mutex.__init__")

    def acquire(self) -> None:
        """Take the mutex; if another thread holds it, sleep until it is yours (no spinning)."""
        raise NotImplementedError("Mutex.acquire")

    def release(self) -> None:
        """Release the mutex, waking one sleeping thread if there is one.

        Raises OwnershipError if the calling thread does not hold it.
        """
        raise NotImplementedError("Mutex.release")


class Condition:
    """A Mesa condition variable used with ``mutex`` (always call it holding the mutex)."""

    def __init__(self, mutex: Mutex) -> None:
        raise NotImplementedError("Condition.__init__")

    def wait(self) -> None:
        """Release the mutex and sleep, atomically; hold the mutex again before returning.

        Mesa semantics: when ``wait`` returns, the condition may no longer hold (another
        thread may have run first), so always call it in a loop: ``while not ok: c.wait()``.
        """
        raise NotImplementedError("Condition.wait")

    def signal(self) -> None:
        """Wake one waiting thread, if any (it runs later, once it has the mutex again)."""
        raise NotImplementedError("Condition.signal")

    def broadcast(self) -> None:
        """Wake every waiting thread."""
        raise NotImplementedError("Condition.broadcast")


class Semaphore:
    """A counting semaphore that starts with ``value`` permits (``value >= 0``)."""

    def __init__(self, value: int) -> None:
        raise NotImplementedError("Semaphore.__init__")

    def acquire(self) -> None:
        """P (wait, down): take a permit; sleep while there is none."""
        raise NotImplementedError("Semaphore.acquire")

    def release(self) -> None:
        """V (signal, up): give a permit back, waking a thread that waits for one."""
        raise NotImplementedError("Semaphore.release")


class BoundedBuffer:
    """A FIFO buffer of at most ``capacity`` items, for producers and consumers."""

    def __init__(self, capacity: int) -> None:
        raise NotImplementedError("BoundedBuffer.__init__")

    def put(self, item: Any) -> None:
        """Add ``item``; sleep while the buffer is full."""
        raise NotImplementedError("BoundedBuffer.put")

    def get(self) -> Any:
        """Remove and return the oldest item; sleep while the buffer is empty."""
        raise NotImplementedError("BoundedBuffer.get")


class ReadWriteLock:
    """Many readers at once, or one writer alone. Fairness: a waiting writer goes first.

    Once a writer is waiting, a reader that arrives after it waits for that writer
    (readers already inside finish normally). So a stream of readers cannot starve
    writers.
    """

    def __init__(self) -> None:
        raise NotImplementedError("ReadWriteLock.__init__")

    def acquire_read(self) -> None:
        raise NotImplementedError("ReadWriteLock.acquire_read")

    def release_read(self) -> None:
        raise NotImplementedError("ReadWriteLock.release_read")

    def acquire_write(self) -> None:
        raise NotImplementedError("ReadWriteLock.acquire_write")

    def release_write(self) -> None:
        raise NotImplementedError("ReadWriteLock.release_write")


class Barrier:
    """A reusable barrier for ``n`` threads."""

    def __init__(self, n: int) -> None:
        raise NotImplementedError("Barrier.__init__")

    def wait(self) -> None:
        """Sleep until all ``n`` threads have called ``wait`` in this round; then all go on.

        The barrier can be used again at once for the next round.
        """
        raise NotImplementedError("Barrier.wait")
