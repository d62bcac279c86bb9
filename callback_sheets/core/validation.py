"""Reading one queue row the way a careful person would: typed fields plus plain-language problems.

A bad row never raises: whatever cannot be read becomes a problem and the field is left unknown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from callback_sheets import model
from callback_sheets.cells import CellValue, pick, text
from callback_sheets.config import Config
from callback_sheets.core.phones import Phone, PhoneError, parse_phone
from callback_sheets.core.times import localize, parse_when

FUTURE_SLACK = timedelta(minutes=5)


@dataclass(slots=True)  # not frozen: one per row, and frozen makes __init__ 4x slower
class Item:
    """A Queue row as the planner reads it: each field typed, with the row's problems."""

    position: int
    id: str | None
    received: datetime | None
    phone: Phone | None
    caller: str
    reason: str | None  # canonical name; None when empty or unknown
    status: str  # as config spells it; an empty cell reads as the clinic's "New"
    closed: bool
    attempts: int
    last_attempt: datetime | None
    last_outcome: str | None
    language: str | None
    patient_type: str | None
    urgency: str | None
    owner: str | None
    notes: str
    calls: int
    latest_call: datetime | None
    problems: tuple[str, ...]

    @property
    def is_open(self) -> bool:
        return not self.closed


class _ChoiceColumn:
    """One choice column: a cell matched case- and space-insensitively to its canonical choice, or a
    problem, memoised by the cell's text (a queue repeats a handful of values in every choice column)."""

    def __init__(self, names: Sequence[str], column: str, *, required: bool = False) -> None:
        self.names = tuple(names)
        self.column = column
        self.required = required
        self._by_key = {" ".join(n.casefold().split()): n for n in names}
        self._seen: dict[object, tuple[str | None, str | None]] = {}

    def read(self, value: object, problems: list[str]) -> str | None:
        """The canonical choice (None when empty or unknown); a problem, if any, is added to ``problems``."""
        if value is not None and value.__class__ is not str:
            found, problem = self._check(value)  # a number or a date: not memoised (True == 1 == 1.0 as keys)
        else:
            try:
                found, problem = self._seen[value]
            except KeyError:
                found, problem = self._seen[value] = self._check(value)
        if problem:
            problems.append(problem)
        return found

    def _check(self, value: object) -> tuple[str | None, str | None]:
        raw = text(value)
        if not raw:
            return None, (f"{self.column} is empty: pick one from the list" if self.required else None)
        found = self._by_key.get(" ".join(raw.casefold().split()))
        if found is None:
            names = ", ".join(self.names)
            return None, f"{self.column} '{raw[:40]}' is not one of the choices ({names})"
        return found, None


# The cells a row is read from, in the order RowReader.read unpacks them.
_FIELDS = (
    model.ID,
    model.RECEIVED,
    model.CALLER,
    model.PHONE,
    model.REASON,
    model.STATUS,
    model.LAST_OUTCOME,
    model.ATTEMPTS,
    model.LAST_ATTEMPT,
    model.CALLS,
    model.LATEST_CALL,
    model.LANGUAGE,
    model.PATIENT_TYPE,
    model.URGENCY,
    model.OWNER,
    model.NOTES,
)


class RowReader:
    """Turns sheet rows into Items for one config and one `now`."""

    def __init__(self, *, config: Config, now: datetime) -> None:
        self.config = config
        self.now = now
        self.tz = config.tz
        self.future = now + FUTURE_SLACK
        self.order = config.order_of_dates()  # the planner sets it from the snapshot's locale
        self._reason = _ChoiceColumn(list(config.reasons), model.REASON, required=True)
        self._status = _ChoiceColumn(config.statuses, model.STATUS)
        self._outcome = _ChoiceColumn(config.outcomes, model.LAST_OUTCOME)
        self._language = _ChoiceColumn(config.languages, model.LANGUAGE)
        self._patient_type = _ChoiceColumn(config.patient_types, model.PATIENT_TYPE)
        self._urgency = _ChoiceColumn(config.urgencies, model.URGENCY)
        self._closed = frozenset(config.closed_statuses)
        words = model.clinic_words(config)
        self._new = words.status(model.Status.NEW)  # the status of a row whose Status is empty
        self._duplicate = words.status(model.Status.DUPLICATE)
        self._booked = words.outcome(model.Outcome.BOOKED)

    def read(self, position: int, values: Mapping[str, CellValue]) -> Item:
        (
            id_cell,
            received_cell,
            caller,
            phone_cell,
            reason_cell,
            status_cell,
            outcome_cell,
            attempts_cell,
            last_cell,
            calls_cell,
            latest_cell,
            language_cell,
            patient_type_cell,
            urgency_cell,
            owner_cell,
            notes,
        ) = pick(values, _FIELDS)
        problems: list[str] = []
        received = self._when(received_cell, model.RECEIVED, problems, required=True)
        phone = self._phone(phone_cell, problems)
        reason = self._reason.read(reason_cell, problems)
        status = self._status.read(status_cell, problems) or self._new
        outcome = self._outcome.read(outcome_cell, problems)
        attempts = self._count(attempts_cell, model.ATTEMPTS, problems)
        last = self._when(last_cell, model.LAST_ATTEMPT, problems)
        calls = self._count(calls_cell, model.CALLS, problems) or 1
        latest_call = self._when(latest_cell, model.LATEST_CALL, problems)
        closed = status in self._closed
        typed_outcome = outcome or (text(outcome_cell) or None)
        self._consistency(received, attempts, last, typed_outcome, status, closed, problems)
        language = self._language.read(language_cell, problems)
        patient_type = self._patient_type.read(patient_type_cell, problems)
        urgency = self._urgency.read(urgency_cell, problems)
        return Item(
            position,
            text(id_cell) or None,
            received,
            phone,
            text(caller),
            reason,
            status,
            closed,
            attempts,
            last,
            outcome,
            language,
            patient_type,
            urgency,
            text(owner_cell) or None,
            text(notes),
            calls,
            latest_call,
            tuple(problems),
        )

    # --- fields -------------------------------------------------------------------------------------
    def _when(
        self, value: object, column: str, problems: list[str], *, required: bool = False
    ) -> datetime | None:
        if value.__class__ is datetime and value.tzinfo is None:
            when: datetime | None = localize(value, self.tz)  # the usual cell
        else:
            try:
                when = parse_when(value, self.tz, order=self.order)
            except ValueError:
                problems.append(f"{column} is not a date and time (write it like 12/01/2026 09:10)")
                return None
        if when is None:
            if required:
                problems.append(f"{column} is empty: enter when the call came in")
            return None
        if when.timestamp() > self.future.timestamp():
            problems.append(f"{column} is in the future")
        return when

    def _phone(self, value: object, problems: list[str]) -> Phone | None:
        try:
            return parse_phone(text(value), self.config.phone_region)
        except PhoneError as exc:
            problems.append(str(exc)[0].upper() + str(exc)[1:])
            return None

    def _count(self, value: object, column: str, problems: list[str]) -> int:
        if value.__class__ is int and value >= 0:
            return value
        if value is None:
            return 0
        raw = text(value)
        if not raw:
            return 0
        try:
            number = float(raw)
        except ValueError:
            number = -1
        if number < 0 or not number.is_integer():
            problems.append(f"{column} '{raw[:20]}' is not a whole number")
            return 0
        return int(number)

    def _consistency(
        self,
        received: datetime | None,
        attempts: int,
        last: datetime | None,
        outcome: str | None,
        status: str,
        closed: bool,
        problems: list[str],
    ) -> None:
        if attempts and last is None:
            problems.append(f"Attempts is {attempts} but Last attempt is empty")
        if not attempts and last is not None:
            problems.append("Last attempt is filled in but Attempts is 0")
        if not attempts and outcome is not None:
            problems.append("Last outcome is filled in but Attempts is 0")
        if attempts and outcome is None:
            problems.append("Last outcome is empty: say what happened on the last attempt")
        if last is not None and received is not None and last < received:
            problems.append("Last attempt is before Received")
        if closed and outcome is None and status != self._duplicate:
            problems.append(f"Status is {status} but no attempt outcome is recorded")
        if outcome == self._booked and not closed:
            problems.append(f"Last outcome is {outcome} but Status is still {status}")


def duplicate_id_problems(items: Sequence[Item]) -> dict[int, str]:
    """Rows that share an ID with another row (a copied row), by position."""
    ids = [item.id for item in items if item.id]
    if len(set(ids)) == len(ids):
        return {}  # the usual queue: every ID once
    seen: dict[str, list[int]] = {}
    for item in items:
        if item.id:
            seen.setdefault(item.id, []).append(item.position)
    out = {}
    for item_id, positions in seen.items():
        if len(positions) > 1:
            for p in positions:
                others = ", ".join(str(o) for o in positions if o != p)
                out[p] = f"ID {item_id} is also on row {others}: clear the ID of the copy"
    return out
