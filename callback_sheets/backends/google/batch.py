"""The write's batches: the cells to send, by tab, as ``values.batchUpdate`` ranges, and the grid
requests (a tab to add or grow) they need first. No request is made here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from callback_sheets.backends.google.connection import new_sheet_id
from callback_sheets.backends.google.layout import SCRIPTS_SHEET_ID
from callback_sheets.backends.google.sheet_requests import Request, SheetMeta, add_sheet, grid_size, room
from callback_sheets.backends.google.values import a1, to_json
from callback_sheets.cells import CellValue, CellWrite, Changeset, Link
from callback_sheets.layout import HIDDEN_TABS, TabSpec


@dataclass(slots=True)
class Out:
    """The cells to write by tab, (row, col) → JSON value, and what was written or left out."""

    cells: dict[str, dict[tuple[int, int], Any]] = field(default_factory=dict)
    links: dict[tuple[str, int, int], Link] = field(default_factory=dict)  # written as HYPERLINK formulas
    written: int = 0
    skipped: list[str] = field(default_factory=list)
    placed: list[tuple[int, CellWrite]] = field(default_factory=list)  # Queue cells by re-read row

    def put(self, tab: str, row: int, col: int, value: CellValue) -> None:
        if isinstance(value, Link):
            self.links[(tab, row, col)] = value
            self.cells.get(tab, {}).pop((row, col), None)
            return
        self.links.pop((tab, row, col), None)
        self.cells.setdefault(tab, {})[(row, col)] = to_json(value)

    def put_rows(self, tab: str, start: int, rows: Sequence[Sequence[CellValue]]) -> None:
        """Rows of values from column A, the first on row ``start``."""
        for offset, line in enumerate(rows):
            for c, value in enumerate(line, start=1):
                self.put(tab, start + offset, c, value)

    def extent(self) -> dict[str, tuple[int, int]]:
        out = {t: (max(r for r, _ in c), max(k for _, k in c)) for t, c in self.cells.items() if c}
        for tab, row, col in self.links:
            rows, cols = out.get(tab, (0, 0))
            out[tab] = (max(rows, row), max(cols, col))
        return out

    def add_links(self, sheets: Mapping[str, SheetMeta]) -> None:
        """The links as HYPERLINK formulas among the cells (for a USER_ENTERED write)."""
        for (tab, row, col), link in self.links.items():
            target = sheets.get(link.tab)  # a lean read may not know ids: then init's fixed one
            gid = target.sheet_id if target is not None and target.sheet_id >= 0 else SCRIPTS_SHEET_ID
            text = str(link).replace('"', '""')
            formula = Formula(f'=HYPERLINK("#gid={gid}&range=A{link.row}","{text}")')
            self.cells.setdefault(tab, {})[(row, col)] = formula

    def ranges(self, *, user_entered: bool = False) -> list[dict[str, Any]]:
        """One range per run of adjacent cells down a column (a refresh mostly rewrites whole columns).
        ``user_entered``: every text is quote-prefixed so Sheets stores it as the literal text it is
        (never a formula, number or date); only the tool's own links stay formulas."""
        data = []
        for tab, cells in self.cells.items():
            for col, runs in _runs(cells).items():
                for start, values in runs:
                    if user_entered:
                        values = [literal(v) for v in values]
                    end = start + len(values) - 1
                    data.append(
                        {
                            "range": a1(tab, start, col, end, col) if end > start else a1(tab, start, col),
                            "values": [[v] for v in values],
                        }
                    )
        return data


class Formula(str):
    """A formula the tool itself wrote (a Script link): sent as is in a USER_ENTERED write."""


def literal(value: Any) -> Any:
    if isinstance(value, Formula) or not isinstance(value, str) or value == "":
        return value
    return "'" + value


def _runs(cells: Mapping[tuple[int, int], Any]) -> dict[int, list[tuple[int, list[Any]]]]:
    by_col: dict[int, list[tuple[int, list[Any]]]] = {}
    for row, col in sorted(cells, key=lambda rc: (rc[1], rc[0])):
        runs = by_col.setdefault(col, [])
        if runs and runs[-1][0] + len(runs[-1][1]) == row:
            runs[-1][1].append(cells[(row, col)])
        else:
            runs.append((row, [cells[(row, col)]]))
    return by_col


def put_new_rows(
    out: Out, header: Sequence[str], new_rows: Sequence[Mapping[str, CellValue]], queue: str, start: int
) -> None:
    """The Queue's new rows, from row ``start``, each value under its column."""
    for offset, new in enumerate(new_rows):
        for col, name in enumerate(header, start=1):
            if name and new.get(name) is not None:
                out.put(queue, start + offset, col, new[name])
    out.written += len(new_rows)


def put_tabs(
    out: Out,
    changes: Changeset,
    sheets: Mapping[str, SheetMeta],
    next_row: Mapping[str, int],
    specs: Mapping[str, TabSpec],
) -> None:
    """The tool tabs' cells and appended rows (a tab to be made starts with its header)."""
    for name, cells in changes.tab_cells.items():
        for (r, c), value in cells.items():
            out.put(name, r, c, value)
        out.written += len(cells)
    for name, rows in changes.tab_appends.items():
        start = next_row.get(name, 1) if name in sheets else 1
        lines: Sequence[Sequence[CellValue]] = rows
        if name not in sheets and name in specs and specs[name].header:
            lines = [list(specs[name].header), *rows]
        out.put_rows(name, start, lines)
        out.written += len(rows)


def needs_ids(extent: Mapping[str, tuple[int, int]], sheets: Mapping[str, SheetMeta]) -> bool:
    """Whether a tab must be added or grown while some tab's id is unknown (a read learns sizes only)."""
    grows = any(
        name not in sheets or rows > sheets[name].rows or cols > sheets[name].cols
        for name, (rows, cols) in extent.items()
    )
    return grows and any(m.sheet_id < 0 for m in sheets.values())


def grid_requests(
    extent: Mapping[str, tuple[int, int]],
    sheets: Mapping[str, SheetMeta],
    specs: Mapping[str, TabSpec],
    *,
    spare: bool = True,
) -> list[Request]:
    """A tab added for each tab written that is missing, a grid grown for each written past its end:
    with a little room (``spare``), or exactly to its last row (an archive, written once a night in one
    block, where room would be a tenth more cells kept for good)."""
    prep: list[Request] = []
    for name, (rows_needed, cols_needed) in extent.items():
        meta = sheets.get(name)
        extra = room(rows_needed) if spare else 0
        if meta is None:
            meta = SheetMeta(new_sheet_id(sheets), name, rows_needed + extra, cols_needed)
            frozen = 1 if name in specs and specs[name].header else 0
            prep.append(add_sheet(meta, frozen=frozen, hidden=name in HIDDEN_TABS))
        elif rows_needed > meta.rows or cols_needed > meta.cols:
            grown = SheetMeta(
                meta.sheet_id,
                name,
                max(meta.rows, rows_needed + extra),
                max(meta.cols, cols_needed),
            )
            prep.append(grid_size(grown))
    return prep
