"""Spreadsheet state and the Sheets v4 operations of the fake Google API.

Everything here is plain data plus pure-ish functions over it; HTTP, auth, sharing, quotas and
faults live in :mod:`sheetsync.testing.fake_google`. ``spreadsheets:batchUpdate`` is applied to a
deep copy and swapped in only when every request succeeded, so it is atomic like the real API.
"""

from __future__ import annotations

import copy
import functools
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sheetsync.grid import a1
from sheetsync.testing.fake_cells import (
    Bounds,
    FakeCell,
    RangeError,
    cell_from_user_entered_value,
    format_range,
    formatted_value,
    json_copy,
    parse_cells,
    raw_input_to_cell,
    render_cell,
    split_sheet,
    user_entered_to_cell,
)
from sheetsync.testing.field_mask import FieldMaskError, mask_paths, parse_field_mask

DEFAULT_ROWS = 1000
DEFAULT_COLUMNS = 26

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
FOLDER_MIME = "application/vnd.google-apps.folder"

_DEFAULT_TEXT_FORMAT = {
    "foregroundColor": {},
    "fontFamily": "arial,sans,sans-serif",
    "fontSize": 10,
    "bold": False,
    "italic": False,
    "strikethrough": False,
    "underline": False,
    "foregroundColorStyle": {"rgbColor": {}},
}
DEFAULT_FORMAT: dict[str, Any] = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM",
    "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": _DEFAULT_TEXT_FORMAT,
    "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
}
_THEME_COLOURS = [
    ("TEXT", {}),
    ("BACKGROUND", {"red": 1, "green": 1, "blue": 1}),
    ("ACCENT1", {"red": 0.25882354, "green": 0.52156866, "blue": 0.95686275}),
    ("ACCENT2", {"red": 0.91764706, "green": 0.2627451, "blue": 0.20784314}),
    ("ACCENT3", {"red": 0.9843137, "green": 0.7372549, "blue": 0.015686275}),
    ("ACCENT4", {"red": 0.20392157, "green": 0.65882355, "blue": 0.3254902}),
    ("ACCENT5", {"red": 1, "green": 0.42745098, "blue": 0.003921569}),
    ("ACCENT6", {"red": 0.27450982, "green": 0.7411765, "blue": 0.7764706}),
    ("LINK", {"red": 0.06666667, "green": 0.33333334, "blue": 0.8}),
]
THEME: dict[str, Any] = {
    "primaryFontFamily": "Arial",
    "themeColors": [{"colorType": kind, "color": {"rgbColor": rgb}}
                    for kind, rgb in _THEME_COLOURS],
}


class SheetsError(Exception):
    """An API error with the real status and JSON body."""

    def __init__(self, code: int, message: str, status: str,
                 details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def bad_request(message: str, field_name: str | None = None) -> SheetsError:
    details = None
    if field_name:
        details = [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"field": field_name, "description": message}]}]
    return SheetsError(400, message, "INVALID_ARGUMENT", details)


def not_implemented(what: str) -> SheetsError:
    """A valid request the fake does not implement: 501, never a misleading 400.

    Google would carry out the request, so answering "Invalid JSON payload" (Google's word for a
    malformed request) would invite someone to "fix" a correct one."""
    return SheetsError(501, f"not implemented by the fake API: {what}", "UNIMPLEMENTED")


def not_found() -> SheetsError:
    return SheetsError(404, "Requested entity was not found.", "NOT_FOUND")


def permission_denied() -> SheetsError:
    return SheetsError(403, "The caller does not have permission", "PERMISSION_DENIED")


VALID_REQUESTS = frozenset({
    "addBanding", "addChart", "addConditionalFormatRule", "addDataSource", "addDimensionGroup",
    "addFilterView", "addNamedRange", "addProtectedRange", "addSheet", "addSlicer", "addTable",
    "appendCells", "appendDimension", "autoFill", "autoResizeDimensions",
    "cancelDataSourceRefresh", "clearBasicFilter", "copyPaste", "createDeveloperMetadata",
    "cutPaste", "deleteBanding", "deleteConditionalFormatRule", "deleteDataSource",
    "deleteDeveloperMetadata", "deleteDimension", "deleteDimensionGroup", "deleteDuplicates",
    "deleteEmbeddedObject", "deleteFilterView", "deleteNamedRange", "deleteProtectedRange",
    "deleteRange", "deleteSheet", "deleteTable", "duplicateFilterView", "duplicateSheet",
    "findReplace", "insertDimension", "insertRange", "mergeCells", "moveDimension", "pasteData",
    "randomizeRange", "refreshDataSource", "repeatCell", "setBasicFilter", "setDataValidation",
    "sortRange", "textToColumns", "trimWhitespace", "unmergeCells", "updateBanding",
    "updateBorders", "updateCells", "updateChartSpec", "updateConditionalFormatRule",
    "updateDataSource", "updateDeveloperMetadata", "updateDimensionGroup",
    "updateDimensionProperties", "updateEmbeddedObjectBorder", "updateEmbeddedObjectPosition",
    "updateFilterView", "updateNamedRange", "updateProtectedRange", "updateSheetProperties",
    "updateSlicerSpec", "updateSpreadsheetProperties", "updateTable",
})
"""Every request ``spreadsheets:batchUpdate`` accepts (the ``Request`` schema of the Sheets v4
discovery document, revision 20250616)."""


# --------------------------------------------------------------------------- state

@dataclass
class FakeSheet:
    """One tab: API-shaped ``properties`` plus cells and embedded objects."""

    properties: dict[str, Any]
    cells: dict[tuple[int, int], FakeCell] = field(default_factory=dict)
    row_metadata: dict[int, dict[str, Any]] = field(default_factory=dict)
    column_metadata: dict[int, dict[str, Any]] = field(default_factory=dict)
    conditional_formats: list[dict[str, Any]] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)
    basic_filter: dict[str, Any] | None = None
    protected_ranges: list[dict[str, Any]] = field(default_factory=list)
    developer_metadata: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sheet_id(self) -> int:
        return int(self.properties["sheetId"])

    @property
    def title(self) -> str:
        return str(self.properties["title"])

    @property
    def row_count(self) -> int:
        return int(self.properties["gridProperties"]["rowCount"])

    @property
    def column_count(self) -> int:
        return int(self.properties["gridProperties"]["columnCount"])

    def extent(self) -> tuple[int, int]:
        """(rows, columns) spanned by cells holding a value."""
        rows = cols = 0
        for (r, c), cell in self.cells.items():
            if cell.has_value():
                rows, cols = max(rows, r + 1), max(cols, c + 1)
        return rows, cols

    def clone(self) -> FakeSheet:
        """A copy to change: cells are shared, because a stored :class:`FakeCell` is never
        changed in place (a write stores a new one), so a batch's copy costs a dict copy."""
        return FakeSheet(copy.deepcopy(self.properties), dict(self.cells),
                         copy.deepcopy(self.row_metadata), copy.deepcopy(self.column_metadata),
                         copy.deepcopy(self.conditional_formats), copy.deepcopy(self.charts),
                         copy.deepcopy(self.merges), copy.deepcopy(self.basic_filter),
                         copy.deepcopy(self.protected_ranges),
                         copy.deepcopy(self.developer_metadata))

    def set_cell(self, row: int, col: int, cell: FakeCell | None) -> None:
        if cell is None or cell.is_empty():
            self.cells.pop((row, col), None)
        else:
            self.cells[(row, col)] = cell

    def resolve(self, bounds: Bounds) -> tuple[int, int, int, int]:
        """Clip unbounded sides of ``bounds`` to the grid."""
        row0 = bounds.row0 or 0
        col0 = bounds.col0 or 0
        row1 = self.row_count if bounds.row1 is None else bounds.row1
        col1 = self.column_count if bounds.col1 is None else bounds.col1
        return row0, col0, row1, col1


@dataclass
class FakeSpreadsheet:
    """A spreadsheet file: Drive metadata, sharing and its tabs."""

    spreadsheet_id: str
    properties: dict[str, Any]
    sheets: list[FakeSheet]
    parents: list[str] = field(default_factory=list)
    permissions: dict[str, str] = field(default_factory=dict)  # email -> reader|writer|owner
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    modified: datetime = field(default_factory=lambda: datetime.now(UTC))
    developer_metadata: list[dict[str, Any]] = field(default_factory=list)
    named_ranges: list[dict[str, Any]] = field(default_factory=list)
    app_properties: dict[str, str] = field(default_factory=dict)  # Drive appProperties

    @property
    def title(self) -> str:
        return str(self.properties["title"])

    def clone(self) -> FakeSpreadsheet:
        """A copy to apply a batch to, swapped in only if every request succeeds."""
        return FakeSpreadsheet(self.spreadsheet_id, copy.deepcopy(self.properties),
                               [sheet.clone() for sheet in self.sheets], list(self.parents),
                               dict(self.permissions), self.created, self.modified,
                               copy.deepcopy(self.developer_metadata),
                               copy.deepcopy(self.named_ranges), dict(self.app_properties))

    def sheet_by_title(self, title: str) -> FakeSheet | None:
        """Tab titles are unique regardless of case in Sheets; an exact match wins."""
        folded = None
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
            if folded is None and sheet.title.casefold() == title.casefold():
                folded = sheet
        return folded

    def sheet_by_id(self, sheet_id: int) -> FakeSheet | None:
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        return None

    def reindex(self) -> None:
        self.sheets.sort(key=lambda s: s.properties.get("index", 0))
        for i, sheet in enumerate(self.sheets):
            sheet.properties["index"] = i

    def touch(self) -> None:
        self.modified = datetime.now(UTC)


def new_spreadsheet(spreadsheet_id: str, title: str, *, locale: str = "en_US",
                    time_zone: str = "Etc/GMT") -> FakeSpreadsheet:
    """An empty spreadsheet with the same default properties Sheets gives a new file."""
    properties = {
        "title": title,
        "locale": locale,
        "autoRecalc": "ON_CHANGE",
        "timeZone": time_zone,
        "defaultFormat": copy.deepcopy(DEFAULT_FORMAT),
        "spreadsheetTheme": copy.deepcopy(THEME),
    }
    return FakeSpreadsheet(spreadsheet_id, properties, [])


def new_sheet(sheet_id: int, title: str, index: int, rows: int = DEFAULT_ROWS,
              columns: int = DEFAULT_COLUMNS) -> FakeSheet:
    return FakeSheet({
        "sheetId": sheet_id,
        "title": title,
        "index": index,
        "sheetType": "GRID",
        "gridProperties": {"rowCount": rows, "columnCount": columns},
    })


def spreadsheet_url(spreadsheet_id: str) -> str:
    return f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit"


# --------------------------------------------------------------------------- ranges

def locate(book: FakeSpreadsheet, text: str) -> tuple[FakeSheet, tuple[int, int, int, int]]:
    """Resolve an A1 range to a sheet and bounded, grid-clipped coordinates."""
    try:
        title, cells = split_sheet(text)
        if title is None:
            # A bare name is a tab title first, cells on the first tab otherwise.
            assert cells is not None
            sheet = book.sheet_by_title(cells)
            if sheet is not None:
                return sheet, sheet.resolve(Bounds(None, None, None, None))
            named = _named_box(book, cells)
            if named is not None:
                return named
            if not book.sheets:
                raise RangeError(text)
            sheet = book.sheets[0]
            bounds = parse_cells(cells)
        else:
            found = book.sheet_by_title(title)
            if found is None:
                raise RangeError(text)
            sheet = found
            named = _named_box(book, cells) if cells else None
            if named is not None and named[0] is sheet:
                return named
            bounds = parse_cells(cells) if cells else Bounds(None, None, None, None)
    except RangeError:
        raise bad_request(f"Unable to parse range: {text}") from None
    row0, col0, row1, col1 = sheet.resolve(bounds)
    row1, col1 = min(row1, sheet.row_count), min(col1, sheet.column_count)
    return sheet, (row0, col0, max(row1, row0), max(col1, col0))


def _named_box(book: FakeSpreadsheet, name: str
               ) -> tuple[FakeSheet, tuple[int, int, int, int]] | None:
    """A named range, where a range names one."""
    for item in book.named_ranges:
        if item["name"].casefold() == name.casefold():
            span = item["range"]
            sheet = book.sheet_by_id(int(span.get("sheetId", 0)))
            if sheet is not None:
                return sheet, (int(span.get("startRowIndex", 0)),
                               int(span.get("startColumnIndex", 0)),
                               int(span.get("endRowIndex", sheet.row_count)),
                               int(span.get("endColumnIndex", sheet.column_count)))
    return None


def by_rows(values: Any, major: str) -> Any:
    """Values sent with ``majorDimension=COLUMNS``, turned into rows."""
    if major != "COLUMNS" or not isinstance(values, list) or not all(
            isinstance(v, list) for v in values):
        return values
    height = max((len(column) for column in values), default=0)
    return [[column[i] if i < len(column) else None for column in values]
            for i in range(height)]


def without_value(cell: FakeCell) -> FakeCell:
    """A new cell with ``cell``'s format and note but no value (stored cells are not
    changed in place)."""
    bare = cell.copy()
    bare.user_value = bare.effective_value = None
    return bare


def echo_range(sheet: FakeSheet, box: tuple[int, int, int, int]) -> str:
    row0, col0, row1, col1 = box
    return format_range(sheet.title, row0, col0, max(row1, row0 + 1), max(col1, col0 + 1))


def grid_box(book: FakeSpreadsheet, grid_range: dict[str, Any], where: str
             ) -> tuple[FakeSheet, tuple[int, int, int, int]]:
    """Resolve an API ``GridRange`` (missing indexes are unbounded)."""
    sheet = book.sheet_by_id(int(grid_range.get("sheetId", 0)))
    if sheet is None:
        raise bad_request(f"Invalid {where}: No grid with id: {grid_range.get('sheetId', 0)}")
    row0 = int(grid_range.get("startRowIndex", 0))
    col0 = int(grid_range.get("startColumnIndex", 0))
    row1 = int(grid_range.get("endRowIndex", sheet.row_count))
    col1 = int(grid_range.get("endColumnIndex", sheet.column_count))
    check_in_grid(sheet, row1, col1, where)
    return sheet, (row0, col0, row1, col1)


def check_in_grid(sheet: FakeSheet, row_end: int, col_end: int, where: str) -> None:
    if row_end > sheet.row_count or col_end > sheet.column_count:
        raise bad_request(
            f"Invalid {where}: Range ('{sheet.title}'!A1:{row_end}) exceeds grid limits. "
            f"Max rows: {sheet.row_count}, max columns: {sheet.column_count}")


# --------------------------------------------------------------------------- values API

def value_range(sheet: FakeSheet, box: tuple[int, int, int, int], value_render: str,
                date_render: str, major: str = "ROWS") -> dict[str, Any]:
    """A ``ValueRange``: trailing empty cells and rows trimmed, ``values`` absent when empty."""
    row0, col0, row1, col1 = box
    rows: list[list[Any]] = []
    used_rows, used_cols = sheet.extent()  # nothing to render past the last value
    for r in range(row0, min(row1, used_rows)):
        row = [render_cell(sheet.cells.get((r, c)), value_render, date_render)
               for c in range(col0, min(col1, used_cols))]
        while row and row[-1] == "":
            row.pop()
        rows.append(row)
    while rows and not rows[-1]:
        rows.pop()
    if major == "COLUMNS":
        width = max((len(r) for r in rows), default=0)
        columns = [[r[c] if c < len(r) else "" for r in rows] for c in range(width)]
        for column in columns:
            while column and column[-1] == "":
                column.pop()
        rows = columns
    result: dict[str, Any] = {"range": echo_range(sheet, box), "majorDimension": major}
    if rows:
        result["values"] = rows
    return result


def write_values(book: FakeSpreadsheet, range_text: str, values: Any, input_option: str
                 ) -> dict[str, Any]:
    """values.update: write a 2-D list at the range's top-left (growing the grid if needed)."""
    if input_option not in ("RAW", "USER_ENTERED"):
        raise bad_request("Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED"
                          if not input_option else f"Invalid valueInputOption: {input_option}")
    if not isinstance(values, list) or not all(isinstance(r, list) for r in values):
        message = (f"Invalid value at 'data.values' (type.googleapis.com/google.protobuf."
                   f"ListValue), {_short_json(values)}")
        raise bad_request(message, "data.values")
    sheet, (row0, col0, row1, col1) = locate(book, range_text)
    title, cells = split_sheet(range_text)
    bounded = cells is not None and ":" in cells
    height = len(values)
    width = max((len(r) for r in values), default=0)
    if bounded and (height > row1 - row0 or width > col1 - col0):
        raise bad_request(
            f"Requested writing within range [{range_text}], but tried writing to row "
            f"[{row0 + height}]" if height > row1 - row0 else
            f"Requested writing within range [{range_text}], but tried writing to column "
            f"[{col0 + width}]")
    grid = sheet.properties["gridProperties"]
    grid["rowCount"] = max(sheet.row_count, row0 + height)
    grid["columnCount"] = max(sheet.column_count, col0 + width)
    parse = raw_input_to_cell if input_option == "RAW" else user_entered_to_cell
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            if value is None:
                continue  # null leaves the cell unchanged, as in the real API
            old = sheet.cells.get((row0 + i, col0 + j))
            cell = parse(value) or FakeCell()
            if old is not None and old.user_format and not cell.user_format:
                cell.user_format = old.user_format
            sheet.set_cell(row0 + i, col0 + j, cell)
    book.touch()
    if height == 0 or width == 0:
        box = (row0, col0, row0 + 1, col0 + 1)
        return {"spreadsheetId": book.spreadsheet_id, "updatedRange": echo_range(sheet, box)}
    box = (row0, col0, row0 + height, col0 + width)
    # The counts are of the cells written: a null leaves its cell alone and is not counted.
    written = [(i, j) for i, row in enumerate(values) for j, v in enumerate(row) if v is not None]
    answer: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id,
                              "updatedRange": echo_range(sheet, box)}
    if written:
        answer["updatedRows"] = len({i for i, _j in written})
        answer["updatedColumns"] = len({j for _i, j in written})
        answer["updatedCells"] = len(written)
    return answer


def clear_values(book: FakeSpreadsheet, range_text: str) -> str:
    """values.clear: drop values (formats stay); returns the cleared range."""
    sheet, (row0, col0, row1, col1) = locate(book, range_text)
    for (r, c), cell in list(sheet.cells.items()):
        if row0 <= r < row1 and col0 <= c < col1:
            sheet.set_cell(r, c, without_value(cell))
    book.touch()
    return echo_range(sheet, (row0, col0, row1, col1))


def append_values(book: FakeSpreadsheet, range_text: str, values: Any, input_option: str
                  ) -> dict[str, Any]:
    """values.append: write after the last row with data of the range's table."""
    sheet, box = locate(book, range_text)
    _title, cells = split_sheet(range_text)
    single = cells is not None and ":" not in cells
    table = _find_table(sheet, box, single)
    if table is None:  # no table: the values go where the range starts
        row, col = box[0], box[1]
    else:
        row, col = table[2], table[1]
    quoted = "'" + sheet.title.replace("'", "''") + "'!" + a1(row + 1, col + 1)
    updates = write_values(book, quoted, values, input_option)
    answer: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    if table is not None:  # Google sends tableRange only when it found a table
        answer["tableRange"] = echo_range(sheet, table)
    answer["updates"] = updates
    return answer


def _find_table(sheet: FakeSheet, box: tuple[int, int, int, int], single: bool
                ) -> tuple[int, int, int, int] | None:
    """The "table" values.append appends to, found the way Google finds it.

    For a one-cell range, the block of data that starts at that cell (none when it is
    empty); for a larger range, the block around the last cell holding data. A block spreads
    along its row over adjacent filled cells, then up and down over rows with data under it.
    """
    row0, col0, row1, col1 = box
    filled = {(r, c) for (r, c), cell in sheet.cells.items()
              if cell.has_value() and row0 <= r < row1 and col0 <= c < col1}
    if single:
        anchor = (row0, col0)
        if anchor not in filled:
            return None
    elif filled:
        anchor = max(filled)
    else:
        return None
    r, c = anchor
    left = right = c
    while (r, left - 1) in filled:
        left -= 1
    while (r, right + 1) in filled:
        right += 1
    top = bottom = r
    while any((top - 1, x) in filled for x in range(left, right + 1)):
        top -= 1
    while any((bottom + 1, x) in filled for x in range(left, right + 1)):
        bottom += 1
    return top, left, bottom + 1, right + 1


def _short_json(value: Any) -> str:
    import json

    return json.dumps(value)[:80]


# --------------------------------------------------------------------------- spreadsheets.get

def cell_data(cell: FakeCell | None) -> dict[str, Any]:
    """``CellData`` for grid data responses."""
    if cell is None:
        return {}
    data: dict[str, Any] = {}
    if cell.user_value is not None:
        data["userEnteredValue"] = cell.user_value
    if cell.effective_value is not None:
        data["effectiveValue"] = cell.effective_value
        text = formatted_value(cell)
        if text is not None:
            data["formattedValue"] = text
    if cell.user_format:
        data["userEnteredFormat"] = cell.user_format
    if cell.has_value() or cell.user_format:
        data["effectiveFormat"] = _merge_formats(DEFAULT_FORMAT, cell.user_format or {})
    if cell.note is not None:
        data["note"] = cell.note
    data.update(cell.extra)
    return data


def _merge_formats(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_formats(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def grid_data(sheet: FakeSheet, box: tuple[int, int, int, int]) -> dict[str, Any]:
    """``GridData`` for one range: rows and cells trimmed after the last non-empty one."""
    row0, col0, row1, col1 = box
    rows: list[dict[str, Any]] = []
    last_row = max((r + 1 for r, _c in sheet.cells), default=0)
    last_col = max((c + 1 for _r, c in sheet.cells), default=0)
    for r in range(row0, min(row1, last_row)):
        values = [cell_data(sheet.cells.get((r, c))) for c in range(col0, min(col1, last_col))]
        while values and not values[-1]:
            values.pop()
        rows.append({"values": values} if values else {})
    while rows and not rows[-1]:
        rows.pop()
    data: dict[str, Any] = {}
    if row0:
        data["startRow"] = row0
    if col0:
        data["startColumn"] = col0
    if rows:
        data["rowData"] = rows
    data["rowMetadata"] = [{"pixelSize": 21, **sheet.row_metadata.get(r, {})}
                           for r in range(row0, row1)]
    data["columnMetadata"] = [{"pixelSize": 100, **sheet.column_metadata.get(c, {})}
                              for c in range(col0, col1)]
    return data


_ZERO_DEFAULTS = {
    # message: int32 / bool fields that proto3 JSON leaves out when they hold 0 or false.
    # (GridRange's start and end indexes are wrappers: Google sends them even when 0.)
    "gridProperties": ("frozenRowCount", "frozenColumnCount", "hideGridlines",
                       "rowGroupControlAfter", "columnGroupControlAfter"),
    "anchorCell": ("sheetId", "rowIndex", "columnIndex"),
    "overlayPosition": ("offsetXPixels", "offsetYPixels"),
}


def without_defaults(value: Any, parent: str = "") -> Any:
    """``value`` as Google serialises it: proto3 JSON leaves out fields holding their default.

    ``sheetId`` 0 disappears from every range (merges, filters, protected and named ranges,
    chart sources), a cleared note or ``false`` flag is not echoed, and frozen counts of 0 are
    not sent. Code that indexes such keys would pass against an echoing fake and raise
    ``KeyError`` against Google. ``properties.sheetId`` is the exception Google makes: a tab's
    own id is sent even when it is 0.
    """
    if isinstance(value, list):
        return [without_defaults(item, parent) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    zeros = _ZERO_DEFAULTS.get(parent, ())
    for key, item in value.items():
        if key == "sheetId" and item == 0 and parent != "properties":
            continue
        if key in zeros and not item:
            continue
        if key in ("hidden", "rightToLeft", "hiddenByUser", "warningOnly") and item is False:
            continue
        if key in ("note", "description") and item in ("", None):
            continue
        out[key] = without_defaults(item, key)
    return out


def sheet_json(sheet: FakeSheet, data_boxes: list[tuple[int, int, int, int]] | None
               ) -> dict[str, Any]:
    out: dict[str, Any] = {"properties": without_defaults(sheet.properties, "properties")}
    if data_boxes is not None:
        out["data"] = [grid_data(sheet, box) for box in data_boxes]
    if sheet.merges:
        out["merges"] = without_defaults(sheet.merges, "merges")
    if sheet.conditional_formats:
        out["conditionalFormats"] = without_defaults(sheet.conditional_formats,
                                                     "conditionalFormats")
    if sheet.basic_filter:
        out["basicFilter"] = without_defaults(sheet.basic_filter, "basicFilter")
    if sheet.charts:
        out["charts"] = without_defaults(sheet.charts, "charts")
    if sheet.protected_ranges:
        out["protectedRanges"] = without_defaults(sheet.protected_ranges, "protectedRanges")
    if sheet.developer_metadata:
        out["developerMetadata"] = copy.deepcopy(sheet.developer_metadata)
    return out


def spreadsheet_json(book: FakeSpreadsheet, *, include_grid_data: bool,
                     ranges: list[str] | None = None) -> dict[str, Any]:
    """The full ``Spreadsheet`` resource (before any ``fields`` mask)."""
    sheets: list[dict[str, Any]] = []
    if ranges:
        wanted: dict[int, list[tuple[int, int, int, int]]] = {}
        order: list[FakeSheet] = []
        for text in ranges:
            sheet, box = locate(book, text)
            if sheet.sheet_id not in wanted:
                order.append(sheet)
                wanted[sheet.sheet_id] = []
            wanted[sheet.sheet_id].append(box)
        for sheet in order:
            sheets.append(sheet_json(sheet, wanted[sheet.sheet_id] if include_grid_data else None))
    else:
        for sheet in book.sheets:
            boxes = [(0, 0, sheet.row_count, sheet.column_count)] if include_grid_data else None
            sheets.append(sheet_json(sheet, boxes))
    out: dict[str, Any] = {
        "spreadsheetId": book.spreadsheet_id,
        "properties": copy.deepcopy(book.properties),
        "sheets": sheets,
        "spreadsheetUrl": spreadsheet_url(book.spreadsheet_id),
    }
    if book.named_ranges:
        out["namedRanges"] = without_defaults(book.named_ranges, "namedRanges")
    if book.developer_metadata:
        out["developerMetadata"] = copy.deepcopy(book.developer_metadata)
    return out


def trim_masked_grid_data(answer: dict[str, Any]) -> dict[str, Any]:
    """Trim grid data *after* a field mask, as Google does: a cell left with nothing selected at
    the end of a row, and a row left empty at the end of a range, are dropped, so a mask that
    finds nothing answers ``{"data": [{}]}``."""
    for sheet in answer.get("sheets", []):
        for grid in sheet.get("data", []) if isinstance(sheet, dict) else []:
            rows = grid.get("rowData")
            if not isinstance(rows, list):
                continue
            for row in rows:
                values = row.get("values")
                if isinstance(values, list):
                    while values and values[-1] == {}:
                        values.pop()
                    if not values:
                        del row["values"]
            while rows and rows[-1] == {}:
                rows.pop()
            if not rows:
                del grid["rowData"]
    return answer


def mask_wants_grid_data(fields: str | None) -> bool:
    """A ``fields`` mask naming ``sheets.data`` returns grid data even without includeGridData."""
    if not fields:
        return False
    try:
        tree = parse_field_mask(fields)
    except FieldMaskError:
        return False
    return any(p.startswith("sheets.data") or p == "sheets" for p in mask_paths(tree))


# --------------------------------------------------------------------------- batchUpdate

def apply_batch_update(book: FakeSpreadsheet, requests: list[dict[str, Any]],
                       rng: random.Random, caller: str = ""
                       ) -> tuple[FakeSpreadsheet, list[dict[str, Any]]]:
    """Apply ``requests`` to a copy of ``book``; return the new state and the replies.

    Raises :class:`SheetsError` (and leaves ``book`` untouched) when any request fails: 400 for
    an invalid one, 501 for a valid one the fake does not implement. ``caller`` is the email
    of the account sending the batch (a protected range lists it as an editor).
    """
    if not isinstance(requests, list):
        raise bad_request("Invalid JSON payload received. 'requests' must be a list.")
    work = book.clone()
    replies: list[dict[str, Any]] = []
    for i, request in enumerate(requests):
        if not isinstance(request, dict) or len(request) != 1:
            raise bad_request(f"Invalid requests[{i}]: exactly one kind of request is required.")
        (kind, body), = request.items()
        handler = _HANDLERS.get(kind)
        if handler is None:
            if kind in VALID_REQUESTS:
                raise not_implemented(kind)
            raise bad_request(
                f"Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{i}]': "
                "Cannot find field.", f"requests[{i}]")
        where = f"requests[{i}].{kind}"
        if handler is _add_protected_range:
            reply = _add_protected_range(work, body or {}, where, rng, caller)
        else:
            reply = handler(work, body or {}, where, rng)
        replies.append(reply if reply is not None else {})
    work.reindex()
    work.touch()
    return work, replies


def _add_sheet(book: FakeSpreadsheet, body: dict[str, Any], where: str,
               rng: random.Random) -> dict[str, Any]:
    props = copy.deepcopy(body.get("properties", {}))
    title = props.get("title") or f"Sheet{len(book.sheets) + 1}"
    if book.sheet_by_title(title) is not None:
        raise bad_request(f"Invalid {where}: A sheet with the name \"{title}\" already exists. "
                          "Please enter another name.")
    if "sheetId" in props:
        sheet_id = int(props["sheetId"])
        if sheet_id < 0 or book.sheet_by_id(sheet_id) is not None:
            raise bad_request(f"Invalid {where}: Sheet with id {sheet_id} already exists.")
    else:
        sheet_id = rng.randrange(1, 2**31 - 1)
        while book.sheet_by_id(sheet_id) is not None:
            sheet_id = rng.randrange(1, 2**31 - 1)
    grid = props.get("gridProperties", {})
    index = int(props.get("index", len(book.sheets)))
    sheet = new_sheet(sheet_id, title, index, int(grid.get("rowCount", DEFAULT_ROWS)),
                      int(grid.get("columnCount", DEFAULT_COLUMNS)))
    for key, value in grid.items():
        sheet.properties["gridProperties"][key] = value
    for key in ("hidden", "tabColor", "tabColorStyle", "rightToLeft"):
        if key in props:
            sheet.properties[key] = props[key]
    _store_tab_colour(sheet.properties)
    _check_frozen(sheet, where)
    for other in book.sheets:
        if other.properties["index"] >= index:
            other.properties["index"] += 1
    book.sheets.append(sheet)
    book.reindex()
    _check_visible(book, where)
    return {"addSheet": {"properties": without_defaults(sheet.properties, "properties")}}


def _delete_sheet(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                  rng: random.Random) -> None:
    sheet = book.sheet_by_id(int(body.get("sheetId", -1)))
    if sheet is None:
        raise bad_request(f"Invalid {where}: No sheet with id: {body.get('sheetId')}")
    book.sheets.remove(sheet)
    book.reindex()
    if not book.sheets:
        raise bad_request(f"Invalid {where}: You can't remove all the sheets in a document.")
    _check_visible(book, where)


def stored_colour(rgb: dict[str, Any] | None) -> dict[str, Any]:
    """A colour as Sheets keeps it: 8 bits per channel (0.5 reads back as 0.49803922), and a
    channel of 0 left out."""
    out: dict[str, Any] = {}
    for name in ("red", "green", "blue"):
        level = math.floor(float((rgb or {}).get(name) or 0) * 255 + 1e-6)
        level = min(max(level, 0), 255)
        if level:
            out[name] = 1 if level == 255 else float(f"{level / 255:.8g}")
    if (rgb or {}).get("alpha") not in (None, 1, 1.0):
        out["alpha"] = float(f"{float(rgb['alpha']):.8g}")
    return out


def _store_tab_colour(props: dict[str, Any]) -> None:
    """Quantise a tab colour, and drop one set to nothing (``{"rgbColor": null}`` clears it)."""
    if "tabColor" in props:
        if props["tabColor"]:
            props["tabColor"] = stored_colour(props["tabColor"])
        else:
            del props["tabColor"]
    style = props.get("tabColorStyle")
    if style is not None:
        if style.get("rgbColor"):
            style["rgbColor"] = stored_colour(style["rgbColor"])
        elif not style.get("themeColor"):
            del props["tabColorStyle"]


def _check_visible(book: FakeSpreadsheet, where: str) -> None:
    if all(s.properties.get("hidden") for s in book.sheets):
        raise bad_request(f"Invalid {where}: You can't hide all the sheets in a document.")


def _check_frozen(sheet: FakeSheet, where: str) -> None:
    grid = sheet.properties["gridProperties"]
    if int(grid.get("frozenRowCount", 0)) >= sheet.row_count and sheet.row_count:
        raise bad_request(f"Invalid {where}: You can't freeze all visible rows on the sheet.")
    if int(grid.get("frozenColumnCount", 0)) >= sheet.column_count and sheet.column_count:
        raise bad_request(f"Invalid {where}: You can't freeze all visible columns on the sheet.")


@functools.lru_cache(maxsize=256)
def _paths_of(fields: str) -> tuple[str, ...]:
    return tuple(mask_paths(parse_field_mask(fields)))


def _apply_masked(target: dict[str, Any], source: dict[str, Any], fields: str, where: str) -> None:
    """Copy the ``fields`` of ``source`` into ``target`` (absent in source = cleared)."""
    try:
        paths = _paths_of(fields or "")
    except FieldMaskError as exc:
        raise bad_request(f"Invalid {where}: {exc}") from None
    if not fields:
        raise bad_request(f"Invalid {where}: At least one field must be updated, but none was "
                          "specified.")
    for path in paths:
        if path == "*":
            for key, value in source.items():
                target[key] = copy.deepcopy(value)
            continue
        parts = path.split(".")
        src: Any = source
        dst = target
        for part in parts[:-1]:
            src = src.get(part, {}) if isinstance(src, dict) else {}
            dst = dst.setdefault(part, {})
        last = parts[-1]
        if isinstance(src, dict) and last in src:
            dst[last] = copy.deepcopy(src[last])
        else:
            dst.pop(last, None)


def _update_sheet_properties(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                             rng: random.Random) -> None:
    props = body.get("properties", {})
    sheet = book.sheet_by_id(int(props.get("sheetId", 0)))
    if sheet is None:
        raise bad_request(f"Invalid {where}: No grid with id: {props.get('sheetId', 0)}")
    old_index = sheet.properties["index"]
    before_title = sheet.title
    updated = copy.deepcopy(sheet.properties)
    _apply_masked(updated, props, body.get("fields", ""), where)
    updated["sheetId"] = sheet.sheet_id
    updated.setdefault("sheetType", "GRID")
    updated.setdefault("title", before_title)
    grid = updated.setdefault("gridProperties", {})
    grid.setdefault("rowCount", sheet.row_count)
    grid.setdefault("columnCount", sheet.column_count)
    if updated["title"] != before_title and book.sheet_by_title(updated["title"]) is not None:
        raise bad_request(f"Invalid {where}: A sheet with the name \"{updated['title']}\" "
                          "already exists. Please enter another name.")
    new_index = int(updated.get("index", old_index))
    updated["index"] = old_index
    if not updated.get("hidden", False):
        updated.pop("hidden", None)
    _store_tab_colour(updated)
    sheet.properties = updated
    if new_index != old_index:
        book.sheets.remove(sheet)
        book.sheets.insert(min(new_index, len(book.sheets)), sheet)
        for i, other in enumerate(book.sheets):
            other.properties["index"] = i
    # Shrinking the grid drops the cells outside it, as in Sheets.
    for (r, c) in list(sheet.cells):
        if r >= sheet.row_count or c >= sheet.column_count:
            del sheet.cells[(r, c)]
    _check_frozen(sheet, where)
    _check_visible(book, where)


def _update_spreadsheet_properties(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                                   rng: random.Random) -> None:
    _apply_masked(book.properties, body.get("properties", {}), body.get("fields", ""), where)


def _cell_fields(fields: str, where: str) -> list[str]:
    if not fields:
        raise bad_request(f"Invalid {where}: At least one field must be updated, but none was "
                          "specified.")
    try:
        return mask_paths(parse_field_mask(fields))
    except FieldMaskError as exc:
        raise bad_request(f"Invalid {where}: {exc}") from None


def _write_cell(sheet: FakeSheet, row: int, col: int, data: dict[str, Any] | None,
                paths: list[str], memo: dict[Any, Any] | None = None) -> None:
    """Apply the masked parts of a ``CellData`` to one stored cell. ``memo`` lets one request
    that writes the same format to many cells (repeatCell) work it out once per old format."""
    data = data or {}
    old = sheet.cells.get((row, col))
    cell = old.copy() if old is not None else FakeCell()
    for path in paths:
        top = path.split(".")[0]
        if path == "*":
            fresh = cell_from_user_entered_value(data.get("userEnteredValue"))
            cell.user_value, cell.effective_value = fresh.user_value, fresh.effective_value
            cell.user_format = with_colour_styles(json_copy(data.get("userEnteredFormat")))
            cell.note = data.get("note") or None  # an empty note is no note
            cell.extra = {k: json_copy(v) for k, v in data.items()
                          if k in ("dataValidation", "textFormatRuns", "hyperlink")}
        elif top == "userEnteredValue":
            fresh = cell_from_user_entered_value(data.get("userEnteredValue"))
            cell.user_value, cell.effective_value = fresh.user_value, fresh.effective_value
        elif top == "userEnteredFormat":
            key = (path, id(cell.user_format))
            if memo is not None and key in memo:
                cell.user_format = memo[key][1]
                continue
            before = cell.user_format
            if path == top:
                fmt = json_copy(data.get("userEnteredFormat") or {})
            else:
                fmt = json_copy(cell.user_format or {})
                _apply_masked(fmt, data.get("userEnteredFormat", {}), path[len(top) + 1:],
                              "cell")
            cell.user_format = with_colour_styles(fmt) or None
            if memo is not None:
                memo[key] = (before, cell.user_format)  # keeps ``before`` alive: ids stay
        elif top == "note":
            cell.note = data.get("note") or None  # an empty note is no note
        elif top in ("dataValidation", "textFormatRuns", "hyperlink", "pivotTable"):
            if top in data:
                cell.extra[top] = data[top]  # a request's JSON, never changed afterwards
            else:
                cell.extra.pop(top, None)
        elif top in ("effectiveValue", "formattedValue", "effectiveFormat"):
            continue  # read-only fields are silently ignored
        else:
            raise bad_request(f"Invalid field mask: unknown cell field {path!r}")
    sheet.set_cell(row, col, cell)


def with_colour_styles(fmt: dict[str, Any] | None) -> dict[str, Any] | None:
    """Sheets mirrors each ``xxxColor`` into ``xxxColorStyle`` (and back) in what it stores."""
    if not fmt:
        return None
    for holder in (fmt, fmt.get("textFormat")):
        if not isinstance(holder, dict):
            continue
        for plain in ("backgroundColor", "foregroundColor"):
            style = plain + "Style"
            if plain in holder and style not in holder:
                holder[style] = {"rgbColor": json_copy(holder[plain])}
            elif style in holder and plain not in holder and "rgbColor" in holder[style]:
                holder[plain] = json_copy(holder[style]["rgbColor"])
    return fmt


def _update_cells(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                  rng: random.Random) -> None:
    paths = _cell_fields(body.get("fields", ""), where)
    rows = body.get("rows", [])
    if "range" in body:
        sheet, (row0, col0, row1, col1) = grid_box(book, body["range"], where)
        for r in range(row0, row1):
            row_values = rows[r - row0].get("values", []) if r - row0 < len(rows) else []
            for c in range(col0, col1):
                value = row_values[c - col0] if c - col0 < len(row_values) else None
                if value is None and (r, c) not in sheet.cells:
                    continue
                _write_cell(sheet, r, c, value, paths)
        return
    start = body.get("start")
    if start is None:
        raise bad_request(f"Invalid {where}: Either 'start' or 'range' must be set.")
    sheet = book.sheet_by_id(int(start.get("sheetId", 0)))
    if sheet is None:
        raise bad_request(f"Invalid {where}: No grid with id: {start.get('sheetId', 0)}")
    row0, col0 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
    width = max((len(r.get("values", [])) for r in rows), default=0)
    check_in_grid(sheet, row0 + len(rows), col0 + width, where)
    for i, row in enumerate(rows):
        for j, value in enumerate(row.get("values", [])):
            _write_cell(sheet, row0 + i, col0 + j, value, paths)


def _append_cells(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                  rng: random.Random) -> None:
    paths = _cell_fields(body.get("fields", ""), where)
    sheet = book.sheet_by_id(int(body.get("sheetId", 0)))
    if sheet is None:
        raise bad_request(f"Invalid {where}: No grid with id: {body.get('sheetId', 0)}")
    start = sheet.extent()[0]
    rows = body.get("rows", [])
    width = max((len(r.get("values", [])) for r in rows), default=0)
    grid = sheet.properties["gridProperties"]
    grid["rowCount"] = max(sheet.row_count, start + len(rows))
    grid["columnCount"] = max(sheet.column_count, width)
    for i, row in enumerate(rows):
        for j, value in enumerate(row.get("values", [])):
            _write_cell(sheet, start + i, j, value, paths)


def _repeat_cell(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                 rng: random.Random) -> None:
    paths = _cell_fields(body.get("fields", ""), where)
    sheet, (row0, col0, row1, col1) = grid_box(book, body.get("range", {}), where)
    memo: dict[Any, Any] = {}
    for r in range(row0, row1):
        for c in range(col0, col1):
            _write_cell(sheet, r, c, body.get("cell", {}), paths, memo)


def _rule_sheet(book: FakeSpreadsheet, rule: dict[str, Any], where: str) -> FakeSheet:
    ranges = rule.get("ranges") or []
    if not ranges:
        raise bad_request(f"Invalid {where}: A conditional format rule needs at least one range.")
    sheet = None
    for grid_range in ranges:
        sheet, _box = grid_box(book, grid_range, where)
    assert sheet is not None
    if ("booleanRule" in rule) == ("gradientRule" in rule):
        raise bad_request(f"Invalid {where}: Exactly one of booleanRule or gradientRule is "
                          "required.")
    return sheet


def _add_conditional_format(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                            rng: random.Random) -> None:
    rule = copy.deepcopy(body.get("rule", {}))
    sheet = _rule_sheet(book, rule, where)
    index = int(body.get("index", 0))
    sheet.conditional_formats.insert(min(index, len(sheet.conditional_formats)), rule)


def _delete_conditional_format(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                               rng: random.Random) -> dict[str, Any]:
    sheet = book.sheet_by_id(int(body.get("sheetId", 0)))
    index = int(body.get("index", 0))
    if sheet is None or not 0 <= index < len(sheet.conditional_formats):
        raise bad_request(f"Invalid {where}: No conditional format on sheet "
                          f"{body.get('sheetId', 0)} at index {index}")
    rule = sheet.conditional_formats.pop(index)
    return {"deleteConditionalFormatRule": {"rule": rule}}


def _update_conditional_format(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                               rng: random.Random) -> dict[str, Any]:
    sheet = book.sheet_by_id(int(body.get("sheetId", 0)))
    index = int(body.get("index", 0))
    if sheet is None or not 0 <= index < len(sheet.conditional_formats):
        raise bad_request(f"Invalid {where}: No conditional format at index {index}")
    old = sheet.conditional_formats[index]
    if "rule" in body:
        _rule_sheet(book, body["rule"], where)
        sheet.conditional_formats[index] = copy.deepcopy(body["rule"])
    elif "newIndex" in body:
        sheet.conditional_formats.pop(index)
        sheet.conditional_formats.insert(int(body["newIndex"]), old)
    return {"updateConditionalFormatRule": {"oldRule": old, "oldIndex": index,
                                            "newRule": sheet.conditional_formats[index],
                                            "newIndex": index}}


def _chart_ids(book: FakeSpreadsheet) -> set[int]:
    return {int(chart["chartId"]) for sheet in book.sheets for chart in sheet.charts}


def _check_chart_spec(book: FakeSpreadsheet, spec: dict[str, Any], where: str) -> None:
    basic = spec.get("basicChart")
    if basic is None:
        if not spec:
            raise bad_request(f"Invalid {where}: A chart spec is required.")
        return
    if basic.get("chartType") not in ("BAR", "LINE", "AREA", "COLUMN", "SCATTER", "COMBO",
                                      "STEPPED_AREA"):
        raise bad_request(f"Invalid {where}: Invalid chartType: {basic.get('chartType')}")
    for part in basic.get("domains", []) + basic.get("series", []):
        source = part.get("domain") or part.get("series") or {}
        for grid_range in source.get("sourceRange", {}).get("sources", []):
            grid_box(book, grid_range, where)


def _add_chart(book: FakeSpreadsheet, body: dict[str, Any], where: str,
               rng: random.Random) -> dict[str, Any]:
    chart = copy.deepcopy(body.get("chart", {}))
    _check_chart_spec(book, chart.get("spec", {}), where)
    position = chart.get("position", {})
    anchor = position.get("overlayPosition", {}).get("anchorCell")
    if anchor is not None:
        host = book.sheet_by_id(int(anchor.get("sheetId", 0)))
        if host is None:
            raise bad_request(f"Invalid {where}: No grid with id: {anchor.get('sheetId', 0)}")
        check_in_grid(host, int(anchor.get("rowIndex", 0)) + 1,
                      int(anchor.get("columnIndex", 0)) + 1, where)
    elif "sheetId" in position:
        host = book.sheet_by_id(int(position["sheetId"]))
        if host is None:
            raise bad_request(f"Invalid {where}: No grid with id: {position['sheetId']}")
    else:
        raise bad_request(f"Invalid {where}: A chart position is required.")
    if "chartId" in chart:
        if int(chart["chartId"]) in _chart_ids(book):
            raise bad_request(f"Invalid {where}: An object with id {chart['chartId']} already "
                              "exists.")
    else:
        chart["chartId"] = rng.randrange(1, 2**31 - 1)
    host.charts.append(chart)
    return {"addChart": {"chart": copy.deepcopy(chart)}}


def _update_chart_spec(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                       rng: random.Random) -> None:
    for sheet in book.sheets:
        for chart in sheet.charts:
            if int(chart["chartId"]) == int(body.get("chartId", -1)):
                _check_chart_spec(book, body.get("spec", {}), where)
                chart["spec"] = copy.deepcopy(body.get("spec", {}))
                return
    raise bad_request(f"Invalid {where}: No chart with id: {body.get('chartId')}")


def _delete_embedded_object(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                            rng: random.Random) -> None:
    for sheet in book.sheets:
        for chart in list(sheet.charts):
            if int(chart["chartId"]) == int(body.get("objectId", -1)):
                sheet.charts.remove(chart)
                return
    raise bad_request(f"Invalid {where}: No object with id: {body.get('objectId')}")


def _update_dimension_properties(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                                 rng: random.Random) -> None:
    span = body.get("range", {})
    sheet = book.sheet_by_id(int(span.get("sheetId", 0)))
    if sheet is None:
        raise bad_request(f"Invalid {where}: No grid with id: {span.get('sheetId', 0)}")
    rows = span.get("dimension") == "ROWS"
    limit = sheet.row_count if rows else sheet.column_count
    start, end = int(span.get("startIndex", 0)), int(span.get("endIndex", limit))
    if end > limit:
        raise bad_request(f"Invalid {where}: Range exceeds grid limits. Max "
                          f"{'rows' if rows else 'columns'}: {limit}")
    store = sheet.row_metadata if rows else sheet.column_metadata
    for i in range(start, end):
        meta = store.setdefault(i, {})
        _apply_masked(meta, body.get("properties", {}), body.get("fields", ""), where)
        if not meta.get("hiddenByUser", True):
            meta.pop("hiddenByUser")


def _append_dimension(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                      rng: random.Random) -> None:
    sheet = book.sheet_by_id(int(body.get("sheetId", 0)))
    if sheet is None:
        raise bad_request(f"Invalid {where}: No grid with id: {body.get('sheetId', 0)}")
    key = "rowCount" if body.get("dimension") == "ROWS" else "columnCount"
    sheet.properties["gridProperties"][key] += int(body.get("length", 0))


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _merge_box(merge: dict[str, Any]) -> tuple[int, int, int, int]:
    return (merge["startRowIndex"], merge["startColumnIndex"], merge["endRowIndex"],
            merge["endColumnIndex"])


def _merge_cells(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                 rng: random.Random) -> None:
    """MERGE_ALL makes one merge; MERGE_ROWS one per row; MERGE_COLUMNS one per column.
    Merges the new ones overlap are replaced, and only each merge's top-left value stays."""
    sheet, box = grid_box(book, body.get("range", {}), where)
    row0, col0, row1, col1 = box
    kind = body.get("mergeType", "MERGE_ALL")
    if kind == "MERGE_ROWS":
        boxes = [(r, col0, r + 1, col1) for r in range(row0, row1)]
    elif kind == "MERGE_COLUMNS":
        boxes = [(row0, c, row1, c + 1) for c in range(col0, col1)]
    elif kind == "MERGE_ALL":
        boxes = [box]
    else:
        raise bad_request(f"Invalid value at '{where}.merge_type' "
                          f"(type.googleapis.com/google.apps.sheets.v4.MergeCellsRequest."
                          f"MergeType), \"{kind}\"")
    boxes = [b for b in boxes if b[2] - b[0] > 0 and b[3] - b[1] > 0
             and (b[2] - b[0]) * (b[3] - b[1]) > 1]
    sheet.merges = [m for m in sheet.merges if not _overlaps(_merge_box(m), box)]
    for r0, c0, r1, c1 in boxes:
        sheet.merges.append({"sheetId": sheet.sheet_id, "startRowIndex": r0, "endRowIndex": r1,
                             "startColumnIndex": c0, "endColumnIndex": c1})
        for (r, c), cell in list(sheet.cells.items()):
            if r0 <= r < r1 and c0 <= c < c1 and (r, c) != (r0, c0):
                sheet.set_cell(r, c, without_value(cell))


def _unmerge_cells(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                   rng: random.Random) -> None:
    sheet, (row0, col0, row1, col1) = grid_box(book, body.get("range", {}), where)
    sheet.merges = [m for m in sheet.merges if not (
        row0 <= m["startRowIndex"] and m["endRowIndex"] <= row1
        and col0 <= m["startColumnIndex"] and m["endColumnIndex"] <= col1)]


def _set_basic_filter(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                      rng: random.Random) -> None:
    """Google stores the filter's range resolved: a sheet-wide range becomes the grid's
    bounds."""
    flt = copy.deepcopy(body.get("filter", {}))
    sheet, (row0, col0, row1, col1) = grid_box(book, flt.get("range", {}), where)
    flt["range"] = {"sheetId": sheet.sheet_id, "startRowIndex": row0, "endRowIndex": row1,
                    "startColumnIndex": col0, "endColumnIndex": col1}
    sheet.basic_filter = flt


def _clear_basic_filter(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                        rng: random.Random) -> None:
    sheet = book.sheet_by_id(int(body.get("sheetId", 0)))
    if sheet is None:
        raise bad_request(f"Invalid {where}: No grid with id: {body.get('sheetId', 0)}")
    sheet.basic_filter = None


def _set_data_validation(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                         rng: random.Random) -> None:
    sheet, (row0, col0, row1, col1) = grid_box(book, body.get("range", {}), where)
    data = {"dataValidation": body["rule"]} if body.get("rule") else {}
    cells = sheet.cells
    for r in range(row0, row1):
        for c in range(col0, col1):
            if (r, c) not in cells:  # the common case, made quick: a new cell with the rule
                if data:
                    cells[(r, c)] = FakeCell(extra={"dataValidation": data["dataValidation"]})
                continue
            _write_cell(sheet, r, c, data, ["dataValidation"])


def _stored_range(sheet: FakeSheet, box: tuple[int, int, int, int]) -> dict[str, int]:
    row0, col0, row1, col1 = box
    return {"sheetId": sheet.sheet_id, "startRowIndex": row0, "endRowIndex": row1,
            "startColumnIndex": col0, "endColumnIndex": col1}


def _protected_ids(book: FakeSpreadsheet) -> set[int]:
    return {int(p["protectedRangeId"]) for s in book.sheets for p in s.protected_ranges}


def _add_protected_range(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                         rng: random.Random, caller: str = "") -> dict[str, Any]:
    """Stored and answered the way Google does: the requesting user becomes an editor (shown
    on later reads, not in the reply), ``requestingUserCanEdit`` is computed, not echoed."""
    asked = body.get("protectedRange") or {}
    sheet, box = grid_box(book, asked.get("range") or {"sheetId": 0}, where)
    if "protectedRangeId" in asked:
        range_id = int(asked["protectedRangeId"])
        if range_id in _protected_ids(book):
            raise bad_request(f"Invalid {where}: A protected range with ID {range_id} already "
                              "exists.")
    else:
        range_id = rng.randrange(1, 2**31 - 1)
    stored: dict[str, Any] = {"protectedRangeId": range_id}
    if "range" in asked:
        stored["range"] = _stored_range(sheet, box)
    else:
        stored["range"] = {"sheetId": sheet.sheet_id}
    for key in ("description", "warningOnly", "namedRangeId", "unprotectedRanges"):
        if asked.get(key) not in (None, "", False, []):
            stored[key] = copy.deepcopy(asked[key])
    stored["requestingUserCanEdit"] = True
    editors = asked.get("editors") or {}
    users = [u for u in editors.get("users", []) if u]
    if caller and caller not in users:
        users = [caller, *users]
    stored["editors"] = {k: v for k, v in (("users", users),
                                           ("groups", editors.get("groups") or []),
                                           ("domainUsersCanEdit",
                                            editors.get("domainUsersCanEdit"))) if v}
    sheet.protected_ranges.append(stored)
    reply = copy.deepcopy(stored)
    reply["editors"] = {}
    return {"addProtectedRange": {"protectedRange": without_defaults(reply, "protectedRange")}}


def _find_protected(book: FakeSpreadsheet, range_id: Any, where: str
                    ) -> tuple[FakeSheet, dict[str, Any]]:
    for sheet in book.sheets:
        for item in sheet.protected_ranges:
            if int(item["protectedRangeId"]) == int(range_id or -1):
                return sheet, item
    raise bad_request(f"Invalid {where}: No protected range with id: {range_id}")


def _delete_protected_range(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                            rng: random.Random) -> None:
    sheet, item = _find_protected(book, body.get("protectedRangeId"), where)
    sheet.protected_ranges.remove(item)


def _update_protected_range(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                            rng: random.Random) -> None:
    asked = body.get("protectedRange") or {}
    sheet, item = _find_protected(book, asked.get("protectedRangeId"), where)
    _apply_masked(item, asked, body.get("fields", ""), where)


def _named_range(book: FakeSpreadsheet, range_id: Any, where: str) -> dict[str, Any]:
    for item in book.named_ranges:
        if item["namedRangeId"] == str(range_id):
            return item
    raise bad_request(f"Invalid {where}: No named range with id: {range_id}")


def _add_named_range(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                     rng: random.Random) -> dict[str, Any]:
    asked = body.get("namedRange") or {}
    name = str(asked.get("name", ""))
    if not name or any(n["name"].casefold() == name.casefold() for n in book.named_ranges):
        raise bad_request(f"Invalid {where}: A named range with the name \"{name}\" already "
                          "exists." if name else f"Invalid {where}: A name is required.")
    sheet, box = grid_box(book, asked.get("range") or {}, where)
    stored = {"namedRangeId": str(asked.get("namedRangeId") or rng.randrange(1, 2**31 - 1)),
              "name": name, "range": _stored_range(sheet, box)}
    book.named_ranges.append(stored)
    return {"addNamedRange": {"namedRange": without_defaults(stored, "namedRange")}}


def _delete_named_range(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                        rng: random.Random) -> None:
    book.named_ranges.remove(_named_range(book, body.get("namedRangeId"), where))


def _update_named_range(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                        rng: random.Random) -> None:
    asked = body.get("namedRange") or {}
    item = _named_range(book, asked.get("namedRangeId"), where)
    _apply_masked(item, asked, body.get("fields", ""), where)
    if "range" in item:
        sheet, box = grid_box(book, item["range"], where)
        item["range"] = _stored_range(sheet, box)


_PASTE_PARTS = {
    # what each paste type copies: (values, formats, data validation, merges)
    "PASTE_NORMAL": (True, True, True, True),
    "PASTE_NO_BORDERS": (True, True, True, True),
    "PASTE_VALUES": (True, False, False, False),
    "PASTE_FORMULA": (True, False, False, False),
    "PASTE_FORMAT": (False, True, True, False),
    "PASTE_DATA_VALIDATION": (False, False, True, False),
}


def _paste(book: FakeSpreadsheet, source: FakeSheet, box: tuple[int, int, int, int],
           target: FakeSheet, row: int, col: int, paste_type: str, where: str,
           height: int | None = None, width: int | None = None) -> None:
    """Copy ``box`` of ``source`` to ``target`` at (row, col), repeating it to fill
    ``height`` x ``width`` when the destination is a multiple of the source."""
    if paste_type not in _PASTE_PARTS:
        raise not_implemented(f"{where.rsplit('.', 1)[-1]} with pasteType {paste_type}")
    values, formats, validation, merges = _PASTE_PARTS[paste_type]
    row0, col0, row1, col1 = box
    rows, cols = row1 - row0, col1 - col0
    height = height if height and rows and height % rows == 0 else rows
    width = width if width and cols and width % cols == 0 else cols
    check_in_grid(target, row + height, col + width, where)
    # Stored cells are never changed in place (a write stores a new one), so the source's
    # cells are taken as they are, even where the two areas overlap, and their parts shared.
    snapshot = {(r, c): cell for (r, c), cell in source.cells.items()
                if row0 <= r < row1 and col0 <= c < col1}
    blank = FakeCell()
    for dr in range(height):
        for dc in range(width):
            origin = snapshot.get((row0 + dr % rows, col0 + dc % cols)) or blank
            at = (row + dr, col + dc)
            old = target.cells.get(at)
            cell = old.copy() if old is not None else FakeCell()
            if values:
                cell.user_value, cell.effective_value = origin.user_value, origin.effective_value
                cell.note = origin.note
            if formats:
                cell.user_format = origin.user_format
            if validation:
                if "dataValidation" in origin.extra:
                    cell.extra["dataValidation"] = origin.extra["dataValidation"]
                else:
                    cell.extra.pop("dataValidation", None)
            target.set_cell(*at, cell)
    if merges:
        area = (row, col, row + height, col + width)
        target.merges = [m for m in target.merges if not _overlaps(_merge_box(m), area)]
        for m in source.merges:
            r0, c0, r1, c1 = _merge_box(m)
            if row0 <= r0 and r1 <= row1 and col0 <= c0 and c1 <= col1:
                target.merges.append({"sheetId": target.sheet_id,
                                      "startRowIndex": row + r0 - row0,
                                      "endRowIndex": row + r1 - row0,
                                      "startColumnIndex": col + c0 - col0,
                                      "endColumnIndex": col + c1 - col0})


def _copy_paste(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                rng: random.Random) -> None:
    if body.get("pasteOrientation", "NORMAL") != "NORMAL":
        raise not_implemented("copyPaste with pasteOrientation TRANSPOSE")
    source, box = grid_box(book, body.get("source") or {}, where)
    target, (row0, col0, row1, col1) = grid_box(book, body.get("destination") or {}, where)
    _paste(book, source, box, target, row0, col0, body.get("pasteType", "PASTE_NORMAL"), where,
           row1 - row0, col1 - col0)


def _cut_paste(book: FakeSpreadsheet, body: dict[str, Any], where: str,
               rng: random.Random) -> None:
    source, box = grid_box(book, body.get("source") or {}, where)
    at = body.get("destination") or {}
    target = book.sheet_by_id(int(at.get("sheetId", 0)))
    if target is None:
        raise bad_request(f"Invalid {where}: No grid with id: {at.get('sheetId', 0)}")
    paste_type = body.get("pasteType", "PASTE_NORMAL")
    moved = source.clone()
    row0, col0, row1, col1 = box
    for (r, c) in list(source.cells):
        if row0 <= r < row1 and col0 <= c < col1:
            del source.cells[(r, c)]
    _paste(book, moved, box, target, int(at.get("rowIndex", 0)), int(at.get("columnIndex", 0)),
           paste_type, where)


def _cell_order(cell: FakeCell | None) -> tuple[int, Any]:
    value = (cell.effective_value if cell is not None else None) or {}
    if "numberValue" in value:
        return (0, value["numberValue"])
    if "stringValue" in value:
        return (1, value["stringValue"].casefold())
    if "boolValue" in value:
        return (2, value["boolValue"])
    if "errorValue" in value:
        return (3, "")
    return (4, "")  # empty cells sort last, whatever the order


def _sort_range(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                rng: random.Random) -> None:
    sheet, (row0, col0, row1, col1) = grid_box(book, body.get("range") or {}, where)
    rows = [{c: sheet.cells.get((r, c)) for c in range(col0, col1)} for r in range(row0, row1)]
    for spec in reversed(body.get("sortSpecs") or [{"dimensionIndex": col0}]):
        column = int(spec.get("dimensionIndex", 0))
        descending = spec.get("sortOrder") == "DESCENDING"
        filled = [row for row in rows if _cell_order(row.get(column))[0] < 4]
        empty = [row for row in rows if _cell_order(row.get(column))[0] == 4]
        filled.sort(key=lambda row, c=column: _cell_order(row.get(c)), reverse=descending)
        rows = filled + empty
    for r, row in enumerate(rows, start=row0):
        for c, cell in row.items():
            sheet.cells.pop((r, c), None)
            if cell is not None:
                sheet.cells[(r, c)] = cell


def _shift(book: FakeSpreadsheet, sheet: FakeSheet, rows: bool, at: int, delta: int) -> None:
    """Move everything at or past ``at`` by ``delta`` rows or columns (negative: deleted)."""
    start, end = ("startRowIndex", "endRowIndex") if rows else ("startColumnIndex",
                                                                "endColumnIndex")
    cut_end = at - delta if delta < 0 else at

    def moved(index: int) -> int:
        """Where a cell (or a range's start) at ``index`` goes."""
        if index < at:
            return index
        if delta < 0 and index < cut_end:
            return at
        return index + delta

    def moved_end(index: int) -> int:
        """Where a range's exclusive end goes."""
        if index <= at:
            return index
        if delta < 0 and index <= cut_end:
            return at
        return index + delta

    cells: dict[tuple[int, int], FakeCell] = {}
    for (r, c), cell in sheet.cells.items():
        index = r if rows else c
        if delta < 0 and at <= index < cut_end:
            continue
        new = moved(index)
        cells[(new, c) if rows else (r, new)] = cell
    sheet.cells = cells
    store = sheet.row_metadata if rows else sheet.column_metadata
    shifted = {}
    for index, meta in store.items():
        if delta < 0 and at <= index < cut_end:
            continue
        shifted[moved(index)] = meta
    store.clear()
    store.update(shifted)

    def fix(grid_range: dict[str, Any]) -> bool:
        """Shift one GridRange of this sheet in place; False when nothing of it is left."""
        if int(grid_range.get("sheetId", 0)) != sheet.sheet_id:
            return True
        if start in grid_range:
            grid_range[start] = moved(int(grid_range[start]))
        if end in grid_range:
            grid_range[end] = moved_end(int(grid_range[end]))
            if grid_range.get(start, 0) >= grid_range[end]:
                return False
        return True

    sheet.merges = [m for m in sheet.merges if fix(m)]
    for rule in sheet.conditional_formats:
        rule["ranges"] = [r for r in rule.get("ranges", []) if fix(r)]
    sheet.conditional_formats = [r for r in sheet.conditional_formats if r.get("ranges")]
    if sheet.basic_filter is not None and not fix(sheet.basic_filter.get("range", {})):
        sheet.basic_filter = None
    for other in book.sheets:
        other.protected_ranges = [p for p in other.protected_ranges if fix(p.get("range", {}))]
        for chart in other.charts:
            spec = chart.get("spec", {}).get("basicChart", {})
            for part in spec.get("domains", []) + spec.get("series", []):
                source = part.get("domain") or part.get("series") or {}
                for grid_range in source.get("sourceRange", {}).get("sources", []):
                    fix(grid_range)
    book.named_ranges = [n for n in book.named_ranges if fix(n.get("range", {}))]


def _dimension_range(book: FakeSpreadsheet, body: dict[str, Any], where: str
                     ) -> tuple[dict[str, Any], FakeSheet, bool]:
    """An insertDimension or deleteDimension request's range, its sheet, and whether it
    spans rows (else columns)."""
    span = body.get("range") or {}
    sheet = book.sheet_by_id(int(span.get("sheetId", 0)))
    if sheet is None:
        raise bad_request(f"Invalid {where}: No grid with id: {span.get('sheetId', 0)}")
    return span, sheet, span.get("dimension") == "ROWS"


def _insert_dimension(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                      rng: random.Random) -> None:
    span, sheet, rows = _dimension_range(book, body, where)
    start, end = int(span.get("startIndex", 0)), int(span.get("endIndex", 0))
    limit = sheet.row_count if rows else sheet.column_count
    if not 0 <= start <= limit or end <= start:
        raise bad_request(f"Invalid {where}: range {start}:{end} is not within the grid "
                          f"({limit} {'rows' if rows else 'columns'})")
    _shift(book, sheet, rows, start, end - start)
    sheet.properties["gridProperties"]["rowCount" if rows else "columnCount"] += end - start


def _delete_dimension(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                      rng: random.Random) -> None:
    span, sheet, rows = _dimension_range(book, body, where)
    limit = sheet.row_count if rows else sheet.column_count
    start, end = int(span.get("startIndex", 0)), int(span.get("endIndex", limit))
    if not 0 <= start < end <= limit:
        raise bad_request(f"Invalid {where}: Range exceeds grid limits.")
    if end - start >= limit:
        raise bad_request(f"Invalid {where}: You can't delete all the "
                          f"{'rows' if rows else 'columns'} on the sheet.")
    _shift(book, sheet, rows, start, start - end)
    sheet.properties["gridProperties"]["rowCount" if rows else "columnCount"] -= end - start


def _create_developer_metadata(book: FakeSpreadsheet, body: dict[str, Any], where: str,
                               rng: random.Random) -> dict[str, Any]:
    """Developer metadata on a sheet or on the spreadsheet (deleted with its sheet)."""
    meta = copy.deepcopy(body.get("developerMetadata") or {})
    if not meta.get("metadataKey"):
        raise bad_request(f"Invalid {where}: A metadataKey is required.")
    if meta.get("visibility") not in ("DOCUMENT", "PROJECT"):
        raise bad_request(f"Invalid {where}: visibility must be DOCUMENT or PROJECT.")
    location = meta.get("location") or {}
    taken = {int(m["metadataId"]) for s in book.sheets for m in s.developer_metadata}
    taken |= {int(m["metadataId"]) for m in book.developer_metadata}
    if "metadataId" in meta:
        if int(meta["metadataId"]) in taken:
            raise bad_request(f"Invalid {where}: Metadata id {meta['metadataId']} is taken.")
    else:
        meta["metadataId"] = rng.randrange(1, 2**31 - 1)
        while meta["metadataId"] in taken:
            meta["metadataId"] = rng.randrange(1, 2**31 - 1)
    if "sheetId" in location:
        sheet = book.sheet_by_id(int(location["sheetId"]))
        if sheet is None:
            raise bad_request(f"Invalid {where}: No sheet with id: {location['sheetId']}")
        meta["location"] = {"locationType": "SHEET", "sheetId": sheet.sheet_id}
        sheet.developer_metadata.append(meta)
    elif location.get("spreadsheet"):
        meta["location"] = {"locationType": "SPREADSHEET", "spreadsheet": True}
        book.developer_metadata.append(meta)
    else:
        raise bad_request(f"Invalid {where}: Only sheet and spreadsheet locations are supported "
                          "by the fake.")
    return {"createDeveloperMetadata": {"developerMetadata": copy.deepcopy(meta)}}


def _no_op(book: FakeSpreadsheet, body: dict[str, Any], where: str, rng: random.Random) -> None:
    return None


_HANDLERS = {
    "addSheet": _add_sheet,
    "deleteSheet": _delete_sheet,
    "updateSheetProperties": _update_sheet_properties,
    "updateSpreadsheetProperties": _update_spreadsheet_properties,
    "updateCells": _update_cells,
    "appendCells": _append_cells,
    "repeatCell": _repeat_cell,
    "addConditionalFormatRule": _add_conditional_format,
    "deleteConditionalFormatRule": _delete_conditional_format,
    "updateConditionalFormatRule": _update_conditional_format,
    "addChart": _add_chart,
    "updateChartSpec": _update_chart_spec,
    "deleteEmbeddedObject": _delete_embedded_object,
    "updateDimensionProperties": _update_dimension_properties,
    "appendDimension": _append_dimension,
    "mergeCells": _merge_cells,
    "unmergeCells": _unmerge_cells,
    "setBasicFilter": _set_basic_filter,
    "clearBasicFilter": _clear_basic_filter,
    "setDataValidation": _set_data_validation,
    "createDeveloperMetadata": _create_developer_metadata,
    "autoResizeDimensions": _no_op,
    "addProtectedRange": _add_protected_range,
    "deleteProtectedRange": _delete_protected_range,
    "updateProtectedRange": _update_protected_range,
    "addNamedRange": _add_named_range,
    "deleteNamedRange": _delete_named_range,
    "updateNamedRange": _update_named_range,
    "copyPaste": _copy_paste,
    "cutPaste": _cut_paste,
    "sortRange": _sort_range,
    "insertDimension": _insert_dimension,
    "deleteDimension": _delete_dimension,
}

SUPPORTED_REQUESTS = frozenset(_HANDLERS)
