"""Deadlock: resource states, wait-for graphs and lock traces, and what students answer with.

Students implement, in ``deadlock.py``: detection on a multi-instance state, a cycle in a
wait-for graph, the Banker's algorithm (safety and one request) and a lock-order checker.
This package holds only the data types, their validation and the worker entry; no answer.
"""

from .graph import AllocationGraph, GraphError, WaitForGraph
from .locks import ACQUIRE, RELEASE, Dependency, LockEvent, LockTrace, TraceError
from .state import Decision, Detection, Matrix, StateError, SystemState, Vector

__all__ = [
    "ACQUIRE",
    "RELEASE",
    "AllocationGraph",
    "Decision",
    "Dependency",
    "Detection",
    "GraphError",
    "LockEvent",
    "LockTrace",
    "Matrix",
    "StateError",
    "SystemState",
    "TraceError",
    "Vector",
    "WaitForGraph",
]
