"""The `import-calls` use case: read a phone-system export, merge it into the queue, remember its calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from callback_sheets import model, service
from callback_sheets.backends.base import (
    Backend,
    CellValue,
    CellWrite,
    Changeset,
    Snapshot,
    WriteMode,
    grid_rows,
)
from callback_sheets.config import Config
from callback_sheets.intake import CallLog, ImportPlan, plan_import, read_call_log
from callback_sheets.refresh import check_header
from callback_sheets.times import to_cell
from callback_sheets.validation import text


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    log: CallLog
    plan: ImportPlan
    written: bool


def import_calls(
    *,
    config: Config,
    backend: Backend,
    path: Path,
    fmt: str | None,
    now: datetime,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportOutcome:
    """Add one queue row per new missed call in `path`; repeat callers merge into their open item."""
    log = read_call_log(
        path,
        fmt=fmt or config.intake.format,
        mapping=config.intake.mapping,
        export_tz=config.intake.export_tz,
        clinic_tz=config.tz,
        region=config.phone_region,
        progress=progress,
        date_order=config.order_of_dates(),
    )
    cal = config.calendar()
    days = config.repeat_window_business_days
    closed = config.closed_statuses

    def step(_: int) -> ImportOutcome:
        snapshot = backend.read(tabs=(model.INTAKE_TAB,))
        check_header(snapshot)
        plan = plan_import(
            calls=log.calls,
            queue=[dict(r.values) for r in snapshot.rows],
            imported_keys=imported_keys(snapshot),
            window_end=lambda t: cal.add_business_days(t, days),
            is_open=lambda r: text(r.get(model.STATUS)) not in closed,
            region=config.phone_region,
        )
        changes = None if dry_run else _changeset(snapshot, plan, config, now)
        if not changes:
            return ImportOutcome(log, plan, False)
        backend.write(snapshot, changes, tabs=service.TOOL_TABS)
        return ImportOutcome(log, plan, True)

    return service.retrying(backend, step, what="the import")


def imported_keys(snapshot: Snapshot) -> set[str]:
    return {str(r[0]) for _, r in grid_rows(snapshot.tabs.get(model.INTAKE_TAB, ())) if r and r[0]}


def _cell(value: object, config: Config) -> CellValue:
    if isinstance(value, datetime):
        return to_cell(value, config.tz)
    return value  # type: ignore[return-value]


def _changeset(snapshot: Snapshot, plan: ImportPlan, config: Config, now: datetime) -> Changeset:
    positions = {text(r.get(model.ID)): r for r in snapshot.rows if text(r.get(model.ID))}
    cells = []
    for row_id, values in plan.updates.items():
        row = positions.get(row_id)
        if row is None:
            continue
        for column, value in values.items():
            cells.append(
                CellWrite(row.position, row_id, column, _cell(value, config), WriteMode.TOOL, row.get(column))
            )
    new_rows = [{k: _cell(v, config) for k, v in r.items()} for r in plan.new_rows]
    stamp = to_cell(now, config.tz)
    keys = [[key, stamp] for key in plan.new_keys]
    return Changeset(cells=cells, new_rows=new_rows, tab_appends={model.INTAKE_TAB: keys} if keys else {})
