"""A drawing (the Metrics chart) added to a sheet that exists: the donor sheet's drawing and the charts
it holds copied under fresh names, declared in the content types, and linked from the sheet's
relationships; the sheet's XML gains the ``<drawing>`` element (written by the caller)."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from callback_sheets.backends.excel.xlsx.parts import (
    DOC_RELS,
    Donor,
    Read,
    Renamer,
    fresh_id,
    relative,
    rels_name,
    used_ids,
    with_relationships,
)

DRAWING_TYPE = DOC_RELS + "/drawing"
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
    package = Donor(donor)
    drawing = _donor_drawing(package, sheet)
    if drawing is None:
        return None
    renamer = Renamer(names, package)
    renamer.reach(drawing)
    added = renamer.copied(renames)
    changed = {"[Content_Types].xml": renamer.declared_types(read)}
    rels_part = rels_name(sheet_part)
    existing = read(rels_part)
    rid = fresh_id(used_ids(existing or b""))
    target = renamer.new_name[renamer.order[0]]
    link = [(rid, DRAWING_TYPE, relative(posixpath.dirname(sheet_part), target))]
    if existing is None:
        added[rels_part] = with_relationships(_RELS_XML, link)
    else:
        changed[rels_part] = with_relationships(existing, link)
    element = b'<drawing xmlns:r="' + DOC_RELS.encode() + b'" r:id="' + rid + b'"/>'
    return DrawingGraft(element, changed, added)


def _donor_drawing(package: Donor, sheet: str) -> str | None:
    """The donor's drawing part on ``sheet``, None when the sheet or its drawing is not there."""
    wb_rels = package.relationships("xl/workbook.xml")
    _root, sheets = package.sheets()
    rel_id = next((rid for name, _state, rid in sheets if name == sheet), None)
    if rel_id is None or rel_id not in wb_rels:
        return None
    d_sheet = package.by_lower[wb_rels[rel_id][1].lower()]
    drawing = next((t for k, t in package.relationships(d_sheet).values() if k == DRAWING_TYPE), None)
    if drawing is None or not package.has(drawing):
        return None
    return package.by_lower[drawing.lower()]
