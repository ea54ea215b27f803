"""Hidden properties of the deadlock assignment (instructors only).

Two kinds, as in the scheduling assignment:

* differential (``*_matches_reference``): the student's answer equals the reference's,
  tie-breaking rules of the handout included;
* validity: the answer is *a* right answer, decided only by the oracles of checks.py,
  which are independent of the reference (a witness order that really runs, a cycle that
  really is one, every lock-order cycle and nothing else), so a student who breaks a tie
  another valid way keeps those points, and ``osgrade validate`` catches a wrong reference.

The inputs (inputs.py) are small and drawn near the boundary; see that module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.engine.props import Context, Failure, prop, sibling
from grader.engine.results import Counterexample
from grader.simos.deadlock import LockTrace, SystemState, WaitForGraph

inputs = sibling(__file__, "inputs")
checks = sibling(__file__, "checks")

# What the properties use, by name (the tests reach them here too).
BANKER_BOOK, DETECTION_BOOK = inputs.BANKER_BOOK, inputs.DETECTION_BOOK
banker_requests, banker_states = inputs.banker_requests, inputs.banker_states
detection_states, lock_traces = inputs.detection_states, inputs.lock_traces
wait_for_graphs = inputs.wait_for_graphs
arrow, fits, in_range, procs, vec = (
    checks.arrow,
    checks.fits,
    checks.in_range,
    checks.procs,
    checks.vec,
)
finishing, has_cycle, justified, replay = (
    checks.finishing,
    checks.has_cycle,
    checks.justified,
    checks.replay,
)
lock_cycles, lock_edges, not_a_cycle, rotate = (
    checks.lock_cycles,
    checks.lock_edges,
    checks.not_a_cycle,
    checks.rotate,
)
reason, _need = checks.reason, checks._need
reduction_table, decision_table = checks.reduction_table, checks.decision_table
wait_for_picture, lock_picture = checks.wait_for_picture, checks.lock_picture
CodePath = checks.CodePath

HARNESS = "grader.simos.deadlock.harness:run"
Data = dict[str, Any]
Mat = list[list[int]]

# ============================================================================= replies


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


Ids = Annotated[list[int], Field(max_length=100_000)]
Dep = Annotated[list[str], Field(min_length=5, max_length=5)]


class DetectReply(_Reply):
    deadlocked: Ids
    order: Ids


class CycleReply(_Reply):
    cycle: Ids | None


class SequenceReply(_Reply):
    sequence: Ids | None


class DecisionReply(_Reply):
    decision: Literal["grant", "wait", "unsafe", "exceeds_claim"]


class DependenciesReply(_Reply):
    dependencies: Annotated[list[Dep], Field(max_length=100_000)]


class CyclesReply(_Reply):
    cycles: Annotated[list[Annotated[list[Dep], Field(max_length=1_000)]], Field(max_length=20_000)]


def ask(ctx: Context, function: str, inp: Data, model: type[_Reply]) -> Any:
    """Call the student's ``function`` in the worker; the reply, validated."""
    data = ctx.call(HARNESS, {"function": function, "input": inp})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Failure(
            f"The worker returned a malformed answer from {function}: {where}: {first['msg']}"
        ) from None


# ============================================================================= snippets


def _rows(m: Sequence[Sequence[int]]) -> str:
    return (
        "("
        + ", ".join("(" + ", ".join(map(str, r)) + ("," if len(r) == 1 else "") + ")" for r in m)
        + ("," if len(m) == 1 else "")
        + ")"
    )


def _tuple(v: Sequence[int]) -> str:
    return "(" + ", ".join(map(str, v)) + ("," if len(v) == 1 else "") + ")"


def state_code(state: Data) -> list[str]:
    lines = ["state = SystemState(", f"    available={_tuple(state['available'])},"]
    lines.append(f"    allocation={_rows(state['allocation'])},")
    for key in ("request", "maximum"):
        if state.get(key) is not None:
            lines.append(f"    {key}={_rows(state[key])},")
    return [*lines, ")"]


def snippet(function: str, inputs: Data) -> str:
    inputs = inputs.get("inp", inputs)  # request_decision draws one dict
    if function in ("detect", "safe_sequence", "request_decision"):
        lines = [
            "from grader.simos.deadlock import SystemState",
            f"from deadlock import {function}",
            "",
        ]
        lines += state_code(inputs["state"])
        if function == "request_decision":
            lines.append(
                f"print(request_decision(state, {inputs['process']}, {_tuple(inputs['request'])}))"
            )
        else:
            lines.append(f"print({function}(state))")
    elif function == "find_cycle":
        g = inputs["graph"]
        edges = ", ".join(f"({p}, {q})" for p, q in g["edges"])
        lines = [
            "from grader.simos.deadlock import WaitForGraph",
            "from deadlock import find_cycle",
            "",
            f"graph = WaitForGraph.from_edges({g['n']}, [{edges}])",
            "print(find_cycle(graph))",
        ]
    else:
        lines = [
            "from grader.simos.deadlock import LockTrace",
            f"from deadlock import {function}",
            "",
            "trace = LockTrace.from_tuples([",
        ]
        lines += [
            f"    ({t!r}, {op!r}, {lock!r}, {site!r}),"
            for t, op, lock, site in inputs["trace"]["events"]
        ]
        lines += ["])", f"for item in {function}(trace):", "    print(item)"]
    return "\n".join(lines)


def describer(function: str) -> Callable[[Data], Counterexample]:
    return lambda inputs: Counterexample(inputs=inputs, snippet=snippet(function, inputs))


# ============================================================================= detection


def student_detect(ctx: Context, state: Data) -> DetectReply:
    reply: DetectReply = ask(ctx, "detect", {"state": state}, DetectReply)
    n = len(state["allocation"])
    in_range(reply.deadlocked, n, "Your Detection.deadlocked")
    in_range(reply.order, n, "Your Detection.order")
    return reply


def _detect_failure(
    message: str, s: SystemState, exp: Any, got: DetectReply, divergence: str
) -> Failure:
    return Failure(
        message,
        expected=f"deadlocked: {procs(sorted(exp.deadlocked))}; witness order: {procs(exp.order)}",
        actual=f"deadlocked: {procs(got.deadlocked)}; witness order: {procs(got.order)}",
        divergence=divergence,
        picture=reduction_table(
            s,
            [list(r) for r in s.request or ()],
            "request",
            list(exp.order),
            got.order,
            got.deadlocked,
        ),
    )


@prop(describe=describer("detect"), state=detection_states)
def detect_matches_reference(ctx: Context, state: Data) -> None:
    s = SystemState.from_data(state)
    exp = ctx.reference.detect(s)
    got = student_detect(ctx, state)
    if sorted(got.deadlocked) != sorted(exp.deadlocked):
        raise _detect_failure(
            "Your set of deadlocked processes differs from the reference's.",
            s,
            exp,
            got,
            f"The reference finds {procs(sorted(exp.deadlocked))} deadlocked; yours: {procs(sorted(got.deadlocked))}.",
        )
    if list(got.order) != list(exp.order):
        k = next(
            (i for i, (a, b) in enumerate(zip(exp.order, got.order, strict=False)) if a != b),
            min(len(exp.order), len(got.order)),
        )
        e = f"P{exp.order[k]}" if k < len(exp.order) else "nothing more"
        g = f"P{got.order[k]}" if k < len(got.order) else "nothing more"
        raise _detect_failure(
            "Your witness order differs from the reference's (the handout's rule: lowest-numbered "
            "process whose request fits first).",
            s,
            exp,
            got,
            f"Step {k + 1}: the reference runs {e}; yours runs {g}.",
        )


@prop(describe=describer("detect"), state=detection_states)
def detect_witness_runs(ctx: Context, state: Data) -> None:
    s = SystemState.from_data(state)
    got = student_detect(ctx, state)
    request = [list(r) for r in s.request or ()]
    alloc = [list(r) for r in s.allocation]

    def fail(message: str, divergence: str) -> Failure:
        exp = ctx.reference.detect(s)
        return _detect_failure(message, s, exp, got, divergence)

    dup = [p for p in set(got.order) if got.order.count(p) > 1]
    if dup:
        raise fail(
            "Your witness order lists a process twice.",
            f"P{dup[0]} appears {got.order.count(dup[0])} times.",
        )
    both = sorted(set(got.order) & set(got.deadlocked))
    if both:
        raise fail(
            "A process is both deadlocked and in your witness order.",
            f"P{both[0]} is in both lists.",
        )
    before, bad = replay(s.available, alloc, request, got.order)
    if bad is not None:
        p = got.order[bad]
        raise fail(
            "Your witness order does not run: a process cannot finish when its turn comes.",
            f"Step {bad + 1}: P{p} requests {vec(request[p])} but only {vec(before[bad])} is free.",
        )
    missing = [p for p in range(s.processes) if p not in got.order and p not in got.deadlocked]
    if missing:
        raise fail(
            "Every process not reported deadlocked must appear in the witness order.",
            f"P{missing[0]} is neither deadlocked nor in your order.",
        )


@prop(describe=describer("detect"), state=detection_states)
def detect_deadlocked_are_stuck(ctx: Context, state: Data) -> None:
    s = SystemState.from_data(state)
    got = student_detect(ctx, state)
    request = [list(r) for r in s.request or ()]
    can = finishing(s.available, [list(r) for r in s.allocation], request)
    wrong = [p for p in sorted(set(got.deadlocked)) if p in can]
    if wrong:
        exp = ctx.reference.detect(s)
        upto = can[: can.index(wrong[0]) + 1]
        raise _detect_failure(
            "You report a process as deadlocked that can finish.",
            s,
            exp,
            got,
            f"P{wrong[0]} is not deadlocked: in the order {procs(upto)} each request fits when its turn comes.",
        )


# ============================================================================= wait-for graphs


def student_cycle(ctx: Context, graph: Data) -> list[int] | None:
    reply: CycleReply = ask(ctx, "find_cycle", {"graph": graph}, CycleReply)
    if reply.cycle is not None:
        in_range(reply.cycle, graph["n"], "Your cycle")
    return reply.cycle


@prop(describe=describer("find_cycle"), graph=wait_for_graphs())
def cycle_matches_reference(ctx: Context, graph: Data) -> None:
    exp = ctx.reference.find_cycle(WaitForGraph.from_data(graph))
    got = student_cycle(ctx, graph)
    if (exp is None) != (got is None) or (
        exp is not None and got is not None and rotate(exp) != rotate(got)
    ):
        raise Failure(
            "Your find_cycle answer differs from the reference's.",
            expected=arrow(exp) if exp else "None (no deadlock)",
            actual=arrow(got) if got else "None (no deadlock)",
            divergence=(
                "The reference reports the cycle closed by the first back edge of a depth-first "
                "search from P0, P1, ... (successors in increasing order)."
                if exp
                else "The graph has no cycle."
            ),
            picture=wait_for_picture(graph, exp, got),
        )


@prop(describe=describer("find_cycle"), graph=wait_for_graphs())
def cycle_is_real(ctx: Context, graph: Data) -> None:
    got = student_cycle(ctx, graph)
    if got is None:
        return
    why = not_a_cycle(graph, got)
    if why:
        raise Failure(
            f"Your find_cycle returned {arrow(got)}, which is not a cycle of the graph: {why}.",
            expected="a cycle: each process waits for the next, and the last for the first",
            actual=arrow(got),
            divergence=why[0].upper() + why[1:] + ".",
            picture=wait_for_picture(
                graph, has_cycle(graph["n"], graph["edges"]), got, f"Not a cycle: {why}."
            ),
        )


@prop(describe=describer("find_cycle"), graph=wait_for_graphs())
def cycle_found_iff_deadlock(ctx: Context, graph: Data) -> None:
    got = student_cycle(ctx, graph)
    real = has_cycle(graph["n"], graph["edges"])
    if real is not None and got is None:
        self_loop = " (a self-loop: a process waiting for itself counts)" if len(real) == 1 else ""
        raise Failure(
            "The graph has a cycle, so the processes on it are deadlocked, but your find_cycle returned None.",
            expected=f"a cycle, for example {arrow(real)}{self_loop}",
            actual="None",
            picture=wait_for_picture(graph, real, None),
        )
    if real is None and got is not None:
        raise Failure(
            "The graph has no cycle (no deadlock), but your find_cycle returned one.",
            expected="None",
            actual=arrow(got),
            picture=wait_for_picture(graph, None, got),
        )


# ============================================================================= Banker's


def student_sequence(ctx: Context, state: Data) -> list[int] | None:
    reply: SequenceReply = ask(ctx, "safe_sequence", {"state": state}, SequenceReply)
    if reply.sequence is not None:
        in_range(reply.sequence, len(state["allocation"]), "Your safe sequence")
    return reply.sequence


@prop(describe=describer("safe_sequence"), state=banker_states)
def banker_safety_matches_reference(ctx: Context, state: Data) -> None:
    s = SystemState.from_data(state)
    exp = ctx.reference.safe_sequence(s)
    got = student_sequence(ctx, state)
    if exp == got:
        return
    if (exp is None) != (got is None):
        msg = (
            "Your safe_sequence says the state is "
            + ("unsafe" if got is None else "safe")
            + ", the reference the opposite."
        )
        div = None
    else:
        assert exp is not None and got is not None
        k = next(
            (i for i, (a, b) in enumerate(zip(exp, got, strict=False)) if a != b),
            min(len(exp), len(got)),
        )
        msg = "Your safe sequence differs from the reference's (the handout's rule: lowest-numbered process whose need fits first)."
        e = f"P{exp[k]}" if k < len(exp) else "nothing more"
        g = f"P{got[k]}" if k < len(got) else "nothing more"
        div = f"Step {k + 1}: the reference runs {e}; yours runs {g}."
    raise Failure(
        msg,
        expected=procs(exp) if exp is not None else "None (unsafe)",
        actual=procs(got) if got is not None else "None (unsafe)",
        divergence=div,
        picture=reduction_table(s, _need(s), "need", exp, got),
    )


@prop(describe=describer("safe_sequence"), state=banker_states)
def banker_sequence_runs(ctx: Context, state: Data) -> None:
    s = SystemState.from_data(state)
    need = _need(s)
    alloc = [list(r) for r in s.allocation]
    got = student_sequence(ctx, state)
    can = finishing(s.available, alloc, need)
    if got is None:
        if len(can) == s.processes:
            raise Failure(
                "Your safe_sequence says the state is unsafe, but it is safe.",
                expected=f"a safe sequence, for example {procs(can)}",
                actual="None (unsafe)",
                picture=reduction_table(s, need, "need", can, None),
            )
        return
    if sorted(got) != list(range(s.processes)):
        missing = sorted(set(range(s.processes)) - set(got))
        why = f"P{missing[0]} is missing" if missing else "a process appears twice"
        raise Failure(
            f"A safe sequence lists every process exactly once: {why}.",
            expected=f"a safe sequence, for example {procs(can)}"
            if len(can) == s.processes
            else "None (unsafe)",
            actual=procs(got),
            picture=reduction_table(s, need, "need", can if len(can) == s.processes else None, got),
        )
    before, bad = replay(s.available, alloc, need, got)
    if bad is not None:
        p = got[bad]
        raise Failure(
            "Your safe sequence does not run to completion.",
            expected=f"a safe sequence, for example {procs(can)}"
            if len(can) == s.processes
            else "None (unsafe)",
            actual=procs(got),
            divergence=f"Step {bad + 1}: P{p} may still need {vec(need[p])} but only {vec(before[bad])} is free.",
            picture=reduction_table(s, need, "need", can if len(can) == s.processes else None, got),
        )


def student_decision(ctx: Context, inp: Data) -> str:
    reply: DecisionReply = ask(ctx, "request_decision", inp, DecisionReply)
    return reply.decision


@prop(describe=describer("request_decision"), inp=banker_requests())
def banker_request_matches_reference(ctx: Context, inp: Data) -> None:
    s = SystemState.from_data(inp["state"])
    exp = ctx.reference.request_decision(s, inp["process"], tuple(inp["request"])).value
    got = student_decision(ctx, inp)
    if got != exp:
        raise Failure(
            f"Your decision on P{inp['process']}'s request {vec(inp['request'])} differs from the reference's.",
            expected=exp.upper(),
            actual=got.upper(),
            divergence=reason(s, inp["process"], inp["request"]),
            picture=decision_table(s, inp["process"], inp["request"], exp, got),
        )


@prop(describe=describer("request_decision"), inp=banker_requests())
def banker_grant_leaves_safe(ctx: Context, inp: Data) -> None:
    got = student_decision(ctx, inp)
    if got != "grant":
        return
    s = SystemState.from_data(inp["state"])
    ok = justified(s, inp["process"], inp["request"])
    if "grant" not in ok:
        why = {
            "exceeds_claim": "the request is more than the process's remaining need (its claim)",
            "wait": "the request is more than the free units",
            "unsafe": "the state after the grant is unsafe: no order lets every process finish",
        }[sorted(ok)[0]]
        raise Failure(
            f"You granted P{inp['process']}'s request {vec(inp['request'])}, but {why}.",
            expected=" or ".join(sorted(x.upper() for x in ok)),
            actual="GRANT",
            divergence=reason(s, inp["process"], inp["request"]),
            picture=decision_table(s, inp["process"], inp["request"], sorted(ok)[0], got),
        )


@prop(describe=describer("request_decision"), inp=banker_requests())
def banker_decision_justified(ctx: Context, inp: Data) -> None:
    got = student_decision(ctx, inp)
    s = SystemState.from_data(inp["state"])
    ok = justified(s, inp["process"], inp["request"])
    if got not in ok:
        raise Failure(
            f"Your decision {got.upper()} on P{inp['process']}'s request {vec(inp['request'])} is not justified by the rules.",
            expected=" or ".join(sorted(x.upper() for x in ok)),
            actual=got.upper(),
            divergence=reason(s, inp["process"], inp["request"]),
            picture=decision_table(s, inp["process"], inp["request"], sorted(ok)[0], got),
        )


# ============================================================================= lock order

DepTuple = tuple[str, str, str, str, str]


def student_dependencies(ctx: Context, trace: Data) -> list[DepTuple]:
    reply: DependenciesReply = ask(ctx, "lock_dependencies", {"trace": trace}, DependenciesReply)
    return [tuple(d) for d in reply.dependencies]  # type: ignore[misc]


def _labels(first: dict[tuple[str, str], CodePath]) -> dict[tuple[str, str], str]:
    return {e: f"{t}: took {e[0]} at {a}, then {e[1]} at {b}" for e, (t, a, b) in first.items()}


def _dep_text(d: Sequence[str]) -> str:
    return f"{d[0]} → {d[1]} ({d[2]}: {d[3]}, then {d[4]})"


def _deps_text(deps: Sequence[Sequence[str]]) -> str:
    return "\n".join(_dep_text(d) for d in sorted(deps)) or "(none)"


def _ref_deps(ctx: Context, trace: Data) -> list[DepTuple]:
    deps = ctx.reference.lock_dependencies(LockTrace.from_data(trace))
    return [(d.held, d.acquired, d.thread, d.held_at, d.acquired_at) for d in deps]


@prop(describe=describer("lock_dependencies"), trace=lock_traces())
def lockdep_graph_matches_reference(ctx: Context, trace: Data) -> None:
    exp = _ref_deps(ctx, trace)
    got = student_dependencies(ctx, trace)
    if sorted(exp) != sorted(got):
        missing = sorted(set(exp) - set(got))
        extra = sorted(set(got) - set(exp))
        if missing:
            div = f"The reference has {_dep_text(missing[0])}, which yours does not."
        elif extra:
            div = f"Yours has {_dep_text(extra[0])}, which the reference does not."
        else:
            div = "Yours lists a dependency more than once."
        _, first = lock_edges(trace["events"])
        raise Failure(
            "Your lock-order dependencies differ from the reference's (each edge once, with the first event that created it).",
            expected=_deps_text(exp),
            actual=_deps_text(got),
            divergence=div,
            picture=lock_picture(
                {(d[0], d[1]) for d in exp}, {(d[0], d[1]) for d in got}, None, None, _labels(first)
            ),
        )


@prop(describe=describer("lock_dependencies"), trace=lock_traces())
def lockdep_graph_complete(ctx: Context, trace: Data) -> None:
    got = student_dependencies(ctx, trace)
    paths, first = lock_edges(trace["events"])
    real = set(paths)
    yours = [(d[0], d[1]) for d in got]

    def fail(message: str, div: str) -> Failure:
        expected = [(a, b, *first[(a, b)]) for a, b in sorted(real)]
        return Failure(
            message,
            expected=_deps_text(expected),
            actual=_deps_text(got),
            divergence=div,
            picture=lock_picture(real, set(yours), None, None, _labels(first)),
        )

    extra = [d for d in got if (d[0], d[1]) not in real]
    if extra:
        raise fail(
            "You report a dependency that the trace does not contain.",
            f"No thread ever held {extra[0][0]} while acquiring {extra[0][1]}.",
        )
    missing = sorted(real - set(yours))
    if missing:
        a, b = missing[0]
        t, x, y = first[(a, b)]
        raise fail(
            "You miss a dependency of the trace.",
            f"{t} held {a} (taken at {x}) while acquiring {b} at {y}: the edge {a} → {b} is missing.",
        )
    dup = next((e for e in yours if yours.count(e) > 1), None)
    if dup:
        raise fail(
            "Report each dependency once.",
            f"{dup[0]} → {dup[1]} appears {yours.count(dup)} times.",
        )
    for d in got:
        if (d[2], d[3], d[4]) not in paths[(d[0], d[1])]:
            raise fail(
                "A dependency's code path does not create it.",
                f"{d[2]} never held {d[0]} (taken at {d[3]}) while acquiring {d[1]} at {d[4]}.",
            )


def student_cycles(ctx: Context, trace: Data) -> list[list[DepTuple]]:
    reply: CyclesReply = ask(ctx, "potential_deadlocks", {"trace": trace}, CyclesReply)
    return [[tuple(d) for d in c] for c in reply.cycles]  # type: ignore[misc]


def _cycle_locks(cycle: Sequence[Sequence[str]]) -> tuple[str, ...]:
    return rotate([d[0] for d in cycle])


def _cycle_text(cycle: Sequence[Sequence[str]]) -> str:
    if not cycle:
        return "(empty)"
    return " → ".join([d[0] for d in cycle] + [cycle[-1][1]])


def _cycles_text(cycles: Sequence[Sequence[Sequence[str]]], paths: bool = False) -> str:
    lines = []
    for c in sorted(cycles, key=_cycle_locks):
        lines.append(_cycle_text(c))
        if paths:
            lines += [f"    {_dep_text(d)}" for d in c]
    return "\n".join(lines) or "(none)"


def _normal(cycle: Sequence[DepTuple]) -> tuple[DepTuple, ...]:
    return rotate(cycle, key=lambda d: d[0])


@prop(describe=describer("potential_deadlocks"), trace=lock_traces())
def lockdep_cycles_match_reference(ctx: Context, trace: Data) -> None:
    ref = ctx.reference.potential_deadlocks(LockTrace.from_data(trace))
    exp = [[(d.held, d.acquired, d.thread, d.held_at, d.acquired_at) for d in c] for c in ref]
    got = student_cycles(ctx, trace)
    if sorted(_normal(c) for c in exp) == sorted(_normal(c) for c in got):
        return
    e_set = {_normal(c) for c in exp}
    g_set = {_normal(c) for c in got}
    missing = sorted(e_set - g_set)
    extra = sorted(g_set - e_set)
    paths, first = lock_edges(trace["events"])
    if missing:
        div = (
            f"The reference reports {_cycle_text(missing[0])} with these code paths, which yours "
            "does not: " + "; ".join(_dep_text(d) for d in missing[0]) + "."
        )
    elif extra:
        div = (
            f"Yours reports {_cycle_text(extra[0])} with code paths the reference does not: "
            + "; ".join(_dep_text(d) for d in extra[0])
            + "."
        )
    else:
        div = "Yours reports a cycle more than once."
    raise Failure(
        "Your potential deadlocks differ from the reference's (every cycle once, each link with the first event that created it).",
        expected=_cycles_text(exp, paths=True),
        actual=_cycles_text(got, paths=True),
        divergence=div,
        picture=lock_picture(
            set(paths),
            None,
            _cycle_locks(missing[0]) if missing else None,
            _cycle_locks(extra[0]) if extra and not missing else None,
            _labels(first),
            "Your answer does not report the highlighted cycle." if missing else "",
        ),
    )


@prop(describe=describer("potential_deadlocks"), trace=lock_traces())
def lockdep_every_cycle(ctx: Context, trace: Data) -> None:
    got = student_cycles(ctx, trace)
    paths, first = lock_edges(trace["events"])
    real = lock_cycles(set(paths))

    def fail(
        message: str, div: str, exp_cycle: Sequence[str] | None, your_cycle: Sequence[str] | None
    ) -> Failure:
        expected = [
            [
                (c[k], c[(k + 1) % len(c)], *first[(c[k], c[(k + 1) % len(c)])])
                for k in range(len(c))
            ]
            for c in sorted(real)
        ]
        return Failure(
            message,
            expected=_cycles_text(expected),
            actual=_cycles_text(got),
            divergence=div,
            picture=lock_picture(
                set(paths),
                None,
                exp_cycle,
                your_cycle,
                _labels(first),
                "Your answer does not report the highlighted cycle." if exp_cycle else "",
            ),
        )

    for c in got:
        if not c:
            raise fail(
                "A reported cycle is empty.",
                "Each potential deadlock lists at least one dependency.",
                None,
                None,
            )
        for k, d in enumerate(c):
            nxt = c[(k + 1) % len(c)]
            if d[1] != nxt[0]:
                raise fail(
                    f"Your cycle {_cycle_text(c)} does not close up.",
                    f"Link {k + 1} ends at {d[1]} but the next link starts at {nxt[0]}.",
                    None,
                    _cycle_locks(c),
                )
            if (d[0], d[1]) not in paths:
                raise fail(
                    f"Your cycle {_cycle_text(c)} uses a dependency the trace does not contain.",
                    f"No thread ever held {d[0]} while acquiring {d[1]}.",
                    None,
                    _cycle_locks(c),
                )
            if (d[2], d[3], d[4]) not in paths[(d[0], d[1])]:
                raise fail(
                    f"In your cycle {_cycle_text(c)}, a code path does not create its dependency.",
                    f"{d[2]} never held {d[0]} (taken at {d[3]}) while acquiring {d[1]} at {d[4]}.",
                    None,
                    _cycle_locks(c),
                )
        locks = [d[0] for d in c]
        if len(set(locks)) != len(locks):
            raise fail(
                f"Your cycle {_cycle_text(c)} visits a lock twice.",
                "Report elementary cycles: each lock at most once per cycle (a longer loop is several cycles).",
                None,
                _cycle_locks(c),
            )
    mine = [_cycle_locks(c) for c in got]
    missing = sorted(real - set(mine))
    if missing:
        c = missing[0]
        steps = [(c[k], c[(k + 1) % len(c)]) for k in range(len(c))]
        links = "; ".join(f"{a} → {b} ({first[(a, b)][0]} at {first[(a, b)][2]})" for a, b in steps)
        raise fail(
            f"You miss the potential deadlock {arrow(c, str)}.",
            f"The trace creates every link of it: {links}.",
            c,
            None,
        )
    dup = next((c for c in mine if mine.count(c) > 1), None)
    if dup:
        raise fail(
            "Report each cycle once (rotations are the same cycle).",
            f"{arrow(dup, str)} appears {mine.count(dup)} times.",
            None,
            dup,
        )


# ============================================================================= dining philosophers

dining = sibling(__file__, "dining")
PREVENTED = [(2, 2), (3, 1)]  # (philosophers, meals) of each prevented version's scenarios


def _scenarios(variant: str) -> list[Data]:
    return [dining.scenario(variant, n, meals) for n, meals in PREVENTED]


dining_naive_deadlocks = dining.deadlocks("The naive dining philosophers", dining.naive_scenario())
dining_all_at_once = dining.prevented("Both forks at once", _scenarios("all_at_once"))
dining_release_retry = dining.prevented("Release and retry", _scenarios("release_retry"))
dining_ordered = dining.prevented("Forks in a global order", _scenarios("ordered"))
dining_own_lock_order = dining.own_lock_order("Your lock-order checker", lockdep_every_cycle)
