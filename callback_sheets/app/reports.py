"""Use cases for the figures: build a daily or weekly report, append it to the Metrics tab, review the
day before it closes, and keep the Demand tab (and the Metrics chart's data) current on every refresh.

Queue rows become :class:`~callback_sheets.core.metrics.Case` records through a light reader that looks only
at the columns the figures need (no phone parsing), so a report over a large queue stays cheap.
Importing this module registers the Demand contributor into ``service.REFRESH_CONTRIBUTORS`` and marks
the Metrics table's date-time column in ``service.TOOL_TABS``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.backends.base import (
    Backend,
    CellValue,
    Changeset,
    Grid,
    RowValues,
    Snapshot,
    every,
    grid_rows,
    pick,
)
from callback_sheets.config import Config
from callback_sheets.core import demand as dem
from callback_sheets.core.arrival import Arrivals
from callback_sheets.core.metrics import (
    Case,
    Figures,
    Period,
    aggregate,
    in_period,
    measure,
    period_for,
    scope_label,
    scoped,
)
from callback_sheets.core.refresh import ItemView, Planner, RefreshPlan, check_header, same_value
from callback_sheets.core.times import localize, parse_when, to_cell
from callback_sheets.core.triage import triage_for
from callback_sheets.core.validation import text
from callback_sheets.errors import UsageError

SCHEMA = "callback-sheets/report/1"
METRICS_TABLE_ROW = dem.METRICS_TABLE_ROW  # the report table's header row, below the chart
METRICS_COLUMNS = dem.METRICS_COLUMNS


_NO_OUTCOMES: frozenset[str] = frozenset()

# The cells CaseReader._case reads, in the order it unpacks them.
_CASE_FIELDS = (
    model.STATUS,
    model.ATTEMPTS,
    model.CALLS,
    model.LAST_OUTCOME,
    model.FIRST_ATTEMPT,
    model.LAST_ATTEMPT,
    model.REASON,
    model.NOTES,
    model.ESCALATION,
    model.CLOSED_AT,
    model.OWNER,
    model.LANGUAGE,
    model.PATIENT_TYPE,
    model.URGENCY,
)


# --- reading cases ------------------------------------------------------------------------------------
class CaseReader:
    """Queue rows and History rows → Cases, reading only what the figures need."""

    def __init__(self, *, config: Config) -> None:
        self.config = config
        self.tz = config.tz
        self.order = config.order_of_dates()  # cases() sets it from the snapshot's locale
        self._choices: dict[str, dict[str, str]] = {}
        self._seen: dict[str, dict[object, str | None]] = {}
        self._triaged: dict[tuple[object, ...], bool] = {}
        self._triage = triage_for(config)
        self._arrivals: Arrivals | None = None
        for name, values in (
            ("status", config.statuses),
            ("outcome", config.outcomes),
            ("reason", list(config.reasons)),
            ("language", config.languages),
            ("patient_type", config.patient_types),
            ("urgency", config.urgencies),
        ):
            self._choices[name] = {" ".join(v.casefold().split()): v for v in values}

    def _choice(self, kind: str, value: object) -> str | None:
        seen = self._seen.setdefault(kind, {})
        try:
            return seen[value]
        except (KeyError, TypeError):
            raw = text(value)
            found = self._choices[kind].get(" ".join(raw.casefold().split())) if raw else None
            seen[value] = found
            return found

    def _when(self, value: object) -> datetime | None:
        if value.__class__ is datetime and value.tzinfo is None:  # type: ignore[attr-defined]
            return localize(value, self.tz)  # type: ignore[arg-type]  # the usual cell
        try:
            return parse_when(value, self.tz, order=self.order)
        except ValueError:
            return None

    def cases(self, snapshot: Snapshot, *, since: datetime | None = None) -> list[Case]:
        """The items received at or after ``since`` (all when None); rows without a readable Received
        cannot be placed in time and are left out."""
        picked: list[tuple[str, datetime, Mapping[str, CellValue]]] = []
        self.order = self.config.order_of_dates(snapshot.locale)
        # a plain date-time cell is compared as the wall-clock time it is (as aware times in one zone are)
        wall_since = since.astimezone(self.tz).replace(tzinfo=None) if since is not None else None
        for row in snapshot.rows:
            cell = row.values.get(model.RECEIVED)
            if wall_since is not None and cell.__class__ is datetime and cell < wall_since:  # type: ignore[operator]
                continue
            received = self._when(cell)
            if received is None or (since is not None and received.timestamp() < since.timestamp()):
                continue
            picked.append((text(row.values.get(model.ID)) or f"row {row.position}", received, row.values))
        history = self._history(snapshot.tabs.get(model.HISTORY_TAB, ()), {p[0] for p in picked})
        return [
            self._case(item_id, received, values, history.get(item_id))
            for item_id, received, values in picked
        ]

    def arrived(self, received: datetime) -> str:
        if self._arrivals is None:
            self._arrivals = Arrivals(self.config.calendar())
        return self._arrivals(received)

    def _flagged(
        self, reason: str | None, status: str, urgency: object, texts: tuple[tuple[str, str], ...]
    ) -> bool:
        """The refresh's own definition (triage.Triage.why), memoised by what it reads."""
        key = (reason, status, urgency, texts)
        found = self._triaged.get(key)
        if found is None:
            urgent = self._choice("urgency", urgency)
            why = self._triage.why(reason=reason, status=status, urgency=urgent, texts=texts)
            found = self._triaged[key] = why is not None
        return found

    def from_views(self, views: Sequence[ItemView], history: Grid, *, since: datetime) -> list[Case]:
        """Cases from a refresh plan's already-read items (no first attempt or Closed at: enough for
        demand)."""
        low = since.timestamp()
        chosen = [v for v in views if v.item.received is not None and v.item.received.timestamp() >= low]
        found = self._history(history, {v.id for v in chosen if v.id}, times=False)
        only: dict[str, frozenset[str]] = {}  # the usual: no History rows yet, one set per outcome
        out = []
        for view in chosen:
            item = view.item
            last = (item.last_outcome or None) if item.attempts else None
            recorded = found.get(view.id or "") if found else None
            if recorded is None:
                outcomes = _NO_OUTCOMES if last is None else only.setdefault(last, frozenset((last,)))
            else:
                if last:
                    recorded[0].add(last)  # this call's own set
                outcomes = frozenset(recorded[0])
            out.append(
                Case(
                    view.id or "",
                    item.received,  # type: ignore[arg-type]  # chosen: received is set
                    item.calls,
                    item.status,
                    item.closed,
                    item.attempts,
                    outcomes,
                    None,
                    None,
                    bool(view.flagged or view.escalation),
                    view.owner,
                    item.reason,
                    item.language,
                    item.patient_type,
                    self.arrived(item.received),  # type: ignore[arg-type]  # chosen: received is set
                )
            )
        return out

    def _history(
        self, grid: Grid, wanted: set[str], *, times: bool = True
    ) -> dict[str, tuple[set[str], datetime | None]]:
        """Per ID: the outcomes recorded and the time of attempt 1 (None throughout without ``times``)."""
        found: dict[str, list] = {}  # type: ignore[type-arg]  # [outcomes, time of attempt 1]
        for _, row in grid_rows(grid):
            if len(row) < 4:
                continue
            key = text(row[0])
            if key not in wanted:
                continue
            entry = found.get(key)
            if entry is None:
                entry = found[key] = [set(), None]
            outcome = self._choice("outcome", row[3])
            if outcome:
                entry[0].add(outcome)
            attempt = row[1]
            if (
                times
                and entry[1] is None
                and ((attempt.__class__ is int and attempt == 1) or text(attempt) in ("1", "1.0"))
            ):
                entry[1] = self._when(row[2])
        return {key: (entry[0], entry[1]) for key, entry in found.items()}

    def _case(
        self,
        item_id: str,
        received: datetime,
        values: Mapping[str, CellValue],
        history: tuple[set[str], datetime | None] | None,
    ) -> Case:
        (
            status_cell,
            attempts_cell,
            calls_cell,
            outcome_cell,
            first_cell,
            last_cell,
            reason_cell,
            notes_cell,
            escalation_cell,
            closed_cell,
            owner_cell,
            language_cell,
            patient_type_cell,
            urgency_cell,
        ) = pick(values, _CASE_FIELDS)
        status = self._choice("status", status_cell) or text(status_cell) or "New"
        attempts = _count(attempts_cell, 0)
        calls = max(_count(calls_cell, 1), 1)
        outcomes, first = history or (set(), None)
        last_outcome = self._choice("outcome", outcome_cell)
        if last_outcome and attempts:
            outcomes = outcomes | {last_outcome}
        if first is None and attempts:
            first = self._when(first_cell)
            if first is None and attempts == 1:
                first = self._when(last_cell)
        reason = self._choice("reason", reason_cell)
        texts: tuple[tuple[str, str], ...]
        if self._triage.columns == (model.NOTES,) and values.__class__ is not RowValues:
            texts = ((model.NOTES, text(notes_cell)),)  # a plain mapping: one Notes
        else:
            texts = tuple(
                (col, t) for col in self._triage.columns for c in every(values, col) if (t := text(c))
            )
        escalated = bool(text(escalation_cell)) or self._flagged(reason, status, urgency_cell, texts)
        return Case(
            item_id,
            received,
            calls,
            status,
            status in self.config.closed_statuses,
            attempts,
            frozenset(outcomes),
            first if attempts else None,
            self._when(closed_cell),
            escalated,
            text(owner_cell) or None,
            reason,
            self._choice("language", language_cell),
            self._choice("patient_type", patient_type_cell),
            self.arrived(received),
        )


def _count(value: object, default: int) -> int:
    """A whole number >= 0 from a cell; ``default`` when empty or unreadable."""
    if type(value) is int:
        return max(value, 0)
    try:
        return max(int(float(text(value) or default)), 0)
    except ValueError:
        return default


# --- the report -------------------------------------------------------------------------------------------
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
    with service.bulk_work():
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
    with service.bulk_work():  # build_report pauses the collector for its own part
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
        backend.write(snapshot, Changeset(tab_cells={model.METRICS_TAB: cells}), tabs=service.TOOL_TABS)
        return AppendResult(built, added, replaced)

    return service.retrying(backend, step, what="the report")


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


def changed_cells(grid: Grid, cells: Mapping[tuple[int, int], CellValue]) -> dict[tuple[int, int], CellValue]:
    """Only the cells whose value differs from the grid."""
    out = {}
    for (r, c), value in cells.items():
        before = grid[r - 1][c - 1] if r <= len(grid) and c <= len(grid[r - 1]) else None
        if not same_value(before, value):
            out[(r, c)] = value
    return out


# --- the end-of-day review -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReviewEntry:
    id: str | None
    owner: str | None
    reason: str | None
    detail: str

    def as_dict(self) -> dict[str, str | None]:
        return {"id": self.id, "owner": self.owner, "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Review:
    """What needs a person before the day closes (README, "The end-of-day review")."""

    now: datetime
    urgent_not_escalated: tuple[ReviewEntry, ...]
    due_without_attempt_today: tuple[ReviewEntry, ...]
    without_next_step: tuple[ReviewEntry, ...]
    ready_for_no_response: tuple[ReviewEntry, ...]

    @property
    def sections(self) -> dict[str, tuple[ReviewEntry, ...]]:
        return {
            "urgent_not_escalated": self.urgent_not_escalated,
            "due_without_attempt_today": self.due_without_attempt_today,
            "without_next_step": self.without_next_step,
            "ready_for_no_response": self.ready_for_no_response,
        }

    @property
    def needs_attention(self) -> bool:
        return any(self.sections.values())


def end_of_day_review(*, config: Config, backend: Backend, now: datetime) -> Review:
    """Open items a person must deal with before the day closes. Writes nothing."""
    plan = Planner(config=config, now=now).plan(backend.read(tabs=service.READ_TABS), assign=False)
    return review_of(plan, config=config, now=now)


def review_of(plan: RefreshPlan, *, config: Config, now: datetime) -> Review:
    """The end-of-day review of an already-made plan (the notify alerts reuse their own plan)."""
    today = now.astimezone(config.tz).date()
    urgent, due, stuck, final = [], [], [], []
    for view in sorted(plan.views, key=lambda v: v.item.position):
        item = view.item
        if item.closed:
            continue

        def entry(detail: str, view: ItemView = view) -> ReviewEntry:
            return ReviewEntry(view.id, view.owner, view.item.reason, detail)

        if (item.urgency == "Urgent" or view.escalation) and item.status != "Escalated" and not item.attempts:
            urgent.append(entry(view.escalation or "urgency is Urgent"))
        if view.due is None or not view.owner:
            stuck.append(
                entry("no owner" if view.due is not None else "; ".join(view.problems) or "no next attempt")
            )
        if view.due is None:
            continue
        if view.final:
            final.append(entry(view.next_step))
        elif view.due.timestamp() <= now.timestamp() and (
            item.last_attempt is None or item.last_attempt.astimezone(config.tz).date() < today
        ):
            due.append(entry(f"due {to_cell(view.due, config.tz):%a %m-%d %H:%M}, no attempt today"))
    return Review(now, tuple(urgent), tuple(due), tuple(stuck), tuple(final))


# --- the refresh contributor -----------------------------------------------------------------------------
def contribute_demand(snapshot: Snapshot, plan: RefreshPlan, config: Config, now: datetime) -> None:
    """Keep the Demand tab's grid and the Metrics chart's weekly data current (changed cells only)."""
    first_monday = now.date() - timedelta(days=now.weekday(), weeks=dem.TREND_WEEKS - 1)
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
    trend = _kept_archived_weeks(
        dem.trend_cells(dem.weekly_series(cases, now=now.astimezone(config.tz))), metrics_grid, config, now
    )
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
        for row in grid[dem.TREND_FIRST_ROW - 1 : dem.TREND_LAST_ROW]
        if len(row) > 1
        and isinstance(row[0], str)
        and isinstance(row[1], int)
        and not isinstance(row[1], bool)
    }
    for (r, c), value in list(trend.items()):
        if c != 1 or r < dem.TREND_FIRST_ROW or not isinstance(value, str) or value >= oldest:
            continue
        kept = had.get(value)
        missed = trend.get((r, 2))
        if kept is not None and isinstance(missed, int) and isinstance(kept[0], int) and kept[0] > missed:
            trend[(r, 2)], trend[(r, 3)] = kept
    return trend


if contribute_demand not in service.REFRESH_CONTRIBUTORS:
    service.REFRESH_CONTRIBUTORS.append(contribute_demand)
for _tab in (model.DEMAND_TAB, model.METRICS_TAB):
    if _tab not in service.CONTRIBUTOR_TABS:
        service.CONTRIBUTOR_TABS.append(_tab)
# The report table's "Updated" cells are date-times below a header on row METRICS_TABLE_ROW: say so, so a
# backend that formats cells ahead of time (Google) makes them real dates.
_UPDATED = (METRICS_COLUMNS.index("Updated") + 1, METRICS_TABLE_ROW + 1)
service.TOOL_TABS = tuple(
    replace(t, date_columns=(_UPDATED,)) if t.name == model.METRICS_TAB else t for t in service.TOOL_TABS
)
