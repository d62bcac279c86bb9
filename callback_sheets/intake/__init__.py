"""Missed-call intake: read phone-system call-log exports and plan the queue rows they add.

`read_call_log` reads an export (Twilio, RingCentral, or a generic column mapping) into a CallLog;
`plan_import` turns its calls into new queue rows and merges into open items for repeat callers.
"""

from callback_sheets.intake.merge import ImportPlan, plan_import
from callback_sheets.intake.presets import FORMATS, GENERIC_MAPPING_KEYS, PRESETS
from callback_sheets.intake.readers import read_call_log
from callback_sheets.intake.records import BadRecord, CallKind, CallLog, CallRecord, UnknownFormatError

__all__ = [
    "FORMATS",
    "GENERIC_MAPPING_KEYS",
    "PRESETS",
    "BadRecord",
    "CallKind",
    "CallLog",
    "CallRecord",
    "ImportPlan",
    "UnknownFormatError",
    "plan_import",
    "read_call_log",
]
