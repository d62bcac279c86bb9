"""What every command gets from the group: the config (loaded on first use), the backend, and ``--now``."""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # types only: the config and the backends are loaded on first use
    from callback_sheets.backends.base import Backend
    from callback_sheets.config import Config


@contextmanager
def startup() -> Iterator[None]:
    """Pauses Python's cyclic garbage collector while a command's modules load and its config is read.

    Imports make thousands of long-lived objects (functions, classes, the config) and no garbage worth
    a scan: the collections they trigger are about 6 ms of every command. The collector runs again
    afterwards (the runner lives for months), as after :func:`callback_sheets.app.cycle.bulk_work`.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def skip_last_collections() -> None:
    """At the process's exit, skips the garbage collections the interpreter runs over every object left
    (about 10 ms of a command): :func:`gc.freeze` moves them out of the collector's reach first. Nothing
    the tool leaves then needs a collection: its files are closed by ``with`` and its writes fsynced before
    the command returns; the memory goes back with the process. Registered once, when a command loads."""
    global _exit_registered
    if not _exit_registered:
        atexit.register(gc.freeze)
        _exit_registered = True


_exit_registered = False


@dataclass
class State:
    """The group's state for its command: the config path, the config once loaded, --debug."""

    config_path: str | None
    debug: bool = False
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            with startup():
                from callback_sheets.config import find_config_path, load_config

                self._config = load_config(find_config_path(self.config_path))
        return self._config

    def backend(self) -> Backend:
        from callback_sheets.backends.registry import open_backend

        return open_backend(self.config)

    def now(self, text: str | None) -> datetime:
        from callback_sheets.core.times import parse_now

        try:
            return parse_now(text, self.config.tz)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--now") from None
