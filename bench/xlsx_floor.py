"""The floor for an Excel refresh, and what the patcher and openpyxl cost against it (issue 7).

``floor_seconds(path)`` is the least any refresh can cost: a python-calamine read of the queue sheet plus
re-zipping every part of the package unchanged. ``python bench/xlsx_floor.py ROWS`` builds a ROWS-row,
23-column workbook and prints, each measured in a fresh subprocess (time and peak RSS):

    calamine read, rezip, patch of one column on every row, openpyxl load + one-column change + save
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

SHEET = "Queue"
COLUMNS = 23
CHANGED_COLUMN = 15  # "Next attempt": a datetime on every row, the heaviest one-column refresh


def read_seconds(path: Path, sheet: str = SHEET) -> float:
    """Seconds for a python-calamine read of ``sheet`` into Python values."""
    from callback_sheets.backends.excel.xlsx.read import read_sheet

    start = time.perf_counter()
    read_sheet(path, sheet)
    return time.perf_counter() - start


def rezip_seconds(path: Path) -> float:
    """Seconds to decompress every member of ``path`` and write it again, same compression, same order."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(Path(folder) / "copy.xlsx", "w") as copy:
            for info in source.infolist():
                copy.writestr(info, source.read(info), compress_type=info.compress_type)
        return time.perf_counter() - start


def floor_seconds(path: Path, sheet: str = SHEET) -> float:
    """The refresh floor: a calamine read of the sheet plus a re-zip of all parts unchanged."""
    return read_seconds(path, sheet) + rezip_seconds(path)


def patch_seconds(path: Path, rows: int) -> float:
    """Seconds for :func:`patch_workbook` writing a new datetime into one column of every data row."""
    from callback_sheets.backends.excel.xlsx.patch import patch_workbook

    due = dt.datetime(2026, 12, 2, 12, 0)
    edits = {(row, CHANGED_COLUMN): due + dt.timedelta(minutes=row) for row in range(2, rows + 2)}
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        patch_workbook(path, Path(folder) / "patched.xlsx", edits={SHEET: edits})
        return time.perf_counter() - start


def openpyxl_seconds(path: Path, rows: int) -> float:
    """Seconds for openpyxl to load the workbook, change the same column, and save it."""
    import openpyxl  # type: ignore[import-untyped]

    due = dt.datetime(2026, 12, 2, 12, 0)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        workbook = openpyxl.load_workbook(path)
        sheet = workbook[SHEET]
        for row in range(2, rows + 2):
            sheet.cell(row, CHANGED_COLUMN).value = due + dt.timedelta(minutes=row)
        workbook.save(Path(folder) / "saved.xlsx")
        return time.perf_counter() - start


def build_workbook(path: Path, rows: int) -> None:
    """A queue-shaped workbook: header plus ``rows`` rows of 23 columns (text, datetimes, numbers)."""
    import xlsxwriter  # type: ignore[import-untyped]

    workbook = xlsxwriter.Workbook(str(path))  # shared strings, as Excel and openpyxl write them
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet = workbook.add_worksheet(SHEET)
    sheet.write_row(0, 0, [f"Column {col}" for col in range(1, COLUMNS + 1)])
    start = dt.datetime(2026, 11, 2, 8, 0)
    reasons = ["New appointment", "Billing", "Prior authorization", "Clinical concern"]
    for row in range(1, rows + 1):
        received = start + dt.timedelta(minutes=7 * row)
        for col in range(COLUMNS):
            if col in (1, 11, 14, 18, 19, 21):
                sheet.write_datetime(row, col, received + dt.timedelta(hours=col), when)
            elif col in (10, 20):
                sheet.write_number(row, col, row % 4)
            elif col == 0:
                sheet.write_string(row, col, f"CB-{row:06d}")
            elif col == 3:
                sheet.write_string(row, col, f"+1 312 555 {row % 10000:04d}")
            else:
                sheet.write_string(row, col, f"{reasons[(row + col) % 4]} {col}")
    workbook.close()


def _measure(what: str, path: Path, rows: int) -> dict[str, float]:
    """Runs one measurement here (in the child process) and returns seconds and peak RSS in MB."""
    seconds = {
        "read": lambda: read_seconds(path),
        "rezip": lambda: rezip_seconds(path),
        "patch": lambda: patch_seconds(path, rows),
        "openpyxl": lambda: openpyxl_seconds(path, rows),
    }[what]()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "peak_mb": peak_kb / 1024}


def measure_in_subprocess(what: str, path: Path, rows: int) -> dict[str, float]:
    """One measurement in a fresh interpreter, so each peak memory figure is its own."""
    output = subprocess.run(
        [sys.executable, __file__, "--measure", what, str(path), str(rows)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def main(argv: list[str]) -> None:
    if argv[:1] == ["--measure"]:
        print(json.dumps(_measure(argv[1], Path(argv[2]), int(argv[3]))))
        return
    if argv[:1] == ["--build"]:
        build_workbook(Path(argv[1]), int(argv[2]))
        return
    rows = int(argv[0]) if argv else 10_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "queue.xlsx"
        # Built in a child too: a forked child inherits the parent's peak RSS figure.
        subprocess.run([sys.executable, __file__, "--build", str(path), str(rows)], check=True)
        print(f"rows: {rows}  file: {path.stat().st_size / 1e6:.1f} MB")
        steps = ("read", "rezip", "patch", "openpyxl")
        results = {what: measure_in_subprocess(what, path, rows) for what in steps}
    for what, result in results.items():
        print(f"{what:>9}: {result['seconds']:7.2f} s  peak {result['peak_mb']:6.0f} MB")
    floor = results["read"]["seconds"] + results["rezip"]["seconds"]
    print(f"    floor: {floor:7.2f} s")
    print(
        f"patch/floor: {results['patch']['seconds'] / floor:.2f}  openpyxl/floor: "
        f"{results['openpyxl']['seconds'] / floor:.2f}"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main(sys.argv[1:])
