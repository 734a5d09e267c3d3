"""A dashboard per principal: ``[[outputs]]`` filtered to one school or one region hold only
that scope's teams and coaches, in every tab and every chart; and the school and region tables
of the district's Dashboard."""

from __future__ import annotations

import html
import re
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from sheetsync import load_config, run
from sheetsync.config import ConfigError

REPO = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 4)

CEDAR_GROVE = ["Cedar Grove Elementary", "Grade 3 Literacy", "Grade 5 Attendance",
               "cedar-grove-grade3-literacy", "cedar-grove-grade5-attendance", "Renata Okafor",
               "renata-okafor"]
RIVERSIDE_ONLY = ["Grade 6 Math", "Grade 7 Lunchtime", "riverside-grade6-math",
                  "riverside-grade7-lunchtime", "Marcus Bell", "marcus-bell"]
MAPLE_HILL = ["Maple Hill Elementary", "Grade 4 Reading", "Attendance Team", "Priya Natarajan",
              "Jordan Castillo"]


def scoped_config(tmp_path: Path) -> Path:
    text = (REPO / "config" / "example.toml").read_text(encoding="utf-8")
    text = text.replace("../sheet_templates/examples/",
                        str(REPO / "sheet_templates" / "examples") + "/")
    text = text.replace("../out/dashboard.xlsx", str(tmp_path / "district.xlsx"))
    text += (f'\n[[outputs]]\npath = "{tmp_path / "maple-hill.xlsx"}"\n'
             'school = "Maple Hill Elementary"\n'
             f'\n[[outputs]]\npath = "{tmp_path / "north.xlsx"}"\nregion = "North"\n'
             f'name = "North region coaching"\n')
    path = tmp_path / "scoped.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scoped")
    run(load_config(scoped_config(tmp)), as_of=AS_OF, take_lock=False, use_cache=False)
    return tmp


def every_text(path: Path) -> str:
    """Every text the file holds: each tab's cells, shared strings, chart titles and series
    names, defined names, document properties."""
    out = []
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith((".xml", ".rels")):
                out.append(html.unescape(re.sub(r"<[^>]+>", " ", z.read(name).decode("utf-8"))))
    return " ".join(out)


def chart_titles(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [html.unescape(" ".join(re.findall(r"<a:t>([^<]*)</a:t>", z.read(n).decode())))
                for n in z.namelist() if n.startswith("xl/charts/chart")]


def test_a_schools_dashboard_names_no_other_schools_teams_or_coaches(written):
    district = every_text(written / "district.xlsx")
    assert all(name in district for name in CEDAR_GROVE + RIVERSIDE_ONLY)  # the test can fail
    maple = every_text(written / "maple-hill.xlsx")
    assert [n for n in CEDAR_GROVE + RIVERSIDE_ONLY if n in maple] == []
    assert all(name in maple for name in MAPLE_HILL)
    titles = chart_titles(written / "maple-hill.xlsx")
    assert len(titles) >= 3 and not [t for t in titles for n in CEDAR_GROVE + RIVERSIDE_ONLY
                                     if n in t]


def test_a_regions_dashboard_holds_its_schools_only(written):
    north = every_text(written / "north.xlsx")
    assert [n for n in CEDAR_GROVE if n in north] == []
    assert all(name in north for name in MAPLE_HILL + RIVERSIDE_ONLY)
    wb = openpyxl.load_workbook(written / "north.xlsx")
    assert wb["Dashboard"]["A1"].value == "North region coaching"


def test_every_tab_of_the_scoped_dashboard_is_read_cell_by_cell(written):
    wb = openpyxl.load_workbook(written / "maple-hill.xlsx")
    cells = [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
             for c in row if c is not None]
    assert len(wb.sheetnames) >= 12 and len(cells) > 200
    assert not [c for c in cells for n in CEDAR_GROVE + RIVERSIDE_ONLY if n in c]


def table_rows(ws, title: str) -> list[list]:
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(values) if r[0] == title)
    header = next(i for i in range(start + 1, len(values)) if values[i][0] == "Region")
    rows = []
    for r in values[header + 1:]:
        if r[0] is None:
            break
        rows.append(r)
    return rows


def test_the_district_dashboard_has_a_school_table_and_a_region_table(written):
    ws = openpyxl.load_workbook(written / "district.xlsx")["Dashboard"]
    schools = {r[1]: r for r in table_rows(ws, "Schools")}
    maple = schools["Maple Hill Elementary"]
    assert maple[0] == "North" and maple[2] == "1 of 2"
    assert maple[4] == pytest.approx(0.75) and maple[5] == "12 of 16"
    assert schools["Riverside Middle School"][6] == pytest.approx(0.60)  # only Marcus planned
    regions = {r[0]: r for r in table_rows(ws, "Regions")}
    assert set(regions) == {"North", "South", "District"}
    assert regions["District"][5] == "42 of 51"
    plans = openpyxl.load_workbook(written / "district.xlsx")["Coaching Plans"]
    text = [str(c) for row in plans.iter_rows(values_only=True) for c in row if c is not None]
    assert "overdue" in text and "no plan" in text


def test_an_output_needs_one_scope_and_its_own_file(tmp_path):
    base = (REPO / "config" / "example.toml").read_text(encoding="utf-8")
    for extra, words in [
        ('[[outputs]]\npath = "a.xlsx"\n', "exactly one of school or region"),
        ('[[outputs]]\npath = "a.xlsx"\nschool = "X"\nregion = "Y"\n', "exactly one of school"),
        ('[[outputs]]\npath = "../out/dashboard.xlsx"\nschool = "X"\n', "its own file"),
        ('[[outputs]]\npath = "a.csv"\nschool = "X"\n', "must end in .xlsx"),
        ('[[outputs]]\nfile = "a.xlsx"\nschool = "X"\n', "file"),
    ]:
        path = tmp_path / "c.toml"
        (tmp_path / "config").mkdir(exist_ok=True)
        path = tmp_path / "config" / "c.toml"
        path.write_text(base + "\n" + extra, encoding="utf-8")
        with pytest.raises(ConfigError) as err:
            load_config(path)
        assert words in str(err.value)


def test_without_regions_the_school_table_ends_with_the_district_against_the_target():
    from dataclasses import replace
    from datetime import datetime

    from sheetsync.pipeline import RollupContext, rollup, validate

    config = replace(load_config(REPO / "config" / "example.toml"), schools=())
    data = validate(config, AS_OF, use_cache=False)
    sheets = rollup(data, RollupContext(config, AS_OF, datetime(2026, 11, 5, 2)))
    tables = {t.title: t for t in sheets[0].tables}
    assert "Regions" not in tables
    district = tables["Schools"].rows[-1]
    assert district[:2] == ["District", "3 schools"] and district[5] == "42 of 51"
    reach = tables["Schools"].columns[4]
    assert tables["Schools"].benchmarks[reach].target == 0.90


def test_a_scoped_google_dashboard_holds_its_school_only_in_cells_and_charts(tmp_path):
    import json

    from sheetsync.testing import FakeGoogle

    examples = REPO / "sheet_templates" / "examples"
    with FakeGoogle(seed=6) as fake:
        fake.set_quota(per_user=10_000, per_project=10_000)
        key = tmp_path / "key.json"
        email = fake.make_service_account_key(key)
        district = fake.add_spreadsheet("District", share_with=email, role="writer")
        maple = fake.add_spreadsheet("Maple Hill", share_with=email, role="writer")
        lines = ['[program]', 'as_of = "2026-11-04"', "", "[google]", f'credentials = "{key}"',
                 f'api_base = "{fake.base_url}"', "quota_per_minute = 6000", "", "[output]",
                 f'google = "{district}"', f'state_dir = "{tmp_path / "state"}"', "",
                 "[[outputs]]", f'google = "{maple}"', 'school = "Maple Hill Elementary"', ""]
        for kind, name in (("team", "teams/cedar-grove-grade3-literacy"),
                           ("team", "teams/maple-hill-grade4-reading"),
                           ("coach", "coaches/renata-okafor"),
                           ("coach", "coaches/priya-natarajan")):  # few: the fake is slower
            sid = fake.add_spreadsheet_from_xlsx(examples / f"{name}.xlsx", share_with=email)
            lines += ["[[sources]]", f'kind = "{kind}"', f'google = "{sid}"',
                      f'name = "{name.split("/")[1]}"', ""]
        (tmp_path / "g.toml").write_text("\n".join(lines))
        run(load_config(tmp_path / "g.toml"), as_of=AS_OF)
        texts = {}
        for sid in (district, maple):
            whole = fake.spreadsheet_json(sid)
            cells = [json.dumps(fake.spreadsheet_values(sid, s["properties"]["title"]))
                     for s in whole["sheets"]]
            charts = [json.dumps(c["spec"].get("title", "")) for s in whole["sheets"]
                      for c in s.get("charts", [])]
            texts[sid] = (" ".join(cells), charts)
    others = ["Cedar Grove Elementary", "Grade 3 Literacy", "cedar-grove-grade3-literacy",
              "Renata Okafor", "renata-okafor"]
    assert all(n in texts[district][0] for n in others)
    cells, charts = texts[maple]
    assert [n for n in others if n in cells] == []
    assert len(charts) >= 2 and not [c for c in charts for n in others if n in c]
    assert all(n in cells for n in ("Maple Hill Elementary", "Grade 4 Reading",
                                    "Priya Natarajan"))
