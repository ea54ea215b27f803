"""Geometry of a frames picture (a column per access, a row per frame): rectangles and labels.

``layout_frames`` turns a FramesPicture into pixel coordinates for templates/frames.svg.j2,
and ``text_frames`` into fixed-width lines for the Markdown report. Both show the same
window of accesses: a long trace is clipped to a window around the first difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..engine.results import FrameColumn, FrameOutcome, FramesPicture

# Okabe–Ito colours (colour-blind safe), as in gantt.py; every colour also has a letter.
OUTCOMES: dict[FrameOutcome, tuple[str, str, str, str]] = {
    # outcome: (fill, text colour, letter, legend)
    "hit": ("#009E73", "#ffffff", "H", "hit (page in memory)"),
    "tlb_hit": ("#009E73", "#ffffff", "T", "TLB hit"),
    "tlb_miss": ("#56B4E9", "#000000", "M", "TLB miss, page in memory"),
    "fault": ("#E69F00", "#000000", "F", "page fault (page loaded)"),
    "segfault": ("#CC79A7", "#000000", "S", "segmentation fault"),
    "stray": ("#555555", "#ffffff", "!", "reached a frame without the page"),
}
MARK_COLOUR = "#D00000"
IDLE_FILL = "#eef1f5"

MAX_WIDTH = 900
LEFT = 84
RIGHT = 14
TOP = 6
MARK_BAND = 18
HEAD_ROW = 17
LANE_TITLE = 22
ROW = 24
CELL_PAD = 2
RESULT_ROW = 20
EVICTED_ROW = 18
LANE_GAP = 10
LEGEND_ROW = 22
MIN_COL, MAX_COL = 26, 44
MIN_WIDTH = 520  # room for the lane titles, the marker's label and the legend

MAX_COLUMNS = 30  # longer traces are clipped around the first difference


@dataclass(frozen=True, slots=True)
class Cell:
    x: float
    y: float
    width: float
    height: float
    text: str
    fill: str
    text_fill: str
    css: str  # "used", "resident"
    title: str  # tooltip


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    text: str
    css: str = ""
    anchor: Literal["start", "middle", "end"] = "middle"


@dataclass(frozen=True, slots=True)
class FrameLane:
    title: str
    title_x: float
    title_y: float
    top: float
    bottom: float
    row_labels: tuple[Label, ...]
    bands: tuple[tuple[float, float], ...]  # (y, height) of the shaded rows
    cells: tuple[Cell, ...]  # frame cells and result badges
    labels: tuple[Label, ...]  # evicted pages
    note: str | None
    note_x: float
    note_y: float


@dataclass(frozen=True, slots=True)
class FrameMarker:
    x: float
    y: float
    width: float
    height: float
    label: str
    label_x: float
    label_y: float
    anchor: Literal["start", "middle", "end"]


@dataclass(frozen=True, slots=True)
class LegendEntry:
    x: float
    y: float
    fill: str
    letter: str
    text_fill: str
    label: str
    text_x: float
    text_y: float
    kind: Literal["swatch", "mark", "note"]


@dataclass(frozen=True, slots=True)
class FramesChart:
    """Everything frames.svg.j2 draws, in pixels; ``text`` is the same picture as text lines."""

    id: str
    width: float
    height: float
    plot_left: float
    plot_width: float
    heads: tuple[Label, ...]  # access numbers and pages, over the columns
    head_labels: tuple[Label, ...]  # "access", "page" at the left
    lanes: tuple[FrameLane, ...]
    marker: FrameMarker | None
    legend: tuple[LegendEntry, ...]
    caption: str
    window: tuple[int, int]
    text: tuple[str, ...]
    description: str


def window(picture: FramesPicture, max_columns: int = MAX_COLUMNS) -> tuple[int, int]:
    """The accesses [start, end) to draw: all of them, or a window around the mark."""
    n = len(picture.accesses)
    if n <= max_columns:
        return 0, n
    start = 0 if picture.mark is None else picture.mark - max_columns // 3
    start = min(max(start, 0), n - max_columns)
    return start, start + max_columns


def frame_count(picture: FramesPicture) -> int:
    cols = [*picture.expected, *(picture.actual or [])]
    return max((len(c.cells) for c in cols), default=0)


def _cell_title(i: int, frame: int, col: FrameColumn, heading: str) -> str:
    page = col.cells[frame] if frame < len(col.cells) else None
    if col.frame == frame:
        word = OUTCOMES[col.outcome][3]
        return f"access {i} ({heading}): {word}, frame {frame} holds {page or 'nothing'}"
    return f"after access {i}: frame {frame} holds {page}"


def layout_frames(picture: FramesPicture, chart_id: str = "frames") -> FramesChart:
    """Lay out ``picture``: header rows, one lane per run, a marker and a legend."""
    w0, w1 = window(picture)
    ncols = max(w1 - w0, 1)
    nframes = frame_count(picture)
    col = min(MAX_COL, max(MIN_COL, (MAX_WIDTH - LEFT - RIGHT) / ncols))
    width = round(max(LEFT + ncols * col + RIGHT, MIN_WIDTH), 2)

    def x_of(i: int) -> float:
        return round(LEFT + (i - w0) * col, 2)

    y = float(TOP + (MARK_BAND if picture.mark is not None else 0))
    heads: list[Label] = []
    for i in range(w0, w1):
        cx = x_of(i) + col / 2
        heads.append(Label(cx, y + 12, str(i), "head-index"))
        heads.append(Label(cx, y + HEAD_ROW + 12, picture.accesses[i], "head-page"))
    head_labels = (
        Label(LEFT - 8, y + 12, "access", "row-label", "end"),
        Label(LEFT - 8, y + HEAD_ROW + 12, "page", "row-label", "end"),
    )
    head_top = y
    y += 2 * HEAD_ROW + 4

    lanes: list[FrameLane] = []
    used_outcomes: set[FrameOutcome] = set()
    any_write_back = any_dirty = False
    for title, columns in (("Reference (expected)", picture.expected), ("Yours", picture.actual)):
        title_y = y + 15
        y += LANE_TITLE
        top = y
        labels_left: list[Label] = []
        bands: list[tuple[float, float]] = []
        for f in range(nframes):
            ry = y + f * ROW
            labels_left.append(Label(LEFT - 8, ry + ROW / 2 + 4, f"frame {f}", "row-label", "end"))
            if f % 2 == 1:
                bands.append((ry, ROW))
        result_y = y + nframes * ROW
        evicted_y = result_y + RESULT_ROW
        labels_left.append(Label(LEFT - 8, result_y + 14, "result", "row-label", "end"))
        labels_left.append(Label(LEFT - 8, evicted_y + 13, "evicted", "row-label", "end"))
        cells: list[Cell] = []
        labels: list[Label] = []
        for i in range(w0, w1):
            if columns is None or i >= len(columns):
                continue
            c = columns[i]
            x = x_of(i)
            fill, text_fill, letter, word = OUTCOMES[c.outcome]
            used_outcomes.add(c.outcome)
            for f, page in enumerate(c.cells):
                used = c.frame == f
                if page is None and not used:
                    continue
                text = page or ""
                if used and c.dirty:
                    text, any_dirty = text + "d", True
                cells.append(
                    Cell(
                        x + CELL_PAD,
                        y + f * ROW + CELL_PAD,
                        col - 2 * CELL_PAD,
                        ROW - 2 * CELL_PAD,
                        text,
                        fill if used else IDLE_FILL,
                        text_fill if used else "#222222",
                        "used" if used else "resident",
                        _cell_title(i, f, c, picture.accesses[i]),
                    )
                )
            cells.append(
                Cell(
                    x + CELL_PAD + 3,
                    result_y + 3,
                    col - 2 * CELL_PAD - 6,
                    RESULT_ROW - 6,
                    letter,
                    fill,
                    text_fill,
                    "badge",
                    f"access {i}: {word}",
                )
            )
            if c.evicted is not None:
                any_write_back = any_write_back or c.write_back
                text = c.evicted + ("*" if c.write_back else "")
                labels.append(Label(x + col / 2, evicted_y + 13, text, "evicted"))
        bottom = evicted_y + EVICTED_ROW
        lanes.append(
            FrameLane(
                title=title,
                title_x=LEFT,
                title_y=title_y,
                top=top,
                bottom=bottom,
                row_labels=tuple(labels_left),
                bands=tuple(bands),
                cells=tuple(cells),
                labels=tuple(labels),
                note="Your code produced no run for this input." if columns is None else None,
                note_x=LEFT + 12,
                note_y=top + min(nframes, 2) * ROW / 2 + 5,
            )
        )
        y = bottom + LANE_GAP

    marker = None
    if picture.mark is not None and w0 <= picture.mark < w1:
        mx = x_of(picture.mark)
        label_x = mx + col / 2
        anchor: Literal["start", "middle", "end"] = "middle"
        if label_x < LEFT + 90:
            anchor, label_x = "start", mx
        elif label_x > width - 90:
            anchor, label_x = "end", mx + col
        marker = FrameMarker(
            x=mx,
            y=head_top - 2,
            width=col,
            height=lanes[-1].bottom - head_top + 2,
            label=f"first difference (access {picture.mark})",
            label_x=label_x,
            label_y=TOP + 12,
            anchor=anchor,
        )
    legend, y = _legend(used_outcomes, any_write_back, any_dirty, marker is not None, y, width)
    return FramesChart(
        id=chart_id,
        width=width,
        height=y + 4,
        plot_left=LEFT,
        plot_width=ncols * col,
        heads=tuple(heads),
        head_labels=head_labels,
        lanes=tuple(lanes),
        marker=marker,
        legend=legend,
        caption=_caption(picture, w0, w1),
        window=(w0, w1),
        text=text_frames(picture),
        description=_description(picture, nframes),
    )


def _legend(
    outcomes: set[FrameOutcome], write_back: bool, dirty: bool, mark: bool, y: float, width: float
) -> tuple[tuple[LegendEntry, ...], float]:
    entries: list[tuple[Literal["swatch", "mark", "note"], str, str, str, str, float]] = []
    for key, (fill, text_fill, letter, label) in OUTCOMES.items():
        if key in outcomes:
            entries.append(("swatch", fill, letter, text_fill, label, 22 + 7.0 * len(label)))
    if dirty:
        entries.append(("note", "", "5d", "#000000", "page 5, dirty after the access", 220))
    if write_back:
        entries.append(("note", "", "5*", "#000000", "evicted dirty page, written back", 230))
    if mark:
        entries.append(("mark", MARK_COLOUR, "", "", "first difference", 130))
    items: list[LegendEntry] = []
    x = float(LEFT)
    for kind, fill, letter, text_fill, label, w in entries:
        if x + w > width - RIGHT and x > LEFT:
            x, y = float(LEFT), y + LEGEND_ROW
        items.append(LegendEntry(x, y, fill, letter, text_fill, label, x + 22, y + 12, kind))
        x += w + 12
    return tuple(items), y + LEGEND_ROW


def _caption(picture: FramesPicture, w0: int, w1: int) -> str:
    base = (
        "Top: the reference (what should happen). Bottom: yours. One column per access, "
        "one row per frame; each cell shows the page in that frame after the access, and "
        "the coloured cell is the frame the access used."
    )
    if picture.note:
        base = f"{base} {picture.note}"
    n = len(picture.accesses)
    if (w0, w1) != (0, n):
        base += f" The trace has {n} accesses; only accesses {w0}–{w1 - 1} are shown."
    return base


def _description(picture: FramesPicture, nframes: int) -> str:
    where = f", first difference at access {picture.mark}" if picture.mark is not None else ""
    return (
        f"Frames picture: {len(picture.accesses)} accesses, {nframes} frames, the "
        f"reference above yours{where}."
    )


# ----------------------------------------------------------------------------- text form


def _text_lane(columns: list[FrameColumn], nframes: int, w0: int, w1: int, width: int) -> list[str]:
    lines = []
    for f in range(nframes):
        row = []
        for i in range(w0, w1):
            c = columns[i] if i < len(columns) else None
            if c is None:
                row.append("")
                continue
            page = c.cells[f] if f < len(c.cells) else None
            text = page if page is not None else "."
            if c.frame == f:
                text = f"[{text}{'d' if c.dirty else ''}]"
            row.append(text)
        lines.append(_row(f"  frame {f}", row, width))
    lines.append(
        _row(
            "  result",
            [OUTCOMES[columns[i].outcome][2] if i < len(columns) else "" for i in range(w0, w1)],
            width,
        )
    )
    evicted = []
    for i in range(w0, w1):
        c = columns[i] if i < len(columns) else None
        if c is None or c.evicted is None:
            evicted.append("")
        else:
            evicted.append(c.evicted + ("*" if c.write_back else ""))
    if any(evicted):
        lines.append(_row("  evicted", evicted, width))
    return lines


LABEL_WIDTH = 11


def _row(label: str, cells: list[str], width: int) -> str:
    return (label.ljust(LABEL_WIDTH) + "".join(c.center(width) for c in cells)).rstrip()


def text_frames(picture: FramesPicture) -> tuple[str, ...]:
    """The picture as fixed-width lines for a Markdown code block (same window as the SVG)."""
    w0, w1 = window(picture)
    nframes = frame_count(picture)
    labels = [*picture.accesses[w0:w1]]
    for cols in (picture.expected, picture.actual or []):
        for c in cols[w0:w1]:
            labels += [p + "d" for p in c.cells if p is not None]
            if c.evicted:
                labels.append(c.evicted + "*")
    width = max([len(x) for x in labels] + [len(str(w1 - 1))]) + 3  # room for "[" and "]"
    lines = [
        _row("access", [str(i) for i in range(w0, w1)], width),
        _row("page", picture.accesses[w0:w1], width),
        "Reference (expected)",
        *_text_lane(picture.expected, nframes, w0, w1, width),
        "Yours",
    ]
    if picture.actual is None:
        lines.append("  (your code produced no run)")
    else:
        lines += _text_lane(picture.actual, nframes, w0, w1, width)
    if picture.mark is not None and w0 <= picture.mark < w1:
        pos = LABEL_WIDTH + (picture.mark - w0) * width + width // 2
        lines.append(" " * pos + f"^ first difference (access {picture.mark})")
    present = {c.outcome for c in [*picture.expected, *(picture.actual or [])]}
    keys = ", ".join(f"{v[2]} {v[3]}" for k, v in OUTCOMES.items() if k in present)
    lines.append(
        f"[x]: the frame the access used ([5d]: page 5, dirty after it). {keys}; "
        "5* = page 5 evicted and written back."
    )
    if (w0, w1) != (0, len(picture.accesses)):
        lines.append(f"(only accesses {w0}–{w1 - 1} of {len(picture.accesses)} are shown)")
    return tuple(lines)
