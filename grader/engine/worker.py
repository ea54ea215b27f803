"""The trusted side of the worker: start, feed, time out, kill and restart the sandboxed child.

Student code never runs in this process. ``Worker`` copies the submission's ``.py``
files and the standard-library-only runtime (``grader/__init__.py``, ``grader/simos``,
``grader/sandbox``) into a private temporary directory, and runs
``grader/sandbox/worker_main.py`` there in its own session (process group) under
rlimits. Requests and replies are length-prefixed JSON on two private pipes; stdout
and stderr of the child go to ``<tmp>/output.log``.

Where the machine allows (``isolation.probe``), the child also runs as a dedicated
unprivileged uid (as root), inside bubblewrap and under a seccomp filter; see
``grader/engine/isolation.py``. ``Worker.isolation`` records what ran, with a reason
and a "reduced isolation" warning for every layer that did not.

Every reply is untrusted: its length is capped (``reply_max_bytes``), it is decoded
with the standard ``json`` module (which can only build plain dicts, lists, strings,
numbers, booleans and None) and validated with a pydantic model (``extra="forbid"``)
before any field is used. A reply that breaks the protocol in any way (garbage, wrong
id, bad fields, too long) kills the worker, since the stream can no longer be trusted
to be in sync, and is reported as ``CallError(kind="protocol")``; the next call starts a
fresh worker.

Outcomes of ``Worker.call``:

- ``CallOk(value)``: plain JSON data computed by the entry point.
- ``CallError(kind, ...)``: the child reported an error (``syntax``, ``import``,
  ``shape``, ``exception``, ``contract``, ``protocol``), or the reply was unusable
  (``protocol``, including a reply longer than ``reply_max_bytes``).
- ``CallTimeout(seconds)``: no reply in time; the process group was killed.
- ``CallCrashed(returncode, signal, output_tail)``: the child died (``os._exit``, a
  signal, RLIMIT_CPU, a segfault) or closed its reply pipe.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import resource
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import OsgradeError, SubmissionError
from .isolation import IsolationPlan, UidSlot, bwrap_command, kill_sandbox_init, probe

ErrorKind = Literal["syntax", "import", "shape", "exception", "contract", "protocol"]

MAX_SUBMISSION_FILES = 200
MAX_SUBMISSION_BYTES = 5 * 1024 * 1024
MAX_REPLY_DEPTH = 100  # the worker's copier allows 64; deeper data could only come from a forger
_CRASH_GRACE_S = 1.0  # how long a child that closed its pipe gets to finish dying
_REAP_TIMEOUT_S = 5.0
_WORKER_ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
}
_GRADER_DIR = Path(__file__).resolve().parents[1]
_RUNTIME_PARTS = ("simos", "sandbox")  # plus grader/__init__.py


class SubmissionTooLarge(SubmissionError):
    """The submission holds more Python files or bytes than the worker copies."""


class WorkerStartError(OsgradeError):
    """The worker process could not be started (a machine problem, not the student's)."""


class WorkerLimits(BaseModel):
    """Resource limits of the worker process (rlimits are per process, CPU is cumulative)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    call_timeout_s: float = Field(default=10.0, gt=0, description="wall-clock seconds per call")
    memory_mb: int = Field(default=1024, ge=64, description="address space (RLIMIT_AS)")
    cpu_s: int = Field(
        default=600, ge=1, description="CPU seconds over the worker's life (RLIMIT_CPU)"
    )
    file_size_mb: int = Field(
        default=16, ge=1, description="largest file it may write (RLIMIT_FSIZE)"
    )
    open_files: int = Field(default=64, ge=16, description="open file descriptors (RLIMIT_NOFILE)")
    reply_max_bytes: int = Field(
        default=8 * 1024 * 1024, ge=1024, description="largest reply accepted"
    )
    output_max_bytes: int = Field(default=64 * 1024, ge=0, description="tail of output.log kept")
    processes: int = Field(
        default=64,
        ge=8,
        description="processes and threads of the worker's uid (RLIMIT_NPROC; uid drop only)",
    )
    tmpfs_mb: int = Field(default=64, ge=1, description="size of /tmp inside bubblewrap")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CallOk:
    value: Any  # plain JSON data only: dict, list, str, int, float, bool, None


@dataclass(frozen=True)
class CallError:
    kind: ErrorKind
    type: str
    message: str
    where: str | None = None
    traceback: str = ""


@dataclass(frozen=True)
class CallTimeout:
    seconds: float


@dataclass(frozen=True)
class CallCrashed:
    returncode: int | None
    signal: str | None  # e.g. "SIGSEGV", "SIGXCPU"; None when the child exited normally
    output_tail: str


CallResult = Union[CallOk, CallError, CallTimeout, CallCrashed]


# --------------------------------------------------------------------------- reply schema


class _ReplyError(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    kind: ErrorKind
    type: str = Field(max_length=500)
    message: str = Field(max_length=100_000)
    where: str | None = Field(max_length=1000)
    traceback: str = Field(max_length=200_000)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: int | None
    ok: bool
    value: Any = None
    error: _ReplyError | None = None

    @model_validator(mode="after")
    def _consistent(self) -> _Reply:
        if self.ok and self.error is not None:
            raise ValueError("a successful reply has no error")
        if not self.ok and (self.error is None or "value" in self.model_fields_set):
            raise ValueError("a failed reply has an error and no value")
        return self


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _decode_reply(body: bytes) -> _Reply:
    """Decode and validate; raises ValueError (incl. ValidationError) on anything unexpected."""
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except RecursionError as exc:
        raise ValueError("the reply is nested too deeply") from exc
    if type(data) is not dict:
        raise ValueError("the reply is not a JSON object")
    reply = _Reply.model_validate(data)
    # The depth is at most the number of opening brackets: walk only when that could exceed it.
    openings = body.count(b"[") + body.count(b"{")
    if openings > MAX_REPLY_DEPTH and _nesting_exceeds(reply.value, MAX_REPLY_DEPTH):
        raise ValueError(f"the reply value is nested more than {MAX_REPLY_DEPTH} levels deep")
    return reply


def _nesting_exceeds(value: Any, limit: int) -> bool:
    """Is this decoded JSON nested deeper than ``limit``? Iterative: no recursion in the parent."""
    if type(value) is not list and type(value) is not dict:
        return False
    level: list[Any] = [value]
    depth = 1
    while level:
        if depth > limit:
            return True
        below: list[Any] = []
        for c in level:
            items = c.values() if type(c) is dict else c
            below += [x for x in items if type(x) is list or type(x) is dict]
        level = below
        depth += 1
    return False


# --------------------------------------------------------------------------- launch layers


@dataclass(frozen=True)
class LaunchLayer:
    """An extra layer that wraps the worker command (a container runtime, a profiler, ...).

    ``wrap`` receives the command built so far (bubblewrap included, when the plan has
    it) and returns the command to run; layers apply in order, so the last one is
    outermost. ``name`` is recorded as ``isolation[name] = True``.
    """

    name: str
    wrap: Callable[[list[str]], list[str]]


def _rlimit_plan(limits: WorkerLimits, nproc: bool = False) -> list[tuple[int, int, int]]:
    """(resource, soft, hard) to apply in the child, computed before forking.

    RLIMIT_NPROC only with a dedicated uid: root ignores it, and for a shared uid it would
    count the user's other processes.
    """
    mb = 1024 * 1024
    wanted = [
        (resource.RLIMIT_AS, limits.memory_mb * mb, limits.memory_mb * mb),
        # SIGXCPU at the soft limit, SIGKILL one second later if it is ignored.
        (resource.RLIMIT_CPU, limits.cpu_s, limits.cpu_s + 1),
        (resource.RLIMIT_FSIZE, limits.file_size_mb * mb, limits.file_size_mb * mb),
        (resource.RLIMIT_NOFILE, limits.open_files, limits.open_files),
        (resource.RLIMIT_CORE, 0, 0),
    ]
    if nproc:
        wanted.append((resource.RLIMIT_NPROC, limits.processes, limits.processes))
    plan = []
    for res, soft, hard in wanted:
        _, cur_hard = resource.getrlimit(res)
        if cur_hard != resource.RLIM_INFINITY:
            hard = min(hard, cur_hard)
            soft = min(soft, hard)
        plan.append((res, soft, hard))
    return plan


_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    """libc's prctl on Linux (for PR_SET_PDEATHSIG), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - unusual libc
        return None
    return prctl


_PRCTL = _load_prctl()


def _make_preexec(plan: list[tuple[int, int, int]]) -> Callable[[], None]:
    parent = os.getpid()
    prctl = _PRCTL

    def preexec() -> None:  # runs in the child between fork and exec: keep it minimal
        if prctl is not None:
            # If the grader dies (even by SIGKILL), the kernel kills the worker: a worker
            # stuck in student code would otherwise outlive it in its own session.
            prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
            if os.getppid() != parent:  # the grader died before prctl took effect
                os.kill(os.getpid(), signal.SIGKILL)
        for res, soft, hard in plan:
            resource.setrlimit(res, (soft, hard))

    return preexec


# --------------------------------------------------------------------------- file copies


def _copy_submission(src: Path, dest: Path) -> int:
    """Copy every regular ``.py`` file (no symlinks, no dot-dirs, no __pycache__); count them."""
    count = 0
    total = 0
    dest.mkdir()
    for root, dirs, files in os.walk(src, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        rel = Path(root).relative_to(src)
        for name in sorted(files):
            if not name.endswith(".py") or name.startswith("."):
                continue
            path = Path(root) / name
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode):
                continue
            count += 1
            total += st.st_size
            if count > MAX_SUBMISSION_FILES:
                raise SubmissionTooLarge(
                    f"submission {src} has more than {MAX_SUBMISSION_FILES} Python files; "
                    "submit only the files the assignment asks for"
                )
            if total > MAX_SUBMISSION_BYTES:
                raise SubmissionTooLarge(
                    f"the Python files of submission {src} exceed "
                    f"{MAX_SUBMISSION_BYTES // (1024 * 1024)} MB; submit only your source files"
                )
            target = dest / rel / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target, follow_symlinks=False)
    return count


def _share_read_only(top: Path) -> None:
    """Make a root-owned tree readable, not writable, by the worker's uid."""
    os.chmod(top, 0o755)
    for root, dirs, files in os.walk(top, followlinks=False):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755, follow_symlinks=False)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644, follow_symlinks=False)


def _copy_runtime(dest: Path) -> None:
    """The stdlib-only part of ``grader`` that the worker imports, as ``dest/grader``."""
    pkg = dest / "grader"
    pkg.mkdir(parents=True)
    shutil.copyfile(_GRADER_DIR / "__init__.py", pkg / "__init__.py")
    for part in _RUNTIME_PARTS:
        base = _GRADER_DIR / part
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(_GRADER_DIR)
            if "__pycache__" in rel.parts or path.is_symlink():
                continue
            target = pkg / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


# --------------------------------------------------------------------------- the worker


class _Timeout(Exception):
    pass


class _Closed(Exception):
    pass


def _cleanup(
    tmp: Path, proc_box: list[subprocess.Popen[bytes] | None], slot_box: list[UidSlot | None]
) -> None:
    """Finalizer: kill a leftover child and every process of the worker's uid, remove the
    temp dir, give the uid back (close() does it normally)."""
    proc = proc_box[0]
    if proc is not None:
        _kill_group(proc)
    slot = slot_box[0]
    slot_box[0] = None
    if slot is not None:
        slot.sweep()
    _remove_tree(tmp)
    if slot is not None:
        slot.release(sweep=False)


def _remove_tree(path: Path) -> None:
    """rmtree that survives directories the student made unwritable (chmod 0) when not root."""
    shutil.rmtree(path, ignore_errors=True)
    if not os.path.lexists(path):
        return
    for root, dirs, _ in os.walk(path, followlinks=False):
        for d in dirs:
            full = os.path.join(root, d)
            if not os.path.islink(full):
                with contextlib.suppress(OSError):
                    os.chmod(full, 0o700)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)
    shutil.rmtree(path, ignore_errors=True)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the child's whole process group, then reap the child.

    The group is killed before the leader is reaped: until then its pid (= the group id)
    cannot be reused, so killpg never hits an unrelated process.
    """
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):  # stuck in the kernel: give up
            proc.wait(timeout=_REAP_TIMEOUT_S)


def _has_exited(proc: subprocess.Popen[bytes]) -> bool:
    """Has the child exited? Where possible leaves it a zombie, so its group id stays reserved."""
    if proc.returncode is not None:
        return True
    if not hasattr(os, "waitid"):  # pragma: no cover - macOS before Python 3.13
        return proc.poll() is not None
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # pragma: no cover - already reaped elsewhere
        return True


class Worker:
    """A sandboxed worker process for one submission; use as a context manager.

    The submission's ``.py`` files are copied at construction (``SubmissionTooLarge`` if
    there are too many); the process starts on the first call and again after a timeout,
    a crash or a protocol error.

    Not thread-safe; use one Worker from one thread. On Linux the child gets SIGKILL when
    the thread that started it exits (PR_SET_PDEATHSIG), so do not start it from a
    short-lived thread.
    """

    def __init__(
        self,
        submission_dir: Path,
        limits: WorkerLimits | None = None,
        *,
        layers: Sequence[LaunchLayer] = (),
        python: str | None = None,
        plan: IsolationPlan | None = None,
        isolation: str | None = None,
    ) -> None:
        # plan=None: probe the machine, asking for ``isolation`` ("auto", "minimal", or a
        # comma list of uid, bwrap, seccomp; default: $OSGRADE_ISOLATION, else auto).
        self.plan = plan if plan is not None else probe(isolation)
        self.limits = limits if limits is not None else WorkerLimits()
        self.layers = tuple(layers)
        self.python = python or self.plan.python or sys.executable
        self.starts = 0
        self.uid: int | None = None
        self._proc_box: list[subprocess.Popen[bytes] | None] = [None]
        self._slot_box: list[UidSlot | None] = [None]
        self._to_child = -1
        self._from_child = -1
        self._info_fd = -1  # bwrap's --info-fd: the sandbox init's pid
        self._next_id = 0
        self._closed = False
        self.tmp = Path(tempfile.mkdtemp(prefix="osgrade-")).resolve()
        self._finalizer = weakref.finalize(self, _cleanup, self.tmp, self._proc_box, self._slot_box)
        self._env = dict(_WORKER_ENV)
        try:
            self.sub_dir = self.tmp / "sub"
            self.rt_dir = self.tmp / "rt"
            self.files_copied = _copy_submission(Path(submission_dir), self.sub_dir)
            _copy_runtime(self.rt_dir)
            if self.plan.uid_base is not None:
                self._take_uid(self.plan.uid_base)
            if self.plan.bwrap is not None:
                self._env["TMPDIR"] = "/tmp"  # the sandbox's own size-capped tmpfs
        except BaseException:
            self._finalizer()
            raise
        self.log_path = self.tmp / "output.log"
        self.log_path.touch()
        self._rlimits = _rlimit_plan(self.limits, nproc=self.uid is not None)

    def _take_uid(self, base: int) -> None:
        """Reserve a uid; the temp dir becomes traversable, rt/ and sub/ read-only to it."""
        slot = UidSlot.acquire(base)
        self._slot_box[0] = slot
        self.uid = slot.uid
        os.chmod(self.tmp, 0o711)  # enter, not list; output.log stays root's (0600)
        _share_read_only(self.rt_dir)
        _share_read_only(self.sub_dir)
        if self.plan.bwrap is None:  # without a sandbox tmpfs: a private scratch dir
            scratch = self.tmp / "scratch"
            scratch.mkdir(mode=0o700)
            os.chown(scratch, slot.uid, slot.gid)
            self._env["TMPDIR"] = str(scratch)

    # ---- context manager

    def __enter__(self) -> Worker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---- public API

    @property
    def isolation(self) -> dict[str, Any]:
        """The isolation layers in use, for the results file."""
        layers: dict[str, Any] = {
            "process_group": True,
            "rlimits": True,
            "private_dir": True,
            "parent_death_signal": _PRCTL is not None,
            **self.plan.record(),
        }
        if self.uid is not None:
            layers["uid"] = self.uid
            layers["max_processes"] = self.limits.processes
        for layer in self.layers:
            layers[layer.name] = True
        return layers

    @property
    def running(self) -> bool:
        return self._proc is not None

    def call(
        self, entry: str, module: str, args: dict[str, Any], timeout: float | None = None
    ) -> CallResult:
        """Run ``entry(<student module>, args)`` in the worker; never raises for student faults."""
        return self._request(
            {"op": "call", "entry": entry, "module": module, "args": args}, timeout
        )

    def ping(self, timeout: float | None = None) -> CallResult:
        """A round trip that runs no student code (``CallOk("pong")``)."""
        return self._request({"op": "ping"}, timeout)

    def start(self) -> None:
        """Start the child now if it is not running (calls do this lazily)."""
        self._check_open()
        if self._proc is None:
            self._spawn()

    def kill(self) -> None:
        """Kill the child's process group (the next call starts a new one)."""
        proc = self._proc
        self._proc_box[0] = None
        info, self._info_fd = self._info_fd, -1
        # Before closing the pipes: a worker that exits on EOF makes bwrap's outer process
        # exit without reaping the sandbox's init, which then waits for the host's init.
        if (
            proc is not None
            and info >= 0
            and not _has_exited(proc)
            and kill_sandbox_init(proc.pid, info)
        ):
            # the outer bwrap reaps the dead init and exits; the group kill is a fallback
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=_REAP_TIMEOUT_S)
        for fd in (self._to_child, self._from_child):
            if fd >= 0:
                os.close(fd)
        self._to_child = self._from_child = -1
        if proc is not None:
            _kill_group(proc)
            slot = self._slot_box[0]
            if slot is not None:  # escaped children, daemons, a fork bomb's survivors
                slot.sweep()
        if info >= 0:
            os.close(info)

    def close(self) -> None:
        """Kill the child, reap it and remove the temporary directory. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.kill()
        self._finalizer()

    def output_tail(self) -> str:
        """The last ``output_max_bytes`` of what the child printed (stdout and stderr)."""
        n = self.limits.output_max_bytes
        if n == 0:
            return ""
        try:
            with open(self.log_path, "rb") as f:
                size = f.seek(0, os.SEEK_END)
                f.seek(max(0, size - n))
                data = f.read(n)
        except OSError:
            return ""
        return data.decode("utf-8", errors="replace")

    # ---- process management

    @property
    def _proc(self) -> subprocess.Popen[bytes] | None:
        return self._proc_box[0]

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this Worker is closed")

    def command(self, in_fd: int, out_fd: int, info_fd: int | None = None) -> list[str]:
        """The command line of the child, wrapped by the launch layers."""
        # Not -I: it implies -E, which ignores PYTHONHASHSEED, and the worker would hash
        # strings with a random seed (set iteration order would change between regrades).
        # The environment is entirely ours (_WORKER_ENV), so -E protects nothing here; -s
        # and -S keep user and site packages out, and worker_main rebuilds sys.path.
        cmd = [
            self.python,
            "-s",
            "-S",
            "-B",
            str(self.rt_dir / "grader" / "sandbox" / "worker_main.py"),
            "--in",
            str(in_fd),
            "--out",
            str(out_fd),
            "--sub",
            str(self.sub_dir),
            "--rt",
            str(self.rt_dir),
            "--reply-max",
            str(self.limits.reply_max_bytes),
        ]
        if self.plan.seccomp is not None:
            module, directory = self.plan.seccomp
            cmd += ["--seccomp", f"{module}:{directory}"]
        if self.plan.bwrap is not None:
            cmd = bwrap_command(
                self.plan.bwrap,
                cmd,
                read_only=[str(self.rt_dir), str(self.sub_dir)],
                chdir=str(self.sub_dir),
                tmpfs_bytes=self.limits.tmpfs_mb * 1024 * 1024 if self.plan.bwrap_size else None,
                info_fd=info_fd,
            )
        for layer in self.layers:
            cmd = layer.wrap(cmd)
        return cmd

    def _trim_log(self) -> None:
        """Keep output.log small across restarts (RLIMIT_FSIZE applies to it too)."""
        keep = self.limits.output_max_bytes
        with contextlib.suppress(OSError):
            if self.log_path.stat().st_size > max(4 * keep, 1024 * 1024):
                tail = self.output_tail().encode("utf-8", errors="replace")[-keep:] if keep else b""
                self.log_path.write_bytes(tail)

    def _spawn(self) -> None:
        self._trim_log()
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        fds = [req_r, rep_w]
        info_r = info_w = -1
        if self.plan.bwrap is not None:
            info_r, info_w = os.pipe()
            fds.append(info_w)
        slot = self._slot_box[0]
        ids: dict[str, Any] = {}
        if slot is not None:  # applied before preexec_fn, so PDEATHSIG survives it
            ids = {"user": slot.uid, "group": slot.gid, "extra_groups": []}
        try:
            with open(self.log_path, "ab") as log:
                proc = subprocess.Popen(
                    self.command(req_r, rep_w, info_w if info_w >= 0 else None),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    cwd=self.sub_dir,
                    env=dict(self._env),
                    close_fds=True,
                    pass_fds=tuple(fds),
                    start_new_session=True,
                    preexec_fn=_make_preexec(self._rlimits),
                    **ids,
                )
        except (OSError, subprocess.SubprocessError) as exc:
            for fd in (req_r, req_w, rep_r, rep_w, info_r, info_w):
                if fd >= 0:
                    os.close(fd)
            raise WorkerStartError(f"cannot start the worker ({self.python}): {exc}") from exc
        os.close(req_r)
        os.close(rep_w)
        if info_w >= 0:
            os.close(info_w)
            os.set_blocking(info_r, False)
            self._info_fd = info_r
        os.set_blocking(req_w, False)
        os.set_blocking(rep_r, False)
        self._proc_box[0] = proc
        self._to_child, self._from_child = req_w, rep_r
        self.starts += 1

    # ---- one request

    def _request(self, message: dict[str, Any], timeout: float | None) -> CallResult:
        self._check_open()
        seconds = self.limits.call_timeout_s if timeout is None else float(timeout)
        self._next_id += 1
        rid = self._next_id
        payload = json.dumps({**message, "id": rid}, allow_nan=False, separators=(",", ":")).encode(
            "utf-8"
        )
        if self._proc is None:
            self._spawn()
        deadline = time.monotonic() + seconds
        try:
            self._send(len(payload).to_bytes(4, "big") + payload, deadline)
            size = int.from_bytes(self._recv(4, deadline), "big")
            if size > self.limits.reply_max_bytes:
                self.kill()
                return CallError(
                    "protocol",
                    "ReplyTooLarge",
                    f"the worker announced a reply of {size} bytes, more than the limit of "
                    f"{self.limits.reply_max_bytes}; the worker was stopped",
                )
            body = self._recv(size, deadline)
        except _Timeout:
            self.kill()
            return CallTimeout(seconds)
        except _Closed:
            return self._crashed()
        try:
            reply = _decode_reply(body)
            if reply.id != rid:
                raise ValueError(f"the reply answers request {reply.id}, not {rid}")
        except (ValueError, ValidationError) as exc:
            self.kill()
            return CallError(
                "protocol",
                "ProtocolError",
                f"the worker sent an invalid reply ({_short(exc)}); the worker was stopped",
            )
        if reply.ok:
            return CallOk(reply.value)
        err = reply.error
        assert err is not None  # checked by _Reply
        return CallError(err.kind, err.type, err.message, err.where, err.traceback)

    def _wait_fd(self, fd: int, events: int, deadline: float) -> None:
        poller = select.poll()
        poller.register(fd, events)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout
            if poller.poll(max(1, int(remaining * 1000) + 1)):
                return

    def _send(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._to_child, view)
            except BlockingIOError:
                self._wait_fd(self._to_child, select.POLLOUT, deadline)
                continue
            except OSError as exc:  # EPIPE: the child is gone
                if exc.errno in (errno.EPIPE, errno.EBADF):
                    raise _Closed from exc
                raise
            view = view[written:]

    def _recv(self, n: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        while n > 0:
            try:
                chunk = os.read(self._from_child, min(n, 1 << 20))
            except BlockingIOError:
                self._wait_fd(self._from_child, select.POLLIN, deadline)
                continue
            if not chunk:
                raise _Closed
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _crashed(self) -> CallResult:
        """The reply pipe closed: wait briefly for the child to die, then report how it died."""
        proc = self._proc
        note = ""
        if proc is not None:
            end = time.monotonic() + _CRASH_GRACE_S
            while not _has_exited(proc) and time.monotonic() < end:
                time.sleep(0.002)
            if not _has_exited(proc):
                note = (
                    "\n[osgrade] the worker closed its reply pipe but kept running; it was killed\n"
                )
        self.kill()
        rc = proc.returncode if proc is not None else None
        if rc is not None and rc > 128 and self.plan.bwrap is not None:
            rc = 128 - rc  # bwrap exits with 128 + n when the worker died of signal n
        sig = None
        if rc is not None and rc < 0:
            try:
                sig = signal.Signals(-rc).name
            except ValueError:
                sig = f"signal {-rc}"
        return CallCrashed(rc, sig, self.output_tail() + note)


def _short(exc: BaseException) -> str:
    text = str(exc).replace("\n", " ")
    return text if len(text) <= 300 else text[:300] + "..."
