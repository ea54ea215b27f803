"""One error tree for the engine. Messages name the thing, the value and the fix."""

from __future__ import annotations


class OsgradeError(Exception):
    """Base of every error osgrade raises on purpose."""


class ConfigError(OsgradeError):
    """An assignment file, a CLI argument or a path is wrong (exit code 2)."""


class SubmissionError(OsgradeError):
    """The submission cannot be read at all (not a directory, not a zip, too large)."""
