"""Hidden properties of the virtual-memory assignment (instructors only).

Two kinds: differential (the student's run equals the reference's, access by access)
and rules that do not look at the reference at all (FIFO evicts the oldest load, OPT is
never beaten, a dirty page is written back once per eviction, the physical address is
frame * page size + offset, ...), so that ``osgrade validate memory`` catches a wrong
reference and a student with the right idea but a wrong tie-break keeps some credit.

Workloads have realistic locality: each is a list of phases (a loop over a few pages, a
working set, a sequential scan, uniform noise, a stray pointer), each phase run by one
process, so that shrinking deletes whole phases and then shortens them.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from grader.engine.props import Context, Failure, prop
from grader.engine.results import Counterexample, FrameColumn, FramesPicture, TableCell
from grader.engine.results import TablePicture as Table
from grader.simos.memory import (
    FAULTED,
    SEGFAULT,
    NullTLB,
    PageId,
    Run,
    ScriptedVictims,
    Step,
    Workload,
    first_difference,
    page_label,
    replay,
    simulate,
)
from grader.simos.memory.harness import apply_tlb_ops

RUN_POLICY = "grader.simos.memory.harness:run_policy"
RUN_MMU = "grader.simos.memory.harness:run_mmu"
RUN_TLB = "grader.simos.memory.harness:run_tlb"
Data = dict[str, Any]
NEVER = 1 << 62

# ----------------------------------------------------------------------------- inputs

PAGE_SIZES = (16, 32, 64, 256, 1024, 4096)
KINDS = ("loop", "hot", "working_set", "scan", "random", "stray")


WRITES = ("none", "all", "odd", "even", "third")


# Strategy objects are built once: Hypothesis spends real time on each new one it meets,
# and composites below draw from them thousands of times.
@functools.cache
def _ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.integers(lo, hi)


@functools.cache
def _one_of(values: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.sampled_from(values)


@functools.cache
def _int_lists(hi: int, max_size: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, hi), min_size=1, max_size=max_size)


@st.composite
def _phase(draw: st.DrawFn, processes: int) -> Data:
    """One phase of a program; only the fields its kind needs are drawn (cheap to shrink)."""
    kind = draw(_one_of(KINDS))
    ph: Data = {"kind": kind, "pid": draw(_ints(0, processes - 1)) if processes > 1 else 0}
    ph["base"] = draw(_ints(0, 8))
    if kind == "loop":
        ph["size"], ph["repeat"] = draw(_ints(1, 6)), draw(_ints(1, 4))
    elif kind in ("scan", "hot"):
        ph["length"] = draw(_ints(1, 12))
    elif kind == "working_set":
        ph["size"] = draw(_ints(1, 4))
        ph["picks"] = draw(_int_lists(3, 8))
    elif kind == "random":
        ph["picks"] = draw(_int_lists(8, 6))
    ph["offset"] = draw(_ints(0, 4095))
    ph["writes"] = draw(_one_of(WRITES))
    return ph


@functools.cache
def _phase_lists(processes: int, max_phases: int) -> st.SearchStrategy[list[Data]]:
    return st.lists(_phase(processes), min_size=1, max_size=max_phases)


def _valid_pages(valid: list[list[int]]) -> list[int]:
    return [v for lo, hi in valid for v in range(lo, hi)]


def expand(phases: list[Data], procs: list[list[Any]], page_size: int, vpns: int) -> list[Any]:
    """The accesses of a list of phases: [[pid, address, write], ...]."""
    out: list[Any] = []
    for ph in phases:
        pid = ph["pid"]
        pages = _valid_pages(procs[pid][1])
        n, b, kind = len(pages), ph["base"], ph["kind"]
        if kind == "loop":  # for r in range(repeat): for i in range(size): use a[i]
            touched = [pages[(b + j) % n] for j in range(ph["size"])] * ph["repeat"]
        elif kind == "working_set":  # random accesses inside a few pages
            touched = [pages[(b + k % ph["size"]) % n] for k in ph["picks"]]
        elif kind == "scan":  # one sequential pass (wrapping around the valid pages)
            touched = [pages[(b + j) % n] for j in range(ph["length"])]
        elif kind == "hot":  # an accumulator used between every element of a streamed array
            touched = []
            for j in range(ph["length"]):
                touched += [pages[b % n], pages[(b + 1 + j) % n]]
        elif kind == "random":
            touched = [pages[k % n] for k in ph["picks"]]
        else:  # a stray pointer: any page of the address space, perhaps not a valid one
            touched = [(b * 7 + ph["offset"]) % vpns]
        mode = ph["writes"]
        for j, vpn in enumerate(touched):
            offset = (ph["offset"] + 8 * j) % page_size
            write = mode == "all" or (mode == "odd" and j % 2 == 1)
            write = write or (mode == "even" and j % 2 == 0) or (mode == "third" and j % 3 == 2)
            out.append([pid, vpn * page_size + offset, write])
    return out


@st.composite
def workloads(
    draw: st.DrawFn,
    processes: tuple[int, int] = (1, 2),
    frames: tuple[int, int] = (1, 4),
    max_phases: int = 6,
    page_sizes: tuple[int, ...] = PAGE_SIZES,
    asids: bool | None = None,
    min_switches: int = 0,
) -> Data:
    """A workload as data (Workload.to_data's shape), with locality, phases and switches."""
    page_size = draw(_one_of(page_sizes))
    vpn_bits = draw(_ints(4, 6))
    vpns = 1 << vpn_bits
    nproc = draw(_ints(*processes))
    procs: list[list[Any]] = []
    for pid in range(nproc):
        low = draw(_ints(2, 8))  # code and data at the bottom
        stack = draw(_ints(0, 3))  # the stack at the top, a hole in between
        valid = [[0, low]] + ([[vpns - stack, vpns]] if stack else [])
        procs.append([pid, valid])
    phases = draw(_phase_lists(nproc, max_phases))
    accesses = expand(phases, procs, page_size, vpns)
    switches = sum(1 for a, b in itertools.pairwise(accesses) if a[0] != b[0])
    if switches < min_switches:
        # Interleave: hand every other access to the next process (keeps shrinking simple).
        accesses = [
            [(a[0] + (i % 2)) % nproc, a[1] % (vpns * page_size), a[2]]
            for i, a in enumerate(accesses)
        ]
        accesses = [_fit(a, procs, page_size) for a in accesses]
    return {
        "config": {
            "page_size": page_size,
            "address_bits": page_size.bit_length() - 1 + vpn_bits,
            "frames": draw(_ints(*frames)),
            "tlb_entries": draw(_ints(1, 4)),
            "asids": draw(_one_of((False, True))) if asids is None else asids,
        },
        "processes": procs,
        "accesses": accesses,
    }


def _fit(access: list[Any], procs: list[list[Any]], page_size: int) -> list[Any]:
    """Move an access onto a valid page of its (new) process, keeping its offset."""
    pid, address, write = access
    pages = _valid_pages(procs[pid][1])
    vpn = address // page_size
    if vpn not in pages:
        vpn = pages[vpn % len(pages)]
    return [pid, vpn * page_size + address % page_size, write]


victim_lists = st.lists(st.integers(0, 7), min_size=1, max_size=6)


@st.composite
def _tlb_phase(draw: st.DrawFn, entries: int) -> list[list[Any]]:
    """A few TLB operations with locality: a loop, a hot page among a scan, or one raw op."""
    kind = draw(
        _one_of(("hot", "loop", "hot", "hot", "remap", "invalidate", "flush", "lookup", "insert"))
    )
    asid = draw(_ints(0, 1))

    def access(vpn: int) -> list[Any]:
        return ["access", asid, vpn, (3 * vpn + asid) % 8]

    if kind == "hot":  # a page used all the time, among a sequential scan of others
        hot, base, length = (
            draw(_ints(0, 7)),
            draw(_ints(0, 7)),
            draw(_ints(1, 6)),
        )
        ops = []
        for j in range(length):
            ops += [access(hot), access((base + j) % 8)]
        return ops
    if kind == "loop":
        base, size, repeat = (
            draw(_ints(0, 7)),
            draw(_ints(1, 5)),
            draw(_ints(1, 3)),
        )
        return [access((base + j) % 8) for j in range(size)] * repeat
    if kind == "remap":  # insert over a cached entry: new frame, and it is the most recent
        vpn = draw(_ints(0, 7))
        others = [access((vpn + 1 + j) % 8) for j in range(entries)]  # fill, then one more
        moved = ["insert", asid, vpn, (3 * vpn + asid + 1) % 8]
        return [access(vpn), *others[:-1], moved, others[-1], ["lookup", asid, vpn]]
    if kind == "flush":
        return [["flush"]]
    vpn = draw(_ints(0, 7))
    if kind == "insert":
        return [["insert", asid, vpn, draw(_ints(0, 7))]]
    return [[kind, asid, vpn]]


_TLB_PHASES = {n: st.lists(_tlb_phase(n), min_size=1, max_size=5) for n in range(1, 5)}


@st.composite
def tlb_scripts(draw: st.DrawFn) -> Data:
    """A TLB size and a list of operations, made of phases (shrinking deletes whole phases)."""
    entries = draw(_ints(1, 4))
    phases = draw(_TLB_PHASES[entries])
    ops = [op for ph in phases for op in ph]
    return {"entries": entries, "ops": ops}


def with_config(data: Data, **changes: Any) -> Data:
    return {**data, "config": {**data["config"], **changes}}


# ----------------------------------------------------------------------------- snippets


def _workload_code(data: Data) -> list[str]:
    c = data["config"]
    procs = ", ".join(
        f"Process({pid}, {tuple(tuple(r) for r in valid)!r})" for pid, valid in data["processes"]
    )
    if len(data["processes"]) == 1:
        procs += ","
    lines = [
        "workload = Workload(",
        f"    MemoryConfig(page_size={c['page_size']}, address_bits={c['address_bits']}, "
        f"frames={c['frames']}, tlb_entries={c['tlb_entries']}, asids={c['asids']}),",
        f"    processes=({procs}),",
        "    accesses=(",
    ]
    for pid, address, write in data["accesses"]:
        w = ", write=True" if write else ""
        lines.append(f"        Access({pid}, {address:#x}{w}),")
    lines += ["    ),", ")"]
    return lines


def policy_snippet(inputs: Data) -> str:
    policy, params = inputs["policy"], dict(inputs.get("params", {}))
    make = ", ".join(f"{k}={v!r}" for k, v in params.items())
    if policy == "OPT":
        make = "future=workload.pages()"
    frames = inputs.get("frames")
    if frames is None and "more" in inputs:
        f = inputs["workload"]["config"]["frames"]
        frames = [f, f + inputs["more"]]
    lines = [
        "from grader.simos.memory import Access, MemoryConfig, Process, Workload, simulate",
        f"from paging import {policy}",
        "",
        *_workload_code(inputs["workload"]),
    ]
    if frames:
        lines += [
            "import dataclasses",
            "for frames in " + repr(tuple(frames)) + ":",
            "    w = dataclasses.replace(workload, config=dataclasses.replace(workload.config, frames=frames))",
            f"    run = simulate(w, {policy}({make.replace('workload', 'w')}))",
            "    print(frames, 'frames:', run.faults, 'page faults')",
        ]
    else:
        lines += [
            f"run = simulate(workload, {policy}({make}))",
            "for record in run.records():",
            "    print(record)",
        ]
    return "\n".join(lines)


def mmu_snippet(inputs: Data) -> str:
    data = inputs["workload"]
    tlb = "TLB(entries=workload.config.tlb_entries)" if inputs["tlb"] else "NullTLB()"
    modes = inputs.get("modes", [data["config"]["asids"]])
    lines = [
        "import dataclasses",
        "from grader.simos.memory import (",
        "    Access, MemoryConfig, NullTLB, Process, ScriptedVictims, Workload, simulate,",
        ")",
        "from paging import MMU, TLB",
        "",
        *_workload_code(data),
        f"for asids in {tuple(modes)!r}:",
        "    w = dataclasses.replace(workload, config=dataclasses.replace(workload.config, asids=asids))",
        f"    tlb = {tlb}",
        "    c = w.config",
        "    mmu = MMU(page_size=c.page_size, address_bits=c.address_bits, tlb=tlb, asids=asids)",
        f"    run = simulate(w, ScriptedVictims({inputs['victims']!r}), mmu)",
        "    for record in run.records():",
        "        print(record)",
        "    print('TLB hits', tlb.hits, 'misses', tlb.misses)",
    ]
    return "\n".join(lines)


def tlb_snippet(inputs: Data) -> str:
    script = inputs["script"]
    lines = ["from paging import TLB", "", f"tlb = TLB(entries={script['entries']})", ""]
    if any(op[0] == "access" for op in script["ops"]):
        lines += [
            "def access(asid, vpn, frame):  # what an MMU does: a lookup, an insert on a miss",
            "    got = tlb.lookup(asid, vpn)",
            "    print(f'lookup({asid}, {vpn}) ->', got)",
            "    if got is None:",
            "        tlb.insert(asid, vpn, frame)",
            "",
        ]
    for op in script["ops"]:
        if op[0] == "access":
            lines.append(f"access({op[1]}, {op[2]}, {op[3]})")
        elif op[0] == "lookup":
            lines.append(f"print('lookup({op[1]}, {op[2]}) ->', tlb.lookup({op[1]}, {op[2]}))")
        elif op[0] == "insert":
            lines.append(f"tlb.insert({op[1]}, {op[2]}, {op[3]})")
        elif op[0] == "invalidate":
            lines.append(f"tlb.invalidate({op[1]}, {op[2]})")
        else:
            lines.append("tlb.flush()")
    lines.append("print('hits', tlb.hits, 'misses', tlb.misses)")
    return "\n".join(lines)


def describer(
    make: Callable[[Data], str], **fixed: Any
) -> Callable[[dict[str, Any]], Counterexample]:
    def describe(inputs: dict[str, Any]) -> Counterexample:
        full = {**fixed, **inputs}
        return Counterexample(inputs=full, snippet=make(full))

    return describe


# ----------------------------------------------------------------------------- runs


def checked(data: Data, reply: Any, *, tlb: bool | None) -> tuple[Workload, Run, list[Step]]:
    """The student's run rebuilt from plain data, replayed, and checked for possibility."""
    w = Workload.from_data(data)
    try:
        run = Run.from_data(reply, len(w.accesses))
    except ValueError as exc:
        raise Failure(f"The worker returned a malformed run: {exc}") from None
    if tlb is False and any(t != -1 for t in run.tlb):
        raise Failure("The worker returned TLB results for a run without a TLB.")
    if tlb and any(t == -1 for t in run.tlb):
        raise Failure("The worker returned a run without TLB results.")
    steps, problems = replay(w, run)
    if problems:
        raise Failure("Your code produced a run that cannot happen: " + "; ".join(problems[:3]))
    return w, run, steps


def reference_policy(ctx: Context, policy: str, params: Data, data: Data) -> tuple[Run, list[Step]]:
    w = Workload.from_data(data)
    kwargs = dict(params)
    if policy == "OPT":
        kwargs["future"] = w.pages()
    run = simulate(w, getattr(ctx.reference, policy)(**kwargs))
    return run, replay(w, run)[0]


def student_policy(
    ctx: Context, policy: str, params: Data, data: Data
) -> tuple[Workload, Run, list[Step]]:
    reply = ctx.call(RUN_POLICY, {"policy": policy, "params": params, "workload": data})
    return checked(data, reply, tlb=False)


def reference_mmu(
    ctx: Context, data: Data, victims: list[int], tlb: bool
) -> tuple[Run, list[Step]]:
    w = Workload.from_data(data)
    c = w.config
    buffer = ctx.reference.TLB(c.tlb_entries) if tlb else NullTLB()
    mmu = ctx.reference.MMU(c.page_size, c.address_bits, buffer, c.asids)
    run = simulate(w, ScriptedVictims(victims), mmu)
    run = dataclasses.replace(run, tlb_hits=buffer.hits, tlb_misses=buffer.misses)
    return run, replay(w, run)[0]


def student_mmu(
    ctx: Context, data: Data, victims: list[int], tlb: bool
) -> tuple[Workload, Run, list[Step]]:
    reply = ctx.call(RUN_MMU, {"workload": data, "victims": victims, "tlb": tlb})
    return checked(data, reply, tlb=True)


# ----------------------------------------------------------------------------- words


def single_process(w: Workload) -> bool:
    """Only one process makes accesses: pages are named by number alone."""
    return len({a.pid for a in w.accesses}) <= 1


def page_name(w: Workload, page: PageId) -> str:
    if single_process(w):
        return f"page {page.vpn}"
    return f"P{page.pid}'s page {page.vpn}"


def access_words(w: Workload, s: Step) -> str:
    verb = "writes" if s.access.write else "reads"
    return f"P{s.access.pid} {verb} {s.access.address:#06x}, page {s.page.vpn}"


def _history(
    steps: list[Step], upto: int
) -> tuple[dict[PageId, int], dict[PageId, int], dict[PageId, int]]:
    """Before access ``upto``: last use, load time and uses since load of every resident page."""
    last: dict[PageId, int] = {}
    loaded: dict[PageId, int] = {}
    uses: dict[PageId, int] = {}
    for s in steps[:upto]:
        rec = s.record
        if rec.victim is not None:
            for d in (last, loaded, uses):
                d.pop(rec.victim, None)
        if rec.kind == FAULTED:
            loaded[s.page] = s.index
            uses[s.page] = 0
        if rec.kind != SEGFAULT and s.page in loaded:
            last[s.page] = s.index
            uses[s.page] += 1
    return last, loaded, uses


def next_use(w: Workload, page: PageId, after: int) -> int:
    pages = w.pages()
    for j in range(after + 1, len(pages)):
        if pages[j] == page:
            return j
    return NEVER


def clock_sweeps(w: Workload, steps: list[Step]) -> dict[int, tuple[int, list[int], int]]:
    """Clock, modelled from the trace alone: for each eviction that follows the model,
    (where the hand starts, the frames it clears, the frame it must evict). The model stops
    at the first eviction that does not follow it."""
    n = w.config.frames
    referenced = [False] * n
    hand = 0
    out: dict[int, tuple[int, list[int], int]] = {}
    for s in steps:
        rec = s.record
        if rec.victim is not None:
            start, passed = hand, []
            while referenced[hand]:
                referenced[hand] = False
                passed.append(hand)
                hand = (hand + 1) % n
            out[s.index] = (start, passed, hand)
            if rec.frame != hand:
                break
            hand = (hand + 1) % n
        if rec.kind != SEGFAULT and rec.frame >= 0:
            referenced[rec.frame] = True
    return out


def victim_reason(policy: str, w: Workload, steps: list[Step], i: int, mine: bool = False) -> str:
    """Why ``steps[i]``'s victim was chosen, in the policy's own terms (``mine``: for the
    student's run, where only facts of the trace can be stated)."""
    victim = steps[i].record.victim
    if victim is None:
        return ""
    if mine and policy in ("Clock", "EnhancedClock", "RandomPolicy"):
        return ""
    last, loaded, uses = _history(steps, i)
    if policy == "FIFO":
        return f"loaded at access {loaded.get(victim, '?')}"
    if policy == "LRU":
        return f"last used at access {last.get(victim, '?')}"
    if policy == "OPT":
        nxt = next_use(w, victim, i)
        if nxt != NEVER:
            return f"next used at access {nxt}"
        before = steps[i - 1].frames if i else ()
        never = [f for f, p in enumerate(before) if p is not None and next_use(w, p, i) == NEVER]
        where = f"in frame {steps[i].record.frame}"
        if len(never) > 1:
            rule = "" if mine else ": the lowest-numbered goes first"
            return (
                f"never used again, {where}; frames {', '.join(map(str, never))} all hold "
                f"such pages{rule}"
            )
        return f"never used again, {where}"
    if policy == "Clock" and i in clock_sweeps(w, steps):
        start, passed, _want = clock_sweeps(w, steps)[i]
        if not passed:
            return f"the hand is at frame {start}, whose page is not referenced"
        return (
            f"the hand starts at frame {start}; frame{'s' if len(passed) > 1 else ''} "
            f"{', '.join(map(str, passed))} had the referenced bit set and got a second chance"
        )
    if policy == "LFU":
        n = uses.get(victim, 0)
        return f"used {n} time{'s' if n != 1 else ''} since it was loaded"
    return ""


REFERENCE_REASON = {
    "FIFO": "loaded first",
    "LRU": "least recently used",
    "OPT": "used farthest in the future",
    "LFU": "least frequently used",
}


def _bits_words(bits: int) -> str:
    return f"{'referenced' if bits & 1 else 'not referenced'}, {'dirty' if bits & 2 else 'clean'}"


def describe_difference(policy: str, w: Workload, e: list[Step], a: list[Step], i: int) -> str:
    """One sentence: what the reference does at access ``i`` and what the student's code does."""
    se, sa = e[i], a[i]
    re_, ra = se.record, sa.record
    at = f"At access {i} ({access_words(w, se)})"
    size = w.config.page_size
    name = page_name(w, se.page)
    if re_.kind != ra.kind:
        if re_.kind == SEGFAULT:
            return (
                f"{at} the reference reports a segmentation fault ({name} is not in P"
                f"{se.page.pid}'s address space); yours translates it to {ra.address:#06x}"
                + (" with a TLB hit: a stale entry of another process?" if ra.tlb_hit else ".")
            )
        if re_.kind == FAULTED:
            how = " from the TLB" if ra.tlb_hit else ""
            hint = ""
            if (
                ra.tlb_hit
                and not w.config.asids
                and any(s.access.pid != se.access.pid for s in e[:i])
            ):
                hint = (
                    " A stale entry of another process? Without ASIDs every process uses "
                    "address-space id 0, so the TLB must be flushed at every context switch."
                )
            elif ra.tlb_hit:
                hint = " A stale entry? The entry of an evicted page must be invalidated."
            return (
                f"{at} the reference takes a page fault ({name} is not in memory); yours "
                f"translates it{how} to {ra.address:#06x} without one.{hint}"
            )
        return f"{at} the reference's access {'goes through' if re_.kind == 0 else 'faults'}; yours does not."
    if re_.victim != ra.victim:
        why_e = victim_reason(policy, w, e, i)
        why_a = victim_reason(policy, w, a, i, mine=True)
        label = REFERENCE_REASON.get(policy)
        why_e = ", ".join(p for p in (label, why_e) if p)
        ev = page_name(w, re_.victim) if re_.victim else "nothing"
        av = page_name(w, ra.victim) if ra.victim else "nothing"
        return (
            f"{at} the reference evicts {ev}{f' ({why_e})' if why_e else ''}; "
            f"yours evicts {av}{f' ({why_a})' if why_a else ''}."
        )
    if re_.write_back != ra.write_back:
        assert re_.victim is not None
        vn = page_name(w, re_.victim)
        if re_.write_back:
            return (
                f"{at} the reference writes dirty {vn} back to swap before evicting it; yours "
                "evicts it without writing it back. Was its dirty bit set by every write, "
                "also on a TLB hit?"
            )
        return (
            f"{at} the reference evicts clean {vn} without writing it back; yours writes it back."
        )
    if re_.tlb_hit != ra.tlb_hit:
        if re_.tlb_hit:
            return f"{at} the reference's TLB hits; yours misses."
        hint = ""
        if not w.config.asids and any(s.access.pid != se.access.pid for s in e[:i]):
            hint = " Without ASIDs the TLB must be flushed at every context switch."
        return f"{at} the reference's TLB misses; yours hits.{hint}"
    if re_.address != ra.address:
        assert re_.address is not None and ra.address is not None
        fe, oe = divmod(re_.address, size)
        fa, oa = divmod(ra.address, size)
        hint = ""
        if oe != oa:
            hint = (
                f" The offset is the low {w.config.offset_bits} bits of the address "
                f"({size}-byte pages): {se.offset:#x} here."
            )
        return (
            f"{at} the reference translates it to {re_.address:#06x} (frame {fe}, offset "
            f"{oe:#x}); yours to {ra.address:#06x} (frame {fa}, offset {oa:#x}).{hint}"
        )
    if re_.bits != ra.bits:
        hint = (
            " A write must set the dirty bit, also on a TLB hit."
            if (re_.bits & 2) > (ra.bits & 2)
            else ""
        )
        return (
            f"{at} after the access the reference has {name} {_bits_words(re_.bits)}; "
            f"yours {_bits_words(ra.bits)}.{hint}"
        )
    return f"{at} the two runs differ (frame {re_.frame} against {ra.frame})."


def _outcome(w: Workload, s: Step) -> tuple[str, int | None]:
    rec = s.record
    if rec.kind == SEGFAULT:
        return "segfault", None
    assert rec.address is not None
    reached = rec.address // w.config.page_size
    inside = reached if reached < w.config.frames else None
    if rec.frame < 0 or reached != rec.frame:
        return "stray", inside
    if rec.kind == FAULTED:
        return "fault", rec.frame
    if rec.tlb_hit is None:
        return "hit", rec.frame
    return ("tlb_hit" if rec.tlb_hit else "tlb_miss"), rec.frame


def columns(w: Workload, steps: list[Step]) -> list[FrameColumn]:
    single = single_process(w)
    out = []
    for s in steps:
        outcome, frame = _outcome(w, s)
        rec = s.record
        out.append(
            FrameColumn(
                cells=[None if p is None else page_label(p, single) for p in s.frames],
                outcome=outcome,  # type: ignore[arg-type]
                frame=frame,
                evicted=None if rec.victim is None else page_label(rec.victim, single),
                write_back=rec.write_back,
                dirty=bool(rec.bits & 2),
            )
        )
    return out


def picture(
    w: Workload, expected: list[Step], actual: list[Step] | None, mark: int | None, note: str = ""
) -> FramesPicture:
    single = single_process(w)
    heads = [page_label(w.page_of(a), single) + ("w" if a.write else "") for a in w.accesses]
    return FramesPicture(
        accesses=heads,
        expected=columns(w, expected),
        actual=None if actual is None else columns(w, actual),
        mark=mark,
        note=note or "A page label ending in w is a write; 1:3 means process 1's page 3.",
    )


def run_text(w: Workload, steps: list[Step], limit: int = 60) -> str:
    lines = []
    for s in steps[:limit]:
        rec = s.record
        head = f"{s.index:>3}  P{s.access.pid} {'W' if s.access.write else 'R'} {s.access.address:#06x} page {s.page.vpn:<3}"
        if rec.kind == SEGFAULT:
            what = "segmentation fault"
        else:
            tlb = "" if rec.tlb_hit is None else ("TLB hit, " if rec.tlb_hit else "TLB miss, ")
            if rec.kind == FAULTED:
                what = f"{tlb}page fault -> frame {rec.frame}"
                if rec.victim is not None:
                    wb = ", written back" if rec.write_back else ""
                    what += f" (evicts {page_name(w, rec.victim)}{wb})"
            else:
                what = f"{tlb}in frame {rec.frame}" if rec.frame >= 0 else f"{tlb}NOT in memory"
            what += f", physical {rec.address:#06x}"
        lines.append(f"{head} {what}")
    if len(steps) > limit:
        lines.append(f"... ({len(steps) - limit} more accesses)")
    return "\n".join(lines) or "(no accesses)"


def compare(
    policy: str,
    w: Workload,
    expected: tuple[Run, list[Step]],
    actual: tuple[Run, list[Step]],
    headline: str,
) -> None:
    i = first_difference(expected[0], actual[0])
    if i is None:
        return
    raise Failure(
        headline,
        expected=run_text(w, expected[1]),
        actual=run_text(w, actual[1]),
        divergence=describe_difference(policy, w, expected[1], actual[1], i),
        picture=picture(w, expected[1], actual[1], i),
    )


# ----------------------------------------------------------------------------- differential

none: st.SearchStrategy[Data] = st.just({})


# With one frame every policy has one choice: the policy tests start at two.
POLICY_FRAMES = (2, 4)


def policy_matches(policy: str, params: st.SearchStrategy[Data] = none) -> Callable[..., None]:
    @prop(
        describe=describer(policy_snippet, policy=policy),
        params=params,
        workload=workloads(frames=POLICY_FRAMES),
    )
    def check(ctx: Context, params: Data, workload: Data) -> None:
        ctx.current_input = {"policy": policy, "params": params, "workload": workload}
        expected = reference_policy(ctx, policy, params, workload)
        w, run, steps = student_policy(ctx, policy, params, workload)
        compare(
            policy,
            w,
            expected,
            (run, steps),
            f"Your {policy} does not evict the same pages as the reference.",
        )

    return check


fifo_matches_reference = policy_matches("FIFO")
lru_matches_reference = policy_matches("LRU")
opt_matches_reference = policy_matches("OPT")
clock_matches_reference = policy_matches("Clock")
eclock_matches_reference = policy_matches("EnhancedClock")
lfu_matches_reference = policy_matches("LFU")
random_matches_reference = policy_matches(
    "RandomPolicy", st.fixed_dictionaries({"seed": st.integers(0, 2**16)})
)


def mmu_matches(
    tlb: bool, asids: bool | None, processes: tuple[int, int], headline: str
) -> Callable[..., None]:
    @prop(
        describe=describer(mmu_snippet, tlb=tlb),
        workload=workloads(
            processes=processes, asids=asids, min_switches=2 if processes[0] > 1 else 0
        ),
        victims=victim_lists,
    )
    def check(ctx: Context, workload: Data, victims: list[int]) -> None:
        ctx.current_input = {"workload": workload, "victims": victims, "tlb": tlb}
        expected = reference_mmu(ctx, workload, victims, tlb)
        w, run, steps = student_mmu(ctx, workload, victims, tlb)
        compare("", w, expected, (run, steps), headline)

    return check


translate_matches_reference = mmu_matches(
    False, None, (1, 2), "Your MMU does not translate like the reference (no TLB here)."
)
mmu_flush_matches_reference = mmu_matches(
    True, False, (2, 3), "With your TLB and MMU (no ASIDs), the run differs from the reference."
)
mmu_asid_matches_reference = mmu_matches(
    True, True, (2, 3), "With your TLB and MMU (with ASIDs), the run differs from the reference."
)


@prop(describe=describer(tlb_snippet), script=tlb_scripts())
def tlb_matches_reference(ctx: Context, script: Data) -> None:
    ctx.current_input = {"script": script}
    ref = ctx.reference.TLB(script["entries"])
    lookups = apply_tlb_ops(ref, script["ops"])
    reply = ctx.call(RUN_TLB, {"entries": script["entries"], "ops": script["ops"]})
    if type(reply) is not dict or set(reply) != {"results", "hits", "misses"}:
        raise Failure("The worker returned a malformed TLB reply.")
    got = reply["results"]
    if type(got) is not list or len(got) != len(lookups):
        raise Failure("The worker returned the wrong number of lookup results.")
    rows, mark, k = [], None, 0
    for n, op in enumerate(script["ops"]):
        call = f"{op[0]}({', '.join(map(str, op[1:]))})"
        if op[0] == "access":
            call = f"lookup({op[1]}, {op[2]}), on a miss insert({op[1]}, {op[2]}, {op[3]})"
        if op[0] in ("lookup", "access"):
            want, have = lookups[k], got[k]
            k += 1
            same = want == have and type(have) is type(want)
            if not same and mark is None:
                mark = n
            rows.append(
                [
                    TableCell(text=str(n)),
                    TableCell(text=call),
                    TableCell(text=_tlb_answer(want), tone="good"),
                    TableCell(text=_tlb_answer(have), tone="plain" if same else "bad"),
                ]
            )
        else:
            rows.append(
                [
                    TableCell(text=str(n)),
                    TableCell(text=call),
                    TableCell(text=""),
                    TableCell(text=""),
                ]
            )
    counters_ok = (reply["hits"], reply["misses"]) == (ref.hits, ref.misses)
    if mark is None and counters_ok:
        return
    table = Table(
        title="TLB operations",
        columns=["#", "operation", "reference", "yours"],
        rows=rows,
        mark_row=mark,
        caption=f"A TLB with {script['entries']} entries; operations in order; only lookups answer.",
    )
    if mark is not None:
        op = script["ops"][mark]
        idx = sum(1 for o in script["ops"][:mark] if o[0] in ("lookup", "access"))
        raise Failure(
            "Your TLB answers a lookup differently from the reference.",
            expected=f"lookup({op[1]}, {op[2]}) -> {_tlb_answer(lookups[idx])}",
            actual=f"lookup({op[1]}, {op[2]}) -> {_tlb_answer(got[idx])}",
            divergence=(
                f"At operation {mark}, lookup(asid={op[1]}, vpn={op[2]}): the reference "
                f"{_tlb_words(lookups[idx])}; yours {_tlb_words(got[idx])}."
                + _tlb_hint(script, mark)
            ),
            picture=table,
        )
    raise Failure(
        "Your TLB counts its hits and misses differently from the reference.",
        expected=f"hits {ref.hits}, misses {ref.misses}",
        actual=f"hits {reply['hits']}, misses {reply['misses']}",
        divergence="lookup() counts one hit or one miss per call; insert, invalidate and flush count nothing.",
        picture=table,
    )


def _tlb_answer(x: Any) -> str:
    return "miss (None)" if x is None else f"frame {x}"


def _tlb_words(x: Any) -> str:
    return "misses (None)" if x is None else f"hits: frame {x}"


def _tlb_hint(script: Data, mark: int) -> str:
    ops = script["ops"][:mark]
    if any(o[0] == "flush" for o in ops):
        return " Remember: flush drops every entry."
    if sum(1 for o in ops if o[0] in ("insert", "access")) >= script["entries"]:
        return (
            f" The TLB holds {script['entries']} entries: a full TLB drops the least recently "
            "used entry (last inserted or hit longest ago)."
        )
    return ""


# ----------------------------------------------------------------------------- rules: policies


def _rule_failure(
    ctx: Context,
    policy: str,
    params: Data,
    data: Data,
    w: Workload,
    steps: list[Step],
    i: int,
    why: str,
    headline: str,
) -> Failure:
    expected = reference_policy(ctx, policy, params, data)
    return Failure(
        headline,
        expected=run_text(w, expected[1]),
        actual=run_text(w, steps),
        divergence=f"At access {i} ({access_words(w, steps[i])}): {why}",
        picture=picture(w, expected[1], steps, i, "The mark is where your policy breaks its rule."),
    )


RuleCheck = Callable[[Workload, list[Step]], "tuple[int, str] | None"]


def policy_rule(
    policy: str, rule: RuleCheck, headline: str, params: st.SearchStrategy[Data] = none
) -> Callable[..., None]:
    @prop(
        describe=describer(policy_snippet, policy=policy),
        params=params,
        workload=workloads(frames=POLICY_FRAMES),
    )
    def check(ctx: Context, params: Data, workload: Data) -> None:
        ctx.current_input = {"policy": policy, "params": params, "workload": workload}
        w, _run, steps = student_policy(ctx, policy, params, workload)
        found = rule(w, steps)
        if found is not None:
            raise _rule_failure(
                ctx, policy, params, workload, w, steps, found[0], found[1], headline
            )

    return check


def _evictions(w: Workload, steps: list[Step]) -> Any:
    """(index, victim, resident pages before the access, last use, load time, uses)."""
    for s in steps:
        if s.record.victim is not None:
            last, loaded, uses = _history(steps, s.index)
            yield s.index, s.record.victim, list(loaded), last, loaded, uses


def fifo_rule(w: Workload, steps: list[Step]) -> tuple[int, str] | None:
    for i, victim, resident, _last, loaded, _uses in _evictions(w, steps):
        oldest = min(resident, key=lambda p: loaded[p])
        if loaded[victim] != loaded[oldest]:
            return i, (
                f"FIFO must evict {page_name(w, oldest)}, loaded at access {loaded[oldest]} "
                f"(the earliest); yours evicts {page_name(w, victim)}, loaded at access "
                f"{loaded[victim]}. A hit does not change FIFO order."
            )
    return None


def lru_rule(w: Workload, steps: list[Step]) -> tuple[int, str] | None:
    for i, victim, resident, last, _loaded, _uses in _evictions(w, steps):
        oldest = min(resident, key=lambda p: last[p])
        if last[victim] != last[oldest]:
            return i, (
                f"LRU must evict {page_name(w, oldest)}, last used at access {last[oldest]}; "
                f"yours evicts {page_name(w, victim)}, last used at access {last[victim]}. "
                "A hit makes a page the most recently used."
            )
    return None


def opt_rule(w: Workload, steps: list[Step]) -> tuple[int, str] | None:
    for i, victim, resident, _last, _loaded, _uses in _evictions(w, steps):
        far = max(resident, key=lambda p: next_use(w, p, i))
        nf, nv = next_use(w, far, i), next_use(w, victim, i)
        if nv != nf:

            def when(n: int) -> str:
                return "is never used again" if n == NEVER else f"is next used at access {n}"

            return i, (
                f"OPT must evict the page used farthest in the future: {page_name(w, far)} "
                f"{when(nf)}; yours evicts {page_name(w, victim)}, which {when(nv)}."
            )
    return None


def lfu_rule(w: Workload, steps: list[Step]) -> tuple[int, str] | None:
    for i, victim, resident, _last, _loaded, uses in _evictions(w, steps):
        fewest = min(resident, key=lambda p: uses[p])
        if uses[victim] != uses[fewest]:
            return i, (
                f"LFU must evict a page used the fewest times since it was loaded: "
                f"{page_name(w, fewest)} was used {uses[fewest]} times; yours evicts "
                f"{page_name(w, victim)}, used {uses[victim]} times."
            )
    return None


def clock_rule(w: Workload, steps: list[Step]) -> tuple[int, str] | None:
    """An independent model of the hand and the referenced bits (set by every access)."""
    for i, (start, passed, want) in clock_sweeps(w, steps).items():
        rec = steps[i].record
        if rec.frame == want:
            continue
        assert rec.victim is not None
        skipped = (
            f"frames {', '.join(map(str, passed))} had their referenced bit set (cleared: a "
            "second chance), so "
            if passed
            else ""
        )
        holder = steps[i - 1].frames[want] if i else None
        return i, (
            f"the hand is at frame {start} (one past the last victim, or 0 at the start); "
            f"{skipped}Clock must evict frame {want}"
            f"{f' ({page_name(w, holder)})' if holder else ''}; yours evicts frame "
            f"{rec.frame} ({page_name(w, rec.victim)})."
        )
    return None


fifo_rule_holds = policy_rule("FIFO", fifo_rule, "FIFO must evict the page loaded longest ago.")
lru_rule_holds = policy_rule("LRU", lru_rule, "LRU must evict the least recently used page.")
opt_rule_holds = policy_rule(
    "OPT", opt_rule, "OPT must evict the page used farthest in the future."
)
lfu_rule_holds = policy_rule("LFU", lfu_rule, "LFU must evict a least frequently used page.")
clock_rule_holds = policy_rule(
    "Clock", clock_rule, "Clock must give referenced pages a second chance, in hand order."
)

# ----------------------------------------------------------------------------- textbook facts

BELADY = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]


def belady_workload(frames: int) -> Data:
    return {
        "config": {
            "page_size": 256,
            "address_bits": 12,
            "frames": frames,
            "tlb_entries": 4,
            "asids": False,
        },
        "processes": [[0, [[0, 16]]]],
        "accesses": [[0, p * 256, False] for p in BELADY],
    }


@prop(
    describe=describer(policy_snippet, policy="FIFO", frames=[3, 4]),
    workload=st.just(belady_workload(3)),
)
def fifo_shows_belady(ctx: Context, workload: Data) -> None:
    ctx.current_input = {"policy": "FIFO", "workload": workload, "frames": [3, 4]}
    faults = []
    for frames in (3, 4):
        data = with_config(workload, frames=frames)
        faults.append(student_policy(ctx, "FIFO", {}, data)[1].faults)
    if faults != [9, 10]:
        w, run, steps = student_policy(ctx, "FIFO", {}, workload)
        expected = reference_policy(ctx, "FIFO", {}, workload)
        i = first_difference(expected[0], run)
        raise Failure(
            "FIFO must show Belady's anomaly on the classic reference string.",
            expected="9 page faults with 3 frames, 10 with 4",
            actual=f"{faults[0]} page faults with 3 frames, {faults[1]} with 4",
            divergence=(
                f"On pages {', '.join(map(str, BELADY))}, FIFO takes 9 page faults with 3 frames "
                f"and 10 with 4 (more frames, more faults); yours takes {faults[0]} and "
                f"{faults[1]}. A hit must not move a page in FIFO order."
            ),
            picture=picture(w, expected[1], steps, i, "3 frames."),
        )


def no_belady(policy: str) -> Callable[..., None]:
    @prop(
        describe=describer(policy_snippet, policy=policy),
        workload=workloads(frames=(1, 4)),
        more=st.integers(1, 2),
    )
    def check(ctx: Context, workload: Data, more: int) -> None:
        frames = workload["config"]["frames"]
        sizes = [frames, frames + more]
        ctx.current_input = {"policy": policy, "workload": workload, "frames": sizes}
        small = student_policy(ctx, policy, {}, workload)
        big = student_policy(ctx, policy, {}, with_config(workload, frames=sizes[1]))
        fs, fb = small[1].faults, big[1].faults
        if fb > fs:
            raise Failure(
                f"{policy} must never take more page faults with more frames (it is a stack algorithm).",
                expected=f"at most {fs} page faults with {sizes[1]} frames",
                actual=f"{fs} page faults with {sizes[0]} frames, {fb} with {sizes[1]}",
                divergence=(
                    f"With {sizes[0]} frames your {policy} takes {fs} page faults; with "
                    f"{sizes[1]} frames, {fb}. Belady's anomaly cannot happen to {policy}: "
                    f"the pages it keeps with {sizes[0]} frames are always among those it keeps with more."
                ),
                picture=picture(
                    big[0],
                    small[2],
                    big[2],
                    None,
                    f"Top: yours with {sizes[0]} frames. Bottom: yours with {sizes[1]} frames.",
                ),
            )

    return check


lru_no_belady = no_belady("LRU")
opt_no_belady = no_belady("OPT")


@prop(describe=describer(policy_snippet, policy="OPT"), workload=workloads())
def opt_is_optimal(ctx: Context, workload: Data) -> None:
    ctx.current_input = {"policy": "OPT", "workload": workload}
    w, run, steps = student_policy(ctx, "OPT", {}, workload)
    for other in ("FIFO", "LRU", "Clock", "LFU"):
        their_run, their_steps = reference_policy(ctx, other, {}, workload)
        if their_run.faults < run.faults:
            raise Failure(
                f"OPT must never take more page faults than any other policy, but {other} beats yours.",
                expected=f"at most {their_run.faults} page faults ({other})",
                actual=f"{run.faults} page faults",
                divergence=(
                    f"On this trace {other} takes {their_run.faults} page faults and your OPT "
                    f"{run.faults}. Evicting the page whose next use is farthest away is optimal."
                ),
                picture=picture(w, their_steps, steps, None, f"Top: {other}. Bottom: your OPT."),
            )


# ----------------------------------------------------------------------------- rules: the MMU


def _mmu_failure(
    ctx: Context,
    data: Data,
    victims: list[int],
    tlb: bool,
    w: Workload,
    steps: list[Step],
    i: int,
    why: str,
    headline: str,
) -> Failure:
    expected = reference_mmu(ctx, data, victims, tlb)
    return Failure(
        headline,
        expected=run_text(w, expected[1]),
        actual=run_text(w, steps),
        divergence=f"At access {i} ({access_words(w, steps[i])}): {why}",
        picture=picture(w, expected[1], steps, i, "The mark is where your run breaks the rule."),
    )


MMURule = Callable[[Workload, Run, list[Step]], "tuple[int, str] | None"]


def mmu_rule(
    rule: MMURule, headline: str, tlb: bool, processes: tuple[int, int], asids: bool | None
) -> Callable[..., None]:
    @prop(
        describe=describer(mmu_snippet, tlb=tlb),
        workload=workloads(
            processes=processes, asids=asids, min_switches=2 if processes[0] > 1 else 0
        ),
        victims=victim_lists,
    )
    def check(ctx: Context, workload: Data, victims: list[int]) -> None:
        ctx.current_input = {"workload": workload, "victims": victims, "tlb": tlb}
        w, run, steps = student_mmu(ctx, workload, victims, tlb)
        found = rule(w, run, steps)
        if found is not None:
            raise _mmu_failure(ctx, workload, victims, tlb, w, steps, found[0], found[1], headline)

    return check


def translation_rule(w: Workload, run: Run, steps: list[Step]) -> tuple[int, str] | None:
    size = w.config.page_size
    for s in steps:
        rec = s.record
        if rec.kind == SEGFAULT:
            continue
        assert rec.address is not None
        if rec.frame < 0:
            return s.index, (
                f"{page_name(w, s.page)} is not in memory, so this access must cause a page "
                f"fault (or a segmentation fault); yours translated it to {rec.address:#06x}."
            )
        want = rec.frame * size + s.offset
        if rec.address != want:
            return s.index, (
                f"the page is in frame {rec.frame} and the offset is {s.offset:#x} (the low "
                f"{w.config.offset_bits} bits), so the physical address is {rec.frame} * {size} "
                f"+ {s.offset:#x} = {want:#06x}; yours is {rec.address:#06x}."
            )
    return None


def isolation_rule(w: Workload, run: Run, steps: list[Step]) -> tuple[int, str] | None:
    """No frame holds two pages: a translation only reaches the frame of its own page."""
    size = w.config.page_size
    for s in steps:
        rec = s.record
        if rec.kind == SEGFAULT:
            continue
        assert rec.address is not None
        reached = rec.address // size
        holder = s.frames[reached] if reached < len(s.frames) else None
        if not s.valid:
            return s.index, (
                f"page {s.page.vpn} is not in P{s.page.pid}'s address space, so this must be a "
                f"segmentation fault; yours reached frame {reached}"
                + (f", which holds {page_name(w, holder)}" if holder else "")
                + ": a stale TLB entry of another process?"
            )
        if holder != s.page:
            where = f"frame {rec.frame}" if rec.frame >= 0 else "not in memory"
            return s.index, (
                f"{page_name(w, s.page)} is {where}, but your translation reached frame "
                f"{reached}"
                + (f", which holds {page_name(w, holder)}" if holder else "")
                + ". Without ASIDs the TLB must be flushed on a context switch, and an "
                "evicted page's entry must be invalidated."
            )
    return None


def count_rule(w: Workload, run: Run, steps: list[Step]) -> tuple[int, str] | None:
    n = len(run)
    claimed = sum(1 for t in run.tlb if t == 1)
    hits, misses = run.tlb_hits, run.tlb_misses
    if hits is None or misses is None:
        return n - 1 if n else 0, "the run has no TLB counters."
    if hits + misses != n or hits != claimed:
        return max(n - 1, 0), (
            f"after {n} accesses your TLB counted {hits} hits and {misses} misses "
            f"({hits + misses} lookups), and translate reported {claimed} TLB hits. Every access "
            "makes exactly one lookup, so hits + misses must be the number of accesses "
            "(keep the counters through a flush)."
        )
    return None


def write_back_rule(w: Workload, run: Run, steps: list[Step]) -> tuple[int, str] | None:
    """A page written since it was loaded is written back exactly once, when it is evicted."""
    written: dict[PageId, int | None] = {}
    for s in steps:
        rec = s.record
        if rec.victim is not None:
            last_write = written.pop(rec.victim, None)
            if (last_write is not None) != rec.write_back:
                name = page_name(w, rec.victim)
                if last_write is not None:
                    return s.index, (
                        f"{name} was written at access {last_write} since it was loaded, so it "
                        "is dirty: evicting it must write it back to swap; yours does not. "
                        "Set the dirty bit on every write, also on a TLB hit."
                    )
                return s.index, (
                    f"{name} was not written since it was loaded, so it is clean: evicting it "
                    "must not write it back; yours does."
                )
        if rec.kind == FAULTED:
            written[s.page] = None
        if rec.kind != SEGFAULT and s.access.write and s.page in written:
            written[s.page] = s.index
    return None


translation_rule_holds = mmu_rule(
    translation_rule,
    "The physical address must be frame * page size + offset.",
    tlb=False,
    processes=(1, 2),
    asids=None,
)
isolation_rule_holds = mmu_rule(
    isolation_rule,
    "A translation must reach the frame that holds the page, never another process's page.",
    tlb=True,
    processes=(2, 3),
    asids=False,
)
tlb_counts_hold = mmu_rule(
    count_rule, "TLB hits + misses must equal the number of accesses.", True, (1, 3), None
)
write_back_holds = mmu_rule(
    write_back_rule,
    "A dirty page must be written back exactly once per eviction, a clean one never.",
    tlb=True,
    processes=(1, 3),
    asids=None,
)


@prop(
    describe=describer(mmu_snippet, tlb=True, modes=[False, True]),
    workload=workloads(processes=(2, 3), asids=False, min_switches=2),
    victims=victim_lists,
)
def asids_never_lose_hits(ctx: Context, workload: Data, victims: list[int]) -> None:
    ctx.current_input = {
        "workload": workload,
        "victims": victims,
        "tlb": True,
        "modes": [False, True],
    }
    w, flush, flush_steps = student_mmu(ctx, workload, victims, True)
    tagged_data = with_config(workload, asids=True)
    _wt, tagged, tagged_steps = student_mmu(ctx, tagged_data, victims, True)
    hf = sum(1 for t in flush.tlb if t == 1)
    ht = sum(1 for t in tagged.tlb if t == 1)
    if ht < hf:
        i = next((k for k in range(len(flush)) if flush.tlb[k] == 1 and tagged.tlb[k] != 1), None)
        raise Failure(
            "With ASIDs the TLB must never hit less often than when it is flushed at every switch.",
            expected=f"at least {hf} TLB hits with ASIDs",
            actual=f"{hf} TLB hits flushing, {ht} with ASIDs",
            divergence=(
                f"Your TLB hits {hf} times when it is flushed at every context switch and only "
                f"{ht} times with ASIDs. Tagged entries survive a switch, so every hit of the "
                "flushing run is also a hit with ASIDs"
                + (f"; the first one lost is access {i}." if i is not None else ".")
            ),
            picture=picture(
                w, flush_steps, tagged_steps, i, "Top: yours, flushing. Bottom: yours, with ASIDs."
            ),
        )
