"""Reading Google sources with the real gspread + google-auth stack against the fake API."""
# ruff: noqa: F811

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, time
from pathlib import Path

import pytest

from sheetsync.backends.base import RawWorkbook
from sheetsync.backends.google.reader import GoogleReader
from sheetsync.backends.google.transport import GoogleConnection
from sheetsync.errors import SourceReadError
from sheetsync.testing import FakeClock, FakeGoogle
from sheetsync.testing.pytest_plugin import GoogleAccount

TIME_LOG = [
    ["Coach time log: Ms. Rivera"],
    [],
    ["Date", "Teacher", "Mins", "Share", "Done"],
    [date(2026, 9, 8), "A. Lopez", 30, 0.85, True],
    [date(2026, 9, 9), "=not a formula", 45, "85%", False],
    [datetime(2026, 9, 10, 14, 30), "B. Chen", 15.5, "#DIV/0!", None],
]


def sheets_calls(google: FakeGoogle, spreadsheet_id: str | None = None) -> int:
    return len(google.calls("spreadsheets", spreadsheet_id=spreadsheet_id)) + len(
        google.calls("values", spreadsheet_id=spreadsheet_id))


@pytest.fixture
def reader(google_connection: GoogleConnection) -> GoogleReader:
    return GoogleReader(connection=google_connection)


def test_every_tab_is_read_in_one_sheets_call_with_dates_converted(
        fake_google: FakeGoogle, google_account: GoogleAccount, reader: GoogleReader) -> None:
    key = fake_google.add_spreadsheet(
        "Rivera coaching log", {"Time Log": TIME_LOG, "Relationships": [["Teacher"], ["A"]],
                                "Empty": []},
        share_with=google_account.email, hidden_rows={"Time Log": {5}})

    workbook = reader.read(fake_google.spreadsheet_url(key))

    assert sheets_calls(fake_google) == 1
    assert fake_google.calls("spreadsheets.get")[0].status == 200
    assert workbook.title == "Rivera coaching log"
    assert list(workbook.tabs) == ["Time Log", "Relationships", "Empty"]
    rows = workbook.tabs["Time Log"].rows
    assert rows[0] == ["Coach time log: Ms. Rivera"]
    assert rows[1] == []  # a blank row inside the data survives, trailing ones do not
    assert rows[3] == [date(2026, 9, 8), "A. Lopez", 30, 0.85, True]
    assert rows[4] == [date(2026, 9, 9), "=not a formula", 45, "85%", False]
    assert rows[5][:4] == [datetime(2026, 9, 10, 14, 30), "B. Chen", 15.5, "#DIV/0!"]
    assert workbook.tabs["Time Log"].hidden_rows == frozenset({5})
    assert workbook.tabs["Empty"].rows == []


def test_a_bare_key_works_like_a_url(fake_google: FakeGoogle, google_account: GoogleAccount,
                                     reader: GoogleReader) -> None:
    key = fake_google.add_spreadsheet("T", {"Weekly": [["Week", "Value"], [1, 0.7]]},
                                      share_with=google_account.email)
    assert reader.read(key).tabs["Weekly"].rows == [["Week", "Value"], [1, 0.7]]


def test_an_uploaded_xlsx_reads_back_with_its_date_formats_and_hidden_rows(
        fake_google: FakeGoogle, google_account: GoogleAccount, reader: GoogleReader,
        tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Team Data"
    sheet.append(["Week", "Date", "Metric"])
    sheet.append([1, date(2026, 9, 8), 0.7])
    sheet.append([2, datetime(2026, 9, 15), 0.75])
    sheet["C2"].number_format = "0%"
    sheet.row_dimensions[3].hidden = True
    path = tmp_path / "team.xlsx"
    book.save(path)
    key = fake_google.add_spreadsheet_from_xlsx(path, share_with=google_account.email)

    tab = reader.read(key).tabs["Team Data"]

    assert tab.rows == [["Week", "Date", "Metric"], [1, date(2026, 9, 8), 0.7],
                        [2, datetime(2026, 9, 15), 0.75]]  # a date-time format stays one
    assert tab.hidden_rows == frozenset({3})


def test_time_cells_and_durations(fake_google: FakeGoogle, google_account: GoogleAccount,
                                  reader: GoogleReader) -> None:
    key = fake_google.add_spreadsheet("T", {"Log": [[time(9, 30)]]},
                                      share_with=google_account.email)
    assert reader.read(key).tabs["Log"].rows == [[time(9, 30)]]


def test_sheetsync_managed_tabs_are_not_read_as_source_data(
        fake_google: FakeGoogle, google_account: GoogleAccount, reader: GoogleReader) -> None:
    key = fake_google.add_spreadsheet("T", {
        "Weekly": [["Week"]],
        "_sheetsync": [["key", "value"], ["format", 1], ["managed_tab", "Sheetsync Flags"]],
        "Sheetsync Flags": [["Severity"], ["error"]],
    }, share_with=google_account.email)
    assert list(reader.read(key).tabs) == ["Weekly"]


def test_unshared_spreadsheet_names_the_account_to_share_with(
        fake_google: FakeGoogle, google_account: GoogleAccount, reader: GoogleReader) -> None:
    key = fake_google.add_spreadsheet("Private", {"A": [["x"]]})
    url = fake_google.spreadsheet_url(key)

    with pytest.raises(SourceReadError) as caught:
        reader.read(url)

    assert caught.value.message == (
        f"Share {url} with {google_account.email} (Viewer for sources, Editor for the "
        "dashboard and for sources with write-back).")
    assert caught.value.transient is False
    assert fake_google.calls("spreadsheets.get")[0].status == 403
    assert len(fake_google.calls("spreadsheets.get")) == 1  # a 403 is not retried


def test_missing_spreadsheet_says_check_the_url(fake_google: FakeGoogle, reader: GoogleReader
                                                ) -> None:
    with pytest.raises(SourceReadError) as caught:
        reader.read("1DoesNotExist0000000000000000000000000000000")
    assert "not found: check the URL/key" in caught.value.message
    assert caught.value.transient is False
    assert [c.status for c in fake_google.calls("spreadsheets.get")] == [404]


def test_a_source_losing_its_sharing_mid_run_fails_alone(
        fake_google: FakeGoogle, google_account: GoogleAccount, reader: GoogleReader) -> None:
    keys = [fake_google.add_spreadsheet(f"Team {i}", {"Weekly": [["Week"], [i]]},
                                        share_with=google_account.email) for i in range(3)]
    assert reader.read(keys[1]).tabs["Weekly"].rows == [["Week"], [1]]
    fake_google.unshare(keys[1], google_account.email)

    results = reader.read_many(keys, workers=3)

    assert isinstance(results[keys[0]], RawWorkbook)
    assert isinstance(results[keys[2]], RawWorkbook)
    lost = results[keys[1]]
    assert isinstance(lost, SourceReadError)
    assert lost.message.startswith(f"Share {keys[1]} with {google_account.email}")
    assert sheets_calls(fake_google) == 4  # one call per read, no retries of the 403


def test_read_many_costs_one_call_per_source_and_one_token(
        fake_google: FakeGoogle, google_account: GoogleAccount, reader: GoogleReader) -> None:
    keys = [fake_google.add_spreadsheet(f"Coach {i}", {"Time Log": [["Date"]]},
                                        share_with=google_account.email) for i in range(6)]
    results = reader.read_many(keys, workers=3)
    assert all(isinstance(r, RawWorkbook) for r in results.values())
    for key in keys:
        assert sheets_calls(fake_google, key) == 1
    assert len(fake_google.calls("token")) == 1
    assert reader.connection.stats.api_calls() == {"spreadsheets.get": 6}


def test_an_expired_token_is_refreshed_transparently(
        fake_google: FakeGoogle, google_account: GoogleAccount, reader: GoogleReader) -> None:
    key = fake_google.add_spreadsheet("T", {"A": [["x"]]}, share_with=google_account.email)
    reader.read(key)
    fake_google.auth.revoke_all(google_account.email)  # the server forgets the token

    assert reader.read(key).tabs["A"].rows == [["x"]]
    assert [c.status for c in fake_google.calls("spreadsheets.get")] == [200, 401, 200]
    assert len(fake_google.calls("token")) == 2


# --------------------------------------------------------------------------- quota and faults

def test_429_storm_is_ridden_out_with_bounded_backoff(
        fake_google: FakeGoogle, google_account: GoogleAccount, google_settings,
        fake_clock: FakeClock) -> None:
    # Another program shares the account: the server allows 3 reads a minute, while our own
    # limiter thinks we may do 600.
    fake_google.set_quota(per_user=3, window=60)
    connection = GoogleConnection(replace(google_settings, quota_per_minute=600, max_attempts=8,
                                          max_wait=300), clock=fake_clock,
                                  sleep=fake_clock.sleep, rng=random.Random(1))
    reader = GoogleReader(connection=connection)
    keys = [fake_google.add_spreadsheet(f"Team {i}", {"Weekly": [["Week"], [i]]},
                                        share_with=google_account.email) for i in range(7)]

    workbooks = [reader.read(key) for key in keys]

    assert [w.tabs["Weekly"].rows[1] for w in workbooks] == [[i] for i in range(7)]
    throttled = fake_google.calls("spreadsheets.get", status=429)
    assert throttled, "the storm should have produced 429s"
    assert len(fake_google.calls("spreadsheets.get", status=200)) == 7
    backoffs = [s for s in fake_clock.slept if s > 0]
    assert backoffs and max(backoffs) <= 32.0  # RetryPolicy.max_delay
    assert connection.stats.retries["spreadsheets.get"] == len(throttled)


def test_endless_429_gives_up_within_the_configured_bounds(
        fake_google: FakeGoogle, google_account: GoogleAccount, google_settings,
        fake_clock: FakeClock) -> None:
    fake_google.set_quota(per_user=0, window=60)
    connection = GoogleConnection(replace(google_settings, max_attempts=4, max_wait=60),
                                  clock=fake_clock, sleep=fake_clock.sleep, rng=random.Random(2))
    key = fake_google.add_spreadsheet("T", {"A": [["x"]]}, share_with=google_account.email)
    started = fake_clock()

    with pytest.raises(SourceReadError) as caught:
        GoogleReader(connection=connection).read(key)

    assert caught.value.transient is True
    assert "quota" in caught.value.message
    assert len(fake_google.calls("spreadsheets.get", status=429)) == 4  # max_attempts
    assert fake_clock() - started <= 60 + 1  # max_wait (plus the limiter's first token)


def test_retry_after_is_honoured(fake_google: FakeGoogle, google_account: GoogleAccount,
                                 reader: GoogleReader, fake_clock: FakeClock) -> None:
    key = fake_google.add_spreadsheet("T", {"A": [["x"]]}, share_with=google_account.email)
    fake_google.inject_faults("spreadsheets.get", status=429, retry_after=17)

    reader.read(key)

    assert max(fake_clock.slept) >= 17


def test_waiting_stops_at_max_wait_even_with_attempts_left(
        fake_google: FakeGoogle, google_account: GoogleAccount, google_settings,
        fake_clock: FakeClock) -> None:
    # Google asks for 30 s each time: a 60 s budget pays for two waits, and a third would
    # take the total past it, so the third answer is final although 10 attempts were allowed.
    fake_google.inject_faults("spreadsheets.get", status=429, retry_after=30, times=None)
    connection = GoogleConnection(replace(google_settings, max_attempts=10, max_wait=60),
                                  clock=fake_clock, sleep=fake_clock.sleep, rng=random.Random(5))
    key = fake_google.add_spreadsheet("T", {"A": [["x"]]}, share_with=google_account.email)

    with pytest.raises(SourceReadError) as caught:
        GoogleReader(connection=connection).read(key)

    assert caught.value.transient is True
    assert fake_clock.slept == [30, 30]  # Retry-After, not the 1-2 s the backoff would pick
    assert len(fake_google.calls("spreadsheets.get", status=429)) == 3
    # Every attempt is an API call; the two waits are its retries.
    assert connection.stats.api_calls() == {"spreadsheets.get": 3}
    assert connection.stats.retries["spreadsheets.get"] == 2
    assert connection.stats.backoff_seconds == 60


def test_the_client_limiter_keeps_a_busy_run_under_the_quota(
        fake_google: FakeGoogle, google_account: GoogleAccount, google_settings,
        fake_clock: FakeClock) -> None:
    fake_google.set_quota(per_user=10, window=60)
    connection = GoogleConnection(replace(google_settings, quota_per_minute=10),
                                  clock=fake_clock, sleep=fake_clock.sleep, rng=random.Random(3))
    key = fake_google.add_spreadsheet("T", {"A": [["x"]]}, share_with=google_account.email)
    started = fake_clock()

    for _ in range(25):
        GoogleReader(connection=connection).read(key)

    assert fake_google.calls("spreadsheets.get", status=429) == []
    assert fake_clock() - started >= 60 * 1.5  # 25 reads at 10 a minute take over 1.5 minutes


@pytest.mark.parametrize("fault", [
    {"status": 500, "times": 2},
    {"status": 503, "times": 1},
    {"status": None, "drop": True, "times": 2},
])
def test_server_errors_and_dropped_connections_are_retried(
        fake_google: FakeGoogle, google_account: GoogleAccount, reader: GoogleReader,
        fault: dict) -> None:
    key = fake_google.add_spreadsheet("T", {"A": [["x"]]}, share_with=google_account.email)
    fake_google.inject_faults("spreadsheets.get", **fault)

    assert reader.read(key).tabs["A"].rows == [["x"]]
    assert len(fake_google.calls("spreadsheets.get")) == fault["times"] + 1


def test_a_slow_answer_times_out_and_is_retried(
        fake_google: FakeGoogle, google_account: GoogleAccount, google_settings,
        fake_clock: FakeClock) -> None:
    connection = GoogleConnection(replace(google_settings, timeout=0.2), clock=fake_clock,
                                  sleep=fake_clock.sleep, rng=random.Random(4))
    key = fake_google.add_spreadsheet("T", {"A": [["x"]]}, share_with=google_account.email)
    fake_google.inject_faults("spreadsheets.get", status=None, delay=0.6)

    assert GoogleReader(connection=connection).read(key).tabs["A"].rows == [["x"]]
    assert connection.stats.retries["spreadsheets.get"] == 1


def test_a_persistent_outage_is_a_transient_failure(
        fake_google: FakeGoogle, google_account: GoogleAccount, reader: GoogleReader) -> None:
    key = fake_google.add_spreadsheet("T", {"A": [["x"]]}, share_with=google_account.email)
    fake_google.inject_faults("spreadsheets.get", status=500, times=None)

    with pytest.raises(SourceReadError) as caught:
        reader.read(key)

    assert caught.value.transient is True
    assert len(fake_google.calls("spreadsheets.get")) == reader.connection.settings.max_attempts
