"""Google mode behind the backend contract: sources in Google Sheets, the dashboard too.

API economy, the scarce resource (60 requests per minute per user):

* a Drive folder costs one listing, which also gives each spreadsheet's ``modifiedTime``;
* one more Drive listing tells which other cached sources changed since their cached parse
  (:meth:`GoogleBackend.versions`, only when something is cached); unchanged sources cost
  nothing more and are served from the local cache;
* a changed source costs one ``spreadsheets.get`` (every tab at once);
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
from sheetsync.backends.google.auth import check_key_file_permissions
from sheetsync.backends.google.settings import GoogleSettings
from sheetsync.errors import CredentialsError, SourceReadError, WritebackError, redact
from sheetsync.findings import Finding, Severity

if TYPE_CHECKING:
    from sheetsync.backends.google.transport import GoogleConnection
    from sheetsync.config import Config
    from sheetsync.report.model import Sheet

_CONNECTIONS: dict[tuple[str, GoogleSettings], GoogleConnection] = {}


def _connection(scope: str, settings: GoogleSettings) -> GoogleConnection:
    from sheetsync.backends.google.transport import GoogleConnection

    key = (scope, settings)
    if key not in _CONNECTIONS:
        _CONNECTIONS[key] = GoogleConnection(settings)
    return _CONNECTIONS[key]


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

    name = "google"
    read_ok = "reachable and shared"

    @classmethod
    def from_config(cls, config: Config) -> GoogleBackend:
        return cls(config.google, str(config.path))

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
        return Listing([Source(f.name, entry.kind, f.key, self.name, entry.write_back,
                               entry.label, f.modified.isoformat() if f.modified else None)
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
        old, new = parse_version(cached), parse_version(current)
        return old is not None and new is not None and new <= old

    def read(self, source: Source) -> RawWorkbook:
        from sheetsync.backends.google.reader import GoogleReader

        raw = GoogleReader(connection=self.connection).read(source.location)
        if raw.modified is not None:
            raw.version = raw.modified.isoformat()
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
        """Every managed tab in one batchUpdate (see :class:`~.writer.GoogleWriter`)."""
        from sheetsync.backends.google.writer import GoogleWriter

        GoogleWriter(connection=self.connection).write(target, sheets)

    def write_flags(self, source: Source, sheet: Sheet) -> None:
        from sheetsync.backends.google.writer import GoogleWriter

        try:
            GoogleWriter(connection=self.connection).write_flags_tab(source.location, sheet)
        except Exception as exc:  # noqa: BLE001 - reported as a finding, never a crash
            raise WritebackError(f"Flags could not be written back: {redact(str(exc))}",
                                 hint="Give the service account Editor access to this "
                                 "spreadsheet.") from None

    def check(self, target: str | None) -> list[Check]:
        """Credentials, the key file, and whether the dashboard spreadsheet is writable."""
        from sheetsync.backends.google.drive import DriveIndex

        try:
            email = self.connection.credentials.email
        except CredentialsError as exc:
            return [Check("Google credentials", False, f"{exc.message} {exc.hint}".strip())]
        checks = [Check("Google key file", False, f.message) for f in self.notices()]
        checks.append(Check("Google credentials", True,
                            f"service account {email}: share sources with it as Viewer, the "
                            "dashboard (and sources with write_back) as Editor"))
        if target is not None:
            try:
                editable = DriveIndex(connection=self.connection).can_edit(target)
                checks.append(Check("dashboard spreadsheet", editable,
                                    "writable" if editable else
                                    f"read-only: share it with {email} as Editor"))
            except SourceReadError as exc:
                checks.append(Check("dashboard spreadsheet", False, exc.message))
        return checks
