"""Google mode inside the run: sources from Google Sheets, the dashboard to a Google spreadsheet.

API economy, the scarce resource (60 requests per minute per user):

* one Drive listing tells which sources changed since their cached parse (``modifiedTime``);
  unchanged sources cost nothing more and are served from the local cache;
* a changed source costs one ``spreadsheets.get`` (every tab at once);
* the dashboard costs one read of the target's tab list and one ``spreadsheets:batchUpdate``.

So a nightly run in which nothing changed costs 3 calls. A source that cannot be read is never
dropped: its last good data is used and marked stale, or it shows as failed.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sheetsync.backends.google.auth import check_key_file_permissions
from sheetsync.dataset import SourceStatus
from sheetsync.errors import SourceReadError, redact
from sheetsync.findings import Finding, Severity
from sheetsync.sources.load import (
    LoadedSource,
    Source,
    cache_load,
    cache_store,
    context_for,
    failed_or_stale,
    fingerprint_for,
    schemas_for,
    validate_raw,
)
from sheetsync.sources.load import reusable as cache_reusable

if TYPE_CHECKING:
    from sheetsync.backends.google import GoogleConnection, GoogleSettings
    from sheetsync.config import Config
    from sheetsync.doctor import Check

_CONNECTIONS: dict[tuple, GoogleConnection] = {}


def settings_for(config: Config) -> GoogleSettings:
    from sheetsync.backends.google import GoogleSettings

    g = config.google
    return GoogleSettings(credentials_path=g.credentials, api_base=g.api_base,
                          quota_per_minute=g.quota_per_minute,
                          quota_window=g.quota_window_seconds, max_attempts=g.max_attempts,
                          max_wait=g.max_wait_seconds, read_workers=g.workers)


def connection_for(config: Config) -> GoogleConnection:
    """One connection (credentials, rate limiter, call counts) per config in this process."""
    from sheetsync.backends.google import GoogleConnection

    settings = settings_for(config)
    key = (str(config.path), settings)
    if key not in _CONNECTIONS:
        _CONNECTIONS[key] = GoogleConnection(settings)
    return _CONNECTIONS[key]


def _publish(config: Config, stats: dict[str, int]) -> None:
    stats.clear()
    stats.update(connection_for(config).stats.api_calls())


def _expand_folders(config: Config, sources: list[Source]
                    ) -> tuple[list[Source], list[LoadedSource], dict[str, datetime]]:
    """Drive folders become one source per spreadsheet (one listing call per folder)."""
    from sheetsync.backends.google import DriveIndex

    drive = DriveIndex(connection=connection_for(config))
    out: list[Source] = []
    failed: list[LoadedSource] = []
    modified: dict[str, datetime] = {}
    for s in sources:
        if s.backend != "google-folder":
            out.append(s)
            continue
        folder = s.location.removeprefix("folder:")
        try:
            files = drive.list_folder(folder)
        except SourceReadError as exc:
            failed.append(failed_or_stale(replace(s, name=s.name or folder), None, exc.code,
                                          redact(exc.message), exc.hint))
            continue
        for f in files:
            out.append(Source(f.name, s.kind, f.key, "google", s.write_back, s.entry))
            if f.modified is not None:
                modified[f.key] = f.modified
    return out, failed, modified


def load_google_sources(config: Config, sources: list[Source], stats: dict[str, int],
                        as_of: date | None = None) -> list[LoadedSource]:
    """Read, validate and cache Google sources, re-reading only those that changed."""
    from sheetsync.backends.google import DriveIndex, GoogleReader
    from sheetsync.pipeline import resolve_as_of

    day = as_of or resolve_as_of(config, None)
    conn = connection_for(config)
    sources, loaded, modified = _expand_folders(config, sources)
    key_warnings = key_file_warnings(config)
    schemas = schemas_for(config)
    ctx = context_for(config, day)
    fingerprint = fingerprint_for(schemas, ctx)
    cache_dir = config.output.state_dir / "cache"
    cached = {s.location: cache_load(cache_dir, f"google:{s.location}") for s in sources}

    # One Drive call tells which cached sources changed (skipped when nothing is cached).
    named = {s.location: s.name for s in sources}
    reusable = {loc for loc, entry in cached.items()
                if entry and entry.get("modified")
                and cache_reusable(entry, fingerprint, _cached_name(named[loc], loc, entry), day)}
    unknown = reusable - set(modified)
    if unknown:
        # if the listing fails, nothing is known to be unchanged: everything is read
        with contextlib.suppress(SourceReadError):
            modified.update(DriveIndex(connection=conn).modified_times(sorted(unknown)))
    to_read: list[Source] = []
    for s in sources:
        entry = cached[s.location]
        if (s.location in reusable and s.location in modified
                and modified[s.location] <= entry["modified"]):
            result = entry["result"]
            s = replace(s, name=_cached_name(s.name, s.location, entry))
            status = SourceStatus(s.name, result.kind, s.location, "ok", rows=result.rows,
                                  data_as_of=entry["read_at"])
            loaded.append(LoadedSource(s, status, result, list(result.findings)))
        else:
            to_read.append(s)

    reader = GoogleReader(connection=conn)
    answers = reader.read_many([s.location for s in to_read]) if to_read else {}
    now = datetime.now(UTC)
    for s in to_read:
        raw = answers[s.location]
        if isinstance(raw, SourceReadError):
            loaded.append(failed_or_stale(s, cached[s.location], raw.code, redact(raw.message),
                                          raw.hint))
            continue
        if s.name == s.location and raw.title:
            s = replace(s, name=raw.title)
        result, findings = validate_raw(s, raw, schemas, ctx)
        if result is None:
            status = SourceStatus(s.name, "unknown", s.location, "failed",
                                  message=findings[0].message)
            loaded.append(LoadedSource(s, status, None, findings))
            continue
        cache_store(cache_dir, {"location": f"google:{s.location}", "hash": "",
                                "fingerprint": fingerprint, "read_at": now,
                                "modified": raw.modified or modified.get(s.location) or now,
                                "result": result})
        status = SourceStatus(s.name, result.kind, s.location, "ok", rows=result.rows,
                              data_as_of=now)
        loaded.append(LoadedSource(s, status, result, findings))
    _publish(config, stats)
    if key_warnings and loaded:
        first = loaded[0]
        first.findings.extend(Finding("key-file-permissions", Severity.WARNING, w,
                                      "Run: chmod 600 <key file>", source="(program)")
                              for w in key_warnings)
    return loaded


def _cached_name(name: str, location: str, entry: dict) -> str:
    """A source named after its spreadsheet id takes the title it had when it was read."""
    return entry["result"].source if name == location else name


def key_file_warnings(config: Config) -> list[str]:
    """Warnings about a service-account key file that other users can read."""
    path = settings_for(config).resolved_credentials_path()
    return check_key_file_permissions(path) if path is not None and path.exists() else []


def write_google_dashboard(config: Config, target: str, sheets: list, stats: dict[str, int]
                           ) -> None:
    """Every managed tab in one batchUpdate (see :class:`GoogleWriter`)."""
    from sheetsync.backends.google import GoogleWriter

    try:
        GoogleWriter(connection=connection_for(config)).write(target, sheets)
    finally:
        _publish(config, stats)


def write_google_flags(config: Config, source: Source, header: list[str],
                       rows: list[list[Any]]) -> None:
    from sheetsync.backends.google import GoogleWriter

    GoogleWriter(connection=connection_for(config)).write_flags_tab(source.location, rows,
                                                                     columns=header)


def google_checks(config: Config, sources: list[Source]) -> list[Check]:
    """``doctor``: credentials, each Google source, and the Google target."""
    from sheetsync.backends.google import CredentialsError, GoogleReader
    from sheetsync.doctor import Check, check_workbook_layout

    conn = connection_for(config)
    try:
        email = conn.credentials.email
    except CredentialsError as exc:
        return [Check("Google credentials", False, f"{exc.message} {exc.hint}".strip())]
    checks = [Check("Google key file", False, w) for w in key_file_warnings(config)]
    checks += [Check("Google credentials", True,
                    f"service account {email}: share sources with it as Viewer, the dashboard "
                    "(and sources with write_back) as Editor")]
    reader = GoogleReader(connection=conn)
    expanded, failed, _ = _expand_folders(config, sources)
    for item in failed:
        checks.append(Check(item.source.name, False, item.status.message))
    for s in expanded:
        try:
            raw = reader.read(s.location)
        except SourceReadError as exc:
            checks.append(Check(s.name, False, exc.message))
            continue
        checks.append(Check(raw.title or s.name, True, "reachable and shared"))
        checks.extend(check_workbook_layout(raw, replace(s, name=raw.title or s.name), config))
    if config.output.google:
        from sheetsync.backends.google import DriveIndex

        try:
            editable = DriveIndex(connection=conn).can_edit(config.output.google)
            checks.append(Check("dashboard spreadsheet", editable,
                                "writable" if editable else
                                f"read-only: share it with {email} as Editor"))
        except SourceReadError as exc:
            checks.append(Check("dashboard spreadsheet", False, exc.message))
    return checks
