"""Times in and out of cells: cells hold clinic wall-clock times; the core works with aware datetimes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_FORMATS_MONTH_FIRST = (
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M%p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%y %H:%M",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%Y",
)
_FORMATS_DAY_FIRST = tuple(f.replace("%m/%d", "%d/%m") for f in _FORMATS_MONTH_FIRST)
MONTH_FIRST_REGIONS = frozenset({"US", "CA", "PH", "PR", "GU", "AS", "VI", "MP", "FM", "MH", "PW"})


def localize(dt: datetime, tz: ZoneInfo) -> datetime:
    """An aware datetime in `tz`; a naive one is read as wall-clock time there."""
    if dt.tzinfo is None:
        if dt.fold:
            return dt.replace(tzinfo=tz)
        # the constructor is twice as fast as .replace(tzinfo=...): every date cell of a read comes here
        return datetime(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond, tz)
    return dt.astimezone(tz)


def parse_when(value: object, tz: ZoneInfo, *, month_first: bool = True) -> datetime | None:
    """A cell's date-time as an aware clinic time; None for an empty cell; ValueError if unreadable."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return localize(value, tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=tz)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # an Excel serial number whose date format was lost
            naive = datetime(1899, 12, 30) + timedelta(days=float(value))
            return localize(naive.replace(microsecond=0), tz)
        raise ValueError(value)
    text = str(value).strip()
    try:
        return localize(datetime.fromisoformat(text), tz)
    except ValueError:
        pass
    for fmt in _FORMATS_MONTH_FIRST if month_first else _FORMATS_DAY_FIRST:
        try:
            return localize(datetime.strptime(text, fmt), tz)
        except ValueError:
            continue
    raise ValueError(text)


def to_cell(dt: datetime | None, tz: ZoneInfo) -> datetime | None:
    """The value to store in a cell: naive clinic wall-clock time, to the minute."""
    if dt is None:
        return None
    local = dt if dt.tzinfo is tz else dt.astimezone(tz)
    return datetime(local.year, local.month, local.day, local.hour, local.minute)  # 4x a .replace()


def parse_now(text: str | None, tz: ZoneInfo) -> datetime:
    """`--now`: ISO 8601; without an offset it is clinic time. None means the real clock."""
    if text is None:
        return datetime.now(tz)
    try:
        return localize(datetime.fromisoformat(text), tz)
    except ValueError:
        raise ValueError(f"--now {text!r} is not ISO 8601; write it like 2026-12-01T09:30") from None


def short(dt: datetime | None) -> str:
    """'Tue 12-01 09:10' — compact, unambiguous within a working fortnight."""
    return "" if dt is None else dt.strftime("%a %m-%d %H:%M")
