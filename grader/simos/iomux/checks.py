"""Checks that do not need a reference: invariants of select, poll and epoll, and the cost model.

Each check replays a scenario's file operations on its own kernel (the ground truth: what
is open, every file's readiness, every wake-up) next to the results a submission gave,
and reports the first place where those results break a rule of Linux:

* ``epoll_wait`` reports only what is ready now: each event is the file's current mask
  restricted to what was asked (plus ERR and HUP);
* a level-triggered registration whose file is ready is reported by every ``epoll_wait``
  that returns fewer than ``maxevents`` events (it never drops out of the ready list);
* an edge-triggered registration is reported only after a wake-up that matches it (or an
  ADD / MOD while ready) since it was last reported;
* select and poll agree with the kernel and with each other (select's readable set is
  poll's IN | HUP | ERR, writable is OUT | ERR, exceptional is PRI; EBADF is NVAL).

A registration is keyed by (open file description, fd) and its data is the fd number it
was added with. When two live registrations share a data value a report cannot be told
apart; the checks then stop judging those registrations (they never guess).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .events import (
    EP_PRIVATE_BITS,
    EPOLL_CTL_ADD,
    EPOLL_CTL_DEL,
    EPOLL_CTL_MOD,
    EPOLLERR,
    EPOLLET,
    EPOLLHUP,
    EPOLLIN,
    EPOLLONESHOT,
    EPOLLOUT,
    EPOLLPRI,
    event_names,
)
from .files import File, WaitEntry
from .kernel import Kernel
from .libc import Libc
from .scenario import Op, Result, ctl_code, execute


@dataclass(frozen=True, slots=True)
class Violation:
    """Operation ``index`` (0-based) breaks rule ``rule``; ``message`` says how."""

    index: int
    rule: str  # "ready", "level", "edge", "select-poll", "truth"
    message: str


def first_difference(expected: list[Result], actual: list[Result]) -> int | None:
    """The index of the first operation whose results differ (or where one list ends)."""
    for i, (a, b) in enumerate(zip(expected, actual, strict=False)):
        if a != b:
            return i
    if len(expected) != len(actual):
        return min(len(expected), len(actual))
    return None


class _Reg:
    __slots__ = ("armed", "data", "enabled", "entry", "events", "fd", "file", "trusted")

    def __init__(self, file: File, fd: int, events: int, data: int) -> None:
        self.file = file
        self.fd = fd
        self.events = events
        self.data = data
        self.enabled = True
        self.armed = False  # woken (or ready at ADD/MOD) since last reported: may be queued
        self.trusted = True
        self.entry: WaitEntry | None = None

    @property
    def edge(self) -> bool:
        return bool(self.events & EPOLLET)


class Truth:
    """The ground truth of a scenario, kept in step operation by operation."""

    def __init__(self) -> None:
        self.k = Kernel()
        self.libc = Libc(self.k, None)
        self.epolls: dict[File, dict[tuple[File, int], _Reg]] = {}
        self.in_sync = True  # False once the submission's results leave the ground truth

    def ready(self, reg: _Reg) -> int:
        return self.k.mask(reg.file) & (reg.events | EPOLLERR | EPOLLHUP) & ~EP_PRIVATE_BITS

    def _poll(self, reg: _Reg) -> int:
        """Readiness as epoll_ctl sees it: a real poll (a pipe then wakes on every write)."""
        self.k.poll(reg.file)
        return self.ready(reg)

    def _wake(self, reg: _Reg, key: int) -> None:
        if reg.enabled and (key == 0 or key & reg.events):
            reg.armed = True

    def _forget(self, regs: dict[tuple[File, int], _Reg], reg: _Reg) -> None:
        regs.pop((reg.file, reg.fd), None)

    def ctl(self, op: Op) -> None:
        """Apply epoll_ctl to the registrations as Linux does (errors change nothing)."""
        efile, tfile = self.k.file_at(op["epfd"]), self.k.file_at(op["fd"])
        if efile is None or tfile is None or tfile.kind == "null":
            return
        regs = self.epolls.get(efile)
        if regs is None or efile is tfile:
            return
        key = (tfile, op["fd"])
        code = ctl_code(op["ctl"])
        reg = regs.get(key)
        events = op["events"] | EPOLLERR | EPOLLHUP
        data = int(op["data"]) if "data" in op else int(op["fd"])
        if code == EPOLL_CTL_ADD and reg is None:
            reg = _Reg(tfile, op["fd"], events, data)
            r = reg
            reg.entry = self.k.add_wait(
                tfile, lambda key: self._wake(r, key), lambda: self._forget(regs, r)
            )
            regs[key] = reg
            reg.armed = bool(self._poll(reg))
        elif code == EPOLL_CTL_DEL and reg is not None:
            if reg.entry is not None:
                self.k.remove_wait(reg.entry)
            del regs[key]
        elif code == EPOLL_CTL_MOD and reg is not None:
            reg.events, reg.data, reg.enabled = events, data, True
            reg.armed = bool(self._poll(reg)) or reg.armed

    def step(self, index: int, op: Op, result: Result) -> None:
        """Keep the truth in step with operation ``index`` (whose result the submission gave)."""
        name = op["op"]
        if name == "epoll_create":
            fd = self.k.install_epoll(None)
            file = self.k.file_at(fd)
            assert file is not None
            self.epolls[file] = {}
            if result != fd:
                self.in_sync = False
        elif name == "epoll_ctl":
            self.ctl(op)
        elif name not in ("epoll_wait", "poll", "select") and (
            execute(self.libc, index, op) != result
        ):
            self.in_sync = False
        for file in [f for f in self.epolls if f.released]:
            del self.epolls[file]


def _report_text(data: int, events: int) -> str:
    return f"{data}: {event_names(events)}"


def _check_wait(truth: Truth, index: int, op: Op, result: Result) -> list[Violation]:
    efile = truth.k.file_at(op["epfd"])
    regs = truth.epolls.get(efile) if efile is not None else None
    if regs is None or type(result) is not list:
        return []
    out: list[Violation] = []
    what = f"epoll_wait({op['epfd']}, max={op['max']})"
    reported: set[int] = set()
    for data, events in result:
        candidates = [r for r in regs.values() if r.enabled and r.data == data]
        matching = [r for r in candidates if truth.ready(r) == events]
        if not matching:
            if candidates and all(r.trusted for r in candidates):
                now = ", ".join(
                    f"fd {r.fd} is {event_names(truth.k.mask(r.file))}" for r in candidates
                )
                out.append(
                    Violation(
                        index,
                        "ready",
                        f"{what} reported {_report_text(data, events)}, but that is not what "
                        f"is ready now ({now}; registered for "
                        f"{event_names(candidates[0].events & ~EP_PRIVATE_BITS)})",
                    )
                )
            continue
        if len(matching) > 1:
            for r in matching:
                r.trusted = False
            continue
        reg = matching[0]
        reported.add(id(reg))
        if reg.edge and not reg.armed and reg.trusted:
            out.append(
                Violation(
                    index,
                    "edge",
                    f"{what} reported {_report_text(data, events)} for an edge-triggered "
                    f"registration of fd {reg.fd}, but nothing woke it since it was last "
                    "reported (an edge needs a new write, read, connect or close)",
                )
            )
        if reg.events & EPOLLONESHOT:
            reg.enabled = False
        if reg.edge or reg.events & EPOLLONESHOT:
            reg.armed = False
    if len(result) < op["max"]:
        for reg in regs.values():
            if (
                reg.trusted
                and reg.enabled
                and not reg.edge
                and id(reg) not in reported
                and truth.ready(reg)
            ):
                out.append(
                    Violation(
                        index,
                        "level",
                        f"{what} returned {len(result)} event(s) (fewer than max={op['max']}) "
                        f"without the level-triggered fd {reg.fd}, which is ready "
                        f"({event_names(truth.ready(reg))}): a level-triggered registration "
                        "is reported as long as it is ready",
                    )
                )
    return out


POLL_R = EPOLLIN | EPOLLHUP | EPOLLERR
POLL_W = EPOLLOUT | EPOLLERR
POLL_X = EPOLLPRI
POLL_PAIR = EPOLLIN | EPOLLOUT | EPOLLPRI  # what a poll paired with a select asks for


def _check_poll_truth(truth: Truth, index: int, op: Op, result: Result) -> Violation | None:
    if type(result) is not list:
        return None
    want = []
    for fd, events in op["fds"]:
        f = truth.k.file_at(fd) if fd >= 0 else None
        revents = 0 if fd < 0 else 0x20 if f is None else truth.k.mask(f) & (events | 0x18)
        if revents:
            want.append([fd, revents & 0xFFFF])
    if result != want:
        shown = ", ".join(_report_text(a, b) for a, b in want) or "nothing"
        got = ", ".join(_report_text(a, b) for a, b in result) or "nothing"
        return Violation(
            index, "truth", f"poll should report {shown} (the kernel's state), yours: {got}"
        )
    return None


def _check_select_truth(truth: Truth, index: int, op: Op, result: Result) -> Violation | None:
    fds = [*op["r"], *op["w"], *op["x"]]
    if any(fd >= 1024 or fd < 0 for fd in fds):
        return None
    closed = [fd for fd in fds if truth.k.file_at(fd) is None]
    nfds = op.get("nfds", max(fds, default=-1) + 1)
    if nfds > 1024:
        want: Any = {"error": "EINVAL"}
    elif closed:
        want = {"error": "EBADF"}
    else:
        masks = {fd: truth.k.mask(f) for fd in set(fds) if (f := truth.k.file_at(fd))}
        want = [
            sorted({fd for fd in op[key] if masks[fd] & bits})
            for key, bits in (("r", POLL_R | 0xC0), ("w", POLL_W | 0x300), ("x", POLL_X))
        ]
    if result != want:
        return Violation(
            index,
            "truth",
            f"select should give {want} (the kernel's state: "
            + (f"fd {closed[0]} is closed" if closed else "readiness of each descriptor")
            + f"), yours: {result}",
        )
    return None


def _check_pair(
    index: int, sel_op: Op, sel: Result, poll_op: Op, polled: Result
) -> Violation | None:
    """select at ``index`` and the poll right after it, of the same descriptors, must agree.

    Only a poll of exactly select's descriptors, each for IN | OUT | PRI, is such a pair.
    """
    union = sorted(set(sel_op["r"]) | set(sel_op["w"]) | set(sel_op["x"]))
    if poll_op["fds"] != [[fd, POLL_PAIR] for fd in union] or type(polled) is not list:
        return None
    rev = {fd: ev for fd, ev in polled}
    if type(sel) is dict:
        if sel.get("error") == "EBADF" and not any(ev & 0x20 for ev in rev.values()):
            return Violation(
                index,
                "select-poll",
                "your select failed with EBADF but your poll of the same descriptors reports "
                "no NVAL (a closed descriptor is NVAL in poll and EBADF in select)",
            )
        return None
    if any(ev & 0x20 for ev in rev.values()):
        return Violation(
            index,
            "select-poll",
            "your poll reports NVAL (a closed descriptor) but your select of the same "
            "descriptors did not fail with EBADF",
        )
    for key, bits, name in (
        ("r", POLL_R, "readable"),
        ("w", POLL_W, "writable"),
        ("x", POLL_X, "exceptional"),
    ):
        part = sel[{"r": 0, "w": 1, "x": 2}[key]]
        for fd in sel_op[key]:
            in_select = fd in part
            in_poll = bool(rev.get(fd, 0) & bits)
            if in_select != in_poll:
                return Violation(
                    index,
                    "select-poll",
                    f"fd {fd}: your select says {name} = {in_select}, but your poll gives "
                    f"{event_names(rev.get(fd, 0))} for it (select's {name} set is poll's "
                    f"{event_names(bits)})",
                )
    return None


def check(ops: list[Op], results: list[Result], rules: set[str] | None = None) -> list[Violation]:
    """Every violation of the rules above, in order (see the module docstring)."""
    truth = Truth()
    out: list[Violation] = []
    for i, (op, result) in enumerate(zip(ops, results, strict=False)):
        if not truth.in_sync:
            break
        name = op["op"]
        if name == "epoll_wait":
            out.extend(_check_wait(truth, i, op, result))
        elif name == "poll":
            v = _check_poll_truth(truth, i, op, result)
            if v:
                out.append(v)
        elif name == "select":
            v = _check_select_truth(truth, i, op, result)
            if v:
                out.append(v)
            nxt = ops[i + 1] if i + 1 < len(ops) else None
            if nxt is not None and nxt["op"] == "poll" and i + 1 < len(results):
                v = _check_pair(i, op, result, nxt, results[i + 1])
                if v:
                    out.append(v)
        truth.step(i, op, result)
    return [v for v in out if rules is None or v.rule in rules]


# ---------------------------------------------------------------------------- the cost model


def select_cost(op: Op) -> dict[str, int]:
    """What select(2) costs on Linux for ``op`` (when it succeeds)."""
    fds = [*op["r"], *op["w"], *op["x"]]
    nfds = op.get("nfds", max(fds, default=-1) + 1)
    sets = sum(1 for key in "rwx" if op[key])
    words = (nfds + 63) // 64 * 8
    return {
        "bytes_in": sets * words,
        "bytes_out": sets * words,
        "scanned": nfds if sets else 0,
        "polls": len(set(fds)),
    }


def poll_cost(op: Op, open_fds: set[int]) -> dict[str, int]:
    """What poll(2) costs for ``op``: every entry is read and written back; open ones polled."""
    n = len(op["fds"])
    return {
        "bytes_in": 8 * n,
        "bytes_out": 2 * n,
        "scanned": n,
        "polls": sum(1 for fd, _ in op["fds"] if fd in open_fds),
    }


def open_fds_before(ops: list[Op]) -> list[set[int]]:
    """For each operation, the descriptors open just before it (file operations replayed)."""
    truth = Truth()
    out = []
    for i, op in enumerate(ops):
        out.append(set(truth.k.fds()))
        name = op["op"]
        if name == "epoll_create":
            truth.k.install_epoll(None)
        elif name not in ("epoll_ctl", "epoll_wait", "poll", "select"):
            execute(truth.libc, i, op)
    return out


__all__ = [
    "Violation",
    "check",
    "first_difference",
    "open_fds_before",
    "poll_cost",
    "select_cost",
]
