"""The TOML config: program, sources, output, thresholds, activities, aliases, schedule, run,
and each backend's own section (``[google]``, ``[limits]``).

Every problem is a :class:`~sheetsync.errors.ConfigError` whose message names the key and says
what is wrong, so a coordinator can fix the file without reading a traceback. Relative paths are
resolved against the folder that holds the config file, so scheduled runs work from any working
directory.

A section with plain settings is declared once, as a frozen dataclass whose fields carry their
config key, type and range (:func:`settings_from_table` reads any such dataclass). Backends
declare their own sections this way, in their ``settings`` modules, and the registry in
:mod:`sheetsync.backends` names them, so this module never holds a second copy of a backend's
defaults.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sheetsync.backends import settings_class
from sheetsync.backends.base import SourceEntry, Target
from sheetsync.errors import ConfigError
from sheetsync.schema import ActivityCatalog, default_activities, parse_activities

if TYPE_CHECKING:
    from sheetsync.backends.excel.settings import ReadLimits
    from sheetsync.backends.google.settings import GoogleSettings

GOOGLE_ID_RE = re.compile(r"/spreadsheets/d/([a-zA-Z0-9_-]{20,})|^([a-zA-Z0-9_-]{25,})$")
GOOGLE_FOLDER_RE = re.compile(r"/folders/([a-zA-Z0-9_-]{10,})")


@dataclass(frozen=True)
class OutputConfig:
    path: Path | None = None  # local .xlsx
    google: str | None = None  # spreadsheet URL or key
    state_dir: Path = Path(".sheetsync-state")

    @property
    def target(self) -> Target:
        """Where the dashboard goes, as a backend and a location."""
        if self.path is not None:
            return Target("excel", str(self.path))
        return Target("google", _google_key(self.google or ""))


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
    sources: tuple[SourceEntry, ...]
    output: OutputConfig
    google: GoogleSettings
    limits: ReadLimits
    thresholds: dict[str, float] = field(default_factory=dict)
    activities: ActivityCatalog = field(default_factory=default_activities)
    tab_names: dict[str, str] = field(default_factory=dict)
    column_aliases: dict[str, list[str]] = field(default_factory=dict)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    workers: int = 0  # 0 = one per core

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


_CORE_SECTIONS = {"program", "sources", "output", "thresholds", "activities", "aliases",
                  "schedule", "run"}
_BACKEND_SECTIONS = ("google", "limits")


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


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table")
    return value


def settings_from_table(cls: type, table: dict[str, Any], where: str, base: Path) -> Any:
    """Build the settings dataclass ``cls`` from a config table.

    Each field is read from the key its metadata names (``"key"``; the field name when absent;
    ``None`` keeps it out of the config), checked against its annotated type (``int``,
    ``float``, ``str``, ``bool``, ``Path``, or ``X | None``) and its ``min``/``max``, and a
    ``Path`` is resolved against the config's folder. Keys the dataclass does not declare are
    errors that name them.
    """
    hints = typing.get_type_hints(cls)
    keyed = {(f.metadata.get("key", f.name)): f for f in fields(cls)
             if f.metadata.get("key", f.name) is not None}
    _check_keys(table, set(keyed), where)
    values: dict[str, Any] = {}
    for key, f in keyed.items():
        if key in table:
            values[f.name] = _setting(table[key], hints[f.name], f.metadata, f"{where}.{key}",
                                      base)
    return cls(**values)


def _setting(value: Any, hint: Any, meta: typing.Mapping[str, Any], where: str,
             base: Path) -> Any:
    kinds = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    kinds = tuple(k for k in kinds if k is not type(None))
    kind = kinds[0]
    if kind is Path:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a path (text), not {type(value).__name__} "
                              f"{value!r}")
        return Path(_resolve(base, value))
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where} must be a number, not {value!r}")
        if kind is int and not (isinstance(value, int) or float(value).is_integer()):
            raise ConfigError(f"{where} must be a whole number, not {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{where} must be a finite number, not {value!r}")
        low, high = meta.get("min"), meta.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            span = (f"between {low} and {high}" if low is not None and high is not None
                    else f"at least {low}" if low is not None else f"at most {high}")
            raise ConfigError(f"{where} must be {span}, not {value!r}")
        return kind(value)
    if not isinstance(value, kind):
        raise ConfigError(f"{where} must be {kind.__name__}, not {type(value).__name__} "
                          f"{value!r}")
    return value


def _resolve(base: Path, text: str) -> str:
    expanded = os.path.expandvars(os.path.expanduser(text))
    joined = Path(expanded) if Path(expanded).is_absolute() else (base / expanded)
    trailing = os.sep if text.endswith(("/", "\\")) else ""
    return os.path.normpath(joined) + trailing


def _google_key(text: str) -> str:
    m = GOOGLE_ID_RE.search(text)
    return (m.group(1) or m.group(2)) if m else text


def source_entry_covers(entry: str, target: Path) -> bool:
    """Whether a local ``[[sources]]`` path (a folder, a glob or a file) takes in ``target``."""
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


def _sources(raw: Any, base: Path) -> tuple[SourceEntry, ...]:
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
        if kind not in ("team", "coach", "shared_log", "auto"):
            raise ConfigError(f"{where}.kind must be \"team\", \"coach\", \"shared_log\" or "
                              f"\"auto\", not {kind!r}")
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
        if path is not None:
            backend, location = "excel", _resolve(base, path)
        elif google is not None:
            backend, location = "google", _google_key(google)
        else:
            backend, location = "google", f"folder:{folder}"
        out.append(SourceEntry(
            kind=kind, backend=backend, location=location, name=_get(entry, "name", str, where),
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
            activities=tuple(a for a in base.activities if a.name not in names) + extra.activities,
            filler=base.filler)
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


def _output(output: dict[str, Any], base: Path) -> OutputConfig:
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
    return OutputConfig(path=resolved_out, google=out_google, state_dir=state_dir)


def check_target(target: Target, sources: tuple[SourceEntry, ...], where: str) -> None:
    """Refuse a dashboard target that is a source, or among a source entry's files.

    Either the dashboard would overwrite a workbook someone typed into, or the next run would
    read the dashboard back as a source. Applied to the resolved target, whatever set it."""
    if target.backend != "excel":
        for s in sources:
            if s.backend == target.backend and s.location == target.location:
                raise ConfigError(f"{where} is the same spreadsheet as {s.label}: sheetsync "
                                  "never writes its dashboard into a source")
        return
    resolved = Path(target.location).resolve()
    for s in sources:
        if s.backend != "excel":
            continue
        if Path(s.location).resolve() == resolved:
            raise ConfigError(f"{where} is the same file as {s.label}.path: sheetsync "
                              "never writes its dashboard into a source")
        if source_entry_covers(s.location, resolved):
            raise ConfigError(f"{where} {resolved} is among the files of {s.label}.path "
                              f"({s.location}): sheetsync never writes its dashboard where it "
                              "reads sources; choose another folder")


def _schedule(sched: dict[str, Any], base: Path) -> ScheduleConfig:
    _check_keys(sched, {"at", "extra_times", "weekdays", "retry_after_minutes", "log_file"},
                "[schedule]")
    weekdays = _get(sched, "weekdays", list, "[schedule]")
    if weekdays is not None:
        from sheetsync.nightly.scheduler import weekday_names  # one reader of day names

        try:
            weekdays = weekday_names(weekdays)
        except ValueError as exc:
            raise ConfigError(f"[schedule].weekdays: {exc}") from None
        if not weekdays:
            raise ConfigError("[schedule].weekdays lists no day: leave it out to run every day")
    log_file = _get(sched, "log_file", str, "[schedule]")
    return ScheduleConfig(
        at=_parse_hhmm(_get(sched, "at", str, "[schedule]", default="02:00"), "[schedule].at"),
        extra_times=tuple(_parse_hhmm(t, "[schedule].extra_times")
                          for t in _get(sched, "extra_times", list, "[schedule]", default=[])),
        weekdays=weekdays or None,
        retry_after_minutes=_get(sched, "retry_after_minutes", int, "[schedule]"),
        log_file=Path(_resolve(base, log_file)) if log_file else None)


def parse_config(data: dict[str, Any], path: Path) -> Config:
    base = path.parent
    _check_keys(data, _CORE_SECTIONS | set(_BACKEND_SECTIONS), path.name)
    program = _table(data, "program", "[program]")
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

    output = _output(_table(data, "output", "[output]"), base)
    sources = _sources(data.get("sources"), base)
    check_target(output.target, sources, "[output].path" if output.path else "[output].google")

    aliases = _table(data, "aliases", "[aliases]")
    _check_keys(aliases, {"tabs", "columns"}, "[aliases]")
    tab_names = _get(aliases, "tabs", dict, "[aliases]", default={})
    columns = _get(aliases, "columns", dict, "[aliases]", default={})
    for key, value in columns.items():
        if isinstance(value, str):
            columns[key] = [value]
        elif not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ConfigError(f"[aliases.columns].{key} must be a list of header texts")

    backend_settings = {
        section: settings_from_table(settings_class(section),
                                     _table(data, section, f"[{section}]"), f"[{section}]", base)
        for section in _BACKEND_SECTIONS}

    run = _table(data, "run", "[run]")
    _check_keys(run, {"workers"}, "[run]")
    return Config(
        path=path,
        name=_get(program, "name", str, "[program]", default="Breakthrough program"),
        timezone=tzname, challenge_weeks=weeks,
        as_of=_parse_date(program.get("as_of"), "[program].as_of"),
        sources=sources, output=output,
        google=backend_settings["google"], limits=backend_settings["limits"],
        thresholds=_thresholds(data.get("thresholds", {})),
        activities=(_activities(data["activities"]) if "activities" in data
                    else default_activities()),
        tab_names={str(k): str(v) for k, v in tab_names.items()},
        column_aliases=columns,
        schedule=_schedule(_table(data, "schedule", "[schedule]"), base),
        workers=_get(run, "workers", int, "[run]", default=0),
    )


__all__ = ["Config", "ConfigError", "OutputConfig", "ScheduleConfig", "check_target",
           "load_config", "parse_config", "settings_from_table", "source_entry_covers"]
