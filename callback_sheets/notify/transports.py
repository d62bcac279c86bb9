"""The notification transports, in one list: each is named by its `[notify.<name>]` section, reads that
section's keys (a one-line ConfigError naming the key) and names the function that builds its channel
from the config and those settings, imported only when alerts are sent (config load stays light).

A new transport is a module of its own (its Channel class, its builder, its settings reader) and one
entry here; a new webhook format goes in :data:`callback_sheets.notify.webhooks.FORMATS` instead.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from callback_sheets.notify.settings import read_email, read_webhook


@dataclass(frozen=True, slots=True)
class Transport:
    name: str  # its section, [notify.<name>]; names the channel in logs, the sent record and `doctor`
    read: Callable[[Mapping[str, Any]], object]  # the section -> its settings
    channel: str  # "module:function": (config, settings) -> the Channel

    def builder(self) -> Callable[[Any, Any], Any]:
        module, _, function = self.channel.partition(":")
        built: Callable[[Any, Any], Any] = getattr(importlib.import_module(module), function)
        return built


TRANSPORTS: dict[str, Transport] = {
    "email": Transport("email", read_email, "callback_sheets.notify.channels:email_channel"),
    "webhook": Transport("webhook", read_webhook, "callback_sheets.notify.channels:webhook_channel"),
}
