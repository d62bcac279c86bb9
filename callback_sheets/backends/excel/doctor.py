"""`doctor`'s checks of an Excel queue: the workbook is there, not open in Excel or LibreOffice, and
its Queue tab has every column."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from callback_sheets.backends.checks import Check, check_header

if TYPE_CHECKING:
    from callback_sheets.config.types import Config


def doctor(config: Config, now: datetime) -> list[Check]:
    return check_excel(config.workbook)


def check_excel(path: Path) -> list[Check]:
    """The workbook exists, is not open in Excel or LibreOffice, and has the Queue tab and headers."""
    from callback_sheets.backends.excel.backend import ExcelBackend
    from callback_sheets.backends.excel.lock import open_elsewhere

    if not path.exists():
        return [
            Check(
                "workbook",
                False,
                f"{path} does not exist: run `callback-sheets init` to create it, "
                "or fix queue.workbook in the config",
            )
        ]
    checks = [Check("workbook", True, str(path))]
    who = open_elsewhere(path)
    checks.append(
        Check(
            "not open elsewhere",
            not who,
            f"open in {who}: save and close it there before a refresh" if who else "no lock file",
        )
    )
    return checks + check_header(ExcelBackend(path))
