"""Sample: the reference, except OPT's constructor calls os._exit(0)."""

from __future__ import annotations

import heapq
import os
import random
from collections import OrderedDict, deque
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

NEVER = 1 << 62  # "next use" of a page that is never used again


class FIFO(ReplacementPolicy):
    """Evict the page loaded longest ago; hits change nothing. A deque of frames: O(1)."""

    def __init__(self) -> None:
        self.order: deque[int] = deque()

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        self.order.append(frame)

    def victim(self, now: int) -> int:
        return self.order.popleft()


class LRU(ReplacementPolicy):
    """Evict the page used longest ago. An OrderedDict of frames, oldest use first: O(1)."""

    def __init__(self) -> None:
        self.order: OrderedDict[int, None] = OrderedDict()

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        self.order[frame] = None  # the frame was just popped by victim(), or is new

    def hit(self, frame: int, page: PageId, now: int) -> None:
        self.order.move_to_end(frame)

    def victim(self, now: int) -> int:
        return self.order.popitem(last=False)[0]


class OPT(ReplacementPolicy):
    """Evict the page whose next use is farthest; never-used-again pages first, lowest frame.

    ``next_use[i]`` (the next access to the same page after access i) is computed once,
    backwards, in O(n). A max-heap of (-next use, frame) with lazy deletion: every access
    pushes the frame's new key; stale entries are skipped when popped. O(log n) per access.
    """

    def __init__(self, future: Sequence[PageId]) -> None:
        os._exit(0)
        self.next_use = [NEVER] * len(future)
        seen: dict[PageId, int] = {}
        for i in range(len(future) - 1, -1, -1):
            page = future[i]
            self.next_use[i] = seen.get(page, NEVER)
            seen[page] = i
        self.key: dict[int, int] = {}
        self.heap: list[tuple[int, int]] = []

    def _use(self, frame: int, now: int) -> None:
        nxt = self.next_use[now]
        self.key[frame] = nxt
        heapq.heappush(self.heap, (-nxt, frame))
        if len(self.heap) > 2 * len(self.key) + 8:  # keep the stale entries bounded
            self.heap = [(-k, f) for f, k in self.key.items()]
            heapq.heapify(self.heap)

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        self._use(frame, now)

    def hit(self, frame: int, page: PageId, now: int) -> None:
        self._use(frame, now)

    def victim(self, now: int) -> int:
        while True:
            neg, frame = heapq.heappop(self.heap)
            if self.key.get(frame) == -neg:
                del self.key[frame]
                return frame


class Clock(ReplacementPolicy):
    """Second chance. The hand starts at frame 0; the referenced bits are the page table's.

    Amortised O(1): every bit the hand clears was set by an earlier access.
    """

    def __init__(self) -> None:
        self.hand = 0

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        pass

    def victim(self, now: int) -> int:
        memory, n = self.memory, self.memory.frames
        while memory.referenced(self.hand):
            memory.clear_referenced(self.hand)
            self.hand = (self.hand + 1) % n
        frame = self.hand
        self.hand = (frame + 1) % n
        return frame


class _Marks:
    """Frames marked in one class, with "the first marked frame at or after h" in O(log n).

    A segment tree of counts over the frames (leaves at size + i).
    """

    def __init__(self, n: int) -> None:
        self.size = 1 << max(n - 1, 0).bit_length()
        self.count = [0] * (2 * self.size)

    def set(self, i: int, on: bool) -> None:
        """Mark or unmark frame ``i`` (the caller only flips a frame's current state)."""
        pos = self.size + i
        delta = 1 if on else -1
        while pos:
            self.count[pos] += delta
            pos //= 2

    def first_from(self, h: int) -> int | None:
        """The first marked frame >= h, else the first marked frame (the circle), else None."""
        count, pos = self.count, self.size + h
        if not count[pos]:
            while pos > 1 and not (pos % 2 == 0 and count[pos + 1]):
                pos //= 2
            if pos == 1:  # nothing at or after h: wrap around to the first marked frame
                if not count[1]:
                    return None
                pos = 1
            else:
                pos += 1
            while pos < self.size:
                pos = 2 * pos if count[2 * pos] else 2 * pos + 1
        return pos - self.size


class EnhancedClock(ReplacementPolicy):
    """Enhanced second chance (Stallings): prefer unreferenced clean, then unreferenced dirty.

    The four sweeps of the handout, without sweeping: the frames are kept in three classes
    (R=0 D=0, R=0 D=1, R=1) with "first frame of a class from the hand" in O(log n). The
    classes mirror the page-table bits exactly: an access sets R (hit tells us; the access
    that loads a page sets it too) and a write sets D (read in hit). Only the D of a page
    written by the access that loaded it is unknown, but that page is in the R=1 class
    until the hand clears its R, and clearing reads D. The bits the hand clears are paid
    for by the accesses that set them, so each call is amortised O(log frames).
    """

    def attach(self, memory: PhysicalMemory) -> None:
        self.memory = memory
        n = memory.frames
        self.hand = 0
        self.clean, self.dirty, self.referenced = _Marks(n), _Marks(n), _Marks(n)
        self.bits: list[tuple[bool, bool] | None] = [None] * n  # mirrored (R, D)

    def _put(self, frame: int, r: bool, d: bool) -> None:
        old = self.bits[frame]
        if old == (r, d):
            return
        if old is not None:
            self._mark(frame, old, False)
        self.bits[frame] = (r, d)
        self._mark(frame, (r, d), True)

    def _mark(self, frame: int, bits: tuple[bool, bool], on: bool) -> None:
        r, d = bits
        (self.referenced if r else self.dirty if d else self.clean).set(frame, on)

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        self._put(frame, True, False)  # the access that loads it sets R (D: see the docstring)

    def hit(self, frame: int, page: PageId, now: int) -> None:
        self._put(frame, True, self.memory.dirty(frame))

    def _clear_before(self, stop: int | None) -> None:
        """Sweep 2: clear R on every referenced frame from the hand up to ``stop``."""
        n, h = self.memory.frames, self.hand
        limit = n if stop is None else (stop - h) % n
        while (f := self.referenced.first_from(h)) is not None and (f - h) % n < limit:
            self.memory.clear_referenced(f)
            self._put(f, False, self.memory.dirty(f))

    def victim(self, now: int) -> int:
        for _ in range(2):
            f = self.clean.first_from(self.hand)
            if f is None:
                f = self.dirty.first_from(self.hand)
                self._clear_before(f)
            if f is not None:
                return self._take(f)
        raise AssertionError("unreachable: the second round finds a frame")

    def _take(self, frame: int) -> int:
        old = self.bits[frame]
        assert old is not None
        self._mark(frame, old, False)
        self.bits[frame] = None
        self.hand = (frame + 1) % self.memory.frames
        return frame


class LFU(ReplacementPolicy):
    """Evict the page used fewest times since it was loaded; ties: least recently used.

    A heap of (count, last use, frame) with lazy deletion: O(log n) per access.
    """

    def __init__(self) -> None:
        self.state: dict[int, tuple[int, int]] = {}
        self.heap: list[tuple[int, int, int]] = []

    def _push(self, frame: int, count: int, now: int) -> None:
        self.state[frame] = (count, now)
        heapq.heappush(self.heap, (count, now, frame))
        if len(self.heap) > 2 * len(self.state) + 8:  # keep the stale entries bounded
            self.heap = [(c, t, f) for f, (c, t) in self.state.items()]
            heapq.heapify(self.heap)

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        self._push(frame, 1, now)

    def hit(self, frame: int, page: PageId, now: int) -> None:
        self._push(frame, self.state[frame][0] + 1, now)

    def victim(self, now: int) -> int:
        while True:
            count, last, frame = heapq.heappop(self.heap)
            if self.state.get(frame) == (count, last):
                del self.state[frame]
                return frame


class RandomPolicy(ReplacementPolicy):
    """Evict ``random.Random(seed).randrange(frames)``: one draw per eviction."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        pass

    def victim(self, now: int) -> int:
        return self.rng.randrange(self.memory.frames)


class TLB(BaseTLB):
    """Fully associative, least recently used entry evicted first. An OrderedDict: O(1)."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self.cache: OrderedDict[tuple[int, int], int] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def lookup(self, asid: int, vpn: int) -> int | None:
        frame = self.cache.get((asid, vpn))
        if frame is None:
            self.misses += 1
            return None
        self.hits += 1
        self.cache.move_to_end((asid, vpn))
        return frame

    def insert(self, asid: int, vpn: int, frame: int) -> None:
        key = (asid, vpn)
        if key in self.cache:
            self.cache.move_to_end(key)
        elif len(self.cache) >= self.entries:
            self.cache.popitem(last=False)
        self.cache[key] = frame

    def invalidate(self, asid: int, vpn: int) -> None:
        self.cache.pop((asid, vpn), None)

    def flush(self) -> None:
        self.cache.clear()


class MMU(BaseMMU):
    """Split with a shift and a mask, TLB first, then the page table, fault when absent."""

    def __init__(self, page_size: int, address_bits: int, tlb: BaseTLB, asids: bool) -> None:
        self.page_size = page_size
        self.address_bits = address_bits
        self.offset_bits = page_size.bit_length() - 1
        self.tlb = tlb
        self.asids = asids
        self.pid = -1
        self.table: PageTable | None = None

    def context_switch(self, pid: int, page_table: PageTable) -> None:
        if not self.asids:
            self.tlb.flush()
        self.pid = pid
        self.table = page_table

    def translate(self, address: int, write: bool) -> Translation:
        assert self.table is not None
        vpn = address >> self.offset_bits
        offset = address & (self.page_size - 1)
        asid = self.pid if self.asids else 0
        frame = self.tlb.lookup(asid, vpn)
        hit = frame is not None
        entry = self.table.get(vpn)
        if frame is None:
            if entry is None or not entry.present:
                self.page_fault(address)  # raises SegmentationFault for an invalid page
                entry = self.table.get(vpn)
            assert entry is not None and entry.frame is not None
            frame = entry.frame
            self.tlb.insert(asid, vpn, frame)
        if entry is not None:
            entry.referenced = True
            if write:
                entry.dirty = True
        return Translation(frame * self.page_size + offset, hit)

    def invalidate(self, pid: int, vpn: int) -> None:
        if self.asids:
            self.tlb.invalidate(pid, vpn)
        elif pid == self.pid:
            self.tlb.invalidate(0, vpn)
