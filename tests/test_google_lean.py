"""What a Google refresh transfers (issue 17): the re-read of a steady refresh is the ID column only (the
key columns only when a row without an ID, new rows or staff cells need them), the tabs are read by
column and give the same snapshot as a read by row, every request asks for a compact answer without what
nothing reads (prettyPrint=false, fields masks) and sends a compact body; the emulator applies ``fields``
on every method as Google does; archive tabs grow exactly to their rows."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
import requests

from callback_sheets import model
from callback_sheets.app import archive, service
from callback_sheets.backends.google import reading
from callback_sheets.backends.google.placing import needs_keys
from callback_sheets.cells import CellWrite, Changeset, WriteMode
from callback_sheets.config import Config
from callback_sheets.layout import TOOL_TABS
from tests.conftest import row
from tests.sheets_emulator import SheetsEmulator
from tests.sheets_emulator.batch_update import batch_update
from tests.sheets_emulator.client import emulator_session
from tests.test_google_backend import _rows, _sort, _type, google_backend, google_queue, records, staff
from tests.test_google_backend import emu as emu_fixture

emu = emu_fixture  # the emulator fixture, shared
NOW = datetime.fromisoformat("2026-12-01T15:00-06:00")


def _rereads(emu: SheetsEmulator) -> list[list[str]]:
    """The ranges of each re-read (a batchGet after the read) of the requests logged."""
    gets = [r for r in emu.requests if r.path.endswith("values:batchGet")]
    return [g.query["ranges"] for g in gets[1:]]


def _settled(emu: SheetsEmulator, config: Config, count: int = 6):  # type: ignore[no-untyped-def]
    backend = google_queue(emu, config, [row("2026-12-01 09:10", Caller=f"Caller {i}") for i in range(count)])
    service.refresh(config=config, backend=backend, now=NOW)  # IDs given, computed cells written
    emu.reset_log()
    return backend


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param([_sort(model.CALLER)], id="sort"),
        pytest.param([_rows("insertDimension", 1, 3)], id="insert"),
        pytest.param(
            [_sort(model.CALLER), _rows("insertDimension", 2, 3), _type(2, model.CALLER, "Typed, no ID")],
            id="sort+typed row",
        ),
    ],
)
def test_a_steady_refresh_re_reads_the_id_column_only_and_finds_rows_by_id(
    emu: SheetsEmulator, config: Config, edit: list[dict[str, Any]]
) -> None:
    backend = _settled(emu, config)
    later = NOW + timedelta(days=1)  # every open item is overdue now: computed cells change on each row
    twin = _settled(emu, config)
    service.refresh(config=config, backend=twin, now=later)
    expected = {r[model.ID]: r for r in records(twin)}
    emu.reset_log()
    emu.before_request(2, staff(emu, backend, *edit))  # staff edit after the read, before the re-read
    outcome = service.refresh(config=config, backend=backend, now=later)
    assert outcome.result is not None and outcome.result.written > 0 and outcome.result.skipped == ()
    assert _rereads(emu)[0] == ["'Queue'!1:1", "'Queue'!A2:A", "'Lease'!A1:C"]  # header, IDs, the lease
    now = records(backend)
    after = {r[model.ID]: r for r in now if r.get(model.ID)}
    assert after == expected  # every computed cell on the row of its own item, wherever staff moved it
    typed = [r for r in now if not r.get(model.ID) and any(v is not None for v in r.values())]
    # a row typed meanwhile is left as typed (the next refresh gives it an ID); inserted rows stay empty
    assert typed == ([{**dict.fromkeys(now[0]), model.CALLER: "Typed, no ID"}] if len(edit) == 3 else [])


def test_the_key_columns_are_re_read_when_a_row_without_an_id_new_rows_or_staff_cells_need_them(
    emu: SheetsEmulator, config: Config
) -> None:
    tool = CellWrite(2, "CB-00001", model.OVERDUE, "x", WriteMode.TOOL)
    assert not needs_keys(Changeset(cells=[tool]))
    assert needs_keys(Changeset(cells=[CellWrite(2, None, model.OVERDUE, "x", WriteMode.TOOL)]))
    assert needs_keys(Changeset(cells=[CellWrite(2, "  ", model.OVERDUE, "x", WriteMode.TOOL)]))
    assert needs_keys(Changeset(cells=[tool, CellWrite(2, "CB-00001", model.OWNER, "Maria", WriteMode.FILL)]))
    assert needs_keys(Changeset(cells=[tool], new_rows=[{model.CALLER: "New"}]))
    backend = google_queue(emu, config, [row("2026-12-01 09:10", Caller="No ID yet")])
    service.refresh(
        config=config, backend=backend, now=NOW
    )  # gives the row its ID: a FILL on a row with none
    key_ranges = {"'Queue'!B2:B", "'Queue'!C2:C", "'Queue'!D2:D"}
    assert key_ranges <= set(_rereads(emu)[0])


def test_a_read_by_column_gives_the_snapshot_a_read_by_row_gives(
    emu: SheetsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # empty columns inside, an empty row inside, rows of every length, a number, a date-time column
    # known by its header, and a Metrics-like tab whose date header is below row 1
    queue = [
        ["ID", "Received", "Notes", "", "Attempts", "Last attempt", "Caller"],
        ["CB-1", "2026-12-01T09:10", "", "", 2, "", "Ann"],
        [],
        ["", "", "a note"],
        ["CB-3", "", "", "", "", "2026-11-30T10:00"],
        ["", "", "", "", "", "", ""],
    ]
    metrics = [["Trend"], [], ["Week of", "Calls"], ["2026-11-23T00:00", 5], ["", "", "", "late"]]
    book = emu.store.create("Odd", {"Queue": queue, "Metrics": metrics, "History": [["ID", "When"]]})
    backend = google_backend(emu, book.spreadsheet_id)
    by_column = backend.read(tabs=(model.METRICS_TAB, model.HISTORY_TAB))
    assert emu.requests[-1].query["majorDimension"] == ["COLUMNS"]
    lean = reading.params
    monkeypatch.setattr(reading, "params", lambda major: {**lean(major), "majorDimension": "ROWS"})
    monkeypatch.setattr(reading, "by_rows", lambda rows: rows)
    by_row = backend.read(tabs=(model.METRICS_TAB, model.HISTORY_TAB))
    assert emu.requests[-1].query["majorDimension"] == ["ROWS"]
    assert by_column.header == by_row.header and by_column.rows == by_row.rows
    assert by_column.tabs == by_row.tabs and by_column.version == by_row.version
    assert by_column.rows[0].get("Received") == datetime(2026, 12, 1, 9, 10)


class _Wire:
    """Every request's URL and body as sent and its answer's body as received."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bytes, bytes]] = []

    def __call__(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        body = response.request.body or b""
        self.seen.append(
            (str(response.request.url), body if isinstance(body, bytes) else body.encode(), response.content)
        )


def test_requests_ask_for_compact_answers_without_what_nothing_reads(
    emu: SheetsEmulator, config: Config
) -> None:
    backend = _settled(emu, config)
    wire = _Wire()
    backend.http.session.hooks["response"].append(wire)
    service.refresh(config=config, backend=backend, now=NOW + timedelta(days=1))
    assert len(wire.seen) == 4  # read, lease claim, re-read, write
    for url, body, answer in wire.seen:
        assert "prettyPrint=false" in url and b"\n" not in answer
        if body:
            assert b'", "' not in body and b'": ' not in body and json.loads(body)
    claim, write = wire.seen[1], wire.seen[3]
    assert json.loads(claim[2]) == {"updates": {"updatedRange": "Lease!A3:C3"}}
    assert set(json.loads(write[2])) == {"totalUpdatedCells"}


def test_the_emulator_applies_the_fields_system_parameter_on_every_method(emu: SheetsEmulator) -> None:
    key = emu.store.create("Fields", {"Sheet1": [["a", "b"]]}).spreadsheet_id
    session = emulator_session(emu.base_url)
    base = f"{emu.base_url}/v4/spreadsheets/{key}"
    body: dict[str, Any] = {"valueInputOption": "RAW", "data": [{"range": "Sheet1!A2", "values": [["c"]]}]}
    full = session.post(f"{base}/values:batchUpdate", json=body).json()
    assert full["totalUpdatedCells"] == 1 and full["responses"][0]["updatedRange"] == "Sheet1!A2"
    lean = session.post(f"{base}/values:batchUpdate", params={"fields": "totalUpdatedCells"}, json=body)
    assert lean.json() == {"totalUpdatedCells": 1}
    some = session.post(f"{base}/values:batchUpdate", params={"fields": "responses/updatedCells"}, json=body)
    assert some.json() == {"responses": [{"updatedCells": 1}]}
    got = session.get(f"{base}/values/{quote('Sheet1!A1:B2', safe='')}", params={"fields": "values"}).json()
    assert got == {"values": [["a", "b"], ["c"]]}
    add = {"requests": [{"addSheet": {"properties": {"title": "New"}}}]}
    answer = session.post(f"{base}:batchUpdate", params={"fields": "spreadsheetId"}, json=add).json()
    assert answer == {"spreadsheetId": key}
    # spreadsheets.get keeps its own masking; an error is never masked
    meta = session.get(base, params={"fields": "sheets.properties.title"}).json()
    assert meta == {"sheets": [{"properties": {"title": "Sheet1"}}, {"properties": {"title": "New"}}]}
    bad = session.get(f"{base}/values/{quote('Nowhere!A1', safe='')}", params={"fields": "values"})
    assert bad.status_code == 400 and "error" in bad.json()
    # a field the answer's type does not have is refused, as Google does, and nothing is written
    for mask in ("totalUpdatedCell", "responses/updatedCells/x", "spreadsheetId,nothing"):
        typo = dict(body, data=[{"range": "Sheet1!A3", "values": [["d"]]}])
        wrong = session.post(f"{base}/values:batchUpdate", params={"fields": mask}, json=typo)
        assert wrong.status_code == 400 and "Invalid field selection" in wrong.json()["error"]["message"]
    assert emu.store.get(key).sheet_by_title("Sheet1").cell(2, 0) is None


def test_archive_tabs_grow_exactly_to_their_rows(emu: SheetsEmulator, config: Config) -> None:
    closed = [
        row(
            "2024-11-26 09:10",
            Caller=f"Caller {i}",
            Status="Resolved",
            Attempts=1,
            Last_attempt=datetime(2024, 11, 26, 15, 0),
            Last_outcome="Reached",
        )
        for i in range(130)  # more than a new tab's 100 rows: the archive's write grows it
    ]
    backend = google_queue(emu, config, closed)
    service.refresh(config=config, backend=backend, now=datetime.fromisoformat("2024-11-26T16:00-06:00"))
    outcome = archive.archive(config=config, backend=backend, now=NOW)
    assert len(outcome.moved) == 130
    book = emu.store.get(backend.key)
    for title in ("Archive 2024", "Archive 2024 History"):
        sheet = book.sheet_by_title(title)
        assert sheet.row_count == sheet.data_extent()[0] == 131  # the header and 130 rows, nothing spare
        assert sheet.col_count == sheet.data_extent()[1]
    queue = book.sheet_by_title(model.QUEUE_TAB)  # the queue's own tabs keep their room for new items
    assert queue.row_count > queue.data_extent()[0]


def test_the_lists_tab_is_as_big_as_its_lists_and_grows_with_them(
    emu: SheetsEmulator, config: Config
) -> None:
    backend = google_queue(emu, config, [])
    made = service.choices(config)
    lists = emu.store.get(backend.key).sheet_by_title(model.LISTS_TAB)
    longest = max(len(v) for v in made.values())
    assert (lists.row_count, lists.col_count) == (longest + 1, len(made))  # not Google's 1,000 x 26
    more = {**made, "owners": [f"Owner {i}" for i in range(longest + 5)], "extra": ["One"]}
    backend.init(header=model.LAYOUT_COLUMNS, tabs=TOOL_TABS, choices=more, look=service.look(config))
    lists = emu.store.get(backend.key).sheet_by_title(model.LISTS_TAB)
    assert (lists.row_count, lists.col_count) == (longest + 6, len(more))
    grid = backend.read(tabs=(model.LISTS_TAB,)).tabs[model.LISTS_TAB]
    assert [r[list(more).index("owners")] for r in grid] == ["owners", *more["owners"]]


def _history_edit(emu: SheetsEmulator, backend: Any, *requests_: dict[str, Any]) -> Any:
    """A staff edit of the History tab (batchUpdate requests, ``SHEET`` its id), to run between requests."""
    sheet_id = emu.store.get(backend.key).sheet_by_title(model.HISTORY_TAB).sheet_id

    def edit() -> None:
        body = json.loads(json.dumps(list(requests_)).replace('"SHEET"', str(sheet_id)))
        batch_update(emu.store, backend.key, {"requests": body})

    return edit


def _attempts(emu: SheetsEmulator, config: Config):  # type: ignore[no-untyped-def]
    """A queue of three items with one attempt each in History (rows 2-4), the History grid 4 rows."""
    backend = google_queue(emu, config, [row("2026-12-01 09:10", Caller=f"Caller {i}") for i in range(3)])
    service.refresh(config=config, backend=backend, now=NOW)
    for item in ("CB-00001", "CB-00002", "CB-00003"):
        service.record_attempt(
            config=config, backend=backend, item_id=item, outcome="No answer", note=None, now=NOW
        )
    size = {"rowCount": 4, "columnCount": len(model.HISTORY_COLUMNS)}
    _history_edit(
        emu,
        backend,
        {
            "updateSheetProperties": {
                "properties": {"sheetId": "SHEET", "gridProperties": size},
                "fields": "gridProperties",
            }
        },
    )()
    emu.reset_log()
    return backend


def _attempt(config: Config, backend: Any) -> None:
    service.record_attempt(
        config=config, backend=backend, item_id="CB-00002", outcome="Voicemail left", note=None, now=NOW
    )


def test_an_attempt_re_reads_history_from_its_last_row_not_the_whole_column(
    emu: SheetsEmulator, config: Config
) -> None:
    backend = _attempts(emu, config)
    _attempt(config, backend)
    assert "'History'!A4:A" in _rereads(emu)[0]  # the last row the read found, and any below it
    history = [(h["ID"], h["Attempt"]) for h in records(backend, model.HISTORY_TAB)]
    assert history == [("CB-00001", 1), ("CB-00002", 1), ("CB-00003", 1), ("CB-00002", 2)]


@pytest.mark.parametrize("edit", ["added", "deleted"])
def test_history_rows_added_or_deleted_meanwhile_make_the_attempt_read_again(
    emu: SheetsEmulator, config: Config, edit: str
) -> None:
    backend = _attempts(emu, config)
    size = {"rowCount": 5, "columnCount": len(model.HISTORY_COLUMNS)}
    grow = {
        "updateSheetProperties": {
            "properties": {"sheetId": "SHEET", "gridProperties": size},
            "fields": "gridProperties",
        }
    }
    typed = {
        "updateCells": {
            "start": {"sheetId": "SHEET", "rowIndex": 4, "columnIndex": 0},
            "rows": [{"values": [{"userEnteredValue": {"stringValue": "CB-00003"}}]}],
            "fields": "userEnteredValue",
        }
    }
    # deleting two rows leaves a History shorter (2 rows) than the row the re-read would start at (4)
    gone = {
        "deleteDimension": {
            "range": {"sheetId": "SHEET", "dimension": "ROWS", "startIndex": 1, "endIndex": 3}
        }
    }
    emu.before_request(2, _history_edit(emu, backend, *([grow, typed] if edit == "added" else [gone])))
    _attempt(config, backend)
    ids = [(h["ID"], h["Attempt"]) for h in records(backend, model.HISTORY_TAB)]
    if edit == "added":  # the staff row is kept and ours goes under it
        assert ids == [("CB-00001", 1), ("CB-00002", 1), ("CB-00003", 1), ("CB-00003", None), ("CB-00002", 2)]
    else:  # the 400 of the short tab, the whole column read instead: the change seen, read again (and
        # the attempt the Queue row holds but History lost is logged again before the new one)
        assert ids == [("CB-00003", 1), ("CB-00002", 1), ("CB-00002", 2)]
        assert any(r.status == 400 for r in emu.requests)
    assert emu.count("GET", r"values:batchGet$") >= 4  # read and re-read, twice: the write read again
