"""Pictures as standalone images (SVG documents and data URLs), for platforms that take
images rather than HTML (PrairieLearn's ``images``)."""

from __future__ import annotations

import base64

from .figures import Figure
from .render import environment


def figure_svg(figure: Figure) -> str | None:
    """The figure as a standalone SVG document, or None for a kind that is not drawn in SVG."""
    if not figure.template.endswith(".svg.j2"):
        return None
    width, height = getattr(figure.chart, "width", None), getattr(figure.chart, "height", None)
    if not isinstance(width, (int, float)) or not isinstance(height, (int, float)):
        return None
    css = figure.template.replace(".svg.j2", ".css.j2")
    has_css = css in environment().list_templates()
    return (
        environment()
        .get_template("standalone.svg.j2")
        .render(figure=figure, css=css if has_css else "", width=width, height=height)
    )


def svg_data_url(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
