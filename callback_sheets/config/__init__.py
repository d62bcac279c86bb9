"""The clinic's configuration: one TOML file, checked key by key.

Every mistake raises ConfigError with one line that names the key and says what to write instead. Each
section has its reader in a module of this package (``clinic``, ``choices``, ``owners``, ``escalation``,
``notify``, ``runner``, ``intake``, ``archive``, ``queue``, ``locations``); a backend's settings are read as
its entry in :mod:`callback_sheets.backends.registry` says.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from callback_sheets.config.archive import read_archive
from callback_sheets.config.choices import Reason, read_choices, read_reasons
from callback_sheets.config.clinic import check_country, date_order, read_hours
from callback_sheets.config.escalation import EscalationConfig, read_escalation
from callback_sheets.config.google import GoogleConfig
from callback_sheets.config.intake import IntakeConfig, read_intake
from callback_sheets.config.notify import NotifyConfig, read_notify
from callback_sheets.config.owners import OwnerConfig, check_references, read_owners
from callback_sheets.config.queue import QUEUE_KEYS, read_queue
from callback_sheets.config.runner import RunnerConfig, read_runner
from callback_sheets.config.types import DEFAULT_DATE_FORMAT, Config, Location
from callback_sheets.config.values import WEEKDAYS, a_date, no_unknown, opt_text, section, zone
from callback_sheets.errors import ConfigError

if TYPE_CHECKING:
    from callback_sheets.notify.settings import EmailConfig, WebhookConfig
else:

    def __getattr__(name: str) -> object:
        """``EmailConfig`` and ``WebhookConfig`` (notify.settings) are loaded on first use: config load
        without a [notify] section does not need them."""
        if name in ("EmailConfig", "WebhookConfig"):
            from callback_sheets.notify import settings

            return getattr(settings, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


CONFIG_FILENAME = "callback_sheets.toml"
CONFIG_ENV = "CALLBACK_SHEETS_CONFIG"
__all__ = [
    "CONFIG_ENV",
    "CONFIG_FILENAME",
    "DEFAULT_DATE_FORMAT",
    "WEEKDAYS",
    "Config",
    "EmailConfig",
    "EscalationConfig",
    "GoogleConfig",
    "IntakeConfig",
    "Location",
    "NotifyConfig",
    "OwnerConfig",
    "Reason",
    "RunnerConfig",
    "WebhookConfig",
    "find_config_path",
    "load_config",
    "parse_config",
]

_TOP_KEYS = {
    "clinic",
    "hours",
    "holidays",
    "queue",
    "reasons",
    "escalation",
    "owners",
    "runner",
    "choices",
    "queues",
    "intake",
    "archive",
    "notify",
}
"""The top-level tables besides backends' own (e.g. [google], the registry's)."""
_CLINIC_KEYS = {"name", "timezone", "phone_region", "callback_number", "date_format", "date_order"}


def find_config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """The config file named on the command line, by the environment, or in the current folder."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    return Path.cwd() / CONFIG_FILENAME


def load_config(path: Path) -> Config:
    """Read and check the TOML file at `path`."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no config at {path}: run `callback-sheets example-config > {CONFIG_FILENAME}` "
            f"there and edit it, or pass --config PATH (or set {CONFIG_ENV})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path} is not valid TOML: {exc}") from None
    return parse_config(raw, base=path.parent, path=path)


def parse_config(raw: Mapping[str, Any], *, base: Path, path: Path | None = None) -> Config:
    """Build a Config from parsed TOML; relative paths are taken from `base`."""
    # Imported here, not above: the backend registry (which `locations` reads) imports this package's
    # submodules (types, values, google), so the package itself must load without the registry.
    from callback_sheets.config.locations import backend_keys, read_locations, read_main

    no_unknown(raw, _TOP_KEYS | backend_keys(table=True), "")
    clinic = _read_clinic(section(raw, "clinic"))
    holidays = _read_holidays(section(raw, "holidays"))
    queue = section(raw, "queue")
    no_unknown(queue, QUEUE_KEYS | backend_keys(table=False), "queue")
    queue_fields = read_queue(queue, base)
    place = read_main(raw, queue, name=clinic["clinic_name"], base=base)
    people = _read_people(raw)
    archive = read_archive(section(raw, "archive"))
    return Config(
        path=path,
        **clinic,
        **holidays,
        **people,
        hours=read_hours(raw.get("hours")),
        backend=place.backend,
        workbook=place.workbook,
        google=place.google,
        settings=place.settings,
        **queue_fields,
        runner=read_runner(section(raw, "runner")),
        locations=read_locations(raw.get("queues", []), base),
        intake=read_intake(section(raw, "intake"), base),
        archive_after_days=archive.after_days,
        archive_spreadsheet=archive.spreadsheet,
        archive_spreadsheets=archive.spreadsheets,
        notify=read_notify(section(raw, "notify")),
    )


def _read_clinic(clinic: Mapping[str, Any]) -> dict[str, Any]:
    """[clinic]: name, zone, phone region, callback number, how dates are shown and read."""
    no_unknown(clinic, _CLINIC_KEYS, "clinic")
    date_format = clinic.get("date_format", DEFAULT_DATE_FORMAT)
    if not isinstance(date_format, str) or not date_format.strip():
        raise ConfigError(
            f'clinic.date_format: {date_format!r} is not a format such as "{DEFAULT_DATE_FORMAT}"'
        )
    tz = zone(clinic.get("timezone", "America/Chicago"), "clinic.timezone")
    region = opt_text(clinic, "phone_region", "clinic.phone_region", "US", example='"US"').upper()
    from callback_sheets.core.phones import supported_regions  # phonenumbers, without its heavy __init__

    if region not in supported_regions():
        raise ConfigError(f'clinic.phone_region: {region!r} is not a region code such as "US" or "MX"')
    return {
        "clinic_name": opt_text(clinic, "name", "clinic.name", "Our clinic", example='"Lakeside Dental"'),
        "tz": tz,
        "phone_region": region,
        "callback_number": opt_text(
            clinic, "callback_number", "clinic.callback_number", "", example='"(312) 555-0100"'
        ),
        "date_format": date_format.strip(),
        "date_order": date_order(clinic.get("date_order")),
    }


def _read_holidays(holidays: Mapping[str, Any]) -> dict[str, Any]:
    """[holidays]: the country (and subdivision) whose public holidays close the clinic, and closures."""
    no_unknown(holidays, {"country", "subdivision", "closures"}, "holidays")
    country = opt_text(holidays, "country", "holidays.country", "US", example='"US"') or None
    subdivision = opt_text(holidays, "subdivision", "holidays.subdivision", "", example='"IL"') or None
    if country is not None:
        check_country(str(country), subdivision)
    closures = holidays.get("closures", [])
    if not isinstance(closures, list):
        raise ConfigError(f"holidays.closures: must be a list of dates, e.g. [2026-12-24], not {closures!r}")
    return {
        "holiday_country": str(country) if country else None,
        "holiday_subdivision": str(subdivision) if subdivision else None,
        "closures": frozenset(a_date(d, "holidays.closures") for d in closures),
    }


def _read_people(raw: Mapping[str, Any]) -> dict[str, Any]:
    """[choices], [reasons], [escalation] and [[owners]], each name they refer to checked."""
    choices = read_choices(section(raw, "choices"))
    reasons = read_reasons(section(raw, "reasons"), urgencies=choices["urgencies"])
    escalation = read_escalation(section(raw, "escalation"))
    owners = read_owners(raw.get("owners", []))
    check_references(owners, reasons, choices["languages"], escalation.owner)
    return {
        "reasons": reasons,
        "escalation": escalation,
        "escalation_owner": escalation.owner,
        "escalation_minutes": escalation.minutes,
        "escalation_keywords": tuple(k.casefold() for k in escalation.keywords),
        "owners": owners,
        "statuses": choices["statuses"],
        "closed_statuses": frozenset(choices["closed_statuses"]),
        "outcomes": choices["outcomes"],
        "urgencies": choices["urgencies"],
        "patient_types": choices["patient_types"],
        "languages": choices["languages"],
    }
