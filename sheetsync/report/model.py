"""A backend-neutral description of the tabs sheetsync writes.

The rollup builds a list of :class:`Sheet` objects; the Excel and Google writers render the same
model, so both modes produce the same figures. Values are plain Python values. Any ``str`` is
written as literal text, never interpreted as a formula, whatever it starts with; only
:class:`Formula` values (sheetsync's own formulas) are written as formulas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

MANIFEST_TAB = "_sheetsync"
"""Hidden tab that records which tabs sheetsync manages in a target workbook."""

FLAGS_TAB = "Sheetsync Flags"
"""The managed tab, written into a source on opt-in, that lists that source's own findings."""

STATUS_COLOURS: dict[str, str] = {
    "Met": "C6EFCE",
    "On track": "E2F0D9",
    "At risk": "FFEB9C",
    "Off track": "FFC7CE",
    "Stale": "D9D9D9",
    "No data": "EDEDED",
    "Unknown": "F8CBAD",
    "error": "FFC7CE",
    "warning": "FFEB9C",
    "info": "DDEBF7",
}
"""Fill colours (RGB hex) for status and severity cells, used by conditional formatting."""


@dataclass(frozen=True)
class Formula:
    """A formula written by sheetsync itself, e.g. ``=SPARKLINE(...)``.

    Never built from source text."""

    text: str


@dataclass
class Table:
    """A rectangular block: an optional title line, a header row and data rows.

    ``row``/``col`` are the 1-based sheet coordinates of the title (or of the header when there is
    no title). ``number_formats`` maps a column name to an Excel-style number format such as
    ``"0%"``, ``"0.0"`` or ``"yyyy-mm-dd"``. ``status_columns`` get conditional fills from
    :data:`STATUS_COLOURS`; ``data_bar_columns`` get data bars (values expected in 0..1).
    """

    columns: list[str]
    rows: list[list[Any]]
    title: str | None = None
    row: int = 1
    col: int = 1
    number_formats: dict[str, str] = field(default_factory=dict)
    status_columns: list[str] = field(default_factory=list)
    data_bar_columns: list[str] = field(default_factory=list)
    column_widths: dict[str, float] = field(default_factory=dict)

    @property
    def header_row(self) -> int:
        return self.row + (1 if self.title else 0)

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1

    @property
    def last_row(self) -> int:
        return self.header_row + len(self.rows)

    @property
    def last_col(self) -> int:
        return self.col + len(self.columns) - 1


@dataclass
class Chart:
    """A chart drawn from a table on the same tab.

    ``category_column`` labels the x axis; each of ``series_columns`` becomes one series.
    ``data_rows`` optionally restricts to a slice of the table's data rows (0-based, end exclusive).
    ``anchor`` is the A1 cell of the chart's top-left corner.
    """

    kind: Literal["line", "bar", "column"]
    title: str
    table: Table
    category_column: str
    series_columns: list[str]
    anchor: str
    data_rows: tuple[int, int] | None = None
    stacked: bool = False
    width_cm: float = 16.0
    height_cm: float = 7.5
    y_title: str | None = None


@dataclass
class Sheet:
    """One managed tab."""

    name: str
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    freeze_rows: int = 0
    auto_filter: bool = False  # on the first table
    hidden: bool = False
    append_only: bool = False  # Run Log: keep existing rows, append the new ones
