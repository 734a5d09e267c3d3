"""Replay recorded real Google API traffic against the fake and compare whole answers.

The recordings (gspread's test suite talking to the real Sheets v4 and Drive v3 APIs) are
replayed request by request against :class:`~sheetsync.testing.FakeGoogle`. Each answer is
compared with the recorded one as a whole: the status, and the complete body once the values
that can never agree are normalised:

* ids the server chose (spreadsheet and file ids, sheet, chart, protected-range and named-range
  ids) are paired up as the replay goes, and the recorded ones are replaced by the fake's;
* timestamps (``2023-08-17T10:52:36.993Z``) become ``<time>``, and the recording's service
  account (an ``...iam.gserviceaccount.com`` email) becomes ``<service account>``.

Nothing else is forgiven: a key the fake adds or omits, a default it echoes, a different message
or a different number is a difference. Run ``python -m tests.backends.google.recordings`` to print
the share of answers that match exactly, and where the others differ.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[3]
RECORDINGS = Path(os.environ.get(
    "SHEETSYNC_API_RECORDINGS", REPO.parent / "shared" / "sheets-api-recordings"))
SERVICE_ACCOUNT = "contract@sheetsync-test.iam.gserviceaccount.com"

_ID_IN_PATH = re.compile(r"(?<=spreadsheets/)[A-Za-z0-9_-]+|(?<=/files/)[A-Za-z0-9_-]+")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")
_ACCOUNT = re.compile(r"[\w.-]+@[\w-]+\.iam\.gserviceaccount\.com")
NUMERIC_IDS = ("sheetId", "chartId", "protectedRangeId", "namedRangeId", "objectId",
               "filterViewId", "bandedRangeId", "dimensionGroupId")
"""Keys whose numbers the server chooses (or that refer to such a choice)."""


@dataclass
class Exchange:
    """One replayed request: what Google answered and what the fake answered."""

    recording: str
    number: int
    method: str
    uri: str
    recorded_status: int
    status: int
    recorded: Any  # the normalised recorded body (parsed JSON, text, or None when empty)
    answered: Any

    @property
    def same_status(self) -> bool:
        return self.status == self.recorded_status

    @property
    def exact(self) -> bool:
        return self.same_status and self.recorded == self.answered

    @property
    def kind(self) -> str:
        path = self.uri.split("?")[0]
        path = re.sub(r"https://[^/]+", "", path)
        path = _ID_IN_PATH.sub("{id}", path)
        path = re.sub(r"/values/[^/:]+", "/values/{range}", path)
        return f"{self.method} {path}"


@dataclass
class ReplayReport:
    exchanges: list[Exchange] = field(default_factory=list)

    def share(self, *, statuses_only: bool = False) -> float:
        if not self.exchanges:
            return 0.0
        good = sum(e.same_status if statuses_only else e.exact for e in self.exchanges)
        return good / len(self.exchanges)

    def exact_count(self) -> int:
        return sum(e.exact for e in self.exchanges)

    def misses_by_kind(self) -> Counter[str]:
        return Counter(e.kind for e in self.exchanges if not e.exact)

    def summary(self) -> str:
        total = len(self.exchanges)
        lines = [f"{len({e.recording for e in self.exchanges})} recordings, {total} exchanges",
                 f"same status: {sum(e.same_status for e in self.exchanges)} "
                 f"({self.share(statuses_only=True):.1%})",
                 f"whole answer identical: {self.exact_count()} ({self.share():.1%})",
                 "differences by request kind:"]
        lines += [f"  {n:5d}  {kind}" for kind, n in self.misses_by_kind().most_common()]
        return "\n".join(lines)


def recording_names() -> list[str]:
    """Every recording in :data:`RECORDINGS` (empty when the folder is missing)."""
    if not RECORDINGS.is_dir():
        return []
    return sorted(p.name for p in RECORDINGS.glob("*.json"))


def interactions(name: str) -> list[dict[str, Any]]:
    return json.loads((RECORDINGS / name).read_text(encoding="utf-8"))["interactions"]


def _parse(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, str):
        return _ACCOUNT.sub("<service account>", _TIME.sub("<time>", value))
    return value


def _pair_ids(recorded: Any, answered: Any, numbers: dict[int, int],
              strings: dict[str, str]) -> None:
    """Learn which server-chosen ids of the recording the fake chose differently."""
    if isinstance(recorded, dict) and isinstance(answered, dict):
        for key in recorded.keys() & answered.keys():
            old, new = recorded[key], answered[key]
            if key in NUMERIC_IDS and isinstance(old, int) and isinstance(new, int):
                if old != new and old not in numbers:
                    numbers[old] = new
            elif key in NUMERIC_IDS and isinstance(old, str) and isinstance(new, str):
                if old != new and old not in strings:
                    strings[old] = new
            else:
                _pair_ids(old, new, numbers, strings)
    elif isinstance(recorded, list) and isinstance(answered, list):
        for old, new in zip(recorded, answered, strict=False):
            _pair_ids(old, new, numbers, strings)


def _map_numbers(value: Any, numbers: dict[int, int]) -> Any:
    if isinstance(value, dict):
        return {k: (numbers.get(v, v) if k in NUMERIC_IDS and isinstance(v, int)
                    else _map_numbers(v, numbers)) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_numbers(v, numbers) for v in value]
    return value


def _map_text(text: str, strings: dict[str, str]) -> str:
    for old, new in strings.items():
        text = text.replace(old, new)
    return text


def _created_ids(items: list[dict[str, Any]]) -> set[str]:
    created = set()
    for item in items:
        request, response = item["request"], item["response"]
        path = request["uri"].split("?")[0]
        if request["method"] == "POST" and (path.endswith("/drive/v3/files")
                                            or path.endswith("/copy")):
            body = _parse(response["body"]["string"])
            if isinstance(body, dict) and "id" in body:
                created.add(body["id"])
    return created


def replay(name: str) -> list[Exchange]:
    """Replay one recording against a fresh fake; every exchange, matched or not."""
    from sheetsync.testing.fake_google import FakeGoogle, QuotaPolicy

    items = interactions(name)
    created = _created_ids(items)
    exchanges: list[Exchange] = []
    quota = QuotaPolicy(per_user=None, per_project=None)
    with FakeGoogle(seed=1, quota=quota) as google:
        token = google.issue_token(SERVICE_ACCOUNT)
        strings: dict[str, str] = {}
        numbers: dict[int, int] = {}
        # Files a Drive listing in the recording shows, but that it never created, were there
        # before it started: the account's own, as listed.
        for item in items:
            if item["request"]["method"] != "GET" or item["response"]["status"]["code"] != 200:
                continue
            if not item["request"]["uri"].split("?")[0].endswith("/drive/v3/files"):
                continue
            listed = _parse(item["response"]["body"]["string"])
            for entry in listed.get("files", []) if isinstance(listed, dict) else []:
                if entry.get("id") and entry["id"] not in created and entry["id"] not in strings:
                    strings[entry["id"]] = google.add_spreadsheet(
                        entry.get("name", "Untitled"), share_with=SERVICE_ACCOUNT,
                        role="owner", spreadsheet_id=entry["id"])
        # Other ids the recording uses but never created belong to someone else: not shared.
        for item in items:
            for found in _ID_IN_PATH.findall(item["request"]["uri"]):
                if found not in created and len(found) > 30 and found not in strings:
                    strings[found] = google.add_spreadsheet("Someone else's",
                                                            spreadsheet_id=found)
        session = requests.Session()
        for number, item in enumerate(items):
            request, response = item["request"], item["response"]
            uri = _map_text(request["uri"], strings)
            body = request.get("body")
            if isinstance(body, str):
                parsed = _parse(body)
                if isinstance(parsed, dict | list):
                    body = json.dumps(_map_numbers(parsed, numbers))
                body = _map_text(body, strings).encode("utf-8")
            headers = {"Authorization": f"Bearer {token}"}
            content_type = {k.lower(): v for k, v in (request.get("headers") or {}).items()
                            }.get("content-type")
            if isinstance(content_type, list):
                content_type = content_type[0]
            headers["Content-Type"] = content_type or "application/json"
            url = google.base_url + re.sub(r"^https://[^/]+", "", uri)
            answer = session.request(request["method"], url, data=body, headers=headers,
                                     timeout=30)
            recorded_text = response["body"]["string"]
            recorded_body = _parse(recorded_text)
            answered = _parse(answer.text)
            path = request["uri"].split("?")[0]
            if (request["method"] == "POST" and answer.status_code == 200
                    and isinstance(recorded_body, dict) and isinstance(answered, dict)
                    and (path.endswith("/drive/v3/files") or path.endswith("/copy"))
                    and "id" in recorded_body and "id" in answered):
                strings[recorded_body["id"]] = answered["id"]
            if isinstance(recorded_body, dict | list) and isinstance(answered, dict | list):
                _pair_ids(recorded_body, answered, numbers, strings)
            if isinstance(recorded_body, dict | list):
                recorded_body = _parse(_map_text(json.dumps(recorded_body), strings))
                recorded_body = _map_numbers(recorded_body, numbers)
            elif isinstance(recorded_body, str):
                recorded_body = _map_text(recorded_body, strings)
            exchanges.append(Exchange(
                name, number, request["method"], request["uri"], response["status"]["code"],
                answer.status_code, _normalise(recorded_body), _normalise(answered)))
    return exchanges


def replay_all(names: list[str] | None = None) -> ReplayReport:
    report = ReplayReport()
    for name in names if names is not None else recording_names():
        report.exchanges.extend(replay(name))
    return report


def first_difference(expected: Any, actual: Any, path: str = "$") -> str | None:
    """Where two JSON values first differ, for messages."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(expected.keys() - actual.keys()):
            return f"{path}: the fake leaves out {key!r}"
        for key in sorted(actual.keys() - expected.keys()):
            return f"{path}: the fake adds {key!r}: {json.dumps(actual[key])[:80]}"
        for key in expected:
            found = first_difference(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{path}: {len(expected)} items recorded, {len(actual)} answered"
        for i, (a, b) in enumerate(zip(expected, actual, strict=True)):
            found = first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        return None
    if expected != actual:
        return f"{path}: {json.dumps(expected)[:80]} recorded, {json.dumps(actual)[:80]} answered"
    return None


def main(argv: list[str]) -> int:
    names = argv or recording_names()
    if not names:
        print(f"no recordings at {RECORDINGS} (set SHEETSYNC_API_RECORDINGS)")
        return 2
    report = replay_all(names)
    print(report.summary())
    if "-v" in os.environ.get("REPLAY_VERBOSE", "-v"):
        for e in report.exchanges:
            if not e.exact:
                why = (f"status {e.recorded_status} recorded, {e.status} answered"
                       if not e.same_status else first_difference(e.recorded, e.answered))
                print(f"{e.recording} #{e.number} {e.kind}: {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
