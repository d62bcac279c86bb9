"""openpyxl paths: creating and upgrading workbooks, and the fallback writer.

openpyxl rewrites the whole package when it saves, so it is used only where the zero-collateral patcher
cannot go: `init`, new tabs, and files the patcher refuses (see README, "What openpyxl loses").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.utils.exceptions import InvalidFileException

from callback_sheets import model
from callback_sheets.backends.base import CellValue, TabSpec
from callback_sheets.backends.excel_layout import DATETIME_FORMAT, add_tab, build_workbook, upgrade_workbook
from callback_sheets.backends.sheet_look import DEFAULT_LOOK, Look
from callback_sheets.errors import BackendError

_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _load(path: Path, **kwargs: bool) -> Workbook:
    try:
        return load_workbook(path, **kwargs)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise BackendError(f"cannot open {path.name} as an .xlsx workbook: {exc}") from None


def init_workbook(
    path: Path,
    *,
    header: Sequence[str],
    tabs: Sequence[TabSpec],
    choices: Mapping[str, Sequence[str]],
    look: Look = DEFAULT_LOOK,
) -> list[str]:
    from callback_sheets.backends.excel_files import atomic_write

    if not path.exists():
        wb = build_workbook(header=header, tabs=tabs, choices=choices, look=look)
        atomic_write(path, wb.save)
        return [f"created {path.name} with tabs {', '.join(wb.sheetnames)}"]
    wb = _load(path)
    notes = upgrade_workbook(wb, header=header, tabs=tabs, choices=choices, look=look)
    if notes:
        atomic_write(path, wb.save)
    return notes or [f"{path.name} is up to date"]


def set_literal(cell: Cell, value: CellValue) -> None:
    """Store a value so it can never be taken for a formula; dates get a date format."""
    if isinstance(value, str):
        cell.value = _ILLEGAL.sub("", value)
        cell.data_type = "s"  # '=…' stays text: openpyxl would otherwise write a formula
        return
    cell.value = value
    if isinstance(value, datetime | date):
        cell.number_format = DATETIME_FORMAT


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
