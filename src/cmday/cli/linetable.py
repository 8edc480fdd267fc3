"""Tables whose rows are one line each (the mention lists, the calendar's posts), laid out without Rich's Table.

Rich's `Table` measures every cell and splits every segment of every row: about 2 ms a row, most of what a
dashboard or a 2,000-row inbox costs to draw. These tables need much less: each column as wide as its widest
cell, up to a cap; the flexible column takes the rest of the width; what does not fit is cut with '…' by cell
width (wide characters, emoji), with Rich's own `Text.truncate`. Cells are `Text`, never markup, and already one
line (`textsafe.one_line`). A column may wrap instead (the checklist's text): its cell is wrapped by Rich's
`Text.wrap`, as Rich's table does, and the row's other cells are blank on the lines below.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal, NamedTuple

from rich.cells import cell_len as rich_cell_len
from rich.console import Console, ConsoleOptions
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Span, Text

GAP = 2  # spaces between two columns
ROOM = 10  # on a narrow screen the capped columns shrink until the flexible one has this much
SHRUNK = 4  # ... but no capped column below this: 'ins…' still says which platform


def cell_len(text: str) -> int:
    """Cells a text takes: one a character when it is all printable ASCII (cells are one line, cleaned), else Rich's count."""
    return len(text) if text.isascii() else rich_cell_len(text)


class Column(NamedTuple):  # not a frozen dataclass: every list and dashboard loads this module, and one costs ~0.5 ms to define
    header: str = ""
    justify: Literal["left", "right"] = "left"
    max_width: int | None = None  # capped: cut with '…' past this, and first to shrink on a narrow screen
    flexible: bool = False  # takes the width the others leave (Rich's ratio=1)
    style: str = ""  # under the cells' own styles
    wrap: bool = False  # the flexible column only: folded onto more lines by words instead of cut


class LineTable:
    """A renderable like `Table(box=None, pad_edge=False, expand=True)` with no-wrap columns, two spaces between."""

    def __init__(self, columns: list[Column], width: int, show_header: bool = True, header_style: str = "dim") -> None:
        self.columns = columns
        self.width = width
        self.show_header = show_header
        self.header_style = header_style
        self.rows: list[list[Text]] = []

    def add_row(self, *cells: Text | str) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append([cell if isinstance(cell, Text) else Text(cell) for cell in cells])

    def widths(self, available: int) -> list[int]:
        """Each column's width in cells, the gaps not counted."""
        rows = [*self._header(), *self.rows]
        natural = [max((cell_len(row[i].plain) for row in rows), default=0) for i in range(len(self.columns))]
        widths = [n if c.flexible or c.max_width is None else min(n, c.max_width) for n, c in zip(natural, self.columns, strict=True)]
        fixed = [i for i, c in enumerate(self.columns) if not c.flexible]
        capped = [i for i in fixed if self.columns[i].max_width is not None]
        flexible = [i for i, c in enumerate(self.columns) if c.flexible]

        def room() -> int:
            return available - GAP * (len(widths) - 1) - sum(widths[i] for i in fixed)

        want = sum(max(1, min(ROOM, natural[i])) for i in flexible)
        _shrink(widths, capped, SHRUNK, want - room())
        _shrink(widths, fixed, 1, len(flexible) - room())  # a screen narrower than any sense: each flexible keeps 1
        rest = max(room(), len(flexible))
        for count, i in enumerate(flexible):
            share = -(-rest // (len(flexible) - count))  # rounded up, as Rich shares a ratio
            widths[i] = share
            rest -= share
        return widths

    def _header(self) -> list[list[Text]]:
        return [[Text(c.header) for c in self.columns]] if self.show_header else []

    def lines(self, console: Console, available: int) -> Iterator[Text]:
        widths = self.widths(available)
        for number, row in enumerate([*self._header(), *self.rows]):
            yield from self._row_lines(console, row, widths, self.header_style if number == 0 and self.show_header else "")

    def _row_lines(self, console: Console, row: list[Text], widths: list[int], style: str) -> Iterator[Text]:
        # the line's characters and spans put together by hand: Text.append would clean every piece again
        parts: list[str] = []
        spans: list[Span] = []
        at = 0  # characters so far
        filled = 0  # cells so far
        below: list[Text] = []  # the wrapped column's further lines
        indent = 0
        last = len(row) - 1
        for index, (cell, width, column) in enumerate(zip(row, widths, self.columns, strict=True)):
            if index:
                parts.append("  ")
                at += GAP
                filled += GAP
            if column.wrap:
                wrapped = list(cell.wrap(console, width, justify=column.justify, overflow="ellipsis")) or [Text()]
                cell, below, indent = wrapped[0], wrapped[1:], filled
            plain = cell.plain
            length = cell_len(plain)
            if length > width:
                cell = cell.copy()
                cell.truncate(width, overflow="ellipsis")
                plain = cell.plain
                length = cell_len(plain)
            pad = " " * (width - length) if width > length else ""
            if column.justify == "right":
                parts.append(pad)
                at += len(pad)
            start = at
            parts.append(plain)
            at += len(plain)
            if column.style:
                spans.append(Span(start, at, column.style))
            if cell.style:
                spans.append(Span(start, at, cell.style))
            spans.extend(Span(s + start, e + start, span_style) for s, e, span_style in cell.spans)
            if column.justify != "right" and index < last:
                parts.append(pad)
                at += len(pad)
            filled += width
        plain = "".join(parts).rstrip()
        end = len(plain)
        yield Text(plain, style=style, spans=[span if span.end <= end else Span(span.start, end, span.style) for span in spans if span.start < end])
        for more in below:
            more.rstrip()
            yield Text.assemble(" " * indent, more, style=style)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterable[Segment]:
        newline = Segment.line()
        for line in self.lines(console, min(self.width, options.max_width)):
            if line.style and not line.spans:  # Text.render leaves out the style of a text without spans
                yield Segment(line.plain, console.get_style(line.style))
            else:
                yield from line.render(console)
            yield newline

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = min(self.width, options.max_width)
        return Measurement(width, width)


def _shrink(widths: list[int], columns: list[int], floor: int, excess: int) -> None:
    """Narrower by `excess` cells in all, the widest of `columns` first, none below `floor`: fair to each."""
    while excess > 0:
        widest = max(columns, key=lambda i: widths[i], default=None)
        if widest is None or widths[widest] <= floor:
            return
        widths[widest] -= 1
        excess -= 1
