"""The Excel backend: an .xlsx file that staff edit in Excel or LibreOffice.

Reads go through a fast reader; writes go through the zero-collateral patcher (only the changed cells
are rewritten, every other part of the file is copied byte for byte) and fall back to openpyxl only where
the patcher says it cannot edit safely. Every write is atomic and refused while the file is open elsewhere.
"""

from __future__ import annotations

import glob
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from callback_sheets import model
from callback_sheets.backends.base import WriteResult
from callback_sheets.backends.excel.files import FileVersion, atomic_write
from callback_sheets.backends.excel.lock import refuse_if_open, workbook_lock
from callback_sheets.cells import (
    CellValue,
    Changeset,
    Snapshot,
    WriteMode,
    column_index,
    is_blank,
    removed_positions,
)
from callback_sheets.errors import BackendError, WorkbookChangedError
from callback_sheets.layout import TabSpec

if TYPE_CHECKING:
    from callback_sheets.backends.excel.xlsx.patch import Graft
    from callback_sheets.look import Look


@dataclass(frozen=True, slots=True)
class _Version:
    """What a read saw: the file's identity (to notice a save meanwhile) and the workbook's tabs."""

    file: FileVersion
    sheets: frozenset[str]


class ExcelBackend:
    def __init__(self, path: Path, *, tabs: Mapping[str, str] | None = None) -> None:
        self.path = Path(path)
        self.label = self.path.name
        self.last_write_path: str = ""  # "patch" or "openpyxl: <why>", for tests and the log
        self.tab_names: dict[str, str] = dict(tabs or {})
        """Tab role (its default name, e.g. "Lists") -> the name it has in this workbook ([queue] tabs)."""

    def _name(self, role: str) -> str:
        return self.tab_names.get(role, role)

    # --- the port ---------------------------------------------------------------------------------------
    def init(
        self,
        *,
        header: Sequence[str],
        tabs: Sequence[TabSpec],
        choices: Mapping[str, Sequence[str]],
        look: Look | None = None,
    ) -> list[str]:
        if self.path.exists():
            refuse_if_open(self.path)
        with workbook_lock(self.path):
            if look is None:
                from callback_sheets.look import DEFAULT_LOOK

                look = DEFAULT_LOOK
            if not self.path.exists():
                return self._create(header=header, tabs=tabs, choices=choices, look=look)
            return self._upgrade(header=header, tabs=tabs, choices=choices, look=look)

    def _create(
        self,
        *,
        header: Sequence[str],
        tabs: Sequence[TabSpec],
        choices: Mapping[str, Sequence[str]],
        look: Look,
    ) -> list[str]:
        """A new workbook: the tool's tabs as openpyxl builds them (nothing else to keep)."""
        from callback_sheets.backends.excel.init import donor_package, renamed_package

        donor = donor_package(header=header, tabs=tabs, choices=choices, look=look)
        package = renamed_package(donor, self.tab_names)

        def produce(tmp: Path) -> None:
            tmp.write_bytes(package)

        atomic_write(self.path, produce)
        roles = (model.QUEUE_TAB, model.LISTS_TAB, *(t.name for t in tabs), *_scripts_role(look))
        names = [self._name(n) for n in roles]
        return [f"created {self.label} with tabs {', '.join(names)}"]

    def _upgrade(
        self,
        *,
        header: Sequence[str],
        tabs: Sequence[TabSpec],
        choices: Mapping[str, Sequence[str]],
        look: Look,
    ) -> list[str]:
        """An existing workbook: missing tabs grafted, missing Queue columns added, through the patcher."""
        from callback_sheets.backends.excel.guard import check_package
        from callback_sheets.backends.excel.init import donor_package, plan_init
        from callback_sheets.backends.excel.xlsx.patch import Graft, PatchRefused, patch_workbook
        from callback_sheets.backends.excel.xlsx.read import PackageRefused
        from callback_sheets.backends.excel.xlsx.read import check_package as check_zip_limits

        seen = FileVersion.of(self.path, digest=True)
        try:
            check_zip_limits(self.path)  # zip bombs first, then the XML-level checks
        except PackageRefused as exc:
            raise BackendError(f"{self.label}: {exc}") from None
        check_package(self.path)
        donor = donor_package(header=header, tabs=tabs, choices=choices, look=look)
        try:
            roles = [*tabs, *(TabSpec(name, ()) for name in _scripts_role(look))]
            edits, graft, rules, notes = plan_init(
                self.path, header=header, tabs=roles, choices=choices, names=self.tab_names,
                label=self.label, donor=donor,
            )  # fmt: skip
        except BackendError:
            raise
        except Exception as exc:  # calamine on a damaged package: one line
            raise BackendError(f"cannot read {self.label}: {exc}; is it an .xlsx workbook?") from None
        if not edits and not graft and not rules:
            return [f"{self.label} is up to date"]
        plan = Graft(donor, graft, {role: self._name(role) for role in graft}) if graft else None

        def produce(tmp: Path) -> None:
            patch_workbook(self.path, tmp, edits=edits, graft=plan, rules=rules)
            if not FileVersion.of(self.path).same_file(seen):  # saved meanwhile: theirs wins, nothing written
                raise WorkbookChangedError(
                    f"{self.label} was saved by someone else during init: run it again"
                )

        try:
            atomic_write(self.path, produce, expected=seen)
        except PatchRefused as exc:
            raise BackendError(
                f"{self.label} cannot be given the tool's tabs safely: {exc} (nothing was written)"
            ) from None
        self.last_write_path = "patch"
        return notes

    @contextmanager
    def session(self) -> Iterator[None]:
        self._must_exist()
        refuse_if_open(self.path)
        with workbook_lock(self.path):
            yield

    def read(
        self,
        *,
        tabs: Sequence[str] = (),
        history_of: str | None = None,
        rows_of: str | None = None,
        without_statuses: Collection[str] = (),
    ) -> Snapshot:
        self._must_exist()
        from callback_sheets.backends.excel.guard import check_heads
        from callback_sheets.backends.excel.reading import queue_rows, read_grids
        from callback_sheets.backends.excel.xlsx.read import PackageRefused

        by_role = {role: self._name(role) for role in (model.QUEUE_TAB, *tabs)}
        for attempt in range(1, 4):  # a save during the read: read again
            before = FileVersion.of(self.path)
            try:
                check_heads(self.path, limits=True)  # the zip limits and the XML heads, in one opening
                names, grids, positions = read_grids(
                    self.path, by_role, history_of, rows_of, without_statuses
                )
            except PackageRefused as exc:
                raise BackendError(f"{self.label}: {exc}") from None
            except BackendError:
                raise
            except Exception as exc:  # a damaged or non-xlsx file: say so in one line
                raise BackendError(f"cannot read {self.label}: {exc}; is it an .xlsx workbook?") from None
            file = FileVersion.of(self.path, digest=True)
            if file.same_file(before):
                break
            if attempt == 3:
                raise WorkbookChangedError(f"{self.label} kept changing while it was read")
        grids = {role: grids[name] for role, name in by_role.items() if name in grids}
        queue = grids.pop(model.QUEUE_TAB, None)
        if queue is None:
            raise BackendError(
                f"{self.label} has no {self._name(model.QUEUE_TAB)!r} tab: "
                "run `callback-sheets init` to add it"
            )
        header, rows = queue_rows(queue, positions)
        tab_grids = {name: tuple(map(tuple, grid)) for name, grid in grids.items()}
        return Snapshot(header=header, rows=rows, tabs=tab_grids, version=_Version(file, frozenset(names)))

    def write(self, snapshot: Snapshot, changes: Changeset, *, tabs: Sequence[TabSpec] = ()) -> WriteResult:
        if not changes:
            return WriteResult(0)
        refuse_if_open(self.path)
        version = snapshot.version
        if not isinstance(version, _Version) or not FileVersion.of(self.path).same_file(version.file):
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
        self._apply(edits, appends, tabs, present=version.sheets, removals=removals, expected=version.file)
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
        expected: FileVersion | None = None,
        removals: Mapping[str, Sequence[int]] | None = None,
    ) -> None:
        folded = {name.casefold(): name for name in present}

        def actual(role: str) -> str:
            name = self._name(role)
            return folded.get(name.casefold(), name)

        edits = {actual(k): v for k, v in edits.items() if v}
        appends = {actual(k): v for k, v in appends.items()}
        removed = {actual(k): v for k, v in (removals or {}).items() if v}
        roles = {actual(t.name): t for t in tabs}
        missing = sorted((set(edits) | set(appends)) - set(present))
        reason = self._patched(edits, appends, removed, missing, roles, expected)
        if reason is None:
            return
        if removed:
            raise BackendError(
                f"cannot remove rows from {self.label}: {reason}; nothing was removed "
                "(the archive keeps its copy; the next archive run finishes the move once this is fixed)"
            )
        import logging

        logging.getLogger(__name__).warning(
            "note: %s written with openpyxl (%s); see README, 'What openpyxl loses'", self.label, reason
        )
        self.last_write_path = f"openpyxl: {reason}"
        from callback_sheets.backends.excel import workbook as excel_openpyxl

        specs = {actual(t.name): TabSpec(actual(t.name), t.header) for t in tabs}
        atomic_write(
            self.path,
            lambda tmp: excel_openpyxl.save_with_changes(
                self.path, tmp, edits=edits, appends=appends, specs=specs
            ),
            expected=expected,
        )

    def _patched(
        self,
        edits: Mapping[str, Mapping[tuple[int, int], CellValue]],
        appends: Mapping[str, Sequence[Sequence[CellValue]]],
        removed: Mapping[str, Sequence[int]],
        missing: Sequence[str],
        roles: Mapping[str, TabSpec],
        expected: FileVersion | None,
    ) -> str | None:
        """Writes the changes with the zero-collateral patcher (the ``missing`` tabs grafted first);
        None once written, else the reason it refused (nothing written)."""
        from callback_sheets.backends.excel.xlsx.patch import PatchRefused, patch_workbook

        try:
            if missing:
                graft = self._missing_tabs(missing, roles)

                def produce(tmp: Path) -> None:
                    middle = tmp.with_name(tmp.name + ".graft.xlsx")
                    try:
                        patch_workbook(self.path, middle, graft=graft)
                        patch_workbook(middle, tmp, edits=edits, appends=appends, removals=removed)
                    finally:
                        middle.unlink(missing_ok=True)

                atomic_write(self.path, produce, expected=expected)
            else:
                atomic_write(
                    self.path,
                    lambda tmp: patch_workbook(
                        self.path, tmp, edits=edits, appends=appends, removals=removed
                    ),
                    expected=expected,
                )
        except PatchRefused as exc:
            return str(exc)
        self.last_write_path = "patch"
        return None

    def _missing_tabs(self, missing: Sequence[str], specs: Mapping[str, TabSpec]) -> Graft:
        """The graft that adds the tool's tabs a write needs and the workbook lacks (named as configured)."""
        from callback_sheets.backends.excel.init import tabs_package
        from callback_sheets.backends.excel.xlsx.patch import Graft

        wanted = [specs[name] if name in specs else TabSpec(name, ()) for name in missing]
        roles = {name: next((r for r in self._roles() if self._name(r) == name), name) for name in missing}
        donor = tabs_package([TabSpec(roles[t.name], t.header) for t in wanted])
        return Graft(donor, [roles[name] for name in missing], {roles[name]: name for name in missing})

    def _roles(self) -> list[str]:
        return [model.QUEUE_TAB, model.LISTS_TAB, model.HISTORY_TAB, model.METRICS_TAB, model.DEMAND_TAB,
                model.INTAKE_TAB, *self.tab_names]  # fmt: skip

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


def _scripts_role(look: Look) -> tuple[str, ...]:
    """The Scripts tab, when the look has one: a tab of the tool's that `init` grafts like the others."""
    return (model.SCRIPTS_TAB,) if look.scripts else ()
