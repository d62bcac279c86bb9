"""Alerts that reach a person (issue 11): e-mail and webhooks for escalations, digests and summaries.

- ``alerts``: which alerts are due and what they say (pure; minimum necessary, no patient data);
- ``channels``: SMTP and webhook channels behind one small Protocol;
- ``record``: what was sent, once per (alert, channel), under an OS lock beside the queue's state;
- ``chart``: the weekly summary's PNG chart, drawn with the standard library.

Sending what is due now (read the queue, decide, send, record) is a use case: ``callback_sheets.app.notify``.
"""
