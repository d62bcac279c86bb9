"""``python -m tests.sheets_emulator --port 8765``: run the emulator in the foreground."""

from __future__ import annotations

import argparse
import time

from tests.sheets_emulator.server import SheetsEmulator


def main() -> None:
    parser = argparse.ArgumentParser(description="Local Google Sheets API v4 emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    emulator = SheetsEmulator(args.host, args.port).start()
    print(f"Sheets API emulator listening on {emulator.base_url} (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
