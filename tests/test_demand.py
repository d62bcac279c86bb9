"""Demand, pure: the weekday × hour grid, the breakdowns with recovery beside, the weekly series, and the
fixed cell layout the Excel colour scale and chart point at."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from callback_sheets.core import demand as dem
from callback_sheets.core.metrics import Case
from callback_sheets.layout import (
    BREAKDOWN_COL,
    BREAKDOWN_FIRST_ROW,
    DEMAND_HEADER_ROW,
    GRID_FIRST_COL,
    GRID_FIRST_ROW,
    SIDE_COL,
    TOTALS_ROW,
    TREND_FIRST_ROW,
    TREND_HEADER_ROW,
    TREND_LAST_ROW,
)

TZ = ZoneInfo("America/Chicago")


def case(
    received: str,
    *,
    status: str = "New",
    outcomes: tuple[str, ...] = (),
    language: str | None = "English",
    reason: str | None = "Billing",
    patient_type: str | None = "Existing",
) -> Case:
    return Case(
        id=received,
        received=datetime.fromisoformat(received).replace(tzinfo=TZ),
        calls=1,
        status=status,
        closed=status in ("Booked", "Resolved", "No response", "Duplicate"),
        attempts=len(outcomes),
        outcomes=frozenset(outcomes),
        first_attempt=None,
        closed_at=None,
        escalated=False,
        language=language,
        reason=reason,
        patient_type=patient_type,
    )


CASES = [
    case("2026-12-01 09:10", status="Booked", outcomes=("Booked",)),  # Tue 09, recovered
    case(
        "2026-12-01 09:55", language="Spanish", status="No response", outcomes=("No answer",)
    ),  # Tue 09, lost
    case("2026-12-01 09:59", status="Duplicate"),  # not a missed call
    case("2026-12-05 23:30", language="Spanish", outcomes=("Reached",), reason=None),  # Sat 23, recovered
    case("2026-11-03 10:00"),  # outside a 4-week window ending 2026-12-07
]


def test_grid_counts_by_weekday_and_hour_within_the_window() -> None:
    start, end = dem.window(datetime(2026, 12, 7, 10, tzinfo=TZ))
    assert (start, end) == (date(2026, 11, 10), date(2026, 12, 7))
    d = dem.demand(CASES, start=start, end=end)
    assert d.grid[1][9] == 2 and d.recovered_grid[1][9] == 1
    assert d.grid[5][23] == 1 and d.recovered_grid[5][23] == 1
    assert sum(map(sum, d.grid)) == 3
    assert d.weekday(1).recovery_rate == 0.5


def test_breakdowns_put_recovery_beside_each_value() -> None:
    d = dem.demand(CASES, start=date(2026, 11, 10), end=date(2026, 12, 7))
    assert [(t.value, t.missed_calls, t.recovered) for t in d.by_language] == [
        ("Spanish", 2, 1),
        ("English", 1, 1),
    ]
    assert [(t.value, t.missed_calls) for t in d.by_reason] == [("Billing", 2), ("(none)", 1)]
    assert dem.Tally("x", 0, 0).recovery_rate is None


def test_weekly_series_oldest_first_with_the_current_week_last() -> None:
    series = dem.weekly_series(CASES, now=datetime(2026, 12, 7, 10, tzinfo=TZ), weeks=6)
    assert [t.value for t in series] == [
        "2026-11-02",
        "2026-11-09",
        "2026-11-16",
        "2026-11-23",
        "2026-11-30",
        "2026-12-07",
    ]
    assert [(t.missed_calls, t.recovered) for t in series] == [(1, 0), (0, 0), (0, 0), (0, 0), (3, 2), (0, 0)]


def test_cells_follow_the_fixed_layout() -> None:
    d = dem.demand(CASES, start=date(2026, 11, 10), end=date(2026, 12, 7))
    cells = dem.demand_cells(d)
    tuesday = GRID_FIRST_ROW + 1
    assert cells[(tuesday, 1)] == "Tue"
    assert cells[(tuesday, GRID_FIRST_COL + 9)] == 2
    assert cells[(tuesday, SIDE_COL)] == 2 and cells[(tuesday, SIDE_COL + 2)] == 50.0
    assert cells[(TOTALS_ROW, SIDE_COL)] == 3
    assert cells[(DEMAND_HEADER_ROW, GRID_FIRST_COL + 23)] == "23"
    assert cells[(BREAKDOWN_FIRST_ROW, BREAKDOWN_COL)] == "Reason"
    series = dem.weekly_series(CASES, now=datetime(2026, 12, 7, 10, tzinfo=TZ))
    trend = dem.trend_cells(series)
    assert trend[(TREND_HEADER_ROW, 3)] == "Recovery rate %"
    # The chart starts at the first week with a call; the rows after the last week are cleared.
    weeks = [t.missed_calls for t in series]
    first = next(i for i, n in enumerate(weeks) if n)
    shown = series[first:]
    assert (
        trend[(TREND_FIRST_ROW, 1)] == shown[0].value and trend[(TREND_FIRST_ROW, 2)] == weeks[first]
    )
    assert trend[(TREND_FIRST_ROW + len(shown) - 2, 2)] == 3
    assert trend[(TREND_FIRST_ROW + len(shown) - 2, 3)] == 66.7
    assert first == 0 or trend[(TREND_FIRST_ROW + len(shown), 1)] is None
    assert max(r for r, _ in trend) == TREND_LAST_ROW
