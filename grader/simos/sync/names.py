"""Names and places for reports: "bb.mutex", "primitives.py:12". STANDARD LIBRARY ONLY.

``Namer`` names an object by the first attribute path that reaches it from the test
program's roots (``{"bb": buffer}`` -> ``bb.not_full.guard``). It reads ``__dict__``
directly, so no student ``__getattr__`` or property runs.
"""

from __future__ import annotations

import linecache
import os
from collections.abc import Callable
from types import CodeType, FrameType, TracebackType
from typing import Any

MAX_OBJECTS = 500
MAX_CODE = 120


def _vars(obj: Any) -> dict[str, Any]:
    try:
        d = object.__getattribute__(obj, "__dict__")
    except Exception:
        return {}
    return d if type(d) is dict else {}


class Namer:
    def __init__(self, roots: dict[str, Any], depth: int = 4) -> None:
        self.names: dict[int, str] = {}
        self._keep: list[Any] = []  # keeps the objects alive, so ids stay unique
        frontier = list(roots.items())
        for _ in range(depth):
            nxt: list[tuple[str, Any]] = []
            for path, obj in frontier:
                if id(obj) in self.names or len(self.names) >= MAX_OBJECTS:
                    continue
                self.names[id(obj)] = path
                self._keep.append(obj)
                for key, value in list(_vars(obj).items()):
                    if type(key) is str and not isinstance(
                        value, (int, float, str, bytes, type(None))
                    ):
                        nxt.append((f"{path}.{key}", value))
            frontier = nxt
        self._anonymous: dict[int, str] = {}

    def __call__(self, obj: Any) -> str:
        name = self.names.get(id(obj))
        if name is not None:
            return name
        label = getattr(obj, "name", "") if type(obj).__module__.startswith("grader.") else ""
        if type(label) is str and label:
            return label
        known = self._anonymous.get(id(obj))
        if known is None:
            kind = type(obj).__name__
            count = sum(1 for v in self._anonymous.values() if v.startswith(f"a {kind} #"))
            known = self._anonymous[id(obj)] = f"a {kind} #{count + 1}"
            self._keep.append(obj)
        return known


class Places:
    """Short file names and source lines of the student's code."""

    def __init__(self, is_student: Callable[[str], bool], base: str) -> None:
        self.is_student = is_student
        self.base = base

    def short(self, filename: str) -> str:
        try:
            rel = os.path.relpath(filename, self.base)
        except ValueError:
            rel = filename
        return os.path.basename(filename) if rel.startswith("..") else rel

    def where(self, code: CodeType, line: int) -> str:
        return f"{self.short(code.co_filename)}:{line}"

    def source(self, code: CodeType, line: int) -> str:
        text = linecache.getline(code.co_filename, line).strip()
        return text if len(text) <= MAX_CODE else text[: MAX_CODE - 1] + "…"

    def frame_place(self, frame: FrameType | None) -> tuple[str, str]:
        """(where, source) of the innermost student frame on ``frame``'s stack."""
        while frame is not None:
            if self.is_student(frame.f_code.co_filename):
                return self.where(frame.f_code, frame.f_lineno), self.source(
                    frame.f_code, frame.f_lineno
                )
            frame = frame.f_back
        return "", ""

    def traceback_place(self, tb: TracebackType | None) -> tuple[str, str]:
        """(where, source) of the deepest student frame of a traceback."""
        found = ("", "")
        while tb is not None:
            code = tb.tb_frame.f_code
            if self.is_student(code.co_filename):
                found = (self.where(code, tb.tb_lineno), self.source(code, tb.tb_lineno))
            tb = tb.tb_next
        return found
