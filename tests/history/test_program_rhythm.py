"""A whole program over time, on a fake clock: 14 nightly runs across weeks 1 to 12, the three
sponsor check-ins frozen, the close-out after week 10, a second cycle, the history surviving a
deleted cache, and the backfill equal to the nightly history.

The program is generated here: three team trackers (one meets its goal, two do not, one of them
a goal that should fall) and two coaches whose coaching share rises week by week. Each night
the workbooks hold exactly what their owners had typed by then: a team enters week k's value
the day week k ends, a coach logs each day's time that day.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from sheetsync.analytics.closeout import OPEN_FLAGS
from sheetsync.backends.base import SourceEntry, Target
from sheetsync.backends.memory import MemoryBackend
from sheetsync.config import parse_config
from sheetsync.history.backfill import rebuild
from sheetsync.history.store import HistoryStore
from sheetsync.pipeline import run
from sheetsync.report.model import plain
from sheetsync.testing.clock import FakeClock

START = date(2026, 9, 7)  # Monday of week 1
WEEKS = 10
END = START + timedelta(weeks=WEEKS)  # the trackers' End Date

# (source, school, team, unit, direction, baseline, target, weekly values)
TEAMS = [
    ("team-lit", "Lincoln Elementary", "Grade 3 Literacy", "percent", "increase", "60%", "70%",
     [0.61, 0.62, 0.62, 0.64, 0.65, 0.67, 0.68, 0.69, 0.70, 0.71]),
    ("team-att", "Lincoln Elementary", "Attendance", "count", "increase", 20, 30,
     [20, 21, 21, 22, 22, 23, 24, 24, 25, 26]),
    ("team-inc", "Oak Middle", "Lunchtime", "count", "decrease", 40, 28,
     [39, 39, 38, 38, 37, 36, 35, 34, 33, 31]),
]
STRATEGIES = {1: "Exit tickets daily", 4: "Small-group reteach", 7: "Peer tutoring"}
SECRET_TEACHERS = ("Zebulon Quayle", "Philippa Vantongeren", "Octavia Rusk", "Barnaby Pim",
                   "Ignatius Fenwright", "Marigold Ashcombe")
SECRET_TEXT = ("Going through a divorce", "Hates being observed", "Rated low on delight")


def strategy(week: int) -> str:
    return STRATEGIES[max(k for k in STRATEGIES if k <= week)]


def completed_weeks(day: date, start: date = START) -> int:
    return max(0, min(WEEKS + 2, (day - start).days // 7))


def team_tabs(team: tuple, day: date, start: date = START) -> dict[str, list[list]]:
    source, school, name, unit, direction, baseline, target, values = team
    goal = [["Team goal"], [], ["School", school], ["Team", name], ["Team Lead", "Lead One"],
            ["Coach", "Coach Ada"], ["SMART Goal", f"Move {name} from {baseline} to {target}"],
            ["Metric", "weekly check"], ["Unit", unit], ["Baseline", baseline],
            ["Target", target], ["Direction", direction], ["Start Date", start],
            ["End Date", start + timedelta(weeks=WEEKS)]]
    weekly = [["Week", "Week Of", "Value", "What We Tried", "What We Learned", "Next Steps"]]
    for week in range(1, min(completed_weeks(day, start), WEEKS) + 1):
        value = values[week - 1]
        weekly.append([week, start + timedelta(weeks=week - 1),
                       f"{round(value * 100)}%" if unit == "percent" else value,
                       strategy(week), f"Learned in week {week}", f"Next after week {week}"])
    actions = [["Action", "Owner", "Due", "Status"],
               ["Share the data wall", "Lead One", start + timedelta(days=4), "Done"],
               ["Plan the reteach groups", "Lead One", start + timedelta(days=32),
                "In progress"]]
    return {"Goal": goal, "Weekly Progress": weekly, "Action Steps": actions}


def coach_tabs(index: int, day: date) -> dict[str, list[list]]:
    name = ("Coach Ada", "Coach Bo")[index]
    about = [["Coach", name], ["School(s)", "Lincoln Elementary"], ["Role", "Instructional"]]
    rel = [["Teacher", "Knows Face", "Knows Classroom", "Professional Fact", "Personal Fact",
            "Delight", "Engagement", "Last Contact", "Notes"]]
    for k, teacher in enumerate(SECRET_TEACHERS):
        rel.append([teacher, "Yes", "Yes" if k % 2 else "No", "Leads the PLC",
                    SECRET_TEXT[k % 3], 1 + k % 3, 3 - k % 3, START, SECRET_TEXT[(k + 1) % 3]])
    log = [["Date", "Minutes", "Activity", "Teacher(s)", "Notes"]]
    current = START
    while current <= day:
        if current.weekday() < 5:
            week = (current - START).days // 7 + 1
            log.append([current, 30 + 5 * week + 10 * index, "Co-teaching",
                        SECRET_TEACHERS[current.day % 6], SECRET_TEXT[0]])
            log.append([current, 60, "Sub coverage", None, None])
        current += timedelta(days=1)
    cycles = [["Teacher", "Focus", "Start Date", "Phase", "Next Steps Total", "Next Steps Done",
               "Last Update"],
              [SECRET_TEACHERS[0], "Small groups", START, "Act", 3, 1, START]]
    return {"About": about, "Relationships": rel, "Time Log": log, "Coaching Cycles": cycles}


def put_program(backend: MemoryBackend, day: date, teams=TEAMS, start: date = START) -> None:
    for team in teams:
        backend.put(team[0], team_tabs(team, day, start))
    for index in (0, 1):
        backend.put(f"coach-{index}", coach_tabs(index, day))


def make_config(folder: Path, extra: str = ""):
    text = (f'[program]\nname = "Rhythm program"\ntimezone = "UTC"\n{extra}\n'
            f'[[sources]]\nkind = "team"\npath = "x.xlsx"\n\n'
            f'[output]\npath = "{folder / "unused.xlsx"}"\nstate_dir = "{folder / "state"}"\n')
    import tomllib

    config = parse_config(tomllib.loads(text), folder / "sheetsync.toml")
    return replace(config, sources=(SourceEntry("team", "memory", "team-*", index=0),
                                    SourceEntry("coach", "memory", "coach-*", index=1)))


NIGHTS = sorted({START + timedelta(days=7 * k) for k in range(1, 13)}
                | {START + timedelta(days=17), START + timedelta(days=38)})
CHECKIN_DAYS = {1: START + timedelta(weeks=3), 2: START + timedelta(weeks=6),
                3: START + timedelta(weeks=9)}
TARGET = Target("memory", "dashboard")


def rows(sheet, title: str | None = None) -> list[list]:
    table = next(t for t in sheet.tables if title is None or t.title == title)
    return [[plain(v) for v in r] for r in table.rows]


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    """Every nightly run of the program, and what was seen after each."""
    folder = tmp_path_factory.mktemp("rhythm")
    config = make_config(folder)
    backend = MemoryBackend()
    clock = FakeClock(datetime(2026, 9, 14, 2, 0, tzinfo=UTC))
    seen = {}
    for night in NIGHTS:
        clock.advance(datetime.combine(night, datetime.min.time(), UTC)
                      + timedelta(hours=2) - clock.now())
        put_program(backend, night)
        outcome = run(config, as_of=night, output=TARGET, now=clock.now(),
                      backends={"memory": backend})
        tabs = dict(backend.targets["dashboard"])
        seen[night] = (outcome, tabs)
    return config, backend, seen


def test_every_night_is_recorded_once(program):
    config, _, seen = program
    store = HistoryStore.in_state_dir(config.output.state_dir)
    assert store.dates() == NIGHTS and len(NIGHTS) == 14
    teams = store.teams()
    assert len(teams) == 14 * 3 and not teams.duplicated(["as_of", "source"]).any()
    assert len(store.coaches()) == 14 * 2


def test_a_rerun_of_the_same_date_replaces_its_records(program, tmp_path):
    config, backend, _ = program
    state = tmp_path / "state"
    shutil.copytree(config.output.state_dir, state)
    copy = replace(config, output=replace(config.output, state_dir=state))
    last = NIGHTS[-1]
    before = HistoryStore.in_state_dir(state).teams()
    run(copy, as_of=last, output=TARGET, backends={"memory": backend})
    after = HistoryStore.in_state_dir(state).teams()
    assert len(after) == len(before)
    pd.testing.assert_frame_equal(after, before)


def test_checkins_are_frozen_as_they_were_that_day(program):
    _, _, seen = program
    final = seen[NIGHTS[-1]][1]["Check-ins"]
    titles = [t.title for t in final.tables if t.title and t.title.startswith("Check-in ")]
    assert titles == ["Check-in 1 (after week 3), Monday 2026-09-28",
                      "Check-in 2 (after week 6), Monday 2026-10-19",
                      "Check-in 3 (after week 9), Monday 2026-11-09"]
    for number, day in CHECKIN_DAYS.items():
        # each check-in equals the Dashboard's team table of the run dated that day
        outcome, tabs = seen[day]
        teams = outcome.analysis.teams.teams.set_index("team")
        frozen = rows(final, titles[number - 1])
        assert len(frozen) == 3
        for status, team, _school, latest, _target, gap, _change, tried, reason in frozen:
            assert status == teams.loc[team, "status"]
            assert latest == pytest.approx(teams.loc[team, "latest_value"])
            assert gap == pytest.approx(teams.loc[team, "gap_closed"])
            assert reason == teams.loc[team, "reason"]
            assert tried  # what the team tried since the previous check-in
    # frozen: check-in 1 holds week 3's values, not the final ones
    first = {r[1]: r for r in rows(final, titles[0])}
    assert first["Grade 3 Literacy"][3] == pytest.approx(0.62)
    assert first["Grade 3 Literacy"][7] == "Exit tickets daily"
    second = {r[1]: r for r in rows(final, titles[1])}
    assert second["Grade 3 Literacy"][7] == "Small-group reteach"
    assert second["Grade 3 Literacy"][6] == pytest.approx((0.67 - 0.62) / 0.10, abs=1e-3)


def test_the_week_before_a_checkin_the_dashboard_says_so(program):
    _, _, seen = program
    before = seen[START + timedelta(days=17)][1]["Dashboard"]  # week 3 in progress
    intro = " ".join(before.tables[0].intro)
    assert ("Check-in 1 (after week 3) is due this week, on Monday 2026-09-28: each team's "
            "agenda is on the Check-in Agenda tab") in intro
    after = seen[START + timedelta(weeks=4)][1]["Dashboard"]  # 14 days before check-in 2
    assert "due this week" not in " ".join(after.tables[0].intro)
    agenda = seen[START + timedelta(days=17)][1]["Check-in Agenda"]
    text = " ".join(str(v) for t in agenda.tables for r in t.rows for v in r)
    assert "Plan the reteach groups" not in text  # not overdue yet on day 17
    agenda = seen[START + timedelta(days=38)][1]["Check-in Agenda"]
    text = " ".join(str(v) for t in agenda.tables for r in t.rows for v in r)
    assert "Plan the reteach groups (due 2026-10-09)" in text
    assert "Learned in week 5" in text and "Next after week 5" in text


def test_the_close_out_after_week_10(program):
    _, _, seen = program
    outcome, tabs = seen[NIGHTS[-1]]  # week 12
    teams = outcome.analysis.teams.teams
    assert set(teams["status"]) <= {"Met", "Not met"}
    assert dict(zip(teams["team"], teams["status"], strict=True)) == {
        "Grade 3 Literacy": "Met", "Attendance": "Not met", "Lunchtime": "Not met"}
    assert outcome.analysis.program.teams_met == 1
    assert not [f for f in outcome.data.findings if f.code in OPEN_FLAGS]
    board = " ".join(str(plain(v)) for t in tabs["Dashboard"].tables for r in t.rows
                     for v in r)
    assert "this week's value" not in board and "instructional change" not in board
    retro = tabs["Retrospective"]
    summary = dict(rows(retro, "Retrospective: did each team meet its SMART goal?"))
    assert [summary[k] for k in ("Teams ended", "Met their goal", "Not met", "Not known")] == \
        [3, 1, 2, 0]
    assert summary["Share that met"] == pytest.approx(1 / 3)
    assert summary["Result"] == "below the benchmark"
    strategies = rows(retro, "Strategies tried, and the change in the metric that followed")
    lit = [r for r in strategies if r[1] == "Grade 3 Literacy"]
    assert [[r[3], r[0]] for r in lit] == [["Exit tickets daily", "weeks 1-3"],
                                           ["Small-group reteach", "weeks 4-6"],
                                           ["Peer tutoring", "weeks 7-10"]]
    assert lit[0][4] == pytest.approx(2.0)  # 60% -> 62%: +2 points
    assert lit[2][4] == pytest.approx(4.0)  # 67% -> 71%
    # before the end date nothing is final, and the week-9 team could still be flagged
    week9 = seen[START + timedelta(weeks=9)][0].analysis.teams.teams
    assert "Not met" not in set(week9["status"])


def test_the_status_grid_and_coach_trends(program):
    _, _, seen = program
    trends = seen[NIGHTS[-1]][1]["Trends"]
    grid = {r[1]: r for r in rows(trends, "Team status, week by week")}
    assert grid["Grade 3 Literacy"][2 + 9] == "Met"  # week 10
    assert grid["Lunchtime"][-1] == "Not met"
    assert all(v is not None for v in grid["Attendance"][2:2 + WEEKS])
    months = rows(trends, "Coaching share by month")
    ada = next(r for r in months if r[0] == "Coach Ada")
    shares = [v for v in ada[1:-1] if v is not None]
    assert len(shares) == 3 and shares == sorted(shares)  # rising: Sep, Oct, Nov
    assert ada[-1] == round((shares[-1] - shares[0]) * 100)  # whole percentage points
    quarters = rows(trends, "Coaching share by quarter of the school year")
    header = next(t for t in trends.tables
                  if t.title == "Coaching share by quarter of the school year").columns
    assert header[1:3] == ["2026-27 Q1 (Aug-Oct)", "2026-27 Q2 (Nov-Jan)"]
    assert len(quarters) == 2
    history = rows(seen[NIGHTS[-1]][1]["History"], "Coaches, month by month")
    ada_months = [r for r in history if r[2] == "Coach Ada"]
    assert [r[0] for r in ada_months] == ["2026-09", "2026-10", "2026-11"]
    # the month's own share, from the history's running totals (recorded on Mondays), rises
    # as the time log's does (whole weeks, by the month they start in)
    month_shares = [r[3] for r in ada_months]
    assert month_shares == sorted(month_shares)
    assert month_shares == pytest.approx(shares, abs=0.03)
    depth = rows(trends, "Relationship depth by month (% of listed teachers with all four "
                         "known)")
    assert depth[0][1] == pytest.approx(0.5)  # 3 of 6 teachers with all four known


def test_history_survives_a_deleted_cache(program, tmp_path):
    config, backend, _ = program
    state = tmp_path / "state"
    shutil.copytree(config.output.state_dir, state)
    copy = replace(config, output=replace(config.output, state_dir=state))
    store = HistoryStore.in_state_dir(state)
    teams, coaches = store.teams(), store.coaches()
    assert (state / "snapshot.pkl").exists()
    shutil.rmtree(state / "cache", ignore_errors=True)  # the parse cache, where it has one
    (state / "snapshot.pkl").unlink()
    run(copy, as_of=NIGHTS[-1], output=TARGET, backends={"memory": backend})
    pd.testing.assert_frame_equal(store.teams(), teams)
    pd.testing.assert_frame_equal(store.coaches(), coaches)


def test_the_backfill_equals_the_nightly_history(program, tmp_path):
    config, backend, _ = program
    fresh = replace(config, output=replace(config.output, state_dir=tmp_path / "state"))
    first, last = START + timedelta(weeks=1), NIGHTS[-1]
    days = rebuild(fresh, first, last, every=14, backends={"memory": backend})
    assert len(days) == 7  # weeks 1, 3, 5, 7, 9, 11 and 12
    nightly = HistoryStore.in_state_dir(config.output.state_dir)
    rebuilt = HistoryStore.in_state_dir(fresh.output.state_dir)
    keep = [d.isoformat() for d in days]
    for ask in ("teams", "coaches"):
        expected = getattr(nightly, ask)()
        expected = expected[expected["as_of"].isin(keep)].reset_index(drop=True)
        pd.testing.assert_frame_equal(getattr(rebuilt, ask)(), expected)


def test_a_second_cycle(program, tmp_path):
    config, backend, _ = program
    cycles = ('[[program.cycles]]\nname = "Fall"\nstart = 2026-09-07\nweeks = 10\n\n'
              '[[program.cycles]]\nname = "Winter"\nstart = 2026-12-07\nweeks = 10\n')
    two = make_config(tmp_path, cycles)
    state = two.output.state_dir
    shutil.copytree(config.output.state_dir, state)
    winter = START + timedelta(weeks=13)
    team = ("team-new", "Oak Middle", "Grade 8 Math", "percent", "increase", "40%", "55%",
            [0.42, 0.45, 0.47, 0.5, 0.5, 0.52, 0.53, 0.54, 0.55, 0.56])
    backend.put(team[0], team_tabs(team, winter + timedelta(weeks=2), winter))
    outcome = run(two, as_of=winter + timedelta(weeks=2), output=TARGET,
                  backends={"memory": backend})
    shown = set(outcome.analysis.teams.teams["team"])
    assert shown == {"Grade 8 Math"}  # the Dashboard shows the current cycle
    cycles_rows = rows(backend.targets["dashboard"]["Retrospective"], "Cycles")
    by_name = {r[1]: r for r in cycles_rows}
    assert by_name["Fall"][2:5] == [3, 3, 1] and by_name["Fall"][5] == pytest.approx(1 / 3)
    assert by_name["Winter"][2:4] == [1, 0] and by_name["Winter"][5] is None
    records = HistoryStore.in_state_dir(state).teams()
    assert set(records.loc[records["source"] == "team-new", "cycle"]) == {"Winter"}
    backend.delete(team[0])


def test_the_summary_tables_hold_each_weeks_and_months_last_record(program):
    config, _, _ = program
    store = HistoryStore.in_state_dir(config.output.state_dir)
    teams = store.teams()
    last = (teams.sort_values("as_of")
            .drop_duplicates(["source", "start_date", "current_week"], keep="last")
            .sort_values(["source", "as_of"]).reset_index(drop=True))
    pd.testing.assert_frame_equal(store.team_weeks(), last)
    coaches = store.coaches().assign(month=lambda f: f["as_of"].str[:7])
    monthly = (coaches.sort_values("as_of").drop_duplicates(["source", "month"], keep="last")
               .sort_values(["source", "as_of"]).reset_index(drop=True))
    pd.testing.assert_frame_equal(store.coach_months(), monthly)
    # asked as of an earlier date, later records are left out
    early = store.team_weeks(START + timedelta(weeks=3))
    assert early["as_of"].max() == (START + timedelta(weeks=3)).isoformat()
    assert len(early) == 3 * 3  # weeks 1, 2 (two runs: the later one kept) and 3
