"""Totals of a run: TLB and page hit rates, faults, write-backs, effective access time."""

from __future__ import annotations

from dataclasses import dataclass

from .model import FAULTED, SEGFAULT, Run, Workload


@dataclass(frozen=True, slots=True)
class Stats:
    """Totals over every access of a run (rates are 0.0 when there is nothing to divide)."""

    accesses: int
    tlb_hits: int  # 0 when the run had no TLB
    tlb_misses: int
    faults: int  # page faults that loaded a page
    segfaults: int
    evictions: int
    write_backs: int
    process_switches: int  # the first access does not count
    total_ns: int
    has_tlb: bool

    @property
    def tlb_hit_rate(self) -> float:
        looked = self.tlb_hits + self.tlb_misses
        return self.tlb_hits / looked if looked else 0.0

    @property
    def fault_rate(self) -> float:
        return self.faults / self.accesses if self.accesses else 0.0

    @property
    def effective_access_ns(self) -> float:
        """The average cost of one access, from the workload's latencies."""
        return self.total_ns / self.accesses if self.accesses else 0.0

    def summary(self) -> str:
        tlb = (
            f"TLB hits {self.tlb_hits}/{self.tlb_hits + self.tlb_misses} "
            f"({100 * self.tlb_hit_rate:.1f}%), "
            if self.has_tlb
            else ""
        )
        return (
            f"{self.accesses} accesses: {tlb}page faults {self.faults} "
            f"({100 * self.fault_rate:.1f}%), segmentation faults {self.segfaults}, "
            f"write-backs {self.write_backs}, process switches {self.process_switches}; "
            f"effective access time {self.effective_access_ns:.1f} ns"
        )


def compute_stats(workload: Workload, run: Run) -> Stats:
    """Totals of ``run``, which must come from ``workload`` (same number of accesses)."""
    if len(run) != len(workload.accesses):
        raise ValueError(f"the run has {len(run)} accesses, the workload {len(workload.accesses)}")
    lat = workload.config.latencies
    hits = misses = faults = segv = evictions = wbs = 0
    total = 0
    for t, k, vp, wb in zip(run.tlb, run.kind, run.victim_pid, run.write_back, strict=True):
        cost = 0
        if t >= 0:
            cost += lat.tlb_ns
            if t:
                hits += 1
            else:
                misses += 1
        if t != 1:
            cost += lat.walk_ns
        if k == SEGFAULT:
            segv += 1
        else:
            cost += lat.memory_ns
            if k == FAULTED:
                faults += 1
                cost += lat.fault_ns
        if vp >= 0:
            evictions += 1
        if wb:
            wbs += 1
            cost += lat.write_back_ns
        total += cost
    switches = 0
    prev: int | None = None
    for a in workload.accesses:
        if prev is not None and a.pid != prev:
            switches += 1
        prev = a.pid
    return Stats(
        accesses=len(run),
        tlb_hits=hits,
        tlb_misses=misses,
        faults=faults,
        segfaults=segv,
        evictions=evictions,
        write_backs=wbs,
        process_switches=switches,
        total_ns=total,
        has_tlb=any(t >= 0 for t in run.tlb),
    )
