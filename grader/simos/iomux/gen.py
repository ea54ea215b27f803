"""Build meaningful scenarios from a list of small integers (for Hypothesis, stdlib only).

``build(choices, profile)`` reads one tuple of five small ints (0-255) per operation: the
first picks the kind of operation (weighted by the profile; 0 is no operation), the others
its arguments (a target, whether it is a deliberately wrong one, a size, a mode), read against
the state reached so far (which descriptors are open, which are pipes or sockets, which are
epoll instances). Zeros give the simplest choice, so shrinking a failing list of choices
gives a short, plain scenario. The builder runs the file operations on its own kernel to
know the state; it never polls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .events import (
    EPOLLERR,
    EPOLLET,
    EPOLLHUP,
    EPOLLIN,
    EPOLLONESHOT,
    EPOLLOUT,
    EPOLLPRI,
    EPOLLRDHUP,
    EPOLLRDNORM,
    EPOLLWRNORM,
)
from .kernel import Kernel
from .model import KernelError
from .scenario import Op, data_for
from .unix import UnixSocket

Choice = tuple[int, int, int, int, int]

PIPE_SIZES = (1, 10, 100, 1000, 3000, 4095, 4096, 4097, 5000, 8192, 12000, 40000, 65536, 70000)
SOCKET_SIZES = (1, 5, 50, 100, 192, 700, 1728, 3000, 10000, 40000)
READ_SIZES = (1, 10, 100, 1000, 4096, 5000, 65536)
BASE_EVENTS = (
    EPOLLIN,
    EPOLLOUT,
    EPOLLIN | EPOLLOUT,
    EPOLLIN | EPOLLRDHUP,
    EPOLLPRI,
    EPOLLIN | EPOLLPRI,
    0,
    EPOLLOUT | EPOLLPRI,
    EPOLLRDHUP,
    EPOLLERR | EPOLLHUP,
    EPOLLIN | EPOLLRDNORM,
    EPOLLOUT | EPOLLWRNORM,
)
POLL_EVENTS = (
    EPOLLIN,
    EPOLLOUT,
    EPOLLIN | EPOLLOUT,
    0,
    EPOLLPRI,
    EPOLLIN | EPOLLRDHUP,
    EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP,
)


@dataclass(frozen=True)
class Profile:
    """What a family of scenarios contains: weights per operation, modes, limits."""

    name: str
    weights: dict[str, int]
    modes: tuple[int, ...] = (0,)  # epoll_ctl mode bits to choose from (0 = level-triggered)
    errors: int = 0  # percent of arguments that are deliberately wrong (closed fds, bad ops)
    linux_safe: bool = False  # keep sockets far from full (capacity is not byte-exact)
    oob: bool = True
    max_events: tuple[int, ...] = (64, 1, 2, 3, 8)
    pairs: bool = False  # follow every select with a poll of the same descriptors
    extra: dict[str, int] = field(default_factory=dict)


_FILES = {"pipe": 8, "socketpair": 6, "write": 14, "read": 10, "close": 5, "dup": 3}
PROFILES: dict[str, Profile] = {
    "select_poll": Profile(
        "select_poll",
        {
            **_FILES,
            "shutdown": 4,
            "oob": 2,
            "null": 1,
            "listen": 1,
            "connect": 2,
            "accept": 1,
            "select": 10,
            "poll": 10,
        },
        errors=10,
    ),
    "select": Profile(
        "select",
        {
            **_FILES,
            "shutdown": 4,
            "oob": 3,
            "null": 1,
            "listen": 1,
            "connect": 2,
            "accept": 1,
            "select": 16,
        },
        errors=10,
    ),
    "poll": Profile(
        "poll",
        {
            **_FILES,
            "shutdown": 4,
            "oob": 3,
            "null": 1,
            "listen": 1,
            "connect": 2,
            "accept": 1,
            "poll": 16,
        },
        errors=10,
    ),
    "pairs": Profile(
        "pairs",
        {**_FILES, "shutdown": 4, "oob": 2, "null": 1, "select": 12},
        errors=10,
        pairs=True,
    ),
    "lt": Profile(
        "lt",
        {
            **_FILES,
            "shutdown": 3,
            "oob": 1,
            "listen": 1,
            "connect": 2,
            "accept": 1,
            "epoll_create": 2,
            "epoll_ctl": 12,
            "epoll_wait": 14,
        },
        modes=(0,),
    ),
    "et": Profile(
        "et",
        {
            **_FILES,
            "shutdown": 3,
            "oob": 1,
            "listen": 1,
            "connect": 2,
            "accept": 1,
            "epoll_create": 2,
            "epoll_ctl": 12,
            "epoll_wait": 14,
        },
        modes=(EPOLLET,),
    ),
    "oneshot": Profile(
        "oneshot",
        {**_FILES, "shutdown": 2, "epoll_create": 2, "epoll_ctl": 14, "epoll_wait": 14},
        modes=(EPOLLONESHOT, EPOLLONESHOT | EPOLLET, 0, EPOLLET),
    ),
    "ctl": Profile(
        "ctl",
        {**_FILES, "null": 3, "epoll_create": 4, "epoll_ctl": 20, "epoll_wait": 6},
        modes=(0, EPOLLET, EPOLLONESHOT),
        errors=35,
        max_events=(8, 1, 0, -1),
    ),
    "close": Profile(
        "close",
        {**_FILES, "close": 10, "dup": 8, "epoll_create": 2, "epoll_ctl": 12, "epoll_wait": 12},
        modes=(0, EPOLLET),
        errors=5,
    ),
    "order": Profile(
        "order",
        {
            "pipe": 10,
            "socketpair": 4,
            "write": 16,
            "read": 8,
            "epoll_create": 1,
            "epoll_ctl": 14,
            "epoll_wait": 16,
            "dup": 2,
            "close": 2,
        },
        modes=(0, 0, EPOLLET),
        max_events=(1, 2, 3, 1, 2),
    ),
    "mixed": Profile(
        "mixed",
        {
            **_FILES,
            "shutdown": 3,
            "oob": 2,
            "null": 1,
            "listen": 1,
            "connect": 2,
            "accept": 2,
            "epoll_create": 2,
            "epoll_ctl": 10,
            "epoll_wait": 10,
            "select": 5,
            "poll": 5,
        },
        modes=(0, EPOLLET, EPOLLONESHOT, EPOLLET | EPOLLONESHOT),
        errors=8,
    ),
}


def linux_safe(profile: Profile, *, oob: bool = True) -> Profile:
    """The same profile restricted to what matches Linux exactly (small socket writes)."""
    return Profile(
        profile.name + "+linux",
        profile.weights,
        profile.modes,
        profile.errors,
        linux_safe=True,
        oob=oob and profile.oob,
        max_events=profile.max_events,
        pairs=profile.pairs,
    )


class Builder:
    """Turns choices into operations, keeping a kernel in step to know what is open."""

    def __init__(self, profile: Profile) -> None:
        self.p = profile
        self.k = Kernel()
        self.ops: list[Op] = []
        self.epolls: list[int] = []
        self.registered: set[tuple[int, int]] = set()  # (epfd, fd) pairs added so far
        self.listens = 0
        self.kinds = list(profile.weights)
        self.total = sum(profile.weights.values())

    # ------------------------------------------------------------------ picking

    def _kind(self, c: int) -> str:
        c %= self.total
        for name in self.kinds:
            w = self.p.weights[name]
            if c < w:
                return name
            c -= w
        return self.kinds[-1]  # pragma: no cover

    def _open(self, role: str = "any") -> list[int]:
        """Open descriptors (never epoll ones) that can play ``role``."""
        out = []
        for fd in self.k.fds():
            f = self.k.file_at(fd)
            if fd < 3 or f is None or f.kind == "epoll":
                continue
            listener = f.kind == "socket" and isinstance(f.obj, UnixSocket) and f.obj.listening
            ok = {
                "any": True,
                "readable": f.readable and not listener,
                "writable": f.writable and not listener,
                "socket": f.kind == "socket" and not listener,
                "listener": listener,
            }[role]
            if ok:
                out.append(fd)
        return out

    def _count(self, kind: str) -> int:
        files = {id(f.obj): f for fd in self.k.fds() if (f := self.k.file_at(fd)) is not None}
        return sum(1 for f in files.values() if f.kind == kind)

    def _closed(self, c: int) -> int:
        top = max(self.k.fds()) + 3
        free = [fd for fd in range(3, top) if self.k.file_at(fd) is None]
        return free[c % len(free)]

    def _fd(self, c: int, wrong: int, pool: list[int]) -> int:
        if not pool or wrong % 100 < self.p.errors:
            others = self._open()
            if pool or not others or wrong % 2:
                return self._closed(c)
            return others[c % len(others)]
        return pool[c % len(pool)]

    def partners(self, fd: int) -> list[int]:
        """The descriptors of the other end: the pipe's other end, or the socket's peer."""
        f = self.k.file_at(fd)
        if f is None:
            return []
        out = []
        for other in self.k.fds():
            g = self.k.file_at(other)
            if g is None or g is f:
                continue
            if (f.kind == "pipe" and g.kind == "pipe" and g.obj is f.obj) or (
                f.kind == "socket" and g.kind == "socket" and g.obj is getattr(f.obj, "peer", None)
            ):
                out.append(other)
        return out

    def _watched(self) -> list[int]:
        targets = set(self._open())
        return sorted({fd for _, fd in self.registered if fd in targets})

    def _target(self, role: str, a: int, b: int) -> int | None:
        """A descriptor for a read or write: often one a registration watches (or its peer)."""
        pool = self._open(role)
        if b % 100 < self.p.errors:
            return self._fd(a, b, pool)
        if self.registered and a % 3:
            watched = self._watched()
            if role == "readable":
                near = [w for w in watched if w in pool]
            else:
                near = [fd for w in watched for fd in self.partners(w) if fd in pool]
            if near:
                return near[a % len(near)]
        if not pool:
            return None
        return pool[a % len(pool)]

    def _subset(self, a: int, wrong: int) -> list[int]:
        pool = self._open()
        n = 1 + a % 4
        out: list[int] = []
        for i in range(n):
            fd = self._fd(a // (i + 1) + i, (wrong + 41 * i) % 256, pool)
            if fd not in out:
                out.append(fd)
        return out

    # ------------------------------------------------------------------ operations

    def _write_size(self, fd: int, c: int) -> int | None:
        f = self.k.file_at(fd)
        if f is not None and f.kind == "socket" and self.p.linux_safe:
            sock = f.obj
            assert isinstance(sock, UnixSocket)
            peer = sock.peer
            if peer is not None and not peer.dead and len(peer.rcvq) >= 10:
                return None  # keep far from a full socket
            return 1 + c % 192
        sizes = SOCKET_SIZES if f is not None and f.kind == "socket" else PIPE_SIZES
        if c % 17 == 16:
            return 0
        return sizes[c % len(sizes)]

    def add(self, choice: Choice) -> None:
        kind_c, a, b, c, d = choice
        if kind_c == 0:
            return  # the simplest choice is no operation (so shrinking can drop one)
        kind = self._kind(kind_c - 1)
        op = self._make(kind, a, b, c, d)
        if op is None:
            return
        self.apply(op)
        if self.p.pairs and op["op"] == "select":
            fds = sorted(set(op["r"]) | set(op["w"]) | set(op["x"]))
            events = EPOLLIN | EPOLLOUT | EPOLLPRI  # checks.POLL_PAIR
            self.apply({"op": "poll", "fds": [[fd, events] for fd in fds]})

    def _make(self, kind: str, a: int, b: int, c: int, d: int) -> Op | None:
        p = self.p
        if kind in ("pipe", "socketpair"):
            limit = {"pipe": 4, "socketpair": 6}[kind]  # a socket pair counts twice
            return (
                {"op": kind}
                if self._count("pipe" if kind == "pipe" else "socket") < limit
                else None
            )
        if kind in ("null", "epoll_create"):
            return {"op": kind}
        if kind == "listen":
            if self.listens >= 3:
                return None
            return {"op": "listen", "backlog": a % 3}
        if kind == "connect":
            if not self.listens:
                return None
            return {"op": "connect", "to": a % self.listens}
        if kind == "accept":
            return {"op": "accept", "fd": self._fd(a, b, self._open("listener"))}
        if kind in ("dup", "close"):
            if self.epolls and d % 7 == 0:  # now and then an epoll instance itself
                return {"op": kind, "fd": self.epolls[a % len(self.epolls)]}
            fd = self._target("any", a, b)
            return None if fd is None else {"op": kind, "fd": fd}
        if kind == "shutdown":
            fd = self._target("socket", a, b)
            return None if fd is None else {"op": "shutdown", "fd": fd, "how": c % 3}
        if kind == "oob":
            fd = self._target("socket", a, b) if p.oob else None
            return None if fd is None else {"op": "oob", "fd": fd}
        if kind == "write":
            fd = self._target("writable", a, b)
            n = None if fd is None else self._write_size(fd, c)
            return None if fd is None or n is None else {"op": "write", "fd": fd, "n": n}
        if kind == "read":
            fd = self._target("readable", a, b)
            return None if fd is None else {"op": "read", "fd": fd, "n": READ_SIZES[c % 7]}
        if kind == "poll":
            events = [POLL_EVENTS[(c + 5 * i * (d + 1)) % len(POLL_EVENTS)] for i in range(4)]
            fds = [[fd, events[i]] for i, fd in enumerate(self._subset(a, b))]
            if not p.linux_safe and d % 4 == 0:  # an ignored entry (fd < 0) or stdin (fd 0)
                fds.insert(d % len(fds), [-1 if d % 8 else 0, events[0]])
            return {"op": "poll", "fds": fds}
        if kind == "select":
            pool = [self._subset(a + i * 7, (b + 37 * i) % 256) for i in range(3)]
            use = [(c >> i) & 1 or i == c % 3 for i in range(3)]
            r, w, x = (pool[i] if use[i] else [] for i in range(3))
            return {"op": "select", "r": r, "w": w, "x": x}
        if kind in ("epoll_wait", "epoll_ctl") and not self.epolls:
            return {"op": "epoll_create"}
        if kind == "epoll_ctl" and not self._open():
            return {"op": "pipe"}
        if kind == "epoll_wait":
            epfd = self.epolls[a % len(self.epolls)]
            if b % 100 < p.errors // 2:
                epfd = self._fd(a, 1, self._open())
            return {"op": "epoll_wait", "epfd": epfd, "max": p.max_events[c % len(p.max_events)]}
        if kind == "epoll_ctl":
            return self._ctl(a, b, c, d)
        raise AssertionError(kind)  # pragma: no cover

    def _ctl(self, a: int, b: int, c: int, d: int) -> Op | None:
        p = self.p
        if not self.epolls:
            return None
        epfd = self.epolls[a % len(self.epolls)]
        targets = set(self._open())  # never an epoll instance: nested epoll is not modelled
        live = sorted((e, fd) for e, fd in self.registered if e == epfd and fd in targets)
        ctl = ("ADD", "ADD", "MOD", "DEL")[c % 4]
        if live and ctl != "ADD" and b % 5:
            fd = live[b % len(live)][1]
        else:
            pool = self._open()
            fresh = [fd for fd in pool if (epfd, fd) not in self.registered]
            fd = self._fd(b, d, fresh if fresh and b % 4 else pool)
        if (c // 4 + d) % 100 < p.errors:  # a deliberately wrong call
            choice = (d // 4) % 4
            if choice == 0:
                epfd = fd if self.k.file_at(fd) is not None else epfd
            elif choice == 1:
                fd = epfd  # the epoll instance itself: EINVAL
            elif choice == 2:
                ctl = ("ADD", "MOD", "DEL", 0, 7)[(d // 16) % 5]  # type: ignore[assignment]
            else:
                epfd = self._closed(c)
        events = BASE_EVENTS[(c // 4) % len(BASE_EVENTS)]
        f = self.k.file_at(fd)
        if f is not None and (c // 16) % 3:  # usually what this kind of file can report
            events = (
                (EPOLLIN, EPOLLIN | EPOLLRDHUP, EPOLLIN | EPOLLPRI)[d % 3]
                if f.readable
                else (EPOLLOUT, EPOLLOUT | EPOLLIN)[d % 2]
            )
        events |= p.modes[(d // 3) % len(p.modes)]
        op: Op = {"op": "epoll_ctl", "epfd": epfd, "ctl": ctl, "fd": fd, "events": events}
        if (c + d) % 11 == 0:
            op["data"] = 100 + (c + d) % 7  # not the fd: MOD must replace the data too
        return op

    # ------------------------------------------------------------------ keeping in step

    def apply(self, op: Op) -> None:
        index = len(self.ops)
        self.ops.append(op)
        k = self.k
        name = op["op"]
        try:
            if name == "pipe":
                k.pipe()
            elif name == "socketpair":
                k.socketpair()
            elif name == "listen":
                k.listen(op["backlog"])
                self.listens += 1
            elif name == "connect":
                k.connect(op["to"])
            elif name == "accept":
                k.accept(op["fd"])
            elif name == "null":
                k.open_null()
            elif name == "dup":
                new = k.dup(op["fd"])
                if op["fd"] in self.epolls:
                    self.epolls.append(new)
            elif name == "close":
                k.close(op["fd"])
                self.epolls = [e for e in self.epolls if k.file_at(e) is not None]
            elif name == "shutdown":
                k.shutdown(op["fd"], op["how"])
            elif name == "write":
                k.write(op["fd"], data_for(index, op["n"]))
            elif name == "read":
                k.read(op["fd"], op["n"])
            elif name == "oob":
                k.send_oob(op["fd"])
            elif name == "epoll_create":
                self.epolls.append(k.install_epoll(None))
            elif name == "epoll_ctl" and op["ctl"] == "ADD":
                self.registered.add((op["epfd"], op["fd"]))
        except KernelError:
            pass


def build(choices: list[Choice], profile: Profile | str) -> list[Op]:
    """The scenario for ``choices`` (see the module docstring)."""
    prof = PROFILES[profile] if isinstance(profile, str) else profile
    builder = Builder(prof)
    for choice in choices:
        builder.add(choice)
    return builder.ops


__all__ = ["PROFILES", "Builder", "Profile", "build", "linux_safe"]
