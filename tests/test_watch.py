"""The watch folder under the runner: a file dropped while it ticks, a half-written file, a bad file,
the same file twice, keep_files, and `import-calls --watch` through the CLI."""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.app.runner.log import RunLog
from callback_sheets.app.runner.loop import Runner
from callback_sheets.app.watch import RECORD, known_hashes, watch_folder
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.cli import main
from callback_sheets.config import Config, load_config

TOML = """
[clinic]
name = "Test Clinic"
timezone = "America/Chicago"
phone_region = "US"

[holidays]
country = "US"

[queue]
workbook = "queue.xlsx"

[intake]
watch = "exports/"
{extra}
"""
TWILIO = "Sid,StartTime,From,Direction,Status\n"
EXPORT = TWILIO + "CA1,2026-12-01T15:10:00Z,+13125550142,inbound,no-answer\n"
OTHER = TWILIO + "CA2,2026-12-01T15:20:00Z,+13125550143,inbound,busy\n"
NOW = datetime(2026, 12, 1, 10, 0)


def setup(tmp_path: Path, extra: str = "") -> Config:
    (tmp_path / "callback_sheets.toml").write_text(TOML.format(extra=extra), encoding="utf-8")
    config = load_config(tmp_path / "callback_sheets.toml")
    service.init(config=config, backend=ExcelBackend(config.workbook))
    return config


def queue_phones(config: Config) -> list[str]:
    ws = openpyxl.load_workbook(config.workbook)[model.QUEUE_TAB]
    header = [c.value for c in ws[1]]
    return [r[header.index(model.PHONE)] for r in ws.iter_rows(min_row=2, values_only=True)]


def make_runner(config: Config, log: RunLog, settle: float = 0.3) -> Runner:
    tz = config.tz
    return Runner(
        load_config=lambda: config,
        clock=lambda: NOW.replace(tzinfo=tz),
        log=log,
        watch=lambda cfg, now: watch_folder(
            config=cfg, backend=lambda: ExcelBackend(cfg.workbook), now=now, settle=settle
        ),
    )


def test_runner_imports_dropped_files_once_and_moves_them(tmp_path: Path) -> None:
    config = setup(tmp_path)
    folder = tmp_path / "exports"
    log = RunLog(stream=io.StringIO())
    with make_runner(config, log) as runner:
        records = runner.tick()  # nothing there yet: the folder is created, the refresh runs
        assert folder.is_dir() and [r.job for r in records] == ["refresh"]
        (folder / "calls.csv").write_text(EXPORT, encoding="utf-8")  # dropped while the runner ticks
        records = runner.tick()
        assert [(r.job, r.outcome, r.rows) for r in records] == [("watch", "ok", 1)]
        assert queue_phones(config) == ["+13125550142"]
        moved = folder / "imported" / "2026-12" / "calls.csv"
        assert moved.read_text(encoding="utf-8") == EXPORT and not (folder / "calls.csv").exists()
        ws = openpyxl.load_workbook(config.workbook)[model.QUEUE_TAB]
        assert ws["A2"].value == "CB-00001"  # refreshed right after the import, even between refreshes
        # the same file saved again, under another name: not imported again, moved beside the first
        (folder / "calls (copy).csv").write_text(EXPORT, encoding="utf-8")
        (folder / "calls.csv").write_text(EXPORT, encoding="utf-8")
        assert runner.tick() == []
        assert queue_phones(config) == ["+13125550142"]
        assert sorted(p.name for p in (folder / "imported" / "2026-12").iterdir()) == [
            "calls (copy).csv",
            "calls-2.csv",
            "calls.csv",
        ]
        assert len(known_hashes(folder)) == 1
        assert "+1312" not in (folder / RECORD).read_text() and "calls" not in (folder / RECORD).read_text()


def test_a_half_written_file_waits_for_the_next_tick(tmp_path: Path) -> None:
    config = setup(tmp_path)
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "calls.csv"
    target.write_text(TWILIO, encoding="utf-8")
    stop = threading.Event()

    def writer() -> None:  # a slow download: a few bytes every 50 ms
        while not stop.is_set():
            with open(target, "a", encoding="utf-8") as f:
                f.write("\n")
            time.sleep(0.05)

    thread = threading.Thread(target=writer)
    thread.start()
    log = RunLog(stream=io.StringIO())
    try:
        with make_runner(config, log) as runner:
            records = runner.tick()
            assert [r.job for r in records] == ["refresh"]  # no watch line: the file waits
            assert target.exists() and queue_phones(config) == []
            stop.set()
            thread.join()
            with open(target, "a", encoding="utf-8") as f:
                f.write("CA1,2026-12-01T15:10:00Z,+13125550142,inbound,no-answer\n")
            records = runner.tick()
            assert [(r.job, r.outcome) for r in records] == [("watch", "ok")]
            assert queue_phones(config) == ["+13125550142"]
    finally:
        stop.set()
        thread.join()


def test_a_bad_file_goes_to_failed_with_why_and_never_stops_the_refresh(tmp_path: Path) -> None:
    config = setup(tmp_path)
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "Ann Smith notes.pdf").write_bytes(b"%PDF-1.4 not an export")
    (folder / "z-calls.csv").write_text(OTHER, encoding="utf-8")
    (folder / "~$open.xlsx").write_bytes(b"lock")  # Excel's owner file: left alone
    stream = io.StringIO()
    with make_runner(config, RunLog(stream=stream)) as runner:
        records = runner.tick()
    assert [(r.job, r.outcome) for r in records] == [("watch", "failed"), ("watch", "ok"), ("refresh", "ok")]
    failed = folder / "failed" / "Ann Smith notes.pdf"
    assert failed.exists() and (folder / "failed" / "Ann Smith notes.pdf.why.txt").read_text().strip()
    assert queue_phones(config) == ["+13125550143"]
    assert (folder / "~$open.xlsx").exists()
    assert "Ann Smith" not in stream.getvalue()  # the log line does not name the file


def test_a_busy_workbook_leaves_the_file_for_the_next_tick(tmp_path: Path) -> None:
    config = setup(tmp_path)
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "calls.csv").write_text(EXPORT, encoding="utf-8")
    lock = config.workbook.with_name(f".~lock.{config.workbook.name}#")
    lock.write_text("someone,host,,", encoding="utf-8")  # open in LibreOffice
    with make_runner(config, RunLog(stream=io.StringIO())) as runner:
        records = runner.tick()
        assert (records[0].job, records[0].outcome) == ("watch", "failed")
        assert (folder / "calls.csv").exists() and not (folder / "failed").exists()
        lock.unlink()
        records = runner.tick()
        assert [(r.job, r.outcome) for r in records][:1] == [("watch", "ok")]
    assert queue_phones(config) == ["+13125550142"]


def test_keep_files_and_the_cli(tmp_path: Path) -> None:
    config = setup(tmp_path, extra="keep_files = true")
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "calls.csv").write_text(EXPORT, encoding="utf-8")
    runner = CliRunner()
    args = ["--config", str(config.path), "import-calls", "--watch", "--json", "--now", "2026-12-01T10:00"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["files"][0] | {} == {
        "name": "calls.csv",
        "outcome": "imported",
        "why": None,
        "calls": 1,
        "new_rows": 1,
        "merged": 0,
        "already_imported": 0,
    }
    assert (folder / "calls.csv").exists() and not (folder / "imported").exists()
    second = runner.invoke(main, args)
    assert json.loads(second.stdout)["files"][0]["outcome"] == "already imported"
    assert queue_phones(config) == ["+13125550142"]
    (folder / "junk.csv").write_text("nothing,here\n1,2\n", encoding="utf-8")
    third = runner.invoke(main, args[:-3])
    assert third.exit_code == 1 and "junk.csv: failed" in third.stderr


def test_watch_without_folder_is_a_usage_error(tmp_path: Path, config: Config) -> None:
    result = CliRunner().invoke(main, ["--config", str(config.path), "import-calls", "--watch"])
    assert result.exit_code == 2 and "[intake] watch" in result.output


def test_stamp_month_is_clinic_time(tmp_path: Path) -> None:
    config = setup(tmp_path)
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "calls.csv").write_text(EXPORT, encoding="utf-8")
    # 2026-12-01 03:00 UTC is still November 30 in Chicago
    watch_folder(
        config=config,
        backend=lambda: ExcelBackend(config.workbook),
        now=datetime(2026, 12, 1, 3, 0, tzinfo=UTC),
        settle=0.05,
    )
    assert (folder / "imported" / "2026-11" / "calls.csv").exists()


def test_doctor_checks_the_watch_folder(tmp_path: Path) -> None:
    config = setup(tmp_path)
    runner = CliRunner()
    out = runner.invoke(main, ["--config", str(config.path), "doctor"])
    assert "does not exist yet: the first look creates it" in out.output
    (tmp_path / "exports").write_text("not a folder", encoding="utf-8")
    out = runner.invoke(main, ["--config", str(config.path), "doctor"])
    assert out.exit_code == 1 and "is not a folder: fix intake.watch" in out.output
