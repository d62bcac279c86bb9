"""Which backend serves a config: a registry of adapters by name, imported only when used."""

from __future__ import annotations

from collections.abc import Callable

from callback_sheets.backends.base import Backend
from callback_sheets.config import Config
from callback_sheets.errors import ConfigError


def _excel(config: Config) -> Backend:
    from callback_sheets.backends.excel.backend import ExcelBackend

    return ExcelBackend(config.workbook, tabs=config.tabs)


def _google(config: Config) -> Backend:
    from callback_sheets.backends.google.backend import GoogleBackend  # type: ignore[import-not-found]

    if config.google is None:
        raise ConfigError('google.spreadsheet: set it to the sheet\'s URL or key (the backend is "google")')
    backend = GoogleBackend.from_config(config.google, tabs=config.tabs)
    backend.archive_key = config.archive_spreadsheet  # `archive`: elsewhere, or tabs of this spreadsheet
    backend.archive_keys = dict(config.archive_spreadsheets)  # or a spreadsheet per year
    return backend  # type: ignore[no-any-return]


BACKENDS: dict[str, Callable[[Config], Backend]] = {"excel": _excel, "google": _google}


def open_backend(config: Config) -> Backend:
    try:
        factory = BACKENDS[config.backend]
    except KeyError:
        raise ConfigError(f"queue.backend: {config.backend!r} is not one of {', '.join(BACKENDS)}") from None
    return factory(config)
