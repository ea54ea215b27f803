"""A progress bar with an estimate of the time left, on stderr.

Small on purpose (no dependency): on a terminal it redraws one line; elsewhere (a CI log, a
file) it prints a line every tenth of the way, so logs stay short. The estimate counts
only the items actually worked on, so resumed (skipped) items do not make it optimistic.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    s = max(0, round(seconds))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


class Progress:
    def __init__(self, total: int, *, stream: TextIO | None = None, label: str = "") -> None:
        self.total = total
        self.done = 0
        self.worked = 0  # items that took real work (not skipped)
        self.stream = stream or sys.stderr
        self.label = label
        self.started = time.monotonic()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_decile = -1

    def eta(self, remaining_work: int) -> float | None:
        if self.worked == 0:
            return None
        return (time.monotonic() - self.started) / self.worked * remaining_work

    def line(self, note: str = "") -> str:
        width = 24
        filled = width * self.done // self.total if self.total else width
        pct = 100 * self.done // self.total if self.total else 100
        eta = self.eta(self.total - self.done)
        eta_text = "ETA --" if eta is None else f"ETA {_clock(eta)}"
        if self.done == self.total:
            eta_text = f"took {_clock(time.monotonic() - self.started)}"
        bar = "#" * filled + "." * (width - filled)
        return f"{self.label}[{bar}] {self.done}/{self.total} {pct:3d}% {eta_text}  {note}".rstrip()

    def advance(self, note: str = "", *, worked: bool = True) -> None:
        self.done += 1
        self.worked += worked
        if self.tty:
            self.stream.write("\r\033[K" + self.line(note)[:160])
            if self.done == self.total:
                self.stream.write("\n")
        else:
            decile = 10 * self.done // self.total if self.total else 10
            if decile != self._last_decile or self.done == self.total:
                self._last_decile = decile
                self.stream.write(self.line(note) + "\n")
        self.stream.flush()
