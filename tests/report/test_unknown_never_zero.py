"""What cannot be read is shown as unknown, never as 0: a coach whose time log lost its Date
column, a coach workbook that cannot be opened, and a team whose Target is "about 70" keep
their rows, with blank figures and the reason; the headline figures say how many they leave
out; the Dashboard shows the dates of "the last 4 weeks"."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from sheetsync.config import parse_config
from sheetsync.pipeline import RollupContext, rollup, validate
from sheetsync.testing.workbooks import Tab, write_xlsx

AS_OF = date(2026, 11, 2)  # a Monday
START = date(2026, 9, 7)


def _log(with_date: bool = True) -> list[list]:
    head = ["Date", "Minutes", "Activity"] if with_date else ["Minutes", "Activity"]
    rows = [head]
    for k in range(40):
        day = START + timedelta(days=k * 1.4)
        rows.append([day, 60, "Co-planning"] if with_date else [60, "Co-planning"])
    return rows


def _coach(path: Path, name: str, with_date: bool) -> None:
    write_xlsx(path, [Tab("About", [["Coach", name]]),
                      Tab("Relationships", [["Teacher", "Knows Face"], ["Ms. Alder", "Y"]]),
                      Tab("Time Log", _log(with_date))])


def _team(path: Path, target: str) -> None:
    write_xlsx(path, [Tab("Goal", [["School", "Maple"], ["Team", "Grade 3"],
                                   ["SMART Goal", "More reading"], ["Metric", "% proficient"],
                                   ["Unit", "percent"], ["Baseline", "55%"], ["Target", target],
                                   ["Start Date", START]]),
                      Tab("Weekly Progress", [["Week", "Value"],
                                              *[[w, f"{55 + w}%"] for w in range(1, 9)]])])


@pytest.fixture(scope="module")
def sheets(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("unknown")
    _coach(root / "ana.xlsx", "Ana", with_date=True)
    _coach(root / "ben.xlsx", "Ben", with_date=False)
    (root / "cal.xlsx").write_bytes(b"not a workbook")
    _team(root / "good-team.xlsx", "70%")
    _team(root / "vague-team.xlsx", "about 70")
    config = parse_config({
        "program": {"name": "Unknown test", "as_of": AS_OF.isoformat()},
        "sources": [{"kind": "coach", "path": str(root / n)}
                    for n in ("ana.xlsx", "ben.xlsx", "cal.xlsx")]
        + [{"kind": "team", "path": str(root / n)}
           for n in ("good-team.xlsx", "vague-team.xlsx")],
        "output": {"path": str(root / "out" / "dashboard.xlsx")}}, root / "sheetsync.toml")
    data = validate(config, use_cache=False)
    built = rollup(data, RollupContext(config, AS_OF, datetime(2026, 11, 2, 2)))
    return {s.name: s for s in built}


def _table(sheet, title: str | None) -> list[dict]:
    t = next(t for t in sheet.tables if t.title == title)
    return [dict(zip(t.columns, row, strict=True)) for row in t.rows]


def test_unreadable_coaches_keep_their_row_with_the_reason_and_no_numbers(sheets):
    coaches = {r["Coach"]: r for r in _table(sheets["Dashboard"], "Coaches")}
    assert set(coaches) == {"Ana", "Ben", "cal"}
    assert isinstance(coaches["Ana"]["Coaching share, last 4 weeks"], float)
    assert coaches["Ana"]["Minutes outside the role"] == 0  # known: she logged none
    ben = coaches["Ben"]
    assert ben["Coaching share, last 4 weeks"] == \
        "unknown: time log not readable (no Date column): see Flags"
    for figure in ("Coaching share, whole program", "Minutes outside the role",
                   "Teachers reached, last 4 weeks"):
        assert ben[figure] is None, figure
    assert coaches["cal"]["Coaching share, last 4 weeks"] == \
        "unknown: the workbook could not be read: see Flags"
    assert coaches["cal"]["Minutes outside the role"] is None


def test_coach_time_and_the_chart_show_no_zeros_for_them(sheets):
    per_coach = {r["Coach"]: r for r in _table(sheets["Coach Time"], "Per coach")}
    assert per_coach["Ben"]["Minutes, whole program"].startswith("unknown: time log")
    assert per_coach["Ben"]["Entries"] is None and per_coach["Ben"]["Coaching share"] is None
    assert per_coach["Ana"]["Minutes, whole program"] > 0
    weekly = _table(sheets["Coach Time"], "Minutes by week and group")
    assert {r["Coach"] for r in weekly} == {"Ana"}
    chart = {r["Coach"]: r for r in _table(sheets["Dashboard"],
                                           "Minutes by activity group, whole program")}
    ben = next(v for k, v in chart.items() if k.startswith("Ben"))
    assert "time log not readable" in next(k for k in chart if k.startswith("Ben"))
    assert all(v is None for k, v in ben.items() if k != "Coach")


def test_headline_figures_say_how_many_they_leave_out(sheets):
    head = {r["Headline"]: r["Value"] for r in _table(sheets["Dashboard"],
                                                      "Headline figures")}
    label = next(k for k in head if k.startswith("Coaching share, last 4 weeks"))
    assert label.endswith("(2 coaches left out)")
    assert head[label] == "100%"  # Ana's alone: all co-planning
    teams = next(k for k in head if k.startswith("Teams on track"))
    assert teams.endswith("(1 team left out)")
    assert head[teams].endswith("of 1")
    assert head["Left out: data that could not be read (see Flags)"] == \
        "2 coaches (time log), 1 team (goal or weekly values)"


def test_a_team_whose_target_is_not_a_number_is_unknown_with_the_reason(sheets):
    teams = {r["Team"]: r for r in _table(sheets["Dashboard"], "Teams")}
    assert len(teams) == 1  # both teams are "Grade 3" at "Maple": look them up by status
    rows = _table(sheets["Dashboard"], "Teams")
    vague = next(r for r in rows if r["Status"] == "Unknown")
    assert vague["Reason"].startswith(
        "Target: \u201cabout 70\u201d is not a percentage (see Flags)")
    assert vague["Target"] is None and vague["Latest"] == 63.0  # the weekly values are read
    assert any(r["Status"] != "Unknown" for r in rows)


def test_the_dashboard_shows_the_window_dates(sheets):
    info = sheets["Dashboard"].tables[0]
    rows = {r[0]: r[1] for r in info.rows}
    assert rows["Last 4 weeks"] == ("2026-10-05 to 2026-11-01 (complete weeks, Monday to "
                                    "Sunday)")
