"""Use cases: what each command does, with a backend and a config, without any printing.

The CLI and the scheduled runner call these; they raise the library's exceptions and return data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from callback_sheets import model
from callback_sheets.app.cycle import READ_TABS, bulk_work, retrying
from callback_sheets.backends.base import Backend, WriteResult
from callback_sheets.cells import CellValue, CellWrite, Changeset, SheetRow, Snapshot, WriteMode, text
from callback_sheets.config import Config
from callback_sheets.core.history import history_log
from callback_sheets.core.refresh import Planner, check_header
from callback_sheets.core.refresh_plan import RefreshPlan
from callback_sheets.core.times import to_cell
from callback_sheets.errors import NotFoundError, RefusedError, UsageError
from callback_sheets.layout import TOOL_TABS

if TYPE_CHECKING:  # how the tabs look: only for the commands that style them (init, refresh)
    from callback_sheets.look import Look


@dataclass(frozen=True, slots=True)
class Contributor:
    """Extra work a refresh does on tool tabs: reads ``tabs`` along with the Queue, adds to the plan's
    changeset."""

    tabs: tuple[str, ...]
    contribute: Callable[[Snapshot, RefreshPlan, Config, datetime], None]


def contributors() -> tuple[Contributor, ...]:
    """Every refresh contributor, listed here (a new one: a module of its own in app/, and a line here).
    Imported on first use, so a command that needs none (`queue`, `script`) does not load them."""
    from callback_sheets.app.demand_tab import contribute_demand

    return (Contributor((model.DEMAND_TAB, model.METRICS_TAB), contribute_demand),)


@dataclass(frozen=True, slots=True)
class RefreshOutcome:
    """A refresh's plan, what was written (None for a dry run) and how many tries it took."""

    plan: RefreshPlan
    result: WriteResult | None  # None for a dry run
    tries: int


def choices(config: Config) -> dict[str, list[str]]:
    return {
        "reasons": list(config.reasons),
        "urgencies": list(config.urgencies),
        "statuses": list(config.statuses),
        "outcomes": list(config.outcomes),
        "languages": list(config.languages),
        "patient_types": list(config.patient_types),
        "owners": [o.name for o in config.owners],
    }


def look(config: Config) -> Look:
    """What the tool's tabs look like for this clinic (its name, date format, closed statuses, scripts)."""
    from callback_sheets.core import script_blocks
    from callback_sheets.look import Look

    scripts = script_blocks.build(
        clinic_name=config.clinic_name, callback_number=config.callback_number, override_dir=config.templates
    )
    return Look(
        clinic_name=config.clinic_name,
        date_format=config.date_format,
        closed_statuses=tuple(sorted(config.closed_statuses)),
        scripts=scripts.rows,
        script_titles=scripts.titles,
    )


def init(*, config: Config, backend: Backend) -> list[str]:
    return backend.init(
        header=model.LAYOUT_COLUMNS, tabs=TOOL_TABS, choices=choices(config), look=look(config)
    )


def read_plan(*, config: Config, backend: Backend, now: datetime) -> tuple[Snapshot, RefreshPlan]:
    with bulk_work():
        contributing = contributors()
        snapshot = backend.read(tabs=(*READ_TABS, *(t for c in contributing for t in c.tabs)))
        plan = Planner(config=config, now=now).plan(snapshot)
        for contributor in contributing:
            contributor.contribute(snapshot, plan, config, now)
        plan.summary.changes = plan.changes.count()
        return snapshot, plan


def refresh(*, config: Config, backend: Backend, now: datetime, dry_run: bool = False) -> RefreshOutcome:
    """Read, plan and write; if staff saved the workbook meanwhile, read again and redo."""

    def step(attempt: int) -> RefreshOutcome:
        snapshot, plan = read_plan(config=config, backend=backend, now=now)
        if dry_run:
            return RefreshOutcome(plan, None, attempt)
        return RefreshOutcome(plan, backend.write(snapshot, plan.changes, tabs=TOOL_TABS), attempt)

    return retrying(backend, step, what="the refresh")


def validate(*, config: Config, backend: Backend, now: datetime) -> RefreshPlan:
    """The plan without writing: its views carry every row's problems."""
    return read_plan(config=config, backend=backend, now=now)[1]


def work_list(*, config: Config, backend: Backend, now: datetime) -> tuple[Snapshot, RefreshPlan]:
    """The plan `queue` shows: the Queue tab alone is read (no History, Demand or Metrics: the views do
    not need them), nothing is contributed to the tool tabs, and rows whose Status is a closed one are
    not read at all (checking a closed row's phone number is most of a plan, and the work list shows
    open items only). No Script link is planned either: the work list does not show it, and planning
    one renders every call script."""
    closed = {s.casefold() for s in config.closed_statuses}
    with bulk_work():
        snapshot = backend.read(without_statuses=tuple(config.closed_statuses))
        rows = tuple(r for r in snapshot.rows if text(r.get(model.STATUS)).casefold() not in closed)
        snapshot = replace(snapshot, rows=rows)
        return snapshot, Planner(config=config, now=now, script_links=False).plan(snapshot)


def find_row(snapshot: Snapshot, item_id: str) -> SheetRow:
    check_header(snapshot)
    wanted = item_id.strip().casefold()
    matches = [r for r in snapshot.rows if text(r.get(model.ID)).casefold() == wanted]
    if not matches:
        raise NotFoundError(
            f"no queue item with ID {item_id!r}: check the ID column "
            "(run `callback-sheets refresh` to give new rows an ID)"
        )
    if len(matches) > 1:
        raise UsageError(
            f"ID {item_id!r} is on {len(matches)} rows: clear the ID of the copies, then refresh"
        )
    return matches[0]


def record_attempt(
    *,
    config: Config,
    backend: Backend,
    item_id: str,
    outcome: str,
    note: str | None,
    now: datetime,
    status: str | None = None,
    dry_run: bool = False,
    reopen: bool = False,
) -> tuple[Changeset, RefreshPlan]:
    """Record a callback attempt on one item, as staff would type it, and refresh that item's tool cells.

    A closed item is refused (RefusedError) unless `reopen`, which sets its Status back to In progress;
    an item whose attempts are used up is refused too, unless the attempt closes it (`status` closed,
    or the outcome Booked)."""
    canonical = {o.casefold(): o for o in config.outcomes}.get(outcome.strip().casefold())
    if canonical is None:
        raise UsageError(f"--outcome {outcome!r} is not one of: {', '.join(config.outcomes)}")
    if status is not None and status not in config.statuses:
        raise UsageError(f"--status {status!r} is not one of: {', '.join(config.statuses)}")

    def step(_: int) -> tuple[Changeset, RefreshPlan]:
        # this item's Queue and History rows (and any others the search finds): not Demand or Metrics
        snapshot = backend.read(tabs=READ_TABS, history_of=item_id, rows_of=item_id)
        row = find_row(snapshot, item_id)
        planner = Planner(config=config, now=now)
        reopened = _may_record(planner, row, item_id, canonical, status=status, reopen=reopen)
        # First log what the sheet already holds (an attempt staff typed since the last refresh), so the
        # new attempt never hides it; then plan with the new attempt over a History that has it.
        snapshot, first = _with_held_attempt(planner, snapshot, row)
        staff = _attempt_values(row, canonical, note, now, config, reopened or status)
        plan = planner.plan(_one_item(snapshot, row, staff), assign=False)
        appends = {k: list(v) for k, v in plan.changes.tab_appends.items()}
        if first is not None:
            appends[model.HISTORY_TAB] = [first, *appends.get(model.HISTORY_TAB, [])]
        changes = Changeset(
            cells=[
                CellWrite(row.position, text(row.get(model.ID)), c, v, WriteMode.SET, row.get(c))
                for c, v in staff.items()
            ]
            + [c for c in plan.changes.cells if c.position == row.position],
            tab_appends=appends,
        )
        if not dry_run:
            backend.write(snapshot, changes, tabs=TOOL_TABS)
        return changes, plan

    return retrying(backend, step, what="the attempt")


REOPEN_STATUS = model.Status.IN_PROGRESS


def _may_record(
    planner: Planner, row: SheetRow, item_id: str, outcome: str, *, status: str | None, reopen: bool
) -> str | None:
    """Refuses (RefusedError) an attempt on a closed item without ``reopen``, or on an item whose
    attempts are used up unless the attempt closes it; returns the Status a reopened item gets."""
    config = planner.config
    words = model.clinic_words(config)
    current = closed_status(row, config)
    if current is not None:
        if not reopen:
            raise RefusedError(
                f"{item_id} is closed (Status {current}): no attempt was recorded; if the patient "
                f"needs another call, add --reopen (sets Status back to {words.status(REOPEN_STATUS)})"
            )
        return status or words.status(REOPEN_STATUS)
    booked = words.status(model.Status.BOOKED) if outcome == words.outcome(model.Outcome.BOOKED) else ""
    if (status or booked) in config.closed_statuses:
        return None
    item = planner.reader.read(row.position, row.values)
    rule = planner.rule_for(item, planner.escalation(item))
    if rule.cadence.final(rule, item.attempts):
        raise RefusedError(
            f"{item_id} has used its {rule.max_attempts} attempts ({item.attempts} recorded): "
            f"no attempt was recorded. Next step: set Status to No response and route it to the "
            f'front-desk lead (attempt {item_id} --outcome ... --status "No response" records '
            "a last one and closes it)"
        )
    return None


def _with_held_attempt(
    planner: Planner, snapshot: Snapshot, row: SheetRow
) -> tuple[Snapshot, list[CellValue] | None]:
    """The snapshot with the History row of the attempt the sheet already shows and History lacks
    (typed by staff since the last refresh), and that row (None when History has it)."""
    held = planner.reader.read(row.position, row.values)
    history = snapshot.tabs.get(model.HISTORY_TAB, ())
    now = to_cell(planner.now, planner.config.tz)
    first = planner.history_entry(held, text(row.get(model.ID)), history_log(history), now)
    if first is None:
        return snapshot, None
    history = (*history, tuple(first)) if history else (model.HISTORY_COLUMNS, tuple(first))
    return replace(snapshot, tabs={**snapshot.tabs, model.HISTORY_TAB: history}), first


def closed_status(row: SheetRow, config: Config) -> str | None:
    """The row's Status when it is a closed one (Booked, Resolved, No response, Duplicate), else None."""
    current = text(row.get(model.STATUS))
    closed = {s.casefold(): s for s in config.closed_statuses}
    return closed.get(current.casefold()) if current else None


def _attempt_values(
    row: SheetRow, outcome: str, note: str | None, now: datetime, config: Config, status: str | None
) -> dict[str, CellValue]:
    try:
        attempts = int(float(text(row.get(model.ATTEMPTS)) or 0))
    except ValueError:
        attempts = 0
    values: dict[str, CellValue] = {
        model.ATTEMPTS: attempts + 1,
        model.LAST_ATTEMPT: to_cell(now, config.tz),
        model.LAST_OUTCOME: outcome,
    }
    words = model.clinic_words(config)
    current = text(row.get(model.STATUS)) or words.status(model.Status.NEW)
    new_status = status or (
        words.status(model.Status.BOOKED)
        if outcome == words.outcome(model.Outcome.BOOKED)
        else words.status(model.Status.IN_PROGRESS)
        if current == words.status(model.Status.NEW)
        else None
    )
    if new_status and new_status != current:
        values[model.STATUS] = new_status
    if note:
        stamp = to_cell(now, config.tz)
        line = f"[{stamp:%m-%d %H:%M}] {note.strip()}"
        existing = text(row.get(model.NOTES))
        values[model.NOTES] = f"{existing}\n{line}" if existing else line
    return values


def _one_item(snapshot: Snapshot, row: SheetRow, values: dict[str, CellValue]) -> Snapshot:
    """A snapshot of the one item an attempt is about, with the staff values it sets, and its History
    rows only: the attempt plans that item alone (its Owner, if empty, is left to the next refresh)."""
    key = text(row.get(model.ID)).casefold()
    history = snapshot.tabs.get(model.HISTORY_TAB, ())
    mine = history[:1] + tuple(r for r in history[1:] if r and text(r[0]).casefold() == key)
    merged = SheetRow(row.position, {**row.values, **values})
    return replace(snapshot, rows=(merged,), tabs={**snapshot.tabs, model.HISTORY_TAB: mine})


def queue_views(plan: RefreshPlan, *, owner: str | None = None, overdue_only: bool = False) -> Sequence:  # type: ignore[type-arg]
    views = [v for v in plan.views if v.item.is_open]
    if owner:
        wanted = owner.strip().casefold()
        # every escalated open item is on the escalation owner's list, whatever its Owner cell says
        takes_escalations = (plan.escalation_owner or "").strip().casefold() == wanted
        views = [
            v
            for v in views
            if (v.owner or "").strip().casefold() == wanted or (takes_escalations and v.escalation)
        ]
    if overdue_only:
        views = [v for v in views if v.overdue]
    return views
