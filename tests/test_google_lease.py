"""Two runs on one Google Sheet never both write: the lease on the hidden Lease tab, on the emulator.

A second run (another machine's backend) is played inside the first one's refresh, between two of its
requests, through the emulator's hooks: unmodified gspread, real HTTP, no mocks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.backends.google.lease import LEASE_TAB
from callback_sheets.config import Config
from callback_sheets.errors import WorkbookBusyError
from tests.conftest import row
from tests.sheets_emulator import SheetsEmulator
from tests.test_google_backend import google_backend, google_queue, records

NOW = datetime.fromisoformat("2026-12-01T15:00-06:00")
ATTEMPTED = row(
    "2026-12-01 09:10", Attempts=1, Last_attempt=datetime(2026, 12, 1, 10, 0), Last_outcome="No answer"
)


@pytest.fixture
def emu() -> Any:
    with SheetsEmulator() as emulator:
        yield emulator


def lease_rows(emu: SheetsEmulator, key: str) -> list[list[Any]]:
    sheet = emu.store.get(key).sheet_by_title(LEASE_TAB)
    hidden = sheet.properties.get("hidden")
    assert hidden is True
    other = google_backend(emu, key)
    got = other.http.values_get(key, f"'{LEASE_TAB}'!A1:C50")
    return [r + [""] * (3 - len(r)) for r in got.get("values", [])]


def test_a_run_starting_while_another_holds_the_lease_stops_and_writes_nothing(
    emu: SheetsEmulator, config: Config
) -> None:
    first = google_queue(emu, config, [ATTEMPTED])
    second = google_backend(emu, first.key)
    caught: list[BaseException] = []

    def other_machine() -> None:
        try:
            service.refresh(config=config, backend=second, now=NOW)
        except WorkbookBusyError as exc:
            caught.append(exc)

    emu.before_request(3, other_machine)  # after the first run's claim, before its re-read
    outcome = service.refresh(config=config, backend=first, now=NOW)
    assert outcome.result is not None and outcome.result.written > 0
    [busy] = caught
    assert "another run is working on this sheet" in str(busy) and "\n" not in str(busy)
    assert busy.exit_code == 1
    history = records(first, model.HISTORY_TAB)
    assert [(h["ID"], h["Attempt"]) for h in history] == [("CB-00001", 1)]
    done = [r[2] for r in lease_rows(emu, first.key)]
    assert done[-2:] == ["released", "withdrawn"]


def test_a_run_that_lost_the_race_reads_again_and_adds_no_second_history_row(
    emu: SheetsEmulator, config: Config
) -> None:
    first = google_queue(emu, config, [ATTEMPTED])
    second = google_backend(emu, first.key)
    emu.before_request(2, lambda: service.refresh(config=config, backend=second, now=NOW))  # before the claim
    outcome = service.refresh(config=config, backend=first, now=NOW)
    assert outcome.tries == 2  # History grew under it: read again, planned again
    history = records(first, model.HISTORY_TAB)
    assert [(h["ID"], h["Attempt"]) for h in history] == [("CB-00001", 1)]
    [item] = records(first)
    assert item[model.ID] == "CB-00001" and item[model.FIRST_ATTEMPT] == datetime(2026, 12, 1, 10, 0)
    assert [r[2] for r in lease_rows(emu, first.key)][-2:] == ["released", "released"]


def test_a_crashed_runs_claim_blocks_only_until_it_expires(emu: SheetsEmulator, config: Config) -> None:
    backend = google_queue(emu, config, [row("2026-12-01 09:10")])
    crashed = google_backend(emu, backend.key)
    crashed._take_lease({})  # claimed, then the machine died: never released
    with pytest.raises(WorkbookBusyError, match="another run is working on this sheet"):
        service.refresh(config=config, backend=backend, now=NOW)
    assert all(r[model.ID] is None for r in records(backend))  # nothing written
    backend.clock = lambda: datetime.now(UTC) + timedelta(minutes=4)  # past the claim's expiry
    outcome = service.refresh(config=config, backend=backend, now=NOW)
    assert outcome.result is not None and [r[model.ID] for r in records(backend)] == ["CB-00001"]


def test_read_only_commands_take_no_lease(emu: SheetsEmulator, config: Config) -> None:
    backend = google_queue(emu, config, [row("2026-12-01 09:10")])
    service.refresh(config=config, backend=backend, now=NOW)
    emu.reset_log()
    service.validate(config=config, backend=backend, now=NOW)
    again = service.refresh(config=config, backend=backend, now=NOW)
    assert again.plan.summary.changes == 0 and len(emu.requests) == 2 and emu.count("POST") == 0


# --- IDs placed on the right row even when staff delete one during the write ----------------------
def test_a_row_deleted_between_the_re_read_and_the_write_moves_no_id(
    emu: SheetsEmulator, config: Config
) -> None:
    from tests.test_google_backend import _rows, staff

    staff_rows = [
        row("2026-12-01 09:10", Caller="A One", ID="CB-00001"),
        row("2026-12-01 11:50", Caller="B Two", Reason="Billing"),  # no ID yet
        row("2026-12-01 13:30", Caller="C Three", ID="CB-00003"),
    ]
    twin = google_queue(emu, config, [staff_rows[0], staff_rows[2]])
    service.refresh(config=config, backend=twin, now=NOW)
    expected = {r["Caller"]: r for r in records(twin)}
    backend = google_queue(emu, config, staff_rows)
    emu.before_request(4, staff(emu, backend, _rows("deleteDimension", 2, 3)))  # B, just before the write
    outcome = service.refresh(config=config, backend=backend, now=NOW)
    assert outcome.result is not None
    assert any("put back on their rows" in s for s in outcome.result.skipped)
    after = records(backend)
    assert [r["ID"] for r in after] == ["CB-00001", "CB-00003"]  # C's ID was not overwritten by B's
    by_caller = {r["Caller"]: r for r in after}
    planned = {(c.row_id, c.column): c.value for c in outcome.plan.changes.cells}
    for caller in ("A One", "C Three"):  # the Owner was planned with B still there: compared below
        mine, theirs = by_caller[caller], expected[caller]
        assert {k: v for k, v in mine.items() if k != model.OWNER} == {
            k: v for k, v in theirs.items() if k != model.OWNER
        }
    for item in ("CB-00001", "CB-00003"):  # Owner and Urgency fills too: on the item's row (issue 13)
        got = next(r for r in after if r[model.ID] == item)
        for fill in (model.OWNER, model.URGENCY):
            if (item, fill) in planned:
                assert got[fill] == planned[(item, fill)], (item, fill)
    assert ("CB-00003", model.OWNER) in planned  # C's fill was among the cells that moved
    assert len(after) == 2  # the row that moved up left no computed cells behind on row 4
    again = service.refresh(config=config, backend=backend, now=NOW)  # nothing left to put right
    assert again.plan.changes.cells == []  # (the Demand tab recounts without B)


def test_a_row_inserted_between_the_re_read_and_the_write_puts_owner_and_urgency_on_their_items(
    emu: SheetsEmulator, config: Config
) -> None:
    from tests.test_google_backend import _rows, _type, staff

    staff_rows = [
        row("2026-12-01 09:10", Caller="A One", ID="CB-00001"),
        row("2026-12-01 11:50", Caller="B Two", Reason="Clinical concern"),  # urgent: Urgency filled
        row("2026-12-01 13:30", Caller="C Three", ID="CB-00003", Owner="Dana"),  # staff's own Owner
    ]
    twin = google_queue(emu, config, staff_rows)
    service.refresh(config=config, backend=twin, now=NOW)
    expected = {r["Caller"]: r for r in records(twin)}
    backend = google_queue(emu, config, staff_rows)
    # staff insert a blank row above B and type a call on it, just before the write
    inserted = staff(emu, backend, _rows("insertDimension", 2, 3), _type(2, "Caller", "Z New"))
    emu.before_request(4, inserted)
    outcome = service.refresh(config=config, backend=backend, now=NOW)
    assert outcome.result is not None
    assert any("put back on their rows" in s for s in outcome.result.skipped)
    by_caller = {r["Caller"]: r for r in records(backend)}
    for caller in ("A One", "B Two", "C Three"):
        mine, theirs = by_caller[caller], expected[caller]
        assert (mine[model.ID], mine[model.OWNER], mine[model.URGENCY]) == (
            theirs[model.ID],
            theirs[model.OWNER],
            theirs[model.URGENCY],
        ), caller
    assert by_caller["C Three"][model.OWNER] == "Dana"  # staff's Owner never overwritten
    assert by_caller["B Two"][model.URGENCY] is not None  # the fill reached B's row
    z = by_caller["Z New"]  # the inserted row got none of B's fills
    assert (z[model.OWNER], z[model.URGENCY], z[model.ID]) == (None, None, None), z


def test_a_misplaced_fill_typed_over_is_left_as_typed(emu: SheetsEmulator, config: Config) -> None:
    from tests.test_google_backend import _rows, _type, staff

    staff_rows = [
        row("2026-12-01 09:10", Caller="A One", ID="CB-00001"),
        row("2026-12-01 11:50", Caller="B Two", Reason="Billing"),
        row("2026-12-01 13:30", Caller="C Three", ID="CB-00003"),
    ]
    backend = google_queue(emu, config, staff_rows)
    emu.before_request(4, staff(emu, backend, _rows("deleteDimension", 2, 3)))  # B, before the write
    typed = staff(emu, backend, _type(2, model.OWNER, "Lee"), _type(2, model.URGENCY, "Routine"))
    emu.before_request(5, typed)  # then someone types on row 3 (C now) before the read back
    service.refresh(config=config, backend=backend, now=NOW)
    [_, c] = records(backend)
    assert c["Caller"] == "C Three" and c[model.OWNER] == "Lee" and c[model.URGENCY] == "Routine"


# --- the Lease tab stays small: winners trim the settled claims above their own ----------------------
def _scratch_write(backend: Any, value: int) -> None:
    """One real write through the lease (a cell on a tab of its own), as every writing command does."""
    from callback_sheets.cells import Changeset

    snapshot = backend.read()
    backend.write(snapshot, Changeset(tab_cells={"Scratch": {(1, 1): value}}))


@pytest.mark.slow
def test_two_hundred_runs_and_racing_pairs_leave_a_small_lease_tab(
    emu: SheetsEmulator, config: Config
) -> None:
    from callback_sheets.backends.google.lease import TAB_ROWS, TRIM_AT

    first = google_queue(emu, config, [row("2026-12-01 09:10")])
    second = google_backend(emu, first.key)
    busy: list[str] = []

    def rival(value: int) -> Any:
        def run() -> None:
            try:
                _scratch_write(second, value)
            except WorkbookBusyError as exc:
                busy.append(str(exc))

        return run

    sizes, moved = [], []
    for n in range(200):
        if n % 20 == 7:  # the rival claims after us and re-reads before our write: it must stand down
            emu.before_request(4, rival(-n))  # read, metadata, claim, then: re-read
            _scratch_write(first, n)
            assert len(busy) == 1 and "another run is working on this sheet" in busy.pop()
        elif n % 20 == 13:  # the rival ran wholly before our claim: both write, one after the other
            emu.before_request(3, rival(-n))
            _scratch_write(first, n)
            assert not busy
        elif n % 20 == 17:  # the rival claims after our re-read (we may trim); it writes after us

            def claim_only() -> None:
                second._take_lease({})

            emu.before_request(5, claim_only)
            _scratch_write(first, n)
            assert second._claim is not None
            tokens = [r[0] for r in lease_rows(emu, first.key)]
            moved.append(tokens.index(second._claim.token) + 1 != second._claim.row)
            _scratch_write(second, -n)  # its claim moved up under it: found by its token, released
            assert second._claim is None
        else:
            _scratch_write(first, n)
        rows = lease_rows(emu, first.key)
        sizes.append(len(rows))
        assert all(r[2] in ("released", "withdrawn") for r in rows), rows  # nothing left live
    grid = emu.store.get(first.key).sheet_by_title(LEASE_TAB).row_count
    assert max(sizes) <= TRIM_AT + 2 and grid <= TAB_ROWS + 2, (max(sizes), grid)
    assert min(sizes[50:]) <= 3  # it was trimmed, again and again
    assert any(moved)  # a pending claim was moved up by a trim, and found again by its token


def test_no_trim_while_a_claim_below_ours_is_unsettled(emu: SheetsEmulator, config: Config) -> None:
    first = google_queue(emu, config, [row("2026-12-01 09:10")])
    other = google_backend(emu, first.key)
    for _ in range(25):  # 25 settled claims: past the trim point
        other._take_lease({})
        other.release()
    before = len(lease_rows(emu, first.key))
    emu.before_request(4, lambda: other._take_lease({}))  # a claim after ours, before our re-read
    _scratch_write(first, 1)
    rows = lease_rows(emu, first.key)
    assert len(rows) == before + 2 and rows[-2][2] == "released" and rows[-1][2] == ""  # it waits
    assert other._claim is not None and other._claim.row == before + 2
    token = other._claim.token
    _scratch_write(other, 2)  # its turn: nothing follows it, so it trims
    rows = lease_rows(emu, first.key)
    assert len(rows) == 2 and rows[1] == [token, rows[1][1], "released"]
