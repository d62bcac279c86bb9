"""The holiday cache: the configured country's public holidays kept on disk between commands, the same
days as the holidays package gives, and never trusted when it is stale, corrupt or cannot be written."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from callback_sheets.config import parse_config
from callback_sheets.core import holiday_cache
from callback_sheets.core.closed_days import build_closed_on, country_holidays
from callback_sheets.errors import ConfigError


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cold cache folder of its own; returns the cache file."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    new_process(monkeypatch)
    return tmp_path / "xdg" / "callback-sheets" / "holidays.txt"


def new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget what this process read: the next use reads the file, as the next command would."""
    monkeypatch.setattr(holiday_cache, "_shared", {})


def closed_days(country: str, subdivision: str | None, years: range) -> set[date]:
    closed_on = build_closed_on(country=country, subdivision=subdivision, closures=())
    day, end = date(years.start, 1, 1), date(years.stop, 1, 1)
    found = set()
    while day < end:
        if closed_on(day):
            found.add(day)
        day += timedelta(days=1)
    return found


def package_days(country: str, subdivision: str | None, years: range) -> set[date]:
    return {d for y in years for d in country_holidays(country, subdiv=subdivision, years=y) if d.year == y}


def test_the_cached_days_are_the_packages(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    years = range(2025, 2029)
    cold = closed_days("US", "IL", years)
    assert cold == package_days("US", "IL", years) and date(2026, 11, 26) in cold
    assert cache.is_file() and "US|IL|2026 " in cache.read_text()
    new_process(monkeypatch)

    monkeypatch.setattr("callback_sheets.core.closed_days.country_holidays", _refuse)
    assert closed_days("US", "IL", years) == cold


def test_config_load_checks_the_codes_from_the_cache(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = {"holidays": {"country": "US", "subdivision": "IL"}}
    parse_config(raw, base=tmp_path)  # cold: the package says the codes are good, and the cache keeps it
    assert "US|IL|" in cache.read_text().splitlines()
    new_process(monkeypatch)
    monkeypatch.setattr("callback_sheets.core.closed_days.country_holidays", _refuse)
    parse_config(raw, base=tmp_path)  # warm: the package is not asked


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("the holidays package was asked although the cache had the answer")


@pytest.mark.parametrize(
    ("holidays", "key"),
    [
        ({"country": "XX"}, "holidays.country"),
        ({"country": "US", "subdivision": "ZZ"}, "holidays.subdivision"),
    ],
)
def test_a_warm_cache_lets_no_wrong_code_through(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, holidays: dict[str, str], key: str
) -> None:
    parse_config({"holidays": {"country": "US"}}, base=tmp_path)
    closed_days("US", None, range(2026, 2027))
    new_process(monkeypatch)
    with pytest.raises(ConfigError, match=key):
        parse_config({"holidays": holidays}, base=tmp_path)
    with pytest.raises(ValueError):
        build_closed_on(country=holidays["country"], subdivision=holidays.get("subdivision"), closures=())


@pytest.mark.parametrize(
    "content",
    [
        "not a cache at all\n\x00\x01",
        "{stamp}\nUS||2026 2026-13-45\n",
        "{stamp}\nUS|2026 2026-01-01\n",
        "",
    ],
)
def test_a_corrupt_cache_is_ignored_and_written_anew(
    cache: Path, monkeypatch: pytest.MonkeyPatch, content: str
) -> None:
    cache.parent.mkdir(parents=True)
    cache.write_text(content.format(stamp=f"callback-sheets holidays 1 {holiday_cache.package_stamp()}"))
    years = range(2026, 2027)
    assert closed_days("US", None, years) == package_days("US", None, years)
    new_process(monkeypatch)
    assert holiday_cache.shared().year("US", None, 2026) == frozenset(country_holidays("US", years=2026))


def test_a_cache_of_another_holidays_package_is_not_trusted(cache: Path) -> None:
    cache.parent.mkdir(parents=True)
    bogus = date(2026, 3, 3)  # a Tuesday nobody closes for
    cache.write_text(f"callback-sheets holidays 1 /elsewhere/holidays 1:2 3:4\nUS||\nUS||2026 {bogus}\n")
    closed_on = build_closed_on(country="US", subdivision=None, closures=())
    assert not closed_on(bogus) and closed_on(date(2026, 12, 25))
    assert str(holiday_cache.package_stamp()) in cache.read_text().splitlines()[0]


def test_an_unwritable_cache_folder_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # the cache folder cannot be made under a file
    new_process(monkeypatch)
    years = range(2026, 2027)
    assert closed_days("US", None, years) == package_days("US", None, years)
    assert blocker.read_text() == ""


@pytest.fixture
def read_only_folder(cache: Path) -> Iterator[Path]:
    """The cache's folder made read-only: by its mode for a user, by a read-only tmpfs mounted on it for
    root (whom modes do not stop; a read-only mount stops root too)."""
    folder = cache.parent
    folder.mkdir(parents=True)
    if os.name == "nt":
        pytest.skip("folder modes do not make a folder read-only on Windows")
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield folder
        finally:
            folder.chmod(0o700)
        return
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(
            f"root, and mounting a read-only tmpfs is not permitted here: {done.stderr.decode().strip()}"
        )
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_cache_folder_only_costs_time(cache: Path, read_only_folder: Path) -> None:
    with pytest.raises(OSError):  # the folder really is read-only, for this user
        (read_only_folder / "probe").write_text("")
    years = range(2026, 2027)
    assert closed_days("US", None, years) == package_days("US", None, years)
    assert not cache.exists()


def test_no_home_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nowhere to keep a cache (a relative XDG_CACHE_HOME is ignored, as the spec says; no home): the
    package is asked each time and nothing is written in the current folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)  # as with no HOME and no pwd entry
    new_process(monkeypatch)
    assert holiday_cache.cache_dir() is None
    years = range(2026, 2027)
    assert closed_days("US", None, years) == package_days("US", None, years)
    assert list(tmp_path.iterdir()) == []
