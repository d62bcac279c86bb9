"""The xlsx patcher: reads and rewrites only the parts of an .xlsx package a change needs (cells, rows,
styles, rules, grafted tabs), streaming every other zip member through byte for byte. A closed group:
it imports nothing else of the package but the cell vocabulary (:mod:`callback_sheets.cells`)."""
