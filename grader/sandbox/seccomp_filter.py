"""The worker's seccomp filter. STANDARD LIBRARY ONLY (plus the libseccomp binding it loads).

The binding is Debian's ``python3-seccomp`` (module ``seccomp``) or PyPI's ``pyseccomp``
(the same API). It is not on the worker's ``sys.path`` (the worker runs with ``-S``), so
``load_binding`` loads it from the directory the parent found it in during the probe.

``install(binding)`` adds a filter to the calling process (and every thread it starts
later); it cannot be removed. Default: allow. Denied:

- process creation: ``fork``, ``vfork``, ``clone`` without ``CLONE_THREAD`` (EPERM);
  ``clone3`` returns ENOSYS so that glibc falls back to ``clone`` and threads still work;
- ``execve``, ``execveat`` (EPERM);
- ``socket``, ``socketpair`` (EACCES): no network, no local sockets;
- ``ptrace``, ``process_vm_readv/writev``, ``kcmp``, the pidfd calls (EPERM);
- ``kill``, ``tkill``, ``tgkill``, ``rt_sigqueueinfo``, ``rt_tgsigqueueinfo`` aimed at any
  pid but the worker's own (EPERM): signalling itself (``os.kill(os.getpid(), ...)``,
  ``signal.raise_signal``, ``pthread_kill``) still works;
- ``io_uring_*`` (it can open sockets without the ``socket`` call), ``bpf``,
  ``perf_event_open``, ``userfaultfd``, ``unshare``, ``setns``, ``mount``, ``keyctl`` and
  friends (EPERM).

System calls of another architecture (``int 0x80`` from a 64-bit process) kill the
process (libseccomp's default for a foreign architecture).

Run as a script (``python3 seccomp_filter.py --probe``) it finds a binding, installs the
filter in its own process and checks that threads run while fork, exec and sockets fail;
it prints one JSON object. The grader runs this at start-up to decide whether the layer
is available.
"""

from __future__ import annotations

import errno
import importlib.machinery
import importlib.util
import json
import os
import sys
from types import ModuleType
from typing import Any

BINDINGS = ("seccomp", "pyseccomp")
CLONE_THREAD = 0x00010000

DENY_EPERM = (
    "fork",
    "vfork",
    "execve",
    "execveat",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "keyctl",
    "add_key",
    "request_key",
    "personality",
)
DENY_EACCES = ("socket", "socketpair")
SIGNALS_TO_SELF_ONLY = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")


def load_binding(name: str, directory: str) -> ModuleType:
    """Import the binding ``name`` from ``directory`` only (never from the submission)."""
    if name not in BINDINGS:
        raise ImportError(f"unknown seccomp binding {name!r}")
    spec = importlib.machinery.PathFinder.find_spec(name, [directory])
    if spec is None or spec.loader is None:
        raise ImportError(f"{name} is not in {directory}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def install(sc: Any) -> None:
    """Load the filter into this process (irreversible)."""
    pid = os.getpid()
    f = sc.SyscallFilter(sc.ALLOW)
    for name in DENY_EPERM:
        _deny(sc, f, name, errno.EPERM)
    for name in DENY_EACCES:
        _deny(sc, f, name, errno.EACCES)
    # Threads pass CLONE_THREAD; anything else would be a new process.
    f.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    # clone3 passes its flags in memory, which seccomp cannot inspect: ENOSYS makes glibc
    # fall back to clone, whose flags it can.
    _deny(sc, f, "clone3", errno.ENOSYS)
    for name in SIGNALS_TO_SELF_ONLY:
        # pid_t is 32 bits: a value with upper bits set is "not equal" and so denied.
        _deny(sc, f, name, errno.EPERM, sc.Arg(0, sc.NE, pid))
    f.load()


def _deny(sc: Any, f: Any, name: str, code: int, *args: Any) -> None:
    try:
        number = sc.resolve_syscall(sc.Arch.NATIVE, name)
    except (ValueError, OSError, TypeError):  # pragma: no cover - old binding
        number = -1
    if number < 0:  # not a system call on this architecture (fork on arm64)
        return
    f.add_rule(sc.ERRNO(code), name, *args)


def find_binding() -> tuple[str, str] | None:
    """(module name, directory) of the first binding importable by this interpreter."""
    for name in BINDINGS:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        path = spec.origin
        if os.path.basename(path) == "__init__.py":  # a package: its parent directory
            path = os.path.dirname(path)
        return name, os.path.dirname(os.path.realpath(path))
    return None


def _expect_denied(what: str, action: Any) -> str | None:
    try:
        result = action()
    except PermissionError:
        return None
    if result == 0:  # pragma: no cover - only if the filter did not load: the fork child
        os._exit(0)
    return f"{what} was not denied"


def self_test() -> dict[str, Any]:
    """Find a binding, install the filter here, check it; never raises."""
    out: dict[str, Any] = {"python": list(sys.version_info[:3]), "ok": False}
    try:
        found = find_binding()
        if found is None:
            out["error"] = "no seccomp binding (python3-seccomp or pyseccomp) is importable"
            return out
        out["module"], out["dir"] = found
        install(load_binding(*found))
        import socket
        import threading

        results: list[int] = []
        threads = [threading.Thread(target=results.append, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if sorted(results) != [0, 1, 2, 3]:
            out["error"] = "threads do not run under the filter"
            return out
        problems = [
            _expect_denied("fork", os.fork),
            _expect_denied("exec", lambda: os.execv("/bin/true", ["true"])),
            _expect_denied("socket", lambda: socket.socket().close()),
            _expect_denied("kill of the parent", lambda: os.kill(os.getppid(), 0)),
        ]
        os.kill(os.getpid(), 0)  # signalling itself is allowed
        errors = [p for p in problems if p]
        if errors:
            out["error"] = "; ".join(errors)
            return out
        out["ok"] = True
    except BaseException as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    return out


if __name__ == "__main__":  # pragma: no cover - run by the probe in a fresh interpreter
    if sys.argv[1:] != ["--probe"]:
        raise SystemExit("usage: seccomp_filter.py --probe")
    sys.stdout.write(json.dumps(self_test()) + "\n")
    sys.stdout.flush()
    os._exit(0)
