"""Dropdowns and colour rules added to a sheet that exists, without touching anything in it.

`init` on a workbook whose Queue (or Demand) tab exists gives that tab the tool's data validations and
conditional formats it lacks. They are taken from the donor (the tab as a new workbook would have it, see
:mod:`.graft`), whatever the layout declares there, and fitted to the existing tab: every column
reference (ranges and formulas) moves from the donor's column to the column with the same header in the
tab (staff may have reordered it). A rule is left out when the tab already has one of its kind on those
columns (so `init` twice adds nothing). The patcher then inserts the elements at their schema position
after ``</sheetData>`` (see :func:`with_rules`) and appends the rules' differential formats to styles.xml;
cells, existing rules and every other element stay byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from callback_sheets.backends.excel.xlsx.cells import PatchRefused

# CT_Worksheet's children after sheetData, in schema order.
_TAIL_ORDER = (
    b"sheetCalcPr",
    b"sheetProtection",
    b"protectedRanges",
    b"scenarios",
    b"autoFilter",
    b"sortState",
    b"dataConsolidate",
    b"customSheetViews",
    b"mergeCells",
    b"phoneticPr",
    b"conditionalFormatting",
    b"dataValidations",
    b"hyperlinks",
    b"printOptions",
    b"pageMargins",
    b"pageSetup",
    b"headerFooter",
    b"rowBreaks",
    b"colBreaks",
    b"customProperties",
    b"cellWatches",
    b"ignoredErrors",
    b"smartTags",
    b"drawing",
    b"legacyDrawing",
    b"legacyDrawingHF",
    b"drawingHF",
    b"picture",
    b"oleObjects",
    b"controls",
    b"webPublishItems",
    b"tableParts",
    b"extLst",
)
SHEET_DATA_END = re.compile(rb"</sheetData\s*>|<sheetData\s*/>")
_CF = re.compile(rb"<conditionalFormatting\b[^>]*>.*?</conditionalFormatting>", re.DOTALL)
_DV = re.compile(rb"<dataValidation\b[^>]*?(?:/>|>.*?</dataValidation>)", re.DOTALL)
_X14_DV = re.compile(rb"<(?:\w+:)?dataValidation\b.*?</(?:\w+:)?dataValidation>", re.DOTALL)
_RULE = re.compile(rb"<cfRule\b[^>]*?(?:/>|>.*?</cfRule>)", re.DOTALL)
_ANY_RULE = re.compile(rb"<(?:\w+:)?cfRule\b[^>]*>")
_SQREF = re.compile(rb"""\ssqref\s*=\s*["']([^"']*)["']""")
_XM_SQREF = re.compile(rb"<(?:\w+:)?sqref>([^<]*)</(?:\w+:)?sqref>")
_FORMULA = re.compile(rb"<(formula1?|formula2)>(.*?)</\1>", re.DOTALL)
_PRIORITY = re.compile(rb"""(\spriority\s*=\s*["'])(\d+)(["'])""")
_DXF_ID = re.compile(rb"""(\sdxfId\s*=\s*["'])(\d+)(["'])""")
_TYPE = re.compile(rb"""\stype\s*=\s*["']([^"']*)["']""")
_AREA = re.compile(rb"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")
# A cell reference in a formula: not part of a name, a function or another sheet's reference.
_REF = re.compile(rb"""(?<![\w.!$'"])(\$?)([A-Z]{1,3})(\$?)(\d+)(?![\w(!])""")
# Text in quotes and references to another sheet (a range's second half included) are left as they are.
_STRING = re.compile(
    rb"&quot;.*?&quot;|\"[^\"]*\"|(?:'(?:[^']|'')*'|[\w.]+)!\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?",
    re.DOTALL,
)
MAX_COL = 16384


@dataclass(frozen=True, slots=True)
class Rules:
    """What to add to one sheet: ``<conditionalFormatting>`` elements (their ``dxfId`` index ``dxfs``),
    ``<dataValidation>`` elements, and the differential formats the conditional formats use."""

    conditional: tuple[bytes, ...] = ()
    validations: tuple[bytes, ...] = ()
    dxfs: tuple[bytes, ...] = ()
    chart: tuple[bytes, str, Mapping[str, str]] | None = None
    """(donor package, donor sheet, renames): that sheet's drawing and charts are added (a sheet that has
    no drawing); the patcher grafts the parts and sets :attr:`drawing` to the element that links them."""
    drawing: bytes = b""

    def __bool__(self) -> bool:
        return bool(self.conditional or self.validations or self.chart or self.drawing)


# --- columns ----------------------------------------------------------------------------------------------
def col_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number


def col_letters(number: int) -> bytes:
    out = b""
    while number:
        number, rest = divmod(number - 1, 26)
        out = bytes([65 + rest]) + out
    return out


def _columns(sqref: bytes) -> set[int]:
    cols: set[int] = set()
    for area in sqref.split():
        match = _AREA.match(area)
        if match is None:
            continue
        first = col_number(match.group(1))
        last = col_number(match.group(3) or match.group(1))
        cols.update(range(first, min(last, MAX_COL) + 1))
    return cols


def _mapped_sqref(sqref: bytes, colmap: Mapping[int, int], width: tuple[int, int]) -> bytes:
    """Each area of ``sqref`` moved to the columns with the same headers; an area over the whole donor
    header spans the whole target header."""
    areas = []
    for area in sqref.split():
        match = _AREA.match(area)
        if match is None:
            raise PatchRefused(f"cannot place the range {area.decode(errors='replace')!r}")
        first, last = col_number(match.group(1)), col_number(match.group(3) or match.group(1))
        top, bottom = match.group(2), match.group(4) or match.group(2)
        if first == 1 and last == width[0]:
            spans = [(1, width[1])]
        else:
            targets = sorted(colmap.get(c, c) for c in range(first, last + 1))
            spans = []
            for col in targets:
                if spans and spans[-1][1] == col - 1:
                    spans[-1] = (spans[-1][0], col)
                else:
                    spans.append((col, col))
        for a, b in spans:
            start, end = col_letters(a) + top, col_letters(b) + bottom
            areas.append(start if start == end else start + b":" + end)
    return b" ".join(areas)


def _mapped_formula(text: bytes, colmap: Mapping[int, int]) -> bytes:
    def ref(match: re.Match[bytes]) -> bytes:
        col = col_number(match.group(2))
        new = colmap.get(col, col)
        return match.group(1) + col_letters(new) + match.group(3) + match.group(4)

    pieces, at = [], 0
    for string in _STRING.finditer(text):  # text in quotes is not a reference
        pieces.append(_REF.sub(ref, text[at : string.start()]) + string.group(0))
        at = string.end()
    pieces.append(_REF.sub(ref, text[at:]))
    return b"".join(pieces)


def _formula_columns(element: bytes) -> set[int]:
    cols: set[int] = set()
    for _tag, text in _FORMULA.findall(element):
        bare = _STRING.sub(b"", text)
        cols.update(col_number(m.group(2)) for m in _REF.finditer(bare))
    return cols


def _mapped(element: bytes, colmap: Mapping[int, int], width: tuple[int, int]) -> bytes:
    element = _SQREF.sub(
        lambda m: m.group(0).replace(m.group(1), _mapped_sqref(m.group(1), colmap, width)), element, count=1
    )
    return _FORMULA.sub(
        lambda m: b"<%s>%s</%s>" % (m.group(1), _mapped_formula(m.group(2), colmap), m.group(1)), element
    )


# --- which rules the sheet lacks ---------------------------------------------------------------------------
def _rule_keys(cf: bytes) -> list[tuple[bytes, frozenset[int]]]:
    """(rule type, columns it looks at) for each rule of a ``<conditionalFormatting>``: the columns its
    formulas refer to, or those it covers when it has no formula (a colour scale)."""
    sqref = _SQREF.search(cf)
    covered = frozenset(_columns(sqref.group(1))) if sqref else frozenset()
    keys = []
    for rule in _RULE.findall(cf):
        kind = _TYPE.search(rule)
        formulas = _formula_columns(rule)
        keys.append((kind.group(1) if kind else b"", frozenset(formulas) if formulas else covered))
    return keys


def missing_rules(
    donor_sheet: bytes,
    donor_dxfs: Sequence[bytes],
    tail: bytes,
    *,
    colmap: Mapping[int, int] | None = None,
    width: tuple[int, int] = (0, 0),
    rename: Callable[[bytes], bytes] = lambda xml: xml,
) -> Rules:
    """The donor sheet's data validations and conditional formats that the sheet whose XML after
    ``</sheetData>`` is ``tail`` lacks, moved to its columns (``colmap``: donor column -> sheet column;
    ``width``: the donor's and the sheet's header widths)."""
    d_tail = _tail_of(donor_sheet)
    cmap = colmap or {}
    have_dv: set[int] = set()
    for dv in _DV.findall(tail):
        sqref = _SQREF.search(dv)
        have_dv |= _columns(sqref.group(1)) if sqref else set()
    for dv in _X14_DV.findall(_ext(tail)):
        for sqref in _XM_SQREF.findall(dv):
            have_dv |= _columns(sqref)
    have_cf = {(kind, cols) for cf in _CF.findall(tail) for kind, cols in _rule_keys(cf)}
    validations = []
    for dv in _DV.findall(d_tail):
        moved = rename(_mapped(dv, cmap, width) if colmap is not None else dv)
        sqref = _SQREF.search(moved)
        if sqref is None or _columns(sqref.group(1)) & have_dv:
            continue
        validations.append(moved)
    conditional: list[bytes] = []
    dxfs: list[bytes] = []
    for cf in _CF.findall(d_tail):
        moved = rename(_mapped(cf, cmap, width) if colmap is not None else cf)
        head = moved[: moved.find(b">") + 1]
        kept = []
        for rule, key in zip(_RULE.findall(moved), _rule_keys(moved), strict=True):
            if key in have_cf:
                continue
            dxf = _DXF_ID.search(rule[: rule.find(b">")])
            if dxf is not None:
                number = int(dxf.group(2))
                if number >= len(donor_dxfs):
                    continue
                rule = _DXF_ID.sub(lambda m: m.group(1) + str(len(dxfs)).encode() + m.group(3), rule, count=1)
                dxfs.append(donor_dxfs[number])
            kept.append(rule)
        if kept:
            conditional.append(head + b"".join(kept) + b"</conditionalFormatting>")
    return Rules(tuple(conditional), tuple(validations), tuple(dxfs))


def _tail_of(sheet: bytes) -> bytes:
    end = SHEET_DATA_END.search(sheet)
    return sheet[end.end() :] if end else b""


def _ext(tail: bytes) -> bytes:
    at = tail.find(b"<extLst")
    return tail[at:] if at >= 0 else b""


def donor_parts(donor: bytes, sheets: Sequence[str]) -> tuple[dict[str, bytes], list[bytes]]:
    """The donor package's sheet parts by sheet name (those of ``sheets`` it has) and its dxfs."""
    import io
    import posixpath
    import zipfile
    from xml.etree import ElementTree

    from callback_sheets.backends.excel.xlsx.parts import DOC_RELS, MAIN, PKG_RELS
    from callback_sheets.backends.excel.xlsx.style_merge import style_children

    with zipfile.ZipFile(io.BytesIO(donor)) as archive:

        def resolved(target: str) -> str:
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)

        rels = {
            r.get("Id", ""): (r.get("Type", ""), resolved(r.get("Target", "")))
            for r in ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels")).iter(
                f"{PKG_RELS}Relationship"
            )
        }
        root = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        parts = {}
        for sheet in root.iterfind(f"{MAIN}sheets/{MAIN}sheet"):
            name = sheet.get("name", "")
            if name in sheets:
                parts[name] = archive.read(rels[sheet.get(f"{{{DOC_RELS}}}id", "")][1])
        styles = next((t for k, t in rels.values() if k.endswith("/styles")), None)
        dxfs = style_children(archive.read(styles), b"", b"dxfs") if styles else []
    return parts, dxfs


# --- putting them in --------------------------------------------------------------------------------------
def with_rules(tail: bytes, rules: Rules, dxf_base: int) -> bytes:
    """The XML after ``</sheetData>`` with ``rules`` inserted at their schema position: conditional
    formats after the sheet's own (priorities after its highest), validations added to its
    ``<dataValidations>`` (or a new one); ``dxfId`` shifted by ``dxf_base``."""
    ext = tail.find(b"<extLst")
    own = tail[: ext if ext >= 0 else None]
    if re.search(rb"<\w+:(?:conditionalFormatting|dataValidations|pageMargins)\b", own):
        raise PatchRefused("the sheet's XML uses a namespace prefix the patcher does not edit")
    top = max((int(m.group(2)) for r in _ANY_RULE.findall(tail) if (m := _PRIORITY.search(r))), default=0)
    if rules.conditional:
        counter = iter(range(top + 1, top + 1 + 10_000))

        def renumber(rule: re.Match[bytes]) -> bytes:
            text = rule.group(0)
            head_end = text.find(b">")
            head = _PRIORITY.sub(lambda m: m.group(1) + str(next(counter)).encode() + m.group(3),
                                 text[:head_end], count=1)  # fmt: skip
            head = _DXF_ID.sub(lambda m: m.group(1) + str(dxf_base + int(m.group(2))).encode() + m.group(3),
                               head, count=1)  # fmt: skip
            return head + text[head_end:]

        block = b"".join(_RULE.sub(renumber, cf) for cf in rules.conditional)
        last = None
        for found_cf in _CF.finditer(tail):
            last = found_cf
        if last is not None and not _ext(tail[: last.start()]):
            tail = tail[: last.end()] + block + tail[last.end() :]
        else:
            tail = _insert_at(tail, b"conditionalFormatting", block)
    if rules.validations:
        block = b"".join(rules.validations)
        found = re.search(rb"<dataValidations\b([^>]*?)(/?)>", tail)
        if found is not None and not _ext(tail[: found.start()]):
            count = len(_DV.findall(tail)) + len(rules.validations)
            attrs = re.sub(rb"""\scount\s*=\s*["']\d*["']""", b"", found.group(1))
            head = b'<dataValidations%s count="%d">' % (attrs, count)
            if found.group(2):
                tail = tail[: found.start()] + head + block + b"</dataValidations>" + tail[found.end() :]
            else:
                close = tail.find(b"</dataValidations>", found.end())
                tail = tail[: found.start()] + head + tail[found.end() : close] + block + tail[close:]
        else:
            wrapped = b'<dataValidations count="%d">%s</dataValidations>' % (len(rules.validations), block)
            tail = _insert_at(tail, b"dataValidations", wrapped)
    if rules.drawing:
        if re.search(rb"<drawing[\s/>]", own):
            raise PatchRefused("the sheet has a drawing already")
        tail = _insert_at(tail, b"drawing", rules.drawing)
    return tail


def _insert_at(tail: bytes, tag: bytes, block: bytes) -> bytes:
    """``block`` put before the first element that follows ``tag`` in CT_Worksheet (or the end)."""
    later = _TAIL_ORDER[_TAIL_ORDER.index(tag) + 1 :]
    ext = tail.find(b"<extLst")
    for name in later:
        match = re.compile(rb"<" + name + rb"[\s/>]").search(tail, 0, len(tail) if ext < 0 else ext + 8)
        if match is not None:
            return tail[: match.start()] + block + tail[match.start() :]
    close = tail.rfind(b"</worksheet>")
    if close < 0:
        raise PatchRefused("the sheet's XML has no </worksheet>")
    return tail[:close] + block + tail[close:]


class TailWriter:
    """Passes a sheet part through to ``write`` until ``</sheetData>``, holds the rest (the small tail of
    the part) and writes it changed by ``transform`` on :meth:`close`."""

    _CARRY = 64

    def __init__(self, write: Callable[[bytes], None], transform: Callable[[bytes], bytes]) -> None:
        self._write = write
        self._transform = transform
        self._carry = b""
        self._tail: list[bytes] | None = None

    def write(self, chunk: bytes) -> None:
        if self._tail is not None:
            self._tail.append(chunk)
            return
        data = self._carry + chunk
        end = SHEET_DATA_END.search(data)
        if end is not None:
            self._write(data[: end.end()])
            self._tail = [data[end.end() :]]
            self._carry = b""
            return
        if len(data) > self._CARRY:
            self._write(data[: -self._CARRY])
            data = data[-self._CARRY :]
        self._carry = data

    def close(self) -> None:
        if self._tail is None:
            raise PatchRefused("the sheet's XML has no <sheetData>")
        self._write(self._transform(b"".join(self._tail)))
