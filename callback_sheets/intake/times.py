"""Turn the timestamps phone systems export into aware datetimes.

Accepted: ISO 8601 (with or without offset, `T` or space, trailing `Z`), RFC 2822 as Twilio's API
writes it ("Tue, 01 Dec 2026 15:10:00 +0000"), US dates with 12- or 24-hour times ("12/01/2026 3:10 PM",
optionally led by a weekday), European dotted dates ("01.12.2026 15:10"), and date/time cell values
from spreadsheets. A date and a time in two columns are given as two parts and joined.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

from callback_sheets.core.times import parse_text_date

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
_UTC_NAMES = frozenset({"gmt", "utc", "ut", "z"})
# Numeric dates (12/01/2026, 01.12.2026, 2026-12-01 3:10 PM) are read by times.parse_text_date, the one
# text-date reader, in the clinic's date order; these are the written-out months.
_FORMATS = (
    "%b %d, %Y %I:%M %p",
    "%b %d, %Y %I:%M:%S %p",
    "%b %d %Y %I:%M:%S %p",
)


def _rfc2822(text: str) -> datetime | None:
    """Fast path for "Tue, 01 Dec 2026 15:10:00 +0000"; falls back to the email module."""
    parts = text.split()
    if len(parts) == 6 and parts[0].endswith(","):
        parts = parts[1:]
    if len(parts) == 5:
        day, mon, year, hms, off = parts
        month = _MONTHS.get(mon[:3].lower())
        clock = hms.split(":")
        clock_ok = 2 <= len(clock) <= 3 and all(c.isdigit() for c in clock)
        if month and day.isdigit() and year.isdigit() and clock_ok:
            tz: tzinfo | None
            if off.lower() in _UTC_NAMES:
                tz = UTC
            elif len(off) == 5 and off[0] in "+-" and off[1:].isdigit():
                minutes = int(off[1:3]) * 60 + int(off[3:])
                tz = timezone(timedelta(minutes=-minutes if off[0] == "-" else minutes))
            else:
                tz = None
            if tz is not None:
                try:
                    return datetime(
                        int(year),
                        month,
                        int(day),
                        int(clock[0]),
                        int(clock[1]),
                        int(clock[2]) if len(clock) == 3 else 0,
                        tzinfo=tz,
                    )
                except ValueError:
                    return None
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _drop_weekday(text: str) -> str:
    """'Tue 12/01/2026 3:10 PM' or 'Tuesday, Dec 1, 2026' → without the weekday."""
    head, _, rest = text.partition(" ")
    word = head.rstrip(",")
    if rest and word.isalpha() and word[:3].lower() in {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}:
        return rest.strip()
    return text


def parse_text(text: str, order: str = "MDY") -> datetime | None:
    """Parse one timestamp string; None when it is not readable. The result may be naive. Numeric
    dates are read in ``order`` ("MDY", "DMY", "YMD": the clinic's ``[clinic] date_order``)."""
    text = text.strip()
    if not text:
        return None
    if text[0].isdigit():
        found = parse_text_date(text, order)
        if found is not None:
            return found
    if "," in text[:4] and text[:3].isalpha():
        found = _rfc2822(text)
        if found is not None:
            return found
    cleaned = _drop_weekday(text)
    if cleaned[:1].isdigit():
        found = parse_text_date(cleaned, order)
        if found is not None:
            return found
    for fmt in _FORMATS:
        try:
            return datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
    return _rfc2822(text) if text[:1].isalpha() else None


def parse_when(parts: Sequence[object], order: str = "MDY") -> datetime | None:
    """Parse a timestamp given as one or more cell values (e.g. a Date and a Time column).

    Returns None when nothing is there or it is not readable. The result may be naive (no offset).
    """
    if len(parts) == 1:
        value = parts[0]
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return None  # a date alone is not a call time
        return parse_text(str(value), order) if value is not None else None
    day = next((p for p in parts if isinstance(p, date)), None)
    clock = next((p for p in parts if isinstance(p, time)), None)
    if isinstance(day, datetime) and clock is None:
        return day
    if day is not None and clock is not None:
        return datetime.combine(day if not isinstance(day, datetime) else day.date(), clock)
    texts = []
    for p in parts:
        if isinstance(p, datetime):
            texts.append(p.strftime("%Y-%m-%d %H:%M:%S"))
        elif isinstance(p, date):
            texts.append(p.isoformat())
        elif isinstance(p, time):
            texts.append(p.strftime("%H:%M:%S"))
        elif p is not None and str(p).strip():
            texts.append(str(p).strip())
    return parse_text(" ".join(texts), order) if texts else None


def is_blank(parts: Sequence[object]) -> bool:
    """True when every part is empty."""
    return all(p is None or (isinstance(p, str) and not p.strip()) for p in parts)
