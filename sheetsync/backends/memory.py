"""An in-memory backend: workbooks in a dict, the dashboard kept as the model it was given.

The quickest way to test the pipeline without files or a network, as httpx's MockTransport is
for HTTP: build a :class:`MemoryBackend`, put workbooks in it, hand it to
:func:`sheetsync.run` (``backends={"memory": backend}``) with sources whose backend is
``"memory"``, and read back :attr:`MemoryBackend.targets`. It honours the same contract as the
Excel and Google backends, including versions (a counter bumped by :meth:`put`), the managed
tabs of a target (other tabs kept, the Run Log appended to) and flags write-back.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sheetsync.backends.base import Check, Listing, RawTab, RawWorkbook, Source, SourceEntry
from sheetsync.errors import SourceReadError, TargetWriteError
from sheetsync.findings import Finding, Severity
from sheetsync.report.model import FLAGS_TAB

if TYPE_CHECKING:
    from sheetsync.config import Config
    from sheetsync.report.model import Sheet

Grid = Sequence[Sequence[Any]]


@dataclass
class MemoryBackend:
    """Workbooks by name; managed tabs by target (see the module docstring)."""

    workbooks: dict[str, RawWorkbook] = field(default_factory=dict)
    targets: dict[str, dict[str, Sheet]] = field(default_factory=dict)
    flags: dict[str, tuple[list[str], list[list[Any]]]] = field(default_factory=dict)
    summaries: dict[str, Sheet] = field(default_factory=dict)  # a coach's My Summary
    reads: list[str] = field(default_factory=list)  # every read, in order, for tests to count
    _versions: dict[str, int] = field(default_factory=dict)

    name = "memory"
    read_ok = "readable"

    @classmethod
    def from_config(cls, config: Config) -> MemoryBackend:
        return cls()

    def put(self, name: str, tabs: Mapping[str, Grid] | RawWorkbook) -> None:
        """Store (or replace) the workbook ``name``; its version goes up by one."""
        if isinstance(tabs, RawWorkbook):
            book = replace(tabs, location=name)
        else:
            book = RawWorkbook(name, {t: RawTab(t, [list(r) for r in rows])
                                      for t, rows in tabs.items()})
        self.workbooks[name] = book
        self._versions[name] = self._versions.get(name, 0) + 1

    def delete(self, name: str) -> None:
        self.workbooks.pop(name, None)

    # -- reading -----------------------------------------------------------------------------
    def sources(self, entry: SourceEntry) -> Listing:
        names = sorted(n for n in self.workbooks if fnmatch.fnmatchcase(n, entry.location))
        if not names and not any(ch in entry.location for ch in "*?["):
            names = [entry.location]  # a named workbook that is missing fails visibly
        if not names:
            return Listing(findings=[Finding(
                "no-sources", Severity.ERROR, f"{entry.label}: no workbook matches "
                f"{entry.location}.", "Check the source's name.", source=entry.location)])
        return Listing([Source(entry.name if (entry.name and len(names) == 1) else n,
                               entry.kind, n, self.name, entry.write_back, entry.label)
                        for n in names])

    def versions(self, sources: Sequence[Source]) -> dict[str, str]:
        return {s.location: str(self._versions[s.location]) for s in sources
                if s.location in self._versions and s.location in self.workbooks}

    def unchanged(self, cached: str, current: str) -> bool:
        return cached == current

    def read(self, source: Source) -> RawWorkbook:
        self.reads.append(source.location)
        book = self.workbooks.get(source.location)
        if book is None:
            raise SourceReadError(f"{source.location} does not exist.",
                                  hint="Check the source's name.")
        raw = copy.deepcopy(book)
        raw.version = str(self._versions[source.location])
        return raw

    def pool(self, count: int) -> Executor | None:
        return None

    def notices(self) -> list[Finding]:
        return []

    def api_calls(self) -> dict[str, int]:
        return {}

    # -- writing -----------------------------------------------------------------------------
    def write_tabs(self, target: str, sheets: list[Sheet], now: datetime) -> None:
        if not target:
            raise TargetWriteError("no target named")
        tabs = dict(self.targets.get(target, {}))
        for sheet in sheets:
            earlier = tabs.get(sheet.name)
            if sheet.append_only and earlier is not None and earlier.tables and sheet.tables:
                rows = earlier.tables[0].rows + sheet.tables[0].rows
                sheet = replace(sheet, tables=[replace(sheet.tables[0], rows=rows),
                                               *sheet.tables[1:]])
            tabs[sheet.name] = sheet
        self.targets[target] = tabs

    def write_flags(self, source: Source, sheet: Sheet) -> None:
        if sheet.name != FLAGS_TAB:  # a coach's My Summary
            self.summaries[source.location] = sheet
            return
        table = sheet.tables[0]
        self.flags[source.location] = (list(table.columns), [list(r) for r in table.rows])

    def check(self, target: str | None) -> list[Check]:
        return [] if target is None else [Check(f"target {target}", True, "in memory")]
