"""Sample: poll forgets to advance past negative descriptors."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from grader.simos.iomux import (
    EAGAIN,
    EBADF,
    ECONNRESET,
    EEXIST,
    EINVAL,
    ENOENT,
    EP_PRIVATE_BITS,
    EPERM,
    EPIPE,
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
    EPOLLRDHUP,
    FD_SETSIZE,
    POLLEX_SET,
    POLLIN_SET,
    POLLOUT_SET,
    EpollEvent,
    FdSet,
    File,
    Kernel,
    KernelError,
    PollFd,
    WaitEntry,
)

# --------------------------------------------------------------------------- select, poll


def sys_select(
    k: Kernel, nfds: int, readfds: FdSet | None, writefds: FdSet | None, exceptfds: FdSet | None
) -> int:
    if nfds < 0 or nfds > FD_SETSIZE:
        raise KernelError(EINVAL)
    sets = (readfds, writefds, exceptfds)
    # max_select_fd: every descriptor named in a set must be open, before anything is polled.
    wanted: list[tuple[int, File, tuple[bool, bool, bool]]] = []
    for fd in range(nfds):
        bits = (
            readfds is not None and readfds.isset(fd),
            writefds is not None and writefds.isset(fd),
            exceptfds is not None and exceptfds.isset(fd),
        )
        if any(bits):
            wanted.append((fd, k.fdget(fd), bits))  # EBADF for a closed descriptor
    for s in sets:
        if s is not None:
            s.zero()
    count = 0
    for fd, file, (want_r, want_w, want_x) in wanted:
        mask = k.poll(file)
        for want, ready, s in (
            (want_r, mask & POLLIN_SET, readfds),
            (want_w, mask & POLLOUT_SET, writefds),
            (want_x, mask & POLLEX_SET, exceptfds),
        ):
            if want and ready and s is not None:
                s.set(fd)
                count += 1
    return count


def sys_poll(k: Kernel, fds: list[PollFd]) -> int:
    count = 0
    i = 0
    while i < len(fds):
        entry = fds[i]
        if k.file_at(entry.fd) is None:
            continue  # forgot i += 1
        i += 1
        if entry.fd < 0:
            entry.revents = 0
            continue
        try:
            file = k.fdget(entry.fd)
        except KernelError:
            entry.revents = EPOLLNVAL
        else:
            entry.revents = k.poll(file) & (entry.events | EPOLLERR | EPOLLHUP) & 0xFFFF
        if entry.revents:
            count += 1
    return count


# --------------------------------------------------------------------------- epoll


class Item:
    """One registration (epitem): a (file, fd) pair, its event mask and data."""

    __slots__ = ("data", "entry", "events", "fd", "file")

    def __init__(self, file: File, fd: int, events: int, data: int) -> None:
        self.file = file
        self.fd = fd
        self.events = events
        self.data = data
        self.entry: WaitEntry | None = None


class EventPoll:
    """One epoll instance: the interest set and the ready list."""

    def __init__(self, k: Kernel) -> None:
        self.k = k
        self.items: dict[tuple[File, int], Item] = {}
        self.ready: OrderedDict[Item, None] = OrderedDict()

    def _queue(self, item: Item) -> None:
        if item not in self.ready:
            self.ready[item] = None

    def wake(self, item: Item, key: int) -> None:
        """ep_poll_callback: queue the item unless disabled or the key does not match."""
        if not item.events & ~EP_PRIVATE_BITS:
            return  # EPOLLONESHOT fired: disabled until EPOLL_CTL_MOD
        if key and not key & item.events:
            return
        self._queue(item)

    def forget(self, item: Item) -> None:
        self.items.pop((item.file, item.fd), None)
        self.ready.pop(item, None)

    def insert(self, file: File, fd: int, event: EpollEvent) -> None:
        item = Item(file, fd, event.events | EPOLLERR | EPOLLHUP, event.data)
        item.entry = self.k.add_wait(
            file, lambda key: self.wake(item, key), lambda: self.forget(item)
        )
        self.items[(file, fd)] = item
        if self.k.poll(file) & item.events:
            self._queue(item)

    def modify(self, item: Item, event: EpollEvent) -> None:
        item.events = event.events | EPOLLERR | EPOLLHUP
        item.data = event.data
        if self.k.poll(item.file) & item.events:
            self._queue(item)

    def remove(self, item: Item) -> None:
        if item.entry is not None:
            self.k.remove_wait(item.entry)
        self.forget(item)

    def collect(self, maxevents: int) -> list[EpollEvent]:
        """ep_send_events: walk the ready list from the head until maxevents are reported."""
        out: list[EpollEvent] = []
        for _ in range(len(self.ready)):  # only the items queued before this call
            if len(out) >= maxevents:
                break
            item, _ = self.ready.popitem(last=False)
            revents = self.k.poll(item.file) & item.events
            if not revents:
                continue
            out.append(EpollEvent(revents, item.data))
            if item.events & EPOLLONESHOT:
                item.events &= EP_PRIVATE_BITS
            elif not item.events & EPOLLET:
                self.ready[item] = None  # level-triggered: back to the tail
        return out

    def release(self) -> None:
        """The last descriptor of this epoll instance was closed (ep_free)."""
        for item in list(self.items.values()):
            self.remove(item)


def sys_epoll_create(k: Kernel) -> int:
    return k.install_epoll(EventPoll(k))


def _instance(k: Kernel, epfd: int) -> tuple[File, EventPoll | None]:
    file = k.fdget(epfd)
    ep = k.epoll_instance(file)
    return file, ep if isinstance(ep, EventPoll) else None


def sys_epoll_ctl(k: Kernel, epfd: int, op: int, fd: int, event: EpollEvent | None) -> None:
    efile = k.fdget(epfd)
    target = k.fdget(fd)
    if not k.can_poll(target):
        raise KernelError(EPERM)
    _, ep = _instance(k, epfd)
    if ep is None or efile is target:
        raise KernelError(EINVAL)
    item = ep.items.get((target, fd))
    if op == EPOLL_CTL_ADD:
        if item is not None:
            raise KernelError(EEXIST)
        assert event is not None
        ep.insert(target, fd, event)
    elif op == EPOLL_CTL_DEL:
        if item is None:
            raise KernelError(ENOENT)
        ep.remove(item)
    elif op == EPOLL_CTL_MOD:
        if item is None:
            raise KernelError(ENOENT)
        assert event is not None
        ep.modify(item, event)
    else:
        raise KernelError(EINVAL)


def sys_epoll_wait(k: Kernel, epfd: int, maxevents: int) -> list[EpollEvent]:
    _, ep = _instance(k, epfd)  # EBADF first (Linux 6.18 checks the descriptor first)
    if maxevents <= 0 or ep is None:
        raise KernelError(EINVAL)
    return ep.collect(maxevents)


# --------------------------------------------------------------------------- echo server

READ_SIZE = 4096


def serve(libc: Any, listen_fd: int) -> None:
    """An edge-triggered echo server: drain every descriptor until EAGAIN at each event."""
    ep = libc.epoll_create()
    libc.epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, EPOLLIN | EPOLLET)
    pending: dict[int, bytearray] = {}  # what each connection still has to send back
    at_eof: set[int] = set()

    def close(fd: int) -> None:
        libc.close(fd)  # the last close also removes it from the epoll set
        pending.pop(fd, None)
        at_eof.discard(fd)

    def flush(fd: int) -> bool:
        """Write what we can; False if the connection is gone."""
        buf = pending[fd]
        while buf:
            try:
                n = libc.write(fd, bytes(buf))
            except KernelError as exc:
                if exc.errno == EAGAIN:
                    return True
                close(fd)  # EPIPE or ECONNRESET: the client is gone
                return False
            del buf[:n]
        return True

    while True:
        for fd, events in libc.epoll_wait(ep, 64, -1):
            if fd == listen_fd:
                while True:
                    try:
                        conn = libc.accept(listen_fd)
                    except KernelError as exc:
                        if exc.errno == EAGAIN:
                            break
                        raise
                    pending[conn] = bytearray()
                    libc.epoll_ctl(
                        ep, EPOLL_CTL_ADD, conn, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET
                    )
                continue
            if fd not in pending:
                continue  # closed earlier in this batch
            if events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR) and fd not in at_eof:
                while True:
                    try:
                        data = libc.read(fd, READ_SIZE)
                    except KernelError as exc:
                        if exc.errno == EAGAIN:
                            break
                        if exc.errno in (ECONNRESET, EPIPE, EBADF):
                            close(fd)
                            break
                        raise
                    if not data:
                        at_eof.add(fd)
                        break
                    pending[fd] += data
            if fd in pending and flush(fd) and fd in at_eof and not pending[fd]:
                close(fd)
