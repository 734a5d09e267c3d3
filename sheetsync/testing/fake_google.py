"""A fake Google API (OAuth token endpoint, Sheets v4, Drive v3) served on 127.0.0.1.

It behaves like the real service where sheetsync depends on it: bearer tokens from a verified
service-account JWT grant, per-spreadsheet sharing (403/404 with the real error JSON), per-user
and per-project quotas per minute (429 RESOURCE_EXHAUSTED, with a configurable window), injected
faults (5xx, latency, dropped connections), trimmed trailing cells and rows, render options,
quoted tab names and atomic ``spreadsheets:batchUpdate``. Every request is logged so tests can
count calls by kind.

Use it from tests::

    with FakeGoogle() as google:
        email = google.make_service_account_key(tmp_path / "key.json")
        key = google.add_spreadsheet_from_xlsx(path, share_with=email, role="Viewer")
        os.environ["SHEETSYNC_GOOGLE_API_BASE"] = google.base_url

or on its own: ``python -m sheetsync.testing.fake_google --port 8765 --seed examples/``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sheetsync.collector import paused
from sheetsync.testing import fake_sheets as fs
from sheetsync.testing.fake_auth import (
    SCOPE_DRIVE,
    SCOPE_DRIVE_FILE,
    SCOPE_DRIVE_READONLY,
    SCOPE_SPREADSHEETS,
    SCOPE_SPREADSHEETS_READONLY,
    AccessToken,
    AuthRegistry,
    TokenGrantError,
)
from sheetsync.testing.fake_cells import python_to_cell
from sheetsync.testing.fake_drive import (
    DriveItem,
    DriveQueryError,
    FakeFile,
    UploadError,
    matches,
    mime_for,
    parse_query,
    parse_upload,
    permission_id,
    rfc3339,
)
from sheetsync.testing.field_mask import FieldMaskError, apply_field_mask, parse_field_mask

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - a test extra; the standard library writes the same
    _orjson = None


def _json_loads(body: bytes) -> Any:
    """A request's JSON, parsed by orjson when it is there (some five times faster on a staged
    write's megabytes of cell data), else, or for what orjson refuses (such as an integer past
    64 bits), by the standard library, whose ``ValueError`` says the body is not JSON."""
    if _orjson is not None:
        try:
            return _orjson.loads(body)
        except _orjson.JSONDecodeError:
            pass
    return json.loads(body)


ROLE_LEVEL = {"reader": 1, "commenter": 1, "writer": 2, "owner": 3}
_ROLE_ALIASES = {"viewer": "reader", "editor": "writer", "reader": "reader",
                 "commenter": "commenter", "writer": "writer", "owner": "owner"}

_SHEETS_READ_SCOPES = {SCOPE_SPREADSHEETS, SCOPE_SPREADSHEETS_READONLY, SCOPE_DRIVE,
                       SCOPE_DRIVE_READONLY, SCOPE_DRIVE_FILE}
_SHEETS_WRITE_SCOPES = {SCOPE_SPREADSHEETS, SCOPE_DRIVE, SCOPE_DRIVE_FILE}
_DRIVE_READ_SCOPES = {SCOPE_DRIVE, SCOPE_DRIVE_READONLY, SCOPE_DRIVE_FILE,
                      "https://www.googleapis.com/auth/drive.metadata.readonly",
                      "https://www.googleapis.com/auth/drive.metadata"}
_DRIVE_WRITE_SCOPES = {SCOPE_DRIVE, SCOPE_DRIVE_FILE}

_UNAUTHENTICATED = ("Request is missing required authentication credential. Expected OAuth 2 "
                    "access token, login cookie or other valid authentication credential. See "
                    "https://developers.google.com/identity/sign-in/web/devconsole-project.")
_INVALID_CREDENTIALS = ("Request had invalid authentication credentials. Expected OAuth 2 "
                        "access token, login cookie or other valid authentication credential. "
                        "See https://developers.google.com/identity/sign-in/web/"
                        "devconsole-project.")
_SERVER_ERRORS = {
    500: ("Internal error encountered.", "INTERNAL"),
    502: ("Bad Gateway", "UNAVAILABLE"),
    503: ("The service is currently unavailable.", "UNAVAILABLE"),
    504: ("Deadline expired before operation could complete.", "DEADLINE_EXCEEDED"),
}


def normalise_role(role: str) -> str:
    """Accept the UI's words (Viewer, Editor) and the API's (reader, writer)."""
    try:
        return _ROLE_ALIASES[role.lower()]
    except KeyError:
        raise ValueError(f"unknown role {role!r}; use Viewer/reader or Editor/writer") from None


@dataclass
class QuotaPolicy:
    """Requests allowed per window (the real API: 60 per user, 300 per project, per minute).

    Read and write requests have separate budgets, as in the real API.
    """

    per_user: int | None = 60
    per_project: int | None = 300
    window: float = 60.0
    retry_after: float | None = None  # send a Retry-After header with 429s


REQUEST_LIMIT = 10_485_760
"""The largest Sheets API request body Google accepts, in bytes (10 MiB). Past it, Google
answers 400 INVALID_ARGUMENT "Request payload size exceeds the limit: 10485760 bytes."."""


@dataclass
class Fault:
    """An injected failure; ``times=None`` repeats forever."""

    kind: str | None = None
    spreadsheet_id: str | None = None
    status: int | None = 500
    delay: float = 0.0
    drop: bool = False
    times: int | None = 1
    retry_after: float | None = None
    applied: bool = False  # with drop: process the request first, then drop the connection
    reason: str | None = None  # a Drive error's reason, e.g. userRateLimitExceeded
    after: int = 0  # let this many matching requests through first
    hits: int = 0
    passed: int = 0

    def applies(self, kind: str, spreadsheet_id: str | None) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.kind is not None and not (kind == self.kind or kind.startswith(self.kind + ".")):
            return False
        if self.spreadsheet_id is not None and self.spreadsheet_id != spreadsheet_id:
            return False
        if self.passed < self.after:
            self.passed += 1
            return False
        return True


@dataclass(frozen=True)
class CallRecord:
    """One request the fake received."""

    kind: str
    method: str
    path: str
    status: int
    email: str | None
    spreadsheet_id: str | None
    at: float


@dataclass
class FakeFolder:
    folder_id: str
    name: str
    parents: list[str] = field(default_factory=list)
    permissions: dict[str, str] = field(default_factory=dict)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    modified: datetime = field(default_factory=lambda: datetime.now(UTC))
    app_properties: dict[str, str] = field(default_factory=dict)


def json_body(body: Any) -> bytes:
    """A JSON answer's bytes, indented as Google's are (its ``prettyPrint`` default).

    orjson writes the same bytes as ``json.dumps(indent=2, ensure_ascii=False)`` for what the
    fake answers, some fifty times faster: with the standard library's pure-Python indenting,
    serialising one coach workbook's grid took 0.3 s, so the fake, not the quota, set the pace
    of a quota-bound run. Without orjson (it is a test extra), or for a value it does not take,
    the standard library writes it."""
    if _orjson is not None:
        try:
            return _orjson.dumps(body, option=_orjson.OPT_INDENT_2)
        except TypeError:
            pass
    return json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8")


class _Response:
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
                 *, drop: bool = False) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.drop = drop


def _drive_error(code: int, message: str, reason: str, location: str | None = None
                 ) -> _Response:
    err: dict[str, Any] = {"message": message, "domain": "global", "reason": reason}
    if location:
        err["location"] = location
        err["locationType"] = "parameter"
    return _Response(code, {"error": {"code": code, "message": message, "errors": [err]}})


def _consent_page(fake: FakeGoogle, query: dict[str, list[str]]) -> _Response:
    try:
        where = fake.auth.authorize({k: v[-1] for k, v in query.items()})
    except TokenGrantError as exc:
        return _Response(exc.status, {"error": exc.error, "error_description": exc.description})
    return _Response(302, None, {"Location": where})


def _drive_unimplemented(request: str) -> _Response:
    message = f"not implemented by the fake API: {request}"
    return _Response(501, {"error": {"errors": [{
        "domain": "global", "reason": "notImplemented", "message": message}],
        "code": 501, "message": message}})


def _sheets_error(exc: fs.SheetsError) -> _Response:
    return _Response(exc.code, exc.body(), exc.headers)


def _flag(value: str | None) -> bool:
    return (value or "").lower() == "true"


class FakeGoogle:
    """The fake API server and its Python control surface for tests.

    ``clock`` times quota windows and call records. Pass a :class:`~sheetsync.testing.FakeClock`
    shared with the client's limiter to run quota storms without waiting.
    """

    def __init__(self, *, port: int = 0, clock: Callable[[], float] | None = None,
                 quota: QuotaPolicy | None = None, seed: int | None = None,
                 request_limit: int | None = REQUEST_LIMIT) -> None:
        self.clock: Callable[[], float] = clock or time.monotonic
        self.quota = quota or QuotaPolicy()
        self.request_limit = request_limit
        self.sharing_blocked: set[str] = set()  # domains a district's policy keeps out
        self.largest_request = 0  # bytes, of every Sheets request received
        self.auth = AuthRegistry()
        self._port = port
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._books: dict[str, fs.FakeSpreadsheet] = {}
        self._folders: dict[str, FakeFolder] = {}
        self._files: dict[str, FakeFile] = {}
        self._faults: list[Fault] = []
        self._log: list[CallRecord] = []
        self._usage: Counter[tuple[str, ...]] = Counter()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeGoogle:
        """Start serving on 127.0.0.1 (a free port unless one was given)."""
        handler = type("FakeGoogleHandler", (_Handler,), {"fake": self})
        server = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
        server.daemon_threads = True
        server.block_on_close = False  # idle keep-alive connections must not block stop()
        self._server = server
        # A short poll interval keeps stop() quick; shutdown waits for the next poll.
        self._thread = threading.Thread(target=server.serve_forever, args=(0.02,),
                                        name="fake-google", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGoogle:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``; the value for ``SHEETSYNC_GOOGLE_API_BASE``."""
        if self._server is None:
            raise RuntimeError("FakeGoogle is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def token_uri(self) -> str:
        return self.base_url + "/token"

    # ------------------------------------------------------------------ accounts and sharing
    def make_service_account_key(self, path: str | Path, *, name: str = "sheetsync-reader",
                                 project: str = "sheetsync-test") -> str:
        """Write a service-account key file for this fake; returns the account's email."""
        return self.auth.make_key_file(Path(path), self.token_uri, name=name, project=project)

    def issue_token(self, email: str, scopes: tuple[str, ...] = (SCOPE_SPREADSHEETS, SCOPE_DRIVE),
                    project: str = "sheetsync-test") -> str:
        """A bearer token without the JWT dance (for raw HTTP tests)."""
        return self.auth.issue_token(email, scopes, project)

    def add_user(self, email: str) -> None:
        """A user of the district's Google Workspace domain (someone a service account with
        domain-wide delegation may act as)."""
        self.auth.add_user(email)

    def allow_delegation(self, service_account: str) -> None:
        """The domain admin authorises ``service_account`` for domain-wide delegation."""
        self.auth.allow_delegation(service_account)

    def make_oauth_client(self, path: str | Path) -> str:
        """Write an installed-app OAuth client file whose endpoints are Google's (the API base
        setting sends them here); returns the client id."""
        return self.auth.make_oauth_client(
            Path(path), auth_uri="https://accounts.google.com/o/oauth2/auth",
            token_uri="https://oauth2.googleapis.com/token")

    def consent_as(self, email: str | None) -> None:
        """Who signs in and clicks Allow on the consent page of the installed-app flow."""
        self.auth.consent_as(email)

    def share(self, file_id: str, email: str, role: str = "reader") -> None:
        """Share a spreadsheet or folder with ``email`` as Viewer (reader) or Editor (writer)."""
        with self._lock:
            self._file(file_id).permissions[email] = normalise_role(role)

    def unshare(self, file_id: str, email: str) -> None:
        with self._lock:
            self._file(file_id).permissions.pop(email, None)

    def _file(self, file_id: str) -> DriveThing:
        found = self._find(file_id)
        if found is None:
            raise KeyError(f"no file or folder {file_id!r}")
        return found

    def permissions(self, file_id: str) -> dict[str, str]:
        """Who a file is shared with, and as what (``reader``, ``writer``, ``owner``)."""
        with self._lock:
            return dict(self._file(file_id).permissions)

    def block_sharing_with(self, *domains: str) -> None:
        """A district's sharing policy: sharing with these domains answers 403 domainPolicy."""
        with self._lock:
            self.sharing_blocked.update(d.lower() for d in domains)

    def _role(self, item: DriveThing, email: str, depth: int = 0) -> int:
        level = ROLE_LEVEL.get(item.permissions.get(email, ""), 0)
        level = max(level, ROLE_LEVEL.get(item.permissions.get("anyone", ""), 0))
        if depth < 10:
            for parent in item.parents:
                folder = self._folders.get(parent)
                if folder is not None:
                    level = max(level, self._role(folder, email, depth + 1))
        return level

    # ------------------------------------------------------------------ content
    def _new_id(self) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        return "1" + "".join(self._rng.choice(alphabet) for _ in range(43))

    def add_folder(self, name: str, *, parent: str | None = None,
                   share_with: str | None = None, role: str = "reader") -> str:
        """Create a Drive folder; returns its id."""
        with self._lock:
            folder_id = self._new_id()
            folder = FakeFolder(folder_id, name, [parent] if parent else [])
            if share_with:
                folder.permissions[share_with] = normalise_role(role)
            self._folders[folder_id] = folder
            return folder_id

    def _register(self, book: fs.FakeSpreadsheet, folder: str | None, share_with: str | None,
                  role: str) -> str:
        if folder is not None and folder not in self._folders:
            raise KeyError(f"no folder {folder!r}")
        book.parents = [folder] if folder else []
        book.permissions["owner@sheetsync-test.example"] = "owner"
        if share_with:
            book.permissions[share_with] = normalise_role(role)
        with self._lock:
            self._books[book.spreadsheet_id] = book
        return book.spreadsheet_id

    def add_spreadsheet(self, title: str, tabs: dict[str, list[list[Any]]] | None = None, *,
                        folder: str | None = None, share_with: str | None = None,
                        role: str = "reader", spreadsheet_id: str | None = None,
                        hidden_rows: dict[str, set[int]] | None = None) -> str:
        """Create a spreadsheet from plain Python rows (dates become serials); returns its id."""
        book = fs.new_spreadsheet(spreadsheet_id or self._new_id(), title)
        for index, (name, rows) in enumerate((tabs or {"Sheet1": []}).items()):
            height = max(fs.DEFAULT_ROWS, len(rows))
            width = max([fs.DEFAULT_COLUMNS] + [len(r) for r in rows])
            sheet = fs.new_sheet(index, name, index, height, width)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    sheet.set_cell(r, c, python_to_cell(value))
            for number in (hidden_rows or {}).get(name, set()):
                sheet.row_metadata[number - 1] = {"hiddenByUser": True}
            book.sheets.append(sheet)
        return self._register(book, folder, share_with, role)

    def add_spreadsheet_from_xlsx(self, path: str | Path, title: str | None = None, *,
                                  folder: str | None = None, share_with: str | None = None,
                                  role: str = "reader", spreadsheet_id: str | None = None) -> str:
        """Upload an xlsx file as a Google spreadsheet (as Drive's converter does)."""
        from sheetsync.testing.fake_xlsx import sheets_from_xlsx

        path = Path(path)
        book = fs.new_spreadsheet(spreadsheet_id or self._new_id(), title or path.stem)
        book.sheets = sheets_from_xlsx(path)
        if not book.sheets:
            book.sheets.append(fs.new_sheet(0, "Sheet1", 0))
        return self._register(book, folder, share_with, role)

    def add_file(self, name: str, content: bytes, *, folder: str | None = None,
                 share_with: str | None = None, role: str = "reader",
                 mime_type: str | None = None, owner: str = "owner@sheetsync-test.example"
                 ) -> str:
        """Keep a file with binary content in Drive (an .xlsx, .xls or .ods, say); its id."""
        with self._lock:
            if folder is not None and folder not in self._folders:
                raise KeyError(f"no folder {folder!r}")
            item = FakeFile(self._new_id(), name, mime_type or mime_for(name), content,
                            [folder] if folder else [])
            item.permissions[owner] = "owner"
            if share_with:
                item.permissions[share_with] = normalise_role(role)
            self._files[item.file_id] = item
            return item.file_id

    def replace_file_content(self, file_id: str, content: bytes,
                             when: datetime | None = None) -> None:
        """Someone saved a new version of a file kept in Drive."""
        with self._lock:
            self._files[file_id].replace_content(content, when)

    def file_content(self, file_id: str) -> bytes:
        with self._lock:
            return self._files[file_id].content

    def app_properties(self, file_id: str) -> dict[str, str]:
        with self._lock:
            return dict(self._file(file_id).app_properties)

    def files_in(self, folder: str) -> list[str]:
        """Ids of every file and spreadsheet directly in a folder."""
        with self._lock:
            return [_identity(item)[0] for item in self._drive_items()
                    if folder in item.parents]

    def delete_spreadsheet(self, spreadsheet_id: str) -> None:
        with self._lock:
            self._books.pop(spreadsheet_id)

    def touch(self, file_id: str, when: datetime | None = None) -> None:
        """Set a file's Drive ``modifiedTime`` (now by default)."""
        with self._lock:
            self._file(file_id).modified = when or datetime.now(UTC)

    def spreadsheet_url(self, spreadsheet_id: str) -> str:
        return fs.spreadsheet_url(spreadsheet_id)

    # ------------------------------------------------------------------ inspection
    def _book(self, spreadsheet_id: str) -> fs.FakeSpreadsheet:
        try:
            return self._books[spreadsheet_id]
        except KeyError:
            raise KeyError(f"no spreadsheet {spreadsheet_id!r}") from None

    def tab_titles(self, spreadsheet_id: str) -> list[str]:
        with self._lock:
            return [s.title for s in self._book(spreadsheet_id).sheets]

    def spreadsheet_values(self, spreadsheet_id: str, tab: str,
                           render: str = "UNFORMATTED_VALUE",
                           date_render: str = "SERIAL_NUMBER") -> list[list[Any]]:
        """A tab's values as the values API returns them (trailing empties trimmed)."""
        with self._lock:
            book = self._book(spreadsheet_id)
            sheet = book.sheet_by_title(tab)
            if sheet is None:
                raise KeyError(f"no tab {tab!r} in {spreadsheet_id}")
            box = (0, 0, sheet.row_count, sheet.column_count)
            return fs.value_range(sheet, box, render, date_render).get("values", [])

    def spreadsheet_json(self, spreadsheet_id: str, include_grid_data: bool = True
                         ) -> dict[str, Any]:
        """The full ``Spreadsheet`` resource, as ``spreadsheets.get`` would return it."""
        with self._lock:
            return fs.spreadsheet_json(self._book(spreadsheet_id),
                                       include_grid_data=include_grid_data)

    def cell(self, spreadsheet_id: str, tab: str, a1: str) -> dict[str, Any]:
        """One cell's ``CellData`` (``{}`` when empty)."""
        with self._lock:
            book = self._book(spreadsheet_id)
            quoted = "'" + tab.replace("'", "''") + "'!" + a1
            sheet, (row0, col0, _r, _c) = fs.locate(book, quoted)
            return copy.deepcopy(fs.cell_data(sheet.cells.get((row0, col0))))

    # ------------------------------------------------------------------ quotas, faults, log
    def set_quota(self, *, per_user: int | None = None, per_project: int | None = None,
                  window: float | None = None, retry_after: float | None = None) -> None:
        """Change the quota (counts reset); ``window`` is in seconds of the fake's clock."""
        with self._lock:
            if per_user is not None:
                self.quota.per_user = per_user
            if per_project is not None:
                self.quota.per_project = per_project
            if window is not None:
                self.quota.window = window
            self.quota.retry_after = retry_after
            self._usage.clear()

    def inject_faults(self, kind: str | None = None, *, status: int | None = 500,
                      times: int | None = 1, delay: float = 0.0, drop: bool = False,
                      spreadsheet_id: str | None = None, retry_after: float | None = None,
                      applied: bool = False, reason: str | None = None,
                      after: int = 0) -> Fault:
        """Make matching requests fail: an HTTP ``status``, a ``delay`` (seconds of real time,
        then the normal answer when ``status`` is None) or a dropped connection (``drop``).

        ``kind`` matches call kinds such as ``"values.batchGet"``, ``"spreadsheets.get"``,
        ``"spreadsheets.batchUpdate"``, ``"drive.files.list"`` or ``"token"`` (a prefix such as
        ``"values"`` matches all of them); ``None`` matches every call. With ``drop=True,
        applied=True`` the request takes effect before the connection drops, as when an answer
        is lost on the way back. A Drive call fails with Drive's error envelope; ``reason``
        names its reason (``"userRateLimitExceeded"`` for Drive's 403 "slow down"). ``after``
        lets that many matching requests through before the fault starts.
        """
        fault = Fault(kind, spreadsheet_id, status, delay, drop, times, retry_after, applied,
                      reason, after)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def calls(self, kind: str | None = None, *, status: int | None = None,
              spreadsheet_id: str | None = None) -> list[CallRecord]:
        """Logged requests, optionally only one kind (prefix match), status or spreadsheet."""
        with self._lock:
            records = list(self._log)
        return [r for r in records
                if (kind is None or r.kind == kind or r.kind.startswith(kind + "."))
                and (status is None or r.status == status)
                and (spreadsheet_id is None or r.spreadsheet_id == spreadsheet_id)]

    def call_counts(self) -> dict[str, int]:
        """Requests by kind (all statuses)."""
        return dict(Counter(r.kind for r in self.calls()))

    def reset_calls(self) -> None:
        with self._lock:
            self._log.clear()

    def _take_fault(self, kind: str, spreadsheet_id: str | None) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.applies(kind, spreadsheet_id):
                    fault.hits += 1
                    return fault
        return None

    def _charge_quota(self, token: AccessToken, write: bool) -> _Response | None:
        """Count one Sheets request; a 429 answer when a per-window budget is used up."""
        policy = self.quota
        window = int(self.clock() // policy.window) if policy.window > 0 else 0
        rw = "write" if write else "read"
        keys = [(("user", token.email, rw, str(window)), policy.per_user, "user"),
                (("project", token.project, rw, str(window)), policy.per_project, "project")]
        with self._lock:
            for key, limit, scope in keys:
                if limit is not None and self._usage[key] >= limit:
                    return self._quota_error(rw, scope, limit, token.project)
            for key, _limit, _scope in keys:
                self._usage[key] += 1
        return None

    def _quota_error(self, rw: str, scope: str, limit: int, project: str) -> _Response:
        metric = "Write requests" if rw == "write" else "Read requests"
        per = "per minute per user" if scope == "user" else "per minute"
        limit_name = f"{metric} {per}"
        quota_limit = f"{rw.capitalize()}RequestsPerMinute" + ("PerUser" if scope == "user"
                                                                  else "")
        message = (f"Quota exceeded for quota metric '{metric}' and limit '{limit_name}' of "
                   f"service 'sheets.googleapis.com' for consumer 'project_number:{project}'.")
        body = {"error": {
            "code": 429, "message": message, "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                 "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
                 "metadata": {"quota_metric": f"sheets.googleapis.com/{rw}_requests",
                              "quota_limit": quota_limit, "quota_location": "global",
                              "quota_limit_value": str(limit),
                              "service": "sheets.googleapis.com",
                              "consumer": f"projects/{project}"}},
                {"@type": "type.googleapis.com/google.rpc.Help",
                 "links": [{"description": "Request a higher quota limit.",
                            "url": "https://cloud.google.com/docs/quotas/help/request_increase"}]},
            ]}}
        headers = {}
        if self.quota.retry_after is not None:
            headers["Retry-After"] = f"{self.quota.retry_after:g}"
        return _Response(429, body, headers)

    def _record(self, kind: str, method: str, path: str, status: int, email: str | None,
                spreadsheet_id: str | None) -> None:
        with self._lock:
            self._log.append(CallRecord(kind, method, path, status, email, spreadsheet_id,
                                        self.clock()))

    # ------------------------------------------------------------------ request handling
    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes
               ) -> tuple[str, str | None, str | None, _Response]:
        """Route and answer one request: (kind, email, spreadsheet id, response)."""
        return self._answer(method, raw_path, headers, body)

    def _answer(self, method: str, raw_path: str, headers: dict[str, str], body: bytes
                ) -> tuple[str, str | None, str | None, _Response]:
        split = urlsplit(raw_path)
        query = parse_qs(split.query, keep_blank_values=True)
        route = _route(method, split.path, query)
        if route is None:
            return "unknown", None, None, _Response(404, {"error": {
                "code": 404, "message": f"Method not found: {method} {split.path}",
                "status": "NOT_FOUND"}})
        kind, target, extra = route
        spreadsheet_id = target if kind.startswith(("spreadsheets", "values")) else None
        fault = self._take_fault(kind, target)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)  # real latency: clients time out in real time
            if fault.drop and fault.applied:
                answer = self._answer_normally(kind, method, target, extra, query, headers, body)
                return kind, answer[0], spreadsheet_id, _Response(0, drop=True)
            if fault.drop:
                return kind, None, spreadsheet_id, _Response(0, drop=True)
            if fault.status is not None:
                message, status = _SERVER_ERRORS.get(
                    fault.status, ("Injected failure.", "UNKNOWN"))
                if kind.startswith("drive."):
                    response = _drive_error(fault.status, message if fault.reason is None
                                            else "User Rate Limit Exceeded",
                                            fault.reason or "backendError")
                elif fault.status == 429:
                    response = self._quota_error("read", "user", 0, "injected")
                else:
                    response = _Response(fault.status, {"error": {
                        "code": fault.status, "message": message, "status": status}})
                if fault.retry_after is not None:
                    response.headers["Retry-After"] = f"{fault.retry_after:g}"
                return kind, None, spreadsheet_id, response
        email, response = self._answer_normally(kind, method, target, extra, query, headers,
                                                body)
        return kind, email, spreadsheet_id, response

    def _answer_normally(self, kind: str, method: str, target: str | None, extra: str,
                         query: dict[str, list[str]], headers: dict[str, str], body: bytes
                         ) -> tuple[str | None, _Response]:
        """Authenticate, authorise, charge the quota and answer: (caller email, response)."""
        if kind == "token":
            form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
            try:
                return None, _Response(200, self.auth.grant(form,
                                                             headers.get("authorization")))
            except TokenGrantError as exc:
                return None, _Response(exc.status, {
                    "error": exc.error, "error_description": exc.description})
        if kind == "oauth.authorize":
            return None, _consent_page(self, query)
        if kind == "iam.allowedLocations":
            return None, _Response(200, {"locations": ["us-central1"],
                                                     "encodedLocations": "0x1"})
        authorization = headers.get("authorization")
        token = self.auth.check_token(authorization)
        if token is None:
            message = _INVALID_CREDENTIALS if authorization else _UNAUTHENTICATED
            return None, _Response(
                401, {"error": {"code": 401, "message": message, "status": "UNAUTHENTICATED"}},
                {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
        if kind.startswith("drive."):
            if kind == "drive.unimplemented":
                return token.email, _drive_unimplemented(extra)
            return token.email, self._drive(kind, token, target, query, headers, body)
        if self.request_limit is not None and len(body) > self.request_limit:
            # Google refuses an oversized request before reading it: nothing is charged.
            return token.email, _sheets_error(fs.bad_request(
                f"Request payload size exceeds the limit: {self.request_limit} bytes."))
        with self._lock:
            self.largest_request = max(self.largest_request, len(body))
        if kind in ("spreadsheets.unimplemented", "spreadsheets.create"):
            what = extra or "spreadsheets.create"
            return token.email, _sheets_error(fs.not_implemented(f"{method} {what}"))
        try:
            payload = _json_loads(body) if body.strip() else {}
        except ValueError:
            return token.email, _sheets_error(fs.bad_request(
                "Invalid JSON payload received. Unexpected token."))
        write = method != "GET"
        scopes = _SHEETS_WRITE_SCOPES if write else _SHEETS_READ_SCOPES
        if not token.scopes & scopes:
            return token.email, _insufficient_scopes()
        denied = self._charge_quota(token, write)
        if denied is not None:
            return token.email, denied
        try:
            response = self._sheets(kind, token, target or "", extra, query, payload, write)
        except fs.SheetsError as exc:
            response = _sheets_error(exc)
        return token.email, response

    def _sheets(self, kind: str, token: AccessToken, spreadsheet_id: str, extra: str,
                query: dict[str, list[str]], payload: Any, write: bool) -> _Response:
        def one(name: str, default: str) -> str:
            return query.get(name, [default])[-1]

        with self._lock:
            book = self._books.get(spreadsheet_id)
            if book is None:
                kept = self._files.get(spreadsheet_id)
                if kept is not None and self._role(kept, token.email) >= 1:
                    # An Excel file kept in Drive is not a Google Sheet.
                    raise fs.SheetsError(400, "This operation is not supported for this "
                                         "document", "FAILED_PRECONDITION")
                raise fs.not_found()
            level = self._role(book, token.email)
            if level < (2 if write else 1):
                raise fs.permission_denied()
            value_render = one("valueRenderOption", "FORMATTED_VALUE")
            date_render = one("dateTimeRenderOption", "SERIAL_NUMBER")
            major = one("majorDimension", "ROWS")
            if kind == "spreadsheets.get":
                fields = one("fields", "")
                grid = _flag(one("includeGridData", "false")) or fs.mask_wants_grid_data(fields)
                result = fs.spreadsheet_json(book, include_grid_data=grid,
                                             ranges=query.get("ranges"))
                if fields:
                    try:
                        result = apply_field_mask(result, parse_field_mask(fields))
                    except FieldMaskError as exc:
                        raise fs.bad_request(
                            f"Request contains an invalid argument: {exc}") from None
                    result = fs.trim_masked_grid_data(result)
                return _Response(200, result)
            if kind == "values.get":
                sheet, box = fs.locate(book, extra)
                return _Response(200, fs.value_range(sheet, box, value_render, date_render,
                                                     major))
            if kind == "values.batchGet":
                ranges = []
                for text in query.get("ranges", []):
                    sheet, box = fs.locate(book, text)
                    ranges.append(fs.value_range(sheet, box, value_render, date_render, major))
                return _Response(200, {"spreadsheetId": spreadsheet_id, "valueRanges": ranges})
            if kind == "spreadsheets.batchUpdate":
                new_book, replies = fs.apply_batch_update(book, payload.get("requests", []),
                                                          self._rng, token.email)
                self._books[spreadsheet_id] = new_book
                result = {"spreadsheetId": spreadsheet_id, "replies": replies}
                if payload.get("includeSpreadsheetInResponse"):
                    result["updatedSpreadsheet"] = fs.spreadsheet_json(
                        new_book, include_grid_data=False)
                return _Response(200, result)
            work = book.clone()  # the values writes below are atomic too
            if kind == "values.update":
                option = one("valueInputOption", "")
                result = fs.write_values(work, extra, fs.by_rows(
                    payload.get("values"), payload.get("majorDimension", major)), option)
            elif kind == "values.append":
                option = one("valueInputOption", "")
                result = fs.append_values(work, extra, fs.by_rows(
                    payload.get("values"), payload.get("majorDimension", major)), option)
            elif kind == "values.clear":
                result = {"spreadsheetId": spreadsheet_id,
                          "clearedRange": fs.clear_values(work, extra)}
            elif kind == "values.batchUpdate":
                option = payload.get("valueInputOption", "")
                responses = [fs.write_values(work, item.get("range", ""), item.get("values"),
                                             option) for item in payload.get("data", [])]
                sheets = {r["updatedRange"].rsplit("!", 1)[0] for r in responses}
                result = {
                    "spreadsheetId": spreadsheet_id,
                    "totalUpdatedRows": sum(r.get("updatedRows", 0) for r in responses),
                    "totalUpdatedColumns": max((r.get("updatedColumns", 0) for r in responses),
                                               default=0),
                    "totalUpdatedCells": sum(r.get("updatedCells", 0) for r in responses),
                    "totalUpdatedSheets": len(sheets),
                    "responses": responses,
                }
            elif kind == "values.batchClear":
                cleared = [fs.clear_values(work, text) for text in payload.get("ranges", [])]
                result = {"spreadsheetId": spreadsheet_id, "clearedRanges": cleared}
            else:
                raise fs.not_found()
            self._books[spreadsheet_id] = work
            return _Response(200, result)

    # ------------------------------------------------------------------ Drive v3
    def _drive_items(self) -> list[DriveThing]:
        return [*self._books.values(), *self._folders.values(), *self._files.values()]

    def _find(self, file_id: str | None) -> DriveThing | None:
        if file_id is None:
            return None
        return self._books.get(file_id) or self._folders.get(file_id) or self._files.get(file_id)

    def _drive_item(self, item: DriveThing, email: str = "") -> dict[str, Any]:
        """Every field the fake knows of a file, in Drive's order; masks pick from it."""
        file_id, name, mime = _identity(item)
        level = self._role(item, email)
        full: dict[str, Any] = {"kind": "drive#file", "id": file_id, "name": name,
                                "mimeType": mime, "parents": list(item.parents),
                                "trashed": False, "starred": False,
                                "createdTime": rfc3339(item.created),
                                "modifiedTime": rfc3339(item.modified)}
        if isinstance(item, FakeFile):
            full["md5Checksum"] = item.md5
            full["size"] = str(len(item.content))  # int64 as text, as Drive sends it
        if isinstance(item, fs.FakeSpreadsheet):
            full["webViewLink"] = fs.spreadsheet_url(file_id)
        elif isinstance(item, FakeFolder):
            full["webViewLink"] = f"https://drive.google.com/drive/folders/{file_id}"
        else:
            full["webViewLink"] = f"https://drive.google.com/file/d/{file_id}/view?usp=drivesdk"
        app_properties = getattr(item, "app_properties", {})
        if app_properties:
            full["appProperties"] = dict(app_properties)
        owners = [e for e, role in item.permissions.items() if role == "owner"]
        full["owners"] = [{"kind": "drive#user", "emailAddress": e, "me": e == email,
                           "permissionId": permission_id(e)} for e in owners]
        full["capabilities"] = {"canEdit": level >= 2, "canComment": level >= 1,
                                "canShare": level >= 2, "canCopy": level >= 1,
                                "canDownload": level >= 1}
        return full

    def _drive(self, kind: str, token: AccessToken, file_id: str | None,
               query: dict[str, list[str]], headers: dict[str, str], body: bytes) -> _Response:
        write = kind in _DRIVE_WRITES
        if not token.scopes & (_DRIVE_WRITE_SCOPES if write else _DRIVE_READ_SCOPES):
            return _insufficient_scopes()
        fields = query.get("fields", [""])[-1]
        try:
            mask = parse_field_mask(fields) if fields else None
        except FieldMaskError:
            return _drive_error(400, "Invalid field selection " + fields, "invalidParameter",
                                "fields")
        uploading = query.get("uploadType", [""])[-1]
        payload: Any = {}
        media: tuple[bytes, str] | None = None
        if uploading:
            try:
                payload, content, media_type = parse_upload(
                    body, headers.get("content-type", ""), uploading)
            except UploadError as exc:
                return _drive_error(400, str(exc), "badRequest")
            except NotImplementedError as exc:  # valid, but the fake takes one-part uploads
                return _drive_unimplemented(str(exc))
            media = (content, media_type)
        elif body.strip():
            try:
                payload = _json_loads(body)
            except ValueError:
                return _drive_error(400, "Invalid JSON payload received.", "parseError")
        if not isinstance(payload, dict):
            return _drive_error(400, "The request body must be a JSON object.", "badRequest")
        with self._lock:
            if kind == "drive.about.get":
                user = {"kind": "drive#user", "displayName": token.email.split("@")[0],
                        "me": True, "permissionId": permission_id(token.email),
                        "emailAddress": token.email}
                return _Response(200, _masked({"kind": "drive#about", "user": user}, mask))
            if kind == "drive.files.list":
                return self._drive_list(token, query, mask)
            if kind == "drive.files.create":
                return self._drive_create(token, payload, media, query, mask)
            found = self._find(file_id)
            level = self._role(found, token.email) if found is not None else 0
            if found is None or level == 0:
                return _drive_error(404, f"File not found: {file_id}.", "notFound", "fileId")
            if kind in _DRIVE_NEEDS_WRITER and level < 2:
                return _drive_error(403, "The user does not have sufficient permissions for "
                                    "this file.", "insufficientFilePermissions")
            if kind == "drive.files.delete":
                self._forget(found)
                return _Response(204)
            if kind == "drive.files.download":
                if not isinstance(found, FakeFile):
                    return _drive_error(403, "Only files with binary content can be "
                                        "downloaded. Use Export with Docs Editors files.",
                                        "fileNotDownloadable", "alt")
                return _Response(200, found.content, {
                    "Content-Type": found.mime_type, "Content-Disposition": "attachment",
                    "X-Goog-Hash": f"md5={found.md5}"})
            if kind == "drive.files.export":
                return self._drive_export(found, query)
            if kind == "drive.comments.list":
                return _Response(200, _masked({"comments": []}, mask, keep_empty_lists=True))
            if kind == "drive.files.copy":
                return self._drive_copy(token, found, payload, mask)
            if kind == "drive.files.update":
                return self._drive_update(found, payload, media, query, mask)
            if kind == "drive.permissions.create":
                return self._permission_create(token, found, payload, query, mask)
            if kind == "drive.permissions.list":
                listed = [self._permission(email, role)
                          for email, role in sorted(found.permissions.items(),
                                                    key=lambda p: (-ROLE_LEVEL[p[1]], p[0]))]
                body_out = {"kind": "drive#permissionList", "permissions": listed}
                if mask is None:
                    body_out["permissions"] = [{k: p[k] for k in ("kind", "id", "type", "role")}
                                               for p in listed]
                    return _Response(200, body_out)
                return _Response(200, _masked(body_out, mask, keep_empty_lists=True))
            full = self._drive_item(found, token.email)
            if mask is None:
                return _Response(200, {k: full[k] for k in ("kind", "id", "name", "mimeType")})
            return _Response(200, _masked(full, mask, keep_empty_lists=True))

    def _forget(self, item: DriveThing) -> None:
        file_id = _identity(item)[0]
        for store in (self._books, self._folders, self._files):
            store.pop(file_id, None)

    def _drive_list(self, token: AccessToken, query: dict[str, list[str]],
                    mask: Any) -> _Response:
        try:
            node = parse_query(query.get("q", [""])[-1])
        except DriveQueryError:
            return _drive_error(400, "Invalid Value", "invalid", "q")
        try:
            page_size = min(int(query.get("pageSize", ["100"])[-1]), 1000)
            offset = int(query.get("pageToken", ["0"])[-1] or 0)
        except ValueError:
            return _drive_error(400, "Invalid Value", "invalid", "pageToken")
        found: list[dict[str, Any]] = []
        for item in self._drive_items():
            if self._role(item, token.email) == 0:
                continue
            full = self._drive_item(item, token.email)
            probe = DriveItem(full["name"], full["mimeType"], full["parents"], item.modified,
                              item.created)
            if matches(node, probe):
                found.append(full)
        found.sort(key=lambda f: (f["name"], f["id"]))
        page = found[offset:offset + page_size]
        body: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False}
        if offset + page_size < len(found):
            body["nextPageToken"] = str(offset + page_size)
        if mask is None:
            body["files"] = [{k: f[k] for k in ("kind", "mimeType", "id", "name")} for f in page]
            return _Response(200, body)
        body["files"] = page
        return _Response(200, _masked(body, mask, keep_empty_lists=True))

    def _new_item(self, token: AccessToken, name: str, mime: str, parents: list[str],
                  content: bytes | None, app_properties: dict[str, str]
                  ) -> DriveThing | _Response:
        for parent in parents:
            folder = self._folders.get(parent)
            if folder is None or self._role(folder, token.email) == 0:
                return _drive_error(404, f"File not found: {parent}.", "notFound", "parentId")
            if self._role(folder, token.email) < 2:
                return _drive_error(403, "The user does not have sufficient permissions for "
                                    "this file.", "insufficientFilePermissions")
        if len(parents) > 1:
            return _drive_error(403, "Increasing the number of parents is not allowed.",
                                "cannotAddParent")
        item: DriveThing
        if mime == fs.FOLDER_MIME:
            item = FakeFolder(self._new_id(), name, parents)
        elif mime == fs.SPREADSHEET_MIME:
            book = fs.new_spreadsheet(self._new_id(), name)
            if content:
                # Drive converts an uploaded workbook into a native spreadsheet.
                from sheetsync.testing.fake_xlsx import sheets_from_xlsx

                try:
                    book.sheets = sheets_from_xlsx(content)
                except Exception:  # noqa: BLE001 - the upload is not a workbook
                    return _drive_error(400, "The file could not be converted.",
                                        "badContent")
            if not book.sheets:
                book.sheets.append(fs.new_sheet(0, "Sheet1", 0))
            book.parents = parents
            item = book
        else:
            item = FakeFile(self._new_id(), name, mime, content or b"", parents)
        item.permissions[token.email] = "owner"
        if app_properties:
            item.app_properties = {str(k): str(v) for k, v in app_properties.items()}
        if isinstance(item, fs.FakeSpreadsheet):
            self._books[item.spreadsheet_id] = item
        elif isinstance(item, FakeFolder):
            self._folders[item.folder_id] = item
        else:
            self._files[item.file_id] = item
        return item

    def _drive_create(self, token: AccessToken, payload: dict[str, Any],
                      media: tuple[bytes, str] | None, query: dict[str, list[str]],
                      mask: Any) -> _Response:
        content, media_type = media if media is not None else (None, "")
        name = payload.get("name") or "Untitled"
        mime = payload.get("mimeType") or media_type or "application/octet-stream"
        parents = [str(p) for p in payload.get("parents") or []]
        made = self._new_item(token, str(name), str(mime), parents, content,
                              payload.get("appProperties") or {})
        if isinstance(made, _Response):
            return made
        full = self._drive_item(made, token.email)
        if mask is None:
            return _Response(200, {k: full[k] for k in ("kind", "id", "name", "mimeType")})
        return _Response(200, _masked(full, mask, keep_empty_lists=True))

    def _drive_copy(self, token: AccessToken, found: DriveThing, payload: dict[str, Any],
                    mask: Any) -> _Response:
        """A copy is owned by the caller, and the original's sharing is not copied."""
        if isinstance(found, FakeFolder):
            return _drive_error(403, "This file cannot be copied by the user.",
                                "cannotCopyFile")
        file_id, name, mime = _identity(found)
        new_name = payload.get("name") or f"Copy of {name}"
        parents = [str(p) for p in payload.get("parents") or []] or [
            p for p in found.parents if p in self._folders]
        made = self._new_item(token, str(new_name), mime, parents[:1], None,
                              payload.get("appProperties") or {})
        if isinstance(made, _Response):
            return made
        if isinstance(found, fs.FakeSpreadsheet) and isinstance(made, fs.FakeSpreadsheet):
            made.properties = copy.deepcopy(found.properties)
            made.properties["title"] = str(new_name)
            made.sheets = copy.deepcopy(found.sheets)
            made.named_ranges = copy.deepcopy(found.named_ranges)
        elif isinstance(found, FakeFile) and isinstance(made, FakeFile):
            made.content = found.content
        full = self._drive_item(made, token.email)
        if mask is None:
            return _Response(200, {k: full[k] for k in ("kind", "id", "name", "mimeType")})
        return _Response(200, _masked(full, mask, keep_empty_lists=True))

    def _drive_update(self, found: DriveThing, payload: dict[str, Any],
                      media: tuple[bytes, str] | None, query: dict[str, list[str]],
                      mask: Any) -> _Response:
        if media is not None:
            if not isinstance(found, FakeFile):
                return _drive_error(400, "Only files with binary content can be updated with "
                                    "an upload.", "badRequest")
            found.replace_content(media[0])
        if "name" in payload:
            if isinstance(found, fs.FakeSpreadsheet):
                found.properties["title"] = str(payload["name"])
            elif isinstance(found, FakeFolder):
                found.name = str(payload["name"])
            else:
                found.name = str(payload["name"])
        if "appProperties" in payload:
            props = dict(getattr(found, "app_properties", {}))
            for key, value in (payload["appProperties"] or {}).items():
                if value is None:
                    props.pop(key, None)
                else:
                    props[str(key)] = str(value)
            found.app_properties = props
        for added in ",".join(query.get("addParents", [])).split(","):
            if added and added not in found.parents:
                if added not in self._folders:
                    return _drive_error(404, f"File not found: {added}.", "notFound",
                                        "addParents")
                found.parents.append(added)
        for removed in ",".join(query.get("removeParents", [])).split(","):
            if removed in found.parents:
                found.parents.remove(removed)
        found.modified = datetime.now(UTC)
        full = self._drive_item(found)
        if mask is None:
            return _Response(200, {k: full[k] for k in ("kind", "id", "name", "mimeType")})
        return _Response(200, _masked(full, mask, keep_empty_lists=True))

    def _drive_export(self, found: DriveThing, query: dict[str, list[str]]) -> _Response:
        if not isinstance(found, fs.FakeSpreadsheet):
            return _drive_error(403, "Export only supports Docs Editors files.",
                                "fileNotExportable")
        wanted = query.get("mimeType", [""])[-1]
        if wanted != "text/csv":
            return _drive_unimplemented(f"export to {wanted}")
        import csv
        import io

        sheet = found.sheets[0]
        box = (0, 0, sheet.row_count, sheet.column_count)
        rows = fs.value_range(sheet, box, "FORMATTED_VALUE", "FORMATTED_STRING").get("values", [])
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(rows)
        text = out.getvalue().removesuffix("\r\n")  # Google's export has no final newline
        return _Response(200, text.encode("utf-8"), {"Content-Type": "text/csv"})

    def _permission(self, email: str, role: str) -> dict[str, Any]:
        kind = "anyone" if email == "anyone" else "user"
        entry: dict[str, Any] = {"kind": "drive#permission", "id": permission_id(email),
                                 "type": kind, "role": role}
        if kind == "user":
            entry["emailAddress"] = email
            entry["displayName"] = email.split("@")[0]
        entry["deleted"] = False
        entry["pendingOwner"] = False
        return entry

    def _permission_create(self, token: AccessToken, found: DriveThing,
                           payload: dict[str, Any], query: dict[str, list[str]],
                           mask: Any) -> _Response:
        """Share a file: the role and grantee Drive checks, with its real refusals."""
        role = str(payload.get("role", ""))
        kind = str(payload.get("type", ""))
        if role not in ("reader", "commenter", "writer", "fileOrganizer", "organizer",
                        "owner"):
            return _drive_error(400, "The permission role field is required."
                                if not role else f"Invalid permission role: {role}",
                                "required" if not role else "invalid", "permission.role")
        if kind not in ("user", "group", "domain", "anyone"):
            return _drive_error(400, "The permission type field is required.", "required",
                                "permission.type")
        if role == "owner":
            return _drive_unimplemented("permissions.create with role owner")
        email = "anyone" if kind == "anyone" else str(payload.get("emailAddress", "")).strip()
        if kind in ("user", "group") and "@" not in email:
            return _drive_error(400, "The permission emailAddress field is required.",
                                "required", "permission.emailAddress")
        domain = email.rsplit("@", 1)[-1].lower()
        if self.sharing_blocked and domain in self.sharing_blocked:
            return _drive_error(403, "The sharing settings of this file do not allow sharing "
                                f"with {email}.", "domainPolicy")
        stored = {"fileOrganizer": "writer", "organizer": "writer"}.get(role, role)
        # Sharing never lowers what someone already has (an owner stays the owner).
        if ROLE_LEVEL.get(found.permissions.get(email, ""), 0) < ROLE_LEVEL[stored]:
            found.permissions[email] = stored
        entry = self._permission(email, found.permissions[email])
        if mask is None:
            return _Response(200, {k: entry[k] for k in ("kind", "id", "type", "role")})
        return _Response(200, _masked(entry, mask, keep_empty_lists=True))


DriveThing = fs.FakeSpreadsheet | FakeFolder | FakeFile

_DRIVE_WRITES = {"drive.files.create", "drive.files.delete", "drive.files.copy",
                 "drive.files.update", "drive.permissions.create"}
_DRIVE_NEEDS_WRITER = {"drive.files.delete", "drive.files.update", "drive.permissions.create"}


def _identity(item: DriveThing) -> tuple[str, str, str]:
    """(id, name, mimeType) of any Drive item."""
    if isinstance(item, fs.FakeSpreadsheet):
        return item.spreadsheet_id, item.title, fs.SPREADSHEET_MIME
    if isinstance(item, FakeFolder):
        return item.folder_id, item.name, fs.FOLDER_MIME
    return item.file_id, item.name, item.mime_type


def _masked(value: Any, mask: Any, *, keep_empty_lists: bool = False) -> Any:
    return value if mask is None else apply_field_mask(value, mask,
                                                        keep_empty_lists=keep_empty_lists)


def _insufficient_scopes() -> _Response:
    return _Response(403, {"error": {
        "code": 403, "message": "Request had insufficient authentication scopes.",
        "status": "PERMISSION_DENIED",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                     "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com",
                     "metadata": {"service": "sheets.googleapis.com",
                                  "method": "google.apps.sheets.v4.SpreadsheetsService"}}]}})


_DRIVE_FILE_ACTIONS = {
    # (method, what follows /files/{id}/) -> kind
    ("POST", "copy"): "drive.files.copy",
    ("POST", "permissions"): "drive.permissions.create",
    ("GET", "permissions"): "drive.permissions.list",
    ("GET", "export"): "drive.files.export",
    ("GET", "comments"): "drive.comments.list",
}

_SHEETS_UNIMPLEMENTED = {"developerMetadata", "sheets", "values:batchGetByDataFilter",
                         "values:batchUpdateByDataFilter", "values:batchClearByDataFilter",
                         "getByDataFilter"}
"""Valid Sheets v4 endpoints the fake does not implement: they answer 501."""


def _route(method: str, path: str, query: dict[str, list[str]] | None = None
           ) -> tuple[str, str | None, str] | None:
    """(kind, spreadsheet/file id, extra such as an A1 range) for a request path."""
    query = query or {}
    if path == "/token" and method == "POST":
        return "token", None, ""
    if path == "/o/oauth2/auth" and method == "GET":
        return "oauth.authorize", None, ""
    parts = path.split("/")
    if path.startswith("/v1/projects/") and path.endswith("/allowedLocations"):
        return "iam.allowedLocations", None, ""
    if path.startswith(("/upload/drive/v3/files", "/resumable/upload/drive/v3/files")):
        rest = [p for p in path.split("/drive/v3/files", 1)[1].split("/") if p]
        if not rest and method == "POST":
            return "drive.files.create", None, ""
        if len(rest) == 1 and method == "PATCH":
            return "drive.files.update", unquote(rest[0]), ""
        return "drive.unimplemented", None, f"{method} {path}"
    if path.startswith("/drive/v3/"):
        rest = [p for p in path[len("/drive/v3/"):].split("/") if p]
        if rest == ["about"] and method == "GET":
            return "drive.about.get", None, ""
        if rest and rest[0] == "files":
            if len(rest) == 1:
                kind = {"GET": "drive.files.list", "POST": "drive.files.create"}.get(method)
                return (kind, None, "") if kind else None
            file_id = unquote(rest[1])
            if len(rest) == 2:
                if method == "GET":
                    alt = query.get("alt", ["json"])[-1]
                    return ("drive.files.download" if alt == "media" else "drive.files.get",
                            file_id, "")
                kind = {"DELETE": "drive.files.delete", "PATCH": "drive.files.update"}.get(method)
                return (kind, file_id, "") if kind else None
            if len(rest) == 3 and (method, rest[2]) in _DRIVE_FILE_ACTIONS:
                return _DRIVE_FILE_ACTIONS[(method, rest[2])], file_id, ""
        return "drive.unimplemented", None, f"{method} {path}"
    if not path.startswith("/v4/spreadsheets/") or len(parts) < 4:
        if path == "/v4/spreadsheets" and method == "POST":
            return "spreadsheets.create", None, ""
        return None
    head = parts[3]
    if len(parts) == 4:
        if ":" in head:
            spreadsheet_id, action = head.rsplit(":", 1)
            if action == "batchUpdate" and method == "POST":
                return "spreadsheets.batchUpdate", unquote(spreadsheet_id), ""
            if action in _SHEETS_UNIMPLEMENTED:
                return "spreadsheets.unimplemented", unquote(spreadsheet_id), action
            return None
        if method == "GET":
            return "spreadsheets.get", unquote(head), ""
        return None
    spreadsheet_id = unquote(head)
    values = parts[4]
    if len(parts) == 5 and values.startswith("values:"):
        action = values.split(":", 1)[1]
        kinds = {("GET", "batchGet"): "values.batchGet",
                 ("POST", "batchUpdate"): "values.batchUpdate",
                 ("POST", "batchClear"): "values.batchClear"}
        kind = kinds.get((method, action))
        if kind is None and values in _SHEETS_UNIMPLEMENTED:
            return "spreadsheets.unimplemented", spreadsheet_id, values
        return (kind, spreadsheet_id, "") if kind else None
    if values in _SHEETS_UNIMPLEMENTED:
        return "spreadsheets.unimplemented", spreadsheet_id, "/".join(parts[4:])
    if values != "values" or len(parts) != 6:
        return None
    segment = parts[5]
    encoded, _, action = segment.rpartition(":")
    if action in ("clear", "append"):  # any other colon belongs to the range (A1:D6)
        if method == "POST":
            return f"values.{action}", spreadsheet_id, unquote(encoded)
        return None
    if method == "GET":
        return "values.get", spreadsheet_id, unquote(segment)
    if method == "PUT":
        return "values.update", spreadsheet_id, unquote(segment)
    return None


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler delegating to :meth:`FakeGoogle.handle`."""

    fake: FakeGoogle
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server_version = "ESF"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return  # keep test output clean

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        # A staged write makes a million small objects in one go: the collector waits.
        with paused:
            kind, email, spreadsheet_id, response = self.fake.handle(self.command, self.path,
                                                                     headers, body)
        self.fake._record(kind, self.command, urlsplit(self.path).path,
                          0 if response.drop else response.status, email, spreadsheet_id)
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(response.body, bytes):
            data = response.body  # a download: the file's own bytes and media type
        else:
            data = b"" if response.body is None else json_body(response.body)
        try:
            self.send_response(response.status)
            if data and "Content-Type" not in response.headers:
                self.send_header("Content-Type", "application/json; charset=UTF-8")
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout) before we answered

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve


# ---------------------------------------------------------------------- standalone server

def _seed(fake: FakeGoogle, seed_dir: Path, email: str, role: str) -> Iterator[tuple[str, Path]]:
    for path in sorted(seed_dir.glob("*.xlsx")):
        if path.name.startswith("~$"):
            continue  # Excel's lock files
        yield fake.add_spreadsheet_from_xlsx(path, share_with=email, role=role), path


def main(argv: list[str] | None = None) -> int:
    """``python -m sheetsync.testing.fake_google --port P --seed DIR``."""
    parser = argparse.ArgumentParser(
        prog="python -m sheetsync.testing.fake_google",
        description="Serve a fake Google Sheets/Drive API on 127.0.0.1 for trying sheetsync "
                    "without a Google account.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=Path, help="folder of .xlsx files to upload")
    parser.add_argument("--key-file", type=Path,
                        help="where to write the service-account key (default: a temp folder)")
    parser.add_argument("--role", default="Editor", help="sharing role for seeded files "
                        "(Viewer or Editor; default Editor so write-back works)")
    parser.add_argument("--dashboard", metavar="TITLE",
                        help="also create an empty spreadsheet to use as the dashboard target")
    parser.add_argument("--quota-per-user", type=int, default=60)
    parser.add_argument("--quota-window", type=float, default=60.0)
    args = parser.parse_args(argv)

    fake = FakeGoogle(port=args.port, quota=QuotaPolicy(per_user=args.quota_per_user,
                                                        window=args.quota_window))
    fake.start()
    key_file = args.key_file
    if key_file is None:
        import tempfile

        key_file = Path(tempfile.mkdtemp(prefix="fake-google-")) / "service-account.json"
    email = fake.make_service_account_key(key_file)
    print(f"fake Google API listening on {fake.base_url}")
    print(f"service-account key: {key_file}")
    print(f"service-account email: {email}")
    print(f"export SHEETSYNC_GOOGLE_API_BASE={fake.base_url}")
    print(f"export GOOGLE_APPLICATION_CREDENTIALS={key_file}")
    if args.seed:
        for spreadsheet_id, path in _seed(fake, args.seed, email, args.role):
            print(f"{spreadsheet_id}  {fake.spreadsheet_url(spreadsheet_id)}  {path.name}")
    if args.dashboard:
        dashboard = fake.add_spreadsheet(args.dashboard, share_with=email, role="Editor")
        print(f"{dashboard}  {fake.spreadsheet_url(dashboard)}  (dashboard: {args.dashboard})")
    try:
        print("serving until Ctrl-C", flush=True)  # inside the try: Ctrl-C may come at once
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


__all__ = ["CallRecord", "FakeGoogle", "Fault", "QuotaPolicy", "main",
           "normalise_role"]


if __name__ == "__main__":
    raise SystemExit(main())
