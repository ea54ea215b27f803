"""Pictures of a counterexample, whatever their kind, prepared for the templates.

A counterexample carries at most one ``Picture`` (grader/engine/results.py). Each kind has
a layout function here that turns it into a ``Figure``: the template that draws it in
HTML (inline SVG or a table), the prepared data that template loops over, a caption, and
the same picture as fixed-width text lines for Markdown and Gradescope.

Adding a kind: a model in results.py, a layout function in its own module of this package,
one entry in ``_LAYOUTS`` and, if its template needs CSS, one in ``STYLES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..engine.results import (
    FramesPicture,
    GanttPicture,
    GraphPicture,
    LanesPicture,
    Picture,
    PlotPicture,
    TablePicture,
)
from .frames import layout_frames
from .gantt import layout_gantt
from .graph import layout_graph
from .lanes import layout_lanes
from .plot import layout_plot
from .table import layout_table


@dataclass(frozen=True, slots=True)
class Figure:
    """One picture, ready for the HTML and Markdown templates."""

    kind: str
    template: str  # included with ``chart`` bound to ``chart`` below
    chart: Any  # the kind's own prepared data (GanttChart, TableChart, ...)
    caption: str
    text_intro: str  # the sentence before the text picture in Markdown
    text: tuple[str, ...]  # the same picture as fixed-width lines


def _gantt(picture: GanttPicture, figure_id: str) -> Figure:
    chart = layout_gantt(picture, figure_id)
    return Figure(
        "gantt",
        "gantt.svg.j2",
        chart,
        chart.caption,
        "The two schedules, one row per job:",
        chart.text,
    )


def _table(picture: TablePicture, figure_id: str) -> Figure:
    chart = layout_table(picture, figure_id)
    return Figure("table", "table.html.j2", chart, chart.caption, chart.text_intro, chart.text)


def _lanes(picture: LanesPicture, figure_id: str) -> Figure:
    chart = layout_lanes(picture, figure_id)
    return Figure(
        "lanes", "lanes.html.j2", chart, chart.caption, f"{chart.text_intro}:", chart.text
    )


def _graph(picture: GraphPicture, figure_id: str) -> Figure:
    chart = layout_graph(picture, figure_id)
    return Figure("graph", "graph.svg.j2", chart, chart.caption, chart.text_intro, chart.text)


def _frames(picture: FramesPicture, figure_id: str) -> Figure:
    chart = layout_frames(picture, figure_id)
    return Figure(
        "frames",
        "frames.svg.j2",
        chart,
        chart.caption,
        "The frames after each access, one column per access ([x] = the frame it used):",
        chart.text,
    )


def _plot(picture: PlotPicture, figure_id: str) -> Figure:
    chart = layout_plot(picture, figure_id)
    return Figure("plot", "plot.svg.j2", chart, chart.caption, chart.text_intro, chart.text)


_LAYOUTS: dict[str, Callable[[Any, str], Figure]] = {
    "gantt": _gantt,
    "table": _table,
    "lanes": _lanes,
    "graph": _graph,
    "frames": _frames,
    "plot": _plot,
}

# CSS templates included in the HTML report's <style>, one per kind that needs its own.
STYLES: tuple[str, ...] = (
    "gantt.css.j2",
    "table.css.j2",
    "lanes.css.j2",
    "graph.css.j2",
    "frames.css.j2",
    "plot.css.j2",
)


def layout_figure(picture: Picture, figure_id: str) -> Figure:
    """The Figure for ``picture``; ValueError for a kind with no layout registered."""
    layout = _LAYOUTS.get(picture.kind)
    if layout is None:
        raise ValueError(
            f"no layout for picture kind {picture.kind!r}; register one in grader/report/figures.py"
        )
    return layout(picture, figure_id)
