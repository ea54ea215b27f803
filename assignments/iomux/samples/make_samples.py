"""Rebuild the buggy and broken samples from the reference: a few targeted edits each.

Run ``python assignments/iomux/samples/make_samples.py`` after changing
reference/iomux/mux.py; every edit asserts that the text it replaces is still there, so a
sample never silently stops differing from the reference. correct_alt/ is written by
hand and not touched. Each NOTES.md is one line ending in "Must lose: <test ids>." and
the test suite checks that the sample loses points in exactly those tests.
"""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[3]
REF = (ROOT / "reference/iomux/mux.py").read_text()
OUT = ROOT / "assignments/iomux/samples"
HEAD_END = REF.index("from __future__ import annotations")


def make(name: str, doc: str, note: str, edits: list[tuple[str, str]]) -> None:
    body = REF[HEAD_END:]
    for old, new in edits:
        assert body.count(old) == 1, (name, old)
        body = body.replace(old, new)
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "mux.py").write_text(f'"""{doc}"""\n\n' + body)
    assert note.count("Must lose: ") == 1 and note.endswith(".") and "\n" not in note
    (d / "NOTES.md").write_text(note + "\n")


EPOLL = "epoll-lt, epoll-et, epoll-oneshot, epoll-order, epoll-close"
EPOLL_ALL = f"{EPOLL}, epoll-lt-invariant, epoll-et-invariant, cost-epoll"
ECHO = "echo-complete, echo-no-block, echo-fair"

make(
    "et_reports_every_wait",
    "Sample: the reference, except edge-triggered items go back on the ready list like level-triggered ones.",
    "Buggy sample: epoll_wait puts every reported item back on the ready list, so an "
    "edge-triggered descriptor is reported at every wait while it stays ready (it behaves "
    "level-triggered). Must lose: epoll-et, epoll-et-invariant. May lose: cost-epoll, "
    "epoll-order, epoll-close, epoll-oneshot (they mix in edge-triggered items).",
    [
        (
            "            if item.events & EPOLLONESHOT:\n"
            "                item.events &= EP_PRIVATE_BITS\n"
            "            elif not item.events & EPOLLET:\n"
            "                self.ready[item] = None  # level-triggered: back to the tail\n",
            "            if item.events & EPOLLONESHOT:\n"
            "                item.events &= EP_PRIVATE_BITS\n"
            "            else:\n"
            "                self.ready[item] = None  # back to the tail (edge-triggered too)\n",
        )
    ],
)

make(
    "lt_drops_undrained",
    "Sample: the reference, except level-triggered items are not put back on the ready list.",
    "Buggy sample: epoll_wait never puts a reported level-triggered item back on the ready "
    "list, so a descriptor that is still ready (not drained) is not reported again until "
    "the next wake-up. Must lose: epoll-lt, epoll-lt-invariant, epoll-order, epoll-close, "
    "cost-epoll. May lose: epoll-ctl, epoll-oneshot.",
    [
        (
            "            elif not item.events & EPOLLET:\n"
            "                self.ready[item] = None  # level-triggered: back to the tail\n",
            "",
        )
    ],
)

make(
    "hup_not_reported",
    "Sample: the reference, except epoll reports HUP only when it was asked for.",
    "Buggy sample: epoll_ctl stores events | EPOLLERR, forgetting that EPOLLHUP is always "
    "reported too (a pipe whose writer closed, a socket whose peer closed). Must lose: "
    "epoll-lt, epoll-et, epoll-close, epoll-lt-invariant, epoll-et-invariant. "
    "May lose: epoll-ctl, epoll-oneshot, epoll-order, cost-epoll.",
    [
        (
            "        item = Item(file, fd, event.events | EPOLLERR | EPOLLHUP, event.data)",
            "        item = Item(file, fd, event.events | EPOLLERR, event.data)",
        ),
        (
            "        item.events = event.events | EPOLLERR | EPOLLHUP\n",
            "        item.events = event.events | EPOLLERR\n",
        ),
    ],
)

make(
    "keyed_by_fd",
    "Sample: the reference, except epoll keys its registrations by the fd number alone.",
    "Buggy sample: the interest set is keyed by the descriptor number instead of (open file, "
    "fd), so after close(3) (with a dup keeping the file open) a new file at fd 3 cannot be "
    "added (EEXIST) and MOD/DEL reach the old file. Must lose: epoll-close.",
    [
        (
            "        self.items: dict[tuple[File, int], Item] = {}",
            "        self.items: dict[int, Item] = {}",
        ),
        (
            "        self.items.pop((item.file, item.fd), None)",
            "        if self.items.get(item.fd) is item:\n            del self.items[item.fd]",
        ),
        ("        self.items[(file, fd)] = item", "        self.items[fd] = item"),
        ("    item = ep.items.get((target, fd))", "    item = ep.items.get(fd)"),
    ],
)

make(
    "select_watched_count",
    "Sample: the reference, except select looks only at the descriptors in its sets.",
    "Buggy sample: select walks only the descriptors named in its sets (FdSet.members()) "
    "instead of examining every descriptor below nfds: right answers, but not Linux's cost "
    "(one descriptor at 1000 costs Linux a thousand). Must lose: cost-select.",
    [
        (
            "    for fd in range(nfds):\n"
            "        bits = (\n"
            "            readfds is not None and readfds.isset(fd),\n",
            "    named = sorted({fd for s in sets if s is not None for fd in s.members()})\n"
            "    for fd in named:\n"
            "        bits = (\n"
            "            readfds is not None and readfds.isset(fd),\n",
        )
    ],
)

make(
    "echo_one_read",
    "Sample: the reference, except the echo server reads once per event.",
    "Buggy sample: the edge-triggered echo server does one read(4096) per event instead of "
    "reading until EAGAIN, so data beyond 4096 bytes waits for the next edge (here the EPOLLOUT "
    "edges of the client's reads keep it limping along). Must lose: echo-no-block. "
    "May lose: echo-complete, echo-fair.",
    [
        (
            "                    pending[fd] += data\n",
            "                    pending[fd] += data\n"
            "                    break  # one read per event\n",
        )
    ],
)

# ---------------------------------------------------------------------------- broken, hostile

make(
    "syntax_error",
    "Sample: a def line without its colon.",
    "Broken sample: `def sys_poll(...)` has no colon, so importing mux.py raises SyntaxError. "
    "Must lose: everything (score 0).",
    [
        (
            "def sys_poll(k: Kernel, fds: list[PollFd]) -> int:\n",
            "def sys_poll(k: Kernel, fds: list[PollFd]) -> int\n",
        )
    ],
)

make(
    "raises",
    "Sample: select forgets that a set may be None (no set passed).",
    "Broken sample: sys_select calls readfds.isset() without checking for None, so it raises "
    "AttributeError when no read set is passed. Must lose: select-reference, select-errors, "
    "select-poll-agree, cost-select.",
    [
        (
            "            readfds is not None and readfds.isset(fd),\n",
            "            readfds.isset(fd),  # type: ignore[union-attr]\n",
        )
    ],
)

make(
    "infinite_loop",
    "Sample: poll forgets to advance past negative descriptors.",
    "Broken sample: sys_poll walks its array with an index it forgets to advance after an "
    "entry whose descriptor is not open, so it spins forever (a timeout). Must lose: "
    "poll-reference, select-poll-agree, cost-poll.",
    [
        (
            "    count = 0\n    for entry in fds:\n        if entry.fd < 0:\n",
            "    count = 0\n    i = 0\n    while i < len(fds):\n        entry = fds[i]\n"
            "        if k.file_at(entry.fd) is None:\n            continue  # forgot i += 1\n"
            "        i += 1\n        if entry.fd < 0:\n",
        )
    ],
)

make(
    "eq_always_true",
    "Sample: epoll_wait returns objects whose __eq__ always says True.",
    "Hostile sample: sys_epoll_wait returns EpollEvent look-alikes whose __eq__ is always True, "
    "hoping to pass any comparison; the runtime accepts only exact EpollEvent or int pairs. "
    f"Must lose: {EPOLL_ALL}, {ECHO}. May lose: epoll-ctl (only when a wait reports something).",
    [
        (
            "def sys_epoll_wait(k: Kernel, epfd: int, maxevents: int) -> list[EpollEvent]:\n",
            "class Sneaky:\n"
            "    def __init__(self, events: int, data: int) -> None:\n"
            "        self.events, self.data = events, data\n\n"
            "    def __eq__(self, other: object) -> bool:\n"
            "        return True\n\n"
            "    __hash__ = object.__hash__\n\n\n"
            "def sys_epoll_wait(k: Kernel, epfd: int, maxevents: int) -> list[Any]:\n",
        ),
        (
            "    return ep.collect(maxevents)\n",
            "    return [Sneaky(e.events, e.data) for e in ep.collect(maxevents)]\n",
        ),
    ],
)

make(
    "os_exit",
    "Sample: the echo server kills the worker.",
    "Hostile sample: serve() calls os._exit(0) when it starts, killing the process that runs "
    f"it with a success status (the rest is the reference). Must lose: {ECHO}.",
    [
        (
            '    """An edge-triggered echo server: drain every descriptor until EAGAIN at each event."""\n',
            '    """An edge-triggered echo server: drain every descriptor until EAGAIN at each event."""\n'
            "    import os\n\n    os._exit(0)\n",
        )
    ],
)
