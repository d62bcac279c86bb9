"""The queue's record stays true: IDs are never issued twice, and History holds each real attempt once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.backends.memory import MemoryBackend
from callback_sheets.cells import Changeset
from callback_sheets.config import Config, load_config
from callback_sheets.core.queue_state import QueueState
from callback_sheets.errors import RefusedError
from tests.conftest import CLINIC_TOML, row

NOW = datetime.fromisoformat("2026-12-01T09:00-06:00")


def memory_queue(config: Config, rows: list[dict]) -> MemoryBackend:
    backend = MemoryBackend()
    service.init(config=config, backend=backend)
    header = backend.sheets[model.QUEUE_TAB][0]
    for r in rows:
        backend.sheets[model.QUEUE_TAB].append([r.get(h) for h in header])
    return backend


def delete_row(backend: MemoryBackend, position: int) -> None:
    del backend.sheets[model.QUEUE_TAB][position - 1]
    backend.version += 1


def add_row(backend: MemoryBackend, values: dict) -> None:
    grid = backend.sheets[model.QUEUE_TAB]
    grid.append([values.get(h) for h in grid[0]])
    backend.version += 1


def ids(backend: MemoryBackend) -> list[str]:
    return [r[model.ID] for r in backend.records()]


# --- IDs ------------------------------------------------------------------------------------------------
def test_an_id_whose_row_was_deleted_is_never_issued_again(config: Config) -> None:
    backend = memory_queue(config, [row("2026-12-01 08:10"), row("2026-12-01 08:20")])
    service.refresh(config=config, backend=backend, now=NOW)
    assert ids(backend) == ["CB-00001", "CB-00002"]
    delete_row(backend, 3)  # CB-00002, never attempted: not in History either
    add_row(backend, row("2026-12-01 08:40"))
    service.refresh(config=config, backend=backend, now=NOW)
    assert ids(backend) == ["CB-00001", "CB-00003"]
    delete_row(backend, 2)
    delete_row(backend, 2)  # every row gone
    add_row(backend, row("2026-12-01 08:50"))
    service.refresh(config=config, backend=backend, now=NOW)
    assert ids(backend) == ["CB-00004"]
    state = QueueState.of(tuple(tuple(r) for r in backend.sheets[model.STATE_TAB]))
    assert state.id_high_water() == 4


def test_an_id_typed_by_staff_raises_the_mark(config: Config) -> None:
    backend = memory_queue(config, [row("2026-12-01 08:10", ID="CB-00040")])
    service.refresh(config=config, backend=backend, now=NOW)
    delete_row(backend, 2)
    add_row(backend, row("2026-12-01 08:40"))
    service.refresh(config=config, backend=backend, now=NOW)
    assert ids(backend) == ["CB-00041"]


def test_a_duplicate_id_typed_by_staff_stays_a_problem(config: Config) -> None:
    backend = memory_queue(config, [row("2026-12-01 08:10", ID="CB-00001"), row("2026-12-01 08:20")])
    service.refresh(config=config, backend=backend, now=NOW)
    backend.staff_edit(3, model.ID, "CB-00001")
    service.refresh(config=config, backend=backend, now=NOW)
    a, b = backend.records()
    assert "also on row 3" in a[model.PROBLEMS] and "also on row 2" in b[model.PROBLEMS]


def test_the_mark_is_raised_by_the_one_function_an_archive_calls() -> None:
    state = QueueState.of(((*model.STATE_COLUMNS,),))
    changes = Changeset()
    assert state.raise_id_high_water(changes, 120)
    assert not state.raise_id_high_water(changes, 90)  # never lowered
    assert changes.tab_cells[model.STATE_TAB] == {(2, 1): "id_high_water", (2, 2): 120}
    empty = QueueState.of(())
    changes = Changeset()
    empty.raise_id_high_water(changes, 7)  # no tab yet: its header comes along
    assert changes.tab_cells[model.STATE_TAB][(1, 1)] == "Key"


def test_excel_keeps_the_mark_on_a_hidden_tab_through_the_patcher(make_queue, config: Config) -> None:
    from openpyxl import load_workbook

    backend = make_queue([row("2026-12-01 08:10"), row("2026-12-01 08:20")])
    service.refresh(config=config, backend=backend, now=NOW)
    assert backend.last_write_path == "patch"
    wb = load_workbook(config.workbook)
    assert wb[model.STATE_TAB].sheet_state == "hidden"
    assert [c.value for c in wb[model.STATE_TAB][2]] == ["id_high_water", 2]
    # staff delete the CB-00002 row in Excel (rows found by ID; delete the last one)
    ws = wb[model.QUEUE_TAB]
    ws.delete_rows(3)
    header = [c.value for c in ws[1]]
    new = row("2026-12-01 09:00")
    ws.append([new.get(h) for h in header])
    wb.save(config.workbook)
    service.refresh(config=config, backend=backend, now=NOW)
    got = [r.get(model.ID) for r in backend.read().rows if r.get(model.RECEIVED)]
    assert got == ["CB-00001", "CB-00003"]


def test_a_workbook_made_before_the_state_tab_gets_it_through_the_patcher(make_queue, config: Config) -> None:
    """A queue from an earlier version has no State tab: the first refresh that issues an ID adds it
    (grafted: a hidden tab alone once made openpyxl refuse the donor package) and every other part stays."""
    import zipfile

    from openpyxl import load_workbook

    backend = make_queue([row("2026-12-01 08:10")])
    wb = load_workbook(config.workbook)
    if model.STATE_TAB in wb.sheetnames:
        del wb[model.STATE_TAB]
    wb.save(config.workbook)
    with zipfile.ZipFile(config.workbook) as z:
        before = {n: z.read(n) for n in z.namelist()}
    service.refresh(config=config, backend=backend, now=NOW)
    assert backend.last_write_path == "patch"
    wb = load_workbook(config.workbook)
    assert wb[model.STATE_TAB].sheet_state == "hidden"
    assert [c.value for c in wb[model.STATE_TAB][2]] == ["id_high_water", 1]
    with zipfile.ZipFile(config.workbook) as z:
        after = {n: z.read(n) for n in z.namelist()}
    grown = {"xl/workbook.xml", "[Content_Types].xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"}
    kept = [n for n in before if n not in grown and not n.startswith("docProps/")]
    changed = [n for n in kept if after.get(n) != before[n]]
    assert changed and all(n.startswith("xl/worksheets/sheet") for n in changed)  # the tabs' own cells


# --- History --------------------------------------------------------------------------------------------
def history(backend: MemoryBackend) -> list[tuple[str, int, datetime]]:
    return [(h["ID"], h["Attempt"], h["Time"]) for h in backend.records(model.HISTORY_TAB)]


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-12-01T{text}-06:00")


def staff_attempt(backend: MemoryBackend, position: int, attempts: int, when: datetime, outcome: str) -> None:
    backend.staff_edit(position, model.ATTEMPTS, attempts)
    backend.staff_edit(position, model.LAST_ATTEMPT, when.replace(tzinfo=None))
    backend.staff_edit(position, model.LAST_OUTCOME, outcome)


def test_attempt_command_first_logs_the_attempt_staff_typed(config: Config) -> None:
    backend = memory_queue(config, [row("2026-12-01 08:10")])
    service.refresh(config=config, backend=backend, now=at("08:30"))
    staff_attempt(backend, 2, 1, at("09:30"), "No answer")  # typed in the sheet, no refresh since
    service.record_attempt(
        config=config,
        backend=backend,
        item_id="CB-00001",
        outcome="Voicemail left",
        note=None,
        now=at("10:15"),
    )
    assert history(backend) == [
        ("CB-00001", 1, datetime(2026, 12, 1, 9, 30)),
        ("CB-00001", 2, datetime(2026, 12, 1, 10, 15)),
    ]
    [out] = backend.records()
    assert out[model.FIRST_ATTEMPT] == datetime(2026, 12, 1, 9, 30)


def test_attempts_corrected_down_is_a_problem_and_the_next_real_attempt_is_logged(config: Config) -> None:
    backend = memory_queue(config, [row("2026-12-01 08:10")])
    service.refresh(config=config, backend=backend, now=at("08:30"))
    staff_attempt(backend, 2, 1, at("09:00"), "No answer")
    service.refresh(config=config, backend=backend, now=at("09:05"))
    staff_attempt(backend, 2, 2, at("10:00"), "No answer")
    service.refresh(config=config, backend=backend, now=at("10:01"))
    backend.staff_edit(2, model.ATTEMPTS, 3)  # a typo...
    service.refresh(config=config, backend=backend, now=at("10:05"))
    backend.staff_edit(2, model.ATTEMPTS, 2)  # ...corrected
    service.refresh(config=config, backend=backend, now=at("10:10"))
    [out] = backend.records()
    assert "Attempts went from 3 to 2: History keeps 3 rows" in out[model.PROBLEMS]
    assert [n for _, n, _ in history(backend)] == [1, 2, 3]  # no second row for attempt 2
    service.record_attempt(
        config=config, backend=backend, item_id="CB-00001", outcome="Booked", note=None, now=at("14:00")
    )
    rows = backend.records(model.HISTORY_TAB)
    assert [(h["Attempt"], h["Time"], h["Outcome"]) for h in rows][-1] == (
        3,
        datetime(2026, 12, 1, 14),
        "Booked",
    )
    [out] = backend.records()
    assert "Attempts went" not in (out[model.PROBLEMS] or "")
    service.refresh(config=config, backend=backend, now=at("14:05"))
    assert len(backend.records(model.HISTORY_TAB)) == 4


# --- the state machine ------------------------------------------------------------------------------------
OUTCOMES = ("No answer", "Voicemail left", "Reached")


class HistoryMachine(RuleBasedStateMachine):
    """Staff edits, `attempt` commands and refreshes in any order, on two items: History ends with exactly
    one row per real attempt, in order, with its time; First attempt is the first one's time."""

    make_backend: staticmethod  # set by the subclasses below

    def __init__(self) -> None:
        super().__init__()
        self.config = load_config(_clinic())
        self.backend = self.make_backend(self.config)
        self.clock = at("08:00")
        self.real: dict[str, list[datetime]] = {}
        self.unlogged: set[str] = set()  # IDs whose latest staff-typed attempt no command has seen yet

    @initialize()
    def start(self) -> None:
        _add(self.backend, row("2026-12-01 07:50"))
        _add(self.backend, row("2026-12-01 07:55", Reason="Billing"))
        service.refresh(config=self.config, backend=self.backend, now=self.clock)
        self.real = {i: [] for i in _ids(self.backend)}

    def _tick(self, minutes: int) -> datetime:
        self.clock += timedelta(minutes=minutes)
        return self.clock

    def _position(self, item_id: str) -> int:
        return 2 + _ids(self.backend).index(item_id)

    @precondition(lambda self: len(self.real) == 2)
    @rule(which=st.integers(0, 1), minutes=st.integers(1, 90), outcome=st.sampled_from(OUTCOMES))
    def staff_types_an_attempt(self, which: int, minutes: int, outcome: str) -> None:
        item_id = sorted(self.real)[which]
        if item_id in self.unlogged:
            return  # two typed attempts with no command between: the first one's time is gone from the sheet
        when = self._tick(minutes)
        count = len(self.real[item_id]) + 1
        _staff(
            self.backend,
            self._position(item_id),
            {
                model.ATTEMPTS: count,
                model.LAST_ATTEMPT: when.replace(tzinfo=None),
                model.LAST_OUTCOME: outcome,
            },
        )
        self.real[item_id].append(when.replace(tzinfo=None))
        self.unlogged.add(item_id)

    @rule(which=st.integers(0, 1), minutes=st.integers(1, 90), outcome=st.sampled_from(OUTCOMES))
    def attempt_command(self, which: int, minutes: int, outcome: str) -> None:
        item_id = sorted(self.real)[which]
        when = self._tick(minutes)
        try:
            service.record_attempt(
                config=self.config,
                backend=self.backend,
                item_id=item_id,
                outcome=outcome,
                note=None,
                now=when,
            )
        except RefusedError:  # its attempts are used up: nothing recorded, nothing written
            return
        self.real[item_id].append(when.replace(tzinfo=None))
        self.unlogged.discard(item_id)  # it logs the attempt its row held first, then its own

    @rule(minutes=st.integers(0, 60))
    def refresh(self, minutes: int) -> None:
        service.refresh(config=self.config, backend=self.backend, now=self._tick(minutes))
        self.unlogged.clear()

    @rule(which=st.integers(0, 1), text=st.sampled_from(("called back", "prefers Spanish", "")))
    def staff_edits_notes(self, which: int, text: str) -> None:
        item_id = sorted(self.real)[which]
        _staff(self.backend, self._position(item_id), {model.NOTES: text or None})

    @rule()
    def staff_sort_rows(self) -> None:
        _reverse(self.backend)

    @invariant()
    def history_is_every_seen_attempt_once(self) -> None:
        if not self.real:
            return
        logged = _history(self.backend)
        for item_id, times in self.real.items():
            rows = [(n, t) for i, n, t in logged if i == item_id]
            seen = times[:-1] if item_id in self.unlogged else times
            assert rows == [(n, t) for n, t in enumerate(seen, start=1)]

    def teardown(self) -> None:
        if not self.real:
            return
        service.refresh(config=self.config, backend=self.backend, now=self._tick(1))
        logged = _history(self.backend)
        records = _records(self.backend)
        for item_id, times in self.real.items():
            assert [(n, t) for i, n, t in logged if i == item_id] == list(enumerate(times, start=1))
            first = next(r[model.FIRST_ATTEMPT] for r in records if r[model.ID] == item_id)
            assert first == (times[0] if times else None)


def _clinic() -> Path:
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="cbs-history-"))
    (folder / "callback_sheets.toml").write_text(CLINIC_TOML, encoding="utf-8")
    return folder / "callback_sheets.toml"


def _memory(config: Config) -> MemoryBackend:
    backend = MemoryBackend()
    service.init(config=config, backend=backend)
    return backend


def _excel(config: Config) -> ExcelBackend:
    backend = ExcelBackend(config.workbook)
    service.init(config=config, backend=backend)
    return backend


def _add(backend: MemoryBackend | ExcelBackend, values: dict) -> None:
    with backend.session():
        backend.write(backend.read(), Changeset(new_rows=[values]))


def _ids(backend: MemoryBackend | ExcelBackend) -> list[str]:
    return [str(r.get(model.ID)) for r in backend.read().rows]


def _staff(backend: MemoryBackend | ExcelBackend, position: int, values: dict) -> None:
    """Staff type into the sheet (SET writes: what a person's edit does to the cells)."""
    from callback_sheets.cells import CellWrite, WriteMode

    snap = backend.read()
    [r] = [r for r in snap.rows if r.position == position]
    cells = [
        CellWrite(position, str(r.get(model.ID)), c, v, WriteMode.SET, r.get(c)) for c, v in values.items()
    ]
    with backend.session():
        backend.write(snap, Changeset(cells=cells))


def _reverse(backend: MemoryBackend | ExcelBackend) -> None:
    """Staff sort the rows the other way round (every cell of each row moves with it)."""
    from callback_sheets.cells import CellWrite, WriteMode

    snap = backend.read()
    rows = [r for r in snap.rows if r.get(model.ID)]
    cells = []
    for target, source in zip(rows, reversed(rows), strict=True):
        for column in snap.header:
            if column:
                cells.append(CellWrite(target.position, None, column, source.get(column), WriteMode.TOOL))
    with backend.session():
        backend.write(snap, Changeset(cells=cells))


def _history(backend: MemoryBackend | ExcelBackend) -> list[tuple[str, int, datetime]]:
    grid = backend.read(tabs=(model.HISTORY_TAB,)).tabs.get(model.HISTORY_TAB, ())
    return [(str(r[0]), int(r[1]), r[2]) for r in grid[1:]]  # type: ignore[call-overload]


def _records(backend: MemoryBackend | ExcelBackend) -> list[dict]:
    return [dict(r.values) for r in backend.read().rows]


class MemoryHistory(HistoryMachine):
    make_backend = staticmethod(_memory)


class ExcelHistory(HistoryMachine):
    make_backend = staticmethod(_excel)


TestHistoryOnMemory = MemoryHistory.TestCase
TestHistoryOnMemory.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestHistoryOnExcel = ExcelHistory.TestCase
TestHistoryOnExcel.settings = settings(
    max_examples=6, stateful_step_count=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
