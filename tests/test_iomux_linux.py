"""The simulated kernel with the reference agrees with the real Linux kernel of this machine.

Hundreds of random scenarios (grader/simos/iomux/gen.py profiles, restricted to what the
simulation models exactly) run on both; every result must be equal after translating
descriptor numbers (tests/iomux_linux.py). Runs in this process (trusted), never in the
worker. Skipped, with the reason, on anything but Linux >= 5.14.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from iomux_linux import first_difference, kernel_version, oob_supported, run_linux, usable
from test_iomux_kernel import REF

from grader.simos.iomux import EPOLLET, EPOLLIN, EPOLLOUT, checks, op_text, result_text, run
from grader.simos.iomux.gen import PROFILES, Profile, build, linux_safe

WHY = usable()
pytestmark = pytest.mark.skipif(WHY is not None, reason=WHY or "")
OOB = WHY is None and oob_supported()


def safe(name: str) -> Profile:
    """The profile, with socket writes far from full buffers and positive maxevents only."""
    p = linux_safe(PROFILES[name], oob=OOB)
    return Profile(
        p.name,
        p.weights,
        p.modes,
        p.errors,
        linux_safe=True,
        oob=p.oob,
        max_events=tuple(m for m in p.max_events if m > 0) or (8,),
        pairs=p.pairs,
    )


SAFE = {name: safe(name) for name in sorted(PROFILES)}
_choice = st.binary(min_size=5, max_size=5).map(tuple)


def explain(ops: list[dict[str, object]], sim: list[object], real: list[object]) -> str:
    i = first_difference(sim, real)
    lines = []
    for j, op in enumerate(ops[: (i or 0) + 1]):
        mark = ">>" if j == i else "  "
        lines.append(
            f"{mark} {j + 1:2} {op_text(op)}: simulated {result_text(op, sim[j])}, "
            f"Linux {result_text(op, real[j])}"
        )
    return "\n".join(lines)


@settings(
    max_examples=500,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@given(st.sampled_from(sorted(SAFE)), st.lists(_choice, min_size=8, max_size=48))
def test_random_scenarios_agree_with_linux(profile: str, choices: list[tuple[int, ...]]) -> None:
    ops = build(choices, SAFE[profile])  # type: ignore[arg-type]
    sim = run(REF, ops).results
    real = run_linux(ops)
    assert sim == real, explain(ops, sim, real)
    # The invariants are facts about Linux: its own results keep them.
    assert checks.check(ops, real) == []


@pytest.mark.parametrize(("size", "capacity"), [(3000, 48000), (4097, 45066), (4096, 65536)])
def test_pipe_capacity_is_exact(size: int, capacity: int) -> None:
    ops = [{"op": "pipe"}] + [{"op": "write", "fd": 4, "n": size} for _ in range(70000 // size + 2)]
    ops.append({"op": "poll", "fds": [[4, EPOLLOUT]]})
    sim, real = run(REF, ops).results, run_linux(ops)
    assert sim == real
    assert sum(r for r in sim[1:-1] if type(r) is int) == capacity


def test_a_full_socket_reaches_eagain_in_both_worlds() -> None:
    """Capacity is not modelled byte for byte in general: compare only that EAGAIN comes."""
    ops: list[dict[str, object]] = [{"op": "socketpair"}]
    ops += [{"op": "write", "fd": 3, "n": 7000} for _ in range(60)]
    ops += [
        {"op": "poll", "fds": [[3, EPOLLOUT]]},
        {"op": "epoll_create"},
        {"op": "epoll_ctl", "epfd": 5, "ctl": "ADD", "fd": 3, "events": EPOLLOUT | EPOLLET},
        {"op": "read", "fd": 4, "n": 65536},
        {"op": "epoll_wait", "epfd": 5, "max": 8},
        *({"op": "read", "fd": 4, "n": 65536} for _ in range(3)),
        {"op": "epoll_wait", "epfd": 5, "max": 8},
    ]
    for results in (run(REF, ops).results, run_linux(ops)):
        writes = results[1:61]
        assert {"error": "EAGAIN"} in writes
        assert results[61] == []  # not writable when full
        assert results[65] == []  # a read that leaves it over a quarter full: no OUT yet
        assert results[-1] == [[3, EPOLLOUT]]  # writable again: the peer's reads were edges


def test_descriptors_at_fd_setsize_and_above() -> None:
    """select refuses descriptors >= 1024 before the kernel (ValueError); poll and epoll take them."""
    ops: list[dict[str, object]] = [{"op": "pipe"}, {"op": "write", "fd": 4, "n": 1}]
    ops += [{"op": "dup", "fd": 3} for _ in range(1030)]
    top = 1034
    ops += [
        {"op": "select", "r": [top], "w": [], "x": []},
        {"op": "poll", "fds": [[top, EPOLLIN]]},
        {"op": "epoll_create"},
        {"op": "epoll_ctl", "epfd": top + 1, "ctl": "ADD", "fd": top, "events": EPOLLIN},
        {"op": "epoll_wait", "epfd": top + 1, "max": 4},
    ]
    sim, real = run(REF, ops).results, run_linux(ops)
    assert (
        sim[-5:]
        == real[-5:]
        == [
            {"error": "ValueError"},
            [[top, EPOLLIN]],
            top + 1,
            0,
            [[top, EPOLLIN]],
        ]
    )


@pytest.mark.skipif(kernel_version() < (6, 18), reason="the EBADF-first order was measured on 6.18")
def test_epoll_wait_checks_the_descriptor_before_maxevents() -> None:
    ops = [
        {"op": "epoll_wait", "epfd": 9, "max": 0},
        {"op": "pipe"},
        {"op": "epoll_wait", "epfd": 3, "max": 0},
    ]
    assert (
        run(REF, ops).results == run_linux(ops) == [{"error": "EBADF"}, [3, 4], {"error": "EINVAL"}]
    )
