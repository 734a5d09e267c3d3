"""Google mode behind the backend contract: sources in Google Sheets, the dashboard too.

API economy, the scarce resource (60 requests per minute per user):

* a Drive folder costs one listing, which also gives each spreadsheet's ``modifiedTime``;
* one more Drive listing tells which other cached sources changed since their cached parse
  (:meth:`GoogleBackend.versions`, only when something is cached); unchanged sources cost
  nothing more and are served from the local cache;
* a changed source costs one ``spreadsheets.get`` (every tab at once), or, for an Excel file
  kept in a Drive folder, one download (``files.get?alt=media``) read by the Excel reader; an
  unchanged one is known by its checksum in the folder listing and costs nothing;
* the dashboard costs one read of the target's tab list and one ``spreadsheets:batchUpdate``.

So a nightly run in which nothing changed costs 3 calls. One connection (credentials, rate
limiter, call counts) serves every run of a config in this process, so the nightly scheduler's
runs share the quota they all draw on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sheetsync.backends.base import Check, Listing, RawWorkbook, Source, SourceEntry
from sheetsync.backends.excel.settings import ReadLimits
from sheetsync.backends.google.auth import check_key_file_permissions
from sheetsync.backends.google.locations import drive_file_id, drive_file_url
from sheetsync.backends.google.settings import GoogleSettings
from sheetsync.errors import CredentialsError, SourceReadError, WritebackError, redact
from sheetsync.findings import Finding, Severity

if TYPE_CHECKING:
    from sheetsync.backends.google.transport import GoogleConnection
    from sheetsync.config import Config
    from sheetsync.report.model import Sheet


class ExcelInDriveWriteback(WritebackError):
    """Flags cannot go inside an Excel file kept in Drive (sheetsync only reads it there)."""

    code = "writeback-unsupported"

_CONNECTIONS: dict[tuple[str, GoogleSettings], GoogleConnection] = {}


def _connection(scope: str, settings: GoogleSettings) -> GoogleConnection:
    from sheetsync.backends.google.transport import GoogleConnection

    key = (scope, settings)
    if key not in _CONNECTIONS:
        _CONNECTIONS[key] = GoogleConnection(settings)
    return _CONNECTIONS[key]


def settings_for(config: Config) -> GoogleSettings:
    """The ``[google]`` settings, with where a user's sign-in is cached (the state folder)."""
    from dataclasses import replace

    from sheetsync.backends.google.settings import TOKEN_FILE

    if config.google.oauth_client is None or config.google.token_path is not None:
        return config.google
    return replace(config.google, token_path=config.output.state_dir / TOKEN_FILE)


def parse_version(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@dataclass
class GoogleBackend:
    """Google Sheets and Drive (see the module docstring)."""

    settings: GoogleSettings
    scope: str = ""  # which config the shared connection belongs to
    limits: ReadLimits = ReadLimits()  # for Excel files kept in Drive

    name = "google"
    read_ok = "reachable and shared"

    @classmethod
    def from_config(cls, config: Config) -> GoogleBackend:
        return cls(settings_for(config), str(config.path), config.limits)

    @property
    def connection(self) -> GoogleConnection:
        return _connection(self.scope, self.settings)

    # -- reading -----------------------------------------------------------------------------
    def sources(self, entry: SourceEntry) -> Listing:
        if not entry.location.startswith("folder:"):
            return Listing([Source(entry.name or entry.location, entry.kind, entry.location,
                                   self.name, entry.write_back, entry.label)])
        from sheetsync.backends.google.drive import DriveIndex

        folder = entry.location.removeprefix("folder:")
        try:
            files = DriveIndex(connection=self.connection).list_folder(folder)
        except SourceReadError as exc:
            exc.message = redact(exc.message)
            return Listing(failures=[(Source(entry.name or folder, entry.kind, entry.location,
                                             self.name, entry.write_back, entry.label), exc)])
        return Listing([Source(f.name, entry.kind,
                               drive_file_url(f.key) if f.is_excel else f.key, self.name,
                               entry.write_back, entry.label, f.version)
                        for f in files])

    def versions(self, sources: Sequence[Source]) -> dict[str, str]:
        from sheetsync.backends.google.drive import DriveIndex

        if not sources:
            return {}
        # if the listing fails, nothing is known to be unchanged: everything is read
        with contextlib.suppress(SourceReadError):
            times = DriveIndex(connection=self.connection).modified_times(
                sorted(s.location for s in sources))
            return {key: when.isoformat() for key, when in times.items()}
        return {}

    def unchanged(self, cached: str, current: str) -> bool:
        if cached.startswith("md5:") or current.startswith("md5:"):
            return cached == current  # an Excel file's bytes: the same checksum, the same file
        old, new = parse_version(cached), parse_version(current)
        return old is not None and new is not None and new <= old

    def read(self, source: Source) -> RawWorkbook:
        if drive_file_id(source.location) is not None:
            return self._read_excel_file(source)
        from sheetsync.backends.google.reader import GoogleReader

        raw = GoogleReader(connection=self.connection).read(source.location)
        if raw.modified is not None:
            raw.version = raw.modified.isoformat()
        return raw

    def _read_excel_file(self, source: Source) -> RawWorkbook:
        """An Excel file kept in Drive: one download, then the Excel reader, as for a file on
        a disk (the same limits and the same findings)."""
        import hashlib
        import tempfile
        from pathlib import Path

        from sheetsync.backends.excel.reader import read_excel
        from sheetsync.backends.google.drive import DriveIndex

        file_id = drive_file_id(source.location) or ""
        suffix = Path(source.name).suffix.lower() or ".xlsx"
        content = DriveIndex(connection=self.connection).download(file_id, source.name)
        if len(content) > self.limits.max_file_mb * 1024 * 1024:
            raise SourceReadError(
                f"{source.name} is {len(content) / 1024 / 1024:.0f} MB, over the "
                f"{self.limits.max_file_mb:g} MB limit.", code="source-too-large",
                hint="Split the workbook, or raise [limits] max_file_mb.")
        with tempfile.TemporaryDirectory(prefix="sheetsync-drive-") as folder:
            path = Path(folder) / f"{Path(source.name).stem or 'workbook'}{suffix}"
            path.write_bytes(content)
            raw = read_excel(path, self.limits)
        raw.location = source.location
        raw.title = Path(source.name).stem
        raw.version = "md5:" + hashlib.md5(content).hexdigest()  # noqa: S324 - Drive's checksum
        return raw

    def pool(self, count: int) -> Executor | None:
        # the reads share one rate limiter; a small pool overlaps their network waits
        return ThreadPoolExecutor(max_workers=max(1, self.settings.read_workers))

    def notices(self) -> list[Finding]:
        """A service-account key file that other users can read."""
        path = self.settings.resolved_credentials_path()
        warnings = (check_key_file_permissions(path) if path is not None and path.exists()
                    else [])
        return [Finding("key-file-permissions", Severity.WARNING, w, "Run: chmod 600 <key file>",
                        source="(program)") for w in warnings]

    def api_calls(self) -> dict[str, int]:
        return self.connection.stats.api_calls()

    # -- writing -----------------------------------------------------------------------------
    def write_tabs(self, target: str, sheets: list[Sheet], now: datetime) -> None:
        """Every managed tab in one batchUpdate, or staged under the request-size limit (see
        :class:`~.writer.GoogleWriter`), with over-long tables scoped (see :mod:`.scoping`)."""
        from sheetsync.backends.google.scoping import scope_sheets
        from sheetsync.backends.google.writer import GoogleWriter

        scoped, _cuts = scope_sheets(sheets, self.settings.max_tab_rows)
        GoogleWriter(connection=self.connection).write(target, scoped)

    def write_flags(self, source: Source, sheet: Sheet) -> None:
        from sheetsync.backends.google.writer import GoogleWriter

        if drive_file_id(source.location) is not None:
            raise ExcelInDriveWriteback(
                f"Flags cannot be written into {source.name}: it is an Excel file kept in "
                "Google Drive, which sheetsync only reads.",
                hint="Convert it to Google Sheets to get flags inside it (in Drive: Open with "
                "> Google Sheets, then File > Save as Google Sheets).")
        try:
            GoogleWriter(connection=self.connection).write_flags_tab(source.location, sheet)
        except Exception as exc:  # noqa: BLE001 - reported as a finding, never a crash
            raise WritebackError(f"Flags could not be written back: {redact(str(exc))}",
                                 hint="Give the service account Editor access to this "
                                 "spreadsheet.") from None

    def check(self, target: str | None) -> list[Check]:
        """Who sheetsync acts as and what it can see, the key file, and whether the dashboard
        spreadsheet is writable."""
        from sheetsync.backends.google.drive import DriveIndex

        try:
            loaded = self.connection.credentials
        except CredentialsError as exc:
            return [Check("Google credentials", False, f"{exc.message} {exc.hint}".strip())]
        checks = [Check("Google key file", False, f.message) for f in self.notices()]
        drive = DriveIndex(connection=self.connection)
        try:
            seen = drive.visible()
        except SourceReadError as exc:
            checks.append(Check("Google identity", False, f"{loaded.describe()}: "
                                f"{exc.message} {exc.hint}".strip()))
            return checks
        email = seen.email or loaded.email
        if loaded.kind == "user" and seen.email and not loaded.email:
            loaded.email = seen.email
        advice = (f"share sources with {email} as Viewer, the dashboard (and sources with "
                  "write_back) as Editor" if loaded.kind == "service account" else
                  f"sheetsync sees what {email} sees in Drive")
        checks.append(Check("Google identity", True,
                            f"{loaded.describe()}; it can see {seen.summary()}: {advice}"))
        if target is not None:
            try:
                editable = DriveIndex(connection=self.connection).can_edit(target)
                checks.append(Check("dashboard spreadsheet", editable,
                                    "writable" if editable else
                                    f"read-only: share it with {email} as Editor"))
            except SourceReadError as exc:
                checks.append(Check("dashboard spreadsheet", False, exc.message))
        return checks
