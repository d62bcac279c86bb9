"""Where the queues live: the main queue's backend and its settings, and each [[queues]] entry's.

Which backends there are, and how each one's settings are read, is the backend registry's business
(:mod:`callback_sheets.backends.registry`); this module only walks the config file for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from callback_sheets.backends.registry import BACKENDS, BackendKind, Setting, backend_kind
from callback_sheets.config.types import Location
from callback_sheets.config.values import named_tables, opt_text
from callback_sheets.errors import ConfigError


def backend_keys(*, table: bool) -> set[str]:
    """The config keys backends' settings take: top-level tables (``table``) or keys of [queue]."""
    return {kind.key for kind in BACKENDS.values() if kind.table == table}


def read_main(raw: Mapping[str, Any], queue: Mapping[str, Any], *, name: str, base: Path) -> Location:
    """The main queue: [queue] backend, and each backend's setting ([queue] key or top-level table)."""
    default = next(iter(BACKENDS))
    backend = opt_text(queue, "backend", "queue.backend", default, example=f'"{default}"')
    backend_kind(backend, "queue.backend")
    place = Location(name=name, backend=backend)
    for kind in BACKENDS.values():
        where, key = (raw, kind.key) if kind.table else (queue, f"queue.{kind.key}")
        setting = Setting(where.get(kind.key), key, base, selected=kind.name == backend, entry=False)
        place = kind.read(place, setting)
    return place


def read_locations(raw: object, base: Path) -> tuple[Location, ...]:
    """The [[queues]] entries, each a location with its own backend settings, none listed twice."""
    out = []
    known = {"name", "backend"} | {kind.key for kind in BACKENDS.values()}
    needs = "each queue needs a name (e.g. the location)"
    seen: dict[tuple[str, ...], str] = {}
    for key, table in named_tables(raw, key="queues", known=known, needs_name=needs):
        kind = backend_kind(_entry_backend(table, key), f"{key}.backend")
        location = Location(name=str(table["name"]).strip(), backend=kind.name)
        for each in BACKENDS.values():
            where = each.key if each.table else f"{key}.{each.key}"
            setting = Setting(table.get(each.key), where, base, selected=each is kind, entry=True)
            location = each.read(location, setting)
        ident = kind.identity(location)
        if ident in seen:
            raise _listed_twice(kind, key, location.name, seen[ident])
        seen[ident] = location.name
        out.append(location)
    return tuple(out)


def _entry_backend(table: Mapping[str, Any], key: str) -> str:
    """A [[queues]] entry's backend: as given, else the one whose table it has, else the default."""
    tables = [kind.name for kind in BACKENDS.values() if kind.table and kind.key in table]
    default = tables[0] if tables else next(iter(BACKENDS))
    return opt_text(table, "backend", f"{key}.backend", default)


def _listed_twice(kind: BackendKind, key: str, name: str, first: str) -> ConfigError:
    where, what = kind.same
    return ConfigError(
        f"{key}.{where}: queue {name!r} names the same {what} as queue {first!r}; list each queue once"
    )
