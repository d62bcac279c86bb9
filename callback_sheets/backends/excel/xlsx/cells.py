"""Cell-level SpreadsheetML: references, values encoded as ``<c>`` elements, Excel serial dates, and
reading the ``<c>`` elements of one row. Rewriting a whole sheet part is :mod:`.sheet`.

Everything here works on bytes of UTF-8 XML and knows nothing about zip packages or styles. Strings are
always written as inline strings (``t="inlineStr"``), so sharedStrings.xml is never touched and no text
can ever become a formula: ``=HYPERLINK(...)`` is stored as the literal text it is.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, cast

from callback_sheets.backends.excel.xlsx.read import CellValue


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as entities (what ``xml.sax.saxutils.escape`` does; that module imports
    ``urllib.request``, ``http.client`` and ``ssl``, 50 ms of an `attempt`'s start)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
# Text without any of these is written as it is (the common case, checked in one pass).
_NEEDS_CARE = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff&<>_]")
_CELL = re.compile(rb"<c(?=[\s/>])([^>]*?)(/?)>")
_ATTR_R = re.compile(rb"""\sr\s*=\s*["']([^"']*)["']""")
_ATTR = re.compile(rb"""\s([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')""")

Range = tuple[int, int, int, int]
"""(first row, first column, last row, last column), 1-based, inclusive."""
Growth = tuple[Range, Range] | None
"""A range before and after it was extended over appended rows, or None."""
StyleFor = Callable[[CellValue, "int | None"], "int | None"]
"""Given a value and the style index the cell has (None: no ``s``), the style index to write."""


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


_DAY_ZERO_1904 = dt.datetime(1904, 1, 1)  # serial 0 in the 1904 date system (Excel for Mac's old default)


def excel_serial(value: dt.datetime | dt.date, date1904: bool = False) -> float | int:
    """The serial number of a naive date or datetime (wall-clock value), in the 1900 date system or,
    with ``date1904``, the 1904 one."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise ValueError(f"{value.isoformat()} has a time zone: pass the naive wall-clock time")
        moment = value
    else:
        moment = dt.datetime(value.year, value.month, value.day)
    if date1904:
        if moment < _DAY_ZERO_1904:
            raise PatchRefused(f"{value.isoformat()} is before 1904-01-01, which this workbook cannot store")
        delta = moment - _DAY_ZERO_1904
        if not (delta.seconds or delta.microseconds):
            return delta.days
        return delta.days + (delta.seconds + delta.microseconds / 1_000_000) / 86_400
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
    body = text if _NEEDS_CARE.search(text) is None else escape(clean_text(text)).replace("\r", "&#13;")
    return f'<is><t xml:space="preserve">{body}</t></is>'.encode()


def cell_tail(value: CellValue) -> bytes:
    """What follows a ``<c>`` start tag's attributes for ``value``: type, value and end tag."""
    kind = type(value)
    if kind is str:
        return _string_tail(value)
    if kind is dt.datetime:
        return b"><v>" + repr(excel_serial(value)).encode() + b"</v></c>"  # type: ignore[arg-type]
    if value is None:
        return b"/>"
    if isinstance(value, bool):
        return b' t="b"><v>' + (b"1" if value else b"0") + b"</v></c>"
    if isinstance(value, int):
        return b"><v>" + str(value).encode() + b"</v></c>"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PatchRefused(f"{value!r} cannot be stored in a cell")
        return b"><v>" + repr(value).encode() + b"</v></c>"
    if isinstance(value, dt.date):
        return b"><v>" + repr(excel_serial(value)).encode() + b"</v></c>"
    if isinstance(value, str):
        if hasattr(value, "tab"):  # a link (callback_sheets.cells.Link), told apart without importing it
            return link_tail(cast(InternalLink, value))
        return _string_tail(value)
    raise TypeError(f"cannot write a {type(value).__name__} to a cell")


class InternalLink(Protocol):
    """Text that links to a row of one of the tool's tabs (``callback_sheets.cells.Link``): a ``str``
    that also carries the tab's name and the row."""

    tab: str
    row: int


def link_tail(link: InternalLink) -> bytes:
    """An internal hyperlink to the linked tab's row: a HYPERLINK formula with its text as the cached
    value (so readers that do not calculate still see the text)."""
    sheet = link.tab.replace("'", "''")
    text = str(link).replace('"', '""')
    formula = f'HYPERLINK("#\'{sheet}\'!A{link.row}","{text}")'
    return b' t="str"><f>' + escape(formula).encode() + b"</f><v>" + escape(str(link)).encode() + b"</v></c>"


@lru_cache(maxsize=8192)
def _string_tail(text: str) -> bytes:
    """The inline-string tail of a text cell (cached: queue columns repeat their words a lot)."""
    return b' t="inlineStr">' + inline_string(text) + b"</c>"


def tag_attrs(raw: bytes) -> dict[bytes, bytes]:
    """The attributes of a start tag, values without their quotes (not unescaped)."""
    return {match.group(1): match.group(2)[1:-1] for match in _ATTR.finditer(raw)}


class CellWriter:
    """Encodes target cells; what a start tag's attributes, a style decision or a repeated value give is
    worked out once.

    ``style_for`` must depend on the value's type only (as :meth:`.StyleBook.style_for` does): its
    answer is kept per (type, current style). Texts and datetimes, which repeat a lot down a column, are
    encoded once each (the caches are emptied when they grow large).
    """

    def __init__(self, style_for: StyleFor, *, date1904: bool = False) -> None:
        self._style_for = style_for
        self._date1904 = date1904
        self.new: dict[tuple[type, int | None], bytes] = {}
        """(value type, column style) -> attributes of a new cell: a hot loop's :meth:`new_attrs`."""
        self.tails: dict[CellValue, bytes] = {}
        """Text or datetime -> its :func:`cell_tail` (only those, so any value may be looked up)."""
        self._old: dict[tuple[type, bytes], bytes] = {}
        self._tags: dict[bytes, tuple[int | None, bytes, bool]] = {}

    def tail(self, value: CellValue) -> bytes:
        """:func:`cell_tail` of ``value``, kept in :attr:`tails` for texts and datetimes."""
        kind = type(value)
        if self._date1904 and isinstance(value, dt.date):
            found = self.tails.get(value)
            if found is None:
                found = self.tails[value] = b"><v>" + repr(excel_serial(value, True)).encode() + b"</v></c>"
            return found
        if kind is not str and kind is not dt.datetime:
            return cell_tail(value)
        tails = self.tails
        found = tails.get(value)
        if found is None:
            if len(tails) >= _CACHE_LIMIT:
                tails.clear()
            if kind is str and _NEEDS_CARE.search(value) is None:  # type: ignore[arg-type]
                found = _TEXT_START + value.encode() + _TEXT_END  # type: ignore[union-attr]
            else:
                found = cell_tail(value)
            tails[value] = found
        return found

    def new_attrs(self, value: CellValue, default: int | None) -> bytes:
        """The attributes (after ``r``) of a new cell holding ``value``, ``default`` its column's style."""
        key = (type(value), default)
        found = self.new.get(key)
        if found is None:
            style = self._style_for(value, default)
            found = self.new[key] = b' s="%d"' % style if style else b""
        return found

    def old_attrs(self, value: CellValue, attrs: bytes, ref: tuple[int, int]) -> bytes:
        """The attributes (after ``r``) of an existing cell, whose start tag had ``attrs``, rewritten to
        hold ``value``."""
        tag = attrs[attrs.index(b'"', 4) + 1 :] if attrs.startswith(b' r="') else attrs
        key = (type(value), tag)
        found = self._old.get(key)
        if found is None:
            if len(self._old) >= _CACHE_LIMIT:  # only tags with the reference elsewhere are that varied
                self._old.clear()
                self._tags.clear()
            known = self._tags.get(tag)
            if known is None:
                known = self._tags[tag] = _existing_attrs(tag)
            style, kept, rich = known
            if rich:
                raise PatchRefused(f"{cell_ref(*ref).decode()} holds a rich value (picture or data type)")
            style = self._style_for(value, style)
            found = self._old[key] = b' s="%d"' % style + kept if style else kept
        return found


_CACHE_LIMIT = 1 << 16
_TEXT_START = b' t="inlineStr"><is><t xml:space="preserve">'
_TEXT_END = b"</t></is></c>"


def _existing_attrs(raw: bytes) -> tuple[int | None, bytes, bool]:
    attrs = tag_attrs(raw)
    style = int(attrs[b"s"]) if attrs.get(b"s", b"").isdigit() else None
    kept = b"".join(
        b" " + name + b'="' + value + b'"'
        for name, value in attrs.items()
        if name not in (b"r", b"s", b"t", b"cm", b"vm") and b'"' not in value
    )
    return style, kept, b"vm" in attrs


@dataclass(frozen=True, slots=True)
class Cell:
    """Where one ``<c>`` element of a row sits in the part, and its start tag's attributes."""

    col: int
    start: int
    tag_end: int
    end: int
    attrs: bytes


def scan_cells(xml: bytes, row: int, start: int, end: int) -> list[Cell]:
    """The <c> elements of one row, checked to carry references, in column order."""
    cells: list[Cell] = []
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
        cells.append(Cell(col, match.start(), match.end(), cell_end, match.group(1)))
        pos = cell_end
    if xml.find(b"<extLst", pos, end) >= 0:
        raise PatchRefused(f"row {row} carries an extension list")
    return cells


@lru_cache(maxsize=MAX_COL)
def cell_head(col: int) -> bytes:
    """The start of a plain cell's start tag up to its row number: 2 -> b'<c r="B'."""
    return b'<c r="' + column_letters(col).encode()


class _LetterNumbers(dict[bytes, int]):
    """Column letters -> column number, worked out on first use of each name."""

    def __missing__(self, letters: bytes) -> int:
        self[letters] = number = column_number(letters)
        return number


_LETTER_NUMBERS = _LetterNumbers()


def letter_numbers() -> dict[bytes, int]:
    """One- to three-letter column names -> their numbers (including those past XFD), as a mapping
    filled on first use of each name (building all 18,278 at once cost a write ~10 ms)."""
    return _LETTER_NUMBERS


_ROW_R = re.compile(rb"""\sr\s*=\s*["']([^"']*)["']""")


def row_number(attrs: bytes) -> int:
    """The number in a <row> start tag's attributes; refuses a row without one."""
    ref = _ROW_R.search(attrs)
    if ref is None:
        raise PatchRefused("a row has no r= attribute (row numbers would be guessed)")
    if not ref.group(1).isdigit():
        raise PatchRefused(f"rows are out of order or misnumbered near row {ref.group(1).decode()!r}")
    return int(ref.group(1))


def row_end(xml: bytes, tag_end: int, end: int, number: int) -> int:
    """Where the row whose start tag ends at ``tag_end`` ends (after its ``</row>``)."""
    found = xml.find(b"</row>", tag_end, end)
    if found < 0:
        raise PatchRefused(f"row {number} is not closed")
    return found + len(b"</row>")
