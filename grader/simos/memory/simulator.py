"""The simulated operating system and memory: one pass over the trace, O(1) work per access.

``simulate(workload, policy)`` translates by itself, with no TLB (the machine of the
page-replacement exercises). ``simulate(workload, policy, mmu)`` lets your MMU (and the
TLB inside it) translate every access; the simulator is then only the operating system:
it serves page faults (``BaseMMU.page_fault``) and keeps the page tables and frames.
The order of calls is documented in interfaces.py.
"""

from __future__ import annotations

from .interfaces import BaseMMU, ReplacementPolicy, Translation
from .model import (
    DIRTY_BIT,
    FAULTED,
    REFERENCED_BIT,
    SEGFAULT,
    TRANSLATED,
    PageId,
    PagingError,
    Run,
    SegmentationFault,
    Workload,
    new_columns,
)
from .tables import PageTable, PageTableEntry, PhysicalMemory, SwapArea


def _bits(pte: PageTableEntry | None) -> int:
    if pte is None:
        return 0
    return (REFERENCED_BIT if pte.referenced else 0) | (DIRTY_BIT if pte.dirty else 0)


class _System:
    """The operating system's state during one run."""

    def __init__(self, workload: Workload, policy: ReplacementPolicy, mmu: BaseMMU | None):
        if not isinstance(policy, ReplacementPolicy):
            raise PagingError(
                f"the policy must be a ReplacementPolicy, got {type(policy).__name__}"
            )
        if mmu is not None and not isinstance(mmu, BaseMMU):
            raise PagingError(f"the MMU must subclass BaseMMU, got {type(mmu).__name__}")
        self.workload = workload
        config = workload.config
        self.shift = config.offset_bits
        self.mask = config.page_size - 1
        self.page_size = config.page_size
        self.frames = config.frames
        self.tables = {p.pid: PageTable(p) for p in workload.processes}
        self.memory = PhysicalMemory(config.frames)
        self.holder = self.memory._holder
        self.swap = SwapArea()
        self.next_free = 0
        self.policy = policy
        self.mmu = mmu
        self.cols = new_columns(len(workload.accesses))
        # The access being served (the MMU's trap needs it).
        self.now = -1
        self.pid = -1
        self.address = -1
        self.faulted = False
        self.segv = False
        self.victim: PageId | None = None
        self.write_back = False

    # ------------------------------------------------------------------ the fault path

    def load(self, pte: PageTableEntry) -> int:
        """Bring ``pte``'s page into a frame (evicting a victim if needed); returns the frame."""
        self.victim, self.write_back = None, False
        if self.next_free < self.frames:
            frame = self.next_free
            self.next_free += 1
        else:
            frame = self.policy.victim(self.now)
            if type(frame) is not int or not 0 <= frame < self.frames:
                raise PagingError(
                    f"victim() at access {self.now} returned {frame!r} "
                    f"({type(frame).__name__}); return a frame number, an int in "
                    f"0..{self.frames - 1}"
                )
            old = self.holder[frame]
            assert old is not None  # every frame is in use once next_free == frames
            self.write_back = old.dirty
            if old.dirty:
                self.swap.write(old.page)
            old._present = False
            old._frame = None
            old.referenced = old.dirty = False
            self.victim = old.page
            if self.mmu is not None:
                self.mmu.invalidate(old.page.pid, old.page.vpn)
        self.swap.read(pte.page)
        self.holder[frame] = pte
        pte._present = True
        pte._frame = frame
        pte.referenced = pte.dirty = False
        self.policy.loaded(frame, pte.page, self.now)
        return frame

    def trap(self, address: int) -> None:
        """``BaseMMU.page_fault``: serve a page fault of the current access."""
        if self.now < 0 or self.address < 0:
            raise PagingError("page_fault() was called while no access was being translated")
        if type(address) is not int or address != self.address:
            raise PagingError(
                f"page_fault({address!r}) was called while translating {self.address:#x} "
                f"(access {self.now}); pass the virtual address being translated"
            )
        if self.faulted or self.segv:
            raise PagingError(
                f"page_fault() was called twice for access {self.now} ({address:#x}); after it "
                "returns the page is present: read its page-table entry again"
            )
        vpn = address >> self.shift
        pte = self.tables[self.pid].get(vpn)
        if pte is None:
            self.segv = True
            raise SegmentationFault(self.pid, address, vpn)
        if pte._present:
            raise PagingError(
                f"page_fault({address:#x}) was called, but page {vpn} of process {self.pid} is "
                f"already present (frame {pte._frame}). With {self.page_size}-byte pages the "
                f"page number is the address shifted right by {self.shift} bits: is that what "
                "translate computes?"
            )
        self.load(pte)
        self.faulted = True

    # ------------------------------------------------------------------ the main loop

    def run(self) -> Run:
        self.policy.attach(self.memory)
        if self.mmu is None:
            self.run_without_mmu()
        else:
            self.mmu._trap = self.trap
            try:
                self.run_with_mmu(self.mmu)
            finally:
                self.mmu._trap = None
        return Run(**self.cols)  # type: ignore[arg-type]  # the eight columns

    def run_without_mmu(self) -> None:
        c = self.cols
        kind, frame_c, address_c, bits_c = c["kind"], c["frame"], c["address"], c["bits"]
        vpid, vvpn, wb = c["victim_pid"], c["victim_vpn"], c["write_back"]
        shift, mask, size = self.shift, self.mask, self.page_size
        tables = self.tables
        hit = self.policy.hit
        for now, (pid, address, write) in enumerate(self.workload.accesses):
            vpn = address >> shift
            table = tables[pid]
            pte = table._entries.get(vpn) or table.get(vpn)
            if pte is None:
                kind[now] = SEGFAULT
                continue
            if pte._present:
                f: int = pte._frame  # type: ignore[assignment]
                pte.referenced = True
                if write:
                    pte.dirty = True
                hit(f, pte.page, now)
            else:
                self.now = now
                f = self.load(pte)
                pte.referenced = True
                if write:
                    pte.dirty = True
                kind[now] = FAULTED
                v = self.victim
                if v is not None:
                    vpid[now], vvpn[now] = v
                    if self.write_back:
                        wb[now] = 1
            frame_c[now] = f
            address_c[now] = f * size + (address & mask)
            bits_c[now] = REFERENCED_BIT | DIRTY_BIT if pte.dirty else REFERENCED_BIT

    def run_with_mmu(self, mmu: BaseMMU) -> None:
        c = self.cols
        shift = self.shift
        current: int | None = None
        for now, (pid, address, write) in enumerate(self.workload.accesses):
            if pid != current:
                mmu.context_switch(pid, self.tables[pid])
                current = pid
            self.now, self.pid, self.address = now, pid, address
            self.faulted = self.segv = False
            self.victim, self.write_back = None, False
            vpn = address >> shift
            try:
                result = mmu.translate(address, write)
            except SegmentationFault:
                if not self.segv and self.tables[pid].get(vpn) is not None:
                    raise PagingError(
                        f"translate({address:#x}) raised SegmentationFault for page {vpn} of "
                        f"process {pid}, which is a valid page; only the operating system "
                        "decides that (call self.page_fault)"
                    ) from None
                c["tlb"][now] = 0
                c["kind"][now] = SEGFAULT
                continue
            if self.segv:
                raise PagingError(
                    f"translate({address:#x}) returned after page_fault() raised "
                    "SegmentationFault; let the exception propagate out of translate"
                )
            physical, tlb_hit = _check_translation(result, now, address)
            pte = self.tables[pid].get(vpn)
            frame = pte._frame if pte is not None and pte._present else None
            if not self.faulted and frame is not None and pte is not None:
                self.policy.hit(frame, pte.page, now)
            v = self.victim
            c["tlb"][now] = 1 if tlb_hit else 0
            c["kind"][now] = FAULTED if self.faulted else TRANSLATED
            c["frame"][now] = -1 if frame is None else frame
            if v is not None:
                c["victim_pid"][now], c["victim_vpn"][now] = v
            c["write_back"][now] = 1 if self.write_back else 0
            c["address"][now] = physical
            c["bits"][now] = _bits(pte)
        self.now = self.address = -1


def _check_translation(result: object, now: int, address: int) -> tuple[int, bool]:
    if type(result) is not Translation:
        raise PagingError(
            f"translate({address:#x}) at access {now} returned {type(result).__name__}; "
            "return Translation(physical_address, tlb_hit)"
        )
    physical, tlb_hit = result.address, result.tlb_hit
    if type(physical) is not int or not 0 <= physical < 1 << 62:
        raise PagingError(
            f"translate({address:#x}) at access {now} returned the physical address "
            f"{physical!r}; it must be an int >= 0"
        )
    if type(tlb_hit) is not bool:
        raise PagingError(
            f"translate({address:#x}) at access {now} returned tlb_hit={tlb_hit!r}; "
            "it must be True or False"
        )
    return physical, tlb_hit


def simulate(workload: Workload, policy: ReplacementPolicy, mmu: BaseMMU | None = None) -> Run:
    """Run every access of ``workload``; returns what happened to each one.

    Raises PagingError when the policy or the MMU breaks the contract, and lets the
    exceptions of your own code through.
    """
    return _System(workload, policy, mmu).run()


def simulate_system(
    workload: Workload, policy: ReplacementPolicy, mmu: BaseMMU | None = None
) -> tuple[Run, dict[int, PageTable], SwapArea]:
    """Like ``simulate``, also returning the final page tables (by pid) and the swap area."""
    system = _System(workload, policy, mmu)
    run = system.run()
    return run, system.tables, system.swap
