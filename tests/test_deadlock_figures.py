"""The graph picture kind: a stable layout, the cycle highlighted, a text form, escaping."""

from __future__ import annotations

import math

from pydantic import TypeAdapter

from grader.engine.results import (
    AssignmentInfo,
    Counterexample,
    GradeReport,
    GraphEdge,
    GraphNode,
    GraphPanel,
    GraphPicture,
    Picture,
    SubmissionInfo,
    TestResult,
)
from grader.report.figures import STYLES, layout_figure
from grader.report.graph import MAX_NODES, layout_graph, text_graph
from grader.report.render import environment, render_html, render_test_markdown
from grader.report.view import build_view, prepare_test


def wait_for(n: int = 4, yours: list[str] | None = None) -> GraphPicture:
    edges = [("0", "1"), ("1", "2"), ("2", "1"), ("3", "3")]
    plain = [GraphEdge(source=a, target=b) for a, b in edges]
    return GraphPicture(
        title="The wait-for graph",
        nodes=[GraphNode(id=str(p), label=f"P{p}") for p in range(n)],
        panels=[
            GraphPanel(title="Reference (expected)", edges=plain, cycle=["1", "2"]),
            GraphPanel(
                title="Yours",
                edges=[*plain, GraphEdge(source="0", target="3", tone="missing")],
                cycle=yours,
                note="" if yours else "Your find_cycle returned None.",
            ),
        ],
        caption="P → Q: P waits for Q.",
    )


def failing(picture: GraphPicture) -> TestResult:
    return TestResult(
        id="t",
        name="a test",
        number="2",
        max_score=5,
        score=0,
        outcome="failed",
        visibility="visible",
        message="wrong",
        counterexample=Counterexample(inputs={}, snippet="print(1)", picture=picture),
    )


def test_graph_is_a_registered_picture_kind() -> None:
    pic = wait_for()
    again = TypeAdapter(Picture).validate_json(TypeAdapter(Picture).dump_json(pic))
    assert again == pic and isinstance(again, GraphPicture)
    fig = layout_figure(pic, "graph-2")
    assert fig.kind == "graph" and fig.template == "graph.svg.j2" and fig.text
    assert "graph.css.j2" in STYLES
    environment().get_template("graph.svg.j2")


def test_layout_is_deterministic_and_circular() -> None:
    a, b = layout_graph(wait_for(), "g"), layout_graph(wait_for(), "g")
    assert a == b
    panel = a.panels[0]
    xs = [(n.x, n.y) for n in panel.nodes]
    cx = sum(x for x, _ in xs) / len(xs)
    cy = sum(y for _, y in xs) / len(xs)
    radii = {round(math.hypot(x - cx, y - cy), 1) for x, y in xs}
    assert len(radii) == 1  # every node on one circle
    assert panel.nodes[0].y < cy  # the first node at the top
    # the same positions in both panels, shifted by the panel offset
    dx = a.panels[1].x - a.panels[0].x
    assert [(n.x + dx, n.y) for n in panel.nodes] == [(n.x, n.y) for n in a.panels[1].nodes]


def test_cycle_is_highlighted_and_a_claimed_edge_is_drawn_as_not_real() -> None:
    chart = layout_graph(wait_for(yours=["0", "1", "2"]), "g")
    ref, mine = chart.panels
    on = {n.id for n in ref.nodes if "on-cycle" in n.css}
    assert on == {"1", "2"}
    cyc = [e for e in ref.edges if "on-cycle" in e.css]
    assert len(cyc) == 2 and all(e.width == 3.0 and e.marker == "g-arrow-cycle" for e in cyc)
    fake = [e for e in mine.edges if "tone-extra" in e.css]
    assert len(fake) == 1 and "on-cycle" in fake[0].css and fake[0].dash  # 2 -> 0 does not exist
    missing = [e for e in mine.edges if "tone-missing" in e.css]
    assert len(missing) == 1 and missing[0].dash != fake[0].dash  # told apart without colour
    kinds = {item.label for item in chart.legend}
    assert kinds == {
        "on the cycle",
        "expected, missing from yours",
        "in yours only: not a real edge",
    }


def test_self_loops_and_reciprocal_edges_do_not_overlap() -> None:
    chart = layout_graph(wait_for(), "g")
    edges = {e.title.split(":")[0]: e for e in chart.panels[0].edges}
    loop = edges["3 → 3"]
    assert (loop.x0, loop.y0) != (loop.x3, loop.y3)  # leaves and returns at different points
    there, back = edges["1 → 2"], edges["2 → 1"]
    mid = lambda e: ((e.x1 + e.x2) / 2, (e.y1 + e.y2) / 2)  # noqa: E731
    assert math.dist(mid(there), mid(back)) > 20  # bent apart


def test_text_form_lists_edges_and_marks_the_cycle() -> None:
    lines = text_graph(wait_for(yours=["0", "1", "2"]))
    assert lines[0] == "Reference (expected): cycle P1 -> P2 -> P1"
    assert lines[1:3] == ("  *  P1 -> P2", "  *  P2 -> P1")
    yours = lines[lines.index("Yours: cycle P0 -> P1 -> P2 -> P0") :]
    assert "  *+ P2 -> P0   not an edge" in yours
    assert "   - P0 -> P3" in yours
    assert lines[-1] == "* on the cycle   - expected, missing from yours   + yours only"
    none = text_graph(wait_for())
    assert "  (Your find_cycle returned None.)" in none


def test_large_graphs_keep_the_cycle_and_say_so() -> None:
    n = 200
    pic = GraphPicture(
        nodes=[GraphNode(id=str(p), label=f"P{p}") for p in range(n)],
        panels=[
            GraphPanel(
                title="Reference",
                edges=[GraphEdge(source=str(p), target=str(p + 1)) for p in range(n - 1)]
                + [GraphEdge(source="199", target="150")],
                cycle=[str(p) for p in range(150, 160)] + [str(p) for p in range(160, 200)],
            )
        ],
    )
    chart = layout_graph(pic, "big")
    drawn = {n.id for n in chart.panels[0].nodes}
    assert len(drawn) == MAX_NODES and "150" in drawn
    assert f"Only {MAX_NODES} of 200 nodes are drawn" in chart.caption
    assert chart.width <= 900


def test_graph_renders_escaped_in_html_and_markdown() -> None:
    evil = GraphPicture(
        nodes=[
            GraphNode(id="a", label="<script>x</script>", shape="lock"),
            GraphNode(id="b", label="b&c", shape="resource"),
        ],
        panels=[
            GraphPanel(
                title="<b>t</b>",
                edges=[GraphEdge(source="a", target="b", label="<img src=x>")],
                cycle=None,
            )
        ],
    )
    report = GradeReport(
        osgrade_version="0",
        assignment=AssignmentInfo(name="x", title="X", version="1"),
        submission=SubmissionInfo(path="s", files={}),
        started_at="2026-12-01T00:00:00+00:00",
        duration_s=0,
        seed=1,
        score=0,
        max_score=5,
        tests=[failing(evil)],
    )
    html = render_html(build_view(report, "student"))
    assert "<script>x" not in html and "&lt;script&gt;" in html
    assert "<img src=x>" not in html and "<b>t</b>" not in html
    assert 'class="graph"' in html and "svg.graph" in html
    md = render_test_markdown(prepare_test(failing(evil), "student"))
    assert "```text" in md and "<script>x</script> -> b&c   <img src=x>" in md
