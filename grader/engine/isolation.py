"""The stronger isolation layers of the worker: probed once per process, recorded in results.

Three optional layers stack on the always-on ones (own session and process group,
rlimits, a private temp dir, the parent-death signal):

``uid_drop``
    Only when the grader runs as root. Each worker gets a *slot*: an unprivileged uid
    and gid (``UID_BASE + n``, no passwd entry, no change to the system) held with a lock
    file for the worker's life. Root ignores RLIMIT_NPROC and a same-uid child can read
    the grader's memory through ``/proc``; the dropped uid cannot, and is held to
    ``WorkerLimits.processes``. Every process left with that uid is killed after each
    kill or restart of the worker and when it closes (``kill_uid``), and when a slot is
    taken (leftovers of a grader that died). The interpreter must be readable by that
    uid: Debian's ``/usr/bin/python3`` (the worker is standard-library only for this).
``bubblewrap``
    ``bwrap --unshare-all`` (no network, own pid, ipc, uts and user namespaces),
    ``--die-with-parent``, ``--new-session``; read-only binds of ``/usr`` (plus the
    ``/bin``, ``/lib*``, ``/sbin`` links), of the runtime copy and of the submission copy;
    a size-capped tmpfs on ``/tmp``; a fresh ``/proc`` and a minimal ``/dev``; the root
    read-only. Nothing else of the host is visible: not the hidden tests, the reference,
    the outputs, ``/work`` or ``/root``. Escaped daemons die with the pid namespace.
``seccomp``
    The worker loads a filter before any student code runs (``grader/sandbox/
    seccomp_filter.py``): no sockets, no new processes, no exec, no ptrace, no signals
    to other processes; threads still work.

``probe()`` decides which layers this machine supports, each with a reason when not,
by actually starting a sandbox and a filtered interpreter (about 50 ms, once per
process). ``OSGRADE_ISOLATION`` (or ``probe(mode)``) chooses what to ask for: ``auto``
(the default: everything available), ``minimal`` (no optional layer) or a comma list of
``uid``, ``bwrap``, ``seccomp``. Whenever a layer is off, the record carries
``"warning": "reduced isolation: ..."``; it is never silent.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import grp
import json
import os
import pwd
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, OsgradeError

ISOLATION_ENV = "OSGRADE_ISOLATION"
LAYERS = ("uid_drop", "bubblewrap", "seccomp")
_ALIASES = {
    "uid": "uid_drop",
    "uid_drop": "uid_drop",
    "bwrap": "bubblewrap",
    "bubblewrap": "bubblewrap",
    "seccomp": "seccomp",
}
SYSTEM_PYTHON = "/usr/bin/python3"
MIN_PYTHON = (3, 10)
UID_BASE = 64000
UID_SLOTS = 32
PROBE_UID = 65534  # nobody: the bubblewrap probe runs as an unprivileged uid, like workers
_PROBE_TIMEOUT_S = 20.0
_SWEEP_TIMEOUT_S = 5.0
_SECCOMP_SCRIPT = Path(__file__).resolve().parents[1] / "sandbox" / "seccomp_filter.py"
_HOST_LINKS = ("/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")

INSTALL_HINT = "apt-get install bubblewrap python3-seccomp"


class IsolationError(OsgradeError):
    """An isolation layer that the plan promised cannot be set up (a machine problem)."""


@dataclass(frozen=True)
class IsolationPlan:
    """Which optional layers the worker uses, and why each missing one is missing.

    ``python`` is the worker's interpreter (None: the grader's own); the strong layers
    need one that an unprivileged uid can read and that lives under ``/usr``.
    """

    mode: str = "minimal"
    python: str | None = None
    uid_base: int | None = None
    bwrap: str | None = None
    bwrap_size: bool = False  # this bwrap has --size (a capped tmpfs)
    seccomp: tuple[str, str] | None = None  # (binding module, directory)
    reasons: Mapping[str, str] = field(default_factory=dict)

    @property
    def uid_drop(self) -> bool:
        return self.uid_base is not None

    @property
    def layers(self) -> dict[str, bool]:
        return {
            "uid_drop": self.uid_drop,
            "bubblewrap": self.bwrap is not None,
            "seccomp": self.seccomp is not None,
        }

    def record(self) -> dict[str, Any]:
        """Flat fields for the results file: each layer on/off, a reason for each off one."""
        out: dict[str, Any] = {"isolation_mode": self.mode, **self.layers}
        off = [name for name, on in self.layers.items() if not on]
        for name in off:
            out[f"{name}_reason"] = self.reasons.get(name, "not available")
        if off:
            out["warning"] = "reduced isolation: " + "; ".join(
                f"{name} off ({self.reasons.get(name, 'not available')})" for name in off
            )
        return out


MINIMAL = IsolationPlan(
    mode="minimal", reasons={name: "not requested (isolation mode 'minimal')" for name in LAYERS}
)


def parse_mode(mode: str) -> frozenset[str]:
    """The layers a mode asks for; ConfigError for an unknown word."""
    text = mode.strip().lower()
    if text in ("", "auto"):
        return frozenset(LAYERS)
    if text in ("minimal", "none"):
        return frozenset()
    wanted = set()
    for word in text.split(","):
        word = word.strip()
        if word not in _ALIASES:
            raise ConfigError(
                f"isolation mode {mode!r}: unknown layer {word!r}; use 'auto', 'minimal' "
                f"or a comma list of uid, bwrap, seccomp (environment variable {ISOLATION_ENV})"
            )
        wanted.add(_ALIASES[word])
    return frozenset(wanted)


def probe(mode: str | None = None) -> IsolationPlan:
    """The layers this machine supports among those ``mode`` asks for (default: the
    ``OSGRADE_ISOLATION`` environment variable, else ``auto``). Cached per mode."""
    if mode is None:
        mode = os.environ.get(ISOLATION_ENV, "") or "auto"
    wanted = parse_mode(mode)
    return _probe(wanted, mode.strip().lower() or "auto")


@functools.cache
def _probe(wanted: frozenset[str], mode: str) -> IsolationPlan:
    reasons = {
        name: f"not requested (isolation mode {mode!r})" for name in LAYERS if name not in wanted
    }
    if not wanted:
        return IsolationPlan(mode=mode, reasons=reasons)
    python, why = _system_python()
    if python is None:
        for name in wanted:
            reasons[name] = why
        return IsolationPlan(mode=mode, reasons=reasons)

    uid_base = None
    if "uid_drop" in wanted:
        why = _uid_drop_problem()
        if why:
            reasons["uid_drop"] = why
        else:
            uid_base = UID_BASE

    # The two slow checks run concurrently: each starts an interpreter.
    seccomp_proc = _start_seccomp_probe(python) if "seccomp" in wanted else None
    bwrap = bwrap_size = None
    bwrap_check: tuple[subprocess.Popen[bytes], str, bool] | None = None
    if "bubblewrap" in wanted:
        started = _start_bwrap_probe(python, as_uid=PROBE_UID if uid_base is not None else None)
        if isinstance(started, str):
            reasons["bubblewrap"] = started
        else:
            bwrap_check = started

    seccomp = None
    if seccomp_proc is not None:
        seccomp, why = _finish_seccomp_probe(seccomp_proc)
        if seccomp is None:
            reasons["seccomp"] = why
    if bwrap_check is not None:
        proc, path, has_size = bwrap_check
        why = _finish(proc, "bubblewrap")
        if why:
            reasons["bubblewrap"] = why
        else:
            bwrap, bwrap_size = path, has_size
    return IsolationPlan(
        mode=mode,
        python=python,
        uid_base=uid_base,
        bwrap=bwrap,
        bwrap_size=bool(bwrap_size),
        seccomp=seccomp,
        reasons=reasons,
    )


# --------------------------------------------------------------------------- probes


def _system_python() -> tuple[str | None, str]:
    """Debian's interpreter (readable by any uid, under /usr, where python3-seccomp lives)."""
    candidates = [SYSTEM_PYTHON]
    own = os.path.realpath(sys.executable)
    if own.startswith("/usr/") and own not in candidates:
        candidates.append(own)
    problems = []
    for path in candidates:
        try:
            st = os.stat(path)
        except OSError:
            problems.append(f"{path} does not exist")
            continue
        if not st.st_mode & stat.S_IXOTH:
            problems.append(f"{path} is not executable by other users")
            continue
        try:
            out = subprocess.run(
                [path, "-S", "-c", "import sys; print(*sys.version_info[:2])"],
                capture_output=True,
                timeout=_PROBE_TIMEOUT_S,
                env={"PATH": "/usr/bin:/bin"},
                check=True,
            )
            version = tuple(int(x) for x in out.stdout.split())
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            problems.append(f"{path} does not run ({type(exc).__name__})")
            continue
        if version < MIN_PYTHON:
            problems.append(f"{path} is Python {'.'.join(map(str, version))}, older than 3.10")
            continue
        return path, ""
    return None, "no system interpreter for the sandbox: " + "; ".join(problems)


def _uid_drop_problem() -> str:
    if not hasattr(os, "geteuid") or not sys.platform.startswith("linux"):
        return "only on Linux"
    if os.geteuid() != 0:
        return (
            "the grader is not running as root, so the worker runs with the grader's own "
            "uid (no RLIMIT_NPROC per worker, the grader's files readable)"
        )
    base = tempfile.gettempdir()
    blocked = _untraversable(base)
    if blocked:
        return f"the temp dir {base} cannot be reached by another uid ({blocked}); set TMPDIR"
    try:
        _lock_dir()
    except IsolationError as exc:
        return str(exc)
    except OSError as exc:
        return f"no directory for the uid slot locks: {exc}"
    return ""


def _untraversable(path: str) -> str:
    """The first ancestor of ``path`` that other users cannot enter, or ''."""
    p = Path(path).resolve()
    for d in [p, *p.parents]:
        try:
            mode = d.stat().st_mode
        except OSError as exc:
            return f"{d}: {exc.strerror}"
        if not mode & stat.S_IXOTH:
            return f"{d} is mode {stat.filemode(mode)}"
    return ""


def _start_seccomp_probe(python: str) -> subprocess.Popen[bytes]:
    # -s but not -S: the binding lives in dist-packages, which only site adds.
    return subprocess.Popen(
        [python, "-s", "-B", str(_SECCOMP_SCRIPT), "--probe"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )


def _finish_seccomp_probe(proc: subprocess.Popen[bytes]) -> tuple[tuple[str, str] | None, str]:
    try:
        out, err = proc.communicate(timeout=_PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return None, "the seccomp self-test did not finish"
    try:
        data = json.loads(out.decode("utf-8", "replace").strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        return None, f"the seccomp self-test failed: {tail[0]}"
    if not data.get("ok"):
        error = str(data.get("error", "unknown error"))
        if "no seccomp binding" in error:
            error += " (apt-get install python3-seccomp)"
        return None, error
    module, directory = str(data["module"]), str(data["dir"])
    if not directory.startswith("/usr/"):
        return None, f"the seccomp binding is in {directory}, outside /usr (not in the sandbox)"
    return (module, directory), ""


def _bwrap_help(path: str) -> str:
    try:
        out = subprocess.run(
            [path, "--help"], capture_output=True, timeout=_PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return (out.stdout + out.stderr).decode("utf-8", "replace")


def _start_bwrap_probe(
    python: str, as_uid: int | None
) -> str | tuple[subprocess.Popen[bytes], str, bool]:
    path = shutil.which("bwrap", path="/usr/bin:/bin:/usr/local/bin")
    if path is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    text = _bwrap_help(path)
    missing = [
        opt
        for opt in ("--unshare-all", "--die-with-parent", "--new-session", "--remount-ro")
        if opt not in text
    ]
    if missing:
        return f"{path} is too old (no {', '.join(missing)})"
    has_size = "--size" in text
    cmd = bwrap_command(
        path,
        [python, "-S", "-c", "import os; os.listdir('/proc'); os.listdir('/tmp')"],
        read_only=[],
        chdir="/",
        tmpfs_bytes=1 << 20 if has_size else None,
    )
    kwargs: dict[str, Any] = {}
    if as_uid is not None:
        kwargs = {"user": as_uid, "group": as_uid, "extra_groups": []}
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={"PATH": "/usr/bin:/bin"},
            **kwargs,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap cannot start: {exc}"
    return proc, path, has_size


def _finish(proc: subprocess.Popen[bytes], what: str) -> str:
    try:
        _, err = proc.communicate(timeout=_PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return f"the {what} self-test did not finish"
    if proc.returncode != 0:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        return f"{what} cannot start a sandbox here: {tail[0]}"
    return ""


# --------------------------------------------------------------------------- bubblewrap


def bwrap_command(
    bwrap: str,
    cmd: list[str],
    *,
    read_only: Iterable[str],
    chdir: str,
    tmpfs_bytes: int | None,
    info_fd: int | None = None,
) -> list[str]:
    """``cmd`` inside a sandbox that sees /usr, ``read_only`` (same paths) and a tmpfs /tmp."""
    out = [bwrap, "--unshare-all", "--die-with-parent", "--new-session"]
    out += ["--ro-bind", "/usr", "/usr"]
    for link in _HOST_LINKS:  # merged /usr: symlinks; otherwise read-only binds
        if os.path.islink(link):
            out += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            out += ["--ro-bind", link, link]
    if tmpfs_bytes is not None:
        out += ["--size", str(tmpfs_bytes)]
    out += ["--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]
    for path in read_only:
        out += ["--ro-bind", path, path]
    out += ["--chdir", chdir, "--remount-ro", "/"]
    if info_fd is not None:
        out += ["--info-fd", str(info_fd)]
    return [*out, "--", *cmd]


def sandbox_init_pid(info_fd: int, timeout_s: float = 1.0) -> int | None:
    """The host pid of the sandbox's init, from bwrap's ``--info-fd`` (non-blocking fd)."""
    data = b""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            chunk = os.read(info_fd, 4096)
        except BlockingIOError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            select.select([info_fd], [], [], remaining)
            continue
        data += chunk
        try:
            return int(json.loads(data)["child-pid"])
        except (ValueError, KeyError, TypeError):
            if not chunk:  # EOF before a complete record: bwrap failed early
                return None


def kill_sandbox_init(outer_pid: int, info_fd: int) -> bool:
    """SIGKILL the sandbox's init (its pid namespace dies with it, synchronously).

    Killing bwrap's outer process instead would orphan the init to the host's pid 1,
    leaving a zombie that still counts against the uid's RLIMIT_NPROC until a lazy
    init reaps it. Here the outer bwrap reaps its init and exits by itself. The pid is
    checked through a pidfd (still a child of ``outer_pid``), so a reused pid is safe.
    """
    pid = sandbox_init_pid(info_fd)
    pidfd_open = getattr(os, "pidfd_open", None)
    send = getattr(signal, "pidfd_send_signal", None)
    if pid is None or pidfd_open is None or send is None:
        return False
    try:
        fd = pidfd_open(pid)
    except OSError:
        return False
    try:
        info = _status(str(pid))
        if info is None or info[2] != outer_pid:
            return False
        with contextlib.suppress(ProcessLookupError):
            send(fd, signal.SIGKILL)
        return True
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- uid slots


def _lock_dir() -> Path:
    """A root-owned directory for the slot locks that no other uid can write."""
    base = Path("/run") if os.path.isdir("/run") else Path(tempfile.gettempdir())
    d = base / "osgrade-slots"
    with contextlib.suppress(FileExistsError):
        d.mkdir(mode=0o700)
    st = os.lstat(d)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
        raise IsolationError(
            f"{d} must be a directory owned by root and writable only by it; remove it"
        )
    return d


def _uid_taken(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        pass
    else:
        return True
    try:
        grp.getgrgid(uid)
    except KeyError:
        return False
    return True


class UidSlot:
    """One unprivileged uid (and gid of the same number), reserved with a lock file."""

    def __init__(self, uid: int, lock_fd: int) -> None:
        self.uid = uid
        self.gid = uid
        self._fd = lock_fd

    @classmethod
    def acquire(cls, base: int = UID_BASE, count: int = UID_SLOTS) -> UidSlot:
        """The free uid with the fewest processes left (zombies not yet reaped by a lazy
        init still count against RLIMIT_NPROC); its live leftovers are killed."""
        d = _lock_dir()
        uids = [uid for uid in range(base, base + count) if not _uid_taken(uid)]
        left = _count_by_uid(set(uids))
        for uid in sorted(uids, key=lambda u: (left.get(u, 0), u)):
            fd = os.open(d / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    continue
                raise
            slot = cls(uid, fd)
            slot.sweep()  # leftovers of a grader that died with this slot
            return slot
        raise IsolationError(
            f"all {count} worker uids ({base}..{base + count - 1}) are in use by other "
            "workers or have passwd entries; close some workers"
        )

    def sweep(self) -> int:
        return kill_uid(self.uid)

    def release(self, sweep: bool = True) -> None:
        if self._fd < 0:
            return
        if sweep:
            self.sweep()
        os.close(self._fd)  # releases the flock
        self._fd = -1


def _status(pid: str) -> tuple[set[int], str, int] | None:
    """(uids, state letter, ppid) from /proc/<pid>/status, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            data = f.read()
    except OSError:
        return None
    uids: set[int] = set()
    state = ""
    ppid = 0
    for line in data.splitlines():
        if line.startswith(b"Uid:"):
            uids = {int(x) for x in line.split()[1:]}
        elif line.startswith(b"State:"):
            state = line.split()[1].decode("ascii", "replace")
        elif line.startswith(b"PPid:"):
            ppid = int(line.split()[1])
    return uids, state, ppid


def processes_of(uid: int, zombies: bool = False) -> list[int]:
    """Processes whose real, effective, saved or fs uid is ``uid`` (live ones unless
    ``zombies``)."""
    return [pid for pid, state, _ in _scan(uid) if zombies or not _is_zombie(state)]


def _is_zombie(state: str) -> bool:
    return state in ("Z", "X")


def _count_by_uid(uids: set[int]) -> dict[int, int]:
    """How many processes (zombies included) each of ``uids`` has, in one /proc scan."""
    counts: dict[int, int] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return counts
    for name in entries:
        if name.isdigit() and (info := _status(name)) is not None:
            for uid in info[0] & uids:
                counts[uid] = counts.get(uid, 0) + 1
    return counts


def _scan(uid: int) -> list[tuple[int, str, int]]:
    """(pid, state, ppid) of every process with ``uid``."""
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for name in entries:
        if not name.isdigit():
            continue
        info = _status(name)
        if info is not None and uid in info[0]:
            found.append((int(name), info[1], info[2]))
    return found


def _kill_if_uid(pid: int, uid: int) -> bool:
    """SIGKILL ``pid`` if it still has ``uid``; through a pidfd, so a reused pid is safe."""
    pidfd_open = getattr(os, "pidfd_open", None)
    send = getattr(signal, "pidfd_send_signal", None)
    if pidfd_open is None or send is None:  # pragma: no cover - Python < 3.9 or not Linux
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
        return True
    try:
        fd = pidfd_open(pid)
    except ProcessLookupError:
        return False
    except OSError:  # pragma: no cover - kernel older than 5.3
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
        return True
    try:
        info = _status(str(pid))  # the pidfd pins the process: this is the same one
        if info is None or uid not in info[0]:
            return False
        with contextlib.suppress(ProcessLookupError):
            send(fd, signal.SIGKILL)
        return True
    finally:
        os.close(fd)


def kill_uid(uid: int, timeout_s: float = _SWEEP_TIMEOUT_S) -> int:
    """SIGKILL every process of ``uid``, scanning /proc until none is alive; the count killed.

    A process can fork between two scans, but a killed one cannot, and RLIMIT_NPROC
    bounds them, so the loop ends (or gives up after ``timeout_s``: a process stuck in
    the kernel). Zombies orphaned to this process (when the grader is a container's
    pid 1) are reaped; others wait for their init, and ``UidSlot.acquire`` prefers uids
    without any, since zombies count against RLIMIT_NPROC until reaped.
    """
    if uid == 0 or not os.path.isdir("/proc"):
        raise ValueError("kill_uid needs /proc and a non-root uid")
    killed: set[int] = set()
    deadline = time.monotonic() + timeout_s
    me = os.getpid()
    while True:
        found = _scan(uid)
        live = [pid for pid, state, _ in found if not _is_zombie(state)]
        if not live or time.monotonic() > deadline:
            break
        for pid in live:
            if _kill_if_uid(pid, uid):
                killed.add(pid)
        time.sleep(0.001)
    for pid, state, ppid in found:
        if _is_zombie(state) and ppid == me:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
    return len(killed)
