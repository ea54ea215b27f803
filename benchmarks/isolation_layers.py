"""Cost of each isolation layer: worker start, restart after a kill, per-call overhead, and
the grading time of the scheduling reference with every layer on vs the lightest.

Configurations: ``minimal`` (process group, rlimits, private dir only), each optional
layer alone (``uid``, ``bwrap``, ``seccomp``) and ``auto`` (every layer this machine
has). Layers the machine lacks are reported and skipped. Prints figures only.

Run: python benchmarks/isolation_layers.py [--quick]   (target: auto < 1.5x minimal)
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.engine.assignment import find_assignment  # noqa: E402
from grader.engine.grade import grade  # noqa: E402
from grader.engine.isolation import ISOLATION_ENV, parse_mode, probe  # noqa: E402
from grader.engine.worker import CallOk, Worker, WorkerLimits  # noqa: E402

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

CONFIGS = ["minimal", "uid", "bwrap", "seccomp", "auto"]
CALL = "grader.sandbox.entries:call"
RUN = "grader.simos.scheduling.harness:run"
JOBS = [{"id": i, "arrival": 2 * i, "bursts": [3, 2, 4]} for i in range(20)]
ADD = {"function": "add", "args": [1, 2]}


def check(result: object) -> None:
    assert isinstance(result, CallOk), result


def per_call_us(fn: Callable[[], object], n: int) -> float:
    for _ in range(min(n // 10, 200)):
        fn()
    best = []
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best.append((time.perf_counter() - t) / n * 1e6)
    return min(best)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


def available(config: str) -> tuple[bool, str]:
    plan = probe(config)
    wanted = parse_mode(config)
    missing = [f"{name}: {plan.reasons[name]}" for name in sorted(wanted) if not plan.layers[name]]
    if missing and config != "auto":
        return False, "; ".join(missing)
    on = [name for name, v in plan.layers.items() if v]
    return True, ", ".join(on) or "none"


def worker_figures(
    config: str, sub: Path, rounds: int, calls: int, python: str | None = None
) -> dict[str, float]:
    out: dict[str, float] = {}
    t = time.perf_counter()
    w = Worker(sub, WorkerLimits(), isolation=config, python=python)
    out["create_ms"] = (time.perf_counter() - t) * 1e3
    with w:
        check(w.call(CALL, "policies", ADD))
        starts, restarts, kills = [], [], []
        for _ in range(rounds):
            w.kill()
            t = time.perf_counter()
            w.start()
            check(w.ping())
            starts.append(time.perf_counter() - t)
        for _ in range(rounds):
            t = time.perf_counter()
            w.kill()
            kills.append(time.perf_counter() - t)
            t = time.perf_counter()
            check(w.call(CALL, "policies", ADD))  # spawn + import the submission + call
            restarts.append(time.perf_counter() - t)
        out["start_ms"] = median_ms(starts)
        out["kill_ms"] = median_ms(kills)
        out["restart_ms"] = median_ms(restarts)
        out["ping_us"] = per_call_us(lambda: check(w.ping()), calls)
        out["add_us"] = per_call_us(lambda: check(w.call(CALL, "policies", ADD)), calls)
        out["fcfs_us"] = per_call_us(
            lambda: check(w.call(RUN, "policies", {"policy": "FCFS", "jobs": JOBS})),
            max(calls // 10, 100),
        )
    return out


def grade_seconds(config: str) -> tuple[float, str]:
    os.environ[ISOLATION_ENV] = config
    try:
        a = find_assignment("scheduling", ROOT / "assignments")
        t = time.perf_counter()
        report = grade(a, ROOT / "reference" / "scheduling")
        took = time.perf_counter() - t
        examples = sum(t.examples for t in report.tests)
        return took, f"score {report.score:g}/{report.max_score:g}, {examples} calls"
    finally:
        os.environ.pop(ISOLATION_ENV, None)


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    rounds, calls, repeats = (5, 2_000, 1) if quick else (20, 10_000, 3)
    print(f"python {sys.version.split()[0]}, uid {os.geteuid()}, {os.cpu_count()} CPUs")
    configs = []
    for config in CONFIGS:
        ok, text = available(config)
        print(f"  {config:8} {'layers: ' if ok else 'SKIPPED: '}{text}")
        if ok:
            configs.append(config)

    tmp = Path(tempfile.mkdtemp(prefix="osgrade-bench-"))
    try:
        (tmp / "policies.py").write_text(SOURCE)
        rows = {c: worker_figures(c, tmp, rounds, calls) for c in configs}
        system = probe("auto").python
        if system is not None and os.path.realpath(system) != os.path.realpath(sys.executable):
            # minimal runs the grader's interpreter; the layers need the system one
            rows["minimal, " + system] = worker_figures("minimal", tmp, rounds, calls, system)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    head = (
        f"{'config':9}{'create':>9}{'start':>9}{'kill':>9}{'restart':>9}"
        f"{'ping':>10}{'add()':>10}{'FCFS x20':>11}"
    )
    print(head)
    print(f"{'':9}{'ms':>9}{'ms':>9}{'ms':>9}{'ms':>9}{'us':>10}{'us':>10}{'us':>11}")
    for c, r in rows.items():
        if len(c) > 9:
            print(c)
            c = ""
        print(
            f"{c:9}{r['create_ms']:9.1f}{r['start_ms']:9.1f}{r['kill_ms']:9.1f}"
            f"{r['restart_ms']:9.1f}{r['ping_us']:10.1f}{r['add_us']:10.1f}{r['fcfs_us']:11.1f}"
        )
    print(
        "create: copy the submission and runtime (and take a uid); start: spawn to first"
        " reply;\nrestart: first call after a kill (spawn, import the submission, call)."
    )

    print()
    graded: dict[str, list[float]] = {}
    summary = ""
    for _ in range(repeats):  # interleaved, so that load from elsewhere hits both alike
        for c in ("minimal", "auto"):
            if c in configs:
                took, summary = grade_seconds(c)
                graded.setdefault(c, []).append(took)
    for c, times in graded.items():
        print(
            f"grade reference/scheduling, {c:8} median {statistics.median(times):6.2f} s, "
            f"min {min(times):6.2f} s over {len(times)} ({summary})"
        )
    if len(graded) == 2:
        ratio = statistics.median(graded["auto"]) / statistics.median(graded["minimal"])
        print(f"all layers / minimal (medians): {ratio:.2f}x (target < 1.5x)")


if __name__ == "__main__":
    main()
