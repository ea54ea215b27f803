"""Errors and the small data types that cross between the kernel and your code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .events import FD_SETSIZE, errno_name


class KernelError(OSError):
    """A system call failed with ``errno`` (``KernelError(EAGAIN)``), like OSError in Python.

    Raise it from your system calls to return an error: ``raise KernelError(EBADF)``.
    ``str(err)`` is the errno's name, e.g. ``"EBADF"``.
    """

    def __init__(self, code: int, detail: str = "") -> None:
        if type(code) is not int:
            raise IomuxError(f"KernelError needs an errno int such as EBADF, got {code!r}")
        super().__init__(code, errno_name(code))
        self.detail = detail

    def __str__(self) -> str:
        name = errno_name(int(OSError.__dict__["errno"].__get__(self)))
        return f"{name}: {self.detail}" if self.detail else name


class IomuxError(Exception):
    """Your code broke the simulated kernel's rules (for example, returned a wrong type)."""


class ScenarioError(ValueError):
    """A scenario is malformed (an unknown operation, a missing field, an unsupported case)."""


WakeFn = Callable[[int], None]
ReleaseFn = Callable[[], None]


class FdSet:
    """The kernel's copy of one fd_set of select(2): descriptors 0 .. nfds-1, one bit each.

    ``isset(fd)`` tests a bit, ``set(fd)`` / ``clear(fd)`` change it, ``zero()`` clears all.
    Looking at a descriptor outside 0 .. nfds-1 is an error (select never does), and the
    kernel counts every descriptor you look at: that is select's cost.
    """

    __slots__ = ("_bits", "_nfds", "_seen")

    def __init__(self, nfds: int, fds: object = (), seen: set[int] | None = None) -> None:
        self._nfds = nfds
        self._bits = 0
        self._seen = seen if seen is not None else set()
        for fd in fds:  # type: ignore[attr-defined]
            if type(fd) is int and 0 <= fd < nfds:  # the kernel copies nfds bits only
                self._bits |= 1 << fd

    @property
    def nfds(self) -> int:
        return self._nfds

    def _check(self, fd: object) -> int:
        if type(fd) is not int:
            raise IomuxError(f"an fd_set holds descriptor numbers (int), got {fd!r}")
        if fd >= FD_SETSIZE:
            raise IomuxError(
                f"select looked at descriptor {fd}, but an fd_set has only FD_SETSIZE = "
                f"{FD_SETSIZE} bits: fail with EINVAL when nfds > FD_SETSIZE"
            )
        if not 0 <= fd < self._nfds:
            raise IomuxError(
                f"select looked at descriptor {fd}, but nfds is {self._nfds}: select only "
                f"examines descriptors 0 .. nfds-1 = 0 .. {self._nfds - 1}"
            )
        return fd

    def isset(self, fd: int) -> bool:
        """Is ``fd`` in the set? (FD_ISSET)"""
        self._seen.add(self._check(fd))
        return bool(self._bits >> fd & 1)

    def set(self, fd: int) -> None:
        """Put ``fd`` in the set (FD_SET)."""
        self._bits |= 1 << self._check(fd)

    def clear(self, fd: int) -> None:
        """Take ``fd`` out of the set (FD_CLR)."""
        self._bits &= ~(1 << self._check(fd))

    def zero(self) -> None:
        """Empty the set (FD_ZERO)."""
        self._bits = 0

    def members(self) -> list[int]:
        """The descriptors in the set, lowest first (for the kernel and tests, not a scan)."""
        bits, out, fd = self._bits, [], 0
        while bits:
            if bits & 1:
                out.append(fd)
            bits >>= 1
            fd += 1
        return out

    def __repr__(self) -> str:
        return f"FdSet(nfds={self._nfds}, {self.members()})"


def check_fd_set_size(fds: list[int]) -> None:
    """What the user-space wrapper checks (like Python's select.select): 0 <= fd < FD_SETSIZE."""
    for fd in fds:
        if not 0 <= fd < FD_SETSIZE:
            raise ValueError("filedescriptor out of range in select()")


class PollFd:
    """One ``struct pollfd`` of poll(2): you read ``fd`` and ``events`` and set ``revents``."""

    __slots__ = ("events", "fd", "revents")

    def __init__(self, fd: int, events: int, revents: int = 0) -> None:
        self.fd = fd
        self.events = events
        self.revents = revents

    def __repr__(self) -> str:
        return f"PollFd(fd={self.fd}, events={self.events:#x}, revents={self.revents:#x})"


@dataclass(frozen=True, slots=True)
class EpollEvent:
    """``struct epoll_event``: the ``events`` mask and the caller's ``data`` (usually the fd)."""

    events: int
    data: int


@dataclass(frozen=True, slots=True)
class Cost:
    """What one call cost the kernel (see the handout's cost model).

    ``bytes_in`` / ``bytes_out``: bytes copied from / to user memory; ``scanned``: descriptors
    examined; ``polls``: driver poll calls (``k.poll``); ``waitq``: wait-queue entries added
    or removed.
    """

    call: str
    bytes_in: int = 0
    bytes_out: int = 0
    scanned: int = 0
    polls: int = 0
    waitq: int = 0

    def to_data(self) -> dict[str, object]:
        return {
            "call": self.call,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "scanned": self.scanned,
            "polls": self.polls,
            "waitq": self.waitq,
        }
