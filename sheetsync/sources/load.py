"""Source discovery and loading: config entries -> validated workbooks, in parallel, with a cache.

Each configured entry may name one file, a glob or a folder; each spreadsheet found becomes one
source. Every source ends in exactly one state (see :class:`sheetsync.dataset.SourceStatus`):
``ok``, ``stale`` (this read failed; the last good data is used and marked with its date) or
``failed`` (visibly missing). Nothing is dropped silently.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from sheetsync import __version__
from sheetsync.backends.base import RawWorkbook
from sheetsync.backends.excel.reader import EXCEL_SUFFIXES, ReadLimits, read_excel
from sheetsync.config import Config, SourceConfig
from sheetsync.dataset import SourceStatus
from sheetsync.errors import SourceReadError
from sheetsync.findings import Finding, Severity
from sheetsync.schema import WorkbookSchema, load_schema, with_overrides
from sheetsync.sources.sealed import discard, read_sealed, write_sealed
from sheetsync.sources.snapshot import Snapshot
from sheetsync.validate.frames import compact
from sheetsync.validate.layout import match_tabs
from sheetsync.validate.workbook import ValidationContext, WorkbookResult, validate_workbook

POOL_MIN_FILES = 48
CACHE_MAGIC = b"sheetsync-cache-5\n"  # bump when WorkbookResult changes shape


@dataclass(frozen=True)
class Source:
    """One spreadsheet to read."""

    name: str
    kind: str  # team | coach | auto
    location: str  # absolute file path, or a Google spreadsheet id
    backend: str  # "excel" | "google"
    write_back: bool = False
    entry: str = ""  # which config entry it came from


@dataclass
class LoadedSource:
    """The outcome of reading and validating one source."""

    source: Source
    status: SourceStatus
    result: WorkbookResult | None
    findings: list[Finding]
    digest: str = ""  # the content hash of the file read (local files)
    from_snapshot: bool = False  # served from the program snapshot (see sheetsync.sources.snapshot)


def discover(config: Config) -> tuple[list[Source], list[Finding]]:
    """Expand each local ``[[sources]]`` entry into files; Google entries pass through."""
    found: list[Source] = []
    findings: list[Finding] = []
    for entry in config.sources:
        if entry.path is None:
            found.extend(_google_entry(entry))
            continue
        files = _expand(entry.path)
        if not files:
            findings.append(Finding(
                "no-sources", Severity.ERROR,
                f"{entry.label}: no spreadsheet matches {entry.path}.",
                "Check the path in the config (relative paths start at the config's folder).",
                source=entry.name or Path(entry.path).name, file=entry.path))
            if not any(ch in entry.path for ch in "*?[") and not Path(entry.path).is_dir():
                # a single named file that is missing is still a source: visibly failed
                found.append(Source(entry.name or Path(entry.path).stem, entry.kind,
                                    entry.path, "excel", entry.write_back, entry.label))
            continue
        for f in files:
            name = entry.name if (entry.name and len(files) == 1) else Path(f).stem
            found.append(Source(name, entry.kind, f, "excel", entry.write_back, entry.label))
    return _unique_names(found), findings


def _google_entry(entry: SourceConfig) -> list[Source]:
    from sheetsync.config import GOOGLE_ID_RE

    if entry.google:
        m = GOOGLE_ID_RE.search(entry.google)
        key = (m.group(1) or m.group(2)) if m else entry.google
        return [Source(entry.name or key, entry.kind, key, "google", entry.write_back,
                       entry.label)]
    # Drive folders are expanded by the Google backend when it lists the folder.
    return [Source(entry.name or "", entry.kind, f"folder:{entry.folder}", "google-folder",
                   entry.write_back, entry.label)]


def _expand(pattern: str) -> list[str]:
    path = Path(pattern)
    if path.is_dir():
        candidates = [str(p) for p in sorted(path.rglob("*"))]
    elif any(ch in pattern for ch in "*?["):
        candidates = sorted(glob.glob(pattern, recursive=True))
    else:
        candidates = [pattern] if path.exists() else []
    return [c for c in candidates
            if Path(c).suffix.lower() in EXCEL_SUFFIXES and not Path(c).name.startswith(("~$", "."))
            and Path(c).is_file()]


def _unique_names(sources: list[Source]) -> list[Source]:
    seen: dict[str, int] = {}
    out = []
    for s in sources:
        n = seen.get(s.name, 0)
        seen[s.name] = n + 1
        out.append(s if n == 0 else replace(s, name=f"{s.name} ({n + 1})"))
    return out


def infer_kind(raw: RawWorkbook) -> str | None:
    """Tell a team tracker from a coach workbook by the tabs it has."""
    scores = {}
    for kind in ("team", "coach"):
        schema = load_schema(kind)  # type: ignore[arg-type]
        scores[kind] = sum(bool(match_tabs(raw.tabs, t)) for t in schema.tabs)
    if scores["team"] == scores["coach"]:
        return None
    return max(scores, key=scores.get)  # type: ignore[arg-type]


def schemas_for(config: Config) -> dict[str, WorkbookSchema]:
    return {kind: with_overrides(load_schema(kind), config.tab_names, config.column_aliases)
            for kind in ("team", "coach")}


def fingerprint_for(schemas: dict[str, WorkbookSchema], ctx: ValidationContext) -> str:
    """What a cached parse depends on besides the file itself.

    The as-of date is left out: each result carries the window of as-of dates it holds for
    (see :class:`sheetsync.validate.cells.AsOfWindow`), so tomorrow's run reuses today's parse.
    A reference date fixed apart from the as-of date stays in.
    """
    if ctx.reference_date in (None, ctx.as_of):
        ctx = replace(ctx, as_of=date.min, reference_date=None)
    return hashlib.sha1(pickle.dumps((__version__, CACHE_MAGIC, schemas, ctx))).hexdigest()


def reusable(entry: dict | None, fingerprint: str, name: str, as_of: date) -> bool:
    """Whether a cached entry was made with these settings, for a source of this name, and holds
    for this as-of date (the file's own content is checked by the caller)."""
    if not entry or entry.get("fingerprint") != fingerprint:
        return False
    result = entry.get("result")
    if not isinstance(result, WorkbookResult) or result.source != name:
        return False
    first, last = result.as_of_window
    return first <= as_of <= last


def context_for(config: Config, as_of: date) -> ValidationContext:
    return ValidationContext(as_of=as_of, reference_date=as_of,
                             challenge_weeks=config.challenge_weeks, activities=config.activities)


# -- the per-source job (runs in worker processes) -------------------------------------------------

@dataclass(frozen=True)
class _Job:
    source: Source
    schemas: dict[str, WorkbookSchema]
    ctx: ValidationContext
    limits: ReadLimits
    cache_dir: Path | None
    fingerprint: str

    def is_current(self, cached: dict | None, digest: str) -> bool:
        return bool(digest and cached and cached.get("hash") == digest
                    and reusable(cached, self.fingerprint, self.source.name, self.ctx.as_of))


def validate_raw(source: Source, raw: RawWorkbook, schemas: dict[str, WorkbookSchema],
                 ctx: ValidationContext) -> tuple[WorkbookResult | None, list[Finding]]:
    """Validate a raw workbook as its configured (or inferred) kind."""
    kind = source.kind if source.kind != "auto" else infer_kind(raw)
    if kind is None:
        return None, [Finding(
            "unknown-kind", Severity.ERROR,
            f"{Path(source.location).name} does not look like a team tracker or a coach workbook "
            f"(tabs: {', '.join(raw.tabs) or 'none'}).",
            "Set kind = \"team\" or \"coach\" for this source in the config, or start from the "
            "templates (sheetsync templates).", source=source.name, file=source.location)]
    result = validate_workbook(raw, schemas[kind], source=source.name, ctx=ctx)
    return result, result.findings


def _file_hash(path: str) -> str:
    h = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _cache_path(cache_dir: Path, location: str) -> Path:
    return cache_dir / (hashlib.sha1(location.encode()).hexdigest() + ".pkl")


def cache_load(cache_dir: Path | None, location: str) -> dict | None:
    """The cached entry for a source, or None. A corrupt entry is deleted, never trusted."""
    if cache_dir is None:
        return None
    path = _cache_path(cache_dir, location)
    entry = read_sealed(path, CACHE_MAGIC)
    if entry is None:
        return None
    if not isinstance(entry, dict) or entry.get("location") != location:
        discard(path)
        return None
    return entry


def cache_store(cache_dir: Path | None, entry: dict) -> None:
    if cache_dir is not None:
        write_sealed(_cache_path(cache_dir, entry["location"]), CACHE_MAGIC, entry)


def _from_cache(source: Source, result: WorkbookResult, read_at: datetime, digest: str,
                from_snapshot: bool = False) -> LoadedSource:
    status = SourceStatus(source.name, result.kind, source.location, "ok",  # type: ignore
                          rows=result.rows, data_as_of=read_at)
    return LoadedSource(source, status, result, list(result.findings), digest, from_snapshot)


def cached_if_unchanged(job: _Job, snapshot: Snapshot | None = None) -> LoadedSource | None:
    """The cached parse of a file whose content is unchanged, or None.

    Checked in the main process before any worker starts: hashing a file and viewing its rows in
    the snapshot (or unpickling its compact entry) costs far less than sending the job to a
    worker and the result back.
    """
    cached = None
    if snapshot is None:
        cached = cache_load(job.cache_dir, job.source.location)
        if cached is None:
            return None  # never read (or no cache): no need to hash it twice
    try:
        digest = _file_hash(job.source.location)
    except OSError:
        return None  # the worker reports it (or falls back to the cached data as stale)
    if snapshot is not None:
        found = snapshot.result_for(job.source.location, digest, job.source.name,
                                    job.ctx.as_of)
        if found is not None:
            return _from_cache(job.source, *found, digest, from_snapshot=True)
        cached = cache_load(job.cache_dir, job.source.location)
    if not job.is_current(cached, digest):
        return None
    return _from_cache(job.source, cached["result"], cached["read_at"], digest)  # type: ignore


def load_excel_source(job: _Job) -> LoadedSource:
    """Read, validate and cache one local file; fall back to the last good data when it fails."""
    source = job.source
    now = datetime.now(UTC)
    cached = cache_load(job.cache_dir, source.location)
    try:
        digest = _file_hash(source.location) if Path(source.location).is_file() else ""
        if job.is_current(cached, digest):
            return _from_cache(source, cached["result"], cached["read_at"], digest)  # type: ignore
        raw = read_excel(source.location, job.limits)
        result, findings = validate_raw(source, raw, job.schemas, job.ctx)
        del raw  # the grid is not kept: only the validated columns travel and are cached
        if result is None:
            status = SourceStatus(source.name, "unknown", source.location, "failed",
                                  message=findings[0].message)
            return LoadedSource(source, status, None, findings)
        result.records = compact(result.records)
        cache_store(job.cache_dir, {"location": source.location, "hash": digest,
                                    "fingerprint": job.fingerprint, "read_at": now,
                                    "result": result})
        status = SourceStatus(source.name, result.kind, source.location, "ok",  # type: ignore
                              rows=result.rows, data_as_of=now)
        return LoadedSource(source, status, result, findings, digest)
    except (SourceReadError, OSError) as exc:
        message = exc.message if isinstance(exc, SourceReadError) else str(exc)
        hint = exc.hint if isinstance(exc, SourceReadError) else "Check the file."
        code = exc.code if isinstance(exc, SourceReadError) else "unreadable-source"
        return failed_or_stale(source, cached, code, message, hint)


def failed_or_stale(source: Source, cached: dict | None, code: str, message: str,
                    hint: str) -> LoadedSource:
    """A source that could not be read now: use its last good data (stale), or mark it failed."""
    read_fail = Finding(code, Severity.ERROR, message, hint, source=source.name,
                        file=source.location)
    if cached is None:
        status = SourceStatus(source.name, source.kind if source.kind != "auto" else "unknown",
                              source.location, "failed", message=message)  # type: ignore[arg-type]
        return LoadedSource(source, status, None, [read_fail])
    result = cached["result"]
    when = cached["read_at"]
    stale = Finding("stale-source", Severity.WARNING,
                    f"Showing data last read on {when:%Y-%m-%d %H:%M} UTC, because this read "
                    f"failed: {message}", hint, source=source.name, file=source.location)
    status = SourceStatus(source.name, result.kind, source.location, "stale", rows=result.rows,
                          message=message, data_as_of=when)
    return LoadedSource(source, status, result, [read_fail, stale, *result.findings])


def load_sources(config: Config, as_of: date, sources: list[Source], *,
                 use_cache: bool = True,
                 progress: Callable[[LoadedSource], None] | None = None,
                 google_loader: Callable[[list[Source]], list[LoadedSource]] | None = None,
                 snapshot: Snapshot | None = None,
                 ) -> list[LoadedSource]:
    """Read and validate every source; local files in parallel processes when there are many.

    Unchanged files come from ``snapshot`` when it holds them, else from the per-file cache.
    """
    schemas = schemas_for(config)
    ctx = context_for(config, as_of)
    cache_dir = config.output.state_dir / "cache" if use_cache else None
    fingerprint = fingerprint_for(schemas, ctx)
    excel = [s for s in sources if s.backend == "excel"]
    google = [s for s in sources if s.backend != "excel"]
    jobs = [_Job(s, schemas, ctx, config.limits, cache_dir, fingerprint) for s in excel]
    done: list[LoadedSource | None] = [None] * len(jobs)
    for i, job in enumerate(jobs):
        done[i] = cached_if_unchanged(job, snapshot)
        if done[i] is not None and progress:
            progress(done[i])  # type: ignore[arg-type]
    todo = [i for i, item in enumerate(done) if item is None]
    workers = config.workers or os.cpu_count() or 1
    # Starting worker processes costs about half a second; below this many files to parse,
    # one process is faster (a nightly re-run usually parses only the few files that changed).
    if len(todo) >= POOL_MIN_FILES and workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            chunk = max(1, len(todo) // (workers * 8))
            results = pool.map(load_excel_source, [jobs[i] for i in todo], chunksize=chunk)
            for i, item in zip(todo, results, strict=True):
                done[i] = item
                if progress:
                    progress(item)
    else:
        for i in todo:
            done[i] = load_excel_source(jobs[i])
            if progress:
                progress(done[i])  # type: ignore[arg-type]
    loaded: list[LoadedSource] = [item for item in done if item is not None]
    if google:
        if google_loader is None:
            for s in google:
                item = failed_or_stale(s, None, "unreadable-source",
                                       "Google sources need the Google backend.",
                                       "Install sheetsync with Google support.")
                loaded.append(item)
        else:
            for item in google_loader(google):
                loaded.append(item)
                if progress:
                    progress(item)
    return loaded
