"""The Run Log: one row per run, failed runs included; earlier rows are kept."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sheetsync.report.model import Sheet, Table

if TYPE_CHECKING:
    from sheetsync.dataset import ProgramData

RUN_LOG_COLUMNS = ["Run at", "As of", "Result", "Sources ok", "Sources stale", "Sources failed",
                   "Rows read", "Errors", "Warnings", "Info", "Duration (s)"]


def run_log_sheet(data: ProgramData | None, as_of: date | None, generated_at: datetime,
                  duration_s: float, result: str = "ok") -> Sheet:
    """The append-only Run Log with this run's row (a failed run has only its reason)."""
    stamp = generated_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    if data is None:
        row: list[Any] = [stamp, as_of, f"failed: {result}", *([None] * 8)]
    else:
        counts = data.findings.by_severity()
        states = {"ok": 0, "stale": 0, "failed": 0}
        for s in data.sources:
            states[s.state] += 1
        row = [stamp, as_of, result, states["ok"], states["stale"], states["failed"],
               sum(s.rows for s in data.sources), counts["error"], counts["warning"],
               counts["info"], round(duration_s, 2)]
    table = Table(columns=RUN_LOG_COLUMNS, rows=[row],
                  number_formats={"As of": "yyyy-mm-dd", "Duration (s)": "0.00"},
                  column_widths={"Run at": 26, "Result": 30})
    return Sheet("Run Log", tables=[table], freeze_rows=1, append_only=True)
