"""The reference memory solution and the sample submissions, in process.

* every example of the handout, computed by the reference;
* Hypothesis: each reference policy and the TLB against a plain O(n) model written here,
  the reference MMU against the simulator's own translation;
* the hidden rule properties never flag the reference (a rule that fails correct code
  would take points a student earned), and the textbook facts hold for it;
* the samples: correct_alt matches the reference, each buggy sample differs on a trace
  chosen by hand.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import random
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.simos.memory import (
    Access,
    MemoryConfig,
    NullTLB,
    PageId,
    Process,
    Run,
    ScriptedVictims,
    Workload,
    first_difference,
    replay,
    simulate,
)
from grader.simos.memory.harness import apply_tlb_ops

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assignments" / "memory" / "samples"


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


REF = load(ROOT / "reference" / "memory" / "paging.py", "osgrade_test_memory_reference")
PROPS = load(ROOT / "assignments" / "memory" / "properties.py", "osgrade_test_memory_props")


@functools.cache
def sample(name: str) -> ModuleType:
    return load(SAMPLES / name / "paging.py", f"osgrade_test_memory_sample_{name}")


FAST = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

POLICIES = ("FIFO", "LRU", "OPT", "Clock", "EnhancedClock", "LFU", "RandomPolicy")


def pages_workload(pages: list[int], frames: int, writes: frozenset[int] = frozenset()) -> Workload:
    return Workload(
        MemoryConfig(page_size=256, address_bits=16, frames=frames),
        (Process(0, ((0, 64),)),),
        tuple(Access(0, p * 256 + 4 * i % 256, i in writes) for i, p in enumerate(pages)),
    )


def make(module: ModuleType, name: str, w: Workload, seed: int = 7) -> Any:
    if name == "OPT":
        return module.OPT(future=w.pages())
    if name == "RandomPolicy":
        return module.RandomPolicy(seed=seed)
    return getattr(module, name)()


def run_policy(module: ModuleType, name: str, w: Workload) -> Run:
    return simulate(w, make(module, name, w))


def victims(run: Run) -> list[tuple[int, int]]:
    """(access, victim vpn) of every eviction."""
    return [(r.index, r.victim.vpn) for r in run.records() if r.victim is not None]


# ----------------------------------------------------------------------------- the handout

HANDOUT = [1, 2, 3, 1, 4, 1, 2, 5, 1, 2]


@pytest.mark.parametrize(
    ("policy", "faults", "evictions"),
    [
        ("FIFO", 7, [(4, 1), (5, 2), (6, 3), (7, 4)]),
        ("LRU", 6, [(4, 2), (6, 3), (7, 4)]),
        ("OPT", 5, [(4, 3), (7, 4)]),
        ("LFU", 6, [(4, 2), (6, 3), (7, 4)]),
    ],
)
def test_handout_tables(policy: str, faults: int, evictions: list[tuple[int, int]]) -> None:
    run = run_policy(REF, policy, pages_workload(HANDOUT, 3))
    assert run.faults == faults
    assert victims(run) == evictions


def test_handout_clock_gives_a_second_chance() -> None:
    w = pages_workload([1, 2, 3, 4, 2, 5], 3)
    assert victims(run_policy(REF, "Clock", w)) == [(3, 1), (5, 3)]
    assert victims(run_policy(REF, "FIFO", w)) == [(3, 1), (5, 2)]
    assert victims(run_policy(REF, "Clock", pages_workload([1, 2, 3, 4], 3))) == [(3, 1)]


def test_handout_enhanced_clock_saves_a_write_back() -> None:
    w = pages_workload([1, 2, 3, 4, 1, 5], 3, frozenset({0, 1}))
    enhanced = run_policy(REF, "EnhancedClock", w)
    clock = run_policy(REF, "Clock", w)
    assert victims(enhanced) == [(3, 3), (5, 2)]
    assert [r.write_back for r in enhanced.records() if r.victim] == [False, True]
    assert victims(clock) == [(3, 1), (4, 2), (5, 3)]
    assert sum(r.write_back for r in clock.records()) == 2


def test_handout_opt_ties_take_the_lowest_frame() -> None:
    # 1 2 3 4 1 2 from the docstring; then pages 5 6 never used again tie with 4.
    assert victims(run_policy(REF, "OPT", pages_workload([1, 2, 3, 4, 1, 2], 3))) == [(3, 3)]
    run = run_policy(REF, "OPT", pages_workload([1, 2, 3, 4], 3))  # 1, 2, 3 all never again
    assert [r.frame for r in run.records() if r.victim] == [0]


def test_handout_belady_numbers() -> None:
    classic = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]
    faults = {
        p: [run_policy(REF, p, pages_workload(classic, f)).faults for f in (3, 4)]
        for p in ("FIFO", "LRU", "OPT")
    }
    assert faults == {"FIFO": [9, 10], "LRU": [10, 8], "OPT": [7, 6]}


def test_handout_tlb_example() -> None:
    tlb = REF.TLB(2)
    ops = [
        ["insert", 0, 1, 5],
        ["insert", 0, 2, 6],
        ["lookup", 0, 1],
        ["insert", 0, 3, 7],
        ["lookup", 0, 2],
    ]
    assert apply_tlb_ops(tlb, ops) == [5, None]
    assert (tlb.hits, tlb.misses) == (1, 1)
    tlb.flush()
    assert (tlb.hits, tlb.misses) == (1, 1) and tlb.lookup(0, 1) is None


def test_handout_mmu_example_flush_against_asids() -> None:
    procs = (Process(1, ((0, 0x40),)), Process(2, ((0, 8), (0xF0, 0x100))))
    accesses = (Access(1, 0x3A10), Access(1, 0x3A24, True), Access(2, 0x0104), Access(1, 0x3A30))
    got = {}
    for asids in (False, True):
        w = Workload(MemoryConfig(256, 16, 3, 4, asids), procs, accesses)
        tlb = REF.TLB(4)
        run = simulate(w, ScriptedVictims([0]), REF.MMU(256, 16, tlb, asids))
        got[asids] = [(r.tlb_hit, r.kind, r.address) for r in run.records()]
        assert run.record(1).bits == 3  # referenced and dirty after the write
    assert got[False] == [(False, 1, 0x10), (True, 0, 0x24), (False, 1, 0x104), (False, 0, 0x30)]
    assert got[True][3] == (True, 0, 0x30)


# ----------------------------------------------------------------------------- plain models


def model_victims(
    policy: str, pages: list[int], writes: set[int], frames: int, seed: int = 7
) -> list[int]:
    """The victim frames of an obviously-correct O(n) implementation of each rule."""
    held: list[int | None] = [None] * frames
    loaded_at: dict[int, int] = {}
    last: dict[int, int] = {}
    count: dict[int, int] = {}
    ref = [False] * frames
    dirty = [False] * frames
    hand = 0
    rng = random.Random(seed)
    out = []
    for now, p in enumerate(pages):
        if p in held:
            f = held.index(p)
            last[p] = now
            count[p] += 1
        else:
            if None in held:
                f = held.index(None)
            else:
                if policy == "FIFO":
                    f = min(range(frames), key=lambda i: loaded_at[held[i]])  # type: ignore[index]
                elif policy == "LRU":
                    f = min(range(frames), key=lambda i: last[held[i]])  # type: ignore[index]
                elif policy == "LFU":
                    f = min(range(frames), key=lambda i: (count[held[i]], last[held[i]]))  # type: ignore[index]
                elif policy == "OPT":

                    def nxt(i: int, now: int = now) -> int:
                        later = [j for j in range(now + 1, len(pages)) if pages[j] == held[i]]
                        return later[0] if later else len(pages) + 1

                    f = max(range(frames), key=lambda i: (nxt(i), -i))
                elif policy == "Clock":
                    while ref[hand]:
                        ref[hand] = False
                        hand = (hand + 1) % frames
                    f, hand = hand, (hand + 1) % frames
                elif policy == "EnhancedClock":
                    f = -1
                    for _ in range(2):
                        order = [(hand + i) % frames for i in range(frames)]
                        clean = [i for i in order if not ref[i] and not dirty[i]]
                        if clean:
                            f = clean[0]
                            break
                        for i in order:
                            if not ref[i]:
                                f = i
                                break
                            ref[i] = False
                        if f >= 0:
                            break
                    hand = (f + 1) % frames
                else:
                    f = rng.randrange(frames)
                out.append(f)
            held[f] = p
            loaded_at[p] = last[p] = now
            count[p] = 1
            ref[f] = dirty[f] = False
        ref[f] = True
        dirty[f] = dirty[f] or now in writes
    return out


page_strings = st.lists(st.integers(0, 7), min_size=1, max_size=40)


@pytest.mark.parametrize("policy", POLICIES)
@FAST
@given(pages=page_strings, frames=st.integers(1, 5), writes=st.sets(st.integers(0, 39)))
def test_reference_policy_matches_a_plain_model(
    policy: str, pages: list[int], frames: int, writes: set[int]
) -> None:
    run = run_policy(REF, policy, pages_workload(pages, frames, frozenset(writes)))
    assert [r.frame for r in run.records() if r.victim] == model_victims(
        policy, pages, writes, frames
    )


def model_tlb(entries: int, ops: list[list[Any]]) -> tuple[list[int | None], int, int]:
    order: list[tuple[tuple[int, int], int]] = []  # least recently used first
    out: list[int | None] = []
    hits = misses = 0
    for op in ops:
        key = (op[1], op[2]) if len(op) > 1 else None
        found = next((i for i, (k, _f) in enumerate(order) if k == key), None)
        if op[0] in ("lookup", "access"):
            if found is None:
                misses += 1
                out.append(None)
                if op[0] == "access":
                    if len(order) >= entries:
                        order.pop(0)
                    order.append((key, op[3]))  # type: ignore[arg-type]
            else:
                hits += 1
                entry = order.pop(found)
                order.append(entry)
                out.append(entry[1])
        elif op[0] == "insert":
            if found is not None:
                order.pop(found)
            elif len(order) >= entries:
                order.pop(0)
            order.append((key, op[3]))  # type: ignore[arg-type]
        elif op[0] == "invalidate":
            if found is not None:
                order.pop(found)
        else:
            order.clear()
    return out, hits, misses


@FAST
@given(script=PROPS.tlb_scripts())
def test_reference_tlb_matches_a_plain_model(script: dict[str, Any]) -> None:
    tlb = REF.TLB(script["entries"])
    got = apply_tlb_ops(tlb, script["ops"])
    assert (got, tlb.hits, tlb.misses) == model_tlb(script["entries"], script["ops"])


def _without_tlb(run: Run) -> Run:
    return dataclasses.replace(run, tlb=type(run.tlb)("q", [-1] * len(run)))


@FAST
@given(data=PROPS.workloads(processes=(1, 3)), script=PROPS.victim_lists)
def test_reference_mmu_translates_like_the_simulator(
    data: dict[str, Any], script: list[int]
) -> None:
    """The simulator's own translation (no MMU) and the reference MMU, with or without a TLB,
    give the same faults, victims, write-backs, addresses and bits."""
    w = Workload.from_data(data)
    c = w.config
    plain = simulate(w, ScriptedVictims(script))
    for tlb in (NullTLB(), REF.TLB(c.tlb_entries)):
        run = simulate(
            w, ScriptedVictims(script), REF.MMU(c.page_size, c.address_bits, tlb, c.asids)
        )
        assert first_difference(plain, _without_tlb(run)) is None
        assert replay(w, run)[1] == []
        assert tlb.hits + tlb.misses == len(run)


# ----------------------------------------------------------------------------- rules are sound

POLICY_RULES = {
    "FIFO": PROPS.fifo_rule,
    "LRU": PROPS.lru_rule,
    "OPT": PROPS.opt_rule,
    "LFU": PROPS.lfu_rule,
    "Clock": PROPS.clock_rule,
}


@pytest.mark.parametrize("policy", sorted(POLICY_RULES))
@FAST
@given(data=PROPS.workloads())
def test_policy_rules_never_flag_the_reference(policy: str, data: dict[str, Any]) -> None:
    w = Workload.from_data(data)
    run = run_policy(REF, policy, w)
    steps, problems = replay(w, run)
    assert problems == []
    assert POLICY_RULES[policy](w, steps) is None


def mmu_run(
    data: dict[str, Any], script: list[int], asids: bool | None = None
) -> tuple[Workload, Run]:
    w = Workload.from_data(data if asids is None else PROPS.with_config(data, asids=asids))
    c = w.config
    tlb = REF.TLB(c.tlb_entries)
    run = simulate(w, ScriptedVictims(script), REF.MMU(c.page_size, c.address_bits, tlb, c.asids))
    return w, dataclasses.replace(run, tlb_hits=tlb.hits, tlb_misses=tlb.misses)


@settings(FAST, max_examples=200)
@given(data=PROPS.workloads(processes=(1, 3)), script=PROPS.victim_lists)
def test_mmu_rules_never_flag_the_reference(data: dict[str, Any], script: list[int]) -> None:
    w, run = mmu_run(data, script)
    steps, problems = replay(w, run)
    assert problems == []
    for rule in (
        PROPS.translation_rule,
        PROPS.isolation_rule,
        PROPS.count_rule,
        PROPS.write_back_rule,
    ):
        assert rule(w, run, steps) is None, rule.__name__


@settings(FAST, max_examples=200)
@given(data=PROPS.workloads(processes=(2, 3), min_switches=2), script=PROPS.victim_lists)
def test_asids_never_give_fewer_tlb_hits_than_flushing(
    data: dict[str, Any], script: list[int]
) -> None:
    """The inclusion argument: with LRU, the flushed TLB's entries are always among the
    tagged TLB's, because both see the same references and the same invalidations."""
    _, flush = mmu_run(data, script, asids=False)
    _, tagged = mmu_run(data, script, asids=True)
    for i in range(len(flush)):
        if flush.tlb[i] == 1:
            assert tagged.tlb[i] == 1, i


@settings(FAST, max_examples=150)
@given(data=PROPS.workloads(frames=(1, 4)), more=st.integers(1, 2))
def test_opt_is_optimal_and_stack_policies_have_no_anomaly(data: dict[str, Any], more: int) -> None:
    w = Workload.from_data(data)
    bigger = Workload.from_data(PROPS.with_config(data, frames=data["config"]["frames"] + more))
    faults = {p: run_policy(REF, p, w).faults for p in POLICIES}
    assert faults["OPT"] == min(faults.values())
    for p in ("LRU", "OPT"):
        assert run_policy(REF, p, bigger).faults <= faults[p]


def test_strategies_have_locality_switches_and_segfaults() -> None:
    """The generated traces are not uniform noise: they reuse pages, switch processes and
    sometimes stray outside the address space."""
    seen: dict[str, int] = {"reuse": 0, "switch": 0, "segfault": 0, "write": 0, "evict": 0}

    @settings(FAST, max_examples=200)
    @given(data=PROPS.workloads())
    def look(data: dict[str, Any]) -> None:
        w = Workload.from_data(data)
        pages = w.pages()
        seen["reuse"] += len(set(pages)) < len(pages)
        seen["switch"] += any(
            a.pid != b.pid for a, b in zip(w.accesses, w.accesses[1:], strict=False)
        )
        seen["write"] += any(a.write for a in w.accesses)
        run = simulate(w, ScriptedVictims([0]))
        seen["segfault"] += any(r.segfault for r in run.records())
        seen["evict"] += any(r.victim for r in run.records())

    look()
    assert seen["reuse"] > 100 and seen["evict"] > 80 and seen["write"] > 80
    assert seen["switch"] > 30 and seen["segfault"] > 5, seen


# ----------------------------------------------------------------------------- samples


@settings(FAST, max_examples=60)
@given(data=PROPS.workloads(processes=(1, 3)), script=PROPS.victim_lists, seed=st.integers(0, 99))
def test_correct_alt_matches_the_reference(
    data: dict[str, Any], script: list[int], seed: int
) -> None:
    alt = sample("correct_alt")
    w = Workload.from_data(data)
    for p in POLICIES:
        assert (
            first_difference(simulate(w, make(REF, p, w, seed)), simulate(w, make(alt, p, w, seed)))
            is None
        ), p
    c = w.config
    for module in (REF, alt):
        tlb = module.TLB(c.tlb_entries)
        run = simulate(
            w, ScriptedVictims(script), module.MMU(c.page_size, c.address_bits, tlb, c.asids)
        )
        if module is REF:
            expected, counters = run, (tlb.hits, tlb.misses)
        else:
            assert first_difference(expected, run) is None
            assert (tlb.hits, tlb.misses) == counters


CLASSIC = pages_workload([1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5], 3)
TWO_PROCESSES = Workload(
    MemoryConfig(page_size=16, address_bits=8, frames=2, tlb_entries=2),
    (Process(0, ((0, 4),)), Process(1, ((0, 4),))),
    (Access(0, 0x00), Access(0, 0x04, True), Access(1, 0x00), Access(0, 0x08)),
)
READ_THEN_WRITE = Workload(
    MemoryConfig(page_size=16, address_bits=8, frames=1, tlb_entries=2),
    (Process(0, ((0, 4),)),),
    (Access(0, 0x00), Access(0, 0x04, True), Access(0, 0x14)),  # page 1 is odd
)


def mmu_records(module: ModuleType, w: Workload, tlb: bool = True) -> list[Any]:
    c = w.config
    buffer = module.TLB(c.tlb_entries) if tlb else NullTLB()
    run = simulate(
        w, ScriptedVictims([0]), module.MMU(c.page_size, c.address_bits, buffer, c.asids)
    )
    return [*run.records(), (buffer.hits, buffer.misses)]


BUGS: dict[str, Callable[[ModuleType], Any]] = {
    "lru_no_refresh": lambda m: victims(run_policy(m, "LRU", CLASSIC)),
    "fifo_refresh_on_hit": lambda m: victims(run_policy(m, "FIFO", CLASSIC)),
    "clock_hand_stuck": lambda m: victims(
        run_policy(m, "Clock", pages_workload([1, 2, 3, 4, 2, 5, 1], 3))
    ),
    "opt_nearest": lambda m: run_policy(m, "OPT", CLASSIC).faults,
    "opt_ties_highest_frame": lambda m: victims(
        run_policy(m, "OPT", pages_workload([1, 2, 3, 4], 3))
    ),
    "lfu_keeps_counts": lambda m: victims(
        run_policy(m, "LFU", pages_workload([1, 1, 2, 2, 2, 3, 1, 4], 2))
    ),
    "tlb_no_flush": lambda m: mmu_records(m, TWO_PROCESSES),
    "offset_bits_off_by_one": lambda m: mmu_records(m, READ_THEN_WRITE, tlb=False),
    "dirty_lost_on_tlb_hit": lambda m: mmu_records(m, READ_THEN_WRITE),
    "tlb_fifo_replacement": lambda m: apply_tlb_ops(
        m.TLB(2),
        [
            ["access", 0, 1, 1],
            ["access", 0, 2, 2],
            ["access", 0, 1, 1],
            ["access", 0, 3, 3],
            ["lookup", 0, 1],
        ],
    ),
    "flush_resets_counters": lambda m: mmu_records(m, TWO_PROCESSES)[-1],
}


@pytest.mark.parametrize("name", sorted(BUGS))
def test_each_buggy_sample_differs_on_a_trace_chosen_by_hand(name: str) -> None:
    probe = BUGS[name]
    assert probe(sample(name)) != probe(REF)
    notes = (SAMPLES / name / "NOTES.md").read_text()
    assert notes.startswith("Buggy sample:") and "Must lose:" in notes and notes.count("\n") == 1


def test_dirty_bug_is_invisible_without_a_tlb() -> None:
    """Why translate-reference keeps its points for dirty_lost_on_tlb_hit: with NullTLB
    every access takes the miss path, where the bits are set."""
    bug = sample("dirty_lost_on_tlb_hit")
    assert mmu_records(bug, READ_THEN_WRITE, tlb=False) == mmu_records(
        REF, READ_THEN_WRITE, tlb=False
    )
    records = mmu_records(bug, READ_THEN_WRITE)
    assert records[1].bits == 1 and not records[2].write_back  # the write was lost


def test_every_sample_has_notes_and_the_module() -> None:
    names = sorted(p.name for p in SAMPLES.iterdir() if p.is_dir())
    assert len(names) >= 19
    for name in names:
        assert (SAMPLES / name / "paging.py").is_file(), name
        if name != "correct_alt":
            assert (SAMPLES / name / "NOTES.md").read_text().count("\n") == 1, name


def test_page_ids_are_plain_tuples() -> None:
    """Policies may use pages as dict keys and compare them with tuples."""
    assert PageId(1, 3) == (1, 3) and hash(PageId(1, 3)) == hash((1, 3))
