"""The program's calendar: check-ins, cycles and quarters, as the config gives them."""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from pathlib import Path

import pytest

from sheetsync.config import ConfigError, parse_config
from sheetsync.history.calendar import (
    Cycle,
    checkin_dates,
    checkin_due,
    current_cycle,
    cycle_of,
    quarter_of,
)

START = date(2026, 9, 7)


def config(program: str):
    text = f'[program]\n{program}\n[[sources]]\npath = "t.xlsx"\n[output]\npath = "d.xlsx"\n'
    return parse_config(tomllib.loads(text), Path("/tmp/p/sheetsync.toml"))


def test_the_defaults():
    c = config('name = "P"')
    assert c.checkins == (3, 6, 9) and c.cycles == () and c.quarter_start_month == 8


def test_checkins_as_weeks_or_dates():
    assert config("checkins = [2, 5, 8]").checkins == (2, 5, 8)
    days = config('checkins = [2026-09-30, "2026-10-21"]').checkins
    assert days == (date(2026, 9, 30), date(2026, 10, 21))
    listed = checkin_dates((3, 6, 9), START)
    assert [(c.number, c.week, c.day) for c in listed] == [
        (1, 3, date(2026, 9, 28)), (2, 6, date(2026, 10, 19)), (3, 9, date(2026, 11, 9))]
    assert checkin_dates((3,), None) == []  # weeks cannot be placed without a start date


@pytest.mark.parametrize("bad, words", [
    ("checkins = 3", "must be a list"),
    ("checkins = [0, 6]", "between 1 and 52"),
    ("checkins = [3, 3]", "twice"),
    ('checkins = ["soon"]', "must be a date"),
    ("checkins = [true]", "weeks or dates"),
    ('cycles = [{name = "A"}]', "needs a start date"),
    ('cycles = [{start = 2026-09-07, weeks = 0}]', "weeks must be"),
    ('cycles = [{start = 2026-09-07, colour = "red"}]', "unknown key 'colour'"),
    ('cycles = [{name = "A", start = 2026-09-07}, {name = "A", start = 2027-01-25}]',
     "same name"),
    ("quarter_start_month = 13", "between 1 and 12"),
])
def test_a_bad_setting_is_a_clear_config_error(bad, words):
    with pytest.raises(ConfigError, match=words):
        config(bad)


def test_cycles_and_the_current_one():
    c = config('[[program.cycles]]\nname = "Winter"\nstart = 2027-01-25\n'
               '[[program.cycles]]\nname = "Fall"\nstart = 2026-09-07\nweeks = 10\n')
    fall, winter = c.cycles
    assert (fall.name, winter.name) == ("Fall", "Winter")  # sorted by start
    assert fall.end == date(2026, 11, 15)
    assert cycle_of(date(2026, 9, 8), c.cycles) == fall
    assert cycle_of(date(2027, 1, 20), c.cycles) == winter  # a few days early still joins
    assert cycle_of(date(2026, 12, 1), c.cycles) == fall
    assert current_cycle(date(2026, 8, 1), c.cycles) == fall
    assert current_cycle(date(2027, 2, 1), c.cycles) == winter
    assert current_cycle(date(2027, 2, 1), ()) is None
    assert Cycle("X", START).weeks == 10


def test_quarters_of_the_school_year():
    assert quarter_of(date(2026, 8, 1)) == ("2026-27 Q1", "2026-27 Q1 (Aug-Oct)")
    assert quarter_of(date(2026, 11, 4)) == ("2026-27 Q2", "2026-27 Q2 (Nov-Jan)")
    assert quarter_of(date(2027, 1, 31)) == ("2026-27 Q2", "2026-27 Q2 (Nov-Jan)")
    assert quarter_of(date(2027, 7, 31)) == ("2026-27 Q4", "2026-27 Q4 (May-Jul)")
    assert quarter_of(date(2027, 3, 1), 1) == ("2027 Q1", "2027 Q1 (Jan-Mar)")


def test_the_checkin_line_shows_only_in_the_week_before():
    assert checkin_due((3,), START, date(2026, 9, 20)) is None  # 8 days before
    assert "due this week, on Monday 2026-09-28" in checkin_due((3,), START, date(2026, 9, 21))
    assert "due this week, today" in checkin_due((3,), START, date(2026, 9, 28))
    assert checkin_due((3,), START, date(2026, 9, 29)) is None


def test_the_history_command_rebuilds_past_dates(tmp_path):
    from click.testing import CliRunner

    from sheetsync.cli import main
    from sheetsync.history.store import HistoryStore
    from tests import REPO

    text = (REPO / "config" / "example.toml").read_text()
    text = text.replace('"../', f'"{REPO}/').replace(
        f'path = "{REPO}/out/dashboard.xlsx"',
        f'path = "{tmp_path}/d.xlsx"\nstate_dir = "{tmp_path}/state"')
    config = tmp_path / "sheetsync.toml"
    config.write_text(text)
    result = CliRunner().invoke(main, ["history", "--config", str(config), "--rebuild",
                                       "--from", "2026-09-14", "--to", "2026-09-21"])
    assert result.exit_code == 0, result.output
    assert "History rebuilt: 2 dates from 2026-09-14 to 2026-09-21" in result.output
    store = HistoryStore.in_state_dir(tmp_path / "state")
    assert [d.isoformat() for d in store.dates()] == ["2026-09-14", "2026-09-21"]
    weeks = store.teams()
    # as of week 2 no team shows a value of a later week
    assert (weeks.loc[weeks["as_of"] == "2026-09-21", "latest_week"] <= 2).all()
    assert not (tmp_path / "d.xlsx").exists()  # the dashboard is not written
    bad = CliRunner().invoke(main, ["history", "--config", str(config), "--rebuild",
                                    "--from", "2027-02-30"])
    assert bad.exit_code == 2 and "--from must be a date" in bad.output


def test_an_unchanged_night_still_records_a_date_the_history_lacks(tmp_path):
    from sheetsync import benchmark
    from sheetsync.config import load_config
    from sheetsync.history.store import HistoryStore
    from sheetsync.pipeline import run

    program = benchmark.generate_program(tmp_path, coaches=2, teams=2, weeks=10, seed=5)
    config = load_config(program.config)
    night = datetime(2026, 11, 14, 2, 0)
    run(config, now=night, keep_unchanged=True)
    store = HistoryStore.in_state_dir(config.output.state_dir)
    assert store.has(config.as_of)
    assert run(config, now=night, keep_unchanged=True).unchanged  # recorded: kept as it is
    store.path.unlink()  # the history is lost
    again = run(config, now=night, keep_unchanged=True)
    assert not again.unchanged and store.has(config.as_of)
