"""Inputs of the memory properties: workloads with locality, victim scripts, TLB scripts.

A workload is a list of phases (a loop over a few pages, a hot page among a scan, a
working set, a sequential scan, uniform picks, a stray pointer), each run by one process,
so that shrinking deletes whole phases and then shortens them. Only the fields a phase's
kind needs are drawn, and strategy objects are built once: Hypothesis spends real time on
each new one it meets.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

from hypothesis import strategies as st

Data = dict[str, Any]

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
