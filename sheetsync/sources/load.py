"""Loading: ONE loop for every backend, from discovered sources to validated workbooks.

For each backend's sources, in this order:

1. **cache**: a source whose content version is unchanged since its last good read (and whose
   settings fingerprint, name and as-of window still hold) is served from the program snapshot
   or the parse cache (:mod:`sheetsync.sources.cache`) without being read;
2. **read**: every other source is read through its backend, several at a time in the pool
   the backend chooses (processes for files, threads for an API);
3. **validate**: the raw workbook is validated against its kind's schema;
4. each source ends in exactly one state (see :class:`sheetsync.dataset.SourceStatus`): ``ok``,
   ``stale`` (this read failed; the last good data is used and marked with its date) or
   ``failed`` (visibly missing). Nothing is dropped silently.

Steps 2 and 3 run together in :func:`load_one`, in the backend's worker, so only the validated
columns travel back, never the raw grid. The workers touch no state file: the main process
keeps each good read for the run's one cache write (see :func:`sheetsync.sources.cache.keep`),
and falls back to a source's last good read when its read failed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path

from sheetsync import __version__
from sheetsync.backends.base import Backend, RawWorkbook, Source
from sheetsync.collector import paused
from sheetsync.dataset import SourceStatus
from sheetsync.errors import SourceReadError, redact
from sheetsync.findings import Finding, Severity
from sheetsync.schema import WorkbookSchema
from sheetsync.sources.cache import CACHE_MAGIC, CacheEntry, ParseCache, Snapshot, cache_key
from sheetsync.sources.discover import Discovery
from sheetsync.validation.frames import compact
from sheetsync.validation.layout import infer_kind
from sheetsync.validation.workbook import ValidationContext, WorkbookResult, validate_workbook


@dataclass
class LoadedSource:
    """The outcome of reading and validating one source."""

    source: Source
    status: SourceStatus
    result: WorkbookResult | None
    findings: list[Finding]
    version: str = ""  # the content version read (see Backend.versions)
    from_snapshot: bool = False  # served from the program snapshot
    read_now: bool = False  # read (not served from a cache) in this run

    @property
    def storable(self) -> bool:
        """A good read (now, unchanged since, or the last good one of a stale source) with its
        content version known: what the state folder keeps."""
        return (self.status.state in ("ok", "stale") and self.result is not None
                and bool(self.version) and self.status.data_as_of is not None)


@dataclass(frozen=True)
class ReadContext:
    """What every read of one run shares: the schemas, the validation context, the settings
    fingerprint and the parse cache (None: read everything afresh, cache nothing)."""

    schemas: dict[str, WorkbookSchema]
    validation: ValidationContext
    cache: ParseCache | None = None

    @property
    def as_of(self) -> date:
        return self.validation.as_of

    @cached_property
    def fingerprint(self) -> str:
        """What a cached parse depends on besides the workbook itself.

        The as-of date is left out: each result carries the window of as-of dates it holds for
        (see :class:`sheetsync.validation.cells.AsOfWindow`), so tomorrow's run reuses today's
        parse. A reference date fixed apart from the as-of date stays in.
        """
        ctx = self.validation
        if ctx.reference_date in (None, ctx.as_of):
            ctx = replace(ctx, as_of=date.min, reference_date=None)
        return hashlib.sha1(pickle.dumps((__version__, CACHE_MAGIC, self.schemas, ctx))
                            ).hexdigest()


def validate_raw(source: Source, raw: RawWorkbook, schemas: dict[str, WorkbookSchema],
                 ctx: ValidationContext) -> tuple[WorkbookResult | None, list[Finding]]:
    """Validate a raw workbook as its configured (or inferred) kind."""
    kind = source.kind if source.kind != "auto" else infer_kind(raw)
    if kind is None:
        return None, [Finding(
            "unknown-kind", Severity.ERROR,
            f"{Path(source.location).name} does not look like a team tracker, a coach workbook "
            f"or a shared coaching log (tabs: {', '.join(raw.tabs) or 'none'}).",
            "Set kind = \"team\", \"coach\" or \"shared_log\" for this source in the config, "
            "or start from the templates (sheetsync templates).", source=source.name,
            file=source.location)]
    result = validate_workbook(raw, schemas[kind], source=source.name, ctx=ctx)
    return result, result.findings


def failed_or_stale(source: Source, cached: CacheEntry | None, code: str, message: str,
                    hint: str) -> LoadedSource:
    """A source that could not be read now: use its last good data (stale), or mark it failed."""
    read_fail = Finding(code, Severity.ERROR, message, hint, source=source.name,
                        file=source.location)
    if cached is None:
        status = SourceStatus(source.name, source.kind if source.kind != "auto" else "unknown",
                              source.location, "failed", message=message)  # type: ignore[arg-type]
        return LoadedSource(source, status, unread(source), [read_fail])
    result = cached.result
    when = cached.read_at
    stale = Finding("stale-source", Severity.WARNING,
                    f"Showing data last read on {when:%Y-%m-%d %H:%M} UTC, because this read "
                    f"failed: {message}", hint, source=source.name, file=source.location)
    status = SourceStatus(source.name, result.kind, source.location, "stale", rows=result.rows,
                          message=message, data_as_of=when)
    return LoadedSource(source, status, result, [read_fail, stale, *result.findings],
                        cached.version)


def unread(source: Source) -> WorkbookResult | None:
    """A source of a known kind that could not be read stays on the Dashboard: its team or
    coach gets a row with unknown figures and the reason, never zeros. (A source whose kind
    is unknown is shown in the Sources table only: it may be either.)"""
    reason = "the workbook could not be read"
    if source.kind == "team":
        records = {"goals": [{"source": source.name, "team": source.name,
                              "unknown_reason": reason}]}
    elif source.kind in ("coach", "shared_log"):
        records = {"coaches": [{"source": source.name, "coach": source.name,
                                "time_unknown": reason}]}
    else:
        return None
    return WorkbookResult(source=source.name, kind=source.kind, records=records)


def _served(source: Source, result: WorkbookResult, read_at: datetime, version: str,
            from_snapshot: bool) -> LoadedSource:
    status = SourceStatus(source.name, result.kind, source.location, "ok",  # type: ignore
                          rows=result.rows, data_as_of=read_at)
    return LoadedSource(source, status, result, list(result.findings), version, from_snapshot)


def _titled(source: Source, title: str | None) -> Source:
    """A source known only by its location (a spreadsheet key) takes its workbook's title."""
    return replace(source, name=title) if source.name == source.location and title else source


@dataclass(frozen=True)
class _Job:
    source: Source
    backend: Backend
    context: ReadContext  # without the cache: workers touch no state file


@dataclass(frozen=True)
class _ReadFailed:
    """A read that failed, sent back for the main process to resolve (stale or failed)."""

    source: Source
    code: str
    message: str
    hint: str


def load_one(job: _Job) -> LoadedSource | _ReadFailed:
    """Read and validate one source (in the backend's worker), the cyclic collector paused
    meanwhile (see :mod:`sheetsync.collector`)."""
    with paused:
        return _load_one(job)


def _load_one(job: _Job) -> LoadedSource | _ReadFailed:
    source, ctx = job.source, job.context
    now = datetime.now(UTC)
    try:
        raw = job.backend.read(source)
    except SourceReadError as exc:
        return _ReadFailed(source, exc.code, redact(exc.message), exc.hint)
    source = _titled(source, raw.title)
    version = raw.version or source.version or now.isoformat()
    result, findings = validate_raw(source, raw, ctx.schemas, ctx.validation)
    del raw  # the grid is not kept: only the validated columns travel and are cached
    if result is None:
        # The finding lists the workbook's tabs for the coordinator; the status, shown on the
        # leaders' Dashboard, does not quote the workbook.
        status = SourceStatus(source.name, "unknown", source.location, "failed",
                              message="not recognised as a team tracker or a coach workbook")
        return LoadedSource(source, status, None, findings)
    result.records = compact(result.records)
    status = SourceStatus(source.name, result.kind, source.location, "ok",  # type: ignore
                          rows=result.rows, data_as_of=now)
    return LoadedSource(source, status, result, findings, version, read_now=True)


def last_good(source: Source, ctx: ReadContext, snapshot: Snapshot | None) -> CacheEntry | None:
    """The last good read of ``source``: its newest parse-cache entry, else its snapshot entry."""
    entry = ctx.cache.load(source) if ctx.cache is not None else None
    if entry is None and snapshot is not None:
        entry = snapshot.entry(cache_key(source))
    return entry


def _settle(item: LoadedSource | _ReadFailed, ctx: ReadContext,
            snapshot: Snapshot | None) -> LoadedSource:
    """In the main process: a failed read becomes stale or failed; a good one is kept for the
    run's cache write."""
    if isinstance(item, _ReadFailed):
        cached = last_good(item.source, ctx, snapshot)
        return failed_or_stale(_titled(item.source, cached.result.source if cached else None),
                               cached, item.code, item.message, item.hint)
    if ctx.cache is not None and item.read_now and item.result is not None:
        ctx.cache.store(CacheEntry(cache_key(item.source), item.version, ctx.fingerprint,
                                   item.status.data_as_of or datetime.now(UTC), item.result))
    return item


def _unchanged(sources: Sequence[Source], backend: Backend, ctx: ReadContext,
               snapshot: Snapshot | None) -> dict[int, LoadedSource]:
    """The sources whose content did not change since their last good read, served without a
    read: from the snapshot when it holds them, else from their parse-cache entry."""
    if ctx.cache is None:
        return {}
    fingerprint = ctx.fingerprint
    candidates: list[int] = []
    entries: dict[int, CacheEntry | None] = {}
    for i, s in enumerate(sources):
        if snapshot is not None and snapshot.holds(s):
            candidates.append(i)  # its cache entry is loaded only if the snapshot cannot serve it
            continue
        entry = ctx.cache.load(s)
        if entry is not None and entry.holds(fingerprint, _titled(s, entry.result.source).name,
                                             ctx.as_of):
            entries[i] = entry
            candidates.append(i)
    if not candidates:
        return {}
    unknown = [sources[i] for i in candidates if sources[i].version is None]
    versions = backend.versions(unknown) if unknown else {}
    served: dict[int, LoadedSource] = {}
    for i in candidates:
        s = sources[i]
        version = s.version or versions.get(s.location)
        if not version:
            continue
        if snapshot is not None and i not in entries:
            held = snapshot.entries[cache_key(s)]
            named = _titled(s, held.name)
            found = snapshot.result_for(named, version, ctx.as_of, backend.unchanged)
            if found is not None:
                result, read_at, kept = found
                served[i] = _served(named, result, read_at, kept, from_snapshot=True)
                continue
            entry = ctx.cache.load(s)
            if entry is None or not entry.holds(fingerprint, _titled(s, entry.result.source).name,
                                                ctx.as_of):
                continue
            entries[i] = entry
        entry = entries[i]
        if entry is not None and backend.unchanged(entry.version, version):
            served[i] = _served(_titled(s, entry.result.source), entry.result, entry.read_at,
                                entry.version, from_snapshot=False)
    return served


def load_sources(discovery: Discovery, backends: Callable[[str], Backend], ctx: ReadContext, *,
                 snapshot: Snapshot | None = None,
                 progress: Callable[[LoadedSource], None] | None = None,
                 ) -> list[LoadedSource]:
    """Load every discovered source (see the module docstring), in discovery order; the
    sources that could not even be listed come first, as failed."""
    loaded: list[LoadedSource] = [
        failed_or_stale(source, None, exc.code, redact(exc.message), exc.hint)
        for source, exc in discovery.failures]
    for item in loaded:
        if progress:
            progress(item)
    order = {s.backend: None for s in discovery.sources}
    done: dict[int, LoadedSource] = {}
    for name in order:
        backend = backends(name)
        indices = [i for i, s in enumerate(discovery.sources) if s.backend == name]
        mine = [discovery.sources[i] for i in indices]
        served = _unchanged(mine, backend, ctx, snapshot)
        for k, item in served.items():
            done[indices[k]] = item
            if progress:
                progress(item)
        todo = [k for k in range(len(mine)) if k not in served]
        worker_ctx = replace(ctx, cache=None)
        jobs = [_Job(mine[k], backend, worker_ctx) for k in todo]
        pool = backend.pool(len(jobs)) if jobs else None

        def collect(results: Iterable[LoadedSource | _ReadFailed], todo: list[int] = todo,
                    indices: list[int] = indices) -> None:
            for k, result in zip(todo, results, strict=True):
                item = _settle(result, ctx, snapshot)
                done[indices[k]] = item
                if progress:
                    progress(item)

        if pool is None:
            collect(map(load_one, jobs))
        else:
            # the workers' answers, taken in on a thread of this process: the collector waits
            with pool, paused:
                chunk = max(1, len(jobs) // ((os.cpu_count() or 1) * 8))
                collect(pool.map(load_one, jobs, chunksize=chunk))
    return loaded + [done[i] for i in range(len(discovery.sources))]
