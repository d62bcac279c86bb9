"""The e-mail and webhook transports' settings, read from their `[notify.email]` and `[notify.webhook]`
sections (each mistake a one-line ConfigError naming the key). Light: config load reads these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from callback_sheets.config.values import a_string, an_address, no_unknown, positive_int
from callback_sheets.errors import ConfigError

EMAIL_SECURITY = ("starttls", "ssl", "none")


@dataclass(frozen=True, slots=True)
class EmailConfig:
    host: str
    port: int
    security: str  # starttls, ssl or none
    sender: str
    username: str | None = None
    password_env: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    url: str
    format: str  # teams, slack, google-chat or json


def read_email(raw: Mapping[str, Any]) -> EmailConfig:
    no_unknown(raw, {"host", "port", "security", "sender", "username", "password_env"}, "notify.email")
    security = str(raw.get("security", "starttls"))
    if security not in EMAIL_SECURITY:
        raise ConfigError(f'notify.email.security: {security!r} is not one of "starttls", "ssl", "none"')
    default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
    port = positive_int(raw.get("port", default_port), "notify.email.port")
    if port > 65535:
        raise ConfigError(f"notify.email.port: {port} is not a port number (1-65535)")
    username = raw.get("username")
    password_env = raw.get("password_env")
    if username and not password_env:
        raise ConfigError(
            "notify.email.password_env: set it to the environment variable holding the password, "
            'e.g. "CALLBACK_SHEETS_SMTP_PASSWORD" (the password itself never goes in this file)'
        )
    return EmailConfig(
        host=a_string(raw.get("host"), "notify.email.host"),
        port=port,
        security=security,
        sender=an_address(raw.get("sender"), "notify.email.sender"),
        username=a_string(username, "notify.email.username") if username else None,
        password_env=a_string(password_env, "notify.email.password_env") if password_env else None,
    )


def read_webhook(raw: Mapping[str, Any]) -> WebhookConfig:
    from callback_sheets.notify.webhooks import FORMATS as WEBHOOK_FORMATS  # the registry (stdlib only)

    no_unknown(raw, {"url", "format"}, "notify.webhook")
    url = a_string(raw.get("url"), "notify.webhook.url")
    if not url.startswith(("https://", "http://")):
        raise ConfigError(f"notify.webhook.url: {url[:40]!r} must start with https://")
    fmt = str(raw.get("format", "json"))
    if fmt not in WEBHOOK_FORMATS:
        raise ConfigError(f"notify.webhook.format: {fmt!r} is not one of {', '.join(WEBHOOK_FORMATS)}")
    return WebhookConfig(url=url, format=fmt)
