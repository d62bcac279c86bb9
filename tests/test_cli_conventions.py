"""The CLI's conventions, checked on every command: help with an example, global options before or after
the command, one shared --json/--csv/--nl option on every listing command, no arguments = help."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from callback_sheets.cli import main
from tests.conftest import row

# Commands that list records: each has --json, --csv and --nl (the shared output option).
LISTING = {"queue", "validate", "review", "report"}
# Commands that answer with data a program may want: --json at least.
JSON_AT_LEAST = LISTING | {"refresh", "attempt", "doctor", "script", "import-calls"}
NOW = "2026-12-04T15:00"


def command(name: str) -> click.Command:
    """A command by name, loading its module if no test has yet (the CLI loads commands lazily)."""
    found = main.get_command(click.Context(main), name)
    assert found is not None, name
    return found


def options(name: str) -> dict[str, click.Option]:
    return {o: p for p in command(name).params if isinstance(p, click.Option) for o in p.opts}


def invoke(
    *args: str, cwd: Path | None = None, env: dict[str, str | None] | None = None
) -> click.testing.Result:
    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("conv") / "demo"
    result = invoke("demo", str(where), "--now", NOW)
    assert result.exit_code == 0, result.output
    return where


@pytest.mark.parametrize("name", main.list_commands(click.Context(main)))  # every command, loaded or not
def test_every_command_follows_the_conventions(name: str) -> None:
    result = invoke(name, "--help")
    assert result.exit_code == 0 and "Example" in result.output, f"{name}: no example in --help"
    opts = options(name)
    assert "--config" in opts, f"{name}: --config is not accepted after the command"
    assert "--config" in result.output
    if name in JSON_AT_LEAST:
        assert "--json" in opts, f"{name}: no --json"
    if name in LISTING:
        for flag in ("--json", "--csv", "--nl"):
            assert flag in opts and flag in result.output, f"{name}: no {flag}"
    if "--now" in opts:
        assert opts["--now"].metavar == "ISO"


def test_every_time_dependent_command_takes_now() -> None:
    for name in (
        "refresh",
        "validate",
        "queue",
        "attempt",
        "report",
        "review",
        "import-calls",
        "run",
        "demo",
    ):
        assert "--now" in options(name), name


@pytest.mark.parametrize("name", sorted(LISTING))
def test_output_flags_are_mutually_exclusive(name: str, demo_dir: Path) -> None:
    args = [name, "daily"] if name == "report" else [name]
    for pair in (("--json", "--csv"), ("--csv", "--nl"), ("--json", "--nl")):
        result = invoke(*args, *pair, cwd=demo_dir)
        assert result.exit_code == 2, (name, pair, result.output)
        assert "choose one of --json, --csv and --nl" in result.output


@pytest.mark.parametrize("name", sorted(LISTING))
def test_each_output_is_well_formed(name: str, demo_dir: Path) -> None:
    args = [name, "daily"] if name == "report" else [name]
    as_json = invoke(*args, "--json", "--now", NOW, cwd=demo_dir)
    json.loads(as_json.stdout)
    as_nl = invoke(*args, "--nl", "--now", NOW, cwd=demo_dir)
    lines = as_nl.stdout.splitlines()
    assert lines and all(isinstance(json.loads(line), dict) for line in lines), name
    as_csv = invoke(*args, "--csv", "--now", NOW, cwd=demo_dir)
    parsed = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert parsed and len(parsed) == len(lines), (name, len(parsed), len(lines))


def test_global_options_before_or_after_the_command(demo_dir: Path, tmp_path: Path) -> None:
    config = str(demo_dir / "callback_sheets.toml")
    before = invoke("--config", config, "--now", NOW, "queue", "--json", cwd=tmp_path)
    after = invoke("queue", "--json", "--config", config, "--now", NOW, cwd=tmp_path)
    mixed = invoke("--now", NOW, "queue", "--config", config, "--json", cwd=tmp_path)
    assert before.exit_code == after.exit_code == mixed.exit_code == 0, after.output
    assert before.stdout == after.stdout == mixed.stdout
    # after the command wins over before it (and over the environment)
    env = {"CALLBACK_SHEETS_CONFIG": str(tmp_path / "nope.toml")}
    wins = invoke(
        "--config", str(tmp_path / "nope.toml"), "queue", "--config", config, "--now", NOW, cwd=tmp_path
    )
    assert wins.exit_code == 0
    assert invoke("queue", "--config", config, "--now", NOW, cwd=tmp_path, env=env).exit_code == 0


def test_now_before_the_command_is_its_default(demo_dir: Path) -> None:
    early = invoke("--now", "2026-11-23T08:00", "queue", "--json", cwd=demo_dir)
    late = invoke("--now", NOW, "queue", "--json", cwd=demo_dir)
    assert json.loads(early.stdout) != json.loads(late.stdout)
    assert late.stdout == invoke("queue", "--json", "--now", NOW, cwd=demo_dir).stdout
    # the command's own --now wins
    assert (
        invoke("--now", "2026-11-23T08:00", "queue", "--json", "--now", NOW, cwd=demo_dir).stdout
        == late.stdout
    )


def test_now_before_a_command_without_it_is_refused(demo_dir: Path) -> None:
    result = invoke("--now", NOW, "init", cwd=demo_dir)
    assert result.exit_code == 2 and "--now does not apply to `init`" in result.output


def test_no_arguments_prints_help_and_exits_0() -> None:
    result = invoke()
    assert result.exit_code == 0
    assert "Usage:" in result.output and "Commands:" in result.output


def test_attempt_and_doctor_have_json(demo_dir: Path) -> None:
    ids = [r["id"] for r in json.loads(invoke("queue", "--json", "--now", NOW, cwd=demo_dir).stdout)]
    result = invoke(
        "attempt", ids[0], "--outcome", "No answer", "--dry-run", "--json", "--now", NOW, cwd=demo_dir
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["id"] == ids[0] and data["dry_run"] is True and data["attempt"] >= 1
    assert any(c["column"] == "Attempts" for c in data["changes"])
    doctor = invoke("doctor", "--json", cwd=demo_dir)
    report = json.loads(doctor.stdout)
    assert doctor.exit_code == 0 and report["ok"] is True
    assert {c["level"] for c in report["checks"]} <= {"ok", "warn"}
    assert [c["name"] for c in report["checks"]][:2] == ["config", "workbook"]


def test_queue_shows_first_name_and_phone_as_typed(demo_dir: Path) -> None:
    records = json.loads(invoke("queue", "--json", "--now", NOW, cwd=demo_dir).stdout)
    assert all({"first_name", "phone"} <= set(r) for r in records)
    assert any(r["first_name"] for r in records) and all(r["phone"] for r in records)
    first = records[0]
    table = invoke("queue", "--now", NOW, cwd=demo_dir, env={"COLUMNS": "200"}).stdout
    header = table.splitlines()[0].split()
    assert header[:5] == ["ID", "Due", "First", "name", "Phone"]
    assert first["phone"] in table and first["first_name"] in table
    rows = list(csv.DictReader(io.StringIO(invoke("queue", "--csv", "--now", NOW, cwd=demo_dir).stdout)))
    assert rows[0]["First name"] == first["first_name"] and rows[0]["Phone"] == first["phone"]
    # the CSV's columns are added to, never moved
    assert list(rows[0])[:8] == ["ID", "Due", "Owner", "Reason", "Urgency", "Attempts", "Flag", "Next step"]


def test_next_step_wraps_to_the_terminal_width(demo_dir: Path) -> None:
    records = json.loads(invoke("queue", "--json", "--now", NOW, cwd=demo_dir).stdout)
    longest = max(records, key=lambda r: len(r["next_step"]))
    assert len(longest["next_step"]) > 48
    narrow = invoke("queue", "--now", NOW, cwd=demo_dir, env={"COLUMNS": "150"}).stdout
    wide = invoke("queue", "--now", NOW, cwd=demo_dir, env={"COLUMNS": "400"}).stdout
    assert max(len(line) for line in narrow.splitlines()) <= 150
    assert len(narrow.splitlines()) > len(wide.splitlines())  # wrapped onto more lines, not cut
    words = " ".join(narrow.split())
    assert " ".join(longest["next_step"].split()[-3:]) in words or longest["next_step"].split()[-1] in words
    assert longest["next_step"] in wide  # whole on one line when there is room
    # not a terminal, no $COLUMNS (unset: pytest-xdist's workers set it to 80): whole lines
    piped = invoke("queue", "--now", NOW, cwd=demo_dir, env={"COLUMNS": None}).stdout
    assert longest["next_step"] in piped


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell for the pipe")
def test_queue_into_head_exits_quietly(demo_dir: Path) -> None:
    """`queue | head -1`: the closed pipe ends the command with exit 0 and nothing on stderr."""
    script = (
        f'"{sys.executable}" -m callback_sheets queue --now {NOW} --nl | head -c 1 >/dev/null; '
        'echo "status=${PIPESTATUS[0]}" >&2'
    )
    big = ["demo", str(demo_dir.parent / "big"), "--rows", "3000", "--now", NOW]
    assert invoke(*big).exit_code == 0
    proc = subprocess.run(
        ["bash", "-c", script], cwd=demo_dir.parent / "big", capture_output=True, text=True, timeout=120
    )
    assert proc.stderr.strip() == "status=0", proc.stderr


def test_shell_completion_as_documented() -> None:
    """The README's recipe: click's completion, under the program's name (also via python -m)."""
    env = {**os.environ, "_CALLBACK_SHEETS_COMPLETE": "bash_source"}
    source = subprocess.run(
        [sys.executable, "-m", "callback_sheets"], env=env, capture_output=True, text=True
    )
    assert source.returncode == 0 and "_callback_sheets_completion" in source.stdout
    env = {
        **os.environ,
        "_CALLBACK_SHEETS_COMPLETE": "bash_complete",
        "COMP_WORDS": "callback-sheets schedule-template ",
        "COMP_CWORD": "2",
    }
    done = subprocess.run([sys.executable, "-m", "callback_sheets"], env=env, capture_output=True, text=True)
    assert done.stdout.split() == [
        f"plain,{k}" for k in ("cron", "systemd", "systemd-timer", "systemd-runner", "windows")
    ]


def test_queue_phone_typed_as_a_number_shows_as_typed(
    make_queue: Callable[[Sequence[dict[str, Any]]], Any], config: Any
) -> None:
    make_queue(
        [
            row("2026-12-01 09:10", Caller="Lopez, Maria", Phone=3125550142.0),
            row("2026-12-01 09:20", Caller="WIRELESS CALLER", Phone="(312) 555-0143 ext. 7"),
        ]
    )
    assert config.path is not None
    result = invoke("--config", str(config.path), "queue", "--json", "--now", "2026-12-01T10:00")
    records = {r["phone"]: r["first_name"] for r in json.loads(result.stdout)}
    assert records == {"3125550142": "Maria", "(312) 555-0143 ext. 7": ""}
