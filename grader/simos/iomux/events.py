"""Event bits, epoll_ctl operations and errno values, with Linux's numbers.

The numbers are the x86-64 Linux ones (the same as Python's ``select`` and ``errno``
modules on Linux), so a mask printed here reads the same as one printed by real code.
"""

from __future__ import annotations

# poll(2) / epoll(7) event bits.
EPOLLIN = 0x001
EPOLLPRI = 0x002
EPOLLOUT = 0x004
EPOLLERR = 0x008
EPOLLHUP = 0x010
EPOLLNVAL = 0x020  # poll only: the descriptor is not open
EPOLLRDNORM = 0x040
EPOLLRDBAND = 0x080
EPOLLWRNORM = 0x100
EPOLLWRBAND = 0x200
EPOLLRDHUP = 0x2000
# epoll_ctl flags (never in a poll mask).
EPOLLEXCLUSIVE = 1 << 28
EPOLLWAKEUP = 1 << 29
EPOLLONESHOT = 1 << 30
EPOLLET = 1 << 31

POLLIN, POLLPRI, POLLOUT = EPOLLIN, EPOLLPRI, EPOLLOUT
POLLERR, POLLHUP, POLLNVAL = EPOLLERR, EPOLLHUP, EPOLLNVAL
POLLRDNORM, POLLRDBAND, POLLWRNORM, POLLWRBAND = EPOLLRDNORM, EPOLLRDBAND, EPOLLWRNORM, EPOLLWRBAND
POLLRDHUP = EPOLLRDHUP

# The bits epoll keeps for itself (fs/eventpoll.c EP_PRIVATE_BITS): an item whose events
# hold nothing else is disabled (what EPOLLONESHOT does after it fired).
EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE

# select(2) reads a poll mask through these sets (fs/select.c).
POLLIN_SET = EPOLLRDNORM | EPOLLRDBAND | EPOLLIN | EPOLLHUP | EPOLLERR
POLLOUT_SET = EPOLLWRBAND | EPOLLWRNORM | EPOLLOUT | EPOLLERR
POLLEX_SET = EPOLLPRI

# What a file reports when it has no poll method (regular files, /dev/null).
DEFAULT_POLLMASK = EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM

EPOLL_CTL_ADD = 1
EPOLL_CTL_DEL = 2
EPOLL_CTL_MOD = 3
CTL_NAMES = {EPOLL_CTL_ADD: "ADD", EPOLL_CTL_DEL: "DEL", EPOLL_CTL_MOD: "MOD"}

SHUT_RD, SHUT_WR, SHUT_RDWR = 0, 1, 2
SHUT_NAMES = {SHUT_RD: "SHUT_RD", SHUT_WR: "SHUT_WR", SHUT_RDWR: "SHUT_RDWR"}

FD_SETSIZE = 1024  # bits in an fd_set

# errno values (Linux).
EPERM = 1
ENOENT = 2
EBADF = 9
EAGAIN = 11
EEXIST = 17
EINVAL = 22
EMFILE = 24
EPIPE = 32
ENOTSOCK = 88
EOPNOTSUPP = 95
ECONNRESET = 104
ENOTCONN = 107
ECONNREFUSED = 111

ERRNO_NAMES: dict[int, str] = {
    EPERM: "EPERM",
    ENOENT: "ENOENT",
    EBADF: "EBADF",
    EAGAIN: "EAGAIN",
    EEXIST: "EEXIST",
    EINVAL: "EINVAL",
    EMFILE: "EMFILE",
    EPIPE: "EPIPE",
    ENOTSOCK: "ENOTSOCK",
    EOPNOTSUPP: "EOPNOTSUPP",
    ECONNRESET: "ECONNRESET",
    ENOTCONN: "ENOTCONN",
    ECONNREFUSED: "ECONNREFUSED",
}
ERRNO_OF: dict[str, int] = {v: k for k, v in ERRNO_NAMES.items()}

_BIT_NAMES: tuple[tuple[int, str], ...] = (
    (EPOLLIN, "IN"),
    (EPOLLPRI, "PRI"),
    (EPOLLOUT, "OUT"),
    (EPOLLERR, "ERR"),
    (EPOLLHUP, "HUP"),
    (EPOLLNVAL, "NVAL"),
    (EPOLLRDNORM, "RDNORM"),
    (EPOLLRDBAND, "RDBAND"),
    (EPOLLWRNORM, "WRNORM"),
    (EPOLLWRBAND, "WRBAND"),
    (EPOLLRDHUP, "RDHUP"),
    (EPOLLEXCLUSIVE, "EXCLUSIVE"),
    (EPOLLWAKEUP, "WAKEUP"),
    (EPOLLONESHOT, "ONESHOT"),
    (EPOLLET, "ET"),
)
BIT_OF: dict[str, int] = {name: bit for bit, name in _BIT_NAMES}


def event_names(mask: int) -> str:
    """``EPOLLIN | EPOLLHUP`` as ``"IN|HUP"``; ``0`` as ``"0"``; unknown bits in hex."""
    parts = [name for bit, name in _BIT_NAMES if mask & bit]
    rest = mask & ~sum(bit for bit, _ in _BIT_NAMES)
    if rest:
        parts.append(hex(rest))
    return "|".join(parts) or "0"


def parse_events(text: str) -> int:
    """``"IN|ET"`` -> ``EPOLLIN | EPOLLET``; ValueError naming an unknown word."""
    if text.strip() in ("", "0"):
        return 0
    mask = 0
    for word in text.split("|"):
        word = word.strip().upper().removeprefix("EPOLL").removeprefix("POLL")
        if word not in BIT_OF:
            raise ValueError(f"unknown event name {word!r}; use names like IN, OUT, ET")
        mask |= BIT_OF[word]
    return mask


def errno_name(code: int) -> str:
    return ERRNO_NAMES.get(code, f"errno {code}")
