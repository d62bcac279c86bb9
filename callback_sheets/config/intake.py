"""[intake]: how phone-system exports are read by `import-calls` (format, zone, mapping, watch folder,
Asterisk's CDR columns)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from callback_sheets.config.values import a_text, flag, names, no_unknown, non_negative, zone
from callback_sheets.errors import ConfigError


@dataclass(frozen=True, slots=True)
class IntakeConfig:
    """How phone-system exports are read by `import-calls`."""

    format: str | None = None  # None: detect from the header
    export_tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    mapping: Mapping[str, str] | None = None  # for format "generic"
    timezone_set: bool = False  # [intake] timezone given (Asterisk otherwise reads the clinic's zone)
    ignore_shorter_than_seconds: float = 0.0
    watch: Path | None = None  # the folder exports arrive in (absolute)
    keep_files: bool = False
    asterisk_columns: tuple[str, ...] | None = None
    asterisk_usegmtime: bool = False
    asterisk_announcement_only: str = "missed"
    asterisk_extension_max_digits: int = 5


def _read_asterisk(raw: Mapping[str, Any]) -> dict[str, Any]:
    from callback_sheets.config.intake_names import ANNOUNCEMENT_CHOICES
    from callback_sheets.config.intake_names import ASTERISK_FIELDS as FIELDS

    no_unknown(raw, {"columns", "usegmtime", "announcement_only", "extension_max_digits"}, "intake.asterisk")
    out: dict[str, Any] = {}
    columns = raw.get("columns")
    if columns is not None:
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns) or not columns:
            raise ConfigError(
                'intake.asterisk.columns: must be a list of CDR field names, e.g. ["clid", "src", ...]'
            )
        names = tuple(c.strip().lower() for c in columns)
        unknown = [c for c in names if c not in FIELDS and c]
        if unknown:
            raise ConfigError(
                f"intake.asterisk.columns: unknown CDR field {unknown[0]!r}; "
                f"known: {', '.join(sorted(FIELDS))} "
                '(use "" for a column to skip)'
            )
        missing = (
            [c for c in ("src", "start", "disposition") if c not in names] if "calldate" not in names else []
        )
        if missing:
            raise ConfigError(f"intake.asterisk.columns: must name {', '.join(missing)}")
        out["asterisk_columns"] = names
    if "usegmtime" in raw:
        out["asterisk_usegmtime"] = flag(raw["usegmtime"], "intake.asterisk.usegmtime")
    if "announcement_only" in raw:
        choice = raw["announcement_only"]
        if choice not in ANNOUNCEMENT_CHOICES:
            raise ConfigError(
                f"intake.asterisk.announcement_only: must be {' or '.join(map(repr, ANNOUNCEMENT_CHOICES))}, "
                f"not {choice!r}"
            )
        out["asterisk_announcement_only"] = choice
    if "extension_max_digits" in raw:
        value = raw["extension_max_digits"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 9:
            raise ConfigError("intake.asterisk.extension_max_digits: must be a whole number from 0 to 9")
        out["asterisk_extension_max_digits"] = value
    return out


def read_intake(raw: Mapping[str, Any], base: Path | None = None) -> IntakeConfig:
    no_unknown(
        raw,
        {"format", "timezone", "mapping", "ignore_shorter_than_seconds", "watch", "keep_files", "asterisk"},
        "intake",
    )
    mapping = raw.get("mapping")
    if mapping is not None:
        from callback_sheets.config.intake_names import GENERIC_MAPPING_KEYS

        if not isinstance(mapping, Mapping):
            raise ConfigError(
                'intake.mapping: must be a table of export column names, e.g. phone = "Caller Number"'
            )
        no_unknown(mapping, set(GENERIC_MAPPING_KEYS), "intake.mapping")
        for k, v in mapping.items():
            if isinstance(v, list):
                names(v, f"intake.mapping.{k}", example='["missed", "no answer"]')
            else:
                a_text(v, f"intake.mapping.{k}", example='"Caller Number"')
        mapping = {
            str(k): str(v) if not isinstance(v, list) else ", ".join(map(str, v)) for k, v in mapping.items()
        }
    fmt = raw.get("format")
    if fmt is not None:
        a_text(fmt, "intake.format", example='"twilio"')
    if fmt:
        from callback_sheets.intake.registry import formats  # the presets' one list (a light module)

        if fmt not in formats():
            raise ConfigError(f"intake.format: unknown format {fmt!r}; known: {', '.join(formats())}")
    watch = raw.get("watch")
    if watch is not None and (not isinstance(watch, str) or not watch.strip()):
        raise ConfigError('intake.watch: must be a folder path, e.g. watch = "exports/"')
    watch_path = None
    if watch:
        watch_path = Path(watch).expanduser()
        if not watch_path.is_absolute() and base is not None:
            watch_path = base / watch_path
    asterisk = raw.get("asterisk", {})
    if not isinstance(asterisk, Mapping):
        raise ConfigError("intake.asterisk: must be a table")
    return IntakeConfig(
        format=str(fmt) if fmt else None,
        export_tz=zone(raw.get("timezone", "UTC"), "intake.timezone"),
        mapping=mapping,
        timezone_set="timezone" in raw,
        ignore_shorter_than_seconds=non_negative(
            raw.get("ignore_shorter_than_seconds", 0), "intake.ignore_shorter_than_seconds"
        ),
        watch=watch_path,
        keep_files=flag(raw.get("keep_files", False), "intake.keep_files"),
        **_read_asterisk(asterisk),
    )
