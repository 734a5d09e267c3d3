"""Rolling out a program in Google Drive: native Google Sheets built from the schemas, shared.

For each new roster row, :class:`GoogleProvisioner` spends:

* one Drive ``files.create``: a native spreadsheet, in the rollout folder, titled for its owner,
  tagged with the roster id in its ``appProperties`` (so a re-run finds it even if the config
  was never updated, and never by its title, which people change);
* one Sheets ``spreadsheets:batchUpdate`` that builds it from the template description
  (:mod:`sheetsync.provision.template`): the Instructions tab, every schema tab with a frozen,
  styled header row and column widths, dropdowns as data validation (the activity list on a
  hidden Lists tab), number formats, and the roster's facts pre-filled;
* one Drive ``permissions.create`` per person: the owner as Editor, each viewer as Viewer.

Plus one ``files.list`` of the folder for the whole rollout. The Sheets call draws on the write
quota through the shared limiter; Drive calls are counted but Drive's per-user quota is far
higher (its 403 rate limits are retried by the transport).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gspread.urls import DRIVE_FILES_API_V3_URL, SPREADSHEET_BATCH_UPDATE_URL

from sheetsync.backends.google.auth import CredentialsError
from sheetsync.backends.google.drive import SPREADSHEET_MIME
from sheetsync.backends.google.locations import folder_id, spreadsheet_url
from sheetsync.backends.google.reader import source_error
from sheetsync.backends.google.transport import GoogleConnection
from sheetsync.errors import SourceReadError
from sheetsync.provision.template import (
    FOCUS_AREAS_HEADER,
    FORM_VALUE_WIDTH,
    HEADER_FILL,
    HEADER_FONT,
    INSTRUCTION_WIDTHS,
    INSTRUCTIONS_TAB,
    LABEL_FILL,
    LISTS_TAB,
    NUMBER_FORMATS,
    SECTION_FILL,
    VALIDATION_ROWS,
    Rule,
    column_rule,
    column_width,
    instruction_rows,
    needs_lists,
    width_for,
)
from sheetsync.schema import ActivityCatalog, Framework, WorkbookSchema, default_framework

ID_PROPERTY = "sheetsync_provision_id"
"""The ``appProperties`` key holding the roster id of a sheet sheetsync created."""

CALLS_PER_SHEET = {"drive.files.create": 1, "spreadsheets.batchUpdate": 1}
"""Calls to create and build one sheet; sharing adds one ``drive.permissions.create`` per
person."""


@dataclass(frozen=True)
class Found:
    """A sheet sheetsync created earlier, found in the folder by its roster id."""

    provision_id: str
    key: str
    name: str


def _rgb(hex_colour: str) -> dict[str, float]:
    return {name: round(int(hex_colour[i:i + 2], 16) / 255, 4)
            for name, i in (("red", 0), ("green", 2), ("blue", 4))}


def _pixels(characters: float) -> int:
    """A column width in characters, in pixels (Arial 10 in Sheets: about 7 px a character)."""
    return round(characters * 7 + 5)


def _text(value: str, fmt: dict[str, Any] | None = None) -> dict[str, Any]:
    cell: dict[str, Any] = {"userEnteredValue": {"stringValue": value}} if value else {}
    if fmt:
        cell["userEnteredFormat"] = fmt
    return cell


def _condition(rule: Rule, activities: int, areas: int = 0) -> dict[str, Any]:
    if rule.kind == "list":
        return {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": v} for v in rule.values]}
    if rule.kind == "activity":
        return {"type": "ONE_OF_RANGE", "values": [
            {"userEnteredValue": f"='{LISTS_TAB}'!$A$2:$A${activities + 1}"}]}
    if rule.kind == "focus_area":
        return {"type": "ONE_OF_RANGE", "values": [
            {"userEnteredValue": f"='{LISTS_TAB}'!$B$2:$B${areas + 1}"}]}
    low, high = rule.low, rule.high

    def number(value: float | None) -> dict[str, str]:
        text = str(int(value)) if value is not None and float(value).is_integer() else str(value)
        return {"userEnteredValue": text}

    if low is not None and high is not None:
        return {"type": "NUMBER_BETWEEN", "values": [number(low), number(high)]}
    if low is not None:
        return {"type": "NUMBER_GREATER_THAN_EQ", "values": [number(low)]}
    return {"type": "NUMBER_LESS_THAN_EQ", "values": [number(high)]}


def build_requests(schema: WorkbookSchema, activities: ActivityCatalog,
                   fields: dict[str, str], framework: Framework | None = None
                   ) -> list[dict[str, Any]]:
    """The one ``batchUpdate`` that turns a new spreadsheet (one tab, id 0) into the template,
    pre-filled with ``fields`` (form labels by schema key, e.g. ``coach``, ``school``)."""
    header = {"backgroundColor": _rgb(HEADER_FILL), "wrapStrategy": "WRAP",
              "verticalAlignment": "MIDDLE",
              "textFormat": {"bold": True, "foregroundColor": _rgb(HEADER_FONT)}}
    label = {"backgroundColor": _rgb(LABEL_FILL), "textFormat": {"bold": True}}
    lists = needs_lists(schema)
    count = len(activities.activities)
    framework = framework or default_framework()
    areas = framework.labels()
    rows = instruction_rows(schema, activities if lists else None, framework)
    requests: list[dict[str, Any]] = [{"updateSheetProperties": {
        "properties": {"sheetId": 0, "title": INSTRUCTIONS_TAB, "gridProperties": {
            "rowCount": len(rows) + 5, "columnCount": len(INSTRUCTION_WIDTHS)}},
        "fields": "title,gridProperties.rowCount,gridProperties.columnCount"}}]

    def width(sheet_id: int, column: int, characters: float) -> dict[str, Any]:
        return {"updateDimensionProperties": {
            "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": column,
                      "endIndex": column + 1},
            "properties": {"pixelSize": _pixels(characters)}, "fields": "pixelSize"}}

    def check(sheet_id: int, box: tuple[int, int, int, int], rule: Rule) -> dict[str, Any]:
        return {"setDataValidation": {
            "range": {"sheetId": sheet_id, "startRowIndex": box[0], "endRowIndex": box[1],
                      "startColumnIndex": box[2], "endColumnIndex": box[3]},
            "rule": {"condition": _condition(rule, count, len(areas)),
                     "inputMessage": rule.message, "strict": False,
                     "showCustomUi": rule.kind in ("list", "activity", "focus_area")}}}

    def number_format(sheet_id: int, box: tuple[int, int, int, int], pattern: str
                      ) -> dict[str, Any]:
        kind = {"yyyy-mm-dd": "DATE", "hh:mm": "TIME", "0%": "PERCENT"}[pattern]
        return {"repeatCell": {
            "range": {"sheetId": sheet_id, "startRowIndex": box[0], "endRowIndex": box[1],
                      "startColumnIndex": box[2], "endColumnIndex": box[3]},
            "cell": {"userEnteredFormat": {"numberFormat": {"type": kind, "pattern": pattern}}},
            "fields": "userEnteredFormat.numberFormat"}}

    for sheet_id, tab in enumerate(schema.tabs, start=1):
        if tab.layout == "form":
            requests.append({"addSheet": {"properties": {
                "sheetId": sheet_id, "title": tab.name, "index": sheet_id,
                "gridProperties": {"rowCount": max(len(tab.columns), 1) + 5,
                                   "columnCount": 2}}}})
            requests.append({"updateCells": {
                "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                "rows": [{"values": [_text(col.name, label), _text(fields.get(col.key, ""))]}
                         for col in tab.columns],
                "fields": "userEnteredValue,userEnteredFormat"}})
            requests.append(width(sheet_id, 0, width_for(c.name for c in tab.columns)))
            requests.append(width(sheet_id, 1, FORM_VALUE_WIDTH))
            for row, col in enumerate(tab.columns):
                if col.type in NUMBER_FORMATS:
                    requests.append(number_format(sheet_id, (row, row + 1, 1, 2),
                                                  NUMBER_FORMATS[col.type]))
                rule = column_rule(col, with_activities=lists)
                if rule is not None:
                    requests.append(check(sheet_id, (row, row + 1, 1, 2), rule))
            continue
        requests.append({"addSheet": {"properties": {
            "sheetId": sheet_id, "title": tab.name, "index": sheet_id,
            "gridProperties": {"rowCount": VALIDATION_ROWS + 1,
                               "columnCount": len(tab.columns), "frozenRowCount": 1}}}})
        requests.append({"updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
            "rows": [{"values": [_text(col.name, header) for col in tab.columns]}],
            "fields": "userEnteredValue,userEnteredFormat"}})
        data = (1, VALIDATION_ROWS + 1)
        for column, col in enumerate(tab.columns):
            requests.append(width(sheet_id, column, column_width(col)))
            if col.type in NUMBER_FORMATS:
                requests.append(number_format(sheet_id, (*data, column, column + 1),
                                              NUMBER_FORMATS[col.type]))
            rule = column_rule(col, with_activities=lists)
            if rule is not None:
                requests.append(check(sheet_id, (*data, column, column + 1), rule))
    if lists:
        lists_id = len(schema.tabs) + 1
        requests.append({"addSheet": {"properties": {
            "sheetId": lists_id, "title": LISTS_TAB, "hidden": True,
            "gridProperties": {"rowCount": max(count, len(areas)) + 1, "columnCount": 2}}}})
        requests.append({"updateCells": {
            "start": {"sheetId": lists_id, "rowIndex": 0, "columnIndex": 0},
            "rows": [{"values": [_text("Activities")]},
                     *({"values": [_text(a.name)]} for a in activities.activities)],
            "fields": "userEnteredValue"}})
        requests.append({"updateCells": {
            "start": {"sheetId": lists_id, "rowIndex": 0, "columnIndex": 1},
            "rows": [{"values": [_text(FOCUS_AREAS_HEADER)]},
                     *({"values": [_text(label)]} for label in areas)],
            "fields": "userEnteredValue"}})
        requests.append(width(lists_id, 0, width_for(a.name for a in activities.activities)))
        requests.append(width(lists_id, 1, width_for(areas)))
    styles = {"title": {"textFormat": {"bold": True, "fontSize": 14}},
              "section": {"backgroundColor": _rgb(SECTION_FILL), "textFormat": {"bold": True},
                          "wrapStrategy": "WRAP", "verticalAlignment": "TOP"},
              "header": {**header, "verticalAlignment": "TOP"},
              "row": {"wrapStrategy": "WRAP", "verticalAlignment": "TOP"}}
    cells = []
    for style, values in rows:
        row_cells = []
        for column, value in enumerate(values):
            fmt = dict(styles.get(style, {}))
            if style == "row" and column == 0:
                fmt["textFormat"] = {"bold": True}
            row_cells.append(_text(value, fmt or None) if value or style == "header" else {})
        cells.append({"values": row_cells})
    requests.append({"updateCells": {"start": {"sheetId": 0, "rowIndex": 0, "columnIndex": 0},
                                     "rows": cells,
                                     "fields": "userEnteredValue,userEnteredFormat"}})
    requests += [width(0, column, characters)
                 for column, characters in enumerate(INSTRUCTION_WIDTHS)]
    return requests


class GoogleProvisioner:
    """Creates, builds and shares the sheets of a rollout (see the module docstring)."""

    def __init__(self, connection: GoogleConnection) -> None:
        self.connection = connection

    def _call(self, method: str, url: str, what: str, **kwargs: Any) -> Any:
        try:
            http = self.connection.http
        except CredentialsError as exc:
            raise SourceReadError(exc.message, code="unreadable-source", hint=exc.hint) from exc
        try:
            return http.request(method, url, **kwargs).json()
        except Exception as exc:  # every failure becomes a clear line, never a crash
            raise source_error(what, exc, self.connection.account_email) from exc

    def existing(self, folder: str) -> dict[str, Found]:
        """Sheets sheetsync created earlier in the folder, by roster id: one listing."""
        fid = folder_id(folder)
        found: dict[str, Found] = {}
        params: dict[str, Any] = {
            "q": f"'{fid}' in parents and mimeType = '{SPREADSHEET_MIME}' and trashed = false",
            "pageSize": 1000, "fields": "nextPageToken,files(id,name,appProperties)",
            "supportsAllDrives": "true", "includeItemsFromAllDrives": "true"}
        while True:
            answer = self._call("get", DRIVE_FILES_API_V3_URL, f"Drive folder {folder}",
                                params=params)
            for item in answer.get("files", []):
                pid = (item.get("appProperties") or {}).get(ID_PROPERTY)
                if pid:
                    found[pid] = Found(pid, item["id"], item.get("name", ""))
            if not answer.get("nextPageToken"):
                return found
            params["pageToken"] = answer["nextPageToken"]

    def create(self, title: str, folder: str, provision_id: str) -> str:
        """A new, empty native spreadsheet in the folder, tagged with its roster id."""
        answer = self._call("post", DRIVE_FILES_API_V3_URL, title,
                            params={"supportsAllDrives": "true"},
                            json={"name": title, "mimeType": SPREADSHEET_MIME,
                                  "parents": [folder_id(folder)],
                                  "appProperties": {ID_PROPERTY: provision_id}})
        return str(answer["id"])

    def build(self, key: str, requests: list[dict[str, Any]], title: str) -> None:
        """Turn the new spreadsheet into the template: one batchUpdate (write quota)."""
        self._call("post", SPREADSHEET_BATCH_UPDATE_URL % key, title,
                   json={"requests": requests})

    def share(self, key: str, email: str, role: str, title: str) -> None:
        """Give one person access (``writer`` or ``reader``); Google emails them the link."""
        self._call("post", f"{DRIVE_FILES_API_V3_URL}/{key}/permissions", title,
                   params={"supportsAllDrives": "true"},
                   json={"role": role, "type": "user", "emailAddress": email})

    @staticmethod
    def url(key: str) -> str:
        return spreadsheet_url(key)
