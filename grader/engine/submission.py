"""Reading a submission: a directory or a zip, which files it has, their hashes."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import zipfile
from pathlib import Path

from .errors import SubmissionError

MAX_ZIP_BYTES = 20 * 1024 * 1024
MAX_ZIP_FILES = 500


def hash_files(directory: Path, names: list[str]) -> dict[str, str]:
    out = {}
    for name in names:
        p = directory / name
        if p.is_file() and not p.is_symlink():
            out[name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def missing_files(directory: Path, names: list[str]) -> list[str]:
    return [n for n in names if not (directory / n).is_file() or (directory / n).is_symlink()]


class PreparedSubmission:
    """A submission as a directory; a zip is unpacked into a temporary one (removed on close)."""

    def __init__(self, path: Path) -> None:
        self.original = path
        self._tmp: Path | None = None
        if path.is_dir():
            self.directory = path.resolve()
        elif path.is_file() and zipfile.is_zipfile(path):
            self._tmp = Path(tempfile.mkdtemp(prefix="osgrade-zip-"))
            self.directory = _unzip(path, self._tmp)
        elif path.exists():
            raise SubmissionError(
                f"submission {path} is neither a directory nor a zip file; "
                "give the folder with your files or a .zip of it"
            )
        else:
            raise SubmissionError(f"submission {path} does not exist; check the path")

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> PreparedSubmission:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _unzip(path: Path, dest: Path) -> Path:
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_FILES:
            raise SubmissionError(f"{path} holds {len(infos)} files; at most {MAX_ZIP_FILES}")
        total = sum(i.file_size for i in infos)
        if total > MAX_ZIP_BYTES:
            raise SubmissionError(f"{path} unpacks to {total} bytes; at most {MAX_ZIP_BYTES}")
        for info in infos:
            name = Path(info.filename)
            if name.is_absolute() or ".." in name.parts:
                raise SubmissionError(f"{path} contains an unsafe path {info.filename!r}")
            if info.is_dir():
                continue
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
    # A zip of a folder: use the single top-level folder.
    entries = [p for p in dest.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return dest
