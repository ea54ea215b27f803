"""Hidden properties of the I/O-multiplexing assignment (instructors only).

Three kinds: differential (every result of a generated scenario equals the reference's),
invariants (rules of Linux checked on the submission's results against the kernel's own
state, independent of the reference: grader/simos/iomux/checks.py), and the echo server
(the grader replays the server's record and judges the bytes, the blocking, the fairness).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from grader.engine.props import Context, Failure, prop, sibling
from grader.engine.results import (
    Counterexample,
    PlotPicture,
    PlotSeries,
    TableCell,
    TablePicture,
)
from grader.simos.iomux import checks, scenario
from grader.simos.iomux.echo import ClientSpec, Verdict, replay
from grader.simos.iomux.events import (
    EPOLLET,
    EPOLLIN,
    EPOLLONESHOT,
    EPOLLOUT,
    EPOLLRDHUP,
    event_names,
    parse_events,
)
from grader.simos.iomux.gen import PROFILES, Builder, build
from grader.simos.iomux.scenario import Op, Result, op_text, result_text
from grader.simos.iomux.world import NO_ECHO

# The words and pictures, shared with the student kit ([kit] explain in assignment.toml).
explain = sibling(__file__, "explain")
RUN, Outcome, parse_reply = explain.RUN, explain.Outcome, explain.parse_reply
table, compare, _result_ok = explain.table, explain.compare, explain._result_ok
COST_FIELDS = explain.COST_FIELDS
RUN_MANY = "grader.simos.iomux.harness:run_many"
ECHO = "grader.simos.iomux.harness:echo"

# ----------------------------------------------------------------------------- inputs


def _five(b: bytes) -> tuple[int, int, int, int, int]:
    return (b[0], b[1], b[2], b[3], b[4])


# One draw per operation (five bytes) keeps Hypothesis fast; shrinking a byte string moves
# it towards zeros, and a first byte of 0 is no operation.
_choice = st.binary(min_size=5, max_size=5).map(_five)


def scenarios(profile: str, max_ops: int = 40) -> st.SearchStrategy[list[Op]]:
    """Scenarios of one profile (grader/simos/iomux/gen.py), built from shrinkable choices.

    At least 12 choices, so that a scenario has room to set something up and then look
    at it twice; a choice of 0 is no operation, so shrinking still reaches short scenarios.
    """
    return st.lists(_choice, min_size=12, max_size=max_ops).map(lambda cs: build(cs, profile))


@st.composite
def reuse_scenarios(draw: st.DrawFn) -> list[Op]:
    """Registrations whose fd is dup'ed, closed and reused: the (open file, fd) key at work."""
    b = Builder(PROFILES["close"])
    fds = b.k.fds
    for _ in range(draw(st.integers(1, 3))):
        b.apply({"op": draw(st.sampled_from(["pipe", "socketpair"]))})
    b.apply({"op": "epoll_create"})
    epfd = max(fds())
    files = [fd for fd in fds() if fd >= 3 and fd != epfd]
    events = st.sampled_from([EPOLLIN, EPOLLIN | EPOLLET, EPOLLOUT, EPOLLIN | EPOLLONESHOT])
    ctl = st.sampled_from(["ADD", "ADD", "MOD", "DEL"])
    watched = draw(st.lists(st.sampled_from(files), min_size=1, max_size=3, unique=True))
    for fd in watched:
        b.apply({"op": "epoll_ctl", "epfd": epfd, "ctl": "ADD", "fd": fd, "events": draw(events)})
    dups = draw(st.lists(st.sampled_from(watched), max_size=2, unique=True))
    for fd in dups:
        b.apply({"op": "dup", "fd": fd})
    closed = draw(st.lists(st.sampled_from(watched), min_size=1, max_size=2, unique=True))
    for fd in closed:
        b.apply({"op": "close", "fd": fd})
    b.apply({"op": draw(st.sampled_from(["pipe", "socketpair"]))})  # reuses the closed numbers
    for fd in closed:
        for _ in range(draw(st.integers(1, 2))):
            b.apply(
                {
                    "op": "epoll_ctl",
                    "epfd": epfd,
                    "ctl": draw(ctl),
                    "fd": fd,
                    "events": draw(events),
                }
            )
    for _ in range(draw(st.integers(0, 6))):
        live = [fd for fd in fds() if fd >= 3 and fd != epfd]
        kind = draw(st.sampled_from(["write", "write", "wait", "close", "read", "ctl"]))
        if not live:
            kind = "wait"
        if kind == "ctl":
            fd = draw(st.sampled_from(live))
            b.apply(
                {
                    "op": "epoll_ctl",
                    "epfd": epfd,
                    "ctl": draw(ctl),
                    "fd": fd,
                    "events": draw(events),
                }
            )
        elif kind == "write":
            b.apply(
                {
                    "op": "write",
                    "fd": draw(st.sampled_from(live)),
                    "n": draw(st.sampled_from([1, 100])),
                }
            )
        elif kind == "read":
            b.apply({"op": "read", "fd": draw(st.sampled_from(live)), "n": 100})
        elif kind == "close":
            b.apply({"op": "close", "fd": draw(st.sampled_from(live))})
        else:
            b.apply({"op": "epoll_wait", "epfd": epfd, "max": draw(st.sampled_from([1, 8]))})
    b.apply({"op": "epoll_wait", "epfd": epfd, "max": 8})
    return b.ops


@st.composite
def epoll_scenarios(draw: st.DrawFn, modes: tuple[int, ...]) -> list[Op]:
    """A few registrations in one epoll, then writes, reads, waits, MODs, DELs and closes on
    them and their peers: where the ready list's order, re-arming and wake keys show."""
    b = Builder(PROFILES["order"])
    for kind in draw(st.lists(st.sampled_from(["pipe", "socketpair"]), min_size=1, max_size=3)):
        b.apply({"op": kind})
    b.apply({"op": "epoll_create"})
    epfd = max(b.k.fds())

    def files() -> list[int]:
        return [fd for fd in b.k.fds() if fd >= 3 and fd != epfd]

    def events(fd: int) -> int:
        f = b.k.file_at(fd)
        base = (
            draw(st.sampled_from([EPOLLIN, EPOLLOUT, EPOLLIN | EPOLLOUT, EPOLLIN | EPOLLRDHUP]))
            if f is not None and f.kind == "socket"
            else EPOLLIN
            if f is not None and f.readable
            else EPOLLOUT
        )
        return base | draw(st.sampled_from(modes))

    def ctl(name: str, fd: int) -> None:
        op: Op = {"op": "epoll_ctl", "epfd": epfd, "ctl": name, "fd": fd, "events": events(fd)}
        if draw(st.integers(0, 4)) == 0:
            op["data"] = draw(st.integers(100, 103))
        b.apply(op)

    watched = draw(st.lists(st.sampled_from(files()), min_size=1, max_size=4, unique=True))
    for fd in watched:
        ctl("ADD", fd)
    sizes = st.sampled_from([1, 100, 4096, 5000])
    for _ in range(draw(st.integers(3, 14))):
        live = files()
        near = [p for w in watched for p in b.partners(w) if p in live] or live
        if not live:
            break
        what = draw(
            st.sampled_from(
                ["write", "write", "read", "wait", "wait", "mod", "del", "add", "close"]
            )
        )
        if what == "write":
            b.apply({"op": "write", "fd": draw(st.sampled_from(near)), "n": draw(sizes)})
        elif what == "read":
            b.apply({"op": "read", "fd": draw(st.sampled_from(live)), "n": draw(sizes)})
        elif what in ("mod", "del", "add"):
            ctl({"mod": "MOD", "del": "DEL", "add": "ADD"}[what], draw(st.sampled_from(live)))
        elif what == "close" and len(near) > 1:
            b.apply({"op": "close", "fd": draw(st.sampled_from(near))})
        else:
            b.apply({"op": "epoll_wait", "epfd": epfd, "max": draw(st.sampled_from([1, 2, 3, 8]))})
    b.apply({"op": "epoll_wait", "epfd": epfd, "max": draw(st.sampled_from([1, 8]))})
    b.apply({"op": "epoll_wait", "epfd": epfd, "max": 8})
    return b.ops


@st.composite
def ctl_errors(draw: st.DrawFn) -> list[Op]:
    """Every error of epoll_ctl, in Linux's order, on a small fixed stage."""
    ops: list[Op] = [{"op": "pipe"}, {"op": "null"}, {"op": "epoll_create"}]  # 3, 4; 5; 6
    files = [3, 4, 5]
    epfd = 6
    wrong = st.sampled_from([epfd, epfd, 3, 9])  # the epoll, a pipe end, a closed number
    target = st.sampled_from([*files, epfd, 8])
    ctl = st.sampled_from(["ADD", "ADD", "MOD", "DEL", 0, 4, 7])
    events = st.sampled_from([EPOLLIN, EPOLLOUT, EPOLLIN | EPOLLET, EPOLLIN | EPOLLONESHOT])
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.integers(0, 9)) == 0:
            ops.append(
                {"op": draw(st.sampled_from(["close", "dup"])), "fd": draw(st.sampled_from(files))}
            )
        ops.append(
            {
                "op": "epoll_ctl",
                "epfd": draw(wrong),
                "ctl": draw(ctl),
                "fd": draw(target),
                "events": draw(events),
            }
        )
    ops.append({"op": "write", "fd": 4, "n": 1})
    ops.append({"op": "epoll_wait", "epfd": epfd, "max": 8})
    return ops


def select_errors() -> st.SearchStrategy[list[Op]]:
    """Select on closed descriptors, nfds above FD_SETSIZE, descriptors >= FD_SETSIZE."""

    @st.composite
    def make(draw: st.DrawFn) -> list[Op]:
        ops: list[Op] = [{"op": "pipe"} for _ in range(draw(st.integers(1, 3)))]
        top = 2 + 2 * len(ops)
        for fd in draw(st.lists(st.integers(3, top), max_size=2, unique=True)):
            ops.append({"op": "close", "fd": fd})
        ops.append({"op": "write", "fd": 4, "n": draw(st.sampled_from([0, 1, 100]))})
        for _ in range(draw(st.integers(1, 4))):
            fds = st.lists(st.integers(3, top + 2), max_size=3, unique=True)
            op: Op = {"op": "select", "r": draw(fds), "w": draw(fds), "x": draw(fds)}
            kind = draw(st.sampled_from(["plain", "plain", "nfds", "big", "huge"]))
            highest = max([*op["r"], *op["w"], *op["x"]], default=-1)
            if kind == "nfds":
                op["nfds"] = draw(st.integers(highest + 1, 1024))
            elif kind == "big":
                op["nfds"] = draw(st.sampled_from([1025, 2000, 4096]))
            elif kind == "huge":
                op["r"] = [*op["r"], draw(st.sampled_from([1024, 1500]))]
            ops.append(op)
        return ops

    return make()


@st.composite
def cost_layouts(draw: st.DrawFn, call: str) -> list[Op]:
    """Pipes, maybe a read end pushed to a high number, a few ready; then ``call`` on them."""
    n = draw(st.integers(1, 20))
    ops: list[Op] = [{"op": "pipe"} for _ in range(n)]
    reads = [3 + 2 * i for i in range(n)]
    high = draw(st.sampled_from([0, 0, 30, 200, 900]))
    if high:
        first = 3 + 2 * n
        ops += [{"op": "dup", "fd": 3} for _ in range(high)]
        ops += [{"op": "close", "fd": fd} for fd in range(first, first + high - 1)]
        reads.append(first + high - 1)
    for fd in draw(st.lists(st.sampled_from(reads[:n]), max_size=3, unique=True)):
        ops.append({"op": "write", "fd": fd + 1, "n": 1})
    watched = draw(st.lists(st.sampled_from(reads), min_size=1, unique=True))
    if call == "select":
        writes = draw(
            st.lists(st.sampled_from([r + 1 for r in reads[:n]]), max_size=2, unique=True)
        )
        ops.append({"op": "select", "r": watched, "w": writes, "x": []})
        ops.append({"op": "select", "r": [], "w": [], "x": watched})
    elif call == "poll":
        ops.append({"op": "poll", "fds": [[fd, EPOLLIN] for fd in watched]})
        ops.append({"op": "poll", "fds": [[fd, 0] for fd in watched] + [[3 + 2 * n + 1, 0]]})
    else:
        epfd = 3 + 2 * n  # the lowest free number: the first hole left by the closes, if any
        ops.append({"op": "epoll_create"})
        mode = draw(st.sampled_from([0, EPOLLET]))
        for fd in watched:
            ops.append(
                {"op": "epoll_ctl", "epfd": epfd, "ctl": "ADD", "fd": fd, "events": EPOLLIN | mode}
            )
        ops.append({"op": "epoll_wait", "epfd": epfd, "max": 64})
        ops.append({"op": "epoll_wait", "epfd": epfd, "max": draw(st.sampled_from([1, 64]))})
        if draw(st.booleans()):
            ops.append({"op": "read", "fd": watched[0], "n": 10})
            ops.append(
                {"op": "epoll_ctl", "epfd": epfd, "ctl": "MOD", "fd": watched[0], "events": EPOLLIN}
            )
            ops.append(
                {"op": "epoll_ctl", "epfd": epfd, "ctl": "DEL", "fd": watched[-1], "events": 0}
            )
            ops.append({"op": "epoll_wait", "epfd": epfd, "max": 64})
    return ops


SIZES = (
    st.sampled_from([1, 100, 1000, 4095, 4096, 4097, 5000, 9000, 20000])
    | st.integers(1, 30000)
    | st.sampled_from([150_000, 300_000])  # enough to fill a socket: writes hit EAGAIN
)
clients = st.lists(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["normal", "half_close", "abort", "reset"]),
            "messages": st.lists(SIZES, min_size=1, max_size=3),
            "wait_echo": st.booleans(),
            "slow": st.booleans(),
            "start": st.integers(0, 6),
        }
    ),
    min_size=1,
    max_size=5,
)
schedules = st.lists(st.integers(0, 99), max_size=60)

# ----------------------------------------------------------------------------- running


def _events_code(mask: int, used: set[str]) -> str:
    """``EPOLLIN | EPOLLET`` for a mask, noting the names the snippet must import."""
    names = [n for n in event_names(mask).split("|") if n != "0" and not n.startswith("0x")]
    rest = mask & ~parse_events("|".join(names)) if names else mask
    used.update(f"EPOLL{n}" for n in names)
    return " | ".join([f"EPOLL{n}" for n in names] + ([hex(rest)] if rest else [])) or "0"


def _op_code(op: Op, used: set[str]) -> str:
    parts = []
    for key, value in op.items():
        if key == "events":
            code = _events_code(value, used)
        elif key == "fds":
            code = "[" + ", ".join(f"[{fd}, {_events_code(ev, used)}]" for fd, ev in value) + "]"
        else:
            code = repr(value)
        parts.append(f"{key!r}: {code}")
    return "{" + ", ".join(parts) + "}"


def snippet(ops: list[Op]) -> str:
    """Python a student can paste next to mux.py to replay the scenario."""
    used: set[str] = set()
    body = [f"    {_op_code(op, used)}," for op in ops]
    names = ", ".join([*sorted(used), "op_text", "result_text", "run"])
    lines = [f"from grader.simos.iomux import {names}", "import mux", "", "ops = [", *body]
    lines += [
        "]",
        "for i, (op, result) in enumerate(zip(ops, run(mux, ops).results), 1):",
        "    print(i, op_text(op), '->', result_text(op, result))",
    ]
    return "\n".join(lines)


def describe(inputs: dict[str, Any]) -> Counterexample:
    return Counterexample(inputs=inputs, snippet=snippet(inputs["ops"]))


def student_run(ctx: Context, ops: list[Op], *, costs: bool = False) -> Outcome:
    return parse_reply(ops, ctx.call(RUN, {"ops": ops, "costs": costs}))


def reference_run(ctx: Context, ops: list[Op], *, costs: bool = False) -> Outcome:
    run = scenario.run(ctx.reference, ops, costs=costs)
    return Outcome(run.results, [c.to_data() if c else None for c in run.costs])


def differential(
    profile: str, what: str, extra: st.SearchStrategy[list[Op]] | None = None
) -> Callable[..., None]:
    inputs = scenarios(profile) if extra is None else scenarios(profile) | extra

    @prop(describe=describe, ops=inputs)
    def check(ctx: Context, ops: list[Op]) -> None:
        expected = reference_run(ctx, ops).results
        actual = student_run(ctx, ops).results
        compare(ops, expected, actual, what)

    return check


select_matches_reference = differential("select", "select")
poll_matches_reference = differential("poll", "poll")
ctl_matches_reference = differential("ctl", "epoll_ctl", ctl_errors())
lt_matches_reference = differential("lt", "Level-triggered epoll", epoll_scenarios((0,)))
et_matches_reference = differential("et", "Edge-triggered epoll", epoll_scenarios((EPOLLET,)))
oneshot_matches_reference = differential(
    "oneshot",
    "EPOLLONESHOT",
    epoll_scenarios((EPOLLONESHOT, EPOLLONESHOT | EPOLLET, EPOLLONESHOT, 0)),
)
order_matches_reference = differential(
    "order", "The ready list's order", epoll_scenarios((0, EPOLLET, EPOLLONESHOT))
)
close_matches_reference = differential("close", "Closing and dup", reuse_scenarios())


@prop(describe=describe, ops=select_errors())
def select_errors_match(ctx: Context, ops: list[Op]) -> None:
    expected = reference_run(ctx, ops).results
    actual = student_run(ctx, ops).results
    compare(ops, expected, actual, "select's errors")


# ----------------------------------------------------------------------------- invariants


def invariant(profile: str, rules: set[str], headline: str) -> Callable[..., None]:
    @prop(describe=describe, ops=scenarios(profile))
    def check(ctx: Context, ops: list[Op]) -> None:
        actual = student_run(ctx, ops).results
        found = checks.check(ops, actual, rules)
        if found:
            v = found[0]
            raise Failure(
                f"{headline} Operation {v.index + 1}: {v.message}.",
                actual=result_text(ops[v.index], actual[v.index]),
                divergence=f"Operation {v.index + 1}: {op_text(ops[v.index])}",
                picture=_own_table(ops, actual, v.index),
            )

    return check


def _own_table(ops: list[Op], actual: list[Result], mark: int) -> TablePicture:
    rows = [
        [
            TableCell(text=str(i + 1), tone="muted"),
            TableCell(text=op_text(op)),
            TableCell(text=result_text(op, actual[i]), tone="bad" if i == mark else "plain"),
        ]
        for i, op in enumerate(ops)
    ]
    return TablePicture(
        title="Your results (the rule breaks at the marked operation)",
        columns=["#", "operation", "yours"],
        rows=rows,
        mark_row=mark,
        caption="Checked against the kernel's own state, not against a reference solution.",
    )


select_poll_agree = invariant(
    "pairs", {"select-poll", "truth"}, "select and poll must tell the kernel's state, and agree."
)
lt_invariant = invariant(
    "lt", {"ready", "level"}, "Level-triggered epoll must report exactly what is ready."
)
et_invariant = invariant(
    "et", {"ready", "edge"}, "Edge-triggered epoll must report only after a wake-up."
)

# ----------------------------------------------------------------------------- the cost model

SWEEP = (1, 16, 32, 48, 64, 80, 96, 112, 128)


def sweep_scenario(n: int) -> list[Op]:
    """n pipes, the last one ready; select, poll and epoll_wait over the n read ends."""
    ops: list[Op] = [{"op": "pipe"} for _ in range(n)]
    reads = [3 + 2 * i for i in range(n)]
    epfd = 3 + 2 * n
    ops.append({"op": "write", "fd": reads[-1] + 1, "n": 1})
    ops.append({"op": "select", "r": reads, "w": [], "x": []})
    ops.append({"op": "poll", "fds": [[fd, EPOLLIN] for fd in reads]})
    ops.append({"op": "epoll_create"})
    ops += [
        {"op": "epoll_ctl", "epfd": epfd, "ctl": "ADD", "fd": fd, "events": EPOLLIN | EPOLLET}
        for fd in reads
    ]
    ops.append({"op": "epoll_wait", "epfd": epfd, "max": 64})
    return ops


def _sweep_costs(runs: list[Outcome]) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {"select": [], "poll": [], "epoll_wait": []}
    for n, run in zip(SWEEP, runs, strict=False):
        for c in run.costs:
            if c is not None and c["call"] in out:
                out[c["call"]].append((float(n), float(c["scanned"])))
    return out


def cost_plot(ctx: Context) -> PlotPicture | None:
    """Yours against the reference over SWEEP (computed once per grading run)."""
    if not hasattr(ctx, "_iomux_cost_plot"):
        ctx._iomux_cost_plot = _cost_plot(ctx)  # type: ignore[attr-defined]
    return ctx._iomux_cost_plot  # type: ignore[attr-defined,no-any-return]


def _cost_plot(ctx: Context) -> PlotPicture | None:
    scens = [sweep_scenario(n) for n in SWEEP]
    try:
        data = ctx.call(RUN_MANY, {"scenarios": scens, "costs": True})
        runs = [Outcome(r["results"], r["costs"]) for r in data["runs"]]
        yours = _sweep_costs(runs)
    except Exception:
        return None  # the plot is a help; the failure stands without it
    ref = _sweep_costs([reference_run(ctx, s, costs=True) for s in scens])
    series = []
    for colour, call in enumerate(("select", "poll", "epoll_wait")):
        series.append(
            PlotSeries(label=f"{call} (Linux)", points=ref[call], colour=colour, dashed=True)
        )
        series.append(PlotSeries(label=f"{call} (yours)", points=yours[call], colour=colour))
    return PlotPicture(
        title="Descriptors examined per call, one ready among n watched",
        x_label="watched descriptors n",
        y_label="descriptors examined",
        series=series,
        caption="n pipes; select and poll watch the n read ends (select's nfds is the highest "
        "descriptor + 1, about 2n + 3), epoll_wait has them all registered. Dashed: what Linux "
        "does; solid: your code. Only epoll's cost stays flat.",
    )


def _cost_failure(
    ctx: Context, ops: list[Op], i: int, message: str, got: Any, want: Any
) -> Failure:
    return Failure(
        message,
        expected=", ".join(f"{k}={want[k]}" for k in want),
        actual=", ".join(f"{k}={got[k]}" for k in want),
        divergence=f"Operation {i + 1}: {op_text(ops[i])}",
        picture=cost_plot(ctx),
    )


@prop(describe=describe, ops=cost_layouts("select"))
def select_cost_follows_nfds(ctx: Context, ops: list[Op]) -> None:
    run = student_run(ctx, ops, costs=True)
    compare(ops, reference_run(ctx, ops).results, run.results, "select and poll")
    for i, op in enumerate(ops):
        if op["op"] != "select" or type(run.results[i]) is dict:
            continue
        want = checks.select_cost(op)
        got = run.costs[i] or {}
        if any(got.get(k) != want[k] for k in ("scanned", "polls")):
            nfds = op.get("nfds", max([*op["r"], *op["w"], *op["x"]], default=-1) + 1)
            raise _cost_failure(
                ctx,
                ops,
                i,
                f"{op_text(op)} has nfds = {nfds}: Linux's select examines every descriptor "
                f"0 .. nfds-1 ({want['scanned']}) and polls each one named in a set "
                f"({want['polls']}); yours examined {got.get('scanned')} and polled "
                f"{got.get('polls')}.",
                got,
                {k: want[k] for k in ("scanned", "polls")},
            )


@prop(describe=describe, ops=cost_layouts("poll"))
def poll_cost_follows_array(ctx: Context, ops: list[Op]) -> None:
    run = student_run(ctx, ops, costs=True)
    compare(ops, reference_run(ctx, ops).results, run.results, "select and poll")
    opened = checks.open_fds_before(ops)
    for i, op in enumerate(ops):
        if op["op"] != "poll" or type(run.results[i]) is dict:
            continue
        want = checks.poll_cost(op, opened[i])
        got = run.costs[i] or {}
        if got.get("polls") != want["polls"]:
            raise _cost_failure(
                ctx,
                ops,
                i,
                f"{op_text(op)}: poll polls every open descriptor of its array once "
                f"({want['polls']} here); yours polled {got.get('polls')}.",
                got,
                {"polls": want["polls"]},
            )


@prop(
    describe=describe,
    ops=cost_layouts("epoll") | scenarios("order") | epoll_scenarios((EPOLLONESHOT, 0, EPOLLET)),
)
def epoll_cost_follows_ready_list(ctx: Context, ops: list[Op]) -> None:
    run = student_run(ctx, ops, costs=True)
    ref = reference_run(ctx, ops, costs=True)
    compare(ops, ref.results, run.results, "epoll")
    for i, op in enumerate(ops):
        if op["op"] not in ("epoll_wait", "epoll_ctl") or type(run.results[i]) is dict:
            continue
        want, got = ref.costs[i] or {}, run.costs[i] or {}
        fields = ("polls", "waitq")
        if any(got.get(k) != want.get(k) for k in fields):
            if op["op"] == "epoll_wait":
                why = (
                    "epoll_wait polls only the items on its ready list (each once), not every "
                    "registered descriptor"
                )
            else:
                why = (
                    "EPOLL_CTL_ADD hooks the file's wait queue once and polls it once; MOD polls "
                    "once; DEL unhooks once"
                )
            raise _cost_failure(
                ctx,
                ops,
                i,
                f"{op_text(op)}: {why}. Linux: {', '.join(f'{k}={want.get(k)}' for k in fields)}; "
                f"yours: {', '.join(f'{k}={got.get(k)}' for k in fields)}.",
                got,
                {k: want.get(k) for k in fields},
            )


# ----------------------------------------------------------------------------- the echo server


def echo_snippet(inputs: dict[str, Any]) -> str:
    return "\n".join(
        [
            "from grader.simos.iomux.echo import ClientSpec, replay, run_world",
            "import mux",
            "",
            f"clients = [ClientSpec.from_data(c) for c in {inputs['clients']!r}]",
            f"schedule = {inputs['schedule']!r}",
            "verdict = replay(clients, schedule, run_world(mux, clients, schedule))",
            "print(verdict)",
        ]
    )


def echo_describe(inputs: dict[str, Any]) -> Counterexample:
    return Counterexample(inputs=inputs, snippet=echo_snippet(inputs))


def echo_verdict(ctx: Context, data: list[dict[str, Any]], schedule: list[int]) -> Verdict:
    specs = [ClientSpec.from_data(c) for c in data]
    reply = ctx.call(ECHO, {"clients": data, "schedule": schedule})
    trace = reply.get("trace") if type(reply) is dict else None
    if type(trace) is not list:
        raise Failure("The worker returned a malformed echo record.")
    return replay(specs, schedule, trace)


def clients_table(data: list[dict[str, Any]], v: Verdict, bad: int | None) -> TablePicture:
    rows = []
    for spec, c in zip(data, v.clients, strict=False):
        total = sum(spec["messages"])
        want = 0 if spec["kind"] in NO_ECHO else total
        ok = c["received"] >= want and c["in_order"]
        state = "done" if c["done"] else ("connected" if c["connected"] else "never connected")
        rows.append(
            [
                TableCell(text=str(c["client"]), tone="muted"),
                TableCell(
                    text=", ".join(
                        [spec["kind"]]
                        + (["waits for echoes"] if spec["wait_echo"] else [])
                        + (["slow reader"] if spec["slow"] else [])
                        + ([f"connects after {spec['start']} steps"] if spec["start"] else [])
                    )
                ),
                TableCell(text=" + ".join(map(str, spec["messages"]))),
                TableCell(text=str(c["sent"])),
                TableCell(text=str(c["received"]), tone="good" if ok else "bad"),
                TableCell(text=state),
            ]
        )
    return TablePicture(
        title="The clients at the end",
        columns=["client", "kind", "messages (bytes)", "sent", "echoed back", "state"],
        rows=rows,
        mark_row=bad,
        caption=f"The world stopped: {STOPS.get(v.stop, v.stop)}. An abort client closes "
        "right after sending, a reset client as soon as an echo arrives: they need no echo.",
    )


STOPS = {
    "done": "every client was done and the server had closed every connection",
    "stuck": "nothing could happen any more (every client waits for the server, which waits "
    "in epoll_wait)",
    "budget": "the server made too many system calls",
    "returned": "serve() returned",
}


@prop(describe=echo_describe, clients=clients, schedule=schedules)
def echo_complete(ctx: Context, clients: list[dict[str, Any]], schedule: list[int]) -> None:
    v = echo_verdict(ctx, clients, schedule)
    message = v.problem or v.not_edge_triggered
    bad = None
    if message is None:
        for i, (spec, c) in enumerate(zip(clients, v.clients, strict=False)):
            want = 0 if spec["kind"] in NO_ECHO else sum(spec["messages"])
            if not c["in_order"]:
                message, bad = f"Client {i} got its bytes back out of order or altered", i
            elif c["received"] < want:
                message, bad = (
                    f"Client {i} sent {c['sent']} bytes but got only {c['received']} back before "
                    f"the world stopped ({STOPS.get(v.stop, v.stop)})",
                    i,
                )
            if message:
                break
    if message is None and v.leaked:
        message = (
            f"Your server never closed fd {v.leaked[0]} after its client was gone "
            "(read returns 0 at end of file: close the connection then)"
        )
    if message is None and v.stop != "done":
        message = f"The echo run did not finish properly: {STOPS.get(v.stop, v.stop)}"
    if message:
        raise Failure(
            message + ".",
            actual=STOPS.get(v.stop, v.stop),
            picture=clients_table(clients, v, bad),
        )


@prop(describe=echo_describe, clients=clients, schedule=schedules)
def echo_never_blocks_with_work(
    ctx: Context, clients: list[dict[str, Any]], schedule: list[int]
) -> None:
    v = echo_verdict(ctx, clients, schedule)
    if v.problem is None and v.blocked_with_work:
        raise Failure(
            f"Your server waited with work pending: {v.blocked_with_work}. With EPOLLET an event "
            "comes only when something changes: read until EAGAIN (and accept until EAGAIN) "
            "at every event.",
            picture=clients_table(clients, v, None),
        )


@prop(describe=echo_describe, clients=clients, schedule=schedules)
def echo_no_client_starved(
    ctx: Context, clients: list[dict[str, Any]], schedule: list[int]
) -> None:
    v = echo_verdict(ctx, clients, schedule)
    if v.problem is None and v.starved:
        raise Failure(
            f"A client was starved: {v.starved}.", picture=clients_table(clients, v, None)
        )
