"""Keeps the Demand tab and the Metrics chart's weekly data current on every refresh: a refresh
contributor (listed in :data:`callback_sheets.app.service.CONTRIBUTORS`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from callback_sheets import model
from callback_sheets.app.cases import CaseReader
from callback_sheets.cells import CellValue, Grid, Snapshot, changed_cells
from callback_sheets.config import Config
from callback_sheets.core import demand as dem
from callback_sheets.core.refresh_plan import RefreshPlan
from callback_sheets.core.times import parse_when
from callback_sheets.layout import TREND_FIRST_ROW, TREND_LAST_ROW, TREND_WEEKS


# --- the refresh contributor -----------------------------------------------------------------------------
def contribute_demand(snapshot: Snapshot, plan: RefreshPlan, config: Config, now: datetime) -> None:
    """Keep the Demand tab's grid and the Metrics chart's weekly data current (changed cells only)."""
    first_monday = now.date() - timedelta(days=now.weekday(), weeks=TREND_WEEKS - 1)
    since = parse_when(first_monday.isoformat(), config.tz)
    assert since is not None
    cases = CaseReader(config=config).from_views(
        plan.views, snapshot.tabs.get(model.HISTORY_TAB, ()), since=since
    )
    start, end = dem.window(now.astimezone(config.tz))
    demand_grid = snapshot.tabs.get(model.DEMAND_TAB, ())
    wanted = dem.demand_cells(dem.demand(cases, start=start, end=end))
    for r, row in enumerate(demand_grid, start=1):  # clear what an earlier, longer grid left
        for c, value in enumerate(row, start=1):
            if value is not None and (r, c) not in wanted:
                wanted[(r, c)] = None
    metrics_grid = snapshot.tabs.get(model.METRICS_TAB, ())
    series: dict[tuple[int, int], CellValue] = dict(
        dem.trend_cells(dem.weekly_series(cases, now=now.astimezone(config.tz)))
    )
    trend = _kept_archived_weeks(series, metrics_grid, config, now)
    for tab, cells in (
        (model.DEMAND_TAB, changed_cells(demand_grid, wanted)),
        (model.METRICS_TAB, changed_cells(metrics_grid, trend)),
    ):
        if cells:
            plan.changes.tab_cells.setdefault(tab, {}).update(cells)


def _kept_archived_weeks(
    trend: dict[tuple[int, int], CellValue], grid: Grid, config: Config, now: datetime
) -> dict[tuple[int, int], CellValue]:
    """The chart's weeks that reach back past the archive horizon keep the figures they had when their
    items were still in the queue: a refresh reads the Queue only, and archived items would otherwise
    lower those weeks (the reports, which read the archives, give the full figures)."""
    from callback_sheets.app.archive import horizon

    oldest = horizon(config, now).isoformat()
    had = {
        str(row[0]): (row[1], row[2]) if len(row) > 2 else (row[1], None)
        for row in grid[TREND_FIRST_ROW - 1 : TREND_LAST_ROW]
        if len(row) > 1
        and isinstance(row[0], str)
        and isinstance(row[1], int)
        and not isinstance(row[1], bool)
    }
    for (r, c), value in list(trend.items()):
        if c != 1 or r < TREND_FIRST_ROW or not isinstance(value, str) or value >= oldest:
            continue
        kept = had.get(value)
        missed = trend.get((r, 2))
        if kept is not None and isinstance(missed, int) and isinstance(kept[0], int) and kept[0] > missed:
            trend[(r, 2)], trend[(r, 3)] = kept
    return trend
