"""The window a Google refresh leaves for a staff edit to misplace its writes, on the local emulator.

    python bench/google_write_window.py ROWS [--repeat K]

Between the re-read (request 3) and the write (request 4), staff deleting or inserting a row moves the rows
under the cells about to be written; the read-back after a write of staff cells (request 5) puts them right.
This prints, per refresh (median of K, fresh sheets with ROWS rows without IDs): the whole refresh, the
window from the re-read's answer to the write's answer (what a deletion must hit to misplace a cell), and
the window left after the repair (from the read-back's answer to the repair's answer; a repair is only
sent when something moved: here one is forced by deleting a row each time). Last line: ``ratio:`` window
÷ refresh. On Google each window is about one request's round trip (typically 0.1-0.3 s).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.google_refresh import NOW, queue_rows
from callback_sheets.app import service
from callback_sheets.backends.google.backend import GoogleBackend
from callback_sheets.cells import Changeset
from callback_sheets.config import load_config
from tests.conftest import CLINIC_TOML
from tests.sheets_emulator import SheetsEmulator
from tests.sheets_emulator.batch_update import batch_update
from tests.sheets_emulator.client import emulator_session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    (folder / "callback_sheets.toml").write_text(CLINIC_TOML, encoding="utf-8")
    config = load_config(folder / "callback_sheets.toml")
    totals, windows, lefts = [], [], []
    with SheetsEmulator() as emu:
        for _ in range(args.repeat):
            key = emu.store.create("bench").spreadsheet_id
            backend = GoogleBackend(key, session=emulator_session(emu.base_url))
            service.init(config=config, backend=backend)
            with backend.session():
                backend.write(backend.read(), Changeset(new_rows=queue_rows(args.rows)))
            marks: list[tuple[str, float]] = []
            for name in ("values_batch_get", "values_batch_update"):
                method = getattr(backend.http, name)

                def timed(*a: Any, _m: Any = method, _n: str = name, _marks: list[Any] = marks) -> Any:
                    got = _m(*a)
                    _marks.append((_n, time.perf_counter()))
                    return got

                setattr(backend.http, name, timed)
            queue_id = next(s.sheet_id for s in emu.store.get(key).sheets if s.title == "Queue")
            delete = {
                "deleteDimension": {
                    "range": {"sheetId": queue_id, "dimension": "ROWS", "startIndex": 1, "endIndex": 2}
                }
            }
            emu.reset_log()
            emu.before_request(4, lambda k=key, d=delete: batch_update(emu.store, k, {"requests": [d]}))
            began = time.perf_counter()
            service.refresh(config=config, backend=backend, now=NOW)
            totals.append(time.perf_counter() - began)
            # the refresh's own read first (values API, issue 17), then re-read, write, read-back, repair
            names = [n for n, _ in marks][-4:]
            times = [t for _, t in marks][-4:]
            assert names[:4] == [
                "values_batch_get",
                "values_batch_update",
                "values_batch_get",
                "values_batch_update",
            ], names
            windows.append(times[1] - times[0])
            lefts.append(times[3] - times[2])
    refresh, window, left = (statistics.median(x) for x in (totals, windows, lefts))
    print(f"rows: {args.rows}  refresh: {refresh * 1000:.1f} ms")
    print(f"window re-read -> write: {window * 1000:.1f} ms; left after the repair: {left * 1000:.1f} ms")
    print(f"ratio: {window / refresh:.3f}")


if __name__ == "__main__":
    main()
