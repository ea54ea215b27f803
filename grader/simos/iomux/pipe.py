"""A Linux pipe: 16 slots of one 4096-byte page each (fs/pipe.c), with its two wait queues.

Storage: ``write(n)`` first merges ``n % 4096`` bytes into the last slot when the pipe is
not empty and they fit behind the last slot's end offset; the rest goes into fresh slots
of at most 4096 bytes. A slot is freed only when it has been read completely. A write
that fits nowhere fails with EAGAIN; one longer than 4096 bytes writes what fits.

Wake-ups (what an edge-triggered epoll sees): every write of at least one byte wakes
the read side with key IN (even one that fails with EAGAIN: Linux >= 5.14); a read that
frees a slot of a full pipe wakes the write side with key OUT; the last close of one end
wakes both sides with no key.
"""

from __future__ import annotations

from collections import deque

from .events import (
    EAGAIN,
    EPIPE,
    EPOLLERR,
    EPOLLHUP,
    EPOLLIN,
    EPOLLOUT,
    EPOLLRDNORM,
    EPOLLWRNORM,
)
from .files import WaitQueue
from .model import KernelError

PAGE_SIZE = 4096
PIPE_SLOTS = 16


class Slot:
    """One pipe buffer: a page holding ``data`` from byte ``offset`` on."""

    __slots__ = ("data", "offset")

    def __init__(self, data: bytes) -> None:
        self.offset = 0  # where the unread bytes start in the page
        self.data = bytearray(data)  # the unread bytes


class Pipe:
    __slots__ = ("bufs", "poll_usage", "rd_wait", "readers", "wr_wait", "writers")

    def __init__(self) -> None:
        self.bufs: deque[Slot] = deque()
        self.readers = 1
        self.writers = 1
        self.rd_wait = WaitQueue()  # hooked by read-end files
        self.wr_wait = WaitQueue()  # hooked by write-end files
        self.poll_usage = False  # set by the first poll: then every write wakes readers

    @property
    def full(self) -> bool:
        return len(self.bufs) >= PIPE_SLOTS

    @property
    def nbytes(self) -> int:
        return sum(len(b.data) for b in self.bufs)

    def poll(self, readable: bool) -> int:
        """pipe_poll for the read end (``readable``) or the write end."""
        self.poll_usage = True
        mask = 0
        if readable:
            if self.bufs:
                mask |= EPOLLIN | EPOLLRDNORM
            if not self.writers:
                mask |= EPOLLHUP
        else:
            if not self.full:
                mask |= EPOLLOUT | EPOLLWRNORM
            if not self.readers:
                mask |= EPOLLERR
        return mask

    def write(self, data: bytes) -> int:
        """pipe_write, non-blocking. Raises KernelError(EPIPE / EAGAIN)."""
        n = len(data)
        if n == 0:
            return 0
        if not self.readers:
            if self.poll_usage:
                self.rd_wait.wake(EPOLLIN | EPOLLRDNORM)
            raise KernelError(EPIPE)
        was_empty = not self.bufs
        done = 0
        chars = n % PAGE_SIZE
        if chars and not was_empty:
            last = self.bufs[-1]
            if last.offset + len(last.data) + chars <= PAGE_SIZE:
                last.data += data[:chars]
                done = chars
        while done < n and not self.full:
            chunk = data[done : done + PAGE_SIZE]
            self.bufs.append(Slot(chunk))
            done += len(chunk)
        if was_empty or self.poll_usage:
            self.rd_wait.wake(EPOLLIN | EPOLLRDNORM)
        if done == 0:
            raise KernelError(EAGAIN)
        return done

    def read(self, n: int) -> bytes:
        """pipe_read, non-blocking: ``b""`` at end of file; raises KernelError(EAGAIN)."""
        if n == 0:
            return b""
        wake_writer = False
        out = bytearray()
        bufs = self.bufs
        while bufs and len(out) < n:
            slot = bufs[0]
            take = min(len(slot.data), n - len(out))
            out += slot.data[:take]
            del slot.data[:take]
            slot.offset += take
            if not slot.data:
                wake_writer |= self.full  # freeing a slot of a full pipe
                bufs.popleft()
        if wake_writer:
            self.wr_wait.wake(EPOLLOUT | EPOLLWRNORM)
        if not out and self.writers:
            raise KernelError(EAGAIN)
        return bytes(out)

    def release(self, readable: bool) -> None:
        """The last descriptor of one end was closed (pipe_release)."""
        if readable:
            self.readers -= 1
        else:
            self.writers -= 1
        if (not self.readers) != (not self.writers):
            self.rd_wait.wake(0)
            self.wr_wait.wake(0)
