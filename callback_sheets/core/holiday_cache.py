"""The configured country's public holidays, kept on disk between commands.

Building them takes the ``holidays`` package about 20 ms of each command (its base classes, the
country's module, ``dateutil``), for a dozen dates a year that never change. A command that finds them
here does not import the package at all: one small text file, ``holidays.txt`` in
``$XDG_CACHE_HOME/callback-sheets`` (``~/.cache/callback-sheets``; ``%LOCALAPPDATA%`` on Windows). It holds
the (country, subdivision) pairs the package accepted and, for each, the closed days of the years asked
for, as the package listed them. Its first line names the installed package (its folder and the size and
modification time of its ``__init__`` and country registry, which an upgrade or a reinstall changes): a
file made for another copy of the package, or one that cannot be read, is ignored and written anew. A
cache folder that cannot be made or written only costs the full time.

Only what the package answered is kept: an unknown country or subdivision is asked of the package each
time (and is a config error at load, as before).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from datetime import date

_FORMAT = "callback-sheets holidays 1"
_FILE = "holidays.txt"


def cache_dir() -> str | None:
    """This user's cache folder for callback-sheets (None when there is no home to put it in)."""
    base = os.environ.get("XDG_CACHE_HOME") or (os.environ.get("LOCALAPPDATA") if os.name == "nt" else None)
    if not base or not os.path.isabs(base):  # the XDG spec: a relative path is ignored
        home = os.path.expanduser("~")
        if home.startswith("~"):  # no HOME and no password database entry: no cache, only the full time
            return None
        base = os.path.join(home, ".cache")
    return os.path.join(base, "callback-sheets")


def package_stamp() -> str | None:
    """What identifies the installed ``holidays`` package (None when it cannot be found)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("holidays")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = next(iter(spec.submodule_search_locations))
    parts = [root]
    for name in ("__init__.py", "registry.py"):
        try:
            info = os.stat(os.path.join(root, name))
        except OSError:
            return None
        parts.append(f"{info.st_size}:{info.st_mtime_ns}")
    return " ".join(parts)


def _key(country: str, subdivision: str | None, year: int | None) -> str | None:
    """The line key; None for codes the file cannot hold (they are never cached)."""
    sub = subdivision or ""
    if any(c in f"{country}{sub}" for c in "| \n\r\t"):
        return None
    return f"{country}|{sub}|{'' if year is None else year}"


class HolidayCache:
    """The cache file's entries: ``known`` pairs and each year's closed days, read once."""

    def __init__(self, path: str | None, stamp: str | None) -> None:
        self.path, self.stamp = path, stamp
        self.entries: dict[str, frozenset[date]] = self._read() if path and stamp else {}

    def _read(self) -> dict[str, frozenset[date]]:
        assert self.path is not None
        try:
            with open(self.path, encoding="utf-8") as fh:
                lines = fh.read().splitlines()
            if not lines or lines[0] != f"{_FORMAT} {self.stamp}":
                return {}
            entries: dict[str, frozenset[date]] = {}
            for line in lines[1:]:
                key, *days = line.split(" ")
                if key.count("|") != 2:
                    return {}
                entries[key] = frozenset(date.fromisoformat(d) for d in days)
            return entries
        except (OSError, ValueError):  # missing, unreadable or corrupt: as if empty
            return {}

    def known(self, country: str, subdivision: str | None) -> bool:
        """Whether the package accepted this country and subdivision (on an earlier run)."""
        key = _key(country, subdivision, None)
        return key is not None and key in self.entries

    def year(self, country: str, subdivision: str | None, year: int) -> frozenset[date] | None:
        """The closed days of ``year`` as the package listed them, or None when not kept."""
        key = _key(country, subdivision, year)
        return None if key is None else self.entries.get(key)

    def keep(self, country: str, subdivision: str | None, year: int | None, days: Iterable[date]) -> None:
        """Remember an answer of the package (``year`` None: the pair is valid) and write the file."""
        key = _key(country, subdivision, year)
        if key is None or self.path is None or self.stamp is None:
            return
        self.entries[key] = frozenset(days)
        self.entries.setdefault(_key(country, subdivision, None) or key, frozenset())
        self._write()

    def _write(self) -> None:
        assert self.path is not None
        lines = [f"{_FORMAT} {self.stamp}"]
        lines += [" ".join([key, *sorted(d.isoformat() for d in days)]) for key, days in self.entries.items()]
        temp = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)  # this user's only
            with open(temp, "w", encoding="utf-8") as fh:
                fh.write("\n".join(lines) + "\n")
            os.replace(temp, self.path)  # whole or not at all: a reader never sees half a file
        except OSError:  # a read-only or missing cache folder: next time costs the full time again
            with contextlib.suppress(OSError):
                os.unlink(temp)


_shared: dict[tuple[str | None, str | None], HolidayCache] = {}


def shared() -> HolidayCache:
    """The cache of this process (the file read once per cache folder and package)."""
    folder = cache_dir()
    path, stamp = (os.path.join(folder, _FILE) if folder else None), package_stamp()
    found = _shared.get((path, stamp))
    if found is None:
        found = _shared[(path, stamp)] = HolidayCache(path, stamp)
    return found
