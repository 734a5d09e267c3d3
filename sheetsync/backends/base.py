"""The backend contract: raw workbooks in, managed tabs out.

Cell values in a :class:`RawTab` are exactly what the file or API held, never reformatted:

* ``None`` for an empty cell;
* ``str`` for text, including formula error values such as ``"#DIV/0!"``;
* ``int`` / ``float`` for numbers (Google returns dates as serial numbers; so may Excel);
* ``bool``;
* ``datetime.date`` / ``datetime.datetime`` / ``datetime.time`` / ``datetime.timedelta``
  where the reader knows a cell is a date or time.

Rows are lists, trailing empty rows and cells may or may not be trimmed; validation copes.
Row ``i`` of ``rows`` is sheet row ``i + 1`` and column ``j`` is sheet column ``j + 1`` so that
findings can point at exact A1 cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass
class RawTab:
    """One tab of a source workbook as a grid of raw cell values."""

    name: str
    rows: list[list[Any]]
    hidden_rows: frozenset[int] = frozenset()  # 1-based sheet rows that are hidden


@dataclass
class RawWorkbook:
    """Every tab of one source, read in one pass."""

    location: str  # file path, or spreadsheet URL/key
    tabs: dict[str, RawTab] = field(default_factory=dict)
    modified: datetime | None = None
    title: str | None = None


class Reader(Protocol):
    def read(self, location: str) -> RawWorkbook:  # pragma: no cover - protocol
        """Read every tab of the workbook at ``location`` (raise SourceReadError on failure)."""
