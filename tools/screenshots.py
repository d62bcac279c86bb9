"""Regenerate the README's picture of the Queue tab: `make screenshots` (needs soffice and pdftoppm).

It makes the demo clinic at a fixed `--now` in a temporary folder, prints a copy of the workbook whose
Queue tab shows its first rows and the columns a person acts on at full size, and renders that page to
``docs/queue.png`` (kept small: 8-bit palette when Pillow is installed).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "queue.png"
NOW = "2026-12-07T10:00"
ROWS = 36  # header + the newest 35 rows
DPI = 110
LAST_COLUMN = "S"  # ID .. Script: the staff columns, then Next attempt, Overdue, Next step, Problems, Script


def main() -> int:
    for tool in ("soffice", "pdftoppm"):
        if shutil.which(tool) is None:
            print(f"screenshots: {tool} is not installed", file=sys.stderr)
            return 1
    sys.path.insert(0, str(ROOT))
    from openpyxl import load_workbook

    from callback_sheets.app import demo, service
    from callback_sheets.backends.excel.backend import ExcelBackend
    from callback_sheets.core.times import parse_now

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config = demo.write_demo(work / "demo", now_text=NOW)
        service.refresh(config=config, backend=ExcelBackend(config.workbook), now=parse_now(NOW, config.tz))
        wb = load_workbook(config.workbook)
        for name in wb.sheetnames[1:]:
            wb[name].sheet_state = "hidden"
        ws = wb["Queue"]
        last = ws.max_row
        ws.print_area = f"A{last - ROWS + 2}:{LAST_COLUMN}{last}"  # the newest rows, most of them open
        ws.print_title_rows = "1:1"
        ws.page_setup.fitToHeight = 0
        ws.oddHeader.center.text = ws.oddFooter.left.text = ws.oddFooter.right.text = ""
        shot = work / "queue.xlsx"
        wb.save(shot)
        subprocess.run(
            ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(work), str(shot)],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                str(DPI),
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                "-x",
                "0",
                "-y",
                str(DPI // 4),
                "-W",
                str(DPI * 11),
                "-H",
                str(DPI * 3),
                str(work / "queue.pdf"),
                str(work / "queue"),
            ],
            check=True,
        )
        png = work / "queue.png"
        _crop_and_shrink(png)
        OUT.parent.mkdir(exist_ok=True)
        shutil.copyfile(png, OUT)
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} KB)")
    return 0


def _crop_and_shrink(png: Path) -> None:
    try:
        from PIL import Image, ImageChops
    except ImportError:
        return
    with Image.open(png) as image:
        rgb = image.convert("RGB")
        background = Image.new("RGB", rgb.size, (255, 255, 255))
        box = ImageChops.difference(rgb, background).getbbox()
        if box:
            rgb = rgb.crop((max(box[0] - 8, 0), max(box[1] - 8, 0), box[2] + 8, box[3] + 8))
        rgb.quantize(colors=64).save(png, optimize=True)


if __name__ == "__main__":
    raise SystemExit(main())
