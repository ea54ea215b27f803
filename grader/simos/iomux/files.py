"""Open file descriptions, wait queues and their entries: the kernel objects your epoll sees."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from .model import IomuxError, KernelError, ReleaseFn, WakeFn

FileKind = Literal["pipe", "socket", "null", "epoll"]


def call_back(fn: Callable[..., object], *args: int) -> None:
    """Run a callback of your epoll; a KernelError there is a bug, not a result of the call."""
    try:
        fn(*args)
    except KernelError as exc:
        raise IomuxError(
            f"your wait-queue callback raised KernelError({exc}); a callback cannot fail"
        ) from exc


class WaitEntry:
    """One callback hooked on a file's wait queue by ``k.add_wait`` (remove it with ``k.remove_wait``)."""

    __slots__ = ("active", "file", "queue", "release", "wake")

    def __init__(self, file: File, queue: WaitQueue, wake: WakeFn, release: ReleaseFn) -> None:
        self.file = file
        self.queue = queue
        self.wake = wake
        self.release = release
        self.active = True

    def __repr__(self) -> str:
        state = "" if self.active else ", removed"
        return f"WaitEntry({self.file!r}{state})"


class WaitQueue:
    """A wait queue head: entries are woken newest first, as Linux's add_wait_queue orders them."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: list[WaitEntry] = []  # oldest first; woken from the end

    def wake(self, key: int) -> None:
        """Call every entry's ``wake(key)``, newest registration first (key 0 = no key)."""
        if not self.entries:
            return
        for entry in reversed(self.entries[:]):
            if entry.active:
                call_back(entry.wake, key)

    def __len__(self) -> int:
        return len(self.entries)


class File:
    """An open file description: what a descriptor refers to (``dup`` shares one).

    Use it as a dictionary key (each open file description is a distinct object). Its
    fields describe it; the kernel owns them, so do not change them.
    """

    __slots__ = ("entries", "id", "kind", "obj", "readable", "refs", "released", "writable")

    def __init__(
        self, file_id: int, kind: FileKind, obj: Any, *, readable: bool, writable: bool
    ) -> None:
        self.id = file_id
        self.kind: FileKind = kind
        self.obj = obj  # Pipe, UnixSocket, the epoll instance, or None for /dev/null
        self.readable = readable
        self.writable = writable
        self.refs = 0  # descriptors that refer to it
        self.entries: list[WaitEntry] = []  # wait entries hooked for this file (oldest first)
        self.released = False

    def describe(self) -> str:
        if self.kind == "pipe":
            return "pipe read end" if self.readable else "pipe write end"
        if self.kind == "socket":
            return "listening socket" if getattr(self.obj, "listening", False) else "socket"
        return {"null": "/dev/null", "epoll": "epoll instance"}[self.kind]

    def __repr__(self) -> str:
        closed = ", closed" if self.released else ""
        return f"File(#{self.id} {self.describe()}{closed})"
