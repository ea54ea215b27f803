"""Which monitor checks which scenario (used by the worker and by the trusted parent). STANDARD LIBRARY ONLY."""

from __future__ import annotations

from typing import Any

from .monitor import Both, ConditionFlag, Monitor, MutualExclusion, Ownership, TicketOrder
from .problems import (
    BarrierRounds,
    BufferDelivery,
    NoBusyWaiting,
    ReadersWriters,
    SemaphoreCount,
)
from .registry import KINDS


def monitor_for(s: dict[str, Any]) -> Monitor:
    """The monitor of scenario ``s`` (the same in the worker and in the parent)."""
    kind = s["kind"]
    if kind == "lock":
        return MutualExclusion()
    if kind == "ticket":
        return TicketOrder()
    if kind == "owner":
        return Ownership("the mutex")
    if kind == "nobusy":
        return Both(MutualExclusion("the mutex"), NoBusyWaiting(s["limit"]))
    if kind == "condition":
        return ConditionFlag()
    if kind == "semaphore":
        return SemaphoreCount(s["initial"])
    if kind == "buffer":
        return BufferDelivery(s["capacity"])
    if kind in ("rw", "rw_share", "rw_leave"):
        return ReadersWriters(writers_first=False)
    if kind == "rw_fair":
        return ReadersWriters(writers_first=True)
    if kind == "barrier":
        return BarrierRounds(s["threads"])
    registered = KINDS.get(kind)
    if registered is not None:
        return registered.monitor(s)
    raise ValueError(f"unknown scenario kind {kind!r}")
