"""Partial answers: the ``fields`` system parameter ("Selector specifying a subset of fields to include
in the response", on every method of every Google API: cloud.google.com/apis/docs/system-parameters)
applied to the answers of the ``values`` methods and of ``spreadsheets.batchUpdate``
(``spreadsheets.get`` masks its own, in ``metadata``).

A mask naming a field the answer's type does not have is refused with a 400, as Google refuses it (the
types are those of the Sheets API v4 reference), so a misspelt mask fails here as it would there.
"""

from __future__ import annotations

from typing import Any

from tests.sheets_emulator.errors import bad_request
from tests.sheets_emulator.fieldmask import MaskTree, apply_mask, parse_mask

ANY: MaskTree = {"*": {}}  # a type whose fields are not checked (batchUpdate's replies)
VALUE_RANGE: MaskTree = {"range": {}, "majorDimension": {}, "values": {}}
UPDATE: MaskTree = {
    "spreadsheetId": {},
    "updatedRange": {},
    "updatedRows": {},
    "updatedColumns": {},
    "updatedCells": {},
    "updatedData": VALUE_RANGE,
}
ANSWERS: dict[str, MaskTree] = {  # the response type of each method, by its route
    "/values:batchGet": {"spreadsheetId": {}, "valueRanges": VALUE_RANGE},
    "/values:batchUpdate": {
        "spreadsheetId": {},
        "totalUpdatedRows": {},
        "totalUpdatedColumns": {},
        "totalUpdatedCells": {},
        "totalUpdatedSheets": {},
        "responses": UPDATE,
    },
    "/values:batchClear": {"spreadsheetId": {}, "clearedRanges": {}},
    ":batchUpdate": {"spreadsheetId": {}, "replies": ANY, "updatedSpreadsheet": ANY},
    "get": VALUE_RANGE,
    "update": UPDATE,
    "append": {"spreadsheetId": {}, "tableRange": {}, "updates": UPDATE},
    "clear": {"spreadsheetId": {}, "clearedRange": {}},
}


def method_of(rest: str, verb: str) -> str | None:
    """The method a Sheets path after the spreadsheet id names (None: ``spreadsheets.get`` or unknown)."""
    if rest in ANSWERS:
        return rest
    if rest.startswith("/values/"):
        action = rest[len("/values/") :].partition(":")[2]
        if action in ("append", "clear"):
            return action
        return {"GET": "get", "PUT": "update"}.get(verb) if not action else None
    return None


def masked(answer: Any, fields: str, method: str) -> Any:
    """``answer`` reduced to ``fields``; a 400 for a field its type does not have."""
    tree = parse_mask(fields)
    _check(tree, ANSWERS[method], "")
    return apply_mask(answer, tree)


def _check(tree: MaskTree, schema: MaskTree, prefix: str) -> None:
    if "*" in schema:
        return
    for name, sub in tree.items():
        if name == "*":
            continue
        if name not in schema:
            raise bad_request(f"Invalid field selection {prefix}{name}")
        if sub:
            if not schema[name]:  # a scalar (or a list of values) has no fields to select
                raise bad_request(f"Invalid field selection {prefix}{name}.{next(iter(sub))}")
            _check(sub, schema[name], f"{prefix}{name}.")
