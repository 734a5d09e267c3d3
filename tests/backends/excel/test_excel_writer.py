"""The Excel dashboard writer: what leaders see, what users keep, and what is never clobbered."""

from __future__ import annotations

import math
import os
import re
import stat
import zipfile
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.chart import BarChart as UserBarChart
from openpyxl.chart import Reference as UserReference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.writer.excel import ExcelWriter
from python_calamine import CalamineWorkbook

from sheetsync.backends.excel import writer as excel_writer
from sheetsync.backends.excel.ooxml import MAX_CELL_CHARS
from sheetsync.backends.excel.writer import write_workbook
from sheetsync.errors import TargetWriteError
from sheetsync.report.model import MANIFEST_TAB, STATUS_COLOURS, Chart, Formula, Sheet, Table

NOW = datetime(2025, 3, 14, 16, 30, tzinfo=UTC)
INJECTION_TEXTS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1", "=HYPERLINK(\"x\")",
                   "#N/A", "#DIV/0!", "_x0041_", "line one\r\nline two"]


# --------------------------------------------------------------------------- model builders


def team_table(rows: int = 4) -> Table:
    statuses = ["On track", "At risk", "Off track", "Met", "Stale", "No data"]
    return Table(
        columns=["School", "Team", "Week", "Latest", "Gap closed", "Status"],
        rows=[
            [f"School {i % 2}", f"Team {i}", i + 1, 40.0 + i, i / 10, statuses[i % len(statuses)]]
            for i in range(rows)
        ],
        title="Teams",
        row=1,
        number_formats={"Gap closed": "0%", "Latest": "0.0"},
        status_columns=["Status"],
        data_bar_columns=["Gap closed"],
    )


def dashboard(rows: int = 4) -> Sheet:
    table = team_table(rows)
    return Sheet(
        name="Dashboard",
        tables=[table],
        charts=[
            Chart(kind="line", title="Progress", table=table, category_column="Week",
                  series_columns=["Latest", "Gap closed"], anchor="I2", width_cm=20,
                  height_cm=9, y_title="Value"),
            Chart(kind="column", title="By team", table=table, category_column="Team",
                  series_columns=["Latest"], anchor="I22", stacked=True, data_rows=(1, 3)),
        ],
        freeze_rows=2,
        auto_filter=True,
    )


def run_log(*rows: list[Any], columns: list[str] | None = None) -> Sheet:
    return Sheet(
        name="Run Log",
        tables=[Table(columns=columns or ["Time", "Sources ok", "Duration"], rows=list(rows))],
        append_only=True,
        freeze_rows=1,
    )


def one_column(name: str, values: list[Any], **table_args: Any) -> Sheet:
    return Sheet(name=name, tables=[Table(columns=["Value"], rows=[[v] for v in values],
                                          **table_args)])


def sheet_xml(path: Path, tab: str) -> str:
    """The raw XML of one tab, found through the workbook's own relationships."""
    with zipfile.ZipFile(path) as package:
        workbook = package.read("xl/workbook.xml").decode()
        rels = package.read("xl/_rels/workbook.xml.rels").decode()
        rel_id = re.search(rf'<sheet [^>]*name="{re.escape(tab)}"[^>]*r:id="([^"]+)"', workbook)
        assert rel_id, f"tab {tab} not in workbook.xml"
        target = re.search(rf'Id="{rel_id.group(1)}"[^>]*Target="([^"]+)"|'
                           rf'Target="([^"]+)"[^>]*Id="{rel_id.group(1)}"', rels)
        assert target
        part = (target.group(1) or target.group(2)).lstrip("/")
        return package.read(part if part.startswith("xl/") else "xl/" + part).decode()


def formula_count(path: Path) -> int:
    with zipfile.ZipFile(path) as package:
        return sum(
            len(re.findall(r"<f[ >/]", package.read(name).decode()))
            for name in package.namelist()
            if name.startswith("xl/worksheets/")
        )


def user_workbook(path: Path) -> None:
    """A leader's own workbook with two tabs of their own, built the way they would."""
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "Notes"
    notes["A1"] = "Check-in agenda"
    notes["A1"].font = Font(bold=True, color="FF0000")
    notes["A2"] = 42
    notes["B2"] = date(2025, 2, 1)
    notes["C2"] = "=A2*2"  # the user's own formula stays a formula
    notes["A3"] = "=not mine"
    notes["A3"].data_type = "s"
    notes["A4"].fill = PatternFill(fill_type="solid", start_color="FFFF00", end_color="FFFF00")
    notes["A4"] = "highlighted"
    notes["A5"].comment = Comment("remember the sponsors", "Lead")
    notes["A5"] = "with a note"
    notes.merge_cells("D1:F1")
    notes["D1"] = "merged"
    notes.column_dimensions["A"].width = 33
    notes["B5"] = "district site"
    notes["B5"].hyperlink = "https://district.example/coaching"
    notes.add_data_validation(dv := DataValidation(type="list", formula1='"yes,no"'))
    dv.add("E2:E9")
    notes.conditional_formatting.add("A2:A9", CellIsRule(operator="greaterThan", formula=["40"],
                                                         font=Font(italic=True)))
    notes.freeze_panes = "B2"
    budget = workbook.create_sheet("Budget")
    budget.append(["Item", "Cost"])
    budget.append(["Books", 120.5])
    workbook.save(path)


def cell_snapshot(path: Path, tab: str) -> list[tuple[Any, ...]]:
    worksheet = openpyxl.load_workbook(path, rich_text=True)[tab]
    return [
        (c.coordinate, c.value, c.data_type, c.number_format, c.font.b, c.font.color and
         c.font.color.rgb, c.fill.fgColor.rgb, c.comment and c.comment.text,
         c.hyperlink and c.hyperlink.target)
        for row in worksheet.iter_rows() for c in row
    ] + [
        ("merged", str(worksheet.merged_cells)),
        ("width A", worksheet.column_dimensions["A"].width),
        ("validation", [(str(v.sqref), v.formula1)
                        for v in worksheet.data_validations.dataValidation]),
        ("formatting", [(str(f.sqref), [r.formula for r in f.rules])
                        for f in worksheet.conditional_formatting]),
        ("frozen", worksheet.freeze_panes),
    ]


# --------------------------------------------------------------------------- values and types


def test_values_come_back_with_their_types(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    values = [
        "plain", 7, 2.5, True, Decimal("1.25"), date(2025, 1, 6),
        datetime(2025, 1, 6, 8, 15),
        datetime(2025, 1, 6, 8, 15, tzinfo=timezone(timedelta(hours=-5))),
        time(9, 30), timedelta(hours=2, minutes=30),
        None, float("nan"), float("inf"), pd.NA, pd.NaT, np.nan,
        np.int64(12), np.float64(0.75), np.bool_(False), pd.Timestamp("2025-02-03 10:00"),
        np.datetime64("2025-02-04"), np.datetime64("NaT"),
    ]
    write_workbook(path, [one_column("Values", values)], now=NOW)

    sheet = openpyxl.load_workbook(path)["Values"]
    cells = [row[0] for row in sheet.iter_rows(min_row=2, max_row=len(values) + 1)]
    got = [c.value for c in cells]
    assert got[:5] == ["plain", 7, 2.5, True, 1.25]
    assert [c.data_type for c in cells[:4]] == ["s", "n", "n", "b"]
    assert got[5] == datetime(2025, 1, 6) and cells[5].number_format == "yyyy-mm-dd"
    assert got[6] == datetime(2025, 1, 6, 8, 15) and cells[6].number_format == "yyyy-mm-dd hh:mm"
    assert got[7] == datetime(2025, 1, 6, 8, 15), "wall-clock time kept, zone dropped"
    assert got[8] == time(9, 30)
    assert got[9] == timedelta(hours=2, minutes=30)
    assert got[10:16] == [None] * 6, "None, NaN, inf, NA and NaT are empty cells"
    assert got[16:19] == [12, 0.75, False]
    assert type(got[16]) is int and type(got[18]) is bool
    assert got[19] == datetime(2025, 2, 3, 10, 0)
    assert got[20] == datetime(2025, 2, 4) and got[21] is None


def test_column_number_formats_apply_to_numbers_and_date_formats_to_dates(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    table = Table(columns=["Share", "When", "Week of"], rows=[[0.4, date(2025, 1, 6),
                                                              date(2025, 1, 6)]],
                  number_formats={"Share": "0%", "When": "0.00", "Week of": "d mmm yyyy"})
    write_workbook(path, [Sheet("Coach Time", tables=[table])], now=NOW)
    sheet = openpyxl.load_workbook(path)["Coach Time"]
    assert sheet["A2"].number_format == "0%"
    assert sheet["B2"].number_format == "yyyy-mm-dd", "a number format never hides a date"
    assert sheet["C2"].number_format == "d mmm yyyy"


@pytest.mark.parametrize("text", INJECTION_TEXTS)
def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / "dashboard.xlsx"
    write_workbook(path, [one_column("Flags", [text], title=text)], now=NOW)

    sheet = openpyxl.load_workbook(path)["Flags"]
    for cell in (sheet["A1"], sheet["A3"]):  # the title line and a data cell
        assert cell.data_type == "s"
        assert isinstance(cell.value, str)
    assert formula_count(path) == 0
    # calamine decodes Excel's escapes the way Excel does, so it shows what a leader would see.
    shown = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Flags").to_python()
    assert shown[2][0] == text
    if text.startswith(("=", "+", "-", "@", "\t", "\r")):
        assert sheet["A3"].quotePrefix, "stays text even if someone edits the cell"


def test_only_sheetsyncs_own_formulas_become_formulas(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    write_workbook(path, [one_column("Dashboard", [Formula("=SUM(1,2)"), "=SUM(1,2)",
                                                   Formula("AVERAGE(1,3)")])], now=NOW)
    sheet = openpyxl.load_workbook(path)["Dashboard"]
    assert (sheet["A2"].data_type, sheet["A2"].value) == ("f", "=SUM(1,2)")
    assert (sheet["A3"].data_type, sheet["A3"].value) == ("s", "=SUM(1,2)")
    assert (sheet["A4"].data_type, sheet["A4"].value) == ("f", "=AVERAGE(1,3)")
    assert formula_count(path) == 2


def test_characters_xml_cannot_hold_are_dropped_and_long_text_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    result = write_workbook(
        path, [one_column("Flags", ["bell\x07 and null\x00 gone\ufffe", "x" * 40_000])], now=NOW
    )
    sheet = openpyxl.load_workbook(path)["Flags"]
    assert sheet["A2"].value == "bell and null gone"
    assert len(sheet["A3"].value) == MAX_CELL_CHARS and sheet["A3"].value.endswith("\u2026")
    assert result.truncated_cells == 1


# --------------------------------------------------------------------------- layout and styling


def test_tables_get_a_title_a_styled_header_and_sized_columns(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    table = team_table()
    table.rows.append(["A school with a remarkably long name " * 4, "T", 1, 1.0, 0.1, "Met"])
    table.column_widths = {"Team": 25}
    write_workbook(path, [Sheet("Dashboard", tables=[table])], now=NOW)
    sheet = openpyxl.load_workbook(path)["Dashboard"]

    assert sheet["A1"].value == "Teams" and sheet["A1"].font.b
    header = [c.value for c in sheet[2]]
    assert header == table.columns
    assert all(c.font.b and c.fill.fill_type == "solid" for c in sheet[2])
    assert sheet["E3"].number_format == "0%" and sheet["D3"].number_format == "0.0"
    widths = sheet.column_dimensions
    assert widths["A"].width == excel_writer.MAX_COLUMN_WIDTH, "long text is capped"
    assert widths["B"].width == 25, "a given width wins"
    assert excel_writer.MIN_COLUMN_WIDTH <= widths["C"].width < 20


def test_status_columns_are_coloured_and_shares_get_data_bars(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    write_workbook(path, [dashboard()], now=NOW)
    sheet = openpyxl.load_workbook(path)["Dashboard"]

    rules = {str(cf.sqref): cf.rules for cf in sheet.conditional_formatting}
    status_rules = rules["F3:F6"]
    assert {r.formula[0] for r in status_rules} == {f'"{s}"' for s in STATUS_COLOURS}
    assert all(r.type == "cellIs" and r.operator == "equal" for r in status_rules)
    by_status = {r.formula[0].strip('"'): r.dxf.fill.fgColor.rgb for r in status_rules}
    assert by_status["Off track"].endswith(STATUS_COLOURS["Off track"])
    (bar,) = rules["E3:E6"]
    assert bar.type == "dataBar"
    assert [(v.type, float(v.val)) for v in bar.dataBar.cfvo] == [("num", 0.0), ("num", 1.0)]


def test_conditional_styles_stay_right_beside_a_users_own(tmp_path: Path) -> None:
    # sheetsync numbers its fills' differential styles itself, once per colour; a leader's
    # own rules are numbered by openpyxl in the same list, and each must keep its own look
    path = tmp_path / "dashboard.xlsx"
    user_workbook(path)
    workbook = openpyxl.load_workbook(path)
    red = PatternFill(fill_type="solid", start_color="FFFF0000", end_color="FFFF0000")
    workbook["Budget"].conditional_formatting.add(
        "B2:B9", CellIsRule(operator="greaterThan", formula=["100"], fill=red))
    workbook.save(path)
    for _ in range(2):
        write_workbook(path, [dashboard(), Sheet("Flags", tables=[team_table()])], now=NOW)
    workbook = openpyxl.load_workbook(path)
    (italic,) = [r for cf in workbook["Notes"].conditional_formatting for r in cf.rules]
    assert italic.dxf.font.i and not (italic.dxf.fill and italic.dxf.fill.fill_type)
    (over,) = [r for cf in workbook["Budget"].conditional_formatting for r in cf.rules]
    assert over.dxf.fill.fgColor.rgb == "FFFF0000"
    for tab in ("Dashboard", "Flags"):
        status_rules = [r for cf in workbook[tab].conditional_formatting for r in cf.rules
                        if r.type == "cellIs" and r.operator == "equal"]
        assert status_rules, tab
        for rule in status_rules:
            assert rule.dxf.fill.fgColor.rgb.endswith(STATUS_COLOURS[rule.formula[0].strip('"')])


def test_charts_draw_from_the_table_cells(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    write_workbook(path, [dashboard(rows=5)], now=NOW)
    with zipfile.ZipFile(path) as package:
        charts = sorted(n for n in package.namelist() if n.startswith("xl/charts/chart"))
        xml = [package.read(n).decode() for n in charts]
    assert len(xml) == 2

    line, column = xml
    assert "<lineChart>" in line and line.count("<ser>") == 2
    assert "'Dashboard'!$D$3:$D$7" in line and "'Dashboard'!$E$3:$E$7" in line
    assert "<tx><strRef><f>'Dashboard'!$D$2</f>" in line, "series titles come from the header"
    assert "<cat><numRef><f>'Dashboard'!$C$3:$C$7" in line, "numeric weeks as categories"
    assert '<smooth val="0"' in line and "<a:t>Value</a:t>" in line
    assert "<barChart>" in column and column.count("<ser>") == 1
    assert '<barDir val="col"' in column and '<grouping val="stacked"' in column
    assert "<cat><strRef><f>'Dashboard'!$B$4:$B$5" in column, "data_rows picks rows 1..2"
    assert '<overlap val="100"' in column
    with zipfile.ZipFile(path) as package:
        drawing = package.read("xl/drawings/drawing1.xml").decode()
    assert 'cx="7200000" cy="3240000"' in drawing, "20 x 9 cm"

    sheet = openpyxl.load_workbook(path)["Dashboard"]
    anchors = sorted(c.anchor._from.row for c in sheet._charts)
    assert anchors == [1, 21]  # I2 and I22, zero-based rows


def test_frozen_rows_auto_filter_hidden_tabs_and_the_manifest(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    hidden = Sheet("Lookup", tables=[Table(["a"], [[1]])], hidden=True)
    write_workbook(path, [dashboard(), hidden, run_log([NOW, 3, 1.5])], now=NOW)
    workbook = openpyxl.load_workbook(path)

    assert workbook.sheetnames == ["Dashboard", "Lookup", "Run Log", MANIFEST_TAB]
    assert workbook["Dashboard"].freeze_panes == "A3"
    assert workbook["Dashboard"].auto_filter.ref == "A2:F6"
    assert workbook["Lookup"].sheet_state == "hidden"
    assert workbook[MANIFEST_TAB].sheet_state == "hidden"
    assert workbook.active.title == "Dashboard"
    manifest = {row[0]: row[1] for row in workbook[MANIFEST_TAB].iter_rows(values_only=True)
                if row[0] != "managed_tab"}
    assert manifest["sheetsync_version"] == excel_writer.__version__
    assert manifest["last_written"] == "2025-03-14T16:30:00Z"
    managed = [row[1] for row in workbook[MANIFEST_TAB].iter_rows(values_only=True)
               if row[0] == "managed_tab"]
    assert managed == ["Dashboard", "Lookup", "Run Log"]
    assert workbook.properties.modified == datetime(2025, 3, 14, 16, 30)


def test_two_writes_of_the_same_model_give_the_same_tabs(tmp_path: Path) -> None:
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    model = [dashboard(), Sheet("Flags", tables=[team_table()], auto_filter=True)]
    write_workbook(first, model, now=NOW)
    write_workbook(second, model, now=NOW)
    write_workbook(second, model, now=NOW)  # a rewrite in place, through load and save
    for tab in ("Dashboard", "Flags", MANIFEST_TAB):
        assert sheet_xml(first, tab) == sheet_xml(second, tab)
    with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
        assert a.read("docProps/core.xml") == b.read("docProps/core.xml")


# --------------------------------------------------------------------------- the user's tabs


def test_users_tabs_survive_and_managed_tabs_keep_their_place(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    user_workbook(path)
    before = {tab: cell_snapshot(path, tab) for tab in ("Notes", "Budget")}

    first = write_workbook(path, [dashboard(), Sheet("Flags", tables=[team_table()])], now=NOW)
    assert first.preserved_tabs == ("Notes", "Budget") and not first.created
    # A leader moves Dashboard between their own tabs; sheetsync keeps it there.
    workbook = openpyxl.load_workbook(path)
    workbook.move_sheet("Dashboard", offset=-1)
    workbook.save(path)
    assert workbook.sheetnames[:4] == ["Notes", "Dashboard", "Budget", "Flags"]

    model = [dashboard(rows=2), Sheet("Team Progress", tables=[team_table()]),
             Sheet("Flags", tables=[team_table(rows=1)])]
    write_workbook(path, model, now=NOW)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Notes", "Dashboard", "Team Progress", "Budget", "Flags",
                                   MANIFEST_TAB]
    assert workbook["Dashboard"].max_row == 4, "the managed tab was replaced, not merged"
    assert workbook["Notes"]["C2"].data_type == "f", "the user's own formula is still one"
    for tab, snapshot in before.items():
        assert cell_snapshot(path, tab) == snapshot


def test_a_users_tab_with_a_managed_name_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    user_workbook(path)
    workbook = openpyxl.load_workbook(path)
    workbook.create_sheet("flags")["A1"] = "my own flags"  # Excel names ignore case
    workbook.save(path)
    original = path.read_bytes()

    with pytest.raises(TargetWriteError) as refused:
        write_workbook(path, [dashboard(), Sheet("Flags", tables=[team_table()])], now=NOW)
    assert "'flags'" in refused.value.message
    assert "Rename your tab 'flags'" in refused.value.hint and "--output" in refused.value.hint
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dashboard.xlsx"]


def test_a_managed_tab_left_out_of_the_model_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    write_workbook(path, [dashboard(), Sheet("Flags", tables=[team_table()])], now=NOW)
    result = write_workbook(path, [dashboard()], now=NOW)
    assert result.managed_tabs == ("Dashboard", "Flags")
    assert openpyxl.load_workbook(path)["Flags"]["B3"].value == "Team 0"


@pytest.mark.parametrize(
    "content",
    [b"", b"not a workbook at all", b"PK\x03\x04 truncated zip"],
    ids=["empty", "text", "broken-zip"],
)
def test_an_unreadable_existing_file_is_never_clobbered(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "dashboard.xlsx"
    path.write_bytes(content)
    with pytest.raises(TargetWriteError, match="not a readable .xlsx workbook|not an .xlsx"):
        write_workbook(path, [dashboard()], now=NOW)
    assert path.read_bytes() == content


def test_a_password_protected_workbook_is_never_clobbered(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    content = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # an OLE container header
    path.write_bytes(content)
    with pytest.raises(TargetWriteError, match="password-protected"):
        write_workbook(path, [dashboard()], now=NOW)
    assert path.read_bytes() == content


def test_a_workbook_with_protected_structure_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    user_workbook(path)
    workbook = openpyxl.load_workbook(path)
    workbook.security = WorkbookProtection(lockStructure=True)
    workbook.save(path)
    original = path.read_bytes()
    with pytest.raises(TargetWriteError, match="protected workbook structure"):
        write_workbook(path, [dashboard()], now=NOW)
    assert path.read_bytes() == original


def test_a_zip_that_is_not_a_workbook_is_never_clobbered(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("notes.txt", "hello")
    original = path.read_bytes()
    with pytest.raises(TargetWriteError):
        write_workbook(path, [dashboard()], now=NOW)
    assert path.read_bytes() == original


def test_a_users_tab_with_a_chart_is_refused_rather_than_dropped(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    user_workbook(path)
    workbook = openpyxl.load_workbook(path)
    chart = UserBarChart()
    chart.add_data(UserReference(workbook["Budget"], min_col=2, min_row=1, max_row=2))
    workbook["Budget"].add_chart(chart, "D2")
    workbook.save(path)
    original = path.read_bytes()

    with pytest.raises(TargetWriteError) as refused:
        write_workbook(path, [dashboard()], now=NOW)
    assert "'Budget'" in refused.value.message and "charts" in refused.value.message
    assert "keeps values" in refused.value.hint
    assert path.read_bytes() == original


def test_a_users_tab_with_excel_extensions_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    user_workbook(path)
    # Sparklines live in the sheet's <extLst>, which openpyxl drops on load.
    rewritten = tmp_path / "with-sparklines.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(rewritten, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet2.xml":
                data = data.replace(b"</worksheet>", b"<extLst><ext uri=\"{05C60535-1F16-4fd2-"
                                    b"B633-F4F36F0B64E0}\"/></extLst></worksheet>")
            target.writestr(item, data)
    original = rewritten.read_bytes()
    with pytest.raises(TargetWriteError, match="'Budget'.*sparklines"):
        write_workbook(rewritten, [dashboard()], now=NOW)
    assert rewritten.read_bytes() == original


def test_a_users_tab_named_like_the_manifest_is_not_taken_for_one(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    user_workbook(path)
    workbook = openpyxl.load_workbook(path)
    workbook.create_sheet(MANIFEST_TAB)["A1"] = "mine"
    workbook.save(path)
    original = path.read_bytes()
    with pytest.raises(TargetWriteError, match=MANIFEST_TAB):
        write_workbook(path, [dashboard()], now=NOW)
    assert path.read_bytes() == original


# --------------------------------------------------------------------------- the Run Log


def test_the_run_log_keeps_earlier_rows(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    first = write_workbook(path, [dashboard(), run_log([datetime(2025, 3, 1, 9), 4, 1.5])],
                           now=NOW)
    write_workbook(path, [dashboard(), run_log([datetime(2025, 3, 8, 9), 5, 2.0])], now=NOW)
    third = write_workbook(path, [dashboard(), run_log([datetime(2025, 3, 15, 9), "=6", 2.5])],
                           now=NOW)

    rows = list(openpyxl.load_workbook(path)["Run Log"].iter_rows(values_only=True))
    assert rows == [
        ("Time", "Sources ok", "Duration"),
        (datetime(2025, 3, 1, 9), 4, 1.5),
        (datetime(2025, 3, 8, 9), 5, 2.0),
        (datetime(2025, 3, 15, 9), "=6", 2.5),
    ]
    assert (first.rows_appended, third.rows_appended) == (1, 1)
    assert formula_count(path) == 0


def test_the_run_log_keeps_earlier_rows_when_its_columns_change(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    write_workbook(path, [run_log([date(2025, 3, 1), 4, "_x0041_ text"],
                                  columns=["Date", "Sources ok", "Note"])], now=NOW)
    write_workbook(path, [run_log([date(2025, 3, 8), 2, 5],
                                  columns=["Date", "Sources failed", "Sources ok"])], now=NOW)
    rows = list(openpyxl.load_workbook(path)["Run Log"].iter_rows(values_only=True))
    assert rows[1:] == [(datetime(2025, 3, 1), None, 4), (datetime(2025, 3, 8), 2, 5)]
    sheet = openpyxl.load_workbook(path)["Run Log"]
    assert sheet["A2"].number_format == "yyyy-mm-dd", "earlier dates stay dates"


def test_the_run_log_keeps_rows_by_position_when_no_header_matches(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    write_workbook(path, [run_log(["old", 1], columns=["When", "Count"])], now=NOW)
    write_workbook(path, [run_log(["new", 2], columns=["Time", "Sources ok"])], now=NOW)
    rows = list(openpyxl.load_workbook(path)["Run Log"].iter_rows(values_only=True))
    assert rows == [("Time", "Sources ok"), ("old", 1), ("new", 2)]


# --------------------------------------------------------------------------- safe writes


def test_a_failure_mid_write_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "dashboard.xlsx"
    write_workbook(path, [dashboard()], now=NOW)
    original = path.read_bytes()
    real_write_worksheets = ExcelWriter.write_worksheet

    def disk_full(self: ExcelWriter, ws: Any) -> None:
        real_write_worksheets(self, ws)  # part of the new file is already on disk
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ExcelWriter, "write_worksheet", disk_full)
    with pytest.raises(TargetWriteError, match="No space left") as refused:
        write_workbook(path, [dashboard(rows=9)], now=NOW)
    assert refused.value.transient
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["dashboard.xlsx"]


def test_an_unexpected_error_mid_write_also_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "dashboard.xlsx"

    def broken(self: ExcelWriter) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(ExcelWriter, "write_data", broken)
    with pytest.raises(RuntimeError):
        write_workbook(path, [dashboard()], now=NOW)
    assert list(tmp_path.iterdir()) == []


def test_a_file_changed_by_someone_else_meanwhile_is_not_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "dashboard.xlsx"
    user_workbook(path)
    real_save = ExcelWriter.save

    def someone_saves_meanwhile(self: ExcelWriter) -> None:
        real_save(self)
        with path.open("ab") as handle:  # another program writes the workbook
            handle.write(b"\0")

    monkeypatch.setattr(ExcelWriter, "save", someone_saves_meanwhile)
    changed = None
    with pytest.raises(TargetWriteError, match="changed while"):
        changed = path.read_bytes()
        write_workbook(path, [dashboard()], now=NOW)
    assert changed is not None and path.read_bytes() == changed + b"\0"
    assert [p.name for p in tmp_path.iterdir()] == ["dashboard.xlsx"]


def test_a_read_only_target_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    write_workbook(path, [dashboard()], now=NOW)
    original = path.read_bytes()
    path.chmod(stat.S_IRUSR | stat.S_IRGRP)
    try:
        with pytest.raises(TargetWriteError, match="read-only") as refused:
            write_workbook(path, [dashboard(rows=2)], now=NOW)
        assert refused.value.transient
        assert path.read_bytes() == original
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)


@pytest.mark.parametrize("lock_name", ["~$dashboard.xlsx", ".~lock.dashboard.xlsx#"])
def test_a_workbook_open_in_a_spreadsheet_program_is_refused(tmp_path: Path,
                                                             lock_name: str) -> None:
    path = tmp_path / "dashboard.xlsx"
    write_workbook(path, [dashboard()], now=NOW)
    original = path.read_bytes()
    (tmp_path / lock_name).write_text("owner")
    with pytest.raises(TargetWriteError, match="open in a spreadsheet program") as refused:
        write_workbook(path, [dashboard(rows=2)], now=NOW)
    assert lock_name in refused.value.hint
    assert path.read_bytes() == original


def test_the_file_keeps_its_permissions_and_a_symlink_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "shared" / "dashboard.xlsx"
    result = write_workbook(real, [dashboard()], now=NOW)
    assert result.created and real.exists(), "the output folder is created"
    real.chmod(0o640)
    link = tmp_path / "link.xlsx"
    link.symlink_to(real)
    write_workbook(link, [dashboard(rows=2)], now=NOW)
    assert link.is_symlink()
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert openpyxl.load_workbook(real)["Dashboard"].max_row == 4


def test_only_xlsx_outputs_are_written(tmp_path: Path) -> None:
    with pytest.raises(TargetWriteError, match=r"\.xlsx"):
        write_workbook(tmp_path / "dashboard.xlsm", [dashboard()], now=NOW)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "sheets",
    [
        [Sheet("A/B")],
        [Sheet("x" * 32)],
        [Sheet("Flags"), Sheet("FLAGS")],
        [Sheet(MANIFEST_TAB)],
        [Sheet("Only", hidden=True)],
        [Sheet("Chart", tables=[t := Table(["a"], [[1]])],
               charts=[Chart("bar", "c", t, "a", ["missing"], "C1")])],
    ],
    ids=["bad-char", "too-long", "duplicate", "reserved", "nothing-visible", "chart-column"],
)
def test_a_model_that_cannot_be_a_workbook_is_a_programming_error(
    tmp_path: Path, sheets: list[Sheet]
) -> None:
    with pytest.raises(ValueError):
        write_workbook(tmp_path / "dashboard.xlsx", sheets, now=NOW)
    assert not (tmp_path / "dashboard.xlsx").exists()


def test_write_result_reports_what_happened(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    result = write_workbook(path, [dashboard(rows=3), run_log([NOW, 1, 0.5])])
    assert result.path == path and result.created
    assert result.managed_tabs == ("Dashboard", "Run Log")
    assert result.rows_written == 4 and result.rows_appended == 1
    assert result.seconds > 0 and not math.isnan(result.seconds)
    assert os.listdir(tmp_path) == ["dashboard.xlsx"]
