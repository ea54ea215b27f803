"""Shared pytest hooks: the run's header says which isolation layers this machine offers."""

from __future__ import annotations

import os


def pytest_report_header() -> list[str]:
    """One line per optional layer, so a CI log shows which layers the suite exercised."""
    from grader.engine.isolation import probe

    mode = os.environ.get("OSGRADE_ISOLATION", "") or "auto"
    plan = probe(mode)
    layers = {
        "uid_drop": plan.uid_base is not None,
        "bubblewrap": plan.bwrap is not None,
        "seccomp": plan.seccomp is not None,
    }
    lines = [f"osgrade isolation ({mode}):"]
    for name, on in layers.items():
        why = "" if on else f" ({plan.reasons.get(name, 'unavailable')})"
        lines.append(f"  {name}: {'on' if on else 'off'}{why}")
    return lines
