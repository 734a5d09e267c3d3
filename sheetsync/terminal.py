"""What the CLI prints: findings grouped by source, JSON, and the run summary (via Rich)."""

from __future__ import annotations

import json
import sys
from itertools import groupby
from typing import TYPE_CHECKING

from sheetsync.dataset import ProgramData

if TYPE_CHECKING:
    from sheetsync.pipeline import RunOutcome

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 140)


class ProgressBar:
    """A Rich progress bar on stderr while sources are loaded, only on a terminal and only for
    two sources or more (see :class:`sheetsync.pipeline.Progress`)."""

    def __init__(self) -> None:
        self._bar = None
        self._task = None

    def start(self, total: int) -> None:
        if total < 2 or not sys.stderr.isatty():
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(TextColumn("reading sources"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.description}"), console=Console(stderr=True),
                             transient=True)
        self._task = self._bar.add_task("", total=total)
        self._bar.start()

    def advance(self, name: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=name)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def summary_line(data: ProgramData) -> str:
    counts = data.findings.by_severity()
    states = {"ok": 0, "stale": 0, "failed": 0}
    for s in data.sources:
        states[s.state] += 1
    parts = [f"{len(data.sources)} sources ({states['ok']} ok"]
    if states["stale"]:
        parts.append(f", {states['stale']} stale")
    if states["failed"]:
        parts.append(f", {states['failed']} failed")
    parts.append(f"): {counts['error']} errors, {counts['warning']} warnings, "
                 f"{counts['info']} info")
    return "".join(parts)


def print_findings(data: ProgramData) -> None:
    """Findings as one table per source, errors first, then a summary line."""
    from rich.table import Table
    from rich.text import Text

    console = _console()
    findings = sorted(data.findings, key=lambda f: (f.source, f.severity.rank, f.tab, f.cell))
    for source, group in groupby(findings, key=lambda f: f.source):
        items = list(group)
        table = Table(title=Text(source or "(program)", style="bold"), title_justify="left",
                      show_lines=False, expand=False)
        for col in ("severity", "code", "tab", "cell", "value", "message", "hint"):
            table.add_column(col, overflow="fold", max_width=None if col in ("message", "hint")
                             else 24)
        for f in items:
            table.add_row(Text(f.severity.value, style=SEVERITY_STYLE[f.severity.value]),
                          Text(f.code), Text(f.tab), Text(f.cell),
                          Text("" if f.value is None else str(f.value)), Text(f.message),
                          Text(f.hint))
        console.print(table)
    failed = [s for s in data.sources if s.state != "ok"]
    for s in failed:
        console.print(Text(f"{s.state.upper()}: {s.name}: {s.message}", style="bold red"))
    console.print(summary_line(data))


def print_findings_json(data: ProgramData) -> None:
    payload = {
        "as_of": data.as_of.isoformat() if data.as_of else None,
        "sources": [{"name": s.name, "kind": s.kind, "location": s.location, "state": s.state,
                     "rows": s.rows, "message": s.message} for s in data.sources],
        "findings": [f.as_dict() for f in data.findings.sorted()],
        "summary": data.findings.by_severity(),
    }
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def print_run_summary(outcome: RunOutcome, *, stats: bool = False) -> None:
    from rich.text import Text

    console = _console()
    data = outcome.data
    program = getattr(outcome.analysis, "program", None)
    if program is not None:
        console.print(f"Teams on track: {program.teams_on_track} of {program.teams_total}")
    console.print(summary_line(data))
    for s in data.sources:
        if s.state != "ok":
            console.print(Text(f"{s.state.upper()}: {s.name}: {s.message}", style="bold red"))
    if outcome.dry_run:
        console.print("Dry run: nothing was written.")
    elif getattr(outcome, "unchanged", False):
        console.print(Text(f"Nothing changed since the last run: {outcome.output} is kept as it "
                           "is (this run joins its Run Log with the next write)"))
    else:
        console.print(Text(f"Dashboard written to {outcome.output}"))
    console.print(f"Took {outcome.duration_s:.1f} s")
    if stats:
        calls = outcome.api_calls
        total = sum(calls.values())
        console.print(f"Google API calls: {total}" + (
            " (" + ", ".join(f"{k}: {v}" for k, v in sorted(calls.items())) + ")" if calls else ""))
