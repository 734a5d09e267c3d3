"""Big tables, scoped for Google Sheets: the most recent rows that make a good read.

A 1,000-coach program's "Minutes by week and group" table has 40,000 rows (each coach, each
week, each activity group), and 120,000 at 3,000 coaches: slow to open and scroll in Sheets,
and most of the request budget of a write. Past ``max_tab_rows`` rows (``[google]``, default
20,000), a table with a date column keeps its **most recent weeks**, whole: every coach, every
group, for the latest dates that fit. Its title says what was kept and where the rest is::

    Minutes by week and group: the latest 5 weeks (from 2026-10-12), 20,000 of 40,000 rows.
    Every week is in the Excel dashboard (sheetsync run --output dashboard.xlsx).

What a leader still gets: every per-coach and per-team figure (the "Per coach" totals beside it
cover the whole program), the whole Dashboard, and every week of the latest weeks. Only older
weekly detail rows are left out, and they stay in the Excel output. A table without a date
column, or one a chart draws from, is never cut. Excel output is never scoped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sheetsync.report.model import Sheet, Table


@dataclass(frozen=True)
class Scoped:
    """One table that was cut."""

    tab: str
    title: str
    kept_rows: int
    all_rows: int
    dates: int  # distinct dates kept
    since: date


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def _date_column(table: Table) -> int | None:
    """The first column whose values are all dates (ignoring blanks), if any."""
    for index in range(len(table.columns)):
        seen = False
        for row in table.rows:
            value = row[index] if index < len(row) else None
            if value is None:
                continue
            if _as_date(value) is None:
                break
            seen = True
        else:
            if seen:
                return index
    return None


def scope_table(table: Table, max_rows: int) -> tuple[Table, tuple[int, int, date] | None]:
    """``table`` with only its latest dates' rows when it has more than ``max_rows``;
    (kept rows, distinct dates kept, first date kept) when cut."""
    if len(table.rows) <= max_rows or not table.title:
        return table, None
    column = _date_column(table)
    if column is None:
        return table, None
    counts: dict[date, int] = {}
    for row in table.rows:
        day = _as_date(row[column]) if column < len(row) else None
        if day is not None:
            counts[day] = counts.get(day, 0) + 1
    undated = len(table.rows) - sum(counts.values())
    kept_days: list[date] = []
    total = undated
    for day in sorted(counts, reverse=True):
        if total + counts[day] > max_rows and kept_days:
            break
        kept_days.append(day)
        total += counts[day]
    since = min(kept_days)
    rows = [row for row in table.rows
            if (d := _as_date(row[column]) if column < len(row) else None) is None
            or d >= since]
    word = "week" if _weekly(sorted(counts)) else "date"
    title = (f"{table.title}: the latest {len(kept_days)} {word}{'s' * (len(kept_days) != 1)} "
             f"(from {since.isoformat()}), {len(rows):,} of {len(table.rows):,} rows. Every "
             f"{word} is in the Excel dashboard (sheetsync run --output dashboard.xlsx).")
    return replace(table, rows=rows, title=title), (len(rows), len(kept_days), since)


def _weekly(days: list[date]) -> bool:
    return len(days) > 1 and all((b - a).days % 7 == 0 for a, b in zip(days, days[1:],
                                                                        strict=False))


def scope_sheets(sheets: list[Sheet], max_rows: int) -> tuple[list[Sheet], list[Scoped]]:
    """Every managed tab, with its over-long dated tables scoped (see the module docstring)."""
    out: list[Sheet] = []
    cuts: list[Scoped] = []
    for sheet in sheets:
        charted = {id(chart.table) for chart in sheet.charts}
        tables = []
        changed = False
        for table in sheet.tables:
            if id(table) in charted or sheet.append_only:
                tables.append(table)
                continue
            scoped, cut = scope_table(table, max_rows)
            tables.append(scoped)
            if cut is not None:
                changed = True
                cuts.append(Scoped(sheet.name, table.title or "", cut[0], len(table.rows),
                                   cut[1], cut[2]))
        out.append(replace(sheet, tables=tables) if changed else sheet)
    return out, cuts
