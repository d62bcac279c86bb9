"""Alerts that reach a person (issue 11): e-mail and webhooks for escalations, digests and summaries.

- ``alerts``: which alerts are due and what they say (pure; minimum necessary, no patient data);
- ``channels``: SMTP and webhook channels behind one small Protocol;
- ``record``: what was sent, once per (alert, channel), under an OS lock beside the queue's state;
- ``chart``: the weekly summary's PNG chart, drawn with the standard library;
- ``service``: send what is due now (used by `callback-sheets notify` and the runner).
"""

from callback_sheets.notify.service import NotifyResult, notify, send_test

__all__ = ["NotifyResult", "notify", "send_test"]
