"""The messy values people really type, and what sheetsync makes of them."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sheetsync.validation import cells
from sheetsync.validation.cells import CellProblem

REF = date(2026, 10, 15)  # the program's reference date: years are inferred around it


@pytest.mark.parametrize("raw, expected", [
    (date(2026, 9, 8), date(2026, 9, 8)),
    (datetime(2026, 9, 8, 14, 30), date(2026, 9, 8)),
    (46273, date(2026, 9, 8)),  # Excel/Sheets serial
    (46273.0, date(2026, 9, 8)),
    (46273.6, date(2026, 9, 8)),  # a serial with a time of day
    ("46273", date(2026, 9, 8)),
    ("2026-09-08", date(2026, 9, 8)),
    ("2026/9/8", date(2026, 9, 8)),
    ("2026-09-08 00:00:00", date(2026, 9, 8)),
    ("2026-09-08T10:15", date(2026, 9, 8)),
    ("9/8/2026", date(2026, 9, 8)),
    ("09/08/2026", date(2026, 9, 8)),
    ("9/8/26", date(2026, 9, 8)),
    ("9-8-2026", date(2026, 9, 8)),
    ("9/8", date(2026, 9, 8)),
    ("Sept 8", date(2026, 9, 8)),
    ("Sep 8", date(2026, 9, 8)),
    ("sept. 8", date(2026, 9, 8)),
    ("September 8th", date(2026, 9, 8)),
    ("September 8, 2026", date(2026, 9, 8)),
    ("8 Sept", date(2026, 9, 8)),
    ("8th September 2026", date(2026, 9, 8)),
    ("Tue 9/8", date(2026, 9, 8)),
    ("Tuesday, September 8, 2026", date(2026, 9, 8)),
    ("  9/8  ", date(2026, 9, 8)),
    ("1/12", date(2027, 1, 12)),  # nearest to the program's dates: next January
    ("3/2", date(2027, 3, 2)),  # March of this school year
    ("7/2", date(2026, 7, 2)),  # ...but last July
    (20260908, date(2026, 9, 8)),
])
def test_dates_people_type(raw, expected):
    assert cells.parse_date(raw, REF) == expected


@pytest.mark.parametrize("raw", [None, "", "  ", "N/A", "n/a", "NA", "-", "--", "\u2014",
                                 float("nan")])
def test_missing_dates_are_none(raw):
    assert cells.parse_date(raw, REF) is None


@pytest.mark.parametrize("raw", ["Sept 31", "2/30/2026", "13/13/2026", "tomorrow", "Septembre",
                                 "2026-13-01", -5, 0, 3_000_000, True, "9/8/2026/1"])
def test_bad_dates_are_findings(raw):
    with pytest.raises(CellProblem) as info:
        cells.parse_date(raw, REF)
    assert info.value.code == "bad-date"
    assert "2026-09-08" in info.value.hint


@pytest.mark.parametrize("raw, expected", [
    ("85%", 0.85), ("85 %", 0.85), (" 85% ", 0.85), ("85.5%", 0.855), (0.85, 0.85), (85, 0.85),
    ("85", 0.85), ("0.85", 0.85), ("32/47", 32 / 47), ("32 of 47", 32 / 47),
    ("32 out of 47", 32 / 47), (1, 1.0), ("100%", 1.0), ("0%", 0.0), (0, 0.0),
])
def test_percentages(raw, expected):
    assert cells.parse_percent(raw) == pytest.approx(expected)


@pytest.mark.parametrize("raw", ["lots", "85%%", "32/0", "abc%", True])
def test_bad_percentages(raw):
    with pytest.raises(CellProblem) as info:
        cells.parse_percent(raw)
    assert info.value.code in {"bad-percent", "bad-number"}


@pytest.mark.parametrize("raw, unit, expected", [
    ("32 of 47", "count", 32.0), ("32/47", "count", 32.0), (35, "count", 35.0),
    ("1,234", "count", 1234.0), ("72%", "percent", 0.72), (72, "percent", 0.72),
    ("32 of 47", "percent", 32 / 47), ("3.5", "score", 3.5),
])
def test_metric_follows_the_goal_unit(raw, unit, expected):
    assert cells.parse_metric(raw, unit) == pytest.approx(expected)


def test_a_percentage_in_a_count_goal_is_a_finding():
    with pytest.raises(CellProblem) as info:
        cells.parse_metric("85%", "count")
    assert "Unit" in info.value.hint


@pytest.mark.parametrize("raw, expected", [
    (45, 45.0), ("45", 45.0), ("1,234.5", 1234.5), ("45 min", 45.0), ("45mins", 45.0),
    ("(3)", -3.0), ("$12", 12.0), (" 7 ", 7.0), ("-2", -2.0), ("1e3", 1000.0),
])
def test_numbers(raw, expected):
    assert cells.parse_number(raw) == expected


@pytest.mark.parametrize("raw", ["forty", "4 5", "12abc", True, float("inf"), "1,23"])
def test_bad_numbers(raw):
    with pytest.raises(CellProblem) as info:
        cells.parse_number(raw)
    assert info.value.code == "bad-number"


@pytest.mark.parametrize("raw, expected", [
    (45, 45.0), ("1:30", 90), ("1.5 hrs", 90.0), ("2h", 120.0), (timedelta(minutes=50), 50.0),
    (time(0, 45), 45),
])
def test_durations_in_minutes(raw, expected):
    assert cells.parse_duration_minutes(raw) == expected


@pytest.mark.parametrize("raw, expected", [(3, 3), (3.0, 3), ("3", 3), ("Week 3", 3),
                                           ("wk 3", 3), ("W3", 3), ("#3", 3)])
def test_whole_numbers(raw, expected):
    assert cells.parse_int(raw) == expected


def test_fractional_whole_number_is_a_finding():
    with pytest.raises(CellProblem, match="whole number"):
        cells.parse_int(2.5)


@pytest.mark.parametrize("raw", ["yes", "Yes", "Y", "y", "x", "X", "\u2713", "\u2714", "TRUE",
                                 True, 1, "true", "Checked"])
def test_yes(raw):
    assert cells.parse_yesno(raw) is True


@pytest.mark.parametrize("raw", ["no", "No", "N", "n", "FALSE", False, 0, "\u2717", "Not yet"])
def test_no(raw):
    assert cells.parse_yesno(raw) is False


@pytest.mark.parametrize("raw", [None, "", "N/A", "-", "n/a"])
def test_yes_no_missing(raw):
    assert cells.parse_yesno(raw) is None


@pytest.mark.parametrize("raw", ["maybe", "sometimes", 2, "yess"])
def test_bad_yes_no(raw):
    with pytest.raises(CellProblem) as info:
        cells.parse_yesno(raw)
    assert info.value.code == "bad-yes-no"


@pytest.mark.parametrize("raw", sorted(cells.FORMULA_ERRORS))
def test_formula_errors_are_named(raw):
    for parse in (cells.parse_number, cells.parse_text, lambda r: cells.parse_date(r, REF),
                  cells.parse_yesno, cells.parse_time):
        with pytest.raises(CellProblem) as info:
            parse(raw)
        assert info.value.code == "formula-error"
        assert raw in info.value.message


@pytest.mark.parametrize("raw, expected", [
    (time(8, 30), time(8, 30)), (0.375, time(9, 0)), ("8:30", time(8, 30)),
    ("8:30 AM", time(8, 30)), ("2:15 pm", time(14, 15)), ("830am", time(8, 30)),
    ("2pm", time(14, 0)), ("12am", time(0, 0)), ("12:05 PM", time(12, 5)), ("14:15", time(14, 15)),
    ("noon", time(12, 0)), (46273.5, time(12, 0)),
])
def test_times(raw, expected):
    assert cells.parse_time(raw) == expected


@pytest.mark.parametrize("raw", ["25:00", "8:75", "soon", "1234567"])
def test_bad_times(raw):
    with pytest.raises(CellProblem) as info:
        cells.parse_time(raw)
    assert info.value.code == "bad-time"


def test_choices_ignore_case_punctuation_and_use_aliases():
    choices = ("Not started", "In progress", "Done")
    assert cells.parse_choice("in-progress", choices) == "In progress"
    assert cells.parse_choice("DONE ", choices) == "Done"
    assert cells.parse_choice("complete", choices, {"complete": "Done"}) == "Done"
    with pytest.raises(CellProblem) as info:
        cells.parse_choice("blocked", choices)
    assert info.value.code == "bad-choice" and "Not started" in info.value.message


def test_text_keeps_numbers_readable_and_caps_length():
    assert cells.parse_text(204.0) == "204"
    assert cells.parse_text("  Room 12 ") == "Room 12"
    assert len(cells.parse_text("x" * 40_000)) == cells.MAX_CELL_CHARS


# -- nothing a cell can hold makes a parser raise anything but a finding ----------------------

cell_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(), st.dates(), st.datetimes(), st.times(),
    st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=2)),
    st.sampled_from(["85%", "32 of 47", "N/A", "#DIV/0!", "Sept 31", "9/8", "\u2713", "1:30"]),
)

PARSERS = [cells.parse_text, cells.parse_number, cells.parse_int, cells.parse_percent,
           cells.parse_yesno, cells.parse_time, cells.parse_duration_minutes,
           lambda r: cells.parse_date(r, REF), lambda r: cells.parse_metric(r, "count"),
           lambda r: cells.parse_metric(r, "percent"),
           lambda r: cells.parse_choice(r, ("Plan", "Act"))]


@given(cell_values)
def test_no_cell_value_makes_a_parser_raise(raw):
    for parse in PARSERS:
        try:
            value = parse(raw)
        except CellProblem as problem:
            assert problem.code and problem.message
        else:
            if isinstance(value, float):
                assert not math.isinf(value)
