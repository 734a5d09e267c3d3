"""`sheetsync run` on the bundled example program, end to end, checked as a leader would."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from sheetsync.config import load_config
from sheetsync.errors import RunFailed
from sheetsync.pipeline import run
from sheetsync.report.dashboard import TAB_ORDER
from sheetsync.schema import load_schema
from tests import REPO

AS_OF = date(2026, 11, 4)


def example_config(tmp_path: Path, **output):
    config = load_config(REPO / "config" / "example.toml")
    out = replace(config.output, path=tmp_path / "dashboard.xlsx",
                  state_dir=tmp_path / "state", **output)
    return replace(config, output=out)


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    config = example_config(tmp)
    outcome = run(config, as_of=AS_OF, now=datetime(2026, 11, 5, 2, 0))
    return config, outcome, config.output.path


def values(path: Path) -> dict[str, list[list]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def row_of(rows: list[list], first: str, second: str | None = None) -> list:
    for r in rows:
        if r and r[0] == first and (second is None or second in r):
            return r
    raise AssertionError(f"no row starting {first!r}")


def table_of(rows: list[list], first: str, last: str) -> list[dict]:
    """The rows of the table whose header starts with ``first`` and holds ``last``, as dicts."""
    for i, r in enumerate(rows):
        if r and r[0] == first and last in r:
            header = r
            found = []
            for data in rows[i + 1:]:
                if not data or all(v is None for v in data):
                    break
                found.append(dict(zip(header, data, strict=False)))
            return found
    raise AssertionError(f"no table {first}..{last}")


def named(table: list[dict], column: str, value: str) -> dict:
    return next(r for r in table if r[column] == value)


def test_tabs_in_order_with_a_hidden_manifest(dashboard):
    _, _, path = dashboard
    wb = openpyxl.load_workbook(path)
    visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
    assert visible == list(TAB_ORDER)
    hidden = [ws.title for ws in wb.worksheets if ws.sheet_state != "visible"]
    assert hidden == ["_sheetsync"]


def test_hand_worked_team_figures(dashboard):
    _, _, path = dashboard
    teams = table_of(values(path)["Dashboard"], "Status", "Reason and suggestion")
    literacy = named(teams, "Team", "Grade 3 Literacy")
    # weeks 1-8: 71 72 72 74 74 77 76 79 (%). OLS: mean week 4.5, mean value 74.375,
    # Sxy = 45.5, Sxx = 42, slope 1.0833; at week 10: 74.375 + 1.0833 * 5.5 = 80.33
    assert literacy["Projected at the end"] == pytest.approx(0.803, abs=0.0005)
    assert literacy["% of gap closed"] == pytest.approx(0.9)  # (79 - 70) / (80 - 70)
    assert literacy["Latest (week)"] == pytest.approx(0.79)  # a number, shown "79% (wk 8)"
    assert literacy["Status"] == "On track"
    math = named(teams, "Team", "Grade 6 Math")
    # aimline 0 -> 75 over 10 weeks = 7.5/week; weeks 5-8 (23 23 24 23) are all below
    # 37.5 45 52.5 60, with 8 points in all: the four-point rule says Off track
    assert math["Status"] == "Off track"
    assert "consider an instructional change" in math["Reason and suggestion"]
    lunch = named(teams, "Team", "Grade 7 Lunchtime")
    progress = values(path)["Team Progress"]
    baseline = next(r[4] for r in progress if r[1] == "Grade 7 Lunchtime" and r[2] == 0)
    assert lunch["Target"] < baseline  # a goal that should decrease


def test_hand_worked_coach_share(dashboard):
    _, _, path = dashboard
    coaches = table_of(values(path)["Dashboard"], "Status", "Note")
    okafor = named(coaches, "Coach", "Renata Okafor")
    # Okafor logged 11,510 minutes, 5,480 of them coaching with teachers: 47.6%;
    # in the last 4 complete weeks before Wednesday Nov 4 (Monday Oct 5 to Sunday Nov 1),
    # 2,675 of 5,615: 47.6% (the 28 days to Nov 4 would have given 2,760 of 5,650)
    assert okafor["Coaching share, last 4 weeks"] == pytest.approx(2675 / 5615)
    assert okafor["Status"] == "On target"
    per_coach = table_of([r[7:] for r in values(path)["Coach Time"]], "Coach", "Last entry")
    whole = named(per_coach, "Coach", "Renata Okafor")["Coaching share"]
    assert whole == pytest.approx(5480 / 11510)
    bell = named(coaches, "Coach", "Marcus Bell")
    assert bell["Coaching share, last 4 weeks"] < 0.2 and bell["Status"] == "Below target"
    # the share agrees with Coach Time's weekly rows of the same 4 complete weeks (Oct 5-Nov 1)
    weekly = [r for r in values(path)["Coach Time"][2:] if r[0] == "Marcus Bell"
              and datetime(2026, 10, 5) <= r[1] <= datetime(2026, 10, 26)]
    assert len({r[1] for r in weekly}) == 4
    coaching = sum(r[4] for r in weekly if r[3] == "Coaching with teachers")
    assert bell["Coaching share, last 4 weeks"] == pytest.approx(
        coaching / sum(r[4] for r in weekly))
    # minutes outside the role are among the other duties of those weeks
    other = sum(r[4] for r in weekly if r[3] == "Other duties")
    assert 0 < bell["Hours outside the role"] * 60 <= other
    # Castillo logged nothing after Oct 16: nothing in the last complete week (Oct 26-Nov 1)
    castillo = named(coaches, "Coach", "Jordan Castillo")
    assert castillo["Status"] == "Log stopped" and "2026-10-16" in castillo["Note"]


def test_flags_tab_for_leaders_with_owners_and_plain_titles(dashboard):
    _, _, path = dashboard
    ws = openpyxl.load_workbook(path)["Flags"]
    rows = list(ws.iter_rows(values_only=True))
    assert "first run" in rows[0][0]
    assert rows[1] == ("Severity", "New", "Owner", "Problem", "Message", "What to do", "Source",
                       "Tab", "Cell", "Code")
    flags = [dict(zip(rows[1], r, strict=True)) for r in rows[2:]]
    ranks = [{"error": 0, "warning": 1, "info": 2}[f["Severity"]] for f in flags]
    assert ranks == sorted(ranks)
    assert ws.auto_filter.ref == f"A2:J{len(rows)}"
    date = next(f for f in flags if f["Code"] == "bad-date")
    assert (date["Cell"], date["Problem"]) == ("B5", "Not a date")
    assert date["Owner"] == "Grade 3 Literacy (Cedar Grove Elementary)"
    low = next(f for f in flags if f["Code"] == "low-coaching-share"
               and f["Source"] == "marcus-bell")
    assert low["Owner"] == "Marcus Bell" and low["Problem"] == "Coaching share below target"
    assert "your coaching leader" not in low["What to do"]  # worded for the leader who reads it
    assert all(f["New"] is None for f in flags)  # no earlier run to compare with


def private_values() -> set[str]:
    """Every private cell value in the example's coach workbooks (names, facts, notes...)."""
    from sheetsync.backends.excel.reader import read_excel
    from sheetsync.validation.layout import find_header, match_tabs

    schema = load_schema("coach")
    found: set[str] = set()
    for path in (REPO / "sheet_templates" / "examples" / "coaches").glob("*.xlsx"):
        raw = read_excel(path)
        for spec in schema.tabs:
            for tab in match_tabs(raw.tabs, spec):
                header = find_header(tab, spec)
                if header is None:
                    continue
                for key in spec.private_keys & set(header.columns):
                    j = header.columns[key]
                    for row in tab.rows[header.row + 1:]:
                        if j < len(row) and isinstance(row[j], str) and len(row[j].strip()) >= 4:
                            found.add(row[j].strip())
    return found


def test_no_private_value_reaches_the_leaders_workbook(dashboard):
    _, _, path = dashboard
    secrets = private_values()
    assert len(secrets) > 100  # names, facts, notes, cycle focuses
    leaked = []
    for tab, rows in values(path).items():
        for r in rows:
            for cell in r:
                if isinstance(cell, str):
                    leaked += [(tab, s) for s in secrets if s in cell and not s.isdigit()
                               and s.casefold() not in {"yes", "no", "n/a"}]
    assert leaked == []


def test_no_formulas_at_all(dashboard):
    _, _, path = dashboard
    with zipfile.ZipFile(path) as zf:
        formulas = [f for name in zf.namelist() if name.startswith("xl/worksheets/")
                    for f in re.findall(rb"<f>(.*?)</f>", zf.read(name))]
    assert formulas == []  # the generation time is a value, so previews show it


def test_repeatable_apart_from_the_run_log_and_the_generation_time(tmp_path):
    config = example_config(tmp_path)
    run(config, as_of=AS_OF, now=datetime(2026, 11, 5, 2, 0), use_cache=False)
    first = values(config.output.path)
    run(config, as_of=AS_OF, now=datetime(2026, 11, 6, 2, 0))
    second = values(config.output.path)
    assert "generated 2026-11-05 02:00" in first["Dashboard"][1][0]
    assert "generated 2026-11-06 02:00" in second["Dashboard"][1][0]
    first["Dashboard"][1] = second["Dashboard"][1] = []
    assert "first run" in first["Flags"][0][0] and "new" in second["Flags"][0][0]
    first["Flags"][0] = second["Flags"][0] = []
    for tab in TAB_ORDER:
        if tab != "Run Log":
            assert first[tab] == second[tab], tab
    assert len(second["Run Log"]) == len(first["Run Log"]) + 1  # one row appended per run
    assert second["Run Log"][1] == first["Run Log"][1]  # earlier rows are kept


def test_a_users_tab_with_a_managed_name_is_never_overwritten(tmp_path):
    config = example_config(tmp_path)
    wb = openpyxl.Workbook()
    wb.active.title = "Dashboard"
    wb.active["A1"] = "my own notes"
    wb.save(config.output.path)
    before = config.output.path.read_bytes()
    with pytest.raises(RunFailed) as info:
        run(config, as_of=AS_OF)
    assert "Dashboard" in info.value.message
    assert config.output.path.read_bytes() == before


def test_users_own_tabs_survive_a_run(tmp_path):
    config = example_config(tmp_path)
    run(config, as_of=AS_OF)
    wb = openpyxl.load_workbook(config.output.path)
    notes = wb.create_sheet("Leader notes")
    notes["A1"] = "=SUM(1,2)"
    notes["B2"] = "follow up with Riverside"
    wb.save(config.output.path)
    run(config, as_of=AS_OF)
    wb = openpyxl.load_workbook(config.output.path)
    assert wb["Leader notes"]["B2"].value == "follow up with Riverside"
    assert wb["Leader notes"]["A1"].value == "=SUM(1,2)"


def test_a_broken_source_is_visible_not_dropped(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(REPO / "sheet_templates" / "examples", src)
    config_text = (REPO / "config" / "example.toml").read_text().replace(
        "../sheet_templates/examples/", str(src) + "/").replace(
        "../out/dashboard.xlsx", str(tmp_path / "dash.xlsx"))
    cfg = tmp_path / "c.toml"
    cfg.write_text(config_text)
    config = load_config(cfg)
    run(config, as_of=AS_OF)  # a good read first: it is cached
    broken = src / "coaches" / "marcus-bell.xlsx"
    broken.write_bytes(b"not a zip at all")
    newcomer = src / "teams" / "new-team.xlsx"
    newcomer.write_bytes(b"also broken")
    (src / "coaches" / "new-coach.xlsx").write_bytes(b"not a workbook either")
    outcome = run(config, as_of=AS_OF)
    states = {s.name: s.state for s in outcome.data.sources}
    assert states["marcus-bell"] == "stale"  # last good data, marked stale
    assert states["new-team"] == states["new-coach"] == "failed"  # never read
    tabs = values(tmp_path / "dash.xlsx")
    sources = table_of(tabs["Sources"], "State", "Location")
    assert named(sources, "Source", "marcus-bell")["State"] == "stale"
    assert named(sources, "Source", "new-team")["State"] == "failed"
    coaches = table_of(tabs["Dashboard"], "Status", "Note")
    bell = named(coaches, "Coach", "Marcus Bell")  # his figures are still on the dashboard
    assert bell["Status"] == "Stale data" and bell["Coaching share, last 4 weeks"] < 0.2
    # a coach whose file failed with no earlier data stays as a visible (red) row, unknown
    # figures blank, never zero
    failed = named(coaches, "Coach", "new-coach")
    assert failed["Status"] == "File failed" and "Not read" in failed["Note"]
    assert failed["Coaching share, last 4 weeks"] is None and failed["Teachers reached"] is None
    teams = table_of(tabs["Dashboard"], "Status", "Reason and suggestion")
    assert named(teams, "Team", "new-team")["Status"] == "File failed"
    assert teams[0]["Status"] == "File failed"  # what needs attention comes first
    chart = table_of([r[8:] for r in tabs["Chart Data"]], "Coach", "Target (40%)")
    assert named(chart, "Coach", "new-coach")["Coaching with teachers"] is None
    flags = table_of(tabs["Flags"], "Severity", "Code")
    assert any(f["Code"] == "stale-source" and f["Source"] == "marcus-bell" for f in flags)
    # this is a second run: what the first did not have is marked new
    assert {f["Source"] for f in flags if f["New"] == "new"} >= {"new-team", "new-coach",
                                                                  "marcus-bell"}
    assert not any(f["New"] for f in flags if f["Code"] == "bad-date")


def test_run_command_writes_and_summarises(tmp_path):
    out = tmp_path / "d.xlsx"
    proc = subprocess.run([sys.executable, "-m", "sheetsync", "run", "--config",
                           str(REPO / "config" / "example.toml"), "--output", str(out)],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 1, proc.stderr  # ran, with data errors in the findings
    text = " ".join(proc.stdout.split())
    assert "As of 2026-11-04: Week 8 complete, week 9 in progress (of 10)" in text
    assert "Teams on track: 4 of 6 (benchmark 75%)" in text
    assert "Coaches at or above the 40% target: 1 of 4" in text
    # the files' findings, as validate counts them, then the analysis's own, said apart
    assert "6 errors, 1 warning, 1 info in the files" in text
    assert "the analysis adds 11 warnings, 11 info of its own" in text
    assert str(out) in proc.stdout.replace("\n", "")
    assert out.exists()


def test_run_json_is_a_summary_a_script_can_act_on(tmp_path):
    from click.testing import CliRunner

    from sheetsync.cli import main

    out = tmp_path / "d.xlsx"
    result = CliRunner().invoke(main, ["run", "--config", str(REPO / "config" / "example.toml"),
                                       "--output", str(out), "--json"])
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    assert payload["exit_code"] == 1 and payload["output"] == str(out) and out.exists()
    assert payload["challenge"]["label"] == "Week 8 complete, week 9 in progress (of 10)"
    # the last 4 complete weeks before Wednesday Nov 4: Monday Oct 5 to Sunday Nov 1
    assert payload["challenge"]["last_weeks_window"] == ["2026-10-05", "2026-11-01"]
    assert payload["sources"]["ok"] == payload["sources"]["total"] == 10
    assert payload["teams"]["by_status"] == {"Met": 1, "On track": 3, "Off track": 2}
    assert payload["coaches"]["below_target"] == ["Marcus Bell", "Priya Natarajan"]
    assert payload["coaches"]["log_stopped"] == ["Jordan Castillo"]
    findings = payload["findings"]
    assert findings["in_the_files"] == {"error": 6, "warning": 1, "info": 1}
    assert findings["analytic_flags"] == {"error": 0, "warning": 11, "info": 11}
    assert findings["by_severity"] == {"error": 6, "warning": 12, "info": 12}


def test_dry_run_writes_nothing(tmp_path):
    out = tmp_path / "d.xlsx"
    proc = subprocess.run([sys.executable, "-m", "sheetsync", "run", "--config",
                           str(REPO / "config" / "example.toml"), "--output", str(out),
                           "--dry-run"], capture_output=True, text=True, timeout=180)
    assert "Dry run" in proc.stdout
    assert not out.exists()
