"""User space: system-call wrappers over the simulated kernel, routing select, poll and epoll
through an implementation (your ``mux.py``, or the reference).

Like Python's ``os`` and ``select`` modules: failures raise ``KernelError`` (an OSError),
``select`` raises ValueError for a descriptor outside 0 .. FD_SETSIZE-1 before entering the
kernel, and every call is non-blocking. The wrapper copies arguments in and results out
(the bytes copied are part of the recorded cost) and checks what your code returns.
"""

from __future__ import annotations

from typing import Any

from .events import EPOLL_CTL_DEL, FD_SETSIZE
from .interface import implementation
from .kernel import Kernel
from .model import Cost, EpollEvent, FdSet, IomuxError, KernelError, PollFd, check_fd_set_size

EPOLL_EVENT_BYTES = 12  # struct epoll_event on x86-64 (packed)
POLLFD_BYTES = 8


def _words(nfds: int) -> int:
    return (nfds + 63) // 64 * 8  # an fd_set is copied as whole 64-bit words


def _exact_int(value: object, what: str) -> int:
    if type(value) is not int:
        raise IomuxError(f"{what} must be an int, got {value!r} ({type(value).__name__})")
    return value


class Libc:
    """The process's view of the system: file operations plus select, poll and epoll."""

    def __init__(self, kernel: Kernel, impl: Any, *, record_costs: bool = False) -> None:
        self.kernel = kernel
        self.impl = impl
        self.record_costs = record_costs
        self.costs: list[Cost] = []  # one per multiplexing call, when recording

    # ------------------------------------------------------------------ plain calls

    def pipe(self) -> tuple[int, int]:
        return self.kernel.pipe()

    def socketpair(self) -> tuple[int, int]:
        return self.kernel.socketpair()

    def listen(self, backlog: int) -> int:
        return self.kernel.listen(backlog)

    def connect(self, address: int) -> int:
        return self.kernel.connect(address)

    def accept(self, fd: int) -> int:
        return self.kernel.accept(fd)

    def read(self, fd: int, n: int) -> bytes:
        if _exact_int(n, "read's size") < 0:
            raise IomuxError(f"read({fd}, {n}): the size must be >= 0")
        return self.kernel.read(fd, n)

    def write(self, fd: int, data: bytes) -> int:
        if type(data) not in (bytes, bytearray):
            raise IomuxError(f"write needs bytes, got {type(data).__name__}")
        return self.kernel.write(fd, bytes(data))

    def send_oob(self, fd: int) -> int:
        return self.kernel.send_oob(fd)

    def shutdown(self, fd: int, how: int) -> None:
        self.kernel.shutdown(fd, how)

    def dup(self, fd: int) -> int:
        return self.kernel.dup(fd)

    def close(self, fd: int) -> None:
        self.kernel.close(fd)

    def open_null(self) -> int:
        return self.kernel.open_null()

    # ------------------------------------------------------------------ metering

    def _start(self, call: str) -> None:
        self.kernel.metered(call)

    def _stop(self) -> None:
        cost = self.kernel.unmetered()
        if self.record_costs and cost is not None:
            self.costs.append(cost)

    def _meter_add(self, bytes_in: int = 0, bytes_out: int = 0, scanned: int = 0) -> None:
        meter = self.kernel.meter
        if meter is not None:
            meter.bytes_in += bytes_in
            meter.bytes_out += bytes_out
            meter.scanned += scanned

    # ------------------------------------------------------------------ select and poll

    def select(
        self, r: list[int], w: list[int], x: list[int], nfds: int | None = None
    ) -> tuple[list[int], list[int], list[int]]:
        """select(2) with timeout 0; an empty list is passed as a NULL set."""
        check_fd_set_size([*r, *w, *x])
        if nfds is None:
            nfds = max([*r, *w, *x], default=-1) + 1
        self._start("select")
        try:
            meter = self.kernel.meter
            seen = meter.seen if meter is not None else set()
            limit = max(0, min(nfds, FD_SETSIZE))
            sets = [FdSet(limit, fds, seen) if fds else None for fds in (r, w, x)]
            copied = _words(limit) * sum(s is not None for s in sets)
            self._meter_add(bytes_in=copied)
            count = _exact_int(
                implementation(self.impl, "sys_select")(self.kernel, nfds, *sets),
                "the value sys_select returns",
            )
            self._meter_add(bytes_out=copied)
        finally:
            self._stop()
        result = tuple(s.members() if s is not None else [] for s in sets)
        if count != sum(len(m) for m in result):
            raise IomuxError(
                f"sys_select returned {count}, but the three sets hold "
                f"{sum(len(m) for m in result)} descriptors after the call; return the number "
                "of bits left set"
            )
        return result[0], result[1], result[2]

    def poll(self, fds: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """poll(2) with timeout 0: ``[(fd, revents), ...]`` for the entries with revents != 0."""
        self._start("poll")
        try:
            entries = [PollFd(fd, events) for fd, events in fds]
            self._meter_add(bytes_in=POLLFD_BYTES * len(entries), scanned=len(entries))
            count = _exact_int(
                implementation(self.impl, "sys_poll")(self.kernel, entries),
                "the value sys_poll returns",
            )
            self._meter_add(bytes_out=2 * len(entries))
        finally:
            self._stop()
        out = []
        for (fd, _), entry in zip(fds, entries, strict=True):
            revents = _exact_int(entry.revents, f"revents of the entry for fd {fd}")
            if not 0 <= revents <= 0xFFFF:
                raise IomuxError(f"revents of fd {fd} is {revents:#x}: it is a 16-bit field")
            if revents:
                out.append((fd, revents))
        if count != len(out):
            raise IomuxError(
                f"sys_poll returned {count}, but {len(out)} entries have a non-zero revents; "
                "return the number of entries with revents != 0"
            )
        return out

    # ------------------------------------------------------------------ epoll

    def epoll_create(self) -> int:
        fd = _exact_int(
            implementation(self.impl, "sys_epoll_create")(self.kernel),
            "the value sys_epoll_create returns",
        )
        file = self.kernel.file_at(fd)
        if file is None or file.kind != "epoll":
            raise IomuxError(
                f"sys_epoll_create returned {fd}, which is not an epoll file: return the "
                "descriptor k.install_epoll(instance) gave you"
            )
        return fd

    def epoll_ctl(
        self, epfd: int, op: int, fd: int, events: int = 0, data: int | None = None
    ) -> None:
        event = None if op == EPOLL_CTL_DEL else EpollEvent(events, fd if data is None else data)
        self._start("epoll_ctl")
        try:
            self._meter_add(bytes_in=0 if event is None else EPOLL_EVENT_BYTES)
            ret = implementation(self.impl, "sys_epoll_ctl")(self.kernel, epfd, op, fd, event)
        finally:
            self._stop()
        if ret is not None and not (type(ret) is int and ret == 0):
            raise IomuxError(
                f"sys_epoll_ctl should return None (or raise KernelError), got {ret!r}"
            )

    def epoll_wait(self, epfd: int, maxevents: int) -> list[tuple[int, int]]:
        """epoll_wait(2) with timeout 0: ``[(data, events), ...]`` in the order returned."""
        self._start("epoll_wait")
        try:
            got = implementation(self.impl, "sys_epoll_wait")(self.kernel, epfd, maxevents)
            events = _events_of(got)
            meter = self.kernel.meter
            if meter is not None:
                meter.scanned = meter.polls  # epoll walks its ready list, polling each item
                meter.bytes_out += EPOLL_EVENT_BYTES * len(events)
        finally:
            self._stop()
        if len(events) > maxevents:
            raise IomuxError(
                f"sys_epoll_wait returned {len(events)} events but maxevents is {maxevents}"
            )
        return events


def _events_of(got: object) -> list[tuple[int, int]]:
    """Check sys_epoll_wait's answer: a list of EpollEvent (or (events, data) pairs)."""
    if type(got) not in (list, tuple):
        raise IomuxError(
            f"sys_epoll_wait must return a list of EpollEvent, got {type(got).__name__}"
        )
    out = []
    for item in got:  # type: ignore[attr-defined]
        if type(item) is EpollEvent:
            events, data = item.events, item.data
        elif type(item) is tuple and len(item) == 2:
            events, data = item
        else:
            raise IomuxError(
                f"sys_epoll_wait must return a list of EpollEvent, found {type(item).__name__}"
            )
        out.append(
            (_exact_int(data, "an EpollEvent's data"), _exact_int(events, "an EpollEvent's events"))
        )
    return out


__all__ = ["KernelError", "Libc"]
