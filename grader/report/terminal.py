"""A short plain-text summary for the terminal: the score, one line per test, the first failure."""

from __future__ import annotations

from ..engine.results import GradeReport, Outcome
from . import text

_COLOURS: dict[Outcome, str] = {
    "passed": "\033[32m",
    "failed": "\033[31m",
    "error": "\033[33m",
    "timeout": "\033[33m",
    "crashed": "\033[31m",
}
_RESET = "\033[0m"


def summary(report: GradeReport, *, color: bool = False) -> str:
    """Score line, one line per test, and the first visible failure's divergence sentence.

    Only tests whose visibility is "visible" contribute the closing sentence, since students
    see this text when they run ``osgrade check``. ``color`` adds ANSI colours.
    """
    a = report.assignment
    lines = [f"{a.title} ({a.name} {a.version})".replace(" )", ")")]
    if report.grader_error is not None:
        lines.append("Grading failed: the autograder itself hit an error (details for staff).")
        return "\n".join(lines)
    passed = sum(t.outcome == "passed" for t in report.tests)
    lines.append(
        f"Score: {text.points(report.score)} / {text.points(report.max_score)}"
        f"  ({passed} of {len(report.tests)} tests passed)"
    )
    lines += [f"Problem: {p}" for p in report.submission.problems]
    if report.tests:
        lines.append("")
    number_w = max((len(t.number) for t in report.tests), default=1)
    points_w = max(
        (len(f"{text.points(t.score)}/{text.points(t.max_score)}") for t in report.tests),
        default=1,
    )
    for t in report.tests:
        word = f"{text.OUTCOME_WORDS[t.outcome]:<9}"
        if color:
            word = f"{_COLOURS[t.outcome]}{word}{_RESET}"
        pts = f"{text.points(t.score)}/{text.points(t.max_score)}"
        lines.append(f"  {t.number:>{number_w}}  {word}  {pts:>{points_w}}  {t.name}")
    first = next(
        (t for t in report.tests if t.outcome != "passed" and t.visibility == "visible"), None
    )
    if first is not None:
        cx = first.counterexample
        sentence = (cx.divergence if cx and cx.divergence else None) or first.message
        if sentence:
            lines += ["", f"First failure, test {first.number} ({first.name}):", f"  {sentence}"]
    return "\n".join(lines)
