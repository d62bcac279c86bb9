"""Zero-collateral .xlsx writes: change only the cells asked for, copy everything else byte for byte.

openpyxl rewrites the whole package on every save and loses what it does not model (Excel 2010
extension blocks, sparklines, text boxes, rich text, cached formula results...). :func:`patch_workbook`
edits the package instead: every zip member it does not need to change is copied raw (same compressed
bytes, same order, same headers); in the worksheet parts it changes, only the target ``<c>``/``<row>``
elements are rebuilt (see :mod:`.sheet`); styles.xml gains a date format only when a date needs one
(see :mod:`.styles`); a table or filter that ended at the last data row grows over appended rows.
Whatever it cannot edit safely it refuses with :class:`PatchRefused`, before writing anything, and the
caller falls back to openpyxl.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callback_sheets.backends.excel.xlsx.append import grown_filter_name
from callback_sheets.backends.excel.xlsx.cells import PatchRefused
from callback_sheets.backends.excel.xlsx.package import Content, Package
from callback_sheets.backends.excel.xlsx.read import CellValue
from callback_sheets.backends.excel.xlsx.sheet import patch_sheet_xml
from callback_sheets.backends.excel.xlsx.style_merge import (
    appended_styles,
    minimal_styles,
    prefixed,
    style_children,
    styles_prefix,
)
from callback_sheets.backends.excel.xlsx.styles import StyleBook
from callback_sheets.backends.excel.xlsx.zip_streams import Deflated
from callback_sheets.backends.excel.xlsx.zip_write import write_package

if TYPE_CHECKING:
    from callback_sheets.backends.excel.xlsx.drawing import DrawingGraft
    from callback_sheets.backends.excel.xlsx.graft import Graft, GraftResult
    from callback_sheets.backends.excel.xlsx.rules import Rules

__all__ = ["CellValue", "Graft", "PatchRefused", "Rules", "patch_workbook", "sheet_tails"]


def __getattr__(name: str) -> Any:
    """``Graft`` and ``Rules``, imported when asked for (a write that adds no tab or rule does not
    load the grafting and rule modules)."""
    if name == "Graft":
        from callback_sheets.backends.excel.xlsx.graft import Graft

        return Graft
    if name == "Rules":
        from callback_sheets.backends.excel.xlsx.rules import Rules

        return Rules
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


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
    address. ``graft`` adds whole tabs (see :mod:`.graft`): new parts are written after the
    existing ones, and only the package parts that list them gain entries. Dates follow the workbook's
    date system (1900 or 1904); a package without styles.xml gets one when a date or a grafted tab
    needs it. ``rules[sheet]`` adds data validations and conditional formats to a sheet (see
    :mod:`.rules`), their differential formats appended to styles.xml.
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
        write_package(source, changed, added, dst)


def _changed_parts(
    archive: zipfile.ZipFile,
    edits: Mapping[str, Mapping[tuple[int, int], CellValue]],
    appends: Mapping[str, Sequence[Sequence[CellValue]]],
    removals: Mapping[str, Sequence[int]] = {},
    graft: Graft | None = None,
    rules: Mapping[str, Rules] = {},
) -> tuple[dict[str, Content], dict[str, bytes]]:
    """Member name -> new content, for every part the patch changes; and the parts it adds."""
    package = Package(archive)
    rules = {name: r for name, r in rules.items() if r}
    unknown = (set(edits) | set(appends) | set(removals) | set(rules)) - {n for n, _, _ in package.sheets}
    if unknown:
        raise ValueError(f"no sheet named {sorted(unknown)[0]!r}")
    styles = StyleBook(package.read(package.styles) if package.styles else minimal_styles())
    changed: dict[str, Content] = {}
    added: dict[str, bytes] = {}
    workbook_xml = package.workbook_xml
    source_styles = package.read(package.styles) if package.styles else minimal_styles()
    style_prefix = styles_prefix(source_styles)
    dxf_base = len(style_children(source_styles, style_prefix, b"dxfs"))  # StyleBook adds no dxfs
    dxfs: list[bytes] = []
    tails: dict[str, Callable[[bytes], bytes]] = {}
    if rules:
        from callback_sheets.backends.excel.xlsx.rules import with_rules
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
            styles_xml, style_prefix, b"dxfs", [prefixed(d, style_prefix) for d in dxfs]
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
    package: Package,
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
    source = package.opener(part)
    output = Deflated(package.method(part), old=source.blocks, rows=True)
    removed = sorted(set(removals.get(sheet, ())))
    if removed:  # the modules of the rarer writes load when they are used
        from callback_sheets.backends.excel.xlsx.remove import Shift, remove_rows_xml
    if tail is not None:
        from callback_sheets.backends.excel.xlsx.rules import TailWriter
    if removed and tail is not None:
        raise ValueError("rules are not added in a patch that removes rows from the same sheet")
    if removed and not (edits.get(sheet) or appends.get(sheet)):
        try:
            remove_rows_xml(source, removed, output.write)
        finally:
            changed[part] = output.close()
        return package.removed_rows(sheet, part, Shift(removed), changed, workbook_xml)
    patched: list[bytes] = []
    writer = TailWriter(output.write, tail) if tail is not None and not removed else None
    try:
        patch = patch_sheet_xml(
            source,
            edits.get(sheet, {}),
            appends.get(sheet, ()),
            styles.style_for,
            patched.append if removed else (writer.write if writer else output.write),
            date1904=package.date1904,
        )
        if writer is not None:
            writer.close()
        if removed:
            remove_rows_xml(lambda: iter(patched), removed, output.write)
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
    package: Package,
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
        from callback_sheets.backends.excel.xlsx.graft import styles_addition

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
    package: Package,
    graft: Graft,
    changed: dict[str, Content],
    added: dict[str, bytes],
    workbook_xml: bytes,
    styles_part: str,
    styles_xml: bytes,
) -> bytes:
    """Adds the graft's tabs to ``changed``/``added``; returns workbook.xml listing them."""
    from callback_sheets.backends.excel.xlsx.graft import graft_tabs

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
    package: Package, changed: Mapping[str, Content], added: Mapping[str, bytes]
) -> Callable[[str], bytes | None]:
    """A part's bytes as this patch has them so far (changed, added, else as read), None when absent."""

    def read(part: str) -> bytes | None:
        name = package.member(part)
        found = changed.get(name, added.get(name))
        return found if isinstance(found, bytes) else package.read_or_none(part)

    return read


def _take(
    package: Package,
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
    package: Package, sheet: str, rules: Rules, changed: dict[str, Content], added: dict[str, bytes]
) -> Rules:
    """Grafts the drawing ``rules.chart`` names for ``sheet``; the rules with the element linking it."""
    from callback_sheets.backends.excel.xlsx.drawing import graft_drawing

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


def sheet_tails(path: Path, sheets: Sequence[str]) -> dict[str, bytes]:
    """What follows ``</sheetData>`` in each of ``sheets`` (streamed: the rows are not kept); a sheet
    whose XML the patcher cannot edit (a namespace prefix) is left out."""
    found: dict[str, bytes] = {}
    with zipfile.ZipFile(path) as archive:
        package = Package(archive)
        present = {name for name, _, _ in package.sheets}
        for sheet in sheets:
            if sheet not in present:
                continue

            def keep(tail: bytes, name: str = sheet) -> bytes:
                found[name] = tail
                return b""

            from callback_sheets.backends.excel.xlsx.rules import TailWriter

            writer = TailWriter(lambda _chunk: None, keep)
            try:
                for piece in package.opener(package.sheet_part(sheet))():
                    writer.write(piece)
                writer.close()
            except PatchRefused:  # no (unprefixed) sheetData: nothing the patcher adds rules to
                continue
    return found
