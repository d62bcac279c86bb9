"""Appending rows to a worksheet, and what follows the rows it adds.

Appended rows go after the sheet's last row holding a value (:func:`last_used_row`), look like that row
(its cells' styles, else the columns' styles) and are encoded in one tight loop
(:func:`write_appended_rows`): one join per row, the style attributes and repeated values worked out
once. A sheet filter, a table or the workbook's hidden ``_FilterDatabase`` name that ended at the old
last row grows over the new rows (:func:`grown_autofilter`, :func:`grown_table_xml`,
:func:`grown_filter_name`); a table with a totals row refuses appends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from callback_sheets.backends.excel.xlsx.cells import (
    MAX_COL,
    MAX_ROW,
    CellWriter,
    Growth,
    PatchRefused,
    Range,
    cell_head,
    cell_ref,
    format_range,
    parse_range,
    row_end,
    row_number,
)
from callback_sheets.backends.excel.xlsx.read import CellValue

_ROW = re.compile(rb"<row\b([^>]*?)(/?)>")
_VALUE_MARKS = (b"<v", b"<is", b"<f")
_AUTOFILTER = re.compile(rb"""(<autoFilter\b[^>]*?\sref\s*=\s*["'])([^"']*)(["'])""")
_TABLE_REF = re.compile(rb"""(<table\b[^>]*?\sref\s*=\s*["'])([^"']*)(["'])""")
_TABLE_FILTER = re.compile(rb"""(<autoFilter\b[^>]*?\sref\s*=\s*["'])([^"']*)(["'])""")
_TOTALS = re.compile(rb"""\stotalsRowCount\s*=\s*["']([1-9]\d*)["']""")
_DEFINED_NAME = re.compile(rb"(<definedName\b([^>]*)>)([^<]*)(</definedName>)")

Row = tuple[int, int, int, int, bool]
"""A <row>: (number, start, start-tag end, end, self-closing), offsets into the XML."""


def last_used_row(xml: bytes, start: int, end: int) -> Row | None:
    """The last row between ``start`` and ``end`` holding at least one value or formula (styled empty
    rows do not count), found from the end."""
    pos = end
    while (at := xml.rfind(b"<row", start, pos)) >= 0:
        pos = at
        match = _ROW.match(xml, at, end)
        if match is None or match.group(2):
            continue
        number = row_number(match.group(1))
        found_end = row_end(xml, match.end(), end, number)
        if any(xml.find(mark, match.end(), found_end) >= 0 for mark in _VALUE_MARKS):
            return number, at, match.end(), found_end, False
    return None


def first_row(xml: bytes) -> Row | None:
    """The first <row> of a chunk of sheetData when it holds a value (None otherwise)."""
    match = _ROW.search(xml)
    if match is None or match.group(2):
        return None
    number = row_number(match.group(1))
    end = row_end(xml, match.end(), len(xml), number)
    if not any(xml.find(mark, match.end(), end) >= 0 for mark in _VALUE_MARKS):
        return None
    return number, match.start(), match.end(), end, False


def appended_extent(appends: Sequence[Sequence[CellValue]], last_before: int) -> Range | None:
    """The smallest range holding every appended value (rows numbered after ``last_before``)."""
    first_row = last_row = 0
    first_col, last_col = MAX_COL + 1, 0
    for offset, values in enumerate(appends, start=last_before + 1):
        if not values:
            continue
        low = 1 if values[0] is not None else _first_value(values)
        if low == 0:
            continue
        high = len(values) if values[-1] is not None else len(values) - _first_value(values[::-1]) + 1
        first_row = first_row or offset
        last_row = offset
        first_col, last_col = min(first_col, low), max(last_col, high)
    return (first_row, first_col, last_row, last_col) if last_row else None


def _first_value(values: Sequence[CellValue]) -> int:
    """1-based position of the first value that is not None (0: none)."""
    return next((index for index, value in enumerate(values, start=1) if value is not None), 0)


def write_appended_rows(
    appends: Sequence[Sequence[CellValue]],
    first: int,
    last_before: int,
    writer: CellWriter,
    defaults: dict[int, int],
    add: Callable[[bytes], None],
    tick: Callable[[], None],
) -> int:
    """Emits ``appends[first:]`` as new rows after every existing row; returns the last row written (0:
    none). Row ``last_before + i + 1`` holds ``appends[i]``; ``tick`` is called after each row."""
    heads: list[bytes] = [b""]
    by_column: list[dict[type, bytes]] = [{}]  # column -> value type -> attributes of its new cell
    new_attrs, tails, tail = writer.new_attrs, writer.tails, writer.tail
    last = 0
    for index in range(first, len(appends)):
        values = appends[index]
        number = last_before + index + 1
        suffix = b'%d"' % number
        pieces = [b'<row r="', suffix, b">"]
        if len(values) >= len(heads):
            grown = range(len(heads), min(len(values), MAX_COL) + 1)
            heads += [cell_head(col) for col in grown]
            by_column += [{} for _ in grown]
        col = 0
        for value in values:
            col += 1
            if value is None:
                continue
            if col > MAX_COL:
                cell_ref(number, col)  # raises
            kind = type(value)
            attrs = by_column[col].get(kind)
            if attrs is None:
                attrs = by_column[col][kind] = new_attrs(value, defaults.get(col))
            if kind is int:
                number_value: int = value  # type: ignore[assignment]  # kind is int
                pieces += (heads[col], suffix, attrs, b"><v>%d</v></c>" % number_value)
            else:
                pieces += (heads[col], suffix, attrs, tails.get(value) or tail(value))
        if len(pieces) > 3:
            if number > MAX_ROW:
                cell_ref(number, 1)  # raises
            pieces.append(b"</row>")
            add(b"".join(pieces))
            last = number
        tick()
    return last


def grown_autofilter(tail: bytes, last_before: int, last_after: int) -> tuple[bytes, Growth]:
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


def grown_table_xml(xml: bytes, target: str, last_before: int, last_after: int) -> bytes | None:
    """A table part whose range ended within the old data, extended over the new rows (None: it stays)."""
    match = _TABLE_REF.search(xml)
    area = parse_range(match.group(2)) if match else None
    if match is None or area is None:
        raise PatchRefused(f"cannot read the range of table part {target!r}")
    if not last_before <= area[2] < last_after or area[0] > last_before:
        return None
    if _TOTALS.search(xml, match.start(), xml.find(b">", match.start())):
        raise PatchRefused(f"table {target!r} has a totals row, so rows cannot be appended under it")
    if xml[: match.start()].rstrip().endswith(b":"):
        raise PatchRefused(f"table {target!r} uses a namespace prefix")
    new = (area[0], area[1], last_after, area[3])
    xml = xml[: match.start(2)] + format_range(new) + xml[match.end(2) :]
    inner = _TABLE_FILTER.search(xml, match.start(2))
    if inner is not None and parse_range(inner.group(2)) == area:
        xml = xml[: inner.start(2)] + format_range(new) + xml[inner.end(2) :]
    return xml


def grown_filter_name(workbook_xml: bytes, index: int, before: Range, after: Range) -> bytes:
    """workbook.xml with the sheet's hidden _FilterDatabase name following its grown autoFilter."""
    for match in _DEFINED_NAME.finditer(workbook_xml):
        attrs = match.group(2)
        if b'name="_xlnm._FilterDatabase"' not in attrs or f'localSheetId="{index}"'.encode() not in attrs:
            continue
        text = match.group(3)
        sheet, bang, area = text.rpartition(b"!")
        if not bang or parse_range(area) != before:
            return workbook_xml
        fixed = b"$" + format_range(after).replace(b":", b":$")
        fixed = re.sub(rb"([A-Z]+)(\d+)", rb"\1$\2", fixed)
        return workbook_xml[: match.start(3)] + sheet + b"!" + fixed + workbook_xml[match.end(3) :]
    return workbook_xml
