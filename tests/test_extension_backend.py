"""Adding a backend is one entry in the backend registry: a made-up "shelf" backend (queues kept in memory,
on a named shelf) is registered, then `init`, `refresh`, `queue` and `doctor` run on it through the config,
as a [[queues]] entry too, and config errors name it like the real ones."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from callback_sheets import model
from callback_sheets.backends import registry
from callback_sheets.backends.base import Backend
from callback_sheets.backends.checks import Check, check_header
from callback_sheets.backends.memory import MemoryBackend
from callback_sheets.backends.registry import BackendKind, Setting
from callback_sheets.cli import main
from callback_sheets.config import Config, Location, load_config, parse_config
from callback_sheets.config.state_files import runner_files
from callback_sheets.config.values import a_text, no_unknown
from callback_sheets.errors import ConfigError
from tests.conftest import CLINIC_TOML, row

SHELVES: dict[str, MemoryBackend] = {}


# --- the new backend's own module: its settings, identity, state files, opener and doctor checks -----------
def _read_shelf(place: Location, setting: Setting) -> Location:
    if not setting.selected:
        return place
    table = setting.value
    if not isinstance(table, Mapping):
        raise ConfigError(f'{setting.key}: a table such as {{ name = "front desk" }}')
    no_unknown(table, {"name"}, setting.key)
    name = a_text(table.get("name"), f"{setting.key}.name", example='"front desk"')
    return replace(place, settings={**place.settings, "shelf": name})


def _shelf(config: Config | Location) -> str:
    return str(config.settings["shelf"])


def _open_shelf(config: Config) -> Backend:
    return SHELVES.setdefault(_shelf(config), MemoryBackend())


def _shelf_doctor(config: Config, now: datetime) -> list[Check]:
    if _shelf(config) not in SHELVES:
        return [Check("shelf", False, f"no shelf {_shelf(config)!r}: run `callback-sheets init`")]
    return [Check("shelf", True, _shelf(config)), *check_header(_open_shelf(config))]


SHELF = BackendKind(
    name="shelf",
    key="shelf",
    table=True,
    read=_read_shelf,
    identity=lambda place: ("shelf", _shelf(place)),
    same=("shelf.name", "shelf"),
    state=lambda config: (config.path.parent if config.path else Path.cwd(), f"shelf-{_shelf(config)}"),
    open=_open_shelf,
    doctor=_shelf_doctor,
)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one line a new backend adds to the registry."""
    monkeypatch.setitem(registry.BACKENDS, "shelf", SHELF)
    SHELVES.clear()


TOML = (
    CLINIC_TOML.replace('workbook = "queue.xlsx"', 'backend = "shelf"') + '\n[shelf]\nname = "front desk"\n'
)


def cli(folder: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(folder / "callback_sheets.toml"), *args])


def test_init_refresh_queue_and_doctor_run_on_a_registered_backend(tmp_path: Path) -> None:
    (tmp_path / "callback_sheets.toml").write_text(TOML, encoding="utf-8")
    config = load_config(tmp_path / "callback_sheets.toml")
    assert config.backend == "shelf" and config.settings == {"shelf": "front desk"}

    assert "FAIL  shelf: no shelf 'front desk'" in cli(tmp_path, "doctor").output
    result = cli(tmp_path, "init")
    assert result.exit_code == 0, result.output
    shelf = SHELVES["front desk"]
    assert model.ID in shelf.sheets[model.QUEUE_TAB][0]
    header = [str(h) for h in shelf.sheets[model.QUEUE_TAB][0]]
    new = row("2026-12-01 08:05", Caller="Emma Miller", Notes="chest pain since Sunday")
    shelf.sheets[model.QUEUE_TAB].append([new.get(h) for h in header])

    result = cli(tmp_path, "refresh", "--now", "2026-12-01T10:00")
    assert result.exit_code == 0, result.output
    [item] = shelf.records()
    assert item[model.ID] == "CB-00001" and item[model.OWNER] == "Nurse Patel"
    assert str(item["Escalation"]).startswith("ESCALATED to Nurse Patel")

    result = cli(tmp_path, "queue", "--now", "2026-12-01T10:00")
    assert result.exit_code == 0 and "CB-00001" in result.output, result.output

    result = cli(tmp_path, "doctor")
    assert result.exit_code == 0, result.output
    assert "ok    shelf: front desk" in result.output and "ok    headers: all" in result.output
    lock, state = runner_files(config)
    assert lock == tmp_path / ".callback-sheets-runner.shelf-front desk.lock" and state.suffix == ".json"


def test_a_queues_entry_takes_the_backend_whose_table_it_has(tmp_path: Path) -> None:
    toml = CLINIC_TOML + (
        '\n[[queues]]\nname = "North"\nshelf = { name = "north" }\n'
        '\n[[queues]]\nname = "South"\nworkbook = "south.xlsx"\n'
    )
    config = parse_config(tomllib.loads(toml), base=tmp_path)
    (north, north_config), (_, south_config) = config.queues()
    assert (
        north == "North" and north_config.backend == "shelf" and north_config.settings == {"shelf": "north"}
    )
    assert south_config.backend == "excel" and south_config.workbook == tmp_path / "south.xlsx"
    twice = toml + '\n[[queues]]\nname = "Again"\nshelf = { name = "north" }\n'
    with pytest.raises(ConfigError, match=r"^queues\[2\]\.shelf\.name: queue 'Again' names the same shelf"):
        parse_config(tomllib.loads(twice), base=tmp_path)


def test_unknown_backend_names_every_registered_one(tmp_path: Path) -> None:
    toml = CLINIC_TOML.replace('workbook = "queue.xlsx"', 'backend = "paper"')
    with pytest.raises(ConfigError) as caught:
        parse_config(tomllib.loads(toml), base=tmp_path)
    assert str(caught.value) == 'queue.backend: \'paper\' is not one of "excel", "google", "shelf"'
    with pytest.raises(ConfigError, match=r"^shelf\.size: unknown key \(known keys here: name\)"):
        parse_config(tomllib.loads(TOML + "size = 3\n"), base=tmp_path)
    with pytest.raises(ConfigError, match=r"^shelf: a table such as"):
        parse_config(tomllib.loads(TOML.replace('[shelf]\nname = "front desk"', "")), base=tmp_path)


@pytest.mark.parametrize(
    "module",
    [
        "callback_sheets.backends.registry",
        "callback_sheets.backends.google.doctor",
        "callback_sheets.config.types",
        "callback_sheets.config.state_files",
    ],
)
def test_the_registry_and_config_load_in_either_order(module: str) -> None:
    """The registry reads config's types and config reads the registry: either may be imported first."""
    import subprocess
    import sys

    code = f"import {module}\nfrom callback_sheets.config import load_config\nprint('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == "ok", out.stderr
