"""callback-sheets: a spreadsheet kept honest as a clinic's patient callback queue."""

__version__ = "0.1.0"
