"""Data of the virtual-memory simulator: workloads, configuration, and what a run recorded.

Everything here is plain immutable data (named tuples and frozen dataclasses) that can
cross the worker boundary as JSON: ``to_data``/``from_data`` convert, and the trusted
parent re-validates what it receives (see checks.py).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class PagingError(Exception):
    """Student code broke the simulator's contract (a victim that is not a frame, ...)."""


class WorkloadError(ValueError):
    """A workload is malformed (a page size that is not a power of two, an unknown process, ...)."""


class SegmentationFault(Exception):
    """The access is invalid: the page is not part of the process's address space.

    Raised by the operating system (``BaseMMU.page_fault``); let it propagate out of
    ``translate``: the simulator records the access as a segmentation fault.
    """

    def __init__(self, pid: int, address: int, vpn: int) -> None:
        super().__init__(
            f"segmentation fault: process {pid} accessed {address:#x} (page {vpn}), "
            "which is not in its address space"
        )
        self.pid = pid
        self.address = address
        self.vpn = vpn


class PageId(NamedTuple):
    """A virtual page of one process: ``PageId(pid=1, vpn=3)`` is page 3 of process 1."""

    pid: int
    vpn: int


class Access(NamedTuple):
    """One memory access of the trace: process ``pid`` reads (or writes) ``address``."""

    pid: int
    address: int  # a virtual address
    write: bool = False


@dataclass(frozen=True, slots=True)
class Process:
    """A process and its address space: the valid pages are the half-open ranges in ``valid``.

    ``Process(1, ((0, 4), (60, 64)))``: pages 0-3 (code and data) and 60-63 (the stack) are
    valid; touching page 10 is a segmentation fault.
    """

    pid: int
    valid: tuple[tuple[int, int], ...]

    def is_valid(self, vpn: int) -> bool:
        return any(lo <= vpn < hi for lo, hi in self.valid)

    @property
    def pages(self) -> int:
        """How many valid pages the process has."""
        return sum(hi - lo for lo, hi in self.valid)


@dataclass(frozen=True, slots=True)
class Latencies:
    """What each step of an access costs, in nanoseconds (for the effective access time).

    An access costs ``tlb_ns`` (when there is a TLB), plus ``walk_ns`` when the TLB misses
    (or there is no TLB), plus ``memory_ns`` for the access itself, plus ``fault_ns`` when
    the page had to be read from swap and ``write_back_ns`` when a dirty victim was
    written to swap first. A segmentation fault costs the lookup and the walk only.
    """

    tlb_ns: int = 1
    walk_ns: int = 100  # one memory access: a single-level page table
    memory_ns: int = 100
    fault_ns: int = 8_000_000  # reading a page from disk: 8 ms
    write_back_ns: int = 8_000_000


@dataclass(frozen=True, slots=True)
class MemoryConfig:
    """The machine: page size (a power of two), address width, frames, TLB size and mode."""

    page_size: int = 4096
    address_bits: int = 32
    frames: int = 4
    tlb_entries: int = 8
    asids: bool = False  # True: TLB entries are tagged with the process id, no flush on a switch
    latencies: Latencies = field(default_factory=Latencies)

    @property
    def offset_bits(self) -> int:
        return self.page_size.bit_length() - 1


def _is_int(x: object, lo: int = 0) -> bool:
    return type(x) is int and x >= lo


@dataclass(frozen=True, slots=True)
class Workload:
    """A machine, the processes and the trace of accesses, in order.

    A context switch happens before an access whose ``pid`` differs from the previous
    access's (the first access also switches to its process). Several threads of one
    process share its address space, so a trace does not distinguish them: a thread
    switch is simply no switch at all.
    """

    config: MemoryConfig
    processes: tuple[Process, ...]
    accesses: tuple[Access, ...]

    def __post_init__(self) -> None:
        validate_workload(self)

    def process(self, pid: int) -> Process:
        for p in self.processes:
            if p.pid == pid:
                return p
        raise KeyError(pid)

    def page_of(self, access: Access) -> PageId:
        """The page an access touches (``address // page_size``)."""
        return PageId(access.pid, access.address >> self.config.offset_bits)

    def pages(self) -> list[PageId]:
        """The page of every access, in trace order: what ``OPT(future=...)`` is given."""
        shift = self.config.offset_bits
        return list(map(PageId._make, ((a.pid, a.address >> shift) for a in self.accesses)))

    def to_data(self) -> dict[str, Any]:
        c = self.config
        lat = c.latencies
        return {
            "config": {
                "page_size": c.page_size,
                "address_bits": c.address_bits,
                "frames": c.frames,
                "tlb_entries": c.tlb_entries,
                "asids": c.asids,
                "latencies": [
                    lat.tlb_ns,
                    lat.walk_ns,
                    lat.memory_ns,
                    lat.fault_ns,
                    lat.write_back_ns,
                ],
            },
            "processes": [[p.pid, [list(r) for r in p.valid]] for p in self.processes],
            "accesses": [[a.pid, a.address, a.write] for a in self.accesses],
        }

    @staticmethod
    def from_data(data: dict[str, Any]) -> Workload:
        """The inverse of ``to_data``; raises WorkloadError for data of the wrong shape."""
        try:
            c = data["config"]
            lat = Latencies(*c.get("latencies", ()))
            config = MemoryConfig(
                page_size=c["page_size"],
                address_bits=c["address_bits"],
                frames=c["frames"],
                tlb_entries=c.get("tlb_entries", 8),
                asids=c.get("asids", False),
                latencies=lat,
            )
            procs = tuple(
                Process(pid, tuple((lo, hi) for lo, hi in valid))
                for pid, valid in data["processes"]
            )
            accesses = tuple(Access(pid, addr, write) for pid, addr, write in data["accesses"])
        except (KeyError, TypeError, ValueError) as exc:
            raise WorkloadError(f"malformed workload data: {exc!r}") from None
        return Workload(config, procs, accesses)


def validate_workload(w: Workload) -> None:
    """Raise WorkloadError naming the field and the value when ``w`` cannot be simulated."""
    c = w.config
    if not _is_int(c.page_size, 1) or c.page_size & (c.page_size - 1):
        raise WorkloadError(f"page_size must be a power of two, got {c.page_size!r}")
    if not _is_int(c.address_bits, 1) or c.address_bits > 64 or 1 << c.address_bits < c.page_size:
        raise WorkloadError(
            f"address_bits must be an int in 1..64 with 2**address_bits >= page_size, "
            f"got {c.address_bits!r}"
        )
    if not _is_int(c.frames, 1):
        raise WorkloadError(f"frames must be an int >= 1, got {c.frames!r}")
    if not _is_int(c.tlb_entries, 1):
        raise WorkloadError(f"tlb_entries must be an int >= 1, got {c.tlb_entries!r}")
    if type(c.asids) is not bool:
        raise WorkloadError(f"asids must be True or False, got {c.asids!r}")
    for name in ("tlb_ns", "walk_ns", "memory_ns", "fault_ns", "write_back_ns"):
        value = getattr(c.latencies, name)
        if not _is_int(value):
            raise WorkloadError(f"latencies.{name} must be an int >= 0, got {value!r}")
    pages = 1 << (c.address_bits - c.offset_bits)
    seen: set[int] = set()
    for p in w.processes:
        if not _is_int(p.pid):
            raise WorkloadError(f"process id must be an int >= 0, got {p.pid!r}")
        if p.pid in seen:
            raise WorkloadError(f"process {p.pid} is listed twice")
        seen.add(p.pid)
        for r in p.valid:
            if (
                type(r) is not tuple
                or len(r) != 2
                or not (_is_int(r[0]) and _is_int(r[1]))
                or not r[0] < r[1] <= pages
            ):
                raise WorkloadError(
                    f"process {p.pid}: valid range {r!r} must be (first, end) with "
                    f"0 <= first < end <= {pages} (the number of virtual pages)"
                )
    limit = 1 << c.address_bits
    for i, a in enumerate(w.accesses):
        if a.pid not in seen:
            raise WorkloadError(f"access {i}: process {a.pid!r} is not in the workload")
        if not _is_int(a.address) or a.address >= limit:
            raise WorkloadError(
                f"access {i}: address {a.address!r} must be an int in 0..{limit - 1} "
                f"({c.address_bits}-bit addresses)"
            )
        if type(a.write) is not bool:
            raise WorkloadError(f"access {i}: write must be True or False, got {a.write!r}")


# What happened to one access (the ``kind`` column of a Run).
TRANSLATED = 0  # the access went through without a page fault
FAULTED = 1  # a page fault loaded the page, then the access went through
SEGFAULT = 2  # the page is not in the address space: segmentation fault

REFERENCED_BIT = 1
DIRTY_BIT = 2


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """What the simulator recorded for access number ``index`` (0-based, like ``now``).

    ``frame`` is the frame that holds the page after the access, as the operating system
    knows it (-1 after a segmentation fault, or when the MMU translated an address of a
    page that is not in memory). ``address`` is the physical address the MMU produced.
    ``bits`` are the page's referenced (1) and dirty (2) bits after the access.
    """

    index: int
    tlb_hit: bool | None  # None: no TLB in this run
    kind: int  # TRANSLATED, FAULTED or SEGFAULT
    frame: int
    victim: PageId | None  # the page evicted to make room (a fault on a full memory)
    write_back: bool  # the victim was dirty and was written to swap
    address: int | None  # the physical address; None for a segmentation fault
    bits: int

    @property
    def fault(self) -> bool:
        return self.kind == FAULTED

    @property
    def segfault(self) -> bool:
        return self.kind == SEGFAULT


_COLUMNS = ("tlb", "kind", "frame", "victim_pid", "victim_vpn", "write_back", "address", "bits")


@dataclass(frozen=True, slots=True)
class Run:
    """Per-access records of one simulation, stored by column (1,000,000 accesses fit easily).

    ``tlb``: -1 no TLB, 0 miss, 1 hit. ``victim_pid``/``victim_vpn``: -1 when nothing was
    evicted. ``address``: -1 for a segmentation fault. ``tlb_hits``/``tlb_misses``: the
    TLB's own counters at the end (None when the run had no TLB object).
    """

    tlb: array[int]
    kind: array[int]
    frame: array[int]
    victim_pid: array[int]
    victim_vpn: array[int]
    write_back: array[int]
    address: array[int]
    bits: array[int]
    tlb_hits: int | None = None
    tlb_misses: int | None = None

    def __len__(self) -> int:
        return len(self.kind)

    def record(self, i: int) -> AccessRecord:
        t = self.tlb[i]
        vp = self.victim_pid[i]
        a = self.address[i]
        return AccessRecord(
            index=i,
            tlb_hit=None if t < 0 else bool(t),
            kind=self.kind[i],
            frame=self.frame[i],
            victim=None if vp < 0 else PageId(vp, self.victim_vpn[i]),
            write_back=bool(self.write_back[i]),
            address=None if a < 0 else a,
            bits=self.bits[i],
        )

    def records(self) -> Iterator[AccessRecord]:
        for i in range(len(self)):
            yield self.record(i)

    @property
    def faults(self) -> int:
        return sum(1 for k in self.kind if k == FAULTED)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: list(getattr(self, name)) for name in _COLUMNS}
        data["tlb_hits"] = self.tlb_hits
        data["tlb_misses"] = self.tlb_misses
        return data

    @staticmethod
    def from_data(data: Any, accesses: int) -> Run:
        """Rebuild a Run from untrusted JSON; ValueError naming the column when malformed."""
        if type(data) is not dict or set(data) != {*_COLUMNS, "tlb_hits", "tlb_misses"}:
            raise ValueError(f"expected a dict with the keys {sorted(_COLUMNS)} and the counters")
        cols: dict[str, array[int]] = {}
        for name in _COLUMNS:
            raw = data[name]
            if type(raw) is not list or len(raw) != accesses:
                raise ValueError(f"column {name!r} must be a list of {accesses} ints")
            if not all(type(x) is int and -1 <= x < 1 << 62 for x in raw):
                raise ValueError(f"column {name!r} holds something that is not a small int")
            cols[name] = array("q", raw)
        counters = []
        for name in ("tlb_hits", "tlb_misses"):
            v = data[name]
            if v is not None and not (type(v) is int and 0 <= v < 1 << 62):
                raise ValueError(f"{name} must be an int >= 0 or None, got {v!r}")
            counters.append(v)
        return Run(**cols, tlb_hits=counters[0], tlb_misses=counters[1])


_DEFAULTS = {
    "tlb": -1,
    "kind": 0,
    "frame": -1,
    "victim_pid": -1,
    "victim_vpn": -1,
    "write_back": 0,
    "address": -1,
    "bits": 0,
}


def new_columns(n: int) -> dict[str, array[int]]:
    """The columns of a Run of ``n`` accesses, each holding its default value (no TLB,
    translated, no frame, no victim, no write-back, no address, no bits); the simulator
    writes only what differs."""
    return {name: array("q", [_DEFAULTS[name]]) * n for name in _COLUMNS}


def page_label(page: PageId | Sequence[int], single_process: bool) -> str:
    """How reports name a page: ``3`` with one process, ``1:3`` (process 1, page 3) otherwise."""
    pid, vpn = page[0], page[1]
    return str(vpn) if single_process else f"{pid}:{vpn}"
