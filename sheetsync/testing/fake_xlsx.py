"""Upload an ``.xlsx`` file into the fake Google API the way Drive's converter would.

Formulas keep their cached results as effective values; date cells become serial numbers with a
DATE number format; hidden rows, hidden tabs, frozen rows and merged ranges carry over.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sheetsync.grid import to_serial
from sheetsync.testing.fake_cells import ERROR_TYPE, FakeCell, formula_cell, python_to_cell
from sheetsync.testing.fake_sheets import DEFAULT_COLUMNS, DEFAULT_ROWS, FakeSheet, new_sheet


def _number_format(excel_format: str, value: Any) -> dict[str, Any] | None:
    pattern = excel_format.lower().replace("\\", "").replace('"', "")
    if isinstance(value, datetime) and (value.time() != time(0) or "h" in pattern):
        return {"type": "DATE_TIME", "pattern": pattern or "yyyy-mm-dd hh:mm:ss"}
    if isinstance(value, date):
        return {"type": "DATE", "pattern": pattern if pattern != "general" else "yyyy-mm-dd"}
    if isinstance(value, (time, timedelta)):
        return {"type": "TIME", "pattern": pattern if pattern != "general" else "hh:mm:ss"}
    if excel_format in ("General", ""):
        return None
    if "%" in excel_format:
        return {"type": "PERCENT", "pattern": excel_format}
    return {"type": "NUMBER", "pattern": excel_format}


def _stored_cell(formula_value: Any, cached: Any, excel_format: str, is_error: bool
                 ) -> FakeCell | None:
    if is_error and isinstance(cached, str):
        effective = {"errorValue": {"type": ERROR_TYPE.get(cached, "ERROR"), "message": cached}}
    elif isinstance(cached, str):
        effective = {"stringValue": cached} if cached != "" else None
    elif isinstance(cached, (date, datetime, time, timedelta)):
        effective = {"numberValue": to_serial(cached)}
    else:
        plain = python_to_cell(cached)
        effective = plain.effective_value if plain else None
    fmt = _number_format(excel_format, cached)
    if isinstance(formula_value, str) and formula_value.startswith("="):
        cell = formula_cell(formula_value, effective)
    elif effective is None:
        return None
    else:
        user = dict(effective) if "errorValue" not in effective else {"stringValue": cached}
        cell = FakeCell(user, effective)
    if fmt:
        cell.user_format = {"numberFormat": fmt}
    return cell


def sheets_from_xlsx(path: Path | bytes) -> list[FakeSheet]:
    """Read every worksheet of ``path`` (or an uploaded file's bytes) into fake tabs (sheet
    ids 0, 1, 2, ...)."""
    import io

    from openpyxl import load_workbook

    def source() -> Path | io.BytesIO:
        return io.BytesIO(path) if isinstance(path, bytes) else path

    formulas = load_workbook(source(), data_only=False)
    cached = load_workbook(source(), data_only=True)
    sheets: list[FakeSheet] = []
    for index, ws in enumerate(formulas.worksheets):
        values_ws = cached[ws.title]
        rows = max(DEFAULT_ROWS, ws.max_row)
        cols = max(DEFAULT_COLUMNS, ws.max_column)
        sheet = new_sheet(index, ws.title, index, rows, cols)
        for row in ws.iter_rows():
            for cell in row:
                if getattr(cell, "coordinate", None) is None or cell.value is None:
                    continue
                value_cell = values_ws.cell(row=cell.row, column=cell.column)
                stored = _stored_cell(cell.value, value_cell.value, cell.number_format,
                                      value_cell.data_type == "e" or cell.data_type == "e")
                if stored is not None:
                    sheet.set_cell(cell.row - 1, cell.column - 1, stored)
        for number, dim in ws.row_dimensions.items():
            if dim.hidden:
                sheet.row_metadata[number - 1] = {"hiddenByUser": True}
        if ws.sheet_state != "visible":
            sheet.properties["hidden"] = True
        if ws.freeze_panes:
            frozen_row = ws[ws.freeze_panes].row - 1
            if frozen_row:
                sheet.properties["gridProperties"]["frozenRowCount"] = frozen_row
        for merged in ws.merged_cells.ranges:
            sheet.merges.append({
                "sheetId": index,
                "startRowIndex": merged.min_row - 1, "endRowIndex": merged.max_row,
                "startColumnIndex": merged.min_col - 1, "endColumnIndex": merged.max_col,
            })
        sheets.append(sheet)
    if sheets and all(s.properties.get("hidden") for s in sheets):
        sheets[0].properties.pop("hidden")
    return sheets
