"""Hidden properties of the virtual-memory assignment (instructors only).

Two kinds: differential (the student's run equals the reference's, access by access)
and rules that do not look at the reference at all (FIFO evicts the oldest load, OPT is
never beaten, a dirty page is written back once per eviction, the physical address is
frame * page size + offset, ...), so that ``osgrade validate memory`` catches a wrong
reference and a student with the right idea but a wrong tie-break keeps some credit.

The inputs are in inputs.py, the reference-free oracles in checks.py, the words and
pictures in explain.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from grader.engine.props import Context, Failure, prop, sibling
from grader.engine.results import TableCell
from grader.engine.results import TablePicture as Table
from grader.simos.memory import (
    NullTLB,
    Run,
    ScriptedVictims,
    Step,
    Workload,
    first_difference,
    replay,
    simulate,
)
from grader.simos.memory.harness import apply_tlb_ops

inputs = sibling(__file__, "inputs")
checks = sibling(__file__, "checks")
explain = sibling(__file__, "explain")

# What the properties use, by name (the tests reach them here too).
workloads, tlb_scripts, victim_lists = inputs.workloads, inputs.tlb_scripts, inputs.victim_lists
with_config, BELADY, belady_workload = inputs.with_config, inputs.BELADY, inputs.belady_workload
fifo_rule, lru_rule, opt_rule = checks.fifo_rule, checks.lru_rule, checks.opt_rule
lfu_rule, clock_rule = checks.lfu_rule, checks.clock_rule
translation_rule, isolation_rule = checks.translation_rule, checks.isolation_rule
count_rule, write_back_rule = checks.count_rule, checks.write_back_rule
access_words = checks.access_words
describer, policy_snippet = explain.describer, explain.policy_snippet
mmu_snippet, tlb_snippet = explain.mmu_snippet, explain.tlb_snippet
describe_difference, picture, run_text = (
    explain.describe_difference,
    explain.picture,
    explain.run_text,
)
_tlb_answer, _tlb_words, _tlb_hint = explain._tlb_answer, explain._tlb_words, explain._tlb_hint

RUN_POLICY, RUN_MMU = explain.RUN_POLICY, explain.RUN_MMU
checked, compare, MMU_HEADLINES = explain.checked, explain.compare, explain.MMU_HEADLINES


RUN_TLB = "grader.simos.memory.harness:run_tlb"


Data = dict[str, Any]


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
            explain.policy_headline(policy),
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


translate_matches_reference = mmu_matches(False, None, (1, 2), MMU_HEADLINES[False, False])


mmu_flush_matches_reference = mmu_matches(True, False, (2, 3), MMU_HEADLINES[True, False])


mmu_asid_matches_reference = mmu_matches(True, True, (2, 3), MMU_HEADLINES[True, True])


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


fifo_rule_holds = policy_rule("FIFO", fifo_rule, "FIFO must evict the page loaded longest ago.")


lru_rule_holds = policy_rule("LRU", lru_rule, "LRU must evict the least recently used page.")


opt_rule_holds = policy_rule(
    "OPT", opt_rule, "OPT must evict the page used farthest in the future."
)


lfu_rule_holds = policy_rule("LFU", lfu_rule, "LFU must evict a least frequently used page.")


clock_rule_holds = policy_rule(
    "Clock", clock_rule, "Clock must give referenced pages a second chance, in hand order."
)


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
