"""The Google Sheets backend against the local Sheets API emulator, over real HTTP with unmodified gspread.

Staff are played through the emulator's store (``before_request`` runs an edit between two requests of a
refresh), faults through its fault plan; nothing of gspread is mocked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.backends.google.backend import GoogleBackend, load_service_account
from callback_sheets.backends.google.http import RetryingHTTPClient, RetryPolicy
from callback_sheets.cells import Changeset
from callback_sheets.config import Config
from callback_sheets.errors import BackendError, ConfigError
from tests.conftest import row
from tests.sheets_emulator import SheetsEmulator
from tests.sheets_emulator.batch_update import batch_update
from tests.sheets_emulator.client import emulator_session

NOW = datetime.fromisoformat("2026-12-01T15:00-06:00")
ACCOUNT = "queue-bot@clinic-project.iam.gserviceaccount.com"
SPREADSHEET_PATH = r"^/v4/spreadsheets/[^/:]+$"


@pytest.fixture
def emu() -> Iterator[SheetsEmulator]:
    with SheetsEmulator() as emulator:
        yield emulator


class Sleeps(list[float]):
    """An injectable sleep that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def google_backend(emu: SheetsEmulator, key: str, sleeps: Sleeps | None = None) -> GoogleBackend:
    policy = RetryPolicy(tries=4, jitter=lambda: 1.0)
    return GoogleBackend(
        key,
        session=emulator_session(emu.base_url),
        account=ACCOUNT,
        policy=policy,
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


def google_queue(emu: SheetsEmulator, config: Config, rows: Sequence[dict[str, Any]]) -> GoogleBackend:
    """A spreadsheet made by `init`, holding the given rows (as the Excel `make_queue` fixture)."""
    backend = google_backend(emu, emu.store.create("Clinic callbacks").spreadsheet_id)
    service.init(config=config, backend=backend)
    if rows:
        backend.write(backend.read(), Changeset(new_rows=[dict(r) for r in rows]))
    emu.reset_log()
    return backend


def records(backend: GoogleBackend, tab: str = model.QUEUE_TAB) -> list[dict[str, Any]]:
    snap = backend.read(tabs=[tab] if tab != model.QUEUE_TAB else [])
    if tab == model.QUEUE_TAB:
        return [dict(r.values) for r in snap.rows]
    grid = snap.tabs[tab]
    return [dict(zip(map(str, grid[0]), r, strict=False)) for r in grid[1:]]


def staff(emu: SheetsEmulator, backend: GoogleBackend, *requests_: dict[str, Any]) -> Callable[[], None]:
    """A staff edit (batchUpdate requests on the Queue tab), to run between two requests."""
    sheet_id = next(s.sheet_id for s in emu.store.get(backend.key).sheets if s.title == model.QUEUE_TAB)

    def edit() -> None:
        body = json.loads(json.dumps(list(requests_)).replace('"SHEET"', str(sheet_id)))
        batch_update(emu.store, backend.key, {"requests": body})

    return edit


def col(name: str) -> int:
    return model.LAYOUT_COLUMNS.index(name)


def test_init_is_one_batch_update_with_the_whole_layout(emu: SheetsEmulator, config: Config) -> None:
    book = emu.store.create("Clinic callbacks")
    notes = service.init(config=config, backend=google_backend(emu, book.spreadsheet_id))
    assert notes[0] == "created tab Queue"
    assert emu.count("POST", r":batchUpdate$") == 1 and len(emu.requests) <= 3
    [body] = [r.body for r in emu.requests if r.path.endswith(":batchUpdate")]
    kinds = {next(iter(r)) for r in body["requests"]}
    assert {
        "addSheet",
        "setDataValidation",
        "addConditionalFormatRule",
        "addProtectedRange",
        "repeatCell",
    } <= kinds
    queue = emu.store.get(book.spreadsheet_id).sheet_by_title(model.QUEUE_TAB)
    grid = queue.properties["gridProperties"]
    assert grid["frozenRowCount"] == 1 and queue.cell(0, 0).fmt["textFormat"]["bold"]
    assert [queue.cell(0, c).value["stringValue"] for c in range(len(model.LAYOUT_COLUMNS))] == list(
        model.LAYOUT_COLUMNS
    )
    rule = queue.cell(1, col(model.REASON)).validation
    assert (
        rule["condition"]["type"] == "ONE_OF_RANGE"
        and "'Lists'!$A$2" in rule["condition"]["values"][0]["userEnteredValue"]
    )
    formulas = [
        r["booleanRule"]["condition"]["values"][0]["userEnteredValue"] for r in queue.conditional_formats
    ]
    assert any("OVERDUE" in f for f in formulas) and any(f.startswith("=LEN(") for f in formulas)
    assert all(r["booleanRule"]["condition"]["type"] == "CUSTOM_FORMULA" for r in queue.conditional_formats)
    protected = {p["range"]["startColumnIndex"] for p in queue.protected_ranges if p.get("warningOnly")}
    assert protected == {col(c) for c in model.TOOL_COLUMNS}
    assert queue.cell(5, col(model.NEXT_ATTEMPT)).fmt["numberFormat"]["type"] == "DATE_TIME"
    titles = {s.title: s.properties.get("hidden", False) for s in emu.store.get(book.spreadsheet_id).sheets}
    assert titles[model.LISTS_TAB] and titles[model.INTAKE_TAB] and not titles[model.HISTORY_TAB]


def test_init_upgrades_without_touching_rows(emu: SheetsEmulator, config: Config) -> None:
    book = emu.store.create(
        "Clinic callbacks",
        {
            "Queue": [
                ["Caller", "Phone", "Received", "My own column"],
                ["Pat Example", "(312) 555-0142", "12/01/2026 9:10", "keep me"],
            ]
        },
    )
    backend = google_backend(emu, book.spreadsheet_id)
    notes = service.init(config=config, backend=backend)
    assert any(n.startswith("added columns") for n in notes)
    [r] = records(backend)
    assert r["Caller"] == "Pat Example" and r["My own column"] == "keep me"
    assert r["Received"] == datetime(2026, 12, 1, 9, 10)
    emu.reset_log()
    assert service.init(config=config, backend=backend) == [f"{backend.label} is up to date"]
    assert emu.count("POST") == 0


@pytest.mark.parametrize("rows", [3, 400])
def test_refresh_costs_three_requests_and_nothing_when_unchanged(
    emu: SheetsEmulator, config: Config, rows: int
) -> None:
    backend = google_queue(emu, config, [row("2026-12-01 09:10", Caller=f"Caller {i}") for i in range(rows)])
    outcome = service.refresh(config=config, backend=backend, now=NOW)
    assert outcome.result is not None and outcome.result.written >= rows
    assert [(r.method, r.path.rsplit("/", 1)[-1].split(":")[-1]) for r in emu.requests] == [
        ("GET", "batchGet"),  # the lean read: values only
        ("POST", "append"),  # the write lease's claim (issue 13)
        ("GET", "batchGet"),
        ("POST", "batchUpdate"),
        ("GET", "batchGet"),  # new IDs written: read back where they landed (issue 13)
    ]
    # New Script links are formulas, which a RAW write cannot make: that write is USER_ENTERED, with every
    # text quote-prefixed (stored as the literal text) and the links the only formulas.
    body = next(r.body for r in reversed(emu.requests) if r.path.endswith("values:batchUpdate"))
    assert body["valueInputOption"] == "USER_ENTERED"
    written = [v for r in body["data"] for line in r["values"] for v in line]
    texts = [v for v in written if isinstance(v, str) and v]
    formulas = [v for v in texts if not v.startswith("'")]
    assert len(formulas) == rows and all(f.startswith('=HYPERLINK("#gid=') for f in formulas)
    assert any(v.startswith("'Call back") for v in texts)
    emu.reset_log()
    again = service.refresh(config=config, backend=backend, now=NOW)
    assert again.plan.summary.changes == 0 and len(emu.requests) == 1 and emu.count("POST") == 0


def test_dates_are_real_dates_and_text_is_never_a_formula(emu: SheetsEmulator, config: Config) -> None:
    evil = ['=HYPERLINK("http://x","y")', "+1-555-0100", "@SUM(A1)"]
    backend = google_queue(emu, config, [row("2026-12-01 09:10", Notes=e) for e in evil])
    service.refresh(config=config, backend=backend, now=NOW)
    queue = emu.store.get(backend.key).sheet_by_title(model.QUEUE_TAB)
    assert [queue.cell(r, col(model.NOTES)).value for r in (1, 2, 3)] == [{"stringValue": e} for e in evil]
    due = queue.cell(1, col(model.NEXT_ATTEMPT))
    assert "numberValue" in due.value and due.fmt["numberFormat"]["type"] == "DATE_TIME"
    first = records(backend)[0]
    assert first[model.NEXT_ATTEMPT] == datetime(2026, 12, 1, 12, 0) and first[model.RECEIVED] == datetime(
        2026, 12, 1, 9, 10
    )


def test_read_converts_like_the_excel_reader(emu: SheetsEmulator, config: Config) -> None:
    book = emu.store.create(
        "Clinic callbacks",
        {
            "Queue": [
                ["ID", "Received", "Attempts", "Phone", "Notes", "Last attempt"],
                ["CB-1", "2026-12-01 09:10", "2", "3125550142", "", "12/01/2026 10:00"],
            ]
        },
    )
    backend = google_backend(emu, book.spreadsheet_id)
    sheet = emu.store.get(book.spreadsheet_id).sheet_by_title("Queue")
    sheet.ensure(1, 5).value = {"stringValue": "2026-12-01T10:30"}  # a date pasted as text in a date column
    [r] = records(backend)
    assert r == {
        "ID": "CB-1",
        "Received": datetime(2026, 12, 1, 9, 10),
        "Attempts": 2,
        "Phone": 3125550142,
        "Notes": None,
        "Last attempt": datetime(2026, 12, 1, 10, 30),
    }


# --- staff edit the live sheet between the read and the write ---------------------------------------------
def _sort(by: str, descending: bool = True) -> dict[str, Any]:
    return {
        "sortRange": {
            "range": {"sheetId": "SHEET", "startRowIndex": 1},
            "sortSpecs": [
                {"dimensionIndex": col(by), "sortOrder": "DESCENDING" if descending else "ASCENDING"}
            ],
        }
    }


def _rows(op: str, start: int, end: int) -> dict[str, Any]:
    return {op: {"range": {"sheetId": "SHEET", "dimension": "ROWS", "startIndex": start, "endIndex": end}}}


def _type(r: int, column: str, text: str) -> dict[str, Any]:
    return {
        "updateCells": {
            "start": {"sheetId": "SHEET", "rowIndex": r, "columnIndex": col(column)},
            "rows": [{"values": [{"userEnteredValue": {"stringValue": text}}]}],
            "fields": "userEnteredValue",
        }
    }


THREE = [
    row("2026-12-01 09:10", Caller="A One"),
    row("2026-12-01 11:50", Caller="B Two", Reason="Billing"),
    row("2026-12-01 18:30", Caller="C Three", Reason="Clinical concern"),
]


def _expected(config: Config, emu: SheetsEmulator) -> dict[str, dict[str, Any]]:
    """What an undisturbed refresh gives each caller's row (on a fresh twin sheet)."""
    twin = google_queue(emu, config, THREE)
    service.refresh(config=config, backend=twin, now=NOW)
    return {r["Caller"]: r for r in records(twin)}


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param([_sort(model.CALLER)], id="sort"),
        pytest.param([_rows("insertDimension", 1, 2)], id="insert"),
        pytest.param([_sort(model.CALLER), _rows("insertDimension", 2, 4)], id="sort+insert"),
    ],
)
def test_rows_without_ids_moved_before_the_write(
    emu: SheetsEmulator, config: Config, edit: list[dict[str, Any]]
) -> None:
    expected = _expected(config, emu)
    backend = google_queue(emu, config, THREE)
    emu.before_request(2, staff(emu, backend, *edit))  # after the read, before the re-read
    outcome = service.refresh(config=config, backend=backend, now=NOW)
    assert outcome.result is not None and outcome.result.skipped == () and len(emu.requests) == 5
    after = {r["Caller"]: r for r in records(backend) if r["Caller"]}
    assert after == expected


def test_rows_with_ids_sorted_and_one_deleted_before_the_write(emu: SheetsEmulator, config: Config) -> None:
    backend = google_queue(emu, config, THREE)
    service.refresh(config=config, backend=backend, now=NOW)
    later = datetime.fromisoformat("2026-12-02T15:00-06:00")
    expected_twin = google_queue(emu, config, THREE)
    service.refresh(config=config, backend=expected_twin, now=NOW)
    service.refresh(config=config, backend=expected_twin, now=later)
    expected = {r["ID"]: r for r in records(expected_twin)}
    emu.reset_log()
    emu.before_request(
        2, staff(emu, backend, _sort(model.CALLER, descending=False), _rows("deleteDimension", 1, 2))
    )
    outcome = service.refresh(config=config, backend=backend, now=later)
    assert outcome.result is not None
    assert any("deleted meanwhile" in s for s in outcome.result.skipped)
    after = {r["ID"]: r for r in records(backend)}
    assert set(after) == {"CB-00002", "CB-00003"}
    for item_id, values in after.items():
        assert values == expected[item_id]


def test_owner_typed_meanwhile_is_never_overwritten(emu: SheetsEmulator, config: Config) -> None:
    backend = google_queue(emu, config, THREE)
    emu.before_request(2, staff(emu, backend, _type(1, model.OWNER, "Dr Who")))
    outcome = service.refresh(config=config, backend=backend, now=NOW)
    assert outcome.result is not None and outcome.result.skipped == ("row 2: Owner was filled in meanwhile",)
    assert "A One" not in " ".join(outcome.result.skipped)  # no PHI in the message
    by_caller = {r["Caller"]: r for r in records(backend)}
    assert by_caller["A One"][model.OWNER] == "Dr Who" and by_caller["A One"][model.ID] == "CB-00001"


def test_attempt_edited_meanwhile_is_redone(emu: SheetsEmulator, config: Config) -> None:
    backend = google_queue(emu, config, THREE)
    service.refresh(config=config, backend=backend, now=NOW)
    emu.reset_log()
    emu.before_request(2, staff(emu, backend, _type(1, model.NOTES, "patient called again")))
    service.record_attempt(
        config=config, backend=backend, item_id="CB-00001", outcome="Voicemail left", note="left VM", now=NOW
    )
    # read + lease claim + re-read (Notes changed: retry, the claim kept) + read + re-read + write + check
    assert len(emu.requests) == 7
    first = records(backend)[0]
    assert first[model.NOTES].startswith("patient called again\n") and first[model.ATTEMPTS] == 1
    history = records(backend, model.HISTORY_TAB)
    assert [h["ID"] for h in history] == ["CB-00001"]


def test_attempt_and_history_cost_three_requests(emu: SheetsEmulator, config: Config) -> None:
    backend = google_queue(emu, config, THREE)
    service.refresh(config=config, backend=backend, now=NOW)
    for _ in range(2):
        emu.reset_log()
        service.record_attempt(
            config=config, backend=backend, item_id="CB-00002", outcome="No answer", note=None, now=NOW
        )
        assert len(emu.requests) == 5  # read, lease claim, re-read, write (+ lease release), read back
    history = records(backend, model.HISTORY_TAB)
    assert [(h["ID"], h["Attempt"]) for h in history] == [("CB-00002", 1), ("CB-00002", 2)]
    assert isinstance(history[0]["Time"], datetime)


# --- quota, faults and access ----------------------------------------------------------------------------
def test_quota_and_server_errors_are_retried_with_backoff(emu: SheetsEmulator, config: Config) -> None:
    sleeps = Sleeps()
    backend = google_queue(emu, config, THREE)
    backend.http.sleep = sleeps
    emu.fail_next(2, status=429, method="GET", retry_after=7)
    emu.fail_next(1, status=503, method="POST")
    outcome = service.refresh(config=config, backend=backend, now=NOW)
    assert outcome.result is not None and outcome.result.written > 0
    assert sleeps[:2] == [7.0, 7.0] and 1.0 <= sleeps[2] <= 2.0
    assert [r.status for r in emu.requests] == [429, 429, 200, 503, 200, 200, 200, 200]  # 503: lease claim


def test_persistent_failure_gives_up_with_a_clear_error(emu: SheetsEmulator, config: Config) -> None:
    sleeps = Sleeps()
    backend = google_queue(emu, config, THREE)
    backend.http.sleep = sleeps
    emu.fail_next(99, status=500)
    with pytest.raises(
        BackendError, match=r"gave up after 4 tries .*temporary server error.*run the command again"
    ):
        backend.read()
    assert len(emu.requests) == 4 and sleeps == [1.0, 2.0, 4.0]


def test_timeouts_are_retried(emu: SheetsEmulator) -> None:
    key = emu.store.create("Clinic callbacks").spreadsheet_id
    sleeps = Sleeps()
    client = RetryingHTTPClient(
        None, emulator_session(emu.base_url), policy=RetryPolicy(tries=3), sleep=sleeps, timeout=0.3
    )
    emu.delay_next(1.0, count=1)
    assert client.fetch_sheet_metadata(key)["spreadsheetId"] == key
    assert len(sleeps) == 1


@pytest.mark.parametrize("status", [403, 404])
def test_no_access_says_share_the_sheet_with_the_service_account(emu: SheetsEmulator, status: int) -> None:
    backend = google_backend(emu, emu.store.create("Clinic callbacks").spreadsheet_id)
    emu.fail_next(1, status=status)
    with pytest.raises(BackendError, match=f"share the sheet with {ACCOUNT}") as err:
        backend.read()
    assert "\n" not in str(err.value) and len(emu.requests) == 1


def test_unknown_key_is_a_404(emu: SheetsEmulator) -> None:
    backend = google_backend(emu, "https://docs.google.com/spreadsheets/d/1NoSuchSheet0000000000/edit#gid=0")
    assert backend.key == "1NoSuchSheet0000000000"
    with pytest.raises(BackendError, match=r"404.*share the sheet"):
        backend.read()


def test_credentials_problems_are_one_line_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        load_service_account(None)
    with pytest.raises(ConfigError, match=r"no file at .*download the service account's JSON key"):
        load_service_account(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"cannot read .* as a JSON key"):
        load_service_account(tmp_path / "bad.json")
    (tmp_path / "user.json").write_text(json.dumps({"type": "authorized_user"}))
    with pytest.raises(ConfigError, match="not a service-account JSON key"):
        load_service_account(tmp_path / "user.json")
    (tmp_path / "sa.json").write_text(json.dumps({"type": "service_account", "client_email": ACCOUNT}))
    assert load_service_account(tmp_path / "sa.json")[1] == ACCOUNT


def test_an_injected_gspread_client_is_used(emu: SheetsEmulator) -> None:
    from tests.sheets_emulator.client import gspread_client

    key = emu.store.create("Clinic callbacks", {"Queue": [["ID"], ["CB-1"]]}).spreadsheet_id
    backend = GoogleBackend(key, client=gspread_client(emu.base_url))
    assert [r.get("ID") for r in backend.read().rows] == ["CB-1"]
    assert isinstance(backend.http.session, requests.Session)


def test_init_on_a_spreadsheet_with_tabs_adds_its_own_and_changes_nothing_else(
    emu: SheetsEmulator, config: Config
) -> None:
    import copy

    book = emu.store.create(
        "Clinic workbook",
        {
            "Patients": [["Name", "Visits", "Total"], ["A. Patient", 3, "=B2*2"]],
            "Budget": [["Item", "Cost"], ["Gloves", 12.5]],
        },
    )
    patients = book.sheet_by_title("Patients")
    patients.ensure(0, 0).fmt = {"textFormat": {"bold": True}}
    patients.ensure(0, 0).note = "their note"
    patients.conditional_formats.append({"ranges": [], "booleanRule": {"condition": {"type": "NOT_BLANK"}}})
    before = {s.title: copy.deepcopy(s) for s in emu.store.get(book.spreadsheet_id).sheets}
    order = [s.title for s in emu.store.get(book.spreadsheet_id).sheets]
    notes = service.init(config=config, backend=google_backend(emu, book.spreadsheet_id))
    assert notes[0] == "created tab Queue"
    after = {s.title: s for s in emu.store.get(book.spreadsheet_id).sheets}
    assert set(after) >= {*before, model.QUEUE_TAB, model.LISTS_TAB, model.HISTORY_TAB, model.INTAKE_TAB}
    for title, old in before.items():
        new = after[title]
        props = {k: v for k, v in new.properties.items() if k != "index"}
        assert props == {k: v for k, v in old.properties.items() if k != "index"}, title
        assert (new.rows, new.protected_ranges, new.conditional_formats) == (
            old.rows, old.protected_ranges, old.conditional_formats), title  # fmt: skip
        assert (new.row_meta, new.col_meta) == (old.row_meta, old.col_meta), title
    titles = [s.title for s in emu.store.get(book.spreadsheet_id).sheets]
    assert [t for t in titles if t in order] == order  # their tabs keep their order


def test_init_refuses_a_tab_that_differs_only_in_case(emu: SheetsEmulator, config: Config) -> None:
    book = emu.store.create("Clinic workbook", {"Patients": [["Name"]], "lists": [["their own"]]})
    with pytest.raises(BackendError, match=r"'lists'.*case-insensitively.*\[queue\] tabs") as info:
        service.init(config=config, backend=google_backend(emu, book.spreadsheet_id))
    assert "\n" not in str(info.value) and emu.count("POST") == 0
    assert [s.title for s in emu.store.get(book.spreadsheet_id).sheets] == ["Patients", "lists"]


def test_queue_tabs_names_the_tools_tabs_on_google(emu: SheetsEmulator, config: Config) -> None:
    """`[queue] tabs` as on Excel: init makes the tabs under those names, refresh and reports use them,
    and the clinic's own `lists` and `history` tabs are never touched."""
    from dataclasses import replace

    book = emu.store.create(
        "Clinic workbook", {"Patients": [["Name"]], "lists": [["their own"]], "history": [["theirs"]]}
    )
    names = {
        model.LISTS_TAB: "Callback lists",
        model.HISTORY_TAB: "Callback history",
        model.METRICS_TAB: "Weekly",
    }
    renamed = replace(config, tabs=names)
    backend = google_backend(emu, book.spreadsheet_id)
    backend = GoogleBackend(
        book.spreadsheet_id,
        session=backend.http.session,
        account=ACCOUNT,
        policy=backend.http.policy,
        sleep=Sleeps(),
        tabs=renamed.tabs,
    )
    notes = service.init(config=renamed, backend=backend)
    assert "created tab Callback lists" in notes and "created tab Weekly" in notes
    titles = [s.title for s in emu.store.get(book.spreadsheet_id).sheets]
    assert {"Patients", "lists", "history", "Queue", "Callback lists", "Callback history", "Weekly"} <= set(
        titles
    )
    assert (
        model.LISTS_TAB not in titles and model.HISTORY_TAB not in titles and model.METRICS_TAB not in titles
    )
    store = emu.store.get(book.spreadsheet_id)
    lists = store.sheet_by_title("Callback lists")
    assert lists.properties.get("hidden") is True and lists.cell(0, 0).value == {"stringValue": "reasons"}
    queue = store.sheet_by_title("Queue")
    status = model.REQUIRED_COLUMNS.index(model.STATUS)
    rule = queue.cell(1, status).validation
    assert rule is not None
    assert rule["condition"]["values"][0]["userEnteredValue"].startswith("='Callback lists'!")
    backend.write(
        backend.read(),
        Changeset(new_rows=[row("2026-12-01 09:10", Attempts=1, Last_attempt=datetime(2026, 12, 1, 10))]),
    )
    service.refresh(config=renamed, backend=backend, now=NOW)
    store = emu.store.get(book.spreadsheet_id)
    history = store.sheet_by_title("Callback history")
    assert history.cell(1, 0).value == {"stringValue": "CB-00001"}
    assert store.sheet_by_title("Weekly").cell(0, 0) is not None  # the refresh wrote the weekly trend
    assert model.METRICS_TAB not in [s.title for s in store.sheets]
    assert store.sheet_by_title("lists").cell(0, 0).value == {"stringValue": "their own"}
    assert store.sheet_by_title("history").cell(0, 0).value == {"stringValue": "theirs"}
    assert [r.get("ID") for r in backend.read().rows] == ["CB-00001"]
    emu.reset_log()
    assert service.init(config=renamed, backend=backend) == [f"{backend.label} is up to date"]
