"""When the next callback attempt is due, from a reason's cadence rule, in business time.

The defaults (issue 2, "The cadence"): a first attempt is due at the end of the block in which the call
arrived if at least 30 business minutes of it remain, otherwise at the end of the next block; later
attempts are due at the end of the block after the one of the last attempt; documents and prior
authorizations are followed up once every business day; clinical concerns are due 15 business minutes
after arrival, and after an unsuccessful attempt again 30 business minutes later (issue 11). Pure
functions of a BusinessCalendar and the row's times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from callback_sheets.core.calendar import BusinessCalendar


class CadenceKind(StrEnum):
    """How the attempts of a reason are spaced."""

    STANDARD = "standard"  # end of the next block after the last attempt, up to max_attempts
    DAILY = "daily"  # end of the next business day after the last attempt, never final
    ESCALATION = "escalation"  # first attempt within escalation_minutes, then every retry_minutes


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


@dataclass(slots=True)  # not frozen: one per row, and frozen makes __init__ 4x slower
class Due:
    """The next action on a row."""

    at: datetime  # when the next action is due (aware, clinic time zone)
    attempt: int  # which attempt this is (attempts + 1)
    final: bool  # attempts exhausted: due for a final documented status (No response) and routing


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
    if attempts == 0:
        if rule.kind is CadenceKind.ESCALATION:
            at = cal.add_business_minutes(received, rule.escalation_minutes)
        else:
            at = first_attempt_due(cal, received, min_remaining_minutes=rule.min_remaining_minutes)
        return Due(at=at, attempt=1, final=False)
    since = received
    if last_attempt is not None:
        last = cal.localize(last_attempt)
        if last.timestamp() > since.timestamp():
            since = last
    if rule.kind is CadenceKind.ESCALATION:
        return Due(
            at=cal.add_business_minutes(since, rule.retry_minutes),
            attempt=attempts + 1,
            final=attempts >= rule.max_attempts,
        )
    if rule.kind is CadenceKind.DAILY:
        day = since.date()
        end = cal.business_day_end(cal.next_business_date(day))
        assert end is not None  # a business date has spans
        return Due(at=end, attempt=attempts + 1, final=False)
    return Due(
        at=_end_of_next_block(cal, since),
        attempt=attempts + 1,
        final=attempts >= rule.max_attempts,
    )
