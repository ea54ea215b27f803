"""Worker-side entry point: run the simulator with a policy class from the submission.

Runs inside the untrusted worker. It returns plain data only; the trusted parent
re-validates everything it receives.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .model import job_from_data
from .policy import Scheduler
from .simulator import simulate


class SubmissionShapeError(Exception):
    """The submission lacks something the assignment requires (a class, a signature)."""


def run(module: ModuleType, args: dict[str, Any]) -> dict[str, Any]:
    """Simulate ``args['jobs']`` under ``module.<args['policy']>(**args['params'])``."""
    name = args["policy"]
    cls = getattr(module, name, None)
    file = getattr(module, "__file__", None) or module.__name__
    short = file.rsplit("/", 1)[-1]
    if cls is None:
        raise SubmissionShapeError(f"{short} has no class {name}; define `class {name}(Scheduler)`")
    if not isinstance(cls, type) or not issubclass(cls, Scheduler):
        raise SubmissionShapeError(
            f"{short}: {name} must be a class that subclasses Scheduler, got {type(cls).__name__}"
        )
    params = args.get("params", {})
    try:
        policy = cls(**params)
    except TypeError as exc:
        wanted = ", ".join(f"{k}={v!r}" for k, v in params.items()) or "no arguments"
        raise SubmissionShapeError(
            f"could not create {name}({wanted}): {exc}. Keep the constructor signature of the template."
        ) from exc
    jobs = [job_from_data(j) for j in args["jobs"]]
    trace = simulate(jobs, policy, switch_cost=args.get("switch_cost", 0))
    return trace.to_data()
