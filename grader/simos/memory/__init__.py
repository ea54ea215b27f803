"""Virtual memory: address translation, a TLB, page faults and page replacement.

The simulator plays the operating system; students implement the interfaces in
``interfaces.py``: replacement policies, the TLB and the MMU.
"""

from .checks import Step, first_difference, replay, same_record
from .interfaces import (
    BaseMMU,
    BaseTLB,
    NullTLB,
    ReplacementPolicy,
    ScriptedVictims,
    Translation,
)
from .metrics import Stats, compute_stats
from .model import (
    FAULTED,
    SEGFAULT,
    TRANSLATED,
    Access,
    AccessRecord,
    Latencies,
    MemoryConfig,
    PageId,
    PagingError,
    Process,
    Run,
    SegmentationFault,
    Workload,
    WorkloadError,
    page_label,
)
from .simulator import simulate, simulate_system
from .tables import PageTable, PageTableEntry, PhysicalMemory, SwapArea

__all__ = [
    "FAULTED",
    "SEGFAULT",
    "TRANSLATED",
    "Access",
    "AccessRecord",
    "BaseMMU",
    "BaseTLB",
    "Latencies",
    "MemoryConfig",
    "NullTLB",
    "PageId",
    "PageTable",
    "PageTableEntry",
    "PagingError",
    "PhysicalMemory",
    "Process",
    "ReplacementPolicy",
    "Run",
    "ScriptedVictims",
    "SegmentationFault",
    "Stats",
    "Step",
    "SwapArea",
    "Translation",
    "Workload",
    "WorkloadError",
    "compute_stats",
    "first_difference",
    "page_label",
    "replay",
    "same_record",
    "simulate",
    "simulate_system",
]
