"""Time the weekly report against the refresh: `python bench/report_weekly.py N` (default 100000).

Builds an N-row queue workbook (the demo's synthetic rows: a fortnight of missed calls up to `now`),
refreshes it once (so History, IDs and the tool columns are filled, as in daily use), then times, median
of several runs: a full `service.refresh` on the Excel backend (read, plan with the Demand contributor,
write), and the weekly report computed over the same snapshot (`reports.build_report`, --by language).
The report's own read of the workbook is printed too. Last line: `ratio: X` = report ÷ refresh.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs from a checkout without installing

from callback_sheets import model
from callback_sheets.app import demo, reports, service
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.cells import Changeset
from callback_sheets.config import load_config
from callback_sheets.core.times import parse_now

NOW = "2026-12-04T15:00"


def median_time(runs: int, work) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("rows", type=int, nargs="?", default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "callback_sheets.toml").write_text(demo.DEMO_CONFIG, encoding="utf-8")
        config = load_config(folder / "callback_sheets.toml")
        now = parse_now(NOW, config.tz)
        backend = ExcelBackend(config.workbook)
        service.init(config=config, backend=backend)
        with backend.session():
            rows = demo.synthetic_rows(config, now, args.rows, seed=7)
            backend.write(backend.read(), Changeset(new_rows=rows))
        service.refresh(config=config, backend=backend, now=now)  # first refresh: IDs, History, tool columns
        print(f"rows: {args.rows}")
        refresh = median_time(args.runs, lambda: service.refresh(config=config, backend=backend, now=now))
        print(f"refresh (read + plan + Demand + write): {refresh:.3f} s")
        tabs = (model.HISTORY_TAB,)
        read = median_time(args.runs, lambda: backend.read(tabs=tabs))
        snapshot = backend.read(tabs=tabs)
        print(f"report read of the workbook: {read:.3f} s")
        built: list[reports.Report] = []
        report = median_time(
            args.runs,
            lambda: built.append(
                reports.build_report(
                    config=config, snapshot=snapshot, period="weekly", now=now, by="language"
                )
            ),
        )
        print(
            f"weekly report over the snapshot: {report:.3f} s "
            f"({built[-1].scopes[0].figures.missed_calls} missed calls in {built[-1].period.label})"
        )
        print(f"ratio: {report / refresh:.3f}")


if __name__ == "__main__":
    main()
