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
    return {**{s.name: s for s in built}, "config": config}


def _table(sheet, title: str | None) -> list[dict]:
    t = next(t for t in sheet.tables if t.title == title)
    return [dict(zip(t.columns, row, strict=True)) for row in t.rows]


def _value(cell):
    return getattr(cell, "value", cell)


def test_unreadable_coaches_keep_their_row_with_the_reason_and_no_numbers(sheets):
    coaches = {r["Coach"]: r for r in _table(sheets["Dashboard"], "Coaches")}
    assert set(coaches) == {"Ana", "Ben", "cal"}
    assert isinstance(coaches["Ana"]["Coaching share, last 4 weeks"], float)
    assert coaches["Ana"]["Hours outside the role"] == 0  # known: she logged none
    ben = coaches["Ben"]
    assert ben["Status"] == "Unknown"
    assert ben["Note"] == "Time log not readable (no Date column): see Flags."
    for figure in ("Coaching share, last 4 weeks", "Hours outside the role",
                   "Teachers reached"):
        assert ben[figure] is None, figure
    cal = coaches["cal"]
    assert cal["Status"] == "File failed" and cal["Note"].startswith("Not read:")
    assert cal["Coaching share, last 4 weeks"] is None and cal["Hours outside the role"] is None


def test_coach_time_and_the_chart_show_no_zeros_for_them(sheets):
    per_coach = {r["Coach"]: r for r in _table(sheets["Coach Time"], "Per coach")}
    assert per_coach["Ben"]["Minutes, whole program"].startswith("unknown: time log")
    assert per_coach["Ben"]["Entries"] is None and per_coach["Ben"]["Coaching share"] is None
    assert per_coach["Ana"]["Minutes, whole program"] > 0
    weekly = _table(sheets["Coach Time"], "Minutes by week and group")
    assert {r["Coach"] for r in weekly} == {"Ana"}
    chart = {r["Coach"]: r for r in _table(sheets["Chart Data"],
                                           "Coach time by activity group, last 4 weeks")}
    assert chart["Ana"]["Coaching with teachers"] == 1.0
    for label in (next(k for k in chart if k.startswith("Ben")), "cal"):
        assert all(v is None for k, v in chart[label].items()
                   if k != "Coach" and not k.startswith("Target")), label
    assert "time log not readable" in next(k for k in chart if k.startswith("Ben"))


def test_the_scoreboard_says_how_many_it_leaves_out(sheets):
    board = sheets["Dashboard"].tables[0]
    now = dict(zip(board.columns, board.rows[0], strict=True))
    assert _value(now["Coaching share (4 weeks)"]) == 1.0  # Ana's alone: all co-planning
    teams = now["Teams on track or met"]
    assert " of 1)" in teams.number_format  # of the one known team: the unknown one left out
    assert any("1 team (goal or weekly values) and 2 coaches (time log)" in line
               for line in board.intro)


def test_a_team_whose_target_is_not_a_number_is_unknown_with_the_reason(sheets):
    rows = _table(sheets["Dashboard"], "Teams")
    assert len(rows) == 2
    vague = next(r for r in rows if r["Status"] == "Unknown")
    assert vague["Reason and suggestion"].startswith(
        "Target: \u201cabout 70\u201d is not a percentage (see Flags)")
    assert vague["Target"] is None
    assert _value(vague["Latest (week)"]) == pytest.approx(0.63)  # the weekly values are read
    assert any(r["Status"] != "Unknown" for r in rows)


def test_the_dashboard_shows_the_window_dates(sheets):
    intro = sheets["Dashboard"].tables[0].intro[0]
    assert "last 4 weeks = 2026-10-05 to 2026-11-01 (complete weeks)" in intro


def test_the_run_summary_counts_them_apart(sheets):
    from sheetsync.pipeline import run
    from sheetsync.terminal import run_summary

    config = sheets["config"]
    outcome = run(config, as_of=AS_OF, dry_run=True, use_cache=False, take_lock=False)
    summary = run_summary(outcome, config)
    assert summary["teams"]["unknown"] == 1
    assert summary["coaches"]["time_unknown"] == ["Ben"]
    assert summary["coaches"]["not_read"] == ["cal"]
