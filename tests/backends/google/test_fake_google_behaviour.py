"""The fake Google API's behaviours beyond the recorded contract: auth, quotas, atomicity,
render options, quoted tab names, field masks, Drive queries, faults and the standalone server."""
# ruff: noqa: F811

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from sheetsync.testing import FakeClock, FakeGoogle

ACCOUNT = "tester@sheetsync-test.iam.gserviceaccount.com"
SPREADSHEETS = "https://www.googleapis.com/auth/spreadsheets"
DRIVE_READONLY = "https://www.googleapis.com/auth/drive.readonly"


def api(google: FakeGoogle, method: str, path: str, token: str | None, **kwargs
        ) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, google.base_url + path, headers=headers, timeout=10,
                            **kwargs)


@pytest.fixture
def token(fake_google: FakeGoogle) -> str:
    return fake_google.issue_token(ACCOUNT, (SPREADSHEETS, DRIVE_READONLY))


def test_requests_without_a_bearer_token_get_401(fake_google: FakeGoogle) -> None:
    key = fake_google.add_spreadsheet("T", share_with=ACCOUNT)
    answer = api(fake_google, "GET", f"/v4/spreadsheets/{key}", None)
    assert answer.status_code == 401
    assert answer.json()["error"]["status"] == "UNAUTHENTICATED"
    assert "WWW-Authenticate" in answer.headers
    assert api(fake_google, "GET", f"/v4/spreadsheets/{key}", "forged").status_code == 401


def test_viewers_cannot_write_and_scopes_are_enforced(fake_google: FakeGoogle, token: str
                                                      ) -> None:
    key = fake_google.add_spreadsheet("T", share_with=ACCOUNT, role="Viewer")
    body = {"requests": [{"addSheet": {"properties": {"title": "X"}}}]}
    denied = api(fake_google, "POST", f"/v4/spreadsheets/{key}:batchUpdate", token, json=body)
    assert denied.status_code == 403
    assert denied.json()["error"]["status"] == "PERMISSION_DENIED"
    fake_google.share(key, ACCOUNT, "Editor")
    drive_only = fake_google.issue_token(ACCOUNT, (DRIVE_READONLY,))
    narrow = api(fake_google, "POST", f"/v4/spreadsheets/{key}:batchUpdate", drive_only,
                 json=body)
    assert narrow.status_code == 403
    assert narrow.json()["error"]["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    assert api(fake_google, "POST", f"/v4/spreadsheets/{key}:batchUpdate", token,
               json=body).status_code == 200


def test_quota_per_user_and_per_project_with_a_configurable_window(
        fake_google: FakeGoogle, fake_clock: FakeClock) -> None:
    fake_google.set_quota(per_user=2, per_project=3, window=10)
    key = fake_google.add_spreadsheet("T", share_with="anyone")
    fake_google.share(key, "anyone", "reader")
    first = fake_google.issue_token("a@p.iam.gserviceaccount.com", (SPREADSHEETS,), project="p")
    second = fake_google.issue_token("b@p.iam.gserviceaccount.com", (SPREADSHEETS,), project="p")
    path = f"/v4/spreadsheets/{key}"

    statuses = [api(fake_google, "GET", path, first).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # per user
    statuses = [api(fake_google, "GET", path, second).status_code for _ in range(2)]
    assert statuses == [200, 429]  # the project's 3 are used up
    body = api(fake_google, "GET", path, second).json()["error"]
    assert body["status"] == "RESOURCE_EXHAUSTED" and body["code"] == 429
    assert body["details"][0]["reason"] == "RATE_LIMIT_EXCEEDED"

    fake_clock.advance(10)  # a new window
    assert api(fake_google, "GET", path, first).status_code == 200


def test_batch_update_is_all_or_nothing(fake_google: FakeGoogle, token: str) -> None:
    key = fake_google.add_spreadsheet("T", share_with=ACCOUNT, role="Editor")
    body = {"requests": [
        {"addSheet": {"properties": {"title": "New", "sheetId": 77}}},
        {"updateCells": {"start": {"sheetId": 77, "rowIndex": 0, "columnIndex": 0},
                         "rows": [{"values": [{"userEnteredValue": {"stringValue": "x"}}]}],
                         "fields": "userEnteredValue"}},
        {"deleteSheet": {"sheetId": 12345}},
    ]}
    answer = api(fake_google, "POST", f"/v4/spreadsheets/{key}:batchUpdate", token, json=body)
    assert answer.status_code == 400
    assert "requests[2].deleteSheet" in answer.json()["error"]["message"]
    assert fake_google.tab_titles(key) == ["Sheet1"]


def test_update_cells_outside_the_grid_is_rejected(fake_google: FakeGoogle, token: str) -> None:
    key = fake_google.add_spreadsheet("T", share_with=ACCOUNT, role="Editor")
    body = {"requests": [{"updateCells": {
        "start": {"sheetId": 0, "rowIndex": 1000, "columnIndex": 0},
        "rows": [{"values": [{"userEnteredValue": {"numberValue": 1}}]}],
        "fields": "userEnteredValue"}}]}
    answer = api(fake_google, "POST", f"/v4/spreadsheets/{key}:batchUpdate", token, json=body)
    assert answer.status_code == 400
    assert "exceeds grid limits" in answer.json()["error"]["message"]


def test_render_options_quoted_names_and_trimming(fake_google: FakeGoogle, token: str) -> None:
    rows = [["Date", "Share", "Done", None], [date(2020, 1, 1), 0.5, True, None], [], []]
    key = fake_google.add_spreadsheet("T", {"Coach's log": rows}, share_with=ACCOUNT)
    quoted_name = quote("'Coach''s log'", safe="")  # a quote inside a name is doubled
    path = f"/v4/spreadsheets/{key}/values/{quoted_name}"

    serial = api(fake_google, "GET", path, token, params={
        "valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"})
    assert serial.json() == {"range": "'Coach''s log'!A1:Z1000", "majorDimension": "ROWS",
                             "values": [["Date", "Share", "Done"], [43831, 0.5, True]]}
    formatted = api(fake_google, "GET", path, token).json()["values"]
    assert formatted == [["Date", "Share", "Done"], ["2020-01-01", "0.5", "TRUE"]]
    text_dates = api(fake_google, "GET", path, token, params={
        "valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "FORMATTED_STRING"})
    assert text_dates.json()["values"][1] == ["2020-01-01", 0.5, True]


def test_user_entered_values_are_parsed_and_raw_values_are_not(fake_google: FakeGoogle,
                                                               token: str) -> None:
    key = fake_google.add_spreadsheet("T", share_with=ACCOUNT, role="Editor")
    for option, row in (("USER_ENTERED", 1), ("RAW", 2)):
        api(fake_google, "PUT", f"/v4/spreadsheets/{key}/values/Sheet1%21A{row}", token,
            params={"valueInputOption": option}, json={"values": [["=4/2", "85%", "9/8/2026"]]})
    assert fake_google.spreadsheet_values(key, "Sheet1") == [
        [2, 0.85, 46273], ["=4/2", "85%", "9/8/2026"]]


def test_spreadsheets_get_honours_fields_ranges_and_grid_data(fake_google: FakeGoogle,
                                                              token: str) -> None:
    key = fake_google.add_spreadsheet("T", {"A": [[1, 2], [3]], "B": [["b"]]},
                                      share_with=ACCOUNT)
    fields = "sheets(properties.title,data.rowData.values.effectiveValue)"
    answer = api(fake_google, "GET", f"/v4/spreadsheets/{key}", token,
                 params={"ranges": "B!A1:B2", "fields": fields})
    assert answer.json() == {"sheets": [{"properties": {"title": "B"}, "data": [
        {"rowData": [{"values": [{"effectiveValue": {"stringValue": "b"}}]}]}]}]}
    bad = api(fake_google, "GET", f"/v4/spreadsheets/{key}", token, params={"ranges": "Nope!A1"})
    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == "Unable to parse range: Nope!A1"


def test_drive_queries_filter_by_folder_type_and_time(fake_google: FakeGoogle, token: str) -> None:
    folder = fake_google.add_folder("Teams", share_with=ACCOUNT)
    inside = fake_google.add_spreadsheet("In", folder=folder)
    fake_google.add_spreadsheet("Out", share_with=ACCOUNT)
    query = (f"'{folder}' in parents and mimeType = 'application/vnd.google-apps.spreadsheet'"
             " and trashed = false and modifiedTime > '2000-01-01T00:00:00Z'")
    answer = api(fake_google, "GET", "/drive/v3/files", token,
                 params={"q": query, "fields": "files(id,name)"})
    assert answer.json() == {"files": [{"id": inside, "name": "In"}]}
    gspread_style = api(fake_google, "GET", "/drive/v3/files", token,
                        params={"q": f'mimeType="application/vnd.google-apps.spreadsheet" '
                                     f'and parents in "{folder}"'})
    assert [f["id"] for f in gspread_style.json()["files"]] == [inside]
    bad = api(fake_google, "GET", "/drive/v3/files", token, params={"q": "owner == me"})
    assert bad.status_code == 400
    assert bad.json()["error"]["errors"][0]["location"] == "q"


def test_latency_faults_and_the_request_log(fake_google: FakeGoogle, token: str) -> None:
    key = fake_google.add_spreadsheet("T", share_with=ACCOUNT)
    fake_google.inject_faults("spreadsheets.get", status=None, delay=0.15, times=1)
    started = time.perf_counter()
    assert api(fake_google, "GET", f"/v4/spreadsheets/{key}", token).status_code == 200
    assert time.perf_counter() - started >= 0.15
    api(fake_google, "GET", f"/v4/spreadsheets/{key}/values:batchGet", token,
        params={"ranges": ["Sheet1!A1", "Sheet1!B1"]})
    assert fake_google.call_counts() == {"spreadsheets.get": 1, "values.batchGet": 1}
    assert [c.email for c in fake_google.calls()] == [ACCOUNT, ACCOUNT]
    assert fake_google.calls("values")[0].spreadsheet_id == key


def test_the_standalone_server_seeds_xlsx_files_and_prints_how_to_use_them(tmp_path: Path
                                                                           ) -> None:
    from openpyxl import Workbook

    seed = tmp_path / "seed"
    seed.mkdir()
    book = Workbook()
    book.active.title = "Weekly"
    book.active.append(["Week", "Value"])
    book.save(seed / "team.xlsx")
    # port 0: the server picks a free port itself and prints it (no race for a port chosen here)
    server = subprocess.Popen(
        [sys.executable, "-m", "sheetsync.testing.fake_google", "--port", "0", "--seed",
         str(seed), "--key-file", str(tmp_path / "key.json")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        assert server.stdout is not None
        for line in server.stdout:
            lines.append(line.rstrip())
            if line.startswith("serving"):
                break
        output = "\n".join(lines)
        port = int(re.search(r"listening on http://127\.0\.0\.1:(\d+)", output).group(1))
        assert port > 0
        assert str(tmp_path / "key.json") in output
        seeded = next(line for line in lines if line.endswith("team.xlsx"))
        key, url = seeded.split()[:2]
        assert url == f"https://docs.google.com/spreadsheets/d/{key}/edit"
        info = json.loads((tmp_path / "key.json").read_text())
        assert info["token_uri"] == f"http://127.0.0.1:{port}/token"
        unauthenticated = requests.get(f"http://127.0.0.1:{port}/v4/spreadsheets/{key}",
                                       timeout=60)
        assert unauthenticated.status_code == 401
    finally:
        # Generous timeouts: on a loaded CI machine the server's first answer and its clean
        # shutdown can take several seconds; a hang still fails the test.
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
    assert server.returncode == 0
