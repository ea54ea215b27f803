"""Small formatting helpers shared by the views, the exporters and the terminal summary."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ..engine.results import Outcome

OUTCOME_WORDS: dict[Outcome, str] = {
    "passed": "Passed",
    "failed": "Failed",
    "error": "Error",
    "timeout": "Timed out",
    "crashed": "Crashed",
}
OUTCOME_ICONS: dict[Outcome, str] = {
    "passed": "✓",
    "failed": "✗",
    "error": "⚠",
    "timeout": "◷",
    "crashed": "✗",
}


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """Text shown verbatim: ``fence`` is a Markdown fence longer than any backtick run inside."""

    text: str
    fence: str
    language: str = ""
    truncated: bool = False


def code_block(text: str, language: str = "", limit: int = 8000) -> CodeBlock:
    """A CodeBlock of ``text``, cut to ``limit`` characters (saying so on its last line)."""
    truncated = len(text) > limit
    if truncated:
        text = text[:limit].rstrip() + f"\n… (cut: {len(text) - limit} more characters)"
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return CodeBlock(text, "`" * max(3, longest + 1), language, truncated)


def points(x: float) -> str:
    """8.0 -> '8', 2.5 -> '2.5'."""
    return f"{x:g}"


def duration(seconds: float) -> str:
    """A wall-clock duration for people: '0.4 s', '12.3 s', '2 min 05 s'."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def when(iso: str) -> str:
    """'2026-11-28T14:03:00+00:00' -> '2026-11-28 14:03 UTC'; unparsable text is kept as is."""
    try:
        stamp = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.timezone.utc)
        return stamp.strftime("%Y-%m-%d %H:%M UTC")
    return stamp.strftime("%Y-%m-%d %H:%M")


_MD_SPECIAL = re.compile(r"([\\`*\[\]|])")


def md_escape(text: object) -> str:
    """Text safe to put in Markdown outside a code block: no HTML, links, emphasis or table breaks.

    Messages can quote the student's own exception text, and Markdown renderers pass raw
    HTML through, so ``<``, ``>`` and ``&`` become entities.
    """
    s = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(r"\\\1", s).replace("\r", "").replace("\n", " ")
    # A leading "#", "-", "+" or "=" would start a heading or a list.
    return "\\" + s if s[:1] in ("#", "-", "+", "=") else s
