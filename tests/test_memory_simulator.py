"""The memory simulator's side of the contract (grader/simos/memory/interfaces.py).

Spy policies and MMUs record every call, so these tests pin down what students rely on:
the order of calls on one access, free frames lowest first, the fault path (validity,
victim, write-back, invalidation, load), the context switches, the errors a broken
policy or MMU gets, the totals and the parent-side replay of untrusted runs.
"""

from __future__ import annotations

import dataclasses
import re
from array import array
from typing import Any

import pytest

from grader.simos.memory import (
    FAULTED,
    SEGFAULT,
    TRANSLATED,
    Access,
    BaseMMU,
    BaseTLB,
    Latencies,
    MemoryConfig,
    NullTLB,
    PageId,
    PageTable,
    PagingError,
    Process,
    ReplacementPolicy,
    Run,
    ScriptedVictims,
    SegmentationFault,
    Translation,
    Workload,
    WorkloadError,
    compute_stats,
    first_difference,
    replay,
    simulate,
)

Call = tuple[Any, ...]


def W(
    accesses: list[tuple[int, int] | tuple[int, int, bool]],
    frames: int = 2,
    page_size: int = 16,
    processes: tuple[Process, ...] = (Process(0, ((0, 8),)),),
    **config: Any,
) -> Workload:
    return Workload(
        MemoryConfig(page_size=page_size, address_bits=8, frames=frames, **config),
        processes,
        tuple(Access(*a) for a in accesses),
    )


class Spy(ReplacementPolicy):
    """FIFO by default; records every call with the bits the policy can see."""

    def __init__(self, victims: list[Any] | None = None) -> None:
        self.calls: list[Call] = []
        self.order: list[int] = []
        self.victims = victims

    def loaded(self, frame: int, page: PageId, now: int) -> None:
        bits = (self.memory.referenced(frame), self.memory.dirty(frame))
        self.calls.append(("loaded", now, frame, tuple(page), bits))
        self.order.append(frame)

    def hit(self, frame: int, page: PageId, now: int) -> None:
        bits = (self.memory.referenced(frame), self.memory.dirty(frame))
        self.calls.append(("hit", now, frame, tuple(page), bits))

    def victim(self, now: int) -> Any:
        self.calls.append(("victim", now))
        if self.victims is not None:
            return self.victims.pop(0)
        frame = self.order.pop(0)
        return frame


# ----------------------------------------------------------------------------- workloads


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"page_size": 24}, "page_size must be a power of two"),
        ({"address_bits": 3}, "address_bits"),
        ({"frames": 0}, "frames must be an int >= 1"),
        ({"tlb_entries": 0}, "tlb_entries"),
        ({"asids": 1}, "asids must be True or False"),
        ({"latencies": Latencies(fault_ns=-1)}, "latencies.fault_ns"),
    ],
)
def test_bad_configs_name_the_field(change: dict[str, Any], words: str) -> None:
    config = dataclasses.replace(MemoryConfig(page_size=16, address_bits=8), **change)
    with pytest.raises(WorkloadError, match=words):
        Workload(config, (Process(0, ((0, 4),)),), ())


def test_bad_processes_and_accesses_name_the_access() -> None:
    config = MemoryConfig(page_size=16, address_bits=8)
    with pytest.raises(WorkloadError, match="valid range"):
        Workload(config, (Process(0, ((0, 17),)),), ())  # only 16 pages of 16 bytes
    with pytest.raises(WorkloadError, match="listed twice"):
        Workload(config, (Process(0, ((0, 1),)), Process(0, ((0, 1),))), ())
    with pytest.raises(WorkloadError, match="access 1: process 3"):
        W([(0, 0), (3, 0)])
    with pytest.raises(WorkloadError, match="access 0: address 256"):
        W([(0, 256)])
    with pytest.raises(WorkloadError, match="write must be True or False"):
        Workload(config, (Process(0, ((0, 4),)),), (Access(0, 0, 1),))  # type: ignore[arg-type]


def test_workload_round_trips_through_data() -> None:
    w = W([(0, 0x13, True), (1, 0x40)], processes=(Process(0, ((0, 4),)), Process(1, ((4, 8),))))
    assert Workload.from_data(w.to_data()) == w
    assert w.pages() == [PageId(0, 1), PageId(1, 4)]
    with pytest.raises(WorkloadError, match="malformed"):
        Workload.from_data({"config": {}})


# ----------------------------------------------------------------------------- the policy contract


def test_order_of_calls_free_frames_first_and_bits_seen() -> None:
    # pages 0, 1, 0 (write), 2 with 2 frames: 0 -> frame 0, 1 -> frame 1, then a hit,
    # then the policy is asked for a victim (FIFO: frame 0, page 0, dirty: written back).
    w = W([(0, 0x00), (0, 0x10), (0, 0x04, True), (0, 0x20)])
    spy = Spy()
    run = simulate(w, spy)
    assert spy.calls == [
        ("loaded", 0, 0, (0, 0), (False, False)),  # bits still clear in loaded
        ("loaded", 1, 1, (0, 1), (False, False)),
        ("hit", 2, 0, (0, 0), (True, True)),  # bits already include this access
        ("victim", 3),
        ("loaded", 3, 0, (0, 2), (False, False)),
    ]
    recs = list(run.records())
    assert [r.kind for r in recs] == [FAULTED, FAULTED, TRANSLATED, FAULTED]
    assert recs[3].victim == PageId(0, 0) and recs[3].write_back
    assert [r.address for r in recs] == [0x00, 0x10, 0x04, 0x00]
    assert [r.bits for r in recs] == [1, 1, 3, 1]
    assert all(r.tlb_hit is None for r in recs)
    assert replay(w, run)[1] == []


def test_clean_victim_is_not_written_back() -> None:
    run = simulate(W([(0, 0), (0, 0x10), (0, 0x20)]), Spy())
    rec = run.record(2)
    assert rec.victim == PageId(0, 0) and not rec.write_back


def test_segmentation_fault_is_recorded_and_the_trace_goes_on() -> None:
    w = W([(0, 0x00), (0, 0x90), (0, 0x00)], processes=(Process(0, ((0, 4), (12, 16))),))
    spy = Spy()
    run = simulate(w, spy)
    assert [r.kind for r in run.records()] == [FAULTED, SEGFAULT, TRANSLATED]
    seg = run.record(1)
    assert seg.address is None and seg.frame == -1 and seg.victim is None
    assert [c[0] for c in spy.calls] == ["loaded", "hit"]  # nothing for the segfault


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("1", "returned '1' (str)"),
        (2, "returned 2 (int)"),
        (-1, "returned -1"),
        (True, "returned True (bool)"),
    ],
)
def test_victim_must_be_a_frame_number(bad: Any, words: str) -> None:
    with pytest.raises(PagingError, match=re.escape(words)):
        simulate(W([(0, 0), (0, 0x10), (0, 0x20)]), Spy(victims=[bad]))


def test_an_int_with_a_lying_eq_is_refused() -> None:
    class Sneaky(int):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = int.__hash__

    with pytest.raises(PagingError, match="Sneaky"):
        simulate(W([(0, 0), (0, 0x10), (0, 0x20)]), Spy(victims=[Sneaky(0)]))


def test_a_policy_must_subclass_the_interface() -> None:
    with pytest.raises(PagingError, match="ReplacementPolicy"):
        simulate(W([(0, 0)]), object())  # type: ignore[arg-type]


def test_scripted_victims_cycle_through_the_list() -> None:
    run = simulate(W([(0, 0), (0, 0x10), (0, 0x20), (0, 0x30), (0, 0x40)]), ScriptedVictims([1, 3]))
    assert [r.frame for r in run.records() if r.victim] == [1, 1, 1]  # 3 % 2 frames == 1
    with pytest.raises(ValueError, match="non-empty"):
        ScriptedVictims([])


# ----------------------------------------------------------------------------- the MMU contract


class SpyMMU(BaseMMU):
    """A correct MMU (no TLB) that records every call; flags make it break one rule."""

    def __init__(self, page_size: int = 16, break_rule: str = "") -> None:
        self.page_size = page_size
        self.calls: list[Call] = []
        self.table: PageTable | None = None
        self.break_rule = break_rule

    def context_switch(self, pid: int, page_table: PageTable) -> None:
        self.calls.append(("switch", pid))
        self.table = page_table

    def translate(self, address: int, write: bool) -> Any:
        assert self.table is not None
        vpn, offset = divmod(address, self.page_size)
        entry = self.table.get(vpn)
        if self.break_rule == "segv-self" and entry is not None:
            raise SegmentationFault(0, address, vpn)
        if entry is None or not entry.present:
            try:
                self.page_fault(address + (1 if self.break_rule == "wrong-address" else 0))
            except SegmentationFault:
                if self.break_rule == "swallow":
                    return Translation(0, False)
                raise
            if self.break_rule == "twice":
                self.page_fault(address)
            entry = self.table.get(vpn)
        elif self.break_rule == "spurious":
            self.page_fault(address)
        assert entry is not None and entry.frame is not None
        entry.referenced = True
        entry.dirty = entry.dirty or write
        if self.break_rule == "tuple":
            return (entry.frame * self.page_size + offset, False)
        return Translation(entry.frame * self.page_size + offset, False)

    def invalidate(self, pid: int, vpn: int) -> None:
        self.calls.append(("invalidate", pid, vpn))


TWO = (Process(0, ((0, 8),)), Process(1, ((0, 2),)))


def test_mmu_calls_switches_on_process_changes_and_invalidates_victims() -> None:
    w = W([(0, 0), (0, 0x10), (1, 0x00), (1, 0x04), (0, 0x00)], processes=TWO)
    mmu = SpyMMU()
    run = simulate(w, ScriptedVictims([0]), mmu)
    assert mmu.calls == [
        ("switch", 0),
        ("switch", 1),
        ("invalidate", 0, 0),  # P1's page 0 takes frame 0 from P0's page 0
        ("switch", 0),
        ("invalidate", 1, 0),
    ]
    assert [r.kind for r in run.records()] == [FAULTED, FAULTED, FAULTED, TRANSLATED, FAULTED]
    assert replay(w, run)[1] == []
    assert mmu._trap is None  # detached after the run


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("twice", "called twice for access 0"),
        ("spurious", "already present"),
        ("wrong-address", "while translating 0x0"),
        ("swallow", "let the exception propagate"),
        ("segv-self", "which is a valid page"),
        ("tuple", "return Translation"),
    ],
)
def test_mmu_contract_errors_say_which_rule(rule: str, words: str) -> None:
    w = W([(0, 0x00), (0, 0x04), (0, 0x90)], processes=(Process(0, ((0, 4),)),))
    with pytest.raises(PagingError, match=words):
        simulate(w, ScriptedVictims([0]), SpyMMU(break_rule=rule))


def test_segfault_through_the_mmu_and_a_translation_of_a_missing_page() -> None:
    class Stale(SpyMMU):
        def translate(self, address: int, write: bool) -> Translation:
            if address == 0x14:  # pretends a stale TLB entry: no fault for a missing page
                return Translation(0x04, True)
            return super().translate(address, write)

    w = W([(0, 0x00), (0, 0x90), (0, 0x14)], processes=(Process(0, ((0, 4),)),))
    run = simulate(w, ScriptedVictims([0]), Stale())
    assert run.record(1).kind == SEGFAULT and run.record(1).tlb_hit is False
    stale = run.record(2)
    assert stale.kind == TRANSLATED and stale.frame == -1 and stale.tlb_hit
    assert replay(w, run)[1] == []  # possible for the OS: the MMU's answer is just wrong


def test_null_tlb_counts_every_lookup_as_a_miss() -> None:
    t: BaseTLB = NullTLB()
    assert t.lookup(0, 1) is None and t.lookup(1, 1) is None
    t.insert(0, 1, 2)
    t.flush()
    assert (t.hits, t.misses) == (0, 2) and t.lookup(0, 1) is None


# ----------------------------------------------------------------------------- totals


def test_stats_and_effective_access_time_by_hand() -> None:
    lat = Latencies(tlb_ns=1, walk_ns=10, memory_ns=100, fault_ns=1000, write_back_ns=5000)
    w = W([(0, 0, True), (0, 0x10), (0, 0x20), (1, 0x00)], processes=TWO, latencies=lat)
    run = simulate(w, Spy())  # no TLB: every access walks
    s = compute_stats(w, run)
    assert (s.faults, s.evictions, s.write_backs, s.process_switches) == (4, 2, 1, 1)
    # 4 walks + 4 accesses + 4 faults + 1 write-back
    assert s.total_ns == 4 * 10 + 4 * 100 + 4 * 1000 + 5000
    assert s.effective_access_ns == s.total_ns / 4
    assert not s.has_tlb and s.tlb_hit_rate == 0.0 and s.fault_rate == 1.0
    assert "4 accesses" in s.summary() and "TLB" not in s.summary()


def test_stats_with_a_tlb_count_hits_and_skip_the_walk() -> None:
    cols = {
        "tlb": [0, 1, 0],
        "kind": [FAULTED, TRANSLATED, SEGFAULT],
        "frame": [0, 0, -1],
        "victim_pid": [-1, -1, -1],
        "victim_vpn": [-1, -1, -1],
        "write_back": [0, 0, 0],
        "address": [0, 4, -1],
        "bits": [1, 1, 0],
    }
    w = W([(0, 0), (0, 4), (0, 0x90)], processes=(Process(0, ((0, 4),)),))
    run = Run(**{k: array("q", v) for k, v in cols.items()})  # type: ignore[arg-type]
    s = compute_stats(w, run)
    lat = w.config.latencies
    assert (s.tlb_hits, s.tlb_misses, s.segfaults) == (1, 2, 1)
    assert s.total_ns == (
        (lat.tlb_ns + lat.walk_ns + lat.memory_ns + lat.fault_ns)
        + (lat.tlb_ns + lat.memory_ns)
        + (lat.tlb_ns + lat.walk_ns)
    )
    assert s.tlb_hit_rate == pytest.approx(1 / 3)


# ----------------------------------------------------------------------------- untrusted runs


def test_run_data_round_trip_and_malformed_replies() -> None:
    w = W([(0, 0), (0, 0x10), (0, 0x20)])
    run = simulate(w, Spy())
    data = run.to_data()
    again = Run.from_data(data, 3)
    assert first_difference(run, again) is None
    for bad, words in [
        ({**data, "kind": [0, 1]}, "column 'kind'"),
        ({**data, "frame": [0, 1, "2"]}, "column 'frame'"),
        ({**data, "tlb_hits": -1}, "tlb_hits"),
        ({k: v for k, v in data.items() if k != "bits"}, "expected a dict"),
        ([1, 2], "expected a dict"),
    ]:
        with pytest.raises(ValueError, match=words):
            Run.from_data(bad, 3)


def _tampered(run: Run, i: int, **changes: int) -> Run:
    cols = {
        name: array("q", getattr(run, name))
        for name in (
            "tlb",
            "kind",
            "frame",
            "victim_pid",
            "victim_vpn",
            "write_back",
            "address",
            "bits",
        )
    }
    for name, value in changes.items():
        cols[name][i] = value
    return Run(**cols)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("i", "changes", "words"),
    [
        (1, {"frame": 0}, "free frame 1"),  # loaded over page 0 although frame 1 was free
        (2, {"victim_vpn": 5}, "the eviction names"),  # evicts a page that is not there
        (2, {"kind": TRANSLATED, "victim_pid": -1, "victim_vpn": -1}, "frame 0 recorded"),
        (0, {"kind": SEGFAULT, "frame": -1, "address": -1}, "segmentation fault on page 0"),
        (1, {"write_back": 1}, "without an eviction"),
        (0, {"kind": 7}, "unknown kind"),
    ],
)
def test_replay_finds_what_the_os_cannot_have_done(
    i: int, changes: dict[str, int], words: str
) -> None:
    w = W([(0, 0), (0, 0x10), (0, 0x20)])
    run = simulate(w, Spy())
    assert replay(w, run)[1] == []
    problems = replay(w, _tampered(run, i, **changes))[1]
    assert any(words in p for p in problems), problems


def test_first_difference_is_the_first_access_that_differs() -> None:
    w = W([(0, 0), (0, 0x10), (0, 0x20), (0, 0x00)])
    fifo = simulate(w, Spy())
    other = simulate(w, Spy(victims=[1, 0]))
    assert first_difference(fifo, fifo) is None
    assert first_difference(fifo, other) == 2


def test_a_million_accesses_fit_in_columns() -> None:
    """Not a timing test: the run of a long trace is compact (8 machine words per access)."""
    w = W([(0, (i * 16) % 128) for i in range(20_000)], frames=4)
    run = simulate(w, Spy())
    assert len(run) == 20_000 and run.kind.itemsize == 8


def test_the_swap_area_is_read_on_every_fault_and_written_by_dirty_evictions() -> None:
    from grader.simos.memory import simulate_system

    # 2 frames: 0, 1 (write), 2 evicts 0 (clean), 0 evicts 1 (dirty: written back)
    w = W([(0, 0x00), (0, 0x10, True), (0, 0x20), (0, 0x00)])
    run, tables, swap = simulate_system(w, Spy())
    assert (swap.reads, swap.writes) == (run.faults, 1) == (4, 1)
    assert swap.slots == {PageId(0, 0): 0, PageId(0, 1): 1, PageId(0, 2): 2}
    entry = tables[0].get(1)
    assert entry is not None and not entry.present and entry.frame is None and not entry.dirty
    assert tables[0].get(0).present and tables[0].get(9) is None  # type: ignore[union-attr]
    assert "4 reads, 1 writes" in repr(swap)
