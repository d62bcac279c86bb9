"""XML-level hostility in an .xlsx package, refused before anything reads it in earnest.

An .xlsx never needs a document type declaration, so any part declaring one (the way entity-expansion
bombs work) is refused; so is a shared string longer than Excel's 32,767-character cell limit (a small
table that a reader would expand into gigabytes, one copy per cell), and, before `init` adds tabs, any
XML part that is not well-formed. Parsing is streamed with expat (nothing is built) and bounded in size.
Zip-level limits (member counts, sizes, ratios) belong to the package reader and are not checked here.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.parsers import expat

from callback_sheets.errors import BackendError

MAX_TEXT = 32_767
"""Excel's limit on the characters of one cell's text."""
MAX_XML_BYTES = 2 << 30
"""Uncompressed XML `init` is willing to check in one package."""
_PIECE = 1 << 20
_XML_SUFFIXES = (".xml", ".rels")
_HEAD_SUFFIXES = (".xml", ".rels", ".vml")


class HostileWorkbook(BackendError):
    """The package carries something no real workbook needs and readers could be attacked with."""


def check_heads(path: Path, *, limits: bool = False) -> None:
    """Refuses a package whose XML parts declare a document type (cheap: reads only their start); with
    ``limits``, first a package over the zip limits (PackageRefused, as ``xlsx.read.check_package``
    refuses it), through the same open file."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        if limits:
            from callback_sheets.backends.excel.xlsx.read import check_members

            check_members(infos, Path(path).name)
        for info in infos:
            if info.filename.lower().endswith(_HEAD_SUFFIXES) and info.file_size:
                with archive.open(info) as stream:
                    _refuse_doctype(stream.read(4096), path, info.filename)


def check_package(path: Path) -> None:
    """Refuses a package with a document type declaration, an over-long shared string, or an XML part
    that is not well-formed. Raises :class:`HostileWorkbook` with one line naming the part."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackendError(f"cannot open {path.name}: {exc}; is it an .xlsx workbook?") from None
    with archive:
        total = sum(i.file_size for i in archive.infolist() if i.filename.lower().endswith(_XML_SUFFIXES))
        if total > MAX_XML_BYTES:
            raise HostileWorkbook(f"{path.name} holds {total >> 20} MiB of XML, more than init will read")
        for info in archive.infolist():
            name = info.filename
            lower = name.lower()
            if lower.endswith(".vml") and info.file_size:
                with archive.open(info) as stream:
                    _refuse_doctype(stream.read(4096), path, name)
            if not lower.endswith(_XML_SUFFIXES) or not info.file_size:
                continue
            _check_part(archive, info, path, shared=lower.endswith("sharedstrings.xml"))


def _check_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, *, shared: bool) -> None:
    parser = expat.ParserCreate()
    name = info.filename

    def doctype(*_args: object) -> None:
        raise HostileWorkbook(
            f"{path.name} is refused: {name} declares a document type (XML entities), which an .xlsx "
            "never needs"
        )

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    if shared:
        length = [0]

        def start(tag: str, _attrs: object) -> None:
            if tag.endswith("si") and tag.rsplit(":", 1)[-1] == "si":
                length[0] = 0

        def text(data: str) -> None:
            length[0] += len(data)
            if length[0] > MAX_TEXT:
                raise HostileWorkbook(
                    f"{path.name} is refused: {name} holds a text longer than Excel's {MAX_TEXT:,}-character "
                    "cell limit (it would expand to gigabytes when read)"
                )

        parser.StartElementHandler = start
        parser.CharacterDataHandler = text
    try:
        with archive.open(info) as stream:
            while piece := stream.read(_PIECE):
                parser.Parse(piece, False)
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise HostileWorkbook(f"{path.name} is damaged: {name} is not well-formed XML ({exc})") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise HostileWorkbook(f"{path.name} is damaged: {name} cannot be read ({exc})") from None


def _refuse_doctype(head: bytes, path: Path, part: str) -> None:
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise HostileWorkbook(
            f"{path.name} is refused: {part} declares a document type (XML entities), "
            "which an .xlsx never needs"
        )
