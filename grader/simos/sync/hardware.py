"""Shared memory cells with the atomic instructions of the course. STANDARD LIBRARY ONLY.

A ``Cell`` is one word of shared memory. Each method is one atomic instruction: nothing
can happen between its read and its write. Plain attributes (``self.count``) are shared
memory too, but reading and writing them are separate steps, so another thread may run
in between (the explorer makes sure of it).
"""

from __future__ import annotations

import threading
from typing import Any

from ..sealed import Sealed
from .runtime import _local


class Cell(metaclass=Sealed):
    """One word of shared memory; every method is one atomic instruction.

    Example (a spin lock)::

        flag = Cell(0)
        while flag.test_and_set() == 1:
            pass            # somebody holds it: try again
        ...                 # critical section
        flag.store(0)
    """

    __sealed__ = True  # the course's class: students subclass it, never change it

    __slots__ = ("_lock", "_value", "name")

    def __init__(self, value: Any = 0, name: str = "") -> None:
        self._value = value
        self._lock = threading.Lock()  # only used on plain threads
        self.name = name

    def load(self) -> Any:
        """Read the value."""
        run = _local.__dict__.get("run")
        if run is None:
            with self._lock:
                return self._value
        run.before_op()
        value = self._value
        run.after_op(self, "load", (), value)
        return value

    def store(self, value: Any) -> None:
        """Write ``value``."""
        run = _local.__dict__.get("run")
        if run is None:
            with self._lock:
                self._value = value
            return
        run.before_op()
        self._value = value
        run.after_op(self, "store", (value,), None)

    def test_and_set(self) -> Any:
        """Set the value to 1 and return what it was before (0: you got it)."""
        run = _local.__dict__.get("run")
        if run is None:
            with self._lock:
                old, self._value = self._value, 1
            return old
        run.before_op()
        old, self._value = self._value, 1
        run.after_op(self, "test_and_set", (), old)
        return old

    def compare_and_swap(self, expected: Any, new: Any) -> Any:
        """If the value equals ``expected``, replace it by ``new``. Returns the old value.

        The swap happened exactly when the returned value equals ``expected``.
        """
        run = _local.__dict__.get("run")
        if run is None:
            with self._lock:
                old = self._value
                if old == expected:
                    self._value = new
            return old
        run.before_op()
        old = self._value
        if old == expected:
            self._value = new
        run.after_op(self, "compare_and_swap", (expected, new), old)
        return old

    def fetch_and_add(self, delta: int = 1) -> Any:
        """Add ``delta`` and return the value from before the addition."""
        run = _local.__dict__.get("run")
        if run is None:
            with self._lock:
                old = self._value
                self._value = old + delta
            return old
        run.before_op()
        old = self._value
        self._value = old + delta
        run.after_op(self, "fetch_and_add", (delta,), old)
        return old

    def peek(self) -> Any:
        """The value, read without being an instruction (for debugging and tests only)."""
        return self._value

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"Cell{label}({self._value!r})"
