"""Adding whole tabs to an existing .xlsx package without rewriting anything that is there.

The tool's tabs are first built as they would be in a new workbook (a *donor* package, made in memory),
then grafted: each donor sheet part and every part it reaches through its relationships (comments, VML,
drawings, charts...) is added under a fresh name; ``[Content_Types].xml`` gains overrides for them,
``workbook.xml`` gains ``<sheet>`` entries and the donor's defined names (re-indexed ``localSheetId``),
``xl/_rels/workbook.xml.rels`` gains relationships with fresh ids, ``styles.xml`` gains the donor's fonts,
fills, borders, number formats (fresh ids >= 164), cell formats and differential formats (conditional
formatting) with the grafted sheets' indices remapped, and ``docProps/app.xml`` lists the new titles.
Every change to an existing part is an insertion (and a count attribute kept right): no existing entry is
renumbered, reordered or removed. Nothing is read from the donor's sheets but what they hold, so whatever
the layout puts on them (data validations, conditional formats, widths, panes, filters, page setup,
headers and footers, internal hyperlinks, charts) is carried over as it is.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from xml.etree import ElementTree

from callback_sheets.backends.excel.xlsx.cells import PatchRefused, inline_string


def escape(text: str) -> str:
    """``xml.sax.saxutils.escape`` (which imports urllib.request, http and email: 20 ms of a write)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(text: str) -> str:
    """``xml.sax.saxutils.quoteattr``: the value escaped and quoted for an attribute."""
    text = escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' in text:
        if "'" in text:
            return '"' + text.replace('"', "&quot;") + '"'
        return "'" + text + "'"
    return '"' + text + '"'


_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_WORKSHEET_TYPE = _DOC_RELS + "/worksheet"
_STYLES_TYPE = _DOC_RELS + "/styles"
_STYLES_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
# What follows <definedNames> in CT_Workbook: a new <definedNames> goes before the first of these.
_AFTER_DEFINED_NAMES = (
    b"calcPr",
    b"oleSize",
    b"customWorkbookViews",
    b"pivotCaches",
    b"smartTagPr",
    b"smartTagTypes",
    b"webPublishing",
    b"fileRecoveryPr",
    b"webPublishObjects",
    b"extLst",
)
# CT_Stylesheet's children, in order.
_STYLE_ORDER = (
    b"numFmts",
    b"fonts",
    b"fills",
    b"borders",
    b"cellStyleXfs",
    b"cellXfs",
    b"cellStyles",
    b"dxfs",
    b"tableStyles",
    b"colors",
    b"extLst",
)
_CHILD = {
    b"numFmts": b"numFmt",
    b"fonts": b"font",
    b"fills": b"fill",
    b"borders": b"border",
    b"cellXfs": b"xf",
    b"dxfs": b"dxf",
    b"cellStyleXfs": b"xf",
}
_ATTR = re.compile(rb"""\s([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')""")
_COUNT = re.compile(rb"""(\scount\s*=\s*["'])(\d*)(["'])""")
_MINIMAL_STYLES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    b'<fills count="2"><fill><patternFill patternType="none"/></fill>'
    b'<fill><patternFill patternType="gray125"/></fill></fills>'
    b'<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    b'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    b'<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    b'<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    b'<dxfs count="0"/></styleSheet>'
)
"""The styles part added to a package that has none (the patcher then gives dates a date format)."""


@dataclass(frozen=True, slots=True)
class Graft:
    """Tabs to add: a complete donor package, the names of its sheets to take (in order), and the
    name each gets in the workbook (references to it in the donor's formulas and charts follow)."""

    donor: bytes
    sheets: Sequence[str]
    rename: Mapping[str, str] = field(default_factory=dict)


Read = Callable[[str], "bytes | None"]
"""A target part's bytes by part name (case-insensitive), or None when the package lacks it."""


@dataclass(slots=True)
class GraftResult:
    changed: dict[str, bytes]  # existing target parts, rewritten with additions
    added: dict[str, bytes]  # new parts, in the order they should be written


def minimal_styles() -> bytes:
    return _MINIMAL_STYLES


class _Renamer:
    """Fresh target names for donor parts: ``reach(part)`` names a part and, through its relationships,
    every donor part it leads to (``order`` is the order they were reached, ``new_name`` donor -> target).
    A name is fresh when neither it nor its relationships part is among the target's members."""

    def __init__(
        self, names: Sequence[str], read: Callable[[str], bytes], by_lower: Mapping[str, str]
    ) -> None:
        self._taken = {n.lower() for n in names}
        self._read = read
        self._by_lower = by_lower
        self.new_name: dict[str, str] = {}
        self.order: list[str] = []

    def reach(self, part: str) -> None:
        if part in self.new_name:
            return
        folder, base = posixpath.split(part)
        stem, ext = posixpath.splitext(base)
        prefix = stem.rstrip("0123456789") or stem
        number = 1
        while True:
            candidate = posixpath.join(folder, f"{prefix}{number}{ext}")
            if candidate.lower() not in self._taken and _rels_name(candidate).lower() not in self._taken:
                break
            number += 1
        self._taken.add(candidate.lower())
        self.new_name[part] = candidate
        self.order.append(part)
        for _kind, target in _relationships(self._read, self._by_lower, part).values():
            if target.lower() in self._by_lower:
                self.reach(self._by_lower[target.lower()])


def graft_tabs(
    graft: Graft,
    *,
    read: Read,
    names: Sequence[str],
    workbook_part: str,
    workbook_xml: bytes,
    styles_part: str,
    styles_xml: bytes,
) -> GraftResult:
    """The parts to change and add so the donor's ``graft.sheets`` become tabs of the target.

    ``names`` are the target's member names; ``workbook_xml`` and ``styles_xml`` the current content of
    those parts (possibly already changed by the same patch).
    """
    donor = zipfile.ZipFile(io.BytesIO(graft.donor))
    d_by_lower = {n.lower(): n for n in donor.namelist()}

    def d_read(part: str) -> bytes:
        return donor.read(d_by_lower[part.lower()])

    d_workbook = "xl/workbook.xml"
    d_wb_rels = _relationships(d_read, d_by_lower, d_workbook)
    d_root = ElementTree.fromstring(d_read(d_workbook))
    d_sheets = [
        (s.get("name", ""), s.get("state"), s.get(f"{{{_DOC_RELS}}}id", ""))
        for s in d_root.iterfind(f"{_MAIN}sheets/{_MAIN}sheet")
    ]
    d_index = {name: i for i, (name, _, _) in enumerate(d_sheets)}
    missing = [s for s in graft.sheets if s not in d_index]
    if missing:
        raise ValueError(f"the donor has no sheet {missing[0]!r}")

    renamer = _Renamer(names, d_read, d_by_lower)
    new_name, order, reach = renamer.new_name, renamer.order, renamer.reach

    sheet_parts = []
    for sheet in graft.sheets:
        kind, target = d_wb_rels[d_sheets[d_index[sheet]][2]]
        if kind != _WORKSHEET_TYPE:
            raise ValueError(f"donor sheet {sheet!r} is not a worksheet")
        part = d_by_lower[target.lower()]
        sheet_parts.append(part)
        reach(part)

    changed: dict[str, bytes] = {}
    added: dict[str, bytes] = {}
    shared = _shared_strings(d_read, d_by_lower, d_wb_rels)
    renames = {old: new for old, new in graft.rename.items() if old != new}

    # styles
    d_styles = next((t for k, t in d_wb_rels.values() if k == _STYLES_TYPE), None)
    xf_map, dxf_map, new_styles = merge_styles(styles_xml, d_read(d_styles) if d_styles else None)

    for part in order:
        data = d_read(part)
        if part in sheet_parts:
            data = _sheet_xml(data, xf_map, dxf_map, shared)
        if renames and part.lower().endswith(".xml"):
            data = rename_references(data, renames)
        added[new_name[part]] = data
        rels = _rels_name(part)
        if rels.lower() in d_by_lower:
            added[_rels_name(new_name[part])] = _retargeted_rels(d_read(rels), part, d_by_lower, new_name)

    # content types
    ct_xml = read("[Content_Types].xml")
    if ct_xml is None:
        raise PatchRefused("the package has no [Content_Types].xml")
    d_types = _content_types(d_read("[Content_Types].xml"))
    wanted = {new_name[p]: d_types.get(p, "") for p in order}
    changed["[Content_Types].xml"] = _with_content_types(ct_xml, wanted)

    # workbook.xml and its relationships
    wb_rels_part = _rels_name(workbook_part)
    wb_rels = read(wb_rels_part)
    if wb_rels is None:
        raise PatchRefused("the workbook has no relationships part")
    used_ids = set(re.findall(rb"""\sId\s*=\s*["']([^"']*)["']""", wb_rels))
    wb_folder = posixpath.dirname(workbook_part)
    new_rels: list[tuple[bytes, str, str]] = []
    rel_ids = []
    for part in sheet_parts:
        rel_id = _fresh_id(used_ids)
        rel_ids.append(rel_id)
        new_rels.append((rel_id, _WORKSHEET_TYPE, _relative(wb_folder, new_name[part])))
    changed[styles_part] = new_styles
    changed[wb_rels_part] = _with_relationships(wb_rels, new_rels)

    entries = []
    for sheet, rel_id in zip(graft.sheets, rel_ids, strict=True):
        _name, state, _ = d_sheets[d_index[sheet]]
        entries.append((graft.rename.get(sheet, sheet), state, rel_id))
    d_names = [
        (dn.get("name", ""), dn.get("localSheetId"), dn.get("hidden"), dn.text or "")
        for dn in d_root.iterfind(f"{_MAIN}definedNames/{_MAIN}definedName")
    ]
    changed[workbook_part] = _with_sheets(
        workbook_xml, entries, d_names, [n for n, _, _ in d_sheets], list(graft.sheets), renames
    )

    app = read("docProps/app.xml")
    if app is not None:
        titled = _with_titles(app, [name for name, _, _ in entries])
        if titled is not None:
            changed["docProps/app.xml"] = titled
    return GraftResult(changed, added)


def styles_addition(
    *, read: Read, names: Sequence[str], workbook_part: str, declared: str | None = None
) -> tuple[str, dict[str, bytes]]:
    """For a package without a styles part: its new name, and the changed content types and workbook
    relationships that declare it (the part itself is :func:`minimal_styles`, possibly added to)."""
    taken = {n.lower() for n in names}
    folder = posixpath.dirname(workbook_part)
    part = declared or posixpath.join(folder, "styles.xml")
    number = 1
    while part.lower() in taken and declared is None:
        part = posixpath.join(folder, f"styles{number}.xml")
        number += 1
    ct_xml = read("[Content_Types].xml")
    rels_part = _rels_name(workbook_part)
    rels = read(rels_part)
    if ct_xml is None or rels is None:
        raise PatchRefused("the package lacks [Content_Types].xml or the workbook's relationships")
    used = set(re.findall(rb"""\sId\s*=\s*["']([^"']*)["']""", rels))
    changed = {"[Content_Types].xml": _with_content_types(ct_xml, {part: _STYLES_CT})}
    if declared is None:
        new = [(_fresh_id(used), _STYLES_TYPE, _relative(folder, part))]
        changed[rels_part] = _with_relationships(rels, new)
    return part, changed


# --- relationships and content types ---------------------------------------------------------------------
def _rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _relationships(
    read: Callable[[str], bytes], by_lower: Mapping[str, str], part: str
) -> dict[str, tuple[str, str]]:
    rels = _rels_name(part)
    if rels.lower() not in by_lower:
        return {}
    folder = posixpath.dirname(part)
    found: dict[str, tuple[str, str]] = {}
    for rel in ElementTree.fromstring(read(rels)).iterfind(f"{_PKG_RELS}Relationship"):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        found[rel.get("Id", "")] = (rel.get("Type", ""), posixpath.normpath(resolved))
    return found


def _retargeted_rels(
    xml: bytes, part: str, by_lower: Mapping[str, str], new_name: Mapping[str, str]
) -> bytes:
    folder = posixpath.dirname(part)

    def fix(match: re.Match[bytes]) -> bytes:
        tag = match.group(0)
        if b"External" in tag:
            return tag
        target = re.search(rb"""\sTarget\s*=\s*(["'])([^"']*)\1""", tag)
        if target is None:
            return tag
        text = target.group(2).decode()
        resolved = (
            text.lstrip("/") if text.startswith("/") else posixpath.normpath(posixpath.join(folder, text))
        )
        donor = by_lower.get(resolved.lower())
        if donor is None or donor not in new_name:
            return tag
        return tag[: target.start(2)] + ("/" + new_name[donor]).encode() + tag[target.end(2) :]

    return re.sub(rb"<Relationship\b[^>]*>", fix, xml)


def _content_types(xml: bytes) -> dict[str, str]:
    """Part name (no leading slash) -> content type, from the donor's overrides and defaults."""
    root = ElementTree.fromstring(xml)
    defaults = {
        d.get("Extension", "").lower(): d.get("ContentType", "") for d in root.iterfind(f"{_CT}Default")
    }
    overrides = {
        o.get("PartName", "").lstrip("/").lower(): o.get("ContentType", "")
        for o in root.iterfind(f"{_CT}Override")
    }

    class Types(dict[str, str]):
        def get(self, part: str, default: str = "") -> str:  # type: ignore[override]
            found = overrides.get(part.lower())
            if found is None:
                found = defaults.get(posixpath.splitext(part)[1].lstrip(".").lower(), default)
            return found

    return Types()


def _with_content_types(xml: bytes, wanted: Mapping[str, str]) -> bytes:
    root = safe_parse(xml, "[Content_Types].xml")
    defaults = {
        d.get("Extension", "").lower(): d.get("ContentType", "") for d in root.iterfind(f"{_CT}Default")
    }
    overrides = {o.get("PartName", "").lstrip("/").lower() for o in root.iterfind(f"{_CT}Override")}
    prefix = _prefix(xml, b"Types")
    pieces = []
    for part, kind in wanted.items():
        if not kind or part.lower() in overrides:
            continue
        ext = posixpath.splitext(part)[1].lstrip(".").lower()
        if defaults.get(ext) == kind:
            continue
        pieces.append(
            b"<%sOverride PartName=%s ContentType=%s/>"
            % (prefix, quoteattr("/" + part).encode(), quoteattr(kind).encode())
        )
    return _insert_before_close(xml, prefix + b"Types", b"".join(pieces))


def _with_relationships(xml: bytes, rels: Sequence[tuple[bytes, str, str]]) -> bytes:
    prefix = _prefix(xml, b"Relationships")
    pieces = b"".join(
        b"<%sRelationship Id=%s Type=%s Target=%s/>"
        % (prefix, quoteattr(rid.decode()).encode(), quoteattr(kind).encode(), quoteattr(target).encode())
        for rid, kind, target in rels
    )
    return _insert_before_close(xml, prefix + b"Relationships", pieces)


def _fresh_id(used: set[bytes]) -> bytes:
    number = len(used) + 1
    while f"rId{number}".encode() in used:
        number += 1
    rid = f"rId{number}".encode()
    used.add(rid)
    return rid


def _relative(folder: str, part: str) -> str:
    return posixpath.relpath(part, folder) if folder else part


# --- workbook.xml -------------------------------------------------------------------------------------
def _with_sheets(
    xml: bytes,
    entries: Sequence[tuple[str, str | None, bytes]],
    donor_names: Sequence[tuple[str, str | None, str | None, str]],
    donor_sheets: Sequence[str],
    grafted: Sequence[str],
    renames: Mapping[str, str],
) -> bytes:
    root = safe_parse(xml, "workbook.xml")
    present = root.findall(f"{_MAIN}sheets/{_MAIN}sheet")
    ids = [int(s.get("sheetId", "0")) for s in present if (s.get("sheetId") or "").isdigit()]
    next_id = max(ids, default=0) + 1
    prefix = _prefix(xml, b"workbook")
    r_prefix = _bound_prefix(xml, _DOC_RELS.encode())
    sheet_pieces = []
    for offset, (name, state, rel_id) in enumerate(entries):
        if r_prefix is None:
            rid = b' xmlns:r="' + _DOC_RELS.encode() + b'" r:id="' + rel_id + b'"'
        else:
            rid = b" " + r_prefix + b':id="' + rel_id + b'"'
        state_attr = b' state="%s"' % state.encode() if state and state != "visible" else b""
        sheet_pieces.append(
            b'<%ssheet name=%s sheetId="%d"%s%s/>'
            % (prefix, quoteattr(name).encode(), next_id + offset, state_attr, rid)
        )
    xml = _insert_before_close(xml, prefix + b"sheets", b"".join(sheet_pieces))
    existing = {
        (dn.get("name", "").lower(), dn.get("localSheetId")) for dn in root.iter(f"{_MAIN}definedName")
    }
    name_pieces = []
    for name, local, hidden, text in donor_names:
        index: str | None = None
        if local is not None:
            if not local.isdigit() or int(local) >= len(donor_sheets):
                continue
            sheet = donor_sheets[int(local)]
            if sheet not in grafted:
                continue
            index = str(len(present) + list(grafted).index(sheet))
        elif any(f"{s}!" in text or f"'{s}'!" in text for s in donor_sheets if s not in grafted):
            continue
        if (name.lower(), index) in existing:
            continue
        if renames:
            text = rename_references(text.encode(), renames).decode()
        attrs = b" name=" + quoteattr(name).encode()
        if index is not None:
            attrs += b' localSheetId="' + index.encode() + b'"'
        if hidden:
            attrs += b" hidden=" + quoteattr(hidden).encode()
        name_pieces.append(
            b"<%sdefinedName%s>%s</%sdefinedName>" % (prefix, attrs, escape(text).encode(), prefix)
        )
    if not name_pieces:
        return xml
    block = b"".join(name_pieces)
    if re.search(rb"<" + re.escape(prefix) + rb"definedNames\b[^>]*/>", xml):
        return re.sub(
            rb"<" + re.escape(prefix) + rb"definedNames\b([^>]*?)\s*/>",
            lambda m: b"<%sdefinedNames%s>%s</%sdefinedNames>" % (prefix, m.group(1), block, prefix),
            xml,
            count=1,
        )
    if re.search(rb"</" + re.escape(prefix) + rb"definedNames>", xml):
        return _insert_before_close(xml, prefix + b"definedNames", block)
    wrapped = b"<%sdefinedNames>%s</%sdefinedNames>" % (prefix, block, prefix)
    for tag in _AFTER_DEFINED_NAMES:
        match = re.search(rb"<" + re.escape(prefix + tag) + rb"[\s/>]", xml)
        if match is not None:
            return xml[: match.start()] + wrapped + xml[match.start() :]
    return _insert_before_close(xml, prefix + b"workbook", wrapped)


def _with_titles(xml: bytes, titles: Sequence[str]) -> bytes | None:
    """docProps/app.xml with the new tab names added to the "Worksheets" titles, or None to leave it."""
    heading = re.search(rb"<HeadingPairs>\s*<vt:vector\b[^>]*>(.*?)</vt:vector>", xml, re.DOTALL)
    parts = re.search(rb"<TitlesOfParts>\s*<vt:vector\b([^>]*)>(.*?)</vt:vector>", xml, re.DOTALL)
    if heading is None or parts is None or heading.start() > parts.start():
        return None
    pair = re.compile(
        rb"<vt:variant>\s*<vt:lpstr>([^<]*)</vt:lpstr>\s*</vt:variant>\s*<vt:variant>\s*<vt:i4>(\d+)</vt:i4>"
    )
    before = 0
    found = None
    total = 0
    for match in pair.finditer(heading.group(1)):
        if found is None and match.group(1) == b"Worksheets":
            found = match
        elif found is None:
            before += int(match.group(2))
        total += int(match.group(2))
    lpstrs = list(re.finditer(rb"<vt:lpstr>[^<]*</vt:lpstr>", parts.group(2)))
    if found is None or total != len(lpstrs):
        return None
    last = before + int(found.group(2))
    at = lpstrs[last - 1].end() if last else 0
    new = b"".join(b"<vt:lpstr>" + escape(t).encode() + b"</vt:lpstr>" for t in titles)
    body = parts.group(2)[:at] + new + parts.group(2)[at:]
    size = str(len(lpstrs) + len(titles)).encode()
    vector = re.sub(rb"""(\ssize\s*=\s*["'])\d+""", lambda m: m.group(1) + size, parts.group(1), count=1)
    xml = xml[: parts.start(1)] + vector + b">" + body + xml[parts.end(2) :]
    start = heading.start(1) + found.start(2)
    return (
        xml[:start] + str(int(found.group(2)) + len(titles)).encode() + xml[heading.start(1) + found.end(2) :]
    )


# --- the sheet parts ---------------------------------------------------------------------------------------
def _shared_strings(
    read: Callable[[str], bytes], by_lower: Mapping[str, str], rels: Mapping[str, tuple[str, str]]
) -> list[str]:
    part = next((t for k, t in rels.values() if k == _DOC_RELS + "/sharedStrings"), None)
    if part is None or part.lower() not in by_lower:
        return []
    root = ElementTree.fromstring(read(part))
    return ["".join(t.text or "" for t in si.iter(f"{_MAIN}t")) for si in root.iterfind(f"{_MAIN}si")]


def _sheet_xml(
    xml: bytes, xf_map: Mapping[int, int], dxf_map: Mapping[int, int], shared: Sequence[str]
) -> bytes:
    """A donor sheet with its style indices remapped, shared strings made inline, no tab selected."""

    def style(match: re.Match[bytes]) -> bytes:
        number = int(match.group(2))
        return match.group(1) + str(xf_map.get(number, number)).encode() + match.group(3)

    xml = re.sub(rb"""(<(?:c|row)\b[^>]*?\ss=["'])(\d+)(["'])""", style, xml)
    xml = re.sub(rb"""(<col\b[^>]*?\sstyle=["'])(\d+)(["'])""", style, xml)

    def dxf(match: re.Match[bytes]) -> bytes:
        number = int(match.group(2))
        return match.group(1) + str(dxf_map.get(number, number)).encode() + match.group(3)

    xml = re.sub(rb"""(<cfRule\b[^>]*?\sdxfId=["'])(\d+)(["'])""", dxf, xml)
    xml = re.sub(rb"""\stabSelected=["'](?:1|true)["']""", b"", xml)
    if shared:

        def inline(match: re.Match[bytes]) -> bytes:
            attrs = re.sub(rb"""\st=["']s["']""", b"", match.group(1))
            return b"<c" + attrs + b' t="inlineStr">' + inline_string(shared[int(match.group(2))]) + b"</c>"

        xml = re.sub(rb"""<c\b([^>]*\st=["']s["'][^>]*)>\s*<v>(\d+)</v>\s*</c>""", inline, xml)
    return xml


def rename_references(xml: bytes, renames: Mapping[str, str]) -> bytes:
    """Formulas, ranges and sheet names in ``xml`` that refer to a renamed sheet, pointed at its new name."""
    for old, new in renames.items():
        quoted = ("'" + new.replace("'", "''") + "'").encode()
        pattern = rb"(?<![\w.'])(?:'" + re.escape(old.encode()) + rb"'|" + re.escape(old.encode()) + rb")!"
        xml = re.sub(pattern, quoted.replace(b"\\", b"\\\\") + b"!", xml)
    return xml


# --- styles.xml -------------------------------------------------------------------------------------------
def merge_styles(target: bytes, donor: bytes | None) -> tuple[dict[int, int], dict[int, int], bytes]:
    """The donor's cell and differential formats appended to ``target``: (donor xf index -> target
    index, donor dxf index -> target index, new styles.xml). Existing entries keep their indices."""
    if donor is None:
        return {}, {}, target
    root = re.search(rb"<([A-Za-z_][\w.-]*:)?styleSheet\b", target)
    if root is None:
        raise PatchRefused("styles.xml has no <styleSheet> root")
    prefix = root.group(1) or b""
    d_num = {int(a[b"numFmtId"]): a for a in (_attrs(e) for e in _children(donor, b"", b"numFmts"))}
    t_num_ids = [
        int(a.get(b"numFmtId", b"0"))
        for a in (_attrs(e) for e in _children(target, prefix, b"numFmts"))
        if a.get(b"numFmtId", b"").isdigit()
    ]
    next_num = max([163, *t_num_ids]) + 1
    num_map: dict[int, int] = {}
    new_nums = []
    for old, attrs in d_num.items():
        if old < 164:
            continue
        num_map[old] = next_num
        new_nums.append(
            b'<numFmt numFmtId="%d" formatCode="%s"/>' % (next_num, attrs.get(b"formatCode", b""))
        )
        next_num += 1
    maps: dict[bytes, dict[int, int]] = {}
    additions: dict[bytes, list[bytes]] = {b"numFmts": new_nums}
    for collection, reserved in ((b"fonts", 1), (b"fills", 2), (b"borders", 1)):
        d_items = _children(donor, b"", collection)
        base = len(_children(target, prefix, collection))
        mapping = {i: i for i in range(min(reserved, base))}
        extra: list[bytes] = []
        for index, item in enumerate(d_items):
            if index in mapping:
                continue
            mapping[index] = base + len(extra)
            extra.append(item)
        maps[collection] = mapping
        additions[collection] = extra
    d_xfs = _children(donor, b"", b"cellXfs")
    t_xf_count = len(_children(target, prefix, b"cellXfs"))
    has_style_xf = bool(_children(target, prefix, b"cellStyleXfs"))
    xf_map: dict[int, int] = {0: 0} if t_xf_count else {}
    new_xfs: list[bytes] = []
    for index, xf in enumerate(d_xfs):
        if index in xf_map:
            continue
        xf = _remap_attr(xf, b"numFmtId", num_map)
        xf = _remap_attr(xf, b"fontId", maps[b"fonts"])
        xf = _remap_attr(xf, b"fillId", maps[b"fills"])
        xf = _remap_attr(xf, b"borderId", maps[b"borders"])
        if not has_style_xf:
            xf = re.sub(rb"""\sxfId=["']\d+["']""", b"", xf, count=1)
        xf_map[index] = t_xf_count + len(new_xfs)
        new_xfs.append(xf)
    additions[b"cellXfs"] = new_xfs
    d_dxfs = _children(donor, b"", b"dxfs")
    t_dxf_count = len(_children(target, prefix, b"dxfs"))
    dxf_map = {i: t_dxf_count + i for i in range(len(d_dxfs))}
    additions[b"dxfs"] = d_dxfs
    xml = target
    for collection in _STYLE_ORDER:
        items = additions.get(collection)
        if items:
            xml = _appended(xml, prefix, collection, [_prefixed(i, prefix) for i in items])
    return xf_map, dxf_map, xml


def _children(xml: bytes, prefix: bytes, collection: bytes) -> list[bytes]:
    p = re.escape(prefix)
    block = re.search(rb"<" + p + collection + rb"\b[^>]*?(/?)>", xml)
    if block is None or block.group(1):
        return []
    close = xml.find(b"</" + prefix + collection + b">", block.end())
    if close < 0:
        raise PatchRefused(f"styles.xml's <{collection.decode()}> is not closed")
    child = re.escape(_CHILD[collection])
    pattern = rb"<" + p + child + rb"\b[^>]*?(?:/>|>.*?</" + p + child + rb">)"
    return re.findall(pattern, xml[block.end() : close], re.DOTALL)


def _appended(xml: bytes, prefix: bytes, collection: bytes, items: Sequence[bytes]) -> bytes:
    p = re.escape(prefix)
    block = re.search(rb"<" + p + collection + rb"\b([^>]*?)(/?)>", xml)
    joined = b"".join(items)
    if block is None:
        new = b'<%s%s count="%d">%s</%s%s>' % (prefix, collection, len(items), joined, prefix, collection)
        later = _STYLE_ORDER[_STYLE_ORDER.index(collection) + 1 :]
        for tag in later:
            match = re.search(rb"<" + p + tag + rb"[\s/>]", xml)
            if match is not None:
                return xml[: match.start()] + new + xml[match.start() :]
        return _insert_before_close(xml, prefix + b"styleSheet", new)
    existing = len(_children(xml, prefix, collection))
    attrs = block.group(1)
    counted = _COUNT.search(attrs)
    total = str(existing + len(items)).encode()
    if counted is not None:
        attrs = attrs[: counted.start(2)] + total + attrs[counted.end(2) :]
    else:
        attrs = attrs + b' count="' + total + b'"'
    tag = b"<" + prefix + collection + attrs
    if block.group(2):
        return (
            xml[: block.start()]
            + tag
            + b">"
            + joined
            + b"</"
            + prefix
            + collection
            + b">"
            + xml[block.end() :]
        )
    close = xml.find(b"</" + prefix + collection + b">", block.end())
    return xml[: block.start()] + tag + b">" + xml[block.end() : close] + joined + xml[close:]


def _remap_attr(xml: bytes, name: bytes, mapping: Mapping[int, int]) -> bytes:
    def fix(match: re.Match[bytes]) -> bytes:
        number = int(match.group(2))
        return match.group(1) + str(mapping.get(number, number)).encode() + match.group(3)

    head_end = xml.find(b">")
    head = re.sub(rb"(\s" + name + rb"""=["'])(\d+)(["'])""", fix, xml[:head_end], count=1)
    return head + xml[head_end:]


def _prefixed(xml: bytes, prefix: bytes) -> bytes:
    if not prefix:
        return xml
    return re.sub(rb"<(/?)(?=[A-Za-z])", lambda m: b"<" + m.group(1) + prefix, xml)


def _attrs(element: bytes) -> dict[bytes, bytes]:
    head = element[: element.find(b">")]
    return {m.group(1): m.group(2)[1:-1] for m in _ATTR.finditer(head)}


# --- XML helpers ------------------------------------------------------------------------------------------
def _prefix(xml: bytes, root: bytes) -> bytes:
    match = re.search(rb"<([A-Za-z_][\w.-]*:)?" + root + rb"[\s>/]", xml)
    return (match.group(1) or b"") if match else b""


def _bound_prefix(xml: bytes, namespace: bytes) -> bytes | None:
    match = re.search(rb"""xmlns:([\w.-]+)\s*=\s*["']""" + re.escape(namespace) + rb"""["']""", xml)
    return match.group(1) if match else None


def _insert_before_close(xml: bytes, tag: bytes, content: bytes) -> bytes:
    close = xml.rfind(b"</" + tag + b">")
    if close < 0:
        empty = re.search(rb"<" + re.escape(tag) + rb"\b([^>]*?)\s*/>", xml)
        if empty is None:
            raise PatchRefused(f"<{tag.decode()}> is not where it should be")
        return (
            xml[: empty.start()]
            + b"<"
            + tag
            + empty.group(1)
            + b">"
            + content
            + b"</"
            + tag
            + b">"
            + xml[empty.end() :]
        )
    return xml[:close] + content + xml[close:]


def safe_parse(xml: bytes, part: str) -> ElementTree.Element:
    """Parses a package part, refusing document type declarations (entity expansion)."""
    refuse_doctype(xml, part)
    try:
        return ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise PatchRefused(f"{part} is not well-formed XML ({exc})") from None


def refuse_doctype(xml: bytes, part: str) -> None:
    head = xml[:4096]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head or b"<!doctype" in head:
        raise PatchRefused(f"{part} declares a document type (XML entities), which an .xlsx never needs")


# --- a drawing (the Metrics chart) added to a sheet that exists -------------------------------------------
_DRAWING_TYPE = _DOC_RELS + "/drawing"
_RELS_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>'
)


@dataclass(slots=True)
class DrawingGraft:
    element: bytes  # the <drawing> element for the sheet's XML
    changed: dict[str, bytes]
    added: dict[str, bytes]


def graft_drawing(
    donor: bytes,
    sheet: str,
    *,
    read: Read,
    names: Sequence[str],
    sheet_part: str,
    renames: Mapping[str, str] = {},
) -> DrawingGraft | None:
    """The donor sheet's drawing (and the charts it holds) for the target's ``sheet_part``: new parts
    under fresh names, the content types and the sheet's relationships that list them, and the
    ``<drawing>`` element; None when the donor sheet has no drawing."""
    package = zipfile.ZipFile(io.BytesIO(donor))
    by_lower = {n.lower(): n for n in package.namelist()}

    def d_read(part: str) -> bytes:
        return package.read(by_lower[part.lower()])

    wb_rels = _relationships(d_read, by_lower, "xl/workbook.xml")
    root = ElementTree.fromstring(d_read("xl/workbook.xml"))
    rel_id = next(
        (
            s.get(f"{{{_DOC_RELS}}}id", "")
            for s in root.iterfind(f"{_MAIN}sheets/{_MAIN}sheet")
            if s.get("name") == sheet
        ),
        None,
    )
    if rel_id is None or rel_id not in wb_rels:
        return None
    d_sheet = by_lower[wb_rels[rel_id][1].lower()]
    drawing = next(
        (t for k, t in _relationships(d_read, by_lower, d_sheet).values() if k == _DRAWING_TYPE), None
    )
    if drawing is None or drawing.lower() not in by_lower:
        return None
    renamer = _Renamer(names, d_read, by_lower)
    new_name, order = renamer.new_name, renamer.order
    renamer.reach(by_lower[drawing.lower()])
    added: dict[str, bytes] = {}
    for part in order:
        data = d_read(part)
        if renames and part.lower().endswith(".xml"):
            data = rename_references(data, renames)
        added[new_name[part]] = data
        rels = _rels_name(part)
        if rels.lower() in by_lower:
            added[_rels_name(new_name[part])] = _retargeted_rels(d_read(rels), part, by_lower, new_name)
    changed: dict[str, bytes] = {}
    ct_xml = read("[Content_Types].xml")
    if ct_xml is None:
        raise PatchRefused("the package has no [Content_Types].xml")
    types = _content_types(d_read("[Content_Types].xml"))
    changed["[Content_Types].xml"] = _with_content_types(
        ct_xml, {new_name[p]: types.get(p, "") for p in order}
    )
    rels_part = _rels_name(sheet_part)
    existing = read(rels_part)
    used = set(re.findall(rb"""\sId\s*=\s*["']([^"']*)["']""", existing or b""))
    rid = _fresh_id(used)
    link = [(rid, _DRAWING_TYPE, _relative(posixpath.dirname(sheet_part), new_name[order[0]]))]
    if existing is None:
        added[rels_part] = _with_relationships(_RELS_XML, link)
    else:
        changed[rels_part] = _with_relationships(existing, link)
    element = b'<drawing xmlns:r="' + _DOC_RELS.encode() + b'" r:id="' + rid + b'"/>'
    return DrawingGraft(element, changed, added)
