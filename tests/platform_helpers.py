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
