"""``python -m callback_sheets``: the same command as ``callback-sheets``."""

from callback_sheets.cli import main

if __name__ == "__main__":
    main(prog_name="callback-sheets")
