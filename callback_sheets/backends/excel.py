"""The Excel backend: an .xlsx file that staff edit in Excel or LibreOffice.

Reads go through a fast reader; writes go through the zero-collateral patcher (only the changed cells
are rewritten, every other part of the file is copied byte for byte) and fall back to openpyxl only where
the patcher says it cannot edit safely. Every write is atomic and refused while the file is open elsewhere.
"""

from __future__ import annotations

import glob
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from callback_sheets import model
from callback_sheets.backends.base import (
    CellValue,
    Changeset,
    SheetRow,
    Snapshot,
    TabSpec,
    WriteMode,
    WriteResult,
    column_index,
    is_blank,
    removed_positions,
    row_factory,
)
from callback_sheets.backends.excel_files import FileVersion, atomic_write, refuse_if_open, workbook_lock
from callback_sheets.errors import BackendError, WorkbookChangedError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Version:
    """What a read saw: the file's identity (to notice a save meanwhile) and the workbook's tabs."""

    file: FileVersion
    sheets: frozenset[str]


class ExcelBackend:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.label = self.path.name
        self.last_write_path: str = ""  # "patch" or "openpyxl: <why>", for tests and the log

    # --- the port ---------------------------------------------------------------------------------------
    def init(
        self, *, header: Sequence[str], tabs: Sequence[TabSpec], choices: Mapping[str, Sequence[str]]
    ) -> list[str]:
        if self.path.exists():
            refuse_if_open(self.path)
        with workbook_lock(self.path):
            from callback_sheets.backends import excel_openpyxl  # openpyxl only where needed

            return excel_openpyxl.init_workbook(self.path, header=header, tabs=tabs, choices=choices)

    @contextmanager
    def session(self) -> Iterator[None]:
        self._must_exist()
        refuse_if_open(self.path)
        with workbook_lock(self.path):
            yield

    def read(self, *, tabs: Sequence[str] = ()) -> Snapshot:
        from callback_sheets.backends.xlsx_read import read_workbook

        self._must_exist()
        file = FileVersion.of(self.path)
        try:
            names, grids = read_workbook(self.path, [model.QUEUE_TAB, *tabs])
        except Exception as exc:  # a damaged or non-xlsx file: say so in one line
            raise BackendError(f"cannot read {self.label}: {exc}; is it an .xlsx workbook?") from None
        queue = grids.pop(model.QUEUE_TAB, None)
        if queue is None:
            raise BackendError(
                f"{self.label} has no {model.QUEUE_TAB!r} tab: run `callback-sheets init` to add it"
            )
        header = tuple("" if h is None else str(h).strip() for h in (queue[0] if queue else ()))
        values = row_factory(header)
        rows = tuple(SheetRow(number, values(raw)) for number, raw in enumerate(queue[1:], start=2))
        tab_grids = {name: tuple(map(tuple, grid)) for name, grid in grids.items()}
        return Snapshot(header=header, rows=rows, tabs=tab_grids, version=_Version(file, frozenset(names)))

    def write(self, snapshot: Snapshot, changes: Changeset, *, tabs: Sequence[TabSpec] = ()) -> WriteResult:
        if not changes:
            return WriteResult(0)
        refuse_if_open(self.path)
        version = snapshot.version
        if not isinstance(version, _Version) or FileVersion.of(self.path) != version.file:
            raise WorkbookChangedError(f"{self.label} was saved by someone else during the refresh")
        cols = column_index(snapshot.header)
        queue: dict[tuple[int, int], CellValue] = {}
        edits: dict[str, dict[tuple[int, int], CellValue]] = {model.QUEUE_TAB: queue}
        skipped = []
        fill = WriteMode.FILL
        for cell in changes.cells:
            if cell.mode is fill and not is_blank(cell.before):
                skipped.append(f"row {cell.position}: {cell.column} is no longer empty")
                continue
            queue[cell.position, cols[cell.column]] = cell.value
        appends: dict[str, list[list[CellValue]]] = {}
        if changes.new_rows:
            width = len(snapshot.header)
            appends[model.QUEUE_TAB] = [
                [row.get(snapshot.header[i]) if snapshot.header[i] else None for i in range(width)]
                for row in changes.new_rows
            ]
        for name, cells in changes.tab_cells.items():
            edits.setdefault(name, {}).update(cells)
        for name, rows in changes.tab_appends.items():
            appends.setdefault(name, []).extend(rows)
        removals = {
            name: found
            for name, ids in changes.removed.items()
            if ids and (found := removed_positions(snapshot, name, ids))
        }
        self._apply(edits, appends, tabs, present=version.sheets, removals=removals)
        written = (
            sum(len(e) for e in edits.values())
            + sum(len(a) for a in appends.values())
            + sum(len(r) for r in removals.values())
        )
        return WriteResult(written, tuple(skipped))

    # --- archives (`callback-sheets archive`) -----------------------------------------------------------
    def archive_path(self, year: int) -> Path:
        return self.path.with_name(f"{self.path.stem}.archive-{year}.xlsx")

    def archive_years(self) -> list[int]:
        found = []
        for path in self.path.parent.glob(f"{glob.escape(self.path.stem)}.archive-*.xlsx"):
            year = path.name[len(self.path.stem) + len(".archive-") : -len(".xlsx")]
            if year.isdigit() and len(year) == 4:
                found.append(int(year))
        return sorted(found)

    def archive_if_any(self, year: int) -> ExcelBackend | None:
        path = self.archive_path(year)
        return ExcelBackend(path) if path.exists() else None

    def archive_for(self, year: int, header: Sequence[str]) -> ExcelBackend:
        """The archive workbook of ``year`` beside the queue (a Queue and a History tab), made if missing."""
        path = self.archive_path(year)
        if not path.exists():
            with workbook_lock(path):
                if not path.exists():
                    atomic_write(path, lambda tmp: _new_archive(tmp, header))
        return ExcelBackend(path)

    # --- internals ----------------------------------------------------------------------------------------
    def _apply(
        self,
        edits: Mapping[str, Mapping[tuple[int, int], CellValue]],
        appends: Mapping[str, Sequence[Sequence[CellValue]]],
        tabs: Sequence[TabSpec],
        *,
        present: frozenset[str],
        removals: Mapping[str, Sequence[int]] | None = None,
    ) -> None:
        edits = {k: v for k, v in edits.items() if v}
        missing = (set(edits) | set(appends)) - present
        reason = f"tab(s) {', '.join(sorted(missing))} must be created" if missing else None
        if reason is None:
            from callback_sheets.backends.xlsx_patch import PatchRefused, patch_workbook

            try:
                atomic_write(
                    self.path,
                    lambda tmp: patch_workbook(
                        self.path, tmp, edits=edits, appends=appends, removals=removals or {}
                    ),
                )
                self.last_write_path = "patch"
                return
            except PatchRefused as exc:
                reason = str(exc)
        if removals:
            raise BackendError(
                f"cannot remove rows from {self.label}: {reason}; nothing was removed "
                "(the archive keeps its copy; the next archive run finishes the move once this is fixed)"
            )
        log.warning(
            "note: %s written with openpyxl (%s); see README, 'What openpyxl loses'", self.label, reason
        )
        self.last_write_path = f"openpyxl: {reason}"
        from callback_sheets.backends import excel_openpyxl

        specs = {t.name: t for t in tabs}
        atomic_write(
            self.path,
            lambda tmp: excel_openpyxl.save_with_changes(
                self.path, tmp, edits=edits, appends=appends, specs=specs
            ),
        )

    def _must_exist(self) -> None:
        if not self.path.exists():
            raise BackendError(
                f"workbook {self.path} does not exist: run `callback-sheets init` to create it"
            )


def _new_archive(path: Path, header: Sequence[str]) -> None:
    from openpyxl import Workbook  # only when a year's archive is first made
    from openpyxl.styles import Font

    book = Workbook()
    queue = book.active
    assert queue is not None
    queue.title = model.QUEUE_TAB
    queue.append(list(header))
    history = book.create_sheet(model.HISTORY_TAB)
    history.append(list(model.HISTORY_COLUMNS))
    from openpyxl.utils import get_column_letter

    for sheet, names in ((queue, list(header)), (history, list(model.HISTORY_COLUMNS))):
        sheet.freeze_panes = "A2"
        for col, (cell, name) in enumerate(zip(sheet[1], names, strict=False), start=1):
            cell.font = Font(bold=True)
            spec = model.COLUMNS_BY_NAME.get(str(name))
            wide = spec.width if spec else (17 if name in model.TAB_DATETIME_COLUMNS else 14)
            sheet.column_dimensions[get_column_letter(col)].width = wide + 2
    book.save(path)
