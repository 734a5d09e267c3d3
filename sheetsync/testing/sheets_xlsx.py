"""Save a Google spreadsheet, as ``spreadsheets.get`` returns it, as an ``.xlsx`` to look at.

The fake Google API holds what a run wrote to a dashboard spreadsheet: its tabs, values,
formats, column widths and row heights, frozen rows, filters, conditional colours and charts
(``addChart`` specs). :func:`spreadsheet_to_xlsx` carries all of that into a workbook, the way
Sheets would draw it, so the Google dashboard can be rendered with LibreOffice and compared
with the Excel one (see ``bench/render_dashboard.py``). It is the inverse of
:mod:`sheetsync.testing.fake_xlsx`, for looking, not for round trips: a ``SPARKLINE`` becomes
a line of block characters drawn from its range, since no desktop program draws Google's.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sheetsync.grid import a1, column_letter, column_number, date_from_serial, datetime_from_serial

BLOCKS = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"
_SPARKLINE = re.compile(r"^=SPARKLINE\((?:'((?:[^']|'')*)'|([^!]+))!([A-Z]+)(\d+):([A-Z]+)(\d+)",
                        re.I)
_MARKERS = {"CIRCLE": "circle", "DIAMOND": "diamond", "TRIANGLE": "triangle",
            "SQUARE": "square"}
_DASHES = {"MEDIUM_DASHED": "dash", "DOTTED": "sysDot", "LONG_DASHED": "lgDash"}


def spreadsheet_to_xlsx(resource: dict[str, Any], path: Path) -> Path:
    """Write ``resource`` (a ``Spreadsheet`` with grid data) to ``path`` as an .xlsx."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    sheets = sorted(resource.get("sheets", []), key=lambda s: s["properties"].get("index", 0))
    by_id = {s["properties"]["sheetId"]: s for s in sheets}
    values = {s["properties"]["title"]: _grid_values(s) for s in sheets}
    for sheet in sheets:
        props = sheet["properties"]
        ws = workbook.create_sheet(props["title"])
        if props.get("hidden"):
            ws.sheet_state = "hidden"
        _cells(ws, sheet, by_id, values)
        _dimensions(ws, sheet)
        frozen = props.get("gridProperties", {}).get("frozenRowCount", 0)
        if frozen:
            ws.freeze_panes = f"A{frozen + 1}"
        for merge in sheet.get("merges", []):
            ws.merge_cells(_a1_range(merge))
        if sheet.get("basicFilter"):
            ws.auto_filter.ref = _a1_range(sheet["basicFilter"]["range"])
        for rule in sheet.get("conditionalFormats", []):
            _conditional(ws, rule)
    for sheet in sheets:
        ws = workbook[sheet["properties"]["title"]]
        for chart in sheet.get("charts", []):
            _chart(ws, chart, by_id)
    visible = [i for i, s in enumerate(sheets) if not s["properties"].get("hidden")]
    if visible:
        workbook.active = visible[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _grid_values(sheet: dict[str, Any]) -> dict[tuple[int, int], Any]:
    """Each cell's effective value by (row, column), 0-based."""
    found: dict[tuple[int, int], Any] = {}
    for block in sheet.get("data", []):
        row0, col0 = block.get("startRow", 0), block.get("startColumn", 0)
        for r, row in enumerate(block.get("rowData", [])):
            for c, cell in enumerate(row.get("values", [])):
                value = cell.get("effectiveValue", {})
                found[(row0 + r, col0 + c)] = next(iter(value.values()), None) if value else None
    return found


def _rgb(colour: dict[str, Any] | None) -> str | None:
    if not colour:
        return None
    return "FF" + "".join(f"{round(colour.get(k, 0) * 255):02X}"
                          for k in ("red", "green", "blue"))


def _cells(ws: Any, sheet: dict[str, Any], by_id: dict[int, Any],
           values: dict[str, dict[tuple[int, int], Any]]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink

    for block in sheet.get("data", []):
        row0, col0 = block.get("startRow", 0), block.get("startColumn", 0)
        for r, row in enumerate(block.get("rowData", [])):
            for c, data in enumerate(row.get("values", [])):
                if not data:
                    continue
                cell = ws.cell(row=row0 + r + 1, column=col0 + c + 1)
                entered = data.get("userEnteredValue", {})
                fmt = data.get("userEnteredFormat", {})
                kind = fmt.get("numberFormat", {}).get("type")
                if "formulaValue" in entered:
                    cell.value = _sparkline(entered["formulaValue"], values) or "(formula)"
                elif "stringValue" in entered:
                    cell.value = entered["stringValue"]
                    cell.data_type = "s"
                elif "numberValue" in entered:
                    number = entered["numberValue"]
                    cell.value = (date_from_serial(number) if kind == "DATE"
                                  else datetime_from_serial(number) if kind == "DATE_TIME"
                                  else number)
                elif "boolValue" in entered:
                    cell.value = entered["boolValue"]
                pattern = fmt.get("numberFormat", {}).get("pattern")
                if pattern:
                    cell.number_format = pattern
                elif isinstance(cell.value, datetime | date | time):
                    cell.number_format = "yyyy-mm-dd"
                text = fmt.get("textFormat", {})
                if text:
                    cell.font = Font(bold=text.get("bold"), italic=text.get("italic"),
                                     size=text.get("fontSize"),
                                     underline="single" if text.get("underline") else None,
                                     color=_rgb(text.get("foregroundColor")))
                    uri = text.get("link", {}).get("uri", "")
                    target = re.match(r"#gid=(\d+)&range=([A-Z]+\d+)", uri)
                    if target and int(target.group(1)) in by_id:
                        tab = by_id[int(target.group(1))]["properties"]["title"]
                        cell.hyperlink = Hyperlink(ref=cell.coordinate,
                                                   location=f"'{tab}'!{target.group(2)}")
                background = _rgb(fmt.get("backgroundColor"))
                if background:
                    cell.fill = PatternFill(fill_type="solid", start_color=background,
                                            end_color=background)
                if fmt.get("wrapStrategy") or fmt.get("verticalAlignment"):
                    vertical = {"TOP": "top", "MIDDLE": "center"}
                    cell.alignment = Alignment(
                        wrap_text=fmt.get("wrapStrategy") == "WRAP" or None,
                        vertical=vertical.get(fmt.get("verticalAlignment", "")))


def _sparkline(formula: str, values: dict[str, dict[tuple[int, int], Any]]) -> str | None:
    """A ``=SPARKLINE('Tab'!B3:B13)`` as block characters, one per value, blanks as spaces."""
    found = _SPARKLINE.match(formula)
    if found is None:
        return None
    tab = (found.group(1) or "").replace("''", "'") or found.group(2)
    col0, col1 = column_number(found.group(3)) - 1, column_number(found.group(5)) - 1
    row0, row1 = int(found.group(4)) - 1, int(found.group(6)) - 1
    grid = values.get(tab, {})
    points = [grid.get((r, c)) for r in range(row0, row1 + 1) for c in range(col0, col1 + 1)]
    numbers = [p for p in points if isinstance(p, int | float)]
    if not numbers:
        return ""
    low, high = min(numbers), max(numbers)
    span = (high - low) or 1
    return "".join(" " if not isinstance(p, int | float)
                   else BLOCKS[round((p - low) / span * (len(BLOCKS) - 1))] for p in points)


def _dimensions(ws: Any, sheet: dict[str, Any]) -> None:
    from openpyxl.utils import get_column_letter

    for block in sheet.get("data", []):
        col0, row0 = block.get("startColumn", 0), block.get("startRow", 0)
        for c, meta in enumerate(block.get("columnMetadata", [])):
            pixels = meta.get("pixelSize", 100)
            ws.column_dimensions[get_column_letter(col0 + c + 1)].width = \
                max(0.0, (pixels - 5) / 7)
        for r, meta in enumerate(block.get("rowMetadata", [])):
            pixels = meta.get("pixelSize", 21)
            if pixels != 21:
                ws.row_dimensions[row0 + r + 1].height = pixels * 0.75


def _a1_range(grid: dict[str, Any]) -> str:
    return (f"{a1(grid.get('startRowIndex', 0) + 1, grid.get('startColumnIndex', 0) + 1)}:"
            f"{a1(grid['endRowIndex'], grid['endColumnIndex'])}")


def _conditional(ws: Any, rule: dict[str, Any]) -> None:
    from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, FormulaRule
    from openpyxl.styles import PatternFill

    ranges = " ".join(_a1_range(r) for r in rule.get("ranges", []))
    if "booleanRule" in rule:
        condition = rule["booleanRule"]["condition"]
        colour = _rgb(rule["booleanRule"].get("format", {}).get("backgroundColor"))
        fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
        value = condition.get("values", [{}])[0].get("userEnteredValue", "")
        if condition["type"] == "TEXT_EQ":
            ws.conditional_formatting.add(ranges, CellIsRule(
                operator="equal", formula=['"' + value.replace('"', '""') + '"'], fill=fill))
        elif condition["type"] == "CUSTOM_FORMULA":
            ws.conditional_formatting.add(ranges, FormulaRule(formula=[value.lstrip("=")],
                                                              fill=fill))
        return
    gradient = rule.get("gradientRule", {})
    low, high = gradient.get("minpoint", {}), gradient.get("maxpoint", {})
    kinds = {"NUMBER": "num", "MAX": "max", "MIN": "min", "PERCENT": "percent"}
    ws.conditional_formatting.add(ranges, ColorScaleRule(
        start_type=kinds[low.get("type", "MIN")], start_value=low.get("value"),
        start_color=_rgb(low.get("color")), end_type=kinds[high.get("type", "MAX")],
        end_value=high.get("value"), end_color=_rgb(high.get("color"))))


def _title(text: str, colour: str | None) -> Any:
    from openpyxl.chart.text import RichText, Text
    from openpyxl.chart.title import Title
    from openpyxl.drawing.text import (
        CharacterProperties,
        Paragraph,
        ParagraphProperties,
        RegularTextRun,
    )

    run = CharacterProperties(sz=1200, b=True, solidFill=colour[2:] if colour else None)
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=run), r=[RegularTextRun(rPr=run, t=text)])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def _chart(ws: Any, chart: dict[str, Any], by_id: dict[int, Any]) -> None:
    """One ``basicChart``, drawn with openpyxl as Sheets draws it."""
    from openpyxl.chart import BarChart, LineChart, Series
    from openpyxl.chart.data_source import AxDataSource, NumRef, StrRef
    from openpyxl.chart.label import DataLabelList
    from openpyxl.chart.marker import Marker
    from openpyxl.chart.series import SeriesLabel
    from openpyxl.chart.shapes import GraphicalProperties
    from openpyxl.utils import quote_sheetname

    spec = chart["spec"]
    basic = spec.get("basicChart")
    if basic is None:
        return

    def ref(part: dict[str, Any], header: bool) -> tuple[str, str | None]:
        grid = part["sourceRange"]["sources"][0]
        tab = quote_sheetname(by_id[grid["sheetId"]]["properties"]["title"])
        col = grid["startColumnIndex"] + 1
        first = grid["startRowIndex"] + 1 + (1 if header else 0)
        letter = column_letter(col)
        cells = f"{tab}!${letter}${first}:${letter}${grid['endRowIndex']}"
        title = f"{tab}!${letter}${first - 1}" if header else None
        return cells, title

    header = basic.get("headerCount", 0) == 1
    kind = basic["chartType"]
    bars = kind in ("COLUMN", "BAR") or (kind == "COMBO" and any(
        s.get("type") in ("COLUMN", "BAR") for s in basic["series"]))
    drawing = BarChart() if bars else LineChart()
    lines = LineChart() if kind == "COMBO" else None
    if bars:
        drawing.type = "bar" if kind == "BAR" else "col"
        if basic.get("stackedType") == "STACKED":
            drawing.grouping, drawing.overlap = "stacked", 100
    categories = ref(basic["domains"][0]["domain"], header)[0]
    for part in basic["series"]:
        cells, title = ref(part["series"], header)
        series = Series(cells)
        if title:
            series.tx = SeriesLabel(strRef=StrRef(title))
        series.cat = AxDataSource(numRef=NumRef(f=categories))
        colour = _rgb(part.get("colorStyle", {}).get("rgbColor"))
        as_line = not bars or part.get("type") == "LINE"
        series.graphicalProperties = GraphicalProperties()
        if colour and not as_line:
            series.graphicalProperties.solidFill = colour[2:]
        if as_line:
            series.smooth = False
            style = part.get("lineStyle", {})
            if style.get("type") == "INVISIBLE":
                series.graphicalProperties.line.noFill = True
            elif colour:
                series.graphicalProperties.line.solidFill = colour[2:]
                series.graphicalProperties.line.width = style.get("width", 2) * 9525
                if style.get("type") in _DASHES:
                    series.graphicalProperties.line.prstDash = _DASHES[style["type"]]
            point = part.get("pointStyle")
            series.marker = Marker(symbol=_MARKERS.get(point.get("shape", ""), "circle")
                                   if point else "none",
                                   size=int(point.get("size", 5)) if point else None)
            if point and colour:
                series.marker.graphicalProperties = GraphicalProperties(solidFill=colour[2:])
                series.marker.graphicalProperties.line.solidFill = colour[2:]
            if part.get("dataLabel", {}).get("type") == "DATA":
                series.dLbls = DataLabelList(showVal=True, showSerName=False,
                                             showCatName=False, showLegendKey=False,
                                             showPercent=False, dLblPos="t")
        (lines if lines is not None and part.get("type") == "LINE" else drawing).series.append(
            series)
    drawing.title = _title(spec.get("title", ""), _rgb(spec.get("titleTextFormat", {})
                                                     .get("foregroundColor")))
    if basic.get("legendPosition") == "NO_LEGEND":
        drawing.legend = None
    else:
        drawing.legend.position = "b"
    if basic.get("interpolateNulls"):
        drawing.display_blanks = "span"
    for axis in basic.get("axis", []):
        if axis.get("position") in ("LEFT_AXIS", "BOTTOM_AXIS" if kind == "BAR" else ""):
            if axis.get("title"):
                drawing.y_axis.title = axis["title"]
            window = axis.get("viewWindowOptions", {})
            if "viewWindowMin" in window:
                drawing.y_axis.scaling.min = window["viewWindowMin"]
            if "viewWindowMax" in window:
                drawing.y_axis.scaling.max = window["viewWindowMax"]
    drawing.x_axis.delete = drawing.y_axis.delete = False
    position = chart["position"]["overlayPosition"]
    anchor = position["anchorCell"]
    drawing.width = position.get("widthPixels", 600) / 37.8
    drawing.height = position.get("heightPixels", 371) / 37.8
    if lines is not None and lines.series:
        drawing += lines
    ws.add_chart(drawing, a1(anchor.get("rowIndex", 0) + 1, anchor.get("columnIndex", 0) + 1))
