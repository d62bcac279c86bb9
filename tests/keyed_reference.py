"""The keyed History read as it was before its search used bytes.find (a regular expression over every
row, see callback_sheets/backends/excel/xlsx/keyed.py): kept as the oracle the faster search must equal,
over the corpus and our own workbooks."""

from __future__ import annotations

import html
import io
import re
import zipfile
from pathlib import Path

import python_calamine

from callback_sheets.backends.excel.xlsx.package import READ_PIECE, Package
from callback_sheets.backends.excel.xlsx.read import CellValue, _normalised, _trimmed

_EMPTY_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>'
)
_SI = re.compile(rb"<(?:\w+:)?si\b[^>]*>(.*?)</(?:\w+:)?si>|<(?:\w+:)?si\b[^>]*/>", re.S)
_T = re.compile(rb"<(?:\w+:)?t\b[^>]*>(.*?)</(?:\w+:)?t>", re.S)
_RPH = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*/>")
_PREFIX = re.compile(rb"<(\w+:)?sheetData\b")
_ROW_NUMBER = re.compile(rb'(<row\b[^>]*?\sr=")[0-9]+(")')
_CELL_NUMBER = re.compile(rb'(<c\b[^>]*?\sr="[A-Z]{1,3})[0-9]+(")')


def _text(xml: bytes) -> str:
    return html.unescape(b"".join(_T.findall(_RPH.sub(b"", xml))).decode("utf-8", "replace"))


def _needle(key: str, shared: list[int]) -> re.Pattern[bytes]:
    """A column-A cell whose text is ``key`` (any case, spaces around it allowed)."""
    escaped = html.escape(key, quote=False).encode()
    inline = rb"<(?:\w+:)?is>\s*<(?:\w+:)?t\b[^>]*>\s*" + re.escape(escaped) + rb"\s*</(?:\w+:)?t>"
    options = [inline]
    if shared:
        options.append(rb"<(?:\w+:)?v>(?:" + b"|".join(str(i).encode() for i in shared) + rb")</(?:\w+:)?v>")
    return re.compile(rb'<(?:\w+:)?c\s+r="A[0-9]+"[^>]*>\s*(?:' + b"|".join(options) + rb")", re.IGNORECASE)


def read_rows_of(path: Path, sheet: str, key: str) -> list[list[CellValue]] | None:
    """The header row and the rows whose column A is ``key`` (compared case-insensitively), as
    :func:`.read.read_sheet` would give them; None when the workbook has no such sheet."""
    with zipfile.ZipFile(path) as archive:
        package = Package(archive)
        names = {name.casefold(): name for name, _, _ in reversed(package.sheets)}
        actual = sheet if any(n == sheet for n, _, _ in package.sheets) else names.get(sheet.casefold())
        if actual is None:
            return None
        part = package.sheet_part(actual)
        wanted = key.strip().casefold()
        shared: list[int] = []
        strings = [t for k, t in package.rels.values() if k.endswith("/sharedStrings")]
        if strings:
            sst = package.read_or_none(strings[0])
            for index, match in enumerate(_SI.finditer(sst or b"")):
                if match.group(1) is not None and _text(match.group(1)).strip().casefold() == wanted:
                    shared.append(index)
        rows = _matching_rows(package, part, _needle(key.strip(), shared))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as mini:
            worksheets = {package.sheet_part(n) for n, _, _ in package.sheets if _is_worksheet(package, n)}
            for info in archive.infolist():
                if info.filename == part:
                    mini.writestr(info.filename, rows)
                elif info.filename in worksheets:
                    mini.writestr(info.filename, _EMPTY_SHEET)
                elif not info.is_dir():
                    mini.writestr(info.filename, archive.read(info))
    workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(out.getvalue()))
    try:
        raw = workbook.get_sheet_by_name(actual).to_python(skip_empty_area=False)
    finally:
        workbook.close()
    found = _trimmed(_normalised(raw))
    return found[:1] + [r for r in found[1:] if r and str(r[0] or "").strip().casefold() == wanted]


def _is_worksheet(package: Package, sheet: str) -> bool:
    try:
        package.sheet_part(sheet)
    except Exception:  # a chart sheet or a dangling relationship: left as it is
        return False
    return True


def _matching_rows(package: Package, part: str, needle: re.Pattern[bytes]) -> bytes:
    """The sheet part with only its first row and the rows ``needle`` finds, renumbered from 1."""
    head = b""
    kept: list[bytes] = []
    first: bytes | None = None
    carry = b""
    with package.archive.open(package.member(part)) as stream:
        while True:
            piece = stream.read(READ_PIECE)
            data = carry + piece
            if not piece:
                cut = len(data)
            else:
                cut = data.rfind(b"</row>")
                cut = 0 if cut < 0 else cut + len(b"</row>")
            block, carry = data[:cut], data[cut:]
            if first is None:
                prefix = _PREFIX.search(block)
                start = prefix.start() if prefix else -1
                row_start = block.find(b"<row", start)
                row_end = block.find(b"</row>", row_start)
                if start < 0 or (row_start >= 0 and row_end < 0):
                    carry = data  # the head and first row are not all in yet
                    if piece:
                        continue
                    return data  # an empty or unusual sheet: read as it is
                opening_end = block.find(b">", start) + 1
                head = _DIMENSION.sub(b"", block[:opening_end])
                if block[opening_end - 2 : opening_end] == b"/>":  # <sheetData/>: no rows
                    return data
                if row_start < 0:
                    first = b""
                else:
                    first = block[row_start : row_end + len(b"</row>")]
                    block = block[row_end + len(b"</row>") :]
            for match in needle.finditer(block):
                row_start = block.rfind(b"<row", 0, match.start())
                row_end = block.find(b"</row>", match.end())
                if row_start >= 0 and row_end >= 0:
                    row = block[row_start : row_end + len(b"</row>")]
                    if not kept or kept[-1] != row:
                        kept.append(row)
            if not piece:
                break
    rows = [first or b"", *kept]
    renumbered = [
        _CELL_NUMBER.sub(rb"\g<1>%d\g<2>" % n, _ROW_NUMBER.sub(rb"\g<1>%d\g<2>" % n, row, count=1))
        for n, row in enumerate(rows, start=1)
        if row
    ]
    prefix = _PREFIX.search(head)
    ns = (prefix.group(1) if prefix else None) or b""
    return head + b"".join(renumbered) + b"</" + ns + b"sheetData></" + ns + b"worksheet>"
