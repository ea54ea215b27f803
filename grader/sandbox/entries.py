"""Generic worker entry points and the strict plain-data copier. STANDARD LIBRARY ONLY.

``call`` lets an assignment test a plain function of the submission without writing a
harness: the request ``args`` are ``{"function": "name", "args": [...], "kwargs": {...}}``
and the reply is the function's return value, copied by ``plain``.

``plain`` accepts only values whose type is *exactly* one of ``int``, ``float``,
``str``, ``bool``, ``None``, ``list``, ``tuple`` (copied to a list) or ``dict`` with
keys of exact type ``str``. Subclasses (an ``int`` with a hostile ``__eq__``, a ``str``
with an odd ``__str__``) and any other object raise ``TypeError`` naming the type, so
nothing the student built travels further than this process.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any, cast

MAX_DEPTH = 64
MAX_ITEMS = 2_000_000
MAX_INT_BITS = 4096

_ALLOWED = "int, float, str, bool, None, list, tuple or dict with str keys"


class SubmissionShapeError(Exception):
    """The submission lacks something the assignment requires (a function, a class)."""


class _Bad(Exception):
    """Raised inside the copier; carries the path to the offending value, built on unwinding."""

    def __init__(self, kind: type[Exception], what: str) -> None:
        super().__init__(what)
        self.kind = kind
        self.what = what
        self.path: list[str] = []


_INT_LIMIT = 1 << MAX_INT_BITS


def _scalar(x: object, t: type) -> object:
    """Check a non-container value; returns it or raises _Bad."""
    if t is int:
        if -_INT_LIMIT < cast(int, x) < _INT_LIMIT:
            return x
        raise _Bad(ValueError, f"is an integer of more than {MAX_INT_BITS} bits")
    if t is float:
        if math.isfinite(cast(float, x)):
            return x
        raise _Bad(ValueError, f"is {cast(float, x)!r}; only finite floats can be returned")
    raise _Bad(
        TypeError, f"is of type {_type_label(x)}, which cannot be returned; use only {_ALLOWED}"
    )


def _copy(x: object, depth: int, budget: list[int]) -> Any:
    """Copy a list, tuple or dict (exact types); scalars are checked in the loop for speed."""
    if depth <= 0:
        raise _Bad(ValueError, "is nested too deeply (a cycle, or far too many levels)")
    t = type(x)
    if t is dict:
        d = cast("dict[object, object]", x)
        budget[0] -= len(d)
        if budget[0] < 0:
            raise _Bad(ValueError, "has too many elements; return less data")
        result: dict[str, Any] = {}
        key: object = None
        try:
            for key, v in d.items():
                if type(key) is not str:
                    raise _Bad(TypeError, f"has a key of type {_type_label(key)}; keys must be str")
                vt = type(v)
                if vt is str or vt is bool or v is None:
                    result[key] = v
                elif vt is list or vt is tuple or vt is dict:
                    result[key] = _copy(v, depth - 1, budget)
                else:
                    result[key] = _scalar(v, vt)
        except _Bad as bad:
            if type(key) is str:
                bad.path.append(f"[{key[:40]!r}]")
            raise
        return result
    seq = cast("list[object]", x)
    budget[0] -= len(seq)
    if budget[0] < 0:
        raise _Bad(ValueError, "has too many elements; return less data")
    out: list[Any] = []
    append = out.append
    try:
        for item in seq:
            it = type(item)
            if it is str or it is bool or item is None:
                append(item)
            elif it is list or it is tuple or it is dict:
                append(_copy(item, depth - 1, budget))
            else:
                append(_scalar(item, it))
    except _Bad as bad:
        bad.path.append(f"[{len(out)}]")  # the index of the item that failed
        raise
    return out


def plain(value: object, *, max_depth: int = MAX_DEPTH, max_items: int = MAX_ITEMS) -> Any:
    """A copy of ``value`` made of exact JSON types only; TypeError/ValueError otherwise.

    The error message names the path to the offending value, e.g. ``the value[2]['x']``.
    """
    t = type(value)
    try:
        if t is str or t is bool or value is None:
            return value
        if t is list or t is tuple or t is dict:
            return _copy(value, max_depth, [max_items])
        return _scalar(value, t)
    except _Bad as bad:
        path = bad.path[::-1]
        if len(path) > 12:
            path = [*path[:6], "...", *path[-4:]]
        where = "the value" + "".join(path)
        raise bad.kind(f"{where} {bad.what}") from None


def _type_label(x: object) -> str:
    """The type's name, saying which builtin it subclasses; never runs the object's code."""
    t = type(x)
    name = type.__dict__["__qualname__"].__get__(t)
    module = type.__dict__["__module__"].__get__(t)
    label = name if module == "builtins" or type(module) is not str else f"{module}.{name}"
    for base in (bool, int, float, str, list, tuple, dict):
        if t is not base and issubclass(t, base):
            return f"{label} (a subclass of {base.__name__}; only exact {base.__name__} is allowed)"
    return label


def call(module: ModuleType, args: dict[str, Any]) -> Any:
    """Call ``module.<args["function"]>(*args["args"], **args["kwargs"])``; return plain data."""
    name = args["function"]
    if type(name) is not str or not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"function must be a public identifier, got {name!r}")
    positional = args.get("args", [])
    keywords = args.get("kwargs", {})
    if type(positional) is not list or type(keywords) is not dict:
        raise ValueError("args must be a list and kwargs a dict")
    file = getattr(module, "__file__", None) or module.__name__
    short = str(file).rsplit("/", 1)[-1]
    fn = getattr(module, name, None)
    if fn is None:
        raise SubmissionShapeError(f"{short} has no function {name}; define `def {name}(...)`")
    if not callable(fn):
        raise SubmissionShapeError(f"{short}: {name} must be a function, got {_type_label(fn)}")
    result = fn(*positional, **keywords)
    return plain(result)


def probe(module: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """Import the submission and list its public top-level names (the pre-flight check)."""
    return {"names": sorted(str(n) for n in vars(module) if not str(n).startswith("_"))}
