"""A wheel of the installed ``grader`` package, built without network or build tools.

Gradescope images, PrairieLearn images and student kits install osgrade from this file,
so it is built from exactly the code that is running (an editable checkout or an
installed copy) and needs no private package index. The format is PEP 427: a zip with the
package files, ``METADATA``, ``WHEEL``, ``entry_points.txt`` and a ``RECORD`` of hashes.
Timestamps are fixed so that the same code gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import zipfile
from pathlib import Path

import grader

from .. import __version__

DIST = "osgrade"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_FALLBACK_REQUIRES = [
    "hypothesis<7,>=6.100",
    "pydantic<3,>=2.6",
    "jinja2<4,>=3.1",
    'tomli>=2.0; python_version < "3.11"',
]


def wheel_name() -> str:
    return f"{DIST}-{__version__}-py3-none-any.whl"


def package_files() -> list[tuple[str, Path]]:
    """(path inside the wheel, file on disk) for every file of the grader package."""
    root = Path(grader.__file__).resolve().parent
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root.parent)
        if path.is_file() and "__pycache__" not in rel.parts and path.suffix != ".pyc":
            out.append((rel.as_posix(), path))
    return out


def _metadata() -> str:
    try:
        md = importlib.metadata.metadata(DIST)
        summary = md["Summary"] or ""
        requires = [r for r in md.get_all("Requires-Dist") or [] if "extra ==" not in r]
        python = md["Requires-Python"] or ">=3.10"
    except importlib.metadata.PackageNotFoundError:  # running from a bare source tree
        summary, requires, python = "osgrade", _FALLBACK_REQUIRES, ">=3.10"
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {DIST}",
        f"Version: {__version__}",
        f"Summary: {summary}",
        f"Requires-Python: {python}",
        *(f"Requires-Dist: {r}" for r in requires),
    ]
    return "\n".join(lines) + "\n"


def _digest(data: bytes) -> str:
    raw = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + raw.decode()


def build_wheel(dest_dir: Path) -> Path:
    """Write the wheel into ``dest_dir``; returns its path."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / wheel_name()
    info = f"{DIST}-{__version__}.dist-info"
    entries: list[tuple[str, bytes]] = [(name, p.read_bytes()) for name, p in package_files()]
    entries += [
        (f"{info}/METADATA", _metadata().encode()),
        (
            f"{info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: osgrade\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        ),
        (f"{info}/entry_points.txt", b"[console_scripts]\nosgrade = grader.cli:main\n"),
        (f"{info}/top_level.txt", b"grader\n"),
    ]
    record = "".join(f"{name},{_digest(data)},{len(data)}\n" for name, data in entries)
    record += f"{info}/RECORD,,\n"
    entries.append((f"{info}/RECORD", record.encode()))
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zi = zipfile.ZipInfo(name, _FIXED_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zf.writestr(zi, data)
    return target
