"""The pure core: business time, cadence, triage, validation, the refresh plan, assignment, metrics,
demand, scripts. It knows no spreadsheet program and no clock: every function that needs the time takes
``now``, and rows arrive as :mod:`callback_sheets.cells` values."""
