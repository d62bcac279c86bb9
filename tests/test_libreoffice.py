"""LibreOffice headless as the real spreadsheet client: it opens the refreshed workbook and reads back
what the tool computed."""

from __future__ import annotations

import csv
import os
import re
import subprocess
from pathlib import Path

import pytest

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.config import Config
from tests.conftest import row

pytestmark = pytest.mark.libreoffice


def soffice_csv(xlsx: Path, outdir: Path) -> list[dict[str, str]]:
    """Convert the first sheet (Queue) to CSV with LibreOffice and read it back."""
    profile = outdir / "lo-profile"
    env = {**os.environ, "HOME": str(outdir)}
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false",
            "--outdir",
            str(outdir),
            str(xlsx),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env=env,
    )
    with open(outdir / f"{xlsx.stem}.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _iso(text: str) -> str:
    """A date-time as LibreOffice's CSV export wrote it (MM/DD/YYYY HH:MM:SS or ISO), as YYYY-MM-DD HH:MM."""
    found = re.match(r"(\d\d)/(\d\d)/(\d{4}) (\d\d:\d\d)", text)
    return f"{found[3]}-{found[1]}-{found[2]} {found[4]}" if found else text[:16]


def test_libreoffice_reads_back_computed_values(config: Config, make_queue, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    backend = make_queue(
        [
            row("2026-12-01 09:10", Caller='=HYPERLINK("http://x","y")'),
            row("2026-12-01 11:50", Caller="+1-555-0100"),
            row("2026-12-04 16:55", Reason="Clinical concern"),
        ]
    )
    service.refresh(
        config=config,
        backend=backend,
        now=__import__("datetime").datetime.fromisoformat("2026-12-05T09:00-06:00"),
    )
    out = tmp_path / "lo"
    out.mkdir()
    rows = soffice_csv(config.workbook, out)
    assert [r[model.ID] for r in rows] == ["CB-00001", "CB-00002", "CB-00003"]
    assert rows[0][model.CALLER] == '=HYPERLINK("http://x","y")' and rows[1][model.CALLER] == "+1-555-0100"
    assert _iso(rows[0][model.NEXT_ATTEMPT]) == "2026-12-01 12:00"
    assert _iso(rows[1][model.NEXT_ATTEMPT]) == "2026-12-01 17:00"
    assert _iso(rows[2][model.NEXT_ATTEMPT]) == "2026-12-07 08:10"  # 5 min Friday + 10 min Monday
    assert rows[0][model.OVERDUE].startswith("OVERDUE")
    assert rows[2][model.ESCALATION].startswith("ESCALATED")
