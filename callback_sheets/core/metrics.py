"""The clinic's figures for a period (a clinic-local day or a Monday–Sunday week), optionally per scope.

Pure: it works on :class:`Case` records (one per queue item, facts only) and a BusinessCalendar; it knows
nothing of spreadsheets. The definitions (README, "Metrics") are implemented here and nowhere else:

* missed calls: items whose ``Received`` falls in the period (``Duplicate`` items excluded: they stand
  for a call counted in another item); ``calls`` sums their ``Calls`` (repeat calls merged into one item);
* recovered: items with an attempt outcome ``Reached`` or ``Booked`` (History or Last outcome) or with
  Status ``Booked`` or ``Resolved``; recovery rate = recovered ÷ missed calls;
* time to first callback: business minutes from ``Received`` to the first attempt (History attempt 1,
  else the ``First attempt`` column, else ``Last attempt`` when Attempts is 1); mean, median and 90th
  percentile (nearest rank) over the items whose first attempt time is known;
* same-block standard: first attempt by the end of the block the call arrived in (the next block when
  fewer than 30 business minutes of it remained; the first block after it when it arrived outside
  hours); same-day standard: by the end of that business day (the next business day's end when the call
  arrived after closing or on a closed day). Judged over items attempted, plus items not attempted whose
  deadline has passed (they fail); items still within their deadline are not judged yet;
* booked from callbacks: an attempt outcome ``Booked`` or Status ``Booked``;
* unresolved now: items still open; of those, open for more than one business day after ``Received``;
* escalations: items the triage flags (Clinical concern, an escalation keyword in the notes) or with
  Status ``Escalated`` or a filled ``Escalation`` cell; handled = the first attempt, else ``Closed at``;
  business minutes from ``Received`` to handled (mean, median, p90); not yet handled = pending;
* closed with no response: Status ``No response``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal

from callback_sheets import model
from callback_sheets.core.arrival import CLOSED_DAY, IN_HOURS, Arrivals, is_after_hours
from callback_sheets.core.cadence import first_attempt_due
from callback_sheets.core.calendar import BusinessCalendar, BusinessDaysPassed

PeriodKind = Literal["daily", "weekly"]
RECOVERED_OUTCOMES = frozenset({model.Outcome.REACHED, model.Outcome.BOOKED})
RECOVERED_STATUSES = frozenset({model.Status.BOOKED, model.Status.RESOLVED})
SCOPE_DIMENSIONS = ("owner", "reason", "language", "patient-type")
NONE_VALUE = "(none)"


@dataclass(slots=True)  # not frozen: one per row, and frozen makes __init__ 4x slower
class Case:
    """One queue item as the metrics see it: facts read from the queue and its attempt history."""

    id: str
    received: datetime  # aware, clinic time zone
    calls: int
    status: str  # as config spells it; an empty cell is the clinic's "New"
    closed: bool
    attempts: int
    outcomes: frozenset[str]  # every recorded attempt outcome (History and Last outcome)
    first_attempt: datetime | None  # aware; None when there was no attempt or its time is unknown
    closed_at: datetime | None
    escalated: bool
    owner: str | None = None
    reason: str | None = None
    language: str | None = None
    patient_type: str | None = None
    arrived: str = ""  # In hours / After hours / Closed day ("" when not worked out)
    words: model.Words = model.DEFAULT_WORDS  # the clinic's words for the statuses and outcomes compared

    @property
    def duplicate(self) -> bool:
        return self.status == self.words.status(model.Status.DUPLICATE)

    @property
    def no_response(self) -> bool:
        return self.status == self.words.status(model.Status.NO_RESPONSE)

    _recovered: bool | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def recovered(self) -> bool:
        found = self._recovered  # worked out once: every scope and demand tally asks
        if found is None:
            outcomes, statuses = _recovered_words(self.words)
            found = self._recovered = bool(self.outcomes & outcomes) or self.status in statuses
        return found

    @property
    def booked(self) -> bool:
        words = self.words
        return words.outcome(model.Outcome.BOOKED) in self.outcomes or self.status == words.status(
            model.Status.BOOKED
        )

    @property
    def handled_at(self) -> datetime | None:
        """When an escalation was handled: the first attempt, else when the item was first seen closed."""
        return self.first_attempt or self.closed_at

    def scope_value(self, dimension: str) -> str:
        value = {
            "owner": self.owner,
            "reason": self.reason,
            "language": self.language,
            "patient-type": self.patient_type,
        }[dimension]
        return value or NONE_VALUE


@dataclass(frozen=True, slots=True)
class Period:
    """A clinic-local day or a Monday–Sunday week; ``end`` is the last date (inclusive)."""

    kind: PeriodKind
    start: date
    end: date

    @property
    def label(self) -> str:
        if self.kind == "daily":
            return self.start.isoformat()
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"

    def bounds(self, tz: object) -> tuple[datetime, datetime]:
        """[start, end) as aware clinic datetimes (midnight to midnight)."""
        start = datetime.combine(self.start, time(), tzinfo=tz)  # type: ignore[arg-type]
        end = datetime.combine(self.end + timedelta(days=1), time(), tzinfo=tz)  # type: ignore[arg-type]
        return start, end


def period_for(kind: str, on: date) -> Period:
    """The day ``on``, or the Monday–Sunday week containing it."""
    if kind == "daily":
        return Period("daily", on, on)
    if kind == "weekly":
        monday = on - timedelta(days=on.weekday())
        return Period("weekly", monday, monday + timedelta(days=6))
    raise ValueError(f"period {kind!r} must be 'daily' or 'weekly'")


@dataclass(frozen=True, slots=True)
class Stats:
    """Business minutes: how many values, their mean, median and 90th percentile (nearest rank)."""

    count: int
    mean: float | None
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        if not values:
            return cls(0, None, None, None)
        ordered = sorted(values)
        p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]
        return cls(len(ordered), statistics.fmean(ordered), statistics.median(ordered), p90)

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "count": self.count,
            "mean": _round(self.mean),
            "median": _round(self.median),
            "p90": _round(self.p90),
        }


@dataclass(frozen=True, slots=True)
class Share:
    """How many of the judged items met a standard."""

    met: int
    judged: int

    @property
    def share(self) -> float | None:
        return self.met / self.judged if self.judged else None

    def as_dict(self) -> dict[str, float | int | None]:
        return {"met": self.met, "judged": self.judged, "share": _round(self.share, 4)}


@dataclass(frozen=True, slots=True)
class Figures:
    missed_calls: int
    calls: int
    recovered: int
    first_callback: Stats
    first_attempt_unknown: int
    same_block: Share
    same_day: Share
    booked: int
    unresolved: int
    unresolved_over_1_business_day: int
    escalations: int
    escalation_handling: Stats
    escalations_pending: int
    no_response: int
    after_hours: int = 0  # missed calls that arrived after hours or on a closed day
    after_hours_closed_day: int = 0  # of which on a closed day (weekend, holiday, closure)
    after_hours_recovered: int = 0

    @property
    def recovery_rate(self) -> float | None:
        return self.recovered / self.missed_calls if self.missed_calls else None

    @property
    def after_hours_recovery_rate(self) -> float | None:
        return self.after_hours_recovered / self.after_hours if self.after_hours else None

    def as_dict(self) -> dict[str, object]:
        return {
            "missed_calls": self.missed_calls,
            "calls": self.calls,
            "recovered": self.recovered,
            "recovery_rate": _round(self.recovery_rate, 4),
            "first_callback_minutes": self.first_callback.as_dict(),
            "first_attempt_unknown": self.first_attempt_unknown,
            "same_block": self.same_block.as_dict(),
            "same_day": self.same_day.as_dict(),
            "booked": self.booked,
            "unresolved": self.unresolved,
            "unresolved_over_1_business_day": self.unresolved_over_1_business_day,
            "escalations": self.escalations,
            "escalation_handled_minutes": self.escalation_handling.as_dict(),
            "escalations_pending": self.escalations_pending,
            "no_response": self.no_response,
            "after_hours": {
                "missed_calls": self.after_hours,
                "closed_day": self.after_hours_closed_day,
                "recovered": self.after_hours_recovered,
                "recovery_rate": _round(self.after_hours_recovery_rate, 4),
            },
        }


@lru_cache(maxsize=16)
def _recovered_words(words: model.Words) -> tuple[frozenset[str], frozenset[str]]:
    """The clinic's words for RECOVERED_OUTCOMES and RECOVERED_STATUSES."""
    return frozenset(map(words.outcome, RECOVERED_OUTCOMES)), frozenset(map(words.status, RECOVERED_STATUSES))


def in_period(cases: Iterable[Case], period: Period, tz: object) -> list[Case]:
    """The missed calls of the period: non-duplicate items received in it."""
    start, end = period.bounds(tz)
    low, high = start.timestamp(), end.timestamp()  # instants (one zone's aware times compare wall time)
    return [c for c in cases if low <= c.received.timestamp() < high and not c.duplicate]


def same_day_deadline(cal: BusinessCalendar, received: datetime) -> datetime:
    """End of the business day the call arrived on; after closing or on a closed day, the next one's end."""
    day = cal.localize(received).date()
    end = cal.business_day_end(day)
    if end is None or received.timestamp() >= end.timestamp():
        end = cal.business_day_end(cal.next_business_date(day))
    assert end is not None  # a business date has spans
    return end


@dataclass(frozen=True, slots=True)
class Measure:
    """What the figures need from one case, computed once (a case counts in several scopes)."""

    case: Case
    wait: float | None  # business minutes to the first attempt
    block: tuple[int, int]  # (met, judged) of the same-block standard
    day: tuple[int, int]
    stale: bool  # open for more than one business day
    handling: float | None  # business minutes to the escalation being handled
    arrived: str = IN_HOURS


def measure(cases: Iterable[Case], *, calendar: BusinessCalendar, now: datetime) -> list[Measure]:
    cal = calendar
    stale_by = BusinessDaysPassed(cal, now, 1)
    arrival = Arrivals(cal)
    out = []
    for case in cases:
        first = case.first_attempt
        wait = cal.business_minutes_between(case.received, first) if first is not None else None
        block = day = (0, 0)
        if first is not None or not case.attempts:
            block = _judge(first, first_attempt_due(cal, case.received), now)
            day = _judge(first, same_day_deadline(cal, case.received), now)
        stale = not case.closed and stale_by(case.received)
        handled = case.handled_at if case.escalated else None
        handling = None if handled is None else cal.business_minutes_between(case.received, handled)
        arrived = case.arrived or arrival(case.received)
        out.append(Measure(case, wait, block, day, stale, handling, arrived))
    return out


def figures(cases: Sequence[Case], *, calendar: BusinessCalendar, now: datetime) -> Figures:
    """The figures over ``cases`` (already restricted to one period and scope)."""
    return aggregate(measure(cases, calendar=calendar, now=now))


def aggregate(measures: Sequence[Measure]) -> Figures:
    cases = [m.case for m in measures]
    waits = [m.wait for m in measures if m.wait is not None]
    handling = [m.handling for m in measures if m.handling is not None]
    escalations = sum(c.escalated for c in cases)
    return Figures(
        missed_calls=len(cases),
        calls=sum(c.calls for c in cases),
        recovered=sum(c.recovered for c in cases),
        first_callback=Stats.of(waits),
        first_attempt_unknown=sum(m.wait is None and m.case.attempts > 0 for m in measures),
        same_block=Share(sum(m.block[0] for m in measures), sum(m.block[1] for m in measures)),
        same_day=Share(sum(m.day[0] for m in measures), sum(m.day[1] for m in measures)),
        booked=sum(c.booked for c in cases),
        unresolved=sum(not c.closed for c in cases),
        unresolved_over_1_business_day=sum(m.stale for m in measures),
        escalations=escalations,
        escalation_handling=Stats.of(handling),
        escalations_pending=escalations - len(handling),
        no_response=sum(c.no_response for c in cases),
        after_hours=sum(is_after_hours(m.arrived) for m in measures),
        after_hours_closed_day=sum(m.arrived == CLOSED_DAY for m in measures),
        after_hours_recovered=sum(is_after_hours(m.arrived) and m.case.recovered for m in measures),
    )


def _judge(first: datetime | None, deadline: datetime, now: datetime) -> tuple[int, int]:
    """(met, judged): attempted items are judged; unattempted ones once their deadline has passed."""
    if first is not None:
        return (int(first.timestamp() <= deadline.timestamp()), 1)
    return (0, 1) if now.timestamp() > deadline.timestamp() else (0, 0)


def scoped(measures: Sequence[Measure], by: str | None) -> list[tuple[str, str | None, list[Measure]]]:
    """("all", None, measures) and, with ``by``, (dimension, value, measures) for each value in order."""
    out: list[tuple[str, str | None, list[Measure]]] = [("all", None, list(measures))]
    if by is None:
        return out
    if by not in SCOPE_DIMENSIONS:
        raise ValueError(f"scope {by!r} must be one of {', '.join(SCOPE_DIMENSIONS)}")
    groups: dict[str, list[Measure]] = {}
    for m in measures:
        groups.setdefault(m.case.scope_value(by), []).append(m)
    key: Callable[[str], tuple[bool, str]] = lambda v: (v == NONE_VALUE, v.casefold())  # noqa: E731
    out.extend((by, value, groups[value]) for value in sorted(groups, key=key))
    return out


def scope_label(dimension: str, value: str | None) -> str:
    return "all" if value is None else f"{dimension}={value}"


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)
