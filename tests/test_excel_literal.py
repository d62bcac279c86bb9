"""`set_literal`, the one writer of config and staff text through openpyxl."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from callback_sheets.backends.excel.layout import set_literal
from callback_sheets.errors import BackendError


def test_text_is_never_a_formula() -> None:
    ws = Workbook().active
    assert ws is not None
    set_literal(ws.cell(row=1, column=1), "=1+1")
    assert ws["A1"].value == "=1+1" and ws["A1"].data_type == "s"


def test_a_cell_inside_merged_cells_is_refused_with_a_message() -> None:
    ws = Workbook().active
    assert ws is not None
    ws.merge_cells("A1:B2")
    with pytest.raises(BackendError, match="B2 lies inside merged cells"):
        set_literal(ws.cell(row=2, column=2), "text")
