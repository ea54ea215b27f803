"""Synchronization: shared memory cells, kernel services, and the interleaving explorer.

Students build locks, semaphores and condition variables on ``Cell`` (atomic instructions)
and ``WaitQueue`` (sleep / wake). The same code runs on real threads and, for grading,
under the explorer, which controls every interleaving.
"""

from .errors import ExplorerError, OwnershipError, SyncError, SyncUsageError
from .hardware import Cell
from .kernel import Thread, WaitQueue, current_thread_id, spawn, yield_cpu
from .local import explore, replay

__all__ = [
    "Cell",
    "ExplorerError",
    "OwnershipError",
    "SyncError",
    "SyncUsageError",
    "Thread",
    "WaitQueue",
    "current_thread_id",
    "explore",
    "replay",
    "spawn",
    "yield_cpu",
]
