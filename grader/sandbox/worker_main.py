"""The worker process: runs student code on behalf of the trusted parent. STANDARD LIBRARY ONLY.

Started by ``grader.engine.worker`` as::

    python -s -S -B <rt>/grader/sandbox/worker_main.py --in FD --out FD --sub DIR --rt DIR
                                                       [--reply-max BYTES]
                                                       [--seccomp MODULE:DIR]

With ``--seccomp`` the worker loads the seccomp filter of ``seccomp_filter.py`` (binding
``MODULE`` found in ``DIR``) before any student code is imported, and exits with status 4
(a crash for the parent, with the reason in output.log) if it cannot: never silently
unfiltered.

Framing, both directions, on the private pipe fds only (never stdin/stdout/stderr):
4-byte big-endian length, then that many bytes of UTF-8 JSON.

Requests::

    {"op": "call", "id": n, "entry": "grader.simos.scheduling.harness:run",
     "module": "policies", "args": {...}}
    {"op": "ping", "id": n}

Replies::

    {"id": n, "ok": true, "value": <json>}
    {"id": n, "ok": false, "error": {"kind": K, "type": "...", "message": "...",
                                     "where": "policies.py:23 in dispatch" | null,
                                     "traceback": "..."}}

``K`` is one of ``syntax``, ``import``, ``shape``, ``exception``, ``contract``,
``protocol`` (see ``_kind``). Tracebacks keep only frames from files inside the
submission directory, shown relative to it.

Nothing here is trusted by the parent: student code runs in this process and can
change anything in it. The aim is a correct, helpful report for honest (if buggy)
code; the parent re-validates every reply.
"""

from __future__ import annotations

import contextlib
import faulthandler
import importlib
import importlib.machinery
import json
import os
import re
import signal
import sys
import traceback
from types import ModuleType, TracebackType
from typing import Any, NoReturn

ALLOWED_PREFIX = "grader.simos."
ALLOWED_EXACT = frozenset({"grader.sandbox.entries"})
MAX_REQUEST_BYTES = 256 * 1024 * 1024
DEFAULT_REPLY_MAX = 8 * 1024 * 1024
MAX_MESSAGE_CHARS = 4_000
MAX_TRACEBACK_CHARS = 20_000
MAX_CHAIN = 4

SHAPE_ERRORS = frozenset({"SubmissionShapeError"})
CONTRACT_ERRORS = frozenset(
    {"SchedulingError", "WorkloadError", "AnswerError", "PagingError", "IomuxError"}
)

_MODULE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_ENTRY_RE = re.compile(
    r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*):([A-Za-z][A-Za-z0-9_]*)\Z"
)

# Bound once, so that student code replacing them later cannot break the framing by accident.
_write = os.write
_read = os.read
_dumps = json.dumps
_loads = json.loads


class Protocol(Exception):
    """A request the worker will not serve (reported with kind "protocol")."""


# --------------------------------------------------------------------------- text helpers


def _exact_str(x: object, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``x`` as an exact ``str``, capped; never fails."""
    try:
        s = x if type(x) is str else str(x)
        s = str.__str__(s)  # an exact copy even if __str__ returned a str subclass
    except BaseException:
        s = "<the message could not be converted to text>"
    return _cap(s, limit)


def _cap(s: str, limit: int) -> str:
    if len(s) <= limit:
        return s
    head = limit // 4
    tail = limit - head
    return f"{s[:head]}\n... [{len(s) - limit} characters cut] ...\n{s[-tail:]}"


def _type_name(exc: BaseException) -> str:
    return str(type.__dict__["__qualname__"].__get__(type(exc)))


# --------------------------------------------------------------------------- the worker


class Worker:
    def __init__(self, sub: str, rt: str, reply_max: int) -> None:
        self.sub = os.path.realpath(sub)
        self.rt = os.path.realpath(rt)
        self.reply_max = reply_max
        self.modules: dict[str, ModuleType | dict[str, Any]] = {}

    # ---- paths and frames

    def rel(self, filename: str) -> str | None:
        """``filename`` relative to the submission directory, or None if outside it."""
        if not filename or filename.startswith("<"):
            return None
        prefix = self.sub + os.sep
        path = filename
        if not path.startswith(prefix) or f"{os.sep}..{os.sep}" in path:
            path = os.path.realpath(filename)
        if path.startswith(prefix):
            return path[len(prefix) :]
        return None

    def student_frames(self, tb: TracebackType | None) -> list[traceback.FrameSummary]:
        out = []
        for frame in traceback.extract_tb(tb):
            rel = self.rel(frame.filename)
            if rel is not None:
                line = frame.line
                if line is not None and len(line) > 200:
                    line = line[:200] + " ..."
                out.append(traceback.FrameSummary(rel, frame.lineno, frame.name, line=line or ""))
        return out

    # ---- error replies

    def error(self, kind: str, exc: BaseException) -> dict[str, Any]:
        try:
            return self._error(kind, exc)
        except BaseException as again:  # formatting student objects can fail in any way
            return {
                "kind": kind,
                "type": _exact_str(_safe_type_name(exc)),
                "message": "<the error could not be described: "
                f"{_safe_type_name(again)} while formatting it>",
                "where": None,
                "traceback": "",
            }

    def _error(self, kind: str, exc: BaseException) -> dict[str, Any]:
        if kind == "syntax" and isinstance(exc, SyntaxError):
            return self._syntax(exc)
        frames = self.student_frames(exc.__traceback__)
        where = None
        if frames:
            last = frames[-1]
            where = f"{last.filename}:{last.lineno} in {last.name}"
        return {
            "kind": kind,
            "type": _exact_str(_type_name(exc), 200),
            "message": _exact_str(exc),
            "where": _exact_str(where, 500) if where is not None else None,
            "traceback": _cap(self._traceback(exc, frames), MAX_TRACEBACK_CHARS),
        }

    def _traceback(self, exc: BaseException, frames: list[traceback.FrameSummary]) -> str:
        """Python's traceback format, student frames only, the exception chain included."""
        parts: list[str] = []
        seen: set[int] = set()
        current: BaseException | None = exc
        link = ""
        while current is not None and id(current) not in seen and len(seen) < MAX_CHAIN:
            seen.add(id(current))
            fs = frames if current is exc else self.student_frames(current.__traceback__)
            block = ""
            if fs:
                block = "Traceback (most recent call last):\n" + "".join(
                    traceback.StackSummary.from_list(fs).format()
                )
            block += f"{_exact_str(_type_name(current), 200)}: {_exact_str(current)}\n"
            parts.append(block + link)
            cause = current.__cause__
            if cause is not None:
                link = "\nThe above exception was the direct cause of the following exception:\n\n"
                current = cause
            elif current.__context__ is not None and not current.__suppress_context__:
                link = "\nDuring handling of the above exception, another exception occurred:\n\n"
                current = current.__context__
            else:
                current = None
        return "".join(reversed(parts))

    def _syntax(self, exc: SyntaxError) -> dict[str, Any]:
        rel = self.rel(exc.filename or "")
        lineno = exc.lineno if type(exc.lineno) is int else None
        where = f"{rel}:{lineno}" if rel is not None and lineno is not None else None
        msg = _exact_str(exc.msg)
        source = ""
        text = exc.text
        if type(text) is str and text.strip():
            line = text.rstrip("\r\n")
            stripped = line.lstrip()
            shift = len(line) - len(stripped)
            offset = exc.offset if type(exc.offset) is int else 0
            start = max(offset - 1 - shift, 0)
            end = start + 1
            end_offset = getattr(exc, "end_offset", None)
            if type(end_offset) is int and exc.end_lineno == exc.lineno and end_offset > offset:
                end = end_offset - 1 - shift
            end = max(min(end, len(stripped) + 1), start + 1)
            caret = " " * start + "^" * (end - start)
            source = f"    {_cap(stripped, 300)}\n    {caret}\n"
        location = f'  File "{rel}", line {lineno}\n' if rel is not None else ""
        type_name = _exact_str(_type_name(exc), 200)
        return {
            "kind": "syntax",
            "type": type_name,
            "message": f"{msg}\n{source}".rstrip("\n"),
            "where": where,
            "traceback": f"{location}{source}{type_name}: {msg}\n",
        }

    def classify(self, exc: BaseException) -> str:
        """``shape`` / ``contract`` for the runtime's own error classes, else ``exception``."""
        try:
            cls = type(exc)
            name = type.__dict__["__name__"].__get__(cls)
            if name not in SHAPE_ERRORS and name not in CONTRACT_ERRORS:
                return "exception"
            modname = type.__dict__["__module__"].__get__(cls)
            if type(modname) is not str or not modname.startswith("grader."):
                return "exception"
            mod = sys.modules.get(modname)
            file = getattr(mod, "__file__", None)
            if type(file) is not str or not os.path.realpath(file).startswith(self.rt + os.sep):
                return "exception"
            if getattr(mod, name, None) is not cls:
                return "exception"
            return "shape" if name in SHAPE_ERRORS else "contract"
        except BaseException:
            return "exception"

    # ---- the student module

    def student_module(self, name: str) -> ModuleType | dict[str, Any]:
        """The imported module, or the (cached) error dict explaining why it is unavailable."""
        cached = self.modules.get(name)
        if cached is not None:
            return cached
        result = self._import(name)
        self.modules[name] = result
        return result

    def _trusted_name(self, top: str) -> bool:
        """Is ``top`` a built-in, standard-library or runtime module (which would win the import)?"""
        loaded = sys.modules.get(top)
        if loaded is not None:
            file = getattr(loaded, "__file__", None)
            return not (type(file) is str and self.rel(file) is not None)
        trusted_path = [p for p in sys.path if p != self.sub]
        return (
            top in sys.builtin_module_names
            or importlib.machinery.FrozenImporter.find_spec(top) is not None
            or importlib.machinery.PathFinder.find_spec(top, trusted_path) is not None
        )

    def _import(self, name: str) -> ModuleType | dict[str, Any]:
        top = name.split(".", 1)[0]
        if self._trusted_name(top):
            return _import_error(
                "ImportError",
                f"the module name {top!r} is also a standard-library or runtime module; "
                "the submission's file cannot use it",
            )
        base = os.path.join(self.sub, *name.split("."))
        if "." not in name and not (
            os.path.isfile(base + ".py") or os.path.isfile(os.path.join(base, "__init__.py"))
        ):
            present = sorted(
                f for f in os.listdir(self.sub) if f.endswith(".py") and not f.startswith(".")
            )
            shown = ", ".join(present[:10]) + (", ..." if len(present) > 10 else "")
            return _import_error(
                "ModuleNotFoundError",
                f"{name}.py is missing from the submission (Python files found: {shown or 'none'})",
            )
        try:
            module = importlib.import_module(name)
        except SyntaxError as exc:
            return self.error("syntax", exc)
        except BaseException as exc:
            return self.error("import", exc)
        file = getattr(module, "__file__", None)
        if type(file) is not str or self.rel(file) is None:
            return _import_error(
                "ImportError", f"module {name} was not loaded from the submission directory"
            )
        return module

    # ---- requests

    def handle(self, request: object) -> dict[str, Any]:
        rid = request.get("id") if type(request) is dict else None
        rid = rid if type(rid) is int else None
        try:
            if type(request) is not dict:
                raise Protocol("the request is not a JSON object")
            op = request.get("op")
            if op == "ping":
                return {"id": rid, "ok": True, "value": "pong"}
            if op != "call":
                raise Protocol(f"unknown op {op!r}")
            return self.call(rid, request)
        except Protocol as exc:
            return {"id": rid, "ok": False, "error": _protocol_error(str(exc))}

    def call(self, rid: int | None, request: dict[str, Any]) -> dict[str, Any]:
        entry, module_name, args = request.get("entry"), request.get("module"), request.get("args")
        unknown = set(request) - {"op", "id", "entry", "module", "args"}
        if unknown:
            raise Protocol(f"unknown request fields {sorted(unknown)}")
        if type(entry) is not str or not (m := _ENTRY_RE.match(entry)):
            raise Protocol(f"entry must look like 'package.module:function', got {entry!r}")
        entry_module, entry_fn = m.group(1), m.group(2)
        if not (entry_module.startswith(ALLOWED_PREFIX) or entry_module in ALLOWED_EXACT):
            raise Protocol(f"entry {entry!r} is not allowed (only grader.simos.* and entries)")
        if (
            type(module_name) is not str
            or len(module_name) > 100
            or not _MODULE_RE.match(module_name)
        ):
            raise Protocol(f"module must be a dotted identifier, got {module_name!r}")
        if type(args) is not dict:
            raise Protocol("args must be a JSON object")
        try:
            fn = getattr(importlib.import_module(entry_module), entry_fn)
        except Exception as exc:
            raise Protocol(
                f"entry {entry!r} cannot be loaded: {type(exc).__name__}: {exc}"
            ) from None
        if not callable(fn):
            raise Protocol(f"entry {entry!r} is not callable")

        module = self.student_module(module_name)
        if type(module) is dict:
            return {"id": rid, "ok": False, "error": module}
        try:
            value = fn(module, args)
        except BaseException as exc:
            error = self.error(self.classify(exc), exc)
            return {"id": rid, "ok": False, "error": error}
        try:
            value = _plain(value)
        except BaseException as exc:
            return {
                "id": rid,
                "ok": False,
                "error": _protocol_error(f"the entry returned data that is not plain JSON: {exc}"),
            }
        return {"id": rid, "ok": True, "value": value}

    def encode(self, reply: dict[str, Any]) -> bytes:
        try:
            data = _dumps(reply, allow_nan=False, separators=(",", ":")).encode("utf-8")
        except BaseException as exc:
            reply = {
                "id": reply.get("id"),
                "ok": False,
                "error": _protocol_error(
                    f"the reply cannot be encoded as JSON: {_safe_type_name(exc)}: {_exact_str(exc, 500)}"
                ),
            }
            data = _dumps(reply, separators=(",", ":")).encode("utf-8")
        if len(data) > self.reply_max:
            reply = {
                "id": reply.get("id"),
                "ok": False,
                "error": _protocol_error(
                    f"the reply is {len(data)} bytes, more than the limit of {self.reply_max}; "
                    "the result is far too large"
                ),
            }
            data = _dumps(reply, separators=(",", ":")).encode("utf-8")
        return data


def _safe_type_name(exc: BaseException) -> str:
    try:
        return _type_name(exc)
    except BaseException:
        return "?"


def _import_error(type_name: str, message: str) -> dict[str, Any]:
    return {"kind": "import", "type": type_name, "message": message, "where": None, "traceback": ""}


def _protocol_error(message: str) -> dict[str, Any]:
    return {
        "kind": "protocol",
        "type": "ProtocolError",
        "message": _exact_str(message),
        "where": None,
        "traceback": "",
    }


def _plain(value: object) -> Any:
    from grader.sandbox.entries import plain

    return plain(value)


# --------------------------------------------------------------------------- framing


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n > 0:
        try:
            chunk = _read(fd, min(n, 1 << 20))
        except InterruptedError:  # pragma: no cover - PEP 475 retries already
            continue
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _send(fd: int, data: bytes) -> None:
    view = memoryview(len(data).to_bytes(4, "big") + data)
    while view:
        written = _write(fd, view)
        view = view[written:]


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()


def _exit(code: int) -> NoReturn:
    _flush_output()
    os._exit(code)  # student threads must not keep the process alive


def _parse_args(argv: list[str]) -> dict[str, str]:
    opts: dict[str, str] = {}
    it = iter(argv)
    for flag in it:
        if flag not in ("--in", "--out", "--sub", "--rt", "--reply-max", "--seccomp"):
            raise SystemExit(f"worker_main: unknown argument {flag!r}")
        value = next(it, None)
        if value is None:
            raise SystemExit(f"worker_main: {flag} needs a value")
        opts[flag[2:]] = value
    for needed in ("in", "out", "sub", "rt"):
        if needed not in opts:
            raise SystemExit(f"worker_main: --{needed} is required")
    return opts


def _setup_path(rt: str, sub: str) -> None:
    """[runtime] + the interpreter's standard library + [submission]: nothing can shadow stdlib.

    Drops the script's own directory (added unless -I/-P), the current directory and any
    site or user packages.
    """

    def inside(path: str, top: str) -> bool:
        return path == top or path.startswith(top + os.sep)

    stdlib = []
    for p in sys.path:
        if not p or not os.path.isabs(p) or "site-packages" in p or "dist-packages" in p:
            continue
        real = os.path.realpath(p)
        if not inside(real, rt) and not inside(real, sub):
            stdlib.append(p)
    sys.path[:] = [rt, *stdlib, sub]
    importlib.invalidate_caches()


def _install_seccomp(spec: str) -> None:
    """Load the filter; the submission's directory is off sys.path meanwhile."""
    module, _, directory = spec.partition(":")
    saved = sys.path[:]
    sys.path[:] = saved[:-1]  # _setup_path put the submission last
    try:
        from grader.sandbox import seccomp_filter

        seccomp_filter.install(seccomp_filter.load_binding(module, directory))
    except BaseException as exc:
        sys.stderr.write(
            f"[osgrade] the seccomp filter could not be installed: {type(exc).__name__}: {exc}\n"
        )
        _exit(4)
    finally:
        sys.path[:] = saved


def main(argv: list[str]) -> None:
    opts = _parse_args(argv)
    rfd, wfd = int(opts["in"]), int(opts["out"])
    reply_max = int(opts.get("reply-max", DEFAULT_REPLY_MAX))
    if hasattr(signal, "SIGXFSZ"):
        # Past RLIMIT_FSIZE a write fails with EFBIG instead of killing the process.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    faulthandler.enable()  # a hard crash leaves a Python traceback in output.log for staff
    worker = Worker(opts["sub"], opts["rt"], reply_max)
    _setup_path(worker.rt, worker.sub)
    if "seccomp" in opts:
        _install_seccomp(opts["seccomp"])
    os.chdir(worker.sub)
    while True:
        header = _read_exact(rfd, 4)
        if header is None:
            _exit(0)
        size = int.from_bytes(header, "big")
        if size > MAX_REQUEST_BYTES:
            _exit(3)  # the stream cannot be resynchronised; the parent sees a crash
        body = _read_exact(rfd, size)
        if body is None:
            _exit(0)
        try:
            request = _loads(body.decode("utf-8"))
        except ValueError as exc:
            reply: dict[str, Any] = {
                "id": None,
                "ok": False,
                "error": _protocol_error(f"the request is not JSON: {exc}"),
            }
        else:
            try:
                reply = worker.handle(request)
            except BaseException as exc:  # a bug here, or student code striking asynchronously
                reply = {
                    "id": None,
                    "ok": False,
                    "error": _protocol_error(
                        "internal worker error: "
                        + _exact_str("".join(traceback.format_exception(exc)), 10_000)
                    ),
                }
        _flush_output()
        data = worker.encode(reply)
        del reply
        try:
            _send(wfd, data)
        except OSError:
            _exit(0)  # the parent is gone


if __name__ == "__main__":
    main(sys.argv[1:])
