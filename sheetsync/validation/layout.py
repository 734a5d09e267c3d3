"""Finding the data in a tab: which tabs match, where the header row is, which column is which.

People put titles, school names and instructions above their headers, rename columns, and split
a log into a tab per month. This module maps all of that onto the schema without changing anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sheetsync.backends.base import RawTab, RawWorkbook
from sheetsync.report.model import FLAGS_TAB
from sheetsync.schema import TabSpec, load_schema, normalise_label
from sheetsync.validation.cells import MONTHS

HEADER_SCAN_ROWS = 20
MANAGED_SOURCE_TABS = {normalise_label(FLAGS_TAB)}
_MONTH_WORDS = sorted(MONTHS, key=len, reverse=True)


def _strip_period_words(label: str) -> str:
    """Remove month names and years, so "Time Log - Sept 2026" matches "Time Log"."""
    out = re.sub(r"(19|20)\d{2}", "", label)
    for word in _MONTH_WORDS:
        if out.startswith(word):
            out = out[len(word):]
            break
    for word in _MONTH_WORDS:
        if out.endswith(word):
            out = out[: -len(word)]
            break
    return out


def match_tabs(tabs: dict[str, RawTab], spec: TabSpec) -> list[RawTab]:
    """The workbook's tabs that hold ``spec``: an exact (alias) match, else every per-month tab."""
    labels = spec.labels()
    exact = [t for name, t in tabs.items() if normalise_label(name) in labels]
    if exact:
        return exact[:1]
    return [t for name, t in tabs.items()
            if normalise_label(name) not in MANAGED_SOURCE_TABS
            and _strip_period_words(normalise_label(name)) in labels
            and _strip_period_words(normalise_label(name)) != normalise_label(name)]


@dataclass
class HeaderMatch:
    """Where a table's header is and how its columns map to schema keys."""

    row: int  # 0-based index into RawTab.rows
    columns: dict[str, int]  # schema key -> 0-based column index
    unknown: dict[int, str] = field(default_factory=dict)  # column index -> header text
    duplicates: dict[int, str] = field(default_factory=dict)  # column index -> key it repeats


def _label_lookup(spec: TabSpec) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for col in spec.columns:
        for label in col.labels():
            lookup.setdefault(label, col.key)
    return lookup


def _map_row(row: list[Any], lookup: dict[str, str]) -> HeaderMatch:
    match = HeaderMatch(row=-1, columns={})
    for j, cell in enumerate(row):
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            continue
        label = normalise_label(cell)
        key = lookup.get(label)
        if key is None:
            match.unknown[j] = str(cell).strip()
        elif key in match.columns:
            match.duplicates[j] = key
        else:
            match.columns[key] = j
    return match


def find_header(tab: RawTab, spec: TabSpec) -> HeaderMatch | None:
    """The row within the first rows that names the most schema columns (at least two, or every
    required one), ignoring case, spacing and punctuation."""
    lookup = _label_lookup(spec)
    required = {c.key for c in spec.columns if c.required}
    best: HeaderMatch | None = None
    for i, row in enumerate(tab.rows[:HEADER_SCAN_ROWS]):
        if not row:
            continue
        match = _map_row(row, lookup)
        enough = len(match.columns) >= 2 or (required and required <= set(match.columns))
        if enough and (best is None or len(match.columns) > len(best.columns)):
            match.row = i
            best = match
    return best


@dataclass
class FormField:
    key: str
    value: Any
    row: int  # 0-based
    col: int  # 0-based


def read_form(tab: RawTab, spec: TabSpec) -> dict[str, FormField]:
    """Label/value tabs: a label in one cell, its value in the next non-empty cell to the right."""
    lookup = _label_lookup(spec)
    found: dict[str, FormField] = {}
    for i, row in enumerate(tab.rows):
        for j, cell in enumerate(row):
            if cell is None:
                continue
            key = lookup.get(normalise_label(cell)) if isinstance(cell, str) else None
            if key is None or key in found:
                break  # only the first non-empty cell of a row can be a label
            value_col = next((k for k in range(j + 1, len(row)) if row[k] is not None), j + 1)
            value = row[value_col] if value_col < len(row) else None
            found[key] = FormField(key, value, i, value_col)
            break
    return found


def infer_kind(raw: RawWorkbook) -> str | None:
    """Tell a team tracker from a coach workbook by the tabs it has (None: cannot tell)."""
    scores = {}
    for kind in ("team", "coach"):
        schema = load_schema(kind)  # type: ignore[arg-type]
        scores[kind] = sum(bool(match_tabs(raw.tabs, t)) for t in schema.tabs)
    if scores["team"] == scores["coach"]:
        return None
    return max(scores, key=scores.get)  # type: ignore[arg-type]
