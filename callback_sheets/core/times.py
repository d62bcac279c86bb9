"""Times in and out of cells: cells hold clinic wall-clock times; the core works with aware datetimes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DATE_ORDERS = ("MDY", "DMY", "YMD")
MONTH_FIRST_REGIONS = frozenset({"US", "CA", "PH", "PR", "GU", "AS", "VI", "MP", "FM", "MH", "PW"})
YEAR_FIRST_REGIONS = frozenset({"CN", "JP", "KR", "KP", "TW", "HU", "LT", "MN", "IR", "SE"})
_TIMES = ("%H:%M", "%I:%M %p", "%I:%M%p", "%H:%M:%S", "%I:%M:%S %p")


def _formats(order: str) -> tuple[str, ...]:
    day = {"MDY": ("%m/%d/%Y", "%m/%d/%y"), "DMY": ("%d/%m/%Y", "%d/%m/%y"), "YMD": ("%Y/%m/%d",)}[order]
    out = [f"{d} {t}" for d in day for t in _TIMES] + list(day)
    return tuple(out)


_FORMATS = {order: _formats(order) for order in DATE_ORDERS}


def region_date_order(region: str | None) -> str:
    """The way people in a country write a date with numbers only: US month first, most of the world
    day first, East Asia (and a few others) year first."""
    code = (region or "").upper()
    if code in MONTH_FIRST_REGIONS:
        return "MDY"
    if code in YEAR_FIRST_REGIONS:
        return "YMD"
    return "DMY" if code else "MDY"


def locale_date_order(locale: str | None) -> str | None:
    """A spreadsheet locale's date order ("en_GB" -> "DMY"); None when it names no country."""
    if not locale:
        return None
    parts = locale.replace("-", "_").split("_")
    if len(parts) < 2 or not parts[-1].isalpha() or len(parts[-1]) != 2:
        return None
    return region_date_order(parts[-1])


def parse_text_date(text: str, order: str = "MDY") -> datetime | None:
    """The one reader of a date (and time) typed as text, for the refresh, the reports and import-calls:
    ISO 8601 first, then numbers in the clinic's ``order`` ("MDY", "DMY" or "YMD"), with ``/``, ``-`` or
    ``.`` between them and a 24- or 12-hour time; an ambiguous ``01/12/2026`` is read in that order.
    Returns a naive datetime (or an aware one for ISO text with an offset), None when unreadable."""
    text = " ".join(text.split())
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    head, sep, rest = text.partition(" ")
    if len(head) > 4 and head[:4].isdigit() and not head[4].isdigit():
        order = "YMD"  # 2026-12-01 3:10 PM, 2026/12/01: a year first is read year first everywhere
    elif "." in head and order == "MDY":
        order = "DMY"  # 01.12.2026 is written day first, even where 01/12/2026 is not
    if "-" in head or "." in head:
        text = head.replace("-", "/").replace(".", "/") + sep + rest
    for fmt in _FORMATS.get(order, _FORMATS["MDY"]):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def localize(dt: datetime, tz: ZoneInfo) -> datetime:
    """An aware datetime in `tz`; a naive one is read as wall-clock time there."""
    if dt.tzinfo is None:
        if dt.fold:
            return dt.replace(tzinfo=tz)
        # the constructor is twice as fast as .replace(tzinfo=...): every date cell of a read comes here
        return datetime(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond, tz)
    return dt.astimezone(tz)


def parse_when(value: object, tz: ZoneInfo, *, order: str = "MDY") -> datetime | None:
    """A cell's date-time as an aware clinic time; None for an empty cell; ValueError if unreadable.
    Text is read by parse_text_date in the clinic's date ``order``."""
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
    found = parse_text_date(text, order)
    if found is None:
        raise ValueError(text)
    return localize(found, tz)


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
