"""The openpyxl fallback writer, for workbooks the zero-collateral patcher refuses.

openpyxl rewrites the whole package when it saves, so a refresh uses it only where the patcher cannot go
(see README, "What openpyxl loses"); `init` never does (new workbooks and the tabs grafted into existing
ones are built by ``excel_layout`` in memory, see ``excel_init``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from callback_sheets import model
from callback_sheets.backends.excel.layout import add_tab, set_literal  # the one literal-text writer
from callback_sheets.cells import CellValue
from callback_sheets.errors import BackendError
from callback_sheets.layout import TabSpec


def _load(path: Path, **kwargs: bool) -> Workbook:
    from callback_sheets.backends.excel.xlsx.read import PackageRefused, check_package

    try:
        check_package(path)
    except PackageRefused as exc:
        raise BackendError(str(exc)) from None
    try:
        return load_workbook(path, **kwargs)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise BackendError(f"cannot open {path.name} as an .xlsx workbook: {exc}") from None


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
