"""The dining philosophers, run on the student's own locks under the interleaving explorer.

STANDARD LIBRARY ONLY. Part 5 of the deadlock assignment. ``n`` philosophers sit at a
round table with one fork between each two neighbours; philosopher ``i`` eats with fork
``i`` (its left) and fork ``(i + 1) % n`` (its right). Each fork is the student's own
``Mutex`` (their ``primitives.py`` from the synchronization assignment), inside a
``Fork`` that tells the grader what happens to it. The student writes, in
``deadlock.py``, one meal of philosopher ``i`` four ways (``philosopher_naive``,
``philosopher_all_at_once``, ``philosopher_release_retry``, ``philosopher_ordered``,
each ``(table, i)``); the test program calls it ``meals`` times on thread ``Ti``.

This module registers the scenario kind ``"philosophers"`` with the explorer
(grader.simos.sync.registry) when it is imported, and holds its monitor (``Dining``), the
worker entries (``explore``, ``replay``: those of the synchronization assignment) and,
for the trusted parent, ``wait_for_cycle`` and ``lock_trace``, which read a run's events.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType
from typing import Any

from grader.simos.sealed import Sealed
from grader.simos.sync import harness as _harness
from grader.simos.sync import local as _local
from grader.simos.sync.analysis import functional_cycle
from grader.simos.sync.errors import ExplorerError, SubmissionShapeError
from grader.simos.sync.explorer import Explorer
from grader.simos.sync.monitor import Event, Monitor
from grader.simos.sync.program import Body, Program, emit, make, point, until
from grader.simos.sync.registry import ScenarioKind, register
from grader.simos.sync.schedule import check_scenario
from grader.simos.sync.scheduler import RunConfig

from .locks import LockTrace

# What a student may import from here (the submission gate allows a grader module's __all__
# only): the parent and the worker entries reach the rest by name.
__all__ = ["Fork", "Table", "explore_here", "lock_trace_here", "replay_here"]

KIND = "philosophers"
VARIANTS = ("naive", "all_at_once", "release_retry", "ordered")
SCHEMA: dict[str, tuple[str, Any, Any]] = {
    "variant": ("str", VARIANTS, None),
    "philosophers": ("int", 2, 5),
    "meals": ("int", 1, 3),
    "serial": ("int", 0, 1),  # 1: each philosopher starts when the one before has finished
}
PRIMITIVES = "primitives"


def _site() -> str:
    """The line that called the Fork method: "deadlock.py:57" (for lock traces)."""
    frame = sys._getframe(2)
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


class Fork(metaclass=Sealed):
    """Fork ``number``: the student's Mutex, and what the grader watches of it.

    ``acquire()`` waits until you hold the fork; ``release()`` puts it down;
    ``try_acquire()`` takes it only if nobody holds it or waits for it, and says whether
    it did (it never waits); ``in_use()`` says whether somebody holds it or waits for it.
    """

    __sealed__ = True  # the course's class: students subclass it, never change it

    def __init__(self, number: int, mutex: Any) -> None:
        self.number = number
        self._mutex = mutex
        self._claims = 0  # holders and waiters: changed only between two steps, so atomically

    def __repr__(self) -> str:
        return f"Fork({self.number})"

    def in_use(self) -> bool:
        return self._claims > 0

    def acquire(self) -> None:
        emit("want", self.number, self._claims > 0, _site())
        self._claims += 1
        try:
            self._mutex.acquire()
        except BaseException:
            self._claims -= 1
            raise
        emit("take", self.number, _site())

    def try_acquire(self) -> bool:
        if self._claims > 0:
            emit("try", self.number, False, _site())
            return False
        self._claims += 1
        try:
            self._mutex.acquire()  # free and nobody waiting: a correct Mutex does not wait
        except BaseException:
            self._claims -= 1
            raise
        emit("try", self.number, True, _site())
        return True

    def release(self) -> None:
        emit("put", self.number, _site())
        self._mutex.release()
        self._claims -= 1


class Table(metaclass=Sealed):
    """The table of philosopher ``i``'s code: its forks, ``eat``, and a monitor.

    ``left(i)`` is fork ``i``, ``right(i)`` fork ``(i + 1) % n``. ``eat(i)``: philosopher
    ``i`` eats (holding both its forks). ``lock`` is a Mutex and, in the all-at-once
    version, ``changed`` a Condition on it (``None`` in the other versions).
    """

    __sealed__ = True  # the course's class: students subclass it, never change it

    def __init__(self, forks: list[Fork], lock: Any, changed: Any) -> None:
        self.n = len(forks)
        self.forks = tuple(forks)
        self.lock = lock
        self.changed = changed

    def left(self, i: int) -> Fork:
        return self.forks[i % self.n]

    def right(self, i: int) -> Fork:
        return self.forks[(i + 1) % self.n]

    def eat(self, i: int) -> None:
        emit("eat", i)
        point("eating")
        emit("ate", i)


# ----------------------------------------------------------------------------- the monitor

_RULES = {
    "all_at_once": "all at once: a philosopher takes both forks when both are free, and waits "
    "holding none",
    "release_retry": "release and retry: a philosopher that cannot get its second fork puts "
    "the first one down before it tries again",
    "ordered": "ordered: every philosopher takes the lower-numbered of its two forks first",
}


class Dining(Monitor):
    """The rules of the dining philosophers, from the events of the Fork and the Table.

    Always: a philosopher uses only its own two forks, never holds a fork somebody else
    holds, eats holding both, never next to an eating neighbour, eats once per call and
    returns holding nothing. Per variant (``_RULES``): all at once never asks for a fork
    in use while holding the other; release and retry never waits for a fork while
    holding one and puts its fork down after a failed try; ordered asks for the lower
    number first.
    """

    def __init__(self, n: int, variant: str, meals: int, rules: bool = True) -> None:
        self.n = n
        self.version = variant
        self.variant = variant if rules else "naive"  # whose rules apply; naive has none
        self.meals = meals
        self.holder: dict[int, int] = {}  # fork -> philosopher
        self.eating: set[int] = set()
        self.ate: dict[int, int] = {}  # philosopher -> times eaten in the current call
        self.done: dict[int, int] = {}  # philosopher -> calls finished
        self.owing: dict[int, int] = {}  # failed to try this fork while holding one

    def forks_of(self, i: int) -> tuple[int, int]:
        return i % self.n, (i + 1) % self.n

    def held(self, i: int) -> list[int]:
        return sorted(k for k, p in self.holder.items() if p == i)

    def _broke(self, i: int, what: str) -> str:
        return f"T{i} {what}: that breaks the rule of this version ({_RULES[self.variant]})."

    def _asks(self, i: int, k: int, in_use: bool, how: str) -> str | None:
        mine = self.forks_of(i)
        if k not in mine:
            return f"T{i} reached for fork {k}, which is not one of its forks ({mine[0]} and {mine[1]})."
        if self.holder.get(k) == i:
            return f"T{i} asked for fork {k}, which it already holds."
        held = self.held(i)
        holding = f"holding fork {held[0]}" if held else ""
        if self.variant == "ordered" and held and k < max(held):
            return self._broke(i, f"asked for fork {k} while {holding}")
        if self.variant in ("all_at_once", "release_retry") and held and in_use:
            return self._broke(i, f"{how} fork {k}, which was in use, while {holding}")
        if self.variant == "release_retry" and i in self.owing:
            return self._broke(
                i, f"could not get fork {self.owing[i]} and, still {holding}, {how} fork {k}"
            )
        return None

    def _take(self, i: int, k: int) -> str | None:
        other = self.holder.get(k)
        if other is not None and other != i:
            return (
                f"T{i} got fork {k} while T{other} still held it: two philosophers hold one "
                "fork, so the Mutex let two threads in."
            )
        self.holder[k] = i
        return None

    def feed(self, tid: int, event: Event) -> str | None:
        name = event[0]
        if name == "want":
            return self._asks(tid, int(event[1]), bool(event[2]), "asked for")
        if name == "try":
            k, ok = int(event[1]), bool(event[2])
            problem = self._asks(tid, k, False, "tried to take")
            if problem:
                return problem
            if ok:
                return self._take(tid, k)
            held = self.held(tid)
            if held and self.variant == "all_at_once":
                return self._broke(
                    tid, f"tried fork {k}, which was in use, while holding fork {held[0]}"
                )
            if held:
                self.owing[tid] = k  # release and retry: it must put its fork down now
            return None
        if name == "take":
            return self._take(tid, int(event[1]))
        if name == "put":
            k = int(event[1])
            if self.holder.get(k) != tid:
                return f"T{tid} put down fork {k}, which it does not hold."
            del self.holder[k]
            if not self.held(tid):
                self.owing.pop(tid, None)
            return None
        if name == "eat":
            return self._eat(tid, int(event[1]))
        if name == "ate":
            self.eating.discard(tid)
        elif name == "hungry":
            self.ate[tid] = 0
        elif name == "full":
            return self._full(tid, int(event[1]))
        return None

    def _eat(self, tid: int, i: int) -> str | None:
        if i != tid:
            return (
                f"Philosopher {tid} called table.eat({i}); it must eat as itself: table.eat({tid})."
            )
        left, right = self.forks_of(tid)
        missing = [k for k in (left, right) if self.holder.get(k) != tid]
        if missing:
            which = " and ".join(f"fork {k}" for k in missing)
            return f"T{tid} started eating without {which}: a philosopher eats with both its forks."
        for other in ((tid - 1) % self.n, (tid + 1) % self.n):
            if other in self.eating and other != tid:
                return f"T{tid} started eating while its neighbour T{other} was eating."
        self.eating.add(tid)
        self.ate[tid] = self.ate.get(tid, 0) + 1
        return None

    def _full(self, tid: int, meal: int) -> str | None:
        times = self.ate.get(tid, 0)
        fn = f"philosopher_{self.version}(table, {tid})"
        if times != 1:
            what = "without eating" if times == 0 else f"after eating {times} times"
            return f"{fn} returned {what}; each call is one meal: eat exactly once."
        held = self.held(tid)
        if held:
            forks = " and ".join(f"fork {k}" for k in held)
            return f"{fn} returned still holding {forks}; put both forks down before returning."
        self.done[tid] = self.done.get(tid, 0) + 1
        return None

    def finish(self) -> str | None:
        for i in range(self.n):
            if self.done.get(i, 0) != self.meals:
                return f"T{i} had {self.done.get(i, 0)} of its {self.meals} meals."
        return None

    def could_proceed(self, tid: int, call: str) -> str | None:
        if call == "Condition.wait" and tid < self.n:
            left, right = self.forks_of(tid)
            if left not in self.holder and right not in self.holder:
                return (
                    f"T{tid} sleeps in table.changed.wait() forever although both its forks "
                    f"({left} and {right}) are free"
                )
        return None

    def describe(self, event: Event) -> str:
        name = event[0]
        if name == "want":
            return f"asks for fork {event[1]}" + (" (in use)" if event[2] else "")
        if name == "take":
            return f"has fork {event[1]}"
        if name == "try":
            return f"tries fork {event[1]}: " + ("takes it" if event[2] else "in use")
        if name == "put":
            return f"puts fork {event[1]} down"
        return {
            "eat": "starts eating",
            "ate": "stops eating",
            "hungry": f"is hungry (meal {event[1] + 1 if len(event) > 1 else ''})",
            "full": "has had its meal",
        }.get(name, super().describe(event))


def monitor(s: dict[str, Any]) -> Dining:
    """A serial run (one philosopher after another) checks only the rules of every version:
    it is there to record which forks each version takes, not to judge the version."""
    return Dining(s["philosophers"], s["variant"], s["meals"], rules=not s["serial"])


# ----------------------------------------------------------------------------- the program


def primitives_of(module: ModuleType) -> ModuleType:
    """The student's primitives.py, beside ``module`` (raises SubmissionShapeError)."""
    file = getattr(module, "__file__", None)
    base = os.path.dirname(os.path.abspath(file)) if isinstance(file, str) else os.getcwd()
    path = os.path.join(base, f"{PRIMITIVES}.py")
    if not os.path.isfile(path):
        raise SubmissionShapeError(
            f"{PRIMITIVES}.py is missing: the dining philosophers run on your Mutex and "
            "Condition; copy primitives.py from your synchronization assignment next to deadlock.py"
        )
    loaded = sys.modules.get(PRIMITIVES) or importlib.import_module(PRIMITIVES)
    there = getattr(loaded, "__file__", None)
    if not isinstance(there, str) or os.path.abspath(there) != path:
        raise SubmissionShapeError(
            f"the module {PRIMITIVES!r} was not loaded from {PRIMITIVES}.py beside deadlock.py"
        )
    return loaded


def _build(module: ModuleType, s: dict[str, Any]) -> Program:
    variant, n = s["variant"], s["philosophers"]
    name = f"philosopher_{variant}"
    fn = getattr(module, name, None)
    if not callable(fn):
        raise SubmissionShapeError(
            f"deadlock.py has no function {name}; define `def {name}(table, i)`"
        )
    prims = primitives_of(module)
    try:
        mutexes = [make(prims, "Mutex") for _ in range(n)]
        lock = make(prims, "Mutex")
        changed = make(prims, "Condition", lock) if variant == "all_at_once" else None
    except NotImplementedError as exc:
        raise SubmissionShapeError(
            f"primitives.py: {exc} raises NotImplementedError (the template's file?). The "
            "forks are your Mutex: copy primitives.py from your synchronization assignment."
        ) from None
    table = Table([Fork(k, m) for k, m in enumerate(mutexes)], lock, changed)

    finished = [False] * n

    def body(i: int) -> None:
        if s["serial"] and i:
            until(lambda: finished[i - 1], f"T{i - 1} has had its meals")
        for meal in range(s["meals"]):
            emit("hungry", meal)
            fn(table, i)
            emit("full", meal)
        finished[i] = True

    bodies: list[Body] = [(f"T{i}", body, (i,)) for i in range(n)]
    roots: dict[str, Any] = {f"fork{k}": m for k, m in enumerate(mutexes)}
    roots["table.lock"] = lock
    if changed is not None:
        roots["table.changed"] = changed
    return Program(bodies, monitor(s), roots)


register(KIND, ScenarioKind(SCHEMA, _build, monitor, primitives_of))

# The worker entries: the synchronization assignment's, with this kind registered.
explore = _harness.explore
replay = _harness.replay


def run_default(module: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """Worker entry: the default schedule of one scenario, and its report even if it passed
    (its events give the lock trace of a run). ``args``: {"scenario": {...}, "config": {...}}."""
    s = check_scenario(args.get("scenario"))
    if s["kind"] != KIND:
        raise ExplorerError(f"run_default runs the {KIND!r} scenarios only, got {s['kind']!r}")
    given = args.get("config") or {}
    if type(given) is not dict or set(given) - {"max_steps", "stall_s"}:
        raise ExplorerError(f"config takes only max_steps and stall_s, got {given!r}")
    if not all(type(v) in (int, float) and v > 0 for v in given.values()):
        raise ExplorerError(f"config: every value must be a number > 0, got {given!r}")
    config = RunConfig(**given)
    explorer = Explorer(module, s, "line", config)
    return explorer.report(explorer.replay({}))


# The tests' search, as the handout states it (assignment.toml [params] is the source).
TEST_BUDGET: dict[str, Any] = {
    "preemption_bound": 2,
    "max_schedules": 300,
    "random_schedules": 25,
    "pct_schedules": 25,
    "pct_depth": 3,
    "time_budget_s": 10.0,
}


def scenario(
    variant: str, philosophers: int = 3, meals: int = 2, serial: bool = False
) -> dict[str, Any]:
    return {
        "kind": KIND,
        "variant": variant,
        "philosophers": philosophers,
        "meals": meals,
        "serial": int(serial),
    }


def explore_here(variant: str, philosophers: int = 3, meals: int = 1, **budget: Any) -> Any:
    """Search the interleavings of one version in the folder of your code, as a test does.

    Prints the first interleaving that fails (for the naive version: the deadlock) and
    returns its report, or None when every schedule tried passed. ``budget``: fields of
    the explorer's SearchBudget; by default the tests' (TEST_BUDGET).
    """
    plan = {**TEST_BUDGET, **budget}
    return _local.explore("deadlock", scenario(variant, philosophers, meals), **plan)


def replay_here(schedule: str) -> dict[str, Any]:
    """Run the interleaving of a replay string on the deadlock.py of the current folder."""
    return _local.replay("deadlock", schedule)


def lock_trace_here(variant: str, philosophers: int = 3, meals: int = 1) -> LockTrace:
    """The forks one version takes, run one philosopher after another, as a lock trace.

    Raises ExplorerError (with the explorer's verdict) if that run does not finish.
    """
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    module = importlib.import_module("deadlock")
    explorer = Explorer(module, check_scenario(scenario(variant, philosophers, meals, True)))
    report = explorer.report(explorer.replay({}))
    if report["status"] != "passed":
        raise ExplorerError(f"{report['status']}: {report['message']}")
    return lock_trace(report["events"])


# ----------------------------------------------------------------------------- for the parent


def final_state(events: list[list[Any]]) -> tuple[dict[int, int], dict[int, int]]:
    """(fork -> holder, philosopher -> the fork it asked for and did not get) after ``events``."""
    holder: dict[int, int] = {}
    wants: dict[int, int] = {}
    for e in events:
        tid, name = int(e[0]), e[1]
        if name == "want":
            wants[tid] = int(e[2])
        elif name == "take" or (name == "try" and e[3] is True):
            holder[int(e[2])] = tid
            wants.pop(tid, None)
        elif name == "put":
            holder.pop(int(e[2]), None)
    return holder, wants


def wait_for_cycle(events: list[list[Any]]) -> list[int]:
    """The philosophers on a cycle of "waits for a fork its neighbour holds", from the events."""
    holder, wants = final_state(events)
    edges = {p: holder[k] for p, k in wants.items() if k in holder}
    return list(functional_cycle(edges))


def lock_trace(events: list[list[Any]]) -> LockTrace:
    """The forks taken and put down in a run, as a lock trace (raises TraceError if impossible)."""
    rows: list[tuple[str, str, str, str]] = []
    for e in events:
        tid, name = int(e[0]), e[1]
        if name == "take":
            rows.append((f"T{tid}", "acquire", f"fork{e[2]}", str(e[3])))
        elif name == "try" and e[3] is True:
            rows.append((f"T{tid}", "acquire", f"fork{e[2]}", str(e[4])))
        elif name == "put":
            rows.append((f"T{tid}", "release", f"fork{e[2]}", str(e[3])))
    return LockTrace.from_tuples(rows)
