"""Demand: when missed calls come in and who is lost, as plain numbers and as the tool tabs' cell layout.

Pure. The weekday × hour grid counts missed calls (non-duplicate items, by the clinic-local time of
``Received``) over a window (the last 4 weeks by default), with each weekday's recovery rate beside it;
the breakdowns by reason, patient type and language put the recovery rate beside each value, so it
shows whether, say, Spanish-speaking callers are lost more often. The weekly series (missed calls and
recovery rate per Monday–Sunday week) feeds the chart on the Metrics tab.

The cell positions below are fixed: the Excel layout (colour scale, chart) is created over them once by
``init`` and every later write only fills them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from callback_sheets.core.arrival import ARRIVALS
from callback_sheets.core.metrics import NONE_VALUE, Case
from callback_sheets.layout import (
    BREAKDOWN_COL,
    BREAKDOWN_FIRST_ROW,
    DEMAND_HEADER_ROW,
    GRID_FIRST_COL,
    GRID_FIRST_ROW,
    SIDE_COL,
    TOTALS_ROW,
    TREND_FIRST_ROW,
    TREND_HEADER,
    TREND_HEADER_ROW,
    TREND_WEEKS,
)

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOURS = tuple(range(24))
WINDOW_DAYS = 28


Cells = dict[tuple[int, int], str | int | float | None]


@dataclass(frozen=True, slots=True)
class Tally:
    """Missed calls and how many of them were recovered."""

    value: str
    missed_calls: int
    recovered: int

    @property
    def recovery_rate(self) -> float | None:
        return self.recovered / self.missed_calls if self.missed_calls else None

    def as_dict(self) -> dict[str, object]:
        rate = self.recovery_rate
        return {
            "value": self.value,
            "missed_calls": self.missed_calls,
            "recovered": self.recovered,
            "recovery_rate": None if rate is None else round(rate, 4),
        }


@dataclass(frozen=True, slots=True)
class Demand:
    start: date  # first day of the window
    end: date  # last day (inclusive)
    grid: tuple[tuple[int, ...], ...]  # [weekday][hour] missed calls
    recovered_grid: tuple[tuple[int, ...], ...]  # [weekday][hour] recovered
    by_reason: tuple[Tally, ...]
    by_patient_type: tuple[Tally, ...]
    by_language: tuple[Tally, ...]
    by_arrival: tuple[Tally, ...] = ()  # In hours / After hours / Closed day

    def weekday(self, index: int) -> Tally:
        return Tally(WEEKDAYS[index], sum(self.grid[index]), sum(self.recovered_grid[index]))

    def as_dict(self) -> dict[str, object]:
        cells = [
            {
                "weekday": WEEKDAYS[d],
                "hour": h,
                "missed_calls": self.grid[d][h],
                "recovered": self.recovered_grid[d][h],
            }
            for d in range(7)
            for h in HOURS
            if self.grid[d][h]
        ]
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "by_weekday": [self.weekday(d).as_dict() for d in range(7)],
            "by_weekday_hour": cells,
            "by_reason": [t.as_dict() for t in self.by_reason],
            "by_patient_type": [t.as_dict() for t in self.by_patient_type],
            "by_language": [t.as_dict() for t in self.by_language],
            "by_arrival": [t.as_dict() for t in self.by_arrival],
        }


def demand(cases: Iterable[Case], *, start: date, end: date) -> Demand:
    """Demand over the non-duplicate items received from ``start`` to ``end`` (clinic dates, inclusive)."""
    grid = [[0] * 24 for _ in range(7)]
    rec = [[0] * 24 for _ in range(7)]
    chosen = []
    for case in cases:
        day = case.received.date()
        if start <= day <= end and not case.duplicate:
            chosen.append(case)
            grid[day.weekday()][case.received.hour] += 1
            rec[day.weekday()][case.received.hour] += case.recovered
    return Demand(
        start,
        end,
        tuple(map(tuple, grid)),
        tuple(map(tuple, rec)),
        tallies(chosen, lambda c: c.reason),
        tallies(chosen, lambda c: c.patient_type),
        tallies(chosen, lambda c: c.language),
        arrival_tallies(chosen),
    )


def arrival_tallies(cases: Sequence[Case]) -> tuple[Tally, ...]:
    """Missed and recovered by arrival, always the three rows in their order (cases without an arrival
    worked out are left out)."""
    found = {t.value: t for t in tallies(cases, lambda c: c.arrived or None) if t.value != NONE_VALUE}
    return tuple(found.get(a, Tally(a, 0, 0)) for a in ARRIVALS)


def window(now: datetime, days: int = WINDOW_DAYS) -> tuple[date, date]:
    """The last ``days`` clinic days, today included."""
    today = now.date()
    return today - timedelta(days=days - 1), today


def tallies(cases: Iterable[Case], key: Callable[[Case], str | None]) -> tuple[Tally, ...]:
    """Missed and recovered per value of ``key``, most missed first (ties by name; "(none)" last)."""
    counts: dict[str, list[int]] = {}
    for case in cases:
        slot = counts.setdefault(key(case) or NONE_VALUE, [0, 0])
        slot[0] += 1
        slot[1] += case.recovered
    order = sorted(counts, key=lambda v: (v == NONE_VALUE, -counts[v][0], v.casefold()))
    return tuple(Tally(v, *counts[v]) for v in order)


def weekly_series(cases: Iterable[Case], *, now: datetime, weeks: int = TREND_WEEKS) -> tuple[Tally, ...]:
    """Missed calls and recovered per Monday–Sunday week, the ``weeks`` weeks up to now's, oldest first;
    each Tally's value is the Monday's ISO date."""
    this_monday = now.date() - timedelta(days=now.weekday())
    first = this_monday - timedelta(weeks=weeks - 1)
    counts = [[0, 0] for _ in range(weeks)]
    for case in cases:
        day = case.received.date()
        if first <= day and not case.duplicate:
            index = (day - first).days // 7
            if index < weeks:
                counts[index][0] += 1
                counts[index][1] += case.recovered
    return tuple(Tally((first + timedelta(weeks=i)).isoformat(), *counts[i]) for i in range(weeks))


# --- the tool tabs' cells -----------------------------------------------------------------------------
def percent(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


def demand_cells(d: Demand) -> Cells:
    """Every cell of the Demand tab, by (row, column), 1-based."""
    cells: Cells = {(1, 1): f"Missed calls by weekday and hour (clinic time), {d.start} to {d.end}"}
    side = ("Missed calls", "Recovered", "Recovery rate %")
    for col, text in enumerate(("Weekday", *(f"{h:02d}" for h in HOURS), *side), start=1):
        cells[(DEMAND_HEADER_ROW, col)] = text
    for index in range(7):
        row = GRID_FIRST_ROW + index
        cells[(row, 1)] = WEEKDAYS[index]
        for hour in HOURS:
            cells[(row, GRID_FIRST_COL + hour)] = d.grid[index][hour]
        _side(cells, row, d.weekday(index))
    cells[(TOTALS_ROW, 1)] = "All days"
    for hour in HOURS:
        cells[(TOTALS_ROW, GRID_FIRST_COL + hour)] = sum(d.grid[i][hour] for i in range(7))
    _side(cells, TOTALS_ROW, Tally("", sum(map(sum, d.grid)), sum(map(sum, d.recovered_grid))))
    row = BREAKDOWN_FIRST_ROW
    for title, rows in (
        ("Reason", d.by_reason),
        ("Patient type", d.by_patient_type),
        ("Language", d.by_language),
        ("Arrived", d.by_arrival),
    ):
        for col, text in enumerate((title, *side), start=BREAKDOWN_COL):
            cells[(row, col)] = text
        for tally in rows:
            row += 1
            cells[(row, BREAKDOWN_COL)] = tally.value
            cells[(row, BREAKDOWN_COL + 1)] = tally.missed_calls
            cells[(row, BREAKDOWN_COL + 2)] = tally.recovered
            cells[(row, BREAKDOWN_COL + 3)] = percent(tally.recovery_rate)
        row += 2
    return cells


def _side(cells: Cells, row: int, tally: Tally) -> None:
    cells[(row, SIDE_COL)] = tally.missed_calls
    cells[(row, SIDE_COL + 1)] = tally.recovered
    cells[(row, SIDE_COL + 2)] = percent(tally.recovery_rate)


def trend_cells(series: Sequence[Tally]) -> Cells:
    """The Metrics tab's chart block: title, header and one row per week."""
    cells: Cells = {(1, 1): "Missed calls and recovery rate per week (kept current by refresh)"}
    for col, text in enumerate(TREND_HEADER, start=1):
        cells[(TREND_HEADER_ROW, col)] = text
    weeks = list(series[-TREND_WEEKS:])
    while weeks and not weeks[0].missed_calls:  # the chart starts at the first week with a call
        weeks.pop(0)
    for offset in range(TREND_WEEKS):
        row = TREND_FIRST_ROW + offset
        if offset < len(weeks):
            tally = weeks[offset]
            cells[(row, 1)] = tally.value
            cells[(row, 2)] = tally.missed_calls
            cells[(row, 3)] = percent(tally.recovery_rate)
        elif series:  # weeks the chart no longer shows are cleared
            cells.update({(row, 1): None, (row, 2): None, (row, 3): None})
    return cells
