"""Worker-side entry point: call one function of the student's ``deadlock.py`` on one input.

Runs inside the untrusted worker. The input arrives as plain data and is rebuilt into
the model objects the student's function expects; the answer is checked for its *type*
only (exact ints and strings, the model's own classes) and returned as plain data. The
trusted parent re-validates everything and decides whether the answer is right.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from .graph import WaitForGraph
from .locks import Dependency, LockTrace
from .state import Decision, Detection, SystemState

MAX_ITEMS = 100_000


class SubmissionShapeError(Exception):
    """The submission lacks something the assignment requires (a function)."""


class AnswerError(Exception):
    """A function returned something that is not an answer of the required type."""


def _type(x: object) -> str:
    return str(type.__dict__["__qualname__"].__get__(type(x)))


def _ints(value: object, what: str, *, sets: bool = False) -> list[int]:
    allowed: tuple[type, ...] = (list, tuple, set, frozenset) if sets else (list, tuple)
    if type(value) not in allowed:
        kinds = "a list (or a set)" if sets else "a list"
        raise AnswerError(f"{what} must be {kinds} of process numbers, got {_type(value)}")
    items: list[int] = list(value)  # type: ignore[call-overload]
    if len(items) > MAX_ITEMS:
        raise AnswerError(f"{what} has more than {MAX_ITEMS} items")
    for x in items:
        if type(x) is not int:
            raise AnswerError(
                f"{what} must contain only int process numbers, but one item is a {_type(x)}"
            )
    if type(value) in (set, frozenset):
        items.sort()
    return items


def _dependency(value: object, what: str) -> list[str]:
    if type(value) is not Dependency:
        raise AnswerError(
            f"{what} must be a Dependency(held, acquired, thread, held_at, acquired_at), "
            f"got {_type(value)}"
        )
    fields = [value.held, value.acquired, value.thread, value.held_at, value.acquired_at]
    for name, x in zip(
        ("held", "acquired", "thread", "held_at", "acquired_at"), fields, strict=True
    ):
        if type(x) is not str:
            raise AnswerError(f"{what}.{name} must be a str, got {_type(x)}")
    return fields


def _dependencies(value: object, what: str) -> list[list[str]]:
    if type(value) not in (list, tuple):
        raise AnswerError(f"{what} must be a list of Dependency, got {_type(value)}")
    items = list(value)  # type: ignore[call-overload]
    if len(items) > MAX_ITEMS:
        raise AnswerError(f"{what} has more than {MAX_ITEMS} items")
    return [_dependency(d, f"{what}[{k}]") for k, d in enumerate(items)]


def _detect(fn: Callable[..., Any], data: dict[str, Any]) -> dict[str, Any]:
    result = fn(SystemState.from_data(data["state"]))
    if type(result) is not Detection:
        raise AnswerError(
            f"detect must return a Detection(deadlocked=[...], order=[...]), got {_type(result)}"
        )
    return {
        "deadlocked": _ints(result.deadlocked, "Detection.deadlocked", sets=True),
        "order": _ints(result.order, "Detection.order"),
    }


def _find_cycle(fn: Callable[..., Any], data: dict[str, Any]) -> dict[str, Any]:
    result = fn(WaitForGraph.from_data(data["graph"]))
    return {"cycle": None if result is None else _ints(result, "the cycle find_cycle returned")}


def _safe_sequence(fn: Callable[..., Any], data: dict[str, Any]) -> dict[str, Any]:
    result = fn(SystemState.from_data(data["state"]))
    return {
        "sequence": None if result is None else _ints(result, "the safe sequence returned"),
    }


def _request_decision(fn: Callable[..., Any], data: dict[str, Any]) -> dict[str, Any]:
    state = SystemState.from_data(data["state"])
    result = fn(state, data["process"], tuple(data["request"]))
    for member in Decision:
        if result is member:
            return {"decision": member.value}
    names = ", ".join(f"Decision.{d.name}" for d in Decision)
    raise AnswerError(f"request_decision must return one of {names}; got {_type(result)}")


def _lock_dependencies(fn: Callable[..., Any], data: dict[str, Any]) -> dict[str, Any]:
    result = fn(LockTrace.from_data(data["trace"]))
    return {"dependencies": _dependencies(result, "the list lock_dependencies returned")}


def _potential_deadlocks(fn: Callable[..., Any], data: dict[str, Any]) -> dict[str, Any]:
    result = fn(LockTrace.from_data(data["trace"]))
    what = "the list potential_deadlocks returned"
    if type(result) not in (list, tuple):
        raise AnswerError(f"{what} must be a list of cycles, got {_type(result)}")
    if len(result) > MAX_ITEMS:
        raise AnswerError(f"{what} has more than {MAX_ITEMS} cycles")
    return {"cycles": [_dependencies(c, f"{what}[{k}]") for k, c in enumerate(result)]}


FUNCTIONS: dict[str, Callable[[Callable[..., Any], dict[str, Any]], dict[str, Any]]] = {
    "detect": _detect,
    "find_cycle": _find_cycle,
    "safe_sequence": _safe_sequence,
    "request_decision": _request_decision,
    "lock_dependencies": _lock_dependencies,
    "potential_deadlocks": _potential_deadlocks,
}


def run(module: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """Call ``module.<args['function']>`` on ``args['input']``; return the answer as plain data."""
    name = args["function"]
    convert = FUNCTIONS.get(name) if type(name) is str else None
    if convert is None:
        raise ValueError(f"unknown function {name!r}; known: {', '.join(FUNCTIONS)}")
    fn = getattr(module, name, None)
    file = getattr(module, "__file__", None) or module.__name__
    short = str(file).rsplit("/", 1)[-1]
    if fn is None:
        raise SubmissionShapeError(f"{short} has no function {name}; define `def {name}(...)`")
    if not callable(fn):
        raise SubmissionShapeError(f"{short}: {name} must be a function, got {_type(fn)}")
    return convert(fn, args["input"])
