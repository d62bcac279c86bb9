"""Reports on real workbooks: Metrics upsert idempotence, the Demand contributor, the chart and colour
scale in the saved file (and LibreOffice still opening it), and the end-of-day review's exit code."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from callback_sheets import model
from callback_sheets.app import reports, service
from callback_sheets.app.review import end_of_day_review
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.cli import main
from callback_sheets.config import Config
from callback_sheets.layout import (
    GRID_FIRST_COL,
    GRID_FIRST_ROW,
    SIDE_COL,
    TOTALS_ROW,
    TREND_FIRST_ROW,
    TREND_LAST_ROW,
)
from tests.test_metrics import NOW, t
from tests.test_metrics import queue as queue  # the hand-built week fixture, re-exported for pytest

TABLE = reports.METRICS_TABLE_ROW


def _now(config: Config, text: str = NOW) -> datetime:
    return t(text).replace(tzinfo=config.tz)


def _metrics_rows(path: Path) -> list[tuple[object, ...]]:
    ws = load_workbook(path)[model.METRICS_TAB]
    return [r for r in ws.iter_rows(min_row=TABLE, values_only=True) if any(v is not None for v in r)]


def _sheet_xml(path: Path, title: str) -> str:
    with zipfile.ZipFile(path) as z:
        workbook = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        rid = workbook.split(f'name="{title}"')[1].split('r:id="')[1].split('"')[0]
        target = rels.split(f'Id="{rid}"')[0].rsplit("<Relationship", 1)[1] + rels.split(f'Id="{rid}"')[1]
        part = target.split('Target="')[1].split('"')[0].lstrip("/")
        return z.read(part if part.startswith("xl/") else f"xl/{part}").decode()


def test_append_is_idempotent_per_period_and_scope(queue: tuple[Config, ExcelBackend]) -> None:
    config, backend = queue
    args = {
        "config": config,
        "backend": backend,
        "period": "weekly",
        "now": _now(config),
        "on": t("2026-12-04").date(),
    }
    first = reports.append_report(**args)
    assert (first.added, first.replaced) == (1, 0)
    again = reports.append_report(**{**args, "now": _now(config, "2026-12-07T11:00")})
    assert (again.added, again.replaced) == (0, 1)
    rows = _metrics_rows(config.workbook)
    assert rows[0] == reports.METRICS_COLUMNS  # the header, once
    assert len(rows) == 2
    assert rows[1][:9] == ("2026-W49", "weekly", "2026-11-30", "2026-12-06", "all", 10, 12, 4, 40)
    assert rows[1][reports.METRICS_COLUMNS.index("Updated")] == datetime(2026, 12, 7, 11, 0)  # the latest run
    by = reports.append_report(**{**args, "by": "language"})
    assert (by.added, by.replaced) == (3, 1)
    day = reports.append_report(**{**args, "period": "daily", "on": t("2026-12-03").date()})
    assert (day.added, day.replaced) == (1, 0)
    labels = [(r[0], r[4]) for r in _metrics_rows(config.workbook)[1:]]
    assert labels == [
        ("2026-W49", "all"),
        ("2026-W49", "language=English"),
        ("2026-W49", "language=Spanish"),
        ("2026-W49", "language=(none)"),
        ("2026-12-03", "all"),
    ]
    assert backend.last_write_path == "patch"


def test_append_through_the_cli_twice_keeps_one_row(queue: tuple[Config, ExcelBackend]) -> None:
    config, _ = queue
    args = ["--config", str(config.path), "report", "daily", "--date", "2026-12-03", "--now", NOW, "--append"]
    for expected in ("1 row(s) added, 0 replaced", "0 row(s) added, 1 replaced"):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert expected in result.stderr
    assert len(_metrics_rows(config.workbook)) == 2


def test_refresh_keeps_demand_and_trend_current_and_is_idempotent(queue: tuple[Config, ExcelBackend]) -> None:
    config, backend = queue
    now = _now(config)
    outcome = service.refresh(config=config, backend=backend, now=now)
    assert outcome.plan.changes.tab_cells[model.DEMAND_TAB]
    wb = load_workbook(config.workbook)
    demand_ws, metrics_ws = wb[model.DEMAND_TAB], wb[model.METRICS_TAB]
    friday = GRID_FIRST_ROW + 4
    assert demand_ws.cell(friday, GRID_FIRST_COL + 16).value == 2  # B and L, Fri 16:xx
    assert demand_ws.cell(TOTALS_ROW, SIDE_COL).value == 11  # 28 days: the week's 10 and I
    assert (
        demand_ws.cell(1, 1).value
        == "Missed calls by weekday and hour (clinic time), 2026-11-10 to 2026-12-07"
    )
    weeks = [
        (metrics_ws.cell(r, 1).value, metrics_ws.cell(r, 2).value, metrics_ws.cell(r, 3).value)
        for r in range(TREND_FIRST_ROW, TREND_LAST_ROW + 1)
    ]
    # The chart starts at the first week with a call; the weeks after the last one are empty.
    assert weeks[:3] == [("2026-11-23", 1, 0), ("2026-11-30", 10, 40), ("2026-12-07", 0, None)]
    assert set(weeks[3:]) == {(None, None, None)}
    second = service.refresh(config=config, backend=backend, now=now, dry_run=True)
    assert not second.plan.changes.tab_cells  # nothing left to change at the same `now`


def test_chart_and_colour_scale_survive_init_refresh_and_append(queue: tuple[Config, ExcelBackend]) -> None:
    config, backend = queue
    path = config.workbook
    service.refresh(config=config, backend=backend, now=_now(config))
    reports.append_report(config=config, backend=backend, period="weekly", now=_now(config))
    with zipfile.ZipFile(path) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    assert re.search(r"<(c:)?barChart>", chart) and re.search(r"<(c:)?lineChart>", chart)
    assert "Metrics!$B$3:$B$14" in chart.replace("'", "") and "Metrics!$C$3:$C$14" in chart.replace("'", "")
    assert "<drawing " in _sheet_xml(path, model.METRICS_TAB)
    demand_xml = _sheet_xml(path, model.DEMAND_TAB)
    assert '<conditionalFormatting sqref="B4:Y10">' in demand_xml and "<colorScale>" in demand_xml
    assert service.init(config=config, backend=backend) == [f"{path.name} is up to date"]  # not added twice


def test_init_upgrades_an_older_workbook_with_the_chart(
    tmp_path: Path, queue: tuple[Config, ExcelBackend]
) -> None:
    config, backend = queue
    wb = load_workbook(config.workbook)
    for name in (model.METRICS_TAB, model.DEMAND_TAB):
        del wb[name]
    wb.save(config.workbook)
    notes = service.init(config=config, backend=backend)
    assert "created tabs Metrics, Demand" in notes  # grafted as init makes them: chart and colour scale
    assert load_workbook(config.workbook)[model.METRICS_TAB]._charts


@pytest.mark.libreoffice
def test_libreoffice_opens_the_workbook_and_reads_the_figures(
    tmp_path: Path, queue: tuple[Config, ExcelBackend]
) -> None:
    config, backend = queue
    service.refresh(config=config, backend=backend, now=_now(config))
    reports.append_report(
        config=config, backend=backend, period="weekly", now=_now(config), on=t("2026-12-04").date()
    )
    out = tmp_path / "csv"
    soffice = shutil.which("soffice")
    assert soffice is not None
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir",
            str(out),
            str(config.workbook),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    metrics = list(csv.reader((out / "queue-Metrics.csv").open(encoding="utf-8")))
    assert metrics[TABLE - 1][:5] == ["Period", "Kind", "Start", "End", "Scope"]
    assert metrics[TABLE][:9] == [
        "2026-W49",
        "weekly",
        "2026-11-30",
        "2026-12-06",
        "all",
        "10",
        "12",
        "4",
        "40",
    ]
    demand = list(csv.reader((out / "queue-Demand.csv").open(encoding="utf-8")))
    assert demand[GRID_FIRST_ROW + 4 - 1][0] == "Fri"
    assert demand[GRID_FIRST_ROW + 4 - 1][GRID_FIRST_COL + 16 - 1] == "2"


def test_review_lists_what_needs_a_person_and_exits_1(queue: tuple[Config, ExcelBackend]) -> None:
    config, backend = queue
    review = end_of_day_review(config=config, backend=backend, now=_now(config, "2026-12-07T16:30"))
    ids = {k: [e.id for e in v] for k, v in review.sections.items()}
    assert ids["urgent_not_escalated"] == ["L"]  # clinical concern, no attempt, status not Escalated
    assert ids["without_next_step"] == ["G"]  # no owner
    assert "J" in ids["due_without_attempt_today"] and "G" in ids["due_without_attempt_today"]
    assert "B" not in ids["due_without_attempt_today"]  # attempted this morning
    assert review.needs_attention
    result = CliRunner().invoke(
        main, ["--config", str(config.path), "review", "--now", "2026-12-07T16:30", "--json"]
    )
    assert result.exit_code == 1
    assert '"needs_attention": true' in result.stdout


def test_review_of_a_clean_day_exits_0(tmp_path: Path, queue: tuple[Config, ExcelBackend]) -> None:
    config, _ = queue
    wb = load_workbook(config.workbook)
    ws = wb[model.QUEUE_TAB]
    ws.delete_rows(2, ws.max_row)
    wb.save(config.workbook)
    review = end_of_day_review(config=config, backend=ExcelBackend(config.workbook), now=_now(config))
    assert not review.needs_attention
    result = CliRunner().invoke(main, ["--config", str(config.path), "review", "--now", NOW])
    assert result.exit_code == 0 and "nothing left for today" in result.stderr
