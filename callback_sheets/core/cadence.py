"""When the next callback attempt is due, from a reason's cadence rule, in business time.

The defaults (issue 2, "The cadence"): a first attempt is due at the end of the block in which the call
arrived if at least 30 business minutes of it remain, otherwise at the end of the next block; later
attempts are due at the end of the block after the one of the last attempt; documents and prior
authorizations are followed up once every business day; clinical concerns are due 15 business minutes
after arrival, and after an unsuccessful attempt again 30 business minutes later (issue 11). Pure
functions of a BusinessCalendar and the row's times.

Each kind (standard, daily, escalation) is a :class:`Cadence` in :data:`CADENCES`, carrying its due rule
and its Next step wording; a new kind is a subclass registered here, and the config accepts its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from callback_sheets.core.calendar import BusinessCalendar


class CadenceKind(str):
    """A cadence kind's name. Only a registered name makes one (``CadenceKind("weekly")`` raises ValueError
    until a kind of that name is registered), and it is always the registry's own object, so kinds
    compare with ``is`` (``rule.kind is CadenceKind.DAILY``)."""

    __slots__ = ()
    STANDARD: ClassVar[CadenceKind]  # end of the next block after the last attempt, up to max_attempts
    DAILY: ClassVar[CadenceKind]  # end of the next business day after the last attempt, never final
    ESCALATION: ClassVar[CadenceKind]  # first attempt within escalation_minutes, then every retry_minutes

    def __new__(cls, name: str) -> CadenceKind:
        try:
            return CADENCES[name].kind
        except KeyError:
            raise ValueError(f"{name!r} is not a cadence kind (one of {kind_names()})") from None


@dataclass(frozen=True, slots=True)
class CadenceRule:
    """A reason's cadence."""

    kind: CadenceKind
    max_attempts: int = 3
    min_remaining_minutes: int = 30
    escalation_minutes: int = 15
    retry_minutes: int = 30  # escalations: business minutes from an unsuccessful attempt to the next

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts}")
        if self.min_remaining_minutes < 0:
            raise ValueError(f"min_remaining_minutes must be >= 0, not {self.min_remaining_minutes}")
        if self.escalation_minutes < 1:
            raise ValueError(f"escalation_minutes must be at least 1, not {self.escalation_minutes}")
        if self.retry_minutes < 1:
            raise ValueError(f"retry_minutes must be at least 1, not {self.retry_minutes}")
        given: object = self.kind  # typed CadenceKind, but callers may pass a plain name
        if not isinstance(given, CadenceKind):
            object.__setattr__(self, "kind", CadenceKind(str(given)))  # a plain name: the registered kind

    @property
    def cadence(self) -> Cadence:
        """What the rule's kind does: its due rule and its next-step wording."""
        return CADENCES[self.kind]


@dataclass(slots=True)  # not frozen: one per row, and frozen makes __init__ 4x slower
class Due:
    """The next action on a row."""

    at: datetime  # when the next action is due (aware, clinic time zone)
    attempt: int  # which attempt this is (attempts + 1)
    final: bool  # attempts exhausted: due for a final documented status (No response) and routing


class Cadence:
    """One cadence kind: when its next attempt is due and what the Next step cell says.

    This base class is the standard cadence; a kind overrides what differs and is added with
    :func:`register` (the config's ``cadence = "..."`` then accepts its name). Refresh and config read
    kinds only through the registry, so a new kind touches this module (plus its tests and docs).
    """

    def __init__(self, name: str) -> None:
        self.kind: CadenceKind = str.__new__(CadenceKind, name)

    def first_due(self, cal: BusinessCalendar, rule: CadenceRule, received: datetime) -> datetime:
        """When attempt 1 is due for a call received at ``received`` (aware, clinic time)."""
        return first_attempt_due(cal, received, min_remaining_minutes=rule.min_remaining_minutes)

    def later_due(self, cal: BusinessCalendar, rule: CadenceRule, since: datetime) -> datetime:
        """When the attempt after one made at ``since`` is due (``since``: aware, never before arrival)."""
        return _end_of_next_block(cal, since)

    def final(self, rule: CadenceRule, attempts: int) -> bool:
        """Whether ``attempts`` attempts use the rule up (the next action is a final documented status)."""
        return attempts >= rule.max_attempts

    def next_step(self, rule: CadenceRule, due: Due, attempts: int) -> str:
        """The Next step cell of an open, not escalated row whose next action is ``due``."""
        if due.final:
            return (
                f"Attempts used up ({attempts} of {rule.max_attempts}): set Status to No response "
                "and route to the front-desk lead"
            )
        return f"Call back (attempt {due.attempt} of {rule.max_attempts})"


class _Daily(Cadence):
    def later_due(self, cal: BusinessCalendar, rule: CadenceRule, since: datetime) -> datetime:
        end = cal.business_day_end(cal.next_business_date(since.date()))
        assert end is not None  # a business date has spans
        return end

    def final(self, rule: CadenceRule, attempts: int) -> bool:
        return False

    def next_step(self, rule: CadenceRule, due: Due, attempts: int) -> str:
        return f"Follow up today (attempt {due.attempt})"


class _Escalation(Cadence):
    def first_due(self, cal: BusinessCalendar, rule: CadenceRule, received: datetime) -> datetime:
        return cal.add_business_minutes(received, rule.escalation_minutes)

    def later_due(self, cal: BusinessCalendar, rule: CadenceRule, since: datetime) -> datetime:
        return cal.add_business_minutes(since, rule.retry_minutes)


CADENCES: dict[str, Cadence] = {}  # kind name -> what it does; the only list of cadence kinds


def register(cadence: Cadence) -> Cadence:
    """Add a cadence kind (or replace the one of that name); returns it."""
    CADENCES[str(cadence.kind)] = cadence
    return cadence


def kind_names() -> str:
    """The registered kinds' names, for messages: "standard, daily, escalation"."""
    return ", ".join(CADENCES)


CadenceKind.STANDARD = register(Cadence("standard")).kind
CadenceKind.DAILY = register(_Daily("daily")).kind
CadenceKind.ESCALATION = register(_Escalation("escalation")).kind


_STANDARD_3 = CadenceRule(CadenceKind.STANDARD, max_attempts=3)
_DAILY = CadenceRule(CadenceKind.DAILY)

DEFAULT_RULES: dict[str, CadenceRule] = {
    "New appointment": CadenceRule(CadenceKind.STANDARD, max_attempts=2),
    "Existing patient follow-up": _STANDARD_3,
    "Document / referral": _DAILY,
    "Prior authorization": _DAILY,
    "Billing": _STANDARD_3,
    "Prescription question": _STANDARD_3,
    "Clinical concern": CadenceRule(CadenceKind.ESCALATION, max_attempts=3),
    "Other": _STANDARD_3,
}


def first_attempt_due(
    cal: BusinessCalendar, received: datetime, *, min_remaining_minutes: int = 30
) -> datetime:
    """End of the block the call arrived in if at least ``min_remaining_minutes`` of it remain, else the
    end of the next block; a call outside business hours is due at the end of the first block after it."""
    received = cal.localize(received)
    span = cal.span_at(received)
    if span is None:
        return cal.next_span(received).end
    # inside one span, business minutes are real elapsed minutes
    if span.end.timestamp() - received.timestamp() >= min_remaining_minutes * 60:
        return span.end
    return cal.next_span(span.end).end


def _end_of_next_block(cal: BusinessCalendar, after: datetime) -> datetime:
    """End of the block after the one containing ``after``; outside hours, of the first block after it."""
    span = cal.span_at(after)
    return cal.next_span(after if span is None else span.end).end


def next_due(
    cal: BusinessCalendar,
    rule: CadenceRule,
    *,
    received: datetime,
    attempts: int,
    last_attempt: datetime | None,
) -> Due:
    """When the next attempt (number ``attempts + 1``) on a row is due.

    Later attempts count from the last attempt; if its time is missing, or earlier than the arrival
    (a typing mistake), they count from the arrival, so a due time is never before the call came in.
    """
    if attempts < 0:
        raise ValueError(f"attempts must be >= 0, not {attempts}")
    received = cal.localize(received)
    cadence = rule.cadence
    if attempts == 0:
        return Due(at=cadence.first_due(cal, rule, received), attempt=1, final=False)
    since = received
    if last_attempt is not None:
        last = cal.localize(last_attempt)
        if last.timestamp() > since.timestamp():
            since = last
    return Due(
        at=cadence.later_due(cal, rule, since),
        attempt=attempts + 1,
        final=cadence.final(rule, attempts),
    )
