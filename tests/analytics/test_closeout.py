"""The close-out: after a team's end date its status is final, Met or Not met."""

from __future__ import annotations

from datetime import date, timedelta

from sheetsync.analytics.closeout import OPEN_FLAGS
from sheetsync.analytics.program import analyse
from tests.analytics.test_analytics_teams import (
    START,
    goal,
    goals_frame,
    weekly_frame,
    weekly_frames,
)

END = START + timedelta(weeks=10)  # the teams' End Date
AFTER = END + timedelta(days=60)


def program(as_of: date):
    goals = goals_frame(goal("met", baseline=0.70, target=0.80),
                        goal("short", baseline=0.70, target=0.80),
                        goal("fewer", baseline=30, target=20, direction="decrease",
                             unit="count"),
                        goal("silent", baseline=0.5, target=0.6))
    weekly = weekly_frames(
        weekly_frame("met", {1: 0.71, 2: 0.72, 3: 0.74, 4: 0.75, 5: 0.77, 6: 0.79, 7: 0.81}),
        # behind the line for weeks on end, and no value since week 8: Off track and Stale
        weekly_frame("short", {1: 0.70, 2: 0.70, 3: 0.71, 4: 0.71, 5: 0.71, 6: 0.72, 7: 0.72,
                               8: 0.73, 12: 0.79}),
        weekly_frame("fewer", {1: 29, 2: 27, 5: 24, 10: 21}),
    )
    return analyse({"goals": goals, "weekly": weekly}, as_of)


def test_before_the_end_date_nothing_is_final():
    analysis = program(END)
    status = dict(zip(analysis.teams.teams["source"], analysis.teams.teams["status"],
                      strict=True))
    assert status["short"] == "Off track" and status["met"] == "Met"
    assert not analysis.teams.teams["ended"].any()
    assert any(f.code == "team-stale" for f in analysis.flags)


def test_after_the_end_date_status_is_final():
    analysis = program(AFTER)
    teams = analysis.teams.teams.set_index("source")
    assert teams["ended"].all()
    assert teams.loc["met", "status"] == "Met"
    assert teams.loc["short", "status"] == "Not met"
    # a value typed for week 12 is not part of a 10-week challenge: week 8's value is final
    assert teams.loc["short", "latest_week"] == 8
    assert teams.loc["short", "latest_value"] == 0.73
    assert abs(teams.loc["short", "gap_closed"] - 0.3) < 1e-9
    # a decreasing goal, 30 -> 21 against a target of 20: not met, 90% of the gap closed
    assert teams.loc["fewer", "status"] == "Not met"
    assert abs(teams.loc["fewer", "gap_closed"] - 0.9) < 1e-9
    assert "Goal not met on 2026-11-16" in teams.loc["fewer", "reason"]
    # no weekly value at all: unknown, never counted as a miss
    assert teams.loc["silent", "status"] == "No data"
    assert "not known" in teams.loc["silent", "reason"]
    assert not teams["stale"].any() and not teams["raise_goal"].any()
    reasons = " ".join(teams["reason"])
    assert "this week's value" not in reasons and "instructional change" not in reasons
    assert not [f for f in analysis.flags if f.code in OPEN_FLAGS]
    assert analysis.teams.needs_support.empty and analysis.teams.movers.empty


def test_the_benchmark_is_judged_on_the_teams_that_met():
    analysis = program(AFTER)
    summary = analysis.program
    assert summary.teams_ended == 4 and summary.teams_met == 1
    assert summary.met_share == 0.25 and summary.meets_benchmark is False
    assert summary.status_counts["Not met"] == 2
