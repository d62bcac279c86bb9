"""The CLI through click's CliRunner, on real files: help, errors as one line, data on stdout."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
import openpyxl
import pytest
from click.testing import CliRunner

from callback_sheets import model
from callback_sheets.cli import load_all_commands, main
from tests.conftest import row


def run(*args: str, cwd: Path | None = None, env: dict | None = None) -> click.testing.Result:
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)
    import os

    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)
    finally:
        os.chdir(old)


def all_commands() -> list[str]:
    return sorted(load_all_commands())


@pytest.mark.parametrize("name", all_commands())
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = run(name, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output, f"{name} --help shows no example"
    first = " ".join(main.commands[name].help.strip().split("\n\n")[0].split())
    assert first[0].isupper() and first.endswith("."), "help starts with one imperative sentence"
    assert not first.split()[0].endswith("s") and first.split()[0] not in ("The", "A", "An"), (
        "imperative verb first"
    )


def test_core_commands_exist() -> None:
    assert {"init", "refresh", "validate", "queue", "attempt", "demo"} <= set(load_all_commands())


def test_help_table_matches_each_commands_own_help() -> None:
    from callback_sheets.cli import COMMANDS

    commands = load_all_commands()
    assert set(COMMANDS) == set(commands)
    for name, cmd in commands.items():
        first = " ".join((cmd.help or "").strip().split("\n\n")[0].split())
        assert cmd.callback is not None
        module, attribute = cmd.callback.__module__.rsplit(".", 1)[1], cmd.callback.__name__
        assert COMMANDS[name] == (module, attribute, first), name


def test_a_command_module_that_fails_to_import_is_an_error_not_a_missing_command(monkeypatch) -> None:
    import click

    from callback_sheets import cli

    monkeypatch.setitem(cli.COMMANDS, "broken", ("no_such_module", "broken", "Its module is gone"))
    with pytest.raises(ModuleNotFoundError):
        cli.main.get_command(click.Context(cli.main), "broken")


def test_cli_import_and_help_load_no_heavy_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from click.testing import CliRunner; import callback_sheets.cli as c; "
        "r = CliRunner().invoke(c.main, ['--help']); assert r.exit_code == 0, r.output; "
        "assert 'archive' in r.output and 'import-calls' in r.output; "
        "heavy = [m for m in ('openpyxl', 'gspread', 'google.auth', 'holidays', 'python_calamine', "
        "'callback_sheets.app.service', 'callback_sheets.config', 'phonenumbers') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_missing_config_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run("--config", str(tmp_path / "nope.toml"), "refresh")
    assert result.exit_code == 2
    assert (
        result.output.count("\n") == 1
        and "no config at" in result.output
        and "Traceback" not in result.output
    )


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[clinic]\ntimezone = "Mars/Olympus"\n', "clinic.timezone"),
        ('[clinic]\ncolour = "blue"\n', "clinic.colour"),
        ('[hours]\nmonday = [{ name = "m", start = "8am", end = "12:00" }]\n', "hours.monday[0].start"),
        ('[reasons.Other]\ncadence = "weekly"\n', "reasons.Other.cadence"),
        ('[reasons."Pet food"]\nurgency = "Routine"\n', "Pet food"),
        ('[queue]\nbackend = "access"\n', "queue.backend"),
        ('[holidays]\ncountry = "US"\nsubdivision = "ZZ"\n', "holidays.subdivision"),
        ('[holidays]\ncountry = "XX"\n', "holidays.country"),
        ("[clinic\n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, toml: str, key: str) -> None:
    path = tmp_path / "callback_sheets.toml"
    path.write_text(toml)
    result = run("--config", str(path), "validate")
    assert result.exit_code == 2
    assert key in result.output and result.output.startswith("error: ") and result.output.count("\n") == 1


def test_config_from_environment_variable(clinic_dir: Path) -> None:
    env = {"CALLBACK_SHEETS_CONFIG": str(clinic_dir / "callback_sheets.toml")}
    assert run("init", env=env).exit_code == 0
    assert (clinic_dir / "queue.xlsx").exists()


def test_missing_workbook_says_run_init(clinic_dir: Path) -> None:
    result = run("refresh", cwd=clinic_dir)
    assert result.exit_code == 1 and "run `callback-sheets init`" in result.output


def test_bad_now_is_a_usage_error(clinic_dir: Path) -> None:
    run("init", cwd=clinic_dir)
    result = run("refresh", "--now", "tuesday", cwd=clinic_dir)
    assert result.exit_code == 2 and "--now" in result.output


def test_refresh_json_dry_run_and_validate(clinic_dir: Path, config, make_queue) -> None:  # type: ignore[no-untyped-def]
    make_queue([row("2026-12-01 09:10"), row("2026-12-01 09:20", Phone="12")])
    before = config.workbook.read_bytes()
    result = run("refresh", "--dry-run", "--json", "--now", "2026-12-01T10:00", cwd=clinic_dir)
    data = json.loads(result.stdout)
    assert data["dry_run"] and data["summary"]["new_ids"] == 2
    assert {c["column"] for c in data["changes"]} >= {"ID", "Next attempt"}
    assert config.workbook.read_bytes() == before
    result = run("refresh", "--json", "--now", "2026-12-01T10:00", cwd=clinic_dir)
    assert json.loads(result.stdout)["summary"]["problems"] == 1
    assert "refreshed: 2 rows" in result.stderr
    result = run("validate", "--json", "--now", "2026-12-01T10:00", cwd=clinic_dir)
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert problems[0]["id"] == "CB-00002" and "wrong number of digits" in problems[0]["problems"][0]


def test_queue_and_attempt(clinic_dir: Path, config, make_queue) -> None:  # type: ignore[no-untyped-def]
    make_queue([row("2026-12-01 09:10"), row("2026-12-01 08:00", Reason="Clinical concern")])
    run("refresh", "--now", "2026-12-01T10:00", cwd=clinic_dir)
    result = run("queue", "--json", "--now", "2026-12-01T10:00", cwd=clinic_dir)
    items = json.loads(result.stdout)
    assert [i["id"] for i in items] == ["CB-00002", "CB-00001"]  # the escalation first
    assert items[0]["flag"] == "ESCALATED"
    lines = run("queue", "--csv", "--now", "2026-12-01T10:00", cwd=clinic_dir).stdout.splitlines()
    assert lines[0].startswith("ID,Due,Owner") and lines[1].startswith("CB-00002,2026-12-01T08:15")
    result = run(
        "attempt", "CB-00001", "--outcome", "Voicemail left", "--now", "2026-12-01T10:30", cwd=clinic_dir
    )
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(config.workbook)
    ws = wb[model.QUEUE_TAB]
    header = [c.value for c in ws[1]]
    values = dict(zip(header, (c.value for c in ws[2]), strict=False))
    assert values["Attempts"] == 1 and values["Last outcome"] == "Voicemail left"
    assert values["Next attempt"] == datetime(2026, 12, 1, 17, 0)
    result = run("attempt", "CB-09999", "--outcome", "Reached", cwd=clinic_dir)
    assert result.exit_code == 1 and "no queue item with ID" in result.output
    result = run("attempt", "CB-00001", "--outcome", "Shouted", cwd=clinic_dir)
    assert result.exit_code == 2 and "--outcome" in result.output


def test_demo_makes_a_realistic_fortnight(tmp_path: Path) -> None:
    result = run("demo", str(tmp_path / "demo"), "--now", "2026-12-04T15:00")
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(tmp_path / "demo" / "callback_queue.xlsx")
    ws = wb[model.QUEUE_TAB]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, (c.value for c in r), strict=False)) for r in ws.iter_rows(min_row=2)]
    assert 190 <= len(rows) <= 210
    assert {r["Reason"] for r in rows} >= set(model.REASONS)
    assert {"English", "Spanish"} <= {r["Language"] for r in rows}
    assert any(r["Problems"] for r in rows) and all(r["ID"] for r in rows)
    assert "ID" in result.stdout and "Next step" in result.stdout


def test_holidays_loads_the_configured_country_only(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    code = (
        "import sys, datetime; from callback_sheets.core.closed_days import build_closed_on; "
        "closed = build_closed_on(country='US', subdivision=None, closures=()); "
        "assert closed(datetime.date(2026, 11, 26)) and not closed(datetime.date(2026, 11, 25)); "
        "print(sorted(m for m in sys.modules if m.startswith('holidays.countries.')))"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}  # a cold holiday cache: the package is asked
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "['holidays.countries.united_states']", out.stdout + out.stderr
