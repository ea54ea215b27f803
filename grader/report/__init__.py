"""Reports of a grading run: Gradescope's results.json, HTML and Markdown reports, a terminal summary.

Three stages, as in coverage.py: ``build_view`` prepares plain data for one audience,
the Jinja2 templates in ``templates/`` only loop and branch over it, and ``write_outputs``
writes the files atomically.
"""

from .gantt import GanttChart, layout_gantt, text_gantt
from .gradescope import GradescopeResults, GradescopeTest, failure_results, to_gradescope
from .render import render_html, render_markdown
from .terminal import summary
from .view import Audience, ReportView, TestView, build_view
from .write import write_failure_results, write_outputs

__all__ = [
    "Audience",
    "GanttChart",
    "GradescopeResults",
    "GradescopeTest",
    "ReportView",
    "TestView",
    "build_view",
    "failure_results",
    "layout_gantt",
    "render_html",
    "render_markdown",
    "summary",
    "text_gantt",
    "to_gradescope",
    "write_failure_results",
    "write_outputs",
]
