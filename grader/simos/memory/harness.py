"""Worker-side entry points: run the simulator with classes from the submission.

Runs inside the untrusted worker and returns plain data only; the trusted parent
re-validates everything it receives (checks.py).
"""

from __future__ import annotations

from dataclasses import replace
from types import ModuleType
from typing import Any

from .interfaces import BaseMMU, BaseTLB, NullTLB, ReplacementPolicy, ScriptedVictims
from .model import PagingError, Run, Workload
from .simulator import simulate


class SubmissionShapeError(Exception):
    """The submission lacks something the assignment requires (a class, a signature)."""


def _short(module: ModuleType) -> str:
    file = getattr(module, "__file__", None) or module.__name__
    return str(file).rsplit("/", 1)[-1]


def _make(module: ModuleType, name: str, base: type, kwargs: dict[str, Any]) -> Any:
    cls = getattr(module, name, None)
    short = _short(module)
    if cls is None:
        raise SubmissionShapeError(
            f"{short} has no class {name}; define `class {name}({base.__name__})`"
        )
    if not isinstance(cls, type) or not issubclass(cls, base):
        raise SubmissionShapeError(
            f"{short}: {name} must be a class that subclasses {base.__name__}, "
            f"got {type(cls).__name__}"
        )
    try:
        return cls(**kwargs)
    except TypeError as exc:
        wanted = ", ".join(f"{k}={_show(v)}" for k, v in kwargs.items()) or "no arguments"
        raise SubmissionShapeError(
            f"could not create {name}({wanted}): {exc}. Keep the constructor signature of "
            "the template."
        ) from exc


def _show(value: object) -> str:
    if isinstance(value, list) and len(value) > 3:
        return f"[{len(value)} pages]"
    return repr(value)


def _counter(tlb: BaseTLB, name: str) -> int:
    value = getattr(tlb, name, None)
    if type(value) is not int or value < 0:
        raise PagingError(
            f"TLB.{name} is {value!r} ({type(value).__name__}) after the run; keep it an int "
            "counter >= 0 (set it to 0 in __init__, add 1 in lookup)"
        )
    return value


def make_policy(
    module: ModuleType, name: str, params: dict[str, Any], workload: Workload
) -> ReplacementPolicy:
    """``module.<name>(**params)``; OPT also gets ``future=workload.pages()``."""
    kwargs = dict(params)
    if name == "OPT":
        kwargs["future"] = workload.pages()
    policy: ReplacementPolicy = _make(module, name, ReplacementPolicy, kwargs)
    return policy


def run_policy(module: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """Simulate ``args['workload']`` without a TLB under the submission's ``args['policy']``."""
    workload = Workload.from_data(args["workload"])
    policy = make_policy(module, args["policy"], args.get("params", {}), workload)
    return simulate(workload, policy).to_data()


def run_mmu(module: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """Simulate with the submission's MMU (and its TLB, or a NullTLB when ``tlb`` is False).

    Evictions follow ``args['victims']`` (ScriptedVictims), not a student policy.
    """
    workload = Workload.from_data(args["workload"])
    c = workload.config
    tlb: BaseTLB = (
        _make(module, "TLB", BaseTLB, {"entries": c.tlb_entries}) if args["tlb"] else NullTLB()
    )
    mmu: BaseMMU = _make(
        module,
        "MMU",
        BaseMMU,
        {"page_size": c.page_size, "address_bits": c.address_bits, "tlb": tlb, "asids": c.asids},
    )
    run: Run = simulate(workload, ScriptedVictims(args["victims"]), mmu)
    run = replace(run, tlb_hits=_counter(tlb, "hits"), tlb_misses=_counter(tlb, "misses"))
    return run.to_data()


def _int(x: object, what: str) -> int:
    if type(x) is not int:
        raise PagingError(f"{what} must be an int, got {x!r}")
    return x


def apply_tlb_ops(tlb: BaseTLB, ops: list[list[Any]]) -> list[int | None]:
    """Apply ``ops`` to ``tlb`` in order; returns what each lookup returned.

    An op is ``["lookup", asid, vpn]``, ``["access", asid, vpn, frame]`` (a lookup, then an
    insert of ``frame`` if it missed: what an MMU does), ``["insert", asid, vpn, frame]``,
    ``["invalidate", asid, vpn]`` or ``["flush"]``.
    """
    results: list[int | None] = []
    for op in ops:
        name = op[0]
        if name in ("lookup", "access"):
            got = tlb.lookup(op[1], op[2])
            if got is not None and type(got) is not int:
                raise PagingError(
                    f"TLB.lookup({op[1]}, {op[2]}) returned {type(got).__name__}; "
                    "return the frame (an int) or None"
                )
            results.append(got)
            if name == "access" and got is None:
                tlb.insert(op[1], op[2], op[3])
        elif name == "insert":
            tlb.insert(op[1], op[2], op[3])
        elif name == "invalidate":
            tlb.invalidate(op[1], op[2])
        elif name == "flush":
            tlb.flush()
        else:
            raise ValueError(f"unknown TLB operation {name!r}")
    return results


def run_tlb(module: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """Apply ``args['ops']`` (see ``apply_tlb_ops``) to the submission's ``TLB(entries)``."""
    tlb: BaseTLB = _make(module, "TLB", BaseTLB, {"entries": _int(args["entries"], "entries")})
    results = apply_tlb_ops(tlb, args["ops"])
    return {"results": results, "hits": _counter(tlb, "hits"), "misses": _counter(tlb, "misses")}
