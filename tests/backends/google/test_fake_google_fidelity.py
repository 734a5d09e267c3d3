"""Where the fake must answer exactly as Google does, beyond what gspread's recordings show.

Each expected body here is Google's real answer, as recorded by a client talking to Google (or
where noted, Google's documentation): permissions.create (a googleapis-node response log),
files.get?alt=media (a googleapis-node fixture), Drive's error envelope without a ``status``
field (gargle's httr fixtures), the 10 MiB request limit (Java and .NET client printouts of a
400 INVALID_ARGUMENT), the OAuth error shape of domain-wide delegation, and Sheets' refusal of
an .xlsx file id (googlesheets4 and node-google-spreadsheet reports).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import requests

from sheetsync.testing import FakeGoogle
from sheetsync.testing.fake_google import REQUEST_LIMIT

ACCOUNT = "tester@sheetsync-test.iam.gserviceaccount.com"
SCOPES = ("https://www.googleapis.com/auth/spreadsheets",
          "https://www.googleapis.com/auth/drive")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def api(google: FakeGoogle, method: str, path: str, token: str, **kwargs) -> requests.Response:
    return requests.request(method, google.base_url + path,
                            headers={"Authorization": f"Bearer {token}",
                                     **kwargs.pop("headers", {})}, timeout=10, **kwargs)


@pytest.fixture
def token(fake_google: FakeGoogle) -> str:
    return fake_google.issue_token(ACCOUNT, SCOPES)


def _xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _multipart(metadata: dict[str, object], media: bytes, media_type: str
               ) -> tuple[bytes, str]:
    boundary = "sheetsync_boundary"
    body = (f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
            f"{json.dumps(metadata)}\r\n--{boundary}\r\nContent-Type: {media_type}\r\n\r\n"
            ).encode() + media + f"\r\n--{boundary}--".encode()
    return body, f"multipart/related; boundary={boundary}"


# ------------------------------------------------------------------------- Sheets


def test_a_valid_request_the_fake_lacks_is_501_not_a_malformed_400(
        fake_google: FakeGoogle, token: str) -> None:
    key = fake_google.add_spreadsheet("T", share_with=ACCOUNT, role="Editor")
    lacking = api(fake_google, "POST", f"/v4/spreadsheets/{key}:batchUpdate", token,
                  json={"requests": [{"addBanding": {"bandedRange": {}}}]})
    assert lacking.status_code == 501
    assert lacking.json() == {"error": {"code": 501, "status": "UNIMPLEMENTED", "message":
                                        "not implemented by the fake API: addBanding"}}
    misspelt = api(fake_google, "POST", f"/v4/spreadsheets/{key}:batchUpdate", token,
                   json={"requests": [{"addBandingg": {}}]})
    assert misspelt.status_code == 400
    assert "Unknown name \"addBandingg\"" in misspelt.json()["error"]["message"]


def test_a_request_over_ten_mebibytes_is_refused_as_google_refuses_it(
        fake_google: FakeGoogle, token: str) -> None:
    key = fake_google.add_spreadsheet("T", share_with=ACCOUNT, role="Editor")
    text = "x" * 40_000
    rows = [{"values": [{"userEnteredValue": {"stringValue": text}}]}] * 270
    body = json.dumps({"requests": [{"appendCells": {
        "sheetId": 0, "rows": rows, "fields": "userEnteredValue"}}]}).encode()
    assert len(body) > REQUEST_LIMIT == 10_485_760
    answer = api(fake_google, "POST", f"/v4/spreadsheets/{key}:batchUpdate", token, data=body,
                 headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json() == {"error": {
        "code": 400, "message": "Request payload size exceeds the limit: 10485760 bytes.",
        "status": "INVALID_ARGUMENT"}}
    assert fake_google.spreadsheet_values(key, "Sheet1") == []  # nothing applied


def test_a_field_mask_keeps_a_present_parent_even_when_empty(fake_google: FakeGoogle,
                                                              token: str) -> None:
    key = fake_google.add_spreadsheet("T", share_with=ACCOUNT)
    answer = api(fake_google, "GET", f"/v4/spreadsheets/{key}?fields=sheets.properties."
                 "tabColorStyle", token)
    assert answer.json() == {"sheets": [{"properties": {}}]}
    notes = api(fake_google, "GET", f"/v4/spreadsheets/{key}?ranges=Sheet1!A1&fields="
                "sheets/data/rowData/values/note", token)
    assert notes.json() == {"sheets": [{"data": [{}]}]}


def test_defaults_google_leaves_out_are_left_out(fake_google: FakeGoogle, token: str) -> None:
    key = fake_google.add_spreadsheet("T", {"Sheet1": [["a", "b"], ["c", "d"]]},
                                      share_with=ACCOUNT, role="Editor")
    requests_ = [
        {"updateSheetProperties": {"properties": {"sheetId": 0, "gridProperties": {
            "frozenRowCount": 0, "frozenColumnCount": 0}},
            "fields": "gridProperties.frozenRowCount,gridProperties.frozenColumnCount"}},
        {"mergeCells": {"mergeType": "MERGE_ROWS", "range": {
            "sheetId": 0, "startRowIndex": 0, "endRowIndex": 2, "startColumnIndex": 0,
            "endColumnIndex": 2}}},
        {"updateCells": {"start": {"sheetId": 0, "rowIndex": 0, "columnIndex": 0},
                         "rows": [{"values": [{"note": ""}]}], "fields": "note"}},
        {"setBasicFilter": {"filter": {"range": {"sheetId": 0}}}},
    ]
    assert api(fake_google, "POST", f"/v4/spreadsheets/{key}:batchUpdate", token,
               json={"requests": requests_}).status_code == 200
    sheet = api(fake_google, "GET", f"/v4/spreadsheets/{key}?fields=sheets(properties("
                "gridProperties),merges,basicFilter,data.rowData.values.note)&ranges=Sheet1!A1",
                token).json()["sheets"][0]
    assert sheet["properties"] == {"gridProperties": {"rowCount": 1000, "columnCount": 26}}
    # MERGE_ROWS: one merge per row, no sheetId 0 inside
    assert sheet["merges"] == [
        {"startRowIndex": 0, "endRowIndex": 1, "startColumnIndex": 0, "endColumnIndex": 2},
        {"startRowIndex": 1, "endRowIndex": 2, "startColumnIndex": 0, "endColumnIndex": 2}]
    # a sheet-wide filter is stored resolved to the sheet's bounds
    assert sheet["basicFilter"] == {"range": {"startRowIndex": 0, "endRowIndex": 1000,
                                              "startColumnIndex": 0, "endColumnIndex": 26}}
    assert sheet["data"] == [{}]  # an empty note is no note


def test_values_update_counts_only_the_cells_written(fake_google: FakeGoogle,
                                                    token: str) -> None:
    key = fake_google.add_spreadsheet("T", share_with=ACCOUNT, role="Editor")
    answer = api(fake_google, "PUT", f"/v4/spreadsheets/{key}/values/Sheet1!A1:D6"
                 "?valueInputOption=RAW", token,
                 json={"values": [["top left", None, None, None], *[[None] * 4] * 4,
                                  [None, None, None, "bottom right"]]})
    # Google's answer to the same request, recorded
    assert answer.json() == {"spreadsheetId": key, "updatedRange": "Sheet1!A1:D6",
                             "updatedRows": 2, "updatedColumns": 2, "updatedCells": 2}


def test_data_validation_and_protected_ranges(fake_google: FakeGoogle, token: str) -> None:
    key = fake_google.add_spreadsheet("T", share_with=ACCOUNT, role="Editor")
    rule = {"condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": "y"}]},
            "showCustomUi": True, "strict": False}
    protected = {"range": {"startRowIndex": 0, "endRowIndex": 2, "startColumnIndex": 0,
                           "endColumnIndex": 2, "sheetId": 0}, "description": None,
                 "warningOnly": False, "requestingUserCanEdit": False,
                 "editors": {"users": [], "groups": []}}
    answer = api(fake_google, "POST", f"/v4/spreadsheets/{key}:batchUpdate", token, json={
        "requests": [{"setDataValidation": {"range": {"sheetId": 0, "startRowIndex": 1,
                                                      "endRowIndex": 3, "startColumnIndex": 1,
                                                      "endColumnIndex": 2}, "rule": rule}},
                     {"addProtectedRange": {"protectedRange": protected}}]}).json()
    assert answer["replies"][0] == {}
    reply = answer["replies"][1]["addProtectedRange"]["protectedRange"]
    # Google's recorded reply: sheetId 0, description null and warningOnly false left out;
    # requestingUserCanEdit computed; editors answered empty.
    assert reply == {"protectedRangeId": reply["protectedRangeId"], "range": {
        "startRowIndex": 0, "endRowIndex": 2, "startColumnIndex": 0, "endColumnIndex": 2},
        "requestingUserCanEdit": True, "editors": {}}
    assert fake_google.cell(key, "Sheet1", "B2")["dataValidation"] == rule
    assert fake_google.cell(key, "Sheet1", "B3")["dataValidation"] == rule
    assert "dataValidation" not in fake_google.cell(key, "Sheet1", "B4")
    stored = api(fake_google, "GET", f"/v4/spreadsheets/{key}?fields=sheets.protectedRanges",
                 token).json()["sheets"][0]["protectedRanges"][0]
    assert stored["editors"] == {"users": [ACCOUNT]}  # the requesting user, on later reads


def test_copy_paste_copies_values_formats_and_merges(fake_google: FakeGoogle,
                                                     token: str) -> None:
    key = fake_google.add_spreadsheet("T", {"Sheet1": [["a", 1], ["b", 2]], "Other": []},
                                      share_with=ACCOUNT, role="Editor")
    other = next(s for s in fake_google.spreadsheet_json(key, False)["sheets"]
                 if s["properties"]["title"] == "Other")["properties"]["sheetId"]
    box = {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 2, "startColumnIndex": 0,
           "endColumnIndex": 2}
    assert api(fake_google, "POST", f"/v4/spreadsheets/{key}:batchUpdate", token, json={
        "requests": [
            {"repeatCell": {"range": box, "cell": {"userEnteredFormat": {
                "textFormat": {"bold": True}}}, "fields": "userEnteredFormat.textFormat.bold"}},
            {"copyPaste": {"source": box, "destination": {**box, "sheetId": other},
                           "pasteType": "PASTE_NORMAL"}}]}).status_code == 200
    assert fake_google.spreadsheet_values(key, "Other") == [["a", 1], ["b", 2]]
    assert fake_google.cell(key, "Other", "B2")["userEnteredFormat"]["textFormat"]["bold"]


def test_pasted_cells_stay_apart_from_their_source(fake_google: FakeGoogle, token: str) -> None:
    """The fake shares a pasted cell's parts with its source (stored cells are never changed
    in place): a later write to either side must not show through on the other, and a paste
    onto an overlapping area reads the source as it was before the paste, as Google does."""
    key = fake_google.add_spreadsheet("T", {"Sheet1": [["a", 1], ["b", 2], ["c", 3]]},
                                      share_with=ACCOUNT, role="Editor")

    def box(row0: int, row1: int) -> dict[str, int]:
        return {"sheetId": 0, "startRowIndex": row0, "endRowIndex": row1,
                "startColumnIndex": 0, "endColumnIndex": 2}

    def batch(*requests: dict[str, object]) -> None:
        assert api(fake_google, "POST", f"/v4/spreadsheets/{key}:batchUpdate", token,
                   json={"requests": list(requests)}).status_code == 200

    batch({"repeatCell": {"range": box(0, 1), "cell": {"userEnteredFormat": {
              "textFormat": {"bold": True}}}, "fields": "userEnteredFormat.textFormat.bold"}},
          {"copyPaste": {"source": box(0, 2), "destination": box(1, 3),
                         "pasteType": "PASTE_NORMAL"}})
    assert fake_google.spreadsheet_values(key, "Sheet1") == [["a", 1], ["a", 1], ["b", 2]]
    assert fake_google.cell(key, "Sheet1", "A2")["userEnteredFormat"]["textFormat"]["bold"]
    assert "userEnteredFormat" not in fake_google.cell(key, "Sheet1", "A3")
    batch({"repeatCell": {"range": box(1, 2), "cell": {"userEnteredFormat": {
              "textFormat": {"italic": True}}}, "fields": "userEnteredFormat.textFormat.italic"}},
          {"updateCells": {"start": {"sheetId": 0, "rowIndex": 0, "columnIndex": 0},
                           "rows": [{"values": [{"userEnteredValue": {"stringValue": "z"}}]}],
                           "fields": "userEnteredValue"}})
    source = fake_google.cell(key, "Sheet1", "A1")
    pasted = fake_google.cell(key, "Sheet1", "A2")
    assert "italic" not in source["userEnteredFormat"]["textFormat"]
    assert pasted["userEnteredFormat"]["textFormat"] == {"bold": True, "italic": True}
    assert fake_google.spreadsheet_values(key, "Sheet1")[:2] == [["z", 1], ["a", 1]]


# ------------------------------------------------------------------------- Drive


def test_sharing_answers_like_google_and_lists_who_has_access(fake_google: FakeGoogle,
                                                              token: str) -> None:
    key = fake_google.add_spreadsheet("T", share_with=ACCOUNT, role="Editor")
    answer = api(fake_google, "POST", f"/drive/v3/files/{key}/permissions", token,
                 json={"role": "writer", "type": "user", "emailAddress": "coach@district.org"})
    body = answer.json()
    # the recorded answer: {"kind": "drive#permission", "id": "08332768991911929402",
    # "type": "user", "role": "writer"}: only these four fields, the id a number as text
    assert set(body) == {"kind", "id", "type", "role"}
    assert (body["kind"], body["type"], body["role"]) == ("drive#permission", "user", "writer")
    assert re.fullmatch(r"\d{20}", body["id"])
    again = fake_google.add_spreadsheet("U", share_with=ACCOUNT, role="Editor")
    assert api(fake_google, "POST", f"/drive/v3/files/{again}/permissions", token, json={
        "role": "reader", "type": "user", "emailAddress": "coach@district.org"}).json()[
        "id"] == body["id"]  # a person's permission id is the same on every file
    listed = api(fake_google, "GET", f"/drive/v3/files/{key}/permissions?fields=permissions("
                 "emailAddress,role)", token).json()
    assert {"emailAddress": "coach@district.org", "role": "writer"} in listed["permissions"]
    assert {"emailAddress": ACCOUNT, "role": "writer"} in listed["permissions"]
    viewer = fake_google.issue_token("viewer@district.org", SCOPES)
    fake_google.share(key, "viewer@district.org", "reader")
    refused = api(fake_google, "POST", f"/drive/v3/files/{key}/permissions", viewer,
                  json={"role": "writer", "type": "user", "emailAddress": "x@district.org"})
    assert refused.status_code == 403
    assert refused.json()["error"]["errors"][0]["reason"] == "insufficientFilePermissions"
    assert "status" not in refused.json()["error"]  # Drive's errors carry no status


def test_upload_download_and_copy(fake_google: FakeGoogle, token: str) -> None:
    folder = fake_google.add_folder("Trackers", share_with=ACCOUNT, role="Editor")
    content = _xlsx([["Week", "Value"], [1, 40]])
    body, content_type = _multipart({"name": "lincoln.xlsx", "parents": [folder]}, content,
                                    XLSX)
    created = api(fake_google, "POST", "/upload/drive/v3/files?uploadType=multipart", token,
                  data=body, headers={"Content-Type": content_type}).json()
    assert set(created) == {"kind", "id", "name", "mimeType"}
    assert created["mimeType"] == XLSX
    download = api(fake_google, "GET", f"/drive/v3/files/{created['id']}?alt=media", token)
    assert download.content == content
    assert download.headers["Content-Type"] == XLSX
    listed = api(fake_google, "GET", "/drive/v3/files", token, params={
        "q": f"'{folder}' in parents", "fields": "files(id,md5Checksum,size)"}).json()
    import hashlib

    assert listed == {"files": [{"id": created["id"], "md5Checksum":
                                 hashlib.md5(content).hexdigest(), "size": str(len(content))}]}
    # a native spreadsheet has no bytes to download
    native = fake_google.add_spreadsheet("Native", share_with=ACCOUNT)
    refused = api(fake_google, "GET", f"/drive/v3/files/{native}?alt=media", token)
    assert refused.status_code == 403
    assert refused.json()["error"]["errors"][0]["reason"] == "fileNotDownloadable"
    # the Sheets API refuses an Excel file's id
    wrong_api = api(fake_google, "GET", f"/v4/spreadsheets/{created['id']}", token)
    assert wrong_api.status_code == 400
    assert wrong_api.json()["error"] == {"code": 400, "status": "FAILED_PRECONDITION",
                                         "message": "This operation is not supported for "
                                                    "this document"}
    # a copy is named like Google names it, owned by the caller, and keeps no sharing
    fake_google.share(native, "someone@district.org", "writer")
    copied = api(fake_google, "POST", f"/drive/v3/files/{native}/copy", token,
                 json={"name": None}).json()
    assert copied["name"] == "Copy of Native"
    assert fake_google.permissions(copied["id"]) == {ACCOUNT: "owner"}


def test_a_district_policy_can_refuse_sharing_outside_the_domain(fake_google: FakeGoogle,
                                                                 token: str) -> None:
    key = fake_google.add_spreadsheet("T", share_with=ACCOUNT, role="Editor")
    fake_google.block_sharing_with("gmail.com")
    refused = api(fake_google, "POST", f"/drive/v3/files/{key}/permissions", token,
                  json={"role": "reader", "type": "user", "emailAddress": "x@gmail.com"})
    assert refused.status_code == 403
    assert refused.json()["error"]["errors"][0]["reason"] == "domainPolicy"


def test_unknown_drive_methods_are_501(fake_google: FakeGoogle, token: str) -> None:
    answer = api(fake_google, "GET", "/drive/v3/changes/startPageToken", token)
    assert answer.status_code == 501
    assert answer.json()["error"]["message"].startswith("not implemented by the fake API")


# ------------------------------------------------------------------------- OAuth


def _assertion(key_file: Path, subject: str | None) -> str:
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_file(
        str(key_file), scopes=list(SCOPES))
    if subject:
        credentials = credentials.with_subject(subject)
    return credentials._make_authorization_grant_assertion()


def test_domain_wide_delegation_acts_as_the_user_once_the_admin_allows_it(
        fake_google: FakeGoogle, tmp_path: Path) -> None:
    email = fake_google.make_service_account_key(tmp_path / "key.json")
    fake_google.add_user("coordinator@district.org")
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": _assertion(tmp_path / "key.json", "coordinator@district.org")}
    refused = requests.post(fake_google.token_uri, data=form, timeout=10)
    assert refused.status_code == 401
    assert refused.json() == {"error": "unauthorized_client", "error_description":
                              "Client is unauthorized to retrieve access tokens using this "
                              "method, or client not authorized for any of the scopes "
                              "requested."}
    fake_google.allow_delegation(email)
    granted = requests.post(fake_google.token_uri, data=form, timeout=10).json()
    key = fake_google.add_spreadsheet("Owned by the coordinator",
                                      share_with="coordinator@district.org")
    assert api(fake_google, "GET", f"/v4/spreadsheets/{key}",
               granted["access_token"]).status_code == 200
    form["assertion"] = _assertion(tmp_path / "key.json", "nobody@district.org")
    unknown = requests.post(fake_google.token_uri, data=form, timeout=10)
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "invalid_grant"
