"""Sample: a correct solution written differently from the reference.

A deque ready list with a "queued" flag and lazy removal, registrations keyed by
(file id, fd), and an echo server that asks for EPOLLOUT only while it has output waiting.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from grader.simos.iomux import (
    EAGAIN,
    EEXIST,
    EINVAL,
    ENOENT,
    EP_PRIVATE_BITS,
    EPERM,
    EPOLL_CTL_ADD,
    EPOLL_CTL_DEL,
    EPOLL_CTL_MOD,
    EPOLLERR,
    EPOLLET,
    EPOLLHUP,
    EPOLLIN,
    EPOLLNVAL,
    EPOLLONESHOT,
    EPOLLOUT,
    EPOLLPRI,
    EPOLLRDBAND,
    EPOLLRDHUP,
    EPOLLRDNORM,
    EPOLLWRBAND,
    EPOLLWRNORM,
    FD_SETSIZE,
    EpollEvent,
    FdSet,
    Kernel,
    KernelError,
    PollFd,
)

READABLE = EPOLLIN | EPOLLRDNORM | EPOLLRDBAND | EPOLLHUP | EPOLLERR
WRITABLE = EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND | EPOLLERR


def sys_select(
    k: Kernel, nfds: int, readfds: FdSet | None, writefds: FdSet | None, exceptfds: FdSet | None
) -> int:
    if not 0 <= nfds <= FD_SETSIZE:
        raise KernelError(EINVAL)
    wanted = []
    for fd in range(nfds):
        r = bool(readfds and readfds.isset(fd))
        w = bool(writefds and writefds.isset(fd))
        x = bool(exceptfds and exceptfds.isset(fd))
        if r or w or x:
            wanted.append((fd, r, w, x))
    files = {fd: k.fdget(fd) for fd, *_ in wanted}  # all must be open before any result
    ready = 0
    for fd, r, w, x in wanted:
        mask = k.poll(files[fd])
        for want, bits, fds in (
            (r, READABLE, readfds),
            (w, WRITABLE, writefds),
            (x, EPOLLPRI, exceptfds),
        ):
            if fds is None or not want:
                continue
            if mask & bits:
                ready += 1
            else:
                fds.clear(fd)
    return ready


def sys_poll(k: Kernel, fds: list[PollFd]) -> int:
    for p in fds:
        p.revents = 0
        if p.fd >= 0:
            try:
                f = k.fdget(p.fd)
            except KernelError:
                p.revents = EPOLLNVAL
            else:
                p.revents = k.poll(f) & (p.events | EPOLLERR | EPOLLHUP) & 0xFFFF
    return sum(1 for p in fds if p.revents)


class Watch:
    __slots__ = ("alive", "data", "entry", "events", "fd", "file", "queued")

    def __init__(self, file: Any, fd: int, events: int, data: int) -> None:
        self.file, self.fd, self.events, self.data = file, fd, events, data
        self.queued = False
        self.alive = True
        self.entry: Any = None


class Epoll:
    def __init__(self, k: Kernel) -> None:
        self.k = k
        self.watches: dict[tuple[int, int], Watch] = {}
        self.rdlist: deque[Watch] = deque()

    def push(self, w: Watch) -> None:
        if not w.queued:
            w.queued = True
            self.rdlist.append(w)

    def on_wake(self, w: Watch, key: int) -> None:
        if w.events & ~EP_PRIVATE_BITS and (key == 0 or key & w.events):
            self.push(w)

    def drop(self, w: Watch) -> None:
        w.alive = False
        w.queued = False
        self.watches.pop((w.file.id, w.fd), None)

    def wait(self, maxevents: int) -> list[EpollEvent]:
        got: list[EpollEvent] = []
        n = len(self.rdlist)
        while n and len(got) < maxevents:
            n -= 1
            w = self.rdlist.popleft()
            if not w.alive or not w.queued:
                continue
            w.queued = False
            ev = self.k.poll(w.file) & w.events
            if not ev:
                continue
            got.append(EpollEvent(ev, w.data))
            if w.events & EPOLLONESHOT:
                w.events &= EP_PRIVATE_BITS
            elif not w.events & EPOLLET:
                self.push(w)
        return got

    def release(self) -> None:
        for w in list(self.watches.values()):
            self.k.remove_wait(w.entry)
            self.drop(w)


def sys_epoll_create(k: Kernel) -> int:
    return k.install_epoll(Epoll(k))


def sys_epoll_ctl(k: Kernel, epfd: int, op: int, fd: int, event: EpollEvent | None) -> None:
    ef = k.fdget(epfd)
    tf = k.fdget(fd)
    if not k.can_poll(tf):
        raise KernelError(EPERM)
    ep = k.epoll_instance(ef)
    if not isinstance(ep, Epoll) or ef is tf:
        raise KernelError(EINVAL)
    w = ep.watches.get((tf.id, fd))
    if op not in (EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD):
        raise KernelError(EINVAL)
    if op == EPOLL_CTL_ADD:
        if w is not None:
            raise KernelError(EEXIST)
        assert event is not None
        w = Watch(tf, fd, event.events | EPOLLERR | EPOLLHUP, event.data)
        new = w
        w.entry = k.add_wait(tf, lambda key: ep.on_wake(new, key), lambda: ep.drop(new))
        ep.watches[(tf.id, fd)] = w
        if k.poll(tf) & w.events:
            ep.push(w)
        return
    if w is None:
        raise KernelError(ENOENT)
    if op == EPOLL_CTL_DEL:
        k.remove_wait(w.entry)
        ep.drop(w)
        return
    assert event is not None
    w.events = event.events | EPOLLERR | EPOLLHUP
    w.data = event.data
    if k.poll(tf) & w.events:
        ep.push(w)


def sys_epoll_wait(k: Kernel, epfd: int, maxevents: int) -> list[EpollEvent]:
    ep = k.epoll_instance(k.fdget(epfd))
    if not isinstance(ep, Epoll) or maxevents < 1:
        raise KernelError(EINVAL)
    return ep.wait(maxevents)


class Connection:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.out = bytearray()
        self.eof = False
        self.want_out = False


class Server:
    """Edge-triggered; EPOLLOUT only while output is waiting (switched with EPOLL_CTL_MOD)."""

    BASE = EPOLLIN | EPOLLRDHUP | EPOLLET

    def __init__(self, libc: Any, listen_fd: int) -> None:
        self.libc = libc
        self.lfd = listen_fd
        self.ep = libc.epoll_create()
        libc.epoll_ctl(self.ep, EPOLL_CTL_ADD, listen_fd, EPOLLIN | EPOLLET)
        self.conns: dict[int, Connection] = {}

    def accept_all(self) -> None:
        while True:
            try:
                fd = self.libc.accept(self.lfd)
            except KernelError as e:
                if e.errno == EAGAIN:
                    return
                raise
            self.conns[fd] = Connection(fd)
            self.libc.epoll_ctl(self.ep, EPOLL_CTL_ADD, fd, self.BASE)

    def drop(self, c: Connection) -> None:
        del self.conns[c.fd]
        self.libc.close(c.fd)

    def pump(self, c: Connection) -> None:
        while not c.eof:
            try:
                chunk = self.libc.read(c.fd, 4096)
            except KernelError as e:
                if e.errno == EAGAIN:
                    break
                self.drop(c)
                return
            if chunk:
                c.out += chunk
            else:
                c.eof = True
        while c.out:
            try:
                sent = self.libc.write(c.fd, bytes(c.out))
            except KernelError as e:
                if e.errno == EAGAIN:
                    break
                self.drop(c)
                return
            del c.out[:sent]
        if c.eof and not c.out:
            self.drop(c)
            return
        need = bool(c.out)
        if need != c.want_out:
            c.want_out = need
            events = self.BASE | (EPOLLOUT if need else 0)
            self.libc.epoll_ctl(self.ep, EPOLL_CTL_MOD, c.fd, events)

    def run(self) -> None:
        while True:
            for fd, _events in self.libc.epoll_wait(self.ep, 16, -1):
                if fd == self.lfd:
                    self.accept_all()
                elif fd in self.conns:
                    self.pump(self.conns[fd])


def serve(libc: Any, listen_fd: int) -> None:
    Server(libc, listen_fd).run()
