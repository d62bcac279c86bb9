"""One reader for dates typed as text, in the clinic's `[clinic] date_order`: refresh, reports and import."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from callback_sheets import model
from callback_sheets.app import reports, service
from callback_sheets.config import load_config
from callback_sheets.core.times import locale_date_order, parse_text_date
from callback_sheets.errors import ConfigError
from tests.conftest import CLINIC_TOML
from tests.conftest import row as us_row

NOW = datetime.fromisoformat("2026-12-02T09:00-06:00")


def row(received: str, **fields: object) -> dict:
    return {**us_row(received, **fields), model.PHONE: "+1 (312) 555-0142"}


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("01/12/2026 09:30", "DMY", datetime(2026, 12, 1, 9, 30)),
        ("01/12/2026 09:30", "MDY", datetime(2026, 1, 12, 9, 30)),
        ("12/01/2026 9:30 AM", "MDY", datetime(2026, 12, 1, 9, 30)),
        ("1-12-2026 14:05", "DMY", datetime(2026, 12, 1, 14, 5)),
        ("01.12.2026 15:10", "MDY", datetime(2026, 12, 1, 15, 10)),  # dotted: day first everywhere
        ("2026/12/01 09:30", "DMY", datetime(2026, 12, 1, 9, 30)),  # a year first reads year first
        ("2026/12/01 09:30", "YMD", datetime(2026, 12, 1, 9, 30)),
        ("2026-12-01 3:10 PM", "MDY", datetime(2026, 12, 1, 15, 10)),
        ("2026-12-01T09:30", "DMY", datetime(2026, 12, 1, 9, 30)),
        ("01/12/26 09:30", "DMY", datetime(2026, 12, 1, 9, 30)),
        ("13/13/2026 09:30", "DMY", None),
        ("next tuesday", "MDY", None),
    ],
)
def test_parse_text_date(text: str, order: str, expected: datetime | None) -> None:
    assert parse_text_date(text, order) == expected


def test_locale_orders() -> None:
    assert locale_date_order("en_US") == "MDY"
    assert locale_date_order("en_GB") == "DMY"
    assert locale_date_order("ja_JP") == "YMD"
    assert locale_date_order("en") is None and locale_date_order(None) is None


def uk_clinic(tmp_path: Path, order: str | None = "DMY", region: str = "GB") -> Path:
    toml = CLINIC_TOML.replace('phone_region = "US"', f'phone_region = "{region}"')
    if order:
        toml = toml.replace(
            'timezone = "America/Chicago"', f'timezone = "America/Chicago"\ndate_order = "{order}"'
        )
    (tmp_path / "callback_sheets.toml").write_text(toml, encoding="utf-8")
    return tmp_path / "callback_sheets.toml"


def test_config_date_order_key(tmp_path: Path) -> None:
    assert load_config(uk_clinic(tmp_path, "dmy")).order_of_dates() == "DMY"
    assert load_config(uk_clinic(tmp_path, None, "US")).order_of_dates() == "MDY"
    assert load_config(uk_clinic(tmp_path, None, "GB")).order_of_dates() == "DMY"
    assert load_config(uk_clinic(tmp_path, None, "GB")).order_of_dates("en_US") == "MDY"  # the sheet's locale
    assert load_config(uk_clinic(tmp_path, "YMD", "GB")).order_of_dates("en_US") == "YMD"  # the key wins
    with pytest.raises(ConfigError, match=r"clinic\.date_order"):
        load_config(uk_clinic(tmp_path, "DDMMYY"))


def test_refresh_and_reports_read_a_text_date_the_same_way_on_excel(tmp_path: Path, make_queue) -> None:
    config = load_config(uk_clinic(tmp_path))
    from callback_sheets.backends.excel.backend import ExcelBackend

    backend = ExcelBackend(config.workbook)
    service.init(config=config, backend=backend)
    from callback_sheets.cells import Changeset

    with backend.session():
        backend.write(
            backend.read(),
            Changeset(
                new_rows=[
                    row("2026-12-01 08:10"),
                    {**row("2026-12-01 08:10"), model.RECEIVED: "01/12/2026 09:30"},
                ]
            ),
        )
    service.refresh(config=config, backend=backend, now=NOW)
    _, b = (r.values for r in backend.read().rows)
    assert b[model.PROBLEMS] is None and b[model.NEXT_ATTEMPT] == datetime(2026, 12, 1, 12, 0)
    daily = reports.report(
        config=config, backend=backend, period="daily", now=NOW, on=datetime(2026, 12, 1).date()
    )
    assert daily.scopes[0].figures.missed_calls == 2


def test_an_unreadable_text_date_is_a_problem(tmp_path: Path) -> None:
    from callback_sheets.backends.memory import MemoryBackend

    config = load_config(uk_clinic(tmp_path))
    backend = MemoryBackend()
    service.init(config=config, backend=backend)
    header = backend.sheets[model.QUEUE_TAB][0]
    for received in ("13/13/2026 09:30", "2/12/2026 8:05"):
        r = {**row("2026-12-01 08:10"), model.RECEIVED: received}
        backend.sheets[model.QUEUE_TAB].append([r.get(h) for h in header])
    service.refresh(config=config, backend=backend, now=NOW)
    bad, good = backend.records()
    assert "Received is not a date and time" in bad[model.PROBLEMS]
    assert good[model.PROBLEMS] is None  # 2 December: ambiguous text is read the clinic's way, silently


def test_google_reads_text_dates_in_the_spreadsheet_locale(tmp_path: Path, sheets_emulator) -> None:
    from tests.test_google_backend import google_queue

    config = load_config(uk_clinic(tmp_path, None, "US"))  # no date_order: the sheet's locale decides
    backend = google_queue(
        sheets_emulator, config, [{**row("2026-12-01 08:10"), model.RECEIVED: "01/12/2026 09:30"}]
    )
    sheets_emulator.store.get(backend.key).properties["locale"] = "en_GB"
    service.refresh(config=config, backend=backend, now=NOW)
    [r] = backend.read().rows
    assert r.get(model.PROBLEMS) is None and r.get(model.NEXT_ATTEMPT) == datetime(2026, 12, 1, 12, 0)
    daily = reports.report(
        config=config, backend=backend, period="daily", now=NOW, on=datetime(2026, 12, 1).date()
    )
    assert daily.scopes[0].figures.missed_calls == 1


def test_import_reads_numeric_dates_in_the_clinic_order(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    from callback_sheets.intake import read_call_log

    export = tmp_path / "calls.csv"
    export.write_text(
        "From,Start Time,Direction,Status\n+13125550142,01/12/2026 09:30,inbound,no-answer\n",
        encoding="utf-8",
    )
    mapping = {"phone": "From", "received": "Start Time", "direction": "Direction", "status": "Status"}
    chicago = ZoneInfo("America/Chicago")
    for order, month in (("DMY", 12), ("MDY", 1)):
        log = read_call_log(
            export,
            fmt="generic",
            mapping=mapping,
            export_tz=chicago,
            clinic_tz=chicago,
            region="US",
            date_order=order,
        )
        assert [c.received.month for c in log.calls] == [month], log.bad
