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
* a run never deletes a tab of anyone's: the one exception is the empty default "Sheet1" of a
  blank spreadsheet given to sheetsync, removed on the first write so the Dashboard comes first.

The same model renders as in Excel, point for point (see the README's parity table): every
column gets a width, wrapped text grows its rows, status and benchmark colours are conditional
rules, charts are ``addChart`` specs with the model's series styles, a :class:`Link` is a link
to ``#gid=...&range=B5``, and a :class:`Sparkline` is Google's own ``SPARKLINE``.

The flags tab written back into a coach's spreadsheet (:meth:`GoogleWriter.write_flags_tab`)
leaves no other tab behind: it is marked as sheetsync's with developer metadata on the tab
itself, which is invisible to the coach and deleted with the tab.
"""

from __future__ import annotations

import math
import numbers
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sheetsync import __version__
from sheetsync.backends.google.auth import CredentialsError
from sheetsync.backends.google.locations import spreadsheet_key
from sheetsync.backends.google.reader import SHARE_ADVICE, cell_value
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
from sheetsync.report.model import (
    FLAGS_TAB,
    MANIFEST_TAB,
    STATUS_COLOURS,
    Benchmark,
    Cell,
    Chart,
    Formula,
    Link,
    SeriesStyle,
    Sheet,
    Sparkline,
    Table,
)

MANIFEST_FORMAT = 1
MAX_CELL_CHARS = 50_000  # Google's limit on the text in one cell
MAX_TAB_NAME = 100
HEADER_FILL = "1F4E78"
INTRO_COLOUR = "404040"
DATA_BAR_COLOUR = "5B9BD5"
HEAT_COLOURS = ("FFFFFF", "63BE7B")
BENCHMARK_FILLS = ("C6EFCE", "FFEB9C", "FFC7CE")
LINK_COLOUR = "0563C1"
PIXELS_PER_CM = 37.8
PIXELS_PER_LINE = 17
DEFAULT_SHEET_TITLES = ("Sheet1",)
"""The first tab of a blank spreadsheet (in English); removed when empty, see the module."""
OWNER_KEY, OWNER_VALUE = "sheetsync", "managed"
"""The developer metadata that marks a flags tab in a source as sheetsync's."""

SHEET_FIELDS = (
    "properties(sheetId,title,index,hidden,gridProperties(rowCount,columnCount)),"
    "conditionalFormats.booleanRule.condition.type,conditionalFormats.gradientRule.minpoint.type,"
    "charts.chartId,basicFilter.range,merges.sheetId,"
    "developerMetadata(metadataKey,metadataValue)"
)
STATE_FIELDS = (
    f"properties.title,sheets({SHEET_FIELDS},"
    "data.rowData.values(effectiveValue,effectiveFormat.numberFormat))"
)
"""What a write needs to know: tabs, their grid sizes and embedded objects, and cell values
(for the manifest and the rows already on append-only tabs)."""
FLAGS_STATE_FIELDS = (
    f"properties.title,sheets({SHEET_FIELDS})"
)
"""What a flags write-back needs: the tabs, never the coach's cells."""


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
    index: int = 0
    merges: int = 0
    owner_marks: int = 0  # developer metadata entries marking the tab as sheetsync's

    @property
    def empty(self) -> bool:
        """Nothing in it: no value, chart, rule, filter or merge."""
        return not (any(v is not None for row in self.values for v in row) or self.chart_ids
                    or self.conditional_formats or self.has_filter or self.merges)


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
    ids: dict[str, int] = field(default_factory=dict)  # casefolded tab title -> sheet id
    charts: list[dict[str, Any]] = field(default_factory=list)  # addChart, sent after the tabs

    def gid(self, tab: str) -> int | None:
        return self.ids.get(tab.casefold())


# --------------------------------------------------------------------------- cell values

def _rgb(hex_colour: str) -> dict[str, float]:
    value = hex_colour.lstrip("#")[-6:]
    return {name: round(int(value[i:i + 2], 16) / 255, 4)
            for name, i in (("red", 0), ("green", 2), ("blue", 4))}


@cache
def sheets_number_format(excel_format: str) -> dict[str, str]:
    """An Excel-style number format (``"0%"``, ``"0.0"``, ``"yyyy-mm-dd"``) for Sheets (one
    dict per format, shared: never change it)."""
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
    """``CellData`` for one model value; text is always ``stringValue`` (never a formula).

    A :class:`Cell` is its value with its own format, fill and font; a :class:`Link` is text
    that links to a cell of another tab (by its sheet id, known to ``batch``); a
    :class:`Sparkline` is Google's ``SPARKLINE`` of its range, sheetsync's own formula.
    """
    kind = type(value)
    if kind is str and len(value) <= MAX_CELL_CHARS or kind is float or kind is int:
        # The common case first, as below: most of a dashboard's cells are plain text and numbers.
        if kind is str:
            entered = {"stringValue": value} if value else None
        elif kind is int or math.isfinite(value):
            entered = {"numberValue": float(value)}
        else:
            entered = None
        data = {} if entered is None else {"userEnteredValue": entered}
        if number_format:
            data["userEnteredFormat"] = {"numberFormat": sheets_number_format(number_format)}
        return data
    if kind is Cell:
        data = cell_data(value.value, value.number_format or number_format, batch)
        look = data.setdefault("userEnteredFormat", {})
        if value.fill:
            look["backgroundColor"] = _rgb(value.fill)
        if value.bold or value.colour:
            text = look.setdefault("textFormat", {})
            if value.bold:
                text["bold"] = True
            if value.colour:
                text["foregroundColor"] = _rgb(value.colour)
        if not look:
            data.pop("userEnteredFormat")
        return data
    if kind is Link:
        data = cell_data(value.text, number_format, batch)
        gid = batch.gid(value.tab) if batch is not None else None
        if gid is not None:
            data.setdefault("userEnteredFormat", {})["textFormat"] = {
                "foregroundColor": _rgb(LINK_COLOUR), "underline": True,
                "link": {"uri": f"#gid={gid}&range={value.cell}"}}
        return data
    if kind is Sparkline:
        quoted = "'" + value.tab.replace("'", "''") + "'"
        return {"userEnteredValue": {"formulaValue": f"=SPARKLINE({quoted}!{value.cells})"}}
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
        return self._write(target, sheets, self._build, STATE_FIELDS)

    def write_flags_tab(self, spreadsheet: str, sheet: Sheet) -> WriteSummary:
        """Write the findings about one source into its managed ``Sheetsync Flags`` tab.

        Costs one read (of the tab list, not the cells) and one ``batchUpdate``; needs Editor
        access. (The pipeline skips the call when the flags did not change since the last
        write.) No manifest tab is added: the flags tab carries its own mark.
        """
        return self._write(spreadsheet, [sheet], self._build_flags, FLAGS_STATE_FIELDS)

    def _write(self, target: str, sheets: list[Sheet],
               build: Callable[[_State, list[Sheet], bool], _Batch], fields: str) -> WriteSummary:
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
                    key, params={"includeGridData": str(fields == STATE_FIELDS).lower(),
                                 "fields": fields}))
            except Exception as exc:  # every failure becomes a clear refusal, never a crash
                raise target_error(target, exc, account) from exc
            if fields == STATE_FIELDS:  # the dashboard: its tabs are listed in its manifest
                _refuse_user_tabs(target, state, sheets)
            batch = build(state, sheets, retried)
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
        batch.ids = {title: tab.sheet_id for title, tab in state.tabs.items()}
        for sheet in sheets:  # every tab's id first: charts, links and sparklines cross tabs
            if sheet.name.casefold() not in batch.ids:
                batch.ids[sheet.name.casefold()] = _choose_id(sheet.name, used_ids)
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
            kept = _kept_rows(existing, sheet) if existing is not None else []
            _rewrite_tab(batch, sheet, batch.ids[sheet.name.casefold()], existing, kept)
        batch.requests.extend(batch.charts)
        _open_on_first(batch, state, sheets)
        manifest_rows = _manifest_rows(_managed_after(state, sheets), self._now())
        if manifest is not None:
            batch.requests.append(_clear(manifest))
            if manifest.rows < len(manifest_rows) or manifest.columns < 4 or not manifest.hidden:
                batch.requests.append({"updateSheetProperties": {
                    "properties": {"sheetId": manifest_id, "hidden": True, "gridProperties": {
                        "rowCount": max(manifest.rows, len(manifest_rows) + 10),
                        "columnCount": max(manifest.columns, 4)}},
                    "fields": "hidden,gridProperties.rowCount,gridProperties.columnCount"}})
        else:
            _remove_blank_default_tab(batch, state)
        batch.requests.append({"updateCells": {
            "start": {"sheetId": manifest_id, "rowIndex": 0, "columnIndex": 0},
            "rows": [{"values": [cell_data(v) for v in row]} for row in manifest_rows],
            "fields": "userEnteredValue,userEnteredFormat"}})
        return batch

    def _build_flags(self, state: _State, sheets: list[Sheet], retried: bool) -> _Batch:
        """The flags tab in a source: sheetsync's when it carries the mark. Earlier versions
        kept a hidden manifest beside it instead (a source is never a dashboard, so that
        manifest listed only this tab): such a tab is taken over and the manifest removed."""
        (sheet,) = sheets
        existing = state.tabs.get(sheet.name.casefold())
        manifest = state.tabs.get(MANIFEST_TAB.casefold())
        flags = sheet.name == FLAGS_TAB  # else a coach's My Summary
        legacy = manifest is not None and manifest.hidden and flags
        if existing is not None and not existing.owner_marks and not legacy:
            raise TargetWriteError(
                f"{state.title or 'The spreadsheet'} already has a tab named "
                f"{existing.title!r} that sheetsync did not create, so sheetsync left it alone "
                "and wrote no " + ("flags." if flags else "summary."),
                hint=f"Rename your tab {existing.title!r} so sheetsync can add its own, or "
                "turn " + ("write_back" if flags else "my_summary") + " off for this source.")
        batch = _Batch()
        used_ids = {tab.sheet_id for tab in state.tabs.values()}
        batch.ids = {title: tab.sheet_id for title, tab in state.tabs.items()}
        sheet_id = existing.sheet_id if existing else _choose_id(sheet.name, used_ids)
        batch.ids[sheet.name.casefold()] = sheet_id
        _rewrite_tab(batch, sheet, sheet_id, existing, [])
        batch.requests.extend(batch.charts)
        if existing is None or not existing.owner_marks:
            batch.requests.append({"createDeveloperMetadata": {"developerMetadata": {
                "metadataKey": OWNER_KEY, "metadataValue": OWNER_VALUE,
                "location": {"sheetId": sheet_id}, "visibility": "DOCUMENT"}}})
        if legacy and manifest is not None:
            batch.requests.append({"deleteSheet": {"sheetId": manifest.sheet_id}})
        return batch


def _rewrite_tab(batch: _Batch, sheet: Sheet, sheet_id: int, existing: _Tab | None,
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
        # sizes set by an earlier write: back to the defaults, then set anew below
        batch.requests.append(_dimension(sheet_id, "ROWS", 0, rows, 21))
        batch.requests.append(_dimension(sheet_id, "COLUMNS", 0, columns, 100))
    widths: dict[int, float] = {}
    for table in tables:
        batch.rows_written += len(table.rows)
        _write_table(batch, table, sheet_id, widths)
    widths.update(sheet.column_widths)
    _size_columns(batch, sheet_id, widths)
    _size_rows(batch, sheet_id, tables, widths)
    if sheet.auto_filter and tables:
        first = tables[0]
        batch.requests.append({"setBasicFilter": {"filter": {"range": _grid_range(
            sheet_id, first.header_row - 1, max(first.last_row, first.header_row),
            first.col - 1, first.last_col)}}})
    for chart in charts:  # added once every tab exists: a chart may draw from a later tab
        request = _chart_request(chart, sheet_id, batch)
        if request is not None:
            batch.charts.append(request)


def _open_on_first(batch: _Batch, state: _State, sheets: Sequence[Sheet]) -> None:
    """The tab the model opens on goes first: Sheets opens a spreadsheet on its first tab."""
    for sheet in sheets:
        if sheet.opens_first and not sheet.hidden:
            existing = state.tabs.get(sheet.name.casefold())
            if existing is not None and existing.index == 0:
                return
            batch.requests.append({"updateSheetProperties": {
                "properties": {"sheetId": batch.ids[sheet.name.casefold()], "index": 0},
                "fields": "index"}})
            return


def _remove_blank_default_tab(batch: _Batch, state: _State) -> None:
    """On the first write into a blank spreadsheet, its empty "Sheet1" goes: the dashboard
    should open on its own first tab, not on an empty one nobody asked for."""
    others = [tab for tab in state.tabs.values() if tab.title.casefold() != MANIFEST_TAB.casefold()]
    if len(others) == 1 and others[0].title in DEFAULT_SHEET_TITLES and others[0].empty:
        batch.requests.append({"deleteSheet": {"sheetId": others[0].sheet_id}})
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
        marks = sum(1 for m in sheet.get("developerMetadata", [])
                    if m.get("metadataKey") == OWNER_KEY)
        tab = _Tab(int(props.get("sheetId", 0)), str(props.get("title", "")),
                   int(grid.get("rowCount", 0)), int(grid.get("columnCount", 0)),
                   bool(props.get("hidden", False)), len(sheet.get("conditionalFormats", [])),
                   [int(c["chartId"]) for c in sheet.get("charts", []) if "chartId" in c],
                   "basicFilter" in sheet, values, int(props.get("index", 0)),
                   len(sheet.get("merges", [])), marks)
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


def _dimension(sheet_id: int, dimension: str, start: int, end: int, pixels: int
               ) -> dict[str, Any]:
    return {"updateDimensionProperties": {
        "range": {"sheetId": sheet_id, "dimension": dimension, "startIndex": start,
                  "endIndex": end},
        "properties": {"pixelSize": pixels}, "fields": "pixelSize"}}


def _anchor(a1: str) -> tuple[int, int]:
    letters = "".join(ch for ch in a1 if ch.isalpha())
    digits = "".join(ch for ch in a1 if ch.isdigit())
    return max(int(digits or 1) - 1, 0), max(column_number(letters) - 1, 0)


def _extent(sheet: Sheet, tables: list[Table], charts: list[Chart]) -> tuple[int, int]:
    rows = max([t.last_row for t in tables] + [1])
    columns = max([t.last_col for t in tables] + [max(sheet.column_widths, default=1), 1])
    for chart in charts:
        row, col = _anchor(chart.anchor)
        rows, columns = max(rows, row + 1), max(columns, col + 1)
    return max(rows, sheet.freeze_rows + 1), columns


def _header_format() -> dict[str, Any]:
    return {"backgroundColor": _rgb(HEADER_FILL), "wrapStrategy": "WRAP",
            "verticalAlignment": "MIDDLE",
            "textFormat": {"bold": True, "foregroundColor": _rgb("FFFFFF")}}


def _alignments(table: Table) -> list[dict[str, Any] | None]:
    """As the Excel writer aligns them: in a table with wrapped text every cell sits at the top
    of its row, and the wrapped columns wrap."""
    if not table.wrap_columns:
        return [None] * len(table.columns)
    return [{"verticalAlignment": "TOP", "wrapStrategy": "WRAP"} if name in table.wrap_columns
            else {"verticalAlignment": "TOP"} for name in table.columns]


def _row_data(batch: _Batch, table: Table, row: Sequence[Any],
              aligns: Sequence[dict[str, Any] | None] | None = None,
              formats: Sequence[str | None] | None = None) -> dict[str, Any]:
    if formats is None:
        formats = [table.number_formats.get(c) for c in table.columns]
    values = list(row) + [None] * (len(table.columns) - len(row))
    cells = [cell_data(v, f, batch) for v, f in zip(values, formats, strict=False)]
    for cell, align in zip(cells, aligns or (), strict=False):
        if align and cell:
            cell.setdefault("userEnteredFormat", {}).update(align)
    return {"values": cells}


def _write_table(batch: _Batch, table: Table, sheet_id: int, widths: dict[int, float]) -> None:
    rows: list[dict[str, Any]] = []
    if table.title:
        title = cell_data(table.title, batch=batch)
        title["userEnteredFormat"] = {"textFormat": {"bold": True,
                                                     "fontSize": table.title_size - 1}}
        rows.append({"values": [title]})
    for line in table.intro:
        intro = cell_data(line, batch=batch)
        intro["userEnteredFormat"] = {"textFormat": {"italic": True,
                                                     "foregroundColor": _rgb(INTRO_COLOUR)}}
        rows.append({"values": [intro]})
    if table.columns:
        header = []
        for name in table.columns:
            cell = cell_data(name, batch=batch)
            cell["userEnteredFormat"] = _header_format()
            header.append(cell)
        rows.append({"values": header})
    aligns = _alignments(table)
    formats = [table.number_formats.get(c) for c in table.columns]
    rows.extend(_row_data(batch, table, row, aligns, formats) for row in table.rows)
    if rows:
        batch.requests.append({"updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": table.row - 1,
                      "columnIndex": table.col - 1},
            "rows": rows, "fields": "userEnteredValue,userEnteredFormat"}})
    for offset, name in enumerate(table.columns):
        column = table.col + offset
        width = table.column_widths.get(name)
        if width is None:
            width = measured_width(name, [row[offset] for row in table.rows if offset < len(row)],
                                   table.number_formats.get(name))
        widths[column] = max(widths.get(column, 0.0), width)
    _conditional_formats(batch, table, sheet_id)


MIN_COLUMN_WIDTH, MAX_COLUMN_WIDTH = 8.0, 60.0


def measured_width(header: str, values: Sequence[Any], number_format: str | None) -> float:
    """A column's width in characters, measured as the Excel writer measures it: its widest
    value or header line, plus 2, between 8 and 60."""
    widest = max((len(line) for line in header.split("\n")), default=0)
    seen: set[Any] = set()
    for value in values:
        shown = value.value if type(value) is Cell else value.text if type(value) is Link \
            else None if type(value) is Sparkline else value
        if shown is None or isinstance(shown, Formula):
            continue
        if isinstance(shown, str):
            if shown in seen:
                continue
            seen.add(shown)
            widest = max(widest, max(len(line) for line in shown.split("\n")))
        elif isinstance(shown, bool):
            widest = max(widest, 5)
        elif isinstance(shown, datetime):
            widest = max(widest, 16)
        elif isinstance(shown, date):
            widest = max(widest, 10)
        elif isinstance(shown, numbers.Real):
            if number_format and "%" in number_format:
                widest = max(widest, 6)
            elif isinstance(shown, float):
                widest = max(widest, min(len(f"{shown:,.2f}"), 15))
            else:
                widest = max(widest, len(f"{shown:,}"))
    return min(MAX_COLUMN_WIDTH, max(MIN_COLUMN_WIDTH, widest + 2))


def pixels(width: float) -> int:
    """A column width in characters (Excel's unit) as Sheets pixels: 7 per character and 5."""
    return round(width * 7 + 5)


def _size_columns(batch: _Batch, sheet_id: int, widths: dict[int, float]) -> None:
    """Every used column gets its width; neighbours of one width share a request."""
    run: list[int] = []
    for column in sorted(widths):
        if run and (column != run[-1] + 1 or pixels(widths[column]) != pixels(widths[run[0]])):
            batch.requests.append(_dimension(sheet_id, "COLUMNS", run[0] - 1, run[-1],
                                             pixels(widths[run[0]])))
            run = []
        run.append(column)
    if run:
        batch.requests.append(_dimension(sheet_id, "COLUMNS", run[0] - 1, run[-1],
                                         pixels(widths[run[0]])))


def _size_rows(batch: _Batch, sheet_id: int, tables: Sequence[Table],
               widths: dict[int, float]) -> None:
    """Rows tall enough for their wrapped text: a header's, or a wrapped column's."""
    from sheetsync.report.model import wrapped_lines

    for table in tables:
        if table.title and table.title_size > 13:
            batch.requests.append(_dimension(sheet_id, "ROWS", table.row - 1, table.row,
                                             round(table.title_size * 2.1)))
        named = {name: widths.get(table.col + i, MIN_COLUMN_WIDTH)
                 for i, name in enumerate(table.columns)}
        header = max((wrapped_lines(n, max(named[n] - 1, 4.0)) for n in table.columns),
                     default=1)
        if header > 1:
            batch.requests.append(_dimension(sheet_id, "ROWS", table.header_row - 1,
                                             table.header_row, 4 + PIXELS_PER_LINE * header))
        for offset, lines in enumerate(table.row_lines(named)):
            if lines > 1:
                row = table.first_data_row - 1 + offset
                batch.requests.append(_dimension(sheet_id, "ROWS", row, row + 1,
                                                 4 + PIXELS_PER_LINE * lines))


def benchmark_conditions(first_cell: str, benchmark: Benchmark) -> list[str]:
    """Custom formulas for at or above the target, just below and further below (as the Excel
    writer's), each asking ISNUMBER first, so a blank cell is never coloured."""
    def number(value: float) -> str:
        return f"{round(value, 10):.10g}"

    cell, target = first_cell, number(benchmark.target)
    if benchmark.higher_is_better:
        floor = number(benchmark.target - benchmark.margin)
        return [f"=AND(ISNUMBER({cell}),{cell}>={target})",
                f"=AND(ISNUMBER({cell}),{cell}<{target},{cell}>={floor})",
                f"=AND(ISNUMBER({cell}),{cell}<{floor})"]
    ceiling = number(benchmark.target + benchmark.margin)
    return [f"=AND(ISNUMBER({cell}),{cell}<={target})",
            f"=AND(ISNUMBER({cell}),{cell}>{target},{cell}<={ceiling})",
            f"=AND(ISNUMBER({cell}),{cell}>{ceiling})"]


def _conditional_formats(batch: _Batch, table: Table, sheet_id: int) -> None:
    from sheetsync.grid import a1

    first, last = table.first_data_row - 1, table.last_row
    if last <= first:
        return

    def rule(col: int, body: dict[str, Any], col_end: int | None = None) -> None:
        batch.requests.append({"addConditionalFormatRule": {"index": 0, "rule": {
            "ranges": [_grid_range(sheet_id, first, last, col, col_end or col + 1)], **body}}})

    for name in table.status_columns:
        if name not in table.columns:
            continue
        col = table.col - 1 + table.columns.index(name)
        for status, colour in STATUS_COLOURS.items():
            rule(col, {"booleanRule": {
                "condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": status}]},
                "format": {"backgroundColor": _rgb(colour)}}})
    for name in table.data_bar_columns:
        if name not in table.columns:
            continue
        col = table.col - 1 + table.columns.index(name)
        # Sheets has no data bars; a white-to-blue scale over 0..1 carries the same reading.
        rule(col, {"gradientRule": {
            "minpoint": {"type": "NUMBER", "value": "0", "color": _rgb("FFFFFF")},
            "maxpoint": {"type": "NUMBER", "value": "1", "color": _rgb(DATA_BAR_COLOUR)}}})
    for name, benchmark in table.benchmarks.items():
        if name not in table.columns:
            continue
        col = table.col - 1 + table.columns.index(name)
        conditions = benchmark_conditions(a1(table.first_data_row, col + 1), benchmark)
        # index 0 puts each rule first: add the last one first, so they keep this order
        for formula, colour in reversed(list(zip(conditions, BENCHMARK_FILLS, strict=True))):
            rule(col, {"booleanRule": {
                "condition": {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": formula}]},
                "format": {"backgroundColor": _rgb(colour)}}})
    heat = [table.col - 1 + table.columns.index(n) for n in table.heat_columns
            if n in table.columns]
    if heat:
        rule(min(heat), {"gradientRule": {
            "minpoint": {"type": "NUMBER", "value": "0", "color": _rgb(HEAT_COLOURS[0])},
            "maxpoint": {"type": "MAX", "color": _rgb(HEAT_COLOURS[1])}}}, max(heat) + 1)


POINT_SHAPES = {"circle": "CIRCLE", "diamond": "DIAMOND", "triangle": "TRIANGLE",
                "square": "SQUARE"}
LINE_DASHES = {"solid": "SOLID", "dash": "MEDIUM_DASHED", "none": "INVISIBLE"}


def _series_style(style: SeriesStyle, line: bool) -> dict[str, Any]:
    """A ``BasicChartSeries``'s look, as the Excel writer draws the same style."""
    out: dict[str, Any] = {"colorStyle": {"rgbColor": _rgb(style.colour)}}
    if not line:
        return out
    out["lineStyle"] = {"type": LINE_DASHES[style.line],
                        "width": max(1, round(style.width_pt * 4 / 3))}
    if style.marker != "none":
        out["pointStyle"] = {"shape": POINT_SHAPES[style.marker],
                             "size": float(style.marker_size)}
    if style.labels:
        out["dataLabel"] = {"type": "DATA", "placement": "ABOVE"}
    return out


def _chart_request(chart: Chart, sheet_id: int, batch: _Batch) -> dict[str, Any] | None:
    table = chart.table
    data_id = batch.gid(chart.data_tab) if chart.data_tab else sheet_id
    if data_id is None:
        return None
    first = table.first_data_row - 1
    if chart.data_rows is None:
        row0, row1, headers = table.header_row - 1, table.last_row, 1
    else:
        row0, row1, headers = first + chart.data_rows[0], first + chart.data_rows[1], 0

    def column(name: str) -> dict[str, Any]:
        col = table.col - 1 + table.columns.index(name)
        return {"sourceRange": {"sources": [_grid_range(data_id, row0, row1, col, col + 1)]}}

    kind = {"line": "LINE", "bar": "BAR", "column": "COLUMN"}[chart.kind]
    combo = kind != "LINE" and any(
        chart.styles.get(n) is not None and chart.styles[n].as_line for n in chart.series_columns)
    value_axis = "BOTTOM_AXIS" if kind == "BAR" else "LEFT_AXIS"
    series = []
    for name in chart.series_columns:
        entry: dict[str, Any] = {"series": column(name), "targetAxis": value_axis}
        style = chart.styles.get(name)
        as_line = style is not None and style.as_line
        if combo:
            entry["type"] = "LINE" if as_line else kind
        if style is not None:
            entry.update(_series_style(style, line=kind == "LINE" or as_line))
        series.append(entry)
    basic: dict[str, Any] = {
        "chartType": "COMBO" if combo else kind,
        "legendPosition": "BOTTOM_LEGEND" if chart.legend else "NO_LEGEND",
        "headerCount": headers,
        "domains": [{"domain": column(chart.category_column)}],
        "series": series,
    }
    if chart.span_gaps:
        basic["interpolateNulls"] = True
    axis: dict[str, Any] = {"position": value_axis}
    if chart.y_title:
        axis["title"] = chart.y_title
    if chart.y_min is not None or chart.y_max is not None:
        window: dict[str, Any] = {"viewWindowMode": "EXPLICIT"}
        if chart.y_min is not None:
            window["viewWindowMin"] = chart.y_min
        if chart.y_max is not None:
            window["viewWindowMax"] = chart.y_max
        axis["viewWindowOptions"] = window
    if len(axis) > 1:
        basic["axis"] = [axis]
    if kind != "LINE":
        basic["stackedType"] = "STACKED" if chart.stacked else "NOT_STACKED"
    spec: dict[str, Any] = {"title": chart.title, "basicChart": basic}
    if chart.title_colour:
        spec["titleTextFormat"] = {"bold": True, "foregroundColor": _rgb(chart.title_colour)}
    row, col = _anchor(chart.anchor)
    return {"addChart": {"chart": {
        "spec": spec,
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
