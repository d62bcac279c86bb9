"""Cell values: how ``USER_ENTERED`` and ``RAW`` input is stored, and how each render option reads it.

A stored value is an API ``ExtendedValue`` dict (``numberValue``, ``stringValue``, ``boolValue`` or
``formulaValue``) plus, for parsed dates, percentages and grouped numbers, the ``numberFormat`` Google
attaches to the cell. Dates are serial numbers counted from 1899-12-30, as in Sheets.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from tests.sheets_emulator.formula import ERROR_TEXT, FormulaError, evaluate

EPOCH = dt.datetime(1899, 12, 30)
JsonValue = Any

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_PERCENT = re.compile(r"^([+-]?(\d+(\.\d*)?|\.\d+))\s*%$")
_CURRENCY = re.compile(r"^([+-]?)\$\s*(\d{1,3}(,\d{3})*|\d+)(\.\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


@dataclass(frozen=True)
class Parsed:
    """The result of parsing one input value: what is stored and the number format it implies."""

    value: dict[str, Any] | None
    number_format: dict[str, str] | None = None


def to_serial(moment: dt.datetime) -> float:
    """Serial number of a date-time (days since 1899-12-30, fraction = time of day)."""
    delta = moment - EPOCH
    return delta.days + delta.seconds / 86400


def from_serial(serial: float) -> dt.datetime:
    """The date-time of a serial number, to the second."""
    return EPOCH + dt.timedelta(seconds=round(serial * 86400))


def _number(value: float) -> dict[str, Any]:
    return {"numberValue": value}


def _date_time(groups: tuple[str | None, ...], y: int, m: int, d: int, date_pattern: str) -> Parsed | None:
    try:
        moment = dt.datetime(y, m, d)
    except ValueError:
        return None
    hh, mm, ss = groups
    if hh is None:
        return Parsed(_number(to_serial(moment)), {"type": "DATE", "pattern": date_pattern})
    moment += dt.timedelta(hours=int(hh), minutes=int(mm or 0), seconds=int(ss or 0))
    pattern = f"{date_pattern} H:mm:ss"
    return Parsed(_number(to_serial(moment)), {"type": "DATE_TIME", "pattern": pattern})


def parse_user_entered(raw: JsonValue) -> Parsed:
    """Parse one value as if typed into the Sheets UI (``valueInputOption=USER_ENTERED``)."""
    if raw is None or raw == "":
        return Parsed(None)
    if isinstance(raw, bool):
        return Parsed({"boolValue": raw})
    if isinstance(raw, int | float):
        return Parsed(_number(raw))
    text = str(raw)
    if text.startswith("'"):
        return Parsed({"stringValue": text[1:]})
    if text.startswith("="):
        return Parsed({"formulaValue": text})
    if text.startswith("+") and len(text) > 1 and re.fullmatch(r"[0-9+\-*/(). ]+", text[1:]):
        return Parsed({"formulaValue": "=" + text})
    stripped = text.strip()
    if stripped.upper() in ("TRUE", "FALSE"):
        return Parsed({"boolValue": stripped.upper() == "TRUE"})
    if _NUMBER.match(stripped):
        return Parsed(_number(_num(stripped)))
    if _GROUPED.match(stripped):
        fmt = "#,##0.00" if "." in stripped else "#,##0"
        return Parsed(_number(_num(stripped.replace(",", ""))), {"type": "NUMBER", "pattern": fmt})
    m = _PERCENT.match(stripped)
    if m:
        fmt = "0.00%" if "." in m.group(1) else "0%"
        return Parsed(_number(_num(m.group(1)) / 100), {"type": "PERCENT", "pattern": fmt})
    m = _CURRENCY.match(stripped)
    if m:
        amount = _num(m.group(2).replace(",", "") + (m.group(4) or ""))
        amount = -amount if m.group(1) == "-" else amount
        return Parsed(_number(amount), {"type": "CURRENCY", "pattern": '"$"#,##0.00'})
    m = _ISO_DATE.match(stripped)
    if m:
        parsed = _date_time(m.groups()[3:], int(m[1]), int(m[2]), int(m[3]), "yyyy-mm-dd")
        if parsed:
            return parsed
    m = _US_DATE.match(stripped)
    if m:
        parsed = _date_time(m.groups()[3:], int(m[3]), int(m[1]), int(m[2]), "M/d/yyyy")
        if parsed:
            return parsed
    m = _TIME.match(stripped)
    if m and int(m[1]) < 24:
        seconds = int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3] or 0)
        return Parsed(_number(seconds / 86400), {"type": "TIME", "pattern": "h:mm:ss am/pm"})
    return Parsed({"stringValue": text})


def parse_raw(raw: JsonValue) -> Parsed:
    """Store a value as given (``valueInputOption=RAW``): strings stay strings, even ``=1+1``."""
    if raw is None or raw == "":
        return Parsed(None)
    if isinstance(raw, bool):
        return Parsed({"boolValue": raw})
    if isinstance(raw, int | float):
        return Parsed(_number(raw))
    return Parsed({"stringValue": str(raw)})


def _num(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() and abs(value) < 1e15 and "e" not in text.lower() else value


def effective(value: dict[str, Any] | None, lookup: Any = None) -> dict[str, Any] | None:
    """The computed value of a stored one: formulas are evaluated, the rest is itself."""
    if value is None or "formulaValue" not in value:
        return value
    try:
        result = evaluate(value["formulaValue"][1:], lookup)
    except FormulaError as exc:
        return {"errorValue": {"type": exc.kind, "message": str(exc)}}
    if isinstance(result, bool):
        return {"boolValue": result}
    if isinstance(result, str):
        return {"stringValue": result}
    return {"numberValue": result}


def plain_number(value: float) -> int | float:
    """Integral floats as ints, so JSON shows ``2`` rather than ``2.0`` (as Google does)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def general_format(value: float) -> str:
    """Google's automatic number format: up to 10 decimals, scientific for huge or tiny numbers."""
    if value == 0:
        return "0"
    if abs(value) >= 1e15 or abs(value) < 1e-10:
        mantissa, _, exponent = f"{value:.5E}".partition("E")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}E{'+' if int(exponent) >= 0 else '-'}{abs(int(exponent)):02d}"
    if float(value).is_integer():
        return f"{value:.0f}"
    digits = max(0, 10 - max(0, math.floor(math.log10(abs(value))) + 1))
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text


def pattern_number(value: float, pattern: str) -> str:
    """Format with a simple numeric pattern: ``0``, ``0.00``, ``#,##0.00``, ``0%``, ``"$"#,##0.00``."""
    prefix = "".join(re.findall(r'^"([^"]*)"', pattern)) or ("$" if pattern.startswith("$") else "")
    body = re.sub(r'"[^"]*"', "", pattern).lstrip("$")
    percent = body.endswith("%")
    body = body.rstrip("%")
    decimals = len(body.partition(".")[2]) if "." in body else 0
    grouped = "," in body
    shown = value * 100 if percent else value
    text = f"{abs(shown):{',' if grouped else ''}.{decimals}f}"
    sign = "-" if shown < 0 and float(text.replace(",", "")) != 0 else ""
    return f"{sign}{prefix}{text}{'%' if percent else ''}"


_DATE_TOKENS = re.compile(r"yyyy|yy|mmmm|mmm|mm|m|MM|M|dddd|ddd|dd|d|HH|H|hh|h|ss|s|am/pm|AM/PM|.", re.S)


def date_pattern(serial: float, pattern: str) -> str:
    """Format a serial number with a date/time pattern (the common tokens of Sheets' date formats)."""
    moment = from_serial(serial)
    tokens = _DATE_TOKENS.findall(pattern)
    twelve = any(t.lower() == "am/pm" for t in tokens)
    out: list[str] = []
    for i, tok in enumerate(tokens):
        prev = next((t for t in reversed(tokens[:i]) if t.isalpha()), "")
        minute = tok in ("mm", "m") and (prev.lower().startswith("h") or _next_is_seconds(tokens, i))
        hour = moment.hour % 12 or 12 if twelve else moment.hour
        out.append(
            {
                "yyyy": f"{moment.year:04d}",
                "yy": f"{moment.year % 100:02d}",
                "mmmm": moment.strftime("%B"),
                "mmm": moment.strftime("%b"),
                "mm": f"{moment.minute:02d}" if minute else f"{moment.month:02d}",
                "m": f"{moment.minute}" if minute else f"{moment.month}",
                "MM": f"{moment.month:02d}",
                "M": f"{moment.month}",
                "dddd": moment.strftime("%A"),
                "ddd": moment.strftime("%a"),
                "dd": f"{moment.day:02d}",
                "d": f"{moment.day}",
                "HH": f"{moment.hour:02d}",
                "H": f"{moment.hour}",
                "hh": f"{hour:02d}",
                "h": f"{hour}",
                "ss": f"{moment.second:02d}",
                "s": f"{moment.second}",
                "am/pm": "AM" if moment.hour < 12 else "PM",
                "AM/PM": "AM" if moment.hour < 12 else "PM",
            }.get(tok, tok)
        )
    return "".join(out)


def _next_is_seconds(tokens: list[str], i: int) -> bool:
    following = [t for t in tokens[i + 1 :] if t.isalpha()]
    return bool(following) and following[0] in ("ss", "s")


def format_value(value: dict[str, Any], number_format: dict[str, Any] | None) -> str:
    """The ``FORMATTED_VALUE`` of a computed value."""
    if "stringValue" in value:
        return str(value["stringValue"])
    if "boolValue" in value:
        return "TRUE" if value["boolValue"] else "FALSE"
    if "errorValue" in value:
        return ERROR_TEXT.get(str(value["errorValue"]["type"]), "#ERROR!")
    number = float(value["numberValue"])
    if number_format and number_format.get("pattern"):
        kind = number_format.get("type", "NUMBER")
        if kind in ("DATE", "TIME", "DATE_TIME"):
            return date_pattern(number, number_format["pattern"])
        return pattern_number(number, number_format["pattern"])
    if number_format and number_format.get("type") == "DATE":
        return date_pattern(number, "M/d/yyyy")
    return general_format(number)


def render(
    value: dict[str, Any] | None,
    computed: dict[str, Any] | None,
    number_format: dict[str, Any] | None,
    value_render: str = "FORMATTED_VALUE",
    date_render: str = "SERIAL_NUMBER",
) -> JsonValue:
    """What ``values.get`` returns for one cell (``None``: empty)."""
    if value is None or computed is None:
        return None
    if value_render == "FORMULA" and "formulaValue" in value:
        return value["formulaValue"]
    if value_render == "FORMATTED_VALUE":
        return format_value(computed, number_format)
    if "numberValue" in computed:
        is_date = number_format is not None and number_format.get("type") in ("DATE", "TIME", "DATE_TIME")
        if is_date and date_render == "FORMATTED_STRING":
            return format_value(computed, number_format)
        return plain_number(computed["numberValue"])
    if "boolValue" in computed:
        return computed["boolValue"]
    if "errorValue" in computed:
        return format_value(computed, None)
    return computed.get("stringValue")
