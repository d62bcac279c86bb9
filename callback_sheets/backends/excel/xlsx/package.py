"""The parts of an .xlsx package the patcher consults: the workbook, its relationships, the sheets and
their tables, styles, the calculation chain; each part read (case-insensitively, as OPC names are) or
streamed in pieces. Refuses what the patcher cannot edit safely (Strict Open XML, duplicate or encrypted
members, a package that does not name exactly one workbook)."""

from __future__ import annotations

import posixpath
import re
import zipfile
from typing import TYPE_CHECKING
from xml.etree import ElementTree

from callback_sheets.backends.excel.xlsx.append import grown_table_xml
from callback_sheets.backends.excel.xlsx.cells import PatchRefused, parse_ref
from callback_sheets.backends.excel.xlsx.markup import refuse_doctype
from callback_sheets.backends.excel.xlsx.member import Member
from callback_sheets.backends.excel.xlsx.sheet import SheetPatch
from callback_sheets.backends.excel.xlsx.sheet_reader import MAIN_NS
from callback_sheets.backends.excel.xlsx.zip_streams import Deflated

if TYPE_CHECKING:
    from callback_sheets.backends.excel.xlsx.remove import Shift

Content = bytes | Deflated
"""A changed part's new content: its bytes, or the bytes already compressed."""
_RELS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_MAIN = "{" + MAIN_NS.decode() + "}"
_STRICT = "http://purl.oclc.org/ooxml/"
READ_PIECE = 1 << 22
"""How much of a changed sheet part is decompressed at a time."""

_CALC_ENTRY = re.compile(rb"<c\b([^>]*?)/?>")
_CALC_ATTR = re.compile(rb"""\s(r|i)\s*=\s*["']([^"']*)["']""")
_REF = re.compile(rb"[A-Z]{1,3}[1-9][0-9]{0,6}")


class Package:
    """The parts of the package the patcher consults: workbook, its relationships, sheets, tables."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        names = [info.filename for info in archive.infolist()]
        if len(set(names)) != len(names):
            raise PatchRefused("the zip package holds two members with the same name")
        if any(info.flag_bits & 1 for info in archive.infolist()):
            raise PatchRefused("the zip package has encrypted members")
        self._by_lower = {name.lower(): name for name in names}
        self.names = names
        root_rels = self._relationships("")
        documents = [target for kind, target in root_rels.values() if kind.endswith("/officeDocument")]
        if any(kind.startswith(_STRICT) for kind, _ in root_rels.values()):
            raise PatchRefused("the workbook is saved as Strict Open XML, which the patcher does not edit")
        if len(documents) != 1:
            raise PatchRefused("the package does not name exactly one workbook part")
        self.workbook = self.member(documents[0])
        self.workbook_xml = self.read(self.workbook)
        root = _parse(self.workbook_xml, self.workbook)
        if root.tag != f"{_MAIN}workbook":
            raise PatchRefused("the workbook is not in the transitional SpreadsheetML namespace")
        properties = root.find(f"{_MAIN}workbookPr")
        self.date1904 = properties is not None and properties.get("date1904", "0").lower() in ("1", "true")
        self.rels = self._relationships(self.workbook)
        self.sheets = [
            (sheet.get("name", ""), sheet.get("sheetId", ""), sheet.get(_R_ID, ""))
            for sheet in root.iterfind(f"{_MAIN}sheets/{_MAIN}sheet")
        ]
        styles = [target for kind, target in self.rels.values() if kind == _DOC_RELS + "styles"]
        self.styles = self.member(styles[0]) if styles else None
        self.dangling_styles: str | None = None  # a styles relationship to a part that is not there
        if self.styles is not None and self.styles.lower() not in self._by_lower:
            self.dangling_styles, self.styles = self.styles, None
        chains = [target for kind, target in self.rels.values() if kind == _DOC_RELS + "calcChain"]
        self.calc_chain = self.member(chains[0]) if chains else None

    def read(self, part: str) -> bytes:
        """A part's bytes, looked up case-insensitively as OPC part names are."""
        name = self._by_lower.get(part.lower())
        if name is None:
            raise PatchRefused(f"the package has no part {part!r}")
        return self.archive.read(name)

    def read_or_none(self, part: str) -> bytes | None:
        name = self._by_lower.get(part.lower())
        return None if name is None else self.archive.read(name)

    def opener(self, part: str) -> Member:
        """Opens a part afresh on each call and yields its decompressed bytes in pieces (its old
        compressed blocks in :attr:`.Member.blocks`)."""
        name = self._by_lower.get(self.member(part).lower())
        if name is None:
            raise PatchRefused(f"the package has no part {part!r}")
        return Member(self.archive, name, READ_PIECE)

    def method(self, part: str) -> int:
        """The compression method of a part's zip member."""
        return self.archive.getinfo(self.member(part)).compress_type

    def member(self, part: str) -> str:
        return self._by_lower.get(part.lower(), part)

    def sheet_index(self, sheet: str) -> int:
        return [name for name, _, _ in self.sheets].index(sheet)

    def sheet_part(self, sheet: str) -> str:
        rel_id = next(rel for name, _, rel in self.sheets if name == sheet)
        kind, target = self.rels.get(rel_id, ("", ""))
        if kind != _DOC_RELS + "worksheet":
            raise PatchRefused(f"sheet {sheet!r} is not a worksheet part")
        return self.member(target)

    def grown_tables(self, part: str, patch: SheetPatch) -> dict[str, Content]:
        """Table parts of the sheet whose range ended within the old data, extended over the new rows."""
        grown: dict[str, Content] = {}
        for kind, target in self._relationships(part).values():
            if kind != _DOC_RELS + "table":
                continue
            xml = grown_table_xml(self.read(target), target, patch.last_row_before, patch.last_row_after)
            if xml is None:
                continue
            grown[self.member(target)] = xml
        return grown

    def removed_rows(
        self, sheet: str, part: str, shift: Shift, changed: dict[str, Content], workbook_xml: bytes
    ) -> bytes:
        """After rows left ``sheet``: its tables shrink, its comments and drawings are checked to lie
        above the removed rows, and the defined names into it move (the new workbook.xml)."""
        from callback_sheets.backends.excel.xlsx.remove import (
            refuse_anchors_below,
            shifted_names,
            shifted_table_xml,
        )

        for kind, target in self._relationships(part).values():
            if kind == _DOC_RELS + "table":
                current = changed.get(self.member(target))
                xml = current if isinstance(current, bytes) else self.read(target)
                changed[self.member(target)] = shifted_table_xml(xml, shift)
            elif kind == _DOC_RELS + "comments":
                refuse_anchors_below("comments", self.read(target), shift)
            elif kind == _DOC_RELS + "vmlDrawing":
                refuse_anchors_below("vml", self.read(target), shift)
            elif kind == _DOC_RELS + "drawing":
                refuse_anchors_below("drawing", self.read(target), shift)
            elif kind.endswith("/threadedComment"):
                raise PatchRefused("the sheet has threaded comments, which cannot move with removed rows")
        return shifted_names(workbook_xml, sheet, shift)

    def refuse_calc_chain_targets(self, sheet: str, patch: SheetPatch) -> None:
        """Refuses when calcChain.xml lists a cell the patch turns into a plain value."""
        if self.calc_chain is None:
            return
        sheet_id = next(sid for name, sid, _ in self.sheets if name == sheet).encode()
        current = b""
        for match in _CALC_ENTRY.finditer(self.read(self.calc_chain)):
            attrs: dict[bytes, bytes] = {m.group(1): m.group(2) for m in _CALC_ATTR.finditer(match.group(1))}
            current = attrs.get(b"i", current)
            if (
                current == sheet_id
                and _REF.fullmatch(ref := attrs.get(b"r", b""))
                and patch.wrote(*parse_ref(ref))
            ):
                raise PatchRefused(f"calcChain.xml lists {sheet}!{ref.decode()} as a formula cell")

    def _relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type, target part name) of ``part`` ("" for the package itself)."""
        folder, name = posixpath.split(part)
        rels_part = posixpath.join(folder, "_rels", name + ".rels")
        if rels_part.lower() not in self._by_lower:
            return {}
        result: dict[str, tuple[str, str]] = {}
        for rel in _parse(self.read(rels_part), rels_part).iterfind(f"{_RELS_NS}Relationship"):
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External":
                continue
            resolved = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            result[rel.get("Id", "")] = (rel.get("Type", ""), posixpath.normpath(resolved))
        return result


def _parse(xml: bytes, part: str) -> ElementTree.Element:
    refuse_doctype(xml, part)
    try:
        return ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise PatchRefused(f"{part} is not well-formed XML ({exc})") from exc
