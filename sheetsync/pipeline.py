"""The main job, end to end: read -> validate -> roll up -> report -> write.

* :func:`validate` reads every source through its backend and validates it
  (:mod:`sheetsync.sources`), giving one :class:`~sheetsync.dataset.ProgramData`;
* :func:`rollup` is the pure middle: validated workbooks in, the managed tabs out
  (:mod:`sheetsync.analytics`, then :mod:`sheetsync.report`);
* :func:`run` is the nightly job: it resolves the config once (schemas, validation context,
  backends, the target) and passes them down, takes the run lock, writes the flags back into
  the sources that asked for them, then writes the managed tabs to the target.

Both :func:`validate` and :func:`run` are reproducible for a given ``as_of``. Backends are
built from the config on first use; a test may hand in its own (``backends={"memory": ...}``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sheetsync.backends import Backends
from sheetsync.backends.base import Target
from sheetsync.collector import paused
from sheetsync.config import Config, ScopedOutput, check_as_of, check_target
from sheetsync.dataset import ProgramData
from sheetsync.errors import ConfigError, LockHeld, RunFailed, TargetWriteError
from sheetsync.findings import Findings
from sheetsync.schema import KINDS, WorkbookSchema, load_schema, with_overrides
from sheetsync.sources.cache import ParseCache, Stored, keep, load_snapshot, snapshot_path
from sheetsync.sources.discover import Discovery, discover
from sheetsync.sources.load import ReadContext, load_sources
from sheetsync.validation.workbook import ValidationContext

if TYPE_CHECKING:
    from sheetsync.analytics.program import Analysis
    from sheetsync.analytics.thresholds import Thresholds
    from sheetsync.backends.base import Backend
    from sheetsync.report.model import Sheet


class Progress(Protocol):
    """Told about each source as it is loaded (the terminal shows a bar)."""

    def start(self, total: int) -> None: ...

    def advance(self, name: str) -> None: ...

    def stop(self) -> None: ...


@dataclass
class RunOutcome:
    data: ProgramData
    analysis: Any = None
    output: str | None = None
    dry_run: bool = False
    duration_s: float = 0.0
    api_calls: dict[str, int] = field(default_factory=dict)
    generated_at: datetime | None = None
    unchanged: bool = False  # nothing changed since the last write: the dashboard was kept

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
        return check_as_of(as_of, "as_of")  # beyond its bounds, date arithmetic overflows
    if config.as_of is not None:
        return config.as_of
    return datetime.now(config.tz).date()


def backends_for(config: Config, given: Mapping[str, Backend] | None = None) -> Backends:
    """The run's backends: built from the config on first use, or the ones given."""
    return Backends(lambda cls: cls.from_config(config), given)


def schemas_for(config: Config) -> dict[str, WorkbookSchema]:
    """Every kind's schema (team, coach, shared log) with the config's tab names and column
    aliases."""
    return {kind: with_overrides(load_schema(kind), config.tab_names, config.column_aliases)
            for kind in KINDS}


def read_context(config: Config, as_of: date, *, use_cache: bool = True) -> ReadContext:
    """What every read of a run shares (see :class:`~sheetsync.sources.load.ReadContext`)."""
    validation = ValidationContext(as_of=as_of, reference_date=as_of,
                                   challenge_weeks=config.challenge_weeks,
                                   activities=config.activities,
                                   framework=config.framework)
    cache = ParseCache(config.output.state_dir / "cache") if use_cache else None
    return ReadContext(schemas_for(config), validation, cache)


def thresholds_for(config: Config) -> Thresholds:
    from sheetsync.analytics.thresholds import Thresholds

    return Thresholds.from_mapping(config.thresholds)


@paused
def validate(config: Config, as_of: date | None = None, *, use_cache: bool = True,
             progress: Progress | None = None,
             backends: Backends | Mapping[str, Backend] | None = None,
             discovery: Discovery | None = None) -> ProgramData:
    """Read and validate every source into typed frames; failed sources stay visible.

    ``discovery`` is the run's listing of the sources, when the caller already made it."""
    from sheetsync.validation import build_frames

    day = resolve_as_of(config, as_of)
    backends = backends if isinstance(backends, Backends) else backends_for(config, backends)
    ctx = read_context(config, day, use_cache=use_cache)
    found = discovery if discovery is not None else discover(config.sources, backends)
    fingerprint = ctx.fingerprint
    snapshot_file = snapshot_path(config.output.state_dir) if use_cache else None
    snapshot = load_snapshot(snapshot_file, fingerprint) if snapshot_file else None
    if progress:
        progress.start(len(found.sources) + len(found.failures))
    try:
        loaded = load_sources(found, backends.__getitem__, ctx, snapshot=snapshot,
                              progress=(lambda item: progress.advance(item.source.name))
                              if progress else None)
    finally:
        if progress:
            progress.stop()
    findings = Findings(list(found.findings))
    for item in loaded:
        # Only team trackers are written to be shared: what any other workbook holds is
        # quoted to the coordinator (validate) and in its own flags tab, never on leader tabs.
        shared = item.status.kind == "team"
        findings.extend(item.findings if shared else (f.kept_private() for f in item.findings))
    for backend in backends.built():
        findings.extend(backend.notices())
    groups = {a.name: (a.group, a.outside_role) for a in config.activities.activities}
    frames = build_frames((item.result.records for item in loaded if item.result is not None),
                          activity_groups=groups)
    if snapshot_file is not None and ctx.cache is not None:
        keep(ctx.cache, snapshot_file, fingerprint, snapshot,
             [Stored(item.source, item.result, item.version, item.status.data_as_of,
                     item.storable) for item in loaded], frames,
             served=sum(item.from_snapshot for item in loaded))
    columns = {item.source.name: item.result.columns for item in loaded
               if item.result is not None}
    entries = {e.label: e for e in config.sources}
    placed = {item.source.name: (entries[item.source.entry].school,
                                 entries[item.source.entry].region)
              for item in loaded if item.source.entry in entries
              and (entries[item.source.entry].school or entries[item.source.entry].region)}
    return ProgramData(frames=frames, findings=findings, sources=[i.status for i in loaded],
                       as_of=day, columns=columns, placed=placed)


NO_SOURCES_HINT = ("Check the [[sources]] entries of the config: a path is a file, a glob such "
                   "as \"trackers/*.xlsx\" or a folder, relative to the config's folder.")


def nothing_found(data: ProgramData) -> bool:
    """No workbook at all: every entry matched nothing (a missing path counts as a failed
    source, but one that does not exist, unlike a broken file, is not a workbook found)."""
    missing = {f.source for f in data.findings if f.code == "no-sources"}
    return all(s.state == "failed" and s.name in missing for s in data.sources)


def no_sources_message(data: ProgramData) -> str:
    """Why a run found nothing to read, entry by entry."""
    missing = [f.message for f in data.findings if f.code == "no-sources"]
    found = " ".join(missing) if missing else "The config lists no sources."
    return f"no source workbook was found, so nothing was written. {found}"


@dataclass(frozen=True)
class RollupContext:
    """What the rollup needs besides the data: the program's settings and the run's times."""

    config: Config
    as_of: date
    generated_at: datetime
    duration_s: float = 0.0
    previous_flags: set[tuple[str, str, str, str]] | None = None
    """The last run's flags (code, source, tab, cell), to mark new ones; None: no last run."""
    history: Any = None
    """The :class:`~sheetsync.history.records.HistoryView` the history tabs show (None: the
    tabs show only this run)."""

    @property
    def thresholds(self) -> Thresholds:
        return thresholds_for(self.config)


@paused
def analyse(data: ProgramData, ctx: RollupContext) -> Analysis:
    """Progress-monitoring analytics over the validated frames (pure)."""
    from sheetsync.analytics.program import analyse as analyse_frames
    from sheetsync.history.records import in_current_cycle

    frames = in_current_cycle(data.frames, ctx.config.cycles, ctx.as_of)
    return analyse_frames(frames, ctx.as_of, ctx.thresholds,
                          groups=ctx.config.activities.groups, column_of=data.column_of,
                          framework=ctx.config.framework, schools=school_facts(ctx.config),
                          placed=data.placed)


def school_facts(config: Config) -> list:
    """The config's ``[[schools]]`` as the analytics take them."""
    from sheetsync.analytics.plans import SchoolFacts

    return [SchoolFacts(s.name, s.region, s.staff, s.aliases) for s in config.schools]


def with_flags(data: ProgramData, analysis: Analysis) -> None:
    """Add the analytic flags to the findings, each pointing at its source's file."""
    locations = {s.name: s.location for s in data.sources}
    data.findings.extend(replace(f, file=f.file or locations.get(f.source, ""))
                         for f in analysis.flags)


@paused
def report(data: ProgramData, analysis: Analysis, ctx: RollupContext) -> list[Sheet]:
    """The managed tabs, in the order leaders read them (pure)."""
    from sheetsync.report.dashboard import build_sheets
    from sheetsync.report.rhythm import with_rhythm_tabs

    sheets = build_sheets(ctx.config, data, analysis, as_of=ctx.as_of,
                          generated_at=ctx.generated_at, duration_s=ctx.duration_s,
                          previous_flags=ctx.previous_flags)
    return with_rhythm_tabs(sheets, ctx.config, data, analysis, ctx.history)


def rollup(data: ProgramData, ctx: RollupContext) -> list[Sheet]:
    """Validated workbooks in, the managed tabs out: :func:`analyse`, then :func:`report`."""
    data = replace(data, findings=Findings(list(data.findings)))
    analysis = analyse(data, ctx)
    with_flags(data, analysis)
    return report(data, analysis, ctx)


def resolve_target(config: Config, output: Path | Target | None) -> Target:
    """Where this run writes: ``--output`` (a path, or any backend's :class:`Target`) or the
    config's ``[output]``, checked once, whatever set it, never to be a source."""
    if output is None:
        target = config.output.target
    elif isinstance(output, Target):
        target = output
    else:
        target = Target("excel", str(output))
    try:
        check_target(target, config.sources, "[output]" if output is None else "--output")
    except ConfigError as exc:
        raise RunFailed(exc.message, hint="Choose another output file.") from None
    return target


def run(config: Config, *, as_of: date | None = None, output: Path | Target | None = None,
        dry_run: bool = False, use_cache: bool = True, progress: Progress | None = None,
        now: datetime | None = None, take_lock: bool = True,
        backends: Mapping[str, Backend] | None = None,
        keep_unchanged: bool = False) -> RunOutcome:
    """The nightly job: read, validate, analyse, write. Raises :class:`RunFailed`.

    With ``keep_unchanged``, a run whose dashboard would be the last one again leaves it as it
    is (see :mod:`sheetsync.nightly.unchanged`); ``sheetsync run`` and the scheduler ask for
    that."""
    from sheetsync.nightly.run_lock import RunLock

    started = time.perf_counter()
    day = resolve_as_of(config, as_of)
    generated = now or datetime.now(config.tz)
    target = resolve_target(config, output)
    lock = None
    if take_lock and not dry_run:
        try:
            lock = RunLock(config.output.state_dir, command="sheetsync run")
            lock.acquire()
        except LockHeld as exc:
            raise RunFailed(str(exc), hint="Wait for the other run to finish.") from None
        except OSError as exc:
            raise RunFailed(f"cannot take the run lock in the state folder "
                            f"{config.output.state_dir}: {exc}",
                            hint="Check [output].state_dir and its permissions.") from None
    try:
        with paused.run_scope():
            return _run_locked(config, day, target, dry_run, use_cache, progress, generated,
                               started, backends_for(config, backends),
                               keep_unchanged and use_cache and not dry_run)
    finally:
        if lock is not None:
            lock.release()


def _run_locked(config: Config, day: date, target: Target, dry_run: bool, use_cache: bool,
                progress: Progress | None, generated: datetime, started: float,
                backends: Backends, keep_unchanged: bool = False) -> RunOutcome:
    from sheetsync.nightly import unchanged
    from sheetsync.nightly.state import load_flag_keys, record_success, save_flag_keys
    from sheetsync.report.flags import flag_key

    state_dir = config.output.state_dir
    found: Discovery | None = None
    digest: str | None = None
    last = None
    if keep_unchanged and target.backend == "excel" and not config.outputs:
        # (with [[outputs]], every dashboard is rewritten: each has a file of its own)
        last = unchanged.load_last_write(state_dir)
        found = unchanged.with_versions(discover(config.sources, backends), backends)
        digest = unchanged.inputs_digest(config, read_context(config, day).fingerprint, day,
                                         target, found)
        if unchanged.unchanged_since(last, digest, target) and _in_history(config, day):
            return _keep_dashboard(config, day, target, generated, started, last)

    data = validate(config, day, use_cache=use_cache, progress=progress, backends=backends,
                    discovery=found)
    if nothing_found(data):
        raise RunFailed(no_sources_message(data), hint=NO_SOURCES_HINT)
    ctx = RollupContext(config, day, generated,
                        previous_flags=load_flag_keys(state_dir))
    analysis = analyse(data, ctx)
    with_flags(data, analysis)
    if not dry_run:
        # recorded before anything is written, so a run that skips an unchanged dashboard
        # still adds its as-of date to the history
        ctx = replace(ctx, history=record_history(config, data, analysis, generated))
        data.findings.extend(write_back(config, data, backends, analysis))
    outcome = RunOutcome(data=data, analysis=analysis, dry_run=dry_run, output=target.location,
                         generated_at=generated)
    outcome.duration_s = time.perf_counter() - started
    if not dry_run:
        sheets = report(data, analysis, replace(ctx, duration_s=outcome.duration_s))
        if last is not None:
            sheets = unchanged.with_deferred_rows(sheets, last.deferred)
        try:
            with paused:
                backends[target.backend].write_tabs(target.location, sheets, generated)
        except TargetWriteError as exc:
            raise RunFailed(f"could not write the dashboard: {exc.message}",
                            hint=exc.hint) from None
        finally:
            outcome.api_calls = backends.api_calls()
        write_scoped(config, data, analysis, replace(ctx, duration_s=outcome.duration_s),
                     backends, generated)
        if keep_unchanged:
            _remember_write(state_dir, digest, target, data)
        record_success(state_dir, generated, day, outcome.output,
                       outcome.sources_ok, outcome.sources_failed)
        save_flag_keys(config.output.state_dir, {flag_key(f) for f in data.findings})
    else:
        outcome.api_calls = backends.api_calls()
    outcome.duration_s = time.perf_counter() - started
    return outcome


def scoped(data: ProgramData, analysis: Analysis, output: ScopedOutput, ctx: RollupContext
           ) -> tuple[ProgramData, Analysis, RollupContext]:
    """One school's or region's part of the run: its sources' data, findings and statuses
    only, analysed again (see :mod:`sheetsync.analytics.scopes`)."""
    from sheetsync.analytics.scopes import in_scope, only_sources, scoped_plans

    plans = analysis.plans
    keep = in_scope(plans.sources_in if plans is not None else {}, school=output.school,
                    region=output.region)
    part = ProgramData(frames=only_sources(data.frames, keep),
                       findings=Findings([f for f in data.findings if f.source in keep]),
                       sources=[s for s in data.sources if s.name in keep], as_of=data.as_of,
                       columns={k: v for k, v in data.columns.items() if k in keep},
                       placed={k: v for k, v in data.placed.items() if k in keep})
    title = output.name or f"{ctx.config.name}: {output.scope}"
    # the program's history is the whole district's: a scoped dashboard shows none of it
    part_ctx = replace(ctx, config=replace(ctx.config, name=title), history=None)
    part_analysis = analyse(part, part_ctx)
    if part_analysis.plans is not None:
        part_analysis = replace(part_analysis, plans=scoped_plans(
            part_analysis.plans, school=output.school, region=output.region))
    with_flags(part, part_analysis)
    return part, part_analysis, part_ctx


def write_scoped(config: Config, data: ProgramData, analysis: Analysis, ctx: RollupContext,
                 backends: Backends, generated: datetime) -> None:
    """Write each ``[[outputs]]`` dashboard, filtered to its school or region. The district
    dashboard is written first; a scoped one that cannot be written fails the run after the
    others are written."""
    failed = []
    flags = {(f.code, f.source, f.tab, f.cell) for f in analysis.flags}
    read = replace(data, findings=Findings([f for f in data.findings  # the scope's are redone
                                            if (f.code, f.source, f.tab, f.cell) not in flags]))
    for output in config.outputs:
        part, part_analysis, part_ctx = scoped(read, analysis, output, ctx)
        sheets = report(part, part_analysis, part_ctx)
        try:
            with paused:
                backends[output.target.backend].write_tabs(output.target.location, sheets,
                                                           generated)
        except TargetWriteError as exc:
            failed.append(f"{output.target.location} ({output.scope}): {exc.message}")
    if failed:
        raise RunFailed("the district dashboard was written, but not: " + "; ".join(failed),
                        hint="Close the files if they are open, and check the [[outputs]] "
                        "paths and permissions.")


def record_history(config: Config, data: ProgramData, analysis: Analysis,
                   generated: datetime) -> Any:
    """Add the run's as-of date to the program's history (see :mod:`sheetsync.history`) and
    read back what the history tabs show; a history that cannot be written is a finding."""
    from sheetsync.findings import Finding, Severity
    from sheetsync.history import record_run

    view, problem = record_run(config, analysis, generated)
    if problem is not None:
        data.findings.add(Finding(
            "history-not-recorded", Severity.WARNING,
            f"This run's figures could not be added to the program's history ({problem}).",
            "Check that the state folder can be written; then run again with the same as-of "
            "date, or rebuild past dates with sheetsync history --rebuild."))
    return view


def _in_history(config: Config, day: date) -> bool:
    """Whether the history holds ``day`` already: a run that keeps an unchanged dashboard still
    records its date when the history lacks it (a new or deleted history file)."""
    from sheetsync.history.store import HistoryStore

    return HistoryStore.in_state_dir(config.output.state_dir).has(day)


def _remember_write(state_dir: Path, digest: str | None, target: Target,
                    data: ProgramData) -> None:
    from sheetsync.nightly import unchanged

    signature = unchanged.file_signature(target.location) if target.backend == "excel" else None
    if digest is None or signature is None:
        unchanged.forget_last_write(state_dir)
        return
    unchanged.save_last_write(state_dir, unchanged.LastWrite(
        digest, target.location, signature, list(data.sources), data.findings, data.columns))


def _keep_dashboard(config: Config, day: date, target: Target, generated: datetime,
                    started: float, last: Any) -> RunOutcome:
    """Nothing changed since the last write: keep the dashboard, and this run's Run Log row
    for the next write."""
    from sheetsync.nightly import unchanged
    from sheetsync.nightly.state import record_success
    from sheetsync.report.run_log import run_log_sheet

    data = ProgramData(frames={}, findings=Findings(list(last.findings)),
                       sources=list(last.sources), as_of=day, columns=last.columns)
    outcome = RunOutcome(data=data, output=target.location, generated_at=generated,
                         unchanged=True)
    outcome.duration_s = time.perf_counter() - started
    row = run_log_sheet(data, day, generated, outcome.duration_s,
                        result="ok, nothing changed").tables[0].rows[0]
    last.deferred.append(row)
    unchanged.save_last_write(config.output.state_dir, last)
    record_success(config.output.state_dir, generated, day, outcome.output,
                   outcome.sources_ok, outcome.sources_failed)
    return outcome


def write_back(config: Config, data: ProgramData, backends: Backends,
               analysis: Analysis | None = None) -> list:
    """Opt-in: write each source's own findings into a managed tab of that source.

    The tab is the coach's own, so it may quote their cells. A source whose flags did not
    change since the last write is not rewritten. Returns findings about the write-back."""
    from sheetsync.errors import WritebackError
    from sheetsync.nightly.state import WritebackDigests, flags_digest
    from sheetsync.report.flags import source_flag_rows, source_flags_sheet

    wanted = [s for s in data.sources if s.state == "ok"]
    if not any(entry.write_back for entry in config.sources) or not wanted:
        return []
    ok = {s.name for s in wanted}
    targets = [s for s in discover(config.sources, backends).sources
               if s.write_back and s.name in ok]
    if not targets:
        return []
    digests = WritebackDigests(config.output.state_dir)
    out = []
    findings = list(data.findings)
    summaries = {e.label for e in config.sources if e.write_back and e.my_summary}
    kinds = {s.name: s.kind for s in data.sources}
    for source in targets:
        rows = source_flag_rows(f for f in findings
                                if f.source == source.name and f.code != "writeback-failed")
        digest = flags_digest(rows)
        if not digests.unchanged(source.location, digest):
            try:
                backends[source.backend].write_flags(source, source_flags_sheet(rows,
                                                                                data.as_of))
                digests.remember(source.location, digest)
            except WritebackError as exc:
                out.append(exc.as_finding(source=source.name, file=source.location))
                continue
        if source.entry in summaries and kinds.get(source.name) == "coach" and analysis:
            out.extend(_write_summary(source, data, analysis, backends, digests))
    digests.save()
    return out


def _write_summary(source: Any, data: ProgramData, analysis: Analysis, backends: Backends,
                   digests: Any) -> list:
    """A coach's own My Summary tab, beside the flags (rewritten when it changed)."""
    from sheetsync.errors import WritebackError
    from sheetsync.nightly.state import flags_digest
    from sheetsync.report.summary import my_summary_sheet

    sheet = my_summary_sheet(source.name, data.frames, analysis, data.as_of)
    digest = flags_digest([[t.title, *t.intro, *map(str, t.rows)] for t in sheet.tables])
    key = f"{source.location}#{sheet.name}"
    if digests.unchanged(key, digest):
        return []
    try:
        backends[source.backend].write_flags(source, sheet)
        digests.remember(key, digest)
    except WritebackError as exc:
        return [exc.as_finding(source=source.name, file=source.location)]
    return []


def record_failure(config: Config, reason: str, now: datetime | None = None) -> None:
    """Record a failed run: a line in the state folder's failures.log (always) and a row in the
    dashboard's Run Log, when the target is a file that can be written."""
    from sheetsync.nightly.state import log_failure
    from sheetsync.report.run_log import run_log_sheet

    now = now or datetime.now(config.tz)
    log_failure(config.output.state_dir, reason, now)
    target = config.output.target
    if target.backend != "excel":
        return  # a Google target is not written again after a failed run: that costs quota
    backend = backends_for(config)[target.backend]
    # if the Run Log cannot be written, the failures.log line above still records the failure
    with contextlib.suppress(TargetWriteError, OSError, ValueError):
        backend.write_tabs(target.location, [run_log_sheet(None, None, now, 0.0, result=reason)],
                           now)


def serve_schedule(config: Config, *, run_now: bool = False, max_runs: int | None = None,
                   every_seconds: float | None = None) -> int:
    """``sheetsync schedule``: the nightly loop around :func:`run`."""
    from sheetsync.nightly.run_lock import RunLock
    from sheetsync.nightly.scheduler import ScheduleSettingsError, serve
    from sheetsync.nightly.state import last_success

    def job(as_of_dt: datetime) -> RunOutcome:
        try:
            return run(config, as_of=None, take_lock=True, keep_unchanged=True)
        except RunFailed as exc:
            raise RuntimeError(exc.message) from None

    try:
        return serve(job, at=config.schedule.at, tz=config.timezone,
                     extra_times=config.schedule.extra_times, weekdays=config.schedule.weekdays,
                     run_now=run_now, max_runs=max_runs, every_seconds=every_seconds,
                     retry_after_minutes=config.schedule.retry_after_minutes,
                     last_success=lambda: last_success(config.output.state_dir),
                     record_failure=lambda reason: record_failure(config, reason),
                     log_file=config.schedule.log_file,
                     lock_factory=lambda: RunLock(config.output.state_dir,
                                                  command="sheetsync schedule"))
    except ScheduleSettingsError as exc:
        raise RunFailed(f"bad schedule settings: {exc}",
                        hint="Check the [schedule] section.") from None
