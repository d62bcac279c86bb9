"""The Queue without its closed rows, mostly not parsed: what `queue` reads.

The work list shows open items only, and most of an archived queue's rows are closed. The Status column
is found in the header (row 1; the first cell whose text, stripped, is ``Status``, as the whole read
names columns), and every row whose Status cell is *positively* a closed status is left out: an inline
string ``<is><t>..</t></is>`` or a shared string ``<si><t>..</t></si>`` holding text and the five XML
entities only, whose text, stripped and casefolded, is one of the statuses given. Everything else is
kept (rich text, a character reference, a formula, a number, an empty cell, no Status cell): a superset
of the open rows, which the caller filters as it would a whole read. The header row and the kept rows,
renumbered 1, 2, ..., go into a small workbook in memory (:mod:`.keyed` builds it) that python-calamine
reads as usual, so each value and its type are what a whole read gives; their real row numbers are
returned beside them.

Anything unusual returns None, and the caller reads the whole sheet: a sheet not UTF-8, with prefixed
elements, comments or CDATA; rows without their number, out of order or two with one number; a header
that is not row 1, or one whose cells before Status cannot be read exactly; no Status header; two Status
cells for one row; nothing to leave out.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Collection
from pathlib import Path

import python_calamine

from callback_sheets.backends.excel.xlsx.mini import EMPTY_SHEET, rows_of_sheet, si_pieces, trimmed_table
from callback_sheets.backends.excel.xlsx.read import CellValue, _normalised, _trimmed

STATUS = "Status"
_CELL = re.compile(rb"<c((?:\s+[A-Za-z_:][\w.:-]*=\"[^\"<]*\")*)\s*(/>|>(.*?)</c>)", re.S)
_ATTR = re.compile(rb'\s([A-Za-z_:][\w.:-]*)="([^"<]*)"')
_INLINE = re.compile(rb'<is><t(?: xml:space="preserve")?>([^<]*)</t></is>')
_SHARED = re.compile(rb"<v>([0-9]+)</v>")
_SI_TEXT = re.compile(rb'<t(?: xml:space="preserve")?>([^<]*)</t>')
_REF = re.compile(rb"([A-Z]{1,3})([0-9]+)")
_OTHER_ENTITY = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);)")
_REST = rb'"([^>]*)>(?:<is><t(?: xml:space="preserve")?>([^<]*)</t></is></c>|<v>([0-9]+)</v></c>)?'
"""What follows a Status cell's row number: its other attributes, and its text or shared index."""
_STATUS_REST = re.compile(_REST)
_REFERENCES = re.compile(rb'(<row\b[^>]*?\sr="|<c\b[^>]*?\sr="[A-Z]{1,3})([0-9]+)"')
_SHEET = re.compile(rb"<sheet\s([^>]*)/>")
_RELATIONSHIP = re.compile(rb"<Relationship\s([^>]*)/>")
_TYPES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_ROW_TAG = re.compile(rb'<row\b[^>]*?\sr="([0-9]+)"[^>]*?(/?)>')


def read_open_queue_rows(
    path: Path, sheet: str, closed: Collection[str]
) -> tuple[list[int], list[list[CellValue]]] | None:
    """The sheet's header row and (a superset of) the rows whose Status is not one of ``closed``
    (compared stripped and casefolded), as :func:`.read.read_sheet` gives them, with the rows' numbers
    in the sheet (the header's is 1); None when the sheet must be read whole instead (see the module's
    doc), or the workbook has no such sheet."""
    wanted = {s.casefold() for s in closed}  # as work_list compares: the cell's text stripped, not these
    if not wanted:
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            mini, actual = _mini_workbook(archive, sheet, wanted) or (None, "")
    except Exception:  # anything unexpected: the whole read says what is wrong, if anything
        return None
    if mini is None:
        return None
    workbook = python_calamine.CalamineWorkbook.from_object(io.BytesIO(mini[0]))
    try:
        raw = workbook.get_sheet_by_name(actual).to_python(skip_empty_area=False)
    finally:
        workbook.close()
    return mini[1], _trimmed(_normalised(raw))


def _mini_workbook(
    archive: zipfile.ZipFile, sheet: str, closed: set[str]
) -> tuple[tuple[bytes, list[int]], str] | None:
    """The workbook in memory with the sheet holding its header and kept rows (every other worksheet
    empty, the shared strings those rows do not use emptied in place), the kept rows' numbers, and the
    sheet's name as the workbook spells it; None for anything unusual (parts not where every writer
    known puts them, the Strict format, duplicate members)."""
    names = archive.namelist()
    if len(set(names)) != len(names) or "xl/workbook.xml" not in names:
        return None
    book = archive.read("xl/workbook.xml")
    if b"purl.oclc.org" in book or not _plain(book):
        return None
    sheets = [dict(_ATTR.findall(b" " + found)) for found in _SHEET.findall(book)]
    rels = {
        attrs.get(b"Id", b""): attrs
        for found in _RELATIONSHIP.findall(archive.read("xl/_rels/workbook.xml.rels"))
        for attrs in [dict(_ATTR.findall(b" " + found))]
    }
    titles = [_decoded(a.get(b"name", b"")) for a in sheets]
    actual = (
        sheet
        if sheet in titles
        else next((t for t in titles if t and t.casefold() == sheet.casefold()), None)
    )
    if actual is None:
        return None
    parts = {}
    for title, attrs in zip(titles, sheets, strict=True):
        rel = rels.get(attrs.get(b"r:id", b""), {})
        if rel.get(b"Type", b"").decode() == _TYPES + "worksheet":
            parts[title] = _target(rel)
    strings = [_target(r) for r in rels.values() if r.get(b"Type", b"").decode() == _TYPES + "sharedStrings"]
    part = parts.get(actual)
    if part is None or part not in names or len(strings) > 1 or any(s not in names for s in strings):
        return None
    sst = archive.read(strings[0]) if strings else None
    pieces = si_pieces(sst) if sst else None
    picked = _picked(archive.read(part), _Decoder(pieces, closed))
    if picked is None:
        return None
    replaced = {name: EMPTY_SHEET for name in parts.values()}
    replaced[part] = picked[0]
    table = trimmed_table(pieces, picked[0]) if pieces else None
    if table is not None:
        replaced[strings[0]] = table
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as mini:
        for info in archive.infolist():
            if not info.is_dir():
                mini.writestr(info.filename, replaced.get(info.filename) or archive.read(info))
    return (out.getvalue(), picked[1]), actual


def _target(rel: dict[bytes, bytes]) -> str:
    """Where a workbook relationship points, as a member name."""
    target = rel.get(b"Target", b"").decode()
    return target[1:] if target.startswith("/") else "xl/" + target


class _Decoder:
    """The text of a cell, when it is plain text read exactly; None when it may be anything else."""

    def __init__(self, pieces: list[bytes] | None, closed: set[str]) -> None:
        self.pieces, self.closed = pieces, closed
        self.known: dict[bytes, bool] = {}

    def text(self, kind: bytes | None, body: bytes) -> str | None:
        if kind == b"inlineStr":
            match = _INLINE.fullmatch(body)
            return None if match is None else _decoded(match.group(1))
        if kind == b"s" and self.pieces is not None:
            match = _SHARED.fullmatch(body)
            if match is None or int(match.group(1)) + 1 >= len(self.pieces):
                return None
            si = self.pieces[int(match.group(1)) + 1].partition(b"</si>")[0]
            found = _SI_TEXT.fullmatch(si)
            return None if found is None else _decoded(found.group(1))
        return None

    def is_closed(self, rest: bytes) -> bool:
        """Whether a Status cell (what follows its row number, see ``_REST``) is certainly one of the
        closed statuses."""
        known = self.known.get(rest)
        if known is not None:
            return known
        found = _STATUS_REST.fullmatch(rest)
        attrs, inline, index = found.groups() if found else (b"", None, None)
        if inline is not None and b' t="inlineStr"' in attrs:
            value = self.text(b"inlineStr", b"<is><t>" + inline + b"</t></is>")
        elif index is not None and b' t="s"' in attrs:
            value = self.text(b"s", b"<v>" + index + b"</v>")
        else:
            value = None
        known = self.known[rest] = value is not None and value.strip().casefold() in self.closed
        return known


def _decoded(raw: bytes) -> str | None:
    """The text of an element's bytes: UTF-8 with the five XML entities; None for a character reference,
    another entity, a carriage return (XML turns line ends into one ``\\n``) or bytes not UTF-8."""
    if b"\r" in raw or (b"&" in raw and _OTHER_ENTITY.search(raw)):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "&" in text:
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
        text = text.replace("&amp;", "&")
    return text


def _status_column(header: bytes, decoder: _Decoder) -> bytes | None:
    """The letters of the header's first column named Status; None if none, or a cell before it (or a
    cell out of order) could not be read exactly."""
    last = 0
    for cell in _CELL.finditer(header):
        attrs = dict(_ATTR.findall(cell.group(1)))
        ref = _REF.fullmatch(attrs.get(b"r", b""))
        if ref is None or ref.group(2) != b"1":
            return None
        column = _column_number(ref.group(1))
        if column <= last:
            return None
        last = column
        kind = attrs.get(b"t")
        if cell.group(3) is None or kind not in (b"s", b"inlineStr", b"str"):
            continue  # empty, a number, a boolean, a date or an error: not the text "Status"
        value = decoder.text(kind, cell.group(3))
        if value is None:
            return None
        if value.strip() == STATUS:
            return ref.group(1)
    return None


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _plain(data: bytes) -> bool:
    """UTF-8, and no comment or CDATA."""
    if data.startswith((b"\xfe\xff", b"\xff\xfe")) or data[:1] not in (b"<", b"\xef"):
        return False
    if data.startswith((b"<?xml", b"\xef\xbb\xbf<?xml")):
        declaration = data[: data.find(b"?>")].lower()
        if b"encoding" in declaration and b"utf-8" not in declaration:
            return False
    if b"[" in data and b"<![CDATA[" in data:
        return False
    return data.rfind(b"<!--") < 0


def _picked(data: bytes, decoder: _Decoder) -> tuple[bytes, list[int]] | None:
    """The sheet part with only its header (row 1) and the rows kept, renumbered from 1, and the rows'
    numbers; None for anything unusual."""
    if not _plain(data):
        return None
    found = rows_of_sheet(data)
    if found is None:
        return None
    header_start, header_end, close = found.header_start, found.header_end, found.close
    column = _status_column(data[header_start:header_end], decoder)
    if column is None:
        return None
    dropped = _closed_rows(data, header_end, close, column, decoder)
    if not dropped:
        return None
    kept = _kept_rows(data, header_end, close, dropped)
    if kept is None:
        return None
    rows, positions = [data[header_start:header_end], *kept[0]], [1, *kept[1]]
    renumbered = _renumbered(rows, positions)
    if renumbered is None:
        return None
    return found.sheet(data, renumbered), positions


def _renumbered(rows: list[bytes], positions: list[int]) -> bytes | None:
    """The rows numbered 1, 2, ... (the row and its cells' references); None when a cell's reference
    is not to its own row."""
    out: list[bytes] = []
    strays: list[bytes] = []

    def renumber(ref: re.Match[bytes]) -> bytes:
        if ref[2] != old:
            strays.append(ref[2])
        return ref[1] + new

    for n, (row, position) in enumerate(zip(rows, positions, strict=True), start=1):
        old, new = b"%d" % position, b'%d"' % n
        out.append(_REFERENCES.sub(renumber, row))
    return None if strays else b"".join(out)


def _closed_rows(
    data: bytes, begin: int, end: int, column: bytes, decoder: _Decoder
) -> list[tuple[int, int, int]] | None:
    """The rows (start, end after ``</row>``, number) whose Status cell is certainly closed, in order;
    None when two cells say they are one row's Status cell, or the rows are out of order. A Status cell
    whose ``r`` is not its first attribute (no writer known puts it elsewhere) keeps its row."""
    probe = re.compile(rb' r="' + column + rb"([0-9]+)(" + _REST + rb")")
    seen: set[bytes] = set()
    dropped: list[tuple[int, int, int]] = []
    known, closed = decoder.known, decoder.is_closed
    last_number, last_stop = 1, begin
    for found in probe.finditer(data, begin, end):
        number, rest = found.group(1, 2)
        if number in seen:
            return None
        seen.add(number)
        shut = known.get(rest)
        if not (closed(rest) if shut is None else shut):
            continue
        cell = found.start() - 2
        if data[cell : cell + 2] != b"<c":
            continue
        start = data.rfind(b"<row", begin, cell)
        stop = data.find(b"</row>", found.end(), end)
        row = int(number)
        if start < last_stop or row <= last_number or stop < 0 or not _row_numbered(data, start, number):
            return None
        last_number, last_stop = row, stop + len(b"</row>")
        dropped.append((start, last_stop, row))
    return dropped


def _row_numbered(data: bytes, start: int, number: bytes) -> bool:
    """Whether the row at ``start`` is row ``number`` and holds cells (not an empty ``<row/>``)."""
    if not data.startswith(b'<row r="%s"' % number, start):
        tag = _ROW_TAG.match(data, start)
        return tag is not None and tag.group(1) == number and not tag.group(2)
    return data[data.find(b">", start) - 1] != 47  # "/"


def _kept_rows(
    data: bytes, begin: int, end: int, dropped: list[tuple[int, int, int]]
) -> tuple[list[bytes], list[int]] | None:
    """The rows between the ``dropped`` ones (empty ``<row/>`` left out: they read as nothing) and their
    numbers; None when one has no number, or the numbers are not in order."""
    rows: list[bytes] = []
    numbers: list[int] = []
    last = 1
    at = begin
    for start, stop, number in [*dropped, (end, end, 1 << 62)]:
        row = data.find(b"<row", at, start)
        while row >= 0:
            tag = _ROW_TAG.match(data, row)
            if tag is None or int(tag.group(1)) <= last:
                return None
            last = int(tag.group(1))
            if tag.group(2):  # <row .../>: no cells
                row = data.find(b"<row", tag.end(), start)
                continue
            close = data.find(b"</row>", tag.end(), start)
            if close < 0 or data.find(b"<row", tag.end(), close) >= 0:
                return None
            rows.append(data[row : close + len(b"</row>")])
            numbers.append(last)
            row = data.find(b"<row", close, start)
        if number <= last:
            return None
        last, at = number, stop
    return rows, numbers
