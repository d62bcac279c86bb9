"""One alert, as every channel sends it: the message and its text and HTML renderings.

Standard library only, so the webhook formats (``webhooks``) and config's check of their names can use
it without loading the alert rules.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime

WHY = (
    "This alert carries no patient details on purpose (minimum necessary): look the item up in the queue "
    "by its ID."
)


@dataclass(frozen=True, slots=True)
class Alert:
    """One message: sent once per channel (``key`` names it in the sent record)."""

    key: str  # "CB-00012:new_escalation", "morning_digest:2026-12-01:Maria", ...
    kind: str
    to: tuple[str, ...]  # owner names or e-mail addresses
    subject: str
    lines: tuple[str, ...]  # the body, one fact per line (text and webhooks)
    items: tuple[str, ...] = ()  # item IDs
    due: datetime | None = None
    link: str | None = None
    table: tuple[tuple[str, ...], ...] = ()  # rows for an HTML table (weekly figures), header first
    image: bytes | None = None  # a PNG chart, embedded inline in e-mail
    image_alt: str = ""
    facts: dict[str, object] = field(default_factory=dict)  # extra JSON for the "json" webhook

    def text(self) -> str:
        body = list(self.lines)
        if self.link:
            body += ["", f"Open the queue: {self.link}"]
        return "\n".join([*body, "", WHY]) + "\n"

    def html(self) -> str:
        e = html.escape
        parts = [
            '<div style="font-family:Segoe UI,Arial,sans-serif;font-size:14px;color:#222">',
            f'<p style="font-size:16px;font-weight:bold;margin:0 0 8px">{e(self.subject)}</p>',
        ]
        parts += [f'<p style="margin:0 0 4px">{e(line)}</p>' for line in self.lines if line]
        if self.table:
            head, *rows = self.table
            parts.append('<table style="border-collapse:collapse;margin:8px 0" cellpadding="4">')
            parts.append(
                "<tr>"
                + "".join(
                    f'<th style="border-bottom:1px solid #999;text-align:left">{e(c)}</th>' for c in head
                )
                + "</tr>"
            )
            for row in rows:
                parts.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
            parts.append("</table>")
        if self.image is not None:
            parts.append(f'<p><img src="cid:chart" alt="{e(self.image_alt)}" width="480" height="200"></p>')
        if self.link:
            parts.append(f'<p><a href="{e(self.link, quote=True)}">Open the queue</a></p>')
        parts.append(f'<p style="color:#777;font-size:12px">{e(WHY)}</p></div>')
        return "\n".join(parts)
