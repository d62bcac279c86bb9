"""[archive]: how long closed items stay in the queue, and where the archive goes (Google: another
spreadsheet, or one a year)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from callback_sheets.config.values import no_unknown, opt_text, positive_int
from callback_sheets.errors import ConfigError


@dataclass(frozen=True, slots=True)
class ArchiveSettings:
    """The [archive] section."""

    after_days: int = 30
    spreadsheet: str | None = None
    spreadsheets: tuple[tuple[int, str], ...] = ()


def read_archive(raw: Mapping[str, Any]) -> ArchiveSettings:
    no_unknown(raw, {"after_days", "spreadsheet", "spreadsheets"}, "archive")
    return ArchiveSettings(
        after_days=positive_int(raw.get("after_days", 30), "archive.after_days"),
        spreadsheet=opt_text(raw, "spreadsheet", "archive.spreadsheet", "") or None,
        spreadsheets=read_archive_spreadsheets(raw.get("spreadsheets", {})),
    )


def read_archive_spreadsheets(raw: object) -> tuple[tuple[int, str], ...]:
    """``[archive] spreadsheets = { 2026 = "key or URL", 2027 = "..." }``: a year's archive tabs go to
    that year's spreadsheet."""
    if not isinstance(raw, Mapping):
        raise ConfigError('archive.spreadsheets: must be a table of years, e.g. { 2027 = "<key or URL>" }')
    out = []
    for year, key in raw.items():
        if not (str(year).isdigit() and len(str(year)) == 4):
            raise ConfigError(f"archive.spreadsheets: {year!r} is not a year such as 2027")
        if not isinstance(key, str) or not key.strip():
            raise ConfigError(f"archive.spreadsheets.{year}: must be a spreadsheet's URL or key")
        out.append((int(year), key.strip()))
    return tuple(sorted(out))
