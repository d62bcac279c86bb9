"""One ID's rows of the Queue, without parsing the rest: what `attempt` and `script` read of the Queue.

The Queue's ID column is wherever its header says (staff move columns), so the search does not look at
one column: every row holding the ID's longest run of characters that are not letters (``-004997`` of
``CB-004997``: digits and punctuation read the same in any case and any Unicode case folding) is kept,
and so is every row holding a ``>N</`` for a shared string ``N`` whose text is the ID. That is a
superset of the rows whose ID cell holds it; the caller picks the rows as a whole read would. The header
row and those rows, renumbered 1, 2, ... go into a small workbook in memory (:mod:`.keyed` builds it)
that python-calamine reads as usual, so each value and its type are what a whole read gives, and the
rows' real numbers are returned beside them.

Anything unusual returns None, and the caller reads the whole sheet: an ID that a number, a date or a
boolean could read as, or with characters an XML writer may encode otherwise; a sheet not UTF-8, with
prefixed elements, rich inline text, character references to digits or punctuation, comments or CDATA;
rows without their number; a header that is not row 1.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import python_calamine

from callback_sheets.backends.excel.xlsx.keyed import (
    _CELL_NUMBER,
    _ROW_NUMBER,
    _mini_package,
    _shared_indexes,
)
from callback_sheets.backends.excel.xlsx.mini import ROW_R, one_row, rows_of_sheet, si_pieces, trimmed_table
from callback_sheets.backends.excel.xlsx.package import Package
from callback_sheets.backends.excel.xlsx.read import CellValue, _normalised, _trimmed

_SAFE_KEY = re.compile(r"[A-Za-z0-9._/-]*[A-Za-z][A-Za-z0-9._/-]*")
_NOT_LETTERS = re.compile(r"[^A-Za-z]+")
_ENCODED = (b"x", b"X", b"4", b"5", b"9")
"""What follows ``&#`` in a character reference to a digit, ``-``, ``.``, ``/`` or ``_``."""


def searchable(key: str) -> bytes | None:
    """The bytes every row whose ID is ``key`` holds, as written in the sheet's XML; None when ``key``
    (stripped) is not one a search can find safely: it must be ASCII letters, digits and ``._/-``,
    hold a letter and a run of three or more other characters, and not read as a number."""
    key = key.strip()
    if not _SAFE_KEY.fullmatch(key):
        return None
    try:
        float(key)  # "1e-05", "inf", "nan": a number cell may read as that
    except ValueError:
        pass
    else:
        return None
    run = max(_NOT_LETTERS.findall(key), key=len, default="")
    return run.encode() if len(run) >= 3 else None


def read_queue_rows_of(path: Path, sheet: str, key: str) -> tuple[list[int], list[list[CellValue]]] | None:
    """The sheet's header row and (a superset of) the rows whose cells hold ``key``, as
    :func:`.read.read_sheet` gives them, with the rows' numbers in the sheet (the header's is 1); None
    when the sheet must be read whole instead (see the module's doc), or the workbook has no such sheet."""
    run = searchable(key)
    if run is None:
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            package = Package(archive)
            actual = _sheet_named(package, sheet)
            if actual is None:
                return None
            part = package.sheet_part(actual)
            strings = [t for k, t in package.rels.values() if k.endswith("/sharedStrings")]
            sst = package.read_or_none(strings[0]) if strings else None
            pieces = si_pieces(sst) if sst else None
            shared = _shared_indexes(sst, pieces, key.strip().casefold()) if sst else []
            picked = _picked(package.read(part), [run, *(b">%d</" % i for i in shared)])
            if picked is None:
                return None
            xml, positions = picked
            table = trimmed_table(pieces, xml) if pieces else None
            replaced = {} if table is None else {package.member(strings[0]): table}
            mini = _mini_package(package, part, xml, replaced)
    except Exception:  # anything unexpected: the whole read says what is wrong, if anything
        return None
    workbook = python_calamine.CalamineWorkbook.from_object(io.BytesIO(mini))
    try:
        raw = workbook.get_sheet_by_name(actual).to_python(skip_empty_area=False)
    finally:
        workbook.close()
    return positions, _trimmed(_normalised(raw))


def _sheet_named(package: Package, sheet: str) -> str | None:
    names = {name.casefold(): name for name, _, _ in reversed(package.sheets)}
    return sheet if any(n == sheet for n, _, _ in package.sheets) else names.get(sheet.casefold())


def _picked(data: bytes, probes: list[bytes]) -> tuple[bytes, list[int]] | None:
    """The sheet part with only its first row (row 1) and the rows holding a probe, renumbered from 1,
    and the rows' numbers; None for anything unusual."""
    if not _plain(data):
        return None
    found = rows_of_sheet(data)
    if found is None:
        return None
    header_end, close = found.header_end, found.close
    starts = set()
    for probe in probes:  # searched backwards: bytes.rfind is the faster of the two
        at = data.rfind(probe, header_end, close)
        while at >= 0:
            starts.add(data.rfind(b"<row", header_end, at))
            at = data.rfind(probe, header_end, at + len(probe) - 1)
    rows, positions = [data[found.header_start : header_end]], [1]
    for start in sorted(starts - {-1}):
        end = data.find(b"</row>", start, close)
        number = ROW_R.match(data, start)
        if number is None or int(number.group(1)) <= positions[-1] or not one_row(data, start, end):
            return None
        positions.append(int(number.group(1)))
        rows.append(data[start : end + len(b"</row>")])
    renumbered = [
        _CELL_NUMBER.sub(rb"\g<1>%d\g<2>" % n, _ROW_NUMBER.sub(rb"\g<1>%d\g<2>" % n, row, count=1))
        for n, row in enumerate(rows, start=1)
    ]
    return found.sheet(data, b"".join(renumbered)), positions


def _plain(data: bytes) -> bool:
    """Whether the ID's bytes can be found in ``data`` as they are: UTF-8, no rich inline text,
    comment, CDATA or character reference to a digit or punctuation."""
    if data.startswith((b"\xfe\xff", b"\xff\xfe")) or data[:1] not in (b"<", b"\xef"):
        return False
    if data.startswith((b"<?xml", b"\xef\xbb\xbf<?xml")):
        declaration = data[: data.find(b"?>")].lower()
        if b"encoding" in declaration and b"utf-8" not in declaration:
            return False
    if b"[" in data and b"<![CDATA[" in data:  # "[" found by memchr: cheaper than the whole word
        return False
    if data.rfind(b"</r>") >= 0 or data.rfind(b"<!--") >= 0:  # rich text (a run may split the ID),
        return False  # comments; rfind, as bytes.rfind skips faster than ``in`` or find
    at = data.find(b"&")
    while at >= 0:
        if data[at + 1 : at + 2] == b"#" and data[at + 2 : at + 3] in _ENCODED:
            return False
        at = data.find(b"&", at + 1)
    return True
