"""The archive's room in a Google spreadsheet at the clinic's pace: `doctor` warns when the spreadsheet
the archive goes to would reach Google's 10 million cells in fewer than 20 years, and says the fix."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.backends.google.cell_room import LIMIT, archive_room, pace, projection
from callback_sheets.backends.google.doctor import check_google
from callback_sheets.cells import SheetRow, Snapshot
from callback_sheets.config import Config
from tests.sheets_emulator import SheetsEmulator
from tests.test_doctor import _google
from tests.test_google_backend import google_backend

NOW = datetime(2026, 12, 1, 15, 0)
HEADER = tuple(model.LAYOUT_COLUMNS)


def _busy(per_year: int = 150 * 250) -> Snapshot:
    """A queue after archiving at ``per_year`` items a year (150 calls a business day: 37,500): the
    last 30 days of items, 1.66 History rows each."""
    count = per_year * 30 // 365
    rows = tuple(
        SheetRow(n + 2, {model.RECEIVED: NOW - timedelta(days=30 * (n + 0.5) / count)}) for n in range(count)
    )
    history = (model.HISTORY_COLUMNS, *[("CB",)] * int(len(rows) * 1.66))
    return Snapshot(header=HEADER, rows=rows, tabs={model.HISTORY_TAB: history})


class _Backend:
    def __init__(self, snapshot: Snapshot, archive_keys: dict[int, str] | None = None) -> None:
        self.key, self.archive_key, self.archive_keys = "queue", None, archive_keys or {}
        self.snapshot = snapshot

    def read(self, *, tabs: tuple[str, ...] = ()) -> Snapshot:
        return self.snapshot


def test_the_pace_is_the_last_30_days_and_a_row_with_its_history() -> None:
    items, cells = pace(_busy(), NOW)
    assert items == pytest.approx(150 * 250, rel=0.01)
    assert cells == pytest.approx(len(HEADER) + 1.66 * len(model.HISTORY_COLUMNS), rel=0.01)
    older = Snapshot(header=HEADER, rows=(SheetRow(2, {model.RECEIVED: NOW - timedelta(days=31)}),))
    assert pace(older, NOW)[0] == 0


def test_a_busy_clinic_archiving_into_one_spreadsheet_is_warned_with_the_fix() -> None:
    backend = _Backend(_busy())
    key, text, warning = projection(backend, {"queue": 216_000}, now=NOW)  # type: ignore[arg-type, misc]
    room = archive_room(_busy(), {"queue": 216_000}, queue_key="queue", archive_key=None,
                        archive_keys={}, now=NOW)  # fmt: skip
    assert room is not None and 6 < room.years < 9  # about 7.5 years at 150 calls a business day
    assert key == "queue" and warning
    assert "[archive] spreadsheets = { 2026 =" in text and "2027 =" in text
    assert f"about {room.years:.1f} years" in text
    # a year's own spreadsheet for this year and the next: nothing to project
    assert projection(_Backend(_busy(), {2026: "a", 2027: "b"}), {}, now=NOW) is None  # type: ignore[arg-type]
    # a small clinic: room for more than 20 years
    quiet = projection(_Backend(_busy(per_year=20 * 250)), {"queue": 216_000}, now=NOW)  # type: ignore[arg-type]
    assert quiet is not None and not quiet[2] and "room for 20+ years" in quiet[1]
    assert LIMIT == 10_000_000


@pytest.fixture
def emu() -> Iterator[SheetsEmulator]:
    with SheetsEmulator() as emulator:
        yield emulator


def test_doctor_says_the_room_on_the_spreadsheet_the_archive_goes_to(
    tmp_path: Path, config: Config, emu: SheetsEmulator
) -> None:
    key = emu.store.create("Clinic").spreadsheet_id
    service.init(config=config, backend=google_backend(emu, key))
    checks = check_google(_google(tmp_path, key), connect=lambda g: google_backend(emu, g.spreadsheet))
    cells = {c.name: c for c in checks}["cells"]
    assert cells.level == "ok" and "room for 20+ years of archive" in cells.detail, cells
