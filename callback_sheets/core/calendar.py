"""Business time for one clinic: named blocks per weekday, holidays and closures, in the clinic's time zone.

Everything here is pure: no clock, no I/O. Wall-clock times (block starts and ends) are built with
``datetime.combine(day, t, tzinfo=tz)``, so a block keeps its wall-clock times across a DST change;
minute arithmetic is done in real elapsed time on UTC datetimes, so a business hour is always 60 real
minutes. Every datetime returned is aware and in the clinic's time zone.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

# A calendar with no business hours for this many consecutive days is treated as having none at all.
SEARCH_DAYS = 366
_ONE_DAY = timedelta(days=1)
_MINUTE = timedelta(minutes=1)
# A block's end at midnight, written "24:00" in the config: the block runs to the start of the next date.
MIDNIGHT_END = time.max


@dataclass(frozen=True, slots=True)
class Block:
    """A named business block on a weekday, in clinic wall-clock times (start inclusive, end exclusive)."""

    name: str
    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError(f"block {self.name!r}: times are clinic wall-clock times, without a time zone")
        if not self.start < self.end:
            raise ValueError(
                f"block {self.name!r}: start {self.start:%H:%M} must be before end {self.end:%H:%M}"
            )


@dataclass(frozen=True, slots=True)
class Span:
    """One concrete block on one date; aware datetimes in the clinic's time zone."""

    name: str
    start: datetime
    end: datetime

    @property
    def minutes(self) -> float:
        """Real elapsed minutes from start to end (60 per hour, even on a DST day)."""
        return (self.end.astimezone(UTC) - self.start.astimezone(UTC)) / _MINUTE


class _Bound(NamedTuple):
    """A span with its bounds in UTC, so comparisons and differences are real elapsed time."""

    start: datetime  # UTC
    end: datetime  # UTC
    span: Span


class _Day(NamedTuple):
    spans: tuple[Span, ...]
    bounds: tuple[_Bound, ...]


_NO_DAY = _Day((), ())


class BusinessCalendar:
    """A clinic's opening hours (named blocks per weekday) minus the days it is closed.

    Spans are built once per date and cached, so looking up thousands of rows stays cheap.
    """

    __slots__ = ("_closed_on", "_days", "_hours", "tz")

    def __init__(
        self,
        *,
        tz: ZoneInfo,
        hours: Mapping[int, Sequence[Block]],
        closed_on: Callable[[date], bool],
    ) -> None:
        """``hours`` maps a weekday (0 = Monday .. 6 = Sunday) to its blocks; ``closed_on`` says whether
        a date is a holiday or clinic closure. Blocks of one weekday must not overlap."""
        self.tz = tz
        normalised: dict[int, tuple[Block, ...]] = {}
        for weekday, blocks in hours.items():
            if weekday not in range(7):
                raise ValueError(f"weekday {weekday!r} must be 0 (Monday) to 6 (Sunday)")
            ordered = tuple(sorted(blocks, key=lambda block: block.start))
            for before, after in itertools.pairwise(ordered):
                if after.start < before.end:
                    raise ValueError(
                        f"blocks {before.name!r} and {after.name!r} overlap on weekday {weekday}"
                    )
            if ordered:
                normalised[weekday] = ordered
        self._hours = normalised
        self._closed_on = closed_on
        self._days: dict[date, _Day] = {}

    # -- conversions and per-date spans -------------------------------------------------------------

    def localize(self, dt: datetime) -> datetime:
        """An aware datetime in the clinic's time zone.

        A naive datetime is clinic wall-clock time: an ambiguous time (DST fold) is its first occurrence
        unless ``fold=1``; a time that does not exist (DST gap) moves forward by the gap (02:30 -> 03:30).
        An aware datetime is converted.
        """
        if dt.tzinfo is None:
            return dt.replace(tzinfo=self.tz).astimezone(UTC).astimezone(self.tz)
        return dt.astimezone(self.tz)

    def _day(self, day: date) -> _Day:
        cached = self._days.get(day)
        if cached is None:
            cached = self._days[day] = self._build_day(day)
        return cached

    def _build_day(self, day: date) -> _Day:
        blocks = self._hours.get(day.weekday())
        if not blocks or self._closed_on(day):
            return _NO_DAY
        bounds: list[_Bound] = []
        for block in blocks:
            start = datetime.combine(day, block.start, tzinfo=self.tz).astimezone(UTC)
            if block.end == MIDNIGHT_END:  # "24:00": the next date's first moment
                end = datetime.combine(day + _ONE_DAY, time(), tzinfo=self.tz).astimezone(UTC)
            else:
                end = datetime.combine(day, block.end, tzinfo=self.tz).astimezone(UTC)
            if bounds:  # a block inside a DST gap can be pushed into the next one
                start = max(start, bounds[-1].end)
            if end <= start:  # swallowed by a DST gap
                continue
            span = Span(block.name, start.astimezone(self.tz), end.astimezone(self.tz))
            bounds.append(_Bound(start, end, span))
        return _Day(tuple(b.span for b in bounds), tuple(bounds))

    def spans_on(self, day: date) -> tuple[Span, ...]:
        """The business spans of a date, in order; empty on a closed day."""
        return self._day(day).spans

    def _locate(self, at: datetime) -> tuple[datetime, date]:
        """``at`` in UTC and its clinic date (the same rules as localize, with fewer conversions)."""
        if at.tzinfo is None:
            utc = at.replace(tzinfo=self.tz).astimezone(UTC)
            return utc, utc.astimezone(self.tz).date()
        if at.tzinfo is UTC:
            return at, at.astimezone(self.tz).date()
        if at.tzinfo is self.tz:
            return at.astimezone(UTC), at.date()
        return at.astimezone(UTC), at.astimezone(self.tz).date()

    def _bound_at(self, utc: datetime, day: date) -> _Bound | None:
        for bound in self._day(day).bounds:
            if utc < bound.start:
                return None
            if utc < bound.end:
                return bound
        return None

    def _bounds_from(self, utc: datetime, day: date) -> Iterator[_Bound]:
        empty = 0
        while True:
            bounds = self._day(day).bounds
            if bounds:
                empty = 0
                for bound in bounds:
                    if bound.end > utc:
                        yield bound
            else:
                empty += 1
                if empty > SEARCH_DAYS:
                    raise ValueError(
                        f"the calendar has no business hours in the {SEARCH_DAYS} days before "
                        f"{day.isoformat()}: check the opening hours, holidays and closures"
                    )
            day += _ONE_DAY

    # -- queries ------------------------------------------------------------------------------------

    def span_at(self, at: datetime) -> Span | None:
        """The span containing ``at`` (start <= at < end), or None outside business hours."""
        bound = self._bound_at(*self._locate(at))
        return None if bound is None else bound.span

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` is inside business hours (a span's end is already closed)."""
        return self._bound_at(*self._locate(at)) is not None

    def spans_from(self, at: datetime) -> Iterator[Span]:
        """Spans with end > ``at``, in order, without end (the first may contain ``at``).

        Raises ValueError, when iterated, if a whole year passes without business hours.
        """
        return (bound.span for bound in self._bounds_from(*self._locate(at)))

    def next_span(self, at: datetime) -> Span:
        """The first span that ends after ``at`` (the one containing it, or the next one)."""
        return next(self._bounds_from(*self._locate(at))).span

    def business_day_end(self, day: date) -> datetime | None:
        """The end of the last span of ``day``; None on a closed day."""
        spans = self._day(day).spans
        return spans[-1].end if spans else None

    def next_business_date(self, day: date) -> date:
        """The first date after ``day`` with business hours."""
        for _ in range(SEARCH_DAYS):
            day += _ONE_DAY
            if self._day(day).bounds:
                return day
        raise ValueError(
            f"the calendar has no business hours in the {SEARCH_DAYS} days after {day.isoformat()}: "
            "check the opening hours, holidays and closures"
        )

    # -- arithmetic ---------------------------------------------------------------------------------

    def add_business_minutes(self, at: datetime, minutes: float) -> datetime:
        """The moment ``minutes`` business minutes after ``at``.

        Outside business hours counting starts at the next span. Landing exactly on a span's end
        returns that end (not the next span's start). Adding 0 returns ``at`` unchanged (localized).
        """
        if not math.isfinite(minutes) or minutes < 0:
            raise ValueError(f"business minutes must be a finite number >= 0, not {minutes!r}")
        local = self.localize(at)
        if minutes == 0:
            return local
        utc = local.astimezone(UTC)
        remaining = timedelta(minutes=minutes)
        for bound in self._bounds_from(utc, local.date()):
            begin = max(bound.start, utc)
            available = bound.end - begin
            if remaining <= available:
                return (begin + remaining).astimezone(self.tz)
            remaining -= available
        raise AssertionError("unreachable: _bounds_from never ends")  # pragma: no cover

    def business_minutes_between(self, start: datetime, end: datetime) -> float:
        """Real elapsed minutes between ``start`` and ``end`` that fall inside spans; 0 if end <= start."""
        start_utc, day = self._locate(start)
        end_utc, last = self._locate(end)
        if end_utc <= start_utc:
            return 0.0
        total = timedelta(0)
        while day <= last:
            for bound in self._day(day).bounds:
                low = max(bound.start, start_utc)
                high = min(bound.end, end_utc)
                if high > low:
                    total += high - low
            day += _ONE_DAY
        return total / _MINUTE

    def add_business_days(self, at: datetime, days: int) -> datetime:
        """The same wall-clock time on the ``days``-th following business date, clamped into its hours.

        Clamping: before the first span -> its start; in a gap -> the next span's start; after the last
        span -> its end. If ``at`` is outside business hours, counting starts from the next business
        moment (the next span's start); ``days == 0`` returns that moment.
        """
        if days < 0:
            raise ValueError(f"business days must be >= 0, not {days!r}")
        utc, day = self._locate(at)
        bound = self._bound_at(utc, day)
        if bound is None:
            bound = next(self._bounds_from(utc, day))
            utc = bound.start
        local = utc.astimezone(self.tz)
        if days == 0:
            return local
        day = local.date()
        for _ in range(days):
            day = self.next_business_date(day)
        target = self.localize(datetime.combine(day, local.time().replace(fold=0))).astimezone(UTC)
        bounds = self._day(day).bounds
        for candidate in bounds:
            if target < candidate.start:
                return candidate.span.start
            if target < candidate.end:
                return target.astimezone(self.tz)
        return bounds[-1].span.end


class BusinessDaysPassed:
    """Answers ``now > calendar.add_business_days(at, days)`` for many ``at`` (is an item received at
    ``at`` open more than ``days`` business days?).

    The answer is the same for every time of most dates (all long past, or all still within the
    window), so it is decided per date from the date's first and last moment, and worked out for the
    time itself only on the date or two where ``now`` falls in between. The margin absorbs the hour a
    daylight-saving change can move a wall-clock time.
    """

    _MARGIN = timedelta(hours=2)

    def __init__(self, calendar: BusinessCalendar, now: datetime, days: int = 1) -> None:
        self.calendar = calendar
        self.now = now
        self.days = days
        self._dates: dict[date, tuple[datetime, datetime]] = {}

    def __call__(self, at: datetime) -> bool:
        cal = self.calendar
        day = at.astimezone(cal.tz).date()
        bounds = self._dates.get(day)
        if bounds is None:
            first = datetime.combine(day, time.min, tzinfo=cal.tz)
            last = datetime.combine(day, time.max, tzinfo=cal.tz)
            bounds = self._dates[day] = (
                cal.add_business_days(first, self.days) - self._MARGIN,
                cal.add_business_days(last, self.days) + self._MARGIN,
            )
        now = self.now.timestamp()  # instants: aware times of one zone compare by wall time
        if now > bounds[1].timestamp():
            return True
        if now <= bounds[0].timestamp():
            return False
        return now > cal.add_business_days(at, self.days).timestamp()
