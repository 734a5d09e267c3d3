"""A backend-neutral description of the tabs sheetsync writes.

The rollup builds a list of :class:`Sheet` objects; the Excel and Google writers render the same
model, so both modes produce the same figures. Values are plain Python values. Any ``str`` is
written as literal text, never interpreted as a formula, whatever it starts with; only
:class:`Formula` values (sheetsync's own formulas) are written as formulas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

MANIFEST_TAB = "_sheetsync"
"""Hidden tab that records which tabs sheetsync manages in a target workbook."""

FLAGS_TAB = "Sheetsync Flags"
"""The managed tab, written into a source on opt-in, that lists that source's own findings."""

GREEN, AMBER, RED, GREY, BLUE = "C6EFCE", "FFEB9C", "FFC7CE", "D9D9D9", "DDEBF7"
"""The fills of the traffic-light scale, and of "not known" and "for information"."""

STATUS_COLOURS: dict[str, str] = {
    # teams
    "Met": GREEN,
    "Not met": "F4B183",
    "On track": "E2F0D9",
    "At risk": AMBER,
    "Off track": RED,
    "Stale": GREY,
    "No data": "EDEDED",
    "Unknown": "F8CBAD",
    # coaches
    "On target": GREEN,
    "Below target": AMBER,
    "Log stopped": AMBER,
    "No time logged": "EDEDED",
    # sources, whatever they feed
    "ok": GREEN,
    "Stale data": GREY,
    "stale": GREY,
    "failed": RED,
    "File failed": RED,
    # findings, for leaders and (in plain words) for the coach who fixes them
    "error": RED,
    "warning": AMBER,
    "info": BLUE,
    "Must fix": RED,
    "Please check": AMBER,
    "Good to know": BLUE,
}
"""Fill colours (RGB hex) for status and severity cells, used by conditional formatting."""

STATUS_TEXT_COLOURS: dict[str, str] = {
    "Met": "375623",
    "Not met": "843C0C",
    "On track": "548235",
    "At risk": "9C5700",
    "Off track": "C00000",
    "Stale": "595959",
    "No data": "595959",
}
"""Darker text colours for the same statuses, readable as a chart title on white."""


@dataclass(frozen=True)
class Formula:
    """A formula written by sheetsync itself, e.g. ``=SPARKLINE(...)``.

    Never built from source text."""

    text: str


@dataclass(frozen=True)
class Cell:
    """A value with a look of its own, where a column's format does not fit every row.

    A number stays a number: ``Cell(0.92, '0%" (wk 6)"')`` shows "92% (wk 6)" and still sorts,
    sums and charts as 0.92. ``fill`` and ``colour`` are RGB hex.
    """

    value: Any
    number_format: str | None = None
    fill: str | None = None
    bold: bool = False
    colour: str | None = None


@dataclass(frozen=True)
class Link:
    """Text that jumps to a cell of another tab of the same workbook when clicked."""

    text: str
    tab: str
    cell: str  # A1, such as "B5"


@dataclass(frozen=True)
class Sparkline:
    """A small line of a range's values drawn inside a cell.

    Google Sheets draws it (``SPARKLINE``). A backend that cannot draw a line in a cell shows
    ``bar``, a share from 0 to 1, as an in-cell bar instead, without the number (the table lists
    the column in ``data_bar_columns``). ``cells`` is an A1 range of ``tab``.
    """

    tab: str
    cells: str
    bar: float | None


@dataclass(frozen=True)
class Benchmark:
    """Colours a numeric column against a target, in both backends.

    At or above ``target``: green; less than ``margin`` below it: amber; further below: red
    (mirrored when lower is better). Blank cells are never coloured: unknown is not zero.
    """

    target: float
    margin: float = 0.10
    higher_is_better: bool = True


@dataclass
class Table:
    """A rectangular block: an optional title line, a header row and data rows.

    ``row``/``col`` are the 1-based sheet coordinates of the title (or of the header when there is
    no title). ``intro`` lines of plain text sit between the title and the header. A value may be
    a plain value, a :class:`Cell`, a :class:`Link`, a :class:`Sparkline` or a :class:`Formula`.

    ``number_formats`` maps a column name to an Excel-style number format such as ``"0%"``,
    ``"0.0"`` or ``"yyyy-mm-dd"`` (never ``"0.##"``, which shows whole numbers as "70.").
    ``status_columns`` get conditional fills from :data:`STATUS_COLOURS`; ``data_bar_columns``
    get data bars (values expected in 0..1); ``benchmarks`` colour a column against a target;
    ``heat_columns`` share one white-to-green colour scale; ``wrap_columns`` wrap their text (their
    rows grow to fit, see :meth:`row_lines`).
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
    intro: list[str] = field(default_factory=list)
    wrap_columns: list[str] = field(default_factory=list)
    benchmarks: dict[str, Benchmark] = field(default_factory=dict)
    heat_columns: list[str] = field(default_factory=list)
    title_size: int = 13

    @property
    def intro_row(self) -> int:
        return self.row + (1 if self.title else 0)

    @property
    def header_row(self) -> int:
        return self.intro_row + len(self.intro)

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1

    @property
    def last_row(self) -> int:
        return self.header_row + len(self.rows)

    @property
    def last_col(self) -> int:
        return self.col + len(self.columns) - 1

    def row_lines(self, widths: dict[str, float] | None = None) -> list[int]:
        """How many lines of text each data row needs, its wrapped columns' text wrapped at
        their widths (``widths`` by column name; default: the table's own)."""
        if not self.wrap_columns:
            return [1] * len(self.rows)
        widths = {**self.column_widths, **(widths or {})}
        wrapped = [(self.columns.index(c), max(widths.get(c, 10.0) * TEXT_PER_WIDTH - 1, 4.0))
                   for c in self.wrap_columns if c in self.columns]
        lines = []
        for row in self.rows:
            most = 1
            for index, width in wrapped:
                value = row[index] if index < len(row) else None
                text = value.value if isinstance(value, Cell) else value
                if isinstance(text, str) and text:
                    most = max(most, wrapped_lines(text, width))
            lines.append(most)
        return lines


TEXT_PER_WIDTH = 1.2
"""Characters of ordinary text that fit in one unit of column width. A width counts the
widest digits; Calibri in Excel and the default font of LibreOffice fit about 20% more text."""


@lru_cache(maxsize=65536)
def wrapped_lines(text: str, width: float) -> int:
    """Lines ``text`` takes when wrapped at word boundaries to ``width`` characters."""
    if len(text) <= width and "\n" not in text:
        return 1
    total = 0
    for paragraph in text.split("\n"):
        line, count = 0, 1
        for word in paragraph.split():
            if line and line + 1 + len(word) > width:
                count += 1
                line = len(word)
            else:
                line += (1 if line else 0) + len(word)
        total += count
    return total


def plain(value: Any) -> Any:
    """The value a model cell holds: a :class:`Cell`'s value, a :class:`Link`'s text, a
    :class:`Sparkline`'s bar; anything else as it is."""
    kind = type(value)
    if kind is Cell:
        return value.value
    if kind is Link:
        return value.text
    if kind is Sparkline:
        return value.bar
    return value


@dataclass(frozen=True)
class SeriesStyle:
    """How one chart series is drawn: its colour (RGB hex), line, markers and labels."""

    colour: str = "2E75B6"
    line: Literal["solid", "dash", "none"] = "solid"
    width_pt: float = 2.25
    marker: Literal["none", "circle", "diamond", "triangle", "square"] = "none"
    marker_size: int = 6
    labels: bool = False  # each point's value beside it (a one-point series: "the latest")
    as_line: bool = False  # in a bar or column chart: drawn as a line (a reference line)


CHART_TITLE_CHARS = 60


@dataclass
class Chart:
    """A chart drawn from a table of the same tab, or of the tab named ``data_tab``.

    ``category_column`` labels the x axis; each of ``series_columns`` becomes one series, drawn
    as ``styles`` says (default: the spreadsheet's own look). ``data_rows`` optionally restricts
    to a slice of the table's data rows (0-based, end exclusive). ``anchor`` is the A1 cell of
    the chart's top-left corner. ``span_gaps`` draws a line across blank values rather than
    breaking it. ``y_min``/``y_max`` fix the value axis; ``y_format`` is its number format.
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
    data_tab: str | None = None
    styles: dict[str, SeriesStyle] = field(default_factory=dict)
    title_colour: str | None = None
    legend: bool = True
    span_gaps: bool = True
    y_min: float | None = None
    y_max: float | None = None
    y_step: float | None = None  # between the value axis's gridlines
    y_format: str | None = None

    def __post_init__(self) -> None:
        # One title in every backend: cut where the Excel writer would cut it (a title over
        # CHART_TITLE_CHARS characters, from a long team name, is unreadable anyway).
        if len(self.title) > CHART_TITLE_CHARS:
            self.title = self.title[: CHART_TITLE_CHARS - 1].rstrip() + "\u2026"


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
    column_widths: dict[int, float] = field(default_factory=dict)
    """Widths (in characters) of whole sheet columns, by 1-based number: they win over the
    tables' own, where tables stacked on one tab share columns."""
    print_area: tuple[int, int, int, int] | None = None
    """(first row, first column, last row, last column) printed, one page wide."""
    opens_first: bool = False
    """The first tab, and the one the workbook opens on."""
    page_breaks: list[int] = field(default_factory=list)
    """Rows (1-based) that start a new printed page (Excel; Google Sheets prints without
    them)."""
