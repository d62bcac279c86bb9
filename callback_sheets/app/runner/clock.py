"""When the scheduled runner's jobs are due: clinic-local times computed with zoneinfo from the calendar.

Pure: no clock, no I/O. The runner asks, at each tick, which slots are due *now*, given the slot each job
family last completed. `schedule` only drives the ticks; it never computes a clinic time, because it keeps
its own times as naive server-local wall time (and its time-zone support needs pytz), which is off around
daylight-saving changes.

The slots of one clinic date (all aware datetimes in the clinic's zone):

- ``open``: the start of the day's first business span (a refresh).
- ``refresh``: every ``interval_minutes`` real minutes inside each business span, counted from the span's
  start (08:00, 08:10, ... 11:50, then 13:00, ... 16:50); the first slot of the day is ``open`` instead.
- ``review`` and ``daily``: at ``close_of_day`` on a business date (one with spans), in that order.
- ``weekly``: at ``weekly_time`` on ``weekly_day``, whatever the calendar says (a closed Friday still
  gets its weekly report).

A slot stays due until its window ends, then it is missed (a later slot of its family covers it):

- ``open``/``refresh``: until the next slot of the family, and at most one interval after its span ends
  (so a refresh that failed at 16:50 is retried at 17:00, but not all night).
- ``review``, ``daily``, ``weekly``: until the clinic next opens (the first span of the next business
  date), at most seven days; a runner that was down at 17:15 catches up in the evening, never the next day.

Only the latest started slot of each family can be due, so a runner that was down runs each job once,
not once per missed slot. A family that never ran (no state yet) catches up nothing from an earlier date:
a runner installed on Tuesday morning does not append Monday's report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from callback_sheets.config import RunnerConfig
from callback_sheets.core.calendar import BusinessCalendar

LOOKBACK_DAYS = 7
_MAX_LATE = timedelta(days=LOOKBACK_DAYS)
_CACHE_DAYS = 64


class Job(StrEnum):
    OPEN = "open"
    REFRESH = "refresh"
    REVIEW = "review"
    DAILY = "daily"
    WEEKLY = "weekly"

    @property
    def family(self) -> str:
        """The job's family: the state file keeps the last completed slot per family."""
        return "refresh" if self is Job.OPEN else self.value


_ORDER = {job: i for i, job in enumerate(Job)}


@dataclass(frozen=True, slots=True)
class Slot:
    """One scheduled run of a job: due from ``at`` until ``until`` (exclusive), for clinic date ``on``."""

    job: Job
    at: datetime
    until: datetime
    on: date

    @property
    def family(self) -> str:
        return self.job.family


def _key(slot: Slot) -> tuple[datetime, int]:
    return slot.at.astimezone(UTC), _ORDER[slot.job]


class JobClock:
    """The runner's schedule for one calendar and runner config; slots are cached per date."""

    __slots__ = ("_days", "calendar", "runner")

    def __init__(self, *, calendar: BusinessCalendar, runner: RunnerConfig) -> None:
        self.calendar = calendar
        self.runner = runner
        self._days: dict[date, tuple[Slot, ...]] = {}

    def slots_on(self, day: date) -> tuple[Slot, ...]:
        """Every slot of clinic date ``day``, in time order (ties in job order)."""
        cached = self._days.get(day)
        if cached is None:
            if len(self._days) > _CACHE_DAYS:
                self._days.clear()
            cached = self._days[day] = self._build(day)
        return cached

    def due(self, now: datetime, *, done: Mapping[str, datetime]) -> list[Slot]:
        """The slots due at ``now``: per family, the latest slot started by ``now`` whose window is still
        open and which is later than the family's last completed slot in ``done``."""
        utc = now.astimezone(UTC)  # aware datetimes of one zone compare by wall time: compare in UTC
        today = now.astimezone(self.calendar.tz).date()
        latest: dict[str, Slot] = {}
        for offset in range(LOOKBACK_DAYS, -1, -1):
            for slot in self.slots_on(today - timedelta(days=offset)):
                if slot.at.astimezone(UTC) <= utc:
                    latest[slot.family] = slot
        out = []
        for family, slot in latest.items():
            last = done.get(family)
            # a family's first run (no state yet) catches up nothing from an earlier date
            fresh = slot.on == today if last is None else last.astimezone(UTC) < slot.at.astimezone(UTC)
            if fresh and utc < slot.until.astimezone(UTC):
                out.append(slot)
        return sorted(out, key=_key)

    def between(self, start: datetime, end: datetime) -> list[Slot]:
        """Every slot with start < at <= end, in order (for previews and tests)."""
        tz = self.calendar.tz
        day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
        low, high = start.astimezone(UTC), end.astimezone(UTC)
        out: list[Slot] = []
        while day <= last:
            out.extend(s for s in self.slots_on(day) if low < s.at.astimezone(UTC) <= high)
            day += timedelta(days=1)
        return out

    # -- building one date ------------------------------------------------------------------------

    def _build(self, day: date) -> tuple[Slot, ...]:
        slots: list[Slot] = []
        spans = self.calendar.spans_on(day)
        step = timedelta(minutes=self.runner.interval_minutes)
        tz = self.calendar.tz
        for index, span in enumerate(spans):
            start, end = span.start.astimezone(UTC), span.end.astimezone(UTC)
            until = (end + step).astimezone(tz)
            moment = start
            while moment < end:  # real elapsed minutes: a DST day keeps a 10-minute step
                job = Job.OPEN if index == 0 and moment == start else Job.REFRESH
                slots.append(Slot(job, moment.astimezone(tz), until, day))
                moment += step
        if spans:
            close = self._wall(day, self.runner.close_of_day)
            reopen = self._reopen(day, close)
            slots += [Slot(Job.REVIEW, close, reopen, day), Slot(Job.DAILY, close, reopen, day)]
        if day.weekday() == self.runner.weekly_day:
            weekly = self._wall(day, self.runner.weekly_time)
            slots.append(Slot(Job.WEEKLY, weekly, self._reopen(day, weekly), day))
        return tuple(sorted(slots, key=_key))

    def _wall(self, day: date, at: time) -> datetime:
        """Clinic wall-clock ``at`` on ``day``: in a DST gap it moves forward; in a fold, the first one."""
        return self.calendar.localize(datetime.combine(day, at))

    def _reopen(self, day: date, at: datetime) -> datetime:
        """When a close-of-day or weekly slot stops being due: the clinic's next opening (at most 7 days)."""
        try:
            opening = self.calendar.spans_on(self.calendar.next_business_date(day))[0].start
        except ValueError:  # no business hours within a year
            opening = at + _MAX_LATE
        if opening.astimezone(UTC) <= at.astimezone(UTC):
            opening = at + timedelta(minutes=self.runner.interval_minutes)
        return min(opening, at + _MAX_LATE, key=lambda moment: moment.astimezone(UTC))


# A state entry later than now by more than this is a clock problem (a test --now, a clock that was ahead).
CLOCK_SLACK = timedelta(minutes=5)


def drop_future_entries(done: dict[str, datetime], now: datetime) -> list[tuple[str, str]]:
    """Remove the families whose last run is after ``now`` (beyond CLOCK_SLACK) from ``done``: each
    family dropped, with the log line's error."""
    limit = now.astimezone(UTC) + CLOCK_SLACK
    out = []
    for family, last in sorted(done.items()):
        if last.astimezone(UTC) > limit:
            del done[family]
            out.append(
                (
                    family,
                    f"clock problem: the state file says {family} last ran for "
                    f"{last.isoformat(timespec='minutes')}, after now; that entry is ignored",
                )
            )
    return out
