"""Adding a notification channel is one registry entry: a made-up webhook format and a made-up transport,
each getting an alert through `callback-sheets notify` to a real HTTP server on 127.0.0.1.

A webhook format is a body function in `notify.webhooks.FORMATS` (config's check of `format` reads the
same mapping); a transport is a Channel and its builder in `notify.channels.TRANSPORTS`.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from callback_sheets.cli import main
from callback_sheets.config import Config
from callback_sheets.notify import channels, webhooks
from callback_sheets.notify.channels import Channel
from callback_sheets.notify.message import Alert
from tests.notify_servers import WebhookServer
from tests.test_notify import clinical, queue_with, write_config

NOW = "2026-12-01T10:05"


def _acme_chat(alert: Alert) -> webhooks.Body:
    return {"acme": 1, "title": alert.subject, "ids": list(alert.items)}


def _notify(config: Config) -> dict[str, object]:
    result = CliRunner().invoke(main, ["--config", str(config.path), "notify", "--now", NOW, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_a_new_webhook_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(webhooks.FORMATS, "acme-chat", _acme_chat)
    with WebhookServer() as hook:
        config = write_config(tmp_path, webhook=hook.url, fmt="acme-chat")
        queue_with(config, [clinical("2026-12-01 10:02", ID="CB-00001")])
        summary = _notify(config)
        [post] = hook.posts
    assert summary["sent"] == 1
    assert post.json == {"acme": 1, "title": post.json["title"], "ids": ["CB-00001"]}
    assert post.json["title"].startswith("Test Clinic: new escalation CB-00001")


class _Pager:
    """A made-up transport: POSTs the subject as text/plain to a pager gateway."""

    name = "pager"

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def label(self) -> str:
        return "pager 127.0.0.1"

    def wants(self, alert: Alert) -> bool:
        return alert.kind != "morning_digest"

    def recipients(self, alert: Alert) -> Sequence[str]:
        return ("on-call",)

    def send(self, alert: Alert) -> str | None:
        request = urllib.request.Request(self.url, data=alert.subject.encode(), method="POST")
        with urllib.request.urlopen(request, timeout=5) as answer:
            answer.read()
        return None


def test_a_new_transport(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with WebhookServer() as gateway:

        def pager(config: Config) -> Channel | None:
            return _Pager(gateway.url)

        monkeypatch.setitem(channels.TRANSPORTS, "pager", pager)
        config = write_config(tmp_path)
        queue_with(config, [clinical("2026-12-01 10:02", ID="CB-00001")])
        summary = _notify(config)
        again = _notify(config)  # sent once: the sent record names the channel
        posts = [p.body.decode() for p in gateway.posts]
    deliveries = summary["deliveries"]
    assert isinstance(deliveries, list)
    assert [(d["channel"], d["to"], d["status"]) for d in deliveries] == [("pager", ["on-call"], "sent")]
    assert len(posts) == 1 and posts[0].startswith("Test Clinic: new escalation CB-00001")
    assert again["sent"] == 0
