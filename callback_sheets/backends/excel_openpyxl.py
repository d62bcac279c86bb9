"""openpyxl paths: creating and upgrading workbooks, and the fallback writer.

openpyxl rewrites the whole package when it saves, so it is used only where the zero-collateral patcher
cannot go: `init`, new tabs, and files the patcher refuses (see README, "What openpyxl loses").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from callback_sheets import model
from callback_sheets.backends.base import CellValue, TabSpec
from callback_sheets.backends.excel_layout import (  # noqa: F401  (set_literal: the one literal-text writer)
    DATETIME_FORMAT,
    add_tab,
    build_workbook,
    set_literal,
    upgrade_workbook,
)
from callback_sheets.errors import BackendError


def _load(path: Path, **kwargs: bool) -> Workbook:
    from callback_sheets.backends.xlsx_read import PackageRefused, check_package

    try:
        check_package(path)
    except PackageRefused as exc:
        raise BackendError(str(exc)) from None
    try:
        return load_workbook(path, **kwargs)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise BackendError(f"cannot open {path.name} as an .xlsx workbook: {exc}") from None


def init_workbook(
    path: Path, *, header: Sequence[str], tabs: Sequence[TabSpec], choices: Mapping[str, Sequence[str]]
) -> list[str]:
    from callback_sheets.backends.excel_files import atomic_write

    if not path.exists():
        wb = build_workbook(header=header, tabs=tabs, choices=choices)
        atomic_write(path, wb.save)
        return [f"created {path.name} with tabs {', '.join(wb.sheetnames)}"]
    wb = _load(path)
    notes = upgrade_workbook(wb, header=header, tabs=tabs, choices=choices)
    if notes:
        atomic_write(path, wb.save)
    return notes or [f"{path.name} is up to date"]


def last_used_row(ws) -> int:  # type: ignore[no-untyped-def]
    for row in range(ws.max_row, 0, -1):
        if any(c.value not in (None, "") for c in ws[row]):
            return row
    return 0


def save_with_changes(
    src: Path,
    dst: Path,
    *,
    edits: Mapping[str, Mapping[tuple[int, int], CellValue]],
    appends: Mapping[str, Sequence[Sequence[CellValue]]],
    specs: Mapping[str, TabSpec],
) -> None:
    wb = _load(src)
    for name in {*edits, *appends}:
        if name not in wb.sheetnames:
            add_tab(wb, specs.get(name, TabSpec(name, ())))
    for name, cells in edits.items():
        ws = wb[name]
        for (row, col), value in cells.items():
            set_literal(ws.cell(row=row, column=col), value)
    for name, rows in appends.items():
        ws = wb[name]
        start = last_used_row(ws) + 1
        for offset, values in enumerate(rows):
            for col, value in enumerate(values, start=1):
                if value is not None:
                    set_literal(ws.cell(row=start + offset, column=col), value)
    if model.QUEUE_TAB in wb.sheetnames:
        wb.active = wb.sheetnames.index(model.QUEUE_TAB)
    wb.save(dst)
