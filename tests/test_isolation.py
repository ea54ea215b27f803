"""The isolation layers, attacked through the real worker.

Each test runs in several configurations: ``auto`` (every layer this machine has),
``minimal`` (none of the optional layers) and each optional layer alone. Where a layer
defends against the attack, the attack must fail; where none does, the test checks
that the attack *works* (so a failure under the strong layers is the layers' doing, not
a broken attack) and that the record warns about the reduced isolation. Sub-cases that
need a layer this machine lacks are skipped with the probe's reason.

Every bomb is bounded: at most 200 forks, children that sleep 5 s, a daemon that sleeps
30 s and is killed by the test if it survives (``minimal``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from grader.engine.errors import ConfigError
from grader.engine.isolation import (
    ISOLATION_ENV,
    IsolationPlan,
    parse_mode,
    probe,
    processes_of,
)
from grader.engine.worker import CallCrashed, CallOk, Worker, WorkerLimits

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "scheduling" / "policies.py"
CALL = "grader.sandbox.entries:call"
HAS_PROC = Path("/proc/self/status").exists()

ATTACKS = r'''
import errno, os, signal, socket, sys, threading, time


def read_file(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError as e:
        return "error: " + type(e).__name__


def peek_memory(pid):
    """Read 16 bytes of another process's memory through /proc."""
    try:
        with open(f"/proc/{pid}/maps") as maps:
            for line in maps:
                if line.split()[1].startswith("r"):
                    start = int(line.split("-")[0], 16)
                    break
        with open(f"/proc/{pid}/mem", "rb") as mem:
            mem.seek(start)
            return len(mem.read(16))
    except (OSError, ValueError, UnboundLocalError) as e:
        return "error: " + type(e).__name__


def parent_info():
    ppid = os.getppid()
    return {"ppid_cmdline": read_file(f"/proc/{ppid}/cmdline"), "ppid_mem": peek_memory(ppid)}


def connect(port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
    except OSError as e:
        return "error: " + type(e).__name__
    s.close()
    return "connected"


def fork_bomb(n):
    forked = 0
    for _ in range(n):
        try:
            pid = os.fork()
        except OSError as e:
            return {"forked": forked, "error": type(e).__name__}
        if pid == 0:
            time.sleep(5)
            os._exit(0)
        forked += 1
    return {"forked": forked, "error": None}


def daemon():
    try:
        pid = os.fork()
    except OSError as e:
        return "error: " + type(e).__name__
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(30)
        os._exit(0)
    os.waitpid(pid, 0)
    return "spawned"


def kill_parent(grader_pid):
    out = []
    for pid, sig in ((grader_pid, signal.SIGUSR1), (os.getppid(), signal.SIGKILL)):
        try:
            os.kill(pid, sig)
            out.append("sent")
        except OSError as e:
            out.append("error: " + type(e).__name__)
    return out


def write_file(path):
    try:
        with open(path, "w") as f:
            f.write("pwned")
        return "written"
    except OSError as e:
        return "error: " + type(e).__name__


def fill(path, mb):
    try:
        with open(path, "wb") as f:
            for _ in range(mb):
                f.write(b"x" * 1048576)
        return "written"
    except OSError as e:
        return "error: " + errno.errorcode.get(e.errno, "?")


def thread_sum():
    parts = [0] * 4

    def work(i):
        parts[i] = sum(range(i * 1000, (i + 1) * 1000))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(parts)


def introspect():
    status = read_file("/proc/self/status")
    seccomp = [line.split()[1] for line in status.splitlines() if line.startswith("Seccomp:")]
    return {
        "uid": os.getuid(),
        "seccomp": seccomp[0] if seccomp else None,
        "pid_ns": os.readlink("/proc/self/ns/pid"),
        "root_entries": sorted(os.listdir("/")),
    }
'''


@dataclass(frozen=True)
class Config:
    name: str
    plan: IsolationPlan

    def on(self, *layers: str) -> bool:
        """Is at least one of ``layers`` running?"""
        return any(self.plan.layers[name] for name in layers)

    def need(self, *layers: str) -> None:
        """Under ``auto``, skip a sub-case when none of its defending layers is available."""
        if self.name == "auto" and not self.on(*layers):
            why = "; ".join(f"{name}: {self.plan.reasons.get(name, '?')}" for name in layers)
            pytest.skip(f"this machine lacks the layer that stops this attack ({why})")


CONFIGS = ["auto", "minimal", "uid", "bwrap", "seccomp"]


@pytest.fixture(params=CONFIGS)
def config(request: pytest.FixtureRequest) -> Config:
    name = request.param
    plan = probe(name)
    if name not in ("auto", "minimal"):
        wanted = next(iter(parse_mode(name)))
        if not plan.layers[wanted]:
            pytest.skip(f"{wanted} is not available here: {plan.reasons[wanted]}")
    return Config(name, plan)


@pytest.fixture
def worker(tmp_path: Path, config: Config) -> Iterator[Worker]:
    d = tmp_path / "submission"
    d.mkdir()
    (d / "attacks.py").write_text(textwrap.dedent(ATTACKS))
    w = Worker(d, WorkerLimits(call_timeout_s=10), plan=config.plan)
    try:
        yield w
    finally:
        w.close()


def run(w: Worker, name: str, *args: Any) -> Any:
    r = w.call(CALL, "attacks", {"function": name, "args": list(args)})
    assert isinstance(r, CallOk), r
    return r.value


def marked(marker: str) -> list[int]:
    """Live processes whose command line mentions ``marker`` (a worker's temp dir)."""
    found = []
    needle = marker.encode()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
            state = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in cmdline and state not in ("Z", "X"):
            found.append(int(name))
    return found


def settle(check: Any, timeout: float = 3.0) -> Any:
    """Poll ``check()`` until it is falsy (SIGKILLed processes take a moment to go)."""
    end = time.monotonic() + timeout
    value = check()
    while value and time.monotonic() < end:
        time.sleep(0.02)
        value = check()
    return value


# --------------------------------------------------------------------------- reading


def test_reading_the_reference_by_path(worker: Worker, config: Config) -> None:
    config.need("bubblewrap")
    text = run(worker, "read_file", str(REFERENCE))
    if config.on("bubblewrap"):
        assert text == "error: FileNotFoundError"
    else:  # a world-readable file: only the mount namespace hides it
        assert text == REFERENCE.read_text()


@pytest.mark.skipif(not HAS_PROC, reason="needs /proc")
def test_reading_the_grader_through_proc(worker: Worker, config: Config) -> None:
    config.need("bubblewrap", "uid_drop")
    me = Path("/proc/self/cmdline").read_bytes().decode("utf-8", "replace")
    by_pid = run(worker, "read_file", f"/proc/{os.getpid()}/cmdline")
    mem = run(worker, "peek_memory", os.getpid())
    parent = run(worker, "parent_info")
    if config.on("bubblewrap"):  # the grader is not in the worker's pid namespace
        assert by_pid != me and parent["ppid_cmdline"] != me
        assert parent["ppid_cmdline"].split("\0")[0].endswith("bwrap")
    else:  # the grader is the parent; cmdline is world-readable
        assert by_pid == me and parent["ppid_cmdline"] == me
    if config.on("bubblewrap", "uid_drop"):
        assert mem != 16
    else:
        assert mem == 16
    if config.on("bubblewrap"):  # the parent is bwrap's init, which holds nothing of ours
        pass
    elif config.on("uid_drop"):  # the parent is the grader, running as another uid
        assert parent["ppid_mem"] == "error: PermissionError"
    else:
        assert parent["ppid_mem"] == 16


# --------------------------------------------------------------------------- network


def test_connecting_to_a_local_listener(worker: Worker, config: Config) -> None:
    config.need("bubblewrap", "seccomp")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        result = run(worker, "connect", listener.getsockname()[1])
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            connected = False
        else:
            conn.close()
            connected = True
    if config.on("bubblewrap", "seccomp"):
        assert result.startswith("error: ") and not connected
    else:
        assert result == "connected" and connected


# --------------------------------------------------------------------------- processes


@pytest.mark.skipif(not HAS_PROC, reason="needs /proc")
def test_fork_bomb_is_stopped_and_cleared(worker: Worker, config: Config) -> None:
    out = run(worker, "fork_bomb", 200)
    if config.on("seccomp"):
        assert out == {"forked": 0, "error": "PermissionError"}
    elif config.on("uid_drop"):  # RLIMIT_NPROC holds the dropped uid
        assert out["forked"] < worker.limits.processes and out["error"] == "BlockingIOError"
    else:  # root ignores RLIMIT_NPROC; the bomb's own bound stops it
        assert out == {"forked": 200, "error": None}
    marker, uid = str(worker.tmp), worker.uid
    worker.close()
    assert settle(lambda: marked(marker)) == []
    if uid is not None:
        assert processes_of(uid) == []


@pytest.mark.skipif(not HAS_PROC, reason="needs /proc")
def test_double_fork_setsid_daemon_dies_with_the_worker(worker: Worker, config: Config) -> None:
    config.need("bubblewrap", "uid_drop", "seccomp")
    out = run(worker, "daemon")
    marker = str(worker.tmp)
    if config.on("seccomp"):
        assert out == "error: PermissionError"
    else:
        assert out == "spawned"
    worker.close()
    if config.on("bubblewrap", "uid_drop", "seccomp"):
        assert settle(lambda: marked(marker)) == []
        return
    # minimal: the daemon left the process group, so killpg missed it
    survivors = marked(marker)
    try:
        assert survivors, "the daemon should outlive the minimal worker"
        assert worker.isolation["warning"].startswith("reduced isolation")
    finally:
        for pid in survivors:
            os.kill(pid, signal.SIGKILL)


def test_killing_the_parent(worker: Worker, config: Config) -> None:
    if config.name == "minimal":
        pytest.skip("minimal isolation: the worker runs as root with the grader as its parent")
    config.need("bubblewrap", "uid_drop", "seccomp")
    received: list[int] = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: received.append(signum))
    try:
        out = run(worker, "kill_parent", os.getpid())
        time.sleep(0.05)  # a signal sent would have arrived by now
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert received == []
    assert out[0].startswith("error: ")
    if not config.on("bubblewrap"):  # inside a pid namespace the parent is bwrap's init
        assert out[1] == "error: PermissionError"
    assert worker.ping() == CallOk("pong")


# --------------------------------------------------------------------------- files


def test_writing_outside_the_private_dir(worker: Worker, config: Config, tmp_path: Path) -> None:
    config.need("bubblewrap", "uid_drop")
    outside = tmp_path / "outside.txt"  # a directory of the grader's
    results_json = worker.tmp / "results.json"  # next to the worker's output log
    own_copy = worker.sub_dir / "attacks.py"  # the submission copy the worker imports
    source = own_copy.read_text()
    results = [run(worker, "write_file", str(t)) for t in (outside, results_json, own_copy)]
    if config.on("bubblewrap", "uid_drop"):
        assert results[0].startswith("error: ") and results[2].startswith("error: "), results
        # under bubblewrap the worker's temp dir is a path on its own tmpfs: a write
        # there (if any) never reaches the host
        assert not outside.exists() and not results_json.exists()
        assert own_copy.read_text() == source
    else:
        assert results == ["written"] * 3


def test_sandbox_tmp_is_capped_and_root_is_read_only(tmp_path: Path, config: Config) -> None:
    if not config.on("bubblewrap"):
        pytest.skip("without bubblewrap /tmp is the host's (RLIMIT_FSIZE caps each file only)")
    d = tmp_path / "submission"
    d.mkdir()
    (d / "attacks.py").write_text(textwrap.dedent(ATTACKS))
    with Worker(d, WorkerLimits(tmpfs_mb=4), plan=config.plan) as w:
        assert run(w, "fill", "/tmp/a", 2) == "written"
        assert run(w, "fill", "/tmp/b", 3) == "error: ENOSPC"  # the 4 MB tmpfs is full
        assert run(w, "fill", "/new-file", 1) == "error: EROFS"
        assert run(w, "fill", "/usr/new-file", 1) == "error: EROFS"


# --------------------------------------------------------------------------- normal code


def test_threads_still_work(worker: Worker, config: Config) -> None:
    assert run(worker, "thread_sum") == sum(range(4000))
    assert run(worker, "thread_sum") == sum(range(4000))  # and again, in the same worker


def test_the_record_says_what_ran(worker: Worker, config: Config) -> None:
    seen = run(worker, "introspect")
    record = worker.isolation
    plan = config.plan
    for layer in ("uid_drop", "bubblewrap", "seccomp"):
        assert record[layer] is plan.layers[layer]
        assert (f"{layer}_reason" in record) is not plan.layers[layer]
    assert ("warning" in record) is not all(plan.layers.values())
    if "warning" in record:
        assert record["warning"].startswith("reduced isolation: ")
    assert record["uid_drop"] is (seen["uid"] != os.getuid())
    if record["uid_drop"]:
        assert seen["uid"] == record["uid"] == worker.uid
    if HAS_PROC:
        assert record["seccomp"] is (seen["seccomp"] == "2")
        assert record["bubblewrap"] is (seen["pid_ns"] != os.readlink("/proc/self/ns/pid"))
    if record["bubblewrap"]:
        host_links = {"bin", "sbin", "lib", "lib64", "lib32", "libx32"}
        assert {"dev", "proc", "tmp", "usr"} <= set(seen["root_entries"])
        assert set(seen["root_entries"]) <= {"dev", "proc", "tmp", "usr"} | host_links


# --------------------------------------------------------------------------- plan and probe


def test_modes_and_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_mode("auto") == parse_mode("") == {"uid_drop", "bubblewrap", "seccomp"}
    assert parse_mode("minimal") == frozenset()
    assert parse_mode("uid, bwrap") == {"uid_drop", "bubblewrap"}
    with pytest.raises(ConfigError, match="unknown layer 'docker'"):
        parse_mode("uid,docker")
    monkeypatch.setenv(ISOLATION_ENV, "minimal")
    plan = probe()
    assert plan.mode == "minimal" and not any(plan.layers.values())
    assert plan.record()["warning"].startswith("reduced isolation: uid_drop off")


def test_a_filter_that_cannot_load_fails_closed(tmp_path: Path) -> None:
    d = tmp_path / "submission"
    d.mkdir()
    (d / "attacks.py").write_text("def f():\n    return 1\n")
    plan = IsolationPlan(mode="broken", python=probe().python, seccomp=("seccomp", "/nonexistent"))
    with Worker(d, WorkerLimits(), plan=plan) as w:
        r = w.call(CALL, "attacks", {"function": "f", "args": []})
    assert isinstance(r, CallCrashed) and r.returncode == 4, r
    assert "seccomp filter could not be installed" in r.output_tail


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or not Path("/usr/bin/python3").exists(),
    reason="runs the probe as an unprivileged user: needs root and /usr/bin/python3",
)
def test_probe_without_root_warns() -> None:
    code = (
        f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); "
        "from grader.engine.isolation import probe; print(json.dumps(probe('auto').record()))"
    )
    out = subprocess.run(
        ["/usr/bin/python3", "-S", "-B", "-c", code],
        capture_output=True,
        text=True,
        user=65534,
        group=65534,
        extra_groups=[],
        env={"PATH": "/usr/bin:/bin"},
        check=False,
        timeout=60,
    )
    if out.returncode != 0 and "Permission denied" in out.stderr:
        pytest.skip("the repository is not readable by other users")
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["uid_drop"] is False
    assert "not running as root" in record["uid_drop_reason"]
    assert record["warning"].startswith("reduced isolation: uid_drop off")
