"""The rows of a worksheet part: finding them chunk by chunk and rewriting their target cells.

:class:`_RowCursor` walks the ``<sheetData>`` chunks a :class:`.sheet_reader.SheetReader` yields, checks each
chunk once as it is loaded (row order, namespace redeclarations, shared or array formula ranges over a
written cell), finds rows by number (:func:`scan_rows` when the row tags are not all plain) and passes on
the XML before them untouched. :class:`RowEditor` rewrites the target cells of an existing row in column
order, or makes a new row, through one :class:`.cells.CellWriter`. Driving them over a whole part is
:func:`.sheet.patch_sheet_xml`.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from operator import lt

from callback_sheets.backends.excel.xlsx.cells import (
    MAX_COL,
    MAX_ROW,
    CellWriter,
    PatchRefused,
    cell_head,
    cell_ref,
    letter_numbers,
    row_end,
    row_number,
    scan_cells,
    tag_attrs,
)
from callback_sheets.backends.excel.xlsx.formulas import first_formula, refuse_formula_ranges
from callback_sheets.backends.excel.xlsx.read import CellValue

_PLAIN_ROW = re.compile(rb'<row(?: r="([1-9][0-9]{0,6})"(?=[\s/>]))?([^>]*?)(/?)>')
_ROW_NUMBERS = re.compile(rb'<row(?: r="([1-9][0-9]{0,6})"(?=[\s/>]))?')
# A formula, an extension list or a cell whose start tag does not begin with its reference.
_UNUSUAL = re.compile(rb'<(?:f|extLst|c(?! r=")[\s/>])')
_PLAIN_LETTERS = re.compile(rb'<c r="([A-Z]{1,3})[0-9]')
_SPANS = re.compile(rb"""\sspans\s*=\s*["']([^"']*)["']""")
_ROW_ENDS = (b" ", b"\t", b"\n", b"\r", b">", b"/")

Emit = Callable[[bytes], None]
"""Receives the new part, piece by piece, in order."""
OWN_LINK = b"<f>HYPERLINK(\"#'"  # the tool's own Script links, which a refresh may rewrite
Row = tuple[int, int, int, int, bool]
"""A <row>: (number, start, start-tag end, end, self-closing), offsets into the XML."""
Located = tuple[int, CellValue, int, int, bytes | None]
"""A target cell in a row: (column, value, start, end, old start tag's attributes or None if new)."""


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
        flush: Callable[[], None] = lambda: None,
    ) -> None:
        self._chunks = chunks
        self._editor = editor
        self._add = add
        self._flush = flush  # hands on what was passed: sparse edits must not pile up unchanged chunks
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
                    guess = len(chunk) * index // len(numbers)  # about where the row is
                    row = _plain_row(chunk, numbers[index], cursor, guess - cursor > len(chunk) - guess)
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
        self._flush()
        found = next(self._chunks, None)
        self.cursor = self._index = 0
        if found is None:
            self._chunk, self._numbers, self._scanned, self._done = b"", [], None, True
            return
        chunk = self._chunk = found
        if chunk.find(b"xmlns") >= 0:
            raise PatchRefused("the worksheet redeclares namespaces inside <sheetData>")
        formula = first_formula(chunk)
        if formula >= 0:
            refuse_formula_ranges(chunk, *self._checked, start=formula)
        self._numbers, self._scanned = _chunk_rows(chunk, self._previous)
        self._previous = self._numbers[-1] if self._numbers else self._previous
        self._editor.start_chunk(chunk)


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


def _plain_row(chunk: bytes, number: int, cursor: int, late: bool = False) -> Row:
    """The plain row numbered ``number``, at or after ``cursor``; ``late``: looked for from the end, as
    it is nearer (the chunk's row numbers were checked to rise, so its tag occurs once)."""
    needle = b'<row r="%d"' % number
    start = chunk.rfind(needle, cursor) if late else chunk.find(needle, cursor)
    tag_end = chunk.find(b">", start) + 1
    if chunk[tag_end - 2] == 0x2F:  # "/>"
        return number, start, tag_end, tag_end, True
    return number, start, tag_end, row_end(chunk, tag_end, len(chunk), number), False


class RowEditor:
    """Rewrites the target cells of existing rows and makes new rows, through one :class:`CellWriter`."""

    def __init__(self, writer: CellWriter) -> None:
        self.writer = writer
        self.xml = b""
        self._plain: bool | None = None  # worked out when a row of the chunk is first rewritten
        self._extensions = False
        self.skipped: list[tuple[int, int]] = []  # cleared targets that did not exist

    def start_chunk(self, xml: bytes) -> None:
        """The XML the next rows are in."""
        self.xml = xml
        self._plain = None

    def _is_plain(self) -> bool:
        """True when the chunk holds no formula, no extension list, and every cell starts with
        ``<c r="`` (one search, made only for a chunk where a row is rewritten)."""
        if self._plain is None:
            unusual = _UNUSUAL.search(self.xml)
            self._plain = unusual is None
            self._extensions = unusual is not None and self.xml.find(b"<extLst", unusual.start()) >= 0
        return self._plain

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
                formula = -1 if self._is_plain() else xml.find(b"<f", at + 2, stop)
                if formula >= 0 and not xml.startswith(OWN_LINK, formula):
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
        if self._is_plain() or (
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


__all__ = ["Emit", "Located", "Row", "RowEditor", "scan_rows"]
