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

The pieces: :mod:`.parts` (relationships, content types, fresh names, copying), :mod:`.style_merge`
(styles.xml), :mod:`.graft_workbook` (workbook.xml and app.xml), :mod:`.drawing` (a chart added to a
sheet that exists).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from xml.etree import ElementTree

from callback_sheets.backends.excel.xlsx.cells import PatchRefused, inline_string
from callback_sheets.backends.excel.xlsx.graft_workbook import DonorName, with_sheets, with_titles
from callback_sheets.backends.excel.xlsx.parts import (
    DOC_RELS,
    MAIN,
    STYLES_CT,
    STYLES_TYPE,
    WORKSHEET_TYPE,
    Donor,
    Read,
    Renamer,
    fresh_id,
    relative,
    rels_name,
    used_ids,
    with_content_types,
    with_relationships,
)
from callback_sheets.backends.excel.xlsx.style_merge import merge_styles


@dataclass(frozen=True, slots=True)
class Graft:
    """Tabs to add: a complete donor package, the names of its sheets to take (in order), and the
    name each gets in the workbook (references to it in the donor's formulas and charts follow)."""

    donor: bytes
    sheets: Sequence[str]
    rename: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class GraftResult:
    changed: dict[str, bytes]  # existing target parts, rewritten with additions
    added: dict[str, bytes]  # new parts, in the order they should be written


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
    donor = Donor(graft.donor)
    d_wb_rels = donor.relationships("xl/workbook.xml")
    d_root, d_sheets = donor.sheets()
    d_index = {name: i for i, (name, _, _) in enumerate(d_sheets)}
    missing = [s for s in graft.sheets if s not in d_index]
    if missing:
        raise ValueError(f"the donor has no sheet {missing[0]!r}")
    renamer = Renamer(names, donor)
    sheet_rels = [(sheet, d_sheets[d_index[sheet]][2]) for sheet in graft.sheets]
    sheet_parts = _reached_sheets(sheet_rels, d_wb_rels, donor, renamer)
    shared = _shared_strings(donor, d_wb_rels)
    renames = {old: new for old, new in graft.rename.items() if old != new}
    d_styles = next((t for k, t in d_wb_rels.values() if k == STYLES_TYPE), None)
    xf_map, dxf_map, new_styles = merge_styles(styles_xml, donor.read(d_styles) if d_styles else None)

    def adjust(part: str, data: bytes) -> bytes:
        return _sheet_xml(data, xf_map, dxf_map, shared) if part in sheet_parts else data

    added = renamer.copied(renames, adjust)
    changed = {"[Content_Types].xml": renamer.declared_types(read)}
    wb_rels_part, wb_rels, rel_ids = _sheet_relationships(read, workbook_part, sheet_parts, renamer)
    changed[styles_part] = new_styles
    changed[wb_rels_part] = wb_rels
    entries = [
        (graft.rename.get(sheet, sheet), d_sheets[d_index[sheet]][1], rel_id)
        for sheet, rel_id in zip(graft.sheets, rel_ids, strict=True)
    ]
    changed[workbook_part] = with_sheets(
        workbook_xml, entries, _donor_names(d_root), [n for n, _, _ in d_sheets], list(graft.sheets), renames
    )
    app = read("docProps/app.xml")
    if app is not None:
        titled = with_titles(app, [name for name, _, _ in entries])
        if titled is not None:
            changed["docProps/app.xml"] = titled
    return GraftResult(changed, added)


def _reached_sheets(
    sheets: Sequence[tuple[str, str]],
    wb_rels: Mapping[str, tuple[str, str]],
    donor: Donor,
    renamer: Renamer,
) -> list[str]:
    """The donor's sheet parts for ``sheets`` (name, relationship id in the donor's workbook), each
    reached by ``renamer`` with every part it leads to; refuses a sheet that is not a worksheet."""
    parts = []
    for sheet, rel_id in sheets:
        kind, target = wb_rels[rel_id]
        if kind != WORKSHEET_TYPE:
            raise ValueError(f"donor sheet {sheet!r} is not a worksheet")
        part = donor.by_lower[target.lower()]
        parts.append(part)
        renamer.reach(part)
    return parts


def _sheet_relationships(
    read: Read, workbook_part: str, sheet_parts: Sequence[str], renamer: Renamer
) -> tuple[str, bytes, list[bytes]]:
    """The workbook's relationships part, its new content listing the grafted sheets, their fresh ids."""
    wb_rels_part = rels_name(workbook_part)
    wb_rels = read(wb_rels_part)
    if wb_rels is None:
        raise PatchRefused("the workbook has no relationships part")
    used = used_ids(wb_rels)
    wb_folder = posixpath.dirname(workbook_part)
    new_rels: list[tuple[bytes, str, str]] = []
    for part in sheet_parts:
        new_rels.append((fresh_id(used), WORKSHEET_TYPE, relative(wb_folder, renamer.new_name[part])))
    return wb_rels_part, with_relationships(wb_rels, new_rels), [rel_id for rel_id, _, _ in new_rels]


def _donor_names(root: ElementTree.Element) -> list[DonorName]:
    return [
        (dn.get("name", ""), dn.get("localSheetId"), dn.get("hidden"), dn.text or "")
        for dn in root.iterfind(f"{MAIN}definedNames/{MAIN}definedName")
    ]


def styles_addition(
    *, read: Read, names: Sequence[str], workbook_part: str, declared: str | None = None
) -> tuple[str, dict[str, bytes]]:
    """For a package without a styles part: its new name, and the changed content types and workbook
    relationships that declare it (the part itself is :func:`.style_merge.minimal_styles`, possibly
    added to)."""
    taken = {n.lower() for n in names}
    folder = posixpath.dirname(workbook_part)
    part = declared or posixpath.join(folder, "styles.xml")
    number = 1
    while part.lower() in taken and declared is None:
        part = posixpath.join(folder, f"styles{number}.xml")
        number += 1
    ct_xml = read("[Content_Types].xml")
    rels_part = rels_name(workbook_part)
    rels = read(rels_part)
    if ct_xml is None or rels is None:
        raise PatchRefused("the package lacks [Content_Types].xml or the workbook's relationships")
    used = used_ids(rels)
    changed = {"[Content_Types].xml": with_content_types(ct_xml, {part: STYLES_CT})}
    if declared is None:
        new = [(fresh_id(used), STYLES_TYPE, relative(folder, part))]
        changed[rels_part] = with_relationships(rels, new)
    return part, changed


def _shared_strings(donor: Donor, rels: Mapping[str, tuple[str, str]]) -> list[str]:
    part = next((t for k, t in rels.values() if k == DOC_RELS + "/sharedStrings"), None)
    if part is None or not donor.has(part):
        return []
    root = ElementTree.fromstring(donor.read(part))
    return ["".join(t.text or "" for t in si.iter(f"{MAIN}t")) for si in root.iterfind(f"{MAIN}si")]


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
