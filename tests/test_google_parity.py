"""The same scenario on the Excel backend and the Google backend gives the same cells.

Rows with every kind of mistake staff make, a refresh, a staff sort, attempts recorded from the CLI's
service, a second refresh a day later: after each step both queues (and History) must read back equal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import pytest

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.backends.base import Backend
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.cells import CellWrite, Changeset, WriteMode
from callback_sheets.config import Config
from tests.conftest import row
from tests.sheets_emulator import SheetsEmulator
from tests.test_google_backend import google_queue

NOW = datetime.fromisoformat("2026-12-01T15:00-06:00")
LATER = datetime.fromisoformat("2026-12-02T10:30-06:00")

ROWS = [
    row("2026-12-01 09:10", Caller="Ana Ruiz", Language="Spanish"),
    row("2026-12-01 11:50", Caller="Bo Li", Reason="Billing", Phone="312 555 01"),  # invalid phone
    row("2026-12-01 18:30", Caller="Cy Dee", Reason="Clinical concern"),
    row("2026-11-30 16:45", Caller="Di Eve", Reason="Prior authorization", Notes="fiebre desde ayer"),
    row("2026-12-01 08:05", Caller="Ed Fox", Reason="Refill please"),  # unknown reason
    row("2026-12-01 10:00", Caller="Fa Gu", Status="Resolved"),  # closed without outcome
    row(
        "2026-12-01 10:20",
        Caller="Gil Ho",
        Owner="James",
        Attempts=1,
        Last_attempt="2026-12-01 10:40",
        Last_outcome="No answer",
    ),
    row("2026-12-02 10:00", Caller="Hal Ivy"),  # in the future at NOW
    {model.CALLER: "Ida Jay", model.PHONE: "(312) 555-0199", model.REASON: '=HYPERLINK("http://x")'},
]


@pytest.fixture
def emu() -> Iterator[SheetsEmulator]:
    with SheetsEmulator() as emulator:
        yield emulator


def _queue(backend: Backend, *, script: bool = False) -> list[dict[str, Any]]:
    """The rows; the Script column only when asked: a write that falls back to openpyxl keeps its
    HYPERLINK formulas but not their cached text, so a reader that does not calculate sees it empty."""
    return [{k: v for k, v in r.values.items() if script or k != model.SCRIPT} for r in backend.read().rows]


def _tab(backend: Backend, tab: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in backend.read(tabs=[tab]).tabs.get(tab, ())]


def _both(
    config: Config, make_queue: Callable[[Sequence[dict[str, Any]]], ExcelBackend], emu: SheetsEmulator
) -> tuple[Backend, Backend]:
    rows = [
        {
            k: (datetime.fromisoformat(v) if k == model.LAST_ATTEMPT and isinstance(v, str) else v)
            for k, v in r.items()
        }
        for r in ROWS
    ]
    return make_queue(rows), google_queue(emu, config, rows)


def _same(excel: Backend, google: Backend) -> None:
    assert _queue(google) == _queue(excel)
    assert _tab(google, model.HISTORY_TAB) == _tab(excel, model.HISTORY_TAB)
    assert _tab(google, model.DEMAND_TAB) == _tab(excel, model.DEMAND_TAB)


def test_refresh_attempts_and_sort_give_identical_sheets(
    config: Config, make_queue, emu: SheetsEmulator
) -> None:  # type: ignore[no-untyped-def]
    excel, google = _both(config, make_queue, emu)
    _same(excel, google)
    for backend in (excel, google):
        outcome = service.refresh(config=config, backend=backend, now=NOW)
        assert outcome.plan.summary.changes > 0
    _same(excel, google)
    assert _queue(google, script=True) == _queue(excel, script=True)
    for backend in (excel, google):
        service.record_attempt(
            config=config,
            backend=backend,
            item_id="CB-00001",
            outcome="Voicemail left",
            note="left VM in Spanish",
            now=NOW,
        )
        service.record_attempt(
            config=config,
            backend=backend,
            item_id="CB-00002",
            outcome="Wrong number",
            note=None,
            now=NOW,
            status="Resolved",
        )
    _same(excel, google)
    for backend in (excel, google):
        snapshot = backend.read()
        by_caller = sorted(snapshot.rows, key=lambda r: str(r.get(model.CALLER)), reverse=True)
        width = len(snapshot.header)
        # staff sort the queue by caller, Z to A (rewrite the rows in the new order)
        cells = [
            CellWrite(
                target.position,
                str(target.get(model.ID)),
                name,
                source.get(name),
                WriteMode.SET,
                target.get(name),
            )
            for target, source in zip(snapshot.rows, by_caller, strict=True)
            for name in snapshot.header[:width]
        ]
        backend.write(snapshot, Changeset(cells=cells))
        service.refresh(config=config, backend=backend, now=LATER)
    _same(excel, google)
    assert service.refresh(config=config, backend=google, now=LATER).plan.summary.changes == 0


def test_report_append_and_import_give_identical_sheets(
    config: Config, make_queue, emu: SheetsEmulator, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from callback_sheets.app import reports
    from callback_sheets.app.intake import import_calls
    from tests.test_import_cli import CALLS, write_export

    excel, google = _both(config, make_queue, emu)
    export = write_export(tmp_path / "calls.csv", CALLS)
    for backend in (excel, google):
        service.refresh(config=config, backend=backend, now=NOW)
        outcome = import_calls(config=config, backend=backend, path=export, fmt=None, now=NOW)
        assert outcome.written and len(outcome.plan.new_rows) == 1 and outcome.plan.merged == 2
        service.refresh(config=config, backend=backend, now=NOW)
        for period in ("daily", "weekly", "weekly"):  # the second weekly replaces the first
            reports.append_report(config=config, backend=backend, period=period, now=LATER)
        reports.append_report(config=config, backend=backend, period="weekly", now=LATER, by="language")
    _same(excel, google)
    assert _tab(google, model.METRICS_TAB) == _tab(excel, model.METRICS_TAB)
    assert _tab(google, model.INTAKE_TAB) == _tab(excel, model.INTAKE_TAB)
    labels = [r[0] for r in _tab(google, model.METRICS_TAB) if r and str(r[0]).startswith("2026-")]
    assert len(labels) == len(set(zip(labels, range(len(labels)), strict=True)))
