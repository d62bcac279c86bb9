"""What the tool's tabs look like, declared once as data: the Excel new-workbook path (``excel_layout``)
and the Google layout (``google_layout``) both read it, so the two look the same.

Colours are ``RRGGBB``. Conditional formats are listed in priority order (the first that matches wins);
each names the header of the column its formula looks at, so a workbook with its own column order gets
the rule on the right column. :func:`contrast_ratio` is WCAG 2's, so a test can hold every coloured rule
to a text contrast of at least 4.5:1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from callback_sheets import model

DEFAULT_DATE_FORMAT = "ddd mm/dd hh:mm"  # every date column of every tab; [clinic] date_format overrides it
PERCENT_FORMAT = '0.0"%"'  # rates are stored as percentages (62.5), shown as 62.5%
LAST_ROW = 20000  # how far dropdowns and conditional formats reach on Excel

# Header cells: white bold on dark blue (staff) or on dark grey, italic (tool).
HEADER_FONT = "FFFFFF"
STAFF_HEADER = "1F4E78"
TOOL_HEADER = "595959"
TAB_HEADER = "DDEBF7"  # the header of the tool's own tabs (History, Metrics table...): dark text on pale blue
TAB_HEADER_FONT = "1F3864"
# Data cells: black on white, top-aligned so wrapped cells read from their first line.
DATA_FONT = "000000"
DATA_FILL = "FFFFFF"


WRAP_COLUMNS = frozenset({model.NOTES, model.NEXT_STEP, model.ESCALATION, model.PROBLEMS, model.OVERDUE})
DATA_ROW_HEIGHT = 30  # points: two wrapped lines


@dataclass(frozen=True, slots=True)
class RowRule:
    """A conditional format over the data rows: ``formula`` with ``{col}`` for the letter of ``column``."""

    name: str
    column: str
    formula: str
    fill: str
    font: str
    bold: bool = False
    stop: bool = True

    def formula_for(self, letter: str) -> str:
        return self.formula.replace("{col}", letter)


def closed_formula(statuses: Sequence[str]) -> str:
    """True when the row's Status is one of the closed statuses (case as typed is ignored by Excel's =)."""
    quoted = ",".join(f'${{col}}2="{s.replace(chr(34), chr(34) * 2)}"' for s in sorted(statuses))
    return f"OR({quoted})" if len(statuses) > 1 else quoted


def row_rules(closed_statuses: Sequence[str] = tuple(model.CLOSED_STATUSES)) -> tuple[RowRule, ...]:
    """Escalated (amber, dark brown text), overdue (salmon, dark red text), closed (grey text)."""
    return (
        RowRule("escalated", model.ESCALATION, "LEN(${col}2)>0", "FFEB9C", "7A3E00", bold=True),
        RowRule("overdue", model.OVERDUE, 'LEFT(${col}2,7)="OVERDUE"', "FFC7CE", "9C0006", bold=True),
        RowRule("closed", model.STATUS, closed_formula(closed_statuses), "F2F2F2", "6B6B6B"),
    )


@dataclass(frozen=True, slots=True)
class PrintSetup:
    landscape: bool = True
    fit_width: int = 1
    fit_height: int = 0  # 0: as many pages tall as needed
    repeat_header: bool = True
    margins: tuple[float, float, float, float] = (0.25, 0.25, 0.5, 0.5)  # left, right, top, bottom (inches)
    header_margin: float = 0.2
    footer_margin: float = 0.2


TAB_PRINT = {
    model.QUEUE_TAB: PrintSetup(),
    model.HISTORY_TAB: PrintSetup(landscape=False),
    model.METRICS_TAB: PrintSetup(fit_height=1, repeat_header=False),
    model.DEMAND_TAB: PrintSetup(fit_height=1, repeat_header=False),
    "Scripts": PrintSetup(landscape=False, repeat_header=False),
}


def page_header(clinic: str) -> str:
    """Excel header/footer codes: the clinic's name, centred (``&`` doubled so it prints as itself)."""
    return clinic.replace("&", "&&")


FOOTER_LEFT = "Printed &D &T"
FOOTER_RIGHT = "Page &P of &N"

# Column widths (characters) of the tool's own tabs, by header name; other columns get TAB_WIDTH.
TAB_WIDTH = 14
TAB_WIDTHS = {
    "ID": 11,
    "Attempt": 9,
    "Time": 16,
    "Recorded": 16,
    "Outcome": 20,
    "Source": 10,
    "Key": 44,
    "Imported": 16,
}


@dataclass(frozen=True, slots=True)
class Look:
    """The per-clinic part of the look, from the config: names, formats and the Scripts tab's text."""

    clinic_name: str = "Our clinic"
    date_format: str = DEFAULT_DATE_FORMAT
    closed_statuses: tuple[str, ...] = tuple(sorted(model.CLOSED_STATUSES))
    scripts: tuple[tuple[str, str], ...] = ()  # the Scripts tab from row 1 (empty: no Scripts tab)
    script_titles: frozenset[int] = frozenset()  # rows of the Scripts tab holding a block's title

    def row_rules(self) -> tuple[RowRule, ...]:
        return row_rules(self.closed_statuses)


DEFAULT_LOOK = Look()


def relative_luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two colours, 1..21."""
    a, b = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)
