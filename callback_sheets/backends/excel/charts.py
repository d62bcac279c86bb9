"""The pictures of the figures, made once by `init` with openpyxl over fixed ranges that later writes fill.

* Metrics tab: a bar chart of missed calls per week with the recovery rate as a line on a second axis,
  over the weekly block A2:C14 that every refresh (and `report --append`) keeps current;
* Demand tab: a colour scale over the weekday × hour grid B4:Y10.

Nothing here is re-created on a write: the zero-collateral patcher only changes the cells, so the chart
and the colour scale keep pointing at the same ranges (see :mod:`callback_sheets.core.demand` for the layout).
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from callback_sheets import look as look_spec
from callback_sheets import model
from callback_sheets.core import demand as dem
from callback_sheets.layout import (
    BREAKDOWN_COL,
    GRID_FIRST_COL,
    GRID_FIRST_ROW,
    METRICS_COLUMNS,
    METRICS_TABLE_ROW,
    SIDE_COL,
    TREND_FIRST_ROW,
    TREND_HEADER,
    TREND_HEADER_ROW,
    TREND_LAST_ROW,
)

GRID_RANGE = (
    f"{get_column_letter(GRID_FIRST_COL)}{GRID_FIRST_ROW}:"
    f"{get_column_letter(GRID_FIRST_COL + 23)}{GRID_FIRST_ROW + 6}"
)  # B4:Y10
CHART_ANCHOR = "E2"


def add_figure_layout(wb: Workbook, date_format: str = look_spec.DEFAULT_DATE_FORMAT) -> list[str]:
    """Add the Metrics chart and the Demand colour scale where the tabs lack them; return what was done."""
    notes = []
    if model.METRICS_TAB in wb.sheetnames and add_trend_chart(wb[model.METRICS_TAB], date_format):
        notes.append(f"added the weekly chart to {model.METRICS_TAB}")
    if model.DEMAND_TAB in wb.sheetnames and add_demand_scale(wb[model.DEMAND_TAB]):
        notes.append(f"added the colour scale to {model.DEMAND_TAB}")
    return notes


def add_trend_chart(ws: Worksheet, date_format: str = look_spec.DEFAULT_DATE_FORMAT) -> bool:
    """Missed calls (bars) and recovery rate % (line, right axis) per week; False if a chart is there."""
    if ws._charts:  # type: ignore[attr-defined]  # openpyxl keeps a sheet's charts only here (private)
        return False
    for (row, col), value in dem.trend_cells(()).items():
        if ws.cell(row=row, column=col).value is None:
            ws.cell(row=row, column=col, value=value)
    header_fill = PatternFill("solid", fgColor=look_spec.TAB_HEADER)
    header_font = Font(bold=True, color=look_spec.TAB_HEADER_FONT)
    for col in range(1, len(TREND_HEADER) + 1):
        cell = ws.cell(row=TREND_HEADER_ROW, column=col)
        cell.font, cell.fill = header_font, header_fill
    for row in range(TREND_FIRST_ROW, TREND_LAST_ROW + 1):
        ws.cell(row=row, column=3).number_format = look_spec.PERCENT_FORMAT
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    # The report table below the chart: a styled header, widths that show every figure, rates as %.
    top = METRICS_TABLE_ROW
    ws.row_dimensions[top].height = 45
    for col, name in enumerate(METRICS_COLUMNS, start=1):
        cell = ws.cell(row=top, column=col, value=name)
        cell.font, cell.fill = header_font, header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        letter = get_column_letter(col)
        dim = ws.column_dimensions[letter]
        dim.width = {"Period": 12, "Kind": 8, "Start": 11, "End": 11, "Scope": 20, "Updated": 16}.get(
            name, 10
        )
        dim.alignment = Alignment(vertical="top")
        if name.endswith("%"):
            dim.number_format = look_spec.PERCENT_FORMAT
        elif name == "Updated":
            dim.number_format = date_format
        elif "(business min)" in name or name.endswith(("median", "p90")):
            dim.number_format = "0.0"
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = 13
    ws.column_dimensions["C"].width = 16
    first, last = TREND_HEADER_ROW, TREND_LAST_ROW
    bars = BarChart()
    bars.title = "Missed calls and recovery rate per week"
    bars.y_axis.title = "Missed calls"
    bars.x_axis.title = "Week of"
    bars.add_data(Reference(ws, min_col=2, min_row=first, max_row=last), titles_from_data=True)
    bars.set_categories(Reference(ws, min_col=1, min_row=first + 1, max_row=last))
    line = LineChart()
    line.add_data(Reference(ws, min_col=3, min_row=first, max_row=last), titles_from_data=True)
    line.y_axis.axId = 200
    line.y_axis.title = "Recovery rate %"
    line.y_axis.scaling.min = 0
    line.y_axis.scaling.max = 100
    line.y_axis.crosses = "max"
    for axis in (bars.x_axis, bars.y_axis, line.y_axis):
        axis.delete = False  # newer Excel hides axes openpyxl leaves unset
    bars += line
    bars.width, bars.height = 20, 8
    ws.add_chart(bars, CHART_ANCHOR)
    return True


def add_demand_scale(ws: Worksheet) -> bool:
    """White (no calls) to deep orange (most calls) over the weekday × hour grid; False if present."""
    for ranges in ws.conditional_formatting:
        if any(rule.colorScale is not None for rule in ranges.rules):
            return False
    ws.conditional_formatting.add(
        GRID_RANGE,
        ColorScaleRule(  # type: ignore[no-untyped-call]  # types-openpyxl leaves its parameters untyped
            start_type="num",
            start_value=0,
            start_color="FFFFFF",
            mid_type="percentile",
            mid_value=50,
            mid_color="FFE699",
            end_type="max",
            end_color="F4B183",
        ),
    )
    ws.column_dimensions["A"].width = 10
    for hour in range(24):
        ws.column_dimensions[get_column_letter(GRID_FIRST_COL + hour)].width = 4.5
    for offset in range(3):
        ws.column_dimensions[get_column_letter(SIDE_COL + offset)].width = 14
        ws.column_dimensions[get_column_letter(BREAKDOWN_COL + 1 + offset)].width = 14
    ws.column_dimensions[get_column_letter(BREAKDOWN_COL)].width = 26
    ws.freeze_panes = f"B{GRID_FIRST_ROW}"
    return True
