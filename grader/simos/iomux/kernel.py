"""The simulated kernel: the descriptor table, the file operations, and the services your
select, poll and epoll call.

What your code may call (``k`` is the Kernel):

* ``k.fdget(fd) -> File``: the open file description behind ``fd``; KernelError(EBADF) if
  ``fd`` is not open.
* ``k.poll(file) -> int``: the file's readiness mask right now (IN, OUT, PRI, ERR, HUP,
  RDHUP, RDNORM, ...), like a driver's ``->poll``. Counted as one driver poll.
* ``k.can_poll(file) -> bool``: False for files without a poll method (/dev/null).
* ``k.add_wait(file, wake, release) -> WaitEntry``: hook the file's wait queue. The kernel
  calls ``wake(key)`` at every wake-up of the file (``key`` is an event mask, 0 = "no key":
  matches everything) and ``release()`` once, when the last descriptor of ``file`` is
  closed (the entry is gone after that). Counted as one wait-queue operation.
* ``k.remove_wait(entry)``: unhook it (one wait-queue operation).
* ``k.install_epoll(instance) -> int``: a new epoll file holding ``instance`` at the lowest
  free descriptor; ``k.epoll_instance(file)`` gives it back (None if ``file`` is not an
  epoll file). If ``instance`` has a ``release()`` method, the kernel calls it when the last
  descriptor of the epoll file is closed.

Descriptors are allocated lowest-free (POSIX); 0, 1 and 2 are open on /dev/null.
"""

from __future__ import annotations

import heapq
import itertools

from .events import DEFAULT_POLLMASK, EBADF, EINVAL, EMFILE, ENOTSOCK
from .files import File, FileKind, WaitEntry, WaitQueue, call_back
from .model import Cost, IomuxError, KernelError, ReleaseFn, ScenarioError, WakeFn
from .pipe import Pipe
from .unix import UnixSocket

MAX_FDS = 1 << 20


class Meter:
    """The cost of the system call in progress (see Cost)."""

    __slots__ = ("bytes_in", "bytes_out", "call", "polls", "scanned", "seen", "waitq")

    def __init__(self, call: str) -> None:
        self.call = call
        self.bytes_in = 0
        self.bytes_out = 0
        self.scanned = 0
        self.polls = 0
        self.waitq = 0
        self.seen: set[int] = set()  # descriptors an FdSet was asked about

    def freeze(self) -> Cost:
        return Cost(
            self.call,
            self.bytes_in,
            self.bytes_out,
            self.scanned or len(self.seen),
            self.polls,
            self.waitq,
        )


class Kernel:
    """One simulated machine with one process (its descriptor table)."""

    def __init__(self) -> None:
        self._fds: dict[int, File] = {}
        self._free: list[int] = []  # a heap of closed numbers below _next
        self._next = 0
        self._ids = itertools.count(1)
        self.listeners: list[UnixSocket | None] = []  # listener k's address; None once closed
        self.meter: Meter | None = None
        for _ in range(3):
            self._install(self._new("null", None, readable=True, writable=True))

    # ------------------------------------------------------------------ descriptors

    def _new(self, kind: FileKind, obj: object, *, readable: bool, writable: bool) -> File:
        return File(next(self._ids), kind, obj, readable=readable, writable=writable)

    def _install(self, file: File) -> int:
        if self._free:
            fd = heapq.heappop(self._free)
        elif self._next < MAX_FDS:
            fd = self._next
            self._next += 1
        else:
            raise KernelError(EMFILE)
        self._fds[fd] = file
        file.refs += 1
        return fd

    def _file(self, fd: object) -> File:
        if type(fd) is not int:
            raise IomuxError(f"a descriptor is an int, got {fd!r} ({type(fd).__name__})")
        file = self._fds.get(fd)
        if file is None:
            raise KernelError(EBADF)
        return file

    def fds(self) -> list[int]:
        """The open descriptors, lowest first."""
        return sorted(self._fds)

    def file_at(self, fd: int) -> File | None:
        return self._fds.get(fd)

    # ------------------------------------------------------------------ system calls

    def pipe(self) -> tuple[int, int]:
        p = Pipe()
        r = self._install(self._new("pipe", p, readable=True, writable=False))
        w = self._install(self._new("pipe", p, readable=False, writable=True))
        return r, w

    def socketpair(self) -> tuple[int, int]:
        a, b = UnixSocket(), UnixSocket()
        a.peer, b.peer = b, a
        return self._install_socket(a), self._install_socket(b)

    def _install_socket(self, sock: UnixSocket) -> int:
        return self._install(self._new("socket", sock, readable=True, writable=True))

    def listen(self, backlog: int) -> int:
        """A listening socket bound to address ``len(self.listeners)`` (connect to it by that)."""
        sock = UnixSocket()
        sock.listening = True
        sock.backlog = max(0, backlog)
        fd = self._install_socket(sock)
        self.listeners.append(sock)
        return fd

    def connect(self, address: int) -> int:
        """A new socket connected to listener ``address``: ECONNREFUSED, EAGAIN (backlog full)."""
        listener = self.listeners[address] if 0 <= address < len(self.listeners) else None
        sock = UnixSocket()
        sock.connect_to(listener)
        return self._install_socket(sock)

    def _socket(self, fd: int) -> UnixSocket:
        file = self._file(fd)
        if file.kind != "socket":
            raise KernelError(ENOTSOCK)
        assert isinstance(file.obj, UnixSocket)
        return file.obj

    def accept(self, fd: int) -> int:
        return self._install_socket(self._socket(fd).accept())

    def read(self, fd: int, n: int) -> bytes:
        file = self._file(fd)
        if file.kind == "epoll":
            raise KernelError(EINVAL)
        if not file.readable:
            raise KernelError(EBADF)
        if file.kind == "pipe":
            assert isinstance(file.obj, Pipe)
            return file.obj.read(n)
        if file.kind == "socket":
            assert isinstance(file.obj, UnixSocket)
            return file.obj.recv(n)
        return b""  # /dev/null

    def write(self, fd: int, data: bytes) -> int:
        file = self._file(fd)
        if file.kind == "epoll":
            raise KernelError(EINVAL)
        if not file.writable:
            raise KernelError(EBADF)
        if file.kind == "pipe":
            assert isinstance(file.obj, Pipe)
            return file.obj.write(data)
        if file.kind == "socket":
            assert isinstance(file.obj, UnixSocket)
            return file.obj.send(data)
        return len(data)  # /dev/null

    def send_oob(self, fd: int) -> int:
        return self._socket(fd).send_oob()

    def shutdown(self, fd: int, how: int) -> None:
        self._socket(fd).do_shutdown(how)

    def dup(self, fd: int) -> int:
        return self._install(self._file(fd))

    def open_null(self) -> int:
        return self._install(self._new("null", None, readable=True, writable=True))

    def close(self, fd: int) -> None:
        file = self._file(fd)
        del self._fds[fd]
        heapq.heappush(self._free, fd)
        file.refs -= 1
        if file.refs == 0:
            self._release(file)

    def _release(self, file: File) -> None:
        """__fput: epoll items of the file go first (eventpoll_release), then the file itself."""
        file.released = True
        hooked = [e for e in reversed(file.entries) if e.active]
        for entry in hooked:
            self._unhook(entry)
        file.entries.clear()
        for entry in hooked:
            call_back(entry.release)
        if file.kind == "pipe":
            assert isinstance(file.obj, Pipe)
            file.obj.release(file.readable)
        elif file.kind == "socket":
            assert isinstance(file.obj, UnixSocket)
            sock = file.obj
            if sock.listening:
                self.listeners = [None if s is sock else s for s in self.listeners]
            sock.release()
        elif file.kind == "epoll":
            release = getattr(file.obj, "release", None)
            if callable(release):
                release()

    # ------------------------------------------------------------------ services for epoll

    def fdget(self, fd: int) -> File:
        """The open file description behind ``fd``; KernelError(EBADF) if it is not open."""
        return self._file(fd)

    def _check_file(self, file: object, what: str) -> File:
        if type(file) is not File:
            raise IomuxError(f"{what} needs a File from k.fdget(fd), got {file!r}")
        if file.released:
            raise IomuxError(
                f"{what}({file!r}): that file was closed (its last descriptor went away); "
                "your epoll must forget it when the kernel calls your release callback"
            )
        return file

    def mask(self, file: File) -> int:
        """The readiness mask of ``file`` without counting a poll (for checks and tests)."""
        if file.kind == "pipe":
            assert isinstance(file.obj, Pipe)
            saved = file.obj.poll_usage
            mask = file.obj.poll(file.readable)
            file.obj.poll_usage = saved
            return mask
        if file.kind == "socket":
            assert isinstance(file.obj, UnixSocket)
            return file.obj.poll()
        if file.kind == "null":
            return DEFAULT_POLLMASK
        raise ScenarioError("polling an epoll file (nested epoll) is not modelled")

    def poll(self, file: File) -> int:
        """The file's readiness mask now (a driver's ->poll); counts one driver poll."""
        self._check_file(file, "k.poll")
        if self.meter is not None:
            self.meter.polls += 1
        if file.kind == "pipe":
            assert isinstance(file.obj, Pipe)
            return file.obj.poll(file.readable)
        return self.mask(file)

    def can_poll(self, file: File) -> bool:
        """False for a file without a poll method (epoll_ctl then fails with EPERM)."""
        return self._check_file(file, "k.can_poll").kind != "null"

    def _queue_of(self, file: File) -> WaitQueue:
        if file.kind == "pipe":
            assert isinstance(file.obj, Pipe)
            return file.obj.rd_wait if file.readable else file.obj.wr_wait
        if file.kind == "socket":
            assert isinstance(file.obj, UnixSocket)
            return file.obj.wq
        if file.kind == "epoll":
            raise ScenarioError("waiting on an epoll file (nested epoll) is not modelled")
        raise IomuxError(
            f"k.add_wait({file!r}): /dev/null has no wait queue; check k.can_poll(file) first "
            "(epoll_ctl fails with EPERM for such files)"
        )

    def add_wait(self, file: File, wake: WakeFn, release: ReleaseFn) -> WaitEntry:
        """Hook ``wake(key)`` and ``release()`` on the file's wait queue (see the module doc)."""
        self._check_file(file, "k.add_wait")
        if not callable(wake) or not callable(release):
            raise IomuxError("k.add_wait(file, wake, release): wake and release must be callable")
        queue = self._queue_of(file)
        entry = WaitEntry(file, queue, wake, release)
        queue.entries.append(entry)
        file.entries.append(entry)
        if self.meter is not None:
            self.meter.waitq += 1
        return entry

    def _unhook(self, entry: WaitEntry) -> None:
        entry.active = False
        entry.queue.entries.remove(entry)

    def remove_wait(self, entry: WaitEntry) -> None:
        """Unhook an entry from its wait queue (nothing happens if it is already gone)."""
        if type(entry) is not WaitEntry:
            raise IomuxError(f"k.remove_wait needs a WaitEntry from k.add_wait, got {entry!r}")
        if not entry.active:
            return
        self._unhook(entry)
        entry.file.entries.remove(entry)
        if self.meter is not None:
            self.meter.waitq += 1

    def install_epoll(self, instance: object) -> int:
        """A new epoll file holding ``instance``, at the lowest free descriptor."""
        return self._install(self._new("epoll", instance, readable=False, writable=False))

    def epoll_instance(self, file: File) -> object | None:
        """What ``install_epoll`` stored in ``file``; None if ``file`` is not an epoll file."""
        if type(file) is not File:
            raise IomuxError(f"k.epoll_instance needs a File from k.fdget(fd), got {file!r}")
        return file.obj if file.kind == "epoll" else None

    # ------------------------------------------------------------------ cost accounting

    def metered(self, call: str) -> Meter:
        self.meter = Meter(call)
        return self.meter

    def unmetered(self) -> Cost | None:
        meter, self.meter = self.meter, None
        return meter.freeze() if meter is not None else None
