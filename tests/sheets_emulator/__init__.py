"""A local Google Sheets API v4 (and Drive v3 files) emulator for tests; see ``server.py``."""

from __future__ import annotations

from tests.sheets_emulator.errors import ApiError
from tests.sheets_emulator.faults import Fault, FaultPlan, LoggedRequest
from tests.sheets_emulator.server import SheetsEmulator
from tests.sheets_emulator.store import Cell, Sheet, Spreadsheet, Store

__all__ = [
    "ApiError",
    "Cell",
    "Fault",
    "FaultPlan",
    "LoggedRequest",
    "Sheet",
    "SheetsEmulator",
    "Spreadsheet",
    "Store",
]
