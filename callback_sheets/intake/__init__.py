"""Missed-call intake: read phone-system call-log exports and plan the queue rows they add.

`read_call_log` reads an export (any preset of `registry.REGISTRY`: Twilio, RingCentral, 3CX, Aircall,
Asterisk, Google Voice; or a generic column mapping) into a CallLog;
`plan_import` turns its calls into new queue rows and merges into open items for repeat callers.
"""

from callback_sheets.intake.asterisk import AsteriskOptions
from callback_sheets.intake.merge import ImportPlan, plan_import
from callback_sheets.intake.presets import GENERIC_MAPPING_KEYS
from callback_sheets.intake.records import BadRecord, CallKind, CallLog, CallRecord, UnknownFormatError
from callback_sheets.intake.registry import GENERIC, REGISTRY, Preset, formats, preset_names, read_call_log

__all__ = [
    "GENERIC",
    "GENERIC_MAPPING_KEYS",
    "REGISTRY",
    "AsteriskOptions",
    "BadRecord",
    "CallKind",
    "CallLog",
    "CallRecord",
    "ImportPlan",
    "Preset",
    "UnknownFormatError",
    "formats",
    "plan_import",
    "preset_names",
    "read_call_log",
]
