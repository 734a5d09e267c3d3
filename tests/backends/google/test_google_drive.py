"""Drive folder listings and one-call change detection against the fake API."""
# ruff: noqa: F811

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sheetsync.backends.google.drive import DriveIndex
from sheetsync.backends.google.transport import GoogleConnection
from sheetsync.errors import SourceReadError
from sheetsync.testing import FakeGoogle
from sheetsync.testing.pytest_plugin import GoogleAccount


@pytest.fixture
def drive(google_connection: GoogleConnection) -> DriveIndex:
    return DriveIndex(connection=google_connection)


def test_a_folder_lists_its_spreadsheets_in_one_call(
        fake_google: FakeGoogle, google_account: GoogleAccount, drive: DriveIndex) -> None:
    folder = fake_google.add_folder("Breakthrough teams", share_with=google_account.email)
    other = fake_google.add_folder("Elsewhere", share_with=google_account.email)
    inside = {fake_google.add_spreadsheet(f"Team {i}", folder=folder) for i in range(3)}
    fake_google.add_spreadsheet("Not in the folder", folder=other)

    files = drive.list_folder(f"https://drive.google.com/drive/folders/{folder}")

    assert {f.key for f in files} == inside  # shared through the folder
    assert {f.name for f in files} == {"Team 0", "Team 1", "Team 2"}
    assert all(f.modified is not None and f.parents == (folder,) for f in files)
    assert len(fake_google.calls("drive.files.list")) == 1


def test_an_unshared_folder_is_reported_with_the_account_to_share_with(
        fake_google: FakeGoogle, google_account: GoogleAccount, drive: DriveIndex) -> None:
    folder = fake_google.add_folder("Private")
    fake_google.add_spreadsheet("Team", folder=folder)
    with pytest.raises(SourceReadError) as caught:
        drive.list_folder(folder)
    assert caught.value.code == "no-sources"
    assert google_account.email in caught.value.message


def test_one_call_tells_which_sources_changed(
        fake_google: FakeGoogle, google_account: GoogleAccount, drive: DriveIndex) -> None:
    keys = [fake_google.add_spreadsheet(f"Team {i}", share_with=google_account.email)
            for i in range(4)]
    gone = fake_google.add_spreadsheet("Lost", share_with=google_account.email)
    last_run = datetime(2026, 9, 8, 2, 0, tzinfo=UTC)
    for key in keys:
        fake_google.touch(key, last_run - timedelta(days=1))
    fake_google.touch(keys[2], last_run + timedelta(hours=5))
    fake_google.touch(gone, last_run - timedelta(days=1))
    fake_google.unshare(gone, google_account.email)
    urls = [fake_google.spreadsheet_url(k) for k in keys]

    times = drive.modified_times([*urls, gone])

    assert drive.connection.stats.api_calls() == {"drive.files.list": 1}
    assert times[keys[2]] == last_run + timedelta(hours=5)
    assert {k for k in keys if times[k] > last_run} == {keys[2]}
    assert gone not in times  # no longer shared: read again, so the read reports it


def test_editor_access_is_checked_without_writing(
        fake_google: FakeGoogle, google_account: GoogleAccount, drive: DriveIndex) -> None:
    viewer = fake_google.add_spreadsheet("Read only", share_with=google_account.email)
    editor = fake_google.add_spreadsheet("Dashboard", share_with=google_account.email,
                                         role="Editor")
    assert drive.can_edit(fake_google.spreadsheet_url(editor)) is True
    assert drive.can_edit(viewer) is False
    assert fake_google.call_counts() == {"token": 1, "drive.files.get": 2}
    with pytest.raises(SourceReadError, match="not found: check the URL/key"):
        drive.can_edit("1NotAFile000000000000000000000000000000000")
