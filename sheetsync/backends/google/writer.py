"""Write sheetsync's managed tabs to a Google spreadsheet in one ``spreadsheets:batchUpdate``.

A write costs two API calls: one ``spreadsheets.get`` to learn the existing tabs and the hidden
manifest (:data:`~sheetsync.report.model.MANIFEST_TAB`), then one ``batchUpdate`` that adds the
missing tabs (with sheet ids sheetsync chooses, so later requests in the same batch can refer to
them), clears and rewrites the managed ones, sets number formats, frozen rows, conditional
fills for status columns, filters and charts, and rewrites the manifest. Google applies a
``batchUpdate`` atomically, so a failed write changes nothing.

A batch too big for one request (Google refuses bodies over 10 MiB) is sent by
:mod:`~.staging`: its bulk cell data first, in parts, into hidden staging tabs, then one small
final batch that swaps it in; still all or nothing for what leaders see.

Rules, the same as the Excel writer's:

* a tab whose name is managed but which is not listed in the manifest belongs to a user, and
  sheetsync refuses to overwrite it (:class:`~sheetsync.backends.base.TargetWriteError`);
* text is always written as ``stringValue``, never parsed, so ``=cmd|...`` or ``+1`` stay text;
  only :class:`~sheetsync.report.model.Formula` values become ``formulaValue``;
* append-only tabs (the Run Log) keep their rows; new rows are added with ``appendCells``;
* a run never deletes a tab.
"""

from __future__ import annotations

import math
import numbers
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sheetsync import __version__
from sheetsync.backends.google.auth import CredentialsError
from sheetsync.backends.google.locations import spreadsheet_key
from sheetsync.backends.google.reader import FLAGS_TAB, SHARE_ADVICE, cell_value
from sheetsync.backends.google.settings import GoogleSettings
from sheetsync.backends.google.staging import (
    ExistingTab,
    SendReport,
    StagedWriteFailed,
    TooBig,
    send,
)
from sheetsync.backends.google.transport import (
    GoogleConnection,
    UncertainWrite,
    classify_failure,
    credentials_hint,
)
from sheetsync.errors import TargetWriteError
from sheetsync.grid import column_number, to_serial
from sheetsync.report.model import MANIFEST_TAB, STATUS_COLOURS, Chart, Formula, Sheet, Table

MANIFEST_FORMAT = 1
MAX_CELL_CHARS = 50_000  # Google's limit on the text in one cell
MAX_TAB_NAME = 100
HEADER_FILL = "1F4E78"
DATA_BAR_COLOUR = "5B9BD5"
PIXELS_PER_CM = 37.8
FLAG_COLUMNS = ["Severity", "Tab", "Cell", "Finding", "How to fix"]

STATE_FIELDS = (
    "properties.title,"
    "sheets(properties(sheetId,title,index,hidden,gridProperties(rowCount,columnCount)),"
    "conditionalFormats.booleanRule.condition.type,conditionalFormats.gradientRule.minpoint.type,"
    "charts.chartId,basicFilter.range,"
    "data.rowData.values(effectiveValue,effectiveFormat.numberFormat))"
)
"""What a write needs to know: tabs, their grid sizes and embedded objects, and cell values
(for the manifest and the rows already on append-only tabs)."""


@dataclass(frozen=True)
class WriteSummary:
    """What a successful write did."""

    target: str
    managed_tabs: tuple[str, ...]
    added_tabs: tuple[str, ...]
    rows_written: int
    rows_appended: int
    requests: int  # sub-requests inside the batchUpdate
    truncated_cells: int = 0
    sent: SendReport | None = None  # the batchUpdate calls made, their sizes, staged tabs


@dataclass
class _Tab:
    sheet_id: int
    title: str
    rows: int
    columns: int
    hidden: bool
    conditional_formats: int
    chart_ids: list[int]
    has_filter: bool
    values: list[list[Any]]


@dataclass
class _State:
    title: str
    tabs: dict[str, _Tab]  # by casefolded title
    managed: list[str] | None  # None: no manifest yet


@dataclass
class _Batch:
    requests: list[dict[str, Any]] = field(default_factory=list)
    rows_written: int = 0
    rows_appended: int = 0
    truncated: int = 0
    added: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- cell values

def _rgb(hex_colour: str) -> dict[str, float]:
    value = hex_colour.lstrip("#")[-6:]
    return {name: round(int(value[i:i + 2], 16) / 255, 4)
            for name, i in (("red", 0), ("green", 2), ("blue", 4))}


def sheets_number_format(excel_format: str) -> dict[str, str]:
    """An Excel-style number format (``"0%"``, ``"0.0"``, ``"yyyy-mm-dd"``) for Sheets."""
    lowered = excel_format.lower()
    if "%" in lowered:
        kind = "PERCENT"
    elif any(token in lowered for token in ("y", "d")) and "h" in lowered:
        kind = "DATE_TIME"
    elif any(token in lowered for token in ("y", "d")) or lowered in ("m/d", "mmm"):
        kind = "DATE"
    elif "h" in lowered or "s" in lowered:
        kind = "TIME"
    else:
        kind = "NUMBER"
    return {"type": kind, "pattern": excel_format}


def cell_data(value: Any, number_format: str | None = None, batch: _Batch | None = None
              ) -> dict[str, Any]:
    """``CellData`` for one model value; text is always ``stringValue`` (never a formula)."""
    fmt: dict[str, Any] | None = (
        {"numberFormat": sheets_number_format(number_format)} if number_format else None)
    entered: dict[str, Any] | None
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        entered = None
    elif isinstance(value, Formula):
        entered = {"formulaValue": value.text}
    elif isinstance(value, bool):
        entered = {"boolValue": value}
    elif isinstance(value, datetime):
        if value != value:  # pandas NaT
            entered = None
        else:
            entered = {"numberValue": to_serial(value)}
            fmt = fmt or {"numberFormat": {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"}}
    elif isinstance(value, date):
        entered = {"numberValue": to_serial(value)}
        fmt = fmt or {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}}
    elif isinstance(value, time):
        entered = {"numberValue": to_serial(value)}
        fmt = fmt or {"numberFormat": {"type": "TIME", "pattern": "hh:mm"}}
    elif isinstance(value, timedelta):
        entered = {"numberValue": to_serial(value)}
        fmt = fmt or {"numberFormat": {"type": "TIME", "pattern": "[h]:mm:ss"}}
    elif isinstance(value, numbers.Real | Decimal):
        number = float(value)
        entered = {"numberValue": number} if math.isfinite(number) else None
    else:
        text = str(value)
        if len(text) > MAX_CELL_CHARS:
            text = text[:MAX_CELL_CHARS - 1] + "…"
            if batch is not None:
                batch.truncated += 1
        entered = {"stringValue": text} if text else None
    data: dict[str, Any] = {}
    if entered is not None:
        data["userEnteredValue"] = entered
    if fmt:
        data["userEnteredFormat"] = fmt
    return data


# --------------------------------------------------------------------------- errors

def target_error(target: str, exc: BaseException, account: str) -> TargetWriteError:
    """The leader-readable :class:`TargetWriteError` for a failed write (nothing changed)."""
    failure = classify_failure(exc)
    if failure.status == 403:
        return TargetWriteError(
            f"Share {target} with {account} {SHARE_ADVICE}. Nothing was written.",
            hint=f"Open the spreadsheet, click Share and add {account} as Editor.")
    if failure.status == 404:
        return TargetWriteError(f"{target}: not found: check the URL/key. Nothing was written.",
                                hint="Copy the spreadsheet's URL from the browser.")
    if failure.status == 400:
        return TargetWriteError(
            f"Google rejected the update of {target}: {failure.message} Nothing was changed.",
            hint="This is a sheetsync bug if it happens again; please report it.")
    if failure.reason == "uncertain":
        return TargetWriteError(
            f"Google did not confirm the update of {target}; it may or may not have been "
            "applied.", hint="Run sheetsync again; it rewrites its tabs completely.",
            transient=True)
    if failure.reason == "credentials" or failure.status == 401:
        return TargetWriteError(f"Could not write {target}: {failure.message}",
                                hint=credentials_hint(failure.message, exc))
    return TargetWriteError(
        f"Could not write {target}: Google did not answer properly ({failure.message}). "
        "Nothing was changed.", hint="This is usually temporary; the next run will try again.",
        transient=failure.transient)


# --------------------------------------------------------------------------- the writer

class GoogleWriter:
    """Writes managed tabs to Google spreadsheets (see the module docstring)."""

    def __init__(self, settings: GoogleSettings | None = None, *,
                 connection: GoogleConnection | None = None,
                 now: Callable[[], datetime] | None = None) -> None:
        self.connection = connection or GoogleConnection(settings)
        self._now = now or (lambda: datetime.now(UTC))

    # ------------------------------------------------------------------ public
    def write(self, target: str, sheets: list[Sheet]) -> WriteSummary:
        """Write ``sheets`` as managed tabs of the spreadsheet ``target`` (URL or key)."""
        _check_model(sheets)
        try:
            key = spreadsheet_key(target)
        except ValueError as exc:
            raise TargetWriteError(f"{target}: not found: check the URL/key.") from exc
        try:
            http = self.connection.http
        except CredentialsError as exc:
            raise TargetWriteError(exc.message, hint=exc.hint) from exc
        account = self.connection.account_email
        retried = False
        while True:
            try:
                state = _parse_state(http.fetch_sheet_metadata(
                    key, params={"includeGridData": "true", "fields": STATE_FIELDS}))
            except Exception as exc:  # every failure becomes a clear refusal, never a crash
                raise target_error(target, exc, account) from exc
            _refuse_user_tabs(target, state, sheets)
            batch = self._build(state, sheets, retried)
            try:
                sent = self._send(key, state, batch)
            except UncertainWrite as exc:
                # The write may have landed: re-read and rebuild once (idempotent by design:
                # tabs now exist and the Run Log rows are recognised), rather than resend.
                if retried:
                    raise target_error(target, exc, account) from exc
                retried = True
                continue
            except StagedWriteFailed as exc:
                cause = target_error(target, exc.cause, account)
                reason = cause.message.removesuffix(" Nothing was changed.").rstrip(".")
                raise TargetWriteError(
                    f"{reason}. The dashboard was not changed: the update stopped while it "
                    "was still being prepared in hidden tabs, "
                    + ("which were removed." if exc.cleaned else "which the next run removes."),
                    hint=cause.hint, transient=cause.transient) from exc
            except TooBig as exc:
                raise TargetWriteError(
                    f"The update of {target} cannot be cut into requests Google accepts: "
                    f"{exc}. Nothing was changed.",
                    hint="This is a sheetsync bug; please report it.") from exc
            except Exception as exc:
                raise target_error(target, exc, account) from exc
            managed = _managed_after(state, sheets)
            return WriteSummary(target, tuple(managed), tuple(batch.added), batch.rows_written,
                                batch.rows_appended, len(batch.requests), batch.truncated,
                                sent)

    def write_flags_tab(self, spreadsheet: str, rows: Sequence[Sequence[Any]], *,
                        columns: Sequence[str] = FLAG_COLUMNS) -> None:
        """Write the findings about one source into its managed ``Sheetsync Flags`` tab.

        Costs one read and one ``batchUpdate``; needs Editor access. (The pipeline skips the
        call when the flags did not change since the last write.)
        """
        severity = [c for c in columns if c.casefold() == "severity"]
        table = Table(columns=list(columns), rows=[list(r) for r in rows],
                      status_columns=severity, column_widths={c: 40.0 for c in columns
                                                              if c in ("Finding", "How to fix")})
        self.write(spreadsheet, [Sheet(FLAGS_TAB, tables=[table], freeze_rows=1,
                                       auto_filter=True)])

    # ------------------------------------------------------------------ sending the batch
    def _send(self, key: str, state: _State, batch: _Batch) -> SendReport:
        """One batchUpdate, or several under the request-size limit (see :mod:`.staging`)."""
        from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL

        http = self.connection.http

        def send_body(data: bytes) -> Any:
            return http.request("post", SPREADSHEET_BATCH_UPDATE_URL % key, data=data,
                                headers={"Content-Type": "application/json; charset=utf-8"}
                                ).json()

        existing = [ExistingTab(t.sheet_id, t.title, t.rows, t.columns)
                    for t in state.tabs.values()]
        titles = {t.sheet_id: t.title for t in state.tabs.values()}
        for request in batch.requests:
            props = request.get("addSheet", {}).get("properties", {})
            if "sheetId" in props:
                titles[int(props["sheetId"])] = str(props.get("title", ""))
        return send(batch.requests, existing, send_body,
                    limit=self.connection.settings.request_limit, titles=titles)

    # ------------------------------------------------------------------ building the batch
    def _build(self, state: _State, sheets: list[Sheet], retried: bool) -> _Batch:
        batch = _Batch()
        used_ids = {tab.sheet_id for tab in state.tabs.values()}
        manifest = state.tabs.get(MANIFEST_TAB.casefold())
        manifest_id = manifest.sheet_id if manifest else _choose_id(MANIFEST_TAB, used_ids)
        if manifest is None:
            batch.requests.append({"addSheet": {"properties": {
                "sheetId": manifest_id, "title": MANIFEST_TAB, "hidden": True,
                "gridProperties": {"rowCount": 50, "columnCount": 4}}}})
            batch.added.append(MANIFEST_TAB)
        for sheet in sheets:
            existing = state.tabs.get(sheet.name.casefold())
            if (existing is not None and sheet.append_only and sheet.tables
                    and _append_rows(batch, existing, sheet, retried)):
                continue
            sheet_id = existing.sheet_id if existing else _choose_id(sheet.name, used_ids)
            kept = _kept_rows(existing, sheet) if existing is not None else []
            self._rewrite_tab(batch, sheet, sheet_id, existing, kept)
        manifest_rows = _manifest_rows(_managed_after(state, sheets), self._now())
        if manifest is not None:
            batch.requests.append(_clear(manifest))
            if manifest.rows < len(manifest_rows) or manifest.columns < 4 or not manifest.hidden:
                batch.requests.append({"updateSheetProperties": {
                    "properties": {"sheetId": manifest_id, "hidden": True, "gridProperties": {
                        "rowCount": max(manifest.rows, len(manifest_rows) + 10),
                        "columnCount": max(manifest.columns, 4)}},
                    "fields": "hidden,gridProperties.rowCount,gridProperties.columnCount"}})
        batch.requests.append({"updateCells": {
            "start": {"sheetId": manifest_id, "rowIndex": 0, "columnIndex": 0},
            "rows": [{"values": [cell_data(v) for v in row]} for row in manifest_rows],
            "fields": "userEnteredValue,userEnteredFormat"}})
        return batch

    def _rewrite_tab(self, batch: _Batch, sheet: Sheet, sheet_id: int, existing: _Tab | None,
                     kept: list[list[Any]]) -> None:
        tables = list(sheet.tables)
        charts = list(sheet.charts)
        if kept and tables:
            # Append-only tab whose columns changed: earlier rows, rearranged, then the new.
            grown = replace(tables[0], rows=[*kept, *tables[0].rows])
            charts = [replace(c, table=grown) if c.table is tables[0] else c for c in charts]
            batch.rows_appended += len(tables[0].rows)
            tables[0] = grown
        elif sheet.append_only and tables:
            batch.rows_appended += len(tables[0].rows)
        rows, columns = _extent(sheet, tables, charts)
        grid = {"rowCount": rows, "columnCount": columns, "frozenRowCount": sheet.freeze_rows}
        if existing is None:
            props: dict[str, Any] = {"sheetId": sheet_id, "title": sheet.name,
                                     "gridProperties": grid}
            if sheet.hidden:
                props["hidden"] = True
            batch.requests.append({"addSheet": {"properties": props}})
            batch.added.append(sheet.name)
        else:
            for index in reversed(range(existing.conditional_formats)):
                batch.requests.append({"deleteConditionalFormatRule": {
                    "sheetId": sheet_id, "index": index}})
            for chart_id in existing.chart_ids:
                batch.requests.append({"deleteEmbeddedObject": {"objectId": chart_id}})
            if existing.has_filter:
                batch.requests.append({"clearBasicFilter": {"sheetId": sheet_id}})
            whole = {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": existing.rows,
                     "startColumnIndex": 0, "endColumnIndex": existing.columns}
            batch.requests.append({"unmergeCells": {"range": whole}})
            batch.requests.append(_clear(existing))
            batch.requests.append({"updateSheetProperties": {
                "properties": {"sheetId": sheet_id, "title": sheet.name, "hidden": sheet.hidden,
                               "gridProperties": grid},
                "fields": "title,hidden,gridProperties.rowCount,gridProperties.columnCount,"
                          "gridProperties.frozenRowCount"}})
        for table in tables:
            batch.rows_written += len(table.rows)
            _write_table(batch, table, sheet_id)
        if sheet.auto_filter and tables:
            first = tables[0]
            batch.requests.append({"setBasicFilter": {"filter": {"range": _grid_range(
                sheet_id, first.header_row - 1, max(first.last_row, first.header_row),
                first.col - 1, first.last_col)}}})
        for chart in charts:
            batch.requests.append(_chart_request(chart, sheet_id))


# --------------------------------------------------------------------------- helpers

def _check_model(sheets: Sequence[Sheet]) -> None:
    seen: set[str] = set()
    for sheet in sheets:
        name = sheet.name
        if not name.strip() or len(name) > MAX_TAB_NAME:
            raise ValueError(f"{name!r} cannot be a Google Sheets tab name")
        if name.casefold() == MANIFEST_TAB.casefold():
            raise ValueError(f"{MANIFEST_TAB!r} is reserved for sheetsync's manifest")
        if name.casefold() in seen:  # Sheets tab names are unique regardless of case
            raise ValueError(f"tab {name!r} appears twice in the output model")
        seen.add(name.casefold())
        for chart in sheet.charts:
            unknown = {chart.category_column, *chart.series_columns} - set(chart.table.columns)
            if unknown:
                raise ValueError(f"chart {chart.title!r} on tab {name!r} uses unknown columns "
                                 f"{sorted(unknown)}")


def _parse_state(answer: dict[str, Any]) -> _State:
    tabs: dict[str, _Tab] = {}
    for sheet in answer.get("sheets", []):
        props = sheet.get("properties", {})
        grid = props.get("gridProperties", {})
        data = (sheet.get("data") or [{}])[0]
        values = [[cell_value(c) for c in row.get("values", [])]
                  for row in data.get("rowData", [])]
        tab = _Tab(int(props.get("sheetId", 0)), str(props.get("title", "")),
                   int(grid.get("rowCount", 0)), int(grid.get("columnCount", 0)),
                   bool(props.get("hidden", False)), len(sheet.get("conditionalFormats", [])),
                   [int(c["chartId"]) for c in sheet.get("charts", []) if "chartId" in c],
                   "basicFilter" in sheet, values)
        tabs[tab.title.casefold()] = tab
    manifest = tabs.get(MANIFEST_TAB.casefold())
    managed = _parse_manifest(manifest.values) if manifest is not None else None
    return _State(str(answer.get("properties", {}).get("title", "")), tabs, managed)


def _parse_manifest(rows: list[list[Any]]) -> list[str] | None:
    if len(rows) < 2 or not rows[0] or rows[0][0] != "key" or not rows[1] or rows[1][0] != "format":
        return None
    return [str(row[1]) for row in rows[2:]
            if len(row) > 1 and row[0] == "managed_tab" and row[1]]


def _refuse_user_tabs(target: str, state: _State, sheets: Sequence[Sheet]) -> None:
    manifest = state.tabs.get(MANIFEST_TAB.casefold())
    if manifest is not None and state.managed is None:
        raise TargetWriteError(
            f"{target} has a tab named {manifest.title!r} that sheetsync did not create, so "
            "sheetsync did not write to it. Nothing was changed.",
            hint=f"Rename your tab {manifest.title!r}, or choose another spreadsheet.")
    owned = {name.casefold() for name in state.managed or []}
    for sheet in sheets:
        tab = state.tabs.get(sheet.name.casefold())
        if tab is not None and sheet.name.casefold() not in owned:
            raise TargetWriteError(
                f"{target} already has a tab named {tab.title!r} that sheetsync did not create, "
                "so sheetsync did not overwrite it. Nothing was changed.",
                hint=f"Rename your tab {tab.title!r} (sheetsync writes its own {sheet.name!r} "
                "tab), or choose another spreadsheet for the output.")


def _managed_after(state: _State, sheets: Sequence[Sheet]) -> list[str]:
    # Tabs managed earlier stay managed even when this model no longer writes them: a run
    # never deletes a tab, and a later run may write it again.
    names = [name for name in state.managed or []
             if name.casefold() in state.tabs and name.casefold() != MANIFEST_TAB.casefold()]
    known = {n.casefold() for n in names}
    names += [s.name for s in sheets if s.name.casefold() not in known]
    return names


def _manifest_rows(managed: list[str], written_at: datetime) -> list[list[Any]]:
    return [
        ["key", "value", "", "sheetsync rewrites the tabs listed here on every run. "
                             "Do not edit this tab."],
        ["format", MANIFEST_FORMAT],
        ["sheetsync_version", __version__],
        ["last_written", written_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")],
        *(["managed_tab", name] for name in managed),
    ]


def _choose_id(name: str, used: set[int]) -> int:
    """A stable id from the tab name (so reruns agree), nudged past ids already taken."""
    sheet_id = zlib.crc32(name.casefold().encode("utf-8")) & 0x3FFFFFFF or 1
    while sheet_id in used:
        sheet_id = (sheet_id + 1) & 0x3FFFFFFF or 1
    used.add(sheet_id)
    return sheet_id


def _clear(tab: _Tab) -> dict[str, Any]:
    return {"updateCells": {"range": _grid_range(tab.sheet_id, 0, tab.rows, 0, tab.columns),
                            "fields": "userEnteredValue,userEnteredFormat,note"}}


def _grid_range(sheet_id: int, row0: int, row1: int, col0: int, col1: int) -> dict[str, int]:
    return {"sheetId": sheet_id, "startRowIndex": row0, "endRowIndex": row1,
            "startColumnIndex": col0, "endColumnIndex": col1}


def _anchor(a1: str) -> tuple[int, int]:
    letters = "".join(ch for ch in a1 if ch.isalpha())
    digits = "".join(ch for ch in a1 if ch.isdigit())
    return max(int(digits or 1) - 1, 0), max(column_number(letters) - 1, 0)


def _extent(sheet: Sheet, tables: list[Table], charts: list[Chart]) -> tuple[int, int]:
    rows = max([t.last_row for t in tables] + [1])
    columns = max([t.last_col for t in tables] + [1])
    for chart in charts:
        row, col = _anchor(chart.anchor)
        rows, columns = max(rows, row + 1), max(columns, col + 1)
    return max(rows, sheet.freeze_rows + 1), columns


def _header_format() -> dict[str, Any]:
    return {"backgroundColor": _rgb(HEADER_FILL), "wrapStrategy": "WRAP",
            "verticalAlignment": "MIDDLE",
            "textFormat": {"bold": True, "foregroundColor": _rgb("FFFFFF")}}


def _row_data(batch: _Batch, table: Table, row: Sequence[Any]) -> dict[str, Any]:
    formats = [table.number_formats.get(c) for c in table.columns]
    values = list(row) + [None] * (len(table.columns) - len(row))
    return {"values": [cell_data(v, f, batch) for v, f in zip(values, formats, strict=False)]}


def _write_table(batch: _Batch, table: Table, sheet_id: int) -> None:
    rows: list[dict[str, Any]] = []
    if table.title:
        title = cell_data(table.title, batch=batch)
        title["userEnteredFormat"] = {"textFormat": {"bold": True, "fontSize": 12}}
        rows.append({"values": [title]})
    header = []
    for name in table.columns:
        cell = cell_data(name, batch=batch)
        cell["userEnteredFormat"] = _header_format()
        header.append(cell)
    rows.append({"values": header})
    rows.extend(_row_data(batch, table, row) for row in table.rows)
    batch.requests.append({"updateCells": {
        "start": {"sheetId": sheet_id, "rowIndex": table.row - 1, "columnIndex": table.col - 1},
        "rows": rows, "fields": "userEnteredValue,userEnteredFormat"}})
    first, last = table.first_data_row - 1, table.last_row
    for name, width in table.column_widths.items():
        if name in table.columns:
            col = table.col - 1 + table.columns.index(name)
            batch.requests.append({"updateDimensionProperties": {
                "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": col,
                          "endIndex": col + 1},
                "properties": {"pixelSize": round(width * 7 + 10)}, "fields": "pixelSize"}})
    if last <= first:
        return
    for name in table.status_columns:
        if name not in table.columns:
            continue
        col = table.col - 1 + table.columns.index(name)
        for status, colour in STATUS_COLOURS.items():
            batch.requests.append({"addConditionalFormatRule": {"index": 0, "rule": {
                "ranges": [_grid_range(sheet_id, first, last, col, col + 1)],
                "booleanRule": {
                    "condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": status}]},
                    "format": {"backgroundColor": _rgb(colour)}}}}})
    for name in table.data_bar_columns:
        if name not in table.columns:
            continue
        col = table.col - 1 + table.columns.index(name)
        # Sheets has no data bars; a white-to-blue scale over 0..1 carries the same reading.
        batch.requests.append({"addConditionalFormatRule": {"index": 0, "rule": {
            "ranges": [_grid_range(sheet_id, first, last, col, col + 1)],
            "gradientRule": {
                "minpoint": {"type": "NUMBER", "value": "0", "color": _rgb("FFFFFF")},
                "maxpoint": {"type": "NUMBER", "value": "1", "color": _rgb(DATA_BAR_COLOUR)}}}}})


def _chart_request(chart: Chart, sheet_id: int) -> dict[str, Any]:
    table = chart.table
    first = table.first_data_row - 1
    if chart.data_rows is None:
        row0, row1, headers = table.header_row - 1, table.last_row, 1
    else:
        row0, row1, headers = first + chart.data_rows[0], first + chart.data_rows[1], 0

    def column(name: str) -> dict[str, Any]:
        col = table.col - 1 + table.columns.index(name)
        return {"sourceRange": {"sources": [_grid_range(sheet_id, row0, row1, col, col + 1)]}}

    kind = {"line": "LINE", "bar": "BAR", "column": "COLUMN"}[chart.kind]
    value_axis = "BOTTOM_AXIS" if kind == "BAR" else "LEFT_AXIS"
    basic: dict[str, Any] = {
        "chartType": kind,
        "legendPosition": "BOTTOM_LEGEND",
        "headerCount": headers,
        "domains": [{"domain": column(chart.category_column)}],
        "series": [{"series": column(name), "targetAxis": value_axis}
                   for name in chart.series_columns],
    }
    if chart.y_title:
        basic["axis"] = [{"position": value_axis, "title": chart.y_title}]
    if kind != "LINE":
        basic["stackedType"] = "STACKED" if chart.stacked else "NOT_STACKED"
    row, col = _anchor(chart.anchor)
    return {"addChart": {"chart": {
        "spec": {"title": chart.title, "basicChart": basic},
        "position": {"overlayPosition": {
            "anchorCell": {"sheetId": sheet_id, "rowIndex": row, "columnIndex": col},
            "widthPixels": round(chart.width_cm * PIXELS_PER_CM),
            "heightPixels": round(chart.height_cm * PIXELS_PER_CM)}}}}}


def _header_of(tab: _Tab, table: Table) -> list[Any]:
    index = table.header_row - 1
    row = tab.values[index] if index < len(tab.values) else []
    return row[table.col - 1:]


def _append_rows(batch: _Batch, tab: _Tab, sheet: Sheet, retried: bool) -> bool:
    """Append to an append-only tab whose header still matches; False when it must be rebuilt."""
    table = sheet.tables[0]
    header = _header_of(tab, table)
    while header and header[-1] is None:
        header.pop()
    if header != table.columns or table.col != 1 or len(sheet.tables) != 1:
        return False
    new_rows = [_row_data(batch, table, row) for row in table.rows]
    if retried and table.rows:
        # After an unconfirmed write: if these rows already landed, do not add them twice.
        tail = [_trim(r) for r in tab.values[-len(table.rows):]]
        if tail == [_read_back(r) for r in new_rows]:
            return True
    if new_rows:
        batch.requests.append({"appendCells": {"sheetId": tab.sheet_id, "rows": new_rows,
                                               "fields": "userEnteredValue,userEnteredFormat"}})
    batch.rows_appended += len(table.rows)
    batch.rows_written += len(table.rows)
    return True


def _read_back(row: dict[str, Any]) -> list[Any]:
    """The values a row of ``CellData`` will show when read again."""
    values = []
    for cell in row["values"]:
        entered = cell.get("userEnteredValue") or {}
        effective = {} if "formulaValue" in entered else dict(entered)
        values.append(cell_value({"effectiveValue": effective,
                                  "effectiveFormat": cell.get("userEnteredFormat", {})}))
    return _trim(values)


def _trim(row: list[Any]) -> list[Any]:
    row = list(row)
    while row and row[-1] is None:
        row.pop()
    return row


def _kept_rows(tab: _Tab, sheet: Sheet) -> list[list[Any]]:
    """Rows already on an append-only tab, arranged under the model's columns."""
    if not sheet.append_only or not sheet.tables:
        return []
    table = sheet.tables[0]
    header = _header_of(tab, table)
    position = {name: i for i, name in enumerate(header) if isinstance(name, str)}
    if not position:
        return []
    kept: list[list[Any]] = []
    for row in tab.values[table.first_data_row - 1:]:
        values = row[table.col - 1:]
        if all(v is None for v in values):
            continue
        kept.append([values[position[c]] if c in position and position[c] < len(values)
                     else None for c in table.columns])
    return kept
