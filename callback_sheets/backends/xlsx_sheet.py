"""Rewriting a worksheet part: only the targeted ``<c>`` and ``<row>`` elements are rebuilt.

:func:`patch_sheet_xml` locates the target rows and cells in the UTF-8 sheet XML, splices the new cells
(encoded by :mod:`.xlsx_cells`) in column order, creates missing rows, and keeps the sheet's dimension,
row spans and filter range coherent. Every other byte of the part is passed on untouched.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from callback_sheets.backends.xlsx_cells import (
    MAX_ROW,
    Cell,
    Growth,
    PatchRefused,
    StyleFor,
    cell_at,
    cell_ref,
    cell_xml,
    column_letters,
    column_number,
    format_range,
    parse_range,
    scan_cells,
    tag_attrs,
)
from callback_sheets.backends.xlsx_read import CellValue
from callback_sheets.backends.xlsx_styles import column_styles

MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet\b([^>]*)>")
_SHEET_DATA = re.compile(rb"<sheetData\b[^>]*?(/?)>")
_ROW = re.compile(rb"<row\b([^>]*?)(/?)>")
_ATTR_R = re.compile(rb"""\sr\s*=\s*["']([^"']*)["']""")
_FORMULA_REF = re.compile(rb"""<f\b[^>]*?\sref\s*=\s*["']([^"']+)["']""")
_DIMENSION = re.compile(rb"""(<dimension\b[^>]*?\sref\s*=\s*["'])([^"']*)(["'])""")
_AUTOFILTER = re.compile(rb"""(<autoFilter\b[^>]*?\sref\s*=\s*["'])([^"']*)(["'])""")
_VALUE_MARKS = (b"<v", b"<is", b"<f")
_PLAIN_CELL = re.compile(rb'<c r="([A-Z]{1,3})[0-9]')


@dataclass(frozen=True, slots=True)
class SheetPatch:
    """A patched worksheet part and what the package around it must follow."""

    chunks: tuple[bytes | memoryview, ...]  # the new part, in order (views into the old one)
    last_row_before: int  # the last row that held a value before the patch (0: none)
    last_row_after: int
    written: frozenset[tuple[int, int]]  # every (row, col) rewritten or created
    autofilter: Growth  # the sheet's filter range (before, after) if it grew

    @property
    def xml(self) -> bytes:
        """The new part in one piece."""
        return b"".join(self.chunks)


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
) -> SheetPatch:
    """Applies ``edits`` and ``appends`` to one worksheet part; everything else stays byte-identical."""
    check_sheet_root(xml)
    data = _SHEET_DATA.search(xml)
    if data is None:
        raise PatchRefused("the worksheet has no <sheetData>")
    if data.group(1):
        body_start = body_end = data.end()
        close = data.end()
    else:
        body_start = data.end()
        body_end = xml.find(b"</sheetData>", body_start)
        if body_end < 0:
            raise PatchRefused("the worksheet's <sheetData> is not closed")
        close = body_end + len(b"</sheetData>")
    if xml.find(b"xmlns", body_start, body_end) >= 0:
        raise PatchRefused("the worksheet redeclares namespaces inside <sheetData>")
    rows = _scan_rows(xml, body_start, body_end)
    last_before = _last_used_row(xml, rows) if appends else 0
    targets = _targets(edits, appends, last_before)
    _refuse_formula_ranges(xml, body_start, body_end, targets)
    col_styles = column_styles(xml[: data.start()])
    above = _row_styles(xml, rows, last_before) if appends else {}

    view = memoryview(xml)  # untouched spans are passed on as views: the part is never copied whole
    pieces: list[bytes | memoryview] = [xml[: data.start()]]
    opening = xml[data.start() : data.end()]
    pieces.append(opening[:-2].rstrip() + b">" if data.group(1) else opening)
    cursor = body_start
    written: set[tuple[int, int]] = set()
    target_rows = sorted(targets)
    index = 0
    for row in target_rows:
        while index < len(rows) and rows[index][0] < row:
            index += 1
        defaults = {**col_styles, **(above if row > last_before else {})}
        if index < len(rows) and rows[index][0] == row:
            number, start, tag_end, end, self_closing = rows[index]
            pieces.append(view[cursor:start])
            span = (number, start, tag_end, end, self_closing)
            pieces.append(_rewrite_row(xml, span, targets[row], defaults, style_for, written))
            cursor = end
        else:
            insert_at = rows[index][1] if index < len(rows) else body_end
            pieces.append(view[cursor:insert_at])
            cursor = insert_at
            pieces.append(_new_row(row, targets[row], defaults, style_for, written))
    pieces.append(view[cursor:body_end])
    pieces.append(b"</sheetData>")
    tail = xml[close:]
    last_after = max([last_before, *(row for row, col in written if row > last_before)])
    pieces[0] = _grown_dimension(xml[: data.start()], written)
    autofilter = None
    if appends and last_after > last_before:
        tail, autofilter = _grown_autofilter(tail, last_before, last_after)
    pieces.append(tail)
    return SheetPatch(tuple(pieces), last_before, last_after, frozenset(written), autofilter)


def _scan_rows(xml: bytes, start: int, end: int) -> list[tuple[int, int, int, int, bool]]:
    """(row number, start, start-tag end, end, self-closing) of every <row>, checked to be in order."""
    rows: list[tuple[int, int, int, int, bool]] = []
    previous = 0
    pos = start
    search = _ROW.search
    while True:
        match = search(xml, pos, end)
        if match is None:
            return rows
        ref = _ATTR_R.search(match.group(1))
        if ref is None:
            raise PatchRefused("a row has no r= attribute (row numbers would be guessed)")
        number = int(ref.group(1)) if ref.group(1).isdigit() else 0
        if not previous < number <= MAX_ROW:
            raise PatchRefused(f"rows are out of order or misnumbered near row {ref.group(1).decode()!r}")
        previous = number
        if match.group(2):
            row_end = match.end()
        else:
            row_end = xml.find(b"</row>", match.end(), end)
            if row_end < 0:
                raise PatchRefused(f"row {number} is not closed")
            row_end += len(b"</row>")
        rows.append((number, match.start(), match.end(), row_end, bool(match.group(2))))
        pos = row_end


def _last_used_row(xml: bytes, rows: list[tuple[int, int, int, int, bool]]) -> int:
    """The last row holding at least one value or formula (styled empty rows do not count)."""
    for number, _start, tag_end, end, self_closing in reversed(rows):
        if not self_closing and any(xml.find(mark, tag_end, end) >= 0 for mark in _VALUE_MARKS):
            return number
    return 0


def _targets(
    edits: Mapping[tuple[int, int], CellValue], appends: Sequence[Sequence[CellValue]], last_before: int
) -> dict[int, dict[int, CellValue]]:
    """Row -> column -> value for every cell the patch writes."""
    targets: dict[int, dict[int, CellValue]] = {}
    for (row, col), value in edits.items():
        cell_ref(row, col)  # validates the address
        if appends and row > last_before:
            raise ValueError(f"edit of row {row} collides with the rows appended after row {last_before}")
        targets.setdefault(row, {})[col] = value
    for offset, values in enumerate(appends, start=1):
        row = last_before + offset
        cells: dict[int, CellValue] = {c: v for c, v in enumerate(values, start=1) if v is not None}
        if cells:
            cell_ref(row, max(cells))
            targets[row] = cells
    return targets


def _refuse_formula_ranges(
    xml: bytes, start: int, end: int, targets: dict[int, dict[int, CellValue]]
) -> None:
    """Refuses when a shared or array formula's range covers a cell the patch writes."""
    if not targets or xml.find(b"<f", start, end) < 0:
        return
    target_rows = sorted(targets)
    for match in _FORMULA_REF.finditer(xml, start, end):
        area = parse_range(match.group(1))
        if area is None:
            raise PatchRefused(f"unreadable formula range {match.group(1).decode(errors='replace')!r}")
        first_row, first_col, last_row, last_col = area
        for row in target_rows[bisect_left(target_rows, first_row) : bisect_right(target_rows, last_row)]:
            for col in targets[row]:
                if first_col <= col <= last_col:
                    ref = cell_ref(row, col).decode()
                    raise PatchRefused(f"a shared or array formula ({match.group(1).decode()}) covers {ref}")


def _row_styles(xml: bytes, rows: list[tuple[int, int, int, int, bool]], number: int) -> dict[int, int]:
    """Column -> style index of the cells in row ``number`` (appended rows look like the row above)."""
    for row, _start, tag_end, end, self_closing in rows:
        if row == number and not self_closing:
            try:
                cells = scan_cells(xml, row, tag_end, end - len(b"</row>"))
            except PatchRefused:  # not addressable: the new rows simply do not inherit its styles
                return {}
            return {
                cell.col: int(s) for cell in cells if (s := tag_attrs(cell.attrs).get(b"s", b"")).isdigit()
            }
    return {}


def _rewrite_row(
    xml: bytes,
    span: tuple[int, int, int, int, bool],
    targets: dict[int, CellValue],
    defaults: dict[int, int],
    style_for: StyleFor,
    written: set[tuple[int, int]],
) -> bytes:
    """One existing <row> with its target cells replaced or inserted in column order."""
    number, start, tag_end, end, self_closing = span
    inner_end = tag_end if self_closing else end - len(b"</row>")
    order = sorted(targets)
    existing, inserts = _locate(xml, number, tag_end, inner_end, order)
    row_attrs = tag_attrs(xml[start + 4 : tag_end - (2 if self_closing else 1)])
    row_style = None
    if row_attrs.get(b"customFormat") in (b"1", b"true") and row_attrs.get(b"s", b"").isdigit():
        row_style = int(row_attrs[b"s"])
    pieces: list[bytes] = []
    cursor = tag_end
    for col in order:
        value = targets[col]
        cell = existing.get(col)
        if cell is not None:
            if xml.find(b"<f", cell.tag_end, cell.end) >= 0:
                raise PatchRefused(f"{cell_ref(number, col).decode()} holds a formula")
            pieces.append(xml[cursor : cell.start])
            pieces.append(cell_xml(number, col, value, cell.attrs, None, style_for))
            cursor = cell.end
        elif value is not None:
            insert_at = max(inserts[col], cursor)
            pieces.append(xml[cursor:insert_at])
            default = row_style if row_style is not None else defaults.get(col)
            pieces.append(cell_xml(number, col, value, None, default, style_for))
            cursor = insert_at
        else:
            continue
        written.add((number, col))
    pieces.append(xml[cursor:inner_end])
    opening = _widened_spans(xml[start:tag_end], [col for col in order if (number, col) in written])
    if self_closing:
        opening = opening[:-2].rstrip() + b">"
    return opening + b"".join(pieces) + b"</row>"


def _locate(
    xml: bytes, number: int, start: int, end: int, cols: list[int]
) -> tuple[dict[int, Cell], dict[int, int]]:
    """The existing target cells of a row, and where each missing one goes to keep column order.

    Fast path: when every cell of the row starts with ``<c r="`` (what Excel, LibreOffice, openpyxl and
    xlsxwriter write), target cells are found by their reference without parsing the rest of the row.
    Anything else goes through the full, checking scan.
    """
    if start == end:
        return {}, dict.fromkeys(cols, end)
    plain = xml.count(b'<c r="', start, end)
    cells_at_all = sum(xml.count(opening, start, end) for opening in (b"<c ", b"<c>", b"<c/>"))
    if plain != cells_at_all or xml.find(b"<extLst", start, end) >= 0:
        cells = scan_cells(xml, number, start, end)
        existing = {cell.col: cell for cell in cells}
        starts = [(cell.col, cell.start) for cell in cells]
    else:
        existing = {}
        suffix = str(number).encode() + b'"'
        for col in cols:
            at = xml.find(b'<c r="' + column_letters(col).encode() + suffix, start, end)
            if at >= 0:
                existing[col] = cell_at(xml, at, end, col)
        if len(existing) == len(cols):
            return existing, {}
        starts = [(column_number(m.group(1)), m.start()) for m in _PLAIN_CELL.finditer(xml, start, end)]
    inserts: dict[int, int] = {}
    position = 0
    for col in cols:
        while position < len(starts) and starts[position][0] < col:
            position += 1
        inserts[col] = starts[position][1] if position < len(starts) else end
    return existing, inserts


def _new_row(
    number: int,
    targets: dict[int, CellValue],
    defaults: dict[int, int],
    style_for: StyleFor,
    written: set[tuple[int, int]],
) -> bytes:
    """A <row> that did not exist, holding the target cells that have a value."""
    cells = []
    for col in sorted(targets):
        value = targets[col]
        if value is not None:
            cells.append(cell_xml(number, col, value, None, defaults.get(col), style_for))
            written.add((number, col))
    if not cells:
        return b""
    return b'<row r="' + str(number).encode() + b'">' + b"".join(cells) + b"</row>"


def _widened_spans(opening: bytes, cols: list[int]) -> bytes:
    """The row's start tag with its optional spans hint widened to the new cells (or dropped)."""
    match = re.search(rb"""\sspans\s*=\s*["']([^"']*)["']""", opening)
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


def _grown_dimension(head: bytes, written: set[tuple[int, int]]) -> bytes:
    """The part before <sheetData> with <dimension> widened to cover every written cell."""
    match = _DIMENSION.search(head)
    if match is None or not written:
        return head
    area = parse_range(match.group(2))
    if area is None:
        return head
    rows = [row for row, _ in written]
    cols = [col for _, col in written]
    grown = (min(area[0], *rows), min(area[1], *cols), max(area[2], *rows), max(area[3], *cols))
    if grown == area:
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
