"""Sending a write that is too big for one request, without leaders ever seeing half of it.

Google refuses a request body over 10 MiB (400 INVALID_ARGUMENT "Request payload size exceeds
the limit: 10485760 bytes.") and advises staying near 2 MB. A big program's dashboard is tens
of megabytes, almost all of it cell data. This layer sits between the writer, which builds one
``spreadsheets:batchUpdate`` as if size did not matter, and the API:

* a batch that fits under ``limit`` bytes is sent as it is: one call, as before;
* a bigger one is **staged**. The cell data of the biggest tabs is written first, in several
  requests each under the limit, into hidden tabs named ``_sheetsync staging <n>`` that nobody
  reads. Then one small final batch does everything the original batch did, except that each
  staged tab's cell data arrives with one ``copyPaste`` from its staging tab; the staging tabs
  are deleted in the same batch. Google applies a batch atomically, so leaders see the old
  dashboard until the final batch, and the new one after it: never a mix.

The tabs keep their ids (a ``copyPaste`` fills the tab in place, where replacing it would break
every formula and chart of a user's own tabs that refers to it). If any request fails midway,
the dashboard is untouched: only hidden staging tabs were added. They are removed at once when
possible, and otherwise by the next write, which deletes every leftover staging tab first.

This module knows nothing of the dashboard's layout: it works on the API's own request
vocabulary (``updateCells``, ``addSheet``, ``updateSheetProperties``), so the writer's content
can change freely.
"""

from __future__ import annotations

import copy
import json
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

STAGING_PREFIX = "_sheetsync staging "
"""Tabs whose title starts with this are sheetsync's own scratch space (``_sheetsync`` names are
reserved for sheetsync, see :data:`sheetsync.report.model.MANIFEST_TAB`)."""

DEFAULT_LIMIT = 4 * 1024 * 1024
"""Bytes per request: well under Google's 10 MiB limit, near its 2 MB advice, and few calls."""

Send = Callable[[bytes], Any]
"""Sends one ``batchUpdate`` body (JSON bytes) and returns the parsed answer."""


class TooBig(ValueError):
    """The write cannot be cut into requests under the limit (one row alone is bigger)."""


class StagedWriteFailed(Exception):
    """A staging request failed: the dashboard is unchanged (only hidden tabs were added)."""

    def __init__(self, cause: BaseException, sent: int, cleaned: bool) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.sent = sent
        self.cleaned = cleaned


@dataclass(frozen=True)
class ExistingTab:
    """What the sender needs to know of a tab already in the spreadsheet."""

    sheet_id: int
    title: str
    rows: int
    columns: int


@dataclass
class SendReport:
    """How a write went out."""

    requests: int = 0  # batchUpdate calls made
    largest: int = 0  # bytes of the largest body sent
    total: int = 0  # bytes sent
    staged_tabs: list[str] = field(default_factory=list)  # tabs whose data went in parts
    removed_leftovers: int = 0  # staging tabs of an earlier failed write deleted


def encode(body: dict[str, Any]) -> bytes:
    """The JSON bytes sent: compact, UTF-8 (smaller than the spaced, ASCII-escaped default)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


_ROWS_MARK = "\x00sheetsync rows\x00"
_ROWS_MARK_BYTES = encode(_ROWS_MARK)


class _Encoder:
    """Each request's bytes, worked out once per write.

    A write's bytes are almost all cell data, which is measured (to plan the parts), cut (to
    split a big tab) and sent. The rows of an ``updateCells`` are encoded one by one, once, and
    kept with the list that holds them: the request around them, a copy of it aimed at a
    staging tab, or a piece of it, is encoded without its rows and the rows' bytes put in.
    The bytes are exactly :func:`encode`'s (a key keeps its place when its value is replaced).
    """

    def __init__(self) -> None:
        self._rows: dict[int, tuple[list[Any], list[bytes]]] = {}

    def rows(self, rows: list[Any]) -> list[bytes]:
        """The bytes of each row of ``rows`` (the list is kept, so its id is not reused)."""
        known = self._rows.get(id(rows))
        if known is None or known[0] is not rows:
            known = (rows, [encode(row) for row in rows])
            self._rows[id(rows)] = known
        return known[1]

    def adopt(self, rows: list[Any], encoded: list[bytes]) -> None:
        """``rows`` is a slice of rows already encoded (a piece of a split request)."""
        self._rows[id(rows)] = (rows, encoded)

    def request(self, request: dict[str, Any]) -> bytes:
        body = request.get("updateCells")
        if not isinstance(body, dict) or not isinstance(body.get("rows"), list):
            return encode(request)
        shell = encode({**request, "updateCells": {**body, "rows": _ROWS_MARK}})
        rows = b"[" + b",".join(self.rows(body["rows"])) + b"]"
        return shell.replace(_ROWS_MARK_BYTES, rows, 1)

    def size(self, request: dict[str, Any]) -> int:
        return len(self.request(request)) + 1  # and its comma

    def body(self, requests: Sequence[dict[str, Any]]) -> bytes:
        """``encode({"requests": requests})``, from the requests' kept bytes."""
        return b'{"requests":[' + b",".join(self.request(r) for r in requests) + b"]}"


def _size(request: dict[str, Any]) -> int:
    return len(encode(request)) + 1  # and its comma


_EMPTY_BODY = len(encode({"requests": []}))


def body_size(sizes: Sequence[int]) -> int:
    """The bytes of ``{"requests": [...]}`` holding requests of these :func:`_size` sizes (each
    counted with a comma; a body of n requests has n - 1), without encoding it again."""
    return _EMPTY_BODY + sum(sizes) - 1 if sizes else _EMPTY_BODY


def _content_sheet(request: dict[str, Any]) -> int | None:
    """The tab a request writes cell data to, when it is cell data (``updateCells`` with
    rows); None for every other request."""
    body = request.get("updateCells")
    if not isinstance(body, dict) or not body.get("rows"):
        return None
    where = body.get("start") or body.get("range") or {}
    return int(where.get("sheetId", 0))


def _grids(requests: Sequence[dict[str, Any]], existing: dict[int, ExistingTab]
           ) -> dict[int, tuple[int, int]]:
    """Each tab's grid (rows, columns) once the batch has run."""
    grids = {tab.sheet_id: (tab.rows, tab.columns) for tab in existing.values()}
    for request in requests:
        if "addSheet" in request:
            props = request["addSheet"].get("properties", {})
            grid = props.get("gridProperties", {})
            grids[int(props.get("sheetId", -1))] = (int(grid.get("rowCount", 1000)),
                                                    int(grid.get("columnCount", 26)))
        elif "updateSheetProperties" in request:
            body = request["updateSheetProperties"]
            props, fields = body.get("properties", {}), body.get("fields", "")
            sheet_id = int(props.get("sheetId", 0))
            rows, cols = grids.get(sheet_id, (1000, 26))
            grid = props.get("gridProperties", {})
            if "rowCount" in fields and "rowCount" in grid:
                rows = int(grid["rowCount"])
            if "columnCount" in fields and "columnCount" in grid:
                cols = int(grid["columnCount"])
            grids[sheet_id] = (rows, cols)
        elif "deleteSheet" in request:
            grids.pop(int(request["deleteSheet"].get("sheetId", -1)), None)
    return grids


def _staging_id(sheet_id: int, taken: set[int]) -> int:
    staged = zlib.crc32(f"staging {sheet_id}".encode()) & 0x3FFFFFFF or 1
    while staged in taken:
        staged = (staged + 1) & 0x3FFFFFFF or 1
    taken.add(staged)
    return staged


def _ids_in(value: Any, found: set[int]) -> None:
    """Every sheet id a batch names. The cells of an ``updateCells`` (its ``rows``) are not
    walked: a sheet a cell could name (a pivot table's source) is an existing tab or one the
    batch adds, both counted already, and the cells are most of a dashboard's bytes."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "sheetId" and isinstance(item, int):
                found.add(item)
            elif key != "rows":
                _ids_in(item, found)
    elif isinstance(value, list):
        for item in value:
            _ids_in(item, found)


def _retarget(request: dict[str, Any], staged: int) -> dict[str, Any]:
    moved = copy.copy(request["updateCells"])
    for key in ("start", "range"):
        if key in moved:
            moved[key] = {**moved[key], "sheetId": staged}
    return {"updateCells": moved}


def _split(request: dict[str, Any], limit: int, encoder: _Encoder) -> list[dict[str, Any]]:
    """One ``updateCells`` cut into pieces under ``limit`` bytes, by rows."""
    body = request["updateCells"]
    rows = body["rows"]
    encoded = encoder.rows(rows)
    pieces: list[dict[str, Any]] = []
    start = 0
    overhead = _size({"updateCells": {**body, "rows": []}}) + 64
    while start < len(rows):
        size, end = overhead, start
        while end < len(rows):
            row_size = len(encoded[end]) + 1
            if size + row_size > limit and end > start:
                break
            if overhead + row_size > limit:
                raise TooBig(f"row {start + 1} of one request alone is {row_size:,} bytes")
            size += row_size
            end += 1
        piece = {**body, "rows": rows[start:end]}
        encoder.adopt(piece["rows"], encoded[start:end])
        if "start" in body:
            piece["start"] = {**body["start"],
                              "rowIndex": int(body["start"].get("rowIndex", 0)) + start}
        else:
            first = int(body["range"].get("startRowIndex", 0)) + start
            piece["range"] = {**body["range"], "startRowIndex": first}
            if end < len(rows):
                piece["range"]["endRowIndex"] = first + (end - start)
        pieces.append({"updateCells": piece})
        start = end
    return pieces


def _pack(requests: list[dict[str, Any]], limit: int, encoder: _Encoder
          ) -> list[list[dict[str, Any]]]:
    """Consecutive requests grouped into bodies under ``limit`` bytes, in order."""
    bodies: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = _EMPTY_BODY
    for request in requests:
        whole = encoder.size(request)
        pieces = [request]
        if whole + 16 > limit:
            if _content_sheet(request) is None:
                raise TooBig(f"a {next(iter(request))} request alone is {whole:,} bytes")
            pieces = _split(request, limit - 16, encoder)
        for piece in pieces:
            piece_size = whole if piece is request else encoder.size(piece)
            if current and size + piece_size > limit:
                bodies.append(current)
                current, size = [], _EMPTY_BODY
            current.append(piece)
            size += piece_size
    if current:
        bodies.append(current)
    return bodies


def plan(requests: list[dict[str, Any]], existing: Sequence[ExistingTab], limit: int,
         encoder: _Encoder | None = None
         ) -> tuple[list[list[dict[str, Any]]], list[dict[str, Any]], dict[int, int]]:
    """How to send ``requests``: (staging bodies, the final batch, staged tab -> staging tab).

    With no staging bodies the final batch is the whole write, in one request.
    """
    encoder = encoder or _Encoder()
    tabs = {tab.sheet_id: tab for tab in existing}
    leftovers = [tab.sheet_id for tab in existing if tab.title.startswith(STAGING_PREFIX)]
    cleanup = [{"deleteSheet": {"sheetId": sheet_id}} for sheet_id in leftovers]
    whole = cleanup + requests
    sizes = [encoder.size(request) for request in requests]
    if body_size([_size(r) for r in cleanup] + sizes) <= limit:
        return [], whole, {}
    # Stage the tabs with the most cell data until the rest fits in one request.
    content: dict[int, int] = {}
    for request, size in zip(requests, sizes, strict=True):
        sheet_id = _content_sheet(request)
        if sheet_id is not None:
            content[sheet_id] = content.get(sheet_id, 0) + size
    staged: list[int] = []
    remaining = body_size(sizes)
    for sheet_id, size in sorted(content.items(), key=lambda item: -item[1]):
        if remaining <= limit // 2:  # room for the copyPaste and delete requests, and more
            break
        staged.append(sheet_id)
        remaining -= size
    taken: set[int] = set(tabs)
    _ids_in(requests, taken)
    staging = {sheet_id: _staging_id(sheet_id, taken) for sheet_id in staged}
    grids = _grids(requests, tabs)
    pending: list[dict[str, Any]] = list(cleanup)
    for sheet_id, staged_id in staging.items():
        rows, cols = grids.get(sheet_id, (1000, 26))
        pending.append({"addSheet": {"properties": {
            "sheetId": staged_id, "title": f"{STAGING_PREFIX}{staged_id}", "hidden": True,
            "gridProperties": {"rowCount": rows, "columnCount": cols}}}})
        pending += [_retarget(r, staged_id) for r in requests if _content_sheet(r) == sheet_id]
    final: list[dict[str, Any]] = []
    pasted: set[int] = set()
    for request in requests:
        sheet_id = _content_sheet(request)
        if sheet_id not in staging:
            final.append(request)
            continue
        if sheet_id in pasted:
            continue
        # Where the tab's first cell data went: after its clearing and resizing, before its
        # formats, rules, filters and charts, which follow in the batch as before.
        pasted.add(sheet_id)
        rows, cols = grids.get(sheet_id, (1000, 26))
        box = {"startRowIndex": 0, "endRowIndex": rows, "startColumnIndex": 0,
               "endColumnIndex": cols}
        final.append({"copyPaste": {"source": {"sheetId": staging[sheet_id], **box},
                                    "destination": {"sheetId": sheet_id, **box},
                                    "pasteType": "PASTE_NORMAL",
                                    "pasteOrientation": "NORMAL"}})
    final += [{"deleteSheet": {"sheetId": staged_id}} for staged_id in staging.values()]
    final_size = body_size([encoder.size(request) for request in final])
    if final_size > limit:
        raise TooBig("the final batch (formats, rules, charts and the swap) is "
                     f"{final_size:,} bytes")
    return _pack(pending, limit, encoder), final, staging


def send(requests: list[dict[str, Any]], existing: Sequence[ExistingTab], send_body: Send, *,
         limit: int = DEFAULT_LIMIT, titles: dict[int, str] | None = None) -> SendReport:
    """Send ``requests`` as one ``batchUpdate``, or staged (see the module docstring).

    A failure of the final batch is raised as it is (the writer decides whether to re-read and
    try again); a failure before it raises :class:`StagedWriteFailed`, the dashboard unchanged.
    """
    encoder = _Encoder()
    bodies, final, staging = plan(requests, existing, limit, encoder)
    report = SendReport(removed_leftovers=sum(
        1 for tab in existing if tab.title.startswith(STAGING_PREFIX)))
    report.staged_tabs = [(titles or {}).get(sheet_id, str(sheet_id)) for sheet_id in staging]

    def out(body: list[dict[str, Any]]) -> Any:
        data = encoder.body(body)
        answer = send_body(data)
        report.requests += 1
        report.largest = max(report.largest, len(data))
        report.total += len(data)
        return answer

    created: list[int] = []
    for body in bodies:
        try:
            out(body)
        except Exception as exc:
            raise StagedWriteFailed(exc, report.requests, _clean_up(
                created, send_body, report)) from exc
        created += [int(r["addSheet"]["properties"]["sheetId"]) for r in body if "addSheet" in r]
    out(final)
    return report


def _clean_up(created: list[int], send_body: Send, report: SendReport) -> bool:
    """Delete the staging tabs of a write that failed midway (best effort: the next write
    removes whatever is left)."""
    if not created:
        return True
    deletes = [{"deleteSheet": {"sheetId": staged_id}} for staged_id in created]
    try:
        send_body(encode({"requests": deletes}))
    except Exception:  # noqa: BLE001 - the next write removes leftover staging tabs
        return False
    report.requests += 1
    return True
