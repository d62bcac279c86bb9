"""Where a queue's own state lives beside it: the runner's lock and state file (and, from those, the
sent-alert record): beside the workbook, or beside the config for a Google queue."""

from __future__ import annotations

import hashlib
from pathlib import Path

from callback_sheets.config import Config


def runner_files(config: Config) -> tuple[Path, Path]:
    """The runner's lock and state file for a queue: beside its workbook, or beside the config (Google)."""
    if config.backend == "excel" or config.google is None:
        base, key = config.workbook.parent, config.workbook.name
    else:
        base = config.path.parent if config.path else Path.cwd()
        ident = f"{config.google.spreadsheet}\n{config.google.worksheet}".encode()
        key = f"google-{hashlib.sha256(ident).hexdigest()[:12]}"
    return base / f".callback-sheets-runner.{key}.lock", base / f".callback-sheets-runner.{key}.json"
