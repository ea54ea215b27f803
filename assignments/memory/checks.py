"""Oracles of the memory properties that do not look at the reference.

Each rule reads a run the student's code produced (replayed by grader.simos.memory.replay)
and returns ``(access, why)`` at the first access that breaks it, or None. Because they
trust nothing but the trace, ``osgrade validate`` catches a wrong reference with them.
"""

from __future__ import annotations

from typing import Any

from grader.engine.props import sibling
from grader.simos.memory import FAULTED, SEGFAULT, PageId, Run, Step, Workload

# How to read a run (shared with the student kit, which has explain.py and not this file).
explain = sibling(__file__, "explain")
NEVER, single_process, page_name = explain.NEVER, explain.single_process, explain.page_name
access_words, _history, next_use = explain.access_words, explain._history, explain.next_use
clock_sweeps = explain.clock_sweeps


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
