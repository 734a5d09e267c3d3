"""`sheetsync run` on the bundled example program, end to end, checked as a leader would."""

from __future__ import annotations

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


def test_tabs_in_order_with_a_hidden_manifest(dashboard):
    _, _, path = dashboard
    wb = openpyxl.load_workbook(path)
    visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
    assert visible == list(TAB_ORDER)
    hidden = [ws.title for ws in wb.worksheets if ws.sheet_state != "visible"]
    assert hidden == ["_sheetsync"]


def test_hand_worked_team_figures(dashboard):
    _, _, path = dashboard
    rows = values(path)["Dashboard"]
    header = row_of(rows, "School", "Projected at end")
    col = {name: i for i, name in enumerate(header)}
    literacy = row_of(rows, "Cedar Grove Elementary", "Grade 3 Literacy")
    # weeks 1-8: 71 72 72 74 74 77 76 79 (%). OLS: mean week 4.5, mean value 74.375,
    # Sxy = 45.5, Sxx = 42, slope 1.0833; at week 10: 74.375 + 1.0833 * 5.5 = 80.33
    assert literacy[col["Projected at end"]] == pytest.approx(80.3, abs=0.05)
    assert literacy[col["% of gap closed"]] == pytest.approx(0.9)  # (79 - 70) / (80 - 70)
    assert literacy[col["Status"]] == "On track"
    math = row_of(rows, "Riverside Middle School", "Grade 6 Math")
    # aimline 0 -> 75 over 10 weeks = 7.5/week; weeks 5-8 (23 23 24 23) are all below
    # 37.5 45 52.5 60, with 8 points in all: the four-point rule says Off track
    assert math[col["Status"]] == "Off track"
    assert "consider an instructional change" in math[col["Reason"]]
    lunch = row_of(rows, "Riverside Middle School", "Grade 7 Lunchtime")
    assert lunch[col["Target"]] < lunch[col["Baseline"]]  # a goal that should decrease


def test_hand_worked_coach_share(dashboard):
    _, _, path = dashboard
    rows = values(path)["Dashboard"]
    header = row_of(rows, "Coach", "Open flags")
    col = {name: i for i, name in enumerate(header)}
    okafor = row_of(rows, "Renata Okafor")
    # Okafor logged 11,510 minutes, 5,480 of them coaching with teachers: 47.6%;
    # in the last 4 complete weeks before Wednesday Nov 4 (Monday Oct 5 to Sunday Nov 1),
    # 2,675 of 5,615: 47.6% (the 28 days to Nov 4 would have given 2,760 of 5,650)
    assert okafor[col["Coaching share, whole program"]] == pytest.approx(5480 / 11510)
    assert okafor[col["Coaching share, last 4 weeks"]] == pytest.approx(2675 / 5615)
    bell = row_of(rows, "Marcus Bell")
    assert bell[col["Coaching share, last 4 weeks"]] < 0.2
    assert bell[col["Minutes outside the role"]] > 0


def test_flags_tab_sorted_with_autofilter(dashboard):
    _, _, path = dashboard
    ws = openpyxl.load_workbook(path)["Flags"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("Severity", "Code", "Source", "Tab", "Cell", "Message", "Hint")
    ranks = [{"error": 0, "warning": 1, "info": 2}[r[0]] for r in rows[1:]]
    assert ranks == sorted(ranks)
    assert ws.auto_filter.ref
    assert any(r[1] == "bad-date" and r[4] == "B5" for r in rows)
    assert any(r[1] == "team-off-track" for r in rows)


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


def test_no_formulas_but_sheetsyncs_own(dashboard):
    _, _, path = dashboard
    with zipfile.ZipFile(path) as zf:
        formulas = [f for name in zf.namelist() if name.startswith("xl/worksheets/")
                    for f in re.findall(rb"<f>(.*?)</f>", zf.read(name))]
    assert formulas == [b"INDEX('Run Log'!A:A,COUNTA('Run Log'!A:A))"]


def test_repeatable_apart_from_the_run_log(tmp_path):
    config = example_config(tmp_path)
    run(config, as_of=AS_OF, now=datetime(2026, 11, 5, 2, 0), use_cache=False)
    first = values(config.output.path)
    run(config, as_of=AS_OF, now=datetime(2026, 11, 6, 2, 0))
    second = values(config.output.path)
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
    outcome = run(config, as_of=AS_OF)
    states = {s.name: s.state for s in outcome.data.sources}
    assert states["marcus-bell"] == "stale"  # last good data, marked stale
    assert states["new-team"] == "failed"  # never read: visibly missing
    rows = values(tmp_path / "dash.xlsx")["Dashboard"]
    assert row_of(rows, "marcus-bell")[2] == "stale"
    assert row_of(rows, "new-team")[2] == "failed"
    assert row_of(rows, "Marcus Bell")  # his figures are still on the dashboard
    flags = values(tmp_path / "dash.xlsx")["Flags"]
    assert any(r[1] == "stale-source" and r[2] == "marcus-bell" for r in flags)


def test_run_command_writes_and_summarises(tmp_path):
    out = tmp_path / "d.xlsx"
    proc = subprocess.run([sys.executable, "-m", "sheetsync", "run", "--config",
                           str(REPO / "config" / "example.toml"), "--output", str(out)],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 1, proc.stderr  # ran, with data errors in the findings
    assert "Teams on track: 4 of 6" in proc.stdout
    assert str(out) in proc.stdout.replace("\n", "")
    assert out.exists()


def test_dry_run_writes_nothing(tmp_path):
    out = tmp_path / "d.xlsx"
    proc = subprocess.run([sys.executable, "-m", "sheetsync", "run", "--config",
                           str(REPO / "config" / "example.toml"), "--output", str(out),
                           "--dry-run"], capture_output=True, text=True, timeout=180)
    assert "Dry run" in proc.stdout
    assert not out.exists()
