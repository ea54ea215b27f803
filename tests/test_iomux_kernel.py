"""The simulated kernel of iomux: pipes, sockets, wake-ups, the descriptor table, services."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.simos.iomux import (
    EAGAIN,
    EBADF,
    ECONNREFUSED,
    ECONNRESET,
    EPIPE,
    EPOLLERR,
    EPOLLHUP,
    EPOLLIN,
    EPOLLOUT,
    EPOLLPRI,
    EPOLLRDHUP,
    EPOLLRDNORM,
    EPOLLWRNORM,
    IomuxError,
    Kernel,
    KernelError,
    Libc,
    ScenarioError,
    event_names,
    op_text,
    parse_events,
    result_text,
    run,
)
from grader.simos.iomux.scenario import data_text, validate
from grader.simos.iomux.unix import truesize

ROOT = Path(__file__).resolve().parents[1]
IN, OUT = EPOLLIN | EPOLLRDNORM, EPOLLOUT | EPOLLWRNORM


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


REF = load(ROOT / "reference" / "iomux" / "mux.py", "iomux_reference_for_tests")


def mask(k: Kernel, fd: int) -> int:
    f = k.file_at(fd)
    assert f is not None
    return k.mask(f)


def keys(k: Kernel, fd: int) -> list[int]:
    """Hook fd's wait queue; the list fills with the keys of its wake-ups."""
    got: list[int] = []
    f = k.fdget(fd)
    k.add_wait(f, got.append, lambda: got.append(-1))
    return got


def fill(k: Kernel, fd: int, n: int) -> int:
    total = 0
    while True:
        try:
            total += k.write(fd, b"x" * n)
        except KernelError as exc:
            assert exc.errno == EAGAIN
            return total


# ----------------------------------------------------------------------------- pipes


@pytest.mark.parametrize(
    ("size", "capacity"), [(3000, 48000), (4097, 45066), (4096, 65536), (1, 65536)]
)
def test_pipe_fills_as_linux_slot_accounting_says(size: int, capacity: int) -> None:
    k = Kernel()
    _r, w = k.pipe()
    assert fill(k, w, size) == capacity
    assert not mask(k, w) & EPOLLOUT


def test_pipe_write_of_one_byte_merges_while_pollout_is_false() -> None:
    k = Kernel()
    _r, w = k.pipe()
    for _ in range(15):
        k.write(w, b"a" * 4096)
    k.write(w, b"b" * 100)  # the 16th slot, partly used
    assert not mask(k, w) & EPOLLOUT
    assert k.write(w, b"c") == 1  # merged into the last slot
    with pytest.raises(KernelError) as info:
        k.write(w, b"d" * 4096)  # does not merge: needs a slot
    assert info.value.errno == EAGAIN


def test_pipe_pollout_returns_only_when_the_first_slot_is_read_to_the_end() -> None:
    k = Kernel()
    r, w = k.pipe()
    fill(k, w, 4096)
    k.read(r, 4095)
    assert not mask(k, w) & EPOLLOUT
    k.read(r, 1)
    assert mask(k, w) & EPOLLOUT


def test_pipe_partial_write_when_longer_than_a_page() -> None:
    k = Kernel()
    r, w = k.pipe()
    fill(k, w, 4096)
    k.read(r, 4096 * 2)  # two slots free
    assert k.write(w, b"y" * 10000) == 8192


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 9000)), max_size=40))
def test_pipe_is_a_fifo_and_pollout_means_a_free_slot(steps: list[tuple[bool, int]]) -> None:
    k = Kernel()
    r, w = k.pipe()
    sent, got = bytearray(), bytearray()
    for i, (is_write, n) in enumerate(steps):
        try:
            if is_write:
                data = bytes([97 + i % 26]) * n
                sent += data[: k.write(w, data)]
            else:
                got += k.read(r, n)
        except KernelError as exc:
            assert exc.errno == EAGAIN
        pipe = k.fdget(r).obj
        assert bool(mask(k, w) & EPOLLOUT) == (len(pipe.bufs) < 16)
        assert pipe.nbytes == len(sent) - len(got) <= 65536
    assert bytes(got) == bytes(sent[: len(got)])


def test_every_pipe_write_wakes_the_reader_even_eagain_but_not_write_zero() -> None:
    k = Kernel()
    r, w = k.pipe()
    got = keys(k, r)
    k.poll(k.fdget(r))  # epoll's ADD polls the file: from then on every write wakes
    k.write(w, b"a")
    k.write(w, b"b")  # the pipe already holds data: wakes again (Linux >= 5.14)
    k.write(w, b"")
    assert got == [IN, IN]
    fill(k, w, 4096)
    got.clear()
    with pytest.raises(KernelError):
        k.write(w, b"z" * 4096)
    assert got == [IN]  # the failed write woke too


def test_freeing_a_slot_of_a_full_pipe_wakes_the_writer_and_last_close_wakes_both() -> None:
    k = Kernel()
    r, w = k.pipe()
    writer, reader = keys(k, w), keys(k, r)
    fill(k, w, 4096)
    k.read(r, 1)  # no slot freed yet: no wake (Linux wakes writers only when a slot is freed)
    assert writer == []
    k.read(r, 4095)  # frees the first slot of a full pipe
    assert writer == [OUT]
    k.read(r, 4096)  # frees a slot, but the pipe was no longer full: no wake
    assert writer == [OUT]
    w2 = k.dup(w)
    k.close(w)
    assert 0 not in reader  # a dup keeps the write end open
    k.close(w2)
    assert writer[-1] == -1  # the closed end's entry is released
    assert reader[-1] == 0 and mask(k, r) & EPOLLHUP


def test_pipe_read_end_hup_with_and_without_data_and_write_end_err() -> None:
    k = Kernel()
    r, w = k.pipe()
    k.write(w, b"abc")
    k.close(w)
    assert mask(k, r) & (EPOLLIN | EPOLLHUP) == EPOLLIN | EPOLLHUP
    assert k.read(r, 10) == b"abc" and k.read(r, 10) == b""
    assert mask(k, r) & (EPOLLIN | EPOLLHUP) == EPOLLHUP
    r2, w2 = k.pipe()
    k.close(r2)
    assert mask(k, w2) & (EPOLLOUT | EPOLLERR) == EPOLLOUT | EPOLLERR
    with pytest.raises(KernelError) as info:
        k.write(w2, b"x")
    assert info.value.errno == EPIPE


# ----------------------------------------------------------------------------- sockets


def test_socket_capacity_matches_linux_for_small_writes() -> None:
    for size, writes, writable_until in ((1, 278, 70), (1000, 93, 24), (2000, 49, 13)):
        k = Kernel()
        a, _ = k.socketpair()
        n = 0
        lost = None
        while True:
            if lost is None and not mask(k, a) & EPOLLOUT:
                lost = n
            try:
                k.write(a, b"x" * size)
            except KernelError:
                break
            n += 1
        assert (n, lost) == (writes, writable_until), size
    assert truesize(1) == 768 and truesize(3776) == 4352


def test_peer_close_with_unread_data_resets_once_then_end_of_stream() -> None:
    k = Kernel()
    a, b = k.socketpair()
    k.write(a, b"to b")  # b never reads this
    k.write(b, b"to a")
    k.close(b)
    m = mask(k, a)
    assert m & (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP | EPOLLERR) == (
        EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP | EPOLLERR
    )
    assert k.read(a, 100) == b"to a"  # queued data first
    with pytest.raises(KernelError) as info:
        k.read(a, 100)
    assert info.value.errno == ECONNRESET
    assert not mask(k, a) & EPOLLERR and k.read(a, 100) == b""
    with pytest.raises(KernelError) as info:
        k.write(a, b"x")  # OUT is still set, but the write fails
    assert info.value.errno == EPIPE


def test_shutdown_sets_rdhup_on_the_peer_and_hup_when_both_directions_are_shut() -> None:
    k = Kernel()
    a, b = k.socketpair()
    k.shutdown(a, 1)  # SHUT_WR
    assert mask(k, b) & (EPOLLIN | EPOLLRDHUP | EPOLLHUP) == EPOLLIN | EPOLLRDHUP
    assert k.read(b, 10) == b""
    k.shutdown(b, 1)
    assert mask(k, a) & EPOLLHUP and mask(k, b) & EPOLLHUP


def test_out_of_band_byte_gives_pri_and_is_skipped_by_reads() -> None:
    k = Kernel()
    a, b = k.socketpair()
    k.write(a, b"abc")
    k.send_oob(a)
    k.write(a, b"def")
    assert mask(k, b) & EPOLLPRI
    assert k.read(b, 10) == b"abc"  # stops at the mark
    assert k.read(b, 10) == b"def" and not mask(k, b) & EPOLLPRI


def test_socket_wakes_peer_on_data_and_sender_on_space() -> None:
    k = Kernel()
    a, b = k.socketpair()
    at_a, at_b = keys(k, a), keys(k, b)
    k.write(a, b"x")
    assert at_b == [EPOLLIN | EPOLLPRI | EPOLLRDNORM | 0x80]
    k.read(b, 1)
    assert at_a == [EPOLLOUT | EPOLLWRNORM | 0x200]
    k.shutdown(a, 0)
    assert at_a[-1] == 0 and at_b[-1] == 0


def test_listener_backlog_accept_refused_and_reset_embryos() -> None:
    k = Kernel()
    lfd = k.listen(1)
    c1, c2 = k.connect(0), k.connect(0)  # backlog + 1 wait
    with pytest.raises(KernelError) as info:
        k.connect(0)
    assert info.value.errno == EAGAIN
    assert mask(k, lfd) & (EPOLLIN | EPOLLOUT) == EPOLLIN
    k.write(c1, b"hi")
    s1 = k.accept(lfd)
    assert k.read(s1, 10) == b"hi"
    k.close(lfd)  # c2 was never accepted: it is reset
    assert mask(k, c2) & (EPOLLERR | EPOLLHUP) == EPOLLERR | EPOLLHUP
    with pytest.raises(KernelError) as info:
        k.read(c2, 10)
    assert info.value.errno == ECONNRESET
    with pytest.raises(KernelError) as info:
        k.connect(0)
    assert info.value.errno == ECONNREFUSED


# ----------------------------------------------------------------------------- descriptors


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["pipe", "dup", "close"]), st.integers(0, 20)), max_size=40)
)
def test_descriptors_are_allocated_lowest_free(steps: list[tuple[str, int]]) -> None:
    k = Kernel()
    for what, n in steps:
        open_now = set(k.fds())
        free = [fd for fd in range(len(open_now) + 3) if fd not in open_now]
        try:
            if what == "pipe":
                assert list(k.pipe()) == free[:2]
            elif what == "dup":
                assert k.dup(n) == free[0]
            else:
                k.close(n)
                assert n not in k.fds()
        except KernelError as exc:
            assert exc.errno == EBADF and n not in open_now


def test_release_is_called_once_on_the_last_close_newest_entry_first() -> None:
    k = Kernel()
    r, _ = k.pipe()
    order: list[str] = []
    f = k.fdget(r)
    k.add_wait(f, lambda key: None, lambda: order.append("old"))
    k.add_wait(f, lambda key: None, lambda: order.append("new"))
    dup = k.dup(r)
    k.close(r)
    assert order == []
    k.close(dup)
    assert order == ["new", "old"]
    with pytest.raises(IomuxError, match="closed"):
        k.poll(f)


def test_services_refuse_what_the_kernel_cannot_do() -> None:
    k = Kernel()
    null = k.open_null()
    f = k.fdget(null)
    assert not k.can_poll(f)
    with pytest.raises(IomuxError, match="no wait queue"):
        k.add_wait(f, lambda key: None, lambda: None)
    with pytest.raises(KernelError) as info:
        k.fdget(99)
    assert info.value.errno == EBADF and str(info.value) == "EBADF"
    with pytest.raises(IomuxError):
        k.fdget("3")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- libc, cost


def test_select_cost_and_results_through_the_reference() -> None:
    k = Kernel()
    libc = Libc(k, REF, record_costs=True)
    r, w = libc.pipe()
    libc.write(w, b"x")
    assert libc.select([r], [w], [], nfds=200) == ([r], [w], [])
    cost = libc.costs[-1]
    assert (cost.bytes_in, cost.bytes_out, cost.scanned, cost.polls) == (
        64,
        64,
        200,
        2,
    )  # two sets of 4 words
    with pytest.raises(ValueError, match="out of range"):
        libc.select([1024], [], [])


def test_libc_rejects_answers_of_the_wrong_shape() -> None:
    class Lying:
        sys_select = staticmethod(lambda k, nfds, r, w, x: 5)
        sys_epoll_wait = staticmethod(lambda k, epfd, n: [object()])
        sys_epoll_create = staticmethod(lambda k: 1)

    libc = Libc(Kernel(), Lying())
    with pytest.raises(IomuxError, match="returned 5, but the three sets hold 0"):
        libc.select([], [], [])
    with pytest.raises(IomuxError, match="not an epoll file"):
        libc.epoll_create()
    with pytest.raises(IomuxError, match="list of EpollEvent, found object"):
        libc.epoll_wait(3, 8)


# ----------------------------------------------------------------------------- scenarios


def test_scenario_validation_names_the_operation_and_field() -> None:
    with pytest.raises(ScenarioError, match="operation 2: unknown operation 'fork'"):
        validate([{"op": "pipe"}, {"op": "fork"}])
    with pytest.raises(ScenarioError, match="missing field 'n'"):
        validate([{"op": "write", "fd": 3}])
    with pytest.raises(ScenarioError, match="bad value"):
        validate([{"op": "poll", "fds": [[3]]}])


def test_results_and_texts_read_like_the_handout() -> None:
    ops = [
        {"op": "pipe"},
        {"op": "epoll_create"},
        {"op": "epoll_ctl", "epfd": 5, "ctl": "ADD", "fd": 3, "events": parse_events("IN|ET")},
        {"op": "write", "fd": 4, "n": 5000},
        {"op": "epoll_wait", "epfd": 5, "max": 8},
        {"op": "read", "fd": 3, "n": 9000},
        {"op": "read", "fd": 9, "n": 1},
    ]
    res = run(REF, ops).results
    assert res[:5] == [[3, 4], 5, 0, 5000, [[3, EPOLLIN]]]
    assert op_text(ops[2]) == "epoll_ctl(5, ADD, 3, IN|ET)"
    assert result_text(ops[5], res[5]) == "5000 bytes: d×5000"
    assert result_text(ops[6], res[6]) == "EBADF"
    assert event_names(EPOLLIN | EPOLLHUP) == "IN|HUP" and data_text("ab") == "'ab'"
