"""Who runs next: the strategies the explorer drives a run with. STANDARD LIBRARY ONLY.

Each answers ``choose(index, order, current)`` with an offset into ``order`` (the ready
threads listed from the default choice on); 0 keeps the default. Whatever the strategy,
the run records its non-zero choices as ``deviations``, so ``Replay`` repeats any run.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from .scheduler import ManagedThread


class Replay:
    """Follow ``deviations`` ({decision index: offset}); the default everywhere else."""

    lazy = True  # ``choose`` never looks at ``order`` (lets the scheduler skip building it)

    def __init__(self, deviations: Mapping[int, int] | None = None) -> None:
        self.deviations = dict(deviations or {})

    def choose(self, index: int, order: list[ManagedThread], current: ManagedThread) -> int:
        return self.deviations.get(index, 0)


class RandomWalk:
    """At each decision, switch to a random other ready thread with probability ``p``."""

    def __init__(self, seed: int, p: float = 0.1) -> None:
        self.rng = random.Random(seed)
        self.p = p

    def choose(self, index: int, order: list[ManagedThread], current: ManagedThread) -> int:
        if self.rng.random() >= self.p:
            return 0
        return self.rng.randrange(1, len(order))


class PCT:
    """Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010) with a fair slice.

    Threads get random distinct priorities; the highest-priority ready thread runs. At
    ``depth - 1`` random decisions (among the first ``length``) the running thread drops
    below every other. Textbook PCT starves a lock holder when a higher-priority thread
    spins, so a thread chosen ``time_slice`` decisions in a row (a time slice, or a yield:
    the default moved on) also drops to the bottom.
    """

    def __init__(self, seed: int, depth: int = 3, length: int = 200, time_slice: int = 32) -> None:
        self.rng = random.Random(seed)
        self.priority: dict[int, float] = {}
        self.change = set(self.rng.sample(range(max(length, depth)), max(depth - 1, 0)))
        self.time_slice = time_slice
        self.low = 0.0
        self.last = -1
        self.streak = 0

    def _prio(self, tid: int) -> float:
        p = self.priority.get(tid)
        if p is None:
            p = self.priority[tid] = 1.0 + self.rng.random()
        return p

    def _demote(self, tid: int) -> None:
        self.low -= 1.0
        self.priority[tid] = self.low

    def choose(self, index: int, order: list[ManagedThread], current: ManagedThread) -> int:
        moved_on = order[0] is not current  # its slice is over, or it yielded
        due = index in self.change or self.streak >= self.time_slice or moved_on
        if due and current.state == "ready":
            self._demote(current.tid)
        best = max(range(len(order)), key=lambda i: self._prio(order[i].tid))
        tid = order[best].tid
        self.streak = self.streak + 1 if tid == self.last else 1
        self.last = tid
        return best
