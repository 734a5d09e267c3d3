"""What a leader sees first, in Excel and in Google Sheets, read back from the written files.

The example program is run once into an .xlsx and once into the fake Google API. Each test
reads what was written (cells, formats, fills, charts as their XML parts or ``addChart`` specs)
and checks it the way a leader would read it: the scoreboard on top, the status first, the
charts drawn as the model says, and the two backends alike, point for point.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pytest

from sheetsync.backends.google.writer import pixels
from sheetsync.config import load_config
from sheetsync.pipeline import run
from sheetsync.report.dashboard import TAB_ORDER
from sheetsync.report.model import AMBER, BLUE, GREEN, RED
from sheetsync.testing import FakeGoogle
from tests import REPO

AS_OF = date(2026, 11, 4)
EXAMPLES = REPO / "sheet_templates" / "examples"
C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


@pytest.fixture(scope="module")
def excel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("excel")
    config = load_config(REPO / "config" / "example.toml")
    config = replace(config, output=replace(config.output, path=tmp / "dashboard.xlsx",
                                            state_dir=tmp / "state"))
    run(config, as_of=AS_OF, now=datetime(2026, 11, 5, 2, 0, tzinfo=config.tz))
    return config.output.path


@pytest.fixture(scope="module")
def google(tmp_path_factory):
    """The same example in Google mode: (the dashboard as spreadsheets.get gives it, its
    values by tab)."""
    tmp = tmp_path_factory.mktemp("google")
    with FakeGoogle(seed=3) as fake:
        fake.set_quota(per_user=10_000, per_project=10_000)
        key = tmp / "key.json"
        email = fake.make_service_account_key(key)
        dash = fake.add_spreadsheet("Leaders dashboard", share_with=email, role="writer")
        lines = ['[program]', 'name = "Riverside District Breakthrough Results, Fall 2026"',
                 'timezone = "America/New_York"', "", "[google]", f'credentials = "{key}"',
                 f'api_base = "{fake.base_url}"', "quota_per_minute = 6000", "", "[output]",
                 f'google = "{dash}"', f'state_dir = "{tmp / "state"}"', ""]
        for kind, folder in (("team", "teams"), ("coach", "coaches")):
            for path in sorted((EXAMPLES / folder).glob("*.xlsx")):
                sid = fake.add_spreadsheet_from_xlsx(path, share_with=email)
                lines += ["[[sources]]", f'kind = "{kind}"', f'google = "{sid}"',
                          f'name = "{path.stem}"', ""]
        for school in load_config(REPO / "config" / "example.toml").schools:  # the regions
            lines += ["[[schools]]", f'name = "{school.name}"', f'region = "{school.region}"', ""]
        (tmp / "google.toml").write_text("\n".join(lines))
        config = load_config(tmp / "google.toml")
        run(config, as_of=AS_OF, now=datetime(2026, 11, 5, 2, 0, tzinfo=config.tz))
        resource = fake.spreadsheet_json(dash)
        values = {t: fake.spreadsheet_values(dash, t) for t in TAB_ORDER}
    return resource, values


def rows_of(path: Path, tab: str) -> list[list]:
    return [list(r) for r in openpyxl.load_workbook(path)[tab].iter_rows(values_only=True)]


def header_cell(rows: list[list], first: str, last: str) -> tuple[int, int]:
    """(row, column), 1-based, of the header cell ``first`` of the table ending with ``last``."""
    for r, row in enumerate(rows, start=1):
        cells = [c for c in row if c not in (None, "")]
        if cells and cells[0] == first and last in cells:
            return r, row.index(first) + 1
    raise AssertionError(f"no table {first}..{last}")


def sheet_of(resource: dict, title: str) -> dict:
    return next(s for s in resource["sheets"] if s["properties"]["title"] == title)


def google_cell(resource: dict, title: str, row: int, col: int) -> dict:
    """A cell's CellData (1-based row and column) from the fake's full answer."""
    block = sheet_of(resource, title)["data"][0]
    rows = block.get("rowData", [])
    if row - 1 >= len(rows):
        return {}
    values = rows[row - 1].get("values", [])
    return values[col - 1] if col - 1 < len(values) else {}


# -- the first screen ------------------------------------------------------------------------------

def test_the_first_screen_opens_on_the_scoreboard_then_the_teams(excel, google):
    wb = openpyxl.load_workbook(excel)
    assert wb.sheetnames[0] == "Dashboard" and wb.active.title == "Dashboard"
    for rows in (rows_of(excel, "Dashboard"), google[1]["Dashboard"]):
        assert rows[0][0] == "Riverside District Breakthrough Results, Fall 2026"
        assert "Week 8 complete, week 9 in progress (of 10)" in rows[1][0]
        assert "last 4 weeks = 2026-10-05 to 2026-11-01 (complete weeks)" in rows[1][0]
        score_row, _ = header_cell(rows, "Scoreboard", "Data errors")
        assert score_row + 2 <= 8  # the scoreboard and its benchmarks within rows 1-8
        team_row, status_col = header_cell(rows, "Status", "Reason and suggestion")
        assert status_col == 1 and rows[team_row - 1].index("Team") < 8
        statuses = []
        for row in rows[team_row:]:
            if not row or row[0] in (None, ""):
                break
            statuses.append(row[0])
        # teams that need support first, then on track, then met
        assert statuses == ["Off track", "Off track", "On track", "On track", "On track", "Met"]
    assert google[0]["sheets"][0]["properties"]["title"] == "Dashboard"
    assert "Sheet1" not in [s["properties"]["title"] for s in google[0]["sheets"]]


def test_scoreboard_figures_are_numbers_coloured_against_their_benchmarks(excel, google):
    ws = openpyxl.load_workbook(excel)["Dashboard"]
    top, _ = header_cell(rows_of(excel, "Dashboard"), "Scoreboard", "Data errors")
    header = [c.value for c in ws[top]]
    assert ws.cell(top + 1, 1).value == "Now" and ws.cell(top + 2, 1).value == "Benchmark"
    now = {name: ws.cell(top + 1, i + 1) for i, name in enumerate(header)}
    on_track = now["Teams on track or met"]
    assert on_track.value == pytest.approx(4 / 6) and on_track.number_format == '0%" (4 of 6)"'
    expected = {"Teams on track or met": AMBER,  # 67% against 75%, less than 10 points short
                "Teams that met their goal": BLUE,  # judged at the end of the challenge
                "Coaches at or above the 40% target": RED,  # 1 of 4 against every coach
                "Coaching share (4 weeks)": AMBER,  # 32% against 40%
                "Sources read fresh": GREEN, "Sources failed": GREEN, "Data errors": RED}
    for name, fill in expected.items():
        assert isinstance(now[name].value, int | float), name  # never text like "4 of 6"
        assert now[name].fill.fgColor.rgb == "FF" + fill, name
    g_header = google[1]["Dashboard"][top - 1]
    for name, fill in expected.items():
        cell = google_cell(google[0], "Dashboard", top + 1, g_header.index(name) + 1)
        assert "numberValue" in cell["effectiveValue"], name
        colour = cell["userEnteredFormat"]["backgroundColor"]
        shown = "".join(f"{round(colour.get(k, 0) * 255):02X}" for k in ("red", "green", "blue"))
        assert shown == fill, name


def test_the_latest_value_carries_its_week(excel, google):
    ws = openpyxl.load_workbook(excel)["Dashboard"]
    rows = rows_of(excel, "Dashboard")
    top, _ = header_cell(rows, "Status", "Reason and suggestion")
    col = rows[top - 1].index("Latest (week)") + 1
    reading = next(r for r in range(top + 1, top + 8) if ws.cell(r, 2).value == "Grade 4 Reading")
    latest = ws.cell(reading, col)
    # week 6 holds the latest value; week 8 is complete, but weeks 7 and 8 are blank
    assert latest.value == 92 and latest.number_format == '0" (wk 6)"'
    literacy = next(r for r in range(top + 1, top + 8)
                    if ws.cell(r, 2).value == "Grade 3 Literacy")
    assert ws.cell(literacy, col).number_format == '0%" (wk 8)"'
    g = google_cell(google[0], "Dashboard", reading, col)
    assert g["userEnteredFormat"]["numberFormat"]["pattern"] == '0" (wk 6)"'


def test_the_dashboard_prints_the_scoreboard_and_teams_on_one_page_wide(excel):
    ws = openpyxl.load_workbook(excel)["Dashboard"]
    rows = rows_of(excel, "Dashboard")
    top, _ = header_cell(rows, "Status", "Reason and suggestion")
    assert ws.print_area == f"'Dashboard'!$A$1:$J${top + 6}"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1


TRAILING_POINT = re.compile(r"\.(?!0)")  # a point not followed by a fixed digit: "70."


def formats_without_literals(fmt: str) -> str:
    return re.sub(r'"[^"]*"', "", fmt)


def test_no_number_format_can_show_a_trailing_point(excel, google):
    wb = openpyxl.load_workbook(excel)
    excel_formats = {c.number_format for ws in wb.worksheets for row in ws.iter_rows()
                     for c in row if c.value is not None}
    google_formats = {cell["userEnteredFormat"]["numberFormat"]["pattern"]
                      for sheet in google[0]["sheets"] for block in sheet.get("data", [])
                      for row in block.get("rowData", []) for cell in row.get("values", [])
                      if "numberFormat" in cell.get("userEnteredFormat", {})}
    for found in (excel_formats, google_formats):
        assert any('" (wk ' in f for f in found)  # the formats were really read
        bad = {f for f in found if TRAILING_POINT.search(formats_without_literals(f))}
        assert bad == set()


# -- charts, read back -----------------------------------------------------------------------------

def excel_charts(path: Path) -> list[ET.Element]:
    with zipfile.ZipFile(path) as package:
        return [ET.fromstring(package.read(n)) for n in sorted(package.namelist())
                if n.startswith("xl/charts/chart")]


def excel_title(chart: ET.Element) -> tuple[str, str | None]:
    run = chart.find(f".//{C}title//{A}r")
    colour = run.find(f"{A}rPr/{A}solidFill/{A}srgbClr")
    return run.find(f"{A}t").text, None if colour is None else colour.get("val")


def excel_series(chart: ET.Element) -> dict[str, dict]:
    found = {}
    for ser in chart.iter(f"{C}ser"):
        name_ref = ser.find(f"{C}tx/{C}strRef/{C}f").text
        line = ser.find(f"{C}spPr/{A}ln")
        marker = ser.find(f"{C}marker/{C}symbol")
        found[name_ref] = {
            "values": ser.find(f"{C}val/{C}numRef/{C}f").text,
            "colour": None if line is None or line.find(f"{A}solidFill/{A}srgbClr") is None
            else line.find(f"{A}solidFill/{A}srgbClr").get("val"),
            "no_line": line is not None and line.find(f"{A}noFill") is not None,
            "dash": None if line is None or line.find(f"{A}prstDash") is None
            or line.find(f"{A}prstDash").get("val") == "solid"
            else line.find(f"{A}prstDash").get("val"),
            "marker": None if marker is None else marker.get("val"),
            "labels": ser.find(f"{C}dLbls/{C}showVal") is not None
            and ser.find(f"{C}dLbls/{C}showVal").get("val") in ("1", "true"),
            "fill": None if ser.find(f"{C}spPr/{A}solidFill/{A}srgbClr") is None
            else ser.find(f"{C}spPr/{A}solidFill/{A}srgbClr").get("val"),
        }
    return found


def header_name(path: Path, ref: str) -> str:
    tab, cell = ref.rsplit("!", 1)
    return openpyxl.load_workbook(path)[tab.strip("'")][cell.replace("$", "")].value


def test_team_charts_in_excel_are_styled_as_progress_monitoring_graphs(excel):
    charts = {excel_title(c)[0]: c for c in excel_charts(excel)}
    chart = charts["Grade 4 Reading, Maple Hill Elementary: Off track"]
    assert excel_title(chart)[1] == "C00000"  # the title in the status's colour
    assert chart.find(f".//{C}dispBlanksAs").get("val") == "span"  # blank weeks, no gaps
    assert chart.find(f".//{C}legend") is None  # the tab's key line explains the marks
    series = {header_name(excel, ref): s for ref, s in excel_series(chart).items()}
    assert list(series) == ["Value", "Goal line", "Latest", "Target", "Strategy changed"]
    assert series["Value"]["marker"] == "circle" and series["Value"]["dash"] is None
    assert series["Goal line"]["dash"] == "dash" and series["Goal line"]["colour"] == "8C8C8C"
    assert series["Goal line"]["marker"] == "none"
    assert series["Latest"]["labels"] and series["Latest"]["no_line"]
    assert series["Target"]["labels"] and series["Target"]["marker"] == "square"
    assert series["Strategy changed"]["marker"] == "triangle"
    assert series["Strategy changed"]["no_line"]
    # the series draw from the team's rows of the Chart Data tab, week 0 to week 10
    first, last = (int(n) for n in re.findall(r"\$(\d+)", series["Value"]["values"]))
    weeks = [r[1] for r in rows_of(excel, "Chart Data")[first - 1:last]]
    teams = {r[0] for r in rows_of(excel, "Chart Data")[first - 1:last]}
    assert weeks == list(range(11)) and teams == {"Grade 4 Reading, Maple Hill Elementary"}
    assert len(charts) == 7  # six teams and the coaches' time


def test_the_coach_chart_shows_shares_with_the_target_in_the_table_order(excel):
    chart = next(c for c in excel_charts(excel)
                 if excel_title(c)[0].startswith("Where coaches' time goes"))
    bars = chart.find(f".//{C}barChart")
    assert bars.find(f"{C}grouping").get("val") == "stacked"
    bar_series = [header_name(excel, s.find(f"{C}tx/{C}strRef/{C}f").text)
                  for s in bars.iter(f"{C}ser")]
    # Natarajan's "Obsrvation" of Monday Oct 5 falls in the last 4 complete weeks: its minutes
    # are counted as Unknown, visibly
    assert bar_series == ["Coaching with teachers", "Collaborative", "Other duties", "Unknown"]
    line = chart.find(f".//{C}lineChart")
    (target,) = [header_name(excel, s.find(f"{C}tx/{C}strRef/{C}f").text)
                 for s in line.iter(f"{C}ser")]
    assert target == "Target (40%)"
    assert chart.find(f".//{C}valAx/{C}scaling/{C}max").get("val") == "1"
    rows = rows_of(excel, "Dashboard")
    top, _ = header_cell(rows, "Status", "Note")
    table_order = []
    for row in rows[top:]:
        if not row or row[0] is None:
            break
        table_order.append(row[1])
    categories = chart.find(f".//{C}cat//{C}f").text
    tab, cells = categories.rsplit("!", 1)
    first, last = (int(re.sub(r"\D", "", c)) for c in cells.split(":"))
    data = openpyxl.load_workbook(excel)[tab.strip("'")]
    column = re.sub(r"[^A-Z]", "", cells.split(":")[0])
    assert [data[f"{column}{r}"].value for r in range(first, last + 1)] == table_order


def google_charts(resource: dict) -> dict[str, dict]:
    return {c["spec"]["title"]: c for s in resource["sheets"] for c in s.get("charts", [])}


def test_google_charts_match_the_excel_ones_point_for_point(excel, google):
    resource = google[0]
    ids = {s["properties"]["sheetId"]: s["properties"]["title"] for s in resource["sheets"]}
    g_charts = google_charts(resource)
    x_charts = {excel_title(c)[0]: c for c in excel_charts(excel)}
    assert set(g_charts) == set(x_charts)
    dashes = {"MEDIUM_DASHED": "dash", "SOLID": None, "INVISIBLE": None}
    shapes = {"CIRCLE": "circle", "SQUARE": "square", "TRIANGLE": "triangle"}
    for title, g in g_charts.items():
        basic = g["spec"]["basicChart"]
        x_series = list(excel_series(x_charts[title]).values())
        assert len(basic["series"]) == len(x_series), title
        for gs, xs in zip(basic["series"], x_series, strict=True):
            source = gs["series"]["sourceRange"]["sources"][0]
            assert ids[source["sheetId"]] == "Chart Data"
            letter = openpyxl.utils.get_column_letter(source["startColumnIndex"] + 1)
            # the same cells (with headerCount 1, Google's range starts at the header)
            first = source["startRowIndex"] + 1 + basic["headerCount"]
            assert xs["values"] == (f"'Chart Data'!${letter}${first}:"
                                    f"${letter}${source['endRowIndex']}"), title
            rgb = gs["colorStyle"]["rgbColor"]
            colour = "".join(f"{round(rgb.get(k, 0) * 255):02X}"
                             for k in ("red", "green", "blue"))
            assert colour in (xs["colour"], xs["fill"]) or xs["no_line"], title
            if "lineStyle" in gs:
                assert dashes[gs["lineStyle"]["type"]] == xs["dash"], title
                assert (gs["lineStyle"]["type"] == "INVISIBLE") == xs["no_line"], title
                assert shapes.get(gs.get("pointStyle", {}).get("shape"), "none") == \
                    xs["marker"], title
                assert ("dataLabel" in gs) == xs["labels"], title
        if basic["chartType"] == "LINE":
            assert basic["interpolateNulls"] is True and basic["legendPosition"] == "NO_LEGEND"
            colour = g["spec"]["titleTextFormat"]["foregroundColor"]
            shown = "".join(f"{round(colour.get(k, 0) * 255):02X}"
                            for k in ("red", "green", "blue"))
            assert shown == excel_title(x_charts[title])[1]
        else:
            assert basic["chartType"] == "COMBO" and basic["stackedType"] == "STACKED"
            assert [s["type"] for s in basic["series"]] == \
                    ["COLUMN"] * (len(x_series) - 1) + ["LINE"]  # the groups, then the target


def test_frozen_rows_colours_and_widths_match_between_the_backends(excel, google):
    wb = openpyxl.load_workbook(excel)
    for title in TAB_ORDER:
        ws, sheet = wb[title], sheet_of(google[0], title)
        frozen = sheet["properties"]["gridProperties"].get("frozenRowCount", 0)
        assert (ws.freeze_panes or "A1") == f"A{frozen + 1}", title
        x_rules = sum(len(r.rules) for r in ws.conditional_formatting)
        assert len(sheet.get("conditionalFormats", [])) == x_rules, title
        # every column with something in it gets the width it has in Excel (not 100 px)
        used = max((len(r.get("values", [])) for r in sheet["data"][0].get("rowData", [])),
                   default=0)
        widths = sheet["data"][0]["columnMetadata"][:used]
        excel_widths = {c: dim.width for dim in list(ws.column_dimensions.values())
                        for c in range(dim.min, dim.max + 1) if c <= used}
        assert len(excel_widths) >= used - 2, title  # at most the spacers between tables
        assert {c: widths[c - 1]["pixelSize"] for c in excel_widths} == {
            c: pixels(w) for c, w in excel_widths.items()}, title


# -- the other tabs ----

def test_weekly_update_and_relationships_have_narrow_first_columns(excel):
    wb = openpyxl.load_workbook(excel)
    for title in ("Weekly Update", "Relationships"):
        assert wb[title].column_dimensions["A"].width < 30, title


def test_coach_time_has_no_all_zero_unknown_rows(excel):
    rows = rows_of(excel, "Coach Time")
    groups = [r for r in rows[2:] if r[3] == "Unknown"]
    assert groups and all(r[4] for r in groups)  # Natarajan's typo'd activity, and only it
    assert {r[0] for r in groups} == {"Priya Natarajan"}


def test_the_relationship_grid_is_a_heat_map_hidden_below_five_rated(excel):
    ws = openpyxl.load_workbook(excel)["Relationships"]
    rows = rows_of(excel, "Relationships")
    top, _ = header_cell(rows, "Coach", "Teachers rated")
    grid_top, _ = header_cell(rows[top:], "Coach", "Engagement 3 (high)")
    grid_top += top
    grid = rows[grid_top:grid_top + 12]
    natarajan = [r for r in grid if r[0] == "Priya Natarajan" or (r[0] is None and r[1])]
    block = grid[6:9]
    assert block[0][0] == "Priya Natarajan" and block[0][5].startswith("hidden")
    assert all(v is None for r in block for v in r[2:5])  # 4 rated: no counts shown
    assert natarajan
    okafor = grid[9:12]
    assert [r[1] for r in okafor] == ["3 (high)", "2", "1 (low)"]
    assert sum(v for r in okafor for v in r[2:5]) == 15
    scales = [r for cf in ws.conditional_formatting for r in cf.rules if r.type == "colorScale"]
    assert len(scales) == 1
