"""The interleaving explorer on its own, with small hand-written programs (no worker)."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from grader.simos.sync import (
    Cell,
    SyncUsageError,
    WaitQueue,
    current_thread_id,
    pool,
    spawn,
    yield_cpu,
)
from grader.simos.sync.monitor import Monitor, MutualExclusion
from grader.simos.sync.names import Namer, Places
from grader.simos.sync.record import steps
from grader.simos.sync.runtime import controller
from grader.simos.sync.scheduler import Run, RunConfig
from grader.simos.sync.search import SearchBudget, bounded, search
from grader.simos.sync.strategies import PCT, RandomWalk, Replay
from grader.simos.sync.tracing import Tracer

PROGRAM = '''
from grader.simos.sync import Cell, WaitQueue, current_thread_id


class CheckThenAct:
    def __init__(self):
        self.locked = False

    def acquire(self):
        while self.locked:
            pass
        self.locked = True

    def release(self):
        self.locked = False


class Spin:
    def __init__(self):
        self.flag = Cell(0)

    def acquire(self):
        while self.flag.test_and_set() == 1:
            pass

    def release(self):
        self.flag.store(0)


class Sleepy:
    """A sleeping lock; with racy=True it lets go of the guard before sleeping."""

    def __init__(self, racy=False):
        self.guard = Cell(0)
        self.held = None
        self.q = WaitQueue()
        self.racy = racy

    def acquire(self):
        while self.guard.test_and_set() == 1:
            pass
        if self.held is None:
            self.held = current_thread_id()
            self.guard.store(0)
        elif self.racy:
            self.guard.store(0)
            self.q.sleep()
        else:
            self.q.sleep(self.guard)

    def release(self):
        while self.guard.test_and_set() == 1:
            pass
        woken = self.q.wake_one()
        self.held = woken
        self.guard.store(0)


class Counter:
    def __init__(self):
        self.n = 0

    def inc(self):
        self.n += 1


def forever():
    while True:
        pass


def boom():
    x = [1]
    return x[3]
'''


@pytest.fixture(scope="module")
def prog(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    folder = tmp_path_factory.mktemp("prog")
    path = folder / "prog.py"
    path.write_text(textwrap.dedent(PROGRAM))
    spec = importlib.util.spec_from_file_location("prog_under_test", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tracer(prog: ModuleType, granularity: str = "line") -> Tracer:
    path = str(prog.__file__)
    return Tracer(lambda f: f == path, granularity)


def point(label: str = "") -> None:
    run = controller()
    assert run is not None
    run.point(label)


def emit(*event: Any) -> None:
    run = controller()
    assert run is not None
    run.emit(event)


def lock_program(cls: Callable[[], Any], threads: int = 2, iterations: int = 1) -> Any:
    """A run factory: threads acquire, step inside, release; mutual exclusion monitored."""

    def make(strategy: Any, config: RunConfig | None = None, hooks: Any = None) -> Run:
        lock = cls()
        monitor = MutualExclusion()

        def body() -> None:
            for _ in range(iterations):
                lock.acquire()
                emit("enter")
                point("inside")
                emit("exit")
                lock.release()

        bodies = [(f"T{i}", body, ()) for i in range(threads)]
        return Run(bodies, strategy, config or RunConfig(), hooks, monitor.feed).execute()

    return make


# ------------------------------------------------------------------------ the baton


def test_only_one_thread_runs_at_a_time_and_all_finish() -> None:
    """Between two steps a thread runs alone, even while the GIL switches every 10 us."""
    current, clashes, done = [-1], [0], [0]

    def body(me: int) -> None:
        for _ in range(40):
            current[0] = me
            until = time.perf_counter() + 0.0003
            while time.perf_counter() < until:  # untraced busy work, no step
                if current[0] != me:
                    clashes[0] += 1
            point()
            yield_cpu()
        done[0] += 1

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        run = Run([(f"T{i}", body, (i,)) for i in range(3)], RandomWalk(1, 0.5)).execute()
    finally:
        sys.setswitchinterval(old)
    assert run.stop is not None and run.stop.kind == "complete"
    assert clashes[0] == 0 and done[0] == 3
    assert sum(1 for e in run.log if e[0] == "switch") > 20


def test_replaying_a_schedule_gives_the_same_run_every_time(prog: ModuleType) -> None:
    make = lock_program(prog.Spin, threads=3, iterations=2)
    first = make(RandomWalk(7, 0.3), hooks=tracer(prog))
    assert first.stop is not None and first.stop.kind == "complete" and first.deviations

    def key(run: Run) -> list[tuple[Any, ...]]:
        return [tuple(x for x in e if isinstance(x, (int, str))) for e in run.log]

    for _ in range(30):
        again = make(Replay(dict(first.deviations)), hooks=tracer(prog))
        assert again.deviations == first.deviations
        assert key(again) == key(first)


def test_no_thread_leaks_over_many_runs(prog: ModuleType) -> None:
    make = lock_program(prog.Spin, threads=3)
    before = threading.active_count()
    for i in range(300):
        make(RandomWalk(i, 0.3), hooks=tracer(prog))
    assert threading.active_count() <= before + 4  # the pool keeps a few idle threads
    assert pool.idle_count() >= 3


# ------------------------------------------------------------------------ what it finds


def test_check_then_act_needs_two_preemptions_and_bounded_search_finds_the_minimum(
    prog: ModuleType,
) -> None:
    make = lock_program(prog.CheckThenAct, threads=2, iterations=2)
    execute = lambda s: make(s, hooks=tracer(prog))  # noqa: E731
    one = search(execute, SearchBudget(preemption_bound=1, random_schedules=0, pct_schedules=0))
    assert one.failure is None and one.complete_bound == 1
    two = search(execute, SearchBudget(preemption_bound=2, random_schedules=0, pct_schedules=0))
    assert two.failure is not None and two.phase == "bounded"
    assert len(two.failure.deviations) == 2
    assert (
        two.failure.stop is not None and "entered the critical section" in two.failure.stop.message
    )
    # the same minimal schedule every time
    again = search(execute, SearchBudget(preemption_bound=2, random_schedules=0, pct_schedules=0))
    assert again.failure is not None and again.failure.deviations == two.failure.deviations


def test_a_correct_lock_passes_the_whole_bound(prog: ModuleType) -> None:
    make = lock_program(prog.Spin, threads=2, iterations=2)
    out = search(
        lambda s: make(s, hooks=tracer(prog)), SearchBudget(random_schedules=20, pct_schedules=20)
    )
    assert out.failure is None and out.complete_bound == 2 and out.schedules > 50


def test_bounded_search_runs_each_schedule_of_the_first_level_once(prog: ModuleType) -> None:
    make = lock_program(prog.Spin, threads=2)
    first = make(Replay(), hooks=tracer(prog))
    expected = 1 + sum(a - 1 for a in first.arity)
    from grader.simos.sync.search import SearchOutcome

    out = SearchOutcome(failure=None)
    bounded(lambda s: make(s, hooks=tracer(prog)), SearchBudget(preemption_bound=1), 1e18, out)
    assert out.schedules == expected and out.complete_bound == 1


def test_a_lost_update_needs_bytecode_granularity(prog: ModuleType) -> None:
    def make(granularity: str, devs: dict[int, int]) -> tuple[Run, int]:
        c = prog.Counter()
        run = Run(
            [("T0", c.inc, ()), ("T1", c.inc, ())],
            Replay(devs),
            RunConfig(),
            tracer(prog, granularity),
        ).execute()
        return run, c.n

    line, _ = make("line", {})
    assert all(make("line", {i: 1})[1] == 2 for i in range(line.decisions))
    op, _ = make("opcode", {})
    lost = [i for i in range(op.decisions) if make("opcode", {i: 1})[1] == 1]
    assert lost, "a preemption between the read and the write of self.n loses an update"


def test_lost_wakeup_between_test_and_sleep_is_reported(prog: ModuleType) -> None:
    from grader.simos.sync.explorer import api_methods

    make = lock_program(lambda: prog.Sleepy(racy=True), threads=2)
    api = {c: m for c, m in api_methods(prog).items()}
    found = search(
        lambda s: make(s, hooks=Tracer(lambda f: f == prog.__file__, "line", api)),
        SearchBudget(random_schedules=0, pct_schedules=0),
    )
    assert found.failure is not None and found.failure.stop is not None
    assert found.failure.stop.kind == "stuck"
    final = found.failure.final
    assert [s for s, *_ in final].count("blocked") == 1


def test_deadlock_reports_the_wait_for_cycle(tmp_path: Path) -> None:
    """Opposite lock order with the reference Mutex: every thread blocked, cycle T0 → T1 → T0."""
    from grader.simos.sync.harness import explore

    ref = Path(__file__).resolve().parents[1] / "reference" / "sync" / "primitives.py"
    spec = importlib.util.spec_from_file_location("primitives_ref_x", ref)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    from grader.simos.sync.analysis import judge
    from grader.simos.sync.explorer import api_methods, student_files

    a, b = mod.Mutex(), mod.Mutex()

    def one(first: Any, second: Any) -> None:
        first.acquire()
        point("holding one")
        second.acquire()
        second.release()
        first.release()

    base, is_student = student_files(mod)
    hooks = Tracer(is_student, "line", api_methods(mod))
    stuck = None
    for k in range(1, 12):
        run = Run(
            [("T0", one, (a, b)), ("T1", one, (b, a))], Replay({k: 1}), RunConfig(), hooks
        ).execute()
        if run.stop is not None and run.stop.kind == "stuck":
            stuck = run
            break
    assert stuck is not None
    verdict = judge(stuck, Monitor(), Namer({"a": a, "b": b}), Places(is_student, base))
    assert verdict.status == "deadlock" and set(verdict.cycle) == {0, 1}
    assert "Cycle: T0 → T1 → T0" in verdict.message or "Cycle: T1 → T0 → T1" in verdict.message
    assert "which T1 holds" in verdict.message and "which T0 holds" in verdict.message
    del explore


def test_spinning_forever_hits_the_step_budget(prog: ModuleType) -> None:
    run = Run(
        [("T0", prog.forever, ())], Replay(), RunConfig(max_steps=500), tracer(prog)
    ).execute()
    assert run.stop is not None and run.stop.kind == "spinning" and run.total == 501


def test_an_exception_in_a_thread_ends_the_run(prog: ModuleType) -> None:
    run = Run(
        [("T0", prog.boom, ()), ("T1", prog.forever, ())], Replay(), RunConfig(), tracer(prog)
    ).execute()
    assert run.stop is not None and run.stop.kind == "exception"
    assert isinstance(run.stop.detail, IndexError) and not run.escaped


def test_a_real_lock_that_blocks_is_caught_quickly() -> None:
    real = threading.Lock()

    def holder() -> None:
        real.acquire()
        point("holding a threading.Lock")
        real.release()

    def blocker() -> None:
        real.acquire()  # blocks: the holder cannot run while this thread has the CPU
        real.release()

    started = time.monotonic()
    run = Run(
        [("T0", holder, ()), ("T1", blocker, ())], Replay({0: 1}), RunConfig(stall_s=10)
    ).execute()
    assert run.stop is not None and run.stop.kind == "stalled" and run.stop.tid == 1
    if Path("/proc/self/task").is_dir():
        assert run.stop.message == "asleep" and time.monotonic() - started < 3


def test_time_sleep_raises_under_the_explorer_only() -> None:
    from grader.simos.sync.kernel import guard_time_sleep

    guard_time_sleep()

    def napper() -> None:
        time.sleep(0.01)

    run = Run([("T0", napper, ())], Replay()).execute()
    assert run.stop is not None and run.stop.kind == "exception"
    assert isinstance(run.stop.detail, SyncUsageError) and "yield_cpu" in str(run.stop.detail)
    time.sleep(0)  # plain threads are unaffected


def test_a_thread_that_swallows_the_abort_escapes_and_is_reported() -> None:
    stop = threading.Event()

    def stubborn() -> None:
        while not stop.is_set():
            with contextlib.suppress(BaseException):  # swallows the explorer's Abort, on purpose
                point("spinning")

    run = Run(
        [("T0", stubborn, ())], Replay(), RunConfig(max_steps=100, join_grace_s=0.2)
    ).execute()
    assert run.stop is not None and run.stop.kind == "spinning" and run.escaped == [0]
    stop.set()


# ------------------------------------------------------------------------ kernel services


def test_wait_queue_is_fifo_and_sleep_needs_a_held_guard() -> None:
    q, order = WaitQueue(), []
    guard = Cell(0)

    def sleeper() -> None:
        q.sleep()
        order.append(current_thread_id())

    def waker() -> None:
        while q.sleeping() < 2:
            yield_cpu()
        assert q.wake_one() == 0
        assert q.wake_all() == 1
        try:
            q.sleep(guard)
        except SyncUsageError:
            order.append("refused")

    run = Run([("T0", sleeper, ()), ("T1", sleeper, ()), ("T2", waker, ())], Replay()).execute()
    assert run.stop is not None and run.stop.kind == "complete", run.stop
    assert sorted(order, key=str) == [0, 1, "refused"]


def test_spawn_and_join_under_the_explorer() -> None:
    out: list[int] = []

    def child(x: int) -> None:
        point()
        out.append(x)

    def parent() -> None:
        kids = [spawn(child, i) for i in range(3)]
        for k in kids:
            k.join()
        out.append(99)

    run = Run([("T0", parent, ())], RandomWalk(3, 0.5)).execute()
    assert run.stop is not None and run.stop.kind == "complete"
    assert sorted(out[:3]) == [0, 1, 2] and out[3] == 99 and len(run.threads) == 4


def test_the_same_primitives_run_on_real_threads() -> None:
    ref = Path(__file__).resolve().parents[1] / "reference" / "sync" / "primitives.py"
    spec = importlib.util.spec_from_file_location("primitives_ref_real", ref)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    m, total, bb, got = mod.Mutex(), [0], mod.BoundedBuffer(2), []

    def work() -> None:
        for _ in range(300):
            m.acquire()
            total[0] += 1
            m.release()

    threads = [spawn(work) for _ in range(4)]
    consumer = spawn(lambda: got.extend(bb.get() for _ in range(50)))
    for i in range(50):
        bb.put(i)
    for t in [*threads, consumer]:
        t.join()
    assert total[0] == 1200 and sorted(got) == list(range(50))
    assert controller() is None and isinstance(current_thread_id(), int)


def test_pct_with_a_fair_slice_does_not_starve_a_lock_holder(prog: ModuleType) -> None:
    make = lock_program(prog.Spin, threads=3, iterations=2)
    for seed in range(30):
        run = make(PCT(seed, depth=3, length=60), RunConfig(max_steps=5000), tracer(prog))
        assert run.stop is not None and run.stop.kind == "complete", (seed, run.stop)


def test_steps_are_listed_with_lines_and_preemptions(prog: ModuleType) -> None:
    make = lock_program(prog.CheckThenAct, threads=2, iterations=2)
    execute = lambda s: make(s, hooks=tracer(prog))  # noqa: E731
    out = search(execute, SearchBudget(random_schedules=0, pct_schedules=0))
    assert out.failure is not None
    places = Places(lambda f: f == prog.__file__, str(Path(str(prog.__file__)).parent))
    rows, omitted = steps(out.failure, Namer({}), places, MutualExclusion())
    assert omitted == 0
    assert sum(r["preempted"] for r in rows) == 2
    assert any(r["code"] == "self.locked = True" and r["where"] == "prog.py:12" for r in rows)
    assert rows[-1]["note"] == "enters the critical section"


def test_a_spin_loop_is_folded_in_the_listing(prog: ModuleType) -> None:
    run = Run(
        [("T0", prog.forever, ())], Replay(), RunConfig(max_steps=900), tracer(prog)
    ).execute()
    places = Places(lambda f: f == prog.__file__, str(Path(str(prog.__file__)).parent))
    rows, _ = steps(run, Namer({}), places, Monitor())
    assert len(rows) < 10 and any(r["kind"] == "repeat" for r in rows)


@pytest.mark.skipif(sys.platform != "linux", reason="Linux only")
def test_blocked_detection_ignores_a_thread_waiting_for_the_gil() -> None:
    from grader.simos.sync.scheduler import _kernel_state

    state = _kernel_state(threading.get_native_id())
    assert state is not None and state[0] is False and state[1] >= 0 and state[2] > 0


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_a_long_computation_without_steps_stalls_on_cpu_time() -> None:
    from fractions import Fraction

    def crunch() -> None:  # untraced Python (no step), releasing the GIL as it goes
        run = controller()
        assert run is not None
        end = time.monotonic() + 10
        while time.monotonic() < end and not run.aborted:
            sum(Fraction(i, 3) for i in range(1000))

    run = Run([("T0", crunch, ())], Replay(), RunConfig(stall_s=0.3)).execute()
    assert run.stop is not None and run.stop.kind == "stalled" and run.stop.message == "busy"


# ------------------------------------------------------------------------ properties

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

preemptions = st.lists(
    st.tuples(st.integers(0, 40), st.integers(1, 3)), max_size=4, unique_by=lambda d: d[0]
)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(devs=preemptions)
def test_any_schedule_replays_exactly_and_a_correct_lock_survives_it(
    prog: ModuleType, devs: list[tuple[int, int]]
) -> None:
    make = lock_program(prog.Spin, threads=3, iterations=1)
    first = make(Replay(dict(devs)), hooks=tracer(prog))
    assert first.stop is not None and first.stop.kind == "complete"
    again = make(Replay(dict(first.deviations)), hooks=tracer(prog))
    assert again.deviations == first.deviations
    assert [e[:2] for e in again.log] == [e[:2] for e in first.log]
    # an offset counts modulo the choices there; decisions past the end are dropped
    assert {i for i, _ in first.deviations} <= {i for i, _ in devs}


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(["lock", "semaphore", "buffer"]),
    gran=st.sampled_from(["line", "opcode"]),
    slice_=st.integers(1, 500),
    devs=preemptions,
)
def test_replay_strings_round_trip_for_any_schedule(
    kind: str, gran: str, slice_: int, devs: list[tuple[int, int]]
) -> None:
    from grader.simos.sync.schedule import Schedule, check_scenario, decode, encode

    scenario = {
        "lock": {"kind": "lock", "cls": "Mutex", "threads": 3, "iterations": 2},
        "semaphore": {"kind": "semaphore", "initial": 1, "threads": ["PCV", "V"]},
        "buffer": {"kind": "buffer", "capacity": 2, "producers": [2, 1], "consumers": [3]},
    }[kind]
    s = Schedule(check_scenario(scenario), gran, slice_, tuple(sorted(devs)))
    text = encode(s)
    assert decode(text) == s and " " not in text and len(text) < 120


def test_stress_on_real_threads_sees_only_what_the_natural_order_shows() -> None:
    """The contrast the benchmark draws: real threads catch a default-order deadlock only."""
    from grader.simos.sync.stress import stress

    root = Path(__file__).resolve().parents[1]
    ref = load_file(root / "reference" / "sync" / "primitives.py", "stress_reference")
    bad = load_file(
        root / "assignments" / "sync" / "samples" / "bb_mutex_before_slot" / "primitives.py",
        "stress_bb_mutex",
    )
    buffer = {"kind": "buffer", "capacity": 1, "producers": [2], "consumers": [2]}
    assert stress(ref, {"kind": "nobusy", "hold": 400, "limit": 40}, 0.3).problem is None
    assert stress(ref, buffer, 0.3).problem is None
    found = stress(bad, buffer, 3.0)
    assert found.problem is not None and "did not finish" in found.problem and found.runs == 1


def load_file(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_students_can_run_a_tests_search_locally(capsys: pytest.CaptureFixture[str]) -> None:
    from grader.simos.sync import explore

    root = Path(__file__).resolve().parents[1]
    bad = load_file(
        root / "assignments" / "sync" / "samples" / "spin_check_then_act" / "primitives.py",
        "local_spin_bad",
    )
    ref = load_file(root / "reference" / "sync" / "primitives.py", "local_spin_ref")
    scenario = {"kind": "lock", "cls": "SpinLock", "threads": 2, "iterations": 2}
    report = explore(bad, scenario, random_schedules=0, pct_schedules=0)
    assert report is not None and report["status"] == "violation"
    out = capsys.readouterr().out
    assert "Schedule: lock:cls=SpinLock" in out and "is preempted" in out
    assert explore(ref, scenario, preemption_bound=1, random_schedules=0, pct_schedules=0) is None
    assert "Passed:" in capsys.readouterr().out


def test_readers_leaving_together_lose_a_decrement_after_one_preemption() -> None:
    """The rw_leave scenario: release_read's `readers -= 1` outside the mutex fails with a
    single preemption, a few dozen schedules in (the general rw scenario needs two and
    thousands); the reference survives every schedule with two preemptions."""
    from grader.simos.sync.explorer import Explorer
    from grader.simos.sync.schedule import check_scenario

    root = Path(__file__).resolve().parents[1]
    bad = load_file(
        root / "assignments" / "sync" / "samples" / "rw_release_unlocked" / "primitives.py",
        "local_rw_leave_bad",
    )
    ref = load_file(root / "reference" / "sync" / "primitives.py", "local_rw_leave_ref")
    scenario = check_scenario({"kind": "rw_leave", "readers": 2})
    only_bounded = {"random_schedules": 0, "pct_schedules": 0}
    found = Explorer(bad, scenario, "opcode").search(
        SearchBudget(preemption_bound=1, **only_bounded)
    )
    assert found.failure is not None and found.schedules < 200
    assert "sleeps in ReadWriteLock.acquire_write" in str(
        Explorer(bad, scenario, "opcode").report(found.failure)
    )
    # at line granularity the decrement is one step: the same bug cannot show
    assert Explorer(bad, scenario, "line").search(SearchBudget(**only_bounded)).failure is None
    passed = Explorer(ref, scenario, "opcode").search(
        SearchBudget(preemption_bound=2, **only_bounded)
    )
    assert passed.failure is None and passed.complete_bound == 2
