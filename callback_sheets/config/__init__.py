"""The clinic's configuration: one TOML file, checked key by key.

Every mistake raises ConfigError with one line that names the key and says what to write instead.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers

from callback_sheets import model
from callback_sheets.config import fields as F
from callback_sheets.config.fields import (
    WEEKDAYS,
    EmailConfig,
    EscalationConfig,
    GoogleConfig,
    IntakeConfig,
    Location,
    NotifyConfig,
    OwnerConfig,
    Reason,
    RunnerConfig,
    WebhookConfig,
)
from callback_sheets.core.calendar import Block, BusinessCalendar, build_closed_on
from callback_sheets.errors import ConfigError

CONFIG_FILENAME = "callback_sheets.toml"
DEFAULT_DATE_FORMAT = "ddd mm/dd hh:mm"
CONFIG_ENV = "CALLBACK_SHEETS_CONFIG"
__all__ = [
    "CONFIG_ENV",
    "CONFIG_FILENAME",
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


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None
    clinic_name: str
    tz: ZoneInfo
    hours: Mapping[int, tuple[Block, ...]]
    holiday_country: str | None
    holiday_subdivision: str | None
    closures: frozenset[date]
    phone_region: str
    callback_number: str
    reasons: Mapping[str, Reason]
    escalation_owner: str | None
    escalation_minutes: int
    escalation_keywords: tuple[str, ...]
    owners: tuple[OwnerConfig, ...]
    backend: str
    workbook: Path
    google: GoogleConfig | None
    id_prefix: str = "CB"
    repeat_window_business_days: int = 2
    first_name_in_voicemail: bool = False
    templates: Path | None = None
    tabs: Mapping[str, str] = field(default_factory=dict)
    """Tab role (its default name, e.g. "Lists") -> the tab's name in the workbook ([queue] tabs)."""
    runner: RunnerConfig = field(default_factory=RunnerConfig)
    statuses: tuple[str, ...] = model.STATUSES
    closed_statuses: frozenset[str] = model.CLOSED_STATUSES
    outcomes: tuple[str, ...] = model.OUTCOMES
    urgencies: tuple[str, ...] = model.URGENCIES
    patient_types: tuple[str, ...] = model.PATIENT_TYPES
    languages: tuple[str, ...] = model.LANGUAGES
    locations: tuple[Location, ...] = ()
    intake: IntakeConfig = field(default_factory=IntakeConfig)
    date_format: str = DEFAULT_DATE_FORMAT  # how every date column of the sheet shows its dates
    archive_after_days: int = 30  # [archive] after_days: closed this long ago, an item may be archived
    archive_spreadsheet: str | None = None  # [archive] spreadsheet (Google): the archive's key or URL
    # [archive] spreadsheets (Google): {year: key or URL}, a spreadsheet per year (no one ever fills)
    archive_spreadsheets: tuple[tuple[int, str], ...] = ()
    escalation: EscalationConfig = field(default_factory=EscalationConfig)
    notify: NotifyConfig = field(default_factory=NotifyConfig)

    def owner_email(self, name: str | None) -> str | None:
        """The e-mail of the owner called ``name`` (case-insensitive), or ``name`` itself if it is an
        address; None when unknown."""
        if not name:
            return None
        if "@" in name:
            return name.strip()
        wanted = name.strip().casefold()
        return next((o.email for o in self.owners if o.name.casefold() == wanted and o.email), None)

    date_order: str | None = None  # [clinic] date_order; None: the sheet's locale, else the country

    def order_of_dates(self, locale: str | None = None) -> str:
        """How text dates in the sheet are read: ``[clinic] date_order`` if set, else the spreadsheet's
        locale (Google), else the clinic's country (``phone_region``)."""
        from callback_sheets.core.times import locale_date_order, region_date_order

        return self.date_order or locale_date_order(locale) or region_date_order(self.phone_region)

    def queues(self) -> list[tuple[str, Config]]:
        """Every queue this config serves, by name: the main one, or each [[queues]] entry (locations)."""
        if not self.locations:
            return [(self.clinic_name, self)]
        return [
            (
                loc.name,
                replace(self, backend=loc.backend, workbook=loc.workbook, google=loc.google, locations=()),
            )
            for loc in self.locations
        ]

    def calendar(self) -> BusinessCalendar:
        closed_on = build_closed_on(
            country=self.holiday_country, subdivision=self.holiday_subdivision, closures=self.closures
        )
        return BusinessCalendar(tz=self.tz, hours=self.hours, closed_on=closed_on)


_TOP_KEYS = {
    "clinic",
    "hours",
    "holidays",
    "queue",
    "google",
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
    F.no_unknown(raw, _TOP_KEYS, "")
    clinic = F.section(raw, "clinic")
    F.no_unknown(
        clinic, {"name", "timezone", "phone_region", "callback_number", "date_format", "date_order"}, "clinic"
    )
    date_format = clinic.get("date_format", DEFAULT_DATE_FORMAT)
    if not isinstance(date_format, str) or not date_format.strip():
        raise ConfigError(
            f'clinic.date_format: {date_format!r} is not a format such as "{DEFAULT_DATE_FORMAT}"'
        )
    tz = F.zone(clinic.get("timezone", "America/Chicago"), "clinic.timezone")
    region = F.opt_text(clinic, "phone_region", "clinic.phone_region", "US", example='"US"').upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f'clinic.phone_region: {region!r} is not a region code such as "US" or "MX"')
    holidays_t = F.section(raw, "holidays")
    F.no_unknown(holidays_t, {"country", "subdivision", "closures"}, "holidays")
    country = F.opt_text(holidays_t, "country", "holidays.country", "US", example='"US"') or None
    subdivision = F.opt_text(holidays_t, "subdivision", "holidays.subdivision", "", example='"IL"') or None
    if country is not None:
        F.check_country(str(country), subdivision)
    queue = F.section(raw, "queue")
    F.no_unknown(
        queue,
        {
            "backend",
            "workbook",
            "id_prefix",
            "repeat_window_business_days",
            "first_name_in_voicemail",
            "templates",
            "tabs",
        },
        "queue",
    )
    tabs = read_tabs(queue.get("tabs", {}))
    backend = F.opt_text(queue, "backend", "queue.backend", "excel", example='"excel"')
    if backend not in ("excel", "google"):
        raise ConfigError(f'queue.backend: {backend!r} is not one of "excel", "google"')
    choices = F.read_choices(F.section(raw, "choices"))
    reasons = F.read_reasons(F.section(raw, "reasons"), urgencies=choices["urgencies"])
    escalation = F.read_escalation(F.section(raw, "escalation"))
    owners = F.read_owners(raw.get("owners", []))
    F.check_references(owners, reasons, choices["languages"], escalation.owner)
    templates = F.opt_text(queue, "templates", "queue.templates", "", example='"my_templates"') or None
    closures = holidays_t.get("closures", [])
    if not isinstance(closures, list):
        raise ConfigError(f"holidays.closures: must be a list of dates, e.g. [2026-12-24], not {closures!r}")
    archive = F.section(raw, "archive")
    F.no_unknown(archive, {"after_days", "spreadsheet", "spreadsheets"}, "archive")
    return Config(
        path=path,
        clinic_name=F.opt_text(clinic, "name", "clinic.name", "Our clinic", example='"Lakeside Dental"'),
        tz=tz,
        hours=F.read_hours(raw.get("hours")),
        holiday_country=str(country) if country else None,
        holiday_subdivision=str(subdivision) if subdivision else None,
        closures=frozenset(F.a_date(d, "holidays.closures") for d in closures),
        phone_region=region,
        callback_number=F.opt_text(
            clinic, "callback_number", "clinic.callback_number", "", example='"(312) 555-0100"'
        ),
        date_format=date_format.strip(),
        reasons=reasons,
        escalation_owner=escalation.owner,
        escalation_minutes=escalation.minutes,
        escalation_keywords=tuple(k.casefold() for k in escalation.keywords),
        owners=owners,
        backend=backend,
        workbook=base
        / F.opt_text(queue, "workbook", "queue.workbook", "callback_queue.xlsx", example='"queue.xlsx"'),
        google=F.read_google(raw.get("google"), base) if backend == "google" or "google" in raw else None,
        id_prefix=F.opt_text(queue, "id_prefix", "queue.id_prefix", "CB", example='"CB"'),
        repeat_window_business_days=F.positive_int(
            queue.get("repeat_window_business_days", 2), "queue.repeat_window_business_days"
        ),
        first_name_in_voicemail=F.boolean(
            queue.get("first_name_in_voicemail", False), "queue.first_name_in_voicemail"
        ),
        templates=base / str(templates) if templates else None,
        tabs=tabs,
        runner=F.read_runner(F.section(raw, "runner")),
        statuses=choices["statuses"],
        closed_statuses=frozenset(choices["closed_statuses"]),
        outcomes=choices["outcomes"],
        urgencies=choices["urgencies"],
        patient_types=choices["patient_types"],
        languages=choices["languages"],
        locations=F.read_locations(raw.get("queues", []), base),
        intake=F.read_intake(F.section(raw, "intake"), base),
        archive_after_days=F.positive_int(archive.get("after_days", 30), "archive.after_days"),
        archive_spreadsheet=F.opt_text(archive, "spreadsheet", "archive.spreadsheet", "") or None,
        archive_spreadsheets=F.read_archive_spreadsheets(archive.get("spreadsheets", {})),
        escalation=escalation,
        notify=F.read_notify(F.section(raw, "notify")),
        date_order=F.date_order(clinic.get("date_order")),
    )


_TAB_ROLES = {
    "queue": model.QUEUE_TAB,
    "lists": model.LISTS_TAB,
    "history": model.HISTORY_TAB,
    "metrics": model.METRICS_TAB,
    "demand": model.DEMAND_TAB,
    "intake": model.INTAKE_TAB,
}
_BAD_TAB_CHARS = set("[]:*?/\\")


def read_tabs(raw: object) -> dict[str, str]:
    """`[queue] tabs`: the tool's tab roles -> the names they have in the workbook (Excel's rules)."""
    if not isinstance(raw, Mapping):
        raise ConfigError('queue.tabs: a table such as { lists = "Callback lists" }')
    names: dict[str, str] = {}
    for key, value in raw.items():
        where = f"queue.tabs.{key}"
        if key not in _TAB_ROLES:
            raise ConfigError(f"{where}: unknown tab; the tool's tabs are {', '.join(_TAB_ROLES)}")
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: the tab's name, as text")
        if len(value) > 31 or set(value) & _BAD_TAB_CHARS or value.startswith("'") or value.endswith("'"):
            raise ConfigError(
                f"{where}: {value!r} is not a valid tab name (at most 31 characters, none of []:*?/\\)"
            )
        names[_TAB_ROLES[key]] = value
    folded = [n.casefold() for n in {**{r: r for r in _TAB_ROLES.values()}, **names}.values()]
    if len(set(folded)) != len(folded):
        raise ConfigError("queue.tabs: two of the tool's tabs would have the same name (names ignore case)")
    return names
