"""Zero-collateral .xlsx writes: change only the cells asked for, copy everything else byte for byte.

openpyxl rewrites the whole package on every save and loses what it does not model (Excel 2010
extension blocks, sparklines, text boxes, rich text, cached formula results...). :func:`patch_workbook`
edits the package instead: every zip member it does not need to change is copied raw (same compressed
bytes, same order, same headers); in the worksheet parts it changes, only the target ``<c>``/``<row>``
elements are rebuilt (see :mod:`.xlsx_sheet`); styles.xml gains a date format only when a date needs one
(see :mod:`.xlsx_styles`); a table or filter that ended at the last data row grows over appended rows.
Whatever it cannot edit safely it refuses with :class:`PatchRefused`, before writing anything, and the
caller falls back to openpyxl.
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO
from xml.etree import ElementTree

from callback_sheets.backends.excel.xlsx.append import grown_filter_name, grown_table_xml
from callback_sheets.backends.excel.xlsx.cells import PatchRefused, parse_ref
from callback_sheets.backends.excel.xlsx.graft import (
    DrawingGraft,
    Graft,
    GraftResult,
    graft_drawing,
    graft_tabs,
    minimal_styles,
    refuse_doctype,
    styles_addition,
)
from callback_sheets.backends.excel.xlsx.graft import _appended as appended_styles
from callback_sheets.backends.excel.xlsx.graft import _children as style_children
from callback_sheets.backends.excel.xlsx.read import CellValue
from callback_sheets.backends.excel.xlsx.remove import (
    Shift,
    refuse_anchors_below,
    remove_rows_xml,
    shifted_names,
    shifted_table_xml,
)
from callback_sheets.backends.excel.xlsx.rules import Rules, TailWriter, with_rules
from callback_sheets.backends.excel.xlsx.sheet import MAIN_NS, SheetPatch, patch_sheet_xml
from callback_sheets.backends.excel.xlsx.styles import StyleBook
from callback_sheets.backends.excel.xlsx.zip_streams import Deflated, prefetched

__all__ = ["CellValue", "Graft", "PatchRefused", "Rules", "patch_workbook", "sheet_tails"]


Content = bytes | Deflated
"""A changed part's new content: its bytes, or the bytes already compressed."""

_RELS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_MAIN = "{" + MAIN_NS.decode() + "}"
_STRICT = "http://purl.oclc.org/ooxml/"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_DESCRIPTOR_SIG = b"PK\x07\x08"
_COPY_CHUNK = 1 << 24
READ_PIECE = 1 << 22
"""How much of a changed sheet part is decompressed at a time."""

_CALC_ENTRY = re.compile(rb"<c\b([^>]*?)/?>")
_CALC_ATTR = re.compile(rb"""\s(r|i)\s*=\s*["']([^"']*)["']""")
_REF = re.compile(rb"[A-Z]{1,3}[1-9][0-9]{0,6}")


def patch_workbook(
    src: Path,
    dst: Path,
    *,
    edits: Mapping[str, Mapping[tuple[int, int], CellValue]] = {},
    appends: Mapping[str, Sequence[Sequence[CellValue]]] = {},
    removals: Mapping[str, Sequence[int]] = {},
    graft: Graft | None = None,
    rules: Mapping[str, Rules] = {},
) -> None:
    """Writes to ``dst`` a copy of ``src`` with ``edits`` and ``appends`` applied, nothing else changed.

    ``edits[sheet][(row, col)]`` (1-based) sets a cell; ``None`` clears its value and keeps its style.
    ``appends[sheet]`` adds rows after the sheet's last row holding a value as it was read (before
    this call's edits); ``removals[sheet]`` deletes rows (1-based) and moves what lies below them up.
    Strings are stored as literal inline strings (never formulas), datetimes as serial numbers with a
    date format, naive datetimes taken as wall-clock values. Raises :class:`PatchRefused` (nothing
    written) when the workbook cannot be edited safely, ``ValueError`` for an unknown sheet or a bad
    address. ``graft`` adds whole tabs (see :mod:`.xlsx_graft`): new parts are written after the
    existing ones, and only the package parts that list them gain entries. Dates follow the workbook's
    date system (1900 or 1904); a package without styles.xml gets one when a date or a grafted tab
    needs it. ``rules[sheet]`` adds data validations and conditional formats to a sheet (see
    :mod:`.xlsx_rules`), their differential formats appended to styles.xml.
    """
    if Path(src).resolve() == Path(dst).resolve():
        raise ValueError("patch_workbook writes a new file: dst must differ from src")
    with open(src, "rb") as source:
        if source.read(len(_OLE_MAGIC)) == _OLE_MAGIC:
            raise PatchRefused("the workbook is encrypted (password to open) or a legacy .xls file")
        if not zipfile.is_zipfile(source):
            raise PatchRefused("the workbook is not a zip package")
        with zipfile.ZipFile(source) as archive:
            changed, added = _changed_parts(archive, edits, appends, removals, graft, rules)
        _write_package(source, changed, added, dst)


def _changed_parts(
    archive: zipfile.ZipFile,
    edits: Mapping[str, Mapping[tuple[int, int], CellValue]],
    appends: Mapping[str, Sequence[Sequence[CellValue]]],
    removals: Mapping[str, Sequence[int]] = {},
    graft: Graft | None = None,
    rules: Mapping[str, Rules] = {},
) -> tuple[dict[str, Content], dict[str, bytes]]:
    """Member name -> new content, for every part the patch changes; and the parts it adds."""
    package = _Package(archive)
    rules = {name: r for name, r in rules.items() if r}
    unknown = (set(edits) | set(appends) | set(removals) | set(rules)) - {n for n, _, _ in package.sheets}
    if unknown:
        raise ValueError(f"no sheet named {sorted(unknown)[0]!r}")
    styles = StyleBook(package.read(package.styles) if package.styles else minimal_styles())
    changed: dict[str, Content] = {}
    added: dict[str, bytes] = {}
    workbook_xml = package.workbook_xml
    source_styles = package.read(package.styles) if package.styles else minimal_styles()
    style_prefix = _styles_prefix(source_styles)
    dxf_base = len(style_children(source_styles, style_prefix, b"dxfs"))  # StyleBook adds no dxfs
    dxfs: list[bytes] = []
    tails: dict[str, Callable[[bytes], bytes]] = {}
    for name, sheet_rules in list(rules.items()):
        if sheet_rules.chart is not None:
            sheet_rules = rules[name] = _with_chart(package, name, sheet_rules, changed, added)
        base = dxf_base + len(dxfs)
        tails[name] = lambda tail, r=sheet_rules, b=base: with_rules(tail, r, b)  # type: ignore[misc]
        dxfs.extend(sheet_rules.dxfs)
    for sheet in [
        name
        for name, _, _ in package.sheets
        if edits.get(name) or appends.get(name) or removals.get(name) or name in tails
    ]:
        workbook_xml = _patch_sheet(
            package, sheet, edits, appends, removals, styles, changed, workbook_xml, tails.get(sheet)
        )
    styles_part, styles_xml = _styles_part(package, styles, changed, added, graft is not None or bool(dxfs))
    if dxfs:
        assert styles_part is not None and styles_xml is not None
        styles_xml = appended_styles(
            styles_xml, style_prefix, b"dxfs", [_prefixed_xml(d, style_prefix) for d in dxfs]
        )
        if package.member(styles_part) in added:
            added[package.member(styles_part)] = styles_xml
        else:
            changed[package.member(styles_part)] = styles_xml
    if graft is not None:
        assert styles_part is not None and styles_xml is not None
        workbook_xml = _graft(package, graft, changed, added, workbook_xml, styles_part, styles_xml)
    if workbook_xml != package.workbook_xml:
        changed[package.workbook] = workbook_xml
    return changed, added


def _patch_sheet(
    package: _Package,
    sheet: str,
    edits: Mapping[str, Mapping[tuple[int, int], CellValue]],
    appends: Mapping[str, Sequence[Sequence[CellValue]]],
    removals: Mapping[str, Sequence[int]],
    styles: StyleBook,
    changed: dict[str, Content],
    workbook_xml: bytes,
    tail: Callable[[bytes], bytes] | None = None,
) -> bytes:
    """Patches one sheet part into ``changed``; returns workbook.xml as the patch leaves it.
    ``tail`` rewrites what follows ``</sheetData>`` (rules added)."""
    part = package.sheet_part(sheet)
    output = Deflated(package.method(part))
    removed = sorted(set(removals.get(sheet, ())))
    if removed and tail is not None:
        raise ValueError("rules are not added in a patch that removes rows from the same sheet")
    if removed and not (edits.get(sheet) or appends.get(sheet)):
        try:
            remove_rows_xml(package.opener(part), removed, output.write)
        finally:
            changed[part] = output.close()
        return package.removed_rows(sheet, part, Shift(removed), changed, workbook_xml)
    patched: list[bytes] = []
    writer = TailWriter(output.write, tail) if tail is not None and not removed else None
    try:
        patch = patch_sheet_xml(
            package.opener(part),
            edits.get(sheet, {}),
            appends.get(sheet, ()),
            styles.style_for,
            patched.append if removed else (writer.write if writer else output.write),
            date1904=package.date1904,
        )
        if writer is not None:
            writer.close()
        if removed:
            remove_rows_xml(lambda patched=patched: iter(patched), removed, output.write)
    finally:
        changed[part] = output.close()
    package.refuse_calc_chain_targets(sheet, patch)
    if patch.last_row_after > patch.last_row_before:
        changed.update(package.grown_tables(part, patch))
    if patch.autofilter is not None:
        workbook_xml = grown_filter_name(workbook_xml, package.sheet_index(sheet), *patch.autofilter)
    if removed:
        workbook_xml = package.removed_rows(sheet, part, Shift(removed), changed, workbook_xml)
    return workbook_xml


def _styles_part(
    package: _Package,
    styles: StyleBook,
    changed: dict[str, Content],
    added: dict[str, bytes],
    grafting: bool,
) -> tuple[str | None, bytes | None]:
    """The styles part's name and bytes after the patch (adding one to a package without it when a
    date or a grafted tab needs it)."""
    styles_part = package.styles
    styles_xml = styles.to_bytes() if styles.changed else (package.read(styles_part) if styles_part else None)
    if styles_part is None and (styles.changed or grafting):
        styles_part, declared = styles_addition(
            read=package.read_or_none,
            names=package.names,
            workbook_part=package.workbook,
            declared=package.dangling_styles,
        )
        changed.update(declared)
        styles_xml = styles.to_bytes() if styles.changed else minimal_styles()
        added[styles_part] = styles_xml
    elif styles.changed and styles_part:
        changed[styles_part] = styles_xml  # type: ignore[assignment]
    return styles_part, styles_xml


def _graft(
    package: _Package,
    graft: Graft,
    changed: dict[str, Content],
    added: dict[str, bytes],
    workbook_xml: bytes,
    styles_part: str,
    styles_xml: bytes,
) -> bytes:
    """Adds the graft's tabs to ``changed``/``added``; returns workbook.xml listing them."""
    result = graft_tabs(
        graft,
        read=_current(package, changed, added),
        names=[*package.names, *added],
        workbook_part=package.workbook,
        workbook_xml=workbook_xml,
        styles_part=styles_part,
        styles_xml=styles_xml,
    )
    _take(package, result, changed, added)
    return result.changed.get(package.workbook, workbook_xml)


def _current(
    package: _Package, changed: Mapping[str, Content], added: Mapping[str, bytes]
) -> Callable[[str], bytes | None]:
    """A part's bytes as this patch has them so far (changed, added, else as read), None when absent."""

    def read(part: str) -> bytes | None:
        name = package.member(part)
        found = changed.get(name, added.get(name))
        return found if isinstance(found, bytes) else package.read_or_none(part)

    return read


def _take(
    package: _Package,
    result: GraftResult | DrawingGraft,
    changed: dict[str, Content],
    added: dict[str, bytes],
) -> None:
    """Puts a graft's parts into this patch: rewritten parts where they already are, new ones added."""
    for name, data in result.changed.items():
        member = package.member(name)
        if member in added:
            added[member] = data
        else:
            changed[member] = data
    added.update(result.added)


def _with_chart(
    package: _Package, sheet: str, rules: Rules, changed: dict[str, Content], added: dict[str, bytes]
) -> Rules:
    """Grafts the drawing ``rules.chart`` names for ``sheet``; the rules with the element linking it."""
    assert rules.chart is not None
    donor, donor_sheet, renames = rules.chart
    result = graft_drawing(
        donor,
        donor_sheet,
        read=_current(package, changed, added),
        names=[*package.names, *added],
        sheet_part=package.sheet_part(sheet),
        renames=renames,
    )
    if result is None:
        return replace(rules, chart=None)
    _take(package, result, changed, added)
    return replace(rules, chart=None, drawing=result.element)


def _styles_prefix(xml: bytes) -> bytes:
    root = re.search(rb"<([A-Za-z_][\w.-]*:)?styleSheet\b", xml)
    return (root.group(1) or b"") if root else b""


def _prefixed_xml(xml: bytes, prefix: bytes) -> bytes:
    if not prefix:
        return xml
    return re.sub(rb"<(/?)(?=[A-Za-z])", lambda m: b"<" + m.group(1) + prefix, xml)


def sheet_tails(path: Path, sheets: Sequence[str]) -> dict[str, bytes]:
    """What follows ``</sheetData>`` in each of ``sheets`` (streamed: the rows are not kept); a sheet
    whose XML the patcher cannot edit (a namespace prefix) is left out."""
    found: dict[str, bytes] = {}
    with zipfile.ZipFile(path) as archive:
        package = _Package(archive)
        present = {name for name, _, _ in package.sheets}
        for sheet in sheets:
            if sheet not in present:
                continue

            def keep(tail: bytes, name: str = sheet) -> bytes:
                found[name] = tail
                return b""

            writer = TailWriter(lambda _chunk: None, keep)
            try:
                for piece in package.opener(package.sheet_part(sheet))():
                    writer.write(piece)
                writer.close()
            except PatchRefused:  # no (unprefixed) sheetData: nothing the patcher adds rules to
                continue
    return found


class _Package:
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

    def opener(self, part: str) -> Callable[[], Iterator[bytes]]:
        """Opens a part afresh on each call and yields its decompressed bytes in pieces."""
        name = self.member(part)
        if name.lower() not in self._by_lower:
            raise PatchRefused(f"the package has no part {part!r}")

        def pieces() -> Iterator[bytes]:
            with self.archive.open(self._by_lower[name.lower()]) as stream:
                while piece := stream.read(READ_PIECE):
                    yield piece

        return lambda: prefetched(pieces)

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


def _write_package(
    source: BinaryIO, changed: Mapping[str, Content], added: Mapping[str, bytes], dst: Path
) -> None:
    """Writes the zip: unchanged members copied raw, changed ones recompressed, original order kept;
    added members after them."""
    entries, comment = _central_directory(source)
    with open(dst, "wb") as out:
        central: list[bytes] = []
        for record, name in entries:
            fields = list(_CENTRAL.unpack_from(record))
            flags, method, csize, offset = fields[3], fields[4], fields[8], fields[16]
            source.seek(offset)
            local = source.read(_LOCAL.size)
            header = list(_LOCAL.unpack(local))
            if header[0] != b"PK\x03\x04":
                raise PatchRefused(f"zip member {name!r} has no local header")
            local += source.read(header[9] + header[10])
            fields[16] = out.tell()
            if name in changed:
                if method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise PatchRefused(f"zip member {name!r} uses an unsupported compression method")
                flags &= ~0x08
                content = changed[name]
                deflated = content if isinstance(content, Deflated) else Deflated(method)
                if isinstance(content, bytes):
                    deflated.write(content)
                    deflated.close()
                csize = sum(map(len, deflated.data))
                header[2], header[6], header[7], header[8] = flags, deflated.crc, csize, deflated.size
                out.write(_LOCAL.pack(*header) + local[_LOCAL.size :])
                for data in deflated.data:
                    out.write(data)
                fields[3], fields[7], fields[8], fields[9] = flags, deflated.crc, csize, deflated.size
            else:
                out.write(local)
                _copy(source, out, csize)
                if flags & 0x08:
                    descriptor = source.read(16)
                    out.write(descriptor if descriptor.startswith(_DESCRIPTOR_SIG) else descriptor[:12])
            central.append(_CENTRAL.pack(*fields) + record[_CENTRAL.size :])
        for name, data in added.items():
            central.append(_added_member(out, name, data))
        start = out.tell()
        out.write(b"".join(central))
        size = out.tell() - start
        out.write(_END.pack(b"PK\x05\x06", 0, 0, len(central), len(central), size, start, len(comment)))
        out.write(comment)


def _added_member(out: BinaryIO, name: str, data: bytes) -> bytes:
    """Writes a new deflated member at the current position; returns its central directory record."""
    deflated = Deflated(zipfile.ZIP_DEFLATED)
    deflated.write(data)
    deflated.close()
    csize = sum(map(len, deflated.data))
    raw_name = name.encode("utf-8")
    flags = 0x800 if not raw_name.isascii() else 0
    time, date = 0, (1980 - 1980) << 9 | 1 << 5 | 1  # 1980-01-01 00:00, as Excel writes
    offset = out.tell()
    out.write(_LOCAL.pack(b"PK\x03\x04", 20, flags, zipfile.ZIP_DEFLATED, time, date,
                          deflated.crc, csize, deflated.size, len(raw_name), 0) + raw_name)  # fmt: skip
    for piece in deflated.data:
        out.write(piece)
    return _CENTRAL.pack(b"PK\x01\x02", 20, 20, flags, zipfile.ZIP_DEFLATED, time, date, deflated.crc,
                         csize, deflated.size, len(raw_name), 0, 0, 0, 0, 0, offset) + raw_name  # fmt: skip


def _central_directory(source: BinaryIO) -> tuple[list[tuple[bytes, str]], bytes]:
    """(raw central record, member name) for each member, and the zip comment; refuses zip64."""
    source.seek(0, 2)
    length = source.tell()
    source.seek(max(0, length - (1 << 16) - _END.size))
    tail = source.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END.size:
        raise PatchRefused("the zip package has no end-of-directory record")
    _sig, disk, cd_disk, _here, count, size, offset, comment_length = _END.unpack_from(tail, at)
    comment = tail[at + _END.size : at + _END.size + comment_length]
    if disk or cd_disk or 0xFFFF in (count,) or 0xFFFFFFFF in (size, offset):
        raise PatchRefused("the zip package is split or uses zip64")
    if offset + size != length - (len(tail) - at):
        raise PatchRefused("the zip package has data around its central directory")
    source.seek(offset)
    directory = source.read(size)
    entries: list[tuple[bytes, str]] = []
    pos = 0
    for _ in range(count):
        fields = _CENTRAL.unpack_from(directory, pos)
        if fields[0] != b"PK\x01\x02":
            raise PatchRefused("the zip package's central directory is damaged")
        end = pos + _CENTRAL.size + fields[10] + fields[11] + fields[12]
        raw_name = directory[pos + _CENTRAL.size : pos + _CENTRAL.size + fields[10]]
        name = raw_name.decode("utf-8" if fields[3] & 0x800 else "cp437")
        if 0xFFFFFFFF in (fields[8], fields[9], fields[16]):
            raise PatchRefused("the zip package uses zip64")
        entries.append((directory[pos:end], name))
        pos = end
    return entries, comment


def _copy(source: BinaryIO, out: BinaryIO, size: int) -> None:
    while size > 0:
        chunk = source.read(min(size, _COPY_CHUNK))
        if not chunk:
            raise PatchRefused("a zip member is truncated")
        out.write(chunk)
        size -= len(chunk)
