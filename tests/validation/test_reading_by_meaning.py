"""Reading sheets by meaning: header words, cell content, time and goals as people type them,
rows that are not data, and activities in a district's own words."""

from __future__ import annotations

from datetime import date

import pytest

from sheetsync.backends.base import RawTab, RawWorkbook
from sheetsync.schema import default_activities, load_schema
from sheetsync.validation import ValidationContext, build_frames, cells, validate_workbook
from sheetsync.validation.cells import CellProblem
from sheetsync.validation.layout import find_header, infer_kind, vocabulary

CTX = ValidationContext(as_of=date(2026, 11, 4))
TIME_LOG = load_schema("coach").tab("Time Log")


@pytest.mark.parametrize("header, key", [
    ("Date of Session", "date"), ("Session Date", "date"), ("Date of coaching", "date"),
    ("Duration (min)", "minutes"), ("Time (minutes)", "minutes"), ("Minutes Spent", "minutes"),
    ("How many minutes?", "minutes"), ("Type of Support", "activity"),
    ("Coaching Activity", "activity"), ("Type of support provided", "activity"),
    ("Teacher(s) Supported", "teachers"), ("Staff Member", "teachers"), ("Hrs", "hours"),
    ("Hours spent", "hours"), ("Coach Name", "coach"), ("Work / Task", "activity"),
])
def test_headers_map_by_their_words(header, key):
    assert vocabulary(TIME_LOG).candidates(header)[0][0] == key


@pytest.mark.parametrize("header", ["Timestamp", "Grant Source", "Notes: minutes are rounded "
                                    "to the nearest 15 and sub days are logged in full"])
def test_headers_that_name_nothing(header):
    assert vocabulary(TIME_LOG).candidates(header) == ()


@pytest.mark.parametrize("raw, minutes", [
    ("1:30", 90), ("1h 30m", 90), ("90 min", 90), ("1.5 hrs", 90), ("45m", 45), ("1 hr", 60),
    ("1 hour 15 minutes", 75), ("0:45:00", 45), ("9:00-9:45", 45),
    ("8:15 AM \u2013 9:00 AM", 45), ("12:30-1:15", 45), ("11:30 am to 12:15 pm", 45), (45, 45),
])
def test_durations_as_people_type_them(raw, minutes):
    assert cells.parse_duration_minutes(raw) == minutes


def test_a_range_that_ends_before_it_starts_is_a_finding():
    with pytest.raises(CellProblem) as problem:
        cells.parse_duration_minutes("9:00 PM - 8:00 PM")
    assert problem.value.code == "inconsistent-value"


@pytest.mark.parametrize("raw, end, value", [
    ("55.9% (90/161)", False, 90 / 161), ("at least 70%", True, 0.70), ("\u2265 70%", True, 0.7),
    ("70 \u2192 80", True, 0.80), ("70 \u2192 80", False, 0.70), ("from 40% to 60%", False, 0.4),
    ("40 -> 60%", True, 0.6),
])
def test_goal_values_as_people_write_them(raw, end, value):
    assert cells.parse_goal_value(raw, "percent", end) == pytest.approx(value)


@pytest.mark.parametrize("raw, code", [("about 70", "bad-percent"),
                                       ("60% (90/161)", "inconsistent-value")])
def test_vague_or_disagreeing_goal_values_are_findings(raw, code):
    with pytest.raises(CellProblem) as problem:
        cells.parse_goal_value(raw, "percent", True)
    assert problem.value.code == code


def test_the_goal_sentence_states_the_pair():
    assert cells.goal_pair("will increase from 40% to 60% by November 13") == ("40%", "60%")
    assert cells.goal_pair("at least 70% (113/161). Currently, the share is at 55.9% "
                           "(90/161).") == ("55.9%", "70%")
    assert cells.goal_pair("Raise reading scores") is None


@pytest.mark.parametrize("text, activity", [
    ("Coaching cycle - observe", "Observation"), ("Co-plan", "Co-planning"),
    ("Sub coverage", "Substitute coverage"), ("Covering a class", "Substitute coverage"),
    ("Testing/assessment admin", "Assessment administration/scoring"),
    ("Data meeting", "Data conversation"), ("Walkthrough w/ principal", "Observation"),
    ("Yearbook committee", None),
])
def test_activities_in_a_districts_words(text, activity):
    found = default_activities().matcher().match(text)
    assert (found.name if found else None) == activity


def _coach(log: list[list]) -> RawWorkbook:
    return RawWorkbook("coach.xlsx", {
        "About": RawTab("About", [["Coach", "A. Rivera"]]),
        "Relationships": RawTab("Relationships", [["Teacher"], ["Ms. Ada"]]),
        "Time Log": RawTab("Time Log", log)})


def _run(raw: RawWorkbook, kind: str = "coach"):
    result = validate_workbook(raw, load_schema(kind), source="x", ctx=CTX)  # type: ignore
    groups = {a.name: (a.group, a.outside_role) for a in default_activities().activities}
    return result, build_frames([result.records], groups)


def test_an_odd_header_is_found_by_its_cells_and_the_pin_is_given():
    log = [["When", "Amount", "Activity"], ["9/8/2026", 45, "Co-planning"],
           ["9/9/2026", 30, "Modeling"], ["9/10/2026", 60, "Lunch duty"]]
    result, frames = _run(_coach(log))
    assert frames["time_log"]["minutes"].tolist() == [45, 30, 60]
    guessed = {f.cell: f for f in result.findings if f.code == "column-guessed"}
    assert set(guessed) == {"B1"}  # "When" is a date word; "Amount" is found by its cells
    assert guessed["B1"].severity.value == "info"
    assert '[aliases.columns] minutes = ["Amount"]' in guessed["B1"].hint


def test_unknown_activity_is_reported_once_per_text_with_the_lines_to_add():
    log = [["Date", "Minutes", "Activity"], *[[f"9/{d}/2026", 30, "Yearbook committee"]
                                              for d in range(8, 12)],
           ["9/12/2026", 30, "Co-planning"]]
    result, frames = _run(_coach(log))
    found = [f for f in result.findings if f.code == "unknown-activity"]
    assert len(found) == 1 and found[0].cell == "C2"
    assert "4 times" in found[0].message
    assert '[[activities.activity]]\nname = "Yearbook committee"' in found[0].hint
    assert frames["time_log"]["activity_group"].tolist() == ["Unknown"] * 4 + [
        "Coaching with teachers"]


def test_ratings_in_words_and_check_marks():
    raw = _coach([["Date", "Minutes", "Activity"], ["9/8/2026", 30, "Co-planning"]])
    raw.tabs["Relationships"] = RawTab("Relationships", [
        ["Teacher", "Knows Face", "Delight", "Engagement"],
        ["A", "\u2714", "High", "Low"], ["B", "\u2611\ufe0f", "Med", "medium"], ["C", True, 3, 1]])
    result, frames = _run(raw)
    rel = frames["relationships"]
    assert rel["knows_face"].tolist() == [True, True, True]
    assert rel["delight"].tolist() == [3, 2, 3] and rel["engagement"].tolist() == [1, 2, 1]


def test_a_shared_log_is_told_apart_and_split_by_coach():
    log = [["Timestamp", "Coach Name", "Date of coaching", "How many minutes?",
            "Type of support provided"],
           ["2026-09-08 15:00", "Coach Finch", "9/8/2026", 45, "Co-planning"],
           ["2026-09-08 16:00", "coach  finch", "9/8/2026", 15, "Email"],
           ["2026-09-09 15:00", "Coach Wren", "9/9/2026", 30, "Modeling"]]
    raw = RawWorkbook("log.xlsx", {"Form Responses 1": RawTab("Form Responses 1", log)})
    assert infer_kind(raw) == "shared_log"
    result, frames = _run(raw, "shared_log")
    coaches = frames["coaches"].set_index("source")["coach"].to_dict()
    assert coaches == {"x: Coach Finch": "Coach Finch", "x: Coach Wren": "Coach Wren"}
    minutes = frames["time_log"].groupby("source")["minutes"].sum().to_dict()
    assert minutes == {"x: Coach Finch": 60, "x: Coach Wren": 30}
    # the submission time is not the coaching date
    header = find_header(raw.tabs["Form Responses 1"], load_schema("shared_log").tabs[0])
    assert header.columns["date"] == 2


def test_a_coach_workbook_is_not_a_shared_log():
    raw = _coach([["Date", "Coach", "Minutes", "Activity"], ["9/8/2026", "A", 30, "Modeling"]])
    assert infer_kind(raw) == "coach"
