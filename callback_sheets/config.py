"""The clinic's configuration: one TOML file, checked key by key.

Every mistake raises ConfigError with one line that names the key and says what to write instead.
"""

from __future__ import annotations

import itertools
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from callback_sheets import model
from callback_sheets.cadence import DEFAULT_RULES, CadenceKind, CadenceRule
from callback_sheets.calendar import Block, BusinessCalendar, build_closed_on
from callback_sheets.errors import ConfigError

CONFIG_FILENAME = "callback_sheets.toml"
CONFIG_ENV = "CALLBACK_SHEETS_CONFIG"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_URGENCY = {"Clinical concern": "Urgent", "Prescription question": "Same day"}


@dataclass(frozen=True, slots=True)
class Reason:
    name: str
    rule: CadenceRule
    urgency: str


@dataclass(frozen=True, slots=True)
class OwnerConfig:
    name: str
    languages: tuple[str, ...] = ("English",)
    reasons: tuple[str, ...] = ()
    max_open: int | None = None


@dataclass(frozen=True, slots=True)
class GoogleConfig:
    spreadsheet: str
    worksheet: str
    credentials: Path | None


@dataclass(frozen=True, slots=True)
class Location:
    """One more queue served by the same clinic settings (another location's workbook or sheet)."""

    name: str
    backend: str
    workbook: Path
    google: GoogleConfig | None


@dataclass(frozen=True, slots=True)
class IntakeConfig:
    """How phone-system exports are read by `import-calls`."""

    format: str | None = None  # None: detect from the header
    export_tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    mapping: Mapping[str, str] | None = None  # for format "generic"


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    interval_minutes: int = 10
    close_of_day: time = time(17, 15)
    weekly_day: int = 4  # Friday
    weekly_time: time = time(17, 30)


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
    first_name_in_voicemail: bool = True
    templates: Path | None = None
    runner: RunnerConfig = field(default_factory=RunnerConfig)
    statuses: tuple[str, ...] = model.STATUSES
    closed_statuses: frozenset[str] = model.CLOSED_STATUSES
    outcomes: tuple[str, ...] = model.OUTCOMES
    urgencies: tuple[str, ...] = model.URGENCIES
    patient_types: tuple[str, ...] = model.PATIENT_TYPES
    languages: tuple[str, ...] = model.LANGUAGES
    locations: tuple[Location, ...] = ()
    intake: IntakeConfig = field(default_factory=IntakeConfig)

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


DEFAULT_KEYWORDS = (
    # English
    "chest pain",
    "can't breathe",
    "cannot breathe",
    "shortness of breath",
    "trouble breathing",
    "bleeding",
    "swelling",
    "fever",
    "suicidal",
    "overdose",
    "allergic reaction",
    "faint",
    "fainted",
    "seizure",
    "stroke",
    "severe pain",
    "infection",
    "pus",
    "vomiting",
    # Spanish
    "dolor de pecho",
    "no puedo respirar",
    "falta de aire",
    "sangrado",
    "hinchazón",
    "hinchazon",
    "fiebre",
    "suicida",
    "sobredosis",
    "reacción alérgica",
    "reaccion alergica",
    "desmayo",
    "convulsión",
    "convulsion",
    "dolor fuerte",
    "infección",
    "infeccion",
    "vómito",
    "vomito",
)

_DEFAULT_HOURS = tuple(
    Block(name, start, end)
    for name, start, end in (("morning", time(8), time(12)), ("afternoon", time(13), time(17)))
)
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
            f"no config at {path}: copy config/callback_sheets.example.toml there, "
            f"or pass --config PATH (or set {CONFIG_ENV})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path} is not valid TOML: {exc}") from None
    return parse_config(raw, base=path.parent, path=path)


def parse_config(raw: Mapping[str, Any], *, base: Path, path: Path | None = None) -> Config:
    """Build a Config from parsed TOML; relative paths are taken from `base`."""
    _no_unknown(raw, _TOP_KEYS, "")
    clinic = _table(raw, "clinic")
    _no_unknown(clinic, {"name", "timezone", "phone_region", "callback_number"}, "clinic")
    tz = _zone(clinic.get("timezone", "America/Chicago"), "clinic.timezone")
    region = str(clinic.get("phone_region", "US")).upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f'clinic.phone_region: {region!r} is not a region code such as "US" or "MX"')
    holidays_t = _table(raw, "holidays")
    _no_unknown(holidays_t, {"country", "subdivision", "closures"}, "holidays")
    country = holidays_t.get("country", "US") or None
    subdivision = holidays_t.get("subdivision") or None
    if country is not None:
        _check_country(str(country), subdivision)
    queue = _table(raw, "queue")
    _no_unknown(
        queue,
        {
            "backend",
            "workbook",
            "id_prefix",
            "repeat_window_business_days",
            "first_name_in_voicemail",
            "templates",
        },
        "queue",
    )
    backend = str(queue.get("backend", "excel"))
    if backend not in ("excel", "google"):
        raise ConfigError(f'queue.backend: {backend!r} is not one of "excel", "google"')
    choices = _choices(_table(raw, "choices"))
    reasons = _reasons(_table(raw, "reasons"), urgencies=choices["urgencies"])
    escalation = _table(raw, "escalation")
    _no_unknown(escalation, {"owner", "minutes", "keywords"}, "escalation")
    owners = _owners(raw.get("owners", []))
    templates = queue.get("templates")
    return Config(
        path=path,
        clinic_name=str(clinic.get("name", "Our clinic")),
        tz=tz,
        hours=_hours(raw.get("hours")),
        holiday_country=str(country) if country else None,
        holiday_subdivision=str(subdivision) if subdivision else None,
        closures=frozenset(_date(d, "holidays.closures") for d in holidays_t.get("closures", [])),
        phone_region=region,
        callback_number=str(clinic.get("callback_number", "")),
        reasons=reasons,
        escalation_owner=escalation.get("owner") or None,
        escalation_minutes=_positive_int(escalation.get("minutes", 15), "escalation.minutes"),
        escalation_keywords=tuple(
            str(k).casefold() for k in escalation.get("keywords", DEFAULT_KEYWORDS) if str(k).strip()
        ),
        owners=owners,
        backend=backend,
        workbook=base / str(queue.get("workbook", "callback_queue.xlsx")),
        google=_google(raw.get("google"), base) if backend == "google" or "google" in raw else None,
        id_prefix=str(queue.get("id_prefix", "CB")),
        repeat_window_business_days=_positive_int(
            queue.get("repeat_window_business_days", 2), "queue.repeat_window_business_days"
        ),
        first_name_in_voicemail=bool(queue.get("first_name_in_voicemail", True)),
        templates=base / str(templates) if templates else None,
        runner=_runner(_table(raw, "runner")),
        statuses=choices["statuses"],
        closed_statuses=frozenset(choices["closed_statuses"]),
        outcomes=choices["outcomes"],
        urgencies=choices["urgencies"],
        patient_types=choices["patient_types"],
        languages=choices["languages"],
        locations=_locations(raw.get("queues", []), base),
        intake=_intake(_table(raw, "intake")),
    )


def _no_unknown(table: Mapping[str, Any], known: set[str], where: str) -> None:
    for key in table:
        if key not in known:
            name = f"{where}.{key}" if where else key
            raise ConfigError(f"{name}: unknown key (known keys here: {', '.join(sorted(known))})")


def _table(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key}: must be a table ([{key}])")
    return value


def _zone(value: object, key: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f'{key}: unknown time zone {value!r}; use an IANA name such as "America/Chicago"'
        ) from None


def _time(value: object, key: str) -> time:
    try:
        hh, mm = str(value).split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise ConfigError(f'{key}: {value!r} is not a time; write it as "HH:MM", e.g. "08:00"') from None


def _date(value: object, key: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{key}: {value!r} is not a date; write it as YYYY-MM-DD") from None


def _positive_int(value: object, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{key}: {value!r} must be a whole number of at least 1")
    return value


def _check_country(country: str, subdivision: object) -> None:
    import holidays

    try:
        holidays.country_holidays(country, subdiv=str(subdivision) if subdivision else None, years=2026)
    except NotImplementedError:
        raise ConfigError(
            f"holidays.country: {country!r} is not a country code the holidays package knows"
        ) from None
    except ValueError as exc:
        raise ConfigError(f"holidays.subdivision: {exc}") from None


def _hours(raw: object) -> dict[int, tuple[Block, ...]]:
    if raw is None:
        return {day: _DEFAULT_HOURS for day in range(5)}
    if not isinstance(raw, Mapping):
        raise ConfigError('hours: must be a table of weekdays, e.g. monday = [{ name = "morning", ... }]')
    _no_unknown(raw, set(WEEKDAYS), "hours")
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
            _no_unknown(block, {"name", "start", "end"}, where)
            start, end = _time(block.get("start"), f"{where}.start"), _time(block.get("end"), f"{where}.end")
            if end <= start:
                raise ConfigError(f"{where}: end {end:%H:%M} must be after start {start:%H:%M}")
            parsed.append(Block(str(block.get("name", f"block {i + 1}")), start, end))
        parsed.sort(key=lambda b: b.start)
        for a, b in itertools.pairwise(parsed):
            if b.start < a.end:
                raise ConfigError(f"{key}: blocks {a.name!r} and {b.name!r} overlap")
        hours[WEEKDAYS.index(day)] = tuple(parsed)
    if not any(hours.values()):
        raise ConfigError("hours: the clinic has no business hours at all; add at least one block")
    return hours


def _choices(raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    keys = {"statuses", "closed_statuses", "outcomes", "urgencies", "patient_types", "languages"}
    _no_unknown(raw, keys, "choices")
    defaults = {
        "statuses": model.STATUSES,
        "closed_statuses": tuple(sorted(model.CLOSED_STATUSES)),
        "outcomes": model.OUTCOMES,
        "urgencies": model.URGENCIES,
        "patient_types": model.PATIENT_TYPES,
        "languages": model.LANGUAGES,
    }
    out: dict[str, tuple[str, ...]] = {}
    for key, default in defaults.items():
        value = raw.get(key, default)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ConfigError(f"choices.{key}: must be a list of names")
        out[key] = tuple(value)
    unknown = set(out["closed_statuses"]) - set(out["statuses"])
    if unknown:
        raise ConfigError(f"choices.closed_statuses: {sorted(unknown)} are not in choices.statuses")
    return out


def _reasons(raw: Mapping[str, Any], *, urgencies: tuple[str, ...]) -> dict[str, Reason]:
    reasons = {
        name: Reason(name, rule, DEFAULT_URGENCY.get(name, "Routine")) for name, rule in DEFAULT_RULES.items()
    }
    for name, table in raw.items():
        key = f"reasons.{name!r}" if " " in name else f"reasons.{name}"
        if not isinstance(table, Mapping):
            raise ConfigError(f"{key}: must be a table with cadence, max_attempts and urgency")
        _no_unknown(table, {"cadence", "max_attempts", "urgency"}, key)
        base = reasons.get(name)
        if base is None and "cadence" not in table:
            raise ConfigError(f"{key}: a new reason needs a cadence (standard, daily or escalation)")
        try:
            kind = CadenceKind(table["cadence"]) if "cadence" in table else base.rule.kind  # type: ignore[union-attr]
        except ValueError:
            raise ConfigError(
                f"{key}.cadence: {table['cadence']!r} is not one of standard, daily, escalation"
            ) from None
        default_max = base.rule.max_attempts if base else 3
        max_attempts = _positive_int(table.get("max_attempts", default_max), f"{key}.max_attempts")
        urgency = str(table.get("urgency", base.urgency if base else "Routine"))
        if urgency not in urgencies:
            raise ConfigError(f"{key}.urgency: {urgency!r} is not one of {', '.join(urgencies)}")
        rule = CadenceRule(kind=kind, max_attempts=max_attempts)
        reasons[name] = Reason(name, rule, urgency)
    return reasons


def _owners(raw: object) -> tuple[OwnerConfig, ...]:
    if not isinstance(raw, list):
        raise ConfigError("owners: must be a list of [[owners]] tables")
    owners = []
    for i, table in enumerate(raw):
        key = f"owners[{i}]"
        if not isinstance(table, Mapping) or not str(table.get("name", "")).strip():
            raise ConfigError(f"{key}: each owner needs a name")
        _no_unknown(table, {"name", "languages", "reasons", "max_open"}, key)
        max_open = table.get("max_open")
        owners.append(
            OwnerConfig(
                name=str(table["name"]).strip(),
                languages=tuple(table.get("languages", ["English"])),
                reasons=tuple(table.get("reasons", [])),
                max_open=_positive_int(max_open, f"{key}.max_open") if max_open is not None else None,
            )
        )
    return tuple(owners)


def _google(raw: object, base: Path) -> GoogleConfig:
    if not isinstance(raw, Mapping) or not raw.get("spreadsheet"):
        raise ConfigError('google.spreadsheet: set it to the sheet\'s URL or key (the backend is "google")')
    _no_unknown(raw, {"spreadsheet", "worksheet", "credentials"}, "google")
    creds = raw.get("credentials") or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    return GoogleConfig(
        spreadsheet=str(raw["spreadsheet"]),
        worksheet=str(raw.get("worksheet", model.QUEUE_TAB)),
        credentials=(base / str(creds)) if creds else None,
    )


def _runner(raw: Mapping[str, Any]) -> RunnerConfig:
    _no_unknown(raw, {"interval_minutes", "close_of_day", "weekly_day", "weekly_time"}, "runner")
    day = str(raw.get("weekly_day", "friday")).lower()
    if day not in WEEKDAYS:
        raise ConfigError(f'runner.weekly_day: {day!r} is not a weekday name such as "friday"')
    return RunnerConfig(
        interval_minutes=_positive_int(raw.get("interval_minutes", 10), "runner.interval_minutes"),
        close_of_day=_time(raw.get("close_of_day", "17:15"), "runner.close_of_day"),
        weekly_day=WEEKDAYS.index(day),
        weekly_time=_time(raw.get("weekly_time", "17:30"), "runner.weekly_time"),
    )


def _locations(raw: object, base: Path) -> tuple[Location, ...]:
    if not isinstance(raw, list):
        raise ConfigError("queues: must be a list of [[queues]] tables, one per location")
    out = []
    for i, table in enumerate(raw):
        key = f"queues[{i}]"
        if not isinstance(table, Mapping) or not str(table.get("name", "")).strip():
            raise ConfigError(f"{key}: each queue needs a name (e.g. the location)")
        _no_unknown(table, {"name", "backend", "workbook", "google"}, key)
        backend = str(table.get("backend", "google" if "google" in table else "excel"))
        if backend not in ("excel", "google"):
            raise ConfigError(f'{key}.backend: {backend!r} is not one of "excel", "google"')
        if backend == "excel" and not table.get("workbook"):
            raise ConfigError(f"{key}.workbook: set the path of this location's workbook")
        out.append(
            Location(
                name=str(table["name"]).strip(),
                backend=backend,
                workbook=base / str(table.get("workbook", "callback_queue.xlsx")),
                google=_google(table.get("google"), base) if backend == "google" else None,
            )
        )
    return tuple(out)


def _intake(raw: Mapping[str, Any]) -> IntakeConfig:
    _no_unknown(raw, {"format", "timezone", "mapping"}, "intake")
    mapping = raw.get("mapping")
    if mapping is not None:
        from callback_sheets.intake import GENERIC_MAPPING_KEYS

        if not isinstance(mapping, Mapping):
            raise ConfigError(
                'intake.mapping: must be a table of export column names, e.g. phone = "Caller Number"'
            )
        _no_unknown(mapping, set(GENERIC_MAPPING_KEYS), "intake.mapping")
        mapping = {
            str(k): str(v) if not isinstance(v, list) else ", ".join(map(str, v)) for k, v in mapping.items()
        }
    fmt = raw.get("format")
    return IntakeConfig(
        format=str(fmt) if fmt else None,
        export_tz=_zone(raw.get("timezone", "UTC"), "intake.timezone"),
        mapping=mapping,
    )
