"""`archive` on Google (the local Sheets emulator): tabs ``Archive YYYY``, rows deleted by ID in one
batchUpdate after a re-read (a staff insert meanwhile moves nothing wrong), reports unchanged; the lean
read's bytes per row; tabs as wide as their columns."""

from __future__ import annotations

import json
from datetime import datetime

from callback_sheets import model
from callback_sheets.app import archive, reports, service
from callback_sheets.config import Config
from tests.conftest import row
from tests.sheets_emulator import SheetsEmulator
from tests.test_google_backend import emu as emu_fixture
from tests.test_google_backend import google_queue, records, staff

emu = emu_fixture  # the emulator fixture, shared

OLD = datetime.fromisoformat("2024-11-26T16:00-06:00")
NOW = datetime.fromisoformat("2026-12-01T15:00-06:00")


def _old_queue(emu: SheetsEmulator, config: Config):  # type: ignore[no-untyped-def]
    rows = [
        row(
            f"2024-11-26 {9 + i % 6:02d}:10",
            Caller=f"Caller {i}",
            Status="Resolved" if i % 3 else "In progress",
            Attempts=1,
            Last_attempt=datetime(2024, 11, 26, 15, 0),
            Last_outcome="Reached",
        )
        for i in range(9)
    ]
    backend = google_queue(emu, config, rows)
    service.refresh(config=config, backend=backend, now=OLD)  # IDs, Closed at, History
    return backend


def test_google_archive_moves_rows_to_a_year_tab_by_id_in_one_batch(
    emu: SheetsEmulator, config: Config
) -> None:
    backend = _old_queue(emu, config)
    before = reports.report(config=config, backend=backend, period="weekly", now=NOW, on=OLD.date())
    ids = {r[model.ID] for r in records(backend)}
    # staff insert a row at the top just before the re-read of the ID column: positions move, IDs do not
    sheet = staff(
        emu,
        backend,
        {
            "insertDimension": {
                "range": {"sheetId": "SHEET", "dimension": "ROWS", "startIndex": 1, "endIndex": 2}
            }
        },
    )
    emu.reset_log()
    calls: list[str] = []
    original = backend.http.values_batch_get

    def spy(key, ranges, params=None):  # type: ignore[no-untyped-def]
        if any(("!" in r and r.endswith(":A")) or r.rstrip().endswith("1:A") for r in ranges) and not calls:
            calls.append("re-read")
            sheet()
        return original(key, ranges, params)

    backend.http.values_batch_get = spy  # type: ignore[method-assign]
    outcome = archive.archive(config=config, backend=backend, now=NOW)
    backend.http.values_batch_get = original  # type: ignore[method-assign]
    assert calls == ["re-read"]
    assert len(outcome.moved) == 6 and outcome.by_year == {2024: 6}
    left = {r[model.ID] for r in records(backend) if r.get(model.ID)}
    kept = {r[model.ID] for r in records(backend) if r.get(model.STATUS) == "In progress"}
    assert left == kept and len(left) == 3
    book = emu.store.get(backend.key)
    titles = [s.title for s in book.sheets]
    assert "Archive 2024" in titles and "Archive 2024 History" in titles
    store = backend.archive_for(2024, ())
    archived = store.read(tabs=(model.HISTORY_TAB,))
    assert {str(r.get(model.ID)) for r in archived.rows} | left == ids
    assert {str(r[0]) for r in archived.tabs[model.HISTORY_TAB][1:]} == set(outcome.moved)
    deletes = [
        r
        for r in emu.requests
        if r.path.endswith(":batchUpdate") and r.body and "deleteDimension" in json.dumps(r.body)
    ]
    assert len(deletes) == 1
    after = reports.report(config=config, backend=backend, period="weekly", now=NOW, on=OLD.date())
    assert after.as_dict() == before.as_dict()
    assert archive.archive(config=config, backend=backend, now=NOW).moved == []


def test_lean_read_is_values_only_and_tabs_are_as_wide_as_their_columns(
    emu: SheetsEmulator, config: Config
) -> None:
    backend = _old_queue(emu, config)
    emu.reset_log()
    service.refresh(config=config, backend=backend, now=OLD)
    first = emu.requests[0]
    assert first.path.endswith("values:batchGet") and "UNFORMATTED_VALUE" in json.dumps(first.query)
    book = emu.store.get(backend.key)
    queue = book.sheet_by_title(model.QUEUE_TAB).properties["gridProperties"]
    history = book.sheet_by_title(model.HISTORY_TAB).properties["gridProperties"]
    assert queue["columnCount"] == len(model.REQUIRED_COLUMNS) and queue["rowCount"] < 1000
    assert history["columnCount"] == len(model.HISTORY_COLUMNS) and history["rowCount"] <= 100


def test_a_google_archive_stopped_before_the_delete_is_finished_by_the_next_run(
    emu: SheetsEmulator, config: Config
) -> None:
    import pytest

    from callback_sheets.errors import BackendError

    backend = _old_queue(emu, config)
    everything = {r[model.ID] for r in records(backend)}
    backend.archive_for(2024, backend.read().header)  # the year's tabs exist: the next batchUpdate deletes
    emu.fail_next(count=4, status=503, method="POST", path=r"/v4/spreadsheets/[^/:]+:batchUpdate$")
    with pytest.raises(BackendError):
        archive.archive(config=config, backend=backend, now=NOW)
    emu.clear_faults()
    store = backend.archive_for(2024, ())
    assert len(store.read().rows) == 6 and len(records(backend)) == 9  # in both
    again = archive.archive(config=config, backend=backend, now=NOW)
    assert again.already == 6 and len(again.moved) == 6
    archived = [str(r.get(model.ID)) for r in store.read().rows]
    left = {r[model.ID] for r in records(backend)}
    assert len(archived) == len(set(archived)) == 6 and set(archived) | left == everything
    assert not set(archived) & left


def test_google_archive_goes_to_the_archive_spreadsheet_when_set(emu: SheetsEmulator, config: Config) -> None:
    backend = _old_queue(emu, config)
    other = emu.store.create("Clinic archive").spreadsheet_id
    backend.archive_key = other
    before = reports.report(config=config, backend=backend, period="daily", now=NOW, on=OLD.date())
    assert len(archive.archive(config=config, backend=backend, now=NOW).moved) == 6
    assert "Archive 2024" not in [s.title for s in emu.store.get(backend.key).sheets]
    assert {"Archive 2024", "Archive 2024 History"} <= {s.title for s in emu.store.get(other).sheets}
    assert reports.report(
        config=config, backend=backend, period="daily", now=NOW, on=OLD.date()
    ).as_dict() == (before.as_dict())


def test_each_year_goes_to_its_own_spreadsheet_and_reports_read_every_one(
    emu: SheetsEmulator, config: Config
) -> None:
    """[archive] spreadsheets: a year's archive in that year's spreadsheet (no one spreadsheet fills up
    over the years); tabs of a year left in the general archive spreadsheet are still found."""
    backend = _old_queue(emu, config)
    general = emu.store.create("Clinic archive").spreadsheet_id
    year_2024 = emu.store.create("Clinic archive 2024").spreadsheet_id
    backend.archive_key = general
    backend.archive_keys = {2024: year_2024}
    before = reports.report(config=config, backend=backend, period="daily", now=NOW, on=OLD.date())
    assert len(archive.archive(config=config, backend=backend, now=NOW).moved) == 6
    assert "Archive 2024" not in [s.title for s in emu.store.get(general).sheets]
    assert {"Archive 2024", "Archive 2024 History"} <= {s.title for s in emu.store.get(year_2024).sheets}
    assert backend.archive_years() == [2024]
    after = reports.report(config=config, backend=backend, period="daily", now=NOW, on=OLD.date())
    assert after.as_dict() == before.as_dict()
    counts = backend.cell_counts()
    assert set(counts) == {backend.key, general, year_2024}
    book = emu.store.get(year_2024)
    assert counts[year_2024] == sum(s.row_count * s.col_count for s in book.sheets)
    backend.archive_keys = {}  # the year's spreadsheet forgotten: its archive is not found elsewhere
    assert backend.archive_years() == []


def test_archive_spreadsheets_config_names_the_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from callback_sheets.config import load_config
    from callback_sheets.errors import ConfigError

    base = '[clinic]\ntimezone = "America/Chicago"\n[queue]\nworkbook = "q.xlsx"\n[archive]\n'
    path = tmp_path / "c.toml"
    path.write_text(base + 'spreadsheets = { 2026 = "abc", 2027 = "https://x/d/def/edit" }\n')
    assert load_config(path).archive_spreadsheets == ((2026, "abc"), (2027, "https://x/d/def/edit"))
    for bad, key in (('spreadsheets = { 26 = "abc" }', "archive.spreadsheets"),
                     ('spreadsheets = { 2026 = "" }', "archive.spreadsheets.2026"),
                     ('spreadsheets = "abc"', "archive.spreadsheets")):  # fmt: skip
        path.write_text(base + bad + "\n")
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            load_config(path)
