"""[notify]: where alerts go (e-mail, a webhook) and who gets the review and the weekly summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from callback_sheets.config.values import a_string, an_address, no_unknown, section, string_list
from callback_sheets.errors import ConfigError

if TYPE_CHECKING:  # the transports' settings are loaded when a config has a [notify] section
    from callback_sheets.notify.settings import EmailConfig, WebhookConfig


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    """[notify]: where alerts go. No channel configured: nothing is sent."""

    link: str | None = None
    review_to: tuple[str, ...] = ()
    weekly_to: tuple[str, ...] = ()
    email: EmailConfig | None = None
    webhook: WebhookConfig | None = None
    timeout_seconds: float = 10.0
    others: Mapping[str, object] = field(default_factory=dict)  # any other transport's settings, by name

    @property
    def channels(self) -> bool:
        return self.email is not None or self.webhook is not None or bool(self.others)

    def settings(self, transport: str) -> object | None:
        """A transport's settings (its `[notify.<name>]` section as read), None when it is not set up."""
        if transport == "email":
            return self.email
        if transport == "webhook":
            return self.webhook
        return self.others.get(transport)


def _addresses(value: object, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    return tuple(
        an_address(v, f"{key}[{i}]") for i, v in enumerate(string_list(value, key, '["lead@clinic.example"]'))
    )


def read_notify(raw: Mapping[str, Any]) -> NotifyConfig:
    if not raw:  # no [notify] section: nothing is sent (and no transport's settings are loaded)
        return NotifyConfig()
    from callback_sheets.notify.settings import EmailConfig, WebhookConfig
    from callback_sheets.notify.transports import TRANSPORTS  # the transports' one list (light)

    no_unknown(raw, {"link", "review_to", "weekly_to", "timeout_seconds", *TRANSPORTS}, "notify")
    found = {name: t.read(section(raw, name)) for name, t in TRANSPORTS.items() if name in raw}
    email, webhook = found.pop("email", None), found.pop("webhook", None)
    assert email is None or isinstance(email, EmailConfig)
    assert webhook is None or isinstance(webhook, WebhookConfig)
    timeout = raw.get("timeout_seconds", 10)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0 < timeout <= 120:
        raise ConfigError(
            f"notify.timeout_seconds: {timeout!r} must be a number of seconds between 0 and 120"
        )
    link = raw.get("link")
    return NotifyConfig(
        link=a_string(link, "notify.link") if link else None,
        review_to=_addresses(raw.get("review_to", []), "notify.review_to"),
        weekly_to=_addresses(raw.get("weekly_to", []), "notify.weekly_to"),
        email=email,
        webhook=webhook,
        timeout_seconds=float(timeout),
        others=found,
    )
