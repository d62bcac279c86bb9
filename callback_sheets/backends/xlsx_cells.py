"""Cell-level SpreadsheetML: references, values encoded as ``<c>`` elements, and Excel serial dates.

Everything here works on bytes of UTF-8 XML and knows nothing about zip packages or styles. Strings are
always written as inline strings (``t="inlineStr"``), so sharedStrings.xml is never touched and no text
can ever become a formula: ``=HYPERLINK(...)`` is stored as the literal text it is.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape

from callback_sheets.backends.xlsx_read import CellValue


class PatchRefused(Exception):
    """The patcher cannot edit this workbook safely; the message says why. Fall back to openpyxl."""


MAX_ROW = 1_048_576
MAX_COL = 16_384
_DAY_ZERO = dt.datetime(1899, 12, 30)  # serial 0 in the 1900 date system, valid from 1900-03-01 on
_FIRST_DAY = dt.datetime(1900, 1, 1)  # serial 1
_LEAP_BUG_END = dt.datetime(1900, 3, 1)  # Excel counts a 1900-02-29 that never was (serial 60)

_REF = re.compile(rb"([A-Z]{1,3})([1-9][0-9]{0,6})")
_RANGE = re.compile(rb"\$?([A-Z]{1,3})\$?([1-9][0-9]{0,6})(?::\$?([A-Z]{1,3})\$?([1-9][0-9]{0,6}))?")
# Characters XML 1.0 forbids (C0 controls other than tab/newline/return, lone surrogates, U+FFFE/U+FFFF).
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Excel reads _xHHHH_ in text as an escaped character; a literal one is written with its "_" escaped.
_EXCEL_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")

Range = tuple[int, int, int, int]
"""(first row, first column, last row, last column), 1-based, inclusive."""
Growth = tuple[Range, Range] | None
"""A range before and after it was extended over appended rows, or None."""


@lru_cache(maxsize=MAX_COL)
def column_letters(col: int) -> str:
    """1 -> "A", 27 -> "AA"."""
    if not 1 <= col <= MAX_COL:
        raise ValueError(f"column {col} is outside the sheet")
    letters = ""
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: bytes) -> int:
    """b"A" -> 1, b"AA" -> 27."""
    number = 0
    for char in letters:
        number = number * 26 + char - 64
    return number


def cell_ref(row: int, col: int) -> bytes:
    """(5, 2) -> b"B5"."""
    if not 1 <= row <= MAX_ROW:
        raise ValueError(f"row {row} is outside the sheet")
    return f"{column_letters(col)}{row}".encode()


def parse_ref(ref: bytes) -> tuple[int, int]:
    """b"B5" -> (5, 2); refuses anything that is not a plain A1 reference."""
    match = _REF.fullmatch(ref)
    if match is None:
        raise PatchRefused(f"unexpected cell reference {ref.decode(errors='replace')!r}")
    return int(match.group(2)), column_number(match.group(1))


def parse_range(text: bytes) -> Range | None:
    """b"A1:W100" (or b"$A$1:$W$100", or b"B2") -> (1, 1, 100, 23); None if it is anything else."""
    match = _RANGE.fullmatch(text)
    if match is None:
        return None
    first_col, first_row = column_number(match.group(1)), int(match.group(2))
    if match.group(3) is None:
        return first_row, first_col, first_row, first_col
    return first_row, first_col, int(match.group(4)), column_number(match.group(3))


def format_range(area: Range) -> bytes:
    """(1, 1, 100, 23) -> b"A1:W100"; a single cell is written as one reference."""
    first = cell_ref(area[0], area[1])
    last = cell_ref(area[2], area[3])
    return first if first == last else first + b":" + last


def excel_serial(value: dt.datetime | dt.date) -> float | int:
    """The 1900-system serial number of a naive date or datetime (wall-clock value)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise ValueError(f"{value.isoformat()} has a time zone: pass the naive wall-clock time")
        moment = value
    else:
        moment = dt.datetime(value.year, value.month, value.day)
    if moment < _FIRST_DAY:
        raise PatchRefused(f"{value.isoformat()} is before 1900-01-01, which Excel cannot store as a date")
    delta = moment - (_DAY_ZERO if moment >= _LEAP_BUG_END else _DAY_ZERO + dt.timedelta(days=1))
    if not (delta.seconds or delta.microseconds):
        return delta.days
    return delta.days + (delta.seconds + delta.microseconds / 1_000_000) / 86_400


def clean_text(text: str) -> str:
    """Text as Excel will read it back: illegal XML characters dropped, literal ``_xHHHH_`` protected."""
    return _EXCEL_ESCAPE.sub(r"_x005F_\1", _ILLEGAL_XML.sub("", text))


def inline_string(text: str) -> bytes:
    """The ``<is>`` body of an inline string, spaces kept and carriage returns protected."""
    body = escape(clean_text(text)).replace("\r", "&#13;")
    return f'<is><t xml:space="preserve">{body}</t></is>'.encode()


def render_cell(ref: bytes, attrs: bytes, value: CellValue) -> bytes:
    """A complete ``<c>`` element for ``value``; ``attrs`` (e.g. b' s="3"') are kept as they are.

    Dates and datetimes are written as serial numbers: the caller must put a date style in ``attrs``.
    ``None`` gives an empty cell that only keeps its attributes (its style).
    """
    head = b'<c r="' + ref + b'"' + attrs
    if value is None:
        return head + b"/>"
    if isinstance(value, bool):
        return head + b' t="b"><v>' + (b"1" if value else b"0") + b"</v></c>"
    if isinstance(value, int):
        return head + b"><v>" + str(value).encode() + b"</v></c>"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PatchRefused(f"{value!r} cannot be stored in a cell")
        return head + b"><v>" + repr(value).encode() + b"</v></c>"
    if isinstance(value, dt.date):
        return head + b"><v>" + repr(excel_serial(value)).encode() + b"</v></c>"
    if isinstance(value, str):
        return head + b' t="inlineStr">' + inline_string(value) + b"</c>"
    raise TypeError(f"cannot write a {type(value).__name__} to a cell")


def is_date_value(value: CellValue) -> bool:
    """True for the values written as serial numbers that need a date style."""
    return isinstance(value, dt.date)


# ---------------------------------------------------------------------------------------------------
# Splicing a worksheet part: only the targeted <c> and <row> elements are rebuilt.
# ---------------------------------------------------------------------------------------------------

StyleFor = Callable[[CellValue, "int | None"], "int | None"]
"""Given a value and the style index the cell has (None: no ``s``), the style index to write."""

MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet\b([^>]*)>")
_SHEET_DATA = re.compile(rb"<sheetData\b[^>]*?(/?)>")
_ROW = re.compile(rb"<row\b([^>]*?)(/?)>")
_CELL = re.compile(rb"<c(?=[\s/>])([^>]*?)(/?)>")
_ATTR = re.compile(rb"""\s([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')""")
_ATTR_R = re.compile(rb"""\sr\s*=\s*["']([^"']*)["']""")
_FORMULA_REF = re.compile(rb"""<f\b[^>]*?\sref\s*=\s*["']([^"']+)["']""")
_DIMENSION = re.compile(rb"""(<dimension\b[^>]*?\sref\s*=\s*["'])([^"']*)(["'])""")
_AUTOFILTER = re.compile(rb"""(<autoFilter\b[^>]*?\sref\s*=\s*["'])([^"']*)(["'])""")
_COL = re.compile(rb"<col\b([^>]*?)/?>")
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


@dataclass(frozen=True, slots=True)
class _Cell:
    col: int
    start: int
    tag_end: int
    end: int
    attrs: bytes


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
    col_styles = _column_styles(xml[: data.start()])
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


def _column_styles(head: bytes) -> dict[int, int]:
    """Column -> style index from <cols>, the style Excel gives a new cell typed in that column."""
    styles: dict[int, int] = {}
    cols_start = head.find(b"<cols")
    if cols_start < 0:
        return styles
    for match in _COL.finditer(head, cols_start, head.find(b"</cols>", cols_start)):
        attrs = _attrs(match.group(1))
        if b"style" in attrs and attrs.get(b"min", b"").isdigit() and attrs.get(b"max", b"").isdigit():
            first, last = int(attrs[b"min"]), min(int(attrs[b"max"]), MAX_COL)
            if last - first < 1024:  # whole-sheet ranges are common; new cells beyond them need nothing
                styles.update(dict.fromkeys(range(first, last + 1), int(attrs[b"style"])))
    return styles


def _row_styles(xml: bytes, rows: list[tuple[int, int, int, int, bool]], number: int) -> dict[int, int]:
    """Column -> style index of the cells in row ``number`` (appended rows look like the row above)."""
    for row, _start, tag_end, end, self_closing in rows:
        if row == number and not self_closing:
            try:
                cells = _scan_cells(xml, row, tag_end, end - len(b"</row>"))
            except PatchRefused:  # not addressable: the new rows simply do not inherit its styles
                return {}
            return {cell.col: int(s) for cell in cells if (s := _attrs(cell.attrs).get(b"s", b"")).isdigit()}
    return {}


def _attrs(raw: bytes) -> dict[bytes, bytes]:
    """The attributes of a start tag, values without their quotes (not unescaped)."""
    return {match.group(1): match.group(2)[1:-1] for match in _ATTR.finditer(raw)}


def _scan_cells(xml: bytes, row: int, start: int, end: int) -> list[_Cell]:
    """The <c> elements of one row, checked to carry references, in column order."""
    cells: list[_Cell] = []
    pos = start
    while True:
        match = _CELL.search(xml, pos, end)
        if match is None:
            break
        ref = _ATTR_R.search(match.group(1))
        if ref is None:
            raise PatchRefused(f"a cell in row {row} has no r= reference (its column would be guessed)")
        cell_row, col = parse_ref(ref.group(1))
        if cell_row != row or (cells and col <= cells[-1].col):
            raise PatchRefused(f"cell {ref.group(1).decode()} is out of place in row {row}")
        if match.group(2):
            cell_end = match.end()
        else:
            cell_end = xml.find(b"</c>", match.end(), end)
            if cell_end < 0:
                raise PatchRefused(f"cell {ref.group(1).decode()} is not closed")
            cell_end += len(b"</c>")
        cells.append(_Cell(col, match.start(), match.end(), cell_end, match.group(1)))
        pos = cell_end
    if xml.find(b"<extLst", pos, end) >= 0:
        raise PatchRefused(f"row {row} carries an extension list")
    return cells


def _cell_xml(
    row: int, col: int, value: CellValue, existing: bytes | None, default: int | None, style_for: StyleFor
) -> bytes:
    """The new <c> for a target cell; ``existing`` is the old start tag's attributes, if there was one."""
    kept = b""
    style = default
    if existing is not None:
        attrs = _attrs(existing)
        if b"vm" in attrs:
            raise PatchRefused(f"{cell_ref(row, col).decode()} holds a rich value (picture or data type)")
        style = int(attrs[b"s"]) if attrs.get(b"s", b"").isdigit() else None
        kept = b"".join(
            b" " + name + b'="' + raw + b'"'
            for name, raw in attrs.items()
            if name not in (b"r", b"s", b"t", b"cm", b"vm") and b'"' not in raw
        )
    style = style_for(value, style)
    attrs_out = (b' s="' + str(style).encode() + b'"' if style else b"") + kept
    if value is None and not attrs_out:
        return b""
    return render_cell(cell_ref(row, col), attrs_out, value)


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
    row_attrs = _attrs(xml[start + 4 : tag_end - (2 if self_closing else 1)])
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
            pieces.append(_cell_xml(number, col, value, cell.attrs, None, style_for))
            cursor = cell.end
        elif value is not None:
            insert_at = max(inserts[col], cursor)
            pieces.append(xml[cursor:insert_at])
            default = row_style if row_style is not None else defaults.get(col)
            pieces.append(_cell_xml(number, col, value, None, default, style_for))
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
) -> tuple[dict[int, _Cell], dict[int, int]]:
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
        cells = _scan_cells(xml, number, start, end)
        existing = {cell.col: cell for cell in cells}
        starts = [(cell.col, cell.start) for cell in cells]
    else:
        existing = {}
        suffix = str(number).encode() + b'"'
        for col in cols:
            at = xml.find(b'<c r="' + column_letters(col).encode() + suffix, start, end)
            if at >= 0:
                existing[col] = _cell_at(xml, at, end, col)
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


def _cell_at(xml: bytes, at: int, end: int, col: int) -> _Cell:
    """The <c> element starting at ``at``."""
    close = xml.find(b">", at, end)
    if close < 0:
        raise PatchRefused("a cell's start tag is not closed")
    if xml[close - 1] == 0x2F:  # "/>"
        return _Cell(col, at, close + 1, close + 1, xml[at + 2 : close - 1])
    cell_end = xml.find(b"</c>", close, end)
    if cell_end < 0:
        raise PatchRefused("a cell is not closed")
    return _Cell(col, at, close + 1, cell_end + len(b"</c>"), xml[at + 2 : close])


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
            cells.append(_cell_xml(number, col, value, None, defaults.get(col), style_for))
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
