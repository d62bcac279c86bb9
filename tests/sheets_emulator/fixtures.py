"""pytest fixtures for the emulator; import them into a conftest:
``from tests.sheets_emulator.fixtures import sheets_emulator, gspread_emulator_client  # noqa: F401``.
"""

from __future__ import annotations

from collections.abc import Iterator

import gspread
import pytest

from tests.sheets_emulator.client import gspread_client
from tests.sheets_emulator.server import SheetsEmulator


@pytest.fixture
def sheets_emulator() -> Iterator[SheetsEmulator]:
    """A fresh emulator on a free 127.0.0.1 port, stopped after the test."""
    with SheetsEmulator() as emulator:
        yield emulator


@pytest.fixture
def gspread_emulator_client(sheets_emulator: SheetsEmulator) -> gspread.Client:
    """Stock gspread talking to ``sheets_emulator``."""
    return gspread_client(sheets_emulator.base_url)
