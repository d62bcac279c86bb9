"""The names config load checks `[intake]` against, without importing the intake package.

Importing `callback_sheets.intake` loads every phone-system reader (about 50 ms); config load, which
every command does, needs only these names. They are a copy: the one declaration is the intake
package's (`registry.REGISTRY` for the formats, `presets.GENERIC_MAPPING_KEYS`, `asterisk.FIELDS`,
`asterisk.ANNOUNCEMENT_CHOICES`), and `tests/test_lazy_imports.py` holds them equal, so a new preset
that is not listed here fails a test.
"""

from __future__ import annotations

FORMATS = ("twilio", "ringcentral", "3cx", "aircall", "asterisk", "google-voice", "generic")
GENERIC_MAPPING_KEYS = (
    "received", "phone", "caller_name", "direction", "status", "id", "missed_statuses", "inbound_values",
    "timezone",
)  # fmt: skip
ASTERISK_FIELDS = frozenset(
    {
        "accountcode", "amaflags", "answer", "billsec", "calldate", "channel", "clid", "dcontext",
        "disposition", "dst", "dstchannel", "duration", "end", "lastapp", "lastdata", "linkedid",
        "peeraccount", "sequence", "src", "start", "uniqueid", "userfield",
    }
)  # fmt: skip
ANNOUNCEMENT_CHOICES = ("missed", "answered")
