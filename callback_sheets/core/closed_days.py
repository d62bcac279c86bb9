"""Which dates a clinic is closed: the country's public holidays (the ``holidays`` package, loaded lazily,
one country module only) plus the clinic's own closure dates, as one ``closed_on(date)`` predicate for
:class:`~callback_sheets.core.calendar.BusinessCalendar`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any


def country_holidays(country: str, *, subdiv: str | None = None, years: Iterable[int] | int = ()) -> Any:
    """``holidays.country_holidays``, loading the configured country's module only.

    ``import holidays`` imports every country's class through its ``EntityLoader`` plus
    ``importlib.metadata`` (about 60 ms of each command's start), and ``holidays.countries``'s
    ``__init__`` imports every country module. When neither is loaded yet, both are set up here as bare
    packages (the packages' own paths, without their ``__init__``) and only the country's module, with
    the base classes it imports, is loaded. Should that fail (a holidays release whose modules need the
    package's ``__init__``), the bare packages are dropped and the package is imported as usual. Raises
    NotImplementedError for an unknown country, as the package does."""
    import sys

    loaded = sys.modules.get("holidays")
    if loaded is not None and getattr(loaded, "__file__", None) is not None:  # the whole package
        return loaded.country_holidays(country, subdiv=subdiv, years=years)
    try:
        return _bare_country_holidays(country, subdiv=subdiv, years=years)
    except NotImplementedError:
        raise
    except Exception:  # any layout change of the package: the usual import below
        for name in [m for m in sys.modules if m == "holidays" or m.startswith("holidays.")]:
            del sys.modules[name]
    import holidays

    return holidays.country_holidays(country, subdiv=subdiv, years=years)


def _bare_package(name: str, path: str, *, names: bool = False) -> None:
    """A package without its ``__init__``; with ``names``, the names its ``__init__`` imports from its
    submodules are found on first use (``from holidays.groups import ChristianHolidays`` loads
    ``holidays.groups.christian`` alone, not every calendar's group)."""
    import importlib.machinery
    import os
    import sys
    import types

    package = types.ModuleType(name)
    package.__path__ = [path]
    package.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
    package.__spec__.submodule_search_locations = [path]
    package.__package__ = name
    if names:  # PEP 562: a module's __getattr__ is an attribute set on it (the stubs see a method)
        package.__getattr__ = _names_in(os.path.join(path, "__init__.py"))  # type: ignore[method-assign]
    sys.modules[name] = package


def _names_in(init: str) -> Callable[[str], Any]:
    """``__getattr__`` for a bare package: each name its ``__init__`` imports (``from pkg.sub import A,
    B``; anything else in it makes this fail, and the package is then imported as usual)."""
    import importlib
    import re

    with open(init, encoding="utf-8") as fh:
        source = fh.read()
    where: dict[str, tuple[str, str]] = {}
    for module, listed in re.findall(r"^from ([\w.]+) import (\([^)]*\)|[^\n]*)", source, re.M):
        for entry in listed.strip("()").split(","):
            parts = entry.split()
            if len(parts) == 3 and parts[1] == "as":
                where[parts[2]] = (module, parts[0])
            elif len(parts) == 1:
                where[parts[0]] = (module, parts[0])
            elif parts:
                raise ImportError(f"{init}: {entry.strip()}")

    def found(attr: str) -> Any:
        if attr not in where:
            raise AttributeError(attr)
        module, name = where[attr]
        return getattr(importlib.import_module(module), name)

    return found


def _bare_country_holidays(country: str, *, subdiv: str | None, years: Iterable[int] | int) -> Any:
    import importlib
    import importlib.util
    import os
    import sys

    spec = importlib.util.find_spec("holidays")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("holidays")
    root = next(iter(spec.submodule_search_locations))
    _bare_package("holidays", root)
    made: list[str] = []
    try:
        if "holidays.countries" not in sys.modules:
            _bare_package("holidays.countries", os.path.join(root, "countries"))
        for sub in ("holidays.calendars", "holidays.groups"):  # every calendar's module: not needed
            if sub not in sys.modules:
                _bare_package(sub, os.path.join(root, sub.split(".")[1]), names=True)
                made.append(sub)
        return _entity(country, subdiv=subdiv, years=years)
    finally:  # a later `import holidays` (a library user's) runs the package's own __init__
        for name in ["holidays", *made]:
            del sys.modules[name]


def _entity(country: str, *, subdiv: str | None, years: Iterable[int] | int) -> Any:
    import importlib

    from holidays.registry import COUNTRIES

    found = [
        (module, names[0])
        for module, names in COUNTRIES.items()
        if country.upper() in (n.upper() for n in names[1:]) or country == names[0]
    ]
    if not found:
        raise NotImplementedError(f"Country {country} not available")
    module_name, class_name = found[0]
    entity = getattr(importlib.import_module(f"holidays.countries.{module_name}"), class_name)
    return entity(years=years, subdiv=subdiv)


def build_closed_on(
    *, country: str | None, subdivision: str | None, closures: Iterable[date]
) -> Callable[[date], bool]:
    """A ``closed_on`` predicate: public holidays of ``country``/``subdivision`` (through the
    ``holidays`` package, observed days included, loaded lazily one year at a time, and kept on disk by
    :mod:`~callback_sheets.core.holiday_cache` for the next command) plus the clinic's own closure
    dates. Raises ValueError for an unknown country or subdivision."""
    from callback_sheets.core.holiday_cache import shared

    closed = frozenset(d.date() if isinstance(d, datetime) else d for d in closures)
    if country is None:
        if subdivision is not None:
            raise ValueError(f"holiday subdivision {subdivision!r} needs a country")
        return closed.__contains__
    cache = shared()
    if not cache.known(country, subdivision):
        try:
            country_holidays(country, subdiv=subdivision, years=())
        except NotImplementedError as exc:  # the package's "not available" error
            raise ValueError(f"unknown holiday country or subdivision: {exc}") from exc
        cache.keep(country, subdivision, None, ())
    by_year: dict[int, frozenset[date]] = {}

    def closed_on(day: date) -> bool:
        if day in closed:
            return True
        year = by_year.get(day.year)
        if year is None:
            year = cache.year(country, subdivision, day.year)
            if year is None:
                year = frozenset(country_holidays(country, subdiv=subdivision, years=day.year).keys())
                cache.keep(country, subdivision, day.year, year)
            by_year[day.year] = year
        return day in year

    return closed_on
