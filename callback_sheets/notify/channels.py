"""Where alerts go: e-mail over SMTP (stdlib ``smtplib`` / ``email``) and webhooks (``urllib``).

Each channel sends one alert per call and raises :class:`ChannelError` (one line, never patient data,
with what to fix) when the server did not accept it; nothing counts as sent until the server said so.
Timeouts are short, so a channel that is down or stalls never holds up the refresh for long.
"""

from __future__ import annotations

import json
import os
import smtplib
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from callback_sheets.config import Config
from callback_sheets.notify import webhooks
from callback_sheets.notify.message import Alert
from callback_sheets.notify.settings import EmailConfig, WebhookConfig
from callback_sheets.notify.transports import TRANSPORTS

USER_AGENT = "callback-sheets-notify"


class ChannelError(Exception):
    """A channel did not accept an alert: ``str()`` is one line with what happened and what to fix;
    ``retry_after`` is the server's own wait, in seconds, when it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Channel(Protocol):
    """One way to reach people."""

    name: str  # its TRANSPORTS key: names the channel in logs, the sent record and `doctor`

    @property
    def label(self) -> str:
        """Where it sends, e.g. "smtp.clinic.example:587" (never a secret)."""
        ...

    def wants(self, alert: Alert) -> bool:
        """Whether this channel has anyone to send ``alert`` to."""
        ...

    def recipients(self, alert: Alert) -> Sequence[str]:
        """Who ``alert`` goes to on this channel (addresses, or the names the alert is for)."""
        ...

    def send(self, alert: Alert) -> str | None:
        """Send ``alert``; return only once the server accepted it (with a one-line warning, or None),
        else raise ChannelError."""
        ...


@dataclass(slots=True)
class EmailChannel:
    config: EmailConfig
    addresses: dict[str, str]  # owner name (casefolded) -> e-mail
    timeout: float = 10.0
    name: str = "email"

    @property
    def label(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def recipients(self, alert: Alert) -> list[str]:
        out: list[str] = []
        for who in alert.to:
            address = who if "@" in who else self.addresses.get(who.strip().casefold())
            if address and address not in out:
                out.append(address)
        if not out and alert.kind == "test":
            out.append(self.config.sender)
        return out

    def wants(self, alert: Alert) -> bool:
        return bool(self.recipients(alert))

    def message(self, alert: Alert) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.config.sender
        msg["To"] = ", ".join(self.recipients(alert))
        msg["Subject"] = alert.subject
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain=self.config.sender.rpartition("@")[2] or None)
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Callback-Sheets-Alert"] = alert.kind
        msg.set_content(alert.text())
        msg.add_alternative(alert.html(), subtype="html")
        if alert.image is not None:
            html_part = msg.get_payload()[1]  # type: ignore[index]
            assert isinstance(html_part, EmailMessage)
            html_part.add_related(
                alert.image, maintype="image", subtype="png", cid="<chart>", filename="chart.png"
            )
        return msg

    def _password(self) -> str | None:
        env = self.config.password_env
        if not self.config.username:
            return None
        password = os.environ.get(env or "")
        if not password:
            raise ChannelError(
                f"email {self.label}: the environment variable {env} is empty or not set: set it to the "
                "SMTP password for the account that runs callback-sheets"
            )
        return password

    def connect(self) -> smtplib.SMTP:
        """An open, logged-in SMTP session (the caller quits it)."""
        cfg = self.config
        password = self._password()
        try:
            if cfg.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=self.timeout)
            try:
                smtp.ehlo()
                if cfg.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if cfg.username and password is not None:
                    smtp.login(cfg.username, password)
            except BaseException:
                smtp.close()
                raise
        except (OSError, smtplib.SMTPException) as exc:
            raise ChannelError(self._explain(exc)) from None
        return smtp

    def send(self, alert: Alert) -> str | None:
        msg = self.message(alert)
        smtp = self.connect()
        try:
            refused = smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise ChannelError(self._explain(exc)) from None
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        if refused:  # accepted for the others: it counts as sent, the log says how many were refused
            codes = sorted({code for code, _ in refused.values()})
            return (
                f"email {self.label}: accepted, but {len(refused)} recipient(s) refused ({codes}): "
                "check the addresses in [[owners]] email and [notify]"
            )
        return None

    def _explain(self, exc: BaseException) -> str:
        where = f"email {self.label}"
        cfg = self.config
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return (
                f"{where}: login refused ({exc.smtp_code}): check notify.email.username and the password "
                f"in ${cfg.password_env}"
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return (
                f"{where}: the server does not offer STARTTLS or login: check notify.email.security and port"
            )
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            codes = sorted({code for code, _ in exc.recipients.values()})
            return (
                f"{where}: every recipient refused ({codes}): check [[owners]] email and [notify] addresses"
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            code = exc.smtp_code
            kind = "temporarily refused, will retry" if 400 <= code < 500 else "refused"
            return (
                f"{where}: the server answered {code} ({kind}): check the server's log if it keeps happening"
            )
        if isinstance(exc, smtplib.SMTPServerDisconnected) and "timed out" in str(exc):
            return f"{where}: no answer within {self.timeout:g} s: check notify.email.host, port, firewall"
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return f"{where}: the server closed the connection: check notify.email.port and security"
        if isinstance(exc, ConnectionRefusedError):
            return f"{where}: connection refused: check notify.email.host and port, and that the server runs"
        if isinstance(exc, TimeoutError | socket.timeout):
            return f"{where}: no answer within {self.timeout:g} s: check notify.email.host, port, firewall"
        if isinstance(exc, ssl.SSLError):
            return f"{where}: TLS failed ({exc.reason}): check notify.email.security (starttls, ssl, none)"
        if isinstance(exc, socket.gaierror):
            return f"{where}: unknown host: check notify.email.host"
        return f"{where}: {type(exc).__name__}: check notify.email"


@dataclass(slots=True)
class WebhookChannel:
    config: WebhookConfig
    timeout: float = 10.0
    name: str = "webhook"

    @property
    def label(self) -> str:
        parts = urllib.parse.urlsplit(self.config.url)
        return (
            f"{self.config.format} webhook {parts.scheme}://{parts.netloc}"  # never the path: it is a secret
        )

    def wants(self, alert: Alert) -> bool:
        return True

    def recipients(self, alert: Alert) -> Sequence[str]:
        return alert.to

    def send(self, alert: Alert) -> str | None:
        data = json.dumps(webhooks.FORMATS[self.config.format](alert)).encode()
        request = urllib.request.Request(
            self.config.url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT},
        )
        where = self.label
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                answer.read(65536)
            return None
        except urllib.error.HTTPError as exc:
            retry = exc.headers.get("Retry-After") if exc.headers else None
            wait = float(retry) if retry and retry.strip().isdigit() else None
            exc.close()
            if exc.code == 429:
                raise ChannelError(f"{where}: rate limited (429), will retry", retry_after=wait) from None
            if exc.code >= 500:
                raise ChannelError(
                    f"{where}: server error ({exc.code}), will retry", retry_after=wait
                ) from None
            raise ChannelError(
                f"{where}: refused ({exc.code}): check notify.webhook.url (the webhook may be deleted) "
                "and notify.webhook.format"
            ) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ConnectionRefusedError):
                raise ChannelError(f"{where}: connection refused: check notify.webhook.url") from None
            if isinstance(reason, TimeoutError | socket.timeout):
                raise ChannelError(f"{where}: no answer within {self.timeout:g} s: will retry") from None
            raise ChannelError(f"{where}: {type(reason).__name__}: check notify.webhook.url") from None
        except TimeoutError:
            raise ChannelError(f"{where}: no answer within {self.timeout:g} s: will retry") from None
        except OSError as exc:
            raise ChannelError(f"{where}: {type(exc).__name__}: check notify.webhook.url") from None


def email_channel(config: Config, settings: EmailConfig) -> Channel:
    addresses = {o.name.casefold(): o.email for o in config.owners if o.email}
    return EmailChannel(settings, addresses, timeout=config.notify.timeout_seconds)


def webhook_channel(config: Config, settings: WebhookConfig) -> Channel:
    return WebhookChannel(settings, timeout=config.notify.timeout_seconds)


def channels_for(config: Config) -> list[Channel]:
    """The channels the config sets up, in the order of :data:`transports.TRANSPORTS`."""
    made = []
    for name, transport in TRANSPORTS.items():
        settings = config.notify.settings(name)
        if settings is not None:
            made.append(transport.builder()(config, settings))
    return made


def no_channel_note() -> str:
    return "no channel configured: add " + " or ".join(f"[notify.{name}]" for name in TRANSPORTS)
