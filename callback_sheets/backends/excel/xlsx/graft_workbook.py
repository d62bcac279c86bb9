"""workbook.xml and docProps/app.xml gaining grafted tabs: ``<sheet>`` entries with fresh sheet ids, the
donor's defined names (``localSheetId`` re-indexed, names into sheets not grafted left out), and the new
titles listed among the "Worksheets". Every change is an insertion; nothing there is renumbered."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from xml.etree import ElementTree

from callback_sheets.backends.excel.xlsx.markup import (
    bound_prefix,
    escape,
    insert_before_close,
    quoteattr,
    root_prefix,
    safe_parse,
)
from callback_sheets.backends.excel.xlsx.parts import DOC_RELS, MAIN, rename_references

# What follows <definedNames> in CT_Workbook: a new <definedNames> goes before the first of these.
AFTER_DEFINED_NAMES = (
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

DonorName = tuple[str, str | None, str | None, str]
"""A donor's defined name: (name, localSheetId, hidden, text)."""


def with_sheets(
    xml: bytes,
    entries: Sequence[tuple[str, str | None, bytes]],
    donor_names: Sequence[DonorName],
    donor_sheets: Sequence[str],
    grafted: Sequence[str],
    renames: Mapping[str, str],
) -> bytes:
    """workbook.xml with ``entries`` (name, state, relationship id) added as sheets, and those of the
    donor's defined names that belong to the grafted sheets."""
    root = safe_parse(xml, "workbook.xml")
    present = root.findall(f"{MAIN}sheets/{MAIN}sheet")
    prefix = root_prefix(xml, b"workbook")
    xml = _with_sheet_entries(xml, prefix, present, entries)
    names = _grafted_names(root, prefix, len(present), donor_names, donor_sheets, grafted, renames)
    if not names:
        return xml
    return _with_defined_names(xml, prefix, b"".join(names))


def _with_sheet_entries(
    xml: bytes,
    prefix: bytes,
    present: Sequence[ElementTree.Element],
    entries: Sequence[tuple[str, str | None, bytes]],
) -> bytes:
    ids = [int(s.get("sheetId", "0")) for s in present if (s.get("sheetId") or "").isdigit()]
    next_id = max(ids, default=0) + 1
    r_prefix = bound_prefix(xml, DOC_RELS.encode())
    sheet_pieces = []
    for offset, (name, state, rel_id) in enumerate(entries):
        if r_prefix is None:
            rid = b' xmlns:r="' + DOC_RELS.encode() + b'" r:id="' + rel_id + b'"'
        else:
            rid = b" " + r_prefix + b':id="' + rel_id + b'"'
        state_attr = b' state="%s"' % state.encode() if state and state != "visible" else b""
        sheet_pieces.append(
            b'<%ssheet name=%s sheetId="%d"%s%s/>'
            % (prefix, quoteattr(name).encode(), next_id + offset, state_attr, rid)
        )
    return insert_before_close(xml, prefix + b"sheets", b"".join(sheet_pieces))


def _grafted_names(
    root: ElementTree.Element,
    prefix: bytes,
    present: int,
    donor_names: Sequence[DonorName],
    donor_sheets: Sequence[str],
    grafted: Sequence[str],
    renames: Mapping[str, str],
) -> list[bytes]:
    """The ``<definedName>`` elements to add: the donor's names local to a grafted sheet (re-indexed
    after the ``present`` sheets) or global without a reference to a sheet left behind, and not
    already defined."""
    existing = {
        (dn.get("name", "").lower(), dn.get("localSheetId")) for dn in root.iter(f"{MAIN}definedName")
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
            index = str(present + list(grafted).index(sheet))
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
    return name_pieces


def _with_defined_names(xml: bytes, prefix: bytes, block: bytes) -> bytes:
    """``block`` added to workbook.xml's ``<definedNames>`` (made, in its schema place, if absent)."""
    if re.search(rb"<" + re.escape(prefix) + rb"definedNames\b[^>]*/>", xml):
        return re.sub(
            rb"<" + re.escape(prefix) + rb"definedNames\b([^>]*?)\s*/>",
            lambda m: b"<%sdefinedNames%s>%s</%sdefinedNames>" % (prefix, m.group(1), block, prefix),
            xml,
            count=1,
        )
    if re.search(rb"</" + re.escape(prefix) + rb"definedNames>", xml):
        return insert_before_close(xml, prefix + b"definedNames", block)
    wrapped = b"<%sdefinedNames>%s</%sdefinedNames>" % (prefix, block, prefix)
    for tag in AFTER_DEFINED_NAMES:
        match = re.search(rb"<" + re.escape(prefix + tag) + rb"[\s/>]", xml)
        if match is not None:
            return xml[: match.start()] + wrapped + xml[match.start() :]
    return insert_before_close(xml, prefix + b"workbook", wrapped)


def with_titles(xml: bytes, titles: Sequence[str]) -> bytes | None:
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
