"""The operating system's memory structures: page-table entries, page tables, physical frames
and the swap area.

They belong to the simulator. Your MMU reads page-table entries and sets their
``referenced`` and ``dirty`` bits; your replacement policy reads the bits of the pages in
the frames (and Clock clears ``referenced``). Only the operating system (the simulator)
changes ``present`` and ``frame``.
"""

from __future__ import annotations

from .model import PageId, Process


class PageTableEntry:
    """One valid page of a process.

    ``present``: the page is in a frame (``frame``); otherwise it is on swap and ``frame``
    is None. ``referenced`` and ``dirty`` are set by the MMU on every access (dirty on a
    write); both are cleared when the page is loaded into a frame.
    """

    __slots__ = ("_frame", "_present", "dirty", "page", "referenced")

    def __init__(self, page: PageId) -> None:
        self.page = page
        self._present = False
        self._frame: int | None = None
        self.referenced = False
        self.dirty = False

    @property
    def present(self) -> bool:
        return self._present

    @property
    def frame(self) -> int | None:
        return self._frame

    def __repr__(self) -> str:
        where = f"frame {self._frame}" if self._present else "on swap"
        bits = ("R" if self.referenced else "-") + ("D" if self.dirty else "-")
        return f"<page {self.page.vpn} of process {self.page.pid}: {where}, {bits}>"


class PageTable:
    """The page table of one process: ``get(vpn)`` is the entry of a valid page, else None."""

    __slots__ = ("_entries", "pid", "process")

    def __init__(self, process: Process) -> None:
        self.process = process
        self.pid = process.pid
        self._entries: dict[int, PageTableEntry] = {}

    def get(self, vpn: int) -> PageTableEntry | None:
        """The entry of page ``vpn``, or None when the page is not in the address space."""
        entry = self._entries.get(vpn)
        if entry is None and type(vpn) is int and self.process.is_valid(vpn):
            entry = self._entries[vpn] = PageTableEntry(PageId(self.pid, vpn))
        return entry

    def __repr__(self) -> str:
        return f"<page table of process {self.pid}, valid pages {list(self.process.valid)}>"


class PhysicalMemory:
    """The frames, numbered ``0 .. frames - 1``, as a replacement policy may look at them.

    ``page(f)`` is the page in frame ``f`` (None while it is free). The bits are those of
    that page's page-table entry.
    """

    __slots__ = ("_holder", "frames")

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self._holder: list[PageTableEntry | None] = [None] * frames

    def page(self, frame: int) -> PageId | None:
        entry = self._holder[frame]
        return None if entry is None else entry.page

    def referenced(self, frame: int) -> bool:
        entry = self._holder[frame]
        return entry is not None and entry.referenced

    def clear_referenced(self, frame: int) -> None:
        """Clear the referenced bit of the page in ``frame`` (Clock's "second chance")."""
        entry = self._holder[frame]
        if entry is not None:
            entry.referenced = False

    def dirty(self, frame: int) -> bool:
        entry = self._holder[frame]
        return entry is not None and entry.dirty

    def __repr__(self) -> str:
        used = sum(1 for e in self._holder if e is not None)
        return f"<physical memory: {self.frames} frames, {used} in use>"


class SwapArea:
    """Where pages live when they are not in a frame: one slot per page, given on first use.

    Every valid page starts on swap (its first load reads the program or a zero-filled
    page); a clean page evicted keeps its slot's copy, a dirty one is written back to it.
    ``reads`` and ``writes`` count the disk transfers.
    """

    __slots__ = ("reads", "slots", "writes")

    def __init__(self) -> None:
        self.slots: dict[PageId, int] = {}
        self.reads = 0
        self.writes = 0

    def slot(self, page: PageId) -> int:
        """The slot of ``page`` (finding the page on swap)."""
        return self.slots.setdefault(page, len(self.slots))

    def read(self, page: PageId) -> int:
        self.reads += 1
        return self.slots.setdefault(page, len(self.slots))

    def write(self, page: PageId) -> int:
        self.writes += 1
        return self.slots.setdefault(page, len(self.slots))

    def __repr__(self) -> str:
        return f"<swap: {len(self.slots)} slots, {self.reads} reads, {self.writes} writes>"
