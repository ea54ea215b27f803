"""The clients of the echo world: what they send, when they act, and what they got back.

A ``World`` is driven by a schedule (a list of ints; past its end every choice is 0): each
step picks one action among those that can make progress (connect, send, read, shut down,
close), so the world never spins; when nothing can happen any more, ``act`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .events import EAGAIN, SHUT_WR
from .kernel import Kernel
from .model import KernelError
from .unix import RCV_SHUTDOWN, SEND_SHUTDOWN, UnixSocket

CLIENT_CHUNK = 65536
KINDS = ("normal", "half_close", "abort", "reset")
NO_ECHO = ("abort", "reset")  # kinds that close without waiting for all their bytes back


@dataclass(frozen=True)
class ClientSpec:
    """One client: its kind, the sizes of its messages, and how it behaves."""

    kind: str = "normal"  # normal: send, read every echo, close; half_close: shut down writing
    # after sending and read until the server closes; abort: send, then close at once;
    # reset: send, and close as soon as an echo arrives, unread (the server's next read
    # fails with ECONNRESET)
    messages: tuple[int, ...] = (100,)
    wait_echo: bool = False  # wait for each message's echo before sending the next
    slow: bool = False  # reads 256 bytes at a time
    start: int = 0  # world steps before it connects

    @staticmethod
    def from_data(d: dict[str, Any]) -> ClientSpec:
        kind = d.get("kind", "normal")
        if kind not in KINDS:
            raise ValueError(f"client kind must be one of {KINDS}, got {kind!r}")
        messages = tuple(int(m) for m in d.get("messages", (100,)))
        if not messages or any(m <= 0 for m in messages):
            raise ValueError("every message needs at least one byte")
        return ClientSpec(
            kind, messages, bool(d.get("wait_echo")), bool(d.get("slow")), int(d.get("start", 0))
        )


def stream(client: int, n: int) -> bytes:
    """The bytes client ``client`` sends: a 251-byte pattern, shifted per client."""
    shift = (37 * client) % 251
    pattern = bytes((j + shift) % 251 for j in range(251))
    return (pattern * (n // 251 + 1))[:n]


class Client:
    __slots__ = ("data", "done", "index", "msg_end", "received", "sent", "shut", "sock", "spec")

    def __init__(self, index: int, spec: ClientSpec) -> None:
        self.index = index
        self.spec = spec
        self.data = stream(index, sum(spec.messages))
        ends, total = [], 0
        for m in spec.messages:
            total += m
            ends.append(total)
        self.msg_end = ends
        self.sock: UnixSocket | None = None
        self.sent = 0
        self.received = bytearray()
        self.shut = False
        self.done = False

    def allowed(self) -> int:
        """How far it may send now (the end of the message it is on, if it waits for echoes)."""
        if not self.spec.wait_echo:
            return len(self.data)
        start = 0
        for end in self.msg_end:
            if self.sent < end:
                return end if len(self.received) >= start else self.sent
            start = end
        return len(self.data)


class World:
    """The clients, driven by a schedule (a list of ints; past its end every choice is 0)."""

    def __init__(self, kernel: Kernel, clients: list[ClientSpec], schedule: list[int]) -> None:
        self.kernel = kernel
        self.listener = 0
        self.clients = [Client(i, c) for i, c in enumerate(clients)]
        self.schedule = schedule
        self.cursor = 0
        self.steps = 0

    def choice(self) -> int:
        c = self.schedule[self.cursor] if self.cursor < len(self.schedule) else 0
        self.cursor += 1
        return c

    @property
    def finished(self) -> bool:
        return all(c.done for c in self.clients)

    def _actions(self, early: bool = False) -> list[tuple[Client, str]]:
        """What the clients can do now; a late client connects early if nobody else can act."""
        out: list[tuple[Client, str]] = []
        for c in self.clients:
            if c.done:
                continue
            if c.sock is None:
                listener = self.kernel.listeners[self.listener]
                if (
                    (early or self.steps >= c.spec.start)
                    and listener is not None
                    and len(listener.rcvq) <= listener.backlog
                ):
                    out.append((c, "connect"))
                continue
            sock = c.sock
            readable = sock.rcvq or sock.err or sock.shutdown & RCV_SHUTDOWN
            if readable and c.spec.kind != "reset":
                out.append((c, "read"))
            peer = sock.peer
            if (
                c.sent < c.allowed()
                and sock.wmem < sock.sndbuf
                and not c.shut
                and not sock.shutdown & SEND_SHUTDOWN
                and peer is not None
                and not peer.dead
            ):
                out.append((c, "send"))
            if c.spec.kind == "reset" and readable:
                out.append((c, "close"))  # an echo (or the end) arrived: close it unread
            elif c.sent == len(c.data):
                if c.spec.kind == "abort" or (
                    c.spec.kind == "normal" and len(c.received) >= len(c.data)
                ):
                    out.append((c, "close"))
                elif c.spec.kind == "half_close" and not c.shut:
                    out.append((c, "shutdown"))
        return out

    def burst(self) -> None:
        """The steps taken when the server enters epoll_wait: 1 or 2 (clients never stop)."""
        for _ in range(1 + self.choice() % 2):
            if not self.act():
                break

    def act(self) -> bool:
        """One step of one client; False if no client can do anything."""
        actions = self._actions() or self._actions(early=True)
        if not actions:
            return False
        client, action = actions[self.choice() % len(actions)]
        self.steps += 1
        self._do(client, action)
        return True

    def _do(self, c: Client, action: str) -> None:
        if action == "connect":
            new = UnixSocket()
            try:
                new.connect_to(self.kernel.listeners[self.listener])
            except KernelError:
                return  # backlog full or refused: try again later
            c.sock = new
            return
        sock = c.sock
        assert sock is not None
        try:
            if action == "send":
                end = min(c.allowed(), c.sent + CLIENT_CHUNK)
                c.sent += sock.send(c.data[c.sent : end])
            elif action == "read":
                data = sock.recv(256 if c.spec.slow else CLIENT_CHUNK)
                if not data:
                    self._close(c)  # the server closed (or shut down) its side
                c.received += data
            elif action == "shutdown":
                sock.do_shutdown(SHUT_WR)
                c.shut = True
            elif action == "close":
                self._close(c)
        except KernelError as exc:
            if exc.errno != EAGAIN:
                self._close(c)  # ECONNRESET, EPIPE: the connection is gone

    def _close(self, c: Client) -> None:
        if c.sock is not None and not c.sock.dead:
            c.sock.release()
        c.done = True
