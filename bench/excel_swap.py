"""What the compare-and-swap costs, and how narrow the fallback's window is (issue 12).

``python bench/excel_swap.py ROWS [--rounds K]`` makes a ROWS-row demo queue and refreshes it K times
with renameat2(RENAME_EXCHANGE) and K times with the fallback (stat + SHA-256 check, then os.replace),
the queue reset before each round so every refresh writes. It prints, per mode, the median refresh time,
and for the fallback the window in which a staff save could still be lost: from the last look at the
file (a stat) to the end of os.replace. Last lines: the hash of the workbook (done on each read and once
more on each write) against the refresh time, as ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from callback_sheets.app import service
from callback_sheets.app.demo import write_demo
from callback_sheets.backends.excel import files as excel_files
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.core.times import parse_now


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", type=int)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = write_demo(Path(tmp) / "demo", now_text="2026-12-04T15:00", rows=args.rows)
        base = Path(tmp) / "base.xlsx"
        shutil.copyfile(config.workbook, base)
        now = parse_now("2026-12-04T15:00", config.tz)
        times: dict[bool, list[float]] = {True: [], False: []}
        windows: list[float] = []
        for _ in range(args.rounds):
            for exchange in (True, False):
                if exchange and excel_files.exchange.call is None:
                    continue
                excel_files.USE_EXCHANGE = exchange
                shutil.copyfile(base, config.workbook)
                start = time.perf_counter()
                service.refresh(config=config, backend=ExcelBackend(config.workbook), now=now)
                times[exchange].append(time.perf_counter() - start)
                if not exchange:
                    first, last = excel_files.swap_stats.window
                    windows.append(last - first)
        size = config.workbook.stat().st_size
        hashing = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            with open(config.workbook, "rb") as fh:
                hashlib.file_digest(fh, "sha256")
            hashing.append(time.perf_counter() - start)
    print(f"rows: {args.rows}, rounds: {args.rounds}, workbook {size / 1e6:.1f} MB")
    for exchange, label in ((True, "renameat2"), (False, "fallback")):
        if times[exchange]:
            print(f"{label}: refresh median {statistics.median(times[exchange]) * 1000:.1f} ms")
    print(
        f"fallback window (last stat to end of os.replace): "
        f"median {statistics.median(windows) * 1e6:.0f} µs, "
        f"max {max(windows) * 1e6:.0f} µs"
    )
    refresh = statistics.median(times[True] or times[False])
    print(f"hash of the workbook: {statistics.median(hashing) * 1000:.2f} ms")
    print(f"ratio: two hashes per refresh / refresh = {2 * statistics.median(hashing) / refresh:.3f}")


if __name__ == "__main__":
    main()
