"""Reading a run back: is it something the operating system could have done, and where two
runs part.

Used by the trusted grader on runs that came from an untrusted worker: every function
here treats the run as data to check. A *structural* problem (a page loaded into a frame
that is not free, an eviction naming a page that was not there, two pages in one frame)
can only come from a tampered simulator; a wrong translation or a missing write-back is
the student's answer, judged by the properties.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import FAULTED, SEGFAULT, TRANSLATED, Access, AccessRecord, PageId, Run, Workload


@dataclass(frozen=True, slots=True)
class Step:
    """One access as replayed: what it touched and the frames just after it."""

    index: int
    access: Access
    page: PageId
    offset: int
    valid: bool
    resident: bool  # the page was in memory before the access
    record: AccessRecord
    frames: tuple[PageId | None, ...]  # the page in each frame after the access


def replay(workload: Workload, run: Run) -> tuple[list[Step], list[str]]:
    """The steps of ``run`` and every structural problem found (empty for a possible run)."""
    config = workload.config
    shift, mask, n = config.offset_bits, config.page_size - 1, config.frames
    valid = {p.pid: p for p in workload.processes}
    holder: list[PageId | None] = [None] * n
    where: dict[PageId, int] = {}
    steps: list[Step] = []
    problems: list[str] = []
    if len(run) != len(workload.accesses):
        return [], [f"the run has {len(run)} accesses but the trace has {len(workload.accesses)}"]

    def bad(i: int, what: str) -> None:
        if len(problems) < 20:
            problems.append(f"access {i}: {what}")

    for i, access in enumerate(workload.accesses):
        rec = run.record(i)
        page = PageId(access.pid, access.address >> shift)
        ok = valid[access.pid].is_valid(page.vpn)
        resident = page in where
        if rec.tlb_hit is None and run.tlb[i] != -1:
            bad(i, f"unknown TLB value {run.tlb[i]}")
        if rec.kind == SEGFAULT:
            if ok:
                bad(i, f"a segmentation fault on page {page.vpn}, which is valid")
            if rec.address is not None or rec.frame != -1 or rec.victim or rec.write_back:
                bad(i, "a segmentation fault with an address, a frame or an eviction")
        elif rec.kind == FAULTED:
            used = n - holder.count(None)  # frames fill in order: 0, 1, 2, ...
            if not ok or resident:
                bad(i, f"a page fault loading page {tuple(page)}, which is not valid or present")
            elif used < n:
                if rec.frame != used or rec.victim is not None or rec.write_back:
                    bad(i, f"the page must go to free frame {used} without an eviction")
            elif not 0 <= rec.frame < n or rec.victim is None or holder[rec.frame] != rec.victim:
                bad(i, f"the eviction names {rec.victim} in frame {rec.frame}, not its page")
            if rec.write_back and rec.victim is None:
                bad(i, "a write-back without an eviction")
            if 0 <= rec.frame < n and not resident:
                old = holder[rec.frame]
                if old is not None:
                    del where[old]
                holder[rec.frame] = page
                where[page] = rec.frame
            if rec.address is None:
                bad(i, "a page fault without a physical address")
        elif rec.kind == TRANSLATED:
            if rec.frame != where.get(page, -1):
                bad(
                    i,
                    f"frame {rec.frame} recorded, but page {tuple(page)} is in frame "
                    f"{where.get(page, -1)}",
                )
            if rec.victim is not None or rec.write_back:
                bad(i, "an eviction without a page fault")
            if rec.address is None:
                bad(i, "no physical address for an access that did not fault")
        else:
            bad(i, f"unknown kind {rec.kind}")
        steps.append(Step(i, access, page, access.address & mask, ok, resident, rec, tuple(holder)))
    return steps, problems


def same_record(a: AccessRecord, b: AccessRecord) -> bool:
    return (
        a.tlb_hit == b.tlb_hit
        and a.kind == b.kind
        and a.frame == b.frame
        and a.victim == b.victim
        and a.write_back == b.write_back
        and a.address == b.address
        and a.bits == b.bits
    )


def first_difference(expected: Run, actual: Run) -> int | None:
    """The index of the first access whose records differ; None when the runs agree."""
    for i in range(min(len(expected), len(actual))):
        if not same_record(expected.record(i), actual.record(i)):
            return i
    if len(expected) != len(actual):
        return min(len(expected), len(actual))
    return None
