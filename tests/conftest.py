"""Shared fixtures: a clinic config and real workbooks in temp folders."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.cells import Changeset
from callback_sheets.config import Config, load_config

# The holiday cache (core/holiday_cache.py) of the tests' own commands, subprocesses included: never the
# user's, and a test that needs a cold one sets its own.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="callback-sheets-test-cache-")

EXAMPLE = Path(__file__).resolve().parent.parent / "callback_sheets" / "data" / "callback_sheets.example.toml"

CLINIC_TOML = """
[clinic]
name = "Test Clinic"
timezone = "America/Chicago"
phone_region = "US"
callback_number = "(312) 555-0100"

[holidays]
country = "US"

[queue]
workbook = "queue.xlsx"

[escalation]
owner = "Nurse Patel"

[[owners]]
name = "Maria"
languages = ["English", "Spanish"]

[[owners]]
name = "James"
languages = ["English"]

[[owners]]
name = "Nurse Patel"
languages = ["English"]
reasons = ["Clinical concern"]
"""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which("soffice"):
        return
    skip = pytest.mark.skip(reason="LibreOffice (soffice) is not installed; .ci/run installs it")
    for item in items:
        if "libreoffice" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def clinic_dir(tmp_path: Path) -> Path:
    (tmp_path / "callback_sheets.toml").write_text(CLINIC_TOML, encoding="utf-8")
    return tmp_path


@pytest.fixture
def config(clinic_dir: Path) -> Config:
    return load_config(clinic_dir / "callback_sheets.toml")


@pytest.fixture
def make_queue(config: Config) -> Callable[[Sequence[dict[str, Any]]], ExcelBackend]:
    """A real workbook made by `init`, holding the given rows (dicts by column name)."""

    def make(rows: Sequence[dict[str, Any]]) -> ExcelBackend:
        backend = ExcelBackend(config.workbook)
        service.init(config=config, backend=backend)
        if rows:
            with backend.session():
                backend.write(backend.read(), Changeset(new_rows=[dict(r) for r in rows]))
        return backend

    return make


def row(received: str | datetime, **fields: Any) -> dict[str, Any]:
    """A queue row as staff type it; `received` as 'YYYY-MM-DD HH:MM' clinic time."""
    values: dict[str, Any] = {
        model.RECEIVED: datetime.fromisoformat(received) if isinstance(received, str) else received,
        model.CALLER: "Pat Example",
        model.PHONE: "(312) 555-0142",
        model.REASON: "New appointment",
        model.LANGUAGE: "English",
        model.PATIENT_TYPE: "New",
    }
    values.update({k.replace("_", " "): v for k, v in fields.items()})  # Last_attempt= → "Last attempt"
    return values


# The local Sheets API v4 emulator, for the Google backend's tests.
from tests.sheets_emulator.fixtures import gspread_emulator_client, sheets_emulator  # noqa: E402, F401
