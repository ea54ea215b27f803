"""Geometry of a GraphPicture: nodes on a circle, edges as curves, the cycle highlighted.

``layout_graph`` turns the picture into coordinates for templates/graph.svg.j2 (one panel
per answer, side by side when they fit, the same node positions in each) and into
fixed-width text lines for Markdown: one edge per line, marked when it is on the cycle,
missing from the student's answer or only in it. The layout depends only on the
picture: the nodes go clockwise from the top in the order the picture lists them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..engine.results import GraphEdge, GraphNode, GraphPanel, GraphPicture

MAX_NODES = 24  # larger graphs are cut to the nodes on a cycle and their neighbours
MAX_TEXT_EDGES = 60  # edges listed per panel in the text form
MAX_LABEL = 16  # characters of a node label
CHAR_W = 7.0  # px per character at the 12 px label font
NODE_H = 26.0
PAD = 56.0  # around the circle: room for self-loops
TITLE_H = 24.0
GAP = 24.0
WIDTH_MAX = 900.0
LEGEND_H = 22.0

# Okabe-Ito, colour-blind safe; the dash patterns tell the tones apart without colour too.
COLOURS = {"plain": "#6b7280", "cycle": "#D55E00", "missing": "#0072B2", "extra": "#CC79A7"}
DASHES = {"plain": "", "missing": "7 4", "extra": "2 4"}
MARKS = {"plain": " ", "missing": "-", "extra": "+"}


@dataclass(frozen=True, slots=True)
class NodeBox:
    id: str
    label: str
    shape: str
    x: float  # centre
    y: float
    width: float
    height: float
    left: float
    top: float
    radius: float  # circles: the radius; boxes: the corner radius
    css: str
    title: str


@dataclass(frozen=True, slots=True)
class EdgeCurve:
    """A cubic Bezier from (x0, y0) to (x3, y3) with control points (x1, y1), (x2, y2)."""

    x0: float
    y0: float
    x1: float
    y1: float
    x2: float
    y2: float
    x3: float
    y3: float
    css: str
    colour: str
    dash: str
    width: float
    marker: str  # the id of its arrowhead
    title: str


@dataclass(frozen=True, slots=True)
class PanelView:
    title: str
    title_x: float
    title_y: float
    x: float  # top-left corner of the panel
    y: float
    width: float
    height: float
    nodes: tuple[NodeBox, ...]
    edges: tuple[EdgeCurve, ...]
    note: str
    note_x: float
    note_y: float


@dataclass(frozen=True, slots=True)
class Marker:
    id: str
    colour: str


@dataclass(frozen=True, slots=True)
class LegendItem:
    x: float
    y: float
    colour: str
    dash: str
    width: float
    label: str
    text_x: float
    text_y: float


@dataclass(frozen=True, slots=True)
class GraphChart:
    id: str
    width: float
    height: float
    panels: tuple[PanelView, ...]
    markers: tuple[Marker, ...]
    legend: tuple[LegendItem, ...]
    caption: str
    description: str
    text_intro: str
    text: tuple[str, ...]


def _clip_label(label: str) -> str:
    label = label.replace("\n", " ")
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def _size(node: GraphNode) -> tuple[float, float]:
    text_w = len(_clip_label(node.label)) * CHAR_W
    if node.shape == "process":
        d = max(30.0, text_w + 14)
        return d, d
    if node.shape == "resource":
        side = max(28.0, text_w + 12)
        return side, NODE_H if side > NODE_H + 8 else side
    return max(36.0, text_w + 16), NODE_H


def _boundary(
    cx: float, cy: float, w: float, h: float, shape: str, dx: float, dy: float
) -> tuple[float, float]:
    """Where the ray from the centre in direction (dx, dy) leaves the node's outline."""
    norm = math.hypot(dx, dy) or 1.0
    ux, uy = dx / norm, dy / norm
    if shape == "process":
        r = w / 2
        return cx + ux * r, cy + uy * r
    t = min((w / 2) / abs(ux) if ux else math.inf, (h / 2) / abs(uy) if uy else math.inf)
    return cx + ux * t, cy + uy * t


def _rot(ux: float, uy: float, degrees: float) -> tuple[float, float]:
    a = math.radians(degrees)
    return ux * math.cos(a) - uy * math.sin(a), ux * math.sin(a) + uy * math.cos(a)


def _cycle_pairs(cycle: list[str] | None) -> list[tuple[str, str]]:
    if not cycle:
        return []
    return [(a, cycle[(k + 1) % len(cycle)]) for k, a in enumerate(cycle)]


def _panel_edges(panel: GraphPanel, keep: set[str]) -> list[GraphEdge]:
    """The panel's edges among kept nodes, plus cycle steps it does not list (as extra)."""
    edges = [e for e in panel.edges if e.source in keep and e.target in keep]
    present = {(e.source, e.target) for e in edges}
    for a, b in _cycle_pairs(panel.cycle):
        if (a, b) not in present and a in keep and b in keep:
            edges.append(GraphEdge(source=a, target=b, tone="extra", label="not an edge"))
            present.add((a, b))
    return edges


def _kept_nodes(picture: GraphPicture) -> list[GraphNode]:
    if len(picture.nodes) <= MAX_NODES:
        return list(picture.nodes)
    want: list[str] = []
    for panel in picture.panels:
        want.extend(panel.cycle or [])
    near = set(want)
    for panel in picture.panels:
        for e in panel.edges:
            if e.source in near or e.target in near:
                want.extend((e.source, e.target))
    want.extend(n.id for n in picture.nodes)
    chosen = set(list(dict.fromkeys(want))[:MAX_NODES])
    return [n for n in picture.nodes if n.id in chosen]


def layout_graph(picture: GraphPicture, chart_id: str = "graph") -> GraphChart:
    """Lay out ``picture``: the same circle of nodes in every panel, edges, legend, text."""
    nodes = _kept_nodes(picture)
    keep = {n.id for n in nodes}
    sizes = {n.id: _size(n) for n in nodes}
    count = len(nodes)
    biggest = max((max(w, h) for w, h in sizes.values()), default=30.0)
    circumference = sum(max(w, h) + 44 for w, h in sizes.values())
    radius = 0.0 if count <= 1 else max(72.0, circumference / (2 * math.pi))
    radius = min(radius, (WIDTH_MAX - 2 * PAD - biggest) / 2)
    panel_w = max(240.0, 2 * radius + biggest + 2 * PAD)
    panel_h = 2 * radius + biggest + 2 * PAD + TITLE_H
    side_by_side = len(picture.panels) == 1 or 2 * panel_w + GAP <= WIDTH_MAX
    angle = {n.id: -90 + 360 * k / max(count, 1) for k, n in enumerate(nodes)}

    panels = []
    tones_used: set[str] = set()
    for p, panel in enumerate(picture.panels):
        px = p * (panel_w + GAP) if side_by_side else 0.0
        py = 0.0 if side_by_side else p * (panel_h + GAP)
        cx, cy = px + panel_w / 2, py + TITLE_H + panel_h / 2 - TITLE_H / 2
        on_cycle = set(panel.cycle or [])
        centre: dict[str, tuple[float, float]] = {}
        boxes = []
        for n in nodes:
            a = math.radians(angle[n.id])
            x, y = round(cx + radius * math.cos(a), 2), round(cy + radius * math.sin(a), 2)
            centre[n.id] = (x, y)
            w, h = sizes[n.id]
            css = f"node shape-{n.shape}" + (" on-cycle" if n.id in on_cycle else "")
            boxes.append(
                NodeBox(
                    id=n.id,
                    label=_clip_label(n.label),
                    shape=n.shape,
                    x=x,
                    y=y,
                    width=w,
                    height=h,
                    left=round(x - w / 2, 2),
                    top=round(y - h / 2, 2),
                    radius=w / 2 if n.shape == "process" else (6.0 if n.shape == "lock" else 2.0),
                    css=css,
                    title=n.label + (" (on the cycle)" if n.id in on_cycle else ""),
                )
            )
        edges = _panel_edges(panel, keep)
        pairs = {(e.source, e.target) for e in edges}
        cyc = set(_cycle_pairs(panel.cycle))
        curves = []
        for e in edges:
            tone_key = "cycle" if (e.source, e.target) in cyc else e.tone
            tones_used.add(tone_key)
            if e.tone != "plain":
                tones_used.add(e.tone)
            curves.append(
                _curve(
                    e, centre, sizes, {n.id: n.shape for n in nodes}, angle, pairs, cyc, chart_id
                )
            )
        panels.append(
            PanelView(
                title=panel.title,
                title_x=px + 8,
                title_y=py + 16,
                x=px,
                y=py,
                width=panel_w,
                height=panel_h,
                nodes=tuple(boxes),
                edges=tuple(curves),
                note=panel.note,
                note_x=px + panel_w / 2,
                note_y=py + panel_h - 10,
            )
        )
    width = len(panels) * panel_w + (len(panels) - 1) * GAP if side_by_side else panel_w
    height = panel_h if side_by_side else len(panels) * panel_h + (len(panels) - 1) * GAP
    legend, height = _legend(tones_used, height + 6)
    if legend:
        last = legend[-1]
        width = max(width, last.text_x + len(last.label) * 6.4 + 8)
    cut = len(picture.nodes) - len(nodes)
    caption = picture.caption
    if cut:
        caption = (
            f"{caption} Only {len(nodes)} of {len(picture.nodes)} nodes are drawn: those on a "
            "cycle and their neighbours first."
        ).strip()
    return GraphChart(
        id=chart_id,
        width=round(width, 2),
        height=round(height + 4, 2),
        panels=tuple(panels),
        markers=tuple(Marker(f"{chart_id}-arrow-{k}", c) for k, c in COLOURS.items()),
        legend=legend,
        caption=caption,
        description=_description(picture, len(nodes)),
        text_intro=(picture.title or "The graph") + ", one edge per line:",
        text=text_graph(picture),
    )


Point = tuple[float, float]
Pair = tuple[str, str]


def _curve(
    e: GraphEdge,
    centre: dict[str, Point],
    sizes: dict[str, Point],
    shapes: dict[str, str],
    angle: dict[str, float],
    pairs: set[Pair],
    cyc: set[Pair],
    chart_id: str,
) -> EdgeCurve:
    sx, sy = centre[e.source]
    tx, ty = centre[e.target]
    sw, sh = sizes[e.source]
    tw, th = sizes[e.target]
    if e.source == e.target:
        a = math.radians(angle[e.source] if len(centre) > 1 else -90)
        ux, uy = math.cos(a), math.sin(a)
        (ax, ay), (bx, by) = _rot(ux, uy, -28), _rot(ux, uy, 28)
        x0, y0 = _boundary(sx, sy, sw, sh, shapes[e.source], ax, ay)
        x3, y3 = _boundary(sx, sy, sw, sh, shapes[e.source], bx, by)
        reach = max(sw, sh) / 2 + 40
        (c1x, c1y), (c2x, c2y) = _rot(ux, uy, -40), _rot(ux, uy, 40)
        x1, y1, x2, y2 = sx + c1x * reach, sy + c1y * reach, sx + c2x * reach, sy + c2y * reach
    else:
        dx, dy = tx - sx, ty - sy
        length = math.hypot(dx, dy) or 1.0
        bend = 22.0 if (e.target, e.source) in pairs else 0.0
        nx, ny = -dy / length * bend, dx / length * bend
        x1, y1 = sx + dx / 3 + nx, sy + dy / 3 + ny
        x2, y2 = sx + 2 * dx / 3 + nx, sy + 2 * dy / 3 + ny
        x0, y0 = _boundary(sx, sy, sw, sh, shapes[e.source], x1 - sx, y1 - sy)
        x3, y3 = _boundary(tx, ty, tw, th, shapes[e.target], x2 - tx, y2 - ty)
    on_cycle = (e.source, e.target) in cyc
    key = "cycle" if on_cycle else e.tone
    state = {"plain": "", "missing": " (expected, missing from yours)", "extra": " (yours only)"}
    title = f"{e.source} → {e.target}{state[e.tone]}" + (f": {e.label}" if e.label else "")
    r = [round(v, 2) for v in (x0, y0, x1, y1, x2, y2, x3, y3)]
    return EdgeCurve(
        r[0],
        r[1],
        r[2],
        r[3],
        r[4],
        r[5],
        r[6],
        r[7],
        css=f"edge tone-{e.tone}" + (" on-cycle" if on_cycle else ""),
        colour=COLOURS[key],
        dash=DASHES[e.tone],
        width=3.0 if on_cycle else (2.0 if e.tone != "plain" else 1.5),
        marker=f"{chart_id}-arrow-{key}",
        title=title,
    )


def _legend(tones: set[str], y: float) -> tuple[tuple[LegendItem, ...], float]:
    entries = [
        ("cycle", "on the cycle", COLOURS["cycle"], "", 3.0),
        ("missing", "expected, missing from yours", COLOURS["missing"], DASHES["missing"], 2.0),
        ("extra", "in yours only: not a real edge", COLOURS["extra"], DASHES["extra"], 2.0),
    ]
    items = []
    x = 8.0
    for key, label, colour, dash, width in entries:
        if key not in tones:
            continue
        items.append(LegendItem(x, y + 8, colour, dash, width, label, x + 34, y + 12))
        x += 34 + len(label) * 6.4 + 24
    if not items:
        return (), y
    return tuple(items), y + LEGEND_H


def _description(picture: GraphPicture, drawn: int) -> str:
    cycles = [p for p in picture.panels if p.cycle]
    what = f"a directed graph of {drawn} nodes"
    if cycles:
        what += ", " + "; ".join(f"{p.title}: cycle {' → '.join(p.cycle or [])}" for p in cycles)
    return what


# ----------------------------------------------------------------------------- text form


def _name_of(picture: GraphPicture) -> dict[str, str]:
    return {n.id: n.label for n in picture.nodes}


def text_graph(picture: GraphPicture) -> tuple[str, ...]:
    """Each panel as a title line and its edges, cycle edges first, with the legend."""
    names = _name_of(picture)
    order = {n.id: k for k, n in enumerate(picture.nodes)}
    keep = set(names)
    lines: list[str] = []
    marks_used: set[str] = set()
    for panel in picture.panels:
        cycle = panel.cycle
        head = panel.title
        if cycle:
            head += ": cycle " + " -> ".join(names.get(x, x) for x in [*cycle, cycle[0]])
        lines.append(head)
        if panel.note:
            lines.append(f"  ({panel.note})")
        steps = _cycle_pairs(cycle)
        edges = _panel_edges(panel, keep | set(cycle or []))
        rank = {pair: k for k, pair in enumerate(steps)}
        edges.sort(
            key=lambda e: (
                rank.get((e.source, e.target), len(rank)),
                order.get(e.source, 0),
                order.get(e.target, 0),
            )
        )
        for k, e in enumerate(edges):
            if k == MAX_TEXT_EDGES:
                lines.append(f"  ... and {len(edges) - k} more edges")
                break
            star = "*" if (e.source, e.target) in rank else " "
            mark = MARKS[e.tone]
            marks_used.update(c for c in (star, mark) if c != " ")
            arrow = f"{names.get(e.source, e.source)} -> {names.get(e.target, e.target)}"
            extra = f"   {e.label}" if e.label else ""
            lines.append(f"  {star}{mark} {arrow}{extra}")
        if not edges:
            lines.append("     (no edges)")
    legend = {"*": "* on the cycle", "-": "- expected, missing from yours", "+": "+ yours only"}
    used = [legend[m] for m in "*-+" if m in marks_used]
    if used:
        lines.append("   ".join(used))
    return tuple(lines)
