"""Scenario kinds that other parts of the course add to the explorer. STANDARD LIBRARY ONLY.

The explorer's own test programs are listed in schedule.SCHEMA, scenarios.BUILDERS and
rules.monitor_for. Another assignment that runs students' code under the explorer (the
dining philosophers of the deadlock assignment) adds its own kind with
``register(kind, ScenarioKind(...))``:

- ``schema``: the parameters a scenario of that kind takes, in the format of
  schedule.SCHEMA (so replay strings name them);
- ``build(module, scenario)``: the test program (a ``Program``) on the submission;
- ``monitor(scenario)``: its monitor, the same in the worker and in the trusted parent;
- ``primitives(module)``: optionally, the module of the student whose classes (``Mutex``,
  ``Condition``, ...) the explorer tracks, when that is not the submission's main module.
  Those classes are opaque in such a scenario: only their atomic instructions and sleeps
  are steps (they are tested in their own assignment); the rest of the student's code is
  traced line by line.

The registering module calls ``register`` when it is imported, so importing it (in the
worker and in the parent alike) is what makes the kind known. A built-in kind cannot be
replaced, and a kind cannot be registered again with another definition.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .monitor import Monitor
    from .program import Program

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_TYPES = ("int", "str", "ints", "strs")


@dataclass(frozen=True, slots=True)
class ScenarioKind:
    """A test program added from outside (see the module docstring)."""

    schema: Mapping[str, tuple[str, Any, Any]]
    build: Callable[[ModuleType, dict[str, Any]], Program]
    monitor: Callable[[dict[str, Any]], Monitor]
    primitives: Callable[[ModuleType], ModuleType] | None = None


KINDS: dict[str, ScenarioKind] = {}


def _check_schema(kind: str, schema: Mapping[str, tuple[str, Any, Any]]) -> None:
    for key, entry in schema.items():
        where = f"scenario kind {kind!r}, parameter {key!r}"
        if type(key) is not str or not _NAME.match(key) or key == "kind":
            raise ValueError(f"{where}: a parameter name is a lower-case identifier, not 'kind'")
        if type(entry) is not tuple or len(entry) != 3 or entry[0] not in _TYPES:
            raise ValueError(f"{where}: give (type, a, b) with type one of {', '.join(_TYPES)}")
        typ, a, b = entry
        if typ == "int" and not (type(a) is int and type(b) is int and a <= b):
            raise ValueError(f'{where}: an int parameter takes ("int", low, high), low <= high')
        if typ == "str" and not (
            type(a) is tuple and a and all(type(w) is str and _NAME.match(w) for w in a)
        ):
            raise ValueError(f'{where}: a str parameter takes ("str", (word, ...), None)')


def register(kind: str, spec: ScenarioKind) -> None:
    """Make scenario ``kind`` known to the explorer; ValueError if it clashes or is malformed."""
    from .schedule import SCHEMA  # the built-in kinds

    if type(kind) is not str or not _NAME.match(kind):
        raise ValueError(f"a scenario kind is a lower-case identifier, got {kind!r}")
    if kind in SCHEMA:
        raise ValueError(f"{kind!r} is a built-in scenario kind; choose another name")
    known = KINDS.get(kind)
    if known is not None:
        if known != spec:
            raise ValueError(f"scenario kind {kind!r} is already registered differently")
        return
    _check_schema(kind, spec.schema)
    KINDS[kind] = spec


def lookup(kind: str) -> ScenarioKind | None:
    """The registered definition of ``kind``, or None (a built-in or unknown kind)."""
    return KINDS.get(kind)
