"""``sheetsync provision``: a roster rolled out as Google Sheets (against the fake API) or as
.xlsx files, shared with exactly their owners, added to the config with its comments kept,
and never twice."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from sheetsync.cli import main
from sheetsync.config import load_config
from sheetsync.pipeline import run
from sheetsync.provision import provision
from sheetsync.provision.roster import RosterError, read_roster
from sheetsync.testing import FakeGoogle

ROSTER = """Kind,Name,Email,School,Team,Lead,Viewers
coach,Ana Adams,ana@district.org,Lincoln,,,principal.lincoln@district.org
coach,Ben Bell,ben@district.org,Maple Hill,,,
team,Grade 3 literacy,lead3@district.org,Lincoln,,Carla Diaz,principal.lincoln@district.org
"""

CONFIG = """# The district's program: comments here must survive a rollout.
include = ["sources.toml"]

[program]
name = "Riverside rollout"   # shown on the dashboard
as_of = "2026-11-04"

[google]
credentials = "{key}"
api_base = "{base}"
provision_folder = "{folder}"
quota_per_minute = 6000

[output]
google = "{dashboard}"
state_dir = "{state}"
"""

SOURCES = """# Sources rolled out by sheetsync provision; add your own below.
[[sources]]
kind = "coach"
google = "{existing}"   # the pilot coach, set up by hand
"""


@pytest.fixture
def district(tmp_path: Path):
    with FakeGoogle(seed=11) as fake:
        fake.set_quota(per_user=10_000, per_project=10_000)
        key = tmp_path / "key.json"
        robot = fake.make_service_account_key(key)
        folder = fake.add_folder("Fall rollout", share_with=robot, role="writer")
        existing = fake.add_spreadsheet_from_xlsx(
            sorted((Path(__file__).parents[2] / "sheet_templates" / "examples" / "coaches")
                   .glob("*.xlsx"))[0], share_with=robot)
        dashboard = fake.add_spreadsheet("Dashboard", share_with=robot, role="writer")
        (tmp_path / "roster.csv").write_text(ROSTER)
        (tmp_path / "district.toml").write_text(CONFIG.format(
            key=key, base=fake.base_url, folder=folder, dashboard=dashboard,
            state=tmp_path / "state"))
        (tmp_path / "sources.toml").write_text(SOURCES.format(existing=existing))
        yield fake, tmp_path, robot, folder


def test_a_roster_becomes_shared_google_sheets_and_config_entries(district) -> None:
    fake, root, robot, folder = district
    config = load_config(root / "district.toml")
    config_text = (root / "district.toml").read_text()
    said: list[str] = []
    report = provision(config, root / "roster.csv", say=said.append)
    assert len(report.created) == 3
    assert report.diff.startswith("---") and "+provision_id" in "".join(report.diff.split())
    assert any("3 sheet(s) to create" in line for line in said)

    text = (root / "sources.toml").read_text()
    assert "# Sources rolled out by sheetsync provision" in text
    assert "# the pilot coach, set up by hand" in text
    assert (root / "district.toml").read_text() == config_text  # sources go to the include

    made = fake.files_in(folder)
    assert len(made) == 3
    for entry in report.created:
        key = entry.google.split("/d/")[1].split("/")[0]
        assert key in made
        people = fake.permissions(key)
        viewers = {"principal.lincoln@district.org"} if "Lincoln" in entry.name else set()
        assert people == {robot: "owner", entry.owner: "writer",
                          **dict.fromkeys(viewers, "reader")}
    coach = report.created[0].google.split("/d/")[1].split("/")[0]
    assert fake.tab_titles(coach) == ["Instructions", "About", "Relationships", "Time Log",
                                      "Coaching Cycles", "Coaching Plan", "Lists"]
    sheets = {s["properties"]["title"]: s for s in fake.spreadsheet_json(coach, False)["sheets"]}
    assert sheets["Time Log"]["properties"]["gridProperties"]["frozenRowCount"] == 1
    assert sheets["Lists"]["properties"].get("hidden") is True
    assert fake.spreadsheet_values(coach, "About")[0] == ["Coach", "Ana Adams"]
    activity = fake.cell(coach, "Time Log", "G2")["dataValidation"]["condition"]
    assert activity["type"] == "ONE_OF_RANGE"
    assert activity["values"][0]["userEnteredValue"].startswith("='Lists'!$A$2")
    team = report.created[2].google.split("/d/")[1].split("/")[0]
    goal = dict(r[:2] for r in fake.spreadsheet_values(team, "Goal") if len(r) > 1)
    assert goal["Team Lead"] == "Carla Diaz" and goal["School"] == "Lincoln"

    # The new sheets are sources now; a run reads them all.
    outcome = run(load_config(root / "district.toml"))
    assert outcome.sources_failed == 0
    assert len(outcome.data.sources) == 4


def test_a_rerun_creates_nothing_twice_and_only_adds_new_rows(district) -> None:
    fake, root, _robot, folder = district
    provision(load_config(root / "district.toml"), root / "roster.csv", say=lambda _: None)
    fake.reset_calls()
    again = provision(load_config(root / "district.toml"), root / "roster.csv",
                      say=lambda _: None)
    assert (len(again.created), again.unchanged, again.diff) == (0, 3, "")
    assert "drive.files.create" not in fake.call_counts()
    (root / "roster.csv").write_text(
        ROSTER.replace("ben@district.org", "ben.new@district.org")
        + "coach,Dev Evans,dev@district.org,Oak Park,,,\n")
    more = provision(load_config(root / "district.toml"), root / "roster.csv",
                     say=lambda _: None)
    assert [e.name for e in more.created] == ["Coach workbook - Dev Evans (Oak Park)"]
    assert len(more.owner_changes) == 1 and "ben.new@district.org" in more.owner_changes[0]
    assert len(fake.files_in(folder)) == 4


def test_a_sheet_made_by_a_run_that_stopped_is_adopted_not_remade(district) -> None:
    fake, root, _robot, folder = district
    config = load_config(root / "district.toml")
    fake.inject_faults("drive.files.create", status=400, times=None, after=2)
    from sheetsync.provision import ProvisionError

    with pytest.raises(ProvisionError, match="Stopped after 2 of 3"):
        provision(config, root / "roster.csv", say=lambda _: None)
    fake.clear_faults()
    assert len(load_config(root / "district.toml").sources) == 3  # the 2 made, kept
    (root / "sources.toml").write_text(SOURCES.format(existing="x" * 44))  # config lost
    report = provision(load_config(root / "district.toml"), root / "roster.csv",
                       say=lambda _: None)
    assert (len(report.adopted), len(report.created)) == (2, 1)
    assert len(fake.files_in(folder)) == 3


def test_dry_run_lists_every_action_and_the_calls_and_makes_nothing(district) -> None:
    fake, root, _robot, folder = district
    before = (root / "sources.toml").read_text()
    result = CliRunner().invoke(main, ["provision", "--config", str(root / "district.toml"),
                                       "--roster", str(root / "roster.csv"), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "create 'Coach workbook - Ana Adams (Lincoln)'" in result.output
    assert "ana@district.org (Editor), principal.lincoln@district.org (Viewer)" in result.output
    # 1 listing + 3 x (create + build) + 5 shares
    assert "12 API calls" in result.output
    assert "+provision_id" in result.output  # the diff is shown
    assert fake.files_in(folder) == []
    assert (root / "sources.toml").read_text() == before


def test_excel_mode_writes_one_prefilled_workbook_per_row(district) -> None:
    _fake, root, _robot, _folder = district
    out = root / "workbooks"
    report = provision(load_config(root / "district.toml"), root / "roster.csv",
                       excel_dir=out, say=lambda _: None)
    files = sorted(p.name for p in out.glob("*.xlsx"))
    assert files == ["coach-lincoln-ana-adams.xlsx", "coach-maple-hill-ben-bell.xlsx",
                     "team-lincoln-grade-3-literacy.xlsx"]
    about = openpyxl.load_workbook(out / files[0])["About"]
    assert [about.cell(row=r, column=2).value for r in (1, 2)] == ["Ana Adams", "Lincoln"]
    assert 'path = "workbooks/coach-lincoln-ana-adams.xlsx"' in (root / "sources.toml").read_text()
    (out / files[1]).write_bytes(b"typed into by Ben")  # a coach's own work: never replaced
    again = provision(load_config(root / "district.toml"), root / "roster.csv",
                      excel_dir=out, say=lambda _: None)
    assert again.created == [] and again.unchanged == 3
    assert (out / files[1]).read_bytes() == b"typed into by Ben"
    assert len(report.created) == 3


def test_a_new_program_with_no_sources_yet_can_be_rolled_out(district) -> None:
    fake, root, _robot, folder = district
    (root / "sources.toml").write_text("# nothing rolled out yet\n")
    result = CliRunner().invoke(main, ["provision", "--config", str(root / "district.toml"),
                                       "--roster", str(root / "roster.csv")])
    assert result.exit_code == 0, result.output
    assert len(fake.files_in(folder)) == 3
    assert len(load_config(root / "district.toml").sources) == 3


def test_a_bad_roster_says_every_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("kind,name,email\ncoach,Ana,ana@x.org\nteams,,not-an-email\n"
                    "coach,Ana,ana@x.org\n")
    with pytest.raises(RosterError) as caught:
        read_roster(path)
    problems = caught.value.problems
    assert any(p.startswith("line 3: the name is empty") for p in problems)
    assert any("line 3: 'not-an-email' is not an email address" in p for p in problems)
    assert any("line 4: the same workbook as line 2" in p for p in problems)
