"""Cells, A1 ranges and value rendering for the fake Sheets API.

Cells are stored the way Sheets stores them: a ``userEnteredValue`` and an ``effectiveValue``
(both ``ExtendedValue`` dicts such as ``{"numberValue": 43831}``) plus a ``userEnteredFormat``.
Dates are numbers with a DATE number format, counted in days from 1899-12-30, so the API's
``valueRenderOption`` / ``dateTimeRenderOption`` can be honoured exactly.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sheetsync.grid import a1, column_number, datetime_from_serial, to_serial

ERROR_TEXT = {
    "NULL_VALUE": "#NULL!",
    "DIVIDE_BY_ZERO": "#DIV/0!",
    "VALUE": "#VALUE!",
    "REF": "#REF!",
    "NAME": "#NAME?",
    "NUM": "#NUM!",
    "N_A": "#N/A",
    "ERROR": "#ERROR!",
    "LOADING": "Loading...",
}
ERROR_TYPE = {text: kind for kind, text in ERROR_TEXT.items()}

DATE_TYPES = {"DATE", "TIME", "DATE_TIME"}


class RangeError(ValueError):
    """An A1 range that the API would reject with "Unable to parse range"."""


@dataclass
class FakeCell:
    """One stored cell; ``None`` fields are absent from API responses."""

    user_value: dict[str, Any] | None = None
    effective_value: dict[str, Any] | None = None
    user_format: dict[str, Any] | None = None
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # dataValidation, hyperlink, ...

    def is_empty(self) -> bool:
        return (self.user_value is None and self.effective_value is None
                and not self.user_format and self.note is None and not self.extra)

    def has_value(self) -> bool:
        return self.effective_value is not None or self.user_value is not None

    def copy(self) -> FakeCell:
        """A new cell to change: a stored cell is never changed in place (a write stores a
        new one), so its values, format and extras are shared, and only the dict of extras
        is new."""
        return FakeCell(self.user_value, self.effective_value, self.user_format, self.note,
                        dict(self.extra))

    @property
    def number_format(self) -> dict[str, Any] | None:
        return (self.user_format or {}).get("numberFormat")


def json_copy(value: Any) -> Any:
    """A copy of a request's JSON (dicts, lists and scalars): what :func:`copy.deepcopy` gives
    for it, at a fraction of the cost, since JSON holds no cycles and no shared objects."""
    if type(value) is dict:
        return {k: json_copy(v) for k, v in value.items()}
    if type(value) is list:
        return [json_copy(v) for v in value]
    return value


# --------------------------------------------------------------------------- A1 notation

_CELL = re.compile(r"^\$?([A-Za-z]{0,3})\$?(\d*)$")


def quote_title(title: str) -> str:
    """Quote a tab title the way the API does in the ranges it returns."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not re.fullmatch(
        r"[A-Za-z]{1,3}\d+", title
    ):
        return title
    return "'" + title.replace("'", "''") + "'"


def split_sheet(text: str) -> tuple[str | None, str | None]:
    """Split ``'My tab'!A1:B2`` into (title, cells); either part may be missing."""
    text = text.strip()
    if text.startswith("'"):
        i = 1
        title = ""
        while i < len(text):
            if text[i] == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    title += "'"
                    i += 2
                    continue
                break
            title += text[i]
            i += 1
        else:
            raise RangeError(text)
        rest = text[i + 1:]
        if not rest:
            return title, None
        if not rest.startswith("!"):
            raise RangeError(text)
        return title, rest[1:] or None
    if "!" in text:
        title, cells = text.rsplit("!", 1)
        return title, cells or None
    return None, text


@dataclass
class Bounds:
    """0-based, end-exclusive; ``None`` means unbounded on that side."""

    row0: int | None
    col0: int | None
    row1: int | None
    col1: int | None


def parse_cells(text: str) -> Bounds:
    """Parse ``A1``, ``A1:B2``, ``A:A``, ``2:5``, ``A2:C``."""
    parts = text.split(":")
    if len(parts) > 2:
        raise RangeError(text)
    ends = []
    for part in parts:
        m = _CELL.match(part.strip())
        if not m or (not m.group(1) and not m.group(2)):
            raise RangeError(text)
        col = column_number(m.group(1)) - 1 if m.group(1) else None
        row = int(m.group(2)) - 1 if m.group(2) else None
        if row is not None and row < 0:
            raise RangeError(text)
        ends.append((row, col))
    (r0, c0) = ends[0]
    if len(ends) == 1:
        if r0 is None or c0 is None:
            raise RangeError(text)
        return Bounds(r0, c0, r0 + 1, c0 + 1)
    (r1, c1) = ends[1]
    row0 = min(r0, r1) if r0 is not None and r1 is not None else (r0 if r0 is not None else 0)
    row_end = max(r0, r1) + 1 if r0 is not None and r1 is not None else None
    if r0 is None and r1 is None:
        row0, row_end = 0, None
    col0 = min(c0, c1) if c0 is not None and c1 is not None else (c0 if c0 is not None else 0)
    col_end = max(c0, c1) + 1 if c0 is not None and c1 is not None else None
    if c0 is None and c1 is None:
        col0, col_end = 0, None
    return Bounds(row0, col0, row_end, col_end)


def format_range(title: str, row0: int, col0: int, row1: int, col1: int) -> str:
    """Render a bounded range the way the API echoes it (``Sheet1!A1:D4``)."""
    start, end = a1(row0 + 1, col0 + 1), a1(row1, col1)
    cells = start if (row1 - row0, col1 - col0) == (1, 1) else f"{start}:{end}"
    return f"{quote_title(title)}!{cells}"


def json_number(value: float) -> int | float:
    """Integral floats are sent as JSON integers, as the real API does (``2`` not ``2.0``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


# --------------------------------------------------------------------------- input parsing

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_PERCENT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)%$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def python_to_cell(value: Any) -> FakeCell | None:
    """A plain Python value as a stored cell (``None`` for empty)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return FakeCell({"boolValue": value}, {"boolValue": value})
    if isinstance(value, (int, float)):
        return FakeCell({"numberValue": value}, {"numberValue": value})
    if isinstance(value, (date, datetime, time)):
        serial = to_serial(value)
        if isinstance(value, datetime):
            kind, pattern = "DATE_TIME", "yyyy-mm-dd hh:mm:ss"
        elif isinstance(value, date):
            kind, pattern = "DATE", "yyyy-mm-dd"
        else:
            kind, pattern = "TIME", "hh:mm:ss"
        return FakeCell({"numberValue": serial}, {"numberValue": serial},
                        {"numberFormat": {"type": kind, "pattern": pattern}})
    text = str(value)
    if text in ERROR_TYPE:
        err = {"errorValue": {"type": ERROR_TYPE[text], "message": text}}
        return FakeCell(None, err)
    return FakeCell({"stringValue": text}, {"stringValue": text})


def raw_input_to_cell(value: Any) -> FakeCell | None:
    """valueInputOption=RAW: strings stay strings whatever they look like."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return FakeCell({"boolValue": value}, {"boolValue": value})
    if isinstance(value, (int, float)):
        return FakeCell({"numberValue": value}, {"numberValue": value})
    text = str(value)
    return FakeCell({"stringValue": text}, {"stringValue": text})


def user_entered_to_cell(value: Any) -> FakeCell | None:
    """valueInputOption=USER_ENTERED: parse as if typed into the UI (en_US locale)."""
    if not isinstance(value, str):
        return raw_input_to_cell(value)
    text = value
    if text == "":
        return None
    if text.startswith("'"):
        return FakeCell({"stringValue": text[1:]}, {"stringValue": text[1:]})
    if text.startswith("="):
        return formula_cell(text)
    stripped = text.strip()
    if stripped.upper() in ("TRUE", "FALSE"):
        flag = stripped.upper() == "TRUE"
        return FakeCell({"boolValue": flag}, {"boolValue": flag})
    if _NUMBER.match(stripped):
        number = float(stripped)
        return FakeCell({"numberValue": number}, {"numberValue": number})
    if _PERCENT.match(stripped):
        number = float(stripped[:-1]) / 100
        decimals = len(stripped[:-1].split(".")[1]) if "." in stripped else 0
        pattern = "0%" if not decimals else "0." + "0" * decimals + "%"
        return FakeCell({"numberValue": number}, {"numberValue": number},
                        {"numberFormat": {"type": "PERCENT", "pattern": pattern}})
    for regex, order, pattern in ((_ISO_DATE, (0, 1, 2), "yyyy-mm-dd"),
                                  (_US_DATE, (2, 0, 1), "m/d/yyyy")):
        m = regex.match(stripped)
        if m:
            parts = [int(g) for g in m.groups()]
            try:
                day = date(parts[order[0]], parts[order[1]], parts[order[2]])
            except ValueError:
                break
            serial = to_serial(day)
            return FakeCell({"numberValue": serial}, {"numberValue": serial},
                            {"numberFormat": {"type": "DATE", "pattern": pattern}})
    return FakeCell({"stringValue": text}, {"stringValue": text})


def formula_cell(formula: str, cached: dict[str, Any] | None = None) -> FakeCell:
    """A formula cell; plain arithmetic is evaluated, anything else keeps ``cached``."""
    effective = cached if cached is not None else evaluate_arithmetic(formula[1:])
    return FakeCell({"formulaValue": formula}, effective)


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.Pow: operator.pow}


def evaluate_arithmetic(expression: str) -> dict[str, Any] | None:
    """Evaluate ``4/2``-style formulas; other formulas have no effective value in the fake."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return None

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = walk(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](walk(node.left), walk(node.right))
        raise ValueError("not arithmetic")

    try:
        return {"numberValue": walk(tree)}
    except ZeroDivisionError:
        return {"errorValue": {"type": "DIVIDE_BY_ZERO",
                               "message": "Function DIVIDE parameter 2 cannot be zero."}}
    except (ValueError, OverflowError):
        return None


def cell_from_user_entered_value(value: dict[str, Any] | None) -> FakeCell:
    """A cell from an API ``ExtendedValue`` (updateCells / appendCells)."""
    if not value:
        return FakeCell()
    if "formulaValue" in value:
        return formula_cell(str(value["formulaValue"]))
    return FakeCell(dict(value), dict(value))


# --------------------------------------------------------------------------- rendering

def render_cell(cell: FakeCell | None, value_render: str, date_render: str) -> Any:
    """The value the values API returns for ``cell`` ("" for empty)."""
    if cell is None or not cell.has_value():
        return ""
    if value_render == "FORMULA" and cell.user_value and "formulaValue" in cell.user_value:
        return cell.user_value["formulaValue"]
    effective = cell.effective_value
    if effective is None:
        return ""
    if "stringValue" in effective:
        return effective["stringValue"]
    if "boolValue" in effective:
        flag = bool(effective["boolValue"])
        return flag if value_render != "FORMATTED_VALUE" else ("TRUE" if flag else "FALSE")
    if "errorValue" in effective:
        return ERROR_TEXT.get(effective["errorValue"].get("type", "ERROR"), "#ERROR!")
    number = float(effective.get("numberValue", 0))
    fmt = cell.number_format
    is_date = bool(fmt) and fmt.get("type") in DATE_TYPES
    if value_render == "FORMATTED_VALUE":
        return format_number(number, fmt)
    if is_date and date_render == "FORMATTED_STRING":
        return format_number(number, fmt)
    return json_number(number)


def formatted_value(cell: FakeCell | None) -> str | None:
    """``formattedValue`` of a cell in grid data."""
    if cell is None or cell.effective_value is None:
        return None
    return str(render_cell(cell, "FORMATTED_VALUE", "FORMATTED_STRING"))


def format_number(number: float, fmt: dict[str, Any] | None) -> str:
    """Format a number with a Sheets number format (the common patterns only)."""
    kind = (fmt or {}).get("type", "NUMBER")
    pattern = (fmt or {}).get("pattern", "")
    if kind in DATE_TYPES:
        return format_datetime(datetime_from_serial(number), pattern or "yyyy-mm-dd")
    if pattern.endswith("%") or kind == "PERCENT":
        body = pattern.rstrip("%") or "0"
        decimals = len(body.split(".")[1]) if "." in body else 0
        return f"{number * 100:.{decimals}f}%"
    if pattern:
        body = pattern.split(";")[0]
        decimals = len(body.split(".")[1].strip("#")) if "." in body else 0
        if "," in body:
            return f"{number:,.{decimals}f}"
        if re.fullmatch(r"[0#]+(\.[0#]+)?", body):
            return f"{number:.{decimals}f}"
    if math.isfinite(number) and number.is_integer():
        return str(int(number))
    return f"{number:.10g}"


def format_datetime(moment: datetime, pattern: str) -> str:
    """Render a Sheets/Excel date pattern such as ``yyyy-mm-dd`` or ``m/d/yyyy h:mm``."""
    tokens = re.findall(r"yyyy|yy|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s|am/pm|.", pattern,
                        flags=re.IGNORECASE)
    out: list[str] = []
    after_hour = False
    for token in tokens:
        low = token.lower()
        if low == "yyyy":
            out.append(f"{moment.year:04d}")
        elif low == "yy":
            out.append(f"{moment.year % 100:02d}")
        elif low == "mmmm":
            out.append(moment.strftime("%B"))
        elif low == "mmm":
            out.append(moment.strftime("%b"))
        elif low in ("mm", "m"):
            value = moment.minute if after_hour else moment.month
            out.append(f"{value:02d}" if low == "mm" else str(value))
        elif low == "dddd":
            out.append(moment.strftime("%A"))
        elif low == "ddd":
            out.append(moment.strftime("%a"))
        elif low in ("dd", "d"):
            out.append(f"{moment.day:02d}" if low == "dd" else str(moment.day))
        elif low in ("hh", "h"):
            out.append(f"{moment.hour:02d}" if low == "hh" else str(moment.hour))
            after_hour = True
            continue
        elif low in ("ss", "s"):
            out.append(f"{moment.second:02d}" if low == "ss" else str(moment.second))
        elif low == "am/pm":
            out.append("AM" if moment.hour < 12 else "PM")
        else:
            out.append(token)
            if token not in ":":
                after_hour = False
            continue
        after_hour = False if low not in ("hh", "h") else after_hour
    return "".join(out)
