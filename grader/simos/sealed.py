"""A metaclass for the classes the course hands to student code. STANDARD LIBRARY ONLY.

Some grading logic (the synchronization explorer) runs in the same process as the
student's code. The grader's static gate already refuses ``Cell.load = ...``; this seal
makes the same change fail at run time too, whatever name the class is reached by::

    >>> C = Cell
    >>> C.load = lambda self: 0
    AttributeError: Cell.load: the course's classes cannot be changed; subclass Cell instead

Only a class that says ``__sealed__ = True`` in its own body is sealed: a student's
subclass is an ordinary class.
"""

from __future__ import annotations

from typing import Any


class Sealed(type):
    """Refuses setting or deleting attributes of a class with ``__sealed__ = True``."""

    def __setattr__(cls, name: str, value: Any) -> None:
        if type.__getattribute__(cls, "__dict__").get("__sealed__", False):
            _refuse(cls, name)
        super().__setattr__(name, value)

    def __delattr__(cls, name: str) -> None:
        if type.__getattribute__(cls, "__dict__").get("__sealed__", False):
            _refuse(cls, name)
        super().__delattr__(name)


def _refuse(cls: type, name: str) -> None:
    label = type.__dict__["__name__"].__get__(cls)
    raise AttributeError(
        f"{label}.{name}: the course's classes cannot be changed; subclass {label} instead"
    )
