"""View models -> text, through the Jinja2 templates in grader/report/templates/."""

from __future__ import annotations

import functools

import jinja2

from .text import md_escape
from .view import ReportView, TestView


def _autoescape(name: str | None) -> bool:
    return name is not None and name.endswith((".html.j2", ".svg.j2"))


@functools.cache
def environment() -> jinja2.Environment:
    """The template environment: HTML/SVG autoescaped, undefined names an error."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader.report", "templates"),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    return env


def render_html(view: ReportView) -> str:
    """A self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched)."""
    return environment().get_template("report.html.j2").render(view=view)


def render_markdown(view: ReportView) -> str:
    """The same report in Markdown, with text Gantt charts instead of SVG."""
    return environment().get_template("report.md.j2").render(view=view)


def render_test_markdown(test: TestView) -> str:
    """One test's feedback in Markdown (Gradescope's per-test output)."""
    return environment().get_template("test.md.j2").render(t=test).strip() + "\n"
