"""``sheetsync inspect``: how each tab was understood, as text and JSON, and pinning the guessed
columns in the config without losing its comments."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from sheetsync.cli import main
from sheetsync.config import load_config
from sheetsync.testing.workbooks import Tab, write_xlsx

START = date(2026, 9, 7)


def coach_log(path: Path) -> Path:
    rows = [["Coaching log: Coach Finch"],
            ["Date of Session", "Duration (min)", "Type of Support", "Teacher(s) Supported",
             "Logged"]]
    for k in range(6):
        rows.append([START + timedelta(days=k), 45, "Co-planning", "Ms. Alder", "x"])
    rows += [["Total", 270], [], ["Notes: minutes are rounded to 15."]]
    write_xlsx(path, [Tab("About", [["Coach", "Coach Finch"]]),
                      Tab("Relationships", [["Teacher", "Knows Face"], ["Ms. Alder", "Y"]]),
                      Tab("Time Log", rows), Tab("Lists", [["Co-planning"]])])
    return path


CONFIG = """# The district's program
[program]
name = "Inspect test"  # shown on the Dashboard
as_of = "2026-11-02"

[[sources]]
kind = "coach"   # one coach
path = "finch.xlsx"

[output]
path = "out/dashboard.xlsx"

[aliases.columns]
# headers we already pinned
minutes = ["Time Spent (min)"]
"""


@pytest.fixture
def program(tmp_path: Path) -> Path:
    coach_log(tmp_path / "finch.xlsx")
    config = tmp_path / "sheetsync.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return config


def test_inspect_a_single_workbook_shows_header_columns_and_rows(program: Path):
    result = CliRunner().invoke(main, ["inspect", str(program.parent / "finch.xlsx")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "tab 'Time Log' read as Time Log (table, header row 2)" in out
    assert "'Date of Session'" in out and "-> Date [date]" in out and "words+content" in out
    assert "'Duration (min)'" in out and "1.00 alias" in out
    assert "'Logged'" in out and "not used" in out
    assert "data rows: 3-8 (6 rows)" in out
    assert "skipped row 1, title: Coaching log: Coach Finch" in out
    assert "skipped row 9, total: Total" in out
    assert "skipped row 10, blank" in out
    assert "skipped row 11, note: Notes: minutes are rounded to 15." in out
    assert "tabs not read: 'Lists'" in out


def test_inspect_json_gives_the_same(program: Path):
    result = CliRunner().invoke(main, ["inspect", "--config", str(program), "--json"])
    assert result.exit_code == 0, result.output
    sources = json.loads(result.output)
    assert [s["source"] for s in sources] == ["finch"] and sources[0]["kind"] == "coach"
    log = next(t for t in sources[0]["tabs"] if t["read_as"] == "Time Log")
    assert log["header_rows"] == [2]
    by_header = {c["header"]: c for c in log["columns"]}
    assert by_header["Date of Session"]["key"] == "date"
    assert by_header["Date of Session"]["signal"] == "words+content"
    assert 0.8 <= by_header["Date of Session"]["confidence"] < 1
    assert by_header["Duration (min)"] == {**by_header["Duration (min)"], "key": "minutes",
                                           "confidence": 1.0, "signal": "alias"}
    assert by_header["Logged"]["key"] is None
    assert log["data_rows"] == "3-8" and log["data_row_count"] == 6
    assert {(s["row"], s["why"]) for s in log["skipped"]} >= {(1, "title"), (9, "total"),
                                                              (10, "blank"), (11, "note")}


def test_write_aliases_pins_the_guessed_columns_keeping_comments(program: Path):
    result = CliRunner().invoke(main, ["inspect", "--config", str(program), "--write-aliases",
                                       "--yes"])
    assert result.exit_code == 0, result.output
    assert '+date = ["Date of Session"]' in result.output  # the diff is shown
    text = program.read_text(encoding="utf-8")
    for kept in ("# The district's program", "# shown on the Dashboard", "# one coach",
                 "# headers we already pinned", 'minutes = ["Time Spent (min)"]'):
        assert kept in text
    config = load_config(program)
    assert config.column_aliases["date"] == ["Date of Session"]
    assert config.column_aliases["activity"] == ["Type of Support"]
    assert config.column_aliases["teachers"] == ["Teacher(s) Supported"]
    # pinned, they are now read by alias: nothing left to pin
    again = CliRunner().invoke(main, ["inspect", "--config", str(program), "--write-aliases",
                                      "--yes"])
    assert "nothing to pin" in again.output
    assert program.read_text(encoding="utf-8") == text


def test_write_aliases_asks_first_and_a_no_changes_nothing(program: Path):
    before = program.read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["inspect", "--config", str(program), "--write-aliases"],
                                input="n\n")
    assert "Write these aliases" in result.output and "+date" in result.output
    assert program.read_text(encoding="utf-8") == before


def test_write_aliases_needs_a_config(program: Path):
    result = CliRunner().invoke(main, ["inspect", str(program.parent / "finch.xlsx"),
                                       "--write-aliases"])
    assert result.exit_code == 2 and "--config" in result.output
