"""The Excel backend on real .xlsx files: safe writes, staff edits kept, rows found by ID."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.backends.excel.lock import lock_path, workbook_lock
from callback_sheets.config import Config
from callback_sheets.errors import WorkbookBusyError, WorkbookChangedError
from tests.conftest import row

NOW = datetime.fromisoformat("2026-12-01T15:00-06:00")


def sheet_rows(path: Path, tab: str = model.QUEUE_TAB) -> list[dict]:
    wb = openpyxl.load_workbook(path)
    ws = wb[tab]
    header = [c.value for c in ws[1]]
    return [
        dict(zip(header, (c.value for c in r), strict=False))
        for r in ws.iter_rows(min_row=2)
        if any(c.value is not None for c in r)
    ]


def test_init_builds_the_sheet(config: Config) -> None:
    backend = ExcelBackend(config.workbook)
    notes = service.init(config=config, backend=backend)
    assert "created" in notes[0]
    wb = openpyxl.load_workbook(config.workbook)
    ws = wb[model.QUEUE_TAB]
    header = [c.value for c in ws[1]]
    for name in (
        "ID",
        "Received",
        "Caller",
        "Phone",
        "Patient type",
        "Language",
        "Reason",
        "Urgency",
        "Owner",
        "Status",
        "Attempts",
        "Last attempt",
        "Last outcome",
        "Notes",
        "Next attempt",
        "Overdue",
        "Problems",
    ):
        assert name in header
    assert ws.freeze_panes == "B2" and ws["A1"].font.bold
    assert ws.cell(1, header.index("Next attempt") + 1).fill.fgColor.rgb != ws["A1"].fill.fgColor.rgb
    validated = {str(dv.sqref).split(":")[0] for dv in ws.data_validations.dataValidation}
    for column in (
        model.REASON,
        model.STATUS,
        model.URGENCY,
        model.LAST_OUTCOME,
        model.LANGUAGE,
        model.PATIENT_TYPE,
    ):
        letter = openpyxl.utils.get_column_letter(header.index(column) + 1)
        assert f"{letter}2" in validated, column
    rules = [r.formula[0] for cf in ws.conditional_formatting for r in cf.rules]
    assert any("OVERDUE" in f for f in rules) and any("LEN(" in f for f in rules)
    assert {model.LISTS_TAB, model.HISTORY_TAB, model.METRICS_TAB, model.DEMAND_TAB} <= set(wb.sheetnames)


def test_init_upgrades_without_touching_rows(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Queue"
    ws.append(["Caller", "Phone", "Received", "My own column"])
    ws.append(["Pat Example", "(312) 555-0142", datetime(2026, 12, 1, 9, 10), "keep me"])
    wb.save(config.workbook)
    notes = service.init(config=config, backend=ExcelBackend(config.workbook))
    assert any("added columns" in n for n in notes)
    [r] = sheet_rows(config.workbook)
    assert r["My own column"] == "keep me" and r["Caller"] == "Pat Example"
    assert service.init(config=config, backend=ExcelBackend(config.workbook)) == [
        f"{config.workbook.name} is up to date"
    ]


def test_refresh_twice_leaves_the_file_untouched(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    backend = make_queue([row("2026-12-01 09:10"), row("2026-12-01 11:50", Reason="Billing")])
    service.refresh(config=config, backend=backend, now=NOW)
    before = config.workbook.read_bytes(), config.workbook.stat().st_mtime_ns
    outcome = service.refresh(config=config, backend=backend, now=NOW)
    assert outcome.plan.summary.changes == 0
    assert (config.workbook.read_bytes(), config.workbook.stat().st_mtime_ns) == before


def test_rows_sorted_by_staff_between_refreshes(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    backend = make_queue(
        [
            row("2026-12-01 09:10", Caller="A One"),
            row("2026-12-01 11:50", Caller="B Two"),
            row("2026-12-01 18:30", Caller="C Three"),
        ]
    )
    service.refresh(config=config, backend=backend, now=NOW)
    by_caller = {r["Caller"]: r for r in sheet_rows(config.workbook)}
    # staff sort descending by caller and insert an empty row between, in "Excel"
    wb = openpyxl.load_workbook(config.workbook)
    ws = wb[model.QUEUE_TAB]
    data = [[c.value for c in r] for r in ws.iter_rows(min_row=2, max_row=4)]
    data.sort(key=lambda r: r[2], reverse=True)
    ws.delete_rows(2, 3)
    for i, values in enumerate([data[0], [None] * len(data[0]), data[1], data[2]], start=2):
        for j, v in enumerate(values, start=1):
            ws.cell(i, j, v)
    wb.save(config.workbook)
    service.refresh(config=config, backend=backend, now=NOW)
    after = {r["Caller"]: r for r in sheet_rows(config.workbook)}
    for caller in by_caller:
        assert after[caller]["ID"] == by_caller[caller]["ID"]
        assert after[caller]["Next attempt"] == by_caller[caller]["Next attempt"]


def test_staff_edit_during_refresh_survives(config: Config, make_queue, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    backend = make_queue([row("2026-12-01 09:10")])
    real_read = ExcelBackend.read
    calls = {"n": 0}

    def read_then_staff_saves(self, **kw):  # type: ignore[no-untyped-def]
        snap = real_read(self, **kw)
        calls["n"] += 1
        if calls["n"] == 1:  # staff save the workbook while the refresh is computing
            wb = openpyxl.load_workbook(config.workbook)
            ws = wb[model.QUEUE_TAB]
            header = [c.value for c in ws[1]]
            ws.cell(2, header.index("Notes") + 1, "patient called again")
            wb.save(config.workbook)
        return snap

    monkeypatch.setattr(ExcelBackend, "read", read_then_staff_saves)
    outcome = service.refresh(config=config, backend=backend, now=NOW)
    assert outcome.tries == 2
    [r] = sheet_rows(config.workbook)
    assert r["Notes"] == "patient called again" and r["ID"] == "CB-00001"


def test_write_refused_when_file_changed_since_read(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    backend = make_queue([row("2026-12-01 09:10")])
    snapshot, plan = service.read_plan(config=config, backend=backend, now=NOW)
    os.utime(config.workbook, ns=(1, 1))
    with pytest.raises(WorkbookChangedError):
        backend.write(snapshot, plan.changes)


@pytest.mark.parametrize("lockname", [".~lock.queue.xlsx#", "~$queue.xlsx"])
def test_refuses_while_open_elsewhere(config: Config, make_queue, lockname: str) -> None:  # type: ignore[no-untyped-def]
    backend = make_queue([row("2026-12-01 09:10")])
    before = config.workbook.read_bytes()
    (config.workbook.parent / lockname).write_text("someone")
    with pytest.raises(WorkbookBusyError, match="is open in"):
        service.refresh(config=config, backend=backend, now=NOW)
    assert config.workbook.read_bytes() == before


def test_two_runs_never_overlap_and_stale_lock_is_taken_over(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    backend = make_queue([row("2026-12-01 09:10")])
    with (
        workbook_lock(config.workbook),
        pytest.raises(WorkbookBusyError, match="another callback-sheets run"),
    ):
        service.refresh(config=config, backend=backend, now=NOW)
    # a crashed run's lock (dead pid on this host) does not block forever
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    import json
    import socket

    lock_path(config.workbook).write_text(
        json.dumps({"pid": int(proc.stdout), "host": socket.gethostname(), "time": 0})
    )
    service.refresh(config=config, backend=backend, now=NOW)
    assert not lock_path(config.workbook).exists()


def test_formula_injection_is_stored_as_text(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    evil = ['=HYPERLINK("http://x","y")', "+1-555-0100", "@SUM(A1)", "-2+3"]
    backend = make_queue([row("2026-12-01 09:10", Caller=e, Notes=e) for e in evil])
    service.refresh(config=config, backend=backend, now=NOW)
    assert [r["Caller"] for r in sheet_rows(config.workbook)] == evil
    with zipfile.ZipFile(config.workbook) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    # The only formulas are the tool's own Script links to the Scripts tab.
    formulas = re.findall(r"<f[ >].*?</f>", sheet)
    assert formulas and all(f.startswith("<f>HYPERLINK(\"#'Scripts'!A") for f in formulas), formulas[:3]


def test_everything_staff_added_is_kept(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    backend = make_queue([row("2026-12-01 09:10")])
    wb = openpyxl.load_workbook(config.workbook)
    notes = wb.create_sheet("Staff notes")
    notes["A1"] = "Phones down Tuesday"
    notes["A1"].font = openpyxl.styles.Font(color="FF0000", bold=True)
    wb[model.QUEUE_TAB].column_dimensions["C"].width = 33
    wb.save(config.workbook)
    service.refresh(config=config, backend=backend, now=NOW)
    wb = openpyxl.load_workbook(config.workbook)
    assert wb["Staff notes"]["A1"].value == "Phones down Tuesday" and wb["Staff notes"]["A1"].font.bold
    assert wb[model.QUEUE_TAB].column_dimensions["C"].width == 33
    assert wb[model.QUEUE_TAB].data_validations.dataValidation


KILL_SCRIPT = textwrap.dedent("""
    import os, sys, signal
    from pathlib import Path
    from callback_sheets.backends.excel import files as excel_files
    real = excel_files.os.replace
    def slow_produce_then_die(tmp):
        Path(tmp).write_bytes(b"PK half a zip")
        os.kill(os.getpid(), signal.SIGKILL)
    excel_files.atomic_write(Path(sys.argv[1]), slow_produce_then_die)
""")


def test_killed_mid_save_leaves_the_old_workbook(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    make_queue([row("2026-12-01 09:10")])
    before = config.workbook.read_bytes()
    proc = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(config.workbook)], capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    assert config.workbook.read_bytes() == before
    openpyxl.load_workbook(config.workbook)  # still a valid workbook


def test_killed_at_random_points_of_a_real_refresh(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    make_queue([row(f"2026-12-01 {8 + i % 9:02d}:{i % 60:02d}") for i in range(300)])
    script = textwrap.dedent(f"""
        from datetime import datetime
        from callback_sheets.app import service
        from callback_sheets.config import load_config
        from callback_sheets.backends.excel.backend import ExcelBackend
        cfg = load_config(__import__('pathlib').Path({str(config.path)!r}))
        now = datetime.fromisoformat("{NOW.isoformat()}")
        service.refresh(config=cfg, backend=ExcelBackend(cfg.workbook), now=now)
    """)
    import time

    for delay in (0.05, 0.2, 0.4, 0.8):
        proc = subprocess.Popen([sys.executable, "-c", script])
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        wb = openpyxl.load_workbook(config.workbook)  # old or new, never broken
        assert wb[model.QUEUE_TAB].max_row >= 301
        lock_path(config.workbook).unlink(missing_ok=True)
        for leftover in config.workbook.parent.glob(".queue.*.tmp.xlsx"):
            leftover.unlink()
