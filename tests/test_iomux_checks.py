"""iomux checks that need no reference (invariants), the scenario builder, and the echo world."""

from __future__ import annotations

import copy
import zlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from test_iomux_kernel import REF, load

from grader.simos.iomux import EPOLLET, EPOLLIN, checks, run
from grader.simos.iomux.echo import ClientSpec, replay, run_world
from grader.simos.iomux.gen import PROFILES, build
from grader.simos.iomux.scenario import validate

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assignments" / "iomux" / "samples"
choices = st.lists(st.tuples(*(st.integers(0, 255) for _ in range(5))), min_size=5, max_size=30)


def sample(name: str):  # type: ignore[no-untyped-def]
    return load(SAMPLES / name / "mux.py", f"iomux_sample_{name}")


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(sorted(PROFILES)), choices)
def test_the_reference_keeps_every_invariant(profile: str, cs: list[tuple[int, ...]]) -> None:
    ops = build(cs, profile)  # type: ignore[arg-type]
    validate(ops)
    assert checks.check(ops, run(REF, ops).results) == []


def test_builder_is_deterministic_and_zero_means_no_operation() -> None:
    cs = [(7, 1, 2, 3, 4), (40, 9, 9, 9, 9), (90, 1, 0, 5, 5)] * 4
    assert build(cs, "mixed") == build(cs, "mixed")
    assert build([(0, 5, 5, 5, 5)] * 10, "mixed") == []


ET_TWICE = [
    {"op": "pipe"},
    {"op": "write", "fd": 4, "n": 1},
    {"op": "epoll_create"},
    {"op": "epoll_ctl", "epfd": 5, "ctl": "ADD", "fd": 3, "events": EPOLLIN | EPOLLET},
    {"op": "epoll_wait", "epfd": 5, "max": 8},
    {"op": "epoll_wait", "epfd": 5, "max": 8},
    {"op": "write", "fd": 4, "n": 1},
    {"op": "epoll_wait", "epfd": 5, "max": 8},
]


def test_edge_triggered_invariant_catches_a_report_without_a_wake_up() -> None:
    assert checks.check(ET_TWICE, run(REF, ET_TWICE).results) == []
    found = checks.check(ET_TWICE, run(sample("et_reports_every_wait"), ET_TWICE).results)
    assert [(v.index, v.rule) for v in found] == [(5, "edge")]
    assert "nothing woke it" in found[0].message


def test_level_triggered_invariant_catches_a_dropped_ready_descriptor() -> None:
    lt = [dict(op) for op in ET_TWICE]
    lt[3] = {**lt[3], "events": EPOLLIN}
    found = checks.check(lt, run(sample("lt_drops_undrained"), lt).results)
    assert found and found[0].rule == "level" and found[0].index == 5
    assert "fd 3, which is ready (IN)" in found[0].message


def test_readiness_invariant_catches_a_missing_hup() -> None:
    ops = [
        {"op": "pipe"},
        {"op": "epoll_create"},
        {"op": "epoll_ctl", "epfd": 5, "ctl": "ADD", "fd": 3, "events": EPOLLIN},
        {"op": "close", "fd": 4},
        {"op": "epoll_wait", "epfd": 5, "max": 8},
    ]
    assert run(REF, ops).results[-1] == [[3, 0x10]]
    got = run(sample("hup_not_reported"), ops).results
    found = checks.check(ops, got)
    assert found and found[0].rule in ("level", "ready")


def test_select_and_poll_must_agree() -> None:
    ops = [
        {"op": "pipe"},
        {"op": "select", "r": [3], "w": [4], "x": []},
        {"op": "poll", "fds": [[3, 7], [4, 7]]},
    ]
    good = run(REF, ops).results
    assert checks.check(ops, good) == []
    lying = copy.deepcopy(good)
    lying[1] = [[3], [4], []]  # select says 3 is readable, poll says not
    rules = {v.rule for v in checks.check(ops, lying)}
    assert rules == {"select-poll", "truth"}


# ----------------------------------------------------------------------------- echo

clients = st.lists(
    st.builds(
        ClientSpec,
        kind=st.sampled_from(["normal", "half_close", "abort", "reset"]),
        messages=st.lists(st.integers(1, 9000), min_size=1, max_size=3).map(tuple),
        wait_echo=st.booleans(),
        slow=st.booleans(),
        start=st.integers(0, 4),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=25, deadline=None)
@given(clients, st.lists(st.integers(0, 99), max_size=30))
def test_the_reference_server_echoes_everything(cs: list[ClientSpec], schedule: list[int]) -> None:
    v = replay(cs, schedule, run_world(REF, cs, schedule))
    assert v.stop == "done" and v.problem is None and not v.leaked
    assert v.blocked_with_work is None and v.starved is None and v.not_edge_triggered is None
    for spec, c in zip(cs, v.clients, strict=True):
        assert c["done"] and c["in_order"]
        if spec.kind not in ("abort", "reset"):
            assert c["received"] == c["sent"] == sum(spec.messages)


def test_one_read_per_event_blocks_with_work_pending() -> None:
    cs = [ClientSpec(messages=(5000,), slow=True)]  # a slow reader: no OUT edge comes in time
    v = replay(cs, [], run_world(sample("echo_one_read"), cs, []))
    assert v.blocked_with_work and "904 unread bytes" in v.blocked_with_work


def test_replay_catches_a_forged_record() -> None:
    cs = [ClientSpec(messages=(300,))]
    trace = run_world(REF, cs, [])
    assert replay(cs, [], trace).problem is None
    reads = [i for i, e in enumerate(trace) if e[0] == "read" and e[-1] == 300]
    writes = [i for i, e in enumerate(trace) if e[0] == "write"]
    forged = copy.deepcopy(trace)
    forged[reads[0]][-1] = 299
    assert "is not what happened" in (replay(cs, [], forged).problem or "")
    forged = copy.deepcopy(trace)
    forged[writes[0]][3] = zlib.crc32(b"x" * 300)
    assert "not the next bytes" in (replay(cs, [], forged).problem or "")
    assert "does not say how" in (replay(cs, [], trace[:-1]).problem or "")
    assert "malformed" in (replay(cs, [], [["read"], *trace]).problem or "")


def test_every_hidden_property_can_draw_its_inputs() -> None:
    """A strategy that fails to draw would make a test fail for everybody (a grader error)."""
    from hypothesis import HealthCheck
    from hypothesis import given as given_

    from grader.engine.props import property_spec

    props = load(ROOT / "assignments" / "iomux" / "properties.py", "iomux_properties_for_tests")
    specs = [s for obj in vars(props).values() if (s := property_spec(obj)) is not None]
    assert len(specs) == 18
    for spec in specs:

        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        @given_(**spec.strategies)
        def draw(**inputs: object) -> None:
            ops = inputs.get("ops")
            if ops is not None:
                validate(ops)

        draw()
