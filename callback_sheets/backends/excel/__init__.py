"""The Excel backend: an .xlsx file, read fast with python-calamine and written cell by cell through the
zero-collateral patcher (:mod:`.xlsx`), atomically and only if the file did not change since it was read
(:mod:`.files`); openpyxl only for a new workbook's layout and as a fallback."""
