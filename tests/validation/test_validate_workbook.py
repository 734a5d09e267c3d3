"""Validation of whole workbooks: header finding, aliases, layouts and cell-addressed findings."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pytest

from sheetsync.backends.base import RawTab, RawWorkbook
from sheetsync.backends.excel.reader import read_excel
from sheetsync.schema import load_schema, with_overrides
from sheetsync.validation import ValidationContext, build_frames, validate_workbook

CTX = ValidationContext(as_of=date(2026, 11, 4))
GOAL = [("School", "Lincoln Elementary"), ("Team", "Grade 3"), ("SMART Goal", "Read more"),
        ("Metric", "% proficient"), ("Unit", "percent"), ("Baseline", "70%"), ("Target", "80%"),
        ("Start Date", "2026-09-07")]


def team(weekly: list[list], goal=GOAL, extra_tabs: dict[str, list[list]] | None = None
         ) -> RawWorkbook:
    tabs = {"Goal": RawTab("Goal", [list(r) for r in goal]),
            "Weekly Progress": RawTab("Weekly Progress", weekly)}
    for name, rows in (extra_tabs or {}).items():
        tabs[name] = RawTab(name, rows)
    return RawWorkbook(location="team.xlsx", tabs=tabs)


def run_team(raw: RawWorkbook, schema=None):
    result = validate_workbook(raw, schema or load_schema("team"), source="Lincoln G3", ctx=CTX)
    return result, build_frames([result.records])


def codes_at(result) -> set[tuple[str, str, str]]:
    return {(f.code, f.tab, f.cell) for f in result.findings}


def test_header_below_title_rows_with_aliases_and_blank_rows():
    weekly = [["Lincoln Elementary: Grade 3 breakthrough team"], ["Type one row per week"], [],
              ["Wk", "Date", "Result", "Students Meeting", "Out Of"],
              [1, "9/7", "71%"], [], [2, 46279, "32 of 47"], [3, "Sept 21", None, 34, 47],
              [None, None, None]]
    result, frames = run_team(team(weekly))
    weeks = frames["weekly"]
    assert list(weeks["week"]) == [1, 2, 3]
    assert weeks["value"].tolist() == pytest.approx([0.71, 32 / 47, 34 / 47])
    assert list(weeks["row"]) == [5, 7, 8]  # sheet rows, for cell addresses
    assert weeks.loc[1, "numerator"] == 32 and weeks.loc[1, "denominator"] == 47
    assert weeks.loc[1, "week_of"] == datetime(2026, 9, 14)
    assert not [f for f in result.findings if f.severity.value == "error"]


def test_goal_direction_and_end_date_are_derived():
    goal = [*GOAL[:5], ("Baseline", 12), ("Target", 8), ("Start Date", "9/7/2026")]
    goal[4] = ("Unit", "count")
    result, frames = run_team(team([["Week", "Value"], [1, 11]], goal=goal))
    g = frames["goals"].iloc[0]
    assert g["direction"] == "decrease"
    assert g["end_date"] == datetime(2026, 11, 16)
    assert g["weeks"] == 10


@pytest.mark.parametrize("row, code, cell", [
    ([2, "Sept 31", "70%"], "bad-date", "B3"),
    ([2, None, "#DIV/0!"], "formula-error", "C3"),
    ([2, None, "lots"], "bad-percent", "C3"),
    ([2, None, "120%"], "out-of-range", "C3"),
    (["two", None, "70%"], "bad-number", "A3"),
    ([60, None, "70%"], "out-of-range", "A3"),
    ([2, "2026-12-25", "70%"], "future-date", "B3"),
])
def test_bad_cells_are_findings_at_their_cell(row, code, cell):
    weekly = [["Week", "Week Of", "Value"], [1, "9/7", "70%"], row]
    result, frames = run_team(team(weekly))
    found = [f for f in result.findings if f.code == code]
    assert found, result.findings
    assert found[0].tab == "Weekly Progress" and found[0].cell == cell
    assert found[0].message and found[0].hint
    assert 1 in set(frames["weekly"]["week"])  # the good row is kept


def test_duplicate_week_keeps_the_first():
    weekly = [["Week", "Value"], [1, "70%"], [2, "72%"], [2, "99%"]]
    result, frames = run_team(team(weekly))
    assert ("duplicate-week", "Weekly Progress", "A4") in codes_at(result)
    assert frames["weekly"].set_index("week").loc[2, "value"] == pytest.approx(0.72)


def test_unknown_columns_are_info_and_kept():
    weekly = [["Week", "Value", "Color Code"], [1, "70%", "red"]]
    result, frames = run_team(team(weekly))
    info = [f for f in result.findings if f.code == "unknown-column"]
    assert info and info[0].severity.value == "info" and info[0].cell == "C1"
    assert not any(f.severity.value == "error" for f in result.findings)


def test_missing_tab_and_missing_column():
    raw = RawWorkbook("t.xlsx", {"Goal": RawTab("Goal", [list(r) for r in GOAL]),
                                 "Weekly Progress": RawTab("Weekly Progress",
                                                           [["Value", "Week Of"], ["70%", "9/7"]])})
    result, _ = run_team(raw)
    assert any(f.code == "missing-column" and "Week" in f.message for f in result.findings)
    raw2 = RawWorkbook("t.xlsx", {"Goal": RawTab("Goal", [list(r) for r in GOAL])})
    result2, _ = run_team(raw2)
    assert any(f.code == "missing-tab" and "Weekly Progress" in f.message
               for f in result2.findings)


def test_config_tab_renames_and_column_aliases():
    schema = with_overrides(load_schema("team"), {"Weekly Progress": "Scores"},
                            {"value": ["Pct Proficient"]})
    raw = team([])
    raw.tabs = {"Goal": raw.tabs["Goal"],
                "Scores": RawTab("Scores", [["Week", "Pct Proficient"], [1, "70%"]])}
    result, frames = run_team(raw, schema)
    assert frames["weekly"]["value"].tolist() == [pytest.approx(0.70)]


def coach_workbook(time_tabs: dict[str, list[list]]) -> RawWorkbook:
    tabs = {"About": RawTab("About", [["Coach", "A. Rivera"]]),
            "Relationships": RawTab("Relationships", [["Teacher", "Knows Face"],
                                                      ["Ms. Ada", "Y"], ["Mr. Bo", "\u2713"]])}
    for name, rows in time_tabs.items():
        tabs[name] = RawTab(name, rows)
    return RawWorkbook("coach.xlsx", tabs)


def test_time_log_minutes_from_hours_units_or_times_and_per_month_tabs():
    sept = [["Date", "Mins", "Activity"], ["9/8", 45, "co-planning"],
            ["9/9", "1:30", "Modelling"]]
    octo = [["Coach time - October"], ["Date", "Start", "End", "Activity Type"],
            ["10/5", "8:00", "9:15 AM", "sub coverage"]]
    raw = coach_workbook({"Time Log Sept": sept, "Time Log - Oct": octo})
    result = validate_workbook(raw, load_schema("coach"), source="Rivera", ctx=CTX)
    frames = build_frames([result.records], {"Co-planning": ("Coaching with teachers", False),
                                             "Modeling": ("Coaching with teachers", False),
                                             "Substitute coverage": ("Other duties", True)})
    log = frames["time_log"]
    assert log["minutes"].tolist() == [45, 90, 75]
    assert log["activity"].tolist() == ["Co-planning", "Modeling", "Substitute coverage"]
    assert log["outside_role"].tolist() == [False, False, True]
    assert set(log["coach"]) == {"A. Rivera"}
    assert frames["relationships"]["knows_face"].tolist() == [True, True]


def test_negative_minutes_and_unknown_activity():
    log = [["Date", "Minutes", "Activity"], ["9/8", -30, "Co-planning"],
           ["9/9", 30, "Snack prep???"], ["9/10", 2000, "Modeling"]]
    result = validate_workbook(coach_workbook({"Time Log": log}), load_schema("coach"),
                               source="Rivera", ctx=CTX)
    got = codes_at(result)
    assert ("out-of-range", "Time Log", "B2") in got
    assert ("unknown-activity", "Time Log", "C3") in got
    assert ("out-of-range", "Time Log", "B4") in got
    assert not any(code == "missing-required" for code, _, _ in got)  # one finding per problem
    unknown = [f for f in result.findings if f.code == "unknown-activity"][0]
    assert unknown.severity.value == "warning"


def test_real_xlsx_with_a_formula_error_and_merged_title(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Goal"
    for label, value in GOAL:
        ws.append([label, value])
    wp = wb.create_sheet("Weekly Progress")
    wp["A1"] = "Grade 3 data"
    wp.merge_cells("A1:D1")
    wp.append(["Week", "Value", "Numerator", "Denominator"])
    wp.append([1, "70%"])
    wp.append([2, None, 10, 0])
    wp["B3"] = "=C3/D3"
    path = tmp_path / "t.xlsx"
    wb.save(path)
    # openpyxl writes no cached values; put one in like Excel would, to mimic a saved error
    import zipfile
    src = zipfile.ZipFile(path)
    out = tmp_path / "t2.xlsx"
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                data = data.replace(b'<c r="B3"><f>C3/D3</f><v /></c>',
                                    b'<c r="B3" t="e"><f>C3/D3</f><v>#DIV/0!</v></c>')
            dst.writestr(item, data)
    raw = read_excel(out)
    result, frames = run_team(raw)
    assert ("formula-error", "Weekly Progress", "B3") in codes_at(result)
    assert frames["weekly"]["week"].tolist() == [1, 2]


def test_a_blank_unit_is_inferred_from_how_the_values_are_typed():
    goal = [row for row in GOAL if row[0] != "Unit"]
    result, frames = run_team(team([["Week", "Value"], [1, "72%"]], goal=goal))
    assert frames["goals"].loc[0, "unit"] == "percent"
    assert frames["goals"].loc[0, "baseline"] == pytest.approx(0.70)
    assert frames["weekly"]["value"].tolist() == [pytest.approx(0.72)]
    # Unit is required, so its absence is reported; the values are still read as meant
    assert [(f.code, f.message) for f in result.findings if f.tab == "Goal"] == [
        ("missing-required", "The Unit label is missing.")]
