"""The checked configuration: :class:`Config` and :class:`Location`, the types every layer reads.

Nothing here reads the file (that is :func:`callback_sheets.config.parse_config`), so backends and the
backend registry can name these types without depending on the parser.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from callback_sheets import model
from callback_sheets.config.choices import Reason
from callback_sheets.config.escalation import EscalationConfig
from callback_sheets.config.google import GoogleConfig
from callback_sheets.config.intake import IntakeConfig
from callback_sheets.config.notify import NotifyConfig
from callback_sheets.config.owners import OwnerConfig
from callback_sheets.config.runner import RunnerConfig
from callback_sheets.core.calendar import Block, BusinessCalendar
from callback_sheets.core.closed_days import build_closed_on

DEFAULT_DATE_FORMAT = "ddd mm/dd hh:mm"
DEFAULT_WORKBOOK = "callback_queue.xlsx"  # an Excel queue's workbook when the config names none


@dataclass(frozen=True, slots=True)
class Location:
    """Where one queue lives: its backend and what that backend's settings say (the main queue's, or a
    [[queues]] entry's, a location served by the same clinic settings)."""

    name: str
    backend: str
    workbook: Path = Path(DEFAULT_WORKBOOK)
    google: GoogleConfig | None = None
    settings: Mapping[str, object] = field(default_factory=dict)
    """A backend's own settings when it has no field here, by backend name."""


@dataclass(frozen=True, slots=True)
class Config:
    """The checked configuration of a clinic: every section read, with its defaults."""

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
    settings: Mapping[str, object] = field(default_factory=dict)
    """The queue's backend settings for a backend with no field of its own (``workbook``, ``google``), by
    backend name: what its entry in :mod:`callback_sheets.backends.registry` read."""

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
                replace(
                    self,
                    backend=loc.backend,
                    workbook=loc.workbook,
                    google=loc.google,
                    settings=loc.settings,
                    locations=(),
                ),
            )
            for loc in self.locations
        ]

    def calendar(self) -> BusinessCalendar:
        closed_on = build_closed_on(
            country=self.holiday_country, subdivision=self.holiday_subdivision, closures=self.closures
        )
        return BusinessCalendar(tz=self.tz, hours=self.hours, closed_on=closed_on)
