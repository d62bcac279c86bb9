"""Use cases for the figures: build a daily or weekly report and append it to the Metrics tab.
day before it closes.

Queue rows become :class:`~callback_sheets.core.metrics.Case` records through :mod:`.cases`; the
end-of-day review is in :mod:`.review`, the Demand tab's upkeep on every refresh in :mod:`.demand_tab`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from callback_sheets import model
from callback_sheets.app.cases import CaseReader
from callback_sheets.app.cycle import bulk_work, retrying
from callback_sheets.backends.base import Backend
from callback_sheets.cells import CellValue, Changeset, Grid, Snapshot, changed_cells, text
from callback_sheets.config import Config
from callback_sheets.core import demand as dem
from callback_sheets.core.metrics import (
    Figures,
    Period,
    aggregate,
    in_period,
    measure,
    period_for,
    scope_label,
    scoped,
)
from callback_sheets.core.refresh import check_header
from callback_sheets.core.times import to_cell
from callback_sheets.errors import UsageError
from callback_sheets.layout import METRICS_COLUMNS, METRICS_TABLE_ROW, TOOL_TABS

SCHEMA = "callback-sheets/report/1"


@dataclass(frozen=True, slots=True)
class ScopeFigures:
    dimension: str  # "all", "owner", "reason", "language" or "patient-type"
    value: str | None  # None for "all"
    figures: Figures

    @property
    def label(self) -> str:
        return scope_label(self.dimension, self.value)


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    now: datetime
    by: str | None
    scopes: tuple[ScopeFigures, ...]
    demand: dem.Demand

    def as_dict(self) -> dict[str, object]:
        return {
            "schema": SCHEMA,
            "period": {
                "kind": self.period.kind,
                "label": self.period.label,
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
            },
            "generated_at": self.now.isoformat(timespec="minutes"),
            "by": self.by,
            "scopes": [
                {
                    "scope": s.label,
                    "dimension": None if s.value is None else s.dimension,
                    "value": s.value,
                    "figures": s.figures.as_dict(),
                }
                for s in self.scopes
            ],
            "demand": self.demand.as_dict(),
        }

    def rows(self) -> list[dict[str, CellValue]]:
        """One flat row per scope, by METRICS_COLUMNS (the Metrics tab and --csv)."""
        return [dict(zip(METRICS_COLUMNS, self._flat(s), strict=True)) for s in self.scopes]

    def _flat(self, s: ScopeFigures) -> list[CellValue]:
        f = s.figures
        t, e = f.first_callback.as_dict(), f.escalation_handling.as_dict()
        return [
            self.period.label,
            self.period.kind,
            self.period.start.isoformat(),
            self.period.end.isoformat(),
            s.label,
            f.missed_calls,
            f.calls,
            f.recovered,
            dem.percent(f.recovery_rate),
            t["mean"],
            t["median"],
            t["p90"],
            t["count"],
            f.first_attempt_unknown,
            f.same_block.met,
            f.same_block.judged,
            dem.percent(f.same_block.share),
            f.same_day.met,
            f.same_day.judged,
            dem.percent(f.same_day.share),
            f.booked,
            f.unresolved,
            f.unresolved_over_1_business_day,
            f.escalations,
            e["mean"],
            e["median"],
            e["p90"],
            f.escalations_pending,
            f.no_response,
            to_cell(self.now, self.now.tzinfo),  # type: ignore[arg-type]
            f.after_hours,
            f.after_hours_recovered,
            dem.percent(f.after_hours_recovery_rate),
        ]


def build_report(
    *,
    config: Config,
    snapshot: Snapshot,
    period: str,
    now: datetime,
    on: date | None = None,
    by: str | None = None,
) -> Report:
    """The figures for the day (or the week containing) ``on`` (default: now's date), per scope."""
    try:
        chosen = period_for(period, on or now.astimezone(config.tz).date())
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    check_header(snapshot)
    start, _ = chosen.bounds(config.tz)
    with bulk_work():
        cases = in_period(CaseReader(config=config).cases(snapshot, since=start), chosen, config.tz)
        try:
            groups = scoped(measure(cases, calendar=config.calendar(), now=now), by)
        except ValueError as exc:
            raise UsageError(f"--by: {exc}") from None
        scopes = tuple(ScopeFigures(d, v, aggregate(m)) for d, v, m in groups)
        return Report(chosen, now, by, scopes, dem.demand(cases, start=chosen.start, end=chosen.end))


def _with_archives(
    snapshot: Snapshot, backend: Backend, config: Config, period: str, now: datetime, on: date | None
) -> Snapshot:
    """The snapshot with the archived items of the period, when it reaches back past the horizon."""
    from callback_sheets.app import archive

    try:
        chosen = period_for(period, on or now.astimezone(config.tz).date())
    except ValueError:
        return snapshot  # build_report says why
    if chosen.start >= archive.horizon(config, now):
        return snapshot
    return archive.with_archives(
        snapshot, backend=backend, config=config, now=now, start=chosen.start, end=chosen.end
    )


def report(
    *,
    config: Config,
    backend: Backend,
    period: str,
    now: datetime,
    on: date | None = None,
    by: str | None = None,
) -> Report:
    with bulk_work():  # build_report pauses the collector for its own part
        snapshot = _with_archives(backend.read(tabs=(model.HISTORY_TAB,)), backend, config, period, now, on)
    return build_report(config=config, snapshot=snapshot, period=period, now=now, on=on, by=by)


@dataclass(frozen=True, slots=True)
class AppendResult:
    report: Report
    added: int  # new rows in the Metrics table
    replaced: int  # rows of the same period and scope written over


def append_report(
    *,
    config: Config,
    backend: Backend,
    period: str,
    now: datetime,
    on: date | None = None,
    by: str | None = None,
) -> AppendResult:
    """Upsert the report into the Metrics tab: one row per period and scope (header the first time).
    A report for a date after ``now``'s is refused: figures for a day still to come would be written as
    if final (and a clock that ran ahead must not leave them behind)."""
    today = now.astimezone(config.tz).date()
    if on is not None and on > today:
        raise UsageError(
            f"the {period} report for {on.isoformat()} is not written: that date is after today "
            f"({today.isoformat()}); check --date, --now or the server's clock"
        )

    def step(_: int) -> AppendResult:
        snapshot = backend.read(tabs=(model.HISTORY_TAB, model.METRICS_TAB))
        built = build_report(
            config=config,
            snapshot=_with_archives(snapshot, backend, config, period, now, on),
            period=period,
            now=now,
            on=on,
            by=by,
        )
        grid = snapshot.tabs.get(model.METRICS_TAB, ())
        cells, added, replaced = _upsert(grid, built.rows())
        trend = dem.trend_cells(dem.weekly_series(CaseReader(config=config).cases(snapshot), now=now))
        cells.update(changed_cells(grid, trend))
        backend.write(snapshot, Changeset(tab_cells={model.METRICS_TAB: cells}), tabs=TOOL_TABS)
        return AppendResult(built, added, replaced)

    return retrying(backend, step, what="the report")


def _upsert(
    grid: Grid, rows: Sequence[Mapping[str, CellValue]]
) -> tuple[dict[tuple[int, int], CellValue], int, int]:
    top = METRICS_TABLE_ROW
    cells: dict[tuple[int, int], CellValue] = {}
    header = grid[top - 1] if len(grid) >= top else ()
    if tuple(text(v) for v in header[: len(METRICS_COLUMNS)]) != METRICS_COLUMNS:
        cells.update({(top, c): name for c, name in enumerate(METRICS_COLUMNS, start=1)})
    where: dict[tuple[str, str], int] = {}
    for number in range(top + 1, len(grid) + 1):
        row = grid[number - 1]
        if row and text(row[0]):
            where.setdefault((text(row[0]), text(row[4]) if len(row) > 4 else ""), number)
    next_row = max(len(grid), top) + 1
    added = replaced = 0
    for values in rows:
        key = (str(values["Period"]), str(values["Scope"]))
        found = where.get(key)
        if found is None:
            number, next_row, added = next_row, next_row + 1, added + 1
        else:
            number, replaced = found, replaced + 1
        cells.update({(number, c): values[name] for c, name in enumerate(METRICS_COLUMNS, start=1)})
    return cells, added, replaced
