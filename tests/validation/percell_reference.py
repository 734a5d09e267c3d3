"""The cell-by-cell reading of a table, as it was before columns were read by distinct value.

Kept in the tests only, as the reference that :mod:`sheetsync.validation.workbook`'s column
reading must match finding for finding and value for value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sheetsync.backends.base import RawTab
from sheetsync.findings import Severity
from sheetsync.grid import a1
from sheetsync.schema import ActivityMatcher, ColumnSpec, TabSpec, normalise_label
from sheetsync.validation import cells
from sheetsync.validation.cells import CellProblem, show
from sheetsync.validation.layout import (
    BLANK,
    SUBTOTAL,
    TOTAL,
    HeaderMatch,
    SkippedRow,
    classify_row,
)
from sheetsync.validation.workbook import (
    WARNING_CODES,
    TabReading,
    ValidationContext,
    _check_value,
    _Collector,
    _forget_unknown,
    _parser_for,
    _row_text,
    _unlabelled_total,
    finish_table,
)


def parse_cell(col: ColumnSpec, parse: Callable[[Any], Any], raw: Any, ctx: ValidationContext,
                unit: str | None, collect: _Collector, tab: str, cell: str) -> Any:
    try:
        value = parse(raw)
        if value is not None:
            _check_value(col, value, ctx, unit, collect.window)
        if isinstance(raw, str) and len(raw) > cells.MAX_CELL_CHARS:
            collect.add("cell-too-long", Severity.WARNING,
                        f"{col.name} holds {len(raw):,} characters; only the first "
                        f"{cells.MAX_CELL_CHARS:,} are used.", "Shorten the text.",
                        tab=tab, cell=cell, value=show(raw))
        return value
    except CellProblem as problem:
        if problem.code == "unknown-activity":
            text = cells.parse_text(raw) or ""
            collect.unknown_activities.setdefault(normalise_label(text), []).append(
                (tab, cell, text))
            collect.unknown_count += 1
            return text
        severity = Severity.WARNING if problem.code in WARNING_CODES else Severity.ERROR
        collect.add(problem.code, severity, f"{col.name}: {problem.message}", problem.hint,
                    tab=tab, cell=cell, value=show(raw), private=col.private)
        if problem.code == "future-date":
            return value  # kept: a future date is suspicious, not unusable
        return None



def table_records(tab: RawTab, spec: TabSpec, header: HeaderMatch, ctx: ValidationContext,
                   collect: _Collector, unit: str | None, activities: ActivityMatcher,
                   reading: TabReading) -> list[dict[str, Any]]:
    parsers = {key: (spec.column(key),
                     _parser_for(spec.column(key), ctx, unit, activities, collect.window))
               for key in header.columns}
    lo, hi = header.span
    extra_cols = {j: f"extra:{text}" for j, text in header.unknown.items()}
    numeric = [k for k, (c, _) in parsers.items() if c.type in ("number", "int", "metric")]
    records: list[dict[str, Any]] = []
    skipped: list[SkippedRow] = []
    since_total = 0  # records after the last total row
    rows = tab.rows
    for i in range(header.row + 1, len(rows)):
        row = rows[i]
        if not row or all(v is None for v in row[lo:hi]):
            if collect.inspecting:
                outside = [v for v in row if v is not None]
                skipped.append(SkippedRow(i + 1, BLANK) if not outside else SkippedRow(
                    i + 1, "outside the table", _row_text(row)))
            continue
        values = {key: row[j] if j < len(row) else None for key, j in header.columns.items()}
        if all(cells.is_missing(v) for v in values.values()):
            continue
        before = len(collect.items)
        unknown_before = collect.unknown_count
        record: dict[str, Any] = {"row": i + 1, "_tab": tab.name}
        troubled = False
        for key, (col, parse) in parsers.items():
            raw = values[key]
            j = header.columns[key]
            if raw is None or cells.is_missing(raw):
                record[key] = None
                if col.required:
                    troubled = True
                    collect.add("missing-required", Severity.ERROR, f"{col.name} is blank.",
                                f"Fill in {col.name} for this row, or delete the row.",
                                tab=tab.name, cell=a1(i + 1, j + 1))
                continue
            record[key] = parse_cell(col, parse, raw, ctx, unit, collect, tab.name,
                                      a1(i + 1, j + 1))
            if record[key] is None:
                record.setdefault("_invalid", set()).add(key)
            if col.type == "metric" and isinstance(raw, str):
                record[f"_raw_{key}"] = raw
        unknown_now = collect.unknown_count
        if troubled or len(collect.items) != before or unknown_now != unknown_before:
            # Not a clean data row: perhaps a total, a repeated header or a note.
            kind = classify_row(row, header, spec)
            if kind is None and numeric:
                kind = _unlabelled_total(record, records, since_total, numeric, spec)
            if kind is not None:
                del collect.items[before:]
                if unknown_now != unknown_before:
                    _forget_unknown(collect, tab.name, i + 1, header)
                skipped.append(SkippedRow(i + 1, kind[0], kind[1]))
                if kind[0] in (TOTAL, SUBTOTAL):
                    since_total = len(records)
                continue
        for key in spec.columns:
            record.setdefault(key.key, None)
        for j, name in extra_cols.items():
            record[name] = row[j] if j < len(row) else None
        records.append(record)
    finish_table(collect, reading, spec, tab, header, records, skipped)
    return records
