"""Routing and cadence of escalations (issue 11), on the memory backend and a real workbook."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.app.reports import build_report
from callback_sheets.app.review import end_of_day_review
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.backends.memory import MemoryBackend
from callback_sheets.cells import Changeset
from callback_sheets.cli import main
from callback_sheets.config import Config
from tests.conftest import row
from tests.test_refresh import memory_queue

T = datetime.fromisoformat


def plan_of(config: Config, rows: list[dict], now: str) -> tuple[MemoryBackend, service.RefreshPlan]:
    backend = memory_queue(config, rows)
    outcome = service.refresh(config=config, backend=backend, now=T(now + "-06:00"))
    return backend, outcome.plan


def test_every_escalation_is_on_the_escalation_owners_list(config: Config) -> None:
    rows = [
        row("2026-12-01 09:00", Reason="Clinical concern", Urgency="Urgent", Owner="Maria"),
        row("2026-12-01 09:00", Reason="Billing", Status="Escalated", Owner="James"),
        row("2026-12-01 09:00", Reason="Billing", Urgency="Urgent"),
        row("2026-12-01 09:00", Reason="Billing", Notes="chest  pains", Owner="Maria"),
        row("2026-12-01 09:00", Reason="Billing", Notes="about a fee", Owner="Maria"),
    ]
    backend, plan = plan_of(config, rows, "2026-12-01T09:05")
    nurse = service.queue_views(plan, owner="nurse patel")
    assert len(nurse) == 4 and all(v.escalation for v in nurse)
    records = backend.records()
    # staff-set owners are never overwritten; the empty one goes to the escalation owner
    assert [r[model.OWNER] for r in records] == ["Maria", "James", "Nurse Patel", "Maria", "Maria"]
    assert records[1][model.ESCALATION] == "ESCALATED to Nurse Patel: status Escalated"
    assert records[2][model.ESCALATION] == "ESCALATED to Nurse Patel: urgency Urgent"
    assert records[1][model.NEXT_ATTEMPT] == datetime(2026, 12, 1, 9, 15)  # the escalation window
    assert {r[model.NEXT_STEP] for r in records[:4]} == {
        "Hand to Nurse Patel: no clinical advice at the front desk"
    }
    assert len(service.queue_views(plan, owner="Maria")) == 3  # still on Maria's list too


def test_cadence_after_an_unsuccessful_attempt(config: Config) -> None:
    r = row(
        "2026-12-01 14:00",
        Reason="Clinical concern",
        Attempts=1,
        Last_attempt=T("2026-12-01 14:10"),
        Last_outcome="No answer",
        Status="In progress",
    )
    backend, _ = plan_of(config, [r], "2026-12-01T14:20")
    [out] = backend.records()
    assert out[model.NEXT_ATTEMPT] == datetime(2026, 12, 1, 14, 40)  # 30 business minutes, not tomorrow
    assert out[model.NEXT_STEP] == "Escalated: Nurse Patel calls again (attempt 2 of 3)"
    assert out[model.ESCALATION].startswith("ESCALATED")
    used_up = {**r, "Attempts": 3, "Last outcome": "Voicemail left"}
    backend, plan = plan_of(config, [used_up], "2026-12-01T15:00")
    [out] = backend.records()
    assert out[model.NEXT_STEP] == config.escalation.final_step and "provider on call" in out[model.NEXT_STEP]
    assert out[model.ESCALATION].startswith("ESCALATED") and service.queue_views(plan, owner="Nurse Patel")
    reached = {**r, "Last outcome": "Reached"}
    backend, plan = plan_of(config, [reached], "2026-12-01T14:20")
    [out] = backend.records()
    assert out[model.ESCALATION] is None and not service.queue_views(plan, owner="Nurse Patel")


def test_review_and_reports_agree_with_the_sheet(config: Config) -> None:
    rows = [
        row("2026-12-01 09:00", ID="A", Reason="Billing", Status="Escalated", Owner="James"),
        row("2026-12-01 09:00", ID="B", Reason="Billing", Urgency="Urgent", Owner="James"),
        row("2026-12-01 09:00", ID="C", Reason="Billing", Notes="sangrando", Owner="James"),
        row("2026-12-01 09:00", ID="D", Reason="Billing", Owner="James"),
    ]
    backend, plan = plan_of(config, rows, "2026-12-01T16:00")
    flagged = {v.id for v in plan.views if v.escalation}
    assert flagged == {"A", "B", "C"}
    report = build_report(
        config=config,
        snapshot=backend.read(tabs=(model.HISTORY_TAB,)),
        period="daily",
        now=T("2026-12-01T16:00-06:00"),
    )
    assert report.scopes[0].figures.escalations == 3
    review = end_of_day_review(config=config, backend=backend, now=T("2026-12-01T17:15-06:00"))
    assert {e.id for e in review.urgent_not_escalated} == {"B", "C"}  # A's Status already says Escalated


def test_a_second_notes_column_is_read_and_reported(tmp_path: Path, config: Config) -> None:
    backend = ExcelBackend(config.workbook)
    service.init(config=config, backend=backend)
    import openpyxl

    wb = openpyxl.load_workbook(config.workbook)
    ws = wb[model.QUEUE_TAB]
    extra = ws.max_column + 1
    ws.cell(1, extra, "Notes")
    wb.save(config.workbook)
    with backend.session():
        backend.write(backend.read(), Changeset(new_rows=[row("2026-12-01 09:00", Reason="Billing")]))
    wb = openpyxl.load_workbook(config.workbook)
    wb[model.QUEUE_TAB].cell(2, extra, "can't breath")
    wb.save(config.workbook)
    result = CliRunner().invoke(
        main, ["--config", str(config.path), "refresh", "--now", "2026-12-01T09:05", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["summary"]["escalations"] == 1
    assert "2 columns are headed 'Notes'" in out["sheet_problems"][0]
    assert "problem: 2 columns are headed 'Notes'" in result.stderr
    doctor = CliRunner().invoke(main, ["--config", str(config.path), "doctor"])
    assert doctor.exit_code == 1 and "FAIL  duplicate header: 2 columns are headed 'Notes'" in doctor.stdout


def test_queue_owner_json_and_csv_include_escalations(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    make_queue([row("2026-12-01 09:00", Reason="Clinical concern", Owner="Maria")])
    args = ["--config", str(config.path), "queue", "--owner", "Nurse Patel", "--now", "2026-12-01T09:05"]
    as_json = json.loads(CliRunner().invoke(main, [*args, "--json"]).stdout)
    assert [i["owner"] for i in as_json] == ["Maria"] and as_json[0]["flag"] == "ESCALATED"
    as_csv = CliRunner().invoke(main, [*args, "--csv"]).stdout
    assert "ESCALATED" in as_csv and "Hand to Nurse Patel" in as_csv
