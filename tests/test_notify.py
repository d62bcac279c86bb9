"""Alerts that reach a person (issue 11), against real SMTP and HTTP servers on 127.0.0.1."""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.app.notify import notify, send_test
from callback_sheets.app.runner.log import RunLog
from callback_sheets.app.runner.loop import Runner
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.cells import Changeset
from callback_sheets.cli import main
from callback_sheets.config import Config, load_config, parse_config
from callback_sheets.errors import ConfigError
from callback_sheets.notify.chart import weekly_chart
from callback_sheets.notify.record import SentRecord, record_path
from tests.conftest import row
from tests.notify_servers import SmtpServer, StallServer, WebhookServer, free_port, self_signed_cert

T = datetime.fromisoformat
TZ = "-06:00"

BASE_TOML = """
[clinic]
name = "Test Clinic"
timezone = "America/Chicago"
callback_number = "(312) 555-0100"

[holidays]
country = "US"

[queue]
workbook = "queue.xlsx"

[escalation]
owner = "Nurse Patel"
backup = "lead@clinic.example"
retry_minutes = 30

[[owners]]
name = "Maria"
languages = ["English", "Spanish"]
email = "maria@clinic.example"

[[owners]]
name = "Nurse Patel"
email = "patel@clinic.example"
reasons = ["Clinical concern"]

[notify]
link = "https://docs.google.com/spreadsheets/d/KEY/edit"
review_to = ["lead@clinic.example"]
weekly_to = ["manager@clinic.example"]
timeout_seconds = 1
"""


def write_config(
    folder: Path,
    *,
    security: str = "none",
    smtp_port: int | None = None,
    webhook: str | None = None,
    fmt: str = "json",
    email_extra: str = "",
) -> Config:
    text = BASE_TOML
    if smtp_port is not None:
        text += f"""
[notify.email]
host = "127.0.0.1"
port = {smtp_port}
security = "{security}"
sender = "queue@clinic.example"
{email_extra}
"""
    if webhook is not None:
        text += f'\n[notify.webhook]\nurl = "{webhook}"\nformat = "{fmt}"\n'
    path = folder / "callback_sheets.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def queue_with(config: Config, rows: list[dict[str, Any]]) -> ExcelBackend:
    backend = ExcelBackend(config.workbook)
    if not config.workbook.exists():
        service.init(config=config, backend=backend)
    if rows:
        with backend.session():
            backend.write(backend.read(), Changeset(new_rows=[dict(r) for r in rows]))
    return backend


def clinical(received: str, **fields: Any) -> dict[str, Any]:
    return row(received, Reason="Billing", Notes="chest pain since breakfast", **fields)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def texts_of(received: Any) -> str:
    """Every header and decoded body part of a received message, as one string."""
    msg = received.message
    parts = [str(k) + ": " + str(v) for k, v in msg.items()]
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


# --- e-mail --------------------------------------------------------------------------------------------


def test_new_escalation_reaches_the_nurse_once(tmp_path: Path, smtp: SmtpServer, capsys: Any) -> None:
    config = write_config(tmp_path, smtp_port=smtp.port)
    backend = queue_with(config, [clinical("2026-12-01 10:02", ID="CB-00001")])
    service.refresh(config=config, backend=backend, now=T("2026-12-01T10:05" + TZ))
    result = notify(config=config, backend=backend, now=T("2026-12-01T10:05" + TZ))
    assert [d.status for d in result.deliveries] == ["sent"]
    [got] = smtp.messages
    assert got.rcpt == ["patel@clinic.example"]
    msg = got.message
    assert msg["Subject"] == "Test Clinic: new escalation CB-00001, due Tue 12-01 10:17"
    body = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "New escalation: CB-00001" in body and "Due: Tue 12-01 10:17" in body
    assert "https://docs.google.com/spreadsheets/d/KEY/edit" in body
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert 'href="https://docs.google.com/spreadsheets/d/KEY/edit"' in html
    with capsys.disabled():  # read it as the nurse would
        print("\n--- received by the nurse ---\n" + got.raw.decode()[:1500])
    again = notify(config=config, backend=backend, now=T("2026-12-01T10:10" + TZ))
    assert again.deliveries == [] and len(smtp.messages) == 1
    # the record survives a restart and lives beside the queue's other state
    path = record_path(config)
    assert path.parent == config.workbook.parent and path.name.startswith(".callback-sheets-notify.")
    assert SentRecord.load(path).was_sent("CB-00001:new_escalation", "email")


def test_overdue_goes_to_owner_and_backup(tmp_path: Path, smtp: SmtpServer) -> None:
    config = write_config(tmp_path, smtp_port=smtp.port)
    backend = queue_with(config, [clinical("2026-12-01 10:02", ID="CB-00001")])
    notify(config=config, backend=backend, now=T("2026-12-01T10:20" + TZ))
    kinds = {m.message["X-Callback-Sheets-Alert"]: m.rcpt for m in smtp.messages}
    assert kinds == {
        "new_escalation": ["patel@clinic.example"],
        "escalation_overdue": ["patel@clinic.example", "lead@clinic.example"],
    }
    overdue = next(m for m in smtp.messages if m.message["X-Callback-Sheets-Alert"] == "escalation_overdue")
    assert overdue.message["Subject"] == "Test Clinic: escalation CB-00001 overdue since 10:17"


def test_after_hours_escalation_also_reaches_after_hours_to(tmp_path: Path, smtp: SmtpServer) -> None:
    """Issue 18 with issue 11: a symptom message left at night alerts the escalation owner and
    `[escalation] after_hours_to`; one left in hours alerts the owner only."""
    config = write_config(tmp_path, smtp_port=smtp.port)
    text = config.path.read_text(encoding="utf-8")  # type: ignore[union-attr]
    text = text.replace('backup = "lead@clinic.example"', 'after_hours_to = "oncall@clinic.example"')
    config.path.write_text(text, encoding="utf-8")  # type: ignore[union-attr]
    config = load_config(config.path)
    backend = queue_with(
        config, [clinical("2026-11-30 22:40", ID="CB-00001"), clinical("2026-12-01 09:05", ID="CB-00002")]
    )
    notify(config=config, backend=backend, now=T("2026-12-01T09:10" + TZ))
    new = {
        m.message["Subject"].split("new escalation ")[1].split(",")[0]: m
        for m in smtp.messages
        if m.message["X-Callback-Sheets-Alert"] == "new_escalation"
    }
    assert new["CB-00001"].rcpt == ["patel@clinic.example", "oncall@clinic.example"]
    assert "after hours" in new["CB-00001"].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert new["CB-00002"].rcpt == ["patel@clinic.example"]


def test_morning_digest_review_and_weekly(tmp_path: Path, smtp: SmtpServer) -> None:
    config = write_config(tmp_path, smtp_port=smtp.port)
    backend = queue_with(
        config,
        [
            row("2026-12-03 09:00", ID="CB-00001", Owner="Maria"),
            row("2026-12-03 09:30", ID="CB-00002", Owner="Maria", Reason="Billing"),
            row("2026-11-24 09:30", ID="CB-00003", Owner="Maria", Reason="Billing"),
        ],
    )
    notify(config=config, backend=backend, now=T("2026-12-04T08:05" + TZ))  # Friday, first block
    [digest] = smtp.messages
    assert digest.rcpt == ["maria@clinic.example"]
    assert digest.message["Subject"] == "Test Clinic: Maria, 3 open, 3 overdue"
    items = next(line for line in texts_of(digest).splitlines() if line.startswith("Items: "))
    assert sorted(items[7:].split(", ")) == ["CB-00001", "CB-00002", "CB-00003"]  # most urgent first
    notify(config=config, backend=backend, now=T("2026-12-04T10:05" + TZ))  # no second digest
    assert len(smtp.messages) == 1
    notify(config=config, backend=backend, now=T("2026-12-04T17:20" + TZ))  # after close_of_day
    review = smtp.messages[-1]
    assert review.rcpt == ["lead@clinic.example"] and "end-of-day review" in review.message["Subject"]
    assert "Due, no attempt today (3): " in texts_of(review)
    notify(config=config, backend=backend, now=T("2026-12-04T17:35" + TZ))  # the weekly time
    weekly = smtp.messages[-1]
    assert weekly.rcpt == ["manager@clinic.example"] and weekly.message["Subject"] == (
        "Test Clinic: weekly summary 2026-W49"
    )
    text = texts_of(weekly)
    assert "Missed calls: 2 (last week 1)" in text
    images = [p for p in weekly.message.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"] == "<chart>"
    assert 'src="cid:chart"' in weekly.message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    png = images[0].get_content()
    assert png.startswith(b"\x89PNG") and struct.unpack(">II", png[16:24]) == (480, 200)
    notify(config=config, backend=backend, now=T("2026-12-04T18:00" + TZ))
    assert len(smtp.messages) == 3  # each once


def test_chart_is_a_valid_png_of_counts() -> None:
    png = weekly_chart([(5, 3), (0, 0), (12, 12)], width=60, height=40)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    length = struct.unpack(">I", png[33:37])[0]
    raw = zlib.decompress(png[41 : 41 + length])
    assert len(raw) == 40 * (1 + 60 * 3)  # one filter byte + RGB per row


# --- privacy ----------------------------------------------------------------------------------------------

SECRETS = [
    "Zebulon",
    "Quartermaine",
    "Xiomara",
    "Ybarra-Luz",
    "555-0199",
    "5550199",
    "0188",
    "crushing",
    "radiating",
    "39.5",
    "Clinical concern",
    "chest pain",
    "fiebre",
    "sangrando",
    "Prescription question",
]


def test_no_patient_data_in_any_alert(tmp_path: Path, smtp: SmtpServer) -> None:
    with WebhookServer() as hook:
        config = write_config(tmp_path, smtp_port=smtp.port, webhook=hook.url, fmt="json")
        rows = [
            row(
                "2026-12-03 09:00",
                ID="CB-00001",
                Caller="Zebulon Quartermaine",
                Phone="(312) 555-0199",
                Reason="Clinical concern",
                Notes="crushing chest pain radiating, fever 39.5",
                Owner="Maria",
            ),
            row(
                "2026-12-03 09:30",
                ID="CB-00002",
                Caller="Xiomara Ybarra-Luz",
                Phone="312-555-0188",
                Reason="Prescription question",
                Notes="fiebre y sangrando",
                Language="Spanish",
                Owner="Maria",
            ),
            row(
                "2026-11-27 09:30",
                ID="CB-00003",
                Caller="Zebulon Quartermaine",
                Phone="3125550199",
                Reason="Billing",
                Urgency="Urgent",
            ),
        ]
        backend = queue_with(config, rows)
        for at in ("08:05", "08:30", "17:20", "17:35"):
            notify(config=config, backend=backend, now=T(f"2026-12-04T{at}{TZ}"))
        send_test(config=config, now=T("2026-12-04T17:40" + TZ))
        kinds = {m.message["X-Callback-Sheets-Alert"] for m in smtp.messages}
        assert kinds == {
            "new_escalation",
            "escalation_overdue",
            "morning_digest",
            "end_of_day_review",
            "weekly_summary",
            "test",
        }
        posted = {p.json["kind"] for p in hook.posts}
        assert posted == kinds
        for fmt in ("teams", "slack", "google-chat"):
            config2 = write_config(tmp_path, webhook=hook.url, fmt=fmt)
            record_path(config2).unlink(missing_ok=True)
            notify(config=config2, backend=backend, now=T("2026-12-04T17:36" + TZ))
        # the Message-ID and the MIME boundaries are random digits (a "0188" in each once failed this test):
        # they carry nothing of ours
        random_id = re.compile(r"^Message-ID: .*$|={15}\d+={2}", flags=re.M | re.I)
        everything = [
            random_id.sub("", m.raw.decode("utf-8", "replace") + texts_of(m)) for m in smtp.messages
        ]
        everything += [json.dumps(p.json, ensure_ascii=False) + str(p.headers) for p in hook.posts]
        for secret in SECRETS:
            for blob in everything:
                assert secret.casefold() not in blob.casefold(), secret


# --- faults ---------------------------------------------------------------------------------------------


def test_refused_connection_then_retried_with_backoff(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, smtp_port=port)
    backend = queue_with(config, [clinical("2026-12-01 10:02", ID="CB-00001")])
    first = notify(config=config, backend=backend, now=T("2026-12-01T10:05" + TZ))
    assert [d.status for d in first.deliveries] == ["failed"]
    assert "connection refused: check notify.email.host and port" in first.deliveries[0].detail
    record = SentRecord.load(record_path(config))
    assert record.sent == {} and record.channels["email"].failures == 1
    doctor = CliRunner().invoke(main, ["--config", str(config.path), "doctor"])
    assert "FAIL  notify email (127.0.0.1:" in doctor.stdout and "connection refused" in doctor.stdout
    with SmtpServer() as server:
        config = write_config(tmp_path, smtp_port=server.port)
        early = notify(config=config, backend=backend, now=T("2026-12-01T10:05:30" + TZ))
        assert [d.status for d in early.deliveries] == ["deferred"] and not server.messages  # backing off
        later = notify(config=config, backend=backend, now=T("2026-12-01T10:07" + TZ))
        assert [d.status for d in later.deliveries] == ["sent"] and len(server.messages) == 1
        assert "email" not in SentRecord.load(record_path(config)).channels


def test_a_stalled_server_times_out_quickly_and_refresh_goes_on(tmp_path: Path) -> None:
    with StallServer() as stall:
        config = write_config(tmp_path, smtp_port=stall.port)
        backend = queue_with(config, [clinical("2026-12-01 10:02", ID=f"CB-0000{i}") for i in range(1, 6)])
        started = time.monotonic()
        result = notify(config=config, backend=backend, now=T("2026-12-01T10:05" + TZ))
        elapsed = time.monotonic() - started
    # one timeout for the channel, the other four alerts deferred without waiting again
    assert [d.status for d in result.deliveries] == ["failed"] + ["deferred"] * 4
    assert "no answer within 1 s" in result.deliveries[0].detail
    assert elapsed < 5


@pytest.mark.parametrize("answer", ["421 4.3.2 Service not available", "451 4.3.0 Try again later"])
def test_temporary_smtp_answers_are_retried(tmp_path: Path, smtp: SmtpServer, answer: str) -> None:
    config = write_config(tmp_path, smtp_port=smtp.port)
    backend = queue_with(config, [clinical("2026-12-01 10:02", ID="CB-00001")])
    smtp.handler.data_answers.append(answer)
    first = notify(config=config, backend=backend, now=T("2026-12-01T10:05" + TZ))
    code = answer[:3]
    assert (
        first.deliveries[0].status == "failed"
        and f"answered {code} (temporarily refused" in first.deliveries[0].detail
    )
    assert smtp.messages == []
    notify(config=config, backend=backend, now=T("2026-12-01T10:07" + TZ))
    notify(config=config, backend=backend, now=T("2026-12-01T10:09" + TZ))
    assert len(smtp.messages) == 1


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, security: str) -> None:
    cert = self_signed_cert(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))  # trust the test certificate (verification stays on)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    tls = {"starttls": cert} if security == "starttls" else {"implicit_tls": cert}
    with SmtpServer(password="s3cret", **tls) as server:  # type: ignore[arg-type]
        extra = 'username = "queue@clinic.example"\npassword_env = "TEST_SMTP_PASSWORD"'
        config = write_config(tmp_path, smtp_port=server.port, security=security, email_extra=extra)
        backend = queue_with(config, [clinical("2026-12-01 10:02", ID="CB-00001")])
        result = notify(config=config, backend=backend, now=T("2026-12-01T10:05" + TZ))
        assert [d.status for d in result.deliveries] == ["sent"] and len(server.messages) == 1
    monkeypatch.delenv("SSL_CERT_FILE")
    with SmtpServer(password="s3cret", **tls) as server:  # type: ignore[arg-type]
        config = write_config(tmp_path, smtp_port=server.port, security=security, email_extra=extra)
        record_path(config).unlink()
        failed = notify(config=config, backend=backend, now=T("2026-12-01T10:05" + TZ))
        assert "TLS failed" in failed.deliveries[0].detail and not server.messages  # an untrusted certificate


def test_bad_password_535(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with SmtpServer(password="right") as server:
        extra = 'username = "queue@clinic.example"\npassword_env = "TEST_SMTP_PASSWORD"'
        config = write_config(tmp_path, smtp_port=server.port, email_extra=extra)
        backend = queue_with(config, [clinical("2026-12-01 10:02", ID="CB-00001")])
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
        bad = notify(config=config, backend=backend, now=T("2026-12-01T10:05" + TZ))
        assert "login refused (535): check notify.email.username and the password in $TEST_SMTP_PASSWORD" in (
            bad.deliveries[0].detail
        )
        doctor = CliRunner().invoke(main, ["--config", str(config.path), "doctor"])
        assert "FAIL  notify email" in doctor.stdout and "535" in doctor.stdout
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "right")
        good = notify(config=config, backend=backend, now=T("2026-12-01T10:07" + TZ))
        assert [d.status for d in good.deliveries] == ["sent"] and len(server.messages) == 1
        doctor = CliRunner().invoke(main, ["--config", str(config.path), "doctor"])
        assert "ok    notify email" in doctor.stdout


def test_webhook_429_then_200(tmp_path: Path) -> None:
    with WebhookServer(answers=[429]) as hook:
        config = write_config(tmp_path, webhook=hook.url, fmt="teams")
        backend = queue_with(config, [clinical("2026-12-01 10:02", ID="CB-00001")])
        first = notify(config=config, backend=backend, now=T("2026-12-01T10:05" + TZ))
        assert first.deliveries[0].status == "failed" and "rate limited (429)" in first.deliveries[0].detail
        assert "secret-token" not in first.deliveries[0].detail  # the URL's path is a secret
        notify(config=config, backend=backend, now=T("2026-12-01T10:07" + TZ))
        notify(config=config, backend=backend, now=T("2026-12-01T10:09" + TZ))
        assert len(hook.rejected) == 1 and len(hook.posts) == 1
        card = hook.posts[0].json
        assert card["type"] == "message"
        content = card["attachments"][0]["content"]
        assert content["type"] == "AdaptiveCard" and content["body"][0]["text"].startswith(
            "Test Clinic: new escalation"
        )
        assert content["actions"][0]["url"] == "https://docs.google.com/spreadsheets/d/KEY/edit"


@pytest.mark.parametrize("fmt", ["slack", "google-chat", "json"])
def test_webhook_formats(tmp_path: Path, fmt: str) -> None:
    with WebhookServer() as hook:
        config = write_config(tmp_path, webhook=hook.url, fmt=fmt)
        backend = queue_with(config, [clinical("2026-12-01 10:02", ID="CB-00001")])
        notify(config=config, backend=backend, now=T("2026-12-01T10:05" + TZ))
        [post] = hook.posts
        assert post.headers["Content-Type"].startswith("application/json")
        body = post.json
        if fmt == "json":
            assert body["schema"] == "callback-sheets/alert/1" and body["items"] == ["CB-00001"]
            assert body["kind"] == "new_escalation" and body["due"] == "2026-12-01T10:17-06:00"
        else:
            assert body["text"].startswith("*Test Clinic: new escalation CB-00001")


# --- once, across processes ---------------------------------------------------------------------------


def test_two_processes_at_once_send_each_alert_once(tmp_path: Path, smtp: SmtpServer) -> None:
    config = write_config(tmp_path, smtp_port=smtp.port)
    queue_with(config, [clinical("2026-12-01 10:02", ID=f"CB-0000{i}") for i in range(1, 4)])
    exe = Path(sys.executable).parent / "callback-sheets"
    args = [str(exe), "--config", str(config.path), "notify", "--now", "2026-12-01T10:20"]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        p.wait(timeout=60)
    keys = sorted((m.message["X-Callback-Sheets-Alert"], m.message["Subject"]) for m in smtp.messages)
    assert len(keys) == 6 and len(set(keys)) == 6  # 3 new + 3 overdue, none twice


# --- CLI ----------------------------------------------------------------------------------------------


def test_cli_dry_run_json_and_test(tmp_path: Path, smtp: SmtpServer) -> None:
    config = write_config(tmp_path, smtp_port=smtp.port)
    queue_with(config, [clinical("2026-12-01 10:02", ID="CB-00001")])
    base = ["--config", str(config.path), "notify", "--now", "2026-12-01T10:05"]
    dry = CliRunner().invoke(main, [*base, "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    out = json.loads(dry.stdout)
    assert out["would_send"] == 1 and out["deliveries"][0]["to"] == ["patel@clinic.example"]
    assert smtp.messages == []
    test = CliRunner().invoke(main, ["--config", str(config.path), "notify", "--test"])
    assert test.exit_code == 0 and "1 sent" in test.stderr
    assert smtp.messages[0].message["Subject"] == "Test Clinic: callback-sheets test message"


def test_cli_exit_1_when_a_channel_fails(tmp_path: Path) -> None:
    config = write_config(tmp_path, smtp_port=free_port())
    queue_with(config, [clinical("2026-12-01 10:02", ID="CB-00001")])
    result = CliRunner().invoke(main, ["--config", str(config.path), "notify", "--now", "2026-12-01T10:05"])
    assert result.exit_code == 1 and "failed: email 127.0.0.1:" in result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.startswith("failed: ")]
    assert line.endswith("check notify.email.host and port, and that the server runs (next try after 10:06)")


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"notify": {"review_to": "lead"}}, "notify.review_to[0]"),
        ({"notify": {"weekly_to": [3]}}, "notify.weekly_to"),
        (
            {"notify": {"email": {"host": "x", "sender": "a@b.example", "security": "tls"}}},
            "notify.email.security",
        ),
        (
            {"notify": {"email": {"host": "x", "sender": "a@b.example", "username": "u"}}},
            "notify.email.password_env",
        ),
        (
            {"notify": {"webhook": {"url": "https://x.example/h", "format": "discord"}}},
            "notify.webhook.format",
        ),
        ({"notify": {"pager": {}}}, "notify.pager"),
        ({"owners": [{"name": "A", "email": "nope"}]}, "owners[0].email"),
    ],
)
def test_bad_notify_config_names_the_key(table: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(table, base=Path("."))
    assert str(err.value).startswith(key + ":")


def test_example_config_has_the_alert_keys(tmp_path: Path) -> None:
    from tests.conftest import EXAMPLE

    text = EXAMPLE.read_text(encoding="utf-8")
    for key in ("[notify]", "[notify.email]", "[notify.webhook]", "password_env", "retry_minutes", "backup"):
        assert key in text
    config = load_config(EXAMPLE)
    assert config.escalation.retry_minutes == 30
    # the channels are shown commented out (a new clinic's copy must not try a made-up SMTP host) and
    # load as documented once uncommented
    assert config.notify.email is None and config.notify.webhook is None
    uncommented = re.sub(
        r"^# \[notify\.(?:email|webhook)\]\n(?:# .*\n)*",
        lambda m: re.sub(r"^# ", "", m.group(0), flags=re.M),
        text,
        flags=re.M,
    )
    config = load_config_text(tmp_path, uncommented)
    email = config.notify.email
    assert email is not None and email.password_env == "CALLBACK_SHEETS_SMTP_PASSWORD"
    assert config.notify.webhook is not None and config.notify.webhook.format == "teams"


def load_config_text(folder: Path, text: str) -> Config:
    path = folder / "callback_sheets.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


# --- the simulated day --------------------------------------------------------------------------------


def test_simulated_day_with_the_runner(tmp_path: Path, smtp: SmtpServer) -> None:
    config = write_config(tmp_path, smtp_port=smtp.port)
    backend = queue_with(config, [])
    clock = {"now": T("2026-12-01T10:00" + TZ)}
    stream = io.StringIO()
    runner = Runner(
        load_config=lambda: load_config(config.path), clock=lambda: clock["now"], log=RunLog(stream=stream)
    )
    events: dict[str, Callable[[], None]] = {
        "10:02": lambda: queue_with(
            config, [row("2026-12-01 10:02", Reason="Billing", Notes="chest  pains")]
        ),
        "10:30": lambda: service.record_attempt(
            config=config,
            backend=backend,
            item_id="CB-00001",
            outcome="No answer",
            note=None,
            now=clock["now"],
        ),
        "11:05": lambda: service.record_attempt(
            config=config, backend=backend, item_id="CB-00001", outcome="Reached", note=None, now=clock["now"]
        ),
    }
    seen: dict[str, list[str]] = {}
    sheet: dict[str, dict[str, Any]] = {}
    with runner:
        while clock["now"] <= T("2026-12-01T11:30" + TZ):
            hm = clock["now"].strftime("%H:%M")
            if hm in events:
                events[hm]()
            runner.tick()
            seen[hm] = [m.message["X-Callback-Sheets-Alert"] + " " + ",".join(m.rcpt) for m in smtp.messages]
            if hm in ("10:10", "10:31", "11:06"):
                [r] = [dict(x.values) for x in backend.read().rows]
                nurse = service.queue_views(
                    service.validate(config=config, backend=backend, now=clock["now"]), owner="Nurse Patel"
                )
                sheet[hm] = {**r, "escalated on the nurse's list": any(v.escalation for v in nurse)}
            clock["now"] += timedelta(minutes=1)
    assert seen["10:09"] == []
    assert seen["10:10"] == ["new_escalation patel@clinic.example"]  # by the 10:10 tick
    assert seen["10:17"] == seen["10:10"]  # due 10:17: not overdue yet
    assert seen["10:20"] == seen["10:10"] + ["escalation_overdue patel@clinic.example,lead@clinic.example"]
    assert sheet["10:10"][model.NEXT_ATTEMPT] == datetime(2026, 12, 1, 10, 17)
    assert sheet["10:10"][model.NEXT_STEP] == "Hand to Nurse Patel: no clinical advice at the front desk"
    assert sheet["10:31"][model.NEXT_ATTEMPT] == datetime(2026, 12, 1, 11, 0)  # No answer at 10:30: +30
    assert sheet["10:31"][model.ESCALATION].startswith("ESCALATED to Nurse Patel")
    assert sheet["10:31"]["escalated on the nurse's list"]
    assert sheet["11:06"][model.ESCALATION] is None  # Reached at 11:05 closes the escalation
    assert not sheet["11:06"]["escalated on the nurse's list"]
    assert seen["11:30"] == seen["10:20"]  # no second copy of anything
    log = stream.getvalue()
    assert log.count("job=notify") >= 9 and "chest" not in log


def test_run_once_sends_after_the_refresh(tmp_path: Path, smtp: SmtpServer) -> None:
    config = write_config(tmp_path, smtp_port=smtp.port)
    queue_with(config, [row("2026-12-01 10:02", Reason="Billing", Status="Escalated")])
    args = ["--config", str(config.path), "run", "--once", "--now", "2026-12-01T10:10"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "job=refresh" in result.stderr and "job=notify" in result.stderr and "changes=1" in result.stderr
    [got] = smtp.messages  # the refresh gave the row its ID, the notify right after it sent the alert
    assert got.message["Subject"] == "Test Clinic: new escalation CB-00001, due Tue 12-01 10:17"
    again = CliRunner().invoke(main, [*args[:-1], "2026-12-01T10:20"])
    assert again.exit_code == 0 and len(smtp.messages) == 2  # the overdue alert, and no second new one


def test_google_queue_keeps_its_record_beside_the_config(
    tmp_path: Path, smtp: SmtpServer, monkeypatch: Any
) -> None:
    from callback_sheets.backends import registry
    from callback_sheets.backends.google.backend import GoogleBackend
    from tests.sheets_emulator.client import emulator_session
    from tests.sheets_emulator.server import SheetsEmulator

    with SheetsEmulator() as emu:
        key = emu.store.create("Clinic callbacks").spreadsheet_id

        def google(config: Config) -> GoogleBackend:
            assert config.google is not None
            return GoogleBackend(
                config.google.spreadsheet,
                session=emulator_session(emu.base_url),
                account="queue-bot@example.iam.gserviceaccount.com",
            )

        monkeypatch.setitem(registry.BACKENDS, "google", replace(registry.BACKENDS["google"], open=google))
        text = write_config(tmp_path, smtp_port=smtp.port).path.read_text(encoding="utf-8")  # type: ignore[union-attr]
        text = text.replace(
            '[queue]\nworkbook = "queue.xlsx"',
            f'[queue]\nbackend = "google"\n\n[google]\nspreadsheet = "{key}"\ncredentials = "none.json"',
        )
        (tmp_path / "callback_sheets.toml").write_text(text, encoding="utf-8")
        config = load_config(tmp_path / "callback_sheets.toml")
        backend = registry.open_backend(config)
        service.init(config=config, backend=backend)
        with backend.session():
            backend.write(backend.read(), Changeset(new_rows=[clinical("2026-12-01 10:02", ID="CB-00001")]))
        for at in ("10:05", "10:06"):
            notify(config=config, backend=registry.open_backend(config), now=T(f"2026-12-01T{at}{TZ}"))
    assert len(smtp.messages) == 1
    [record] = tmp_path.glob(".callback-sheets-notify.google-*.json")
    assert SentRecord.load(record).was_sent("CB-00001:new_escalation", "email")


def test_a_garbled_record_is_set_aside(tmp_path: Path, smtp: SmtpServer) -> None:
    config = write_config(tmp_path, smtp_port=smtp.port)
    backend = queue_with(config, [clinical("2026-12-01 10:02", ID="CB-00001")])
    record_path(config).write_text('{"sent": [1, 2], "channels": "x"}', encoding="utf-8")
    result = notify(config=config, backend=backend, now=T("2026-12-01T10:05" + TZ))
    assert [d.status for d in result.deliveries] == ["sent"]
    assert record_path(config).with_suffix(".unreadable.json").exists()
    assert SentRecord.load(record_path(config)).was_sent("CB-00001:new_escalation", "email")


def test_an_item_without_an_id_yet_is_alerted_after_the_refresh_gives_it_one(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    config = write_config(tmp_path, smtp_port=smtp.port)
    backend = queue_with(config, [clinical("2026-12-01 10:02")])
    assert notify(config=config, backend=backend, now=T("2026-12-01T10:05" + TZ)).deliveries == []
    service.refresh(config=config, backend=backend, now=T("2026-12-01T10:06" + TZ))
    notify(config=config, backend=backend, now=T("2026-12-01T10:06" + TZ))
    assert [m.message["Subject"] for m in smtp.messages] == [
        "Test Clinic: new escalation CB-00001, due Tue 12-01 10:17"
    ]


def test_a_held_lock_makes_a_second_run_wait_then_give_up(tmp_path: Path, smtp: SmtpServer) -> None:
    from callback_sheets.errors import WorkbookBusyError
    from callback_sheets.notify.record import locked

    config = write_config(tmp_path, smtp_port=smtp.port)
    path = record_path(config)
    with locked(path), pytest.raises(WorkbookBusyError, match="another notify run"), locked(path, wait=0.2):
        pass
    with locked(path, wait=0.2) as record:  # released: taken at once
        assert record.sent == {}
