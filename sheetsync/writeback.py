"""Opt-in flag write-back: each source's own findings, in a managed tab of that source.

This tab is for the coach, so it may name their own cells and values. Excel sources get the tab
by a lossless package edit (:mod:`sheetsync.backends.excel.writeback`); Google sources by one
batchUpdate. A source whose findings did not change since the last write is not rewritten.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from sheetsync.errors import redact
from sheetsync.findings import Finding, Severity
from sheetsync.report.model import FLAGS_TAB

if TYPE_CHECKING:
    from sheetsync.config import Config
    from sheetsync.sources.load import Source

HEADER = ["Severity", "Code", "Tab", "Cell", "Value", "Message", "Hint"]


def flag_rows(findings: Iterable[Finding]) -> list[list[object]]:
    return [[f.severity.value, f.code, f.tab, f.cell, "" if f.value is None else str(f.value),
             f.message, f.hint] for f in sorted(findings, key=Finding.sort_key)]


def _digest(rows: list[list[object]]) -> str:
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


def write_back_flags(config: Config, sources: list[Source], findings: Iterable[Finding]
                     ) -> list[Finding]:
    """Write each opted-in source's findings into it; returns findings about the write-back."""
    from sheetsync.backends.excel.writeback import WritebackError, write_flags_tab

    all_findings = list(findings)
    state_path = config.output.state_dir / "writeback.json"
    try:
        state = json.loads(state_path.read_text())
    except (OSError, ValueError):
        state = {}
    out: list[Finding] = []
    for source in sources:
        rows = flag_rows(f for f in all_findings
                         if f.source == source.name and f.code not in ("writeback-failed",))
        digest = _digest(rows)
        if state.get(source.location) == digest:
            continue
        if source.backend != "excel":
            try:
                from sheetsync.google_sources import write_google_flags

                write_google_flags(config, source, HEADER, rows)
                state[source.location] = digest
            except Exception as exc:  # noqa: BLE001 - reported as a finding
                out.append(Finding("writeback-failed", Severity.WARNING,
                                   f"Flags could not be written back: {redact(str(exc))}",
                                   "Give the service account Editor access to this spreadsheet.",
                                   source=source.name, file=source.location))
            continue
        suffix = Path(source.location).suffix.lower()
        if suffix not in (".xlsx", ".xlsm"):
            out.append(Finding("writeback-unsupported", Severity.INFO,
                               f"Flags cannot be written into a {suffix} file.",
                               "Save the workbook as .xlsx to see flags inside it.",
                               source=source.name, file=source.location))
            continue
        try:
            write_flags_tab(Path(source.location), HEADER, rows, tab_name=FLAGS_TAB)
            state[source.location] = digest
        except WritebackError as exc:
            out.append(exc.as_finding(source=source.name, file=source.location))
    try:
        state_path.parent.mkdir(parents=True, exist_ok=True)
        state_path.write_text(json.dumps(state, indent=1, sort_keys=True))
    except OSError:
        pass
    return out
