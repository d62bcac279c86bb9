"""`callback-sheets archive` on real workbooks: what moves, what stays, reports unchanged, IDs unique,
runs killed at random points, and the patcher's row removal keeping the sheet coherent."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.formatting.rule import CellIsRule
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table

from callback_sheets import model
from callback_sheets.app.archive import MARK_SOURCE
from callback_sheets.backends.excel.xlsx.patch import PatchRefused, patch_workbook
from callback_sheets.backends.excel.xlsx.read import read_sheet
from callback_sheets.cli import main

OLD_NOW = "2024-12-03T09:00"  # the demo's fortnight, two years ago
NOW = "2026-12-01T09:00"


def cli(cwd: Path, *args: str) -> str:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def old_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "clinic"
    cli(folder.parent, "demo", str(folder), "--now", OLD_NOW, "--rows", "120")
    return folder


def copy_of(demo: Path, tmp_path: Path) -> Path:
    target = tmp_path / "clinic"
    shutil.copytree(demo, target)
    return target


def ids_in(path: Path) -> list[str]:
    rows = read_sheet(path, model.QUEUE_TAB)
    at = rows[0].index(model.ID)
    return [str(r[at]) for r in rows[1:] if r[at]]


def test_archive_moves_old_closed_items_and_reports_keep_their_figures(
    old_demo: Path, tmp_path: Path
) -> None:
    folder = copy_of(old_demo, tmp_path)
    queue = folder / "callback_queue.xlsx"
    before_ids = ids_in(queue)
    weekly = ("report", "weekly", "--date", "2024-11-27", "--now", NOW, "--json")
    daily = ("report", "daily", "--date", "2024-11-26", "--now", NOW, "--json")
    before = cli(folder, *weekly), cli(folder, *daily)
    dry = json.loads(cli(folder, "archive", "--dry-run", "--now", NOW, "--json"))
    assert dry["moved"] > 0 and ids_in(queue) == before_ids  # a dry run writes nothing
    done = json.loads(cli(folder, "archive", "--now", NOW, "--json"))
    assert done["moved"] == dry["moved"] and done["by_year"] == {"2024": done["moved"]}
    archive = folder / "callback_queue.archive-2024.xlsx"
    left, archived = ids_in(queue), ids_in(archive)
    assert sorted(left + archived) == sorted(before_ids) and not set(left) & set(archived)
    # nothing open, nothing with a problem left the queue
    rows = read_sheet(archive, model.QUEUE_TAB)
    status, problems = rows[0].index(model.STATUS), rows[0].index(model.PROBLEMS)
    assert all(r[status] in model.CLOSED_STATUSES and not r[problems] for r in rows[1:])
    history = read_sheet(archive, model.HISTORY_TAB)
    assert {str(r[0]) for r in history[1:]} <= set(archived)
    left_history = read_sheet(queue, model.HISTORY_TAB)[1:]  # but the mark keeping the highest ID
    assert not {str(r[0]) for r in left_history if r[5] != MARK_SOURCE} & set(archived)
    assert (cli(folder, *weekly), cli(folder, *daily)) == before
    # a second run moves nothing more; a refresh afterwards never reuses an archived ID
    assert json.loads(cli(folder, "archive", "--now", NOW, "--json"))["moved"] == 0
    cli(folder, "refresh", "--now", NOW)


def test_a_new_id_is_never_an_archived_one(old_demo: Path, tmp_path: Path) -> None:
    folder = copy_of(old_demo, tmp_path)
    queue = folder / "callback_queue.xlsx"
    book = openpyxl.load_workbook(queue)
    sheet = book[model.QUEUE_TAB]
    header = [c.value for c in sheet[1]]
    highest = max(ids_in(queue))
    for row in sheet.iter_rows(min_row=2):  # close the newest items, so the highest ID leaves
        if row[header.index(model.ID)].value == highest:
            row[header.index(model.STATUS)].value = "Resolved"
            row[header.index(model.RECEIVED)].value = datetime(2024, 12, 2, 8, 0)
            row[header.index(model.LAST_ATTEMPT)].value = datetime(2024, 12, 2, 10, 0)
            row[header.index(model.ATTEMPTS)].value = 1  # a closed item without a problem, whatever the
            row[header.index(model.LAST_OUTCOME)].value = "Reached"  # demo made of its newest row
    book.save(queue)
    cli(folder, "refresh", "--now", "2024-12-03T10:00")
    cli(folder, "archive", "--now", NOW)
    assert highest in ids_in(folder / "callback_queue.archive-2024.xlsx")
    assert highest not in ids_in(queue)
    book = openpyxl.load_workbook(queue)
    sheet = book[model.QUEUE_TAB]
    sheet.cell(sheet.max_row + 1, header.index(model.RECEIVED) + 1).value = "2026-12-01 08:30"
    sheet.cell(sheet.max_row, header.index(model.PHONE) + 1).value = "(312) 555-0199"
    sheet.cell(sheet.max_row, header.index(model.REASON) + 1).value = "Billing"
    book.save(queue)
    cli(folder, "refresh", "--now", NOW)
    new = max(ids_in(queue))
    assert new > highest, (new, highest)


@pytest.mark.slow
def test_archive_runs_killed_at_random_points_lose_nothing_and_duplicate_nothing(
    old_demo: Path, tmp_path: Path
) -> None:
    rng = random.Random(17)
    for attempt in range(4):
        folder = tmp_path / f"run{attempt}"
        shutil.copytree(old_demo, folder)
        queue = folder / "callback_queue.xlsx"
        everything = set(ids_in(queue))
        args = [sys.executable, "-c", "from callback_sheets.cli import main; main()", "archive", "--now", NOW]
        proc = subprocess.Popen(args, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        archive = folder / "callback_queue.archive-2024.xlsx"
        for lock in folder.glob(".~callback-sheets.*.lock"):
            lock.unlink()  # a killed run's lock (taken over after a while anyway)
        stored = set(ids_in(archive)) if archive.exists() else set()
        assert everything <= set(ids_in(queue)) | stored  # every item in the queue, the archive, or both
        subprocess.run(args, cwd=folder, check=True, capture_output=True)
        left, archived = ids_in(queue), ids_in(archive)
        assert not [i for i, n in Counter(archived).items() if n > 1]
        assert set(left) | set(archived) == everything and not set(left) & set(archived)


def test_a_queue_with_formulas_is_refused_in_one_line(old_demo: Path, tmp_path: Path) -> None:
    folder = copy_of(old_demo, tmp_path)
    queue = folder / "callback_queue.xlsx"
    book = openpyxl.load_workbook(queue)
    book[model.QUEUE_TAB]["Z2"] = "=1+1"
    book.save(queue)
    old = os.getcwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(main, ["archive", "--now", NOW])
    finally:
        os.chdir(old)
    assert result.exit_code == 1
    assert "formulas" in result.output and result.output.count("\n") == 1


def _coherent_book(path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Queue"
    sheet.append(["ID", "Name", "Note"])
    for n in range(2, 21):
        sheet.append([f"CB-{n:05d}", f"name {n}", f"note {n}"])
    sheet.merge_cells("B5:C6")  # wholly removed below
    sheet.merge_cells("B15:C16")  # moves up
    sheet.conditional_formatting.add("A2:C20", CellIsRule(operator="equal", formula=['"x"']))
    sheet.conditional_formatting.add("C5:C6", CellIsRule(operator="equal", formula=['"y"']))
    dv = DataValidation(type="list", formula1='"a,b"')
    dv.add("B2:B20")
    sheet.add_data_validation(dv)
    sheet.add_table(Table(displayName="Items", ref="A1:C20"))
    book.create_sheet("Other")["A1"] = "untouched"
    from openpyxl.workbook.defined_name import DefinedName

    book.defined_names["picked"] = DefinedName("picked", attr_text="Queue!$A$10:$C$20")
    book.save(path)


def test_removing_rows_keeps_ranges_coherent_and_other_parts_identical(tmp_path: Path) -> None:
    src, dst = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    _coherent_book(src)
    patch_workbook(src, dst, removals={"Queue": [5, 6, 9]})
    rows = read_sheet(dst, "Queue")
    assert [r[0] for r in rows[1:]] == [f"CB-{n:05d}" for n in range(2, 21) if n not in (5, 6, 9)]
    book = openpyxl.load_workbook(dst)
    sheet = book["Queue"]
    assert sheet.dimensions == "A1:C17"
    assert [str(m) for m in sheet.merged_cells.ranges] == ["B12:C13"]
    assert sorted(str(cf.sqref) for cf in sheet.conditional_formatting) == ["A2:C17"]
    assert [str(dv.sqref) for dv in sheet.data_validations.dataValidation] == ["B2:B17"]
    assert sheet.tables["Items"].ref == "A1:C17"
    assert book.defined_names["picked"].attr_text == "Queue!$A$7:$C$17"
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst) as b:
        changed = {n for n in a.namelist() if a.read(n) != b.read(n)}
        assert a.namelist() == b.namelist()
    assert changed == {"xl/worksheets/sheet1.xml", "xl/tables/table1.xml", "xl/workbook.xml"}


def test_removal_refuses_a_comment_below_the_removed_rows(tmp_path: Path) -> None:
    from openpyxl.comments import Comment

    src = tmp_path / "a.xlsx"
    _coherent_book(src)
    book = openpyxl.load_workbook(src)
    book["Queue"]["A12"].comment = Comment("hello", "me")
    book.save(src)
    with pytest.raises(PatchRefused, match="comments"):
        patch_workbook(src, tmp_path / "b.xlsx", removals={"Queue": [5]})


def _break_tabs(path: Path, tabs: set[str]) -> None:
    """Replaces the named tabs' sheet parts with XML no reader can parse (the rest stays)."""
    import re

    with zipfile.ZipFile(path) as src:
        workbook = src.read("xl/workbook.xml").decode()
        rels = src.read("xl/_rels/workbook.xml.rels").decode()
        ids = dict(re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', workbook))
        targets = dict(re.findall(r'Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
        targets.update({k: v for v, k in re.findall(r'Target="([^"]+)"[^>]*Id="([^"]+)"', rels)})
        broken = {"xl/" + targets[ids[t]].lstrip("/").removeprefix("xl/") for t in tabs}
        members = [(info, src.read(info.filename)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in members:
            out.writestr(info, b"<worksheet><sheetData><row>broken" if info.filename in broken else data)


def test_queue_script_and_attempt_do_not_parse_the_report_tabs(old_demo: Path, tmp_path: Path) -> None:
    folder = copy_of(old_demo, tmp_path)
    queue = folder / "callback_queue.xlsx"
    _break_tabs(queue, {model.DEMAND_TAB, model.METRICS_TAB, model.INTAKE_TAB})
    listed = json.loads(cli(folder, "queue", "--json", "--now", OLD_NOW))
    item = listed[0]["id"]
    assert cli(folder, "script", item)
    cli(folder, "attempt", item, "--outcome", "No answer", "--now", OLD_NOW)
    assert [r for r in read_sheet(queue, model.HISTORY_TAB) if r[0] == item][-1][3] == "No answer"
    old = os.getcwd()
    os.chdir(folder)
    try:  # a refresh does read them, and says it cannot
        result = CliRunner().invoke(main, ["refresh", "--now", OLD_NOW])
    finally:
        os.chdir(old)
    assert result.exit_code == 1 and "cannot read" in result.output


def test_the_metrics_chart_keeps_archived_weeks(tmp_path: Path) -> None:
    folder = tmp_path / "clinic"
    cli(tmp_path, "demo", str(folder), "--now", "2026-10-20T16:00", "--rows", "80")
    cli(folder, "refresh", "--now", NOW)
    queue = folder / "callback_queue.xlsx"
    chart = [r[:3] for r in read_sheet(queue, model.METRICS_TAB)[2:14]]
    weekly = ("report", "weekly", "--date", "2026-10-14", "--now", NOW, "--json")
    before = cli(folder, *weekly)
    assert json.loads(cli(folder, "archive", "--now", NOW, "--json"))["moved"] > 0
    cli(folder, "refresh", "--now", NOW)
    assert [r[:3] for r in read_sheet(queue, model.METRICS_TAB)[2:14]] == chart
    assert cli(folder, *weekly) == before


@pytest.mark.libreoffice
def test_libreoffice_opens_the_queue_and_the_archive_after_rows_left(old_demo: Path, tmp_path: Path) -> None:
    from tests.test_libreoffice import soffice_csv

    folder = copy_of(old_demo, tmp_path)
    queue = folder / "callback_queue.xlsx"
    cli(folder, "archive", "--now", NOW)
    for path in (queue, folder / "callback_queue.archive-2024.xlsx"):
        out = tmp_path / f"lo-{path.stem}"
        out.mkdir()
        assert [r[model.ID] for r in soffice_csv(path, out)] == ids_in(path)


CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "xlsx-corpus"
HOSTILE = ("142_", "143_", "144_", "210_", "212_")  # entity bombs, expanding strings, invalid XML


def _rows(grid: list[list[object]]) -> list[tuple[object, ...]]:
    out = [tuple(row) for row in grid]
    out = [row[: max((i + 1 for i, v in enumerate(row) if v is not None), default=0)] for row in out]
    while out and not out[-1]:
        out.pop()
    return out


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared xlsx corpus is not at {CORPUS}")
def test_row_removal_over_the_real_world_corpus(tmp_path: Path) -> None:
    """Every workbook of the corpus either is refused with a reason, or loses exactly its row 2: the
    sheet reads as before without it, every part but the sheet, its tables and workbook.xml is
    byte-identical, and openpyxl still opens it when it opened the original."""
    from callback_sheets.backends.excel.xlsx.read import sheet_names

    done = refused = 0
    for source in sorted(CORPUS.glob("*.xlsx")):
        if source.name.startswith(HOSTILE):
            continue
        try:
            first = sheet_names(source)[0]
            before = read_sheet(source, first)
        except Exception:
            continue  # not readable as it is: nothing to remove from
        if len(before) < 3:
            continue
        target = tmp_path / source.name
        try:
            patch_workbook(source, target, removals={first: [2]})
        except PatchRefused:
            refused += 1
            continue
        assert _rows(read_sheet(target, first)) == _rows(before[:1] + before[2:]), source.name
        with zipfile.ZipFile(source) as a, zipfile.ZipFile(target) as b:
            assert a.namelist() == b.namelist(), source.name
            changed = {n for n in a.namelist() if a.read(n) != b.read(n)}
        assert all(
            n.startswith(("xl/worksheets/sheet", "xl/tables/")) or n == "xl/workbook.xml" for n in changed
        ), (source.name, changed)
        try:
            openpyxl.load_workbook(target)
        except Exception:  # only as the original fails too
            with pytest.raises(Exception):  # noqa: B017
                openpyxl.load_workbook(source)
        done += 1
    assert done >= 40 and refused >= 40, (done, refused)
