"""Date styles in styles.xml: which cell formats show dates, and adding one when a cell needs it.

A datetime is stored as a serial number; only its cell format makes it a date. A target cell that already
has a date or time format keeps it (staff chose how it looks). Otherwise the cell gets a copy of its
own format (font, fill, borders, alignment kept) with a built-in date number format: an identical
existing ``<xf>`` is reused, or one is appended to ``<cellXfs>`` — the only change ever made to
styles.xml, spliced in so that every other byte of the part stays as it was.
"""

from __future__ import annotations

import datetime as dt
import re

from callback_sheets.backends.excel.xlsx.cells import MAX_COL, PatchRefused, scan_cells, tag_attrs
from callback_sheets.backends.excel.xlsx.read import CellValue

DATETIME_FORMAT = 22  # built-in "m/d/yyyy h:mm", shown in the reader's locale
DATE_FORMAT = 14  # built-in short date
# Built-in number formats that are dates or times (the same set python-calamine reads as dates).
_BUILTIN_DATES = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59), *range(71, 82)])

_MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?styleSheet\b([^>]*)>")
_CELL_XFS = re.compile(rb"<cellXfs\b([^>]*?)(/?)>")
_XF = re.compile(rb"<xf\b[^>]*?(?:/>|>.*?</xf>)", re.DOTALL)
_NUM_FMT = re.compile(rb"<numFmt\b([^>]*?)/?>")
_ATTR = re.compile(rb"""\s([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')""")
_NUM_FMT_ID = re.compile(rb"""\snumFmtId\s*=\s*["'](\d+)["']""")
_APPLY = re.compile(rb"""\sapplyNumberFormat\s*=\s*["'][^"']*["']""")
_COL = re.compile(rb"<col\b([^>]*?)/?>")
_COUNT = re.compile(rb"""(\scount\s*=\s*["'])(\d+)(["'])""")
# Pieces of a format code that never make it a date: quoted text, escaped characters, colours, locales.
_NOT_DATE_PARTS = re.compile(r'"[^"]*"|\\.|_.|\*.|\[(?![hms]+\])[^\]]*\]', re.IGNORECASE)


def is_date_format_code(code: str) -> bool:
    """True when a custom number format code shows a date, a time or a duration."""
    if code.strip().lower() == "general":
        return False
    return re.search(r"[dmyhs]", _NOT_DATE_PARTS.sub("", code), re.IGNORECASE) is not None


class StyleBook:
    """The cell formats of one workbook, and the date formats added to them during a patch."""

    def __init__(self, xml: bytes | None) -> None:
        self._xml = xml
        self._xfs: list[bytes] | None = None
        self._date_formats: set[int] = set(_BUILTIN_DATES)
        self._added: list[bytes] = []
        self._derived: dict[tuple[int, int], int] = {}
        self._prefix = b""  # the styleSheet's namespace prefix (ClosedXML writes x:)

    @property
    def changed(self) -> bool:
        """True when the patch needs styles.xml rewritten."""
        return bool(self._added)

    def style_for(self, value: CellValue, current: int | None) -> int | None:
        """The style a cell gets for ``value``: its own, or a date copy of it for dates."""
        if not isinstance(value, dt.date):
            return current
        xfs = self._cell_xfs()
        base = current or 0
        if base >= len(xfs):
            raise PatchRefused(f"a cell uses style {base}, which styles.xml does not define")
        if self._number_format(xfs[base]) in self._date_formats:
            return current
        wanted = DATETIME_FORMAT if isinstance(value, dt.datetime) else DATE_FORMAT
        key = (base, wanted)
        if key not in self._derived:
            self._derived[key] = self._date_copy(xfs, base, wanted)
        return self._derived[key]

    def to_bytes(self) -> bytes:
        """styles.xml with the added cell formats appended to <cellXfs> and its count updated."""
        if self._xml is None or not self._added:
            raise ValueError("styles.xml is unchanged")
        xml = self._xml
        opening = self._pattern(_CELL_XFS).search(xml)
        assert opening is not None  # checked when the formats were read
        close = xml.find(b"</" + self._prefix + b"cellXfs>", opening.end())
        count = len(self._xfs or ())
        tag = opening.group(0)
        counted = _COUNT.search(tag)
        if counted is not None:
            tag = tag[: counted.start(2)] + str(count).encode() + tag[counted.end(2) :]
        return xml[: opening.start()] + tag + xml[opening.end() : close] + b"".join(self._added) + xml[close:]

    def _cell_xfs(self) -> list[bytes]:
        """The <xf> elements of <cellXfs>, parsed once; refuses layouts it would have to guess at."""
        if self._xfs is not None:
            return self._xfs
        xml = self._xml
        if xml is None:
            raise PatchRefused("the workbook has no styles part, so a date cannot be given a date format")
        root = _ROOT.search(xml)
        if root is None:
            raise PatchRefused("styles.xml has no <styleSheet> root")
        self._prefix = root.group(1) or b""
        bound = rb"xmlns:" + re.escape(self._prefix[:-1]) + rb"""\s*=\s*["']""" + re.escape(_MAIN_NS)
        if self._prefix and not re.search(bound, root.group(2)):
            raise PatchRefused("styles.xml uses a namespace prefix the patcher does not recognise")
        opening = self._pattern(_CELL_XFS).search(xml)
        if opening is None or opening.group(2):
            raise PatchRefused("styles.xml has no cell formats to give a date a date format")
        close = xml.find(b"</" + self._prefix + b"cellXfs>", opening.end())
        if close < 0:
            raise PatchRefused("styles.xml's <cellXfs> is not closed")
        self._xfs = self._pattern(_XF).findall(xml, opening.end(), close)
        if not self._xfs:
            raise PatchRefused("styles.xml has no cell formats to give a date a date format")
        for match in self._pattern(_NUM_FMT).finditer(xml):
            attrs = {m.group(1): m.group(2)[1:-1] for m in _ATTR.finditer(match.group(1))}
            code = attrs.get(b"formatCode", b"").decode("utf-8", "replace")
            if "&" in code:  # an escaped quote or ampersand: html only then (~1 ms to import)
                from html import unescape

                code = unescape(code)
            if attrs.get(b"numFmtId", b"").isdigit() and is_date_format_code(code):
                self._date_formats.add(int(attrs[b"numFmtId"]))
        return self._xfs

    def _pattern(self, pattern: re.Pattern[bytes]) -> re.Pattern[bytes]:
        """``pattern`` (written for unprefixed tags) for this styleSheet's prefix."""
        if not self._prefix:
            return pattern
        text = pattern.pattern.replace(b"</", b"\0")
        prefixed = text.replace(b"<", b"<" + self._prefix).replace(b"\0", b"</" + self._prefix)
        return re.compile(prefixed, pattern.flags)

    @staticmethod
    def _number_format(xf: bytes) -> int:
        match = _NUM_FMT_ID.search(xf[: xf.find(b">")])
        return int(match.group(1)) if match else 0

    def _date_copy(self, xfs: list[bytes], base: int, number_format: int) -> int:
        """Index of a cell format equal to ``xfs[base]`` but with ``number_format``; appended if new."""
        copy = _with_number_format(xfs[base], number_format)
        for index, xf in enumerate(xfs):
            if xf == copy:
                return index
        xfs.append(copy)
        self._added.append(copy)
        return len(xfs) - 1


def _with_number_format(xf: bytes, number_format: int) -> bytes:
    """An <xf> element with its numFmtId replaced (or set) and applyNumberFormat="1"."""
    end = xf.find(b">")
    closing = b"/>" if xf[end - 1 : end + 1] == b"/>" else b">"
    tag = xf[: end + 1 - len(closing)]
    tag = _APPLY.sub(b"", _NUM_FMT_ID.sub(b"", tag)).rstrip()
    attrs = f' numFmtId="{number_format}" applyNumberFormat="1"'.encode()
    name_end = len(re.match(rb"<[\w.:-]+", tag).group(0))  # type: ignore[union-attr]
    return tag[:name_end] + attrs + tag[name_end:] + closing + xf[end + 1 :]


def column_styles(head: bytes) -> dict[int, int]:
    """Column -> style index from <cols>, the style Excel gives a new cell typed in that column."""
    styles: dict[int, int] = {}
    cols_start = head.find(b"<cols")
    if cols_start < 0:
        return styles
    for match in _COL.finditer(head, cols_start, head.find(b"</cols>", cols_start)):
        attrs = tag_attrs(match.group(1))
        if b"style" in attrs and attrs.get(b"min", b"").isdigit() and attrs.get(b"max", b"").isdigit():
            first, last = int(attrs[b"min"]), min(int(attrs[b"max"]), MAX_COL)
            if last - first < 1024:  # whole-sheet ranges are common; new cells beyond them need nothing
                styles.update(dict.fromkeys(range(first, last + 1), int(attrs[b"style"])))
    return styles


def row_styles(xml: bytes, row: tuple[int, int, int, int, bool]) -> dict[int, int]:
    """Column -> style index of the cells of ``row`` (number, start, tag end, end, self-closing):
    appended rows look like the row above them."""
    number, _start, tag_end, end, self_closing = row
    if self_closing:
        return {}
    try:
        cells = scan_cells(xml, number, tag_end, end - len(b"</row>"))
    except PatchRefused:  # not addressable: the new rows simply do not inherit its styles
        return {}
    return {cell.col: int(s) for cell in cells if (s := tag_attrs(cell.attrs).get(b"s", b"")).isdigit()}
