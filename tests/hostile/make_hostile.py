"""Rebuild the hostile submissions: the reference (or the empty template) plus ONE twist each.

Run ``python tests/hostile/make_hostile.py`` after changing reference/scheduling/policies.py
or student_template/scheduling/policies.py. Every edit asserts that the text it replaces is
still there, so a case never silently loses its twist. tests/test_hostile.py grades each
folder through the real worker and states what must happen.

Strings such as "@@ROOT@@" are placeholders: the test copies the folder and fills them in
(the repository root, the output folder, a listener's port) before grading. Every bomb is
bounded (loops and sizes capped, sleeps of at most 30 s), so a containment failure cannot
take the machine down.
"""

from __future__ import annotations

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "hostile"
BASES = {
    "reference": (ROOT / "reference/scheduling/policies.py").read_text(),
    "template": (ROOT / "student_template/scheduling/policies.py").read_text(),
}
IMPORT_LINE = "from grader.simos.scheduling import JobInfo, Reason, Scheduler, StopReason\n"

FCFS_DISPATCH = (
    "    def dispatch(self, now: int) -> int | None:\n"
    "        return self.queue.popleft() if self.queue else None\n"
)
RR_DISPATCH = (
    "    def dispatch(self, now: int) -> tuple[int, int] | None:\n"
    "        return (self.queue.popleft(), self.quantum) if self.queue else None\n"
)
# Hooks: where the twist runs. "dispatch" = every FCFS.dispatch call (the twist gets the
# honest answer and returns what dispatch returns); "rr" = the same in RoundRobin;
# "import" = once, at the end of the module.
HOOKS = {
    "dispatch": [
        (
            FCFS_DISPATCH,
            FCFS_DISPATCH.replace("return self.queue", "return _hostile(self.queue").replace(
                "else None\n", "else None)\n"
            ),
        )
    ],
    "rr": [
        (
            RR_DISPATCH,
            RR_DISPATCH.replace("return (self.queue", "return _hostile((self.queue").replace(
                "else None\n", "else None)\n"
            ),
        )
    ],
    "import": [],
    "none": [],
}

ONCE = '''
_FIRED: list[bool] = []


def _once() -> bool:
    """True the first time only (in one worker process)."""
    if _FIRED:
        return False
    _FIRED.append(True)
    return True
'''

# A walk from "/" limited to a few thousand entries, skipping the system trees, that
# collects files by name. Shared by the two walking cases.
WALK = """
SKIP = ("/proc", "/sys", "/dev", "/usr", "/etc", "/lib", "/lib64", "/bin", "/sbin", "/var/lib")
LIMIT = 5000


def _walk(names: tuple[str, ...]) -> list[str]:
    import os

    found: list[str] = []
    seen = 0
    for root, dirs, files in os.walk("/"):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and os.path.join(root, d) not in SKIP and d != "__pycache__"
        )
        seen += len(dirs) + len(files)
        found += [os.path.join(root, f) for f in files if f in names]
        if seen > LIMIT:
            break
    return found
"""


CASES: dict[str, dict[str, str]] = {}


def case(name: str, base: str, hook: str, doc: str, code: str, edits: str = "") -> None:
    CASES[name] = {"base": base, "hook": hook, "doc": doc, "code": code, "edits": edits}


# ----------------------------------------------------------------------------- reading secrets

case(
    "read_hidden_by_path",
    "reference",
    "dispatch",
    "FCFS.dispatch reads the hidden tests and the reference by absolute path and raises "
    "an exception carrying their text (the error message is shown to the student).",
    """
ROOT = "@@ROOT@@"
TARGETS = (
    ROOT + "/assignments/scheduling/properties.py",
    ROOT + "/reference/scheduling/policies.py",
)


def _hostile(value: object) -> object:
    found = []
    for path in TARGETS:
        try:
            with open(path, encoding="utf-8") as f:
                found.append(f.read())
        except OSError:
            pass
    if found:
        raise RuntimeError("\\n".join(found))
    return value
""",
)

case(
    "leak_via_return_value",
    "reference",
    "dispatch",
    "FCFS.dispatch returns the text of the hidden tests as its answer, hoping the "
    "simulator's error message quotes the value it rejected.",
    """
PATH = "@@ROOT@@/assignments/scheduling/properties.py"


def _hostile(value: object) -> object:
    try:
        with open(PATH, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return value
""",
)

case(
    "encode_in_schedule",
    "reference",
    "none",
    "FCFS.dispatch reads the hidden tests and encodes them, one bit per decision, in its "
    "choice of job (the oldest for 0, the newest for 1), so the schedule shown carries them.",
    """
PATH = "@@ROOT@@/assignments/scheduling/properties.py"
_BITS: list[int] = []


def _secret_bits() -> list[int]:
    try:
        with open(PATH, "rb") as f:
            data = f.read(4096)
    except OSError:
        return []
    return [(byte >> i) & 1 for byte in data for i in range(8)]


def _choose(queue: deque[int]) -> int | None:
    if not _BITS:
        _BITS.extend(_secret_bits() or [0])
    bit = _BITS.pop(0) if len(_BITS) > 1 else _BITS[0]
    if not queue:
        return None
    return queue.pop() if bit else queue.popleft()
""",
    edits="encode",
)

case(
    "walk_and_leak",
    "reference",
    "dispatch",
    "FCFS.dispatch walks the filesystem from / (a few thousand entries), prints every "
    "properties.py and policies.py it finds and raises an exception carrying them.",
    WALK
    + """
_CACHE: list[str] = []


def _hostile(value: object) -> object:
    import os

    if not _CACHE:
        mine = os.path.realpath(__file__)
        texts = []
        for path in _walk(("properties.py", "policies.py")):
            if os.path.realpath(path) == mine:
                continue
            try:
                with open(path, encoding="utf-8") as f:
                    texts.append(f.read(20_000))
            except (OSError, UnicodeDecodeError):
                pass
        _CACHE.append("\\n".join(texts))
    if _CACHE[0]:
        print(_CACHE[0])
        raise RuntimeError(_CACHE[0])
    return value
""",
)

case(
    "walk_and_delegate",
    "template",
    "import",
    "The empty template walks the filesystem for a reference solution and, if it finds "
    "one, replaces its own classes with it (points it did not earn).",
    WALK
    + """

def _hostile(value: object) -> object:
    import importlib.util

    for path in _walk(("policies.py",)):
        if "/reference/" not in path:
            continue
        try:
            spec = importlib.util.spec_from_file_location("stolen_reference", path)
            assert spec is not None and spec.loader is not None
            stolen = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(stolen)
        except BaseException:
            continue
        for name in ("FCFS", "SJF", "STCF", "RoundRobin", "PriorityScheduler", "MLFQ"):
            globals()[name] = getattr(stolen, name)
        break
    return value
""",
)

case(
    "import_reference_by_path",
    "template",
    "import",
    "The empty template imports the instructor's reference by absolute path and "
    "replaces its own classes with it (points it did not earn).",
    """
REFERENCE = "@@ROOT@@/reference/scheduling/policies.py"


def _hostile(value: object) -> object:
    import importlib.util

    try:
        spec = importlib.util.spec_from_file_location("stolen_reference", REFERENCE)
        assert spec is not None and spec.loader is not None
        stolen = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(stolen)
    except BaseException:
        return value
    for name in ("FCFS", "SJF", "STCF", "RoundRobin", "PriorityScheduler", "MLFQ"):
        globals()[name] = getattr(stolen, name)
    return value
""",
)

case(
    "import_grader_engine",
    "template",
    "import",
    "The empty template makes the grader's engine importable (package path, sys.path, "
    "site-packages) and patches its property runner and Context.call to report passes.",
    """
ROOT = "@@ROOT@@"


def _hostile(value: object) -> object:
    import glob
    import sys

    import grader

    grader.__path__.append(ROOT + "/grader")
    sys.path += [ROOT, *glob.glob("/root/.pyenv/versions/*/lib/python3*/site-packages")]
    sys.path += glob.glob("/usr/lib/python3*/site-packages")
    try:
        from grader.engine import grade, props

        props.Context.call = lambda *a, **k: {}
        props.run_property = lambda *a, **k: None
        grade.run_property = props.run_property
        print("HOSTILE-MARKER patched the engine")
    except BaseException as exc:
        print("HOSTILE-MARKER could not patch the engine:", type(exc).__name__)
    return value
""",
)

case(
    "proc_parent_mem",
    "reference",
    "dispatch",
    "FCFS.dispatch reads the grader's memory through /proc/<ppid>/mem, looking for the "
    "reference's docstring, and raises an exception carrying what surrounds it.",
    """
NEEDLE = b"Reference solution of the CPU-scheduling assignment"
BUDGET = 256 << 20  # bytes read at most
PIECE = 16 << 20
_CACHE: list[str] = []


def _search() -> str:
    import os

    ppid = os.getppid()
    budget = BUDGET
    try:
        with open(f"/proc/{ppid}/maps") as maps, open(f"/proc/{ppid}/mem", "rb", 0) as mem:
            for line in maps:
                fields = line.split()
                if not fields[1].startswith("r") or fields[-1].startswith("/"):
                    continue  # unreadable, or a mapped file: the heap is what matters
                start, end = (int(x, 16) for x in fields[0].split("-"))
                while start < end and budget > 0:
                    size = min(PIECE, end - start)
                    try:
                        mem.seek(start)
                        chunk = mem.read(size)
                    except (OSError, OverflowError, ValueError):
                        break
                    budget -= size
                    i = chunk.find(NEEDLE)
                    if i >= 0:
                        return chunk[i : i + 3000].decode("utf-8", "replace")
                    if start + size >= end:
                        break
                    start += size - len(NEEDLE)  # overlap, so the needle is not cut
    except OSError:
        pass
    return ""


def _hostile(value: object) -> object:
    if not _CACHE:
        _CACHE.append(_search())
    if _CACHE[0]:
        raise RuntimeError(_CACHE[0])
    return value
""",
)

case(
    "proc_parent_environ",
    "reference",
    "dispatch",
    "FCFS.dispatch reads the grader's environment through /proc/<ppid>/environ and "
    "raises an exception carrying it.",
    """
def _hostile(value: object) -> object:
    import os

    try:
        with open(f"/proc/{os.getppid()}/environ", "rb") as f:
            data = f.read(1 << 20)
    except OSError:
        return value
    raise RuntimeError(data.replace(b"\\0", b"\\n").decode("utf-8", "replace"))
""",
)

# ----------------------------------------------------------------------------- faking results

case(
    "write_results_files",
    "template",
    "import",
    "The empty template writes a full-marks results.json and fake reports into the output "
    "folder, its working directory and every parent of it it can reach.",
    """
OUT = "@@OUT@@"
BASE = "@@BASE@@"
FAKE = '{"score": 100.0, "output": "HOSTILE-MARKER all tests passed", "tests": []}\\n'
NAMES = ("results.json", "report.json", "report.html", "report.md", "staff.html")


def _hostile(value: object) -> object:
    import os

    targets = [OUT, "/autograder/results"]
    here = os.getcwd()
    while here.startswith(BASE):  # only inside the test's own temporary folder
        targets.append(here)
        here = os.path.dirname(here)
    for folder in targets:
        try:
            if folder == OUT:
                os.makedirs(folder, exist_ok=True)
            if not os.path.isdir(folder):
                continue
            for name in NAMES:
                with open(os.path.join(folder, name), "w") as f:
                    f.write(FAKE)
        except OSError:
            pass
    return value
""",
)

case(
    "squat_output_dir",
    "template",
    "import",
    "The empty template creates the grader's output files as directories in the output "
    "folder, so that writing the real results fails.",
    """
OUT = "@@OUT@@"


def _hostile(value: object) -> object:
    import contextlib
    import os

    for name in ("results.json", "report.html", "report.md"):
        with contextlib.suppress(OSError):
            os.makedirs(os.path.join(OUT, name, "HOSTILE-MARKER"), exist_ok=True)
    return value
""",
)

case(
    "fake_output",
    "template",
    "import",
    "The empty template prints a fake Gradescope results.json and fake 'passed' lines "
    "to stdout and stderr.",
    """
FAKE = (
    '{"score": 100, "output": "HOSTILE-MARKER", "tests": '
    '[{"name": "FCFS", "score": 8, "max_score": 8, "status": "passed"}]}'
)


def _hostile(value: object) -> object:
    import sys

    for stream in (sys.stdout, sys.stderr):
        print(FAKE, file=stream)
        print("HOSTILE-MARKER fcfs-reference PASSED", file=stream)
        print("========== 18 passed in 0.01s ==========", file=stream)
        print("Score: 100 / 100", file=stream, flush=True)
    return value
""",
)

# ----------------------------------------------------------------------------- exits

case(
    "markup_injection",
    "reference",
    "dispatch",
    "FCFS.dispatch raises an exception whose message is HTML and Markdown that would fake a "
    "passing report (a script, a closed code block, a heading, a link, a results table row).",
    """
PAYLOAD = (
    "</pre></code></div><script>alert('HOSTILE-MARKER')</script>"
    "<img src=x onerror=alert(1)>\\n\\n```\\n\\n# Score: 100 / 100\\n\\n"
    "| 1 | FCFS | passed | 8 / 8 |\\n[all tests passed](javascript:alert(1))\\n"
)


def _hostile(value: object) -> object:
    raise ValueError(PAYLOAD)
""",
)

case(
    "sys_exit_0",
    "reference",
    "dispatch",
    "FCFS.dispatch calls sys.exit(0), hoping a clean exit reads as success.",
    """
def _hostile(value: object) -> object:
    import sys

    sys.exit(0)
""",
)

case(
    "os_exit_0",
    "reference",
    "dispatch",
    "FCFS.dispatch calls os._exit(0): the worker dies with status 0 in the middle of a test.",
    """
def _hostile(value: object) -> object:
    import os

    os._exit(0)
""",
)

case(
    "raise_system_exit",
    "reference",
    "dispatch",
    "FCFS.dispatch raises SystemExit with a 'passed' message.",
    """
def _hostile(value: object) -> object:
    raise SystemExit("HOSTILE-MARKER all tests passed")
""",
)

case(
    "raise_keyboard_interrupt",
    "reference",
    "dispatch",
    "FCFS.dispatch raises KeyboardInterrupt, as if the grader had been interrupted.",
    """
def _hostile(value: object) -> object:
    raise KeyboardInterrupt
""",
)

case(
    "raise_generator_exit",
    "reference",
    "dispatch",
    "FCFS.dispatch raises GeneratorExit (a BaseException that generators swallow).",
    """
def _hostile(value: object) -> object:
    raise GeneratorExit
""",
)

case(
    "exit_at_import",
    "reference",
    "import",
    "The module calls sys.exit(0) at import time, so no test can run it.",
    """
def _hostile(value: object) -> object:
    import sys

    sys.exit(0)
""",
)

# ----------------------------------------------------------------------------- monkeypatching

case(
    "patch_harness",
    "template",
    "import",
    "The empty template replaces the worker's harness (run and simulate) with functions "
    "that return a fabricated schedule.",
    """
def _fabricated(module: object, args: dict) -> dict:
    segments = []
    for job in args["jobs"]:
        end = job["arrival"] + sum(job["bursts"][::2])
        segments.append([job["arrival"], end, job["id"], "run"])
    return {"switch_cost": args.get("switch_cost", 0), "segments": segments}


def _hostile(value: object) -> object:
    from grader.simos import scheduling
    from grader.simos.scheduling import harness

    harness.run = _fabricated
    harness.simulate = lambda *a, **k: None
    scheduling.simulate = harness.simulate
    return value
""",
)

case(
    "patch_worker_main",
    "template",
    "import",
    "The empty template patches the worker's own request handler (the __main__ module) "
    "to answer every call with a fabricated, empty schedule.",
    """
def _hostile(value: object) -> object:
    import sys

    main = sys.modules["__main__"]
    worker = getattr(main, "Worker", None)
    if worker is None:
        return value

    def call(self: object, rid: object, request: dict) -> dict:
        args = request.get("args") or {}
        fake = {"switch_cost": args.get("switch_cost", 0), "segments": []}
        return {"id": rid, "ok": True, "value": fake}

    worker.call = call
    return value
""",
)

case(
    "patch_test_frameworks",
    "template",
    "import",
    "The empty template tries to import Hypothesis and pytest and patch them so that "
    "every test passes (their 6-line report-class trick).",
    """
def _hostile(value: object) -> object:
    try:
        import hypothesis

        hypothesis.given = lambda *a, **k: lambda f: lambda *x, **y: None
        print("HOSTILE-MARKER patched hypothesis")
    except ImportError:
        print("hypothesis is not importable here")
    try:
        from _pytest import reports

        original = reports.TestReport.from_item_and_call

        def passed(item: object, call: object) -> object:
            rep = original(item, call)
            rep.outcome = "passed"
            rep.longrepr = None
            return rep

        reports.TestReport.from_item_and_call = staticmethod(passed)
        print("HOSTILE-MARKER patched pytest")
    except ImportError:
        print("pytest is not importable here")
    return value
""",
)

# ----------------------------------------------------------------------------- hanging

case(
    "infinite_loop",
    "reference",
    "dispatch",
    "FCFS.dispatch spins in a Python loop (capped at 30 s).",
    """
def _hostile(value: object) -> object:
    import time

    end = time.monotonic() + 30
    while time.monotonic() < end:
        pass
    return value
""",
)

case(
    "c_level_loop",
    "reference",
    "dispatch",
    "FCFS.dispatch runs sum(range(10**12)), a loop inside C that never checks for signals "
    "(bounded by the worker's CPU limit and the parent's kill).",
    """
def _hostile(value: object) -> object:
    sum(range(10**12))
    return value
""",
)

case(
    "sleep_forever",
    "reference",
    "dispatch",
    "FCFS.dispatch sleeps (30 s, far past the call timeout).",
    """
def _hostile(value: object) -> object:
    import time

    time.sleep(30)
    return value
""",
)

case(
    "ignore_signals",
    "reference",
    "dispatch",
    "FCFS.dispatch ignores SIGALRM, SIGTERM, SIGINT and SIGHUP, then spins (capped at 30 s).",
    """
def _hostile(value: object) -> object:
    import signal
    import time

    for sig in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        pass
    return value
""",
)

# ----------------------------------------------------------------------------- exhausting resources

case(
    "fork_bomb",
    "reference",
    "dispatch",
    "FCFS.dispatch forks up to 200 children that each sleep 20 s, then answers correctly.",
    ONCE
    + """

def _hostile(value: object) -> object:
    import os
    import time

    if _once():
        for _ in range(200):
            try:
                pid = os.fork()
            except OSError:
                break
            if pid == 0:
                time.sleep(20)
                os._exit(0)
    return value
""",
)

case(
    "memory_bomb_bytearray",
    "reference",
    "dispatch",
    "FCFS.dispatch allocates an 8 GiB bytearray.",
    """
_HOLD: list[object] = []


def _hostile(value: object) -> object:
    _HOLD.append(bytearray(8 << 30))
    _HOLD.clear()
    return value
""",
)

case(
    "memory_bomb_list",
    "reference",
    "dispatch",
    "FCFS.dispatch grows a list by 64 MB at a time, up to 8 GB.",
    """
def _hostile(value: object) -> object:
    hoard = []
    for _ in range(128):
        hoard.append(bytearray(64 << 20))
    hoard.clear()
    return value
""",
)

case(
    "recursion_bomb",
    "reference",
    "dispatch",
    "FCFS.dispatch raises the recursion limit to 10**6 and recurses that deep through a C "
    "function (map), so the C stack overflows.",
    """
def _deeper(n: int) -> int:
    # Through map(), a C function: every level also takes C stack, which overflows.
    return 0 if n <= 0 else 1 + sum(map(_deeper, (n - 1,)))


def _hostile(value: object) -> object:
    import sys

    sys.setrecursionlimit(10**6)
    _deeper(10**6 - 100)
    return value
""",
)

case(
    "output_flood",
    "reference",
    "dispatch",
    "FCFS.dispatch writes 100 MB to stdout (and ignores write errors), then answers correctly.",
    ONCE
    + """

def _hostile(value: object) -> object:
    import sys

    if _once():
        line = "HOSTILE-MARKER " * 70_000 + "\\n"
        for _ in range(100):
            try:
                sys.stdout.write(line)
                sys.stdout.flush()
            except OSError:
                break
    return value
""",
)

case(
    "disk_fill",
    "reference",
    "dispatch",
    "FCFS.dispatch writes up to 200 MB of files to its working directory, its parent and "
    "$TMPDIR (ignoring errors), then answers correctly.",
    ONCE
    + """

def _hostile(value: object) -> object:
    import os
    import tempfile

    if not _once():
        return value
    chunk = b"H" * (4 << 20)
    written = 0
    folders = [os.getcwd(), os.path.dirname(os.getcwd()), tempfile.gettempdir()]
    for folder in folders:
        for n in range(50):
            if written >= 200 << 20:
                return value
            try:
                with open(os.path.join(folder, f"hostile-fill-{n}.bin"), "wb") as f:
                    f.write(chunk)
                written += len(chunk)
            except OSError:
                break
    return value
""",
)

case(
    "fd_exhaustion",
    "reference",
    "dispatch",
    "FCFS.dispatch opens files until the descriptor table is full and keeps them open.",
    """
_HOARD: list[object] = []


def _hostile(value: object) -> object:
    import os

    for _ in range(100_000):
        try:
            _HOARD.append(open(os.devnull, "rb"))  # noqa: SIM115
        except OSError:
            break
    return value
""",
)

case(
    "thread_left_running",
    "reference",
    "import",
    "The module starts a daemon thread at import that spins (capped at 30 s) while the tests run.",
    """
def _spin() -> None:
    import time

    end = time.monotonic() + 30
    while time.monotonic() < end:
        pass


def _hostile(value: object) -> object:
    import threading

    threading.Thread(target=_spin, daemon=True).start()
    return value
""",
)

# ----------------------------------------------------------------------------- escaping

case(
    "setsid_daemon",
    "reference",
    "dispatch",
    "FCFS.dispatch double-forks a setsid daemon that sleeps 20 s and then writes into the "
    "grader's tree; dispatch itself answers correctly.",
    ONCE
    + """
SENTINEL = "@@SENTINEL@@"


def _hostile(value: object) -> object:
    import os
    import time

    if not _once():
        return value
    try:
        pid = os.fork()
    except OSError:
        return value
    if pid == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                time.sleep(20)
                with open(os.path.join(SENTINEL, "daemon-was-here"), "w") as f:
                    f.write("HOSTILE-MARKER")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    return value
""",
)

case(
    "kill_parent_sigkill",
    "reference",
    "dispatch",
    "FCFS.dispatch sends SIGKILL to its parent process (the grader, without isolation), "
    "ignoring errors.",
    """
def _hostile(value: object) -> object:
    import contextlib
    import os
    import signal

    with contextlib.suppress(OSError):
        os.kill(os.getppid(), signal.SIGKILL)
    return value
""",
)

case(
    "kill_parent_sigterm",
    "reference",
    "dispatch",
    "FCFS.dispatch sends SIGTERM to its parent process (the grader, without isolation), "
    "ignoring errors.",
    """
def _hostile(value: object) -> object:
    import contextlib
    import os
    import signal

    with contextlib.suppress(OSError):
        os.kill(os.getppid(), signal.SIGTERM)
    return value
""",
)

case(
    "connect_localhost",
    "reference",
    "dispatch",
    "FCFS.dispatch connects to a listener on 127.0.0.1 (port filled in by the test) and "
    "sends a message, ignoring errors.",
    """
PORT = "@@PORT@@"


def _hostile(value: object) -> object:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", int(PORT)), timeout=1) as s:
            s.sendall(b"HOSTILE-MARKER")
    except (OSError, ValueError):
        pass
    return value
""",
)

# ----------------------------------------------------------------------------- hostile objects

case(
    "hostile_eq",
    "reference",
    "dispatch",
    "FCFS.dispatch returns an int subclass whose __eq__ is always True and __ne__ always False.",
    """
class _Liar(int):
    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    __hash__ = int.__hash__


def _hostile(value: object) -> object:
    return None if value is None else _Liar(value)
""",
)

case(
    "hostile_hash",
    "reference",
    "dispatch",
    "FCFS.dispatch returns an int subclass whose __hash__ changes on every call.",
    """
_COUNTER = itertools.count()  # the reference already imports itertools


class _Shifty(int):
    def __hash__(self) -> int:
        return next(_COUNTER)

    def __eq__(self, other: object) -> bool:
        return int(self) == other


def _hostile(value: object) -> object:
    return None if value is None else _Shifty(value)
""",
)

case(
    "hostile_repr",
    "reference",
    "dispatch",
    "FCFS.dispatch returns an object whose __repr__ and __str__ are 5 MB of fake "
    "'passed' text, and whose __index__ is the right job id.",
    """
class _Loud:
    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value

    def __int__(self) -> int:
        return self.value

    def __repr__(self) -> str:
        return "HOSTILE-MARKER all tests passed. " * 160_000

    __str__ = __repr__


def _hostile(value: object) -> object:
    return None if value is None else _Loud(value)
""",
)

case(
    "hostile_del",
    "reference",
    "dispatch",
    "FCFS.dispatch attaches to the scheduler an object whose __del__ prints fake results "
    "and raises SystemExit when the simulation drops it; answers are correct.",
    """
class _Finale:
    def __del__(self) -> None:
        print('{"score": 100, "output": "HOSTILE-MARKER"}', flush=True)
        raise SystemExit(0)


_KEEP: list[object] = []


def _hostile(value: object) -> object:
    _KEEP[:] = [_Finale()]  # the previous one is dropped (its __del__ runs) on every call
    return value
""",
)

case(
    "int_subclass",
    "reference",
    "dispatch",
    "FCFS.dispatch returns the right job id as a plain int subclass (same value, same eq).",
    """
class _Id(int):
    pass


def _hostile(value: object) -> object:
    return None if value is None else _Id(value)
""",
)

case(
    "str_subclass",
    "reference",
    "dispatch",
    "FCFS.dispatch returns the job id as a str subclass that compares equal to the int id.",
    """
class _Text(str):
    def __eq__(self, other: object) -> bool:
        return str(other) == str.__str__(self)

    __hash__ = str.__hash__

    def __index__(self) -> int:
        return int(str.__str__(self))


def _hostile(value: object) -> object:
    return None if value is None else _Text(value)
""",
)

case(
    "tuple_subclass",
    "reference",
    "rr",
    "RoundRobin.dispatch returns (job id, quantum) as a tuple subclass with a lying __eq__ "
    "and __len__.",
    """
class _Pair(tuple):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = tuple.__hash__

    def __len__(self) -> int:
        return 2


def _hostile(value: object) -> object:
    return None if value is None else _Pair(value)
""",
)

case(
    "list_subclass",
    "reference",
    "rr",
    "RoundRobin.dispatch returns [job id, quantum] as a list subclass that claims to be equal "
    "to anything.",
    """
class _Items(list):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = None  # type: ignore[assignment]


def _hostile(value: object) -> object:
    return None if value is None else _Items(value)
""",
)

case(
    "answers_change",
    "reference",
    "none",
    "FCFS.dispatch counts its calls at module level and every third call takes the newest "
    "job instead of the oldest, so answers change from call to call.",
    """
_CALLS: list[int] = []
""",
    edits="flaky",
)

FLAKY = (
    FCFS_DISPATCH,
    "    def dispatch(self, now: int) -> int | None:\n"
    "        _CALLS.append(now)\n"
    "        if len(_CALLS) % 3 == 0 and len(self.queue) > 1:\n"
    "            return self.queue.pop()\n"
    "        return self.queue.popleft() if self.queue else None\n",
)

ENCODE = (
    FCFS_DISPATCH,
    "    def dispatch(self, now: int) -> int | None:\n        return _choose(self.queue)\n",
)


def make(name: str, spec: dict[str, str]) -> str:
    text = BASES[spec["base"]]
    head_end = text.index("from __future__ import annotations")
    body = text[head_end:]
    edits = list(HOOKS[spec["hook"]])
    if spec["edits"] == "flaky":
        edits.append(FLAKY)
    if spec["edits"] == "encode":
        edits.append(ENCODE)
    for old, new in edits:
        assert body.count(old) == 1, (name, old)
        body = body.replace(old, new)
    assert body.count(IMPORT_LINE) == 1, name
    body = body.replace(IMPORT_LINE, IMPORT_LINE + "\n" + spec["code"].rstrip("\n") + "\n", 1)
    if spec["hook"] == "import":
        body = body.rstrip("\n") + "\n\n\n_hostile(None)\n"
    doc = f"Hostile submission ({spec['base']} + one twist): {spec['doc']}"
    result = f'"""{doc}"""\n\n' + body
    folder = OUT / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "policies.py").write_text(result)
    (folder / "NOTES.md").write_text(spec["doc"] + "\n")
    return result


if __name__ == "__main__":
    import subprocess

    written = [str(OUT / name / "policies.py") for name, spec in CASES.items() if make(name, spec)]
    # The project's own style: sort the import blocks the twists extended, then format.
    subprocess.run(["ruff", "check", "--fix", "--select", "I", "-q", *written], check=True)
    subprocess.run(["ruff", "format", "-q", *written], check=True)
    print(f"wrote {len(written)} hostile submissions under {OUT}")
