"""Team progress rules, checked against figures worked out by hand.

Every team here runs a 10-week challenge starting Monday 2026-09-07, so week n ends on
2026-09-07 + 7n days and the latest completed week on an as-of date d is
floor((d - 2026-09-07).days / 7).
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from sheetsync.analytics.teams import (
    MOVER_COLUMNS,
    SUPPORT_COLUMNS,
    TEAM_COLUMNS,
    WEEK_COLUMNS,
    team_progress,
)
from sheetsync.analytics.thresholds import DEFAULT_THRESHOLDS, Thresholds
from sheetsync.findings import CODES, Severity

START = date(2026, 9, 7)


def week_ended(n: int, extra_days: int = 0) -> date:
    """The as-of date on which week ``n`` has just been completed."""
    return START + timedelta(days=7 * n + extra_days)


def goal(source: str = "team-a", *, baseline: float = 0.70, target: float = 0.80,
         direction: str = "increase", unit: str = "percent", weeks: int = 10,
         school: str = "Lincoln", team: str | None = None) -> dict:
    return {"source": source, "school": school, "team": team or source.title(),
            "team_lead": "Lead", "coach": "M. Sumter", "focus_area": "Literacy",
            "members": "6", "smart_goal": "Raise it", "metric": "% proficient", "unit": unit,
            "baseline": baseline, "target": target, "direction": direction,
            "start_date": START, "end_date": START + timedelta(weeks=weeks), "weeks": weeks}


def goals_frame(*goals: dict) -> pd.DataFrame:
    frame = pd.DataFrame(list(goals))
    frame["start_date"] = pd.to_datetime(frame["start_date"]).astype("datetime64[ns]")
    frame["end_date"] = pd.to_datetime(frame["end_date"]).astype("datetime64[ns]")
    frame["weeks"] = frame["weeks"].astype("Int64")
    return frame.astype({c: object for c in ("source", "school", "team", "coach", "unit",
                                             "direction", "metric")})


def weekly_frame(source: str, values: dict[int, float | None], tried: str = "",
                 first_row: int = 2) -> pd.DataFrame:
    """Weekly Progress rows: week n sits on sheet row first_row + n - 1."""
    weeks = sorted(values)
    return pd.DataFrame({
        "source": pd.Series([source] * len(weeks), dtype=object),
        "row": pd.array([first_row + w - 1 for w in weeks], dtype="Int64"),
        "week": pd.array(weeks, dtype="Int64"),
        "week_of": pd.Series([pd.Timestamp(START + timedelta(weeks=w - 1)) for w in weeks],
                             dtype="datetime64[ns]"),
        "value": pd.Series([values[w] for w in weeks], dtype="float64"),
        "numerator": pd.Series([None] * len(weeks), dtype="float64"),
        "denominator": pd.Series([None] * len(weeks), dtype="float64"),
        "what_we_tried": pd.Series([f"{tried} (week {w})" if tried else None for w in weeks],
                                   dtype=object),
        "what_we_learned": pd.Series([None] * len(weeks), dtype=object),
        "next_steps": pd.Series([None] * len(weeks), dtype=object),
    })


def weekly_frames(*frames: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)


def one_team(values: dict[int, float | None], as_of: date, th: Thresholds = DEFAULT_THRESHOLDS,
             **goal_args):
    result = team_progress(goals_frame(goal(**goal_args)), weekly_frame("team-a", values),
                           None, as_of, th)
    return result, result.teams.iloc[0]


# Isolates the four-point rule from the projection rule.
NO_PROJECTION_RULE = Thresholds(projection_margin=100.0)


def test_aimline_runs_from_baseline_to_target_for_both_directions():
    # Increase 70% -> 80% over 10 weeks: aimline(w) = 0.70 + 0.01 w.
    up, _ = one_team({1: 0.71}, week_ended(1))
    aim = up.weeks.set_index("week")["aimline"]
    assert aim[0] == pytest.approx(0.70)
    assert aim[5] == pytest.approx(0.75)
    assert aim[10] == pytest.approx(0.80)
    # Decrease 40 -> 28 incidents: aimline(w) = 40 - 1.2 w.
    down, _ = one_team({1: 39}, week_ended(1), baseline=40, target=28, direction="decrease",
                       unit="count")
    aim = down.weeks.set_index("week")["aimline"]
    assert aim[0] == pytest.approx(40)
    assert aim[5] == pytest.approx(34)
    assert aim[10] == pytest.approx(28)


def test_trend_projection_gap_closed_and_on_track():
    # Weeks 1..4: 0.70, 0.72, 0.73, 0.75. x-bar 2.5, y-bar 0.725;
    # Sxy = (-1.5)(-0.025) + (-0.5)(-0.005) + (0.5)(0.005) + (1.5)(0.025) = 0.08, Sxx = 5
    # slope = 0.016; intercept = 0.725 - 0.016 * 2.5 = 0.685; projection = 0.685 + 0.16 = 0.845.
    # Gap closed = (0.75 - 0.70) / (0.80 - 0.70) = 0.5.
    # Aimline weeks 2..4 = 0.72, 0.73, 0.74: values on or above it, so no rule fires.
    result, team = one_team({1: 0.70, 2: 0.72, 3: 0.73, 4: 0.75}, week_ended(4))
    assert team["trend_slope"] == pytest.approx(0.016)
    assert team["projected_value"] == pytest.approx(0.845)
    assert team["gap_closed"] == pytest.approx(0.5)
    assert team["latest_value"] == pytest.approx(0.75)
    assert team["latest_week"] == 4
    assert team["aimline_latest"] == pytest.approx(0.74)
    assert (team["current_week"], team["weeks_reported"], team["weeks_missing"]) == (4, 4, 0)
    assert team["week_label"] == "Week 4 complete, week 5 in progress (of 10)"
    assert team["status"] == "On track"
    assert "84.5%" in team["reason"] and "consider" in team["reason"]
    assert result.flags == []


def test_trend_needs_three_points():
    _, team = one_team({1: 0.70, 2: 0.72}, week_ended(2))
    assert pd.isna(team["trend_slope"]) and pd.isna(team["projected_value"])
    assert team["status"] == "On track"


@pytest.mark.parametrize(
    ("direction", "baseline", "target", "values", "side"),
    [
        # Aimline 0.70 + 0.01 w. Weeks 1-2 above it, weeks 3-6 (0.72 < 0.73, 0.73 < 0.74,
        # 0.74 < 0.75, 0.755 < 0.76) below it: the last 4 of 6 points are on the wrong side.
        ("increase", 0.70, 0.80, {1: 0.75, 2: 0.76, 3: 0.72, 4: 0.73, 5: 0.74, 6: 0.755},
         "below"),
        # Aimline 40 - 1.2 w: 38.8, 37.6, 36.4, 35.2, 34.0, 32.8. Weeks 1-2 under it (good for
        # a falling goal), weeks 3-6 (37, 36, 35, 33.5) over it: wrong side for a decrease.
        ("decrease", 40, 28, {1: 38, 2: 37, 3: 37, 4: 36, 5: 35, 6: 33.5}, "above"),
    ],
)
def test_four_point_rule_makes_a_team_off_track(direction, baseline, target, values, side):
    result, team = one_team(values, week_ended(6), NO_PROJECTION_RULE, baseline=baseline,
                            target=target, direction=direction, unit="count")
    assert team["status"] == "Off track"
    assert f"last 4 values are {side} the goal line" in team["reason"]
    assert team["reason"].endswith("consider an instructional change")
    assert not team["raise_goal"]
    flag = next(f for f in result.flags if f.code == "team-off-track")
    assert flag.severity is Severity.WARNING
    assert flag.tab == "Weekly Progress"
    assert "row 7" in flag.message  # week 6 sits on sheet row 7
    assert flag.hint.startswith("Consider")


def test_four_point_rule_waits_for_six_points():
    # Five values all under the aimline (0.71..0.75): the four-point rule needs 6 points, so
    # the 3-point variant makes it At risk instead.
    _, team = one_team({1: 0.70, 2: 0.70, 3: 0.71, 4: 0.72, 5: 0.73}, week_ended(5),
                       NO_PROJECTION_RULE)
    assert team["status"] == "At risk"
    assert "last 3 values are below the goal line" in team["reason"]


@pytest.mark.parametrize(
    ("direction", "baseline", "target", "values"),
    [
        # Aimline 0.71, 0.72, 0.73: week 1 above, weeks 2-4 below (0.715, 0.72, 0.735 < 0.74).
        ("increase", 0.70, 0.80, {1: 0.72, 2: 0.715, 3: 0.72, 4: 0.735}),
        # Aimline 38.8, 37.6, 36.4, 35.2: week 1 under it, weeks 2-4 over it.
        ("decrease", 40, 28, {1: 38, 2: 38, 3: 37, 4: 35.5}),
    ],
)
def test_three_points_on_the_wrong_side_is_at_risk(direction, baseline, target, values):
    result, team = one_team(values, week_ended(4), NO_PROJECTION_RULE, baseline=baseline,
                            target=target, direction=direction, unit="count")
    assert team["status"] == "At risk"
    assert [f.code for f in result.flags] == ["team-at-risk"]


def test_two_points_on_the_wrong_side_is_not_at_risk():
    # Aimline 0.71, 0.72, 0.73, 0.74: weeks 3-4 below, week 2 exactly on the line.
    _, team = one_team({1: 0.72, 2: 0.72, 3: 0.72, 4: 0.735}, week_ended(4),
                       NO_PROJECTION_RULE)
    assert team["status"] == "On track"


@pytest.mark.parametrize(("margin", "status"), [(0.40, "Off track"), (0.50, "On track")])
def test_projection_short_of_target_by_more_than_margin(margin, status):
    # Weeks 1..3: 0.71, 0.715, 0.72: slope 0.005, intercept 0.705, projection 0.755.
    # Short of 0.80 by 0.045 = 45% of the 0.10 gap. Aimline 0.71, 0.72, 0.73: week 1 on it,
    # so only 2 points on the wrong side and no At risk.
    _, team = one_team({1: 0.71, 2: 0.715, 3: 0.72}, week_ended(3),
                       Thresholds(projection_margin=margin))
    assert team["projected_value"] == pytest.approx(0.755)
    assert team["status"] == status
    if status == "Off track":
        assert "trend projects 75.5% by week 10, short of the target of 80%" in team["reason"]


def test_projection_rule_for_a_decreasing_goal():
    # Weeks 1..3: 39, 39, 39 -> slope 0, projection 39; target 28, gap 12, shortfall 11 > 1.2.
    _, team = one_team({1: 39, 2: 39, 3: 39}, week_ended(3), baseline=40, target=28,
                       direction="decrease", unit="count")
    assert team["projected_value"] == pytest.approx(39)
    assert team["status"] == "Off track"
    assert "short of the target of 28" in team["reason"]


@pytest.mark.parametrize(
    ("direction", "baseline", "target", "values"),
    [
        ("increase", 0.70, 0.80, {1: 0.74, 2: 0.78, 3: 0.81}),
        ("increase", 0.70, 0.80, {1: 0.74, 2: 0.78, 3: 0.80}),  # exactly the target
        ("decrease", 40, 28, {1: 35, 2: 30, 3: 28}),
    ],
)
def test_met_when_latest_value_reaches_target(direction, baseline, target, values):
    _, team = one_team(values, week_ended(3), baseline=baseline, target=target,
                       direction=direction, unit="count")
    assert team["status"] == "Met"
    assert "has reached the target" in team["reason"]


def test_met_outranks_a_late_value():
    # Target reached in week 3, week 4 not yet entered: still Met, but flagged stale.
    result, team = one_team({1: 0.74, 2: 0.78, 3: 0.81}, week_ended(4))
    assert team["status"] == "Met" and team["stale"]
    assert [f.code for f in result.flags] == ["team-stale"]


@pytest.mark.parametrize(
    ("direction", "baseline", "target", "values", "raise_goal"),
    [
        # Aimline 0.71..0.76: weeks 1-2 on it, weeks 3-6 (0.74..0.77) above it.
        ("increase", 0.70, 0.80, {1: 0.71, 2: 0.72, 3: 0.74, 4: 0.75, 5: 0.76, 6: 0.77}, True),
        # Same pattern with only 5 points: the rule waits for 6.
        ("increase", 0.70, 0.80, {2: 0.72, 3: 0.74, 4: 0.75, 5: 0.76, 6: 0.77}, False),
        # Week 3 back on the line: the last 4 are not all above.
        ("increase", 0.70, 0.80, {1: 0.71, 2: 0.72, 3: 0.73, 4: 0.75, 5: 0.76, 6: 0.77}, False),
        # Decrease, aimline 38.8..32.8: the last 4 (35, 34, 33, 32) are all under it.
        ("decrease", 40, 28, {1: 38.8, 2: 37.6, 3: 35, 4: 34, 5: 33, 6: 32}, True),
    ],
)
def test_raise_goal_when_last_four_are_on_the_better_side(direction, baseline, target, values,
                                                          raise_goal):
    result, team = one_team(values, week_ended(6), baseline=baseline, target=target,
                            direction=direction, unit="count")
    assert bool(team["raise_goal"]) is raise_goal
    codes = [f.code for f in result.flags]
    assert ("team-raise-goal" in codes) is raise_goal
    if raise_goal:
        flag = next(f for f in result.flags if f.code == "team-raise-goal")
        assert flag.severity is Severity.INFO
        assert "consider raising the goal" in flag.hint.lower()


def test_stale_when_latest_completed_week_has_no_value():
    # As of week 5 + 3 days (a Thursday in week 6), weeks 1-4 entered, week 5 left blank.
    values = {1: 0.71, 2: 0.72, 3: 0.73, 4: 0.74, 5: None}
    th = Thresholds()
    result = team_progress(goals_frame(goal()), weekly_frame("team-a", values), None,
                           week_ended(5, extra_days=3), th,
                           column_of=lambda source, tab, key: "C" if key == "value" else None)
    team = result.teams.iloc[0]
    assert team["current_week"] == 5
    assert team["status"] == "Stale" and team["stale"]
    assert "No value for week 5 yet" in team["reason"]
    assert (team["weeks_missing"], team["missing_weeks"]) == (1, "5")
    flag = next(f for f in result.flags if f.code == "team-stale")
    assert flag.cell == "C6"  # week 5's blank Value cell: row 2 + 5 - 1
    assert "row" not in flag.message  # the cell says where


def test_off_track_outranks_stale_but_staleness_is_still_flagged():
    values = {1: 0.75, 2: 0.76, 3: 0.72, 4: 0.73, 5: 0.74, 6: 0.755}
    result, team = one_team(values, week_ended(7), NO_PROJECTION_RULE)
    assert team["status"] == "Off track" and team["stale"]
    assert {f.code for f in result.flags} == {"team-off-track", "team-stale"}


def test_missing_weeks_are_counted_and_flagged():
    # Weeks 1, 3, 4 entered; as of the end of week 5: weeks 2 and 5 missing.
    result, team = one_team({1: 0.71, 3: 0.73, 4: 0.74}, week_ended(5))
    assert team["weeks_reported"] == 3
    assert (team["weeks_missing"], team["missing_weeks"]) == (2, "2 and 5")
    flag = next(f for f in result.flags if f.code == "missing-weeks")
    assert "Week 2 has no value" in flag.message  # week 5 is the team-stale flag's job
    assert {f.code for f in result.flags} == {"missing-weeks", "team-stale"}


@pytest.mark.parametrize(
    ("values", "as_of", "expected"),
    [
        ({}, week_ended(3), "No weekly values yet"),
        ({1: None, 2: None}, week_ended(3), "No weekly values yet"),
        ({}, START - timedelta(days=3), "The challenge starts on 2026-09-07"),
    ],
)
def test_no_data(values, as_of, expected):
    weekly = weekly_frame("team-a", values) if values else None
    result = team_progress(goals_frame(goal()), weekly, None, as_of)
    team = result.teams.iloc[0]
    assert team["status"] == "No data"
    assert team["reason"].startswith(expected)
    assert pd.isna(team["latest_value"]) and team["weeks_reported"] == 0
    codes = [f.code for f in result.flags]
    assert codes == ([] if as_of < START else ["team-stale"])


def test_current_week_is_capped_at_the_challenge_length():
    _, team = one_team({w: 0.70 + 0.01 * w for w in range(1, 11)}, date(2027, 3, 1))
    assert team["current_week"] == 10
    assert team["week_label"] == "All 10 weeks complete"
    assert team["status"] == "Met"


def test_action_steps_done_and_overdue():
    as_of = week_ended(4)  # 2026-10-05
    actions = pd.DataFrame({
        "source": pd.Series(["team-a"] * 5, dtype=object),
        "row": pd.array([2, 3, 4, 5, 6], dtype="Int64"),
        "action": pd.Series(list("abcde"), dtype=object),
        "owner": pd.Series([None] * 5, dtype=object),
        # overdue; done on time; due later; due today (not yet overdue); no due date
        "due": pd.to_datetime(["2026-09-20", "2026-09-21", "2026-10-20", "2026-10-05", None]),
        "status": pd.Series(["In progress", "Done", "Not started", None, "In progress"],
                            dtype=object),
        "notes": pd.Series([None] * 5, dtype=object),
    })
    result = team_progress(goals_frame(goal()), weekly_frame("team-a", {4: 0.74}), actions,
                           as_of)
    team = result.teams.iloc[0]
    assert (team["actions_done"], team["actions_total"], team["actions_overdue"]) == (1, 5, 1)
    flag = next(f for f in result.flags if f.code == "overdue-actions")
    assert flag.tab == "Action Steps" and "1 action step is past the due date" in flag.message
    assert "row 2" in flag.message


def test_week_table_marks_values_against_the_line():
    result, _ = one_team({1: 0.72, 2: 0.71, 4: 0.74}, week_ended(4, extra_days=2))
    weeks = result.weeks
    assert list(weeks.columns) == list(WEEK_COLUMNS)
    assert list(weeks["week"]) == list(range(11))
    by_week = weeks.set_index("week")
    assert by_week.loc[0, "position"] == "Baseline" and by_week.loc[0, "value"] == 0.70
    assert by_week.loc[1, "position"] == "On or ahead of the line"  # 0.72 > 0.71
    assert bool(by_week.loc[1, "on_line"]) is True
    assert by_week.loc[2, "position"] == "Behind the line"  # 0.71 < 0.72
    assert bool(by_week.loc[2, "on_line"]) is False
    assert by_week.loc[3, "position"] == "No value" and pd.isna(by_week.loc[3, "on_line"])
    assert by_week.loc[4, "position"] == "On or ahead of the line"  # exactly on the line
    assert by_week.loc[5, "position"] == "Not due yet"
    assert by_week.loc[4, "row"] == 5


def test_weekly_update_movers_and_needs_support():
    as_of = week_ended(3, extra_days=1)
    goals = goals_frame(
        goal("a", school="Oak"),  # 0.72 -> 0.75: +0.03 of a 0.10 gap = 0.30
        goal("b", baseline=40, target=28, direction="decrease", unit="count",
             school="Oak"),  # 36 -> 34 (week 1, week 2 skipped): 2 of 12 = 0.1667
        goal("c", school="Elm"),  # 0.74 -> 0.73: moved away, not listed
        goal("d", school="Elm"),  # no week 3 value: Stale
        goal("e", school="Elm"),  # 0.70 -> 0.705 from the baseline: 0.05 of the gap
    )
    weekly = weekly_frames(
        weekly_frame("a", {1: 0.70, 2: 0.72, 3: 0.75}, tried="Fluency trackers"),
        weekly_frame("b", {1: 36, 3: 34}, tried="Calm corner"),
        weekly_frame("c", {2: 0.74, 3: 0.73}, tried="Exit tickets"),
        weekly_frame("d", {1: 0.71, 2: 0.72}),
        weekly_frame("e", {3: 0.705}, tried="Small groups"),
    )
    result = team_progress(goals, weekly, None, as_of, Thresholds(top_movers=2))
    movers = result.movers
    assert list(movers.columns) == list(MOVER_COLUMNS)
    assert list(movers["source"]) == ["a", "b"]  # top 2 of a, b, e
    assert movers.loc[0, "gap_moved"] == pytest.approx(0.30)
    assert movers.loc[0, "what_we_tried"] == "Fluency trackers (week 3)"
    assert movers.loc[1, "previous_week"] == 1
    assert movers.loc[1, "change"] == pytest.approx(2)
    assert movers.loc[1, "gap_moved"] == pytest.approx(2 / 12)

    support = result.needs_support
    assert list(support.columns) == list(SUPPORT_COLUMNS)
    assert list(support["source"]) == ["d"]
    assert support.loc[0, "status"] == "Stale"

    everyone = team_progress(goals, weekly, None, as_of)  # default top 3
    assert list(everyone.movers["source"]) == ["a", "b", "e"]
    assert everyone.movers.loc[2, "previous_week"] == 0  # compared with the baseline


def test_needs_support_lists_most_urgent_first():
    goals = goals_frame(goal("stale", school="A"), goal("risk", school="B"),
                        goal("off", school="C"), goal("fine", school="D"))
    weekly = weekly_frames(
        weekly_frame("stale", {1: 0.71, 2: 0.72, 3: 0.73, 4: 0.74, 5: 0.75}),
        # Aimline 0.71..0.76: weeks 1-3 above it, weeks 4-6 below it.
        weekly_frame("risk", {1: 0.72, 2: 0.73, 3: 0.74, 4: 0.735, 5: 0.74, 6: 0.75}),
        weekly_frame("off", {1: 0.70, 2: 0.70, 3: 0.70, 4: 0.70, 5: 0.70, 6: 0.70}),
        weekly_frame("fine", {w: 0.70 + 0.01 * w for w in range(1, 7)}),
    )
    result = team_progress(goals, weekly, None, week_ended(6), NO_PROJECTION_RULE)
    status = dict(zip(result.teams["source"], result.teams["status"], strict=True))
    assert status == {"stale": "Stale", "risk": "At risk", "off": "Off track",
                      "fine": "On track"}
    assert list(result.needs_support["source"]) == ["off", "risk", "stale"]


def test_teams_sorted_and_columns_complete():
    goals = goals_frame(goal("z", school="Birch", team="Grade 5"),
                        goal("y", school="Aspen", team="Grade 4"),
                        goal("x", school="Birch", team="Grade 3"))
    result = team_progress(goals, None, None, week_ended(1))
    assert list(result.teams.columns) == list(TEAM_COLUMNS)
    assert list(result.teams["source"]) == ["y", "x", "z"]
    assert set(result.teams["status"]) == {"No data"}


def test_duplicate_week_keeps_the_last_row_with_a_value():
    weekly = weekly_frames(weekly_frame("team-a", {1: 0.71, 2: 0.72}),
                           weekly_frame("team-a", {2: 0.75}, first_row=10))
    result = team_progress(goals_frame(goal()), weekly, None, week_ended(2))
    team = result.teams.iloc[0]
    assert team["latest_value"] == pytest.approx(0.75) and team["weeks_reported"] == 2


def test_flags_use_known_codes_and_never_error():
    values = {1: 0.75, 2: 0.76, 3: 0.72, 4: 0.73, 5: 0.74, 6: 0.755}
    result, _ = one_team(values, week_ended(8))
    assert result.flags
    for flag in result.flags:
        assert flag.code in CODES
        assert flag.severity is not Severity.ERROR
        assert flag.source == "team-a"
        assert flag.hint.startswith("Consider")
