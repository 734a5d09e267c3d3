"""The seam to Google: routing, credentials, rate limiting, retries and call counting."""
# ruff: noqa: F811

from __future__ import annotations

import json
import random
import socket
from pathlib import Path

import pytest
from gspread.exceptions import APIError

from sheetsync.backends.google.auth import CredentialsError, load_key_file
from sheetsync.backends.google.quota import (
    ApiStats,
    RateLimiter,
    RetryPolicy,
    parse_retry_after,
)
from sheetsync.backends.google.reader import GoogleReader
from sheetsync.backends.google.settings import API_BASE_ENV, CREDENTIALS_ENV, SCOPES
from sheetsync.backends.google.transport import (
    ApiUnreachable,
    GoogleConnection,
    call_kind,
    classify_failure,
    reroute,
)
from sheetsync.testing import FakeClock, FakeGoogle
from sheetsync.testing.pytest_plugin import GoogleAccount

SHEETS = "https://sheets.googleapis.com/v4/spreadsheets/abc"


@pytest.mark.parametrize(("method", "url", "kind"), [
    ("GET", SHEETS + "?includeGridData=true", "spreadsheets.get"),
    ("POST", SHEETS + ":batchUpdate", "spreadsheets.batchUpdate"),
    ("GET", SHEETS + "/values:batchGet?ranges=A", "values.batchGet"),
    ("GET", SHEETS + "/values/%27My%20tab%27%21A1", "values.get"),
    ("PUT", SHEETS + "/values/Sheet1%21A1", "values.update"),
    ("POST", SHEETS + "/values/Sheet1:clear", "values.clear"),
    ("POST", SHEETS + "/values:batchClear", "values.batchClear"),
    ("GET", "https://www.googleapis.com/drive/v3/files?q=x", "drive.files.list"),
    ("GET", "https://www.googleapis.com/drive/v3/files/abc?fields=modifiedTime",
     "drive.files.get"),
    ("GET", "https://www.googleapis.com/drive/v3/files/abc?alt=media", "drive.files.download"),
    ("POST", "https://www.googleapis.com/drive/v3/files/abc/copy", "drive.files.copy"),
    ("POST", "https://www.googleapis.com/drive/v3/files/abc/permissions",
     "drive.permissions.create"),
    ("GET", "https://www.googleapis.com/drive/v3/files/abc/permissions",
     "drive.permissions.list"),
    ("POST", "https://www.googleapis.com/upload/drive/v3/files?uploadType=multipart",
     "drive.files.create"),
    ("GET", "https://www.googleapis.com/drive/v3/about?fields=user", "drive.about.get"),
    ("POST", "https://oauth2.googleapis.com/token", "token"),
])
def test_calls_are_named_by_kind(method: str, url: str, kind: str) -> None:
    assert call_kind(method, url) == kind


def test_only_google_hosts_are_rerouted() -> None:
    base = "http://127.0.0.1:9"
    assert reroute(SHEETS + "?a=1", base) == base + "/v4/spreadsheets/abc?a=1"
    assert reroute("https://oauth2.googleapis.com/token", base) == base + "/token"
    assert reroute("https://example.org/x", base) == "https://example.org/x"


def test_the_environment_alone_points_the_real_stack_at_the_fake(
        fake_google: FakeGoogle, google_account: GoogleAccount,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(API_BASE_ENV, fake_google.base_url)
    monkeypatch.setenv(CREDENTIALS_ENV, str(google_account.key_file))
    key = fake_google.add_spreadsheet("T", {"A": [["x"]]}, share_with=google_account.email)

    assert GoogleReader().read(key).tabs["A"].rows == [["x"]]
    assert [c.kind for c in fake_google.calls()] == ["token", "spreadsheets.get"]


def test_tokens_are_granted_only_for_a_correctly_signed_grant(
        fake_google: FakeGoogle, google_account: GoogleAccount, tmp_path: Path) -> None:
    # A key file whose private key is not the one the fake issued for that key id.
    other = tmp_path / "other.json"
    fake_google.make_service_account_key(other, name="other")
    forged = json.loads(google_account.key_file.read_text())
    forged["private_key"] = json.loads(other.read_text())["private_key"]
    forged_path = tmp_path / "forged.json"
    forged_path.write_text(json.dumps(forged))
    from google.auth.exceptions import RefreshError
    from google.auth.transport.requests import Request

    credentials = load_key_file(forged_path).credentials
    with pytest.raises(RefreshError, match="Invalid JWT Signature"):
        credentials.refresh(Request())
    good = load_key_file(google_account.key_file).credentials
    good.refresh(Request())
    assert good.valid
    assert fake_google.auth.check_token(f"Bearer {good.token}").scopes == frozenset(SCOPES)


@pytest.mark.parametrize(("change", "field"), [
    (lambda info: info.pop("client_email"), "client_email"),
    (lambda info: info.update(client_email="not an email"), "client_email"),
    (lambda info: info.update(private_key="-----BEGIN PRIVATE KEY-----\nAAAA\n"), "private_key"),
    (lambda info: info.update(token_uri="ftp://x"), "token_uri"),
    (lambda info: info.update(type="external_account"), "type"),
    (lambda info: info.pop("type"), "type"),
])
def test_a_bad_key_file_names_the_bad_field(google_account: GoogleAccount, tmp_path: Path,
                                            change, field: str) -> None:
    info = json.loads(google_account.key_file.read_text())
    change(info)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(info))
    with pytest.raises(CredentialsError) as caught:
        load_key_file(path)
    assert caught.value.field == field
    assert f'field "{field}"' in caught.value.message


def test_a_key_file_that_is_not_json_says_where(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text('{"type": "service_account",\n  "client_email": }')
    with pytest.raises(CredentialsError, match=r"not valid JSON \(line 2"):
        load_key_file(path)


def test_the_rate_limiter_never_lets_a_window_exceed_the_quota() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, 60.0, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(300):
        limiter.acquire()
        stamps.append(clock())
    for i, start in enumerate(stamps):
        in_window = sum(1 for t in stamps[i:] if t < start + 60.0)
        assert in_window <= 60
    assert stamps[-1] - stamps[0] < 60 * 300 / 50  # and it still runs near the quota


def test_the_rate_limiter_lets_a_small_run_through_at_once_then_waits_the_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, 60.0, clock=clock, sleep=clock.sleep)
    start = clock()
    for _ in range(60):
        limiter.acquire()
    assert clock() == start  # 60 calls fit the quota: no waiting at all
    assert limiter.acquire() == pytest.approx(60.0)  # the 61st waits for the first to age out
    for _ in range(59):
        limiter.acquire()
    assert clock() - start == pytest.approx(60.0)  # 120 calls: exactly one window of waiting


def test_a_slow_call_is_counted_from_its_answer() -> None:
    """The server may count a call as late as its answer: the call past the quota waits a
    whole window after the slow call's answer, not after its sending."""
    clock = FakeClock()
    limiter = RateLimiter(2, 60.0, clock=clock, sleep=clock.sleep)
    sent = clock()
    with limiter.slot():
        clock.sleep(5.0)  # a call that took 5 s to be answered
    limiter.acquire()
    assert limiter.acquire() == pytest.approx(60.0)  # not 55 s: the window runs from the answer
    assert clock() - sent == pytest.approx(65.0)


def test_calls_in_flight_hold_their_places() -> None:
    """Calls sent and not yet answered count against the quota: with every place held, the
    next call waits until one of them is answered and its window has passed."""
    import threading

    limiter = RateLimiter(2, 0.2)
    answered = threading.Event()
    held = [limiter.slot(), limiter.slot()]
    for slot in held:
        slot.__enter__()
    went: list[float] = []

    def third() -> None:
        went.append(limiter.acquire())
        answered.set()

    worker = threading.Thread(target=third)
    worker.start()
    assert not answered.wait(0.3)  # both places are held, however long they take
    for slot in held:
        slot.__exit__(None, None, None)
    assert answered.wait(2.0)
    worker.join()
    assert went[0] >= 0.3


def test_reads_and_writes_draw_on_separate_budgets(
        fake_google: FakeGoogle, google_account: GoogleAccount, google_settings,
        fake_clock: FakeClock) -> None:
    """Google counts reads and writes apart (60 a minute each per user): a write never waits
    behind a queue of reads, and neither budget is exceeded."""
    from dataclasses import replace

    key = fake_google.add_spreadsheet("T", share_with=google_account.email, role="writer")
    connection = GoogleConnection(replace(google_settings, quota_per_minute=3),
                                  clock=fake_clock, sleep=fake_clock.sleep,
                                  rng=random.Random(0))
    fake_google.set_quota(per_user=3, window=60.0)
    http = connection.http
    for _ in range(3):
        http.fetch_sheet_metadata(key)
    start = fake_clock()
    http.batch_update(key, {"requests": []})
    assert fake_clock() == start  # the read budget is spent; the write went at once
    http.fetch_sheet_metadata(key)  # the fourth read waits for the window
    assert fake_clock() - start == pytest.approx(60.0)
    assert fake_google.calls(status=429) == []


def test_drive_rate_limit_403s_are_retried(
        fake_google: FakeGoogle, google_account: GoogleAccount,
        google_connection: GoogleConnection) -> None:
    from sheetsync.backends.google.transport import DRIVE_RATE_LIMITS, drive_reasons

    key = fake_google.add_spreadsheet("T", share_with=google_account.email)
    fake_google.inject_faults("drive.files.get", status=403, reason="userRateLimitExceeded")
    answer = google_connection.http.request(
        "get", f"https://www.googleapis.com/drive/v3/files/{key}", params={"fields": "id"})
    assert answer.json() == {"id": key}
    assert [c.status for c in fake_google.calls("drive.files.get")] == [403, 200]
    assert "userRateLimitExceeded" in DRIVE_RATE_LIMITS
    assert drive_reasons(answer) == set()


def test_backoff_grows_with_jitter_within_bounds_and_honours_retry_after() -> None:
    policy = RetryPolicy(max_attempts=6, max_wait=120, base_delay=1, max_delay=32)
    rng = random.Random(5)
    delays = [policy.delay(n, rng) for n in range(1, 9)]
    for n, delay in enumerate(delays, start=1):
        step = min(32, 2 ** (n - 1))
        assert step / 2 <= delay <= step
    assert policy.delay(1, rng, retry_after=30) >= 30


@pytest.mark.parametrize(("header", "seconds"), [
    ("17", 17.0),
    ("0.5", 0.5),
    ("-3", 0.0),  # never a negative wait
    ("", None),
    (None, None),
    ("soon", None),
    ("Wed, 21 Oct 2026 07:28:00 GMT", None),  # the HTTP-date form is ignored
])
def test_retry_after_is_read_in_seconds(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


@pytest.mark.parametrize("status", [400, 403, 409])
@pytest.mark.parametrize("kind", ["spreadsheets.get", "spreadsheets.batchUpdate"])
def test_client_errors_other_than_429_are_final(
        fake_google: FakeGoogle, google_account: GoogleAccount,
        google_connection: GoogleConnection, fake_clock: FakeClock, kind: str,
        status: int) -> None:
    key = fake_google.add_spreadsheet("T", share_with=google_account.email, role="writer")
    fake_google.inject_faults(kind, status=status, times=None)
    http = google_connection.http

    with pytest.raises(APIError) as caught:
        if kind == "spreadsheets.get":
            http.fetch_sheet_metadata(key)
        else:
            http.batch_update(key, {"requests": []})

    assert caught.value.response.status_code == status
    assert [c.status for c in fake_google.calls(kind)] == [status]
    assert not google_connection.stats.retries
    assert fake_clock.slept == []


def test_a_write_that_never_reached_google_is_retried_and_every_attempt_counts(
        fake_google: FakeGoogle, google_account: GoogleAccount,
        google_connection: GoogleConnection) -> None:
    key = fake_google.add_spreadsheet("T", share_with=google_account.email, role="writer")
    http = google_connection.http
    http.login()  # the token comes from the fake; then nothing answers at the API's address
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    http.session.get_adapter(fake_google.base_url).api_base = closed

    with pytest.raises(ApiUnreachable) as caught:
        http.batch_update(key, {"requests": []})

    # Refused connections cannot have applied the write, so it is safe to send again.
    assert caught.value.attempts == google_connection.settings.max_attempts == 6
    assert classify_failure(caught.value).transient is True
    assert google_connection.stats.api_calls() == {"spreadsheets.batchUpdate": 6}
    assert google_connection.stats.retries["spreadsheets.batchUpdate"] == 5
    assert fake_google.calls("spreadsheets.batchUpdate") == []


def test_stats_summary_lists_calls_by_kind() -> None:
    stats = ApiStats()
    for kind in ["token", "spreadsheets.get", "spreadsheets.get", "spreadsheets.batchUpdate"]:
        stats.record_call(kind)
    stats.record_retry("spreadsheets.get", 1.5)
    assert stats.api_calls() == {"spreadsheets.batchUpdate": 1, "spreadsheets.get": 2}
    summary = stats.summary()
    assert "spreadsheets.get                 2  (1 retried)" in summary
    assert "total API calls                  3" in summary


def test_a_plain_gspread_client_shares_the_same_seam_and_counts(
        fake_google: FakeGoogle, google_account: GoogleAccount) -> None:
    from sheetsync.backends.google.settings import GoogleSettings

    connection = GoogleConnection(GoogleSettings(credentials_path=google_account.key_file,
                                                 api_base=fake_google.base_url))
    key = fake_google.add_spreadsheet("Team tracker", {"Weekly": [["Week"]]},
                                      share_with=google_account.email)

    import gspread

    http = connection.http
    client = gspread.Client(auth=None, http_client=lambda _auth, _session: http)  # type: ignore
    spreadsheet = client.open_by_key(key)

    assert spreadsheet.title == "Team tracker"
    assert connection.stats.api_calls() == {"spreadsheets.get": 1}
