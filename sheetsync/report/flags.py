"""Flag rows: the leaders' Flags tab and each source's own flags tab, from the same findings.

The two readers differ. The Flags tab is for leaders, so a finding about a private column shows
no cell content (:meth:`~sheetsync.findings.Finding.leader_message`). The ``Sheetsync Flags`` tab
written back into a source is the coach's own, so it may quote their cells.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sheetsync.findings import Finding
from sheetsync.report.model import Sheet, Table

SOURCE_FLAGS_HEADER = ["Severity", "Code", "Tab", "Cell", "Value", "Message", "Hint"]
"""The columns of the flags tab written back into a source."""


def source_flag_rows(findings: Iterable[Finding]) -> list[list[object]]:
    """One source's findings as the rows of its own flags tab (values quoted: it is theirs)."""
    return [[f.severity.value, f.code, f.tab, f.cell, "" if f.value is None else str(f.value),
             f.message, f.hint] for f in sorted(findings, key=Finding.sort_key)]


def flags_sheet(findings: Sequence[Finding]) -> Sheet:
    """The leaders' Flags tab: every finding and analytic flag, without private cell content."""
    rows = [[f.severity.value, f.code, f.source, f.tab, f.cell, f.leader_message(),
             f.leader_hint()]
            for f in sorted(findings, key=lambda f: (f.severity.rank, f.source, f.tab,
                                                     f.sort_key()))]
    table = Table(columns=["Severity", "Code", "Source", "Tab", "Cell", "Message", "Hint"],
                  rows=rows, status_columns=["Severity"],
                  column_widths={"Message": 70, "Hint": 60, "Source": 28, "Code": 20})
    return Sheet("Flags", tables=[table], freeze_rows=1, auto_filter=True)
