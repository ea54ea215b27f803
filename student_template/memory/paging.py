"""Virtual memory: fill in the classes below.

Read README.md first. The simulator (grader.simos.memory) plays the operating system:
it owns the page tables, the frames and the swap area, and serves page faults. You write
the replacement policies (which page leaves memory), the TLB and the MMU (the hardware
that translates every virtual address).

Words used in every docstring:

* ``now``: the number of the access being served: 0, 1, 2, ... in trace order.
* a page is used at access ``now`` when that access reads or writes it: ``loaded``
  (after a page fault) or ``hit`` (it was already in memory).
* frames are numbered 0 .. frames - 1; free frames are used lowest first, without
  asking your policy. ``victim`` is called only when every frame holds a page.
* ``self.memory`` (a PhysicalMemory, set before the first access) shows the frames:
  ``memory.frames``, ``memory.page(f)``, ``memory.referenced(f)``,
  ``memory.clear_referenced(f)``, ``memory.dirty(f)``.

Keep the class names and the constructor signatures: the grader creates ``OPT(future=...)``,
``RandomPolicy(seed=...)``, ``TLB(entries=...)`` and
``MMU(page_size=..., address_bits=..., tlb=..., asids=...)``. You may import anything from
the Python standard library (``collections.deque``, ``collections.OrderedDict``,
``heapq``, ``random``, ...). Every method should cost O(1) or O(log n).
"""

from __future__ import annotations

from collections.abc import Sequence

from grader.simos.memory import (
    BaseMMU,
    BaseTLB,
    PageId,
    PageTable,
    ReplacementPolicy,
    Translation,
)


class FIFO(ReplacementPolicy):
    """First in, first out: evict the page that was loaded longest ago.

    A hit changes nothing: a page that is used all the time still leaves when its turn
    comes. Example, 3 frames, pages 1 2 3 1 4: at page 4 the victim is page 1 (loaded
    first), although it was just used.
    """

    def __init__(self) -> None:
        pass  # set up your queue here

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        raise NotImplementedError("FIFO.loaded")

    def victim(self, now: int) -> int:
        raise NotImplementedError("FIFO.victim")


class LRU(ReplacementPolicy):
    """Least recently used: evict the page whose last use (load or hit) is oldest.

    Example, 3 frames, pages 1 2 3 1 4: at page 4 the victim is page 2 (last used at
    access 1; page 1 was used again at access 3).
    """

    def __init__(self) -> None:
        pass

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        raise NotImplementedError("LRU.loaded")

    def hit(self, frame: int, page: PageId, now: int) -> None:
        raise NotImplementedError("LRU.hit")

    def victim(self, now: int) -> int:
        raise NotImplementedError("LRU.victim")


class OPT(ReplacementPolicy):
    """Belady's optimal policy: evict the page whose next use is farthest in the future.

    ``future[i]`` is the page of access ``i`` (every access of the trace, in order, even
    the ones that will be segmentation faults). The next use of a page in memory is the
    first ``i > now`` with ``future[i] == page``. A page that is never used again is
    farther than any other; among several such pages, evict the one in the
    lowest-numbered frame.

    Example, 3 frames, pages 1 2 3 4 1 2: at page 4 (access 3), page 1 is next used at
    access 4, page 2 at access 5, page 3 never: evict page 3.
    """

    def __init__(self, future: Sequence[PageId]) -> None:
        self.future = future

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        raise NotImplementedError("OPT.loaded")

    def hit(self, frame: int, page: PageId, now: int) -> None:
        raise NotImplementedError("OPT.hit")

    def victim(self, now: int) -> int:
        raise NotImplementedError("OPT.victim")


class Clock(ReplacementPolicy):
    """Second chance: a hand sweeps the frames in a circle, 0, 1, ..., frames - 1, 0, ...

    The hand starts at frame 0 and does not move while free frames remain. ``victim``:
    while the page under the hand has its referenced bit set, clear the bit
    (``memory.clear_referenced``) and move the hand to the next frame; then evict the
    frame under the hand and move the hand one frame past it. The MMU sets the
    referenced bit on every access, including the one that loads a page.

    Example, 3 frames, pages 1 2 3 4: all three bits are set, so the hand clears 0, 1, 2,
    comes back to frame 0 and evicts page 1; the hand is then at frame 1.
    """

    def __init__(self) -> None:
        pass

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        raise NotImplementedError("Clock.loaded")

    def victim(self, now: int) -> int:
        raise NotImplementedError("Clock.victim")


class EnhancedClock(ReplacementPolicy):
    """Enhanced second chance: prefer a page that is neither referenced nor dirty.

    Like Clock, a hand starts at frame 0. ``victim`` makes up to four sweeps, each
    starting at the hand and visiting every frame once:

    1. look for referenced=0, dirty=0 and change nothing;
    2. look for referenced=0, dirty=1, clearing the referenced bit of every frame passed;
    3. and 4.: sweeps 1 and 2 again (now every referenced bit is 0, so one of them finds
       a frame).

    The first frame found is evicted and the hand moves one past it. Evicting a clean
    page saves a write to swap.
    """

    def __init__(self) -> None:
        pass

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        raise NotImplementedError("EnhancedClock.loaded")

    def victim(self, now: int) -> int:
        raise NotImplementedError("EnhancedClock.victim")


class LFU(ReplacementPolicy):
    """Least frequently used: evict the page used the fewest times since it was loaded.

    The access that loads a page counts as its first use; each hit adds one. Ties: the
    least recently used of them (the one whose last use is oldest).
    """

    def __init__(self) -> None:
        pass

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        raise NotImplementedError("LFU.loaded")

    def hit(self, frame: int, page: PageId, now: int) -> None:
        raise NotImplementedError("LFU.hit")

    def victim(self, now: int) -> int:
        raise NotImplementedError("LFU.victim")


class RandomPolicy(ReplacementPolicy):
    """Evict a random frame, reproducibly.

    Create ``random.Random(seed)`` in the constructor and, in ``victim``, call its
    ``randrange(self.memory.frames)`` exactly once; evict that frame.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        raise NotImplementedError("RandomPolicy.loaded")

    def victim(self, now: int) -> int:
        raise NotImplementedError("RandomPolicy.victim")


class TLB(BaseTLB):
    """A fully associative TLB with ``entries`` entries, keyed by (asid, vpn).

    * ``lookup``: a hit counts in ``self.hits``, makes the entry the most recently used
      and returns its frame; a miss counts in ``self.misses`` and returns None.
    * ``insert``: when (asid, vpn) is already there, replace its frame; otherwise, if
      the TLB is full, first drop the least recently used entry (the one whose last
      insert or lookup hit is oldest). The inserted entry is the most recently used.
    * ``invalidate``: drop the entry if there is one. ``flush``: drop every entry.
      Neither touches the counters.
    """

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self.hits = 0
        self.misses = 0

    def lookup(self, asid: int, vpn: int) -> int | None:
        raise NotImplementedError("TLB.lookup")

    def insert(self, asid: int, vpn: int, frame: int) -> None:
        raise NotImplementedError("TLB.insert")

    def invalidate(self, asid: int, vpn: int) -> None:
        raise NotImplementedError("TLB.invalidate")

    def flush(self) -> None:
        raise NotImplementedError("TLB.flush")


class MMU(BaseMMU):
    """Translates the current process's virtual addresses (see README, "The MMU").

    ``translate(address, write)``:

    1. split ``address`` into the page number (the high bits) and the offset (the low
       log2(page_size) bits);
    2. look up (asid, vpn) in the TLB, exactly once; asid is the process id with
       ``asids=True``, 0 without;
    3. on a miss, read the page-table entry (``page_table.get(vpn)``); if there is none
       or it is not present, call ``self.page_fault(address)`` (it returns with the page
       present, or raises SegmentationFault: let it through), read the entry again, and
       insert the translation into the TLB;
    4. set the entry's ``referenced`` bit, and ``dirty`` on a write, on a TLB hit too;
    5. return ``Translation(frame * page_size + offset, tlb_hit)``.
    """

    def __init__(self, page_size: int, address_bits: int, tlb: BaseTLB, asids: bool) -> None:
        self.page_size = page_size
        self.address_bits = address_bits
        self.tlb = tlb
        self.asids = asids

    def context_switch(self, pid: int, page_table: PageTable) -> None:
        raise NotImplementedError("MMU.context_switch")

    def translate(self, address: int, write: bool) -> Translation:
        raise NotImplementedError("MMU.translate")

    def invalidate(self, pid: int, vpn: int) -> None:
        raise NotImplementedError("MMU.invalidate")
