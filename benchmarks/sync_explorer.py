"""How fast the sync explorer is, how fast it catches each catalogued bug, and real threads for contrast.

    python benchmarks/sync_explorer.py           # everything (a few minutes)
    python benchmarks/sync_explorer.py --quick   # smaller counts
    python benchmarks/sync_explorer.py --matrix  # grade every sample on every test (slow)

Prints, in this order:

1. steps per second of the explorer at line and at bytecode (opcode) level, with and
   without switching threads;
2. for each catalogued bug (assignments/sync/samples, the first test its NOTES.md names):
   the time to catch it with the assignment's budget, the schedules it took, the phase
   (bounded / random / pct) and the preemptions of the counterexample (target: < 2 s);
3. the time to verify the reference with every test's scenarios and budget, in this
   process and through the sandboxed worker (`osgrade grade`) (target: < 20 s);
4. the same bugs stress-tested on real threads (no explorer; grader/simos/sync/stress.py)
   for the same wall time each (at least 2 s), and how many of them that catches;
5. the hostile samples through the worker.

``--matrix`` instead grades every sample with every test through the worker and checks
that exactly the tests its NOTES.md names fail (the test suite checks the first few).

The explorer runs in this process for 1, 2 and 3 (the hostile samples, which escape or
block threads, only through the worker). Figures depend on the machine's load: say what
it was when you quote them.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.engine.assignment import find_assignment  # noqa: E402
from grader.engine.grade import grade, load_properties  # noqa: E402
from grader.simos.sync.explorer import Explorer  # noqa: E402
from grader.simos.sync.scheduler import Run, RunConfig  # noqa: E402
from grader.simos.sync.search import SearchBudget  # noqa: E402
from grader.simos.sync.strategies import Replay  # noqa: E402
from grader.simos.sync.stress import stress  # noqa: E402
from grader.simos.sync.tracing import Tracer  # noqa: E402

SAMPLES = ROOT / "assignments" / "sync" / "samples"
HOSTILE = {
    "bare_except_spin",
    "real_threading_lock",
    "time_sleep",
    "infinite_loop",
    "raises",
    "syntax_error",
}
LOOP = "def loop(n):\n    x = 0\n    for i in range(n):\n        x += 1\n    return x\n"


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def steps_per_second(n: int) -> None:
    import tempfile

    folder = Path(tempfile.mkdtemp())
    (folder / "loop.py").write_text(LOOP)
    mod = load(folder / "loop.py", "bench_loop")
    print("1. Explorer speed (steps per second, wall clock)")
    for granularity in ("line", "opcode"):
        for threads, slice_ in ((1, 10**9), (2, 10**9), (2, 1)):
            config = RunConfig(max_steps=10**8, time_slice=slice_)
            bodies = [(f"T{i}", mod.loop, (n,)) for i in range(threads)]
            tracer = Tracer(lambda f: f.endswith("loop.py"), granularity)
            started = time.perf_counter()
            run = Run(bodies, Replay(), config, tracer).execute()
            dt = time.perf_counter() - started
            switches = sum(1 for e in run.log if e[0] == "switch")
            what = (
                "no switch"
                if threads == 1
                else ("switch at every step" if slice_ == 1 else "2 threads, one after the other")
            )
            print(
                f"   {granularity:<6} {what:<32} {run.total / dt:>12,.0f} steps/s  ({switches} switches)"
            )


def tests_and_scenarios() -> tuple[Any, dict[str, tuple[Any, list[tuple[dict[str, Any], str]]]]]:
    a = find_assignment("sync", ROOT / "assignments")
    props = load_properties(a)
    out = {}
    for t in a.spec.tests:
        spec = props[t.property]
        out[t.id] = (a.params_for(t, spec.params_model), spec.fn.scenarios)
    return a, out


def explore_test(
    module: ModuleType, params: Any, scenarios: list[tuple[dict[str, Any], str]]
) -> tuple[float, int, str, Any]:
    """Run a test's search in-process: (seconds, schedules, phase, the failing run or None)."""
    budget = SearchBudget(
        preemption_bound=params.preemption_bound,
        max_schedules=params.max_schedules,
        random_schedules=params.random_schedules,
        pct_schedules=params.pct_schedules,
        pct_depth=params.pct_depth,
        seed=params.seed,
        time_budget_s=params.time_budget_s,
    )
    config = RunConfig(
        time_slice=params.time_slice, max_steps=params.max_steps, stall_s=params.stall_s
    )
    started, schedules = time.perf_counter(), 0
    for scenario, granularity in scenarios:
        out = Explorer(module, scenario, granularity, config).search(budget)
        schedules += out.schedules
        if out.failure is not None:
            return time.perf_counter() - started, schedules, out.phase, out.failure
    return time.perf_counter() - started, schedules, "", None


def must_lose(name: str) -> list[str]:
    text = (SAMPLES / name / "NOTES.md").read_text()
    found = re.search(r"\[(.*?)\]", text)
    return [x.strip() for x in found.group(1).split(",") if x.strip()] if found else []


def catalogue(tests: dict[str, Any]) -> list[tuple[str, str, float, Any]]:
    print("\n2. Time to catch each catalogued bug (in this process; target < 2 s each)")
    print(
        f"   {'bug':<30} {'test':<17} {'time':>7} {'schedules':>9}  phase    preemptions  verdict"
    )
    rows = []
    for sample in sorted(p.name for p in SAMPLES.iterdir() if (p / "NOTES.md").exists()):
        if sample in HOSTILE or not must_lose(sample):
            continue  # the hostile ones go through the worker; correct_alt loses nothing
        test = must_lose(sample)[0]
        params, scenarios = tests[test]
        module = load(SAMPLES / sample / "primitives.py", f"bench_{sample}")
        seconds, schedules, phase, failure = explore_test(module, params, scenarios)
        verdict = failure.stop.kind if failure is not None else "NOT CAUGHT"
        pre = len(failure.deviations) if failure is not None else "-"
        print(
            f"   {sample:<30} {test:<17} {seconds:>6.2f}s {schedules:>9}  {phase or '-':<8} {pre!s:>11}  {verdict}"
        )
        rows.append((sample, test, seconds, failure))
    return rows


def hostile(a: Any) -> None:
    print("\n5. The hostile samples, graded through the sandboxed worker (the test named first):")
    for sample in sorted(HOSTILE):
        test = must_lose(sample)[0]
        only = None if test == "every test" else [test]
        started = time.perf_counter()
        report = grade(a, SAMPLES / sample, only=only, max_examples=1)
        t = report.tests[0]
        print(
            f"   {sample:<30} {t.id:<17} {time.perf_counter() - started:>6.2f}s  {t.outcome}: {t.message[:70]}"
        )


def references(a: Any, tests: dict[str, Any]) -> None:
    print("\n3. Verifying the reference with every test's budget (target < 20 s)")
    module = load(ROOT / "reference" / "sync" / "primitives.py", "bench_reference")
    total = 0.0
    for test, (params, scenarios) in tests.items():
        seconds, schedules, _, failure = explore_test(module, params, scenarios)
        total += seconds
        status = "ok" if failure is None else f"FAILED: {failure.stop.kind}"
        print(f"   {test:<17} {seconds:>6.2f}s {schedules:>6} schedules  {status}")
    print(f"   in this process: {total:.1f} s")
    started = time.perf_counter()
    report = grade(a, ROOT / "reference" / "sync")
    print(
        f"   `osgrade grade sync reference/sync` (worker, sandbox, {a.spec.hypothesis.max_examples} "
        f"examples per test): {time.perf_counter() - started:.1f} s, score {report.score:g}/{report.max_score:g}"
    )


def real_threads(
    rows: list[tuple[str, str, float, Any]], tests: dict[str, Any], floor: float
) -> None:
    print(
        "\n4. The same bugs on real threads (stress test, same wall time each, at least "
        f"{floor:g} s)"
    )
    caught = 0
    for sample, test, seconds, _failure in rows:
        module = load(SAMPLES / sample / "primitives.py", f"stress_{sample}")
        budget = max(seconds, floor)
        _, scenarios = tests[test]
        runs, problem = 0, None
        end = time.monotonic() + budget
        for scenario, _g in scenarios:
            left = end - time.monotonic()
            if left <= 0:
                break
            result = stress(module, scenario, left / len(scenarios))
            runs += result.runs
            if result.problem:
                problem = result.problem
                break
        caught += problem is not None
        print(
            f"   {sample:<30} {budget:>6.2f}s {runs:>7} runs  {'caught: ' + problem[:60] if problem else 'not caught'}"
        )
    print(
        f"   real threads caught {caught} of {len(rows)} bugs; the explorer caught "
        f"{sum(f is not None for *_, f in rows)} of {len(rows)}"
    )


def matrix(a: Any) -> int:
    every = {t.id for t in a.spec.tests}
    bad = 0
    for sample in sorted(p.name for p in SAMPLES.iterdir() if (p / "NOTES.md").exists()):
        started = time.perf_counter()
        report = grade(a, SAMPLES / sample)
        failed = {t.id for t in report.tests if t.outcome != "passed"}
        named = set(must_lose(sample))
        want = every if named == {"every test"} else named
        verdict = "ok" if failed == want else f"MISMATCH: failed {sorted(failed)}"
        bad += failed != want
        print(
            f"{sample:<30} {time.perf_counter() - started:6.1f}s  {len(failed):>2} tests lost  {verdict}"
        )
    return bad


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller counts")
    p.add_argument("--matrix", action="store_true", help="every sample on every test")
    args = p.parse_args()
    print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)\n")
    if args.matrix:
        sys.exit(1 if matrix(find_assignment("sync", ROOT / "assignments")) else 0)
    steps_per_second(5_000 if args.quick else 50_000)
    a, tests = tests_and_scenarios()
    rows = catalogue(tests)
    references(a, tests)  # before the stress tests, whose hung threads linger in this process
    real_threads(rows, tests, 0.5 if args.quick else 2.0)
    hostile(a)


if __name__ == "__main__":
    main()
