"""Geometry of a line chart (PlotPicture): axes, ticks, polylines and a legend, no markup.

``layout_plot`` turns a PlotPicture into pixel coordinates for templates/plot.svg.j2, and
into fixed-width lines for Markdown: a table with one row per x value and one column per
series, so the numbers behind each line can be read exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..engine.results import PlotPicture
from .gantt import PALETTE

WIDTH = 760
HEIGHT = 380
LEFT = 70
RIGHT = 200  # legend column
TOP = 34
BOTTOM = 52
MAX_POINTS = 400  # per series; longer series are thinned evenly
TEXT_ROWS = 60


@dataclass(frozen=True, slots=True)
class Tick:
    pos: float  # pixel position along its axis
    label: str


@dataclass(frozen=True, slots=True)
class Marker:
    x: float
    y: float
    title: str  # tooltip: "select, 64: 130"


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    colour: str
    css: str  # "line" or "line dashed"
    points: str  # SVG polyline points: "x1,y1 x2,y2"
    markers: tuple[Marker, ...]


@dataclass(frozen=True, slots=True)
class LegendItem:
    label: str
    colour: str
    css: str
    x1: float
    x2: float
    y: float
    text_x: float
    text_y: float


@dataclass(frozen=True, slots=True)
class PlotChart:
    """Everything plot.svg.j2 draws, in pixels; ``text`` is the same data as a table."""

    id: str
    width: float
    height: float
    title: str
    title_x: float
    title_y: float
    left: float
    top: float
    right: float
    bottom: float
    plot_width: float
    plot_height: float
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    x_label: str
    x_label_x: float
    x_label_y: float
    y_label: str
    y_label_x: float
    y_label_y: float
    lines: tuple[Line, ...]  # in drawing order: the picture's first series last (on top)
    legend: tuple[LegendItem, ...]
    caption: str
    description: str
    text_intro: str
    text: tuple[str, ...]
    empty: bool


def nice_step(span: float, max_ticks: int) -> float:
    """The smallest 1, 2 or 5 times a power of ten that puts at most ``max_ticks`` on span."""
    if span <= 0:
        return 1.0
    step = 10.0 ** math.floor(math.log10(span / max_ticks))
    while True:
        for m in (1, 2, 5):
            if span / (step * m) <= max_ticks:
                return step * m
        step *= 10


def _label(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.3g}"


def _ticks(lo: float, hi: float, max_ticks: int) -> list[float]:
    step = nice_step(hi - lo, max_ticks)
    first = math.ceil(lo / step) * step
    out, v = [], first
    while v <= hi + step * 1e-9:
        out.append(round(v, 10))
        v += step
    return out


def _thin(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(points) <= MAX_POINTS:
        return points
    stride = len(points) / MAX_POINTS
    return [points[int(i * stride)] for i in range(MAX_POINTS)]


def layout_plot(picture: PlotPicture, chart_id: str = "plot") -> PlotChart:
    """Lay out ``picture``: axes from 0 (or the data minimum) to a nice maximum."""
    pts = [p for s in picture.series for p in s.points]
    empty = not pts
    xs = [p[0] for p in pts] or [0.0, 1.0]
    ys = [p[1] for p in pts] or [0.0, 1.0]
    x0, x1 = min(0.0, min(xs)), max(xs)
    y0, y1 = min(0.0, min(ys)), max(ys)
    x1 = x1 if x1 > x0 else x0 + 1
    y_step = nice_step(y1 - y0 if y1 > y0 else 1, 6)
    y1 = math.ceil(y1 / y_step) * y_step if y1 > y0 else y0 + y_step
    pw = WIDTH - LEFT - RIGHT
    ph = HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return round(LEFT + (x - x0) / (x1 - x0) * pw, 2)

    def py(y: float) -> float:
        return round(TOP + ph - (y - y0) / (y1 - y0) * ph, 2)

    lines = []
    legend = []
    for i, s in enumerate(picture.series):
        colour = PALETTE[s.colour % len(PALETTE)][0]
        css = "line dashed" if s.dashed else "line"
        shown = _thin(list(s.points))
        markers = tuple(
            Marker(px(x), py(y), f"{s.label}, {_label(x)}: {_label(y)}") for x, y in shown
        )
        lines.append(Line(s.label, colour, css, " ".join(f"{m.x},{m.y}" for m in markers), markers))
        ly = TOP + 10 + i * 22
        lx = WIDTH - RIGHT + 18
        legend.append(LegendItem(s.label, colour, css, lx, lx + 28, ly, lx + 36, ly + 4))
    x_ticks = tuple(Tick(px(v), _label(v)) for v in _ticks(x0, x1, 8))
    y_ticks = tuple(Tick(py(v), _label(v)) for v in _ticks(y0, y1, 6))
    intro = picture.title or "The chart's data"
    return PlotChart(
        id=chart_id,
        width=WIDTH,
        height=HEIGHT,
        title=picture.title,
        title_x=LEFT,
        title_y=20,
        left=LEFT,
        top=TOP,
        right=LEFT + pw,
        bottom=TOP + ph,
        plot_width=pw,
        plot_height=ph,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        x_label=picture.x_label,
        x_label_x=LEFT + pw / 2,
        x_label_y=HEIGHT - 12,
        y_label=picture.y_label,
        y_label_x=18,
        y_label_y=TOP + ph / 2,
        lines=tuple(reversed(lines)),  # drawn in this order: the first series ends on top
        legend=tuple(legend),
        caption=picture.caption,
        description=_description(picture),
        text_intro=f"{intro} (one row per {picture.x_label}, one column per line):",
        text=text_plot(picture),
        empty=empty,
    )


def _description(picture: PlotPicture) -> str:
    names = ", ".join(s.label for s in picture.series) or "no data"
    return f"Line chart of {picture.y_label} against {picture.x_label}: {names}."


def text_plot(picture: PlotPicture) -> tuple[str, ...]:
    """The series as an aligned table: the x values down, one column per series."""
    xs = sorted({x for s in picture.series for x, _ in s.points})
    if len(xs) > TEXT_ROWS:
        stride = len(xs) / TEXT_ROWS
        xs = [xs[int(i * stride)] for i in range(TEXT_ROWS)]
    header = [picture.x_label] + [s.label for s in picture.series]
    values = [{x: y for x, y in s.points} for s in picture.series]
    rows = [[_label(x)] + [_label(v[x]) if x in v else "-" for v in values] for x in xs]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  " + " | ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True))

    out = [line(header), "  " + "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    out.append(f"  ({picture.y_label})")
    return tuple(out)
