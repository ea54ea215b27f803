"""Words and pictures of the memory properties: snippets, divergence sentences, frames.

Shared by the hidden properties and the student kit: ``osgrade kit`` copies this file
(``[kit] explain``), so a recorded public test that fails in a kit shows grading's sentence
and frames picture. It holds no test, no input and no reference code.

What a student reads when a test fails: a snippet to paste, one sentence saying what the
reference does at the first differing access and what their code does (with the policy's
own reason: "least recently used, last used at access 2"), the two runs as text, and the
frames picture.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grader.engine.props import Failure
from grader.engine.results import Counterexample, FrameColumn, FramesPicture
from grader.simos.memory import (
    FAULTED,
    SEGFAULT,
    PageId,
    Run,
    Step,
    Workload,
    first_difference,
    page_label,
    replay,
)

Data = dict[str, Any]


NEVER = 1 << 62


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


# ----------------------------------------------------------------- comparing two runs

RUN_POLICY = "grader.simos.memory.harness:run_policy"
RUN_MMU = "grader.simos.memory.harness:run_mmu"
MMU_HEADLINES = {  # (with a TLB, with ASIDs)
    (False, False): "Your MMU does not translate like the reference (no TLB here).",
    (True, False): "With your TLB and MMU (no ASIDs), the run differs from the reference.",
    (True, True): "With your TLB and MMU (with ASIDs), the run differs from the reference.",
}


def policy_headline(policy: str) -> str:
    return f"Your {policy} does not evict the same pages as the reference."


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


def explain_reply(entry: str, args: Data, expected: Any, actual: Any) -> Failure | None:
    """A kit's recorded call whose reply differs: the Failure grading would report.

    ``expected`` is the reference's recorded reply, ``actual`` the student's; None for a
    call that is not a whole run (the kit then shows where the two JSON values differ).
    """
    if entry not in (RUN_POLICY, RUN_MMU):
        return None
    data = args["workload"]
    w = Workload.from_data(data)
    want = Run.from_data(expected, len(w.accesses))
    if entry == RUN_POLICY:
        policy, headline = args["policy"], policy_headline(args["policy"])
    else:
        policy, headline = (
            "",
            MMU_HEADLINES[bool(args["tlb"]), bool(args["tlb"] and w.config.asids)],
        )
    try:
        w, run, steps = checked(data, actual, tlb=entry == RUN_MMU)
        compare(policy, w, (want, replay(w, want)[0]), (run, steps), headline)
    except Failure as failure:
        return failure
    return None
