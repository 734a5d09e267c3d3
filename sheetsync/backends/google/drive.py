"""Drive listings: the spreadsheets in a folder, and which sources changed since the last run.

Both are a single ``files.list`` call (more only past 1000 files): a folder listing asks for
``'<folder>' in parents``; :meth:`DriveIndex.modified_times` lists every spreadsheet the service
account can see with its ``modifiedTime``, so a nightly run learns in one request which sources
need reading.

A folder may also hold Excel files (.xlsx, .xlsm, .xls, .ods) that schools keep in Drive as
files rather than as Google Sheets. The same listing returns them with their ``md5Checksum``,
so an unchanged one is served from the cache without a download, and a changed one costs a
single ``files.get?alt=media`` (:meth:`DriveIndex.download`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gspread.urls import DRIVE_FILES_API_V3_URL

from sheetsync.backends.google.auth import CredentialsError
from sheetsync.backends.google.locations import folder_id, spreadsheet_key
from sheetsync.backends.google.reader import source_error
from sheetsync.backends.google.settings import GoogleSettings
from sheetsync.backends.google.transport import GoogleConnection
from sheetsync.errors import SourceReadError

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
EXCEL_MIMES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroEnabled.12": ".xlsm",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
}
"""The media types of Excel workbooks kept in Drive as files, and their file extensions."""
_FIELDS = "nextPageToken,files(id,name,mimeType,modifiedTime,parents,md5Checksum,size)"


@dataclass(frozen=True)
class DriveFile:
    """A spreadsheet, or an Excel file kept in Drive, as Drive lists it."""

    key: str
    name: str
    modified: datetime | None
    parents: tuple[str, ...] = ()
    mime_type: str = SPREADSHEET_MIME
    md5: str | None = None  # binary files only
    size: int | None = None

    @property
    def is_excel(self) -> bool:
        return self.mime_type in EXCEL_MIMES

    @property
    def suffix(self) -> str:
        """The Excel file's extension, from its name or else its media type."""
        lowered = self.name.lower()
        for suffix in EXCEL_MIMES.values():
            if lowered.endswith(suffix):
                return suffix
        return EXCEL_MIMES.get(self.mime_type, ".xlsx")

    @property
    def version(self) -> str | None:
        """The content version: the checksum of an Excel file's bytes, else ``modifiedTime``."""
        if self.is_excel and self.md5:
            return f"md5:{self.md5}"
        return self.modified.isoformat() if self.modified else None


def _kinds_query() -> str:
    mimes = [SPREADSHEET_MIME, *EXCEL_MIMES]
    return "(" + " or ".join(f"mimeType = '{m}'" for m in mimes) + ")"


def parse_drive_time(text: str | None) -> datetime | None:
    """Drive's RFC 3339 timestamps (``2026-09-08T10:53:41.910Z``) as aware datetimes."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Visible:
    """What an identity can see in Drive, for ``doctor``."""

    email: str | None
    spreadsheets: int
    excel_files: int
    folders: int
    more: bool  # past the first 1,000 files

    def summary(self) -> str:
        plus = "+" if self.more else ""
        return (f"{self.spreadsheets}{plus} Google Sheets, {self.excel_files}{plus} Excel "
                f"files and {self.folders}{plus} folders")


class DriveIndex:
    """Folder listings and change detection through the Drive v3 API."""

    def __init__(self, settings: GoogleSettings | None = None, *,
                 connection: GoogleConnection | None = None) -> None:
        self.connection = connection or GoogleConnection(settings)

    def _list(self, query: str, what: str) -> list[DriveFile]:
        try:
            http = self.connection.http
        except CredentialsError as exc:
            raise SourceReadError(exc.message, code="unreadable-source", hint=exc.hint) from exc
        files: list[DriveFile] = []
        params: dict[str, Any] = {"q": query, "pageSize": 1000, "fields": _FIELDS,
                                  "supportsAllDrives": "true",
                                  "includeItemsFromAllDrives": "true"}
        while True:
            try:
                answer = http.request("get", DRIVE_FILES_API_V3_URL, params=params).json()
            except Exception as exc:  # every failure becomes a finding, never a crash
                raise source_error(what, exc, self.connection.account_email) from exc
            for item in answer.get("files", []):
                size = item.get("size")
                files.append(DriveFile(item["id"], item.get("name", ""),
                                       parse_drive_time(item.get("modifiedTime")),
                                       tuple(item.get("parents", [])),
                                       item.get("mimeType", SPREADSHEET_MIME),
                                       item.get("md5Checksum"),
                                       int(size) if str(size or "").isdigit() else None))
            token = answer.get("nextPageToken")
            if not token:
                return files
            params["pageToken"] = token

    def list_folder(self, folder: str) -> list[DriveFile]:
        """Every spreadsheet and Excel file directly in the Drive folder ``folder`` (a URL or
        id)."""
        try:
            fid = folder_id(folder)
        except ValueError as exc:
            raise SourceReadError(str(exc), code="unreadable-source") from exc
        query = f"'{fid}' in parents and {_kinds_query()} and trashed = false"
        files = self._list(query, f"Drive folder {folder}")
        if not files:
            # Drive answers an empty list, not an error, for a folder it will not show us.
            raise SourceReadError(
                f"No spreadsheets found in Drive folder {folder}: check the folder link and "
                f"that it is shared with {self.connection.account_email} (Viewer).",
                code="no-sources", hint="Share the folder (not only the files) with the "
                "service account, or list the spreadsheets one by one in the config.")
        return files

    def modified_times(self, locations: Iterable[str] | None = None) -> dict[str, datetime]:
        """``modifiedTime`` of the given spreadsheets (all visible ones when ``None``), in one
        call. Keys missing from the answer are not visible to the service account: read them
        anyway so that the read reports the sharing problem."""
        wanted = None if locations is None else {spreadsheet_key(x) for x in locations}
        files = self._list(f"mimeType = '{SPREADSHEET_MIME}' and trashed = false",
                           "Drive file listing")
        return {f.key: f.modified for f in files
                if f.modified is not None and (wanted is None or f.key in wanted)}

    def visible(self) -> Visible:
        """Who the credentials are (Drive's ``about``) and what they can see (one listing of
        at most 1,000 files): two calls."""
        from sheetsync.backends.google.locations import FOLDER_MIME

        try:
            http = self.connection.http
            about = http.request("get", "https://www.googleapis.com/drive/v3/about",
                                 params={"fields": "user(emailAddress)"}).json()
            listed = http.request("get", DRIVE_FILES_API_V3_URL, params={
                "q": "trashed = false", "pageSize": 1000, "fields": "nextPageToken,"
                "files(mimeType)", "supportsAllDrives": "true",
                "includeItemsFromAllDrives": "true"}).json()
        except CredentialsError as exc:
            raise SourceReadError(exc.message, code="unreadable-source", hint=exc.hint) from exc
        except Exception as exc:  # every failure becomes a clear line, never a crash
            raise source_error("Google Drive", exc, self.connection.account_email) from exc
        mimes = [f.get("mimeType", "") for f in listed.get("files", [])]
        return Visible(about.get("user", {}).get("emailAddress"),
                       sum(m == SPREADSHEET_MIME for m in mimes),
                       sum(m in EXCEL_MIMES for m in mimes), sum(m == FOLDER_MIME for m in mimes),
                       bool(listed.get("nextPageToken")))

    def download(self, file_id: str, what: str) -> bytes:
        """An Excel file's bytes: one ``files.get?alt=media`` call."""
        try:
            answer = self.connection.http.request(
                "get", f"{DRIVE_FILES_API_V3_URL}/{file_id}",
                params={"alt": "media", "supportsAllDrives": "true"})
        except CredentialsError as exc:
            raise SourceReadError(exc.message, code="unreadable-source", hint=exc.hint) from exc
        except Exception as exc:  # every failure becomes a finding, never a crash
            raise source_error(what, exc, self.connection.account_email) from exc
        return answer.content

    def can_edit(self, location: str) -> bool:
        """Whether the service account may write to the spreadsheet (one ``files.get``), so
        ``doctor`` can check the dashboard target without writing to it."""
        key = spreadsheet_key(location)
        try:
            answer = self.connection.http.request(
                "get", f"{DRIVE_FILES_API_V3_URL}/{key}",
                params={"fields": "capabilities(canEdit)", "supportsAllDrives": "true"}).json()
        except CredentialsError as exc:
            raise SourceReadError(exc.message, code="unreadable-source", hint=exc.hint) from exc
        except Exception as exc:  # every failure becomes a finding, never a crash
            raise source_error(location, exc, self.connection.account_email) from exc
        return bool(answer.get("capabilities", {}).get("canEdit"))
