"""Rewriting a worksheet part: only the targeted ``<c>`` and ``<row>`` elements are rebuilt.

:func:`patch_sheet_xml` reads the UTF-8 sheet XML in chunks of whole rows (:class:`SheetReader`, so the
decompressed part is never held whole) and walks it alongside the targets sorted by row and column; it
splices the new cells (encoded by :mod:`.xlsx_cells`) in column order, creates missing rows, appends rows
(:mod:`.xlsx_append`), and keeps the sheet's dimension, row spans and filter range coherent. Every other
byte of the part is passed on untouched. The new part is handed to ``emit`` in pieces of about a
megabyte as it is made, so neither a rewritten copy of the part nor per-cell objects for the whole sheet
are ever held.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter, lt

from callback_sheets.backends.xlsx_append import (
    appended_extent,
    grown_autofilter,
    last_used_row,
    write_appended_rows,
)
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
    letter_numbers,
    parse_range,
    row_end,
    row_number,
    scan_cells,
    tag_attrs,
)
from callback_sheets.backends.xlsx_read import CellValue
from callback_sheets.backends.xlsx_styles import column_styles, row_styles

MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet\b([^>]*)>")
_SHEET_DATA = re.compile(rb"<sheetData\b[^>]*?(/?)>")
_FORMULA_REF = re.compile(rb"""<f\b[^>]*?\sref\s*=\s*["']([^"']+)["']""")
_DIMENSION = re.compile(rb"""(<dimension\b[^>]*?\sref\s*=\s*["'])([^"']*)(["'])""")
_PLAIN_ROW = re.compile(rb'<row(?: r="([1-9][0-9]{0,6})"(?=[\s/>]))?([^>]*?)(/?)>')
_ROW_NUMBERS = re.compile(rb'<row(?: r="([1-9][0-9]{0,6})"(?=[\s/>]))?')
# A formula, an extension list or a cell whose start tag does not begin with its reference.
_UNUSUAL = re.compile(rb'<(?:f|extLst|c(?! r=")[\s/>])')
_PLAIN_LETTERS = re.compile(rb'<c r="([A-Z]{1,3})[0-9]')
_SPANS = re.compile(rb"""\sspans\s*=\s*["']([^"']*)["']""")
_ROW_ENDS = (b" ", b"\t", b"\n", b"\r", b">", b"/")
_FLUSH_ROWS = 512
_ROW_OF = itemgetter(0)
_COL_OF = itemgetter(1)

Emit = Callable[[bytes], None]
"""Receives the new part, piece by piece, in order."""
Row = tuple[int, int, int, int, bool]
"""A <row>: (number, start, start-tag end, end, self-closing), offsets into the XML."""
LastRow = tuple[int, bytes, int]
"""The last row holding a value: its number, its XML, the length of its start tag."""
Located = tuple[int, CellValue, int, int, bytes | None]
"""A target cell in a row: (column, value, start, end, old start tag's attributes or None if new)."""


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


Source = Callable[[], Iterator[bytes]]
"""Opens the worksheet part afresh and yields its decompressed bytes in pieces."""


class SheetReader:
    """One pass over a worksheet part: the head up to ``<sheetData>``, then the rows in chunks that
    each end with a row's end (so no element is cut), then the tail after ``</sheetData>``."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        buffer = b""
        match = None
        for piece in pieces:
            buffer += piece
            if (match := _SHEET_DATA.search(buffer)) is not None:
                break
        check_sheet_root(buffer if match is None else buffer[: match.end()])
        if match is None:
            raise PatchRefused("the worksheet has no <sheetData>")
        self.head = buffer[: match.start()]
        self.opening = match.group(0)
        self.empty = bool(match.group(1))  # <sheetData/>
        self._rest = buffer[match.end() :]
        self.tail = b""

    def chunks(self) -> Iterator[bytes]:
        """The inside of <sheetData>, in chunks ending on a row's end; :attr:`tail` is set at the end."""
        buffer, self._rest = self._rest, b""
        if self.empty:
            self.tail = buffer + b"".join(self._pieces)
            return
        while True:
            cut = buffer.rfind(b"</row>")  # rows end before </sheetData>: only what follows is searched
            close = buffer.find(b"</sheetData>", max(cut, 0))
            if close >= 0:
                yield buffer[:close]
                self.tail = buffer[close + len(b"</sheetData>") :] + b"".join(self._pieces)
                return
            if cut >= 0:
                cut += len(b"</row>")
                yield buffer[:cut]
                buffer = buffer[cut:]
            piece = next(self._pieces, None)
            if piece is None:
                raise PatchRefused("the worksheet's <sheetData> is not closed")
            buffer += piece


def patch_sheet_xml(
    source: Source,
    edits: Mapping[tuple[int, int], CellValue],
    appends: Sequence[Sequence[CellValue]],
    style_for: StyleFor,
    emit: Emit,
) -> SheetPatch:
    """Applies ``edits`` and ``appends`` to one worksheet part; everything else stays byte-identical.

    The part is read from ``source`` in chunks (twice when rows are appended or a cleared cell lies
    outside the sheet's dimension: a first pass finds what the start of the new part depends on).
    Raises :class:`PatchRefused` or ``ValueError`` possibly after some pieces were emitted: the caller
    must hold the output until this returns.
    """
    reader = SheetReader(source())
    head = reader.head
    last = _survey(source, [])[0] if appends else None
    last_before = last[0] if last else 0
    keys = _sorted_edits(edits, bool(appends), last_before)
    col_styles = column_styles(head)
    below = col_styles
    if last is not None:
        below = {**col_styles, **row_styles(last[1], (last[0], 0, last[2], len(last[1]), False))}
    extent = _merge(_value_extent(keys, edits), appended_extent(appends, last_before))
    dimension = _DIMENSION.search(head)
    area = parse_range(dimension.group(2)) if dimension else None
    if area is not None:  # a cleared cell is written (keeping its style) only if it was there
        outside = [k for k in keys if edits[k] is None and not (_inside(extent, k) or _inside(area, k))]
        if outside:
            extent = _union(extent, _survey(source, outside)[1])
    writer = CellWriter(style_for)
    editor = RowEditor(writer)
    out = _Buffer(emit)
    out.add(_grown_dimension(head, extent))
    out.add(reader.opening[:-2].rstrip() + b">" if reader.empty else reader.opening)
    rows = _RowCursor(reader.chunks(), editor, out.add, keys, appends, last_before)
    last_after = last_before
    for number, cells in _edit_groups(keys, edits):
        if _write_row(rows, editor, number, cells, col_styles, out.add) and number > last_after:
            last_after = number
        out.flush_if_full()
    index = 0  # appended rows meeting an existing (empty, styled) row or placed before one
    while index < len(appends) and rows.seek(number := last_before + index + 1) is not None:
        cells = [(col, value) for col, value in enumerate(appends[index], start=1) if value is not None]
        if cells:
            cell_ref(number, cells[-1][0])  # validates the address
            if _write_row(rows, editor, number, cells, below, out.add):
                last_after = number
        out.flush_if_full()
        index += 1
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


def _survey(source: Source, wanted: list[tuple[int, int]]) -> tuple[LastRow | None, list[tuple[int, int]]]:
    """A first pass over the part: its last row holding a value (number, the row's XML, length of its
    start tag), and which of the ``wanted`` cells exist."""
    by_row: dict[int, list[int]] = {}
    for row, col in wanted:
        by_row.setdefault(row, []).append(col)
    last = None
    found: list[tuple[int, int]] = []
    for chunk in SheetReader(source()).chunks():
        used = last_used_row(chunk, 0, len(chunk))
        if used is not None:
            last = (used[0], chunk[used[1] : used[3]], used[2] - used[1])
        if by_row:
            found += _existing_cells(chunk, by_row)
    return last, found


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
    """(row, [(column, value), ...] in column order) for every edited row, in row order."""
    rows = list(map(_ROW_OF, keys))
    cols = list(map(_COL_OF, keys))
    values = list(map(edits.__getitem__, keys))
    start, count = 0, len(keys)
    while start < count:
        row = rows[start]
        end = bisect_right(rows, row, start)
        yield row, list(zip(cols[start:end], values[start:end], strict=True))
        start = end


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


class _RowCursor:
    """The existing rows, a chunk at a time, each chunk checked when it is loaded: finds a row by
    number and passes on the XML before it."""

    def __init__(
        self,
        chunks: Iterator[bytes],
        editor: RowEditor,
        add: Emit,
        keys: list[tuple[int, int]],
        appends: Sequence[Sequence[CellValue]],
        last_before: int,
    ) -> None:
        self._chunks = chunks
        self._editor = editor
        self._add = add
        self._checked = (keys, appends, last_before)
        self._chunk = b""
        self._numbers: list[int] = []
        self._scanned: list[Row] | None = None
        self._index = 0
        self._previous = 0
        self._done = False
        self.cursor = 0  # what comes before it in the current chunk is passed on

    def seek(self, number: int) -> Row | None:
        """Passes on the XML before the row numbered ``number``, or before the first row after it, and
        returns that row; None once every row comes before it (all passed on)."""
        while not self._done:
            numbers = self._numbers
            index = self._index = bisect_left(numbers, number, self._index)
            if index < len(numbers):
                chunk, cursor = self._chunk, self.cursor
                if self._scanned is not None:
                    row = self._scanned[index]
                else:
                    row = _plain_row(chunk, numbers[index], cursor)
                self._add(chunk[cursor : row[1]])
                self.cursor = row[1]
                return row
            self._next_chunk()
        return None

    def finish(self) -> None:
        """Passes on the rest of the rows."""
        while not self._done:
            self._next_chunk()

    def _next_chunk(self) -> None:
        chunk, cursor = self._chunk, self.cursor
        self._add(chunk[cursor:] if cursor else chunk)
        found = next(self._chunks, None)
        self.cursor = self._index = 0
        if found is None:
            self._chunk, self._numbers, self._scanned, self._done = b"", [], None, True
            return
        chunk = self._chunk = found
        if chunk.find(b"xmlns") >= 0:
            raise PatchRefused("the worksheet redeclares namespaces inside <sheetData>")
        plain = _UNUSUAL.search(chunk) is None  # one pass for the common case: nothing below to check
        if not plain:
            _refuse_formula_ranges(chunk, *self._checked)
        self._numbers, self._scanned = _chunk_rows(chunk, self._previous)
        self._previous = self._numbers[-1] if self._numbers else self._previous
        self._editor.start_chunk(chunk, plain)


def _chunk_rows(chunk: bytes, previous: int) -> tuple[list[int], list[Row] | None]:
    """The row numbers of a chunk, checked to be in order after ``previous``; the rows themselves too
    when they are not all plain ``<row r="N"`` tags (those are found by number when needed)."""
    found = _ROW_NUMBERS.findall(chunk)  # every <row..., with an empty number unless it is plain
    if b"" not in found:
        numbers = list(map(int, found))
        if not numbers or (
            previous < numbers[0] and numbers[-1] <= MAX_ROW and all(map(lt, numbers, numbers[1:]))
        ):
            return numbers, None
    rows = list(scan_rows(chunk, 0, len(chunk), previous))
    return [row[0] for row in rows], rows


def _plain_row(chunk: bytes, number: int, cursor: int) -> Row:
    """The plain row numbered ``number``, at or after ``cursor``."""
    start = chunk.find(b'<row r="%d"' % number, cursor)
    tag_end = chunk.find(b">", start) + 1
    if chunk[tag_end - 2] == 0x2F:  # "/>"
        return number, start, tag_end, tag_end, True
    return number, start, tag_end, row_end(chunk, tag_end, len(chunk), number), False


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


def _refuse_formula_ranges(
    xml: bytes,
    keys: list[tuple[int, int]],
    appends: Sequence[Sequence[CellValue]],
    last_before: int,
) -> None:
    """Refuses when a shared or array formula's range covers a cell the patch writes."""
    if not (keys or appends) or xml.find(b"<f") < 0:
        return
    for match in _FORMULA_REF.finditer(xml):
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


def scan_rows(xml: bytes, start: int, end: int, previous: int = 0) -> Iterator[Row]:
    """Every <row> between ``start`` and ``end``, checked to be numbered and in order (after
    ``previous``)."""
    pos = start
    search = _PLAIN_ROW.search
    while True:
        match = search(xml, pos, end)
        if match is None:
            return
        if match.group(1) is None and not xml.startswith(_ROW_ENDS, match.start() + 4):
            pos = match.start() + 4  # some other element, such as <rowBreaks>
            continue
        number = int(match.group(1)) if match.group(1) else row_number(match.group(2))
        if not previous < number <= MAX_ROW:
            raise PatchRefused(f"rows are out of order or misnumbered near row {number}")
        previous = number
        closed = bool(match.group(3))
        end_at = match.end() if closed else row_end(xml, match.end(), end, number)
        yield number, match.start(), match.end(), end_at, closed
        pos = end_at


class RowEditor:
    """Rewrites the target cells of existing rows and makes new rows, through one :class:`CellWriter`."""

    def __init__(self, writer: CellWriter) -> None:
        self.writer = writer
        self.xml = b""
        self._plain = self._extensions = False
        self.skipped: list[tuple[int, int]] = []  # cleared targets that did not exist

    def start_chunk(self, xml: bytes, plain: bool) -> None:
        """The XML the next rows are in; ``plain``: it holds no formula, no extension list, and every
        cell starts with ``<c r="``."""
        self.xml = xml
        self._plain = plain
        self._extensions = not plain and xml.find(b"<extLst") >= 0

    def rewrite(
        self, row: Row, cells: list[tuple[int, CellValue]], defaults: dict[int, int], add: Emit
    ) -> bool:
        """Emits the row with its target cells replaced or inserted in column order; True if any was."""
        xml = self.xml
        number, start, tag_end, end, self_closing = row
        inner_end = tag_end if self_closing else end - len(b"</row>")
        suffix = b'%d"' % number
        located = self._locate(number, suffix, tag_end, inner_end, cells)
        opening = xml[start:tag_end]
        row_style = None
        if b"customFormat" in opening:
            attrs = tag_attrs(opening[4 : -2 if self_closing else -1])
            if attrs.get(b"customFormat") in (b"1", b"true") and attrs.get(b"s", b"").isdigit():
                row_style = int(attrs[b"s"])
        writer = self.writer
        tails, new = writer.tails, writer.new
        pieces = [opening]
        cursor = tag_end
        written: list[int] = []
        for col, value, at, stop, old in located:
            if old is not None:
                if not self._plain and xml.find(b"<f", at + 2, stop) >= 0:
                    raise PatchRefused(f"{cell_ref(number, col).decode()} holds a formula")
                pieces.append(xml[cursor:at])
                attrs_out = writer.old_attrs(value, old, (number, col))
                if value is not None or attrs_out:
                    tail = tails.get(value) or writer.tail(value)
                    pieces += (cell_head(col), suffix, attrs_out, tail)
                cursor = stop
            elif value is not None:
                if at > cursor:
                    pieces.append(xml[cursor:at])
                    cursor = at
                default = row_style if row_style is not None else defaults.get(col)
                fresh = new.get((type(value), default))
                if fresh is None:
                    fresh = writer.new_attrs(value, default)
                pieces += (cell_head(col), suffix, fresh, tails.get(value) or writer.tail(value))
            else:
                self.skipped.append((number, col))
                continue
            written.append(col)
        pieces.append(xml[cursor:inner_end])
        if written and b"spans" in opening:
            pieces[0] = opening = _widened_spans(opening, written)
        if self_closing:
            pieces[0] = opening[:-2].rstrip() + b">"
        pieces.append(b"</row>")
        add(b"".join(pieces))
        return bool(written)

    def _locate(
        self, number: int, suffix: bytes, start: int, end: int, cells: list[tuple[int, CellValue]]
    ) -> list[Located]:
        """Where each target cell of a row is, or (for a missing one) goes to keep column order.

        Fast path: when every cell of the row starts with ``<c r="`` (what Excel, LibreOffice, openpyxl
        and xlsxwriter write), target cells are found by their reference, and the place of a missing
        one before the first cell, after the last, or by the references of the row's cells, without
        parsing the rest of the row. Anything else goes through the full, checking scan.
        """
        xml = self.xml
        if start == end:
            return [(col, value, end, end, None) for col, value in cells]
        if self._plain or (
            not (self._extensions and xml.find(b"<extLst", start, end) >= 0) and _plain_cells(xml, start, end)
        ):
            located: list[Located] = []
            missing = False
            find = xml.find
            for col, value in cells:
                at = find(cell_head(col) + suffix, start, end)
                if at < 0:
                    located.append((col, value, -1, -1, None))
                    missing = True
                    continue
                close = find(b">", at, end)
                if close < 0:
                    raise PatchRefused("a cell's start tag is not closed")
                if xml[close - 1] == 0x2F:  # "/>"
                    located.append((col, value, at, close + 1, xml[at + 2 : close - 1]))
                    continue
                stop = find(b"</c>", close, end)
                if stop < 0:
                    raise PatchRefused("a cell is not closed")
                located.append((col, value, at, stop + len(b"</c>"), xml[at + 2 : close]))
            if not missing or self._place_missing(located, suffix, start, end):
                return located
        found = scan_cells(xml, number, start, end)
        by_col = {cell.col: cell for cell in found}
        starts = [cell.start for cell in found] + [end]
        cols = [cell.col for cell in found]
        result: list[Located] = []
        for col, value in cells:
            cell = by_col.get(col)
            if cell is not None:
                result.append((col, value, cell.start, cell.end, cell.attrs))
            else:
                at = starts[bisect_left(cols, col)]
                result.append((col, value, at, at, None))
        return result

    def _place_missing(self, located: list[Located], suffix: bytes, start: int, end: int) -> bool:
        """Sets where each missing cell of a plain row goes; False when the row's cells are not in
        column order (then the checking scan decides). A cell before the row's first cell or after its
        last goes there, which keeps an ordered row ordered, without reading the other references."""
        xml = self.xml
        numbers = letter_numbers()
        first = _PLAIN_LETTERS.match(xml, start)
        low = numbers[first.group(1)] if first else 0
        last_at = xml.rfind(b'<c r="', start, end)
        last = _PLAIN_LETTERS.match(xml, last_at) if last_at >= 0 else None
        high = numbers[last.group(1)] if last else 0 if last_at < 0 else MAX_COL + 1
        cols: list[int] | None = None
        letters: list[bytes] = []
        for index, (col, value, at, _stop, old) in enumerate(located):
            if at >= 0:
                continue
            if col < low:
                at = start
            elif col > high:
                at = end
            else:
                if cols is None:
                    letters = _PLAIN_LETTERS.findall(xml, start, end)
                    cols = list(map(numbers.__getitem__, letters))
                    if cols != sorted(set(cols)):
                        return False
                after = bisect_right(cols, col)
                at = end if after == len(cols) else xml.find(b'<c r="' + letters[after] + suffix, start, end)
                if at < 0:
                    return False
            located[index] = (col, value, at, at, old)
        return True

    def new_row(
        self, number: int, cells: list[tuple[int, CellValue]], defaults: dict[int, int], add: Emit
    ) -> bool:
        """Emits a <row> that did not exist, holding the target cells that have a value."""
        suffix = b'%d"' % number
        writer = self.writer
        pieces: list[bytes] = []
        for col, value in cells:
            if value is None:
                self.skipped.append((number, col))
            else:
                pieces += (
                    cell_head(col),
                    suffix,
                    writer.new_attrs(value, defaults.get(col)),
                    writer.tail(value),
                )
        if pieces:
            add(b'<row r="' + suffix + b">" + b"".join(pieces) + b"</row>")
        return bool(pieces)


def _plain_cells(xml: bytes, start: int, end: int) -> bool:
    """True when every cell between ``start`` and ``end`` starts with ``<c r="``."""
    plain = xml.count(b'<c r="', start, end)
    if xml.count(b"<c", start, end) == plain:
        return True
    return plain == sum(xml.count(opening, start, end) for opening in (b"<c ", b"<c>", b"<c/>"))


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


__all__ = [
    "MAIN_NS",
    "MAX_COL",
    "MAX_ROW",
    "SheetPatch",
    "SheetReader",
    "check_sheet_root",
    "patch_sheet_xml",
]
