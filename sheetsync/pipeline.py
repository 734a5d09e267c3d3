"""The main job, end to end: read -> validate -> roll up -> write.

``validate_program`` stops after validation; ``run_program`` goes on to the analytics and writes
the managed tabs. Both are reproducible for a given ``as_of``.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sheetsync.config import Config
from sheetsync.dataset import ProgramData
from sheetsync.errors import RunFailed
from sheetsync.findings import Findings
from sheetsync.sources.load import (
    LoadedSource,
    Source,
    context_for,
    discover,
    fingerprint_for,
    load_sources,
    schemas_for,
)
from sheetsync.sources.snapshot import load_snapshot, needs_rewrite, snapshot_path, write_snapshot


@dataclass
class RunOutcome:
    data: ProgramData
    analysis: Any = None
    output: str | None = None
    dry_run: bool = False
    duration_s: float = 0.0
    api_calls: dict[str, int] = field(default_factory=dict)
    generated_at: datetime | None = None

    # the attributes the scheduler logs
    @property
    def sources_ok(self) -> int:
        return sum(s.state == "ok" for s in self.data.sources)

    @property
    def sources_failed(self) -> int:
        return sum(s.state != "ok" for s in self.data.sources)

    @property
    def flags_by_severity(self) -> dict[str, int]:
        return self.data.findings.by_severity()


def resolve_as_of(config: Config, as_of: date | None) -> date:
    """The run's "today": the flag, else the config's pinned date, else now in the program tz."""
    if as_of is not None:
        return as_of
    if config.as_of is not None:
        return config.as_of
    return datetime.now(config.tz).date()


def _progress_printer(total: int, enabled: bool):
    """A Rich progress bar on stderr while sources are read (only on a terminal)."""
    import sys

    if not enabled or total < 2 or not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    progress = Progress(TextColumn("reading sources"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.description}"), console=Console(stderr=True),
                        transient=True)
    task = progress.add_task("", total=total)

    def tick(item: LoadedSource) -> None:
        progress.update(task, advance=1, description=item.source.name)

    return progress, tick


def _google_loader(config: Config, stats: dict[str, int], as_of: date):
    """Reads Google sources through the Google backend (imported only when a config uses it)."""
    def load(sources: list[Source]) -> list[LoadedSource]:
        from sheetsync.google_sources import load_google_sources

        return load_google_sources(config, sources, stats, as_of)
    return load


def validate_program(config: Config, as_of: date, *, use_cache: bool = True,
                     progress: bool = False, stats: dict[str, int] | None = None) -> ProgramData:
    """Read and validate every source into typed frames; failed sources stay visible."""
    from sheetsync.validate import build_frames

    sources, findings = discover(config)
    bar, tick = _progress_printer(len(sources), progress)
    stats = stats if stats is not None else {}
    uses_google = any(s.backend != "excel" for s in sources)
    loader = _google_loader(config, stats, as_of) if uses_google else None
    # Unchanged local files come from the program snapshot (see sheetsync.sources.snapshot).
    fingerprint = fingerprint_for(schemas_for(config), context_for(config, as_of))
    snapshot_file = snapshot_path(config.output.state_dir) if use_cache else None
    snapshot = load_snapshot(snapshot_file, fingerprint) if snapshot_file else None
    if bar:
        bar.start()
    try:
        loaded = load_sources(config, as_of, sources, use_cache=use_cache, progress=tick,
                              google_loader=loader, snapshot=snapshot)
    finally:
        if bar:
            bar.stop()
    all_findings = Findings(list(findings))
    for item in loaded:
        all_findings.extend(item.findings)
    groups = {a.name: (a.group, a.outside_role) for a in config.activities.activities}
    frames = build_frames((item.result.records for item in loaded if item.result is not None),
                          activity_groups=groups)
    if snapshot_file is not None and needs_rewrite(snapshot, loaded):
        write_snapshot(snapshot_file, fingerprint, loaded, frames)
    statuses = [item.status for item in loaded]
    columns = {item.source.name: item.result.columns for item in loaded
               if item.result is not None}
    return ProgramData(frames=frames, findings=all_findings, sources=statuses, as_of=as_of,
                       columns=columns)


def _thresholds(config: Config):
    from sheetsync.analytics.thresholds import Thresholds

    return Thresholds.from_mapping(config.thresholds)


def run_program(config: Config, *, as_of: date | None = None, output: Path | None = None,
                dry_run: bool = False, use_cache: bool = True, progress: bool = False,
                now: datetime | None = None, take_lock: bool = True) -> RunOutcome:
    """The nightly job: read, validate, analyse, write. Raises :class:`RunFailed`."""
    from sheetsync.nightly.run_lock import LockHeld, RunLock

    started = time.perf_counter()
    day = resolve_as_of(config, as_of)
    generated = now or datetime.now(config.tz)
    if take_lock and not dry_run:
        try:
            lock = RunLock(config.output.state_dir, command="sheetsync run")
            lock.acquire()
        except LockHeld as exc:
            raise RunFailed(str(exc), hint="Wait for the other run to finish.") from None
        except OSError as exc:
            raise RunFailed(f"cannot create the state folder {config.output.state_dir}: {exc}",
                            hint="Check [output].state_dir and its permissions.") from None
    else:
        lock = None
    try:
        return _run_locked(config, day, output, dry_run, use_cache, progress, generated, started)
    finally:
        if lock is not None:
            lock.release()


def _run_locked(config: Config, day: date, output: Path | None, dry_run: bool, use_cache: bool,
                progress: bool, generated: datetime, started: float) -> RunOutcome:
    from sheetsync.analytics.program import analyse
    from sheetsync.report.dashboard import build_sheets

    stats: dict[str, int] = {}
    data = validate_program(config, day, use_cache=use_cache, progress=progress, stats=stats)
    th = _thresholds(config)
    groups = config.activities.groups
    analysis = analyse(data.frames, day, th, groups=groups, column_of=data.column_of)
    locations = {s.name: s.location for s in data.sources}
    data.findings.extend(replace(f, file=f.file or locations.get(f.source, ""))
                         for f in analysis.flags)
    _write_back_flags(config, data, dry_run)
    outcome = RunOutcome(data=data, analysis=analysis, dry_run=dry_run, api_calls=stats,
                         generated_at=generated)
    target = str(output) if output else (str(config.output.path) if config.output.path
                                         else config.output.google)
    outcome.output = target
    outcome.duration_s = time.perf_counter() - started
    if dry_run:
        return outcome
    sheets = build_sheets(config, data, analysis, as_of=day, generated_at=generated,
                          duration_s=outcome.duration_s)
    _write_target(config, target, output, sheets, stats, generated)
    _record_success(config, generated, day, outcome)
    outcome.duration_s = time.perf_counter() - started
    return outcome


def _write_target(config: Config, target: str | None, output: Path | None, sheets: list,
                  stats: dict[str, int], now: datetime) -> None:
    from sheetsync.errors import TargetWriteError

    try:
        if output is not None or config.output.path is not None:
            from sheetsync.backends.excel.writer import write_workbook

            path = Path(output) if output else config.output.path
            assert path is not None
            if path.suffix.lower() != ".xlsx":
                raise RunFailed(f"the dashboard must be an .xlsx file, not {path.name}")
            write_workbook(path, sheets, now=now)
        else:
            from sheetsync.google_sources import write_google_dashboard

            write_google_dashboard(config, target or "", sheets, stats)
    except TargetWriteError as exc:
        raise RunFailed(f"could not write the dashboard: {exc.message}", hint=exc.hint) from None
    except PermissionError as exc:
        raise RunFailed(f"could not write the dashboard: {exc}", hint="Close the file if it is "
                        "open in Excel, and check permissions.") from None


def _write_back_flags(config: Config, data: ProgramData, dry_run: bool) -> None:
    """Opt-in: write each source's own findings into a managed tab of that source."""
    if dry_run or not any(entry.write_back for entry in config.sources):
        return
    wanted = {s.name: s for s in data.sources}
    sources, _ = discover(config)
    targets = [s for s in sources if s.write_back and s.name in wanted
               and wanted[s.name].state == "ok"]
    if not targets:
        return
    from sheetsync.writeback import write_back_flags

    data.findings.extend(write_back_flags(config, targets, data.findings))


def state_file(config: Config) -> Path:
    return config.output.state_dir / "state.json"


def last_success(config: Config) -> datetime | None:
    """When the last successful run finished, from the state file (None if never)."""
    try:
        data = json.loads(state_file(config).read_text())
        return datetime.fromisoformat(data["last_success"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _record_success(config: Config, generated: datetime, day: date, outcome: RunOutcome) -> None:
    path = state_file(config)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({
            "last_success": generated.astimezone(UTC).isoformat(),
            "as_of": day.isoformat(), "output": outcome.output,
            "sources_ok": outcome.sources_ok, "sources_failed": outcome.sources_failed,
        }, indent=2))
        os.replace(tmp, path)
    except OSError:
        pass


def record_failure(config: Config, reason: str, now: datetime | None = None) -> None:
    """Record a failed run: a row in the dashboard's Run Log (when it can be written) and a line
    in the state folder's failures.log (always)."""
    now = now or datetime.now(config.tz)
    path = config.output.state_dir / "failures.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"{now.astimezone(UTC).isoformat()}\t{reason}\n")
    except OSError:
        pass
    if config.output.path is None:
        return
    from sheetsync.backends.excel.writer import write_workbook
    from sheetsync.errors import TargetWriteError
    from sheetsync.report.dashboard import run_log_sheet

    # if the Run Log cannot be written, the failures.log line above still records the failure
    with contextlib.suppress(TargetWriteError, OSError, ValueError):
        write_workbook(config.output.path, [run_log_sheet(None, None, now, 0.0, result=reason)],
                       now=now)


def serve_schedule(config: Config, *, run_now: bool = False, max_runs: int | None = None,
                   every_seconds: float | None = None) -> int:
    """``sheetsync schedule``: the nightly loop around :func:`run_program`."""
    from sheetsync.nightly.scheduler import serve

    def job(as_of_dt: datetime) -> RunOutcome:
        try:
            return run_program(config, as_of=None, take_lock=True)
        except RunFailed as exc:
            raise RuntimeError(exc.message) from None

    from sheetsync.nightly.run_lock import RunLock
    from sheetsync.nightly.scheduler import ScheduleSettingsError

    try:
        return serve(job, at=config.schedule.at, tz=config.timezone,
                     extra_times=config.schedule.extra_times, weekdays=config.schedule.weekdays,
                     run_now=run_now, max_runs=max_runs, every_seconds=every_seconds,
                     retry_after_minutes=config.schedule.retry_after_minutes,
                     last_success=lambda: last_success(config),
                     record_failure=lambda reason: record_failure(config, reason),
                     log_file=config.schedule.log_file,
                     lock_factory=lambda: RunLock(config.output.state_dir,
                                                  command="sheetsync schedule"))
    except ScheduleSettingsError as exc:
        raise RunFailed(f"bad schedule settings: {exc}",
                        hint="Check the [schedule] section.") from None
