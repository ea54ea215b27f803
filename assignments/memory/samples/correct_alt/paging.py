"""Sample: a correct submission written differently from the reference.

FIFO is a list with a moving head, LRU a dict of last-use times with a lazy heap, OPT a
per-page queue of future positions, Clock keeps its own referenced bits (set in loaded and
hit, instead of reading the page table's), LFU uses frequency buckets (O(1)), the TLB a
dict with use stamps (O(entries) eviction, fine for a TLB), and the MMU splits with
divmod.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import defaultdict, deque
from collections.abc import Sequence

from grader.simos.memory import (
    BaseMMU,
    BaseTLB,
    PageId,
    PageTable,
    PhysicalMemory,
    ReplacementPolicy,
    Translation,
)


class FIFO(ReplacementPolicy):
    def __init__(self) -> None:
        self.queue: list[int] = []
        self.head = 0

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        self.queue.append(frame)

    def victim(self, now: int) -> int:
        frame = self.queue[self.head]
        self.head += 1
        if self.head > 1024 and self.head * 2 > len(self.queue):
            del self.queue[: self.head]
            self.head = 0
        return frame


class LRU(ReplacementPolicy):
    def __init__(self) -> None:
        self.last: dict[int, int] = {}
        self.heap: list[tuple[int, int]] = []

    def _touch(self, frame: int, now: int) -> None:
        self.last[frame] = now
        heapq.heappush(self.heap, (now, frame))

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        self._touch(frame, now)

    def hit(self, frame: int, page: PageId, now: int) -> None:
        self._touch(frame, now)

    def victim(self, now: int) -> int:
        while True:
            when, frame = heapq.heappop(self.heap)
            if self.last.get(frame) == when:
                del self.last[frame]
                return frame


class OPT(ReplacementPolicy):
    def __init__(self, future: Sequence[PageId]) -> None:
        self.uses: dict[PageId, deque[int]] = defaultdict(deque)
        for i, page in enumerate(future):
            self.uses[page].append(i)
        self.page_in: dict[int, PageId] = {}
        self.heap: list[tuple[float, int]] = []

    def _touch(self, frame: int, page: PageId, now: int) -> None:
        queue = self.uses[page]
        while queue and queue[0] <= now:
            queue.popleft()
        nxt = queue[0] if queue else float("inf")
        self.page_in[frame] = page
        heapq.heappush(self.heap, (-nxt, frame))

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        self._touch(frame, page, now)

    def hit(self, frame: int, page: PageId, now: int) -> None:
        self._touch(frame, page, now)

    def victim(self, now: int) -> int:
        while True:
            neg, frame = heapq.heappop(self.heap)
            queue = self.uses[self.page_in[frame]]
            current = queue[0] if queue else float("inf")
            if -neg == current:
                return frame


class Clock(ReplacementPolicy):
    def attach(self, memory: PhysicalMemory) -> None:
        self.memory = memory
        self.bits = [False] * memory.frames
        self.hand = 0

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        self.bits[frame] = True  # the access that loads the page references it

    def hit(self, frame: int, page: PageId, now: int) -> None:
        self.bits[frame] = True

    def victim(self, now: int) -> int:
        n = len(self.bits)
        while True:
            frame = self.hand
            self.hand = (self.hand + 1) % n
            if not self.bits[frame]:
                return frame
            self.bits[frame] = False


class EnhancedClock(ReplacementPolicy):
    def __init__(self) -> None:
        self.hand = 0

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        pass

    def victim(self, now: int) -> int:
        m = self.memory
        order = [(self.hand + i) % m.frames for i in range(m.frames)]
        for _round in range(2):
            clean = [f for f in order if not m.referenced(f) and not m.dirty(f)]
            if clean:
                return self._take(clean[0])
            for f in order:
                if not m.referenced(f):
                    return self._take(f)
                m.clear_referenced(f)
        raise RuntimeError("every frame was swept twice")

    def _take(self, frame: int) -> int:
        self.hand = (frame + 1) % self.memory.frames
        return frame


class LFU(ReplacementPolicy):
    """Frequency buckets: count -> frames in order of last use (dict keeps insertion order)."""

    def __init__(self) -> None:
        self.count: dict[int, int] = {}
        self.buckets: dict[int, dict[int, None]] = defaultdict(dict)
        self.low = 1

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        self.count[frame] = 1
        self.buckets[1][frame] = None
        self.low = 1

    def hit(self, frame: int, page: PageId, now: int) -> None:
        c = self.count[frame]
        del self.buckets[c][frame]
        if not self.buckets[c] and self.low == c:
            self.low = c + 1
        self.count[frame] = c + 1
        self.buckets[c + 1][frame] = None

    def victim(self, now: int) -> int:
        while not self.buckets[self.low]:
            self.low += 1
        bucket = self.buckets[self.low]
        frame = next(iter(bucket))
        del bucket[frame]
        del self.count[frame]
        return frame


class RandomPolicy(ReplacementPolicy):
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        pass

    def victim(self, now: int) -> int:
        return self.rng.randrange(self.memory.frames)


class TLB(BaseTLB):
    def __init__(self, entries: int) -> None:
        self.entries = entries
        self.table: dict[tuple[int, int], tuple[int, int]] = {}  # key -> (frame, stamp)
        self.clock = itertools.count()
        self.hits = 0
        self.misses = 0

    def lookup(self, asid: int, vpn: int) -> int | None:
        entry = self.table.get((asid, vpn))
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self.table[(asid, vpn)] = (entry[0], next(self.clock))
        return entry[0]

    def insert(self, asid: int, vpn: int, frame: int) -> None:
        if (asid, vpn) not in self.table and len(self.table) >= self.entries:
            oldest = min(self.table, key=lambda k: self.table[k][1])
            del self.table[oldest]
        self.table[(asid, vpn)] = (frame, next(self.clock))

    def invalidate(self, asid: int, vpn: int) -> None:
        self.table.pop((asid, vpn), None)

    def flush(self) -> None:
        self.table = {}


class MMU(BaseMMU):
    def __init__(self, page_size: int, address_bits: int, tlb: BaseTLB, asids: bool) -> None:
        self.page_size = page_size
        self.tlb = tlb
        self.asids = asids
        self.current: tuple[int, PageTable] | None = None

    def context_switch(self, pid: int, page_table: PageTable) -> None:
        if not self.asids:
            self.tlb.flush()
        self.current = (pid, page_table)

    def translate(self, address: int, write: bool) -> Translation:
        assert self.current is not None
        pid, table = self.current
        vpn, offset = divmod(address, self.page_size)
        tag = pid if self.asids else 0
        frame = self.tlb.lookup(tag, vpn)
        hit = frame is not None
        entry = table.get(vpn)
        if frame is None:
            if entry is None or not entry.present:
                self.page_fault(address)  # raises SegmentationFault when there is no entry
                entry = table.get(vpn)
            assert entry is not None and entry.frame is not None
            frame = entry.frame
            self.tlb.insert(tag, vpn, frame)
        assert entry is not None
        entry.referenced = True
        entry.dirty = entry.dirty or write
        return Translation(frame * self.page_size + offset, hit)

    def invalidate(self, pid: int, vpn: int) -> None:
        if self.asids:
            self.tlb.invalidate(pid, vpn)
        elif self.current is not None and self.current[0] == pid:
            self.tlb.invalidate(0, vpn)
