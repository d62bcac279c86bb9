"""Refresh a ROWS-row queue on the local Sheets API emulator, against the way people usually script it.

    python bench/google_refresh.py ROWS [--sample N]

Ours: ``callback-sheets refresh`` through the Google backend (read, re-read, one batched write). The naive
way: the same computed cells, written with ``worksheet.update_cell`` one call each after opening the
worksheet. The naive way is timed on a sample of at most N cells and extrapolated (said so in the output).
The last line is ``ratio: X``: requests of the naive way ÷ ours.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.backends.google.backend import GoogleBackend
from callback_sheets.cells import Changeset
from callback_sheets.config import load_config
from tests.conftest import CLINIC_TOML
from tests.sheets_emulator import SheetsEmulator
from tests.sheets_emulator.client import emulator_session, gspread_client

NOW = datetime.fromisoformat("2026-12-01T15:00-06:00")
REASONS = ("New appointment", "Billing", "Prescription question", "Document / referral", "Clinical concern")


def queue_rows(count: int) -> list[dict[str, object]]:
    rng = random.Random(7)
    start = datetime(2026, 11, 16, 8, 0)
    return [
        {
            model.RECEIVED: start + timedelta(minutes=rng.randrange(0, 60 * 24 * 14)),
            model.CALLER: f"Caller {i}",
            model.PHONE: f"(312) 555-{rng.randrange(10000):04d}",
            model.REASON: rng.choice(REASONS),
            model.LANGUAGE: "English",
            model.PATIENT_TYPE: "New",
        }
        for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("--sample", type=int, default=300, help="most naive update_cell calls actually made")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    (folder / "callback_sheets.toml").write_text(CLINIC_TOML, encoding="utf-8")
    config = load_config(folder / "callback_sheets.toml")
    with SheetsEmulator() as emu:
        backend = GoogleBackend(
            emu.store.create("Bench").spreadsheet_id, session=emulator_session(emu.base_url)
        )
        service.init(config=config, backend=backend)
        backend.write(backend.read(), Changeset(new_rows=queue_rows(args.rows)))
        # the naive way works on an identical copy, planned from the same snapshot
        twin = GoogleBackend(emu.store.create("Naive").spreadsheet_id, session=emulator_session(emu.base_url))
        service.init(config=config, backend=twin)
        twin.write(twin.read(), Changeset(new_rows=queue_rows(args.rows)))

        emu.reset_log()
        began = time.perf_counter()
        outcome = service.refresh(config=config, backend=backend, now=NOW)
        ours_time, ours_requests = time.perf_counter() - began, len(emu.requests)
        print(f"rows: {args.rows}")
        print(
            f"ours: {ours_requests} requests, {ours_time:.2f} s, {outcome.plan.summary.changes} cells written"
        )

        snapshot, plan = service.read_plan(config=config, backend=twin, now=NOW)
        cols = {name: i for i, name in enumerate(snapshot.header, start=1)}
        cells = [(model.QUEUE_TAB, c.position, cols[c.column], c.value) for c in plan.changes.cells]
        cells += [
            (tab, r, c, v) for tab, grid in plan.changes.tab_cells.items() for (r, c), v in grid.items()
        ]
        emu.reset_log()
        began = time.perf_counter()
        spreadsheet = gspread_client(emu.base_url).open_by_key(twin.key)
        worksheets = {tab: spreadsheet.worksheet(tab) for tab in dict.fromkeys(t for t, *_ in cells)}
        sample = cells[: args.sample]
        for tab, r, c, value in sample:
            text = "" if value is None else value.isoformat(sep=" ") if isinstance(value, datetime) else value
            worksheets[tab].update_cell(r, c, text)
        elapsed = time.perf_counter() - began
        opening = len(emu.requests) - len(sample)
        naive_requests = opening + len(cells)
        naive_time = elapsed * (len(cells) / len(sample)) if sample else elapsed
        note = (
            "" if len(sample) == len(cells) else f" (extrapolated from {len(sample)} of {len(cells)} cells)"
        )
        print(f"naive: {naive_requests} requests, {naive_time:.2f} s{note}")
        print(f"ratio: {naive_requests / ours_requests:.0f}")


if __name__ == "__main__":
    main()
