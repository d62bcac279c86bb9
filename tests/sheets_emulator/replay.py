"""Replay gspread's recorded cassettes (real Google traffic) against the emulator and diff the answers.

A cassette holds one or more *episodes* (Drive create ... Drive delete). Each is replayed on a fresh
store. Ids differ between Google and the emulator, so recorded ids in requests are mapped to the
emulator's, and the emulator's ids in answers are mapped back before comparing parsed JSON.

Normalisations (every one applied, and why):

* ``createdTime`` / ``modifiedTime`` values are replaced by a placeholder (wall-clock times).
* ``protectedRanges[].editors.users`` e-mail addresses become a placeholder (the recording's service
  account is not ours).
* Spreadsheet, sheet and protected-range ids are mapped as described above.

Nothing else is normalised: values, ranges, error messages, status codes and formats must be equal.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.sheets_emulator.batch_update import HANDLERS

CASSETTES = Path(__file__).resolve().parents[2] / ".." / "shared" / "gspread-cassettes"
_ID_KEYS = ("sheetId", "protectedRangeId")
_TIME_KEYS = ("createdTime", "modifiedTime")


@dataclass
class Episode:
    """Consecutive interactions of one cassette: from a Drive create up to the first create that
    follows a Drive delete (a test may create several files before deleting them)."""

    name: str
    interactions: list[dict[str, Any]]

    def out_of_scope(self) -> str | None:
        """Why the emulator does not claim this episode (``None``: it must match)."""
        for it in self.interactions:
            req = it["request"]
            parts = urllib.parse.urlsplit(req["uri"])
            path, method = parts.path, req["method"]
            status = it["response"]["status"]["code"]
            if "/export" in path:
                return "Drive files.export (file download)"
            if "/comments" in path:
                return "Drive comments"
            if "/upload/" in path:
                return "Drive v2 upload (CSV import)"
            if "/copy" in path:
                return "Drive files.copy (copies comments/permissions)"
            if path == "/drive/v3/files" and method == "GET":
                return "Drive files.list (lists the recording account's other files)"
            if status == 403:
                return "sharing permissions (403 on another account's file)"
            if path.endswith(":batchUpdate") and "/values" not in path and req["body"]:
                for request in json.loads(req["body"]).get("requests", []):
                    kind = next(iter(request))
                    if kind not in HANDLERS:
                        return f"batchUpdate {kind}"
            if "ranges" in urllib.parse.parse_qs(parts.query) and path.count("/") == 3:
                fields = urllib.parse.parse_qs(parts.query).get("fields", [""])[0]
                if "namedRanges" in fields:
                    return "named ranges"
        return None


def load_episodes(root: Path = CASSETTES) -> list[Episode]:
    """All episodes of all cassettes, in file order."""
    episodes: list[Episode] = []
    for file in sorted(root.glob("*.json")):
        interactions = json.loads(file.read_text())["interactions"]
        current: list[dict[str, Any]] = []
        chunks: list[list[dict[str, Any]]] = []
        for it in interactions:
            req = it["request"]
            is_create = (
                req["method"] == "POST" and urllib.parse.urlsplit(req["uri"]).path == "/drive/v3/files"
            )
            closed = any(c["request"]["method"] == "DELETE" for c in current)
            if is_create and current and closed:
                chunks.append(current)
                current = []
            current.append(it)
        if current:
            chunks.append(current)
        for n, chunk in enumerate(chunks):
            episodes.append(Episode(f"{file.stem}#{n}", chunk))
    return episodes


@dataclass
class IdMap:
    """Recorded id -> emulator id, both ways."""

    forward: dict[Any, Any] = field(default_factory=dict)

    def learn(self, recorded: Any, emulated: Any) -> None:
        if recorded != emulated:
            self.forward[recorded] = emulated

    @property
    def backward(self) -> dict[Any, Any]:
        return {v: k for k, v in self.forward.items()}


def _map_strings(text: str, mapping: dict[Any, Any]) -> str:
    for old, new in mapping.items():
        if isinstance(old, str):
            text = text.replace(old, str(new))
    return text


def _map_json(data: Any, mapping: dict[Any, Any]) -> Any:
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if key in _ID_KEYS and isinstance(value, int) and value in mapping:
                out[key] = mapping[value]
            else:
                out[key] = _map_json(value, mapping)
        return out
    if isinstance(data, list):
        return [_map_json(v, mapping) for v in data]
    if isinstance(data, str):
        return _map_strings(data, mapping)
    return data


def normalise(data: Any) -> Any:
    """Apply the documented normalisations to a parsed answer."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key in _TIME_KEYS:
                out[key] = "<time>"
            elif key == "editors" and isinstance(value, dict) and "users" in value:
                out[key] = {**value, "users": ["<caller>" for _ in value["users"]]}
            else:
                out[key] = normalise(value)
        return out
    if isinstance(data, list):
        return [normalise(v) for v in data]
    return data


def _learn_ids(recorded: Any, emulated: Any, ids: IdMap) -> None:
    """Pair the ids created by this answer (new files, sheets, protected ranges)."""
    if isinstance(recorded, dict) and isinstance(emulated, dict):
        if recorded.get("kind") == "drive#file" and "id" in recorded and "id" in emulated:
            ids.learn(recorded["id"], emulated["id"])
        for key in _ID_KEYS:
            if key in recorded and key in emulated and recorded[key] not in ids.forward:
                ids.learn(recorded[key], emulated[key])
        for key in recorded:
            if key in emulated:
                _learn_ids(recorded[key], emulated[key], ids)
    elif isinstance(recorded, list) and isinstance(emulated, list):
        for a, b in zip(recorded, emulated, strict=False):
            _learn_ids(a, b, ids)


@dataclass
class Mismatch:
    """The first interaction whose answer differs."""

    index: int
    request: str
    expected: Any
    actual: Any

    def describe(self) -> str:
        return (
            f"interaction {self.index}: {self.request}\n"
            f"  first difference at {first_difference(self.expected, self.actual)}\n"
            f"  google:   {json.dumps(self.expected, sort_keys=True)[:2000]}\n"
            f"  emulator: {json.dumps(self.actual, sort_keys=True)[:2000]}"
        )


def replay(episode: Episode, base_url: str, session: requests.Session) -> Mismatch | None:
    """Send every recorded request in order; return the first mismatch, or ``None``."""
    ids = IdMap()
    for index, it in enumerate(episode.interactions):
        req, resp = it["request"], it["response"]
        parts = urllib.parse.urlsplit(_map_strings(req["uri"], ids.forward))
        url = base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        body = req["body"]
        data: bytes | None = None
        if body:
            try:
                data = json.dumps(_map_json(json.loads(body), ids.forward)).encode()
            except ValueError:
                data = body.encode() if isinstance(body, str) else body
        answer = session.request(req["method"], url, data=data, headers={"Content-Type": "application/json"})
        expected_text = resp["body"]["string"]
        expected = json.loads(expected_text) if expected_text.strip() else None
        actual = answer.json() if answer.content else None
        if answer.status_code < 300:
            _learn_ids(expected, actual, ids)
        mapped = _map_json(actual, ids.backward)
        expected_n = normalise(expected)
        actual_n = normalise(mapped)
        if answer.status_code != resp["status"]["code"] or expected_n != actual_n:
            label = f"{req['method']} {urllib.parse.unquote(req['uri'])}"
            return Mismatch(
                index,
                label,
                {"status": resp["status"]["code"], "body": expected_n},
                {"status": answer.status_code, "body": actual_n},
            )
    return None


def strip_spreadsheet_url(text: str) -> str:
    """Helper for messages: shorten Google's long ids."""
    return re.sub(r"[A-Za-z0-9_-]{40,}", "<id>", text)


def first_difference(expected: Any, actual: Any, path: str = "") -> str:
    """Where two parsed JSON documents first differ (for readable failures)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            if expected.get(key, "<absent>") != actual.get(key, "<absent>"):
                return first_difference(
                    expected.get(key, "<absent>"), actual.get(key, "<absent>"), f"{path}.{key}"
                )
        return ""
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for i, (a, b) in enumerate(zip(expected, actual, strict=True)):
            if a != b:
                return first_difference(a, b, f"{path}[{i}]")
        return ""
    return f"{path}: google={json.dumps(expected)[:300]} emulator={json.dumps(actual)[:300]}"
