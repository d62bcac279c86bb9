"""Adding a notification channel is one registry entry: a made-up webhook format and a made-up transport,
each getting an alert through `callback-sheets notify` to a real HTTP server on 127.0.0.1.

A webhook format is a body function in `notify.webhooks.FORMATS` (config's check of `format` reads the
same mapping); a transport is one `Transport` entry in `notify.transports.TRANSPORTS`: its `[notify.<name>]`
section's reader and the builder of its Channel (here, functions of this module).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from callback_sheets.cli import main
from callback_sheets.config import Config, load_config
from callback_sheets.errors import ConfigError
from callback_sheets.notify import transports, webhooks
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


def read_pager(raw: Mapping[str, Any]) -> str:
    """[notify.pager]: url = "http://..." (the gateway)."""
    unknown = set(raw) - {"url"}
    if unknown:
        raise ConfigError(f"notify.pager.{sorted(unknown)[0]}: not a key of [notify.pager] (only url)")
    url = raw.get("url")
    if not isinstance(url, str) or not url.startswith("http"):
        raise ConfigError(f'notify.pager.url: {url!r} must be the gateway\'s URL, e.g. "https://pager.example"')
    return url


def pager_channel(config: Config, url: str) -> Channel:
    return _Pager(url)


PAGER = transports.Transport("pager", read_pager, "tests.test_extension_channel:pager_channel")


def test_a_new_transport(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(transports.TRANSPORTS, "pager", PAGER)
    with WebhookServer() as gateway:
        config = write_config(tmp_path)
        config.path.write_text(config.path.read_text() + f'\n[notify.pager]\nurl = "{gateway.url}"\n')
        config = load_config(config.path)
        assert config.notify.channels and config.notify.settings("pager") == gateway.url
        queue_with(config, [clinical("2026-12-01 10:02", ID="CB-00001")])
        summary = _notify(config)
        again = _notify(config)  # sent once: the sent record names the channel
        posts = [p.body.decode() for p in gateway.posts]
    deliveries = summary["deliveries"]
    assert isinstance(deliveries, list)
    assert [(d["channel"], d["to"], d["status"]) for d in deliveries] == [("pager", ["on-call"], "sent")]
    assert len(posts) == 1 and posts[0].startswith("Test Clinic: new escalation CB-00001")
    assert again["sent"] == 0


def test_a_new_transports_section_is_checked_at_config_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path)
    extra = '\n[notify.pager]\nurl = "http://127.0.0.1:9"\nurk = 1\n'
    config.path.write_text(config.path.read_text() + extra)
    with pytest.raises(ConfigError, match=r"pager"):
        load_config(config.path)  # not registered: an unknown [notify] key
    monkeypatch.setitem(transports.TRANSPORTS, "pager", PAGER)
    result = CliRunner().invoke(main, ["--config", str(config.path), "notify", "--now", NOW])
    assert result.exit_code == 2
    assert "notify.pager.urk" in result.output and "Traceback" not in result.output
