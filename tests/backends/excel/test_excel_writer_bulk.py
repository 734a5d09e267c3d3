"""The bulk tab writer's column-by-column rendering: the same XML as cell by cell, only faster.

``test_benchmark.py`` checks that bulk-written tabs hold what openpyxl cells would; these tests
pin the pieces that make the bulk route fast: each column renders as the cell-by-cell path
renders it, styles keep the numbers a row-by-row write gives them, and rows shared by several
tables keep their cells in column order.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl import Workbook

from sheetsync.backends.excel import writer as excel_writer
from sheetsync.backends.excel.ooxml import MAX_CELL_CHARS
from sheetsync.report.model import Cell, Formula, Link, Sheet, Sparkline, Table

NOW = datetime(2026, 11, 4, 2, 0)

COLUMNS: dict[str, list[Any]] = {
    "ints": [1, -4, None, 10**17, 0, 1],
    "dense ints": [3, 3, 7, 0],
    "floats": [0.5, float("nan"), -0.0, 0.0, float("inf"), 1e-9, None, -123_456.5, 0.5],
    "dense floats": [0.25, 0.25, 1 / 3, 2.0, 0.0],
    "negative zero first": [-0.0, 1.5, 0.0, -0.0],
    "ints and floats": [1, 1.0, 2.5, -0.0, 0, None, 0.0],
    "text": ["Ana", "=SUM(A1)", "+1", "-3", "@x", "\ttab", "\rcr", "\nnl", "  padded ",
             "a & b < c > d", "_x0041_ literal", "line\r\nbreak", "", "\u00e9", "x\x01y", "Ana",
             None, "#N/A"],
    "long text": ["x" * (MAX_CELL_CHARS + 10), "\U0001f600" * 17_000, "short",
                  "x" * (MAX_CELL_CHARS + 10)],
    "dates": [date(2026, 9, 8), None, date(2026, 9, 8), date(2026, 1, 1)],
    "datetimes": [datetime(2026, 9, 8, 13, 30), datetime(2026, 9, 8), None],
    "times": [time(8, 30), None, time(0, 0)],
    "durations": [timedelta(hours=2), timedelta(0), None],
    "bools": [True, False, None, True],
    "bools and ints": [True, 1, False, 0, 1.0, None],
    "decimals": [Decimal("1.25"), Decimal("NaN"), Decimal("3"), Decimal("1.25")],
    "numpy": [np.float64(0.5), np.float64(-0.0), np.float64(0.0), np.int64(7),
              np.float64("nan"), np.bool_(True)],
    "numpy floats": [np.float64(-0.0), np.float64(0.0), np.float64(2.5)],
    "pandas": [pd.Timestamp("2026-09-08"), pd.NaT, pd.Timestamp("2026-09-08 10:30"), pd.NA],
    "formulas": [Formula("=1+1"), Formula("A1*2"), None, Formula("=1+1")],
    "mixed": [1, "1", True, date(2026, 1, 1), None, 2.5, Formula("=2"), "=x", datetime(2026, 1, 1)],
    "unhashable": [[1, 2], {"a": 1}, [1, 2], None],
    "blank": [None, None],
    "model values": [Cell(0.5, '0%" (1 of 2)"', "FFC7CE", bold=True), Cell(None, fill="D9D9D9"),
                     Link("B5", "Time Log", "B5"), Sparkline("Chart Data", "C1:C3", 0.4),
                     Cell("=text", colour="C00000"), None, Cell(date(2026, 9, 8)),
                     Cell(0.5, '0%" (1 of 2)"', "FFC7CE", bold=True),
                     Sparkline("T", "A1:A2", None)],
}
FORMATS = [None, "0", "0.00", "0%", "yyyy-mm-dd", "hh:mm"]


def _render(values: list[Any], number_format: str | None, *, by_column: bool
            ) -> tuple[list[str], float, int, int]:
    """Cells, width and truncations of a column; and how many styles rendering added."""
    bulk = excel_writer._BulkRows(Workbook().active)
    column = excel_writer._Column.of(values)
    refs = [f'{row}"' for row in range(5, 5 + len(values))]
    bulk.number_tail(number_format)
    excel_writer._register_styles_row_by_row(bulk, [column], [number_format])
    styles = bulk.worksheet.parent._cell_styles
    before = len(styles)
    if by_column:
        pieces, width, truncated = excel_writer._render_column(
            bulk, "C", refs, column, number_format)
    else:
        pieces, width, truncated = excel_writer._render_cells(
            bulk, "C", refs, values, number_format)
    cells = ["".join(parts) for parts in zip(*pieces, strict=False)]
    return cells, width, truncated, len(styles) - before


@pytest.mark.parametrize("number_format", FORMATS)
@pytest.mark.parametrize("name", list(COLUMNS))
def test_a_column_renders_as_it_does_cell_by_cell(name: str, number_format: str | None):
    values = COLUMNS[name]
    by_column = _render(values, number_format, by_column=True)
    cell_by_cell = _render(values, number_format, by_column=False)

    assert by_column[:3] == cell_by_cell[:3]
    assert len(by_column[0]) == len(values)  # one entry per row, "" for an empty cell
    assert by_column[3] == 0, "every style was registered before rendering, in row order"


def test_numbers_keep_the_sign_of_zero_and_equal_numbers_share_their_text():
    cells, _, _, _ = _render([0.0, -0.0, 1, 1.0, 0], None, by_column=True)

    assert [re.search(r"<v>(.*)</v>", c).group(1) for c in cells] == ["0", "-0", "1", "1", "0"]


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def _write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sheets: list[Sheet], *,
           bulk: bool) -> dict[str, bytes]:
    monkeypatch.setattr(excel_writer, "BULK_CELLS", 0 if bulk else 10**9)
    path = tmp_path / ("bulk.xlsx" if bulk else "cells.xlsx")
    excel_writer.write_workbook(path, sheets, now=NOW)
    return _parts(path)


def _styles_first_used_out_of_column_order() -> list[Sheet]:
    # Column A's quoted text first needs its style on row 4, column B's dates on row 3; a
    # second table beside the first shares its rows.
    rows = [["Ana", date(2026, 9, 8), 1, 2.5, True, Formula("=1+1"), "x" * (MAX_CELL_CHARS + 1)],
            ["=x", None, None, float("nan"), False, None, "line\r\nbreak"],
            ["Bob", time(8, 30), 10**17, -0.0, None, Formula("A1"), "  padded "],
            ["-y", datetime(2026, 9, 8, 13, 30), 3, 1e-9, True, None, None]]
    first = Table(columns=["Name", "When", "N", "F", "B", "Sum", "Note"], rows=rows,
                  title="Title")
    beside = Table(columns=["a", "b"], rows=[["@q", date(2026, 1, 1)], [time(1, 2), "-z"]],
                   row=2, col=10)
    return [Sheet("T", tables=[first, beside])]


def test_without_number_formats_the_bulk_tab_is_what_openpyxl_writes_byte_for_byte(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # openpyxl numbers styles in the order cells first use them, row by row; the bulk route
    # renders column by column but registers styles in that same order.
    bulk = _write(tmp_path, monkeypatch, _styles_first_used_out_of_column_order(), bulk=True)
    cells = _write(tmp_path, monkeypatch, _styles_first_used_out_of_column_order(), bulk=False)

    sheet = "xl/worksheets/sheet1.xml"
    assert bulk[sheet] == cells[sheet]
    xml = bulk[sheet].decode()
    style = {ref: int(s) for ref, s in re.findall(r'<c r="([A-Z]+\d+)" s="(\d+)"', xml)}
    assert style["B3"] < style["A4"] < style["B5"], "styles numbered by first use, row by row"


def test_wrapped_tables_with_model_values_look_as_openpyxl_writes_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    rows = [["Off track", Cell(92.0, '0" (wk 6)"'), Link("B7", "Time Log", "B7"),
             "A long reason that wraps over several lines of a narrow column, word by word"],
            ["Met", Cell(None, fill="D9D9D9"), None, "short"]]
    table = Table(columns=["Status", "Latest", "Cell", "Reason"], rows=rows, title="T",
                  intro=["An intro line."], wrap_columns=["Reason"],
                  column_widths={"Reason": 20}, status_columns=["Status"])
    sheets = [Sheet("W", tables=[table])]

    def look(parts: dict[str, bytes]) -> list:
        path = tmp_path / "look.xlsx"
        with zipfile.ZipFile(path, "w") as package:
            for name, data in parts.items():
                package.writestr(name, data)
        ws = openpyxl.load_workbook(path)["W"]
        cells = [(c.coordinate, c.value, c.number_format, c.fill.fgColor.rgb, c.font.b,
                  c.font.u, c.font.color.rgb if c.font.color else None, c.alignment.wrap_text,
                  c.alignment.vertical, c.hyperlink.location if c.hyperlink else None)
                 for row in ws.iter_rows() for c in row if c.has_style or c.value is not None]
        return [cells, {r: d.height for r, d in ws.row_dimensions.items() if d.height}]

    bulk = look(_write(tmp_path, monkeypatch, sheets, bulk=True))
    cells = look(_write(tmp_path, monkeypatch, sheets, bulk=False))
    assert bulk == cells
    by_ref = {c[0]: c for c in bulk[0]}
    assert by_ref["B4"][1:3] == (92, '0" (wk 6)"')
    assert by_ref["C4"][-1] == "'Time Log'!B7" and by_ref["C4"][5] == "single"
    assert by_ref["D4"][7] is True and by_ref["A4"][8] == "top"
    assert by_ref["B5"][3] == "FFD9D9D9"  # an empty cell in its own look
    assert bulk[1] == {4: 60.0}  # the wrapped reason's row grew to four lines


def test_overlapping_tables_still_list_each_rows_cells_by_column(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    left = Table(columns=["a", "b", "c"], rows=[[1, 2, 3], [4, 5, 6]])
    right = Table(columns=["x", "y", "z"], rows=[[7, 8, 9], [10, 11, 12]], col=2)
    xml = _write(tmp_path, monkeypatch, [Sheet("T", tables=[left, right])],
                 bulk=True)["xl/worksheets/sheet1.xml"].decode()

    for row in re.findall(r"<row [^>]*>(.*?)</row>", xml):
        columns = [ord(letter) for letter in re.findall(r'<c r="([A-Z]+)\d+"', row)]
        assert columns == sorted(columns)
    assert len(re.findall(r"<c ", xml)) == 2 * (3 + 2 * 3)  # every cell of both tables


def test_tables_side_by_side_share_their_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    weekly = Table(columns=["Coach", "Minutes"], rows=[[f"C{i}", i] for i in range(5)],
                   title="Weekly")
    summary = Table(columns=["Coach", "Total"], rows=[["C0", 10], ["C1", 20]], col=4)
    xml = _write(tmp_path, monkeypatch, [Sheet("T", tables=[weekly, summary])],
                 bulk=True)["xl/worksheets/sheet1.xml"].decode()

    rows = dict(re.findall(r'<row r="(\d+)">(.*?)</row>', xml))
    assert list(rows) == [str(n) for n in range(1, 8)]
    assert re.findall(r'<c r="([A-Z]+)3"', rows["3"]) == ["A", "B", "D", "E"]
    assert re.findall(r'<c r="([A-Z]+)6"', rows["6"]) == ["A", "B"]


def _shape_cell_by_cell(table: Table) -> int:
    """Content cells counted one value at a time, the rule the distinct-value count keeps."""
    width = len(table.columns)
    return sum(excel_writer._holds_content(raw) for row in table.rows for raw in row[:width])


@pytest.mark.parametrize("bulk", [True, False])
def test_a_tabs_recorded_shape_counts_the_cells_it_saved(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk: bool):
    # every column of the corpus side by side: equal values of different types (1, 1.0, True),
    # NaNs, unhashable values and model values, with a ragged row and an overlong one
    names = list(COLUMNS)
    height = max(len(v) for v in COLUMNS.values())
    rows = [[COLUMNS[n][i] if i < len(COLUMNS[n]) else None for n in names]
            for i in range(height)]
    rows += [["short row"], [*(["x"] * len(names)), "past the last column"]]
    sheets = [Sheet("T", tables=[Table(columns=names, rows=rows, title="All")])]
    from sheetsync.backends.excel.own_tabs import content_cells

    saved = _write(tmp_path, monkeypatch, sheets, bulk=bulk)["xl/worksheets/sheet1.xml"]
    shape = excel_writer._shape(sheets[0].tables)
    header_and_title = 1 + len(names)
    assert shape.cells == header_and_title + _shape_cell_by_cell(sheets[0].tables[0])
    # never fewer than were saved, or an unedited tab would look edited (a model value that
    # saves no value, such as a sparkline without a bar, may be counted)
    assert len(content_cells(saved)) <= shape.cells <= len(content_cells(saved)) + 2


def test_a_shape_without_unhashable_values_is_counted_by_distinct_value():
    table = Table(columns=["a", "b"], rows=[[1, 1.0], [True, 0.0], [float("nan"), ""],
                                            ["Ana", "Ana"], [None, "\x01"]])
    assert excel_writer._shape([table]).cells == 2 + _shape_cell_by_cell(table) == 2 + 6
