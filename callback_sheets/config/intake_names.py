"""The column names config load checks `[intake.mapping]` and `[intake.asterisk]` against, without
importing the readers that own them (about 50 ms; config load is every command's).

They are a copy: the one declaration is the intake package's (`presets.GENERIC_MAPPING_KEYS`,
`asterisk.FIELDS`, `asterisk.ANNOUNCEMENT_CHOICES`), and `tests/test_lazy_imports.py` holds them equal.
The format names are not here: config reads them from `intake.registry` (a light module), so a new
preset is one entry there.
"""

from __future__ import annotations

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
