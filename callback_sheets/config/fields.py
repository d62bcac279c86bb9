"""Reading the config file's sections: one checker per table, each naming the key it rejects.

Every function raises ConfigError with one line that names the key and says what to write instead.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callback_sheets import model
from callback_sheets.core.cadence import DEFAULT_RULES, CadenceKind, CadenceRule, kind_names
from callback_sheets.core.calendar import MIDNIGHT_END, Block
from callback_sheets.errors import ConfigError

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
    email: str | None = None  # where this owner's alerts go (issue 11)


@dataclass(frozen=True, slots=True)
class GoogleConfig:
    spreadsheet: str
    worksheet: str
    credentials: Path | None
    max_wait_seconds: int = 60  # a refresh's total wait on a failing API, then it gives up until next time


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
    timezone_set: bool = False  # [intake] timezone given (Asterisk otherwise reads the clinic's zone)
    ignore_shorter_than_seconds: float = 0.0
    watch: Path | None = None  # the folder exports arrive in (absolute)
    keep_files: bool = False
    asterisk_columns: tuple[str, ...] | None = None
    asterisk_usegmtime: bool = False
    asterisk_announcement_only: str = "missed"
    asterisk_extension_max_digits: int = 5


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    interval_minutes: int = 10
    close_of_day: time = time(17, 15)
    weekly_day: int = 4  # Friday
    weekly_time: time = time(17, 30)


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
    "falta el aire",
    "sangrado",
    "hinchazón",
    "hinchazon",
    "hinchado",
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
    "infectado",
    "vómito",
    "vomito",
)

_DEFAULT_HOURS = tuple(
    Block(name, start, end)
    for name, start, end in (("morning", time(8), time(12)), ("afternoon", time(13), time(17)))
)


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


def check_country(country: str, subdivision: object) -> None:
    """Check the holiday codes (without building a year of holidays)."""
    from callback_sheets.core.calendar import country_holidays  # the configured country's module only

    try:
        country_holidays(country, years=())
    except NotImplementedError:
        raise ConfigError(
            f"holidays.country: {country!r} is not a country code the holidays package knows"
        ) from None
    if not subdivision:
        return
    try:
        country_holidays(country, subdiv=str(subdivision), years=())
    except (NotImplementedError, ValueError):
        raise ConfigError(
            f"holidays.subdivision: {subdivision!r} is not a subdivision of {country} "
            '(e.g. "IL" or "TX" for the US)'
        ) from None


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


def read_choices(raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    keys = {"statuses", "closed_statuses", "outcomes", "urgencies", "patient_types", "languages"}
    no_unknown(raw, keys, "choices")
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


def read_reasons(raw: Mapping[str, Any], *, urgencies: tuple[str, ...]) -> dict[str, Reason]:
    reasons = {
        name: Reason(name, rule, DEFAULT_URGENCY.get(name, "Routine")) for name, rule in DEFAULT_RULES.items()
    }
    for name, table in raw.items():
        key = f"reasons.{name!r}" if " " in name else f"reasons.{name}"
        if not isinstance(table, Mapping):
            raise ConfigError(f"{key}: must be a table with cadence, max_attempts and urgency")
        no_unknown(table, {"cadence", "max_attempts", "urgency"}, key)
        base = reasons.get(name)
        if base is None and "cadence" not in table:
            raise ConfigError(f"{key}: a new reason needs a cadence (one of {kind_names()})")
        if "cadence" in table:
            a_text(table["cadence"], f"{key}.cadence", example='"standard"')
        try:
            kind = CadenceKind(table["cadence"]) if "cadence" in table else base.rule.kind  # type: ignore[union-attr]
        except ValueError:
            raise ConfigError(
                f"{key}.cadence: {table['cadence']!r} is not one of {kind_names()}"
            ) from None
        default_max = base.rule.max_attempts if base else 3
        max_attempts = positive_int(table.get("max_attempts", default_max), f"{key}.max_attempts")
        urgency = opt_text(table, "urgency", f"{key}.urgency", base.urgency if base else "Routine")
        if urgency not in urgencies:
            raise ConfigError(f"{key}.urgency: {urgency!r} is not one of {', '.join(urgencies)}")
        rule = CadenceRule(kind=kind, max_attempts=max_attempts)
        reasons[name] = Reason(name, rule, urgency)
    return reasons


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


def read_owners(raw: object) -> tuple[OwnerConfig, ...]:
    owners = []
    known = {"name", "languages", "reasons", "max_open", "email"}
    for key, table in named_tables(raw, key="owners", known=known, needs_name="each owner needs a name"):
        max_open = table.get("max_open")
        owners.append(
            OwnerConfig(
                name=str(table["name"]).strip(),
                languages=names(table.get("languages", ["English"]), f"{key}.languages"),
                reasons=names(table.get("reasons", []), f"{key}.reasons", example='["Billing", "Other"]'),
                max_open=positive_int(max_open, f"{key}.max_open") if max_open is not None else None,
                email=an_address(table["email"], f"{key}.email") if table.get("email") else None,
            )
        )
    return tuple(owners)


def check_references(
    owners: tuple[OwnerConfig, ...],
    reasons: Mapping[str, Reason],
    languages: tuple[str, ...],
    escalation_owner: str | None,
) -> None:
    """Every name that refers to something else must exist: an owner's reasons and languages, and the
    escalation owner (one of the [[owners]], when owners are listed)."""
    for i, owner in enumerate(owners):
        for reason in owner.reasons:
            if reason not in reasons:
                raise ConfigError(
                    f"owners[{i}].reasons: {reason!r} is not a reason; known reasons: {', '.join(reasons)}"
                )
        for language in owner.languages:
            if language not in languages:
                raise ConfigError(
                    f"owners[{i}].languages: {language!r} is not one of the languages "
                    f"({', '.join(languages)}); add it to [choices] languages or fix the spelling"
                )
    who = escalation_owner
    if who and owners and who.strip() not in {o.name for o in owners}:
        raise ConfigError(
            f"escalation.owner: {who.strip()!r} is not one of the [[owners]] "
            f"({', '.join(o.name for o in owners)}); add an [[owners]] table for them or fix the spelling"
        )


def read_google(raw: object, base: Path) -> GoogleConfig:
    if not isinstance(raw, Mapping) or not raw.get("spreadsheet"):
        raise ConfigError('google.spreadsheet: set it to the sheet\'s URL or key (the backend is "google")')
    no_unknown(raw, {"spreadsheet", "worksheet", "credentials", "max_wait_seconds"}, "google")
    spreadsheet = a_text(raw["spreadsheet"], "google.spreadsheet", example='"https://docs.google.com/..."')
    worksheet = opt_text(raw, "worksheet", "google.worksheet", model.QUEUE_TAB, example='"Queue"')
    if "credentials" in raw:
        a_text(raw["credentials"], "google.credentials", example='"key.json"')
    creds = raw.get("credentials") or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if not creds and GSPREAD_DEFAULT_KEY.expanduser().is_file():
        creds = str(GSPREAD_DEFAULT_KEY.expanduser())  # where gspread itself looks by default
    return GoogleConfig(
        spreadsheet=spreadsheet,
        worksheet=worksheet,
        credentials=(base / str(creds)) if creds else None,
        max_wait_seconds=positive_int(raw.get("max_wait_seconds", 60), "google.max_wait_seconds"),
    )


# gspread's own default service-account key path, used when neither the config nor the environment names one.
GSPREAD_DEFAULT_KEY = Path("~/.config/gspread/service_account.json")


def read_runner(raw: Mapping[str, Any]) -> RunnerConfig:
    no_unknown(raw, {"interval_minutes", "close_of_day", "weekly_day", "weekly_time"}, "runner")
    day = opt_text(raw, "weekly_day", "runner.weekly_day", "friday", example='"friday"').lower()
    if day not in WEEKDAYS:
        raise ConfigError(f'runner.weekly_day: {day!r} is not a weekday name such as "friday"')
    return RunnerConfig(
        interval_minutes=positive_int(raw.get("interval_minutes", 10), "runner.interval_minutes"),
        close_of_day=clock_time(raw.get("close_of_day", "17:15"), "runner.close_of_day"),
        weekly_day=WEEKDAYS.index(day),
        weekly_time=clock_time(raw.get("weekly_time", "17:30"), "runner.weekly_time"),
    )


def read_locations(raw: object, base: Path) -> tuple[Location, ...]:
    out = []
    known = {"name", "backend", "workbook", "google"}
    needs = "each queue needs a name (e.g. the location)"
    seen: dict[tuple[str, ...], str] = {}
    for key, table in named_tables(raw, key="queues", known=known, needs_name=needs):
        backend = opt_text(table, "backend", f"{key}.backend", "google" if "google" in table else "excel")
        if "workbook" in table:
            a_text(table["workbook"], f"{key}.workbook", example='"north.xlsx"')
        if backend not in ("excel", "google"):
            raise ConfigError(f'{key}.backend: {backend!r} is not one of "excel", "google"')
        if backend == "excel" and not table.get("workbook"):
            raise ConfigError(f"{key}.workbook: set the path of this location's workbook")
        location = Location(
            name=str(table["name"]).strip(),
            backend=backend,
            workbook=base / str(table.get("workbook", "callback_queue.xlsx")),
            google=read_google(table.get("google"), base) if backend == "google" else None,
        )
        ident = queue_identity(location)
        if ident in seen:
            where = "workbook" if backend == "excel" else "google.spreadsheet"
            raise ConfigError(
                f"{key}.{where}: queue {location.name!r} names the same "
                f"{'workbook' if backend == 'excel' else 'sheet'} as queue {seen[ident]!r}; "
                "list each queue once"
            )
        seen[ident] = location.name
        out.append(location)
    return tuple(out)


def queue_identity(location: Location) -> tuple[str, ...]:
    """What makes two [[queues]] entries the same queue: the workbook's resolved path (``a.xlsx`` and
    ``./a.xlsx`` are one file), or the spreadsheet's key (URL or bare key) and the tab."""
    if location.backend == "excel" or location.google is None:
        return ("excel", os.path.normcase(str(location.workbook.resolve())))
    sheet = location.google.spreadsheet.strip()
    found = re.search(r"/spreadsheets/d/([A-Za-z0-9_-]+)", sheet)
    return ("google", found.group(1) if found else sheet, location.google.worksheet.strip().casefold())


def _bool(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: must be true or false, not {value!r}")
    return value


def _non_negative(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{key}: must be a number of seconds, 0 or more, not {value!r}")
    return float(value)


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
        out["asterisk_usegmtime"] = _bool(raw["usegmtime"], "intake.asterisk.usegmtime")
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
        from callback_sheets.config.intake_names import FORMATS

        if fmt not in FORMATS:
            raise ConfigError(f"intake.format: unknown format {fmt!r}; known: {', '.join(FORMATS)}")
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
        ignore_shorter_than_seconds=_non_negative(
            raw.get("ignore_shorter_than_seconds", 0), "intake.ignore_shorter_than_seconds"
        ),
        watch=watch_path,
        keep_files=_bool(raw.get("keep_files", False), "intake.keep_files"),
        **_read_asterisk(asterisk),
    )


DEFAULT_FINAL_STEP = "Attempts used up: route to the provider on call (no clinical advice at the front desk)"
EMAIL_SECURITY = ("starttls", "ssl", "none")


@dataclass(frozen=True, slots=True)
class EscalationConfig:
    """[escalation]: who takes clinical-symptom messages, what counts, and the cadence after an attempt."""

    owner: str | None = None
    minutes: int = 15
    keywords: tuple[str, ...] = DEFAULT_KEYWORDS
    columns: tuple[str, ...] = (model.NOTES,)
    urgent_escalates: bool = True
    retry_minutes: int = 30
    final_step: str = DEFAULT_FINAL_STEP
    backup: str | None = None  # an owner's name or an e-mail address
    after_hours_to: str | None = None  # also told of an after-hours escalation (a name or an address)


@dataclass(frozen=True, slots=True)
class EmailConfig:
    host: str
    port: int
    security: str  # starttls, ssl or none
    sender: str
    username: str | None = None
    password_env: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    url: str
    format: str  # teams, slack, google-chat or json


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    """[notify]: where alerts go. No channel configured: nothing is sent."""

    link: str | None = None
    review_to: tuple[str, ...] = ()
    weekly_to: tuple[str, ...] = ()
    email: EmailConfig | None = None
    webhook: WebhookConfig | None = None
    timeout_seconds: float = 10.0

    @property
    def channels(self) -> bool:
        return self.email is not None or self.webhook is not None


def read_escalation(raw: Mapping[str, Any]) -> EscalationConfig:
    known = {
        "owner",
        "minutes",
        "keywords",
        "columns",
        "urgent_escalates",
        "retry_minutes",
        "final_step",
        "backup",
        "after_hours_to",
    }
    no_unknown(raw, known, "escalation")
    keywords = string_list(
        raw.get("keywords", list(DEFAULT_KEYWORDS)), "escalation.keywords", '["chest pain", "fiebre"]'
    )
    columns = string_list(raw.get("columns", [model.NOTES]), "escalation.columns", '["Notes"]')
    owner = raw.get("owner")
    backup = raw.get("backup")
    after_hours_to = raw.get("after_hours_to")
    if after_hours_to is not None and (not isinstance(after_hours_to, str) or not after_hours_to.strip()):
        raise ConfigError(
            'escalation.after_hours_to: must be an address or a name, e.g. "oncall@clinic.example"'
        )
    return EscalationConfig(
        owner=a_string(owner, "escalation.owner") if owner else None,
        minutes=positive_int(raw.get("minutes", 15), "escalation.minutes"),
        keywords=keywords,
        columns=columns or (model.NOTES,),
        urgent_escalates=a_bool(raw.get("urgent_escalates", True), "escalation.urgent_escalates"),
        retry_minutes=positive_int(raw.get("retry_minutes", 30), "escalation.retry_minutes"),
        final_step=a_string(raw.get("final_step", DEFAULT_FINAL_STEP), "escalation.final_step"),
        backup=a_string(backup, "escalation.backup") if backup else None,
        after_hours_to=after_hours_to.strip() if isinstance(after_hours_to, str) else None,
    )


def _addresses(value: object, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    return tuple(
        an_address(v, f"{key}[{i}]") for i, v in enumerate(string_list(value, key, '["lead@clinic.example"]'))
    )


def read_notify(raw: Mapping[str, Any]) -> NotifyConfig:
    no_unknown(raw, {"link", "review_to", "weekly_to", "email", "webhook", "timeout_seconds"}, "notify")
    email = section(raw, "email") if "email" in raw else None
    webhook = section(raw, "webhook") if "webhook" in raw else None
    timeout = raw.get("timeout_seconds", 10)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0 < timeout <= 120:
        raise ConfigError(
            f"notify.timeout_seconds: {timeout!r} must be a number of seconds between 0 and 120"
        )
    link = raw.get("link")
    return NotifyConfig(
        link=a_string(link, "notify.link") if link else None,
        review_to=_addresses(raw.get("review_to", []), "notify.review_to"),
        weekly_to=_addresses(raw.get("weekly_to", []), "notify.weekly_to"),
        email=_read_email(email) if email is not None else None,
        webhook=_read_webhook(webhook) if webhook is not None else None,
        timeout_seconds=float(timeout),
    )


def _read_email(raw: Mapping[str, Any]) -> EmailConfig:
    no_unknown(raw, {"host", "port", "security", "sender", "username", "password_env"}, "notify.email")
    security = str(raw.get("security", "starttls"))
    if security not in EMAIL_SECURITY:
        raise ConfigError(f'notify.email.security: {security!r} is not one of "starttls", "ssl", "none"')
    default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
    port = positive_int(raw.get("port", default_port), "notify.email.port")
    if port > 65535:
        raise ConfigError(f"notify.email.port: {port} is not a port number (1-65535)")
    username = raw.get("username")
    password_env = raw.get("password_env")
    if username and not password_env:
        raise ConfigError(
            "notify.email.password_env: set it to the environment variable holding the password, "
            'e.g. "CALLBACK_SHEETS_SMTP_PASSWORD" (the password itself never goes in this file)'
        )
    return EmailConfig(
        host=a_string(raw.get("host"), "notify.email.host"),
        port=port,
        security=security,
        sender=an_address(raw.get("sender"), "notify.email.sender"),
        username=a_string(username, "notify.email.username") if username else None,
        password_env=a_string(password_env, "notify.email.password_env") if password_env else None,
    )


def _read_webhook(raw: Mapping[str, Any]) -> WebhookConfig:
    from callback_sheets.notify.webhooks import FORMATS as WEBHOOK_FORMATS  # the registry (stdlib only)

    no_unknown(raw, {"url", "format"}, "notify.webhook")
    url = a_string(raw.get("url"), "notify.webhook.url")
    if not url.startswith(("https://", "http://")):
        raise ConfigError(f"notify.webhook.url: {url[:40]!r} must start with https://")
    fmt = str(raw.get("format", "json"))
    if fmt not in WEBHOOK_FORMATS:
        raise ConfigError(f"notify.webhook.format: {fmt!r} is not one of {', '.join(WEBHOOK_FORMATS)}")
    return WebhookConfig(url=url, format=fmt)


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
