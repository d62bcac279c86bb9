"""The emulator through unmodified gspread over real HTTP: values, parsing, atomicity, faults."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator

import gspread
import pytest
import requests
from gspread.utils import DateTimeOption, Dimension, ValueRenderOption

from tests.sheets_emulator.client import gspread_client
from tests.sheets_emulator.server import SheetsEmulator


@pytest.fixture
def emu() -> Iterator[SheetsEmulator]:
    """Same as ``fixtures.sheets_emulator`` (named apart so this module needs no fixture import)."""
    with SheetsEmulator() as emulator:
        yield emulator


@pytest.fixture
def gc(emu: SheetsEmulator) -> gspread.Client:
    return gspread_client(emu.base_url)


def _book(
    emu: SheetsEmulator, gc: gspread.Client, rows: list[list[object]] | None = None
) -> gspread.Worksheet:
    book = emu.store.create("Queue", {"Calls": rows or []})
    return gc.open_by_key(book.spreadsheet_id).sheet1


def test_user_entered_parses_numbers_percent_dates_and_formulas(
    emu: SheetsEmulator, gc: gspread.Client
) -> None:
    ws = _book(emu, gc)
    ws.update([["12", "50%", "2020-01-01", "=1+1", "'007", "TRUE"]], "A1", raw=False)
    assert ws.get("A1:F1", value_render_option=ValueRenderOption.unformatted) == [
        [12, 0.5, 43831, 2, "007", True]
    ]
    assert ws.get("A1:F1") == [["12", "50%", "2020-01-01", "2", "007", "TRUE"]]
    assert ws.get("D1", value_render_option=ValueRenderOption.formula) == [["=1+1"]]
    dated = ws.get(
        "C1",
        value_render_option=ValueRenderOption.unformatted,
        date_time_render_option=DateTimeOption.formatted_string,
    )
    assert dated == [["2020-01-01"]]


def test_raw_stores_text_literally(emu: SheetsEmulator, gc: gspread.Client) -> None:
    ws = _book(emu, gc)
    ws.update([["=1+1", "+1-555-0100", "50%", "2020-01-01"]], "A1", raw=True)
    assert ws.get("A1:D1", value_render_option=ValueRenderOption.unformatted) == [
        ["=1+1", "+1-555-0100", "50%", "2020-01-01"]
    ]
    ws.update([["+1-555-0100"]], "E1", raw=False)
    assert ws.get("E1", value_render_option=ValueRenderOption.formula) == [["=+1-555-0100"]]


def test_trimming_range_echo_and_quoting(emu: SheetsEmulator, gc: gspread.Client) -> None:
    book = emu.store.create("Q", {"Sheet 1": [["a", "", ""], [], ["b"]]})
    ws = gc.open_by_key(book.spreadsheet_id).sheet1
    got = ws.get("A1:C5")
    assert isinstance(got, gspread.ValueRange)
    assert got.range == "'Sheet 1'!A1:C5"
    assert got == [["a"], [], ["b"]]
    assert ws.get("A1:C5", major_dimension=Dimension.cols) == [["a", "", "b"]]


def test_append_finds_the_table(emu: SheetsEmulator, gc: gspread.Client) -> None:
    ws = _book(emu, gc, [["ID", "Phone"], ["1", "555"]])
    reply = ws.append_row(["2", "556"], table_range="A1")
    assert reply["tableRange"] == "Calls!A1:B2"
    assert reply["updates"]["updatedRange"] == "Calls!A3:B3"
    assert ws.get_all_values()[2] == ["2", "556"]


def test_batch_update_is_atomic(emu: SheetsEmulator, gc: gspread.Client) -> None:
    ws = _book(emu, gc, [["a"], ["b"]])
    emu.store.get(ws.spreadsheet.id).sheets[0].ensure(0, 0).fmt = {"textFormat": {"bold": True}}
    before = copy.deepcopy(emu.store.get(ws.spreadsheet.id).sheets)
    everything = {
        "sheetId": 0,
        "startRowIndex": 0,
        "endRowIndex": 3,
        "startColumnIndex": 0,
        "endColumnIndex": 2,
    }
    body = {
        "requests": [
            {"updateSheetProperties": {"properties": {"sheetId": 0, "title": "Renamed"}, "fields": "title"}},
            {
                "repeatCell": {
                    "range": everything,
                    "cell": {
                        "userEnteredValue": {"stringValue": "x"},
                        "userEnteredFormat": {"textFormat": {}},
                    },
                    "fields": "userEnteredValue,userEnteredFormat.textFormat.bold",
                }
            },
            {"setDataValidation": {"range": everything, "rule": {"condition": {"type": "BOOLEAN"}}}},
            {
                "insertDimension": {
                    "range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 0, "endIndex": 1}
                }
            },
            {
                "updateDimensionProperties": {
                    "range": {"sheetId": 0, "dimension": "COLUMNS", "startIndex": 0, "endIndex": 1},
                    "properties": {"pixelSize": 50},
                    "fields": "pixelSize",
                }
            },
            {"deleteSheet": {"sheetId": 0}},
        ]
    }
    with pytest.raises(gspread.exceptions.APIError) as caught:
        ws.spreadsheet.batch_update(body)
    assert caught.value.response.status_code == 400
    error = caught.value.response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"].startswith("Invalid requests[5].deleteSheet:")
    assert [s.title for s in ws.spreadsheet.worksheets()] == ["Calls"]
    assert emu.store.get(ws.spreadsheet.id).sheets == before  # cells, formats, grid and metadata as they were


def test_unknown_spreadsheet_is_googles_404(gc: gspread.Client) -> None:
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        gc.open_by_key("nope")


def test_quota_fault_then_success(emu: SheetsEmulator, gc: gspread.Client) -> None:
    ws = _book(emu, gc, [["a"]])
    emu.fail_next(1, status=429, method="GET", path="/values/", retry_after=3)
    with pytest.raises(gspread.exceptions.APIError) as caught:
        ws.get("A1")
    response = caught.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert ws.get("A1") == [["a"]]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_faults(emu: SheetsEmulator, gc: gspread.Client, status: int) -> None:
    ws = _book(emu, gc)
    emu.fail_next(2, status=status)
    for _ in range(2):
        with pytest.raises(gspread.exceptions.APIError) as caught:
            ws.get("A1")
        assert caught.value.response.status_code == status
    assert ws.get("A1") == [[]]  # gspread's shape for an empty range


def test_delay_and_request_log(emu: SheetsEmulator, gc: gspread.Client) -> None:
    ws = _book(emu, gc)
    emu.reset_log()
    emu.delay_next(0.3)
    started = time.monotonic()
    ws.update([["x"]], "A1")
    assert time.monotonic() - started >= 0.3
    assert emu.count("PUT", r"/values/") == 1
    assert len(emu.requests) == 1
    assert emu.requests[0].body["values"] == [["x"]]


def test_staff_edit_between_requests(emu: SheetsEmulator, gc: gspread.Client) -> None:
    ws = _book(emu, gc, [["ID"], ["1"], ["2"]])
    book = emu.store.get(ws.spreadsheet.id)

    def staff_inserts_a_row() -> None:
        from tests.sheets_emulator.batch_update import batch_update

        batch_update(
            emu.store,
            book.spreadsheet_id,
            {
                "requests": [
                    {
                        "insertDimension": {
                            "range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 1, "endIndex": 2}
                        }
                    }
                ]
            },
        )

    first = ws.col_values(1)
    emu.before_request(1, staff_inserts_a_row)
    second = ws.col_values(1)
    assert first == ["ID", "1", "2"]
    assert second == ["ID", "", "1", "2"]


def test_control_endpoint_injects_faults(emu: SheetsEmulator) -> None:
    requests.post(f"{emu.base_url}/_emulator/faults", json={"status": 503, "count": 1}, timeout=5)
    answer = requests.get(f"{emu.base_url}/v4/spreadsheets/x", timeout=5)
    assert answer.status_code == 503
    assert requests.get(f"{emu.base_url}/v4/spreadsheets/x", timeout=5).status_code == 404
    log = requests.get(f"{emu.base_url}/_emulator/requests", timeout=5).json()["requests"]
    assert [r["status"] for r in log] == [503, 404]
