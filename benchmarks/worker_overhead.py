"""Cost of the sandboxed worker: per-call overhead, start time, restart time after a kill.

Prints figures only (no assertions). Compares the same entry point called in-process
with the call going through the worker subprocess (JSON framing over pipes, pydantic
validation of the reply), for a trivial function and for a small scheduling run.
Run: python benchmarks/worker_overhead.py
"""

from __future__ import annotations

import importlib.util
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.engine.worker import CallOk, Worker, WorkerLimits  # noqa: E402
from grader.sandbox import entries  # noqa: E402
from grader.simos.scheduling import harness  # noqa: E402

SOURCE = """
from grader.simos.scheduling import Scheduler


def add(a, b):
    return a + b


class FCFS(Scheduler):
    def __init__(self):
        self.queue = []

    def ready(self, job, now, reason):
        self.queue.append(job.id)

    def dispatch(self, now):
        return self.queue.pop(0) if self.queue else None
"""

JOBS = [{"id": i, "arrival": 2 * i, "bursts": [3, 2, 4]} for i in range(20)]
CALL = "grader.sandbox.entries:call"
RUN = "grader.simos.scheduling.harness:run"


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("policies", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def per_call_us(fn: Callable[[], Any], n: int) -> float:
    for _ in range(min(n // 10, 200)):  # warm up
        fn()
    best = []
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best.append((time.perf_counter() - t) / n * 1e6)
    return min(best)


def ms(samples: list[float]) -> str:
    return (
        f"median {statistics.median(samples) * 1e3:6.1f} ms  "
        f"min {min(samples) * 1e3:6.1f} ms  max {max(samples) * 1e3:6.1f} ms"
    )


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="osgrade-bench-"))
    try:
        measure(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure(tmp: Path) -> None:
    (tmp / "policies.py").write_text(SOURCE)
    module = load(tmp / "policies.py")
    add_args = {"function": "add", "args": [1, 2]}
    run_args = {"policy": "FCFS", "jobs": JOBS}
    print(f"python {sys.version.split()[0]} on {sys.platform}")

    with Worker(tmp, WorkerLimits()) as w:

        def check(result: object) -> None:
            assert isinstance(result, CallOk), result

        check(w.call(CALL, "policies", add_args))
        rows = [
            (
                "ping (no student code)",
                lambda: None,
                lambda: check(w.ping()),
                20_000,
            ),
            (
                "entries.call add(1, 2)",
                lambda: entries.call(module, add_args),
                lambda: check(w.call(CALL, "policies", add_args)),
                20_000,
            ),
            (
                "harness.run FCFS, 20 jobs",
                lambda: harness.run(module, run_args),
                lambda: check(w.call(RUN, "policies", run_args)),
                2_000,
            ),
        ]
        print(f"{'per call':28} {'in-process':>12} {'worker':>12} {'overhead':>12}")
        for name, local, remote, n in rows:
            a = per_call_us(local, n)
            b = per_call_us(remote, n)
            print(f"{name:28} {a:9.1f} us {b:9.1f} us {b - a:9.1f} us")

        starts, restarts, kills = [], [], []
        for _ in range(20):
            w.kill()
            t = time.perf_counter()
            w.start()
            check(w.ping())
            starts.append(time.perf_counter() - t)
        for _ in range(20):
            t = time.perf_counter()
            w.kill()
            kills.append(time.perf_counter() - t)
            t = time.perf_counter()
            check(w.call(CALL, "policies", add_args))  # spawn + import the submission + call
            restarts.append(time.perf_counter() - t)
        print(f"worker start to first reply (ping):      {ms(starts)}")
        print(f"kill (SIGKILL the group, reap):          {ms(kills)}")
        print(f"first call after a kill (restart+import): {ms(restarts)}")
        print(f"worker starts in this run: {w.starts}")


if __name__ == "__main__":
    main()
