"""`callback-sheets doctor`: every check, on an Excel workbook and on a Google Sheet in the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.backends.google.doctor import check_google
from callback_sheets.cli import main
from callback_sheets.cli.doctor import run_checks
from callback_sheets.config import Config, GoogleConfig
from tests.conftest import CLINIC_TOML
from tests.sheets_emulator import SheetsEmulator
from tests.test_google_backend import ACCOUNT, google_backend


def doctor(folder: Path) -> Result:
    return CliRunner().invoke(main, ["--config", str(folder / "callback_sheets.toml"), "doctor"])


@pytest.fixture
def emu() -> Iterator[SheetsEmulator]:
    with SheetsEmulator() as emulator:
        yield emulator


def test_excel_all_good(config: Config, make_queue, clinic_dir: Path) -> None:  # type: ignore[no-untyped-def]
    make_queue([])
    result = doctor(clinic_dir)
    assert result.exit_code == 0, result.output
    assert "ok    workbook" in result.output and "ok    headers: all" in result.output


def test_excel_missing_workbook_says_run_init(clinic_dir: Path) -> None:
    result = doctor(clinic_dir)
    assert result.exit_code == 1
    assert "FAIL  workbook:" in result.output and "callback-sheets init" in result.output


def test_excel_open_elsewhere_and_missing_columns(config: Config, clinic_dir: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = model.QUEUE_TAB  # type: ignore[union-attr]
    wb.active.append(["Caller", "Phone"])  # type: ignore[union-attr]
    wb.save(config.workbook)
    (clinic_dir / f".~lock.{config.workbook.name}#").write_text("x")
    result = doctor(clinic_dir)
    assert result.exit_code == 1
    assert "FAIL  not open elsewhere: open in LibreOffice" in result.output
    assert "FAIL  headers: missing columns ID, Received" in result.output


def test_bad_config_is_one_fail_line(tmp_path: Path) -> None:
    (tmp_path / "callback_sheets.toml").write_text('[clinic]\ntimezone = "Mars/Olympus"\n')
    result = doctor(tmp_path)
    assert result.exit_code == 1 and "FAIL  config: clinic.timezone" in result.output


def test_google_credentials_missing(tmp_path: Path) -> None:
    toml = CLINIC_TOML.replace('workbook = "queue.xlsx"', 'backend = "google"')
    toml += '\n[google]\nspreadsheet = "1abc"\ncredentials = "missing.json"\n'
    (tmp_path / "callback_sheets.toml").write_text(toml)
    result = doctor(tmp_path)
    assert result.exit_code == 1
    assert "FAIL  credentials: google.credentials: no file at" in result.output


def _google(tmp_path: Path, key: str) -> GoogleConfig:
    creds = tmp_path / "sa.json"
    creds.write_text(json.dumps({"type": "service_account", "client_email": ACCOUNT}))
    creds.chmod(0o600)
    return GoogleConfig(spreadsheet=key, worksheet=model.QUEUE_TAB, credentials=creds)


def test_google_all_good_on_the_emulator(tmp_path: Path, config: Config, emu: SheetsEmulator) -> None:
    key = emu.store.create("Clinic").spreadsheet_id
    service.init(config=config, backend=google_backend(emu, key))
    checks = check_google(_google(tmp_path, key), connect=lambda g: google_backend(emu, g.spreadsheet))
    assert [c.ok for c in checks] == [True, True, True, True], checks
    assert ACCOUNT in checks[0].detail
    assert checks[-1].name == "cells" and checks[-1].level == "ok"
    cells = sum(s.row_count * s.col_count for s in emu.store.get(key).sheets)
    assert checks[-1].detail.startswith(f"{cells:,} of Google's 10,000,000 cells")


def test_google_near_the_cell_limit_warns_and_says_what_to_do(
    tmp_path: Path, config: Config, emu: SheetsEmulator
) -> None:
    """An archive spreadsheet past 80% of Google's 10 million cells: a warning naming
    [archive] spreadsheets; the queue's own spreadsheet is counted apart."""
    key = emu.store.create("Clinic").spreadsheet_id
    archive_key = emu.store.create("Clinic archive").spreadsheet_id
    service.init(config=config, backend=google_backend(emu, key))
    big = google_backend(emu, archive_key)
    grid = {"rowCount": 400_000, "columnCount": 21}  # 8.4 million cells, as eight years of archive
    big.http.batch_update(
        archive_key,
        {"requests": [{"addSheet": {"properties": {"title": "Archive 2030", "gridProperties": grid}}}]},
    )
    checks = check_google(
        _google(tmp_path, key), connect=lambda g: google_backend(emu, g.spreadsheet), archive_key=archive_key
    )
    by_name = {c.name: c for c in checks}
    assert by_name["cells"].level == "ok"
    archive = by_name[f"archive cells ({archive_key})"]
    assert archive.level == "warn" and "[archive] spreadsheets" in archive.detail, archive
    assert archive.detail.startswith("8,4")


def test_google_not_shared_says_share_it(tmp_path: Path, emu: SheetsEmulator) -> None:
    key = emu.store.create("Clinic").spreadsheet_id
    emu.fail_next(1, status=403)
    checks = check_google(_google(tmp_path, key), connect=lambda g: google_backend(emu, g.spreadsheet))
    assert not checks[-1].ok and f"share the sheet with {ACCOUNT}" in checks[-1].detail


def test_google_sheet_without_queue_tab_says_run_init(tmp_path: Path, emu: SheetsEmulator) -> None:
    key = emu.store.create("Clinic").spreadsheet_id
    checks = check_google(_google(tmp_path, key), connect=lambda g: google_backend(emu, g.spreadsheet))
    assert not checks[-1].ok and "run `callback-sheets init`" in checks[-1].detail


def test_run_checks_stops_at_an_unreadable_config(tmp_path: Path) -> None:
    [check] = run_checks(str(tmp_path / "nope.toml"))
    assert not check.ok and "no config at" in check.detail


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(main, ["doctor", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output
