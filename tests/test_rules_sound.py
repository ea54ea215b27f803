"""The hidden rule properties never flag a correct schedule (the reference's, with ties).

A rule test that fails correct code would take points a student earned, so each rule
runs on many random reference traces and must stay silent.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from grader.simos.scheduling import Job, replay, simulate

ROOT = Path(__file__).resolve().parents[1]


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


PROPS = load(ROOT / "assignments" / "scheduling" / "properties.py", "sound_props")
REF = load(ROOT / "reference" / "scheduling" / "policies.py", "sound_ref")


def workload(rng: random.Random, max_burst: int) -> list[Job]:
    n = rng.randint(1, 7)
    return [
        Job(
            i,
            rng.randint(0, 16),
            tuple(rng.randint(1, max_burst) for _ in range(2 * rng.randint(1, 3) - 1)),
            rng.randint(0, 4),
        )
        for i in range(n)
    ]


def mlfq(rng: random.Random, boost: int | None) -> dict[str, Any]:
    levels = rng.randint(1, 3)
    return {
        "quanta": [rng.randint(1, 6) for _ in range(levels)],
        "allotments": [rng.randint(1, 3) for _ in range(levels)],
        "boost": boost,
    }


CASES = {
    "fcfs": ("FCFS", lambda r: {}, "fcfs_rule"),
    "sjf": ("SJF", lambda r: {}, "sjf_rule"),
    "stcf": ("STCF", lambda r: {}, "stcf_rule"),
    "rr": ("RoundRobin", lambda r: {"quantum": r.randint(1, 6)}, "rr_rule"),
    "priority": (
        "PriorityScheduler",
        lambda r: {"preemptive": r.random() < 0.5, "aging": r.choice([None, r.randint(1, 8)])},
        "priority_rule",
    ),
    "mlfq-levels": (
        "MLFQ",
        lambda r: mlfq(r, r.choice([None, r.randint(5, 40)])),
        "mlfq_level_rule",
    ),
    "mlfq-boost": ("MLFQ", lambda r: mlfq(r, r.randint(20, 40)), "mlfq_boost_rule"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rule_never_flags_the_reference(case: str) -> None:
    policy, params, rule_name = CASES[case]
    rule = getattr(PROPS, rule_name)
    rng = random.Random(case)
    for _ in range(400):
        jobs = workload(rng, 14 if case == "mlfq-boost" else 9)
        p = params(rng)
        cost = rng.choice([0, 0, 1, 2])
        trace = simulate(jobs, getattr(REF, policy)(**p), cost)
        found = rule(jobs, trace, replay(jobs, trace), p)
        assert found is None, (p, cost, jobs, found)
