"""Rewriting a worksheet part: only the targeted ``<c>`` and ``<row>`` elements are rebuilt.

:func:`patch_sheet_xml` walks the UTF-8 sheet XML once, row by row, alongside the targets sorted by row
and column; it splices the new cells (encoded by :mod:`.xlsx_cells`) in column order, creates missing
rows, and keeps the sheet's dimension, row spans and filter range coherent. Every other byte of the part
is passed on untouched. The new part is handed to ``emit`` in pieces of about a megabyte as it is made,
so neither a rewritten copy of the part nor per-cell objects for the whole sheet are ever held.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from callback_sheets.backends.xlsx_cells import (
    MAX_COL,
    MAX_ROW,
    CellWriter,
    Growth,
    PatchRefused,
    Range,
    StyleFor,
    cell_head,
    cell_ref,
    format_range,
    locate_cells,
    parse_range,
    tag_attrs,
)
from callback_sheets.backends.xlsx_read import CellValue
from callback_sheets.backends.xlsx_styles import column_styles, row_styles

MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet\b([^>]*)>")
_SHEET_DATA = re.compile(rb"<sheetData\b[^>]*?(/?)>")
_FORMULA_REF = re.compile(rb"""<f\b[^>]*?\sref\s*=\s*["']([^"']+)["']""")
_DIMENSION = re.compile(rb"""(<dimension\b[^>]*?\sref\s*=\s*["'])([^"']*)(["'])""")
_AUTOFILTER = re.compile(rb"""(<autoFilter\b[^>]*?\sref\s*=\s*["'])([^"']*)(["'])""")
_ROW = re.compile(rb"<row\b([^>]*?)(/?)>")
_PLAIN_ROW = re.compile(rb'<row(?: r="([1-9][0-9]{0,6})"(?=[\s/>]))?([^>]*?)(/?)>')
_ATTR_R = re.compile(rb"""\sr\s*=\s*["']([^"']*)["']""")
_SPANS = re.compile(rb"""\sspans\s*=\s*["']([^"']*)["']""")
_ROW_ENDS = (b" ", b"\t", b"\n", b"\r", b">", b"/")
_VALUE_MARKS = (b"<v", b"<is", b"<f")
_FLUSH_ROWS = 512

Emit = Callable[[bytes], None]
"""Receives the new part, piece by piece, in order."""
Row = tuple[int, int, int, int, bool]
"""A <row>: (number, start, start-tag end, end, self-closing), offsets into the part."""
Targets = Iterator[tuple[int, list[tuple[int, CellValue]]]]
"""(row, [(column, value), ...] in column order) for every row the patch writes, in row order."""


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


def check_sheet_root(xml: bytes) -> None:
    """Refuses parts the splicer would misread: other encodings, prefixed or foreign namespaces."""
    if xml.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PatchRefused("the worksheet is not UTF-8 encoded")
    prolog = re.match(rb"(?:\xef\xbb\xbf)?\s*(<\?xml[^>]*\?>)?", xml)
    declaration = prolog.group(1) if prolog else None
    if declaration and re.search(rb"""encoding\s*=\s*["'](?!utf-8["'])""", declaration, re.IGNORECASE):
        raise PatchRefused("the worksheet is not UTF-8 encoded")
    root = _ROOT.search(xml)
    if root is None:
        raise PatchRefused("the worksheet part has no <worksheet> root")
    if root.group(1):
        raise PatchRefused("the worksheet uses a namespace prefix on the main namespace")
    if b'xmlns="' + MAIN_NS + b'"' not in root.group(2):
        raise PatchRefused("the worksheet is not in the transitional SpreadsheetML namespace")
    if re.search(rb"xmlns:[\w.-]+\s*=\s*[\"']" + re.escape(MAIN_NS), root.group(2)):
        raise PatchRefused("the worksheet binds a prefix to the main namespace")


def patch_sheet_xml(
    xml: bytes,
    edits: Mapping[tuple[int, int], CellValue],
    appends: Sequence[Sequence[CellValue]],
    style_for: StyleFor,
    emit: Emit,
) -> SheetPatch:
    """Applies ``edits`` and ``appends`` to one worksheet part; everything else stays byte-identical.

    Raises :class:`PatchRefused` or ``ValueError`` possibly after some pieces were emitted: the caller
    must hold the output until this returns.
    """
    check_sheet_root(xml)
    data = _SHEET_DATA.search(xml)
    if data is None:
        raise PatchRefused("the worksheet has no <sheetData>")
    if data.group(1):
        body_start = body_end = close = data.end()
    else:
        body_start = data.end()
        body_end = xml.find(b"</sheetData>", body_start)
        if body_end < 0:
            raise PatchRefused("the worksheet's <sheetData> is not closed")
        close = body_end + len(b"</sheetData>")
    if xml.find(b"xmlns", body_start, body_end) >= 0:
        raise PatchRefused("the worksheet redeclares namespaces inside <sheetData>")
    last = last_used_row(xml, body_start, body_end) if appends else None
    last_before = last[0] if last else 0
    keys = _sorted_edits(edits, bool(appends), last_before)
    _refuse_formula_ranges(xml, body_start, body_end, keys, appends, last_before)
    head = xml[: data.start()]
    col_styles = column_styles(head)
    below = {**col_styles, **row_styles(xml, last)} if last else col_styles
    editor = RowEditor(xml, CellWriter(style_for))

    extent = _value_extent(keys, edits, appends, last_before)
    dimension = _DIMENSION.search(head)
    area = parse_range(dimension.group(2)) if dimension else None
    if area is not None:  # a cleared cell is written (keeping its style) only if it was there
        outside = [k for k in keys if edits[k] is None and not (_inside(extent, k) or _inside(area, k))]
        extent = _union(extent, editor.existing(outside, body_start, body_end))
    opening = xml[data.start() : data.end()]
    out = _Buffer(emit)
    out.add(_grown_dimension(head, extent))
    out.add(opening[:-2].rstrip() + b">" if data.group(1) else opening)
    rows = scan_rows(xml, body_start, body_end)
    current = next(rows, None)
    cursor = body_start
    last_after = last_before
    for number, cells in _targets(keys, edits, appends, last_before):
        while current is not None and current[0] < number:
            current = next(rows, None)
        defaults = below if number > last_before else col_styles
        if current is not None and current[0] == number:
            out.add(xml[cursor : current[1]])
            written = editor.rewrite(current, cells, defaults, out.add)
            cursor = current[3]
        else:
            insert_at = current[1] if current is not None else body_end
            out.add(xml[cursor:insert_at])
            cursor = insert_at
            written = editor.new_row(number, cells, defaults, out.add)
        if written and number > last_after:
            last_after = number
        out.flush_if_full()
    for _ in rows:  # every row is checked, targeted or not
        pass
    out.add(xml[cursor:body_end])
    out.add(b"</sheetData>")
    tail = xml[close:]
    autofilter = None
    if appends and last_after > last_before:
        tail, autofilter = _grown_autofilter(tail, last_before, last_after)
    out.add(tail)
    out.flush()
    return SheetPatch(last_before, last_after, autofilter, edits, appends, frozenset(editor.skipped))


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


def _sorted_edits(
    edits: Mapping[tuple[int, int], CellValue], appending: bool, last_before: int
) -> list[tuple[int, int]]:
    """The edited cells in row and column order, their addresses checked."""
    keys = sorted(edits)
    if keys:
        cell_ref(keys[0][0], min(col for _, col in keys))  # validates every address
        cell_ref(keys[-1][0], max(col for _, col in keys))
        if appending and keys[-1][0] > last_before:
            row = next(row for row, _ in keys if row > last_before)
            raise ValueError(f"edit of row {row} collides with the rows appended after row {last_before}")
    return keys


def _targets(
    keys: list[tuple[int, int]],
    edits: Mapping[tuple[int, int], CellValue],
    appends: Sequence[Sequence[CellValue]],
    last_before: int,
) -> Targets:
    """Every row the patch writes, edits first, then the appended rows (which all come after them)."""
    index, count = 0, len(keys)
    while index < count:
        row = keys[index][0]
        cells: list[tuple[int, CellValue]] = []
        while index < count and keys[index][0] == row:
            key = keys[index]
            cells.append((key[1], edits[key]))
            index += 1
        yield row, cells
    for offset, values in enumerate(appends, start=1):
        row = last_before + offset
        cells = [(col, value) for col, value in enumerate(values, start=1) if value is not None]
        if cells:
            cell_ref(row, cells[-1][0])  # validates the address
            yield row, cells


def _value_extent(
    keys: list[tuple[int, int]],
    edits: Mapping[tuple[int, int], CellValue],
    appends: Sequence[Sequence[CellValue]],
    last_before: int,
) -> Range | None:
    """The smallest range holding every target cell that gets a value (those are always written)."""
    rows = [row for row, col in keys if edits[(row, col)] is not None]
    cols = [col for row, col in keys if edits[(row, col)] is not None]
    for offset, values in enumerate(appends, start=1):
        used = [col for col, value in enumerate(values, start=1) if value is not None]
        if used:
            rows.append(last_before + offset)
            cols += (used[0], used[-1])
    return (min(rows), min(cols), max(rows), max(cols)) if rows else None


def _inside(area: Range | None, key: tuple[int, int]) -> bool:
    return area is not None and area[0] <= key[0] <= area[2] and area[1] <= key[1] <= area[3]


def _union(area: Range | None, cells: Sequence[tuple[int, int]]) -> Range | None:
    if not cells:
        return area
    rows = [row for row, _ in cells] + ([area[0], area[2]] if area else [])
    cols = [col for _, col in cells] + ([area[1], area[3]] if area else [])
    return min(rows), min(cols), max(rows), max(cols)


def _refuse_formula_ranges(
    xml: bytes,
    start: int,
    end: int,
    keys: list[tuple[int, int]],
    appends: Sequence[Sequence[CellValue]],
    last_before: int,
) -> None:
    """Refuses when a shared or array formula's range covers a cell the patch writes."""
    if not (keys or appends) or xml.find(b"<f", start, end) < 0:
        return
    for match in _FORMULA_REF.finditer(xml, start, end):
        area = parse_range(match.group(1))
        if area is None:
            raise PatchRefused(f"unreadable formula range {match.group(1).decode(errors='replace')!r}")
        first_row, first_col, last_row, last_col = area
        covered = None
        index = bisect_left(keys, (first_row, 0))
        while covered is None and index < len(keys) and keys[index][0] <= last_row:
            if first_col <= keys[index][1] <= last_col:
                covered = keys[index]
            index += 1
        for row in range(max(first_row, last_before + 1), min(last_row, last_before + len(appends)) + 1):
            values = appends[row - last_before - 1]
            for col in range(first_col, min(last_col, len(values)) + 1):
                if covered is None and values[col - 1] is not None:
                    covered = (row, col)
        if covered is not None:
            ref = cell_ref(*covered).decode()
            raise PatchRefused(f"a shared or array formula ({match.group(1).decode()}) covers {ref}")


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


def _grown_autofilter(tail: bytes, last_before: int, last_after: int) -> tuple[bytes, Growth]:
    """The part after </sheetData> with a sheet filter that ended at the data's last row extended."""
    match = _AUTOFILTER.search(tail)
    extension = tail.find(b"<extLst")
    if match is None or (0 <= extension < match.start()):
        return tail, None
    area = parse_range(match.group(2))
    if area is None or area[2] != last_before:
        return tail, None
    grown = (area[0], area[1], last_after, area[3])
    return tail[: match.start(2)] + format_range(grown) + tail[match.end(2) :], (area, grown)


def scan_rows(xml: bytes, start: int, end: int) -> Iterator[Row]:
    """Every <row> between ``start`` and ``end``, checked to be numbered and in order."""
    previous = 0
    pos = start
    search = _PLAIN_ROW.search
    while True:
        match = search(xml, pos, end)
        if match is None:
            return
        if match.group(1) is None and not xml.startswith(_ROW_ENDS, match.start() + 4):
            pos = match.start() + 4  # some other element, such as <rowBreaks>
            continue
        number = int(match.group(1)) if match.group(1) else _row_number(match.group(2))
        if not previous < number <= MAX_ROW:
            raise PatchRefused(f"rows are out of order or misnumbered near row {number}")
        previous = number
        closed = bool(match.group(3))
        row_end = match.end() if closed else _row_end(xml, match.end(), end, number)
        yield number, match.start(), match.end(), row_end, closed
        pos = row_end


def last_used_row(xml: bytes, start: int, end: int) -> Row | None:
    """The last row holding at least one value or formula (styled empty rows do not count), found from
    the end of the part."""
    pos = end
    while (at := xml.rfind(b"<row", start, pos)) >= 0:
        pos = at
        match = _ROW.match(xml, at, end)
        if match is None or match.group(2):
            continue
        number = _row_number(match.group(1))
        row_end = _row_end(xml, match.end(), end, number)
        if any(xml.find(mark, match.end(), row_end) >= 0 for mark in _VALUE_MARKS):
            return number, at, match.end(), row_end, False
    return None


def _row_number(attrs: bytes) -> int:
    ref = _ATTR_R.search(attrs)
    if ref is None:
        raise PatchRefused("a row has no r= attribute (row numbers would be guessed)")
    if not ref.group(1).isdigit():
        raise PatchRefused(f"rows are out of order or misnumbered near row {ref.group(1).decode()!r}")
    return int(ref.group(1))


def _row_end(xml: bytes, tag_end: int, end: int, number: int) -> int:
    row_end = xml.find(b"</row>", tag_end, end)
    if row_end < 0:
        raise PatchRefused(f"row {number} is not closed")
    return row_end + len(b"</row>")


class RowEditor:
    """Rewrites the target cells of existing rows and makes new rows, through one :class:`CellWriter`."""

    def __init__(self, xml: bytes, writer: CellWriter) -> None:
        self.xml = xml
        self.cell = writer.cell
        self.skipped: list[tuple[int, int]] = []  # cleared targets that did not exist

    def rewrite(
        self, row: Row, cells: list[tuple[int, CellValue]], defaults: dict[int, int], add: Emit
    ) -> bool:
        """Emits the row with its target cells replaced or inserted in column order; True if any was."""
        xml = self.xml
        number, start, tag_end, end, self_closing = row
        inner_end = tag_end if self_closing else end - len(b"</row>")
        existing, inserts = locate_cells(xml, number, tag_end, inner_end, [col for col, _ in cells])
        opening = xml[start:tag_end]
        row_style = None
        if b"customFormat" in opening:
            attrs = tag_attrs(opening[4 : -2 if self_closing else -1])
            if attrs.get(b"customFormat") in (b"1", b"true") and attrs.get(b"s", b"").isdigit():
                row_style = int(attrs[b"s"])
        suffix = b'%d"' % number
        pieces: list[bytes] = []
        cursor = tag_end
        written: list[int] = []
        for col, value in cells:
            found = existing.get(col)
            if found is not None:
                if xml.find(b"<f", found.tag_end, found.end) >= 0:
                    raise PatchRefused(f"{cell_ref(number, col).decode()} holds a formula")
                pieces.append(xml[cursor : found.start])
                pieces.append(self.cell(cell_head(col) + suffix, value, found.attrs, None, (number, col)))
                cursor = found.end
            elif value is not None:
                insert_at = max(inserts[col], cursor)
                pieces.append(xml[cursor:insert_at])
                default = row_style if row_style is not None else defaults.get(col)
                pieces.append(self.cell(cell_head(col) + suffix, value, None, default, (number, col)))
                cursor = insert_at
            else:
                self.skipped.append((number, col))
                continue
            written.append(col)
        pieces.append(xml[cursor:inner_end])
        if written and b"spans" in opening:
            opening = _widened_spans(opening, written)
        if self_closing:
            opening = opening[:-2].rstrip() + b">"
        add(opening + b"".join(pieces) + b"</row>")
        return bool(written)

    def new_row(
        self, number: int, cells: list[tuple[int, CellValue]], defaults: dict[int, int], add: Emit
    ) -> bool:
        """Emits a <row> that did not exist, holding the target cells that have a value."""
        suffix = b'%d"' % number
        pieces = []
        for col, value in cells:
            if value is None:
                self.skipped.append((number, col))
            else:
                pieces.append(
                    self.cell(cell_head(col) + suffix, value, None, defaults.get(col), (number, col))
                )
        if pieces:
            add(b'<row r="' + suffix + b">" + b"".join(pieces) + b"</row>")
        return bool(pieces)

    def existing(self, keys: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
        """Which of ``keys`` name cells that exist in the part (a slow scan, for the rare cases)."""
        wanted: dict[int, list[int]] = {}
        for row, col in keys:
            wanted.setdefault(row, []).append(col)
        found: list[tuple[int, int]] = []
        for number, _start, tag_end, row_end, self_closing in (
            scan_rows(self.xml, start, end) if wanted else ()
        ):
            cols = wanted.get(number)
            if cols and not self_closing:
                cells, _ = locate_cells(self.xml, number, tag_end, row_end - len(b"</row>"), cols)
                found += [(number, col) for col in cells if col in cols]
        return found


def _widened_spans(opening: bytes, cols: list[int]) -> bytes:
    """The row's start tag with its optional spans hint widened to the new cells (or dropped)."""
    match = _SPANS.search(opening)
    if match is None or not cols:
        return opening
    span = re.fullmatch(rb"(\d+):(\d+)", match.group(1))
    if span is None:
        return opening[: match.start()] + opening[match.end() :]
    first, last = int(span.group(1)), int(span.group(2))
    if first <= min(cols) and max(cols) <= last:
        return opening
    widened = f' spans="{min(first, *cols)}:{max(last, *cols)}"'.encode()
    return opening[: match.start()] + widened + opening[match.end() :]


__all__ = ["MAIN_NS", "MAX_COL", "MAX_ROW", "SheetPatch", "check_sheet_root", "patch_sheet_xml"]
