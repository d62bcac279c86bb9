"""`import-calls` end to end on a real workbook: merge, idempotence, literal caller IDs."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from callback_sheets import model
from callback_sheets.cli import main
from tests.test_libreoffice import soffice_csv

HEADER = "Sid,DateCreated,StartTime,EndTime,From,To,CallerName,Direction,Status,Duration\n"
CALLS = [
    'CA001,,2026-12-01T15:10:00Z,,+13125550142,+13125550100,"=HYPERLINK(""http://x"",""y"")",inbound,no-answer,0',
    "CA002,,2026-12-01T15:20:00Z,,(312) 555-0142,+13125550100,JOHN SMITH,inbound,busy,0",
    "CA003,,2026-12-01T15:30:00Z,,+13125550143,+13125550100,ANNA LEE,inbound,completed,200",
    'CA004,,2026-12-01T16:30:00Z,,+52 55 1234 5678,+13125550100,"+1-555-0100",inbound,canceled,0',
    "CA005,,2026-12-01T16:40:00Z,,+13125550150,+13125550100,OUT BOUND,outbound-api,no-answer,0",
    "CA006,,not a time,,+13125550199,+13125550100,,inbound,no-answer,0",
]


def write_export(path: Path, lines: list[str]) -> Path:
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def invoke(config_path: Path, *args: str) -> object:
    return CliRunner().invoke(main, ["--config", str(config_path), *args], catch_exceptions=False)


def queue_rows(path: Path) -> list[dict]:
    ws = openpyxl.load_workbook(path)[model.QUEUE_TAB]
    header = [c.value for c in ws[1]]
    return [dict(zip(header, (c.value for c in r), strict=False)) for r in ws.iter_rows(min_row=2)]


@pytest.fixture
def ready(config, make_queue, tmp_path: Path):  # type: ignore[no-untyped-def]
    make_queue([])
    return config, write_export(tmp_path / "calls.csv", CALLS)


def test_import_merges_repeat_callers_and_reports_bad_lines(ready) -> None:  # type: ignore[no-untyped-def]
    config, export = ready
    result = invoke(config.path, "import-calls", str(export), "--json", "--now", "2026-12-01T11:00")
    summary = json.loads(result.stdout)
    assert (
        summary["new_rows"] == 2
        and summary["merged"] == 1
        and summary["bad"] == [{"line": 7, "reason": summary["bad"][0]["reason"]}]
    )
    rows = queue_rows(config.workbook)
    assert [r[model.CALLS] for r in rows] == [2, 1]
    assert (
        rows[0][model.ID] == "CB-00001" and rows[0][model.NEXT_ATTEMPT] is not None
    )  # refreshed after import
    assert str(rows[0][model.RECEIVED]) == "2026-12-01 09:10:00"  # UTC → clinic time; first call kept


def test_import_is_idempotent_and_overlap_adds_only_new_calls(ready, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config, export = ready
    invoke(config.path, "import-calls", str(export), "--now", "2026-12-01T11:00")
    before = config.workbook.read_bytes()
    again = json.loads(
        invoke(config.path, "import-calls", str(export), "--json", "--now", "2026-12-01T11:00").stdout
    )
    assert again["new_rows"] == 0 and again["already_imported"] == 3
    assert config.workbook.read_bytes() == before
    overlap = write_export(
        tmp_path / "next.csv",
        [*CALLS[2:4], "CA007,,2026-12-01T17:00:00Z,,+13125550160,,NEW ONE,inbound,no-answer,0"],
    )
    third = json.loads(
        invoke(config.path, "import-calls", str(overlap), "--json", "--now", "2026-12-01T11:30").stdout
    )
    assert third["new_rows"] == 1 and third["already_imported"] == 1
    assert len(queue_rows(config.workbook)) == 3


def test_dry_run_writes_nothing(ready) -> None:  # type: ignore[no-untyped-def]
    config, export = ready
    before = config.workbook.read_bytes()
    out = json.loads(invoke(config.path, "import-calls", str(export), "--dry-run", "--json").stdout)
    assert out["new_rows"] == 2 and config.workbook.read_bytes() == before


def test_unknown_columns_get_a_helpful_message(ready, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config, _ = ready
    odd = tmp_path / "odd.csv"
    odd.write_text("Foo,Bar\n1,2\n")
    result = invoke(config.path, "import-calls", str(odd))
    assert result.exit_code != 0 and "Foo" in result.output and "Traceback" not in result.output


@pytest.mark.libreoffice
def test_caller_ids_stay_literal_text_in_libreoffice(ready, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config, export = ready
    invoke(config.path, "import-calls", str(export), "--now", "2026-12-01T11:00")
    callers = [r[model.CALLER] for r in queue_rows(config.workbook)]
    assert callers == ['=HYPERLINK("http://x","y")', "+1-555-0100"]
    out = tmp_path / "lo"
    out.mkdir()
    assert [r[model.CALLER] for r in soffice_csv(config.workbook, out)] == callers
