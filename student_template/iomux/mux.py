"""select, poll and epoll over the simulated kernel, and an edge-triggered echo server.

Fill in the six functions below; README.md (the handout) gives every rule. Keep their
names and signatures; add any helpers you like (standard library only).
"""

from __future__ import annotations

from typing import Any

from grader.simos.iomux import EpollEvent, FdSet, Kernel, PollFd

# --------------------------------------------------------------------------- select, poll


def sys_select(
    k: Kernel, nfds: int, readfds: FdSet | None, writefds: FdSet | None, exceptfds: FdSet | None
) -> int:
    """select(2) with timeout 0.

    Look at descriptors 0 .. nfds-1 with ``isset``; leave in each set only its ready
    descriptors; return how many bits are left in the three sets together.
    Raise KernelError(EINVAL) if nfds < 0 or nfds > FD_SETSIZE, KernelError(EBADF) if a
    set names a descriptor that is not open.
    """
    raise NotImplementedError("sys_select")


def sys_poll(k: Kernel, fds: list[PollFd]) -> int:
    """poll(2) with timeout 0: set ``revents`` of every entry; return how many are non-zero."""
    raise NotImplementedError("sys_poll")


# --------------------------------------------------------------------------- epoll


def sys_epoll_create(k: Kernel) -> int:
    """Make a new epoll instance and return ``k.install_epoll(instance)``."""
    raise NotImplementedError("sys_epoll_create")


def sys_epoll_ctl(k: Kernel, epfd: int, op: int, fd: int, event: EpollEvent | None) -> None:
    """EPOLL_CTL_ADD, EPOLL_CTL_MOD or EPOLL_CTL_DEL ``fd`` in the epoll instance ``epfd``.

    ``event`` is None for DEL. Errors, in the order Linux checks them: EBADF, EPERM,
    EINVAL, then EEXIST (ADD) or ENOENT (MOD, DEL); an unknown op is EINVAL.
    """
    raise NotImplementedError("sys_epoll_ctl")


def sys_epoll_wait(k: Kernel, epfd: int, maxevents: int) -> list[EpollEvent]:
    """epoll_wait(2) with timeout 0: at most ``maxevents`` events, in ready-list order."""
    raise NotImplementedError("sys_epoll_wait")


# --------------------------------------------------------------------------- echo server


def serve(libc: Any, listen_fd: int) -> None:
    """An edge-triggered echo server on your epoll; it never returns (see the handout)."""
    raise NotImplementedError("serve")
