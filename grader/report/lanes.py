"""A LanesPicture (a failing interleaving) prepared for templates/lanes.html.j2 and as text.

One column per thread, one row per step in the order the steps ran: the line of the
student's code (its number and source) and what it did ("flag.test_and_set() → 1").
A row between steps marks each change of thread, saying why (preempted by the explorer,
time slice over, blocked, finished). The last rows say how each thread ended and what
went wrong, then the replay string and the command that replays it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..engine.results import LanesPicture, LaneStep

TEXT_WIDTH = 110  # characters of a text row
MIN_COLUMN = 22
MAX_COLUMN = 56

_WHY = {
    "preempted": "preempted",
    "slice": "time slice over",
    "yield": "yields",
    "blocked": "blocked",
    "done": "finished",
}
_KIND_CSS = {
    "line": "step-line",
    "opcode": "step-line",
    "op": "step-line",
    "event": "step-event",
    "point": "step-test",
    "until": "step-test",
    "sleep": "step-sleep",
    "wake": "step-wake",
    "raise": "step-raise",
    "done": "step-done",
    "repeat": "step-repeat",
    "omitted": "step-repeat",
}


@dataclass(frozen=True, slots=True)
class LaneCell:
    line: str  # "22" (the line number), or "" for the test program
    code: str
    note: str
    css: str
    title: str  # tooltip: the full place and note
    opcode: bool = False  # one bytecode instruction of the line, not the whole line


@dataclass(frozen=True, slots=True)
class LaneRow:
    kind: str  # "step" | "switch"
    number: str  # the step number, "" for a switch row
    column: int  # which thread's lane holds the cell
    cell: LaneCell | None
    label: str  # for a switch row: "T0 preempted by the explorer → T1 runs"
    css: str


@dataclass(frozen=True, slots=True)
class LanesChart:
    id: str
    title: str
    headers: tuple[str, ...]
    header_css: tuple[str, ...]
    columns: int
    rows: tuple[LaneRow, ...]
    ends: tuple[str, ...]
    end_css: tuple[str, ...]
    outcome: str
    replay: str
    command: str
    caption: str
    text_intro: str
    text: tuple[str, ...]


def _file_of(where: str) -> str:
    return where.rsplit(":", 1)[0] if ":" in where else ""


def _cell(step: LaneStep, one_file: bool) -> LaneCell:
    line = step.where.rsplit(":", 1)[1] if ":" in step.where else ""
    if not one_file and step.where:
        line = step.where
    css = _KIND_CSS.get(step.kind, "step-line")
    title = " — ".join(p for p in (step.where, step.code, step.note) if p)
    return LaneCell(line, step.code, step.note, css, title, step.kind == "opcode")


def _switch_label(step: LaneStep, before: int | None) -> str:
    who = f"T{before}" if before is not None else "the test"
    why = _WHY.get(step.switch, step.switch)
    if step.preempted:
        why = (
            "preempted by the explorer"
            if step.switch == "preempted"
            else f"{why} (explorer's choice)"
        )
    return f"{who} {why} → T{step.thread} runs"


def layout_lanes(picture: LanesPicture, chart_id: str = "lanes") -> LanesChart:
    """Prepare ``picture`` (rows, css classes, texts) for the HTML template and Markdown."""
    ids = [t.id for t in picture.threads]
    column = {tid: i for i, tid in enumerate(ids)}
    files = {_file_of(s.where) for s in picture.steps if s.where}
    one_file = len(files) <= 1
    rows: list[LaneRow] = []
    number, before = 0, None
    for step in picture.steps:
        col = column.get(step.thread, 0)
        if step.switch:
            css = "row-switch row-preempted" if step.preempted else "row-switch"
            rows.append(LaneRow("switch", "", col, None, _switch_label(step, before), css))
        if step.kind not in ("repeat", "omitted"):
            number += 1
        shown = str(number) if step.kind not in ("repeat", "omitted") else ""
        rows.append(LaneRow("step", shown, col, _cell(step, one_file), "", "row-step"))
        before = step.thread
    header_css = tuple("lane-culprit" if picture.culprit == tid else "lane-head" for tid in ids)
    end_css = tuple(f"tone-{t.tone}" for t in picture.threads)
    where = f"Line numbers are in {next(iter(files))}. " if one_file and files else ""
    cut = f" {picture.omitted} steps in the middle are left out." if picture.omitted else ""
    caption = " ".join(
        p
        for p in (
            picture.caption,
            f"One column per thread, one row per step, in the order they ran. {where}"
            "A bar between rows marks a change of thread; a red one, a preemption "
            f"chosen by the explorer.{cut}",
        )
        if p
    )
    chart = LanesChart(
        id=chart_id,
        title=picture.title,
        headers=tuple(t.label for t in picture.threads),
        header_css=header_css,
        columns=len(ids),
        rows=tuple(rows),
        ends=tuple(t.end for t in picture.threads),
        end_css=end_css,
        outcome=picture.outcome,
        replay=picture.replay,
        command=picture.command,
        caption=caption,
        text_intro="The interleaving that fails, one column per thread",
        text=(),
    )
    return _with_text(chart)


def _clip(text: str, width: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def _cell_text(cell: LaneCell) -> str:
    if cell.opcode and cell.note:  # one instruction: what it does matters more than the line
        return f"{cell.line:>3} {cell.note}: {cell.code}"
    head = f"{cell.line:>3} {cell.code}" if cell.line else cell.code
    if not head.strip():
        return cell.note
    return f"{head}  [{cell.note}]" if cell.note else head


def text_lanes(chart: LanesChart) -> tuple[str, ...]:
    """Fixed-width lines: a header, one line per step, ``──`` lines at each change of thread."""
    n = max(chart.columns, 1)
    width = max(MIN_COLUMN, min(MAX_COLUMN, (TEXT_WIDTH - 6) // n - 3))

    def line(prefix: str, cells: list[str]) -> str:
        padded = [_clip(c, width).ljust(width) for c in cells]
        return (prefix + " | ".join(padded)).rstrip()

    lines = [
        line("      ", list(chart.headers)),
        "      " + "-+-".join("-" * width for _ in range(n)),
    ]
    for row in chart.rows:
        if row.kind == "switch":
            mark = "!!" if "row-preempted" in row.css else "--"
            lines.append(f"  {mark}  ── {row.label} ──")
            continue
        cells = [""] * n
        if row.cell is not None:
            cells[row.column] = _cell_text(row.cell)
        lines.append(line(f"{row.number:>4}  ", cells))
    lines.append(line("end   ", list(chart.ends)))
    lines.append(f"  ✗  {chart.outcome}")
    if chart.replay:
        lines.append(f"  replay: {chart.command or chart.replay}")
    return tuple(lines)


def _with_text(chart: LanesChart) -> LanesChart:
    return replace(chart, text=text_lanes(chart))
