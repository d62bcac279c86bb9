"""The figures of a hand-built week, every one computed by hand here (default calendar: Mon–Fri
08:00–12:00 and 13:00–17:00, America/Chicago, US holidays).

Week 2026-W49 is Mon 2026-11-30 .. Sun 2026-12-06; the report runs on Mon 2026-12-07 10:00.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from callback_sheets import model
from callback_sheets.app import reports, service
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.cells import Changeset
from callback_sheets.cli import main
from callback_sheets.config import Config, load_config
from callback_sheets.core.metrics import Share, Stats, period_for

TOML = """
[clinic]
name = "Test Clinic"
timezone = "America/Chicago"
[holidays]
country = "US"
[queue]
workbook = "queue.xlsx"
[escalation]
owner = "Nurse Patel"
"""
NOW = "2026-12-07T10:00"


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def item(item_id: str, received: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        model.ID: item_id,
        model.RECEIVED: t(received),
        model.CALLER: "Pat Example",
        model.PHONE: "(312) 555-0142",
        model.REASON: "New appointment",
        model.LANGUAGE: "English",
        model.PATIENT_TYPE: "New",
        model.STATUS: "New",
        model.OWNER: "Maria",
    }
    row.update(fields)
    return row


def attempt(item_id: str, number: int, when: str, outcome: str) -> list[Any]:
    return [item_id, number, t(when), outcome, t(when), "sheet"]


# Each row says what it tests; the expected figures below are worked out from these comments.
ROWS = [
    # A: 11:40 leaves 20 min of the morning block -> same-block deadline Mon 17:00; first attempt (the only
    #    one, no History) Mon 13:20 = 20 + 20 business minutes across lunch = 40. Booked.
    item(
        "A",
        "2026-11-30 11:40",
        **{
            model.ATTEMPTS: 1,
            model.LAST_ATTEMPT: t("2026-11-30 13:20"),
            model.LAST_OUTCOME: "Booked",
            model.STATUS: "Booked",
        },
    ),
    # B: Fri 16:50 -> deadline Mon 12:00 (same block), Fri 17:00 (same day); First attempt column Mon 08:30
    #    = 10 + 30 = 40 business minutes across the weekend: block met, day missed. Open, not > 1 day.
    item(
        "B",
        "2026-12-04 16:50",
        **{
            model.ATTEMPTS: 1,
            model.LAST_ATTEMPT: t("2026-12-07 08:30"),
            model.FIRST_ATTEMPT: t("2026-12-07 08:30"),
            model.LAST_OUTCOME: "Voicemail left",
            model.STATUS: "In progress",
        },
    ),
    # C: repeat caller (3 calls), Spanish; History attempt 1 Tue 09:40 (30 min), attempt 2 Reached. Resolved.
    item(
        "C",
        "2026-12-01 09:10",
        **{
            model.CALLS: 3,
            model.LANGUAGE: "Spanish",
            model.ATTEMPTS: 2,
            model.LAST_ATTEMPT: t("2026-12-01 14:00"),
            model.LAST_OUTCOME: "Reached",
            model.STATUS: "Resolved",
            model.PATIENT_TYPE: "Existing",
        },
    ),
    # D: the Spanish caller lost: attempt 1 Wed 15:00 (120 + 120 = 240 min, block missed, day met),
    #    attempt 2 Thu voicemail, closed No response.
    item(
        "D",
        "2026-12-02 10:00",
        **{
            model.LANGUAGE: "Spanish",
            model.ATTEMPTS: 2,
            model.LAST_ATTEMPT: t("2026-12-03 10:00"),
            model.LAST_OUTCOME: "Voicemail left",
            model.STATUS: "No response",
        },
    ),
    # E: escalation (Clinical concern) handled by the first attempt Thu 09:12: 12 min. Reached, Resolved.
    item(
        "E",
        "2026-12-03 09:00",
        **{
            model.REASON: "Clinical concern",
            model.ATTEMPTS: 1,
            model.LAST_ATTEMPT: t("2026-12-03 09:12"),
            model.LAST_OUTCOME: "Reached",
            model.STATUS: "Resolved",
            model.OWNER: "Nurse Patel",
        },
    ),
    # F: escalation by keyword, closed without an attempt: handled at Closed at Fri 08:30 = 60 + 30 = 90 min;
    #    no attempt and deadlines (Thu 17:00) passed -> judged, missed both. Resolved counts as recovered.
    item(
        "F",
        "2026-12-03 16:00",
        **{
            model.REASON: "Existing patient follow-up",
            model.NOTES: "has a fever",
            model.STATUS: "Resolved",
            model.CLOSED_AT: t("2026-12-04 08:30"),
        },
    ),
    # G: never called, no owner: judged and missed (Tue 17:00); open > 1 business day.
    item("G", "2026-12-01 14:00", **{model.OWNER: None}),
    # H: a Duplicate row: not a missed call.
    item("H", "2026-12-02 10:05", **{model.STATUS: "Duplicate"}),
    # I: the week before: outside the period.
    item("I", "2026-11-27 10:00"),
    # J: Saturday: deadlines Mon 12:00 / Mon 17:00 are still ahead -> not judged; open, not > 1 day.
    item("J", "2026-12-05 10:00"),
    # K: two attempts typed in, no First attempt and no History: first-attempt time unknown; open > 1 day.
    item(
        "K",
        "2026-12-01 10:30",
        **{
            model.ATTEMPTS: 2,
            model.LAST_ATTEMPT: t("2026-12-02 10:00"),
            model.LAST_OUTCOME: "Secure message sent",
            model.STATUS: "In progress",
        },
    ),
    # L: escalation not yet handled (pending), no language; same day (Fri 17:00) judged and missed,
    #    same block (Mon 12:00) not judged yet.
    item("L", "2026-12-04 16:58", **{model.REASON: "Clinical concern", model.LANGUAGE: None}),
]
HISTORY = [
    attempt("C", 1, "2026-12-01 09:40", "No answer"),
    attempt("C", 2, "2026-12-01 14:00", "Reached"),
    attempt("D", 1, "2026-12-02 15:00", "No answer"),
    attempt("D", 2, "2026-12-03 10:00", "Voicemail left"),
    attempt("E", 1, "2026-12-03 09:12", "Reached"),
]

WEEK_ALL = {
    "missed_calls": 10,  # A B C D E F G J K L
    "calls": 12,  # C stands for 3
    "recovered": 4,  # A (Booked) C E (Reached) F (Resolved)
    "recovery_rate": 0.4,
    "first_callback_minutes": {"count": 5, "mean": 72.4, "median": 40.0, "p90": 240.0},  # 12 30 40 40 240
    "first_attempt_unknown": 1,  # K
    "same_block": {"met": 4, "judged": 7, "share": round(4 / 7, 4)},  # met A B C E; missed D F G
    "same_day": {"met": 4, "judged": 8, "share": 0.5},  # met A C D E; missed B F G L
    "booked": 1,
    "unresolved": 5,  # B G J K L
    "unresolved_over_1_business_day": 2,  # G K
    "escalations": 3,  # E F L
    "escalation_handled_minutes": {"count": 2, "mean": 51.0, "median": 51.0, "p90": 90.0},
    "escalations_pending": 1,  # L
    "no_response": 1,  # D
    # J (Saturday 10:00) is the week's only call outside hours; the others arrived Mon-Fri 08:00-17:00
    "after_hours": {"missed_calls": 1, "closed_day": 1, "recovered": 0, "recovery_rate": 0.0},
}


@pytest.fixture
def queue(tmp_path: Path) -> tuple[Config, ExcelBackend]:
    (tmp_path / "callback_sheets.toml").write_text(TOML, encoding="utf-8")
    config = load_config(tmp_path / "callback_sheets.toml")
    backend = ExcelBackend(config.workbook)
    service.init(config=config, backend=backend)
    with backend.session():
        backend.write(backend.read(), Changeset(new_rows=ROWS, tab_appends={model.HISTORY_TAB: HISTORY}))
    return config, backend


def _report(
    config: Config, backend: ExcelBackend, period: str, on: str, by: str | None = None
) -> reports.Report:
    now = t(NOW).replace(tzinfo=config.tz)
    return reports.report(config=config, backend=backend, period=period, now=now, on=t(on).date(), by=by)


def test_the_week_figures_match_the_hand_count(queue: tuple[Config, ExcelBackend]) -> None:
    built = _report(*queue, "weekly", "2026-12-04")
    assert built.period.label == "2026-W49"
    assert built.scopes[0].figures.as_dict() == WEEK_ALL


def test_by_language_shows_the_spanish_caller_lost(queue: tuple[Config, ExcelBackend]) -> None:
    built = _report(*queue, "weekly", "2026-12-04", by="language")
    got = {
        s.label: (s.figures.missed_calls, s.figures.recovered, s.figures.no_response) for s in built.scopes
    }
    assert got == {
        "all": (10, 4, 1),
        "language=English": (7, 3, 0),  # A B E F G J K; recovered A E F
        "language=Spanish": (2, 1, 1),  # C recovered, D lost (No response)
        "language=(none)": (1, 0, 0),  # L
    }
    spanish = {t.value: (t.missed_calls, t.recovered, t.recovery_rate) for t in built.demand.by_language}
    assert spanish["Spanish"] == (2, 1, 0.5)
    assert spanish["English"] == (7, 3, 3 / 7)


def test_one_day(queue: tuple[Config, ExcelBackend]) -> None:
    built = _report(*queue, "daily", "2026-12-03")
    f = built.scopes[0].figures
    # E (12 min, Reached) and F (no attempt, Resolved, escalation handled at Closed at)
    assert (f.missed_calls, f.recovered, f.escalations, f.escalations_pending) == (2, 2, 2, 0)
    assert f.first_callback == Stats(1, 12.0, 12.0, 12.0)
    assert (f.same_block, f.same_day) == (Share(1, 2), Share(1, 2))
    assert f.escalation_handling.as_dict() == {"count": 2, "mean": 51.0, "median": 51.0, "p90": 90.0}


def test_demand_grid_places_calls_by_weekday_and_clinic_hour(queue: tuple[Config, ExcelBackend]) -> None:
    grid = _report(*queue, "weekly", "2026-12-04").demand.grid
    assert grid[0][11] == 1  # A Mon 11:40
    assert grid[1][9] == 1 and grid[1][10] == 1 and grid[1][14] == 1  # C, K, G on Tuesday
    assert grid[2][10] == 1  # D; H (Duplicate) not counted
    assert grid[4][16] == 2  # B 16:50 and L 16:58 on Friday
    assert grid[5][10] == 1  # J Saturday
    assert sum(map(sum, grid)) == 10


def test_stats_use_nearest_rank_p90_and_the_middle_median() -> None:
    assert Stats.of([]) == Stats(0, None, None, None)
    assert Stats.of([10, 1, 4, 3]) == Stats(4, 4.5, 3.5, 10)
    assert Stats.of(list(range(1, 21))).p90 == 18
    assert Share(0, 0).share is None


def test_periods() -> None:
    week = period_for("weekly", t("2026-12-06").date())
    assert (week.start.isoformat(), week.end.isoformat(), week.label) == (
        "2026-11-30",
        "2026-12-06",
        "2026-W49",
    )
    assert period_for("daily", t("2026-12-01").date()).label == "2026-12-01"
    with pytest.raises(ValueError):
        period_for("monthly", t("2026-12-01").date())


def test_json_schema_through_the_cli(queue: tuple[Config, ExcelBackend]) -> None:
    config, _ = queue
    result = CliRunner().invoke(
        main,
        [
            "--config",
            str(config.path),
            "report",
            "weekly",
            "--date",
            "2026-12-04",
            "--now",
            NOW,
            "--by",
            "language",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"schema", "period", "generated_at", "by", "scopes", "demand"}
    assert data["schema"] == "callback-sheets/report/1"
    assert data["period"] == {
        "kind": "weekly",
        "label": "2026-W49",
        "start": "2026-11-30",
        "end": "2026-12-06",
    }
    assert data["generated_at"] == "2026-12-07T10:00-06:00"
    assert data["by"] == "language"
    assert [s["scope"] for s in data["scopes"]] == [
        "all",
        "language=English",
        "language=Spanish",
        "language=(none)",
    ]
    assert data["scopes"][0] == {"scope": "all", "dimension": None, "value": None, "figures": WEEK_ALL}
    assert data["scopes"][2]["dimension"] == "language" and data["scopes"][2]["value"] == "Spanish"
    assert set(data["demand"]) == {
        "start",
        "end",
        "by_weekday",
        "by_weekday_hour",
        "by_reason",
        "by_patient_type",
        "by_language",
        "by_arrival",
    }
    assert {"value": "Spanish", "missed_calls": 2, "recovered": 1, "recovery_rate": 0.5} in data["demand"][
        "by_language"
    ]
    assert {"weekday": "Fri", "hour": 16, "missed_calls": 2, "recovered": 0} in data["demand"][
        "by_weekday_hour"
    ]


def test_csv_and_table_through_the_cli(queue: tuple[Config, ExcelBackend]) -> None:
    config, _ = queue
    args = ["--config", str(config.path), "report", "weekly", "--date", "2026-12-04", "--now", NOW]
    csv_out = CliRunner().invoke(main, [*args, "--csv"])
    assert csv_out.exit_code == 0, csv_out.output
    header, first = csv_out.stdout.splitlines()[:2]
    assert header.split(",") == list(reports.METRICS_COLUMNS)
    assert first.startswith("2026-W49,weekly,2026-11-30,2026-12-06,all,10,12,4,40.0,72.4,40.0,240.0,5,1,")
    table = CliRunner().invoke(main, args)
    assert table.exit_code == 0 and "Weekly report 2026-W49" in table.stdout and "Spanish" in table.stdout
    bad = CliRunner().invoke(main, [*args, "--by", "colour"])
    assert bad.exit_code == 2
