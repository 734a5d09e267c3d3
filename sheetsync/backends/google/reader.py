"""Read a Google spreadsheet source: every tab in one Sheets API call.

One ``spreadsheets.get`` with ``includeGridData`` and a ``fields`` mask returns each tab's
title, hidden rows and every cell's *unformatted* effective value together with its number
format. That costs exactly one request per source whatever the number of tabs, and it lets
sheetsync turn date-formatted serial numbers (days since 1899-12-30) into real dates here,
instead of leaving "46273" for validation to puzzle over. Formula cells give their computed
value; error results arrive as ``"#DIV/0!"``-style text, as in Excel.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from typing import Any

from sheetsync.backends.base import RawTab, RawWorkbook
from sheetsync.backends.google.auth import CredentialsError
from sheetsync.backends.google.locations import spreadsheet_key
from sheetsync.backends.google.settings import GoogleSettings
from sheetsync.backends.google.transport import (
    GoogleConnection,
    classify_failure,
    credentials_hint,
)
from sheetsync.errors import SourceReadError
from sheetsync.grid import date_from_serial, datetime_from_serial
from sheetsync.report.model import FLAGS_TAB, MANIFEST_TAB

"""The managed tab that opt-in write-back adds to a source; never read back as source data."""

READ_FIELDS = (
    "spreadsheetId,properties.title,"
    "sheets(properties(sheetId,title,index,hidden,sheetType),"
    "data(rowData.values(effectiveValue,effectiveFormat.numberFormat),rowMetadata.hiddenByUser))"
)
"""Only what validation needs: values, number formats, hidden rows; no styles or metadata."""

_ERROR_TEXT = {
    "NULL_VALUE": "#NULL!", "DIVIDE_BY_ZERO": "#DIV/0!", "VALUE": "#VALUE!", "REF": "#REF!",
    "NAME": "#NAME?", "NUM": "#NUM!", "N_A": "#N/A", "ERROR": "#ERROR!", "LOADING": "#N/A",
}

SHARE_ADVICE = "(Viewer for sources, Editor for the dashboard and for sources with write-back)"


def from_serial(serial: float, kind: str) -> date | datetime | time | timedelta:
    """Convert a Sheets serial number with a DATE / DATE_TIME / TIME format to Python."""
    if kind == "DATE":
        return date_from_serial(serial)
    if kind == "TIME":
        if serial >= 1 or serial < 0:
            return timedelta(days=serial)  # a duration such as 26:30
        seconds = round(serial * 86400)
        return time(seconds // 3600 % 24, seconds // 60 % 60, seconds % 60)
    moment = datetime_from_serial(serial)
    return moment.replace(microsecond=0) if moment.microsecond < 500_000 \
        else (moment + timedelta(seconds=1)).replace(microsecond=0)


def cell_value(cell: dict[str, Any]) -> Any:
    """One ``CellData`` as a raw value (see :mod:`sheetsync.backends.base`)."""
    value = cell.get("effectiveValue")
    if not value:
        return None
    if "stringValue" in value:
        return value["stringValue"] or None
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "errorValue" in value:
        return _ERROR_TEXT.get(value["errorValue"].get("type", "ERROR"), "#ERROR!")
    if "numberValue" in value:
        number = value["numberValue"]
        kind = cell.get("effectiveFormat", {}).get("numberFormat", {}).get("type")
        if kind in ("DATE", "DATE_TIME", "TIME"):
            return from_serial(float(number), kind)
        if isinstance(number, float) and number.is_integer():
            return int(number)
        return number
    return None


def workbook_from_response(location: str, response: dict[str, Any]) -> RawWorkbook:
    """Turn a ``spreadsheets.get`` answer (with :data:`READ_FIELDS`) into a workbook."""
    sheets = response.get("sheets", [])
    skipped = {MANIFEST_TAB, FLAGS_TAB} | _managed_tabs(sheets)
    tabs: dict[str, RawTab] = {}
    for sheet in sheets:
        props = sheet.get("properties", {})
        title = props.get("title", "")
        if title in skipped or props.get("sheetType", "GRID") != "GRID":
            continue
        grid = (sheet.get("data") or [{}])[0]
        rows: list[list[Any]] = []
        for row in grid.get("rowData", []):
            values = [cell_value(c) for c in row.get("values", [])]
            while values and values[-1] is None:
                values.pop()
            rows.append(values)
        while rows and not rows[-1]:
            rows.pop()
        hidden = frozenset(i + 1 for i, meta in enumerate(grid.get("rowMetadata", []))
                           if meta.get("hiddenByUser"))
        tabs[title] = RawTab(title, rows, hidden)
    title = response.get("properties", {}).get("title")
    return RawWorkbook(location=location, tabs=tabs, title=title)


def _managed_tabs(sheets: list[dict[str, Any]]) -> set[str]:
    """Tabs listed in a ``_sheetsync`` manifest (a source that also receives write-back)."""
    for sheet in sheets:
        if sheet.get("properties", {}).get("title") != MANIFEST_TAB:
            continue
        rows = (sheet.get("data") or [{}])[0].get("rowData", [])
        names = set()
        for row in rows:
            values = [cell_value(c) for c in row.get("values", [])]
            if len(values) > 1 and values[0] == "managed_tab" and isinstance(values[1], str):
                names.add(values[1])
        return names
    return set()


def source_error(location: str, exc: BaseException, account: str, attempts: int | None = None
                 ) -> SourceReadError:
    """The coach-readable :class:`SourceReadError` for a failed read."""
    failure = classify_failure(exc)
    if failure.status == 403 and failure.reason == "ACCESS_TOKEN_SCOPE_INSUFFICIENT":
        return SourceReadError(
            f"Google refused to read {location}: the credentials lack the spreadsheets scope.",
            code="unreadable-source", hint="Use a service-account key file; sheetsync asks for "
            "the spreadsheets and drive.readonly scopes.")
    if failure.status == 403 and failure.reason == "SERVICE_DISABLED":
        return SourceReadError(
            f"Cannot read {location}: the Google Sheets API is not enabled for the service "
            "account's project.", code="unreadable-source",
            hint="Enable the Google Sheets API and the Google Drive API in the Cloud console.")
    if failure.status == 403:
        return SourceReadError(f"Share {location} with {account} {SHARE_ADVICE}.",
                               code="unreadable-source",
                               hint=f"In the spreadsheet, click Share and add {account}.")
    if failure.status == 404:
        return SourceReadError(f"{location}: not found: check the URL/key.",
                               code="unreadable-source",
                               hint="Copy the spreadsheet's URL from the browser's address bar.")
    if failure.status == 429:
        return SourceReadError(
            f"Could not read {location}: Google's request quota stayed exhausted through every "
            "retry.", code="unreadable-source", transient=True,
            hint="Try again in a few minutes, or lower quota_per_minute in [google].")
    if failure.reason == "credentials" or failure.status == 401:
        return SourceReadError(f"Could not read {location}: {failure.message}",
                               code="unreadable-source", transient=failure.transient,
                               hint=credentials_hint(failure.message, exc))
    if failure.transient:
        return SourceReadError(
            f"Could not read {location}: Google did not answer properly ({failure.message}).",
            code="unreadable-source", transient=True,
            hint="This is usually temporary; the next run will try again.")
    return SourceReadError(f"Could not read {location}: {failure.message}",
                           code="unreadable-source")


class GoogleReader:
    """Reads Google spreadsheet sources, one API call each (see the module docstring)."""

    def __init__(self, settings: GoogleSettings | None = None, *,
                 connection: GoogleConnection | None = None) -> None:
        self.connection = connection or GoogleConnection(settings)

    def read(self, location: str) -> RawWorkbook:
        """Read every tab of the spreadsheet at ``location`` (a URL or key)."""
        try:
            key = spreadsheet_key(location)
        except ValueError as exc:
            raise SourceReadError(f"{location}: not found: check the URL/key.",
                                  code="unreadable-source") from exc
        try:
            http = self.connection.http
        except CredentialsError as exc:
            raise SourceReadError(exc.message, code="unreadable-source", hint=exc.hint) from exc
        try:
            response = http.spreadsheets_get(
                key, params={"includeGridData": "true", "fields": READ_FIELDS})
        except Exception as exc:  # every failure becomes a finding, never a crash
            raise source_error(location, exc, self.connection.account_email) from exc
        return workbook_from_response(location, response)

    def read_many(self, locations: Sequence[str], workers: int | None = None
                  ) -> dict[str, RawWorkbook | SourceReadError]:
        """Read several sources concurrently (a small pool sharing the rate limiter)."""
        count = workers or self.connection.settings.read_workers
        results: dict[str, RawWorkbook | SourceReadError] = {}

        def one(location: str) -> RawWorkbook | SourceReadError:
            try:
                return self.read(location)
            except SourceReadError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=max(1, count)) as pool:
            for location, result in zip(locations, pool.map(one, locations), strict=True):
                results[location] = result
        return results
