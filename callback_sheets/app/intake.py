"""The `import-calls` use case: read a phone-system export, merge it into the queue, remember its calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from callback_sheets import model
from callback_sheets.app.cycle import retrying
from callback_sheets.backends.base import Backend
from callback_sheets.cells import CellValue, CellWrite, Changeset, Snapshot, WriteMode, grid_rows, text
from callback_sheets.config import Config
from callback_sheets.core.arrival import EARLIER_CALL, earlier_call_note
from callback_sheets.core.refresh import check_header
from callback_sheets.core.times import to_cell
from callback_sheets.intake import AsteriskOptions, CallLog, ImportPlan, plan_import, read_call_log
from callback_sheets.layout import TOOL_TABS


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    log: CallLog
    plan: ImportPlan
    written: bool
    too_short: int = 0  # missed calls that rang less than [intake] ignore_shorter_than_seconds


def read_export(
    *, config: Config, path: Path, fmt: str | None, progress: Callable[[int, int], None] | None = None
) -> CallLog:
    """Read an export with the config's intake settings (format, time zone, mapping, Asterisk options)."""
    intake = config.intake
    return read_call_log(
        path,
        fmt=fmt or intake.format,
        mapping=intake.mapping,
        export_tz=intake.export_tz,
        clinic_tz=config.tz,
        region=config.phone_region,
        progress=progress,
        date_order=config.order_of_dates(),
        export_tz_set=intake.timezone_set,
        asterisk_options=AsteriskOptions(
            columns=intake.asterisk_columns,
            usegmtime=intake.asterisk_usegmtime,
            announcement_only=intake.asterisk_announcement_only,
            extension_max_digits=intake.asterisk_extension_max_digits,
        ),
    )


def drop_short(log: CallLog, seconds: float) -> int:
    """Remove the calls that rang less than `seconds` (where the export says how long); their count."""
    if seconds <= 0:
        return 0
    kept = [c for c in log.calls if c.rang_seconds is None or c.rang_seconds >= seconds]
    dropped = len(log.calls) - len(kept)
    log.calls[:] = kept
    return dropped


def import_calls(
    *,
    config: Config,
    backend: Backend,
    path: Path,
    fmt: str | None,
    now: datetime,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    log: CallLog | None = None,
) -> ImportOutcome:
    """Add one queue row per new missed call in `path` (or in `log`, when it was read already); repeat
    callers merge into their open item."""
    log = log if log is not None else read_export(config=config, path=path, fmt=fmt, progress=progress)
    too_short = drop_short(log, config.intake.ignore_shorter_than_seconds)
    cal = config.calendar()
    days = config.repeat_window_business_days
    closed = config.closed_statuses

    def step(_: int) -> ImportOutcome:
        snapshot = backend.read(tabs=(model.INTAKE_TAB,))
        check_header(snapshot)
        keys = imported_keys(snapshot)
        plan = plan_import(
            calls=log.calls,
            queue=[dict(r.values) for r in snapshot.rows],
            imported_keys=keys,
            created_marks={k for k in keys if k.startswith("row:")},
            window_end=lambda t: cal.add_business_days(t, days),
            is_open=lambda r: text(r.get(model.STATUS)) not in closed,
            region=config.phone_region,
        )
        changes = None if dry_run else _changeset(snapshot, plan, config, now)
        if not changes:
            return ImportOutcome(log, plan, False, too_short)
        backend.write(snapshot, changes, tabs=TOOL_TABS)
        return ImportOutcome(log, plan, True, too_short)

    return retrying(backend, step, what="the import")


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
            # Received is a staff cell: written only while it still holds what the import wrote (SET
            # refuses a value changed since the read)
            mode = WriteMode.SET if column == model.RECEIVED else WriteMode.TOOL
            cells.append(CellWrite(row.position, row_id, column, _cell(value, config), mode, row.get(column)))
    for row_id, earlier in plan.earlier_calls.items():
        row = positions.get(row_id)
        if row is None:
            continue
        before = row.get(model.PROBLEMS)
        kept = [p for p in text(before).split("; ") if p and not p.startswith(EARLIER_CALL)]
        value = "; ".join([*kept, earlier_call_note(earlier.astimezone(config.tz))])
        cells.append(CellWrite(row.position, row_id, model.PROBLEMS, value, WriteMode.TOOL, before))
    new_rows = [{k: _cell(v, config) for k, v in r.items()} for r in plan.new_rows]
    stamp = to_cell(now, config.tz)
    keys: list[list[CellValue]] = [[key, stamp] for key in (*plan.new_keys, *plan.new_marks)]
    return Changeset(cells=cells, new_rows=new_rows, tab_appends={model.INTAKE_TAB: keys} if keys else {})
