"""iomux: the simulated kernel with the reference select, poll and epoll.

Prints (1) the wall time of one simulated epoll_wait with one ready descriptor among
10,000 registered and among 10 (target: within 2x: epoll_wait walks the ready list only),
with select and poll over the same descriptors for contrast; (2) the time to run one random
scenario of 100,000 operations (target: < 3 s); (3) the time to grade the reference with
every hidden test through the worker.

Run: python benchmarks/iomux_kernel.py
"""

from __future__ import annotations

import importlib.util
import random
import sys
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.engine.assignment import find_assignment  # noqa: E402
from grader.engine.grade import grade  # noqa: E402
from grader.simos.iomux import (  # noqa: E402
    EPOLL_CTL_ADD,
    EPOLLET,
    EPOLLIN,
    EPOLLOUT,
    Kernel,
    Libc,
    run,
)
from grader.simos.iomux.scenario import Op, execute  # noqa: E402

MAX_OPEN = 64  # the random scenario keeps at most this many descriptors open


def load_reference() -> ModuleType:
    path = ROOT / "reference" / "iomux" / "mux.py"
    spec = importlib.util.spec_from_file_location("reference_mux", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def per_call(fn: object, calls: int, rounds: int = 7) -> float:
    """Seconds per call: the best of several rounds, as timeit does (a round of a few
    milliseconds is otherwise at the mercy of whatever else the machine does)."""
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()  # type: ignore[operator]
        best = min(best, (time.perf_counter() - t0) / calls)
    return best


def one_ready_among(ref: ModuleType, n: int) -> dict[str, float]:
    """Seconds per call with n pipes watched and only the last one readable."""
    libc = Libc(Kernel(), ref)
    reads = []
    for _ in range(n):
        r, _w = libc.pipe()
        reads.append(r)
    libc.write(reads[-1] + 1, b"x")
    ep = libc.epoll_create()
    for fd in reads:
        libc.epoll_ctl(ep, EPOLL_CTL_ADD, fd, EPOLLIN)  # level-triggered: stays ready
    assert libc.epoll_wait(ep, 64) == [(reads[-1], EPOLLIN)]
    out = {"epoll_wait": per_call(lambda: libc.epoll_wait(ep, 64), 2000)}
    entries = [(fd, EPOLLIN) for fd in reads]
    out["poll"] = per_call(lambda: libc.poll(entries), max(3, 2000 // n), rounds=3)
    if reads[-1] < 1024:
        out["select"] = per_call(lambda: libc.select(reads, [], []), max(3, 2000 // n), rounds=3)
    return out


def random_scenario(ref: ModuleType, n: int, seed: int = 7) -> list[Op]:
    """n operations of every kind over at most MAX_OPEN descriptors, built by running them."""
    rng = random.Random(seed)
    libc = Libc(Kernel(), ref)
    ops: list[Op] = []
    epolls: list[int] = []
    listeners = 0
    while len(ops) < n:
        fds = [fd for fd in libc.kernel.fds() if fd > 2]
        plain = [fd for fd in fds if fd not in epolls]
        kind = rng.choice(
            ["pipe", "socketpair", "write", "write", "read", "read", "close", "dup", "select",
             "poll", "epoll_ctl", "epoll_ctl", "epoll_wait", "epoll_wait", "shutdown", "oob",
             "epoll_create", "listen", "connect", "accept"]
        )  # fmt: skip
        fd = rng.choice(plain) if plain else 3
        grows = ("pipe", "socketpair", "dup", "epoll_create", "listen", "connect", "accept")
        if kind in grows and len(fds) >= MAX_OPEN:
            kind = "close"
        op: Op
        if kind in ("pipe", "socketpair", "epoll_create"):
            op = {"op": kind}
        elif kind == "listen":
            op = {"op": "listen", "backlog": 4}
        elif kind == "connect":
            op = {"op": "connect", "to": rng.randrange(listeners or 1)}
        elif kind in ("accept", "dup", "close", "oob"):
            op = {"op": kind, "fd": rng.choice(fds) if fds and kind == "close" else fd}
        elif kind == "shutdown":
            op = {"op": "shutdown", "fd": fd, "how": rng.randrange(3)}
        elif kind in ("write", "read"):
            op = {"op": kind, "fd": fd, "n": rng.choice([1, 100, 1000, 4096, 5000, 20000])}
        elif kind == "select":
            op = {"op": "select", "r": rng.sample(plain, min(3, len(plain))), "w": [], "x": []}
        elif kind == "poll":
            op = {
                "op": "poll",
                "fds": [[f, EPOLLIN | EPOLLOUT] for f in rng.sample(plain, min(4, len(plain)))],
            }
        elif not epolls:
            op = {"op": "epoll_create"}
        elif kind == "epoll_ctl":
            ev = rng.choice([EPOLLIN, EPOLLIN | EPOLLET, EPOLLOUT])
            op = {
                "op": "epoll_ctl",
                "epfd": rng.choice(epolls),
                "ctl": rng.choice(["ADD", "ADD", "MOD", "DEL"]),
                "fd": fd,
                "events": ev,
            }
        else:
            op = {"op": "epoll_wait", "epfd": rng.choice(epolls), "max": rng.choice([1, 8, 64])}
        result = execute(libc, len(ops), op)
        ops.append(op)
        if op["op"] == "epoll_create" and type(result) is int:
            epolls.append(result)
        if op["op"] == "listen":
            listeners += 1
        if op["op"] == "close":
            epolls = [e for e in epolls if libc.kernel.file_at(e) is not None]
    return ops


def main() -> None:
    ref = load_reference()
    small, big = one_ready_among(ref, 10), one_ready_among(ref, 10_000)
    for call in ("epoll_wait", "poll", "select"):
        a, b = small.get(call), big.get(call)
        shown = f"{b * 1e6:9.1f} us" if b is not None else "   (n/a: fds >= FD_SETSIZE)"
        print(f"{call:<10} one ready among 10: {a * 1e6:8.1f} us   among 10,000: {shown}")  # type: ignore[operator]
    ratio = big["epoll_wait"] / small["epoll_wait"]
    print(f"epoll_wait 10,000 / 10: {ratio:.2f}x (target <= 2x)")

    t0 = time.perf_counter()
    ops = random_scenario(ref, 100_000)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = run(ref, ops).results
    took = time.perf_counter() - t0
    print(
        f"random scenario: {len(ops)} operations run in {took:.2f} s (target < 3 s; "
        f"building it took {built:.2f} s; {sum(1 for r in results if type(r) is dict)} failed calls)"
    )

    a = find_assignment("iomux", ROOT / "assignments")
    t0 = time.perf_counter()
    report = grade(a, ROOT / "reference" / "iomux")
    took = time.perf_counter() - t0
    calls = sum(t.examples for t in report.tests)
    print(
        f"grade reference: {took:.2f} s, score {report.score:g}/{report.max_score:g}, {calls} calls"
    )


if __name__ == "__main__":
    main()
