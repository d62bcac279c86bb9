"""The refresh, as a pure plan: from a snapshot of the queue and `now`, the cells the tool should write.

Nothing here touches a spreadsheet. The plan writes only tool-owned cells (plus an empty ID or Owner) and
only where the value differs from what is there, so a second refresh at the same `now` plans nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from callback_sheets import model
from callback_sheets.cells import (
    CellValue,
    CellWrite,
    Changeset,
    Snapshot,
    WriteMode,
    duplicate_headers,
    is_blank,
    pick,
    same_value,
    sheet_problems,
)
from callback_sheets.core.arrival import is_after_hours
from callback_sheets.core.history import Logged, attempts_decrease, first_attempts, history_log
from callback_sheets.core.history import history_entry as log_attempt
from callback_sheets.core.item_views import PLANNED_TOOL_COLUMNS, ItemViews, snapshot_row
from callback_sheets.core.queue_state import QueueState, new_ids
from callback_sheets.core.refresh_plan import EscalationAlert, ItemView, RefreshPlan, Summary
from callback_sheets.core.times import to_cell
from callback_sheets.core.validation import Item, duplicate_id_problems
from callback_sheets.errors import UsageError

if TYPE_CHECKING:  # owners are assigned by a refresh only (not by `attempt`, which plans one row)
    from callback_sheets.core.assign import Assignment

# What the app and the CLI import from here; the plan's types live in core.refresh_plan, the History log in
# core.history, the per-item judgement in core.item_views.
STAFF_COLUMNS = tuple(c.name for c in model.QUEUE_COLUMNS if c.owner is model.Owner.STAFF)


def check_header(snapshot: Snapshot) -> None:
    missing = [
        c for c in model.REQUIRED_COLUMNS if c not in snapshot.header and c not in model.OPTIONAL_COLUMNS
    ]
    if missing:
        raise UsageError(
            f"the Queue tab has no column {', '.join(repr(m) for m in missing)}: "
            "run `callback-sheets init` to add the missing columns"
        )


class Planner(ItemViews):
    """Computes a refresh for one config, calendar and `now`: the views (see core.item_views) and the
    cells to write."""

    def items(self, snapshot: Snapshot) -> list[Item]:
        check_header(snapshot)
        self.reader.order = self.config.order_of_dates(snapshot.locale)
        self._snapshot = snapshot
        self._plain_notes = self._triage.columns == (model.NOTES,) and model.NOTES not in duplicate_headers(
            snapshot.header
        )
        read = self.reader.read
        return [read(r.position, r.values) for r in snapshot.rows if _any_filled(r.values, STAFF_COLUMNS)]

    def plan(self, snapshot: Snapshot, *, assign: bool = True) -> RefreshPlan:
        items = self.items(snapshot)
        run = self._start(snapshot, items, assign)
        for item in items:
            self._plan_item(run, item)
        return self._finish(run, items)

    def _start(self, snapshot: Snapshot, items: Sequence[Item], assign: bool) -> _Run:
        """What a plan reads once (History, State, the new IDs and owners) and starts its changes with."""
        history = snapshot.tabs.get(model.HISTORY_TAB, ())
        state = QueueState.of(snapshot.tabs.get(model.STATE_TAB, ()))
        ids, highest = new_ids(items, history, state.id_high_water(), prefix=self.config.id_prefix)
        owners = self._assign(items, ids) if assign else None
        run = _Run(
            snapshot=snapshot,
            ids=ids,
            owners=owners,
            dupes=duplicate_id_problems(items),
            logged=history_log(history),
            first_times=first_attempts(history),
            now_cell=to_cell(self.now, self.tz),
            fill_urgency=model.URGENCY in snapshot.header,
            with_script=model.SCRIPT in snapshot.header,
            with_arrived=model.ARRIVED in snapshot.header,
        )
        run.summary.rows = len(items)
        state.raise_id_high_water(run.changes, highest)
        return run

    def _plan_item(self, run: _Run, item: Item) -> None:
        """One row: its view, its cells, its History row and its counts."""
        position = item.position
        item_id = item.id or run.ids[position]
        row = snapshot_row(run.snapshot, position)
        if run.fill_urgency and item.urgency is None and item.reason:
            self._fill_urgency(run, item, row)
        owner = item.owner or (run.owners.owners.get(item_id) if run.owners else None)
        problems = item.problems + ((run.dupes[position],) if position in run.dupes else ())
        went_down = attempts_decrease(item, run.logged.get(item_id))
        if went_down:
            problems += (went_down,)
        view = self._view(item, item_id, owner, problems)
        run.views.append(view)
        self._write_row(run, item, view, row)
        if item.attempts and item.last_attempt:
            entry = self.history_entry(item, item_id, run.logged, run.now_cell)
            if entry is not None:
                run.history_rows.append(entry)
        self._count(run, item, view)

    def _fill_urgency(self, run: _Run, item: Item, row: Mapping[str, CellValue]) -> None:
        """An empty Urgency (never one staff filled, even wrongly) gets the reason's urgency."""
        reason = self.config.reasons.get(item.reason or "")
        if reason is not None and is_blank(row.get(model.URGENCY)):
            item.urgency = reason.urgency
            self._put(run.changes, item, item.id, model.URGENCY, item.urgency, row, WriteMode.FILL)
            run.summary.urgency_filled += 1

    def _write_row(self, run: _Run, item: Item, view: ItemView, row: Mapping[str, CellValue]) -> None:
        """The row's cells: an empty ID or Owner filled, the tool cells where they change."""
        changes, summary = run.changes, run.summary
        if not item.id:
            self._put(changes, item, None, model.ID, view.id, row, WriteMode.FILL)
            summary.new_ids += 1
        if view.owner and not item.owner:
            self._put(changes, item, view.id, model.OWNER, view.owner, row, WriteMode.FILL)
            summary.assigned += 1
        befores = pick(row, PLANNED_TOOL_COLUMNS)
        values = self._tool_values(view, befores, run.first_times.get(view.id or ""))
        cells, position = changes.cells, item.position
        for column, before, value in zip(PLANNED_TOOL_COLUMNS, befores, values, strict=True):
            if before != value and not same_value(before, value):  # the hot path: inlined _put
                cells.append(CellWrite(position, item.id, column, value, WriteMode.TOOL, before))
        if run.with_arrived:
            self._put(changes, item, item.id, model.ARRIVED, view.arrived, row, WriteMode.TOOL)
        if run.with_script:
            self._put(changes, item, item.id, model.SCRIPT, self.script_link(item), row, WriteMode.TOOL)

    def _count(self, run: _Run, item: Item, view: ItemView) -> None:
        """The row's part of the summary, and its escalation alert."""
        summary = run.summary
        summary.problems += bool(view.problems)
        if item.closed:
            return
        summary.open += 1
        summary.overdue += view.overdue
        summary.escalations += bool(view.escalation)
        summary.final_due += view.final
        late = is_after_hours(view.arrived)
        summary.after_hours += late
        if view.escalation:
            summary.after_hours_escalations += late
            run.alerts.append(EscalationAlert(view.id or "", self._alert_to(late), late))

    def _finish(self, run: _Run, items: Sequence[Item]) -> RefreshPlan:
        changes = run.changes
        self._clear_orphans(run.snapshot, changes, {i.position for i in items})
        if run.history_rows:
            changes.tab_appends[model.HISTORY_TAB] = run.history_rows
        run.summary.changes = changes.count()
        rank = self._urgency_rank
        run.views.sort(key=lambda view: view.sort_key(rank))
        return RefreshPlan(
            changes,
            run.views,
            run.summary,
            run.owners.unassigned if run.owners else {},
            sheet_problems(run.snapshot.header),
            self.config.escalation_owner,
            run.alerts,
        )

    # --- per item -------------------------------------------------------------------------------------
    def history_entry(
        self,
        item: Item,
        item_id: str,
        logged: dict[str, Logged],
        now_cell: datetime | None,
        source: str = "sheet",
    ) -> list[CellValue] | None:
        """The History row to append for the attempt the row holds now (see core.history)."""
        return log_attempt(item, item_id, logged, now_cell, self.tz, source)

    @staticmethod
    def _put(
        changes: Changeset,
        item: Item,
        row_id: str | None,
        column: str,
        value: CellValue,
        row: Mapping[str, CellValue],
        mode: WriteMode,
    ) -> None:
        before = row.get(column)
        if same_value(before, value):
            return
        changes.cells.append(CellWrite(item.position, item.id, column, value or None, mode, before))

    def _clear_orphans(self, snapshot: Snapshot, changes: Changeset, used: set[int]) -> None:
        """Rows staff emptied: clear the tool cells left behind."""
        for row in snapshot.rows:
            if row.position in used:
                continue
            for column in model.TOOL_COLUMNS:
                if _filled(row.values.get(column)):
                    changes.cells.append(
                        CellWrite(row.position, None, column, None, WriteMode.TOOL, row.values[column])
                    )

    # --- whole queue ---------------------------------------------------------------------------------------
    def _assign(self, items: Sequence[Item], ids: Mapping[int, str]) -> Assignment:
        from callback_sheets.core.assign import assign_items

        return assign_items(
            items,
            ids,
            self.config.owners,
            escalation_owner=self.config.escalation_owner,
            is_escalation=self.escalation,
        )


def _any_filled(values: Mapping[str, object], columns: Sequence[str]) -> bool:
    for column in columns:
        value = values.get(column)
        if value is not None and (value.__class__ is not str or value.strip()):
            return True
    return False


def _filled(value: object) -> bool:
    return not is_blank(value)


@dataclass(slots=True)
class _Run:
    """One plan's working state: what it read once, and what it collects row by row."""

    snapshot: Snapshot
    ids: dict[int, str]
    owners: Assignment | None
    dupes: dict[int, str]
    logged: dict[str, Logged]
    first_times: dict[str, datetime]
    now_cell: datetime | None
    fill_urgency: bool  # the sheet has the column (a queue from before 0.1.0 may lack the optional ones)
    with_script: bool
    with_arrived: bool
    changes: Changeset = field(default_factory=Changeset)
    summary: Summary = field(default_factory=Summary)
    views: list[ItemView] = field(default_factory=list)
    history_rows: list[list[CellValue]] = field(default_factory=list)
    alerts: list[EscalationAlert] = field(default_factory=list)
