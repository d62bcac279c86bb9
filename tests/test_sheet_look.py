"""What a person sees: the saved demo package read back tab by tab (styles, date formats, print setup,
dropdowns, conditional formats and their contrast, Script links), the patcher's appended rows, the
demo's shape, and the same layout on Google through the emulator."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from callback_sheets import look as look_spec
from callback_sheets import model
from callback_sheets.app import demo, service
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.config import Config, load_config
from callback_sheets.core.times import parse_now
from callback_sheets.layout import METRICS_TABLE_ROW
from callback_sheets.look import contrast_ratio

NOW = "2026-12-07T10:00"
HEADER_COLOURS = {look_spec.STAFF_HEADER, look_spec.TOOL_HEADER, look_spec.TAB_HEADER}
VISIBLE_TABS = (model.QUEUE_TAB, model.HISTORY_TAB, model.METRICS_TAB, model.DEMAND_TAB, model.SCRIPTS_TAB)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo")
    config = demo.write_demo(directory, now_text=NOW)
    service.refresh(config=config, backend=ExcelBackend(config.workbook), now=parse_now(NOW, config.tz))
    return directory


@pytest.fixture(scope="module")
def demo_config(demo_dir: Path) -> Config:
    return load_config(demo_dir / "callback_sheets.toml")


@pytest.fixture(scope="module")
def book(demo_config: Config) -> Workbook:
    return load_workbook(demo_config.workbook)


def _rgb(colour: object) -> str:
    value = getattr(colour, "rgb", None)
    return str(value)[-6:].upper() if isinstance(value, str) else ""


def _is_header_style(cell: object) -> bool:
    fill: PatternFill = cell.fill  # type: ignore[attr-defined]
    font: Font = cell.font  # type: ignore[attr-defined]
    header_fill = fill.fill_type == "solid" and _rgb(fill.fgColor) in HEADER_COLOURS
    return header_fill or _rgb(font.color) == "FFFFFF"


def _data_cells(book: Workbook, tab: str, titles: frozenset[int]) -> Iterator[object]:
    skip = {1} | ({2, METRICS_TABLE_ROW} if tab == model.METRICS_TAB else set())
    skip |= {2} | set(titles) if tab == model.SCRIPTS_TAB else set()
    for row in book[tab].iter_rows(min_row=2):
        for cell in row:
            if cell.value is not None and cell.row not in skip:
                yield cell


def test_no_data_cell_of_any_tool_tab_carries_a_header_style(book: Workbook, demo_config: Config) -> None:
    titles = service.look(demo_config).script_titles
    for tab in (*VISIBLE_TABS, model.INTAKE_TAB, model.LISTS_TAB):
        if tab not in book.sheetnames:
            continue
        cells = list(_data_cells(book, tab, titles))
        bad = [c.coordinate for c in cells if _is_header_style(c)]  # type: ignore[attr-defined]
        assert not bad, f"{tab}: {bad[:5]}"
    assert len(list(_data_cells(book, model.HISTORY_TAB, titles))) > 100  # appended under a bare header


def test_every_date_column_shows_one_date_format(book: Workbook) -> None:
    queue = book[model.QUEUE_TAB]
    header = [c.value for c in queue[1]]
    dated = [i for i, name in enumerate(header) if model.COLUMNS_BY_NAME[name].kind is model.Kind.DATETIME]
    formats = {
        row[i].number_format for row in queue.iter_rows(min_row=2) for i in dated if row[i].value is not None
    }
    history = book[model.HISTORY_TAB]
    for col in (3, 5):  # Time, Recorded
        formats |= {
            c.number_format for (c,) in history.iter_rows(min_row=2, min_col=col, max_col=col) if c.value
        }
    assert formats == {look_spec.DEFAULT_DATE_FORMAT}


def test_print_setup_of_every_visible_tab(book: Workbook) -> None:
    for tab in VISIBLE_TABS:
        ws = book[tab]
        spec = look_spec.TAB_PRINT[tab]
        assert ws.sheet_properties.pageSetUpPr.fitToPage, tab
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == spec.fit_height, tab
        assert ws.page_setup.orientation == ("landscape" if spec.landscape else "portrait"), tab
        assert ws.page_margins.left <= 0.25 and ws.page_margins.right <= 0.25, tab
        assert "Riverside Family Clinic" in (ws.oddHeader.center.text or ""), tab
        assert "&D" in (ws.oddFooter.left.text or ""), tab
    assert book[model.QUEUE_TAB].print_title_rows == "$1:$1"
    assert (
        book[model.METRICS_TAB].page_setup.fitToHeight == 1
        and book[model.DEMAND_TAB].page_setup.fitToHeight == 1
    )


def test_queue_layout_freeze_filter_widths_wrap_order(book: Workbook) -> None:
    ws = book[model.QUEUE_TAB]
    header = [c.value for c in ws[1]]
    assert header == list(model.LAYOUT_COLUMNS)
    assert header.index(model.PROBLEMS) == header.index(model.NEXT_STEP) + 1
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref.startswith("A1:")
    for name in (model.NOTES, model.NEXT_STEP, model.ESCALATION, model.PROBLEMS):
        col = header.index(name) + 1
        assert all(ws.cell(r, col).alignment.wrap_text for r in range(2, 40) if ws.cell(r, col).value), name
    for name in (model.RECEIVED, model.REASON, model.STATUS, model.NEXT_STEP):  # a typical value fits
        col = header.index(name) + 1
        values = [len(str(ws.cell(r, col).value)) for r in range(2, ws.max_row + 1) if ws.cell(r, col).value]
        letter = ws.cell(1, col).column_letter
        typical = sorted(values)[len(values) // 2] if name != model.RECEIVED else len("Mon 11/23 10:31")
        assert ws.column_dimensions[letter].width >= typical, name


def test_owner_dropdown_lists_the_configured_owners(book: Workbook, demo_config: Config) -> None:
    ws = book[model.QUEUE_TAB]
    letter = ws.cell(1, list(model.LAYOUT_COLUMNS).index(model.OWNER) + 1).column_letter
    [dv] = [d for d in ws.data_validations.dataValidation if f"{letter}2:" in str(d.sqref)]
    sheet, _, area = dv.formula1.partition("!")
    lists = book[sheet.strip("'")]
    values = [c.value for (c,) in lists[area.replace("$", "")]]
    assert values == [o.name for o in demo_config.owners] == ["Maria", "James", "Nurse Patel"]


def test_row_rules_are_readable_and_in_the_package(demo_config: Config) -> None:
    rules = look_spec.row_rules(tuple(demo_config.closed_statuses))
    assert [r.name for r in rules] == ["escalated", "overdue", "closed"]
    for rule in rules:
        assert contrast_ratio(rule.font, rule.fill) >= 4.5, rule.name
    for colour in (look_spec.STAFF_HEADER, look_spec.TOOL_HEADER):
        assert contrast_ratio(look_spec.HEADER_FONT, colour) >= 4.5
    assert contrast_ratio(look_spec.TAB_HEADER_FONT, look_spec.TAB_HEADER) >= 4.5
    assert round(contrast_ratio("000000", "FFFFFF"), 1) == 21.0
    with zipfile.ZipFile(demo_config.workbook) as z:
        styles = z.read("xl/styles.xml").decode()
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    dxfs = re.findall(r"<dxf>(.*?)</dxf>", styles, re.S)
    pairs = []
    for dxf in dxfs:
        font = re.search(r'<font>.*?<color rgb="..([0-9A-F]{6})"', dxf, re.S)
        fill = re.search(r'<fill>.*?<bgColor rgb="..([0-9A-F]{6})"', dxf, re.S)
        if font and fill:
            pairs.append((font.group(1), fill.group(1)))
    assert len(pairs) >= 3 and all(contrast_ratio(f, b) >= 4.5 for f, b in pairs), pairs
    formulas = re.findall(r"<formula>(.*?)</formula>", sheet)
    assert any("OVERDUE" in f for f in formulas) and any("Booked" in f for f in formulas)


def test_script_links_point_at_existing_blocks(book: Workbook, demo_config: Config) -> None:
    with zipfile.ZipFile(demo_config.workbook) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    links = re.findall(r"<f>HYPERLINK\(\"#'Scripts'!A(\d+)\",\"(.*?)\"\)</f>", sheet)
    scripts = book[model.SCRIPTS_TAB]
    queue = load_workbook(demo_config.workbook, read_only=False)[model.QUEUE_TAB]
    open_rows = sum(
        1
        for r in queue.iter_rows(min_row=2, values_only=True)
        if r[list(model.LAYOUT_COLUMNS).index(model.STATUS)] not in model.CLOSED_STATUSES
    )
    assert len(links) >= max(open_rows - 5, 5)
    for row, label in links:
        assert scripts.cell(int(row), 1).value == label.replace("&amp;", "&")
        assert (
            scripts.cell(int(row) + 1, 1).value == "Call"
            and scripts.cell(int(row) + 2, 1).value == "Voicemail"
        )
    names = {c.value for (c,) in queue.iter_rows(min_row=2, min_col=3, max_col=3)}
    text = " ".join(str(c.value) for row in scripts.iter_rows() for c in row if c.value)
    assert not any(n and n in text for n in names)  # no caller's name on the Scripts tab
    labels = {
        v for (v,) in scripts.iter_rows(min_col=1, max_col=1, values_only=True) if v and " · " in str(v)
    }
    assert len(labels) == 16  # 2 languages x 4 reason scripts x first/later


def test_metrics_table_and_chart_start(book: Workbook) -> None:
    ws = book[model.METRICS_TAB]
    top = METRICS_TABLE_ROW
    assert ws.cell(top, 1).value == "Period" and _is_header_style(ws.cell(top, 1))
    rate = next(c for c in ws[top] if c.value == "Recovery rate %")
    assert ws.column_dimensions[rate.column_letter].number_format == look_spec.PERCENT_FORMAT
    assert ws.cell(3, 2).value  # the chart's first week has calls
    assert ws.cell(3, 3).number_format == look_spec.PERCENT_FORMAT


def test_appended_rows_never_copy_a_header_style(tmp_path: Path, config: Config) -> None:
    """A data row that once took the header's style (the old bug) is not copied to the rows below it."""
    backend = ExcelBackend(config.workbook)
    service.init(config=config, backend=backend)
    wb = load_workbook(config.workbook)
    ws = wb[model.HISTORY_TAB]
    for col in range(1, 7):
        ws.cell(2, col, value="x" if col == 1 else None)._style = ws.cell(1, col)._style  # the old bug
    wb.save(config.workbook)
    from callback_sheets.cells import Changeset

    with backend.session():
        backend.write(
            backend.read(tabs=[model.HISTORY_TAB]),
            Changeset(tab_appends={model.HISTORY_TAB: [["CB-00001", 1, None, "Reached", None, "sheet"]]}),
        )
    assert backend.last_write_path == "patch"
    ws = load_workbook(config.workbook)[model.HISTORY_TAB]
    assert _is_header_style(ws.cell(2, 1)) and not _is_header_style(ws.cell(3, 1))
    assert ws.cell(3, 1).value == "CB-00001" and not _is_header_style(ws.cell(3, 4))


def test_demo_is_deterministic_and_looks_like_a_clinic_that_keeps_up(tmp_path: Path) -> None:
    from python_calamine import CalamineWorkbook

    grids = []
    for name in ("a", "b"):
        config = demo.write_demo(tmp_path / name, now_text=NOW)
        outcome = service.refresh(
            config=config, backend=ExcelBackend(config.workbook), now=parse_now(NOW, config.tz)
        )
        grids.append(CalamineWorkbook.from_path(str(config.workbook)).get_sheet_by_name("Queue").to_python())
    assert grids[0] == grids[1]
    summary = outcome.plan.summary
    assert summary.open >= 8 and summary.overdue <= summary.open * 0.25
    assert 2 <= summary.escalations <= 3 and 3 <= summary.problems <= 12
    example = next(v for v in outcome.plan.views if v.id == "CB-00012")
    assert not example.item.closed and not example.overdue and example.item.language == "Spanish"


def test_google_gets_the_same_look_in_one_batch_and_script_links(emu: object, config: Config) -> None:
    from tests.conftest import row
    from tests.test_google_backend import col, google_backend

    emulator = emu  # a SheetsEmulator
    book = emulator.store.create("Clinic callbacks")  # type: ignore[attr-defined]
    backend = google_backend(emulator, book.spreadsheet_id)  # type: ignore[arg-type]
    service.init(config=config, backend=backend)
    assert emulator.count("POST", r":batchUpdate$") == 1  # type: ignore[attr-defined]
    store = emulator.store.get(book.spreadsheet_id)  # type: ignore[attr-defined]
    queue = store.sheet_by_title(model.QUEUE_TAB)
    assert queue.properties["gridProperties"]["frozenRowCount"] == 1
    assert queue.properties["gridProperties"]["frozenColumnCount"] == 1
    fmt = queue.cell(5, col(model.RECEIVED)).fmt
    assert fmt["numberFormat"]["pattern"] == look_spec.DEFAULT_DATE_FORMAT
    assert queue.cell(5, col(model.NOTES)).fmt["wrapStrategy"] == "WRAP"
    assert queue.cell(5, col(model.NOTES)).fmt["textFormat"]["bold"] is False  # data cells: not the header
    owner = queue.cell(1, col(model.OWNER)).validation
    assert "'Lists'!$G$2:$G$" in owner["condition"]["values"][0]["userEnteredValue"]
    for rule in queue.conditional_formats:
        fmt = rule["booleanRule"]["format"]
        hexes = [
            "".join(f"{round(fmt[k].get(c, 0) * 255):02X}" for c in ("red", "green", "blue"))
            for k in ("backgroundColor",)
        ] + [
            "".join(
                f"{round(fmt['textFormat']['foregroundColor'].get(c, 0) * 255):02X}"
                for c in ("red", "green", "blue")
            )
        ]
        assert contrast_ratio(hexes[1], hexes[0]) >= 4.5
    assert len(queue.conditional_formats) == 3
    scripts = store.sheet_by_title(model.SCRIPTS_TAB)
    backend.write(
        backend.read(),
        __import__("callback_sheets.backends.base", fromlist=["Changeset"]).Changeset(
            new_rows=[row("2026-12-01 09:10", Language="Spanish", Reason="Billing")]
        ),
    )
    outcome = service.refresh(config=config, backend=backend, now=parse_now("2026-12-01T10:00", config.tz))
    assert outcome.plan.summary.open == 1
    queue = emulator.store.get(book.spreadsheet_id).sheet_by_title(model.QUEUE_TAB)  # type: ignore[attr-defined]
    link = queue.cell(1, col(model.SCRIPT)).value["formulaValue"]
    found = re.fullmatch(r'=HYPERLINK\("#gid=(\d+)&range=A(\d+)","(.*)"\)', link)
    assert found and int(found[1]) == scripts.sheet_id
    assert (
        scripts.cell(int(found[2]) - 1, 0).value["stringValue"]
        == found[3]
        == "Spanish · Other reasons · 1st attempt"
    )
    again = service.refresh(config=config, backend=backend, now=parse_now("2026-12-01T10:05", config.tz))
    assert not [c for c in again.plan.changes.cells if c.column == model.SCRIPT]  # read back as its text


@pytest.fixture
def emu() -> Iterator[object]:
    from tests.sheets_emulator import SheetsEmulator

    with SheetsEmulator() as emulator:
        yield emulator


def test_a_script_link_is_rewritten_by_the_patcher_when_the_attempt_changes(tmp_path: Path) -> None:
    config = demo.write_demo(tmp_path / "d", now_text=NOW)
    backend = ExcelBackend(config.workbook)
    now = parse_now(NOW, config.tz)
    outcome = service.refresh(config=config, backend=backend, now=now)
    fresh = next(v for v in outcome.plan.views if not v.item.attempts and v.item.reason == "New appointment")
    assert fresh.id is not None
    service.record_attempt(
        config=config, backend=backend, item_id=fresh.id, outcome="No answer", note=None, now=now
    )
    assert backend.last_write_path == "patch"  # its own HYPERLINK cell is not a staff formula to refuse
    again = service.refresh(config=config, backend=backend, now=now)
    assert not [c for c in again.plan.changes.cells if c.column == model.SCRIPT]
    with zipfile.ZipFile(config.workbook) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    row = fresh.item.position
    cell = re.search(rf'<c r="S{row}"[^>]*><f>HYPERLINK\("#\'Scripts\'!A(\d+)","([^"]+)"\)</f>', sheet)
    assert cell is not None and cell[2].endswith("New appointment · later attempt")


def test_google_text_beside_a_link_stays_literal(emu: object, config: Config) -> None:
    """A write with links is USER_ENTERED: every text in it must still be stored as the text it is."""
    from callback_sheets.cells import CellWrite, Changeset, Link, WriteMode
    from tests.conftest import row
    from tests.test_google_backend import col, google_backend

    book = emu.store.create("Clinic callbacks")  # type: ignore[attr-defined]
    backend = google_backend(emu, book.spreadsheet_id)  # type: ignore[arg-type]
    service.init(config=config, backend=backend)
    backend.write(backend.read(), Changeset(new_rows=[row("2026-12-01 09:10")]))
    snapshot = backend.read()
    evil = ["=1+1", "+1-555-0100", "123", "2026-12-01", "'quoted", "TRUE", "50%"]
    cells = [
        CellWrite(
            2, None, model.SCRIPT, Link("English · Other reasons · 1st attempt", "Scripts", 4), WriteMode.TOOL
        )
    ]
    names = [
        model.NEXT_STEP,
        model.PROBLEMS,
        model.ESCALATION,
        model.OVERDUE,
        model.CLOSED_AT,
        model.CALLS,
        model.ARRIVED,
    ]
    cells += [CellWrite(2, None, n, e, WriteMode.TOOL) for n, e in zip(names, evil, strict=True)]
    backend.write(snapshot, Changeset(cells=cells))
    queue = emu.store.get(book.spreadsheet_id).sheet_by_title(model.QUEUE_TAB)  # type: ignore[attr-defined]
    assert [queue.cell(1, col(n)).value for n in names] == [{"stringValue": e} for e in evil]
    assert queue.cell(1, col(model.SCRIPT)).value["formulaValue"].startswith('=HYPERLINK("#gid=')
