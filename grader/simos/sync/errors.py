"""The errors of the synchronization package. STANDARD LIBRARY ONLY.

``SyncError`` is the root of what students see. ``OwnershipError`` is what a correct lock
raises when a thread releases a lock it does not hold. ``SyncUsageError`` means the code
used a course primitive against its rules (sleeping with a guard that is not held, joining
yourself); it is a contract error for the worker.

``Abort`` is the explorer's own signal to a managed thread: the run is over, unwind now.
It derives from ``BaseException`` so that ``except Exception`` in student code does not
swallow it (a bare ``except:`` does; the explorer reports that thread as escaped).
"""

from __future__ import annotations


class SyncError(Exception):
    """Base class of the errors raised by grader.simos.sync."""


class OwnershipError(SyncError, RuntimeError):
    """A thread released (or waited on) a lock it does not hold.

    Raise it from your ``release()``: ``raise OwnershipError("T1 does not hold this mutex")``.
    """


class SyncUsageError(SyncError):
    """A course primitive was used against its rules (the message says which rule)."""


class SubmissionShapeError(Exception):
    """The submission lacks a class the test needs, or its constructor does not fit."""


class ExplorerError(Exception):
    """The explorer was asked for something it cannot do (a bad schedule string, ...)."""


class Abort(BaseException):
    """Raised inside a managed thread when its run has ended: unwind, do not catch."""
