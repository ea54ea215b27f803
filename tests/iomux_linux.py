"""Run an iomux scenario on the real Linux kernel of this process (test helper, not a test).

Pipes, Unix sockets (listeners on abstract addresses: no file system, no network), /dev/null,
select and poll come from Python's ``os``, ``socket`` and ``select`` modules; epoll goes
through ctypes so that any descriptor number, op and ``data`` can be passed, exactly as a
scenario says. Everything is non-blocking, every timeout is 0.

Descriptor numbers: the simulated kernel starts with 0, 1, 2 open and allocates lowest-free
from 3. Before a run every free number below the highest open one is plugged with
/dev/null, so the real kernel also allocates lowest-free from a base ``B``. The translation
table maps simulated ``s`` to real ``B + s - 3`` (an open descriptor or a closed number that
nothing else uses), and real results are mapped back; a real allocation that is not the
image of the simulated one shows up as a differing result.
"""

from __future__ import annotations

import ctypes
import errno as errno_mod
import itertools
import os
import platform
import resource
import select
import socket

from grader.simos.iomux.events import ERRNO_NAMES
from grader.simos.iomux.scenario import Op, Result, ctl_code, data_for, validate

_run_ids = itertools.count()
_PACKED = platform.machine() in ("x86_64", "AMD64", "i686", "i386")
HEADROOM = 256  # numbers above the base kept inside the descriptor table's capacity


class _EpollEvent(ctypes.Structure):
    _pack_ = 1 if _PACKED else 8
    _fields_ = [("events", ctypes.c_uint32), ("data", ctypes.c_uint64)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.epoll_create1.argtypes = [ctypes.c_int]
_libc.epoll_ctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.POINTER(_EpollEvent)]
_libc.epoll_wait.argtypes = [ctypes.c_int, ctypes.POINTER(_EpollEvent), ctypes.c_int, ctypes.c_int]


def kernel_version() -> tuple[int, int]:
    parts = platform.release().split(".")
    return int(parts[0]), int("".join(c for c in parts[1] if c.isdigit()) or 0)


def usable() -> str | None:
    """None if the differential can run here, else why not."""
    if platform.system() != "Linux":
        return f"needs Linux, this is {platform.system()}"
    if kernel_version() < (5, 14):
        return f"needs Linux >= 5.14 (every pipe write wakes epoll), this is {platform.release()}"
    return None


def oob_supported() -> bool:
    """Is CONFIG_AF_UNIX_OOB on (send(MSG_OOB) on a Unix stream socket)?"""
    a, b = socket.socketpair()
    try:
        a.send(b"!", socket.MSG_OOB)
        return True
    except OSError:
        return False
    finally:
        a.close()
        b.close()


def _open_fds() -> list[int]:
    try:
        return sorted(int(name) for name in os.listdir("/proc/self/fd"))
    except OSError:  # pragma: no cover - /proc is there on Linux
        return [fd for fd in range(0, 4096) if _is_open(fd)]


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def _err(exc: OSError) -> dict[str, str]:
    code = exc.errno or 0
    return {"error": ERRNO_NAMES.get(code, errno_mod.errorcode.get(code, f"errno {code}"))}


def _check(ret: int) -> int:
    if ret < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return ret


class LinuxRun:
    """One scenario on the real kernel: a private base, a translation table, cleanup."""

    def __init__(self) -> None:
        self.run_id = next(_run_ids)
        self.plugs: list[int] = []
        top = max(fd for fd in _open_fds() if _is_open(fd)) + 1
        null = os.open(os.devnull, os.O_RDONLY)
        for fd in range(3, max(top, null + 1)):
            if not _is_open(fd):
                os.dup2(null, fd)
                self.plugs.append(fd)
        self.plugs.append(null)
        self.base = max(top, null + 1)
        limit = self.base + HEADROOM
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < limit + 1:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, limit + 1), hard))
        os.dup2(null, limit)  # grow the table: closed numbers below it then give EBADF
        os.close(limit)
        self.addresses: list[str] = []
        self.highest = self.base

    # ------------------------------------------------------------------ translation

    def real(self, s: int) -> int:
        return self.base + s - 3 if s >= 3 else s

    def sim(self, r: int) -> int:
        self.highest = max(self.highest, r)
        return r - self.base + 3 if r >= self.base else r

    def _new(self, fd: int) -> int:
        os.set_blocking(fd, False)
        return self.sim(fd)

    # ------------------------------------------------------------------ operations

    def _sock(self, s: int) -> socket.socket:
        return socket.socket(fileno=self.real(s))

    def execute(self, index: int, op: Op) -> Result:
        name = op["op"]
        try:
            return self._execute(index, name, op)
        except ValueError:
            return {"error": "ValueError"}
        except OSError as exc:
            return _err(exc)

    def _execute(self, index: int, name: str, op: Op) -> Result:
        if name == "pipe":
            r, w = os.pipe()
            return [self._new(r), self._new(w)]
        if name == "socketpair":
            a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            return [self._new(a.detach()), self._new(b.detach())]
        if name == "listen":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            address = f"\0osgrade-{os.getpid()}-{self.run_id}-{len(self.addresses)}"
            s.bind(address)
            s.listen(op["backlog"])
            self.addresses.append(address)
            return self._new(s.detach())
        if name == "connect":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            to = op["to"]
            address = self.addresses[to] if 0 <= to < len(self.addresses) else "\0osgrade-none"
            try:
                s.connect(address)
            except OSError:
                s.close()
                raise
            return self._new(s.detach())
        if name == "accept":
            s = self._sock(op["fd"])
            try:
                fd, _ = s._accept()  # type: ignore[attr-defined]
            finally:
                s.detach()
            return self._new(fd)
        if name == "null":
            return self._new(os.open(os.devnull, os.O_RDWR))
        if name == "dup":
            return self.sim(os.dup(self.real(op["fd"])))
        if name == "close":
            os.close(self.real(op["fd"]))
            return 0
        if name in ("shutdown", "oob"):
            s = self._sock(op["fd"])
            try:
                if name == "shutdown":
                    s.shutdown(op["how"])
                    return 0
                return s.send(b"!", socket.MSG_OOB)
            finally:
                s.detach()
        if name == "write":
            return os.write(self.real(op["fd"]), data_for(index, op["n"]))
        if name == "read":
            return os.read(self.real(op["fd"]), op["n"]).decode("latin-1")
        if name == "epoll_create":
            return self.sim(_check(_libc.epoll_create1(os.O_CLOEXEC)))
        if name == "epoll_ctl":
            ev = _EpollEvent(op["events"] & 0xFFFFFFFF, op.get("data", op["fd"]))
            _check(
                _libc.epoll_ctl(
                    self.real(op["epfd"]),
                    ctl_code(op["ctl"]),
                    self.real(op["fd"]),
                    ctypes.byref(ev),
                )
            )
            return 0
        if name == "epoll_wait":
            size = max(1, op["max"])
            buf = (_EpollEvent * size)()
            n = _check(_libc.epoll_wait(self.real(op["epfd"]), buf, op["max"], 0))
            return [[int(buf[i].data), int(buf[i].events)] for i in range(n)]
        if name == "poll":
            p = select.poll()
            for fd, events in op["fds"]:
                p.register(self.real(fd), events)
            return [[self.sim(fd), revents] for fd, revents in p.poll(0)]
        if name == "select":
            r, w, x = ([self.real(fd) for fd in op[k]] for k in "rwx")
            got = select.select(r, w, x, 0)
            return [sorted(self.sim(fd) for fd in part) for part in got]
        raise ValueError(f"unknown operation {name}")

    def close_all(self) -> None:
        for fd in range(self.base, max(self.base + HEADROOM, self.highest + 1)):
            if _is_open(fd):
                os.close(fd)
        for fd in self.plugs:
            os.close(fd)


def run_linux(ops: list[Op]) -> list[Result]:
    """The results of ``ops`` on this machine's kernel, in simulated descriptor numbers."""
    ops = validate(ops)
    world = LinuxRun()
    try:
        return [world.execute(i, op) for i, op in enumerate(ops)]
    finally:
        world.close_all()


def first_difference(a: list[Result], b: list[Result]) -> int | None:
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x != y:
            return i
    return None


__all__ = ["first_difference", "oob_supported", "run_linux", "usable"]
