"""Shared helpers of the platform tests: the assignments that exist, offline virtual envs."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assignments" / "scheduling" / "samples"


def assignment_names() -> list[str]:
    """Every assignment of the repository (the platform tests run on each)."""
    return sorted(p.parent.name for p in (ROOT / "assignments").glob("*/assignment.toml"))


def fresh_venv(where: Path) -> Path:
    """A new virtual environment (see ``add_test_deps``); returns its python."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=120)
    python = where / "bin" / "python"
    add_test_deps(python)
    return python


def add_test_deps(python: Path) -> None:
    """Let a fresh venv see this test run's dependencies (hypothesis, pydantic, jinja2)
    through a .pth file, but not osgrade: there is no network here, so the dependencies
    cannot come from PyPI; osgrade itself must come from a bundled wheel."""
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = sysconfig.get_paths()["purelib"]
    # Only the listed folder is added; the .pth files inside it (the editable install of
    # this checkout) are not processed, so `import grader` fails until the wheel is in.
    (Path(site) / "osgrade-test-deps.pth").write_text(deps + "\n")


def grader_location(python: Path) -> str:
    done = subprocess.run(
        [str(python), "-I", "-c", "import grader, sys; print(grader.__file__)"],
        cwd=python.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout.strip() if done.returncode == 0 else ""


TINY_PROPERTIES = '''
"""A tiny assignment for the platform tests: students write clamp(x, lo, hi)."""
import os
import time

from hypothesis import strategies as st

from grader.engine.props import Context, Counterexample, Failure, prop


def describe(inputs):
    return Counterexample(inputs=inputs, snippet=f"clamp({inputs['x']}, {inputs['lo']}, {inputs['lo'] + inputs['width']})")


@prop(describe=describe, x=st.integers(-20, 20), lo=st.integers(-10, 10), width=st.integers(0, 10))
def clamp_matches(ctx: Context, x: int, lo: int, width: int) -> None:
    names = ctx.call("grader.sandbox.entries:probe", {})["names"]
    if "CRASH_THE_GRADER" in names:
        os._exit(7)  # a grader bug, for the batch tests: the process dies
    if "HANG_THE_GRADER" in names:
        time.sleep(120)  # a grader bug: the process hangs
    hi = lo + width
    got = ctx.call("grader.sandbox.entries:call", {"function": "clamp", "args": [x, lo, hi]})
    want = ctx.reference.clamp(x, lo, hi)
    if got != want:
        raise Failure(
            f"clamp({x}, {lo}, {hi}) returned {got!r}",
            expected=repr(want),
            actual=repr(got),
            divergence=f"for x={x} the answer should be {want}",
        )


@prop(x=st.integers(-20, 20))
def clamp_is_idempotent(ctx: Context, x: int) -> None:
    once = ctx.call("grader.sandbox.entries:call", {"function": "clamp", "args": [x, -5, 5]})
    twice = ctx.call("grader.sandbox.entries:call", {"function": "clamp", "args": [once, -5, 5]})
    if once != twice:
        raise Failure(f"clamp(clamp({x})) != clamp({x})")
'''

TINY_TOML = """
name = "tiny"
title = "Tiny: clamp"
version = "1"
reference = "../../reference/tiny"
template = "../../student_template/tiny"

[submission]
files = ["clamp.py"]
module = "clamp"

[limits]
call_timeout_s = 2.0

[hypothesis]
max_examples = 15
seed = 7

[mutation]
max_examples = 15
equivalent = EQUIVALENT

[[tests]]
id = "clamp-reference"
name = "clamp: same answer as the reference"
property = "clamp_matches"
points = 3
public = true

[[tests]]
id = "clamp-idempotent"
name = "clamp: clamping twice changes nothing"
property = "clamp_is_idempotent"
points = 1
"""

TINY_REFERENCE = '''
def clamp(x, lo, hi):
    """x limited to [lo, hi]."""
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x
'''

TINY_TEMPLATE = '''
def clamp(x, lo, hi):
    """Return x limited to [lo, hi]: clamp(7, 0, 5) == 5."""
    raise NotImplementedError("clamp")
'''


def make_tiny(root: Path, equivalent: list[str] | None = None) -> Path:
    """A complete small assignment under ``root`` (the repository layout); returns its folder."""
    a = root / "assignments" / "tiny"
    a.mkdir(parents=True)
    toml = TINY_TOML.replace("EQUIVALENT", repr(equivalent or []).replace("'", '"'))
    (a / "assignment.toml").write_text(toml)
    (a / "properties.py").write_text(TINY_PROPERTIES)
    for folder, text in (("reference", TINY_REFERENCE), ("student_template", TINY_TEMPLATE)):
        (root / folder / "tiny").mkdir(parents=True)
        (root / folder / "tiny" / "clamp.py").write_text(text)
    (root / "student_template" / "tiny" / "README.md").write_text("# clamp\n\nWrite clamp.\n")
    (root / "reference" / "tiny" / "README.md").write_text("# clamp (reference)\n")
    return a
