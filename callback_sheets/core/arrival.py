"""When a call arrived, in the clinic's terms: the `Arrived` tool column, and the earlier-call problem.

* `In hours`: on a business day, from the opening of its first block to the close of its last one (a
  call in the lunch gap is in hours: the clinic is open that day, the front desk is away);
* `After hours`: on a business day, before opening or after closing;
* `Closed day`: a weekend day, a holiday or a closure date (a day without business blocks).

Block ends are exclusive, as everywhere: a call at exactly 17:00 when the last block ends at 17:00 is
after hours. The first-attempt rule is the cadence's (the end of the first block after the call); this
module only names the arrival.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from callback_sheets.core.calendar import BusinessCalendar

IN_HOURS = "In hours"
AFTER_HOURS = "After hours"
CLOSED_DAY = "Closed day"
ARRIVALS = (IN_HOURS, AFTER_HOURS, CLOSED_DAY)

EARLIER_CALL = "Earlier call from this number at "
_EARLIER_TAIL = ": Received is later (the deadline counts from Received; change it if that call is this item)"


def arrival(cal: BusinessCalendar, received: datetime) -> str:
    """`In hours`, `After hours` or `Closed day` for a call at `received` (naive = clinic time)."""
    return Arrivals(cal)(received)


class Arrivals:
    """`arrival` for many calls: each date's opening and closing worked out once (a refresh asks for
    every row). Compared as clinic wall-clock times, which opening hours are."""

    def __init__(self, cal: BusinessCalendar) -> None:
        self.cal = cal
        self._days: dict[date, tuple[datetime, datetime] | None] = {}

    def __call__(self, received: datetime) -> str:
        tz = received.tzinfo
        if tz is None:
            local = received
        elif tz is self.cal.tz:
            local = received.replace(tzinfo=None)
        else:
            local = self.cal.localize(received).replace(tzinfo=None)
        day = local.date()
        try:
            bounds = self._days[day]
        except KeyError:
            spans = self.cal.spans_on(day)
            bounds = self._days[day] = (
                (spans[0].start.replace(tzinfo=None), spans[-1].end.replace(tzinfo=None)) if spans else None
            )
        if bounds is None:
            return CLOSED_DAY
        return IN_HOURS if bounds[0] <= local < bounds[1] else AFTER_HOURS


def is_after_hours(value: str | None) -> bool:
    return value in (AFTER_HOURS, CLOSED_DAY)


def earlier_call_note(at: datetime) -> str:
    """The Problems text for a staff-typed item that an earlier call from the same number merged into."""
    return f"{EARLIER_CALL}{at:%Y-%m-%d %H:%M}{_EARLIER_TAIL}"


def kept_earlier_note(problems: object, received: datetime | None, cal: BusinessCalendar) -> str | None:
    """The earlier-call note found in a row's Problems cell, while it still applies (Received is still
    later than that call); None otherwise. The import writes the note; each refresh keeps it."""
    if not isinstance(problems, str) or EARLIER_CALL not in problems or received is None:
        return None
    stamp = problems.split(EARLIER_CALL, 1)[1][:16]
    try:
        earlier = cal.localize(datetime.strptime(stamp, "%Y-%m-%d %H:%M"))
    except ValueError:
        return None
    if cal.localize(received).replace(second=0, microsecond=0).astimezone(UTC) <= earlier.astimezone(UTC):
        return None
    return earlier_call_note(earlier)
