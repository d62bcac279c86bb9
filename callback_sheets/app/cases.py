"""Queue rows and History rows become :class:`~callback_sheets.core.metrics.Case` records through a light
reader that looks only at the columns the figures need (no phone parsing), so a report over a large
queue stays cheap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from callback_sheets import model
from callback_sheets.cells import CellValue, Grid, RowValues, Snapshot, every, grid_rows, pick, text
from callback_sheets.config import Config
from callback_sheets.core.arrival import Arrivals
from callback_sheets.core.metrics import Case
from callback_sheets.core.refresh_plan import ItemView
from callback_sheets.core.times import localize, parse_when
from callback_sheets.core.triage import triage_for

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
        self.words = model.clinic_words(config)
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
        if value.__class__ is datetime and value.tzinfo is None:
            return localize(value, self.tz)  # the usual cell
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
            if wall_since is not None and cell.__class__ is datetime and cell < wall_since:
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
                    self.words,
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

    def _texts(self, values: Mapping[str, CellValue], notes_cell: CellValue) -> tuple[tuple[str, str], ...]:
        """(column, text) of every filled column the escalation keywords are looked for in."""
        if self._triage.columns == (model.NOTES,) and values.__class__ is not RowValues:
            return ((model.NOTES, text(notes_cell)),)  # a plain mapping: one Notes
        return tuple((col, t) for col in self._triage.columns for c in every(values, col) if (t := text(c)))

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
        texts = self._texts(values, notes_cell)
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
            self.words,
        )


def _count(value: object, default: int) -> int:
    """A whole number >= 0 from a cell; ``default`` when empty or unreadable."""
    if type(value) is int:
        return max(value, 0)
    try:
        return max(int(float(text(value) or default)), 0)
    except ValueError:
        return default
