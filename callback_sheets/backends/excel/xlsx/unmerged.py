"""A cheaper calamine read of big sheets: the package handed to calamine in memory, uncompressed, each
sheet read with an empty ``<mergeCells>`` just before its ``<sheetData>``.

python-calamine's ``get_sheet_by_name`` reads a sheet twice: once for its cells, then again from the
start for its merged cells (which this tool never uses), until ``<mergeCells>`` or the end: on a 3.7 MB
sheet the second pass is about 40% of the read, and calamine inflates the sheet in each pass. Here the
sheet is inflated once (zlib, in C), an empty ``<mergeCells></mergeCells>`` is put before
``<sheetData>`` (the cell reader skips everything before ``<sheetData>`` but the dimension, so the cells
read are the same; the merged-cell pass stops there), and calamine reads the copy without inflating.
The other parts go along as they are (other worksheets empty). Anything unusual (a sheet not found by
the workbook's relationships, prefixed or not UTF-8, a comment or CDATA before ``<sheetData>``, sizes
out of bounds) returns None: the caller reads the file itself.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Callable, Sequence
from xml.parsers import expat

import python_calamine

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

MIN_BYTES = 1 << 20
"""Sheets smaller than this together are read by calamine from the file (the copy costs more)."""
MAX_BYTES = 16 << 20
"""A bigger sheet is read from the file too: its copies in memory would cost more than they save."""
MAX_OTHER_BYTES = 8 << 20
"""Nor when the other parts copied along (images...) are bigger than this."""

_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MERGE = b"<mergeCells></mergeCells>"
_EMPTY_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>'
)


def read_raw(
    path: Path, sheets: Sequence[str], *, min_bytes: int = MIN_BYTES
) -> dict[str, Sequence[Sequence[object]]] | None:
    """calamine's ``to_python(skip_empty_area=False)`` of each sheet named (names as the workbook spells
    them), or None when this way does not apply (see the module's docstring)."""
    with zipfile.ZipFile(path) as archive:
        parts = _worksheet_parts(archive)
        if parts is None or any(name not in parts for name in sheets):
            return None
        by_lower = {info.filename.lower(): info for info in archive.infolist()}
        wanted = {by_lower[parts[name].lower()].filename for name in sheets}
        worksheets = {info.filename for p in parts.values() if (info := by_lower.get(p.lower()))}
        infos = archive.infolist()
        size = sum(i.file_size for i in infos if i.filename in wanted)
        other = sum(i.file_size for i in infos if i.filename not in worksheets)
        if not min_bytes <= size <= MAX_BYTES or other > MAX_OTHER_BYTES:
            return None
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
            for info in infos:
                if info.filename in wanted:
                    xml = archive.read(info)
                    at = _merge_at(xml)
                    if at < 0:
                        return None
                    with copy.open(info.filename, "w") as part:  # no joined copy of the sheet
                        part.write(memoryview(xml)[:at])
                        part.write(_MERGE)
                        part.write(memoryview(xml)[at:])
                    del xml
                elif info.filename in worksheets:
                    copy.writestr(info.filename, _EMPTY_SHEET)
                elif not info.is_dir():
                    copy.writestr(info.filename, archive.read(info))
    out.seek(0)
    workbook = python_calamine.CalamineWorkbook.from_filelike(out)
    del out
    try:
        return {name: workbook.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in sheets}
    finally:
        workbook.close()


def _merge_at(xml: bytes) -> int:
    """Where the empty ``<mergeCells>`` goes: at the sheet's ``<sheetData>``; -1 when that is not plain
    to do (no unprefixed ``<sheetData>``, or a comment, CDATA or merged cells before it)."""
    at = xml.find(b"<sheetData")
    if at < 0 or xml[at + len(b"<sheetData") : at + len(b"<sheetData") + 1] not in (b">", b"/", b" "):
        return -1
    head = xml[:at]
    if b"<!--" in head or b"<![CDATA[" in head or b"mergeCells" in head or b"<worksheet" not in head:
        return -1
    return at


def _worksheet_parts(archive: zipfile.ZipFile) -> dict[str, str] | None:
    """Sheet name -> its worksheet part, through the package's relationships; None if anything is
    missing or ambiguous."""
    names = {info.filename.lower(): info.filename for info in archive.infolist()}

    def read(part: str) -> bytes | None:
        name = names.get(part.lower())
        return None if name is None else archive.read(name)

    try:
        root = _relationships(read("_rels/.rels"))
        documents = [target for kind, target, _ in root if kind.endswith("/officeDocument")]
        if len(documents) != 1:
            return None
        book = documents[0].lstrip("/")
        base = posixpath.dirname(book)
        listed = _relationships(read(posixpath.join(base, "_rels", posixpath.basename(book) + ".rels")))
        rels = {rel_id: target for kind, target, rel_id in listed if kind == f"{_DOC}/worksheet"}
        sheets = _sheets(read(book))
    except (ValueError, expat.ExpatError):
        return None
    if sheets is None or len({name for name, _ in sheets}) != len(sheets):
        return None
    parts = {}
    for name, rel_id in sheets:
        target = rels.get(rel_id)
        if target is not None:
            part = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
            parts[name] = part
    return parts


def _relationships(xml: bytes | None) -> list[tuple[str, str, str]]:
    if xml is None:
        raise ValueError("no relationships part")
    found: list[tuple[str, str, str]] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == f"{_REL} Relationship" and attrs.get("TargetMode", "Internal") == "Internal":
            found.append((attrs.get("Type", ""), attrs.get("Target", ""), attrs.get("Id", "")))

    _parse(xml, start)
    return found


def _sheets(xml: bytes | None) -> list[tuple[str, str]] | None:
    """The workbook's (sheet name, relationship id), in order; None for an unexpected workbook part."""
    if xml is None:
        return None
    found: list[tuple[str, str]] = []
    rid = f"{_DOC} id"

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "http://schemas.openxmlformats.org/spreadsheetml/2006/main sheet":
            found.append((attrs.get("name", ""), attrs.get(rid, "")))

    _parse(xml, start)
    return found


def _parse(xml: bytes, start: Callable[[str, dict[str, str]], None]) -> None:
    parser = expat.ParserCreate(namespace_separator=" ")

    def doctype(*_args: object) -> None:
        raise ValueError("a document type declaration")

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.StartElementHandler = start
    parser.Parse(xml, True)
