"""Scenarios: a list of operations, each with its result, run on the simulated kernel.

An operation is a dict (plain JSON). The same scenario runs on the real Linux kernel in
the project's tests, so each result is what Python's ``os``, ``socket`` and ``select``
modules would give (an errno name when the call fails)::

    {"op": "pipe"}                                   -> [rfd, wfd]
    {"op": "socketpair"}                             -> [fd, fd]
    {"op": "listen", "backlog": 2}                   -> fd   (listener number k = k-th listen)
    {"op": "connect", "to": 0}                       -> fd   (a new socket connected to listener 0)
    {"op": "accept", "fd": 5}                        -> fd
    {"op": "null"}                                   -> fd   (/dev/null: no poll method)
    {"op": "dup", "fd": 3}                           -> fd
    {"op": "close", "fd": 3}                         -> 0
    {"op": "shutdown", "fd": 3, "how": 1}            -> 0    (0 SHUT_RD, 1 SHUT_WR, 2 SHUT_RDWR)
    {"op": "write", "fd": 4, "n": 100}               -> bytes written
    {"op": "read", "fd": 3, "n": 10}                 -> the data read, as text
    {"op": "oob", "fd": 3}                           -> 1    (one out-of-band byte "!")
    {"op": "epoll_create"}                           -> fd
    {"op": "epoll_ctl", "epfd": 5, "ctl": "ADD", "fd": 3, "events": 0x80000001} -> 0
    {"op": "epoll_wait", "epfd": 5, "max": 8}        -> [[data, events], ...]
    {"op": "poll", "fds": [[3, 1], [4, 4]]}          -> [[fd, revents], ...] (revents != 0)
    {"op": "select", "r": [3], "w": [4], "x": []}    -> [[ready r], [ready w], [ready x]]

A failed call gives ``{"error": "EAGAIN"}`` (or ``"ValueError"`` for select with a
descriptor >= FD_SETSIZE). The bytes of write number ``i`` (its position in the list)
are the letter ``"abc...z"[i % 26]`` repeated, so a read shows where its data came from.
``epoll_ctl`` may give ``"data"`` (default: the fd) and an int ``"ctl"`` (an invalid op).
``select`` may give ``"nfds"`` (default: the highest descriptor + 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .events import (
    CTL_NAMES,
    EPOLL_CTL_ADD,
    EPOLL_CTL_DEL,
    EPOLL_CTL_MOD,
    SHUT_NAMES,
    errno_name,
    event_names,
)
from .kernel import Kernel
from .libc import Libc
from .model import Cost, KernelError, ScenarioError, check_fd_set_size

Op = dict[str, Any]
Result = Any  # int | str | list | {"error": "EAGAIN"}

CTL_OF = {"ADD": EPOLL_CTL_ADD, "MOD": EPOLL_CTL_MOD, "DEL": EPOLL_CTL_DEL}

# Field names and kinds of every operation: "i" an int, "l" a list of ints, "p" a list of
# [fd, events] pairs, "c" an epoll_ctl op (a name or an int).
FIELDS: dict[str, dict[str, str]] = {
    "pipe": {},
    "socketpair": {},
    "listen": {"backlog": "i"},
    "connect": {"to": "i"},
    "accept": {"fd": "i"},
    "null": {},
    "dup": {"fd": "i"},
    "close": {"fd": "i"},
    "shutdown": {"fd": "i", "how": "i"},
    "write": {"fd": "i", "n": "i"},
    "read": {"fd": "i", "n": "i"},
    "oob": {"fd": "i"},
    "epoll_create": {},
    "epoll_ctl": {"epfd": "i", "ctl": "c", "fd": "i", "events": "i"},
    "epoll_wait": {"epfd": "i", "max": "i"},
    "poll": {"fds": "p"},
    "select": {"r": "l", "w": "l", "x": "l"},
}
OPTIONAL = {"epoll_ctl": {"data": "i"}, "select": {"nfds": "i"}}
MAX_IO = 1 << 20  # bytes per read or write


def _is_int(v: object) -> bool:
    return type(v) is int


def validate_op(index: int, op: object) -> Op:
    """Check one operation's shape; ScenarioError naming its position and field."""
    where = f"operation {index + 1}"
    if type(op) is not dict or type(op.get("op")) is not str:
        raise ScenarioError(f"{where} must be a dict with an 'op' name, got {op!r}")
    name = op["op"]
    if name not in FIELDS:
        raise ScenarioError(f"{where}: unknown operation {name!r}; known: {', '.join(FIELDS)}")
    fields = {**FIELDS[name], **OPTIONAL.get(name, {})}
    extra = set(op) - set(fields) - {"op"}
    if extra:
        raise ScenarioError(f"{where} ({name}): unknown field(s) {sorted(extra)}")
    for field, kind in fields.items():
        if field not in op:
            if field in FIELDS[name]:
                raise ScenarioError(f"{where} ({name}): missing field {field!r}")
            continue
        v = op[field]
        ok = (
            _is_int(v)
            if kind == "i"
            else (type(v) is list and all(_is_int(x) for x in v))
            if kind == "l"
            else (
                type(v) is list
                and all(type(p) is list and len(p) == 2 and all(map(_is_int, p)) for p in v)
            )
            if kind == "p"
            else (v in CTL_OF or _is_int(v))
        )
        if not ok:
            raise ScenarioError(f"{where} ({name}): field {field!r} has a bad value {v!r}")
    if name in ("read", "write") and not 0 <= op["n"] <= MAX_IO:
        raise ScenarioError(f"{where} ({name}): n must be 0 .. {MAX_IO}, got {op['n']}")
    return op


def validate(ops: object) -> list[Op]:
    if type(ops) is not list:
        raise ScenarioError(f"a scenario is a list of operations, got {type(ops).__name__}")
    return [validate_op(i, op) for i, op in enumerate(ops)]


def data_for(index: int, n: int) -> bytes:
    """The bytes written by the operation at position ``index``."""
    return bytes([97 + index % 26]) * n


def ctl_code(value: str | int) -> int:
    return CTL_OF[value] if isinstance(value, str) else value


def execute(libc: Libc, index: int, op: Op) -> Result:
    """Run one operation; a failed call is ``{"error": name}``. Student bugs propagate."""
    name = op["op"]
    try:
        if name == "pipe":
            return list(libc.pipe())
        if name == "socketpair":
            return list(libc.socketpair())
        if name == "listen":
            return libc.listen(op["backlog"])
        if name == "connect":
            return libc.connect(op["to"])
        if name == "accept":
            return libc.accept(op["fd"])
        if name == "null":
            return libc.open_null()
        if name == "dup":
            return libc.dup(op["fd"])
        if name == "close":
            libc.close(op["fd"])
            return 0
        if name == "shutdown":
            libc.shutdown(op["fd"], op["how"])
            return 0
        if name == "write":
            return libc.write(op["fd"], data_for(index, op["n"]))
        if name == "read":
            return libc.read(op["fd"], op["n"]).decode("latin-1")
        if name == "oob":
            return libc.send_oob(op["fd"])
        if name == "epoll_create":
            return libc.epoll_create()
        if name == "epoll_ctl":
            libc.epoll_ctl(op["epfd"], ctl_code(op["ctl"]), op["fd"], op["events"], op.get("data"))
            return 0
        if name == "epoll_wait":
            return [list(e) for e in libc.epoll_wait(op["epfd"], op["max"])]
        if name == "poll":
            return [list(e) for e in libc.poll([(fd, ev) for fd, ev in op["fds"]])]
        if name == "select":
            try:
                check_fd_set_size([*op["r"], *op["w"], *op["x"]])
            except ValueError:
                return {"error": "ValueError"}
            return [list(s) for s in libc.select(op["r"], op["w"], op["x"], op.get("nfds"))]
    except KernelError as exc:
        if type(exc) is not KernelError:
            raise
        return {"error": errno_name(OSError.__dict__["errno"].__get__(exc))}
    raise ScenarioError(f"operation {index + 1}: unknown operation {name!r}")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Run:
    """What a scenario gave: one result per operation, and the cost of each multiplexing call."""

    results: list[Result]
    costs: list[Cost | None]

    def to_data(self) -> dict[str, Any]:
        return {
            "results": self.results,
            "costs": [c.to_data() if c is not None else None for c in self.costs],
        }


def run(impl: Any, ops: list[Op], *, costs: bool = False, kernel: Kernel | None = None) -> Run:
    """Run ``ops`` on a fresh kernel with ``impl``'s select, poll and epoll."""
    ops = validate(ops)
    libc = Libc(kernel or Kernel(), impl, record_costs=costs)
    results: list[Result] = []
    per_op: list[Cost | None] = []
    for i, op in enumerate(ops):
        before = len(libc.costs)
        results.append(execute(libc, i, op))
        per_op.append(libc.costs[-1] if len(libc.costs) > before else None)
    return Run(results, per_op)


# ---------------------------------------------------------------------------- text


def _fds(fds: list[int]) -> str:
    return "[" + ", ".join(map(str, fds)) + "]"


def op_text(op: Op) -> str:
    """``epoll_ctl(5, ADD, 3, IN|ET)``: one operation as a student reads it."""
    name = op["op"]
    if name in ("pipe", "socketpair", "null", "epoll_create"):
        return f"{name}()"
    if name == "listen":
        return f"listen(backlog={op['backlog']})"
    if name == "connect":
        return f"connect(listener {op['to']})"
    if name in ("accept", "dup", "close", "oob"):
        return f"{'send_oob' if name == 'oob' else name}({op['fd']})"
    if name == "shutdown":
        return f"shutdown({op['fd']}, {SHUT_NAMES.get(op['how'], op['how'])})"
    if name in ("write", "read"):
        return f"{name}({op['fd']}, {op['n']})"
    if name == "epoll_ctl":
        ctl = op["ctl"] if isinstance(op["ctl"], str) else CTL_NAMES.get(op["ctl"], op["ctl"])
        data = f", data={op['data']}" if "data" in op else ""
        ev = "" if ctl == "DEL" else f", {event_names(op['events'])}"
        return f"epoll_ctl({op['epfd']}, {ctl}, {op['fd']}{ev}{data})"
    if name == "epoll_wait":
        return f"epoll_wait({op['epfd']}, max={op['max']})"
    if name == "poll":
        return "poll(" + ", ".join(f"{fd}: {event_names(ev)}" for fd, ev in op["fds"]) + ")"
    if name == "select":
        nfds = f", nfds={op['nfds']}" if "nfds" in op else ""
        return f"select(r={_fds(op['r'])}, w={_fds(op['w'])}, x={_fds(op['x'])}{nfds})"
    return repr(op)  # pragma: no cover


def data_text(data: str) -> str:
    """``'aab'``, or ``a×4096 b×10`` for long data (runs of one letter)."""
    if len(data) <= 16:
        return repr(data)
    runs: list[list[Any]] = []
    for ch in data:
        if runs and runs[-1][0] == ch:
            runs[-1][1] += 1
        else:
            runs.append([ch, 1])
    shown = " ".join(f"{c}×{k}" for c, k in runs[:6])
    more = " …" if len(runs) > 6 else ""
    return f"{len(data)} bytes: {shown}{more}"


def result_text(op: Op, result: Result) -> str:
    """One result as a student reads it: ``3, 4``, ``EAGAIN``, ``[3: IN|HUP]``."""
    if type(result) is dict:
        return str(result.get("error"))
    name = op["op"]
    if name in ("pipe", "socketpair"):
        return ", ".join(map(str, result))
    if name == "read":
        return data_text(result) if result else "'' (end of file)"
    if name in ("epoll_wait", "poll"):
        if not result:
            return "nothing"
        return ", ".join(f"{a}: {event_names(b)}" for a, b in result)
    if name == "select":
        r, w, x = result
        return f"r={_fds(r)} w={_fds(w)} x={_fds(x)}"
    return str(result)
