"""The TOML config: program, sources, output, thresholds, activities, aliases, limits, schedule.

Every problem is a :class:`ConfigError` whose message names the key and says what is wrong, so a
coordinator can fix the file without reading a traceback. Relative paths are resolved against the
folder that holds the config file, so scheduled runs work from any working directory.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sheetsync.backends.excel.reader import ReadLimits
from sheetsync.errors import ConfigError
from sheetsync.schema import ActivityCatalog, default_activities, parse_activities

GOOGLE_ID_RE = re.compile(r"/spreadsheets/d/([a-zA-Z0-9_-]{20,})|^([a-zA-Z0-9_-]{25,})$")
GOOGLE_FOLDER_RE = re.compile(r"/folders/([a-zA-Z0-9_-]{10,})")


@dataclass(frozen=True)
class SourceConfig:
    """One entry of ``[[sources]]``: a file, glob or folder, or a Google spreadsheet or folder."""

    kind: Literal["team", "coach", "auto"]
    path: str | None = None  # local file, glob or folder (absolute after loading)
    google: str | None = None  # spreadsheet URL or key
    folder: str | None = None  # Google Drive folder URL or id
    name: str | None = None
    write_back: bool = False
    index: int = 0  # position in the config, for messages

    @property
    def label(self) -> str:
        return f"sources[{self.index}]"


@dataclass(frozen=True)
class OutputConfig:
    path: Path | None = None  # local .xlsx
    google: str | None = None  # spreadsheet URL or key
    state_dir: Path = Path(".sheetsync-state")


@dataclass(frozen=True)
class GoogleConfig:
    credentials: Path | None = None
    api_base: str | None = None  # only for tests and the bundled fake API
    quota_per_minute: int = 60
    quota_window_seconds: float = 60.0  # Google's is a minute; shorter only for trials
    max_attempts: int = 6
    max_wait_seconds: float = 120.0
    workers: int = 4


@dataclass(frozen=True)
class ScheduleConfig:
    at: str = "02:00"
    extra_times: tuple[str, ...] = ()
    weekdays: tuple[str, ...] | None = None
    retry_after_minutes: int | None = None
    log_file: Path | None = None


@dataclass(frozen=True)
class Config:
    path: Path
    name: str
    timezone: str
    challenge_weeks: int
    as_of: date | None
    sources: tuple[SourceConfig, ...]
    output: OutputConfig
    thresholds: dict[str, float] = field(default_factory=dict)
    activities: ActivityCatalog = field(default_factory=default_activities)
    tab_names: dict[str, str] = field(default_factory=dict)
    column_aliases: dict[str, list[str]] = field(default_factory=dict)
    google: GoogleConfig = field(default_factory=GoogleConfig)
    limits: ReadLimits = field(default_factory=ReadLimits)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    workers: int = 0  # 0 = one per core

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def uses_google(self) -> bool:
        return bool(self.output.google) or any(s.google or s.folder for s in self.sources)


_SECTIONS = {"program", "sources", "output", "thresholds", "activities", "aliases", "google",
             "limits", "schedule", "run"}


def _check_keys(table: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r} "
                              f"(allowed: {', '.join(sorted(allowed))})")


def _get(table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str,
         default: Any = None, required: bool = False) -> Any:
    if key not in table:
        if required:
            raise ConfigError(f"{where}.{key} is required")
        return default
    value = table[key]
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise ConfigError(f"{where}.{key} must be a number, not {value!r}")
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"{where}.{key} must be {names}, not {type(value).__name__} {value!r}")
    return value


def _resolve(base: Path, text: str) -> str:
    expanded = os.path.expandvars(os.path.expanduser(text))
    joined = Path(expanded) if Path(expanded).is_absolute() else (base / expanded)
    trailing = os.sep if text.endswith(("/", "\\")) else ""
    return os.path.normpath(joined) + trailing


def _source_entry_covers(entry: str, target: Path) -> bool:
    """Whether a ``[[sources]]`` path (a folder, a glob or a file) takes in ``target``."""
    targets = {Path(os.path.normpath(target)), target.resolve()}
    if any(ch in entry for ch in "*?["):
        pattern = Path(entry).parts
        return any(_glob_parts_match(pattern, t.parts) for t in targets)
    folder = Path(entry)
    if not (entry.endswith(("/", "\\")) or folder.is_dir()):
        return False
    roots = {Path(os.path.normpath(folder)), folder.resolve()}
    return any(t.is_relative_to(r) for t in targets for r in roots)


def _glob_parts_match(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """glob.glob(recursive=True) semantics, path segment by segment ("**": any depth)."""
    import fnmatch

    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_glob_parts_match(pattern[1:], parts[k:]) for k in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _glob_parts_match(
        pattern[1:], parts[1:])


def _parse_date(value: Any, where: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{where} must be a date like 2026-11-04, not {value!r}")


def _parse_hhmm(value: str, where: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ConfigError(f"{where} must be a time like \"02:00\" (24-hour HH:MM), not {value!r}")
    return value


def _sources(raw: Any, base: Path) -> tuple[SourceConfig, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError("[[sources]] must list at least one source "
                          "(kind = \"team\" or \"coach\", and path = ... or google = ...)")
    out = []
    for i, entry in enumerate(raw):
        where = f"sources[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a table ([[sources]])")
        _check_keys(entry, {"kind", "path", "google", "folder", "name", "write_back"}, where)
        kind = _get(entry, "kind", str, where, default="auto")
        if kind not in ("team", "coach", "auto"):
            raise ConfigError(f"{where}.kind must be \"team\", \"coach\" or \"auto\", not {kind!r}")
        path = _get(entry, "path", str, where)
        google = _get(entry, "google", str, where)
        folder = _get(entry, "folder", str, where)
        if sum(x is not None for x in (path, google, folder)) != 1:
            raise ConfigError(f"{where} needs exactly one of path, google or folder")
        if google is not None and not GOOGLE_ID_RE.search(google):
            raise ConfigError(f"{where}.google is not a spreadsheet URL or key: {google!r}")
        if folder is not None and not (GOOGLE_FOLDER_RE.search(folder)
                                       or re.fullmatch(r"[a-zA-Z0-9_-]{10,}", folder)):
            raise ConfigError(f"{where}.folder is not a Drive folder URL or id: {folder!r}")
        out.append(SourceConfig(
            kind=kind, path=_resolve(base, path) if path else None, google=google, folder=folder,
            name=_get(entry, "name", str, where),
            write_back=_get(entry, "write_back", bool, where, default=False), index=i))
    return tuple(out)


def _thresholds(raw: Any) -> dict[str, float]:
    from sheetsync.analytics.thresholds import Thresholds

    if not isinstance(raw, dict):
        raise ConfigError("[thresholds] must be a table")
    try:
        Thresholds.from_mapping(raw)
    except ValueError as exc:
        raise ConfigError(f"[thresholds]: {exc}") from None
    return dict(raw)


def _activities(raw: dict[str, Any]) -> ActivityCatalog:
    _check_keys(raw, {"groups", "activity", "replace"}, "[activities]")
    extra = parse_activities({"groups": raw.get("groups", ()), "activity": raw.get("activity", [])})
    base = default_activities()
    for i, act in enumerate(raw.get("activity", [])):
        if not isinstance(act, dict) or "name" not in act or "group" not in act:
            raise ConfigError(f"[activities].activity[{i}] needs a name and a group")
    if raw.get("replace", False):
        catalog = extra
    else:
        names = {a.name for a in extra.activities}
        catalog = ActivityCatalog(
            groups=extra.groups or base.groups,
            activities=tuple(a for a in base.activities if a.name not in names) + extra.activities)
    for act in catalog.activities:
        if act.group not in catalog.groups:
            raise ConfigError(f"[activities]: activity {act.name!r} has group {act.group!r}, "
                              f"which is not one of {list(catalog.groups)}")
    return catalog


def load_config(path: str | Path) -> Config:
    """Read and check a config file. Raises :class:`ConfigError` with a precise message."""
    path = Path(path).resolve()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"config path is a folder, not a file: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"config file cannot be read: {exc}") from None
    return parse_config(data, path)


def parse_config(data: dict[str, Any], path: Path) -> Config:
    base = path.parent
    _check_keys(data, _SECTIONS, path.name)
    program = data.get("program", {})
    if not isinstance(program, dict):
        raise ConfigError("[program] must be a table")
    _check_keys(program, {"name", "timezone", "challenge_weeks", "as_of"}, "[program]")
    tzname = _get(program, "timezone", str, "[program]", default="UTC")
    try:
        ZoneInfo(tzname)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"[program].timezone {tzname!r} is not a time zone name "
                          "(for example America/New_York)") from None
    weeks = _get(program, "challenge_weeks", int, "[program]", default=10)
    if not 1 <= weeks <= 52:
        raise ConfigError(f"[program].challenge_weeks must be between 1 and 52, not {weeks}")

    output = data.get("output", {})
    _check_keys(output, {"path", "google", "state_dir"}, "[output]")
    out_path = _get(output, "path", str, "[output]")
    out_google = _get(output, "google", str, "[output]")
    if (out_path is None) == (out_google is None):
        raise ConfigError("[output] needs exactly one of path (an .xlsx file) or google "
                          "(a spreadsheet URL or key)")
    if out_path is not None and not out_path.lower().endswith(".xlsx"):
        raise ConfigError(f"[output].path must end in .xlsx, not {out_path!r}")
    if out_google is not None and not GOOGLE_ID_RE.search(out_google):
        raise ConfigError(f"[output].google is not a spreadsheet URL or key: {out_google!r}")
    resolved_out = Path(_resolve(base, out_path)) if out_path else None
    state_default = (resolved_out.parent if resolved_out else base) / ".sheetsync-state"
    state = _get(output, "state_dir", str, "[output]")
    state_dir = Path(_resolve(base, state)) if state else state_default

    sources = _sources(data.get("sources"), base)
    if resolved_out is not None:
        for s in sources:
            if s.path and Path(s.path).resolve() == resolved_out.resolve():
                raise ConfigError(f"[output].path is the same file as {s.label}.path: sheetsync "
                                  "never writes its dashboard into a source")
            if s.path and _source_entry_covers(s.path, resolved_out):
                # Either the dashboard would overwrite a workbook found there, or the next run
                # would read the dashboard back as a source.
                raise ConfigError(f"[output].path {resolved_out} is among the files of "
                                  f"{s.label}.path ({s.path}): sheetsync never writes its "
                                  "dashboard where it reads sources; choose another folder")

    aliases = data.get("aliases", {})
    _check_keys(aliases, {"tabs", "columns"}, "[aliases]")
    tab_names = _get(aliases, "tabs", dict, "[aliases]", default={})
    columns = _get(aliases, "columns", dict, "[aliases]", default={})
    for key, value in columns.items():
        if isinstance(value, str):
            columns[key] = [value]
        elif not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ConfigError(f"[aliases.columns].{key} must be a list of header texts")

    google = data.get("google", {})
    _check_keys(google, {"credentials", "api_base", "quota_per_minute", "quota_window_seconds",
                         "max_attempts", "max_wait_seconds", "workers"}, "[google]")
    cred = _get(google, "credentials", str, "[google]")
    google_cfg = GoogleConfig(
        credentials=Path(_resolve(base, cred)) if cred else None,
        api_base=_get(google, "api_base", str, "[google]"),
        quota_per_minute=_get(google, "quota_per_minute", int, "[google]", default=60),
        quota_window_seconds=float(_get(google, "quota_window_seconds", (int, float), "[google]",
                                        default=60.0)),
        max_attempts=_get(google, "max_attempts", int, "[google]", default=6),
        max_wait_seconds=float(_get(google, "max_wait_seconds", (int, float), "[google]",
                                    default=120.0)),
        workers=_get(google, "workers", int, "[google]", default=4),
    )
    limits = data.get("limits", {})
    _check_keys(limits, {"max_file_mb", "max_uncompressed_mb", "max_cells"}, "[limits]")
    limits_cfg = ReadLimits(
        max_file_mb=float(_get(limits, "max_file_mb", (int, float), "[limits]", default=100)),
        max_uncompressed_mb=float(_get(limits, "max_uncompressed_mb", (int, float), "[limits]",
                                       default=500)),
        max_cells=_get(limits, "max_cells", int, "[limits]", default=5_000_000))

    sched = data.get("schedule", {})
    _check_keys(sched, {"at", "extra_times", "weekdays", "retry_after_minutes", "log_file"},
                "[schedule]")
    weekdays = _get(sched, "weekdays", list, "[schedule]")
    valid_days = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
    if weekdays is not None and not all(str(d).lower() in valid_days for d in weekdays):
        raise ConfigError(f"[schedule].weekdays must be day names like \"monday\", not {weekdays}")
    log_file = _get(sched, "log_file", str, "[schedule]")
    schedule_cfg = ScheduleConfig(
        at=_parse_hhmm(_get(sched, "at", str, "[schedule]", default="02:00"), "[schedule].at"),
        extra_times=tuple(_parse_hhmm(t, "[schedule].extra_times")
                          for t in _get(sched, "extra_times", list, "[schedule]", default=[])),
        weekdays=tuple(d.lower() for d in weekdays) if weekdays else None,
        retry_after_minutes=_get(sched, "retry_after_minutes", int, "[schedule]"),
        log_file=Path(_resolve(base, log_file)) if log_file else None)

    run = data.get("run", {})
    _check_keys(run, {"workers"}, "[run]")
    return Config(
        path=path,
        name=_get(program, "name", str, "[program]", default="Breakthrough program"),
        timezone=tzname, challenge_weeks=weeks,
        as_of=_parse_date(program.get("as_of"), "[program].as_of"),
        sources=sources,
        output=OutputConfig(path=resolved_out, google=out_google, state_dir=state_dir),
        thresholds=_thresholds(data.get("thresholds", {})),
        activities=(_activities(data["activities"]) if "activities" in data
                    else default_activities()),
        tab_names={str(k): str(v) for k, v in tab_names.items()},
        column_aliases=columns, google=google_cfg, limits=limits_cfg, schedule=schedule_cfg,
        workers=_get(run, "workers", int, "[run]", default=0),
    )
