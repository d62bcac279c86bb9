"""What `doctor` says, line by line: the :class:`Check` every check returns, and the checks every
backend's own doctor checks use (reading the queue's header, a secret file's permissions).

Backends' checks live beside them (``backends/<name>/doctor.py``) and are named by the backend registry.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from callback_sheets import model
from callback_sheets.backends.base import Backend
from callback_sheets.cells import sheet_problems
from callback_sheets.errors import CallbackSheetsError


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False  # ok, but worth fixing (e.g. a secret others can read)

    @property
    def level(self) -> str:
        return "fail" if not self.ok else ("warn" if self.warning else "ok")

    def line(self) -> str:
        tag = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}[self.level]
        return f"{tag}  {self.name}: {self.detail}"

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "level": self.level, "detail": self.detail}


def check_private(path: Path, what: str) -> list[Check]:
    """A warning when ``path`` can be read by the group or others (POSIX modes; Windows uses ACLs, which
    a mode cannot show, so nothing is said there)."""
    if os.name == "nt":
        return []
    try:
        mode = path.stat().st_mode
    except OSError:
        return []
    if not mode & (stat.S_IRGRP | stat.S_IROTH):
        return []
    readers = (("its group", stat.S_IRGRP), ("every user", stat.S_IROTH))
    who = " and ".join(w for w, bit in readers if mode & bit)
    return [
        Check(
            "permissions",
            True,
            f"{what} {path} is readable by {who} (mode {stat.filemode(mode)}): run `chmod 600 {path}`",
            warning=True,
        )
    ]


def check_header(backend: Backend, worksheet: str = model.QUEUE_TAB) -> list[Check]:
    """Read the queue: the tab is there and has every required column."""
    try:
        snapshot = backend.read()
    except CallbackSheetsError as exc:
        return [Check("access", False, str(exc))]
    checks = [
        Check("access", True, f"read {backend.label}: {len(snapshot.rows)} rows on the {worksheet} tab")
    ]
    present = {h for h in snapshot.header if h}
    missing = [c for c in model.REQUIRED_COLUMNS if c not in present and c not in model.OPTIONAL_COLUMNS]
    if missing:
        checks.append(
            Check(
                "headers",
                False,
                f"missing columns {', '.join(missing)}: run `callback-sheets init` "
                "to add them (rows are left as they are)",
            )
        )
    else:
        optional = sorted(c for c in model.OPTIONAL_COLUMNS if c not in present)
        note = (
            f" (optional {', '.join(optional)} not there: `callback-sheets init` adds it)" if optional else ""
        )
        checks.append(
            Check("headers", True, f"all {len(model.REQUIRED_COLUMNS) - len(optional)} columns present{note}")
        )
    for problem in sheet_problems(snapshot.header):
        checks.append(Check("duplicate header", False, problem))
    return checks
