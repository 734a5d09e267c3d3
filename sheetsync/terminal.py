"""What the CLI prints: findings grouped by source, JSON, and the run summary (via Rich).

Counts are worded as people say them ("1 warning", "2 warnings"). ``validate`` counts what the
files hold; ``run`` adds the analysis's own flags (a team off track, a coach below the target),
and says so, so the two commands' numbers can be told apart.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from itertools import groupby
from typing import TYPE_CHECKING, Any

from sheetsync.dataset import ProgramData

if TYPE_CHECKING:
    from sheetsync.config import Config
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


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """``plural(1, "warning")`` -> "1 warning"; ``plural(2, "warning")`` -> "2 warnings"."""
    return f"{n} {singular if n == 1 else (plural_form or singular + 's')}"


def severities(counts: dict[str, int], *, skip_zero: bool = False) -> str:
    """"6 errors, 1 warning, 2 info" (info, like the Flags tab's severity, has no plural)."""
    parts = [(counts.get("error", 0), "error", None), (counts.get("warning", 0), "warning", None),
             (counts.get("info", 0), "info", "info")]
    return ", ".join(plural(n, word, many) for n, word, many in parts if n or not skip_zero)


def _states(data: ProgramData) -> dict[str, int]:
    states = {"ok": 0, "stale": 0, "failed": 0}
    for s in data.sources:
        states[s.state] += 1
    return states


def summary_line(data: ProgramData, flags: Any = ()) -> str:
    """The sources and the findings in one line; ``flags`` (the analysis's own, already among
    ``data.findings``) are counted apart from what the files hold."""
    states = _states(data)
    parts = [plural(len(data.sources), "source") + f" ({states['ok']} ok"]
    if states["stale"]:
        parts.append(f", {states['stale']} stale")
    if states["failed"]:
        parts.append(f", {states['failed']} failed")
    flagged = Counter(f.severity.value for f in flags)
    in_files = {k: v - flagged.get(k, 0) for k, v in data.findings.by_severity().items()}
    parts.append(f"): {severities(in_files)} in the files")
    if flags:
        parts.append(f"; the analysis adds {severities(dict(flagged), skip_zero=True)} "
                     "of its own (teams off track, coaches below the target and the like)")
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
    text = json.dumps(payload, indent=2, ensure_ascii=False)
    # A file name that is not valid UTF-8 is held as surrogate escapes: show U+FFFD for its bad
    # bytes rather than write them out raw, which would make the JSON invalid UTF-8.
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    sys.stdout.write(text + "\n")


def run_summary(outcome: RunOutcome, config: Config) -> dict[str, Any]:
    """What a run found, as plain data: the JSON of ``run --json`` and the printed summary."""
    from sheetsync.report.dashboard import calendar_for, coach_rows

    data, analysis = outcome.data, outcome.analysis
    findings = data.findings.by_severity()
    flags = Counter(f.severity.value for f in getattr(analysis, "flags", ()))
    summary: dict[str, Any] = {
        "as_of": data.as_of.isoformat() if data.as_of else None,
        "sources": {**_states(data), "total": len(data.sources),
                    "list": [{"name": s.name, "kind": s.kind, "state": s.state, "rows": s.rows,
                              "message": s.message, "location": s.location}
                             for s in data.sources]},
        "findings": {"by_severity": findings,
                     "in_the_files": {k: v - flags.get(k, 0) for k, v in findings.items()},
                     "analytic_flags": {k: flags.get(k, 0) for k in findings}},
        "output": None if outcome.dry_run else outcome.output,
        "dry_run": outcome.dry_run,
        "api_calls": dict(outcome.api_calls),
        "duration_s": round(outcome.duration_s, 2),
    }
    if analysis is not None:
        cal = calendar_for(config, analysis)
        program = analysis.program
        coaches = coach_rows(data, analysis, cal)
        summary["challenge"] = {"label": cal.label, "weeks_complete": cal.complete,
                                "weeks": cal.weeks,
                                "start": cal.start.isoformat() if cal.start else None,
                                "last_weeks_window": [d.isoformat() for d in cal.window]}
        summary["teams"] = {"total": program.teams_total, "on_track": program.teams_on_track,
                            "unknown": program.teams_unknown,
                            "benchmark": program.benchmark_share,
                            "by_status": {k: v for k, v in program.status_counts.items() if v}}
        summary["coaches"] = {
            "total": len(coaches), "target": program.coaching_target,
            "below_target": [c["coach"] for c in coaches if c["status"] == "Below target"],
            "log_stopped": [c["coach"] for c in coaches if c["status"] == "Log stopped"],
            "not_read": [c["coach"] for c in coaches if c["status"] == "File failed"],
            "time_unknown": [c["coach"] for c in coaches if c["status"] == "Unknown"],
            "by_status": dict(Counter(c["status"] for c in coaches))}
    return summary


def print_run_json(outcome: RunOutcome, config: Config, *, exit_code: int) -> None:
    payload = {**run_summary(outcome, config), "exit_code": exit_code}
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def print_run_summary(outcome: RunOutcome, config: Config | None = None, *,
                      stats: bool = False) -> None:
    from rich.text import Text

    console = _console()
    data = outcome.data
    program = getattr(outcome.analysis, "program", None)
    if program is not None and config is not None:
        summary = run_summary(outcome, config)
        console.print(f"As of {summary['as_of']}: {summary['challenge']['label']}")
        teams_out, coaches_out = program.teams_unknown, program.coaches_unknown
        console.print(f"Teams on track: {program.teams_on_track} of "
                      f"{program.teams_total - teams_out} "
                      f"(benchmark {program.benchmark_share:.0%})"
                      + (f"; left out, not readable: {teams_out}" if teams_out else ""))
        coaches = summary["coaches"]
        below = coaches["below_target"] + coaches["log_stopped"]
        console.print(f"Coaches at or above the {program.coaching_target:.0%} target: "
                      f"{program.coaches_meeting_target} of "
                      f"{program.coaches_total - coaches_out}"
                      + (f"; needing a look: {', '.join(below)}" if below else "")
                      + (f"; left out, time log not readable: {coaches_out}"
                         if coaches_out else ""))
    elif program is not None:
        console.print(f"Teams on track: {program.teams_on_track} of {program.teams_total}")
    console.print(summary_line(data, getattr(outcome.analysis, "flags", ())))
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
