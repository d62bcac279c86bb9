"""An in-memory backend: the reference behaviour of the port, used by tests and by other backends' tests.

It keeps the Queue and each tab as a grid of rows (row 1 = header), exactly as a spreadsheet would.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from callback_sheets import model
from callback_sheets.backends.base import WriteResult
from callback_sheets.cells import (
    CellValue,
    Changeset,
    SheetRow,
    Snapshot,
    WriteMode,
    column_index,
    is_blank,
    row_factory,
)
from callback_sheets.errors import WorkbookChangedError
from callback_sheets.layout import TabSpec


class MemoryBackend:
    label = "memory"

    def __init__(self, *, queue: list[list[CellValue]] | None = None) -> None:
        self.sheets: dict[str, list[list[CellValue]]] = {}
        if queue is not None:
            self.sheets[model.QUEUE_TAB] = [list(r) for r in queue]
        self.version = 0

    # --- the port ---------------------------------------------------------------------------------
    def init(
        self,
        *,
        header: Sequence[str],
        tabs: Sequence[TabSpec],
        choices: Mapping[str, Sequence[str]],
        look: object = None,
    ) -> list[str]:
        notes = []
        queue = self.sheets.get(model.QUEUE_TAB)
        if not queue:
            self.sheets[model.QUEUE_TAB] = [list(header)]
            notes.append(f"created tab {model.QUEUE_TAB}")
        else:
            present = set(map(str, queue[0]))
            missing = [h for h in header if h not in present]
            if missing:
                queue[0].extend(missing)
                notes.append(f"added columns: {', '.join(missing)}")
        for tab in tabs:
            if tab.name not in self.sheets:
                self.sheets[tab.name] = [list(tab.header)]
                notes.append(f"created tab {tab.name}")
        self.version += 1
        return notes

    @contextmanager
    def session(self) -> Iterator[None]:
        yield

    def read(
        self,
        *,
        tabs: Sequence[str] = (),
        history_of: str | None = None,
        rows_of: str | None = None,
        without_statuses: Collection[str] = (),
    ) -> Snapshot:
        grid = self.sheets.get(model.QUEUE_TAB) or [[]]
        header = tuple("" if h is None else str(h) for h in grid[0])
        values = row_factory(header)
        rows = [SheetRow(number, values(tuple(raw))) for number, raw in enumerate(grid[1:], start=2)]
        tab_grids = {t: tuple(tuple(r) for r in self.sheets[t]) for t in tabs if t in self.sheets}
        return Snapshot(header=header, rows=tuple(rows), tabs=tab_grids, version=self.version)

    def write(self, snapshot: Snapshot, changes: Changeset, *, tabs: Sequence[TabSpec] = ()) -> WriteResult:
        if snapshot.version != self.version:
            raise WorkbookChangedError("the queue changed while the refresh was computing; run it again")
        if not changes:
            return WriteResult(0)
        grid = self.sheets.setdefault(model.QUEUE_TAB, [list(snapshot.header)])
        cols = column_index([str(h) for h in grid[0]])
        written, skipped = 0, []
        for cell in changes.cells:
            col = cols[cell.column]
            row = _cell_row(grid, cell.position, col)
            if cell.mode is WriteMode.FILL and not is_blank(row[col - 1]):
                skipped.append(f"row {cell.position}: {cell.column} was filled in meanwhile")
                continue
            row[col - 1] = cell.value
            written += 1
        for new in changes.new_rows:
            grid.append([new.get(str(h)) for h in grid[0]])
            written += 1
        specs = {t.name: t for t in tabs}
        for name, cells in changes.tab_cells.items():
            tab = self._tab(name, specs)
            for (r, c), value in cells.items():
                _cell_row(tab, r, c)[c - 1] = value
                written += 1
        for name, rows in changes.tab_appends.items():
            tab = self._tab(name, specs)
            tab.extend(list(r) for r in rows)
            written += len(rows)
        self.version += 1
        return WriteResult(written, tuple(skipped))

    # --- helpers for tests ("playing staff") -----------------------------------------------------------
    def _tab(self, name: str, specs: Mapping[str, TabSpec]) -> list[list[CellValue]]:
        if name not in self.sheets:
            self.sheets[name] = [list(specs[name].header)] if name in specs else [[]]
        return self.sheets[name]

    def records(self, tab: str = model.QUEUE_TAB) -> list[dict[str, Any]]:
        grid = self.sheets[tab]
        header = [str(h) for h in grid[0]]
        return [{h: (r[i] if i < len(r) else None) for i, h in enumerate(header)} for r in grid[1:]]

    def staff_edit(self, position: int, column: str, value: CellValue) -> None:
        """A person typing ``value`` into a Queue cell between two commands (tests/test_queue_record.py)."""
        grid = self.sheets[model.QUEUE_TAB]
        col = column_index([str(h) for h in grid[0]])[column]
        _cell_row(grid, position, col)[col - 1] = value
        self.version += 1


def _cell_row(grid: list[list[CellValue]], position: int, col: int) -> list[CellValue]:
    while len(grid) < position:
        grid.append([])
    row = grid[position - 1]
    if len(row) < col:
        row.extend([None] * (col - len(row)))
    return row
