"""Where the queue lives: the port (:mod:`.base`), the one list of backends (:mod:`.registry`), and the
adapters: :mod:`.excel` (an .xlsx file), :mod:`.google` (a Google Sheet), :mod:`.memory` (tests). Only
these modules import openpyxl or gspread."""
