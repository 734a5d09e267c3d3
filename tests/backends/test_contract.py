"""One contract, every backend: Excel files, Google Sheets (through the real gspread stack
against the fake API) and the in-memory backend answer the pipeline the same way.

Each backend gets the same example workbooks through a small "place" that knows how to put a
file there and read a written tab back; the tests below never ask which backend they run on.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import sheetsync
from sheetsync.backends.base import Source, SourceEntry, Target
from sheetsync.backends.excel import ExcelBackend
from sheetsync.backends.excel.reader import read_excel
from sheetsync.backends.google.backend import GoogleBackend
from sheetsync.backends.memory import MemoryBackend
from sheetsync.errors import SourceReadError, TargetWriteError
from sheetsync.report.model import Sheet, Table
from tests import REPO

EXAMPLES = REPO / "sheet_templates" / "examples"
TEAM = EXAMPLES / "teams" / "cedar-grove-grade3-literacy.xlsx"
COACH = EXAMPLES / "coaches" / "renata-okafor.xlsx"
NOW = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)


class ExcelPlace:
    name = "excel"

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "drive"
        self.root.mkdir()
        self.backend = ExcelBackend()

    def put(self, name: str, xlsx: Path) -> str:
        path = self.root / f"{name}.xlsx"
        shutil.copyfile(xlsx, path)
        return str(path)

    def target(self) -> str:
        book = openpyxl.Workbook()
        book.active.title = "My notes"
        book.active["A1"] = "keep me"
        path = self.root.parent / "dashboard.xlsx"
        book.save(path)
        return str(path)

    def values(self, target: str, tab: str) -> list[list[Any]]:
        sheet = openpyxl.load_workbook(target)[tab]
        return [[c for c in row] for row in sheet.iter_rows(values_only=True)]

    def tabs(self, location: str) -> list[str]:
        return openpyxl.load_workbook(location).sheetnames


class GooglePlace:
    name = "google"

    def __init__(self, fake, account, settings) -> None:
        self.fake, self.account = fake, account
        self.backend = GoogleBackend(settings, scope=str(id(self)))

    def put(self, name: str, xlsx: Path, key: str | None = None) -> str:
        if key is not None:
            self.fake.delete_spreadsheet(key)
        key = self.fake.add_spreadsheet_from_xlsx(xlsx, title=name, spreadsheet_id=key,
                                                  share_with=self.account.email, role="writer")
        return key

    def target(self) -> str:
        return self.fake.add_spreadsheet("Dashboard", {"My notes": [["keep me"]]},
                                         share_with=self.account.email, role="writer")

    def values(self, target: str, tab: str) -> list[list[Any]]:
        return self.fake.spreadsheet_values(target, tab)

    def tabs(self, location: str) -> list[str]:
        return self.fake.tab_titles(location)


class MemoryPlace:
    name = "memory"

    def __init__(self) -> None:
        self.backend = MemoryBackend()

    def put(self, name: str, xlsx: Path) -> str:
        self.backend.put(name, read_excel(xlsx))
        return name

    def target(self) -> str:
        self.backend.write_tabs("dashboard", [Sheet("My notes", tables=[
            Table(columns=["keep me"], rows=[])])], NOW)
        return "dashboard"

    def values(self, target: str, tab: str) -> list[list[Any]]:
        sheet = self.backend.targets[target][tab]
        table = sheet.tables[0]
        return [list(table.columns), *[list(r) for r in table.rows]]

    def tabs(self, location: str) -> list[str]:
        if location in self.backend.targets:
            return list(self.backend.targets[location])
        return [*self.backend.workbooks[location].tabs, *(
            ["Sheetsync Flags"] if location in self.backend.flags else [])]


@pytest.fixture(params=["excel", "google", "memory"])
def place(request, tmp_path):
    if request.param == "excel":
        return ExcelPlace(tmp_path)
    if request.param == "google":
        return GooglePlace(request.getfixturevalue("fake_google"),
                           request.getfixturevalue("google_account"),
                           request.getfixturevalue("google_settings"))
    return MemoryPlace()


def _entry(place, kind: str, location: str, **kw) -> SourceEntry:
    return SourceEntry(kind=kind, backend=place.name, location=location, **kw)


def test_an_entry_lists_its_workbook_and_reading_it_gives_every_tab(place):
    location = place.put("okafor", COACH)
    listing = place.backend.sources(_entry(place, "coach", location, name="Okafor"))
    assert [(s.name, s.kind, s.backend) for s in listing.sources] == [("Okafor", "coach",
                                                                       place.name)]
    raw = place.backend.read(listing.sources[0])
    expected = read_excel(COACH)
    assert list(raw.tabs) == list(expected.tabs)
    # the same cells, whatever the backend: the Time Log's header row and first entry's minutes
    header = next(r for r in raw.tabs["Time Log"].rows if "Date" in [str(c) for c in r])
    assert "Activity" in [str(c) for c in header]


def test_a_changed_workbook_has_a_new_version_and_an_unchanged_one_keeps_it(place):
    location = place.put("team", TEAM)
    source = place.backend.sources(_entry(place, "team", location)).sources[0]
    first = place.backend.versions([source]).get(location) or source.version
    assert first and place.backend.unchanged(first, first)
    if isinstance(place, GooglePlace):
        place.put("team", COACH, key=location)
        place.fake.touch(location, datetime.now(UTC) + timedelta(hours=1))
    else:
        place.put("team", COACH)
    second = place.backend.versions([source]).get(location)
    assert second and not place.backend.unchanged(first, second)


def test_a_missing_workbook_is_a_source_read_error(place):
    ghost = Source("ghost", "team", "1GhostGhostGhostGhostGhostGhost00" if place.name == "google"
                   else str(Path("/nonexistent/ghost.xlsx")) if place.name == "excel"
                   else "ghost", place.name)
    with pytest.raises(SourceReadError) as caught:
        place.backend.read(ghost)
    assert caught.value.message


def test_managed_tabs_are_written_and_the_users_own_tab_is_kept(place):
    target = place.target()
    table = Table(columns=["Team", "Status"], rows=[["Grade 3", "On track"]])
    place.backend.write_tabs(target, [Sheet("Dashboard", tables=[table])], NOW)
    assert place.values(target, "Dashboard")[:2] == [["Team", "Status"], ["Grade 3", "On track"]]
    assert "My notes" in place.tabs(target)
    assert place.values(target, "My notes")[0][0] == "keep me"


def test_a_source_gets_its_own_flags_tab(place):
    location = place.put("okafor", COACH)
    source = place.backend.sources(_entry(place, "coach", location)).sources[0]
    flags = Sheet("Sheetsync Flags", tables=[Table(columns=["Severity", "Message"],
                                                   rows=[["error", "Not a date"]])])
    place.backend.write_flags(source, flags)
    assert "Sheetsync Flags" in place.tabs(location)


def test_the_whole_run_gives_the_same_figures_through_every_backend(place, tmp_path):
    config = sheetsync.load_config(REPO / "config" / "example.toml")
    entries = []
    for kind, folder in (("team", "teams"), ("coach", "coaches")):
        for xlsx in sorted((EXAMPLES / folder).glob("*.xlsx")):
            location = place.put(xlsx.stem, xlsx)
            entries.append(_entry(place, kind, location, name=xlsx.stem, index=len(entries)))
    config = replace(config, sources=tuple(entries),
                     output=replace(config.output, state_dir=tmp_path / "state"))
    target = Target(place.name, place.target())
    outcome = sheetsync.run(config, output=target, now=NOW,
                            backends={place.name: place.backend})
    excel = sheetsync.run(sheetsync.load_config(REPO / "config" / "example.toml"),
                          output=tmp_path / "reference.xlsx", now=NOW, use_cache=False,
                          take_lock=False)

    def figures(o):
        teams = o.analysis.teams.teams
        return sorted(zip(teams["source"], teams["status"], teams["latest_value"], strict=True))

    assert [s.state for s in outcome.data.sources] == ["ok"] * 10
    assert figures(outcome) == figures(excel)
    coaches = outcome.analysis.coaches.overview
    reference = excel.analysis.coaches.overview
    assert sorted(coaches["minutes_recent"]) == sorted(reference["minutes_recent"])
    assert "Dashboard" in place.tabs(target.location)


def test_a_target_the_backend_cannot_write_is_a_target_write_error(place, tmp_path):
    if place.name == "memory":
        target = ""
    elif place.name == "excel":
        target = str(tmp_path / "dashboard.csv")
    else:
        target = place.fake.add_spreadsheet("Viewer only", share_with=place.account.email,
                                            role="reader")
    with pytest.raises(TargetWriteError):
        place.backend.write_tabs(target, [Sheet("Dashboard")], NOW)
