"""Each item as a refresh judges it: escalated or not, its cadence rule, when it is due, its next step,
and the tool cells that say so (the view the work list, reports and alerts read).

:class:`ItemViews` holds what that needs for one config, calendar and `now`; the refresh planner
(core.refresh.Planner) builds on it and adds what is written where.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from callback_sheets import model
from callback_sheets.cells import CellValue, Link, Snapshot, every, is_blank
from callback_sheets.config import Config
from callback_sheets.core.arrival import Arrivals, is_after_hours, kept_earlier_note
from callback_sheets.core.cadence import CadenceKind, CadenceRule, Due, next_due
from callback_sheets.core.calendar import BusinessCalendar, BusinessDaysPassed
from callback_sheets.core.refresh_plan import ItemView
from callback_sheets.core.times import localize, short, to_cell
from callback_sheets.core.triage import escalated_now, triage_for
from callback_sheets.core.validation import Item, RowReader

if TYPE_CHECKING:
    from callback_sheets.core.script_index import ScriptIndex

# The tool columns a refresh computes for every row, in the order ItemViews._tool_values returns them.
PLANNED_TOOL_COLUMNS = (
    model.NEXT_ATTEMPT,
    model.OVERDUE,
    model.NEXT_STEP,
    model.ESCALATION,
    model.FIRST_ATTEMPT,
    model.CLOSED_AT,
    model.PROBLEMS,
)


class ItemViews:
    """Judges items for one config, calendar and `now`."""

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
        self._scripts: ScriptIndex | bool | None = False if script_links else None
        self._urgency_rank = model.clinic_words(config).urgency_rank()  # the work list's order

    def scripts(self) -> ScriptIndex | None:
        """The Scripts tab's blocks as links need them (None when a template cannot be rendered: Script
        cells stay empty), from the cache of core.script_index when it holds them, else rendered."""
        if self._scripts is False:
            from callback_sheets.core import script_index  # only when a queue has a Script column

            self._scripts = script_index.index_for(
                clinic_name=self.config.clinic_name,
                callback_number=self.config.callback_number,
                override_dir=self.config.templates,
            )
        scripts = self._scripts
        return None if isinstance(scripts, bool) else scripts

    def script_link(self, item: Item) -> Link | None:
        """The Script cell of an open item: a link to its block on the Scripts tab."""
        index = self.scripts()
        if index is None or item.closed:
            return None
        found = index.link_for(item.language, item.reason, item.attempts)
        return None if found is None else Link(found[0], model.SCRIPTS_TAB, found[1])

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
            why,
            closed=item.closed,
            last_outcome=item.last_outcome,
            attempts=item.attempts,
            reached=self._triage.reached,
        ):
            return why
        return None

    def _alert_to(self, after_hours: bool) -> tuple[str, ...]:
        extra = self.config.escalation.after_hours_to
        return (self.who, extra) if after_hours and extra and extra != self.who else (self.who,)

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
        step = self._next_step(item, rule, due, why)
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

    def _next_step(self, item: Item, rule: CadenceRule, due: Due, why: str | None) -> str:
        if why:
            if due.final:
                return self.config.escalation.final_step
            if item.attempts == 0:
                return f"Hand to {self.who}: no clinical advice at the front desk"
            return f"Escalated: {self.who} calls again (attempt {due.attempt} of {rule.max_attempts})"
        return rule.cadence.next_step(rule, due, item.attempts)

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


def snapshot_row(snapshot: Snapshot, position: int) -> Mapping[str, CellValue]:
    # rows are in position order starting at 2; fall back to a search if a backend skipped rows
    index = position - 2
    rows = snapshot.rows
    if 0 <= index < len(rows) and rows[index].position == position:
        return rows[index].values
    return next(r.values for r in rows if r.position == position)


def _text(value: object) -> str:
    if value is None:
        return ""
    return value.strip() if value.__class__ is str else str(value).strip()
