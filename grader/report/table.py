"""A TablePicture prepared for templates/table.html.j2 and as aligned text for Markdown."""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.results import TablePicture

MAX_ROWS = 200  # longer tables are cut around the marked row
MAX_CELL = 80  # characters of one cell in the text form


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    css: str  # "tone-bad"


@dataclass(frozen=True, slots=True)
class TableRow:
    cells: tuple[Cell, ...]
    marked: bool


@dataclass(frozen=True, slots=True)
class TableChart:
    id: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[TableRow, ...]
    caption: str
    text_intro: str
    text: tuple[str, ...]
    cut_note: str | None  # "rows 1–40 of 900 are shown"


def _window(picture: TablePicture) -> tuple[int, int]:
    n = len(picture.rows)
    if n <= MAX_ROWS:
        return 0, n
    centre = picture.mark_row if picture.mark_row is not None else 0
    start = max(0, min(n - MAX_ROWS, centre - MAX_ROWS // 3))
    return start, start + MAX_ROWS


def _clip(text: str) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def text_table(picture: TablePicture, start: int, end: int) -> tuple[str, ...]:
    """Fixed-width lines: a header, a rule, one line per row; ``>`` marks the marked row."""
    header = [_clip(c) for c in picture.columns]
    body = [[_clip(c.text) for c in row] for row in picture.rows[start:end]]
    ncols = max([len(header), *(len(r) for r in body)])
    widths = [0] * ncols
    for r in [header, *body]:
        for i, cell in enumerate(r):
            widths[i] = max(widths[i], len(cell))

    def line(cells: list[str], prefix: str) -> str:
        padded = [
            cells[i].ljust(widths[i]) if i < len(cells) else " " * widths[i] for i in range(ncols)
        ]
        return (prefix + " | ".join(padded)).rstrip()

    lines = [line(header, "  "), "  " + "-+-".join("-" * w for w in widths)]
    for i, r in enumerate(body, start=start):
        lines.append(line(r, "> " if i == picture.mark_row else "  "))
    return tuple(lines)


def layout_table(picture: TablePicture, table_id: str = "table") -> TableChart:
    """Prepare ``picture``: rows cut to a window around the marked row, css classes set."""
    start, end = _window(picture)
    rows = tuple(
        TableRow(
            tuple(Cell(c.text, f"tone-{c.tone}") for c in row),
            marked=i == picture.mark_row,
        )
        for i, row in enumerate(picture.rows[start:end], start=start)
    )
    n = len(picture.rows)
    cut = None if (start, end) == (0, n) else f"rows {start + 1}–{end} of {n} are shown"
    intro = picture.title or "The table"
    mark = (
        " (the row marked > is where yours first departs)" if picture.mark_row is not None else ""
    )
    return TableChart(
        id=table_id,
        title=picture.title,
        columns=tuple(picture.columns),
        rows=rows,
        caption=" ".join(p for p in (picture.caption, cut and f"Only {cut}.") if p),
        text_intro=f"{intro}{mark}:",
        text=text_table(picture, start, end),
        cut_note=cut,
    )
