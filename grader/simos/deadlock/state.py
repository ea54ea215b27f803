"""Multi-instance resource states: what the deadlock detector and the Banker's algorithm see.

Processes are numbered ``0 .. n-1`` and called P0, P1, ...; resource types ``0 .. m-1``
are called R0, R1, ... A resource type has several identical units (three printers,
ten memory blocks). Every vector has one entry per resource type, every matrix one
row per process.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Vector = tuple[int, ...]
Matrix = tuple[Vector, ...]


class StateError(ValueError):
    """A resource state is malformed (a negative count, shapes that disagree, too many units)."""


def _count(value: object, what: str) -> int:
    if type(value) is not int:
        raise StateError(f"{what} must be a whole number, got {value!r} ({type(value).__name__})")
    if value < 0:
        raise StateError(f"{what} is {value}: counts of units must be >= 0")
    return value


def _vector(values: object, name: str) -> Vector:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise StateError(f"{name} must be a list of counts, one per resource type, got {values!r}")
    return tuple(_count(v, f"{name}[R{j}]") for j, v in enumerate(values))


def _matrix(rows: object, name: str, m: int) -> Matrix:
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence):
        raise StateError(f"{name} must be a list of rows, one per process, got {rows!r}")
    out = []
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
            raise StateError(f"{name}[P{i}] must be a list of counts, got {row!r}")
        if len(row) != m:
            raise StateError(
                f"{name}[P{i}] has {len(row)} entries but there are {m} resource types "
                f"(available has {m}): give one count per resource type"
            )
        out.append(tuple(_count(v, f"{name}[P{i}][R{j}]") for j, v in enumerate(row)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class SystemState:
    """A snapshot of a system with several units of each resource type.

    * ``available[j]``: free units of resource type j.
    * ``allocation[i][j]``: units of j that process i holds now.
    * ``request[i][j]``: units of j that process i is waiting for now, on top of what it
      holds (for deadlock detection). ``None`` when not given.
    * ``maximum[i][j]``: the most units of j that process i may ever hold, declared in
      advance (for the Banker's algorithm). ``None`` when not given.

    The total of a resource type is what is free plus what is held:
    ``total[j] = available[j] + sum(allocation[i][j] for every i)``.

    Lists are accepted and stored as tuples. Raises StateError, naming the process, the
    resource and the values, when the state is malformed.

    Example (2 processes, 2 resource types; each holds what the other waits for)::

        SystemState(available=(0, 0), allocation=((1, 0), (0, 1)), request=((0, 1), (1, 0)))
    """

    available: Vector
    allocation: Matrix
    request: Matrix | None = None
    maximum: Matrix | None = None

    def __post_init__(self) -> None:
        available = _vector(self.available, "available")
        m = len(available)
        if m == 0:
            raise StateError("available is empty: a state needs at least one resource type")
        allocation = _matrix(self.allocation, "allocation", m)
        if not allocation:
            raise StateError("allocation is empty: a state needs at least one process")
        n = len(allocation)
        total = tuple(available[j] + sum(row[j] for row in allocation) for j in range(m))
        request = None if self.request is None else _matrix(self.request, "request", m)
        maximum = None if self.maximum is None else _matrix(self.maximum, "maximum", m)
        for name, rows in (("request", request), ("maximum", maximum)):
            if rows is not None and len(rows) != n:
                raise StateError(
                    f"{name} has {len(rows)} rows but allocation has {n}: give one row per process"
                )
        if request is not None:
            for i in range(n):
                for j in range(m):
                    if allocation[i][j] + request[i][j] > total[j]:
                        raise StateError(
                            f"P{i} holds {allocation[i][j]} unit(s) of R{j} and requests "
                            f"{request[i][j]} more, but the system has only {total[j]} in "
                            "total: a process cannot wait for units that do not exist"
                        )
        if maximum is not None:
            for i in range(n):
                for j in range(m):
                    if allocation[i][j] > maximum[i][j]:
                        raise StateError(
                            f"P{i} holds {allocation[i][j]} unit(s) of R{j} but its maximum "
                            f"claim is {maximum[i][j]}: a process never holds more than it claimed"
                        )
                    if maximum[i][j] > total[j]:
                        raise StateError(
                            f"P{i} claims up to {maximum[i][j]} unit(s) of R{j} but the system "
                            f"has only {total[j]} in total: such a claim can never be satisfied"
                        )
        object.__setattr__(self, "available", available)
        object.__setattr__(self, "allocation", allocation)
        object.__setattr__(self, "request", request)
        object.__setattr__(self, "maximum", maximum)

    @staticmethod
    def from_total(
        total: Sequence[int],
        allocation: Sequence[Sequence[int]],
        request: Sequence[Sequence[int]] | None = None,
        maximum: Sequence[Sequence[int]] | None = None,
    ) -> SystemState:
        """The state whose free units are what ``total`` leaves after ``allocation``.

        Raises StateError when the processes hold more units of a type than exist.
        """
        tot = _vector(total, "total")
        alloc = _matrix(allocation, "allocation", len(tot))
        available = []
        for j, units in enumerate(tot):
            held = sum(row[j] for row in alloc)
            if held > units:
                holders = ", ".join(f"P{i} holds {row[j]}" for i, row in enumerate(alloc) if row[j])
                raise StateError(
                    f"R{j}: the processes hold {held} unit(s) ({holders}) but the system has "
                    f"only {units} in total"
                )
            available.append(units - held)
        req = None if request is None else _matrix(request, "request", len(tot))
        mx = None if maximum is None else _matrix(maximum, "maximum", len(tot))
        return SystemState(tuple(available), alloc, req, mx)

    @property
    def processes(self) -> int:
        """How many processes (rows): they are numbered 0 .. processes-1."""
        return len(self.allocation)

    @property
    def resources(self) -> int:
        """How many resource types (columns): numbered 0 .. resources-1."""
        return len(self.available)

    @property
    def total(self) -> Vector:
        """Units of each type in the system: free plus held."""
        return tuple(
            a + sum(row[j] for row in self.allocation) for j, a in enumerate(self.available)
        )

    @property
    def need(self) -> Matrix:
        """``maximum - allocation``: what each process may still ask for (Banker's).

        Raises StateError when the state has no maximum claims.
        """
        if self.maximum is None:
            raise StateError("this state has no maximum claims; the Banker's algorithm needs them")
        return tuple(
            tuple(mx - a for mx, a in zip(mrow, arow, strict=True))
            for mrow, arow in zip(self.maximum, self.allocation, strict=True)
        )

    def to_data(self) -> dict[str, Any]:
        def rows(x: Matrix | None) -> list[list[int]] | None:
            return None if x is None else [list(r) for r in x]

        return {
            "available": list(self.available),
            "allocation": rows(self.allocation),
            "request": rows(self.request),
            "maximum": rows(self.maximum),
        }

    @staticmethod
    def from_data(data: dict[str, Any]) -> SystemState:
        return SystemState(
            available=data["available"],
            allocation=data["allocation"],
            request=data.get("request"),
            maximum=data.get("maximum"),
        )


@dataclass(frozen=True, slots=True)
class Detection:
    """The answer of deadlock detection.

    * ``deadlocked``: the processes that can never finish (any order; ``[]`` if none).
    * ``order``: every other process, in an order in which they can all finish (the
      witness): each one's request fits in what is free when its turn comes, and it then
      releases everything it holds.

    Example: ``Detection(deadlocked=[1, 2], order=[0, 3])``.
    """

    deadlocked: Sequence[int]
    order: Sequence[int]


class Decision(enum.Enum):
    """What the Banker's algorithm says about one request (``request_decision``)."""

    GRANT = "grant"  # give the units now: the state after the grant is safe
    WAIT = "wait"  # within the claim, but not enough units are free now
    UNSAFE = "unsafe"  # enough units are free, but granting would make the state unsafe
    EXCEEDS_CLAIM = "exceeds_claim"  # an error: more than the process's remaining need
