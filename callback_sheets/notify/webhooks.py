"""The webhook formats: ``[notify.webhook] format`` -> the JSON body of one POST for an alert.

A new chat service's format is one function and one ``FORMATS`` entry here: config's check of
``format`` reads this mapping (at each check, so a test can add one), and ``WebhookChannel`` posts what
the entry returns. Standard library only (config imports it).
"""

from __future__ import annotations

from collections.abc import Callable

from callback_sheets.notify.message import Alert

Body = dict[str, object]


def _text(alert: Alert) -> str:
    return "\n".join(line for line in alert.lines if line)


def slack(alert: Alert) -> Body:
    link = f"\n<{alert.link}|Open the queue>" if alert.link else ""
    return {"text": f"*{alert.subject}*\n{_text(alert)}{link}"}


def google_chat(alert: Alert) -> Body:
    link = f"\nOpen the queue: {alert.link}" if alert.link else ""
    return {"text": f"*{alert.subject}*\n{_text(alert)}{link}"}


def teams(alert: Alert) -> Body:
    """An Adaptive Card in a message (Teams' Workflows webhooks)."""
    body: list[dict[str, object]] = [
        {"type": "TextBlock", "text": alert.subject, "weight": "Bolder", "wrap": True}
    ]
    body += [
        {"type": "TextBlock", "text": line, "wrap": True, "spacing": "Small"} for line in alert.lines if line
    ]
    card: dict[str, object] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if alert.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the queue", "url": alert.link}]
    return {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    }


def plain_json(alert: Alert) -> Body:
    """The tool's own schema, for scripts and automation services."""
    return {
        "schema": "callback-sheets/alert/1",
        "kind": alert.kind,
        "key": alert.key,
        "subject": alert.subject,
        "text": _text(alert),
        "items": list(alert.items),
        "to": list(alert.to),
        "due": alert.due.isoformat(timespec="minutes") if alert.due else None,
        "link": alert.link,
        **({"facts": alert.facts} if alert.facts else {}),
    }


FORMATS: dict[str, Callable[[Alert], Body]] = {
    "teams": teams,
    "slack": slack,
    "google-chat": google_chat,
    "json": plain_json,
}
