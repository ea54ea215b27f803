"""Wall time to grade the scheduling reference with every hidden test, and the cost of
the worker boundary: the same grading with the student code called in-process instead.

Run: python benchmarks/grade_reference.py   (targets: < 30 s; worker within 1.5x)
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import grader.engine.grade as grade_mod  # noqa: E402
from grader.engine.assignment import find_assignment  # noqa: E402
from grader.engine.worker import CallOk  # noqa: E402


class InProcessWorker:
    """Calls the entry in this process (NO isolation): the baseline for the boundary's cost."""

    def __init__(self, directory: Path, limits: object = None) -> None:
        self.isolation: dict[str, Any] = {"in_process": True}
        self.directory = directory
        self.module: Any = None

    def __enter__(self) -> InProcessWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def call(
        self, entry: str, module: str, args: dict[str, Any], timeout: float | None = None
    ) -> CallOk:
        if self.module is None:
            spec = importlib.util.spec_from_file_location(
                "bench_sub", self.directory / f"{module}.py"
            )
            assert spec and spec.loader
            self.module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(self.module)
        mod_name, fn = entry.split(":")
        value = getattr(importlib.import_module(mod_name), fn)(self.module, args)
        return CallOk(json.loads(json.dumps(value)))  # the same serialisation cost


def timed(label: str) -> float:
    a = find_assignment("scheduling", ROOT / "assignments")
    t0 = time.perf_counter()
    report = grade_mod.grade(a, ROOT / "reference" / "scheduling")
    took = time.perf_counter() - t0
    examples = sum(t.examples for t in report.tests)
    print(
        f"{label:<34} {took:6.2f} s  score {report.score:g}/{report.max_score:g}, {examples} calls"
    )
    return took


def main() -> None:
    with_worker = timed("grade reference (worker)")
    real = grade_mod.Worker
    grade_mod.Worker = InProcessWorker  # type: ignore[assignment,misc]
    try:
        in_process = timed("grade reference (in-process)")
    finally:
        grade_mod.Worker = real  # type: ignore[misc]
    print(f"worker / in-process: {with_worker / in_process:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
