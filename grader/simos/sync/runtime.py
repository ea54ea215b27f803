"""Which runtime serves a call: the explorer's controller, or plain threads. STANDARD LIBRARY ONLY.

Every primitive (``Cell``, ``WaitQueue``, ``spawn``...) asks ``controller()`` first. A
thread started by the explorer has its run stored in a thread-local; every other thread
gets ``None`` and the primitive runs on real threads (``threading`` locks), so the same
student code runs normally outside grading.
"""

from __future__ import annotations

import itertools
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .scheduler import Run

_local = threading.local()
_ids = itertools.count()
_ids_lock = threading.Lock()


def controller() -> Run | None:
    """The run controlling the calling thread, or None on a plain thread."""
    run: Run | None = _local.__dict__.get("run")
    return run


def bind(run: Run | None, tid: int | None) -> None:
    """Make the calling thread belong to ``run`` as thread ``tid`` (None: a plain thread)."""
    _local.run = run
    _local.tid = tid


def real_thread_id() -> int:
    """A small number for a plain thread, given on first use (0, 1, 2, ... per process)."""
    tid: Any = _local.__dict__.get("real_tid")
    if tid is None:
        with _ids_lock:
            tid = next(_ids)
        _local.real_tid = tid
    return int(tid)
