"""Removing rows from a worksheet part, keeping the sheet coherent (for ``callback-sheets archive``).

:func:`remove_rows_xml` drops the given rows from ``<sheetData>`` and renumbers the rows below them (the
row's ``r`` and its cells' ``r``), then moves every reference of the sheet that points below a removed
row: the ``<dimension>``, the selection and pane, merged cells, conditional formats and data validations
(their extension copies too), the filter, hyperlinks, ignored errors and page breaks. A merged range,
hyperlink, conditional format or validation that lay wholly on removed rows is dropped, as Excel does.
Table parts and defined names follow through :func:`shifted_table_xml` and :func:`shifted_names`.
Every other byte is passed on untouched. What it cannot move safely it refuses with
:class:`PatchRefused` (formulas in the sheet, comments or drawings anchored below a removed row), before
anything is written.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence

from callback_sheets.backends.excel.xlsx.cells import PatchRefused, column_number
from callback_sheets.backends.excel.xlsx.rows import Emit

Source = Callable[[], Iterator[bytes]]

# The tool's own Script links point at a fixed row of the Scripts tab, not at rows of this sheet.
_OWN_LINK = re.compile(rb"<f>HYPERLINK\(\"#'Scripts'!A\d+\",\"[^<\"]*(?:\"\"[^<\"]*)*\"\)</f>")
_ROW_TAG = re.compile(rb"<row\b[^>]*?>")
_ROW_R = re.compile(rb"""(\sr\s*=\s*["'])(\d+)(["'])""")
_CELL_R = re.compile(rb"""(<c\b[^>]*?\sr\s*=\s*["'][A-Z]{1,3})(\d+)(["'])""")
_REF_ATTR = re.compile(rb"""(\s(?:ref|sqref|activeCell|topLeftCell)\s*=\s*["'])([^"']*)(["'])""")
_XM_SQREF = re.compile(rb"(<xm:sqref>)([^<]*)(</xm:sqref>)")
_BRK = re.compile(rb"""(<brk\b[^>]*?\sid\s*=\s*["'])(\d+)(["'])""")
_PART_REF = re.compile(rb"(\$?)([A-Z]{1,3})?(\$?)(\d+)")
_DROPPABLE = (
    re.compile(rb"<mergeCell\b[^>]*?/>"),
    re.compile(rb"<hyperlink\b[^>]*?(?:/>|>.*?</hyperlink>)", re.S),
    re.compile(rb"<conditionalFormatting\b[^>]*?>.*?</conditionalFormatting>", re.S),
    re.compile(rb"<dataValidation\b[^>]*?(?:/>|>.*?</dataValidation>)", re.S),
    re.compile(rb"<x14:conditionalFormatting\b[^>]*?>.*?</x14:conditionalFormatting>", re.S),
    re.compile(rb"<x14:dataValidation\b[^>]*?>.*?</x14:dataValidation>", re.S),
)
_TAIL = re.compile(
    b"(?P<drop>"
    + b"|".join(p.pattern for p in _DROPPABLE)
    + b")"
    + rb"""|(?P<brk><brk\b[^>]*?\sid\s*=\s*["'])(?P<id>\d+)(?P<q>["'])"""
    + b"|"
    + _REF_ATTR.pattern
    + b"|"
    + _XM_SQREF.pattern.replace(b"(<xm", b"(?:<xm").replace(b"(</xm", b"(?:</xm"),
    re.S,
)
_COUNTED = ((b"mergeCells", b"<mergeCell "), (b"dataValidations", b"<dataValidation "))
_DRAWING_ROW = re.compile(rb"<(?:\w+:)?row>(\d+)</(?:\w+:)?row>")
_VML_ROW = re.compile(rb"<x:Row>(\d+)</x:Row>")
_COMMENT_REF = re.compile(rb"""<comment\b[^>]*?\sref\s*=\s*["']([A-Z]{1,3})(\d+)["']""")


class Shift:
    """Where rows go when the (sorted, 1-based) ``removed`` rows leave the sheet."""

    def __init__(self, removed: Sequence[int]) -> None:
        self.removed = sorted(set(removed))
        self.first = self.removed[0] if self.removed else 0

    def row(self, number: int) -> int:
        """A row's new number; a removed row maps to the row that takes its place."""
        if number < self.first:
            return number
        return number - bisect_left(self.removed, number)

    def span(self, first: int, last: int) -> tuple[int, int] | None:
        """A row span's new ends, or None when every row of it was removed."""
        if last < self.first:
            return first, last
        new_first = first - bisect_left(self.removed, first)
        new_last = last - bisect_right(self.removed, last)
        return None if new_last < new_first else (new_first, new_last)

    def refs(self, text: bytes, *, keep_empty: bool = False) -> bytes | None:
        """A space-separated list of references (``A2:C9 E5``, ``$A$2:$C$9``, ``$1:$1``) moved; the ones
        wholly removed are left out (None when none is left), unless ``keep_empty`` (they collapse)."""
        out = []
        for item in text.split():
            moved = self._one(item, keep_empty)
            if moved is not None:
                out.append(moved)
        return b" ".join(out) if out else None

    def _one(self, item: bytes, keep_empty: bool) -> bytes | None:
        parts = item.split(b":")
        matches = [_PART_REF.fullmatch(p) for p in parts]
        if len(parts) > 2 or any(m is None for m in matches):
            if re.fullmatch(rb"\$?[A-Z]{1,3}(:\$?[A-Z]{1,3})?", item):
                return item  # whole columns
            raise PatchRefused(f"unexpected reference {item.decode(errors='replace')!r}")
        rows = [int(m.group(4)) for m in matches if m]
        span = self.span(rows[0], rows[-1])
        if span is None:
            if not keep_empty:
                return None
            span = (self.row(rows[0]), self.row(rows[0]))
        new = [span[0], span[-1]] if len(parts) == 2 else [span[0]]
        return b":".join(
            m.group(1) + (m.group(2) or b"") + m.group(3) + b"%d" % n
            for m, n in zip(matches, new, strict=True)
            if m
        )


def remove_rows_xml(source: Source, removed: Sequence[int], emit: Emit) -> None:
    """Writes to ``emit`` the worksheet part read from ``source`` without the ``removed`` rows."""
    from callback_sheets.backends.excel.xlsx.sheet_reader import SheetReader

    shift = Shift(removed)
    reader = SheetReader(source())
    emit(_moved_refs(reader.head, shift, keep_empty=True))
    emit(reader.opening)
    dropped = set(shift.removed)
    for chunk in reader.chunks():
        if chunk.find(b"<f") >= 0 and re.search(rb"<f[\s>/]", _OWN_LINK.sub(b"", chunk)):
            raise PatchRefused("the sheet holds formulas, whose references rows cannot be moved under")
        pos = 0
        pieces: list[bytes] = []
        for match in _ROW_TAG.finditer(chunk):
            if match.start() < pos:
                continue
            tag = match.group(0)
            found = _ROW_R.search(tag)
            if found is None:
                raise PatchRefused("a row without its number (r) cannot be removed safely")
            number = int(found.group(2))
            end = match.end() if tag.endswith(b"/>") else chunk.find(b"</row>", match.end()) + len(b"</row>")
            if end < match.end():
                raise PatchRefused(f"row {number} is not closed")
            pieces.append(chunk[pos : match.start()])
            if number in dropped:
                pos = _after_space(chunk, end)
                continue
            new = shift.row(number)
            if new != number:
                row = chunk[match.start() : end]
                tag = tag[: found.start(2)] + b"%d" % new + tag[found.end(2) :]

                def renumbered(m: re.Match[bytes], new: int = new) -> bytes:
                    return m.group(1) + b"%d" % new + m.group(3)

                body = _CELL_R.sub(renumbered, row[len(match.group(0)) :])
                pieces.append(tag + body)
            else:
                pieces.append(chunk[match.start() : end])
            pos = end
        pieces.append(chunk[pos:])
        emit(b"".join(pieces))
    emit(b"</sheetData>")
    emit(_moved_tail(reader.tail, shift))


def _after_space(xml: bytes, end: int) -> int:
    while end < len(xml) and xml[end] in b" \t\r\n":
        end += 1
    return end


def _moved_refs(xml: bytes, shift: Shift, *, keep_empty: bool) -> bytes:
    def attr(match: re.Match[bytes]) -> bytes:
        moved = shift.refs(match.group(2), keep_empty=keep_empty)
        return match.group(1) + (moved or b"") + match.group(3)

    return _REF_ATTR.sub(attr, xml)


def _moved_tail(tail: bytes, shift: Shift) -> bytes:
    """The part after </sheetData>: droppable elements wholly on removed rows go; references move."""
    if b"<xm:f>" in tail:
        raise PatchRefused("the sheet has extension formulas (sparklines...) whose references cannot move")

    def one(match: re.Match[bytes]) -> bytes:
        if match.group("drop") is not None:
            return _moved_element(match.group(0), shift)
        if match.group("brk") is not None:
            return match.group("brk") + b"%d" % shift.row(int(match.group("id"))) + match.group("q")
        return _moved_refs(match.group(0), shift, keep_empty=True)

    tail = _TAIL.sub(one, tail)
    for container, child in _COUNTED:

        def recounted(m: re.Match[bytes], child: bytes = child) -> bytes:
            return m.group(1) + b"%d" % m.group(4).count(child) + m.group(3) + m.group(4) + m.group(5)

        tail = re.sub(
            rb"(<"
            + container
            + rb"\b[^>]*?\scount\s*=\s*[\"'])(\d+)([\"'][^>]*>)(.*?)(</"
            + container
            + rb">)",
            recounted,
            tail,
            flags=re.S,
        )
    for container in (b"mergeCells", b"dataValidations", b"hyperlinks"):
        tail = re.sub(rb"<" + container + rb"\b[^>]*>\s*</" + container + rb">", b"", tail)
    return tail


def _moved_element(element: bytes, shift: Shift) -> bytes:
    """One droppable element with its references moved, or nothing when they all lay on removed rows."""
    found = _REF_ATTR.search(element) or _XM_SQREF.search(element)
    if found is None:
        return element
    moved = shift.refs(found.group(2))
    if moved is None:
        return b""
    if element.startswith(b"<mergeCell") and b":" not in moved:
        return b""  # a merge of one cell is no merge
    if (
        element.startswith((b"<conditionalFormatting", b"<x14:conditionalFormatting"))
        and b"<formula" in element
    ):
        old_top = _top_row(found.group(2))
        if old_top is not None and old_top != _top_row(moved):
            raise PatchRefused("a conditional format with a formula starts below a removed row")
    if found.re is _XM_SQREF:
        return element[: found.start(2)] + moved + element[found.end(2) :]
    element = element[: found.start(2)] + moved + element[found.end(2) :]
    head_end = found.start(2) + len(moved)
    return element[:head_end] + _XM_SQREF.sub(
        lambda m: m.group(1) + (shift.refs(m.group(2)) or m.group(2)) + m.group(3), element[head_end:]
    )


def _top_row(refs: bytes) -> int | None:
    match = _PART_REF.search(refs.split()[0]) if refs.split() else None
    return int(match.group(4)) if match else None


def shifted_table_xml(xml: bytes, shift: Shift) -> bytes:
    """A table part with its range (and its filter's) moved; a table keeps at least one data row."""
    match = re.search(rb"""(<(?:\w+:)?table\b[^>]*?\sref\s*=\s*["'])([^"']*)(["'])""", xml)
    if match is None:
        raise PatchRefused("cannot read the range of a table part")
    old = match.group(2)
    rows = [int(r) for r in re.findall(rb"\d+", old)]
    if len(rows) != 2:
        raise PatchRefused("cannot read the range of a table part")
    span = shift.span(rows[0] + 1, rows[1])
    top = shift.row(rows[0])
    last = max(span[1] if span else top + 1, top + 1)
    cols = re.findall(rb"[A-Z]{1,3}", old)
    new = b"%s%d:%s%d" % (cols[0], top, cols[1], last)
    out = xml[: match.start(2)] + new + xml[match.end(2) :]
    return re.sub(
        rb"""(<(?:\w+:)?autoFilter\b[^>]*?\sref\s*=\s*["'])""" + re.escape(old) + rb"""(["'])""",
        lambda m: m.group(1) + new + m.group(2),
        out,
        count=1,
    )


def shifted_names(workbook_xml: bytes, sheet: str, shift: Shift) -> bytes:
    """workbook.xml with the defined names' references into ``sheet`` moved."""
    quoted = re.escape(("'" + sheet.replace("'", "''") + "'").encode())
    plain = re.escape(sheet.encode())
    target = re.compile(
        rb"(?:" + quoted + rb"|" + plain + rb")!(\$?[A-Z]{0,3}\$?\d+(?::\$?[A-Z]{0,3}\$?\d+)?)"
    )

    def name(match: re.Match[bytes]) -> bytes:
        def ref(m: re.Match[bytes]) -> bytes:
            moved = shift.refs(m.group(1), keep_empty=False)
            if moved is None:
                raise PatchRefused("a defined name points only at rows being removed")
            return m.group(0)[: m.start(1) - m.start(0)] + moved

        return match.group(1) + target.sub(ref, match.group(2)) + match.group(3)

    return re.sub(rb"(<definedName\b[^>]*>)(.*?)(</definedName>)", name, workbook_xml, flags=re.S)


def refuse_anchors_below(kind: str, xml: bytes, shift: Shift) -> None:
    """Refuses when a comment, note or drawing of the sheet sits at or below the first removed row."""
    first = shift.first
    if kind == "comments":
        rows = [int(m.group(2)) for m in _COMMENT_REF.finditer(xml)]
    elif kind == "vml":
        rows = [int(m.group(1)) + 1 for m in _VML_ROW.finditer(xml)]
    else:
        rows = [int(m.group(1)) + 1 for m in _DRAWING_ROW.finditer(xml)]
    if any(row >= first for row in rows):
        raise PatchRefused(f"the sheet has a {kind} anchored at or below a removed row")


__all__ = [
    "Shift",
    "column_number",
    "refuse_anchors_below",
    "remove_rows_xml",
    "shifted_names",
    "shifted_table_xml",
]
