"""The clinic's own sections: [hours] (the business hours of each weekday), [holidays] country and
subdivision, and [clinic] date_order."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import time
from typing import Any

from callback_sheets.config.values import WEEKDAYS, clock_time, no_unknown, opt_text
from callback_sheets.core.calendar import MIDNIGHT_END, Block
from callback_sheets.errors import ConfigError

_DEFAULT_HOURS = tuple(
    Block(name, start, end)
    for name, start, end in (("morning", time(8), time(12)), ("afternoon", time(13), time(17)))
)


def check_country(country: str, subdivision: object) -> None:
    """Check the holiday codes (without building a year of holidays; codes the package accepted on an
    earlier run are known from the holiday cache without loading it)."""
    from callback_sheets.core.closed_days import country_holidays  # the configured country's module only
    from callback_sheets.core.holiday_cache import shared

    cache = shared()
    if cache.known(country, str(subdivision) if subdivision else None):
        return
    try:
        country_holidays(country, years=())
    except NotImplementedError:
        raise ConfigError(
            f"holidays.country: {country!r} is not a country code the holidays package knows"
        ) from None
    if subdivision:
        try:
            country_holidays(country, subdiv=str(subdivision), years=())
        except (NotImplementedError, ValueError):
            raise ConfigError(
                f"holidays.subdivision: {subdivision!r} is not a subdivision of {country} "
                '(e.g. "IL" or "TX" for the US)'
            ) from None
    cache.keep(country, str(subdivision) if subdivision else None, None, ())


def read_hours(raw: object) -> dict[int, tuple[Block, ...]]:
    if raw is None:
        return {day: _DEFAULT_HOURS for day in range(5)}
    if not isinstance(raw, Mapping):
        raise ConfigError('hours: must be a table of weekdays, e.g. monday = [{ name = "morning", ... }]')
    no_unknown(raw, set(WEEKDAYS), "hours")
    hours: dict[int, tuple[Block, ...]] = {}
    for day, blocks in raw.items():
        key = f"hours.{day}"
        if not isinstance(blocks, list):
            raise ConfigError(
                f'{key}: must be a list of blocks like {{ name = "morning", start = "08:00", end = "12:00" }}'
            )
        parsed = []
        for i, block in enumerate(blocks):
            where = f"{key}[{i}]"
            if not isinstance(block, Mapping):
                raise ConfigError(f"{where}: must be a table with name, start and end")
            no_unknown(block, {"name", "start", "end"}, where)
            start, end = (
                clock_time(block.get("start"), f"{where}.start"),
                MIDNIGHT_END
                if str(block.get("end")).strip() == "24:00"  # open until midnight
                else clock_time(block.get("end"), f"{where}.end"),
            )
            if end <= start:
                raise ConfigError(f"{where}: end {end:%H:%M} must be after start {start:%H:%M}")
            parsed.append(Block(opt_text(block, "name", f"{where}.name", f"block {i + 1}"), start, end))
        parsed.sort(key=lambda b: b.start)
        for a, b in itertools.pairwise(parsed):
            if b.start < a.end:
                raise ConfigError(f"{key}: blocks {a.name!r} and {b.name!r} overlap")
        hours[WEEKDAYS.index(day)] = tuple(parsed)
    if not any(hours.values()):
        raise ConfigError("hours: the clinic has no business hours at all; add at least one block")
    return hours


def date_order(value: Any) -> str | None:
    """``[clinic] date_order``: "MDY", "DMY" or "YMD" (None when not set)."""
    if value is None:
        return None
    order = str(value).strip().upper() if isinstance(value, str) else ""
    if order not in ("MDY", "DMY", "YMD"):
        raise ConfigError(
            f'clinic.date_order: {value!r} is not one of "MDY" (12/01/2026 is December 1), '
            '"DMY" (1 December) or "YMD" (2026/12/01)'
        )
    return order
