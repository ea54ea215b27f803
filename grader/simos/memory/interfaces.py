"""The interfaces you implement: a page-replacement policy, the TLB and the MMU.

The simulator plays the operating system and the memory; you write the parts that
decide (the policy) and the hardware that translates (the TLB and the MMU). What
happens on one access ``now`` (0, 1, 2, ... in trace order) of process ``pid``:

1. If ``pid`` is not the process of the previous access (or this is the first access):
   ``mmu.context_switch(pid, page_table)``.
2. ``mmu.translate(address, write)``. Your MMU splits the address, looks the page up in
   the TLB and, on a TLB miss, in the page table. When the page is not present it calls
   ``self.page_fault(address)``: the operating system then
   a. checks the page is in the address space, else raises ``SegmentationFault``
      (let it propagate: the access is recorded as a segmentation fault, and the trace
      goes on with the next access);
   b. takes the lowest-numbered free frame, or, when every frame is in use, asks the
      policy: ``policy.victim(now)``; it evicts the page in that frame, writing it to
      swap if it is dirty, and calls ``mmu.invalidate(victim_pid, victim_vpn)``;
   c. reads the page from swap into the frame, marks it present with clear bits,
      and calls ``policy.loaded(frame, page, now)``;
   d. returns: your ``translate`` resumes the access with the page now present.
   The MMU sets the page's ``referenced`` bit (and ``dirty`` on a write), puts the
   translation in the TLB after a miss, and returns ``Translation(physical, tlb_hit)``.
3. If the page was already in memory (no page fault): ``policy.hit(frame, page, now)``.

Without an MMU (``simulate(workload, policy)``) the simulator translates by itself,
with no TLB, and the order above is the same: ``hit`` or ``victim``/``loaded``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .model import PageId, PagingError
from .tables import PageTable, PhysicalMemory


class ReplacementPolicy(ABC):
    """Decides which page leaves memory when a page fault finds every frame in use.

    The simulator calls, for every access that is not a segmentation fault, exactly one of:

    * ``hit(frame, page, now)``: the page was already in ``frame``;
    * ``loaded(frame, page, now)``: a page fault brought ``page`` into ``frame``. When
      every frame was in use, ``victim(now)`` came just before and returned ``frame``:
      its old page is gone (forget it) and ``page`` is the new one.

    Free frames are used first, lowest number first, without asking you: ``victim`` is
    called only when all frames hold a page, and must return one of them, as an ``int``.
    ``self.memory`` (set by ``attach`` before the first access) shows the frames and the
    page-table bits of their pages: ``memory.frames``, ``memory.page(f)``,
    ``memory.referenced(f)``, ``memory.clear_referenced(f)``, ``memory.dirty(f)``. In
    ``hit`` the bits already include the current access; in ``loaded`` the new page's
    bits are still clear (the MMU sets them when the access resumes).

    Every call should cost O(1) or O(log frames) (amortised): the grader's largest traces
    have a million accesses.
    """

    memory: PhysicalMemory

    def attach(self, memory: PhysicalMemory) -> None:
        """Called once, before the first access. Override it to size arrays by ``memory.frames``
        (keep the ``self.memory = memory`` line)."""
        self.memory = memory

    @abstractmethod
    def loaded(self, frame: int, page: PageId, now: int) -> None:
        """A page fault at access ``now`` put ``page`` into ``frame``."""

    def hit(self, frame: int, page: PageId, now: int) -> None:  # noqa: B027 - optional hook
        """Access ``now`` found ``page`` in ``frame``. Default: nothing (FIFO, Clock)."""

    @abstractmethod
    def victim(self, now: int) -> int:
        """Every frame is in use and access ``now`` needs one: return the frame to evict."""


class BaseTLB(ABC):
    """A fully associative TLB: a small cache of (asid, vpn) -> frame translations.

    Keep two counters as ``int`` attributes: ``self.hits`` and ``self.misses``, counted
    by ``lookup`` (and only by it). ``flush`` empties the TLB but keeps the counters.
    """

    hits: int
    misses: int

    @abstractmethod
    def lookup(self, asid: int, vpn: int) -> int | None:
        """The frame cached for page ``vpn`` of address space ``asid``, or None (a miss)."""

    @abstractmethod
    def insert(self, asid: int, vpn: int, frame: int) -> None:
        """Cache a translation, evicting an entry first when the TLB is full."""

    @abstractmethod
    def invalidate(self, asid: int, vpn: int) -> None:
        """Drop the entry of (asid, vpn), if there is one."""

    @abstractmethod
    def flush(self) -> None:
        """Drop every entry."""


class NullTLB(BaseTLB):
    """A TLB with no room at all: every lookup misses. The grader uses it to test your MMU
    on its own, so that a bug in your TLB does not cost the translation tests."""

    def __init__(self, entries: int = 0) -> None:
        self.hits = 0
        self.misses = 0

    def lookup(self, asid: int, vpn: int) -> int | None:
        self.misses += 1
        return None

    def insert(self, asid: int, vpn: int, frame: int) -> None:
        pass

    def invalidate(self, asid: int, vpn: int) -> None:
        pass

    def flush(self) -> None:
        pass

    def __repr__(self) -> str:
        return "NullTLB()"


@dataclass(frozen=True, slots=True)
class Translation:
    """What ``translate`` returns: the physical address and whether the TLB hit."""

    address: int
    tlb_hit: bool


class BaseMMU(ABC):
    """The memory-management unit: translates the running process's virtual addresses.

    The constructor is ``MMU(page_size, address_bits, tlb, asids)``. With ``asids=False``
    the TLB cannot tell processes apart: use address-space id 0 for every process and
    flush the TLB on every context switch. With ``asids=True`` use the process id as the
    address-space id and never flush.
    """

    _trap: Callable[[int], None] | None = None

    @abstractmethod
    def context_switch(self, pid: int, page_table: PageTable) -> None:
        """From now on, translate for process ``pid`` with ``page_table``."""

    @abstractmethod
    def translate(self, address: int, write: bool) -> Translation:
        """Translate ``address`` for the current process (see the module docstring)."""

    @abstractmethod
    def invalidate(self, pid: int, vpn: int) -> None:
        """The operating system evicted page ``vpn`` of process ``pid``: drop its TLB entry.

        Without ASIDs the TLB only holds entries of the current process: invalidate
        (0, vpn) only when ``pid`` is the current process, otherwise do nothing.
        """

    def page_fault(self, address: int) -> None:
        """Trap into the operating system for the current process's ``address``.

        Returns once the page is present (read the page-table entry again: its ``frame``
        is set), or raises SegmentationFault, which you must let propagate.
        """
        trap = self._trap
        if trap is None:
            raise PagingError("page_fault() was called outside a simulation")
        trap(address)


class ScriptedVictims(ReplacementPolicy):
    """Not a real policy: the k-th eviction takes frame ``victims[k % len(victims)]``.

    The grader uses it to test the MMU and the TLB with evictions that do not depend on
    your replacement policies.
    """

    def __init__(self, victims: Sequence[int]) -> None:
        if not victims or not all(type(v) is int and v >= 0 for v in victims):
            raise ValueError(f"victims must be a non-empty list of frame numbers, got {victims!r}")
        self.victims = list(victims)
        self.count = 0

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        pass

    def victim(self, now: int) -> int:
        frame = self.victims[self.count % len(self.victims)] % self.memory.frames
        self.count += 1
        return frame
