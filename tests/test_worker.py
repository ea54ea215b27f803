"""The worker subprocess (the trust boundary), exercised through the real child process.

Submissions are tiny files written to tmp_path. Hostile ones attack the protocol
directly: student code can read the private pipe fds from ``sys.argv``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.engine.worker import (
    CallCrashed,
    CallError,
    CallOk,
    CallTimeout,
    LaunchLayer,
    SubmissionTooLarge,
    Worker,
    WorkerLimits,
    _decode_reply,
)
from grader.sandbox.entries import plain

RUN = "grader.simos.scheduling.harness:run"
CALL = "grader.sandbox.entries:call"

FCFS = """
from grader.simos.scheduling import Scheduler


class FCFS(Scheduler):
    def __init__(self):
        self.queue = []

    def ready(self, job, now, reason):
        self.queue.append(job.id)

    def dispatch(self, now):
        return self.queue.pop(0) if self.queue else None
"""

JOBS = [
    {"id": 1, "arrival": 0, "bursts": [3]},
    {"id": 2, "arrival": 1, "bursts": [2]},
]

# Student code that finds the worker's reply fd (it is on the command line).
OUT_FD = """
import os, sys
OUT = int(sys.argv[sys.argv.index("--out") + 1])
"""


def submission(tmp_path: Path, files: dict[str, str]) -> Path:
    d = tmp_path / "submission"
    for name, text in files.items():
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return d


@pytest.fixture
def make_worker(tmp_path: Path) -> Iterator[Any]:
    workers: list[Worker] = []

    def make(files: dict[str, str], isolation: str | None = None, **limits: Any) -> Worker:
        limits.setdefault("call_timeout_s", 5.0)
        w = Worker(submission(tmp_path, files), WorkerLimits(**limits), isolation=isolation)
        workers.append(w)
        return w

    yield make
    for w in workers:
        w.close()


def fn(w: Worker, name: str, *args: Any, module: str = "policies", **kw: Any) -> Any:
    return w.call(CALL, module, {"function": name, "args": list(args)}, **kw)


# --------------------------------------------------------------------------- normal use


def test_correct_policy_returns_trace_data(make_worker: Any) -> None:
    w = make_worker({"policies.py": FCFS})
    r = w.call(RUN, "policies", {"policy": "FCFS", "jobs": JOBS})
    assert r == CallOk({"switch_cost": 0, "segments": [[0, 3, 1, "run"], [3, 5, 2, "run"]]})
    assert w.ping() == CallOk("pong")
    assert w.starts == 1


def test_entries_call_returns_plain_data(make_worker: Any) -> None:
    w = make_worker(
        {
            "policies.py": """
            def pair(a, b=0):
                return (a, {"b": [b, 1.5, None, True]})
            """
        }
    )
    r = w.call(CALL, "policies", {"function": "pair", "args": [1], "kwargs": {"b": "x"}})
    assert r == CallOk([1, {"b": ["x", 1.5, None, True]}])


def test_student_module_named_json_does_not_break_worker(make_worker: Any) -> None:
    w = make_worker(
        {
            "json.py": "raise RuntimeError('student json.py must never be imported')\n",
            "grader/__init__.py": "raise RuntimeError('student grader/ must never be imported')\n",
            "policies.py": "import json\n\ndef f():\n    return json.dumps([1])\n",
        }
    )
    assert fn(w, "f") == CallOk("[1]")


# --------------------------------------------------------------------------- error kinds


def test_syntax_error_reports_line_and_caret(make_worker: Any) -> None:
    w = make_worker({"policies.py": "x = 1\n\ndef f(:\n    pass\n"})
    r = fn(w, "f")
    assert isinstance(r, CallError)
    assert r.kind == "syntax"
    assert r.where == "policies.py:3"
    assert "def f(:" in r.message and "^" in r.message
    # the failed import is cached and reported again
    again = fn(w, "f")
    assert isinstance(again, CallError) and again.kind == "syntax"


def test_missing_module_is_import_error(make_worker: Any) -> None:
    w = make_worker({"other.py": "x = 1\n"})
    r = fn(w, "f")
    assert isinstance(r, CallError) and r.kind == "import"
    assert "policies.py" in r.message and "other.py" in r.message


def test_import_time_exception_is_cached(make_worker: Any) -> None:
    w = make_worker({"policies.py": "print('importing')\nimport numpy_not_installed\n"})
    for _ in range(2):
        r = fn(w, "f")
        assert isinstance(r, CallError) and r.kind == "import"
        assert r.type == "ModuleNotFoundError"
        assert r.where == "policies.py:2 in <module>"
    assert w.output_tail().count("importing") == 1


def test_exception_points_to_student_line_without_grader_frames(make_worker: Any) -> None:
    w = make_worker(
        {
            "policies.py": """
            from helper import half

            def f(x):
                return half(x)
            """,
            "helper.py": "def half(x):\n    return 1 / x\n",
        }
    )
    r = fn(w, "f", 0)
    assert isinstance(r, CallError)
    assert (r.kind, r.type) == ("exception", "ZeroDivisionError")
    assert r.where == "helper.py:2 in half"
    assert 'File "policies.py", line 5, in f' in r.traceback
    assert "grader" not in r.traceback and "worker_main" not in r.traceback
    assert str(w.tmp) not in r.traceback


@pytest.mark.parametrize(
    "stmt", ["raise SystemExit(3)", "raise KeyboardInterrupt", "import sys; sys.exit(0)"]
)
def test_base_exceptions_are_reported_not_fatal(make_worker: Any, stmt: str) -> None:
    w = make_worker({"policies.py": f"def f():\n    {stmt}\n\ndef g():\n    return 1\n"})
    r = fn(w, "f")
    assert isinstance(r, CallError) and r.kind == "exception"
    assert fn(w, "g") == CallOk(1)
    assert w.starts == 1


def test_shape_and_contract_errors(make_worker: Any) -> None:
    bad = FCFS + "\nclass Liar(FCFS):\n    def dispatch(self, now):\n        return 99\n"
    w = make_worker({"policies.py": bad})
    r = w.call(RUN, "policies", {"policy": "SJF", "jobs": JOBS})
    assert isinstance(r, CallError) and r.kind == "shape" and "SJF" in r.message
    r = w.call(RUN, "policies", {"policy": "Liar", "jobs": JOBS})
    assert isinstance(r, CallError) and r.kind == "contract" and r.type == "SchedulingError"
    r = fn(w, "nothing_here")
    assert isinstance(r, CallError) and r.kind == "shape"


def test_student_cannot_spoof_runtime_error_classes(make_worker: Any) -> None:
    w = make_worker(
        {
            "policies.py": "class SchedulingError(Exception):\n    pass\n\ndef f():\n"
            "    raise SchedulingError('x')\n"
        }
    )
    r = fn(w, "f")
    assert isinstance(r, CallError) and r.kind == "exception"


def test_entry_outside_allow_list_is_protocol_error(make_worker: Any) -> None:
    w = make_worker({"policies.py": "x = 1\n"})
    for entry in (
        "os:system",
        "grader.engine.grade:grade",
        "grader.sandbox.worker_main:main",
        "grader.simos.scheduling.harness:_private",
        "nonsense",
    ):
        r = w.call(entry, "policies", {})
        assert isinstance(r, CallError) and r.kind == "protocol", entry


def test_hostile_return_values_never_reach_the_parent(make_worker: Any) -> None:
    w = make_worker(
        {
            "policies.py": """
            class Int(int):
                def __eq__(self, other):
                    return True
                __hash__ = int.__hash__

            class Obj:
                pass

            def sub():
                return [1, Int(3)]

            def obj():
                return {"a": Obj()}

            def key():
                return {1: 2}

            def nan():
                return float("nan")

            def cycle():
                x = []
                x.append(x)
                return x
            """
        }
    )
    for name, needle in [("sub", "Int (a subclass of int"), ("obj", "Obj"), ("key", "key")]:
        r = fn(w, name)
        assert isinstance(r, CallError) and r.type == "TypeError", name
        assert needle in r.message, r.message
    for name in ("nan", "cycle"):
        r = fn(w, name)
        assert isinstance(r, CallError) and r.type == "ValueError", name


def test_plain_copier_in_process() -> None:
    assert plain({"a": (1, [2.0, None, False])}) == {"a": [1, [2.0, None, False]]}
    for bad in [type("S", (str,), {})("x"), type("I", (int,), {})(1), {("t",): 1}, {1}, b"x"]:
        with pytest.raises(TypeError):
            plain(bad)
    with pytest.raises(ValueError):
        plain(2**5000)


# --------------------------------------------------------------------------- killing and restart


def test_os_exit_is_a_crash_and_worker_restarts(make_worker: Any) -> None:
    w = make_worker(
        {
            "policies.py": "import os\n\ndef die():\n    print('bye', flush=True)\n"
            "    os._exit(0)\n\ndef ok():\n    return 'ok'\n"
        }
    )
    r = fn(w, "die")
    assert isinstance(r, CallCrashed)
    assert (r.returncode, r.signal) == (0, None)
    assert "bye" in r.output_tail
    assert fn(w, "ok") == CallOk("ok")
    assert w.starts == 2


def test_infinite_loop_times_out_and_worker_restarts(make_worker: Any) -> None:
    w = make_worker(
        {"policies.py": "def spin():\n    while True:\n        pass\n\ndef ok():\n    return 1\n"}
    )
    t = time.monotonic()
    r = fn(w, "spin", timeout=0.5)
    assert r == CallTimeout(0.5)
    assert time.monotonic() - t < 1.5
    assert fn(w, "ok") == CallOk(1)


def test_memory_bomb_is_contained(make_worker: Any) -> None:
    w = make_worker(
        {
            "policies.py": "def bomb():\n    b = bytearray(4 * 1024**3)\n    return len(b)\n\n"
            "def ok():\n    return 1\n"
        },
        memory_mb=256,
    )
    r = fn(w, "bomb")
    assert isinstance(r, (CallError, CallCrashed)), r
    if isinstance(r, CallError):
        assert r.type == "MemoryError"
    assert fn(w, "ok") == CallOk(1)


def test_print_spam_goes_to_output_log(make_worker: Any) -> None:
    w = make_worker(
        {
            "policies.py": "import sys\n\ndef spam():\n    for i in range(20000):\n"
            "        print('spam', i)\n        print('err', i, file=sys.stderr)\n    return 7\n"
        },
        output_max_bytes=1024,
    )
    assert fn(w, "spam") == CallOk(7)
    tail = w.output_tail()
    assert "spam 19999" in tail and len(tail.encode()) <= 1024
    assert (w.tmp / "output.log").stat().st_size > 100_000


def test_file_size_limit_fails_the_write_not_the_worker(make_worker: Any) -> None:
    w = make_worker(
        {
            "policies.py": "import os, tempfile\n\ndef big():\n"
            "    with open(os.path.join(tempfile.gettempdir(), 'big.bin'), 'wb') as f:\n"
            "        f.write(b'x' * (3 * 1024 * 1024))\n"
        },
        file_size_mb=1,
    )
    r = fn(w, "big")
    assert isinstance(r, CallError) and r.type == "OSError", r
    assert "File too large" in r.message, r  # EFBIG, whatever the isolation layers
    assert w.ping() == CallOk("pong")


# --------------------------------------------------------------------------- hostile protocol


@pytest.mark.parametrize(
    ("body", "expect"),
    [
        ("os.write(OUT, b'\\x00\\x00\\x00\\x05garbage')", "invalid reply"),
        ("os.write(OUT, b'\\xff\\xff\\xff\\xff')", "more than the limit"),
        (
            'body = b\'{"id": 999, "ok": true, "value": 1}\'\n'
            "    os.write(OUT, len(body).to_bytes(4, 'big') + body)",
            "not 1",
        ),
        (
            'body = b\'{"id": 1, "ok": true, "value": 1, "extra": 2}\'\n'
            "    os.write(OUT, len(body).to_bytes(4, 'big') + body)",
            "invalid reply",
        ),
    ],
)
def test_garbage_on_the_pipe_is_a_protocol_error(make_worker: Any, body: str, expect: str) -> None:
    src = OUT_FD + f"\ndef f():\n    {body}\n    import time\n    time.sleep(30)\n\n"
    src += "def ok():\n    return 1\n"
    w = make_worker({"policies.py": src})
    t = time.monotonic()
    r = fn(w, "f")
    assert isinstance(r, CallError) and r.kind == "protocol", r
    assert expect in r.message
    assert time.monotonic() - t < 2
    assert fn(w, "ok") == CallOk(1)


def test_child_closing_its_pipe_and_hanging_is_a_crash(make_worker: Any) -> None:
    src = OUT_FD + "\ndef f():\n    os.close(OUT)\n    import time\n    time.sleep(30)\n"
    src += "\ndef ok():\n    return 1\n"
    w = make_worker({"policies.py": src})
    t = time.monotonic()
    r = fn(w, "f")
    assert isinstance(r, CallCrashed) and "kept running" in r.output_tail
    assert time.monotonic() - t < 3
    assert fn(w, "ok") == CallOk(1)


def test_child_not_reading_requests_times_out(make_worker: Any) -> None:
    # The student answers request 1 itself, then blocks the worker's main thread: the
    # 1 MiB request of the second call cannot even be written (the pipe buffer fills up).
    src = (
        OUT_FD
        + """
def f(*args):
    body = b'{"id": 1, "ok": true, "value": "early"}'
    os.write(OUT, len(body).to_bytes(4, "big") + body)
    import time
    time.sleep(30)
"""
    )
    w = make_worker({"policies.py": src})
    assert fn(w, "f") == CallOk("early")
    t = time.monotonic()
    r = fn(w, "f", "x" * (1 << 20), timeout=0.3)
    assert r == CallTimeout(0.3)
    assert time.monotonic() - t < 1.3


@pytest.mark.parametrize(
    "reply",
    [
        b"[]",
        b'{"id": true, "ok": true, "value": 1}',
        b'{"id": 1, "ok": "yes", "value": 1}',
        b'{"id": 1, "ok": true, "value": NaN}',
        b'{"id": 1, "ok": false, "value": 1}',
        b'{"id": 1, "ok": false, "error": {"kind": "weird", "type": "X", "message": "",'
        b' "where": null, "traceback": ""}}',
        b'{"id": 1, "ok": false, "error": {"kind": "exception", "type": "X", "message": 1,'
        b' "where": null, "traceback": ""}}',
        b"[" * 100_000,
        b'{"id": 1, "ok": true, "value": ' + b"[" * 200 + b"]" * 200 + b"}",
        b"\xff\xfe",
    ],
)
def test_malformed_replies_are_rejected(reply: bytes) -> None:
    with pytest.raises(ValueError):
        _decode_reply(reply)


# --------------------------------------------------------------------------- files


def test_only_python_files_are_copied_and_tmp_is_removed(tmp_path: Path) -> None:
    d = submission(
        tmp_path,
        {
            "policies.py": "x = 1\n",
            "pkg/helper.py": "y = 2\n",
            "notes.txt": "no",
            ".hidden/secret.py": "no",
            "__pycache__/policies.cpython-311.py": "no",
        },
    )
    outside = tmp_path / "outside.py"
    outside.write_text("secret = 1\n")
    (d / "link.py").symlink_to(outside)
    w = Worker(d, WorkerLimits())
    with w:
        copied = sorted(str(p.relative_to(w.sub_dir)) for p in w.sub_dir.rglob("*") if p.is_file())
        assert copied == ["pkg/helper.py", "policies.py"]
        assert w.ping() == CallOk("pong")
        tmp = w.tmp
        proc = w._proc
        assert proc is not None
    assert not tmp.exists()
    assert w.running is False
    assert proc.returncode is not None  # killed and reaped
    with pytest.raises(RuntimeError, match="closed"):
        w.ping()


def test_too_many_files_is_rejected(tmp_path: Path) -> None:
    d = submission(tmp_path, {f"m{i}.py": "" for i in range(201)})
    before = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("osgrade-*"))
    with pytest.raises(SubmissionTooLarge, match="200"):
        Worker(d, WorkerLimits())
    assert set(Path(os.environ.get("TMPDIR", "/tmp")).glob("osgrade-*")) == before


def test_isolation_record_and_layers(tmp_path: Path) -> None:
    d = submission(tmp_path, {"policies.py": "x = 1\n"})
    marker = LaunchLayer("test_layer", lambda cmd: cmd)
    with Worker(d, WorkerLimits(), layers=[marker], isolation="minimal") as w:
        assert w.isolation["process_group"] and w.isolation["rlimits"]
        assert w.isolation["uid_drop"] is False and w.isolation["test_layer"] is True
        assert w.isolation["warning"].startswith("reduced isolation: ")
        assert w.ping() == CallOk("pong")


def _alive(pid: int) -> bool:
    """Running (not a zombie waiting for a reaper that may never come in a container)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_timeout_kills_the_whole_process_group(make_worker: Any) -> None:
    # The lightest configuration: seccomp would refuse the fork, the uid sweep and the
    # pid namespace would hide a failure of the process-group kill.
    src = """
    import subprocess, time

    def f():
        p = subprocess.Popen(["sleep", "60"])
        with open("child.pid", "w") as out:
            out.write(str(p.pid))
        time.sleep(60)
    """
    w = make_worker({"policies.py": src}, isolation="minimal")
    assert fn(w, "f", timeout=0.5) == CallTimeout(0.5)
    pid = int((w.sub_dir / "child.pid").read_text())
    for _ in range(100):
        if not _alive(pid):
            break
        time.sleep(0.01)
    assert not _alive(pid)


def test_cpu_limit_kills_with_sigxcpu(make_worker: Any) -> None:
    w = make_worker({"policies.py": "def spin():\n    while True:\n        pass\n"}, cpu_s=1)
    r = fn(w, "spin")
    assert isinstance(r, CallCrashed) and r.signal == "SIGXCPU", r
    assert w.running is False


def test_child_path_and_hashing_are_fixed(tmp_path: Path) -> None:
    src = "import sys\n\ndef info():\n    return [hash('osgrade'), sys.path, sys.flags.no_site]\n"
    d = submission(tmp_path, {"policies.py": src})
    seen = []
    for _ in range(2):
        with Worker(d, WorkerLimits()) as w:
            r = fn(w, "info")
            assert isinstance(r, CallOk), r
            h, path, no_site = r.value
            assert path[0] == os.path.realpath(w.rt_dir)
            assert path[-1] == os.path.realpath(w.sub_dir)
            assert not any("site-packages" in p or "sandbox" in p for p in path)
            assert no_site == 1
            seen.append(h)
    assert seen[0] == seen[1]  # PYTHONHASHSEED=0 is honoured: set order is reproducible


PARENT = """
import sys
from pathlib import Path
from grader.engine.worker import Worker, WorkerLimits
w = Worker(Path(sys.argv[1]), WorkerLimits())
w.start()
print(w._proc.pid, w.tmp, flush=True)
w.call("grader.sandbox.entries:call", "policies", {"function": "spin"}, timeout=60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_worker_dies_with_a_killed_grader(tmp_path: Path) -> None:
    d = submission(tmp_path, {"policies.py": "def spin():\n    while True:\n        pass\n"})
    root = Path(__file__).resolve().parents[1]
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(d)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert parent.stdout is not None
        pid_text, tmp = parent.stdout.readline().split()
        pid = int(pid_text)
        time.sleep(0.2)  # the worker is now spinning in student code
        assert _alive(pid)
    finally:
        parent.kill()  # SIGKILL: no finalizer runs in the grader
        parent.wait()
    for _ in range(100):
        if not _alive(pid):
            break
        time.sleep(0.01)
    assert not _alive(pid)
    # nothing of the worker is left either (inside bubblewrap `pid` is its outer process)
    for _ in range(200):
        if not _mentioning(tmp):
            break
        time.sleep(0.01)
    assert _mentioning(tmp) == []
    shutil.rmtree(tmp, ignore_errors=True)


def _mentioning(text: str) -> list[int]:
    """Live processes whose command line mentions ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid() and _alive(int(entry.name)):
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
