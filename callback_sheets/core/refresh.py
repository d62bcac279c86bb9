"""The refresh, as a pure plan: from a snapshot of the queue and `now`, the cells the tool should write.

Nothing here touches a spreadsheet. The plan writes only tool-owned cells (plus an empty ID or Owner) and
only where the value differs from what is there, so a second refresh at the same `now` plans nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from callback_sheets import model
from callback_sheets.cells import (
    CellValue,
    CellWrite,
    Changeset,
    Grid,
    Link,
    Snapshot,
    WriteMode,
    column_letter,
    duplicate_headers,
    every,
    grid_rows,
    is_blank,
    pick,
    same_value,
)
from callback_sheets.config import Config
from callback_sheets.core.arrival import Arrivals, is_after_hours, kept_earlier_note
from callback_sheets.core.assign import Assignment, OwnerSpec, assign_owners
from callback_sheets.core.cadence import CadenceKind, CadenceRule, next_due
from callback_sheets.core.calendar import BusinessCalendar, BusinessDaysPassed
from callback_sheets.core.queue_state import QueueState
from callback_sheets.core.times import localize, short, to_cell
from callback_sheets.core.triage import escalated_now, triage_for
from callback_sheets.core.validation import Item, RowReader, duplicate_id_problems
from callback_sheets.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from callback_sheets.core.script_blocks import ScriptsTab

STAFF_COLUMNS = tuple(c.name for c in model.QUEUE_COLUMNS if c.owner is model.Owner.STAFF)
# The tool columns a refresh computes for every row, in the order Planner._tool_values returns them.
PLANNED_TOOL_COLUMNS = (
    model.NEXT_ATTEMPT,
    model.OVERDUE,
    model.NEXT_STEP,
    model.ESCALATION,
    model.FIRST_ATTEMPT,
    model.CLOSED_AT,
    model.PROBLEMS,
)
URGENCY_RANK = {"Urgent": 0, "Same day": 1, "Routine": 2}


@dataclass(slots=True)  # not frozen: one per row, and frozen makes __init__ 4x slower
class ItemView:
    """An item with what the refresh computed for it: what the work list shows."""

    item: Item
    id: str | None
    owner: str | None
    due: datetime | None
    final: bool
    overdue: bool
    unresolved: bool
    escalation: str | None
    next_step: str
    problems: tuple[str, ...]
    flagged: str | None = None  # what triage found, even once handled or closed (the reports count it)
    arrived: str | None = None  # In hours / After hours / Closed day; None without a Received

    def sort_key(self) -> tuple[int, int, float, int, float]:
        """Escalations, then overdue, then by due time and urgency; ties (the night's after-hours calls
        all fall due at the end of the first block) in arrival order."""
        urgency = URGENCY_RANK.get(self.item.urgency or "", 2)
        due = self.due.timestamp() if self.due else float("inf")
        received = self.item.received.timestamp() if self.item.received else float("inf")
        return (0 if self.escalation else 1, 0 if self.overdue else 1, due, urgency, received)


@dataclass(slots=True)
class Summary:
    rows: int = 0
    open: int = 0
    problems: int = 0
    overdue: int = 0
    escalations: int = 0
    new_ids: int = 0
    assigned: int = 0
    urgency_filled: int = 0
    final_due: int = 0
    changes: int = 0
    after_hours: int = 0  # open items that arrived after hours or on a closed day
    after_hours_escalations: int = 0


@dataclass(frozen=True, slots=True)
class EscalationAlert:
    """An open escalation that must reach people: the escalation owner, and `[escalation] after_hours_to`
    for a message left after hours. (Issue 11's notify package sends them; the plan names them.)"""

    id: str
    to: tuple[str, ...]
    after_hours: bool


@dataclass(slots=True)
class RefreshPlan:
    changes: Changeset
    views: list[ItemView]
    summary: Summary
    unassigned: dict[str, str] = field(default_factory=dict)
    sheet_problems: tuple[str, ...] = ()  # problems of the sheet itself (two columns with one header)
    escalation_owner: str | None = None  # every escalated open item is on this owner's list
    alerts: list[EscalationAlert] = field(default_factory=list)


def sheet_problems(header: Sequence[str]) -> tuple[str, ...]:
    """Problems of the header row: a name heading two columns (both are read for keywords, but staff
    should know which one is the real one)."""
    out = []
    for name, cols in duplicate_headers(header).items():
        where = ", ".join(column_letter(c) for c in cols)
        out.append(
            f"{len(cols)} columns are headed {name!r} (columns {where}): the tool reads the first "
            f"(and every one for escalation keywords); rename or merge the others"
        )
    return tuple(out)


def check_header(snapshot: Snapshot) -> None:
    missing = [
        c for c in model.REQUIRED_COLUMNS if c not in snapshot.header and c not in model.OPTIONAL_COLUMNS
    ]
    if missing:
        raise UsageError(
            f"the Queue tab has no column {', '.join(repr(m) for m in missing)}: "
            "run `callback-sheets init` to add the missing columns"
        )


class Planner:
    """Computes a refresh for one config, calendar and `now`."""

    def __init__(
        self,
        *,
        config: Config,
        now: datetime,
        calendar: BusinessCalendar | None = None,
        script_links: bool = True,
    ) -> None:
        self.config = config
        self.now = now
        self.cal = calendar or config.calendar()
        self.reader = RowReader(config=config, now=now)
        self.tz = config.tz
        self._why: dict[int, str | None] = {}
        self._unresolved = BusinessDaysPassed(self.cal, now, 1)  # open > 1 business day
        self._triage = triage_for(config)
        self._snapshot: Snapshot | None = None
        self._plain_notes = True  # keywords only in one Notes column: Item.notes is all there is
        self.who = config.escalation_owner or "licensed staff"
        self.arrival = Arrivals(self.cal)
        # False: not built yet; None: no Script links (a template fails, or the caller shows none)
        self._scripts: ScriptsTab | bool | None = False if script_links else None

    def scripts(self) -> ScriptsTab | None:
        """The Scripts tab's blocks (None when a template cannot be rendered: Script cells stay empty)."""
        if self._scripts is False:
            from callback_sheets.core import script_blocks  # only when a queue has a Script column

            try:
                self._scripts = script_blocks.build(
                    clinic_name=self.config.clinic_name,
                    callback_number=self.config.callback_number,
                    override_dir=self.config.templates,
                )
            except (ConfigError, UsageError, OSError):
                self._scripts = None
        return self._scripts  # type: ignore[return-value]

    def script_link(self, item: Item) -> Link | None:
        """The Script cell of an open item: a link to its block on the Scripts tab."""
        tab = self.scripts()
        if tab is None or item.closed:
            return None
        block = tab.block_for(item.language, item.reason, item.attempts)
        return None if block is None else Link(block.label, model.SCRIPTS_TAB, block.row)

    def flagged(self, item: Item) -> str | None:
        """What triage finds on the item (None if nothing), computed once per row, whether or not the
        item is still escalated (see :meth:`escalation`)."""
        try:
            return self._why[item.position]
        except KeyError:
            if self._plain_notes or self._snapshot is None:
                texts: tuple[tuple[str, str], ...] = (("Notes", item.notes),)
            else:
                row = snapshot_row(self._snapshot, item.position)
                texts = tuple(
                    (column, text)
                    for column in self._triage.columns
                    for cell in every(row, column)
                    if (text := _text(cell))
                )
            why = self._why[item.position] = self._triage.why(
                reason=item.reason, status=item.status, urgency=item.urgency, texts=texts
            )
            return why

    def escalation(self, item: Item) -> str | None:
        """Why the item is escalated now (None if not): flagged, open, and no attempt reached the patient."""
        why = self.flagged(item)
        if why and escalated_now(
            why, closed=item.closed, last_outcome=item.last_outcome, attempts=item.attempts
        ):
            return why
        return None

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
        history = snapshot.tabs.get(model.HISTORY_TAB, ())
        state = QueueState.of(snapshot.tabs.get(model.STATE_TAB, ()))
        ids, highest = self._new_ids(items, history, state.id_high_water())
        dupes = duplicate_id_problems(items)
        owners = self._assign(items, ids) if assign else None
        changes = Changeset()
        state.raise_id_high_water(changes, highest)
        views: list[ItemView] = []
        summary = Summary(rows=len(items))
        logged = history_log(history)
        first_times = _first_attempts(history)
        history_rows: list[list[CellValue]] = []
        alerts: list[EscalationAlert] = []
        cells = changes.cells
        now_cell = to_cell(self.now, self.tz)
        with_script = model.SCRIPT in snapshot.header
        fill_urgency = model.URGENCY in snapshot.header
        reasons = self.config.reasons
        arrived = model.ARRIVED in snapshot.header
        for item in items:
            position = item.position
            item_id = item.id or ids[position]
            empty = fill_urgency and item.urgency is None and item.reason
            reason = reasons.get(item.reason) if empty and item.reason else None
            if reason is not None:
                # an empty Urgency (never one staff filled, even wrongly) gets the reason's urgency
                row = snapshot_row(snapshot, position)
                if is_blank(row.get(model.URGENCY)):
                    item.urgency = reason.urgency
                    self._put(changes, item, item.id, model.URGENCY, item.urgency, row, WriteMode.FILL)
                    summary.urgency_filled += 1
            owner = item.owner or (owners.owners.get(item_id) if owners else None)
            problems = item.problems + ((dupes[position],) if position in dupes else ())
            went_down = attempts_decrease(item, logged.get(item_id))
            if went_down:
                problems += (went_down,)
            view = self._view(item, item_id, owner, problems)
            views.append(view)
            row = snapshot_row(snapshot, position)
            if not item.id:
                self._put(changes, item, None, model.ID, item_id, row, WriteMode.FILL)
                summary.new_ids += 1
            if owner and not item.owner:
                self._put(changes, item, item_id, model.OWNER, owner, row, WriteMode.FILL)
                summary.assigned += 1
            befores = pick(row, PLANNED_TOOL_COLUMNS)
            logged_first = first_times.get(item_id)
            for column, before, value in zip(
                PLANNED_TOOL_COLUMNS, befores, self._tool_values(view, befores, logged_first), strict=True
            ):
                if before != value and not same_value(before, value):  # the hot path: inlined _put
                    cells.append(CellWrite(position, item.id, column, value, WriteMode.TOOL, before))
            if arrived:
                self._put(changes, item, item.id, model.ARRIVED, view.arrived, row, WriteMode.TOOL)
            if with_script:
                self._put(changes, item, item.id, model.SCRIPT, self.script_link(item), row, WriteMode.TOOL)
            if item.attempts and item.last_attempt:
                entry = self.history_entry(item, item_id, logged, now_cell)
                if entry is not None:
                    history_rows.append(entry)
            summary.problems += bool(problems)
            if item.closed:
                continue
            summary.open += 1
            summary.overdue += view.overdue
            summary.escalations += bool(view.escalation)
            summary.final_due += view.final
            late = is_after_hours(view.arrived)
            summary.after_hours += late
            if view.escalation:
                to = self._alert_to(late)
                summary.after_hours_escalations += late
                alerts.append(EscalationAlert(item_id, to, late))
        self._clear_orphans(snapshot, changes, {i.position for i in items})
        if history_rows:
            changes.tab_appends[model.HISTORY_TAB] = history_rows
        summary.changes = changes.count()
        views.sort(key=ItemView.sort_key)
        return RefreshPlan(
            changes,
            views,
            summary,
            owners.unassigned if owners else {},
            sheet_problems(snapshot.header),
            self.config.escalation_owner,
            alerts,
        )

    def _alert_to(self, after_hours: bool) -> tuple[str, ...]:
        extra = self.config.escalation.after_hours_to
        return (self.who, extra) if after_hours and extra and extra != self.who else (self.who,)

    # --- per item -------------------------------------------------------------------------------------
    def history_entry(
        self,
        item: Item,
        item_id: str,
        logged: dict[str, Logged],
        now_cell: datetime | None,
        source: str = "sheet",
    ) -> list[CellValue] | None:
        """The History row to append for the attempt the row holds now, or None when History already
        has it; ``logged`` is updated, so a second look in the same plan adds nothing.

        History is append-only and reconciled: the row's attempt is logged when its number is above
        every number logged for the ID, or equals the highest one with a later time (a real attempt
        after Attempts was corrected down, which then supersedes the row before it). A number below the
        highest is a decrease: a Problem (see attempts_decrease), never a second row."""
        if not item.attempts or item.last_attempt is None:
            return None
        at = to_cell(item.last_attempt, self.tz)
        entry = logged.get(item_id)
        if entry is not None:
            if item.attempts < entry.top:
                return None
            if item.attempts == entry.top:
                before = entry.latest
                if (
                    not isinstance(before, datetime)
                    or at is None
                    or not at > before.replace(second=0, microsecond=0, tzinfo=None)
                ):
                    return None
        else:
            entry = logged[item_id] = Logged()
        entry.top, entry.latest, entry.rows = item.attempts, at, entry.rows + 1
        return [item_id, item.attempts, at, item.last_outcome or "", now_cell, source]

    def rule_for(self, item: Item, escalation: str | None) -> CadenceRule:
        reason = self.config.reasons.get(item.reason or "Other") or self.config.reasons["Other"]
        rule = reason.rule
        if escalation:
            esc = self.config.escalation
            if (
                rule.kind is not CadenceKind.ESCALATION
                or rule.escalation_minutes != self.config.escalation_minutes
                or rule.retry_minutes != esc.retry_minutes
            ):
                rule = CadenceRule(
                    kind=CadenceKind.ESCALATION,
                    max_attempts=rule.max_attempts,
                    escalation_minutes=self.config.escalation_minutes,
                    retry_minutes=esc.retry_minutes,
                )
        elif rule.kind is CadenceKind.ESCALATION:
            # an escalation that reached the patient: any further call follows the standard cadence
            rule = CadenceRule(kind=CadenceKind.STANDARD, max_attempts=rule.max_attempts)
        return rule

    def _view(self, item: Item, item_id: str, owner: str | None, problems: tuple[str, ...]) -> ItemView:
        flagged = self.flagged(item)
        why = self.escalation(item)
        if item.closed or item.received is None:
            step = "" if item.closed else "Fix the problems, then refresh"
            if why and not item.closed:
                step = f"Hand to {self.who} now: fix the problems, then refresh"
            arrived = self.arrival(item.received) if item.received is not None else None
            return ItemView(
                item, item_id, owner, None, False, False, False, why, step, problems, flagged, arrived
            )
        arrived = self.arrival(item.received)
        rule = self.rule_for(item, why)
        due = next_due(
            self.cal, rule, received=item.received, attempts=item.attempts, last_attempt=item.last_attempt
        )
        overdue = self.now.timestamp() > due.at.timestamp()  # instants: one zone compares wall time
        unresolved = self._unresolved(item.received)
        step = self._next_step(item, rule, due.attempt, due.final, why)
        return ItemView(
            item,
            item_id,
            owner,
            due.at,
            due.final,
            overdue,
            unresolved,
            why,
            step,
            problems,
            flagged,
            arrived,
        )

    def _next_step(self, item: Item, rule: CadenceRule, attempt: int, final: bool, why: str | None) -> str:
        if why:
            if final:
                return self.config.escalation.final_step
            if item.attempts == 0:
                return f"Hand to {self.who}: no clinical advice at the front desk"
            return f"Escalated: {self.who} calls again (attempt {attempt} of {rule.max_attempts})"
        if final:
            return (
                f"Attempts used up ({item.attempts} of {rule.max_attempts}): set Status to No response "
                "and route to the front-desk lead"
            )
        if rule.kind is CadenceKind.DAILY:
            return f"Follow up today (attempt {attempt})"
        return f"Call back (attempt {attempt} of {rule.max_attempts})"

    def _tool_values(
        self, view: ItemView, befores: Sequence[CellValue], logged_first: datetime | None
    ) -> tuple[CellValue, ...]:
        """The tool cells of one row, in PLANNED_TOOL_COLUMNS order (None for an empty cell), from the
        view, what the row holds there now (``befores``, same order) and the time History logged for
        attempt 1 (as the cell holds it)."""
        item = view.item
        kept = kept_earlier_note(befores[6], item.received, self.cal) if befores[6] else None
        problems = "; ".join((*view.problems, kept) if kept else view.problems) or None
        first_cell = befores[4] if item.attempts else None
        if item.attempts and is_blank(first_cell):
            first = localize(logged_first, self.tz) if logged_first else None
            first_cell = to_cell(first or (item.last_attempt if item.attempts == 1 else None), self.tz)
        if item.closed:
            closed_at = befores[5]
            if is_blank(closed_at):
                closed_at = to_cell(min(item.last_attempt or self.now, self.now), self.tz)
            return None, None, view.next_step or None, None, first_cell, closed_at, problems
        overdue = None
        if view.due is not None:
            if view.overdue:
                overdue = f"OVERDUE since {short(view.due)}"
                if view.unresolved:
                    overdue += "; open > 1 business day"
            elif view.unresolved:
                overdue = "Open > 1 business day"
        escalation = None
        if view.escalation:
            to = " and ".join(self._alert_to(is_after_hours(view.arrived)))
            late = " (after hours)" if is_after_hours(view.arrived) else ""
            escalation = f"ESCALATED to {to}{late}: {view.escalation}"
        due = to_cell(view.due, self.tz)
        return due, overdue, view.next_step or None, escalation, first_cell, None, problems

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
    def _new_ids(self, items: Sequence[Item], history: Grid, high_water: int) -> tuple[dict[int, str], int]:
        """IDs for the rows without one, above every ID in the queue, in History and ever issued (the
        State tab's mark: an ID whose row staff deleted is not issued again); and the new highest."""
        prefix = self.config.id_prefix
        pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)$")
        used = {i.id for i in items if i.id}
        used.update(_key(r[0]) for _, r in grid_rows(history) if r)
        highest = max((int(m.group(1)) for u in used if (m := pattern.match(u))), default=0)
        highest = max(highest, high_water)
        ids = {}
        for item in items:
            if not item.id:
                highest += 1
                ids[item.position] = f"{prefix}-{highest:05d}"
        return ids, highest

    def _assign(self, items: Sequence[Item], ids: Mapping[int, str]) -> Assignment:
        if not any(item.is_open and not item.owner for item in items):
            return Assignment(owners={}, unassigned={})  # the usual refresh: every open item has an owner
        rows = []
        escalated: set[str] = set()
        open_ids: set[str] = set()
        for item in items:
            if item.closed:
                continue  # closed rows neither get an owner nor count toward anyone's open items
            item_id = item.id or ids[item.position]
            rows.append(
                {
                    model.ID: item_id,
                    model.OWNER: item.owner or "",
                    model.LANGUAGE: item.language or "",
                    model.REASON: item.reason or "",
                    model.STATUS: item.status,
                }
            )
            open_ids.add(item_id)
            if self.escalation(item):
                escalated.add(item_id)
        specs = [
            OwnerSpec(name=o.name, languages=o.languages, reasons=o.reasons, max_open=o.max_open)
            for o in self.config.owners
        ]
        return assign_owners(
            rows=rows,
            owners=specs,
            escalation_owner=self.config.escalation_owner,
            is_escalation=lambda r: r[model.ID] in escalated,
            is_open=lambda r: r[model.ID] in open_ids,
        )


def snapshot_row(snapshot: Snapshot, position: int) -> Mapping[str, CellValue]:
    # rows are in position order starting at 2; fall back to a search if a backend skipped rows
    index = position - 2
    rows = snapshot.rows
    if 0 <= index < len(rows) and rows[index].position == position:
        return rows[index].values
    return next(r.values for r in rows if r.position == position)


def _any_filled(values: Mapping[str, object], columns: Sequence[str]) -> bool:
    for column in columns:
        value = values.get(column)
        if value is not None and (value.__class__ is not str or value.strip()):  # type: ignore[attr-defined]
            return True
    return False


def _text(value: object) -> str:
    if value is None:
        return ""
    return value.strip() if value.__class__ is str else str(value).strip()  # type: ignore[attr-defined]


def _filled(value: object) -> bool:
    return not is_blank(value)


def _int(value: object) -> int:
    if value.__class__ is int:
        return value  # type: ignore[return-value]
    try:
        return int(float(str(value)))
    except ValueError:
        return -1


@dataclass(slots=True)
class Logged:
    """What History holds for one ID: the highest attempt number, the time of the latest row with that
    number, and how many rows."""

    top: int = 0
    latest: CellValue = None
    rows: int = 0


def history_log(history: Grid) -> dict[str, Logged]:
    """ID -> what History holds for it, reading the rows in order (a later row supersedes)."""
    out: dict[str, Logged] = {}
    for _, row in grid_rows(history):
        if len(row) < 2 or is_blank(row[0]):
            continue
        key = _key(row[0])
        entry = out.get(key)
        if entry is None:
            entry = out[key] = Logged()
        entry.rows += 1
        number = _int(row[1])
        if number >= entry.top:
            entry.top, entry.latest = number, row[2] if len(row) > 2 else None
    return out


def attempts_decrease(item: Item, logged: Logged | None) -> str | None:
    """The Problem when Attempts is below what History logged: staff corrected it down (or cleared it),
    and History (append-only) still holds the higher count."""
    if logged is None or item.attempts >= logged.top:
        return None
    rows = "1 row" if logged.rows == 1 else f"{logged.rows} rows"
    return f"Attempts went from {logged.top} to {item.attempts}: History keeps {rows}"


def _first_attempts(history: Grid) -> dict[str, datetime]:
    """ID -> the time History logged for attempt 1 (as the cell holds it), for IDs whose lowest logged
    attempt is 1; the first such row wins."""
    first: dict[str, datetime] = {}
    below: set[str] = set()  # IDs with an attempt logged as 0 or unreadable: no first time for them
    for _, row in grid_rows(history):
        if len(row) > 2 and isinstance(row[2], datetime):
            attempt = _int(row[1])
            if attempt == 1:
                first.setdefault(_key(row[0]), row[2])
            elif attempt < 1:
                below.add(_key(row[0]))
    for key in below:
        first.pop(key, None)
    return first


def _key(value: object) -> str:
    return value if value.__class__ is str else str(value)  # type: ignore[return-value]


