"""The config file's basic values: each reader checks one value and names its key when it is wrong.

Every function raises ConfigError with one line that names the key and says what to write instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callback_sheets.errors import ConfigError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def no_unknown(table: Mapping[str, Any], known: set[str], where: str) -> None:
    for key in table:
        if key not in known:
            name = f"{where}.{key}" if where else key
            raise ConfigError(f"{name}: unknown key (known keys here: {', '.join(sorted(known))})")


def section(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key}: must be a table ([{key}])")
    return value


def zone(value: object, key: str) -> ZoneInfo:
    a_text(value, key, example='"America/Chicago"')
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f'{key}: unknown time zone {value!r}; use an IANA name such as "America/Chicago"'
        ) from None


def clock_time(value: object, key: str) -> time:
    a_text(value, key, example='"08:00"')
    try:
        hh, mm = str(value).split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise ConfigError(f'{key}: {value!r} is not a time; write it as "HH:MM", e.g. "08:00"') from None


def a_date(value: object, key: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{key}: {value!r} is not a date; write it as YYYY-MM-DD") from None


def a_text(value: object, key: str, *, example: str = "") -> str:
    """A string value (TOML quoted text); anything else is named with its type."""
    if not isinstance(value, str):
        hint = f", e.g. {key.rsplit('.', 1)[-1]} = {example}" if example else ""
        raise ConfigError(f"{key}: must be text in quotes, not {_kind(value)} {value!r}{hint}")
    return value


def opt_text(table: Mapping[str, Any], name: str, key: str, default: str, *, example: str = "") -> str:
    return a_text(table[name], key, example=example) if name in table else default


def names(value: object, key: str, *, example: str = '["English", "Spanish"]') -> tuple[str, ...]:
    """A list of non-empty names. A single string is refused (it would be read letter by letter)."""
    if isinstance(value, str):
        raise ConfigError(
            f"{key}: must be a list of names in brackets, e.g. {example}, not the text {value!r}"
        )
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{key}: must be a list of names, e.g. {example}, not {_kind(value)} {value!r}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{key}: {item!r} is not a name; write the list as {example}")
    return tuple(v.strip() for v in value)


def boolean(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: must be true or false, not {_kind(value)} {value!r}")
    return value


def _kind(value: object) -> str:
    return {
        bool: "true/false",
        int: "the number",
        float: "the number",
        str: "the text",
        list: "the list",
        dict: "the table",
    }.get(type(value), type(value).__name__)


def string_list(value: object, key: str, example: str) -> tuple[str, ...]:
    """A list of non-empty strings, or ConfigError naming ``key`` (a bare string is refused: it would
    otherwise be read letter by letter)."""
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key}: must be a list of strings, e.g. {example}")
    return tuple(v.strip() for v in value if v.strip())


def a_bool(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: {value!r} must be true or false")
    return value


def a_string(value: object, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key}: must be a non-empty string in quotes")
    return value.strip()


def an_address(value: object, key: str) -> str:
    """An e-mail address: one '@' with something on each side, no spaces."""
    text = a_string(value, key)
    local, at, domain = text.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in text):
        raise ConfigError(f'{key}: {text!r} is not an e-mail address such as "lead@clinic.example"')
    return text


def positive_int(value: object, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{key}: {value!r} must be a whole number of at least 1")
    return value


def named_tables(
    raw: object, *, key: str, known: set[str], needs_name: str
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The [[key]] tables, each checked for a name and unknown keys, with where it is ("owners[2]")."""
    if not isinstance(raw, list):
        raise ConfigError(f"{key}: must be a list of [[{key}]] tables")
    for i, table in enumerate(raw):
        where = f"{key}[{i}]"
        if not isinstance(table, Mapping) or not str(table.get("name", "")).strip():
            raise ConfigError(f"{where}: {needs_name}")
        a_text(table["name"], f"{where}.name", example='"Maria"')
        no_unknown(table, known, where)
        yield where, table


def flag(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: must be true or false, not {value!r}")
    return value


def non_negative(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{key}: must be a number of seconds, 0 or more, not {value!r}")
    return float(value)
