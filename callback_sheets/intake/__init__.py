"""Missed-call intake: read phone-system call-log exports and plan the queue rows they add.

`read_call_log` reads an export (any preset of `registry.REGISTRY`: Twilio, RingCentral, 3CX, Aircall,
Asterisk, Google Voice; or a generic column mapping) into a CallLog;
`plan_import` turns its calls into new queue rows and merges into open items for repeat callers.
"""

from __future__ import annotations

import importlib
from typing import Any

# The package's names, each imported from its module on first use (PEP 562): importing one module of
# the package (config load reads `registry`) loads no phone-system reader.
_WHERE = {
    "AsteriskOptions": "asterisk",
    "ImportPlan": "merge",
    "plan_import": "merge",
    "GENERIC_MAPPING_KEYS": "presets",
    "BadRecord": "records",
    "CallKind": "records",
    "CallLog": "records",
    "CallRecord": "records",
    "UnknownFormatError": "records",
    "GENERIC": "registry",
    "REGISTRY": "registry",
    "Preset": "registry",
    "formats": "registry",
    "preset_names": "registry",
    "read_call_log": "registry",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
