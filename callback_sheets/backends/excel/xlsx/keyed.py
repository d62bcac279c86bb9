"""One key's rows of a sheet, without parsing the rest: what `attempt` reads of History.

The sheet's XML is decompressed piece by piece and searched (in C, by ``re``) for column-A cells holding
the key, as an inline string or as a shared string's index. The rows found, with the header row, are put
into a small workbook in memory (the package's other parts as they are, every other worksheet empty, the
rows renumbered 1, 2, ...) that python-calamine reads as usual: the values, dates (the cell styles and
the 1904 date system), shared strings and booleans come out exactly as a whole read gives them.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

import python_calamine

from callback_sheets.backends.excel.xlsx.mini import (
    DIMENSION,
    EMPTY_SHEET,
    PREFIX,
    si_pieces,
    trimmed_table,
)
from callback_sheets.backends.excel.xlsx.package import READ_PIECE, Package
from callback_sheets.backends.excel.xlsx.read import CellValue, _normalised, _trimmed

_SI = re.compile(rb"<(?:\w+:)?si\b[^>]*>(.*?)</(?:\w+:)?si>|<(?:\w+:)?si\b[^>]*/>", re.S)
_T = re.compile(rb"<(?:\w+:)?t\b[^>]*>(.*?)</(?:\w+:)?t>", re.S)
_RPH = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)
_NOT_PLAIN = re.compile(rb'<si>(?!<t(?: xml:space="preserve")?>[^<&\x80-\xff]*</t></si>)')
"""A shared string whose text may differ from its bytes (entities, rich or phonetic runs, not ASCII)."""
_NOT_LETTERS = re.compile(rb"[^A-Za-z]+")
_ROW_NUMBER = re.compile(rb'(<row\b[^>]*?\sr=")[0-9]+(")')
_CELL_NUMBER = re.compile(rb'(<c\b[^>]*?\sr="[A-Z]{1,3})[0-9]+(")')


def _text(xml: bytes) -> str:
    from html import unescape  # only for a shared string that is not plain ASCII text (~1 ms to import)

    return unescape(b"".join(_T.findall(_RPH.sub(b"", xml))).decode("utf-8", "replace"))


def _escaped(text: str) -> bytes:
    """``html.escape(text, quote=False)``, encoded: what a writer puts in an element for ``text``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode()


def _needle(key: str, shared: list[int]) -> re.Pattern[bytes]:
    """A column-A cell whose text is ``key`` (any case, spaces around it allowed)."""
    escaped = _escaped(key)
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
        strings = [t for k, t in package.rels.values() if k.endswith("/sharedStrings")]
        sst = package.read_or_none(strings[0]) if strings else None
        pieces = si_pieces(sst) if sst else None
        shared = _shared_indexes(sst, pieces, wanted) if sst else []
        probes = [_escaped(key.strip()).lower()]
        probes += [b">%d</" % index for index in shared]
        rows = _matching_rows(package, part, _needle(key.strip(), shared), probes)
        if rows is None:
            mini = None
        else:
            table = trimmed_table(pieces, rows) if pieces else None
            replaced = {} if table is None else {package.member(strings[0]): table}
            mini = _mini_package(package, part, rows, replaced)
    workbook = python_calamine.CalamineWorkbook.from_object(str(path) if mini is None else io.BytesIO(mini))
    try:
        raw = workbook.get_sheet_by_name(actual).to_python(skip_empty_area=False)
    finally:
        workbook.close()
    found = _trimmed(_normalised(raw))
    return found[:1] + [r for r in found[1:] if r and str(r[0] or "").strip().casefold() == wanted]


def _shared_indexes(sst: bytes, pieces: list[bytes] | None, wanted: str) -> list[int]:
    """The indexes of the shared strings whose text is ``wanted`` (stripped, casefolded), as a walk over
    every ``<si>`` finds them. A plain one (``<si><t>...</t></si>``, ASCII, no entity) has its text in its
    bytes, so it can only be ``wanted`` if it holds it, lowered: in a table whose ``<si>`` and ``</si>``
    simply alternate, only those holding it and the others are decoded, found by ``bytes.find``."""
    literal = wanted.encode()
    if pieces is None or not literal:  # anything else: every string decoded, as before
        found = []
        for index, match in enumerate(_SI.finditer(sst)):
            if match.group(1) is not None and _text(match.group(1)).strip().casefold() == wanted:
                found.append(index)
        return found
    starts = {match.start() for match in _NOT_PLAIN.finditer(sst)}
    lowered = sst.lower()
    at = lowered.find(literal)
    while at >= 0:
        start = sst.rfind(b"<si>", 0, at)
        if start >= 0 and sst.find(b"</si>", start) >= at + len(literal):
            starts.add(start)
        at = lowered.find(literal, at + 1)
    found, index, counted = [], -1, 0
    for start in sorted(starts):
        index += sst.count(b"<si>", counted, start + len(b"<si>"))
        counted = start + len(b"<si>")
        body = sst[start + len(b"<si>") : sst.find(b"</si>", start)]
        if _text(body).strip().casefold() == wanted:
            found.append(index)
    return found


def _mini_package(package: Package, part: str, rows: bytes, replaced: dict[str, bytes]) -> bytes:
    """The package with the sheet ``part`` holding only ``rows``, every other worksheet empty, and the
    parts ``replaced`` by their new content."""
    out = io.BytesIO()
    archive = package.archive
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as mini:
        worksheets = {package.sheet_part(n) for n, _, _ in package.sheets if _is_worksheet(package, n)}
        for info in archive.infolist():
            if info.filename == part:
                mini.writestr(info.filename, rows)
            elif info.filename in worksheets:
                mini.writestr(info.filename, EMPTY_SHEET)
            elif info.filename in replaced:
                mini.writestr(info.filename, replaced[info.filename])
            elif not info.is_dir():
                mini.writestr(info.filename, archive.read(info))
    return out.getvalue()


def _found_rows(
    data: bytes, begin: int, end: int, needle: re.Pattern[bytes], probes: Sequence[bytes]
) -> list[bytes]:
    """The rows of ``data[begin:end]`` in which ``needle`` matches, in order (a row once per match, as a
    search of that whole block gives them). Only the rows holding one of the ``probes`` are searched,
    found by ``bytes.find`` in the lowered data: ``needle`` ignores ASCII case, as ``bytes.lower`` folds
    it, and its every match holds a probe. Without probes (an empty key) the whole block is searched."""
    regions = [(begin, end)]
    if all(probes):
        starts = {max(data.rfind(b"<row", begin, at), begin) for at in _occurrences(data, begin, end, probes)}
        regions = []
        for start in sorted(starts):
            if regions and start < regions[-1][1]:
                continue  # in the row searched just before
            stop = data.find(b"</row>", start, end)
            regions.append((start, end if stop < 0 else stop + len(b"</row>")))
    rows = []
    for first, last in regions:
        for match in needle.finditer(data, first, last):
            row_start = data.rfind(b"<row", begin, match.start())
            row_end = data.find(b"</row>", match.end(), end)
            if row_start >= 0 and row_end >= 0:
                rows.append(data[row_start : row_end + len(b"</row>")])
    return rows


def _occurrences(data: bytes, begin: int, end: int, probes: Sequence[bytes]) -> list[int]:
    """Where in ``data[begin:end]`` each (lowered) probe is, ignoring ASCII case. The longest run of a
    probe's bytes that are not letters is the same in any case: it is found as it is, and the probe
    checked around it (cheaper than lowering the data; done when a probe has no such run)."""
    found = []
    lowered = None
    for probe in probes:
        run = max(_NOT_LETTERS.findall(probe), key=len, default=b"")
        if len(run) < min(3, len(probe)):
            lowered = data.lower() if lowered is None else lowered
            at = lowered.find(probe, begin, end)
            while at >= 0:
                found.append(at)
                at = lowered.find(probe, at + 1, end)
            continue
        offset = probe.find(run)
        at = data.find(run, begin + offset, end)
        while at >= 0:
            start = at - offset
            if start + len(probe) <= end and data[start : start + len(probe)].lower() == probe:
                found.append(start)
            at = data.find(run, at + 1, end)
    return found


def _is_worksheet(package: Package, sheet: str) -> bool:
    try:
        package.sheet_part(sheet)
    except Exception:  # a chart sheet or a dangling relationship: left as it is
        return False
    return True


def _matching_rows(
    package: Package, part: str, needle: re.Pattern[bytes], probes: Sequence[bytes]
) -> bytes | None:
    """The sheet part with only its first row and the rows ``needle`` finds, renumbered from 1 (the rows
    holding none of the ``probes``, which every match of ``needle`` contains, are not searched); None
    for a sheet whose elements carry a namespace prefix (``<x:row>``), which is read whole instead."""
    head = b""
    kept: list[bytes] = []
    first: bytes | None = None
    carry = b""
    with package.archive.open(package.member(part)) as stream:
        while True:
            piece = stream.read(READ_PIECE)
            data = carry + piece if carry else piece
            if not piece:
                cut = len(data)
            else:
                cut = data.rfind(b"</row>")
                cut = 0 if cut < 0 else cut + len(b"</row>")
            begin, carry = 0, data[cut:]
            if first is None:
                prefix = PREFIX.search(data, 0, cut)
                start = prefix.start() if prefix else -1
                row_start = data.find(b"<row", start if start >= 0 else max(cut - 1, 0), cut)
                row_end = data.find(b"</row>", row_start if row_start >= 0 else max(cut - 1, 0), cut)
                if start < 0 or (row_start >= 0 and row_end < 0):
                    carry = data  # the head and first row are not all in yet
                    if piece:
                        continue
                    return data  # an empty or unusual sheet: read as it is
                if prefix is not None and prefix.group(1):
                    return None
                opening_end = data.find(b">", start, cut) + 1
                head = DIMENSION.sub(b"", data[:opening_end])
                if data[opening_end - 2 : opening_end] == b"/>":  # <sheetData/>: no rows
                    return data
                if row_start < 0:
                    first = b""
                else:
                    first = data[row_start : row_end + len(b"</row>")]
                    begin = row_end + len(b"</row>")
            for row in _found_rows(data, begin, cut, needle, probes):
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
    prefix = PREFIX.search(head)
    ns = (prefix.group(1) if prefix else None) or b""
    return head + b"".join(renumbered) + b"</" + ns + b"sheetData></" + ns + b"worksheet>"
