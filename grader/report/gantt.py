"""Geometry of a Gantt chart (reference above, yours below): rectangles and labels, no markup.

``layout_gantt`` turns a GanttPicture into pixel coordinates for templates/gantt.svg.j2, and
``text_gantt`` into fixed-width lines (``J1  |###..##   |``) for the Markdown report. Both
show the same window of time: a long schedule is clipped to a window around the first
difference, and the caption says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..engine.results import GanttPicture, Segment

Ticks = int

# Colour-blind-safe colours: Okabe–Ito without vermillion (so that no job looks like the red
# "first difference" line), then three of Paul Tol's "muted" set. (fill, text drawn on it)
PALETTE: tuple[tuple[str, str], ...] = (
    ("#0072B2", "#ffffff"),  # blue
    ("#E69F00", "#000000"),  # orange
    ("#009E73", "#ffffff"),  # bluish green
    ("#CC79A7", "#000000"),  # reddish purple
    ("#56B4E9", "#000000"),  # sky blue
    ("#F0E442", "#000000"),  # yellow
    ("#555555", "#ffffff"),  # dark grey
    ("#332288", "#ffffff"),  # indigo
    ("#999933", "#000000"),  # olive
    ("#882255", "#ffffff"),  # wine
)
MARK_COLOUR = "#D00000"

WIDTH = 900  # px, the whole chart
LEFT = 64  # px for the row labels
RIGHT = 18
TOP = 6
MARK_BAND = 18  # px above the lanes for the "first difference" label
LANE_TITLE = 20
ROW = 22
BAR = 16
LANE_GAP = 12
AXIS = 30
LEGEND_ROW = 22

MAX_WINDOW: Ticks = 120  # wider schedules are clipped: below ~7 px per tick bars get unreadable
TEXT_COLUMNS = 60  # columns of the text chart


@dataclass(frozen=True, slots=True)
class Bar:
    """One rectangle: a job running, or a context switch to that job (hatched)."""

    x: float
    y: float
    width: float
    height: float
    kind: Literal["run", "switch"]
    job: int
    fill: str  # a colour, or the url() of the hatch pattern for a switch
    title: str  # tooltip: "J1 runs t=3–7"


@dataclass(frozen=True, slots=True)
class Row:
    job: int
    label: str
    y: float  # top of the row
    height: float
    label_x: float
    label_y: float
    swatch: str  # the job's colour, drawn left of the label
    swatch_x: float
    swatch_y: float
    shaded: bool  # every other row gets a light band


@dataclass(frozen=True, slots=True)
class Lane:
    title: str
    title_x: float
    title_y: float
    top: float  # top of the first row
    bottom: float  # bottom of the last row
    height: float
    rows: tuple[Row, ...]
    bars: tuple[Bar, ...]
    note: str | None  # shown instead of bars ("your code produced no schedule")
    note_x: float
    note_y: float


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class Marker:
    """The red vertical line at the first difference."""

    x: float
    y1: float
    y2: float
    label: str
    label_x: float
    label_y: float
    anchor: Literal["start", "middle", "end"]


@dataclass(frozen=True, slots=True)
class LegendItem:
    kind: Literal["job", "switch", "mark"]
    x: float
    y: float  # top of the swatch
    fill: str
    label: str
    text_x: float
    text_y: float
    mid_x: float  # where the "mark" item draws its vertical line
    bottom: float


@dataclass(frozen=True, slots=True)
class GanttChart:
    """Everything the SVG template draws, in pixels; ``text`` is the same chart as text lines."""

    id: str  # unique in the page: prefixes the ids inside the SVG
    width: float
    height: float
    plot_left: float
    plot_right: float
    plot_width: float
    lanes: tuple[Lane, ...]
    ticks: tuple[Tick, ...]
    axis_y: float
    tick_end_y: float
    tick_label_y: float
    axis_label: str
    axis_label_y: float
    marker: Marker | None
    legend: tuple[LegendItem, ...]
    caption: str
    clipped: bool
    window: tuple[Ticks, Ticks]
    text: tuple[str, ...]
    description: str  # for screen readers (the SVG's <title>)

    @property
    def hatch_id(self) -> str:
        return f"{self.id}-hatch"


def job_colour(index: int) -> tuple[str, str]:
    """The (fill, text) colours of the job in row ``index``; the palette repeats."""
    return PALETTE[index % len(PALETTE)]


def nice_step(span: float, max_ticks: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that puts at most ``max_ticks`` ticks on span."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if span / (step * m) <= max_ticks:
                return step * m
        step *= 10


def job_rows(picture: GanttPicture) -> list[int]:
    """The jobs to draw, one row each: the picture's jobs, plus any a segment names."""
    jobs = list(dict.fromkeys(picture.jobs))
    for seg in [*picture.expected, *(picture.actual or [])]:
        if seg.job not in jobs:
            jobs.append(seg.job)
    return jobs


def time_window(
    picture: GanttPicture, max_window: Ticks = MAX_WINDOW
) -> tuple[Ticks, Ticks, Ticks]:
    """(start, end, total): the window to draw and where the whole schedule ends.

    When the schedule is longer than ``max_window`` the window is clipped around the
    first difference (a third before it, two thirds after), or to the start without one.
    """
    segs = [*picture.expected, *(picture.actual or [])]
    total = max((s.end for s in segs), default=0)
    if picture.mark is not None:
        total = max(total, picture.mark + 1)
    total = max(total, 1)
    if total <= max_window:
        return 0, total, total
    start = 0 if picture.mark is None else picture.mark - max_window // 3
    start = min(max(start, 0), total - max_window)
    return start, start + max_window, total


def _clip(seg: Segment, w0: Ticks, w1: Ticks) -> tuple[Ticks, Ticks] | None:
    a, b = max(seg.start, w0), min(seg.end, w1)
    return (a, b) if a < b else None


def _bar_title(seg: Segment) -> str:
    if seg.kind == "switch":
        return f"context switch to J{seg.job}, t={seg.start}–{seg.end}"
    return f"J{seg.job} runs t={seg.start}–{seg.end}"


def layout_gantt(picture: GanttPicture, chart_id: str = "gantt") -> GanttChart:
    """Lay out ``picture`` for a ~900 px wide SVG: rows per job, bars, axis, marker, legend."""
    jobs = job_rows(picture)
    w0, w1, total = time_window(picture)
    scale = (WIDTH - LEFT - RIGHT) / (w1 - w0)

    def x_of(t: float) -> float:
        return round(LEFT + (t - w0) * scale, 2)

    hatch = f"url(#{chart_id}-hatch)"
    y = float(TOP + (MARK_BAND if picture.mark is not None else 0))
    lanes: list[Lane] = []
    for title, segs in (
        ("Reference (expected)", picture.expected),
        ("Yours (actual)", picture.actual),
    ):
        title_y = y + 14
        y += LANE_TITLE
        top = y
        rows: list[Row] = []
        row_y: dict[int, float] = {}
        for i, job in enumerate(jobs):
            row_y[job] = y
            rows.append(
                Row(
                    job=job,
                    label=f"J{job}",
                    y=y,
                    height=ROW,
                    label_x=26,
                    label_y=y + ROW / 2 + 4,
                    swatch=job_colour(i)[0],
                    swatch_x=10,
                    swatch_y=y + ROW / 2 - 5,
                    shaded=i % 2 == 1,
                )
            )
            y += ROW
        bars: list[Bar] = []
        for seg in segs or []:
            span = _clip(seg, w0, w1)
            if span is None:
                continue
            x1, x2 = x_of(span[0]), x_of(span[1])
            bars.append(
                Bar(
                    x=x1,
                    y=row_y[seg.job] + (ROW - BAR) / 2,
                    width=round(x2 - x1, 2),
                    height=BAR,
                    kind=seg.kind,
                    job=seg.job,
                    fill=job_colour(jobs.index(seg.job))[0] if seg.kind == "run" else hatch,
                    title=_bar_title(seg),
                )
            )
        note = None
        if segs is None:
            note = "Your code produced no schedule for this input."
        elif not segs:
            note = "Nothing ran."
        lanes.append(
            Lane(
                title=title,
                title_x=LEFT,
                title_y=title_y,
                top=top,
                bottom=y,
                height=y - top,
                rows=tuple(rows),
                bars=tuple(bars),
                note=note,
                note_x=LEFT + 12,
                note_y=top + min(len(rows), 2) * ROW / 2 + 5,
            )
        )
        y += LANE_GAP
    axis_y = y - LANE_GAP + 4
    step = nice_step(w1 - w0, 12)
    first = math.ceil(w0 / step) * step
    ticks = tuple(Tick(x_of(t), str(t)) for t in range(first, w1 + 1, step))
    y = axis_y + AXIS

    marker = None
    if picture.mark is not None and w0 <= picture.mark <= w1:
        mx = x_of(picture.mark)
        anchor: Literal["start", "middle", "end"] = "middle"
        label_x = mx
        if mx < LEFT + 80:
            anchor, label_x = "start", mx - 4
        elif mx > WIDTH - RIGHT - 80:
            anchor, label_x = "end", mx + 4
        marker = Marker(
            x=mx,
            y1=TOP + MARK_BAND - 2,
            y2=lanes[-1].bottom,
            label=f"first difference (t={picture.mark})",
            label_x=label_x,
            label_y=TOP + 12,
            anchor=anchor,
        )

    switches = any(s.kind == "switch" for s in [*picture.expected, *(picture.actual or [])])
    legend, y = _legend(jobs, y, hatch, with_switch=switches, with_mark=marker is not None)
    return GanttChart(
        id=chart_id,
        width=WIDTH,
        height=y + 4,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_width=WIDTH - RIGHT - LEFT,
        lanes=tuple(lanes),
        ticks=ticks,
        axis_y=axis_y,
        tick_end_y=axis_y + 4,
        tick_label_y=axis_y + 14,
        axis_label="time (ticks)",
        axis_label_y=axis_y + 27,
        marker=marker,
        legend=legend,
        caption=_caption(w0, w1, total, picture.mark),
        clipped=(w0, w1) != (0, total),
        window=(w0, w1),
        text=text_gantt(picture),
        description=_description(picture, jobs),
    )


def _legend(
    jobs: Sequence[int], y: float, hatch: str, *, with_switch: bool, with_mark: bool
) -> tuple[tuple[LegendItem, ...], float]:
    """Legend items laid left to right, wrapping onto a new line when the row is full."""
    entries: list[tuple[Literal["job", "switch", "mark"], str, str, float]] = [
        ("job", job_colour(i)[0], f"J{job}", 46) for i, job in enumerate(jobs)
    ]
    if with_switch:
        entries.append(("switch", hatch, "context switch", 120))
    if with_mark:
        entries.append(("mark", MARK_COLOUR, "first difference", 130))
    items: list[LegendItem] = []
    x = float(LEFT)
    for kind, fill, label, width in entries:
        if x + width > WIDTH - RIGHT:
            x, y = float(LEFT), y + LEGEND_ROW
        items.append(LegendItem(kind, x, y, fill, label, x + 20, y + 11, x + 7, y + 14))
        x += width
    return tuple(items), y + LEGEND_ROW


def _caption(w0: Ticks, w1: Ticks, total: Ticks, mark: int | None) -> str:
    base = (
        "Top: the reference schedule (what should happen). Bottom: yours. "
        "One row per job; hatched grey bars are context switches."
    )
    if (w0, w1) == (0, total):
        return base
    where = "around the first difference" if mark is not None else "from the start"
    return f"{base} The schedule runs to t={total}; only t={w0}–{w1} is shown, {where}."


def _description(picture: GanttPicture, jobs: Sequence[int]) -> str:
    where = f", first difference at t={picture.mark}" if picture.mark is not None else ""
    return f"Gantt chart of {len(jobs)} jobs: the reference schedule above yours{where}."


# ----------------------------------------------------------------------------- text chart

_RUN, _SWITCH, _WAIT, _NONE = "#", "~", ".", " "
_RANK = {_RUN: 3, _SWITCH: 2, _WAIT: 1, _NONE: 0}


def _cells(segs: Sequence[Segment], job: int, w0: Ticks, w1: Ticks, per_col: int) -> str:
    """One text row: '#' running, '~' switching to it, '.' between its first and last bar."""
    mine = [s for s in segs if s.job == job]
    cols = math.ceil((w1 - w0) / per_col)
    out = [_NONE] * cols
    if not mine:
        return "".join(out)
    first, last = min(s.start for s in mine), max(s.end for s in mine)

    def paint(a: Ticks, b: Ticks, ch: str) -> None:
        a, b = max(a, w0), min(b, w1)
        for t in range(a, b):
            c = (t - w0) // per_col
            if _RANK[ch] > _RANK[out[c]]:
                out[c] = ch

    paint(first, last, _WAIT)
    for s in mine:
        paint(s.start, s.end, _RUN if s.kind == "run" else _SWITCH)
    return "".join(out)


def text_gantt(picture: GanttPicture, columns: int = TEXT_COLUMNS) -> tuple[str, ...]:
    """The chart as fixed-width lines for a Markdown code block (same window as the SVG)."""
    jobs = job_rows(picture)
    w0, w1, total = time_window(picture)
    per_col = max(1, math.ceil((w1 - w0) / columns))
    cols = math.ceil((w1 - w0) / per_col)
    width = max(len(f"J{j}") for j in jobs) if jobs else 2
    pad = " " * (width + 4)  # "  J1 |" before the first cell

    lines = [pad + _axis(w0, w1, per_col, cols)]
    for title, segs in (("Reference (expected)", picture.expected), ("Yours", picture.actual)):
        lines.append(title)
        if segs is None:
            lines.append("  (your code produced no schedule)")
            continue
        for job in jobs:
            lines.append(f"  {f'J{job}':<{width}} |{_cells(segs, job, w0, w1, per_col)}|")
    if picture.mark is not None and w0 <= picture.mark < w1:
        col = (picture.mark - w0) // per_col
        lines.append(pad + " " * col + f"^ first difference (t={picture.mark})")
    scale = "one column = 1 tick" if per_col == 1 else f"one column = {per_col} ticks"
    lines.append(f"# running  ~ context switch  . waiting or in I/O  ({scale})")
    if (w0, w1) != (0, total):
        lines.append(f"(only t={w0}–{w1} of t=0–{total} is shown)")
    return tuple(lines)


def _axis(w0: Ticks, w1: Ticks, per_col: int, cols: int) -> str:
    """Tick labels placed over their columns, at least ``gap`` columns apart."""
    gap = max(len(str(w1)) + 2, 5 if cols < 30 else 10)
    step = nice_step(gap * per_col, 1)  # the smallest nice step at least `gap` columns wide
    chars = [" "] * (cols + 6)
    free = 0
    for t in range(math.ceil(w0 / step) * step, w1 + 1, step):
        c = (t - w0) // per_col
        label = str(t)
        if c < free or c + len(label) > len(chars):
            continue
        chars[c : c + len(label)] = label
        free = c + len(label) + 1
    return "".join(chars).rstrip()
