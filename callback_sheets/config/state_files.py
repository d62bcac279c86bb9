"""Where a queue's own state lives beside it: the runner's lock and state file (and, from those, the
sent-alert record), in the place its backend's registry entry says (beside the workbook, beside the
config for a Google queue)."""

from __future__ import annotations

from pathlib import Path

from callback_sheets.backends.registry import BACKENDS
from callback_sheets.config import Config


def runner_files(config: Config) -> tuple[Path, Path]:
    """The runner's lock and state file for a queue."""
    base, key = BACKENDS[config.backend].state(config)
    return base / f".callback-sheets-runner.{key}.lock", base / f".callback-sheets-runner.{key}.json"
