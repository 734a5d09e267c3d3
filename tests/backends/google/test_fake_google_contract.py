"""The fake Google API answers like the real one: replay recorded real traffic against it.

Each recording (made by gspread's test suite against the real Sheets and Drive APIs) is replayed
request by request against :class:`~sheetsync.testing.FakeGoogle`, with the recorded
spreadsheet ids mapped to the fake's. Every answer must have the recorded status code and the
same JSON *shape*: the same keys at every level and the same value types.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from sheetsync.testing import FakeGoogle
from tests import REPO

RECORDINGS = Path(os.environ.get(
    "SHEETSYNC_API_RECORDINGS",
    REPO.parent / "shared" / "sheets-api-recordings"))
SERVICE_ACCOUNT = "contract@sheetsync-test.iam.gserviceaccount.com"

# The recordings of the API calls sheetsync relies on, and what each one shows.
CONTRACT = {
    "ClientTest.test_open_by_key_has_metadata.json": "spreadsheets.get metadata, Drive files.get",
    "SpreadsheetTest.test_properties.json": "spreadsheets.get properties",
    "ClientTest.test_access_non_existing_spreadsheet.json": "404 NOT_FOUND",
    "ClientTest.test_access_private_spreadsheet.json": "403 PERMISSION_DENIED",
    "WorksheetTest.test_add_validation.json": "400 INVALID_ARGUMENT with field violations",
    "WorksheetTest.test_batch_get.json": "values:batchGet",
    "SpreadsheetTest.test_values_batch_get.json": "values:batchGet with quoted tab names",
    "WorksheetTest.test_get_all_values.json": "values.get trims trailing cells and rows",
    "WorksheetTest.test_get_all_values_date_time_render_options.json": "render options",
    "WorksheetTest.test_batch_update.json": "values:batchUpdate",
    "WorksheetTest.test_batch_clear.json": "values:batchClear",
    "SpreadsheetTest.test_add_del_worksheet.json": "addSheet / deleteSheet",
    "WorksheetTest.test_format.json": "repeatCell and grid data with a fields mask",
    "ClientTest.test_list_spreadsheet_files.json": "Drive files.list with q and fields",
    "SpreadsheetTest.test_get_lastUpdateTime.json": "Drive modifiedTime",
}

_ID = re.compile(r"(?<=spreadsheets/)[A-Za-z0-9_-]+|(?<=drive/v3/files/)[A-Za-z0-9_-]+")


def shape(value: Any) -> Any:
    """The JSON shape of ``value``: keys kept, leaves replaced by their type names.

    A list's shape is the set of its distinct item shapes, so lengths may differ but item
    structure may not.
    """
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return ["list", sorted({json.dumps(shape(item), sort_keys=True) for item in value})]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return "string"


def shape_differences(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Where two JSON values differ in shape (empty when they match)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        problems = [f"{path}: missing key {key!r}" for key in expected.keys() - actual.keys()]
        problems += [f"{path}: unexpected key {key!r}" for key in actual.keys() - expected.keys()]
        for key in expected.keys() & actual.keys():
            problems += shape_differences(expected[key], actual[key], f"{path}.{key}")
        return problems
    if isinstance(expected, list) and isinstance(actual, list):
        if shape(expected) == shape(actual):
            return []
        if expected and actual:
            problems = shape_differences(expected[0], actual[0], f"{path}[0]")
            if problems:
                return problems
        return [f"{path}: list items differ: {shape(expected)} vs {shape(actual)}"]
    if shape(expected) != shape(actual):
        return [f"{path}: {shape(expected)} vs {shape(actual)}"]
    return []


def test_shape_comparison_notices_differences() -> None:
    recorded = {"range": "Sheet1!A1:B2", "values": [["a", 1]], "majorDimension": "ROWS"}
    assert shape_differences(recorded, {"range": "x", "values": [["b", 2]],
                                        "majorDimension": "COLUMNS"}) == []
    assert shape_differences(recorded, {"range": "x", "majorDimension": "ROWS"}) == [
        "$: missing key 'values'"]
    assert shape_differences({"code": 1}, {"code": "1"}) == ["$.code: number vs string"]
    assert shape_differences({"a": [{"b": 1}]}, {"a": [{"b": 1, "c": True}]}) == [
        "$.a[0]: unexpected key 'c'"]


def _interactions(name: str) -> list[dict[str, Any]]:
    path = RECORDINGS / name
    if not path.exists():
        pytest.skip(f"API recordings not found at {RECORDINGS} (set SHEETSYNC_API_RECORDINGS)")
    return json.loads(path.read_text(encoding="utf-8"))["interactions"]


def _server_chosen_ids(recorded: Any, actual: Any, found: dict[str, str]) -> None:
    """Pair up the sheet and chart ids the real API and the fake chose, walking both answers."""
    if isinstance(recorded, dict) and isinstance(actual, dict):
        for key in recorded.keys() & actual.keys():
            if key in ("sheetId", "chartId") and recorded[key] != actual[key]:
                found[str(recorded[key])] = str(actual[key])
            else:
                _server_chosen_ids(recorded[key], actual[key], found)
    elif isinstance(recorded, list) and isinstance(actual, list):
        for old, new in zip(recorded, actual, strict=False):
            _server_chosen_ids(old, new, found)


def _created_ids(interactions: list[dict[str, Any]]) -> set[str]:
    created = set()
    for item in interactions:
        request, response = item["request"], item["response"]
        if request["method"] == "POST" and request["uri"].split("?")[0].endswith("/drive/v3/files"):
            created.add(json.loads(response["body"]["string"])["id"])
    return created


@pytest.mark.parametrize("recording", sorted(CONTRACT))
def test_fake_answers_like_the_recorded_real_api(recording: str) -> None:
    interactions = _interactions(recording)
    created = _created_ids(interactions)
    with FakeGoogle(seed=1) as google:
        token = google.issue_token(SERVICE_ACCOUNT)
        id_map: dict[str, str] = {}
        # Ids the recording uses but never created belong to someone else: not shared with us.
        for item in interactions:
            for found in _ID.findall(item["request"]["uri"]):
                if found not in created and len(found) > 30 and found not in id_map:
                    id_map[found] = google.add_spreadsheet("Someone else's", spreadsheet_id=found)
        compared = 0
        for number, item in enumerate(interactions):
            request, recorded = item["request"], item["response"]
            uri = request["uri"]
            body = request.get("body")
            for old, new in id_map.items():
                uri = uri.replace(old, new)
                body = body.replace(old, new) if isinstance(body, str) else body
            url = google.base_url + re.sub(r"^https://[^/]+", "", uri)
            response = requests.request(
                request["method"], url, data=body.encode() if isinstance(body, str) else body,
                headers={"Authorization": f"Bearer {token}",
                         "Content-Type": "application/json"}, timeout=10)
            where = f"{recording} #{number} {request['method']} {request['uri'][:100]}"
            assert response.status_code == recorded["status"]["code"], (
                f"{where}: {response.status_code} {response.text[:300]}")
            text = recorded["body"]["string"]
            if request["method"] == "POST" and uri.split("?")[0].endswith("/drive/v3/files"):
                id_map[json.loads(text)["id"]] = response.json()["id"]
            if text.strip() and response.status_code == 200:
                _server_chosen_ids(json.loads(text), response.json(), id_map)
            if text.strip():
                problems = shape_differences(json.loads(text), response.json())
                assert not problems, f"{where}:\n" + "\n".join(problems)
                compared += 1
        assert compared >= 3  # each recording exercises several JSON answers
