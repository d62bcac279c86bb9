"""The Drive v3 ``files`` calls gspread makes around a spreadsheet: create, get, list, copy, delete."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from tests.sheets_emulator.errors import ApiError, bad_request
from tests.sheets_emulator.fieldmask import apply_mask, parse_mask
from tests.sheets_emulator.store import Spreadsheet, Store

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
DEFAULT_FIELDS = "kind,id,name,mimeType"


def _stamp(moment: Any) -> str:
    return str(moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z")


def _masked(data: dict[str, Any], tree: Any) -> dict[str, Any]:
    out: dict[str, Any] = apply_mask(data, tree)
    return out


def file_resource(book: Spreadsheet) -> dict[str, Any]:
    """Every field the emulator knows of a Drive file."""
    return {
        "kind": "drive#file",
        "id": book.spreadsheet_id,
        "name": book.title,
        "mimeType": SPREADSHEET_MIME,
        "createdTime": _stamp(book.created),
        "modifiedTime": _stamp(book.modified),
    }


def _file_not_found(file_id: str) -> ApiError:
    return ApiError(404, f"File not found: {file_id}.", "NOT_FOUND")


def _get(store: Store, file_id: str) -> Spreadsheet:
    book = store.spreadsheets.get(file_id)
    if book is None:
        raise _file_not_found(file_id)
    return book


def create(store: Store, body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /drive/v3/files``: only Google Sheets files can be created."""
    if body.get("mimeType") != SPREADSHEET_MIME:
        raise bad_request("The emulator only creates Google Sheets files.")
    book = store.create(str(body.get("name", "Untitled spreadsheet")))
    return _masked(file_resource(book), parse_mask(DEFAULT_FIELDS))


def get(store: Store, file_id: str, params: Mapping[str, list[str]]) -> dict[str, Any]:
    """``GET /drive/v3/files/{id}``."""
    fields = params.get("fields", [DEFAULT_FIELDS])[0]
    return _masked(file_resource(_get(store, file_id)), parse_mask(fields))


def delete(store: Store, file_id: str) -> None:
    """``DELETE /drive/v3/files/{id}``."""
    _get(store, file_id)
    store.delete(file_id)


def copy_file(store: Store, file_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /drive/v3/files/{id}/copy``: a deep copy under a new id."""
    with store.lock:
        source = _get(store, file_id)
        made = store.create(str(body.get("name") or f"Copy of {source.title}"))
        title = made.properties["title"]
        made.properties = copy.deepcopy(source.properties)
        made.properties["title"] = title
        made.sheets = copy.deepcopy(source.sheets)
    return _masked(file_resource(made), parse_mask(DEFAULT_FIELDS))


def list_files(store: Store, params: Mapping[str, list[str]]) -> dict[str, Any]:
    """``GET /drive/v3/files``: spreadsheets, optionally ``name = "..."``, newest modified first."""
    query = params.get("q", [""])[0]
    wanted = re.search(r'name\s*=\s*"((?:[^"\\]|\\.)*)"', query)
    books = sorted(store.spreadsheets.values(), key=lambda b: b.modified, reverse=True)
    if wanted:
        name = wanted.group(1).replace('\\"', '"')
        books = [b for b in books if b.title == name]
    out = {"kind": "drive#fileList", "incompleteSearch": False, "files": [file_resource(b) for b in books]}
    fields = params.get("fields", ["kind,incompleteSearch,files(kind,id,name,mimeType)"])[0]
    return _masked(out, parse_mask(fields))
