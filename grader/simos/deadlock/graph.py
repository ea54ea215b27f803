"""Single-instance resources: the resource-allocation graph and its wait-for graph.

With one unit per resource, a process waits for a resource that exactly one process
holds, so "P waits for R, and Q holds R" collapses to one edge P -> Q of the wait-for
graph. A deadlock is then exactly a cycle of that graph (a self-loop P -> P counts: P
waits for a resource it holds itself).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any


class GraphError(ValueError):
    """A graph is malformed (an edge to an unknown process, a resource held twice, ...)."""


def _node(value: object, n: int, what: str, kind: str = "process") -> int:
    if type(value) is not int:
        raise GraphError(f"{what} must be a {kind} number, got {value!r}")
    if not 0 <= value < n:
        prefix, plural = ("P", "processes") if kind == "process" else ("R", "resources")
        known = f"the {plural} are {prefix}0..{prefix}{n - 1}" if n else f"there are no {plural}"
        raise GraphError(f"{what} is {value}, but {known}")
    return value


@dataclass(frozen=True, slots=True)
class WaitForGraph:
    """Processes ``0 .. n-1``; an edge P -> Q means P waits for a resource Q holds.

    ``successors[p]`` lists, in increasing order and without repeats, the processes p waits
    for. Build one with ``WaitForGraph.from_edges(n, [(0, 1), (1, 0)])``.
    """

    successors: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        n = len(self.successors)
        rows = []
        for p, succ in enumerate(self.successors):
            row = tuple(_node(q, n, f"an edge from P{p}") for q in succ)
            if any(a >= b for a, b in pairwise(row)):
                raise GraphError(
                    f"successors[P{p}] = {list(row)} must be increasing without repeats; "
                    "use WaitForGraph.from_edges to build a graph from any list of edges"
                )
            rows.append(row)
        object.__setattr__(self, "successors", tuple(rows))

    @staticmethod
    def from_edges(n: int, edges: Iterable[Sequence[int]]) -> WaitForGraph:
        """The graph on processes ``0 .. n-1`` with these ``(p, q)`` edges (repeats merged)."""
        if type(n) is not int or n < 0:
            raise GraphError(f"the number of processes must be an int >= 0, got {n!r}")
        succ: list[set[int]] = [set() for _ in range(n)]
        for k, edge in enumerate(edges):
            if len(edge) != 2:
                raise GraphError(f"edge #{k} is {edge!r}; an edge is a pair (p, q)")
            p = _node(edge[0], n, f"the source of edge #{k}")
            q = _node(edge[1], n, f"the target of edge #{k}")
            succ[p].add(q)
        return WaitForGraph(tuple(tuple(sorted(s)) for s in succ))

    @property
    def n(self) -> int:
        """How many processes (nodes)."""
        return len(self.successors)

    def waits_for(self, p: int) -> tuple[int, ...]:
        """The processes ``p`` waits for, in increasing order."""
        return self.successors[p]

    def edges(self) -> Iterator[tuple[int, int]]:
        """Every edge ``(p, q)``, by increasing p then q."""
        for p, succ in enumerate(self.successors):
            for q in succ:
                yield p, q

    def has_edge(self, p: int, q: int) -> bool:
        succ = self.successors[p] if 0 <= p < len(self.successors) else ()
        lo, hi = 0, len(succ)
        while lo < hi:  # binary search: rows are sorted
            mid = (lo + hi) // 2
            if succ[mid] < q:
                lo = mid + 1
            else:
                hi = mid
        return lo < len(succ) and succ[lo] == q

    def to_data(self) -> dict[str, Any]:
        return {"n": self.n, "edges": [[p, q] for p, q in self.edges()]}

    @staticmethod
    def from_data(data: dict[str, Any]) -> WaitForGraph:
        return WaitForGraph.from_edges(data["n"], data["edges"])


@dataclass(frozen=True, slots=True)
class AllocationGraph:
    """A resource-allocation graph with one unit per resource.

    * ``holder[r]``: the process that holds resource r, or ``None`` if it is free.
    * ``waiting[p]``: the resources process p waits for (a blocked process waits for
      resources someone else, or itself, holds; a free resource would be granted at once).

    Example: P0 holds R0 and waits for R1; P1 holds R1 and waits for R0::

        AllocationGraph(holder=(0, 1), waiting=((1,), (0,)))
    """

    holder: tuple[int | None, ...]
    waiting: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        n, r = len(self.waiting), len(self.holder)
        for res, h in enumerate(self.holder):
            if h is not None:
                _node(h, n, f"holder[R{res}]")
        rows = []
        for p, wanted in enumerate(self.waiting):
            row = tuple(_node(x, r, f"waiting[P{p}]", "resource") for x in wanted)
            if len(set(row)) != len(row):
                raise GraphError(f"waiting[P{p}] = {list(row)} names a resource twice")
            for x in row:
                if self.holder[x] is None:
                    raise GraphError(
                        f"P{p} waits for R{x}, which is free: a free resource is granted at "
                        "once, so nobody waits for it"
                    )
            rows.append(row)
        object.__setattr__(self, "holder", tuple(self.holder))
        object.__setattr__(self, "waiting", tuple(rows))

    @property
    def processes(self) -> int:
        return len(self.waiting)

    @property
    def resources(self) -> int:
        return len(self.holder)

    def wait_for(self) -> WaitForGraph:
        """The wait-for graph: P -> Q for each resource P waits for and Q holds."""
        edges = []
        for p, wanted in enumerate(self.waiting):
            for res in wanted:
                q = self.holder[res]
                assert q is not None  # checked in __post_init__
                edges.append((p, q))
        return WaitForGraph.from_edges(self.processes, edges)
