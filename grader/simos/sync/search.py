"""Which schedules to try, in which order. STANDARD LIBRARY ONLY.

1. Bounded search (iterative preemption bounding, as in CHESS): the default schedule,
   then every schedule with exactly one preemption, then exactly two, ... up to
   ``preemption_bound``. Each schedule runs once: a child adds one preemption *after*
   its parent's last one, at a decision point of the parent's run (the runs agree up to
   there). The first failure found is preemption-minimal; a pass means no schedule with
   at most that many preemptions fails.
2. Sampling: ``random_schedules`` random walks, then ``pct_schedules`` PCT runs, seeded.
   A failure found here is shrunk greedily (drop one preemption at a time, keep the
   change when it still fails the same way).

Budgets are counts, so a regrade explores exactly the same schedules; ``time_budget_s``
is only a safety cap (``SearchOutcome.timed_out`` says if it cut the search short).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .scheduler import Run, Strategy
from .strategies import PCT, RandomWalk, Replay

Execute = Callable[[Strategy], Run]


@dataclass(frozen=True, slots=True)
class SearchBudget:
    """How much to explore (every field is a count except the safety cap)."""

    preemption_bound: int = 2
    max_schedules: int = 5000  # for the bounded search
    random_schedules: int = 100
    pct_schedules: int = 100
    pct_depth: int = 3
    random_switch: float = 0.1  # a random walk switches at a decision with this probability
    time_slice: int = 32
    seed: int = 0
    time_budget_s: float = 20.0
    shrink_runs: int = 200
    shrink_s: float = 3.0  # at most this long shrinking a sampled failure


@dataclass
class SearchOutcome:
    failure: Run | None
    schedules: int = 0
    complete_bound: int = -1  # every schedule with at most this many preemptions was run
    phase: str = ""  # where the failure was found: bounded, random, pct
    timed_out: bool = False
    per_phase: dict[str, int] = field(default_factory=dict)


def failed(run: Run) -> bool:
    return run.stop is None or run.stop.kind != "complete"


def search(execute: Execute, budget: SearchBudget) -> SearchOutcome:
    """Explore with ``execute`` (one fresh run per schedule) until a failure or the budget."""
    deadline = time.monotonic() + budget.time_budget_s
    out = SearchOutcome(failure=None)
    bounded(execute, budget, deadline, out)
    if out.failure is not None or out.timed_out:
        return out
    sample(execute, budget, deadline, out)
    return out


def _count(out: SearchOutcome, phase: str) -> None:
    out.schedules += 1
    out.per_phase[phase] = out.per_phase.get(phase, 0) + 1


def bounded(execute: Execute, budget: SearchBudget, deadline: float, out: SearchOutcome) -> None:
    first = execute(Replay())
    _count(out, "bounded")
    if failed(first):
        out.failure, out.phase, out.complete_bound = first, "bounded", -1
        return
    out.complete_bound = 0
    # (deviations, arity of that run): the parents of the next level
    level: list[tuple[tuple[tuple[int, int], ...], bytes]] = [((), bytes(first.arity))]
    runs = 1
    for depth in range(1, budget.preemption_bound + 1):
        nxt: list[tuple[tuple[tuple[int, int], ...], bytes]] = []
        for devs, arity in level:
            start = devs[-1][0] + 1 if devs else 0
            for i in range(start, len(arity)):
                for k in range(1, arity[i]):
                    if runs >= budget.max_schedules:
                        return
                    if time.monotonic() > deadline:
                        out.timed_out = True
                        return
                    child = (*devs, (i, k))
                    run = execute(Replay(dict(child)))
                    runs += 1
                    _count(out, "bounded")
                    if failed(run):
                        out.failure, out.phase = run, "bounded"
                        return
                    if depth < budget.preemption_bound:
                        nxt.append((child, bytes(run.arity)))
        out.complete_bound = depth
        level = nxt


def sample(execute: Execute, budget: SearchBudget, deadline: float, out: SearchOutcome) -> None:
    length = 200
    plans: list[tuple[str, Callable[[int], Strategy]]] = [
        ("random", lambda s: RandomWalk(s, budget.random_switch)),
        ("pct", lambda s: PCT(s, budget.pct_depth, length, budget.time_slice)),
    ]
    counts = {"random": budget.random_schedules, "pct": budget.pct_schedules}
    for phase, make in plans:
        for i in range(counts[phase]):
            if time.monotonic() > deadline:
                out.timed_out = True
                return
            run = execute(make(budget.seed * 1_000_003 + i * 7919 + len(phase)))
            _count(out, phase)
            length = max(length, run.decisions)
            if failed(run):
                cap = min(deadline, time.monotonic() + budget.shrink_s)
                out.failure, out.phase = shrink(execute, run, budget.shrink_runs, cap), phase
                return


def shrink(execute: Execute, run: Run, max_runs: int, deadline: float) -> Run:
    """Fewer preemptions that still fail the same way (greedy; each candidate is a real run).

    Tries to drop each preemption in turn, last first, keeping every drop that still fails
    with the same kind of stop; repeats while that helps.
    """
    best = run
    assert best.stop is not None
    kind = best.stop.kind
    tries = 0
    changed = True
    while changed:
        changed = False
        j = len(best.deviations) - 1
        while j >= 0:
            if tries >= max_runs or time.monotonic() > deadline:
                return best
            devs = list(best.deviations)
            tries += 1
            again = execute(Replay(dict(devs[:j] + devs[j + 1 :])))
            same = failed(again) and again.stop is not None and again.stop.kind == kind
            if same and len(again.deviations) < len(best.deviations):
                best = again
                changed = True
            j = min(j - 1, len(best.deviations) - 1)
    return best
