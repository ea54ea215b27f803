"""The echo world: clients that talk to your ``serve(libc, listen_fd)`` over Unix sockets.

The server process sees a descriptor table with the listening socket at fd 3; the clients
are other processes (they use the kernel's sockets directly, not the server's table).
Time passes only inside ``libc.epoll_wait``: on entry the world takes one or two steps (a
client connects, sends, reads its echo, half-closes or closes); when the call would block
(timeout != 0 and nothing to report) the world takes one step at a time until your epoll
has something. When every client is done and the server has closed every connection, or
when nothing can happen any more, ``epoll_wait`` raises ``ServerStop`` (do not catch it).

``run_world`` (in the worker) records every system call of the server; ``replay`` (in the
grader) plays that record again on its own kernel, checks that each result is what the
kernel gives, and computes the verdicts. A server that writes back anything other than
the bytes it read from that same connection is caught there (each write carries a CRC).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from .events import EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLLET, errno_name
from .kernel import Kernel
from .libc import Libc
from .model import IomuxError, KernelError
from .unix import RCV_SHUTDOWN, UnixSocket
from .world import ClientSpec, World, stream

LISTEN_BACKLOG = 8
MAX_SYSCALLS = 20_000
MAX_BLOCKED_STEPS = 20_000


class ServerStop(BaseException):
    """Raised by epoll_wait when the world is over. Let it propagate out of serve()."""


# ---------------------------------------------------------------------------- the server side


class EchoLibc:
    """What ``serve`` may call. Records every call for the grader to replay."""

    def __init__(self, world: World, libc: Libc, listen_fd: int) -> None:
        self._world = world
        self._libc = libc
        self._listen_fd = listen_fd
        self._conns: set[int] = set()
        self.trace: list[list[Any]] = []

    def _log(self, entry: list[Any]) -> None:
        if len(self.trace) >= MAX_SYSCALLS:
            self.trace.append(["stop", "budget"])
            raise ServerStop("too many system calls")
        self.trace.append(entry)

    def _call(self, entry: list[Any], fn: Any, *args: Any) -> Any:
        try:
            value = fn(*args)
        except KernelError as exc:
            if type(exc) is not KernelError:
                raise
            entry.append({"error": errno_name(exc.errno or 0)})
            self._log(entry)
            raise
        return value

    def accept(self, fd: int) -> int:
        entry: list[Any] = ["accept", fd]
        conn = self._call(entry, self._libc.accept, fd)
        self._conns.add(conn)
        self._log([*entry, conn])
        return int(conn)

    def read(self, fd: int, n: int) -> bytes:
        entry: list[Any] = ["read", fd, n]
        data = self._call(entry, self._libc.read, fd, n)
        self._log([*entry, len(data)])
        return bytes(data)

    def write(self, fd: int, data: bytes) -> int:
        if type(data) not in (bytes, bytearray):
            raise IomuxError(f"libc.write needs bytes, got {type(data).__name__}")
        entry: list[Any] = ["write", fd, len(data), zlib.crc32(data)]
        n = self._call(entry, self._libc.write, fd, bytes(data))
        self._log([*entry, n])
        return int(n)

    def close(self, fd: int) -> None:
        entry: list[Any] = ["close", fd]
        self._call(entry, self._libc.close, fd)
        self._conns.discard(fd)
        self._log([*entry, 0])

    def shutdown(self, fd: int, how: int) -> None:
        entry: list[Any] = ["shutdown", fd, how]
        self._call(entry, self._libc.shutdown, fd, how)
        self._log([*entry, 0])

    def epoll_create(self) -> int:
        fd = self._libc.epoll_create()
        self._log(["epoll_create", fd])
        return fd

    def epoll_ctl(self, epfd: int, op: int, fd: int, events: int) -> None:
        entry: list[Any] = ["ctl", epfd, op, fd, events]
        self._call(entry, self._libc.epoll_ctl, epfd, op, fd, events)
        self._log([*entry, 0])

    def epoll_wait(self, epfd: int, maxevents: int, timeout: int = -1) -> list[tuple[int, int]]:
        """Wait for events; ``timeout`` -1 blocks (the world moves on until there are some)."""
        world = self._world
        if world.finished and not self._conns:
            self.trace.append(["stop", "done"])
            raise ServerStop("every client is done")
        world.burst()
        entry: list[Any] = ["wait", epfd, maxevents, timeout]
        steps = 0
        blocked = False
        try:
            events = self._libc.epoll_wait(epfd, maxevents)
            blocked = not events and timeout != 0
            while not events and timeout != 0:
                if world.finished and not self._conns:
                    break
                if steps >= MAX_BLOCKED_STEPS or not world.act():
                    break
                steps += 1
                events = self._libc.epoll_wait(epfd, maxevents)
        except KernelError as exc:
            if type(exc) is not KernelError:
                raise
            self._log([*entry, blocked, steps, {"error": errno_name(exc.errno or 0)}])
            raise
        self._log([*entry, blocked, steps, [list(e) for e in events]])
        if not events and timeout < 0:
            self.trace.append(["stop", "done" if world.finished and not self._conns else "stuck"])
            raise ServerStop("nothing can happen any more")
        return events


def setup(clients: list[ClientSpec], schedule: list[int]) -> tuple[Kernel, World, int]:
    kernel = Kernel()
    listen_fd = kernel.listen(LISTEN_BACKLOG)
    return kernel, World(kernel, clients, schedule), listen_fd


def run_world(impl: Any, clients: list[ClientSpec], schedule: list[int]) -> list[list[Any]]:
    """Run ``impl.serve`` against the clients; the server's system calls, as plain data."""
    kernel, world, listen_fd = setup(clients, schedule)
    libc = EchoLibc(world, Libc(kernel, impl), listen_fd)
    serve = getattr(impl, "serve", None)
    if not callable(serve):
        from .interface import implementation

        implementation(impl, "serve")
    try:
        serve(libc, listen_fd)  # type: ignore[misc]
    except ServerStop:
        pass
    else:
        libc.trace.append(["stop", "returned"])
    if not libc.trace or libc.trace[-1][0] != "stop":
        libc.trace.append(["stop", "returned"])
    return libc.trace


# ---------------------------------------------------------------------------- the verdicts


@dataclass
class Verdict:
    """What the grader concluded from a replayed record."""

    clients: list[dict[str, Any]] = field(default_factory=list)
    stop: str = ""
    problem: str | None = None  # the record does not match the kernel, or bad data was sent
    not_edge_triggered: str | None = None
    blocked_with_work: str | None = None
    starved: str | None = None
    leaked: list[int] = field(default_factory=list)
    waits: int = 0
    calls: int = 0

    def to_data(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "stop": self.stop,
            "problem": self.problem,
            "not_edge_triggered": self.not_edge_triggered,
            "blocked_with_work": self.blocked_with_work,
            "starved": self.starved,
            "leaked": self.leaked,
            "waits": self.waits,
            "calls": self.calls,
        }


class _Replay:
    def __init__(self, clients: list[ClientSpec], schedule: list[int]) -> None:
        self.kernel, self.world, self.listen_fd = setup(clients, schedule)
        self.conns: dict[int, int] = {}  # server fd -> client index (by accept order)
        self.accepted = 0
        self.inbox: dict[int, bytearray] = {}  # read from fd and not yet written back
        self.eof_seen: set[int] = set()
        self.starve: dict[int, int] = {}
        self.v = Verdict()
        self.bound = len(clients) + 2

    def client_of(self, fd: int) -> str:
        return f"client {self.conns[fd]}" if fd in self.conns else "no client"

    def sock(self, fd: int) -> UnixSocket | None:
        f = self.kernel.file_at(fd)
        return f.obj if f is not None and isinstance(f.obj, UnixSocket) else None

    def pending(self) -> str | None:
        """Work the server could do right now (what an edge-triggered loop must not leave)."""
        listener = self.kernel.listeners[0]
        if listener is not None and listener.rcvq:
            return (
                f"{len(listener.rcvq)} connection(s) waiting to be accepted on fd {self.listen_fd}"
            )
        for fd in sorted(self.conns):
            sock = self.sock(fd)
            if sock is None:
                continue
            unread = sum(len(s.data) for s in sock.rcvq)
            if unread:
                plural = "s" if unread != 1 else ""
                return f"fd {fd} ({self.client_of(fd)}) still had {unread} unread byte{plural}"
            if (sock.shutdown & RCV_SHUTDOWN or sock.err) and fd not in self.eof_seen:
                return f"fd {fd} ({self.client_of(fd)}) was closed by its client, unnoticed"
        return None

    def call(self, entry: list[Any]) -> None:
        """Play one recorded call; on a mismatch set ``problem``."""
        k = self.kernel
        name, args, recorded = entry[0], entry[1:-1], entry[-1]

        def attempt(fn: Any, *a: Any) -> Any:
            try:
                return fn(*a)
            except KernelError as exc:
                return {"error": errno_name(exc.errno or 0)}

        if name == "accept":
            got = attempt(k.accept, args[0])
            if type(got) is int:
                self.conns[got] = self.accepted
                self.accepted += 1
                self.inbox[got] = bytearray()
                self.eof_seen.discard(got)
        elif name == "read":
            fd, n = args
            data = attempt(k.read, fd, n)
            if isinstance(data, bytes):
                if fd in self.inbox:
                    self.inbox[fd] += data
                if not data:
                    self.eof_seen.add(fd)
                self.starve[fd] = 0
                got = len(data)
            else:
                got = data
                if data["error"] != "EAGAIN":
                    self.eof_seen.add(fd)
        elif name == "write":
            fd, n, crc = args
            echo = bytes(self.inbox.get(fd, b"")[:n])
            if len(echo) < n or zlib.crc32(echo) != crc:
                who = self.client_of(fd)
                self.v.problem = (
                    f"your server wrote {n} bytes to fd {fd} ({who}) that are not the next "
                    f"bytes that client sent (it had {len(self.inbox.get(fd, b''))} bytes "
                    "read and not yet echoed): an echo server sends back exactly what it read, "
                    "in order"
                )
                return
            got = attempt(k.write, fd, echo)
            if type(got) is int:
                del self.inbox[fd][:got]
        elif name == "close":
            got = attempt(k.close, args[0])
            got = 0 if got is None else got
            if got == 0:
                self.conns.pop(args[0], None)
                self.inbox.pop(args[0], None)
        elif name == "shutdown":
            got = attempt(k.shutdown, args[0], args[1])
            got = 0 if got is None else got
        elif name == "epoll_create":
            got = k.install_epoll(None)
        elif name == "ctl":
            _epfd, op, fd, events = args
            if op in (EPOLL_CTL_ADD, EPOLL_CTL_MOD) and not events & EPOLLET:
                self.v.not_edge_triggered = self.v.not_edge_triggered or (
                    f"epoll_ctl({'ADD' if op == EPOLL_CTL_ADD else 'MOD'}) on fd {fd} without "
                    "EPOLLET: the echo server must use edge-triggered mode"
                )
            got = recorded  # the kernel side of epoll is your code: taken as recorded
        else:
            self.v.problem = f"the record has an unknown entry {entry!r}"
            return
        if got != recorded:
            self.v.problem = (
                f"the record says {name}{tuple(args)} returned {recorded!r}, but the kernel "
                f"gives {got!r}: the server's record is not what happened"
            )

    def wait(self, entry: list[Any]) -> None:
        blocked, steps = entry[4], entry[5]
        self.v.waits += 1
        self.world.burst()
        if blocked:
            why = self.pending()
            if why and self.v.blocked_with_work is None:
                self.v.blocked_with_work = (
                    f"epoll_wait call {self.v.waits} blocked (nothing to report) while {why}"
                )
        for _ in range(steps):
            if not self.world.act():
                self.v.problem = "the record has more world steps than can happen"
                return
        readable = set()
        for fd in self.conns:
            sock = self.sock(fd)
            if sock is not None and sock.rcvq:
                readable.add(fd)
        for fd in list(self.starve):
            if fd not in self.conns:
                del self.starve[fd]
        for fd in readable:
            self.starve[fd] = self.starve.get(fd, 0) + 1
            if self.starve[fd] > self.bound and self.v.starved is None:
                self.v.starved = (
                    f"fd {fd} ({self.client_of(fd)}) had data to read through "
                    f"{self.starve[fd]} epoll_wait calls in a row without being read "
                    f"(at most {self.bound} are allowed with {len(self.world.clients)} clients)"
                )


def replay(clients: list[ClientSpec], schedule: list[int], trace: list[list[Any]]) -> Verdict:
    """Play ``trace`` on a fresh kernel and world; the verdicts (see Verdict)."""
    r = _Replay(clients, schedule)
    v = r.v
    for entry in trace:
        if type(entry) is not list or not entry or type(entry[0]) is not str:
            v.problem = f"the record has a malformed entry {entry!r}"
            break
        if entry[0] == "stop":
            v.stop = str(entry[1]) if len(entry) > 1 else "?"
            break
        v.calls += 1
        try:
            if entry[0] == "wait":
                r.wait(entry)
            else:
                r.call(entry)
        except (TypeError, ValueError, IndexError, KeyError) as exc:
            v.problem = f"the record has a malformed entry {entry!r} ({exc})"
        if v.problem:
            break
    if not v.stop and not v.problem:
        v.problem = "the record does not say how the server stopped"
    v.leaked = sorted(fd for fd in r.conns if r.world.clients[r.conns[fd]].done)
    for c in r.world.clients:
        v.clients.append(
            {
                "client": c.index,
                "kind": c.spec.kind,
                "sent": c.sent,
                "received": len(c.received),
                "in_order": bytes(c.received) == c.data[: len(c.received)],
                "done": c.done,
                "connected": c.sock is not None,
            }
        )
    return v


__all__ = ["ClientSpec", "ServerStop", "Verdict", "World", "replay", "run_world", "stream"]
