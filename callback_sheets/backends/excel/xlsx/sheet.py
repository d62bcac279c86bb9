"""Rewriting a worksheet part: only the targeted ``<c>`` and ``<row>`` elements are rebuilt.

:func:`patch_sheet_xml` reads the UTF-8 sheet XML in chunks of whole rows (:mod:`.sheet_reader`, so
the decompressed part is never held whole) and walks it alongside the targets sorted by row and column; it
splices the new cells (encoded by :mod:`.cells`) in column order, creates missing rows, appends rows
(:mod:`.append`), and keeps the sheet's dimension, row spans and filter range coherent. Every other
byte of the part is passed on untouched. The new part is handed to ``emit`` in pieces of about a
megabyte as it is made, so neither a rewritten copy of the part nor per-cell objects for the whole sheet
are ever held. Finding the rows and rewriting their cells is :mod:`.rows`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter

from callback_sheets.backends.excel.xlsx.append import (
    appended_extent,
    first_row,
    grown_autofilter,
    last_used_row,
    write_appended_rows,
)
from callback_sheets.backends.excel.xlsx.cells import (
    MAX_COL,
    MAX_ROW,
    CellWriter,
    Growth,
    Range,
    StyleFor,
    cell_ref,
    format_range,
    parse_range,
    scan_cells,
)
from callback_sheets.backends.excel.xlsx.read import CellValue
from callback_sheets.backends.excel.xlsx.rows import Emit, RowEditor, _RowCursor, scan_rows
from callback_sheets.backends.excel.xlsx.sheet_reader import SheetReader
from callback_sheets.backends.excel.xlsx.styles import column_styles, row_styles

_DIMENSION = re.compile(rb"""(<dimension\b[^>]*?\sref\s*=\s*["'])([^"']*)(["'])""")
_FLUSH_ROWS = 512
_COL_OF = itemgetter(1)

LastRow = tuple[int, bytes, int]
"""The last row holding a value: its number, its XML, the length of its start tag."""


@dataclass(frozen=True, slots=True)
class SheetPatch:
    """What the package around a patched worksheet part must follow."""

    last_row_before: int  # the last row that held a value before the patch (0: none)
    last_row_after: int
    autofilter: Growth  # the sheet's filter range (before, after) if it grew
    edits: Mapping[tuple[int, int], CellValue]
    appends: Sequence[Sequence[CellValue]]
    skipped: frozenset[tuple[int, int]]  # cleared targets that did not exist, so were not written

    def wrote(self, row: int, col: int) -> bool:
        """True when the patch rewrote or created the cell (row, col)."""
        if (row, col) in self.skipped:
            return False
        if (row, col) in self.edits:
            return True
        offset = row - self.last_row_before
        if self.appends and 1 <= offset <= len(self.appends):
            values = self.appends[offset - 1]
            return col <= len(values) and values[col - 1] is not None
        return False


Source = Callable[[], Iterator[bytes]]
"""Opens the worksheet part afresh and yields its decompressed bytes in pieces."""


def patch_sheet_xml(
    source: Source,
    edits: Mapping[tuple[int, int], CellValue],
    appends: Sequence[Sequence[CellValue]],
    style_for: StyleFor,
    emit: Emit,
    *,
    date1904: bool = False,
) -> SheetPatch:
    """Applies ``edits`` and ``appends`` to one worksheet part; everything else stays byte-identical.

    The part is read from ``source`` in chunks (twice when rows are appended or a cleared cell lies
    outside the sheet's dimension: a first pass finds what the start of the new part depends on).
    Raises :class:`PatchRefused` or ``ValueError`` possibly after some pieces were emitted: the caller
    must hold the output until this returns.
    """
    reader = SheetReader(source())
    head = reader.head
    last, _, header = _survey(source, []) if appends else (None, [], None)
    last_before = last[0] if last else 0
    keys = _sorted_edits(edits, bool(appends), last_before)
    col_styles = column_styles(head)
    below = col_styles
    if last is not None:
        below = _data_styles(col_styles, last, header)
    extent = _written_extent(source, head, keys, edits, appends, last_before)
    writer = CellWriter(style_for, date1904=date1904)
    editor = RowEditor(writer)
    out = _Buffer(emit)
    out.add(_grown_dimension(head, extent))
    out.add(reader.opening[:-2].rstrip() + b">" if reader.empty else reader.opening)
    rows = _RowCursor(reader.chunks(), editor, out.add, keys, appends, last_before, out.flush)
    last_after = last_before
    for number, cells in _edit_groups(keys, edits):
        if _write_row(rows, editor, number, cells, col_styles, out.add) and number > last_after:
            last_after = number
        out.flush_if_full()
    index, last_after = _appends_over_rows(rows, editor, appends, last_before, last_after, below, out)
    rows.finish()
    if index < len(appends):
        tick = out.flush_if_full
        appended = write_appended_rows(appends, index, last_before, writer, below, out.add, tick)
        last_after = max(last_after, appended)
    out.add(b"</sheetData>")
    tail = reader.tail
    autofilter = None
    if appends and last_after > last_before:
        tail, autofilter = grown_autofilter(tail, last_before, last_after)
    out.add(tail)
    out.flush()
    return SheetPatch(last_before, last_after, autofilter, edits, appends, frozenset(editor.skipped))


def _written_extent(
    source: Source,
    head: bytes,
    keys: list[tuple[int, int]],
    edits: Mapping[tuple[int, int], CellValue],
    appends: Sequence[Sequence[CellValue]],
    last_before: int,
) -> Range | None:
    """The area the patched sheet holds values in, for its ``<dimension>``: the edits, the appended
    rows, and the cleared cells outside the old dimension that were there (a second pass finds them)."""
    extent = _merge(_value_extent(keys, edits), appended_extent(appends, last_before))
    dimension = _DIMENSION.search(head)
    area = parse_range(dimension.group(2)) if dimension else None
    if area is not None:  # a cleared cell is written (keeping its style) only if it was there
        cleared = sorted(k for k, value in edits.items() if value is None)
        outside = [k for k in cleared if not (_inside(extent, k) or _inside(area, k))]
        if outside:
            extent = _union(extent, _survey(source, outside)[1])
    return extent


def _appends_over_rows(
    rows: _RowCursor,
    editor: RowEditor,
    appends: Sequence[Sequence[CellValue]],
    last_before: int,
    last_after: int,
    below: dict[int, int],
    out: _Buffer,
) -> tuple[int, int]:
    """Writes the appended rows that meet an existing (empty, styled) row or are placed before one;
    returns how many were (the rest follow the sheet's rows) and the last row holding a value."""
    index = 0
    while index < len(appends) and rows.seek(number := last_before + index + 1) is not None:
        cells: list[tuple[int, CellValue]] = [
            (col, value) for col, value in enumerate(appends[index], start=1) if value is not None
        ]
        if cells:
            cell_ref(number, cells[-1][0])  # validates the address
            if _write_row(rows, editor, number, cells, below, out.add):
                last_after = number
        out.flush_if_full()
        index += 1
    return index, last_after


def _data_styles(col_styles: dict[int, int], last: LastRow, header: LastRow | None) -> dict[int, int]:
    """The styles of appended cells: those of the last row holding a value, but never the header's.

    When that last row is the header (row 1), or one of its cells carries the style of the header cell
    above it (rows once appended under a styled header copied it), the column's style is used instead,
    so a data cell never looks like a header."""
    if last[0] == 1:
        return dict(col_styles)
    styles = row_styles(last[1], (last[0], 0, last[2], len(last[1]), False))
    if header is not None:
        heads = row_styles(header[1], (1, 0, header[2], len(header[1]), False))
        for col, style in list(styles.items()):
            if heads.get(col) == style and style != col_styles.get(col, 0):
                if col in col_styles:
                    styles[col] = col_styles[col]
                else:
                    del styles[col]
    return {**col_styles, **styles}


def _survey(
    source: Source, wanted: list[tuple[int, int]]
) -> tuple[LastRow | None, list[tuple[int, int]], LastRow | None]:
    """A first pass over the part: its last row holding a value (number, the row's XML, length of its
    start tag), which of the ``wanted`` cells exist, and row 1 (the header) when it holds a value."""
    by_row: dict[int, list[int]] = {}
    for row, col in wanted:
        by_row.setdefault(row, []).append(col)
    last = header = None
    found: list[tuple[int, int]] = []
    for chunk in SheetReader(source()).chunks():
        if header is None and last is None:
            first = first_row(chunk)
            if first is not None and first[0] == 1:
                header = (1, chunk[first[1] : first[3]], first[2] - first[1])
        used = last_used_row(chunk, 0, len(chunk))
        if used is not None:
            last = (used[0], chunk[used[1] : used[3]], used[2] - used[1])
        if by_row:
            found += _existing_cells(chunk, by_row)
    return last, found, header


class _Buffer:
    """Collects the new part's pieces and hands them on joined, a few hundred rows at a time."""

    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        self._pieces: list[bytes] = []
        self._rows = 0
        self.add = self._pieces.append

    def flush_if_full(self) -> None:
        """Counts a row; hands the pieces on every few hundred rows."""
        self._rows += 1
        if self._rows % _FLUSH_ROWS == 0:
            self.flush()

    def flush(self) -> None:
        if self._pieces:
            self._emit(b"".join(self._pieces))
            self._pieces.clear()


def _edit_groups(
    keys: list[tuple[int, int]], edits: Mapping[tuple[int, int], CellValue]
) -> Iterator[tuple[int, list[tuple[int, CellValue]]]]:
    """(row, [(column, value), ...] in column order) for every edited row, in row order (``keys``
    sorted)."""
    row = 0
    cells: list[tuple[int, CellValue]] = []
    for key in keys:
        if key[0] != row:
            if cells:
                yield row, cells
            row = key[0]
            cells = []
        cells.append((key[1], edits[key]))
    if cells:
        yield row, cells


def _write_row(
    rows: _RowCursor,
    editor: RowEditor,
    number: int,
    cells: list[tuple[int, CellValue]],
    defaults: dict[int, int],
    add: Emit,
) -> bool:
    """Writes the target cells of row ``number``, in the existing row or in a new one."""
    row = rows.seek(number)
    if row is not None and row[0] == number:
        rows.cursor = row[3]
        return editor.rewrite(row, cells, defaults, add)
    return editor.new_row(number, cells, defaults, add)


def _sorted_edits(
    edits: Mapping[tuple[int, int], CellValue], appending: bool, last_before: int
) -> list[tuple[int, int]]:
    """The edited cells in row and column order, their addresses checked."""
    keys = sorted(edits)
    if keys:
        cell_ref(keys[0][0], min(map(_COL_OF, keys)))  # validates every address
        cell_ref(keys[-1][0], max(map(_COL_OF, keys)))
        if appending and keys[-1][0] > last_before:
            row = next(row for row, _ in keys if row > last_before)
            raise ValueError(f"edit of row {row} collides with the rows appended after row {last_before}")
    return keys


def _value_extent(keys: list[tuple[int, int]], edits: Mapping[tuple[int, int], CellValue]) -> Range | None:
    """The smallest range holding every edited cell that gets a value (those are always written)."""
    valued = [key for key in keys if edits[key] is not None] if None in edits.values() else keys
    if not valued:
        return None
    cols = list(map(itemgetter(1), valued))
    return valued[0][0], min(cols), valued[-1][0], max(cols)


def _merge(first: Range | None, second: Range | None) -> Range | None:
    """The smallest range holding both."""
    if first is None or second is None:
        return first or second
    return _union(first, [second[:2], second[2:]])


def _inside(area: Range | None, key: tuple[int, int]) -> bool:
    return area is not None and area[0] <= key[0] <= area[2] and area[1] <= key[1] <= area[3]


def _union(area: Range | None, cells: Sequence[tuple[int, int]]) -> Range | None:
    if not cells:
        return area
    rows = [row for row, _ in cells] + ([area[0], area[2]] if area else [])
    cols = [col for _, col in cells] + ([area[1], area[3]] if area else [])
    return min(rows), min(cols), max(rows), max(cols)


def _grown_dimension(head: bytes, extent: Range | None) -> bytes:
    """The part before <sheetData> with <dimension> widened to cover every written cell."""
    match = _DIMENSION.search(head)
    if match is None or extent is None:
        return head
    area = parse_range(match.group(2))
    if area is None:
        return head
    grown = _union(area, [extent[:2], extent[2:]])
    if grown is None or grown == area:
        return head
    return head[: match.start(2)] + format_range(grown) + head[match.end(2) :]


def _existing_cells(xml: bytes, wanted: dict[int, list[int]]) -> list[tuple[int, int]]:
    """Which of the ``wanted`` cells (row -> columns) exist in a chunk of rows (a slow scan, for the
    rare cases)."""
    found: list[tuple[int, int]] = []
    for number, _start, tag_end, end, self_closing in scan_rows(xml, 0, len(xml)):
        cols = wanted.get(number)
        if cols and not self_closing:
            cells = scan_cells(xml, number, tag_end, end - len(b"</row>"))
            found += [(number, cell.col) for cell in cells if cell.col in cols]
    return found


__all__ = [
    "MAX_COL",
    "MAX_ROW",
    "SheetPatch",
    "patch_sheet_xml",
]
