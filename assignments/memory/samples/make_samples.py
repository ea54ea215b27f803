"""Rebuild the buggy and broken samples from the reference: one targeted edit each.

Run ``python assignments/memory/samples/make_samples.py`` after changing
reference/memory/paging.py; every edit asserts that the text it replaces is still
there, so a sample never silently stops differing from the reference.
correct_alt/ is written by hand and not touched.
"""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[3]
REF = (ROOT / "reference/memory/paging.py").read_text()
OUT = ROOT / "assignments/memory/samples"
HEAD_END = REF.index("from __future__ import annotations")


def make(name, doc, notes, edits, drop_class=()):
    body = REF[HEAD_END:]
    for old, new in edits:
        assert body.count(old) == 1, (name, old)
        body = body.replace(old, new)
    for cls in drop_class:
        start = body.index(f"\n\nclass {cls}")
        nxt = body.find("\n\nclass ", start + 2)
        body = body[:start] + ("\n" if nxt == -1 else body[nxt:])
        body = body.rstrip("\n") + "\n"
    text = f'"""{doc}"""\n\n' + body
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "paging.py").write_text(text)
    (d / "NOTES.md").write_text(notes.strip() + "\n")
    return text


# ----------------------------------------------------------------------------- realistic bugs

make(
    "lru_no_refresh",
    "Sample: the reference, except LRU.hit does nothing (a hit does not refresh the page).",
    "Buggy sample: LRU forgets to move a page to the most-recently-used end on a hit, so it is "
    "really FIFO. Must lose: lru-reference, lru-rule (tag lru only).",
    [
        (
            "    def hit(self, frame: int, page: PageId, now: int) -> None:\n"
            "        self.order.move_to_end(frame)\n",
            "    def hit(self, frame: int, page: PageId, now: int) -> None:\n"
            "        pass  # BUG: a hit should make the page the most recently used\n",
        )
    ],
)

make(
    "clock_hand_stuck",
    "Sample: the reference, except the clock hand stays on the frame it just evicted.",
    "Buggy sample: Clock leaves the hand on the victim's frame instead of moving it one past, "
    "so the next sweep starts at the page just loaded. Must lose: clock-reference, clock-rule "
    "(tag clock only).",
    [
        (
            "        frame = self.hand\n        self.hand = (frame + 1) % n\n        return frame\n",
            "        frame = self.hand  # BUG: the hand should move one past the victim\n"
            "        return frame\n",
        )
    ],
)

make(
    "opt_nearest",
    "Sample: the reference, except OPT evicts the page whose next use is nearest.",
    "Buggy sample: OPT keys its heap by the next use instead of minus the next use, so it "
    "evicts the page needed soonest. Must lose: opt-reference, opt-rule, opt-optimal (tag opt "
    "only).",
    [
        (
            "        heapq.heappush(self.heap, (-nxt, frame))\n",
            "        heapq.heappush(self.heap, (nxt, frame))  # BUG: nearest use first\n",
        ),
        (
            "            self.heap = [(-k, f) for f, k in self.key.items()]\n",
            "            self.heap = [(k, f) for f, k in self.key.items()]\n",
        ),
        (
            "            neg, frame = heapq.heappop(self.heap)\n"
            "            if self.key.get(frame) == -neg:\n",
            "            nxt, frame = heapq.heappop(self.heap)\n"
            "            if self.key.get(frame) == nxt:\n",
        ),
    ],
)

make(
    "tlb_no_flush",
    "Sample: the reference, except the MMU never flushes the TLB on a context switch.",
    "Buggy sample: without ASIDs the MMU keeps the TLB across context switches, so a process "
    "can use another process's translations (stale entries under asid 0). Must lose: "
    "mmu-flush-reference, isolation-rule, asid-beats-flush (its flushing run hits stale entries; "
    "tag mmu only).",
    [
        (
            "        if not self.asids:\n            self.tlb.flush()\n        self.pid = pid\n",
            "        self.pid = pid  # BUG: without ASIDs the TLB must be flushed here\n",
        )
    ],
)

make(
    "offset_bits_off_by_one",
    "Sample: the reference, except the MMU's offset mask keeps one bit too many.",
    "Buggy sample: the MMU takes the page number right (address // page_size) but computes the "
    "offset width as page_size.bit_length(), one bit too many, so the offset keeps the lowest "
    "bit of the page number and odd pages land in the wrong frame. Must lose: "
    "translate-reference, translate-rule (tag mmu only).",
    [
        (
            "        self.offset_bits = page_size.bit_length() - 1\n",
            "        self.offset_bits = page_size.bit_length()  # BUG: log2 is bit_length() - 1\n",
        ),
        (
            "        vpn = address >> self.offset_bits\n"
            "        offset = address & (self.page_size - 1)\n",
            "        vpn = address // self.page_size\n"
            "        offset = address & ((1 << self.offset_bits) - 1)\n",
        ),
    ],
)

make(
    "dirty_lost_on_tlb_hit",
    "Sample: the reference, except a write that hits in the TLB does not set the dirty bit.",
    "Buggy sample: the MMU sets the referenced and dirty bits only on the TLB-miss path, so a "
    "page first read, then written through a TLB hit, is evicted without being written back "
    "(its data is lost). Without a TLB it is correct (translate-reference passes). Must lose: "
    "write-back-rule, mmu-asid-reference (mmu-flush-reference may pass: flushing leaves few "
    "TLB hits; tag mmu only).",
    [
        (
            "            frame = entry.frame\n            self.tlb.insert(asid, vpn, frame)\n"
            "        if entry is not None:\n"
            "            entry.referenced = True\n"
            "            if write:\n"
            "                entry.dirty = True\n",
            "            frame = entry.frame\n            self.tlb.insert(asid, vpn, frame)\n"
            "            entry.referenced = True  # BUG: only on a TLB miss\n"
            "            if write:\n"
            "                entry.dirty = True\n",
        )
    ],
)

make(
    "fifo_refresh_on_hit",
    "Sample: the reference, except FIFO moves a page to the back of the queue on a hit.",
    "Buggy sample: FIFO requeues a page when it is hit (so it behaves like LRU); FIFO order is "
    "the order of loading only. Must lose: fifo-reference, fifo-rule, fifo-belady (tag fifo "
    "only).",
    [
        (
            "    def victim(self, now: int) -> int:\n        return self.order.popleft()\n",
            "    def hit(self, frame: int, page: PageId, now: int) -> None:\n"
            "        self.order.remove(frame)  # BUG: a hit must not change FIFO order\n"
            "        self.order.append(frame)\n\n"
            "    def victim(self, now: int) -> int:\n        return self.order.popleft()\n",
        )
    ],
)

make(
    "tlb_fifo_replacement",
    "Sample: the reference, except a full TLB drops the entry inserted first, not the LRU one.",
    "Buggy sample: the TLB does not refresh an entry on a lookup hit, so a full TLB evicts the "
    "oldest insertion even if it is used all the time. Must lose: tlb-reference (tag tlb only).",
    [
        (
            "        self.hits += 1\n        self.cache.move_to_end((asid, vpn))\n        return frame\n",
            "        self.hits += 1  # BUG: a hit should make the entry the most recently used\n"
            "        return frame\n",
        )
    ],
)

make(
    "flush_resets_counters",
    "Sample: the reference, except TLB.flush also resets the hit and miss counters.",
    "Buggy sample: TLB.flush re-creates the TLB state, counters included, so hits + misses "
    "falls short of the number of accesses after a context switch. Must lose: tlb-reference, "
    "tlb-count-rule (tags tlb and mmu only).",
    [
        (
            "    def flush(self) -> None:\n        self.cache.clear()\n",
            "    def flush(self) -> None:\n"
            "        self.__init__(self.entries)  # BUG: the counters must survive a flush\n",
        )
    ],
)

make(
    "opt_ties_highest_frame",
    "Sample: the reference, except OPT breaks ties (pages never used again) by the highest frame.",
    "Buggy sample: among pages never used again OPT evicts the one in the highest-numbered frame "
    "(the handout says lowest). The idea is right, so the rule and optimality tests pass. Must "
    "lose: opt-reference (tag opt only).",
    [
        (
            "        heapq.heappush(self.heap, (-nxt, frame))\n",
            "        heapq.heappush(self.heap, (-nxt, -frame))  # BUG: highest frame first\n",
        ),
        (
            "            self.heap = [(-k, f) for f, k in self.key.items()]\n",
            "            self.heap = [(-k, -f) for f, k in self.key.items()]\n",
        ),
        (
            "            neg, frame = heapq.heappop(self.heap)\n",
            "            neg, neg_frame = heapq.heappop(self.heap)\n            frame = -neg_frame\n",
        ),
    ],
)

make(
    "lfu_keeps_counts",
    "Sample: the reference, except LFU keeps a page's count when it is evicted and reloaded.",
    "Buggy sample: LFU remembers use counts per page across evictions instead of restarting at "
    "1 when the page is loaded again, so a page that was popular long ago is never evicted. "
    "Must lose: lfu-reference, lfu-rule (tag lfu only).",
    [
        (
            "        self.state: dict[int, tuple[int, int]] = {}\n",
            "        self.state: dict[int, tuple[int, int]] = {}\n"
            "        self.history: dict[PageId, int] = {}  # BUG: counts survive evictions\n"
            "        self.page_in: dict[int, PageId] = {}\n",
        ),
        (
            "    def loaded(self, frame: int, page: PageId, now: int) -> None:\n"
            "        self._push(frame, 1, now)\n\n"
            "    def hit(self, frame: int, page: PageId, now: int) -> None:\n"
            "        self._push(frame, self.state[frame][0] + 1, now)\n",
            "    def loaded(self, frame: int, page: PageId, now: int) -> None:\n"
            "        self.page_in[frame] = page\n"
            "        self.history[page] = self.history.get(page, 0) + 1\n"
            "        self._push(frame, self.history[page], now)\n\n"
            "    def hit(self, frame: int, page: PageId, now: int) -> None:\n"
            "        self.history[page] += 1\n"
            "        self._push(frame, self.history[page], now)\n",
        ),
    ],
)

# ----------------------------------------------------------------------------- broken, hostile

make(
    "syntax_error",
    "Sample: a def line without its colon, so importing paging.py raises SyntaxError.",
    "Broken sample: a `def` line without its colon (LRU.hit), so importing paging.py raises "
    "SyntaxError. Must lose: every test (score 0); the report shows the file and the line.",
    [
        (
            "    def hit(self, frame: int, page: PageId, now: int) -> None:\n"
            "        self.order.move_to_end(frame)\n",
            "    def hit(self, frame: int, page: PageId, now: int) -> None\n"
            "        self.order.move_to_end(frame)\n",
        )
    ],
)

make(
    "raises",
    "Sample: the reference, except Clock.victim reads an attribute it never set.",
    "Broken sample: Clock.victim uses self.frames, which it never sets (the frame count is "
    "self.memory.frames), so it raises AttributeError at the first eviction. Must lose: the "
    "clock tests whose workloads evict (shown as an exception in the student's code); tag "
    "clock only.",
    [
        (
            "        memory, n = self.memory, self.memory.frames\n"
            "        while memory.referenced(self.hand):",
            "        memory, n = self.memory, self.frames  # BUG: no such attribute\n"
            "        while memory.referenced(self.hand):",
        )
    ],
)

make(
    "infinite_loop",
    "Sample: the reference, except Clock never clears the referenced bits it passes.",
    "Broken sample: Clock forgets memory.clear_referenced, so when every page is referenced the "
    "hand circles forever (it must hit the call timeout). Must lose: clock-reference, "
    "clock-rule (timeouts; tag clock only).",
    [
        (
            "        while memory.referenced(self.hand):\n"
            "            memory.clear_referenced(self.hand)\n",
            "        while memory.referenced(self.hand):  # BUG: never clears the bit\n",
        )
    ],
)

make(
    "eq_always_true",
    "Sample: the reference, except LRU.victim returns an int whose __eq__ is always True.",
    "Hostile sample: LRU.victim returns an int subclass whose __eq__ always returns True, trying "
    "to fool comparisons; the simulator accepts only exact ints. Must lose: the lru tests "
    "(a PagingError naming the type); tag lru only.",
    [
        (
            "class LRU(ReplacementPolicy):",
            "class Sneaky(int):\n"
            "    def __eq__(self, other: object) -> bool:\n"
            "        return True\n\n"
            "    __hash__ = int.__hash__\n\n\n"
            "class LRU(ReplacementPolicy):",
        ),
        (
            "        return self.order.popitem(last=False)[0]\n",
            "        return Sneaky(self.order.popitem(last=False)[0])\n",
        ),
    ],
)

make(
    "os_exit",
    "Sample: the reference, except OPT's constructor calls os._exit(0).",
    "Hostile sample: OPT.__init__ calls os._exit(0), killing the worker with a success status "
    "and no output. Must lose: the opt tests (the worker dies); tag opt only.",
    [
        ("import heapq\n", "import heapq\nimport os\n"),
        (
            "    def __init__(self, future: Sequence[PageId]) -> None:\n",
            "    def __init__(self, future: Sequence[PageId]) -> None:\n        os._exit(0)\n",
        ),
    ],
)

make(
    "missing_class",
    "Sample: the reference without its EnhancedClock class.",
    "Broken sample: paging.py has no EnhancedClock class (the student did not get to it). Must "
    "lose: eclock-reference (a clear 'has no class EnhancedClock' message); the rest keeps its "
    "points.",
    [("    PhysicalMemory,\n", "")],  # only EnhancedClock used it
    drop_class=("EnhancedClock",),
)

make(
    "wrong_signature",
    "Sample: the reference, except RandomPolicy takes no seed (it hard-codes 42).",
    "Broken sample: RandomPolicy.__init__(self) takes no seed argument, so RandomPolicy(seed=...) "
    "raises TypeError. Must lose: random-reference (a message to keep the template's "
    "constructor signature); tag random only.",
    [
        (
            "    def __init__(self, seed: int) -> None:\n        self.rng = random.Random(seed)\n",
            "    def __init__(self) -> None:\n        self.rng = random.Random(42)\n",
        )
    ],
)
