"""What your ``mux.py`` defines: the kernel side of select, poll and epoll, and an echo server.

The kernel (``grader.simos.iomux.Kernel``, called ``k`` below) owns descriptors, pipes and
sockets; your functions are its system calls. Every call is non-blocking (timeout 0).
Report an error by raising ``KernelError(errno)``, for example ``raise KernelError(EBADF)``.

``sys_select(k, nfds, readfds, writefds, exceptfds) -> int``
    Each set is an ``FdSet`` (or None when the caller passed no set). Look at descriptors
    0 .. nfds-1 with ``isset``; leave in each set only its ready descriptors (``clear``);
    return how many bits are left in the three sets together. EINVAL if ``nfds`` is below
    0 or above FD_SETSIZE; EBADF (and no result) if a set names a closed descriptor.

``sys_poll(k, fds) -> int``
    ``fds`` is a list of ``PollFd``; set ``revents`` of every entry; return how many
    entries have a non-zero ``revents``.

``sys_epoll_create(k) -> int``
    Make your epoll instance and return ``k.install_epoll(instance)``.

``sys_epoll_ctl(k, epfd, op, fd, event) -> None``
    ``op`` is EPOLL_CTL_ADD, EPOLL_CTL_MOD or EPOLL_CTL_DEL; ``event`` an ``EpollEvent``
    (None for DEL).

``sys_epoll_wait(k, epfd, maxevents) -> list[EpollEvent]``
    At most ``maxevents`` events, in ready-list order.

``serve(libc, listen_fd) -> None``
    An edge-triggered echo server: ``libc`` offers ``read``, ``write``, ``accept``,
    ``close``, ``epoll_create``, ``epoll_ctl`` and ``epoll_wait`` (see the handout). It never
    returns: the world stops it when every client is done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SYSCALLS = ("sys_select", "sys_poll", "sys_epoll_create", "sys_epoll_ctl", "sys_epoll_wait")
SERVER = "serve"


class SubmissionShapeError(Exception):
    """The submission lacks a function the assignment requires."""


def implementation(module: Any, name: str) -> Callable[..., Any]:
    """``module.<name>``, or SubmissionShapeError with a message a student can act on."""
    fn = getattr(module, name, None)
    if fn is None:
        file = getattr(module, "__file__", None) or getattr(module, "__name__", "your module")
        short = str(file).rsplit("/", 1)[-1]
        raise SubmissionShapeError(f"{short} has no function {name}; define `def {name}(...)`")
    if not callable(fn):
        raise SubmissionShapeError(f"{name} must be a function, got {type(fn).__name__}")
    return fn  # type: ignore[no-any-return]
